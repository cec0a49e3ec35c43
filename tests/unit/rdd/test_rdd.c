/*
 * Unit tests of the RDD engine (src/rdd) through include/sluice/rdd.h: every
 * operator and action, each run on engines of 1, 2 and 4 workers over 1, 3
 * and 8 input partitions, with results compared as canonical JSON to the
 * expected values and to the single-worker run; plus a 200k-word count
 * checked against a reference computed here.
 */
#include <dirent.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sluice/rdd.h>

#include "rdd/rdd.h"
#include "sl_test.h"
#include "sl_test_util.h"

static const size_t WORKERS[] = {1, 2, 4};
static const size_t PARTS[] = {1, 3, 8};
#define NWORKERS (sizeof WORKERS / sizeof WORKERS[0])
#define NPARTS (sizeof PARTS / sizeof PARTS[0])

/* ------------------------------------------------------------ helpers */

static char *spark_of(const sl_value *v)
{
    size_t n = sl_value_format(v, NULL, 0);
    char *s = malloc(n + 1);
    if (!s)
        abort();
    sl_value_format(v, s, n + 1);
    return s;
}

/* The canonical text of a NULL-terminated list of JSON records. */
static char *canon_lines(const char *const *rec, bool sorted)
{
    size_t n = 0, i;
    char **lines, *s;
    while (rec[n])
        n++;
    lines = malloc((n + 1) * sizeof *lines);
    if (!lines)
        abort();
    for (i = 0; i < n; i++)
        lines[i] = strdup(rec[i]);
    s = sl_test_join(lines, n, "\n", sorted);
    free(lines);
    return s;
}

#define CHECK_TEXT(got, want, ...)                                             \
    do {                                                                       \
        if (strcmp((got), (want)) != 0) {                                      \
            char ctx_[256];                                                    \
            snprintf(ctx_, sizeof ctx_, __VA_ARGS__);                          \
            sl_test_fail(__FILE__, __LINE__, "%s:\n got: [%s]\nwant: [%s]",    \
                         ctx_, (got), (want));                                 \
        } else {                                                               \
            CU_PASS("text equal");                                             \
        }                                                                      \
    } while (0)

static sl_value S(const char *s)
{
    return sl_cstr(s);
}

static sl_rdd *ints(sl_engine *eng, int64_t lo, int64_t hi, size_t parts)
{
    sl_value v[1024];
    size_t n = 0;
    int64_t i;
    for (i = lo; i < hi && n < 1024; i++)
        v[n++] = sl_int(i);
    return sl_rdd_parallelize(eng, v, n, parts);
}

/* (a,1) (b,2) (a,3) (c,4) (b,5) (a,6) */
static sl_rdd *pairs_a(sl_engine *eng, size_t parts)
{
    static const char *k[] = {"a", "b", "a", "c", "b", "a"};
    sl_value v[6];
    size_t i;
    for (i = 0; i < 6; i++)
        v[i] = sl_test_pair(S(k[i]), sl_int((int64_t)i + 1));
    return sl_rdd_parallelize(eng, v, 6, parts);
}

/* (a,"x") (c,"y") (d,"z") (a,"w") in 2 partitions */
static sl_rdd *pairs_b(sl_engine *eng)
{
    static const char *k[] = {"a", "c", "d", "a"};
    static const char *w[] = {"x", "y", "z", "w"};
    sl_value v[4];
    size_t i;
    for (i = 0; i < 4; i++)
        v[i] = sl_test_pair(S(k[i]), S(w[i]));
    return sl_rdd_parallelize(eng, v, 4, 2);
}

/* Passed as the user argument of fn_words: emit upper-case copies. */
static int UPPER = 1;

static const char TEXT[] = "the quick brown fox\n"
                           "jumps over the lazy dog\r\n"
                           "\n"
                           "the dog  sleeps\tand the fox runs\n"
                           "brown dog";

/* ------------------------------------------------------ user functions */

static sl_status fn_square(sl_task *t, const sl_value *in, sl_value *out,
                           void *u)
{
    (void)t;
    (void)u;
    *out = sl_int(in->u.i * in->u.i);
    return SL_OK;
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Words of a line as views into the line (u == NULL) or as upper-case
 * copies in task memory (u != NULL). */
static sl_status fn_words(sl_task *t, const sl_value *in, void *u)
{
    const char *p = in->u.s, *end = p + in->len;
    while (p < end) {
        const char *w;
        sl_value v;
        sl_status st;
        while (p < end && is_blank(*p))
            p++;
        if (p >= end)
            break;
        w = p;
        while (p < end && !is_blank(*p))
            p++;
        if (u) {
            size_t i;
            char *c = sl_task_alloc(t, (size_t)(p - w));
            if (!c)
                return SL_ENOMEM;
            for (i = 0; i < (size_t)(p - w); i++)
                c[i] = (char)(w[i] >= 'a' && w[i] <= 'z' ? w[i] - 32 : w[i]);
            v = sl_str(c, (size_t)(p - w));
        } else {
            v = sl_str(w, (size_t)(p - w));
        }
        if ((st = sl_task_emit(t, &v)) != SL_OK)
            return st;
    }
    return SL_OK;
}

static bool fn_even(const sl_value *in, void *u)
{
    (void)u;
    return in->u.i % 2 == 0;
}

static bool fn_none(const sl_value *in, void *u)
{
    (void)in;
    (void)u;
    return false;
}

/* x -> x, -x */
static sl_status fn_plus_minus(sl_task *t, const sl_value *in, void *u)
{
    sl_value v = sl_int(-in->u.i);
    sl_status st = sl_task_emit(t, in);
    (void)u;
    return st != SL_OK ? st : sl_task_emit(t, &v);
}

static sl_status fn_part_times10(sl_task *t, sl_iter *it, void *u)
{
    sl_value v;
    (void)u;
    while (sl_iter_next(it, &v)) {
        sl_value o = sl_int(v.u.i * 10);
        sl_status st = sl_task_emit(t, &o);
        if (st != SL_OK)
            return st;
    }
    return SL_OK;
}

/* One (partition index, record count) per partition. */
static sl_status fn_part_size(sl_task *t, sl_iter *it, void *u)
{
    sl_value v, k, c, out;
    int64_t n = 0;
    (void)u;
    while (sl_iter_next(it, &v))
        n++;
    k = sl_int((int64_t)sl_task_partition(t));
    c = sl_int(n);
    if (sl_task_pair(t, &k, &c, &out) != SL_OK)
        return SL_ENOMEM;
    return sl_task_emit(t, &out);
}

/* n -> 0 .. n-1 */
static sl_status fn_range(sl_task *t, const sl_value *in, void *u)
{
    int64_t i;
    (void)u;
    for (i = 0; i < in->u.i; i++) {
        sl_value v = sl_int(i);
        sl_status st = sl_task_emit(t, &v);
        if (st != SL_OK)
            return st;
    }
    return SL_OK;
}

/* Average by key with combine_by_key over (sum, count) combiners (the
 * shared sl_test_fn_sum_count_*): the last step, sum / count. */
static sl_status fn_avg_finish(sl_task *t, const sl_value *c, sl_value *out,
                               void *u)
{
    (void)t;
    (void)u;
    *out =
        sl_double((double)sl_pair_key(c)->u.i / (double)sl_pair_value(c)->u.i);
    return SL_OK;
}

static sl_status fn_len(sl_task *t, const sl_value *in, sl_value *out, void *u)
{
    (void)t;
    (void)u;
    *out = sl_int((int64_t)in->len);
    return SL_OK;
}

/* (k, v) -> (v, k) */
static sl_status fn_swap(sl_task *t, const sl_value *in, sl_value *out, void *u)
{
    (void)u;
    return sl_task_pair(t, sl_pair_value(in), sl_pair_key(in), out);
}

static sl_status fn_concat_min(sl_task *t, const sl_value *a, const sl_value *b,
                               sl_value *out, void *u)
{
    (void)t;
    (void)u;
    *out = sl_value_compare(a, b) <= 0 ? *a : *b;
    return SL_OK;
}

/* ------------------------------------------------------- the matrix */

typedef sl_rdd *(*build_fn)(sl_engine *eng, size_t parts, void *arg);
typedef char *(*expect_fn)(size_t parts, void *arg);

typedef struct rdd_case {
    const char *name;
    build_fn build;
    void *arg;
    const char *const *expected; /* JSON records; or NULL to use expect */
    expect_fn expect;
    bool ordered; /* compare in collect order, not as a multiset */
    size_t parts_fixed, parts_mult; /* expected partitions, if either set */
} rdd_case;

/*
 * Run c on every engine size and input partition count: the collected
 * records must equal the expectation and the single-worker run; count()
 * and take() on a fresh build of the same lineage must agree with collect.
 */
static void run_case(const rdd_case *c)
{
    size_t pi, wi;
    for (pi = 0; pi < NPARTS; pi++) {
        size_t p = PARTS[pi];
        char *want = c->expected ? canon_lines(c->expected, !c->ordered)
                                 : c->expect(p, c->arg);
        char *ref = NULL, *exact_ref = NULL;
        for (wi = 0; wi < NWORKERS; wi++) {
            size_t w = WORKERS[wi], n = 0, got_n = 0, i;
            sl_engine *eng = sl_test_engine(w);
            const sl_value *out = NULL, *tk = NULL;
            sl_rdd *r;
            int64_t cnt = -1;
            char *got, *exact;
            sl_status st;

            SL_CHECK(eng != NULL);
            if (!eng)
                continue;
            r = c->build(eng, p, c->arg);
            if (!r) {
                sl_test_fail(__FILE__, __LINE__, "%s w=%zu p=%zu: build: %s",
                             c->name, w, p, sl_engine_errmsg(eng));
                sl_engine_free(eng);
                continue;
            }
            if (c->parts_fixed || c->parts_mult) {
                size_t np = c->parts_fixed ? c->parts_fixed : c->parts_mult * p;
                SL_CHECK_INT(sl_rdd_num_partitions(r), np);
            }
            st = sl_rdd_collect(r, &out, &n);
            if (st != SL_OK) {
                sl_test_fail(__FILE__, __LINE__, "%s w=%zu p=%zu: %s: %s",
                             c->name, w, p, sl_errname(st),
                             sl_engine_errmsg(eng));
                sl_engine_free(eng);
                continue;
            }
            got = sl_test_json_join(out, n, "\n", !c->ordered);
            exact = sl_test_json_join(out, n, "\n", false);
            CHECK_TEXT(got, want, "%s w=%zu p=%zu vs expected", c->name, w, p);
            if (ref)
                CHECK_TEXT(got, ref, "%s w=%zu p=%zu vs 1 worker", c->name, w,
                           p);
            /* Same lineage built again: same records in the same order. */
            r = c->build(eng, p, c->arg);
            SL_CHECK_OK(sl_rdd_count(r, &cnt));
            SL_CHECK_INT(cnt, n);
            r = c->build(eng, p, c->arg);
            SL_CHECK_OK(sl_rdd_take(r, 3, &tk, &got_n));
            SL_CHECK_INT(got_n, n < 3 ? n : 3);
            for (i = 0; i < got_n && i < n && tk; i++)
                SL_CHECK(sl_value_equal(&tk[i], &out[i]));
            if (c->ordered && exact_ref)
                CHECK_TEXT(exact, exact_ref, "%s w=%zu p=%zu order", c->name, w,
                           p);
            if (!ref) {
                ref = got;
                exact_ref = exact;
            } else {
                free(got);
                free(exact);
            }
            sl_engine_free(eng);
        }
        free(ref);
        free(exact_ref);
        free(want);
    }
}

/* ------------------------------------------------------ creation */

static sl_rdd *b_parallelize(sl_engine *eng, size_t p, void *arg)
{
    (void)arg;
    return ints(eng, 0, 20, p);
}

static void test_parallelize(void)
{
    static const char *const want[] = {
        "0",  "1",  "2",  "3",  "4",  "5",  "6",  "7",  "8",  "9", "10",
        "11", "12", "13", "14", "15", "16", "17", "18", "19", NULL};
    rdd_case c = {"parallelize", b_parallelize, NULL, want, NULL, true, 0, 1};
    run_case(&c);
}

/* glom of parallelize(0..n-1, p): partition i holds [i*n/p, (i+1)*n/p). */
static char *e_glom_split(size_t p, void *arg)
{
    size_t n = *(size_t *)arg, i, j;
    sl_test_buf b = {0};
    for (i = 0; i < p; i++) {
        if (i)
            sl_test_buf_put(&b, "\n", 1);
        sl_test_buf_put(&b, "[", 1);
        for (j = i * n / p; j < (i + 1) * n / p; j++)
            sl_test_buf_printf(&b, "%s%zu", j == i * n / p ? "" : ",", j);
        sl_test_buf_put(&b, "]", 1);
    }
    return sl_test_buf_take(&b);
}

static sl_rdd *b_glom_split(sl_engine *eng, size_t p, void *arg)
{
    return sl_rdd_glom(ints(eng, 0, (int64_t) * (size_t *)arg, p));
}

static void test_parallelize_split(void)
{
    static size_t sizes[] = {0, 1, 3, 10, 17};
    size_t i;
    for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        rdd_case c = {"parallelize_split", b_glom_split, &sizes[i], NULL,
                      e_glom_split,        true,         0,         1};
        run_case(&c);
    }
}

