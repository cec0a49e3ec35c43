/*
 * CAST with Spark SQL 3.5's rules, ANSI mode off: a value that does not
 * convert becomes NULL instead of an error (docs/sql.md "Casts" lists
 * every pair). Scalars convert without malloc; only arrays and structs
 * cast to string go through a growable buffer.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/schema.h"
#include "sql/functions_int.h"

/* The type a value's kind says it is, for a value whose kind does not
 * match its declared type (bad input is converted as what it is). */
static sl_type_id kind_type(const sl_value *v, sl_type_id declared)
{
    switch (v->kind) {
    case SL_KIND_BOOL:
        return SL_TYPE_BOOLEAN;
    case SL_KIND_INT:
        return declared == SL_TYPE_TIMESTAMP ? declared : SL_TYPE_LONG;
    case SL_KIND_DOUBLE:
        return SL_TYPE_DOUBLE;
    case SL_KIND_STR:
        return SL_TYPE_STRING;
    case SL_KIND_BYTES:
        return SL_TYPE_BINARY;
    case SL_KIND_LIST:
        return declared == SL_TYPE_ARRAY ? declared : SL_TYPE_NULL;
    case SL_KIND_TUPLE:
        return declared == SL_TYPE_STRUCT ? declared : SL_TYPE_NULL;
    default:
        return SL_TYPE_NULL;
    }
}

/* Spark trims ASCII whitespace and control characters (<= ' ') around
 * text before reading it as a number or boolean. */
static void trim(const char **s, size_t *n)
{
    while (*n && (unsigned char)**s <= ' ')
        (*s)++, (*n)--;
    while (*n && (unsigned char)(*s)[*n - 1] <= ' ')
        (*n)--;
}

/* UTF8String.toLong: [sign]digits[.digits], the fraction dropped (so
 * '1.9' is 1); overflow or anything else gives false. */
static bool str_to_long(const char *s, size_t n, int64_t *out)
{
    trim(&s, &n);
    size_t i = 0;
    bool neg = false, any = false;
    uint64_t v = 0, lim = (uint64_t)INT64_MAX;
    if (i < n && (s[i] == '-' || s[i] == '+'))
        neg = s[i++] == '-';
    if (neg)
        lim++;
    for (; i < n && isdigit((unsigned char)s[i]); i++, any = true) {
        unsigned dgt = (unsigned)(s[i] - '0');
        if (v > (lim - dgt) / 10)
            return false;
        v = v * 10 + dgt;
    }
    if (i < n && s[i] == '.')
        for (i++; i < n && isdigit((unsigned char)s[i]); i++)
            any = true;
    if (i != n || !any)
        return false;
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return true;
}

/* Java's Double.parseDouble after Spark's special literals ("inf",
 * "-infinity", "nan", case-insensitive); no hex, an optional d/f suffix. */
bool sl__sql_str_to_double(const char *s, size_t n, double *out)
{
    char buf[128];
    trim(&s, &n);
    if (n == 0 || n >= sizeof buf)
        return false;
    memcpy(buf, s, n);
    buf[n] = '\0';
    const char *p = buf + (buf[0] == '+' || buf[0] == '-');
    double sign = buf[0] == '-' ? -1.0 : 1.0;
    if (!strcasecmp(p, "inf") || !strcasecmp(p, "infinity")) {
        *out = sign * INFINITY;
        return true;
    }
    if (!strcasecmp(p, "nan")) {
        *out = NAN;
        return true;
    }
    if (n > 1 && strchr("dDfF", buf[n - 1]))
        buf[--n] = '\0';
    for (size_t i = 0; i < n; i++)
        if (!strchr("0123456789.eE+-", buf[i]))
            return false;
    char *end;
    *out = strtod(buf, &end);
    return end == buf + n && n > 0;
}

/* Spark's string to boolean words, case-insensitive after trimming. */
static bool str_to_bool(const char *s, size_t n, bool *out)
{
    static const char *const yes[] = {"t", "true", "y", "yes", "1"};
    static const char *const no[] = {"f", "false", "n", "no", "0"};
    trim(&s, &n);
    for (size_t i = 0; i < 5; i++) {
        if (strlen(yes[i]) == n && !strncasecmp(s, yes[i], n))
            return *out = true, true;
        if (strlen(no[i]) == n && !strncasecmp(s, no[i], n))
            return *out = false, true;
    }
    return false;
}

