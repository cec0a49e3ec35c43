/*
 * SQL streams (docs/sql.md "Streaming queries"): a query planned once
 * against the context's views (and optional static tables), run every
 * batch on the RDD engine through the stream layer's own operators.
 *
 * Stateless queries are one transform: the plan run over the view's
 * batch. An aggregation splits the plan at its AGGREGATE node: below it
 * runs per batch, ending in the batch's partial aggregation as (key
 * tuple, accumulator tuple) pairs; map_with_state merges each key's pair
 * into its stored accumulator tuple (so the checkpoint keeps the running
 * aggregation as it keeps any state); the rows to finish are the keys
 * changed in the batch (update mode: map_with_state's records) or every
 * key (complete mode: its state snapshots), and above the aggregation
 * runs on them with the AGGREGATE node's result given.
 */
#include "sql/sql_stream.h"

#include "core/records.h"
#include "core/schema.h"
#include "rdd/rdd.h"
#include "sql/eval_int.h"
#include "sql/sql_stream_over.h"
#include "sql/sql_stream_session.h"
#include "sql/sql_stream_time.h"
#include "stream/stream.h"

#include <stdio.h>
#include <string.h>

/* A relation the query named: the view's stream, or a static table. */
typedef struct rel {
    sl_dstream *stream; /* NULL: a table */
    void *handle;       /* the table catalog's handle */
} rel;

typedef struct sqls {
    sl__arena a; /* the plan and everything planning made */
    char *text;
    sl_context *ctx;
    const sl__sql_catalog *tables; /* borrowed, or NULL */
    sl__sql_catalog cat;
    sl__sql_plan *plan, *agg;
    sl_dstream *view; /* the one stream the query reads */
    const sl_schema *view_schema;
    const char *view_name;
    /* reject_when: input rows it is true for are set aside */
    const char *reject_text;
    sl__sql_prog *reject;
    struct sl__dead_letters *dead; /* borrowed, or NULL: counted only */
    const char *name;              /* the stream's, for dead letters */
    bool two_streams;
    sl_dstream *owner; /* the stream that frees this */
    sl_rdd *cur;       /* job thread: the view's rows of the running batch */
    _Atomic int64_t clock; /* the batch's time: current_timestamp() */
    sl_output_mode mode;
    /* an aggregation by the view's event time (sql_stream_time.c) */
    bool evtime;
    sl__sql_evtime et;
    /* OVER aggregation (sql_stream_over.c); over.top NULL: none */
    sl__sql_over over;
} sqls;

static void sqls_free(void *p)
{
    sqls *q = p;
    if (!q)
        return;
    sl_schema_release((sl_schema *)q->view_schema);
    sl__sql_evtime_free(&q->et);
    sl__sql_over_free(&q->over);
    sl__arena_free(&q->a);
    sl_free(q->text);
    sl_free(q);
}

/* ------------------------------------------------------------ catalog */

static bool lookup(void *user, const char *name, const sl_schema **schema,
                   bool *is_stream, void **handle)
{
    sqls *q = user;
    rel *r;
    sl_dstream *s = sl__context_find_view(q->ctx, name, schema);
    void *th = NULL;
    if (!s && !(q->tables && q->tables->lookup(q->tables->user, name, schema,
                                               is_stream, &th)))
        return false;
    if (!(r = sl__arena_alloc(&q->a, sizeof *r)))
        return false;
    r->stream = s;
    r->handle = th;
    /* The plan runs over one batch of the stream at a time: to the
     * batch planner it is a table (which refuses streams). */
    *is_stream = false;
    *handle = r;
    if (s && q->view && q->view != s)
        q->two_streams = true;
    else if (s && !q->view) {
        /* held: a view registered again later frees the one planned on */
        q->view = s;
        q->view_schema = sl_schema_retain(*schema);
        q->view_name = sl__arena_memdup(&q->a, name, strlen(name) + 1);
    }
    return true;
}

static sl_rdd *rel_rdd(void *user, void *handle, sl_engine *eng)
{
    sqls *q = user;
    rel *r = handle;
    if (r->stream)
        return q->cur;
    return q->tables->rdd(q->tables->user, r->handle, eng);
}

/* ------------------------------------------------------ input as rows */

