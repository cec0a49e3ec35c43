/*
 * Unit tests of the incremental statistics of OVER aggregation
 * (src/sql/winstats.c) against a direct two-pass computation (long
 * double) on random data: FIFO sliding frames, removals in random
 * order, long runs of millions of additions and removals around 1e9
 * (where a plain running sum or a Welford-with-removal drifts), trending
 * series that move the shift, the state-store round trip, and the
 * monotonic deque's min/max against a scan.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "sl_test.h"
#include "sql/winstats.h"

static uint64_t rng = 88172645463325252ULL;

static double uniform(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (double)(rng >> 11) / 9007199254740992.0;
}

static double gauss(void)
{
    double u = uniform() + 1e-300, v = uniform();
    return sqrt(-2 * log(u)) * cos(6.283185307179586 * v);
}

/* The mean and M2 of x[0..n) by two passes in long double. */
static void direct(const double *x, size_t n, long double *mean,
                   long double *m2)
{
    long double s = 0, d = 0;
    size_t i;
    for (i = 0; i < n; i++)
        s += x[i];
    *mean = n ? s / n : 0;
    for (i = 0; i < n; i++)
        d += (x[i] - *mean) * (x[i] - *mean);
    *m2 = d;
}

static double rel(long double got, long double want)
{
    long double d = fabsl(got - want), m = fabsl(want);
    return (double)(m > 0 ? d / m : d);
}

/* w against the values x[0..n): mean to rel_mean, M2 to rel_m2. */
static void check_against(const sl__winstats *w, const double *x, size_t n,
                          double rel_mean, double rel_m2)
{
    long double mean, m2;
    direct(x, n, &mean, &m2);
    SL_CHECK_INT(w->n, (int64_t)n);
    if (!n)
        return;
    /* the mean relative to its magnitude or the spread, whichever is
     * larger (a mean near 0 has no relative precision) */
    if (fabsl(sl__winstats_mean(w) - mean) >
        rel_mean * fmaxl(fabsl(mean), sqrtl(m2 / n)))
        sl_test_fail(__FILE__, __LINE__, "mean %.17g, direct %.17Lg",
                     sl__winstats_mean(w), mean);
    if (rel(sl__winstats_m2(w), m2) > rel_m2)
        sl_test_fail(__FILE__, __LINE__, "M2 %.17g, direct %.17Lg (n %zu)",
                     sl__winstats_m2(w), m2, n);
}

static void test_empty_and_small(void)
{
    sl__winstats w;
    double v;
    sl__winstats_init(&w);
    SL_CHECK(isnan(sl__winstats_mean(&w)));
    SL_CHECK(!sl__winstats_var(&w, 0, &v));
    sl__winstats_add(&w, 3.5);
    SL_CHECK(sl__winstats_var(&w, 0, &v) && v == 0);
    SL_CHECK(!sl__winstats_var(&w, 1, &v)); /* sample var of one: none */
    SL_CHECK(sl__winstats_mean(&w) == 3.5);
    sl__winstats_add(&w, 5.5);
    SL_CHECK(sl__winstats_var(&w, 1, &v) && v == 2);
    SL_CHECK(sl__winstats_sum(&w) == 9);
    sl__winstats_remove(&w, 3.5);
    sl__winstats_remove(&w, 5.5);
    SL_CHECK_INT(w.n, 0);
    SL_CHECK(sl__winstats_sum(&w) == 0);
    sl__winstats_remove(&w, 1); /* removing from empty is ignored */
    SL_CHECK_INT(w.n, 0);
    /* long sums are exact where a double is not */
    sl__winstats_add_long(&w, INT64_C(9007199254740993));
    sl__winstats_add_long(&w, 1);
    SL_CHECK_INT(sl__winstats_lsum(&w), INT64_C(9007199254740994));
    sl__winstats_remove_long(&w, INT64_C(9007199254740993));
    SL_CHECK_INT(sl__winstats_lsum(&w), 1);
}

/* A FIFO frame of `width` values level + sd * noise over `steps` steps,
 * compared every `every` steps. */
