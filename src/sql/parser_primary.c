/*
 * Primary SQL expressions: literals, columns, stars, function calls,
 * CASE, CAST and INTERVAL literals, and parenthesised expressions. The
 * operator levels above them are in parser_expr.c.
 */
#include "sql/parser_int.h"

#include <string.h>

/* Adjacent string literals are one ('a' 'b' is 'ab'), as in Spark. */
static sl_status string_lit(sl__sql_parser *p, sl__sql_expr **out)
{
    sl__sql_token t = p->tok[0], *nx;
    size_t off = t.offset;
    sl_status st = sl__sql_p_next(p);

    while (st == SL_OK && (st = sl__sql_p_peek(p, 0, &nx)) == SL_OK &&
           nx->kind == SL__TK_STRING) {
        char *s = sl__arena_alloc(p->a, t.slen + nx->slen + 1);
        if (!s)
            return SL_ENOMEM;
        memcpy(s, t.s, t.slen);
        memcpy(s + t.slen, nx->s, nx->slen + 1);
        t.s = s;
        t.slen += nx->slen;
        st = sl__sql_p_next(p);
    }
    if (st == SL_OK && !(*out = sl__sql_p_literal(p, off, sl_str(t.s, t.slen),
                                                  SL_TYPE_STRING)))
        st = SL_ENOMEM;
    return st;
}

/* f( [DISTINCT|ALL] [* | e, ...] ) with the name at the current token. */
static sl_status call(sl__sql_parser *p, sl__sql_expr **out)
{
    sl__sql_token *t = &p->tok[0];
    sl__sql_expr *x = sl__sql_p_mk(p, SL__SQL_FUNC, t->offset, 0), *e;
    size_t cap = 0;
    bool more = true, all;
    sl_status st;
    char *name;

    if (!x || !(name = sl__arena_alloc(p->a, t->len + 1)))
        return SL_ENOMEM;
    /* Function names are case-insensitive: kept lower-cased. */
    for (size_t i = 0; i < t->len; i++) {
        char c = p->lx.text[t->offset + i];
        name[i] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    }
    name[t->len] = '\0';
    x->name = name;
    *out = x;
    if ((st = sl__sql_p_next(p)) != SL_OK || (st = sl__sql_p_next(p)) ||
        (st = sl__sql_p_accept_kw(p, "DISTINCT", &x->distinct)) ||
        (!x->distinct && (st = sl__sql_p_accept_kw(p, "ALL", &all))))
        return st;
    if (sl__sql_p_is(p, ")") && !x->distinct)
        more = false;
    else if (sl__sql_p_is(p, "*")) {
        if (!(e = sl__sql_p_mk(p, SL__SQL_STAR, p->tok[0].offset, 0)))
            return SL_ENOMEM;
        e->end = p->tok[0].offset + 1;
        more = false;
        if ((st = sl__sql_p_next(p)) ||
            (st = sl__sql_p_push(p, &x->args, &x->nargs, &cap, e)))
            return st;
    }
    while (more) {
        if ((st = sl__sql_p_expr(p, &e)) ||
            (st = sl__sql_p_push(p, &x->args, &x->nargs, &cap, e)) ||
            (st = sl__sql_p_accept(p, ",", &more)))
            return st;
    }
    st = sl__sql_p_expect(p, ")");
    x->end = p->prev_end;
    /* f(x) OVER (: no alias is followed by '(', so OVER needs no
     * reserving. */
    if (st == SL_OK && sl__sql_p_kw(p, "OVER") &&
        (st = sl__sql_p_peek(p, 1, &t)) == SL_OK &&
        sl__sql_tok_is(&p->lx, t, "("))
        st = sl__sql_p_over(p, x);
    return st;
}

