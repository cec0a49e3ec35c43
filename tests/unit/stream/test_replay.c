/*
 * Eager planning and replay (src/stream/planned.c, identity.c and the
 * planned connectors' replan/restore): every batch records each source's
 * offsets, empty batches included; a NEW context with a NEW source, resumed
 * after the first run's last batch, replays the recorded offsets into the
 * same values; restore continues a source after a committed batch; the
 * directory source reads a grown file to its recorded size and refuses a
 * replaced one, naming it; batch ids go on from a resumed id; names.
 */
#include <sluice/sluice.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sl_test.h"
#include "sl_test_util.h"
#include "stream/stream_int.h"

#define MAX_BATCHES 16

/* What one run saw, per batch id (1..MAX_BATCHES). */
typedef struct run {
    char *values[MAX_BATCHES + 2];  /* the batch's records as JSON */
    char *offsets[MAX_BATCHES + 2]; /* source 0's recorded offsets */
    int64_t records[MAX_BATCHES + 2];
    int64_t ids[MAX_BATCHES + 2]; /* ids in the order they ran */
    int64_t times[MAX_BATCHES + 2];
    size_t nids;
    bool planned[MAX_BATCHES + 2]; /* info.num_sources was set */
} run;

typedef sl_dstream *(*make_fn)(sl_context *ctx, void *arg);

static void run_free(run *r)
{
    size_t i;
    for (i = 0; i < MAX_BATCHES + 2; i++) {
        free(r->values[i]);
        free(r->offsets[i]);
    }
    memset(r, 0, sizeof *r);
}

static sl_status collect(sl_rdd *rdd, int64_t time_ms, void *user)
{
    run *r = user;
    const sl_value *recs;
    size_t n;
    sl_status st = sl_rdd_collect(rdd, &recs, &n);
    (void)time_ms;
    if (st != SL_OK)
        return st;
    /* The batch id comes from the listener; keep the text by time. */
    r->values[MAX_BATCHES + 1] = sl_test_json_join(recs, n, " ", false);
    return SL_OK;
}

static void on_completed(const sl_batch_info *info, void *user)
{
    run *r = user;
    int64_t id = info->batch_id;
    if (id < 1 || id > MAX_BATCHES)
        return;
    r->ids[r->nids] = id;
    r->times[r->nids++] = info->batch_time_ms;
    r->values[id] = r->values[MAX_BATCHES + 1];
    r->values[MAX_BATCHES + 1] = NULL;
    r->records[id] = info->num_records;
    r->planned[id] = info->num_sources == 1;
    if (info->num_sources == 1 && info->sources[0].offsets)
        r->offsets[id] = strdup(info->sources[0].offsets);
}

static sl_context *new_ctx(int64_t max_batches, const char *const *extra)
{
    char err[256], mb[32];
    const char *base[] = {"clock",     "manual", "workers", "2",
                          "log.level", "error",  NULL};
    sl_conf *conf = sl_conf_new();
    sl_context *ctx;
    size_t i;
    snprintf(mb, sizeof mb, "%lld", (long long)max_batches);
    SL_CHECK_OK(sl_conf_set(conf, "max_batches", mb, err, sizeof err));
    for (i = 0; base[i]; i += 2)
        SL_CHECK_OK(sl_conf_set(conf, base[i], base[i + 1], err, sizeof err));
    for (i = 0; extra && extra[i]; i += 2)
        SL_CHECK_OK(sl_conf_set(conf, extra[i], extra[i + 1], err, sizeof err));
    ctx = sl_context_new(conf, err, sizeof err);
    SL_CHECK(ctx != NULL);
    return ctx;
}

static sl_listener make_listener(void)
{
    sl_listener l;
    memset(&l, 0, sizeof l);
    l.version = SL_LISTENER_VERSION;
    l.on_batch_completed = on_completed;
    return l;
}

