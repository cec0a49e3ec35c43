/*
 * Window retention: a window keeps exactly the parent batches it still
 * covers (as retained copies), nothing of them is lost while covered, and
 * every one is freed once it slides out; the inverse form keeps one slide
 * more. Under ASan a retained copy freed too early shows as a use after
 * free, one never freed as a leak when the context is freed mid-window.
 */
#include <sluice/sluice.h>
#include <stdio.h>
#include <string.h>

#include "sl_test.h"
#include "stream/stream_int.h"

#define RECORDS_PER_BATCH 200
#define DATA_BATCHES 6

typedef struct probe {
    sl_dstream *window;  /* whose ring is measured */
    int64_t interval_ms; /* the parent's slide */
    int64_t length_ms, slide_ms;
    bool inverse;
    size_t calls;
    size_t max_batches_kept;
    bool failed;
    char why[256];
} probe;

static sl_context *manual_ctx(const char *batches)
{
    char err[256];
    sl_conf *conf = sl_conf_new();
    sl_context *ctx;
    SL_CHECK_OK(sl_conf_set(conf, "clock", "manual", err, sizeof err));
    SL_CHECK_OK(sl_conf_set(conf, "batch_interval", "1s", err, sizeof err));
    SL_CHECK_OK(sl_conf_set(conf, "max_batches", batches, err, sizeof err));
    SL_CHECK_OK(sl_conf_set(conf, "workers", "2", err, sizeof err));
    SL_CHECK_OK(sl_conf_set(conf, "log.level", "error", err, sizeof err));
    ctx = sl_context_new(conf, err, sizeof err);
    SL_CHECK(ctx != NULL);
    return ctx;
}

/* Batch b (1-based) holds RECORDS_PER_BATCH copies of the string "b<b>". */
static void push_batches(sl_dstream *q)
{
    static char names[DATA_BATCHES][8];
    sl_value vals[RECORDS_PER_BATCH];
    int b, i;
    for (b = 0; b < DATA_BATCHES; b++) {
        snprintf(names[b], sizeof names[b], "b%d", b + 1);
        for (i = 0; i < RECORDS_PER_BATCH; i++)
            vals[i] = sl_cstr(names[b]);
        SL_CHECK_OK(sl_queue_stream_push(q, vals, RECORDS_PER_BATCH));
    }
}

static sl_status count_rdd(sl_rdd *rdd, int64_t time_ms, void *user)
{
    int64_t n;
    (void)time_ms;
    (void)user;
    return sl_rdd_count(rdd, &n);
}

static void fail(probe *p, const char *fmt, long long a, long long b,
                 long long c)
{
    if (p->failed)
        return;
    p->failed = true;
    snprintf(p->why, sizeof p->why, fmt, a, b, c);
}

/*
 * Data batches the window at time t covers: parent batches with times in
 * (t - length, t] among 1..DATA_BATCHES.
 */
static int covered_data(const probe *p, int64_t t, int64_t *lo, int64_t *hi)
{
    int64_t first = (t - p->length_ms) / p->interval_ms + 1;
    int64_t last = t / p->interval_ms;
    if (first < 1)
        first = 1;
    if (last > DATA_BATCHES)
        last = DATA_BATCHES;
    *lo = first;
    *hi = last;
    return last >= first ? (int)(last - first + 1) : 0;
}

