/*
 * Incremental statistics over a sliding frame (winstats.h says why this
 * representation stays accurate): shifted, compensated power sums with
 * exact products, and a monotonic deque for min/max.
 */
#include "sql/winstats.h"

#include <math.h>
#include <string.h>

/* Move k when the mean of y is 8 standard deviations away. */
#define SHIFT_RATIO 64.0 /* (8 sd)^2 */

/* Neumaier's compensated addition of x to (s, c). */
static void nsum(double *s, double *c, double x)
{
    double t = *s + x;
    if (fabs(*s) >= fabs(x))
        *c += (*s - t) + x;
    else
        *c += (x - t) + *s;
    *s = t;
}

/* Add sign * a * b to (s, c) as its exact two-term product. */
static void nsum_prod(double *s, double *c, double a, double b, double sign)
{
    double p = a * b;
    nsum(s, c, sign * p);
    nsum(s, c, sign * fma(a, b, -p));
}

void sl__winstats_init(sl__winstats *w)
{
    memset(w, 0, sizeof *w);
}

/* Restart from exact zeros when the frame is empty (keeps isum, which
 * is exact anyway, and the shift count). */
static void reset(sl__winstats *w)
{
    w->k = w->s1 = w->c1 = w->s2 = w->c2 = 0;
}

/* n * S2 - S1^2 with both products exact (fma), divided by n: where
 * the sums are exact (integers, k/8 values) a frame of equal values
 * gets exactly 0, not a rounding residue that a stddev's square root
 * would magnify to ~1e-7. */
static double m2_of(double n, double s1, double s2)
{
    double p1 = n * s2, p2 = s1 * s1;
    double e1 = fma(n, s2, -p1), e2 = fma(s1, s1, -p2);
    double m2 = ((p1 - p2) + (e1 - e2)) / n;
    return m2 > 0 ? m2 : 0;
}

/*
 * Move k towards the current mean when the mean of y has drifted far
 * from 0 relative to the spread: see winstats.h. The move is rounded to
 * a power-of-two grid at the standard deviation's scale, so that values
 * on a coarser grid (integers, k/8) keep exact y's and exact sums.
 */
static void maybe_shift(sl__winstats *w)
{
    double n = (double)w->n, s1 = w->s1 + w->c1, m, m2, sd, d, k2;
    if (w->n < 2 || s1 == 0)
        return;
    m = s1 / n;
    m2 = m2_of(n, s1, w->s2 + w->c2);
    if (m * m * n <= SHIFT_RATIO * m2)
        return;
    sd = sqrt(m2 / n);
    d = m;
    if (sd > 0 && isfinite(sd)) {
        double g = ldexp(1.0, ilogb(sd));
        d = nearbyint(m / g) * g;
    }
    k2 = w->k + d;
    d = k2 - w->k; /* the shift as it really is after rounding */
    if (d == 0 || !isfinite(d))
        return;
    /* sum((y - d)^2) = S2 - 2 d S1 + n d^2; sum(y - d) = S1 - n d */
    nsum_prod(&w->s2, &w->c2, 2 * d, s1, -1);
    nsum_prod(&w->s2, &w->c2, n * d, d, 1);
    nsum_prod(&w->s1, &w->c1, n, d, -1);
    w->k = k2;
    w->nmoves++;
}

void sl__winstats_add(sl__winstats *w, double x)
{
    double y;
    if (w->n == 0) {
        reset(w);
        w->k = x; /* the first value is the shift: y = 0 */
    }
    w->n++;
    y = x - w->k;
    nsum(&w->s1, &w->c1, y);
    nsum_prod(&w->s2, &w->c2, y, y, 1);
    maybe_shift(w);
}

void sl__winstats_remove(sl__winstats *w, double x)
{
    double y;
    if (w->n <= 0)
        return;
    if (--w->n == 0) {
        reset(w);
        return;
    }
    y = x - w->k;
    nsum(&w->s1, &w->c1, -y);
    nsum_prod(&w->s2, &w->c2, y, y, -1);
    maybe_shift(w);
}

