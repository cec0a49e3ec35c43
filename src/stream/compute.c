/*
 * Per-batch computation of the DStream graph (job thread): each stream's
 * RDD for a batch, memoised per batch, following Spark's rules for a
 * parent with no batch (Spark's None): narrow operators pass it on; union,
 * transform and joins fail the job, as Spark's tests expect.
 */
#include "state/store.h"
#include "stream/stream_int.h"

#include <string.h>

static sl_status engine_error(sl_dstream *s, const char *what)
{
    const char *msg = sl_engine_errmsg(s->ctx->eng);
    sl__ctx_set_error(s->ctx, SL_ENOMEM, "%s: %s", what,
                      *msg ? msg : "out of memory");
    return SL_ENOMEM;
}

/* A receiver's blocks become text partitions, about two per worker, each a
 * run of consecutive blocks so line order is kept. */
static sl_status receiver_rdd(sl_dstream *s, batch *b, sl_rdd **out)
{
    sl_context *ctx = s->ctx;
    block *blk, *list = b->blocks[s->receiver->index];
    size_t nblocks = 0, nparts, i, k = 0;
    sl__text_seg *segs;
    sl__src_desc *parts;

    for (blk = list; blk; blk = blk->next)
        nblocks++;
    nparts = 2 * sl_engine_workers(ctx->eng);
    if (nparts > nblocks)
        nparts = nblocks;
    segs = sl__engine_scope_alloc(ctx->eng, (nblocks + 1) * sizeof *segs);
    parts = sl__engine_scope_alloc(ctx->eng, (nparts + 1) * sizeof *parts);
    if (!segs || !parts)
        return engine_error(s, "receiver stream");
    if (s->receiver->records) {
        if (sl__receiver_records_parts(s->receiver->records, list, parts,
                                       nparts, nblocks, ctx->eng) != SL_OK)
            return engine_error(s, "receiver stream");
        *out = sl__rdd_source(ctx->eng, parts, nparts);
        return *out ? SL_OK : engine_error(s, "receiver stream");
    }
    for (blk = list; blk; blk = blk->next, k++) {
        segs[k].p = blk->data;
        segs[k].len = blk->len;
    }
    for (i = 0; i < nparts; i++) {
        size_t lo = i * nblocks / nparts, hi = (i + 1) * nblocks / nparts;
        memset(&parts[i], 0, sizeof parts[i]);
        parts[i].kind = SRC_TEXT;
        parts[i].segs = segs + lo;
        parts[i].nsegs = hi - lo;
    }
    *out = sl__rdd_source(ctx->eng, parts, nparts);
    return *out ? SL_OK : engine_error(s, "receiver stream");
}

static sl_status one_value(sl_dstream *s, const sl_value *v, sl_rdd **out)
{
    *out = v ? sl_rdd_parallelize(s->ctx->eng, v, 1, 1)
             : sl_rdd_empty(s->ctx->eng);
    return *out ? SL_OK : engine_error(s, "result");
}

static sl_status action_failed(sl_dstream *s, const char *op, sl_status st)
{
    sl__ctx_set_error(s->ctx, st, "%s: %s", op, sl_engine_errmsg(s->ctx->eng));
    return st;
}

static sl_status count_rdd(sl_dstream *s, sl_rdd *in, sl_rdd **out)
{
    int64_t n = 0;
    sl_value v;
    sl_status st = sl_rdd_count(in, &n);
    if (st != SL_OK)
        return action_failed(s, "count", st);
    v = sl_int(n);
    return one_value(s, &v, out);
}

static sl_status reduce_rdd(sl_dstream *s, sl_rdd *in, sl_rdd **out)
{
    sl_value v;
    sl_status st = sl_rdd_reduce(in, s->fn.reduce, s->user, &v);
    if (st == SL_ENOTFOUND) /* an empty batch reduces to nothing */
        return one_value(s, NULL, out);
    if (st != SL_OK)
        return action_failed(s, "reduce", st);
    return one_value(s, &v, out);
}

