/*
 * SQL aggregate functions (sl__sql_agg in sql/expr.h), Spark SQL 3.5 with
 * ANSI off: count, sum, avg, min, max, min_by, max_by, the variance
 * family, first, last, and count/sum/avg over DISTINCT arguments. Each
 * accumulator is an sl_value, so partial results per partition merge and
 * running aggregations live in the state store and the checkpoint codec.
 *
 * Memory: an accumulator whose items lie in the arena given to update or
 * merge is changed in place; one that lies elsewhere (borrowed from the
 * state store, say) is copied into that arena first, so a caller's
 * stored value is never written to. The set helpers are in agg_set.c.
 */
#include "sql/agg_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------- helpers */

sl_status sl__agg_tuple_mut(sl_value *acc, size_t n, sl__arena *a,
                            sl_value **items)
{
    sl_value *it;

    if (acc->kind == SL_KIND_TUPLE && acc->len == n &&
        sl__arena_owns(a, acc->u.items)) {
        *items = (sl_value *)acc->u.items; /* ours: allocated mutable */
        return SL_OK;
    }
    it = sl__arena_alloc(a, n * sizeof *it);
    if (!it)
        return SL_ENOMEM;
    if (acc->kind == SL_KIND_TUPLE && acc->len == n)
        memcpy(it, acc->u.items, n * sizeof *it);
    else
        memset(it, 0, n * sizeof *it); /* all SL_KIND_NULL */
    *acc = sl_composite(SL_KIND_TUPLE, it, n);
    *items = it;
    return SL_OK;
}

/*
 * A numeric argument as a double. Strings are cast as Spark's implicit
 * cast to double does for sum/avg/stddev of a string column (the same
 * reading as CAST, sl__sql_str_to_double); text that is not a number is
 * NULL and skipped, as CAST with ANSI off.
 */
bool sl__agg_to_double(const sl_value *v, double *out)
{
    if (v->kind == SL_KIND_INT || v->kind == SL_KIND_DOUBLE) {
        *out = v->kind == SL_KIND_INT ? (double)v->u.i : v->u.d;
        return true;
    }
    return v->kind == SL_KIND_STR && sl__sql_str_to_double(v->u.s, v->len, out);
}

static sl_status keep(sl__arena *a, const sl_value *v, sl_value *out)
{
    return sl__value_copy(a, NULL, v, out);
}

static bool any_null(const sl_value *args, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (args[i].kind == SL_KIND_NULL)
            return true;
    return false;
}

static void init_null(sl_value *acc)
{
    *acc = sl_null();
}

static sl_status finish_as_is(const sl_value *acc, sl__arena *a, sl_value *out)
{
    (void)a;
    *out = *acc;
    return SL_OK;
}

/* --------------------------------------------------------------- types */

static const sl_type *scalar(sl_type_id id)
{
    return sl_type_scalar(id);
}

static bool numeric_arg(const sl_type *t)
{
    return t->id == SL_TYPE_LONG || t->id == SL_TYPE_DOUBLE ||
           t->id == SL_TYPE_STRING || t->id == SL_TYPE_NULL;
}

static const sl_type *rt_long(const sl_type *const *args, size_t n,
                              const char **why)
{
    (void)args, (void)n, (void)why;
    return scalar(SL_TYPE_LONG);
}

/* sum: long stays long (overflow wraps, ANSI off); double, a string
 * (cast to double) and a bare NULL give double, as Spark's Sum. */
static const sl_type *rt_sum(const sl_type *const *args, size_t n,
                             const char **why)
{
    (void)n;
    if (!numeric_arg(args[0])) {
        *why = "argument 1 requires numeric type";
        return NULL;
    }
    return scalar(args[0]->id == SL_TYPE_LONG ? SL_TYPE_LONG : SL_TYPE_DOUBLE);
}

static const sl_type *rt_double(const sl_type *const *args, size_t n,
                                const char **why)
{
    (void)n;
    if (!numeric_arg(args[0])) {
        *why = "argument 1 requires numeric type";
        return NULL;
    }
    return scalar(SL_TYPE_DOUBLE);
}

