/*
 * The checkpoint wiring of a context: at start, open (or create) the
 * checkpoint directory, refuse a job whose fingerprint changed, and set
 * up where the job goes on (ids, zero time, sources' positions, batches
 * to re-run from their recorded offsets); per batch, on the job thread,
 * write offsets/<batch> before it computes and commits/<batch> after its
 * outputs and state, then retention. docs/checkpoint-format.md,
 * "Recovery", is the algorithm step by step.
 */
#include "stream/stream_int.h"

#include "checkpoint/checkpoint.h"
#include "core/codec.h"
#include "core/records.h"
#include "stream/ckpt_state.h"
#include "stream/source_log.h"
#include "stream/wal_glue.h"

#include <cJSON.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ------------------------------------------------------------ helpers */

static sl_status buf_printf(sl__buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static sl_status buf_printf(sl__buf *b, const char *fmt, ...)
{
    char tmp[256];
    va_list ap;
    int n;
    va_start(ap, fmt);
    n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof tmp)
        return SL_ERANGE;
    return sl__buf_append(b, tmp, (size_t)n);
}

/* s as a JSON string, quotes included. */
static sl_status buf_json_string(sl__buf *b, const char *s)
{
    size_t n = strlen(s), m = sl__json_escape(NULL, s, n, NULL);
    sl_status st = sl__buf_reserve(b, m + 2);
    if (st != SL_OK)
        return st;
    b->data[b->len++] = '"';
    sl__json_escape((char *)b->data + b->len, s, n, NULL);
    b->len += m;
    b->data[b->len++] = '"';
    return SL_OK;
}

static const char *source_name(const sl_dstream *s)
{
    return s->name ? s->name : s->planned->name;
}

/* ---------------------------------------------------- offsets entries */

/*
 * offsets/<batch>: {"batch", "time_ms", "zero_ms", "absorbed_ticks",
 * ["watermark_ms",] "sources": [{"name", "offsets"}]}; watermark_ms, the
 * event-time watermark the batch uses, when some stream declares one;
 * each source's offsets are its own
 * JSON text kept as a JSON string (byte for byte, whatever numbers it
 * holds), null when it recorded none.
 */
static sl_status offsets_payload(sl_context *ctx, const batch *b, sl__buf *out)
{
    size_t i;
    sl_status st =
        buf_printf(out,
                   "{\"batch\":%lld,\"time_ms\":%lld,\"zero_ms\":%lld,"
                   "\"absorbed_ticks\":%lld,",
                   (long long)b->id, (long long)b->time_ms,
                   (long long)ctx->zero_ms, (long long)b->info.absorbed_ticks);
    if (st == SL_OK && ctx->has_watermark)
        st = buf_printf(out, "\"watermark_ms\":%lld,",
                        (long long)b->watermark_ms);
    if (st == SL_OK)
        st = sl__buf_append(out, "\"sources\":[", 11);
    for (i = 0; i < ctx->nplanned && st == SL_OK; i++) {
        const char *name, *offs;
        if (!sl__batch_offsets(b, ctx, i, &name, &offs))
            return SL_ESTATE;
        st = sl__buf_append(out, i ? ",{\"name\":" : "{\"name\":", 9 + !!i);
        if (st == SL_OK)
            st = buf_json_string(out, name);
        if (st == SL_OK)
            st = sl__buf_append(out, ",\"offsets\":", 11);
        if (st == SL_OK)
            st = offs ? buf_json_string(out, offs)
                      : sl__buf_append(out, "null", 4);
        if (st == SL_OK)
            st = sl__buf_append(out, "}", 1);
    }
    if (st == SL_OK)
        st = sl__buf_append(out, "]", 1);
    /* The receivers' block ranges: the durable point of their input. */
    if (st == SL_OK)
        st = sl__wal_glue_offsets_json(ctx, b, out);
    if (st == SL_OK)
        st = sl__buf_append(out, "}", 1);
    return st;
}

