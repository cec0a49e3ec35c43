/*
 * Life-cycle edge cases of the streaming context and receivers: freeing a
 * context that stopped by itself, stop and await racing on two threads,
 * stop called from a worker, the line-length limit with CRLF endings, and
 * task partition indices on both inputs of a join.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <sluice/sluice.h>
#include <string.h>

#include "sl_test.h"

static sl_context *manual_ctx(const char *batches)
{
    char err[256];
    sl_conf *conf = sl_conf_new();
    sl_context *ctx;
    SL_CHECK_OK(sl_conf_set(conf, "clock", "manual", err, sizeof err));
    SL_CHECK_OK(sl_conf_set(conf, "max_batches", batches, err, sizeof err));
    SL_CHECK_OK(sl_conf_set(conf, "workers", "2", err, sizeof err));
    SL_CHECK_OK(sl_conf_set(conf, "log.level", "error", err, sizeof err));
    ctx = sl_context_new(conf, err, sizeof err);
    SL_CHECK(ctx != NULL);
    return ctx;
}

static sl_status ignore_rdd(sl_rdd *rdd, int64_t time_ms, void *user)
{
    int64_t n;
    (void)time_ms;
    (void)user;
    return sl_rdd_count(rdd, &n);
}

/* The context ends by itself after max_batches; free must still join its
 * threads (under ASan a missing join shows as a use after free). */
static void test_free_after_self_stop(void)
{
    int round;
    for (round = 0; round < 40; round++) {
        sl_context *ctx = manual_ctx("2");
        sl_dstream *q = sl_queue_stream(ctx, 2);
        SL_CHECK_OK(sl_dstream_foreach_rdd(q, ignore_rdd, NULL));
        SL_CHECK_OK(sl_context_start(ctx));
        if (round % 2)
            sl_context_await_termination_or_timeout(ctx, 1);
        sl_context_free(ctx);
    }
}

static void *await_thread(void *arg)
{
    static sl_status st;
    st = sl_context_await_termination(arg);
    return &st;
}

/* await on one thread while another stops: both return, threads joined
 * once. */
static void test_stop_while_awaiting(void)
{
    int round;
    for (round = 0; round < 20; round++) {
        sl_context *ctx = manual_ctx("0");
        sl_dstream *q = sl_queue_stream(ctx, 1);
        pthread_t th;
        void *res;
        SL_CHECK_OK(sl_dstream_foreach_rdd(q, ignore_rdd, NULL));
        SL_CHECK_OK(sl_context_start(ctx));
        SL_CHECK(pthread_create(&th, NULL, await_thread, ctx) == 0);
        SL_CHECK_OK(sl_context_stop(ctx, round % 2 == 0));
        pthread_join(th, &res);
        SL_CHECK_INT(*(sl_status *)res, SL_OK);
        sl_context_free(ctx);
    }
}

static atomic_int g_stop_result = 1;

/* A user function on a worker asks for stop the wrong way, then the right
 * way. */
static sl_status stop_from_worker(sl_task *t, const sl_value *in, sl_value *out,
                                  void *user)
{
    sl_context *ctx = user;
    (void)t;
    atomic_store(&g_stop_result, (int)sl_context_stop(ctx, false));
    sl_context_request_stop(ctx, true);
    *out = *in;
    return SL_OK;
}

static void test_stop_from_worker_refused(void)
{
    sl_context *ctx = manual_ctx("0");
    sl_dstream *q = sl_queue_stream(ctx, 1);
    sl_value v = sl_int(7);
    SL_CHECK_OK(sl_queue_stream_push(q, &v, 1));
    SL_CHECK_OK(sl_dstream_foreach_rdd(sl_dstream_map(q, stop_from_worker, ctx),
                                       ignore_rdd, NULL));
    SL_CHECK_OK(sl_context_start(ctx));
    SL_CHECK_INT(sl_context_await_termination_or_timeout(ctx, 20000), SL_OK);
    SL_CHECK_INT(atomic_load(&g_stop_result), SL_ESTATE);
    sl_context_free(ctx);
}

/* ------------------------------------------------ CRLF and the limit */

/* A receiver fed from a string: in reads of at most `chunk` bytes (0: one
 * read), ending with the peer's close unless `live`. */
typedef struct feed {
    const char *data;
    size_t chunk;
    bool live;
} feed;