/* min, max, min_by, max_by: every sluice type is orderable in Spark
 * (arrays and structs item by item), so any argument type is allowed. */
static const sl_type *rt_first_arg(const sl_type *const *args, size_t n,
                                   const char **why)
{
    (void)n, (void)why;
    return args[0];
}

/* first/last: the optional ignoreNulls must be a boolean. */
static const sl_type *rt_first(const sl_type *const *args, size_t n,
                               const char **why)
{
    if (n == 2 && args[1]->id != SL_TYPE_BOOLEAN) {
        *why = "argument 2 (ignoreNulls) requires boolean type";
        return NULL;
    }
    return args[0];
}

/* --------------------------------------------------------------- count */

static void init_zero(sl_value *acc)
{
    *acc = sl_int(0);
}

/* count(*) has no arguments and counts every row; count(a, b) counts the
 * rows where no argument is NULL (Spark's Count). */
static sl_status count_update(sl_value *acc, const sl_value *args, size_t n,
                              sl__arena *a)
{
    (void)a;
    if (!any_null(args, n))
        acc->u.i++;
    return SL_OK;
}

static sl_status count_merge(sl_value *acc, const sl_value *other, sl__arena *a)
{
    (void)a;
    acc->u.i = (int64_t)((uint64_t)acc->u.i + (uint64_t)other->u.i);
    return SL_OK;
}

/* ----------------------------------------------------------------- sum */

/* Add x (INT or DOUBLE) to acc (NULL, INT or DOUBLE). Longs wrap on
 * overflow as Spark's Add with ANSI off. */
static void sum_add(sl_value *acc, const sl_value *x)
{
    double d;

    if (acc->kind == SL_KIND_NULL)
        *acc = *x;
    else if (acc->kind == SL_KIND_INT && x->kind == SL_KIND_INT)
        acc->u.i = (int64_t)((uint64_t)acc->u.i + (uint64_t)x->u.i);
    else if (sl__agg_to_double(acc, &d) && sl__agg_to_double(x, &d))
        *acc = sl_double(
            (acc->kind == SL_KIND_INT ? (double)acc->u.i : acc->u.d) + d);
}

static sl_status sum_update(sl_value *acc, const sl_value *args, size_t n,
                            sl__arena *a)
{
    sl_value x = args[0];
    double d;

    (void)n, (void)a;
    if (x.kind == SL_KIND_STR) {
        if (!sl__agg_to_double(&x, &d))
            return SL_OK;
        x = sl_double(d);
    }
    if (x.kind == SL_KIND_INT || x.kind == SL_KIND_DOUBLE)
        sum_add(acc, &x);
    return SL_OK;
}

static sl_status sum_merge(sl_value *acc, const sl_value *other, sl__arena *a)
{
    (void)a;
    if (other->kind == SL_KIND_INT || other->kind == SL_KIND_DOUBLE)
        sum_add(acc, other);
    return SL_OK;
}

/* ----------------------------------------------------------------- avg */

/* avg: (count, double sum). Spark's Average sums in double for long
 * input too, so the sum of longs never overflows here. */
static sl_status avg_update(sl_value *acc, const sl_value *args, size_t n,
                            sl__arena *a)
{
    sl_value *it;
    double d;
    sl_status st;

    (void)n;
    if (!sl__agg_to_double(&args[0], &d))
        return SL_OK;
    if ((st = sl__agg_tuple_mut(acc, 2, a, &it)) != SL_OK)
        return st;
    if (it[0].kind == SL_KIND_NULL) {
        it[0] = sl_int(0);
        it[1] = sl_double(0);
    }
    it[0].u.i++;
    it[1].u.d += d;
    return SL_OK;
}

static sl_status avg_merge(sl_value *acc, const sl_value *other, sl__arena *a)
{
    sl_value *it;
    sl_status st;

    if (other->kind != SL_KIND_TUPLE)
        return SL_OK;
    if ((st = sl__agg_tuple_mut(acc, 2, a, &it)) != SL_OK)
        return st;
    if (it[0].kind == SL_KIND_NULL) {
        it[0] = sl_int(0);
        it[1] = sl_double(0);
    }
    it[0].u.i += other->u.items[0].u.i;
    it[1].u.d += other->u.items[1].u.d;
    return SL_OK;
}

