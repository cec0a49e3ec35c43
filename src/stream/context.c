/*
 * The streaming context: configuration, the life cycle (start, stop, await,
 * free), listeners and the error kept on the handle. The I/O thread lives in
 * io.c and the job thread in jobs.c; this file starts and joins them.
 */
#include "stream/stream_int.h"
#include "stream/memtable.h"
#include "stream/wal_glue.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Format first, then copy under the lock: the lock is held for a copy
 * only, and a writer never sees another's half-written text. */
static void ctx_format_error(char *buf, size_t n, sl_status st, const char *fmt,
                             va_list ap)
{
    int k = snprintf(buf, n, "%s: ", sl_errname(st));
    if (k > 0 && (size_t)k < n)
        vsnprintf(buf + k, n - (size_t)k, fmt, ap);
}

/* final: this message is the context's failure, kept from now on. */
static void ctx_store_error(sl_context *ctx, sl_status st, const char *text,
                            bool final)
{
    pthread_mutex_lock(&ctx->err_lock);
    if (!ctx->err_final) {
        snprintf(ctx->err.text, sizeof ctx->err.text, "%s", text);
        ctx->err.code = st;
        ctx->err_final = final;
    }
    pthread_mutex_unlock(&ctx->err_lock);
}

void sl__ctx_set_error(sl_context *ctx, sl_status st, const char *fmt, ...)
{
    char text[sizeof ctx->err.text];
    va_list ap;

    va_start(ap, fmt);
    ctx_format_error(text, sizeof text, st, fmt, ap);
    va_end(ap);
    ctx_store_error(ctx, st, text, false);
}

const char *sl__ctx_errmsg_copy(sl_context *ctx, char *buf, size_t n)
{
    pthread_mutex_lock(&ctx->err_lock);
    snprintf(buf, n, "%s", ctx->err.text);
    pthread_mutex_unlock(&ctx->err_lock);
    return buf;
}

sl_status sl_context_set_error(sl_context *ctx, sl_status st, const char *fmt,
                               ...)
{
    char msg[400];
    va_list ap;
    if (!ctx || !fmt)
        return st;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    sl__ctx_set_error(ctx, st, "%s", msg);
    return st;
}

bool sl__on_io_thread(sl_context *ctx)
{
    return atomic_load(&ctx->io_self_set) &&
           pthread_equal(pthread_self(), ctx->io_self);
}

bool sl__on_job_thread(sl_context *ctx)
{
    return atomic_load(&ctx->job_self_set) &&
           pthread_equal(pthread_self(), ctx->job_self);
}

sl_status sl__ctx_check_building(sl_context *ctx)
{
    if (ctx->state != CTX_NEW) {
        sl__ctx_set_error(ctx, SL_ESTATE,
                          "the stream graph cannot change after start");
        return SL_ESTATE;
    }
    return SL_OK;
}

static sl_status ctx_read_conf(sl_context *ctx, char *errbuf, size_t errlen)
{
    const char *level = sl_conf_get(ctx->conf, "log.level");
    ctx->interval_ms = sl__conf_int(ctx->conf, "batch_interval");
    ctx->max_batches = sl__conf_int(ctx->conf, "max_batches");
    ctx->manual_clock = strcmp(sl_conf_get(ctx->conf, "clock"), "manual") == 0;
    ctx->available_now =
        strcmp(sl_conf_get(ctx->conf, "trigger"), "available_now") == 0;
    ctx->back_to_back = ctx->manual_clock || ctx->available_now;
    ctx->max_buffered = sl__conf_int(ctx->conf, "receiver.max_buffered_bytes");
    ctx->max_line = sl__conf_int(ctx->conf, "receiver.max_line_bytes");
    /* A block must hold a line of the maximum length with its "\r\n", or
     * a legal line could never be sealed. */
    ctx->block_cap = (size_t)sl__conf_int(ctx->conf, "receiver.block_bytes");
    if (ctx->block_cap < (size_t)ctx->max_line + 2)
        ctx->block_cap = (size_t)ctx->max_line + 2;
    ctx->max_queued = (size_t)sl__conf_int(ctx->conf, "max_queued_batches");
    /* Spark's spark.streaming.gracefulStopTimeout: 10 batch intervals. */
    ctx->graceful_timeout_ms = sl__conf_int(ctx->conf, "stop.graceful_timeout");
    if (ctx->graceful_timeout_ms == 0)
        ctx->graceful_timeout_ms =
            ctx->interval_ms * 10 > 10000 ? ctx->interval_ms * 10 : 10000;
    if (sl__log_level_parse(level, &ctx->log.level) != SL_OK)
        return sl__errbuf(errbuf, errlen, SL_ECONF, "log.level: bad value");
    return SL_OK;
}

