/*
 * INTERVAL literals of the SQL parser: INTERVAL '10' SECONDS, INTERVAL 1
 * MINUTE, INTERVAL 1 HOUR 30 MINUTES, INTERVAL '10 seconds'. sluice has
 * day-time intervals only (no months or years, whose length varies):
 * the value is a long of milliseconds (a week is 7 days, a day 24 hours).
 */
#include "sql/parser_int.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const struct unit {
    const char *name;
    int64_t ms;
} units[] = {{"millisecond", 1}, {"second", 1000},  {"minute", 60000},
             {"hour", 3600000},  {"day", 86400000}, {"week", 604800000},
             {NULL, 0}};

/* The unit named by the n bytes at s (singular or plural), or NULL. */
static const struct unit *find_unit(const char *s, size_t n)
{
    for (const struct unit *u = units; u->name; u++) {
        size_t k = strlen(u->name);
        if ((n == k || (n == k + 1 && (s[k] | 0x20) == 's')) &&
            strncasecmp(s, u->name, k) == 0)
            return u;
    }
    return NULL;
}

#define UNITS "MILLISECOND, SECOND, MINUTE, HOUR, DAY or WEEK"

/* Add v units to *ms; SL_EPARSE at off on overflow. */
static sl_status add(sl__sql_parser *p, size_t off, int64_t v,
                     const struct unit *u, int64_t *ms)
{
    int64_t part;
    if (__builtin_mul_overflow(v, u->ms, &part) ||
        __builtin_add_overflow(*ms, part, ms))
        return sl__sql_error_set(p->e, off, "interval out of range");
    return SL_OK;
}

/* The string form: '10', '-5' (a unit follows) or '1 hour 30 minutes'. */
static sl_status from_string(sl__sql_parser *p, const sl__sql_token *t,
                             int64_t *v, bool *has_units, int64_t *ms)
{
    const char *s = t->s;
    char *end;
    const struct unit *u;
    size_t n;

    *has_units = false;
    while (*s) {
        long long x = strtoll(s, &end, 10);
        if (end == s)
            goto bad;
        s = end + strspn(end, " \t");
        if (!*s && !*has_units) {
            *v = x;
            return SL_OK;
        }
        n = strcspn(s, " \t");
        if (!(u = find_unit(s, n)))
            goto bad;
        *has_units = true;
        if (add(p, t->offset, x, u, ms))
            return SL_EPARSE;
        s += n;
        s += strspn(s, " \t");
    }
    if (*has_units)
        return SL_OK;
bad:
    return sl__sql_error_set(p->e, t->offset,
                             "invalid interval '%.60s': expected a whole "
                             "number and a unit (" UNITS ")",
                             t->s);
}

/* One value: a long, -long, or a string. */
static sl_status value(sl__sql_parser *p, int64_t *v, bool *done, int64_t *ms)
{
    sl__sql_token *t = &p->tok[0];
    bool neg = sl__sql_p_is(p, "-");
    sl_status st;

    *done = false;
    if (neg && (st = sl__sql_p_next(p)))
        return st;
    if (t->kind == SL__TK_LONG)
        *v = neg ? -t->l : t->l;
    else if (t->kind == SL__TK_STRING && !neg) {
        if ((st = from_string(p, t, v, done, ms)))
            return st;
    } else
        return sl__sql_p_expected(p, "a whole number or a string after "
                                     "INTERVAL");
    return sl__sql_p_next(p);
}

sl_status sl__sql_p_interval(sl__sql_parser *p, sl__sql_expr **out)
{
    size_t off = p->tok[0].offset;
    int64_t ms = 0, v = 0;
    const struct unit *u;
    bool done;
    sl_status st = sl__sql_p_next(p);

    do {
        size_t voff = p->tok[0].offset;
        if (st || (st = value(p, &v, &done, &ms)))
            return st;
        if (done)
            break;
        u = p->tok[0].kind == SL__TK_IDENT
                ? find_unit(p->lx.text + p->tok[0].offset, p->tok[0].len)
                : NULL;
        if (!u)
            return sl__sql_p_expected(p, "an interval unit (" UNITS ")");
        if ((st = add(p, voff, v, u, &ms)) || (st = sl__sql_p_next(p)))
            return st;
    } while (p->tok[0].kind == SL__TK_LONG || p->tok[0].kind == SL__TK_STRING);
    if (!(*out = sl__sql_p_mk(p, SL__SQL_INTERVAL, off, 0)))
        return SL_ENOMEM;
    (*out)->value = sl_int(ms);
    (*out)->type = NULL;
    (*out)->end = p->prev_end;
    return SL_OK;
}
