/*
 * Planning OVER aggregation (plan.h sl__sql_plan_over): each distinct
 * `agg(x) OVER (...)` of a select list becomes a WINDOW node that adds
 * one column to its input's; the projection above reads those columns
 * through its scope's replace hook. Types are the aggregates' own
 * (count long, avg and the variance family double, sum/min/max as
 * sl__sql_agg's result_type says); the frame's offset is checked
 * against the order key's type here, so that execution never meets a
 * frame it cannot compute.
 */
#include "sql/plan.h"

#include <string.h>

/* The OVER calls of one SELECT: canonical texts, column per call. */
typedef struct win_ctx {
    sl__sql_planner *pl;
    sl__sql_plan *in, *last;
    const char **texts;
    size_t n, cap;
} win_ctx;

static const struct {
    const char *name;
    sl__sql_win_fn fn;
} FNS[] = {
    {"count", SL__WIN_COUNT},
    {"sum", SL__WIN_SUM},
    {"avg", SL__WIN_AVG},
    {"mean", SL__WIN_AVG},
    {"min", SL__WIN_MIN},
    {"max", SL__WIN_MAX},
    {"var_samp", SL__WIN_VAR_SAMP},
    {"variance", SL__WIN_VAR_SAMP},
    {"var_pop", SL__WIN_VAR_POP},
    {"stddev_samp", SL__WIN_STDDEV_SAMP},
    {"stddev", SL__WIN_STDDEV_SAMP},
    {"std", SL__WIN_STDDEV_SAMP},
    {"stddev_pop", SL__WIN_STDDEV_POP},
};

bool sl__sql_has_window(const sl__sql_expr *x)
{
    size_t i;
    if (!x)
        return false;
    if (x->kind == SL__SQL_FUNC && x->over)
        return true;
    for (i = 0; i < x->nargs; i++)
        if (sl__sql_has_window(x->args[i]))
            return true;
    return false;
}

static char *canon(sl__sql_planner *pl, const sl__sql_expr *x)
{
    size_t n = sl__sql_expr_format(x, NULL, 0);
    char *s = sl__arena_alloc(pl->a, n + 1);
    if (s)
        sl__sql_expr_format(x, s, n + 1);
    return s;
}

static sl_status fn_of(sl__sql_planner *pl, const sl__sql_expr *x,
                       sl__sql_plan_window *w)
{
    size_t i;
    for (i = 0; i < sizeof FNS / sizeof FNS[0]; i++)
        if (!strcmp(FNS[i].name, x->name)) {
            w->fn = FNS[i].fn;
            break;
        }
    if (i == sizeof FNS / sizeof FNS[0])
        return sl__sql_error_set(pl->e, x->offset,
                                 "function %s is not supported with OVER "
                                 "(supported: count, sum, avg, min, max, "
                                 "stddev_samp, stddev_pop, var_samp, var_pop)",
                                 x->name);
    if (x->distinct)
        return sl__sql_error_set(pl->e, x->offset,
                                 "DISTINCT is not supported with OVER");
    if (x->nargs != 1)
        return sl__sql_error_set(pl->e, x->offset,
                                 "function %s requires 1 argument, %zu given",
                                 x->name, x->nargs);
    if (x->args[0]->kind == SL__SQL_STAR && w->fn != SL__WIN_COUNT)
        return sl__sql_error_set(pl->e, x->args[0]->offset,
                                 "'*' is only allowed in count(*)");
    return SL_OK;
}

