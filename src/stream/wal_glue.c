/*
 * The stream side of the receiver WAL: the writer thread between the I/O
 * thread, which queues batches, and the job thread, which runs them only
 * once their blocks are synced in the WAL; the replay of a recorded
 * batch's blocks at recovery; pruning. The format is src/checkpoint/wal.c.
 */
#include "stream/wal_glue.h"

#include "checkpoint/wal.h"

#include <cJSON.h>
#include <stdio.h>
#include <string.h>

typedef struct sl__walg {
    sl__wal *w;
    pthread_t thread;
    bool started;
    /* under ctx->lock */
    bool quit, busy;
    int64_t prune_to, pruned_to;
    /* job thread: next block sequence per receiver after the batches
     * recorded so far (sl__wal_glue_offsets_json) */
    uint64_t *next_seq;
} sl__walg;

static const char *receiver_name(const sl_context *ctx, size_t i)
{
    const char *n = ctx->receivers[i]->stream->name;
    return n ? n : "";
}

sl_status sl__wal_glue_open(sl_context *ctx)
{
    const char *path = sl_conf_get(ctx->conf, "checkpoint.path");
    char dir[4096], err[sizeof ctx->err.text];
    bool on = true;
    int64_t level;
    sl__walg *g;
    sl_status st;

    if (ctx->walg || ctx->nreceivers == 0 || !path || !*path ||
        sl_conf_get_bool(ctx->conf, "receiver.wal", &on) != SL_OK || !on)
        return SL_OK;
    if (!(g = sl_malloc(sizeof *g))) {
        sl__ctx_set_error(ctx, SL_ENOMEM, "out of memory");
        return SL_ENOMEM;
    }
    memset(g, 0, sizeof *g);
    if (!(g->next_seq = sl_malloc(ctx->nreceivers * sizeof *g->next_seq))) {
        sl_free(g);
        sl__ctx_set_error(ctx, SL_ENOMEM, "out of memory");
        return SL_ENOMEM;
    }
    for (size_t i = 0; i < ctx->nreceivers; i++)
        g->next_seq[i] = ctx->receivers[i]->next_seq;
    g->prune_to = g->pruned_to = INT64_MIN;
    snprintf(dir, sizeof dir, "%s/wal", path);
    if ((st = sl__wal_open(dir, &g->w, err, sizeof err)) != SL_OK) {
        sl__ctx_set_error(ctx, st, "receiver WAL: %s", err);
        sl_free(g->next_seq);
        sl_free(g);
        return st;
    }
    if (sl_conf_get_int(ctx->conf, "receiver.wal_zstd_level", &level) == SL_OK)
        sl__wal_set_level(g->w, (int)level);
    if (sl__wal_torn(g->w) > 0)
        sl__log(
            &ctx->log, SL_LOG_WARN, "%zu %s; the last: %s", sl__wal_torn(g->w),
            sl__wal_torn(g->w) == 1 ? "torn WAL record" : "torn WAL records",
            sl__wal_note(g->w));
    ctx->walg = g;
    return SL_OK;
}

bool sl__wal_glue_enabled(const sl_context *ctx)
{
    return ctx->walg != NULL;
}

bool sl__wal_glue_ready(const sl_context *ctx, const batch *b)
{
    return !ctx->walg || b->logged;
}

/* ------------------------------------------------------------ writer */

/* Append every block of b (not yet logged: only this thread reads it). */
static sl_status log_batch(sl_context *ctx, sl__wal *w, const batch *b)
{
    sl_status st = SL_OK;
    for (size_t i = 0; i < ctx->nreceivers && st == SL_OK; i++)
        for (const block *k = b->blocks[i]; k && st == SL_OK; k = k->next)
            st = sl__wal_append(w, b->id, (uint32_t)i, receiver_name(ctx, i),
                                k->seq, k->records, k->data, k->len);
    return st;
}

/* The group: the queued batches from the first not logged to the tail,
 * or NULL. Under lock. The job thread runs none of them before they are
 * logged and the I/O thread only appends after last. */
static batch *group_of(sl_context *ctx, batch **last)
{
    batch *b = ctx->queue, *first = NULL;
    for (; b; b = b->next) {
        if (!first && !b->logged)
            first = b;
        if (first)
            *last = b;
    }
    return first;
}