/* A parsed offsets entry: the zero time and, per planned source (ctx
 * order), its offsets text (NULL: none recorded) pointing into json. */
typedef struct offsets_entry {
    cJSON *json;
    int64_t zero_ms;
    const char **offsets;
} offsets_entry;

static void offsets_entry_free(offsets_entry *e)
{
    if (e->json) {
        sl__json_lock();
        cJSON_Delete(e->json);
        sl__json_unlock();
    }
    sl_free(e->offsets);
    memset(e, 0, sizeof *e);
}

/* Match the entry's sources to ctx's planned sources by name. */
static sl_status offsets_match(sl_context *ctx, const cJSON *srcs,
                               offsets_entry *e, const char *path)
{
    const cJSON *it;
    size_t i;
    for (i = 0; i < ctx->nplanned; i++) {
        const char *want = source_name(ctx->planned[i]);
        bool found = false;
        cJSON_ArrayForEach(it, srcs)
        {
            const cJSON *n = cJSON_GetObjectItemCaseSensitive(it, "name");
            const cJSON *o = cJSON_GetObjectItemCaseSensitive(it, "offsets");
            if (!cJSON_IsString(n) || strcmp(n->valuestring, want) != 0)
                continue;
            found = true;
            e->offsets[i] = cJSON_IsString(o) ? o->valuestring : NULL;
        }
        if (!found) {
            sl__ctx_set_error(ctx, SL_ECORRUPT,
                              "%s: no offsets for source '%s'", path, want);
            return SL_ECORRUPT;
        }
    }
    return SL_OK;
}

static sl_status offsets_read(sl_context *ctx, int64_t id, offsets_entry *e)
{
    char path[4096];
    void *payload = NULL;
    size_t len;
    const cJSON *z, *srcs;
    sl_status st;
    memset(e, 0, sizeof *e);
    snprintf(path, sizeof path, "%s/offsets/%lld", sl__ckpt_dir(ctx->ck),
             (long long)id);
    st = sl__ckpt_log_read(ctx->ck, SL__CKPT_OFFSETS, id, &payload, &len);
    if (st != SL_OK) {
        sl__ctx_set_error(ctx, st, "%s", sl__ckpt_errmsg(ctx->ck));
        return st;
    }
    e->json = sl__json_parse(payload, len, NULL, false);
    sl_free(payload);
    e->offsets = sl_malloc((ctx->nplanned + 1) * sizeof *e->offsets);
    if (!e->json || !e->offsets) {
        st = e->offsets ? SL_ECORRUPT : SL_ENOMEM;
        goto fail;
    }
    memset(e->offsets, 0, (ctx->nplanned + 1) * sizeof *e->offsets);
    z = cJSON_GetObjectItemCaseSensitive(e->json, "zero_ms");
    srcs = cJSON_GetObjectItemCaseSensitive(e->json, "sources");
    if (!cJSON_IsNumber(z) || !cJSON_IsArray(srcs)) {
        st = SL_ECORRUPT;
        goto fail;
    }
    e->zero_ms = (int64_t)z->valuedouble;
    if ((st = offsets_match(ctx, srcs, e, path)) != SL_OK) {
        offsets_entry_free(e);
        return st;
    }
    return SL_OK;
fail:
    offsets_entry_free(e);
    sl__ctx_set_error(ctx, st, "%s: %s", path,
                      st == SL_ENOMEM ? "out of memory"
                                      : "not an offsets entry of this build "
                                        "(bad JSON or fields)");
    return st;
}

/* ------------------------------------------------------------- start */

