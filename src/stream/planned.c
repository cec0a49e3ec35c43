/*
 * Planned sources: streams whose source is asked, on the job thread, what
 * each batch holds (values, or partitions that worker tasks read), and
 * which becomes a source RDD in the batch's scope.
 */
#include "stream/stream_int.h"

#include <string.h>

struct sl_plan {
    sl_context *ctx;
    sl__src_desc *parts;
    size_t n, cap;
    bool none;
    int64_t records;
    char *offsets;
    sl_status status;
};

sl_dstream *sl_planned_stream(sl_context *ctx, const sl_planned_ops *ops,
                              void *state)
{
    sl_dstream *s, **np;
    if (!ctx || !ops || ops->version < 1 || !ops->plan || !ops->free) {
        if (ops && ops->free)
            ops->free(state);
        if (ctx)
            sl__ctx_set_error(ctx, SL_EINVAL,
                              "incomplete planned source "
                              "methods");
        return NULL;
    }
    s = sl__dstream_new(ctx, DS_PLANNED, NULL, 0);
    np = s ? sl_realloc(ctx->planned, (ctx->nplanned + 1) * sizeof *np) : NULL;
    if (!np) {
        ops->free(state);
        if (s)
            sl__ctx_set_error(ctx, SL_ENOMEM, "out of memory");
        /* s stays in the context's list and is freed with it. */
        return NULL;
    }
    ctx->planned = np;
    ctx->planned[ctx->nplanned++] = s;
    s->planned = ops;
    s->planned_state = state;
    return s;
}

void *sl_planned_stream_state(sl_dstream *s, const sl_planned_ops *ops)
{
    if (!s || s->kind != DS_PLANNED || s->planned != ops)
        return NULL;
    return s->planned_state;
}

static sl__src_desc *plan_slot(sl_plan *p)
{
    if (p->n == p->cap) {
        size_t ncap = p->cap ? p->cap * 2 : 8;
        sl__src_desc *np = sl_realloc(p->parts, ncap * sizeof *np);
        if (!np)
            return NULL;
        p->parts = np;
        p->cap = ncap;
    }
    memset(&p->parts[p->n], 0, sizeof p->parts[p->n]);
    return &p->parts[p->n];
}

sl_status sl_plan_add_values(sl_plan *p, const sl_value *values, size_t n)
{
    sl__src_desc *d;
    sl_value *copy;
    size_t i;
    if (!p || (n && !values))
        return SL_EINVAL;
    d = plan_slot(p);
    copy = sl__engine_scope_alloc(p->ctx->eng, (n + 1) * sizeof *copy);
    if (!d || !copy)
        return p->status = SL_ENOMEM;
    for (i = 0; i < n; i++)
        if (sl__value_copy(sl__engine_scope_arena(p->ctx->eng), NULL,
                           &values[i], &copy[i]) != SL_OK)
            return p->status = SL_ENOMEM;
    d->kind = SRC_VALUES;
    d->items = copy;
    d->n = n;
    p->n++;
    p->records += (int64_t)n;
    return SL_OK;
}

sl_status sl_plan_add_reader(sl_plan *p, sl_read_fn fn, const void *desc,
                             size_t desc_len, void *user)
{
    sl__src_desc *d;
    void *copy = NULL;
    if (!p || !fn || (desc_len && !desc))
        return SL_EINVAL;
    d = plan_slot(p);
    if (d && desc_len) {
        copy = sl__engine_scope_alloc(p->ctx->eng, desc_len);
        if (copy)
            memcpy(copy, desc, desc_len);
    }
    if (!d || (desc_len && !copy))
        return p->status = SL_ENOMEM;
    d->kind = SRC_READER;
    d->read = fn;
    d->desc = copy;
    d->user = user;
    p->n++;
    return SL_OK;
}

void sl_plan_add_records(sl_plan *p, int64_t n)
{
    if (p && n > 0)
        p->records += n;
}

void sl_plan_set_no_batch(sl_plan *p)
{
    if (p)
        p->none = true;
}

sl_status sl_plan_set_offsets(sl_plan *p, const char *json)
{
    size_t len;
    if (!p || !json)
        return SL_EINVAL;
    len = strlen(json);
    p->offsets = sl__engine_scope_alloc(p->ctx->eng, len + 1);
    if (!p->offsets)
        return p->status = SL_ENOMEM;
    memcpy(p->offsets, json, len + 1);
    return SL_OK;
}

size_t sl_plan_partitions(const sl_plan *p)
{
    return p ? p->n : 0;
}

sl_status sl__planned_rdd(sl_dstream *s, batch *b, sl_rdd **out)
{
    sl_context *ctx = s->ctx;
    sl_plan p;
    sl_status st;

    memset(&p, 0, sizeof p);
    p.ctx = ctx;
    st = s->planned->plan(s->planned_state, b->id, b->time_ms, &p);
    if (st == SL_OK)
        st = p.status;
    if (st != SL_OK) {
        sl__ctx_set_error(ctx, st, "source %s failed to plan batch %lld: %s",
                          s->planned->name, (long long)b->id, sl_strerror(st));
        sl_free(p.parts);
        return st;
    }
    b->info.num_records += p.records;
    *out = p.none ? NULL : sl__rdd_source(ctx->eng, p.parts, p.n);
    sl_free(p.parts);
    if (!p.none && !*out) {
        sl__ctx_set_error(ctx, SL_ENOMEM, "out of memory");
        return SL_ENOMEM;
    }
    return SL_OK;
}
