/*
 * Falling behind and stopping: the bounded batch queue (max_queued_batches)
 * with ticks absorbed into the next batch, slide boundaries and max_batches
 * never absorbed, the graceful stop's timeout, and readers cut short by a
 * stop (sl_task_interrupted). System clock, short intervals.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sluice/sluice.h>
#include <string.h>
#include <time.h>

#include "sl_test.h"

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static sl_context *new_ctx(const char *interval, const char *max_batches,
                           const char *graceful_timeout)
{
    char err[256];
    sl_conf *conf = sl_conf_new();
    sl_context *ctx;
    SL_CHECK_OK(sl_conf_set(conf, "batch_interval", interval, err, sizeof err));
    SL_CHECK_OK(sl_conf_set(conf, "max_batches", max_batches, err, sizeof err));
    SL_CHECK_OK(sl_conf_set(conf, "workers", "2", err, sizeof err));
    SL_CHECK_OK(sl_conf_set(conf, "log.level", "error", err, sizeof err));
    if (graceful_timeout)
        SL_CHECK_OK(sl_conf_set(conf, "stop.graceful_timeout", graceful_timeout,
                                err, sizeof err));
    ctx = sl_context_new(conf, err, sizeof err);
    SL_CHECK(ctx != NULL);
    return ctx;
}

/* What the listener saw: ids, absorbed ticks and scheduling delays. */
typedef struct seen {
    pthread_mutex_t lock;
    int64_t ids[4096], absorbed[4096];
    size_t n;
    int64_t max_delay;
    sl_status worst;
} seen;

static void on_completed(const sl_batch_info *b, void *user)
{
    seen *s = user;
    pthread_mutex_lock(&s->lock);
    if (s->n < 4096) {
        s->ids[s->n] = b->batch_id;
        s->absorbed[s->n] = b->absorbed_ticks;
    }
    s->n++;
    if (b->scheduling_delay_ms > s->max_delay)
        s->max_delay = b->scheduling_delay_ms;
    if (b->status != SL_OK)
        s->worst = b->status;
    pthread_mutex_unlock(&s->lock);
}

static seen *watch(sl_context *ctx)
{
    static seen s;
    sl_listener l = {SL_LISTENER_VERSION, NULL, NULL, on_completed, NULL};
    memset(&s, 0, sizeof s);
    pthread_mutex_init(&s.lock, NULL);
    SL_CHECK_OK(sl_context_add_listener(ctx, &l, &s));
    return &s;
}

/* Ids increase; every gap is exactly the ticks the batch says it absorbed. */
static int64_t check_ids(const seen *s)
{
    int64_t absorbed = 0;
    size_t i;
    for (i = 0; i < s->n && i < 4096; i++) {
        SL_CHECK_INT(s->ids[i], (i ? s->ids[i - 1] : 0) + 1 + s->absorbed[i]);
        absorbed += s->absorbed[i];
    }
    return absorbed;
}

/* Work of no length, for slow_output (outlives every context). */
static long g_no_work = 0;

static sl_status slow_output(sl_rdd *rdd, int64_t time_ms, void *user)
{
    int64_t n;
    (void)time_ms;
    sleep_ms(*(const long *)user);
    return sl_rdd_count(rdd, &n);
}

/* Resident memory of this process in KiB (0 if unknown). */
static long rss_kb(void)
{
    char line[256];
    long kb = 0;
    FILE *f = fopen("/proc/self/status", "r");
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "VmRSS:", 6) == 0)
            kb = strtol(line + 6, NULL, 10);
    if (f)
        fclose(f);
    return kb;
}

/* 10 ms batches that take 40 ms: the queue stays bounded, so the
 * scheduling delay does (without the bound it grows by ~30 ms a batch,
 * past 1.5 s in 2 s); most ticks are absorbed, and a graceful stop has at
 * most the queued batches left to run. SL_BACKLOG_SECONDS (default 2) sets
 * the run's length; the 30 s run (ctest label slow) also checks that
 * resident memory stays flat. */
static void test_delay_bounded(void)
{
    static long work = 40;
    const char *secs = getenv("SL_BACKLOG_SECONDS");
    long run_ms = secs ? atol(secs) * 1000 : 2000, rss0 = 0, rss1;
    sl_context *ctx = new_ctx("10ms", "0", NULL);
    sl_dstream *g = sl_text_generator_stream(ctx, NULL);
    seen *s = watch(ctx);
    int64_t t0, absorbed;
    SL_CHECK_OK(sl_dstream_foreach_rdd(g, slow_output, &work));
    SL_CHECK_OK(sl_context_start(ctx));
    sleep_ms(1000);
    rss0 = rss_kb();
    sleep_ms(run_ms - 1000);
    rss1 = rss_kb();
    if (secs && rss1 - rss0 > 16 * 1024)
        sl_test_fail(__FILE__, __LINE__, "RSS grew from %ld to %ld KiB", rss0,
                     rss1);
    t0 = now_ms();
    SL_CHECK_OK(sl_context_stop(ctx, true));
    SL_CHECK(now_ms() - t0 < 1000);
    SL_CHECK_INT(s->worst, SL_OK);
    SL_CHECK(s->n >= 10);
    if (s->max_delay > 500)
        sl_test_fail(__FILE__, __LINE__, "scheduling delay reached %lld ms",
                     (long long)s->max_delay);
    absorbed = check_ids(s);
    SL_CHECK(absorbed > (int64_t)s->n);
    sl_context_free(ctx);
}

