/*
 * Event-time windows in a SELECT, as Spark 3.5's TimeWindowing rule: a
 * window(ts, ...) call anywhere in the select list, GROUP BY, HAVING or
 * ORDER BY becomes a column `window` of a PROJECT node below them that
 * explodes the row into one row per window holding ts (one for a
 * tumbling window, up to ceil(length / slide) for a sliding one; none
 * for a NULL ts), and every such call is rewritten to that column.
 * session_window(ts, gap) likewise becomes a column `session_window`
 * holding the row's own session [ts, ts + gap); an aggregation grouped
 * by it merges overlapping sessions (plan_session.c).
 */
#include "core/schema.h"
#include "sql/eval_int.h"
#include "sql/plan.h"

#include <string.h>
#include <strings.h>

typedef struct win_ctx {
    sl__sql_planner *pl;
    const sl__sql_expr *call; /* the window call (all must be equal) */
    char *text;               /* its canonical text */
    sl__sql_expr *col;        /* the column that replaces it */
    const sl__sql_plan *node; /* the expansion (NULL: none) */
    const char *name;         /* the column's: window or session_window */
} win_ctx;

static bool is_window(const sl__sql_expr *x)
{
    return x->kind == SL__SQL_FUNC &&
           (!strcmp(x->name, "window") || !strcmp(x->name, "session_window"));
}

static char *canon(sl__arena *a, const sl__sql_expr *x)
{
    size_t n = sl__sql_expr_format(x, NULL, 0);
    char *s = sl__arena_alloc(a, n + 1);
    if (s)
        sl__sql_expr_format(x, s, n + 1);
    return s;
}

/* The window call of x, if any; a second, different one is Spark's
 * error. */
static sl_status find(win_ctx *c, const sl__sql_expr *x)
{
    sl_status st;
    char *t;
    if (!x)
        return SL_OK;
    if (!is_window(x)) {
        for (size_t i = 0; i < x->nargs; i++)
            if ((st = find(c, x->args[i])))
                return st;
        return SL_OK;
    }
    if (!(t = canon(c->pl->a, x)))
        return SL_ENOMEM;
    if (!c->call)
        c->call = x, c->text = t, c->name = x->name;
    else if (strcmp(t, c->text))
        return sl__sql_error_set(c->pl->e, x->offset,
                                 "Multiple time/session window expressions "
                                 "would result in a cartesian product of "
                                 "rows, therefore they are currently not "
                                 "supported.");
    return SL_OK;
}

/* Whether name is a relation of p (a qualifier), or a column of one. */
static bool names_rel(const sl__sql_plan *p, const char *name)
{
    for (size_t r = 0; r < p->nrels; r++)
        if (p->rels[r].qualifier && !strcasecmp(p->rels[r].qualifier, name))
            return true;
    return false;
}

static bool names_col(const sl__sql_plan *p, const char *name)
{
    for (size_t r = 0; r < p->nrels; r++)
        if (sl_schema_find(p->rels[r].schema, name) >= 0)
            return true;
    return false;
}

/* `window.start` with no relation `window`: the field of the column, so
 * that the aggregation's key matching sees the column `window`. */
static sl__sql_expr *as_field(win_ctx *c, const sl__sql_expr *x)
{
    sl__sql_expr *f = sl__arena_alloc(c->pl->a, sizeof *f);
    sl__sql_expr *k = sl__arena_alloc(c->pl->a, sizeof *k);
    sl__sql_expr **args = sl__arena_alloc(c->pl->a, sizeof *args);
    if (!f || !k || !args)
        return NULL;
    *f = *x, *k = *x;
    k->name = x->qualifier, k->qualifier = NULL;
    k->end = k->offset + strlen(x->qualifier);
    f->kind = SL__SQL_FIELD, f->qualifier = NULL;
    args[0] = k, f->args = args, f->nargs = 1;
    return f;
}

/* x with its window calls replaced by the window column (copied where
 * something changes; the parsed tree is never written to). */
static sl_status rewrite(win_ctx *c, sl__sql_expr *x, sl__sql_expr **out)
{
    sl__sql_expr **args = NULL, *y;
    sl_status st;
    *out = x;
    if (!x)
        return SL_OK;
    if (is_window(x))
        return *out = c->col, SL_OK;
    if (x->kind == SL__SQL_COLUMN && x->qualifier &&
        !names_rel(c->node, x->qualifier) && names_col(c->node, x->qualifier))
        return (*out = as_field(c, x)) ? SL_OK : SL_ENOMEM;
    for (size_t i = 0; i < x->nargs; i++) {
        if ((st = rewrite(c, x->args[i], &y)))
            return st;
        if (y == x->args[i])
            continue;
        if (!args) {
            if (!(args = sl__arena_alloc(c->pl->a, x->nargs * sizeof *args)))
                return SL_ENOMEM;
            memcpy(args, x->args, x->nargs * sizeof *args);
        }
        args[i] = y;
    }
    if (!args)
        return SL_OK;
    if (!(*out = sl__arena_alloc(c->pl->a, sizeof **out)))
        return SL_ENOMEM;
    **out = *x;
    (*out)->args = args;
    return SL_OK;
}

/* The passthrough of input column *user, whatever its name. */
static bool pass_hook(void *user, const sl__sql_expr *x, size_t *column,
                      const sl_type **type, sl__sql_error *e)
{
    const sl__sql_plan *in = ((const void **)user)[0];
    SL__UNUSED(x), SL__UNUSED(e);
    *column = *(const size_t *)((const void **)user)[1];
    *type = in->types[*column];
    return true;
}

static void release_schema(void *s)
{
    sl_schema_release(s);
}

