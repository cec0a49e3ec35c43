/*
 * The query level of the SQL parser: SELECT [DISTINCT] items, FROM with
 * sub-queries and INNER / LEFT [OUTER] joins, WHERE, GROUP BY, HAVING,
 * UNION ALL (left-associative), ORDER BY and LIMIT, which after the last
 * SELECT of a union apply to the whole union, as in Spark.
 */
#include "sql/parser_int.h"

#include <stdio.h>
#include <string.h>

/* What may follow the clause last parsed (parser.stage), for errors. */
enum { ST_ITEMS, ST_FROM, ST_WHERE, ST_GROUP, ST_HAVING, ST_ORDER, ST_LIMIT };
static const char *const follow[] = {
    "',', FROM, WHERE, GROUP BY, HAVING, ORDER BY, LIMIT, UNION",
    "JOIN, WHERE, GROUP BY, HAVING, ORDER BY, LIMIT, UNION",
    "GROUP BY, HAVING, ORDER BY, LIMIT, UNION",
    "',', HAVING, ORDER BY, LIMIT, UNION",
    "ORDER BY, LIMIT, UNION",
    "',', LIMIT",
    NULL};

sl_status sl__sql_p_end_error(sl__sql_parser *p, const char *closer)
{
    char what[160];
    const char *f = follow[p->stage];
    if (f)
        snprintf(what, sizeof what, "%s or %s", f, closer);
    else
        snprintf(what, sizeof what, "%s", closer);
    return sl__sql_p_expected(p, what);
}

static void *grow(sl__sql_parser *p, void *arr, size_t n, size_t size)
{
    /* Powers of two: grow when n reaches one (0 too). */
    void *m;
    if (n && (n & (n - 1)))
        return arr;
    if (!(m = sl__sql_p_alloc(p, (n ? 2 * n : 1) * size)))
        return NULL;
    if (n)
        memcpy(m, arr, n * size);
    return m;
}

/* [AS] alias: NULL *out when none. */
/* WATERMARK followed by a name: the clause, not an alias. */
static bool watermark_clause(sl__sql_parser *p)
{
    sl__sql_token *next;
    return sl__sql_p_kw(p, "WATERMARK") &&
           sl__sql_p_peek(p, 1, &next) == SL_OK &&
           (next->kind == SL__TK_IDENT || next->kind == SL__TK_QIDENT);
}

static sl_status alias(sl__sql_parser *p, const char **out)
{
    sl__sql_token *t = &p->tok[0];
    sl_status st = SL_OK;
    bool as;

    *out = NULL;
    if ((st = sl__sql_p_accept_kw(p, "AS", &as)))
        return st;
    if (!as && watermark_clause(p))
        return SL_OK;
    if (t->kind == SL__TK_QIDENT ||
        (t->kind == SL__TK_IDENT && !sl__sql_p_reserved(p, t))) {
        if ((*out = sl__sql_p_ident_text(p, t, &st)))
            st = sl__sql_p_next(p);
        return st;
    }
    return as ? sl__sql_p_expected(p, "an alias after AS") : SL_OK;
}

static sl_status items(sl__sql_parser *p, sl__sql_query *q)
{
    bool more = true;
    sl__sql_item *it;
    sl_status st;

    while (more) {
        if (!(q->items = grow(p, q->items, q->nitems, sizeof *q->items)))
            return SL_ENOMEM;
        it = &q->items[q->nitems++];
        if (sl__sql_p_is(p, "*")) {
            if (!(it->expr =
                      sl__sql_p_mk(p, SL__SQL_STAR, p->tok[0].offset, 0)))
                return SL_ENOMEM;
            it->expr->end = p->tok[0].offset + 1;
            st = sl__sql_p_next(p);
        } else if ((st = sl__sql_p_expr(p, &it->expr)) == SL_OK &&
                   it->expr->kind != SL__SQL_STAR)
            st = alias(p, &it->alias);
        if (st || (st = sl__sql_p_accept(p, ",", &more)))
            return st;
    }
    return SL_OK;
}

static sl_status from_item(sl__sql_parser *p, sl__sql_from **out);

/* WATERMARK column DELAY OF INTERVAL ... after a named relation: its
 * event-time column and delay (Spark 4's clause). */