/* Build a context over make's source and its output; not started. */
static sl_context *build(int64_t max_batches, const char *const *extra,
                         make_fn make, void *arg, run *r)
{
    sl_context *ctx = new_ctx(max_batches, extra);
    sl_listener l = make_listener();
    sl_dstream *s = make(ctx, arg);
    SL_CHECK(s != NULL);
    SL_CHECK_OK(sl_dstream_set_name(s, "input"));
    SL_CHECK_OK(sl_dstream_foreach_rdd(s, collect, r));
    SL_CHECK_OK(sl_context_add_listener(ctx, &l, r));
    return ctx;
}

/* Run to the end; the status the context ended with. */
static sl_status finish(sl_context *ctx)
{
    sl_status st;
    SL_CHECK_OK(sl_context_start(ctx));
    st = sl_context_await_termination(ctx);
    return st;
}

/*
 * Run n batches, then, in a new context with a new source, replay batches
 * from..n from the recorded offsets (restoring the source after batch
 * from - 1 when from > 1) and check each replayed batch equals the first
 * run's, values and offsets.
 */
static void check_replay(make_fn make, void *arg, const char *const *extra,
                         int64_t n, int64_t from)
{
    run a, b;
    sl_context *ctx;
    sl__resume res;
    int64_t id;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    ctx = build(n, extra, make, arg, &a);
    SL_CHECK_OK(finish(ctx));
    sl_context_free(ctx);
    for (id = 1; id <= n; id++) {
        SL_CHECK(a.planned[id]);
        SL_CHECK(a.offsets[id] != NULL); /* also for empty batches */
    }

    ctx = build(n, extra, make, arg, &b);
    memset(&res, 0, sizeof res);
    res.last_batch_id = n;
    SL_CHECK_OK(sl__context_resume(ctx, &res));
    if (from > 1)
        SL_CHECK_OK(sl__sources_restore(
            ctx, from - 1, (const char *const *)&a.offsets[from - 1]));
    for (id = from; id <= n; id++)
        SL_CHECK_OK(
            sl__context_replay(ctx, id, (const char *const *)&a.offsets[id]));
    SL_CHECK_OK(finish(ctx));
    sl_context_free(ctx);
    SL_CHECK_INT(b.nids, n - from + 1);
    for (id = from; id <= n; id++) {
        SL_CHECK_STR(b.values[id] ? b.values[id] : "(none)",
                     a.values[id] ? a.values[id] : "(none)");
        SL_CHECK_STR(b.offsets[id], a.offsets[id]);
        SL_CHECK_INT(b.records[id], a.records[id]);
    }
    run_free(&a);
    run_free(&b);
}

/* ----------------------------------------------------------- queue */

static sl_dstream *make_queue(sl_context *ctx, void *arg)
{
    sl_dstream *q = sl_queue_stream(ctx, 2);
    sl_value v[5];
    int i;
    (void)arg;
    for (i = 0; i < 5; i++)
        v[i] = sl_int(i * 7);
    SL_CHECK_OK(sl_queue_stream_push(q, v, 5));
    SL_CHECK_OK(sl_queue_stream_push(q, v + 1, 3));
    SL_CHECK_OK(sl_queue_stream_push_none(q));
    SL_CHECK_OK(sl_queue_stream_push(q, v + 2, 1));
    return q; /* batch 5 on: the queue is empty, empty batches */
}

static void test_queue_replay(void)
{
    check_replay(make_queue, NULL, NULL, 6, 1);
}

/* Restored after batch 2, the queue replays from its third entry. */
static void test_queue_restore(void)
{
    check_replay(make_queue, NULL, NULL, 6, 3);
}

/* ---------------------------------------------------- rate, generator */

/* arg: the source's settings (name, value, ..., NULL). */
static sl_conf *source_conf(const char *const *settings)
{
    char err[256];
    sl_conf *c = sl_conf_new();
    size_t i;
    SL_CHECK(c != NULL);
    for (i = 0; settings[i]; i += 2)
        SL_CHECK_OK(
            sl_conf_set(c, settings[i], settings[i + 1], err, sizeof err));
    return c;
}

