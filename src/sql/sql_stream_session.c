/*
 * session_window in SQL streams (docs/sql.md "Session windows"), as
 * Spark's session window aggregation in append and complete mode: each
 * batch's partial sessions (plan_session.c: the partial aggregation by
 * (keys, [ts, ts + gap)), merged per other keys) are merged into the
 * running sessions of their other keys, kept with update_state_by_key
 * as (open sessions, sessions done in this batch), each a list of
 * (keys, accumulators) pairs sorted by start. In append mode a session
 * whose end <= the batch's watermark is done: given once, then
 * forgotten (rows whose own session already ends there were dropped as
 * late by the aggregation's hook); complete mode gives every session
 * every batch and forgets none. Spark refuses update mode for session
 * windows, and so does the caller.
 */
#include "sql/sql_stream_session.h"

#include "rdd/rdd.h"
#include "stream/stream.h"

#include <string.h>

typedef struct sess_ctx {
    const sl__sql_plan *agg;
    const sl__sql_evtime *et; /* append mode: the watermark; else NULL */
} sess_ctx;

static const sl_value *open_of(const sl_value *state)
{
    return state ? &state->u.items[0] : NULL;
}

/* Split the merged sessions m[0..n) into open and done (end <= the
 * watermark, append mode only), as the key's new state. */
static sl_status split(sl_task *t, const sess_ctx *c, sl_value *m, size_t n,
                       sl_value *new_state, bool *remove)
{
    int64_t wm =
        c->et ? atomic_load_explicit(&c->et->watermark, memory_order_relaxed)
              : INT64_MIN;
    sl_value *open = sl_task_alloc(t, (n ? n : 1) * sizeof *open);
    sl_value *done = sl_task_alloc(t, (n ? n : 1) * sizeof *done);
    sl_value *st = sl_task_alloc(t, 2 * sizeof *st);
    size_t i, no = 0, nd = 0;
    if (!open || !done || !st)
        return SL_ENOMEM;
    for (i = 0; i < n; i++) {
        const sl_value *w = &sl_pair_key(&m[i])->u.items[c->agg->session_key];
        if (c->et && w->u.items[1].u.i <= wm)
            done[nd++] = m[i];
        else
            open[no++] = m[i];
    }
    *remove = !no && !nd;
    st[0] = sl_composite(SL_KIND_LIST, open, no);
    st[1] = sl_composite(SL_KIND_LIST, done, nd);
    *new_state = sl_composite(SL_KIND_TUPLE, st, 2);
    return SL_OK;
}

/* The key's open sessions and this batch's merged into one sorted,
 * non-overlapping list, then split. */
static sl_status update_fn(sl_task *t, const sl_value *key,
                           const sl_value *values, const sl_value *state,
                           sl_value *new_state, bool *remove, void *user)
{
    const sess_ctx *c = user;
    const sl_value *open = open_of(state);
    size_t i, m, no = open ? open->len : 0, n = no + values->len;
    const sl_value **parts = sl_task_alloc(t, (n ? n : 1) * sizeof *parts);
    sl_value *merged = sl_task_alloc(t, (n ? n : 1) * sizeof *merged);
    sl_status st;
    SL__UNUSED(key);
    if (!parts || !merged)
        return SL_ENOMEM;
    for (i = 0; i < no; i++)
        parts[i] = &open->u.items[i];
    for (i = 0; i < values->len; i++)
        parts[no + i] = &values->u.items[i];
    if ((st = sl__sql_session_merge(t, c->agg, parts, n, merged, &m)))
        return st;
    return split(t, c, merged, m, new_state, remove);
}

/* (other keys, state) -> the sessions to finish: done ones in append
 * mode, open ones in complete mode (where none is ever done). */
static sl_status emit_fn(sl_task *t, const sl_value *in, void *user)
{
    const sess_ctx *c = user;
    const sl_value *st = sl_pair_value(in);
    const sl_value *list = &st->u.items[c->et ? 1 : 0];
    sl_status rc;
    for (size_t i = 0; i < list->len; i++)
        if ((rc = sl_task_emit(t, &list->u.items[i])))
            return rc;
    return SL_OK;
}

/* A batch's partial pairs merged per other keys, keyed by them. */
static sl_status batch_fn(sl_rdd *in, int64_t time_ms, sl_rdd **out, void *user)
{
    const sess_ctx *c = user;
    sl_rdd *merged;
    sl_status st = sl__sql_exec_sessions(c->agg, in, &merged);
    SL__UNUSED(time_ms);
    if (st)
        return st;
    *out = sl_rdd_map(merged, sl__sql_session_rekey, (void *)c->agg);
    return *out ? SL_OK : SL_EUSER;
}

sl_dstream *sl__sql_session_stream(sl_dstream *partial, const sl__sql_plan *agg,
                                   const sl__sql_evtime *et,
                                   sl_output_mode mode, sl_dstream **stateful)
{
    sess_ctx *c;
    sl_dstream *keyed, *state;
    *stateful = NULL;
    if (!partial || !(c = sl_malloc(sizeof *c)))
        return NULL;
    c->agg = agg;
    c->et = mode == SL_OUTPUT_APPEND ? et : NULL;
    keyed = sl_dstream_transform(partial, batch_fn, c);
    if (keyed)
        sl__dstream_pass_missing(keyed);
    state = sl_dstream_update_state_by_key(keyed, update_fn, c, NULL, 0);
    if (!state) {
        sl_free(c);
        return NULL;
    }
    sl__dstream_own(state, c, sl_free);
    *stateful = state;
    return sl_dstream_flat_map(state, emit_fn, c);
}
