/*
 * The SQL syntax tree: what src/sql/parser.c makes of a query's text and
 * the binder reads. Every node lives in the arena the parser was given
 * and carries the byte offset in the query text it starts at, for error
 * messages with line, column and a caret (sl__sql_error_format).
 */
#ifndef SL_SQL_AST_H
#define SL_SQL_AST_H

#include "core/core.h"

#include <sluice/schema.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---------------------------------------------------------------- errors */

/* An error in a query: where (byte offset into the text) and what. */
typedef struct sl__sql_error {
    size_t offset; /* byte offset of the token the error is about */
    char msg[256]; /* "mismatched input 'FORM' expecting ..." */
} sl__sql_error;

/** Set e (printf-style message) and return SL_EPARSE. */
sl_status sl__sql_error_set(sl__sql_error *e, size_t offset, const char *fmt,
                            ...) __attribute__((format(printf, 3, 4)));

/**
 * Write e for people, with the 1-based line and column of its offset in
 * text, the line itself and a caret under the column:
 *
 *     line 1, column 10: unknown column 'vale'
 *     SELECT x, vale FROM t
 *               ^
 *
 * into buf (NUL-terminated, cut to n); returns buf.
 */
char *sl__sql_error_format(const char *text, const sl__sql_error *e, char *buf,
                           size_t n);

/* --------------------------------------------------------- expressions */

typedef enum sl__sql_expr_kind {
    SL__SQL_LITERAL, /* value typed by type: NULL, TRUE, 1, 1.5, 'a' */
    SL__SQL_COLUMN,  /* [qualifier.]name */
    SL__SQL_STAR,    /* [qualifier.]* (select lists and count(*)) */
    SL__SQL_UNARY,   /* op arg[0]: NOT, -, + */
    SL__SQL_BINARY,  /* arg[0] op arg[1] */
    SL__SQL_FUNC,    /* name(args) [DISTINCT]; count(*) has one STAR */
    SL__SQL_CASE,    /* CASE [operand] WHEN.. THEN.. [ELSE] END */
    SL__SQL_CAST,    /* CAST(arg[0] AS type) */
    SL__SQL_IS_NULL, /* arg[0] IS [NOT] NULL */
    SL__SQL_IN,      /* arg[0] [NOT] IN (arg[1..]) */
    SL__SQL_BETWEEN, /* arg[0] [NOT] BETWEEN arg[1] AND arg[2] */
    SL__SQL_LIKE,    /* arg[0] [NOT] LIKE arg[1] */
    SL__SQL_RLIKE,   /* arg[0] [NOT] RLIKE / REGEXP arg[1] */
    SL__SQL_INDEX,   /* arg[0][arg[1]]: array element, 0-based */
    SL__SQL_FIELD,   /* arg[0].name: struct field (window.start) */
    SL__SQL_INTERVAL /* INTERVAL '10' SECONDS / INTERVAL 1 MINUTE: ms */
} sl__sql_expr_kind;

typedef enum sl__sql_op {
    SL__SQL_OP_NONE = 0,
    /* unary */
    SL__SQL_OP_NOT,
    SL__SQL_OP_NEG,
    SL__SQL_OP_PLUS,
    /* binary, by precedence groups (parser.c has the table) */
    SL__SQL_OP_OR,
    SL__SQL_OP_AND,
    SL__SQL_OP_EQ,      /* = and == */
    SL__SQL_OP_NULL_EQ, /* <=> */
    SL__SQL_OP_NE,      /* <> and != */
    SL__SQL_OP_LT,
    SL__SQL_OP_LE,
    SL__SQL_OP_GT,
    SL__SQL_OP_GE,
    SL__SQL_OP_ADD,
    SL__SQL_OP_SUB,
    SL__SQL_OP_MUL,
    SL__SQL_OP_DIV,    /* / : always double (ANSI off: x / 0 is NULL) */
    SL__SQL_OP_IDIV,   /* div: long division, NULL on 0 */
    SL__SQL_OP_MOD,    /* % */
    SL__SQL_OP_CONCAT, /* || */
    SL__SQL_OP_BITAND, /* & */
    SL__SQL_OP_BITOR,  /* | */
    SL__SQL_OP_BITXOR  /* ^ */
} sl__sql_op;