static sl_dstream *make_rate(sl_context *ctx, void *arg)
{
    sl_conf *c = source_conf(arg);
    sl_dstream *s = sl_rate_stream(ctx, c);
    sl_conf_free(c);
    return s;
}

static const char *const rate_conf[] = {"rate.rows_per_second", "7",
                                        "rate.partitions", "3", NULL};

static void test_rate_replay(void)
{
    check_replay(make_rate, (void *)rate_conf, NULL, 4, 1);
    check_replay(make_rate, (void *)rate_conf, NULL, 4, 3);
}

static sl_dstream *make_gen(sl_context *ctx, void *arg)
{
    sl_conf *c = source_conf(arg);
    sl_dstream *s = sl_text_generator_stream(ctx, c);
    sl_conf_free(c);
    return s;
}

static const char *const gen_conf[] = {"generator.lines_per_batch",
                                       "20",
                                       "generator.partitions",
                                       "3",
                                       "generator.seed",
                                       "42",
                                       NULL};

static void test_generator_replay(void)
{
    check_replay(make_gen, (void *)gen_conf, NULL, 3, 1);
}

/* The rate source now counts its planned records for listeners. */
static void test_records_known_at_plan(void)
{
    run a;
    sl_context *ctx;
    memset(&a, 0, sizeof a);
    ctx = build(2, NULL, make_rate, (void *)rate_conf, &a);
    SL_CHECK_OK(finish(ctx));
    sl_context_free(ctx);
    SL_CHECK_INT(a.records[1], 7);
    SL_CHECK_INT(a.records[2], 7);
    run_free(&a);
}

/* -------------------------------------------------------- directory */

static const char *const dir_conf[] = {
    "file.include_existing",      "true", "file.watch", "poll",
    "file.max_files_per_trigger", "1",    NULL};

static sl_dstream *make_dir(sl_context *ctx, void *arg)
{
    return sl_file_stream(ctx, arg, NULL);
}

static void put_file(const char *dir, const char *name, const char *text,
                     const char *mode, long mtime_s)
{
    char path[512];
    FILE *f;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    f = fopen(path, mode);
    SL_CHECK(f != NULL);
    fputs(text, f);
    fclose(f);
    if (mtime_s) {
        char cmd[600];
        snprintf(cmd, sizeof cmd, "touch -d @%ld '%s'", mtime_s, path);
        SL_CHECK(system(cmd) == 0);
    }
}

static char *new_dir(void)
{
    char tmpl[] = "/tmp/sl-replay-XXXXXX";
    char *d = mkdtemp(tmpl);
    SL_CHECK(d != NULL);
    return strdup(d);
}

/* Run the directory over 3 batches (a.txt, b.txt, then none). */
static void dir_first_run(const char *dir, run *a)
{
    sl_context *ctx;
    put_file(dir, "a.txt", "a1\na2\n", "w", 1000);
    put_file(dir, "b.txt", "b1\n", "w", 2000);
    ctx = build(3, dir_conf, make_dir, (void *)dir, a);
    SL_CHECK_OK(finish(ctx));
    sl_context_free(ctx);
    SL_CHECK_STR(a->values[1], "\"a1\" \"a2\"");
    SL_CHECK_STR(a->values[2], "\"b1\"");
    SL_CHECK_STR(a->offsets[3], "{\"files\":[]}");
    SL_CHECK(strstr(a->offsets[1], "\"size\":6") != NULL);
}

/* A new context replaying batches 1..3 of a; the status it ended with. */
static sl_status dir_replay(const char *dir, run *a, run *b)
{
    sl_context *ctx = build(3, dir_conf, make_dir, (void *)dir, b);
    sl__resume res;
    sl_status st;
    int64_t id;
    memset(&res, 0, sizeof res);
    res.last_batch_id = 3;
    sl_context_set_logger(ctx, sl_test_quiet_log, NULL);
    SL_CHECK_OK(sl__context_resume(ctx, &res));
    for (id = 1; id <= 3; id++)
        SL_CHECK_OK(
            sl__context_replay(ctx, id, (const char *const *)&a->offsets[id]));
    st = finish(ctx);
    if (st != SL_OK) {
        SL_CHECK(strstr(sl_context_errmsg(ctx), "b.txt") != NULL);
        SL_CHECK(strstr(sl_context_errmsg(ctx), "replaced") != NULL);
    }
    sl_context_free(ctx);
    return st;
}

