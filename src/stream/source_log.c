/*
 * Source logs: what a planned source remembers beyond a batch's offsets
 * (the directory source's seen files, later Kafka's offsets), kept as
 * versioned files sources/<source>/<batch>.log in the checkpoint. The
 * engine hands a source a handle in its checkpoint and recover methods;
 * the files are written before the batch's commit entry, which syncs
 * their directory (docs/checkpoint-format.md, "Source logs").
 */
#include "stream/ckpt_state.h"
#include "stream/source_log.h"

#include <string.h>

struct sl_source_log {
    sl_context *ctx;
    sl__ckpt *ck;
    int64_t batch;
    bool writing;   /* inside checkpoint (else recover) */
    bool io_failed; /* the io's message says what failed */
    char dir[SL__CKPT_PATH_MAX];
};

/* The log of planned source s for batch: false (context error) when its
 * directory's path does not fit. */
static bool log_init(sl_context *ctx, sl_dstream *s, int64_t batch_id,
                     bool writing, sl_source_log *log)
{
    memset(log, 0, sizeof *log);
    log->ctx = ctx;
    log->ck = ctx->ck;
    log->batch = batch_id;
    log->writing = writing;
    return sl__ckpt_op_path(ctx, ctx->ck, "sources", s, log->dir);
}

sl_status sl_source_log_write(sl_source_log *log, const void *data, size_t len)
{
    char path[SL__CKPT_PATH_MAX];
    sl__ckpt_io *io;
    sl_status st;
    if (!log || !log->writing || (len && !data))
        return SL_EINVAL;
    io = sl__ckpt_io_of(log->ck);
    if (!sl__ckpt_path(path, "%s/%lld.log", log->dir, (long long)log->batch))
        return SL_EINVAL;
    st = sl__ckpt_mkdirs(io, log->dir);
    if (st == SL_OK)
        st = sl__ckpt_write_file(io, path, SL__SOURCE_LOG_MAGIC,
                                 SL__SOURCE_LOG_VERSION, data, len);
    log->io_failed = st != SL_OK;
    return st;
}

sl_status sl_source_log_read(sl_source_log *log, void **data, size_t *len)
{
    char path[SL__CKPT_PATH_MAX];
    int64_t *v = NULL, pick = -1;
    size_t n = 0, i;
    sl__ckpt_io *io;
    sl_status st;
    if (!log || log->writing || !data || !len)
        return SL_EINVAL;
    io = sl__ckpt_io_of(log->ck);
    if ((st = sl__ckpt_list_versions(io, log->dir, ".log", &v, &n)) != SL_OK) {
        log->io_failed = true;
        return st;
    }
    for (i = 0; i < n; i++)
        if (v[i] <= log->batch)
            pick = v[i];
    sl_free(v);
    if (pick < 0)
        return SL_ENOTFOUND;
    if (!sl__ckpt_path(path, "%s/%lld.log", log->dir, (long long)pick))
        return SL_EINVAL;
    st = sl__ckpt_read_file(io, path, SL__SOURCE_LOG_MAGIC,
                            SL__SOURCE_LOG_VERSION, data, len, NULL);
    /* A file listed a moment ago and missing now is as bad as a damaged
     * one: the io's message names it either way. */
    log->io_failed = st != SL_OK;
    return st;
}

static const char *src_name(const sl_dstream *s)
{
    return s->name ? s->name : s->planned->name;
}

static bool has(const sl_planned_ops *ops, bool checkpoint)
{
    return ops->version >= 4 && (checkpoint ? ops->checkpoint : ops->recover);
}

sl_status sl__sources_checkpoint(sl_context *ctx, int64_t batch_id)
{
    sl_source_log log;
    size_t i;
    sl_status st;
    for (i = 0; i < ctx->nplanned; i++) {
        sl_dstream *s = ctx->planned[i];
        if (!has(s->planned, true))
            continue;
        if (!log_init(ctx, s, batch_id, true, &log))
            return SL_EINVAL;
        st = s->planned->checkpoint(s->planned_state, batch_id, &log);
        if (st != SL_OK) {
            sl__ctx_set_error(
                ctx, st, "batch %lld: source %s cannot write its log: %s",
                (long long)batch_id, src_name(s),
                log.io_failed ? sl__ckpt_io_errmsg(sl__ckpt_io_of(ctx->ck))
                              : sl_strerror(st));
            return st;
        }
    }
    return SL_OK;
}

/* The versions of s's log after `after` (batches that never committed),
 * deleted before the source reads its log. */
static sl_status drop_later(sl_context *ctx, const sl_source_log *log,
                            int64_t after)
{
    sl__ckpt_io *io = sl__ckpt_io_of(ctx->ck);
    int64_t *v = NULL;
    size_t n = 0;
    sl_status st = sl__ckpt_list_versions(io, log->dir, ".log", &v, &n);
    if (st == SL_OK)
        st = sl__ckpt_drop_after(io, log->dir, ".log", v, n, after);
    sl_free(v);
    if (st != SL_OK)
        sl__ctx_set_error(ctx, st, "checkpoint: %s", sl__ckpt_io_errmsg(io));
    return st;
}

/*
 * Nothing committed yet: every source's log as of its (first) start, as
 * version 0, durable before the first batch runs. Without it, what a
 * source keeps from its first start (the directory source's started_ms,
 * which decides what was "existing") would first be written with batch
 * 1's commit, and a crash before that would make the restart a new
 * first start: files moved in meanwhile would count as existing and
 * never be read. A source that recovered version 0 writes nothing.
 */
static sl_status first_start_logs(sl_context *ctx)
{
    sl__ckpt_io *io = sl__ckpt_io_of(ctx->ck);
    sl_status st = sl__sources_checkpoint(ctx, 0);
    if (st == SL_OK && (st = sl__ckpt_io_sync_dirs(io)) != SL_OK)
        sl__ctx_set_error(ctx, st, "checkpoint: %s", sl__ckpt_io_errmsg(io));
    return st;
}

sl_status sl__sources_recover(sl_context *ctx, int64_t committed)
{
    sl_source_log log;
    size_t i;
    sl_status st;
    for (i = 0; i < ctx->nplanned; i++) {
        sl_dstream *s = ctx->planned[i];
        if (!log_init(ctx, s, committed, false, &log))
            return SL_EINVAL;
        if ((st = drop_later(ctx, &log, committed)) != SL_OK)
            return st;
        if (!has(s->planned, false))
            continue;
        st = s->planned->recover(s->planned_state, committed, &log);
        if (st != SL_OK) {
            /* The io's message names the file; otherwise the source
             * could not use what it read: name the log's directory. */
            if (log.io_failed)
                sl__ctx_set_error(
                    ctx, st, "source %s cannot recover after batch %lld: %s",
                    src_name(s), (long long)committed,
                    sl__ckpt_io_errmsg(sl__ckpt_io_of(ctx->ck)));
            else
                sl__ctx_set_error(ctx, st,
                                  "source %s cannot recover after batch "
                                  "%lld from its log in %s: %s",
                                  src_name(s), (long long)committed, log.dir,
                                  sl_strerror(st));
            return st;
        }
    }
    return committed <= 0 ? first_start_logs(ctx) : SL_OK;
}