static sl_status open_checkpoint(sl_context *ctx, const char *dir)
{
    sl__buf fp = {0};
    char err[1024], diff[2048];
    const void *old;
    size_t lold;
    sl_status st = sl__fingerprint_build(ctx, &fp);
    if (st != SL_OK) {
        sl__ctx_set_error(ctx, st, "checkpoint %s: cannot describe the job: %s",
                          dir, sl_strerror(st));
        goto out;
    }
    st = sl__ckpt_open(dir, true, fp.data, fp.len, &ctx->ck, err, sizeof err);
    if (st != SL_OK) {
        sl__ctx_set_error(ctx, st, "checkpoint %s: %s", dir, err);
        goto out;
    }
    old = sl__ckpt_fingerprint(ctx->ck, &lold);
    if (sl__fingerprint_diff(old, lold, (const char *)fp.data, fp.len, diff,
                             sizeof diff)) {
        sl__ctx_set_error(ctx, SL_ECONF,
                          "checkpoint %s was written by an incompatible job: "
                          "%s",
                          dir, diff);
        st = SL_ECONF;
    }
out:
    sl__buf_free(&fp);
    return st;
}

/* Queue every batch with offsets and no commit to run again. */
static sl_status queue_uncommitted(sl_context *ctx, int64_t after)
{
    int64_t *ids = NULL;
    size_t n = 0, i;
    offsets_entry e;
    sl_status st = sl__ckpt_uncommitted(ctx->ck, &ids, &n);
    if (st != SL_OK) {
        sl__ctx_set_error(ctx, st, "%s", sl__ckpt_errmsg(ctx->ck));
        return st;
    }
    for (i = 0; i < n && st == SL_OK; i++) {
        if (ids[i] <= after)
            continue; /* older than the last commit: never re-run */
        if ((st = offsets_read(ctx, ids[i], &e)) != SL_OK)
            break;
        st = sl__context_replay(ctx, ids[i], e.offsets);
        if (st == SL_OK)
            sl__wm_replay(ctx, ids[i], e.json);
        if (st == SL_OK) /* its receiver blocks, from the WAL */
            st = sl__wal_glue_replay_entry(ctx, ids[i], e.json);
        offsets_entry_free(&e);
        if (st == SL_OK)
            sl__log(&ctx->log, SL_LOG_INFO,
                    "recovery: batch %lld has no commit: it runs again from "
                    "its recorded input",
                    (long long)ids[i]);
    }
    sl_free(ids);
    return st;
}

/*
 * Every source's position after batch `committed`: restored from each
 * committed batch the checkpoint keeps, oldest first, so that a source
 * that remembers what it took (the directory source's files) learns every
 * kept batch's input, and the last call leaves the position after
 * `committed`. Batches retention deleted are known from the sources'
 * logs (sources/), read just before.
 */
static sl_status restore_sources(sl_context *ctx, int64_t committed)
{
    int64_t *ids = NULL, *offs = NULL;
    size_t n = 0, no = 0, i, j = 0;
    offsets_entry e;
    sl_status st = sl__ckpt_log_list(ctx->ck, SL__CKPT_COMMITS, &ids, &n);
    if (st == SL_OK)
        st = sl__ckpt_log_list(ctx->ck, SL__CKPT_OFFSETS, &offs, &no);
    if (st != SL_OK)
        sl__ctx_set_error(ctx, st, "%s", sl__ckpt_errmsg(ctx->ck));
    for (i = 0; i < n && st == SL_OK && ids[i] <= committed; i++) {
        /* "commit only" entries (retention stopped midway) have no
         * offsets left: skipped; the last commit's are required. */
        while (j < no && offs[j] < ids[i])
            j++;
        if (ids[i] != committed && (j == no || offs[j] != ids[i]))
            continue;
        if ((st = offsets_read(ctx, ids[i], &e)) != SL_OK)
            break;
        st = sl__sources_restore(ctx, ids[i], e.offsets);
        offsets_entry_free(&e);
    }
    sl_free(ids);
    sl_free(offs);
    return st;
}

