/*
 * Running an aggregation and a join (plan_exec.c runs the rest).
 *
 * Aggregation: each partition's rows go into a hash table of key tuple
 * -> accumulator tuple, updated in place (Spark's partial HashAggregate);
 * each key's pair is emitted once and combine_by_key merges the pairs of
 * a key across partitions after the shuffle (the final HashAggregate);
 * the finished row is the keys, then each call's result. Group keys that are
 * doubles are normalised first
 * (-0.0 as 0.0, one NaN), as Spark's NormalizeFloatingNumbers does, so
 * equal keys hash alike.
 *
 * Join: both sides become (key tuple, row); rows whose key holds a NULL
 * can match nothing (SQL equality), so the right side drops them and an
 * inner join the left side too. A cogroup brings each key's rows of both
 * sides together; every pair passing the residual condition is a joined
 * row, and a LEFT join adds a left row that matched none with NULLs.
 */
#include "sql/plan.h"

#include "rdd/rdd.h"

#include <math.h>
#include <string.h>

static sl_value *items_alloc(sl_task *t, size_t n)
{
    return sl_task_alloc(t, (n ? n : 1) * sizeof(sl_value));
}

static size_t total_args(const sl__sql_plan *p)
{
    size_t i, n = 0;
    for (i = 0; i < p->naggs; i++)
        n += p->aggs[i].nargs;
    return n;
}

static void normalise(sl_value *v)
{
    if (v->kind == SL_KIND_DOUBLE && v->u.d == 0.0)
        v->u.d = 0.0;
    else if (v->kind == SL_KIND_DOUBLE && isnan(v->u.d))
        v->u.d = NAN;
}

sl_status sl__sql_agg_merge_accs(const sl__sql_plan *p, const sl_value *a,
                                 const sl_value *b, sl__arena *ar,
                                 sl_value *out)
{
    sl_value *accs = sl__arena_alloc(ar, (p->naggs + 1) * sizeof *accs);
    size_t i;
    if (!accs)
        return SL_ENOMEM;
    for (i = 0; i < p->naggs; i++) {
        sl_status st;
        accs[i] = a->u.items[i];
        st = p->aggs[i].fn->merge(&accs[i], &b->u.items[i], ar);
        if (st)
            return st;
    }
    *out = sl_composite(SL_KIND_TUPLE, accs, p->naggs);
    return SL_OK;
}

static sl_status merge_combiners_fn(sl_task *t, const sl_value *a,
                                    const sl_value *b, sl_value *out,
                                    void *user)
{
    return sl__sql_agg_merge_accs(user, a, b, sl__task_arena(t), out);
}

/* (keys, accumulators) -> keys ++ results */
static sl_status finish_fn(sl_task *t, const sl_value *in, sl_value *out,
                           void *user)
{
    const sl__sql_plan *p = user;
    const sl_value *keys = sl_pair_key(in), *accs = sl_pair_value(in);
    sl_value *row = items_alloc(t, p->nprogs + p->naggs);
    size_t i;
    if (!row)
        return SL_ENOMEM;
    for (i = 0; i < p->nprogs; i++)
        row[i] = keys->u.items[i];
    for (i = 0; i < p->naggs; i++) {
        sl_status st = p->aggs[i].fn->finish(
            &accs->u.items[i], sl__task_arena(t), &row[p->nprogs + i]);
        if (st)
            return st;
    }
    *out = sl_composite(SL_KIND_TUPLE, row, p->nprogs + p->naggs);
    return SL_OK;
}

bool sl__sql_is_late(const sl__sql_late *l, const sl_value *key)
{
    int64_t wm = atomic_load_explicit(l->watermark, memory_order_relaxed);
    const sl_value *at = key;
    if (l->window) /* struct<start, end>: the end decides */
        at = key->kind == SL_KIND_TUPLE && key->len == 2 ? &key->u.items[1]
                                                         : NULL;
    return at && at->kind == SL_KIND_INT && at->u.i <= wm;
}

/* One row into the partition's table: its keys and arguments evaluated
 * in scratch, its key's accumulators (made in the table's arena on the
 * key's first row) updated in place there. */