/* On the window stream, each window: content and what the ring keeps. */
static sl_status check_window(sl_rdd *rdd, int64_t t, void *user)
{
    probe *p = user;
    const sl_value *recs;
    size_t n, i, kept, bytes, limit;
    int64_t lo, hi;
    int counts[DATA_BATCHES + 1] = {0};
    int ncov;
    sl_status st = sl_rdd_collect(rdd, &recs, &n);
    if (st != SL_OK)
        return st;
    p->calls++;
    ncov = covered_data(p, t, &lo, &hi);
    if (p->inverse)
        n = (size_t)ncov * RECORDS_PER_BATCH; /* reduced: not the records */
    /* Nothing freed while covered: every covered batch is all there. */
    if (n != (size_t)ncov * RECORDS_PER_BATCH)
        fail(p, "window at %lld ms: %lld records, expected %lld", t,
             (long long)n, (long long)ncov * RECORDS_PER_BATCH);
    for (i = 0; !p->inverse && i < n; i++) {
        int b = 0;
        if (recs[i].kind == SL_KIND_STR && recs[i].len >= 2)
            b = recs[i].u.s[1] - '0';
        if (b < lo || b > hi)
            fail(p, "window at %lld ms holds batch %lld (covers %lld..)", t, b,
                 lo);
        else
            counts[b]++;
    }
    for (i = (size_t)lo; !p->inverse && ncov && i <= (size_t)hi; i++)
        if (counts[i] != RECORDS_PER_BATCH)
            fail(p, "window at %lld ms: batch %lld has %lld records", t,
                 (long long)i, counts[i]);

    /* Freed once out: the ring holds at most the covered batches (plus,
     * for the inverse form, those leaving at the next slide). */
    sl__window_retained(p->window, &kept, &bytes);
    limit = (size_t)((p->length_ms + (p->inverse ? p->slide_ms : 0)) /
                     p->interval_ms);
    if (kept > limit)
        fail(p, "at %lld ms the window keeps %lld batches, at most %lld", t,
             (long long)kept, (long long)limit);
    if (kept > p->max_batches_kept)
        p->max_batches_kept = kept;
    /* Once every data batch slid out, their bytes are gone. */
    if (!p->inverse && t - p->length_ms >= DATA_BATCHES * p->interval_ms &&
        bytes >= 4096)
        fail(p, "at %lld ms the window still keeps %lld bytes (%lld)", t,
             (long long)bytes, 0);
    if (p->inverse &&
        t - p->length_ms - p->slide_ms >= DATA_BATCHES * p->interval_ms &&
        bytes >= 4096)
        fail(p, "at %lld ms the window still keeps %lld bytes (%lld)", t,
             (long long)bytes, 0);
    return SL_OK;
}

static void run_plain(int64_t length_ms, int64_t slide_ms, const char *batches)
{
    sl_context *ctx = manual_ctx(batches);
    sl_dstream *q = sl_queue_stream(ctx, 2);
    probe p;
    memset(&p, 0, sizeof p);
    p.interval_ms = 1000;
    p.length_ms = length_ms;
    p.slide_ms = slide_ms;
    p.window = sl_dstream_window(q, length_ms, slide_ms);
    SL_CHECK(p.window != NULL);
    SL_CHECK_OK(sl_dstream_foreach_rdd(p.window, check_window, &p));
    push_batches(q);
    SL_CHECK_OK(sl_context_start(ctx));
    SL_CHECK_OK(sl_context_await_termination(ctx));
    SL_CHECK_STR(p.why, "");
    SL_CHECK(p.calls > 0);
    /* The ring did fill up to the whole window. */
    SL_CHECK_INT(p.max_batches_kept, length_ms / 1000);
    sl_context_free(ctx);
}

/* Window of 3 batches sliding by 1: at most 3 kept, all freed after. */
static void test_plain_window(void)
{
    run_plain(3000, 1000, "12");
}

/* Window of 4 sliding by 2, and a non-overlapping 2 sliding by 3. */
static void test_wider_slides(void)
{
    run_plain(4000, 2000, "14");
    run_plain(2000, 3000, "12");
}

/* Spark's countByWindow path: the inverse form keeps one slide more. */
static void test_inverse_window(void)
{
    sl_context *ctx = manual_ctx("14");
    sl_dstream *q = sl_queue_stream(ctx, 2);
    sl_dstream *pairs = sl_dstream_map(q, sl_fn_pair_one, NULL);
    sl_dstream *w = sl_dstream_reduce_by_key_and_window(
        pairs, sl_fn_sum, sl_fn_sum, NULL, NULL, 3000, 1000, 0);
    size_t kept, bytes;
    probe p;
    memset(&p, 0, sizeof p);
    SL_CHECK(w != NULL);
    /* The ring of the inverse form holds the reduced parent batches; its
     * limit is checked from an output of the windowed stream. */
    p.interval_ms = 1000;
    p.length_ms = 3000;
    p.slide_ms = 1000;
    p.inverse = true;
    p.window = w;
    SL_CHECK_OK(sl_dstream_foreach_rdd(w, check_window, &p));
    push_batches(q);
    SL_CHECK_OK(sl_context_start(ctx));
    SL_CHECK_OK(sl_context_await_termination(ctx));
    SL_CHECK_STR(p.why, "");
    SL_CHECK_INT(p.max_batches_kept, 4);
    sl__window_retained(w, &kept, &bytes);
    SL_CHECK(kept <= 4);
    SL_CHECK(bytes < 4096); /* every data batch slid out long ago */
    sl_context_free(ctx);
}

