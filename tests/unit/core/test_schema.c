/*
 * Schemas (src/core/schema.c): every DDL alias, every error message with
 * its column, to_ddl round trips, the builder's deep copies, composite
 * types in arenas, and the reference count under two threads (TSan).
 */
#include <pthread.h>
#include <sluice/sluice.h>
#include <string.h>

#include "core/schema.h"
#include "sl_test.h"
#include "sl_test_util.h"

/* The DDL of the one-column schema "c <type>" as the formatter writes it. */
static const char *type_of(const char *type_text, char *buf, size_t n)
{
    char ddl[256], err[200];
    sl_schema *s = NULL;
    snprintf(ddl, sizeof ddl, "c %s", type_text);
    if (sl_schema_parse(ddl, &s, err, sizeof err) != SL_OK) {
        snprintf(buf, n, "error: %s", err);
        return buf;
    }
    sl_type_format(sl_schema_type(s, 0), buf, n);
    sl_schema_release(s);
    return buf;
}

static void test_aliases(void)
{
    static const char *const cases[][2] = {
        {"boolean", "boolean"},
        {"BOOLEAN", "boolean"},
        {"long", "long"},
        {"bigint", "long"},
        {"BigInt", "long"},
        {"int", "long"},
        {"integer", "long"},
        {"smallint", "long"},
        {"short", "long"},
        {"tinyint", "long"},
        {"byte", "long"},
        {"double", "double"},
        {"float", "double"},
        {"real", "double"},
        {"decimal", "double"},
        {"decimal(10)", "double"},
        {"decimal(10,2)", "double"},
        {"DECIMAL ( 38 , 18 )", "double"},
        {"dec(5,1)", "double"},
        {"numeric(5,1)", "double"},
        {"string", "string"},
        {"varchar(10)", "string"},
        {"char(3)", "string"},
        {"character(3)", "string"},
        {"binary", "binary"},
        {"timestamp", "timestamp"},
        {"TIMESTAMP", "timestamp"},
        {"array<string>", "array<string>"},
        {"ARRAY < INT >", "array<long>"},
        {"array<array<double>>", "array<array<double>>"},
        {"struct<start: timestamp, end: timestamp>",
         "struct<start:timestamp,end:timestamp>"},
        {"struct<a long,b string>", "struct<a:long,b:string>"},
        {"struct<>", "struct<>"},
        {"struct<`x y`:int, `a``b` array<int>>",
         "struct<`x y`:long,`a``b`:array<long>>"},
        {"array<struct<w:struct<s:timestamp>>>",
         "array<struct<w:struct<s:timestamp>>>"},
    };
    char buf[256];
    size_t i;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
        SL_CHECK_STR(type_of(cases[i][0], buf, sizeof buf), cases[i][1]);
}

static void check_error(const char *ddl, const char *msg)
{
    char err[256] = "";
    sl_schema *s = NULL;
    SL_CHECK_INT(sl_schema_parse(ddl, &s, err, sizeof err), SL_EPARSE);
    SL_CHECK_STR(err, msg);
    SL_CHECK(s == NULL);
}

