/*
 * Unit tests for src/rdd/functions.c: tuples and lists built in task
 * memory, number parsing from string views (table-driven edge cases, and
 * buffers with no NUL after the text), and the word count's functions run
 * through a real engine.
 */
#include <sluice/sluice.h>

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sl_test.h"

static sl_engine *engine(void)
{
    char err[256];
    sl_conf *conf = sl_conf_new();
    sl_engine *eng;
    SL_CHECK_OK(sl_conf_set(conf, "workers", "2", err, sizeof err));
    eng = sl_engine_new(conf, err, sizeof err);
    SL_CHECK(eng != NULL);
    return eng;
}

static void check_json(const sl_value *items, size_t n, const char *want)
{
    char buf[4096];
    size_t i, len = 0;
    buf[len++] = '[';
    for (i = 0; i < n; i++) {
        if (i)
            buf[len++] = ',';
        len += sl_value_format_json(&items[i], buf + len, sizeof buf - len);
    }
    buf[len++] = ']';
    buf[len] = '\0';
    SL_CHECK_STR(buf, want);
}

static void test_split_words(void)
{
    static const char text[] = "  a\tbb  ccc\r\n\nd\v e\f\n";
    sl_engine *eng = engine();
    const sl_value *out;
    size_t n;
    sl_rdd *r = sl_rdd_flat_map(sl_rdd_text(eng, text, sizeof text - 1, 3),
                                sl_fn_split_words, NULL);
    SL_CHECK_OK(sl_rdd_collect(r, &out, &n));
    check_json(out, n, "[\"a\",\"bb\",\"ccc\",\"d\",\"e\"]");
    sl_engine_free(eng);
}

static void test_split_words_rejects_non_strings(void)
{
    sl_engine *eng = engine();
    sl_value v = sl_int(3);
    const sl_value *out;
    size_t n;
    sl_rdd *r = sl_rdd_flat_map(sl_rdd_parallelize(eng, &v, 1, 1),
                                sl_fn_split_words, NULL);
    SL_CHECK_INT(sl_rdd_collect(r, &out, &n), SL_EUSER);
    SL_CHECK_STR(sl_engine_errmsg(eng),
                 "partition 0: sl_fn_split_words: needs a string, got 3");
    sl_engine_free(eng);
}

static void test_word_count(void)
{
    static const char text[] = "to be or not to be\nto do\n";
    sl_engine *eng = engine();
    const sl_value *out;
    size_t n;
    sl_rdd *r = sl_rdd_sort_by_key(
        sl_rdd_reduce_by_key(
            sl_rdd_map(
                sl_rdd_flat_map(sl_rdd_text(eng, text, sizeof text - 1, 2),
                                sl_fn_split_words, NULL),
                sl_fn_pair_one, NULL),
            sl_fn_sum, NULL, 3),
        true, 1);
    SL_CHECK_OK(sl_rdd_collect(r, &out, &n));
    check_json(out, n,
               "[[\"be\",2],[\"do\",1],[\"not\",1],[\"or\",1],[\"to\",3]]");
    sl_engine_free(eng);
}

static void test_sum_kinds(void)
{
    sl_value a = sl_int(INT64_MAX), b = sl_int(1), d = sl_double(0.5), out;
    sl_value s = sl_cstr("x");
    SL_CHECK_OK(sl_fn_sum(NULL, &a, &b, &out, NULL));
    SL_CHECK_INT(out.u.i, INT64_MIN); /* wraps as Java's long does */
    SL_CHECK_OK(sl_fn_sum(NULL, &b, &d, &out, NULL));
    SL_CHECK_INT(out.kind, SL_KIND_DOUBLE);
    SL_CHECK(out.u.d == 1.5);
    SL_CHECK_INT(sl_fn_sum(NULL, &s, &b, &out, NULL), SL_ETYPE);
}

/* ------------------------------------------------------------ builders */

