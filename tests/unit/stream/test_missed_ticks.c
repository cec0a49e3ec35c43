/*
 * Ticks missed while a checkpointed job was down (src/stream/io.c,
 * hold_missed_ticks): on the system clock a restarted job goes on with one
 * batch that absorbs them, taking the last missed tick's id, but never
 * absorbs a slide boundary or passes max_batches. 100 ms batches.
 */
#include <pthread.h>
#include <sluice/sluice.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sl_test.h"
#include "sl_test_util.h"

#define MAXN 256

/* What one run saw: batch ids and absorbed ticks, window output times. */
typedef struct seen {
    pthread_mutex_t lock;
    int64_t ids[MAXN], absorbed[MAXN], win_times[MAXN];
    size_t n, nwin;
} seen;

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void on_completed(const sl_batch_info *b, void *user)
{
    seen *s = user;
    pthread_mutex_lock(&s->lock);
    if (s->n < MAXN && b->status == SL_OK) {
        s->ids[s->n] = b->batch_id;
        s->absorbed[s->n++] = b->absorbed_ticks;
    }
    pthread_mutex_unlock(&s->lock);
}

static sl_status count_output(sl_rdd *rdd, int64_t time_ms, void *user)
{
    int64_t n;
    (void)time_ms;
    (void)user;
    return sl_rdd_count(rdd, &n);
}

static sl_status window_output(sl_rdd *rdd, int64_t time_ms, void *user)
{
    seen *s = user;
    int64_t n;
    pthread_mutex_lock(&s->lock);
    if (s->nwin < MAXN)
        s->win_times[s->nwin++] = time_ms;
    pthread_mutex_unlock(&s->lock);
    return sl_rdd_count(rdd, &n);
}

/* A generator job on the system clock over the checkpoint ck, not started;
 * with_window adds a 600 ms window sliding every 300 ms (3 ticks). */
static sl_context *build(const char *ck, const char *max_batches,
                         bool with_window, seen *s)
{
    char err[256];
    sl_conf *conf = sl_conf_new();
    sl_context *ctx;
    sl_dstream *g, *w;
    sl_listener l;
    SL_CHECK_OK(sl_conf_set(conf, "batch_interval", "100ms", err, sizeof err));
    SL_CHECK_OK(sl_conf_set(conf, "max_batches", max_batches, err, sizeof err));
    SL_CHECK_OK(sl_conf_set(conf, "workers", "2", err, sizeof err));
    SL_CHECK_OK(sl_conf_set(conf, "log.level", "error", err, sizeof err));
    SL_CHECK_OK(sl_conf_set(conf, "checkpoint.path", ck, err, sizeof err));
    ctx = sl_context_new(conf, err, sizeof err);
    if (!ctx) {
        sl_test_fail(__FILE__, __LINE__, "sl_context_new: %s", err);
        abort();
    }
    g = sl_text_generator_stream(ctx, NULL);
    SL_CHECK_OK(sl_dstream_set_name(g, "words"));
    SL_CHECK_OK(sl_dstream_foreach_rdd(g, count_output, NULL));
    if (with_window) {
        w = sl_dstream_window(g, 600, 300);
        SL_CHECK_OK(sl_dstream_set_name(w, "recent"));
        SL_CHECK_OK(sl_dstream_foreach_rdd(w, window_output, s));
    }
    memset(s, 0, sizeof *s);
    pthread_mutex_init(&s->lock, NULL);
    memset(&l, 0, sizeof l);
    l.version = SL_LISTENER_VERSION;
    l.on_batch_completed = on_completed;
    SL_CHECK_OK(sl_context_add_listener(ctx, &l, s));
    return ctx;
}

static size_t seen_count(seen *s)
{
    size_t n;
    pthread_mutex_lock(&s->lock);
    n = s->n;
    pthread_mutex_unlock(&s->lock);
    return n;
}

/* Run until `batches` batches completed (at most 10 s), stop gracefully;
 * returns the last batch id. */
