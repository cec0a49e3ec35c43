/*
 * SQL streams (sl_context_sql_stream): a queue source with a schema as a
 * view, stateless queries per batch, GROUP BY as a running aggregation
 * in complete and update mode over several batches, the output-mode
 * rules' errors, and the running counts kept across a restart from a
 * checkpoint.
 */
#include <sluice/sluice.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_test.h"
#include "sl_test_util.h"

/* Every batch's records as JSON, batches joined by " | ". */
typedef struct seen {
    char text[4096];
} seen;

static sl_status collect(sl_rdd *rdd, int64_t time_ms, void *user)
{
    seen *s = user;
    const sl_value *recs;
    size_t n;
    char *j;
    sl_status st = sl_rdd_collect(rdd, &recs, &n);
    (void)time_ms;
    if (st)
        return st;
    j = sl_test_json_join(recs, n, " ", true);
    snprintf(s->text + strlen(s->text), sizeof s->text - strlen(s->text),
             "%s%s", *s->text ? " | " : "", j ? j : "");
    free(j);
    return SL_OK;
}

static sl_context *new_ctx(const char *batches, const char *ckpt)
{
    char err[256];
    sl_conf *conf = sl_conf_new();
    sl_context *ctx;
    SL_CHECK_OK(sl_conf_set(conf, "clock", "manual", err, sizeof err));
    SL_CHECK_OK(sl_conf_set(conf, "max_batches", batches, err, sizeof err));
    SL_CHECK_OK(sl_conf_set(conf, "log.level", "error", err, sizeof err));
    if (ckpt)
        SL_CHECK_OK(
            sl_conf_set(conf, "checkpoint.path", ckpt, err, sizeof err));
    ctx = sl_context_new(conf, err, sizeof err);
    SL_CHECK(ctx != NULL);
    sl_context_set_logger(ctx, sl_test_quiet_log, NULL);
    return ctx;
}

/* A queue of rows "k string, v long" registered as view t; batch i holds
 * rows[i] (JSON object texts, space-separated). */
static sl_dstream *queue_view(sl_context *ctx, const char *const *rows,
                              size_t nbatches)
{
    char err[256], buf[512], *tok, *save;
    sl_conf *src = sl_conf_new();
    sl_dstream *q = sl_queue_stream(ctx, 2);
    size_t i;
    SL_CHECK_OK(
        sl_conf_set(src, "queue.schema", "k string, v long", err, sizeof err));
    SL_CHECK_OK(sl_queue_stream_set_conf(q, src));
    sl_conf_free(src);
    for (i = 0; i < nbatches; i++) {
        sl_value v[16];
        size_t n = 0;
        snprintf(buf, sizeof buf, "%s", rows[i]);
        for (tok = strtok_r(buf, " ", &save); tok && n < 16;
             tok = strtok_r(NULL, " ", &save))
            v[n++] = sl_cstr(tok);
        SL_CHECK_OK(sl_queue_stream_push(q, v, n));
    }
    SL_CHECK_OK(sl_dstream_register_view(q, "t"));
    return q;
}

static const char *const ROWS[] = {
    "{\"k\":\"a\",\"v\":1} {\"k\":\"b\",\"v\":2} {\"k\":\"a\",\"v\":3}",
    "{\"k\":\"b\",\"v\":10}", "{\"k\":\"c\",\"v\":5} {\"k\":\"a\",\"v\":1}"};

