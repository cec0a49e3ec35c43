/*
 * The checkpoint directory: metadata (job id, format version, config
 * fingerprint), the offsets/ and commits/ logs of batches, retention and
 * rollback. Built on file.c's atomic files; recovery (src/stream) reads
 * these logs to know which batches to re-run.
 */
#include "checkpoint/checkpoint.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct sl__ckpt {
    sl__ckpt_io io;
    char *dir;
    char job_id[37];
    void *fingerprint; /* metadata's payload after the job id line */
    size_t fingerprint_len;
    void *meta;  /* metadata's whole payload */
    int lock_fd; /* DIR/lock, flock'ed while the handle lives; or -1 */
};

static const char *const log_dirs[] = {
    [SL__CKPT_OFFSETS] = "offsets", [SL__CKPT_COMMITS] = "commits"};
static const uint32_t log_magic[] = {
    [SL__CKPT_OFFSETS] = SL__CKPT_MAGIC_OFFSETS,
    [SL__CKPT_COMMITS] = SL__CKPT_MAGIC_COMMIT};

/* "dir/a/b" (b may be NULL) from sl_malloc. */
static char *path_join(const char *dir, const char *a, const char *b)
{
    size_t n = strlen(dir) + strlen(a) + (b ? strlen(b) : 0) + 3;
    char *p = sl_malloc(n);
    if (p)
        snprintf(p, n, "%s/%s%s%s", dir, a, b ? "/" : "", b ? b : "");
    return p;
}

static char *entry_path(const sl__ckpt *ck, sl__ckpt_log log, int64_t batch)
{
    char num[24];
    snprintf(num, sizeof num, "%" PRId64, batch);
    return path_join(ck->dir, log_dirs[log], num);
}