static sl_status ctx_init_sync(sl_context *ctx)
{
    if (pthread_mutex_init(&ctx->lock, NULL))
        return SL_ENOMEM;
    if (pthread_mutex_init(&ctx->err_lock, NULL))
        goto destroy_lock;
    if (pthread_cond_init(&ctx->cv, NULL))
        goto destroy_err_lock;
    return SL_OK;
destroy_err_lock:
    pthread_mutex_destroy(&ctx->err_lock);
destroy_lock:
    pthread_mutex_destroy(&ctx->lock);
    return SL_ENOMEM;
}

/*
 * A standard descriptor the process was started without (`prog >&-`) would
 * be taken by the next open: the I/O loop's epoll or eventfd, a socket, a
 * dead-letter file, and console output would go there. Hold each closed
 * one with /dev/null opened for reading only, before the context opens
 * anything: writes to it fail with EBADF, which the console outputs report
 * as "standard output is closed".
 */
static void hold_closed_std_fds(void)
{
    int fd, got;
    for (fd = 0; fd <= 2; fd++) {
        if (fcntl(fd, F_GETFD) != -1 || errno != EBADF)
            continue;
        got = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (got >= 0 && got != fd) {
            dup2(got, fd);
            close(got);
        }
    }
}

sl_context *sl__context_create(sl_conf *conf, sl_status *status, char *errbuf,
                               size_t errlen)
{
    sl_context *ctx = sl_malloc(sizeof *ctx);
    bool own_default = conf == NULL;
    sl_status st = SL_ENOMEM;

    hold_closed_std_fds();
    if (!ctx)
        goto oom;
    memset(ctx, 0, sizeof *ctx);
    ctx->conf = conf ? conf : sl_conf_new();
    if (!ctx->conf)
        goto free_ctx;
    ctx->log.level = SL_LOG_INFO;
    sl__bad_counts_init(&ctx->bad, &ctx->log);
    ctx->outputs_tail = &ctx->outputs;
    ctx->listeners_tail = &ctx->listeners;
    ctx->queue_tail = &ctx->queue;
    ctx->wake_fd = -1;
    if ((st = ctx_read_conf(ctx, errbuf, errlen)) != SL_OK)
        goto free_conf;
    if ((st = ctx_init_sync(ctx)) != SL_OK) {
        sl__errbuf(errbuf, errlen, st, "cannot create the context's locks");
        goto free_conf;
    }
    if ((st = sl__progress_init(ctx)) != SL_OK) {
        sl__errbuf(errbuf, errlen, st, "out of memory");
        goto free_sync;
    }
    /* The engine fails only for memory (its conf was read above). */
    st = SL_ENOMEM;
    ctx->eng = sl__engine_create(ctx->conf, &ctx->log, errbuf, errlen);
    if (!ctx->eng)
        goto free_progress;
    if (!(ctx->mem = sl__memreg_new())) {
        sl_engine_free(ctx->eng);
        sl__errbuf(errbuf, errlen, st, "out of memory");
        goto free_progress;
    }
    *status = SL_OK;
    return ctx;
free_progress:
    sl__progress_destroy(ctx);
free_sync:
    pthread_cond_destroy(&ctx->cv);
    pthread_mutex_destroy(&ctx->err_lock);
    pthread_mutex_destroy(&ctx->lock);
free_conf:
    sl__bad_counts_destroy(&ctx->bad);
    if (own_default)
        sl_conf_free(ctx->conf);
free_ctx:
    sl_free(ctx);
    *status = st;
    return NULL;
oom:
    *status = SL_ENOMEM;
    sl__errbuf(errbuf, errlen, SL_ENOMEM, "out of memory");
    return NULL;
}