/* An item of a record as column type t holds it, else NULL; a string
 * column takes any value as its JSON text. */
static sl_status as_column(sl_task *t, const sl_value *v, const sl_type *ty,
                           sl_value *out)
{
    static const uint32_t kinds[] = {
        [SL_TYPE_BOOLEAN] = SL_KIND_BOOL,  [SL_TYPE_LONG] = SL_KIND_INT,
        [SL_TYPE_DOUBLE] = SL_KIND_DOUBLE, [SL_TYPE_STRING] = SL_KIND_STR,
        [SL_TYPE_BINARY] = SL_KIND_BYTES,  [SL_TYPE_TIMESTAMP] = SL_KIND_INT,
        [SL_TYPE_ARRAY] = SL_KIND_LIST,    [SL_TYPE_STRUCT] = SL_KIND_TUPLE};
    char buf[1024];
    size_t n;
    if (v->kind == SL_KIND_NULL || v->kind == kinds[ty->id]) {
        *out = *v;
        return SL_OK;
    }
    if (ty->id != SL_TYPE_STRING) {
        *out = sl_null();
        return SL_OK;
    }
    n = sl_value_format_json(v, buf, sizeof buf);
    return sl_task_str(t, buf, n < sizeof buf ? n : sizeof buf - 1, out);
}

static sl_status to_row_fn(sl_task *t, const sl_value *in, sl_value *out,
                           void *user)
{
    const sqls *q = user;
    size_t i, n = sl_schema_size(q->view_schema);
    const sl_value *src = in;
    sl_value *items = sl_task_alloc(t, (n ? n : 1) * sizeof *items);
    sl_status st;
    if (!items)
        return SL_ENOMEM;
    if ((in->kind == SL_KIND_TUPLE || in->kind == SL_KIND_PAIR) &&
        in->len == n && n > 1)
        src = in->u.items;
    for (i = 0; i < n; i++)
        if ((st = as_column(t, src == in ? in : &src[i],
                            sl_schema_type(q->view_schema, i), &items[i])))
            return st;
    *out = sl_composite(SL_KIND_TUPLE, items, n);
    return SL_OK;
}

/* ------------------------------------------------------ reject_when */

/* A row reject_when holds for: counted, and written as a dead letter
 * (the row as a JSON object of the view's columns) when there is a
 * file. A failed write is counted and reported by the writer. */
static void reject_row(sl_task *t, const sqls *q, const sl_value *row)
{
    char error[256];
    sl__dead_letter r = {.batch = sl_task_batch_id(t),
                         .stream = q->name,
                         .op = 0,
                         .reason = "rejected",
                         .error = error};
    atomic_fetch_add(&sl__context_bad_counts(q->ctx)->rejected, 1);
    if (!q->dead)
        return;
    snprintf(error, sizeof error, "reject_when: %s", q->reject_text);
    sl__dead_letters_put_row(q->dead, &r, q->view_schema, row);
}

static sl_status reject_fn(sl_task *t, const sl_value *in, void *user)
{
    const sqls *q = user;
    sl_value v;
    sl_status st = sl__sql_eval(q->reject, in->u.items, sl__task_arena(t), &v);
    if (st)
        return st;
    if (v.kind == SL_KIND_BOOL && v.u.b) {
        reject_row(t, q, in);
        return SL_OK;
    }
    return sl_task_emit(t, in); /* false and NULL pass, as WHERE NOT */
}

/* reject_when bound to the view's columns: a boolean without aggregates. */
static sl_status compile_reject(sqls *q, char *errbuf, size_t errlen)
{
    sl__sql_rel input = {q->view_name, q->view_schema, 0};
    sl__sql_scope scope = {&input, 1, NULL, NULL, "reject_when", 0, &q->clock};
    sl__sql_expr *x;
    sl__sql_error e;
    const sl_type *ty;
    if (sl__sql_parse_expr(q->reject_text, &q->a, &x, &e) ||
        sl__sql_compile(x, &scope, &q->a, &q->reject, &e)) {
        sl__sql_error_format(q->reject_text, &e, errbuf, errlen);
        return SL_EPARSE;
    }
    ty = sl__sql_prog_type(q->reject);
    if (ty->id != SL_TYPE_BOOLEAN) {
        char name[64];
        sl_type_format(ty, name, sizeof name);
        snprintf(errbuf, errlen,
                 "reject_when must be a boolean expression, not %s", name);
        return SL_EINVAL;
    }
    return SL_OK;
}

