/*
 * The directory source (textFileStream and Structured Streaming's file
 * source), a planned source: on the job thread each batch takes the
 * complete files the watcher found, in (mtime, name) order up to
 * file.max_files_per_trigger, and plans one partition per file (or per
 * line-aligned split of a large plain file); on the workers each partition
 * is read, decompressed (.gz, .zst), cut into lines as the socket source
 * cuts them and parsed as file.format. A file that cannot be read is
 * reported by name, counted and skipped. Once every sink finished a batch,
 * its files are deleted or archived when file.clean_source says so.
 */
#include "file/file_int.h"
#include "stream/stream_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

/* What one batch took, kept until its commit for clean_source. */
typedef struct taken_batch {
    struct taken_batch *next;
    int64_t batch_id;
    char **rel;
    uint64_t *dev, *ino; /* the files meant: a newer one is not cleaned */
    size_t n;
} taken_batch;

typedef struct file_source {
    watcher w;
    sl_context *ctx;
    int64_t max_files, max_line, split_bytes;
    bool latest_first, with_file_name;
    clean_mode clean;
    char *archive;
    sl__rec_options rec;
    char *columns_text; /* file.csv.columns, owned */
    char **columns;     /* split from it */
    sl__dead_letters *dead;
    taken_batch *taken; /* oldest first */
    /* counters: written by the job thread or the workers */
    int64_t taken_files, failed, too_old, cleaned, waiting;
    int64_t lines, malformed, too_long, bytes;
} file_source;

#define ADD(field, n) __atomic_add_fetch(&(field), (n), __ATOMIC_RELAXED)
#define GET(field) __atomic_load_n(&(field), __ATOMIC_RELAXED)

/* The description of one partition, as the reader gets it (copied). */
typedef struct part_desc {
    int64_t start, end; /* byte range of the split; end = size when whole */
    int64_t size;       /* the file's size when planned */
    uint64_t dev, ino;  /* the file planned: a replacement is not read */
    uint32_t path_len;
    uint32_t whole; /* read the file whole (compressed, json, csv) */
    /* followed by the full path, NUL-terminated */
} part_desc;

enum { COMP_NONE, COMP_GZIP, COMP_ZSTD };

static int compression_of(const char *path)
{
    size_t n = strlen(path);
    if (n > 3 && strcmp(path + n - 3, ".gz") == 0)
        return COMP_GZIP;
    if (n > 4 && strcmp(path + n - 4, ".zst") == 0)
        return COMP_ZSTD;
    return COMP_NONE;
}

/* -------------------------------------------------------------- reading */

/* Report a file that is skipped, and count it. */
static sl_status skip_file(file_source *fs, const char *path, const char *why)
{
    ADD(fs->failed, 1);
    sl_context_log(fs->ctx, SL_LOG_WARN,
                   "directory source: skipped file '%s': %s", path, why);
    return SL_OK;
}