/* The sources' positions and the state after the last committed batch. */
static sl_status restore_committed(sl_context *ctx, int64_t committed)
{
    sl_status st;
    if (committed <= 0) {
        /* No batch ran to its end: a fresh start (initial state applies)
         * whose state and window files of uncommitted batches go, or the
         * re-run's files would name them as their base. */
        st = sl__ckpt_prune_hook(ctx, ctx->ck, INT64_MIN, 0);
        if (st == SL_OK &&
            (st = sl__ckpt_io_sync_dirs(sl__ckpt_io_of(ctx->ck))) != SL_OK)
            sl__ctx_set_error(ctx, st, "%s", sl__ckpt_errmsg(ctx->ck));
        return st == SL_OK ? sl__sources_recover(ctx, 0) : st;
    }
    /* Source logs first (what a source remembers of batches older than
     * the kept offsets), then the kept offsets themselves. */
    st = sl__sources_recover(ctx, committed);
    if (st == SL_OK)
        st = restore_sources(ctx, committed);
    /* State comes from the checkpoint, never again from initial state:
     * every store and window as batch `committed` left it. */
    if (st == SL_OK)
        st = sl__context_skip_initial_state(ctx);
    if (st == SL_OK)
        st = sl__ckpt_restore_state(ctx, ctx->ck, committed);
    return st;
}

/* The last commit entry is what recovery trusts most: read and check it
 * (a torn or damaged one refuses the start, named), then every file it
 * lists: the checkpoint's own (state deltas, window data, source logs)
 * and the sinks' output, each with its size and checksum. */
static sl_status commit_check(sl_context *ctx, int64_t committed)
{
    void *p = NULL;
    size_t len;
    sl_status st =
        sl__ckpt_log_read(ctx->ck, SL__CKPT_COMMITS, committed, &p, &len);
    /* The check `checkpoint inspect` makes too (src/checkpoint/verify.c),
     * stopping at the first mismatch. */
    if (st == SL_OK)
        st = sl__ckpt_commit_verify(sl__ckpt_io_of(ctx->ck),
                                    sl__ckpt_dir(ctx->ck), committed, p, len,
                                    NULL, NULL);
    if (st == SL_OK && ctx->has_watermark) {
        cJSON *j = sl__json_parse(p, len, NULL, false);
        sl__wm_resume(ctx, j); /* the watermark it raised */
        cJSON_Delete(j);
    }
    if (st != SL_OK)
        sl__ctx_set_error(ctx, st, "%s", sl__ckpt_errmsg(ctx->ck));
    sl_free(p);
    return st;
}

static sl_status recover(sl_context *ctx)
{
    uint64_t *seqs;
    int64_t last, committed = 0;
    offsets_entry e;
    sl__resume r;
    sl_status st = sl__ckpt_log_last(ctx->ck, SL__CKPT_OFFSETS, &last);
    if (st == SL_ENOTFOUND) /* a new checkpoint: from scratch, logging */
        return sl__sources_recover(ctx, 0);
    if (st == SL_OK)
        st = sl__ckpt_log_last(ctx->ck, SL__CKPT_COMMITS, &committed);
    if (st == SL_ENOTFOUND)
        st = SL_OK;
    if (st != SL_OK) {
        sl__ctx_set_error(ctx, st, "%s", sl__ckpt_errmsg(ctx->ck));
        return st;
    }
    if (committed > 0 && (st = commit_check(ctx, committed)) != SL_OK)
        return st;
    if ((st = offsets_read(ctx, last, &e)) != SL_OK)
        return st;
    memset(&r, 0, sizeof r);
    r.last_batch_id = last;
    r.zero_ms = e.zero_ms;
    sl__wm_resume(ctx, e.json);
    /* Block sequences go on after the last recorded batch's. */
    if (!(seqs = sl_malloc((ctx->nreceivers + 1) * sizeof *seqs))) {
        offsets_entry_free(&e);
        sl__ctx_set_error(ctx, SL_ENOMEM, "out of memory");
        return SL_ENOMEM;
    }
    if ((st = sl__wal_glue_open(ctx)) == SL_OK) {
        sl__wal_glue_resume_seqs(ctx, e.json, seqs);
        r.next_block_seq = seqs;
        r.nreceivers = ctx->nreceivers;
        st = sl__context_resume(ctx, &r);
    }
    offsets_entry_free(&e);
    sl_free(seqs);
    if (st != SL_OK)
        return st;
    if ((st = restore_committed(ctx, committed)) != SL_OK)
        return st;
    if ((st = queue_uncommitted(ctx, committed)) != SL_OK)
        return st;
    ctx->ck_recommit = committed;
    sl__log(&ctx->log, SL_LOG_INFO,
            "recovered from checkpoint %s: last batch %lld, last commit %lld",
            sl__ckpt_dir(ctx->ck), (long long)last, (long long)committed);
    return SL_OK;
}

