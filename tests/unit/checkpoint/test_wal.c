/*
 * Unit tests of src/checkpoint/wal.c, the receiver WAL's segments: round
 * trips across reopenings (a later run's records of a batch win), a
 * flipped byte named by path, offset and reason, a torn tail at every
 * length treated as the end and reported, and pruning.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sluice/core.h>

#include "checkpoint/wal.h"
#include "core/core.h"
#include "sl_test.h"
#include "sl_test_util.h"

#define SL_CHECK_HAS(s, part)                                                  \
    do {                                                                       \
        const char *sl_s_ = (s);                                               \
        if (!sl_s_ || !strstr(sl_s_, part))                                    \
            sl_test_fail(__FILE__, __LINE__, "\"%s\" lacks \"%s\"",            \
                         sl_s_ ? sl_s_ : "(null)", part);                      \
        else                                                                   \
            CU_PASS(#s);                                                       \
    } while (0)

/* A block of `lines` numbered lines starting at first. */
static size_t lines_of(char *buf, size_t cap, int first, int lines)
{
    size_t n = 0;
    for (int i = 0; i < lines; i++)
        n += (size_t)snprintf(buf + n, cap - n, "line %d of the WAL test\n",
                              first + i);
    return n;
}

/* Batch b gets two blocks of receiver 0 and one of receiver 1, written in
 * the order r1, r0 seq 1, r0 seq 0 so that the read must sort them. */
static void write_batch(sl__wal *w, int64_t b, int tag)
{
    char buf[4096];
    size_t n;
    n = lines_of(buf, sizeof buf, tag + 200, 20);
    SL_CHECK_OK(sl__wal_append(w, b, 1, "r1", (uint64_t)b, 20, buf, n));
    n = lines_of(buf, sizeof buf, tag + 100, 30);
    SL_CHECK_OK(sl__wal_append(w, b, 0, "r0", (uint64_t)b * 2 + 1, 30, buf, n));
    n = lines_of(buf, sizeof buf, tag, 40);
    SL_CHECK_OK(sl__wal_append(w, b, 0, "r0", (uint64_t)b * 2, 40, buf, n));
}

static void check_batch(sl__wal *w, int64_t b, int tag)
{
    sl__wal_block *v = NULL;
    size_t n = 0;
    char buf[4096];
    size_t len;

    SL_CHECK_OK(sl__wal_read_batch(w, b, &v, &n));
    SL_CHECK_INT(n, 3);
    if (n != 3)
        goto out;
    SL_CHECK_INT(v[0].receiver, 0);
    SL_CHECK_INT(v[0].seq, b * 2);
    SL_CHECK_INT(v[0].records, 40);
    SL_CHECK_STR(v[0].name, "r0");
    len = lines_of(buf, sizeof buf, tag, 40);
    SL_CHECK_INT(v[0].len, len);
    SL_CHECK(memcmp(v[0].data, buf, len) == 0);
    SL_CHECK_INT(v[1].seq, b * 2 + 1);
    len = lines_of(buf, sizeof buf, tag + 100, 30);
    SL_CHECK(v[1].len == len && memcmp(v[1].data, buf, len) == 0);
    SL_CHECK_INT(v[2].receiver, 1);
    SL_CHECK_STR(v[2].name, "r1");
    len = lines_of(buf, sizeof buf, tag + 200, 20);
    SL_CHECK(v[2].len == len && memcmp(v[2].data, buf, len) == 0);
    for (size_t i = 0; i < n; i++)
        SL_CHECK_INT(v[i].batch, b);
out:
    sl__wal_blocks_free(v, n);
}

static sl__wal *open_ok(const char *dir)
{
    sl__wal *w = NULL;
    char err[512] = "";
    SL_CHECK_OK(sl__wal_open(dir, &w, err, sizeof err));
    if (!w)
        fprintf(stderr, "open: %s\n", err);
    return w;
}

