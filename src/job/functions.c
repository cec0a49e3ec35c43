/*
 * The built-in functions of job files: the registry (name, kind, argument)
 * and their code. A job_fn (registry row + argument + "on") is the user
 * pointer of the operator it serves; a value of a kind a function cannot
 * handle fails the task with a message naming the function and the value.
 */
#include "job/job_int.h"

#include <sluice/functions.h>

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------- helpers */

/* Fail the task: "NAME: WHAT, got VALUE" with the value shortened. */
static sl_status fn_fail(sl_task *t, const job_fn *f, const char *what,
                         const sl_value *v)
{
    char text[96];
    size_t n = sl_value_format_json(v, text, sizeof text);
    if (n >= sizeof text)
        memcpy(text + sizeof text - 4, "...", 4);
    return sl_task_fail(t, "function %s: %s, got %s", f->def->info.name, what,
                        text);
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

static bool is_number(const sl_value *v)
{
    return v->kind == SL_KIND_INT || v->kind == SL_KIND_DOUBLE;
}

/*
 * Order of two values for comparisons: numbers by value, strings
 * byte-wise. False when they are not comparable (other or mixed kinds).
 */
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
    {
        double f = floor(d);
        int64_t fi = (int64_t)f;
        return i <= fi ? -1 : 1;
    }
}