/* Write and sync one group (lock released), then mark it logged. */
static sl_status write_group(sl_context *ctx, sl__walg *g, batch *first,
                             batch *last)
{
    sl_status st = SL_OK;
    for (batch *b = first; st == SL_OK; b = b->next) {
        st = log_batch(ctx, g->w, b);
        if (b == last)
            break;
    }
    if (st == SL_OK)
        st = sl__wal_sync(g->w);
    pthread_mutex_lock(&ctx->lock);
    for (batch *b = first; st == SL_OK; b = b->next) {
        b->logged = true;
        if (b == last)
            break;
    }
    return st; /* with the lock held */
}

static void *writer_main(void *arg)
{
    sl_context *ctx = arg;
    sl__walg *g = ctx->walg;
    sl_status st = SL_OK;
    batch *first, *last = NULL;

    pthread_mutex_lock(&ctx->lock);
    while (!g->quit && st == SL_OK) {
        int64_t prune = g->prune_to;
        if ((first = group_of(ctx, &last)) != NULL) {
            g->busy = true;
            pthread_mutex_unlock(&ctx->lock);
            st = write_group(ctx, g, first, last);
            g->busy = false;
            pthread_cond_broadcast(&ctx->cv);
        } else if (prune > g->pruned_to) {
            pthread_mutex_unlock(&ctx->lock);
            st = sl__wal_prune(g->w, prune);
            pthread_mutex_lock(&ctx->lock);
            g->pruned_to = prune;
        } else {
            pthread_cond_wait(&ctx->cv, &ctx->lock);
        }
    }
    pthread_mutex_unlock(&ctx->lock);
    if (st != SL_OK)
        sl__ctx_fail_msg(ctx, st, "receiver WAL: %s", sl__wal_errmsg(g->w));
    return NULL;
}

sl_status sl__wal_glue_start(sl_context *ctx)
{
    sl__walg *g = ctx->walg;
    if (!g)
        return SL_OK;
    if (pthread_create(&g->thread, NULL, writer_main, ctx) != 0)
        return SL_ENOMEM;
    g->started = true;
    return SL_OK;
}

void sl__wal_glue_wait_idle(sl_context *ctx)
{
    while (ctx->walg && ctx->walg->busy)
        pthread_cond_wait(&ctx->cv, &ctx->lock);
}

void sl__wal_glue_quit(sl_context *ctx)
{
    if (ctx->walg) {
        ctx->walg->quit = true;
        pthread_cond_broadcast(&ctx->cv);
    }
}

void sl__wal_glue_join(sl_context *ctx)
{
    if (ctx->walg && ctx->walg->started) {
        pthread_join(ctx->walg->thread, NULL);
        ctx->walg->started = false;
    }
}

void sl__wal_glue_free(sl_context *ctx)
{
    if (!ctx->walg)
        return;
    sl__wal_glue_join(ctx);
    sl__wal_close(ctx->walg->w);
    sl_free(ctx->walg->next_seq);
    sl_free(ctx->walg);
    ctx->walg = NULL;
}

void sl__wal_glue_prune(sl_context *ctx, int64_t first_needed)
{
    if (!ctx->walg)
        return;
    pthread_mutex_lock(&ctx->lock);
    if (first_needed > ctx->walg->prune_to) {
        ctx->walg->prune_to = first_needed;
        pthread_cond_broadcast(&ctx->cv);
    }
    pthread_mutex_unlock(&ctx->lock);
}

/* ------------------------------------------------------------ replay */

void sl__batch_block_range(const batch *b, size_t i, uint64_t *first_seq,
                           uint64_t *count)
{
    const block *k = b->blocks ? b->blocks[i] : NULL;
    *first_seq = k ? k->seq : 0;
    *count = 0;
    for (; k; k = k->next)
        (*count)++;
}

static batch *replay_batch(sl_context *ctx, int64_t id)
{
    for (batch *b = ctx->replay; b; b = b->next)
        if (b->id == id)
            return b;
    return NULL;
}