/* The path of the only segment of run `run` in dir. */
static void seg_path(const char *dir, int run, char *out, size_t n)
{
    snprintf(out, n, "%s/%d-0.wal", dir, run);
}

static off_t file_size(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? sb.st_size : -1;
}

static void test_round_trip(void)
{
    char *dir = sl_test_tmpdir("sl_wal_"), wd[512];
    sl__wal *w;
    sl__wal_block *v;
    size_t n;

    snprintf(wd, sizeof wd, "%s/ck/wal", dir);
    w = open_ok(wd); /* creates the missing parents */
    write_batch(w, 1, 1000);
    write_batch(w, 2, 2000);
    SL_CHECK_OK(sl__wal_sync(w));
    check_batch(w, 1, 1000);
    check_batch(w, 2, 2000);
    SL_CHECK_OK(sl__wal_read_batch(w, 3, &v, &n));
    SL_CHECK_INT(n, 0);
    sl__wal_close(w);

    /* A restart: batch 2 had no offsets, so the new run writes its own
     * batch 2, which wins over the crashed run's. */
    w = open_ok(wd);
    SL_CHECK_INT(sl__wal_torn(w), 0);
    check_batch(w, 1, 1000);
    check_batch(w, 2, 2000);
    write_batch(w, 2, 5000);
    SL_CHECK_OK(sl__wal_sync(w));
    check_batch(w, 2, 5000);
    sl__wal_close(w);
    w = open_ok(wd);
    check_batch(w, 1, 1000);
    check_batch(w, 2, 5000);
    SL_CHECK_INT(sl__wal_segments(w), 2);
    sl__wal_close(w);
    sl_test_remove_tree(dir);
    free(dir);
}

static void flip(const char *path, off_t at)
{
    int fd = open(path, O_RDWR);
    unsigned char c;
    SL_CHECK(fd >= 0);
    SL_CHECK_INT(pread(fd, &c, 1, at), 1);
    c ^= 0x5a;
    SL_CHECK_INT(pwrite(fd, &c, 1, at), 1);
    close(fd);
}

/* A flipped byte anywhere but the last record is corruption, named by
 * the segment's path, the record's offset and the reason. */
static void test_corruption_named(void)
{
    char *dir = sl_test_tmpdir("sl_wal_"), seg[600], err[512];
    sl__wal *w = open_ok(dir);
    off_t size;

    write_batch(w, 1, 0);
    write_batch(w, 2, 0);
    SL_CHECK_OK(sl__wal_sync(w));
    sl__wal_close(w);
    seg_path(dir, 1, seg, sizeof seg);
    size = file_size(seg);
    SL_CHECK(size > 200);
    for (off_t at = 0; at < size / 2; at += 7) {
        flip(seg, at);
        w = NULL;
        err[0] = 0;
        SL_CHECK_INT(sl__wal_open(dir, &w, err, sizeof err), SL_ECORRUPT);
        SL_CHECK(w == NULL);
        SL_CHECK_HAS(err, seg);
        if (at >= 24)
            SL_CHECK_HAS(err, "record at offset");
        flip(seg, at); /* and back: whole again */
    }
    w = open_ok(dir);
    check_batch(w, 2, 0);
    sl__wal_close(w);
    sl_test_remove_tree(dir);
    free(dir);
}

/* A segment cut anywhere inside its last record, or followed by zeros,
 * ends there: the earlier records stand and the torn one is reported. */
