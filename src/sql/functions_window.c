/*
 * window(ts, length[, slide[, start]]): the event-time windows that hold
 * ts, as Spark 3.5's TimeWindow, for the planner's window expansion
 * (plan_window.c), which explodes this array into one row per window.
 * Durations are constants, in milliseconds (sluice's timestamp unit).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/schema.h"
#include "sql/functions_int.h"

typedef struct win_state {
    int64_t len, slide, start;
} win_state;

static const struct wunit {
    const char *name;
    int64_t us;
} wunits[] = {{"microsecond", 1},       {"millisecond", 1000},
              {"second", 1000000},      {"minute", 60000000},
              {"hour", 3600000000LL},   {"day", 86400000000LL},
              {"week", 604800000000LL}, {NULL, 0}};

static const struct wunit *wunit_find(const char *s, size_t n)
{
    for (const struct wunit *u = wunits; u->name; u++) {
        size_t k = strlen(u->name);
        if ((n == k || (n == k + 1 && (s[k] | 0x20) == 's')) &&
            strncasecmp(s, u->name, k) == 0)
            return u;
    }
    return NULL;
}

/* Spark's interval string ('10 seconds', 'interval 1 hour 30 minutes')
 * in microseconds; months and years are refused as Spark's TimeWindow
 * does. false: not an interval. */
static bool parse_us(const char *s, size_t n, int64_t *us, bool *months)
{
    char buf[128], *p = buf, *end;
    bool any = false;
    *us = 0, *months = false;
    if (n >= sizeof buf)
        return false;
    memcpy(buf, s, n), buf[n] = '\0';
    p += strspn(p, " \t");
    if (!strncasecmp(p, "interval", 8) && (p[8] == ' ' || p[8] == '\t'))
        p += 8 + strspn(p + 8, " \t");
    while (*p) {
        long long v = strtoll(p, &end, 10);
        int64_t part;
        size_t k;
        const struct wunit *u;
        if (end == p)
            return false;
        p = end + strspn(end, " \t");
        k = strcspn(p, " \t");
        if (!(u = wunit_find(p, k))) {
            *months = (k >= 4 && !strncasecmp(p, "year", 4)) ||
                      (k >= 5 && !strncasecmp(p, "month", 5));
            return false;
        }
        if (__builtin_mul_overflow((int64_t)v, u->us, &part) ||
            __builtin_add_overflow(*us, part, us))
            return false;
        any = true;
        p += k;
        p += strspn(p, " \t");
    }
    return any;
}

/* Duration argument i (a string, or an INTERVAL literal's ms) in ms. */
static bool duration(const sl_value *v, const char *what, int64_t *ms,
                     sl__arena *a, const char **why)
{
    char *msg = sl__arena_alloc(a, 256);
    int64_t us;
    bool months = false;
    if (!v || v->kind == SL_KIND_NULL) {
        *why = "the window durations and start time must be constants";
        return false;
    }
    if (v->kind == SL_KIND_INT)
        return *ms = v->u.i, true;
    if (parse_us(v->u.s, v->len, &us, &months) && us % 1000 == 0)
        return *ms = us / 1000, true;
    if (!msg) {
        *why = "invalid interval";
        return false;
    }
    int len = (int)(v->len > 80 ? 80 : v->len);
    if (months)
        snprintf(msg, 256,
                 "Intervals greater than a month is not supported (%.*s): "
                 "the %s",
                 len, v->u.s, what);
    else if (parse_us(v->u.s, v->len, &us, &months))
        snprintf(msg, 256,
                 "the %s (%.*s) is finer than a millisecond, sluice's "
                 "timestamp precision",
                 what, len, v->u.s);
    else
        snprintf(msg, 256,
                 "The provided interval (%.*s) did not correspond to a valid "
                 "interval string: the %s",
                 len, v->u.s, what);
    *why = msg;
    return false;
}

/* Spark's TimeWindow checks: positive durations, slide <= length,
 * |start| < slide. */
static sl_status win_prepare(const sl_value *const *consts, size_t n,
                             sl__arena *a, void **state, const char **why)
{
    win_state *w = sl__arena_alloc(a, sizeof *w);
    char *msg = sl__arena_alloc(a, 200);
    if (!w || !msg)
        return SL_ENOMEM;
    w->start = 0;
    if (!duration(consts[1], "window duration", &w->len, a, why))
        return SL_EPARSE;
    w->slide = w->len;
    if (n > 2 && !duration(consts[2], "slide duration", &w->slide, a, why))
        return SL_EPARSE;
    if (n > 3 && !duration(consts[3], "start time", &w->start, a, why))
        return SL_EPARSE;
    if (w->len <= 0)
        snprintf(msg, 200,
                 "The window duration (%lld ms) must be greater "
                 "than 0.",
                 (long long)w->len);
    else if (w->slide <= 0)
        snprintf(msg, 200,
                 "The slide duration (%lld ms) must be greater "
                 "than 0.",
                 (long long)w->slide);
    else if (w->slide > w->len)
        snprintf(msg, 200,
                 "The slide duration (%lld ms) must be less than "
                 "or equal to the windowDuration (%lld ms).",
                 (long long)w->slide, (long long)w->len);
    else if (w->start <= -w->slide || w->start >= w->slide)
        snprintf(msg, 200,
                 "The absolute value of start time (%lld ms) must "
                 "be less than the slideDuration (%lld ms).",
                 (long long)w->start, (long long)w->slide);
    else
        return *state = w, SL_OK;
    *why = msg;
    return SL_EPARSE;
}