/* A window sliding every 3 ticks computes on ticks 3, 6, 9...: under
 * overload those ticks are never absorbed into a later batch, so the
 * window's output comes at every slide. */
static atomic_long g_window_calls;
static int64_t g_window_times[1024];

static sl_status window_output(sl_rdd *rdd, int64_t time_ms, void *user)
{
    long i = atomic_fetch_add(&g_window_calls, 1);
    int64_t n;
    (void)user;
    if (i < 1024)
        g_window_times[i] = time_ms;
    return sl_rdd_count(rdd, &n);
}

static void test_slide_boundaries_kept(void)
{
    static long work = 45;
    sl_context *ctx = new_ctx("10ms", "0", NULL);
    sl_dstream *g = sl_text_generator_stream(ctx, NULL);
    sl_dstream *w = sl_dstream_window(g, 60, 30);
    seen *s = watch(ctx);
    long calls, i;
    atomic_store(&g_window_calls, 0);
    SL_CHECK_OK(sl_dstream_foreach_rdd(g, slow_output, &work));
    SL_CHECK_OK(sl_dstream_foreach_rdd(w, window_output, NULL));
    SL_CHECK_OK(sl_context_start(ctx));
    sleep_ms(1500);
    SL_CHECK_OK(sl_context_stop(ctx, true));
    SL_CHECK(check_ids(s) > 0);
    calls = atomic_load(&g_window_calls);
    SL_CHECK(calls >= 5);
    for (i = 1; i < calls && i < 1024; i++)
        SL_CHECK_INT(g_window_times[i] - g_window_times[i - 1], 30);
    sl_context_free(ctx);
}

/* max_batches ends the job at batch N exactly, even while ticks are
 * absorbed. */
static void test_max_batches_not_absorbed(void)
{
    static long work = 40;
    sl_context *ctx = new_ctx("10ms", "25", NULL);
    sl_dstream *g = sl_text_generator_stream(ctx, NULL);
    seen *s = watch(ctx);
    SL_CHECK_OK(sl_dstream_foreach_rdd(g, slow_output, &work));
    SL_CHECK_OK(sl_context_start(ctx));
    SL_CHECK_OK(sl_context_await_termination_or_timeout(ctx, 20000));
    SL_CHECK(check_ids(s) > 0);
    SL_CHECK(s->n > 0 && s->n < 25);
    if (s->n > 0)
        SL_CHECK_INT(s->ids[s->n - 1], 25);
    sl_context_free(ctx);
}

/* 10 ms batches taking 300 ms, stop.graceful_timeout 100ms: a graceful stop
 * asked for after wait_ms ends within within_ms (the running batch ends,
 * nothing after it starts), times out and leaves at least min_left
 * batches. (Records: a planned source's batch is counted once planned, so
 * the dropped, never planned batches count as batches.) */
static void stop_past_timeout(const char *max_batches, long wait_ms,
                              int64_t within_ms, int64_t min_left)
{
    static long work = 300;
    sl_context *ctx = new_ctx("10ms", max_batches, "100ms");
    sl_dstream *g = sl_text_generator_stream(ctx, NULL);
    sl_stop_report rep;
    int64_t t0;
    SL_CHECK_OK(sl_dstream_foreach_rdd(g, slow_output, &work));
    SL_CHECK_OK(sl_context_start(ctx));
    sleep_ms(wait_ms);
    t0 = now_ms();
    SL_CHECK_OK(sl_context_stop(ctx, true));
    SL_CHECK(now_ms() - t0 < within_ms);
    SL_CHECK_OK(sl_context_stop_report(ctx, &rep));
    SL_CHECK(rep.timed_out);
    SL_CHECK(rep.unprocessed_batches >= min_left);
    sl_context_free(ctx);
}

/* A graceful stop that cannot finish within stop.graceful_timeout goes on
 * as an immediate one and says what it left (one batch running, the queue
 * full). */
static void test_graceful_timeout(void)
{
    stop_past_timeout("0", 350, 600, 2);
}

/* ------------------------------------------- a reader cut short by a stop */

static atomic_long g_reading, g_commits;

/* Reads "forever" in chunks until the stop interrupts it. */
static sl_status endless_read(sl_task *t, const void *desc, void *user)
{
    sl_value v = sl_int(1);
    (void)desc;
    (void)user;
    atomic_store(&g_reading, 1);
    while (!sl_task_interrupted(t)) {
        sl_status st = sl_task_emit(t, &v);
        if (st != SL_OK)
            return st;
        sleep_ms(1);
    }
    return SL_ESTOPPED;
}

static sl_status endless_plan(void *state, int64_t batch_id, int64_t time_ms,
                              sl_plan *plan)
{
    (void)state;
    (void)batch_id;
    (void)time_ms;
    sl_plan_add_records(plan, 1);
    return sl_plan_add_reader(plan, endless_read, "x", 1, NULL);
}