/* ------------------------------------------------------- per batch */

static sl_status fail(sqls *q, sl_status st, const char *what)
{
    sl_engine *eng = sl_context_engine(q->ctx);
    if (!*sl_engine_errmsg(eng))
        sl__engine_set_error(eng, "sql stream: %s: %s", what, sl_strerror(st));
    return st ? st : SL_EUSER;
}

/* The running batch's time (current_timestamp()) and, for a stateful
 * part, its watermark, for the tasks that follow (job thread). */
static void batch_times(sqls *q, int64_t time_ms, _Atomic int64_t *watermark)
{
    atomic_store_explicit(&q->clock, time_ms, memory_order_relaxed);
    if (watermark)
        atomic_store_explicit(watermark, sl__context_batch_watermark(q->ctx),
                              memory_order_relaxed);
}

static sl_status stateless_fn(sl_rdd *in, int64_t time_ms, sl_rdd **out,
                              void *user)
{
    sqls *q = user;
    sl_status st;
    batch_times(q, time_ms, NULL);
    q->cur = in;
    st = sl__sql_plan_rdd(q->plan, &q->cat, sl_context_engine(q->ctx), NULL,
                          NULL, out);
    q->cur = NULL;
    return st ? fail(q, st, "query") : SL_OK;
}

static sl_status partial_fn(sl_rdd *in, int64_t time_ms, sl_rdd **out,
                            void *user)
{
    sqls *q = user;
    sl_rdd *rows;
    sl_status st;
    batch_times(q, time_ms, &q->et.watermark);
    q->cur = in;
    st = sl__sql_plan_rdd(q->agg->input, &q->cat, sl_context_engine(q->ctx),
                          NULL, NULL, &rows);
    q->cur = NULL;
    if (!st)
        st = sl__sql_exec_partial(sl_context_engine(q->ctx), q->agg, rows, out);
    return st ? fail(q, st, "partial aggregation") : SL_OK;
}

/* A key's accumulators of this batch merged into its stored ones. */
static sl_status merge_state_fn(sl_task *t, const sl_value *key,
                                const sl_value *value, sl_state *state,
                                void *user)
{
    const sqls *q = user;
    const sl_value *old = sl_state_get(state);
    bool append = q->mode == SL_OUTPUT_APPEND;
    sl_value merged, kv;
    sl_status st;
    if (!value) {
        /* behind the watermark (sl__sql_evtime_expired): append mode
         * emits the key's final row now, once; update mode emitted it */
        if (!append || !old || (st = sl_task_pair(t, key, old, &kv)))
            return old || !append ? SL_OK : SL_ESTATE;
        return sl_task_emit(t, &kv);
    }
    if (old)
        st = sl__sql_agg_merge_accs(q->agg, old, value, sl__task_arena(t),
                                    &merged);
    else
        st = (merged = *value, SL_OK);
    if (st || (st = sl_state_update(state, &merged)))
        return st;
    if (append) /* an event-time aggregation: emitted when it is done */
        return SL_OK;
    if ((st = sl_task_pair(t, key, &merged, &kv)))
        return st;
    return sl_task_emit(t, &kv);
}

static sl_status finish_fn(sl_rdd *in, int64_t time_ms, sl_rdd **out,
                           void *user)
{
    sqls *q = user;
    sl_rdd *rows;
    sl_status st;
    batch_times(q, time_ms, NULL);
    st = sl__sql_exec_finish(q->agg, in, &rows);
    if (!st)
        st = sl__sql_plan_rdd(q->plan, &q->cat, sl_context_engine(q->ctx),
                              q->agg, rows, out);
    return st ? fail(q, st, "aggregation result") : SL_OK;
}

