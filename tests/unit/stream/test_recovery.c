/*
 * The checkpoint wiring (src/stream/recovery.c, fingerprint.c): a
 * checkpointed run records offsets and commits per batch; a restart goes
 * on after the last batch with the output an uninterrupted run gives; a
 * batch without a commit runs again from its recorded input; an
 * incompatible job, an unnamed source and a corrupt entry are refused,
 * named; the fingerprint's messages, table-driven.
 */
#include <sluice/sluice.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/codec.h"
#include "sl_test.h"
#include "sl_test_util.h"
#include "stream/stream_int.h"

#define MAXB 12

typedef struct run {
    char *values[MAXB + 2]; /* per batch id: the records as JSON */
    int64_t ids[MAXB + 2];  /* ids in the order they ran */
    size_t nids;
    char *pending;
} run;

static void run_free(run *r)
{
    size_t i;
    for (i = 0; i < MAXB + 2; i++)
        free(r->values[i]);
    free(r->pending);
    memset(r, 0, sizeof *r);
}

static sl_status collect(sl_rdd *rdd, int64_t time_ms, void *user)
{
    run *r = user;
    const sl_value *recs;
    size_t n;
    sl_status st = sl_rdd_collect(rdd, &recs, &n);
    (void)time_ms;
    if (st == SL_OK)
        r->pending = sl_test_json_join(recs, n, " ", false);
    return st;
}

static void on_completed(const sl_batch_info *info, void *user)
{
    run *r = user;
    if (info->batch_id < 1 || info->batch_id > MAXB || info->status != SL_OK)
        return;
    r->ids[r->nids++] = info->batch_id;
    free(r->values[info->batch_id]);
    r->values[info->batch_id] = r->pending;
    r->pending = NULL;
}

/* A generator job over dir (NULL: no checkpoint), not started. */
static sl_context *build(const char *dir, int64_t max_batches,
                         const char *interval, bool named, run *r)
{
    char err[256], mb[32];
    const char *set[] = {"clock",
                         "manual",
                         "workers",
                         "2",
                         "log.level",
                         "error",
                         "generator.lines_per_batch",
                         "3",
                         "generator.partitions",
                         "2",
                         "batch_interval",
                         interval,
                         NULL};
    sl_conf *conf = sl_conf_new();
    sl_context *ctx;
    sl_dstream *s;
    sl_listener l;
    size_t i;
    snprintf(mb, sizeof mb, "%lld", (long long)max_batches);
    SL_CHECK_OK(sl_conf_set(conf, "max_batches", mb, err, sizeof err));
    for (i = 0; set[i]; i += 2)
        SL_CHECK_OK(sl_conf_set(conf, set[i], set[i + 1], err, sizeof err));
    if (dir)
        SL_CHECK_OK(sl_conf_set(conf, "checkpoint.path", dir, err, sizeof err));
    ctx = sl_context_new(conf, err, sizeof err);
    SL_CHECK(ctx != NULL);
    s = sl_text_generator_stream(ctx, NULL);
    SL_CHECK(s != NULL);
    if (named)
        SL_CHECK_OK(sl_dstream_set_name(s, "words"));
    SL_CHECK_OK(sl_dstream_foreach_rdd(s, collect, r));
    memset(&l, 0, sizeof l);
    l.version = SL_LISTENER_VERSION;
    l.on_batch_completed = on_completed;
    SL_CHECK_OK(sl_context_add_listener(ctx, &l, r));
    return ctx;
}

static sl_status run_to_end(const char *dir, int64_t max_batches, run *r)
{
    sl_context *ctx = build(dir, max_batches, "1s", true, r);
    sl_status st = sl_context_start(ctx);
    if (st == SL_OK)
        st = sl_context_await_termination(ctx);
    sl_context_free(ctx);
    return st;
}

static char *new_dir(void)
{
    char tmpl[] = "/tmp/sl-recovery-XXXXXX";
    char *d = mkdtemp(tmpl);
    char *ck;
    SL_CHECK(d != NULL);
    ck = malloc(strlen(d) + 4);
    sprintf(ck, "%s/ck", d);
    return ck;
}

static void drop_dir(char *ck)
{
    ck[strlen(ck) - 3] = '\0';
    sl_test_remove_tree(ck);
    free(ck);
}

static bool exists(const char *ck, const char *rel)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", ck, rel);
    return access(p, F_OK) == 0;
}

/* Stop after 3, restart to 7: batches 4..7 run and equal one run's. */
static void test_restart_goes_on(void)
{
    char *ck = new_dir();
    run a, b, c;
    int64_t id;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    memset(&c, 0, sizeof c);
    SL_CHECK_OK(run_to_end(NULL, 7, &a));
    SL_CHECK_OK(run_to_end(ck, 3, &b));
    SL_CHECK(exists(ck, "metadata") && exists(ck, "offsets/3") &&
             exists(ck, "commits/3") && !exists(ck, "offsets/4"));
    SL_CHECK_OK(run_to_end(ck, 7, &c));
    SL_CHECK_INT(c.nids, 4);
    for (id = 1; id <= 7; id++) {
        const char *got = id <= 3 ? b.values[id] : c.values[id];
        SL_CHECK(got && a.values[id] && strcmp(got, a.values[id]) == 0);
    }
    SL_CHECK_INT(c.ids[0], 4);
    /* Restarted at its last batch: nothing more runs. */
    run_free(&c);
    SL_CHECK_OK(run_to_end(ck, 7, &c));
    SL_CHECK_INT(c.nids, 0);
    run_free(&a);
    run_free(&b);
    run_free(&c);
    drop_dir(ck);
}

