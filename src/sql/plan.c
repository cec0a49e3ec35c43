/*
 * The SQL planner (plan.h): FROM (catalog relations, sub-queries with
 * aliases, INNER/LEFT joins), WHERE, the select list (`*` and `t.*`,
 * aliases, Spark's default names, one explode generator), DISTINCT,
 * UNION ALL, ORDER BY and LIMIT. Aggregation is plan_agg.c's.
 *
 * ORDER BY keys that are not output columns (`SELECT a FROM t ORDER BY
 * b`) are computed by the projection as hidden columns after the select
 * list, sorted on, and dropped by a TRIM node: Spark resolves such keys
 * against the projection's input the same way.
 */
#include "sql/plan.h"

#include "core/schema.h"
#include "sql/eval_int.h"

#include <string.h>
#include <strings.h>

sl__sql_plan *sl__sql_plan_node(sl__sql_planner *pl, sl__sql_plan_kind kind,
                                sl__sql_plan *input)
{
    sl__sql_plan *p = sl__arena_alloc(pl->a, sizeof *p);
    if (!p)
        return NULL;
    memset(p, 0, sizeof *p);
    p->kind = kind;
    p->input = input;
    p->gen = SIZE_MAX;
    p->limit = -1;
    if (input) { /* by default a node passes its input's columns on */
        p->ncolumns = input->ncolumns;
        p->names = input->names;
        p->types = input->types;
        p->rels = input->rels;
        p->nrels = input->nrels;
    }
    return p;
}

void sl__sql_plan_scope(const sl__sql_planner *pl, const sl__sql_plan *p,
                        sl__sql_scope *s, const char *clause)
{
    memset(s, 0, sizeof *s);
    s->rels = p->rels;
    s->nrels = p->nrels;
    s->clause = clause;
    s->now_ms = pl->now_ms;
    s->clock = pl->cat->clock;
}

char *sl__sql_plan_text(sl__sql_planner *pl, const sl__sql_expr *x)
{
    size_t n = x->end > x->offset ? x->end - x->offset : 0;
    char *s = sl__arena_alloc(pl->a, n + 1);
    if (!s)
        return NULL;
    memcpy(s, pl->text + x->offset, n);
    s[n] = '\0';
    return s;
}

bool sl__sql_has_aggregate(const sl__sql_expr *x)
{
    size_t i;
    if (!x || x->over) /* an OVER call is no grouping aggregate */
        return false;
    if (x->kind == SL__SQL_FUNC && sl__sql_is_aggregate(x->name))
        return true;
    for (i = 0; i < x->nargs; i++)
        if (sl__sql_has_aggregate(x->args[i]))
            return true;
    return false;
}

static sl_status nomem(void)
{
    return SL_ENOMEM;
}

/* Room for n output columns of p. */
static sl_status set_columns(sl__sql_planner *pl, sl__sql_plan *p, size_t n)
{
    p->ncolumns = n;
    p->names = sl__arena_alloc(pl->a, (n ? n : 1) * sizeof *p->names);
    p->types = sl__arena_alloc(pl->a, (n ? n : 1) * sizeof *p->types);
    return p->names && p->types ? SL_OK : nomem();
}

static void release_schema(void *s)
{
    sl_schema_release(s);
}

/* A schema of p's columns (released with the arena); duplicate names are
 * an error at offset, since a relation's columns must be nameable. */
static sl_status columns_schema(sl__sql_planner *pl, const sl__sql_plan *p,
                                size_t offset, sl_schema **out)
{
    sl__schema_builder *b = sl__schema_builder_new();
    size_t i;
    if (!b)
        return SL_ENOMEM;
    for (i = 0; i < p->ncolumns; i++) {
        sl_status st = sl__schema_builder_add(b, p->names[i],
                                              strlen(p->names[i]), p->types[i]);
        if (st == SL_EINVAL) {
            sl__schema_builder_free(b);
            return sl__sql_error_set(pl->e, offset,
                                     "the sub-query has two columns called "
                                     "'%s': give them distinct aliases",
                                     p->names[i]);
        }
        if (st) {
            sl__schema_builder_free(b);
            return st;
        }
    }
    *out = sl__schema_builder_finish(b);
    if (!*out || sl__arena_on_cleanup(pl->a, release_schema, *out)) {
        sl_schema_release(*out);
        return SL_ENOMEM;
    }
    return SL_OK;
}