/* a.txt grew after it was planned: the replay reads its planned size. */
static void test_dir_grown_file(void)
{
    char *dir = new_dir();
    run a, b;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    dir_first_run(dir, &a);
    put_file(dir, "a.txt", "a3\n", "a", 1000);
    SL_CHECK_OK(dir_replay(dir, &a, &b));
    SL_CHECK_STR(b.values[1], a.values[1]);
    SL_CHECK_STR(b.values[2], a.values[2]);
    SL_CHECK_STR(b.offsets[1], a.offsets[1]);
    SL_CHECK_STR(b.offsets[3], "{\"files\":[]}");
    run_free(&a);
    run_free(&b);
    sl_test_remove_tree(dir);
    free(dir);
}

/* b.txt was replaced (a new inode under its name): a clear error. */
static void test_dir_replaced_file(void)
{
    char *dir = new_dir(), path[512], path2[512];
    run a, b;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    dir_first_run(dir, &a);
    snprintf(path, sizeof path, "%s/b.txt", dir);
    /* Made while b.txt still exists: it cannot get b.txt's inode. */
    put_file(dir, ".b.new", "b1\n", "w", 2000);
    snprintf(path2, sizeof path2, "%s/.b.new", dir);
    SL_CHECK(rename(path2, path) == 0);
    SL_CHECK_INT(dir_replay(dir, &a, &b), SL_ECORRUPT);
    SL_CHECK_STR(b.values[1], a.values[1]); /* batch 1 was fine */
    run_free(&a);
    run_free(&b);
    sl_test_remove_tree(dir);
    free(dir);
}

/* ------------------------------------------------------------ identity */

/* Resumed after batch 10: ids 11 and 12, times from the given zero. */
static void test_ids_resume(void)
{
    run a;
    sl_context *ctx;
    sl__resume res;
    memset(&a, 0, sizeof a);
    ctx = build(12, NULL, make_queue, NULL, &a);
    memset(&res, 0, sizeof res);
    res.last_batch_id = 10;
    res.zero_ms = 5000;
    SL_CHECK_OK(sl__context_resume(ctx, &res));
    SL_CHECK_OK(finish(ctx));
    sl_context_free(ctx);
    SL_CHECK_INT(a.nids, 2);
    SL_CHECK_INT(a.ids[0], 11);
    SL_CHECK_INT(a.ids[1], 12);
    SL_CHECK_INT(a.times[0], 5000 + 11 * 1000);
    run_free(&a);
}

/* Resumed at max_batches: nothing new runs, only what is replayed. */
static void test_resume_at_max_batches(void)
{
    run a;
    sl_context *ctx;
    sl__resume res;
    memset(&a, 0, sizeof a);
    ctx = build(4, NULL, make_queue, NULL, &a);
    memset(&res, 0, sizeof res);
    res.last_batch_id = 4;
    SL_CHECK_OK(sl__context_resume(ctx, &res));
    SL_CHECK_OK(finish(ctx));
    sl_context_free(ctx);
    SL_CHECK_INT(a.nids, 0);
    run_free(&a);
}

/* A receiver that gives two lines when it starts. */
static sl_status two_lines_start(void *state, sl_receiver *r)
{
    size_t want = 6;
    char *buf = sl_receiver_buffer(r, &want);
    (void)state;
    if (!buf || want < 6)
        return SL_ENOMEM;
    memcpy(buf, "r1\nr2\n", 6);
    sl_receiver_commit(r, 6);
    return SL_OK;
}

static void rc_noop(void *state)
{
    (void)state;
}