/* Run query over ROWS's 3 batches; the batches' output in *out. */
static void run_sql(const char *query, sl_output_mode mode, seen *out,
                    const sl_schema **schema_ddl, char *ddl, size_t ddlen)
{
    char err[512];
    sl_context *ctx = new_ctx("3", NULL);
    sl_dstream *s;
    queue_view(ctx, ROWS, 3);
    s = sl_context_sql_stream(ctx, query, mode, err, sizeof err);
    if (!s)
        fprintf(stderr, "sql stream: %s\n", err);
    SL_CHECK(s != NULL);
    memset(out, 0, sizeof *out);
    SL_CHECK_OK(sl_dstream_foreach_rdd(s, collect, out));
    if (ddl) {
        char *d = sl_schema_to_ddl(sl_dstream_schema(s));
        snprintf(ddl, ddlen, "%s", d ? d : "");
        sl_free(d);
    }
    (void)schema_ddl;
    SL_CHECK_OK(sl_context_start(ctx));
    SL_CHECK_OK(sl_context_await_termination(ctx));
    sl_context_free(ctx);
}

static void test_stateless(void)
{
    seen out;
    char ddl[256];
    run_sql("SELECT upper(k) AS K, v * 2 AS d FROM t WHERE v > 1",
            SL_OUTPUT_APPEND, &out, NULL, ddl, sizeof ddl);
    SL_CHECK_STR(ddl, "K string, d long");
    SL_CHECK_STR(out.text, "[\"A\",6] [\"B\",4] | [\"B\",20] | [\"C\",10]");
}

static void test_complete(void)
{
    seen out;
    run_sql("SELECT k, count(*) AS n, sum(v) AS s FROM t GROUP BY k "
            "ORDER BY k",
            SL_OUTPUT_COMPLETE, &out, NULL, NULL, 0);
    SL_CHECK_STR(out.text, "[\"a\",2,4] [\"b\",1,2] | [\"a\",2,4] [\"b\",2,12] "
                           "| [\"a\",3,5] [\"b\",2,12] [\"c\",1,5]");
}

static void test_update(void)
{
    seen out;
    run_sql("SELECT sum(v) AS s, k FROM t GROUP BY k", SL_OUTPUT_UPDATE, &out,
            NULL, NULL, 0);
    SL_CHECK(strstr(out.text, "| [12,\"b\"] |") != NULL);
    SL_CHECK(strstr(out.text, "[5,\"a\"]") != NULL);
    SL_CHECK(strstr(out.text, "[5,\"c\"]") != NULL);
}

/* The GROUP BY keys in the select list are the stream's key columns. */
static void test_key_columns(void)
{
    char err[512];
    sl_context *ctx = new_ctx("1", NULL);
    sl_dstream *s;
    const size_t *keys;
    size_t n;
    queue_view(ctx, ROWS, 1);
    s = sl_context_sql_stream(ctx, "SELECT sum(v) AS s, k FROM t GROUP BY k",
                              SL_OUTPUT_UPDATE, err, sizeof err);
    SL_CHECK(s != NULL);
    keys = sl_dstream_key_columns(s, &n);
    SL_CHECK_INT(n, 1);
    SL_CHECK_INT(keys[0], 1);
    SL_CHECK_INT(sl_dstream_output_mode(s), SL_OUTPUT_UPDATE);
    sl_context_free(ctx);
}

static void check_error(const char *query, sl_output_mode mode,
                        const char *want)
{
    char err[512] = "";
    sl_context *ctx = new_ctx("1", NULL);
    queue_view(ctx, ROWS, 1);
    SL_CHECK(sl_context_sql_stream(ctx, query, mode, err, sizeof err) == NULL);
    if (!strstr(err, want))
        fprintf(stderr, "got: %s\nwant: %s\n", err, want);
    SL_CHECK(strstr(err, want) != NULL);
    sl_context_free(ctx);
}

