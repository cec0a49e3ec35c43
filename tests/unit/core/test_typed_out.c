/*
 * Typed output (src/core/typed_out.c): ISO-8601 timestamps both ways
 * (epoch 0, negative epochs, leap years, far years, every accepted input
 * form and offset, rejects), JSON of nested structs and arrays, base64
 * binary, Spark's show() text (Double.toString), mismatched kinds.
 */
#include <sluice/sluice.h>
#include <stdio.h>
#include <string.h>

#include "core/schema.h"
#include "sl_test.h"

static void check_iso(int64_t ms, const char *want)
{
    char out[32];
    size_t n = sl__ts_format_iso(ms, out);
    SL_CHECK_STR(out, want);
    SL_CHECK_INT(n, strlen(want));
}

static void test_format_iso(void)
{
    check_iso(0, "1970-01-01T00:00:00.000Z");
    check_iso(-1, "1969-12-31T23:59:59.999Z");
    check_iso(-86400000, "1969-12-31T00:00:00.000Z");
    check_iso(1704187800123, "2024-01-02T09:30:00.123Z");
    check_iso(-2203891200000, "1900-03-01T00:00:00.000Z");
    check_iso(951782400000, "2000-02-29T00:00:00.000Z");
    check_iso(253402300799999, "9999-12-31T23:59:59.999Z");
    check_iso(2147483648000, "2038-01-19T03:14:08.000Z");
    check_iso(-62135596800000, "0001-01-01T00:00:00.000Z");
    check_iso(253402300800000, "+10000-01-01T00:00:00.000Z");
    check_iso(INT64_MAX, "+292278994-08-17T07:12:55.807Z");
    check_iso(INT64_MIN, "-292275055-05-16T16:47:04.192Z");
}

static void check_parse(const char *in, int64_t want)
{
    int64_t ms = 12345;
    bool ok = sl__ts_parse(in, strlen(in), &ms);
    if (!ok)
        sl_test_fail(__FILE__, __LINE__, "not read: \"%s\"", in);
    SL_CHECK_INT(ms, want);
}

static void check_reject(const char *in)
{
    int64_t ms = 0;
    if (sl__ts_parse(in, strlen(in), &ms))
        sl_test_fail(__FILE__, __LINE__, "read: \"%s\" as %lld", in,
                     (long long)ms);
    else
        CU_PASS(in);
}

static void test_parse_forms(void)
{
    const int64_t day = 1704153600000; /* 2024-01-02 */
    check_parse("2024-01-02", day);
    check_parse("2024-1-2", day);
    check_parse("2024-01", 1704067200000);
    check_parse("2024", 1704067200000);
    check_parse("2024-01-02 09:30", day + 34200000);
    check_parse("2024-01-02T09:30", day + 34200000);
    check_parse("2024-01-02 9:3:7", day + 9 * 3600000 + 3 * 60000 + 7000);
    check_parse("2024-01-02T09:30:00", day + 34200000);
    check_parse("2024-01-02 09:30:00.1", day + 34200100);
    check_parse("2024-01-02 09:30:00.12", day + 34200120);
    check_parse("2024-01-02 09:30:00.123", day + 34200123);
    check_parse("2024-01-02 09:30:00.123456", day + 34200123);
    check_parse("2024-01-02 09:30:00.123999999", day + 34200123);
    check_parse("2024-01-02T09:30:00.123Z", day + 34200123);
    check_parse("2024-01-02T09:30:00+01:00", day + 34200000 - 3600000);
    check_parse("2024-01-02T09:30:00-05:30", day + 34200000 + 19800000);
    check_parse("2024-01-02T09:30:00+0100", day + 34200000 - 3600000);
    check_parse("2024-01-02T09:30:00+01", day + 34200000 - 3600000);
    check_parse("2024-01-02T09:30:00 UTC", day + 34200000);
    check_parse("2024-01-02T09:30:00GMT+02:00", day + 34200000 - 7200000);
    check_parse("2024-01-02T09:30Z", day + 34200000);
    check_parse("  2024-01-02 09:30:00  ", day + 34200000);
    check_parse("2024-01-02T", day);
    check_parse("1970-01-01", 0);
    check_parse("1969-12-31T23:59:59.999Z", -1);
    check_parse("1900-03-01", -2203891200000);
    check_parse("2000-02-29", 951782400000);
    check_parse("2024-02-29", 1709164800000);
    check_parse("9999-12-31T23:59:59.999Z", 253402300799999);
    check_parse("2038-01-19 03:14:08", 2147483648000);
    check_parse("1600-02-29", -11670998400000);
}

