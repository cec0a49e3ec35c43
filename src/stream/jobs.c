/*
 * The job thread: takes sealed batches in order, runs every output
 * operation of each (computing the DStream graph into RDD jobs on the
 * worker pool), tells the listeners, frees the batch's memory and receive
 * blocks, and ends the context when input is over or a batch failed.
 */
#include "stream/stream_int.h"
#include "stream/wal_glue.h"

#include <string.h>

int64_t sl__batch_records(const sl_context *ctx, const batch *b)
{
    int64_t n = 0;
    size_t i;
    const block *blk;
    for (i = 0; i < ctx->nreceivers; i++)
        for (blk = b->blocks[i]; blk; blk = blk->next)
            n += blk->records;
    return n;
}

void sl__batch_free(sl_context *ctx, batch *b)
{
    size_t i;
    block *blk, *next;
    for (i = 0; i < ctx->nreceivers; i++)
        for (blk = b->blocks[i]; blk; blk = next) {
            next = blk->next;
            sl__block_put(ctx, blk);
        }
    sl__scope_destroy(b->scope);
    if (b->replay)
        for (i = 0; i < ctx->nplanned; i++)
            sl_free(b->replay[i]);
    sl_free(b->replay);
    sl_free(b->blocks);
    sl_free(b);
}

typedef enum event_kind { EV_SUBMITTED, EV_STARTED, EV_COMPLETED } event_kind;

static void notify(sl_context *ctx, event_kind ev, const sl_batch_info *info)
{
    listener *l;
    for (l = ctx->listeners; l; l = l->next) {
        void (*fn)(const sl_batch_info *, void *) =
            ev == EV_SUBMITTED ? l->l.on_batch_submitted
            : ev == EV_STARTED ? l->l.on_batch_started
                               : l->l.on_batch_completed;
        if (fn)
            fn(info, l->user);
    }
}

/*
 * The life of a batch (docs/architecture.md): plan every source, then
 * compute and run the outputs, commit state, and only then let the
 * sources forget the batch's input. The batch's recorded offsets are
 * complete after the plan step: that is where offsets/<batch> is written.
 */
static sl_status run_outputs(sl_context *ctx, batch *b)
{
    output *o;
    int64_t t = sl__now_mono_us(), t0 = t, end;
    sl_status st = sl__batch_plan(ctx, b);
    b->phase_us[SL__PHASE_PLAN] = sl__now_mono_us() - t;
    if (st != SL_OK)
        return st;
    sl__wm_begin(ctx, b); /* recorded with the offsets */
    t = sl__now_mono_us();
    /* The batch's input is fixed now (sl__batch_offsets): a checkpointed
     * context writes offsets/<batch> here, before anything is computed. */
    st = sl__recovery_batch_offsets(ctx, b);
    b->phase_us[SL__PHASE_OFFSETS] = sl__now_mono_us() - t;
    if (st != SL_OK)
        return st;
    t = sl__now_mono_us();
    st = sl__stateful_advance(ctx, b);
    b->phase_us[SL__PHASE_COMPUTE] = sl__now_mono_us() - t;
    /* Each output adds its graph's time to compute and its writing to
     * sinks (sl__output_run). */
    for (o = ctx->outputs; o && st == SL_OK; o = o->next)
        st = sl__output_run(ctx, o, b);
    t = sl__now_mono_us();
    /* The batch's one commit point: state stores and windows move on
     * together only if every output finished, else none does, so the
     * batch can run again from its input with the same result. */
    if (st == SL_OK)
        sl__wm_end(ctx, b); /* the next watermark, for the commit entry */
    if (st == SL_OK)
        st = sl__batch_prepare_commit(ctx, b);
    /* The checkpoint writer, between prepare (nothing can fail after it)
     * and the in-memory commit: the batch's state files, then
     * commits/<batch>; a failed write aborts the batch like a failed
     * output (the batch runs again after a restart). What it wrote goes
     * to the progress entry (sl__batch_set_checkpoint_stats). */
    if (st == SL_OK)
        st = sl__recovery_batch_commit(ctx, b);
    if (st != SL_OK) {
        sl__batch_abort(ctx, b);
        sl__outputs_abort(ctx, b);
        return st;
    }
    sl__batch_commit(ctx, b);
    sl__wm_commit(ctx, b);
    if (ctx->remember_ms > 0)
        sl__dstream_remember(ctx, b);
    /* commits/<batch> is durable: the sinks may now publish the batch,
     * and only now may the sources forget its input (clean_source). Then
     * snapshot and retention. */
    st = sl__outputs_commit(ctx, b);
    sl__batch_commit_sources(ctx, b);
    if (st == SL_OK)
        st = sl__recovery_batch_done(ctx, b);
    /* After the commit entry, too: the WAL keeps what uncommitted batches
     * need, and batches run in order. */
    sl__wal_glue_prune(ctx, b->id + 1);
    end = sl__now_mono_us();
    b->phase_us[SL__PHASE_COMMIT] = end - t;
    b->phase_us[SL__PHASE_TOTAL] = end - t0;
    return st;
}

