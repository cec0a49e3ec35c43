/*
 * Speed of the binary value codec (src/core/codec.c): encodes N pairs
 * (default 1,000,000) into one record batch and decodes them back into an
 * arena, for (int64, int64) pairs and (12-byte string, int64) pairs, and
 * prints MB/s of encoded bytes beside a memcpy of the same bytes (the
 * ceiling) and bytes per pair. Best of 5 runs. Not a ctest test.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/codec.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
    fprintf(stderr, "bench_codec: %s failed\n", what);
    exit(1);
}

/* n pairs of the given shape, their items and strings in arena a. */
static sl_value *make_pairs(sl__arena *a, size_t n, bool strings)
{
    sl_value *pairs = sl__arena_alloc(a, n * sizeof *pairs);
    size_t i;
    if (!pairs)
        die("allocation");
    for (i = 0; i < n; i++) {
        sl_value *kv = sl__arena_alloc(a, 2 * sizeof *kv);
        char *s = sl__arena_alloc(a, 16);
        if (!kv || !s)
            die("allocation");
        if (strings) {
            snprintf(s, 16, "key-%08zu", i % 100000000);
            kv[0] = sl_str(s, 12);
        } else {
            kv[0] = sl_int((int64_t)(i * 2654435761u));
        }
        kv[1] = sl_int((int64_t)i * 3);
        pairs[i] = sl_composite(SL_KIND_PAIR, kv, 2);
    }
    return pairs;
}

static double time_encode(const sl_value *pairs, size_t n, sl__buf *b)
{
    double t0 = now_s();
    size_t i;
    b->len = 0;
    if (sl__codec_begin(b) != SL_OK)
        die("encode");
    for (i = 0; i < n; i++)
        if (sl__codec_encode(b, &pairs[i], NULL) != SL_OK)
            die("encode");
    return now_s() - t0;
}

static double time_decode(const sl__buf *b, size_t n, sl__arena *to,
                          unsigned flags)
{
    sl__codec_alloc al = sl__codec_arena_alloc(to);
    sl__codec_reader r;
    sl_value v;
    double t0 = now_s();
    size_t i;
    sl__arena_reset(to);
    if (sl__codec_reader_init(&r, b->data, b->len, flags, NULL) != SL_OK)
        die("decode");
    for (i = 0; i < n; i++)
        if (sl__codec_read(&r, &al, &v, NULL) != SL_OK)
            die("decode");
    if (!sl__codec_reader_done(&r))
        die("decode");
    return now_s() - t0;
}

static void run(const char *what, size_t n, bool strings)
{
    sl__arena src, to;
    sl__buf b = {0};
    sl_value *pairs;
    char *copy;
    double enc = 1e9, dec = 1e9, borrow = 1e9, cpy = 1e9, t0, mb;
    int rep;

    sl__arena_init(&src, 1 << 20);
    sl__arena_init(&to, 1 << 20);
    pairs = make_pairs(&src, n, strings);
    for (rep = 0; rep < 5; rep++) {
        t0 = time_encode(pairs, n, &b);
        enc = t0 < enc ? t0 : enc;
        t0 = time_decode(&b, n, &to, 0);
        dec = t0 < dec ? t0 : dec;
        t0 = time_decode(&b, n, &to, SL__CODEC_BORROW);
        borrow = t0 < borrow ? t0 : borrow;
    }
    copy = malloc(b.len);
    if (!copy)
        die("allocation");
    for (rep = 0; rep < 5; rep++) {
        t0 = now_s();
        memcpy(copy, b.data, b.len);
        __asm__ volatile("" : : "r"(copy) : "memory");
        t0 = now_s() - t0;
        cpy = t0 < cpy ? t0 : cpy;
    }
    mb = (double)b.len / 1e6;
    printf("%-24s pairs=%zu bytes_per_pair=%.2f encode=%.0f MB/s (%.1f M/s) "
           "decode=%.0f MB/s (%.1f M/s) decode_borrow=%.0f MB/s "
           "memcpy=%.0f MB/s\n",
           what, n, (double)(b.len - 1) / (double)n, mb / enc, n / enc / 1e6,
           mb / dec, n / dec / 1e6, mb / borrow, mb / cpy);
    free(copy);
    sl__buf_free(&b);
    sl__arena_free(&src);
    sl__arena_free(&to);
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? (size_t)strtoull(argv[1], NULL, 10) : 1000000;
    if (n < 10)
        n = 10;
    run("(int64, int64)", n, false);
    run("(12-byte string, int64)", n, true);
    return 0;
}
