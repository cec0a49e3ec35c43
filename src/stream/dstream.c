/*
 * The DStream graph: stream nodes and the constructors of the stateless
 * operators (sl_dstream_*). compute.c turns a node into the RDD of a
 * batch; window.c and state_ops.c hold the windowed and stateful ones.
 */
#include "stream/stream_int.h"

#include <string.h>

/* The depth a stream over parents would have, 0 when it would pass
 * SL_MAX_STREAM_DEPTH (an error on ctx). Each batch computes a stream by
 * recursion through its parents, and the RDD layer runs fused stages the
 * same way: bounding the depth bounds the stack those recursions take. */
static size_t depth_over(sl_context *ctx, sl_dstream *const *parents, size_t n)
{
    size_t i, depth = 0;
    for (i = 0; i < n; i++) {
        if (parents[i]->ctx != ctx) {
            sl__ctx_set_error(ctx, SL_EINVAL, "streams of different contexts");
            return 0;
        }
        if (parents[i]->depth > depth)
            depth = parents[i]->depth;
    }
    if (depth + 1 > SL_MAX_STREAM_DEPTH) {
        sl__ctx_set_error(ctx, SL_EINVAL,
                          "the stream graph would be deeper than %d streams "
                          "(SL_MAX_STREAM_DEPTH)",
                          SL_MAX_STREAM_DEPTH);
        return 0;
    }
    return depth + 1;
}

sl_dstream *sl__dstream_new(sl_context *ctx, ds_kind kind,
                            sl_dstream *const *parents, size_t n)
{
    sl_dstream *s;
    size_t depth;
    if (sl__ctx_check_building(ctx) != SL_OK)
        return NULL;
    if (!(depth = depth_over(ctx, parents, n)))
        return NULL;
    s = sl_malloc(sizeof *s + (n + 1) * sizeof *s->parents);
    if (!s) {
        sl__ctx_set_error(ctx, SL_ENOMEM, "out of memory");
        return NULL;
    }
    memset(s, 0, sizeof *s);
    s->ctx = ctx;
    s->kind = kind;
    s->parents = (sl_dstream **)(s + 1);
    if (n)
        memcpy(s->parents, parents, n * sizeof *parents);
    s->nparents = n;
    /* A derived stream runs at its first parent's pace; windows set their
     * own slide after this. */
    s->slide_ms = n ? parents[0]->slide_ms : ctx->interval_ms;
    s->memo_batch = -1;
    s->depth = depth;
    s->next_in_ctx = ctx->streams;
    if (ctx->streams)
        ctx->streams->newer_in_ctx = s;
    ctx->streams = s;
    return s;
}

void sl__dstream_forget(sl_dstream *s, int64_t before_ms)
{
    remembered **pp = &s->remembered, *m;
    while ((m = *pp) != NULL) {
        if (m->time_ms < before_ms) {
            *pp = m->next;
            sl__retained_free(m->rdd);
            sl_free(m);
        } else {
            pp = &m->next;
        }
    }
}

void sl__dstream_free_all(sl_context *ctx)
{
    sl_dstream *s, *next;
    for (s = ctx->streams; s; s = next) {
        next = s->next_in_ctx;
        sl__dstream_forget(s, INT64_MAX);
        sl__window_free(s);
        sl__state_stream_free(s);
        sl_free(s->name);
        sl_free(s->params);
        sl_schema_release(s->schema);
        sl_free(s->key_columns);
        sl_free(s->view_name);
        sl_schema_release(s->view_schema);
        sl__wm_free(s->wm);
        if (s->owned_free)
            s->owned_free(s->owned);
        sl_free(s);
    }
    ctx->streams = NULL;
}

sl_context *sl_dstream_context(sl_dstream *s)
{
    return s ? s->ctx : NULL;
}

/* -------------------------------------------------------- constructors */