static bool stopping_now(const sl_context *ctx)
{
    return ctx->stop_requested && !ctx->stop_graceful;
}

static bool stop_asked(sl_context *ctx)
{
    bool asked;
    pthread_mutex_lock(&ctx->lock);
    asked = ctx->stop_requested;
    pthread_mutex_unlock(&ctx->lock);
    return asked;
}

/* A reader was cut short by the stop: the batch's input is left for a
 * later run (its source is not committed), which is not a failure. */
static void note_interrupted(sl_context *ctx, batch *b)
{
    char why[sizeof ctx->err.text];

    pthread_mutex_lock(&ctx->lock);
    ctx->left.records += b->info.num_records;
    ctx->left.batches++;
    pthread_mutex_unlock(&ctx->lock);
    sl__log(&ctx->log, SL_LOG_WARN,
            "batch %lld (time %lld ms) interrupted by the stop: %s; its "
            "input is left unprocessed",
            (long long)b->id, (long long)b->time_ms,
            sl__ctx_errmsg_copy(ctx, why, sizeof why));
}

static void run_batch(sl_context *ctx, batch *b)
{
    sl_batch_info *info = &b->info;
    sl_status st;

    notify(ctx, EV_SUBMITTED, info);
    info->start_ms = sl__now_wall_ms();
    info->scheduling_delay_ms = info->start_ms - info->submission_ms;
    notify(ctx, EV_STARTED, info);
    b->scope = sl__scope_create();
    if (!b->scope) {
        sl__ctx_set_error(ctx, SL_ENOMEM, "batch %lld: out of memory",
                          (long long)b->id);
        st = SL_ENOMEM;
    } else {
        sl__engine_set_scope(ctx->eng, b->scope);
        sl__engine_set_batch(ctx->eng, b->id, b->time_ms);
        st = run_outputs(ctx, b);
        sl__engine_set_batch(ctx->eng, -1, 0);
        sl__engine_set_scope(ctx->eng, NULL);
    }
    info->end_ms = sl__now_wall_ms();
    info->processing_ms = info->end_ms - info->start_ms;
    info->total_delay_ms = info->end_ms - info->submission_ms;
    info->status = st;
    if (st == SL_ESTOPPED && stop_asked(ctx)) {
        note_interrupted(ctx, b);
    } else if (st != SL_OK) {
        char why[sizeof ctx->err.text];
        sl__log(&ctx->log, SL_LOG_ERROR, "batch %lld (time %lld ms) failed: %s",
                (long long)b->id, (long long)b->time_ms,
                sl__ctx_errmsg_copy(ctx, why, sizeof why));
        sl__ctx_fail(ctx, st);
    }
    notify(ctx, EV_COMPLETED, info);
    if (st == SL_OK)
        sl__progress_batch(ctx, b);
    sl__log(&ctx->log, SL_LOG_DEBUG,
            "batch %lld: %lld records, %lld ms processing", (long long)b->id,
            (long long)info->num_records, (long long)info->processing_ms);
}

/* Immediate stop: queued batches are dropped and counted (under lock). */
static void drop_queue(sl_context *ctx)
{
    batch *b;
    while ((b = ctx->queue) != NULL) {
        ctx->queue = b->next;
        ctx->nqueued--;
        ctx->left.records += b->info.num_records;
        ctx->left.batches++;
        pthread_mutex_unlock(&ctx->lock);
        sl__batch_free(ctx, b);
        pthread_mutex_lock(&ctx->lock);
    }
    ctx->queue_tail = &ctx->queue;
}