static sl_status watermark(sl__sql_parser *p, sl__sql_from *f)
{
    sl__sql_expr *iv;
    sl_status st;
    f->wm_offset = p->tok[0].offset;
    if ((st = sl__sql_p_next(p)) ||
        !(f->wm_column = sl__sql_p_ident_text(p, &p->tok[0], &st)) ||
        (st = sl__sql_p_next(p)) || (st = sl__sql_p_expect_kw(p, "DELAY")) ||
        (st = sl__sql_p_expect_kw(p, "OF")))
        return st;
    if (!sl__sql_p_kw(p, "INTERVAL"))
        return sl__sql_p_expected(p, "INTERVAL after DELAY OF");
    if ((st = sl__sql_p_interval(p, &iv)))
        return st;
    if (iv->value.kind != SL_KIND_INT || iv->value.u.i < 0)
        return sl__sql_error_set(p->e, iv->offset,
                                 "a watermark delay is a non-negative "
                                 "interval");
    f->wm_delay_ms = iv->value.u.i;
    return SL_OK;
}

/* A name or a ( sub-query ), with an optional alias. */
static sl_status relation(sl__sql_parser *p, sl__sql_from **out)
{
    sl__sql_from *f = sl__sql_p_alloc(p, sizeof *f);
    sl__sql_token *t = &p->tok[0];
    sl_status st;

    if (!(*out = f))
        return SL_ENOMEM;
    f->offset = t->offset;
    if (sl__sql_p_is(p, "(")) {
        f->kind = SL__SQL_FROM_SUBQUERY;
        if ((st = sl__sql_p_next(p)) || (st = sl__sql_p_query(p, &f->subquery)))
            return st;
        if (!sl__sql_p_is(p, ")"))
            return sl__sql_p_end_error(p, "')'");
        if ((st = sl__sql_p_next(p)))
            return st;
    } else if (t->kind == SL__TK_QIDENT ||
               (t->kind == SL__TK_IDENT && !sl__sql_p_reserved(p, t))) {
        f->kind = SL__SQL_FROM_NAME;
        if (!(f->name = sl__sql_p_ident_text(p, t, &st)) ||
            (st = sl__sql_p_next(p)))
            return st;
    } else {
        return sl__sql_p_expected(p, "a table name or '('");
    }
    if ((st = alias(p, &f->alias)))
        return st;
    return f->kind == SL__SQL_FROM_NAME && watermark_clause(p) ? watermark(p, f)
                                                               : SL_OK;
}

/* The join keyword(s) at the current token: *kind and *hit. */
static sl_status join_kind(sl__sql_parser *p, sl__sql_join_kind *kind,
                           bool *hit)
{
    static const char *const refused[] = {"RIGHT", "FULL", "CROSS", "NATURAL",
                                          NULL};
    bool b;
    sl_status st;

    *kind = sl__sql_p_kw(p, "LEFT") ? SL__SQL_JOIN_LEFT : SL__SQL_JOIN_INNER;
    for (size_t i = 0; refused[i]; i++)
        if (sl__sql_p_kw(p, refused[i]))
            return sl__sql_error_set(p->e, p->tok[0].offset,
                                     "%s JOIN is not supported: use "
                                     "[INNER] JOIN or LEFT [OUTER] JOIN",
                                     refused[i]);
    *hit = sl__sql_p_kw(p, "JOIN");
    if (*hit)
        return sl__sql_p_next(p);
    if (!sl__sql_p_kw(p, "LEFT") && !sl__sql_p_kw(p, "INNER"))
        return SL_OK;
    if ((st = sl__sql_p_next(p)) ||
        (*kind == SL__SQL_JOIN_LEFT &&
         (st = sl__sql_p_accept_kw(p, "OUTER", &b))))
        return st;
    *hit = true;
    return sl__sql_p_expect_kw(p, "JOIN");
}

static sl_status from_item(sl__sql_parser *p, sl__sql_from **out)
{
    sl__sql_from *j;
    sl__sql_join_kind kind;
    bool hit;
    sl_status st = relation(p, out);

    while (st == SL_OK && (st = join_kind(p, &kind, &hit)) == SL_OK && hit) {
        if (!(j = sl__sql_p_alloc(p, sizeof *j)))
            return SL_ENOMEM;
        j->kind = SL__SQL_FROM_JOIN;
        j->offset = (*out)->offset;
        j->join = kind;
        j->left = *out;
        *out = j;
        if ((st = relation(p, &j->right)))
            return st;
        if (sl__sql_p_kw(p, "USING"))
            return sl__sql_error_set(p->e, p->tok[0].offset,
                                     "JOIN ... USING is not supported: "
                                     "write ON");
        if ((st = sl__sql_p_expect_kw(p, "ON")) ||
            (st = sl__sql_p_expr(p, &j->on)))
            return st;
    }
    if (st == SL_OK && sl__sql_p_is(p, ","))
        return sl__sql_error_set(p->e, p->tok[0].offset,
                                 "comma joins (cross joins) are not "
                                 "supported: use JOIN ... ON");
    return st;
}

