/*
 * CAST (src/sql/cast.c) with Spark 3.5's ANSI-off rules: every pair
 * among boolean, long, double, string, timestamp, binary, arrays and
 * structs, the edges (trimming, fractions, overflow, NaN, pre-1970
 * timestamps) and values whose kind does not match their type.
 */
#include <string.h>

#include "core/schema.h"
#include "fn_call.h"
#include "sl_test.h"

static sl__arena A;

static const sl_type *type_of(const char *ddl)
{
    const sl_type *t = NULL;
    size_t used;
    char err[128];
    if (sl__type_parse(ddl, &A, &t, &used, err, sizeof err) != SL_OK)
        return NULL;
    return t;
}

/* CAST(<spec> AS <ddl>) as text (sqlfn_text). */
static const char *cast(const char *spec, const char *ddl)
{
    const sl_type *from, *to = type_of(ddl);
    sl_value v, out;
    sqlfn_value(spec, &A, &from, &v);
    if (!to || sl__sql_cast(&v, from, to, &A, &out) != SL_OK)
        return "(error)";
    return sqlfn_text(to, &out, &A);
}

static void setup(void)
{
    sl__arena_init(&A, 4096);
}

static void test_to_long(void)
{
    setup();
    SL_CHECK_STR(cast("s:abc", "long"), "NULL");
    SL_CHECK_STR(cast("s: 12 ", "long"), "12");
    SL_CHECK_STR(cast("s:\t12\n", "long"), "12");
    SL_CHECK_STR(cast("s:1.9", "long"), "1");
    SL_CHECK_STR(cast("s:-1.9", "long"), "-1");
    SL_CHECK_STR(cast("s:+5", "long"), "5");
    SL_CHECK_STR(cast("s:1.", "long"), "1");
    SL_CHECK_STR(cast("s:.5", "long"), "0");
    SL_CHECK_STR(cast("s:.", "long"), "NULL");
    SL_CHECK_STR(cast("s:", "long"), "NULL");
    SL_CHECK_STR(cast("s:1e3", "long"), "NULL");
    SL_CHECK_STR(cast("s:9223372036854775807", "long"), "9223372036854775807");
    SL_CHECK_STR(cast("s:9223372036854775808", "long"), "NULL");
    SL_CHECK_STR(cast("s:-9223372036854775808", "long"),
                 "-9223372036854775808");
    SL_CHECK_STR(cast("d:1.9", "long"), "1");
    SL_CHECK_STR(cast("d:-1.9", "long"), "-1");
    SL_CHECK_STR(cast("d:nan", "long"), "0");
    SL_CHECK_STR(cast("d:1e30", "long"), "9223372036854775807");
    SL_CHECK_STR(cast("d:-inf", "long"), "-9223372036854775808");
    SL_CHECK_STR(cast("b:true", "long"), "1");
    SL_CHECK_STR(cast("b:false", "bigint"), "0");
    SL_CHECK_STR(cast("x:ab", "long"), "NULL");
    SL_CHECK_STR(cast("nl", "long"), "NULL");
    SL_CHECK_STR(cast("null", "long"), "NULL");
    sl__arena_free(&A);
}

static void test_to_double(void)
{
    setup();
    SL_CHECK_STR(cast("s:1.5", "double"), "1.5");
    SL_CHECK_STR(cast("s: 2 ", "double"), "2.0");
    SL_CHECK_STR(cast("s:abc", "double"), "NULL");
    SL_CHECK_STR(cast("s:NaN", "double"), "NaN");
    SL_CHECK_STR(cast("s:-Infinity", "double"), "-Infinity");
    SL_CHECK_STR(cast("s:inf", "double"), "Infinity");
    SL_CHECK_STR(cast("s:1d", "double"), "1.0");
    SL_CHECK_STR(cast("s:0x10", "double"), "NULL");
    SL_CHECK_STR(cast("s:1e3", "double"), "1000.0");
    SL_CHECK_STR(cast("s:", "double"), "NULL");
    SL_CHECK_STR(cast("l:3", "double"), "3.0");
    SL_CHECK_STR(cast("b:true", "double"), "1.0");
    sl__arena_free(&A);
}

static void test_to_string(void)
{
    setup();
    SL_CHECK_STR(cast("l:-42", "string"), "-42");
    SL_CHECK_STR(cast("d:0.1", "string"), "0.1");
    SL_CHECK_STR(cast("d:1e10", "string"), "1.0E10");
    SL_CHECK_STR(cast("d:1", "string"), "1.0");
    SL_CHECK_STR(cast("b:false", "string"), "false");
    SL_CHECK_STR(cast("x:héllo", "string"), "héllo");
    SL_CHECK_STR(cast("al:1|2", "string"), "[1, 2]");
    SL_CHECK_STR(cast("as:", "string"), "[]");
    sl__arena_free(&A);
}

static void test_boolean(void)
{
    static const char *const yes[] = {"s:true", "s:t",    "s:yes",  "s:y",
                                      "s:1",    "s:TRUE", "s: Yes "};
    static const char *const no[] = {"s:false", "s:f", "s:no",
                                     "s:n",     "s:0", "s:FALSE"};
    setup();
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
        SL_CHECK_STR(cast(yes[i], "boolean"), "true");
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
        SL_CHECK_STR(cast(no[i], "boolean"), "false");
    SL_CHECK_STR(cast("s:maybe", "boolean"), "NULL");
    SL_CHECK_STR(cast("s:", "boolean"), "NULL");
    SL_CHECK_STR(cast("l:2", "boolean"), "true");
    SL_CHECK_STR(cast("l:0", "boolean"), "false");
    SL_CHECK_STR(cast("d:0", "boolean"), "false");
    SL_CHECK_STR(cast("d:nan", "boolean"), "true");
    SL_CHECK_STR(cast("t:1970-01-01", "boolean"), "false");
    sl__arena_free(&A);
}

