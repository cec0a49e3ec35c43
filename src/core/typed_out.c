/*
 * Typed output of values (src/core/schema.h): JSON and Spark's show()
 * text of a value typed by its schema column, and timestamp text (ISO-8601
 * out, Spark's CAST(string AS timestamp) in), all in UTC. Scalars of an
 * untyped kind go through value.c's writers, so doubles read the same
 * everywhere.
 */
#include "core/schema.h"

#include <stdio.h>
#include <string.h>

#define MS_PER_DAY INT64_C(86400000)

/* ------------------------------------------------------------- civil */

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
 * days_from_civil), exact for every year an int64 of ms can reach. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    int64_t era, yoe, doy, doe;
    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    int64_t era, doe, yoe, doy, mp;
    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

typedef struct civil {
    int64_t year;
    int mon, day, hour, min, sec, ms;
} civil;

static civil civil_of_ms(int64_t ms)
{
    civil c;
    int64_t days = ms / MS_PER_DAY, rem = ms % MS_PER_DAY;
    if (rem < 0) { /* floor division: before 1970 counts back from a day */
        rem += MS_PER_DAY;
        days--;
    }
    civil_from_days(days, &c.year, &c.mon, &c.day);
    c.hour = (int)(rem / 3600000);
    c.min = (int)(rem / 60000 % 60);
    c.sec = (int)(rem / 1000 % 60);
    c.ms = (int)(rem % 1000);
    return c;
}

/* The year as Java's Instant.toString writes it: four digits, a sign
 * before years past 9999 or before year 0. */
static int put_year(char *out, int64_t y)
{
    if (y >= 0 && y <= 9999)
        return sprintf(out, "%04d", (int)y);
    return sprintf(out, "%s%04lld", y < 0 ? "-" : "+",
                   (long long)(y < 0 ? -y : y));
}

size_t sl__ts_format_iso(int64_t ms, char out[32])
{
    civil c = civil_of_ms(ms);
    int n = put_year(out, c.year);
    n += sprintf(out + n, "-%02d-%02dT%02d:%02d:%02d.%03dZ", c.mon, c.day,
                 c.hour, c.min, c.sec, c.ms);
    return (size_t)n;
}

/* Spark's CAST(timestamp AS STRING), which show() and CSV write: no
 * fraction when it is zero, else its digits without trailing zeros
 * ("09:30:00.1", "09:30:00.123"), as Spark 3.5's fractional formatter. */
static size_t ts_format_text(int64_t ms, char out[40])
{
    civil c = civil_of_ms(ms);
    int n = put_year(out, c.year);
    n += sprintf(out + n, "-%02d-%02d %02d:%02d:%02d", c.mon, c.day, c.hour,
                 c.min, c.sec);
    if (c.ms) {
        n += sprintf(out + n, ".%03d", c.ms);
        while (out[n - 1] == '0')
            n--;
        out[n] = '\0';
    }
    return (size_t)n;
}

/* ------------------------------------------------------ timestamp in */

typedef struct scan {
    const char *p, *end;
} scan;

/* min to max decimal digits into *v (a digit past max is left for the
 * caller, whose next expectation then fails on it). */
static bool digits(scan *s, int min, int max, int64_t *v)
{
    int k = 0;
    *v = 0;
    while (s->p < s->end && *s->p >= '0' && *s->p <= '9' && k < max) {
        *v = *v * 10 + (*s->p++ - '0');
        k++;
    }
    return k >= min;
}

static bool eat(scan *s, char c)
{
    if (s->p < s->end && *s->p == c) {
        s->p++;
        return true;
    }
    return false;
}

static bool leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int month_days(int64_t y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && leap(y) ? 29 : days[m - 1];
}

