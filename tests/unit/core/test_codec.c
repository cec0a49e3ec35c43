/*
 * Unit tests of the binary value codec (src/core/codec.c): round trips of
 * every kind, bit for bit (NaN payloads, -0.0, pair/tuple/list), the exact
 * bytes of small values (the format is pinned), every truncation and
 * random byte flips of valid encodings, and the corrupt-input messages.
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sluice/core.h>

#include "core/codec.h"
#include "core/core.h"
#include "sl_test.h"

/* Equality down to the bits: sl_value_equal calls all NaNs equal and
 * -0.0 equal to 0.0, which a lossless codec must not rely on. */
static bool bit_equal(const sl_value *a, const sl_value *b)
{
    uint32_t i;
    if (a->kind != b->kind || a->len != b->len)
        return false;
    if (a->kind == SL_KIND_DOUBLE)
        return memcmp(&a->u.d, &b->u.d, sizeof a->u.d) == 0;
    if (a->kind == SL_KIND_BOOL)
        return a->u.b == b->u.b;
    if (a->kind == SL_KIND_INT)
        return a->u.i == b->u.i;
    if (a->kind == SL_KIND_STR || a->kind == SL_KIND_BYTES)
        return a->len == 0 || memcmp(a->u.s, b->u.s, a->len) == 0;
    for (i = 0; sl_kind_is_composite(a->kind) && i < a->len; i++)
        if (!bit_equal(&a->u.items[i], &b->u.items[i]))
            return false;
    return true;
}

static sl_value dbits(uint64_t bits)
{
    sl_value v = sl_double(0);
    memcpy(&v.u.d, &bits, 8);
    return v;
}

/* Encode v alone (no version byte) into b, which is reset first. */
static void enc(sl__buf *b, sl_value v)
{
    sl__errmsg e = {{0}, 0};
    b->len = 0;
    SL_CHECK_OK(sl__codec_encode(b, &v, &e));
}

/* Encode, check the size function agrees, decode, compare bits. */
static void check_round_trip(sl_value v, unsigned flags)
{
    sl__buf b = {0};
    sl__arena a;
    sl__codec_alloc al;
    sl__errmsg e = {{0}, 0};
    sl_value out;
    size_t size = 0, used = 0;

    sl__arena_init(&a, 256);
    al = sl__codec_arena_alloc(&a);
    enc(&b, v);
    SL_CHECK_OK(sl__codec_size(&v, &size, NULL));
    SL_CHECK_INT(size, b.len);
    SL_CHECK_OK(sl__codec_decode(b.data, b.len, &used, &al, flags, &out, &e));
    SL_CHECK_INT(used, b.len);
    SL_CHECK(bit_equal(&v, &out));
    sl__arena_free(&a);
    sl__buf_free(&b);
}

static void test_scalars(void)
{
    static const char nul_utf8[] = {'a', 0, 'b', (char)0xff, (char)0xc3};
    unsigned char all[256];
    int64_t ints[] = {0,         1,         -1,           63,        -64,
                      64,        -65,       300,          INT32_MAX, INT32_MIN,
                      INT64_MAX, INT64_MIN, INT64_MIN + 1};
    uint64_t dbl[] = {0x0000000000000000ULL, 0x8000000000000000ULL, /* -0 */
                      0x7ff0000000000000ULL, 0xfff0000000000000ULL, /* inf */
                      0x7ff8000000000000ULL, 0x7ff0000000000001ULL, /* NaNs */
                      0xfff8000000000123ULL, 0x7fffffffffffffffULL,
                      0x0000000000000001ULL, 0x3ff0000000000000ULL};
    size_t i;

    for (i = 0; i < 256; i++)
        all[i] = (unsigned char)i;
    check_round_trip(sl_null(), 0);
    check_round_trip(sl_bool(true), 0);
    check_round_trip(sl_bool(false), 0);
    for (i = 0; i < sizeof ints / sizeof ints[0]; i++)
        check_round_trip(sl_int(ints[i]), 0);
    for (i = 0; i < sizeof dbl / sizeof dbl[0]; i++)
        check_round_trip(dbits(dbl[i]), 0);
    check_round_trip(sl_double(DBL_MAX), 0);
    check_round_trip(sl_double(-DBL_MIN), 0);
    check_round_trip(sl_str("", 0), 0);
    check_round_trip(sl_str(NULL, 0), 0);
    check_round_trip(sl_bytes(NULL, 0), 0);
    check_round_trip(sl_str(nul_utf8, sizeof nul_utf8), 0);
    check_round_trip(sl_bytes(nul_utf8, sizeof nul_utf8), 0);
    check_round_trip(sl_bytes(all, sizeof all), 0);
    check_round_trip(sl_str((const char *)all, sizeof all), SL__CODEC_BORROW);
}

