/*
 * The SQL parser (ast.h): recursive descent over the lexer's tokens with
 * two tokens of look-ahead. This file has the parser's plumbing, the
 * query level (SELECT, FROM with joins, clauses, UNION ALL, ORDER BY,
 * LIMIT) and the entry points; expressions are in parser_expr.c,
 * parser_primary.c and interval.c.
 */
#include "sql/parser_int.h"

#include <stdio.h>
#include <string.h>

sl_status sl__sql_p_init(sl__sql_parser *p, const char *text, sl__arena *a,
                         sl__sql_error *e)
{
    memset(p, 0, sizeof *p);
    p->a = a;
    p->e = e;
    sl__sql_lexer_init(&p->lx, text, a, e);
    p->ntok = 1;
    return sl__sql_lex(&p->lx, &p->tok[0]);
}

sl_status sl__sql_p_peek(sl__sql_parser *p, int k, sl__sql_token **t)
{
    sl_status st;
    while (p->ntok <= k) {
        if ((st = sl__sql_lex(&p->lx, &p->tok[p->ntok])) != SL_OK)
            return st;
        p->ntok++;
    }
    *t = &p->tok[k];
    return SL_OK;
}

sl_status sl__sql_p_next(sl__sql_parser *p)
{
    p->prev_end = p->tok[0].offset + p->tok[0].len;
    if (p->tok[0].kind == SL__TK_EOF)
        return SL_OK;
    memmove(&p->tok[0], &p->tok[1], 2 * sizeof p->tok[0]);
    if (--p->ntok == 0) {
        p->ntok = 1;
        return sl__sql_lex(&p->lx, &p->tok[0]);
    }
    return SL_OK;
}

bool sl__sql_p_kw(sl__sql_parser *p, const char *kw)
{
    return sl__sql_tok_is_kw(&p->lx, &p->tok[0], kw);
}

bool sl__sql_p_is(sl__sql_parser *p, const char *s)
{
    return sl__sql_tok_is(&p->lx, &p->tok[0], s);
}

sl_status sl__sql_p_accept_kw(sl__sql_parser *p, const char *kw, bool *hit)
{
    *hit = sl__sql_p_kw(p, kw);
    return *hit ? sl__sql_p_next(p) : SL_OK;
}

sl_status sl__sql_p_accept(sl__sql_parser *p, const char *s, bool *hit)
{
    *hit = sl__sql_p_is(p, s);
    return *hit ? sl__sql_p_next(p) : SL_OK;
}

sl_status sl__sql_p_expected(sl__sql_parser *p, const char *what)
{
    const sl__sql_token *t = &p->tok[0];
    char shown[48];
    size_t n = t->len < 40 ? t->len : 40;

    if (t->kind == SL__TK_EOF)
        return sl__sql_error_set(
            p->e, t->offset, "syntax error at end of query: expected %s", what);
    /* The token as written, one line, cut to 40 bytes. */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p->lx.text[t->offset + i];
        shown[i] = c < 0x20 || c == 0x7f ? ' ' : (char)c;
    }
    strcpy(shown + n, t->len > n ? "..." : "");
    return sl__sql_error_set(p->e, t->offset,
                             "syntax error at '%s': expected %s", shown, what);
}

sl_status sl__sql_p_expect(sl__sql_parser *p, const char *s)
{
    char what[16];
    if (sl__sql_p_is(p, s))
        return sl__sql_p_next(p);
    snprintf(what, sizeof what, "'%s'", s);
    return sl__sql_p_expected(p, what);
}

sl_status sl__sql_p_expect_kw(sl__sql_parser *p, const char *kw)
{
    if (sl__sql_p_kw(p, kw))
        return sl__sql_p_next(p);
    return sl__sql_p_expected(p, kw);
}

/* Words that cannot be bare identifiers or aliases because the grammar
 * would be ambiguous with them; backquoted, any word is an identifier.
 * Spark with ANSI off reserves fewer, but it has a bigger grammar to
 * disambiguate by. */
static const char *const reserved[] = {
    "ALL",    "AND",   "AS",      "BETWEEN",  "BY",    "CASE",   "CAST",
    "CROSS",  "ELSE",  "END",     "FALSE",    "FROM",  "FULL",   "GROUP",
    "HAVING", "IN",    "INNER",   "INTERVAL", "IS",    "JOIN",   "LEFT",
    "LIKE",   "LIMIT", "NATURAL", "NOT",      "NULL",  "ON",     "OR",
    "ORDER",  "OUTER", "REGEXP",  "RIGHT",    "RLIKE", "SELECT", "THEN",
    "TRUE",   "UNION", "USING",   "WHEN",     "WHERE", NULL};

bool sl__sql_p_reserved(sl__sql_parser *p, const sl__sql_token *t)
{
    for (size_t i = 0; reserved[i]; i++)
        if (sl__sql_tok_is_kw(&p->lx, t, reserved[i]))
            return true;
    return false;
}

const char *sl__sql_p_ident_text(sl__sql_parser *p, const sl__sql_token *t,
                                 sl_status *st)
{
    char *s;
    if (t->kind == SL__TK_QIDENT)
        return t->s;
    if (!(s = sl__arena_alloc(p->a, t->len + 1))) {
        *st = SL_ENOMEM;
        return NULL;
    }
    memcpy(s, p->lx.text + t->offset, t->len);
    s[t->len] = '\0';
    return s;
}

void *sl__sql_p_alloc(sl__sql_parser *p, size_t n)
{
    void *m = sl__arena_alloc(p->a, n);
    if (m)
        memset(m, 0, n);
    return m;
}

sl_status sl__sql_p_enter(sl__sql_parser *p, size_t offset)
{
    if (++p->depth > SL__SQL_MAX_DEPTH)
        return sl__sql_error_set(p->e, offset,
                                 "query nested too deeply (more than %d "
                                 "levels)",
                                 SL__SQL_MAX_DEPTH);
    return SL_OK;
}

/* ------------------------------------------------------- entry points */

sl_status sl__sql_parse(const char *text, sl__arena *a, sl__sql_query **out,
                        sl__sql_error *e)
{
    sl__sql_parser p;
    sl_status st = sl__sql_p_init(&p, text, a, e);
    bool semi;

    *out = NULL;
    if (st)
        return st;
    if (p.tok[0].kind == SL__TK_EOF || sl__sql_p_is(&p, ";"))
        return sl__sql_error_set(e, 0, "empty query");
    if ((st = sl__sql_p_query(&p, out)) ||
        (st = sl__sql_p_accept(&p, ";", &semi)))
        return st;
    if (p.tok[0].kind != SL__TK_EOF)
        return semi ? sl__sql_p_expected(&p, "end of query")
                    : sl__sql_p_end_error(&p, "end of query");
    return SL_OK;
}

sl_status sl__sql_parse_expr(const char *text, sl__arena *a, sl__sql_expr **out,
                             sl__sql_error *e)
{
    sl__sql_parser p;
    sl_status st = sl__sql_p_init(&p, text, a, e);

    *out = NULL;
    if (st)
        return st;
    if (p.tok[0].kind == SL__TK_EOF)
        return sl__sql_error_set(e, 0, "empty expression");
    if ((st = sl__sql_p_expr(&p, out)))
        return st;
    if (p.tok[0].kind != SL__TK_EOF)
        return sl__sql_p_expected(&p, "an operator or end of expression");
    return SL_OK;
}
