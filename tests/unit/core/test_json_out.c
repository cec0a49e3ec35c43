/*
 * The one JSON string escaper (src/core/json_out.c): every class of
 * ill-formed UTF-8 becomes U+FFFD per maximal subpart (Unicode 3.9), counted;
 * well-formed text passes; control characters are escaped; base64 as RFC
 * 4648's vectors; and the value writer's use of both (strings, bytes).
 */
#include <sluice/sluice.h>
#include <string.h>

#include "core/core.h"
#include "sl_test.h"

#define R "\xef\xbf\xbd" /* U+FFFD */

typedef struct esc_case {
    const char *in;
    size_t len; /* 0: strlen */
    const char *out;
    size_t replaced;
} esc_case;

static const esc_case CASES[] = {
    {"plain", 0, "plain", 0},
    {"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 0,
     "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 0},
    {"q\"b\\n\n\r\t\b\f", 0, "q\\\"b\\\\n\\n\\r\\t\\b\\f", 0},
    {"\x01\x1f\x7f", 0, "\\u0001\\u001f\\u007f", 0},
    {"a\0b", 3, "a\\u0000b", 0},
    /* stray continuation bytes: one each */
    {"\x80", 0, R, 1},
    {"a\xbf\x80z", 0, "a" R R "z", 2},
    /* bytes that never start a sequence */
    {"\xc0\xc1\xf5\xff", 0, R R R R, 4},
    /* overlong forms: C0/C1 leads, E0 80..9F, F0 80..8F */
    {"\xc0\xaf", 0, R R, 2},
    {"\xe0\x80\xaf", 0, R R R, 3},
    {"\xe0\x9f\xbf", 0, R R R, 3},
    {"\xf0\x80\x80\xaf", 0, R R R R, 4},
    {"\xf0\x8f\xbf\xbf", 0, R R R R, 4},
    /* surrogates: ED A0..BF */
    {"\xed\xa0\x80", 0, R R R, 3},
    {"\xed\xbf\xbf", 0, R R R, 3},
    {"\xed\x9f\xbf", 0, "\xed\x9f\xbf", 0}, /* U+D7FF is fine */
    /* past U+10FFFF: F4 90.. */
    {"\xf4\x90\x80\x80", 0, R R R R, 4},
    {"\xf4\x8f\xbf\xbf", 0, "\xf4\x8f\xbf\xbf", 0}, /* U+10FFFF */
    /* truncated sequences: the maximal subpart is one U+FFFD */
    {"\xc3", 0, R, 1},
    {"\xe2\x82", 0, R, 1},
    {"\xf0\x9f\x98", 0, R, 1},
    {"\xe2\x82z", 0, R "z", 1},
    {"\xf0\x9f\x98\"", 0, R "\\\"", 1},
    {"\xe2\x82\xe2\x82\xac", 0, R "\xe2\x82\xac", 1},
    /* a truncated sequence at the very end */
    {"ok\xf4\x8f\xbf", 0, "ok" R, 1},
    {NULL, 0, NULL, 0},
};

static void test_escape_cases(void)
{
    char out[256];
    size_t i, n, len, need, replaced, again;
    for (i = 0; CASES[i].in; i++) {
        len = CASES[i].len ? CASES[i].len : strlen(CASES[i].in);
        replaced = 0;
        need = sl__json_escape(NULL, CASES[i].in, len, &replaced);
        again = 0;
        n = sl__json_escape(out, CASES[i].in, len, &again);
        out[n] = '\0';
        SL_CHECK_INT(n, need);
        SL_CHECK_STR(out, CASES[i].out);
        SL_CHECK_INT(replaced, CASES[i].replaced);
        SL_CHECK_INT(again, CASES[i].replaced);
        /* The output itself is always well-formed. */
        SL_CHECK(sl__utf8_valid(out, n));
        SL_CHECK(sl__utf8_valid(CASES[i].in, len) == (replaced == 0));
    }
}

/* Every byte value alone, and every two-byte combination: the output is
 * well-formed UTF-8 and the measuring pass agrees with the writing one. */
static void test_escape_exhaustive_pairs(void)
{
    char in[2], out[32];
    unsigned a, b;
    size_t n, m, bad = 0;
    for (a = 0; a < 256; a++)
        for (b = 0; b < 256; b++) {
            in[0] = (char)a;
            in[1] = (char)b;
            m = sl__json_escape(NULL, in, 2, NULL);
            n = sl__json_escape(out, in, 2, NULL);
            if (n != m || !sl__utf8_valid(out, n))
                bad++;
        }
    SL_CHECK_INT(bad, 0);
}

static void test_base64(void)
{
    static const char *const vec[][2] = {
        {"", ""},
        {"f", "Zg=="},
        {"fo", "Zm8="},
        {"foo", "Zm9v"},
        {"foob", "Zm9vYg=="},
        {"fooba", "Zm9vYmE="},
        {"foobar", "Zm9vYmFy"},
        {NULL, NULL},
    };
    char out[64];
    size_t i, n;
    for (i = 0; vec[i][0]; i++) {
        n = sl__base64(out, vec[i][0], strlen(vec[i][0]));
        out[n] = '\0';
        SL_CHECK_STR(out, vec[i][1]);
        SL_CHECK_INT(sl__base64(NULL, vec[i][0], strlen(vec[i][0])), n);
    }
    n = sl__base64(out, "\xff\xfe\x00", 3);
    out[n] = '\0';
    SL_CHECK_STR(out, "//4A");
}

/* Values: strings through the escaper (counted), bytes as base64. */
static void test_value_json(void)
{
    char buf[128];
    size_t replaced = 0;
    sl_value items[2] = {sl_str("a\xff"
                                "b",
                                3),
                         sl_bytes("\x00\xff", 2)};
    sl_value list = sl_composite(SL_KIND_LIST, items, 2);
    size_t n = sl__value_format_json(&list, buf, sizeof buf, &replaced);
    SL_CHECK_STR(buf, "[\"a" R "b\",\"AP8=\"]");
    SL_CHECK_INT(n, strlen(buf));
    SL_CHECK_INT(replaced, 1);
    /* The public call writes the same, uncounted. */
    SL_CHECK_INT(sl_value_format_json(&list, buf, sizeof buf), n);
    SL_CHECK_STR(buf, "[\"a" R "b\",\"AP8=\"]");
}

const char *SL_SUITE = "json_out";
const sl_test_case SL_TESTS[] = {
    {"escape_cases", test_escape_cases},
    {"escape_exhaustive_pairs", test_escape_exhaustive_pairs},
    {"base64", test_base64},
    {"value_json", test_value_json},
    {NULL, NULL},
};