/* The relations above the expansion: the input's and `window`. */
static sl_status window_rels(win_ctx *c, sl__sql_plan *p, const sl_type *t)
{
    sl__schema_builder *b = sl__schema_builder_new();
    sl_schema *s;
    sl__sql_rel *rels =
        sl__arena_alloc(c->pl->a, (p->nrels + 1) * sizeof *rels);
    if (!b || !rels ||
        sl__schema_builder_add(b, c->name, strlen(c->name), t) != SL_OK) {
        sl__schema_builder_free(b);
        return SL_ENOMEM;
    }
    if (!(s = sl__schema_builder_finish(b)))
        return SL_ENOMEM;
    if (sl__arena_on_cleanup(c->pl->a, release_schema, s) != SL_OK) {
        sl_schema_release(s);
        return SL_ENOMEM;
    }
    memcpy(rels, p->rels, p->nrels * sizeof *rels);
    rels[p->nrels] = (sl__sql_rel){NULL, s, p->ncolumns - 1};
    p->rels = rels;
    p->nrels++;
    return SL_OK;
}

/* The PROJECT node over in: its columns, then `window` exploded from
 * the window call's array. */
static sl_status expand(win_ctx *c, sl__sql_plan *in, sl__sql_plan **out)
{
    sl__sql_planner *pl = c->pl;
    size_t i, n = in->ncolumns;
    const void *hook[2] = {in, &i};
    sl__sql_expr dummy = {0};
    sl__sql_scope s;
    sl__sql_prog *prog;
    sl__sql_plan *p = sl__sql_plan_node(pl, SL__PLAN_PROJECT, in);
    sl_status st;
    if (!p || !(p->names = sl__arena_alloc(pl->a, (n + 1) * sizeof(char *))) ||
        !(p->types = sl__arena_alloc(pl->a, (n + 1) * sizeof *p->types)) ||
        !(p->progs = sl__arena_alloc(pl->a, (n + 1) * sizeof *p->progs)))
        return SL_ENOMEM;
    sl__sql_plan_scope(pl, in, &s, "the select list");
    if ((st = sl__sql_compile(c->call, &s, pl->a, &prog, pl->e)))
        return st;
    s.replace = pass_hook, s.user = hook;
    dummy.kind = SL__SQL_COLUMN, dummy.name = "";
    for (i = 0; i < n; i++) {
        if ((st = sl__sql_compile(&dummy, &s, pl->a, &p->progs[i], pl->e)))
            return st;
        p->names[i] = in->names[i], p->types[i] = in->types[i];
    }
    p->progs[n] = prog, p->names[n] = c->name;
    p->types[n] = sl__sql_prog_type(prog)->element;
    p->ncolumns = p->nprogs = n + 1, p->gen = n;
    if ((st = window_rels(c, p, p->types[n])))
        return st;
    *out = p;
    return SL_OK;
}

/* The column that stands for the window call. */
static sl_status window_col(win_ctx *c)
{
    if (!(c->col = sl__arena_alloc(c->pl->a, sizeof *c->col)))
        return SL_ENOMEM;
    *c->col = *c->call;
    c->col->kind = SL__SQL_COLUMN;
    c->col->name = c->name;
    c->col->args = NULL, c->col->nargs = 0, c->col->qualifier = NULL;
    return SL_OK;
}

/* The query's select list, GROUP BY, HAVING and ORDER BY rewritten. */
static sl_status rewrite_query(win_ctx *c, sl__sql_query *r)
{
    sl__sql_planner *pl = c->pl;
    size_t i;
    sl_status st;
    sl__sql_item *items =
        sl__arena_alloc(pl->a, (r->nitems + 1) * sizeof *items);
    sl__sql_expr **keys =
        sl__arena_alloc(pl->a, (r->ngroup_by + 1) * sizeof *keys);
    sl__sql_order *ord =
        sl__arena_alloc(pl->a, (r->norder_by + 1) * sizeof *ord);
    if (!items || !keys || !ord)
        return SL_ENOMEM;
    for (i = 0; i < r->nitems; i++) {
        items[i] = r->items[i];
        if ((st = rewrite(c, r->items[i].expr, &items[i].expr)))
            return st;
    }
    for (i = 0; i < r->ngroup_by; i++)
        if ((st = rewrite(c, r->group_by[i], &keys[i])))
            return st;
    for (i = 0; i < r->norder_by; i++) {
        ord[i] = r->order_by[i];
        if ((st = rewrite(c, r->order_by[i].expr, &ord[i].expr)))
            return st;
    }
    r->items = items, r->group_by = keys, r->order_by = ord;
    return rewrite(c, r->having, &r->having);
}

sl_status sl__sql_plan_windows(sl__sql_planner *pl, const sl__sql_query *q,
                               sl__sql_plan **in, const sl__sql_query **out)
{
    win_ctx c = {0};
    sl__sql_query *r;
    size_t i;
    sl_status st = SL_OK;
    c.pl = pl;
    for (i = 0; !st && i < q->nitems; i++)
        st = find(&c, q->items[i].expr);
    for (i = 0; !st && i < q->ngroup_by; i++)
        st = find(&c, q->group_by[i]);
    for (i = 0; !st && i < q->norder_by; i++)
        st = find(&c, q->order_by[i].expr);
    if (st || (st = find(&c, q->having)))
        return st;
    c.node = *in;
    if (c.call && ((st = window_col(&c)) || (st = expand(&c, *in, in))))
        return st;
    c.node = *in;
    if (!(r = sl__arena_alloc(pl->a, sizeof *r)))
        return SL_ENOMEM;
    *r = *q;
    if ((st = rewrite_query(&c, r)))
        return st;
    *out = r;
    return SL_OK;
}