static void test_errors(void)
{
    check_error("ts timestamp, bid dobule",
                "schema: column 19: unknown type \"dobule\"");
    check_error("a long, A string", "schema: column 9: duplicate column \"A\"");
    check_error("a long, b struct<x int, X int>",
                "schema: column 25: duplicate column \"X\"");
    check_error("`` long", "schema: column 1: empty column name");
    check_error("a long,", "schema: column 7: trailing \",\"");
    check_error("a long,  ", "schema: column 7: trailing \",\"");
    check_error("a struct<x long,>", "schema: column 16: trailing \",\"");
    check_error("a array<long",
                "schema: column 8: unclosed \"<\" (expected \">\")");
    check_error("a struct<x long",
                "schema: column 9: unclosed \"<\" (expected \">\")");
    check_error("a struct<x array<long>",
                "schema: column 9: unclosed \"<\" (expected \">\")");
    check_error("a", "schema: column 2: expected a type, found end of text");
    check_error(", a long",
                "schema: column 1: expected a column name, found \",\"");
    check_error("a long b long",
                "schema: column 8: expected \",\", found \"b\"");
    check_error("a array long",
                "schema: column 9: expected \"<\" after array, found "
                "\"long\"");
    check_error("a struct<x long; y long>",
                "schema: column 16: expected \",\" or \">\", found \";\"");
    check_error("a array<long;>",
                "schema: column 13: expected \">\", found \";\"");
    check_error("a varchar", "schema: column 10: varchar needs a length: "
                             "varchar(n)");
    check_error("a char(x)",
                "schema: column 8: expected a number, found \"x\"");
    check_error("a decimal(1,2,3)",
                "schema: column 14: expected \")\", found \",\"");
    check_error("`a long", "schema: column 1: unclosed \"`\" in a column name");
    check_error("a long>", "schema: column 7: expected \",\", found \">\"");
    check_error("a: long", "schema: column 2: expected a type, found \":\"");
}

static void test_deep_nesting_refused(void)
{
    char ddl[1024] = "a ";
    size_t i;
    for (i = 0; i < 150; i++)
        strcat(ddl, "array<");
    check_error(ddl, "schema: column 603: types nest deeper than 100");
}

static void test_accessors(void)
{
    char err[128];
    sl_schema *s = NULL;
    SL_CHECK_OK(sl_schema_parse(" ts timestamp ,\n\tbid DOUBLE, `a``b` long ",
                                &s, err, sizeof err));
    SL_CHECK_INT(sl_schema_size(s), 3);
    SL_CHECK_STR(sl_schema_name(s, 0), "ts");
    SL_CHECK_STR(sl_schema_name(s, 2), "a`b");
    SL_CHECK(sl_schema_name(s, 3) == NULL);
    SL_CHECK(sl_schema_type(s, 1) == sl_type_scalar(SL_TYPE_DOUBLE));
    SL_CHECK(sl_schema_type(s, 9) == NULL);
    SL_CHECK_INT(sl_schema_find(s, "BID"), 1);
    SL_CHECK_INT(sl_schema_find(s, "A`b"), 2);
    SL_CHECK_INT(sl_schema_find(s, "bi"), -1);
    SL_CHECK_INT(sl_schema_find(NULL, "x"), -1);
    SL_CHECK_INT(sl_schema_size(NULL), 0);
    sl_schema_release(s);
    sl_schema_release(NULL);
    SL_CHECK_OK(sl_schema_parse("  ", &s, err, sizeof err));
    SL_CHECK_INT(sl_schema_size(s), 0);
    sl_schema_release(s);
    SL_CHECK_INT(sl_schema_parse(NULL, &s, err, sizeof err), SL_EINVAL);
}

static void check_round_trip(const char *ddl, const char *want)
{
    char err[128];
    sl_schema *s = NULL, *again = NULL;
    char *text, *text2;
    SL_CHECK_OK(sl_schema_parse(ddl, &s, err, sizeof err));
    text = sl_schema_to_ddl(s);
    SL_CHECK_STR(text, want);
    SL_CHECK_OK(sl_schema_parse(text, &again, err, sizeof err));
    SL_CHECK_INT(sl_schema_size(again), sl_schema_size(s));
    for (size_t i = 0; i < sl_schema_size(s); i++) {
        SL_CHECK_STR(sl_schema_name(again, i), sl_schema_name(s, i));
        SL_CHECK(sl_type_equal(sl_schema_type(again, i), sl_schema_type(s, i)));
    }
    text2 = sl_schema_to_ddl(again);
    SL_CHECK_STR(text2, text);
    sl_free(text);
    sl_free(text2);
    sl_schema_release(s);
    sl_schema_release(again);
}

