/*
 * Incremental statistics over a sliding frame, for OVER aggregation
 * (plan_exec_window.c) and, later, the streaming OVER's per-partition
 * state: values are added and removed in any order, and count, sum,
 * mean and M2 (the sum of squared deviations, as Welford's) are read in
 * O(1) without rescanning the frame. min/max over a FIFO frame are the
 * monotonic deque below (amortised O(1) per row).
 *
 * Why it stays accurate over millions of additions and removals of
 * values like 1e9 + noise (docs/sql.md "OVER aggregation"):
 *  - values are kept shifted by k (a recent mean), so the sums hold
 *    y = x - k, which are small where x varies little around a large
 *    level;
 *  - S1 = sum(y) and S2 = sum(y*y) are Neumaier-compensated sums, and
 *    y*y enters S2 as its exact two-term product (fma), so adding and
 *    later removing the same value cancels to the last bit instead of
 *    leaving a rounding residue per value (the drift of a plain
 *    Welford-with-removal, which grows with the number of updates);
 *  - when the mean of y grows past 8 standard deviations (a trending
 *    series), k moves to the mean, rounded to a power-of-two grid at
 *    the deviation's scale so that integer or k/8 data keep exact sums
 *    (S1 and S2 are rewritten with an error of about 65 ulps of M2 per
 *    move), so M2 = (n S2 - S1^2) / n, its products exact by fma, never
 *    cancels more than those digits, and a frame of equal values has
 *    M2 exactly 0 where the sums are exact;
 *  - when the frame empties, every sum restarts from exact zeros.
 * Long sums are kept exactly (wrapping as Spark's long sum, ANSI off).
 */
#ifndef SL_SQL_WINSTATS_H
#define SL_SQL_WINSTATS_H

#include "core/core.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sl__winstats {
    int64_t n;      /* values in the frame */
    double k;       /* shift: the sums are of y = x - k */
    double s1, c1;  /* sum(y): Neumaier sum and its compensation */
    double s2, c2;  /* sum(y*y), the same way */
    uint64_t isum;  /* exact sum of the values added as longs */
    int64_t nmoves; /* shifts of k so far (for tests and stats) */
} sl__winstats;

void sl__winstats_init(sl__winstats *w);
void sl__winstats_add(sl__winstats *w, double x);
void sl__winstats_remove(sl__winstats *w, double x);
/* A long: counted in the exact long sum too (remove what was added). */
void sl__winstats_add_long(sl__winstats *w, int64_t x);
void sl__winstats_remove_long(sl__winstats *w, int64_t x);

/* The sum of the doubles (n * k + S1), the exact long sum, the mean
 * (NaN when empty) and M2 (>= 0). */
double sl__winstats_sum(const sl__winstats *w);
int64_t sl__winstats_lsum(const sl__winstats *w);
double sl__winstats_mean(const sl__winstats *w);
double sl__winstats_m2(const sl__winstats *w);
/* M2 / (n - ddof); false (no value) when n - ddof <= 0. */
bool sl__winstats_var(const sl__winstats *w, int ddof, double *out);

/*
 * w as a tuple value (n, k, s1, c1, s2, c2, isum, nmoves) in a, for the
 * state store, and back: false when v is not such a tuple.
 */
sl_status sl__winstats_to_value(const sl__winstats *w, sl__arena *a,
                                sl_value *out);
bool sl__winstats_from_value(const sl_value *v, sl__winstats *w);

/*
 * A monotonic deque of indices into a caller's array of values, for the
 * min or max of a frame [lo, hi] whose both ends only move forward:
 * push(i) as hi reaches i, drop(lo) as lo passes, front() is the index
 * of the extreme. Room: one slot per index ever pushed (cap).
 */
typedef struct sl__mono_deque {
    size_t *idx;
    size_t head, tail, cap;
    bool max; /* true: front is the maximum; false: the minimum */
} sl__mono_deque;

/* cmp(vals, i, j) < 0 when value i orders before value j. */
typedef int (*sl__mono_cmp)(const void *vals, size_t i, size_t j);

void sl__mono_init(sl__mono_deque *d, size_t *buf, size_t cap, bool max);
void sl__mono_push(sl__mono_deque *d, size_t i, const void *vals,
                   sl__mono_cmp cmp);
void sl__mono_drop(sl__mono_deque *d, size_t lo);
/* The index of the frame's extreme; false when the deque is empty. */
bool sl__mono_front(const sl__mono_deque *d, size_t *i);

#endif /* SL_SQL_WINSTATS_H */