/* p's columns as one relation called qualifier. */
static sl_status one_rel(sl__sql_planner *pl, sl__sql_plan *p,
                         const sl_schema *s, const char *qualifier)
{
    sl__sql_rel *r = sl__arena_alloc(pl->a, sizeof *r);
    if (!r)
        return SL_ENOMEM;
    r->qualifier = qualifier;
    r->schema = s;
    r->first = 0;
    p->rels = r;
    p->nrels = 1;
    return SL_OK;
}

static sl_status plan_query(sl__sql_planner *pl, const sl__sql_query *q,
                            sl__sql_plan **out);

static sl_status plan_scan(sl__sql_planner *pl, const sl__sql_from *f,
                           sl__sql_plan **out)
{
    const sl_schema *s = NULL;
    bool stream = false;
    void *h = NULL;
    sl__sql_plan *p;
    size_t i;
    if (!pl->cat->lookup(pl->cat->user, f->name, &s, &stream, &h))
        return sl__sql_error_set(pl->e, f->offset,
                                 "table or view not found: %s", f->name);
    if (stream)
        return sl__sql_error_set(pl->e, f->offset,
                                 "'%s' is a stream: streaming queries are "
                                 "not supported here yet",
                                 f->name);
    p = sl__sql_plan_node(pl, SL__PLAN_SCAN, NULL);
    if (!p || set_columns(pl, p, sl_schema_size(s)))
        return SL_ENOMEM;
    p->handle = h;
    for (i = 0; i < p->ncolumns; i++) {
        p->names[i] = sl_schema_name(s, i);
        p->types[i] = sl_schema_type(s, i);
    }
    *out = p;
    return one_rel(pl, p, s, f->alias ? f->alias : f->name);
}

static sl_status plan_from(sl__sql_planner *pl, const sl__sql_from *f,
                           sl__sql_plan **out)
{
    sl__sql_plan *l, *r;
    sl_schema *s = NULL;
    sl_status st;
    if (f->kind == SL__SQL_FROM_NAME)
        return plan_scan(pl, f, out);
    if (f->kind == SL__SQL_FROM_SUBQUERY) {
        if ((st = plan_query(pl, f->subquery, out)) ||
            (st = columns_schema(pl, *out, f->offset, &s)))
            return st;
        return one_rel(pl, *out, s, f->alias);
    }
    if ((st = plan_from(pl, f->left, &l)) || (st = plan_from(pl, f->right, &r)))
        return st;
    return sl__sql_plan_join(pl, f, l, r, out);
}

/* ------------------------------------------------------- select list */

/* A select item after `*` expansion: its expression and output name. */
typedef struct item {
    const sl__sql_expr *expr;
    const char *name;
} item;

/* A column reference made for `*` (at the star's position). */
static sl__sql_expr *column_ref(sl__sql_planner *pl, const sl__sql_expr *star,
                                const char *qualifier, const char *name)
{
    sl__sql_expr *x = sl__arena_alloc(pl->a, sizeof *x);
    if (!x)
        return NULL;
    memset(x, 0, sizeof *x);
    x->kind = SL__SQL_COLUMN;
    x->offset = star->offset;
    x->end = star->end;
    x->qualifier = qualifier;
    x->name = name;
    return x;
}

static sl_status expand_star(sl__sql_planner *pl, const sl__sql_plan *in,
                             const sl__sql_expr *star, item *items, size_t *n)
{
    size_t r, c, before = *n;
    for (r = 0; r < in->nrels; r++) {
        const sl__sql_rel *rel = &in->rels[r];
        if (star->qualifier &&
            (!rel->qualifier || strcasecmp(rel->qualifier, star->qualifier)))
            continue;
        for (c = 0; c < sl_schema_size(rel->schema); c++) {
            const char *name = sl_schema_name(rel->schema, c);
            if (items) {
                items[*n].name = name;
                items[*n].expr = column_ref(pl, star, rel->qualifier, name);
                if (!items[*n].expr)
                    return SL_ENOMEM;
            }
            (*n)++;
        }
    }
    if (star->qualifier && *n == before)
        return sl__sql_error_set(pl->e, star->offset,
                                 "cannot resolve '%s.*' given input columns",
                                 star->qualifier);
    return SL_OK;
}

/* Spark's name of an unaliased item: a column's or field's name, else
 * the expression's text as written. */
static const char *default_name(sl__sql_planner *pl, const sl__sql_expr *x)
{
    if (x->kind == SL__SQL_COLUMN || x->kind == SL__SQL_FIELD)
        return x->name;
    if (x->kind == SL__SQL_FUNC && !strcmp(x->name, "explode"))
        return "col"; /* Spark's generator output name */
    return sl__sql_plan_text(pl, x);
}

