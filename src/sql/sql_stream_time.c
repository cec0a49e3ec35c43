/*
 * Event time in SQL streams (docs/sql.md "Event time and watermarks"), as
 * Spark's stateful aggregation with a watermark: a row is late when its
 * event-time group key is behind the batch's watermark (a window whose
 * end <= it, tested per window after a sliding window's expansion; a raw
 * event time <= it); late rows are dropped, counted and written as dead
 * letters of reason "late"; a key behind the watermark leaves the state
 * (append mode emits it then, once). Complete mode uses none of this.
 */
#include "sql/sql_stream_time.h"

#include "core/records.h"
#include "core/schema.h"
#include "sql/eval_int.h"
#include "stream/stream.h"

#include <stdio.h>
#include <string.h>

/* ------------------------------------------------ the event-time key */

typedef struct tracer {
    bool (*is_view)(const sl__sql_plan *scan, void *user);
    void *user;
    bool window; /* the column went through window() */
} tracer;

static const sl__sql_node *root(const sl__sql_prog *p)
{
    return &p->nodes[p->root];
}

/* The view column that column col of p is, unchanged (or, through a
 * window() or session_window() expansion, the window of), or SIZE_MAX. */
static size_t trace(tracer *tr, const sl__sql_plan *p, size_t col)
{
    const sl__sql_node *n;
    switch (p->kind) {
    case SL__PLAN_SCAN:
        return tr->is_view(p, tr->user) ? col : SIZE_MAX;
    case SL__PLAN_FILTER:
    case SL__PLAN_SORT:
    case SL__PLAN_LIMIT:
    case SL__PLAN_DISTINCT:
    case SL__PLAN_TRIM:
        return trace(tr, p->input, col);
    case SL__PLAN_JOIN:
        return col < p->input->ncolumns ? trace(tr, p->input, col) : SIZE_MAX;
    case SL__PLAN_PROJECT:
        if (col >= p->nprogs)
            return SIZE_MAX;
        n = root(p->progs[col]);
        if (n->code == SL__N_COLUMN)
            return trace(tr, p->input, n->column);
        if (col == p->gen && n->code == SL__N_FUNC && n->nkids >= 1 &&
            (!strcmp(n->fn->name, "window") ||
             !strcmp(n->fn->name, "session_window")) &&
            !tr->window) {
            const sl__sql_node *ts =
                &p->progs[col]->nodes[p->progs[col]->kids[n->kids]];
            if (ts->code != SL__N_COLUMN)
                return SIZE_MAX;
            tr->window = true;
            return trace(tr, p->input, ts->column);
        }
        return SIZE_MAX;
    default:
        return SIZE_MAX;
    }
}

static void drop_late(void *user, sl_task *t, const sl_value *row);

sl_status sl__sql_evtime_find(sl__sql_evtime *et, const sl__sql_plan *agg,
                              const sl_dstream *view, const sl_schema *schema,
                              bool (*is_view)(const sl__sql_plan *scan,
                                              void *user),
                              void *user, bool *found)
{
    const char *column = sl__dstream_watermark(view, NULL);
    int wm_col = column ? sl_schema_find(schema, column) : -1;
    size_t i;
    *found = false;
    memset(et, 0, sizeof *et);
    for (i = 0; wm_col >= 0 && i < agg->nprogs && !*found; i++) {
        tracer tr = {is_view, user, false};
        const sl__sql_node *n = root(agg->progs[i]);
        if (n->code != SL__N_COLUMN ||
            trace(&tr, agg->input, n->column) != (size_t)wm_col)
            continue;
        *found = true;
        et->late.key = i;
        et->late.window = tr.window;
    }
    if (!*found)
        return SL_OK;
    et->late.watermark = &et->watermark;
    et->late.drop = drop_late;
    et->late.user = et;
    return sl__sql_plan_schema(agg->input, &et->input);
}

sl_status sl__sql_evtime_find_column(sl__sql_evtime *et, const sl__sql_plan *in,
                                     size_t col, const sl_dstream *view,
                                     const sl_schema *schema,
                                     bool (*is_view)(const sl__sql_plan *scan,
                                                     void *user),
                                     void *user, bool *found)
{
    const char *column = sl__dstream_watermark(view, NULL);
    int wm_col = column ? sl_schema_find(schema, column) : -1;
    tracer tr = {is_view, user, false};
    memset(et, 0, sizeof *et);
    *found = wm_col >= 0 && trace(&tr, in, col) == (size_t)wm_col && !tr.window;
    if (!*found)
        return SL_OK;
    et->late.watermark = &et->watermark;
    et->late.drop = drop_late;
    et->late.user = et;
    return sl__sql_plan_schema(in, &et->input);
}

void sl__sql_evtime_free(sl__sql_evtime *et)
{
    sl_schema_release(et->input);
    et->input = NULL;
}

bool sl__sql_evtime_expired(const sl_value *key, void *user)
{
    const sl__sql_evtime *et = user;
    return key->kind == SL_KIND_TUPLE && et->late.key < key->len &&
           sl__sql_is_late(&et->late, &key->u.items[et->late.key]);
}

/* ---------------------------------------------------------- late rows */

static void drop_late(void *user, sl_task *t, const sl_value *row)
{
    sl__sql_evtime *et = user;
    sl__bad_counts *counts = sl__context_bad_counts(et->ctx);
    char error[128], wm[32];
    sl__dead_letter r = {.batch = sl_task_batch_id(t),
                         .stream = et->stream,
                         .op = 0,
                         .reason = "late",
                         .error = error};
    sl__dstream_count_late(et->stateful, 1);
    atomic_fetch_add_explicit(&counts->late, 1, memory_order_relaxed);
    if (!et->dead)
        return;
    sl__ts_format_iso(
        atomic_load_explicit(&et->watermark, memory_order_relaxed), wm);
    snprintf(error, sizeof error, "%s behind the watermark %s",
             et->late.window ? "its window ends" : "its event time is", wm);
    sl__dead_letters_put_row(et->dead, &r, et->input, row);
}
