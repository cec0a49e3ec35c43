/*
 * Bound SQL expressions and their evaluation: the binder resolves an
 * expression's names and types against the columns of its input row,
 * compiles it once per query into a compact program, and the program is
 * evaluated per row on any thread without calling malloc (results that
 * need bytes, such as upper() or concat(), go into the caller's arena).
 * Aggregate functions are here too, as method tables over an sl_value
 * accumulator (so that running aggregations live in the state store).
 * Semantics: Spark SQL 3.5 with ANSI mode off (docs/sql.md).
 */
#ifndef SL_SQL_EXPR_H
#define SL_SQL_EXPR_H

#include "sql/ast.h"

#include <stdatomic.h>

/* ------------------------------------------------------------- scopes */

/* One relation whose columns are in the input row: its columns are
 * row[first .. first + size(schema)). */
typedef struct sl__sql_rel {
    const char *qualifier; /* table name or alias; NULL: none */
    const sl_schema *schema;
    size_t first;
} sl__sql_rel;

/*
 * What an expression is bound against. A column reference resolves to
 * the one relation column with that name (qualifier, then name, both
 * case-insensitive); two matches are "ambiguous", none "cannot resolve
 * 'x' given input columns: [a, b]" (both errors at the name's offset).
 */
typedef struct sl__sql_scope {
    const sl__sql_rel *rels;
    size_t nrels;
    /*
     * Optional hook (the planner's): asked first for every
     * sub-expression; returning true maps it to row[*column] of type
     * *type instead of binding it (group keys and aggregate results
     * above an aggregation). It may set e and return true with
     * *column = SIZE_MAX to fail the bind.
     */
    bool (*replace)(void *user, const sl__sql_expr *x, size_t *column,
                    const sl_type **type, sl__sql_error *e);
    void *user;
    /* Aggregate calls outside `replace` are an error naming the clause
     * ("aggregate functions are not allowed in WHERE"). */
    const char *clause;
    /* current_timestamp() of this query (one value per query), or, when
     * clock is set, what *clock holds at evaluation (a stream's batch). */
    int64_t now_ms;
    const _Atomic int64_t *clock;
} sl__sql_scope;

/* A compiled expression (immutable; shared by every thread). */
typedef struct sl__sql_prog sl__sql_prog;

/**
 * Bind x against scope and compile it into a program allocated in a.
 * Type rules are Spark's (docs/sql.md "Operators and type rules"): long
 * op long stays long except `/` (double); comparisons between long and
 * double compare as double; a string compared with a number is cast to
 * the number's type (Spark 3.x's findCommonTypeForBinaryComparison; the
 * first draft of this comment said double, which was Spark 2's rule); an
 * implicit cast that is not allowed is an error ("cannot resolve
 * '(a + b)' due to data type mismatch: ..." at x's offset). SL_EPARSE (e
 * set) or SL_ENOMEM.
 */
sl_status sl__sql_compile(const sl__sql_expr *x, const sl__sql_scope *scope,
                          sl__arena *a, sl__sql_prog **out, sl__sql_error *e);

/** The result type of a program. */
const sl_type *sl__sql_prog_type(const sl__sql_prog *p);

/**
 * Evaluate p over the columns of one input row (row[0 .. ncolumns)).
 * Strings and composites in *out point into the row or into scratch.
 * ANSI off: a bad cast, a division by zero, an index out of range give
 * NULL. SL_ENOMEM is the only failure.
 */
sl_status sl__sql_eval(const sl__sql_prog *p, const sl_value *row,
                       sl__arena *scratch, sl_value *out);

/* ------------------------------------------------------ scalar functions */

/*
 * A scalar function (functions.c registers them all; the compiler looks
 * them up by name). explode() is not one: it is a generator the planner
 * handles in a select list; current_timestamp() is bound to the scope's
 * now_ms as a literal.
 */