/* The select list with stars expanded, in *items (*n of them). */
static sl_status expand_items(sl__sql_planner *pl, const sl__sql_query *q,
                              const sl__sql_plan *in, item **items, size_t *n)
{
    size_t i, cap = 0;
    sl_status st;
    for (i = 0; i < q->nitems; i++) {
        if (q->items[i].expr->kind == SL__SQL_STAR) {
            if ((st = expand_star(pl, in, q->items[i].expr, NULL, &cap)))
                return st;
        } else {
            cap++;
        }
    }
    *items = sl__arena_alloc(pl->a, (cap ? cap : 1) * sizeof **items);
    if (!*items)
        return SL_ENOMEM;
    *n = 0;
    for (i = 0; i < q->nitems; i++) {
        const sl__sql_item *it = &q->items[i];
        if (it->expr->kind == SL__SQL_STAR) {
            if ((st = expand_star(pl, in, it->expr, *items, n)))
                return st;
            continue;
        }
        (*items)[*n].expr = it->expr;
        (*items)[*n].name = it->alias ? it->alias : default_name(pl, it->expr);
        if (!(*items)[(*n)++].name)
            return SL_ENOMEM;
    }
    return SL_OK;
}

static bool is_explode(const sl__sql_expr *x)
{
    return x->kind == SL__SQL_FUNC && !strcmp(x->name, "explode");
}

/* Compile item x over scope into *prog, its output type into *type; an
 * explode item compiles its argument, typed by the array's elements. */
static sl_status compile_item(sl__sql_planner *pl, const sl__sql_expr *x,
                              const sl__sql_scope *s, bool *gen,
                              sl__sql_prog **prog, const sl_type **type)
{
    const sl__sql_expr *arg = x;
    sl_status st;
    if (is_explode(x)) {
        if (x->nargs != 1)
            return sl__sql_error_set(pl->e, x->offset,
                                     "function explode requires 1 argument, "
                                     "%zu given",
                                     x->nargs);
        if (*gen)
            return sl__sql_error_set(pl->e, x->offset,
                                     "only one generator (explode) is "
                                     "allowed per select list");
        arg = x->args[0];
    }
    if ((st = sl__sql_compile(arg, s, pl->a, prog, pl->e)))
        return st;
    *type = sl__sql_prog_type(*prog);
    if (arg == x)
        return SL_OK;
    if ((*type)->id != SL_TYPE_ARRAY)
        return sl__sql_error_set(pl->e, x->offset,
                                 "cannot resolve '%s' due to data type "
                                 "mismatch: input to function explode "
                                 "should be array type",
                                 sl__sql_plan_text(pl, x));
    *type = (*type)->element;
    *gen = true;
    return SL_OK;
}

/* ------------------------------------------------------------ ORDER BY */

/*
 * The output column ORDER BY expression x names, as Spark resolves it
 * first: an ordinal, an output column's name (aliases first), or an
 * expression written as a select item. SIZE_MAX: none; SL_EPARSE for an
 * ordinal out of range.
 */
static sl_status order_column(sl__sql_planner *pl, const sl__sql_expr *x,
                              const item *items, const sl__sql_plan *p,
                              size_t *col)
{
    char a[512], b[512];
    size_t i;
    *col = SIZE_MAX;
    if (x->kind == SL__SQL_LITERAL && x->value.kind == SL_KIND_INT) {
        if (x->value.u.i < 1 || (uint64_t)x->value.u.i > p->ncolumns)
            return sl__sql_error_set(pl->e, x->offset,
                                     "ORDER BY position %lld is not in select "
                                     "list (valid range is [1, %zu])",
                                     (long long)x->value.u.i, p->ncolumns);
        *col = (size_t)x->value.u.i - 1;
        return SL_OK;
    }
    if (x->kind == SL__SQL_COLUMN && !x->qualifier)
        for (i = 0; i < p->ncolumns && *col == SIZE_MAX; i++)
            if (!strcasecmp(p->names[i], x->name))
                *col = i;
    if (*col != SIZE_MAX || !items)
        return SL_OK;
    sl__sql_expr_format(x, a, sizeof a);
    for (i = 0; i < p->ncolumns && *col == SIZE_MAX; i++) {
        sl__sql_expr_format(items[i].expr, b, sizeof b);
        if (!strcmp(a, b))
            *col = i;
    }
    return SL_OK;
}