/* Freed mid-window: ASan's leak check sees any retained copy left. */
static void test_free_while_covered(void)
{
    sl_context *ctx = manual_ctx("3");
    sl_dstream *q = sl_queue_stream(ctx, 2);
    sl_dstream *w = sl_dstream_window(q, 5000, 1000);
    size_t kept, bytes;
    SL_CHECK_OK(sl_dstream_foreach_rdd(w, count_rdd, NULL));
    push_batches(q);
    SL_CHECK_OK(sl_context_start(ctx));
    SL_CHECK_OK(sl_context_await_termination(ctx));
    sl__window_retained(w, &kept, &bytes);
    SL_CHECK_INT(kept, 3);
    SL_CHECK(bytes >= 3 * RECORDS_PER_BATCH * 2); /* the strings at least */
    sl_context_free(ctx);
}

/* A window whose length or slide is wrong says which, with the values. */
static const struct {
    int64_t length_ms, slide_ms;
    const char *want;
} BAD_WINDOWS[] = {
    {0, 1000,
     "SL_EINVAL: window length 0 ms must be positive (the parent stream's "
     "slide is 1000 ms)"},
    {-2000, 0,
     "SL_EINVAL: window length -2000 ms must be positive (the parent "
     "stream's slide is 1000 ms)"},
    {2500, 1000,
     "SL_EINVAL: window length 2500 ms must be a multiple of the parent "
     "stream's slide (the parent stream's slide is 1000 ms)"},
    {3000, -1000,
     "SL_EINVAL: window slide -1000 ms must be positive (the parent "
     "stream's slide is 1000 ms; a slide of 0 takes it)"},
    {3000, 1500,
     "SL_EINVAL: window slide 1500 ms must be a multiple of the parent "
     "stream's slide (the parent stream's slide is 1000 ms; a slide of 0 "
     "takes it)"},
};

static sl_status sum_ints(sl_task *t, const sl_value *a, const sl_value *b,
                          sl_value *out, void *user)
{
    (void)t;
    (void)user;
    *out = sl_int(a->u.i + b->u.i);
    return SL_OK;
}

static void test_bad_durations(void)
{
    sl_context *ctx = manual_ctx("1");
    sl_dstream *q;
    size_t i;
    if (!ctx)
        return;
    q = sl_queue_stream(ctx, 1);
    for (i = 0; i < sizeof BAD_WINDOWS / sizeof BAD_WINDOWS[0]; i++) {
        int64_t len = BAD_WINDOWS[i].length_ms, slide = BAD_WINDOWS[i].slide_ms;
        SL_CHECK(sl_dstream_window(q, len, slide) == NULL);
        SL_CHECK_STR(sl_context_errmsg(ctx), BAD_WINDOWS[i].want);
        SL_CHECK(sl_dstream_reduce_by_key_and_window(
                     q, sum_ints, NULL, NULL, NULL, len, slide, 0) == NULL);
        SL_CHECK_STR(sl_context_errmsg(ctx), BAD_WINDOWS[i].want);
    }
    /* The good ones build. */
    SL_CHECK(sl_dstream_window(q, 3000, 0) != NULL);
    SL_CHECK(sl_dstream_window(q, 1000, 2000) != NULL);
    sl_context_free(ctx);
}

const char *SL_SUITE = "stream/window_retention";
const sl_test_case SL_TESTS[] = {
    {"plain_window", test_plain_window},
    {"wider_slides", test_wider_slides},
    {"inverse_window", test_inverse_window},
    {"free_while_covered", test_free_while_covered},
    {"bad_durations", test_bad_durations},
    {NULL, NULL}};