/* A uuid-like (version 4) job id from the kernel's random source. */
static sl_status new_job_id(char out[37], char *errbuf, size_t errlen)
{
    unsigned char r[16];
    size_t got = 0;
    while (got < sizeof r) {
        ssize_t n = getrandom(r + got, sizeof r - got, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return sl__errbuf(errbuf, errlen, SL_EIO,
                              "cannot make a job id: getrandom failed");
        got += (size_t)n;
    }
    r[6] = (unsigned char)((r[6] & 0x0f) | 0x40);
    r[8] = (unsigned char)((r[8] & 0x3f) | 0x80);
    for (int i = 0, o = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        o += snprintf(out + o, 3, "%02x", r[i]);
    }
    return SL_OK;
}

/* Parse metadata's payload: the job id line, then the fingerprint. */
static sl_status meta_parse(sl__ckpt *ck, const char *path, char *p, size_t len,
                            char *errbuf, size_t errlen)
{
    if (len < 37 || p[36] != '\n')
        return sl__errbuf(errbuf, errlen, SL_ECORRUPT,
                          "%s: no job id in the metadata", path);
    memcpy(ck->job_id, p, 36);
    ck->job_id[36] = 0;
    ck->meta = p;
    ck->fingerprint = p + 37;
    ck->fingerprint_len = len - 37;
    return SL_OK;
}

/* mkdir that accepts an existing directory, marking the parent dirty. */
static sl_status make_dir(sl__ckpt *ck, const char *path, char *errbuf,
                          size_t errlen)
{
    char eb[128];
    if (mkdir(path, 0755) != 0 && errno != EEXIST)
        return sl__errbuf(errbuf, errlen, SL_EIO,
                          "cannot create directory %s: %s", path,
                          strerror_r(errno, eb, sizeof eb));
    if (sl__ckpt_io_mark_parent(&ck->io, path) != SL_OK ||
        sl__ckpt_io_mark_dir(&ck->io, path) != SL_OK)
        return sl__errbuf(errbuf, errlen, SL_ENOMEM, "out of memory");
    return SL_OK;
}

/* Create a new checkpoint: directories, then metadata, all synced. */
static sl_status create(sl__ckpt *ck, const char *mpath, const void *fp,
                        size_t fplen, char *errbuf, size_t errlen)
{
    char *payload, *sub;
    sl_status st;

    if ((st = make_dir(ck, ck->dir, errbuf, errlen)) != SL_OK)
        return st;
    for (int i = 0; i < 2; i++) {
        if (!(sub = path_join(ck->dir, log_dirs[i], NULL)))
            return sl__errbuf(errbuf, errlen, SL_ENOMEM, "out of memory");
        st = make_dir(ck, sub, errbuf, errlen);
        sl_free(sub);
        if (st != SL_OK)
            return st;
    }
    if ((st = new_job_id(ck->job_id, errbuf, errlen)) != SL_OK)
        return st;
    if (!(payload = sl_malloc(37 + fplen + 1)))
        return sl__errbuf(errbuf, errlen, SL_ENOMEM, "out of memory");
    memcpy(payload, ck->job_id, 36);
    payload[36] = '\n';
    if (fplen)
        memcpy(payload + 37, fp, fplen);
    payload[37 + fplen] = 0;
    st = sl__ckpt_write_file(&ck->io, mpath, SL__CKPT_MAGIC_METADATA,
                             SL__CKPT_VERSION, payload, 37 + fplen);
    if (st == SL_OK)
        st = sl__ckpt_io_sync_dirs(&ck->io);
    if (st != SL_OK) {
        sl_free(payload);
        return sl__errbuf(errbuf, errlen, st, "%s", ck->io.err.text);
    }
    if ((st = meta_parse(ck, mpath, payload, 37 + fplen, errbuf, errlen)) !=
        SL_OK)
        sl_free(payload);
    return st;
}

/* sl__ckpt_each_temp's callback at open: the write it belonged to never
 * completed (its file keeps the old content), and DIR/lock is held. */
static void remove_temp(void *user, const char *path)
{
    (void)user;
    unlink(path);
}

/* How long an open waits for another process's lock: a job killed with
 * SIGKILL drops it as it exits, which a supervisor's restart can race. */
#define LOCK_WAIT_MS 2000

/*
 * Take DIR/lock (flock, exclusive) before anything is read or written: two
 * processes on one checkpoint (a job started twice, a rollback while it
 * runs) would each rename their own offsets, commits and state files over
 * the other's. The kernel releases the lock when its holder dies. A
 * missing DIR without create is left to open_meta to report.
 */
static sl_status take_lock(sl__ckpt *ck, bool create_it, char *errbuf,
                           size_t errlen)
{
    char *path, eb[128];
    struct timespec nap = {0, 50 * 1000 * 1000};
    int fd, waited = 0;
    sl_status st;

    if (create_it && (st = make_dir(ck, ck->dir, errbuf, errlen)) != SL_OK)
        return st;
    if (!(path = path_join(ck->dir, "lock", NULL)))
        return sl__errbuf(errbuf, errlen, SL_ENOMEM, "out of memory");
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        st = errno == ENOENT && !create_it
                 ? SL_OK
                 : sl__errbuf(errbuf, errlen, SL_EIO, "cannot open %s: %s",
                              path, strerror_r(errno, eb, sizeof eb));
        sl_free(path);
        return st;
    }
    while (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        if (errno == EINTR)
            continue;
        if (errno != EWOULDBLOCK || waited >= LOCK_WAIT_MS) {
            st = errno == EWOULDBLOCK
                     ? sl__errbuf(errbuf, errlen, SL_EBUSY,
                                  "checkpoint %s is in use by another job or "
                                  "tool (it holds %s)",
                                  ck->dir, path)
                     : sl__errbuf(errbuf, errlen, SL_EIO, "cannot lock %s: %s",
                                  path, strerror_r(errno, eb, sizeof eb));
            close(fd);
            sl_free(path);
            return st;
        }
        nanosleep(&nap, NULL);
        waited += 50;
    }
    sl_free(path);
    ck->lock_fd = fd;
    return SL_OK;
}

/* Whether DIR/sub holds a log entry (a name of digits only). */
static bool has_entries(const sl__ckpt *ck, const char *sub)
{
    char *d = path_join(ck->dir, sub, NULL);
    DIR *dp = d ? opendir(d) : NULL;
    struct dirent *e;
    bool found = false;

    while (dp && !found && (e = readdir(dp)) != NULL)
        found = e->d_name[0] &&
                strspn(e->d_name, "0123456789") == strlen(e->d_name);
    if (dp)
        closedir(dp);
    sl_free(d);
    return found;
}