/* GROUP BY e, ... */
static sl_status group_by(sl__sql_parser *p, sl__sql_query *q)
{
    bool more = true;
    sl__sql_expr *e;
    sl_status st = sl__sql_p_expect_kw(p, "BY");
    size_t cap = 0;

    while (st == SL_OK && more)
        if ((st = sl__sql_p_expr(p, &e)) == SL_OK &&
            (st = sl__sql_p_push(p, &q->group_by, &q->ngroup_by, &cap, e)) ==
                SL_OK)
            st = sl__sql_p_accept(p, ",", &more);
    return st;
}

/* An optional clause: when keyword kw is next, parse it with fn and note
 * it as the last clause parsed (stage), for the "expected" lists. */
static sl_status clause(sl__sql_parser *p, const char *kw, int stage,
                        sl_status (*fn)(sl__sql_parser *, sl__sql_query *),
                        sl__sql_query *q)
{
    bool hit;
    sl_status st = sl__sql_p_accept_kw(p, kw, &hit);
    if (st || !hit || (st = fn(p, q)))
        return st;
    p->stage = stage;
    return SL_OK;
}

static sl_status from_clause(sl__sql_parser *p, sl__sql_query *q)
{
    return from_item(p, &q->from);
}

static sl_status where_clause(sl__sql_parser *p, sl__sql_query *q)
{
    return sl__sql_p_expr(p, &q->where);
}

static sl_status having_clause(sl__sql_parser *p, sl__sql_query *q)
{
    return sl__sql_p_expr(p, &q->having);
}

/* SELECT ... after the SELECT keyword, up to HAVING. */
static sl_status select_body(sl__sql_parser *p, sl__sql_query *q)
{
    bool all;
    sl_status st;

    p->stage = ST_ITEMS;
    if ((st = sl__sql_p_accept_kw(p, "DISTINCT", &q->distinct)) ||
        (!q->distinct && (st = sl__sql_p_accept_kw(p, "ALL", &all))) ||
        (st = items(p, q)) ||
        (st = clause(p, "FROM", ST_FROM, from_clause, q)) ||
        (st = clause(p, "WHERE", ST_WHERE, where_clause, q)) ||
        (st = clause(p, "GROUP", ST_GROUP, group_by, q)))
        return st;
    return clause(p, "HAVING", ST_HAVING, having_clause, q);
}

/* ORDER BY e [ASC|DESC] [NULLS FIRST|LAST], ... after ORDER. Spark's
 * defaults: ASC puts NULLs first, DESC last. */
static sl_status order_by(sl__sql_parser *p, sl__sql_query *q)
{
    bool more = true, asc, nulls, first;
    sl__sql_order *o;
    sl_status st = sl__sql_p_expect_kw(p, "BY");

    while (st == SL_OK && more) {
        if (!(q->order_by =
                  grow(p, q->order_by, q->norder_by, sizeof *q->order_by)))
            return SL_ENOMEM;
        o = &q->order_by[q->norder_by++];
        if ((st = sl__sql_p_expr(p, &o->expr)) ||
            (st = sl__sql_p_accept_kw(p, "ASC", &asc)) ||
            (!asc && (st = sl__sql_p_accept_kw(p, "DESC", &o->desc))) ||
            (st = sl__sql_p_accept_kw(p, "NULLS", &nulls)))
            return st;
        o->nulls_first = !o->desc;
        if (nulls) {
            if ((st = sl__sql_p_accept_kw(p, "FIRST", &first)))
                return st;
            if (!first && !sl__sql_p_kw(p, "LAST"))
                return sl__sql_p_expected(p, "FIRST or LAST after NULLS");
            if (!first && (st = sl__sql_p_next(p)))
                return st;
            o->nulls_first = first;
        }
        st = sl__sql_p_accept(p, ",", &more);
    }
    p->stage = ST_ORDER;
    return st;
}

/* LIMIT n after LIMIT: a non-negative whole number. */
static sl_status limit(sl__sql_parser *p, sl__sql_query *q)
{
    const sl__sql_token *t = &p->tok[0];
    if (t->kind != SL__TK_LONG || t->l < 0)
        return sl__sql_p_expected(p, "a whole number >= 0 after LIMIT");
    q->limit = t->l;
    q->limit_offset = t->offset;
    p->stage = ST_LIMIT;
    return sl__sql_p_next(p);
}

static sl__sql_query *new_query(sl__sql_parser *p, sl__sql_query_kind kind,
                                size_t offset)
{
    sl__sql_query *q = sl__sql_p_alloc(p, sizeof *q);
    if (q) {
        q->kind = kind;
        q->offset = offset;
        q->limit = -1;
    }
    return q;
}

/* SELECT * FROM (q): where ORDER BY or LIMIT follow a parenthesised query
 * that has its own. */