/* The fingerprint of dir's metadata (sl_malloc'd, *len bytes): NULL with
 * SL_OK when dir has no metadata. Reads only. */
static sl_status read_fingerprint(sl_context *ctx, const char *dir, char **fp,
                                  size_t *len)
{
    sl__ckpt_io io;
    char path[4096];
    void *payload = NULL;
    const char *nl;
    size_t n;
    sl_status st;
    *fp = NULL;
    snprintf(path, sizeof path, "%s/metadata", dir);
    sl__ckpt_io_init(&io);
    st = sl__ckpt_read_file(&io, path, SL__CKPT_MAGIC_METADATA,
                            SL__CKPT_VERSION, &payload, &n, NULL);
    if (st == SL_ENOTFOUND) {
        st = SL_OK;
    } else if (st != SL_OK) {
        sl__ctx_set_error(ctx, st, "%s", sl__ckpt_io_errmsg(&io));
    } else if (!(nl = memchr(payload, '\n', n))) {
        st = SL_ECORRUPT;
        sl__ctx_set_error(ctx, st, "%s: no job id line", path);
    } else {
        *len = n - (size_t)(nl + 1 - (const char *)payload);
        memmove(payload, nl + 1, *len);
        *fp = payload;
        payload = NULL;
    }
    sl_free(payload);
    sl__ckpt_io_free(&io);
    return st;
}

sl_status sl_context_check_checkpoint(sl_context *ctx, const char *dir)
{
    sl__buf cur = {0};
    char *old = NULL, diff[2048];
    size_t lold = 0;
    sl_status st;
    if (!ctx || !dir || !*dir)
        return SL_EINVAL;
    if ((st = sl__context_check_names(ctx)) != SL_OK)
        return st;
    if ((st = read_fingerprint(ctx, dir, &old, &lold)) != SL_OK || !old)
        return st;
    if ((st = sl__fingerprint_build(ctx, &cur)) != SL_OK) {
        sl__ctx_set_error(ctx, st, "cannot describe the job: %s",
                          sl_strerror(st));
    } else if (sl__fingerprint_diff(old, lold, cur.data, cur.len, diff,
                                    sizeof diff)) {
        st = SL_ECONF;
        sl__ctx_set_error(ctx, st,
                          "checkpoint %s was written by an incompatible job: "
                          "%s",
                          dir, diff);
    }
    sl_free(old);
    sl__buf_free(&cur);
    return st;
}

sl_context *sl_context_get_or_create(const char *dir,
                                     sl_context_create_fn create, void *user,
                                     char *errbuf, size_t errlen)
{
    sl_context *ctx;
    const char *set;
    char err[256];
    if (!dir || !*dir || !create) {
        sl__errbuf(errbuf, errlen, SL_EINVAL,
                   "a checkpoint directory and a create function are needed");
        return NULL;
    }
    if (!(ctx = create(user, errbuf, errlen)))
        return NULL;
    set = sl_conf_get(ctx->conf, "checkpoint.path");
    if (set && *set && strcmp(set, dir) != 0) {
        sl__errbuf(errbuf, errlen, SL_EINVAL,
                   "the context's checkpoint.path '%s' is not '%s'", set, dir);
        goto fail;
    }
    if (sl_conf_set(ctx->conf, "checkpoint.path", dir, err, sizeof err) !=
        SL_OK) {
        sl__errbuf(errbuf, errlen, SL_EINVAL, "checkpoint.path: %s", err);
        goto fail;
    }
    if (sl__ctx_check_building(ctx) != SL_OK ||
        sl__recovery_prepare(ctx) != SL_OK) {
        sl__errbuf(errbuf, errlen, sl_context_errcode(ctx), "%s",
                   sl_context_errmsg(ctx));
        goto fail;
    }
    return ctx;
fail:
    sl_context_free(ctx);
    return NULL;
}

