/*
 * The I/O thread: a libevent loop that runs the receivers, the batch timer
 * and the one cross-thread entry, a wake-up eventfd. At each tick it seals
 * every receiver's blocks into a batch and queues the batch for the job
 * thread. No user code runs here.
 */
#include "stream/stream_int.h"

#include <event2/event.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

void sl__ctx_wake_io(sl_context *ctx)
{
    uint64_t one = 1;
    ssize_t n;
    if (ctx->wake_fd < 0 || atomic_exchange(&ctx->wake_pending, true))
        return;
    n = write(ctx->wake_fd, &one, sizeof one);
    SL__UNUSED(n); /* a full counter still wakes the loop */
}

static void queue_batch(sl_context *ctx, batch *b)
{
    pthread_mutex_lock(&ctx->lock);
    *ctx->queue_tail = b;
    ctx->queue_tail = &b->next;
    pthread_cond_broadcast(&ctx->cv);
    pthread_mutex_unlock(&ctx->lock);
}

/* Seal every receiver's input into batch `id`. */
static batch *make_batch(sl_context *ctx, int64_t id, bool final)
{
    batch *b = sl_malloc(sizeof *b);
    size_t i;
    if (!b)
        return NULL;
    memset(b, 0, sizeof *b);
    b->blocks = sl_malloc((ctx->nreceivers + 1) * sizeof *b->blocks);
    if (!b->blocks) {
        sl_free(b);
        return NULL;
    }
    b->id = id;
    b->time_ms = ctx->zero_ms + id * ctx->interval_ms;
    b->final = final;
    for (i = 0; i < ctx->nreceivers; i++) {
        sl__receiver_seal(ctx->receivers[i], final);
        b->blocks[i] = sl__receiver_take_sealed(ctx->receivers[i]);
    }
    b->info.batch_id = id;
    b->info.batch_time_ms = b->time_ms;
    b->info.submission_ms = sl__now_wall_ms();
    b->info.num_records = sl__batch_records(ctx, b);
    return b;
}

static void stop_receivers(sl_context *ctx)
{
    size_t i;
    for (i = 0; i < ctx->nreceivers; i++) {
        sl_receiver *r = ctx->receivers[i];
        if (r->started && !r->stopped) {
            r->stopped = true;
            r->ops->stop(r->state);
        }
    }
}

/* Input ends: no more batches come from this thread. */
static void finish_input(sl_context *ctx)
{
    ctx->input_finished = true;
    pthread_mutex_lock(&ctx->lock);
    ctx->input_done = true;
    pthread_cond_broadcast(&ctx->cv);
    pthread_mutex_unlock(&ctx->lock);
    event_base_loopexit(ctx->base, NULL);
}

static void schedule_tick(sl_context *ctx)
{
    struct timeval tv = {0, 0};
    if (!ctx->manual_clock) {
        int64_t due = ctx->zero_ms + ctx->next_batch_id * ctx->interval_ms;
        int64_t wait = due - sl__now_wall_ms();
        if (wait > 0) {
            tv.tv_sec = wait / 1000;
            tv.tv_usec = (wait % 1000) * 1000;
        }
    }
    evtimer_add(ctx->tick_ev, &tv);
}

static void graceful_stop(sl_context *ctx);
static void immediate_stop(sl_context *ctx);

/* A stop asked for since the last event wins over a tick that became due
 * in the same loop turn: no batch is made after the stop request. */
static bool stop_pending(sl_context *ctx)
{
    bool stop, graceful;
    pthread_mutex_lock(&ctx->lock);
    stop = ctx->stop_requested;
    graceful = ctx->stop_graceful;
    pthread_mutex_unlock(&ctx->lock);
    if (stop) {
        if (graceful)
            graceful_stop(ctx);
        else
            immediate_stop(ctx);
    }
    return stop;
}

static bool manual_clock_waits(sl_context *ctx)
{
    bool busy;
    /* The manual clock runs batches back to back: the next one is made
     * when the job thread has nothing queued. */
    pthread_mutex_lock(&ctx->lock);
    busy = ctx->queue != NULL || ctx->job_busy;
    pthread_mutex_unlock(&ctx->lock);
    return busy;
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    sl_context *ctx = arg;
    bool last = ctx->max_batches > 0 && ctx->next_batch_id >= ctx->max_batches;
    batch *b;
    SL__UNUSED(fd);
    SL__UNUSED(what);
    if (ctx->input_finished || stop_pending(ctx))
        return;
    if (ctx->manual_clock && manual_clock_waits(ctx))
        return; /* the job thread wakes us when it is idle */
    if (last)
        stop_receivers(ctx);
    b = make_batch(ctx, ctx->next_batch_id, last);
    if (!b) {
        sl__log(&ctx->log, SL_LOG_ERROR, "cannot make batch: out of memory");
        sl__ctx_fail(ctx, SL_ENOMEM);
        finish_input(ctx);
        return;
    }
    ctx->next_batch_id++;
    queue_batch(ctx, b);
    if (last) {
        finish_input(ctx);
        return;
    }
    schedule_tick(ctx);
}

