/*
 * OVER clauses of aggregate calls (ast.h sl__sql_window): PARTITION BY,
 * one ascending ORDER BY key, and ROWS/RANGE frames that end at the
 * current row, with EXCLUDE. The forms sluice does not run (FOLLOWING,
 * DESC, several order keys, named windows) are refused here, at their
 * position, rather than planned wrongly.
 */
#include "sql/parser_int.h"

/* <start> of a frame: UNBOUNDED PRECEDING, CURRENT ROW or n PRECEDING. */
static sl_status frame_start(sl__sql_parser *p, sl__sql_window *w)
{
    sl__sql_token *t = &p->tok[0];
    sl_status st;
    if (sl__sql_p_kw(p, "UNBOUNDED")) {
        w->preceding = NULL;
        if ((st = sl__sql_p_next(p)))
            return st;
    } else if (sl__sql_p_kw(p, "CURRENT")) {
        if (!(w->preceding =
                  sl__sql_p_literal(p, t->offset, sl_int(0), SL_TYPE_LONG)))
            return SL_ENOMEM;
        if ((st = sl__sql_p_next(p)))
            return st;
        return sl__sql_p_expect_kw(p, "ROW");
    } else if (sl__sql_p_kw(p, "INTERVAL")) {
        if ((st = sl__sql_p_interval(p, &w->preceding)))
            return st;
    } else if (t->kind == SL__TK_LONG || t->kind == SL__TK_DOUBLE) {
        bool l = t->kind == SL__TK_LONG;
        w->preceding =
            sl__sql_p_literal(p, t->offset, l ? sl_int(t->l) : sl_double(t->d),
                              l ? SL_TYPE_LONG : SL_TYPE_DOUBLE);
        if (!w->preceding)
            return SL_ENOMEM;
        w->preceding->end = t->offset + t->len;
        if ((st = sl__sql_p_next(p)))
            return st;
    } else {
        return sl__sql_p_expected(p, "UNBOUNDED PRECEDING, CURRENT ROW, a "
                                     "non-negative number or an INTERVAL");
    }
    if (sl__sql_p_kw(p, "FOLLOWING"))
        return sl__sql_error_set(p->e, p->tok[0].offset,
                                 "window frames that start FOLLOWING the "
                                 "current row are not supported");
    return sl__sql_p_expect_kw(p, "PRECEDING");
}

/* [EXCLUDE CURRENT ROW | GROUP | TIES | NO OTHERS] */
static sl_status exclude(sl__sql_parser *p, sl__sql_window *w)
{
    bool hit;
    sl_status st = sl__sql_p_accept_kw(p, "EXCLUDE", &hit);
    if (st || !hit)
        return st;
    if (sl__sql_p_kw(p, "CURRENT")) {
        w->exclude = SL__SQL_EXCLUDE_CURRENT_ROW;
        if ((st = sl__sql_p_next(p)))
            return st;
        return sl__sql_p_expect_kw(p, "ROW");
    }
    if (sl__sql_p_kw(p, "GROUP"))
        w->exclude = SL__SQL_EXCLUDE_GROUP;
    else if (sl__sql_p_kw(p, "TIES"))
        w->exclude = SL__SQL_EXCLUDE_TIES;
    else if (sl__sql_p_kw(p, "NO")) {
        if ((st = sl__sql_p_next(p)))
            return st;
        if (!sl__sql_p_kw(p, "OTHERS"))
            return sl__sql_p_expected(p, "OTHERS");
    } else
        return sl__sql_p_expected(p, "CURRENT ROW, GROUP, TIES or NO OTHERS");
    return sl__sql_p_next(p);
}

/* ROWS|RANGE (BETWEEN <start> AND CURRENT ROW | <start>) [EXCLUDE ...] */
static sl_status frame(sl__sql_parser *p, sl__sql_window *w)
{
    bool between;
    sl_status st;
    w->frame_offset = p->tok[0].offset;
    w->rows = sl__sql_p_kw(p, "ROWS");
    if ((st = sl__sql_p_next(p)) ||
        (st = sl__sql_p_accept_kw(p, "BETWEEN", &between)) ||
        (st = frame_start(p, w)))
        return st;
    if (between) {
        if ((st = sl__sql_p_expect_kw(p, "AND")))
            return st;
        if (!sl__sql_p_kw(p, "CURRENT"))
            return sl__sql_error_set(p->e, p->tok[0].offset,
                                     "window frames must end at CURRENT ROW "
                                     "(frames ending FOLLOWING or earlier "
                                     "are not supported)");
        if ((st = sl__sql_p_next(p)) || (st = sl__sql_p_expect_kw(p, "ROW")))
            return st;
    }
    return exclude(p, w);
}

/* ORDER BY key [ASC] [NULLS FIRST]: one ascending key. */
static sl_status order(sl__sql_parser *p, sl__sql_window *w)
{
    bool hit;
    sl_status st;
    if ((st = sl__sql_p_next(p)) || (st = sl__sql_p_expect_kw(p, "BY")) ||
        (st = sl__sql_p_expr(p, &w->order)) ||
        (st = sl__sql_p_accept_kw(p, "ASC", &hit)))
        return st;
    if (sl__sql_p_kw(p, "DESC"))
        return sl__sql_error_set(p->e, p->tok[0].offset,
                                 "OVER (ORDER BY ... DESC) is not supported: "
                                 "order the window ascending");
    if (sl__sql_p_kw(p, "NULLS")) {
        if ((st = sl__sql_p_next(p)))
            return st;
        if (!sl__sql_p_kw(p, "FIRST"))
            return sl__sql_error_set(p->e, p->tok[0].offset,
                                     "OVER (ORDER BY ...) supports NULLS "
                                     "FIRST only (the ascending default)");
        if ((st = sl__sql_p_next(p)))
            return st;
    }
    if (sl__sql_p_is(p, ","))
        return sl__sql_error_set(p->e, p->tok[0].offset,
                                 "OVER (ORDER BY ...) supports one key");
    return SL_OK;
}

sl_status sl__sql_p_over(sl__sql_parser *p, sl__sql_expr *x)
{
    sl__sql_window *w = sl__sql_p_alloc(p, sizeof *w);
    sl__sql_expr *e;
    size_t cap = 0;
    bool more = true;
    sl_status st;
    if (!w)
        return SL_ENOMEM;
    w->offset = p->tok[0].offset;
    if ((st = sl__sql_p_next(p)) || (st = sl__sql_p_expect(p, "(")))
        return st;
    if (sl__sql_p_kw(p, "PARTITION")) {
        if ((st = sl__sql_p_next(p)) || (st = sl__sql_p_expect_kw(p, "BY")))
            return st;
        while (more)
            if ((st = sl__sql_p_expr(p, &e)) ||
                (st = sl__sql_p_push(p, &w->partition, &w->npartition, &cap,
                                     e)) ||
                (st = sl__sql_p_accept(p, ",", &more)))
                return st;
    }
    if (sl__sql_p_kw(p, "ORDER") && (st = order(p, w)))
        return st;
    if ((sl__sql_p_kw(p, "ROWS") || sl__sql_p_kw(p, "RANGE")) &&
        (st = frame(p, w)))
        return st;
    if (!sl__sql_p_is(p, ")"))
        return sl__sql_p_expected(p, w->order ? "ROWS, RANGE or ')'"
                                              : "PARTITION BY, ORDER BY, "
                                                "ROWS, RANGE or ')'");
    if ((st = sl__sql_p_next(p)))
        return st;
    x->over = w;
    x->end = p->prev_end;
    return SL_OK;
}
