/*
 * Event-time watermarks in the stream layer (sl_dstream_set_watermark):
 * the declaration's errors; the watermark each batch uses (the progress
 * entry's event_time) for one stream, for two combined by min and by max,
 * never moving back; no_data_batches false keeping it over a batch
 * without input; the batch's min, max and avg event times.
 */
#include <sluice/sluice.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_test.h"
#include "sl_test_util.h"

static sl_context *new_ctx(const char *batches, const char *policy,
                           const char *no_data)
{
    char err[256];
    sl_conf *conf = sl_conf_new();
    sl_context *ctx;
    SL_CHECK_OK(sl_conf_set(conf, "clock", "manual", err, sizeof err));
    SL_CHECK_OK(sl_conf_set(conf, "max_batches", batches, err, sizeof err));
    SL_CHECK_OK(sl_conf_set(conf, "log.level", "error", err, sizeof err));
    SL_CHECK_OK(sl_conf_set(conf, "progress.retain", "100", err, sizeof err));
    if (policy)
        SL_CHECK_OK(
            sl_conf_set(conf, "watermark_policy", policy, err, sizeof err));
    if (no_data)
        SL_CHECK_OK(
            sl_conf_set(conf, "no_data_batches", no_data, err, sizeof err));
    ctx = sl_context_new(conf, err, sizeof err);
    SL_CHECK(ctx != NULL);
    sl_context_set_logger(ctx, sl_test_quiet_log, NULL);
    return ctx;
}

/* A queue of rows "ts timestamp, v long"; batch i holds the seconds of
 * secs[i] (space-separated, "" for an empty batch). */
static sl_dstream *queue_of(sl_context *ctx, const char *const *secs,
                            size_t nbatches)
{
    char err[256], buf[256], *tok, *save, json[16][64];
    sl_conf *src = sl_conf_new();
    sl_dstream *q = sl_queue_stream(ctx, 2);
    size_t i;
    SL_CHECK_OK(sl_conf_set(src, "queue.schema", "ts timestamp, v long", err,
                            sizeof err));
    SL_CHECK_OK(sl_queue_stream_set_conf(q, src));
    sl_conf_free(src);
    for (i = 0; i < nbatches; i++) {
        sl_value v[16];
        size_t n = 0;
        snprintf(buf, sizeof buf, "%s", secs[i]);
        for (tok = strtok_r(buf, " ", &save); tok && n < 16;
             tok = strtok_r(NULL, " ", &save), n++) {
            /* a JSON number in a timestamp column is seconds (Spark) */
            snprintf(json[n], sizeof json[n], "{\"ts\":%lld,\"v\":1}",
                     atoll(tok));
            v[n] = sl_cstr(json[n]);
        }
        SL_CHECK_OK(sl_queue_stream_push(q, v, n));
    }
    return q;
}

static sl_status nothing(sl_rdd *rdd, int64_t time_ms, void *user)
{
    size_t n;
    const sl_value *v;
    (void)time_ms;
    (void)user;
    return sl_rdd_collect(rdd, &v, &n); /* computes the batch */
}

/* The event_time objects of the run's progress entries, " | "-joined. */
static void event_times(sl_context *ctx, char *out, size_t cap)
{
    char *all = NULL, *p;
    size_t len = 0;
    *out = '\0';
    SL_CHECK_OK(sl_context_recent_progress(ctx, 100, &all, &len));
    for (p = all; p && (p = strstr(p, "\"event_time\":{")); p++) {
        char *end = strchr(p, '}');
        snprintf(out + strlen(out), cap - strlen(out), "%s%.*s",
                 *out ? " | " : "", (int)(end - p - 14), p + 14);
    }
    sl_free(all);
}

static void run(sl_context *ctx)
{
    SL_CHECK_OK(sl_context_start(ctx));
    SL_CHECK_OK(sl_context_await_termination(ctx));
}

static void test_declaration_errors(void)
{
    sl_context *ctx = new_ctx("1", NULL, NULL);
    static const char *const none[] = {""};
    sl_dstream *q = queue_of(ctx, none, 1);
    sl_dstream *plain = sl_queue_stream(ctx, 1);
    SL_CHECK(sl_dstream_set_watermark(q, "nope", 1000) == SL_EINVAL);
    SL_CHECK(strstr(sl_context_errmsg(ctx), "no column 'nope'") != NULL);
    SL_CHECK(sl_dstream_set_watermark(q, "v", 1000) == SL_EINVAL);
    SL_CHECK(strstr(sl_context_errmsg(ctx), "not a timestamp") != NULL);
    SL_CHECK(sl_dstream_set_watermark(q, "ts", -1) == SL_EINVAL);
    SL_CHECK(sl_dstream_set_watermark(plain, "ts", 0) == SL_EINVAL);
    SL_CHECK(strstr(sl_context_errmsg(ctx), "no schema") != NULL);
    SL_CHECK(sl_dstream_set_watermark(NULL, "ts", 0) == SL_EINVAL);
    SL_CHECK_OK(sl_dstream_set_watermark(q, "ts", 0));
    sl_context_free(ctx);
}

