/*
 * Unit tests of the SQL aggregates (src/sql/aggregates.c, agg_stats.c,
 * agg_set.c) and the value ordering (src/sql/compare.c): each aggregate
 * over empty input, all NULLs, mixed rows and one row; partial results
 * over 1, 2 and 8 partitions merged in several orders (and through the
 * checkpoint codec) equal to one pass; overflow, NaN, copy-on-write.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/codec.h"
#include "core/core.h"
#include "sl_test.h"
#include "sql/expr.h"

static sl__arena A;

static void setup(void)
{
    sl__arena_init(&A, 1024);
}

static void teardown(void)
{
    sl__arena_free(&A);
}

static const sl__sql_agg *find(const char *name, bool distinct)
{
    const sl__sql_agg *f = sl__sql_agg_find(name, distinct);
    if (!f)
        sl_test_fail(__FILE__, __LINE__, "no aggregate %s", name);
    return f;
}

/* Encode acc and decode it into arena `to` (the state store's path). */
static sl_value round_trip(const sl_value *acc, sl__arena *to)
{
    sl__buf b = {0};
    sl__codec_alloc al = sl__codec_arena_alloc(to);
    sl_value out = sl_null();
    size_t used = 0;

    SL_CHECK_OK(sl__codec_encode(&b, acc, NULL));
    SL_CHECK_OK(sl__codec_decode(b.data, b.len, &used, &al, 0, &out, NULL));
    SL_CHECK_INT(used, b.len);
    sl__buf_free(&b);
    return out;
}

/* Aggregate rows [lo, hi) (nargs values each) into a fresh accumulator. */
static sl_value partial(const sl__sql_agg *f, const sl_value *rows,
                        size_t nargs, size_t lo, size_t hi)
{
    sl_value acc;
    size_t i;

    f->init(&acc);
    for (i = lo; i < hi; i++)
        SL_CHECK_OK(f->update(&acc, rows + i * nargs, nargs, &A));
    return acc;
}

static sl_value finish(const sl__sql_agg *f, const sl_value *acc)
{
    sl_value out = sl_null();
    SL_CHECK_OK(f->finish(acc, &A, &out));
    return out;
}

static sl_value one_pass(const sl__sql_agg *f, const sl_value *rows,
                         size_t nargs, size_t nrows)
{
    sl_value acc = partial(f, rows, nargs, 0, nrows);
    return finish(f, &acc);
}

/* Same kind and value; doubles to 1e-12 relative (NaN equals NaN). */
static bool same(const sl_value *a, const sl_value *b)
{
    double x, y;

    if (a->kind != b->kind)
        return false;
    if (a->kind != SL_KIND_DOUBLE)
        return sl__sql_compare(a, b) == 0;
    x = a->u.d, y = b->u.d;
    if (isnan(x) || isnan(y))
        return isnan(x) && isnan(y);
    return x == y || fabs(x - y) <= 1e-12 * fmax(fabs(x), fabs(y));
}