static sl_dstream *unary(sl_dstream *p, ds_kind kind, ds_fn fn, void *user,
                         size_t partitions)
{
    sl_dstream *s;
    if (!p)
        return NULL;
    s = sl__dstream_new(p->ctx, kind, &p, 1);
    if (s) {
        s->fn = fn;
        s->user = user;
        s->partitions = partitions;
    }
    return s;
}

static sl_dstream *need_fn(sl_dstream *p, bool have)
{
    if (p && !have)
        sl__ctx_set_error(p->ctx, SL_EINVAL, "function is NULL");
    return have ? p : NULL;
}

sl_dstream *sl_dstream_map(sl_dstream *s, sl_map_fn fn, void *user)
{
    ds_fn f = {.map = fn};
    return unary(need_fn(s, fn), DS_MAP, f, user, 0);
}

sl_dstream *sl_dstream_flat_map(sl_dstream *s, sl_flat_map_fn fn, void *user)
{
    ds_fn f = {.flat_map = fn};
    return unary(need_fn(s, fn), DS_FLAT_MAP, f, user, 0);
}

sl_dstream *sl_dstream_filter(sl_dstream *s, sl_filter_fn fn, void *user)
{
    ds_fn f = {.filter = fn};
    return unary(need_fn(s, fn), DS_FILTER, f, user, 0);
}

sl_dstream *sl_dstream_map_partitions(sl_dstream *s, sl_partition_fn fn,
                                      void *user)
{
    ds_fn f = {.part = fn};
    return unary(need_fn(s, fn), DS_MAP_PARTITIONS, f, user, 0);
}

sl_dstream *sl_dstream_glom(sl_dstream *s)
{
    ds_fn f = {.map = NULL};
    return unary(s, DS_GLOM, f, NULL, 0);
}

sl_dstream *sl_dstream_map_values(sl_dstream *s, sl_map_fn fn, void *user)
{
    ds_fn f = {.map = fn};
    return unary(need_fn(s, fn), DS_MAP_VALUES, f, user, 0);
}

sl_dstream *sl_dstream_flat_map_values(sl_dstream *s, sl_flat_map_fn fn,
                                       void *user)
{
    ds_fn f = {.flat_map = fn};
    return unary(need_fn(s, fn), DS_FLAT_MAP_VALUES, f, user, 0);
}

sl_dstream *sl_dstream_reduce_by_key(sl_dstream *s, sl_reduce_fn fn, void *user,
                                     size_t partitions)
{
    ds_fn f = {.reduce = fn};
    return unary(need_fn(s, fn), DS_REDUCE_BY_KEY, f, user, partitions);
}

sl_dstream *sl_dstream_group_by_key(sl_dstream *s, size_t partitions)
{
    ds_fn f = {.map = NULL};
    return unary(s, DS_GROUP_BY_KEY, f, NULL, partitions);
}

sl_dstream *sl_dstream_combine_by_key(sl_dstream *s, sl_map_fn create,
                                      sl_reduce_fn merge_value,
                                      sl_reduce_fn merge_combiners, void *user,
                                      size_t partitions)
{
    ds_fn f = {.reduce = merge_value};
    sl_dstream *n = unary(need_fn(s, create && merge_value && merge_combiners),
                          DS_COMBINE_BY_KEY, f, user, partitions);
    if (n) {
        n->create = create;
        n->merge2 = merge_combiners;
    }
    return n;
}

sl_dstream *sl_dstream_count(sl_dstream *s)
{
    ds_fn f = {.map = NULL};
    return unary(s, DS_COUNT, f, NULL, 0);
}

sl_dstream *sl_dstream_count_by_value(sl_dstream *s, size_t partitions)
{
    ds_fn f = {.map = NULL};
    return unary(s, DS_COUNT_BY_VALUE, f, NULL, partitions);
}

sl_dstream *sl_dstream_reduce(sl_dstream *s, sl_reduce_fn fn, void *user)
{
    ds_fn f = {.reduce = fn};
    return unary(need_fn(s, fn), DS_REDUCE, f, user, 0);
}

