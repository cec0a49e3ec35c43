/*
 * The exactly-once file sink (sink.h, sl_file_sink): each batch's
 * partitions are written on the workers under hidden staging names,
 * fsynced, renamed to names fixed by batch and partition, and listed in the
 * manifest log (manifest.c) once all are in place. A re-run batch writes
 * over its earlier files and removes those it did not write again, so it
 * replaces rather than adds.
 */
#include "file/manifest.h"

#include <sluice/source.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "core/core.h"
#include "core/row_out.h"
#include "core/schema.h"
#include "rdd/rdd.h"

typedef enum sink_format { FMT_JSON, FMT_CSV, FMT_TEXT } sink_format;

static const char *const extensions[] = {"json", "csv", "txt"};

typedef struct fsink {
    sl_context *ctx;
    char *dir;
    sink_format format;
    const sl_schema *schema; /* the stream's rows' (a reference), or NULL */
    sl__ckpt_io io;
    /* The files of the last batch written, one slot per partition (a
     * task fills only its own) and one more for its manifest entry;
     * names point into paths. */
    int64_t batch;
    sl_sink_file *files;
    char (*paths)[PATH_MAX];
    size_t nparts, nfiles;
    bool listed; /* the batch's manifest entry is written: files has it */
} fsink;

/* One part file being written by a task: bytes and crc as they go. */
typedef struct part_out {
    FILE *f;
    uint64_t bytes;
    uint32_t crc;
} part_out;

static sl_status put(part_out *w, const char *p, size_t n)
{
    if (fwrite(p, 1, n, w->f) != n)
        return SL_EIO;
    w->crc = (uint32_t)crc32(w->crc, (const Bytef *)p, (uInt)n);
    w->bytes += n;
    return SL_OK;
}

/* The value formatted by fmt, through a stack buffer or one allocation. */
static sl_status put_formatted(part_out *w, const sl_value *v,
                               size_t (*fmt)(const sl_value *, char *, size_t))
{
    char buf[1024], *big;
    size_t n = fmt(v, buf, sizeof buf);
    sl_status st;
    if (n < sizeof buf)
        return put(w, buf, n);
    if (!(big = sl_malloc(n + 1)))
        return SL_ENOMEM;
    fmt(v, big, n + 1);
    st = put(w, big, n);
    sl_free(big);
    return st;
}

/* n bytes of text as one CSV field (RFC 4180): quoted when it holds a
 * comma, a quote, CR or LF, with quotes doubled. */
static sl_status put_csv_text(part_out *w, const char *text, size_t n)
{
    size_t i;
    sl_status st;
    for (i = 0; i < n && !strchr(",\"\r\n", text[i]); i++)
        ;
    if (i == n) /* text need not end in a NUL: scanned by length */
        return put(w, text, n);
    st = put(w, "\"", 1);
    for (i = 0; i < n && st == SL_OK; i++)
        st = text[i] == '"' ? put(w, "\"\"", 2) : put(w, &text[i], 1);
    return st == SL_OK ? put(w, "\"", 1) : st;
}

/* One CSV field; null is the empty field. */
static sl_status put_csv_field(part_out *w, const sl_value *v)
{
    char buf[1024], *text = buf;
    size_t n;
    sl_status st;
    if (v->kind == SL_KIND_NULL)
        return SL_OK;
    n = sl_value_format(v, buf, sizeof buf);
    if (n >= sizeof buf) {
        if (!(text = sl_malloc(n + 1)))
            return SL_ENOMEM;
        sl_value_format(v, text, n + 1);
    }
    st = put_csv_text(w, text, n);
    if (text != buf)
        sl_free(text);
    return st;
}

/* A row of a stream with a schema: json, an object of its columns
 * (sl__json_put_row); csv, the one CSV row writer streamctl sql uses
 * (sl__rows_put_csv: typed text, NULL empty, an empty string "");
 * text, as for any value. */
