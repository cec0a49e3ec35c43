/*
 * The I/O loop's batch timer when libevent cannot arm it: the job fails
 * with a message instead of living on without ever making a batch. The
 * failure is injected through libevent's own allocation hooks: the first
 * timer added to an event base reserves the timer heap, a realloc from
 * NULL of 8 pointers (libevent 2.1's min_heap_reserve_), and only that
 * request fails, only while armed.
 */
#include <event2/event.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sluice/sluice.h>

#include "sl_test.h"

static atomic_bool fail_heap; /* fail the next timer-heap reservation */
static atomic_int failed;     /* reservations failed */

static void *ev_malloc(size_t n)
{
    return malloc(n);
}

static void *ev_realloc(void *p, size_t n)
{
    if (!p && n == 8 * sizeof(void *) && atomic_exchange(&fail_heap, false)) {
        atomic_fetch_add(&failed, 1);
        return NULL;
    }
    return realloc(p, n);
}

static void ev_free(void *p)
{
    free(p);
}

/* libevent takes its hooks only before its first allocation: every case
 * installs them first (once), before it makes a context. */
static void install_hooks(void)
{
    static bool done;
    if (!done)
        event_set_mem_functions(ev_malloc, ev_realloc, ev_free);
    done = true;
}

static sl_status ignore_rdd(sl_rdd *rdd, int64_t time_ms, void *user)
{
    (void)rdd;
    (void)time_ms;
    (void)user;
    return SL_OK;
}

static void test_tick_timer_refused(void)
{
    char err[256];
    sl_conf *conf = sl_conf_new();
    sl_context *ctx;
    sl_dstream *q;

    install_hooks();
    SL_CHECK_OK(sl_conf_set(conf, "clock", "manual", err, sizeof err));
    SL_CHECK_OK(sl_conf_set(conf, "max_batches", "3", err, sizeof err));
    SL_CHECK_OK(sl_conf_set(conf, "log.level", "error", err, sizeof err));
    ctx = sl_context_new(conf, err, sizeof err);
    SL_CHECK(ctx != NULL);
    if (!ctx)
        return;
    q = sl_queue_stream(ctx, 1);
    SL_CHECK_OK(sl_dstream_foreach_rdd(q, ignore_rdd, NULL));
    atomic_store(&fail_heap, true);
    SL_CHECK_OK(sl_context_start(ctx));
    /* Before the fix: no batch ever, and no end (a timeout here). */
    SL_CHECK_INT(sl_context_await_termination_or_timeout(ctx, 5000), SL_ENOMEM);
    SL_CHECK_INT(atomic_load(&failed), 1);
    SL_CHECK(strstr(sl_context_errmsg(ctx), "cannot arm the batch timer") !=
             NULL);
    sl_context_stop(ctx, false);
    sl_context_free(ctx);
}

/* Without a failure the same job ends by itself (the hooks are sound). */
static void test_tick_timer_ok(void)
{
    char err[256];
    sl_conf *conf = sl_conf_new();
    sl_context *ctx;
    sl_dstream *q;

    install_hooks();
    SL_CHECK_OK(sl_conf_set(conf, "clock", "manual", err, sizeof err));
    SL_CHECK_OK(sl_conf_set(conf, "max_batches", "3", err, sizeof err));
    ctx = sl_context_new(conf, err, sizeof err);
    SL_CHECK(ctx != NULL);
    if (!ctx)
        return;
    q = sl_queue_stream(ctx, 1);
    SL_CHECK_OK(sl_dstream_foreach_rdd(q, ignore_rdd, NULL));
    SL_CHECK_OK(sl_context_start(ctx));
    SL_CHECK_OK(sl_context_await_termination_or_timeout(ctx, 5000));
    sl_context_free(ctx);
}

const char *SL_SUITE = "stream/io_timer";
const sl_test_case SL_TESTS[] = {
    {"tick_timer_ok", test_tick_timer_ok},
    {"tick_timer_refused", test_tick_timer_refused},
    {NULL, NULL},
};