/* A batch with offsets and no commit runs again with the same input. */
static void test_uncommitted_rerun(void)
{
    char *ck = new_dir(), p[512];
    run a, b;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    SL_CHECK_OK(run_to_end(ck, 4, &a));
    snprintf(p, sizeof p, "%s/commits/4", ck);
    SL_CHECK(unlink(p) == 0);
    snprintf(p, sizeof p, "%s/commits/3", ck);
    SL_CHECK(unlink(p) == 0);
    SL_CHECK_OK(run_to_end(ck, 5, &b));
    SL_CHECK_INT(b.nids, 3);
    SL_CHECK(b.ids[0] == 3 && b.ids[1] == 4 && b.ids[2] == 5);
    SL_CHECK(b.values[3] && strcmp(b.values[3], a.values[3]) == 0);
    SL_CHECK(b.values[4] && strcmp(b.values[4], a.values[4]) == 0);
    SL_CHECK(exists(ck, "commits/3") && exists(ck, "commits/4"));
    run_free(&a);
    run_free(&b);
    drop_dir(ck);
}

static void test_refused(void)
{
    char *ck = new_dir(), p[512];
    run a;
    sl_context *ctx;
    FILE *f;
    memset(&a, 0, sizeof a);
    SL_CHECK_OK(run_to_end(ck, 2, &a));
    /* another batch interval */
    ctx = build(ck, 4, "2s", true, &a);
    SL_CHECK_INT(sl_context_start(ctx), SL_ECONF);
    SL_CHECK(strstr(sl_context_errmsg(ctx),
                    "batch interval changed from 1000 ms to 2000 ms") != NULL);
    sl_context_free(ctx);
    /* an unnamed source */
    ctx = build(ck, 4, "1s", false, &a);
    SL_CHECK_INT(sl_context_start(ctx), SL_EINVAL);
    SL_CHECK(strstr(sl_context_errmsg(ctx), "no name") != NULL);
    sl_context_free(ctx);
    /* a flipped byte in the last offsets entry */
    snprintf(p, sizeof p, "%s/offsets/2", ck);
    f = fopen(p, "r+b");
    SL_CHECK(f != NULL);
    fseek(f, 30, SEEK_SET);
    fputc('#', f);
    fclose(f);
    ctx = build(ck, 4, "1s", true, &a);
    SL_CHECK_INT(sl_context_start(ctx), SL_ECORRUPT);
    SL_CHECK(strstr(sl_context_errmsg(ctx), "offsets/2") != NULL);
    SL_CHECK(strstr(sl_context_errmsg(ctx), "checksum mismatch") != NULL);
    sl_context_free(ctx);
    run_free(&a);
    drop_dir(ck);
}

typedef struct create_arg {
    run *r;
    const char *interval;
    int calls;
} create_arg;

static sl_context *create_ctx(void *user, char *errbuf, size_t errlen)
{
    create_arg *a = user;
    (void)errbuf;
    (void)errlen;
    a->calls++;
    return build(NULL, 5, a->interval, true, a->r);
}

static sl_context *fail_create(void *user, char *errbuf, size_t errlen)
{
    (void)user;
    snprintf(errbuf, errlen, "no context today");
    return NULL;
}

/* getOrCreate: creates the checkpoint, goes on from it, refuses a job
 * that changed, passes create's failure on. */
static void test_get_or_create(void)
{
    char *ck = new_dir(), err[512];
    run a, b;
    create_arg arg;
    sl_context *ctx;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    arg.r = &a;
    arg.interval = "1s";
    arg.calls = 0;
    ctx = sl_context_get_or_create(ck, create_ctx, &arg, err, sizeof err);
    SL_CHECK(ctx != NULL);
    SL_CHECK(exists(ck, "metadata"));
    SL_CHECK_OK(sl_context_start(ctx));
    SL_CHECK_OK(sl_context_await_termination(ctx));
    sl_context_free(ctx);
    SL_CHECK_INT(a.nids, 5);
    /* the same job again: nothing left to run (max_batches 5) */
    arg.r = &b;
    ctx = sl_context_get_or_create(ck, create_ctx, &arg, err, sizeof err);
    SL_CHECK(ctx != NULL);
    SL_CHECK_OK(sl_context_check_checkpoint(ctx, ck));
    SL_CHECK_OK(sl_context_start(ctx));
    SL_CHECK_OK(sl_context_await_termination(ctx));
    sl_context_free(ctx);
    SL_CHECK_INT(b.nids, 0);
    SL_CHECK_INT(arg.calls, 2);
    arg.interval = "2s";
    ctx = sl_context_get_or_create(ck, create_ctx, &arg, err, sizeof err);
    SL_CHECK(ctx == NULL);
    SL_CHECK(strstr(err, "batch interval changed from 1000 ms to 2000 ms") !=
             NULL);
    ctx = sl_context_get_or_create(ck, fail_create, NULL, err, sizeof err);
    SL_CHECK(ctx == NULL);
    SL_CHECK_STR(err, "no context today");
    run_free(&a);
    run_free(&b);
    drop_dir(ck);
}