/* The same two items as a pair, a tuple and a list: three kinds back. */
static void test_composite_kinds(void)
{
    sl_value items[2] = {sl_int(1), sl_cstr("a")};
    sl_value kinds[3], nested[4], out;
    sl__buf b = {0};
    sl__arena a;
    sl__codec_alloc al;
    int k;

    sl__arena_init(&a, 256);
    al = sl__codec_arena_alloc(&a);
    kinds[0] = sl_composite(SL_KIND_PAIR, items, 2);
    kinds[1] = sl_composite(SL_KIND_TUPLE, items, 2);
    kinds[2] = sl_composite(SL_KIND_LIST, items, 2);
    for (k = 0; k < 3; k++) {
        enc(&b, kinds[k]);
        SL_CHECK_OK(sl__codec_decode(b.data, b.len, NULL, &al, 0, &out, NULL));
        SL_CHECK_INT(out.kind, kinds[k].kind);
        SL_CHECK(bit_equal(&out, &kinds[k]));
        check_round_trip(kinds[k], 0);
    }
    check_round_trip(sl_composite(SL_KIND_TUPLE, NULL, 0), 0);
    check_round_trip(sl_composite(SL_KIND_LIST, NULL, 0), 0);
    nested[0] = sl_composite(SL_KIND_LIST, kinds, 3);
    nested[1] = sl_composite(SL_KIND_TUPLE, NULL, 0);
    nested[2] = dbits(0x7ff0000000000001ULL);
    nested[3] = sl_composite(SL_KIND_PAIR, kinds, 2);
    check_round_trip(sl_composite(SL_KIND_TUPLE, nested, 4), 0);
    check_round_trip(sl_composite(SL_KIND_TUPLE, nested, 4), SL__CODEC_BORROW);
    sl__arena_free(&a);
    sl__buf_free(&b);
}

/* Lists nested exactly to the limit round trip; one more level is refused
 * on encode (SL_ERANGE) and, hand-made, on decode (SL_ECORRUPT). */
static void test_depth_limit(void)
{
    enum { D = SL__CODEC_MAX_DEPTH };
    static sl_value chain[D + 2];
    sl__buf b = {0};
    sl__arena a;
    sl__codec_alloc al;
    sl__errmsg e = {{0}, 0};
    unsigned char deep[2 * (D + 1) + 1];
    sl_value out;
    size_t n = 0;
    int i;

    chain[0] = sl_int(7);
    for (i = 1; i <= D + 1; i++)
        chain[i] = sl_composite(SL_KIND_LIST, &chain[i - 1], 1);
    check_round_trip(chain[D], 0);
    SL_CHECK_INT(sl__codec_encode(&b, &chain[D + 1], &e), SL_ERANGE);
    SL_CHECK_INT(b.len, 0);
    SL_CHECK(strstr(e.text, "nested deeper") != NULL);
    SL_CHECK_INT(sl__codec_size(&chain[D + 1], &n, NULL), SL_ERANGE);

    for (i = 0; i <= D; i++) {
        deep[2 * i] = SL_KIND_LIST;
        deep[2 * i + 1] = 1;
    }
    deep[2 * (D + 1)] = SL_KIND_NULL;
    sl__arena_init(&a, 256);
    al = sl__codec_arena_alloc(&a);
    SL_CHECK_INT(sl__codec_decode(deep, sizeof deep, NULL, &al, 0, &out, &e),
                 SL_ECORRUPT);
    SL_CHECK(strstr(e.text, "nested too deep") != NULL);
    SL_CHECK_OK(
        sl__codec_decode(deep + 2, sizeof deep - 2, NULL, &al, 0, &out, NULL));
    sl__arena_free(&a);
    sl__buf_free(&b);
}