/* [h]h:[m]m[:[s]s[.fraction]] into ms of the day. */
static bool parse_time(scan *s, int64_t *ms)
{
    int64_t h, m, sec = 0, frac = 0, f;
    int k = 0;
    if (!digits(s, 1, 2, &h) || !eat(s, ':') || !digits(s, 1, 2, &m))
        return false;
    if (eat(s, ':')) {
        if (!digits(s, 1, 2, &sec))
            return false;
        if (eat(s, '.')) {
            /* Up to nanoseconds are read (Spark keeps microseconds);
             * sluice keeps milliseconds, the rest truncated. */
            for (; s->p < s->end && *s->p >= '0' && *s->p <= '9'; k++) {
                f = *s->p++ - '0';
                if (k < 3)
                    frac = frac * 10 + f;
            }
            if (k == 0 || k > 9)
                return false;
            for (; k < 3; k++)
                frac *= 10;
        }
    }
    if (h > 23 || m > 59 || sec > 59)
        return false;
    *ms = ((h * 60 + m) * 60 + sec) * 1000 + frac;
    return true;
}

/* Z, UTC, GMT, UT, or [UTC|GMT|UT]+HH[:MM] / +HHMM / +H: the offset east
 * of UTC in ms (Spark's zone forms bar region ids, which need a zone
 * database; sluice is UTC throughout). */
static bool parse_zone(scan *s, int64_t *off)
{
    static const char *const names[] = {"UTC", "GMT", "UT", "Z"};
    int64_t h, m = 0, sign;
    size_t i, n;
    *off = 0;
    for (i = 0; i < 4; i++) {
        n = strlen(names[i]);
        if ((size_t)(s->end - s->p) >= n && memcmp(s->p, names[i], n) == 0) {
            s->p += n;
            break;
        }
    }
    if (s->p == s->end)
        return true;
    if (i == 3 || (*s->p != '+' && *s->p != '-'))
        return false; /* nothing may follow a Z */
    sign = *s->p++ == '-' ? -1 : 1;
    if (!digits(s, 1, 2, &h))
        return false;
    if (eat(s, ':')) {
        if (!digits(s, 2, 2, &m))
            return false;
    } else if (s->p < s->end && !digits(s, 2, 2, &m)) {
        return false;
    }
    if (h > 18 || m > 59 || (h == 18 && m))
        return false;
    *off = sign * (h * 60 + m) * 60000;
    return s->p == s->end;
}

/* yyyy[-[m]m[-[d]d]] (4 to 6 year digits, as Spark's stringToTimestamp)
 * into days since the epoch. */
static bool parse_date(scan *s, int64_t *days)
{
    int64_t y, m = 1, d = 1;
    if (!digits(s, 4, 6, &y))
        return false;
    if (eat(s, '-')) {
        if (!digits(s, 1, 2, &m))
            return false;
        if (eat(s, '-') && !digits(s, 1, 2, &d))
            return false;
    }
    if (m < 1 || m > 12 || d < 1 || d > month_days(y, (int)m))
        return false;
    *days = days_from_civil(y, (int)m, (int)d);
    return true;
}

/* The two digits at s as a number, or -1. */
static int two_digits(const char *s)
{
    if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9')
        return -1;
    return (s[0] - '0') * 10 + (s[1] - '0');
}

/* yyyy-mm-ddThh:mm:ss.mmmZ, the form feeds send, read without the
 * general scanner (a quote's timestamp was a few percent of a feed's
 * time); false for any other text, which the scanner then reads. */
static bool ts_parse_iso_ms(const char *s, size_t n, int64_t *ms)
{
    int y1, y2, mo, d, h, mi, sec, f1, f2;
    if (n != 24 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
        s[16] != ':' || s[19] != '.' || s[23] != 'Z')
        return false;
    y1 = two_digits(s), y2 = two_digits(s + 2), mo = two_digits(s + 5);
    d = two_digits(s + 8), h = two_digits(s + 11), mi = two_digits(s + 14);
    sec = two_digits(s + 17), f1 = two_digits(s + 20), f2 = two_digits(s + 21);
    if ((y1 | y2 | mo | d | h | mi | sec | f1 | f2) < 0 || mo < 1 || mo > 12 ||
        d < 1 || d > month_days(y1 * 100 + y2, mo) || h > 23 || mi > 59 ||
        sec > 59)
        return false;
    *ms = days_from_civil(y1 * 100 + y2, mo, d) * MS_PER_DAY +
          ((h * 60 + mi) * 60 + sec) * 1000 + f1 * 10 + (s[22] - '0');
    return true;
}