static sl_status avg_finish(const sl_value *acc, sl__arena *a, sl_value *out)
{
    (void)a;
    if (acc->kind != SL_KIND_TUPLE || acc->u.items[0].u.i == 0)
        *out = sl_null();
    else
        *out = sl_double(acc->u.items[1].u.d / (double)acc->u.items[0].u.i);
    return SL_OK;
}

/* ------------------------------------------------------------- min/max */

/* Replace acc by v (copied into a) when v is better: strictly, so that
 * among equal values the first one seen stays. */
static sl_status take_if(sl_value *acc, const sl_value *v, int sign,
                         sl__arena *a)
{
    if (v->kind == SL_KIND_NULL)
        return SL_OK;
    if (acc->kind != SL_KIND_NULL && sign * sl__sql_compare(v, acc) >= 0)
        return SL_OK;
    return keep(a, v, acc);
}

static sl_status min_update(sl_value *acc, const sl_value *args, size_t n,
                            sl__arena *a)
{
    (void)n;
    return take_if(acc, &args[0], 1, a);
}

static sl_status min_merge(sl_value *acc, const sl_value *other, sl__arena *a)
{
    return take_if(acc, other, 1, a);
}

static sl_status max_update(sl_value *acc, const sl_value *args, size_t n,
                            sl__arena *a)
{
    (void)n;
    return take_if(acc, &args[0], -1, a);
}

static sl_status max_merge(sl_value *acc, const sl_value *other, sl__arena *a)
{
    return take_if(acc, other, -1, a);
}

/* ------------------------------------------------------- min_by/max_by */

/*
 * (x, ord) of the row with the smallest (largest) ord. Rows whose ord is
 * NULL are skipped; x may be NULL (Spark's MaxMinBy). Ties keep the
 * first row seen, as Spark's strict comparison does.
 */
static sl_status by_take(sl_value *acc, const sl_value *x, const sl_value *ord,
                         int sign, sl__arena *a)
{
    sl_value *it;
    sl_status st;

    if (ord->kind == SL_KIND_NULL)
        return SL_OK;
    if (acc->kind == SL_KIND_TUPLE &&
        sign * sl__sql_compare(ord, &acc->u.items[1]) >= 0)
        return SL_OK;
    if ((st = sl__agg_tuple_mut(acc, 2, a, &it)) != SL_OK)
        return st;
    if ((st = keep(a, x, &it[0])) != SL_OK)
        return st;
    return keep(a, ord, &it[1]);
}

static sl_status min_by_update(sl_value *acc, const sl_value *args, size_t n,
                               sl__arena *a)
{
    (void)n;
    return by_take(acc, &args[0], &args[1], 1, a);
}

static sl_status max_by_update(sl_value *acc, const sl_value *args, size_t n,
                               sl__arena *a)
{
    (void)n;
    return by_take(acc, &args[0], &args[1], -1, a);
}

static sl_status min_by_merge(sl_value *acc, const sl_value *other,
                              sl__arena *a)
{
    if (other->kind != SL_KIND_TUPLE)
        return SL_OK;
    return by_take(acc, &other->u.items[0], &other->u.items[1], 1, a);
}

static sl_status max_by_merge(sl_value *acc, const sl_value *other,
                              sl__arena *a)
{
    if (other->kind != SL_KIND_TUPLE)
        return SL_OK;
    return by_take(acc, &other->u.items[0], &other->u.items[1], -1, a);
}

static sl_status by_finish(const sl_value *acc, sl__arena *a, sl_value *out)
{
    (void)a;
    *out = acc->kind == SL_KIND_TUPLE ? acc->u.items[0] : sl_null();
    return SL_OK;
}

/* ---------------------------------------------------------- first/last */

/*
 * first/last: NULL until a row is taken, then a 1-tuple holding x (which
 * may be NULL unless ignoreNulls). In input order within a partition;
 * across partitions, in the order merges are called, so the result over
 * several partitions is nondeterministic, as Spark documents for First
 * and Last. ignoreNulls is read from each row's second argument (the
 * binder passes Spark's constant there).
 */
