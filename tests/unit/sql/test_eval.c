/*
 * Unit tests of src/sql/eval.c and like.c: every operator's value with
 * its result type, NULL truth tables, long overflow, division rules,
 * LIKE and RLIKE, CASE/IN/BETWEEN, concurrent evaluation of one program
 * and evaluation without malloc.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "sql_run.h"

#include "sl_test.h"

#define R(text, want) SL_CHECK_STR(sqlrun(text), want)

static void test_arith(void)
{
    R("a + b", "long 5");
    R("a - b", "long 9");
    R("a * b", "long -14");
    R("a / 2", "double 3.5");
    R("a / 0", "double NULL");
    R("d / 0", "double NULL");
    R("a div 2", "long 3");
    R("-7 div 2", "long -3");
    R("a div 0", "long NULL");
    R("a % 3", "long 1");
    R("-7 % 3", "long -1");
    R("7 % -3", "long 1");
    R("a % 0", "long NULL");
    R("-7.5 % 2", "double -1.5");
    R("d % 0", "double NULL");
    R("a + d", "double 9.5");
    R("d * 2", "double 5.0");
    R("-a", "long -7");
    R("+a", "long 7");
    R("-d", "double -2.5");
    R("'3' + 1", "double 4.0");
    R("s + 1", "double NULL");
    R("-'2'", "double -2.0");
    R("a & 3", "long 3");
    R("a | 8", "long 15");
    R("a ^ 5", "long 2");
    R("n + 1", "long NULL");
    R("NULL + NULL", "double NULL");
    R("NULL + 1", "long NULL");
}

static void test_overflow(void)
{
    R("big + 1", "long -9223372036854775808");
    R("big * 2", "long -2");
    R("-big - 2", "long 9223372036854775807");
    R("(-big - 1) div -1", "long -9223372036854775808");
    R("(-big - 1) % -1", "long 0");
    R("-(-big - 1)", "long -9223372036854775808");
}

static void test_compare(void)
{
    R("a = 7", "boolean true");
    R("a == 7.0", "boolean true");
    R("a <> 7", "boolean false");
    R("a != 8", "boolean true");
    R("a < d", "boolean false");
    R("b < d", "boolean true");
    R("a <= 7", "boolean true");
    R("a > 6.5", "boolean true");
    R("a >= 8", "boolean false");
    R("s = 'hello'", "boolean true");
    R("s < 'help'", "boolean true");
    R("'abc' < 'abcd'", "boolean true");
    /* string against a number: the string is cast to the number's type
     * (Spark 3.x), so '7.9' = 7 compares 7 = 7 */
    R("'7.9' = a", "boolean true");
    R("'2.5' = d", "boolean true");
    R("'x' = a", "boolean NULL");
    R("ts = '2024-01-02 09:30:00'", "boolean true");
    R("ts < '2024-01-02T10:00:00Z'", "boolean true");
    R("f = true", "boolean true");
    R("'true' = f", "boolean true");
    R("n = 1", "boolean NULL");
    R("n = NULL", "boolean NULL");
    R("NULL = NULL", "boolean NULL");
    R("n <=> NULL", "boolean true");
    R("a <=> NULL", "boolean false");
    R("a <=> 7", "boolean true");
    R("CAST('NaN' AS double) = CAST('NaN' AS double)", "boolean true");
    R("CAST('NaN' AS double) > 1e308", "boolean true");
    R("0.0 = -0.0", "boolean true");
    R("arr = arr", "boolean true");
}

static void test_logic(void)
{
    /* three-valued AND, OR, NOT: every pair of TRUE, FALSE, NULL */
    static const char *const v[3] = {"true", "false", "nb"};
    static const char *const and_[3][3] = {{"true", "false", "NULL"},
                                           {"false", "false", "false"},
                                           {"NULL", "false", "NULL"}};
    static const char *const or_[3][3] = {{"true", "true", "true"},
                                          {"true", "false", "NULL"},
                                          {"true", "NULL", "NULL"}};
    char q[64], want[64];
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) {
            snprintf(q, sizeof q, "%s AND %s", v[i], v[j]);
            snprintf(want, sizeof want, "boolean %s", and_[i][j]);
            R(q, want);
            snprintf(q, sizeof q, "%s OR %s", v[i], v[j]);
            snprintf(want, sizeof want, "boolean %s", or_[i][j]);
            R(q, want);
        }
    R("NOT true", "boolean false");
    R("NOT nb", "boolean NULL");
    R("NOT NULL", "boolean NULL");
    R("n IS NULL", "boolean true");
    R("n IS NOT NULL", "boolean false");
    R("a IS NULL", "boolean false");
    R("NULL IS NULL", "boolean true");
    /* AND stops at FALSE: the right side is not evaluated */
    R("false AND 1 / 0 > 1", "boolean false");
}

