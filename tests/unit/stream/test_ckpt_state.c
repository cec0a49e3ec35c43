/*
 * The stream layer's checkpoint state (src/stream/ckpt_state.c,
 * ckpt_window.c): a run that writes every stateful stream's deltas, the
 * windows' files and periodic snapshots; a fresh context restored from
 * them (at several versions, with and without snapshots) holds exactly the
 * stores and windows of the uninterrupted run, and its next batches give
 * the same output; an unchanged shard writes no delta (update_state_by_key
 * keeps a bit-identical state); a missing, truncated or flipped state or
 * window file is an error naming its path; a failed write (fault hook)
 * leaves the previous version restorable; retention and rollback by name.
 */
#include <errno.h>
#include <sluice/checkpoint.h>
#include <sluice/sluice.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checkpoint/checkpoint.h"
#include "sl_test.h"
#include "sl_test_util.h"
#include "stateful_fixture.h"
#include "state/store.h"
#include "stream/ckpt_state.h"
#include "stream/stream_int.h"

#define NB SF_NB
#define RUN SF_RUN

typedef sf_run run;

/* Where a run writes its checkpoint (its user data). */
typedef struct ckw {
    sl__ckpt *ck;        /* NULL: no checkpoint written */
    int64_t every;       /* snapshot every this many batches */
    sl_status ck_status; /* the first checkpoint write's failure */
} ckw;

/* The last output: the checkpoint writer's place in a checkpointed
 * context (between the outputs and the commit): every store's pending
 * version and every window's new entry are complete here. */
static sl_status write_output(sl_rdd *rdd, int64_t t, void *user)
{
    run *r = user;
    ckw *w = r->user;
    sl_status st;
    (void)rdd, (void)t;
    if (!w)
        return SL_OK;
    st = sl__ckpt_write_state(r->ctx, w->ck, r->ctx->current);
    if (!st)
        st = sl__ckpt_io_sync_dirs(sl__ckpt_io_of(w->ck));
    if (st && !w->ck_status)
        w->ck_status = st;
    return st;
}

static void on_completed(run *r, const sl_batch_info *b)
{
    ckw *w = r->user;
    int64_t id = b->batch_id;
    /* The log entries a checkpointed context writes (for rollback). */
    if (w && b->status == SL_OK && !w->ck_status)
        w->ck_status = sl__ckpt_log_write(w->ck, SL__CKPT_OFFSETS, id, "{}", 2);
    if (w && b->status == SL_OK && !w->ck_status)
        w->ck_status = sl__ckpt_log_write(w->ck, SL__CKPT_COMMITS, id, "{}", 2);
    if (w && b->status == SL_OK && !w->ck_status)
        w->ck_status = sl__ckpt_snapshot_state(r->ctx, w->ck, id, w->every);
}

static const sf_hooks ck_hooks = {write_output, false, true, on_completed};

/* A run that writes its checkpoint as w says (NULL: none). */
static void build(run *r, ckw *w, int64_t batches)
{
    sf_build(r, 0, batches, &ck_hooks, w);
}

static char *new_ck(sl__ckpt **ck)
{
    char err[256];
    char *d = sl_test_tmpdir("sl-ckst-");
    SL_CHECK_OK(sl__ckpt_open(d, true, "fp", 2, ck, err, sizeof err));
    return d;
}

static void drop_ck(char *d, sl__ckpt *ck)
{
    sl__ckpt_close(ck);
    if (!getenv("SL_TEST_KEEP")) /* for a look at the files */
        sl_test_remove_tree(d);
    free(d);
}

/* A fresh context restored to version v from ck: ids go on after v.
 * Returns the restore's status; *out is built either way. */