static sl_status put_row(part_out *w, sink_format format, const sl_schema *s,
                         const sl_value *v)
{
    sl__buf b = {0};
    sl_status st;
    if (format == FMT_JSON) {
        st = sl__json_put_row(&b, s, v);
        if (st == SL_OK && (st = put(w, (const char *)b.data, b.len)) == SL_OK)
            st = put(w, "\n", 1);
    } else if (v->kind != SL_KIND_TUPLE || v->len != sl_schema_size(s)) {
        st = put_formatted(w, v, sl_value_format);
        if (st == SL_OK)
            st = put(w, "\n", 1);
    } else if ((st = sl__rows_put_csv(&b, s, v, 1, false)) == SL_OK) {
        st = put(w, (const char *)b.data, b.len); /* with its "\n" */
    }
    sl__buf_free(&b);
    return st;
}

static sl_status put_record(part_out *w, sink_format format, const sl_value *v)
{
    sl_status st = SL_OK;
    uint32_t i;
    if (format == FMT_JSON)
        st = put_formatted(w, v, sl_value_format_json);
    else if (format == FMT_TEXT)
        st = put_formatted(w, v, sl_value_format);
    else if (!sl_kind_is_composite((sl_kind)v->kind))
        st = put_csv_field(w, v);
    else
        for (i = 0; i < v->len && st == SL_OK; i++) {
            if (i)
                st = put(w, ",", 1);
            if (st == SL_OK)
                st = put_csv_field(w, &v->u.items[i]);
        }
    return st == SL_OK ? put(w, "\n", 1) : st;
}

/* ------------------------------------------------------------ writing */

static void staging_of(const char *path, char *out, size_t n)
{
    const char *slash = strrchr(path, '/');
    snprintf(out, n, "%.*s.%s.tmp", (int)(slash - path + 1), path, slash + 1);
}

/* Flushed and fsynced before the rename that publishes it. */
static sl_status finish_part(part_out *w, sl_status st)
{
    if (st == SL_OK && (fflush(w->f) != 0 || fsync(fileno(w->f)) != 0))
        st = SL_EIO;
    if (fclose(w->f) != 0 && st == SL_OK)
        st = SL_EIO;
    return st;
}

/* Whether path holds bytes bytes with this crc (an earlier run's file of
 * a re-run batch). */
static bool same_bytes(const char *path, uint64_t bytes, uint32_t crc)
{
    char buf[65536];
    uint32_t c = 0;
    struct stat sb;
    size_t n;
    FILE *f;
    if (stat(path, &sb) != 0 || (uint64_t)sb.st_size != bytes)
        return false;
    if (!(f = fopen(path, "re")))
        return false;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        c = (uint32_t)crc32(c, (const Bytef *)buf, (uInt)n);
    n = (size_t)ferror(f);
    fclose(f);
    return n == 0 && c == crc;
}

/* Worker task: partition p into its staging file, then into place. An
 * empty partition writes no file. */
static sl_status write_part(sl_task *t, sl_iter *it, void *user)
{
    fsink *k = user;
    size_t p = sl_task_partition(t);
    char staging[PATH_MAX + 8];
    part_out w = {NULL, 0, 0};
    sl_value v;
    sl_status st = SL_OK;

    if (!sl_iter_next(it, &v))
        return SL_OK;
    staging_of(k->paths[p], staging, sizeof staging);
    if (!(w.f = fopen(staging, "we")))
        return sl__task_fail(t, SL_EIO, "file sink: cannot create %s: %s",
                             staging, SL__STRERROR(errno));
    do
        st = k->schema && k->format != FMT_TEXT
                 ? put_row(&w, k->format, k->schema, &v)
                 : put_record(&w, k->format, &v);
    while (st == SL_OK && sl_iter_next(it, &v));
    if ((st = finish_part(&w, st)) == SL_OK) {
        /* A re-run that wrote the same bytes keeps the file (and its
         * inode): a directory source that took it does not take it again
         * as a file renamed over it. */
        if (same_bytes(k->paths[p], w.bytes, w.crc))
            (void)unlink(staging);
        else if (rename(staging, k->paths[p]) != 0)
            st = SL_EIO;
    }
    if (st != SL_OK) {
        int e = errno;
        (void)unlink(staging);
        return sl__task_fail(t, st, "file sink: cannot write %s: %s",
                             k->paths[p], SL__STRERROR(e));
    }
    k->files[p].path = k->paths[p];
    k->files[p].bytes = w.bytes;
    k->files[p].crc32 = w.crc;
    return SL_OK;
}

