/*
 * The scalar function library: the lookup over every family's table
 * (functions_str.c, functions_math.c, functions_time.c and the
 * null/conditional functions here), and the helpers the families share.
 * Semantics are Spark SQL 3.5's with ANSI mode off (docs/sql.md).
 */
#include <stdio.h>
#include <string.h>

#include "core/schema.h"
#include "sql/functions_int.h"

/* --------------------------------------------------------------- lookup */

const sl__sql_func *sl__sql_func_find(const char *name)
{
    static const sl__sql_func *const tables[] = {
        sl__sql_funcs_str,  sl__sql_funcs_regex, sl__sql_funcs_math,
        sl__sql_funcs_time, sl__sql_funcs_cond,  sl__sql_funcs_window};
    if (!name)
        return NULL;
    for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++)
        for (const sl__sql_func *f = tables[t]; f->name; f++)
            if (strcmp(f->name, name) == 0)
                return f;
    return NULL;
}

/* -------------------------------------------------------------- typing */

static const char *type_name(const sl_type *t, char *buf, size_t n)
{
    sl_type_format(t, buf, n);
    return buf;
}

/* Spark's implicit casts for a function's expected input type: numbers
 * and strings convert among each other, any atomic type to a string,
 * strings to timestamps; NULL converts to anything. */
static bool implicit_ok(sl_type_id from, sl_type_id to)
{
    if (from == to || from == SL_TYPE_NULL)
        return true;
    switch (to) {
    case SL_TYPE_STRING:
        return from != SL_TYPE_ARRAY && from != SL_TYPE_STRUCT;
    case SL_TYPE_LONG:
    case SL_TYPE_DOUBLE:
        return from == SL_TYPE_LONG || from == SL_TYPE_DOUBLE ||
               from == SL_TYPE_STRING;
    case SL_TYPE_TIMESTAMP:
        return from == SL_TYPE_STRING;
    default:
        return false;
    }
}

bool sl__fn_want(const sl_type *const *args, const sl_type **want, size_t i,
                 sl_type_id id, sl__arena *a, const char **why)
{
    char have[128], need[32];
    if (implicit_ok(args[i]->id, id)) {
        want[i] = sl_type_scalar(id);
        return true;
    }
    type_name(args[i], have, sizeof have);
    type_name(sl_type_scalar(id), need, sizeof need);
    char *msg = sl__arena_alloc(a, 320);
    if (msg)
        snprintf(msg, 320,
                 "argument %zu requires %s type, however, it is of %s type",
                 i + 1, need, have);
    *why = msg ? msg : "argument type mismatch";
    return false;
}

bool sl__fn_str(sl__arena *a, const char *s, size_t n, sl_value *out)
{
    char *p = sl__arena_alloc(a, n ? n : 1);
    if (!p)
        return false;
    if (n)
        memcpy(p, s, n);
    *out = sl_str(p, n);
    return true;
}

/* ---------------------------------------------------------------- UTF-8 */

size_t sl__utf8_len(unsigned char c)
{
    if (c < 0xC0)
        return 1; /* ASCII, or a stray continuation byte */
    if (c < 0xE0)
        return 2;
    if (c < 0xF0)
        return 3;
    return c < 0xF8 ? 4 : 1;
}

size_t sl__utf8_count(const char *s, size_t n)
{
    size_t chars = 0;
    for (size_t i = 0; i < n; chars++)
        i += sl__utf8_len((unsigned char)s[i]);
    return chars;
}

/* ------------------------------------------------------------- calendar */

/* Howard Hinnant's days_from_civil / civil_from_days (proleptic
 * Gregorian, exact for every int64 year we can meet). */
int64_t sl__days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void sl__civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

size_t sl__ts_text(int64_t ms, char out[48])
{
    const int64_t day_ms = 86400000;
    int64_t days = ms / day_ms, rem = ms % day_ms, y;
    int mo, d;
    if (rem < 0) { /* floor: before 1970 counts back from a day */
        rem += day_ms;
        days--;
    }
    sl__civil_from_days(days, &y, &mo, &d);
    int n = (y >= 0 && y <= 9999)
                ? snprintf(out, 48, "%04d", (int)y)
                : snprintf(out, 48, "%s%04lld", y < 0 ? "-" : "+",
                           (long long)(y < 0 ? -y : y));
    n += snprintf(out + n, (size_t)(48 - n), "-%02d-%02d %02d:%02d:%02d", mo, d,
                  (int)(rem / 3600000), (int)(rem / 60000 % 60),
                  (int)(rem / 1000 % 60));
    if (rem % 1000) { /* Spark drops trailing zeros of the fraction */
        n += snprintf(out + n, (size_t)(48 - n), ".%03d", (int)(rem % 1000));
        while (out[n - 1] == '0')
            out[--n] = '\0';
    }
    return (size_t)n;
}