/* A block of the context's pool's kind holding v's bytes. */
static block *block_of(const sl__wal_block *v)
{
    block *k = sl_malloc(sizeof *k + v->len + 1);
    if (!k)
        return NULL;
    memset(k, 0, sizeof *k);
    k->cap = v->len + 1; /* never pooled (not ctx->block_cap), no charge */
    k->len = v->len;
    k->records = v->records;
    k->receiver = v->receiver;
    k->seq = v->seq;
    memcpy(k->data, v->data, v->len);
    return k;
}

/* The blocks read must be a receiver of this context, named alike. */
static sl_status check_block(sl_context *ctx, int64_t id,
                             const sl__wal_block *v)
{
    if (v->receiver >= ctx->nreceivers ||
        (v->name[0] && strcmp(v->name, receiver_name(ctx, v->receiver)))) {
        sl__ctx_set_error(ctx, SL_ECORRUPT,
                          "receiver WAL: batch %lld has a block of receiver "
                          "%u \"%s\", which this job does not have",
                          (long long)id, v->receiver, v->name);
        return SL_ECORRUPT;
    }
    return SL_OK;
}

/* Each expected range is there, whole, and nothing else. */
static sl_status check_ranges(sl_context *ctx, const batch *b,
                              const sl__wal_range *expect, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint64_t first, count;
        if (expect[i].receiver >= ctx->nreceivers)
            continue; /* named by check_block when blocks exist */
        sl__batch_block_range(b, expect[i].receiver, &first, &count);
        if (expect[i].count == 0 && count == 0)
            continue;
        if (first != expect[i].first_seq || count != expect[i].count) {
            sl__ctx_set_error(
                ctx, SL_ECORRUPT,
                "receiver WAL: batch %lld recorded blocks %llu..%llu "
                "of receiver %u \"%s\", the WAL has %llu from %llu",
                (long long)b->id, (unsigned long long)expect[i].first_seq,
                (unsigned long long)(expect[i].first_seq + expect[i].count - 1),
                expect[i].receiver, receiver_name(ctx, expect[i].receiver),
                (unsigned long long)count, (unsigned long long)first);
            return SL_ECORRUPT;
        }
    }
    return SL_OK;
}

/* Add the blocks read to b, in order (v is sorted by receiver, seq). */
static sl_status attach(sl_context *ctx, batch *b, const sl__wal_block *v,
                        size_t n)
{
    block **t;
    sl_status st = SL_OK;
    for (size_t i = 0; i < n && st == SL_OK; i++) {
        block *k;
        if ((st = check_block(ctx, b->id, &v[i])) != SL_OK)
            break;
        if (!(k = block_of(&v[i]))) {
            sl__ctx_set_error(ctx, SL_ENOMEM, "out of memory");
            return SL_ENOMEM;
        }
        t = &b->blocks[v[i].receiver];
        while (*t)
            t = &(*t)->next;
        *t = k;
        b->info.num_records += k->records;
    }
    return st;
}

/*
 * Whether the recorded batch had any receiver block. One that had none
 * reads nothing from the WAL: records of its id there are an earlier
 * run's, logged for a batch that crashed before its offsets entry (ids
 * are given again after a restart), and are not its input.
 */
static bool expects_blocks(const sl__wal_range *expect, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (expect[i].count > 0)
            return true;
    return false;
}

sl_status sl__wal_glue_replay(sl_context *ctx, int64_t id,
                              const sl__wal_range *expect, size_t n)
{
    batch *b = replay_batch(ctx, id);
    sl__wal_block *v = NULL;
    size_t nv = 0;
    sl_status st;

    if (!b || sl__ctx_check_building(ctx) != SL_OK) {
        sl__ctx_set_error(ctx, SL_ESTATE,
                          "cannot replay the WAL of batch %lld: not a batch "
                          "queued for replay before start",
                          (long long)id);
        return SL_ESTATE;
    }
    if ((st = sl__wal_glue_open(ctx)) != SL_OK)
        return st;
    if (!ctx->walg || !expects_blocks(expect, n))
        return check_ranges(ctx, b, expect, n);
    if ((st = sl__wal_read_batch(ctx->walg->w, id, &v, &nv)) != SL_OK) {
        sl__ctx_set_error(ctx, st, "receiver WAL: %s",
                          sl__wal_errmsg(ctx->walg->w));
        return st;
    }
    if ((st = attach(ctx, b, v, nv)) == SL_OK)
        st = check_ranges(ctx, b, expect, n);
    sl__wal_blocks_free(v, nv);
    return st;
}

