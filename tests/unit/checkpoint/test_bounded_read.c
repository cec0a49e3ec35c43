/*
 * Readers of checkpoint files never allocate from a length the file
 * states beyond what the file could hold (docs/checkpoint-format.md,
 * "Bounded reading"): a header, a WAL record or a zstd frame whose length
 * says 3 GiB with 100 bytes behind it is refused as truncated or corrupt,
 * and the largest allocation sluice asked for (through the allocator
 * hook, which this program sets before anything is allocated) stays
 * small.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "checkpoint/checkpoint.h"
#include "checkpoint/wal.h"
#include "sl_test.h"
#include "sl_test_util.h"
#include "state/state_files.h"

#define BIG 0xC0000000ull       /* 3 GiB */
#define SMALL ((size_t)1 << 20) /* what any allocation here may reach */

static size_t g_largest;

static void note(size_t n)
{
    if (n > g_largest)
        g_largest = n;
}

static void *hook_malloc(size_t n, void *user)
{
    (void)user;
    note(n);
    return n > ((size_t)1 << 30) ? NULL : malloc(n);
}

static void *hook_realloc(void *p, size_t n, void *user)
{
    (void)user;
    note(n);
    return n > ((size_t)1 << 30) ? NULL : realloc(p, n);
}

static void hook_free(void *p, void *user)
{
    (void)user;
    free(p);
}

static void put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static void put64(unsigned char *p, uint64_t v)
{
    put32(p, (uint32_t)v);
    put32(p + 4, (uint32_t)(v >> 32));
}

static void write_bytes(const char *path, const void *b, size_t n)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    SL_CHECK(fd >= 0);
    SL_CHECK(write(fd, b, n) == (ssize_t)n);
    close(fd);
}

/* A checkpoint file whose header's length says 3 GiB, 100 bytes after. */
static void test_header_length(void)
{
    char *d = sl_test_tmpdir("sl_bounded_"), path[256];
    unsigned char b[24 + 100];
    sl__ckpt_io io;
    void *p = NULL;
    size_t len;
    memset(b, 'x', sizeof b);
    sl__ckpt_header_make(b, SL__CKPT_MAGIC_OFFSETS, 1, b + 24, 100);
    put64(b + 8, BIG);
    snprintf(path, sizeof path, "%s/7", d);
    write_bytes(path, b, sizeof b);
    sl__ckpt_io_init(&io);
    g_largest = 0;
    SL_CHECK_INT(sl__ckpt_read_file(&io, path, SL__CKPT_MAGIC_OFFSETS, 1, &p,
                                    &len, NULL),
                 SL_ECORRUPT);
    SL_CHECK(strstr(sl__ckpt_io_errmsg(&io), "truncated: 124 of") != NULL);
    SL_CHECK(g_largest < SMALL);
    sl__ckpt_io_free(&io);
    sl_test_remove_tree(d);
    free(d);
}

/* A zstd frame of 1000 bytes rewritten to declare 3 GiB: refused before
 * anything of that size is allocated; a frame declaring less than its
 * data, or more than its blocks can hold, too; the real one decodes. */
static void test_zstd_declared_size(void)
{
    unsigned char raw[1000], frame[2048], fake[2048 + 8];
    size_t n, hlen, flen;
    sl__ckpt_io io;
    void *out = NULL;
    size_t outlen = 0;
    const char *why = "";
    unsigned fhd;
    for (size_t i = 0; i < sizeof raw; i++)
        raw[i] = (unsigned char)(i * 7 % 251);
    n = ZSTD_compress(frame, sizeof frame, raw, sizeof raw, 1);
    SL_CHECK(!ZSTD_isError(n));
    SL_CHECK_OK(sl__ckpt_unzstd(frame, n, 1 << 20, &out, &outlen, &why));
    SL_CHECK_INT(outlen, sizeof raw);
    SL_CHECK(memcmp(out, raw, sizeof raw) == 0);
    sl_free(out);
    out = NULL;

    /* The same blocks behind a header with an 8-byte content size. */
    fhd = frame[4];
    hlen = 5 + (fhd & 0x20 ? 0 : 1) + (size_t[]){0, 1, 2, 4}[fhd & 3];
    hlen += (fhd >> 6) == 0 ? (fhd & 0x20 ? 1 : 0) : (size_t)1 << (fhd >> 6);
    memcpy(fake, frame, 4);
    fake[4] = (unsigned char)((fhd & 0x3f) | 0xc0);
    flen = 5;
    if (!(fhd & 0x20))
        fake[flen++] = frame[5];
    put64(fake + flen, BIG);
    flen += 8;
    memcpy(fake + flen, frame + hlen, n - hlen);
    flen += n - hlen;
    SL_CHECK_INT(ZSTD_getFrameContentSize(fake, flen), BIG);

    g_largest = 0;
    SL_CHECK_INT(
        sl__ckpt_unzstd(fake, flen, (uint64_t)1 << 36, &out, &outlen, &why),
        SL_ECORRUPT);
    SL_CHECK(strstr(why, "more than its blocks hold") != NULL);
    SL_CHECK(g_largest < SMALL);
    /* The state layer's reader (state and window files) says so. */
    sl__ckpt_io_init(&io);
    SL_CHECK_INT(sl__state_unpack(&io, "ck/state/x/0/3.delta", fake, flen, &out,
                                  &outlen),
                 SL_ECORRUPT);
    SL_CHECK(strstr(sl__ckpt_io_errmsg(&io), "ck/state/x/0/3.delta: corrupt") !=
             NULL);
    SL_CHECK(g_largest < SMALL);
    sl__ckpt_io_free(&io);

    /* Declaring less than the data: decoded no further, refused. */
    put64(fake + flen - (n - hlen) - 8, 500);
    SL_CHECK_INT(
        sl__ckpt_unzstd(fake, flen, (uint64_t)1 << 36, &out, &outlen, &why),
        SL_ECORRUPT);
    /* A bound below the declared size (the WAL's raw length). */
    SL_CHECK_INT(sl__ckpt_unzstd(frame, n, 999, &out, &outlen, &why),
                 SL_ECORRUPT);
    SL_CHECK(out == NULL);
}

