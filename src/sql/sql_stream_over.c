/*
 * OVER aggregation in SQL streams (docs/sql.md "OVER aggregation in
 * streams"), as the batch design note of plan_exec_window.c has it for
 * event time: the state of a partition key is its rows still needed by
 * a frame plus the rows waiting for the watermark, and the watermark its
 * rows were last emitted up to. A row is emitted once, with every OVER
 * column, in the first batch whose watermark >= its event time: by then
 * every row of its frame has arrived, since a row at or behind the
 * watermark is late (dropped, counted, dead-lettered `late`), so the
 * result is the batch result over the same rows.
 *
 * Per batch, a partition with rows to emit sorts its kept and waiting
 * rows (at most a frame plus the batch's rows) and runs the WINDOW
 * nodes' sweep (plan_exec_window.c) over them, once: the statistics are
 * incremental within the sweep (winstats.c), and no row's frame is
 * rescanned. Then the rows no future frame can reach leave the state:
 * RANGE keeps the rows with ts > watermark - offset, ROWS the last n
 * emitted ones, so the state stays bounded by the frame.
 *
 * State value: (upto, due, [rows]): upto the watermark of the last
 * emission, due the least event time of the waiting rows (NULL: none),
 * which the due hook compares with the watermark so that a partition
 * without new rows is still called when its rows come due.
 */
#include "sql/sql_stream_over.h"

#include "rdd/rdd.h"
#include "sql/eval_int.h"
#include "stream/stream.h"

#include <stdio.h>
#include <string.h>

/* ----------------------------------------------------------- planning */

/* The PARTITION BY and ORDER BY of o as text, to compare windows. */
static void keys_text(const sl__sql_window *o, char *buf, size_t n)
{
    size_t i, at = 0;
    buf[0] = '\0';
    for (i = 0; i <= o->npartition && at + 1 < n; i++) {
        const sl__sql_expr *x = i < o->npartition ? o->partition[i] : o->order;
        if (x)
            at += sl__sql_expr_format(x, buf + at, n - at);
        if (at + 1 < n)
            buf[at++] = i < o->npartition ? ',' : '|';
        buf[at < n ? at : n - 1] = '\0';
    }
}

static size_t count_windows(const sl__sql_plan *p, bool *agg)
{
    if (!p)
        return 0;
    *agg = *agg || p->kind == SL__PLAN_AGGREGATE;
    return (p->kind == SL__PLAN_WINDOW) + count_windows(p->input, agg) +
           count_windows(p->right, agg);
}

static sl_status refuse(const char *text, size_t offset, char *errbuf,
                        size_t errlen, const char *msg)
{
    sl__sql_error e;
    sl__sql_error_set(&e, offset, "%s", msg);
    sl__sql_error_format(text, &e, errbuf, errlen);
    return SL_EINVAL;
}

/* The chain of WINDOW nodes (all of the plan's, one above the other),
 * with one PARTITION BY and ORDER BY, and bounded frames. */
static sl_status find_chain(sl__sql_over *o, const sl__sql_plan *plan,
                            size_t nwin, const char *text, char *errbuf,
                            size_t errlen)
{
    const sl__sql_plan *p = plan;
    char first[512], other[512];
    size_t i;
    while (p->kind != SL__PLAN_WINDOW)
        p = p->input;
    o->top = p;
    for (; p->kind == SL__PLAN_WINDOW && o->nwin < 8; p = p->input)
        o->nwin++;
    if (o->nwin != nwin)
        return refuse(text, o->top->win->over->offset, errbuf, errlen,
                      "a SQL stream runs the OVER aggregates of one SELECT "
                      "(at most 8 distinct calls)");
    for (i = 0, p = o->top; i < nwin; i++, p = p->input)
        o->wins[nwin - 1 - i] = p;
    keys_text(o->wins[0]->win->over, first, sizeof first);
    for (i = 0; i < nwin; i++) {
        const sl__sql_plan_window *w = o->wins[i]->win;
        keys_text(w->over, other, sizeof other);
        if (strcmp(first, other))
            return refuse(text, w->over->offset, errbuf, errlen,
                          "in a SQL stream all OVER aggregates must have "
                          "the same PARTITION BY and ORDER BY");
    }
    return SL_OK;
}

static sl_status check_bounded(const sl__sql_over *o, const char *text,
                               char *errbuf, size_t errlen)
{
    size_t i;
    for (i = 0; i < o->nwin; i++)
        if (o->wins[i]->win->unbounded)
            return refuse(text, o->wins[i]->win->over->offset, errbuf, errlen,
                          "an OVER frame in a SQL stream must be bounded "
                          "(n PRECEDING, INTERVAL ... PRECEDING or CURRENT "
                          "ROW): UNBOUNDED PRECEDING would keep every row");
    return SL_OK;
}