/* The rows below the OVER aggregation, keyed by partition. */
static sl_status over_in_fn(sl_rdd *in, int64_t time_ms, sl_rdd **out,
                            void *user)
{
    sqls *q = user;
    sl_rdd *rows;
    sl_status st;
    batch_times(q, time_ms, &q->over.et.watermark);
    q->cur = in;
    st = sl__sql_plan_rdd(q->over.wins[0]->input, &q->cat,
                          sl_context_engine(q->ctx), NULL, NULL, &rows);
    q->cur = NULL;
    if (!st)
        st = sl__sql_over_keyed(&q->over, rows, out);
    return st ? fail(q, st, "OVER input") : SL_OK;
}

/* The query above the OVER aggregation, on the rows it emitted. */
static sl_status over_out_fn(sl_rdd *in, int64_t time_ms, sl_rdd **out,
                             void *user)
{
    sqls *q = user;
    sl_status st;
    batch_times(q, time_ms, NULL);
    st = sl__sql_plan_rdd(q->plan, &q->cat, sl_context_engine(q->ctx),
                          q->over.top, in, out);
    return st ? fail(q, st, "OVER result") : SL_OK;
}

/* ---------------------------------------------------- output modes */

/* What the plan holds that the output-mode rules look at. */
typedef struct shape {
    size_t aggs, sorts, limits, distincts;
    sl__sql_plan *agg;
    bool sort_below_agg, distinct_agg;
} shape;

static void walk(sl__sql_plan *p, shape *sh)
{
    size_t i;
    if (!p)
        return;
    if (p->kind == SL__PLAN_AGGREGATE) {
        sh->aggs++;
        sh->agg = p;
        for (i = 0; i < p->naggs; i++)
            sh->distinct_agg = sh->distinct_agg || !p->aggs[i].fn->streaming;
    }
    if (p->kind == SL__PLAN_SORT && !sh->aggs) {
        sh->sorts++;
    } else if (p->kind == SL__PLAN_SORT) {
        sh->sort_below_agg = true;
    }
    sh->limits += p->kind == SL__PLAN_LIMIT && !sh->aggs;
    sh->distincts += p->kind == SL__PLAN_DISTINCT;
    walk(p->input, sh);
    walk(p->right, sh);
}

/* watermarked: the aggregation groups by the event time of an input
 * with a watermark (then append mode emits each group once, when the
 * watermark passes it). */
static const char *check_modes(const shape *sh, sl_output_mode mode,
                               bool watermarked)
{
    if (sh->aggs > 1)
        return "Multiple streaming aggregations are not supported with "
               "streaming DataFrames/Datasets";
    if (sh->distinct_agg)
        return "Distinct aggregations are not supported on streaming "
               "DataFrames/Datasets (count(DISTINCT ...) and the like)";
    if (sh->distincts)
        return "SELECT DISTINCT is not supported on streaming "
               "DataFrames/Datasets in sluice: use GROUP BY";
    if (sh->aggs && mode == SL_OUTPUT_APPEND && !watermarked)
        return "Append output mode not supported when there are streaming "
               "aggregations on streaming DataFrames/DataSets without "
               "watermark";
    if (!sh->aggs && mode == SL_OUTPUT_COMPLETE)
        return "Complete output mode not supported when there are no "
               "streaming aggregations on streaming DataFrames/Datasets";
    if (sh->sort_below_agg || (sh->sorts && mode != SL_OUTPUT_COMPLETE))
        return "Sorting is not supported on streaming DataFrames/Datasets, "
               "unless it is on aggregated DataFrame/Dataset in Complete "
               "output mode";
    if (sh->limits && mode == SL_OUTPUT_UPDATE)
        return "Limits are not supported on streaming DataFrames/Datasets "
               "in Update output mode";
    if (sh->limits && !sh->aggs)
        return "LIMIT on a stream is supported only after an aggregation "
               "in Complete output mode";
    return NULL;
}

/* The output columns that are GROUP BY keys as they are (a key missing
 * from the select list keys nothing: the rows are keyed by those that
 * are there). */
