/*
 * The SQL parser's state, shared by its two files: parser.c (queries,
 * FROM, clauses) and parser_expr.c (expressions by precedence). Internal
 * to src/sql.
 */
#ifndef SL_SQL_PARSER_INT_H
#define SL_SQL_PARSER_INT_H

#include "sql/lexer.h"

/* Deeper nesting of parentheses, sub-queries or operators is refused, so
 * that hostile text cannot exhaust the stack. */
#define SL__SQL_MAX_DEPTH 200

typedef struct sl__sql_parser {
    sl__sql_lexer lx;
    sl__arena *a;
    sl__sql_error *e;
    sl__sql_token tok[3]; /* tok[0] current, then look-ahead */
    int ntok;             /* how many of tok[] are lexed */
    size_t prev_end;      /* one past the last consumed token */
    int depth;
    int stage; /* the last clause parsed (query.c), for error messages */
} sl__sql_parser;

sl_status sl__sql_p_init(sl__sql_parser *p, const char *text, sl__arena *a,
                         sl__sql_error *e);
/** The token k ahead (0: current); lexes on demand. */
sl_status sl__sql_p_peek(sl__sql_parser *p, int k, sl__sql_token **t);
/** Consume the current token. */
sl_status sl__sql_p_next(sl__sql_parser *p);
/** True when the current token is keyword kw / punctuation s. */
bool sl__sql_p_kw(sl__sql_parser *p, const char *kw);
bool sl__sql_p_is(sl__sql_parser *p, const char *s);
/** Consume the current token when it is kw / s; *hit says whether. */
sl_status sl__sql_p_accept_kw(sl__sql_parser *p, const char *kw, bool *hit);
sl_status sl__sql_p_accept(sl__sql_parser *p, const char *s, bool *hit);
/** "syntax error at 'tok': expected <what>" at the current token. */
sl_status sl__sql_p_expected(sl__sql_parser *p, const char *what);
/** Consume s or fail with "expected <s>". */
sl_status sl__sql_p_expect(sl__sql_parser *p, const char *s);
sl_status sl__sql_p_expect_kw(sl__sql_parser *p, const char *kw);
/** True when the word t is reserved (not a bare identifier or alias). */
bool sl__sql_p_reserved(sl__sql_parser *p, const sl__sql_token *t);
/** An identifier (bare non-reserved word or quoted) as an arena string,
 * or NULL with *st set (SL_ENOMEM). */
const char *sl__sql_p_ident_text(sl__sql_parser *p, const sl__sql_token *t,
                                 sl_status *st);
/** Zeroed arena memory or NULL. */
void *sl__sql_p_alloc(sl__sql_parser *p, size_t n);
/** Enter one more level of nesting at offset; SL_EPARSE when too deep. */
sl_status sl__sql_p_enter(sl__sql_parser *p, size_t offset);

/** A new zeroed expression node with room for nargs operands. */
sl__sql_expr *sl__sql_p_mk(sl__sql_parser *p, sl__sql_expr_kind kind,
                           size_t offset, size_t nargs);
/** A literal node of value v typed t (a scalar). */
sl__sql_expr *sl__sql_p_literal(sl__sql_parser *p, size_t offset, sl_value v,
                                sl_type_id t);
/** Append x to the arena array *arr (*n items, room for *cap). */
sl_status sl__sql_p_push(sl__sql_parser *p, sl__sql_expr ***arr, size_t *n,
                         size_t *cap, sl__sql_expr *x);
/** A primary: literal, column, star, call, CASE, CAST, INTERVAL, (e). */
sl_status sl__sql_p_primary(sl__sql_parser *p, sl__sql_expr **out);

/** INTERVAL '10' SECONDS, INTERVAL 1 MINUTE 30 SECONDS: milliseconds. */
sl_status sl__sql_p_interval(sl__sql_parser *p, sl__sql_expr **out);

/** OVER (...) after the call x (the current token is OVER). */
sl_status sl__sql_p_over(sl__sql_parser *p, sl__sql_expr *x);

/** An expression (the whole precedence ladder: OR is loosest). */
sl_status sl__sql_p_expr(sl__sql_parser *p, sl__sql_expr **out);
/** "syntax error at X: expected <the clauses that may follow the last
 * one parsed> or <closer>". */
sl_status sl__sql_p_end_error(sl__sql_parser *p, const char *closer);
/** A query: SELECT ... / ( query ), UNION ALL, ORDER BY, LIMIT. */
sl_status sl__sql_p_query(sl__sql_parser *p, sl__sql_query **out);

#endif /* SL_SQL_PARSER_INT_H */