/* The format, byte for byte (docs/checkpoint-format.md, "Value encoding"). */
static void check_bytes(sl_value v, const char *hex)
{
    sl__buf b = {0};
    char got[256] = "";
    size_t i, at = 0;
    enc(&b, v);
    for (i = 0; i < b.len && at + 4 < sizeof got; i++)
        at += (size_t)snprintf(got + at, 4, "%s%02x", i ? " " : "",
                               (unsigned char)b.data[i]);
    SL_CHECK_STR(got, hex);
    sl__buf_free(&b);
}

static void test_exact_bytes(void)
{
    sl_value kv[2] = {sl_int(1), sl_cstr("a")};
    sl_value one[1] = {sl_null()};
    sl__buf b = {0};

    check_bytes(sl_null(), "00");
    check_bytes(sl_bool(true), "01 01");
    check_bytes(sl_bool(false), "01 00");
    check_bytes(sl_int(0), "02 00");
    check_bytes(sl_int(1), "02 02");
    check_bytes(sl_int(-1), "02 01");
    check_bytes(sl_int(300), "02 d8 04");
    check_bytes(sl_int(INT64_MIN), "02 ff ff ff ff ff ff ff ff ff 01");
    check_bytes(sl_double(1.0), "03 00 00 00 00 00 00 f0 3f");
    check_bytes(dbits(0x8000000000000000ULL), "03 00 00 00 00 00 00 00 80");
    check_bytes(sl_cstr("ab"), "04 02 61 62");
    check_bytes(sl_bytes("\0\xff", 2), "05 02 00 ff");
    check_bytes(sl_composite(SL_KIND_PAIR, kv, 2), "06 02 02 04 01 61");
    check_bytes(sl_composite(SL_KIND_TUPLE, kv, 2), "07 02 02 02 04 01 61");
    check_bytes(sl_composite(SL_KIND_LIST, one, 1), "08 01 00");
    check_bytes(sl_composite(SL_KIND_LIST, NULL, 0), "08 00");
    SL_CHECK_OK(sl__codec_begin(&b));
    SL_CHECK_INT(b.len, 1);
    SL_CHECK_INT((unsigned char)b.data[0], 1);
    sl__buf_free(&b);
}

/* A value with every kind, for the truncation and flip tests. */
static sl_value sample(sl_value *store)
{
    static const char s[] = "key\0\xfe";
    store[0] = sl_str(s, 5);
    store[1] = sl_int(-123456789);
    store[2] = sl_double(NAN);
    store[3] = sl_bool(true);
    store[4] = sl_null();
    store[5] = sl_bytes("\x01\x02\x03", 3);
    store[6] = sl_composite(SL_KIND_LIST, &store[1], 5);
    store[7] = sl_composite(SL_KIND_PAIR, &store[0], 2);
    store[8] = sl_composite(SL_KIND_TUPLE, &store[5], 3);
    return sl_composite(SL_KIND_LIST, &store[7], 2);
}

/* Every proper prefix fails cleanly, naming an offset, and allocates
 * nothing; the whole decodes. */
static void test_every_truncation(void)
{
    sl_value store[9], v = sample(store), out;
    sl__buf b = {0};
    sl__arena a;
    sl__codec_alloc al;
    sl__errmsg e;
    size_t n, bad = 0, leaked = 0, silent = 0, before;

    sl__arena_init(&a, 256);
    al = sl__codec_arena_alloc(&a);
    enc(&b, v);
    for (n = 0; n < b.len; n++) {
        /* A copy of exactly n bytes: ASan sees any read past it. */
        char *cut = malloc(n ? n : 1);
        memcpy(cut, b.data, n);
        e.text[0] = '\0';
        before = a.bytes + (size_t)(a.end - a.pos);
        if (sl__codec_decode(cut, n, NULL, &al, 0, &out, &e) != SL_ECORRUPT)
            bad++;
        if (a.bytes + (size_t)(a.end - a.pos) != before)
            leaked++;
        if (!strstr(e.text, "at offset"))
            silent++;
        free(cut);
    }
    SL_CHECK_INT(bad, 0);
    SL_CHECK_INT(leaked, 0);
    SL_CHECK_INT(silent, 0);
    SL_CHECK_OK(sl__codec_decode(b.data, b.len, NULL, &al, 0, &out, NULL));
    SL_CHECK(bit_equal(&v, &out));
    sl__arena_free(&a);
    sl__buf_free(&b);
}

