/*
 * The built-in per-record functions (include/sluice/functions.h): the one
 * implementation of each function of docs/job-file.md's table. Job files
 * call these after their own argument checks (src/job/functions.c); C
 * programs pass them to operators directly.
 */
#include <sluice/functions.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/core.h"
#include "rdd/rdd.h"

/* ------------------------------------------------------------- helpers */

/*
 * Fail the task: "NAME: WHAT, got VALUE" with the value shortened, and
 * return SL_ETYPE. Called outside a task (t NULL, as a reduce function may
 * be), only the status tells.
 */
static sl_status bad_value(sl_task *t, const char *name, const char *what,
                           const sl_value *v)
{
    char text[96];
    size_t n;
    if (!t)
        return SL_ETYPE;
    n = sl_value_format_json(v, text, sizeof text);
    if (n >= sizeof text)
        memcpy(text + sizeof text - 4, "...", 4);
    sl_task_fail(t, "%s: %s, got %s", name, what, text);
    return SL_ETYPE;
}

/* A function's argument (user) when it is given, else NULL after failing
 * the task; the caller then returns SL_EINVAL. */
static const sl_value *argument(sl_task *t, const char *name, void *user)
{
    if (!user && t)
        sl_task_fail(t, "%s: needs its argument (user = a const sl_value *)",
                     name);
    return user;
}

static bool as_double(const sl_value *v, double *out)
{
    if (v->kind == SL_KIND_INT)
        *out = (double)v->u.i;
    else if (v->kind == SL_KIND_DOUBLE)
        *out = v->u.d;
    else
        return false;
    return true;
}

/* Integer arithmetic wraps as Java's long does. */
static sl_status arith(sl_task *t, const char *name, const sl_value *a,
                       const sl_value *b, char op, sl_value *out)
{
    double x, y;
    if (a->kind == SL_KIND_INT && b->kind == SL_KIND_INT) {
        uint64_t p = (uint64_t)a->u.i, q = (uint64_t)b->u.i;
        *out = sl_int((int64_t)(op == '+' ? p + q : op == '-' ? p - q : p * q));
        return SL_OK;
    }
    if (!as_double(a, &x))
        return bad_value(t, name, "needs a number", a);
    if (!as_double(b, &y))
        return bad_value(t, name, "needs a number", b);
    *out = sl_double(op == '+' ? x + y : op == '-' ? x - y : x * y);
    return SL_OK;
}

/* A string result of n bytes must fit a value's 32-bit length. */
static sl_status check_len(sl_task *t, const char *name, uint64_t n,
                           const sl_value *in)
{
    char what[64];
    if (n <= UINT32_MAX)
        return SL_OK;
    snprintf(what, sizeof what, "result of %llu bytes (4 GiB or more)",
             (unsigned long long)n);
    return bad_value(t, name, what, in);
}

/* ------------------------------------------------------- map functions */

sl_status sl_fn_identity(sl_task *t, const sl_value *in, sl_value *out,
                         void *user)
{
    SL__UNUSED(t);
    SL__UNUSED(user);
    *out = *in;
    return SL_OK;
}

sl_status sl_fn_pair_one(sl_task *t, const sl_value *in, sl_value *out,
                         void *user)
{
    sl_value one = sl_int(1);
    SL__UNUSED(user);
    return sl_task_pair(t, in, &one, out);
}

sl_status sl_fn_pair_with(sl_task *t, const sl_value *in, sl_value *out,
                          void *user)
{
    const sl_value *arg = argument(t, "sl_fn_pair_with", user);
    return arg ? sl_task_pair(t, in, arg, out) : SL_EINVAL;
}

sl_status sl_fn_swap(sl_task *t, const sl_value *in, sl_value *out, void *user)
{
    SL__UNUSED(user);
    if (in->kind != SL_KIND_PAIR)
        return bad_value(t, "sl_fn_swap", "needs a pair", in);
    return sl_task_pair(t, sl_pair_value(in), sl_pair_key(in), out);
}