/* x -> (x, [x, "s"], ()) built with the task builders. */
static sl_status build_nested(sl_task *t, const sl_value *in, sl_value *out,
                              void *user)
{
    sl_value items[3], list[2];
    sl_status st;
    (void)user;
    list[0] = *in;
    list[1] = sl_cstr("s");
    items[0] = *in;
    if ((st = sl_task_list(t, list, 2, &items[1])) != SL_OK)
        return st;
    if ((st = sl_task_tuple(t, NULL, 0, &items[2])) != SL_OK)
        return st;
    /* The array is copied: changing it afterwards changes nothing. */
    st = sl_task_tuple(t, items, 3, out);
    items[0] = sl_int(-1);
    return st;
}

static sl_status build_too_many(sl_task *t, const sl_value *in, sl_value *out,
                                void *user)
{
    (void)user;
    /* Refused before the items are read. */
    return sl_task_list(t, in, (size_t)UINT32_MAX + 1, out);
}

static void test_builders(void)
{
    sl_engine *eng = engine();
    sl_value v[2] = {sl_int(1), sl_int(2)}, out;
    const sl_value *got;
    size_t n;
    sl_rdd *r =
        sl_rdd_map(sl_rdd_parallelize(eng, v, 2, 2), build_nested, NULL);
    SL_CHECK_OK(sl_rdd_collect(r, &got, &n));
    check_json(got, n, "[[1,[1,\"s\"],[]],[2,[2,\"s\"],[]]]");
    if (n == 2) {
        SL_CHECK_INT(got[0].kind, SL_KIND_TUPLE);
        SL_CHECK_INT(got[0].u.items[1].kind, SL_KIND_LIST);
    }
    r = sl_rdd_map(sl_rdd_parallelize(eng, v, 1, 1), build_too_many, NULL);
    SL_CHECK_INT(sl_rdd_collect(r, &got, &n), SL_EOVERFLOW);
    SL_CHECK_STR(sl_engine_errmsg(eng),
                 "partition 0: a composite of 4294967296 items");
    SL_CHECK_INT(sl_task_tuple(NULL, v, 2, &out), SL_EINVAL);
    SL_CHECK_INT(sl_task_list(NULL, v, 2, &out), SL_EINVAL);
    sl_engine_free(eng);
}

/* ------------------------------------------------------------- parsing */

typedef struct parse_row {
    const char *text;
    size_t len; /* 0: strlen(text) */
    sl_status want_int, want_double, want_number;
    int64_t i;
    double d;
} parse_row;

#define OK SL_OK
#define EP SL_EPARSE
#define ER SL_ERANGE

static const parse_row PARSE_ROWS[] = {
    {"", 0, EP, EP, EP, 0, 0},
    {"0", 0, OK, OK, OK, 0, 0},
    {"-0", 0, OK, OK, OK, 0, -0.0},
    {"+42", 0, OK, OK, OK, 42, 42},
    {"-17", 0, OK, OK, OK, -17, -17},
    {"-", 0, EP, EP, EP, 0, 0},
    {"+", 0, EP, EP, EP, 0, 0},
    {"--1", 0, EP, EP, EP, 0, 0},
    {"9223372036854775807", 0, OK, OK, OK, INT64_MAX, 9223372036854775807.0},
    {"-9223372036854775808", 0, OK, OK, OK, INT64_MIN, -9223372036854775808.0},
    {"9223372036854775808", 0, ER, OK, OK, 0, 9223372036854775808.0},
    {"-9223372036854775809", 0, ER, OK, OK, 0, -9223372036854775809.0},
    {"99999999999999999999x", 0, EP, EP, EP, 0, 0},
    {" 1", 0, EP, EP, EP, 0, 0},
    {"1 ", 0, EP, EP, EP, 0, 0},
    {"\t1", 0, EP, EP, EP, 0, 0},
    {"1x", 0, EP, EP, EP, 0, 0},
    {"0x10", 0, EP, EP, EP, 0, 0},
    {"1\0", 2, EP, EP, EP, 0, 0},
    {"12345", 2, OK, OK, OK, 12, 12}, /* a view: only "12" */
    {"2.5", 0, EP, OK, OK, 0, 2.5},
    {"-1e3", 0, EP, OK, OK, 0, -1000},
    {".5", 0, EP, OK, OK, 0, 0.5},
    {"1e", 0, EP, EP, EP, 0, 0},
    {".", 0, EP, EP, EP, 0, 0},
    {"1.5.2", 0, EP, EP, EP, 0, 0},
    {"1e999", 0, EP, ER, ER, 0, 0},
    {"-1e999", 0, EP, ER, ER, 0, 0},
    {"1e-400", 0, EP, OK, OK, 0, 0},
    {"inf", 0, EP, EP, EP, 0, 0},
    {"nan", 0, EP, EP, EP, 0, 0},
    {"0x1p3", 0, EP, EP, EP, 0, 0},
};

