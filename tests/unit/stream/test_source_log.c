/*
 * Source logs (src/stream/source_log.c): a planned source's
 * checkpoint and recover methods write and read versions of its log under
 * sources/<name>/ (round trip across a restart), retention keeps only the
 * newest version at or before the first kept batch, rollback drops later
 * versions (streamctl's rollback), and a damaged version refuses the start
 * naming its path.
 */
#include <sluice/sluice.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sl_test.h"
#include "sl_test_util.h"

/* A source that logs "log <batch>" at odd batches and keeps what its
 * recover read. */
typedef struct logsrc {
    char recovered[64];
    sl_status recover_st;
    int recovers;
} logsrc;

static sl_status ls_plan(void *state, int64_t batch_id, int64_t time_ms,
                         sl_plan *plan)
{
    sl_value v = sl_int(batch_id);
    (void)state;
    (void)time_ms;
    SL_CHECK_OK(sl_plan_add_values(plan, &v, 1));
    return sl_plan_set_offsets(plan, "{}");
}

static sl_status ls_replan(void *state, int64_t batch_id, int64_t time_ms,
                           const char *offsets, sl_plan *plan)
{
    (void)offsets;
    return ls_plan(state, batch_id, time_ms, plan);
}

static void ls_free(void *state)
{
    (void)state;
}

static sl_status ls_checkpoint(void *state, int64_t batch_id,
                               sl_source_log *log)
{
    char b[64];
    (void)state;
    if (batch_id % 2 == 0)
        return SL_OK; /* unchanged: the previous version stands */
    snprintf(b, sizeof b, "log %lld", (long long)batch_id);
    return sl_source_log_write(log, b, strlen(b));
}

static sl_status ls_recover(void *state, int64_t batch_id, sl_source_log *log)
{
    logsrc *s = state;
    void *data = NULL;
    size_t len = 0;
    (void)batch_id;
    s->recovers++;
    /* Writing is for the checkpoint method only. */
    SL_CHECK_INT(sl_source_log_write(log, "x", 1), SL_EINVAL);
    s->recover_st = sl_source_log_read(log, &data, &len);
    if (s->recover_st == SL_OK)
        snprintf(s->recovered, sizeof s->recovered, "%.*s", (int)len,
                 (const char *)data);
    sl_free(data);
    return s->recover_st == SL_ENOTFOUND ? SL_OK : s->recover_st;
}

static const sl_planned_ops ls_ops = {
    SL_PLANNED_OPS_VERSION,
    "logsrc",
    ls_plan,
    NULL,
    ls_free,
    ls_replan,
    NULL,
    NULL,
    ls_checkpoint,
    ls_recover,
    NULL,
    NULL,
};

static sl_status each(sl_rdd *rdd, int64_t time_ms, void *user)
{
    (void)rdd;
    (void)time_ms;
    (void)user;
    return SL_OK;
}

/* Run the source to batch max_batches with checkpoint ck; *errmsg gets
 * the start's error. */
static sl_status run_to(const char *ck, int64_t max_batches, logsrc *s,
                        char *errmsg, size_t errlen)
{
    char err[256], mb[32];
    sl_conf *conf = sl_conf_new();
    sl_context *ctx;
    sl_dstream *d;
    sl_status st;
    snprintf(mb, sizeof mb, "%lld", (long long)max_batches);
    SL_CHECK_OK(sl_conf_set(conf, "clock", "manual", err, sizeof err));
    SL_CHECK_OK(sl_conf_set(conf, "log.level", "error", err, sizeof err));
    SL_CHECK_OK(sl_conf_set(conf, "max_batches", mb, err, sizeof err));
    SL_CHECK_OK(sl_conf_set(conf, "checkpoint.path", ck, err, sizeof err));
    SL_CHECK_OK(
        sl_conf_set(conf, "checkpoint.retain_batches", "2", err, sizeof err));
    ctx = sl_context_new(conf, err, sizeof err);
    SL_CHECK(ctx != NULL);
    d = sl_planned_stream(ctx, &ls_ops, s);
    SL_CHECK(d != NULL);
    SL_CHECK_OK(sl_dstream_set_name(d, "src"));
    SL_CHECK_OK(sl_dstream_foreach_rdd(d, each, NULL));
    st = sl_context_start(ctx);
    if (st == SL_OK)
        st = sl_context_await_termination(ctx);
    snprintf(errmsg, errlen, "%s", st ? sl_context_errmsg(ctx) : "");
    sl_context_free(ctx);
    return st;
}

