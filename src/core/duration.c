/*
 * Durations ("500ms", "1s", "1m", "2h") and byte sizes ("64m", "1g") as
 * written in job files and sl_conf properties: strict parsers that reject
 * anything ambiguous, and the duration formatter used by help and logs.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/core.h"

#define SL__MS_PER_S INT64_C(1000)
#define SL__MS_PER_M INT64_C(60000)
#define SL__MS_PER_H INT64_C(3600000)

/*
 * Read the leading decimal digits of *p (at least one). The value saturates
 * at INT64_MAX and *overflow records it, so that the caller can first check
 * the rest of the syntax: "99999999999999999999x" is a parse error, not a
 * range error.
 */
static bool sl__parse_digits(const char **p, int64_t *out, bool *overflow)
{
    const char *s = *p;
    int64_t v = 0;

    *overflow = false;
    if (*s < '0' || *s > '9')
        return false;
    for (; *s >= '0' && *s <= '9'; s++) {
        int d = *s - '0';
        if (*overflow || v > (INT64_MAX - d) / 10) {
            *overflow = true;
            v = INT64_MAX;
            continue;
        }
        v = v * 10 + d;
    }
    *p = s;
    *out = v;
    return true;
}

/* Multiply n by unit, failing when the product leaves int64. */
static sl_status sl__scale(int64_t n, bool overflow, int64_t unit, int64_t *out)
{
    if (overflow || n > INT64_MAX / unit)
        return SL_ERANGE;
    *out = n * unit;
    return SL_OK;
}

/*
 * Units are mandatory and lowercase, with nothing around them: Spark's
 * JavaUtils.timeStringAs also trims, ignores case and defaults the unit,
 * but a job file that says "5" or "5 S" is more likely a mistake than a
 * wish for milliseconds, so sluice rejects it.
 */
sl_status sl_duration_parse(const char *text, int64_t *out_ms)
{
    static const struct {
        const char *suffix;
        int64_t ms;
    } units[] = {{"ms", 1},
                 {"s", SL__MS_PER_S},
                 {"m", SL__MS_PER_M},
                 {"h", SL__MS_PER_H}};
    const char *p = text;
    int64_t n;
    bool overflow;
    size_t i;

    if (!text || !out_ms)
        return SL_EINVAL;
    if (!sl__parse_digits(&p, &n, &overflow))
        return SL_EPARSE;
    for (i = 0; i < sizeof units / sizeof units[0]; i++)
        if (strcmp(p, units[i].suffix) == 0)
            return sl__scale(n, overflow, units[i].ms, out_ms);
    return SL_EPARSE;
}

size_t sl_duration_format(int64_t ms, char *buf, size_t cap)
{
    const char *unit = "ms";
    int64_t n = ms;
    int len;

    /* Zero divides by every unit; "0ms" reads better than "0h". */
    if (ms != 0 && ms % SL__MS_PER_H == 0) {
        n = ms / SL__MS_PER_H;
        unit = "h";
    } else if (ms != 0 && ms % SL__MS_PER_M == 0) {
        n = ms / SL__MS_PER_M;
        unit = "m";
    } else if (ms != 0 && ms % SL__MS_PER_S == 0) {
        n = ms / SL__MS_PER_S;
        unit = "s";
    }
    len = snprintf(cap ? buf : NULL, cap, "%" PRId64 "%s", n, unit);
    return len < 0 ? 0 : (size_t)len;
}

/* Bytes per unit for a size suffix (k, kb, m, mb, ...); 0 if unknown. */
static int64_t sl__size_unit(const char *p)
{
    int64_t unit;

    switch (*p) {
    case '\0':
        return 1;
    case 'b':
    case 'B':
        return p[1] == '\0' ? 1 : 0;
    case 'k':
    case 'K':
        unit = INT64_C(1) << 10;
        break;
    case 'm':
    case 'M':
        unit = INT64_C(1) << 20;
        break;
    case 'g':
    case 'G':
        unit = INT64_C(1) << 30;
        break;
    default:
        return 0;
    }
    p++;
    if (*p == 'b' || *p == 'B')
        p++;
    return *p == '\0' ? unit : 0;
}

/*
 * Sizes follow Spark's JavaUtils.byteStringAsBytes: powers of 1024, a bare
 * number is bytes, and the suffix may be spelt with or without a trailing
 * b in either case ("64m", "64M", "64mb", "64MB"). Like durations, no
 * spaces, signs or fractions.
 */
sl_status sl_size_parse(const char *text, int64_t *out_bytes)
{
    const char *p = text;
    int64_t n, unit;
    bool overflow;

    if (!text || !out_bytes)
        return SL_EINVAL;
    if (!sl__parse_digits(&p, &n, &overflow))
        return SL_EPARSE;
    unit = sl__size_unit(p);
    if (unit == 0)
        return SL_EPARSE;
    return sl__scale(n, overflow, unit, out_bytes);
}
