/*
 * The queue stream (Spark's queueStream with oneAtATime = true): batches
 * pushed from code, one consumed per batch interval and split into
 * partitions by position as parallelize does; a "none" entry yields no
 * batch at all and an empty queue yields empty batches.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <sluice/connectors.h>
#include <stdlib.h>
#include <string.h>

#include "core/records.h"
#include "stream/stream_int.h"

typedef struct queue_entry {
    struct queue_entry *next;
    bool none;
    size_t n;
    sl_value *values; /* deep copies, in `mem` */
    char *mem;
} queue_entry;

typedef struct queue_state {
    pthread_mutex_t lock;
    queue_entry *head, **tail;
    size_t partitions;
    /* Entries are numbered from 0 in push order; this is the head's
     * number (the entries taken so far). Offsets record it, so a queue
     * pushed the same entries again after a restart replays a batch. */
    int64_t taken;
    int64_t queued; /* records in the entries not taken yet */
    /* Typed (sl_queue_stream_set_conf with queue.schema): records are
     * JSON object texts made rows on the job thread at plan time (the
     * queue is in memory, and its plan is where its values are copied);
     * the reader is only used there. */
    sl_context *ctx;
    sl_schema *schema;
    sl__rec_reader rr;
    char *name; /* source.name, or "queue": dead letters' origin */
    sl__dead_letters *dead;
    int64_t malformed; /* job thread writes, progress reads (atomic) */
    int64_t end;       /* available_now: the entries queued at start */
    bool bounded;      /* ... and nothing after them is taken */
} queue_state;

/* ------------------------------------------------------- deep copies */

static size_t deep_size(const sl_value *v)
{
    size_t n = 0;
    uint32_t i;
    if (v->kind == SL_KIND_STR || v->kind == SL_KIND_BYTES)
        return ((size_t)v->len + 7) & ~(size_t)7;
    if (sl_kind_is_composite(v->kind)) {
        n = (size_t)v->len * sizeof(sl_value);
        for (i = 0; i < v->len; i++)
            n += deep_size(&v->u.items[i]);
    }
    return n;
}

static void deep_copy(const sl_value *v, sl_value *out, char **mem)
{
    uint32_t i;
    *out = *v;
    if ((v->kind == SL_KIND_STR || v->kind == SL_KIND_BYTES) && v->len) {
        memcpy(*mem, v->u.s, v->len);
        out->u.s = *mem;
        *mem += ((size_t)v->len + 7) & ~(size_t)7;
    } else if (sl_kind_is_composite(v->kind) && v->len) {
        sl_value *items = (sl_value *)*mem;
        *mem += (size_t)v->len * sizeof(sl_value);
        for (i = 0; i < v->len; i++)
            deep_copy(&v->u.items[i], &items[i], mem);
        out->u.items = items;
    }
}

/* ------------------------------------------------------------ source */

/* The head entry, taken off the queue (NULL when empty); *seq its number. */
static queue_entry *queue_take(queue_state *q, int64_t *seq)
{
    queue_entry *e;
    pthread_mutex_lock(&q->lock);
    *seq = q->taken;
    e = q->bounded && q->taken >= q->end ? NULL : q->head;
    if (e) {
        q->head = e->next;
        if (!q->head)
            q->tail = &q->head;
        q->taken++;
        q->queued -= (int64_t)e->n;
    }
    pthread_mutex_unlock(&q->lock);
    return e;
}

/* A record that is no row of the schema: counted, set aside, and in
 * fail_fast mode the plan's failure. */
static sl_status row_malformed(queue_state *q, sl_plan *plan, int64_t batch_id,
                               int64_t seq, size_t i, const sl_value *text,
                               const char *why)
{
    long long n = __atomic_add_fetch(&q->malformed, 1, __ATOMIC_RELAXED);
    /* Logged at the first and every 1000th, so that bad input is never
     * silent (with no dead-letter file) yet cannot flood the log. */
    if (q->rr.mode != SL__PARSE_FAIL_FAST && (n == 1 || n % 1000 == 0))
        sl_context_log(q->ctx, SL_LOG_WARN,
                       "%s source: malformed record %zu of queue entry %lld, "
                       "%s: %s; %lld malformed so far",
                       q->name, i, (long long)seq,
                       sl__rec_malformed_fate(&q->rr), why, n);
    if (q->dead) {
        sl__dead_letter r = {.batch = batch_id,
                             .source = q->name,
                             .reason = "malformed",
                             .error = why,
                             .text = text->u.s,
                             .text_len = text->len};
        sl__dead_letters_put(q->dead, &r);
    }
    if (q->rr.mode != SL__PARSE_FAIL_FAST)
        return SL_OK;
    sl_plan_set_error(plan,
                      "%s source: malformed record %zu of queue entry %lld "
                      "(parse_mode fail_fast): %s",
                      q->name, i, (long long)seq, why);
    return SL_EPARSE;
}