static bool has(const char *ck, const char *rel)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", ck, rel);
    return access(p, F_OK) == 0;
}

static void test_round_trip_retention_rollback(void)
{
    char tmpl[] = "/tmp/sl-srclog-XXXXXX", ck[300], msg[1024], p[400];
    logsrc s;
    FILE *f;
    SL_CHECK(mkdtemp(tmpl) != NULL);
    snprintf(ck, sizeof ck, "%s/ck", tmpl);

    memset(&s, 0, sizeof s);
    SL_CHECK_OK(run_to(ck, 5, &s, msg, sizeof msg));
    /* a first start: recover is called (the source learns it logs), and
     * finds nothing */
    SL_CHECK_INT(s.recovers, 1);
    SL_CHECK_INT(s.recover_st, SL_ENOTFOUND);
    /* retain 2 keeps batches 4 and 5: version 3 (the newest at or before
     * 4) and 5 stay, 1 is gone */
    SL_CHECK(!has(ck, "sources/src/1.log") && has(ck, "sources/src/3.log") &&
             has(ck, "sources/src/5.log"));

    memset(&s, 0, sizeof s);
    SL_CHECK_OK(run_to(ck, 7, &s, msg, sizeof msg));
    SL_CHECK_INT(s.recovers, 1);
    SL_CHECK_STR(s.recovered, "log 5");
    SL_CHECK(!has(ck, "sources/src/3.log") && has(ck, "sources/src/7.log"));

    /* rollback to 6: version 7 goes, a restart reads version 5 */
    SL_CHECK_OK(sl_checkpoint_rollback(ck, 6, msg, sizeof msg));
    SL_CHECK(!has(ck, "sources/src/7.log") && has(ck, "sources/src/5.log"));
    memset(&s, 0, sizeof s);
    SL_CHECK_OK(run_to(ck, 7, &s, msg, sizeof msg));
    SL_CHECK_STR(s.recovered, "log 5");

    /* a damaged version (one payload byte flipped) refuses the start:
     * the last commit lists it, so the commit check names it first */
    snprintf(p, sizeof p, "%s/sources/src/7.log", ck);
    SL_CHECK((f = fopen(p, "r+b")) != NULL);
    fseek(f, 25, SEEK_SET);
    fputc('X', f);
    fclose(f);
    memset(&s, 0, sizeof s);
    SL_CHECK_INT(run_to(ck, 8, &s, msg, sizeof msg), SL_ECORRUPT);
    SL_CHECK(strstr(msg, "batch 7 is committed") != NULL);
    SL_CHECK(strstr(msg, p) != NULL);
    SL_CHECK(strstr(msg, "checksum mismatch") != NULL);
    sl_test_remove_tree(tmpl);
}

static void test_outside_calls(void)
{
    void *data;
    size_t len;
    SL_CHECK_INT(sl_source_log_write(NULL, "x", 1), SL_EINVAL);
    SL_CHECK_INT(sl_source_log_read(NULL, &data, &len), SL_EINVAL);
}

const char *SL_SUITE = "stream/source_log";
const sl_test_case SL_TESTS[] = {
    {"round_trip_retention_rollback", test_round_trip_retention_rollback},
    {"outside_calls", test_outside_calls},
    {NULL, NULL}};