static sl_status set_keys(sl_dstream *out, const sqls *q)
{
    const sl__sql_plan *p = q->plan;
    size_t keys[64], n = 0, i;
    while (p && p->kind != SL__PLAN_PROJECT && p != q->agg)
        p = p->input;
    if (!p)
        return SL_OK;
    if (p == q->agg) {
        for (i = 0; i < q->agg->nprogs && n < 64; i++)
            keys[n++] = i;
    } else {
        for (i = 0; i < p->nprogs && n < 64; i++) {
            const sl__sql_node *nd = &p->progs[i]->nodes[p->progs[i]->root];
            if (p->input == q->agg && nd->code == SL__N_COLUMN &&
                nd->column < q->agg->nprogs && i < q->plan->ncolumns)
                keys[n++] = i;
        }
    }
    return sl__dstream_set_output(out, sl_dstream_output_mode(out), keys, n);
}

/* ---------------------------------------------------------- building */

/* FROM f's WATERMARK clauses declared on their views (before planning,
 * so the planner sees them). SL_EPARSE with e set. */
static sl_status from_watermarks(void *user, const sl__sql_from *f,
                                 sl__sql_error *e)
{
    sqls *q = user;
    const sl_schema *schema;
    sl_dstream *view;
    sl_status st;
    if (!f)
        return SL_OK;
    if (f->kind == SL__SQL_FROM_SUBQUERY)
        return sl__sql_query_froms(f->subquery, from_watermarks, q, e);
    if (f->kind == SL__SQL_FROM_JOIN)
        return (st = from_watermarks(q, f->left, e))
                   ? st
                   : from_watermarks(q, f->right, e);
    if (!f->wm_column)
        return SL_OK;
    if (!(view = sl__context_find_view(q->ctx, f->name, &schema)))
        return sl__sql_error_set(e, f->wm_offset,
                                 "WATERMARK needs a stream: '%s' is a table",
                                 f->name);
    if (sl_dstream_set_watermark(view, f->wm_column, f->wm_delay_ms))
        return sl__sql_error_set(e, f->wm_offset, "%s",
                                 sl_context_errmsg(q->ctx));
    return SL_OK;
}

static sl_status plan_query(sqls *q, char *errbuf, size_t errlen)
{
    sl__sql_query *ast;
    sl__sql_error e;
    if (sl__sql_parse(q->text, &q->a, &ast, &e) ||
        sl__sql_query_froms(ast, from_watermarks, q, &e) ||
        sl__sql_plan_build(q->text, ast, &q->cat, 0, &q->a, &q->plan, &e)) {
        sl__sql_error_format(q->text, &e, errbuf, errlen);
        return SL_EPARSE;
    }
    if (q->two_streams || !q->view) {
        snprintf(errbuf, errlen, "%s",
                 q->two_streams ? "joins and unions of two streams are not "
                                  "supported: join a stream with tables"
                                : "a SQL stream reads a stream: FROM names "
                                  "no view or stream");
        return SL_EINVAL;
    }
    return SL_OK;
}

/* The first stream made for q owns it, so a graph left half made (out
 * of memory) frees it with the context. */
static sl_dstream *owned(sqls *q, sl_dstream *s)
{
    if (s && !q->owner) {
        q->owner = s;
        sl__dstream_own(s, q, sqls_free);
    }
    return s;
}

/* A transform of the SQL stream: a batch its input does not make (a
 * queue's null entry) is none here either, not a failed job. */
static sl_dstream *sql_transform(sqls *q, sl_dstream *in, sl_transform_fn fn)
{
    sl_dstream *s = sl_dstream_transform(in, fn, q);
    sl__dstream_pass_missing(s);
    return s;
}

/* OVER aggregation: the rows below it keyed by partition, the state's
 * emitted rows, the query above them. */
static sl_dstream *over_graph(sqls *q, sl_dstream *rows)
{
    sl_dstream *mapped, *out;
    mapped =
        sl_dstream_map_with_state(owned(q, sql_transform(q, rows, over_in_fn)),
                                  sl__sql_over_state_fn, &q->over, 0, NULL, 0);
    q->over.et.ctx = q->ctx;
    q->over.et.dead = q->dead;
    q->over.et.stream = q->name;
    q->over.et.stateful = mapped;
    sl__map_state_set_due(mapped, sl__sql_over_due, &q->over);
    out = sql_transform(q, mapped, over_out_fn);
    if (out)
        sl__dstream_name_with(out, mapped);
    return out;
}

/* A session_window aggregation: the running sessions per other keys
 * (sql_stream_session.c) instead of one state row per group. */