/* The record as JSON text: a string is taken as the text itself; any
 * other value (a number, a list) is written as JSON into a, and so is
 * malformed as a row but keeps its text for _corrupt_record and the
 * dead letter. */
static sl_status record_text(const sl_value *v, sl__arena *a, sl_value *out)
{
    size_t n;
    char *p;
    if (v->kind == SL_KIND_STR) {
        *out = *v;
        return SL_OK;
    }
    n = sl_value_format_json(v, NULL, 0);
    if (!(p = sl__arena_alloc(a, n + 1)))
        return SL_ENOMEM;
    sl_value_format_json(v, p, n + 1);
    *out = sl_str(p, n);
    return SL_OK;
}

/*
 * Make e's records rows of the schema, in place (their memory from a,
 * which outlives the plan's copy): a JSON object text by field name
 * (rows.c); anything else, or a malformed text, by the parse mode. n is
 * then the rows kept.
 */
static sl_status queue_rows(queue_state *q, queue_entry *e, int64_t seq,
                            sl_plan *plan, int64_t batch_id, sl__arena *a)
{
    size_t i, kept = 0;
    char why[256];
    sl_value row, text;
    sl_status st;

    for (i = 0; i < e->n; i++) {
        if ((st = record_text(&e->values[i], a, &text)) != SL_OK)
            return st;
        st = sl__rec_parse(&q->rr, text.u.s, text.len, sl__rec_arena_alloc, a,
                           &row, why, sizeof why);
        if (st == SL_ENOMEM)
            return st;
        if (st == SL_ENOTFOUND) { /* a blank text: no record, as in files */
            snprintf(why, sizeof why, "blank record");
            st = SL_EPARSE;
        }
        if ((st == SL_EPARSE || q->rr.row_malformed) &&
            row_malformed(q, plan, batch_id, seq, i, &text, why) != SL_OK)
            return SL_EPARSE;
        if (st == SL_OK)
            e->values[kept++] = row;
    }
    e->n = kept;
    return SL_OK;
}

/* Plan entry e (number seq; NULL: the queue was empty, an empty batch). */
static sl_status queue_plan_entry(queue_state *q, queue_entry *e, int64_t seq,
                                  sl_plan *plan, int64_t batch_id)
{
    sl_status st = SL_OK;
    size_t i, n = e ? e->n : 0;
    char offsets[96];
    sl__arena a;

    sl__arena_init(&a, 4096);
    if (e && !e->none && q->schema)
        st = queue_rows(q, e, seq, plan, batch_id, &a);
    if (st != SL_OK) {
        /* nothing planned: the batch fails */
    } else if (e && e->none) {
        sl_plan_set_no_batch(plan);
    } else {
        n = e ? e->n : 0; /* rows kept */
        for (i = 0; i < q->partitions && st == SL_OK; i++) {
            size_t lo = i * n / q->partitions, hi = (i + 1) * n / q->partitions;
            st = sl_plan_add_values(plan, e ? e->values + lo : NULL, hi - lo);
        }
    }
    /* An empty queue takes nothing: "entry" is then the next one's number
     * and "taken" 0. */
    snprintf(offsets, sizeof offsets,
             "{\"entry\":%lld,\"taken\":%d,\"records\":%lld,\"none\":%d}",
             (long long)seq, e != NULL, (long long)n, e && e->none);
    if (st == SL_OK)
        st = sl_plan_set_offsets(plan, offsets);
    if (e)
        sl_free(e->mem);
    sl_free(e);
    sl__arena_free(&a);
    return st;
}

static sl_status queue_plan(void *state, int64_t batch_id, int64_t time_ms,
                            sl_plan *plan)
{
    queue_state *q = state;
    int64_t seq;
    queue_entry *e = queue_take(q, &seq);
    (void)time_ms;
    return queue_plan_entry(q, e, seq, plan, batch_id);
}

/* The integer after "key": in offsets this source wrote. */
static bool offset_int(const char *json, const char *key, int64_t *out)
{
    char pat[32];
    const char *p;
    char *end;
    long long v;
    snprintf(pat, sizeof pat, "\"%s\":", key);
    if (!(p = strstr(json, pat)))
        return false;
    p += strlen(pat);
    errno = 0;
    v = strtoll(p, &end, 10);
    if (end == p || errno || (*end != ',' && *end != '}'))
        return false;
    *out = v;
    return true;
}

/* Drop entries numbered below seq (taken by committed batches). */
static void queue_skip_to(queue_state *q, int64_t seq)
{
    queue_entry *e;
    int64_t n;
    while (q->taken < seq && (e = queue_take(q, &n)) != NULL) {
        sl_free(e->mem);
        sl_free(e);
    }
}