static void test_parse_rejects(void)
{
    static const char *const bad[] = {
        "",
        "   ",
        "2024-02-30",
        "2023-02-29",
        "1900-02-29",
        "2024-13-01",
        "2024-00-10",
        "2024-01-00",
        "2024-01-32",
        "2024-01-02 25:00",
        "2024-01-02 24:00:00",
        "2024-01-02 09:60",
        "2024-01-02 09:30:60",
        "2024-01-02 09",
        "2024-01-02 09:30:00.",
        "2024-01-02 09:30:00.1234567890",
        "2024-01-02T09:30:00+19:00",
        "2024-01-02T09:30:00+01:60",
        "2024-01-02T09:30:00+013",
        "2024-01-02T09:30:00Zx",
        "2024-01-02T09:30:00 PST",
        "24-01-02",
        "2024/01/02",
        "2024-01-02x",
        "20240102 09:30",
        "1234567-01-01",
        "09:30:00",
        "abc",
        "2024-01-02 09:30:00 extra",
    };
    size_t i;
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
        check_reject(bad[i]);
}

static void test_parse_format_round_trip(void)
{
    static const int64_t cases[] = {0,
                                    -1,
                                    1,
                                    -86399999,
                                    951868799999,
                                    -2208988800001,
                                    253402300799999,
                                    -62135596800000};
    char out[32];
    int64_t back;
    size_t i, n;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        n = sl__ts_format_iso(cases[i], out);
        SL_CHECK(sl__ts_parse(out, n, &back));
        SL_CHECK_INT(back, cases[i]);
    }
}

/* ----------------------------------------------------------- output */

static sl_schema *schema(const char *ddl)
{
    char err[128];
    sl_schema *s = NULL;
    if (sl_schema_parse(ddl, &s, err, sizeof err) != SL_OK)
        sl_test_fail(__FILE__, __LINE__, "%s", err);
    return s;
}

static void check_json(const sl_type *t, const sl_value *v, const char *want)
{
    sl__buf b = {0};
    SL_CHECK_OK(sl__json_put_typed(&b, t, v));
    SL_CHECK_OK(sl__buf_append(&b, "", 1));
    SL_CHECK_STR(b.data, want);
    sl__buf_free(&b);
}

static void check_text(const sl_type *t, const sl_value *v, const char *want)
{
    sl__buf b = {0};
    SL_CHECK_OK(sl__text_put_typed(&b, t, v));
    SL_CHECK_OK(sl__buf_append(&b, "", 1));
    SL_CHECK_STR(b.data, want);
    sl__buf_free(&b);
}

static void test_json_row_nested(void)
{
    sl_schema *s = schema("`se\"c` timestamp, spread double, "
                          "w struct<start: timestamp, `end` timestamp>, "
                          "words array<string>, ok boolean, n long, "
                          "m array<struct<k:long, t:array<timestamp>>>");
    sl_value win[2] = {sl_int(0), sl_int(1000)};
    sl_value words[3] = {sl_cstr("a"), sl_null(), sl_cstr("q\"")};
    sl_value ts[1] = {sl_int(-1)};
    sl_value inner[2] = {sl_int(7), sl_composite(SL_KIND_LIST, ts, 1)};
    sl_value elems[1] = {sl_composite(SL_KIND_TUPLE, inner, 2)};
    sl_value cols[7] = {
        sl_int(1704187801000),
        sl_double(0.02),
        sl_composite(SL_KIND_TUPLE, win, 2),
        sl_composite(SL_KIND_LIST, words, 3),
        sl_bool(true),
        sl_null(),
        sl_composite(SL_KIND_LIST, elems, 1),
    };
    sl_value row = sl_composite(SL_KIND_TUPLE, cols, 7);
    sl__buf b = {0};
    SL_CHECK_OK(sl__json_put_row(&b, s, &row));
    SL_CHECK_OK(sl__buf_append(&b, "", 1));
    SL_CHECK_STR(b.data,
                 "{\"se\\\"c\":\"2024-01-02T09:30:01.000Z\",\"spread\":0.02,"
                 "\"w\":{\"start\":\"1970-01-01T00:00:00.000Z\","
                 "\"end\":\"1970-01-01T00:00:01.000Z\"},"
                 "\"words\":[\"a\",null,\"q\\\"\"],\"ok\":true,\"n\":null,"
                 "\"m\":[{\"k\":7,\"t\":[\"1969-12-31T23:59:59.999Z\"]}]}");
    sl__buf_free(&b);
    sl_schema_release(s);
}