static sl_dstream *session_graph(sqls *q, sl_dstream *rows, sl_output_mode mode)
{
    sl_dstream *stateful, *out;
    sl_dstream *pairs = sl__sql_session_stream(
        owned(q, sql_transform(q, rows, partial_fn)), q->agg,
        q->evtime ? &q->et : NULL, mode, &stateful);
    q->et.ctx = q->ctx;
    q->et.dead = q->dead;
    q->et.stream = q->name;
    q->et.stateful = stateful;
    out = pairs ? sql_transform(q, pairs, finish_fn) : NULL;
    if (out)
        sl__dstream_name_with(out, stateful);
    return out;
}

/* The output stream of a planned query: its graph of operators. */
static sl_dstream *build_graph(sqls *q, sl_output_mode mode)
{
    sl_dstream *rows = q->view, *mapped, *out;
    if (sl_dstream_schema(q->view) != q->view_schema)
        rows = owned(q, sl_dstream_map(q->view, to_row_fn, q));
    if (q->reject)
        rows = owned(q, sl_dstream_flat_map(rows, reject_fn, q));
    if (q->over.top)
        return over_graph(q, rows);
    if (!q->agg)
        return owned(q, sql_transform(q, rows, stateless_fn));
    if (q->agg->session)
        return session_graph(q, rows, mode);
    mapped =
        sl_dstream_map_with_state(owned(q, sql_transform(q, rows, partial_fn)),
                                  merge_state_fn, q, 0, NULL, 0);
    q->et.ctx = q->ctx;
    q->et.dead = q->dead;
    q->et.stream = q->name;
    q->et.stateful = mapped;
    if (q->agg->late)
        sl__map_state_set_expiry(mapped, sl__sql_evtime_expired, &q->et);
    out = sql_transform(q,
                        mode == SL_OUTPUT_COMPLETE
                            ? sl_dstream_state_snapshots(mapped)
                            : mapped,
                        finish_fn);
    if (out)
        sl__dstream_name_with(out, mapped);
    return out;
}

static sl_status describe(sl_dstream *out, sqls *q, sl_output_mode mode,
                          const sl_schema *schema)
{
    static const char *const names[] = {"append", "update", "complete"};
    size_t len = strlen(q->text) + 64;
    char *params = sl_malloc(len);
    sl_status st;
    if (!params)
        return SL_ENOMEM;
    /* The query and mode are facts of the stream's fingerprint: a
     * checkpoint made by another query is refused at restart. */
    snprintf(params, len, "sql %s; output mode %s", q->text, names[mode]);
    st = sl__dstream_set_params(out, params);
    sl_free(params);
    if (st || (st = sl__dstream_set_output(out, mode, NULL, 0)))
        return st;
    sl__dstream_set_schema(out, schema, NULL);
    return q->agg ? set_keys(out, q) : SL_OK;
}

static bool reads_view(const sl__sql_plan *scan, void *user)
{
    const sqls *q = user;
    const rel *r = scan->handle;
    return r && r->stream == q->view;
}

/* Plan query and check Spark's output-mode rules; *mode is the mode the
 * stream runs in. */
static sl_status prepare(sqls *q, sl_output_mode *mode, char *errbuf,
                         size_t errlen)
{
    shape sh = {0};
    const char *rule;
    bool over = false;
    sl_status st = plan_query(q, errbuf, errlen);
    if (st)
        return st;
    walk(q->plan, &sh);
    q->agg = sh.agg;
    if ((st = sl__sql_over_find(&q->over, q->plan, q->text, q->view,
                                q->view_schema, reads_view, q, &over, errbuf,
                                errlen)))
        return st;
    if (!sh.aggs && *mode == SL_OUTPUT_UPDATE)
        *mode = SL_OUTPUT_APPEND; /* without aggregation update = append */
    if (sh.aggs == 1 &&
        (st = sl__sql_evtime_find(&q->et, q->agg, q->view, q->view_schema,
                                  reads_view, q, &q->evtime)))
        return st;
    rule = check_modes(&sh, *mode, q->evtime);
    if (!rule && q->agg && q->agg->session && *mode == SL_OUTPUT_UPDATE)
        rule = "Update output mode not supported for session window on "
               "streaming DataFrames/DataSets";
    if (rule) {
        snprintf(errbuf, errlen, "%s", rule);
        return SL_EINVAL;
    }
    q->mode = *mode;
    /* complete mode neither drops late rows nor evicts (Spark's) */
    if (q->evtime && *mode != SL_OUTPUT_COMPLETE)
        q->agg->late = &q->et.late;
    return SL_OK;
}

