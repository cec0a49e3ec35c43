/*
 * count, sum and avg over DISTINCT arguments. The accumulator is a set of
 * the distinct argument values (a tuple of the arguments when there are
 * several), kept as a sorted list so that insertion finds its place by
 * binary search and two sets merge by inserting one into the other.
 * Equality and order are sl__sql_compare's, so -0.0 and 0.0 are one
 * value and so are all NaNs, as Spark's NormalizeFloatingNumbers makes
 * them. Not allowed on streams (Spark refuses distinct aggregations in
 * streaming queries): `streaming` is false.
 */
#include "sql/agg_int.h"

#include <string.h>

/*
 * The accumulator: NULL (empty) or (list, count), where list has room
 * for list.len items of which the first count are the sorted set and
 * the rest NULL padding, so that insertion does not reallocate every
 * row (the list's length is its capacity; the codec keeps it, so a
 * decoded set is writable up to its length too).
 */
static size_t set_count(const sl_value *acc)
{
    return acc->kind == SL_KIND_TUPLE ? (size_t)acc->u.items[1].u.i : 0;
}

static const sl_value *set_items(const sl_value *acc)
{
    return acc->kind == SL_KIND_TUPLE ? acc->u.items[0].u.items : NULL;
}

/* Index of v in items[0, n) or where it goes; true when found. */
static bool set_find(const sl_value *items, size_t n, const sl_value *v,
                     size_t *pos)
{
    size_t lo = 0, hi = n, mid;
    int c;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;
        c = sl__sql_compare(&items[mid], v);
        if (c == 0) {
            *pos = mid;
            return true;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *pos = lo;
    return false;
}

/* Room for one more item, in a: grows to twice the capacity when full,
 * copies into a when the set lies elsewhere. */
static sl_status set_room(sl_value *acc, sl__arena *a, sl_value **items)
{
    size_t n = set_count(acc), cap = 0, i;
    sl_value *block;

    if (acc->kind == SL_KIND_TUPLE) {
        cap = acc->u.items[0].len;
        if (n < cap && sl__arena_owns(a, acc->u.items) &&
            sl__arena_owns(a, acc->u.items[0].u.items)) {
            *items = (sl_value *)acc->u.items[0].u.items;
            return SL_OK;
        }
    }
    cap = n < 4 ? 8 : 2 * n;
    block = sl__arena_alloc(a, (2 + cap) * sizeof *block);
    if (!block)
        return SL_ENOMEM;
    if (n)
        memcpy(block + 2, set_items(acc), n * sizeof *block);
    for (i = n; i < cap; i++)
        block[2 + i] = sl_null();
    block[0] = sl_composite(SL_KIND_LIST, block + 2, cap);
    block[1] = sl_int((int64_t)n);
    *acc = sl_composite(SL_KIND_TUPLE, block, 2);
    *items = block + 2;
    return SL_OK;
}

/* Add v (copied into a) unless the set has it. */
static sl_status set_insert(sl_value *acc, const sl_value *v, sl__arena *a)
{
    size_t n = set_count(acc), pos;
    sl_value copy, *items;
    sl_status st;

    if (set_find(set_items(acc), n, v, &pos))
        return SL_OK;
    if ((st = sl__value_copy(a, NULL, v, &copy)) != SL_OK)
        return st;
    if ((st = set_room(acc, a, &items)) != SL_OK)
        return st;
    memmove(items + pos + 1, items + pos, (n - pos) * sizeof *items);
    items[pos] = copy;
    ((sl_value *)acc->u.items)[1].u.i = (int64_t)(n + 1);
    return SL_OK;
}

static void set_init(sl_value *acc)
{
    *acc = sl_null();
}

/* Rows with a NULL argument are skipped (Spark's count(DISTINCT a, b)
 * skips a row where a or b is NULL). Several arguments go in as a tuple. */
static sl_status distinct_update(sl_value *acc, const sl_value *args, size_t n,
                                 sl__arena *a)
{
    sl_value row;
    size_t i;

    for (i = 0; i < n; i++)
        if (args[i].kind == SL_KIND_NULL)
            return SL_OK;
    if (n == 1)
        return set_insert(acc, &args[0], a);
    row = sl_composite(SL_KIND_TUPLE, args, n);
    return set_insert(acc, &row, a);
}

/* sum/avg DISTINCT: a string is cast to double first, so that "1" and
 * "1.0" are one value, as Spark casts before the distinct. */
static sl_status numeric_distinct_update(sl_value *acc, const sl_value *args,
                                         size_t n, sl__arena *a)
{
    sl_value x = args[0];
    double d;

    (void)n;
    if (x.kind == SL_KIND_STR) {
        if (!sl__agg_to_double(&x, &d))
            return SL_OK;
        x = sl_double(d);
    }
    if (x.kind != SL_KIND_INT && x.kind != SL_KIND_DOUBLE)
        return SL_OK;
    return set_insert(acc, &x, a);
}

static sl_status distinct_merge(sl_value *acc, const sl_value *other,
                                sl__arena *a)
{
    size_t i, n = set_count(other);
    const sl_value *items = set_items(other);
    sl_status st;

    for (i = 0; i < n; i++)
        if ((st = set_insert(acc, &items[i], a)) != SL_OK)
            return st;
    return SL_OK;
}

static sl_status count_finish(const sl_value *acc, sl__arena *a, sl_value *out)
{
    (void)a;
    *out = sl_int((int64_t)set_count(acc));
    return SL_OK;
}

/* The sum of the set: long (wrapping, ANSI off) when every item is a
 * long, double otherwise; NULL for an empty set. */
static sl_value set_sum(const sl_value *acc)
{
    size_t i, n = set_count(acc);
    const sl_value *items = set_items(acc);
    uint64_t li = 0;
    double d = 0, x;
    bool all_long = true;

    if (n == 0)
        return sl_null();
    for (i = 0; i < n; i++) {
        all_long = all_long && items[i].kind == SL_KIND_INT;
        if (items[i].kind == SL_KIND_INT)
            li += (uint64_t)items[i].u.i;
        if (sl__agg_to_double(&items[i], &x))
            d += x;
    }
    return all_long ? sl_int((int64_t)li) : sl_double(d);
}

static sl_status sum_finish(const sl_value *acc, sl__arena *a, sl_value *out)
{
    (void)a;
    *out = set_sum(acc);
    return SL_OK;
}

/* avg DISTINCT sums in double as Spark's Average does. */
static sl_status avg_finish(const sl_value *acc, sl__arena *a, sl_value *out)
{
    size_t i, n = set_count(acc);
    const sl_value *items = set_items(acc);
    double d = 0, x;

    (void)a;
    for (i = 0; i < n; i++)
        if (sl__agg_to_double(&items[i], &x))
            d += x;
    *out = n ? sl_double(d / (double)n) : sl_null();
    return SL_OK;
}

static const sl_type *rt_count(const sl_type *const *args, size_t n,
                               const char **why)
{
    (void)args, (void)n, (void)why;
    return sl_type_scalar(SL_TYPE_LONG);
}

static const sl_type *rt_numeric(const sl_type *const *args, size_t n,
                                 const char **why, bool sum)
{
    sl_type_id id = args[0]->id;

    (void)n;
    if (id != SL_TYPE_LONG && id != SL_TYPE_DOUBLE && id != SL_TYPE_STRING &&
        id != SL_TYPE_NULL) {
        *why = "argument 1 requires numeric type";
        return NULL;
    }
    return sl_type_scalar(sum && id == SL_TYPE_LONG ? SL_TYPE_LONG
                                                    : SL_TYPE_DOUBLE);
}

static const sl_type *rt_sum(const sl_type *const *args, size_t n,
                             const char **why)
{
    return rt_numeric(args, n, why, true);
}

static const sl_type *rt_avg(const sl_type *const *args, size_t n,
                             const char **why)
{
    return rt_numeric(args, n, why, false);
}

static const sl__sql_agg DISTINCT_AGGS[] = {
    {"count", 1, SIZE_MAX, rt_count, set_init, distinct_update, distinct_merge,
     count_finish, false},
    {"sum", 1, 1, rt_sum, set_init, numeric_distinct_update, distinct_merge,
     sum_finish, false},
    {"avg", 1, 1, rt_avg, set_init, numeric_distinct_update, distinct_merge,
     avg_finish, false},
    {"mean", 1, 1, rt_avg, set_init, numeric_distinct_update, distinct_merge,
     avg_finish, false},
};

const sl__sql_agg *sl__agg_distinct_find(const char *name)
{
    size_t i;
    for (i = 0; i < sizeof DISTINCT_AGGS / sizeof DISTINCT_AGGS[0]; i++)
        if (strcmp(DISTINCT_AGGS[i].name, name) == 0)
            return &DISTINCT_AGGS[i];
    return NULL;
}