static void fifo_run(double level, double sd, size_t width, size_t steps,
                     size_t every, double rel_mean, double rel_m2)
{
    double *x = malloc(steps * sizeof *x);
    sl__winstats w;
    size_t i;
    SL_CHECK(x != NULL);
    sl__winstats_init(&w);
    for (i = 0; i < steps; i++) {
        x[i] = level + sd * gauss();
        sl__winstats_add(&w, x[i]);
        if (i >= width)
            sl__winstats_remove(&w, x[i - width]);
        if (i % every == 0 || i + 1 == steps) {
            size_t lo = i >= width ? i - width + 1 : 0;
            check_against(&w, x + lo, i + 1 - lo, rel_mean, rel_m2);
        }
    }
    free(x);
}

static void test_fifo_random(void)
{
    fifo_run(0, 1, 7, 20000, 1, 1e-12, 1e-9);
    fifo_run(100, 0.001, 30, 20000, 3, 1e-14, 1e-8);
    fifo_run(-5e5, 1e4, 200, 20000, 7, 1e-13, 1e-9);
}

/* Millions of updates around 1e9: the drift stays at rounding level. */
static void test_long_run_large_offset(void)
{
    fifo_run(1e9, 1, 100, 3000000, 9973, 1e-15, 1e-8);
    fifo_run(1e9, 1e-3, 14, 1000000, 9973, 1e-15, 1e-6);
}

/* A trending series: each value 1e5 above the last, plus noise. The
 * shift must follow the level (several moves) and M2 stay accurate. */
static void test_trend_moves_shift(void)
{
    enum { N = 200000, W = 50 };
    double *x = malloc(N * sizeof *x);
    sl__winstats w;
    size_t i;
    SL_CHECK(x != NULL);
    sl__winstats_init(&w);
    for (i = 0; i < N; i++) {
        x[i] = 1e5 * (double)i + gauss();
        sl__winstats_add(&w, x[i]);
        if (i >= W)
            sl__winstats_remove(&w, x[i - W]);
        if (i % 997 == 0 && i >= W)
            check_against(&w, x + i - W + 1, W, 1e-15, 1e-10);
    }
    SL_CHECK(w.nmoves > 100);
    free(x);
}

/* Integers after a trend: the shift stays on the integers' grid, so a
 * frame of equal values has M2 exactly 0 (a residue of 1e-14 would be a
 * stddev of 1e-7), and k/8 values keep exact sums. */
static void test_exact_on_grid(void)
{
    enum { W = 5 };
    double x[400];
    sl__winstats w;
    size_t i;
    sl__winstats_init(&w);
    for (i = 0; i < 400; i++) {
        x[i] = i < 300 ? (double)(i * 7 % 13) + (double)i * 3 : 977;
        if (i >= 200 && i < 300)
            x[i] = (double)(i % 8) / 8 + 40;
        sl__winstats_add(&w, x[i]);
        if (i >= W)
            sl__winstats_remove(&w, x[i - W]);
        if (i >= 300 + W) {
            SL_CHECK(sl__winstats_m2(&w) == 0);
            SL_CHECK(sl__winstats_mean(&w) == 977);
        }
        if (i >= 200 + W && i < 300) {
            long double mean, m2;
            direct(x + i - W + 1, W, &mean, &m2);
            SL_CHECK(sl__winstats_m2(&w) == (double)m2);
            SL_CHECK(sl__winstats_sum(&w) == (double)(mean * W));
        }
    }
    SL_CHECK(w.nmoves > 0);
}

