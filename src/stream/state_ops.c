/*
 * update_state_by_key (Spark's StateDStream) on the keyed state store: each
 * batch groups the new values by key into one partition per state shard,
 * and the task of shard i runs the update function for every key of that
 * shard, new or with state, writing the store's pending version. The
 * version is committed after the batch's outputs succeeded.
 */
#include "state/store.h"
#include "stream/stream_int.h"

#include <string.h>

/* What one shard's task needs while it runs. */
typedef struct shard_run {
    const sl_dstream *s;
    sl__htab seen; /* keys that had new values in this batch */
} shard_run;

/* Run the user's function for one key and record its verdict. A state
 * bit-identical to the committed one is not put again: updated_ms means
 * "last change" for this operator, and a shard whose keys all kept their
 * state writes no checkpoint delta. */
static sl_status update_key(sl_task *t, const sl_dstream *s,
                            const sl_value *key, uint64_t hash,
                            const sl_value *values)
{
    const sl__state_entry *e = sl__state_get(s->store, key, hash);
    sl_value state, kv;
    bool remove = false;
    sl_status st;

    state = sl_null();
    st = s->update(t, key, values, e ? &e->value : NULL, &state, &remove,
                   s->user);
    if (st != SL_OK)
        return st;
    if (remove)
        return e ? sl__state_remove(s->store, key, hash) : SL_OK;
    if ((!e || !sl__value_identical(&e->value, &state)) &&
        (st = sl__state_put(s->store, key, hash, &state, sl_task_time(t))))
        return st;
    /* The record must not point into the store: the commit after the
     * outputs frees the version an idle key's key and state come from. */
    if ((st = sl_task_pair(t, key, &state, &kv)) != SL_OK ||
        (st = sl__task_copy(t, &kv, &kv)) != SL_OK)
        return st;
    return sl_task_emit(t, &kv);
}

/* Keys of the shard that got no values still get their call (Spark calls
 * the function for every key with state). */
static sl_status update_idle_keys(sl_task *t, shard_run *run)
{
    const sl__state_entry *e;
    sl_value empty = sl_composite(SL_KIND_LIST, NULL, 0);
    size_t i = 0;
    sl_status st;
    while ((e = sl__state_next(run->s->store, sl_task_partition(t), &i))) {
        if (sl__htab_find(&run->seen, &e->key, e->hash))
            continue;
        if ((st = update_key(t, run->s, &e->key, e->hash, &empty)) != SL_OK)
            return st;
    }
    return SL_OK;
}

static sl_status update_shard(sl_task *t, sl_iter *in, void *user)
{
    shard_run run = {user, {0}};
    sl_value kv;
    bool created;
    sl_status st = sl__htab_init(&run.seen, 0);

    while (st == SL_OK && sl_iter_next(in, &kv)) {
        const sl_value *key = sl_pair_key(&kv);
        uint64_t hash = sl__htab_hash(key);
        if (!sl__htab_upsert(&run.seen, key, hash, &created))
            st = SL_ENOMEM;
        else
            st = update_key(t, run.s, key, hash, sl_pair_value(&kv));
    }
    if (st == SL_OK)
        st = update_idle_keys(t, &run);
    sl__htab_free(&run.seen);
    return st;
}

sl_status sl__state_batch_rdd(sl_dstream *s, batch *b, sl_partition_fn fn,
                              const char *op, sl_rdd **out)
{
    sl_context *ctx = s->ctx;
    sl_rdd *in;
    sl_status st = sl__dstream_rdd(s->parents[0], b, &in);
    if (st != SL_OK)
        return st;
    if (sl__state_begin(s->store, b->id) != SL_OK) {
        sl__ctx_set_error(ctx, SL_ESTATE,
                          "%s: batch %lld was applied to the state already", op,
                          (long long)b->id);
        return SL_ESTATE;
    }
    /* No batch upstream is no new values: every key with state still gets
     * its chance, as Spark's StateDStream does. One group per shard: the
     * shuffle and the store split keys the same way, and a key's values
     * keep their order. */
    *out = sl_rdd_map_partitions(
        sl_rdd_group_by_key(in ? in : sl_rdd_empty(ctx->eng),
                            sl__state_shards(s->store)),
        fn, s);
    if (!*out) {
        sl__ctx_set_error(ctx, SL_ENOMEM, "%s: %s", op,
                          sl_engine_errmsg(ctx->eng));
        return SL_ENOMEM;
    }
    sl_rdd_persist(*out);
    return SL_OK;
}

