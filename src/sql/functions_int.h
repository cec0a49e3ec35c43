/*
 * Internal side of the scalar function library (functions*.c, cast.c):
 * the per-family tables that sl__sql_func_find searches, and the helpers
 * they share for typing arguments, UTF-8 and calendar arithmetic.
 */
#ifndef SL_SQL_FUNCTIONS_INT_H
#define SL_SQL_FUNCTIONS_INT_H

#include "sql/expr.h"

/*
 * The longest string a function builds (bytes). A longer result (lpad to
 * a billion characters, a replacement that multiplies its input) is NULL
 * rather than an allocation failure of the whole query; sl_value lengths
 * are 32-bit, and Spark's own strings stop at 2 GiB.
 */
#define SL__SQL_MAX_STR ((size_t)1 << 30)

/* Each family's table, ended by an entry whose name is NULL. */
extern const sl__sql_func sl__sql_funcs_str[];
extern const sl__sql_func sl__sql_funcs_regex[];
extern const sl__sql_func sl__sql_funcs_math[];
extern const sl__sql_func sl__sql_funcs_time[];
extern const sl__sql_func sl__sql_funcs_cond[];
extern const sl__sql_func sl__sql_funcs_window[]; /* functions_window.c */

/*
 * Ask for argument i as type `id` when Spark would cast it implicitly
 * (docs/sql.md "Functions"): want[i] is set and true returned; otherwise
 * *why gets "argument <i+1> requires <id> type, however, it is of <t>
 * type" (allocated in a) and false.
 */
bool sl__fn_want(const sl_type *const *args, const sl_type **want, size_t i,
                 sl_type_id id, sl__arena *a, const char **why);

/*
 * Spark's wider common type of args[from..n) (NULL gives way to any
 * type, long widens to double, atomic types meet as string), asked for
 * in want[from..n); NULL with *why when there is none.
 */
const sl_type *sl__fn_common(const sl_type *const *args, size_t from, size_t n,
                             const sl_type **want, const char **why);

/* A copy of n bytes at s as a string value in a (SL_ENOMEM: false). */
bool sl__fn_str(sl__arena *a, const char *s, size_t n, sl_value *out);

/* The byte length of the UTF-8 sequence that starts with byte c (1 for a
 * stray continuation or invalid byte, so that bad input still advances). */
size_t sl__utf8_len(unsigned char c);
/* The number of characters in s[0..n). */
size_t sl__utf8_count(const char *s, size_t n);

/* Days since 1970-01-01 of a proleptic Gregorian date, and back. */
int64_t sl__days_from_civil(int64_t y, int m, int d);
void sl__civil_from_days(int64_t z, int64_t *y, int *m, int *d);

/* CAST(timestamp AS STRING) text of ms ("2024-01-02 09:30:00.1"). */
size_t sl__ts_text(int64_t ms, char out[48]);

#endif /* SL_SQL_FUNCTIONS_INT_H */
