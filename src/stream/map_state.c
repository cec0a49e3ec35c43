/*
 * map_with_state (Spark's MapWithStateDStream) and its state snapshots, on
 * the keyed state store: the task of shard i calls the mapping function
 * once per input record of its keys, in order per key, writing each change
 * to the store's pending version at once (a key's next record sees it),
 * then times out the shard's idle keys. The version is committed after the
 * batch's outputs, as for update_state_by_key.
 */
#include "state/store.h"
#include "stream/stream_int.h"

#include <string.h>

struct sl_state {
    sl_task *t;
    bool exists, updated, removed, timing_out;
    sl_value value; /* the state when exists: a view, store or scratch */
    sl_value copy;  /* what sl_state_get handed out */
};

bool sl_state_exists(const sl_state *st)
{
    return st && st->exists;
}

const sl_value *sl_state_get(sl_state *st)
{
    /* A copy in task memory: the store's version may be freed by the
     * commit while a record built from it is still kept. */
    if (!st || !st->exists || sl__task_copy(st->t, &st->value, &st->copy))
        return NULL;
    return &st->copy;
}

sl_status sl_state_update(sl_state *st, const sl_value *v)
{
    if (!st || !v)
        return SL_EINVAL;
    if (st->timing_out)
        return SL_ESTATE; /* Spark: cannot update a state timing out */
    st->value = *v;
    st->exists = st->updated = true;
    st->removed = false;
    return SL_OK;
}

sl_status sl_state_remove(sl_state *st)
{
    if (!st)
        return SL_EINVAL;
    if (st->timing_out || !st->exists)
        return SL_ESTATE;
    st->exists = st->updated = false;
    st->removed = true;
    return SL_OK;
}

bool sl_state_is_timing_out(const sl_state *st)
{
    return st && st->timing_out;
}

/* ------------------------------------------------------------- mapping */

/* The key's state as the batch has left it so far: its pending write if
 * an earlier record changed it, else the committed one. */
static void current_state(const sl__state_store *store, const sl_value *key,
                          uint64_t hash, sl_state *st)
{
    bool removed = false;
    const sl__state_entry *e =
        sl__state_pending_get(store, key, hash, &removed);
    if (!e)
        e = sl__state_get(store, key, hash);
    else if (removed)
        e = NULL;
    st->exists = e != NULL;
    if (e)
        st->value = e->value;
}

/* One call for one record, and its verdict written at once, as Spark's
 * MapWithStateRDDRecord does (an existing state is re-stamped with the
 * batch time when a timeout is set, even if unchanged). */
static sl_status map_record(sl_task *t, const sl_dstream *s,
                            const sl_value *key, uint64_t hash,
                            const sl_value *value)
{
    sl_state st;
    sl_status rc;
    memset(&st, 0, sizeof st);
    st.t = t;
    current_state(s->store, key, hash, &st);
    if ((rc = s->map_state(t, key, value, &st, s->user)) != SL_OK)
        return rc;
    if (st.removed)
        return sl__state_remove(s->store, key, hash);
    if (st.updated || (st.exists && s->timeout_ms > 0))
        return sl__state_put(s->store, key, hash, &st.value, sl_task_time(t));
    return SL_OK;
}

/* A call with no value for key e (copied out of the store: the call may
 * replace it), its state timing out or live (due), and its verdict:
 * a timing-out key always leaves the store. */
static sl_status call_idle(sl_task *t, const sl_dstream *s,
                           const sl__state_entry *e, bool timing_out)
{
    sl_state st;
    sl_value key;
    sl_status rc;
    memset(&st, 0, sizeof st);
    st.t = t;
    st.timing_out = timing_out;
    st.exists = true;
    st.value = e->value;
    if ((rc = sl__task_copy(t, &e->key, &key)) != SL_OK ||
        (rc = s->map_state(t, &key, NULL, &st, s->user)) != SL_OK)
        return rc;
    if (timing_out || st.removed)
        return sl__state_remove(s->store, &e->key, e->hash);
    if (st.updated)
        return sl__state_put(s->store, &key, e->hash, &st.value,
                             sl_task_time(t));
    return SL_OK;
}

/* Keys whose last update is older than batch time - timeout (with a
 * timeout), or that expire says are done (with an expiry), get one call
 * with no value and a timing-out state, then lose their state; keys due
 * says are due get a call with a live state. Keys touched by this batch
 * have a pending write and are not idle. */
static sl_status time_out_idle(sl_task *t, const sl_dstream *s)
{
    int64_t threshold =
        s->timeout_ms > 0 ? sl_task_time(t) - s->timeout_ms : INT64_MIN;
    const sl__state_entry *e;
    size_t i = 0;
    bool removed;
    sl_status rc;

    while ((e = sl__state_next(s->store, sl_task_partition(t), &i))) {
        bool out = e->updated_ms < threshold ||
                   (s->expire && s->expire(&e->key, s->expire_user));
        bool due = !out && s->due && s->due(&e->key, &e->value, s->due_user);
        if ((!out && !due) ||
            sl__state_pending_get(s->store, &e->key, e->hash, &removed))
            continue;
        if ((rc = call_idle(t, s, e, out)) != SL_OK)
            return rc;
    }
    return SL_OK;
}

