/*
 * Running a plan (plan.h) as a batch job on the RDD engine. Per-row
 * nodes (filter, project, explode, the join's residual) are map and
 * flat_map functions evaluating compiled programs with the task's
 * scratch arena; an aggregation is Spark's two-phase hash aggregation
 * (combine_by_key: accumulators per key within each partition, then
 * partial results merged after the shuffle); DISTINCT a reduce_by_key
 * on the whole row; a join a cogroup on the key tuple. ORDER BY, LIMIT
 * and TRIM run at the driver on the collected rows (a stable merge
 * sort); a driver result that feeds more work is parallelized again.
 */
#include "sql/plan.h"

#include "core/schema.h"
#include "rdd/rdd.h"
#include "sql/eval_int.h"

#include <stdio.h>
#include <string.h>

/* A node's result: an RDD, or rows at the driver (engine scope memory). */
typedef struct result {
    sl_rdd *rdd;
    const sl_value *rows;
    size_t n;
} result;

typedef struct exec_ctx {
    const sl__sql_catalog *cat;
    sl_engine *eng;
    const sl__sql_plan *at; /* a node whose result is given: at_rdd */
    sl_rdd *at_rdd;
} exec_ctx;

static sl_status run(exec_ctx *x, const sl__sql_plan *p, result *out);

static sl_rdd *as_rdd(exec_ctx *x, result *r)
{
    if (!r->rdd)
        r->rdd = sl_rdd_parallelize(x->eng, r->rows, r->n,
                                    r->n ? sl_engine_workers(x->eng) : 1);
    return r->rdd;
}

static sl_status as_rows(result *r)
{
    if (r->rdd)
        return sl_rdd_collect(r->rdd, &r->rows, &r->n);
    return SL_OK;
}

/* Evaluate progs[0..n) over row into items (task memory). */
static sl_status eval_all(sl_task *t, sl__sql_prog *const *progs, size_t n,
                          const sl_value *row, sl_value *items)
{
    size_t i;
    for (i = 0; i < n; i++) {
        sl_status st =
            sl__sql_eval(progs[i], row, sl__task_arena(t), &items[i]);
        if (st)
            return st;
    }
    return SL_OK;
}

static sl_value *items_alloc(sl_task *t, size_t n)
{
    return sl_task_alloc(t, (n ? n : 1) * sizeof(sl_value));
}

/* ------------------------------------------------- filter and project */

static sl_status filter_fn(sl_task *t, const sl_value *in, void *user)
{
    const sl__sql_plan *p = user;
    sl_value v;
    sl_status st = sl__sql_eval(p->pred, in->u.items, sl__task_arena(t), &v);
    if (st)
        return st;
    return v.kind == SL_KIND_BOOL && v.u.b ? sl_task_emit(t, in) : SL_OK;
}

static sl_status project_fn(sl_task *t, const sl_value *in, sl_value *out,
                            void *user)
{
    const sl__sql_plan *p = user;
    sl_value *items = items_alloc(t, p->nprogs);
    sl_status st;
    if (!items)
        return SL_ENOMEM;
    if ((st = eval_all(t, p->progs, p->nprogs, in->u.items, items)))
        return st;
    *out = sl_composite(SL_KIND_TUPLE, items, p->nprogs);
    return SL_OK;
}

/* explode: one row per element of the generator column's array (none
 * for NULL or an empty array, as Spark's explode). */
static sl_status explode_fn(sl_task *t, const sl_value *in, void *user)
{
    const sl__sql_plan *p = user;
    sl_value *items = items_alloc(t, p->nprogs), arr, row;
    size_t i;
    sl_status st;
    if (!items)
        return SL_ENOMEM;
    if ((st = eval_all(t, p->progs, p->nprogs, in->u.items, items)))
        return st;
    arr = items[p->gen];
    if (arr.kind != SL_KIND_LIST)
        return SL_OK;
    for (i = 0; i < arr.len; i++) {
        sl_value *copy = items_alloc(t, p->nprogs);
        if (!copy)
            return SL_ENOMEM;
        memcpy(copy, items, p->nprogs * sizeof *copy);
        copy[p->gen] = arr.u.items[i];
        row = sl_composite(SL_KIND_TUPLE, copy, p->nprogs);
        if ((st = sl_task_emit(t, &row)))
            return st;
    }
    return SL_OK;
}