static sl_status partial_row(sl_task *t, const sl__sql_plan *p, sl__htab *h,
                             const sl_value *row, sl__arena *scratch,
                             sl_value *keys, sl_value *args)
{
    size_t i, j, k = 0;
    sl_value key;
    sl__htab_slot *slot;
    sl_value *accs;
    bool created;
    sl_status st;
    for (i = 0; i < p->nprogs; i++) {
        if ((st = sl__sql_eval(p->progs[i], row->u.items, scratch, &keys[i])))
            return st;
        normalise(&keys[i]);
    }
    if (p->late && sl__sql_is_late(p->late, &keys[p->late->key])) {
        p->late->drop(p->late->user, t, row);
        return SL_OK;
    }
    for (i = 0; i < p->naggs; i++)
        for (j = 0; j < p->aggs[i].nargs; j++, k++)
            if (p->aggs[i].same[j])
                args[k] = args[p->aggs[i].same[j] - 1];
            else if ((st = sl__sql_eval(p->aggs[i].args[j], row->u.items,
                                        scratch, &args[k])))
                return st;
    key = sl_composite(SL_KIND_TUPLE, keys, p->nprogs);
    if (!(slot = sl__htab_upsert(h, &key, sl__htab_hash(&key), &created)))
        return SL_ENOMEM;
    if (created) {
        accs = sl__arena_alloc(&h->arena, (p->naggs + 1) * sizeof *accs);
        if (!accs || sl__value_copy(&h->arena, NULL, &key, &slot->key))
            return SL_ENOMEM;
        for (i = 0; i < p->naggs; i++)
            p->aggs[i].fn->init(&accs[i]);
        slot->value = sl_composite(SL_KIND_TUPLE, accs, p->naggs);
    }
    accs = (sl_value *)slot->value.u.items;
    for (i = 0, k = 0; i < p->naggs; k += p->aggs[i].nargs, i++)
        if ((st = p->aggs[i].fn->update(&accs[i], &args[k], p->aggs[i].nargs,
                                        &h->arena)))
            return st;
    return SL_OK;
}

/*
 * Spark's partial HashAggregate: one hash table per partition from key
 * tuple to accumulator tuple, updated in place (an accumulator that
 * grows, such as a DISTINCT set, is never copied per row), then each
 * key's (keys, accumulators) emitted once, in task memory. It is a fold
 * (sl__rdd_fold_partitions): the rows stream in as the operators below
 * make them, so an exploded partition is never held whole.
 */
typedef struct partial_state {
    sl__htab h;
    sl__arena scratch; /* a row's keys and arguments, rewound per row */
    sl_value *keys, *args;
} partial_state;

static void partial_free(void *state, void *user)
{
    partial_state *ps = state;
    SL__UNUSED(user);
    sl__arena_free(&ps->scratch);
    sl__htab_free(&ps->h);
    sl_free(ps);
}

static sl_status partial_begin(sl_task *t, void *user, void **state)
{
    const sl__sql_plan *p = user;
    size_t nk = p->nprogs ? p->nprogs : 1, na = total_args(p);
    partial_state *ps;
    SL__UNUSED(t);
    /* keys and args live with the state: task memory is rewound after
     * every row the fold is pushed. */
    ps = sl_malloc(sizeof *ps + (nk + (na ? na : 1)) * sizeof(sl_value));
    if (!ps)
        return SL_ENOMEM;
    if (sl__htab_init(&ps->h, 0)) {
        sl_free(ps);
        return SL_ENOMEM;
    }
    sl__arena_init(&ps->scratch, 16384);
    ps->keys = (sl_value *)(ps + 1);
    ps->args = ps->keys + nk;
    *state = ps;
    return SL_OK;
}

static sl_status partial_push(sl_task *t, void *state, const sl_value *row,
                              void *user)
{
    partial_state *ps = state;
    sl_status st;
    st = partial_row(t, user, &ps->h, row, &ps->scratch, ps->keys, ps->args);
    sl__arena_reset(&ps->scratch);
    return st;
}

static sl_status partial_end(sl_task *t, void *state, void *user)
{
    partial_state *ps = state;
    sl__htab_slot *slot;
    sl_value row, pair;
    size_t i = 0;
    sl_status st = SL_OK;
    SL__UNUSED(user);
    while (st == SL_OK && (slot = sl__htab_next(&ps->h, &i))) {
        sl_value kv[2] = {slot->key, slot->value};
        row = sl_composite(SL_KIND_PAIR, kv, 2);
        st = sl__value_copy(sl__task_arena(t), NULL, &row, &pair);
        if (st == SL_OK)
            st = sl_task_emit(t, &pair);
    }
    return st;
}

static const sl__fold_ops partial_ops = {partial_begin, partial_push,
                                         partial_end, partial_free};

/* An accumulator tuple is its own first combiner. */
static sl_status acc_create_fn(sl_task *t, const sl_value *in, sl_value *out,
                               void *user)
{
    SL__UNUSED(t);
    SL__UNUSED(user);
    *out = *in;
    return SL_OK;
}

/* Partial aggregation per partition, then accumulators merged per key
 * across partitions by combine_by_key (the final HashAggregate). */
/* The pair of a global aggregation's one group before any row: the
 * empty key tuple and fresh accumulators (merging them changes nothing),
 * in eng's scope. */
static sl_rdd *global_pair(sl_engine *eng, const sl__sql_plan *p)
{
    sl__arena *a = sl__engine_scope_arena(eng);
    sl_value *accs = sl__arena_alloc(a, (p->naggs + 1) * sizeof *accs);
    sl_value *kv = sl__arena_alloc(a, 3 * sizeof *kv);
    size_t i;
    if (!accs || !kv)
        return NULL;
    for (i = 0; i < p->naggs; i++)
        p->aggs[i].fn->init(&accs[i]);
    kv[0] = sl_composite(SL_KIND_TUPLE, NULL, 0);
    kv[1] = sl_composite(SL_KIND_TUPLE, accs, p->naggs);
    kv[2] = sl_composite(SL_KIND_PAIR, kv, 2);
    return sl_rdd_parallelize(eng, &kv[2], 1, 1);
}