static sl_status map_shard(sl_task *t, sl_iter *in, void *user)
{
    const sl_dstream *s = user;
    sl_value kv;
    uint32_t i;
    sl_status rc = SL_OK;

    while (rc == SL_OK && sl_iter_next(in, &kv)) {
        const sl_value *key = sl_pair_key(&kv), *vals = sl_pair_value(&kv);
        uint64_t hash = sl__htab_hash(key);
        for (i = 0; rc == SL_OK && i < vals->len; i++)
            rc = map_record(t, s, key, hash, &vals->u.items[i]);
    }
    if (rc == SL_OK && (s->timeout_ms > 0 || s->expire || s->due))
        rc = time_out_idle(t, s);
    return rc;
}

sl_status sl__map_state_rdd(sl_dstream *s, batch *b, sl_rdd **out)
{
    return sl__state_batch_rdd(s, b, map_shard, "map_with_state", out);
}

/* ------------------------------------------------------------ snapshots */

static sl_status emit_copy(sl_task *t, const sl__state_entry *e)
{
    sl_value kv;
    sl_status rc = sl_task_pair(t, &e->key, &e->value, &kv);
    if (rc == SL_OK)
        rc = sl__task_copy(t, &kv, &kv);
    return rc == SL_OK ? sl_task_emit(t, &kv) : rc;
}

/* The shard as this batch leaves it: pending writes over the committed
 * version (the commit comes after the outputs). */
static sl_status snapshot_shard(sl_task *t, sl_iter *in, void *user)
{
    const sl__state_store *store = user;
    size_t shard = sl_task_partition(t), i = 0;
    const sl__state_entry *e;
    bool removed;
    sl_status rc = SL_OK;
    SL__UNUSED(in);
    while (rc == SL_OK && (e = sl__state_next_pending(store, shard, &i)))
        if (!sl__state_is_removal(e))
            rc = emit_copy(t, e);
    i = 0;
    while (rc == SL_OK && (e = sl__state_next(store, shard, &i)))
        if (!sl__state_pending_get(store, &e->key, e->hash, &removed))
            rc = emit_copy(t, e);
    return rc;
}

sl_status sl__snapshots_rdd(sl_dstream *s, batch *b, sl_rdd **out)
{
    sl_dstream *mapped = s->parents[0];
    sl_rdd *rdd;
    sl_status st = sl__dstream_rdd(mapped, b, &rdd); /* updates first */
    if (st != SL_OK)
        return st;
    *out = sl_rdd_map_partitions(
        sl_rdd_parallelize(s->ctx->eng, NULL, 0,
                           sl__state_shards(mapped->store)),
        snapshot_shard, mapped->store);
    if (!*out) {
        sl__ctx_set_error(s->ctx, SL_ENOMEM, "state_snapshots: %s",
                          sl_engine_errmsg(s->ctx->eng));
        return SL_ENOMEM;
    }
    return SL_OK;
}

/* --------------------------------------------------------- constructors */

sl_dstream *sl_dstream_map_with_state(sl_dstream *p, sl_map_with_state_fn fn,
                                      void *user, int64_t timeout_ms,
                                      const sl_value *initial, size_t n)
{
    sl_dstream *s;
    if (!p)
        return NULL;
    if (!fn || timeout_ms < 0 || (n && !initial)) {
        sl__ctx_set_error(p->ctx, SL_EINVAL, "map_with_state: %s",
                          !fn              ? "function is NULL"
                          : timeout_ms < 0 ? "negative timeout"
                                           : "initial is NULL");
        return NULL;
    }
    s = sl__dstream_new(p->ctx, DS_MAP_WITH_STATE, &p, 1);
    if (!s)
        return NULL;
    s->map_state = fn;
    s->user = user;
    s->timeout_ms = timeout_ms;
    s->store =
        sl__state_new((size_t)sl__conf_int(p->ctx->conf, "state.shards"));
    if (!s->store) {
        sl__ctx_set_error(p->ctx, SL_ENOMEM, "map_with_state: out of memory");
        return NULL; /* the node is freed with the context */
    }
    return sl__state_load_initial(s, initial, n) == SL_OK ? s : NULL;
}

void sl__map_state_set_expiry(sl_dstream *mapped,
                              bool (*expire)(const sl_value *key, void *user),
                              void *user)
{
    if (mapped && mapped->kind == DS_MAP_WITH_STATE) {
        mapped->expire = expire;
        mapped->expire_user = user;
    }
}

void sl__map_state_set_due(sl_dstream *mapped,
                           bool (*due)(const sl_value *key,
                                       const sl_value *state, void *user),
                           void *user)
{
    if (mapped && mapped->kind == DS_MAP_WITH_STATE) {
        mapped->due = due;
        mapped->due_user = user;
    }
}

void sl__dstream_count_late(sl_dstream *stateful, int64_t n)
{
    if (stateful)
        atomic_fetch_add_explicit(&stateful->dropped_late, n,
                                  memory_order_relaxed);
}

sl_dstream *sl_dstream_state_snapshots(sl_dstream *mapped)
{
    if (!mapped)
        return NULL;
    if (mapped->kind != DS_MAP_WITH_STATE) {
        sl__ctx_set_error(mapped->ctx, SL_EINVAL,
                          "state_snapshots needs a map_with_state stream");
        return NULL;
    }
    return sl__dstream_new(mapped->ctx, DS_STATE_SNAPSHOTS, &mapped, 1);
}