sl_status sl__recovery_prepare(sl_context *ctx)
{
    const char *dir = sl_conf_get(ctx->conf, "checkpoint.path");
    sl_status st;
    if (ctx->ck_prepared)
        return SL_OK; /* sl_context_get_or_create did it */
    if (!dir || !*dir) {
        ctx->ck_prepared = true;
        return SL_OK;
    }
    ctx->snapshot_every =
        sl__conf_int(ctx->conf, "checkpoint.snapshot_every_batches");
    ctx->retain_batches = sl__conf_int(ctx->conf, "checkpoint.retain_batches");
    if ((st = sl__context_check_names(ctx)) != SL_OK)
        return st;
    /* The progress entry's job_id: the checkpoint's, stable across
     * restarts. */
    if ((st = open_checkpoint(ctx, dir)) == SL_OK)
        st = sl__context_set_job_id(ctx, sl__ckpt_job_id(ctx->ck));
    if (st == SL_OK)
        st = recover(ctx);
    if (st != SL_OK) {
        sl__ckpt_close(ctx->ck);
        ctx->ck = NULL;
        return st;
    }
    ctx->ck_prepared = true;
    return SL_OK;
}

/*
 * The last committed batch's commit calls again, on the job thread before
 * its first batch: a crash between commits/<batch> and them, or a sink's
 * failed commit, left them undone and nothing else would call them (the
 * input of that batch would never be cleaned, a sink never finalize).
 * Both methods must therefore be idempotent. A sink's failure fails the
 * job as it does at the batch, after the sources committed (as there).
 */
void sl__recovery_recommit(sl_context *ctx)
{
    char why[sizeof ctx->err.text];
    int64_t c = ctx->ck_recommit;
    sl_status st;
    if (c <= 0)
        return;
    ctx->ck_recommit = 0;
    sl__log(&ctx->log, SL_LOG_DEBUG,
            "recovery: batch %lld's sinks and sources commit again",
            (long long)c);
    st = sl__outputs_recommit(ctx, c);
    sl__sources_commit(ctx, c);
    if (st != SL_OK) {
        sl__log(&ctx->log, SL_LOG_ERROR, "recovery: %s",
                sl__ctx_errmsg_copy(ctx, why, sizeof why));
        sl__ctx_fail(ctx, st);
    }
}

void sl__recovery_close(sl_context *ctx)
{
    sl__ckpt_close(ctx->ck);
    ctx->ck = NULL;
}

/* --------------------------------------------------------- per batch */

static sl_status write_failed(sl_context *ctx, const batch *b, const char *what,
                              sl_status st)
{
    sl__ctx_set_error(
        ctx, st, "batch %lld: cannot write its %s: %s", (long long)b->id, what,
        st == SL_ENOMEM ? "out of memory" : sl__ckpt_errmsg(ctx->ck));
    return st;
}

static sl_status write_offsets(sl_context *ctx, batch *b)
{
    sl__buf p = {0};
    sl_status st = offsets_payload(ctx, b, &p);
    if (st == SL_OK)
        st =
            sl__ckpt_log_write(ctx->ck, SL__CKPT_OFFSETS, b->id, p.data, p.len);
    sl__buf_free(&p);
    return st == SL_OK ? SL_OK : write_failed(ctx, b, "offsets entry", st);
}

