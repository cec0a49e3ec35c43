/*
 * Memory tables and ad-hoc SQL over them (src/stream/memtable.c,
 * src/sql/mem_query.c): a queue source into a memory sink in append,
 * complete and update mode, queries from a second thread while batches
 * run (each sees whole batches only), a batch id applied once only,
 * max_rows, and the errors of the query bounds.
 */
#include <sluice/sluice.h>

#include "stream/memtable.h"
#include "stream/stream.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sl_test.h"
#include "sl_test_util.h"

/* A context on the manual clock with settings (name, value, ..., NULL). */
static sl_context *new_ctx(const char *const *settings)
{
    char err[256];
    sl_conf *conf = sl_conf_new();
    sl_context *ctx;
    size_t i;
    SL_CHECK_OK(sl_conf_set(conf, "clock", "manual", err, sizeof err));
    SL_CHECK_OK(sl_conf_set(conf, "log.level", "error", err, sizeof err));
    for (i = 0; settings && settings[i]; i += 2)
        SL_CHECK_OK(
            sl_conf_set(conf, settings[i], settings[i + 1], err, sizeof err));
    ctx = sl_context_new(conf, err, sizeof err);
    SL_CHECK(ctx != NULL);
    sl_context_set_logger(ctx, sl_test_quiet_log, NULL);
    return ctx;
}

/* A queue stream whose records are rows of ddl (JSON object texts). */
static sl_dstream *row_queue(sl_context *ctx, const char *ddl)
{
    char err[256];
    sl_conf *src = sl_conf_new();
    sl_dstream *q = sl_queue_stream(ctx, 2);
    SL_CHECK_OK(sl_conf_set(src, "queue.schema", ddl, err, sizeof err));
    SL_CHECK_OK(sl_queue_stream_set_conf(q, src));
    sl_conf_free(src);
    return q;
}

static void push_texts(sl_dstream *q, const char *const *texts, size_t n)
{
    sl_value v[8];
    size_t i;
    for (i = 0; i < n; i++)
        v[i] = sl_cstr(texts[i]);
    SL_CHECK_OK(sl_queue_stream_push(q, v, n));
}

/* The query's rows as JSON arrays joined by " " (free()d by the caller),
 * NULL when it fails (the status in *st, the message in err). */
static char *query(sl_context *ctx, const char *sql, sl_status *st, char *err,
                   size_t errlen)
{
    sl_sql_result *r = NULL;
    sl_test_buf b = {0};
    size_t i;
    *st = sl_context_sql(ctx, sql, &r, err, errlen);
    if (*st)
        return NULL;
    for (i = 0; i < sl_sql_result_rows(r); i++) {
        char *j = sl_test_json(sl_sql_result_row(r, i));
        sl_test_buf_printf(&b, "%s%s", i ? " " : "", j);
        free(j);
    }
    SL_CHECK(sl_sql_result_row(r, sl_sql_result_rows(r)) == NULL);
    sl_sql_result_free(r);
    return sl_test_buf_take(&b);
}

static void check_query(sl_context *ctx, const char *sql, const char *want)
{
    char err[512], *got;
    sl_status st;
    got = query(ctx, sql, &st, err, sizeof err);
    SL_CHECK_INT(st, SL_OK);
    if (st)
        fprintf(stderr, "%s: %s\n", sql, err);
    SL_CHECK_STR(got ? got : "", want);
    free(got);
}

/* The workshop's flow on a queue: append mode adds each batch's rows. */
static void test_append(void)
{
    const char *const settings[] = {"max_batches", "2", NULL};
    const char *const b1[] = {"{\"sym\":\"B\",\"px\":2.5}",
                              "{\"sym\":\"A\",\"px\":1}"};
    const char *const b2[] = {"{\"sym\":\"C\"}"};
    sl_context *ctx = new_ctx(settings);
    sl_dstream *q = row_queue(ctx, "sym string, px double");
    const sl_schema *schema;
    sl_sql_result *r;
    char err[256];
    int64_t rows, dropped;

    push_texts(q, b1, 2);
    push_texts(q, b2, 1);
    SL_CHECK_OK(sl_memory_sink(q, "prices", NULL));
    SL_CHECK_INT(sl_memory_sink(q, "PRICES", NULL), SL_EINVAL);
    SL_CHECK(strstr(sl_context_errmsg(ctx), "another memory sink") != NULL);
    SL_CHECK_INT(sl_memory_sink(q, "1bad", NULL), SL_EINVAL);
    check_query(ctx, "SELECT count(*) AS n FROM prices", "[0]");
    SL_CHECK_OK(sl_context_start(ctx));
    SL_CHECK_OK(sl_context_await_termination(ctx));
    check_query(ctx, "SELECT sym, px FROM Prices ORDER BY sym",
                "[\"A\",1.0] [\"B\",2.5] [\"C\",null]");
    SL_CHECK_OK(sl_context_sql(ctx, "SELECT px * 2 AS twice FROM prices", &r,
                               err, sizeof err));
    schema = sl_sql_result_schema(r);
    SL_CHECK_INT(sl_schema_size(schema), 1);
    SL_CHECK_STR(sl_schema_name(schema, 0), "twice");
    sl_sql_result_free(r);
    SL_CHECK_OK(sl_context_memory_table_stats(ctx, "prices", &rows, &dropped));
    SL_CHECK_INT(rows, 3);
    SL_CHECK_INT(dropped, 0);
    SL_CHECK_INT(sl_context_memory_table_stats(ctx, "nope", &rows, &dropped),
                 SL_ENOTFOUND);
    sl_context_free(ctx);
}