/* The next batch to run, or NULL when the job thread should end. */
static batch *next_batch(sl_context *ctx)
{
    batch *b = NULL;
    pthread_mutex_lock(&ctx->lock);
    /* With a WAL, the head batch runs once its blocks are synced there. */
    while (
        !stopping_now(ctx) &&
        (ctx->queue ? !sl__wal_glue_ready(ctx, ctx->queue) : !ctx->input_done))
        pthread_cond_wait(&ctx->cv, &ctx->lock);
    if (!stopping_now(ctx) && ctx->queue) {
        b = ctx->queue;
        ctx->queue = b->next;
        ctx->nqueued--;
        b->queued_behind = (int64_t)ctx->nqueued;
        if (!ctx->queue)
            ctx->queue_tail = &ctx->queue;
        ctx->job_busy = true;
    }
    pthread_mutex_unlock(&ctx->lock);
    if (b && !ctx->back_to_back)
        sl__ctx_wake_io(ctx); /* room in the queue: ticks may wait for it */
    return b;
}

static void log_stop(sl_context *ctx, const stop_tally *left)
{
    long long replaced = atomic_load(&ctx->json_replaced);
    if (replaced)
        sl__log(&ctx->log, SL_LOG_INFO,
                "json output: %lld invalid UTF-8 sequences written as U+FFFD",
                replaced);
    if (left->records == 0 && left->batches == 0) {
        sl__log(&ctx->log, SL_LOG_INFO, "stopped after %lld batches",
                (long long)ctx->batches_done);
        return;
    }
    sl__log(&ctx->log, SL_LOG_WARN,
            "stopped after %lld batches with input left unprocessed: %lld "
            "batches not processed, holding %lld records counted so far "
            "(planned input of batches never planned stays in its source)%s",
            (long long)ctx->batches_done, (long long)left->batches,
            (long long)left->records,
            left->timed_out ? "; the graceful stop timed out" : "");
}

/* Before termination shows: a process that exits as soon as
 * sl_context_await_termination returns has its services' last word on
 * disk. */
static void tell_services(sl_context *ctx, const stop_tally *left)
{
    sl_stop_report r;
    sl_status st;
    memset(&r, 0, sizeof r);
    r.unprocessed_records = left->records;
    r.unprocessed_batches = left->batches;
    r.timed_out = left->timed_out;
    pthread_mutex_lock(&ctx->lock);
    st = ctx->failure;
    pthread_mutex_unlock(&ctx->lock);
    sl__services_ended(ctx, st, &r);
}

void *sl__job_main(void *arg)
{
    sl_context *ctx = arg;
    stop_tally left;
    batch *b;
    ctx->job_self = pthread_self();
    atomic_store(&ctx->job_self_set, true);
    sl__recovery_recommit(ctx);
    while ((b = next_batch(ctx)) != NULL) {
        bool final = b->final;
        ctx->current = b;
        run_batch(ctx, b);
        ctx->current = NULL;
        sl__available_now_after(ctx, b);
        sl__batch_free(ctx, b);
        pthread_mutex_lock(&ctx->lock);
        ctx->job_busy = false;
        ctx->batches_done++;
        pthread_mutex_unlock(&ctx->lock);
        sl__ctx_wake_io(ctx); /* blocks were freed; the manual clock ticks */
        if (final && ctx->max_batches > 0)
            sl_context_request_stop(ctx, true);
    }
    sl__recovery_final(ctx);
    pthread_mutex_lock(&ctx->lock);
    while (!ctx->input_done)
        pthread_cond_wait(&ctx->cv, &ctx->lock);
    sl__wal_glue_wait_idle(ctx); /* the writer may be reading the queue */
    drop_queue(ctx);
    sl__wal_glue_quit(ctx);
    left = ctx->left;
    pthread_mutex_unlock(&ctx->lock);
    tell_services(ctx, &left);
    pthread_mutex_lock(&ctx->lock);
    ctx->state = CTX_STOPPED;
    ctx->terminated = true;
    pthread_cond_broadcast(&ctx->cv);
    pthread_mutex_unlock(&ctx->lock);
    sl__ctx_wake_io(ctx); /* a graceful stop's deadline is no longer needed */
    log_stop(ctx, &left);
    return NULL;
}