static bool order(const sl_value *a, const sl_value *b, int *out)
{
    double x, y;
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

/* The part of in that f looks at ("on"), or NULL when in is no pair. */
static const sl_value *part(const job_fn *f, const sl_value *in)
{
    if (f->on == ON_ELEMENT)
        return in;
    if (in->kind != SL_KIND_PAIR)
        return NULL;
    return f->on == ON_KEY ? sl_pair_key(in) : sl_pair_value(in);
}

static sl_status need_pair(sl_task *t, const job_fn *f, const sl_value *in)
{
    return fn_fail(t, f, "needs a pair", in);
}

/* Integer arithmetic wraps as Java's long does. */
static sl_status arith(sl_task *t, const job_fn *f, const sl_value *a,
                       const sl_value *b, char op, sl_value *out)
{
    double x, y;
    if (a->kind == SL_KIND_INT && b->kind == SL_KIND_INT) {
        uint64_t p = (uint64_t)a->u.i, q = (uint64_t)b->u.i;
        *out = sl_int((int64_t)(op == '+' ? p + q : op == '-' ? p - q : p * q));
        return SL_OK;
    }
    if (!as_double(a, &x))
        return fn_fail(t, f, "needs a number", a);
    if (!as_double(b, &y))
        return fn_fail(t, f, "needs a number", b);
    *out = sl_double(op == '+' ? x + y : op == '-' ? x - y : x * y);
    return SL_OK;
}

/* ------------------------------------------------------- map functions */

static sl_status f_identity(sl_task *t, const job_fn *f, const sl_value *in,
                            sl_value *out)
{
    SL__UNUSED(t);
    SL__UNUSED(f);
    *out = *in;
    return SL_OK;
}

static sl_status f_pair_one(sl_task *t, const job_fn *f, const sl_value *in,
                            sl_value *out)
{
    sl_value one = sl_int(1);
    SL__UNUSED(f);
    return sl_task_pair(t, in, &one, out);
}

static sl_status f_pair_with(sl_task *t, const job_fn *f, const sl_value *in,
                             sl_value *out)
{
    return sl_task_pair(t, in, &f->arg, out);
}

static sl_status f_swap(sl_task *t, const job_fn *f, const sl_value *in,
                        sl_value *out)
{
    if (in->kind != SL_KIND_PAIR)
        return need_pair(t, f, in);
    return sl_task_pair(t, sl_pair_value(in), sl_pair_key(in), out);
}

static sl_status f_key(sl_task *t, const job_fn *f, const sl_value *in,
                       sl_value *out)
{
    if (in->kind != SL_KIND_PAIR)
        return need_pair(t, f, in);
    *out = *sl_pair_key(in);
    return SL_OK;
}

static sl_status f_value(sl_task *t, const job_fn *f, const sl_value *in,
                         sl_value *out)
{
    if (in->kind != SL_KIND_PAIR)
        return need_pair(t, f, in);
    *out = *sl_pair_value(in);
    return SL_OK;
}

static sl_status change_case(sl_task *t, const job_fn *f, const sl_value *in,
                             sl_value *out, bool upper)
{
    char *p;
    uint32_t i;
    if (in->kind != SL_KIND_STR)
        return fn_fail(t, f, "needs a string", in);
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

static sl_status f_lower(sl_task *t, const job_fn *f, const sl_value *in,
                         sl_value *out)
{
    return change_case(t, f, in, out, false);
}

static sl_status f_upper(sl_task *t, const job_fn *f, const sl_value *in,
                         sl_value *out)
{
    return change_case(t, f, in, out, true);
}

/* A whole string as an integer, else as a finite double. */
static bool parse_number(const char *s, size_t len, sl_value *out)
{
    char buf[64], *end;
    long long i;
    double d;
    if (len == 0 || len >= sizeof buf)
        return false;
    memcpy(buf, s, len);
    buf[len] = '\0';
    /* Decimal text only: no leading space, no hexadecimal, no NUL. */
    if (memchr(s, '\0', len) || isspace((unsigned char)buf[0]) ||
        strpbrk(buf, "xXpP"))
        return false;
    errno = 0;
    i = strtoll(buf, &end, 10);
    if (!errno && *end == '\0') {
        *out = sl_int(i);
        return true;
    }
    errno = 0;
    d = strtod(buf, &end);
    /* Underflow (1e-400) gives the nearest double; overflow is refused. */
    if (*end != '\0' || !isfinite(d) || (errno == ERANGE && fabs(d) >= 1.0))
        return false;
    *out = sl_double(d);
    return true;
}

static sl_status f_to_number(sl_task *t, const job_fn *f, const sl_value *in,
                             sl_value *out)
{
    if (is_number(in)) {
        *out = *in;
        return SL_OK;
    }
    if (in->kind == SL_KIND_STR && parse_number(in->u.s, in->len, out))
        return SL_OK;
    return fn_fail(t, f, "needs a number or a string holding one", in);
}

/* A result of n bytes must fit max_record_bytes, and a string's 32-bit
 * length (max_record_bytes is at most 1 GiB, so the first check holds the
 * second; both are kept, as the conf's range may change). */
static sl_status check_size(sl_task *t, const job_fn *f, uint64_t n,
                            const sl_value *in)
{
    char what[96];
    if (n <= f->max_bytes && n <= UINT32_MAX)
        return SL_OK;
    snprintf(what, sizeof what,
             "result of %llu bytes, over max_record_bytes (%zu)",
             (unsigned long long)n, f->max_bytes);
    return fn_fail(t, f, what, in);
}

static sl_status f_to_string(sl_task *t, const job_fn *f, const sl_value *in,
                             sl_value *out)
{
    char *p;
    size_t n;
    sl_status st;
    if (in->kind == SL_KIND_STR) {
        *out = *in;
        return SL_OK;
    }
    n = sl_value_format(in, NULL, 0);
    if ((st = check_size(t, f, n, in)) != SL_OK)
        return st;
    if (!(p = sl_task_alloc(t, n + 1)))
        return SL_ENOMEM;
    sl_value_format(in, p, n + 1);
    *out = sl_str(p, n);
    return SL_OK;
}

static sl_status f_add(sl_task *t, const job_fn *f, const sl_value *in,
                       sl_value *out)
{
    return arith(t, f, in, &f->arg, '+', out);
}

static sl_status f_multiply(sl_task *t, const job_fn *f, const sl_value *in,
                            sl_value *out)
{
    return arith(t, f, in, &f->arg, '*', out);
}

static sl_status f_repeat(sl_task *t, const job_fn *f, const sl_value *in,
                          sl_value *out)
{
    size_t n = (size_t)f->arg.u.i, i;
    char *p;
    sl_status st;
    if (in->kind != SL_KIND_STR)
        return fn_fail(t, f, "needs a string", in);
    if ((st = check_size(t, f, (uint64_t)in->len * n, in)) != SL_OK)
        return st;
    if (!(p = sl_task_alloc(t, in->len * n + 1)))
        return SL_ENOMEM;
    for (i = 0; i < n; i++)
        memcpy(p + i * in->len, in->u.s, in->len);
    *out = sl_str(p, in->len * n);
    return SL_OK;
}

/* -------------------------------------------------- flat_map functions */

static sl_status f_split_words(sl_task *t, const job_fn *f, const sl_value *in)
{
    if (in->kind != SL_KIND_STR)
        return fn_fail(t, f, "needs a string", in);
    return sl_fn_split_words(t, in, NULL);
}

static sl_status f_flatten(sl_task *t, const job_fn *f, const sl_value *in)
{
    uint32_t i;
    sl_status st;
    if (in->kind != SL_KIND_LIST && in->kind != SL_KIND_TUPLE &&
        in->kind != SL_KIND_PAIR)
        return fn_fail(t, f, "needs a list or a pair", in);
    for (i = 0; i < in->len; i++)
        if ((st = sl_task_emit(t, &in->u.items[i])) != SL_OK)
            return st;
    return SL_OK;
}

static sl_status f_fanout(sl_task *t, const job_fn *f, const sl_value *in)
{
    size_t i;
    sl_value out;
    sl_status st;
    for (i = 0; i < f->nsubs; i++) {
        if ((st = sl__job_fn_map(t, in, &out, f->subs[i])) != SL_OK)
            return st;
        if ((st = sl_task_emit(t, &out)) != SL_OK)
            return st;
    }
    return SL_OK;
}

/* ---------------------------------------------------------- predicates */

static bool p_eq(const job_fn *f, const sl_value *in)
{
    int c;
    if (order(in, &f->arg, &c))
        return c == 0;
    return sl_value_equal(in, &f->arg);
}

static bool p_ne(const job_fn *f, const sl_value *in)
{
    return !p_eq(f, in);
}

static bool p_lt(const job_fn *f, const sl_value *in)
{
    int c;
    return order(in, &f->arg, &c) && c < 0;
}

static bool p_le(const job_fn *f, const sl_value *in)
{
    int c;
    return order(in, &f->arg, &c) && c <= 0;
}

static bool p_gt(const job_fn *f, const sl_value *in)
{
    int c;
    return order(in, &f->arg, &c) && c > 0;
}

static bool p_ge(const job_fn *f, const sl_value *in)
{
    int c;
    return order(in, &f->arg, &c) && c >= 0;
}

static bool p_even(const job_fn *f, const sl_value *in)
{
    SL__UNUSED(f);
    return in->kind == SL_KIND_INT && in->u.i % 2 == 0;
}

static bool p_odd(const job_fn *f, const sl_value *in)
{
    SL__UNUSED(f);
    return in->kind == SL_KIND_INT && in->u.i % 2 != 0;
}

/* ----------------------------------------------------- reduce functions */

static sl_status r_sum(sl_task *t, const job_fn *f, const sl_value *a,
                       const sl_value *b, sl_value *out)
{
    return arith(t, f, a, b, '+', out);
}

static sl_status r_subtract(sl_task *t, const job_fn *f, const sl_value *a,
                            const sl_value *b, sl_value *out)
{
    return arith(t, f, a, b, '-', out);
}

static sl_status min_max(sl_task *t, const job_fn *f, const sl_value *a,
                         const sl_value *b, sl_value *out, bool want_max)
{
    int c;
    if (!order(a, b, &c)) {
        if (!is_number(a) && a->kind != SL_KIND_STR)
            return fn_fail(t, f, "needs numbers or strings", a);
        return fn_fail(t, f, "needs numbers or strings alike", b);
    }
    *out = (want_max ? c >= 0 : c <= 0) ? *a : *b;
    return SL_OK;
}

static sl_status r_min(sl_task *t, const job_fn *f, const sl_value *a,
                       const sl_value *b, sl_value *out)
{
    return min_max(t, f, a, b, out, false);
}

static sl_status r_max(sl_task *t, const job_fn *f, const sl_value *a,
                       const sl_value *b, sl_value *out)
{
    return min_max(t, f, a, b, out, true);
}

static sl_status r_first(sl_task *t, const job_fn *f, const sl_value *a,
                         const sl_value *b, sl_value *out)
{
    SL__UNUSED(t);
    SL__UNUSED(f);
    SL__UNUSED(b);
    *out = *a;
    return SL_OK;
}

static sl_status r_last(sl_task *t, const job_fn *f, const sl_value *a,
                        const sl_value *b, sl_value *out)
{
    SL__UNUSED(t);
    SL__UNUSED(f);
    SL__UNUSED(a);
    *out = *b;
    return SL_OK;
}

/* ------------------------------------------------------------ registry */

/* The words for each ARG_* kind, pasted into the registry rows. */
#define W_ARG_NONE NULL
#define W_ARG_ANY "any value"
#define W_ARG_NUMBER "a number"
#define W_ARG_ORDER "a number or a string"
#define W_ARG_REPEAT "an integer from 0 to 1000"
#define W_ARG_FNLIST "an array of map functions"

#define MAP(name, arg, fn, summary)                                            \
    {                                                                          \
        {name, SL_JOB_FN_MAP, W_##arg, summary}, arg, fn, NULL, NULL, NULL     \
    }
#define FLAT(name, arg, fn, summary)                                           \
    {                                                                          \
        {name, SL_JOB_FN_FLAT_MAP, W_##arg, summary}, arg, NULL, fn, NULL,     \
            NULL                                                               \
    }
#define PRED(name, arg, fn, summary)                                           \
    {                                                                          \
        {name, SL_JOB_FN_PREDICATE, W_##arg, summary}, arg, NULL, NULL, fn,    \
            NULL                                                               \
    }
#define REDUCE(name, fn, summary)                                              \
    {                                                                          \
        {name, SL_JOB_FN_REDUCE, NULL, summary}, ARG_NONE, NULL, NULL, NULL,   \
            fn                                                                 \
    }

static const fn_def registry[] = {
    MAP("identity", ARG_NONE, f_identity, "x"),
    MAP("pair_one", ARG_NONE, f_pair_one, "(x, 1)"),
    MAP("pair_with", ARG_ANY, f_pair_with, "(x, arg)"),
    MAP("swap", ARG_NONE, f_swap, "(k, v) -> (v, k)"),
    MAP("key", ARG_NONE, f_key, "(k, v) -> k"),
    MAP("value", ARG_NONE, f_value, "(k, v) -> v"),
    MAP("lower", ARG_NONE, f_lower, "ASCII lower case of a string"),
    MAP("upper", ARG_NONE, f_upper, "ASCII upper case of a string"),
    MAP("to_number", ARG_NONE, f_to_number,
        "a string or number as an integer or a double"),
    MAP("to_string", ARG_NONE, f_to_string, "the value as print shows it"),
    MAP("add", ARG_NUMBER, f_add, "x + arg"),
    MAP("multiply", ARG_NUMBER, f_multiply, "x * arg"),
    MAP("repeat", ARG_REPEAT, f_repeat, "a string repeated arg times"),
    FLAT("split_words", ARG_NONE, f_split_words,
         "a string's words, split on whitespace"),
    FLAT("flatten", ARG_NONE, f_flatten, "the items of a list or pair"),
    FLAT("fanout", ARG_FNLIST, f_fanout, "fn1(x), fn2(x), ... for arg's fns"),
    PRED("eq", ARG_ANY, p_eq, "x = arg"),
    PRED("ne", ARG_ANY, p_ne, "x != arg"),
    PRED("lt", ARG_ORDER, p_lt, "x < arg"),
    PRED("le", ARG_ORDER, p_le, "x <= arg"),
    PRED("gt", ARG_ORDER, p_gt, "x > arg"),
    PRED("ge", ARG_ORDER, p_ge, "x >= arg"),
    PRED("even", ARG_NONE, p_even, "an even integer"),
    PRED("odd", ARG_NONE, p_odd, "an odd integer"),
    REDUCE("sum", r_sum, "a + b"),
    REDUCE("subtract", r_subtract, "a - b"),
    REDUCE("min", r_min, "the smaller of a and b"),
    REDUCE("max", r_max, "the larger of a and b"),
    REDUCE("first", r_first, "a (the older value)"),
    REDUCE("last", r_last, "b (the newer value)"),
};

#define NREGISTRY (sizeof registry / sizeof registry[0])

const char *sl__job_fn_arg_words(fn_arg a)
{
    static const char *const words[] = {W_ARG_NONE,   W_ARG_ANY,
                                        W_ARG_NUMBER, W_ARG_ORDER,
                                        W_ARG_REPEAT, W_ARG_FNLIST};
    return words[a];
}

const char *sl__job_fn_kind_name(sl_job_fn_kind k)
{
    static const char *const names[] = {"map", "flat_map", "predicate",
                                        "reduce"};
    return names[k];
}

const fn_def *sl__job_fn_find(const char *name)
{
    size_t i;
    for (i = 0; i < NREGISTRY; i++)
        if (strcmp(registry[i].info.name, name) == 0)
            return &registry[i];
    return NULL;
}

const sl_job_fn_info *sl_job_function_at(size_t i)
{
    return i < NREGISTRY ? &registry[i].info : NULL;
}

/* -------------------------------------------------------- entry points */

sl_status sl__job_fn_map(sl_task *t, const sl_value *in, sl_value *out,
                         void *user)
{
    const job_fn *f = user;
    const sl_value *x = part(f, in);
    sl_value y;
    sl_status st;
    if (!x)
        return need_pair(t, f, in);
    if (f->on == ON_ELEMENT)
        return f->def->map(t, f, in, out);
    if ((st = f->def->map(t, f, x, &y)) != SL_OK)
        return st;
    return f->on == ON_KEY ? sl_task_pair(t, &y, sl_pair_value(in), out)
                           : sl_task_pair(t, sl_pair_key(in), &y, out);
}

sl_status sl__job_fn_flat_map(sl_task *t, const sl_value *in, void *user)
{
    const job_fn *f = user;
    return f->def->flat(t, f, in);
}

bool sl__job_fn_pred(const sl_value *in, void *user)
{
    const job_fn *f = user;
    const sl_value *x = part(f, in);
    return x && f->def->pred(f, x);
}

sl_status sl__job_fn_reduce(sl_task *t, const sl_value *a, const sl_value *b,
                            sl_value *out, void *user)
{
    const job_fn *f = user;
    return f->def->reduce(t, f, a, b, out);
}
