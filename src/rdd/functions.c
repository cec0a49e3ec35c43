/*
 * The helpers of include/sluice/functions.h that per-record functions are
 * written with: tuples and lists in task memory and number parsing from
 * string views. The built-in functions themselves are in builtins.c.
 */
#include <sluice/functions.h>

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "rdd/rdd.h"

/* ---------------------------------------------------------- builders */

static sl_status composite(sl_task *t, sl_kind kind, const sl_value *items,
                           size_t n, sl_value *out)
{
    sl_value *copy;
    /* A value's item count is 32 bits: more is an error, never a cut. */
    if (n > UINT32_MAX)
        return sl__task_fail(t, SL_EOVERFLOW, "a composite of %zu items", n);
    if (!(copy = sl_task_alloc(t, n ? n * sizeof *copy : 1)))
        return SL_ENOMEM;
    if (n)
        memcpy(copy, items, n * sizeof *copy);
    *out = sl_composite(kind, copy, n);
    return SL_OK;
}

sl_status sl_task_tuple(sl_task *t, const sl_value *items, size_t n,
                        sl_value *out)
{
    if (!t || !out || (n && !items))
        return SL_EINVAL;
    return composite(t, SL_KIND_TUPLE, items, n, out);
}

sl_status sl_task_list(sl_task *t, const sl_value *items, size_t n,
                       sl_value *out)
{
    if (!t || !out || (n && !items))
        return SL_EINVAL;
    return composite(t, SL_KIND_LIST, items, n, out);
}

/* ----------------------------------------------------------- parsing */

sl_status sl_parse_int64(const char *s, size_t n, int64_t *out)
{
    const char *end = s + n;
    bool neg;
    uint64_t v = 0, lim;
    if (!s || !out)
        return SL_EINVAL;
    neg = n && *s == '-';
    if (n && (*s == '-' || *s == '+'))
        s++;
    if (s == end)
        return SL_EPARSE;
    /* The magnitude of INT64_MIN is one more than INT64_MAX's. */
    lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (; s < end; s++) {
        unsigned d = (unsigned char)*s - '0';
        if (d > 9)
            return SL_EPARSE;
        if (v > (lim - d) / 10) {
            /* Out of range, unless junk follows: that is a parse error. */
            while (++s < end)
                if ((unsigned)((unsigned char)*s - '0') > 9)
                    return SL_EPARSE;
            return SL_ERANGE;
        }
        v = v * 10 + d;
    }
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return SL_OK;
}

/* Only what strtod reads as decimal: sign, digits, '.', exponent. Its other
 * syntaxes (leading space, "inf", "nan", hexadecimal) are refused here. */
static bool decimal_chars(const char *s, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (!strchr("0123456789+-.eE", s[i]) || s[i] == '\0')
            return false;
    return n > 0;
}

sl_status sl_parse_double(const char *s, size_t n, double *out)
{
    char small[256], *buf = small, *end;
    double d;
    sl_status st = SL_OK;
    if (!s || !out)
        return SL_EINVAL;
    if (!decimal_chars(s, n))
        return SL_EPARSE;
    if (n >= sizeof small && !(buf = sl_malloc(n + 1)))
        return SL_ENOMEM;
    memcpy(buf, s, n);
    buf[n] = '\0';
    {
        int saved = errno;
        errno = 0;
        d = strtod(buf, &end);
        if (end != buf + n)
            st = SL_EPARSE;
        /* Underflow (1e-400) gives the nearest double; overflow is out. */
        else if (!isfinite(d) || (errno == ERANGE && fabs(d) >= 1.0))
            st = SL_ERANGE;
        errno = saved;
    }
    if (buf != small)
        sl_free(buf);
    if (st == SL_OK)
        *out = d;
    return st;
}

sl_status sl_parse_number(const char *s, size_t n, sl_value *out)
{
    int64_t i;
    double d;
    sl_status st;
    if (!s || !out)
        return SL_EINVAL;
    if ((st = sl_parse_int64(s, n, &i)) == SL_OK) {
        *out = sl_int(i);
        return SL_OK;
    }
    if ((st = sl_parse_double(s, n, &d)) != SL_OK)
        return st;
    *out = sl_double(d);
    return SL_OK;
}