/* q's copies of the texts, its plan checked against the output-mode
 * rules (*mode: the mode it runs in), its schema and reject_when. */
static sl_status setup(sqls *q, const char *query, sl__sql_stream_opts *opts,
                       sl_output_mode *mode, sl_schema **schema, char *errbuf,
                       size_t errlen)
{
    const char *name = opts->name, *reject = opts->reject_when;
    sl_status st;
    if (!(q->text = sl__strdup(query)) ||
        (name &&
         !(q->name = sl__arena_memdup(&q->a, name, strlen(name) + 1))) ||
        (reject && !(q->reject_text = sl__arena_memdup(&q->a, reject,
                                                       strlen(reject) + 1)))) {
        snprintf(errbuf, errlen, "out of memory");
        return SL_ENOMEM;
    }
    if ((st = prepare(q, mode, errbuf, errlen)))
        return st;
    if ((st = sl__sql_plan_schema(q->plan, schema))) {
        snprintf(errbuf, errlen, "out of memory");
        return st;
    }
    if (reject && (st = compile_reject(q, errbuf, errlen)))
        opts->reject_failed = true;
    return st;
}

sl_dstream *sl__sql_stream_build(sl_context *ctx, const char *query,
                                 sl__sql_stream_opts *opts, char *errbuf,
                                 size_t errlen)
{
    sqls *q = sl_malloc(sizeof *q);
    sl_output_mode mode = opts->mode;
    sl_schema *schema = NULL;
    sl_dstream *out;
    sl_status st;
    if (!q) {
        snprintf(errbuf, errlen, "out of memory");
        return NULL;
    }
    memset(q, 0, sizeof *q);
    sl__arena_init(&q->a, 16384);
    q->ctx = ctx;
    q->tables = opts->tables;
    q->dead = opts->dead;
    q->cat = (sl__sql_catalog){lookup, rel_rdd, q, &q->clock};
    if (setup(q, query, opts, &mode, &schema, errbuf, errlen)) {
        sl_schema_release(schema);
        sqls_free(q);
        return NULL;
    }
    out = build_graph(q, mode);
    if (!q->owner)
        sqls_free(q);
    if (!out)
        snprintf(errbuf, errlen, "%s", sl_context_errmsg(ctx));
    else if ((st = describe(out, q, mode, schema)))
        snprintf(errbuf, errlen, "%s", sl_strerror(st));
    sl_schema_release(schema);
    return out && !st ? out : NULL;
}

sl_dstream *sl_context_sql_stream(sl_context *ctx, const char *query,
                                  sl_output_mode mode, char *errbuf,
                                  size_t errlen)
{
    if (!ctx || !query || (unsigned)mode > SL_OUTPUT_COMPLETE) {
        snprintf(errbuf, errlen, "sql stream: %s",
                 query ? "no such output mode" : "query is NULL");
        return NULL;
    }
    sl__sql_stream_opts opts = {.mode = mode};
    return sl__sql_stream_build(ctx, query, &opts, errbuf, errlen);
}

const char *sl__sql_stream_mode_error(const sl__sql_query *q,
                                      sl_output_mode mode, bool watermark)
{
    shape sh = {0};
    size_t i;
    if (q->kind != SL__SQL_SELECT)
        return NULL; /* a union: the plan's walk at build time checks it */
    for (i = 0; i < q->nitems; i++)
        if (q->items[i].expr && sl__sql_has_aggregate(q->items[i].expr))
            sh.aggs = 1;
    if (q->ngroup_by || q->having)
        sh.aggs = 1;
    sh.sorts = q->norder_by;
    sh.limits = q->limit >= 0;
    sh.distincts = q->distinct;
    if (!sh.aggs && mode == SL_OUTPUT_UPDATE)
        mode = SL_OUTPUT_APPEND;
    /* whether the groups hold the event time is known at the build */
    return check_modes(&sh, mode, watermark);
}