typedef struct sl__sql_expr sl__sql_expr;
typedef struct sl__sql_window sl__sql_window;

struct sl__sql_expr {
    sl__sql_expr_kind kind;
    size_t offset; /* where the expression starts in the text */
    size_t end;    /* one past its last byte (for default column names) */
    sl__sql_op op; /* UNARY, BINARY */
    bool negated;  /* IS NOT NULL, NOT IN, NOT BETWEEN, NOT LIKE */
    bool distinct; /* FUNC: f(DISTINCT x) */
    /* LITERAL: the value (strings point into the arena, unescaped) and
     * its type (long, double, string, boolean, null); INTERVAL: ms as
     * a long. */
    sl_value value;
    const sl_type *type; /* LITERAL (a scalar constant) */
    /* CAST: the target type's text as written ("double", "array<string>",
     * "decimal(10,2)"), NUL-terminated; the binder reads it with
     * sl__type_parse (src/core/schema.h) and reports errors at
     * type_offset. */
    const char *type_text;
    size_t type_offset;
    /* COLUMN, STAR: qualifier (NULL if none); FUNC: NULL. Identifiers
     * are kept as written, backquotes removed; matching is the
     * binder's (case-insensitive). */
    const char *qualifier;
    const char *name; /* COLUMN, FUNC (lower-cased), FIELD */
    /* Operands in order. CASE: [operand,] when1, then1, ..., [else]
     * with has_operand/has_else saying which are there. */
    sl__sql_expr **args;
    size_t nargs;
    bool has_operand, has_else; /* CASE */
    /* FUNC: agg(x) OVER (...), NULL for a plain call. */
    const sl__sql_window *over;
};

/* EXCLUDE of a window frame (the SQL standard's, as SQLite's). */
typedef enum sl__sql_exclude {
    SL__SQL_EXCLUDE_NO_OTHERS = 0,
    SL__SQL_EXCLUDE_CURRENT_ROW,
    SL__SQL_EXCLUDE_GROUP, /* the current row and its peers */
    SL__SQL_EXCLUDE_TIES   /* its peers, not the current row */
} sl__sql_exclude;

/*
 * OVER (PARTITION BY e, ... ORDER BY key [ASC] frame): the frame is
 * ROWS or RANGE BETWEEN <start> AND CURRENT ROW, where start is
 * UNBOUNDED PRECEDING (preceding NULL), CURRENT ROW (preceding a literal
 * 0) or `n PRECEDING` (a literal number, or an INTERVAL for RANGE over
 * a timestamp). Without a frame: RANGE UNBOUNDED PRECEDING (the
 * standard's default; without ORDER BY that is the whole partition).
 */
struct sl__sql_window {
    size_t offset; /* of OVER */
    sl__sql_expr **partition;
    size_t npartition;
    sl__sql_expr *order; /* NULL: no ORDER BY */
    bool rows;           /* ROWS; false: RANGE */
    sl__sql_expr *preceding;
    size_t frame_offset; /* of ROWS/RANGE, for errors */
    sl__sql_exclude exclude;
};

/* ---------------------------------------------------------------- queries */

typedef struct sl__sql_query sl__sql_query;

/* One item of a select list: expr [AS] alias. */
typedef struct sl__sql_item {
    sl__sql_expr *expr;
    const char *alias; /* NULL: none given */
} sl__sql_item;

typedef enum sl__sql_from_kind {
    SL__SQL_FROM_NAME,     /* a source, stream, view or table by name */
    SL__SQL_FROM_SUBQUERY, /* ( query ) alias */
    SL__SQL_FROM_JOIN      /* left [INNER|LEFT [OUTER]] JOIN right ON cond */
} sl__sql_from_kind;

typedef enum sl__sql_join_kind {
    SL__SQL_JOIN_INNER,
    SL__SQL_JOIN_LEFT
} sl__sql_join_kind;

typedef struct sl__sql_from sl__sql_from;