/* check_checkpoint reads only: a directory without metadata is fine and
 * stays empty. */
static void test_check_reads_only(void)
{
    char *ck = new_dir();
    run a;
    sl_context *ctx;
    memset(&a, 0, sizeof a);
    ctx = build(NULL, 2, "1s", true, &a);
    SL_CHECK_OK(sl_context_check_checkpoint(ctx, ck));
    SL_CHECK(!exists(ck, "."));
    sl_context_free(ctx);
    drop_dir(ck);
}

#define HDR "sluice-fingerprint 1\n"
#define JOB1 "job\tbatch interval\t1000 ms\njob\tstate shards\t16\n"
#define CNT "stream 'c'\tkind\treduce_by_key_and_window\n"

static const struct {
    const char *old, *cur, *msg;
} fp_cases[] = {
    {HDR JOB1 CNT, HDR JOB1 CNT, ""},
    {HDR JOB1, HDR "job\tbatch interval\t2000 ms\njob\tstate shards\t16\n",
     "batch interval changed from 1000 ms to 2000 ms"},
    {HDR JOB1, HDR "job\tbatch interval\t1000 ms\njob\tstate shards\t8\n",
     "state shards changed from 16 to 8"},
    {HDR JOB1 CNT "stream 'c'\twindow\t30000 ms\n",
     HDR JOB1 CNT "stream 'c'\twindow\t20000 ms\n",
     "stream 'c' (reduce_by_key_and_window) window changed from 30000 ms to "
     "20000 ms"},
    {HDR JOB1 CNT, HDR JOB1,
     "stream 'c' (reduce_by_key_and_window) is no longer in the job"},
    {HDR JOB1, HDR JOB1 CNT, "stream 'c' (reduce_by_key_and_window) is new"},
    {HDR JOB1 CNT, HDR JOB1 CNT "stream 'c'\tinverse\tyes\n",
     "stream 'c' (reduce_by_key_and_window) inverse was added (yes)"},
    {HDR JOB1 CNT "stream 'c'\tinput\tstream 'a'\n",
     HDR JOB1 CNT "stream 'c'\tinput\tstream 'b'\n",
     "stream 'c' (reduce_by_key_and_window) input changed from stream 'a' "
     "to stream 'b'"},
    {"garbage\n", HDR JOB1,
     "the checkpoint's configuration record is not one this build reads"},
};

static void test_fingerprint_messages(void)
{
    size_t i;
    char msg[1024];
    for (i = 0; i < sizeof fp_cases / sizeof fp_cases[0]; i++) {
        size_t n = sl__fingerprint_diff(
            fp_cases[i].old, strlen(fp_cases[i].old), fp_cases[i].cur,
            strlen(fp_cases[i].cur), msg, sizeof msg);
        if (strcmp(msg, fp_cases[i].msg) != 0)
            fprintf(stderr, "case %zu: got \"%s\"\n", i, msg);
        SL_CHECK_STR(msg, fp_cases[i].msg);
        SL_CHECK_INT(n > 0, *fp_cases[i].msg != '\0');
    }
}

/* The fingerprint leaves out what may change: workers, sinks, log. */
static void test_fingerprint_content(void)
{
    run a;
    sl__buf fp = {0};
    sl_context *ctx;
    memset(&a, 0, sizeof a);
    ctx = build(NULL, 1, "1s", true, &a);
    SL_CHECK_OK(sl__fingerprint_build(ctx, &fp));
    SL_CHECK_OK(sl__buf_append(&fp, "", 1));
    SL_CHECK(strstr(fp.data, "job\tbatch interval\t1000 ms\n") != NULL);
    SL_CHECK(strstr(fp.data, "stream 'words'\tkind\tsource\n") != NULL);
    SL_CHECK(strstr(fp.data, "workers") == NULL);
    sl__buf_free(&fp);
    sl_context_free(ctx);
    run_free(&a);
}

const char *SL_SUITE = "stream/recovery";
const sl_test_case SL_TESTS[] = {
    {"restart_goes_on", test_restart_goes_on},
    {"uncommitted_rerun", test_uncommitted_rerun},
    {"refused", test_refused},
    {"fingerprint_messages", test_fingerprint_messages},
    {"fingerprint_content", test_fingerprint_content},
    {"get_or_create", test_get_or_create},
    {"check_reads_only", test_check_reads_only},
    {NULL, NULL}};