/* partitions = 0 means 1; the values are deep copies. */
static void test_parallelize_copies(void)
{
    sl_engine *eng = sl_test_engine(2);
    char key[8] = "abc", val[8] = "xyz";
    sl_value inner[2], outer, lst;
    const sl_value *out;
    size_t n, sizes[4];
    sl_rdd *r;

    SL_CHECK(eng != NULL);
    if (!eng)
        return;
    inner[0] = sl_str(key, 3);
    inner[1] = sl_str(val, 3);
    lst = sl_composite(SL_KIND_LIST, inner, 2);
    outer = sl_test_pair(sl_int(7), lst);
    r = sl_rdd_parallelize(eng, &outer, 1, 0);
    SL_CHECK_INT(sl_rdd_num_partitions(r), 1);
    memcpy(key, "QQQ", 3);
    memcpy(val, "RRR", 3);
    SL_CHECK_OK(sl_rdd_collect(r, &out, &n));
    SL_CHECK_INT(n, 1);
    if (n == 1) {
        char *j = sl_test_json(&out[0]);
        SL_CHECK_STR(j, "[7,[\"abc\",\"xyz\"]]");
        free(j);
    }
    r = ints(eng, 0, 10, 4);
    SL_CHECK_OK(sl__rdd_partition_sizes(r, sizes, 4));
    SL_CHECK_INT(sizes[0], 2);
    SL_CHECK_INT(sizes[1], 3);
    SL_CHECK_INT(sizes[2], 2);
    SL_CHECK_INT(sizes[3], 3);
    /* NULL inputs propagate as NULL. */
    SL_CHECK(sl_rdd_parallelize(NULL, &outer, 1, 1) == NULL);
    SL_CHECK(sl_rdd_parallelize(eng, NULL, 3, 1) == NULL);
    SL_CHECK(sl_rdd_map(NULL, fn_square, NULL) == NULL);
    SL_CHECK(sl_rdd_flat_map(NULL, fn_words, NULL) == NULL);
    SL_CHECK(sl_rdd_filter(NULL, fn_even, NULL) == NULL);
    SL_CHECK(sl_rdd_glom(NULL) == NULL);
    SL_CHECK(sl_rdd_reduce_by_key(NULL, sl_fn_sum, NULL, 0) == NULL);
    SL_CHECK(sl_rdd_group_by_key(NULL, 0) == NULL);
    SL_CHECK(sl_rdd_join(r, NULL, 0) == NULL);
    SL_CHECK(sl_rdd_join(NULL, r, 0) == NULL);
    SL_CHECK(sl_rdd_union(r, NULL) == NULL);
    SL_CHECK(sl_rdd_sort_by_key(NULL, true, 0) == NULL);
    SL_CHECK(sl_rdd_persist(NULL) == NULL);
    SL_CHECK_INT(sl_rdd_num_partitions(NULL), 0);
    SL_CHECK_INT(sl_rdd_collect(NULL, &out, &n), SL_EINVAL);
    sl_engine_free(eng);
}

static sl_rdd *b_empty_parallelize(sl_engine *eng, size_t p, void *arg)
{
    (void)arg;
    return sl_rdd_parallelize(eng, NULL, 0, p);
}

static sl_rdd *b_empty(sl_engine *eng, size_t p, void *arg)
{
    (void)arg;
    (void)p;
    return sl_rdd_empty(eng);
}

static void test_empty(void)
{
    static const char *const none[] = {NULL};
    rdd_case a = {
        "parallelize_empty", b_empty_parallelize, NULL, none, NULL, true, 0, 1};
    rdd_case b = {"empty", b_empty, NULL, none, NULL, true, 0, 0};
    run_case(&a);
    run_case(&b);
}

/* ---------------------------------------------------------------- text */

typedef struct text_arg {
    const char *text;
    const char *const *lines; /* expected, NULL-terminated */
} text_arg;

static sl_rdd *b_text(sl_engine *eng, size_t p, void *arg)
{
    const text_arg *a = arg;
    return sl_rdd_text(eng, a->text, strlen(a->text), p);
}

static char *e_text(size_t p, void *arg)
{
    const text_arg *a = arg;
    size_t n = 0, i;
    sl_test_buf b = {0};
    (void)p;
    while (a->lines[n])
        n++;
    for (i = 0; i < n; i++) {
        sl_value v = sl_cstr(a->lines[i]);
        char *j = sl_test_json(&v);
        if (i)
            sl_test_buf_put(&b, "\n", 1);
        sl_test_buf_put(&b, j, strlen(j));
        free(j);
    }
    return sl_test_buf_take(&b);
}

static void test_text_lines(void)
{
    static const char *const l1[] = {"a", "b", "c", NULL};
    static const char *const l2[] = {"a", "", "b", NULL};
    static const char *const l3[] = {"", NULL};
    static const char *const l4[] = {NULL};
    static const char *const l5[] = {"a\rb", "", "last", NULL};
    static const char *const l6[] = {"only", NULL};
    static const char *const l7[] = {"", "", "x", NULL};
    static text_arg args[] = {
        {"a\nb\r\nc", l1}, {"a\n\nb\n", l2},
        {"\n", l3},        {"\r\n", l3},
        {"", l4},          {"a\rb\n\r\nlast", l5},
        {"only", l6},      {"\n\r\nx\r\n", l7},
    };
    size_t i;
    for (i = 0; i < sizeof args / sizeof args[0]; i++) {
        rdd_case c = {"text", b_text, &args[i], NULL, e_text, true, 0, 1};
        run_case(&c);
    }
}

/* Lines of varied lengths, some "\r\n", cut into 1..40 partitions: no
 * line is ever split (a split line would come back as two records). */
static void test_text_cut_points(void)
{
    enum { L = 300 };
    static char text[L * 40];
    static char lines[L][40];
    size_t i, p, pos = 0;
    uint32_t x = 12345;
    sl_engine *eng = sl_test_engine(2);

    SL_CHECK(eng != NULL);
    if (!eng)
        return;
    for (i = 0; i < L; i++) {
        size_t len, j;
        x = x * 1103515245u + 12345u;
        len = (x >> 16) % 30;
        for (j = 0; j < len; j++)
            lines[i][j] = (char)('a' + (i + j) % 26);
        lines[i][len] = '\0';
        memcpy(text + pos, lines[i], len);
        pos += len;
        if ((x >> 8) % 3 == 0)
            text[pos++] = '\r';
        if (i + 1 < L || (x >> 4) % 2)
            text[pos++] = '\n';
    }
    for (p = 1; p <= 40; p++) {
        const sl_value *out;
        size_t n, bad = 0, k;
        size_t *sizes = calloc(p, sizeof *sizes);
        sl_rdd *r = sl_rdd_text(eng, text, pos, p);
        SL_CHECK_INT(sl_rdd_num_partitions(r), p);
        SL_CHECK_OK(sl_rdd_collect(r, &out, &n));
        SL_CHECK_INT(n, L);
        for (k = 0; k < n && k < L; k++)
            if (out[k].kind != SL_KIND_STR || out[k].len != strlen(lines[k]) ||
                memcmp(out[k].u.s, lines[k], out[k].len) != 0)
                bad++;
        if (bad)
            sl_test_fail(__FILE__, __LINE__, "p=%zu: %zu lines differ", p, bad);
        /* The partition sizes add up to the line count. */
        SL_CHECK_OK(sl__rdd_partition_sizes(r, sizes, p));
        for (k = 0, n = 0; k < p; k++)
            n += sizes[k];
        SL_CHECK_INT(n, L);
        free(sizes);
        sl_engine_clear(eng);
    }
    sl_engine_free(eng);
}

/* ---------------------------------------------------------- narrow ops */

static sl_rdd *b_map(sl_engine *eng, size_t p, void *arg)
{
    (void)arg;
    return sl_rdd_map(ints(eng, 0, 10, p), fn_square, NULL);
}

static sl_rdd *b_flat_map(sl_engine *eng, size_t p, void *arg)
{
    return sl_rdd_flat_map(sl_rdd_text(eng, TEXT, strlen(TEXT), p), fn_words,
                           arg);
}

static sl_rdd *b_filter(sl_engine *eng, size_t p, void *arg)
{
    (void)arg;
    return sl_rdd_filter(ints(eng, 0, 10, p), fn_even, NULL);
}

static sl_rdd *b_map_partitions(sl_engine *eng, size_t p, void *arg)
{
    (void)arg;
    return sl_rdd_map_partitions(ints(eng, 0, 7, p), fn_part_times10, NULL);
}

static sl_rdd *b_part_sizes(sl_engine *eng, size_t p, void *arg)
{
    (void)arg;
    return sl_rdd_map_partitions(ints(eng, 0, 7, p), fn_part_size, NULL);
}

static char *e_part_sizes(size_t p, void *arg)
{
    size_t i;
    sl_test_buf b = {0};
    (void)arg;
    for (i = 0; i < p; i++)
        sl_test_buf_printf(&b, "%s[%zu,%zu]", i ? "\n" : "", i,
                           (i + 1) * 7 / p - i * 7 / p);
    return sl_test_buf_take(&b);
}

static sl_rdd *b_map_values(sl_engine *eng, size_t p, void *arg)
{
    (void)arg;
    return sl_rdd_map_values(pairs_a(eng, p), sl_test_fn_times10, NULL);
}