static sl_status feed_start(void *state, sl_receiver *r)
{
    const feed *f = state;
    size_t len = strlen(f->data), done = 0;
    while (done < len) {
        size_t want = len - done;
        char *buf;
        if (f->chunk && want > f->chunk)
            want = f->chunk;
        if (!(buf = sl_receiver_buffer(r, &want)))
            return SL_ENOMEM;
        memcpy(buf, f->data + done, want);
        sl_receiver_commit(r, want);
        done += want;
    }
    if (!f->live)
        sl_receiver_end_of_stream(r);
    return SL_OK;
}

static void feed_noop(void *state)
{
    (void)state;
}

static const sl_receiver_ops feed_ops = {
    SL_RECEIVER_OPS_VERSION,
    "feed",
    feed_start,
    feed_noop,
    feed_noop,
    feed_noop,
    feed_noop,
};

static char g_lines[4096];

static sl_status collect_lines(sl_rdd *rdd, int64_t time_ms, void *user)
{
    const sl_value *v;
    size_t n, i, len;
    sl_status st = sl_rdd_collect(rdd, &v, &n);
    (void)time_ms;
    (void)user;
    for (i = 0; st == SL_OK && i < n; i++) {
        len = strlen(g_lines);
        snprintf(g_lines + len, sizeof g_lines - len, "[%.*s]", (int)v[i].len,
                 v[i].u.s);
    }
    return st;
}

/* Run one manual batch of a feed with max_line_bytes 10; the lines the
 * batch saw are in g_lines. */
static sl_context *run_feed(feed *f, sl_dstream **out)
{
    char err[256];
    sl_conf *conf = sl_conf_new();
    sl_context *ctx;
    sl_dstream *s;
    SL_CHECK_OK(sl_conf_set(conf, "clock", "manual", err, sizeof err));
    SL_CHECK_OK(sl_conf_set(conf, "max_batches", "1", err, sizeof err));
    SL_CHECK_OK(
        sl_conf_set(conf, "receiver.max_line_bytes", "10", err, sizeof err));
    SL_CHECK_OK(sl_conf_set(conf, "log.level", "error", err, sizeof err));
    ctx = sl_context_new(conf, err, sizeof err);
    s = sl_receiver_stream(ctx, &feed_ops, f);
    g_lines[0] = '\0';
    SL_CHECK_OK(sl_dstream_foreach_rdd(s, collect_lines, NULL));
    SL_CHECK_OK(sl_context_start(ctx));
    SL_CHECK_OK(sl_context_await_termination(ctx));
    *out = s;
    return ctx;
}

/* max_line_bytes counts what a reader sees: a CRLF line of exactly the
 * limit is kept, one byte more is dropped, with either line ending; also
 * when "\r" and "\n" arrive in different reads (any read size). */
static void test_crlf_line_limit(void)
{
    feed f = {"0123456789\r\n0123456789X\r\nok\n0123456789\nabcdefghijk\n", 0,
              false};
    sl_receiver_stats stats;
    sl_dstream *s;
    sl_context *ctx;
    size_t chunk;
    for (chunk = 0; chunk <= 12; chunk++) {
        f.chunk = chunk;
        ctx = run_feed(&f, &s);
        SL_CHECK_STR(g_lines, "[0123456789][ok][0123456789]");
        SL_CHECK_OK(sl_receiver_stream_stats(s, &stats));
        SL_CHECK_INT(stats.lines_too_long, 2);
        sl_context_free(ctx);
    }
}

/* At the stop, a connection still open has sent half a line: it is not a
 * record (only the peer's close makes a tail a line), it is counted. */
static void test_live_tail_dropped_at_stop(void)
{
    feed f = {"a\nb\n{\"id\":3", 0, true}; /* within max_line_bytes */
    sl_receiver_stats stats;
    sl_stop_report rep;
    sl_dstream *s;
    sl_context *ctx = run_feed(&f, &s);
    SL_CHECK_STR(g_lines, "[a][b]");
    SL_CHECK_OK(sl_receiver_stream_stats(s, &stats));
    SL_CHECK_INT(stats.partial_lines, 1);
    SL_CHECK_OK(sl_context_stop_report(ctx, &rep));
    SL_CHECK_INT(rep.partial_lines, 1);
    SL_CHECK_INT(rep.unprocessed_records, 0);
    sl_context_free(ctx);
    /* The peer's close keeps Spark's rule: the tail is the last line. */
    f.live = false;
    ctx = run_feed(&f, &s);
    SL_CHECK_STR(g_lines, "[a][b][{\"id\":3]");
    SL_CHECK_OK(sl_receiver_stream_stats(s, &stats));
    SL_CHECK_INT(stats.partial_lines, 0);
    sl_context_free(ctx);
}

/* ---------------------------------------- partitions of a join's inputs */