/* Operators of one parent whose result is an RDD transformation. */
static sl_rdd *unary_rdd(sl_dstream *s, sl_rdd *in)
{
    switch (s->kind) {
    case DS_MAP:
        return sl_rdd_map(in, s->fn.map, s->user);
    case DS_FLAT_MAP:
        return sl_rdd_flat_map(in, s->fn.flat_map, s->user);
    case DS_FILTER:
        return sl_rdd_filter(in, s->fn.filter, s->user);
    case DS_MAP_PARTITIONS:
        return sl_rdd_map_partitions(in, s->fn.part, s->user);
    case DS_GLOM:
        return sl_rdd_glom(in);
    case DS_MAP_VALUES:
        return sl_rdd_map_values(in, s->fn.map, s->user);
    case DS_FLAT_MAP_VALUES:
        return sl_rdd_flat_map_values(in, s->fn.flat_map, s->user);
    case DS_REDUCE_BY_KEY:
        return sl_rdd_reduce_by_key(in, s->fn.reduce, s->user, s->partitions);
    case DS_GROUP_BY_KEY:
        return sl_rdd_group_by_key(in, s->partitions);
    case DS_COMBINE_BY_KEY:
        return sl_rdd_combine_by_key(in, s->create, s->fn.reduce, s->merge2,
                                     s->user, s->partitions);
    case DS_COUNT_BY_VALUE:
        return sl_rdd_count_by_value(in, s->partitions);
    case DS_REPARTITION:
        return sl_rdd_repartition(in, s->partitions);
    default:
        return NULL;
    }
}

static sl_rdd *binary_rdd(sl_dstream *s, sl_rdd *a, sl_rdd *b)
{
    switch (s->kind) {
    case DS_JOIN:
        return sl_rdd_join(a, b, s->partitions);
    case DS_LEFT_JOIN:
        return sl_rdd_left_outer_join(a, b, s->partitions);
    case DS_RIGHT_JOIN:
        return sl_rdd_right_outer_join(a, b, s->partitions);
    case DS_FULL_JOIN:
        return sl_rdd_full_outer_join(a, b, s->partitions);
    default:
        return sl_rdd_cogroup(a, b, s->partitions);
    }
}

static const char *kind_name(ds_kind k)
{
    switch (k) {
    case DS_UNION:
        return "union";
    case DS_TRANSFORM:
    case DS_TRANSFORM2:
    case DS_TRANSFORM_N:
        return "transform";
    default:
        return "join";
    }
}

static sl_status transform_rdd(sl_dstream *s, sl_rdd **in, batch *b,
                               sl_rdd **out)
{
    sl_status st;
    *out = NULL;
    sl__user_fn_begin(s->ctx);
    if (s->kind == DS_TRANSFORM)
        st = s->fn.transform(in[0], b->time_ms, out, s->user);
    else if (s->kind == DS_TRANSFORM2)
        st = s->fn.transform2(in[0], in[1], b->time_ms, out, s->user);
    else
        st = s->fn.transform_n(in, s->nparents, b->time_ms, out, s->user);
    if (st != SL_OK)
        return sl__user_fn_failed(s->ctx, "transform", b->time_ms, st);
    if (!*out) {
        sl__ctx_set_error(s->ctx, SL_EUSER,
                          "transform function returned no "
                          "RDD at time %lld ms",
                          (long long)b->time_ms);
        return SL_EUSER;
    }
    return SL_OK;
}

/* Streams of several parents: every parent must have a batch (or, for
 * a stream that passes a missing batch on, none is made). */
static sl_status multi_rdd(sl_dstream *s, batch *b, sl_rdd **out)
{
    sl_rdd **in = sl__engine_scope_alloc(s->ctx->eng, s->nparents * sizeof *in);
    size_t i;
    sl_status st;
    if (!in)
        return engine_error(s, kind_name(s->kind));
    for (i = 0; i < s->nparents; i++) {
        if ((st = sl__dstream_rdd(s->parents[i], b, &in[i])) != SL_OK)
            return st;
        if (!in[i] && s->pass_missing)
            return SL_OK; /* no batch upstream: none here either */
        if (!in[i]) {
            sl__ctx_set_error(s->ctx, SL_ENOBATCH,
                              "%s: input stream %zu "
                              "produced no batch at time %lld ms",
                              kind_name(s->kind), i, (long long)b->time_ms);
            return SL_ENOBATCH;
        }
    }
    if (s->kind == DS_UNION)
        *out = sl_rdd_union_all(in, s->nparents);
    else if (s->kind >= DS_TRANSFORM && s->kind <= DS_TRANSFORM_N)
        return transform_rdd(s, in, b, out);
    else
        *out = binary_rdd(s, in[0], in[1]);
    return *out ? SL_OK : engine_error(s, kind_name(s->kind));
}

