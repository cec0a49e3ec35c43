/*
 * The directory source (textFileStream and Structured Streaming's file
 * source), a planned source: on the job thread each batch takes the
 * complete files the watcher found, in (mtime, name) order up to
 * file.max_files_per_trigger, and plans one partition per file (or per
 * line-aligned split of a large plain file), which a worker reads
 * (file_read.c). Once every sink finished a batch, its files are deleted
 * or archived when file.clean_source says so.
 */
#include "file/file_int.h"
#include "core/schema.h"
#include "file/manifest.h"
#include "stream/stream_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
sl_status sl__file_plan_file(file_source *fs, sl_plan *plan, const fentry *e,
                             bool replay, bool *planned)
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
    d.whole = sl__file_compression(path) != COMP_NONE ||
              fs->rec.format != SL__REC_LINES || fs->rec.schema ||
              size <= fs->split_bytes;
    split = d.whole ? (size ? size : 1) : fs->split_bytes;
    dlen = sizeof(part_desc) + plen + 1;
    if (!(desc = sl_malloc(dlen))) {
        sl_free(path);
        return SL_ENOMEM;
    }
    memcpy(desc + sizeof(part_desc), path, plen + 1);
    d.size = size;
    d.replay = replay;
    d.dev = e->dev;
    d.ino = e->ino;
    d.path_len = (uint32_t)plen;
    for (start = 0; st == SL_OK && (start < size || start == 0);
         start += split) {
        d.start = start;
        d.end = start + split < size ? start + split : size;
        memcpy(desc, &d, sizeof d);
        st = sl_plan_add_reader(plan, sl__file_read, desc, dlen, fs);
        if (size == 0)
            break;
    }
    sl_free(desc);
    sl_free(path);
    *planned = st == SL_OK;
    return st;
}

/*
 * Append file e to the offsets JSON in *b (a growing buffer): its path
 * and what identifies its content as planned, so a replay reads the same
 * bytes or refuses. Device, inode and mtime are strings: they need not fit
 * the 2^53 a JSON number holds exactly.
 */
bool sl__file_json_add(char **b, size_t *len, size_t *cap, const fentry *e,
                       const char *extra)
{
    sl_value v = sl_cstr(e->rel);
    size_t need = sl_value_format_json(&v, NULL, 0) + 160 + strlen(extra);
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
    *len += (size_t)snprintf(*b + *len, *cap - *len, "{\"path\":");
    *len += sl_value_format_json(&v, *b + *len, *cap - *len);
    *len +=
        (size_t)snprintf(*b + *len, *cap - *len,
                         ",\"dev\":\"%llu\",\"ino\":\"%llu\",\"size\":%lld,"
                         "\"mtime_ns\":\"%lld\"%s}",
                         (unsigned long long)e->dev, (unsigned long long)e->ino,
                         (long long)e->size, (long long)e->mtime_ns, extra);
    return true;
}

taken_batch *sl__file_taken_new(int64_t batch_id, size_t n)
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

void sl__file_taken_free(taken_batch *tb)
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

/*
 * A file in a directory that a file sink writes (it has _sluice_metadata/)
 * is complete only once the manifest of its batch lists it: Spark's
 * FileStreamSource over a FileStreamSink's output. A file whose manifest
 * is corrupt is reported, counted as failed and never read.
 */
static bool in_manifest(file_source *fs, fentry *e)
{
    const char *slash = strrchr(e->rel, '/');
    char *dir, err[600];
    sl_status st;
    if (!(dir = slash ? sl__file_join(fs->w.root, e->rel) : NULL) && slash)
        return false; /* out of memory: looked at again next batch */
    if (dir)
        dir[strlen(fs->w.root) + 1 + (size_t)(slash - e->rel)] = '\0';
    if (!sl__manifest_present(dir ? dir : fs->w.root)) {
        sl_free(dir);
        return true;
    }
    st = sl__manifest_lists(dir ? dir : fs->w.root, slash ? slash + 1 : e->rel,
                            err, sizeof err);
    sl_free(dir);
    if (st == SL_OK || st == SL_ENOTFOUND)
        return st == SL_OK;
    ADD(fs->failed, 1);
    e->state = F_IGNORED;
    sl_context_log(fs->ctx, SL_LOG_ERROR,
                   "directory source %s: not reading '%s': %s", fs->w.root,
                   e->rel, err);
    return false;
}

/* Add e to the picks (*n of *cap); false when out of memory. */
static bool add_pick(pick **picks, size_t *n, size_t *cap, fentry *e)
{
    if (*n == *cap) {
        size_t grown = *cap ? *cap * 2 : 64;
        pick *p = sl_realloc(*picks, grown * sizeof *p);
        if (!p)
            return false;
        *picks = p;
        *cap = grown;
    }
    (*picks)[(*n)++].e = e;
    return true;
}

