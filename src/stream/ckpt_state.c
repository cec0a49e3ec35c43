/*
 * State store files of a checkpoint, the stream layer's side: which shards
 * a batch writes (changed ones only), periodic snapshots, the restore of
 * every store at recovery (newest snapshot, then the later deltas, each
 * delta checked against its base), and retention and rollback by file
 * name. Window files are ckpt_window.c's; the format is state_files.c's.
 */
#include "stream/ckpt_state.h"

#include "state/state_files.h"
#include "state/store.h"

#include <stdio.h>
#include <sys/stat.h>

bool sl__ckpt_op_dirname(const char *name, char *out, size_t cap)
{
    static const char hex[] = "0123456789ABCDEF";
    const unsigned char *p = (const unsigned char *)name;
    size_t o = 0;

    if (!name || !*name)
        return false;
    for (; *p; p++) {
        bool plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                     (*p >= '0' && *p <= '9') || *p == '_' || *p == '-' ||
                     (*p == '.' && p != (const unsigned char *)name);
        if (o + (plain ? 1 : 3) >= cap)
            return false;
        if (plain) {
            out[o++] = (char)*p;
        } else {
            out[o++] = '%';
            out[o++] = hex[*p >> 4];
            out[o++] = hex[*p & 15];
        }
    }
    out[o] = '\0';
    return true;
}

/* An unnamed window (such as the one inside reduce_by_key_and_window
 * without an inverse) is named by its place among the context's windows,
 * oldest first: "~window-<k>". Escaped names never start with '~' (it is
 * escaped as %7E), so these cannot clash with a user's name; the
 * checkpoint's fingerprint keeps the pipeline's shape, so k is stable. */
static void window_ordinal(const sl_dstream *s, char *out, size_t cap)
{
    const sl_dstream *o;
    size_t k = 0;
    for (o = s->next_in_ctx; o; o = o->next_in_ctx)
        k += sl__is_window(o);
    snprintf(out, cap, "~window-%zu", k);
}

bool sl__ckpt_op_path(sl_context *ctx, sl__ckpt *ck, const char *top,
                      const sl_dstream *s, char *out)
{
    char op[256]; /* NAME_MAX + 1 */
    if (!s->name && sl__is_window(s)) {
        window_ordinal(s, op, sizeof op);
    } else if (!s->name) {
        sl__ctx_set_error(ctx, SL_EINVAL,
                          "checkpoint: a stateful stream has no name "
                          "(sl_dstream_set_name)");
        return false;
    } else if (!sl__ckpt_op_dirname(s->name, op, sizeof op)) {
        goto too_long;
    }
    if (snprintf(out, SL__CKPT_PATH_MAX, "%s/%s/%s", sl__ckpt_dir(ck), top,
                 op) < SL__CKPT_PATH_MAX - SL__CKPT_PATH_ROOM)
        return true;
too_long:
    sl__ctx_set_error(ctx, SL_EINVAL,
                      "checkpoint: the path of stream \"%s\" is too long "
                      "(names: %zu bytes escaped at most)",
                      s->name ? s->name : op, sizeof op - 1);
    return false;
}

/* The context's error from the io's (which names the path). */
static sl_status io_failed(sl_context *ctx, sl__ckpt *ck, sl_status st)
{
    sl__ctx_set_error(ctx, st, "checkpoint: %s",
                      sl__ckpt_io_errmsg(sl__ckpt_io_of(ck)));
    return st;
}

/* The newest file version of shard directory dir (-1: none). */
static sl_status newest_file(sl__ckpt_io *io, const char *dir, int64_t *out)
{
    int64_t *v;
    size_t n;
    sl_status st = sl__ckpt_list_versions(io, dir, ".delta", &v, &n);
    *out = -1;
    if (!st && n)
        *out = v[n - 1];
    sl_free(v);
    if (!st && !(st = sl__ckpt_list_versions(io, dir, ".snapshot", &v, &n)) &&
        n && v[n - 1] > *out)
        *out = v[n - 1];
    sl_free(v);
    return st;
}

/* s->ckpt_last, from the directory the first time. */
static sl_status load_last(sl_context *ctx, sl__ckpt *ck, sl_dstream *s,
                           const char *dir)
{
    size_t sh, n = sl__state_shards(s->store);
    char path[SL__CKPT_PATH_MAX];
    sl_status st = SL_OK;

    if (s->ckpt_last)
        return SL_OK;
    if (!(s->ckpt_last = sl_malloc(n * sizeof *s->ckpt_last))) {
        sl__ctx_set_error(ctx, SL_ENOMEM, "checkpoint: out of memory");
        return SL_ENOMEM;
    }
    for (sh = 0; sh < n && !st; sh++) {
        sl__ckpt_path(path, "%s/%zu", dir, sh);
        st = newest_file(sl__ckpt_io_of(ck), path, &s->ckpt_last[sh]);
    }
    return st ? io_failed(ctx, ck, st) : SL_OK;
}