static void test_to_ddl_round_trip(void)
{
    check_round_trip("ts timestamp, bid double, ask double",
                     "ts timestamp, bid double, ask double");
    check_round_trip("a INT, b varchar(3), c decimal(10,2), d binary",
                     "a long, b string, c double, d binary");
    check_round_trip("`x y` long, `a``b` string, `1st` long, _ok boolean",
                     "`x y` long, `a``b` string, `1st` long, _ok boolean");
    check_round_trip("window struct<start:timestamp, end timestamp>, "
                     "words array<string>, "
                     "n array<struct<`k k`: array<long>>>",
                     "window struct<start:timestamp,end:timestamp>, "
                     "words array<string>, "
                     "n array<struct<`k k`:array<long>>>");
    check_round_trip("", "");
}

static void test_type_equal(void)
{
    char err[128];
    sl_schema *a = NULL, *b = NULL, *c = NULL;
    SL_CHECK_OK(sl_schema_parse("x struct<s: timestamp, e: array<long>>", &a,
                                err, sizeof err));
    SL_CHECK_OK(sl_schema_parse("y STRUCT<s timestamp,e array<bigint>>", &b,
                                err, sizeof err));
    SL_CHECK_OK(sl_schema_parse("z struct<S timestamp,e array<bigint>>", &c,
                                err, sizeof err));
    SL_CHECK(sl_type_equal(sl_schema_type(a, 0), sl_schema_type(b, 0)));
    SL_CHECK(!sl_type_equal(sl_schema_type(a, 0), sl_schema_type(c, 0)));
    SL_CHECK(!sl_type_equal(sl_type_scalar(SL_TYPE_LONG),
                            sl_type_scalar(SL_TYPE_TIMESTAMP)));
    SL_CHECK(!sl_type_equal(sl_schema_type(a, 0), NULL));
    SL_CHECK(sl_type_scalar(SL_TYPE_ARRAY) == NULL);
    sl_schema_release(a);
    sl_schema_release(b);
    sl_schema_release(c);
}

static void test_type_format_cut(void)
{
    char buf[8];
    char err[128];
    sl_schema *s = NULL;
    SL_CHECK_OK(sl_schema_parse("a array<timestamp>", &s, err, sizeof err));
    SL_CHECK_INT(sl_type_format(sl_schema_type(s, 0), buf, sizeof buf), 16);
    SL_CHECK_STR(buf, "array<t");
    SL_CHECK_INT(sl_type_format(sl_schema_type(s, 0), NULL, 0), 16);
    sl_schema_release(s);
}

/* A builder copies composite types deep: the schema outlives the arena the
 * caller built its types in. */
static void test_builder_deep_copy(void)
{
    sl__arena a;
    sl__schema_builder *b, *fb = sl__schema_builder_new();
    sl_schema *fields, *s;
    const sl_type *arr, *st;
    char buf[128];
    sl__arena_init(&a, 256);
    SL_CHECK_OK(sl__schema_builder_add(fb, "start", 5,
                                       sl_type_scalar(SL_TYPE_TIMESTAMP)));
    fields = sl__schema_builder_finish(fb);
    st = sl__type_struct(&a, fields);
    sl_schema_release(fields); /* the arena holds its own reference */
    arr = sl__type_array(&a, st);
    b = sl__schema_builder_new();
    SL_CHECK_OK(sl__schema_builder_add(b, "ws", 2, arr));
    SL_CHECK_INT(sl__schema_builder_add(b, "WS", 2, arr), SL_EINVAL);
    SL_CHECK_STR(sl__schema_builder_errmsg(b), "duplicate column \"WS\"");
    SL_CHECK_OK(sl__schema_builder_add(b, "xyz", 1, arr)); /* len counts */
    s = sl__schema_builder_finish(b);
    sl__arena_free(&a);
    SL_CHECK_STR(sl_schema_name(s, 1), "x");
    sl_type_format(sl_schema_type(s, 0), buf, sizeof buf);
    SL_CHECK_STR(buf, "array<struct<start:timestamp>>");
    sl_schema_release(s);
    sl__schema_builder_free(sl__schema_builder_new());
    sl__schema_builder_free(NULL);
}