/* A WAL record: its raw length rewritten to 3 GiB (checksum made to
 * match), and one whose body length says 3 GiB with 100 bytes after. */
static void test_wal_lengths(void)
{
    char *d = sl_test_tmpdir("sl_bounded_wal_"), errbuf[256], seg[512];
    unsigned char b[4096];
    const char data[] = "one line\nanother line\n";
    sl__wal *w = NULL;
    sl__wal_block *blocks = NULL;
    size_t nb = 0, n;
    FILE *f;

    SL_CHECK_OK(sl__wal_open(d, &w, errbuf, sizeof errbuf));
    SL_CHECK_OK(sl__wal_append(w, 1, 0, "in", 0, 2, data, sizeof data - 1));
    SL_CHECK_OK(sl__wal_sync(w));
    sl__wal_close(w);
    snprintf(seg, sizeof seg, "%s/1-0.wal", d);
    SL_CHECK((f = fopen(seg, "rb")) != NULL);
    n = fread(b, 1, sizeof b, f);
    fclose(f);
    SL_CHECK(n > 24 + 46);
    /* raw length at body offset 28; the body's CRC at record offset 8 */
    put32(b + 24 + 12 + 28, (uint32_t)BIG);
    put32(b + 24 + 8, (uint32_t)crc32(0, b + 24 + 12, (uInt)(n - 24 - 12)));
    write_bytes(seg, b, n);
    g_largest = 0;
    SL_CHECK_OK(sl__wal_open(d, &w, errbuf, sizeof errbuf));
    SL_CHECK_INT(sl__wal_read_batch(w, 1, &blocks, &nb), SL_ECORRUPT);
    SL_CHECK(strstr(sl__wal_errmsg(w), "record at offset 24") != NULL);
    SL_CHECK(g_largest < SMALL);
    sl__wal_close(w);

    /* The body length: 3 GiB said, 100 bytes there: a torn end. */
    memset(b + 24, 0, 112);
    put32(b + 24, SL__CKPT_MAGIC('S', 'L', 'W', 'R'));
    put32(b + 24 + 4, (uint32_t)BIG);
    memset(b + 24 + 12, 'x', 100);
    write_bytes(seg, b, 24 + 112);
    g_largest = 0;
    SL_CHECK_OK(sl__wal_open(d, &w, errbuf, sizeof errbuf));
    SL_CHECK_INT(sl__wal_torn(w), 1);
    SL_CHECK(strstr(sl__wal_note(w), "short body") != NULL);
    SL_CHECK(g_largest < SMALL);
    sl__wal_close(w);
    sl_test_remove_tree(d);
    free(d);
}

/* Set before the first allocation: the hook refuses to change later. */
static void test_hook_set(void)
{
    sl_allocator a = {hook_malloc, hook_realloc, hook_free, NULL};
    SL_CHECK_OK(sl_set_allocator(&a));
}

const char *SL_SUITE = "checkpoint_bounded_read";
const sl_test_case SL_TESTS[] = {
    {"hook_set", test_hook_set},
    {"header_length", test_header_length},
    {"zstd_declared_size", test_zstd_declared_size},
    {"wal_lengths", test_wal_lengths},
    {NULL, NULL}};