static sl_status key_partition(sl_task *t, const sl_value *in, sl_value *out,
                               void *user)
{
    sl_value p = sl_int((int64_t)sl_task_partition(t));
    (void)user;
    return sl_task_pair(t, in, &p, out);
}

static void test_join_partition_index(void)
{
    char err[256], buf[256];
    sl_conf *conf = sl_conf_new();
    sl_engine *eng;
    sl_value keys[2] = {sl_int(0), sl_int(1)};
    const sl_value *out;
    size_t n, i, len = 0;
    sl_rdd *a, *b;
    SL_CHECK_OK(sl_conf_set(conf, "workers", "2", err, sizeof err));
    eng = sl_engine_new(conf, err, sizeof err);
    a = sl_rdd_map(sl_rdd_parallelize(eng, keys, 2, 2), key_partition, NULL);
    b = sl_rdd_map(sl_rdd_parallelize(eng, keys, 2, 2), key_partition, NULL);
    SL_CHECK_OK(sl_rdd_collect(
        sl_rdd_sort_by_key(sl_rdd_join(a, b, 2), true, 1), &out, &n));
    for (i = 0; i < n; i++)
        len += sl_value_format(&out[i], buf + len, sizeof buf - len);
    SL_CHECK_STR(buf, "(0,(0,0))(1,(1,1))");
    sl_engine_free(eng);
}

/* ------------------------------------- state records outlive the commit */

static sl_status running_sum(sl_task *t, const sl_value *key,
                             const sl_value *values, const sl_value *state,
                             sl_value *new_state, bool *remove, void *user)
{
    int64_t sum = state ? state->u.i : 0;
    uint32_t i;
    (void)t;
    (void)key;
    (void)remove;
    (void)user;
    for (i = 0; i < values->len; i++)
        sum += values->u.items[i].u.i;
    *new_state = sl_int(sum);
    return SL_OK;
}

/* Idle keys keep their state: the records of a remembered state batch must
 * not point into store versions freed by later commits (ASan checks). */
static void test_state_batches_remembered(void)
{
    sl_context *ctx = manual_ctx("4");
    sl_dstream *q = sl_queue_stream(ctx, 2), *st;
    sl_value words[2] = {sl_cstr("alpha-long-key"), sl_cstr("beta-long-key")};
    const sl_value *out;
    sl_rdd *rdd;
    size_t n, i;
    char buf[512];
    size_t len = 0;
    SL_CHECK_OK(sl_queue_stream_push(q, words, 2));
    SL_CHECK_OK(sl_queue_stream_push(q, words, 1));
    st = sl_dstream_update_state_by_key(sl_dstream_map(q, sl_fn_pair_one, NULL),
                                        running_sum, NULL, NULL, 0);
    SL_CHECK_OK(sl_context_remember(ctx, 60000));
    SL_CHECK_OK(sl_dstream_foreach_rdd(st, ignore_rdd, NULL));
    SL_CHECK_OK(sl_context_start(ctx));
    SL_CHECK_OK(sl_context_await_termination(ctx));
    SL_CHECK_OK(sl_dstream_slice(st, 1000, 1000, &rdd));
    SL_CHECK_OK(sl_rdd_collect(sl_rdd_sort_by_key(rdd, true, 1), &out, &n));
    for (i = 0; i < n; i++)
        len += sl_value_format(&out[i], buf + len, sizeof buf - len);
    SL_CHECK_STR(buf, "(alpha-long-key,1)(beta-long-key,1)");
    len = 0;
    SL_CHECK_OK(sl_dstream_slice(st, 4000, 4000, &rdd));
    SL_CHECK_OK(sl_rdd_collect(sl_rdd_sort_by_key(rdd, true, 1), &out, &n));
    for (i = 0; i < n; i++)
        len += sl_value_format(&out[i], buf + len, sizeof buf - len);
    SL_CHECK_STR(buf, "(alpha-long-key,2)(beta-long-key,1)");
    sl_context_free(ctx);
}

const char *SL_SUITE = "stream/lifecycle";
const sl_test_case SL_TESTS[] = {
    {"free_after_self_stop", test_free_after_self_stop},
    {"stop_while_awaiting", test_stop_while_awaiting},
    {"stop_from_worker_refused", test_stop_from_worker_refused},
    {"crlf_line_limit", test_crlf_line_limit},
    {"live_tail_dropped_at_stop", test_live_tail_dropped_at_stop},
    {"join_partition_index", test_join_partition_index},
    {"state_batches_remembered", test_state_batches_remembered},
    {NULL, NULL},
};
