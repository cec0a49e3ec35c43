/*
 * Unit tests of the streaming context (src/stream/context.c, jobs.c, io.c,
 * output.c, dstream.c, compute.c) through include/sluice/stream.h, on the
 * manual clock with queue streams: batch ids and times, listeners, the life
 * cycle (max_batches, await, graceful and immediate stop), graph freezing,
 * print and save_as_text_files output, failures, and every operator.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sluice/sluice.h>

#include "sl_test.h"
#include "sl_test_util.h"
#include "rdd/rdd.h" /* sl__task_fail: a failure with its own status */
#include "stream/stream.h"

/* ------------------------------------------------------------ helpers */

static sl_context *new_ctx(size_t workers, bool manual, const char *interval,
                           int64_t max_batches)
{
    char err[256], tmp[32];
    sl_conf *conf = sl_conf_new();
    sl_context *ctx;
    if (!conf)
        return NULL;
    snprintf(tmp, sizeof tmp, "%zu", workers);
    SL_CHECK_OK(sl_conf_set(conf, "workers", tmp, err, sizeof err));
    SL_CHECK_OK(sl_conf_set(conf, "clock", manual ? "manual" : "system", err,
                            sizeof err));
    SL_CHECK_OK(sl_conf_set(conf, "batch_interval", interval, err, sizeof err));
    snprintf(tmp, sizeof tmp, "%lld", (long long)max_batches);
    SL_CHECK_OK(sl_conf_set(conf, "max_batches", tmp, err, sizeof err));
    /* Failures the tests provoke are logged at error level; keep stderr
     * for them only. */
    SL_CHECK_OK(sl_conf_set(conf, "log.level", "error", err, sizeof err));
    ctx = sl_context_new(conf, err, sizeof err);
    if (!ctx) {
        fprintf(stderr, "sl_context_new: %s\n", err);
        sl_conf_free(conf);
    }
    return ctx;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int64_t ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Space-separated tokens of one line, sorted (tokens hold no spaces). */
static void sorted_tokens(const char *line, size_t len, sl_test_buf *out)
{
    char *copy = strndup(line, len), *save = NULL, *tok;
    char **toks = malloc((len + 1) * sizeof *toks);
    size_t n = 0, i;
    if (!copy || !toks)
        abort();
    for (tok = strtok_r(copy, " ", &save); tok;
         tok = strtok_r(NULL, " ", &save))
        toks[n++] = tok;
    qsort(toks, n, sizeof *toks, sl_test_cmp_str);
    for (i = 0; i < n; i++) {
        if (i)
            sl_test_buf_put(out, " ", 1);
        sl_test_buf_puts(out, toks[i]);
    }
    free(toks);
    free(copy);
}

/*
 * Normal form of per-batch output "T: tok tok...\n...": each line's tokens
 * sorted, so an expectation can list a batch's records in any order.
 */
static char *normalize(const char *text)
{
    sl_test_buf out = {0};
    const char *p = text;
    while (*p) {
        const char *nl = strchr(p, '\n'), *colon;
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        colon = memchr(p, ':', len);
        if (colon) {
            sl_test_buf_put(&out, p, (size_t)(colon - p) + 1);
            sorted_tokens(colon + 1, len - (size_t)(colon + 1 - p), &out);
        } else {
            sl_test_buf_put(&out, p, len);
        }
        sl_test_buf_put(&out, "\n", 1);
        p += len + (nl ? 1 : 0);
    }
    return sl_test_buf_take(&out);
}

static void push_ints(sl_dstream *q, int64_t lo, int64_t hi)
{
    sl_value v[256];
    size_t n = 0;
    int64_t i;
    for (i = lo; i < hi && n < 256; i++)
        v[n++] = sl_int(i);
    SL_CHECK_OK(sl_queue_stream_push(q, v, n));
}

static void push_strs(sl_dstream *q, const char *const *s)
{
    sl_value v[64];
    size_t n = 0;
    while (s[n] && n < 64) {
        v[n] = sl_cstr(s[n]);
        n++;
    }
    SL_CHECK_OK(sl_queue_stream_push(q, v, n));
}

static bool is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* ------------------------------------------------------ user functions */

static sl_status fn_twice(sl_task *t, const sl_value *in, void *u)
{
    sl_status st = sl_task_emit(t, in);
    (void)u;
    return st != SL_OK ? st : sl_task_emit(t, in);
}

static bool fn_all(const sl_value *in, void *u)
{
    (void)in;
    (void)u;
    return true;
}

static bool fn_not_a(const sl_value *in, void *u)
{
    (void)u;
    return !(in->len == 1 && in->u.s[0] == 'a');
}

static sl_status fn_v_and_next(sl_task *t, const sl_value *in, void *u)
{
    sl_value n = sl_int(in->u.i + 1);
    sl_status st = sl_task_emit(t, in);
    (void)u;
    return st != SL_OK ? st : sl_task_emit(t, &n);
}

static sl_status fn_max(sl_task *t, const sl_value *a, const sl_value *b,
                        sl_value *out, void *u)
{
    (void)t;
    (void)u;
    *out = sl_value_compare(a, b) >= 0 ? *a : *b;
    return SL_OK;
}

static sl_status tf_count_by_value(sl_rdd *in, int64_t time_ms, sl_rdd **out,
                                   void *u)
{
    (void)time_ms;
    (void)u;
    *out = sl_rdd_count_by_value(in, 1);
    return *out ? SL_OK : SL_ENOMEM;
}

static sl_status tf2_join(sl_rdd *a, sl_rdd *b, int64_t time_ms, sl_rdd **out,
                          void *u)
{
    (void)time_ms;
    (void)u;
    *out = sl_rdd_join(a, b, 0);
    return *out ? SL_OK : SL_ENOMEM;
}

static sl_status tfn_union(sl_rdd *const *in, size_t n, int64_t time_ms,
                           sl_rdd **out, void *u)
{
    (void)time_ms;
    (void)u;
    *out = sl_rdd_union_all(in, n);
    return *out ? SL_OK : SL_ENOMEM;
}

/* foreach_rdd that appends "T: rec rec ...\n" (records as JSON, sorted). */
static sl_status fe_record(sl_rdd *rdd, int64_t time_ms, void *user)
{
    sl_test_buf *b = user;
    const sl_value *v;
    size_t n;
    char *recs;
    sl_status st = sl_rdd_collect(rdd, &v, &n);
    if (st != SL_OK)
        return st;
    recs = sl_test_json_join(v, n, " ", true);
    sl_test_buf_printf(b, "%lld:%s%s\n", (long long)time_ms, n ? " " : "",
                       recs);
    free(recs);
    return SL_OK;
}

/* --------------------------------------------------- batches, listener */

typedef struct lrec {
    int64_t ids[64], times[64], records[64];
    sl_status status[64];
    size_t nstarted, ncompleted, nsubmitted;
    int64_t started_ids[64], started_times[64];
    bool order_ok; /* start/end/processing fields consistent */
} lrec;

static void on_submitted(const sl_batch_info *b, void *user)
{
    lrec *r = user;
    (void)b;
    r->nsubmitted++;
}

static void on_started(const sl_batch_info *b, void *user)
{
    lrec *r = user;
    if (r->nstarted < 64) {
        r->started_ids[r->nstarted] = b->batch_id;
        r->started_times[r->nstarted] = b->batch_time_ms;
    }
    if (b->start_ms <= 0 || b->end_ms != 0)
        r->order_ok = false;
    r->nstarted++;
}

static void on_completed(const sl_batch_info *b, void *user)
{
    lrec *r = user;
    if (r->ncompleted < 64) {
        r->ids[r->ncompleted] = b->batch_id;
        r->times[r->ncompleted] = b->batch_time_ms;
        r->records[r->ncompleted] = b->num_records;
        r->status[r->ncompleted] = b->status;
    }
    if (b->end_ms < b->start_ms ||
        b->processing_ms != b->end_ms - b->start_ms ||
        b->total_delay_ms < b->processing_ms || b->scheduling_delay_ms < 0)
        r->order_ok = false;
    r->ncompleted++;
}

static const sl_listener LISTENER = {SL_LISTENER_VERSION, on_submitted,
                                     on_started, on_completed, NULL};

static atomic_long g_fe_calls;

static sl_status fe_count_calls(sl_rdd *rdd, int64_t time_ms, void *user)
{
    int64_t n;
    (void)time_ms;
    (void)user;
    atomic_fetch_add(&g_fe_calls, 1);
    return sl_rdd_count(rdd, &n);
}

/* Batch n has id n and time n x interval on the manual clock; listeners see
 * every batch in order with the number of records pushed for it. */
static void test_batch_ids_and_listener(void)
{
    static const size_t sizes[] = {3, 0, 7, 1, 4};
    size_t i;
    lrec rec;
    sl_context *ctx = new_ctx(2, true, "1s", 5);
    sl_dstream *q;
    SL_CHECK(ctx != NULL);
    if (!ctx)
        return;
    memset(&rec, 0, sizeof rec);
    rec.order_ok = true;
    q = sl_queue_stream(ctx, 2);
    SL_CHECK(q != NULL);
    SL_CHECK(sl_dstream_context(q) == ctx);
    SL_CHECK_INT(sl_context_batch_interval(ctx), 1000);
    SL_CHECK(sl_context_engine(ctx) != NULL);
    for (i = 0; i < 5; i++)
        push_ints(q, 0, (int64_t)sizes[i]);
    /* A sixth batch is never run: max_batches is 5. */
    push_ints(q, 0, 9);
    SL_CHECK_OK(sl_context_add_listener(ctx, &LISTENER, &rec));
    atomic_store(&g_fe_calls, 0);
    SL_CHECK_OK(sl_dstream_foreach_rdd(q, fe_count_calls, NULL));
    SL_CHECK_OK(sl_context_start(ctx));
    SL_CHECK_OK(sl_context_await_termination(ctx));
    /* Waiting again on a stopped context is fine. */
    SL_CHECK_OK(sl_context_await_termination(ctx));
    SL_CHECK_OK(sl_context_await_termination_or_timeout(ctx, 0));
    SL_CHECK_INT(rec.nsubmitted, 5);
    SL_CHECK_INT(rec.nstarted, 5);
    SL_CHECK_INT(rec.ncompleted, 5);
    SL_CHECK_INT(atomic_load(&g_fe_calls), 5);
    SL_CHECK(rec.order_ok);
    for (i = 0; i < 5 && i < rec.ncompleted; i++) {
        SL_CHECK_INT(rec.started_ids[i], i + 1);
        SL_CHECK_INT(rec.started_times[i], (int64_t)(i + 1) * 1000);
        SL_CHECK_INT(rec.ids[i], i + 1);
        SL_CHECK_INT(rec.times[i], (int64_t)(i + 1) * 1000);
        SL_CHECK_INT(rec.records[i], sizes[i]);
        SL_CHECK_INT(rec.status[i], SL_OK);
    }
    SL_CHECK_INT(sl_context_unprocessed_records(ctx), 0);
    /* stop after the end returns the (clean) outcome again. */
    SL_CHECK_OK(sl_context_stop(ctx, true));
    sl_context_free(ctx);
}

/* An exhausted queue gives empty batches until max_batches. */
static void test_max_batches_empty_queue(void)
{
    lrec rec;
    sl_context *ctx = new_ctx(1, true, "250ms", 4);
    sl_dstream *q;
    size_t i;
    SL_CHECK(ctx != NULL);
    if (!ctx)
        return;
    memset(&rec, 0, sizeof rec);
    rec.order_ok = true;
    q = sl_queue_stream(ctx, 3);
    push_ints(q, 0, 2);
    SL_CHECK_OK(sl_context_add_listener(ctx, &LISTENER, &rec));
    SL_CHECK_OK(
        sl_dstream_foreach_rdd(sl_dstream_count(q), fe_count_calls, NULL));
    SL_CHECK_OK(sl_context_start(ctx));
    SL_CHECK_OK(sl_context_await_termination(ctx));
    SL_CHECK_INT(rec.ncompleted, 4);
    for (i = 0; i < 4 && i < rec.ncompleted; i++) {
        SL_CHECK_INT(rec.times[i], (int64_t)(i + 1) * 250);
        SL_CHECK_INT(rec.records[i], i == 0 ? 2 : 0);
    }
    sl_context_free(ctx);
}

/* ----------------------------------------------------------- life cycle */

static void test_await_timeout(void)
{
    sl_context *ctx = new_ctx(1, false, "100ms", 0);
    sl_dstream *q;
    int64_t t0, dt;
    SL_CHECK(ctx != NULL);
    if (!ctx)
        return;
    q = sl_queue_stream(ctx, 1);
    SL_CHECK_OK(sl_dstream_foreach_rdd(q, fe_count_calls, NULL));
    SL_CHECK_INT(sl_context_await_termination(ctx), SL_ESTATE);
    SL_CHECK_INT(sl_context_await_termination_or_timeout(ctx, 10), SL_ESTATE);
    SL_CHECK_OK(sl_context_start(ctx));
    t0 = now_ms();
    SL_CHECK_INT(sl_context_await_termination_or_timeout(ctx, 300),
                 SL_ETIMEDOUT);
    dt = now_ms() - t0;
    SL_CHECK(dt >= 290);
    SL_CHECK(dt < 5000);
    SL_CHECK_INT(sl_context_await_termination_or_timeout(ctx, 0), SL_ETIMEDOUT);
    SL_CHECK_INT(sl_context_await_termination_or_timeout(ctx, -1), SL_EINVAL);
    SL_CHECK_OK(sl_context_stop(ctx, false));
    SL_CHECK_OK(sl_context_await_termination_or_timeout(ctx, 10));
    SL_CHECK_OK(sl_context_await_termination(ctx));
    sl_context_free(ctx);
}

/* As a source's reader whose read timed out fails its task. */
static sl_status fn_timed_out(sl_task *t, const sl_value *in, sl_value *out,
                              void *u)
{
    (void)in;
    (void)out;
    (void)u;
    return sl__task_fail(t, SL_ETIMEDOUT, "read made no progress");
}

/* A context that failed with SL_ETIMEDOUT: the timed wait cannot tell it
 * from one still running; sl_context_terminated can. */
static void test_terminated_after_timeout_failure(void)
{
    sl_context *ctx = new_ctx(1, true, "100ms", 0);
    sl_dstream *q;
    sl_value one;
    int i;
    SL_CHECK(ctx != NULL);
    if (!ctx)
        return;
    SL_CHECK(!sl_context_terminated(ctx));
    q = sl_queue_stream(ctx, 1);
    one = sl_int(1);
    SL_CHECK_OK(sl_queue_stream_push(q, &one, 1));
    /* a sink, as the Kafka source's readers met it: its write keeps the
     * task's status (foreach_rdd would make it SL_EUSER) */
    SL_CHECK_OK(sl_dstream_print(sl_dstream_map(q, fn_timed_out, NULL), 0));
    SL_CHECK_OK(sl_context_start(ctx));
    for (i = 0; i < 1000 && !sl_context_terminated(ctx); i++)
        sleep_ms(10);
    SL_CHECK(sl_context_terminated(ctx));
    SL_CHECK_INT(sl_context_await_termination_or_timeout(ctx, 0), SL_ETIMEDOUT);
    SL_CHECK_INT(sl_context_await_termination(ctx), SL_ETIMEDOUT);
    SL_CHECK(!sl_context_terminated(NULL));
    sl_context_free(ctx);
}

static sl_status fn_never(sl_task *t, const sl_value *in, sl_value *out,
                          void *u)
{
    (void)t;
    (void)u;
    *out = *in;
    return SL_OK;
}

/* The graph is frozen at start. */
static void test_no_changes_after_start(void)
{
    sl_context *ctx = new_ctx(1, false, "1s", 0);
    sl_listener l = LISTENER;
    lrec rec;
    sl_dstream *q, *other;
    SL_CHECK(ctx != NULL);
    if (!ctx)
        return;
    memset(&rec, 0, sizeof rec);
    q = sl_queue_stream(ctx, 1);
    other = sl_queue_stream(ctx, 1);
    SL_CHECK_OK(sl_dstream_foreach_rdd(q, fe_count_calls, NULL));
    SL_CHECK_OK(sl_context_start(ctx));
    SL_CHECK(sl_dstream_map(q, fn_never, NULL) == NULL);
    SL_CHECK(strstr(sl_context_errmsg(ctx), "SL_ESTATE") != NULL);
    SL_CHECK(strstr(sl_context_errmsg(ctx), "after start") != NULL);
    SL_CHECK(sl_dstream_filter(q, fn_not_a, NULL) == NULL);
    SL_CHECK(sl_dstream_count(q) == NULL);
    SL_CHECK(sl_dstream_union(q, other) == NULL);
    SL_CHECK(sl_dstream_join(q, other, 0) == NULL);
    SL_CHECK(sl_dstream_repartition(q, 2) == NULL);
    SL_CHECK(sl_queue_stream(ctx, 1) == NULL);
    SL_CHECK_INT(sl_dstream_print(q, 0), SL_ESTATE);
    SL_CHECK_INT(sl_dstream_foreach_rdd(q, fe_count_calls, NULL), SL_ESTATE);
    SL_CHECK_INT(sl_dstream_save_as_text_files(q, "/tmp/sl_never", NULL),
                 SL_ESTATE);
    SL_CHECK_INT(sl_context_add_listener(ctx, &l, &rec), SL_ESTATE);
    SL_CHECK_INT(sl_context_remember(ctx, 1000), SL_ESTATE);
    SL_CHECK_INT(sl_context_start(ctx), SL_ESTATE);
    SL_CHECK(strstr(sl_context_errmsg(ctx), "already started") != NULL);
    SL_CHECK_OK(sl_context_stop(ctx, false));
    /* Stopped is not new either. */
    SL_CHECK(sl_dstream_map(q, fn_never, NULL) == NULL);
    SL_CHECK_INT(sl_context_start(ctx), SL_ESTATE);
    sl_context_free(ctx);
}

static void test_start_without_outputs(void)
{
    sl_context *ctx = new_ctx(1, true, "1s", 1);
    sl_dstream *q;
    SL_CHECK(ctx != NULL);
    if (!ctx)
        return;
    q = sl_queue_stream(ctx, 1);
    SL_CHECK(sl_dstream_map(q, sl_test_fn_identity, NULL) != NULL);
    SL_CHECK_INT(sl_context_start(ctx), SL_ESTATE);
    SL_CHECK(strstr(sl_context_errmsg(ctx), "no output operations") != NULL);
    /* The context is still new: add an output and run it. */
    SL_CHECK_OK(sl_dstream_foreach_rdd(q, fe_count_calls, NULL));
    SL_CHECK_OK(sl_context_start(ctx));
    SL_CHECK_OK(sl_context_await_termination(ctx));
    sl_context_free(ctx);
    /* A context stopped before it started cannot start. */
    ctx = new_ctx(1, true, "1s", 1);
    if (!ctx)
        return;
    q = sl_queue_stream(ctx, 1);
    SL_CHECK_OK(sl_dstream_foreach_rdd(q, fe_count_calls, NULL));
    SL_CHECK_OK(sl_context_stop(ctx, false));
    SL_CHECK_INT(sl_context_start(ctx), SL_ESTATE);
    sl_context_free(ctx);
    /* A context never started frees cleanly. */
    ctx = new_ctx(1, true, "1s", 1);
    q = sl_queue_stream(ctx, 1);
    push_ints(q, 0, 3);
    sl_context_free(ctx);
    sl_context_free(NULL);
}

static void test_null_propagation(void)
{
    sl_context *ctx = new_ctx(1, true, "1s", 1);
    sl_dstream *q, *ins[2];
    sl_rdd *r;
    SL_CHECK(ctx != NULL);
    if (!ctx)
        return;
    q = sl_queue_stream(ctx, 1);
    SL_CHECK(sl_dstream_map(NULL, sl_test_fn_identity, NULL) == NULL);
    SL_CHECK(sl_dstream_flat_map(NULL, fn_twice, NULL) == NULL);
    SL_CHECK(sl_dstream_filter(NULL, fn_not_a, NULL) == NULL);
    SL_CHECK(sl_dstream_map_partitions(NULL, sl_test_fn_part_count, NULL) ==
             NULL);
    SL_CHECK(sl_dstream_glom(NULL) == NULL);
    SL_CHECK(sl_dstream_map_values(NULL, sl_test_fn_times10, NULL) == NULL);
    SL_CHECK(sl_dstream_flat_map_values(NULL, fn_v_and_next, NULL) == NULL);
    SL_CHECK(sl_dstream_reduce_by_key(NULL, sl_fn_sum, NULL, 0) == NULL);
    SL_CHECK(sl_dstream_group_by_key(NULL, 0) == NULL);
    SL_CHECK(sl_dstream_combine_by_key(
                 NULL, sl_fn_pair_one, sl_test_fn_sum_count_add,
                 sl_test_fn_sum_count_merge, NULL, 0) == NULL);
    SL_CHECK(sl_dstream_count(NULL) == NULL);
    SL_CHECK(sl_dstream_count_by_value(NULL, 0) == NULL);
    SL_CHECK(sl_dstream_reduce(NULL, sl_fn_sum, NULL) == NULL);
    SL_CHECK(sl_dstream_union(NULL, q) == NULL);
    SL_CHECK(sl_dstream_union(q, NULL) == NULL);
    SL_CHECK(sl_dstream_transform(NULL, tf_count_by_value, NULL) == NULL);
    SL_CHECK(sl_dstream_transform_with(q, NULL, tf2_join, NULL) == NULL);
    SL_CHECK(sl_dstream_repartition(NULL, 2) == NULL);
    SL_CHECK(sl_dstream_join(NULL, q, 0) == NULL);
    SL_CHECK(sl_dstream_left_outer_join(q, NULL, 0) == NULL);
    SL_CHECK(sl_dstream_right_outer_join(NULL, NULL, 0) == NULL);
    SL_CHECK(sl_dstream_full_outer_join(NULL, q, 0) == NULL);
    SL_CHECK(sl_dstream_cogroup(q, NULL, 0) == NULL);
    SL_CHECK(sl_dstream_persist(NULL) == NULL);
    SL_CHECK(sl_dstream_context(NULL) == NULL);
    ins[0] = q;
    ins[1] = NULL;
    SL_CHECK(sl_context_union(ctx, ins, 2) == NULL);
    SL_CHECK(sl_context_union(NULL, ins, 1) == NULL);
    SL_CHECK(sl_context_transform(ctx, ins, 2, tfn_union, NULL) == NULL);
    /* A chain is checked once at its end. */
    SL_CHECK(sl_dstream_count(sl_dstream_filter(
                 sl_dstream_map(NULL, sl_test_fn_identity, NULL), fn_not_a,
                 NULL)) == NULL);
    /* NULL functions fail with a message; repartition needs partitions. */
    SL_CHECK(sl_dstream_map(q, NULL, NULL) == NULL);
    SL_CHECK(strstr(sl_context_errmsg(ctx), "NULL") != NULL);
    SL_CHECK(sl_dstream_reduce_by_key(q, NULL, NULL, 0) == NULL);
    SL_CHECK(sl_dstream_repartition(q, 0) == NULL);
    SL_CHECK(sl_dstream_transform(q, NULL, NULL) == NULL);
    /* Outputs on NULL streams. */
    SL_CHECK_INT(sl_dstream_print(NULL, 0), SL_EINVAL);
    SL_CHECK_INT(sl_dstream_foreach_rdd(NULL, fe_count_calls, NULL), SL_EINVAL);
    SL_CHECK_INT(sl_dstream_foreach_rdd(q, NULL, NULL), SL_EINVAL);
    SL_CHECK_INT(sl_dstream_save_as_text_files(NULL, "/tmp/x", NULL),
                 SL_EINVAL);
    SL_CHECK_INT(sl_dstream_save_as_text_files(q, "", NULL), SL_EINVAL);
    SL_CHECK_INT(sl_dstream_save_as_text_files(q, NULL, NULL), SL_EINVAL);
    SL_CHECK_INT(sl_queue_stream_push(NULL, NULL, 0), SL_EINVAL);
    SL_CHECK_INT(sl_queue_stream_push_none(NULL), SL_EINVAL);
    SL_CHECK(sl_queue_stream(NULL, 1) == NULL);
    SL_CHECK(sl_queue_stream(ctx, 0) == NULL);
    /* Pushing to a stream that is not a queue. */
    SL_CHECK_INT(sl_queue_stream_push(sl_dstream_count(q), NULL, 0), SL_EINVAL);
    /* slice before start */
    SL_CHECK_INT(sl_dstream_slice(q, 0, 1000, &r), SL_ESTATE);
    SL_CHECK_INT(sl_context_start(NULL), SL_EINVAL);
    SL_CHECK_INT(sl_context_stop(NULL, true), SL_EINVAL);
    SL_CHECK_INT(sl_context_await_termination(NULL), SL_EINVAL);
    sl_context_free(ctx);
}

/* Streams of two contexts do not mix. */
static void test_two_contexts(void)
{
    sl_context *a = new_ctx(1, true, "1s", 1), *b = new_ctx(1, true, "1s", 1);
    sl_dstream *qa, *qb;
    SL_CHECK(a && b);
    if (!a || !b) {
        sl_context_free(a);
        sl_context_free(b);
        return;
    }
    qa = sl_queue_stream(a, 1);
    qb = sl_queue_stream(b, 1);
    SL_CHECK(sl_dstream_union(qa, qb) == NULL);
    SL_CHECK(sl_dstream_join(qa, qb, 0) == NULL);
    sl_context_free(a);
    sl_context_free(b);
}

/* ---------------------------------------------------------------- print */

/* Run ctx with stdout redirected to a file; returns what was printed. */
static char *run_capturing_stdout(sl_context *ctx, sl_status *st)
{
    char path[] = "/tmp/sl_test_stdout_XXXXXX";
    int fd = mkstemp(path), saved;
    size_t len;
    char *out;
    if (fd < 0)
        return NULL;
    fflush(stdout);
    saved = dup(STDOUT_FILENO);
    dup2(fd, STDOUT_FILENO);
    *st = sl_context_start(ctx);
    if (*st == SL_OK)
        *st = sl_context_await_termination(ctx);
    fflush(stdout);
    dup2(saved, STDOUT_FILENO);
    close(saved);
    close(fd);
    out = sl_test_read_file(path, &len);
    unlink(path);
    return out;
}

static void test_print_format(void)
{
#define DASHES "-------------------------------------------\n"
    static const char want[] =
        /* batch 1: 12 records, print(0) shows 10, then "..." */
        DASHES "Time: 1000 ms\n" DASHES "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n...\n\n"
        /* print(2) of the mapped stream */
        DASHES "Time: 1000 ms\n" DASHES "1\n2\n...\n\n"
        /* batch 2: pairs, a list and a double, as Spark prints them */
        DASHES "Time: 2000 ms\n" DASHES
               "(a,1.5)\n(b,[1, 2])\nhello world\n\n" DASHES
               "Time: 2000 ms\n" DASHES "(a,1.5)\n(b,[1, 2])\n...\n\n"
        /* batch 3: empty, header and blank line only */
        DASHES "Time: 3000 ms\n" DASHES "\n" DASHES "Time: 3000 ms\n" DASHES
               "\n"
        /* batch 4: no batch at all (Spark's None) prints nothing */
        /* batch 5: exactly 10 records: no "..." */
        DASHES "Time: 5000 ms\n" DASHES
               "0\n1\n2\n3\n4\n5\n6\n7\n8\n9\n\n" DASHES
               "Time: 5000 ms\n" DASHES "0\n1\n...\n\n";
#undef DASHES
    sl_context *ctx = new_ctx(2, true, "1s", 5);
    sl_value lst[2], b2[3];
    sl_dstream *q;
    sl_status st = SL_EIO;
    char *out;
    SL_CHECK(ctx != NULL);
    if (!ctx)
        return;
    q = sl_queue_stream(ctx, 3);
    push_ints(q, 1, 13);
    lst[0] = sl_int(1);
    lst[1] = sl_int(2);
    b2[0] = sl_test_pair(sl_cstr("a"), sl_double(1.5));
    b2[1] = sl_test_pair(sl_cstr("b"), sl_composite(SL_KIND_LIST, lst, 2));
    b2[2] = sl_cstr("hello world");
    SL_CHECK_OK(sl_queue_stream_push(q, b2, 3));
    SL_CHECK_OK(sl_queue_stream_push(q, NULL, 0));
    SL_CHECK_OK(sl_queue_stream_push_none(q));
    push_ints(q, 0, 10);
    SL_CHECK_OK(sl_dstream_print(q, 0));
    SL_CHECK_OK(
        sl_dstream_print(sl_dstream_map(q, sl_test_fn_identity, NULL), 2));
    out = run_capturing_stdout(ctx, &st);
    SL_CHECK_OK(st);
    SL_CHECK(out != NULL);
    if (out)
        SL_CHECK_STR(out, want);
    free(out);
    sl_context_free(ctx);
}

/* ------------------------------------------------- save_as_text_files */

/* Entries of dir whose names start with '.', other than . and .. */
static int count_hidden(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;
    if (!d)
        return -1;
    while ((e = readdir(d)))
        if (e->d_name[0] == '.' && strcmp(e->d_name, ".") != 0 &&
            strcmp(e->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

static void check_part_dir(const char *dir, size_t parts, const char *content)
{
    sl_test_buf all = {0};
    size_t i, len;
    char file[4200], *c;
    SL_CHECK(is_dir(dir));
    for (i = 0; i < parts; i++) {
        snprintf(file, sizeof file, "%s/part-%05zu", dir, i);
        c = sl_test_read_file(file, &len);
        if (!c) {
            sl_test_fail(__FILE__, __LINE__, "missing %s", file);
            continue;
        }
        sl_test_buf_put(&all, c, len);
        free(c);
    }
    snprintf(file, sizeof file, "%s/part-%05zu", dir, parts);
    SL_CHECK(access(file, F_OK) != 0);
    snprintf(file, sizeof file, "%s/_SUCCESS", dir);
    SL_CHECK(access(file, F_OK) == 0);
    SL_CHECK_STR(sl_test_buf_str(&all), content);
    sl_test_buf_free(&all);
}

static void test_save_as_text_files(void)
{
    static const char *const b1[] = {"a", "b", "c", NULL};
    char tmpl[] = "/tmp/sl_test_save_XXXXXX";
    char *dir = mkdtemp(tmpl), prefix[256], plain[256], path[512];
    sl_context *ctx = new_ctx(2, true, "1s", 4);
    sl_dstream *q;
    SL_CHECK(dir != NULL && ctx != NULL);
    if (!dir || !ctx) {
        sl_context_free(ctx);
        return;
    }
    snprintf(prefix, sizeof prefix, "%s/out", dir);
    snprintf(plain, sizeof plain, "%s/plain", dir);
    q = sl_queue_stream(ctx, 2);
    push_strs(q, b1);
    SL_CHECK_OK(sl_queue_stream_push(q, NULL, 0));
    SL_CHECK_OK(sl_queue_stream_push_none(q));
    /* batch 4: the queue is exhausted: an empty batch */
    SL_CHECK_OK(sl_dstream_save_as_text_files(q, prefix, "txt"));
    SL_CHECK_OK(sl_dstream_save_as_text_files(
        sl_dstream_map(q, sl_fn_pair_one, NULL), plain, NULL));
    SL_CHECK_OK(sl_context_start(ctx));
    SL_CHECK_OK(sl_context_await_termination(ctx));
    snprintf(path, sizeof path, "%s-1000.txt", prefix);
    check_part_dir(path, 2, "a\nb\nc\n");
    snprintf(path, sizeof path, "%s-2000.txt", prefix);
    check_part_dir(path, 2, "");
    snprintf(path, sizeof path, "%s-3000.txt", prefix);
    SL_CHECK(!is_dir(path)); /* no batch: no output, as in Spark */
    snprintf(path, sizeof path, "%s-4000.txt", prefix);
    check_part_dir(path, 2, "");
    snprintf(path, sizeof path, "%s-1000", plain);
    check_part_dir(path, 2, "(a,1)\n(b,1)\n(c,1)\n");
    snprintf(path, sizeof path, "%s-2000", plain);
    check_part_dir(path, 2, "");
    snprintf(path, sizeof path, "%s-4000", plain);
    check_part_dir(path, 2, "");
    sl_context_free(ctx);

    /* The same batches run again (a retry, or recovery): each replaces
     * its own folder, whose second partition goes away, and no staging
     * folder is left behind. */
    ctx = new_ctx(1, true, "1s", 2);
    if (ctx) {
        static const char *const b2[] = {"x", NULL};
        q = sl_queue_stream(ctx, 1);
        push_strs(q, b2);
        SL_CHECK_OK(sl_dstream_save_as_text_files(q, prefix, "txt"));
        SL_CHECK_OK(sl_context_start(ctx));
        SL_CHECK_OK(sl_context_await_termination(ctx));
        sl_context_free(ctx);
    }
    snprintf(path, sizeof path, "%s-1000.txt", prefix);
    check_part_dir(path, 1, "x\n");
    snprintf(path, sizeof path, "%s-2000.txt", prefix);
    check_part_dir(path, 1, "");
    SL_CHECK_INT(count_hidden(dir), 0);
    sl_test_remove_tree(dir);
}

/* Names too long for NAME_MAX (with the staging name) or PATH_MAX fail
 * the batch with SL_EINVAL and a message naming the path, rather than
 * writing somewhere else or cutting a path short. */
static void save_too_long(const char *prefix, const char *want)
{
    static const char *const b1[] = {"a", NULL};
    sl_context *ctx = new_ctx(1, true, "1s", 1);
    char start[200];
    sl_dstream *q;

    if (!ctx)
        return;
    sl_context_set_logger(ctx, sl_test_quiet_log, NULL);
    q = sl_queue_stream(ctx, 1);
    push_strs(q, b1);
    SL_CHECK_OK(sl_dstream_save_as_text_files(q, prefix, NULL));
    SL_CHECK_OK(sl_context_start(ctx));
    SL_CHECK_INT(sl_context_await_termination(ctx), SL_EINVAL);
    SL_CHECK(strstr(sl_context_errmsg(ctx), want) != NULL);
    /* The path may be longer than the message: its start is named. */
    snprintf(start, sizeof start, "%s", prefix);
    SL_CHECK(strstr(sl_context_errmsg(ctx), start) != NULL);
    sl_context_free(ctx);
}

static void test_save_as_text_files_too_long(void)
{
    char tmpl[] = "/tmp/sl_test_save_long_XXXXXX";
    char *dir = mkdtemp(tmpl), prefix[5000];
    size_t n;

    SL_CHECK(dir != NULL);
    if (!dir)
        return;
    /* 250 + "-1000" is a legal 255-byte name, but not with the staging
     * name's decoration. */
    n = (size_t)snprintf(prefix, sizeof prefix, "%s/", dir);
    memset(prefix + n, 'n', 250);
    prefix[n + 250] = '\0';
    save_too_long(prefix, "NAME_MAX");
    /* Over PATH_MAX as a whole. */
    n = (size_t)snprintf(prefix, sizeof prefix, "%s/", dir);
    while (n + 101 < 4200) {
        memset(prefix + n, 'p', 100);
        prefix[n + 100] = '/';
        n += 101;
    }
    prefix[n] = '\0';
    save_too_long(prefix, "PATH_MAX");
    SL_CHECK_INT(count_hidden(dir), 0);
    sl_test_remove_tree(dir);
}

/* ------------------------------------------------------------ failures */

static sl_status fe_fail_at_2000(sl_rdd *rdd, int64_t time_ms, void *user)
{
    int64_t n;
    (void)user;
    atomic_fetch_add(&g_fe_calls, 1);
    if (sl_rdd_count(rdd, &n) != SL_OK)
        return SL_EIO;
    return time_ms == 2000 ? SL_ERANGE : SL_OK;
}

static atomic_long g_after_calls;

static sl_status fe_after(sl_rdd *rdd, int64_t time_ms, void *user)
{
    (void)rdd;
    (void)time_ms;
    (void)user;
    atomic_fetch_add(&g_after_calls, 1);
    return SL_OK;
}

static void test_failing_foreach(void)
{
    lrec rec;
    sl_context *ctx = new_ctx(2, true, "1s", 5);
    sl_dstream *q;
    size_t i;
    SL_CHECK(ctx != NULL);
    if (!ctx)
        return;
    sl_context_set_logger(ctx, sl_test_quiet_log, NULL);
    memset(&rec, 0, sizeof rec);
    rec.order_ok = true;
    q = sl_queue_stream(ctx, 2);
    for (i = 0; i < 5; i++)
        push_ints(q, 0, 3);
    atomic_store(&g_fe_calls, 0);
    atomic_store(&g_after_calls, 0);
    SL_CHECK_OK(sl_context_add_listener(ctx, &LISTENER, &rec));
    SL_CHECK_OK(sl_dstream_foreach_rdd(q, fe_fail_at_2000, NULL));
    SL_CHECK_OK(sl_dstream_foreach_rdd(q, fe_after, NULL));
    SL_CHECK_OK(sl_context_start(ctx));
    SL_CHECK_INT(sl_context_await_termination(ctx), SL_EUSER);
    SL_CHECK(strstr(sl_context_errmsg(ctx), "foreach_rdd function failed") !=
             NULL);
    SL_CHECK(strstr(sl_context_errmsg(ctx), "2000 ms") != NULL);
    /* Batch 2 failed: nothing after it ran, not even its second output. */
    SL_CHECK_INT(atomic_load(&g_fe_calls), 2);
    SL_CHECK_INT(atomic_load(&g_after_calls), 1);
    SL_CHECK_INT(rec.ncompleted, 2);
    if (rec.ncompleted >= 2) {
        SL_CHECK_INT(rec.status[0], SL_OK);
        SL_CHECK_INT(rec.status[1], SL_EUSER);
    }
    /* stop and await keep reporting the failure. */
    SL_CHECK_INT(sl_context_stop(ctx, true), SL_EUSER);
    SL_CHECK_INT(sl_context_await_termination_or_timeout(ctx, 10), SL_EUSER);
    sl_context_free(ctx);
}

static sl_status fn_fail_on_5(sl_task *t, const sl_value *in, sl_value *out,
                              void *u)
{
    (void)t;
    (void)u;
    *out = *in;
    return in->u.i == 5 ? SL_EINVAL : SL_OK;
}

/* A failing per-record function fails the batch of the output using it. */
static void test_failing_map(void)
{
    sl_context *ctx = new_ctx(2, true, "1s", 3);
    sl_dstream *q;
    char *out;
    sl_status st = SL_OK;
    SL_CHECK(ctx != NULL);
    if (!ctx)
        return;
    sl_context_set_logger(ctx, sl_test_quiet_log, NULL);
    q = sl_queue_stream(ctx, 2);
    push_ints(q, 0, 3);
    push_ints(q, 0, 8);
    push_ints(q, 0, 3);
    SL_CHECK_OK(sl_dstream_print(sl_dstream_map(q, fn_fail_on_5, NULL), 0));
    out = run_capturing_stdout(ctx, &st);
    SL_CHECK_INT(st, SL_EUSER);
    SL_CHECK(strstr(sl_context_errmsg(ctx), "map function failed") != NULL);
    /* Batch 1 was printed, batch 2 not. */
    SL_CHECK(out && strstr(out, "Time: 1000 ms") != NULL);
    SL_CHECK(out && strstr(out, "Time: 2000 ms") == NULL);
    free(out);
    sl_context_free(ctx);
}

/* A transform that returns no RDD fails the job with SL_EUSER. */
static sl_status tf_null(sl_rdd *in, int64_t time_ms, sl_rdd **out, void *u)
{
    (void)in;
    (void)time_ms;
    (void)u;
    *out = NULL;
    return SL_OK;
}

static void test_transform_null(void)
{
    sl_context *ctx = new_ctx(1, true, "1s", 2);
    sl_dstream *q;
    SL_CHECK(ctx != NULL);
    if (!ctx)
        return;
    sl_context_set_logger(ctx, sl_test_quiet_log, NULL);
    q = sl_queue_stream(ctx, 1);
    SL_CHECK_OK(sl_dstream_foreach_rdd(sl_dstream_transform(q, tf_null, NULL),
                                       fe_count_calls, NULL));
    SL_CHECK_OK(sl_context_start(ctx));
    SL_CHECK_INT(sl_context_await_termination(ctx), SL_EUSER);
    SL_CHECK(strstr(sl_context_errmsg(ctx), "transform") != NULL);
    sl_context_free(ctx);
}

/*
 * An action inside foreach_rdd or transform that fails (sort_by_key of
 * ints) leaves its reason on the engine; the job's message must carry it,
 * not only the status's text ("value of the wrong kind").
 */
static sl_status fe_sort_ints(sl_rdd *rdd, int64_t time_ms, void *user)
{
    const sl_value *v;
    size_t n;
    (void)time_ms;
    (void)user;
    return sl_rdd_collect(sl_rdd_sort_by_key(rdd, true, 0), &v, &n);
}

static sl_status tf_sort_ints(sl_rdd *in, int64_t time_ms, sl_rdd **out,
                              void *u)
{
    sl_status st = fe_sort_ints(in, time_ms, u);
    *out = in;
    return st;
}

/* A callback that lets an action fail and carries on: the next callback's
 * own failure must not be blamed on that earlier action. */
static sl_status fe_sort_ignored(sl_rdd *rdd, int64_t time_ms, void *user)
{
    (void)fe_sort_ints(rdd, time_ms, user);
    return SL_OK;
}

static void run_action_reason(int which, const char *want)
{
    sl_context *ctx = new_ctx(2, true, "1s", 3);
    sl_dstream *q;
    sl_status st;
    SL_CHECK(ctx != NULL);
    if (!ctx)
        return;
    sl_context_set_logger(ctx, sl_test_quiet_log, NULL);
    q = sl_queue_stream(ctx, 2);
    push_ints(q, 0, 4);
    push_ints(q, 0, 4);
    if (which == 0)
        st = sl_dstream_foreach_rdd(q, fe_sort_ints, NULL);
    else if (which == 1)
        st = sl_dstream_foreach_rdd(sl_dstream_transform(q, tf_sort_ints, NULL),
                                    fe_count_calls, NULL);
    else if ((st = sl_dstream_foreach_rdd(q, fe_sort_ignored, NULL)) == SL_OK)
        st = sl_dstream_foreach_rdd(q, fe_fail_at_2000, NULL);
    SL_CHECK_OK(st);
    SL_CHECK_OK(sl_context_start(ctx));
    SL_CHECK_INT(sl_context_await_termination(ctx), SL_EUSER);
    SL_CHECK_STR(sl_context_errmsg(ctx), want);
    sl_context_free(ctx);
}

static void test_action_reason_kept(void)
{
    run_action_reason(0, "SL_EUSER: foreach_rdd function failed at time 1000 "
                         "ms: partition 0: sort_by_key needs (key, value) "
                         "pairs (value of the wrong kind)");
    run_action_reason(1, "SL_EUSER: transform function failed at time 1000 "
                         "ms: partition 0: sort_by_key needs (key, value) "
                         "pairs (value of the wrong kind)");
    run_action_reason(2, "SL_EUSER: foreach_rdd function failed at time 2000 "
                         "ms: value out of range");
}

/* ------------------------------------------------------- stopping */

static atomic_long g_slow_calls;
static atomic_long g_completed_max;

static sl_status fe_slow(sl_rdd *rdd, int64_t time_ms, void *user)
{
    int64_t n;
    (void)time_ms;
    (void)user;
    sleep_ms(100);
    atomic_fetch_add(&g_slow_calls, 1);
    return sl_rdd_count(rdd, &n);
}

typedef struct stop_rec {
    int64_t ids[1024], absorbed[1024];
    size_t n;
    sl_status worst;
} stop_rec;

static void on_stop_completed(const sl_batch_info *b, void *user)
{
    stop_rec *r = user;
    if (r->n < 1024) {
        r->ids[r->n] = b->batch_id;
        r->absorbed[r->n] = b->absorbed_ticks;
    }
    r->n++;
    if (b->status != SL_OK)
        r->worst = b->status;
    atomic_store(&g_completed_max, (long)b->batch_id);
}

/*
 * A system-clock context with a 50 ms interval and an output taking 100 ms
 * builds a backlog of batches, up to max_queued_batches (2); later ticks
 * are absorbed. A graceful stop runs the backlog (and one last batch); an
 * immediate stop finishes at most the running batch.
 */
static void run_stop(bool graceful)
{
    sl_listener l = {SL_LISTENER_VERSION, NULL, NULL, on_stop_completed, NULL};
    static stop_rec rec;
    sl_context *ctx = new_ctx(1, false, "50ms", 0);
    sl_dstream *q;
    long before, after;
    int64_t t0;
    size_t i;
    SL_CHECK(ctx != NULL);
    if (!ctx)
        return;
    memset(&rec, 0, sizeof rec);
    q = sl_queue_stream(ctx, 2);
    for (i = 0; i < 100; i++)
        push_ints(q, 0, 2);
    atomic_store(&g_slow_calls, 0);
    SL_CHECK_OK(sl_context_add_listener(ctx, &l, &rec));
    SL_CHECK_OK(sl_dstream_foreach_rdd(q, fe_slow, NULL));
    SL_CHECK_OK(sl_context_start(ctx));
    t0 = now_ms();
    while (atomic_load(&g_slow_calls) < 4 && now_ms() - t0 < 10000)
        sleep_ms(5);
    /* Let the backlog grow a little more. */
    sleep_ms(100);
    before = atomic_load(&g_slow_calls);
    SL_CHECK_OK(sl_context_stop(ctx, graceful));
    after = atomic_load(&g_slow_calls);
    SL_CHECK_OK(sl_context_await_termination(ctx));
    SL_CHECK_INT(rec.worst, SL_OK);
    /* Completed batches are in order; the only gaps are the ticks a batch
     * says it absorbed. */
    for (i = 0; i < rec.n && i < 1024; i++)
        SL_CHECK_INT(rec.ids[i],
                     (i ? rec.ids[i - 1] : 0) + 1 + rec.absorbed[i]);
    if (graceful) {
        /* at least ~8 batches were made by now, 5 run: the rest ran too. */
        if (after - before < 2)
            sl_test_fail(__FILE__, __LINE__,
                         "graceful stop ran %ld queued batches (before %ld)",
                         after - before, before);
        else
            CU_PASS("graceful stop ran the backlog");
    } else {
        if (after - before > 1)
            sl_test_fail(__FILE__, __LINE__,
                         "immediate stop ran %ld more batches (before %ld)",
                         after - before, before);
        else
            CU_PASS("immediate stop ran no backlog");
    }
    SL_CHECK_INT(rec.n, after);
    SL_CHECK(sl_context_unprocessed_records(ctx) >= 0);
    sl_context_free(ctx);
}

static void test_graceful_stop(void)
{
    run_stop(true);
}

static void test_immediate_stop(void)
{
    run_stop(false);
}

/* A stop requested from a batch callback (request_stop) ends the context;
 * sl_context_stop from the job thread is refused with SL_ESTATE (it would
 * wait for its own thread), even in the very first batch, which on the
 * manual clock may run before sl_context_start has returned. */
static atomic_long g_stop_in_callback;

static sl_status fe_request_stop(sl_rdd *rdd, int64_t time_ms, void *user)
{
    sl_context *ctx = user;
    (void)rdd;
    atomic_fetch_add(&g_fe_calls, 1);
    if (time_ms == atomic_load(&g_stop_in_callback)) {
        if (sl_context_stop(ctx, true) != SL_ESTATE)
            return SL_EIO;
        sl_context_request_stop(ctx, true);
    }
    return SL_OK;
}

/* The child's exit code for a stop asked at *arg ms: 0 when it went well. */
static int request_stop_run(void *arg)
{
    int64_t at_ms = *(const int64_t *)arg;
    sl_context *ctx = new_ctx(1, true, "1s", 0);
    sl_dstream *q;
    int bad = 0;
    if (!ctx)
        return 1;
    q = sl_queue_stream(ctx, 1);
    atomic_store(&g_fe_calls, 0);
    atomic_store(&g_stop_in_callback, at_ms);
    if (sl_dstream_foreach_rdd(q, fe_request_stop, ctx) != SL_OK ||
        sl_context_start(ctx) != SL_OK ||
        sl_context_await_termination(ctx) != SL_OK)
        bad = 2;
    /* A graceful stop asked in batch k: one last batch may follow. */
    else if (atomic_load(&g_fe_calls) < at_ms / 1000 ||
             atomic_load(&g_fe_calls) > at_ms / 1000 + 1)
        bad = 10 + (int)atomic_load(&g_fe_calls);
    sl_context_free(ctx);
    return bad;
}

static void test_request_stop_from_callback(void)
{
    int round;
    for (round = 0; round < 60; round++) {
        int64_t at_ms = round % 2 ? 3000 : 1000;
        int status = 0;
        bool forked =
            sl_test_run_in_child(request_stop_run, &at_ms, 30, &status);
        SL_CHECK(forked);
        if (!forked)
            return;
        if (WIFSIGNALED(status)) {
            sl_test_fail(__FILE__, __LINE__,
                         "round %d (stop at %d ms): killed by signal %d%s",
                         round, round % 2 ? 3000 : 1000, WTERMSIG(status),
                         WTERMSIG(status) == SIGALRM
                             ? " (hung: sl_context_stop waited for itself)"
                             : "");
            return;
        }
        if (WEXITSTATUS(status) != 0)
            sl_test_fail(__FILE__, __LINE__,
                         "round %d (stop at %d ms): exit %d (10 + n: n "
                         "batches ran)",
                         round, round % 2 ? 3000 : 1000, WEXITSTATUS(status));
        else
            CU_PASS("request_stop");
    }
}

/* -------------------------------------------------------- all operators */

enum {
    O_MAP,
    O_FLAT_MAP,
    O_FILTER,
    O_MAP_PARTITIONS,
    O_GLOM,
    O_MAP_VALUES,
    O_FLAT_MAP_VALUES,
    O_REDUCE_BY_KEY,
    O_GROUP_BY_KEY,
    O_COMBINE_BY_KEY,
    O_COUNT,
    O_COUNT_BY_VALUE,
    O_REDUCE,
    O_UNION,
    O_CONTEXT_UNION,
    O_TRANSFORM,
    O_TRANSFORM_WITH,
    O_CONTEXT_TRANSFORM,
    O_REPARTITION,
    O_JOIN,
    O_LEFT_JOIN,
    O_RIGHT_JOIN,
    O_FULL_JOIN,
    O_COGROUP,
    O_SLICE,
    O_N
};

static const char *const OP_NAMES[O_N] = {"map",
                                          "flat_map",
                                          "filter",
                                          "map_partitions",
                                          "glom",
                                          "map_values",
                                          "flat_map_values",
                                          "reduce_by_key",
                                          "group_by_key",
                                          "combine_by_key",
                                          "count",
                                          "count_by_value",
                                          "reduce",
                                          "union",
                                          "context_union",
                                          "transform",
                                          "transform_with",
                                          "context_transform",
                                          "repartition",
                                          "join",
                                          "left_outer_join",
                                          "right_outer_join",
                                          "full_outer_join",
                                          "cogroup",
                                          "slice"};

#define A "\"a\""
#define B "\"b\""
#define C "\"c\""
#define D "\"d\""
static const char *const OP_WANT[O_N] = {
    /* map */
    "1000: [" A ",1] [" B ",1] [" A ",1] [" C ",1]\n"
    "2000: [" B ",1] [" B ",1] [" D ",1]\n",
    /* flat_map */
    "1000: " A " " A " " B " " B " " A " " A " " C " " C "\n"
    "2000: " B " " B " " B " " B " " D " " D "\n",
    /* filter */
    "1000: " B " " C "\n2000: " B " " B " " D "\n",
    /* map_partitions: records per partition of 2 */
    "1000: 2 2\n2000: 1 2\n",
    /* glom */
    "1000: [" A "," B "] [" A "," C "]\n2000: [" B "] [" B "," D "]\n",
    /* map_values */
    "1000: [" A ",10] [" C ",20] [\"e\",30]\n2000: [" B ",100] [\"x\",50]\n",
    /* flat_map_values */
    "1000: [" A ",1] [" A ",2] [" C ",2] [" C ",3] [\"e\",3] [\"e\",4]\n"
    "2000: [" B ",10] [" B ",11] [\"x\",5] [\"x\",6]\n",
    /* reduce_by_key */
    "1000: [" A ",2] [" B ",1] [" C ",1]\n2000: [" B ",2] [" D ",1]\n",
    /* group_by_key */
    "1000: [" A ",[1,1]] [" B ",[1]] [" C ",[1]]\n"
    "2000: [" B ",[1,1]] [" D ",[1]]\n",
    /* combine_by_key: (sum, count) */
    "1000: [" A ",[2,2]] [" B ",[1,1]] [" C ",[1,1]]\n"
    "2000: [" B ",[2,2]] [" D ",[1,1]]\n",
    /* count */
    "1000: 4\n2000: 3\n",
    /* count_by_value */
    "1000: [" A ",2] [" B ",1] [" C ",1]\n2000: [" B ",2] [" D ",1]\n",
    /* reduce: the greatest word */
    "1000: " C "\n2000: " D "\n",
    /* union(q1, filter) */
    "1000: " A " " B " " A " " C " " B " " C "\n"
    "2000: " B " " B " " D " " B " " B " " D "\n",
    /* context union of q1 three times */
    "1000: " A " " B " " A " " C " " A " " B " " A " " C " " A " " B " " A " " C
    "\n"
    "2000: " B " " B " " D " " B " " B " " D " " B " " B " " D "\n",
    /* transform: count_by_value */
    "1000: [" A ",2] [" B ",1] [" C ",1]\n2000: [" B ",2] [" D ",1]\n",
    /* transform_with: join */
    "1000: [" A ",[1,1]] [" A ",[1,1]] [" C ",[1,2]]\n"
    "2000: [" B ",[1,10]] [" B ",[1,10]]\n",
    /* context transform: union */
    "1000: " A " " B " " A " " C " " B " " C "\n"
    "2000: " B " " B " " D " " B " " B " " D "\n",
    /* repartition */
    "1000: " A " " B " " A " " C "\n2000: " B " " B " " D "\n",
    /* join */
    "1000: [" A ",[1,1]] [" A ",[1,1]] [" C ",[1,2]]\n"
    "2000: [" B ",[1,10]] [" B ",[1,10]]\n",
    /* left outer join */
    "1000: [" A ",[1,1]] [" A ",[1,1]] [" B ",[1,null]] [" C ",[1,2]]\n"
    "2000: [" B ",[1,10]] [" B ",[1,10]] [" D ",[1,null]]\n",
    /* right outer join */
    "1000: [" A ",[1,1]] [" A ",[1,1]] [" C ",[1,2]] [\"e\",[null,3]]\n"
    "2000: [" B ",[1,10]] [" B ",[1,10]] [\"x\",[null,5]]\n",
    /* full outer join */
    "1000: [" A ",[1,1]] [" A ",[1,1]] [" B ",[1,null]] [" C ",[1,2]] "
    "[\"e\",[null,3]]\n"
    "2000: [" B ",[1,10]] [" B ",[1,10]] [" D ",[1,null]] "
    "[\"x\",[null,5]]\n",
    /* cogroup */
    "1000: [" A ",[[1,1],[1]]] [" B ",[[1],[]]] [" C ",[[1],[2]]] "
    "[\"e\",[[],[3]]]\n"
    "2000: [" B ",[[1,1],[10]]] [" D ",[[1],[]]] [\"x\",[[],[5]]]\n",
    /* slice of q1 over [0, time - 1000] from foreach_rdd */
    "1000:\n"
    "2000: " A " " B " " A " " C "\n",
};
#undef A
#undef B
#undef C
#undef D

static atomic_long g_map_calls, g_map_calls2;

static sl_status fn_counting(sl_task *t, const sl_value *in, sl_value *out,
                             void *u)
{
    (void)t;
    (void)u;
    atomic_fetch_add(&g_map_calls, 1);
    *out = *in;
    return SL_OK;
}

static sl_status fn_counting2(sl_task *t, const sl_value *in, sl_value *out,
                              void *u)
{
    (void)t;
    (void)u;
    atomic_fetch_add(&g_map_calls2, 1);
    *out = *in;
    return SL_OK;
}

typedef struct slice_arg {
    sl_dstream *s;
    sl_test_buf *out;
} slice_arg;

static sl_status fe_slice(sl_rdd *rdd, int64_t time_ms, void *user)
{
    slice_arg *a = user;
    sl_rdd *r;
    sl_status st;
    (void)rdd;
    st = sl_dstream_slice(a->s, 0, time_ms - 1000, &r);
    if (st != SL_OK)
        return st;
    return fe_record(r, time_ms, a->out);
}

/* Builds every operator over two queue streams, runs two batches with
 * `workers` workers and fills out[] with each output's text. */
static void run_all_operators(size_t workers, sl_test_buf *out,
                              sl_test_buf *after_stop)
{
    static const char *const w1[] = {"a", "b", "a", "c", NULL};
    static const char *const w2[] = {"b", "b", "d", NULL};
    sl_context *ctx = new_ctx(workers, true, "1s", 2);
    sl_dstream *q1, *q2, *p, *f, *ds[O_N], *three[3], *two[2];
    sl_value v1[3], v2[2];
    slice_arg sa;
    size_t i;
    SL_CHECK(ctx != NULL);
    if (!ctx)
        return;
    SL_CHECK_OK(sl_context_remember(ctx, 10000));
    q1 = sl_queue_stream(ctx, 2);
    q2 = sl_queue_stream(ctx, 3);
    push_strs(q1, w1);
    push_strs(q1, w2);
    v1[0] = sl_test_pair(sl_cstr("a"), sl_int(1));
    v1[1] = sl_test_pair(sl_cstr("c"), sl_int(2));
    v1[2] = sl_test_pair(sl_cstr("e"), sl_int(3));
    v2[0] = sl_test_pair(sl_cstr("b"), sl_int(10));
    v2[1] = sl_test_pair(sl_cstr("x"), sl_int(5));
    SL_CHECK_OK(sl_queue_stream_push(q2, v1, 3));
    SL_CHECK_OK(sl_queue_stream_push(q2, v2, 2));
    p = sl_dstream_map(q1, sl_fn_pair_one, NULL);
    f = sl_dstream_filter(q1, fn_not_a, NULL);
    ds[O_MAP] = p;
    ds[O_FLAT_MAP] = sl_dstream_flat_map(q1, fn_twice, NULL);
    ds[O_FILTER] = f;
    ds[O_MAP_PARTITIONS] =
        sl_dstream_map_partitions(q1, sl_test_fn_part_count, NULL);
    ds[O_GLOM] = sl_dstream_glom(q1);
    ds[O_MAP_VALUES] = sl_dstream_map_values(q2, sl_test_fn_times10, NULL);
    ds[O_FLAT_MAP_VALUES] = sl_dstream_flat_map_values(q2, fn_v_and_next, NULL);
    ds[O_REDUCE_BY_KEY] = sl_dstream_reduce_by_key(p, sl_fn_sum, NULL, 0);
    ds[O_GROUP_BY_KEY] = sl_dstream_group_by_key(p, 3);
    ds[O_COMBINE_BY_KEY] =
        sl_dstream_combine_by_key(p, sl_fn_pair_one, sl_test_fn_sum_count_add,
                                  sl_test_fn_sum_count_merge, NULL, 2);
    ds[O_COUNT] = sl_dstream_count(q1);
    ds[O_COUNT_BY_VALUE] = sl_dstream_count_by_value(q1, 0);
    ds[O_REDUCE] = sl_dstream_reduce(q1, fn_max, NULL);
    ds[O_UNION] = sl_dstream_union(q1, f);
    three[0] = three[1] = three[2] = q1;
    ds[O_CONTEXT_UNION] = sl_context_union(ctx, three, 3);
    ds[O_TRANSFORM] = sl_dstream_transform(q1, tf_count_by_value, NULL);
    ds[O_TRANSFORM_WITH] = sl_dstream_transform_with(p, q2, tf2_join, NULL);
    two[0] = q1;
    two[1] = f;
    ds[O_CONTEXT_TRANSFORM] =
        sl_context_transform(ctx, two, 2, tfn_union, NULL);
    ds[O_REPARTITION] = sl_dstream_repartition(q1, 3);
    ds[O_JOIN] = sl_dstream_join(p, q2, 0);
    ds[O_LEFT_JOIN] = sl_dstream_left_outer_join(p, q2, 2);
    ds[O_RIGHT_JOIN] = sl_dstream_right_outer_join(p, q2, 0);
    ds[O_FULL_JOIN] = sl_dstream_full_outer_join(p, q2, 4);
    ds[O_COGROUP] = sl_dstream_cogroup(p, q2, 0);
    ds[O_SLICE] = q1;
    for (i = 0; i < O_N; i++) {
        if (!ds[i]) {
            sl_test_fail(__FILE__, __LINE__, "%s: NULL: %s", OP_NAMES[i],
                         sl_context_errmsg(ctx));
            continue;
        }
        if (i == O_SLICE)
            continue;
        SL_CHECK_OK(sl_dstream_foreach_rdd(ds[i], fe_record, &out[i]));
    }
    sa.s = q1;
    sa.out = &out[O_SLICE];
    SL_CHECK_OK(sl_dstream_foreach_rdd(q1, fe_slice, &sa));
    SL_CHECK_OK(sl_context_start(ctx));
    SL_CHECK_OK(sl_context_await_termination(ctx));
    /* After the stop, slice reads every remembered batch; times are
     * aligned down to the slide, as Spark's floor(slideDuration). */
    {
        sl_rdd *r = NULL;
        SL_CHECK_OK(sl_dstream_slice(q1, 1000, 2000, &r));
        SL_CHECK_OK(fe_record(r, 2000, after_stop));
        SL_CHECK_OK(sl_dstream_slice(q1, 2500, 2999, &r));
        SL_CHECK_OK(fe_record(r, 2000, after_stop));
        SL_CHECK_OK(sl_dstream_slice(q1, 3000, 9000, &r));
        SL_CHECK_OK(fe_record(r, 3000, after_stop));
        SL_CHECK_OK(sl_dstream_slice(ds[O_REDUCE_BY_KEY], 0, 1000, &r));
        SL_CHECK_OK(fe_record(r, 1000, after_stop));
    }
    sl_context_free(ctx);
}

/* persist: two outputs of one persisted stream compute it once per batch;
 * without persist every output computes it again. */
static void test_persist_stream(void)
{
    size_t w;
    for (w = 1; w <= 2; w++) {
        static const char *const w1[] = {"a", "b", "a", "c", NULL};
        static const char *const w2[] = {"b", "b", "d", NULL};
        sl_context *ctx = new_ctx(w, true, "1s", 2);
        sl_dstream *q, *counted;
        SL_CHECK(ctx != NULL);
        if (!ctx)
            return;
        q = sl_queue_stream(ctx, 2);
        push_strs(q, w1);
        push_strs(q, w2);
        counted = sl_dstream_persist(sl_dstream_map(q, fn_counting, NULL));
        SL_CHECK_OK(sl_dstream_foreach_rdd(counted, fe_count_calls, NULL));
        SL_CHECK_OK(sl_dstream_foreach_rdd(counted, fe_count_calls, NULL));
        counted = sl_dstream_map(q, fn_counting2, NULL);
        SL_CHECK_OK(sl_dstream_foreach_rdd(counted, fe_count_calls, NULL));
        SL_CHECK_OK(sl_dstream_foreach_rdd(counted, fe_count_calls, NULL));
        atomic_store(&g_map_calls, 0);
        atomic_store(&g_map_calls2, 0);
        SL_CHECK_OK(sl_context_start(ctx));
        SL_CHECK_OK(sl_context_await_termination(ctx));
        /* 7 records over two batches. */
        SL_CHECK_INT(atomic_load(&g_map_calls), 7);
        SL_CHECK_INT(atomic_load(&g_map_calls2), 14);
        sl_context_free(ctx);
    }
}

/*
 * Spark's DStream.slice called from foreachRDD at time T with toTime = T
 * includes batch T: the job was generated by getOrCompute(T), so T is in
 * generatedRDDs. (Spark: DStream.slice -> getOrCompute for each time.)
 */
static sl_status fe_slice_current(sl_rdd *rdd, int64_t time_ms, void *user)
{
    slice_arg *a = user;
    sl_rdd *r;
    sl_status st;
    (void)rdd;
    st = sl_dstream_slice(a->s, time_ms, time_ms, &r);
    if (st != SL_OK)
        return st;
    return fe_record(r, time_ms, a->out);
}

static void test_slice_includes_current_batch(void)
{
    static const char *const w1[] = {"a", "b", NULL};
    static const char *const w2[] = {"c", NULL};
    static sl_test_buf out;
    sl_context *ctx = new_ctx(1, true, "1s", 2);
    slice_arg sa;
    sl_dstream *q;
    SL_CHECK(ctx != NULL);
    if (!ctx)
        return;
    SL_CHECK_OK(sl_context_remember(ctx, 5000));
    q = sl_queue_stream(ctx, 1);
    push_strs(q, w1);
    push_strs(q, w2);
    sa.s = q;
    sa.out = &out;
    SL_CHECK_OK(sl_dstream_foreach_rdd(q, fe_slice_current, &sa));
    SL_CHECK_OK(sl_context_start(ctx));
    SL_CHECK_OK(sl_context_await_termination(ctx));
    SL_CHECK_STR(sl_test_buf_str(&out), "1000: \"a\" \"b\"\n2000: \"c\"\n");
    sl_test_buf_free(&out);
    sl_context_free(ctx);
}

static void test_all_operators(void)
{
    static sl_test_buf out1[O_N], out2[O_N], after1, after2;
    size_t i;
    run_all_operators(1, out1, &after1);
    run_all_operators(2, out2, &after2);
    for (i = 0; i < O_N; i++) {
        char *want = normalize(OP_WANT[i]);
        char *got1 = normalize(sl_test_buf_str(&out1[i]));
        char *got2 = normalize(sl_test_buf_str(&out2[i]));
        if (strcmp(got1, want) != 0)
            sl_test_fail(__FILE__, __LINE__,
                         "%s (1 worker):\n got: %s\nwant: %s", OP_NAMES[i],
                         got1, want);
        else
            CU_PASS(OP_NAMES[i]);
        if (strcmp(got2, got1) != 0)
            sl_test_fail(__FILE__, __LINE__,
                         "%s (2 workers vs 1):\n got: %s\nwant: %s",
                         OP_NAMES[i], got2, got1);
        else
            CU_PASS(OP_NAMES[i]);
        free(want);
        free(got1);
        free(got2);
        sl_test_buf_free(&out1[i]);
        sl_test_buf_free(&out2[i]);
    }
    {
        char *want =
            normalize("2000: \"a\" \"b\" \"a\" \"c\" \"b\" \"b\" \"d\"\n"
                      "2000: \"b\" \"b\" \"d\"\n"
                      "3000:\n"
                      "1000: [\"a\",2] [\"b\",1] [\"c\",1]\n");
        char *got1 = normalize(sl_test_buf_str(&after1));
        char *got2 = normalize(sl_test_buf_str(&after2));
        SL_CHECK_STR(got1, want);
        SL_CHECK_STR(got2, want);
        free(want);
        free(got1);
        free(got2);
        sl_test_buf_free(&after1);
        sl_test_buf_free(&after2);
    }
}

/* A parent with no batch (Spark's None): narrow operators give none too
 * (outputs skip the time); count, union, transform and joins fail the job
 * with SL_ENOBATCH, as Spark's TransformedDStream and UnionDStream throw
 * (BasicOperationsSuite "union with input stream return None"), unless
 * made to pass the missing batch on (sl__dstream_pass_missing, for SQL
 * streams' transforms: a queue's null entry failed them). */
typedef enum none_case {
    NONE_MAP,
    NONE_COUNT,
    NONE_UNION,
    NONE_JOIN,
    NONE_TRANSFORM,
    NONE_TRANSFORM_PASS
} nc;

static sl_status tf_same(sl_rdd *in, int64_t time_ms, sl_rdd **out, void *u)
{
    (void)time_ms;
    (void)u;
    *out = in;
    return SL_OK;
}

static void run_no_batch(nc which)
{
    sl_context *ctx = new_ctx(1, true, "1s", 2);
    sl_dstream *q, *q2, *s = NULL;
    static sl_test_buf out;
    sl_status st;
    SL_CHECK(ctx != NULL);
    if (!ctx)
        return;
    sl_context_set_logger(ctx, sl_test_quiet_log, NULL);
    q = sl_queue_stream(ctx, 1);
    q2 = sl_queue_stream(ctx, 1);
    SL_CHECK_OK(sl_queue_stream_push_none(q));
    push_ints(q, 0, 2);
    switch (which) {
    case NONE_MAP:
        s = sl_dstream_filter(sl_dstream_map(q, sl_test_fn_identity, NULL),
                              fn_all, NULL);
        break;
    case NONE_COUNT:
        s = sl_dstream_count(q);
        break;
    case NONE_UNION:
        s = sl_dstream_union(q, q2);
        break;
    case NONE_JOIN:
        s = sl_dstream_join(sl_dstream_map(q2, sl_fn_pair_one, NULL),
                            sl_dstream_map(q, sl_fn_pair_one, NULL), 0);
        break;
    case NONE_TRANSFORM:
    case NONE_TRANSFORM_PASS:
        s = sl_dstream_transform(q, tf_same, NULL);
        if (which == NONE_TRANSFORM_PASS)
            sl__dstream_pass_missing(s);
        break;
    }
    SL_CHECK_OK(sl_dstream_foreach_rdd(s, fe_record, &out));
    SL_CHECK_OK(sl_context_start(ctx));
    st = sl_context_await_termination(ctx);
    if (which == NONE_MAP || which == NONE_TRANSFORM_PASS) {
        SL_CHECK_OK(st);
        SL_CHECK_STR(sl_test_buf_str(&out), "2000: 0 1\n");
    } else {
        SL_CHECK_INT(st, SL_ENOBATCH);
        SL_CHECK(strstr(sl_context_errmsg(ctx), "no batch") != NULL);
        SL_CHECK_STR(sl_test_buf_str(&out), "");
    }
    sl_test_buf_free(&out);
    sl_context_free(ctx);
}

static void test_no_batch(void)
{
    run_no_batch(NONE_MAP);
    run_no_batch(NONE_COUNT);
    run_no_batch(NONE_UNION);
    run_no_batch(NONE_JOIN);
    run_no_batch(NONE_TRANSFORM);
    run_no_batch(NONE_TRANSFORM_PASS);
}

const char *SL_SUITE = "stream/context";
const sl_test_case SL_TESTS[] = {
    {"batch_ids_and_listener", test_batch_ids_and_listener},
    {"save_as_text_files_too_long", test_save_as_text_files_too_long},
    {"max_batches_empty_queue", test_max_batches_empty_queue},
    {"await_timeout", test_await_timeout},
    {"terminated_after_timeout_failure", test_terminated_after_timeout_failure},
    {"no_changes_after_start", test_no_changes_after_start},
    {"start_without_outputs", test_start_without_outputs},
    {"null_propagation", test_null_propagation},
    {"two_contexts", test_two_contexts},
    {"print_format", test_print_format},
    {"save_as_text_files", test_save_as_text_files},
    {"failing_foreach", test_failing_foreach},
    {"failing_map", test_failing_map},
    {"transform_null", test_transform_null},
    {"action_reason_kept", test_action_reason_kept},
    {"graceful_stop", test_graceful_stop},
    {"immediate_stop", test_immediate_stop},
    {"request_stop_from_callback", test_request_stop_from_callback},
    {"all_operators", test_all_operators},
    {"persist_stream", test_persist_stream},
    {"slice_includes_current_batch", test_slice_includes_current_batch},
    {"no_batch", test_no_batch},
    {NULL, NULL},
};