static void check_parse_row(const parse_row *r)
{
    size_t len = r->len ? r->len : strlen(r->text);
    /* An exact-size heap copy: no NUL after the text, so a parser that
     * read one byte too far would show under ASan. */
    char *buf = malloc(len ? len : 1);
    int64_t i = 77;
    double d = 77;
    sl_value v;
    sl_status st;
    if (!buf)
        return;
    memcpy(buf, r->text, len);
    st = sl_parse_int64(buf, len, &i);
    if (st != r->want_int || (st == SL_OK && i != r->i))
        sl_test_fail(__FILE__, __LINE__, "int64 \"%s\": %s %lld", r->text,
                     sl_errname(st), (long long)i);
    st = sl_parse_double(buf, len, &d);
    if (st != r->want_double || (st == SL_OK && d != r->d))
        sl_test_fail(__FILE__, __LINE__, "double \"%s\": %s %g", r->text,
                     sl_errname(st), d);
    st = sl_parse_number(buf, len, &v);
    if (st != r->want_number ||
        (st == SL_OK &&
         v.kind != (r->want_int == SL_OK ? SL_KIND_INT : SL_KIND_DOUBLE)))
        sl_test_fail(__FILE__, __LINE__, "number \"%s\": %s", r->text,
                     sl_errname(st));
    CU_PASS(r->text);
    free(buf);
}

static void test_parse_numbers(void)
{
    size_t i;
    int64_t x = 5;
    sl_value v;
    for (i = 0; i < sizeof PARSE_ROWS / sizeof PARSE_ROWS[0]; i++)
        check_parse_row(&PARSE_ROWS[i]);
    /* A failed parse leaves *out alone; NULL arguments are refused. */
    SL_CHECK_INT(sl_parse_int64("x", 1, &x), SL_EPARSE);
    SL_CHECK_INT(x, 5);
    SL_CHECK_INT(sl_parse_int64(NULL, 0, &x), SL_EINVAL);
    SL_CHECK_INT(sl_parse_double("1", 1, NULL), SL_EINVAL);
    SL_CHECK_INT(sl_parse_number(NULL, 1, &v), SL_EINVAL);
    SL_CHECK_OK(sl_parse_number("-7", 2, &v));
    SL_CHECK_INT(v.u.i, -7);
}

/* A double longer than the parser's stack buffer (a copy on the heap). */
static void test_parse_long_double(void)
{
    char text[400];
    double d = 0;
    memset(text, '0', sizeof text);
    text[0] = '1';
    text[1] = '.';
    text[sizeof text - 1] = '5';
    SL_CHECK_OK(sl_parse_double(text, sizeof text, &d));
    SL_CHECK(d == 1.0);
    text[200] = 'x';
    SL_CHECK_INT(sl_parse_double(text, sizeof text, &d), SL_EPARSE);
}

/* The parsers leave errno as it was (a caller's strtol loop relies on it). */
static void test_parse_keeps_errno(void)
{
    double d;
    errno = 1234;
    SL_CHECK_INT(sl_parse_double("1e999", 5, &d), SL_ERANGE);
    SL_CHECK_INT(errno, 1234);
}

const char *SL_SUITE = "rdd/functions";
const sl_test_case SL_TESTS[] = {
    {"split_words", test_split_words},
    {"split_words_rejects_non_strings", test_split_words_rejects_non_strings},
    {"word_count", test_word_count},
    {"sum_kinds", test_sum_kinds},
    {"builders", test_builders},
    {"parse_numbers", test_parse_numbers},
    {"parse_long_double", test_parse_long_double},
    {"parse_keeps_errno", test_parse_keeps_errno},
    {NULL, NULL},
};