/* SORT by keys[i] (columns of in), then LIMIT, then TRIM to width. */
static sl_status finish_query(sl__sql_planner *pl, const sl__sql_query *q,
                              const size_t *cols, sl__sql_plan *in,
                              size_t width, sl__sql_plan **out)
{
    sl__sql_plan *p = in;
    size_t i;
    if (q->norder_by) {
        p = sl__sql_plan_node(pl, SL__PLAN_SORT, p);
        if (!p)
            return SL_ENOMEM;
        p->keys = sl__arena_alloc(pl->a, q->norder_by * sizeof *p->keys);
        if (!p->keys)
            return SL_ENOMEM;
        p->nkeys = q->norder_by;
        for (i = 0; i < q->norder_by; i++) {
            p->keys[i].column = cols[i];
            p->keys[i].desc = q->order_by[i].desc;
            p->keys[i].nulls_first = q->order_by[i].nulls_first;
        }
    }
    if (q->limit >= 0) {
        p = sl__sql_plan_node(pl, SL__PLAN_LIMIT, p);
        if (!p)
            return SL_ENOMEM;
        p->limit = q->limit;
    }
    if (width < p->ncolumns) {
        p = sl__sql_plan_node(pl, SL__PLAN_TRIM, p);
        if (!p)
            return SL_ENOMEM;
        p->ncolumns = width;
    }
    *out = p;
    return SL_OK;
}

sl_status sl__sql_plan_cond(sl__sql_planner *pl, const sl__sql_expr *x,
                            const sl__sql_scope *s, const char *clause,
                            sl__sql_prog **out)
{
    char tn[64];
    const sl_type *t;
    sl_status st = sl__sql_compile(x, s, pl->a, out, pl->e);
    if (st)
        return st;
    t = sl__sql_prog_type(*out);
    if (t->id == SL_TYPE_BOOLEAN || t->id == SL_TYPE_NULL)
        return SL_OK;
    /* Spark: "filter expression 'x' of type long is not a boolean" */
    return sl__sql_error_set(
        pl->e, x->offset, "%s expression '%s' of type %s is not a boolean",
        clause, sl__sql_plan_text(pl, x), sl__sql_tname(t, tn, sizeof tn));
}

static sl_status add_filter(sl__sql_planner *pl, const sl__sql_expr *x,
                            const char *clause, sl__sql_plan **p)
{
    sl__sql_scope s;
    sl__sql_prog *pred;
    sl_status st;
    sl__sql_plan_scope(pl, *p, &s, clause);
    if ((st = sl__sql_plan_cond(pl, x, &s, clause, &pred)))
        return st;
    if (!(*p = sl__sql_plan_node(pl, SL__PLAN_FILTER, *p)))
        return SL_ENOMEM;
    (*p)->pred = pred;
    return SL_OK;
}

/* What one SELECT's projection is being built from. */
typedef struct select_ctx {
    item *items;
    size_t nitems, n; /* n: items and hidden ORDER BY keys */
    const sl__sql_expr **exprs;
    const char **names;
    size_t *order_cols;
} select_ctx;

/*
 * x with each unqualified column naming an output column (an alias,
 * `ORDER BY n * 2` after `count(*) AS n`) replaced by that item's
 * expression, as Spark resolves a sort's names against the select list
 * before its input; x itself when nothing is replaced. NULL: no memory.
 */
static const sl__sql_expr *with_aliases(sl__sql_planner *pl,
                                        const sl__sql_expr *x,
                                        const item *items, size_t n)
{
    sl__sql_expr *copy;
    const sl__sql_expr **args = NULL;
    size_t i;
    bool changed = false;
    if (x->kind == SL__SQL_COLUMN && !x->qualifier) {
        for (i = 0; i < n; i++)
            if (!strcasecmp(items[i].name, x->name))
                return items[i].expr;
        return x;
    }
    if (x->nargs && !(args = sl__arena_alloc(pl->a, x->nargs * sizeof *args)))
        return NULL;
    for (i = 0; i < x->nargs; i++) {
        if (!(args[i] = with_aliases(pl, x->args[i], items, n)))
            return NULL;
        changed = changed || args[i] != x->args[i];
    }
    if (!changed)
        return x;
    if (!(copy = sl__arena_memdup(pl->a, x, sizeof *x)))
        return NULL;
    copy->args = (sl__sql_expr **)args;
    return copy;
}

/* Resolve ORDER BY against the select list; keys it does not name get
 * hidden columns n, n + 1, ... */
