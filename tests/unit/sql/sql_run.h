/*
 * Compiling and evaluating SQL expressions over one test row, with the
 * result as text. Shared by test_bind.c and test_eval.c.
 *
 * The scope has relation t (row[0..12)):
 *   a long = 7, b long = -2, d double = 2.5, s string = 'hello',
 *   ts timestamp = 2024-01-02 09:30:00, f boolean = true,
 *   arr array<long> = [10, 20, 30], st struct<x: long, y: string> =
 *   {1, 'one'}, n long, ns string, nb boolean (these three NULL),
 *   big long = 9223372036854775807
 * and, when sqlrun_two is set, relation u (row[12..14)): a long = 1,
 * value string = 'v'.
 */
#ifndef SL_TEST_SQL_RUN_H
#define SL_TEST_SQL_RUN_H

#include "sql/eval_int.h"

/* The result of text as "<type> <value>" ("long 9", "double NULL",
 * "string hello"), or "error: line 1, column C: message" (the first
 * line of sl__sql_error_format). Valid until the next call. */
const char *sqlrun(const char *text);
/* The whole formatted error of the last failing sqlrun (with caret). */
const char *sqlrun_error(void);
/* Compile text in the test scope into a (NULL on any error). */
sl__sql_prog *sqlrun_compile(const char *text, sl__arena *a);
/* The test row. */
const sl_value *sqlrun_row(void);
/* Whether relation u is in the scope; the scope's replace hook. */
extern bool sqlrun_two;
extern bool (*sqlrun_replace)(void *, const sl__sql_expr *, size_t *,
                              const sl_type **, sl__sql_error *);
extern const char *sqlrun_clause;
/* When set, the scope's clock (current_timestamp per evaluation). */
extern const _Atomic int64_t *sqlrun_clock;
/* Free what the calls allocated. */
void sqlrun_reset(void);

#endif /* SL_TEST_SQL_RUN_H */
