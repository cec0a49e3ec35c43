/*
 * The state layer's files in a checkpoint directory by name, for
 * retention and rollback without a running job (streamctl checkpoint
 * rollback): state/<op>/<shard>/<version>.delta|.snapshot and
 * windows/<op>/<batch>.window (docs/checkpoint-format.md). Their contents
 * are src/state's and src/stream's.
 */
#include "checkpoint/checkpoint.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool sl__ckpt_path(char *out, const char *fmt, ...)
{
    va_list ap;
    int n;
    va_start(ap, fmt);
    n = vsnprintf(out, SL__CKPT_PATH_MAX, fmt, ap);
    va_end(ap);
    return n >= 0 && n < SL__CKPT_PATH_MAX;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The version of name when it is "<decimal><suffix>", else -1. */
static int64_t name_version(const char *name, const char *suffix)
{
    char *end;
    long long v;
    if (name[0] < '0' || name[0] > '9')
        return -1;
    errno = 0;
    v = strtoll(name, &end, 10);
    return errno || strcmp(end, suffix) ? -1 : (int64_t)v;
}

sl_status sl__ckpt_list_versions(sl__ckpt_io *io, const char *dir,
                                 const char *suffix, int64_t **v, size_t *n)
{
    DIR *dp = opendir(dir);
    struct dirent *e;
    size_t cap = 0;
    int64_t *grown, x;

    *v = NULL;
    *n = 0;
    if (!dp)
        return errno == ENOENT
                   ? SL_OK
                   : sl__err(&io->err, SL_EIO, "cannot list %s", dir);
    while ((e = readdir(dp)) != NULL) {
        if ((x = name_version(e->d_name, suffix)) < 0)
            continue;
        if (*n == cap) {
            cap = cap ? 2 * cap : 16;
            if (!(grown = sl_realloc(*v, cap * sizeof *grown))) {
                closedir(dp);
                sl_free(*v);
                *v = NULL;
                *n = 0;
                return sl__err(&io->err, SL_ENOMEM, "out of memory");
            }
            *v = grown;
        }
        (*v)[(*n)++] = x;
    }
    closedir(dp);
    if (*n)
        qsort(*v, *n, sizeof **v, cmp_i64);
    return SL_OK;
}

/* Delete dir's "<v><suffix>" files with v > after (those of batches that
 * never committed: a re-run must not find them). */
sl_status sl__ckpt_drop_after(sl__ckpt_io *io, const char *dir,
                              const char *suffix, const int64_t *v, size_t n,
                              int64_t after)
{
    char path[SL__CKPT_PATH_MAX];
    sl_status st = SL_OK;
    size_t i;
    for (i = 0; i < n && !st; i++)
        if (v[i] > after) {
            sl__ckpt_path(path, "%s/%lld%s", dir, (long long)v[i], suffix);
            st = sl__ckpt_unlink(io, path);
        }
    return st;
}

/* One shard directory: drop versions after last_kept, then what the
 * newest snapshot at or before first_kept replaces. */
static sl_status prune_shard(sl__ckpt_io *io, const char *dir,
                             int64_t first_kept, int64_t last_kept)
{
    int64_t *snap = NULL, *del = NULL, base = -1;
    size_t ns = 0, nd = 0, i;
    sl_status st;

    if ((st = sl__ckpt_list_versions(io, dir, ".snapshot", &snap, &ns)) ||
        (st = sl__ckpt_list_versions(io, dir, ".delta", &del, &nd)) ||
        (st = sl__ckpt_drop_after(io, dir, ".snapshot", snap, ns, last_kept)) ||
        (st = sl__ckpt_drop_after(io, dir, ".delta", del, nd, last_kept)))
        goto out;
    for (i = 0; i < ns; i++)
        if (snap[i] <= first_kept && snap[i] <= last_kept)
            base = snap[i];
    for (i = 0; i < ns && !st && base >= 0 && snap[i] < base; i++)
        st = sl__ckpt_drop_after(io, dir, ".snapshot", &snap[i], 1, INT64_MIN);
    for (i = 0; i < nd && !st && base >= 0 && del[i] <= base; i++)
        st = sl__ckpt_drop_after(io, dir, ".delta", &del[i], 1, INT64_MIN);
out:
    sl_free(snap);
    sl_free(del);
    return st;
}

/* Every directory two levels under top (state/<op>/<shard>) or one
 * (windows/<op>), with fn. */
static sl_status each_dir(sl__ckpt *ck, const char *top, int depth,
                          sl_status (*fn)(sl__ckpt_io *, const char *, int64_t,
                                          int64_t),
                          int64_t first_kept, int64_t last_kept)
{
    char path[SL__CKPT_PATH_MAX];
    struct dirent *e;
    sl_status st = SL_OK;
    DIR *dp = opendir(top);

    if (!dp)
        return SL_OK;
    while (!st && (e = readdir(dp)) != NULL) {
        if (e->d_name[0] == '.' ||
            !sl__ckpt_path(path, "%s/%s", top, e->d_name))
            continue;
        st = depth > 1
                 ? each_dir(ck, path, depth - 1, fn, first_kept, last_kept)
                 : fn(sl__ckpt_io_of(ck), path, first_kept, last_kept);
    }
    closedir(dp);
    return st;
}

/* windows/<op>: by name, only the files after last_kept. */
static sl_status prune_window_dir(sl__ckpt_io *io, const char *dir,
                                  int64_t first_kept, int64_t last_kept)
{
    int64_t *v;
    size_t n;
    sl_status st = sl__ckpt_list_versions(io, dir, ".window", &v, &n);
    (void)first_kept;
    if (!st)
        st = sl__ckpt_drop_after(io, dir, ".window", v, n, last_kept);
    sl_free(v);
    return st;
}

/* sources/<source>: each version is the source's whole log, so the
 * newest at or before first_kept is the oldest any kept batch needs; the
 * versions after last_kept go too (rollback). */
static sl_status prune_source_dir(sl__ckpt_io *io, const char *dir,
                                  int64_t first_kept, int64_t last_kept)
{
    int64_t *v = NULL, base = -1;
    size_t n = 0, i;
    sl_status st = sl__ckpt_list_versions(io, dir, ".log", &v, &n);
    if (!st)
        st = sl__ckpt_drop_after(io, dir, ".log", v, n, last_kept);
    for (i = 0; i < n; i++)
        if (v[i] <= first_kept && v[i] <= last_kept)
            base = v[i];
    for (i = 0; i < n && !st && base >= 0 && v[i] < base; i++)
        st = sl__ckpt_drop_after(io, dir, ".log", &v[i], 1, INT64_MIN);
    sl_free(v);
    return st;
}

sl_status sl__ckpt_prune_names(void *user, sl__ckpt *ck, int64_t first_kept,
                               int64_t last_kept)
{
    char top[SL__CKPT_PATH_MAX];
    sl_status st = SL_OK;
    (void)user;
    if (sl__ckpt_path(top, "%s/state", sl__ckpt_dir(ck)))
        st = each_dir(ck, top, 2, prune_shard, first_kept, last_kept);
    if (!st && sl__ckpt_path(top, "%s/windows", sl__ckpt_dir(ck)))
        st = each_dir(ck, top, 1, prune_window_dir, first_kept, last_kept);
    if (!st && sl__ckpt_path(top, "%s/sources", sl__ckpt_dir(ck)))
        st = each_dir(ck, top, 1, prune_source_dir, first_kept, last_kept);
    return st;
}

/* ------------------------------------------- temporaries of a crash */

/* Whether the n bytes at s are decimal digits followed by suffix. */
static bool digits_then(const char *s, size_t n, const char *suffix)
{
    size_t d = 0, m = strlen(suffix);
    while (d < n && s[d] >= '0' && s[d] <= '9')
        d++;
    return d > 0 && n - d == m && !memcmp(s + d, suffix, m);
}

static bool base_meta(const char *s, size_t n)
{
    return n == 8 && !memcmp(s, "metadata", 8);
}

static bool base_entry(const char *s, size_t n)
{
    return digits_then(s, n, "");
}

static bool base_state(const char *s, size_t n)
{
    return digits_then(s, n, ".delta") || digits_then(s, n, ".snapshot");
}

static bool base_window(const char *s, size_t n)
{
    return digits_then(s, n, ".window");
}

static bool base_log(const char *s, size_t n)
{
    return digits_then(s, n, ".log");
}

/* "<run>-<num>.wal": segments are appended in place, not renamed, but a
 * temporary of one would have this base. */
static bool base_wal(const char *s, size_t n)
{
    const char *dash = memchr(s, '-', n);
    return dash && digits_then(s, (size_t)(dash - s), "") &&
           digits_then(dash + 1, n - (size_t)(dash + 1 - s), ".wal");
}

/*
 * The directories a checkpoint owns, with how deep below the top its
 * files are and the names written there: only ".<name>.tmp" of such a
 * name is ever a temporary of sl__ckpt_write_file (file.c's tmp_name),
 * so anything else a user put there is left alone.
 */
static const struct owned_dir {
    const char *top;
    int depth;
    bool (*base_ok)(const char *base, size_t n);
} owned[] = {{".", 0, base_meta},        {"offsets", 0, base_entry},
             {"commits", 0, base_entry}, {"wal", 0, base_wal},
             {"state", 2, base_state},   {"windows", 1, base_window},
             {"sources", 1, base_log}};

/* Whether name is ".<base>.tmp" (file.c's tmp_name) with base_ok(base). */
static bool is_temp_name(const char *name,
                         bool (*base_ok)(const char *base, size_t n))
{
    size_t n = strlen(name);
    return n > 5 && name[0] == '.' && !strcmp(name + n - 4, ".tmp") &&
           base_ok(name + 1, n - 5);
}

/* fn on every temporary in dir, or in its subdirectories depth levels
 * down (names starting with '.' are not the checkpoint's directories). */
static void temps_in(const char *dir, const struct owned_dir *o, int depth,
                     sl__ckpt_temp_fn fn, void *user)
{
    char path[SL__CKPT_PATH_MAX];
    struct dirent *e;
    DIR *dp = opendir(dir);

    while (dp && (e = readdir(dp)) != NULL) {
        if (!sl__ckpt_path(path, "%s/%s", dir, e->d_name))
            continue;
        if (depth > 0 && e->d_name[0] != '.')
            temps_in(path, o, depth - 1, fn, user);
        else if (depth == 0 && is_temp_name(e->d_name, o->base_ok))
            fn(user, path);
    }
    if (dp)
        closedir(dp);
}

void sl__ckpt_each_temp(const char *dir, sl__ckpt_temp_fn fn, void *user)
{
    char top[SL__CKPT_PATH_MAX];
    for (size_t i = 0; i < sizeof owned / sizeof owned[0]; i++) {
        bool root = !strcmp(owned[i].top, ".");
        if (root ? sl__ckpt_path(top, "%s", dir)
                 : sl__ckpt_path(top, "%s/%s", dir, owned[i].top))
            temps_in(top, &owned[i], owned[i].depth, fn, user);
    }
}