/*
 * The application pushes the same entries again after a restart (the
 * queue lives in memory); entry number `entry` must be at the head then
 * and hold the recorded record count.
 */
static sl_status queue_replan(void *state, int64_t batch_id, int64_t time_ms,
                              const char *offsets_json, sl_plan *plan)
{
    queue_state *q = state;
    int64_t entry, taken, records, none, seq;
    queue_entry *e;
    (void)time_ms;
    if (!offset_int(offsets_json, "entry", &entry) ||
        !offset_int(offsets_json, "taken", &taken) ||
        !offset_int(offsets_json, "records", &records) ||
        !offset_int(offsets_json, "none", &none)) {
        sl_plan_set_error(plan, "unreadable offsets '%.100s'", offsets_json);
        return SL_ECORRUPT;
    }
    queue_skip_to(q, entry);
    if (!taken && q->taken == entry)
        return queue_plan_entry(q, NULL, entry, plan, batch_id);
    if (!taken) {
        sl_plan_set_error(plan,
                          "the batch took no entry at %lld, but entry %lld "
                          "is next",
                          (long long)entry, (long long)q->taken);
        return SL_ECORRUPT;
    }
    e = q->taken == entry ? queue_take(q, &seq) : NULL;
    if (!e || (int64_t)e->n != records || e->none != (none != 0)) {
        sl_plan_set_error(plan,
                          "queue entry %lld is %s, the batch recorded %lld "
                          "records%s (push the same entries before a "
                          "restart)",
                          (long long)entry, e ? "different" : "missing",
                          (long long)records, none ? " (none)" : "");
        if (e)
            sl_free(e->mem);
        sl_free(e);
        return SL_ENOTFOUND;
    }
    return queue_plan_entry(q, e, seq, plan, batch_id);
}

static sl_status queue_restore(void *state, int64_t batch_id,
                               const char *offsets_json)
{
    int64_t entry, taken;
    (void)batch_id;
    if (!offset_int(offsets_json, "entry", &entry) ||
        !offset_int(offsets_json, "taken", &taken))
        return SL_EPARSE;
    queue_skip_to(state, entry + (taken ? 1 : 0));
    return SL_OK;
}

/* The lag: records pushed and not yet taken by a batch (one entry per
 * batch, so all but the head wait at least a batch more). */
static void queue_progress(void *state, sl_source_progress *out)
{
    queue_state *q = state;
    pthread_mutex_lock(&q->lock);
    out->lag = q->queued;
    pthread_mutex_unlock(&q->lock);
    if (q->schema) /* untyped, a queue has no malformed records (null) */
        out->malformed = __atomic_load_n(&q->malformed, __ATOMIC_RELAXED);
}

static void queue_free(void *state)
{
    queue_state *q = state;
    queue_entry *e, *next;
    for (e = q->head; e; e = next) {
        next = e->next;
        sl_free(e->mem);
        sl_free(e);
    }
    pthread_mutex_destroy(&q->lock);
    sl__rec_reader_free(&q->rr);
    sl_schema_release(q->schema);
    sl__dead_letters_close(q->dead);
    sl_free(q->name);
    sl_free(q);
}

/* available_now: the end is the entries queued now. */
static sl_status queue_available_now(void *state)
{
    queue_state *q = state;
    const queue_entry *e;
    pthread_mutex_lock(&q->lock);
    q->end = q->taken;
    for (e = q->head; e; e = e->next)
        q->end++;
    q->bounded = true;
    pthread_mutex_unlock(&q->lock);
    return SL_OK;
}

static bool queue_exhausted(void *state)
{
    queue_state *q = state;
    bool done;
    pthread_mutex_lock(&q->lock);
    done = q->taken >= q->end;
    pthread_mutex_unlock(&q->lock);
    return done;
}

static const sl_planned_ops queue_ops = {
    SL_PLANNED_OPS_VERSION, "queue",         queue_plan,     NULL, queue_free,
    queue_replan,           queue_restore,   queue_progress, NULL, NULL,
    queue_available_now,    queue_exhausted,
};

sl_dstream *sl_queue_stream(sl_context *ctx, size_t partitions)
{
    queue_state *q;
    if (!ctx)
        return NULL;
    if (partitions == 0) {
        sl_context_set_error(ctx, SL_EINVAL,
                             "queue stream: partitions must be at least 1");
        return NULL;
    }
    q = sl_malloc(sizeof *q);
    if (!q) {
        sl_context_set_error(ctx, SL_ENOMEM, "queue stream: out of memory");
        return NULL;
    }
    memset(q, 0, sizeof *q);
    if (pthread_mutex_init(&q->lock, NULL) != 0) {
        sl_free(q);
        sl_context_set_error(ctx, SL_ENOMEM, "queue stream: no mutex");
        return NULL;
    }
    q->tail = &q->head;
    q->partitions = partitions;
    q->ctx = ctx;
    return sl_planned_stream(ctx, &queue_ops, q);
}