/* Complete mode replaces the table each batch; a stream without a
 * schema is one column `value string`. */
static void test_complete(void)
{
    const char *const settings[] = {"max_batches", "2", NULL};
    sl_context *ctx = new_ctx(settings);
    sl_dstream *q = sl_queue_stream(ctx, 2);
    sl_value b1[] = {sl_int(1), sl_int(2), sl_int(3)};
    sl_value b2[] = {sl_cstr("x,y"), sl_int(4)};

    SL_CHECK_OK(sl_queue_stream_push(q, b1, 3));
    SL_CHECK_OK(sl_queue_stream_push(q, b2, 2));
    SL_CHECK_OK(sl__dstream_set_output(q, SL_OUTPUT_COMPLETE, NULL, 0));
    SL_CHECK_OK(sl_memory_sink(q, "whole", NULL));
    SL_CHECK_OK(sl_context_start(ctx));
    SL_CHECK_OK(sl_context_await_termination(ctx));
    check_query(ctx,
                "SELECT value, SPLIT(value, ',')[1] AS second FROM whole "
                "ORDER BY value",
                "[\"4\",null] [\"x,y\",\"y\"]");
    sl_context_free(ctx);
}

/* ------------------------------------------- batches driven by hand */

typedef struct by_hand {
    sl_context *ctx;
    sl_engine *eng;
    const sl_sink_ops *ops;
    void *state;
} by_hand;

/* A table `name` of rows "k string, n long" written by hand. */
static void hand_open(by_hand *h, const char *name, sl_output_mode mode,
                      const sl_conf *conf, const char *const *settings)
{
    static const size_t keys[] = {0};
    sl_dstream *q;
    h->ctx = new_ctx(settings);
    q = row_queue(h->ctx, "k string, n long");
    SL_CHECK_OK(sl__dstream_set_output(q, mode, keys, 1));
    SL_CHECK_OK(sl_memory_sink(q, name, conf));
    h->eng = sl_test_engine(1);
    h->ops = sl__memtable_ops();
    h->state = sl__memtable_state(h->ctx, name);
    SL_CHECK(h->state != NULL);
}

static void hand_close(by_hand *h)
{
    sl_context_free(h->ctx);
    sl_engine_free(h->eng);
}

/* Write rows (k_i, n0 + i) for the keys of ks (one letter each) as
 * batch id; commit it when commit is set, else abort it. */
static void hand_batch(by_hand *h, int64_t id, const char *ks, int64_t n0,
                       bool commit)
{
    size_t i, n = strlen(ks);
    sl_value *items = malloc(2 * (n + 1) * sizeof *items);
    sl_value *rows = malloc((n + 1) * sizeof *rows);
    sl_rdd *rdd;
    for (i = 0; i < n; i++) {
        items[2 * i] = sl_str(&ks[i], 1);
        items[2 * i + 1] = sl_int(n0 + (int64_t)i);
        rows[i] = sl_composite(SL_KIND_TUPLE, &items[2 * i], 2);
    }
    rdd = sl_rdd_parallelize(h->eng, rows, n, 2);
    SL_CHECK_OK(h->ops->write_batch(h->state, id, id * 1000, rdd));
    if (commit)
        SL_CHECK_OK(h->ops->commit(h->state, id));
    else
        h->ops->abort(h->state, id);
    sl_engine_clear(h->eng);
    free(items);
    free(rows);
}

