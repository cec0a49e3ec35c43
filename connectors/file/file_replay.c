/*
 * Replaying the directory source after a restart: a batch's recorded
 * offsets name each file with its device, inode, size and mtime; replan
 * plans exactly those bytes again (a file that grew is read to its
 * recorded size) or fails naming the file that no longer holds them, and
 * restore marks the files of the kept committed batches as taken (older
 * ones come from the seen-files log, file_seen.c).
 */
#include "file/file_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* The parsed offsets: the files of one batch, in plan order. */
typedef struct rec_files {
    sl__arena arena;
    fentry *files; /* rel points into the arena */
    size_t n;
} rec_files;

const sl_value *sl__file_json_member(const sl_value *obj, const char *key)
{
    uint32_t i;
    if (obj->kind < SL_KIND_PAIR)
        return NULL;
    for (i = 0; i < obj->len; i++) {
        const sl_value *kv = &obj->u.items[i];
        if (kv->kind == SL_KIND_PAIR && kv->len == 2 &&
            kv->u.items[0].kind == SL_KIND_STR &&
            kv->u.items[0].len == strlen(key) &&
            memcmp(kv->u.items[0].u.s, key, kv->u.items[0].len) == 0)
            return &kv->u.items[1];
    }
    return NULL;
}

/* A number written as a decimal string (device, inode, mtime). */
static bool str_u64(const sl_value *v, uint64_t *out)
{
    char buf[32], *end;
    if (!v || v->kind != SL_KIND_STR || v->len == 0 || v->len >= sizeof buf)
        return false;
    memcpy(buf, v->u.s, v->len);
    buf[v->len] = '\0';
    errno = 0;
    *out = strtoull(buf, &end, 10);
    return *end == '\0' && errno == 0;
}

bool sl__file_json_entry(const sl_value *o, sl__arena *a, fentry *e)
{
    const sl_value *path = sl__file_json_member(o, "path"),
                   *size = sl__file_json_member(o, "size");
    uint64_t mtime;
    memset(e, 0, sizeof *e);
    if (!path || path->kind != SL_KIND_STR || !size ||
        size->kind != SL_KIND_INT || size->u.i < 0 ||
        !str_u64(sl__file_json_member(o, "dev"), &e->dev) ||
        !str_u64(sl__file_json_member(o, "ino"), &e->ino) ||
        !str_u64(sl__file_json_member(o, "mtime_ns"), &mtime) ||
        !(e->rel = sl__arena_alloc(a, path->len + 1)))
        return false;
    memcpy(e->rel, path->u.s, path->len);
    e->rel[path->len] = '\0';
    e->size = size->u.i;
    e->mtime_ns = (int64_t)mtime;
    return true;
}

sl_status sl__file_json_parse(const char *json, size_t len, sl__arena *a,
                              sl_value *root)
{
    sl__rec_options o;
    sl__rec_reader r;
    char err[128];
    sl_status st;

    sl__rec_options_init(&o);
    o.format = SL__REC_JSON;
    if ((st = sl__rec_reader_init(&r, &o, err, sizeof err)) != SL_OK)
        return st;
    st = sl__rec_parse(&r, json, len, sl__rec_arena_alloc, a, root, err,
                       sizeof err);
    sl__rec_reader_free(&r);
    if (st != SL_OK)
        return st == SL_ENOMEM ? st : SL_ECORRUPT;
    return SL_OK;
}

/* Parse {"files":[{...}, ...]} as file_plan wrote it. */
static sl_status parse_files(const char *json, rec_files *out)
{
    sl_value root;
    const sl_value *files;
    sl_status st;
    size_t i;

    st = sl__file_json_parse(json, strlen(json), &out->arena, &root);
    if (st != SL_OK)
        return st;
    files = sl__file_json_member(&root, "files");
    if (!files || (files->kind < SL_KIND_PAIR && files->kind != SL_KIND_NULL))
        return SL_ECORRUPT;
    out->n = files->kind == SL_KIND_NULL ? 0 : files->len;
    out->files = sl__arena_alloc(&out->arena, (out->n + 1) * sizeof(fentry));
    if (!out->files)
        return SL_ENOMEM;
    for (i = 0; i < out->n; i++)
        if (!sl__file_json_entry(&files->u.items[i], &out->arena,
                                 &out->files[i]))
            return SL_ECORRUPT;
    return SL_OK;
}

/*
 * The file must still hold the bytes recorded: the same device and inode,
 * at least the recorded size (appends are not read). An mtime that moved
 * while the size stayed is reported: the content may have been rewritten
 * in place, which no check short of a checksum can see.
 */