sl_status sl_fn_key(sl_task *t, const sl_value *in, sl_value *out, void *user)
{
    SL__UNUSED(user);
    if (in->kind != SL_KIND_PAIR)
        return bad_value(t, "sl_fn_key", "needs a pair", in);
    *out = *sl_pair_key(in);
    return SL_OK;
}

sl_status sl_fn_value(sl_task *t, const sl_value *in, sl_value *out, void *user)
{
    SL__UNUSED(user);
    if (in->kind != SL_KIND_PAIR)
        return bad_value(t, "sl_fn_value", "needs a pair", in);
    *out = *sl_pair_value(in);
    return SL_OK;
}

static sl_status change_case(sl_task *t, const char *name, const sl_value *in,
                             sl_value *out, bool upper)
{
    char *p;
    uint32_t i;
    if (in->kind != SL_KIND_STR)
        return bad_value(t, name, "needs a string", in);
    if (!(p = sl_task_alloc(t, in->len ? in->len : 1)))
        return SL_ENOMEM;
    for (i = 0; i < in->len; i++) {
        char c = in->u.s[i];
        if (upper && c >= 'a' && c <= 'z')
            c = (char)(c - 'a' + 'A');
        else if (!upper && c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        p[i] = c;
    }
    *out = sl_str(p, in->len);
    return SL_OK;
}

sl_status sl_fn_lower(sl_task *t, const sl_value *in, sl_value *out, void *user)
{
    SL__UNUSED(user);
    return change_case(t, "sl_fn_lower", in, out, false);
}

sl_status sl_fn_upper(sl_task *t, const sl_value *in, sl_value *out, void *user)
{
    SL__UNUSED(user);
    return change_case(t, "sl_fn_upper", in, out, true);
}

sl_status sl_fn_to_number(sl_task *t, const sl_value *in, sl_value *out,
                          void *user)
{
    SL__UNUSED(user);
    if (in->kind == SL_KIND_INT || in->kind == SL_KIND_DOUBLE) {
        *out = *in;
        return SL_OK;
    }
    if (in->kind == SL_KIND_STR) {
        sl_status st = sl_parse_number(in->u.s, in->len, out);
        if (st == SL_OK || st == SL_ENOMEM)
            return st;
    }
    return bad_value(t, "sl_fn_to_number",
                     "needs a number or a string holding one", in);
}

sl_status sl_fn_to_string(sl_task *t, const sl_value *in, sl_value *out,
                          void *user)
{
    char *p;
    size_t n;
    sl_status st;
    SL__UNUSED(user);
    if (in->kind == SL_KIND_STR) {
        *out = *in;
        return SL_OK;
    }
    n = sl_value_format(in, NULL, 0);
    if ((st = check_len(t, "sl_fn_to_string", n, in)) != SL_OK)
        return st;
    if (!(p = sl_task_alloc(t, n + 1)))
        return SL_ENOMEM;
    sl_value_format(in, p, n + 1);
    *out = sl_str(p, n);
    return SL_OK;
}

sl_status sl_fn_add(sl_task *t, const sl_value *in, sl_value *out, void *user)
{
    const sl_value *arg = argument(t, "sl_fn_add", user);
    return arg ? arith(t, "sl_fn_add", in, arg, '+', out) : SL_EINVAL;
}

sl_status sl_fn_multiply(sl_task *t, const sl_value *in, sl_value *out,
                         void *user)
{
    const sl_value *arg = argument(t, "sl_fn_multiply", user);
    return arg ? arith(t, "sl_fn_multiply", in, arg, '*', out) : SL_EINVAL;
}

sl_status sl_fn_repeat(sl_task *t, const sl_value *in, sl_value *out,
                       void *user)
{
    const sl_value *arg = argument(t, "sl_fn_repeat", user);
    size_t n, i;
    char *p;
    if (!arg)
        return SL_EINVAL;
    if (arg->kind != SL_KIND_INT || arg->u.i < 0)
        return bad_value(t, "sl_fn_repeat",
                         "needs an integer of 0 or more as its argument", arg);
    if (in->kind != SL_KIND_STR)
        return bad_value(t, "sl_fn_repeat", "needs a string", in);
    /* Checked before the multiplication can wrap; "" repeated any number
     * of times is "" (and takes no loop). */
    if (in->len && (uint64_t)arg->u.i > UINT32_MAX / in->len)
        return bad_value(t, "sl_fn_repeat", "result of 4 GiB or more", in);
    n = in->len ? (size_t)arg->u.i : 0;
    if (!(p = sl_task_alloc(t, in->len * n + 1)))
        return SL_ENOMEM;
    for (i = 0; i < n; i++)
        memcpy(p + i * in->len, in->u.s, in->len);
    *out = sl_str(p, in->len * n);
    return SL_OK;
}

/* -------------------------------------------------- flat_map functions */

sl_status sl_fn_split_words(sl_task *t, const sl_value *in, void *user)
{
    const char *p, *end, *w;
    size_t len;
    SL__UNUSED(user);
    if (in->kind != SL_KIND_STR)
        return bad_value(t, "sl_fn_split_words", "needs a string", in);
    p = in->u.s;
    end = p + in->len;
    while (sl__next_word(&p, end, &w, &len)) {
        sl_value word = sl_str(w, len);
        sl_status st = sl_task_emit(t, &word);
        if (st != SL_OK)
            return st;
    }
    return SL_OK;
}

sl_status sl_fn_flatten(sl_task *t, const sl_value *in, void *user)
{
    uint32_t i;
    sl_status st;
    SL__UNUSED(user);
    if (in->kind != SL_KIND_LIST && in->kind != SL_KIND_TUPLE &&
        in->kind != SL_KIND_PAIR)
        return bad_value(t, "sl_fn_flatten", "needs a list, tuple or pair", in);
    for (i = 0; i < in->len; i++)
        if ((st = sl_task_emit(t, &in->u.items[i])) != SL_OK)
            return st;
    return SL_OK;
}

sl_status sl_fn_fanout(sl_task *t, const sl_value *in, void *user)
{
    const sl_fanout *f = user;
    sl_value out;
    sl_status st;
    size_t i;
    if (!f || (f->n && !f->calls)) {
        if (t)
            sl_task_fail(t, "sl_fn_fanout: needs its argument "
                            "(user = a const sl_fanout *)");
        return SL_EINVAL;
    }
    for (i = 0; i < f->n; i++) {
        if ((st = f->calls[i].fn(t, in, &out, f->calls[i].user)) != SL_OK)
            return st;
        if ((st = sl_task_emit(t, &out)) != SL_OK)
            return st;
    }
    return SL_OK;
}

/* ---------------------------------------------------------- predicates */

/* An int and a double by value, exactly (no rounding of the int). */
static int int_vs_double(int64_t i, double d)
{
    if (d >= 9223372036854775808.0)
        return -1;
    if (d < -9223372036854775808.0)
        return 1;
    if ((double)(int64_t)d == d) /* integral and in range: as ints */
        return (i > (int64_t)d) - (i < (int64_t)d);
    /* d has a fraction: compare with its floor */
    return i <= (int64_t)floor(d) ? -1 : 1;
}

bool sl_value_order(const sl_value *a, const sl_value *b, int *out)
{
    double x, y;
    if (!a || !b || !out)
        return false;
    if (a->kind == SL_KIND_INT && b->kind == SL_KIND_INT) {
        *out = (a->u.i > b->u.i) - (a->u.i < b->u.i);
        return true;
    }
    if (a->kind == SL_KIND_INT && b->kind == SL_KIND_DOUBLE && !isnan(b->u.d)) {
        *out = int_vs_double(a->u.i, b->u.d);
        return true;
    }
    if (a->kind == SL_KIND_DOUBLE && b->kind == SL_KIND_INT && !isnan(a->u.d)) {
        *out = -int_vs_double(b->u.i, a->u.d);
        return true;
    }
    if (as_double(a, &x) && as_double(b, &y)) {
        if (isnan(x) || isnan(y))
            return false;
        *out = (x > y) - (x < y);
        return true;
    }
    if (a->kind == SL_KIND_STR && b->kind == SL_KIND_STR) {
        size_t n = a->len < b->len ? a->len : b->len;
        int c = n ? memcmp(a->u.s, b->u.s, n) : 0;
        *out = c ? (c > 0) - (c < 0) : (a->len > b->len) - (a->len < b->len);
        return true;
    }
    return false;
}

bool sl_fn_eq(const sl_value *in, void *user)
{
    int c;
    if (!user)
        return false;
    if (sl_value_order(in, user, &c))
        return c == 0;
    return sl_value_equal(in, user);
}

bool sl_fn_ne(const sl_value *in, void *user)
{
    return user && !sl_fn_eq(in, user);
}

bool sl_fn_lt(const sl_value *in, void *user)
{
    int c;
    return sl_value_order(in, user, &c) && c < 0;
}

bool sl_fn_le(const sl_value *in, void *user)
{
    int c;
    return sl_value_order(in, user, &c) && c <= 0;
}

bool sl_fn_gt(const sl_value *in, void *user)
{
    int c;
    return sl_value_order(in, user, &c) && c > 0;
}

bool sl_fn_ge(const sl_value *in, void *user)
{
    int c;
    return sl_value_order(in, user, &c) && c >= 0;
}

bool sl_fn_even(const sl_value *in, void *user)
{
    SL__UNUSED(user);
    return in->kind == SL_KIND_INT && in->u.i % 2 == 0;
}

bool sl_fn_odd(const sl_value *in, void *user)
{
    SL__UNUSED(user);
    return in->kind == SL_KIND_INT && in->u.i % 2 != 0;
}

/* ----------------------------------------------------- reduce functions */

sl_status sl_fn_sum(sl_task *t, const sl_value *a, const sl_value *b,
                    sl_value *out, void *user)
{
    SL__UNUSED(user);
    return arith(t, "sl_fn_sum", a, b, '+', out);
}

sl_status sl_fn_subtract(sl_task *t, const sl_value *a, const sl_value *b,
                         sl_value *out, void *user)
{
    SL__UNUSED(user);
    return arith(t, "sl_fn_subtract", a, b, '-', out);
}

static sl_status min_max(sl_task *t, const char *name, const sl_value *a,
                         const sl_value *b, sl_value *out, bool want_max)
{
    int c;
    if (!sl_value_order(a, b, &c)) {
        if (a->kind != SL_KIND_INT && a->kind != SL_KIND_DOUBLE &&
            a->kind != SL_KIND_STR)
            return bad_value(t, name, "needs numbers or strings", a);
        return bad_value(t, name, "needs numbers or strings alike", b);
    }
    *out = (want_max ? c >= 0 : c <= 0) ? *a : *b;
    return SL_OK;
}

sl_status sl_fn_min(sl_task *t, const sl_value *a, const sl_value *b,
                    sl_value *out, void *user)
{
    SL__UNUSED(user);
    return min_max(t, "sl_fn_min", a, b, out, false);
}

sl_status sl_fn_max(sl_task *t, const sl_value *a, const sl_value *b,
                    sl_value *out, void *user)
{
    SL__UNUSED(user);
    return min_max(t, "sl_fn_max", a, b, out, true);
}

sl_status sl_fn_first(sl_task *t, const sl_value *a, const sl_value *b,
                      sl_value *out, void *user)
{
    SL__UNUSED(t);
    SL__UNUSED(b);
    SL__UNUSED(user);
    *out = *a;
    return SL_OK;
}

sl_status sl_fn_last(sl_task *t, const sl_value *a, const sl_value *b,
                     sl_value *out, void *user)
{
    SL__UNUSED(t);
    SL__UNUSED(a);
    SL__UNUSED(user);
    *out = *b;
    return SL_OK;
}
