/*
 * The file sink's manifest log (manifest.h): one checked JSON file per
 * batch, {"version":1,"batch":B,"files":[{"path","bytes","crc32"}]},
 * written by the sink once the batch's files are in place, read by the
 * directory source to learn which files of a sink directory are complete.
 */
#include "file/manifest.h"

#include <cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/records.h"

bool sl__manifest_dir(const char *dir, char *out, size_t n)
{
    int k = snprintf(out, n, "%s/" SL__MANIFEST_DIR, dir);
    return k > 0 && (size_t)k < n;
}

bool sl__manifest_present(const char *dir)
{
    char path[4096];
    struct stat sb;
    return sl__manifest_dir(dir, path, sizeof path) && stat(path, &sb) == 0 &&
           S_ISDIR(sb.st_mode);
}

/* The payload; NULL when out of memory. Part names need no escaping (the
 * sink makes them from digits and the format's extension). */
static char *manifest_text(int64_t batch, const sl_sink_file *files, size_t n,
                           size_t *len)
{
    size_t cap = 64 + n * 160, used, i; /* names under 60 bytes */
    char *buf = sl_malloc(cap);
    if (!buf)
        return NULL;
    used = (size_t)snprintf(buf, cap,
                            "{\"version\":1,\"batch\":%lld,"
                            "\"files\":[",
                            (long long)batch);
    for (i = 0; i < n; i++) {
        const char *slash = strrchr(files[i].path, '/');
        used += (size_t)snprintf(
            buf + used, cap - used,
            "%s{\"path\":\"%s\",\"bytes\":%" PRIu64 ",\"crc32\":%" PRIu32 "}",
            i ? "," : "", slash ? slash + 1 : files[i].path, files[i].bytes,
            files[i].crc32);
    }
    used += (size_t)snprintf(buf + used, cap - used, "]}\n");
    *len = used;
    return buf;
}

sl_status sl__manifest_write(sl__ckpt_io *io, const char *dir, int64_t batch,
                             const sl_sink_file *files, size_t n)
{
    char path[4096];
    size_t len;
    char *text;
    sl_status st;
    int k = snprintf(path, sizeof path, "%s/" SL__MANIFEST_DIR "/%lld", dir,
                     (long long)batch);
    if (k < 0 || (size_t)k >= sizeof path)
        return sl__err(&io->err, SL_EINVAL, "manifest path too long in %s",
                       dir);
    if (!(text = manifest_text(batch, files, n, &len)))
        return sl__err(&io->err, SL_ENOMEM, "out of memory");
    /* The part files' renames are durable before the entry that lists
     * them exists: a reader trusting the manifest never misses a file. */
    st = sl__ckpt_io_sync_dirs(io);
    if (st == SL_OK)
        st = sl__ckpt_write_file(io, path, SL__MANIFEST_MAGIC,
                                 SL__MANIFEST_VERSION, text, len);
    sl_free(text);
    if (st == SL_OK)
        st = sl__ckpt_io_sync_dirs(io);
    return st;
}

/* The names of one manifest's files. */
static sl_status read_one(sl__ckpt_io *io, const char *path,
                          void (*fn)(void *, const char *), void *user)
{
    void *payload;
    size_t len;
    cJSON *root, *files, *f, *p;
    sl_status st =
        sl__ckpt_read_file(io, path, SL__MANIFEST_MAGIC, SL__MANIFEST_VERSION,
                           &payload, &len, NULL);
    if (st != SL_OK)
        return st;
    root = sl__json_parse(payload, len, NULL, false);
    sl_free(payload);
    files = root ? cJSON_GetObjectItemCaseSensitive(root, "files") : NULL;
    if (!cJSON_IsArray(files)) {
        cJSON_Delete(root);
        return sl__err(&io->err, SL_ECORRUPT,
                       "%s: not a manifest (no \"files\" array)", path);
    }
    cJSON_ArrayForEach(f, files)
    {
        p = cJSON_GetObjectItemCaseSensitive(f, "path");
        if (cJSON_IsString(p) && !strchr(p->valuestring, '/'))
            fn(user, p->valuestring);
    }
    cJSON_Delete(root);
    return SL_OK;
}

typedef struct find {
    const char *name;
    bool found;
} find;

static void match_name(void *user, const char *name)
{
    find *f = user;
    f->found = f->found || strcmp(f->name, name) == 0;
}

bool sl__manifest_part_batch(const char *name, int64_t *batch)
{
    const char *p = name + 5;
    int64_t b = 0;

    if (strncmp(name, "part-", 5) != 0 || *p < '0' || *p > '9')
        return false;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (b > (INT64_MAX - (*p - '0')) / 10)
            return false;
        b = b * 10 + (*p - '0');
    }
    *batch = b;
    return *p == '-';
}

sl_status sl__manifest_lists(const char *dir, const char *name, char *errbuf,
                             size_t errlen)
{
    char path[4400];
    int64_t batch;
    find f = {name, false};
    sl__ckpt_io io;
    sl_status st;

    if (!sl__manifest_part_batch(name, &batch))
        return SL_ENOTFOUND;
    snprintf(path, sizeof path, "%s/" SL__MANIFEST_DIR "/%" PRId64, dir, batch);
    sl__ckpt_io_init(&io);
    st = read_one(&io, path, match_name, &f);
    if (st != SL_OK && st != SL_ENOTFOUND)
        snprintf(errbuf, errlen, "%s", sl__ckpt_io_errmsg(&io));
    sl__ckpt_io_free(&io);
    if (st == SL_OK && !f.found)
        st = SL_ENOTFOUND;
    return st;
}

static bool is_batch_name(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return false;
    return true;
}

sl_status sl__manifest_each(const char *dir,
                            void (*fn)(void *user, const char *name),
                            void *user, char *errbuf, size_t errlen)
{
    char mdir[4096], path[4400];
    sl__ckpt_io io;
    struct dirent *e;
    sl_status st = SL_OK;
    DIR *d;

    if (!sl__manifest_dir(dir, mdir, sizeof mdir) || !(d = opendir(mdir)))
        return SL_OK;
    sl__ckpt_io_init(&io);
    while (st == SL_OK && (e = readdir(d)) != NULL) {
        if (!is_batch_name(e->d_name))
            continue; /* ".", "..", an interrupted write's temporary */
        snprintf(path, sizeof path, "%s/%s", mdir, e->d_name);
        st = read_one(&io, path, fn, user);
    }
    closedir(d);
    if (st != SL_OK)
        snprintf(errbuf, errlen, "%s", sl__ckpt_io_errmsg(&io));
    sl__ckpt_io_free(&io);
    return st;
}