static sl_rdd *b_flat_map_values(sl_engine *eng, size_t p, void *arg)
{
    (void)arg;
    return sl_rdd_flat_map_values(pairs_a(eng, p), fn_range, NULL);
}

static sl_rdd *b_chain(sl_engine *eng, size_t p, void *arg)
{
    sl_rdd *r = sl_rdd_map(ints(eng, 0, 8, p), fn_square, NULL);
    (void)arg;
    r = sl_rdd_filter(r, fn_even, NULL);
    r = sl_rdd_flat_map(r, fn_plus_minus, NULL);
    return sl_rdd_map(r, sl_fn_pair_one, NULL);
}

static void test_narrow(void)
{
    static const char *const map_w[] = {"0",  "1",  "4",  "9",  "16", "25",
                                        "36", "49", "64", "81", NULL};
    static const char *const words_w[] = {
        "\"the\"",  "\"quick\"",  "\"brown\"", "\"fox\"", "\"jumps\"",
        "\"over\"", "\"the\"",    "\"lazy\"",  "\"dog\"", "\"the\"",
        "\"dog\"",  "\"sleeps\"", "\"and\"",   "\"the\"", "\"fox\"",
        "\"runs\"", "\"brown\"",  "\"dog\"",   NULL};
    static const char *const upper_w[] = {
        "\"THE\"",  "\"QUICK\"",  "\"BROWN\"", "\"FOX\"", "\"JUMPS\"",
        "\"OVER\"", "\"THE\"",    "\"LAZY\"",  "\"DOG\"", "\"THE\"",
        "\"DOG\"",  "\"SLEEPS\"", "\"AND\"",   "\"THE\"", "\"FOX\"",
        "\"RUNS\"", "\"BROWN\"",  "\"DOG\"",   NULL};
    static const char *const filter_w[] = {"0", "2", "4", "6", "8", NULL};
    static const char *const mp_w[] = {"0",  "10", "20", "30",
                                       "40", "50", "60", NULL};
    static const char *const mv_w[] = {"[\"a\",10]", "[\"b\",20]", "[\"a\",30]",
                                       "[\"c\",40]", "[\"b\",50]", "[\"a\",60]",
                                       NULL};
    static const char *const fmv_w[] = {
        "[\"a\",0]", "[\"b\",0]", "[\"b\",1]", "[\"a\",0]", "[\"a\",1]",
        "[\"a\",2]", "[\"c\",0]", "[\"c\",1]", "[\"c\",2]", "[\"c\",3]",
        "[\"b\",0]", "[\"b\",1]", "[\"b\",2]", "[\"b\",3]", "[\"b\",4]",
        "[\"a\",0]", "[\"a\",1]", "[\"a\",2]", "[\"a\",3]", "[\"a\",4]",
        "[\"a\",5]", NULL};
    static const char *const chain_w[] = {"[0,1]",  "[0,1]",   "[4,1]",
                                          "[-4,1]", "[16,1]",  "[-16,1]",
                                          "[36,1]", "[-36,1]", NULL};
    rdd_case cases[] = {
        {"map", b_map, NULL, map_w, NULL, true, 0, 1},
        {"flat_map", b_flat_map, NULL, words_w, NULL, true, 0, 1},
        {"flat_map_copies", b_flat_map, &UPPER, upper_w, NULL, true, 0, 1},
        {"filter", b_filter, NULL, filter_w, NULL, true, 0, 1},
        {"map_partitions", b_map_partitions, NULL, mp_w, NULL, true, 0, 1},
        {"map_partitions_index", b_part_sizes, NULL, NULL, e_part_sizes, true,
         0, 1},
        {"map_values", b_map_values, NULL, mv_w, NULL, true, 0, 1},
        {"flat_map_values", b_flat_map_values, NULL, fmv_w, NULL, true, 0, 1},
        {"fused_chain", b_chain, NULL, chain_w, NULL, true, 0, 1},
    };
    size_t i;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
        run_case(&cases[i]);
}

/* ------------------------------------------------------------ wide ops */

static sl_rdd *b_reduce_by_key(sl_engine *eng, size_t p, void *arg)
{
    size_t parts = arg ? *(size_t *)arg : 0;
    return sl_rdd_reduce_by_key(pairs_a(eng, p), sl_fn_sum, NULL, parts);
}

static sl_rdd *b_group_by_key(sl_engine *eng, size_t p, void *arg)
{
    (void)arg;
    return sl_rdd_group_by_key(pairs_a(eng, p), 0);
}

static sl_rdd *b_combine_by_key(sl_engine *eng, size_t p, void *arg)
{
    (void)arg;
    return sl_rdd_map_values(
        sl_rdd_combine_by_key(pairs_a(eng, p), sl_fn_pair_one,
                              sl_test_fn_sum_count_add,
                              sl_test_fn_sum_count_merge, NULL, 0),
        fn_avg_finish, NULL);
}

static sl_rdd *b_count_by_value(sl_engine *eng, size_t p, void *arg)
{
    (void)arg;
    return sl_rdd_count_by_value(b_flat_map(eng, p, NULL), 0);
}

static sl_rdd *b_count_by_value_ints(sl_engine *eng, size_t p, void *arg)
{
    sl_value v[12];
    size_t i;
    (void)arg;
    for (i = 0; i < 12; i++)
        v[i] = sl_int((int64_t)(i % 4 == 3 ? 3 : i % 3));
    return sl_rdd_count_by_value(sl_rdd_parallelize(eng, v, 12, p), 2);
}

static sl_rdd *b_word_count(sl_engine *eng, size_t p, void *arg)
{
    sl_rdd *r =
        sl_rdd_flat_map(sl_rdd_text(eng, TEXT, strlen(TEXT), p), fn_words, arg);
    r = sl_rdd_map(r, sl_fn_pair_one, NULL);
    return sl_rdd_reduce_by_key(r, sl_fn_sum, NULL, 0);
}

typedef enum join_kind { J_INNER, J_LEFT, J_RIGHT, J_FULL, J_COGROUP } jk;

static sl_rdd *b_join(sl_engine *eng, size_t p, void *arg)
{
    sl_rdd *a = pairs_a(eng, p), *b = pairs_b(eng);
    switch (*(jk *)arg) {
    case J_INNER:
        return sl_rdd_join(a, b, 0);
    case J_LEFT:
        return sl_rdd_left_outer_join(a, b, 0);
    case J_RIGHT:
        return sl_rdd_right_outer_join(a, b, 0);
    case J_FULL:
        return sl_rdd_full_outer_join(a, b, 3);
    default:
        return sl_rdd_cogroup(a, b, 0);
    }
}

/* Two shuffles in a row: word counts sorted by count, descending. */
static sl_rdd *b_two_shuffles(sl_engine *eng, size_t p, void *arg)
{
    sl_rdd *r = b_word_count(eng, p, arg);
    r = sl_rdd_map(r, fn_swap, NULL);
    r = sl_rdd_reduce_by_key(r, fn_concat_min, NULL, 2);
    return sl_rdd_sort_by_key(r, false, 3);
}

static void test_wide(void)
{
    static const char *const rbk_w[] = {"[\"a\",10]", "[\"b\",7]", "[\"c\",4]",
                                        NULL};
    static const char *const gbk_w[] = {"[\"a\",[1,3,6]]", "[\"b\",[2,5]]",
                                        "[\"c\",[4]]", NULL};
    static const char *const cbk_w[] = {"[\"a\",3.3333333333333335]",
                                        "[\"b\",3.5]", "[\"c\",4.0]", NULL};
    static const char *const cbv_w[] = {
        "[\"the\",4]",    "[\"quick\",1]", "[\"brown\",2]", "[\"fox\",2]",
        "[\"jumps\",1]",  "[\"over\",1]",  "[\"lazy\",1]",  "[\"dog\",3]",
        "[\"sleeps\",1]", "[\"and\",1]",   "[\"runs\",1]",  NULL};
    static const char *const cbvi_w[] = {"[0,3]", "[1,3]", "[2,3]", "[3,3]",
                                         NULL};
    static const char *const join_w[] = {
        "[\"a\",[1,\"x\"]]", "[\"a\",[1,\"w\"]]",
        "[\"a\",[3,\"x\"]]", "[\"a\",[3,\"w\"]]",
        "[\"a\",[6,\"x\"]]", "[\"a\",[6,\"w\"]]",
        "[\"c\",[4,\"y\"]]", NULL};
    static const char *const left_w[] = {
        "[\"a\",[1,\"x\"]]", "[\"a\",[1,\"w\"]]",
        "[\"a\",[3,\"x\"]]", "[\"a\",[3,\"w\"]]",
        "[\"a\",[6,\"x\"]]", "[\"a\",[6,\"w\"]]",
        "[\"c\",[4,\"y\"]]", "[\"b\",[2,null]]",
        "[\"b\",[5,null]]",  NULL};
    static const char *const right_w[] = {
        "[\"a\",[1,\"x\"]]", "[\"a\",[1,\"w\"]]",    "[\"a\",[3,\"x\"]]",
        "[\"a\",[3,\"w\"]]", "[\"a\",[6,\"x\"]]",    "[\"a\",[6,\"w\"]]",
        "[\"c\",[4,\"y\"]]", "[\"d\",[null,\"z\"]]", NULL};
    static const char *const full_w[] = {"[\"a\",[1,\"x\"]]",
                                         "[\"a\",[1,\"w\"]]",
                                         "[\"a\",[3,\"x\"]]",
                                         "[\"a\",[3,\"w\"]]",
                                         "[\"a\",[6,\"x\"]]",
                                         "[\"a\",[6,\"w\"]]",
                                         "[\"c\",[4,\"y\"]]",
                                         "[\"d\",[null,\"z\"]]",
                                         "[\"b\",[2,null]]",
                                         "[\"b\",[5,null]]",
                                         NULL};
    static const char *const cog_w[] = {
        "[\"a\",[[1,3,6],[\"x\",\"w\"]]]", "[\"b\",[[2,5],[]]]",
        "[\"c\",[[4],[\"y\"]]]", "[\"d\",[[],[\"z\"]]]", NULL};
    static const char *const two_w[] = {"[4,\"the\"]", "[3,\"dog\"]",
                                        "[2,\"brown\"]", "[1,\"and\"]", NULL};
    static size_t five = 5;
    static jk kinds[] = {J_INNER, J_LEFT, J_RIGHT, J_FULL, J_COGROUP};
    rdd_case cases[] = {
        {"reduce_by_key", b_reduce_by_key, NULL, rbk_w, NULL, false, 0, 1},
        {"reduce_by_key_5", b_reduce_by_key, &five, rbk_w, NULL, false, 5, 0},
        {"group_by_key", b_group_by_key, NULL, gbk_w, NULL, false, 0, 1},
        {"combine_by_key_avg", b_combine_by_key, NULL, cbk_w, NULL, false, 0,
         1},
        {"count_by_value", b_count_by_value, NULL, cbv_w, NULL, false, 0, 1},
        {"count_by_value_ints", b_count_by_value_ints, NULL, cbvi_w, NULL,
         false, 2, 0},
        {"word_count", b_word_count, NULL, cbv_w, NULL, false, 0, 1},
        {"join", b_join, &kinds[0], join_w, NULL, false, 0, 0},
        {"left_outer_join", b_join, &kinds[1], left_w, NULL, false, 0, 0},
        {"right_outer_join", b_join, &kinds[2], right_w, NULL, false, 0, 0},
        {"full_outer_join", b_join, &kinds[3], full_w, NULL, false, 3, 0},
        {"cogroup", b_join, &kinds[4], cog_w, NULL, false, 0, 0},
        {"two_shuffles", b_two_shuffles, NULL, two_w, NULL, true, 3, 0},
    };
    size_t i;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
        run_case(&cases[i]);
}