/* The argument's program and the call's result type. */
static sl_status bind_arg(win_ctx *c, const sl__sql_expr *x,
                          const sl__sql_scope *s, sl__sql_plan_window *w,
                          const sl_type **type)
{
    const sl__sql_agg *agg = sl__sql_agg_find(x->name, false);
    const sl_type *at = sl_type_scalar(SL_TYPE_LONG);
    const char *why = NULL;
    sl_status st;
    if (x->args[0]->kind != SL__SQL_STAR) {
        if ((st = sl__sql_compile(x->args[0], s, c->pl->a, &w->arg, c->pl->e)))
            return st;
        at = sl__sql_prog_type(w->arg);
    }
    if (!agg || !(*type = agg->result_type(&at, 1, &why)))
        return sl__sql_error_set(c->pl->e, x->offset,
                                 "cannot resolve '%s' due to data type "
                                 "mismatch: %s",
                                 sl__sql_plan_text(c->pl, x),
                                 why ? why : "wrong argument types");
    w->long_sum = w->fn == SL__WIN_SUM && (*type)->id == SL_TYPE_LONG;
    return SL_OK;
}

/* The frame's offset, checked against the frame kind and order key. */
static sl_status bind_frame(win_ctx *c, const sl__sql_window *o,
                            sl__sql_plan_window *w)
{
    const sl__sql_expr *p = o->preceding;
    sl_type_id kt = w->order ? sl__sql_prog_type(w->order)->id : SL_TYPE_NULL;
    w->rows = o->rows;
    w->exclude = o->exclude;
    w->unbounded = !p;
    if (!p)
        return SL_OK;
    w->preceding = p->value;
    if (p->kind == SL__SQL_LITERAL && p->value.kind == SL_KIND_INT &&
        p->value.u.i == 0)
        return SL_OK; /* CURRENT ROW: peers only, any order key */
    if (o->rows) {
        if (p->kind != SL__SQL_LITERAL || p->value.kind != SL_KIND_INT)
            return sl__sql_error_set(c->pl->e, p->offset,
                                     "a ROWS frame's offset must be a "
                                     "non-negative integer");
        return SL_OK;
    }
    if (!w->order)
        return sl__sql_error_set(c->pl->e, o->frame_offset,
                                 "a RANGE frame with an offset needs an "
                                 "ORDER BY key");
    if (kt == SL_TYPE_TIMESTAMP && p->kind == SL__SQL_INTERVAL)
        return SL_OK;
    if ((kt == SL_TYPE_LONG || kt == SL_TYPE_DOUBLE) &&
        p->kind == SL__SQL_LITERAL)
        return SL_OK;
    return sl__sql_error_set(c->pl->e, p->offset,
                             "a RANGE frame's offset must be an INTERVAL for "
                             "a timestamp ORDER BY key and a number for a "
                             "numeric one (the key here is %s)",
                             kt == SL_TYPE_TIMESTAMP ? "a timestamp"
                             : kt == SL_TYPE_LONG || kt == SL_TYPE_DOUBLE
                                 ? "a number"
                                 : "neither");
}

/* The WINDOW node's columns: its input's, then the call's. */
static sl_status add_column(win_ctx *c, sl__sql_plan *p, const sl__sql_expr *x,
                            const sl_type *type)
{
    size_t n = p->input->ncolumns;
    p->ncolumns = n + 1;
    p->names = sl__arena_alloc(c->pl->a, (n + 1) * sizeof *p->names);
    p->types = sl__arena_alloc(c->pl->a, (n + 1) * sizeof *p->types);
    if (!p->names || !p->types)
        return SL_ENOMEM;
    memcpy(p->names, p->input->names, n * sizeof *p->names);
    memcpy(p->types, p->input->types, n * sizeof *p->types);
    p->types[n] = type;
    return (p->names[n] = sl__sql_plan_text(c->pl, x)) ? SL_OK : SL_ENOMEM;
}