/* The whole file at fd into *out (sl_malloc'd); false with errno set. */
static bool read_all(int fd, char **out, size_t *len)
{
    size_t cap = 65536, n = 0;
    char *buf = sl_malloc(cap), *grown;
    if (!buf) {
        errno = ENOMEM;
        return false;
    }
    for (;;) {
        ssize_t r;
        if (n == cap) {
            if (cap >= ((size_t)1 << 32) ||
                !(grown = sl_realloc(buf, cap * 2))) {
                sl_free(buf);
                errno = cap >= ((size_t)1 << 32) ? EFBIG : ENOMEM;
                return false;
            }
            buf = grown;
            cap *= 2;
        }
        r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;
            sl_free(buf);
            errno = e;
            return false;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    *out = buf;
    *len = n;
    return true;
}

/* Output buffer for decompression: grows by doubling, capped at 4 GiB. */
static bool grow_out(char **out, size_t *cap, size_t need)
{
    char *p;
    size_t c = *cap ? *cap : 1 << 20;
    while (c < need)
        c *= 2;
    if (c > ((size_t)1 << 32))
        return false;
    if (c == *cap)
        return true;
    if (!(p = sl_realloc(*out, c)))
        return false;
    *out = p;
    *cap = c;
    return true;
}

/* Inflate gzip data (all members); NULL why on success. */
static const char *gunzip(const char *in, size_t len, char **out,
                          size_t *out_len)
{
    z_stream z;
    size_t cap = 0, n = 0;
    int rc = Z_OK;
    *out = NULL;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, 15 + 16) != Z_OK)
        return "cannot start zlib";
    z.next_in = (Bytef *)(uintptr_t)in;
    z.avail_in = (uInt)(len > UINT_MAX ? UINT_MAX : len);
    while (z.avail_in || rc != Z_STREAM_END) {
        if (n == cap && !grow_out(out, &cap, n + 1)) {
            inflateEnd(&z);
            return "decompressed data too large or out of memory";
        }
        z.next_out = (Bytef *)*out + n;
        z.avail_out = (uInt)(cap - n > UINT_MAX ? UINT_MAX : cap - n);
        rc = inflate(&z, Z_NO_FLUSH);
        n = (size_t)((char *)z.next_out - *out);
        if (rc == Z_STREAM_END) {
            if (!z.avail_in)
                break;
            inflateReset(&z); /* another gzip member follows */
            rc = Z_OK;
            continue;
        }
        if (rc == Z_BUF_ERROR && z.avail_out)
            break; /* input ended inside a member */
        if (rc != Z_OK && rc != Z_BUF_ERROR) {
            inflateEnd(&z);
            return z.msg ? z.msg : "corrupt gzip data";
        }
    }
    inflateEnd(&z);
    if (rc != Z_STREAM_END)
        return "truncated gzip data";
    *out_len = n;
    return NULL;
}

static const char *unzstd(const char *in, size_t len, char **out,
                          size_t *out_len)
{
    ZSTD_DStream *z = ZSTD_createDStream();
    ZSTD_inBuffer ib = {in, len, 0};
    size_t cap = 0, n = 0, rc = 1;
    *out = NULL;
    if (!z)
        return "cannot start zstd";
    ZSTD_initDStream(z);
    while (ib.pos < ib.size || rc != 0) {
        ZSTD_outBuffer ob;
        if (n == cap && !grow_out(out, &cap, n + 1)) {
            ZSTD_freeDStream(z);
            return "decompressed data too large or out of memory";
        }
        ob.dst = *out + n;
        ob.size = cap - n;
        ob.pos = 0;
        rc = ZSTD_decompressStream(z, &ob, &ib);
        n += ob.pos;
        if (ZSTD_isError(rc)) {
            static __thread char why[128];
            snprintf(why, sizeof why, "corrupt zstd data: %s",
                     ZSTD_getErrorName(rc));
            ZSTD_freeDStream(z);
            return why;
        }
        if (ib.pos == ib.size && rc != 0 && ob.pos < ob.size)
            break; /* input ended inside a frame */
    }
    ZSTD_freeDStream(z);
    if (rc != 0)
        return "truncated zstd data";
    *out_len = n;
    return NULL;
}

/* Task memory for the record parser. */
static void *task_alloc(void *t, size_t n)
{
    return sl_task_alloc(t, n);
}

typedef struct read_ctx {
    file_source *fs;
    sl_task *t;
    const char *path;
    sl__rec_reader rr;
    sl_value name; /* the file name, for with_file_name */
} read_ctx;

/* One line: parse it, emit the record, or count and report it. */
static sl_status emit_line(read_ctx *rc, const char *line, size_t len,
                           int64_t line_no)
{
    file_source *fs = rc->fs;
    sl_value rec, out, name;
    char err[160];
    char *copy;
    sl_status st;

    ADD(fs->lines, 1);
    if ((int64_t)len > fs->max_line) {
        ADD(fs->too_long, 1);
        return SL_OK;
    }
    /* Records must live in task memory: the buffer is freed after. */
    if (!(copy = sl_task_alloc(rc->t, len ? len : 1)))
        return SL_ENOMEM;
    memcpy(copy, line, len);
    st = sl__rec_parse(&rc->rr, copy, len, task_alloc, rc->t, &rec, err,
                       sizeof err);
    if (st == SL_ENOTFOUND)
        return SL_OK; /* a header line */
    if (st == SL_EPARSE) {
        ADD(fs->malformed, 1);
        if (fs->dead) {
            /* Only whole files have malformed lines (JSON, CSV): line_no
             * counts from the file's start. */
            sl__dead_letters_write(fs->dead, rc->path, line_no, err, line, len);
        }
        return SL_OK;
    }
    if (st != SL_OK)
        return st;
    if (fs->with_file_name) {
        if ((st = sl_task_str(rc->t, rc->name.u.s, rc->name.len, &name)) !=
                SL_OK ||
            (st = sl_task_pair(rc->t, &name, &rec, &out)) != SL_OK)
            return st;
        return sl_task_emit(rc->t, &out);
    }
    return sl_task_emit(rc->t, &rec);
}