static const sl_receiver_ops two_lines_ops = {
    SL_RECEIVER_OPS_VERSION,
    "two_lines",
    two_lines_start,
    rc_noop,
    rc_noop,
    rc_noop,
    rc_noop,
};

static int64_t g_first_seq = -1;

/* The batch being run (job thread): its first block's sequence number. */
static sl_status note_seq(sl_rdd *rdd, int64_t time_ms, void *user)
{
    sl_context *ctx = user;
    (void)rdd;
    (void)time_ms;
    if (ctx->current && ctx->current->blocks[0])
        g_first_seq = (int64_t)ctx->current->blocks[0]->seq;
    return SL_OK;
}

/* Block sequence numbers go on from the resumed value, not from 0. */
static void test_block_seq_resume(void)
{
    sl_context *ctx = new_ctx(1, NULL);
    sl_dstream *s = sl_receiver_stream(ctx, &two_lines_ops, NULL);
    uint64_t next = 100;
    sl__resume res;
    SL_CHECK(s != NULL);
    SL_CHECK_OK(sl_dstream_foreach_rdd(s, note_seq, ctx));
    memset(&res, 0, sizeof res);
    res.next_block_seq = &next;
    res.nreceivers = 1;
    SL_CHECK_OK(sl__context_resume(ctx, &res));
    res.nreceivers = 2; /* does not fit: refused */
    SL_CHECK_INT(sl__context_resume(ctx, &res), SL_EINVAL);
    g_first_seq = -1;
    SL_CHECK_OK(finish(ctx));
    sl_context_free(ctx);
    SL_CHECK_INT(g_first_seq, 100);
}

static sl_status add_one(sl_task *t, const sl_value *key,
                         const sl_value *values, const sl_value *state,
                         sl_value *new_state, bool *remove, void *user)
{
    (void)t;
    (void)key;
    (void)values;
    (void)state;
    (void)remove;
    (void)user;
    *new_state = sl_int(1);
    return SL_OK;
}

static void test_names(void)
{
    sl_context *ctx = new_ctx(1, NULL);
    sl_dstream *q = sl_queue_stream(ctx, 1), *st;
    sl_context_set_logger(ctx, sl_test_quiet_log, NULL);
    st = sl_dstream_update_state_by_key(q, add_one, NULL, NULL, 0);
    SL_CHECK(st != NULL);
    SL_CHECK(sl_dstream_name(q) == NULL);
    SL_CHECK_INT(sl__context_check_names(ctx), SL_EINVAL);
    SL_CHECK_OK(sl_dstream_set_name(q, "in.q-1"));
    SL_CHECK_INT(sl__context_check_names(ctx), SL_EINVAL); /* the state */
    SL_CHECK_INT(sl_dstream_set_name(st, "in.q-1"), SL_EINVAL);
    SL_CHECK_INT(sl_dstream_set_name(st, "bad name"), SL_EINVAL);
    SL_CHECK_INT(sl_dstream_set_name(st, ""), SL_EINVAL);
    SL_CHECK_OK(sl_dstream_set_name(st, "counts"));
    SL_CHECK_OK(sl__context_check_names(ctx));
    SL_CHECK_STR(sl_dstream_name(q), "in.q-1");
    SL_CHECK_STR(sl_dstream_name(st), "counts");
    sl_context_free(ctx);
}

const char *SL_SUITE = "stream/replay";
const sl_test_case SL_TESTS[] = {
    {"queue_replay", test_queue_replay},
    {"queue_restore", test_queue_restore},
    {"rate_replay", test_rate_replay},
    {"generator_replay", test_generator_replay},
    {"records_known_at_plan", test_records_known_at_plan},
    {"dir_grown_file", test_dir_grown_file},
    {"dir_replaced_file", test_dir_replaced_file},
    {"ids_resume", test_ids_resume},
    {"resume_at_max_batches", test_resume_at_max_batches},
    {"block_seq_resume", test_block_seq_resume},
    {"names", test_names},
    {NULL, NULL}};