static void endless_commit(void *state, int64_t batch_id)
{
    (void)state;
    (void)batch_id;
    atomic_fetch_add(&g_commits, 1);
}

static void endless_free(void *state)
{
    (void)state;
}

static const sl_planned_ops endless_ops = {SL_PLANNED_OPS_VERSION,
                                           "endless",
                                           endless_plan,
                                           endless_commit,
                                           endless_free,
                                           NULL,
                                           NULL,
                                           NULL,
                                           NULL,
                                           NULL,
                                           NULL,
                                           NULL};

/* Start an endless reader's stream with output fn, stop gracefully once it
 * reads: the stop is quick, not a failure, leaves the batch unprocessed
 * and never commits it to its source. */
static void stop_while_reading(sl_dstream *(*out)(sl_dstream *),
                               sl_foreach_rdd_fn fn)
{
    sl_context *ctx = new_ctx("50ms", "0", "60s");
    sl_dstream *e = sl_planned_stream(ctx, &endless_ops, NULL);
    sl_stop_report rep;
    int64_t t0;
    atomic_store(&g_reading, 0);
    atomic_store(&g_commits, 0);
    SL_CHECK_OK(sl_dstream_foreach_rdd(out ? out(e) : e, fn, &g_no_work));
    SL_CHECK_OK(sl_context_start(ctx));
    t0 = now_ms();
    while (!atomic_load(&g_reading) && now_ms() - t0 < 10000)
        sleep_ms(5);
    sleep_ms(100);
    t0 = now_ms();
    SL_CHECK_OK(sl_context_stop(ctx, true));
    SL_CHECK(now_ms() - t0 < 1000);
    SL_CHECK_OK(sl_context_stop_report(ctx, &rep));
    SL_CHECK(!rep.timed_out);
    SL_CHECK(rep.unprocessed_batches >= 1);
    SL_CHECK(rep.unprocessed_records >= 1);
    SL_CHECK_INT(atomic_load(&g_commits), 0);
    sl_context_free(ctx);
}

static void test_stop_interrupts_reader(void)
{
    stop_while_reading(sl_dstream_count, slow_output);
}

/* The usual C pattern: a foreach_rdd callback runs the action itself and
 * returns its status. A read cut short by the stop reaches it as
 * SL_ESTOPPED: the batch is interrupted, not failed, and the graceful stop
 * still runs (and returns SL_OK). */
static sl_status count_in_callback(sl_rdd *rdd, int64_t time_ms, void *user)
{
    int64_t n;
    (void)time_ms;
    (void)user;
    return sl_rdd_count(rdd, &n);
}

static void test_stop_interrupts_reader_in_callback(void)
{
    stop_while_reading(NULL, count_in_callback);
}

/* Ticks are absorbed only while the queue is full: a job that keeps up,
 * even at 1 ms with a late loop now and then, gets a batch for every tick. */
static void test_no_absorb_without_backlog(void)
{
    char err[256];
    sl_conf *conf = sl_conf_new();
    sl_context *ctx;
    seen *s;
    size_t i;
    int64_t absorbed = 0;
    SL_CHECK_OK(sl_conf_set(conf, "batch_interval", "1ms", err, sizeof err));
    SL_CHECK_OK(
        sl_conf_set(conf, "max_queued_batches", "1000", err, sizeof err));
    SL_CHECK_OK(sl_conf_set(conf, "log.level", "error", err, sizeof err));
    ctx = sl_context_new(conf, err, sizeof err);
    s = watch(ctx);
    SL_CHECK_OK(sl_dstream_foreach_rdd(sl_queue_stream(ctx, 1), slow_output,
                                       &g_no_work));
    SL_CHECK_OK(sl_context_start(ctx));
    sleep_ms(1000);
    SL_CHECK_OK(sl_context_stop(ctx, true));
    for (i = 0; i < s->n && i < 4096; i++)
        absorbed += s->absorbed[i];
    SL_CHECK_INT(absorbed, 0);
    SL_CHECK(s->n >= 200);
    check_ids(s);
    sl_context_free(ctx);
}

/* A graceful stop asked for after the max_batches tick still has its
 * timeout (batch 1 running, 2 and 3, the last, queued). */
static void test_graceful_timeout_after_last_tick(void)
{
    stop_past_timeout("3", 150, 550, 1);
}

const char *SL_SUITE = "stream_backlog";
const sl_test_case SL_TESTS[] = {
    {"delay_bounded", test_delay_bounded},
    {"slide_boundaries_kept", test_slide_boundaries_kept},
    {"max_batches_not_absorbed", test_max_batches_not_absorbed},
    {"graceful_timeout", test_graceful_timeout},
    {"stop_interrupts_reader", test_stop_interrupts_reader},
    {"stop_interrupts_reader_in_callback",
     test_stop_interrupts_reader_in_callback},
    {"no_absorb_without_backlog", test_no_absorb_without_backlog},
    {"graceful_timeout_after_last_tick", test_graceful_timeout_after_last_tick},
    {NULL, NULL},
};
