/*
 * Unit tests of src/checkpoint: atomic files with a checked header (round
 * trips, truncation at every length, a flipped bit in every header byte
 * and in the payload, deletion, each named by path and reason), the dirty
 * directory set, the checkpoint directory (metadata, offsets and commits
 * logs, uncommitted batches), retention, rollback, inspect, and write
 * failures injected at every step (and a real full tmpfs when mount works)
 * that leave the previous state readable.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sluice/checkpoint.h>
#include <sluice/core.h>

#include "checkpoint/checkpoint.h"
#include "core/core.h"
#include "file/manifest.h"
#include "sl_test.h"
#include "sl_test_util.h"

#define MAGIC SL__CKPT_MAGIC('T', 'E', 'S', 'T')

/* ------------------------------------------------------------ helpers */

static void rm_rf_sub(const char *dir, const char *sub)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, sub);
    sl_test_remove_tree(p);
}

static bool contains(const char *s, const char *part)
{
    return s && strstr(s, part) != NULL;
}

#define SL_CHECK_HAS(s, part)                                                  \
    do {                                                                       \
        const char *sl_s_ = (s);                                               \
        if (!contains(sl_s_, part))                                            \
            sl_test_fail(__FILE__, __LINE__, "\"%s\" does not contain \"%s\"", \
                         sl_s_ ? sl_s_ : "(null)", part);                      \
        else                                                                   \
            CU_PASS(#s " has " part);                                          \
    } while (0)

/* Read path expecting failure st; the message must name path and why. */
static void expect_bad(sl__ckpt_io *io, const char *path, sl_status want,
                       const char *why)
{
    void *p = NULL;
    size_t len;
    sl_status st = sl__ckpt_read_file(io, path, MAGIC, 1, &p, &len, NULL);
    SL_CHECK_INT(st, want);
    SL_CHECK_HAS(sl__ckpt_io_errmsg(io), path);
    SL_CHECK_HAS(sl__ckpt_io_errmsg(io), why);
    if (st == SL_OK)
        sl_free(p);
}

/* Read path expecting the payload text want. */
static void expect_text(sl__ckpt_io *io, const char *path, uint32_t magic,
                        const char *want)
{
    void *p = NULL;
    size_t len = 0;
    SL_CHECK_OK(sl__ckpt_read_file(io, path, magic, 1, &p, &len, NULL));
    SL_CHECK_INT(len, strlen(want));
    SL_CHECK_STR((char *)p, want);
    sl_free(p);
}

static int count_files(const char *dir)
{
    char cmd[512];
    int n = -1;
    FILE *f;
    snprintf(cmd, sizeof cmd, "ls -A '%s' | wc -l", dir);
    f = popen(cmd, "r");
    if (f) {
        SL_CHECK_INT(fscanf(f, "%d", &n), 1);
        pclose(f);
    }
    return n;
}

/* ------------------------------------------------------- files */

static void test_round_trip(void)
{
    char *d = sl_test_tmpdir("sl_ckpt_"), path[256];
    static const size_t lens[] = {0, 1, 23, 24, 1000, 70000};
    sl__ckpt_io io;

    sl__ckpt_io_init(&io);
    snprintf(path, sizeof path, "%s/f", d);
    for (size_t i = 0; i < sizeof lens / sizeof *lens; i++) {
        char *buf = malloc(lens[i] + 1);
        void *p;
        size_t len;
        uint32_t version;
        for (size_t j = 0; j < lens[i]; j++)
            buf[j] = (char)(j * 31 + i);
        SL_CHECK_OK(sl__ckpt_write_file(&io, path, MAGIC, 3, buf, lens[i]));
        SL_CHECK_OK(
            sl__ckpt_read_file(&io, path, MAGIC, 3, &p, &len, &version));
        SL_CHECK_INT(len, lens[i]);
        SL_CHECK_INT(version, 3);
        SL_CHECK(memcmp(p, buf, lens[i]) == 0);
        SL_CHECK_INT(((char *)p)[len], 0);
        sl_free(p);
        free(buf);
    }
    /* One directory to sync, however many files were written into it. */
    SL_CHECK_INT(io.ndirty, 1);
    /* Directories made for other layers' files are synced with them: the
     * parents of state, op and 0 (d once). */
    {
        char sub[256];
        snprintf(sub, sizeof sub, "%s/state/op/0", d);
        SL_CHECK_OK(sl__ckpt_mkdirs(&io, sub));
        SL_CHECK_OK(sl__ckpt_mkdirs(&io, sub));
        SL_CHECK_INT(io.ndirty, 3);
        SL_CHECK_OK(sl__ckpt_io_sync_dirs(&io));
        SL_CHECK_INT(io.dir_syncs, 3);
        snprintf(sub, sizeof sub, "%s/f/x", d);
        SL_CHECK_INT(sl__ckpt_mkdirs(&io, sub), SL_EIO);
        SL_CHECK_HAS(sl__ckpt_io_errmsg(&io), "/f/x: Not a directory");
        rm_rf_sub(d, "state");
    }
    /* Only the file: no temporary left beside it. */
    SL_CHECK_INT(count_files(d), 1);
    SL_CHECK_INT(io.files_written, 6);
    SL_CHECK_INT(io.ndirty, 0);
    sl__ckpt_io_free(&io);
    sl_test_remove_tree(d);
    free(d);
}

static void test_truncated_each_length(void)
{
    char *d = sl_test_tmpdir("sl_ckpt_"), path[256], why[64];
    unsigned char *whole;
    size_t n = 0;
    sl__ckpt_io io;

    sl__ckpt_io_init(&io);
    snprintf(path, sizeof path, "%s/f", d);
    SL_CHECK_OK(sl__ckpt_write_file(&io, path, MAGIC, 1, "hello world", 11));
    whole = (unsigned char *)sl_test_read_file(path, &n);
    SL_CHECK(whole != NULL);
    SL_CHECK_INT(n, SL__CKPT_HEADER_SIZE + 11);
    for (size_t cut = 0; cut < n; cut++) {
        sl_test_write_file(path, whole, cut);
        if (cut < SL__CKPT_HEADER_SIZE)
            snprintf(why, sizeof why, "truncated: %zu of 24 header bytes", cut);
        else
            snprintf(why, sizeof why, "truncated: %zu of %zu bytes", cut, n);
        expect_bad(&io, path, SL_ECORRUPT, why);
    }
    /* A byte too many is as wrong as one too few. */
    whole[n] = 'x';
    sl_test_write_file(path, whole, n + 1);
    expect_bad(&io, path, SL_ECORRUPT, "1 bytes after the payload");
    unlink(path);
    expect_bad(&io, path, SL_ENOTFOUND, "missing");
    free(whole);
    sl__ckpt_io_free(&io);
    sl_test_remove_tree(d);
    free(d);
}

/* The reason a flip of byte i of the header must give. */
static const char *flip_reason(size_t i)
{
    if (i < 4)
        return "bad magic";
    if (i < 8)
        return "unsupported";
    if (i < 16)
        return i == 8 ? "bytes after the payload" : "truncated";
    return "checksum mismatch";
}

static void test_flipped_bytes(void)
{
    char *d = sl_test_tmpdir("sl_ckpt_"), path[256];
    unsigned char *whole;
    size_t n = 0;
    sl__ckpt_io io;

    sl__ckpt_io_init(&io);
    snprintf(path, sizeof path, "%s/f", d);
    SL_CHECK_OK(sl__ckpt_write_file(&io, path, MAGIC, 1, "0123456789", 10));
    whole = (unsigned char *)sl_test_read_file(path, &n);
    SL_CHECK(whole != NULL);
    for (size_t i = 0; i < n; i++) {
        /* Byte 8's low bit makes the length 11 of a 10-byte payload;
         * other length bits claim more than the file holds. */
        unsigned char bit = i == 8 ? 0x01 : 0x80;
        whole[i] ^= bit;
        sl_test_write_file(path, whole, n);
        whole[i] ^= bit;
        if (i == 8) {
            expect_bad(&io, path, SL_ECORRUPT, "truncated: 34 of 35 bytes");
            continue;
        }
        expect_bad(&io, path, SL_ECORRUPT,
                   i < SL__CKPT_HEADER_SIZE ? flip_reason(i)
                                            : "checksum mismatch");
    }
    /* A newer format than this build reads names its version. */
    SL_CHECK_OK(sl__ckpt_write_file(&io, path, MAGIC, 2, "x", 1));
    expect_bad(&io, path, SL_ECORRUPT, "format version 2 unsupported");
    free(whole);
    sl__ckpt_io_free(&io);
    sl_test_remove_tree(d);
    free(d);
}

/* ------------------------------------------- checkpoint directory */

static sl__ckpt *open_new(const char *dir)
{
    sl__ckpt *ck = NULL;
    char err[256] = "";
    sl_status st = sl__ckpt_open(dir, true, "fp-1", 4, &ck, err, sizeof err);
    SL_CHECK_OK(st);
    if (st != SL_OK)
        printf("open: %s\n", err);
    return ck;
}

static void write_batches(sl__ckpt *ck, int64_t from, int64_t to,
                          sl__ckpt_log log)
{
    char buf[64];
    for (int64_t b = from; b <= to; b++) {
        int n = snprintf(buf, sizeof buf, "{\"batch\": %" PRId64 "}", b);
        SL_CHECK_OK(sl__ckpt_log_write(ck, log, b, buf, (size_t)n));
    }
}

static char *list_str(sl__ckpt *ck, sl__ckpt_log log)
{
    int64_t *b;
    size_t n;
    sl_test_buf out = {0};
    SL_CHECK_OK(sl__ckpt_log_list(ck, log, &b, &n));
    for (size_t i = 0; i < n; i++)
        sl_test_buf_printf(&out, "%s%" PRId64, i ? " " : "", b[i]);
    sl_free(b);
    sl_test_buf_puts(&out, "");
    return sl_test_buf_take(&out);
}

#define SL_CHECK_LIST(ck, log, want)                                           \
    do {                                                                       \
        char *sl_l_ = list_str(ck, log);                                       \
        SL_CHECK_STR(sl_l_, want);                                             \
        free(sl_l_);                                                           \
    } while (0)

static void test_metadata(void)
{
    char *d = sl_test_tmpdir("sl_ckpt_"), sub[256], err[256], id[37];
    sl__ckpt *ck, *ck2 = NULL;
    size_t len;
    const void *fp;

    snprintf(sub, sizeof sub, "%s/ck", d);
    /* Without create, a missing checkpoint is an error, not a new one. */
    SL_CHECK_INT(sl__ckpt_open(sub, false, NULL, 0, &ck2, err, sizeof err),
                 SL_ENOTFOUND);
    SL_CHECK(ck2 == NULL);
    SL_CHECK_HAS(err, "metadata");
    ck = open_new(sub);
    snprintf(id, sizeof id, "%s", sl__ckpt_job_id(ck));
    SL_CHECK_INT(strlen(id), 36);
    SL_CHECK(id[8] == '-' && id[13] == '-' && id[14] == '4' && id[23] == '-');
    sl__ckpt_close(ck);
    /* Reopened: the same id and the fingerprint of the first start. */
    SL_CHECK_OK(sl__ckpt_open(sub, true, "other", 5, &ck, err, sizeof err));
    SL_CHECK_STR(sl__ckpt_job_id(ck), id);
    fp = sl__ckpt_fingerprint(ck, &len);
    SL_CHECK_INT(len, 4);
    SL_CHECK(memcmp(fp, "fp-1", 4) == 0);
    sl__ckpt_close(ck);
    /* Another checkpoint gets another id. */
    snprintf(sub, sizeof sub, "%s/ck2", d);
    ck = open_new(sub);
    SL_CHECK(strcmp(sl__ckpt_job_id(ck), id) != 0);
    sl__ckpt_close(ck);
    /* A corrupt metadata: the job must refuse, naming file and reason. */
    snprintf(sub, sizeof sub, "%s/ck/metadata", d);
    SL_CHECK_INT(truncate(sub, 30), 0);
    snprintf(sub, sizeof sub, "%s/ck", d);
    SL_CHECK_INT(sl__ckpt_open(sub, true, NULL, 0, &ck, err, sizeof err),
                 SL_ECORRUPT);
    SL_CHECK_HAS(err, "/ck/metadata: truncated: 30 of");
    sl_test_remove_tree(d);
    free(d);
}

static void test_logs(void)
{
    char *d = sl_test_tmpdir("sl_ckpt_"), path[512];
    sl__ckpt *ck = open_new(d);
    int64_t *u, last;
    size_t n;
    void *p;
    size_t len;

    SL_CHECK_INT(sl__ckpt_log_last(ck, SL__CKPT_COMMITS, &last), SL_ENOTFOUND);
    write_batches(ck, 1, 12, SL__CKPT_OFFSETS);
    write_batches(ck, 1, 10, SL__CKPT_COMMITS);
    /* Names that are not batches, and a leftover temporary, are ignored. */
    snprintf(path, sizeof path, "%s/offsets/.13.tmp", d);
    sl_test_write_file(path, "junk", 4);
    snprintf(path, sizeof path, "%s/offsets/007", d);
    sl_test_write_file(path, "junk", 4);
    SL_CHECK_LIST(ck, SL__CKPT_OFFSETS, "1 2 3 4 5 6 7 8 9 10 11 12");
    SL_CHECK_OK(sl__ckpt_log_last(ck, SL__CKPT_OFFSETS, &last));
    SL_CHECK_INT(last, 12);
    SL_CHECK_OK(sl__ckpt_log_last(ck, SL__CKPT_COMMITS, &last));
    SL_CHECK_INT(last, 10);
    SL_CHECK_OK(sl__ckpt_uncommitted(ck, &u, &n));
    SL_CHECK_INT(n, 2);
    SL_CHECK(n == 2 && u[0] == 11 && u[1] == 12);
    sl_free(u);
    SL_CHECK_OK(sl__ckpt_log_read(ck, SL__CKPT_OFFSETS, 11, &p, &len));
    SL_CHECK_STR((char *)p, "{\"batch\": 11}");
    sl_free(p);
    /* An offsets file is not a commit: the magic tells them apart. */
    snprintf(path, sizeof path, "%s/commits/11", d);
    {
        char src[512];
        size_t m = 0;
        unsigned char *b;
        snprintf(src, sizeof src, "%s/offsets/11", d);
        b = (unsigned char *)sl_test_read_file(src, &m);
        SL_CHECK(b != NULL);
        sl_test_write_file(path, b, m);
        free(b);
    }
    SL_CHECK_INT(sl__ckpt_log_read(ck, SL__CKPT_COMMITS, 11, &p, &len),
                 SL_ECORRUPT);
    SL_CHECK_HAS(sl__ckpt_errmsg(ck), "commits/11: bad magic");
    sl__ckpt_close(ck);
    /* Reopening removes the temporary an interrupted write left. */
    ck = open_new(d);
    snprintf(path, sizeof path, "%s/offsets/.13.tmp", d);
    SL_CHECK(access(path, F_OK) != 0);
    sl__ckpt_close(ck);
    sl_test_remove_tree(d);
    free(d);
}

/* A prune hook that records its arguments. */
typedef struct prune_rec {
    int calls;
    int64_t first, last;
    char commits[64]; /* the commits when it ran */
    size_t ndirty;    /* directories not yet synced when it ran */
} prune_rec;

static sl_status prune(void *user, sl__ckpt *ck, int64_t first, int64_t last)
{
    prune_rec *r = user;
    char *c = list_str(ck, SL__CKPT_COMMITS);
    r->calls++;
    r->first = first;
    r->last = last;
    snprintf(r->commits, sizeof r->commits, "%s", c ? c : "");
    free(c);
    r->ndirty = sl__ckpt_io_of(ck)->ndirty;
    return SL_OK;
}

static void test_retention(void)
{
    char *d = sl_test_tmpdir("sl_ckpt_");
    sl__ckpt *ck = open_new(d);
    prune_rec r = {0};

    write_batches(ck, 1, 11, SL__CKPT_OFFSETS);
    write_batches(ck, 1, 10, SL__CKPT_COMMITS);
    SL_CHECK_INT(sl__ckpt_retain(ck, 0, prune, &r), SL_EINVAL);
    SL_CHECK_OK(sl__ckpt_retain(ck, 20, prune, &r));
    SL_CHECK_INT(r.calls, 0);
    SL_CHECK_OK(sl__ckpt_retain(ck, 3, prune, &r));
    SL_CHECK_INT(r.calls, 1);
    SL_CHECK_INT(r.first, 8);
    SL_CHECK_INT(r.last, INT64_MAX);
    SL_CHECK_LIST(ck, SL__CKPT_OFFSETS, "8 9 10 11");
    SL_CHECK_LIST(ck, SL__CKPT_COMMITS, "8 9 10");
    /* Deleting is synced like writing: nothing left dirty. */
    SL_CHECK_INT(sl__ckpt_io_of(ck)->ndirty, 0);
    sl__ckpt_close(ck);
    sl_test_remove_tree(d);
    free(d);
}

static void test_rollback(void)
{
    char *d = sl_test_tmpdir("sl_ckpt_"), err[256];
    sl__ckpt *ck = open_new(d);
    prune_rec r = {0};

    write_batches(ck, 1, 12, SL__CKPT_OFFSETS);
    write_batches(ck, 1, 10, SL__CKPT_COMMITS);
    SL_CHECK_OK(sl__ckpt_retain(ck, 5, NULL, NULL));
    /* Beyond the retention: refused, naming what is kept. */
    SL_CHECK_INT(sl__ckpt_rollback(ck, 3, prune, &r), SL_ENOTFOUND);
    SL_CHECK_HAS(sl__ckpt_errmsg(ck), "kept: 6 to 10");
    SL_CHECK_INT(sl__ckpt_rollback(ck, 11, prune, &r), SL_ENOTFOUND);
    SL_CHECK_INT(r.calls, 0);
    SL_CHECK_LIST(ck, SL__CKPT_OFFSETS, "6 7 8 9 10 11 12");
    SL_CHECK_OK(sl__ckpt_rollback(ck, 8, prune, &r));
    SL_CHECK_INT(r.calls, 1);
    SL_CHECK_INT(r.last, 8);
    /* State files go only after the later commits are gone for good: a
     * crash between the two must not leave a commit over missing deltas. */
    SL_CHECK_STR(r.commits, "6 7 8");
    SL_CHECK_INT(r.ndirty, 0);
    SL_CHECK_LIST(ck, SL__CKPT_OFFSETS, "6 7 8");
    SL_CHECK_LIST(ck, SL__CKPT_COMMITS, "6 7 8");
    sl__ckpt_close(ck);
    /* The public call does the same on a closed directory. */
    SL_CHECK_OK(sl_checkpoint_rollback(d, 7, err, sizeof err));
    ck = open_new(d);
    SL_CHECK_LIST(ck, SL__CKPT_COMMITS, "6 7");
    sl__ckpt_close(ck);
    SL_CHECK_INT(sl_checkpoint_rollback(d, 99, err, sizeof err), SL_ENOTFOUND);
    SL_CHECK_HAS(err, "cannot roll back to batch 99");
    SL_CHECK_INT(sl_checkpoint_rollback("/nonexistent/x", 1, err, sizeof err),
                 SL_ENOTFOUND);
    sl_test_remove_tree(d);
    free(d);
}

static void test_inspect(void)
{
    char *d = sl_test_tmpdir("sl_ckpt_"), *out = NULL, err[256], path[512];
    sl__ckpt *ck = open_new(d);
    size_t problems = 99;

    write_batches(ck, 1, 3, SL__CKPT_OFFSETS);
    write_batches(ck, 1, 2, SL__CKPT_COMMITS);
    sl__ckpt_close(ck);
    SL_CHECK_OK(sl_checkpoint_inspect(d, SL_CHECKPOINT_JSON, &out, &problems,
                                      err, sizeof err));
    SL_CHECK_INT(problems, 0);
    SL_CHECK_HAS(out, "\"last_offsets\": 3, \"last_commit\": 2");
    SL_CHECK_HAS(out, "{\"batch\": 3, \"state\": \"uncommitted\", "
                      "\"offsets_bytes\": 36, \"commit_bytes\": -1}");
    SL_CHECK_HAS(out, "\"problems\": []");
    sl_free(out);
    snprintf(path, sizeof path, "%s/commits/2", d);
    SL_CHECK_INT(truncate(path, 10), 0);
    SL_CHECK_OK(sl_checkpoint_inspect(d, SL_CHECKPOINT_TABLE, &out, &problems,
                                      err, sizeof err));
    SL_CHECK_INT(problems, 1);
    SL_CHECK_HAS(out, "commits/2: truncated: 10 of 24 header bytes");
    SL_CHECK_HAS(out, "uncommitted");
    sl_free(out);
    SL_CHECK_INT(sl_checkpoint_inspect("/nonexistent/x", SL_CHECKPOINT_JSON,
                                       &out, &problems, err, sizeof err),
                 SL_ENOTFOUND);
    sl_test_remove_tree(d);
    free(d);
}

/* ------------------------------------------------ write failures */

typedef struct fault_at {
    sl__ckpt_step step;
    int err;
    int hits;
} fault_at;

static int inject(void *user, sl__ckpt_step step, const char *path)
{
    fault_at *f = user;
    SL__UNUSED(path);
    if (step != f->step)
        return 0;
    f->hits++;
    return f->err;
}

/* Fail each step of rewriting offsets/2 and of writing offsets/3: the
 * old content stays, no new or half file shows, the message says why. */
static void test_injected_failures(void)
{
    static const sl__ckpt_step steps[] = {
        SL__CKPT_STEP_OPEN, SL__CKPT_STEP_WRITE, SL__CKPT_STEP_FSYNC,
        SL__CKPT_STEP_RENAME};
    char *d = sl_test_tmpdir("sl_ckpt_"), path[512], sub[512];
    sl__ckpt *ck = open_new(d);
    sl__ckpt_io *io = sl__ckpt_io_of(ck);
    fault_at f = {0};

    write_batches(ck, 1, 2, SL__CKPT_OFFSETS);
    snprintf(path, sizeof path, "%s/offsets/2", d);
    snprintf(sub, sizeof sub, "%s/offsets", d);
    io->fault = inject;
    io->fault_user = &f;
    for (size_t i = 0; i < sizeof steps / sizeof *steps; i++) {
        f = (fault_at){steps[i], i % 2 ? EIO : ENOSPC, 0};
        SL_CHECK_INT(sl__ckpt_log_write(ck, SL__CKPT_OFFSETS, 2, "new", 3),
                     SL_EIO);
        SL_CHECK_INT(f.hits, 1);
        SL_CHECK_HAS(sl__ckpt_errmsg(ck), path);
        SL_CHECK_HAS(sl__ckpt_errmsg(ck),
                     i % 2 ? "Input/output error" : "No space left on device");
        SL_CHECK_INT(io->last_errno, f.err);
        expect_text(io, path, SL__CKPT_MAGIC_OFFSETS, "{\"batch\": 2}");
        SL_CHECK_INT(sl__ckpt_log_write(ck, SL__CKPT_OFFSETS, 3, "new", 3),
                     SL_EIO);
        SL_CHECK_LIST(ck, SL__CKPT_OFFSETS, "1 2");
        SL_CHECK_INT(count_files(sub), 2);
    }
    /* A failed directory fsync: the file is in place but the entry is not
     * durable, so the call fails; the directory stays dirty for a retry. */
    f = (fault_at){SL__CKPT_STEP_DIRSYNC, EIO, 0};
    SL_CHECK_INT(sl__ckpt_log_write(ck, SL__CKPT_OFFSETS, 3, "new", 3), SL_EIO);
    SL_CHECK_HAS(sl__ckpt_errmsg(ck), "fsync directory");
    SL_CHECK_INT(io->ndirty, 1);
    io->fault = NULL;
    SL_CHECK_OK(sl__ckpt_io_sync_dirs(io));
    SL_CHECK_INT(io->ndirty, 0);
    /* Deletion failures are reported too, and keep the entries. */
    write_batches(ck, 1, 1, SL__CKPT_COMMITS);
    io->fault = inject;
    f = (fault_at){SL__CKPT_STEP_UNLINK, EIO, 0};
    SL_CHECK_INT(sl__ckpt_rollback(ck, 1, NULL, NULL), SL_EIO);
    SL_CHECK_HAS(sl__ckpt_errmsg(ck), "cannot delete");
    SL_CHECK_LIST(ck, SL__CKPT_OFFSETS, "1 2 3");
    sl__ckpt_close(ck);
    sl_test_remove_tree(d);
    free(d);
}

/* ------------------------------------------------ one user at a time */

/* A checkpoint open by one job is refused to a second opener (another
 * job, a rollback) by name; free again once the first closes it, and
 * after its holder was killed. */
static void test_lock(void)
{
    char *d = sl_test_tmpdir("sl_ckpt_"), sub[256], err[512] = "";
    sl__ckpt *ck, *ck2 = NULL;
    int pipefd[2], status;
    char c;
    pid_t pid;

    snprintf(sub, sizeof sub, "%s/ck", d);
    ck = open_new(sub);
    write_batches(ck, 1, 1, SL__CKPT_COMMITS);
    SL_CHECK_INT(sl__ckpt_open(sub, true, "fp-1", 4, &ck2, err, sizeof err),
                 SL_EBUSY);
    SL_CHECK(ck2 == NULL);
    SL_CHECK_HAS(err, "is in use by another job");
    SL_CHECK_HAS(err, "/ck/lock");
    SL_CHECK_INT(sl_checkpoint_rollback(sub, 1, err, sizeof err), SL_EBUSY);
    sl__ckpt_close(ck);
    SL_CHECK_OK(sl_checkpoint_rollback(sub, 1, err, sizeof err));
    /* A holder killed with SIGKILL leaves the lock behind it. */
    SL_CHECK_INT(pipe(pipefd), 0);
    if ((pid = fork()) == 0) {
        sl__ckpt *held = NULL;
        char e[256];
        if (sl__ckpt_open(sub, false, NULL, 0, &held, e, sizeof e) == SL_OK &&
            write(pipefd[1], "x", 1) == 1)
            pause();
        _exit(1);
    }
    SL_CHECK_INT(read(pipefd[0], &c, 1), 1);
    SL_CHECK_INT(kill(pid, SIGKILL), 0);
    SL_CHECK_INT(waitpid(pid, &status, 0), pid);
    SL_CHECK_OK(sl__ckpt_open(sub, false, NULL, 0, &ck2, err, sizeof err));
    sl__ckpt_close(ck2);
    close(pipefd[0]);
    close(pipefd[1]);
    sl_test_remove_tree(d);
    free(d);
}

/* ------------------------------------------------ durability order */

/* The steps an io ran, as "STEP:path" lines, for order checks. */
typedef struct step_log {
    char text[4096];
} step_log;

static int record_step(void *user, sl__ckpt_step step, const char *path)
{
    static const char *const names[] = {"open",   "write",   "fsync",
                                        "rename", "dirsync", "unlink"};
    step_log *l = user;
    size_t n = strlen(l->text);
    snprintf(l->text + n, sizeof l->text - n, "%s:%s\n", names[step], path);
    return 0;
}

/* Where "step:path" first shows in the log; -1 when it does not. */
static long step_pos(const step_log *l, const char *step, const char *path)
{
    char want[1024];
    const char *at;
    snprintf(want, sizeof want, "%s:%s\n", step, path);
    at = strstr(l->text, want);
    return at ? (long)(at - l->text) : -1;
}

#define SL_CHECK_BEFORE(l, s1, p1, s2, p2)                                     \
    do {                                                                       \
        long a_ = step_pos(l, s1, p1), b_ = step_pos(l, s2, p2);               \
        if (a_ < 0 || b_ < 0 || a_ > b_)                                       \
            sl_test_fail(__FILE__, __LINE__, "%s %s not before %s %s in:\n%s", \
                         s1, p1, s2, p2, (l)->text);                           \
        else                                                                   \
            CU_PASS(s1 " before " s2);                                         \
    } while (0)

/* A log entry is renamed into place only after the directories of the
 * files written before it are fsynced: else a crash between the rename and
 * the sync could keep commits/<batch> and lose a state file it counts on.
 * The file sink's manifest entry likewise waits for the part files'
 * directory. */
static void test_entry_after_dirsync(void)
{
    char *d = sl_test_tmpdir("sl_ckpt_"), state[512], file[600], entry[512],
         commits[512], out[512], part[600], mdir[600], mentry[700];
    sl__ckpt *ck = open_new(d);
    sl__ckpt_io *io = sl__ckpt_io_of(ck), sio;
    step_log l = {{0}};
    sl_sink_file f;

    snprintf(state, sizeof state, "%s/state", d);
    snprintf(file, sizeof file, "%s/1.delta", state);
    snprintf(entry, sizeof entry, "%s/commits/1", d);
    snprintf(commits, sizeof commits, "%s/commits", d);
    SL_CHECK_OK(sl__ckpt_mkdirs(io, state));
    io->fault = record_step;
    io->fault_user = &l;
    SL_CHECK_OK(sl__ckpt_write_file(io, file, MAGIC, 1, "delta", 5));
    SL_CHECK_OK(sl__ckpt_log_write(ck, SL__CKPT_COMMITS, 1, "{}", 2));
    SL_CHECK_BEFORE(&l, "dirsync", state, "rename", entry);
    SL_CHECK_BEFORE(&l, "rename", entry, "dirsync", commits);
    io->fault = NULL;
    sl__ckpt_close(ck);

    /* The manifest: OUT's renames synced before the entry exists. */
    snprintf(out, sizeof out, "%s/out", d);
    snprintf(mdir, sizeof mdir, "%s/" SL__MANIFEST_DIR, out);
    snprintf(mentry, sizeof mentry, "%s/1", mdir);
    snprintf(part, sizeof part, "%s/part-00000001-00000.json", out);
    sl__ckpt_io_init(&sio);
    SL_CHECK_OK(sl__ckpt_mkdirs(&sio, mdir));
    SL_CHECK_OK(sl__ckpt_io_sync_dirs(&sio));
    SL_CHECK_OK(sl__ckpt_io_mark_dir(&sio, out));
    l.text[0] = 0;
    sio.fault = record_step;
    sio.fault_user = &l;
    f = (sl_sink_file){part, 3, 0};
    SL_CHECK_OK(sl__manifest_write(&sio, out, 1, &f, 1));
    SL_CHECK_BEFORE(&l, "dirsync", out, "rename", mentry);
    SL_CHECK_INT(sio.ndirty, 0);
    sl__ckpt_io_free(&sio);
    sl_test_remove_tree(d);
    free(d);
}

/* A real full disk: a 64 KiB tmpfs, written until it is full. */
static void test_tmpfs_full(void)
{
    char *d = sl_test_tmpdir("sl_ckpt_"), mnt[256], big[4096];
    sl__ckpt *ck;
    sl_status st = SL_OK;
    int64_t b;

    snprintf(mnt, sizeof mnt, "%s/mnt", d);
    mkdir(mnt, 0755);
    if (mount("sl_ckpt", mnt, "tmpfs", 0, "size=64k") != 0) {
        printf("\n  skipped: cannot mount a tmpfs (%s); the injected "
               "failures cover this\n",
               strerror(errno));
        sl_test_remove_tree(d);
        free(d);
        return;
    }
    ck = open_new(mnt);
    memset(big, 'x', sizeof big);
    for (b = 1; b < 100 && st == SL_OK; b++)
        st = sl__ckpt_log_write(ck, SL__CKPT_OFFSETS, b, big, sizeof big);
    SL_CHECK_INT(st, SL_EIO);
    SL_CHECK_INT(sl__ckpt_io_of(ck)->last_errno, ENOSPC);
    SL_CHECK_HAS(sl__ckpt_errmsg(ck), "No space left on device");
    /* The batch that failed is not there; the ones before are whole. */
    {
        int64_t last;
        void *p;
        size_t len;
        SL_CHECK_OK(sl__ckpt_log_last(ck, SL__CKPT_OFFSETS, &last));
        SL_CHECK_INT(last, b - 2);
        SL_CHECK_OK(sl__ckpt_log_read(ck, SL__CKPT_OFFSETS, last, &p, &len));
        SL_CHECK_INT(len, sizeof big);
        sl_free(p);
        /* Space freed: writing goes on. */
        for (int64_t k = 1; k < last; k++) {
            char path[512];
            snprintf(path, sizeof path, "%s/offsets/%" PRId64, mnt, k);
            SL_CHECK_OK(sl__ckpt_unlink(sl__ckpt_io_of(ck), path));
        }
        SL_CHECK_OK(sl__ckpt_log_write(ck, SL__CKPT_OFFSETS, last + 1, big,
                                       sizeof big));
    }
    sl__ckpt_close(ck);
    SL_CHECK_INT(umount(mnt), 0);
    sl_test_remove_tree(d);
    free(d);
}

const char *SL_SUITE = "checkpoint";
const sl_test_case SL_TESTS[] = {
    {"round_trip", test_round_trip},
    {"truncated_each_length", test_truncated_each_length},
    {"flipped_bytes", test_flipped_bytes},
    {"metadata", test_metadata},
    {"logs", test_logs},
    {"retention", test_retention},
    {"rollback", test_rollback},
    {"inspect", test_inspect},
    {"injected_failures", test_injected_failures},
    {"tmpfs_full", test_tmpfs_full},
    {"entry_after_dirsync", test_entry_after_dirsync},
    {"lock", test_lock},
    {NULL, NULL},
};