sl_status sl__state_rdd(sl_dstream *s, batch *b, sl_rdd **out)
{
    return sl__state_batch_rdd(s, b, update_shard, "update_state_by_key", out);
}

/* Every batch updates the state, whether or not an output reads it. */
sl_status sl__state_advance(sl_dstream *s, batch *b)
{
    sl_rdd *rdd;
    int64_t n;
    sl_status st = sl__dstream_rdd(s, b, &rdd);
    if (st != SL_OK || !rdd)
        return st;
    if ((st = sl_rdd_count(rdd, &n)) != SL_OK)
        sl__ctx_set_error(s->ctx, st, "update_state_by_key: %s",
                          sl_engine_errmsg(s->ctx->eng));
    return st;
}

void sl__state_stream_free(sl_dstream *s)
{
    sl__state_free(s->store);
    s->store = NULL;
    sl_free(s->ckpt_last);
    s->ckpt_last = NULL;
}

bool sl__is_stateful(const sl_dstream *s)
{
    return s->kind == DS_UPDATE_STATE || s->kind == DS_MAP_WITH_STATE;
}

sl_status sl__context_skip_initial_state(sl_context *ctx)
{
    sl_dstream *s;
    if (ctx->state != CTX_NEW) {
        sl__ctx_set_error(ctx, SL_ESTATE,
                          "the initial state can be skipped only before "
                          "the context starts");
        return SL_ESTATE;
    }
    ctx->skip_initial_state = true;
    /* Streams made so far hold their initial state as version 0: an empty
     * restore gives them nothing instead (it cannot fail: no entries). */
    for (s = ctx->streams; s; s = s->next_in_ctx)
        if (sl__is_stateful(s) && sl__state_restore_begin(s->store, 0) == SL_OK)
            (void)sl__state_restore_end(s->store);
    return SL_OK;
}

/* The initial state is version 0, before batch 1; a context restarted
 * from a checkpoint skips it (its state is restored instead). */
sl_status sl__state_load_initial(sl_dstream *s, const sl_value *initial,
                                 size_t n)
{
    size_t i;
    sl_status st;
    if (s->ctx->skip_initial_state)
        n = 0;
    st = sl__state_begin(s->store, 0);
    for (i = 0; i < n && st == SL_OK; i++) {
        const sl_value *kv = &initial[i];
        if (kv->kind != SL_KIND_PAIR) {
            sl__state_abort(s->store);
            sl__ctx_set_error(s->ctx, SL_ETYPE,
                              "update_state_by_key: "
                              "initial state %zu is not a (key, state) "
                              "pair",
                              i);
            return SL_ETYPE;
        }
        st =
            sl__state_put(s->store, sl_pair_key(kv),
                          sl__htab_hash(sl_pair_key(kv)), sl_pair_value(kv), 0);
    }
    if (st == SL_OK)
        st = sl__state_commit(s->store);
    if (st != SL_OK)
        sl__ctx_set_error(s->ctx, st, "update_state_by_key: out of memory");
    return st;
}

sl_dstream *sl_dstream_update_state_by_key(sl_dstream *p, sl_update_state_fn fn,
                                           void *user, const sl_value *initial,
                                           size_t n)
{
    sl_dstream *s;
    if (!p)
        return NULL;
    if (!fn || (n && !initial)) {
        sl__ctx_set_error(p->ctx, SL_EINVAL, "update_state_by_key: %s",
                          fn ? "initial is NULL" : "function is NULL");
        return NULL;
    }
    s = sl__dstream_new(p->ctx, DS_UPDATE_STATE, &p, 1);
    if (!s)
        return NULL;
    s->update = fn;
    s->user = user;
    s->store =
        sl__state_new((size_t)sl__conf_int(p->ctx->conf, "state.shards"));
    if (!s->store) {
        sl__ctx_set_error(p->ctx, SL_ENOMEM,
                          "update_state_by_key: out of "
                          "memory");
        return NULL; /* the node is freed with the context */
    }
    if (sl__state_load_initial(s, initial, n) != SL_OK)
        return NULL;
    return s;
}