sl_status sl__sql_exec_partial(sl_engine *eng, const sl__sql_plan *p,
                               sl_rdd *in, sl_rdd **out)
{
    void *u = (void *)p;
    sl_rdd *pairs = sl__rdd_fold_partitions(in, &partial_ops, u);
    if (pairs && !p->nprogs)
        pairs = sl_rdd_union(pairs, global_pair(eng, p));
    *out = sl_rdd_combine_by_key(pairs, acc_create_fn, merge_combiners_fn,
                                 merge_combiners_fn, u, 0);
    return *out ? SL_OK : SL_EUSER;
}

sl_status sl__sql_exec_aggregate(sl_engine *eng, const sl__sql_plan *p,
                                 sl_rdd *in, sl_rdd **out)
{
    sl_rdd *partial;
    sl_status st = sl__sql_exec_partial(eng, p, in, &partial);
    if (st == SL_OK && p->session)
        st = sl__sql_exec_sessions(p, partial, &partial);
    if (st != SL_OK)
        return st;
    *out = sl_rdd_map(partial, finish_fn, (void *)p);
    return *out ? SL_OK : SL_EUSER;
}

sl_status sl__sql_exec_finish(const sl__sql_plan *p, sl_rdd *pairs,
                              sl_rdd **out)
{
    *out = sl_rdd_map(pairs, finish_fn, (void *)p);
    return *out ? SL_OK : SL_EUSER;
}

/* --------------------------------------------------------------- join */

typedef struct join_side {
    const sl__sql_plan *p;
    sl__sql_prog *const *keys;
    bool drop_null; /* a key with a NULL drops the row */
} join_side;

static sl_status keyed_fn(sl_task *t, const sl_value *in, void *user)
{
    const join_side *s = user;
    size_t i, n = s->p->nprogs;
    sl_value *keys = items_alloc(t, n), kv, pair;
    sl_status st;
    if (!keys)
        return SL_ENOMEM;
    for (i = 0; i < n; i++) {
        st = sl__sql_eval(s->keys[i], in->u.items, sl__task_arena(t), &keys[i]);
        if (st)
            return st;
        if (keys[i].kind == SL_KIND_NULL && s->drop_null)
            return SL_OK;
        normalise(&keys[i]);
    }
    kv = sl_composite(SL_KIND_TUPLE, keys, n);
    if ((st = sl_task_pair(t, &kv, in, &pair)))
        return st;
    return sl_task_emit(t, &pair);
}

/* Emit l ++ r (r NULL: NULLs) when the residual holds (or without r). */
static sl_status emit_joined(sl_task *t, const sl__sql_plan *p,
                             const sl_value *l, const sl_value *r, bool *hit)
{
    size_t nl = l->len, n = p->ncolumns, i;
    sl_value *row = items_alloc(t, n), v, out;
    sl_status st;
    if (!row)
        return SL_ENOMEM;
    memcpy(row, l->u.items, nl * sizeof *row);
    for (i = nl; i < n; i++)
        row[i] = r ? r->u.items[i - nl] : sl_null();
    if (r && p->pred) {
        if ((st = sl__sql_eval(p->pred, row, sl__task_arena(t), &v)))
            return st;
        if (v.kind != SL_KIND_BOOL || !v.u.b)
            return SL_OK;
    }
    *hit = true;
    out = sl_composite(SL_KIND_TUPLE, row, n);
    return sl_task_emit(t, &out);
}

/* (key, ([left rows], [right rows])) -> joined rows */
static sl_status join_fn(sl_task *t, const sl_value *in, void *user)
{
    const sl__sql_plan *p = user;
    const sl_value *groups = sl_pair_value(in);
    const sl_value *ls = &groups->u.items[0], *rs = &groups->u.items[1];
    size_t i, j;
    for (i = 0; i < ls->len; i++) {
        bool hit = false;
        for (j = 0; j < rs->len; j++) {
            sl_status st =
                emit_joined(t, p, &ls->u.items[i], &rs->u.items[j], &hit);
            if (st)
                return st;
        }
        if (!hit && p->join == SL__SQL_JOIN_LEFT) {
            sl_status st = emit_joined(t, p, &ls->u.items[i], NULL, &hit);
            if (st)
                return st;
        }
    }
    return SL_OK;
}

sl_status sl__sql_exec_join(sl_engine *eng, const sl__sql_plan *p, sl_rdd *l,
                            sl_rdd *r, sl_rdd **out)
{
    join_side *s = sl__engine_scope_alloc(eng, 2 * sizeof *s);
    if (!s)
        return SL_ENOMEM;
    s[0].p = s[1].p = p;
    s[0].keys = p->left_keys;
    s[1].keys = p->right_keys;
    s[0].drop_null = p->join == SL__SQL_JOIN_INNER;
    s[1].drop_null = true;
    *out =
        sl_rdd_flat_map(sl_rdd_cogroup(sl_rdd_flat_map(l, keyed_fn, &s[0]),
                                       sl_rdd_flat_map(r, keyed_fn, &s[1]), 0),
                        join_fn, (void *)p);
    return *out ? SL_OK : SL_EUSER;
}
