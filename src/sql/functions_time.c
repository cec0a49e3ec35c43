/*
 * Time functions (Spark SQL 3.5, ANSI off, UTC): timestamps are long
 * milliseconds since the epoch, typed by the schema. Field extractors,
 * date_trunc, to_timestamp, unix_timestamp and from_unixtime, the last
 * three with a subset of Java's DateTimeFormatter patterns: y (yyyy: 4
 * digits, yy: 2 digits, years 2000-2099), M/MM, d/dd, H/HH, m/mm, s/ss
 * (one letter: 1 or 2 digits; two: exactly 2), S..S (fraction, as many
 * digits as letters, kept to milliseconds), 'quoted text' ('' a quote)
 * and any other non-letter as itself. A constant pattern with another
 * letter fails the compile; a per-row one gives NULL.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/schema.h"
#include "sql/functions_int.h"

#define EVAL_ARGS                                                              \
    const void *st, const sl_value *args, size_t n, const sl_type *result,     \
        sl__arena *scratch, sl_value *out
#define EVAL_UNUSED                                                            \
    SL__UNUSED(st), SL__UNUSED(n), SL__UNUSED(result), SL__UNUSED(scratch)

#define MS_PER_DAY 86400000LL
#define DEFAULT_FMT "yyyy-MM-dd HH:mm:ss"

typedef struct fields {
    int64_t year;
    int mon, day, hour, min, sec, ms;
} fields;

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static fields fields_of(int64_t ms)
{
    fields f;
    int64_t days = floor_div(ms, MS_PER_DAY), rem = ms - days * MS_PER_DAY;
    sl__civil_from_days(days, &f.year, &f.mon, &f.day);
    f.hour = (int)(rem / 3600000);
    f.min = (int)(rem / 60000 % 60);
    f.sec = (int)(rem / 1000 % 60);
    f.ms = (int)(rem % 1000);
    return f;
}

static int64_t ms_of(const fields *f)
{
    return sl__days_from_civil(f->year, f->mon, f->day) * MS_PER_DAY +
           f->hour * 3600000LL + f->min * 60000LL + f->sec * 1000LL + f->ms;
}

/* ------------------------------------------------------------ binding */

/* (timestamp) -> long: strings cast to timestamps implicitly. */
static const sl_type *bind_t_l(const sl_type *const *args, size_t n,
                               const sl_type **want, sl__arena *a,
                               const char **why)
{
    SL__UNUSED(n);
    if (!sl__fn_want(args, want, 0, SL_TYPE_TIMESTAMP, a, why))
        return NULL;
    return sl_type_scalar(SL_TYPE_LONG);
}

/* -------------------------------------------------------------- fields */

enum {
    F_YEAR,
    F_MONTH,
    F_DAY,
    F_HOUR,
    F_MINUTE,
    F_SECOND,
    F_DOW,
    F_QUARTER,
    F_DOY
};

static int64_t field(int64_t ms, int which)
{
    fields f = fields_of(ms);
    int64_t days = floor_div(ms, MS_PER_DAY);
    switch (which) {
    case F_YEAR:
        return f.year;
    case F_MONTH:
        return f.mon;
    case F_DAY:
        return f.day;
    case F_HOUR:
        return f.hour;
    case F_MINUTE:
        return f.min;
    case F_SECOND:
        return f.sec;
    case F_DOW: /* 1970-01-01 was a Thursday; 1 = Sunday */
        return (days + 4) % 7 + ((days + 4) % 7 < 0 ? 7 : 0) + 1;
    case F_QUARTER:
        return (f.mon - 1) / 3 + 1;
    default:
        return days - sl__days_from_civil(f.year, 1, 1) + 1;
    }
}

#define FIELD_FN(name, which)                                                  \
    static sl_status name(EVAL_ARGS)                                           \
    {                                                                          \
        EVAL_UNUSED;                                                           \
        *out = sl_int(field(args[0].u.i, which));                              \
        return SL_OK;                                                          \
    }
FIELD_FN(year_eval, F_YEAR)
FIELD_FN(month_eval, F_MONTH)
FIELD_FN(day_eval, F_DAY)
FIELD_FN(hour_eval, F_HOUR)
FIELD_FN(minute_eval, F_MINUTE)
FIELD_FN(second_eval, F_SECOND)
FIELD_FN(dow_eval, F_DOW)
FIELD_FN(quarter_eval, F_QUARTER)
FIELD_FN(doy_eval, F_DOY)

/* ---------------------------------------------------------- date_trunc */