sl_context *sl_context_new(sl_conf *conf, char *errbuf, size_t errlen)
{
    sl_status st;
    return sl__context_create(conf, &st, errbuf, errlen);
}

const char *sl_context_errmsg(const sl_context *ctx)
{
    return ctx ? ctx->err.text : "no context";
}

sl_status sl_context_errcode(const sl_context *ctx)
{
    sl_status st;
    if (!ctx)
        return SL_EINVAL;
    /* Written under err_lock together with the text (any thread). */
    pthread_mutex_lock((pthread_mutex_t *)&ctx->err_lock);
    st = ctx->err.code;
    pthread_mutex_unlock((pthread_mutex_t *)&ctx->err_lock);
    return st;
}

sl_engine *sl_context_engine(sl_context *ctx)
{
    return ctx ? ctx->eng : NULL;
}

int64_t sl_context_batch_interval(const sl_context *ctx)
{
    return ctx ? ctx->interval_ms : 0;
}

void sl_context_set_logger(sl_context *ctx, sl_log_fn fn, void *user)
{
    if (!ctx)
        return;
    ctx->log.fn = fn;
    ctx->log.user = user;
    sl_engine_set_logger(ctx->eng, fn, user);
}

sl_status sl_context_remember(sl_context *ctx, int64_t ms)
{
    if (!ctx || ms < 0)
        return SL_EINVAL;
    if (sl__ctx_check_building(ctx) != SL_OK)
        return SL_ESTATE;
    ctx->remember_ms = ms;
    return SL_OK;
}

sl_status sl_context_add_listener(sl_context *ctx, const sl_listener *l,
                                  void *user)
{
    listener *n;
    if (!ctx || !l || l->version < 1)
        return SL_EINVAL;
    if (sl__ctx_check_building(ctx) != SL_OK)
        return SL_ESTATE;
    n = sl_malloc(sizeof *n);
    if (!n)
        return SL_ENOMEM;
    memset(n, 0, sizeof *n);
    /* A program built against an older header passes a shorter table:
     * read only the members its version has. */
    if (l->version < 2)
        memcpy(&n->l, l, offsetof(sl_listener, on_progress));
    else
        n->l = *l;
    n->user = user;
    *ctx->listeners_tail = n;
    ctx->listeners_tail = &n->next;
    return SL_OK;
}

/* ----------------------------------------------------------- life cycle */

static sl_status ctx_start_threads(sl_context *ctx)
{
    if (sl__io_init(ctx) != SL_OK) {
        sl__ctx_set_error(ctx, SL_ENOMEM, "cannot set up the I/O loop");
        return SL_ENOMEM;
    }
    /* The WAL writer first: the I/O thread's batches wait for it. */
    if (sl__wal_glue_start(ctx) != SL_OK)
        goto fail;
    if (pthread_create(&ctx->io_thread, NULL, sl__io_main, ctx) != 0)
        goto fail_wal;
    if (pthread_create(&ctx->job_thread, NULL, sl__job_main, ctx) != 0) {
        sl_context_request_stop(ctx, false);
        pthread_join(ctx->io_thread, NULL);
        goto fail_wal;
    }
    ctx->threads_started = true;
    return SL_OK;
fail_wal:
    pthread_mutex_lock(&ctx->lock);
    sl__wal_glue_quit(ctx);
    pthread_mutex_unlock(&ctx->lock);
    sl__wal_glue_join(ctx);
fail:
    sl__io_free(ctx);
    sl__ctx_set_error(ctx, SL_ENOMEM, "cannot start threads: %s",
                      SL__STRERROR(errno));
    return SL_ENOMEM;
}

