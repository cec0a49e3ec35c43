/*
 * Services beside a context (the control plane): told when it started and
 * when it ended, freed with it; and the live figures they read.
 */
#include "stream/stream_int.h"

#include <stdio.h>
#include <string.h>

sl_status sl__context_add_service(sl_context *ctx, const sl__service_ops *ops,
                                  void *state)
{
    service *s, **tail;
    if (!ctx || !ops || ops->version < 1)
        return SL_EINVAL;
    if (ctx->state != CTX_NEW)
        return SL_ESTATE;
    if (!(s = sl_malloc(sizeof *s)))
        return SL_ENOMEM;
    s->next = NULL;
    s->ops = ops;
    s->state = state;
    for (tail = &ctx->services; *tail; tail = &(*tail)->next)
        ;
    *tail = s;
    return SL_OK;
}

void *sl__context_service(sl_context *ctx, const sl__service_ops *ops)
{
    service *s;
    for (s = ctx ? ctx->services : NULL; s; s = s->next)
        if (s->ops == ops)
            return s->state;
    return NULL;
}

void sl__services_started(sl_context *ctx)
{
    service *s;
    for (s = ctx->services; s; s = s->next)
        if (s->ops->on_started)
            s->ops->on_started(s->state);
}

void sl__services_ended(sl_context *ctx, sl_status st,
                        const sl_stop_report *left)
{
    char msg[sizeof ctx->err.text];
    sl__context_end end;
    service *s;
    if (ctx->services_ended)
        return;
    ctx->services_ended = true;
    memset(&end, 0, sizeof end);
    end.status = st;
    end.errmsg = st == SL_OK ? "" : sl__ctx_errmsg_copy(ctx, msg, sizeof msg);
    if (left) {
        end.unprocessed_records = left->unprocessed_records;
        end.unprocessed_batches = left->unprocessed_batches;
        end.timed_out = left->timed_out;
    }
    end.batches_done = ctx->batches_done;
    for (s = ctx->services; s; s = s->next)
        if (s->ops->on_ended)
            s->ops->on_ended(s->state, &end);
}

void sl__services_free(sl_context *ctx)
{
    service *s, *next;
    for (s = ctx->services; s; s = next) {
        next = s->next;
        if (s->ops->free)
            s->ops->free(s->state);
        sl_free(s);
    }
    ctx->services = NULL;
}

void sl__context_live_read(sl_context *ctx, sl__context_live *out)
{
    memset(out, 0, sizeof *out);
    out->batch_interval_ms = ctx->interval_ms;
    pthread_mutex_lock(&ctx->lock);
    out->started = ctx->state == CTX_RUNNING || ctx->threads_started;
    out->stop_requested = ctx->stop_requested;
    out->terminated = ctx->terminated;
    out->queued_batches = (int64_t)ctx->nqueued;
    pthread_mutex_unlock(&ctx->lock);
}

bool sl__context_waiting_for(sl_context *ctx, char *buf, size_t len)
{
    size_t i;
    if (!atomic_load(&ctx->receivers_started)) {
        snprintf(buf, len, "the receivers are starting");
        return ctx->nreceivers > 0;
    }
    for (i = 0; i < ctx->nreceivers; i++) {
        sl_receiver *r = ctx->receivers[i];
        long long tries = atomic_load(&r->connect_attempts);
        long long failed = atomic_load(&r->connect_failures);
        const char *name = sl_dstream_name(r->stream);
        if (!atomic_load(&r->connecting) || tries > failed)
            continue;
        if (tries == 0)
            snprintf(buf, len, "%s source %s: connecting", r->ops->name,
                     name ? name : "(unnamed)");
        else
            snprintf(buf, len,
                     "%s source %s: %lld connection attempt%s failed so far",
                     r->ops->name, name ? name : "(unnamed)", tries,
                     tries == 1 ? "" : "s");
        return true;
    }
    return false;
}