sl_status sl__recovery_batch_offsets(sl_context *ctx, batch *b)
{
    if (!ctx->ck)
        return SL_OK;
    ctx->ck_bytes0 = sl__ckpt_io_of(ctx->ck)->bytes_written;
    ctx->ck_files0 = sl__ckpt_io_of(ctx->ck)->files_written;
    /* A re-run batch keeps the entry it was recorded with. */
    if (b->replay)
        return SL_OK;
    /* No input (planned sources only): recovery needs this batch only if
     * it changes state, known after prepare; the entry waits till then.
     * A job's last batch (max_batches, a graceful stop) is always
     * recorded, so that a restart after a clean end runs nothing again. */
    if (ctx->nreceivers == 0 && !b->final && sl__batch_planned_empty(b, ctx)) {
        b->ck_deferred = true;
        return SL_OK;
    }
    return write_offsets(ctx, b);
}

/* The commit entry's list of what the sinks wrote. */
typedef struct sink_files {
    sl__buf *out;
    size_t n;
} sink_files;

static sl_status add_sink_file(void *user, const char *sink,
                               const sl_sink_file *f)
{
    sink_files *sf = user;
    sl_status st = buf_printf(sf->out, "%s{\"sink\":", sf->n++ ? "," : "");
    if (st == SL_OK)
        st = buf_json_string(sf->out, sink);
    if (st == SL_OK)
        st = sl__buf_append(sf->out, ",\"path\":", 8);
    if (st == SL_OK)
        st = buf_json_string(sf->out, f->path);
    if (st == SL_OK)
        st = buf_printf(sf->out, ",\"bytes\":%llu,\"crc32\":%lu}",
                        (unsigned long long)f->bytes, (unsigned long)f->crc32);
    return st;
}

/* The checkpoint's own files the batch wrote (recorded by the io), with
 * paths relative to the checkpoint directory. */
static sl_status put_checkpoint_files(sl_context *ctx, sl__buf *p)
{
    const sl__ckpt_io *io = sl__ckpt_io_of(ctx->ck);
    const char *dir = sl__ckpt_dir(ctx->ck);
    size_t dl = strlen(dir), i;
    sl_status st = sl__buf_append(p, "],\"checkpoint_files\":[", 22);
    for (i = 0; i < io->nwritten && st == SL_OK; i++) {
        const sl__ckpt_written *w = &io->written[i];
        const char *rel = w->path;
        if (strncmp(rel, dir, dl) == 0 && rel[dl] == '/')
            rel += dl + 1;
        st = buf_printf(p, "%s{\"path\":", i ? "," : "");
        if (st == SL_OK)
            st = buf_json_string(p, rel);
        if (st == SL_OK)
            st = buf_printf(p, ",\"bytes\":%llu,\"crc32\":%lu}",
                            (unsigned long long)w->bytes,
                            (unsigned long)w->crc32);
    }
    return st;
}

/* The source logs, state deltas and window files of b, recorded so that
 * the commit entry can list them. */
static sl_status write_batch_files(sl_context *ctx, batch *b)
{
    sl__ckpt_io *io = sl__ckpt_io_of(ctx->ck);
    sl_status st;
    sl__ckpt_io_record(io, true);
    if ((st = sl__sources_checkpoint(ctx, b->id)) == SL_OK)
        st = sl__ckpt_write_state(ctx, ctx->ck, b);
    sl__ckpt_io_record(io, false);
    return st;
}