static sl_status restore_at(run *out, sl__ckpt *ck, int64_t v)
{
    sl__resume res = {v, 0, NULL, 0};
    sl_status st;
    build(out, NULL, RUN);
    SL_CHECK_OK(sl__context_skip_initial_state(out->ctx));
    SL_CHECK_OK(sl__context_resume(out->ctx, &res));
    st = sl__ckpt_restore_state(out->ctx, ck, v);
    if (st && getenv("SL_TEST_VERBOSE"))
        fprintf(stderr, "restore at %lld: %s\n", (long long)v,
                sl_context_errmsg(out->ctx));
    return st;
}

/* Restore at v, compare with the uninterrupted run, go on to the end. */
static void check_restart(const run *whole, sl__ckpt *ck, int64_t v)
{
    run again;
    char *fresh;
    int64_t id;

    SL_CHECK_OK(restore_at(&again, ck, v));
    fresh = sf_snapshot(&again);
    SL_CHECK(whole->snap[v] != NULL);
    if (whole->snap[v])
        SL_CHECK_STR(fresh, whole->snap[v]);
    free(fresh);
    sf_push_from(&again, v + 1);
    sf_run_all(&again);
    for (id = v + 1; id <= RUN; id++) {
        SL_CHECK(whole->out[id].p && again.out[id].p);
        if (whole->out[id].p && again.out[id].p)
            SL_CHECK_STR(again.out[id].p, whole->out[id].p);
        SL_CHECK_STR(again.snap[id], whole->snap[id]);
    }
    sf_run_free(&again);
}

static bool exists(const char *d, const char *rel)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", d, rel);
    return access(p, F_OK) == 0;
}

/* A copy of checkpoint d, opened: a restore deletes the files after its
 * version (a batch that never committed), so each restart gets its own. */
static char *copy_ck(const char *d, sl__ckpt **ck)
{
    char cmd[256], err[256], *c = malloc(strlen(d) + 8);
    sprintf(c, "%s.copy", d);
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && cp -a '%s' '%s'", c, d, c);
    SL_CHECK_INT(system(cmd), 0);
    SL_CHECK_OK(sl__ckpt_open(c, false, NULL, 0, ck, err, sizeof err));
    return c;
}

/* A checkpointed run, then restarts at every version: with snapshots
 * every 2 batches and with none (deltas from the initial state's). */
static void restart_each(int64_t every)
{
    sl__ckpt *ck;
    char *d = new_ck(&ck);
    run whole;
    ckw w = {ck, every, SL_OK};
    int64_t v;

    build(&whole, &w, RUN);
    sf_push_from(&whole, 1);
    sf_run_all(&whole);
    SL_CHECK_OK(w.ck_status);
    /* Escaped names, the initial state's snapshot, the windows. */
    SL_CHECK(exists(d, "state/%2Ecounts/0/0.snapshot") ||
             exists(d, "state/%2Ecounts/1/0.snapshot") ||
             exists(d, "state/%2Ecounts/2/0.snapshot"));
    SL_CHECK(exists(d, "windows/win/1.window"));
    SL_CHECK(exists(d, "windows/rwin/1.window"));
    SL_CHECK(exists(d, "windows/~window-2/1.window"));
    for (v = 1; v < RUN; v++) {
        sl__ckpt *ck2;
        char *c = copy_ck(d, &ck2);
        check_restart(&whole, ck2, v);
        drop_ck(c, ck2);
    }
    sf_run_free(&whole);
    drop_ck(d, ck);
}

static void test_restart_deltas_only(void)
{
    restart_each(0);
}

static void test_restart_with_snapshots(void)
{
    restart_each(2);
}

/* A whole checkpointed run into a new directory. */
static char *checkpointed_run(run *whole, sl__ckpt **ck, int64_t every)
{
    char *d = new_ck(ck);
    ckw w = {*ck, every, SL_OK};
    build(whole, &w, RUN);
    sf_push_from(whole, 1);
    sf_run_all(whole);
    SL_CHECK_OK(w.ck_status);
    whole->user = NULL; /* w ends here; the run has ended too */
    return d;
}