static void test_in_between(void)
{
    R("a IN (1, 7)", "boolean true");
    R("a IN (1, 2)", "boolean false");
    R("a IN (1, NULL)", "boolean NULL");
    R("a IN (7, NULL)", "boolean true");
    R("a NOT IN (1, 2)", "boolean true");
    R("a NOT IN (1, NULL)", "boolean NULL");
    R("a NOT IN (7, NULL)", "boolean false");
    R("n IN (1, 2)", "boolean NULL");
    R("a IN (7.0)", "boolean true");
    /* the wider common type of long and string is string (Spark) */
    R("a IN ('7', 'x')", "boolean true");
    R("a BETWEEN 1 AND 7", "boolean true");
    R("a BETWEEN 8 AND 9", "boolean false");
    R("a NOT BETWEEN 8 AND 9", "boolean true");
    R("a BETWEEN n AND 9", "boolean NULL");
    R("a BETWEEN n AND 6", "boolean false");
    R("d BETWEEN 2 AND 3", "boolean true");
}

static void test_case(void)
{
    R("CASE WHEN a > 5 THEN 'big' ELSE 'small' END", "string big");
    R("CASE WHEN a > 9 THEN 'big' END", "string NULL");
    R("CASE WHEN nb THEN 1 WHEN a = 7 THEN 2 END", "long 2");
    R("CASE WHEN a = 7 THEN 1 ELSE 2.5 END", "double 1.0");
    R("CASE WHEN a = 7 THEN NULL ELSE 2 END", "long NULL");
    R("CASE WHEN a = 7 THEN 1 ELSE 'x' END", "string 1");
    R("CASE a WHEN 1 THEN 'one' WHEN 7 THEN 'seven' ELSE 'other' END",
      "string seven");
    R("CASE n WHEN 1 THEN 'one' ELSE 'other' END", "string other");
    R("CASE s WHEN 'hello' THEN a END", "long 7");
}

static void test_like(void)
{
    R("s LIKE 'hello'", "boolean true");
    R("s LIKE 'he%'", "boolean true");
    R("s LIKE '%lo'", "boolean true");
    R("s LIKE '%l%'", "boolean true");
    R("s LIKE 'h_llo'", "boolean true");
    R("s LIKE 'h_lo'", "boolean false");
    R("s LIKE 'HELLO'", "boolean false"); /* case-sensitive */
    R("s LIKE '%'", "boolean true");
    R("'' LIKE '%'", "boolean true");
    R("'' LIKE '_'", "boolean false");
    R("s NOT LIKE 'h%'", "boolean false");
    R("ns LIKE 'a'", "boolean NULL");
    R("s LIKE ns", "boolean NULL");
    R("'a%b' LIKE 'a\\\\%b'", "boolean true");
    R("'axb' LIKE 'a\\\\%b'", "boolean false");
    R("'a_b' LIKE 'a\\\\_b'", "boolean true");
    R("'a\\\\b' LIKE 'a\\\\\\\\b'", "boolean true");
    R("'aaab' LIKE '%a%ab'", "boolean true");
    R("'mississippi' LIKE '%iss%ppi'", "boolean true");
    R("'mississippi' LIKE 'm%iss%iss%i'", "boolean true");
    R("'mississippi' LIKE 'm%iss%iss%iss%'", "boolean false");
    /* '_' is one character, not one byte */
    R("'\xc3\xa9t\xc3\xa9' LIKE '_t_'", "boolean true");
    R("'\xc3\xa9t\xc3\xa9' LIKE '__t__'", "boolean false");
    R("'\xe2\x82\xac' LIKE '%\xe2\x82\xac'", "boolean true");
    R("a LIKE '7'", "boolean true"); /* a long is read as its text */
    R("s LIKE s", "boolean true");   /* a pattern per row */
    R("s RLIKE 'l+o$'", "boolean true");
    R("s RLIKE '^el'", "boolean false");
    R("s REGEXP 'ell'", "boolean true");
    R("s NOT RLIKE 'ell'", "boolean false");
    R("ns RLIKE 'x'", "boolean NULL");
    R("s RLIKE s", "boolean true");
}

static void test_index_field_time(void)
{
    R("arr[0]", "long 10");
    R("arr[2]", "long 30");
    R("arr[3]", "long NULL");
    R("arr[-1]", "long NULL");
    R("arr[n]", "long NULL");
    R("arr[a - 6]", "long 20");
    R("st.x", "long 1");
    R("t.st.y", "string one");
    R("ts + INTERVAL 1 HOUR", "timestamp 2024-01-02 10:30:00");
    R("ts - INTERVAL '30' MINUTES", "timestamp 2024-01-02 09:00:00");
    R("INTERVAL 1 SECOND + ts", "timestamp 2024-01-02 09:30:01");
    R("INTERVAL 2 SECONDS", "long 2000");
    R("current_timestamp()", "timestamp 2024-01-02 09:30:00");
    R("now() > ts - INTERVAL 1 DAY", "boolean true");
    R("unix_timestamp()", "long 1704187800");
    R("unix_timestamp(now())", "long 1704187800");
}

