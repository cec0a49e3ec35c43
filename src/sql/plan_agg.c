/*
 * Planning an aggregation (GROUP BY, HAVING, aggregates in the select
 * list): the AGGREGATE node's output row is the group keys, then one
 * column per distinct aggregate call. Everything above it (select items,
 * HAVING, hidden ORDER BY keys) is bound through the scope's replace
 * hook: a sub-expression equal to a group key becomes that key's column,
 * an aggregate call becomes its result column, and any other column
 * reference is Spark's "neither present in the group by, nor is it an
 * aggregate function" error.
 */
#include "sql/eval_int.h"
#include "sql/plan.h"

#include <string.h>
#include <strings.h>

typedef struct agg_ctx {
    sl__sql_planner *pl;
    sl__sql_plan *agg; /* the node being built */
    sl__sql_scope in;  /* the aggregation's input */
    char **key_text;   /* canonical text of each key */
    size_t *key_col;   /* a key that is a plain input column: its index */
    size_t cap_aggs;
} agg_ctx;

/* x's canonical text (its S-expression) in the arena. */
static char *canon(sl__sql_planner *pl, const sl__sql_expr *x)
{
    size_t n = sl__sql_expr_format(x, NULL, 0);
    char *s = sl__arena_alloc(pl->a, n + 1);
    if (s)
        sl__sql_expr_format(x, s, n + 1);
    return s;
}

/* Whether a program may be evaluated once for several arguments: no
 * function calls (none is random today, but a later rand() or uuid()
 * must draw once per call, as Spark keeps nondeterministic calls apart). */
static bool shareable(const sl__sql_prog *p)
{
    for (uint32_t i = 0; i < p->nnodes; i++)
        if (p->nodes[i].code == SL__N_FUNC)
            return false;
    return true;
}

/* 1 + the index over all calls' arguments of an earlier argument equal
 * to argument i of call (the next call of g); 0 if there is none. */
static uint32_t same_arg(const sl__sql_plan *g, const sl__sql_plan_agg *call,
                         size_t i)
{
    uint32_t k = 0;
    const char *t = call->arg_text[i];
    if (!shareable(call->args[i]))
        return 0;
    for (size_t a = 0; a <= g->naggs; a++) {
        const sl__sql_plan_agg *o = &g->aggs[a];
        for (size_t j = 0; j < o->nargs && (o != call || j < i); j++, k++)
            if (!o->same[j] && o->arg_text[j] && !strcmp(o->arg_text[j], t) &&
                shareable(o->args[j]))
                return k + 1;
    }
    return 0;
}

/* The input column a program reads when it is just a column; SIZE_MAX
 * otherwise. */
static size_t plain_column(const sl__sql_prog *p)
{
    const sl__sql_node *n = &p->nodes[p->root];
    return n->code == SL__N_COLUMN ? n->column : SIZE_MAX;
}

/* Register aggregate call x (or find an equal one): its column. */
static sl_status add_call(agg_ctx *c, const sl__sql_expr *x, size_t *col)
{
    sl__sql_planner *pl = c->pl;
    sl__sql_plan *g = c->agg;
    sl__sql_plan_agg *call;
    const sl_type *types[16];
    const char *why = NULL;
    char *text = canon(pl, x);
    size_t i, nargs = x->nargs;
    sl__sql_scope s = c->in;
    sl_status st;
    if (!text)
        return SL_ENOMEM;
    for (i = 0; i < g->naggs; i++)
        if (!strcmp(g->aggs[i].text, text)) {
            *col = g->nprogs + i;
            return SL_OK;
        }
    if (nargs == 1 && x->args[0]->kind == SL__SQL_STAR)
        nargs = 0; /* count(*) */
    if (g->naggs == c->cap_aggs) {
        size_t cap = c->cap_aggs ? 2 * c->cap_aggs : 8;
        sl__sql_plan_agg *n = sl__arena_alloc(pl->a, cap * sizeof *n);
        if (!n)
            return SL_ENOMEM;
        if (g->naggs)
            memcpy(n, g->aggs, g->naggs * sizeof *n);
        g->aggs = n;
        c->cap_aggs = cap;
    }
    call = &g->aggs[g->naggs];
    memset(call, 0, sizeof *call);
    call->text = text;
    call->fn = sl__sql_agg_find(x->name, x->distinct);
    if (!call->fn)
        return sl__sql_error_set(pl->e, x->offset,
                                 "%s(DISTINCT ...) is not supported", x->name);
    if (nargs < call->fn->min_args || nargs > call->fn->max_args || nargs > 16)
        return sl__sql_error_set(pl->e, x->offset,
                                 "function %s does not take %zu arguments",
                                 x->name, nargs);
    call->args = sl__arena_alloc(pl->a, (nargs + 1) * sizeof *call->args);
    if (!call->args)
        return SL_ENOMEM;
    call->arg_text = sl__arena_alloc(pl->a, (nargs + 1) * sizeof(char *));
    call->same = sl__arena_alloc(pl->a, (nargs + 1) * sizeof *call->same);
    if (!call->arg_text || !call->same)
        return SL_ENOMEM;
    s.clause = "the argument of another aggregate function";
    for (i = 0; i < nargs; i++) {
        if ((st =
                 sl__sql_compile(x->args[i], &s, pl->a, &call->args[i], pl->e)))
            return st;
        types[i] = sl__sql_prog_type(call->args[i]);
        if (!(call->arg_text[i] = canon(pl, x->args[i])))
            return SL_ENOMEM;
        call->nargs = i; /* same_arg looks at the arguments before i */
        call->same[i] = same_arg(g, call, i);
    }
    call->nargs = nargs;
    call->type = call->fn->result_type(types, nargs, &why);
    if (!call->type)
        return sl__sql_error_set(pl->e, x->offset,
                                 "cannot resolve '%s' due to data type "
                                 "mismatch: %s",
                                 sl__sql_plan_text(pl, x),
                                 why ? why : "wrong argument types");
    *col = g->nprogs + g->naggs++;
    return SL_OK;
}