/* Flipped bytes never crash; whatever decodes re-encodes to exactly the
 * bytes it was read from (every value has one encoding). */
static void test_random_flips(void)
{
    sl_value store[9], v = sample(store), out;
    sl__buf b = {0}, re = {0};
    sl__arena a;
    sl__codec_alloc al;
    uint64_t rng = 0x9E3779B97F4A7C15ULL;
    size_t used, round, ok = 0, mismatched = 0, odd_status = 0;
    char *copy;
    sl_status st;

    enc(&b, v);
    copy = malloc(b.len);
    sl__arena_init(&a, 4096);
    al = sl__codec_arena_alloc(&a);
    for (round = 0; round < 20000; round++) {
        int flips = 1 + (int)(round % 3), f;
        memcpy(copy, b.data, b.len);
        for (f = 0; f < flips; f++) {
            rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
            copy[(rng >> 33) % b.len] ^= (char)(1u << ((rng >> 20) & 7));
        }
        st = sl__codec_decode(copy, b.len, &used, &al, round & 1, &out, NULL);
        if (st == SL_OK) {
            ok++;
            enc(&re, out);
            if (re.len != used || memcmp(re.data, copy, used) != 0)
                mismatched++;
        } else if (st != SL_ECORRUPT) {
            odd_status++;
        }
        if (round % 512 == 0)
            sl__arena_reset(&a);
    }
    SL_CHECK_INT(mismatched, 0);
    SL_CHECK_INT(odd_status, 0);
    SL_CHECK(ok > 0); /* flips inside string bytes and doubles decode */
    free(copy);
    sl__arena_free(&a);
    sl__buf_free(&b);
    sl__buf_free(&re);
}

/* Decode hand-made bytes; expect SL_ECORRUPT and `what` in the message. */
static void check_corrupt(const char *bytes, size_t n, const char *what)
{
    sl__arena a;
    sl__codec_alloc al;
    sl__errmsg e = {{0}, 0};
    sl_value out;
    sl__arena_init(&a, 256);
    al = sl__codec_arena_alloc(&a);
    SL_CHECK_INT(sl__codec_decode(bytes, n, NULL, &al, 0, &out, &e),
                 SL_ECORRUPT);
    if (!strstr(e.text, what))
        sl_test_fail(__FILE__, __LINE__, "\"%s\" lacks \"%s\"", e.text, what);
    SL_CHECK_INT(a.bytes, 0); /* nothing allocated for garbage */
    sl__arena_free(&a);
}

static void test_corrupt_messages(void)
{
    check_corrupt("\x09", 1, "unknown value kind 9 at offset 0");
    check_corrupt("\x08\x01\x80\x01", 4, "unknown value kind 128 at offset 2");
    check_corrupt("\x02\x80\x00", 3, "int truncated or malformed at offset 1");
    check_corrupt("\x02\xff\xff\xff\xff\xff\xff\xff\xff\xff\x02", 11,
                  "int truncated or malformed");
    check_corrupt("\x01\x02", 2, "bool neither 0 nor 1 at offset 1");
    check_corrupt("\x04\x05"
                  "abc",
                  5, "string length 5 exceeds the 3 bytes");
    check_corrupt("\x08\xff\xff\xff\xff\x0f\x00", 7,
                  "item count 4294967295 exceeds");
    check_corrupt("\x07\x80\x80\x80\x80\x10", 6, "item count");
    check_corrupt("\x03\x00\x00", 3, "double truncated at offset 0");
    check_corrupt("", 0, "value truncated at offset 0");
    check_corrupt("\x06\x00", 2, "value truncated at offset 2");
}