/* ------------------------------------------------------------ cleanup */

/* The batch of a part file's name ("part-B-P.ext", or its hidden staging
 * form ".part-B-P.ext.tmp"); -1 for any other name. */
static int64_t part_batch(const char *name, bool *staging)
{
    int64_t b;
    *staging = name[0] == '.';
    return sl__manifest_part_batch(name + *staging, &b) ? b : -1;
}

static bool has_manifest(const fsink *k, int64_t batch)
{
    char path[PATH_MAX + 64];
    struct stat sb;
    snprintf(path, sizeof path, "%s/" SL__MANIFEST_DIR "/%lld", k->dir,
             (long long)batch);
    return stat(path, &sb) == 0;
}

/* Whether name is one of the files the running batch wrote. */
static bool written_now(const fsink *k, const char *name)
{
    size_t i;
    for (i = 0; i < k->nfiles; i++)
        if (strcmp(strrchr(k->files[i].path, '/') + 1, name) == 0)
            return true;
    return false;
}

/*
 * Remove the part files of batch `only` that its run did not write now
 * (a re-run with other partitions) or, with only < 0 (at
 * open), every staging leftover and the part files of every batch without
 * a manifest: what an interrupted write left, which its re-run writes
 * again.
 */
static sl_status clean_dir(fsink *k, int64_t only, int64_t newest)
{
    char path[PATH_MAX + 260];
    struct dirent *e;
    bool staging;
    int64_t b;
    sl_status st = SL_OK;
    DIR *d = opendir(k->dir);

    if (!d)
        return sl__err(&k->io.err, SL_EIO, "cannot list %s: %s", k->dir,
                       SL__STRERROR(errno));
    while (st == SL_OK && (e = readdir(d)) != NULL) {
        if ((b = part_batch(e->d_name, &staging)) < 0)
            continue;
        if (only >= 0 ? b != only || (!staging && written_now(k, e->d_name))
                      : !staging && has_manifest(k, b))
            continue;
        if (only < 0 && !staging && b < newest) {
            /* Batches write in order and a re-run comes before any later
             * batch, so no crash leaves this: the entry was deleted. */
            st = sl__err(&k->io.err, SL_ECORRUPT,
                         "%s/" SL__MANIFEST_DIR "/%lld: missing, but %s "
                         "is there and batch %lld has an entry",
                         k->dir, (long long)b, e->d_name, (long long)newest);
            break;
        }
        snprintf(path, sizeof path, "%s/%s", k->dir, e->d_name);
        st = sl__ckpt_unlink(&k->io, path);
    }
    closedir(d);
    /* A re-run's removals are synced with its manifest entry. */
    return st == SL_OK && only < 0 ? sl__ckpt_io_sync_dirs(&k->io) : st;
}

/* ---------------------------------------------------------- the sink */

static sl_status fail(fsink *k, sl_status st)
{
    return sl_context_set_error(k->ctx, st, "%s", sl__ckpt_io_errmsg(&k->io));
}

static void ignore_name(void *user, const char *name)
{
    (void)user;
    (void)name;
}

/* Every manifest entry must pass its check (a damaged one would make its
 * part files unreadable to a directory source); *newest: the newest
 * entry's batch, -1 for none. */