static const sl_type *bind_trunc(const sl_type *const *args, size_t n,
                                 const sl_type **want, sl__arena *a,
                                 const char **why)
{
    SL__UNUSED(n);
    if (!sl__fn_want(args, want, 0, SL_TYPE_STRING, a, why) ||
        !sl__fn_want(args, want, 1, SL_TYPE_TIMESTAMP, a, why))
        return NULL;
    return sl_type_scalar(SL_TYPE_TIMESTAMP);
}

/* Spark's date_trunc unit names (case-insensitive) and the field each
 * truncates to; -1: not a unit. */
static int trunc_unit(const sl_value *u)
{
    static const struct {
        const char *name;
        int unit;
    } units[] = {{"year", 0},    {"yyyy", 0},        {"yy", 0},
                 {"quarter", 1}, {"month", 2},       {"mon", 2},
                 {"mm", 2},      {"week", 3},        {"day", 4},
                 {"dd", 4},      {"hour", 5},        {"minute", 6},
                 {"second", 7},  {"millisecond", 8}, {"microsecond", 8}};
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (strlen(units[i].name) == u->len &&
            strncasecmp(units[i].name, u->u.s, u->len) == 0)
            return units[i].unit;
    return -1;
}

static sl_status trunc_eval(EVAL_ARGS)
{
    EVAL_UNUSED;
    int unit = trunc_unit(&args[0]);
    int64_t ms = args[1].u.i, days = floor_div(ms, MS_PER_DAY);
    fields f = fields_of(ms);
    static const int64_t step[] = {0,       0,     0,    0, MS_PER_DAY,
                                   3600000, 60000, 1000, 1};
    if (unit < 0) { /* a bad unit gives NULL */
        *out = sl_null();
        return SL_OK;
    }
    if (unit >= 4) {
        *out = sl_int(floor_div(ms, step[unit]) * step[unit]);
        return SL_OK;
    }
    if (unit == 3) { /* back to Monday: days since a Monday (1970-01-05) */
        int64_t since = (days - 4) % 7;
        *out = sl_int((days - (since < 0 ? since + 7 : since)) * MS_PER_DAY);
        return SL_OK;
    }
    f.mon = unit == 0 ? 1 : unit == 1 ? (f.mon - 1) / 3 * 3 + 1 : f.mon;
    f.day = 1;
    f.hour = f.min = f.sec = f.ms = 0;
    *out = sl_int(ms_of(&f));
    return SL_OK;
}

/* ------------------------------------------------------------ patterns */

/* One pattern token: a letter repeated count times, or literal text. */
typedef struct tok {
    char letter; /* 0: literal */
    int count;
    const char *lit;
    size_t litlen;
} tok;

/* The next token of f at *i; false at the end or on a bad pattern
 * (*bad set: an unsupported letter or an unclosed quote). */
static bool next_tok(const sl_value *f, size_t *i, tok *t, bool *bad)
{
    const char *s = f->u.s;
    size_t n = f->len, j = *i;
    if (j >= n)
        return false;
    t->letter = 0;
    if (s[j] == '\'') {
        size_t e = j + 1;
        if (e < n && s[e] == '\'') { /* '' is one quote */
            t->lit = s + j, t->litlen = 1, *i = j + 2;
            return true;
        }
        while (e < n && s[e] != '\'')
            e++;
        if (e == n)
            return !(*bad = true);
        t->lit = s + j + 1, t->litlen = e - j - 1, *i = e + 1;
        return true;
    }
    if ((s[j] >= 'a' && s[j] <= 'z') || (s[j] >= 'A' && s[j] <= 'Z')) {
        if (!strchr("yMdHmsS", s[j]))
            return !(*bad = true);
        size_t e = j;
        while (e < n && s[e] == s[j])
            e++;
        t->letter = s[j], t->count = (int)(e - j), *i = e;
        if ((t->letter != 'y' && t->letter != 'S' && t->count > 2) ||
            t->count > 9 || (t->letter == 'y' && t->count == 3))
            return !(*bad = true);
        return true;
    }
    t->lit = s + j, t->litlen = 1, *i = j + 1;
    return true;
}

static bool pattern_ok(const sl_value *f)
{
    size_t i = 0;
    bool bad = false;
    tok t;
    while (next_tok(f, &i, &t, &bad))
        ;
    return !bad;
}

/* Read exactly (min == max) or min..max digits. */
static bool read_num(const char *s, size_t n, size_t *i, int min, int max,
                     int64_t *v)
{
    int k = 0;
    *v = 0;
    while (k < max && *i < n && s[*i] >= '0' && s[*i] <= '9')
        *v = *v * 10 + (s[(*i)++] - '0'), k++;
    return k >= min;
}