/* With a clock (a SQL stream's batch time), one compiled program reads
 * it at each evaluation: never folded into a constant. */
static void test_clock(void)
{
    static const char *const texts[] = {
        "current_timestamp()", "unix_timestamp()", "now() + INTERVAL 1 SECOND",
        "hour(current_timestamp())"};
    static const int64_t want[2][4] = {{1000, 1, 2000, 0},
                                       {7200000, 7200, 7201000, 2}};
    _Atomic int64_t clock = 1000;
    sl__arena a;
    sl__sql_prog *p[4];
    sl_value v;
    size_t i, round;
    sl__arena_init(&a, 4096);
    sqlrun_clock = &clock;
    for (i = 0; i < 4; i++)
        SL_CHECK((p[i] = sqlrun_compile(texts[i], &a)) != NULL);
    for (round = 0; round < 2; round++) {
        for (i = 0; i < 4; i++) {
            SL_CHECK(sl__sql_eval(p[i], sqlrun_row(), &a, &v) == SL_OK);
            SL_CHECK(v.kind == SL_KIND_INT && v.u.i == want[round][i]);
        }
        atomic_store(&clock, 7200000);
    }
    sqlrun_clock = NULL;
    sl__arena_free(&a);
}

static void test_cast_concat_func(void)
{
    R("CAST(a AS string)", "string 7");
    R("CAST('12' AS long) + 1", "long 13");
    R("CAST('x' AS long)", "long NULL");
    R("CAST(d AS long)", "long 2");
    R("CAST(NULL AS double)", "double NULL");
    R("CAST(arr AS array<string>)", "array<string> [10, 20, 30]");
    R("CAST('2024-01-02' AS timestamp)", "timestamp 2024-01-02 00:00:00");
    R("s || '!'", "string hello!");
    R("s || a", "string hello7");
    R("s || ns", "string NULL");
    R("upper(s)", "string HELLO");
    R("length(s) + 1", "long 6");
    R("upper(ns)", "string NULL");
    R("concat(s, '-', a, '-', d)", "string hello-7-2.5");
    R("upper('a' || 'b')", "string AB"); /* folded at compile time */
}

/* A row whose values are not of their columns' kinds (a reader's bug)
 * is read safely: an integer as a double, anything else as NULL. */
static void test_bad_kinds(void)
{
    sl__arena a;
    sl_value row[14], items[2] = {{0}}, v;
    sl__sql_prog *p;
    sl__arena_init(&a, 4096);
    memcpy(row, sqlrun_row(), sizeof row);
    row[0] = sl_cstr("not a long"); /* a */
    row[2] = sl_int(3);             /* d */
    row[5] = sl_int(2);             /* f */
    items[0] = sl_cstr("x"), items[1] = sl_int(5);
    row[6] = sl_composite(SL_KIND_LIST, items, 2); /* arr: strings */
    row[7] = sl_int(1);                            /* st */
    p = sqlrun_compile("coalesce(a + 1, -1) + d", &a);
    SL_CHECK(p && sl__sql_eval(p, row, &a, &v) == SL_OK);
    SL_CHECK(v.kind == SL_KIND_DOUBLE && v.u.d == 2.0);
    p = sqlrun_compile("NOT f", &a);
    SL_CHECK(p && sl__sql_eval(p, row, &a, &v) == SL_OK);
    SL_CHECK_INT(v.kind, SL_KIND_NULL);
    p = sqlrun_compile("arr[0] + arr[1]", &a);
    SL_CHECK(p && sl__sql_eval(p, row, &a, &v) == SL_OK);
    SL_CHECK_INT(v.kind, SL_KIND_NULL);
    p = sqlrun_compile("arr[1] + st.x", &a);
    SL_CHECK(p && sl__sql_eval(p, row, &a, &v) == SL_OK);
    SL_CHECK_INT(v.kind, SL_KIND_NULL);
    /* IS NULL of a column (evaluated without descending) sees the same */
    p = sqlrun_compile("a IS NULL AND d IS NOT NULL AND f IS NULL", &a);
    SL_CHECK(p && sl__sql_eval(p, row, &a, &v) == SL_OK);
    SL_CHECK(v.kind == SL_KIND_BOOL && v.u.b);
    sl__arena_free(&a);
}

/* ------------------------------------------------------- concurrency */

typedef struct run_arg {
    const sl__sql_prog *p;
    long bad;
} run_arg;