/*
 * The ready files into *picks (*n of them), the too old dropped; the table
 * forgets old entries. *pending: the files found that wait but cannot be
 * taken yet (still being written, or not in their manifest yet), part of
 * the progress entry's lag.
 */
static sl_status scan_files(file_source *fs, int64_t now, pick **picks,
                            size_t *n, int64_t *pending)
{
    size_t cap = 0, i;
    fentry *e, *next;
    *picks = NULL;
    *n = 0;
    *pending = 0;
    for (i = 0; i < fs->w.files.nbuckets; i++)
        for (e = fs->w.files.buckets[i]; e; e = next) {
            next = e->next;
            if (fs->bounded && e->found_ms > fs->cut_ms)
                continue; /* available_now: after the start */
            if (now - e->found_ms <= fs->w.max_age_ms) {
                if (e->state == F_PENDING)
                    ++*pending;
                if (e->state != F_READY)
                    continue;
                if (!in_manifest(fs, e)) {
                    *pending += e->state == F_READY;
                    continue;
                }
                if (!add_pick(picks, n, &cap, e)) {
                    sl_free(*picks);
                    return SL_ENOMEM;
                }
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
    return SL_OK;
}

static sl_status file_plan(void *state, int64_t batch_id, int64_t time_ms,
                           sl_plan *plan)
{
    file_source *fs = state;
    int64_t now = sl__now_mono_ms(), pending;
    pick *picks = NULL;
    size_t n = 0, i, take, jlen, jcap = 64;
    taken_batch *tb = NULL;
    char *json = NULL;
    fentry *e;
    sl_status st;
    (void)time_ms;

    if ((st = sl__watch_update(&fs->w, now)) != SL_OK)
        return st;
    if ((st = scan_files(fs, now, &picks, &n, &pending)) != SL_OK)
        return st;
    if (n)
        qsort(picks, n, sizeof *picks,
              fs->latest_first ? latest_first : by_mtime_name);
    take = fs->max_files > 0 && (int64_t)n > fs->max_files
               ? (size_t)fs->max_files
               : n;
    __atomic_store_n(&fs->waiting, (int64_t)(n - take), __ATOMIC_RELAXED);
    __atomic_store_n(&fs->pending, pending, __ATOMIC_RELAXED);
    fs->planned_once = true;
    if (!take) { /* recorded too: a replay then takes nothing */
        sl_free(picks);
        return sl_plan_set_offsets(plan, "{\"files\":[]}");
    }
    if (!(tb = sl__file_taken_new(batch_id, take)) ||
        !(json = sl_malloc(jcap))) {
        sl__file_taken_free(tb);
        sl_free(picks);
        return SL_ENOMEM;
    }
    memcpy(json, "{\"files\":[", 10);
    jlen = 10;
    st = SL_OK;
    for (i = 0; i < take && st == SL_OK; i++) {
        bool planned;
        e = picks[i].e;
        if ((st = sl__file_plan_file(fs, plan, e, false, &planned)) != SL_OK)
            break;
        e->state = F_TAKEN;
        if (!planned)
            continue; /* gone or replaced: reported */
        if (!sl__file_json_add(&json, &jlen, &jcap, e, "") ||
            sl__file_seen_add(fs, e, batch_id) != SL_OK ||
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
    if (st != SL_OK) {
        sl__file_taken_free(tb);
        return st;
    }
    sl__file_taken_keep(fs, tb);
    return SL_OK;
}

void sl__file_taken_keep(file_source *fs, taken_batch *tb)
{
    taken_batch **tail;
    if (fs->clean == CLEAN_OFF) {
        sl__file_taken_free(tb);
        return;
    }
    for (tail = &fs->taken; *tail; tail = &(*tail)->next)
        ;
    *tail = tb;
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
                       SL__STRERROR(e));
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
        sl__file_taken_free(tb);
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
        sl__file_taken_free(tb);
    }
    sl__watch_close(&fs->w);
    sl__ftab_free(&fs->seen);
    sl__dead_letters_close(fs->dead);
    sl_free(fs->name);
    sl_free(fs->w.root);
    sl_free(fs->w.glob);
    sl_free(fs->w.only);
    sl_free(fs->archive);
    sl_free(fs->columns_text);
    sl_free(fs->columns);
    sl_schema_release(fs->schema);
    sl_free(fs);
}

/* Lines read (records, headers and lines set aside) and lines set aside,
 * malformed or over-long, for the progress entry; the lag is in files (a
 * file's lines are unknown until it is read): those found at the last plan
 * and not taken, ready beyond file.max_files_per_trigger or still pending.
 * Files that appeared since are found at the next plan. */
static void file_progress(void *state, sl_source_progress *out)
{
    file_source *fs = state;
    out->records = GET(fs->lines);
    out->malformed = GET(fs->malformed) + GET(fs->too_long);
    out->lag = GET(fs->waiting) + GET(fs->pending);
}

/* available_now: the files there now, existing ones included (as
 * Spark's AvailableNow reads every file present at start); none found
 * later. */
static sl_status file_available_now(void *state)
{
    file_source *fs = state;
    fs->bounded = true;
    fs->cut_ms = sl__now_mono_ms();
    sl__file_reclassify(fs, INT64_MIN);
    return SL_OK;
}

/* Every file of the start planned: none ready or still being written. */
static bool file_exhausted(void *state)
{
    const file_source *fs = state;
    return fs->planned_once &&
           __atomic_load_n(&fs->waiting, __ATOMIC_RELAXED) == 0 &&
           __atomic_load_n(&fs->pending, __ATOMIC_RELAXED) == 0;
}

static const sl_planned_ops file_ops = {
    SL_PLANNED_OPS_VERSION,
    "directory",
    file_plan,
    file_commit,
    file_free,
    sl__file_replan,
    sl__file_restore,
    file_progress,
    sl__file_checkpoint,
    sl__file_recover,
    file_available_now,
    file_exhausted,
};

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

/*
 * file.schema and file.parse_mode: with a schema the reader makes rows
 * (rows.c). file.csv.columns is the names-only shorthand of a schema of
 * strings, so both at once is refused rather than one silently winning.
 */
static sl_status configure_schema(file_source *fs, const sl_conf *c, char *err,
                                  size_t errlen)
{
    const char *ddl = sl_conf_get(c, "file.schema");
    char why[256];

    if (!*ddl)
        return SL_OK;
    if (fs->rec.ncolumns)
        return sl__errbuf(err, errlen, SL_ECONF,
                          "file.schema and file.csv.columns exclude each "
                          "other (columns is a schema of strings)");
    if (sl_schema_parse(ddl, &fs->schema, why, sizeof why) != SL_OK)
        return sl__errbuf(err, errlen, SL_ECONF, "file.schema: %s", why);
    if (sl__parse_mode_parse(sl_conf_get(c, "file.parse_mode"),
                             &fs->rec.mode) != SL_OK)
        return sl__errbuf(err, errlen, SL_ECONF,
                          "file.parse_mode: unknown '%s'",
                          sl_conf_get(c, "file.parse_mode"));
    fs->rec.schema = fs->schema;
    return SL_OK;
}

/*
 * The SQL view of a CSV source with file.csv.columns and no schema:
 * those names as string columns, read by position from the untyped
 * tuples (docs/sql.md "Input rows"), so that columns is the names-only
 * shorthand of a schema of strings in SQL too, while the records (and
 * what ops streams and sinks see) stay as before. Not with
 * file.with_file_name, whose records are (name, record) pairs.
 */
static sl_status columns_view(const file_source *fs, sl_dstream *s, char *err,
                              size_t errlen)
{
    sl__schema_builder *b;
    sl_schema *schema;
    size_t i;

    if (fs->schema || !fs->rec.ncolumns || fs->with_file_name)
        return SL_OK;
    if (!(b = sl__schema_builder_new()))
        return SL_ENOMEM;
    for (i = 0; i < fs->rec.ncolumns; i++)
        if (sl__schema_builder_add(b, fs->columns[i], strlen(fs->columns[i]),
                                   sl_type_scalar(SL_TYPE_STRING)) != SL_OK) {
            sl__errbuf(err, errlen, SL_ECONF, "file.csv.columns: %s",
                       sl__schema_builder_errmsg(b));
            sl__schema_builder_free(b);
            return SL_ECONF;
        }
    if (!(schema = sl__schema_builder_finish(b)))
        return SL_ENOMEM;
    sl_schema_release(s->view_schema);
    s->view_schema = schema;
    return SL_OK;
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
    const char *dead =
        sl__dead_letter_path(c, "file.dead_letter", fs->ctx->conf);
    const char *name = sl_conf_get(c, "source.name");
    sl_status st;
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
    sl_conf_get_int(c, "file.max_decompressed_bytes", &fs->max_decompressed);
    if (!(fs->w.glob = sl__strdup(sl_conf_get(c, "file.path_glob_filter"))) ||
        !(fs->name = sl__strdup(*name ? name : "directory")))
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
    if ((st = configure_schema(fs, c, err, errlen)) != SL_OK)
        return st;
    if (sl__rec_options_check(&fs->rec, err, errlen) != SL_OK)
        return SL_ECONF;
    if (dead) {
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
        if (sl__dead_letters_open(dead, sl__context_bad_counts(fs->ctx),
                                  &fs->dead, err, errlen) != SL_OK)
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
                              SL__STRERROR(errno));
        root = real(fs->w.root);
        arch = real(dir);
        if (!root || !arch) {
            sl_free(root);
            sl_free(arch);
            return sl__errbuf(err, errlen, SL_EIO,
                              "file.source_archive_dir '%s': %s", dir,
                              SL__STRERROR(errno));
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

/*
 * A path that names a regular file: its directory is watched for that
 * one name (w->only); root becomes the directory. SL_OK when it is no
 * file (a directory, or nothing yet).
 */
static sl_status one_file(file_source *fs, const sl_conf *c, char *err,
                          size_t errlen)
{
    struct stat sb;
    char *slash;
    if (stat(fs->w.root, &sb) != 0 || !S_ISREG(sb.st_mode))
        return SL_OK;
    if (*sl_conf_get(c, "file.path_glob_filter"))
        return sl__errbuf(err, errlen, SL_ECONF,
                          "'%s' is a file: file.path_glob_filter needs a "
                          "directory",
                          fs->w.root);
    slash = strrchr(fs->w.root, '/');
    if (!(fs->w.only = sl__strdup(slash ? slash + 1 : fs->w.root)))
        return SL_ENOMEM;
    if (!slash)
        strcpy(fs->w.root, ".");
    else if (slash == fs->w.root)
        slash[1] = '\0'; /* "/name": the root directory */
    else
        *slash = '\0';
    return SL_OK;
}

/*
 * file.create_if_missing: mkdir -p of the watched directory, so a job
 * whose input folder is made by its producer later can still start.
 * *created tells whether this call made it.
 */
static sl_status create_root(const char *dir, const sl_conf *c, bool *created,
                             char *err, size_t errlen)
{
    bool create = false;
    struct stat sb;
    char *p;
    int e = 0;

    sl_conf_get_bool(c, "file.create_if_missing", &create);
    if (!create || stat(dir, &sb) == 0)
        return SL_OK;
    if (!(p = sl__strdup(dir)))
        return SL_ENOMEM;
    if (!make_parents(p) || (mkdir(p, 0755) != 0 && errno != EEXIST))
        e = errno;
    sl_free(p);
    if (e)
        return sl__errbuf(err, errlen, SL_EIO,
                          "cannot create directory '%s': %s", dir,
                          SL__STRERROR(e));
    *created = true;
    return SL_OK;
}

sl_dstream *sl_file_stream(sl_context *ctx, const char *dir,
                           const sl_conf *conf)
{
    char err[512] = "";
    file_source *fs;
    sl_dstream *s;
    sl_schema *schema;
    const char *mode;
    bool created = false;
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
    /* A restart takes the first start's from the log; the first batch
     * writes the log even if it takes nothing, to keep it. */
    fs->started_ms = sl__now_wall_ms();
    fs->seen_dirty = true;
    /* room for "." when the path is a file name alone */
    if (!(fs->w.root = sl_malloc(strlen(dir) + 2))) {
        st = SL_ENOMEM;
    } else {
        strcpy(fs->w.root, dir);
        st = one_file(fs, conf, err, sizeof err);
        if (st == SL_OK && !sl__context_trial(ctx))
            st = create_root(fs->w.root, conf, &created, err, sizeof err);
    }
    if (st == SL_OK)
        st = configure(fs, conf, err, sizeof err);
    /* A trial build looks at the stream, never runs it: no watch. */
    if (st == SL_OK && !sl__context_trial(ctx))
        st = sl__watch_open(&fs->w, err, sizeof err);
    /* The listing at start: what is there now is "existing". */
    if (st == SL_OK && !sl__context_trial(ctx))
        st = sl__watch_update(&fs->w, sl__now_mono_ms());
    /* Files moved in between the start and that listing are new: all of
     * them when the directory was made here, else those modified since
     * the start (as after a restart). */
    if (st == SL_OK)
        sl__file_reclassify(fs, created ? INT64_MIN : fs->started_ms);
    if (st != SL_OK) {
        sl_context_set_error(ctx, st, "directory source: %s",
                             *err ? err : sl_strerror(st));
        file_free(fs);
        return NULL;
    }
    schema = fs->schema ? sl_schema_retain(fs->schema) : NULL;
    mode = sl__parse_mode_name(fs->rec.mode);
    s = sl_planned_stream(ctx, &file_ops, fs);
    if (s)
        sl__dstream_set_schema(s, schema, mode);
    sl_schema_release(schema);
    if (s && (st = columns_view(fs, s, err, sizeof err)) != SL_OK) {
        sl_context_set_error(ctx, st, "directory source: %s",
                             *err ? err : sl_strerror(st));
        return NULL; /* s (and fs with it) is the context's now */
    }
    return s;
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
    out->files_too_large = GET(fs->too_large);
    return SL_OK;
}
