/*
 * Session windows in a batch aggregation (docs/sql.md "Session
 * windows"), as Spark 3.5's MergingSessionsExec: the window expansion
 * (plan_window.c) gives each row its own session [ts, ts + gap), the
 * partial aggregation groups by (other keys, that session), then per
 * other key the partial sessions are sorted by start and merged while
 * the next one starts at or before the current one's end (Spark's
 * isSessionsOverlap is inclusive: an event exactly `gap` after the last
 * one extends the session), the end being the larger of the two ends
 * and the accumulators merged.
 */
#include "sql/eval_int.h"
#include "sql/plan.h"

#include "rdd/rdd.h"

#include <string.h>

/* The start or end of a partial's session (a struct<start, end>). */
static int64_t sess_at(const sl_value *w, size_t i)
{
    return w->u.items[i].u.i;
}

void sl__sql_session_mark(sl__sql_plan *agg)
{
    const sl__sql_plan *in = agg->input;
    const sl__sql_node *n;
    size_t i;
    if (agg->kind != SL__PLAN_AGGREGATE || !in ||
        in->kind != SL__PLAN_PROJECT || in->gen == SIZE_MAX)
        return;
    n = &in->progs[in->gen]->nodes[in->progs[in->gen]->root];
    if (n->code != SL__N_FUNC || strcmp(n->fn->name, "session_window"))
        return;
    for (i = 0; i < agg->nprogs; i++) {
        n = &agg->progs[i]->nodes[agg->progs[i]->root];
        if (n->code == SL__N_COLUMN && n->column == in->gen) {
            agg->session = true;
            agg->session_key = i;
            return;
        }
    }
}

/* (keys, accs) -> (other keys, (keys, accs)): the pair is kept whole so
 * the merge has the session and can rebuild the key tuple. */
sl_status sl__sql_session_rekey(sl_task *t, const sl_value *in, sl_value *out,
                                void *user)
{
    const sl__sql_plan *p = user;
    const sl_value *keys = sl_pair_key(in);
    size_t i, k = 0, n = keys->len;
    sl_value *other = sl_task_alloc(t, (n ? n : 1) * sizeof *other), ok;
    if (!other)
        return SL_ENOMEM;
    for (i = 0; i < n; i++)
        if (i != p->session_key)
            other[k++] = keys->u.items[i];
    ok = sl_composite(SL_KIND_TUPLE, other, k);
    return sl_task_pair(t, &ok, in, out);
}

/* The start of a (keys, accs) pair's session, for sorting. */
static int64_t pair_start(const sl__sql_plan *p, const sl_value *pair)
{
    return sess_at(&sl_pair_key(pair)->u.items[p->session_key], 0);
}

/* Stable merge sort by session start (qsort has no user pointer in C11;
 * a key may have many partial sessions: one per distinct timestamp). */
static void sort_parts(const sl__sql_plan *p, const sl_value **v,
                       const sl_value **tmp, size_t n)
{
    size_t h = n / 2, i = 0, j = h, k = 0;
    if (n < 2)
        return;
    sort_parts(p, v, tmp, h);
    sort_parts(p, v + h, tmp, n - h);
    while (i < h && j < n)
        tmp[k++] = pair_start(p, v[j]) < pair_start(p, v[i]) ? v[j++] : v[i++];
    while (i < h)
        tmp[k++] = v[i++];
    memcpy(v, tmp, k * sizeof *v);
}

/* One merged session: the key tuple with the session [s, e), in *out. */
static sl_status make_session(sl_task *t, const sl__sql_plan *p,
                              const sl_value *keys, int64_t s, int64_t e,
                              const sl_value *accs, sl_value *out)
{
    size_t n = keys->len;
    sl_value *k = sl_task_alloc(t, n * sizeof *k);
    sl_value *w = sl_task_alloc(t, 2 * sizeof *w), kt;
    if (!k || !w)
        return SL_ENOMEM;
    memcpy(k, keys->u.items, n * sizeof *k);
    w[0] = sl_int(s), w[1] = sl_int(e);
    k[p->session_key] = sl_composite(SL_KIND_TUPLE, w, 2);
    kt = sl_composite(SL_KIND_TUPLE, k, n);
    return sl_task_pair(t, &kt, accs, out);
}

sl_status sl__sql_session_merge(sl_task *t, const sl__sql_plan *p,
                                const sl_value **parts, size_t n, sl_value *out,
                                size_t *m)
{
    const sl_value *keys = NULL, *w;
    const sl_value **tmp = sl_task_alloc(t, (n ? n : 1) * sizeof *tmp);
    sl_value accs;
    int64_t s = 0, e = 0;
    size_t i;
    sl_status st;
    *m = 0;
    if (!tmp)
        return SL_ENOMEM;
    sort_parts(p, parts, tmp, n);
    for (i = 0; i < n; i++) {
        const sl_value *pk = sl_pair_key(parts[i]);
        w = &pk->u.items[p->session_key];
        if (keys && sess_at(w, 0) <= e) { /* overlaps: one session */
            e = sess_at(w, 1) > e ? sess_at(w, 1) : e;
            st = sl__sql_agg_merge_accs(p, &accs, sl_pair_value(parts[i]),
                                        sl__task_arena(t), &accs);
            if (st)
                return st;
            continue;
        }
        if (keys && (st = make_session(t, p, keys, s, e, &accs, &out[(*m)++])))
            return st;
        keys = pk, s = sess_at(w, 0), e = sess_at(w, 1);
        accs = *sl_pair_value(parts[i]);
    }
    return keys ? make_session(t, p, keys, s, e, &accs, &out[(*m)++]) : SL_OK;
}

/* (other keys, [(keys, accs)...]) -> the key's merged sessions. */
static sl_status merge_group_fn(sl_task *t, const sl_value *in, void *user)
{
    const sl__sql_plan *p = user;
    const sl_value *list = sl_pair_value(in);
    size_t i, m, n = list->len;
    const sl_value **v = sl_task_alloc(t, (n ? n : 1) * sizeof *v);
    sl_value *out = sl_task_alloc(t, (n ? n : 1) * sizeof *out);
    sl_status st;
    if (!v || !out)
        return SL_ENOMEM;
    for (i = 0; i < n; i++)
        v[i] = &list->u.items[i];
    if ((st = sl__sql_session_merge(t, p, v, n, out, &m)))
        return st;
    for (i = 0; i < m; i++)
        if ((st = sl_task_emit(t, &out[i])))
            return st;
    return SL_OK;
}

sl_status sl__sql_exec_sessions(const sl__sql_plan *p, sl_rdd *pairs,
                                sl_rdd **out)
{
    void *u = (void *)p;
    *out = sl_rdd_flat_map(
        sl_rdd_group_by_key(sl_rdd_map(pairs, sl__sql_session_rekey, u), 0),
        merge_group_fn, u);
    return *out ? SL_OK : SL_EUSER;
}