/* Java's (long) of a double: toward zero, NaN 0, saturating. */
static int64_t double_to_long(double d)
{
    if (isnan(d))
        return 0;
    if (d >= 9223372036854775807.0)
        return INT64_MAX;
    if (d <= -9223372036854775808.0)
        return INT64_MIN;
    return (int64_t)d;
}

/* Floor division (timestamps before 1970 round down to a second). */
static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static sl_status to_string(const sl_value *v, const sl_type *from,
                           sl_type_id fid, sl__arena *a, sl_value *out)
{
    char tmp[64];
    size_t n;
    switch (fid) {
    case SL_TYPE_BOOLEAN:
        return sl__fn_str(a, v->u.b ? "true" : "false", v->u.b ? 4 : 5, out)
                   ? SL_OK
                   : SL_ENOMEM;
    case SL_TYPE_LONG:
    case SL_TYPE_DOUBLE:
        n = sl_value_format(v, tmp, sizeof tmp); /* Double.toString */
        return sl__fn_str(a, tmp, n, out) ? SL_OK : SL_ENOMEM;
    case SL_TYPE_TIMESTAMP:
        n = sl__ts_text(v->u.i, tmp);
        return sl__fn_str(a, tmp, n, out) ? SL_OK : SL_ENOMEM;
    case SL_TYPE_STRING:
    case SL_TYPE_BINARY: /* the bytes as they are, read as UTF-8 */
        *out = sl_str(v->u.s, v->len);
        return SL_OK;
    default: { /* arrays and structs: "[1, 2]", "{1, x}" as Spark */
        sl__buf b = {0};
        sl_status st = sl__text_put_typed(&b, from, v);
        if (st == SL_OK && !sl__fn_str(a, b.data, b.len, out))
            st = SL_ENOMEM;
        sl__buf_free(&b);
        return st;
    }
    }
}

static sl_status to_long(const sl_value *v, sl_type_id fid, sl_value *out)
{
    int64_t i;
    switch (fid) {
    case SL_TYPE_BOOLEAN:
        *out = sl_int(v->u.b);
        break;
    case SL_TYPE_LONG:
        *out = *v;
        break;
    case SL_TYPE_TIMESTAMP: /* seconds, as Spark */
        *out = sl_int(floor_div(v->u.i, 1000));
        break;
    case SL_TYPE_DOUBLE:
        *out = sl_int(double_to_long(v->u.d));
        break;
    case SL_TYPE_STRING:
        *out = str_to_long(v->u.s, v->len, &i) ? sl_int(i) : sl_null();
        break;
    default:
        *out = sl_null();
    }
    return SL_OK;
}

static sl_status to_double(const sl_value *v, sl_type_id fid, sl_value *out)
{
    double d;
    switch (fid) {
    case SL_TYPE_BOOLEAN:
        *out = sl_double(v->u.b ? 1.0 : 0.0);
        break;
    case SL_TYPE_LONG:
        *out = sl_double((double)v->u.i);
        break;
    case SL_TYPE_TIMESTAMP: /* seconds with the fraction */
        *out = sl_double((double)v->u.i / 1000.0);
        break;
    case SL_TYPE_DOUBLE:
        *out = *v;
        break;
    case SL_TYPE_STRING:
        *out = sl__sql_str_to_double(v->u.s, v->len, &d) ? sl_double(d)
                                                         : sl_null();
        break;
    default:
        *out = sl_null();
    }
    return SL_OK;
}

static sl_status to_bool(const sl_value *v, sl_type_id fid, sl_value *out)
{
    bool b;
    switch (fid) {
    case SL_TYPE_BOOLEAN:
        *out = *v;
        break;
    case SL_TYPE_LONG:
    case SL_TYPE_TIMESTAMP:
        *out = sl_bool(v->u.i != 0);
        break;
    case SL_TYPE_DOUBLE: /* NaN != 0 is true, as Spark */
        *out = sl_bool(v->u.d != 0.0);
        break;
    case SL_TYPE_STRING:
        *out = str_to_bool(v->u.s, v->len, &b) ? sl_bool(b) : sl_null();
        break;
    default:
        *out = sl_null();
    }
    return SL_OK;
}