/* The replace hook over the aggregation's output. */
static bool replace(void *user, const sl__sql_expr *x, size_t *column,
                    const sl_type **type, sl__sql_error *e)
{
    agg_ctx *c = user;
    sl__sql_plan *g = c->agg;
    sl__sql_prog *prog;
    char *text;
    size_t i, col = SIZE_MAX;
    sl_status st;
    *column = SIZE_MAX;
    if (x->kind == SL__SQL_FUNC && sl__sql_is_aggregate(x->name)) {
        if ((st = add_call(c, x, &col))) {
            if (st == SL_ENOMEM)
                sl__sql_error_set(e, x->offset, "out of memory");
            return true;
        }
        *column = col;
        *type = g->aggs[col - g->nprogs].type;
        return true;
    }
    if (!(text = canon(c->pl, x))) {
        sl__sql_error_set(e, x->offset, "out of memory");
        return true;
    }
    for (i = 0; i < g->nprogs; i++)
        if (!strcmp(c->key_text[i], text)) {
            *column = i;
            *type = sl__sql_prog_type(g->progs[i]);
            return true;
        }
    if (x->kind != SL__SQL_COLUMN)
        return false; /* look at its parts */
    if (sl__sql_compile(x, &c->in, c->pl->a, &prog, e))
        return true; /* no such column: the binder's message */
    col = plain_column(prog);
    for (i = 0; i < g->nprogs; i++)
        if (col != SIZE_MAX && c->key_col[i] == col) {
            *column = i;
            *type = sl__sql_prog_type(g->progs[i]);
            return true;
        }
    sl__sql_error_set(e, x->offset,
                      "expression '%s' is neither present in the group by, "
                      "nor is it an aggregate function",
                      sl__sql_plan_text(c->pl, x));
    return true;
}

/* GROUP BY item x as an expression over the input: an ordinal or an
 * alias of the select list stands for that item (Spark's
 * groupByOrdinal and groupByAliases, both on by default). */
static sl_status group_expr(agg_ctx *c, const sl__sql_expr *x,
                            const sl__sql_expr *const *exprs,
                            const char *const *names, size_t nitems,
                            const sl__sql_expr **out)
{
    sl__sql_planner *pl = c->pl;
    sl__sql_error ignore;
    sl__sql_prog *prog;
    size_t i;
    *out = x;
    if (x->kind == SL__SQL_LITERAL && x->value.kind == SL_KIND_INT) {
        int64_t k = x->value.u.i;
        if (k < 1 || (uint64_t)k > nitems)
            return sl__sql_error_set(pl->e, x->offset,
                                     "GROUP BY position %lld is not in select "
                                     "list (valid range is [1, %zu])",
                                     (long long)k, nitems);
        *out = exprs[k - 1];
        if (sl__sql_has_aggregate(*out))
            return sl__sql_error_set(pl->e, x->offset,
                                     "GROUP BY %lld refers to an expression "
                                     "that contains an aggregate function: "
                                     "'%s'",
                                     (long long)k, sl__sql_plan_text(pl, *out));
        return SL_OK;
    }
    if (x->kind != SL__SQL_COLUMN || x->qualifier ||
        !sl__sql_compile(x, &c->in, pl->a, &prog, &ignore))
        return SL_OK;
    for (i = 0; i < nitems; i++)
        if (!strcasecmp(names[i], x->name) && !sl__sql_has_aggregate(exprs[i]))
            *out = exprs[i];
    return SL_OK;
}