/* The lines of buf that start before `end` (relative to buf). */
static sl_status emit_lines(read_ctx *rc, const char *buf, size_t len,
                            size_t first, size_t end, bool at_eof)
{
    const char *pos = buf + first, *stop = buf + len, *line;
    int64_t line_no = 1;
    size_t n;
    sl_status st;
    while (pos < buf + end && sl__next_line(&pos, stop, &line, &n)) {
        /* A line cut by the read window (no newline before its end, and
         * the file goes on) is longer than max_line: dropped and counted. */
        if (pos == stop && !at_eof && stop[-1] != '\n') {
            ADD(rc->fs->lines, 1);
            ADD(rc->fs->too_long, 1);
            break;
        }
        if ((st = emit_line(rc, line, n, line_no++)) != SL_OK)
            return st;
    }
    return SL_OK;
}

/* A whole file (compressed ones are never split). */
static sl_status read_whole(read_ctx *rc, int fd, int comp)
{
    char *buf, *plain = NULL;
    size_t len, plain_len = 0;
    const char *why;
    sl_status st;
    if (!read_all(fd, &buf, &len))
        return skip_file(rc->fs, rc->path, strerror(errno));
    if (comp != COMP_NONE && len > 0) { /* an empty file is just empty */
        why = comp == COMP_GZIP ? gunzip(buf, len, &plain, &plain_len)
                                : unzstd(buf, len, &plain, &plain_len);
        sl_free(buf);
        if (why) {
            sl_free(plain);
            return skip_file(rc->fs, rc->path, why);
        }
        buf = plain;
        len = plain_len;
    }
    ADD(rc->fs->bytes, (int64_t)len);
    st = emit_lines(rc, buf, len, 0, len, true);
    sl_free(buf);
    return st;
}

/*
 * A split [start, end) of a plain file: the lines that start in it. Read
 * from the byte before start (a line starts at start only after a newline)
 * to end plus the longest line.
 */
static sl_status read_split(read_ctx *rc, int fd, const part_desc *d)
{
    int64_t from = d->start ? d->start - 1 : 0;
    int64_t to = d->end + rc->fs->max_line + 2;
    size_t want, len = 0, first = 0, end;
    char *buf;
    sl_status st;
    if (to > d->size)
        to = d->size;
    want = (size_t)(to - from);
    if (!(buf = sl_malloc(want ? want : 1)))
        return SL_ENOMEM;
    while (len < want) {
        ssize_t r = pread(fd, buf + len, want - len, from + (int64_t)len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;
            sl_free(buf);
            return skip_file(rc->fs, rc->path, strerror(e));
        }
        if (r == 0)
            break; /* shrank since planned: read what is there */
        len += (size_t)r;
    }
    if (d->start) {
        const char *nl = memchr(buf, '\n', len);
        first = nl ? (size_t)(nl - buf) + 1 : len;
    }
    end = (size_t)(d->end - from) < len ? (size_t)(d->end - from) : len;
    ADD(rc->fs->bytes, (int64_t)(end > first ? end - first : 0));
    st = emit_lines(rc, buf, len, first, end, from + (int64_t)len >= d->size);
    sl_free(buf);
    return st;
}

