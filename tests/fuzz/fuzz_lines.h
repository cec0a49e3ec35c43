/*
 * What the record-format fuzz targets share: split the input on "\n"
 * (dropping a "\r" before it, as the sources do), parse each line, copied
 * into a buffer of its own size so that ASan sees any read past it, and
 * check what records.h promises; malformed lines go to a dead-letter file
 * on /dev/null so that its JSON escaping is fuzzed too.
 */
#ifndef SL_FUZZ_LINES_H
#define SL_FUZZ_LINES_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/records.h"

/* The libFuzzer entry point each target defines; replay.c calls it. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Checks one record of line (the target's own promises). */
typedef void (*fuzz_check_fn)(const sl__rec_reader *r, const char *line,
                              size_t len, const sl_value *v);

static void fuzz_fail(const char *what)
{
    fprintf(stderr, "fuzz: broken promise: %s\n", what);
    abort();
}

/* One dead-letter file for the process, on /dev/null. */
static sl__dead_letters *fuzz_dead_letters(void)
{
    static sl__dead_letters *d;

    if (!d && sl__dead_letters_open("/dev/null", NULL, &d, NULL, 0) != SL_OK)
        fuzz_fail("cannot open /dev/null");
    return d;
}

/* Parse one line; count what happened in n[0..2] (ok, skipped, bad). */
static void fuzz_line(sl__rec_reader *r, sl__arena *a, const char *line,
                      size_t len, fuzz_check_fn check, int64_t n[3])
{
    char *copy = malloc(len ? len : 1), err[256] = "";
    sl_value v;
    sl_status st;

    if (!copy)
        fuzz_fail("out of memory");
    memcpy(copy, line, len);
    st = sl__rec_parse(r, copy, len, sl__rec_arena_alloc, a, &v, err,
                       sizeof err);
    if (st == SL_OK) {
        n[0]++;
        check(r, copy, len, &v);
    } else if (st == SL_ENOTFOUND) {
        n[1]++;
    } else if (st == SL_EPARSE) {
        n[2]++;
        if (err[0] == '\0' || memchr(err, '\0', sizeof err) == NULL)
            fuzz_fail("a malformed line without a reason");
        sl__dead_letter dl = {.batch = -1,
                              .source = "fuzz",
                              .reason = "malformed",
                              .error = err,
                              .text = copy,
                              .text_len = len,
                              .file = "fuzz",
                              .line = r->lines};
        if (sl__dead_letters_put(fuzz_dead_letters(), &dl) != SL_OK)
            fuzz_fail("dead letter not written");
    } else {
        fuzz_fail("unexpected status");
    }
    free(copy);
    sl__arena_reset(a);
}

/* Feed every line of [data, data + size) to a reader for options o. */
static void fuzz_lines(const sl__rec_options *o, const uint8_t *data,
                       size_t size, fuzz_check_fn check)
{
    const char *pos = (const char *)data, *end = pos + size, *line;
    int64_t n[3] = {0, 0, 0};
    sl__rec_reader r;
    sl__arena a;
    size_t len;

    if (sl__rec_reader_init(&r, o, NULL, 0) != SL_OK)
        fuzz_fail("reader options refused");
    sl__arena_init(&a, 1024);
    while (sl__next_line(&pos, end, &line, &len))
        fuzz_line(&r, &a, line, len, check, n);
    if (r.records != n[0] || r.malformed != n[2] ||
        r.lines != n[0] + n[1] + n[2])
        fuzz_fail("reader counters");
    sl__arena_free(&a);
    sl__rec_reader_free(&r);
}

#endif /* SL_FUZZ_LINES_H */
