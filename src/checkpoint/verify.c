/*
 * Checks a restart and `streamctl checkpoint inspect` share, so that
 * inspect names exactly what a restart would refuse for: a state file's
 * header and payload head (the state layer applies the entries), the
 * order of a shard's delta chain, and the files the last commit entry
 * lists. docs/checkpoint-format.md ("State files", "Commit entries").
 */
#include "checkpoint/checkpoint.h"

#include "core/records.h"

#include <cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int64_t unzigzag(uint64_t u)
{
    return (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
}

sl_status sl__ckpt_state_head_read(sl__codec_reader *r, const void *raw,
                                   size_t len, sl__ckpt_state_head *h,
                                   sl__errmsg *err)
{
    uint64_t f[5];
    sl_status s;

    if ((s = sl__codec_reader_init(r, raw, len, SL__CODEC_BORROW, err)))
        return s;
    for (int i = 0; i < 5; i++)
        if (!sl__codec_get_uvarint(&r->pos, r->end, &f[i]))
            return sl__err(err, SL_ECORRUPT, "truncated file header");
    if (f[0] >= f[1] || f[2] > INT64_MAX)
        return sl__err(err, SL_ECORRUPT, "shard %llu of %llu, version %llu",
                       (unsigned long long)f[0], (unsigned long long)f[1],
                       (unsigned long long)f[2]);
    h->shard = f[0];
    h->shards = f[1];
    h->version = (int64_t)f[2];
    h->base = unzigzag(f[3]);
    h->entries = f[4];
    return SL_OK;
}

/* Decode every entry after the head (flags, update time, key, value),
 * as the state layer's reader does before applying one. */
static sl_status check_entries(sl__codec_reader *r, uint64_t n, sl__errmsg *err)
{
    sl__arena a;
    sl__codec_alloc al;
    sl_status s = SL_OK;

    sl__arena_init(&a, 4096);
    al = sl__codec_arena_alloc(&a);
    for (uint64_t i = 0; i < n && !s; i++) {
        uint64_t flags, t;
        sl_value k, v;
        if (!sl__codec_get_uvarint(&r->pos, r->end, &flags) || flags > 1 ||
            !sl__codec_get_uvarint(&r->pos, r->end, &t))
            s = sl__err(err, SL_ECORRUPT, "bad entry header at offset %zu",
                        (size_t)(r->pos - r->start));
        else if (!(s = sl__codec_read(r, &al, &k, err)) && !(flags & 1))
            s = sl__codec_read(r, &al, &v, err);
        sl__arena_reset(&a);
    }
    sl__arena_free(&a);
    if (!s && !sl__codec_reader_done(r))
        s = sl__err(err, SL_ECORRUPT, "%zu bytes after the last entry",
                    (size_t)(r->end - r->pos));
    return s;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcmp(s + n - m, suffix);
}

sl_status sl__ckpt_state_file_check(sl__ckpt_io *io, const char *path,
                                    sl__ckpt_state_head *h)
{
    sl__errmsg err = {{0}, SL_OK};
    sl__codec_reader r;
    void *payload = NULL, *raw = NULL;
    size_t len, rawlen;
    const char *why = "";
    uint32_t magic = ends_with(path, ".snapshot")
                         ? SL__CKPT_MAGIC_STATE_SNAPSHOT
                         : SL__CKPT_MAGIC_STATE_DELTA;
    sl_status s = sl__ckpt_read_file(io, path, magic, SL__CKPT_STATE_VERSION,
                                     &payload, &len, NULL);

    if (s)
        goto out;
    s = sl__ckpt_unzstd(payload, len, SL__CKPT_STATE_MAX_RAW, &raw, &rawlen,
                        &why);
    if (s == SL_ENOMEM)
        s = sl__err(&io->err, s, "cannot read %s: out of memory", path);
    else if (s)
        s = sl__err(&io->err, SL_ECORRUPT, "%s: corrupt: zstd: %s", path, why);
    else if ((s = sl__ckpt_state_head_read(&r, raw, rawlen, h, &err)) ||
             (s = check_entries(&r, h->entries, &err)))
        s = sl__err(&io->err, s == SL_ENOMEM ? s : SL_ECORRUPT,
                    "%s: corrupt: %s", path, err.text);
out:
    sl_free(payload);
    sl_free(raw);
    return s;
}

sl_status sl__ckpt_state_follows(sl__ckpt_io *io, const char *dir,
                                 int64_t version, int64_t base, int64_t last)
{
    if (base == SL__CKPT_STATE_BASE_UNKNOWN || base == last)
        return SL_OK;
    return sl__err(&io->err, SL_ECORRUPT,
                   "%s/%lld.delta: follows version %lld, but the file before "
                   "it is version %lld: missing %s/%lld.delta or "
                   "%s/%lld.snapshot",
                   dir, (long long)version, (long long)base, (long long)last,
                   dir, (long long)base, dir, (long long)base);
}

/* ---------------------------------------- the last commit's file list */

/* A listed state delta may be gone because a later snapshot of its shard
 * replaced it (retention after a snapshot at or after its version). */
static bool delta_replaced(sl__ckpt_io *io, const char *path)
{
    const char *base = strrchr(path, '/'), *dot;
    char dir[SL__CKPT_PATH_MAX];
    int64_t *v = NULL, version;
    size_t n = 0;
    bool replaced;
    sl__errmsg keep = io->err; /* the missing file's message */

    if (!base || !(dot = strrchr(base, '.')) || strcmp(dot, ".delta") != 0 ||
        !sl__ckpt_path(dir, "%.*s", (int)(base - path), path) ||
        sscanf(base + 1, "%" SCNd64, &version) != 1)
        return false;
    replaced = sl__ckpt_list_versions(io, dir, ".snapshot", &v, &n) == SL_OK &&
               n > 0 && v[n - 1] >= version;
    sl_free(v);
    io->err = keep;
    return replaced;
}

/* Check one listed file ({"path", "bytes", "crc32"}); paths under the
 * checkpoint are relative to dir. The message goes to io. */
static sl_status verify_listed(sl__ckpt_io *io, const char *dir, int64_t batch,
                               const cJSON *f, bool in_checkpoint)
{
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(f, "path");
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(f, "bytes");
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(f, "crc32");
    char path[SL__CKPT_PATH_MAX], why[sizeof io->err.text];
    sl_status st;

    if (!cJSON_IsString(p) || !cJSON_IsNumber(b) || !cJSON_IsNumber(c))
        return sl__err(&io->err, SL_ECORRUPT,
                       "%s/commits/%lld: a listed file without path, bytes "
                       "or crc32",
                       dir, (long long)batch);
    if (in_checkpoint ? !sl__ckpt_path(path, "%s/%s", dir, p->valuestring)
                      : !sl__ckpt_path(path, "%s", p->valuestring))
        return sl__err(&io->err, SL_ERANGE, "%s: path too long",
                       p->valuestring);
    st = sl__ckpt_verify_file(io, path, (uint64_t)b->valuedouble,
                              (uint32_t)c->valuedouble);
    if (st == SL_OK ||
        (st == SL_ENOTFOUND && in_checkpoint && delta_replaced(io, path)))
        return SL_OK;
    snprintf(why, sizeof why, "%s", io->err.text);
    return sl__err(
        &io->err, st == SL_ENOTFOUND ? SL_ECORRUPT : st,
        "batch %lld is committed (%s/commits/%lld lists it) but %s; %s",
        (long long)batch, dir, (long long)batch, why,
        in_checkpoint ? "the checkpoint is damaged: restore the file or "
                        "roll back to an earlier batch (streamctl "
                        "checkpoint rollback)"
                      : "a sink's output of the last batch was changed "
                        "or removed: restore it or roll back to an "
                        "earlier batch (streamctl checkpoint rollback)");
}

/* Every file of one list; the first failure's status. */
static sl_status verify_list(sl__ckpt_io *io, const char *dir, int64_t batch,
                             const cJSON *list, bool in_checkpoint,
                             sl__ckpt_bad_fn bad, void *user)
{
    const cJSON *f;
    sl_status st, first = SL_OK;

    cJSON_ArrayForEach(f, list)
    {
        if ((st = verify_listed(io, dir, batch, f, in_checkpoint)) == SL_OK)
            continue;
        if (!first)
            first = st;
        if (!bad || st == SL_ENOMEM)
            return first;
        bad(user, io->err.text);
    }
    return first;
}

sl_status sl__ckpt_commit_verify(sl__ckpt_io *io, const char *dir,
                                 int64_t batch, const void *entry, size_t len,
                                 sl__ckpt_bad_fn bad, void *user)
{
    cJSON *json = sl__json_parse(entry, len, NULL, false);
    sl_status st, st2;

    if (!json || !cJSON_IsObject(json)) {
        cJSON_Delete(json);
        st =
            sl__err(&io->err, SL_ECORRUPT, "%s/commits/%lld: not a JSON object",
                    dir, (long long)batch);
        if (bad)
            bad(user, io->err.text);
        return st;
    }
    st = verify_list(io, dir, batch,
                     cJSON_GetObjectItemCaseSensitive(json, "checkpoint_files"),
                     true, bad, user);
    if (st == SL_OK || (bad && st != SL_ENOMEM)) {
        st2 = verify_list(io, dir, batch,
                          cJSON_GetObjectItemCaseSensitive(json, "files"),
                          false, bad, user);
        st = st ? st : st2;
    }
    cJSON_Delete(json);
    return st;
}
