/*
 * Math functions (Spark SQL 3.5, ANSI off): abs, round/bround (on the
 * double's shortest decimal text, as Spark's BigDecimal rounding),
 * floor/ceil (long results), sqrt, pow, exp, ln/log/log10/log2, sign,
 * greatest/least. Out-of-domain logarithms give NULL as Spark's do;
 * sqrt of a negative is NaN.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sql/functions_int.h"

#define EVAL_ARGS                                                              \
    const void *st, const sl_value *args, size_t n, const sl_type *result,     \
        sl__arena *scratch, sl_value *out
#define EVAL_UNUSED                                                            \
    SL__UNUSED(st), SL__UNUSED(n), SL__UNUSED(result), SL__UNUSED(scratch)

/* ------------------------------------------------------------- binding */

/* A numeric argument i: long stays long, anything else castable becomes
 * double. Returns its type id, or SL_TYPE_NULL with *why. */
static sl_type_id num_arg(const sl_type *const *args, const sl_type **want,
                          size_t i, sl__arena *a, const char **why)
{
    if (args[i]->id == SL_TYPE_LONG)
        return SL_TYPE_LONG;
    if (!sl__fn_want(args, want, i, SL_TYPE_DOUBLE, a, why))
        return SL_TYPE_NULL;
    return SL_TYPE_DOUBLE;
}

/* abs, round, bround: the first argument's type (long or double); a
 * second one (the scale) is a long. */
static const sl_type *bind_same(const sl_type *const *args, size_t n,
                                const sl_type **want, sl__arena *a,
                                const char **why)
{
    sl_type_id id = num_arg(args, want, 0, a, why);
    if (id == SL_TYPE_NULL)
        return NULL;
    if (n > 1 && !sl__fn_want(args, want, 1, SL_TYPE_LONG, a, why))
        return NULL;
    return sl_type_scalar(id);
}

/* floor, ceil: long either way. */
static const sl_type *bind_to_long(const sl_type *const *args, size_t n,
                                   const sl_type **want, sl__arena *a,
                                   const char **why)
{
    SL__UNUSED(n);
    if (num_arg(args, want, 0, a, why) == SL_TYPE_NULL)
        return NULL;
    return sl_type_scalar(SL_TYPE_LONG);
}

/* Every argument double; result double. */
static const sl_type *bind_double(const sl_type *const *args, size_t n,
                                  const sl_type **want, sl__arena *a,
                                  const char **why)
{
    for (size_t i = 0; i < n; i++)
        if (!sl__fn_want(args, want, i, SL_TYPE_DOUBLE, a, why))
            return NULL;
    return sl_type_scalar(SL_TYPE_DOUBLE);
}

/* ---------------------------------------------------------------- abs */

static sl_status abs_eval(EVAL_ARGS)
{
    EVAL_UNUSED;
    if (args[0].kind == SL_KIND_INT) /* Java: abs(MIN) is MIN (wraps) */
        *out = sl_int(args[0].u.i < 0 ? (int64_t)(0 - (uint64_t)args[0].u.i)
                                      : args[0].u.i);
    else
        *out = sl_double(fabs(args[0].u.d));
    return SL_OK;
}

/* -------------------------------------------------------------- round */

/* Round a long to 10^-d (d < 0), half away from zero (HALF_UP) or half
 * to even; wraps on overflow as Spark's long arithmetic. */
static int64_t round_long(int64_t x, int64_t d, bool even)
{
    if (d >= 0)
        return x;
    if (d < -18)
        return 0;
    int64_t p = 1;
    for (int64_t i = 0; i < -d; i++)
        p *= 10;
    int64_t q = x / p, r = x % p, half = p / 2;
    int64_t ar = r < 0 ? -r : r;
    bool up = ar > half || (ar == half && (!even || (q % 2 != 0)));
    if (up)
        q += x < 0 ? -1 : 1;
    return (int64_t)((uint64_t)q * (uint64_t)p);
}

/* The shortest decimal digits of |x| that read back as x, and the
 * decimal exponent: |x| = 0.digits * 10^(exp + 1). */
static int shortest_digits(double x, char digits[24], int *exp)
{
    char buf[40];
    for (int p = 1; p <= 17; p++) {
        snprintf(buf, sizeof buf, "%.*e", p - 1, fabs(x));
        if (strtod(buf, NULL) == fabs(x))
            break;
    }
    int nd = 0;
    char *e = strchr(buf, 'e');
    for (char *c = buf; c < e; c++)
        if (*c != '.')
            digits[nd++] = *c;
    digits[nd] = '\0';
    *exp = atoi(e + 1);
    return nd;
}

