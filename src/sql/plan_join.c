/*
 * Planning INNER and LEFT joins: the ON condition is bound whole over
 * the joined row (left columns, then right columns) for its errors, then
 * split into AND-ed conjuncts. A conjunct `l = r` with l over the left
 * side only and r over the right side only (or the other way round),
 * both of one type, becomes a hash key pair; the rest is the residual
 * condition, tested on each pair of rows with equal keys. With no key
 * at all every row gets the same key (a nested-loop join).
 */
#include "sql/plan.h"

#include <string.h>

typedef struct join_ctx {
    sl__sql_planner *pl;
    sl__sql_plan *j;
    sl__sql_scope ls, rs;
    const sl__sql_expr **rest;
    size_t nrest, cap;
} join_ctx;

/* Compile x over s without reporting; NULL when it does not bind. */
static sl__sql_prog *try_compile(join_ctx *c, const sl__sql_expr *x,
                                 const sl__sql_scope *s)
{
    sl__sql_error ignore;
    sl__sql_prog *p = NULL;
    if (sl__sql_compile(x, s, c->pl->a, &p, &ignore))
        return NULL;
    return p;
}

/* Whether x = y is a key pair (x over the left side, y the right). */
static bool key_pair(join_ctx *c, const sl__sql_expr *x, const sl__sql_expr *y)
{
    sl__sql_prog *l = try_compile(c, x, &c->ls), *r;
    size_t i = c->j->nprogs;
    if (!l || !(r = try_compile(c, y, &c->rs)))
        return false;
    if (!sl_type_equal(sl__sql_prog_type(l), sl__sql_prog_type(r)) ||
        sl__sql_prog_type(l)->id == SL_TYPE_NULL)
        return false; /* differing types: compared by the residual */
    c->j->left_keys[i] = l;
    c->j->right_keys[i] = r;
    c->j->nprogs++;
    return true;
}

static sl_status split(join_ctx *c, const sl__sql_expr *x)
{
    if (x->kind == SL__SQL_BINARY && x->op == SL__SQL_OP_AND) {
        sl_status st = split(c, x->args[0]);
        return st ? st : split(c, x->args[1]);
    }
    if (x->kind == SL__SQL_BINARY && x->op == SL__SQL_OP_EQ &&
        c->j->nprogs < c->cap &&
        (key_pair(c, x->args[0], x->args[1]) ||
         key_pair(c, x->args[1], x->args[0])))
        return SL_OK;
    if (c->nrest == 256)
        return sl__sql_error_set(c->pl->e, x->offset,
                                 "the join condition has more than 256 "
                                 "conjuncts");
    c->rest[c->nrest++] = x;
    return SL_OK;
}

/* The residual conjuncts as one AND-ed expression (made for the plan). */
static sl__sql_expr *residual(join_ctx *c)
{
    sl__sql_expr *x = (sl__sql_expr *)c->rest[0];
    size_t i;
    for (i = 1; i < c->nrest; i++) {
        sl__sql_expr *and = sl__arena_alloc(c->pl->a, sizeof *and);
        sl__sql_expr **args = sl__arena_alloc(c->pl->a, 2 * sizeof *args);
        if (!and || !args)
            return NULL;
        memset(and, 0, sizeof *and);
        and->kind = SL__SQL_BINARY;
        and->op = SL__SQL_OP_AND;
        and->offset = x->offset;
        and->end = c->rest[i]->end;
        args[0] = x;
        args[1] = (sl__sql_expr *)c->rest[i];
        and->args = args;
        and->nargs = 2;
        x = and;
    }
    return x;
}

/* The joined columns and relations: l's, then r's shifted. */
static sl_status join_columns(sl__sql_planner *pl, sl__sql_plan *j,
                              const sl__sql_plan *l, const sl__sql_plan *r)
{
    size_t i, n = l->ncolumns + r->ncolumns;
    j->ncolumns = n;
    j->names = sl__arena_alloc(pl->a, (n + 1) * sizeof *j->names);
    j->types = sl__arena_alloc(pl->a, (n + 1) * sizeof *j->types);
    j->nrels = l->nrels + r->nrels;
    j->rels = sl__arena_alloc(pl->a, (j->nrels + 1) * sizeof *j->rels);
    if (!j->names || !j->types || !j->rels)
        return SL_ENOMEM;
    for (i = 0; i < n; i++) {
        const sl__sql_plan *s = i < l->ncolumns ? l : r;
        size_t k = i < l->ncolumns ? i : i - l->ncolumns;
        j->names[i] = s->names[k];
        j->types[i] = s->types[k];
    }
    for (i = 0; i < j->nrels; i++) {
        j->rels[i] = i < l->nrels ? l->rels[i] : r->rels[i - l->nrels];
        if (i >= l->nrels)
            j->rels[i].first += l->ncolumns;
    }
    return SL_OK;
}

sl_status sl__sql_plan_join(sl__sql_planner *pl, const sl__sql_from *f,
                            sl__sql_plan *l, sl__sql_plan *r,
                            sl__sql_plan **out)
{
    join_ctx c = {0};
    sl__sql_scope s;
    sl__sql_prog *whole;
    sl__sql_expr *rest;
    sl_status st;
    c.pl = pl;
    c.cap = 64;
    if (!(c.j = sl__sql_plan_node(pl, SL__PLAN_JOIN, l)))
        return SL_ENOMEM;
    c.j->right = r;
    c.j->join = f->join;
    c.j->left_keys = sl__arena_alloc(pl->a, c.cap * sizeof(sl__sql_prog *));
    c.j->right_keys = sl__arena_alloc(pl->a, c.cap * sizeof(sl__sql_prog *));
    c.rest = sl__arena_alloc(pl->a, 256 * sizeof *c.rest);
    if (!c.j->left_keys || !c.j->right_keys || !c.rest ||
        (st = join_columns(pl, c.j, l, r)))
        return SL_ENOMEM;
    *out = c.j;
    if (!f->on)
        return sl__sql_error_set(pl->e, f->offset,
                                 "a join needs an ON condition");
    sl__sql_plan_scope(pl, c.j, &s, "the join condition");
    if ((st = sl__sql_plan_cond(pl, f->on, &s, "join condition", &whole)))
        return st;
    sl__sql_plan_scope(pl, l, &c.ls, "the join condition");
    sl__sql_plan_scope(pl, r, &c.rs, "the join condition");
    if ((st = split(&c, f->on)))
        return st;
    if (!c.nrest)
        return SL_OK;
    if (!(rest = residual(&c)))
        return SL_ENOMEM;
    return sl__sql_compile(rest, &s, pl->a, &c.j->pred, pl->e);
}