bool sl__ts_parse(const char *str, size_t n, int64_t *ms)
{
    scan s = {str, str + n};
    int64_t days, tod = 0, off = 0;
    if (ts_parse_iso_ms(str, n, ms))
        return true;
    /* Spark trims whitespace around the text before reading it. */
    while (s.p < s.end && sl__is_space((unsigned char)*s.p))
        s.p++;
    while (s.end > s.p && sl__is_space((unsigned char)s.end[-1]))
        s.end--;
    if (!parse_date(&s, &days))
        return false;
    if (s.p < s.end && (*s.p == ' ' || *s.p == 'T')) {
        s.p++;
        if (s.p < s.end && !parse_time(&s, &tod))
            return false;
        while (s.p < s.end && *s.p == ' ')
            s.p++; /* "2024-01-02 09:30:00 UTC" */
        if (s.p < s.end && !parse_zone(&s, &off))
            return false;
    }
    if (s.p != s.end)
        return false;
    *ms = days * MS_PER_DAY + tod - off;
    return true;
}

/* --------------------------------------------------------------- JSON */

/* v through value.c's JSON writer (the console json format's doubles,
 * base64 bytes, arrays for composites): a value whose kind its type does
 * not expect is written as JSON of its kind. */
static sl_status put_untyped(sl__buf *out, const sl_value *v, bool text)
{
    char tmp[64]; /* a scalar fits: formatted once (a double's shortest
                   * text is the costly part), not measured first */
    size_t n = text ? sl_value_format(v, tmp, sizeof tmp)
                    : sl_value_format_json(v, tmp, sizeof tmp);
    sl_status st;
    if (n < sizeof tmp)
        return sl__buf_append(out, tmp, n);
    st = sl__buf_reserve(out, n + 1);
    if (st != SL_OK)
        return st;
    if (text)
        sl_value_format(v, out->data + out->len, n + 1);
    else
        sl_value_format_json(v, out->data + out->len, n + 1);
    out->len += n;
    return SL_OK;
}

static sl_status put(sl__buf *out, const char *s)
{
    return sl__buf_append(out, s, strlen(s));
}

static sl_status put_json_name(sl__buf *out, const char *name)
{
    size_t len = strlen(name), n = sl__json_escape(NULL, name, len, NULL);
    sl_status st = sl__buf_reserve(out, n + 3);
    if (st != SL_OK)
        return st;
    out->data[out->len++] = '"';
    out->len += sl__json_escape(out->data + out->len, name, len, NULL);
    out->data[out->len++] = '"';
    out->data[out->len++] = ':';
    return SL_OK;
}

static sl_status json_struct(sl__buf *out, const sl_schema *f,
                             const sl_value *v)
{
    sl_status st = put(out, "{");
    size_t i;
    for (i = 0; st == SL_OK && i < v->len; i++) {
        if (i)
            st = put(out, ",");
        if (st == SL_OK)
            st = put_json_name(out, sl_schema_name(f, i));
        if (st == SL_OK)
            st = sl__json_put_typed(out, sl_schema_type(f, i), &v->u.items[i]);
    }
    return st == SL_OK ? put(out, "}") : st;
}

static sl_status json_array(sl__buf *out, const sl_type *el, const sl_value *v)
{
    sl_status st = put(out, "[");
    size_t i;
    for (i = 0; st == SL_OK && i < v->len; i++) {
        if (i)
            st = put(out, ",");
        if (st == SL_OK)
            st = sl__json_put_typed(out, el, &v->u.items[i]);
    }
    return st == SL_OK ? put(out, "]") : st;
}