/* Spark rounds a double as BigDecimal(x.toString).setScale(d, mode):
 * on its shortest decimal text, so round(2.675, 2) is 2.68. */
static double round_double(double x, int64_t d, bool even)
{
    char digits[24], text[64];
    int exp, nd;
    if (!isfinite(x) || x == 0.0 || d > 400)
        return x;
    if (d < -400)
        return 0.0;
    nd = shortest_digits(x, digits, &exp);
    int64_t keep = exp + 1 + d; /* digits left of the cut */
    if (keep >= nd)
        return x;
    if (keep < 0)
        return 0.0; /* BigDecimal has no negative zero */
    bool tie = digits[keep] == '5' && keep + 1 == nd;
    bool up = digits[keep] > '5' || (digits[keep] == '5' && !tie) ||
              (tie && (!even || (keep > 0 && (digits[keep - 1] - '0') % 2)));
    int64_t i = keep - 1;
    for (; up && i >= 0; i--) { /* carry */
        if (digits[i] == '9') {
            digits[i] = '0';
        } else {
            digits[i]++;
            break;
        }
    }
    bool overflow = up && i < 0; /* 9.99 -> 10.0: one more leading digit */
    snprintf(text, sizeof text, "%s0.%s%.*se%lld", x < 0 ? "-" : "",
             overflow ? "1" : "", (int)keep, digits,
             (long long)(exp + 1 + overflow));
    double r = strtod(text, NULL);
    return r == 0.0 ? 0.0 : r;
}

static sl_status do_round(const sl_value *args, size_t n, bool even,
                          sl_value *out)
{
    int64_t d = n > 1 ? args[1].u.i : 0;
    if (args[0].kind == SL_KIND_INT)
        *out = sl_int(round_long(args[0].u.i, d, even));
    else
        *out = sl_double(round_double(args[0].u.d, d, even));
    return SL_OK;
}

static sl_status round_eval(EVAL_ARGS)
{
    EVAL_UNUSED;
    return do_round(args, n, false, out);
}

static sl_status bround_eval(EVAL_ARGS)
{
    EVAL_UNUSED;
    return do_round(args, n, true, out);
}

/* --------------------------------------------------------- floor, ceil */

/* Java's (long) of a double: NaN 0, saturating. */
static int64_t to_long(double d)
{
    if (isnan(d))
        return 0;
    if (d >= 9223372036854775807.0)
        return INT64_MAX;
    if (d <= -9223372036854775808.0)
        return INT64_MIN;
    return (int64_t)d;
}

static sl_status floor_eval(EVAL_ARGS)
{
    EVAL_UNUSED;
    *out = args[0].kind == SL_KIND_INT ? args[0]
                                       : sl_int(to_long(floor(args[0].u.d)));
    return SL_OK;
}

static sl_status ceil_eval(EVAL_ARGS)
{
    EVAL_UNUSED;
    *out = args[0].kind == SL_KIND_INT ? args[0]
                                       : sl_int(to_long(ceil(args[0].u.d)));
    return SL_OK;
}

/* ------------------------------------------------- powers and logarithms */

static sl_status sqrt_eval(EVAL_ARGS)
{
    EVAL_UNUSED;
    *out = sl_double(sqrt(args[0].u.d));
    return SL_OK;
}

static sl_status exp_eval(EVAL_ARGS)
{
    EVAL_UNUSED;
    *out = sl_double(exp(args[0].u.d));
    return SL_OK;
}

static sl_status pow_eval(EVAL_ARGS)
{
    EVAL_UNUSED;
    *out = sl_double(pow(args[0].u.d, args[1].u.d));
    return SL_OK;
}

/* Spark's logarithms give NULL for x <= 0 (and a base <= 0). */
static sl_value log_of(double x, double (*fn)(double))
{
    return x <= 0.0 ? sl_null() : sl_double(fn(x));
}

/* ln(x), log(x) natural; log(base, x) = ln(x) / ln(base). */
static sl_status ln_eval(EVAL_ARGS)
{
    EVAL_UNUSED;
    if (n == 2)
        *out = args[0].u.d <= 0.0 || args[1].u.d <= 0.0
                   ? sl_null()
                   : sl_double(log(args[1].u.d) / log(args[0].u.d));
    else
        *out = log_of(args[0].u.d, log);
    return SL_OK;
}