/* CASE [operand] WHEN c THEN r ... [ELSE e] END. */
static sl_status case_expr(sl__sql_parser *p, sl__sql_expr **out)
{
    sl__sql_expr *x = sl__sql_p_mk(p, SL__SQL_CASE, p->tok[0].offset, 0), *e;
    size_t cap = 0;
    bool when = false;
    sl_status st;

    if (!x)
        return SL_ENOMEM;
    *out = x;
    if ((st = sl__sql_p_next(p)) != SL_OK)
        return st;
    if (!sl__sql_p_kw(p, "WHEN")) {
        x->has_operand = true;
        if ((st = sl__sql_p_expr(p, &e)) ||
            (st = sl__sql_p_push(p, &x->args, &x->nargs, &cap, e)))
            return st;
    }
    while ((st = sl__sql_p_accept_kw(p, "WHEN", &when)) == SL_OK && when) {
        for (int k = 0; k < 2; k++)
            if ((k && (st = sl__sql_p_expect_kw(p, "THEN"))) ||
                (st = sl__sql_p_expr(p, &e)) ||
                (st = sl__sql_p_push(p, &x->args, &x->nargs, &cap, e)))
                return st;
    }
    if (st == SL_OK && x->nargs == (size_t)x->has_operand)
        return sl__sql_p_expected(p, "WHEN");
    if (st || (st = sl__sql_p_accept_kw(p, "ELSE", &x->has_else)))
        return st;
    if (x->has_else && ((st = sl__sql_p_expr(p, &e)) ||
                        (st = sl__sql_p_push(p, &x->args, &x->nargs, &cap, e))))
        return st;
    if (!sl__sql_p_kw(p, "END"))
        return sl__sql_p_expected(p, x->has_else ? "END" : "WHEN, ELSE or END");
    st = sl__sql_p_next(p);
    x->end = p->prev_end;
    return st;
}

/* The type of a CAST, kept as written up to the closing parenthesis
 * (nested <...> and (...) included): the binder parses it. */
static sl_status type_text(sl__sql_parser *p, sl__sql_expr *x)
{
    size_t start = p->tok[0].offset;
    int depth = 0;
    char *s;
    sl_status st = SL_OK;

    if (sl__sql_p_is(p, ")") || p->tok[0].kind == SL__TK_EOF)
        return sl__sql_p_expected(p, "a type after AS");
    while (st == SL_OK && !(depth == 0 && sl__sql_p_is(p, ")"))) {
        if (p->tok[0].kind == SL__TK_EOF)
            return sl__sql_p_expected(p, "')' after the type");
        if (sl__sql_p_is(p, "<") || sl__sql_p_is(p, "("))
            depth++;
        else if (sl__sql_p_is(p, ">") || sl__sql_p_is(p, ")"))
            depth--;
        st = sl__sql_p_next(p);
    }
    if (st != SL_OK)
        return st;
    if (!(s = sl__arena_alloc(p->a, p->prev_end - start + 1)))
        return SL_ENOMEM;
    memcpy(s, p->lx.text + start, p->prev_end - start);
    s[p->prev_end - start] = '\0';
    x->type_text = s;
    x->type_offset = start;
    return SL_OK;
}

static sl_status cast_expr(sl__sql_parser *p, sl__sql_expr **out)
{
    sl__sql_expr *x = sl__sql_p_mk(p, SL__SQL_CAST, p->tok[0].offset, 1);
    sl_status st;

    if (!x)
        return SL_ENOMEM;
    *out = x;
    if ((st = sl__sql_p_next(p)) || (st = sl__sql_p_expect(p, "(")) ||
        (st = sl__sql_p_expr(p, &x->args[0])) ||
        (st = sl__sql_p_expect_kw(p, "AS")) || (st = type_text(p, x)) ||
        (st = sl__sql_p_expect(p, ")")))
        return st;
    x->end = p->prev_end;
    return SL_OK;
}