static sl_status file_read(sl_task *t, const void *desc, void *user)
{
    file_source *fs = user;
    read_ctx rc;
    part_desc d;
    sl_status st;
    int fd, comp;

    memcpy(&d, desc, sizeof d); /* the copy may not be aligned */
    memset(&rc, 0, sizeof rc);
    rc.fs = fs;
    rc.t = t;
    rc.path = (const char *)desc + sizeof d;
    rc.name = sl_str(rc.path, d.path_len);
    comp = compression_of(rc.path);
    if ((fd = open(rc.path, O_RDONLY | O_CLOEXEC)) < 0)
        return skip_file(fs, rc.path, strerror(errno));
    {
        struct stat sb;
        if (fstat(fd, &sb) != 0 || (uint64_t)sb.st_ino != d.ino ||
            (uint64_t)sb.st_dev != d.dev) {
            close(fd);
            return skip_file(fs, rc.path,
                             "replaced by another file since it was planned");
        }
    }
    if ((st = sl__rec_reader_init(&rc.rr, &fs->rec, NULL, 0)) != SL_OK) {
        close(fd);
        return st;
    }
    if (!d.whole)
        st = read_split(&rc, fd, &d);
    else
        st = read_whole(&rc, fd, comp);
    sl__rec_reader_free(&rc.rr);
    close(fd);
    return st;
}

/* ------------------------------------------------------------- planning */

typedef struct pick {
    fentry *e;
} pick;

static int by_mtime_name(const void *a, const void *b)
{
    const fentry *x = ((const pick *)a)->e, *y = ((const pick *)b)->e;
    if (x->mtime_ns != y->mtime_ns)
        return x->mtime_ns < y->mtime_ns ? -1 : 1;
    return strcmp(x->rel, y->rel);
}

static int latest_first(const void *a, const void *b)
{
    const fentry *x = ((const pick *)a)->e, *y = ((const pick *)b)->e;
    if (x->mtime_ns != y->mtime_ns)
        return x->mtime_ns > y->mtime_ns ? -1 : 1;
    return strcmp(x->rel, y->rel);
}

/*
 * Plan the partitions of one file: plain line files over split_bytes in
 * line-aligned splits, anything else whole (compressed files, and JSON and
 * CSV, whose malformed lines need their line numbers and CSV its column
 * count from the start). The reader checks that the file is still the one
 * found (device and inode) and reports it otherwise.
 */
static sl_status plan_file(file_source *fs, sl_plan *plan, const fentry *e,
                           bool *planned)
{
    char *path = sl__file_join(fs->w.root, e->rel);
    size_t plen, dlen;
    int64_t size, start, split;
    char *desc;
    sl_status st = SL_OK;
    part_desc d;

    *planned = false;
    if (!path)
        return SL_ENOMEM;
    /* The size the watcher saw when the file was complete: no stat here
     * (the reader checks it is still the same file). */
    plen = strlen(path);
    size = e->size;
    memset(&d, 0, sizeof d); /* no uninitialised padding in the copies */
    d.whole = compression_of(path) != COMP_NONE ||
              fs->rec.format != SL__REC_LINES || size <= fs->split_bytes;
    split = d.whole ? (size ? size : 1) : fs->split_bytes;
    dlen = sizeof(part_desc) + plen + 1;
    if (!(desc = sl_malloc(dlen))) {
        sl_free(path);
        return SL_ENOMEM;
    }
    memcpy(desc + sizeof(part_desc), path, plen + 1);
    d.size = size;
    d.dev = e->dev;
    d.ino = e->ino;
    d.path_len = (uint32_t)plen;
    for (start = 0; st == SL_OK && (start < size || start == 0);
         start += split) {
        d.start = start;
        d.end = start + split < size ? start + split : size;
        memcpy(desc, &d, sizeof d);
        st = sl_plan_add_reader(plan, file_read, desc, dlen, fs);
        if (size == 0)
            break;
    }
    sl_free(desc);
    sl_free(path);
    *planned = st == SL_OK;
    return st;
}