static const sl_type *win_bind(const sl_type *const *args, size_t n,
                               const sl_type **want, sl__arena *a,
                               const char **why)
{
    sl_schema *fields = NULL;
    const sl_type *t;
    if (!sl__fn_want(args, want, 0, SL_TYPE_TIMESTAMP, a, why))
        return NULL;
    for (size_t i = 1; i < n; i++)
        if (args[i]->id != SL_TYPE_LONG &&
            !sl__fn_want(args, want, i, SL_TYPE_STRING, a, why))
            return NULL;
    if (sl_schema_parse("`start` timestamp, `end` timestamp", &fields, NULL,
                        0) != SL_OK)
        return *why = "out of memory", NULL;
    t = sl__type_struct(a, fields);
    sl_schema_release(fields);
    return t ? sl__type_array(a, t) : (*why = "out of memory", NULL);
}

/* floor(a mod b) for b > 0, as Spark's lastStart computation. */
static int64_t floor_mod(int64_t a, int64_t b)
{
    int64_t r = a % b;
    return r < 0 ? r + b : r;
}

/*
 * Spark 3.5's TimeWindowing: lastStart = ts - (ts - start) floor-mod
 * slide, then windows lastStart - i * slide for i < ceil(len / slide),
 * kept when start <= ts < end (DataFrameTimeWindowingSuite "negative
 * timestamps", "millisecond precision sliding windows").
 */
static sl_status win_eval(const void *st, const sl_value *args, size_t n,
                          const sl_type *result, sl__arena *scratch,
                          sl_value *out)
{
    const win_state *w = st;
    int64_t ts = args[0].u.i, last, k = (w->len + w->slide - 1) / w->slide;
    sl_value *items, *pair;
    size_t m = 0;
    SL__UNUSED(n), SL__UNUSED(result);
    *out = sl_null();
    if (__builtin_sub_overflow(ts, floor_mod(ts - w->start, w->slide), &last))
        return SL_OK;
    items = sl__arena_alloc(scratch, (size_t)k * sizeof *items);
    pair = sl__arena_alloc(scratch, (size_t)k * 2 * sizeof *pair);
    if (!items || !pair)
        return SL_ENOMEM;
    for (int64_t i = 0; i < k; i++) {
        int64_t s, e;
        if (__builtin_mul_overflow(i, w->slide, &s) ||
            __builtin_sub_overflow(last, s, &s) ||
            __builtin_add_overflow(s, w->len, &e))
            continue;
        if (!(s <= ts && ts < e))
            continue;
        pair[2 * m] = sl_int(s), pair[2 * m + 1] = sl_int(e);
        items[m] = sl_composite(SL_KIND_TUPLE, &pair[2 * m], 2);
        m++;
    }
    *out = sl_composite(SL_KIND_LIST, items, m);
    return SL_OK;
}

/* Spark's SessionWindow with a constant gap: the gap must be positive
 * (Spark ignores rows whose gap is not; a constant one is the query's
 * mistake, so it is refused). */
static sl_status sess_prepare(const sl_value *const *consts, size_t n,
                              sl__arena *a, void **state, const char **why)
{
    win_state *w = sl__arena_alloc(a, sizeof *w);
    char *msg = sl__arena_alloc(a, 200);
    SL__UNUSED(n);
    if (!w || !msg)
        return SL_ENOMEM;
    w->start = w->slide = 0;
    if (!duration(consts[1], "session gap", &w->len, a, why)) {
        if (!consts[1] || consts[1]->kind == SL_KIND_NULL)
            *why = "the session window gap must be a constant";
        return SL_EPARSE;
    }
    if (w->len > 0)
        return *state = w, SL_OK;
    snprintf(msg, 200,
             "The session window gap (%lld ms) must be greater "
             "than 0.",
             (long long)w->len);
    *why = msg;
    return SL_EPARSE;
}

/* The row's own session [ts, ts + gap), as a one-item array (the
 * planner's expansion then keeps one row per input row, none for a NULL
 * ts); the aggregation merges overlapping ones (plan_session.c). */
static sl_status sess_eval(const void *st, const sl_value *args, size_t n,
                           const sl_type *result, sl__arena *scratch,
                           sl_value *out)
{
    const win_state *w = st;
    int64_t ts = args[0].u.i, end;
    sl_value *pair;
    SL__UNUSED(n), SL__UNUSED(result);
    *out = sl_null();
    if (__builtin_add_overflow(ts, w->len, &end))
        return SL_OK;
    if (!(pair = sl__arena_alloc(scratch, 3 * sizeof *pair)))
        return SL_ENOMEM;
    pair[0] = sl_int(ts), pair[1] = sl_int(end);
    pair[2] = sl_composite(SL_KIND_TUPLE, pair, 2);
    *out = sl_composite(SL_KIND_LIST, &pair[2], 1);
    return SL_OK;
}

const sl__sql_func sl__sql_funcs_window[] = {
    {"window", 2, 4, win_bind, win_prepare, win_eval, true},
    {"session_window", 2, 2, win_bind, sess_prepare, sess_eval, true},
    {NULL, 0, 0, NULL, NULL, NULL, false},
};
