/*
 * Planned sources: streams whose source is asked, on the job thread, what
 * each batch holds (values, or partitions that worker tasks read), and
 * which becomes a source RDD in the batch's scope. Every source of a batch
 * is planned (or replanned from recorded offsets) before anything is
 * computed, and the offsets each records stay on the batch.
 */
#include "stream/stream_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

struct sl_plan {
    sl_context *ctx;
    sl__src_desc *parts;
    size_t n, cap;
    bool none;
    int64_t records;
    char *offsets;
    sl_status status;
    char err[256]; /* sl_plan_set_error */
};

sl_dstream *sl_planned_stream(sl_context *ctx, const sl_planned_ops *ops,
                              void *state)
{
    sl_dstream *s, **np;
    if (!ctx || !ops || ops->version < 1 ||
        ops->version > SL_PLANNED_OPS_VERSION || !ops->plan || !ops->free) {
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
    s->planned_index = ctx->nplanned;
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

void sl_plan_set_error(sl_plan *p, const char *fmt, ...)
{
    va_list ap;
    if (!p || !fmt)
        return;
    va_start(ap, fmt);
    vsnprintf(p->err, sizeof p->err, fmt, ap);
    va_end(ap);
}

size_t sl_plan_partitions(const sl_plan *p)
{
    return p ? p->n : 0;
}

/* The offsets to replan source i of b from, or NULL for a new batch. */
static const char *replay_offsets(const batch *b, size_t i)
{
    return b->replay ? b->replay[i] : NULL;
}

/* Ask source s for its part of b: plan, or replan a recorded batch. */
static sl_status call_plan(sl_dstream *s, batch *b, sl_plan *p)
{
    const sl_planned_ops *ops = s->planned;
    const char *rec = replay_offsets(b, s->planned_index);
    sl_status st;
    if (!b->replay) {
        st = ops->plan(s->planned_state, b->id, b->time_ms, p);
    } else if (ops->version < 2 || !ops->replan) {
        sl_plan_set_error(p, "the source cannot replay a batch");
        return SL_ESTATE;
    } else if (!rec) {
        sl_plan_set_error(p, "no offsets were recorded for it");
        return SL_ECORRUPT;
    } else {
        st = ops->replan(s->planned_state, b->id, b->time_ms, rec, p);
    }
    return st == SL_OK ? p->status : st;
}

static sl_status plan_one(sl_dstream *s, batch *b, src_plan *out)
{
    sl_context *ctx = s->ctx;
    const char *name = s->name ? s->name : s->planned->name;
    sl_plan p;
    sl_status st;
    size_t i;

    memset(&p, 0, sizeof p);
    p.ctx = ctx;
    if ((st = call_plan(s, b, &p)) != SL_OK) {
        sl__ctx_set_error(ctx, st, "source %s failed to %s batch %lld: %s",
                          name, b->replay ? "replay" : "plan", (long long)b->id,
                          *p.err ? p.err : sl_strerror(st));
        sl_free(p.parts);
        return st;
    }
    out->records = p.records;
    out->offsets = p.offsets;
    for (i = 0; i < p.n; i++)
        out->readers += p.parts[i].kind == SRC_READER;
    out->rdd = p.none ? NULL : sl__rdd_source(ctx->eng, p.parts, p.n);
    sl_free(p.parts);
    if (!p.none && !out->rdd) {
        sl__ctx_set_error(ctx, SL_ENOMEM, "source %s: out of memory", name);
        return SL_ENOMEM;
    }
    return SL_OK;
}

sl_status sl__batch_plan(sl_context *ctx, batch *b)
{
    size_t i, n = ctx->nplanned;
    sl_status st;
    b->plans = sl__engine_scope_alloc(ctx->eng, (n + 1) * sizeof *b->plans);
    b->offsets = sl__engine_scope_alloc(ctx->eng, (n + 1) * sizeof *b->offsets);
    if (!b->plans || !b->offsets) {
        sl__ctx_set_error(ctx, SL_ENOMEM, "batch %lld: out of memory",
                          (long long)b->id);
        return SL_ENOMEM;
    }
    memset(b->plans, 0, (n + 1) * sizeof *b->plans);
    for (i = 0; i < n; i++) {
        sl_dstream *s = ctx->planned[i];
        if ((st = plan_one(s, b, &b->plans[i])) != SL_OK)
            return st;
        b->info.num_records += b->plans[i].records;
        b->offsets[i].name = s->name ? s->name : s->planned->name;
        b->offsets[i].offsets = b->plans[i].offsets;
        b->offsets[i].records = b->plans[i].records;
    }
    b->planned = true;
    b->info.num_sources = n;
    b->info.sources = b->offsets;
    return SL_OK;
}

void sl__sources_commit(sl_context *ctx, int64_t batch_id)
{
    size_t i;
    for (i = 0; i < ctx->nplanned; i++) {
        sl_dstream *s = ctx->planned[i];
        if (s->planned->commit)
            s->planned->commit(s->planned_state, batch_id);
    }
}

void sl__batch_commit_sources(sl_context *ctx, batch *b)
{
    if (b->planned)
        sl__sources_commit(ctx, b->id);
}

bool sl__batch_offsets(const batch *b, const sl_context *ctx, size_t i,
                       const char **name, const char **offsets)
{
    if (!b->planned || i >= ctx->nplanned)
        return false;
    *name = b->offsets[i].name;
    *offsets = b->offsets[i].offsets;
    return true;
}

bool sl__batch_planned_empty(const batch *b, const sl_context *ctx)
{
    size_t i;
    if (!b->planned)
        return false;
    for (i = 0; i < ctx->nplanned; i++)
        if (b->plans[i].records > 0 || b->plans[i].readers > 0)
            return false;
    return true;
}

sl_status sl__sources_restore(sl_context *ctx, int64_t batch_id,
                              const char *const *offsets)
{
    size_t i;
    sl_status st;
    for (i = 0; i < ctx->nplanned; i++) {
        sl_dstream *s = ctx->planned[i];
        const sl_planned_ops *ops = s->planned;
        if (ops->version < 2 || !ops->restore || !offsets[i])
            continue;
        st = ops->restore(s->planned_state, batch_id, offsets[i]);
        if (st != SL_OK) {
            sl__ctx_set_error(ctx, st,
                              "source %s cannot restore its position after "
                              "batch %lld: %s",
                              s->name ? s->name : ops->name,
                              (long long)batch_id, sl_strerror(st));
            return st;
        }
    }
    return SL_OK;
}

/* The source's part of b, planned before the batch was computed. */
sl_status sl__planned_rdd(sl_dstream *s, batch *b, sl_rdd **out)
{
    *out = b->plans[s->planned_index].rdd;
    return SL_OK;
}