/* Append s to the offsets JSON in *b (a growing buffer). */
static bool json_add(char **b, size_t *len, size_t *cap, const char *s)
{
    sl_value v = sl_cstr(s);
    size_t need = sl_value_format_json(&v, NULL, 0) + 4;
    if (*len + need > *cap) {
        size_t c = (*len + need) * 2;
        char *p = sl_realloc(*b, c);
        if (!p)
            return false;
        *b = p;
        *cap = c;
    }
    if ((*b)[*len - 1] != '[')
        (*b)[(*len)++] = ',';
    *len += sl_value_format_json(&v, *b + *len, *cap - *len);
    return true;
}

static taken_batch *taken_new(int64_t batch_id, size_t n)
{
    taken_batch *tb = sl_malloc(sizeof *tb);
    if (!tb)
        return NULL;
    memset(tb, 0, sizeof *tb);
    tb->batch_id = batch_id;
    tb->rel = sl_malloc(n * sizeof *tb->rel);
    tb->dev = sl_malloc(n * sizeof *tb->dev);
    tb->ino = sl_malloc(n * sizeof *tb->ino);
    if (!tb->rel || !tb->dev || !tb->ino) {
        sl_free(tb->rel);
        sl_free(tb->dev);
        sl_free(tb->ino);
        sl_free(tb);
        return NULL;
    }
    return tb;
}

static void taken_free(taken_batch *tb)
{
    size_t i;
    if (!tb)
        return;
    for (i = 0; i < tb->n; i++)
        sl_free(tb->rel[i]);
    sl_free(tb->rel);
    sl_free(tb->dev);
    sl_free(tb->ino);
    sl_free(tb);
}

static sl_status file_plan(void *state, int64_t batch_id, int64_t time_ms,
                           sl_plan *plan)
{
    file_source *fs = state;
    int64_t now = sl__now_mono_ms();
    pick *picks = NULL;
    size_t n = 0, cap = 0, i, take, jlen, jcap = 64;
    taken_batch *tb = NULL, **tail;
    char *json = NULL;
    fentry *e, *next;
    sl_status st;
    (void)time_ms;

    if ((st = sl__watch_update(&fs->w, now)) != SL_OK)
        return st;
    /* Ready files, the too old dropped; the table forgets old entries. */
    for (i = 0; i < fs->w.files.nbuckets; i++)
        for (e = fs->w.files.buckets[i]; e; e = next) {
            next = e->next;
            if (now - e->found_ms <= fs->w.max_age_ms) {
                if (e->state != F_READY)
                    continue;
                if (n == cap) {
                    pick *p =
                        sl_realloc(picks, (cap ? cap * 2 : 64) * sizeof *p);
                    if (!p) {
                        sl_free(picks);
                        return SL_ENOMEM;
                    }
                    picks = p;
                    cap = cap ? cap * 2 : 64;
                }
                picks[n++].e = e;
            } else if (e->state == F_READY || e->state == F_PENDING) {
                ADD(fs->too_old, 1);
                sl_context_log(fs->ctx, SL_LOG_WARN,
                               "directory source %s: dropped '%s': waited "
                               "longer than file.max_file_age",
                               fs->w.root, e->rel);
                e->state = F_IGNORED;
            } else if (fs->w.fd >= 0) {
                /* Listings keep what is still there; events need not. */
                sl__ftab_remove(&fs->w.files, e);
            }
        }
    if (n)
        qsort(picks, n, sizeof *picks,
              fs->latest_first ? latest_first : by_mtime_name);
    take = fs->max_files > 0 && (int64_t)n > fs->max_files
               ? (size_t)fs->max_files
               : n;
    __atomic_store_n(&fs->waiting, (int64_t)(n - take), __ATOMIC_RELAXED);
    if (!take) {
        sl_free(picks);
        return SL_OK;
    }
    if (!(tb = taken_new(batch_id, take)) || !(json = sl_malloc(jcap))) {
        taken_free(tb);
        sl_free(picks);
        return SL_ENOMEM;
    }
    memcpy(json, "{\"files\":[", 10);
    jlen = 10;
    st = SL_OK;
    for (i = 0; i < take && st == SL_OK; i++) {
        bool planned;
        e = picks[i].e;
        if ((st = plan_file(fs, plan, e, &planned)) != SL_OK)
            break;
        e->state = F_TAKEN;
        if (!planned)
            continue; /* gone or replaced: reported */
        if (!json_add(&json, &jlen, &jcap, e->rel) ||
            !(tb->rel[tb->n] = sl__strdup(e->rel))) {
            st = SL_ENOMEM;
            break;
        }
        tb->dev[tb->n] = e->dev;
        tb->ino[tb->n++] = e->ino;
    }
    sl_free(picks);
    if (st == SL_OK) {
        char *p = jlen + 3 <= jcap ? json : sl_realloc(json, jlen + 3);
        if (p) {
            json = p;
            memcpy(json + jlen, "]}", 3);
            st = sl_plan_set_offsets(plan, json);
        } else {
            st = SL_ENOMEM;
        }
    }
    sl_free(json);
    ADD(fs->taken_files, (int64_t)tb->n);
    if (st != SL_OK || fs->clean == CLEAN_OFF) {
        taken_free(tb);
        return st;
    }
    for (tail = &fs->taken; *tail; tail = &(*tail)->next)
        ;
    *tail = tb;
    return SL_OK;
}