static int count_files(const char *d, const char *pattern)
{
    char cmd[512], line[64];
    FILE *f;
    int n = -1;
    snprintf(cmd, sizeof cmd, "cd '%s' && ls %s 2>/dev/null | wc -l", d,
             pattern);
    f = popen(cmd, "r");
    if (f && fgets(line, sizeof line, f))
        n = atoi(line);
    if (f)
        pclose(f);
    return n;
}

/* Batches 7..9 have no input: update_state_by_key keeps every state as
 * it was, so its shards write no delta (before, every key was put again
 * with a new time and every shard wrote one each batch). */
static void test_unchanged_shard_no_delta(void)
{
    sl__ckpt *ck;
    run whole;
    char *d = checkpointed_run(&whole, &ck, 0);
    SL_CHECK_INT(count_files(d, "state/%2Ecounts/*/[789].delta"), 0);
    SL_CHECK(count_files(d, "state/%2Ecounts/*/[1-6].delta") > 0);
    /* A shard without keys of batch 1 (k0, k2, k3 are in 0 and 1) has
     * no delta of batch 1. */
    SL_CHECK_INT(count_files(d, "state/%2Ecounts/2/1.delta"), 0);
    sf_run_free(&whole);
    drop_ck(d, ck);
}

/* Damage one file of a copy with shell command cmd (run in the copy),
 * then restore at 6: refused, the message naming `named`. */
static void damaged(const char *d, const char *cmd, const char *named)
{
    sl__ckpt *ck2;
    char *c = copy_ck(d, &ck2), sh[512];
    run again;
    sl_status st;
    snprintf(sh, sizeof sh, "cd '%s' && %s", c, cmd);
    SL_CHECK_INT(system(sh), 0);
    st = restore_at(&again, ck2, 6);
    SL_CHECK(st == SL_ECORRUPT || st == SL_ENOTFOUND);
    if (!strstr(sl_context_errmsg(again.ctx), named))
        sl_test_fail(__FILE__, __LINE__, "\"%s\" does not name %s",
                     sl_context_errmsg(again.ctx), named);
    sf_run_free(&again);
    drop_ck(c, ck2);
}

static void test_corruption_named(void)
{
    sl__ckpt *ck;
    run whole;
    char *d = checkpointed_run(&whole, &ck, 0);
    /* k0's shard 0 has a delta every data batch. */
    damaged(d, "rm $(ls state/%2Ecounts/*/3.delta | head -1)", "/3.delta");
    damaged(d, "truncate -s 30 $(ls state/%2Ecounts/*/4.delta | head -1)",
            "/4.delta");
    damaged(d,
            "printf 'X' | dd of=state/sums/2/0.snapshot bs=1 seek=30 "
            "conv=notrunc 2>/dev/null",
            "state/sums/2/0.snapshot");
    damaged(d, "rm state/sums/2/0.snapshot", "state/sums/2/0.snapshot");
    damaged(d, "truncate -s 10 windows/rwin/5.window", "windows/rwin/5.window");
    damaged(d,
            "printf 'X' | dd of=windows/win/6.window bs=1 seek=26 "
            "conv=notrunc 2>/dev/null",
            "windows/win/6.window");
    damaged(d, "rm windows/win/5.window", "windows/win/5.window");
    sf_run_free(&whole);
    drop_ck(d, ck);
}

static int fail_batch4(void *user, sl__ckpt_step step, const char *path)
{
    (void)user;
    return step == SL__CKPT_STEP_RENAME && strstr(path, "%2Ecounts/") &&
                   strstr(path, "/4.delta")
               ? ENOSPC
               : 0;
}

/* A write failing at batch 4 fails the batch; the directory still
 * restores version 3 exactly (batch 4's deltas written before the failure
 * are dropped by the restore). */
