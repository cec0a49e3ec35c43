/*
 * The directory source's seen-files log (docs/checkpoint-format.md,
 * "Source logs"): with a checkpoint, every batch that took files writes,
 * through the engine's source log, the files taken so far that are still
 * there and the files found ready but not taken yet. A restart reads it
 * back, so that no file is taken twice however old its batch, and the
 * next batches take what an uninterrupted run would have taken.
 */
#include "file/file_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

sl_status sl__file_seen_add(file_source *fs, const fentry *e, int64_t batch)
{
    bool created;
    fentry *s;
    /* Without a checkpoint nothing would ever compact the set. */
    if (!fs->seen_track)
        return SL_OK;
    if (!(s = sl__ftab_get(&fs->seen, e->rel, &created)))
        return SL_ENOMEM;
    s->state = F_TAKEN;
    s->dev = e->dev;
    s->ino = e->ino;
    s->size = e->size;
    s->mtime_ns = e->mtime_ns;
    s->batch = batch;
    fs->seen_dirty = true;
    return SL_OK;
}

/*
 * Forget the files that are gone (deleted, cleaned, renamed over): such a
 * file cannot come back as it was, and a new file under its name is a new
 * file. This bounds the log by the directory's contents, however long the
 * job runs. An lstat that fails otherwise (EACCES) keeps the entry.
 */
static void compact(file_source *fs)
{
    struct stat sb;
    fentry *e, *next;
    size_t i;
    for (i = 0; i < fs->seen.nbuckets; i++)
        for (e = fs->seen.buckets[i]; e; e = next) {
            char *path = sl__file_join(fs->w.root, e->rel);
            bool gone;
            next = e->next;
            if (!path)
                continue;
            gone = lstat(path, &sb) != 0 ? errno == ENOENT
                                         : (uint64_t)sb.st_dev != e->dev ||
                                               (uint64_t)sb.st_ino != e->ino;
            sl_free(path);
            if (gone)
                sl__ftab_remove(&fs->seen, e);
        }
}

/* Append every entry of t in state `want` to the JSON in *b. */
static bool add_all(char **b, size_t *len, size_t *cap, const ftab *t,
                    fstate want)
{
    char extra[48];
    const fentry *e;
    size_t i;
    for (i = 0; i < t->nbuckets; i++)
        for (e = t->buckets[i]; e; e = e->next) {
            if (e->state != want)
                continue;
            if (want == F_TAKEN)
                snprintf(extra, sizeof extra, ",\"batch\":%lld",
                         (long long)e->batch);
            else
                snprintf(extra, sizeof extra, ",\"ready\":true");
            if (!sl__file_json_add(b, len, cap, e, extra))
                return false;
        }
    return true;
}

/* {"version":1,"started_ms":N,"files":[...]}: taken files with their
 * batch, then the ready ones (sl_malloc'd, NUL-terminated). */
static char *build(file_source *fs, size_t *len)
{
    size_t cap = 256;
    char *b = sl_malloc(cap), *p;
    if (!b)
        return NULL;
    *len = (size_t)snprintf(b, cap,
                            "{\"version\":1,\"started_ms\":%lld,"
                            "\"files\":[",
                            (long long)fs->started_ms);
    if (!add_all(&b, len, &cap, &fs->seen, F_TAKEN) ||
        !add_all(&b, len, &cap, &fs->w.files, F_READY) ||
        !(p = *len + 3 <= cap ? b : sl_realloc(b, *len + 3))) {
        sl_free(b);
        return NULL;
    }
    memcpy(p + *len, "]}", 3);
    *len += 2;
    return p;
}

