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
    ctx->nqueued++;
    pthread_cond_broadcast(&ctx->cv);
    pthread_mutex_unlock(&ctx->lock);
}

static bool queue_full(sl_context *ctx)
{
    bool full;
    pthread_mutex_lock(&ctx->lock);
    full = ctx->nqueued >= ctx->max_queued;
    pthread_mutex_unlock(&ctx->lock);
    return full;
}

batch *sl__batch_new(sl_context *ctx, int64_t id)
{
    batch *b = sl_malloc(sizeof *b);
    if (!b)
        return NULL;
    memset(b, 0, sizeof *b);
    b->blocks = sl_malloc((ctx->nreceivers + 1) * sizeof *b->blocks);
    if (!b->blocks) {
        sl_free(b);
        return NULL;
    }
    memset(b->blocks, 0, (ctx->nreceivers + 1) * sizeof *b->blocks);
    b->id = id;
    b->time_ms = ctx->zero_ms + id * ctx->interval_ms;
    b->info.batch_id = id;
    b->info.batch_time_ms = b->time_ms;
    return b;
}

/* Seal every receiver's input into batch `id`. */
static batch *make_batch(sl_context *ctx, int64_t id, bool final)
{
    batch *b = sl__batch_new(ctx, id);
    size_t i;
    if (!b)
        return NULL;
    b->final = final;
    for (i = 0; i < ctx->nreceivers; i++) {
        sl__receiver_seal(ctx->receivers[i], final);
        b->blocks[i] = sl__receiver_take_sealed(ctx->receivers[i]);
    }
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

/* Input ends: no more batches come from this thread. The loop goes on
 * only while a graceful stop's deadline is armed. */
static void finish_input(sl_context *ctx, bool exit_loop)
{
    ctx->input_finished = true;
    pthread_mutex_lock(&ctx->lock);
    ctx->input_done = true;
    pthread_cond_broadcast(&ctx->cv);
    pthread_mutex_unlock(&ctx->lock);
    if (exit_loop)
        event_base_loopexit(ctx->base, NULL);
}

/* Arm the timer for tick `ctx->next_batch_id` (at once on the manual
 * clock). */
static void schedule_tick(sl_context *ctx)
{
    struct timeval tv = {0, 0};
    if (!ctx->back_to_back) {
        int64_t due = ctx->zero_ms + ctx->next_batch_id * ctx->interval_ms;
        int64_t wait = due - sl__now_wall_ms();
        if (wait > 0) {
            tv.tv_sec = wait / 1000;
            tv.tv_usec = (wait % 1000) * 1000;
        }
    }
    /* Without the timer no batch would ever come again: a job that looks
     * alive but does nothing. Fail it instead. */
    if (evtimer_add(ctx->tick_ev, &tv) != 0) {
        sl__log(&ctx->log, SL_LOG_ERROR,
                "cannot arm the batch timer of the I/O loop (out of "
                "memory?): stopping the job");
        sl__ctx_fail_msg(ctx, SL_ENOMEM,
                         "cannot arm the batch timer of the I/O loop (out of "
                         "memory?)");
    }
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

/*
 * A tick that must end a batch of its own and is never absorbed into a
 * later one: a stream whose slide is longer than the batch interval (a
 * window, a state stream) computes only on its slide's boundaries, so a
 * boundary absorbed into a later tick would lose that output; and the
 * max_batches tick, so that a job ends at its batch N.
 */
static bool tick_is_boundary(const sl_context *ctx, int64_t id)
{
    int64_t t = id * ctx->interval_ms;
    size_t i;
    for (i = 0; i < ctx->nslides; i++)
        if (t % ctx->slides[i] == 0)
            return true;
    return ctx->max_batches > 0 && id == ctx->max_batches;
}

/* The distinct slides longer than the batch interval (I/O thread, at
 * start: the graph is frozen). */
static sl_status collect_slides(sl_context *ctx)
{
    sl_dstream *s;
    size_t n = 0, i;
    for (s = ctx->streams; s; s = s->next_in_ctx)
        n++;
    ctx->slides = sl_malloc((n + 1) * sizeof *ctx->slides);
    if (!ctx->slides)
        return SL_ENOMEM;
    for (s = ctx->streams; s; s = s->next_in_ctx) {
        if (s->slide_ms <= ctx->interval_ms)
            continue;
        for (i = 0; i < ctx->nslides && ctx->slides[i] != s->slide_ms; i++)
            ;
        if (i == ctx->nslides)
            ctx->slides[ctx->nslides++] = s->slide_ms;
    }
    return SL_OK;
}

/* Count and report ticks absorbed into batch b: at the first, then at most
 * every 10 s, so an overloaded job does not flood its log. */
static void note_absorbed(sl_context *ctx, batch *b, int64_t absorbed)
{
    b->info.absorbed_ticks = absorbed;
    if (absorbed == 0)
        return;
    ctx->ticks_absorbed += absorbed;
    if (b->id <= ctx->missed_until) {
        /* Downtime, not overload: say so once per batch, as info. */
        sl__log(&ctx->log, SL_LOG_INFO,
                "batch %lld absorbed %lld ticks missed while the job was "
                "down",
                (long long)b->id, (long long)absorbed);
        return;
    }
    if (!sl__rate_due(&ctx->absorbed_logged_ms, 10000))
        return;
    sl__log(&ctx->log, SL_LOG_WARN,
            "processing is slower than the batch interval: batch %lld "
            "absorbed %lld ticks (%lld so far; max_queued_batches %zu "
            "batches were waiting)",
            (long long)b->id, (long long)absorbed,
            (long long)ctx->ticks_absorbed, ctx->max_queued);
}

/*
 * The last tick that may go into the next batch, or -1 when none is due.
 * Ticks due while max_queued_batches batches wait are not sealed: their
 * input stays in the open blocks (under flow control), and when a batch
 * is taken the next batch absorbs them, taking the last absorbed tick's id
 * and time, but never past a boundary tick. Ticks that are merely late (a
 * busy loop, timer rounding) are not absorbed: each gets its batch.
 */
static int64_t next_tick(sl_context *ctx)
{
    int64_t id = ctx->next_batch_id;
    if (ctx->back_to_back)
        return manual_clock_waits(ctx) ? -1 : id;
    ctx->due = (sl__now_wall_ms() - ctx->zero_ms) / ctx->interval_ms;
    if (ctx->due < id)
        return -1;
    if (queue_full(ctx)) {
        ctx->ticks_held = true;
        return -1;
    }
    while (ctx->ticks_held && id < ctx->due && !tick_is_boundary(ctx, id))
        id++;
    return id;
}

/*
 * Ticks that passed while a resumed job was down are absorbed like ticks
 * held for a full queue: the first batch takes the last missed tick's id
 * and time, stopping at slide boundaries and at max_batches (issue 11,
 * "Recovery"), instead of one catch-up batch per missed tick.
 */
static void hold_missed_ticks(sl_context *ctx)
{
    int64_t due;
    if (!ctx->resumed || ctx->back_to_back)
        return;
    due = (sl__now_wall_ms() - ctx->zero_ms) / ctx->interval_ms;
    if (due <= ctx->next_batch_id)
        return;
    ctx->missed_until = due;
    ctx->ticks_held = true;
}

static void arm_deadline(sl_context *ctx)
{
    struct timeval tv;
    tv.tv_sec = ctx->graceful_timeout_ms / 1000;
    tv.tv_usec = (ctx->graceful_timeout_ms % 1000) * 1000;
    if (evtimer_add(ctx->deadline_ev, &tv) != 0)
        event_base_loopexit(ctx->base, NULL); /* no deadline: no wait */
}

/* Make every batch that is due and has room. Runs on a tick and when the
 * job thread takes a batch (a wake-up). */
static void produce(sl_context *ctx)
{
    int64_t id;
    batch *b;
    bool last;
    if (!ctx->input_finished && ctx->max_batches > 0 &&
        ctx->next_batch_id > ctx->max_batches) {
        /* Resumed at or past max_batches (the id of the last batch,
         * counted across restarts): only the replayed batches run. */
        stop_receivers(ctx);
        finish_input(ctx, false);
        return;
    }
    while (!ctx->input_finished && !stop_pending(ctx) &&
           (id = next_tick(ctx)) >= 0) {
        last = ctx->max_batches > 0 && id >= ctx->max_batches;
        if (last)
            stop_receivers(ctx);
        b = make_batch(ctx, id, last);
        if (!b) {
            sl__log(&ctx->log, SL_LOG_ERROR,
                    "cannot make batch: out of memory");
            sl__ctx_fail(ctx, SL_ENOMEM);
            finish_input(ctx, true);
            return;
        }
        note_absorbed(ctx, b, id - ctx->next_batch_id);
        ctx->next_batch_id = id + 1;
        if (id >= ctx->due)
            ctx->ticks_held = false;
        queue_batch(ctx, b);
        if (last) {
            /* The loop stays up until the job thread ends, so that a
             * graceful stop asked for meanwhile still gets its deadline. */
            finish_input(ctx, false);
            return;
        }
        if (ctx->back_to_back)
            return; /* the job thread wakes us when it is idle */
    }
    /* A due tick with max_queued_batches waiting is made when the job
     * thread takes a batch and wakes us; otherwise the timer is armed for
     * the next tick (at once if it came due meanwhile). */
    if (!ctx->input_finished && !ctx->back_to_back &&
        !evtimer_pending(ctx->tick_ev, NULL) && !queue_full(ctx))
        schedule_tick(ctx);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    SL__UNUSED(fd);
    SL__UNUSED(what);
    produce(arg);
}

/* The graceful stop took too long: go on as an immediate stop. */
static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
    sl_context *ctx = arg;
    bool cut = false;
    SL__UNUSED(fd);
    SL__UNUSED(what);
    pthread_mutex_lock(&ctx->lock);
    if (!ctx->terminated && ctx->stop_graceful) {
        ctx->stop_graceful = false;
        ctx->left.timed_out = true;
        cut = true;
        pthread_cond_broadcast(&ctx->cv);
    }
    pthread_mutex_unlock(&ctx->lock);
    if (cut)
        sl__log(&ctx->log, SL_LOG_WARN,
                "graceful stop not done after %lld ms (stop.graceful_timeout): "
                "stopping now; what was not processed is reported",
                (long long)ctx->graceful_timeout_ms);
    event_base_loopexit(ctx->base, NULL);
}

static void graceful_stop(sl_context *ctx)
{
    batch *b;
    size_t i;
    stop_receivers(ctx);
    evtimer_del(ctx->tick_ev);
    /* The open blocks become one last batch, queued at once (past
     * max_queued_batches: no more come). */
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
    /* The loop stays up for the deadline; the job thread's wake-up at its
     * end closes it. */
    finish_input(ctx, false);
    arm_deadline(ctx);
}

static void immediate_stop(sl_context *ctx)
{
    size_t i;
    stop_receivers(ctx);
    evtimer_del(ctx->tick_ev);
    for (i = 0; i < ctx->nreceivers; i++)
        sl__receiver_discard(ctx->receivers[i]);
    finish_input(ctx, true);
}

static void on_wake(evutil_socket_t fd, short what, void *arg)
{
    sl_context *ctx = arg;
    uint64_t v;
    ssize_t n = read(fd, &v, sizeof v);
    SL__UNUSED(n);
    SL__UNUSED(what);
    atomic_store(&ctx->wake_pending, false);
    if (ctx->input_finished) {
        bool ended, now, graceful;
        pthread_mutex_lock(&ctx->lock);
        ended = ctx->terminated;
        now = ctx->stop_requested && !ctx->stop_graceful;
        graceful = ctx->stop_requested && ctx->stop_graceful;
        pthread_mutex_unlock(&ctx->lock);
        if (ended || now) /* the graceful stop is over */
            event_base_loopexit(ctx->base, NULL);
        else if (graceful && !evtimer_pending(ctx->deadline_ev, NULL))
            arm_deadline(ctx); /* a stop after the max_batches tick */
        return;
    }
    if (stop_pending(ctx))
        return;
    sl__io_flow_check(ctx);
    produce(ctx);
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
    ctx->deadline_ev = evtimer_new(ctx->base, on_deadline, ctx);
    if (!ctx->wake_ev || !ctx->tick_ev || !ctx->deadline_ev ||
        event_add(ctx->wake_ev, NULL))
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
    if (ctx->deadline_ev)
        event_free(ctx->deadline_ev);
    ctx->deadline_ev = NULL;
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
            /* Read only after termination, once this thread has ended.
             * A receiver that said why (sl_receiver_fail) keeps its
             * message: it names what could not be reached. */
            if (!r->failed) {
                sl__ctx_set_error(ctx, st, "receiver %s failed to start",
                                  r->ops->name);
                sl__log(&ctx->log, SL_LOG_ERROR,
                        "receiver %s failed to start: %s", r->ops->name,
                        sl_strerror(st));
            }
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
    /* A resumed context goes on after the batches of its earlier run. */
    ctx->next_batch_id = ctx->resumed ? ctx->resume_batch_id + 1 : 1;
    hold_missed_ticks(ctx);
    if (collect_slides(ctx) != SL_OK) {
        sl__ctx_set_error(ctx, SL_ENOMEM, "out of memory at start");
        sl__ctx_fail(ctx, SL_ENOMEM);
    }
    start_receivers(ctx);
    atomic_store(&ctx->receivers_started, true);
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