static void test_one_stream(void)
{
    static const char *const secs[] = {"15", "10 12 14", "", "25", "5"};
    char got[2048];
    sl_context *ctx = new_ctx("5", NULL, NULL);
    sl_dstream *q = queue_of(ctx, secs, 5);
    SL_CHECK_OK(sl_dstream_set_watermark(q, "ts", 10000));
    SL_CHECK_OK(sl_dstream_foreach_rdd(q, nothing, NULL));
    run(ctx);
    event_times(ctx, got, sizeof got);
    /* used from the next batch; 5 s never lowers it */
    SL_CHECK_STR(got, "\"min\":\"1970-01-01T00:00:15.000Z\","
                      "\"max\":\"1970-01-01T00:00:15.000Z\","
                      "\"avg\":\"1970-01-01T00:00:15.000Z\","
                      "\"watermark\":\"1970-01-01T00:00:00.000Z\" | "
                      "\"min\":\"1970-01-01T00:00:10.000Z\","
                      "\"max\":\"1970-01-01T00:00:14.000Z\","
                      "\"avg\":\"1970-01-01T00:00:12.000Z\","
                      "\"watermark\":\"1970-01-01T00:00:05.000Z\" | "
                      "\"watermark\":\"1970-01-01T00:00:05.000Z\" | "
                      "\"min\":\"1970-01-01T00:00:25.000Z\","
                      "\"max\":\"1970-01-01T00:00:25.000Z\","
                      "\"avg\":\"1970-01-01T00:00:25.000Z\","
                      "\"watermark\":\"1970-01-01T00:00:05.000Z\" | "
                      "\"min\":\"1970-01-01T00:00:05.000Z\","
                      "\"max\":\"1970-01-01T00:00:05.000Z\","
                      "\"avg\":\"1970-01-01T00:00:05.000Z\","
                      "\"watermark\":\"1970-01-01T00:00:15.000Z\"");
    sl_context_free(ctx);
}

/* Two streams: the watermark of the batch after the second, by policy
 * (the first stream at 40 - 10, the second at 60 - 5). */
static void two_streams(const char *policy, const char *want)
{
    static const char *const a[] = {"40", ""}, *const b[] = {"60", ""};
    char got[2048];
    sl_context *ctx = new_ctx("2", policy, NULL);
    sl_dstream *qa = queue_of(ctx, a, 2), *qb = queue_of(ctx, b, 2);
    SL_CHECK_OK(sl_dstream_set_watermark(qa, "ts", 10000));
    SL_CHECK_OK(sl_dstream_set_watermark(qb, "ts", 5000));
    SL_CHECK_OK(sl_dstream_foreach_rdd(qa, nothing, NULL));
    SL_CHECK_OK(sl_dstream_foreach_rdd(qb, nothing, NULL));
    run(ctx);
    event_times(ctx, got, sizeof got);
    SL_CHECK(strstr(got, want) != NULL);
    sl_context_free(ctx);
}

static void test_policies(void)
{
    two_streams(NULL, "| \"watermark\":\"1970-01-01T00:00:30.000Z\"");
    two_streams("min", "| \"watermark\":\"1970-01-01T00:00:30.000Z\"");
    two_streams("max", "| \"watermark\":\"1970-01-01T00:00:55.000Z\"");
}

/* no_data_batches false: the batch without input keeps the watermark
 * of the batch before it; the next with input takes the raised one. */
static void test_no_data_batches(void)
{
    static const char *const secs[] = {"20", "", "21"};
    char got[2048];
    sl_context *ctx = new_ctx("3", NULL, "false");
    sl_dstream *q = queue_of(ctx, secs, 3);
    SL_CHECK_OK(sl_dstream_set_watermark(q, "ts", 10000));
    SL_CHECK_OK(sl_dstream_foreach_rdd(q, nothing, NULL));
    run(ctx);
    event_times(ctx, got, sizeof got);
    SL_CHECK(strstr(got, "| \"watermark\":\"1970-01-01T00:00:00.000Z\" | ") !=
             NULL);
    SL_CHECK(strstr(got, "\"avg\":\"1970-01-01T00:00:21.000Z\","
                         "\"watermark\":\"1970-01-01T00:00:10.000Z\"") != NULL);
    sl_context_free(ctx);
}

const char *SL_SUITE = "stream/watermark";
const sl_test_case SL_TESTS[] = {
    {"declaration_errors", test_declaration_errors},
    {"one_stream", test_one_stream},
    {"policies", test_policies},
    {"no_data_batches", test_no_data_batches},
    {NULL, NULL}};