static int64_t run_some(const char *ck, const char *max_batches,
                        bool with_window, size_t batches, seen *s)
{
    sl_context *ctx = build(ck, max_batches, with_window, s);
    int waited;
    SL_CHECK_OK(sl_context_start(ctx));
    for (waited = 0; waited < 10000 && seen_count(s) < batches; waited += 10)
        sleep_ms(10);
    SL_CHECK_OK(sl_context_stop(ctx, true));
    sl_context_free(ctx);
    SL_CHECK(s->n >= batches);
    return s->n ? s->ids[s->n - 1] : 0;
}

/* Ids go on from `last` and every gap is what the batch says it absorbed. */
static int64_t check_ids(const seen *s, int64_t last)
{
    int64_t absorbed = 0;
    size_t i;
    for (i = 0; i < s->n; i++) {
        SL_CHECK_INT(s->ids[i],
                     (i ? s->ids[i - 1] : last) + 1 + s->absorbed[i]);
        absorbed += s->absorbed[i];
    }
    return absorbed;
}

static char *new_dir(void)
{
    char tmpl[] = "/tmp/sl-missed-XXXXXX";
    char *d = mkdtemp(tmpl), *ck;
    if (!d)
        abort();
    ck = malloc(strlen(d) + 4);
    sprintf(ck, "%s/ck", d);
    return ck;
}

static void drop_dir(char *ck)
{
    ck[strlen(ck) - 3] = '\0';
    sl_test_remove_tree(ck);
    free(ck);
}

/* Down for 800 ms (8 ticks): the first batch after the restart absorbs
 * the missed ticks (before, each got a catch-up batch of its own). */
static void test_one_batch_absorbs(void)
{
    char *ck = new_dir();
    seen s;
    int64_t last = run_some(ck, "0", false, 3, &s);
    SL_CHECK(last >= 3);
    sleep_ms(800);
    run_some(ck, "0", false, 2, &s);
    check_ids(&s, last);
    SL_CHECK(s.absorbed[0] >= 5);
    SL_CHECK(s.ids[0] > last + 5);
    drop_dir(ck);
}

/* A window sliding every 3 ticks: the ticks of its slide boundaries are
 * never absorbed, so its output comes at every slide across the downtime,
 * and the ticks between them are still absorbed. */
static void test_slide_boundary_kept(void)
{
    char *ck = new_dir();
    seen s;
    int64_t last = run_some(ck, "0", true, 4, &s), id, absorbed;
    size_t i;
    sleep_ms(1000);
    run_some(ck, "0", true, 6, &s);
    absorbed = check_ids(&s, last);
    SL_CHECK(absorbed >= 5);
    for (i = 0; i < s.n; i++)
        for (id = s.ids[i] - s.absorbed[i]; id < s.ids[i]; id++)
            SL_CHECK((id * 100) % 300 != 0);
    SL_CHECK(s.nwin >= 2);
    for (i = 1; i < s.nwin; i++)
        SL_CHECK_INT(s.win_times[i] - s.win_times[i - 1], 300);
    drop_dir(ck);
}

/* max_batches 10, stopped near 3 and down past tick 10: the restart runs
 * one batch, id 10, absorbing the ticks between, and ends. */
static void test_max_batches_ends(void)
{
    char *ck = new_dir();
    seen s;
    int64_t last = run_some(ck, "10", false, 2, &s);
    sl_context *ctx;
    SL_CHECK(last < 9);
    sleep_ms(1200);
    ctx = build(ck, "10", false, &s);
    SL_CHECK_OK(sl_context_start(ctx));
    SL_CHECK_OK(sl_context_await_termination_or_timeout(ctx, 10000));
    sl_context_free(ctx);
    SL_CHECK_INT(s.n, 1);
    SL_CHECK_INT(s.ids[0], 10);
    SL_CHECK_INT(s.absorbed[0], 10 - (last + 1));
    drop_dir(ck);
}

const char *SL_SUITE = "missed_ticks";
const sl_test_case SL_TESTS[] = {
    {"one_batch_absorbs", test_one_batch_absorbs},
    {"slide_boundary_kept", test_slide_boundary_kept},
    {"max_batches_ends", test_max_batches_ends},
    {NULL, NULL},
};