struct sl__sql_from {
    sl__sql_from_kind kind;
    size_t offset;
    const char *name;  /* NAME */
    const char *alias; /* NAME, SUBQUERY (NULL: none) */
    sl__sql_query *subquery;
    sl__sql_join_kind join;
    sl__sql_from *left, *right;
    sl__sql_expr *on; /* JOIN: ON condition */
    /* NAME: WATERMARK column DELAY OF INTERVAL ... (NULL: none); the
     * delay in ms (a stream's event time: docs/sql.md) */
    const char *wm_column;
    int64_t wm_delay_ms;
    size_t wm_offset;
};

/* ORDER BY expr [ASC|DESC] [NULLS FIRST|LAST]; Spark's default: ASC with
 * NULLS FIRST, DESC with NULLS LAST. */
typedef struct sl__sql_order {
    sl__sql_expr *expr;
    bool desc;
    bool nulls_first;
} sl__sql_order;

typedef enum sl__sql_query_kind {
    SL__SQL_SELECT,
    SL__SQL_UNION_ALL /* left UNION ALL right */
} sl__sql_query_kind;

struct sl__sql_query {
    sl__sql_query_kind kind;
    size_t offset;
    /* SELECT */
    bool distinct;
    sl__sql_item *items;
    size_t nitems;
    sl__sql_from *from; /* NULL: SELECT without FROM (one row) */
    sl__sql_expr *where;
    sl__sql_expr **group_by; /* expressions; a bare long literal is an
                                ordinal into the select list (1-based) */
    size_t ngroup_by;
    sl__sql_expr *having;
    /* UNION_ALL */
    sl__sql_query *left, *right;
    /* Both kinds: ORDER BY and LIMIT after the query (on a union: of
     * the whole union). A bare long literal in ORDER BY is an ordinal. */
    sl__sql_order *order_by;
    size_t norder_by;
    int64_t limit; /* -1: none */
    size_t limit_offset;
};

/**
 * Parse one query (an optional trailing ';' allowed) into nodes
 * allocated in a. SL_EPARSE with e set at the offending token (messages
 * in the style of Spark's: "mismatched input 'FORM' expecting {<EOF>,
 * ',', 'FROM', ...}" may be shortened to the useful part: "syntax error
 * at 'FORM': expected FROM, WHERE, GROUP BY, ... or end of query"),
 * SL_ENOMEM. Keywords are case-insensitive; identifiers may be
 * backquoted; string literals use '...' or "..." with backslash escapes
 * as Spark's; numbers: 12 (long; too big for a long: double), 1.5, 1e3,
 * .5 (double: fraction literals read as double, not DECIMAL). Comments:
 * -- to end of line and block comments.
 */
sl_status sl__sql_parse(const char *text, sl__arena *a, sl__sql_query **out,
                        sl__sql_error *e);

/** fn for the FROM of each SELECT of q (both sides of a UNION ALL); the
 * first failure is returned. */
sl_status sl__sql_query_froms(const sl__sql_query *q,
                              sl_status (*fn)(void *user, const sl__sql_from *f,
                                              sl__sql_error *e),
                              void *user, sl__sql_error *e);

/** Whether a FROM of q, at any depth, has a WATERMARK clause. */
bool sl__sql_query_has_watermark(const sl__sql_query *q);

/**
 * Parse a single expression (a job file's reject_when): the whole text
 * must be one expression.
 */
sl_status sl__sql_parse_expr(const char *text, sl__arena *a, sl__sql_expr **out,
                             sl__sql_error *e);

/*
 * The tree as canonical S-expression text, e.g.
 * "(select (items (+ a 1) (as b c)) (from t) (where (> a 1)))", for the
 * parser's tests now and for EXPLAIN-style output of the planner later.
 * Both write into buf (NUL-terminated, cut to n) and return the length
 * the whole text needs, as snprintf.
 */
size_t sl__sql_ast_format(const sl__sql_query *q, char *buf, size_t n);
size_t sl__sql_expr_format(const sl__sql_expr *x, char *buf, size_t n);

#endif /* SL_SQL_AST_H */
