/*
 * State store files (src/state): a shard's delta or snapshot encoded with
 * the value codec, compressed with zstd and written as a checked
 * checkpoint file; and the reader that applies one to a store being
 * restored. The layout is in docs/checkpoint-format.md ("State files").
 */
#include "state/state_files.h"

#include <string.h>
#include <zstd.h>

/* zstd level 1: the files are written on the job thread between a batch's
 * outputs and its commit entry, where speed matters more than the last
 * bytes (docs/performance.md has the figures). */
#define ZSTD_LEVEL 1
/* Entry flags. */
#define ENTRY_REMOVED 1u

static uint64_t zigzag(int64_t v)
{
    return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static int64_t unzigzag(uint64_t u)
{
    return (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
}

sl_status sl__state_pack(sl__ckpt_io *io, const char *path, const void *raw,
                         size_t len, sl__buf *out)
{
    size_t bound = ZSTD_compressBound(len), n;
    if (sl__buf_reserve(out, bound) != SL_OK)
        return sl__err(&io->err, SL_ENOMEM, "cannot write %s: out of memory",
                       path);
    n = ZSTD_compress(out->data + out->len, bound, raw, len, ZSTD_LEVEL);
    if (ZSTD_isError(n))
        return sl__err(&io->err, SL_EIO, "cannot write %s: zstd: %s", path,
                       ZSTD_getErrorName(n));
    out->len += n;
    return SL_OK;
}

sl_status sl__state_unpack(sl__ckpt_io *io, const char *path,
                           const void *payload, size_t len, void **raw,
                           size_t *rawlen)
{
    const char *why = "";
    sl_status st = sl__ckpt_unzstd(payload, len, SL__CKPT_STATE_MAX_RAW, raw,
                                   rawlen, &why);
    if (st == SL_ENOMEM)
        return sl__err(&io->err, SL_ENOMEM, "cannot read %s: out of memory",
                       path);
    if (st != SL_OK)
        return sl__err(&io->err, SL_ECORRUPT, "%s: corrupt: zstd: %s", path,
                       why);
    return SL_OK;
}

/* Append one entry: flags, update time, key, value (none for a removal). */
static sl_status put_entry(sl__buf *b, const sl__state_entry *e, bool removed,
                           sl__errmsg *err)
{
    sl_status st;
    if ((st = sl__codec_put_uvarint(b, removed ? ENTRY_REMOVED : 0)) ||
        (st = sl__codec_put_uvarint(b, zigzag(removed ? 0 : e->updated_ms))) ||
        (st = sl__codec_encode(b, &e->key, err)))
        return st;
    return removed ? SL_OK : sl__codec_encode(b, &e->value, err);
}

/* The raw payload of one shard: codec version, shard, shard count,
 * version, base, entry count, entries. pending picks the delta's
 * entries. */
static sl_status encode_shard(const sl__state_store *st, size_t shard,
                              int64_t version, int64_t base, bool pending,
                              sl__buf *b, sl__errmsg *err)
{
    const sl__state_entry *e;
    size_t i = 0, n = 0;
    sl_status s;

    while ((pending ? sl__state_next_pending(st, shard, &i)
                    : sl__state_next(st, shard, &i)))
        n++;
    if ((s = sl__codec_begin(b)) || (s = sl__codec_put_uvarint(b, shard)) ||
        (s = sl__codec_put_uvarint(b, sl__state_shards(st))) ||
        (s = sl__codec_put_uvarint(b, (uint64_t)version)) ||
        (s = sl__codec_put_uvarint(b, zigzag(base))) ||
        (s = sl__codec_put_uvarint(b, n)))
        return s;
    for (i = 0; (e = pending ? sl__state_next_pending(st, shard, &i)
                             : sl__state_next(st, shard, &i));)
        if ((s = put_entry(b, e, pending && sl__state_is_removal(e), err)))
            return s;
    return SL_OK;
}

static sl_status write_shard(sl__ckpt_io *io, const char *path,
                             const sl__state_store *st, size_t shard,
                             int64_t version, int64_t base, bool pending)
{
    sl__buf raw = {0}, packed = {0};
    sl__errmsg err = {{0}, SL_OK};
    sl_status s;

    if (version < 0 || shard >= sl__state_shards(st))
        return sl__err(&io->err, SL_EINVAL, "cannot write %s: bad version",
                       path);
    s = encode_shard(st, shard, version, base, pending, &raw, &err);
    if (s == SL_ENOMEM)
        s = sl__err(&io->err, s, "cannot write %s: out of memory", path);
    else if (s)
        s = sl__err(&io->err, s, "cannot write %s: %s", path, err.text);
    if (s || (s = sl__state_pack(io, path, raw.data, raw.len, &packed)))
        goto out;
    s = sl__ckpt_write_file(io, path,
                            pending ? SL__CKPT_MAGIC_STATE_DELTA
                                    : SL__CKPT_MAGIC_STATE_SNAPSHOT,
                            SL__CKPT_STATE_VERSION, packed.data, packed.len);
out:
    sl__buf_free(&raw);
    sl__buf_free(&packed);
    return s;
}

sl_status sl__state_write_delta(sl__ckpt_io *io, const char *path,
                                const sl__state_store *st, size_t shard,
                                int64_t version)
{
    return write_shard(io, path, st, shard, version, SL__STATE_BASE_UNKNOWN,
                       true);
}

sl_status sl__state_write_delta_on(sl__ckpt_io *io, const char *path,
                                   const sl__state_store *st, size_t shard,
                                   int64_t version, int64_t base)
{
    return write_shard(io, path, st, shard, version, base, true);
}

sl_status sl__state_write_snapshot(sl__ckpt_io *io, const char *path,
                                   const sl__state_store *st, size_t shard,
                                   int64_t version)
{
    return write_shard(io, path, st, shard, version, SL__STATE_BASE_UNKNOWN,
                       false);
}

/* ------------------------------------------------------------ reading */

/* Decoded items come from the entry's arena; strings borrow the payload. */
static void *arena_fn(void *user, size_t size)
{
    return sl__arena_alloc(user, size);
}

/* Read one entry and apply it. */
static sl_status load_entry(sl__codec_reader *r, sl__state_store *st,
                            size_t shard, sl__arena *a, sl__errmsg *err)
{
    sl__codec_alloc al = {arena_fn, a};
    uint64_t flags, t, h;
    sl_value k, v = sl_null();
    sl_status s;

    if (!sl__codec_get_uvarint(&r->pos, r->end, &flags) || flags > 1 ||
        !sl__codec_get_uvarint(&r->pos, r->end, &t))
        return sl__err(err, SL_ECORRUPT, "bad entry header at offset %zu",
                       (size_t)(r->pos - r->start));
    if ((s = sl__codec_read(r, &al, &k, err)) ||
        (!(flags & ENTRY_REMOVED) && (s = sl__codec_read(r, &al, &v, err))))
        return s;
    h = sl__htab_hash(&k);
    if (sl__state_shard_of(st, h) != shard)
        return sl__err(err, SL_ECORRUPT, "a key of another shard at offset %zu",
                       (size_t)(r->pos - r->start));
    if (flags & ENTRY_REMOVED)
        return sl__state_remove(st, &k, h);
    return sl__state_put(st, &k, h, &v, unzigzag(t));
}

/* Check the payload's head (shared with inspect) and apply its entries. */
static sl_status load_raw(const void *raw, size_t len, sl__state_store *st,
                          size_t shard, int64_t *version, int64_t *base,
                          sl__errmsg *err)
{
    sl__codec_reader r;
    sl__ckpt_state_head h;
    sl__arena a;
    sl_status s;

    if ((s = sl__ckpt_state_head_read(&r, raw, len, &h, err)))
        return s;
    if (h.shard != shard || h.shards != sl__state_shards(st))
        return sl__err(
            err, SL_ECORRUPT, "shard %llu of %llu, expected %zu of %zu",
            (unsigned long long)h.shard, (unsigned long long)h.shards, shard,
            sl__state_shards(st));
    sl__arena_init(&a, 4096);
    s = SL_OK;
    for (uint64_t i = 0; i < h.entries && !s; i++) {
        s = load_entry(&r, st, shard, &a, err);
        sl__arena_reset(&a);
    }
    sl__arena_free(&a);
    if (!s && !sl__codec_reader_done(&r))
        s = sl__err(err, SL_ECORRUPT, "%zu bytes after the last entry",
                    (size_t)(r.end - r.pos));
    *version = h.version;
    *base = h.base;
    return s;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcmp(s + n - m, suffix);
}

sl_status sl__state_load_file(sl__ckpt_io *io, const char *path,
                              sl__state_store *st, size_t shard,
                              int64_t *version)
{
    int64_t base;
    return sl__state_load_file_on(io, path, st, shard, version, &base);
}

sl_status sl__state_load_file_on(sl__ckpt_io *io, const char *path,
                                 sl__state_store *st, size_t shard,
                                 int64_t *version, int64_t *base)
{
    sl__errmsg err = {{0}, SL_OK};
    void *payload = NULL, *raw = NULL;
    size_t len, rawlen;
    uint32_t magic = ends_with(path, ".snapshot")
                         ? SL__CKPT_MAGIC_STATE_SNAPSHOT
                         : SL__CKPT_MAGIC_STATE_DELTA;
    sl_status s = sl__ckpt_read_file(io, path, magic, SL__CKPT_STATE_VERSION,
                                     &payload, &len, NULL);

    if (s || (s = sl__state_unpack(io, path, payload, len, &raw, &rawlen)))
        goto out;
    s = load_raw(raw, rawlen, st, shard, version, base, &err);
    if (s == SL_ENOMEM)
        s = sl__err(&io->err, s, "cannot read %s: out of memory", path);
    else if (s)
        s = sl__err(&io->err, SL_ECORRUPT, "%s: corrupt: %s", path, err.text);
out:
    sl_free(payload);
    sl_free(raw);
    return s;
}