static sl_status compute(sl_dstream *s, batch *b, sl_rdd **out)
{
    sl_rdd *in;
    sl_status st;
    *out = NULL;
    if (!sl__time_valid(s, b->time_ms))
        return SL_OK; /* no batch at a time off this stream's slide */
    if (s->kind == DS_WINDOW || s->kind == DS_REDUCED_WINDOW)
        return sl__window_rdd(s, b, out);
    if (s->kind == DS_UPDATE_STATE)
        return sl__state_rdd(s, b, out);
    if (s->kind == DS_MAP_WITH_STATE)
        return sl__map_state_rdd(s, b, out);
    if (s->kind == DS_STATE_SNAPSHOTS)
        return sl__snapshots_rdd(s, b, out);
    if (s->kind == DS_RECEIVER)
        return receiver_rdd(s, b, out);
    if (s->kind == DS_PLANNED)
        return sl__planned_rdd(s, b, out);
    if (s->nparents > 1 || s->kind == DS_UNION ||
        (s->kind >= DS_TRANSFORM && s->kind <= DS_TRANSFORM_N))
        return multi_rdd(s, b, out);
    if ((st = sl__dstream_rdd(s->parents[0], b, &in)) != SL_OK)
        return st;
    if (!in && s->kind == DS_COUNT) {
        /* Spark builds count() on transform, which fails on a missing
         * batch (BasicOperationsSuite's None cases). */
        sl__ctx_set_error(s->ctx, SL_ENOBATCH,
                          "count: the input stream "
                          "produced no batch at time %lld ms",
                          (long long)b->time_ms);
        return SL_ENOBATCH;
    }
    if (!in)
        return SL_OK; /* no batch upstream: none here either */
    if (s->kind == DS_COUNT)
        return count_rdd(s, in, out);
    if (s->kind == DS_REDUCE)
        return reduce_rdd(s, in, out);
    *out = unary_rdd(s, in);
    return *out ? SL_OK : engine_error(s, "operator");
}

sl_status sl__dstream_rdd(sl_dstream *s, batch *b, sl_rdd **out)
{
    sl_status st;
    if (s->memo_batch == b->id) {
        *out = s->memo_rdd;
        return SL_OK;
    }
    if ((st = compute(s, b, out)) != SL_OK)
        return st;
    if (s->wm && *out && (st = sl__wm_observe(s, out)) != SL_OK)
        return st;
    /* Remembered batches are copied after the outputs ran; persisting
     * first means that copy reads results instead of computing again. */
    if ((s->persist || s->ctx->remember_ms > 0) && *out)
        sl_rdd_persist(*out);
    s->memo_batch = b->id;
    s->memo_rdd = *out;
    return SL_OK;
}

/* ------------------------------------------------ windows and state */

/* Streams were made parents first and ctx->streams is newest first: walk
 * from the oldest along newer_in_ctx, so a stream over a window or a state
 * sees its parent moved on to this batch first. A loop, not recursion over
 * the list: a context may hold tens of thousands of streams. */
sl_status sl__stateful_advance(sl_context *ctx, batch *b)
{
    sl_dstream *s = ctx->streams;
    sl_status st = SL_OK;
    while (s && s->next_in_ctx)
        s = s->next_in_ctx;
    for (; s && st == SL_OK; s = s->newer_in_ctx) {
        if (sl__is_window(s))
            st = sl__window_advance(s, b);
        else if (sl__is_stateful(s))
            st = sl__state_advance(s, b);
    }
    return st;
}

static const char *state_op(const sl_dstream *s)
{
    return s->kind == DS_UPDATE_STATE ? "update_state_by_key"
                                      : "map_with_state";
}

/* Every allocation of the commit happens here, for every stateful stream,
 * before anything is published (windows allocated theirs while the batch
 * ran), so that the commit itself cannot fail half way. */
sl_status sl__batch_prepare_commit(sl_context *ctx, batch *b)
{
    sl_dstream *s;
    sl_status st;
    for (s = ctx->streams; s; s = s->next_in_ctx) {
        /* No version pending: the stream had no batch at this time (its
         * slide is longer than the batch interval). */
        if (!sl__is_stateful(s) || !sl__state_pending(s->store))
            continue;
        if ((st = sl__state_prepare(s->store)) != SL_OK) {
            sl__ctx_set_error(ctx, st,
                              "%s: out of memory committing batch %lld's "
                              "state",
                              state_op(s), (long long)b->id);
            return st;
        }
    }
    return SL_OK;
}

void sl__batch_commit(sl_context *ctx, batch *b)
{
    sl_dstream *s;
    SL__UNUSED(b);
    for (s = ctx->streams; s; s = s->next_in_ctx) {
        if (sl__is_window(s))
            sl__window_commit(s);
        else if (sl__is_stateful(s) && sl__state_pending(s->store))
            (void)sl__state_commit(s->store); /* prepared: cannot fail */
    }
}