sl_status sl__sql_over_find(
    sl__sql_over *o, const sl__sql_plan *plan, const char *text,
    const sl_dstream *view, const sl_schema *schema,
    bool (*is_view)(const sl__sql_plan *scan, void *user), void *user,
    bool *found, char *errbuf, size_t errlen)
{
    bool agg = false, wm = false;
    size_t nwin = count_windows(plan, &agg);
    const sl__sql_plan_window *w;
    const sl__sql_node *n;
    sl_status st;
    memset(o, 0, sizeof *o);
    *found = nwin > 0;
    if (!nwin)
        return SL_OK;
    if ((st = find_chain(o, plan, nwin, text, errbuf, errlen)))
        return st;
    w = o->wins[0]->win;
    if (agg)
        return refuse(text, w->over->offset, errbuf, errlen,
                      "OVER aggregation and GROUP BY aggregation in one "
                      "SQL stream are not supported");
    n = w->order ? &w->order->nodes[w->order->root] : NULL;
    if (n && n->code == SL__N_COLUMN &&
        (st = sl__sql_evtime_find_column(&o->et, o->wins[0]->input, n->column,
                                         view, schema, is_view, user, &wm)))
        return st;
    if (!wm)
        return refuse(text, w->over->offset, errbuf, errlen,
                      sl__dstream_watermark(view, NULL)
                          ? "OVER aggregation in a SQL stream must ORDER BY "
                            "its input's watermarked column, as it is"
                          : "OVER aggregation in a SQL stream needs a "
                            "watermark on its input (\"watermark\": "
                            "{\"column\", \"delay\"}) and ORDER BY that "
                            "column");
    o->ts = n->column;
    return check_bounded(o, text, errbuf, errlen);
}

void sl__sql_over_free(sl__sql_over *o)
{
    sl__sql_evtime_free(&o->et);
}

/* ------------------------------------------------------ batch input */

static int64_t watermark(const sl__sql_over *o)
{
    return atomic_load_explicit(&o->et.watermark, memory_order_relaxed);
}

/* row -> (partition key tuple, row), or dropped as late. */
static sl_status keyed_fn(sl_task *t, const sl_value *in, void *user)
{
    sl__sql_over *o = user;
    const sl__sql_plan_window *w = o->wins[0]->win;
    const sl_value *ts = &in->u.items[o->ts];
    sl_value *items, k, kv;
    size_t i;
    sl_status st;
    if (ts->kind != SL_KIND_INT || ts->u.i <= watermark(o)) {
        o->et.late.drop(o->et.late.user, t, in);
        return SL_OK;
    }
    if (!(items = sl_task_alloc(t, (w->npart + 1) * sizeof *items)))
        return SL_ENOMEM;
    for (i = 0; i < w->npart; i++)
        if ((st = sl__sql_eval(w->part[i], in->u.items, sl__task_arena(t),
                               &items[i])))
            return st;
    k = sl_composite(SL_KIND_TUPLE, items, w->npart);
    if ((st = sl_task_pair(t, &k, in, &kv)))
        return st;
    return sl_task_emit(t, &kv);
}

sl_status sl__sql_over_keyed(sl__sql_over *o, sl_rdd *rows, sl_rdd **out)
{
    *out = sl_rdd_group_by_key(sl_rdd_flat_map(rows, keyed_fn, o), 0);
    return *out ? SL_OK : SL_EUSER;
}

/* ------------------------------------------------------------ state */

/* A partition's rows this call works on. */
typedef struct part {
    sl_value *rows; /* input rows; after the sweep sorted by event time */
    size_t n;
    int64_t upto, wm;
} part;

static int64_t ts_of(const sl__sql_over *o, const sl_value *row)
{
    return row->u.items[o->ts].u.i;
}

/* Whether a row at ts is in the RANGE frame (offset off) of some row
 * after the watermark wm (ts > wm - off, without overflow). */
static bool range_needs(int64_t ts, int64_t wm, const sl_value *off)
{
    if (off->kind == SL_KIND_DOUBLE)
        return (double)ts + off->u.d > (double)wm;
    if (wm < INT64_MIN + off->u.i)
        return true;
    return ts > wm - off->u.i;
}

/* The first of the sorted rows that a later row's frame can reach:
 * emitted[0..e) rows end at e. */