/* A join's partition count is the larger parent's unless given. */
static void test_join_partitions(void)
{
    sl_engine *eng = sl_test_engine(2);
    sl_rdd *a, *b;
    SL_CHECK(eng != NULL);
    if (!eng)
        return;
    a = pairs_a(eng, 5);
    b = pairs_b(eng);
    SL_CHECK_INT(sl_rdd_num_partitions(sl_rdd_join(a, b, 0)), 5);
    SL_CHECK_INT(sl_rdd_num_partitions(sl_rdd_cogroup(b, a, 0)), 5);
    SL_CHECK_INT(sl_rdd_num_partitions(sl_rdd_left_outer_join(a, b, 7)), 7);
    SL_CHECK_INT(sl_rdd_num_partitions(sl_rdd_group_by_key(b, 0)), 2);
    SL_CHECK_INT(sl_rdd_num_partitions(sl_rdd_group_by_key(b, 9)), 9);
    sl_engine_free(eng);
}

/* ------------------------------------------------------------ union */

static sl_rdd *b_union(sl_engine *eng, size_t p, void *arg)
{
    (void)arg;
    return sl_rdd_union(ints(eng, 0, 5, p), ints(eng, 5, 10, p));
}

static sl_rdd *b_union_all(sl_engine *eng, size_t p, void *arg)
{
    sl_rdd *rs[4];
    (void)arg;
    rs[0] = ints(eng, 0, 3, p);
    rs[1] = sl_rdd_map(ints(eng, 3, 6, p), sl_test_fn_identity, NULL);
    rs[2] = sl_rdd_empty(eng);
    rs[3] = ints(eng, 6, 9, 2 * p);
    return sl_rdd_union_all(rs, 4);
}

/* A union feeding a shuffle, with a shuffle as one of its parents. */
static sl_rdd *b_union_shuffle(sl_engine *eng, size_t p, void *arg)
{
    sl_rdd *a = sl_rdd_reduce_by_key(pairs_a(eng, p), sl_fn_sum, NULL, 2);
    sl_rdd *u = sl_rdd_union(a, pairs_a(eng, 1));
    (void)arg;
    return sl_rdd_reduce_by_key(u, sl_fn_sum, NULL, 0);
}

static void test_union(void)
{
    static const char *const u_w[] = {"0", "1", "2", "3", "4", "5",
                                      "6", "7", "8", "9", NULL};
    static const char *const ua_w[] = {"0", "1", "2", "3", "4",
                                       "5", "6", "7", "8", NULL};
    static const char *const us_w[] = {"[\"a\",20]", "[\"b\",14]", "[\"c\",8]",
                                       NULL};
    rdd_case cases[] = {
        {"union", b_union, NULL, u_w, NULL, true, 0, 2},
        {"union_all", b_union_all, NULL, ua_w, NULL, true, 0, 0},
        {"union_shuffle", b_union_shuffle, NULL, us_w, NULL, false, 3, 0},
    };
    size_t i;
    sl_engine *eng = sl_test_engine(1);
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
        run_case(&cases[i]);
    /* union_all partitions: p + p + 0 + 2p. */
    SL_CHECK(eng != NULL);
    if (!eng)
        return;
    SL_CHECK_INT(sl_rdd_num_partitions(b_union_all(eng, 3, NULL)), 12);
    SL_CHECK(sl_rdd_union_all(NULL, 2) == NULL);
    sl_engine_free(eng);
}

/* -------------------------------------------------------- repartition */

static sl_rdd *b_repartition(sl_engine *eng, size_t p, void *arg)
{
    sl_rdd *r = sl_rdd_flat_map(sl_rdd_text(eng, TEXT, strlen(TEXT), p),
                                fn_words, NULL);
    return sl_rdd_repartition(r, *(size_t *)arg);
}

static void test_repartition(void)
{
    static const char *const words_w[] = {
        "\"the\"",  "\"quick\"",  "\"brown\"", "\"fox\"", "\"jumps\"",
        "\"over\"", "\"the\"",    "\"lazy\"",  "\"dog\"", "\"the\"",
        "\"dog\"",  "\"sleeps\"", "\"and\"",   "\"the\"", "\"fox\"",
        "\"runs\"", "\"brown\"",  "\"dog\"",   NULL};
    static size_t ks[] = {1, 2, 5, 7, 13};
    size_t i;
    sl_engine *eng;
    for (i = 0; i < sizeof ks / sizeof ks[0]; i++) {
        rdd_case c = {"repartition", b_repartition, &ks[i], words_w,
                      NULL,          false,         ks[i],  0};
        run_case(&c);
    }
    eng = sl_test_engine(2);
    SL_CHECK(eng != NULL);
    if (!eng)
        return;
    /* 0 partitions is refused. */
    SL_CHECK(sl_rdd_repartition(ints(eng, 0, 3, 1), 0) == NULL);
    /* 1000 records over 4 partitions: every partition gets some. */
    {
        size_t sizes[4], k;
        sl_rdd *r = sl_rdd_repartition(
            sl_rdd_flat_map(ints(eng, 0, 100, 3), fn_range, NULL), 4);
        SL_CHECK_OK(sl__rdd_partition_sizes(r, sizes, 4));
        for (k = 0; k < 4; k++)
            SL_CHECK(sizes[k] > 0);
        SL_CHECK_INT(sizes[0] + sizes[1] + sizes[2] + sizes[3], 4950);
    }
    sl_engine_free(eng);
}

/* ------------------------------------------------------------- sorting */

typedef struct sort_arg {
    bool ascending;
    size_t parts; /* 0 = as many as the input */
    bool by_key;
} sort_arg;

static sl_rdd *b_sort(sl_engine *eng, size_t p, void *arg)
{
    const sort_arg *a = arg;
    sl_value v[50];
    size_t i;
    char names[50][8];
    static char keep[50][8];
    for (i = 0; i < 50; i++) {
        int64_t x = (int64_t)((i * 37) % 50);
        snprintf(names[i], sizeof names[i], "k%02lld", (long long)x);
        memcpy(keep[i], names[i], sizeof keep[i]);
        v[i] =
            a->by_key ? sl_test_pair(sl_cstr(keep[i]), sl_int(x)) : sl_int(x);
    }
    if (a->by_key)
        return sl_rdd_sort_by_key(sl_rdd_parallelize(eng, v, 50, p),
                                  a->ascending, a->parts);
    return sl_rdd_sort_by(sl_rdd_parallelize(eng, v, 50, p),
                          sl_test_fn_identity, NULL, a->ascending, a->parts);
}

static char *e_sort(size_t p, void *arg)
{
    const sort_arg *a = arg;
    sl_test_buf b = {0};
    int i;
    (void)p;
    for (i = 0; i < 50; i++) {
        int x = a->ascending ? i : 49 - i;
        if (a->by_key)
            sl_test_buf_printf(&b, "%s[\"k%02d\",%d]", i ? "\n" : "", x, x);
        else
            sl_test_buf_printf(&b, "%s%d", i ? "\n" : "", x);
    }
    return sl_test_buf_take(&b);
}

static void test_sort(void)
{
    static sort_arg args[] = {
        {true, 0, false},  {false, 0, false}, {true, 4, false},
        {false, 3, false}, {true, 0, true},   {false, 5, true},
        {true, 1, true},
    };
    size_t i;
    for (i = 0; i < sizeof args / sizeof args[0]; i++) {
        rdd_case c = {"sort", b_sort, &args[i],      NULL,
                      e_sort, true,   args[i].parts, args[i].parts ? 0 : 1};
        run_case(&c);
    }
}

/* Sorting by a key with duplicates (word length): keys never go down, the
 * partitions are ranges, and the records are the input's. */
static void test_sort_duplicates(void)
{
    size_t wi, k;
    for (wi = 0; wi < NWORKERS; wi++) {
        sl_engine *eng = sl_test_engine(WORKERS[wi]);
        sl_rdd *words, *r;
        const sl_value *out;
        size_t n, bad = 0, sizes[4];
        char *a, *b;
        SL_CHECK(eng != NULL);
        if (!eng)
            continue;
        words = b_flat_map(eng, 3, NULL);
        r = sl_rdd_sort_by(words, fn_len, NULL, false, 4);
        SL_CHECK_INT(sl_rdd_num_partitions(r), 4);
        SL_CHECK_OK(sl_rdd_collect(r, &out, &n));
        SL_CHECK_INT(n, 18);
        for (k = 1; k < n; k++)
            if (out[k].len > out[k - 1].len)
                bad++;
        SL_CHECK_INT(bad, 0);
        SL_CHECK_OK(sl__rdd_partition_sizes(r, sizes, 4));
        SL_CHECK_INT(sizes[0] + sizes[1] + sizes[2] + sizes[3], 18);
        a = sl_test_json_join(out, n, "\n", true);
        SL_CHECK_OK(sl_rdd_collect(b_flat_map(eng, 1, NULL), &out, &n));
        b = sl_test_json_join(out, n, "\n", true);
        SL_CHECK_STR(a, b);
        free(a);
        free(b);
        /* sort_by_key of records that are not pairs. */
        r = sl_rdd_sort_by_key(ints(eng, 0, 5, 2), true, 0);
        SL_CHECK_INT(sl_rdd_collect(r, &out, &n), SL_ETYPE);
        sl_engine_free(eng);
    }
}

/* ------------------------------------------------------------- persist */

static atomic_long g_map_calls;

static sl_status fn_counting(sl_task *t, const sl_value *in, sl_value *out,
                             void *u)
{
    (void)t;
    (void)u;
    atomic_fetch_add(&g_map_calls, 1);
    *out = sl_int(in->u.i + 1);
    return SL_OK;
}

static void test_persist(void)
{
    size_t wi, pi;
    for (wi = 0; wi < NWORKERS; wi++)
        for (pi = 0; pi < NPARTS; pi++) {
            sl_engine *eng = sl_test_engine(WORKERS[wi]);
            size_t p = PARTS[pi], n;
            const sl_value *out;
            int64_t cnt;
            sl_value sum;
            sl_rdd *r;
            SL_CHECK(eng != NULL);
            if (!eng)
                continue;
            /* Persisted: computed once across two actions. */
            atomic_store(&g_map_calls, 0);
            r = sl_rdd_persist(
                sl_rdd_map(ints(eng, 0, 100, p), fn_counting, NULL));
            SL_CHECK_OK(sl_rdd_count(r, &cnt));
            SL_CHECK_INT(cnt, 100);
            SL_CHECK_OK(sl_rdd_collect(r, &out, &n));
            SL_CHECK_INT(n, 100);
            SL_CHECK_OK(sl_rdd_reduce(r, sl_fn_sum, NULL, &sum));
            SL_CHECK_INT(sum.u.i, 5050);
            SL_CHECK_INT(atomic_load(&g_map_calls), 100);
            /* A child of a persisted RDD reads the stored partitions. */
            SL_CHECK_OK(sl_rdd_count(sl_rdd_filter(r, fn_even, NULL), &cnt));
            SL_CHECK_INT(cnt, 50);
            SL_CHECK_INT(atomic_load(&g_map_calls), 100);
            /* Not persisted: computed again by every action. */
            atomic_store(&g_map_calls, 0);
            r = sl_rdd_map(ints(eng, 0, 100, p), fn_counting, NULL);
            SL_CHECK_OK(sl_rdd_count(r, &cnt));
            SL_CHECK_OK(sl_rdd_collect(r, &out, &n));
            SL_CHECK_INT(atomic_load(&g_map_calls), 200);
            sl_engine_free(eng);
        }
}