void sl__winstats_add_long(sl__winstats *w, int64_t x)
{
    w->isum += (uint64_t)x;
    sl__winstats_add(w, (double)x);
}

void sl__winstats_remove_long(sl__winstats *w, int64_t x)
{
    w->isum -= (uint64_t)x;
    sl__winstats_remove(w, (double)x);
}

double sl__winstats_sum(const sl__winstats *w)
{
    return w->n ? (double)w->n * w->k + (w->s1 + w->c1) : 0;
}

int64_t sl__winstats_lsum(const sl__winstats *w)
{
    return (int64_t)w->isum;
}

double sl__winstats_mean(const sl__winstats *w)
{
    return w->n ? w->k + (w->s1 + w->c1) / (double)w->n : NAN;
}

double sl__winstats_m2(const sl__winstats *w)
{
    if (w->n < 2)
        return 0;
    return m2_of((double)w->n, w->s1 + w->c1, w->s2 + w->c2);
}

bool sl__winstats_var(const sl__winstats *w, int ddof, double *out)
{
    if (w->n - ddof <= 0)
        return false;
    *out = sl__winstats_m2(w) / (double)(w->n - ddof);
    return true;
}

sl_status sl__winstats_to_value(const sl__winstats *w, sl__arena *a,
                                sl_value *out)
{
    sl_value *it = sl__arena_alloc(a, 8 * sizeof *it);
    if (!it)
        return SL_ENOMEM;
    it[0] = sl_int(w->n);
    it[1] = sl_double(w->k);
    it[2] = sl_double(w->s1);
    it[3] = sl_double(w->c1);
    it[4] = sl_double(w->s2);
    it[5] = sl_double(w->c2);
    it[6] = sl_int((int64_t)w->isum);
    it[7] = sl_int(w->nmoves);
    *out = sl_composite(SL_KIND_TUPLE, it, 8);
    return SL_OK;
}

bool sl__winstats_from_value(const sl_value *v, sl__winstats *w)
{
    static const sl_kind kinds[8] = {
        SL_KIND_INT,    SL_KIND_DOUBLE, SL_KIND_DOUBLE, SL_KIND_DOUBLE,
        SL_KIND_DOUBLE, SL_KIND_DOUBLE, SL_KIND_INT,    SL_KIND_INT};
    const sl_value *it;
    size_t i;
    if (v->kind != SL_KIND_TUPLE || v->len != 8)
        return false;
    it = v->u.items;
    for (i = 0; i < 8; i++)
        if (it[i].kind != kinds[i])
            return false;
    if (it[0].u.i < 0)
        return false;
    w->n = it[0].u.i;
    w->k = it[1].u.d;
    w->s1 = it[2].u.d;
    w->c1 = it[3].u.d;
    w->s2 = it[4].u.d;
    w->c2 = it[5].u.d;
    w->isum = (uint64_t)it[6].u.i;
    w->nmoves = it[7].u.i;
    return true;
}

/* ------------------------------------------------------ monotonic deque */

void sl__mono_init(sl__mono_deque *d, size_t *buf, size_t cap, bool max)
{
    d->idx = buf;
    d->head = d->tail = 0;
    d->cap = cap;
    d->max = max;
}

/* Entries the new index dominates can never be the extreme again: they
 * leave the frame before it does. Ties keep the newer (it lives longer). */
void sl__mono_push(sl__mono_deque *d, size_t i, const void *vals,
                   sl__mono_cmp cmp)
{
    while (d->tail > d->head) {
        int c = cmp(vals, d->idx[d->tail - 1], i);
        if (d->max ? c > 0 : c < 0)
            break;
        d->tail--;
    }
    if (d->tail < d->cap)
        d->idx[d->tail++] = i;
}

void sl__mono_drop(sl__mono_deque *d, size_t lo)
{
    while (d->head < d->tail && d->idx[d->head] < lo)
        d->head++;
}

bool sl__mono_front(const sl__mono_deque *d, size_t *i)
{
    if (d->head == d->tail)
        return false;
    *i = d->idx[d->head];
    return true;
}