#define CHECK_SAME(a, b)                                                       \
    do {                                                                       \
        sl_value sa_ = (a), sb_ = (b);                                         \
        char ta_[128], tb_[128];                                               \
        sl_value_format(&sa_, ta_, sizeof ta_);                                \
        sl_value_format(&sb_, tb_, sizeof tb_);                                \
        if (!same(&sa_, &sb_))                                                 \
            sl_test_fail(__FILE__, __LINE__, "%s: %s != %s", #a, ta_, tb_);    \
        else                                                                   \
            CU_PASS(#a);                                                       \
    } while (0)

/*
 * Split rows into `chunks` contiguous partitions, aggregate each, then
 * merge: order 0 forward, 1 backward, 2 as a tree (pairs, then pairs of
 * pairs). codec: every partial goes through the codec into a second
 * arena first, and the merged result is round-tripped and merged once
 * more with an empty partial (merging must go on after a decode).
 */
static sl_value merged(const sl__sql_agg *f, const sl_value *rows, size_t nargs,
                       size_t nrows, size_t chunks, int order, bool codec,
                       sl__arena *other)
{
    sl_value parts[8], acc, empty;
    size_t i, step;

    for (i = 0; i < chunks; i++) {
        parts[i] = partial(f, rows, nargs, nrows * i / chunks,
                           nrows * (i + 1) / chunks);
        if (codec)
            parts[i] = round_trip(&parts[i], other);
    }
    if (order == 2) {
        for (step = 1; step < chunks; step *= 2)
            for (i = 0; i + step < chunks; i += 2 * step)
                SL_CHECK_OK(f->merge(&parts[i], &parts[i + step], &A));
        acc = parts[0];
    } else {
        f->init(&acc);
        for (i = 0; i < chunks; i++)
            SL_CHECK_OK(f->merge(&acc, &parts[order ? chunks - 1 - i : i], &A));
    }
    if (codec) {
        acc = round_trip(&acc, other);
        f->init(&empty);
        SL_CHECK_OK(f->merge(&acc, &empty, &A));
    }
    return finish(f, &acc);
}

/* ---------------------------------------------------------------- tests */

static void test_lookup(void)
{
    static const char *const names[] = {
        "count", "sum",        "avg",         "mean",      "min",
        "max",   "min_by",     "max_by",      "stddev",    "stddev_samp",
        "std",   "stddev_pop", "variance",    "var_samp",  "var_pop",
        "first", "last",       "first_value", "last_value"};
    size_t i;

    for (i = 0; i < sizeof names / sizeof names[0]; i++) {
        SL_CHECK(sl__sql_is_aggregate(names[i]));
        SL_CHECK_STR(find(names[i], false)->name, names[i]);
        SL_CHECK(find(names[i], false)->streaming);
    }
    SL_CHECK(!sl__sql_is_aggregate("upper"));
    SL_CHECK(sl__sql_agg_find("nosuch", false) == NULL);
    SL_CHECK(!find("count", true)->streaming);
    SL_CHECK(!find("sum", true)->streaming);
    SL_CHECK(!find("avg", true)->streaming);
    SL_CHECK(find("max", true)->streaming); /* DISTINCT changes nothing */
    SL_CHECK(sl__sql_agg_find("stddev", true) == NULL);
    SL_CHECK_INT(find("count", false)->min_args, 0);
    SL_CHECK_INT(find("count", true)->min_args, 1);
}

static void test_types(void)
{
    const sl_type *l = sl_type_scalar(SL_TYPE_LONG),
                  *d = sl_type_scalar(SL_TYPE_DOUBLE),
                  *s = sl_type_scalar(SL_TYPE_STRING),
                  *b = sl_type_scalar(SL_TYPE_BOOLEAN),
                  *ts = sl_type_scalar(SL_TYPE_TIMESTAMP);
    const sl_type *args[2];
    const char *why = NULL;

    args[0] = l;
    SL_CHECK(find("sum", false)->result_type(args, 1, &why) == l);
    SL_CHECK(find("avg", false)->result_type(args, 1, &why) == d);
    SL_CHECK(find("count", false)->result_type(args, 0, &why) == l);
    SL_CHECK(find("stddev", false)->result_type(args, 1, &why) == d);
    args[0] = s;
    SL_CHECK(find("sum", false)->result_type(args, 1, &why) == d);
    SL_CHECK(find("max", false)->result_type(args, 1, &why) == s);
    args[0] = ts, args[1] = d;
    SL_CHECK(find("min_by", false)->result_type(args, 2, &why) == ts);
    args[0] = b;
    SL_CHECK(find("sum", false)->result_type(args, 1, &why) == NULL);
    SL_CHECK(why != NULL);
    args[0] = l, args[1] = l;
    why = NULL;
    SL_CHECK(find("first", false)->result_type(args, 2, &why) == NULL);
    SL_CHECK(why != NULL);
}

/* Every aggregate over no rows: count 0, all else NULL. */
static void test_empty(void)
{
    static const char *const nulls[] = {
        "sum",    "avg",        "min",      "max",     "min_by", "max_by",
        "stddev", "stddev_pop", "var_samp", "var_pop", "first",  "last"};
    size_t i;

    CHECK_SAME(one_pass(find("count", false), NULL, 0, 0), sl_int(0));
    CHECK_SAME(one_pass(find("count", true), NULL, 1, 0), sl_int(0));
    CHECK_SAME(one_pass(find("sum", true), NULL, 1, 0), sl_null());
    CHECK_SAME(one_pass(find("avg", true), NULL, 1, 0), sl_null());
    for (i = 0; i < sizeof nulls / sizeof nulls[0]; i++)
        CHECK_SAME(one_pass(find(nulls[i], false), NULL, 2, 0), sl_null());
}

static void test_all_null(void)
{
    sl_value rows[8];
    size_t i;

    for (i = 0; i < 8; i++)
        rows[i] = sl_null();
    CHECK_SAME(one_pass(find("count", false), rows, 1, 8), sl_int(0));
    CHECK_SAME(one_pass(find("count", false), rows, 0, 8), sl_int(8));
    CHECK_SAME(one_pass(find("count", true), rows, 1, 8), sl_int(0));
    CHECK_SAME(one_pass(find("sum", false), rows, 1, 8), sl_null());
    CHECK_SAME(one_pass(find("sum", true), rows, 1, 8), sl_null());
    CHECK_SAME(one_pass(find("avg", false), rows, 1, 8), sl_null());
    CHECK_SAME(one_pass(find("min", false), rows, 1, 8), sl_null());
    CHECK_SAME(one_pass(find("max", false), rows, 1, 8), sl_null());
    CHECK_SAME(one_pass(find("min_by", false), rows, 2, 4), sl_null());
    CHECK_SAME(one_pass(find("stddev_pop", false), rows, 1, 8), sl_null());
    CHECK_SAME(one_pass(find("var_samp", false), rows, 1, 8), sl_null());
    CHECK_SAME(one_pass(find("first", false), rows, 1, 8), sl_null());
    CHECK_SAME(one_pass(find("last", false), rows, 1, 8), sl_null());
}

/* 3, NULL, 1, 4, 1, 5, NULL, 9, 2, 6 */
static void mixed_rows(sl_value *rows)
{
    static const int64_t v[] = {3, -1, 1, 4, 1, 5, -1, 9, 2, 6};
    size_t i;
    for (i = 0; i < 10; i++)
        rows[i] = v[i] < 0 ? sl_null() : sl_int(v[i]);
}

static void test_mixed(void)
{
    sl_value rows[10];
    double m2 = 0, mean = 31.0 / 8;
    static const double xs[] = {3, 1, 4, 1, 5, 9, 2, 6};
    size_t i;

    mixed_rows(rows);
    for (i = 0; i < 8; i++)
        m2 += (xs[i] - mean) * (xs[i] - mean);
    CHECK_SAME(one_pass(find("count", false), rows, 1, 10), sl_int(8));
    CHECK_SAME(one_pass(find("count", false), rows, 0, 10), sl_int(10));
    CHECK_SAME(one_pass(find("count", true), rows, 1, 10), sl_int(7));
    CHECK_SAME(one_pass(find("sum", false), rows, 1, 10), sl_int(31));
    CHECK_SAME(one_pass(find("sum", true), rows, 1, 10), sl_int(30));
    CHECK_SAME(one_pass(find("avg", false), rows, 1, 10), sl_double(mean));
    CHECK_SAME(one_pass(find("avg", true), rows, 1, 10), sl_double(30.0 / 7));
    CHECK_SAME(one_pass(find("min", false), rows, 1, 10), sl_int(1));
    CHECK_SAME(one_pass(find("max", false), rows, 1, 10), sl_int(9));
    CHECK_SAME(one_pass(find("var_pop", false), rows, 1, 10),
               sl_double(m2 / 8));
    CHECK_SAME(one_pass(find("variance", false), rows, 1, 10),
               sl_double(m2 / 7));
    CHECK_SAME(one_pass(find("stddev", false), rows, 1, 10),
               sl_double(sqrt(m2 / 7)));
    CHECK_SAME(one_pass(find("stddev_pop", false), rows, 1, 10),
               sl_double(sqrt(m2 / 8)));
    CHECK_SAME(one_pass(find("first", false), rows, 1, 10), sl_int(3));
    CHECK_SAME(one_pass(find("last", false), rows, 1, 10), sl_int(6));
}

/* first/last keep a NULL unless ignoreNulls; count(a, b) skips a row
 * with any NULL; count(DISTINCT a, b) counts distinct pairs. */
static void test_first_last_multi(void)
{
    sl_value t = sl_bool(true), f = sl_bool(false);
    sl_value fl[6] = {sl_null(), t, sl_int(2), t, sl_null(), t};
    sl_value fk[6] = {sl_null(), f, sl_int(2), f, sl_null(), f};
    sl_value ab[10] = {sl_int(1), sl_int(1), sl_int(1), sl_null(), sl_int(1),
                       sl_int(1), sl_int(2), sl_int(1), sl_int(1), sl_int(2)};

    CHECK_SAME(one_pass(find("first", false), fl, 2, 3), sl_int(2));
    CHECK_SAME(one_pass(find("last", false), fl, 2, 3), sl_int(2));
    CHECK_SAME(one_pass(find("first", false), fk, 2, 3), sl_null());
    CHECK_SAME(one_pass(find("last", false), fk, 2, 3), sl_null());
    CHECK_SAME(one_pass(find("first", false), fk, 1, 6), sl_null());
    CHECK_SAME(one_pass(find("count", false), ab, 2, 5), sl_int(4));
    CHECK_SAME(one_pass(find("count", true), ab, 2, 5), sl_int(3));
}

static void test_one_row(void)
{
    sl_value r[2] = {sl_double(2.5), sl_int(7)};

    CHECK_SAME(one_pass(find("stddev_samp", false), r, 1, 1), sl_null());
    CHECK_SAME(one_pass(find("var_samp", false), r, 1, 1), sl_null());
    CHECK_SAME(one_pass(find("stddev_pop", false), r, 1, 1), sl_double(0));
    CHECK_SAME(one_pass(find("var_pop", false), r, 1, 1), sl_double(0));
    CHECK_SAME(one_pass(find("avg", false), r, 1, 1), sl_double(2.5));
    CHECK_SAME(one_pass(find("sum", false), r, 1, 1), sl_double(2.5));
    CHECK_SAME(one_pass(find("min_by", false), r, 2, 1), sl_double(2.5));
    CHECK_SAME(one_pass(find("count", true), r, 1, 1), sl_int(1));
}

static void test_overflow(void)
{
    sl_value r[3] = {sl_int(INT64_MAX), sl_int(1), sl_int(INT64_MAX)};
    sl_value c = sl_int(INT64_MAX);

    /* Spark with ANSI off: long addition wraps. */
    CHECK_SAME(one_pass(find("sum", false), r, 1, 2), sl_int(INT64_MIN));
    CHECK_SAME(one_pass(find("sum", true), r, 1, 2), sl_int(INT64_MIN));
    /* avg sums in double, so it does not overflow. */
    CHECK_SAME(one_pass(find("avg", false), r + 1, 1, 2),
               sl_double(((double)INT64_MAX + 1) / 2));
    CHECK_SAME(one_pass(find("avg", false), &c, 1, 1),
               sl_double((double)INT64_MAX));
}

static void test_nan(void)
{
    sl_value r[5] = {sl_double(1), sl_double(NAN), sl_double(-0.0),
                     sl_double(NAN), sl_double(0.0)};
    sl_value m;

    m = one_pass(find("max", false), r, 1, 5);
    SL_CHECK(m.kind == SL_KIND_DOUBLE && isnan(m.u.d));
    CHECK_SAME(one_pass(find("min", false), r, 1, 5), sl_double(-0.0));
    CHECK_SAME(one_pass(find("count", true), r, 1, 5), sl_int(3));
    m = one_pass(find("sum", false), r, 1, 5);
    SL_CHECK(m.kind == SL_KIND_DOUBLE && isnan(m.u.d));
    m = one_pass(find("stddev", false), r, 1, 5);
    SL_CHECK(m.kind == SL_KIND_DOUBLE && isnan(m.u.d));
}

static void test_orderable(void)
{
    sl_value s[4] = {sl_cstr("z"), sl_cstr("\xc3\xa9"), sl_cstr("ab"),
                     sl_cstr("a")};
    sl_value b[3] = {sl_bool(true), sl_null(), sl_bool(false)};
    sl_value by[8] = {sl_cstr("x"), sl_int(5), sl_null(),    sl_int(1),
                      sl_cstr("y"), sl_null(), sl_cstr("w"), sl_int(5)};

    /* UTF-8 byte order is code point order: U+00E9 after 'z'. */
    CHECK_SAME(one_pass(find("max", false), s, 1, 4), sl_cstr("\xc3\xa9"));
    CHECK_SAME(one_pass(find("min", false), s, 1, 4), sl_cstr("a"));
    CHECK_SAME(one_pass(find("max", false), b, 1, 3), sl_bool(true));
    CHECK_SAME(one_pass(find("min", false), b, 1, 3), sl_bool(false));
    /* min_by keeps a NULL x, skips a NULL ord; ties keep the first. */
    CHECK_SAME(one_pass(find("min_by", false), by, 2, 4), sl_null());
    CHECK_SAME(one_pass(find("max_by", false), by, 2, 4), sl_cstr("x"));
}

static void test_compare(void)
{
    sl_value n = sl_null(), big = sl_int((INT64_C(1) << 53) + 1),
             bigd = sl_double(9007199254740992.0), nan = sl_double(NAN),
             inf = sl_double(INFINITY), z = sl_double(0.0),
             nz = sl_double(-0.0), one = sl_int(1), oned = sl_double(1.0);
    sl_value l1[2] = {sl_int(1), sl_int(2)}, l2[1] = {sl_int(1)};
    sl_value a1 = sl_composite(SL_KIND_LIST, l1, 2),
             a2 = sl_composite(SL_KIND_LIST, l2, 1);

    SL_CHECK(sl__sql_compare(&n, &one) < 0);
    SL_CHECK(sl__sql_compare(&one, &n) > 0);
    SL_CHECK(sl__sql_compare(&n, &n) == 0);
    SL_CHECK(sl__sql_compare(&big, &bigd) > 0);
    SL_CHECK(sl__sql_compare(&bigd, &big) < 0);
    SL_CHECK(sl__sql_compare(&one, &oned) == 0);
    SL_CHECK(sl__sql_compare(&nan, &inf) > 0);
    SL_CHECK(sl__sql_compare(&nan, &nan) == 0);
    SL_CHECK(sl__sql_compare(&big, &nan) < 0);
    SL_CHECK(sl__sql_compare(&z, &nz) == 0);
    SL_CHECK(sl__sql_compare(&a2, &a1) < 0);
}

/*
 * 1000 rows of (long, double k/8, string, true), NULLs every 7th, 11th
 * and 13th row; each aggregate over 1, 2 and 8 partitions merged in
 * three orders, with and without the codec, against one pass.
 */
static sl_value ROWS[1000 * 4];
static char TEXT[1000][8];

static void make_rows(void)
{
    uint64_t x = 42;
    size_t i;

    for (i = 0; i < 1000; i++) {
        x = x * 6364136223846793005u + 1442695040888963407u;
        ROWS[i * 4] =
            (i + 1) % 7 ? sl_int((int64_t)(x >> 40) - 8000000) : sl_null();
        ROWS[i * 4 + 1] = (i + 1) % 11
                              ? sl_double((double)((x >> 20) % 4096) / 8)
                              : sl_null();
        snprintf(TEXT[i], sizeof TEXT[i], "s%u", (unsigned)((x >> 33) % 300));
        ROWS[i * 4 + 2] = (i + 1) % 13 ? sl_cstr(TEXT[i]) : sl_null();
        ROWS[i * 4 + 3] = sl_bool(true);
    }
}

/* Rows of arguments picked from ROWS' columns. */
static void pick(sl_value *args, const int *cols, size_t ncols)
{
    size_t i, j;
    for (i = 0; i < 1000; i++)
        for (j = 0; j < ncols; j++)
            args[i * ncols + j] = ROWS[i * 4 + cols[j]];
}

typedef struct agg_case {
    const char *name;
    bool distinct, in_order; /* in_order: first/last, forward only */
    size_t ncols;
    int cols[2];
} agg_case;

static const agg_case CASES[] = {
    {"count", false, false, 0, {0}},      {"count", false, false, 1, {1}},
    {"count", true, false, 1, {2}},       {"count", true, false, 2, {0, 2}},
    {"sum", false, false, 1, {0}},        {"sum", false, false, 1, {1}},
    {"sum", true, false, 1, {1}},         {"avg", false, false, 1, {0}},
    {"avg", false, false, 1, {1}},        {"avg", true, false, 1, {0}},
    {"min", false, false, 1, {2}},        {"max", false, false, 1, {0}},
    {"max", false, false, 1, {1}},        {"min_by", false, false, 2, {2, 1}},
    {"max_by", false, false, 2, {0, 1}},  {"stddev", false, false, 1, {0}},
    {"stddev_pop", false, false, 1, {1}}, {"var_samp", false, false, 1, {1}},
    {"var_pop", false, false, 1, {0}},    {"first", false, true, 1, {2}},
    {"last", false, true, 1, {1}},        {"first", false, true, 2, {0, 3}},
    {"last", false, true, 2, {2, 3}},
};

static void check_case(const agg_case *c, sl__arena *other)
{
    static sl_value args[1000 * 2];
    static const size_t chunks[] = {1, 2, 8};
    const sl__sql_agg *f = find(c->name, c->distinct);
    sl_value want;
    size_t k;
    int order, codec;
    char what[64];

    pick(args, c->cols, c->ncols);
    want = one_pass(f, args, c->ncols, 1000);
    SL_CHECK(want.kind != SL_KIND_NULL);
    for (k = 0; k < 3; k++)
        for (order = 0; order < (c->in_order ? 1 : 3); order++)
            for (codec = 0; codec < 2; codec++) {
                sl_value got = merged(f, args, c->ncols, 1000, chunks[k], order,
                                      codec, other);
                snprintf(what, sizeof what, "%s/%zu chunks/order %d/codec %d",
                         c->name, chunks[k], order, codec);
                if (!same(&got, &want))
                    sl_test_fail(__FILE__, __LINE__, "%s differs", what);
            }
}

static void test_partitions(void)
{
    sl__arena other;
    size_t i;

    make_rows();
    sl__arena_init(&other, 1024);
    for (i = 0; i < sizeof CASES / sizeof CASES[0]; i++)
        check_case(&CASES[i], &other);
    sl__arena_free(&other);
}

/* An accumulator borrowed from elsewhere (the state store) is copied,
 * never written to; a decoded one goes on growing in place. */
static void test_copy_on_write(void)
{
    sl__arena b;
    sl_value acc, saved, r[3] = {sl_int(1), sl_int(2), sl_int(3)};
    const sl__sql_agg *f = find("avg", false);
    const sl__sql_agg *d = find("count", true);
    size_t i;

    sl__arena_init(&b, 256);
    f->init(&acc);
    SL_CHECK_OK(f->update(&acc, &r[0], 1, &b));
    saved = acc;
    SL_CHECK_OK(f->update(&acc, &r[1], 1, &A));
    SL_CHECK(acc.u.items != saved.u.items);
    SL_CHECK_INT(saved.u.items[0].u.i, 1);
    CHECK_SAME(finish(f, &acc), sl_double(1.5));

    d->init(&acc);
    for (i = 0; i < 3; i++)
        SL_CHECK_OK(d->update(&acc, &r[i], 1, &b));
    acc = round_trip(&acc, &A);
    for (i = 0; i < 20; i++) {
        sl_value v = sl_int((int64_t)i);
        SL_CHECK_OK(d->update(&acc, &v, 1, &A));
    }
    CHECK_SAME(finish(d, &acc), sl_int(20));
    sl__arena_free(&b);
}

/* Strings held by min, first and DISTINCT are copied into the arena. */
static void test_copies_bytes(void)
{
    char buf[4] = "abc";
    sl_value v = sl_str(buf, 3), acc;
    const char *const names[] = {"min", "first", "last"};
    size_t i;

    for (i = 0; i < 3; i++) {
        const sl__sql_agg *f = find(names[i], false);
        f->init(&acc);
        SL_CHECK_OK(f->update(&acc, &v, 1, &A));
        buf[0] = 'x';
        CHECK_SAME(finish(f, &acc), sl_cstr("abc"));
        buf[0] = 'a';
    }
    {
        const sl__sql_agg *f = find("count", true);
        sl_value w = sl_cstr("abc");
        f->init(&acc);
        SL_CHECK_OK(f->update(&acc, &v, 1, &A));
        buf[0] = 'x';
        SL_CHECK_OK(f->update(&acc, &w, 1, &A));
        CHECK_SAME(finish(f, &acc), sl_int(1));
    }
}

/* Each test runs with a fresh arena A. */
#define WITH_ARENA(name)                                                       \
    static void run_##name(void)                                               \
    {                                                                          \
        setup();                                                               \
        test_##name();                                                         \
        teardown();                                                            \
    }

WITH_ARENA(lookup)
WITH_ARENA(types)
WITH_ARENA(empty)
WITH_ARENA(all_null)
WITH_ARENA(mixed)
WITH_ARENA(first_last_multi)
WITH_ARENA(one_row)
WITH_ARENA(overflow)
WITH_ARENA(nan)
WITH_ARENA(orderable)
WITH_ARENA(compare)
WITH_ARENA(partitions)
WITH_ARENA(copy_on_write)
WITH_ARENA(copies_bytes)

const char *SL_SUITE = "sql_aggregates";
const sl_test_case SL_TESTS[] = {
    {"lookup", run_lookup},
    {"types", run_types},
    {"empty", run_empty},
    {"all_null", run_all_null},
    {"mixed", run_mixed},
    {"first_last_multi", run_first_last_multi},
    {"one_row", run_one_row},
    {"overflow", run_overflow},
    {"nan", run_nan},
    {"orderable", run_orderable},
    {"compare", run_compare},
    {"partitions", run_partitions},
    {"copy_on_write", run_copy_on_write},
    {"copies_bytes", run_copies_bytes},
    {NULL, NULL},
};