/* Update mode: rows replaced by key in place, new keys appended. */
static void test_update(void)
{
    by_hand h;
    hand_open(&h, "latest", SL_OUTPUT_UPDATE, NULL, NULL);
    hand_batch(&h, 1, "ab", 1, true);
    hand_batch(&h, 2, "cb", 10, true);
    check_query(h.ctx, "SELECT k, n FROM latest",
                "[\"a\",1] [\"b\",11] [\"c\",10]");
    hand_batch(&h, 3, "aa", 20, true); /* the last row of a key wins */
    check_query(h.ctx, "SELECT k, n FROM latest",
                "[\"a\",21] [\"b\",11] [\"c\",10]");
    hand_close(&h);
}

/* A batch id is applied once: written again, committed again, or
 * written after a later batch, the table does not change. An aborted
 * batch is never applied. */
static void test_replayed_batch(void)
{
    by_hand h;
    hand_open(&h, "t", SL_OUTPUT_APPEND, NULL, NULL);
    hand_batch(&h, 1, "ab", 1, true);
    SL_CHECK_OK(h.ops->commit(h.state, 1)); /* a restart's commit again */
    hand_batch(&h, 1, "ab", 1, true);       /* the batch run again */
    check_query(h.ctx, "SELECT count(*) FROM t", "[2]");
    hand_batch(&h, 2, "c", 3, false); /* aborted */
    check_query(h.ctx, "SELECT count(*) FROM t", "[2]");
    hand_batch(&h, 2, "c", 3, true);
    hand_batch(&h, 1, "xyz", 7, true);
    check_query(h.ctx, "SELECT k FROM t", "[\"a\"] [\"b\"] [\"c\"]");
    hand_close(&h);
}

/* max_rows drops the oldest rows, counted. */
static void test_max_rows(void)
{
    char err[256];
    sl_conf *conf = sl_conf_new();
    int64_t rows, dropped;
    by_hand h;
    SL_CHECK_OK(
        sl_conf_set(conf, "memory_sink.max_rows", "3", err, sizeof err));
    hand_open(&h, "recent", SL_OUTPUT_APPEND, conf, NULL);
    sl_conf_free(conf);
    hand_batch(&h, 1, "ab", 1, true);
    hand_batch(&h, 2, "cd", 3, true);
    hand_batch(&h, 3, "ef", 5, true);
    check_query(h.ctx, "SELECT k FROM recent", "[\"d\"] [\"e\"] [\"f\"]");
    SL_CHECK_OK(
        sl_context_memory_table_stats(h.ctx, "recent", &rows, &dropped));
    SL_CHECK_INT(rows, 3);
    SL_CHECK_INT(dropped, 3);
    hand_close(&h);
}

/* A query over too many rows, too many bytes or too long, and a bad one,
 * fail with errors that name the bound or the position. */
static void test_limits(void)
{
    const char *const settings[] = {"query.max_rows", "5", "query.max_memory",
                                    "1k", NULL};
    char err[512], sql[512];
    sl_status st;
    by_hand h;
    hand_open(&h, "t", SL_OUTPUT_APPEND, NULL, settings);
    hand_batch(&h, 1, "abcdef", 1, true);
    SL_CHECK(query(h.ctx, "SELECT k FROM t", &st, err, sizeof err) == NULL);
    SL_CHECK_INT(st, SL_ERANGE);
    SL_CHECK(strstr(err, "query.max_rows (5)") != NULL);
    check_query(h.ctx, "SELECT k FROM t LIMIT 5",
                "[\"a\"] [\"b\"] [\"c\"] [\"d\"] [\"e\"]");
    snprintf(sql, sizeof sql, "SELECT concat(k, '%0300d') AS a FROM t LIMIT 5",
             0);
    SL_CHECK(query(h.ctx, sql, &st, err, sizeof err) == NULL);
    SL_CHECK_INT(st, SL_ERANGE);
    SL_CHECK(strstr(err, "query.max_memory") != NULL);
    SL_CHECK(query(h.ctx, "SELECT k FROM nowhere", &st, err, sizeof err) ==
             NULL);
    SL_CHECK_INT(st, SL_EPARSE);
    SL_CHECK(strstr(err, "nowhere") != NULL);
    SL_CHECK(query(h.ctx, "SELEC k FROM t", &st, err, sizeof err) == NULL);
    SL_CHECK_INT(st, SL_EPARSE);
    SL_CHECK(strstr(err, "^") != NULL);
    hand_close(&h);
}