static sl_status resolve_order(sl__sql_planner *pl, const sl__sql_query *q,
                               sl__sql_plan *fake, select_ctx *c)
{
    size_t i;
    sl_status st;
    c->n = c->nitems;
    c->order_cols = sl__arena_alloc(pl->a, (q->norder_by + 1) * sizeof(size_t));
    c->exprs = sl__arena_alloc(pl->a, (c->nitems + q->norder_by + 1) *
                                          sizeof *c->exprs);
    c->names = sl__arena_alloc(pl->a, (c->nitems + 1) * sizeof *c->names);
    if (!c->order_cols || !c->exprs || !c->names)
        return SL_ENOMEM;
    for (i = 0; i < c->nitems; i++) {
        c->exprs[i] = c->items[i].expr;
        c->names[i] = c->items[i].name;
    }
    fake->ncolumns = c->nitems;
    fake->names = c->names;
    for (i = 0; i < q->norder_by; i++) {
        const sl__sql_expr *x = q->order_by[i].expr;
        if ((st = order_column(pl, x, c->items, fake, &c->order_cols[i])))
            return st;
        if (c->order_cols[i] != SIZE_MAX)
            continue;
        if (q->distinct)
            return sl__sql_error_set(pl->e, x->offset,
                                     "ORDER BY expression '%s' of a SELECT "
                                     "DISTINCT must be in the select list",
                                     sl__sql_plan_text(pl, x));
        c->order_cols[i] = c->n;
        if (!(c->exprs[c->n++] = with_aliases(pl, x, c->items, c->nitems)))
            return SL_ENOMEM;
    }
    return SL_OK;
}

/* The projection of c's expressions over in (no aggregation). */
static sl_status plain_project(sl__sql_planner *pl, select_ctx *c,
                               sl__sql_plan *p)
{
    sl__sql_scope s;
    size_t i;
    sl_status st;
    bool gen = false;
    /* OVER aggregates first: WINDOW nodes between p and its input */
    if ((st = sl__sql_plan_over(pl, p->input, c->exprs, c->n, &p->input, &s)))
        return st;
    for (i = 0; i < c->n; i++) {
        bool was = gen;
        if (i >= c->nitems && is_explode(c->exprs[i]))
            return sl__sql_error_set(pl->e, c->exprs[i]->offset,
                                     "generators are not allowed in ORDER BY");
        if ((st = compile_item(pl, c->exprs[i], &s, &gen, &p->progs[i],
                               &p->types[i])))
            return st;
        if (gen && !was)
            p->gen = i;
    }
    return SL_OK;
}

static sl_status plan_select(sl__sql_planner *pl, const sl__sql_query *q,
                             sl__sql_plan **out)
{
    select_ctx c = {0};
    sl__sql_plan fake = {0}, *in, *p;
    sl__sql_prog *having = NULL;
    bool agg = q->ngroup_by || q->having;
    size_t i;
    sl_status st;
    if (q->from)
        st = plan_from(pl, q->from, &in);
    else
        st = (in = sl__sql_plan_node(pl, SL__PLAN_ONE_ROW, NULL)) ? SL_OK
                                                                  : nomem();
    if (st || (q->where && (st = add_filter(pl, q->where, "WHERE", &in))) ||
        (st = sl__sql_plan_windows(pl, q, &in, &q)) ||
        (st = expand_items(pl, q, in, &c.items, &c.nitems)) ||
        (st = resolve_order(pl, q, &fake, &c)))
        return st;
    for (i = 0; i < c.nitems; i++)
        agg = agg || sl__sql_has_aggregate(c.items[i].expr);
    p = sl__sql_plan_node(pl, SL__PLAN_PROJECT, in);
    if (!p || set_columns(pl, p, c.n) ||
        !(p->progs = sl__arena_alloc(pl->a, (c.n + 1) * sizeof *p->progs)))
        return SL_ENOMEM;
    p->nprogs = c.n;
    for (i = 0; i < c.n; i++)
        p->names[i] = i < c.nitems ? c.names[i] : "";
    for (i = 0; agg && i < c.n; i++)
        if (sl__sql_has_window(c.exprs[i]))
            return sl__sql_error_set(pl->e, c.exprs[i]->offset,
                                     "OVER aggregates and GROUP BY aggregation "
                                     "in the same SELECT are not supported: "
                                     "aggregate in a sub-query first");
    if (!agg)
        st = plain_project(pl, &c, p);
    else
        st = sl__sql_plan_aggregate(pl, q, in, c.exprs, c.names, c.nitems, c.n,
                                    &p->input, p->progs, &having);
    if (st)
        return st;
    for (i = 0; agg && i < c.n; i++)
        p->types[i] = sl__sql_prog_type(p->progs[i]);
    if (having) {
        sl__sql_plan *f = sl__sql_plan_node(pl, SL__PLAN_FILTER, p->input);
        if (!f)
            return SL_ENOMEM;
        f->pred = having;
        p->input = f;
    }
    p->rels = NULL; /* set by a sub-query's alias */
    p->nrels = 0;
    if (q->distinct && !(p = sl__sql_plan_node(pl, SL__PLAN_DISTINCT, p)))
        return SL_ENOMEM;
    return finish_query(pl, q, c.order_cols, p, c.nitems, out);
}