static sl_status context_start(sl_context *ctx)
{
    sl_status st;
    if (!ctx->outputs) {
        sl__ctx_set_error(ctx, SL_ESTATE,
                          "no output operations registered, so nothing "
                          "to execute (add print, foreach_rdd or "
                          "save_as_text_files)");
        return SL_ESTATE;
    }
    if ((st = sl__recovery_prepare(ctx)) != SL_OK)
        return st;
    /* after recovery: a source knows what it took before the restart */
    if (ctx->available_now && (st = sl__available_now_start(ctx)) != SL_OK)
        return st;
    if (!ctx->resumed) {
        ctx->zero_ms = 0;
        if (!ctx->manual_clock)
            ctx->zero_ms =
                sl__now_wall_ms() / ctx->interval_ms * ctx->interval_ms;
    }
    if ((st = sl__progress_start(ctx)) != SL_OK)
        return st;
    if ((st = sl__wal_glue_open(ctx)) != SL_OK)
        return st;
    sl__context_queue_replay(ctx);
    ctx->state = CTX_RUNNING;
    if ((st = ctx_start_threads(ctx)) != SL_OK) {
        ctx->state = CTX_STOPPED;
        ctx->terminated = true;
        return st;
    }
    sl__log(&ctx->log, SL_LOG_INFO,
            "started: batch interval %lld ms, %s clock, %zu workers",
            (long long)ctx->interval_ms,
            ctx->manual_clock ? "manual" : "system",
            sl_engine_workers(ctx->eng));
    return SL_OK;
}

sl_status sl_context_start(sl_context *ctx)
{
    sl_status st;
    if (!ctx)
        return SL_EINVAL;
    if (ctx->state != CTX_NEW) {
        sl__ctx_set_error(ctx, SL_ESTATE, "the context was already started");
        return SL_ESTATE;
    }
    if ((st = sl__control_attach_from_env(ctx)) == SL_OK &&
        (st = context_start(ctx)) == SL_OK) {
        sl__services_started(ctx);
        return SL_OK;
    }
    sl__services_ended(ctx, st, NULL); /* a managed job failed to start */
    return st;
}

void sl_context_request_stop(sl_context *ctx, bool graceful)
{
    if (!ctx)
        return;
    pthread_mutex_lock(&ctx->lock);
    if (!ctx->stop_requested) {
        ctx->stop_requested = true;
        ctx->stop_graceful = graceful;
    } else if (!graceful) {
        ctx->stop_graceful = false; /* an immediate stop overrides */
    }
    pthread_cond_broadcast(&ctx->cv);
    pthread_mutex_unlock(&ctx->lock);
    /* Long reads end at their next chunk: a stop stops reading input. Set
     * after stop_requested, so that a reader cut short is always seen as
     * cut by the stop (jobs.c). */
    sl__engine_interrupt(ctx->eng, true);
    sl__ctx_wake_io(ctx);
}

/* The first failure wins: its status, and the message on the context at
 * that moment (the failing thread set it just before), are kept. */
void sl__ctx_fail(sl_context *ctx, sl_status st)
{
    pthread_mutex_lock(&ctx->lock);
    if (ctx->failure == SL_OK) {
        ctx->failure = st;
        pthread_mutex_lock(&ctx->err_lock);
        ctx->err_final = true;
        pthread_mutex_unlock(&ctx->err_lock);
    }
    pthread_mutex_unlock(&ctx->lock);
    sl_context_request_stop(ctx, false);
}

/* A failure with its message, set together: a receiver and a batch that
 * fail at the same moment cannot pair one's status with the other's text.
 * Lock order: ctx->lock, then err_lock. */