static sl_status trim_fn(sl_task *t, const sl_value *in, sl_value *out,
                         void *user)
{
    const sl__sql_plan *p = user;
    SL__UNUSED(t);
    *out = sl_composite(SL_KIND_TUPLE, in->u.items, p->ncolumns);
    return SL_OK;
}

/* ----------------------------------------------------------- distinct */

static sl_status with_null_fn(sl_task *t, const sl_value *in, sl_value *out,
                              void *user)
{
    sl_value n = sl_null();
    SL__UNUSED(user);
    return sl_task_pair(t, in, &n, out);
}

static sl_status first_fn(sl_task *t, const sl_value *a, const sl_value *b,
                          sl_value *out, void *user)
{
    SL__UNUSED(t);
    SL__UNUSED(b);
    SL__UNUSED(user);
    *out = *a;
    return SL_OK;
}

static sl_status key_fn(sl_task *t, const sl_value *in, sl_value *out,
                        void *user)
{
    SL__UNUSED(t);
    SL__UNUSED(user);
    *out = *sl_pair_key(in);
    return SL_OK;
}

/* ------------------------------------------------------------- union */

typedef struct union_side {
    const sl__sql_plan *side;
    const sl__sql_plan *u;
} union_side;

/* Cast a union side's row to the union's (wider) column types. */
static sl_status widen_fn(sl_task *t, const sl_value *in, sl_value *out,
                          void *user)
{
    const union_side *s = user;
    size_t i, n = s->u->ncolumns;
    sl_value *items = items_alloc(t, n);
    if (!items)
        return SL_ENOMEM;
    for (i = 0; i < n; i++) {
        sl_status st =
            sl__sql_cast(&in->u.items[i], s->side->types[i], s->u->types[i],
                         sl__task_arena(t), &items[i]);
        if (st)
            return st;
    }
    *out = sl_composite(SL_KIND_TUPLE, items, n);
    return SL_OK;
}

static sl_rdd *union_side_rdd(exec_ctx *x, const sl__sql_plan *u,
                              const sl__sql_plan *side, result *r)
{
    union_side *s;
    size_t i;
    bool same = true;
    for (i = 0; i < u->ncolumns; i++)
        same = same && sl_type_equal(side->types[i], u->types[i]);
    if (same)
        return as_rdd(x, r);
    s = sl__engine_scope_alloc(x->eng, sizeof *s);
    if (!s)
        return NULL;
    s->side = side;
    s->u = u;
    return sl_rdd_map(as_rdd(x, r), widen_fn, s);
}

/* ------------------------------------------------------- sort, limit */

static int row_cmp(const sl__sql_plan *p, const sl_value *a, const sl_value *b)
{
    size_t i;
    for (i = 0; i < p->nkeys; i++) {
        const sl__sql_plan_key *k = &p->keys[i];
        const sl_value *x = &a->u.items[k->column], *y = &b->u.items[k->column];
        bool xn = x->kind == SL_KIND_NULL, yn = y->kind == SL_KIND_NULL;
        int c;
        if (xn || yn) {
            if (xn && yn)
                continue;
            return (xn == k->nulls_first) ? -1 : 1;
        }
        c = sl__sql_compare(x, y);
        if (c)
            return k->desc ? -c : c;
    }
    return 0;
}