static void *run(void *arg)
{
    run_arg *r = arg;
    sl__arena scratch;
    sl_value v;
    sl__arena_init(&scratch, 4096);
    for (int i = 0; i < 5000; i++) {
        sl__arena_reset(&scratch);
        if (sl__sql_eval(r->p, sqlrun_row(), &scratch, &v) != SL_OK ||
            v.kind != SL_KIND_STR || v.len != 12 ||
            memcmp(v.u.s, "HELLO-9-big!", 12) != 0)
            r->bad++;
    }
    sl__arena_free(&scratch);
    return NULL;
}

static const char *const g_busy =
    "upper(s) || '-' || (a + b * -1) || '-' || "
    "CASE WHEN d > 2 AND s LIKE 'h%' THEN 'big' ELSE 'small' END || '!'";

static void test_threads(void)
{
    sl__arena a;
    pthread_t th[2];
    run_arg r[2] = {{NULL, 0}, {NULL, 0}};
    sl__arena_init(&a, 4096);
    r[0].p = r[1].p = sqlrun_compile(g_busy, &a);
    SL_CHECK(r[0].p != NULL);
    if (!r[0].p)
        return;
    for (int i = 0; i < 2; i++)
        SL_CHECK_INT(pthread_create(&th[i], NULL, run, &r[i]), 0);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    SL_CHECK_INT(r[0].bad + r[1].bad, 0);
    sl__arena_free(&a);
}

/* -------------------------------------------------------- no malloc */

static long g_mallocs;
static bool g_count;

static void *hook_malloc(size_t n, void *user)
{
    (void)user;
    if (g_count)
        __atomic_add_fetch(&g_mallocs, 1, __ATOMIC_RELAXED);
    return malloc(n);
}

static void *hook_realloc(void *p, size_t n, void *user)
{
    (void)user;
    if (g_count)
        __atomic_add_fetch(&g_mallocs, 1, __ATOMIC_RELAXED);
    return realloc(p, n);
}

static void hook_free(void *p, void *user)
{
    (void)user;
    free(p);
}

/* Set before the first allocation: the hook refuses to change later. */
static void test_hook_set(void)
{
    sl_allocator a = {hook_malloc, hook_realloc, hook_free, NULL};
    SL_CHECK_OK(sl_set_allocator(&a));
}

static void test_no_malloc(void)
{
    sl__arena a, scratch;
    sl__sql_prog *p, *q;
    sl_value v;
    long bad = 0;
    sl__arena_init(&a, 4096);
    /* PCRE2's match data wants about 20 KiB of frames: a chunk that holds
     * them is reused after each reset (a smaller one is not, by design of
     * sl__arena_reset, which keeps the first chunk only) */
    sl__arena_init(&scratch, 64 * 1024);
    p = sqlrun_compile(g_busy, &a);
    q = sqlrun_compile("s RLIKE 'l+o' AND a IN (1, 7) AND ts + INTERVAL 1 "
                       "HOUR > ts AND CAST(d AS string) = '2.5'",
                       &a);
    SL_CHECK(p != NULL && q != NULL);
    if (!p || !q)
        return;
    /* the first run sizes the scratch arena's chunk */
    sl__sql_eval(p, sqlrun_row(), &scratch, &v);
    sl__sql_eval(q, sqlrun_row(), &scratch, &v);
    g_mallocs = 0, g_count = true;
    for (int i = 0; i < 10000; i++) {
        sl__arena_reset(&scratch);
        if (sl__sql_eval(p, sqlrun_row(), &scratch, &v) != SL_OK ||
            v.kind != SL_KIND_STR)
            bad++;
        if (sl__sql_eval(q, sqlrun_row(), &scratch, &v) != SL_OK ||
            v.kind != SL_KIND_BOOL || !v.u.b)
            bad++;
    }
    g_count = false;
    SL_CHECK_INT(bad, 0);
    SL_CHECK_INT(g_mallocs, 0);
    sl__arena_free(&scratch);
    sl__arena_free(&a);
}

static void test_cleanup(void)
{
    sqlrun_reset();
}

const char *SL_SUITE = "sql_eval";
const sl_test_case SL_TESTS[] = {{"hook_set", test_hook_set},
                                 {"arith", test_arith},
                                 {"overflow", test_overflow},
                                 {"compare", test_compare},
                                 {"logic", test_logic},
                                 {"in_between", test_in_between},
                                 {"case", test_case},
                                 {"like", test_like},
                                 {"index_field_time", test_index_field_time},
                                 {"clock", test_clock},
                                 {"cast_concat_func", test_cast_concat_func},
                                 {"bad_kinds", test_bad_kinds},
                                 {"threads", test_threads},
                                 {"no_malloc", test_no_malloc},
                                 {"cleanup", test_cleanup},
                                 {NULL, NULL}};
