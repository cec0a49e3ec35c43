/*
 * Unit tests of src/job/build.c beyond the table-driven suites: a part
 * that cannot be built fails sl_job_build with the status the context
 * kept for it, not one guessed from its message's text.
 */
#include <string.h>

#include <sluice/sluice.h>

#include "sl_test.h"
#include "stream/stream.h"

/*
 * A directory source over a directory that does not exist (and is not
 * to be created) validates, and fails at build with the connector's
 * status: SL_EIO, as sl_file_stream reports it, where matching the
 * message for "SL_ENOMEM" turned every such failure into SL_EINVAL.
 */
static void test_build_keeps_context_status(void)
{
    static const char text[] =
        "{\"name\": \"gone\", \"batch_interval\": \"1s\", \"sources\": "
        "{\"d\": {\"type\": \"directory\", \"path\": "
        "\"/nonexistent/sluice-test-dir\"}}, "
        "\"sinks\": [{\"type\": \"console\", \"from\": \"d\"}]}";
    sl_job *job = sl_job_parse(text, strlen(text), "gone.json");
    sl_context *ctx = NULL;
    sl_status st;

    SL_CHECK(job != NULL);
    if (!job)
        return;
    SL_CHECK_INT(sl_job_problem_count(job), 0);
    st = sl_job_build(job, &ctx);
    SL_CHECK_STR(sl_errname(st), "SL_EIO");
    SL_CHECK(ctx == NULL);
    SL_CHECK(strstr(sl_job_errmsg(job), "$.sources.d: ") != NULL);
    sl_job_free(job);
}

/* Each sink's name (given, or FROM.TYPE) is kept on its built output,
 * in the order of the sinks. */
static void test_build_names_outputs(void)
{
    static const char text[] =
        "{\"name\": \"named\", \"batch_interval\": \"1s\", \"sources\": "
        "{\"q\": {\"type\": \"queue\", \"batches\": [[1]]}}, "
        "\"sinks\": [{\"type\": \"console\", \"from\": \"q\"}, "
        "{\"type\": \"console\", \"from\": \"q\", \"format\": \"json\", "
        "\"name\": \"q-json\"}]}";
    sl_job *job = sl_job_parse(text, strlen(text), "named.json");
    sl_context *ctx = NULL;

    SL_CHECK(job != NULL);
    if (!job)
        return;
    SL_CHECK_INT(sl_job_problem_count(job), 0);
    SL_CHECK_OK(sl_job_build(job, &ctx));
    if (ctx) {
        SL_CHECK_STR(sl__output_name_at(ctx, 0), "q.console");
        SL_CHECK_STR(sl__output_name_at(ctx, 1), "q-json");
        SL_CHECK(sl__output_name_at(ctx, 2) == NULL);
    }
    sl_job_free(job);
}

/* The handle keeps the code beside the message. */
static void test_context_errcode(void)
{
    sl_context *ctx = sl_context_new(NULL, NULL, 0);
    SL_CHECK(ctx != NULL);
    if (!ctx)
        return;
    SL_CHECK_INT(sl_context_errcode(ctx), SL_OK);
    SL_CHECK_INT(sl_context_set_error(ctx, SL_ETIMEDOUT, "late"), SL_ETIMEDOUT);
    SL_CHECK_INT(sl_context_errcode(ctx), SL_ETIMEDOUT);
    SL_CHECK_STR(sl_context_errmsg(ctx), "SL_ETIMEDOUT: late");
    SL_CHECK_INT(sl_context_errcode(NULL), SL_EINVAL);
    sl_context_free(ctx);
}

const char *SL_SUITE = "job_build";

const sl_test_case SL_TESTS[] = {
    {"build_keeps_context_status", test_build_keeps_context_status},
    {"build_names_outputs", test_build_names_outputs},
    {"context_errcode", test_context_errcode},
    {NULL, NULL},
};