/* A stable bottom-up merge sort of rows[0..n) (tmp: n more). */
static void merge_sort(const sl__sql_plan *p, sl_value *rows, sl_value *tmp,
                       size_t n)
{
    size_t w, i;
    for (w = 1; w < n; w *= 2) {
        for (i = 0; i < n; i += 2 * w) {
            size_t lo = i, mid = i + w < n ? i + w : n;
            size_t hi = i + 2 * w < n ? i + 2 * w : n, a = lo, b = mid, k = lo;
            while (a < mid && b < hi)
                tmp[k++] =
                    row_cmp(p, &rows[b], &rows[a]) < 0 ? rows[b++] : rows[a++];
            while (a < mid)
                tmp[k++] = rows[a++];
            while (b < hi)
                tmp[k++] = rows[b++];
        }
        memcpy(rows, tmp, n * sizeof *rows);
    }
}

static sl_status run_sort(exec_ctx *x, const sl__sql_plan *p, result *r)
{
    sl_value *rows, *tmp;
    sl_status st = as_rows(r);
    if (st)
        return st;
    rows = sl__engine_scope_alloc(x->eng, (2 * r->n + 1) * sizeof *rows);
    if (!rows)
        return SL_ENOMEM;
    tmp = rows + r->n;
    if (r->n)
        memcpy(rows, r->rows, r->n * sizeof *rows);
    merge_sort(p, rows, tmp, r->n);
    r->rows = rows;
    r->rdd = NULL;
    return SL_OK;
}

static sl_status run_trim(exec_ctx *x, const sl__sql_plan *p, result *r)
{
    sl_value *rows;
    size_t i;
    if (r->rdd) {
        r->rdd = sl_rdd_map(r->rdd, trim_fn, (void *)p);
        return r->rdd ? SL_OK : SL_EUSER;
    }
    rows = sl__engine_scope_alloc(x->eng, (r->n + 1) * sizeof *rows);
    if (!rows)
        return SL_ENOMEM;
    for (i = 0; i < r->n; i++)
        rows[i] = sl_composite(SL_KIND_TUPLE, r->rows[i].u.items, p->ncolumns);
    r->rows = rows;
    return SL_OK;
}

static sl_status run_limit(const sl__sql_plan *p, result *r)
{
    if (r->rdd) {
        sl_status st = sl_rdd_take(r->rdd, (size_t)p->limit, &r->rows, &r->n);
        r->rdd = NULL;
        return st;
    }
    if ((uint64_t)p->limit < r->n)
        r->n = (size_t)p->limit;
    return SL_OK;
}

/* --------------------------------------------------------- dispatch */

static sl_status run_aggregate(exec_ctx *x, const sl__sql_plan *p, result *r)
{
    /* Without GROUP BY one row even over no rows: the partial
     * aggregation makes the one group's pair (sl__sql_exec_partial). */
    return sl__sql_exec_aggregate(x->eng, p, as_rdd(x, r), &r->rdd);
}

static sl_status run_two(exec_ctx *x, const sl__sql_plan *p, result *r)
{
    result rr = {0};
    sl_rdd *sides[2];
    sl_status st = run(x, p->right, &rr);
    if (st)
        return st;
    if (p->kind == SL__PLAN_JOIN)
        return sl__sql_exec_join(x->eng, p, as_rdd(x, r), as_rdd(x, &rr),
                                 &r->rdd);
    sides[0] = union_side_rdd(x, p, p->input, r);
    sides[1] = union_side_rdd(x, p, p->right, &rr);
    r->rdd = sides[0] && sides[1] ? sl_rdd_union(sides[0], sides[1]) : NULL;
    return r->rdd ? SL_OK : SL_EUSER;
}

static sl_status run_leaf(exec_ctx *x, const sl__sql_plan *p, result *out)
{
    static const sl_value empty_row = {SL_KIND_TUPLE, 0, {0}};
    if (p->kind == SL__PLAN_ONE_ROW) {
        out->rows = &empty_row;
        out->n = 1;
        return SL_OK;
    }
    out->rdd = x->cat->rdd(x->cat->user, p->handle, x->eng);
    return out->rdd ? SL_OK : SL_EUSER;
}