static bool parse_tok(const tok *t, const char *s, size_t n, size_t *i,
                      fields *f)
{
    int64_t v;
    if (!t->letter) {
        if (*i + t->litlen > n || memcmp(s + *i, t->lit, t->litlen))
            return false;
        *i += t->litlen;
        return true;
    }
    int min = t->count == 1 ? 1 : t->count, max = t->count == 1 ? 2 : t->count;
    if (t->letter == 'y')
        min = t->count == 2 ? 2 : 4, max = t->count == 2 ? 2 : 9;
    if (!read_num(s, n, i, min, max, &v))
        return false;
    switch (t->letter) {
    case 'y':
        f->year = t->count == 2 ? 2000 + v : v;
        return true;
    case 'M':
        return (f->mon = (int)v) >= 1 && v <= 12;
    case 'd':
        return (f->day = (int)v) >= 1 && v <= 31;
    case 'H':
        return (f->hour = (int)v) <= 23;
    case 'm':
        return (f->min = (int)v) <= 59;
    case 's':
        return (f->sec = (int)v) <= 59;
    default: /* S: a fraction of t->count digits, kept to ms */
        for (int k = t->count; k < 3; k++)
            v *= 10;
        for (int k = t->count; k > 3; k--)
            v /= 10;
        f->ms = (int)v;
        return true;
    }
}

/* Parse s by pattern fmt; false when it does not match all of s. */
static bool parse_with(const sl_value *s, const sl_value *fmt, int64_t *ms)
{
    fields f = {1970, 1, 1, 0, 0, 0, 0};
    size_t i = 0, at = 0;
    bool bad = false;
    tok t;
    while (next_tok(fmt, &i, &t, &bad))
        if (!parse_tok(&t, s->u.s, s->len, &at, &f))
            return false;
    if (bad || at != s->len)
        return false;
    int64_t y;
    int m, d; /* a round trip rejects 2023-02-30 */
    sl__civil_from_days(sl__days_from_civil(f.year, f.mon, f.day), &y, &m, &d);
    if (y != f.year || m != f.mon || d != f.day)
        return false;
    *ms = ms_of(&f);
    return true;
}

static size_t format_with(int64_t ms, const sl_value *fmt, char *o, size_t cap,
                          bool *bad)
{
    fields f = fields_of(ms);
    size_t i = 0, len = 0;
    tok t;
    while (next_tok(fmt, &i, &t, bad) && len + 24 < cap) {
        if (!t.letter) {
            memcpy(o + len, t.lit, t.litlen);
            len += t.litlen;
            continue;
        }
        int64_t v = t.letter == 'y'   ? (t.count == 2 ? f.year % 100 : f.year)
                    : t.letter == 'M' ? f.mon
                    : t.letter == 'd' ? f.day
                    : t.letter == 'H' ? f.hour
                    : t.letter == 'm' ? f.min
                    : t.letter == 's' ? f.sec
                                      : f.ms;
        if (t.letter == 'S') { /* the first count digits of .mmm000... */
            char frac[16];
            snprintf(frac, sizeof frac, "%03d000000", (int)v);
            memcpy(o + len, frac, (size_t)t.count);
            len += (size_t)t.count;
        } else {
            len += (size_t)snprintf(o + len, cap - len, "%0*lld", t.count,
                                    (long long)v);
        }
    }
    return len;
}

/* ----------------------------------------- to_timestamp, unix_timestamp */

/* A constant pattern (argument 1) is checked once. */
static sl_status fmt_prepare(const sl_value *const *consts, size_t n,
                             sl__arena *a, void **state, const char **why)
{
    SL__UNUSED(a);
    *state = NULL;
    if (n > 1 && consts[1] && consts[1]->kind == SL_KIND_STR &&
        !pattern_ok(consts[1])) {
        *why = "invalid datetime pattern (supported: yyyy yy MM M dd d HH H "
               "mm m ss s S..S, 'text')";
        return SL_EPARSE;
    }
    return SL_OK;
}

/* (string or timestamp[, string]) -> result. */
static const sl_type *bind_parse(const sl_type *const *args, size_t n,
                                 const sl_type **want, sl__arena *a,
                                 const char **why, sl_type_id result)
{
    if (args[0]->id != SL_TYPE_TIMESTAMP &&
        !sl__fn_want(args, want, 0, SL_TYPE_STRING, a, why))
        return NULL;
    if (n > 1 && !sl__fn_want(args, want, 1, SL_TYPE_STRING, a, why))
        return NULL;
    return sl_type_scalar(result);
}

