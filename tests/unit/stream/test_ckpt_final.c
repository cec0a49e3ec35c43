/*
 * The clean end's final snapshot (recovery.c, sl__recovery_final): when it
 * cannot be written (a full disk, through the checkpoint's fault hook) the
 * stop still succeeds, the failure is only logged, and the context's error
 * stays empty; the deltas restore the state at the next start.
 */
#include <errno.h>
#include <glob.h>
#include <sluice/sluice.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint/checkpoint.h"
#include "sl_test.h"
#include "sl_test_util.h"
#include "stream/stream_int.h"

static sl_status count_update(sl_task *t, const sl_value *key,
                              const sl_value *values, const sl_value *state,
                              sl_value *new_state, bool *remove, void *user)
{
    (void)t, (void)key, (void)user;
    *remove = false;
    *new_state = sl_int((state ? state->u.i : 0) + (int64_t)values->len);
    return SL_OK;
}

static sl_status ignore(sl_rdd *rdd, int64_t time_ms, void *user)
{
    (void)rdd, (void)time_ms, (void)user;
    return SL_OK;
}

static sl_context *create(void *user, char *errbuf, size_t errlen)
{
    sl_conf *conf = sl_conf_new();
    sl_value keys[3] = {sl_cstr("a"), sl_cstr("b"), sl_cstr("a")};
    sl_context *ctx;
    sl_dstream *q, *counts;
    (void)user;
    SL_CHECK_OK(sl_conf_set(conf, "clock", "manual", errbuf, errlen));
    SL_CHECK_OK(sl_conf_set(conf, "max_batches", "3", errbuf, errlen));
    SL_CHECK_OK(sl_conf_set(conf, "log.level", "error", errbuf, errlen));
    ctx = sl_context_new(conf, errbuf, errlen);
    SL_CHECK(ctx != NULL);
    q = sl_queue_stream(ctx, 1);
    counts = sl_dstream_update_state_by_key(
        sl_dstream_map(q, sl_fn_pair_one, NULL), count_update, NULL, NULL, 0);
    SL_CHECK(q && counts);
    SL_CHECK_OK(sl_dstream_set_name(q, "q"));
    SL_CHECK_OK(sl_dstream_set_name(counts, "counts"));
    SL_CHECK_OK(sl_dstream_foreach_rdd(counts, ignore, NULL));
    SL_CHECK_OK(sl_queue_stream_push(q, keys, 3));
    SL_CHECK_OK(sl_queue_stream_push(q, keys, 2));
    return ctx;
}

static int fail_snapshots(void *user, sl__ckpt_step step, const char *path)
{
    (void)user;
    return step == SL__CKPT_STEP_WRITE && strstr(path, ".snapshot") ? ENOSPC
                                                                    : 0;
}

static size_t count(const char *dir, const char *pattern)
{
    char p[512];
    glob_t g;
    size_t n;
    snprintf(p, sizeof p, "%s/%s", dir, pattern);
    if (glob(p, 0, NULL, &g) != 0)
        return 0;
    n = g.gl_pathc;
    globfree(&g);
    return n;
}

static void test_final_snapshot_failure_only_logs(void)
{
    char tmpl[] = "/tmp/sl-ckfinal-XXXXXX", err[256];
    char *d = mkdtemp(tmpl);
    sl_context *ctx;

    SL_CHECK(d != NULL);
    ctx = sl_context_get_or_create(d, create, NULL, err, sizeof err);
    SL_CHECK(ctx != NULL);
    /* The checkpoint is open before the start: no other thread yet. */
    sl__ckpt_io_of(ctx->ck)->fault = fail_snapshots;
    SL_CHECK_OK(sl_context_start(ctx));
    SL_CHECK_OK(sl_context_await_termination(ctx));
    SL_CHECK_INT(sl_context_errcode(ctx), SL_OK);
    SL_CHECK_STR(sl_context_errmsg(ctx), "");
    SL_CHECK_INT(count(d, "state/counts/*/*.snapshot"), 0);
    SL_CHECK(count(d, "state/counts/*/*.delta") > 0);
    SL_CHECK(count(d, "commits/3") == 1);
    sl_context_free(ctx);
    sl_test_remove_tree(d);
}

const char *SL_SUITE = "ckpt_final";
const sl_test_case SL_TESTS[] = {
    {"final_snapshot_failure_only_logs", test_final_snapshot_failure_only_logs},
    {NULL, NULL},
};
