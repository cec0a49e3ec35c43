/*
 * The trigger available_now (docs/job-file.md "Triggers"), as Spark's
 * Trigger.AvailableNow: at start every source fixes the end of its input
 * as it is then (planned ops version 5); batches run back to back (the
 * batch times still follow the system clock's interval); after the batch
 * in which every source has planned all of it, the watermark moves to
 * +infinity (Flink's rule for bounded input) and the context stops
 * gracefully: the graceful stop's last batch emits and evicts every
 * event-time group.
 * Sources without an end (receivers, rate, generator) refuse it.
 */
#include "stream/stream_int.h"

#include <stdint.h>

sl_status sl__available_now_start(sl_context *ctx)
{
    size_t i;
    sl_status st;
    if (ctx->nreceivers) {
        sl__ctx_set_error(ctx, SL_ECONF,
                          "trigger available_now: a receiver (socket) "
                          "source has no end; available_now reads sources "
                          "that do (queue, directory)");
        return SL_ECONF;
    }
    for (i = 0; i < ctx->nplanned; i++) {
        sl_dstream *s = ctx->planned[i];
        const sl_planned_ops *ops = s->planned;
        if (ops->version < 5 || !ops->available_now || !ops->exhausted) {
            sl__ctx_set_error(ctx, SL_ECONF,
                              "trigger available_now: source '%s' (%s) has "
                              "no end; available_now reads sources that do "
                              "(queue, directory)",
                              s->name ? s->name : ops->name, ops->name);
            return SL_ECONF;
        }
        if ((st = ops->available_now(s->planned_state)) != SL_OK)
            return st;
    }
    return SL_OK;
}

void sl__available_now_after(sl_context *ctx, const batch *b)
{
    size_t i;
    if (!ctx->available_now || ctx->drain || b->info.status != SL_OK)
        return;
    for (i = 0; i < ctx->nplanned; i++) {
        sl_dstream *s = ctx->planned[i];
        if (!s->planned->exhausted(s->planned_state))
            return;
    }
    ctx->drain = true;
    ctx->watermark_ms = INT64_MAX; /* the input has ended */
    sl__log(&ctx->log, SL_LOG_INFO,
            "trigger available_now: every source's input is processed; "
            "one last batch with the watermark at its end, then stop");
    /* a graceful stop's last batch is that batch */
    sl_context_request_stop(ctx, true);
}