sl_status sl__json_put_typed(sl__buf *out, const sl_type *t, const sl_value *v)
{
    char ts[40];
    size_t n;
    if (!t)
        return put_untyped(out, v, false);
    if (t->id == SL_TYPE_TIMESTAMP && v->kind == SL_KIND_INT) {
        ts[0] = '"';
        n = sl__ts_format_iso(v->u.i, ts + 1);
        ts[n + 1] = '"';
        return sl__buf_append(out, ts, n + 2);
    }
    if (t->id == SL_TYPE_STRUCT && v->kind == SL_KIND_TUPLE &&
        v->len == sl_schema_size(t->fields))
        return json_struct(out, t->fields, v);
    if (t->id == SL_TYPE_ARRAY && v->kind == SL_KIND_LIST)
        return json_array(out, t->element, v);
    return put_untyped(out, v, false);
}

sl_status sl__json_put_row(sl__buf *out, const sl_schema *s,
                           const sl_value *row)
{
    sl_type t = {SL_TYPE_STRUCT, NULL, s};
    return sl__json_put_typed(out, &t, row);
}

/* --------------------------------------------------------------- text */

/* Spark 3.5's show() writes binary as its bytes in hex, "[01 AB]". */
static sl_status text_binary(sl__buf *out, const sl_value *v)
{
    static const char hex[] = "0123456789ABCDEF";
    const unsigned char *p = (const unsigned char *)v->u.s;
    size_t i;
    sl_status st = sl__buf_reserve(out, 2 + 3 * (size_t)v->len);
    if (st != SL_OK)
        return st;
    out->data[out->len++] = '[';
    for (i = 0; i < v->len; i++) {
        if (i)
            out->data[out->len++] = ' ';
        out->data[out->len++] = hex[p[i] >> 4];
        out->data[out->len++] = hex[p[i] & 15];
    }
    out->data[out->len++] = ']';
    return SL_OK;
}

static sl_status text_typed(sl__buf *out, const sl_type *t, const sl_value *v,
                            bool nested);

/* "[a, b]" or "{a, b}": Spark's CAST of an array or struct to string,
 * with nested NULLs as "null" (spark.sql.legacy.castComplexTypesToString
 * off, the 3.x default). */
static sl_status text_items(sl__buf *out, const sl_type *t, const sl_value *v)
{
    bool array = t->id == SL_TYPE_ARRAY;
    sl_status st = put(out, array ? "[" : "{");
    size_t i;
    for (i = 0; st == SL_OK && i < v->len; i++) {
        if (i)
            st = put(out, ", ");
        if (st == SL_OK)
            st = text_typed(out,
                            array ? t->element : sl_schema_type(t->fields, i),
                            &v->u.items[i], true);
    }
    return st == SL_OK ? put(out, array ? "]" : "}") : st;
}

static sl_status text_typed(sl__buf *out, const sl_type *t, const sl_value *v,
                            bool nested)
{
    char ts[40];
    if (v->kind == SL_KIND_NULL)
        return put(out, nested ? "null" : "NULL");
    if (!t)
        return put_untyped(out, v, true);
    if (t->id == SL_TYPE_TIMESTAMP && v->kind == SL_KIND_INT)
        return sl__buf_append(out, ts, ts_format_text(v->u.i, ts));
    if (t->id == SL_TYPE_BINARY && v->kind == SL_KIND_BYTES)
        return text_binary(out, v);
    if ((t->id == SL_TYPE_ARRAY && v->kind == SL_KIND_LIST) ||
        (t->id == SL_TYPE_STRUCT && v->kind == SL_KIND_TUPLE &&
         v->len == sl_schema_size(t->fields)))
        return text_items(out, t, v);
    /* Doubles as Java's Double.toString (value.c), strings as they are. */
    return put_untyped(out, v, true);
}

sl_status sl__text_put_typed(sl__buf *out, const sl_type *t, const sl_value *v)
{
    return text_typed(out, t, v, false);
}