static void test_timestamp(void)
{
    setup();
    SL_CHECK_STR(cast("s:2024-01-02 09:30:00", "timestamp"),
                 "2024-01-02 09:30:00");
    SL_CHECK_STR(cast("s: 2024-01-02T09:30:00.100Z ", "timestamp"),
                 "2024-01-02 09:30:00.1");
    SL_CHECK_STR(cast("s:2024-01-02T10:30:00+01:00", "timestamp"),
                 "2024-01-02 09:30:00");
    SL_CHECK_STR(cast("s:junk", "timestamp"), "NULL");
    SL_CHECK_STR(cast("t:2024-01-02 09:30:00.999", "long"), "1704187800");
    SL_CHECK_STR(cast("t:1969-12-31 23:59:59.5", "long"), "-1");
    SL_CHECK_STR(cast("t:2024-01-02 09:30:00.5", "double"), "1.7041878005E9");
    SL_CHECK_STR(cast("l:1704187800", "timestamp"), "2024-01-02 09:30:00");
    SL_CHECK_STR(cast("l:-1", "timestamp"), "1969-12-31 23:59:59");
    SL_CHECK_STR(cast("d:1.5", "timestamp"), "1970-01-01 00:00:01.5");
    SL_CHECK_STR(cast("d:nan", "timestamp"), "NULL");
    SL_CHECK_STR(cast("d:inf", "timestamp"), "NULL");
    SL_CHECK_STR(cast("b:true", "timestamp"), "NULL");
    SL_CHECK_STR(cast("t:0001-01-01", "string"), "0001-01-01 00:00:00");
    sl__arena_free(&A);
}

static void test_binary(void)
{
    const sl_type *from;
    sl_value v, out;
    setup();
    SL_CHECK_STR(cast("s:ab", "binary"), "ab");
    sqlfn_value("l:258", &A, &from, &v);
    SL_CHECK_OK(sl__sql_cast(&v, from, type_of("binary"), &A, &out));
    SL_CHECK_INT(out.kind, SL_KIND_BYTES);
    SL_CHECK_INT(out.len, 8);
    SL_CHECK(memcmp(out.u.s, "\0\0\0\0\0\0\1\2", 8) == 0);
    SL_CHECK_STR(cast("d:1.5", "binary"), "NULL");
    SL_CHECK_STR(cast("x:ab", "long"), "NULL");
    sl__arena_free(&A);
}

static void test_composites(void)
{
    setup();
    SL_CHECK_STR(cast("al:1|2", "array<string>"), "[\"1\",\"2\"]");
    SL_CHECK_STR(cast("as:1|x| 3 ", "array<long>"), "[1,null,3]");
    SL_CHECK_STR(cast("as:1", "array<array<long>>"), "[null]");
    SL_CHECK_STR(cast("al:1", "long"), "NULL");
    SL_CHECK_STR(cast("l:1", "array<long>"), "NULL");
    /* Structs convert field by field, by position. */
    const sl_type *from = type_of("struct<a:long,b:string>");
    sl_value items[2] = {sl_int(1), sl_cstr("2.5")}, out;
    sl_value v = sl_composite(SL_KIND_TUPLE, items, 2);
    SL_CHECK_OK(
        sl__sql_cast(&v, from, type_of("struct<x:string,y:double>"), &A, &out));
    SL_CHECK_STR(sqlfn_text(type_of("struct<x:string,y:double>"), &out, &A),
                 "{\"x\":\"1\",\"y\":2.5}");
    SL_CHECK_OK(sl__sql_cast(&v, from, type_of("string"), &A, &out));
    SL_CHECK_STR(sqlfn_text(type_of("string"), &out, &A), "{1, 2.5}");
    SL_CHECK_OK(sl__sql_cast(&v, from, type_of("struct<x:long>"), &A, &out));
    SL_CHECK_INT(out.kind, SL_KIND_NULL);
    sl__arena_free(&A);
}

/* Bad input: a value whose kind its declared type does not expect is
 * converted as what it is, never read as something else. */
static void test_kind_mismatch(void)
{
    sl_value out, s = sl_cstr(" 7 "), list = sl_composite(SL_KIND_LIST, 0, 0);
    const sl_type *lng = sl_type_scalar(SL_TYPE_LONG);
    const sl_type *str = sl_type_scalar(SL_TYPE_STRING);
    setup();
    SL_CHECK_OK(sl__sql_cast(&s, lng, lng, &A, &out));
    SL_CHECK_INT(out.kind, SL_KIND_INT);
    SL_CHECK_INT(out.u.i, 7);
    SL_CHECK_OK(sl__sql_cast(&list, lng, str, &A, &out));
    SL_CHECK_INT(out.kind, SL_KIND_NULL);
    SL_CHECK_OK(sl__sql_cast(&list, str, type_of("array<long>"), &A, &out));
    SL_CHECK_INT(out.kind, SL_KIND_NULL);
    sl__arena_free(&A);
}

const char *SL_SUITE = "sql_cast";
const sl_test_case SL_TESTS[] = {
    {"to_long", test_to_long},
    {"to_double", test_to_double},
    {"to_string", test_to_string},
    {"boolean", test_boolean},
    {"timestamp", test_timestamp},
    {"binary", test_binary},
    {"composites", test_composites},
    {"kind_mismatch", test_kind_mismatch},
    {NULL, NULL},
};
