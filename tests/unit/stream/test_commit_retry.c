/*
 * The last committed batch's commit calls again after a restart
 * (src/stream/recovery.c, sl__recovery_recommit): a first run whose sink
 * commit of its last batch fails (the batch stays committed), or a run
 * that simply ended, is restarted on the same checkpoint; before any new
 * batch the sink's and the source's commit of that batch are called once
 * more, and a commit that fails again fails the job, named.
 */
#include <sluice/sluice.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sl_test.h"
#include "sl_test_util.h"

#define MAXB 16

/* What one run saw: commit and write calls per batch id, in order. */
typedef struct calls {
    int64_t log[64]; /* +id: sink commit, -id: sink write, 1000+id: source
                        commit */
    size_t n;
    int sink_commits[MAXB], source_commits[MAXB];
    int64_t fail_commit; /* the sink's commit of this batch fails */
} calls;

static void note(calls *c, int64_t v)
{
    if (c->n < 64)
        c->log[c->n++] = v;
}

/* ------------------------------------------------------ counting sink */

static sl_status sink_write(void *state, int64_t id, int64_t time_ms,
                            sl_rdd *rdd)
{
    (void)time_ms;
    (void)rdd;
    note(state, -id);
    return SL_OK;
}

static sl_status sink_commit(void *state, int64_t id)
{
    calls *c = state;
    note(c, id);
    if (id > 0 && id < MAXB)
        c->sink_commits[id]++;
    return id == c->fail_commit ? SL_EIO : SL_OK;
}

static void sink_free(void *state)
{
    (void)state;
}

static const sl_sink_ops sink_ops = {
    SL_SINK_OPS_VERSION, "count", NULL, sink_write, sink_commit, NULL, NULL,
    sink_free,           NULL};

/* --------------------------------------- source: one value per batch */

static sl_status src_plan(void *state, int64_t id, int64_t time_ms,
                          sl_plan *plan)
{
    sl_value v = sl_int(id);
    char off[32];
    sl_status st;
    (void)state;
    (void)time_ms;
    snprintf(off, sizeof off, "%lld", (long long)id);
    if ((st = sl_plan_add_values(plan, &v, 1)) != SL_OK)
        return st;
    return sl_plan_set_offsets(plan, off);
}

static sl_status src_replan(void *state, int64_t id, int64_t time_ms,
                            const char *offsets, sl_plan *plan)
{
    (void)offsets;
    return src_plan(state, id, time_ms, plan);
}

static void src_commit(void *state, int64_t id)
{
    calls *c = state;
    note(c, 1000 + id);
    if (id > 0 && id < MAXB)
        c->source_commits[id]++;
}

static void src_free(void *state)
{
    (void)state;
}

static const sl_planned_ops src_ops = {SL_PLANNED_OPS_VERSION,
                                       "counted",
                                       src_plan,
                                       src_commit,
                                       src_free,
                                       src_replan,
                                       NULL,
                                       NULL,
                                       NULL,
                                       NULL,
                                       NULL,
                                       NULL};

static sl_status run(const char *ck, int64_t max_batches, calls *c)
{
    char err[256], mb[32];
    sl_conf *conf = sl_conf_new();
    sl_context *ctx;
    sl_dstream *s;
    sl_status st;
    snprintf(mb, sizeof mb, "%lld", (long long)max_batches);
    SL_CHECK_OK(sl_conf_set(conf, "max_batches", mb, err, sizeof err));
    SL_CHECK_OK(sl_conf_set(conf, "clock", "manual", err, sizeof err));
    SL_CHECK_OK(sl_conf_set(conf, "log.level", "error", err, sizeof err));
    SL_CHECK_OK(sl_conf_set(conf, "checkpoint.path", ck, err, sizeof err));
    ctx = sl_context_new(conf, err, sizeof err);
    SL_CHECK(ctx != NULL);
    s = sl_planned_stream(ctx, &src_ops, c);
    SL_CHECK(s != NULL);
    SL_CHECK_OK(sl_dstream_set_name(s, "counted"));
    SL_CHECK_OK(sl_dstream_add_sink(s, "counter", &sink_ops, c));
    st = sl_context_start(ctx);
    if (st == SL_OK)
        st = sl_context_await_termination(ctx);
    if (st != SL_OK)
        SL_CHECK(strstr(sl_context_errmsg(ctx), "sink counter: commit") !=
                 NULL);
    sl_context_free(ctx);
    return st;
}