sl_status sl__recovery_batch_commit(sl_context *ctx, batch *b)
{
    sl__buf p = {0};
    sink_files sf = {&p, 0};
    sl_status st;
    if (!ctx->ck)
        return SL_OK;
    /* The stores' deltas and the windows' data of b, before the entry
     * that makes them count (sl__ckpt_log_write syncs their directories);
     * the entry lists them and the files the sinks wrote, with their
     * sizes and checksums, for the restart to verify. */
    if ((st = write_batch_files(ctx, b)) != SL_OK)
        return st;
    st = buf_printf(&p, "{\"batch\":%lld,\"time_ms\":%lld,", (long long)b->id,
                    (long long)b->time_ms);
    /* the watermark the next batch uses: a restart goes on from it */
    if (st == SL_OK && ctx->has_watermark)
        st = buf_printf(&p, "\"watermark_ms\":%lld,",
                        (long long)b->next_watermark_ms);
    if (st == SL_OK)
        st = sl__buf_append(&p, "\"files\":[", 9);
    if (st == SL_OK)
        st = sl__outputs_files(ctx, b, add_sink_file, &sf);
    if (st == SL_OK)
        st = put_checkpoint_files(ctx, &p);
    if (st == SL_OK)
        st = sl__buf_append(&p, "]}", 2);
    if (st != SL_OK)
        goto out;
    if (b->ck_deferred) {
        /* No input, and no state, window or sink file: nothing recovery
         * needs (a gap, made again after a restart if it comes after the
         * last recorded batch). Otherwise its offsets go first, now. */
        if (sl__ckpt_io_of(ctx->ck)->files_written == ctx->ck_files0 &&
            sf.n == 0) {
            b->ck_gap = true;
            goto out;
        }
        if ((st = write_offsets(ctx, b)) != SL_OK)
            goto out;
    }
    st = sl__ckpt_log_write(ctx->ck, SL__CKPT_COMMITS, b->id, p.data, p.len);
    if (st != SL_OK)
        st = write_failed(ctx, b, "commit entry", st);
out:
    sl__buf_free(&p);
    return st;
}

sl_status sl__recovery_batch_done(sl_context *ctx, batch *b)
{
    sl_status st;
    if (!ctx->ck)
        return SL_OK;
    /* A snapshot every snapshot_every batches (synced before retention
     * may drop the deltas it replaces), then retention with the state
     * layer's prune hook. */
    if (b->ck_gap) {
        sl__batch_set_checkpoint_stats(b, 0, 0);
        return SL_OK; /* nothing written: no snapshot, nothing to retain */
    }
    ctx->ck_last_commit = b->id;
    st = sl__ckpt_snapshot_state(ctx, ctx->ck, b->id, ctx->snapshot_every);
    if (st != SL_OK)
        return st;
    st =
        sl__ckpt_retain(ctx->ck, ctx->retain_batches, sl__ckpt_prune_hook, ctx);
    sl__batch_set_checkpoint_stats(
        b, (int64_t)(sl__ckpt_io_of(ctx->ck)->bytes_written - ctx->ck_bytes0),
        (int64_t)(sl__ckpt_io_of(ctx->ck)->files_written - ctx->ck_files0));
    return st == SL_OK ? SL_OK : write_failed(ctx, b, "retention", st);
}

void sl__recovery_final(sl_context *ctx)
{
    sl__errmsg saved;
    bool skip;
    if (!ctx->ck || ctx->ck_last_commit <= 0)
        return;
    /* After a failure or an immediate stop (a second signal: stop at
     * once) the deltas stand; the checkpoint is consistent either way. */
    pthread_mutex_lock(&ctx->lock);
    skip =
        ctx->failure != SL_OK || (ctx->stop_requested && !ctx->stop_graceful);
    pthread_mutex_unlock(&ctx->lock);
    if (skip)
        return;
    /* every = 1: due at any batch. A failure leaves the deltas, which
     * restore just as well; it is only logged, and the handle's error is
     * put back, since the stop succeeds. */
    pthread_mutex_lock(&ctx->err_lock);
    saved = ctx->err;
    pthread_mutex_unlock(&ctx->err_lock);
    if (sl__ckpt_snapshot_state(ctx, ctx->ck, ctx->ck_last_commit, 1) !=
        SL_OK) {
        char why[sizeof ctx->err.text];
        sl__log(&ctx->log, SL_LOG_WARN,
                "final checkpoint snapshot of batch %lld not written: %s",
                (long long)ctx->ck_last_commit,
                sl__ctx_errmsg_copy(ctx, why, sizeof why));
        pthread_mutex_lock(&ctx->err_lock);
        if (!ctx->err_final)
            ctx->err = saved;
        pthread_mutex_unlock(&ctx->err_lock);
    }
}
