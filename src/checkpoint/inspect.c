/*
 * `streamctl checkpoint inspect`: a read-only description of a checkpoint
 * directory (metadata, batches, sizes, problems) as JSON or a table. Every
 * file of the logs is read and checked, so a corrupt one is named here
 * before a job refuses to start on it.
 */
#include "checkpoint/checkpoint.h"
#include "checkpoint/wal.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* A growing text; oom once any append failed. */
typedef struct text {
    char *s;
    size_t len, cap;
    bool oom;
} text;

static void put(text *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void put(text *t, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (t->oom)
        return;
    va_start(ap, fmt);
    n = vsnprintf(t->s ? t->s + t->len : NULL, t->s ? t->cap - t->len : 0, fmt,
                  ap);
    va_end(ap);
    if (n >= 0 && t->s && (size_t)n < t->cap - t->len) {
        t->len += (size_t)n;
        return;
    }
    size_t cap = (t->cap ? t->cap : 256);
    while (cap <= t->len + (size_t)n)
        cap *= 2;
    char *p = sl_realloc(t->s, cap);
    if (!p || n < 0) {
        t->oom = true;
        return;
    }
    t->s = p;
    t->cap = cap;
    va_start(ap, fmt);
    vsnprintf(t->s + t->len, t->cap - t->len, fmt, ap);
    va_end(ap);
    t->len += (size_t)n;
}

/* s as a JSON string, quotes included. */
static void put_json_str(text *t, const char *s)
{
    size_t n = strlen(s), m = sl__json_escape(NULL, s, n, NULL);
    char *e = sl_malloc(m + 1);
    if (!e) {
        t->oom = true;
        return;
    }
    sl__json_escape(e, s, n, NULL);
    e[m] = 0;
    put(t, "\"%s\"", e);
    sl_free(e);
}

/* What inspect gathers before printing it. */
typedef struct report {
    sl__ckpt_io io;
    const char *dir;
    char job_id[37];
    uint32_t version; /* metadata's format version */
    size_t fingerprint_len;
    bool has_meta;
    int64_t *off, *com; /* sorted batch lists */
    size_t noff, ncom;
    struct batch_row {
        int64_t batch, off_bytes, com_bytes; /* -1: no such file */
    } * batches;
    size_t nbatches;
    struct state_row {
        char op[256], shard[256];
        uint64_t deltas, snapshots, bytes;
        int64_t first, last, last_snapshot; /* versions; -1: none */
    } * state;
    size_t nstate;
    struct dir_row {
        char name[256];
        uint64_t files, bytes;
    } * dirs;
    size_t ndirs;
    /* windows/<op> and sources/<source>: "<batch><suffix>" files */
    struct log_row {
        char name[256];
        uint64_t files, bytes;
        int64_t first, last; /* batches; -1: none */
    } * windows, *sources;
    size_t nwindows, nsources;
    char **leftovers; /* temporaries of interrupted writes */
    size_t nleftovers;
    char **problems;
    size_t nproblems;
    char **notes; /* what a restart accepts but says (a torn WAL end) */
    size_t nnotes;
    text rows; /* the output */
} report;

/* Append a copy of msg to the list *v of *n strings. */
static void add_str(report *r, char ***v, size_t *n, const char *msg)
{
    char **p = sl_realloc(*v, (*n + 1) * sizeof *p);
    char *m = sl__strdup(msg);
    if (!p || !m) {
        sl_free(m);
        if (p)
            *v = p;
        r->rows.oom = true;
        return;
    }
    *v = p;
    p[(*n)++] = m;
}

static void problem(report *r, const char *msg)
{
    add_str(r, &r->problems, &r->nproblems, msg);
}

/* Read and check one file; its size (-1 when missing), a problem if bad. */
static int64_t check_file(report *r, const char *path, uint32_t magic,
                          uint32_t max_version)
{
    void *payload;
    size_t len;
    struct stat sb;
    sl_status st = sl__ckpt_read_file(&r->io, path, magic, max_version,
                                      &payload, &len, NULL);
    if (st == SL_OK)
        sl_free(payload);
    else if (st == SL_ENOMEM)
        r->rows.oom = true;
    else
        problem(r, r->io.err.text);
    return stat(path, &sb) == 0 ? (int64_t)sb.st_size : -1;
}

static void read_meta(report *r)
{
    char path[4096];
    void *p;
    size_t len;
    sl_status st;

    snprintf(path, sizeof path, "%s/metadata", r->dir);
    st = sl__ckpt_read_file(&r->io, path, SL__CKPT_MAGIC_METADATA,
                            SL__CKPT_VERSION, &p, &len, &r->version);
    if (st == SL_ENOMEM) {
        r->rows.oom = true;
        return;
    }
    if (st != SL_OK) {
        problem(r, r->io.err.text);
        return;
    }
    if (len >= 37 && ((char *)p)[36] == '\n') {
        memcpy(r->job_id, p, 36);
        r->fingerprint_len = len - 37;
        r->has_meta = true;
    } else {
        snprintf(path + strlen(path), sizeof path - strlen(path),
                 ": no job id in the metadata");
        problem(r, path);
    }
    sl_free(p);
}

/* The batch numbers of dir/sub, sorted (what sl__ckpt_log_list does, on
 * a directory without an open handle). */
static void list_log(report *r, const char *sub, int64_t **out, size_t *n)
{
    char path[4096], *end;
    struct dirent *e;
    size_t cap = 0;
    DIR *dp;

    snprintf(path, sizeof path, "%s/%s", r->dir, sub);
    if (!(dp = opendir(path))) {
        snprintf(path + strlen(path), sizeof path - strlen(path),
                 ": cannot list: %s", strerror_r(errno, (char[128]){0}, 128));
        problem(r, path);
        return;
    }
    while ((e = readdir(dp)) != NULL) {
        const char *s = e->d_name;
        long long v;
        if (s[0] < '0' || s[0] > '9' || (s[0] == '0' && s[1]))
            continue;
        v = strtoll(s, &end, 10);
        if (*end)
            continue;
        if (*n == cap) {
            int64_t *p = sl_realloc(*out, (cap = cap ? cap * 2 : 64) * 8);
            if (!p) {
                r->rows.oom = true;
                break;
            }
            *out = p;
        }
        (*out)[(*n)++] = v;
    }
    closedir(dp);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Files and bytes under path, recursively. */
static void du(const char *path, uint64_t *files, uint64_t *bytes)
{
    struct stat sb;
    struct dirent *e;
    DIR *dp;
    char sub[4096];

    if (lstat(path, &sb) != 0)
        return;
    if (!S_ISDIR(sb.st_mode)) {
        (*files)++;
        *bytes += (uint64_t)sb.st_size;
        return;
    }
    if (!(dp = opendir(path)))
        return;
    while ((e = readdir(dp)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
        du(sub, files, bytes);
    }
    closedir(dp);
}

/* Check the entry of one log for batch b; its size or -1. */
static int64_t check_entry(report *r, const char *sub, int64_t b,
                           uint32_t magic)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s/%" PRId64, r->dir, sub, b);
    return check_file(r, path, magic, SL__CKPT_VERSION);
}

/* Merge the two sorted logs into one row per batch, checking each file. */
static void gather_batches(report *r)
{
    size_t i = 0, j = 0;

    r->batches = sl_malloc((r->noff + r->ncom + 1) * sizeof *r->batches);
    if (!r->batches) {
        r->rows.oom = true;
        return;
    }
    while (i < r->noff || j < r->ncom) {
        struct batch_row *row = &r->batches[r->nbatches++];
        bool o = i < r->noff && (j == r->ncom || r->off[i] <= r->com[j]);
        bool c = j < r->ncom && (i == r->noff || r->com[j] <= r->off[i]);
        row->batch = o ? r->off[i] : r->com[j];
        row->off_bytes =
            o ? check_entry(r, "offsets", row->batch, SL__CKPT_MAGIC_OFFSETS)
              : -1;
        row->com_bytes =
            c ? check_entry(r, "commits", row->batch, SL__CKPT_MAGIC_COMMIT)
              : -1;
        i += o;
        j += c;
    }
}

/* Size of each top-level entry of the directory. */
static void gather_dirs(report *r)
{
    struct dirent *e;
    char path[4096];
    DIR *dp = opendir(r->dir);

    while (dp && (e = readdir(dp)) != NULL) {
        struct dir_row *d;
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        d = sl_realloc(r->dirs, (r->ndirs + 1) * sizeof *d);
        if (!d) {
            r->rows.oom = true;
            break;
        }
        r->dirs = d;
        d += r->ndirs++;
        snprintf(d->name, sizeof d->name, "%s", e->d_name);
        d->files = d->bytes = 0;
        snprintf(path, sizeof path, "%s/%s", r->dir, e->d_name);
        du(path, &d->files, &d->bytes);
    }
    if (dp)
        closedir(dp);
}

/* One shard directory's versions, from the names "<version>.delta" and
 * "<version>.snapshot..." (check_shard checks their contents). */
static void scan_shard(const char *path, struct state_row *row)
{
    struct dirent *e;
    struct stat sb;
    char sub[4096], *end;
    DIR *dp = opendir(path);

    row->first = row->last = row->last_snapshot = -1;
    while (dp && (e = readdir(dp)) != NULL) {
        long long v;
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        v = strtoll(e->d_name, &end, 10);
        if (!strcmp(end, ".delta"))
            row->deltas++;
        else if (!strncmp(end, ".snapshot", 9)) {
            row->snapshots++;
            if (v > row->last_snapshot)
                row->last_snapshot = v;
        } else
            continue;
        if (row->first < 0 || v < row->first)
            row->first = v;
        if (v > row->last)
            row->last = v;
        if (snprintf(sub, sizeof sub, "%s/%s", path, e->d_name) <
                (int)sizeof sub &&
            stat(sub, &sb) == 0)
            row->bytes += (uint64_t)sb.st_size;
    }
    if (dp)
        closedir(dp);
}

/* Check one state file; its head, false when bad (a problem). */
static bool check_state_file(report *r, const char *dir, int64_t v,
                             const char *suffix, sl__ckpt_state_head *h)
{
    char path[SL__CKPT_PATH_MAX];
    sl_status st;

    if (!sl__ckpt_path(path, "%s/%" PRId64 "%s", dir, v, suffix))
        return false; /* too long to open, as du skips it */
    if ((st = sl__ckpt_state_file_check(&r->io, path, h)) == SL_OK &&
        h->version != v)
        st = sl__err(&r->io.err, SL_ECORRUPT,
                     "%s: corrupt: holds version %" PRId64, path, h->version);
    if (st == SL_ENOMEM)
        r->rows.oom = true;
    else if (st != SL_OK)
        problem(r, r->io.err.text);
    return st == SL_OK;
}

/*
 * Check every file of shard directory dir, and its chain as a restart
 * restores it at the last commit: the newest snapshot at or before it,
 * then each later delta's base naming the file before it.
 */
static void check_shard(report *r, const char *dir)
{
    int64_t *snap = NULL, *del = NULL, last = -1;
    int64_t upto = r->ncom ? r->com[r->ncom - 1] : -1;
    size_t ns = 0, nd = 0, i;
    sl__ckpt_state_head h;

    if (sl__ckpt_list_versions(&r->io, dir, ".snapshot", &snap, &ns) ||
        sl__ckpt_list_versions(&r->io, dir, ".delta", &del, &nd)) {
        problem(r, r->io.err.text);
        goto out;
    }
    /* A damaged snapshot is still the one a restart picks (by name): its
     * own problem, not a gap in the chain after it. */
    for (i = 0; i < ns; i++) {
        check_state_file(r, dir, snap[i], ".snapshot", &h);
        if (snap[i] <= upto)
            last = snap[i];
    }
    for (i = 0; i < nd; i++) {
        bool ok = check_state_file(r, dir, del[i], ".delta", &h);
        if (del[i] <= last || del[i] > upto)
            continue; /* not restored: replaced, or after the commit */
        if (ok && sl__ckpt_state_follows(&r->io, dir, del[i], h.base, last))
            problem(r, r->io.err.text);
        last = del[i];
    }
out:
    sl_free(snap);
    sl_free(del);
}

/* Add a row for state/<op>/<shard>. */
static void add_shard(report *r, const char *op, const char *shard,
                      const char *path)
{
    struct state_row *row = sl_realloc(r->state, (r->nstate + 1) * sizeof *row);
    if (!row) {
        r->rows.oom = true;
        return;
    }
    r->state = row;
    row += r->nstate++;
    memset(row, 0, sizeof *row);
    memcpy(row->op, op, strnlen(op, sizeof row->op - 1));
    memcpy(row->shard, shard, strnlen(shard, sizeof row->shard - 1));
    scan_shard(path, row);
    check_shard(r, path);
}

/* Every state/<op>/<shard> directory, by name. */
static void gather_state(report *r)
{
    char path[4096], shard[4096];
    struct dirent *op, *sh;
    DIR *dp, *sp;

    snprintf(path, sizeof path, "%s/state", r->dir);
    if (!(dp = opendir(path)))
        return;
    while ((op = readdir(dp)) != NULL) {
        if (op->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/state/%s", r->dir, op->d_name);
        if (!(sp = opendir(path)))
            continue;
        while ((sh = readdir(sp)) != NULL)
            if (sh->d_name[0] != '.') {
                /* A path too long to open is skipped, as du does. */
                if (snprintf(shard, sizeof shard, "%s/%s", path, sh->d_name) <
                    (int)sizeof shard)
                    add_shard(r, op->d_name, sh->d_name, shard);
            }
        closedir(sp);
    }
    closedir(dp);
}

/* A kind of versioned file one level under its top directory. */
typedef struct versioned {
    const char *top, *suffix;
    uint32_t magic, max_version;
} versioned;

/* Check every "<batch><suffix>" file of one windows/<op> or
 * sources/<source> directory into row (by name; other names ignored). */
static void scan_versioned(report *r, const versioned *k, const char *path,
                           struct log_row *row)
{
    char file[SL__CKPT_PATH_MAX];
    int64_t *v = NULL, size;
    size_t n = 0;
    sl_status st = sl__ckpt_list_versions(&r->io, path, k->suffix, &v, &n);

    if (st != SL_OK) {
        if (st == SL_ENOMEM)
            r->rows.oom = true;
        else
            problem(r, r->io.err.text);
        return;
    }
    row->first = n ? v[0] : -1;
    row->last = n ? v[n - 1] : -1;
    for (size_t i = 0; i < n; i++) {
        if (!sl__ckpt_path(file, "%s/%" PRId64 "%s", path, v[i], k->suffix))
            continue; /* too long to open, as du skips it */
        if ((size = check_file(r, file, k->magic, k->max_version)) >= 0) {
            row->files++;
            row->bytes += (uint64_t)size;
        }
    }
    sl_free(v);
}

/* A row for every directory under DIR/<k->top>, its files checked. */
static void gather_versioned(report *r, const versioned *k,
                             struct log_row **rows, size_t *n)
{
    char path[4096];
    struct dirent *e;
    struct log_row *row;
    DIR *dp;

    snprintf(path, sizeof path, "%s/%s", r->dir, k->top);
    if (!(dp = opendir(path)))
        return;
    while ((e = readdir(dp)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (!(row = sl_realloc(*rows, (*n + 1) * sizeof *row))) {
            r->rows.oom = true;
            break;
        }
        *rows = row;
        row += (*n)++;
        memset(row, 0, sizeof *row);
        memcpy(row->name, e->d_name, strnlen(e->d_name, sizeof row->name - 1));
        if (snprintf(path, sizeof path, "%s/%s/%s", r->dir, k->top, e->d_name) <
            (int)sizeof path)
            scan_versioned(r, k, path, row);
    }
    closedir(dp);
}

/* The WAL's segments, checked as a restart opens them (sl__wal_open):
 * only when there is a wal/ directory, which opening would create. */
static void check_wal(report *r)
{
    char path[SL__CKPT_PATH_MAX], err[512];
    struct stat sb;
    sl__wal *w = NULL;
    sl_status st;

    if (!sl__ckpt_path(path, "%s/wal", r->dir) || stat(path, &sb) != 0 ||
        !S_ISDIR(sb.st_mode))
        return;
    if ((st = sl__wal_open(path, &w, err, sizeof err)) == SL_ENOMEM)
        r->rows.oom = true;
    else if (st != SL_OK)
        problem(r, err);
    else if (sl__wal_torn(w))
        add_str(r, &r->notes, &r->nnotes, sl__wal_note(w));
    sl__wal_close(w);
}

static void add_bad(void *user, const char *msg)
{
    problem(user, msg);
}

/* The files the newest commit entry lists, checked as a restart does
 * (a damaged entry is already a problem of gather_batches). */
static void check_last_commit(report *r)
{
    char path[SL__CKPT_PATH_MAX];
    void *p = NULL;
    size_t len;
    int64_t b;

    if (!r->ncom)
        return;
    b = r->com[r->ncom - 1];
    if (!sl__ckpt_path(path, "%s/commits/%" PRId64, r->dir, b) ||
        sl__ckpt_read_file(&r->io, path, SL__CKPT_MAGIC_COMMIT,
                           SL__CKPT_VERSION, &p, &len, NULL) != SL_OK)
        return;
    if (sl__ckpt_commit_verify(&r->io, r->dir, b, p, len, add_bad, r) ==
        SL_ENOMEM)
        r->rows.oom = true;
    sl_free(p);
}

static void add_leftover(void *user, const char *path)
{
    report *r = user;
    add_str(r, &r->leftovers, &r->nleftovers, path);
}

/* A row's state: committed, uncommitted (re-run by recovery) or a commit
 * left alone by retention cut short (ignored). */
static const char *batch_state(const struct batch_row *b)
{
    if (b->off_bytes >= 0 && b->com_bytes >= 0)
        return "committed";
    return b->off_bytes >= 0 ? "uncommitted" : "commit only";
}

static void put_last(report *r, const char *name, const int64_t *b, size_t n)
{
    if (n)
        put(&r->rows, "\"%s\": %" PRId64 ", ", name, b[n - 1]);
    else
        put(&r->rows, "\"%s\": null, ", name);
}

/* "key": [{"<name>": ..., files, bytes, first_batch, last_batch}], */
static void put_versioned(report *r, const char *key, const char *name,
                          const struct log_row *rows, size_t n)
{
    put(&r->rows, "\"%s\": [", key);
    for (size_t i = 0; i < n; i++) {
        put(&r->rows, "%s{\"%s\": ", i ? ", " : "", name);
        put_json_str(&r->rows, rows[i].name);
        put(&r->rows,
            ", \"files\": %" PRIu64 ", \"bytes\": %" PRIu64
            ", \"first_batch\": %" PRId64 ", \"last_batch\": %" PRId64 "}",
            rows[i].files, rows[i].bytes, rows[i].first, rows[i].last);
    }
    put(&r->rows, "], ");
}

static void out_json(report *r)
{
    size_t i;
    put(&r->rows, "{\"dir\": ");
    put_json_str(&r->rows, r->dir);
    if (r->has_meta)
        put(&r->rows,
            ", \"job_id\": \"%s\", \"format_version\": %d, "
            "\"fingerprint_bytes\": %zu, ",
            r->job_id, (int)r->version, r->fingerprint_len);
    else
        put(&r->rows, ", \"job_id\": null, ");
    put_last(r, "last_offsets", r->off, r->noff);
    put_last(r, "last_commit", r->com, r->ncom);
    put(&r->rows, "\"batches\": [");
    for (i = 0; i < r->nbatches; i++) {
        const struct batch_row *b = &r->batches[i];
        put(&r->rows,
            "%s{\"batch\": %" PRId64 ", \"state\": \"%s\", "
            "\"offsets_bytes\": %" PRId64 ", \"commit_bytes\": %" PRId64 "}",
            i ? ", " : "", b->batch, batch_state(b), b->off_bytes,
            b->com_bytes);
    }
    put(&r->rows, "], \"dirs\": [");
    for (i = 0; i < r->ndirs; i++) {
        put(&r->rows, "%s{\"name\": ", i ? ", " : "");
        put_json_str(&r->rows, r->dirs[i].name);
        put(&r->rows, ", \"files\": %" PRIu64 ", \"bytes\": %" PRIu64 "}",
            r->dirs[i].files, r->dirs[i].bytes);
    }
    put(&r->rows, "], \"state\": [");
    for (i = 0; i < r->nstate; i++) {
        const struct state_row *st = &r->state[i];
        put(&r->rows, "%s{\"op\": ", i ? ", " : "");
        put_json_str(&r->rows, st->op);
        put(&r->rows, ", \"shard\": ");
        put_json_str(&r->rows, st->shard);
        put(&r->rows,
            ", \"deltas\": %" PRIu64 ", \"snapshots\": %" PRIu64
            ", \"first_version\": %" PRId64 ", \"last_version\": %" PRId64
            ", \"last_snapshot\": %" PRId64 ", \"bytes\": %" PRIu64 "}",
            st->deltas, st->snapshots, st->first, st->last, st->last_snapshot,
            st->bytes);
    }
    put(&r->rows, "], ");
    put_versioned(r, "windows", "op", r->windows, r->nwindows);
    put_versioned(r, "sources", "source", r->sources, r->nsources);
    put(&r->rows, "\"leftovers\": [");
    for (i = 0; i < r->nleftovers; i++) {
        put(&r->rows, "%s", i ? ", " : "");
        put_json_str(&r->rows, r->leftovers[i]);
    }
    put(&r->rows, "], \"notes\": [");
    for (i = 0; i < r->nnotes; i++) {
        put(&r->rows, "%s", i ? ", " : "");
        put_json_str(&r->rows, r->notes[i]);
    }
    put(&r->rows, "], \"problems\": [");
    for (i = 0; i < r->nproblems; i++) {
        put(&r->rows, "%s", i ? ", " : "");
        put_json_str(&r->rows, r->problems[i]);
    }
    put(&r->rows, "]}\n");
}

static void table_versioned(report *r, const char *title,
                            const struct log_row *rows, size_t n)
{
    if (n)
        put(&r->rows, "\n%-20s %8s %10s %12s\n", title, "files", "batches",
            "bytes");
    for (size_t i = 0; i < n; i++) {
        char v[48];
        snprintf(v, sizeof v, "%" PRId64 "-%" PRId64, rows[i].first,
                 rows[i].last);
        put(&r->rows, "%-20s %8" PRIu64 " %10s %12" PRIu64 "\n", rows[i].name,
            rows[i].files, v, rows[i].bytes);
    }
}

static void out_table(report *r)
{
    size_t i;
    put(&r->rows, "checkpoint  %s\n", r->dir);
    if (r->has_meta)
        put(&r->rows, "job id      %s\nformat      %d\n", r->job_id,
            (int)r->version);
    if (r->noff)
        put(&r->rows, "last offsets %" PRId64 "\n", r->off[r->noff - 1]);
    if (r->ncom)
        put(&r->rows, "last commit  %" PRId64 "\n", r->com[r->ncom - 1]);
    put(&r->rows, "\n%-12s %-12s %12s %12s\n", "batch", "state", "offsets",
        "commit");
    for (i = 0; i < r->nbatches; i++) {
        const struct batch_row *b = &r->batches[i];
        put(&r->rows, "%-12" PRId64 " %-12s %12" PRId64 " %12" PRId64 "\n",
            b->batch, batch_state(b), b->off_bytes, b->com_bytes);
    }
    put(&r->rows, "\n%-20s %10s %14s\n", "directory", "files", "bytes");
    for (i = 0; i < r->ndirs; i++)
        put(&r->rows, "%-20s %10" PRIu64 " %14" PRIu64 "\n", r->dirs[i].name,
            r->dirs[i].files, r->dirs[i].bytes);
    if (r->nstate)
        put(&r->rows, "\n%-20s %-8s %8s %10s %10s %10s %12s\n", "state op",
            "shard", "deltas", "snapshots", "versions", "snapshot", "bytes");
    for (i = 0; i < r->nstate; i++) {
        const struct state_row *st = &r->state[i];
        char v[48];
        snprintf(v, sizeof v, "%" PRId64 "-%" PRId64, st->first, st->last);
        put(&r->rows,
            "%-20s %-8s %8" PRIu64 " %10" PRIu64 " %10s %10" PRId64
            " %12" PRIu64 "\n",
            st->op, st->shard, st->deltas, st->snapshots, v, st->last_snapshot,
            st->bytes);
    }
    table_versioned(r, "window op", r->windows, r->nwindows);
    table_versioned(r, "source log", r->sources, r->nsources);
    if (r->nleftovers)
        put(&r->rows, "\nleftovers (temporaries of interrupted writes, "
                      "removed when a job opens the checkpoint):\n");
    for (i = 0; i < r->nleftovers; i++)
        put(&r->rows, "  %s\n", r->leftovers[i]);
    if (r->nnotes)
        put(&r->rows, "\nnotes (accepted by a restart):\n");
    for (i = 0; i < r->nnotes; i++)
        put(&r->rows, "  %s\n", r->notes[i]);
    put(&r->rows, "\nproblems: %s\n", r->nproblems ? "" : "none");
    for (i = 0; i < r->nproblems; i++)
        put(&r->rows, "  %s\n", r->problems[i]);
}

static void report_free(report *r)
{
    for (size_t i = 0; i < r->nproblems; i++)
        sl_free(r->problems[i]);
    sl_free(r->problems);
    for (size_t i = 0; i < r->nnotes; i++)
        sl_free(r->notes[i]);
    sl_free(r->notes);
    sl_free(r->off);
    sl_free(r->com);
    sl_free(r->batches);
    sl_free(r->dirs);
    sl_free(r->state);
    sl_free(r->windows);
    sl_free(r->sources);
    for (size_t i = 0; i < r->nleftovers; i++)
        sl_free(r->leftovers[i]);
    sl_free(r->leftovers);
    sl_free(r->rows.s);
    sl__ckpt_io_free(&r->io);
}

static const versioned windows = {"windows", ".window", SL__CKPT_MAGIC_WINDOW,
                                  SL__CKPT_WINDOW_VERSION};
static const versioned sources = {"sources", ".log", SL__CKPT_MAGIC_SOURCE_LOG,
                                  SL__CKPT_SOURCE_LOG_VERSION};

sl_status sl__ckpt_inspect(const char *dir, sl__ckpt_format fmt, char **out,
                           size_t *problems, char *errbuf, size_t errlen)
{
    report r;
    struct stat sb;
    char eb[128];

    *out = NULL;
    *problems = 0;
    if (stat(dir, &sb) != 0)
        return sl__errbuf(errbuf, errlen, SL_ENOTFOUND, "%s: %s", dir,
                          strerror_r(errno, eb, sizeof eb));
    if (!S_ISDIR(sb.st_mode))
        return sl__errbuf(errbuf, errlen, SL_ENOTFOUND, "%s: not a directory",
                          dir);
    memset(&r, 0, sizeof r);
    sl__ckpt_io_init(&r.io);
    r.dir = dir;
    read_meta(&r);
    list_log(&r, "offsets", &r.off, &r.noff);
    list_log(&r, "commits", &r.com, &r.ncom);
    if (r.noff > 1)
        qsort(r.off, r.noff, sizeof *r.off, cmp_i64);
    if (r.ncom > 1)
        qsort(r.com, r.ncom, sizeof *r.com, cmp_i64);
    gather_batches(&r);
    gather_dirs(&r);
    gather_state(&r);
    gather_versioned(&r, &windows, &r.windows, &r.nwindows);
    gather_versioned(&r, &sources, &r.sources, &r.nsources);
    check_wal(&r);
    check_last_commit(&r);
    sl__ckpt_each_temp(dir, add_leftover, &r);
    if (fmt == SL__CKPT_FORMAT_JSON)
        out_json(&r);
    else
        out_table(&r);
    if (r.rows.oom) {
        report_free(&r);
        return sl__errbuf(errbuf, errlen, SL_ENOMEM, "out of memory");
    }
    *out = r.rows.s;
    *problems = r.nproblems;
    r.rows.s = NULL;
    report_free(&r);
    return SL_OK;
}