static char *new_ck(void)
{
    char tmpl[] = "/tmp/sl-commitretry-XXXXXX";
    char *d = mkdtemp(tmpl), *ck;
    SL_CHECK(d != NULL);
    ck = malloc(strlen(d) + 4);
    sprintf(ck, "%s/ck", d);
    return ck;
}

static void drop_ck(char *ck)
{
    ck[strlen(ck) - 3] = '\0';
    sl_test_remove_tree(ck);
    free(ck);
}

/* The sink's commit of batch 3 fails: the job fails, batch 3 stays
 * committed (it is not run again), and the restart commits it first. */
static void test_failed_commit_retried(void)
{
    char *ck = new_ck();
    calls a, b;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    a.fail_commit = 3;
    SL_CHECK_INT(run(ck, 5, &a), SL_EIO);
    SL_CHECK_INT(a.sink_commits[3], 1);
    SL_CHECK_INT(a.sink_commits[4], 0); /* the job stopped at batch 3 */
    SL_CHECK_INT(a.source_commits[3], 1);

    SL_CHECK_OK(run(ck, 5, &b));
    /* Batch 3 is committed: commit again, before batch 4's write. */
    SL_CHECK(b.n >= 2);
    SL_CHECK_INT(b.log[0], 3);
    SL_CHECK_INT(b.log[1], 1003);
    SL_CHECK_INT(b.log[2], -4);
    SL_CHECK_INT(b.sink_commits[3], 1);
    SL_CHECK_INT(b.source_commits[3], 1);
    SL_CHECK_INT(b.sink_commits[4], 1);
    SL_CHECK_INT(b.sink_commits[5], 1);
    SL_CHECK_INT(b.sink_commits[2], 0); /* only the last committed batch */
    drop_ck(ck);
}

/* A commit that fails again at the restart fails the job before any new
 * batch runs, with the sink and the batch named; a clean run's last batch
 * is committed once more at the next start (commit is idempotent). */
static void test_failed_again_and_clean(void)
{
    char *ck = new_ck();
    calls a, b, c;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    memset(&c, 0, sizeof c);
    a.fail_commit = b.fail_commit = 2;
    SL_CHECK_INT(run(ck, 4, &a), SL_EIO);
    SL_CHECK_INT(run(ck, 4, &b), SL_EIO);
    SL_CHECK_INT(b.n, 2); /* commit(2) and the source's: no batch ran */
    SL_CHECK_INT(b.sink_commits[2], 1);
    SL_CHECK_INT(b.source_commits[2], 1);
    SL_CHECK_OK(run(ck, 4, &c));
    SL_CHECK_INT(c.sink_commits[2], 1);
    SL_CHECK_INT(c.sink_commits[3], 1);
    SL_CHECK_INT(c.sink_commits[4], 1);
    memset(&c, 0, sizeof c);
    SL_CHECK_OK(run(ck, 4, &c)); /* at max_batches: only the re-commit */
    SL_CHECK_INT(c.sink_commits[4], 1);
    SL_CHECK_INT(c.source_commits[4], 1);
    SL_CHECK_INT(c.sink_commits[3], 0);
    drop_ck(ck);
}

const char *SL_SUITE = "stream_commit_retry";
const sl_test_case SL_TESTS[] = {
    {"failed_commit_retried", test_failed_commit_retried},
    {"failed_again_and_clean", test_failed_again_and_clean},
    {NULL, NULL}};