static void test_json_scalars(void)
{
    const sl_type *d = sl_type_scalar(SL_TYPE_DOUBLE);
    const sl_type *bin = sl_type_scalar(SL_TYPE_BINARY);
    check_json(d, &(sl_value[1]){sl_double(1.0)}[0], "1.0");
    check_json(d, &(sl_value[1]){sl_double(1e10)}[0], "1.0E10");
    check_json(d, &(sl_value[1]){sl_double(0.1)}[0], "0.1");
    check_json(d, &(sl_value[1]){sl_double(0.0 / 0.0)}[0], "null");
    check_json(bin, &(sl_value[1]){sl_bytes("", 0)}[0], "\"\"");
    check_json(bin, &(sl_value[1]){sl_bytes("f", 1)}[0], "\"Zg==\"");
    check_json(bin, &(sl_value[1]){sl_bytes("fo", 2)}[0], "\"Zm8=\"");
    check_json(bin, &(sl_value[1]){sl_bytes("foo", 3)}[0], "\"Zm9v\"");
    check_json(bin, &(sl_value[1]){sl_bytes("\0\xff", 2)}[0], "\"AP8=\"");
    check_json(sl_type_scalar(SL_TYPE_STRING), &(sl_value[1]){sl_cstr("\n")}[0],
               "\"\\n\"");
    check_json(NULL, &(sl_value[1]){sl_int(3)}[0], "3");
}

/* Values whose kind the type does not expect are JSON of their kind. */
static void test_json_mismatch(void)
{
    sl_schema *s = schema("a long, t timestamp, w struct<x long, y long>, "
                          "l array<long>");
    sl_value two[2] = {sl_int(1), sl_int(2)};
    sl_value one[1] = {sl_int(1)};
    sl_value cols[4] = {sl_cstr("x"), sl_cstr("2024"),
                        sl_composite(SL_KIND_TUPLE, one, 1),
                        sl_composite(SL_KIND_TUPLE, two, 2)};
    sl_value row = sl_composite(SL_KIND_TUPLE, cols, 4);
    sl_value short_row = sl_composite(SL_KIND_TUPLE, cols, 2);
    check_json(sl_schema_type(s, 0), &cols[0], "\"x\"");
    check_json(sl_schema_type(s, 1), &cols[1], "\"2024\"");
    check_json(sl_schema_type(s, 2), &cols[2], "[1]");
    check_json(sl_schema_type(s, 3), &cols[3], "[1,2]");
    check_json(sl_schema_type(s, 1), &(sl_value[1]){sl_double(1.5)}[0], "1.5");
    {
        sl__buf b = {0};
        SL_CHECK_OK(sl__json_put_row(&b, s, &row));
        SL_CHECK_OK(sl__json_put_row(&b, s, &short_row));
        SL_CHECK_OK(sl__buf_append(&b, "", 1));
        SL_CHECK_STR(b.data, "{\"a\":\"x\",\"t\":\"2024\",\"w\":[1],"
                             "\"l\":[1,2]}[\"x\",\"2024\"]");
        sl__buf_free(&b);
    }
    sl_schema_release(s);
}

static void test_text_doubles(void)
{
    static const struct {
        double d;
        const char *want;
    } cases[] = {
        {1.0, "1.0"},
        {0.1, "0.1"},
        {1e10, "1.0E10"},
        {1e-5, "1.0E-5"},
        {-2.5, "-2.5"},
        {1234567.0, "1234567.0"},
        {1e7, "1.0E7"},
        {0.001, "0.001"},
        {1.5e-4, "1.5E-4"},
        {0.0, "0.0"},
        {-0.0, "-0.0"},
        {1.0 / 0.0, "Infinity"},
        {-1.0 / 0.0, "-Infinity"},
        {0.0 / 0.0, "NaN"},
        {123456789.125, "1.23456789125E8"},
    };
    const sl_type *d = sl_type_scalar(SL_TYPE_DOUBLE);
    size_t i;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_text(d, &(sl_value[1]){sl_double(cases[i].d)}[0], cases[i].want);
}