static void test_write_failure(void)
{
    sl__ckpt *ck;
    run whole, failed;
    char *d = checkpointed_run(&whole, &ck, 0), *d2;
    sl__ckpt *ck2;
    ckw w;

    d2 = new_ck(&ck2);
    w = (ckw){ck2, 0, SL_OK};
    sl__ckpt_io_of(ck2)->fault = fail_batch4;
    build(&failed, &w, RUN);
    sf_push_from(&failed, 1);
    sf_run_all(&failed);
    SL_CHECK_INT(w.ck_status, SL_EIO);
    SL_CHECK(strstr(sl__ckpt_io_errmsg(sl__ckpt_io_of(ck2)), "/4.delta") !=
             NULL);
    /* Files of batch 4 before the failing one are there. */
    SL_CHECK(count_files(d2, "state/sums/*/4.delta") > 0);
    SL_CHECK(count_files(d2, "windows/*/4.window") > 0);
    sf_run_free(&failed);
    sl__ckpt_io_of(ck2)->fault = NULL;
    check_restart(&whole, ck2, 3);
    SL_CHECK_INT(count_files(d2, "state/*/*/4.delta"), 0);
    SL_CHECK_INT(count_files(d2, "windows/*/4.window"), 0);
    drop_ck(d2, ck2);
    sf_run_free(&whole);
    drop_ck(d, ck);
}

/* Retention keeps what versions >= 7 need (and they restore exactly);
 * rollback by name (no context) drops versions after 7. */
static void test_prune_and_rollback(void)
{
    sl__ckpt *ck, *ck2;
    run whole, shape;
    char *d = checkpointed_run(&whole, &ck, 2), *c;
    int64_t v;

    build(&shape, NULL, RUN);
    SL_CHECK_OK(sl__ckpt_prune_state(shape.ctx, ck, 7));
    SL_CHECK_OK(sl__ckpt_io_sync_dirs(sl__ckpt_io_of(ck)));
    sf_run_free(&shape);
    SL_CHECK_INT(count_files(d, "state/*/*/[0-5].snapshot"), 0);
    SL_CHECK_INT(count_files(d, "state/*/*/[0-6].delta"), 0);
    SL_CHECK(count_files(d, "state/*/*/6.snapshot") > 0);
    SL_CHECK_INT(count_files(d, "windows/*/1.window"), 0);
    for (v = 7; v < RUN; v++) {
        c = copy_ck(d, &ck2);
        check_restart(&whole, ck2, v);
        drop_ck(c, ck2);
    }
    SL_CHECK_OK(sl__ckpt_prune_hook(NULL, ck, INT64_MIN, 7));
    SL_CHECK_INT(count_files(d, "state/*/*/[89].*"), 0);
    SL_CHECK_INT(count_files(d, "windows/*/[89].window"), 0);
    SL_CHECK(count_files(d, "windows/*/7.window") > 0);
    check_restart(&whole, ck, 7);
    /* streamctl checkpoint rollback's API takes state files along; it
     * runs once the job is gone (the checkpoint is locked till then). */
    sl__ckpt_close(ck);
    ck = NULL;
    SL_CHECK_OK(sl_checkpoint_rollback(d, 6, NULL, 0));
    SL_CHECK_INT(count_files(d, "state/*/*/7.*"), 0);
    SL_CHECK_INT(count_files(d, "windows/*/7.window"), 0);
    SL_CHECK(count_files(d, "windows/*/6.window") > 0);
    sf_run_free(&whole);
    drop_ck(d, ck);
}

const char *SL_SUITE = "ckpt_state";
const sl_test_case SL_TESTS[] = {
    {"restart_deltas_only", test_restart_deltas_only},
    {"restart_with_snapshots", test_restart_with_snapshots},
    {"unchanged_shard_no_delta", test_unchanged_shard_no_delta},
    {"corruption_named", test_corruption_named},
    {"write_failure", test_write_failure},
    {"prune_and_rollback", test_prune_and_rollback},
    {NULL, NULL},
};