/* Write shard sh's delta (pending writes) or snapshot (committed entries)
 * of version into dir/<sh>/. */
static sl_status write_file(sl_context *ctx, sl__ckpt *ck, sl_dstream *s,
                            const char *dir, size_t sh, int64_t version,
                            bool delta)
{
    sl__ckpt_io *io = sl__ckpt_io_of(ck);
    char path[SL__CKPT_PATH_MAX];
    sl_status st;

    sl__ckpt_path(path, "%s/%zu", dir, sh);
    if ((st = sl__ckpt_mkdirs(io, path)) != SL_OK)
        return io_failed(ctx, ck, st);
    sl__ckpt_path(path, "%s/%zu/%lld.%s", dir, sh, (long long)version,
                  delta ? "delta" : "snapshot");
    st = delta ? sl__state_write_delta_on(io, path, s->store, sh, version,
                                          s->ckpt_last[sh])
               : sl__state_write_snapshot(io, path, s->store, sh, version);
    if (st != SL_OK)
        return io_failed(ctx, ck, st);
    s->ckpt_last[sh] = version;
    return SL_OK;
}

/* The deltas of one store for batch id; a store written for the first
 * time that has committed entries (an initial state, version 0) is
 * snapshotted first, since no delta holds them. */
static sl_status write_store(sl_context *ctx, sl__ckpt *ck, sl_dstream *s,
                             int64_t id)
{
    char dir[SL__CKPT_PATH_MAX];
    size_t sh, i, n = sl__state_shards(s->store);
    int64_t committed = sl__state_version(s->store);
    struct stat sb;
    bool first;
    sl_status st = SL_OK;

    if (!sl__ckpt_op_path(ctx, ck, "state", s, dir))
        return SL_EINVAL;
    first = stat(dir, &sb) != 0;
    if ((st = load_last(ctx, ck, s, dir)) != SL_OK)
        return st;
    for (sh = 0; sh < n && !st; sh++) {
        i = 0;
        if (first && committed >= 0 && sl__state_next(s->store, sh, &i))
            st = write_file(ctx, ck, s, dir, sh, committed, false);
        if (!st && sl__state_shard_changed(s->store, sh))
            st = write_file(ctx, ck, s, dir, sh, id, true);
    }
    return st;
}

sl_status sl__ckpt_write_state(sl_context *ctx, sl__ckpt *ck, const batch *b)
{
    sl_dstream *s;
    sl_status st = SL_OK;
    for (s = ctx->streams; s && !st; s = s->next_in_ctx) {
        if (sl__is_stateful(s) && s->store && sl__state_pending(s->store))
            st = write_store(ctx, ck, s, b->id);
        else if (sl__is_window(s))
            st = sl__ckpt_write_window(ctx, ck, s, b);
    }
    return st;
}

sl_status sl__ckpt_snapshot_state(sl_context *ctx, sl__ckpt *ck, int64_t id,
                                  int64_t every)
{
    char dir[SL__CKPT_PATH_MAX];
    sl_dstream *s;
    size_t sh;
    sl_status st = SL_OK;

    if (every <= 0 || id % every != 0)
        return SL_OK;
    for (s = ctx->streams; s && !st; s = s->next_in_ctx) {
        if (!sl__is_stateful(s) || !s->store)
            continue;
        if (!sl__ckpt_op_path(ctx, ck, "state", s, dir))
            return SL_EINVAL;
        if ((st = load_last(ctx, ck, s, dir)) != SL_OK)
            return st;
        for (sh = 0; sh < sl__state_shards(s->store) && !st; sh++)
            st = write_file(ctx, ck, s, dir, sh, id, false);
    }
    /* Durable before retention may delete the deltas it replaces. */
    if (!st && (st = sl__ckpt_io_sync_dirs(sl__ckpt_io_of(ck))) != SL_OK)
        return io_failed(ctx, ck, st);
    return st;
}

/* ------------------------------------------------------------ restore */

/* Load shard dir's delta of version d, checking it follows *last. */
static sl_status load_delta(sl__ckpt_io *io, sl__state_store *st,
                            const char *dir, size_t sh, int64_t d,
                            int64_t *last)
{
    char path[SL__CKPT_PATH_MAX];
    int64_t v, base;
    sl_status rc;

    sl__ckpt_path(path, "%s/%lld.delta", dir, (long long)d);
    if ((rc = sl__state_load_file_on(io, path, st, sh, &v, &base)) != SL_OK)
        return rc;
    if (v != d)
        return sl__err(&io->err, SL_ECORRUPT, "%s: corrupt: holds version %lld",
                       path, (long long)v);
    /* The same check (and message) as `checkpoint inspect`'s. */
    if ((rc = sl__ckpt_state_follows(io, dir, d, base, *last)) != SL_OK)
        return rc;
    *last = d;
    return SL_OK;
}