static sl_status check_manifests(fsink *k, int64_t *newest)
{
    char mdir[PATH_MAX + 32], why[512];
    struct dirent *e;
    DIR *d;
    *newest = -1;
    if (sl__manifest_each(k->dir, ignore_name, NULL, why, sizeof why) != SL_OK)
        return sl__err(&k->io.err, SL_ECORRUPT, "%s", why);
    snprintf(mdir, sizeof mdir, "%s/" SL__MANIFEST_DIR, k->dir);
    if (!(d = opendir(mdir)))
        return sl__err(&k->io.err, SL_EIO, "cannot list %s: %s", mdir,
                       SL__STRERROR(errno));
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] >= '0' && e->d_name[0] <= '9' &&
            strspn(e->d_name, "0123456789") == strlen(e->d_name) &&
            atoll(e->d_name) > *newest)
            *newest = atoll(e->d_name);
    closedir(d);
    return SL_OK;
}

static sl_status fsink_open(void *state, const char *name)
{
    fsink *k = state;
    char mdir[PATH_MAX + 32];
    int64_t newest;
    sl_status st;
    (void)name;
    snprintf(mdir, sizeof mdir, "%s/" SL__MANIFEST_DIR, k->dir);
    sl__err(&k->io.err, SL_OK, "%s", "");
    if ((st = sl__ckpt_mkdirs(&k->io, mdir)) != SL_OK ||
        (st = check_manifests(k, &newest)) != SL_OK ||
        (st = clean_dir(k, -1, newest)) != SL_OK)
        return fail(k, st);
    return SL_OK;
}

/* One slot per partition, with its final path. */
static sl_status prepare_slots(fsink *k, int64_t batch, size_t n)
{
    size_t p;
    sl_free(k->files);
    sl_free(k->paths);
    k->nparts = k->nfiles = 0;
    k->listed = false;
    k->files = sl_malloc((n + 1) * sizeof *k->files);
    k->paths = sl_malloc((n + 1) * sizeof *k->paths);
    if (!k->files || !k->paths)
        return sl__err(&k->io.err, SL_ENOMEM, "out of memory");
    memset(k->files, 0, (n + 1) * sizeof *k->files);
    for (p = 0; p < n; p++) {
        int len = snprintf(k->paths[p], PATH_MAX, "%s/part-%08lld-%05zu.%s",
                           k->dir, (long long)batch, p, extensions[k->format]);
        if (len < 0 || len + 6 >= PATH_MAX) /* room for ".tmp" and "." */
            return sl__err(&k->io.err, SL_EINVAL,
                           "part file path longer than PATH_MAX in %s", k->dir);
    }
    k->nparts = n;
    k->batch = batch;
    return SL_OK;
}

/* Keep the written slots, in partition order, for files and the
 * manifest. */
static void compact_slots(fsink *k)
{
    size_t p;
    k->nfiles = 0;
    for (p = 0; p < k->nparts; p++)
        if (k->files[p].path)
            k->files[k->nfiles++] = k->files[p];
}

/* The manifest entry just written goes into the commit entry's list
 * after the part files: a restart then finds it deleted or damaged
 * before open would take the batch's files for an interrupted write. */
static void list_manifest(fsink *k, int64_t batch)
{
    sl_sink_file *m = &k->files[k->nfiles];
    snprintf(k->paths[k->nparts], PATH_MAX, "%s/" SL__MANIFEST_DIR "/%lld",
             k->dir, (long long)batch);
    m->path = k->paths[k->nparts];
    m->bytes = k->io.last.bytes;
    m->crc32 = k->io.last.crc32;
    k->listed = true;
}