static const sl_type *bind_to_ts(const sl_type *const *args, size_t n,
                                 const sl_type **want, sl__arena *a,
                                 const char **why)
{
    return bind_parse(args, n, want, a, why, SL_TYPE_TIMESTAMP);
}

static const sl_type *bind_unix(const sl_type *const *args, size_t n,
                                const sl_type **want, sl__arena *a,
                                const char **why)
{
    return bind_parse(args, n, want, a, why, SL_TYPE_LONG);
}

/* The argument as a timestamp: itself, or text read by fmt (NULL fmt:
 * as CAST reads it). false when it does not read. */
static bool as_ts(const sl_value *v, const sl_value *fmt, int64_t *ms)
{
    if (v->kind == SL_KIND_INT)
        return *ms = v->u.i, true;
    if (!fmt)
        return sl__ts_parse(v->u.s, v->len, ms);
    return parse_with(v, fmt, ms);
}

static sl_status to_ts_eval(EVAL_ARGS)
{
    EVAL_UNUSED;
    int64_t ms;
    *out =
        as_ts(&args[0], n > 1 ? &args[1] : NULL, &ms) ? sl_int(ms) : sl_null();
    return SL_OK;
}

/* unix_timestamp(str) reads DEFAULT_FMT, as Spark. */
static sl_status unix_eval(EVAL_ARGS)
{
    EVAL_UNUSED;
    sl_value def = sl_str(DEFAULT_FMT, sizeof DEFAULT_FMT - 1);
    int64_t ms;
    *out = as_ts(&args[0], n > 1 ? &args[1] : &def, &ms)
               ? sl_int(floor_div(ms, 1000))
               : sl_null();
    return SL_OK;
}

/* --------------------------------------------------------- from_unixtime */

static const sl_type *bind_from_unix(const sl_type *const *args, size_t n,
                                     const sl_type **want, sl__arena *a,
                                     const char **why)
{
    if (!sl__fn_want(args, want, 0, SL_TYPE_LONG, a, why))
        return NULL;
    if (n > 1 && !sl__fn_want(args, want, 1, SL_TYPE_STRING, a, why))
        return NULL;
    return sl_type_scalar(SL_TYPE_STRING);
}

static sl_status from_unix_eval(EVAL_ARGS)
{
    SL__UNUSED(st), SL__UNUSED(result);
    sl_value def = sl_str(DEFAULT_FMT, sizeof DEFAULT_FMT - 1);
    const sl_value *fmt = n > 1 ? &args[1] : &def;
    int64_t s = args[0].u.i;
    bool bad = false;
    *out = sl_null();
    if (s > INT64_MAX / 1000 || s < INT64_MIN / 1000)
        return SL_OK;
    /* Each pattern byte writes at most 24 bytes (a year, a fraction). */
    size_t cap = fmt->len * 24 + 32;
    char *buf = sl__arena_alloc(scratch, cap);
    if (!buf)
        return SL_ENOMEM;
    size_t len = format_with(s * 1000, fmt, buf, cap, &bad);
    *out = bad ? sl_null() : sl_str(buf, len);
    return SL_OK;
}

const sl__sql_func sl__sql_funcs_time[] = {
    {"year", 1, 1, bind_t_l, NULL, year_eval, true},
    {"quarter", 1, 1, bind_t_l, NULL, quarter_eval, true},
    {"month", 1, 1, bind_t_l, NULL, month_eval, true},
    {"dayofmonth", 1, 1, bind_t_l, NULL, day_eval, true},
    {"day", 1, 1, bind_t_l, NULL, day_eval, true},
    {"dayofweek", 1, 1, bind_t_l, NULL, dow_eval, true},
    {"dayofyear", 1, 1, bind_t_l, NULL, doy_eval, true},
    {"hour", 1, 1, bind_t_l, NULL, hour_eval, true},
    {"minute", 1, 1, bind_t_l, NULL, minute_eval, true},
    {"second", 1, 1, bind_t_l, NULL, second_eval, true},
    {"date_trunc", 2, 2, bind_trunc, NULL, trunc_eval, true},
    {"to_timestamp", 1, 2, bind_to_ts, fmt_prepare, to_ts_eval, true},
    {"unix_timestamp", 1, 2, bind_unix, fmt_prepare, unix_eval, true},
    {"from_unixtime", 1, 2, bind_from_unix, fmt_prepare, from_unix_eval, true},
    {NULL, 0, 0, NULL, NULL, NULL, false},
};