/* [qualifier.]name, [qualifier.]*, or a call when '(' follows. */
static sl_status name_expr(sl__sql_parser *p, sl__sql_expr **out)
{
    sl__sql_token *t1, *t2;
    sl__sql_expr *x;
    sl_status st = sl__sql_p_peek(p, 1, &t1);
    const char *first;

    if (st)
        return st;
    /* Of the reserved words only LEFT and RIGHT name functions. */
    if (p->tok[0].kind == SL__TK_IDENT && sl__sql_tok_is(&p->lx, t1, "(") &&
        (!sl__sql_p_reserved(p, &p->tok[0]) || sl__sql_p_kw(p, "LEFT") ||
         sl__sql_p_kw(p, "RIGHT")))
        return call(p, out);
    if (sl__sql_p_reserved(p, &p->tok[0]))
        return sl__sql_p_expected(p, "an expression");
    if (!(first = sl__sql_p_ident_text(p, &p->tok[0], &st)))
        return st;
    if (!(x = sl__sql_p_mk(p, SL__SQL_COLUMN, p->tok[0].offset, 0)))
        return SL_ENOMEM;
    *out = x;
    x->name = first;
    if ((st = sl__sql_p_next(p)) || (st = sl__sql_p_peek(p, 1, &t2)))
        return st;
    if (sl__sql_p_is(p, ".") && sl__sql_tok_is(&p->lx, t2, "*")) {
        x->kind = SL__SQL_STAR;
        x->qualifier = first;
        x->name = NULL;
        if ((st = sl__sql_p_next(p)) == SL_OK)
            st = sl__sql_p_next(p);
    } else if (sl__sql_p_is(p, ".") &&
               (t2->kind == SL__TK_IDENT || t2->kind == SL__TK_QIDENT)) {
        /* a.b is a qualified column; the binder may read it as field b
         * of column a when no relation a exists, as Spark does. */
        x->qualifier = first;
        if ((st = sl__sql_p_next(p)) == SL_OK &&
            (x->name = sl__sql_p_ident_text(p, &p->tok[0], &st)))
            st = sl__sql_p_next(p);
    }
    x->end = p->prev_end;
    return st;
}

static sl_status number_lit(sl__sql_parser *p, sl__sql_expr **out)
{
    sl__sql_token *t = &p->tok[0];
    bool l = t->kind == SL__TK_LONG;
    *out = sl__sql_p_literal(p, t->offset, l ? sl_int(t->l) : sl_double(t->d),
                             l ? SL_TYPE_LONG : SL_TYPE_DOUBLE);
    return *out ? sl__sql_p_next(p) : SL_ENOMEM;
}

static sl_status word_lit(sl__sql_parser *p, sl__sql_expr **out)
{
    size_t off = p->tok[0].offset;
    if (sl__sql_p_kw(p, "NULL"))
        *out = sl__sql_p_literal(p, off, sl_null(), SL_TYPE_NULL);
    else
        *out = sl__sql_p_literal(p, off, sl_bool(sl__sql_p_kw(p, "TRUE")),
                                 SL_TYPE_BOOLEAN);
    return *out ? sl__sql_p_next(p) : SL_ENOMEM;
}

static sl_status paren(sl__sql_parser *p, sl__sql_expr **out)
{
    sl_status st = sl__sql_p_next(p);
    sl__sql_token *t;

    if (st || (st = sl__sql_p_peek(p, 0, &t)))
        return st;
    if (sl__sql_p_kw(p, "SELECT"))
        return sl__sql_error_set(p->e, t->offset,
                                 "scalar sub-queries are not supported");
    if ((st = sl__sql_p_expr(p, out)) == SL_OK)
        st = sl__sql_p_expect(p, ")");
    return st;
}

sl_status sl__sql_p_primary(sl__sql_parser *p, sl__sql_expr **out)
{
    sl__sql_token *t = &p->tok[0];
    sl_status st;

    if (t->kind == SL__TK_LONG || t->kind == SL__TK_DOUBLE)
        st = number_lit(p, out);
    else if (t->kind == SL__TK_STRING)
        st = string_lit(p, out);
    else if (t->kind == SL__TK_BINARY) {
        *out = sl__sql_p_literal(p, t->offset, sl_bytes(t->s, t->slen),
                                 SL_TYPE_BINARY);
        st = *out ? sl__sql_p_next(p) : SL_ENOMEM;
    } else if (sl__sql_p_kw(p, "NULL") || sl__sql_p_kw(p, "TRUE") ||
               sl__sql_p_kw(p, "FALSE"))
        st = word_lit(p, out);
    else if (sl__sql_p_kw(p, "CASE"))
        return case_expr(p, out);
    else if (sl__sql_p_kw(p, "CAST"))
        return cast_expr(p, out);
    else if (sl__sql_p_kw(p, "INTERVAL"))
        return sl__sql_p_interval(p, out);
    else if (sl__sql_p_is(p, "("))
        return paren(p, out);
    else if (t->kind == SL__TK_IDENT || t->kind == SL__TK_QIDENT)
        return name_expr(p, out);
    else
        return sl__sql_p_expected(p, "an expression");
    if (st == SL_OK)
        (*out)->end = p->prev_end;
    return st;
}