static sl_status fsink_write(void *state, int64_t batch, int64_t time_ms,
                             sl_rdd *rdd)
{
    fsink *k = state;
    sl_status st;
    (void)time_ms;
    sl__err(&k->io.err, SL_OK, "%s", "");
    /* A re-run writes its files over the earlier run's (keeping those
     * with the same bytes), then removes the earlier ones it did not
     * write, then replaces the manifest entry. Recorded batches replay
     * byte for byte, so an entry never names a file of other content; a
     * batch that never got its entry is cleaned up by open. */
    if ((st = prepare_slots(k, batch, sl_rdd_num_partitions(rdd))) != SL_OK)
        return fail(k, st);
    if ((st = sl_rdd_foreach_partition(rdd, write_part, k)) != SL_OK)
        return st; /* the engine's message names the file */
    compact_slots(k);
    if ((st = clean_dir(k, batch, -1)) != SL_OK)
        return fail(k, st);
    /* The renames count once the directory is synced, which the manifest
     * write does (the sink directory is dirty, then the manifest's). */
    if ((st = sl__ckpt_io_mark_dir(&k->io, k->dir)) != SL_OK ||
        (st = sl__manifest_write(&k->io, k->dir, batch, k->files, k->nfiles)) !=
            SL_OK)
        return fail(k, st);
    list_manifest(k, batch);
    return SL_OK;
}

static sl_status fsink_files(void *state, int64_t batch,
                             const sl_sink_file **out, size_t *n)
{
    fsink *k = state;
    *out = k->files;
    *n = k->batch == batch ? k->nfiles + (k->listed ? 1 : 0) : 0;
    return SL_OK;
}

static void fsink_free(void *state)
{
    fsink *k = state;
    if (!k)
        return;
    sl__ckpt_io_free(&k->io);
    sl_schema_release(k->schema);
    sl_free(k->files);
    sl_free(k->paths);
    sl_free(k->dir);
    sl_free(k);
}

static const sl_sink_ops fsink_ops = {.version = SL_SINK_OPS_VERSION,
                                      .type = "file",
                                      .open = fsink_open,
                                      .write_batch = fsink_write,
                                      .files = fsink_files,
                                      .free = fsink_free};

static sl_status read_format(sl_context *ctx, const sl_conf *conf,
                             sink_format *out)
{
    const char *f = conf ? sl_conf_get(conf, "file_sink.format") : "json";
    if (!f || !strcmp(f, "json"))
        *out = FMT_JSON;
    else if (!strcmp(f, "csv"))
        *out = FMT_CSV;
    else if (!strcmp(f, "text"))
        *out = FMT_TEXT;
    else
        return sl_context_set_error(ctx, SL_EINVAL,
                                    "file sink: unknown format \"%s\"", f);
    return SL_OK;
}

sl_status sl_file_sink(sl_dstream *s, const char *name, const char *dir,
                       const sl_conf *conf)
{
    sl_context *ctx = s ? sl_dstream_context(s) : NULL;
    sink_format format = FMT_JSON;
    fsink *k;

    if (!ctx)
        return SL_EINVAL;
    if (!dir || !*dir || strlen(dir) > PATH_MAX - 64)
        return sl_context_set_error(ctx, SL_EINVAL,
                                    "file sink: the directory is empty or "
                                    "longer than PATH_MAX");
    if (read_format(ctx, conf, &format) != SL_OK)
        return SL_EINVAL;
    if (sl_dstream_output_mode(s) != SL_OUTPUT_APPEND)
        return sl_context_set_error(
            ctx, SL_EINVAL,
            "file sink: append output mode only (the "
            "stream's rows are in %s mode): a file "
            "keeps what was written",
            sl_dstream_output_mode(s) == SL_OUTPUT_COMPLETE ? "complete"
                                                            : "update");
    if (!(k = sl_malloc(sizeof *k)))
        return sl_context_set_error(ctx, SL_ENOMEM, "out of memory");
    memset(k, 0, sizeof *k);
    k->ctx = ctx;
    k->format = format;
    if (sl_dstream_schema(s))
        k->schema = sl_schema_retain(sl_dstream_schema(s));
    k->batch = -1;
    sl__ckpt_io_init(&k->io);
    if (!(k->dir = sl__strdup(dir))) {
        fsink_free(k);
        return sl_context_set_error(ctx, SL_ENOMEM, "out of memory");
    }
    return sl_dstream_add_sink(s, name, &fsink_ops, k);
}