sl_dstream *sl_dstream_repartition(sl_dstream *s, size_t partitions)
{
    ds_fn f = {.map = NULL};
    if (s && partitions == 0) {
        sl__ctx_set_error(s->ctx, SL_EINVAL,
                          "repartition needs at least 1 "
                          "partition");
        return NULL;
    }
    return unary(s, DS_REPARTITION, f, NULL, partitions);
}

sl_dstream *sl_dstream_transform(sl_dstream *s, sl_transform_fn fn, void *user)
{
    ds_fn f = {.transform = fn};
    return unary(need_fn(s, fn), DS_TRANSFORM, f, user, 0);
}

sl_dstream *sl_dstream_persist(sl_dstream *s)
{
    if (s)
        s->persist = true;
    return s;
}

/* N-ary streams: every input must exist and share the slide. */
static sl_dstream *nary(sl_context *ctx, ds_kind kind, sl_dstream *const *in,
                        size_t n, ds_fn fn, void *user, size_t partitions)
{
    sl_dstream *s;
    size_t i;
    if (!ctx || !in || n == 0) {
        if (ctx)
            sl__ctx_set_error(ctx, SL_EINVAL, "no input streams");
        return NULL;
    }
    for (i = 0; i < n; i++) {
        if (!in[i])
            return NULL;
        if (in[i]->slide_ms != in[0]->slide_ms) {
            sl__ctx_set_error(ctx, SL_EINVAL,
                              "streams with different slide durations "
                              "(%lld ms and %lld ms)",
                              (long long)in[0]->slide_ms,
                              (long long)in[i]->slide_ms);
            return NULL;
        }
    }
    s = sl__dstream_new(ctx, kind, in, n);
    if (s) {
        s->fn = fn;
        s->user = user;
        s->partitions = partitions;
    }
    return s;
}

static sl_dstream *binary(sl_dstream *a, sl_dstream *b, ds_kind kind, ds_fn fn,
                          void *user, size_t partitions)
{
    sl_dstream *in[2] = {a, b};
    if (!a || !b)
        return NULL;
    return nary(a->ctx, kind, in, 2, fn, user, partitions);
}

sl_dstream *sl_dstream_union(sl_dstream *a, sl_dstream *b)
{
    ds_fn f = {.map = NULL};
    return binary(a, b, DS_UNION, f, NULL, 0);
}

sl_dstream *sl_context_union(sl_context *ctx, sl_dstream *const *streams,
                             size_t n)
{
    ds_fn f = {.map = NULL};
    return nary(ctx, DS_UNION, streams, n, f, NULL, 0);
}

sl_dstream *sl_dstream_transform_with(sl_dstream *a, sl_dstream *b,
                                      sl_transform2_fn fn, void *user)
{
    ds_fn f = {.transform2 = fn};
    return binary(need_fn(a, fn), b, DS_TRANSFORM2, f, user, 0);
}

sl_dstream *sl_context_transform(sl_context *ctx, sl_dstream *const *streams,
                                 size_t n, sl_transform_n_fn fn, void *user)
{
    ds_fn f = {.transform_n = fn};
    if (ctx && !fn) {
        sl__ctx_set_error(ctx, SL_EINVAL, "function is NULL");
        return NULL;
    }
    return nary(ctx, DS_TRANSFORM_N, streams, n, f, user, 0);
}

#define JOIN_CTOR(name, kind)                                                  \
    sl_dstream *name(sl_dstream *a, sl_dstream *b, size_t partitions)          \
    {                                                                          \
        ds_fn f = {.map = NULL};                                               \
        return binary(a, b, kind, f, NULL, partitions);                        \
    }
JOIN_CTOR(sl_dstream_join, DS_JOIN)
JOIN_CTOR(sl_dstream_left_outer_join, DS_LEFT_JOIN)
JOIN_CTOR(sl_dstream_right_outer_join, DS_RIGHT_JOIN)
JOIN_CTOR(sl_dstream_full_outer_join, DS_FULL_JOIN)
JOIN_CTOR(sl_dstream_cogroup, DS_COGROUP)
#undef JOIN_CTOR