static void test_text_typed(void)
{
    sl_schema *s = schema("t timestamp, w struct<s timestamp, n long>, "
                          "a array<double>, b binary, x string, k boolean");
    sl_value win[2] = {sl_int(1704187800100), sl_null()};
    sl_value arr[3] = {sl_double(1.0), sl_null(), sl_double(1e-5)};
    check_text(sl_schema_type(s, 0), &(sl_value[1]){sl_int(1704187800123)}[0],
               "2024-01-02 09:30:00.123");
    check_text(sl_schema_type(s, 0), &(sl_value[1]){sl_int(1704187800000)}[0],
               "2024-01-02 09:30:00");
    check_text(sl_schema_type(s, 0), &(sl_value[1]){sl_int(-1)}[0],
               "1969-12-31 23:59:59.999");
    check_text(sl_schema_type(s, 1),
               &(sl_value[1]){sl_composite(SL_KIND_TUPLE, win, 2)}[0],
               "{2024-01-02 09:30:00.1, null}");
    check_text(sl_schema_type(s, 2),
               &(sl_value[1]){sl_composite(SL_KIND_LIST, arr, 3)}[0],
               "[1.0, null, 1.0E-5]");
    check_text(sl_schema_type(s, 3), &(sl_value[1]){sl_bytes("\x01\xab", 2)}[0],
               "[01 AB]");
    check_text(sl_schema_type(s, 4), &(sl_value[1]){sl_cstr("a b")}[0], "a b");
    check_text(sl_schema_type(s, 5), &(sl_value[1]){sl_bool(false)}[0],
               "false");
    check_text(sl_schema_type(s, 4), &(sl_value[1]){sl_null()}[0], "NULL");
    check_text(sl_schema_type(s, 0), &(sl_value[1]){sl_cstr("late")}[0],
               "late");
    check_text(sl_type_scalar(SL_TYPE_LONG),
               &(sl_value[1]){sl_int(INT64_MIN)}[0], "-9223372036854775808");
    sl_schema_release(s);
}

/* The yyyy-mm-ddThh:mm:ss.mmmZ fast path reads what the general scanner
 * reads (a leading space sends the same text to the scanner): valid and
 * impossible dates and times. */
static void test_parse_iso_fast(void)
{
    static const int years[] = {1, 1900, 1970, 2000, 2023, 2024, 2100, 9999};
    static const char *const times[] = {
        "00:00:00.000", "23:59:59.999", "09:30:00.123", "24:00:00.000",
        "12:60:00.000", "12:00:60.000", "1a:00:00.000", "12:00:00.0x0"};
    char text[64];
    int64_t a, b;
    for (size_t y = 0; y < sizeof years / sizeof years[0]; y++)
        for (int m = 0; m <= 13; m++)
            for (int d = 0; d <= 32; d++)
                for (size_t t = 0; t < sizeof times / sizeof times[0]; t++) {
                    int n = snprintf(text, sizeof text, " %04d-%02d-%02dT%sZ",
                                     years[y], m, d, times[t]);
                    bool fast = sl__ts_parse(text + 1, (size_t)n - 1, &a);
                    bool slow = sl__ts_parse(text, (size_t)n, &b);
                    SL_CHECK(fast == slow);
                    if (fast && slow)
                        SL_CHECK(a == b);
                }
    SL_CHECK(sl__ts_parse("2024-02-29T12:00:00.000Z", 24, &a));
    SL_CHECK(a == INT64_C(1709208000000));
    SL_CHECK(!sl__ts_parse("2023-02-29T12:00:00.000Z", 24, &a));
}

const char *SL_SUITE = "core_typed_out";
const sl_test_case SL_TESTS[] = {
    {"format_iso", test_format_iso},
    {"parse_forms", test_parse_forms},
    {"parse_rejects", test_parse_rejects},
    {"parse_iso_fast", test_parse_iso_fast},
    {"parse_format_round_trip", test_parse_format_round_trip},
    {"json_row_nested", test_json_row_nested},
    {"json_scalars", test_json_scalars},
    {"json_mismatch", test_json_mismatch},
    {"text_doubles", test_text_doubles},
    {"text_typed", test_text_typed},
    {NULL, NULL},
};