sl_status sl__file_checkpoint(void *state, int64_t batch_id, sl_source_log *log)
{
    file_source *fs = state;
    size_t len;
    char *json;
    sl_status st;
    (void)batch_id;
    /* Only a batch that took files changes the log (and the first, for
     * started_ms): files turn ready in the batch that then takes them (or
     * leaves some for later ones, which take files too). */
    if (!fs->seen_dirty)
        return SL_OK;
    compact(fs);
    if (!(json = build(fs, &len)))
        return SL_ENOMEM;
    st = sl_source_log_write(log, json, len);
    sl_free(json);
    if (st == SL_OK)
        fs->seen_dirty = false;
    return st;
}

/* One entry of the log: taken by a batch, or ready. */
static sl_status apply_entry(file_source *fs, const sl_value *o, sl__arena *a)
{
    const sl_value *batch = sl__file_json_member(o, "batch");
    const sl_value *ready = sl__file_json_member(o, "ready");
    fentry e, *t;
    if (!sl__file_json_entry(o, a, &e))
        return SL_ECORRUPT;
    t = sl__ftab_find(&fs->w.files, e.rel);
    if (t && (t->dev != e.dev || t->ino != e.ino))
        t = NULL; /* another file under the name now: a new one */
    if (batch && batch->kind == SL_KIND_INT) {
        if (t)
            t->state = F_TAKEN;
        return sl__file_seen_add(fs, &e, batch->u.i);
    }
    if (!ready || ready->kind != SL_KIND_BOOL || !ready->u.b)
        return SL_ECORRUPT;
    /* Ready then, and unchanged since: ready now, as it would have been
     * in an uninterrupted run (a changed file waits to be stable again). */
    if (t && t->size == e.size && t->mtime_ns == e.mtime_ns &&
        (t->state == F_PENDING || t->state == F_IGNORED))
        t->state = F_READY;
    return SL_OK;
}

/*
 * "Existing" means there at the job's first start: files the listing at
 * a start ignored but that were modified at or after since_ms came later
 * and are taken like any new file (a file moved in while the source was
 * starting, or after a restart's first start).
 */
void sl__file_reclassify(file_source *fs, int64_t since_ms)
{
    fentry *e;
    size_t i;
    if (fs->w.include_existing)
        return;
    for (i = 0; i < fs->w.files.nbuckets; i++)
        for (e = fs->w.files.buckets[i]; e; e = e->next)
            if (e->state == F_IGNORED && e->mtime_ns / 1000000 >= since_ms) {
                e->state = F_PENDING;
                /* inotify lists once at such a start: once more, to see
                 * them stable (no event will come for them) */
                if (fs->w.relist < 1)
                    fs->w.relist = 1;
            }
}

static sl_status apply(file_source *fs, const sl_value *root, sl__arena *a)
{
    const sl_value *files = sl__file_json_member(root, "files");
    const sl_value *started = sl__file_json_member(root, "started_ms");
    sl_status st = SL_OK;
    uint32_t i;
    if (!files || !started || started->kind != SL_KIND_INT ||
        (files->kind < SL_KIND_PAIR && files->kind != SL_KIND_NULL))
        return SL_ECORRUPT;
    fs->started_ms = started->u.i;
    sl__file_reclassify(fs, fs->started_ms);
    for (i = 0; files->kind != SL_KIND_NULL && i < files->len && !st; i++)
        st = apply_entry(fs, &files->u.items[i], a);
    return st;
}

sl_status sl__file_recover(void *state, int64_t batch_id, sl_source_log *log)
{
    file_source *fs = state;
    sl_value root;
    sl__arena a;
    size_t len;
    void *data = NULL;
    sl_status st;
    (void)batch_id;
    fs->seen_track = true;
    st = sl_source_log_read(log, &data, &len);
    if (st == SL_ENOTFOUND)
        return SL_OK; /* nothing taken before: a first start */
    if (st != SL_OK)
        return st;
    sl__arena_init(&a, 4096);
    st = sl__file_json_parse(data, len, &a, &root);
    if (st == SL_OK)
        st = apply(fs, &root, &a);
    sl__arena_free(&a);
    sl_free(data);
    if (st == SL_OK)
        fs->seen_dirty = false;
    return st;
}
