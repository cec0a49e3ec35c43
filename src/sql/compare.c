/*
 * Spark SQL's ordering of values (sl__sql_compare in sql/expr.h): one
 * comparator for min/max, DISTINCT, ORDER BY and the binder's
 * comparisons, so that every part of the SQL layer agrees on what is
 * smaller and what is equal.
 */
#include "sql/expr.h"

#include <math.h>
#include <string.h>

/*
 * Spark's SQLOrderingUtil.compareDoubles: NaN is the largest value and
 * equal to itself; -0.0 and 0.0 are equal (the C comparison already
 * treats them so).
 */
static int cmp_double(double x, double y)
{
    if (isnan(x))
        return isnan(y) ? 0 : 1;
    if (isnan(y))
        return -1;
    return (x > y) - (x < y);
}

/* A long against a double, exactly: converting the long to a double
 * would make 2^53 + 1 equal to 2^53. */
static int cmp_long_double(int64_t i, double d)
{
    int64_t t;

    if (isnan(d) || d >= 9223372036854775808.0)
        return -1;
    if (d < -9223372036854775808.0)
        return 1;
    t = (int64_t)d; /* in range: truncates toward zero */
    if (i != t)
        return i < t ? -1 : 1;
    return (d > (double)t) ? -1 : (d < (double)t) ? 1 : 0;
}

static int cmp_numeric(const sl_value *a, const sl_value *b)
{
    if (a->kind == SL_KIND_INT && b->kind == SL_KIND_INT)
        return (a->u.i > b->u.i) - (a->u.i < b->u.i);
    if (a->kind == SL_KIND_DOUBLE && b->kind == SL_KIND_DOUBLE)
        return cmp_double(a->u.d, b->u.d);
    if (a->kind == SL_KIND_INT)
        return cmp_long_double(a->u.i, b->u.d);
    return -cmp_long_double(b->u.i, a->u.d);
}

/* Bytewise, then the shorter first: for UTF-8 this is code point order,
 * as Spark's UTF8String.compareTo. */
static int cmp_bytes(const sl_value *a, const sl_value *b)
{
    size_t n = a->len < b->len ? a->len : b->len;
    int c = n ? memcmp(a->u.s, b->u.s, n) : 0;

    if (c)
        return c < 0 ? -1 : 1;
    return (a->len > b->len) - (a->len < b->len);
}

/* Arrays and structs: item by item, then the shorter first (Spark's
 * ordering of ArrayType and StructType). */
static int cmp_items(const sl_value *a, const sl_value *b)
{
    uint32_t i, n = a->len < b->len ? a->len : b->len;
    int c;

    for (i = 0; i < n; i++) {
        c = sl__sql_compare(&a->u.items[i], &b->u.items[i]);
        if (c)
            return c;
    }
    return (a->len > b->len) - (a->len < b->len);
}

static bool is_number(uint32_t kind)
{
    return kind == SL_KIND_INT || kind == SL_KIND_DOUBLE;
}

int sl__sql_compare(const sl_value *a, const sl_value *b)
{
    if (a->kind == SL_KIND_NULL || b->kind == SL_KIND_NULL)
        return (a->kind != SL_KIND_NULL) - (b->kind != SL_KIND_NULL);
    if (is_number(a->kind) && is_number(b->kind))
        return cmp_numeric(a, b);
    if (a->kind != b->kind)
        return a->kind < b->kind ? -1 : 1;
    switch (a->kind) {
    case SL_KIND_BOOL:
        return (int)a->u.b - (int)b->u.b;
    case SL_KIND_STR:
    case SL_KIND_BYTES:
        return cmp_bytes(a, b);
    case SL_KIND_PAIR:
    case SL_KIND_TUPLE:
    case SL_KIND_LIST:
        return cmp_items(a, b);
    default:
        return 0;
    }
}
