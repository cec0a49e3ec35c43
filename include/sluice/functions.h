/*
 * sluice's ready-made per-record functions: every built-in function of job
 * files (docs/job-file.md) as a C function of the signature of the operator
 * it serves, plus the helpers a function of your own needs: tuples and lists
 * in task memory and number parsing from string views.
 */
#ifndef SLUICE_FUNCTIONS_H
#define SLUICE_FUNCTIONS_H

#include "rdd.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Arguments. A function that takes one (add, multiply, repeat, pair_with,
 * the comparisons) reads it from its user pointer, a `const sl_value *`
 * that must outlive the job:
 *
 *     sl_value two = sl_int(2);  (in main, alive until the context is freed)
 *     doubled = sl_dstream_map(nums, sl_fn_multiply, &two);
 *
 * The others ignore their user pointer. A value a function cannot handle
 * (lower of a number, sum of strings, to_number of "abc") fails the task
 * through sl_task_fail with a message naming the function and the value,
 * e.g. "sl_fn_lower: needs a string, got 5"; the job then fails with
 * SL_EUSER and that message. All of them are thread-safe (workers).
 */

/* ---------------------------------------------------------------- map */

/** @brief map: x -> x. */
SL_EXPORT sl_status sl_fn_identity(sl_task *t, const sl_value *in,
                                   sl_value *out, void *user);

/** @brief map: x into the pair (x, 1). */
SL_EXPORT sl_status sl_fn_pair_one(sl_task *t, const sl_value *in,
                                   sl_value *out, void *user);

/** @brief map: x into the pair (x, arg); user is `const sl_value *arg`. */
SL_EXPORT sl_status sl_fn_pair_with(sl_task *t, const sl_value *in,
                                    sl_value *out, void *user);

/** @brief map: (k, v) -> (v, k); fails on a value that is no pair. */
SL_EXPORT sl_status sl_fn_swap(sl_task *t, const sl_value *in, sl_value *out,
                               void *user);

/** @brief map: (k, v) -> k; fails on a value that is no pair. */
SL_EXPORT sl_status sl_fn_key(sl_task *t, const sl_value *in, sl_value *out,
                              void *user);

/** @brief map: (k, v) -> v; fails on a value that is no pair. */
SL_EXPORT sl_status sl_fn_value(sl_task *t, const sl_value *in, sl_value *out,
                                void *user);

/**
 * @brief map: the ASCII lower case of a string (other bytes unchanged),
 * copied into task memory; fails on a value that is no string.
 */
SL_EXPORT sl_status sl_fn_lower(sl_task *t, const sl_value *in, sl_value *out,
                                void *user);

/** @brief map: the ASCII upper case of a string, as sl_fn_lower. */
SL_EXPORT sl_status sl_fn_upper(sl_task *t, const sl_value *in, sl_value *out,
                                void *user);

/**
 * @brief map: a number as it is; a string as sl_parse_number reads it (an
 * integer, else a finite double). Fails on other kinds and on strings that
 * hold no number.
 */
SL_EXPORT sl_status sl_fn_to_number(sl_task *t, const sl_value *in,
                                    sl_value *out, void *user);

/**
 * @brief map: the value as text, as sl_value_format prints it, in task
 * memory (a string stays as it is). Fails when the text would be 4 GiB or
 * more.
 */
SL_EXPORT sl_status sl_fn_to_string(sl_task *t, const sl_value *in,
                                    sl_value *out, void *user);

/**
 * @brief map: x + arg (user is `const sl_value *arg`, a number). Integers
 * wrap on overflow as Java's long does; an int and a double give a double.
 * Fails when x or arg is no number.
 */
SL_EXPORT sl_status sl_fn_add(sl_task *t, const sl_value *in, sl_value *out,
                              void *user);

/** @brief map: x * arg, as sl_fn_add. */
SL_EXPORT sl_status sl_fn_multiply(sl_task *t, const sl_value *in,
                                   sl_value *out, void *user);

/**
 * @brief map: a string repeated arg times (user is `const sl_value *arg`,
 * an int >= 0), in task memory. Fails on a value that is no string, a bad
 * arg, or a result of 4 GiB or more.
 */
SL_EXPORT sl_status sl_fn_repeat(sl_task *t, const sl_value *in, sl_value *out,
                                 void *user);

/* ----------------------------------------------------------- flat_map */

/**
 * @brief flat_map: a string into its words, split on runs of whitespace
 * (space, tab, CR, LF, VT, FF), never empty words. The words are views into
 * the input string (no copy). Fails on a value that is no string.
 */
SL_EXPORT sl_status sl_fn_split_words(sl_task *t, const sl_value *in,
                                      void *user);

/** @brief flat_map: the items of a list, tuple or pair, in order. */
SL_EXPORT sl_status sl_fn_flatten(sl_task *t, const sl_value *in, void *user);

/** @brief One map function with its user pointer (an sl_fanout entry). */
typedef struct sl_fn_call {
    sl_map_fn fn;
    void *user;
} sl_fn_call;

/** @brief The argument of sl_fn_fanout: n map functions. */
typedef struct sl_fanout {
    const sl_fn_call *calls;
    size_t n;
} sl_fanout;

/**
 * @brief flat_map: fn1(x), fn2(x), ... for the calls of the sl_fanout
 * that user points to, in order; the first failing call fails the task.
 */
SL_EXPORT sl_status sl_fn_fanout(sl_task *t, const sl_value *in, void *user);

/* --------------------------------------------------------- predicates */