/* A record batch: version byte, then values until the end. */
static void test_reader(void)
{
    sl__buf b = {0};
    sl__codec_reader r;
    sl__arena a;
    sl__codec_alloc al;
    sl__errmsg e = {{0}, 0};
    sl_value out;
    int64_t i, n = 0, sum = 0;

    sl__arena_init(&a, 256);
    al = sl__codec_arena_alloc(&a);
    SL_CHECK_OK(sl__codec_begin(&b));
    for (i = -50; i <= 50; i++) {
        out = sl_int(i * 1000);
        SL_CHECK_OK(sl__codec_encode(&b, &out, &e));
    }
    SL_CHECK_OK(sl__codec_reader_init(&r, b.data, b.len, 0, &e));
    SL_CHECK_INT(r.version, SL__CODEC_VERSION);
    while (!sl__codec_reader_done(&r)) {
        if (sl__codec_read(&r, &al, &out, &e) != SL_OK)
            break;
        n++;
        sum += out.u.i + 1;
    }
    SL_CHECK_INT(n, 101);
    SL_CHECK_INT(sum, 101);

    /* A truncated last value: error, and the reader stays before it. */
    SL_CHECK_OK(sl__codec_reader_init(&r, b.data, b.len - 1, 0, &e));
    for (n = 0; n < 100; n++)
        SL_CHECK_OK(sl__codec_read(&r, &al, &out, &e));
    SL_CHECK_INT(sl__codec_read(&r, &al, &out, &e), SL_ECORRUPT);
    SL_CHECK(!sl__codec_reader_done(&r));

    SL_CHECK_INT(sl__codec_reader_init(&r, "", 0, 0, &e), SL_ECORRUPT);
    SL_CHECK(strstr(e.text, "no format version") != NULL);
    SL_CHECK_INT(sl__codec_reader_init(&r, "\x02\x00", 2, 0, &e), SL_ECORRUPT);
    SL_CHECK(strstr(e.text, "format version 2") != NULL);
    SL_CHECK_INT(sl__codec_reader_init(&r, "\x00", 1, 0, &e), SL_ECORRUPT);
    SL_CHECK_OK(sl__codec_reader_init(&r, "\x01", 1, 0, &e));
    SL_CHECK(sl__codec_reader_done(&r));
    sl__arena_free(&a);
    sl__buf_free(&b);
}

/* Values that cannot be encoded leave the buffer as it was. */
static void test_encode_errors(void)
{
    sl_value three[3] = {sl_int(1), sl_int(2), sl_int(3)};
    sl_value bad = sl_composite(SL_KIND_PAIR, three, 3);
    sl_value odd = sl_null(), in_list;
    sl__buf b = {0};
    sl__errmsg e = {{0}, 0};

    odd.kind = 42;
    in_list = sl_composite(SL_KIND_LIST, &odd, 1);
    SL_CHECK_OK(sl__codec_begin(&b));
    SL_CHECK_INT(sl__codec_encode(&b, &bad, &e), SL_EINVAL);
    SL_CHECK(strstr(e.text, "pair of 3 items") != NULL);
    SL_CHECK_INT(sl__codec_encode(&b, &in_list, &e), SL_EINVAL);
    SL_CHECK(strstr(e.text, "kind 42") != NULL);
    SL_CHECK_INT(b.len, 1);
    sl__buf_free(&b);
}

/* A caller's allocator: scalars and borrowed strings need no memory, and a
 * composite takes exactly one block. */
static size_t g_blocks;
static char g_heap[4096];
static size_t g_heap_used;

static void *heap_fn(void *user, size_t size)
{
    void *p = g_heap + g_heap_used;
    (void)user;
    g_blocks++;
    size = (size + 7) & ~(size_t)7;
    if (size > sizeof g_heap - g_heap_used)
        return NULL;
    g_heap_used += size;
    return p;
}

static void test_caller_allocator(void)
{
    sl__codec_alloc al = {heap_fn, NULL};
    sl_value store[9], v = sample(store), out;
    sl__buf b = {0};

    enc(&b, sl_int(5));
    SL_CHECK_OK(sl__codec_decode(b.data, b.len, NULL, &al, 0, &out, NULL));
    enc(&b, sl_cstr("borrowed"));
    SL_CHECK_OK(sl__codec_decode(b.data, b.len, NULL, &al, SL__CODEC_BORROW,
                                 &out, NULL));
    SL_CHECK(out.u.s == b.data + 2);
    SL_CHECK_INT(g_blocks, 0);
    enc(&b, v);
    SL_CHECK_OK(sl__codec_decode(b.data, b.len, NULL, &al, 0, &out, NULL));
    SL_CHECK_INT(g_blocks, 1);
    SL_CHECK(bit_equal(&v, &out));
    g_heap_used = sizeof g_heap; /* full: SL_ENOMEM, not a crash */
    SL_CHECK_INT(sl__codec_decode(b.data, b.len, NULL, &al, 0, &out, NULL),
                 SL_ENOMEM);
    sl__buf_free(&b);
}

