/*
 * Calling one scalar function the way the SQL compiler does (bind, the
 * implicit casts it asks for, prepare, eval), from argument specs, and
 * the result as text. Shared by the function test programs.
 *
 * An argument spec is "<type>:<text>": s string, l long, d double,
 * b boolean, t timestamp (text as CAST reads it), x binary (the text's
 * bytes), as array<string> and al array<long> (items separated by '|';
 * "as:" the empty array); "null" a bare NULL, "ns"/"nl"/"nt" a NULL
 * string/long/timestamp. A leading '~' makes the argument non-constant
 * (prepare sees NULL for it).
 */
#ifndef SL_TEST_FN_CALL_H
#define SL_TEST_FN_CALL_H

#include "sql/expr.h"

/*
 * The result of name(args...) (specs ending with NULL) as text: scalars
 * as CAST(x AS STRING) ("NULL" for NULL), arrays and structs as JSON;
 * or "bind error: <why>", "prepare error: <why>", "no such function".
 * The text lives until the next sqlfn_reset.
 */
const char *sqlfn_call(const char *name, ...);
/* The result type of the last successful bind, as DDL. */
const char *sqlfn_type(void);
/* Free everything the calls allocated. */
void sqlfn_reset(void);
/* Build a value and its type from a spec in arena a. */
void sqlfn_value(const char *spec, sl__arena *a, const sl_type **t,
                 sl_value *v);
/* Text of v typed t, as sqlfn_call writes results, in a. */
const char *sqlfn_text(const sl_type *t, const sl_value *v, sl__arena *a);

#endif
