/*
 * Sources that yield typed rows (issue 12): the directory source with
 * file.schema and each file.parse_mode, the queue source with
 * queue.schema (JSON object texts by field name), sl_dstream_schema, and
 * the refusal of file.schema with file.csv.columns naming both.
 */
#include <sluice/sluice.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_test.h"
#include "sl_test_util.h"

/* The first batch's records as JSON, space-separated. */
static sl_status collect(sl_rdd *rdd, int64_t time_ms, void *user)
{
    char **out = user;
    const sl_value *recs;
    size_t n;
    sl_status st = sl_rdd_collect(rdd, &recs, &n);
    (void)time_ms;
    if (st == SL_OK && !*out)
        *out = sl_test_json_join(recs, n, " ", false);
    return st;
}

static sl_context *new_ctx(const char *const *extra, sl_conf **conf_out)
{
    char err[256];
    const char *base[] = {"clock",     "manual", "max_batches", "1",
                          "log.level", "error",  NULL};
    sl_conf *conf = sl_conf_new(), *src = sl_conf_new();
    sl_context *ctx;
    size_t i;
    for (i = 0; base[i]; i += 2)
        SL_CHECK_OK(sl_conf_set(conf, base[i], base[i + 1], err, sizeof err));
    for (i = 0; extra && extra[i]; i += 2)
        SL_CHECK_OK(sl_conf_set(src, extra[i], extra[i + 1], err, sizeof err));
    ctx = sl_context_new(conf, err, sizeof err);
    SL_CHECK(ctx != NULL);
    sl_context_set_logger(ctx, sl_test_quiet_log, NULL);
    *conf_out = src;
    return ctx;
}

/* Run a directory source over one CSV file; the context's status and the
 * first batch's records (free()d by the caller, NULL when none). */
static sl_status run_dir(const char *mode, const char *schema,
                         const char *columns, char **recs, char *msg,
                         size_t msglen)
{
    char *dir = sl_test_tmpdir("rows"), path[512];
    const char *extra[] = {"file.include_existing",
                           "true",
                           "file.format",
                           "csv",
                           "file.schema",
                           schema,
                           "file.parse_mode",
                           mode,
                           "file.csv.columns",
                           columns,
                           NULL};
    sl_conf *src;
    sl_context *ctx;
    sl_dstream *s;
    sl_status st;

    snprintf(path, sizeof path, "%s/f.csv", dir);
    sl_test_write_file(path, "a,1\nb,x\nc,3\n", 12);
    ctx = new_ctx(extra, &src);
    *recs = NULL;
    s = sl_file_stream(ctx, dir, src);
    if (!s) {
        st = SL_ECONF;
        snprintf(msg, msglen, "%s", sl_context_errmsg(ctx));
    } else {
        SL_CHECK(sl_dstream_schema(s) != NULL);
        SL_CHECK_OK(sl_dstream_foreach_rdd(s, collect, recs));
        SL_CHECK_OK(sl_context_start(ctx));
        st = sl_context_await_termination(ctx);
        snprintf(msg, msglen, "%s", sl_context_errmsg(ctx));
    }
    sl_context_free(ctx);
    sl_conf_free(src);
    sl_test_remove_tree(dir);
    free(dir);
    return st;
}

static void test_dir_permissive(void)
{
    char *recs, msg[512];
    SL_CHECK_OK(run_dir("permissive",
                        "w string, n long, _corrupt_record string", "", &recs,
                        msg, sizeof msg));
    SL_CHECK_STR(recs, "[\"a\",1,null] [\"b\",null,\"b,x\"] [\"c\",3,null]");
    free(recs);
}

static void test_dir_drop_malformed(void)
{
    char *recs, msg[512];
    SL_CHECK_OK(run_dir("drop_malformed", "w string, n long", "", &recs, msg,
                        sizeof msg));
    SL_CHECK_STR(recs, "[\"a\",1] [\"c\",3]");
    free(recs);
}

static void test_dir_fail_fast(void)
{
    char *recs, msg[512];
    /* The job fails (its status is the failed task's, reported by the
     * output that ran it) with the message naming file and line. */
    SL_CHECK(run_dir("fail_fast", "w string, n long", "", &recs, msg,
                     sizeof msg) != SL_OK);
    SL_CHECK(strstr(msg, "f.csv' line 2 (parse_mode fail_fast)") != NULL);
    SL_CHECK(strstr(msg, "cannot read \"x\" as long") != NULL);
    SL_CHECK(recs == NULL);
}

static void test_dir_schema_and_columns(void)
{
    char *recs, msg[512];
    SL_CHECK_INT(run_dir("permissive", "w string", "w", &recs, msg, sizeof msg),
                 SL_ECONF);
    SL_CHECK(strstr(msg, "file.schema and file.csv.columns") != NULL);
}

/* Queue records: JSON object texts become rows by field name. */
static void run_queue(const char *mode, sl_status want, const char *rows)
{
    const char *extra[] = {"queue.schema", "sym string, px double",
                           "queue.parse_mode", mode, NULL};
    sl_value v[] = {sl_cstr("{\"px\": 1.5, \"sym\": \"A\"}"),
                    sl_cstr("{\"px\": \"x\"}"), sl_int(7),
                    sl_cstr("{\"sym\": \"C\"}")};
    char *recs = NULL;
    sl_conf *src;
    sl_context *ctx = new_ctx(extra, &src);
    sl_dstream *q = sl_queue_stream(ctx, 2);
    char *ddl;

    SL_CHECK(sl_dstream_schema(q) == NULL);
    SL_CHECK_OK(sl_queue_stream_set_conf(q, src));
    SL_CHECK(sl_dstream_schema(q) != NULL);
    ddl = sl_schema_to_ddl(sl_dstream_schema(q));
    SL_CHECK(ddl && strstr(ddl, "px") != NULL);
    sl_free(ddl);
    SL_CHECK_OK(sl_queue_stream_push(q, v, 4));
    SL_CHECK_OK(sl_dstream_foreach_rdd(q, collect, &recs));
    SL_CHECK_OK(sl_context_start(ctx));
    SL_CHECK_INT(sl_context_await_termination(ctx), want);
    if (rows)
        SL_CHECK_STR(recs, rows);
    else
        SL_CHECK(strstr(sl_context_errmsg(ctx),
                        "malformed record 1 of queue entry 0") != NULL);
    free(recs);
    sl_context_free(ctx);
    sl_conf_free(src);
}

static void test_queue_rows(void)
{
    run_queue("permissive", SL_OK,
              "[\"A\",1.5] [null,null] [null,null] [\"C\",null]");
    run_queue("drop_malformed", SL_OK, "[\"A\",1.5] [\"C\",null]");
    run_queue("fail_fast", SL_EPARSE, NULL);
}

const char *SL_SUITE = "stream/source_rows";
const sl_test_case SL_TESTS[] = {
    {"dir_permissive", test_dir_permissive},
    {"dir_drop_malformed", test_dir_drop_malformed},
    {"dir_fail_fast", test_dir_fail_fast},
    {"dir_schema_and_columns", test_dir_schema_and_columns},
    {"queue_rows", test_queue_rows},
    {NULL, NULL}};