/* Write n rows (k, i) as batch 1 of h's table in one go. */
static void hand_many(by_hand *h, size_t n)
{
    sl_value *items = malloc(2 * n * sizeof *items);
    sl_value *rows = malloc(n * sizeof *rows);
    size_t i;
    for (i = 0; i < n; i++) {
        items[2 * i] = sl_cstr("k");
        items[2 * i + 1] = sl_int((int64_t)i);
        rows[i] = sl_composite(SL_KIND_TUPLE, &items[2 * i], 2);
    }
    SL_CHECK_OK(h->ops->write_batch(h->state, 1, 1000,
                                    sl_rdd_parallelize(h->eng, rows, n, 2)));
    SL_CHECK_OK(h->ops->commit(h->state, 1));
    sl_engine_clear(h->eng);
    free(items);
    free(rows);
}

static void test_timeout(void)
{
    const char *const settings[] = {"query.timeout", "1ms", NULL};
    char err[512];
    sl_status st;
    by_hand h;
    hand_open(&h, "big", SL_OUTPUT_APPEND, NULL, settings);
    hand_many(&h, 400000);
    SL_CHECK(query(h.ctx,
                   "SELECT n % 7 AS m, count(*) AS c FROM big "
                   "WHERE concat(k, CAST(n AS string)) LIKE '%9%' GROUP BY 1",
                   &st, err, sizeof err) == NULL);
    SL_CHECK_INT(st, SL_ETIMEDOUT);
    SL_CHECK(strstr(err, "query.timeout") != NULL);
    hand_close(&h);
}

/* ------------------------------------------------ concurrent queries */

#define NBATCHES 60
#define PER_BATCH 500

typedef struct reader {
    sl_context *ctx;
    atomic_bool done;
    int queries, torn, failed;
} reader;

/* Count the table over and over while the batches run: every count is
 * a whole number of batches. */
static void *read_loop(void *arg)
{
    reader *r = arg;
    char err[256];
    sl_sql_result *res;
    while (!atomic_load(&r->done)) {
        if (sl_context_sql(r->ctx, "SELECT count(*) FROM t", &res, err,
                           sizeof err)) {
            r->failed++;
            continue;
        }
        if (sl_sql_result_row(res, 0)->u.items[0].u.i % PER_BATCH)
            r->torn++;
        r->queries++;
        sl_sql_result_free(res);
    }
    return NULL;
}

/* Batches take a few milliseconds, so that queries overlap them. */
static sl_status slow_batch(sl_rdd *rdd, int64_t time_ms, void *user)
{
    struct timespec ts = {0, 5000000};
    (void)rdd;
    (void)time_ms;
    (void)user;
    nanosleep(&ts, NULL);
    return SL_OK;
}

static void test_concurrent(void)
{
    const char *const settings[] = {"max_batches", "60", NULL};
    sl_context *ctx = new_ctx(settings);
    sl_dstream *q = sl_queue_stream(ctx, 2);
    sl_value v[PER_BATCH];
    reader r = {ctx, false, 0, 0, 0};
    pthread_t th;
    size_t b, i;
    for (b = 0; b < NBATCHES; b++) {
        for (i = 0; i < PER_BATCH; i++)
            v[i] = sl_int((int64_t)(b * PER_BATCH + i));
        SL_CHECK_OK(sl_queue_stream_push(q, v, PER_BATCH));
    }
    SL_CHECK_OK(sl_memory_sink(q, "t", NULL));
    SL_CHECK_OK(sl_dstream_foreach_rdd(q, slow_batch, NULL));
    SL_CHECK_OK(sl_context_start(ctx));
    SL_CHECK_INT(pthread_create(&th, NULL, read_loop, &r), 0);
    SL_CHECK_OK(sl_context_await_termination(ctx));
    atomic_store(&r.done, true);
    pthread_join(th, NULL);
    SL_CHECK(r.queries > 0);
    SL_CHECK_INT(r.torn, 0);
    SL_CHECK_INT(r.failed, 0);
    check_query(ctx,
                "SELECT count(*), min(CAST(value AS long)), "
                "max(CAST(value AS long)) FROM t",
                "[30000,0,29999]");
    sl_context_free(ctx);
}

const char *SL_SUITE = "sql/mem_query";
const sl_test_case SL_TESTS[] = {{"append", test_append},
                                 {"complete", test_complete},
                                 {"update", test_update},
                                 {"replayed_batch", test_replayed_batch},
                                 {"max_rows", test_max_rows},
                                 {"limits", test_limits},
                                 {"timeout", test_timeout},
                                 {"concurrent", test_concurrent},
                                 {NULL, NULL}};