typedef struct sl__sql_func {
    const char *name;          /* lower case */
    size_t min_args, max_args; /* max SIZE_MAX: variadic */
    /*
     * Type a call: the result type for the argument types (types may be
     * SL_TYPE_NULL for a bare NULL). want[i] (preset to args[i]) may be
     * changed to ask the compiler for an implicit cast of argument i
     * first (e.g. a long to a string for concat). Composite result types
     * are allocated in a. NULL: not allowed, `why` says why ("argument 1
     * requires string type, however, 'x' is of long type" style).
     */
    const sl_type *(*bind)(const sl_type *const *args, size_t n,
                           const sl_type **want, sl__arena *a,
                           const char **why);
    /*
     * Optional: once per compiled call, with the literal arguments
     * (consts[i] non-NULL when argument i is a constant), e.g. to compile
     * a regular expression once. *state is freed by the arena's cleanup
     * when it needs more than arena memory. A non-OK status fails the
     * compile with `why`.
     */
    sl_status (*prepare)(const sl_value *const *consts, size_t n, sl__arena *a,
                         void **state, const char **why);
    /* Evaluate over cast arguments; result typed `result`. */
    sl_status (*eval)(const void *state, const sl_value *args, size_t n,
                      const sl_type *result, sl__arena *scratch, sl_value *out);
    bool null_in_null_out; /* a NULL argument gives NULL without eval */
} sl__sql_func;

/** The scalar function called name (lower case); NULL if none. */
const sl__sql_func *sl__sql_func_find(const char *name);

/**
 * Cast v (typed from) to `to` as Spark's CAST with ANSI off: a value
 * that does not convert gives NULL. Shared by CAST, implicit casts and
 * functions. SL_ENOMEM only.
 */
sl_status sl__sql_cast(const sl_value *v, const sl_type *from,
                       const sl_type *to, sl__arena *scratch, sl_value *out);

/**
 * Spark's ordering of values, for min/max/min_by/max_by, DISTINCT, the
 * planner's ORDER BY and the binder's comparisons (added by the
 * aggregates, which needed it first). NULL sorts first (Spark's ASC
 * default, NULLS FIRST; aggregates skip NULLs before comparing). Longs and
 * doubles compare by numeric value, exactly (a long is never rounded to
 * a double); doubles as Spark's SQLOrderingUtil.compareDoubles: NaN is
 * larger than every other value and equal to itself, -0.0 equals 0.0.
 * Strings and binary compare bytewise (for UTF-8, code point order),
 * then by length; booleans false < true; arrays and structs item by item,
 * then by length. Values of unrelated kinds (which binding prevents)
 * order by kind. Returns <0, 0 or >0.
 */
int sl__sql_compare(const sl_value *a, const sl_value *b);

/**
 * The n bytes at s as CAST(string AS double) reads them (trimmed; Java's
 * Double.parseDouble with Spark's "inf"/"nan" words; no hex): false when
 * they are not a number.
 */
bool sl__sql_str_to_double(const char *s, size_t n, double *out);

/** Whether name (lower case) is an aggregate function. */
bool sl__sql_is_aggregate(const char *name);

/* ---------------------------------------------------------- aggregates */

/*
 * An aggregate over its arguments (count(*): none; min_by(x, y): two).
 * Its accumulator is
 * an sl_value (a tuple where it needs several fields, e.g. avg's (count,
 * sum)) so that it can be merged across partitions and kept in the
 * state store between batches. NULL arguments are skipped (count(*)
 * counts every row). Methods are pure: bytes an accumulator needs are
 * allocated in the given arena.
 */
typedef struct sl__sql_agg {
    const char *name;
    size_t min_args, max_args;
    /* The result type for the argument types (NULL: not allowed, with
     * `why` for the caller's message). */
    const sl_type *(*result_type)(const sl_type *const *args, size_t n,
                                  const char **why);
    void (*init)(sl_value *acc);
    sl_status (*update)(sl_value *acc, const sl_value *args, size_t n,
                        sl__arena *a);
    sl_status (*merge)(sl_value *acc, const sl_value *other, sl__arena *a);
    sl_status (*finish)(const sl_value *acc, sl__arena *a, sl_value *out);
    bool streaming; /* allowed on streams (count DISTINCT is not) */
} sl__sql_agg;

/** The aggregate called name (lower case); NULL if none. */
const sl__sql_agg *sl__sql_agg_find(const char *name, bool distinct);

#endif /* SL_SQL_EXPR_H */
