/*
 * The variance family of SQL aggregates: stddev/stddev_samp/std,
 * stddev_pop, variance/var_samp, var_pop, all double. The accumulator is
 * Spark's CentralMomentAgg buffer (n, mean, M2): Welford's update per row
 * and Chan et al.'s parallel merge, so partial results per partition
 * merge to what one pass gives (up to rounding).
 */
#include "sql/agg_int.h"

#include <math.h>
#include <string.h>

static const sl_type *rt_stats(const sl_type *const *args, size_t n,
                               const char **why)
{
    sl_type_id id = args[0]->id;

    (void)n;
    if (id != SL_TYPE_LONG && id != SL_TYPE_DOUBLE && id != SL_TYPE_STRING &&
        id != SL_TYPE_NULL) {
        *why = "argument 1 requires numeric type";
        return NULL;
    }
    return sl_type_scalar(SL_TYPE_DOUBLE);
}

static void stats_init(sl_value *acc)
{
    *acc = sl_null();
}

static sl_status stats_update(sl_value *acc, const sl_value *args, size_t n,
                              sl__arena *a)
{
    sl_value *it;
    double x, delta, delta_n;
    sl_status st;

    (void)n;
    if (!sl__agg_to_double(&args[0], &x))
        return SL_OK;
    if ((st = sl__agg_tuple_mut(acc, 3, a, &it)) != SL_OK)
        return st;
    if (it[0].kind == SL_KIND_NULL) {
        it[0] = sl_int(0);
        it[1] = sl_double(0);
        it[2] = sl_double(0);
    }
    it[0].u.i++;
    delta = x - it[1].u.d;
    delta_n = delta / (double)it[0].u.i;
    it[1].u.d += delta_n;
    it[2].u.d += delta * (delta - delta_n);
    return SL_OK;
}

/* Chan's merge, as Spark's CentralMomentAgg.mergeExpressions; an empty
 * side is skipped so that merging into an empty accumulator copies the
 * other exactly. */
static sl_status stats_merge(sl_value *acc, const sl_value *other, sl__arena *a)
{
    sl_value *it;
    double n1, n2, delta, delta_n;
    sl_status st;

    if (other->kind != SL_KIND_TUPLE || other->u.items[0].u.i == 0)
        return SL_OK;
    if ((st = sl__agg_tuple_mut(acc, 3, a, &it)) != SL_OK)
        return st;
    if (it[0].kind == SL_KIND_NULL || it[0].u.i == 0) {
        memcpy(it, other->u.items, 3 * sizeof *it);
        return SL_OK;
    }
    n1 = (double)it[0].u.i;
    n2 = (double)other->u.items[0].u.i;
    delta = other->u.items[1].u.d - it[1].u.d;
    delta_n = delta / (n1 + n2);
    it[0].u.i += other->u.items[0].u.i;
    it[1].u.d += delta_n * n2;
    it[2].u.d += other->u.items[2].u.d + delta * delta_n * n1 * n2;
    return SL_OK;
}

/*
 * M2 / (n - ddof), square-rooted for the stddevs. NULL for no rows, and
 * for one row of a sample statistic: Spark 3.x with
 * spark.sql.legacy.statisticalAggregate=false (the default) returns NULL
 * there, not NaN (CentralMomentAgg.divideByZeroEvalResult).
 */
static sl_status stats_result(const sl_value *acc, int ddof, bool root,
                              sl_value *out)
{
    int64_t n = acc->kind == SL_KIND_TUPLE ? acc->u.items[0].u.i : 0;
    double v;

    if (n - ddof <= 0) {
        *out = sl_null();
        return SL_OK;
    }
    v = acc->u.items[2].u.d / (double)(n - ddof);
    *out = sl_double(root ? sqrt(v) : v);
    return SL_OK;
}

static sl_status var_samp_finish(const sl_value *acc, sl__arena *a,
                                 sl_value *out)
{
    (void)a;
    return stats_result(acc, 1, false, out);
}

static sl_status var_pop_finish(const sl_value *acc, sl__arena *a,
                                sl_value *out)
{
    (void)a;
    return stats_result(acc, 0, false, out);
}

static sl_status stddev_samp_finish(const sl_value *acc, sl__arena *a,
                                    sl_value *out)
{
    (void)a;
    return stats_result(acc, 1, true, out);
}

static sl_status stddev_pop_finish(const sl_value *acc, sl__arena *a,
                                   sl_value *out)
{
    (void)a;
    return stats_result(acc, 0, true, out);
}

#define STATS(name, fin)                                                       \
    {                                                                          \
        name, 1, 1, rt_stats, stats_init, stats_update, stats_merge, fin, true \
    }

static const sl__sql_agg STATS_AGGS[] = {
    STATS("stddev", stddev_samp_finish),
    STATS("stddev_samp", stddev_samp_finish),
    STATS("std", stddev_samp_finish),
    STATS("stddev_pop", stddev_pop_finish),
    STATS("variance", var_samp_finish),
    STATS("var_samp", var_samp_finish),
    STATS("var_pop", var_pop_finish),
};

const sl__sql_agg *sl__agg_stats_find(const char *name)
{
    size_t i;
    for (i = 0; i < sizeof STATS_AGGS / sizeof STATS_AGGS[0]; i++)
        if (strcmp(STATS_AGGS[i].name, name) == 0)
            return &STATS_AGGS[i];
    return NULL;
}