/* Read an existing metadata, or create one. */
static sl_status open_meta(sl__ckpt *ck, bool create_it, const void *fp,
                           size_t fplen, char *errbuf, size_t errlen)
{
    char *mpath = path_join(ck->dir, "metadata", NULL);
    void *payload;
    size_t len;
    sl_status st;

    if (!mpath)
        return sl__errbuf(errbuf, errlen, SL_ENOMEM, "out of memory");
    st = sl__ckpt_read_file(&ck->io, mpath, SL__CKPT_MAGIC_METADATA,
                            SL__CKPT_VERSION, &payload, &len, NULL);
    if (st == SL_OK) {
        /* ck->meta owns the payload once it parsed. */
        if ((st = meta_parse(ck, mpath, payload, len, errbuf, errlen)) != SL_OK)
            sl_free(payload);
    } else if (st == SL_ENOTFOUND && create_it &&
               (has_entries(ck, "offsets") || has_entries(ck, "commits"))) {
        /* Batches without metadata: a new job id and fingerprint would
         * take them as this job's unchecked, so refuse rather than guess. */
        st = sl__errbuf(errbuf, errlen, SL_ECORRUPT,
                        "%s: missing, but the checkpoint holds batches", mpath);
    } else if (st == SL_ENOTFOUND && create_it) {
        st = create(ck, mpath, fp, fplen, errbuf, errlen);
    } else {
        sl__errbuf(errbuf, errlen, st, "%s", ck->io.err.text);
    }
    sl_free(mpath);
    return st;
}

sl_status sl__ckpt_open(const char *dir, bool create_it,
                        const void *fingerprint, size_t fingerprint_len,
                        sl__ckpt **out, char *errbuf, size_t errlen)
{
    sl__ckpt *ck = sl_malloc(sizeof *ck);
    sl_status st;

    *out = NULL;
    if (!ck)
        return sl__errbuf(errbuf, errlen, SL_ENOMEM, "out of memory");
    memset(ck, 0, sizeof *ck);
    ck->lock_fd = -1;
    sl__ckpt_io_init(&ck->io);
    if (!(ck->dir = sl__strdup(dir))) {
        st = sl__errbuf(errbuf, errlen, SL_ENOMEM, "out of memory");
        goto fail;
    }
    if ((st = take_lock(ck, create_it, errbuf, errlen)) != SL_OK)
        goto fail;
    st = open_meta(ck, create_it, fingerprint, fingerprint_len, errbuf, errlen);
    if (st != SL_OK)
        goto fail;
    sl__ckpt_each_temp(ck->dir, remove_temp, NULL);
    *out = ck;
    return SL_OK;
fail:
    sl__ckpt_close(ck);
    return st;
}

void sl__ckpt_close(sl__ckpt *ck)
{
    if (!ck)
        return;
    if (ck->lock_fd >= 0)
        close(ck->lock_fd); /* releases the flock */
    sl__ckpt_io_free(&ck->io);
    sl_free(ck->meta);
    sl_free(ck->dir);
    sl_free(ck);
}

sl__ckpt_io *sl__ckpt_io_of(sl__ckpt *ck)
{
    return &ck->io;
}

const char *sl__ckpt_errmsg(const sl__ckpt *ck)
{
    return ck->io.err.text;
}

const char *sl__ckpt_dir(const sl__ckpt *ck)
{
    return ck->dir;
}

const char *sl__ckpt_job_id(const sl__ckpt *ck)
{
    return ck->job_id;
}

const void *sl__ckpt_fingerprint(const sl__ckpt *ck, size_t *len)
{
    *len = ck->fingerprint_len;
    return ck->fingerprint;
}

sl_status sl__ckpt_log_write(sl__ckpt *ck, sl__ckpt_log log, int64_t batch,
                             const void *payload, size_t len)
{
    char *path = entry_path(ck, log, batch);
    sl_status st;

    if (!path)
        return sl__err(&ck->io.err, SL_ENOMEM, "out of memory");
    /* What the entry names (the directories the batch wrote into) is
     * synced before the entry is renamed into place: synced only after,
     * a crash between the two could keep the entry and lose a file it
     * counts on. Then the entry's own directory. */
    st = sl__ckpt_io_sync_dirs(&ck->io);
    if (st == SL_OK)
        st = sl__ckpt_write_file(&ck->io, path, log_magic[log],
                                 SL__CKPT_VERSION, payload, len);
    if (st == SL_OK)
        st = sl__ckpt_io_sync_dirs(&ck->io);
    sl_free(path);
    return st;
}

