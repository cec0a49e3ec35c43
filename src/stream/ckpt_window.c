/*
 * Window data of a checkpoint (src/stream): per batch, the ring entry that
 * entered (the parent's batch at this time, or "no batch") and the inverse
 * form's new previous result, as windows/<op>/<batch>.window; restored at
 * recovery from those files, never by reading inputs again. Drops are not
 * written: they follow from the times (docs/checkpoint-format.md, "Window
 * files").
 */
#include "stream/ckpt_state.h"

#include "core/codec.h"
#include "state/state_files.h"

#include <stdio.h>
#include <string.h>

#define HAS_ENTRY 1u
#define HAS_PREV 2u

static uint64_t zigzag(int64_t v)
{
    return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static int64_t unzigzag(uint64_t u)
{
    return (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
}

/* A retained RDD (or none): 0, or 1 + partitions, each its count and
 * values. */
static sl_status put_rdd(sl__buf *b, const sl__retained *k, sl__errmsg *err)
{
    size_t p, i, n;
    const sl_value *v;
    sl_status st = sl__codec_put_uvarint(b, k ? 1 + sl__retained_parts(k) : 0);
    for (p = 0; k && !st && p < sl__retained_parts(k); p++) {
        v = sl__retained_part(k, p, &n);
        st = sl__codec_put_uvarint(b, n);
        for (i = 0; i < n && !st; i++)
            st = sl__codec_encode(b, &v[i], err);
    }
    return st;
}

static sl_status encode_window(const sl_dstream *s, sl__buf *b, sl__errmsg *err)
{
    unsigned flags =
        (s->ring_new ? HAS_ENTRY : 0) | (s->next_result ? HAS_PREV : 0);
    sl_status st;
    if ((st = sl__codec_begin(b)) || (st = sl__codec_put_uvarint(b, flags)))
        return st;
    if (s->ring_new &&
        ((st = sl__codec_put_uvarint(b, zigzag(s->ring_new->time_ms))) ||
         (st = put_rdd(b, s->ring_new->rdd, err))))
        return st;
    if (s->next_result &&
        ((st = sl__codec_put_uvarint(b, zigzag(s->next_time))) ||
         (st = put_rdd(b, s->next_result, err))))
        return st;
    return SL_OK;
}

sl_status sl__ckpt_write_window(sl_context *ctx, sl__ckpt *ck, sl_dstream *s,
                                const batch *b)
{
    sl__ckpt_io *io = sl__ckpt_io_of(ck);
    char path[SL__CKPT_PATH_MAX];
    sl__buf raw = {0}, packed = {0};
    sl__errmsg err = {{0}, SL_OK};
    sl_status st;

    if (!s->ring_new && !s->next_result)
        return SL_OK; /* nothing entered: the batch writes nothing */
    if (!sl__ckpt_op_path(ctx, ck, "windows", s, path))
        return SL_EINVAL;
    if ((st = sl__ckpt_mkdirs(io, path)) != SL_OK)
        goto io_fail;
    sl__ckpt_path(path + strlen(path), "/%lld.window", (long long)b->id);
    if ((st = encode_window(s, &raw, &err)) != SL_OK) {
        sl__ctx_set_error(ctx, st, "checkpoint: cannot write %s: %s", path,
                          st == SL_ENOMEM ? "out of memory" : err.text);
        goto out;
    }
    if ((st = sl__state_pack(io, path, raw.data, raw.len, &packed)) ||
        (st = sl__ckpt_write_file(io, path, SL__WINDOW_MAGIC,
                                  SL__WINDOW_FILE_VERSION, packed.data,
                                  packed.len)))
        goto io_fail;
    goto out;
io_fail:
    sl__ctx_set_error(ctx, st, "checkpoint: %s", sl__ckpt_io_errmsg(io));
out:
    sl__buf_free(&raw);
    sl__buf_free(&packed);
    return st;
}

/* ------------------------------------------------------------ restore */

/* Where a restore is: the newest entry's time, and what is complete. */
typedef struct win_restore {
    sl_dstream *s;
    sl__ckpt_io *io;
    const char *path;
    bool have_newest, entries_done, prev_done;
    int64_t newest, cut;
    sl__arena arena;
} win_restore;

static void *arena_fn(void *user, size_t size)
{
    return sl__arena_alloc(user, size);
}

/* Decode an RDD written by put_rdd into the arena: *nparts partitions
 * (SIZE_MAX: no batch). */
static sl_status get_rdd(win_restore *w, sl__codec_reader *r,
                         const sl_value ***parts, size_t **lens, size_t *nparts,
                         sl__errmsg *err)
{
    sl__codec_alloc al = {arena_fn, &w->arena};
    uint64_t np, n, p, i;
    sl_value *v;
    sl_status st;

    if (!sl__codec_get_uvarint(&r->pos, r->end, &np) ||
        np > (uint64_t)(r->end - r->pos) + 1)
        return sl__err(err, SL_ECORRUPT, "bad partition count");
    *nparts = np ? (size_t)np - 1 : SIZE_MAX;
    *parts =
        np > 1 ? sl__arena_alloc(&w->arena, (np - 1) * sizeof **parts) : NULL;
    *lens =
        np > 1 ? sl__arena_alloc(&w->arena, (np - 1) * sizeof **lens) : NULL;
    if (np > 1 && (!*parts || !*lens))
        return SL_ENOMEM;
    for (p = 0; p + 1 < np; p++) {
        if (!sl__codec_get_uvarint(&r->pos, r->end, &n) ||
            n > (uint64_t)(r->end - r->pos))
            return sl__err(err, SL_ECORRUPT, "bad record count");
        if (!(v = sl__arena_alloc(&w->arena, (n ? n : 1) * sizeof *v)))
            return SL_ENOMEM;
        for (i = 0; i < n; i++)
            if ((st = sl__codec_read(r, &al, &v[i], err)) != SL_OK)
                return st;
        (*parts)[p] = v;
        (*lens)[p] = (size_t)n;
    }
    return SL_OK;
}

/* One part (entry or previous result) of a file: read, apply if needed. */
static sl_status get_part(win_restore *w, sl__codec_reader *r, bool prev,
                          sl__errmsg *err)
{
    const sl_value **parts = NULL;
    size_t *lens = NULL, np = SIZE_MAX;
    uint64_t t;
    int64_t time;
    sl_status st;

    if (!sl__codec_get_uvarint(&r->pos, r->end, &t))
        return sl__err(err, SL_ECORRUPT, "truncated time");
    time = unzigzag(t);
    if ((st = get_rdd(w, r, &parts, &lens, &np, err)) != SL_OK)
        return st;
    if (prev) {
        if (w->prev_done)
            return SL_OK;
        w->prev_done = true;
        return sl__window_restore_prev(w->s, time, parts, lens,
                                       np == SIZE_MAX ? 0 : np);
    }
    if (!w->have_newest) {
        w->have_newest = true;
        w->newest = time;
    }
    if (w->entries_done || time <= w->newest - w->cut) {
        w->entries_done = true;
        return SL_OK;
    }
    return sl__window_restore_put(w->s, time, np == SIZE_MAX ? NULL : parts,
                                  lens, np == SIZE_MAX ? 0 : np);
}

static sl_status load_raw(win_restore *w, const void *raw, size_t len,
                          sl__errmsg *err)
{
    sl__codec_reader r;
    uint64_t flags;
    sl_status st;

    if ((st = sl__codec_reader_init(&r, raw, len, SL__CODEC_BORROW, err)))
        return st;
    if (!sl__codec_get_uvarint(&r.pos, r.end, &flags) ||
        flags > (HAS_ENTRY | HAS_PREV))
        return sl__err(err, SL_ECORRUPT, "bad flags");
    if ((flags & HAS_ENTRY) && (st = get_part(w, &r, false, err)))
        return st;
    if ((flags & HAS_PREV) && (st = get_part(w, &r, true, err)))
        return st;
    if (!sl__codec_reader_done(&r))
        return sl__err(err, SL_ECORRUPT, "%zu bytes after the data",
                       (size_t)(r.end - r.pos));
    return SL_OK;
}

static sl_status load_file(win_restore *w)
{
    sl__errmsg err = {{0}, SL_OK};
    void *payload = NULL, *raw = NULL;
    size_t len, rawlen;
    sl_status st =
        sl__ckpt_read_file(w->io, w->path, SL__WINDOW_MAGIC,
                           SL__WINDOW_FILE_VERSION, &payload, &len, NULL);
    if (st ||
        (st = sl__state_unpack(w->io, w->path, payload, len, &raw, &rawlen)))
        goto out;
    st = load_raw(w, raw, rawlen, &err);
    if (st == SL_ENOMEM)
        sl__err(&w->io->err, st, "cannot read %s: out of memory", w->path);
    else if (st == SL_EINVAL)
        st = sl__err(&w->io->err, SL_ECORRUPT,
                     "%s: corrupt: a time repeated or a result on a plain "
                     "window",
                     w->path);
    else if (st)
        st = sl__err(&w->io->err, SL_ECORRUPT, "%s: corrupt: %s", w->path,
                     err.text);
out:
    sl__arena_reset(&w->arena);
    sl_free(payload);
    sl_free(raw);
    return st;
}

/* Newest file first: the newest entry fixes which older ones the ring
 * still held (those after its time minus the window and, for the inverse
 * form, the slide: ring_push's cut), the newest result is the previous
 * one. Files after version belong to batches that never committed. */
static sl_status restore_files(win_restore *w, const char *dir,
                               const int64_t *v, size_t n, int64_t version)
{
    char path[SL__CKPT_PATH_MAX];
    sl_status st = SL_OK;
    size_t i;

    w->path = path;
    for (i = n; i > 0 && !st; i--) {
        sl__ckpt_path(path, "%s/%lld.window", dir, (long long)v[i - 1]);
        if (v[i - 1] > version)
            st = sl__ckpt_unlink(w->io, path);
        else if (!w->entries_done || !w->prev_done)
            st = load_file(w);
    }
    return st;
}

sl_status sl__ckpt_restore_window(sl_context *ctx, sl__ckpt *ck, sl_dstream *s,
                                  int64_t version)
{
    char dir[SL__CKPT_PATH_MAX];
    win_restore w;
    int64_t *v = NULL;
    size_t n;
    sl_status st;

    if (!sl__ckpt_op_path(ctx, ck, "windows", s, dir))
        return SL_EINVAL;
    memset(&w, 0, sizeof w);
    w.s = s;
    w.io = sl__ckpt_io_of(ck);
    w.prev_done = s->kind != DS_REDUCED_WINDOW;
    w.cut = s->window_ms + (s->kind == DS_REDUCED_WINDOW ? s->slide_ms : 0);
    sl__arena_init(&w.arena, 4096);
    sl__window_restore_begin(s);
    if (!(st = sl__ckpt_list_versions(w.io, dir, ".window", &v, &n)))
        st = restore_files(&w, dir, v, n, version);
    sl__arena_free(&w.arena);
    sl_free(v);
    if (st) {
        sl__window_restore_begin(s); /* nothing half restored */
        sl__ctx_set_error(ctx, st, "checkpoint: %s", sl__ckpt_io_errmsg(w.io));
    }
    return st;
}

sl_status sl__ckpt_prune_window(sl_context *ctx, sl__ckpt *ck, sl_dstream *s,
                                int64_t keep_from)
{
    char dir[SL__CKPT_PATH_MAX], path[SL__CKPT_PATH_MAX];
    sl__ckpt_io *io = sl__ckpt_io_of(ck);
    int64_t *v = NULL, span, parent_slide;
    size_t n, i;
    sl_status st;

    if (!sl__ckpt_op_path(ctx, ck, "windows", s, dir))
        return SL_EINVAL;
    /* A restore of keep_from reads entries back to its last push minus
     * the cut (the parent's slide before it at most), and the previous
     * result of its last slide: keep a window, two slides and the
     * parent's slide, in batches, and one more. */
    parent_slide = s->parents[0]->slide_ms;
    span =
        (s->window_ms + 2 * s->slide_ms + parent_slide) / s->ctx->interval_ms +
        1;
    if ((st = sl__ckpt_list_versions(io, dir, ".window", &v, &n)))
        goto out;
    for (i = 0; i < n && !st && v[i] < keep_from - span; i++) {
        sl__ckpt_path(path, "%s/%lld.window", dir, (long long)v[i]);
        st = sl__ckpt_unlink(io, path);
    }
out:
    sl_free(v);
    return st;
}