/* Spark's wider type of two union columns; NULL: none. */
static const sl_type *wider(const sl_type *a, const sl_type *b)
{
    if (sl_type_equal(a, b) || b->id == SL_TYPE_NULL)
        return a;
    if (a->id == SL_TYPE_NULL)
        return b;
    if ((a->id == SL_TYPE_LONG || a->id == SL_TYPE_DOUBLE) &&
        (b->id == SL_TYPE_LONG || b->id == SL_TYPE_DOUBLE))
        return sl_type_scalar(SL_TYPE_DOUBLE);
    if (a->id == SL_TYPE_ARRAY || a->id == SL_TYPE_STRUCT ||
        b->id == SL_TYPE_ARRAY || b->id == SL_TYPE_STRUCT ||
        a->id == SL_TYPE_BINARY || b->id == SL_TYPE_BINARY)
        return NULL;
    return sl_type_scalar(SL_TYPE_STRING); /* atomic types meet as string */
}

static sl_status plan_union(sl__sql_planner *pl, const sl__sql_query *q,
                            sl__sql_plan **out)
{
    sl__sql_plan *l, *r, *p;
    size_t i, *cols;
    char ta[64], tb[64];
    sl_status st;
    if ((st = plan_query(pl, q->left, &l)) ||
        (st = plan_query(pl, q->right, &r)))
        return st;
    if (l->ncolumns != r->ncolumns)
        return sl__sql_error_set(
            pl->e, q->right->offset,
            "Union can only be performed on tables with the same number of "
            "columns, but the first table has %zu columns and the second "
            "table has %zu columns",
            l->ncolumns, r->ncolumns);
    p = sl__sql_plan_node(pl, SL__PLAN_UNION, l);
    if (!p || set_columns(pl, p, l->ncolumns))
        return SL_ENOMEM;
    p->right = r;
    p->rels = NULL;
    p->nrels = 0;
    for (i = 0; i < p->ncolumns; i++) {
        p->names[i] = l->names[i];
        p->types[i] = wider(l->types[i], r->types[i]);
        if (!p->types[i])
            return sl__sql_error_set(
                pl->e, q->right->offset,
                "Union can only be performed on tables with compatible "
                "column types: column %zu is %s in the first table and %s "
                "in the second",
                i + 1, sl__sql_tname(l->types[i], ta, sizeof ta),
                sl__sql_tname(r->types[i], tb, sizeof tb));
    }
    cols = sl__arena_alloc(pl->a, (q->norder_by + 1) * sizeof *cols);
    if (!cols)
        return SL_ENOMEM;
    for (i = 0; i < q->norder_by; i++) {
        const sl__sql_expr *x = q->order_by[i].expr;
        if ((st = order_column(pl, x, NULL, p, &cols[i])))
            return st;
        if (cols[i] == SIZE_MAX)
            return sl__sql_error_set(pl->e, x->offset,
                                     "ORDER BY of a UNION must name an output "
                                     "column (by name or position): '%s'",
                                     sl__sql_plan_text(pl, x));
    }
    return finish_query(pl, q, cols, p, p->ncolumns, out);
}

static sl_status plan_query(sl__sql_planner *pl, const sl__sql_query *q,
                            sl__sql_plan **out)
{
    if (q->kind == SL__SQL_UNION_ALL)
        return plan_union(pl, q, out);
    return plan_select(pl, q, out);
}

sl_status sl__sql_plan_build(const char *text, const sl__sql_query *q,
                             const sl__sql_catalog *cat, int64_t now_ms,
                             sl__arena *a, sl__sql_plan **out, sl__sql_error *e)
{
    sl__sql_planner pl = {text, cat, now_ms, a, e};
    return plan_query(&pl, q, out);
}