static sl_status to_timestamp(const sl_value *v, sl_type_id fid, sl_value *out)
{
    int64_t ms;
    *out = sl_null();
    if (fid == SL_TYPE_TIMESTAMP) {
        *out = *v;
    } else if (fid == SL_TYPE_LONG) { /* seconds; saturating as Spark */
        int64_t s = v->u.i;
        ms = s > INT64_MAX / 1000   ? INT64_MAX
             : s < INT64_MIN / 1000 ? INT64_MIN
                                    : s * 1000;
        *out = sl_int(ms);
    } else if (fid == SL_TYPE_DOUBLE) { /* NaN, infinities: NULL */
        if (isfinite(v->u.d))
            *out = sl_int(double_to_long(v->u.d * 1000.0));
    } else if (fid == SL_TYPE_STRING) {
        if (sl__ts_parse(v->u.s, v->len, &ms))
            *out = sl_int(ms);
    }
    return SL_OK;
}

static sl_status to_binary(const sl_value *v, sl_type_id fid, sl__arena *a,
                           sl_value *out)
{
    *out = sl_null();
    if (fid == SL_TYPE_STRING || fid == SL_TYPE_BINARY) {
        *out = sl_bytes(v->u.s, v->len);
    } else if (fid == SL_TYPE_LONG) { /* 8 bytes, big-endian, as Spark */
        unsigned char *p = sl__arena_alloc(a, 8);
        if (!p)
            return SL_ENOMEM;
        for (int i = 0; i < 8; i++)
            p[i] = (unsigned char)((uint64_t)v->u.i >> (56 - 8 * i));
        *out = sl_bytes(p, 8);
    }
    return SL_OK;
}

/* Element-wise (arrays) or field-wise by position (structs of the same
 * number of fields); anything else NULL. */
static sl_status to_composite(const sl_value *v, const sl_type *from,
                              const sl_type *to, sl__arena *a, sl_value *out)
{
    size_t n = v->len;
    *out = sl_null();
    if (from->id != to->id)
        return SL_OK;
    if (to->id == SL_TYPE_STRUCT &&
        (sl_schema_size(from->fields) != n || sl_schema_size(to->fields) != n))
        return SL_OK;
    sl_value *items = sl__arena_alloc(a, (n ? n : 1) * sizeof *items);
    if (!items)
        return SL_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        const sl_type *f = to->id == SL_TYPE_ARRAY
                               ? from->element
                               : sl_schema_type(from->fields, i);
        const sl_type *t = to->id == SL_TYPE_ARRAY
                               ? to->element
                               : sl_schema_type(to->fields, i);
        sl_status st = sl__sql_cast(&v->u.items[i], f, t, a, &items[i]);
        if (st != SL_OK)
            return st;
    }
    *out = sl_composite(v->kind, items, n);
    return SL_OK;
}

sl_status sl__sql_cast(const sl_value *v, const sl_type *from,
                       const sl_type *to, sl__arena *scratch, sl_value *out)
{
    sl_type_id fid = kind_type(v, from->id);
    if (fid == SL_TYPE_NULL) {
        *out = sl_null();
        return SL_OK;
    }
    if (fid == to->id && fid != SL_TYPE_ARRAY && fid != SL_TYPE_STRUCT) {
        *out = *v;
        return SL_OK;
    }
    switch (to->id) {
    case SL_TYPE_BOOLEAN:
        return to_bool(v, fid, out);
    case SL_TYPE_LONG:
        return to_long(v, fid, out);
    case SL_TYPE_DOUBLE:
        return to_double(v, fid, out);
    case SL_TYPE_STRING:
        return to_string(v, fid == from->id ? from : sl_type_scalar(fid), fid,
                         scratch, out);
    case SL_TYPE_TIMESTAMP:
        return to_timestamp(v, fid, out);
    case SL_TYPE_BINARY:
        return to_binary(v, fid, scratch, out);
    case SL_TYPE_ARRAY:
    case SL_TYPE_STRUCT:
        return to_composite(v, from, to, scratch, out);
    default:
        *out = sl_null();
        return SL_OK;
    }
}
