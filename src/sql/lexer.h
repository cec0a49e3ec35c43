/*
 * The SQL lexer: turns a query's text into tokens on demand for the
 * parser (src/sql/parser.c). Internal to src/sql. Strings and quoted
 * identifiers are unescaped into the parser's arena as Spark's
 * ParserUtils.unescapeSQLString does.
 */
#ifndef SL_SQL_LEXER_H
#define SL_SQL_LEXER_H

#include "sql/ast.h"

typedef enum sl__sql_tok_kind {
    SL__TK_EOF,
    SL__TK_IDENT,  /* a bare word: keyword or identifier */
    SL__TK_QIDENT, /* `quoted identifier` (never a keyword) */
    SL__TK_LONG,   /* 12, 12L */
    SL__TK_DOUBLE, /* 1.5, 1e3, .5, 12D, and longs too big for int64 */
    SL__TK_STRING, /* 'text' or "text", unescaped */
    SL__TK_BINARY, /* X'0aFF' */
    SL__TK_PUNCT   /* operators and punctuation: ( ) , . <=> ... */
} sl__sql_tok_kind;

typedef struct sl__sql_token {
    sl__sql_tok_kind kind;
    size_t offset, len; /* the raw token in the text */
    int64_t l;          /* LONG */
    double d;           /* DOUBLE */
    const char *s;      /* QIDENT, STRING, BINARY: unescaped, in the arena,
                           NUL-terminated */
    size_t slen;        /* its length in bytes */
} sl__sql_token;

typedef struct sl__sql_lexer {
    const char *text;
    size_t len, pos;
    sl__arena *arena;
    sl__sql_error *err;
} sl__sql_lexer;

/** Start lexing text (NUL-terminated) with strings unescaped into a. */
void sl__sql_lexer_init(sl__sql_lexer *lx, const char *text, sl__arena *a,
                        sl__sql_error *e);

/**
 * The next token into *t (EOF at the end, again and again). SL_EPARSE
 * with the lexer's error set at the bad token's start (unterminated
 * string, comment or quoted identifier, invalid number or character),
 * SL_ENOMEM.
 */
sl_status sl__sql_lex(sl__sql_lexer *lx, sl__sql_token *t);

/** True when t is the bare word kw (upper case), case-insensitively. */
bool sl__sql_tok_is_kw(const sl__sql_lexer *lx, const sl__sql_token *t,
                       const char *kw);

/** True when t is the punctuation p ("(", "<=>", ...). */
bool sl__sql_tok_is(const sl__sql_lexer *lx, const sl__sql_token *t,
                    const char *p);

#endif /* SL_SQL_LEXER_H */