/* ------------------------------------------------------------- actions */

static void test_take(void)
{
    size_t wi;
    for (wi = 0; wi < NWORKERS; wi++) {
        sl_engine *eng = sl_test_engine(WORKERS[wi]);
        const sl_value *out;
        size_t got = 99;
        SL_CHECK(eng != NULL);
        if (!eng)
            continue;
        SL_CHECK_OK(sl_rdd_take(ints(eng, 0, 10, 8), 3, &out, &got));
        SL_CHECK_INT(got, 3);
        if (got == 3) {
            SL_CHECK_INT(out[0].u.i, 0);
            SL_CHECK_INT(out[2].u.i, 2);
        }
        SL_CHECK_OK(sl_rdd_take(ints(eng, 0, 10, 3), 100, &out, &got));
        SL_CHECK_INT(got, 10);
        SL_CHECK_OK(sl_rdd_take(ints(eng, 0, 10, 3), 0, &out, &got));
        SL_CHECK_INT(got, 0);
        SL_CHECK_OK(sl_rdd_take(sl_rdd_empty(eng), 5, &out, &got));
        SL_CHECK_INT(got, 0);
        SL_CHECK_INT(sl_rdd_take(NULL, 5, &out, &got), SL_EINVAL);
        sl_engine_free(eng);
    }
}

static void test_reduce(void)
{
    size_t wi, pi;
    for (wi = 0; wi < NWORKERS; wi++)
        for (pi = 0; pi < NPARTS; pi++) {
            sl_engine *eng = sl_test_engine(WORKERS[wi]);
            size_t p = PARTS[pi];
            sl_value v = sl_int(-1);
            SL_CHECK(eng != NULL);
            if (!eng)
                continue;
            SL_CHECK_OK(
                sl_rdd_reduce(ints(eng, 0, 100, p), sl_fn_sum, NULL, &v));
            SL_CHECK_INT(v.u.i, 4950);
            /* Fewer records than partitions. */
            SL_CHECK_OK(sl_rdd_reduce(ints(eng, 5, 7, p), sl_fn_sum, NULL, &v));
            SL_CHECK_INT(v.u.i, 11);
            /* Strings built per record survive as the accumulator. */
            SL_CHECK_OK(sl_rdd_reduce(b_flat_map(eng, p, &UPPER), fn_concat_min,
                                      NULL, &v));
            SL_CHECK(v.kind == SL_KIND_STR && v.len == 3 &&
                     memcmp(v.u.s, "AND", 3) == 0);
            SL_CHECK_INT(sl_rdd_reduce(ints(eng, 0, 0, p), sl_fn_sum, NULL, &v),
                         SL_ENOTFOUND);
            SL_CHECK_INT(
                sl_rdd_reduce(sl_rdd_filter(ints(eng, 0, 9, p), fn_none, NULL),
                              sl_fn_sum, NULL, &v),
                SL_ENOTFOUND);
            SL_CHECK_INT(sl_rdd_reduce(sl_rdd_empty(eng), sl_fn_sum, NULL, &v),
                         SL_ENOTFOUND);
            SL_CHECK_INT(sl_rdd_reduce(NULL, sl_fn_sum, NULL, &v), SL_EINVAL);
            sl_engine_free(eng);
        }
}

static void test_count(void)
{
    size_t wi;
    for (wi = 0; wi < NWORKERS; wi++) {
        sl_engine *eng = sl_test_engine(WORKERS[wi]);
        int64_t n = -1;
        SL_CHECK(eng != NULL);
        if (!eng)
            continue;
        SL_CHECK_OK(sl_rdd_count(sl_rdd_empty(eng), &n));
        SL_CHECK_INT(n, 0);
        SL_CHECK_OK(sl_rdd_count(ints(eng, 0, 1000, 7), &n));
        SL_CHECK_INT(n, 1000);
        SL_CHECK_OK(sl_rdd_count(
            sl_rdd_flat_map(ints(eng, 0, 100, 3), fn_range, NULL), &n));
        SL_CHECK_INT(n, 4950);
        SL_CHECK_INT(sl_rdd_count(NULL, &n), SL_EINVAL);
        sl_engine_free(eng);
    }
}

typedef struct fp_acc {
    atomic_long sum, records, calls;
    atomic_ulong seen_mask;
} fp_acc;

static sl_status fn_foreach(sl_task *t, sl_iter *it, void *u)
{
    fp_acc *a = u;
    sl_value v;
    atomic_fetch_add(&a->calls, 1);
    atomic_fetch_or(&a->seen_mask, 1ul << sl_task_partition(t));
    while (sl_iter_next(it, &v)) {
        atomic_fetch_add(&a->sum, (long)v.u.i);
        atomic_fetch_add(&a->records, 1);
    }
    return SL_OK;
}

static void test_foreach_partition(void)
{
    size_t wi, pi;
    for (wi = 0; wi < NWORKERS; wi++)
        for (pi = 0; pi < NPARTS; pi++) {
            sl_engine *eng = sl_test_engine(WORKERS[wi]);
            size_t p = PARTS[pi];
            fp_acc acc;
            SL_CHECK(eng != NULL);
            if (!eng)
                continue;
            memset(&acc, 0, sizeof acc);
            SL_CHECK_OK(sl_rdd_foreach_partition(
                sl_rdd_map(ints(eng, 0, 100, p), fn_square, NULL), fn_foreach,
                &acc));
            SL_CHECK_INT(atomic_load(&acc.calls), p);
            SL_CHECK_INT(atomic_load(&acc.records), 100);
            SL_CHECK_INT(atomic_load(&acc.sum), 328350);
            SL_CHECK_INT(atomic_load(&acc.seen_mask), (1ul << p) - 1);
            /* Over a shuffle's output: one call per reduce partition. */
            memset(&acc, 0, sizeof acc);
            SL_CHECK_OK(sl_rdd_foreach_partition(
                sl_rdd_repartition(ints(eng, 0, 10, p), 5), fn_foreach, &acc));
            SL_CHECK_INT(atomic_load(&acc.calls), 5);
            SL_CHECK_INT(atomic_load(&acc.sum), 45);
            sl_engine_free(eng);
        }
}

/* ---------------------------------------------------- save_as_text_file */

static size_t count_entries(const char *path)
{
    DIR *d = opendir(path);
    struct dirent *e;
    size_t n = 0;
    if (!d)
        return 0;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            n++;
    closedir(d);
    return n;
}

static sl_status fn_to_double(sl_task *t, const sl_value *in, sl_value *out,
                              void *u)
{
    (void)t;
    (void)u;
    *out = sl_double((double)in->u.i);
    return SL_OK;
}

static void test_save_as_text_file(void)
{
    char tmpl[] = "/tmp/sl_test_rdd_XXXXXX";
    char *dir = mkdtemp(tmpl);
    size_t wi, pi;
    SL_CHECK(dir != NULL);
    if (!dir)
        return;
    for (wi = 0; wi < NWORKERS; wi++)
        for (pi = 0; pi < NPARTS; pi++) {
            sl_engine *eng = sl_test_engine(WORKERS[wi]);
            size_t p = PARTS[pi], i, len;
            char path[512], file[600];
            sl_test_buf all = {0};
            const sl_value *out;
            size_t n;
            sl_rdd *r;
            char *content, *want;
            sl_test_buf wb = {0};
            SL_CHECK(eng != NULL);
            if (!eng)
                continue;
            snprintf(path, sizeof path, "%s/out-%zu-%zu", dir, WORKERS[wi], p);
            r = sl_rdd_map_values(pairs_a(eng, p), fn_to_double, NULL);
            SL_CHECK_OK(sl_rdd_save_as_text_file(r, path));
            /* part-00000 .. part-(p-1) and _SUCCESS, nothing else. */
            SL_CHECK_INT(count_entries(path), p + 1);
            for (i = 0; i < p; i++) {
                snprintf(file, sizeof file, "%s/part-%05zu", path, i);
                content = sl_test_read_file(file, &len);
                SL_CHECK(content != NULL);
                if (content) {
                    sl_test_buf_put(&all, content, len);
                    free(content);
                }
            }
            snprintf(file, sizeof file, "%s/_SUCCESS", path);
            content = sl_test_read_file(file, &len);
            SL_CHECK(content != NULL);
            SL_CHECK_INT(content ? len : 99, 0);
            free(content);
            /* The lines are the records as Spark prints them, in order. */
            SL_CHECK_OK(sl_rdd_collect(r, &out, &n));
            for (i = 0; i < n; i++) {
                char *s = spark_of(&out[i]);
                sl_test_buf_put(&wb, s, strlen(s));
                sl_test_buf_put(&wb, "\n", 1);
                free(s);
            }
            want = sl_test_buf_take(&wb);
            content = sl_test_buf_take(&all);
            SL_CHECK_STR(content, want);
            SL_CHECK_STR(content, "(a,1.0)\n(b,2.0)\n(a,3.0)\n(c,4.0)\n"
                                  "(b,5.0)\n(a,6.0)\n");
            free(content);
            free(want);
            /* The directory exists now: saving again fails, naming it. */
            SL_CHECK_INT(sl_rdd_save_as_text_file(r, path), SL_EIO);
            SL_CHECK(strstr(sl_engine_errmsg(eng), path) != NULL);
            sl_engine_free(eng);
        }
    /* An empty RDD writes its partitions' empty files and _SUCCESS. */
    {
        sl_engine *eng = sl_test_engine(2);
        char path[512];
        snprintf(path, sizeof path, "%s/empty", dir);
        if (eng) {
            SL_CHECK_OK(sl_rdd_save_as_text_file(
                sl_rdd_parallelize(eng, NULL, 0, 2), path));
            SL_CHECK_INT(count_entries(path), 3);
            sl_engine_free(eng);
        }
    }
    sl_test_remove_tree(dir);
}

/* ------------------------------------------------------------- failures */

static sl_status fn_fail_at_7(sl_task *t, const sl_value *in, sl_value *out,
                              void *u)
{
    (void)t;
    (void)u;
    *out = *in;
    return in->u.i == 7 ? SL_EINVAL : SL_OK;
}

static sl_status fn_flat_fail(sl_task *t, const sl_value *in, void *u)
{
    (void)u;
    if (in->u.i == 7)
        return SL_ERANGE;
    return sl_task_emit(t, in);
}

static sl_status fn_part_fail(sl_task *t, sl_iter *it, void *u)
{
    sl_value v;
    (void)u;
    while (sl_iter_next(it, &v))
        if (v.u.i == 7)
            return SL_EIO;
    (void)t;
    return SL_OK;
}