static sl_status run(exec_ctx *x, const sl__sql_plan *p, result *out)
{
    sl_status st;
    memset(out, 0, sizeof *out);
    if (p == x->at) {
        out->rdd = x->at_rdd;
        return SL_OK;
    }
    if (!p->input)
        return run_leaf(x, p, out);
    if ((st = run(x, p->input, out)))
        return st;
    switch (p->kind) {
    case SL__PLAN_FILTER:
        out->rdd = sl_rdd_flat_map(as_rdd(x, out), filter_fn, (void *)p);
        break;
    case SL__PLAN_PROJECT:
        out->rdd = p->gen == SIZE_MAX
                       ? sl_rdd_map(as_rdd(x, out), project_fn, (void *)p)
                       : sl_rdd_flat_map(as_rdd(x, out), explode_fn, (void *)p);
        break;
    case SL__PLAN_DISTINCT:
        out->rdd = sl_rdd_map(
            sl_rdd_reduce_by_key(sl_rdd_map(as_rdd(x, out), with_null_fn, NULL),
                                 first_fn, NULL, 0),
            key_fn, NULL);
        break;
    case SL__PLAN_AGGREGATE:
        return run_aggregate(x, p, out);
    case SL__PLAN_WINDOW:
        return sl__sql_exec_window(x->eng, p, as_rdd(x, out), &out->rdd);
    case SL__PLAN_UNION:
    case SL__PLAN_JOIN:
        return run_two(x, p, out);
    case SL__PLAN_SORT:
        return run_sort(x, p, out);
    case SL__PLAN_LIMIT:
        return run_limit(p, out);
    case SL__PLAN_TRIM:
        return run_trim(x, p, out);
    default:
        return SL_EINVAL;
    }
    return out->rdd ? SL_OK : SL_EUSER;
}

sl_status sl__sql_plan_schema(const sl__sql_plan *p, sl_schema **out)
{
    sl__schema_builder *b = sl__schema_builder_new();
    size_t i;
    if (!b)
        return SL_ENOMEM;
    sl__schema_builder_allow_duplicates(b);
    for (i = 0; i < p->ncolumns; i++) {
        sl_status st = sl__schema_builder_add(b, p->names[i],
                                              strlen(p->names[i]), p->types[i]);
        if (st) {
            sl__schema_builder_free(b);
            return st;
        }
    }
    *out = sl__schema_builder_finish(b);
    return *out ? SL_OK : SL_ENOMEM;
}

sl_status sl__sql_plan_run(const sl__sql_plan *p, const sl__sql_catalog *cat,
                           sl_engine *eng, sl__sql_result *out, char *errbuf,
                           size_t errlen)
{
    exec_ctx x = {cat, eng, NULL, NULL};
    result r;
    sl_status st;
    memset(out, 0, sizeof *out);
    if ((st = sl__sql_plan_schema(p, &out->schema))) {
        snprintf(errbuf, errlen, "out of memory");
        return st;
    }
    st = run(&x, p, &r);
    if (!st)
        st = as_rows(&r);
    if (st) {
        snprintf(errbuf, errlen, "%s",
                 *sl_engine_errmsg(eng) ? sl_engine_errmsg(eng)
                                        : sl_strerror(st));
        sl__sql_result_free(out);
        return st;
    }
    out->rows = r.rows;
    out->n = r.n;
    return SL_OK;
}

sl_status sl__sql_plan_rdd(const sl__sql_plan *p, const sl__sql_catalog *cat,
                           sl_engine *eng, const sl__sql_plan *at,
                           sl_rdd *at_rdd, sl_rdd **out)
{
    exec_ctx x = {cat, eng, at, at_rdd};
    result r;
    sl_status st = run(&x, p, &r);
    *out = st ? NULL : as_rdd(&x, &r);
    return st ? st : *out ? SL_OK : SL_EUSER;
}

void sl__sql_result_free(sl__sql_result *r)
{
    if (!r)
        return;
    sl_schema_release(r->schema);
    r->schema = NULL;
}