void sl__ctx_fail_msg(sl_context *ctx, sl_status st, const char *fmt, ...)
{
    char text[sizeof ctx->err.text];
    va_list ap;

    va_start(ap, fmt);
    ctx_format_error(text, sizeof text, st, fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&ctx->lock);
    if (ctx->failure == SL_OK) {
        ctx->failure = st;
        ctx_store_error(ctx, st, text, true);
    }
    pthread_mutex_unlock(&ctx->lock);
    sl_context_request_stop(ctx, false);
}

/* Wait for termination and join the threads exactly once: the first
 * caller joins, concurrent callers (await on one thread, stop on another)
 * wait until it is done. */
static void ctx_join(sl_context *ctx)
{
    bool join = false;
    pthread_mutex_lock(&ctx->lock);
    while (!ctx->terminated)
        pthread_cond_wait(&ctx->cv, &ctx->lock);
    if (ctx->threads_started && !ctx->threads_joining) {
        ctx->threads_joining = true;
        join = true;
    }
    while (!join && ctx->threads_started && !ctx->threads_joined)
        pthread_cond_wait(&ctx->cv, &ctx->lock);
    pthread_mutex_unlock(&ctx->lock);
    if (!join)
        return;
    pthread_join(ctx->job_thread, NULL);
    pthread_join(ctx->io_thread, NULL);
    sl__wal_glue_join(ctx);
    /* No thread queues dead letters now: let the queued ones reach the
     * disk so that sl_context_bad_record_stats is final (bounded, a
     * stuck disk must not hang the stop). */
    if (!sl__bad_counts_drain(&ctx->bad, 5000))
        sl__log(&ctx->log, SL_LOG_WARN,
                "dead letters still wait for the disk after 5 s");
    pthread_mutex_lock(&ctx->lock);
    ctx->threads_joined = true;
    pthread_cond_broadcast(&ctx->cv);
    pthread_mutex_unlock(&ctx->lock);
}

sl_status sl_context_stop(sl_context *ctx, bool graceful)
{
    if (!ctx)
        return SL_EINVAL;
    if (ctx->state == CTX_NEW) {
        ctx->state = CTX_STOPPED;
        ctx->terminated = true;
        sl__services_ended(ctx, SL_OK, NULL);
        return SL_OK;
    }
    if (sl__on_job_thread(ctx) || sl__on_io_thread(ctx) ||
        sl__engine_on_worker(ctx->eng)) {
        sl__ctx_set_error(ctx, SL_ESTATE,
                          "sl_context_stop from a sluice thread (a callback "
                          "or user function) would wait for itself; use "
                          "sl_context_request_stop");
        return SL_ESTATE;
    }
    sl_context_request_stop(ctx, graceful);
    ctx_join(ctx);
    return ctx->failure;
}

sl_status sl_context_await_termination(sl_context *ctx)
{
    if (!ctx)
        return SL_EINVAL;
    if (ctx->state == CTX_NEW) {
        sl__ctx_set_error(ctx, SL_ESTATE, "the context was not started");
        return SL_ESTATE;
    }
    ctx_join(ctx);
    return ctx->failure;
}

sl_status sl_context_await_termination_or_timeout(sl_context *ctx, int64_t ms)
{
    struct timespec ts;
    bool done;
    if (!ctx || ms < 0)
        return SL_EINVAL;
    if (ctx->state == CTX_NEW) {
        sl__ctx_set_error(ctx, SL_ESTATE, "the context was not started");
        return SL_ESTATE;
    }
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&ctx->lock);
    while (!ctx->terminated)
        if (pthread_cond_timedwait(&ctx->cv, &ctx->lock, &ts) == ETIMEDOUT)
            break;
    done = ctx->terminated;
    pthread_mutex_unlock(&ctx->lock);
    if (!done)
        return SL_ETIMEDOUT;
    ctx_join(ctx);
    return ctx->failure;
}

bool sl_context_terminated(sl_context *ctx)
{
    bool done;
    if (!ctx)
        return false;
    pthread_mutex_lock(&ctx->lock);
    done = ctx->terminated;
    pthread_mutex_unlock(&ctx->lock);
    return done;
}