static sl_status push_entry(sl_dstream *queue, queue_entry *e)
{
    queue_state *q = sl_planned_stream_state(queue, &queue_ops);
    if (!q) {
        sl_free(e->mem);
        sl_free(e);
        return SL_EINVAL;
    }
    pthread_mutex_lock(&q->lock);
    *q->tail = e;
    q->tail = &e->next;
    q->queued += (int64_t)e->n;
    pthread_mutex_unlock(&q->lock);
    return SL_OK;
}

sl_status sl_queue_stream_push(sl_dstream *queue, const sl_value *values,
                               size_t n)
{
    queue_entry *e;
    size_t i, bytes = (n + 1) * sizeof(sl_value);
    char *mem;
    if (!queue || (n && !values))
        return SL_EINVAL;
    for (i = 0; i < n; i++)
        bytes += deep_size(&values[i]);
    e = sl_malloc(sizeof *e);
    mem = sl_malloc(bytes);
    if (!e || !mem) {
        sl_free(e);
        sl_free(mem);
        return SL_ENOMEM;
    }
    memset(e, 0, sizeof *e);
    e->mem = mem;
    e->values = (sl_value *)mem;
    e->n = n;
    mem += (n + 1) * sizeof(sl_value);
    for (i = 0; i < n; i++)
        deep_copy(&values[i], &e->values[i], &mem);
    return push_entry(queue, e);
}

sl_status sl_queue_stream_push_none(sl_dstream *queue)
{
    queue_entry *e;
    if (!queue)
        return SL_EINVAL;
    e = sl_malloc(sizeof *e);
    if (!e)
        return SL_ENOMEM;
    memset(e, 0, sizeof *e);
    e->none = true;
    return push_entry(queue, e);
}

/* queue.schema, queue.parse_mode, and the dead-letter file and name its
 * malformed records go to, read into q (nothing kept on failure). */
static sl_status queue_configure(queue_state *q, const sl_conf *conf, char *err,
                                 size_t errlen)
{
    const char *ddl = sl_conf_get(conf, "queue.schema");
    const char *name = sl_conf_get(conf, "source.name");
    const char *dead = sl__dead_letter_path(conf, NULL, q->ctx->conf);
    sl__rec_options o;
    sl_status st;
    char why[256];

    sl__rec_options_init(&o);
    o.format = SL__REC_JSON;
    if (sl__parse_mode_parse(sl_conf_get(conf, "queue.parse_mode"), &o.mode) !=
        SL_OK)
        return sl__errbuf(err, errlen, SL_ECONF,
                          "queue.parse_mode: unknown '%s'",
                          sl_conf_get(conf, "queue.parse_mode"));
    if ((st = sl_schema_parse(ddl, &q->schema, why, sizeof why)) != SL_OK)
        return sl__errbuf(err, errlen, st, "queue.schema: %s", why);
    o.schema = q->schema;
    if ((st = sl__rec_options_check(&o, why, sizeof why)) != SL_OK ||
        (st = sl__rec_reader_init(&q->rr, &o, why, sizeof why)) != SL_OK)
        return sl__errbuf(err, errlen, st, "queue.schema: %s", why);
    if (!(q->name = sl__strdup(*name ? name : "queue")))
        return sl__errbuf(err, errlen, SL_ENOMEM, "out of memory");
    if (dead &&
        (st = sl__dead_letters_open(dead, sl__context_bad_counts(q->ctx),
                                    &q->dead, err, errlen)) != SL_OK)
        return st;
    return SL_OK;
}

sl_status sl_queue_stream_set_conf(sl_dstream *queue, const sl_conf *conf)
{
    queue_state *q = queue ? sl_planned_stream_state(queue, &queue_ops) : NULL;
    char err[512] = "";
    sl_status st;

    if (!q || !conf)
        return SL_EINVAL;
    if (sl__ctx_check_building(q->ctx) != SL_OK)
        return SL_ESTATE;
    if (q->schema || !*sl_conf_get(conf, "queue.schema"))
        return q->schema ? SL_ESTATE : SL_OK;
    if ((st = queue_configure(q, conf, err, sizeof err)) != SL_OK) {
        sl__rec_reader_free(&q->rr);
        sl_schema_release(q->schema);
        sl__dead_letters_close(q->dead);
        sl_free(q->name);
        q->schema = NULL;
        q->dead = NULL;
        q->name = NULL;
        memset(&q->rr, 0, sizeof q->rr);
        sl_context_set_error(q->ctx, st, "queue stream: %s",
                             *err ? err : sl_strerror(st));
        return st;
    }
    sl__dstream_set_schema(queue, q->schema, sl__parse_mode_name(q->rr.mode));
    return SL_OK;
}