/* ------------------------------------------------------------- cleaning */

/* mkdir -p of path's parent directories. */
static bool make_parents(char *path)
{
    char *s;
    for (s = path + 1; (s = strchr(s, '/')) != NULL; s++) {
        *s = '\0';
        if (mkdir(path, 0755) != 0 && errno != EEXIST) {
            *s = '/';
            return false;
        }
        *s = '/';
    }
    return true;
}

static void clean_one(file_source *fs, const taken_batch *tb, size_t i)
{
    const char *rel = tb->rel[i];
    char *src = sl__file_join(fs->w.root, rel), *dst = NULL;
    struct stat sb;
    bool ok;
    int e = 0;
    if (!src)
        return;
    if (lstat(src, &sb) != 0 || (uint64_t)sb.st_ino != tb->ino[i] ||
        (uint64_t)sb.st_dev != tb->dev[i]) {
        /* Gone, or a newer file under its name: that one is not ours. */
        if (errno != ENOENT || lstat(src, &sb) == 0)
            sl_context_log(fs->ctx, SL_LOG_INFO,
                           "directory source %s: not cleaning '%s': "
                           "replaced since it was read",
                           fs->w.root, rel);
        sl_free(src);
        return;
    }
    if (fs->clean == CLEAN_DELETE) {
        ok = unlink(src) == 0 || errno == ENOENT;
    } else {
        ok = (dst = sl__file_join(fs->archive, rel)) != NULL &&
             make_parents(dst) && rename(src, dst) == 0;
    }
    e = errno;
    if (ok)
        ADD(fs->cleaned, 1);
    else
        sl_context_log(fs->ctx, SL_LOG_WARN,
                       "directory source %s: cannot %s '%s': %s", fs->w.root,
                       fs->clean == CLEAN_DELETE ? "delete" : "archive", rel,
                       strerror(e));
    sl_free(dst);
    sl_free(src);
}

static void file_commit(void *state, int64_t batch_id)
{
    file_source *fs = state;
    taken_batch *tb;
    size_t i;
    /* Batches commit in order; anything older was a failed batch. */
    while ((tb = fs->taken) != NULL && tb->batch_id <= batch_id) {
        fs->taken = tb->next;
        for (i = 0; tb->batch_id == batch_id && i < tb->n; i++)
            clean_one(fs, tb, i);
        taken_free(tb);
    }
}

static void file_free(void *state)
{
    file_source *fs = state;
    taken_batch *tb;
    if (!fs)
        return;
    while ((tb = fs->taken) != NULL) {
        fs->taken = tb->next;
        taken_free(tb);
    }
    sl__watch_close(&fs->w);
    sl__dead_letters_close(fs->dead);
    sl_free(fs->w.root);
    sl_free(fs->w.glob);
    sl_free(fs->archive);
    sl_free(fs->columns_text);
    sl_free(fs->columns);
    sl_free(fs);
}

static const sl_planned_ops file_ops = {SL_PLANNED_OPS_VERSION, "directory",
                                        file_plan, file_commit, file_free};

/* ---------------------------------------------------------- construction */