static sl_status add_window(win_ctx *c, const sl__sql_expr *x)
{
    const sl__sql_window *o = x->over;
    sl__sql_plan_window *w = sl__arena_alloc(c->pl->a, sizeof *w);
    sl__sql_plan *p = sl__sql_plan_node(c->pl, SL__PLAN_WINDOW, c->last);
    const sl_type *type = NULL;
    sl__sql_scope s;
    size_t i;
    sl_status st;
    if (!w || !p)
        return SL_ENOMEM;
    memset(w, 0, sizeof *w);
    /* Only SQL streams set the catalog's clock. Per batch, a WINDOW node
     * would see one batch's rows only: refuse rather than answer wrong. */
    if (c->pl->cat->clock)
        return sl__sql_error_set(c->pl->e, o->offset,
                                 "OVER aggregation is not supported in SQL "
                                 "streams yet (it needs event-time "
                                 "watermarks); `streamctl sql` runs it over "
                                 "files");
    sl__sql_plan_scope(c->pl, c->in, &s, "an OVER clause");
    if ((st = fn_of(c->pl, x, w)) || (st = bind_arg(c, x, &s, w, &type)))
        return st;
    w->npart = o->npartition;
    w->part = sl__arena_alloc(c->pl->a, (w->npart + 1) * sizeof *w->part);
    if (!w->part)
        return SL_ENOMEM;
    for (i = 0; i < w->npart; i++)
        if ((st = sl__sql_compile(o->partition[i], &s, c->pl->a, &w->part[i],
                                  c->pl->e)))
            return st;
    if (o->order &&
        (st = sl__sql_compile(o->order, &s, c->pl->a, &w->order, c->pl->e)))
        return st;
    if ((st = bind_frame(c, o, w)) || (st = add_column(c, p, x, type)))
        return st;
    p->win = w;
    c->last = p;
    return SL_OK;
}

/* Plan every distinct OVER call in x (not within another's arguments:
 * the binder refuses those). */
static sl_status collect(win_ctx *c, const sl__sql_expr *x)
{
    size_t i;
    sl_status st;
    const char *t;
    if (x->kind == SL__SQL_FUNC && x->over) {
        if (!(t = canon(c->pl, x)))
            return SL_ENOMEM;
        for (i = 0; i < c->n; i++)
            if (!strcmp(c->texts[i], t))
                return SL_OK;
        if (c->n == c->cap) {
            size_t cap = c->cap ? 2 * c->cap : 4;
            const char **nt = sl__arena_alloc(c->pl->a, cap * sizeof *nt);
            if (!nt)
                return SL_ENOMEM;
            if (c->n)
                memcpy(nt, c->texts, c->n * sizeof *nt);
            c->texts = nt;
            c->cap = cap;
        }
        c->texts[c->n++] = t;
        return add_window(c, x);
    }
    for (i = 0; i < x->nargs; i++)
        if ((st = collect(c, x->args[i])))
            return st;
    return SL_OK;
}

/* The projection's hook: an OVER call is its WINDOW node's column. */
static bool replace(void *user, const sl__sql_expr *x, size_t *column,
                    const sl_type **type, sl__sql_error *e)
{
    win_ctx *c = user;
    const sl__sql_plan *p = c->last;
    char *t;
    size_t i;
    if (x->kind != SL__SQL_FUNC || !x->over)
        return false;
    *column = SIZE_MAX;
    if (!(t = canon(c->pl, x))) {
        sl__sql_error_set(e, x->offset, "out of memory");
        return true;
    }
    for (i = 0; i < c->n; i++)
        if (!strcmp(c->texts[i], t)) {
            *column = c->in->ncolumns + i;
            for (p = c->last; p->ncolumns > *column + 1; p = p->input)
                ;
            *type = p->types[*column];
            return true;
        }
    sl__sql_error_set(e, x->offset, "window function not planned");
    return true;
}

sl_status sl__sql_plan_over(sl__sql_planner *pl, sl__sql_plan *in,
                            const sl__sql_expr *const *exprs, size_t n,
                            sl__sql_plan **out, sl__sql_scope *s)
{
    win_ctx *c = sl__arena_alloc(pl->a, sizeof *c);
    size_t i;
    sl_status st;
    if (!c)
        return SL_ENOMEM;
    memset(c, 0, sizeof *c);
    c->pl = pl;
    c->in = c->last = in;
    for (i = 0; i < n; i++)
        if ((st = collect(c, exprs[i])))
            return st;
    *out = c->last;
    sl__sql_plan_scope(pl, in, s, "the select list");
    if (c->n) {
        s->replace = replace;
        s->user = c;
    }
    return SL_OK;
}