static sl_status fn_sum_fail(sl_task *t, const sl_value *a, const sl_value *b,
                             sl_value *out, void *u)
{
    (void)t;
    (void)u;
    (void)a;
    (void)b;
    *out = sl_null();
    return SL_EINVAL;
}

static sl_status fn_create_fail(sl_task *t, const sl_value *in, sl_value *out,
                                void *u)
{
    (void)t;
    (void)u;
    *out = *in;
    return SL_EPARSE;
}

static sl_status fn_foreach_fail(sl_task *t, sl_iter *it, void *u)
{
    (void)it;
    (void)u;
    return sl_task_partition(t) == 0 ? SL_EINVAL : SL_OK;
}

/* status of collect(r), with errmsg checked to contain `needle` */
static void expect_failure(sl_engine *eng, sl_rdd *r, sl_status want,
                           const char *needle, const char *what, size_t w,
                           size_t p)
{
    const sl_value *out;
    size_t n;
    sl_status st;
    if (!r) {
        sl_test_fail(__FILE__, __LINE__, "%s w=%zu p=%zu: build failed: %s",
                     what, w, p, sl_engine_errmsg(eng));
        return;
    }
    st = sl_rdd_collect(r, &out, &n);
    if (st != want)
        sl_test_fail(__FILE__, __LINE__, "%s w=%zu p=%zu: %s, want %s (%s)",
                     what, w, p, sl_errname(st), sl_errname(want),
                     sl_engine_errmsg(eng));
    else if (!strstr(sl_engine_errmsg(eng), needle))
        sl_test_fail(__FILE__, __LINE__,
                     "%s w=%zu p=%zu: message \"%s\" lacks \"%s\"", what, w, p,
                     sl_engine_errmsg(eng), needle);
    else
        CU_PASS(what);
}

static void test_user_failures(void)
{
    size_t wi, pi;
    for (wi = 0; wi < NWORKERS; wi++)
        for (pi = 0; pi < NPARTS; pi++) {
            size_t w = WORKERS[wi], p = PARTS[pi];
            sl_engine *eng = sl_test_engine(w);
            int64_t cnt;
            sl_value v;
            SL_CHECK(eng != NULL);
            if (!eng)
                continue;
            expect_failure(eng,
                           sl_rdd_map(ints(eng, 0, 20, p), fn_fail_at_7, NULL),
                           SL_EUSER, "map function failed", "map", w, p);
            SL_CHECK_INT(
                sl_rdd_count(
                    sl_rdd_map(ints(eng, 0, 20, p), fn_fail_at_7, NULL), &cnt),
                SL_EUSER);
            expect_failure(
                eng, sl_rdd_flat_map(ints(eng, 0, 20, p), fn_flat_fail, NULL),
                SL_EUSER, "flat_map function failed", "flat_map", w, p);
            expect_failure(
                eng,
                sl_rdd_map_partitions(ints(eng, 0, 20, p), fn_part_fail, NULL),
                SL_EUSER, "map_partitions function failed", "map_partitions", w,
                p);
            expect_failure(
                eng, sl_rdd_map_values(pairs_a(eng, p), fn_create_fail, NULL),
                SL_EUSER, "map_values function failed", "map_values", w, p);
            /* A failing map below a shuffle fails the shuffle's action. */
            expect_failure(
                eng,
                sl_rdd_count_by_value(
                    sl_rdd_map(ints(eng, 0, 20, p), fn_fail_at_7, NULL), 0),
                SL_EUSER, "map function failed", "map+shuffle", w, p);
            expect_failure(
                eng,
                sl_rdd_reduce_by_key(pairs_a(eng, p), fn_sum_fail, NULL, 0),
                SL_EUSER, "reduce function failed", "reduce_by_key", w, p);
            expect_failure(
                eng,
                sl_rdd_combine_by_key(pairs_a(eng, p), fn_create_fail,
                                      sl_test_fn_sum_count_add,
                                      sl_test_fn_sum_count_merge, NULL, 0),
                SL_EUSER, "failed", "combine_by_key create", w, p);
            expect_failure(eng,
                           sl_rdd_sort_by(ints(eng, 0, 20, p), fn_create_fail,
                                          NULL, true, 0),
                           SL_EUSER, "sort key function failed", "sort_by", w,
                           p);
            SL_CHECK_INT(
                sl_rdd_reduce(ints(eng, 0, 20, p), fn_sum_fail, NULL, &v),
                SL_EUSER);
            SL_CHECK(strstr(sl_engine_errmsg(eng), "reduce function failed") !=
                     NULL);
            SL_CHECK_INT(sl_rdd_foreach_partition(ints(eng, 0, 20, p),
                                                  fn_foreach_fail, NULL),
                         SL_EUSER);
            SL_CHECK(strstr(sl_engine_errmsg(eng), "foreach_partition") !=
                     NULL);
            /* The engine still works after failed jobs. */
            SL_CHECK_OK(sl_rdd_count(ints(eng, 0, 20, p), &cnt));
            SL_CHECK_INT(cnt, 20);
            SL_CHECK_OK(
                sl_rdd_reduce(ints(eng, 0, 20, p), sl_fn_sum, NULL, &v));
            SL_CHECK_INT(v.u.i, 190);
            sl_engine_free(eng);
        }
}

/* ----------------------------------------------- sl__rdd_fold_partitions */

/* Set while fn_emit_twice is inside sl_task_emit: a fold that streams is
 * pushed each record then; one fed from a collected array only later. */
static _Thread_local bool in_emit;

typedef struct fold_acc {
    atomic_long begins, frees, late; /* late: pushes outside the emit */
    int64_t fail_at;                 /* push fails on this value; -1 none */
} fold_acc;

typedef struct fold_state {
    int64_t n, sum;
} fold_state;

static sl_status fn_emit_twice(sl_task *t, const sl_value *in, void *u)
{
    sl_status st = SL_OK;
    (void)u;
    in_emit = true;
    for (int i = 0; i < 2 && st == SL_OK; i++)
        st = sl_task_emit(t, in);
    in_emit = false;
    return st;
}

static sl_status fold_begin(sl_task *t, void *user, void **state)
{
    fold_acc *acc = user;
    (void)t;
    *state = calloc(1, sizeof(fold_state));
    if (!*state)
        return SL_ENOMEM;
    atomic_fetch_add(&acc->begins, 1);
    return SL_OK;
}

static sl_status fold_push(sl_task *t, void *state, const sl_value *v,
                           void *user)
{
    fold_acc *acc = user;
    fold_state *fs = state;
    (void)t;
    if (!in_emit)
        atomic_fetch_add(&acc->late, 1);
    if (v->u.i == acc->fail_at)
        return SL_EINVAL;
    fs->n++;
    fs->sum += v->u.i;
    return SL_OK;
}

/* One ("n", count) and one ("sum", total) pair per partition. */
static sl_status fold_end(sl_task *t, void *state, void *user)
{
    fold_state *fs = state;
    sl_value k[2] = {S("n"), S("sum")}, v[2] = {sl_int(fs->n), sl_int(fs->sum)},
             kv;
    sl_status st = SL_OK;
    (void)user;
    for (int i = 0; i < 2 && st == SL_OK; i++)
        if ((st = sl_task_pair(t, &k[i], &v[i], &kv)) == SL_OK)
            st = sl_task_emit(t, &kv);
    return st;
}

static void fold_free(void *state, void *user)
{
    fold_acc *acc = user;
    free(state);
    atomic_fetch_add(&acc->frees, 1);
}

static const sl__fold_ops fold_ops = {fold_begin, fold_push, fold_end,
                                      fold_free};

static sl_rdd *folded(sl_engine *eng, size_t p, fold_acc *acc)
{
    return sl__rdd_fold_partitions(
        sl_rdd_flat_map(ints(eng, 0, 100, p), fn_emit_twice, NULL), &fold_ops,
        acc);
}

/* The fold's records stream in from the operators below (none is pushed
 * after the flat_map that made it returned), its end emits into whatever
 * follows (here a shuffle), and every begin has its free, failures too. */
static void test_fold_partitions(void)
{
    for (size_t wi = 0; wi < NWORKERS; wi++)
        for (size_t pi = 0; pi < NPARTS; pi++) {
            size_t w = WORKERS[wi], p = PARTS[pi];
            sl_engine *eng = sl_test_engine(w);
            fold_acc acc = {0, 0, 0, -1};
            const sl_value *out;
            size_t n;
            SL_CHECK(eng != NULL);
            if (!eng)
                continue;
            SL_CHECK_OK(sl_rdd_collect(
                sl_rdd_reduce_by_key(folded(eng, p, &acc), sl_fn_sum, NULL, 1),
                &out, &n));
            SL_CHECK_INT(n, 2);
            for (size_t i = 0; i < n; i++) {
                bool is_n = sl_pair_key(&out[i])->len == 1;
                SL_CHECK_INT(sl_pair_value(&out[i])->u.i, is_n ? 200 : 9900);
            }
            SL_CHECK_INT(atomic_load(&acc.begins), p);
            SL_CHECK_INT(atomic_load(&acc.frees), p);
            SL_CHECK_INT(atomic_load(&acc.late), 0);
            acc = (fold_acc){0, 0, 0, 7};
            expect_failure(eng, folded(eng, p, &acc), SL_EUSER,
                           "fold_partitions function failed", "fold", w, p);
            SL_CHECK_INT(atomic_load(&acc.frees), atomic_load(&acc.begins));
            sl_engine_free(eng);
        }
}

static void test_type_errors(void)
{
    size_t wi, pi;
    for (wi = 0; wi < NWORKERS; wi++)
        for (pi = 0; pi < NPARTS; pi++) {
            size_t w = WORKERS[wi], p = PARTS[pi];
            sl_engine *eng = sl_test_engine(w);
            SL_CHECK(eng != NULL);
            if (!eng)
                continue;
            expect_failure(
                eng,
                sl_rdd_reduce_by_key(ints(eng, 0, 5, p), sl_fn_sum, NULL, 0),
                SL_ETYPE, "pairs", "reduce_by_key", w, p);
            expect_failure(eng, sl_rdd_group_by_key(ints(eng, 0, 5, p), 0),
                           SL_ETYPE, "pairs", "group_by_key", w, p);
            expect_failure(
                eng,
                sl_rdd_combine_by_key(ints(eng, 0, 5, p), sl_fn_pair_one,
                                      sl_test_fn_sum_count_add,
                                      sl_test_fn_sum_count_merge, NULL, 0),
                SL_ETYPE, "pairs", "combine_by_key", w, p);
            expect_failure(eng,
                           sl_rdd_join(pairs_a(eng, p), ints(eng, 0, 5, p), 0),
                           SL_ETYPE, "pairs", "join", w, p);
            expect_failure(
                eng, sl_rdd_cogroup(ints(eng, 0, 5, p), pairs_a(eng, p), 0),
                SL_ETYPE, "pairs", "cogroup", w, p);
            expect_failure(
                eng,
                sl_rdd_map_values(ints(eng, 0, 5, p), sl_test_fn_times10, NULL),
                SL_ETYPE, "pairs", "map_values", w, p);
            expect_failure(
                eng, sl_rdd_flat_map_values(ints(eng, 0, 5, p), fn_range, NULL),
                SL_ETYPE, "pairs", "flat_map_values", w, p);
            expect_failure(eng, sl_rdd_sort_by_key(ints(eng, 0, 5, p), true, 0),
                           SL_ETYPE, "pairs", "sort_by_key", w, p);
            /* count_by_value takes any record. */
            {
                const sl_value *out;
                size_t n;
                SL_CHECK_OK(sl_rdd_collect(
                    sl_rdd_count_by_value(ints(eng, 0, 5, p), 0), &out, &n));
                SL_CHECK_INT(n, 5);
            }
            sl_engine_free(eng);
        }
}