int64_t sl_context_unprocessed_records(const sl_context *ctx)
{
    sl_stop_report r;
    if (sl_context_stop_report(ctx, &r) != SL_OK)
        return 0;
    return r.unprocessed_records;
}

int64_t sl_context_json_replacements(const sl_context *ctx)
{
    return ctx ? atomic_load(&((sl_context *)ctx)->json_replaced) : 0;
}

sl__bad_counts *sl__context_bad_counts(sl_context *ctx)
{
    return &ctx->bad;
}

void sl__context_set_trial(sl_context *ctx)
{
    ctx->bad.trial = true; /* dead-letter files see it there */
}

bool sl__context_trial(const sl_context *ctx)
{
    return ctx->bad.trial;
}

sl_status sl_context_bad_record_stats(const sl_context *ctx,
                                      sl_bad_record_stats *out)
{
    sl__bad_counts *c;

    if (!ctx || !out)
        return SL_EINVAL;
    c = &((sl_context *)ctx)->bad; /* atomics: read, not changed */
    out->skipped = atomic_load(&c->skipped);
    out->dead_lettered = atomic_load(&c->dead_lettered);
    out->dead_letters_written = atomic_load(&c->written);
    out->dead_letters_failed = atomic_load(&c->failed);
    out->dead_letters_dropped = atomic_load(&c->dropped);
    out->rejected = atomic_load(&c->rejected);
    out->late = atomic_load(&c->late);
    return SL_OK;
}

sl_status sl_context_stop_report(const sl_context *ctx, sl_stop_report *out)
{
    sl_context *c = (sl_context *)ctx; /* the lock, not the context, changes */
    if (!ctx || !out)
        return SL_EINVAL;
    pthread_mutex_lock(&c->lock);
    out->unprocessed_records = c->left.records;
    out->unprocessed_batches = c->left.batches;
    out->partial_lines = c->left.partial;
    out->timed_out = c->left.timed_out;
    pthread_mutex_unlock(&c->lock);
    return SL_OK;
}

void sl_context_free(sl_context *ctx)
{
    listener *l, *nl;
    batch *b;
    size_t i;
    if (!ctx)
        return;
    /* Also after the context stopped by itself (max_batches, a failure):
     * its threads may still be finishing and must be joined. */
    if (ctx->state != CTX_NEW)
        sl_context_stop(ctx, false);
    sl__services_free(ctx);             /* first: a service reads the context */
    while ((b = ctx->replay) != NULL) { /* never started */
        ctx->replay = b->next;
        sl__batch_free(ctx, b);
    }
    for (i = 0; i < ctx->nreceivers; i++)
        sl__receiver_free(ctx->receivers[i]);
    sl_free(ctx->receivers);
    for (i = 0; i < ctx->nplanned; i++)
        ctx->planned[i]->planned->free(ctx->planned[i]->planned_state);
    sl_free(ctx->planned);
    sl__outputs_free(ctx);
    sl__memreg_free(ctx->mem);
    sl__dstream_free_all(ctx);
    for (l = ctx->listeners; l; l = nl) {
        nl = l->next;
        sl_free(l);
    }
    sl__io_free(ctx);
    sl__recovery_close(ctx);
    sl__wal_glue_free(ctx);
    sl__blocks_free_pool(ctx);
    sl_free(ctx->slides);
    sl_engine_free(ctx->eng);
    sl_conf_free(ctx->conf);
    sl__bad_counts_destroy(&ctx->bad);
    sl__progress_destroy(ctx);
    pthread_cond_destroy(&ctx->cv);
    pthread_mutex_destroy(&ctx->err_lock);
    pthread_mutex_destroy(&ctx->lock);
    sl_free(ctx);
}

void sl_context_log(sl_context *ctx, sl_log_level level, const char *fmt, ...)
{
    va_list ap;
    if (!ctx || !fmt)
        return;
    va_start(ap, fmt);
    sl__vlog(&ctx->log, level, fmt, ap);
    va_end(ap);
}