static size_t keep_from(const sl__sql_over *o, const part *p, size_t e)
{
    size_t lo = e, i, j;
    for (i = 0; i < o->nwin; i++) {
        const sl__sql_plan_window *w = o->wins[i]->win;
        if (w->rows) {
            uint64_t n = (uint64_t)w->preceding.u.i;
            j = e > n ? e - (size_t)n : 0;
        } else {
            for (j = 0; j < e && !range_needs(ts_of(o, &p->rows[j]), p->wm,
                                              &w->preceding);
                 j++)
                ;
        }
        lo = j < lo ? j : lo;
    }
    return lo;
}

/* The rows with upto < ts <= wm, with their OVER columns, emitted in
 * event-time order; p->rows sorted. *e: the end of the rows <= wm. */
static sl_status sweep_emit(sl_task *t, const sl__sql_over *o, part *p,
                            size_t *e)
{
    size_t ncol = o->wins[0]->input->ncolumns, i;
    sl_value *cur = p->rows, *out = NULL;
    sl_status st;
    for (i = 0; i < o->nwin; i++, cur = out)
        if (!(out = sl_task_alloc(t, p->n * sizeof *out)) ||
            (st = sl__sql_window_rows(t, o->wins[i], cur, p->n, out)))
            return out ? st : SL_ENOMEM;
    for (i = 0; i < p->n; i++) /* the input rows, now in sorted order */
        p->rows[i] = sl_composite(SL_KIND_TUPLE, cur[i].u.items, ncol);
    for (*e = 0; *e < p->n && ts_of(o, &p->rows[*e]) <= p->wm; ++*e)
        if (ts_of(o, &p->rows[*e]) > p->upto &&
            (st = sl_task_emit(t, &cur[*e])))
            return st;
    return SL_OK;
}

/* The new state: rows [lo, n), emitted up to wm. */
static sl_status store(sl_task *t, const sl__sql_over *o, const part *p,
                       size_t lo, sl_state *state)
{
    sl_value *items = sl_task_alloc(t, 3 * sizeof *items), v;
    int64_t due = INT64_MAX;
    size_t i;
    if (!items)
        return SL_ENOMEM;
    for (i = lo; i < p->n; i++)
        if (ts_of(o, &p->rows[i]) > p->upto && ts_of(o, &p->rows[i]) < due)
            due = ts_of(o, &p->rows[i]);
    items[0] = sl_int(p->upto);
    items[1] = due == INT64_MAX ? sl_null() : sl_int(due);
    items[2] = sl_composite(SL_KIND_LIST, p->rows + lo, p->n - lo);
    v = sl_composite(SL_KIND_TUPLE, items, 3);
    return sl_state_update(state, &v);
}

/* The kept rows of old state (NULL: none) and the batch's new ones. */
static sl_status gather(sl_task *t, const sl__sql_over *o, const sl_value *old,
                        const sl_value *value, part *p)
{
    size_t nold = old ? old->u.items[2].len : 0;
    size_t nnew = value ? value->len : 0;
    p->upto = old ? old->u.items[0].u.i : INT64_MIN;
    p->wm = watermark(o);
    p->n = nold + nnew;
    if (!(p->rows = sl_task_alloc(t, (p->n ? p->n : 1) * sizeof *p->rows)))
        return SL_ENOMEM;
    if (nold)
        memcpy(p->rows, old->u.items[2].u.items, nold * sizeof *p->rows);
    if (nnew)
        memcpy(p->rows + nold, value->u.items, nnew * sizeof *p->rows);
    return SL_OK;
}

sl_status sl__sql_over_state_fn(sl_task *t, const sl_value *key,
                                const sl_value *value, sl_state *state,
                                void *user)
{
    const sl__sql_over *o = user;
    const sl_value *old = sl_state_get(state);
    part p;
    size_t i, e, lo;
    bool due = false;
    sl_status st;
    SL__UNUSED(key);
    if (sl_state_exists(state) && !old)
        return SL_ENOMEM;
    if ((st = gather(t, o, old, value, &p)))
        return st;
    for (i = 0; i < p.n && !due; i++)
        due = ts_of(o, &p.rows[i]) > p.upto && ts_of(o, &p.rows[i]) <= p.wm;
    if (!due) /* nothing to emit: keep the new rows waiting */
        return value ? store(t, o, &p, 0, state) : SL_OK;
    if ((st = sweep_emit(t, o, &p, &e)))
        return st;
    lo = keep_from(o, &p, e);
    p.upto = p.wm;
    if (lo == p.n)
        return sl_state_remove(state);
    return store(t, o, &p, lo, state);
}

bool sl__sql_over_due(const sl_value *key, const sl_value *state, void *user)
{
    const sl__sql_over *o = user;
    SL__UNUSED(key);
    return state->kind == SL_KIND_TUPLE && state->len == 3 &&
           state->u.items[1].kind == SL_KIND_INT &&
           state->u.items[1].u.i <= watermark(o);
}