/* ------------------------------------------------------ big word count */

/*
 * 200,000 words from a fixed-seed xorshift generator over a skewed
 * vocabulary, in lines of 1..24 words separated by runs of blanks and
 * ended by "\n" or "\r\n"; the counts must match a plain array count.
 */
enum { BIG_WORDS = 200000, BIG_VOCAB = 5000 };

static uint64_t xorshift64(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

static char *big_text(int64_t *counts, size_t *len)
{
    uint64_t seed = 0x9E3779B97F4A7C15ULL;
    sl_test_buf b = {0};
    size_t i, in_line = 0, line_len = 1;
    for (i = 0; i < BIG_WORDS; i++) {
        uint64_t r = xorshift64(&seed);
        /* Skewed: small ids are much more frequent. */
        size_t id = (size_t)(r % (1 + (r >> 20) % BIG_VOCAB));
        counts[id]++;
        sl_test_buf_printf(&b, "w%zu", id);
        if (++in_line == line_len) {
            sl_test_buf_put(&b, (r >> 40) % 4 == 0 ? "\r\n" : "\n",
                            (r >> 40) % 4 == 0 ? 2 : 1);
            in_line = 0;
            line_len = 1 + (size_t)((r >> 45) % 24);
        } else {
            sl_test_buf_put(&b, (r >> 50) % 5 == 0 ? " \t " : " ",
                            (r >> 50) % 5 == 0 ? 3 : 1);
        }
    }
    *len = b.n;
    return sl_test_buf_take(&b);
}

static void test_word_count_large(void)
{
    static int64_t counts[BIG_VOCAB];
    size_t len, wi, pi, distinct = 0, i;
    char *text = big_text(counts, &len);
    for (i = 0; i < BIG_VOCAB; i++)
        distinct += counts[i] != 0;
    for (wi = 0; wi < NWORKERS; wi++)
        for (pi = 0; pi < NPARTS; pi++) {
            size_t w = WORKERS[wi], p = PARTS[pi], n, bad = 0;
            sl_engine *eng = sl_test_engine(w);
            const sl_value *out;
            int64_t total = 0;
            sl_rdd *r;
            static int seen[BIG_VOCAB];
            SL_CHECK(eng != NULL);
            if (!eng)
                continue;
            memset(seen, 0, sizeof seen);
            r = sl_rdd_flat_map(sl_rdd_text(eng, text, len, p), fn_words,
                                p == 3 ? &UPPER : NULL);
            r = sl_rdd_map(r, sl_fn_pair_one, NULL);
            r = sl_rdd_reduce_by_key(r, sl_fn_sum, NULL, p == 1 ? 0 : 5);
            SL_CHECK_OK(sl_rdd_collect(r, &out, &n));
            SL_CHECK_INT(n, distinct);
            for (i = 0; i < n; i++) {
                const sl_value *k = sl_pair_key(&out[i]);
                const sl_value *c = sl_pair_value(&out[i]);
                char word[16];
                unsigned long id;
                if (k->kind != SL_KIND_STR || k->len < 2 || k->len > 10) {
                    bad++;
                    continue;
                }
                memcpy(word, k->u.s, k->len);
                word[k->len] = '\0';
                id = strtoul(word + 1, NULL, 10);
                if ((word[0] != 'w' && word[0] != 'W') || id >= BIG_VOCAB ||
                    seen[id]++ || c->u.i != counts[id])
                    bad++;
                total += c->u.i;
            }
            if (bad)
                sl_test_fail(__FILE__, __LINE__,
                             "word count w=%zu p=%zu: %zu wrong keys", w, p,
                             bad);
            SL_CHECK_INT(total, BIG_WORDS);
            /* The same lineage again, counted with count_by_value. */
            r = sl_rdd_count_by_value(
                sl_rdd_flat_map(sl_rdd_text(eng, text, len, p), fn_words, NULL),
                3);
            SL_CHECK_OK(sl_rdd_count(r, &total));
            SL_CHECK_INT(total, distinct);
            sl_engine_free(eng);
        }
    free(text);
}

/* group_by_key over many keys and values: every value lands under its key,
 * in input order. */
static void test_group_by_key_large(void)
{
    enum { N = 20000, K = 97 };
    static sl_value v[N];
    size_t wi, i;
    sl_test_pair_reset();
    for (i = 0; i < N; i++)
        v[i] = sl_test_pair(sl_int((int64_t)(i % K)), sl_int((int64_t)i));
    for (wi = 0; wi < NWORKERS; wi++) {
        sl_engine *eng = sl_test_engine(WORKERS[wi]);
        const sl_value *out;
        size_t n, bad = 0, total = 0;
        SL_CHECK(eng != NULL);
        if (!eng)
            continue;
        SL_CHECK_OK(sl_rdd_collect(
            sl_rdd_group_by_key(sl_rdd_parallelize(eng, v, N, 8), 6), &out,
            &n));
        SL_CHECK_INT(n, K);
        for (i = 0; i < n; i++) {
            const sl_value *k = sl_pair_key(&out[i]);
            const sl_value *l = sl_pair_value(&out[i]);
            uint32_t j;
            for (j = 0; j < l->len; j++)
                if (l->u.items[j].u.i != k->u.i + (int64_t)j * K)
                    bad++;
            total += l->len;
        }
        SL_CHECK_INT(bad, 0);
        SL_CHECK_INT(total, N);
        sl_engine_free(eng);
    }
    sl_test_pair_reset();
}

/* sl_engine_clear frees the RDDs; the engine keeps working. */
static void test_engine_clear(void)
{
    sl_engine *eng = sl_test_engine(3);
    int round;
    SL_CHECK(eng != NULL);
    if (!eng)
        return;
    SL_CHECK_INT(sl_engine_workers(eng), 3);
    SL_CHECK_STR(sl_engine_errmsg(eng), "");
    for (round = 0; round < 5; round++) {
        int64_t n;
        SL_CHECK_OK(sl_rdd_count(b_two_shuffles(eng, 3, NULL), &n));
        SL_CHECK_INT(n, 4);
        sl_engine_clear(eng);
    }
    sl_engine_clear(NULL);
    sl_engine_free(eng);
    sl_engine_free(NULL);
}

/* ------------------------------------------------- more edge cases */

/* A reduce function that writes *out before it has read *a: legal for a
 * function whose contract is "combine a and b into *out" unless the engine
 * documents that out may alias an input. */
static sl_status fn_sum_out_first(sl_task *t, const sl_value *a,
                                  const sl_value *b, sl_value *out, void *u)
{
    (void)t;
    (void)u;
    *out = sl_int(0);
    out->u.i = a->u.i + b->u.i;
    return SL_OK;
}

static void test_reduce_out_not_aliased(void)
{
    size_t wi, pi;
    for (wi = 0; wi < NWORKERS; wi++)
        for (pi = 0; pi < NPARTS; pi++) {
            sl_engine *eng = sl_test_engine(WORKERS[wi]);
            size_t p = PARTS[pi];
            const sl_value *out;
            size_t n;
            sl_value v = sl_int(-1);
            SL_CHECK(eng != NULL);
            if (!eng)
                continue;
            SL_CHECK_OK(sl_rdd_reduce(ints(eng, 0, 100, p), fn_sum_out_first,
                                      NULL, &v));
            if (v.u.i != 4950)
                sl_test_fail(__FILE__, __LINE__,
                             "reduce w=%zu p=%zu: %lld, want 4950", WORKERS[wi],
                             p, (long long)v.u.i);
            SL_CHECK_OK(
                sl_rdd_collect(sl_rdd_reduce_by_key(pairs_a(eng, p),
                                                    fn_sum_out_first, NULL, 0),
                               &out, &n));
            {
                char *got = sl_test_json_join(out, n, "\n", true);
                SL_CHECK_STR(got, "[\"a\",10]\n[\"b\",7]\n[\"c\",4]");
                free(got);
            }
            sl_engine_free(eng);
        }
}

/* String concatenation in task memory: reducers whose results grow. */
static sl_status fn_concat(sl_task *t, const sl_value *a, const sl_value *b,
                           sl_value *out, void *u)
{
    char *p = sl_task_alloc(t, (size_t)a->len + b->len + 1);
    (void)u;
    if (!p)
        return SL_ENOMEM;
    memcpy(p, a->u.s, a->len);
    p[a->len] = '+';
    memcpy(p + a->len + 1, b->u.s, b->len);
    *out = sl_str(p, (size_t)a->len + b->len + 1);
    return SL_OK;
}

/* word -> (first letter, word) with the letter copied to task memory */
static sl_status fn_by_initial(sl_task *t, const sl_value *in, sl_value *out,
                               void *u)
{
    sl_value k;
    (void)u;
    if (sl_task_str(t, in->u.s, 1, &k) != SL_OK)
        return SL_ENOMEM;
    return sl_task_pair(t, &k, in, out);
}

/* Sort key: the word reversed, built in task memory. */
static sl_status fn_reversed(sl_task *t, const sl_value *in, sl_value *out,
                             void *u)
{
    char *p = sl_task_alloc(t, in->len ? in->len : 1);
    uint32_t i;
    (void)u;
    if (!p)
        return SL_ENOMEM;
    for (i = 0; i < in->len; i++)
        p[i] = in->u.s[in->len - 1 - i];
    *out = sl_str(p, in->len);
    return SL_OK;
}

static void test_task_memory_values(void)
{
    size_t wi, pi;
    for (wi = 0; wi < NWORKERS; wi++)
        for (pi = 0; pi < NPARTS; pi++) {
            sl_engine *eng = sl_test_engine(WORKERS[wi]);
            size_t p = PARTS[pi], n, i, bad = 0;
            const sl_value *out;
            sl_rdd *r;
            SL_CHECK(eng != NULL);
            if (!eng)
                continue;
            /* Concatenated words per initial: same letters as the input. */
            r = sl_rdd_map(b_flat_map(eng, p, NULL), fn_by_initial, NULL);
            r = sl_rdd_reduce_by_key(r, fn_concat, NULL, 0);
            SL_CHECK_OK(sl_rdd_collect(r, &out, &n));
            SL_CHECK_INT(n, 11); /* t q b f j o l d s a r */
            for (i = 0; i < n; i++) {
                const sl_value *k = sl_pair_key(&out[i]);
                const sl_value *v = sl_pair_value(&out[i]);
                if (k->len != 1 || v->len == 0 || v->u.s[0] != k->u.s[0])
                    bad++;
            }
            SL_CHECK_INT(bad, 0);
            /* Sorted by reversed word: "the" (eht) sorts before "fox". */
            r = sl_rdd_sort_by(b_flat_map(eng, p, NULL), fn_reversed, NULL,
                               true, 2);
            SL_CHECK_OK(sl_rdd_collect(r, &out, &n));
            SL_CHECK_INT(n, 18);
            for (i = 1; i < n; i++) {
                char x[16], y[16];
                size_t j;
                for (j = 0; j < out[i - 1].len; j++)
                    x[j] = out[i - 1].u.s[out[i - 1].len - 1 - j];
                x[out[i - 1].len] = 0;
                for (j = 0; j < out[i].len; j++)
                    y[j] = out[i].u.s[out[i].len - 1 - j];
                y[out[i].len] = 0;
                if (strcmp(x, y) > 0)
                    bad++;
            }
            SL_CHECK_INT(bad, 0);
            sl_engine_free(eng);
        }
}

/* Every wide operator over inputs with no records, and with no
 * partitions at all. */
static void test_wide_empty(void)
{
    size_t wi;
    for (wi = 0; wi < NWORKERS; wi++) {
        sl_engine *eng = sl_test_engine(WORKERS[wi]);
        sl_rdd *in[2];
        size_t k;
        SL_CHECK(eng != NULL);
        if (!eng)
            continue;
        for (k = 0; k < 2; k++) {
            sl_rdd *e =
                k ? sl_rdd_empty(eng) : sl_rdd_parallelize(eng, NULL, 0, 3);
            sl_rdd *rs[12];
            size_t i;
            int64_t cnt;
            in[0] = e;
            in[1] = pairs_b(eng);
            rs[0] = sl_rdd_reduce_by_key(e, sl_fn_sum, NULL, 0);
            rs[1] = sl_rdd_group_by_key(e, 4);
            rs[2] = sl_rdd_combine_by_key(e, sl_fn_pair_one,
                                          sl_test_fn_sum_count_add,
                                          sl_test_fn_sum_count_merge, NULL, 0);
            rs[3] = sl_rdd_count_by_value(e, 0);
            rs[4] = sl_rdd_join(e, in[1], 0);
            rs[5] = sl_rdd_left_outer_join(e, in[1], 0);
            rs[6] = sl_rdd_repartition(e, 3);
            rs[7] = sl_rdd_sort_by_key(e, false, 0);
            rs[8] = sl_rdd_sort_by(e, sl_test_fn_identity, NULL, true, 4);
            rs[9] = sl_rdd_glom(e);
            rs[10] = sl_rdd_cogroup(e, e, 0);
            rs[11] = sl_rdd_union_all(in, 1);
            for (i = 0; i < 12; i++) {
                const sl_value *out;
                size_t n = 99;
                if (!rs[i]) {
                    sl_test_fail(__FILE__, __LINE__, "op %zu k=%zu: NULL", i,
                                 k);
                    continue;
                }
                SL_CHECK_OK(sl_rdd_collect(rs[i], &out, &n));
                SL_CHECK_INT(n, i == 9 ? sl_rdd_num_partitions(e) : 0);
                SL_CHECK_OK(sl_rdd_count(rs[i], &cnt));
            }
            /* The right side's keys survive a right outer join. */
            {
                const sl_value *out;
                size_t n;
                SL_CHECK_OK(sl_rdd_collect(sl_rdd_right_outer_join(e, in[1], 0),
                                           &out, &n));
                SL_CHECK_INT(n, 4);
            }
        }
        sl_engine_free(eng);
    }
}

/* Records longer than the formatting buffers are written whole. */
static void test_save_long_records(void)
{
    char tmpl[] = "/tmp/sl_test_rdd_XXXXXX";
    char *dir = mkdtemp(tmpl);
    sl_engine *eng = sl_test_engine(2);
    static char big[5000];
    sl_value v[3];
    char path[512], file[600], *content;
    size_t len;
    SL_CHECK(dir != NULL && eng != NULL);
    if (!dir || !eng) {
        sl_engine_free(eng);
        return;
    }
    memset(big, 'x', sizeof big);
    v[0] = sl_str(big, sizeof big);
    v[1] = sl_test_pair(sl_str(big, 600), sl_int(1));
    v[2] = sl_cstr("short");
    snprintf(path, sizeof path, "%s/long", dir);
    SL_CHECK_OK(
        sl_rdd_save_as_text_file(sl_rdd_parallelize(eng, v, 3, 1), path));
    snprintf(file, sizeof file, "%s/part-00000", path);
    content = sl_test_read_file(file, &len);
    SL_CHECK(content != NULL);
    SL_CHECK_INT(len, sizeof big + 1 + 600 + 4 + 1 + 6);
    if (content && len > sizeof big + 1) {
        SL_CHECK(content[sizeof big] == '\n');
        SL_CHECK(content[sizeof big + 1] == '(');
    }
    free(content);
    sl_engine_free(eng);
    sl_test_remove_tree(dir);
}

/*
 * Many tiny jobs back to back on a pool larger than the work: a worker
 * woken for one parallel loop may only get the lock after that loop has
 * finished and the next one has started; it must not run the old loop's
 * function (whose argument lived on a returned stack frame). Returns the
 * child's exit code: 0 when every job counted right.
 */
static int many_short_jobs(void *arg)
{
    sl_engine *eng = sl_test_engine(4);
    int i, bad = 0;
    (void)arg;
    if (!eng)
        return 1;
    for (i = 0; i < 20000 && !bad; i++) {
        int64_t n = -1;
        sl_rdd *r = ints(eng, 0, 3, 1 + (size_t)(i % 3));
        if (sl_rdd_count(r, &n) != SL_OK || n != 3)
            bad = i + 1;
        if (i % 256 == 255)
            sl_engine_clear(eng);
    }
    sl_engine_free(eng);
    return bad ? 1 : 0;
}

/* Run in a child process with an alarm: the race shows as a crash or a
 * hang, and either must fail this test rather than the whole program. */
static void test_many_short_jobs(void)
{
    int status = 0;
    bool forked = sl_test_run_in_child(many_short_jobs, NULL, 120, &status);
    SL_CHECK(forked);
    if (!forked)
        return;
    if (WIFSIGNALED(status))
        sl_test_fail(__FILE__, __LINE__,
                     "20000 short jobs on 4 workers: killed by signal %d%s",
                     WTERMSIG(status),
                     WTERMSIG(status) == SIGALRM ? " (hung)" : "");
    else
        SL_CHECK_INT(WEXITSTATUS(status), 0);
}

/* An action inside a task used to wait for a loop that could not start
 * while its own loop ran: a hang. It now returns SL_ESTATE, and the task
 * fails with a message saying why, even though the function below goes on
 * as if nothing happened. */
typedef struct nested {
    sl_rdd *inner;
    atomic_int estate; /* nested actions that returned SL_ESTATE */
} nested;

static sl_status count_inside(sl_task *t, const sl_value *in, sl_value *out,
                              void *user)
{
    nested *n = user;
    int64_t c = 0;
    (void)t;
    if (sl_rdd_count(n->inner, &c) == SL_ESTATE)
        atomic_fetch_add(&n->estate, 1);
    *out = *in;
    return SL_OK;
}

static int nested_action(void *arg)
{
    const sl_value vals[] = {sl_int(1), sl_int(2), sl_int(3)};
    size_t workers = *(const size_t *)arg, got = 0;
    sl_engine *eng = sl_test_engine(workers);
    nested n = {sl_rdd_parallelize(eng, vals, 3, 2), 0};
    const sl_value *out;
    sl_status st = sl_rdd_collect(
        sl_rdd_map(sl_rdd_parallelize(eng, vals, 3, 3), count_inside, &n), &out,
        &got);
    int bad =
        st != SL_ESTATE || atomic_load(&n.estate) < 1 ||
        !strstr(sl_engine_errmsg(eng), "RDD actions cannot run inside a task");
    if (bad)
        fprintf(stderr, "nested action: %s, %d refused, \"%s\"\n",
                sl_errname(st), atomic_load(&n.estate), sl_engine_errmsg(eng));
    sl_engine_free(eng);
    return bad;
}

static void test_nested_action_refused(void)
{
    size_t w;
    for (w = 0; w < NWORKERS; w++) {
        int status = 0;
        bool forked = sl_test_run_in_child(nested_action, (void *)&WORKERS[w],
                                           30, &status);
        SL_CHECK(forked);
        if (!forked)
            return;
        if (WIFSIGNALED(status))
            sl_test_fail(__FILE__, __LINE__,
                         "action inside a task on %zu workers: killed by "
                         "signal %d%s",
                         WORKERS[w], WTERMSIG(status),
                         WTERMSIG(status) == SIGALRM ? " (hung)" : "");
        else
            SL_CHECK_INT(WEXITSTATUS(status), 0);
    }
}

const char *SL_SUITE = "rdd";
/* A string of 4 GiB or more cannot be a value (lengths are 32 bits): the
 * task fails with SL_EOVERFLOW instead of making a string cut short. The
 * check comes before the copy, so no such memory is needed. */
static sl_status huge_str(sl_task *t, const sl_value *in, sl_value *out,
                          void *user)
{
    (void)in;
    (void)user;
    return sl_task_str(t, "x", (size_t)UINT32_MAX + 1, out);
}

static void test_task_str_too_long(void)
{
    char err[256];
    sl_conf *conf = sl_conf_new();
    sl_engine *eng;
    sl_value one = sl_int(1);
    const sl_value *out;
    size_t n;
    SL_CHECK_OK(sl_conf_set(conf, "workers", "1", err, sizeof err));
    eng = sl_engine_new(conf, err, sizeof err);
    SL_CHECK_INT(sl_rdd_collect(sl_rdd_map(sl_rdd_parallelize(eng, &one, 1, 1),
                                           huge_str, NULL),
                                &out, &n),
                 SL_EOVERFLOW);
    SL_CHECK(strstr(sl_engine_errmsg(eng), "4 GiB") != NULL);
    sl_engine_free(eng);
}

const sl_test_case SL_TESTS[] = {
    {"task_str_too_long", test_task_str_too_long},
    {"nested_action_refused", test_nested_action_refused},
    {"parallelize", test_parallelize},
    {"parallelize_split", test_parallelize_split},
    {"parallelize_copies", test_parallelize_copies},
    {"empty", test_empty},
    {"text_lines", test_text_lines},
    {"text_cut_points", test_text_cut_points},
    {"narrow", test_narrow},
    {"wide", test_wide},
    {"join_partitions", test_join_partitions},
    {"union", test_union},
    {"repartition", test_repartition},
    {"sort", test_sort},
    {"sort_duplicates", test_sort_duplicates},
    {"persist", test_persist},
    {"take", test_take},
    {"reduce", test_reduce},
    {"count", test_count},
    {"foreach_partition", test_foreach_partition},
    {"save_as_text_file", test_save_as_text_file},
    {"user_failures", test_user_failures},
    {"type_errors", test_type_errors},
    {"fold_partitions", test_fold_partitions},
    {"word_count_large", test_word_count_large},
    {"group_by_key_large", test_group_by_key_large},
    {"engine_clear", test_engine_clear},
    {"reduce_out_not_aliased", test_reduce_out_not_aliased},
    {"task_memory_values", test_task_memory_values},
    {"wide_empty", test_wide_empty},
    {"save_long_records", test_save_long_records},
    {"many_short_jobs", test_many_short_jobs},
    {NULL, NULL},
};