/* Split file.csv.columns ("a,b,c") into fs->columns. */
static bool split_columns(file_source *fs, const char *text)
{
    size_t n = 1, i = 0;
    char *s;
    const char *p;
    if (!*text)
        return true;
    for (p = text; *p; p++)
        n += *p == ',';
    if (!(fs->columns_text = sl__strdup(text)) ||
        !(fs->columns = sl_malloc(n * sizeof *fs->columns)))
        return false;
    for (s = fs->columns_text;;) {
        char *comma = strchr(s, ',');
        fs->columns[i++] = s;
        if (!comma)
            break;
        *comma = '\0';
        s = comma + 1;
    }
    fs->rec.columns = (const char *const *)fs->columns;
    fs->rec.ncolumns = i;
    return true;
}

/* The real path of p, or NULL. */
static char *real(const char *p)
{
    char *r = realpath(p, NULL), *d;
    if (!r)
        return NULL;
    d = sl__strdup(r);
    free(r); /* realpath allocates with malloc */
    return d;
}

static sl_status configure(file_source *fs, const sl_conf *c, char *err,
                           size_t errlen)
{
    const char *watch = sl_conf_get(c, "file.watch");
    const char *clean = sl_conf_get(c, "file.clean_source");
    const char *sep = sl_conf_get(c, "file.csv.separator");
    const char *quote = sl_conf_get(c, "file.csv.quote");
    const char *dead = sl_conf_get(c, "file.dead_letter");
    bool b;

    fs->w.mode = !strcmp(watch, "poll")      ? WATCH_POLL
                 : !strcmp(watch, "inotify") ? WATCH_INOTIFY
                                             : WATCH_AUTO;
    fs->clean = !strcmp(clean, "delete")    ? CLEAN_DELETE
                : !strcmp(clean, "archive") ? CLEAN_ARCHIVE
                                            : CLEAN_OFF;
    sl_conf_get_bool(c, "file.include_existing", &fs->w.include_existing);
    sl_conf_get_bool(c, "file.recursive_file_lookup", &fs->w.recursive);
    sl_conf_get_bool(c, "file.latest_first", &fs->latest_first);
    sl_conf_get_bool(c, "file.with_file_name", &fs->with_file_name);
    sl_conf_get_int(c, "file.max_files_per_trigger", &fs->max_files);
    sl_conf_get_int(c, "file.max_file_age", &fs->w.max_age_ms);
    sl_conf_get_int(c, "file.split_bytes", &fs->split_bytes);
    if (!(fs->w.glob = sl__strdup(sl_conf_get(c, "file.path_glob_filter"))))
        return SL_ENOMEM;

    sl__rec_options_init(&fs->rec);
    if (sl__rec_format_parse(sl_conf_get(c, "file.format"), &fs->rec.format) !=
        SL_OK)
        return sl__errbuf(err, errlen, SL_ECONF, "file.format: unknown '%s'",
                          sl_conf_get(c, "file.format"));
    if (strlen(sep) != 1 || strlen(quote) != 1)
        return sl__errbuf(err, errlen, SL_ECONF,
                          "file.csv.separator and file.csv.quote must be "
                          "single bytes");
    fs->rec.separator = sep[0];
    fs->rec.quote = quote[0];
    sl_conf_get_bool(c, "file.csv.header", &b);
    fs->rec.header = b;
    if (!split_columns(fs, sl_conf_get(c, "file.csv.columns")))
        return SL_ENOMEM;
    if (sl__rec_options_check(&fs->rec, err, errlen) != SL_OK)
        return SL_ECONF;
    if (*dead) {
        /* Inside the watched tree, the source would read its own output. */
        char *root = real(fs->w.root), *copy = sl__strdup(dead), *slash;
        char *parent = NULL;
        bool inside = false;
        if (copy && (slash = strrchr(copy, '/')) != NULL) {
            *slash = '\0';
            parent = real(*copy ? copy : "/");
        } else if (copy) {
            parent = real(".");
        }
        if (root && parent) {
            size_t n = strlen(root);
            inside = strncmp(parent, root, n) == 0 &&
                     (parent[n] == '/' || parent[n] == '\0');
        }
        sl_free(root);
        sl_free(parent);
        sl_free(copy);
        if (inside)
            return sl__errbuf(err, errlen, SL_ECONF,
                              "file.dead_letter '%s' lies inside the watched "
                              "directory",
                              dead);
        if (sl__dead_letters_open(dead, &fs->dead, err, errlen) != SL_OK)
            return SL_EIO;
    }

    if (fs->clean == CLEAN_ARCHIVE) {
        const char *dir = sl_conf_get(c, "file.source_archive_dir");
        char *root, *arch;
        size_t n;
        bool inside;
        if (!*dir)
            return sl__errbuf(err, errlen, SL_ECONF,
                              "file.clean_source archive needs "
                              "file.source_archive_dir");
        if (mkdir(dir, 0755) != 0 && errno != EEXIST)
            return sl__errbuf(err, errlen, SL_EIO,
                              "file.source_archive_dir '%s': %s", dir,
                              strerror(errno));
        root = real(fs->w.root);
        arch = real(dir);
        if (!root || !arch) {
            sl_free(root);
            sl_free(arch);
            return sl__errbuf(err, errlen, SL_EIO,
                              "file.source_archive_dir '%s': %s", dir,
                              strerror(errno));
        }
        n = strlen(root);
        inside =
            strncmp(arch, root, n) == 0 && (arch[n] == '/' || arch[n] == '\0');
        sl_free(root);
        if (inside) {
            sl_free(arch);
            return sl__errbuf(err, errlen, SL_ECONF,
                              "file.source_archive_dir '%s' lies inside the "
                              "watched directory",
                              dir);
        }
        fs->archive = arch;
    }
    return SL_OK;
}