void sl__batch_abort(sl_context *ctx, batch *b)
{
    sl_dstream *s;
    SL__UNUSED(b);
    for (s = ctx->streams; s; s = s->next_in_ctx) {
        if (sl__is_window(s))
            sl__window_abort(s);
        else if (sl__is_stateful(s))
            sl__state_abort(s->store);
    }
}

/* ------------------------------------------------------------ remember */

void sl__dstream_remember(sl_context *ctx, batch *b)
{
    sl_dstream *s;
    for (s = ctx->streams; s; s = s->next_in_ctx) {
        remembered *m;
        if (s->memo_batch != b->id)
            continue;
        m = sl_malloc(sizeof *m);
        if (!m)
            continue;
        m->time_ms = b->time_ms;
        m->rdd = NULL;
        if (s->memo_rdd && sl__rdd_retain(s->memo_rdd, &m->rdd) != SL_OK) {
            sl__log(&ctx->log, SL_LOG_WARN,
                    "cannot remember batch %lld: "
                    "out of memory",
                    (long long)b->id);
            sl_free(m);
            continue;
        }
        pthread_mutex_lock(&ctx->lock);
        m->next = s->remembered;
        s->remembered = m;
        sl__dstream_forget(s, b->time_ms - ctx->remember_ms);
        pthread_mutex_unlock(&ctx->lock);
    }
}

static int64_t align_down(const sl_dstream *s, int64_t t)
{
    int64_t z = s->ctx->zero_ms, d = t - z;
    int64_t q = d / s->slide_ms - (d % s->slide_ms < 0 ? 1 : 0);
    return z + q * s->slide_ms;
}

static sl_status slice_allowed(sl_dstream *s)
{
    sl_context *ctx = s->ctx;
    if (ctx->state == CTX_NEW) {
        sl__ctx_set_error(ctx, SL_ESTATE,
                          "slice: the stream has not been "
                          "initialized (start the context first)");
        return SL_ESTATE;
    }
    if (!ctx->terminated && !sl__on_job_thread(ctx)) {
        sl__ctx_set_error(ctx, SL_ESTATE,
                          "slice: call it from a batch "
                          "callback or after the context stopped");
        return SL_ESTATE;
    }
    return SL_OK;
}

/* Called from a batch callback, a slice reaching the batch being run gets
 * that batch too, as Spark's getOrCompute gives it; it goes first in the
 * newest-first list. */
static sl_status slice_current(sl_dstream *s, int64_t lo, int64_t hi,
                               sl_rdd **picked, size_t *n)
{
    batch *b = s->ctx->current;
    sl_rdd *rdd;
    sl_status st;
    if (!b || !sl__on_job_thread(s->ctx) || b->time_ms < lo || b->time_ms > hi)
        return SL_OK;
    if ((st = sl__dstream_rdd(s, b, &rdd)) != SL_OK)
        return st;
    if (!rdd)
        return SL_OK;
    memmove(picked + 1, picked, *n * sizeof *picked);
    picked[0] = rdd;
    (*n)++;
    return SL_OK;
}

sl_status sl_dstream_slice(sl_dstream *s, int64_t from_ms, int64_t to_ms,
                           sl_rdd **out)
{
    sl_rdd **picked;
    size_t n = 0, i, cap = 0;
    remembered *m;
    sl_status st;
    int64_t lo, hi;

    if (!s || !out)
        return SL_EINVAL;
    if ((st = slice_allowed(s)) != SL_OK)
        return st;
    lo = align_down(s, from_ms);
    hi = align_down(s, to_ms);
    pthread_mutex_lock(&s->ctx->lock);
    for (m = s->remembered; m; m = m->next)
        cap++;
    cap++; /* the current batch */
    picked = sl__engine_scope_alloc(s->ctx->eng, (cap + 1) * sizeof *picked);
    for (m = s->remembered; picked && m; m = m->next)
        if (m->rdd && m->time_ms >= lo && m->time_ms <= hi)
            picked[n++] = sl__retained_rdd(m->rdd);
    pthread_mutex_unlock(&s->ctx->lock);
    if (!picked)
        return engine_error(s, "slice");
    if ((st = slice_current(s, lo, hi, picked, &n)) != SL_OK)
        return st;
    /* Remembered batches are newest first; a slice reads oldest first. */
    for (i = 0; i < n / 2; i++) {
        sl_rdd *t = picked[i];
        picked[i] = picked[n - 1 - i];
        picked[n - 1 - i] = t;
    }
    *out = n ? sl_rdd_union_all(picked, n) : sl_rdd_empty(s->ctx->eng);
    return *out ? SL_OK : engine_error(s, "slice");
}