/* The group keys of q: programs, canonical texts, output columns. */
static sl_status plan_keys(agg_ctx *c, const sl__sql_query *q,
                           const sl__sql_expr *const *exprs,
                           const char *const *names, size_t nitems)
{
    sl__sql_planner *pl = c->pl;
    sl__sql_plan *g = c->agg;
    size_t i, n = q->ngroup_by;
    sl_status st;
    g->progs = sl__arena_alloc(pl->a, (n + 1) * sizeof *g->progs);
    c->key_text = sl__arena_alloc(pl->a, (n + 1) * sizeof *c->key_text);
    c->key_col = sl__arena_alloc(pl->a, (n + 1) * sizeof *c->key_col);
    if (!g->progs || !c->key_text || !c->key_col)
        return SL_ENOMEM;
    for (i = 0; i < n; i++) {
        const sl__sql_expr *x;
        if ((st = group_expr(c, q->group_by[i], exprs, names, nitems, &x)))
            return st;
        if (x->kind == SL__SQL_FUNC && !strcmp(x->name, "explode"))
            return sl__sql_error_set(pl->e, x->offset,
                                     "generators are not allowed in GROUP BY");
        c->in.clause = "GROUP BY";
        if ((st = sl__sql_compile(x, &c->in, pl->a, &g->progs[i], pl->e)))
            return st;
        if (!(c->key_text[i] = canon(pl, x)))
            return SL_ENOMEM;
        c->key_col[i] = plain_column(g->progs[i]);
        g->nprogs = i + 1;
    }
    return SL_OK;
}

/* The AGGREGATE node's output columns: keys, then aggregate results. */
static sl_status agg_columns(agg_ctx *c)
{
    sl__sql_plan *g = c->agg;
    size_t i, n = g->nprogs + g->naggs;
    g->ncolumns = n;
    g->names = sl__arena_alloc(c->pl->a, (n + 1) * sizeof *g->names);
    g->types = sl__arena_alloc(c->pl->a, (n + 1) * sizeof *g->types);
    if (!g->names || !g->types)
        return SL_ENOMEM;
    for (i = 0; i < n; i++) {
        bool key = i < g->nprogs;
        g->names[i] = key ? c->key_text[i] : g->aggs[i - g->nprogs].text;
        g->types[i] =
            key ? sl__sql_prog_type(g->progs[i]) : g->aggs[i - g->nprogs].type;
    }
    g->rels = NULL;
    g->nrels = 0;
    return SL_OK;
}

sl_status sl__sql_plan_aggregate(sl__sql_planner *pl, const sl__sql_query *q,
                                 sl__sql_plan *in,
                                 const sl__sql_expr *const *exprs,
                                 const char *const *names, size_t nitems,
                                 size_t n, sl__sql_plan **out,
                                 sl__sql_prog **progs, sl__sql_prog **having)
{
    agg_ctx c = {0};
    sl__sql_scope above = {0};
    size_t i;
    sl_status st;
    c.pl = pl;
    if (!(c.agg = sl__sql_plan_node(pl, SL__PLAN_AGGREGATE, in)))
        return SL_ENOMEM;
    sl__sql_plan_scope(pl, in, &c.in, "GROUP BY");
    if ((st = plan_keys(&c, q, exprs, names, nitems)))
        return st;
    above.replace = replace;
    above.user = &c;
    above.now_ms = pl->now_ms;
    above.clock = pl->cat->clock;
    above.clause = "the select list";
    for (i = 0; i < n; i++) {
        if (exprs[i]->kind == SL__SQL_FUNC &&
            !strcmp(exprs[i]->name, "explode"))
            return sl__sql_error_set(pl->e, exprs[i]->offset,
                                     "generators are not supported together "
                                     "with aggregation yet: explode in a "
                                     "sub-query, aggregate outside it");
        if ((st = sl__sql_compile(exprs[i], &above, pl->a, &progs[i], pl->e)))
            return st;
    }
    *having = NULL;
    if (q->having &&
        (st = sl__sql_plan_cond(pl, q->having, &above, "HAVING", having)))
        return st;
    *out = c.agg;
    return agg_columns(&c);
}