sl_dstream *sl_file_stream(sl_context *ctx, const char *dir,
                           const sl_conf *conf)
{
    char err[512] = "";
    file_source *fs;
    sl_status st;

    if (!ctx)
        return NULL;
    if (!dir || !*dir) {
        sl_context_set_error(ctx, SL_EINVAL, "directory source: no directory");
        return NULL;
    }
    if (!conf)
        conf = ctx->conf;
    if (!(fs = sl_malloc(sizeof *fs))) {
        sl_context_set_error(ctx, SL_ENOMEM, "out of memory");
        return NULL;
    }
    memset(fs, 0, sizeof *fs);
    fs->ctx = ctx;
    fs->w.ctx = ctx;
    fs->w.fd = -1;
    fs->max_line = sl__conf_int(ctx->conf, "receiver.max_line_bytes");
    st = (fs->w.root = sl__strdup(dir)) ? configure(fs, conf, err, sizeof err)
                                        : SL_ENOMEM;
    if (st == SL_OK)
        st = sl__watch_open(&fs->w, err, sizeof err);
    /* The listing at start: what is there now is "existing". */
    if (st == SL_OK)
        st = sl__watch_update(&fs->w, sl__now_mono_ms());
    if (st != SL_OK) {
        sl_context_set_error(ctx, st, "directory source: %s",
                             *err ? err : sl_strerror(st));
        file_free(fs);
        return NULL;
    }
    return sl_planned_stream(ctx, &file_ops, fs);
}

sl_dstream *sl_text_file_stream(sl_context *ctx, const char *dir)
{
    return sl_file_stream(ctx, dir, NULL);
}

sl_status sl_file_stream_stats(sl_dstream *s, sl_file_stats *out)
{
    file_source *fs = s ? sl_planned_stream_state(s, &file_ops) : NULL;
    if (!fs || !out)
        return SL_EINVAL;
    out->files_found = GET(fs->taken_files) + GET(fs->waiting);
    out->files_taken = GET(fs->taken_files);
    out->files_failed = GET(fs->failed);
    out->files_too_old = GET(fs->too_old);
    out->files_cleaned = GET(fs->cleaned);
    out->files_waiting = GET(fs->waiting);
    out->lines = GET(fs->lines);
    out->malformed = GET(fs->malformed);
    out->lines_too_long = GET(fs->too_long);
    out->bytes = GET(fs->bytes);
    return SL_OK;
}