static sl_status wrap(sl__sql_parser *p, sl__sql_query **q)
{
    sl__sql_query *w = new_query(p, SL__SQL_SELECT, (*q)->offset);
    sl__sql_from *f = sl__sql_p_alloc(p, sizeof *f);

    if (!w || !f || !(w->items = sl__sql_p_alloc(p, sizeof *w->items)) ||
        !(w->items[0].expr = sl__sql_p_mk(p, SL__SQL_STAR, (*q)->offset, 0)))
        return SL_ENOMEM;
    w->nitems = 1;
    f->kind = SL__SQL_FROM_SUBQUERY;
    f->offset = (*q)->offset;
    f->subquery = *q;
    w->from = f;
    *q = w;
    return SL_OK;
}

/* [ORDER BY ...] [LIMIT n] after a whole query. */
static sl_status order_limit(sl__sql_parser *p, sl__sql_query **q)
{
    bool hit;
    sl_status st;

    if ((sl__sql_p_kw(p, "ORDER") || sl__sql_p_kw(p, "LIMIT")) &&
        ((*q)->norder_by || (*q)->limit >= 0) && (st = wrap(p, q)))
        return st;
    if ((st = sl__sql_p_accept_kw(p, "ORDER", &hit)) ||
        (hit && (st = order_by(p, *q))) ||
        (st = sl__sql_p_accept_kw(p, "LIMIT", &hit)) ||
        (hit && (st = limit(p, *q))))
        return st;
    return SL_OK;
}

/* SELECT ... or ( query ). */
static sl_status term(sl__sql_parser *p, sl__sql_query **out)
{
    size_t off = p->tok[0].offset;
    sl_status st;

    if (sl__sql_p_is(p, "(")) {
        if ((st = sl__sql_p_next(p)) || (st = sl__sql_p_query(p, out)))
            return st;
        if (!sl__sql_p_is(p, ")"))
            return sl__sql_p_end_error(p, "')'");
        p->stage = ST_HAVING; /* what may follow: ORDER BY, LIMIT, UNION */
        return sl__sql_p_next(p);
    }
    if (!sl__sql_p_kw(p, "SELECT"))
        return sl__sql_p_expected(p, "SELECT or '('");
    if (!(*out = new_query(p, SL__SQL_SELECT, off)))
        return SL_ENOMEM;
    if ((st = sl__sql_p_next(p)))
        return st;
    return select_body(p, *out);
}

sl_status sl__sql_p_query(sl__sql_parser *p, sl__sql_query **out)
{
    sl__sql_query *u;
    size_t uoff;
    sl_status st = sl__sql_p_enter(p, p->tok[0].offset);

    if (st || (st = term(p, out)))
        return st;
    while (sl__sql_p_kw(p, "UNION")) {
        uoff = p->tok[0].offset;
        if ((st = sl__sql_p_next(p)))
            return st;
        if (!sl__sql_p_kw(p, "ALL"))
            return sl__sql_error_set(p->e, uoff,
                                     "only UNION ALL is supported (UNION "
                                     "without ALL removes duplicates): "
                                     "write UNION ALL");
        if (!(u = new_query(p, SL__SQL_UNION_ALL, (*out)->offset)))
            return SL_ENOMEM;
        u->left = *out;
        *out = u;
        if ((st = sl__sql_p_next(p)) || (st = term(p, &u->right)))
            return st;
    }
    st = order_limit(p, out);
    p->depth--;
    return st;
}

sl_status sl__sql_query_froms(const sl__sql_query *q,
                              sl_status (*fn)(void *user, const sl__sql_from *f,
                                              sl__sql_error *e),
                              void *user, sl__sql_error *e)
{
    sl_status st;
    if (!q)
        return SL_OK;
    if (q->kind != SL__SQL_SELECT)
        return (st = sl__sql_query_froms(q->left, fn, user, e))
                   ? st
                   : sl__sql_query_froms(q->right, fn, user, e);
    return q->from ? fn(user, q->from, e) : SL_OK;
}

/* Any WATERMARK clause in f: SL_EUSER as "found". */
static sl_status has_wm(void *user, const sl__sql_from *f, sl__sql_error *e)
{
    if (!f)
        return SL_OK;
    if (f->kind == SL__SQL_FROM_NAME)
        return f->wm_column ? SL_EUSER : SL_OK;
    if (f->kind == SL__SQL_FROM_SUBQUERY)
        return sl__sql_query_froms(f->subquery, has_wm, user, e);
    return has_wm(user, f->left, e) ? SL_EUSER : has_wm(user, f->right, e);
}

bool sl__sql_query_has_watermark(const sl__sql_query *q)
{
    sl__sql_error e;
    return sl__sql_query_froms(q, has_wm, NULL, &e) == SL_EUSER;
}