static void test_mode_rules(void)
{
    check_error("SELECT k, count(*) FROM t GROUP BY k", SL_OUTPUT_APPEND,
                "Append output mode not supported when there are streaming "
                "aggregations on streaming DataFrames/DataSets without "
                "watermark");
    check_error("SELECT k FROM t", SL_OUTPUT_COMPLETE,
                "Complete output mode not supported when there are no "
                "streaming aggregations");
    check_error("SELECT k, count(*) AS n FROM t GROUP BY k ORDER BY n",
                SL_OUTPUT_UPDATE, "Sorting is not supported");
    check_error("SELECT k FROM t ORDER BY k", SL_OUTPUT_APPEND,
                "Sorting is not supported");
    check_error("SELECT k, count(*) FROM t GROUP BY k LIMIT 2",
                SL_OUTPUT_UPDATE,
                "Limits are not supported on streaming DataFrames/Datasets "
                "in Update output mode");
    check_error("SELECT count(DISTINCT k) FROM t", SL_OUTPUT_COMPLETE,
                "Distinct aggregations are not supported");
    check_error("SELECT k FROM nope", SL_OUTPUT_APPEND, "line 1, column 15");
    check_error("SELECT 1", SL_OUTPUT_APPEND, "reads a stream");
}

/* A named SQL aggregation keeps its running counts across a restart. */
static void test_restart(void)
{
    char *dir = sl_test_tmpdir("sqlckpt"), err[512];
    const char *q = "SELECT k, count(*) AS n FROM t GROUP BY k ORDER BY k";
    seen out = {{0}};
    int round;
    for (round = 0; round < 2; round++) {
        sl_context *ctx = new_ctx(round ? "2" : "1", dir);
        sl_dstream *s, *src = queue_view(ctx, ROWS, (size_t)round + 1);
        SL_CHECK_OK(sl_dstream_set_name(src, "src"));
        s = sl_context_sql_stream(ctx, q, SL_OUTPUT_COMPLETE, err, sizeof err);
        SL_CHECK(s != NULL);
        SL_CHECK_OK(sl_dstream_set_name(s, "counts"));
        SL_CHECK_OK(sl_dstream_foreach_rdd(s, collect, &out));
        SL_CHECK_OK(sl_context_start(ctx));
        SL_CHECK_OK(sl_context_await_termination(ctx));
        sl_context_free(ctx);
    }
    SL_CHECK_STR(out.text, "[\"a\",2] [\"b\",1] | [\"a\",2] [\"b\",2]");
    sl_test_remove_tree(dir);
    free(dir);
}

const char *SL_SUITE = "stream/sql_stream";
/* A view registered again after a SQL stream was planned on it: the
 * stream keeps the schema it was planned with (the view's own `value
 * string`, which the second registration replaces: ASan sees a use after
 * free if the stream only borrowed it). */
static void test_view_registered_again(void)
{
    char err[512];
    seen out;
    sl_context *ctx = new_ctx("2", NULL);
    sl_dstream *q = sl_queue_stream(ctx, 1), *s;
    sl_value a[2] = {sl_cstr("x"), sl_cstr("yz")}, b[1] = {sl_int(7)};
    SL_CHECK_OK(sl_queue_stream_push(q, a, 2));
    SL_CHECK_OK(sl_queue_stream_push(q, b, 1));
    SL_CHECK_OK(sl_dstream_register_view(q, "t"));
    s = sl_context_sql_stream(ctx, "SELECT upper(value) AS u FROM t",
                              SL_OUTPUT_APPEND, err, sizeof err);
    SL_CHECK(s != NULL);
    SL_CHECK_OK(sl_dstream_register_view(q, "t"));
    memset(&out, 0, sizeof out);
    SL_CHECK_OK(sl_dstream_foreach_rdd(s, collect, &out));
    SL_CHECK_OK(sl_context_start(ctx));
    SL_CHECK_OK(sl_context_await_termination(ctx));
    sl_context_free(ctx);
    SL_CHECK_STR(out.text, "[\"X\"] [\"YZ\"] | [\"7\"]");
}

const sl_test_case SL_TESTS[] = {
    {"stateless", test_stateless},
    {"complete", test_complete},
    {"update", test_update},
    {"key_columns", test_key_columns},
    {"mode_rules", test_mode_rules},
    {"restart", test_restart},
    {"view_registered_again", test_view_registered_again},
    {NULL, NULL}};