/* Random values of every kind, a thousand of them in one record batch. */
static uint64_t g_rng = 12345;

static uint64_t next_rand(void)
{
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return g_rng;
}

static sl_value random_value(sl__arena *a, int depth)
{
    uint64_t r = next_rand();
    uint32_t kind = (uint32_t)(r % (depth < 4 ? 9 : 6)), n, i;
    sl_value v = sl_null(), *items;
    char *s;
    if (kind == SL_KIND_BOOL)
        return sl_bool(r & 0x100);
    if (kind == SL_KIND_INT)
        return sl_int((int64_t)next_rand() >> (r >> 8) % 64);
    if (kind == SL_KIND_DOUBLE)
        return dbits(next_rand());
    if (kind == SL_KIND_STR || kind == SL_KIND_BYTES) {
        n = (uint32_t)(r >> 8) % 40;
        s = sl__arena_alloc(a, n + 1);
        for (i = 0; i < n; i++)
            s[i] = (char)next_rand();
        v = sl_str(s, n);
        v.kind = kind;
        return v;
    }
    if (!sl_kind_is_composite(kind))
        return v;
    n = kind == SL_KIND_PAIR ? 2 : (uint32_t)(r >> 8) % 5;
    items = sl__arena_alloc(a, (n + 1) * sizeof *items);
    for (i = 0; i < n; i++)
        items[i] = random_value(a, depth + 1);
    return sl_composite((sl_kind)kind, items, n);
}

static void test_random_round_trips(void)
{
    enum { N = 1000 };
    static sl_value vals[N];
    sl__arena src, dst;
    sl__codec_alloc al;
    sl__codec_reader r;
    sl__buf b = {0};
    sl_value out;
    size_t i, wrong = 0;

    sl__arena_init(&src, 4096);
    sl__arena_init(&dst, 4096);
    al = sl__codec_arena_alloc(&dst);
    SL_CHECK_OK(sl__codec_begin(&b));
    for (i = 0; i < N; i++) {
        vals[i] = random_value(&src, 0);
        SL_CHECK_OK(sl__codec_encode(&b, &vals[i], NULL));
    }
    SL_CHECK_OK(sl__codec_reader_init(&r, b.data, b.len, 0, NULL));
    for (i = 0; i < N; i++)
        if (sl__codec_read(&r, &al, &out, NULL) != SL_OK ||
            !bit_equal(&vals[i], &out))
            wrong++;
    SL_CHECK_INT(wrong, 0);
    SL_CHECK(sl__codec_reader_done(&r));
    sl__arena_free(&src);
    sl__arena_free(&dst);
    sl__buf_free(&b);
}

static void test_uvarint(void)
{
    uint64_t xs[] = {0, 1, 127, 128, 16383, 16384, UINT32_MAX, UINT64_MAX};
    sl__buf b = {0};
    const unsigned char *p, *end;
    uint64_t x;
    size_t i;
    for (i = 0; i < sizeof xs / sizeof xs[0]; i++)
        SL_CHECK_OK(sl__codec_put_uvarint(&b, xs[i]));
    p = (const unsigned char *)b.data;
    end = p + b.len;
    for (i = 0; i < sizeof xs / sizeof xs[0]; i++) {
        SL_CHECK(sl__codec_get_uvarint(&p, end, &x));
        SL_CHECK(x == xs[i]);
    }
    SL_CHECK(p == end);
    SL_CHECK(!sl__codec_get_uvarint(&p, end, &x));
    sl__buf_free(&b);
}

const char *SL_SUITE = "core/codec";
const sl_test_case SL_TESTS[] = {
    {"scalars", test_scalars},
    {"composite_kinds", test_composite_kinds},
    {"depth_limit", test_depth_limit},
    {"exact_bytes", test_exact_bytes},
    {"every_truncation", test_every_truncation},
    {"random_flips", test_random_flips},
    {"corrupt_messages", test_corrupt_messages},
    {"reader", test_reader},
    {"encode_errors", test_encode_errors},
    {"caller_allocator", test_caller_allocator},
    {"random_round_trips", test_random_round_trips},
    {"uvarint", test_uvarint},
    {NULL, NULL},
};