static sl_status log10_eval(EVAL_ARGS)
{
    EVAL_UNUSED;
    *out = log_of(args[0].u.d, log10);
    return SL_OK;
}

static sl_status log2_eval(EVAL_ARGS)
{
    EVAL_UNUSED;
    *out = log_of(args[0].u.d, log2);
    return SL_OK;
}

/* signum: -1.0, 0.0 or 1.0 (a double, as Spark); NaN stays NaN. */
static sl_status sign_eval(EVAL_ARGS)
{
    EVAL_UNUSED;
    double d = args[0].u.d;
    *out = sl_double(isnan(d) ? d : d > 0 ? 1.0 : d < 0 ? -1.0 : 0.0);
    return SL_OK;
}

/* ----------------------------------------------------- greatest, least */

static const sl_type *bind_extreme(const sl_type *const *args, size_t n,
                                   const sl_type **want, sl__arena *a,
                                   const char **why)
{
    SL__UNUSED(a);
    const sl_type *t = sl__fn_common(args, 0, n, want, why);
    if (t && (t->id == SL_TYPE_ARRAY || t->id == SL_TYPE_STRUCT ||
              t->id == SL_TYPE_BINARY)) {
        *why = "greatest and least take numbers, strings, booleans or "
               "timestamps";
        return NULL;
    }
    return t;
}

/* Spark's ordering: NaN above every other double; strings by bytes
 * (UTF-8 order is code point order). */
static int cmp(const sl_value *a, const sl_value *b)
{
    switch (a->kind) {
    case SL_KIND_INT:
        return (a->u.i > b->u.i) - (a->u.i < b->u.i);
    case SL_KIND_BOOL:
        return (int)a->u.b - (int)b->u.b;
    case SL_KIND_DOUBLE:
        if (isnan(a->u.d) || isnan(b->u.d))
            return (int)isnan(a->u.d) - (int)isnan(b->u.d);
        return (a->u.d > b->u.d) - (a->u.d < b->u.d);
    default: {
        size_t m = a->len < b->len ? a->len : b->len;
        int c = m ? memcmp(a->u.s, b->u.s, m) : 0;
        return c ? c : (a->len > b->len) - (a->len < b->len);
    }
    }
}

static sl_status extreme(const sl_value *args, size_t n, int sign,
                         sl_value *out)
{
    *out = sl_null();
    for (size_t i = 0; i < n; i++) /* NULLs skipped */
        if (args[i].kind != SL_KIND_NULL &&
            (out->kind == SL_KIND_NULL || cmp(&args[i], out) * sign > 0))
            *out = args[i];
    return SL_OK;
}

static sl_status greatest_eval(EVAL_ARGS)
{
    EVAL_UNUSED;
    return extreme(args, n, 1, out);
}

static sl_status least_eval(EVAL_ARGS)
{
    EVAL_UNUSED;
    return extreme(args, n, -1, out);
}

const sl__sql_func sl__sql_funcs_math[] = {
    {"abs", 1, 1, bind_same, NULL, abs_eval, true},
    {"round", 1, 2, bind_same, NULL, round_eval, true},
    {"bround", 1, 2, bind_same, NULL, bround_eval, true},
    {"floor", 1, 1, bind_to_long, NULL, floor_eval, true},
    {"ceil", 1, 1, bind_to_long, NULL, ceil_eval, true},
    {"ceiling", 1, 1, bind_to_long, NULL, ceil_eval, true},
    {"sqrt", 1, 1, bind_double, NULL, sqrt_eval, true},
    {"exp", 1, 1, bind_double, NULL, exp_eval, true},
    {"pow", 2, 2, bind_double, NULL, pow_eval, true},
    {"power", 2, 2, bind_double, NULL, pow_eval, true},
    {"ln", 1, 1, bind_double, NULL, ln_eval, true},
    {"log", 1, 2, bind_double, NULL, ln_eval, true},
    {"log10", 1, 1, bind_double, NULL, log10_eval, true},
    {"log2", 1, 1, bind_double, NULL, log2_eval, true},
    {"sign", 1, 1, bind_double, NULL, sign_eval, true},
    {"signum", 1, 1, bind_double, NULL, sign_eval, true},
    {"greatest", 2, SIZE_MAX, bind_extreme, NULL, greatest_eval, false},
    {"least", 2, SIZE_MAX, bind_extreme, NULL, least_eval, false},
    {NULL, 0, 0, NULL, NULL, NULL, false},
};