/* Removals in random order (not FIFO), down to empty and up again. */
static void test_random_order_removal(void)
{
    enum { N = 400 };
    double pool[N];
    size_t n = 0, step;
    sl__winstats w;
    sl__winstats_init(&w);
    for (step = 0; step < 200000; step++) {
        bool add = n == 0 || (n < N && uniform() < 0.5 + 0.3 * sin(step / 5e3));
        if (add) {
            pool[n] = 1e6 + 50 * gauss();
            sl__winstats_add(&w, pool[n++]);
        } else {
            size_t k = (size_t)(uniform() * (double)n);
            sl__winstats_remove(&w, pool[k]);
            pool[k] = pool[--n];
        }
        if (step % 101 == 0)
            check_against(&w, pool, n, 1e-14, 1e-9);
    }
    while (n)
        sl__winstats_remove(&w, pool[--n]);
    SL_CHECK(w.n == 0 && w.s1 == 0 && w.s2 == 0 && w.c1 == 0 && w.c2 == 0);
}

/* Through the state store's value and back, mid-run: the same state. */
static void test_value_round_trip(void)
{
    sl__arena a;
    sl__winstats w, r;
    sl_value v, bad_items[8];
    size_t i;
    sl__arena_init(&a, 1024);
    sl__winstats_init(&w);
    for (i = 0; i < 1000; i++)
        sl__winstats_add_long(&w, (int64_t)(uniform() * 1e12));
    SL_CHECK_OK(sl__winstats_to_value(&w, &a, &v));
    SL_CHECK(sl__winstats_from_value(&v, &r));
    SL_CHECK(memcmp(&w, &r, sizeof w) == 0);
    memcpy(bad_items, v.u.items, sizeof bad_items);
    bad_items[3] = sl_int(1);
    v = sl_composite(SL_KIND_TUPLE, bad_items, 8);
    SL_CHECK(!sl__winstats_from_value(&v, &r));
    v = sl_composite(SL_KIND_TUPLE, bad_items, 7);
    SL_CHECK(!sl__winstats_from_value(&v, &r));
    v = sl_int(3);
    SL_CHECK(!sl__winstats_from_value(&v, &r));
    sl__arena_free(&a);
}

static int cmp_double(const void *vals, size_t i, size_t j)
{
    const double *x = vals;
    return x[i] < x[j] ? -1 : x[i] > x[j];
}

/* min and max of random FIFO frames [lo, hi] (both ends moving forward
 * by random steps) against a scan. */
static void test_mono_deque(void)
{
    enum { N = 20000 };
    static double x[N];
    static size_t bmax[N], bmin[N];
    sl__mono_deque dmax, dmin;
    size_t lo = 0, hi = 0, i, f;
    for (i = 0; i < N; i++)
        x[i] = floor(uniform() * 50); /* many ties */
    sl__mono_init(&dmax, bmax, N, true);
    sl__mono_init(&dmin, bmin, N, false);
    while (hi < N) {
        size_t grow = (size_t)(uniform() * 4);
        double mx = -1, mn = 1e9;
        for (i = 0; i < grow && hi < N; i++, hi++) {
            sl__mono_push(&dmax, hi, x, cmp_double);
            sl__mono_push(&dmin, hi, x, cmp_double);
        }
        while (lo < hi && uniform() < 0.45)
            lo++;
        sl__mono_drop(&dmax, lo);
        sl__mono_drop(&dmin, lo);
        for (i = lo; i < hi; i++) {
            mx = x[i] > mx ? x[i] : mx;
            mn = x[i] < mn ? x[i] : mn;
        }
        if (lo == hi) {
            SL_CHECK(!sl__mono_front(&dmax, &f));
            continue;
        }
        SL_CHECK(sl__mono_front(&dmax, &f) && x[f] == mx && f >= lo);
        SL_CHECK(sl__mono_front(&dmin, &f) && x[f] == mn && f >= lo);
    }
}

const char *SL_SUITE = "sql_winstats";
const sl_test_case SL_TESTS[] = {
    {"empty_and_small", test_empty_and_small},
    {"fifo_random", test_fifo_random},
    {"long_run_large_offset", test_long_run_large_offset},
    {"trend_moves_shift", test_trend_moves_shift},
    {"exact_on_grid", test_exact_on_grid},
    {"random_order_removal", test_random_order_removal},
    {"value_round_trip", test_value_round_trip},
    {"mono_deque", test_mono_deque},
    {NULL, NULL},
};