/**
 * @brief The order the comparison functions use: numbers by value (an int
 * and a double exactly, the int never rounded), strings byte-wise.
 * @returns false when a and b are not comparable (other or mixed kinds,
 * NaN); else true with *out < 0, 0 or > 0.
 */
SL_EXPORT bool sl_value_order(const sl_value *a, const sl_value *b, int *out);

/**
 * @brief filter: x = arg (user is `const sl_value *arg`): equal by
 * sl_value_order when comparable (1 = 1.0), else by sl_value_equal.
 * A NULL user keeps nothing.
 */
SL_EXPORT bool sl_fn_eq(const sl_value *in, void *user);
/** @brief filter: not sl_fn_eq (a NULL user keeps nothing). */
SL_EXPORT bool sl_fn_ne(const sl_value *in, void *user);
/**
 * @brief filter: x < arg by sl_value_order; values not comparable with arg
 * (and a NULL user) are dropped. Likewise sl_fn_le, sl_fn_gt, sl_fn_ge.
 */
SL_EXPORT bool sl_fn_lt(const sl_value *in, void *user);
/** @brief filter: x <= arg, as sl_fn_lt. */
SL_EXPORT bool sl_fn_le(const sl_value *in, void *user);
/** @brief filter: x > arg, as sl_fn_lt. */
SL_EXPORT bool sl_fn_gt(const sl_value *in, void *user);
/** @brief filter: x >= arg, as sl_fn_lt. */
SL_EXPORT bool sl_fn_ge(const sl_value *in, void *user);
/** @brief filter: an even int (other kinds are dropped). */
SL_EXPORT bool sl_fn_even(const sl_value *in, void *user);
/** @brief filter: an odd int (other kinds are dropped). */
SL_EXPORT bool sl_fn_odd(const sl_value *in, void *user);

/* ------------------------------------------------------------- reduce */

/**
 * @brief reduce: a + b for ints (wrapping on overflow as Java's long does)
 * and doubles, mixed ints and doubles giving a double. Fails on other
 * kinds.
 */
SL_EXPORT sl_status sl_fn_sum(sl_task *t, const sl_value *a, const sl_value *b,
                              sl_value *out, void *user);
/** @brief reduce: a - b, as sl_fn_sum. */
SL_EXPORT sl_status sl_fn_subtract(sl_task *t, const sl_value *a,
                                   const sl_value *b, sl_value *out,
                                   void *user);
/**
 * @brief reduce: the smaller of a and b by sl_value_order (a when equal);
 * fails when they are not comparable.
 */
SL_EXPORT sl_status sl_fn_min(sl_task *t, const sl_value *a, const sl_value *b,
                              sl_value *out, void *user);
/** @brief reduce: the larger of a and b (a when equal), as sl_fn_min. */
SL_EXPORT sl_status sl_fn_max(sl_task *t, const sl_value *a, const sl_value *b,
                              sl_value *out, void *user);
/** @brief reduce: a (the older value). */
SL_EXPORT sl_status sl_fn_first(sl_task *t, const sl_value *a,
                                const sl_value *b, sl_value *out, void *user);
/** @brief reduce: b (the newer value). */
SL_EXPORT sl_status sl_fn_last(sl_task *t, const sl_value *a, const sl_value *b,
                               sl_value *out, void *user);

/* ------------------------------------------- building values in a task */

/**
 * @brief The tuple (items[0], ..., items[n-1]) with its item array copied
 * into task memory; the items themselves are not copied, so strings must
 * be views into the input or task memory (sl_task_str).
 * @returns SL_OK, SL_ENOMEM, or SL_EOVERFLOW for n of 2^32 or more.
 */
SL_EXPORT sl_status sl_task_tuple(sl_task *t, const sl_value *items, size_t n,
                                  sl_value *out);
/** @brief The list [items...], as sl_task_tuple. */
SL_EXPORT sl_status sl_task_list(sl_task *t, const sl_value *items, size_t n,
                                 sl_value *out);

/* ------------------------------------------------------ parsing numbers */

/*
 * The parsers read exactly the n bytes at s, which need not end in a NUL
 * (a field of a line is a view into the line). Decimal text only: an
 * optional sign, then digits; no surrounding whitespace, no hexadecimal,
 * nothing after the number. They never touch errno. Thread-safe.
 */

/**
 * @brief A decimal int64 ("-12", "+7").
 * @returns SL_OK, SL_EPARSE (empty, not a decimal integer, junk),
 * SL_ERANGE (outside int64), SL_EINVAL (s or out NULL).
 */
SL_EXPORT sl_status sl_parse_int64(const char *s, size_t n, int64_t *out);
/**
 * @brief A finite double ("2.5", "-1e3", "7"), as strtod reads it in the C
 * locale's syntax; "inf", "nan" and hexadecimal are refused. Underflow
 * ("1e-400") gives the nearest double.
 * @returns SL_OK, SL_EPARSE, SL_ERANGE (beyond the double range),
 * SL_ENOMEM (texts over 255 bytes are copied), SL_EINVAL.
 */
SL_EXPORT sl_status sl_parse_double(const char *s, size_t n, double *out);
/**
 * @brief The job files' to_number: an int if the text is one and fits,
 * else a finite double ("9223372036854775808" gives a double).
 * @returns as sl_parse_double.
 */
SL_EXPORT sl_status sl_parse_number(const char *s, size_t n, sl_value *out);

#ifdef __cplusplus
}
#endif
#endif /* SLUICE_FUNCTIONS_H */