/* One shard: its newest snapshot <= version, then the later deltas. */
static sl_status restore_shard(sl__ckpt_io *io, sl__state_store *st,
                               const char *dir, size_t sh, int64_t version,
                               int64_t *last)
{
    char path[SL__CKPT_PATH_MAX];
    int64_t *snap = NULL, *del = NULL, v;
    size_t ns = 0, nd = 0, i;
    sl_status rc;

    *last = -1;
    if ((rc = sl__ckpt_list_versions(io, dir, ".snapshot", &snap, &ns)) ||
        (rc = sl__ckpt_list_versions(io, dir, ".delta", &del, &nd)))
        goto out;
    for (i = ns; i > 0 && *last < 0; i--)
        if (snap[i - 1] <= version)
            *last = snap[i - 1];
    if (*last >= 0) {
        sl__ckpt_path(path, "%s/%lld.snapshot", dir, (long long)*last);
        if ((rc = sl__state_load_file(io, path, st, sh, &v)) != SL_OK)
            goto out;
    }
    for (i = 0; i < nd && !rc; i++)
        if (del[i] > *last && del[i] <= version)
            rc = load_delta(io, st, dir, sh, del[i], last);
    if (!rc &&
        !(rc = sl__ckpt_drop_after(io, dir, ".snapshot", snap, ns, version)))
        rc = sl__ckpt_drop_after(io, dir, ".delta", del, nd, version);
out:
    sl_free(snap);
    sl_free(del);
    return rc;
}

static sl_status restore_store(sl_context *ctx, sl__ckpt *ck, sl_dstream *s,
                               int64_t version)
{
    char dir[SL__CKPT_PATH_MAX], path[SL__CKPT_PATH_MAX];
    size_t sh, n = sl__state_shards(s->store);
    sl_status st;

    if (!sl__ckpt_op_path(ctx, ck, "state", s, dir))
        return SL_EINVAL;
    sl_free(s->ckpt_last);
    if (!(s->ckpt_last = sl_malloc(n * sizeof *s->ckpt_last))) {
        sl__ctx_set_error(ctx, SL_ENOMEM, "checkpoint: out of memory");
        return SL_ENOMEM;
    }
    if ((st = sl__state_restore_begin(s->store, version)) != SL_OK) {
        sl__ctx_set_error(ctx, st, "checkpoint: cannot restore %s", s->name);
        return st;
    }
    for (sh = 0, st = SL_OK; sh < n && !st; sh++) {
        sl__ckpt_path(path, "%s/%zu", dir, sh);
        st = restore_shard(sl__ckpt_io_of(ck), s->store, path, sh, version,
                           &s->ckpt_last[sh]);
    }
    if (st) {
        sl__state_abort(s->store);
        return io_failed(ctx, ck, st);
    }
    if ((st = sl__state_restore_end(s->store)) != SL_OK)
        sl__ctx_set_error(ctx, st, "checkpoint: cannot restore %s: %s", s->name,
                          sl_strerror(st));
    return st;
}

sl_status sl__ckpt_restore_state(sl_context *ctx, sl__ckpt *ck, int64_t version)
{
    sl_dstream *s;
    sl_status st = SL_OK;
    for (s = ctx->streams; s && !st; s = s->next_in_ctx) {
        if (sl__is_stateful(s) && s->store)
            st = restore_store(ctx, ck, s, version);
        else if (sl__is_window(s))
            st = sl__ckpt_restore_window(ctx, ck, s, version);
    }
    /* The files of batches after version are gone for good before the
     * first of them is run again. */
    if (!st && (st = sl__ckpt_io_sync_dirs(sl__ckpt_io_of(ck))) != SL_OK)
        return io_failed(ctx, ck, st);
    return st;
}

/* ------------------------------------------------- retention, rollback */

sl_status sl__ckpt_prune_hook(void *user, sl__ckpt *ck, int64_t first_kept,
                              int64_t last_kept)
{
    sl_context *ctx = user;
    sl_dstream *s;
    sl_status st;

    st = sl__ckpt_prune_names(NULL, ck, first_kept, last_kept);
    for (s = ctx ? ctx->streams : NULL; s && !st; s = s->next_in_ctx)
        if (sl__is_window(s) && first_kept > INT64_MIN)
            st = sl__ckpt_prune_window(ctx, ck, s, first_kept);
    if (st && ctx)
        return io_failed(ctx, ck, st);
    return st;
}

sl_status sl__ckpt_prune_state(sl_context *ctx, sl__ckpt *ck, int64_t keep_from)
{
    return sl__ckpt_prune_hook(ctx, ck, keep_from, INT64_MAX);
}