static void graceful_stop(sl_context *ctx)
{
    batch *b;
    size_t i;
    stop_receivers(ctx);
    evtimer_del(ctx->tick_ev);
    /* The open blocks become one last batch, queued at once. */
    b = make_batch(ctx, ctx->next_batch_id, true);
    if (b) {
        ctx->next_batch_id++;
        queue_batch(ctx, b);
    } else {
        sl__log(&ctx->log, SL_LOG_ERROR,
                "cannot make the last batch: out "
                "of memory");
        sl__ctx_fail(ctx, SL_ENOMEM);
    }
    /* Whatever could not be sealed into it is counted, never dropped
     * silently. */
    for (i = 0; i < ctx->nreceivers; i++)
        sl__receiver_discard(ctx->receivers[i]);
    finish_input(ctx);
}

static void immediate_stop(sl_context *ctx)
{
    size_t i;
    stop_receivers(ctx);
    evtimer_del(ctx->tick_ev);
    for (i = 0; i < ctx->nreceivers; i++)
        sl__receiver_discard(ctx->receivers[i]);
    finish_input(ctx);
}

static void on_wake(evutil_socket_t fd, short what, void *arg)
{
    sl_context *ctx = arg;
    uint64_t v;
    ssize_t n = read(fd, &v, sizeof v);
    SL__UNUSED(n);
    SL__UNUSED(what);
    atomic_store(&ctx->wake_pending, false);
    if (ctx->input_finished || stop_pending(ctx))
        return;
    sl__io_flow_check(ctx);
    if (ctx->manual_clock && !evtimer_pending(ctx->tick_ev, NULL))
        schedule_tick(ctx);
}

sl_status sl__io_init(sl_context *ctx)
{
    ctx->base = event_base_new();
    if (!ctx->base)
        return SL_ENOMEM;
    ctx->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (ctx->wake_fd < 0)
        goto fail;
    ctx->wake_ev =
        event_new(ctx->base, ctx->wake_fd, EV_READ | EV_PERSIST, on_wake, ctx);
    ctx->tick_ev = evtimer_new(ctx->base, on_tick, ctx);
    if (!ctx->wake_ev || !ctx->tick_ev || event_add(ctx->wake_ev, NULL))
        goto fail;
    return SL_OK;
fail:
    sl__io_free(ctx);
    return SL_ENOMEM;
}

void sl__io_free(sl_context *ctx)
{
    if (ctx->tick_ev)
        event_free(ctx->tick_ev);
    if (ctx->wake_ev)
        event_free(ctx->wake_ev);
    ctx->tick_ev = ctx->wake_ev = NULL;
    if (ctx->wake_fd >= 0)
        close(ctx->wake_fd);
    ctx->wake_fd = -1;
    if (ctx->base)
        event_base_free(ctx->base);
    ctx->base = NULL;
}

static void start_receivers(sl_context *ctx)
{
    size_t i;
    for (i = 0; i < ctx->nreceivers; i++) {
        sl_receiver *r = ctx->receivers[i];
        sl_status st = r->ops->start(r->state, r);
        if (st != SL_OK) {
            /* Read only after termination, once this thread has ended. */
            sl__ctx_set_error(ctx, st, "receiver %s failed to start",
                              r->ops->name);
            sl__log(&ctx->log, SL_LOG_ERROR, "receiver %s failed to start: %s",
                    r->ops->name, sl_strerror(st));
            sl__ctx_fail(ctx, st);
            return;
        }
        r->started = true;
    }
}

void *sl__io_main(void *arg)
{
    sl_context *ctx = arg;
    ctx->io_self = pthread_self();
    atomic_store(&ctx->io_self_set, true);
    ctx->next_batch_id = 1;
    start_receivers(ctx);
    schedule_tick(ctx);
    /* A stop requested before the loop ran is still pending in wake_fd. */
    event_base_dispatch(ctx->base);
    stop_receivers(ctx);
    pthread_mutex_lock(&ctx->lock);
    ctx->input_done = true;
    pthread_cond_broadcast(&ctx->cv);
    pthread_mutex_unlock(&ctx->lock);
    return NULL;
}