static void test_type_parse(void)
{
    sl__arena a;
    const sl_type *t = NULL;
    size_t used = 0;
    char err[128], buf[64];
    sl__arena_init(&a, 256);
    SL_CHECK_OK(
        sl__type_parse("  array<int>  , rest", &a, &t, &used, err, sizeof err));
    SL_CHECK_INT(used, 14);
    sl_type_format(t, buf, sizeof buf);
    SL_CHECK_STR(buf, "array<long>");
    SL_CHECK_INT(sl__type_parse("strin", &a, &t, &used, err, sizeof err),
                 SL_EPARSE);
    SL_CHECK_STR(err, "column 1: unknown type \"strin\"");
    sl__arena_free(&a);
}

/* Two threads retain and release one schema many times: with a plain
 * counter TSan reports the race and lost updates free it early. */
static void *churn(void *arg)
{
    const sl_schema *s = arg;
    for (int i = 0; i < 100000; i++) {
        sl_schema *r = sl_schema_retain(s);
        if (sl_schema_size(r) != 2)
            return (void *)1;
        sl_schema_release(r);
    }
    return NULL;
}

static void test_refcount_threads(void)
{
    char err[128];
    sl_schema *s = NULL;
    pthread_t t1, t2;
    void *r1, *r2;
    SL_CHECK_OK(
        sl_schema_parse("a long, b array<string>", &s, err, sizeof err));
    SL_CHECK_INT(pthread_create(&t1, NULL, churn, s), 0);
    SL_CHECK_INT(pthread_create(&t2, NULL, churn, s), 0);
    pthread_join(t1, &r1);
    pthread_join(t2, &r2);
    SL_CHECK(r1 == NULL && r2 == NULL);
    SL_CHECK_STR(sl_schema_name(s, 1), "b");
    sl_schema_release(s);
}

/* Every allocation of a parse and a to_ddl failing in turn: SL_ENOMEM,
 * never a crash, and nothing left behind (ASan's leak check). */
static void test_alloc_failures(void)
{
    const char *ddl = "a long, w struct<s: timestamp, e: array<long>>, "
                      "`x y` array<struct<k: string>>";
    char err[128];
    sl_schema *s;
    sl_status st = SL_ENOMEM;
    char *text;
    long n;
    SL_CHECK_OK(sl_set_allocator(sl_test_failing_allocator()));
    for (n = 0; st == SL_ENOMEM && n < 1000; n++) {
        s = NULL;
        sl_test_fail_after(n);
        st = sl_schema_parse(ddl, &s, err, sizeof err);
        SL_CHECK(st == SL_OK || st == SL_ENOMEM);
        SL_CHECK((st == SL_OK) == (s != NULL));
        sl_test_fail_after(0);
        text = s ? sl_schema_to_ddl(s) : NULL;
        SL_CHECK(text == NULL);
        sl_schema_release(s);
    }
    sl_test_fail_after(-1);
    SL_CHECK_OK(st);
    SL_CHECK(n > 3);
    SL_CHECK_OK(sl_set_allocator(NULL));
}

const char *SL_SUITE = "core_schema";
const sl_test_case SL_TESTS[] = {
    {"aliases", test_aliases},
    {"errors", test_errors},
    {"deep_nesting_refused", test_deep_nesting_refused},
    {"accessors", test_accessors},
    {"to_ddl_round_trip", test_to_ddl_round_trip},
    {"type_equal", test_type_equal},
    {"type_format_cut", test_type_format_cut},
    {"builder_deep_copy", test_builder_deep_copy},
    {"type_parse", test_type_parse},
    {"refcount_threads", test_refcount_threads},
    {"alloc_failures", test_alloc_failures},
    {NULL, NULL},
};