sl_status sl__ckpt_log_read(sl__ckpt *ck, sl__ckpt_log log, int64_t batch,
                            void **payload, size_t *len)
{
    char *path = entry_path(ck, log, batch);
    sl_status st;

    if (!path)
        return sl__err(&ck->io.err, SL_ENOMEM, "out of memory");
    st = sl__ckpt_read_file(&ck->io, path, log_magic[log], SL__CKPT_VERSION,
                            payload, len, NULL);
    sl_free(path);
    return st;
}

/* A log entry's name as a batch number: digits only, no leading zero. */
static bool parse_batch(const char *name, int64_t *out)
{
    char *end;
    long long v;
    if (name[0] < '0' || name[0] > '9' || (name[0] == '0' && name[1]))
        return false;
    errno = 0;
    v = strtoll(name, &end, 10);
    if (*end || errno)
        return false;
    *out = v;
    return true;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Append v to the growing array *a (*n used, *cap allocated). */
static bool push_i64(int64_t **a, size_t *n, size_t *cap, int64_t v)
{
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 64;
        int64_t *p = sl_realloc(*a, c * sizeof *p);
        if (!p)
            return false;
        *a = p;
        *cap = c;
    }
    (*a)[(*n)++] = v;
    return true;
}

sl_status sl__ckpt_log_list(sl__ckpt *ck, sl__ckpt_log log, int64_t **batches,
                            size_t *n)
{
    char *d = path_join(ck->dir, log_dirs[log], NULL), eb[128];
    size_t cap = 0;
    struct dirent *e;
    int64_t b;
    DIR *dp;
    sl_status st = SL_OK;

    *batches = NULL;
    *n = 0;
    if (!d)
        return sl__err(&ck->io.err, SL_ENOMEM, "out of memory");
    if (!(dp = opendir(d))) {
        st = sl__err(&ck->io.err, SL_EIO, "cannot list %s: %s", d,
                     strerror_r(errno, eb, sizeof eb));
        goto free_d;
    }
    while ((e = readdir(dp)) != NULL)
        if (parse_batch(e->d_name, &b) && !push_i64(batches, n, &cap, b)) {
            st = sl__err(&ck->io.err, SL_ENOMEM, "out of memory");
            break;
        }
    closedir(dp);
    if (st != SL_OK) {
        sl_free(*batches);
        *batches = NULL;
        *n = 0;
    } else if (*n > 1) {
        qsort(*batches, *n, sizeof **batches, cmp_i64);
    }
free_d:
    sl_free(d);
    return st;
}

sl_status sl__ckpt_log_last(sl__ckpt *ck, sl__ckpt_log log, int64_t *batch)
{
    int64_t *b;
    size_t n;
    sl_status st = sl__ckpt_log_list(ck, log, &b, &n);
    if (st != SL_OK)
        return st;
    if (n == 0)
        st = sl__err(&ck->io.err, SL_ENOTFOUND, "%s/%s is empty", ck->dir,
                     log_dirs[log]);
    else
        *batch = b[n - 1];
    sl_free(b);
    return st;
}

sl_status sl__ckpt_uncommitted(sl__ckpt *ck, int64_t **batches, size_t *n)
{
    int64_t *off, *com;
    size_t noff, ncom, i, j = 0, k = 0;
    sl_status st;

    *batches = NULL;
    *n = 0;
    if ((st = sl__ckpt_log_list(ck, SL__CKPT_OFFSETS, &off, &noff)) != SL_OK)
        return st;
    if ((st = sl__ckpt_log_list(ck, SL__CKPT_COMMITS, &com, &ncom)) != SL_OK)
        goto free_off;
    /* Both sorted: a merge keeps the offsets without a matching commit,
     * compacted in place. */
    for (i = 0; i < noff; i++) {
        while (j < ncom && com[j] < off[i])
            j++;
        if (j == ncom || com[j] != off[i])
            off[k++] = off[i];
    }
    sl_free(com);
    if (k == 0) {
        sl_free(off);
        return SL_OK;
    }
    *batches = off;
    *n = k;
    return SL_OK;
free_off:
    sl_free(off);
    return st;
}