/* ------------------------------------------------ the offsets entry */

sl_status sl__wal_glue_offsets_json(sl_context *ctx, const batch *b,
                                    sl__buf *out)
{
    sl__walg *g = ctx->walg;
    sl_status st;
    char one[512];

    if (!g)
        return SL_OK;
    st = sl__buf_append(out, ",\"receivers\":[", 14);
    for (size_t i = 0; i < ctx->nreceivers && st == SL_OK; i++) {
        uint64_t first, count;
        int n;
        sl__batch_block_range(b, i, &first, &count);
        if (count > 0)
            g->next_seq[i] = first + count;
        /* Stream names are letters, digits and _.- (identity.c): no
         * escaping needed. */
        n = snprintf(one, sizeof one,
                     "%s{\"name\":\"%s\",\"first_seq\":%llu,"
                     "\"count\":%llu,\"next_seq\":%llu}",
                     i ? "," : "", receiver_name(ctx, i),
                     (unsigned long long)first, (unsigned long long)count,
                     (unsigned long long)g->next_seq[i]);
        st = sl__buf_append(out, one, (size_t)n);
    }
    return st == SL_OK ? sl__buf_append(out, "]", 1) : st;
}

/* Receiver i's object in the entry's "receivers": by name, else by
 * position (a receiver without a name). */
static const cJSON *entry_receiver(sl_context *ctx, const cJSON *recs, size_t i)
{
    const cJSON *it;
    const char *want = receiver_name(ctx, i);
    cJSON_ArrayForEach(it, recs)
    {
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(it, "name");
        if (*want && cJSON_IsString(n) && !strcmp(n->valuestring, want))
            return it;
    }
    return *want ? NULL : cJSON_GetArrayItem(recs, (int)i);
}

static uint64_t num_field(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsNumber(v) && v->valuedouble > 0 ? (uint64_t)v->valuedouble
                                                   : 0;
}

void sl__wal_glue_resume_seqs(sl_context *ctx, const cJSON *entry,
                              uint64_t *seqs)
{
    const cJSON *recs = cJSON_GetObjectItemCaseSensitive(entry, "receivers");
    for (size_t i = 0; i < ctx->nreceivers; i++) {
        const cJSON *r =
            cJSON_IsArray(recs) ? entry_receiver(ctx, recs, i) : NULL;
        seqs[i] = r ? num_field(r, "next_seq") : 0;
        if (ctx->walg)
            ctx->walg->next_seq[i] = seqs[i];
    }
}

sl_status sl__wal_glue_replay_entry(sl_context *ctx, int64_t id,
                                    const cJSON *entry)
{
    const cJSON *recs = cJSON_GetObjectItemCaseSensitive(entry, "receivers");
    sl__wal_range *rg;
    size_t n = 0;
    uint64_t lost = 0;
    sl_status st;

    if ((st = sl__wal_glue_open(ctx)) != SL_OK || !cJSON_IsArray(recs) ||
        ctx->nreceivers == 0)
        return st;
    if (!(rg = sl_malloc(ctx->nreceivers * sizeof *rg))) {
        sl__ctx_set_error(ctx, SL_ENOMEM, "out of memory");
        return SL_ENOMEM;
    }
    for (size_t i = 0; i < ctx->nreceivers; i++) {
        const cJSON *r = entry_receiver(ctx, recs, i);
        if (!r)
            continue;
        rg[n].receiver = (uint32_t)i;
        rg[n].first_seq = num_field(r, "first_seq");
        rg[n].count = num_field(r, "count");
        lost += rg[n++].count;
    }
    if (ctx->walg)
        st = sl__wal_glue_replay(ctx, id, rg, n);
    else if (lost > 0)
        sl__log(&ctx->log, SL_LOG_WARN,
                "recovery: batch %lld runs again without its %llu receiver "
                "blocks: receiver.wal is off",
                (long long)id, (unsigned long long)lost);
    sl_free(rg);
    return st;
}