static bool skip_null(const sl_value *args, size_t n)
{
    return args[0].kind == SL_KIND_NULL && n == 2 &&
           args[1].kind == SL_KIND_BOOL && args[1].u.b;
}

static sl_status set_one(sl_value *acc, const sl_value *x, sl__arena *a)
{
    sl_value *it;
    sl_status st = sl__agg_tuple_mut(acc, 1, a, &it);

    return st != SL_OK ? st : keep(a, x, &it[0]);
}

static sl_status first_update(sl_value *acc, const sl_value *args, size_t n,
                              sl__arena *a)
{
    if (acc->kind == SL_KIND_TUPLE || skip_null(args, n))
        return SL_OK;
    return set_one(acc, &args[0], a);
}

static sl_status last_update(sl_value *acc, const sl_value *args, size_t n,
                             sl__arena *a)
{
    if (skip_null(args, n))
        return SL_OK;
    return set_one(acc, &args[0], a);
}

static sl_status first_merge(sl_value *acc, const sl_value *other, sl__arena *a)
{
    if (acc->kind == SL_KIND_TUPLE || other->kind != SL_KIND_TUPLE)
        return SL_OK;
    return set_one(acc, &other->u.items[0], a);
}

static sl_status last_merge(sl_value *acc, const sl_value *other, sl__arena *a)
{
    if (other->kind != SL_KIND_TUPLE)
        return SL_OK;
    return set_one(acc, &other->u.items[0], a);
}

/* ------------------------------------------------------------ the table */

#define AGG(name, lo, hi, rt, init, upd, mrg, fin, streaming)                  \
    {                                                                          \
        name, lo, hi, rt, init, upd, mrg, fin, streaming                       \
    }

static const sl__sql_agg AGGS[] = {
    AGG("count", 0, SIZE_MAX, rt_long, init_zero, count_update, count_merge,
        finish_as_is, true),
    AGG("sum", 1, 1, rt_sum, init_null, sum_update, sum_merge, finish_as_is,
        true),
    AGG("avg", 1, 1, rt_double, init_null, avg_update, avg_merge, avg_finish,
        true),
    AGG("mean", 1, 1, rt_double, init_null, avg_update, avg_merge, avg_finish,
        true),
    AGG("min", 1, 1, rt_first_arg, init_null, min_update, min_merge,
        finish_as_is, true),
    AGG("max", 1, 1, rt_first_arg, init_null, max_update, max_merge,
        finish_as_is, true),
    AGG("min_by", 2, 2, rt_first_arg, init_null, min_by_update, min_by_merge,
        by_finish, true),
    AGG("max_by", 2, 2, rt_first_arg, init_null, max_by_update, max_by_merge,
        by_finish, true),
    AGG("first", 1, 2, rt_first, init_null, first_update, first_merge,
        by_finish, true),
    AGG("first_value", 1, 2, rt_first, init_null, first_update, first_merge,
        by_finish, true),
    AGG("last", 1, 2, rt_first, init_null, last_update, last_merge, by_finish,
        true),
    AGG("last_value", 1, 2, rt_first, init_null, last_update, last_merge,
        by_finish, true),
};

/* min and max ignore DISTINCT (it cannot change them), as Spark's
 * optimizer does; count, sum and avg keep a set of distinct values. */
static const sl__sql_agg *find_in(const sl__sql_agg *t, size_t n,
                                  const char *name)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (strcmp(t[i].name, name) == 0)
            return &t[i];
    return NULL;
}

const sl__sql_agg *sl__sql_agg_find(const char *name, bool distinct)
{
    const sl__sql_agg *f;

    if (distinct) {
        if (strcmp(name, "min") == 0 || strcmp(name, "max") == 0)
            return find_in(AGGS, sizeof AGGS / sizeof AGGS[0], name);
        return sl__agg_distinct_find(name);
    }
    f = find_in(AGGS, sizeof AGGS / sizeof AGGS[0], name);
    return f ? f : sl__agg_stats_find(name);
}

bool sl__sql_is_aggregate(const char *name)
{
    return sl__sql_agg_find(name, false) != NULL;
}