/* Delete the entries of log whose batch is outside [first, last]. */
static sl_status delete_outside(sl__ckpt *ck, sl__ckpt_log log, int64_t first,
                                int64_t last)
{
    int64_t *b;
    size_t n;
    sl_status st = sl__ckpt_log_list(ck, log, &b, &n);

    /* Newest first, so that a rollback cut short leaves a prefix. */
    for (size_t i = n; st == SL_OK && i-- > 0;) {
        char *p;
        if (b[i] >= first && b[i] <= last)
            continue;
        if (!(p = entry_path(ck, log, b[i]))) {
            st = sl__err(&ck->io.err, SL_ENOMEM, "out of memory");
            break;
        }
        st = sl__ckpt_unlink(&ck->io, p);
        sl_free(p);
    }
    sl_free(b);
    return st;
}

sl_status sl__ckpt_retain(sl__ckpt *ck, int64_t retain_batches,
                          sl__ckpt_prune_fn prune, void *user)
{
    int64_t *com, first;
    size_t ncom;
    sl_status st;

    if (retain_batches < 1)
        return sl__err(&ck->io.err, SL_EINVAL,
                       "retain_batches must be at least 1, not %" PRId64,
                       retain_batches);
    if ((st = sl__ckpt_log_list(ck, SL__CKPT_COMMITS, &com, &ncom)) != SL_OK)
        return st;
    if (ncom <= (size_t)retain_batches) {
        sl_free(com);
        return SL_OK;
    }
    first = com[ncom - (size_t)retain_batches];
    sl_free(com);
    if (prune && (st = prune(user, ck, first, INT64_MAX)) != SL_OK)
        return st;
    /* Offsets before commits: cut short, an old batch is left with a
     * commit alone (ignored), never with offsets alone (re-run). */
    if ((st = delete_outside(ck, SL__CKPT_OFFSETS, first, INT64_MAX)) == SL_OK)
        st = delete_outside(ck, SL__CKPT_COMMITS, first, INT64_MAX);
    if (st == SL_OK)
        st = sl__ckpt_io_sync_dirs(&ck->io);
    return st;
}

sl_status sl__ckpt_rollback(sl__ckpt *ck, int64_t to, sl__ckpt_prune_fn prune,
                            void *user)
{
    int64_t *com;
    size_t ncom, i;
    sl_status st;

    if ((st = sl__ckpt_log_list(ck, SL__CKPT_COMMITS, &com, &ncom)) != SL_OK)
        return st;
    for (i = 0; i < ncom && com[i] != to; i++)
        ;
    if (i == ncom) {
        if (ncom == 0)
            st = sl__err(&ck->io.err, SL_ENOTFOUND,
                         "cannot roll back to batch %" PRId64
                         ": %s has no committed batch",
                         to, ck->dir);
        else
            st = sl__err(&ck->io.err, SL_ENOTFOUND,
                         "cannot roll back to batch %" PRId64
                         ": not a committed batch kept in %s (kept: %" PRId64
                         " to %" PRId64 ")",
                         to, ck->dir, com[0], com[ncom - 1]);
        sl_free(com);
        return st;
    }
    sl_free(com);
    /* Commits first, durably, and only then the state and window files
     * after `to`: cut short the other way, a restart would trust the last
     * commit left over a state whose later deltas are gone (a shard that
     * did not change has none, so nothing would notice). A batch cut
     * short keeps its offsets and is re-run, never the other way round
     * (a commit without its offsets). */
    if ((st = delete_outside(ck, SL__CKPT_COMMITS, INT64_MIN, to)) == SL_OK)
        st = sl__ckpt_io_sync_dirs(&ck->io);
    if (st == SL_OK && prune)
        st = prune(user, ck, INT64_MIN, to);
    if (st == SL_OK)
        st = delete_outside(ck, SL__CKPT_OFFSETS, INT64_MIN, to);
    if (st == SL_OK)
        st = sl__ckpt_io_sync_dirs(&ck->io);
    return st;
}
