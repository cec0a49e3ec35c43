/*
 * libFuzzer target for the binary value codec (src/core/codec.c): the
 * input is a record batch (version byte, then values), in a buffer of
 * exactly its size so ASan sees any read past it. The promises checked:
 * decoding never crashes or reads outside the input, fails only with
 * SL_ECORRUPT and a message naming an offset, and whatever decodes
 * re-encodes to exactly the bytes it was read from (one encoding a value).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sluice/core.h>

#include "core/codec.h"
#include "core/core.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_fail(const char *what)
{
    fprintf(stderr, "fuzz: broken promise: %s\n", what);
    abort();
}

/* The value decoded from p[0, used) must encode to those bytes. */
static void check_value(const sl_value *v, const uint8_t *p, size_t used)
{
    sl__buf b = {0};
    size_t n = 0;
    if (sl__codec_size(v, &n, NULL) != SL_OK || n != used)
        fuzz_fail("a decoded value measures as the bytes it came from");
    if (sl__codec_encode(&b, v, NULL) != SL_OK)
        fuzz_fail("a decoded value encodes");
    if (b.len != used || memcmp(b.data, p, used) != 0)
        fuzz_fail("a decoded value re-encodes to the same bytes");
    if (!sl_value_equal(v, v) || sl_value_compare(v, v) != 0)
        fuzz_fail("a decoded value equals itself");
    sl__buf_free(&b);
}

static void read_all(const uint8_t *data, size_t size, unsigned flags)
{
    sl__codec_reader r;
    sl__arena a;
    sl__codec_alloc al;
    sl__errmsg e;
    sl_value v;
    sl_status st;
    const uint8_t *at;

    sl__arena_init(&a, 1024);
    al = sl__codec_arena_alloc(&a);
    if (sl__codec_reader_init(&r, data, size, flags, &e) != SL_OK)
        goto free_arena;
    while (!sl__codec_reader_done(&r)) {
        at = r.pos;
        e.text[0] = '\0';
        st = sl__codec_read(&r, &al, &v, &e);
        if (st == SL_ECORRUPT) {
            if (!strstr(e.text, "at offset") || r.pos != at)
                fuzz_fail("a corrupt value is named and not consumed");
            break;
        }
        if (st != SL_OK)
            fuzz_fail("decoding fails only with SL_ECORRUPT");
        check_value(&v, at, (size_t)(r.pos - at));
    }
free_arena:
    sl__arena_free(&a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* A copy of exactly size bytes: the fuzzer's buffer may be larger. */
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy)
        return 0;
    if (size)
        memcpy(copy, data, size);
    read_all(copy, size, 0);
    read_all(copy, size, SL__CODEC_BORROW);
    free(copy);
    return 0;
}