static void test_torn_tail(void)
{
    char *dir = sl_test_tmpdir("sl_wal_"), seg[600];
    sl__wal *w = open_ok(dir);
    sl__wal_block *v;
    off_t full, last;
    size_t n;

    seg_path(dir, 1, seg, sizeof seg);
    write_batch(w, 1, 0);
    SL_CHECK_OK(sl__wal_sync(w));
    last = file_size(seg);
    write_batch(w, 2, 0);
    SL_CHECK_OK(sl__wal_sync(w));
    sl__wal_close(w);
    full = file_size(seg);
    for (off_t cut = full - 1; cut >= last; cut -= 13) {
        SL_CHECK_INT(truncate(seg, cut), 0);
        w = open_ok(dir);
        if (!w)
            break;
        check_batch(w, 1, 0);
        SL_CHECK_OK(sl__wal_read_batch(w, 2, &v, &n));
        /* Only batch 2's records up to the cut remain; the torn one is
         * reported unless the cut fell exactly between records. */
        SL_CHECK(n < 3);
        sl__wal_blocks_free(v, n);
        if (sl__wal_torn(w) == 1) {
            SL_CHECK_HAS(sl__wal_note(w), seg);
            SL_CHECK_HAS(sl__wal_note(w), "torn record at offset");
        }
        sl__wal_close(w);
    }
    /* Zeros after the last good record (a file extended, data lost). */
    SL_CHECK_INT(truncate(seg, last), 0);
    SL_CHECK_INT(truncate(seg, last + 4096), 0);
    w = open_ok(dir);
    if (w) {
        SL_CHECK_INT(sl__wal_torn(w), 1);
        SL_CHECK_HAS(sl__wal_note(w), "zeros");
        check_batch(w, 1, 0);
        sl__wal_close(w);
    }
    sl_test_remove_tree(dir);
    free(dir);
}

/* A torn last record at exactly one cut: counted once. */
static void test_torn_counted(void)
{
    char *dir = sl_test_tmpdir("sl_wal_"), seg[600];
    sl__wal *w = open_ok(dir);

    write_batch(w, 1, 0);
    SL_CHECK_OK(sl__wal_sync(w));
    sl__wal_close(w);
    seg_path(dir, 1, seg, sizeof seg);
    SL_CHECK_INT(truncate(seg, file_size(seg) - 5), 0);
    w = open_ok(dir);
    if (w) {
        SL_CHECK_INT(sl__wal_torn(w), 1);
        SL_CHECK_HAS(sl__wal_note(w), "short body");
        sl__wal_close(w);
    }
    sl_test_remove_tree(dir);
    free(dir);
}

static void test_prune(void)
{
    char *dir = sl_test_tmpdir("sl_wal_"), seg[600];
    sl__wal *w = open_ok(dir);
    sl__wal_block *v;
    size_t n;

    write_batch(w, 1, 0);
    write_batch(w, 2, 0);
    SL_CHECK_OK(sl__wal_sync(w));
    sl__wal_close(w);
    w = open_ok(dir);
    write_batch(w, 3, 0);
    SL_CHECK_OK(sl__wal_sync(w));
    /* Batch 2 still needed: run 1's segment stays. */
    SL_CHECK_OK(sl__wal_prune(w, 2));
    SL_CHECK_INT(sl__wal_segments(w), 2);
    check_batch(w, 2, 0);
    /* Everything before 3 committed: it goes; the open one never does. */
    SL_CHECK_OK(sl__wal_prune(w, 100));
    SL_CHECK_INT(sl__wal_segments(w), 1);
    seg_path(dir, 1, seg, sizeof seg);
    SL_CHECK_INT(file_size(seg), -1);
    SL_CHECK_OK(sl__wal_read_batch(w, 2, &v, &n));
    SL_CHECK_INT(n, 0);
    check_batch(w, 3, 0);
    SL_CHECK_OK(sl__wal_sync(w));
    sl__wal_close(w);
    sl_test_remove_tree(dir);
    free(dir);
}

const char *SL_SUITE = "wal";
const sl_test_case SL_TESTS[] = {
    {"round_trip", test_round_trip},
    {"corruption_named", test_corruption_named},
    {"torn_tail", test_torn_tail},
    {"torn_counted", test_torn_counted},
    {"prune", test_prune},
    {NULL, NULL},
};