static sl_status check_file(file_source *fs, const fentry *e, sl_plan *plan)
{
    char *path = sl__file_join(fs->w.root, e->rel);
    struct stat sb;
    int64_t mt;
    sl_status st = SL_ECORRUPT;
    if (!path)
        return SL_ENOMEM;
    if (lstat(path, &sb) != 0)
        sl_plan_set_error(plan, "file '%s' is gone: %s", path,
                          SL__STRERROR(errno));
    else if (!S_ISREG(sb.st_mode) || (uint64_t)sb.st_dev != e->dev ||
             (uint64_t)sb.st_ino != e->ino)
        sl_plan_set_error(plan, "file '%s' was replaced since it was recorded",
                          path);
    else if ((int64_t)sb.st_size < e->size)
        sl_plan_set_error(plan,
                          "file '%s' shrank from %lld to %lld bytes since it "
                          "was recorded",
                          path, (long long)e->size, (long long)sb.st_size);
    else
        st = SL_OK;
    mt = (int64_t)sb.st_mtim.tv_sec * 1000000000 + sb.st_mtim.tv_nsec;
    if (st == SL_OK && mt != e->mtime_ns && (int64_t)sb.st_size == e->size)
        sl_context_log(fs->ctx, SL_LOG_WARN,
                       "directory source %s: '%s' was modified since it was "
                       "recorded (same size): replaying it as it is now",
                       fs->w.root, e->rel);
    sl_free(path);
    return st;
}

/* The watcher must not take a replayed or committed file once more. */
static void mark_taken(file_source *fs, const fentry *e)
{
    fentry *t = sl__ftab_find(&fs->w.files, e->rel);
    if (t && t->dev == e->dev && t->ino == e->ino)
        t->state = F_TAKEN;
}

static sl_status replan_files(file_source *fs, const rec_files *rf,
                              int64_t batch_id, taken_batch *tb, sl_plan *plan)
{
    size_t i;
    sl_status st;
    bool planned;
    for (i = 0; i < rf->n; i++) {
        const fentry *e = &rf->files[i];
        if ((st = check_file(fs, e, plan)) != SL_OK ||
            (st = sl__file_plan_file(fs, plan, e, true, &planned)) != SL_OK)
            return st;
        mark_taken(fs, e);
        if ((st = sl__file_seen_add(fs, e, batch_id)) != SL_OK)
            return st;
        if (!(tb->rel[tb->n] = sl__strdup(e->rel)))
            return SL_ENOMEM;
        tb->dev[tb->n] = e->dev;
        tb->ino[tb->n++] = e->ino;
    }
    return SL_OK;
}

sl_status sl__file_replan(void *state, int64_t batch_id, int64_t time_ms,
                          const char *offsets_json, sl_plan *plan)
{
    file_source *fs = state;
    rec_files rf;
    taken_batch *tb = NULL;
    sl_status st;
    (void)time_ms;

    memset(&rf, 0, sizeof rf);
    sl__arena_init(&rf.arena, 4096);
    st = parse_files(offsets_json, &rf);
    if (st == SL_ECORRUPT)
        sl_plan_set_error(plan, "unreadable offsets '%.100s'", offsets_json);
    if (st == SL_OK && !(tb = sl__file_taken_new(batch_id, rf.n + 1)))
        st = SL_ENOMEM;
    if (st == SL_OK)
        st = replan_files(fs, &rf, batch_id, tb, plan);
    /* The same offsets again: what was recorded is what is replayed. */
    if (st == SL_OK)
        st = sl_plan_set_offsets(plan, offsets_json);
    sl__arena_free(&rf.arena);
    if (st != SL_OK) {
        sl__file_taken_free(tb);
        return st;
    }
    ADD(fs->taken_files, (int64_t)tb->n);
    sl__file_taken_keep(fs, tb);
    return SL_OK;
}

/* Keep batch_id's files for clean_source: the engine calls commit again
 * for the last committed batch after a restart, whose cleaning a crash may
 * have cut short (commit drains the older ones without cleaning them). */
static sl_status keep_for_clean(file_source *fs, const rec_files *rf,
                                int64_t batch_id)
{
    taken_batch *tb;
    size_t i;
    if (fs->clean == CLEAN_OFF)
        return SL_OK;
    if (!(tb = sl__file_taken_new(batch_id, rf->n + 1)))
        return SL_ENOMEM;
    for (i = 0; i < rf->n; i++, tb->n++) {
        if (!(tb->rel[i] = sl__strdup(rf->files[i].rel))) {
            sl__file_taken_free(tb);
            return SL_ENOMEM;
        }
        tb->dev[i] = rf->files[i].dev;
        tb->ino[i] = rf->files[i].ino;
    }
    sl__file_taken_keep(fs, tb);
    return SL_OK;
}

/*
 * The files of a kept committed batch are taken (restore is called for
 * each, oldest first). Older batches' files are known from the
 * seen-files log (sl__file_recover, called before).
 */
sl_status sl__file_restore(void *state, int64_t batch_id,
                           const char *offsets_json)
{
    file_source *fs = state;
    rec_files rf;
    sl_status st;
    size_t i;

    memset(&rf, 0, sizeof rf);
    sl__arena_init(&rf.arena, 4096);
    st = parse_files(offsets_json, &rf);
    for (i = 0; st == SL_OK && i < rf.n; i++) {
        mark_taken(fs, &rf.files[i]);
        st = sl__file_seen_add(fs, &rf.files[i], batch_id);
    }
    if (st == SL_OK)
        st = keep_for_clean(fs, &rf, batch_id);
    sl__arena_free(&rf.arena);
    return st == SL_ECORRUPT ? SL_EPARSE : st;
}