/* --------------------------------------------------- null / conditional */

/* Spark's wider common type of two types (NULL: none): NULL gives way
 * to anything, long widens to double, and atomic types meet as string. */
static const sl_type *common2(const sl_type *a, const sl_type *b)
{
    if (a->id == SL_TYPE_NULL)
        return b;
    if (b->id == SL_TYPE_NULL || sl_type_equal(a, b))
        return a;
    if ((a->id == SL_TYPE_LONG || a->id == SL_TYPE_DOUBLE) &&
        (b->id == SL_TYPE_LONG || b->id == SL_TYPE_DOUBLE))
        return sl_type_scalar(SL_TYPE_DOUBLE);
    if ((a->id == SL_TYPE_STRING && implicit_ok(b->id, SL_TYPE_STRING)) ||
        (b->id == SL_TYPE_STRING && implicit_ok(a->id, SL_TYPE_STRING)))
        return sl_type_scalar(SL_TYPE_STRING);
    return NULL;
}

const sl_type *sl__fn_common(const sl_type *const *args, size_t from, size_t n,
                             const sl_type **want, const char **why)
{
    const sl_type *t = args[from];
    for (size_t i = from + 1; i < n && t; i++)
        t = common2(t, args[i]);
    if (!t) {
        *why = "data type mismatch: the arguments should all be the same "
               "type or coercible to a common type";
        return NULL;
    }
    for (size_t i = from; i < n; i++)
        want[i] = t;
    return t;
}

static const sl_type *coalesce_bind(const sl_type *const *args, size_t n,
                                    const sl_type **want, sl__arena *a,
                                    const char **why)
{
    SL__UNUSED(a);
    return sl__fn_common(args, 0, n, want, why);
}

static sl_status coalesce_eval(const void *st, const sl_value *args, size_t n,
                               const sl_type *result, sl__arena *scratch,
                               sl_value *out)
{
    SL__UNUSED(st), SL__UNUSED(result), SL__UNUSED(scratch);
    *out = sl_null();
    for (size_t i = 0; i < n; i++)
        if (args[i].kind != SL_KIND_NULL) {
            *out = args[i];
            break;
        }
    return SL_OK;
}

static sl_status nullif_eval(const void *st, const sl_value *args, size_t n,
                             const sl_type *result, sl__arena *scratch,
                             sl_value *out)
{
    SL__UNUSED(st), SL__UNUSED(n), SL__UNUSED(result), SL__UNUSED(scratch);
    bool eq = args[0].kind != SL_KIND_NULL && args[1].kind != SL_KIND_NULL &&
              sl_value_equal(&args[0], &args[1]);
    *out = eq ? sl_null() : args[0];
    return SL_OK;
}

static const sl_type *if_bind(const sl_type *const *args, size_t n,
                              const sl_type **want, sl__arena *a,
                              const char **why)
{
    if (args[0]->id != SL_TYPE_BOOLEAN && args[0]->id != SL_TYPE_NULL) {
        sl__fn_want(args, want, 0, SL_TYPE_BOOLEAN, a, why);
        return NULL;
    }
    want[0] = sl_type_scalar(SL_TYPE_BOOLEAN);
    return sl__fn_common(args, 1, n, want, why);
}

static sl_status if_eval(const void *st, const sl_value *args, size_t n,
                         const sl_type *result, sl__arena *scratch,
                         sl_value *out)
{
    SL__UNUSED(st), SL__UNUSED(n), SL__UNUSED(result), SL__UNUSED(scratch);
    /* A NULL condition takes the else branch, as Spark's If. */
    bool yes = args[0].kind == SL_KIND_BOOL && args[0].u.b;
    *out = yes ? args[1] : args[2];
    return SL_OK;
}

const sl__sql_func sl__sql_funcs_cond[] = {
    {"coalesce", 1, SIZE_MAX, coalesce_bind, NULL, coalesce_eval, false},
    {"nvl", 2, 2, coalesce_bind, NULL, coalesce_eval, false},
    {"ifnull", 2, 2, coalesce_bind, NULL, coalesce_eval, false},
    {"nullif", 2, 2, coalesce_bind, NULL, nullif_eval, false},
    {"if", 3, 3, if_bind, NULL, if_eval, false},
    {NULL, 0, 0, NULL, NULL, NULL, false},
};
