/*
 * The receiver WAL seen from the stream layer (src/stream/wal_glue.c):
 * with checkpoint.path set, a run's sealed blocks reach <checkpoint>/wal
 * before their batch runs; a NEW context whose receivers send nothing,
 * resumed and given the recorded batch through sl__wal_glue_replay, sees
 * exactly the first run's lines, block for block; a recorded range the WAL
 * lacks is refused by name; a batch recorded without blocks takes none of
 * an earlier run's records of its id; receiver.wal false writes no WAL.
 */
#include <sluice/sluice.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checkpoint/wal.h"
#include "sl_test.h"
#include "sl_test_util.h"
#include "stream/stream_int.h"
#include "stream/wal_glue.h"

#define NLINES 3000

/* A receiver that sends its text at start and closes (text NULL: none). */
typedef struct feed {
    char *text;
} feed;

static sl_status feed_start(void *state, sl_receiver *r)
{
    const feed *f = state;
    size_t len = f->text ? strlen(f->text) : 0, done = 0;
    while (done < len) {
        size_t want = len - done;
        char *buf;
        if (want > 1000)
            want = 1000;
        if (!(buf = sl_receiver_buffer(r, &want)))
            return SL_ENOMEM;
        memcpy(buf, f->text + done, want);
        sl_receiver_commit(r, want);
        done += want;
    }
    sl_receiver_end_of_stream(r);
    return SL_OK;
}

static void feed_noop(void *state)
{
    (void)state;
}

static const sl_receiver_ops feed_ops = {
    SL_RECEIVER_OPS_VERSION,
    "feed",
    feed_start,
    feed_noop,
    feed_noop,
    feed_noop,
    feed_noop,
};

/* Every line a batch saw, per stream, in order (one string per run). */
typedef struct seen {
    char *text;
    size_t len, cap;
    int64_t lines;
} seen;

static sl_status collect(sl_rdd *rdd, int64_t time_ms, void *user)
{
    seen *s = user;
    const sl_value *v;
    size_t n;
    sl_status st = sl_rdd_collect(rdd, &v, &n);
    (void)time_ms;
    for (size_t i = 0; st == SL_OK && i < n; i++) {
        if (s->len + v[i].len + 2 > s->cap) {
            s->cap = (s->len + v[i].len + 2) * 2;
            s->text = realloc(s->text, s->cap);
        }
        memcpy(s->text + s->len, v[i].u.s, v[i].len);
        s->len += v[i].len;
        s->text[s->len++] = '\n';
        s->text[s->len] = 0;
        s->lines++;
    }
    return st;
}

/* Fails the first batch it sees (after the batch's offsets were written
 * and its blocks synced in the WAL): a crash before the commit. */
static sl_status fail_once(sl_rdd *rdd, int64_t time_ms, void *user)
{
    int *calls = user;
    (void)rdd;
    (void)time_ms;
    return (*calls)++ == 0 ? SL_EIO : SL_OK;
}

static char *numbered(const char *tag)
{
    size_t cap = NLINES * 32, n = 0;
    char *t = malloc(cap);
    for (int i = 0; i < NLINES; i++)
        n += (size_t)snprintf(t + n, cap - n, "%s line %d\n", tag, i);
    return t;
}

/* Two named receivers a and b over f[0] and f[1], collected into s[0..1]. */
static sl_context *build(const char *dir, const char *wal, feed *f, seen *s)
{
    char err[256];
    const char *kv[] = {"clock",
                        "manual",
                        "max_batches",
                        "2",
                        "log.level",
                        "error",
                        "receiver.block_bytes",
                        "4k",
                        "receiver.max_line_bytes",
                        "100",
                        "checkpoint.path",
                        dir,
                        "receiver.wal",
                        wal,
                        NULL};
    sl_conf *conf = sl_conf_new();
    sl_context *ctx;
    for (size_t i = 0; kv[i]; i += 2)
        SL_CHECK_OK(sl_conf_set(conf, kv[i], kv[i + 1], err, sizeof err));
    ctx = sl_context_new(conf, err, sizeof err);
    SL_CHECK(ctx != NULL);
    for (int i = 0; ctx && i < 2; i++) {
        sl_dstream *st = sl_receiver_stream(ctx, &feed_ops, &f[i]);
        SL_CHECK_OK(sl_dstream_set_name(st, i ? "b" : "a"));
        SL_CHECK_OK(sl_dstream_foreach_rdd(st, collect, &s[i]));
    }
    return ctx;
}

/* Run 1 over two numbered feeds: every line in batch 1, many blocks. */
static void first_run(const char *dir, seen *s)
{
    feed f[2] = {{numbered("a")}, {numbered("b")}};
    sl_context *ctx = build(dir, "true", f, s);
    SL_CHECK_OK(sl_context_start(ctx));
    SL_CHECK_OK(sl_context_await_termination(ctx));
    sl_context_free(ctx);
    SL_CHECK_INT(s[0].lines, NLINES);
    SL_CHECK_INT(s[1].lines, NLINES);
    free(f[0].text);
    free(f[1].text);
}

/* The WAL holds batch 1's blocks; their ranges per receiver. */
static size_t wal_ranges(const char *dir, sl__wal_range *rg)
{
    char wd[512], err[512];
    sl__wal *w = NULL;
    sl__wal_block *v = NULL;
    size_t n = 0;
    snprintf(wd, sizeof wd, "%s/wal", dir);
    SL_CHECK_OK(sl__wal_open(wd, &w, err, sizeof err));
    if (!w)
        return 0;
    SL_CHECK_OK(sl__wal_read_batch(w, 1, &v, &n));
    SL_CHECK(n > 4); /* 4 KiB blocks of ~40 KiB per receiver */
    memset(rg, 0, 2 * sizeof *rg);
    for (size_t i = 0; i < n; i++) {
        sl__wal_range *r = &rg[v[i].receiver];
        if (r->count++ == 0)
            r->first_seq = v[i].seq;
        r->receiver = v[i].receiver;
        SL_CHECK_STR(v[i].name, v[i].receiver ? "b" : "a");
    }
    sl__wal_blocks_free(v, n);
    sl__wal_close(w);
    return 2;
}

/* A new context whose receivers send nothing, resumed after batch 1 and
 * replaying it from the WAL (checked against expect). */
static sl_status second_run(const char *dir, seen *s,
                            const sl__wal_range *expect)
{
    feed f[2] = {{NULL}, {NULL}};
    sl_context *ctx = build(dir, "true", f, s);
    sl__resume res = {1, 0, NULL, 0};
    const char *none[1] = {NULL};
    sl_status st;
    SL_CHECK_OK(sl__context_resume(ctx, &res));
    SL_CHECK_OK(sl__context_replay(ctx, 1, none));
    st = sl__wal_glue_replay(ctx, 1, expect, 2);
    if (st == SL_OK) {
        SL_CHECK_OK(sl_context_start(ctx));
        SL_CHECK_OK(sl_context_await_termination(ctx));
    } else {
        SL_CHECK(strstr(sl_context_errmsg(ctx), "recorded blocks") != NULL);
    }
    sl_context_free(ctx);
    return st;
}

static void test_replay_equals_first_run(void)
{
    char *dir = sl_test_tmpdir("sl_walr_");
    seen a[2], b[2];
    sl__wal_range rg[2];
    memset(a, 0, sizeof a);
    memset(b, 0, sizeof b);
    first_run(dir, a);
    SL_CHECK_INT(wal_ranges(dir, rg), 2);
    SL_CHECK_OK(second_run(dir, b, rg));
    for (int i = 0; i < 2; i++) {
        SL_CHECK_INT(b[i].lines, NLINES);
        SL_CHECK(a[i].text && b[i].text && !strcmp(a[i].text, b[i].text));
        free(a[i].text);
        free(b[i].text);
    }
    sl_test_remove_tree(dir);
    free(dir);
}

/* offsets/<batch> recorded a block the WAL does not have: refused. */
static void test_missing_block_refused(void)
{
    char *dir = sl_test_tmpdir("sl_walr_");
    seen a[2], b[2];
    sl__wal_range rg[2];
    memset(a, 0, sizeof a);
    memset(b, 0, sizeof b);
    first_run(dir, a);
    SL_CHECK_INT(wal_ranges(dir, rg), 2);
    rg[1].count++;
    SL_CHECK_INT(second_run(dir, b, rg), SL_ECORRUPT);
    SL_CHECK_INT(b[0].lines + b[1].lines, 0);
    for (int i = 0; i < 2; i++)
        free(a[i].text);
    sl_test_remove_tree(dir);
    free(dir);
}

/*
 * Batch 1's blocks were logged by a run that crashed before offsets/1; the
 * next run gave id 1 to a batch without receiver input and recorded that
 * (counts 0). Its replay takes nothing from the WAL: the stale records
 * are not its input, and the checkpoint stays usable.
 */
static void test_stale_run_ignored(void)
{
    char *dir = sl_test_tmpdir("sl_walr_");
    seen a[2], b[2];
    sl__wal_range rg[2] = {{0, 0, 0}, {1, 0, 0}};
    memset(a, 0, sizeof a);
    memset(b, 0, sizeof b);
    first_run(dir, a);
    SL_CHECK_OK(second_run(dir, b, rg));
    SL_CHECK_INT(b[0].lines + b[1].lines, 0);
    for (int i = 0; i < 2; i++) {
        free(a[i].text);
        free(b[i].text);
    }
    sl_test_remove_tree(dir);
    free(dir);
}

static void test_wal_off(void)
{
    char *dir = sl_test_tmpdir("sl_walr_"), wd[512];
    feed f[2] = {{numbered("a")}, {numbered("b")}};
    seen s[2];
    struct stat sb;
    sl_context *ctx;
    memset(s, 0, sizeof s);
    ctx = build(dir, "false", f, s);
    SL_CHECK_OK(sl_context_start(ctx));
    SL_CHECK_OK(sl_context_await_termination(ctx));
    sl_context_free(ctx);
    SL_CHECK_INT(s[0].lines + s[1].lines, 2 * NLINES);
    snprintf(wd, sizeof wd, "%s/wal", dir);
    SL_CHECK(stat(wd, &sb) != 0);
    for (int i = 0; i < 2; i++) {
        free(f[i].text);
        free(s[i].text);
    }
    sl_test_remove_tree(dir);
    free(dir);
}

/*
 * Through recovery (recovery.c): batch 1 fails after its offsets entry, so
 * it has no commit; a new context on the same checkpoint whose receivers
 * send nothing runs batch 1 again with the WAL's blocks, every line.
 */
static void test_recovery_replays_receiver_input(void)
{
    char *dir = sl_test_tmpdir("sl_walr_");
    feed f[2] = {{numbered("a")}, {numbered("b")}}, none[2] = {{NULL}, {NULL}};
    seen a[2], b[2];
    int calls = 0;
    sl_context *ctx;
    memset(a, 0, sizeof a);
    memset(b, 0, sizeof b);
    ctx = build(dir, "true", f, a);
    SL_CHECK_OK(
        sl_dstream_foreach_rdd(ctx->receivers[0]->stream, fail_once, &calls));
    SL_CHECK_OK(sl_context_start(ctx));
    SL_CHECK(sl_context_await_termination(ctx) != SL_OK);
    sl_context_free(ctx);
    SL_CHECK_INT(a[0].lines, NLINES); /* it printed, then failed */
    ctx = build(dir, "true", none, b);
    calls = 1;
    SL_CHECK_OK(
        sl_dstream_foreach_rdd(ctx->receivers[0]->stream, fail_once, &calls));
    SL_CHECK_OK(sl_context_start(ctx));
    SL_CHECK_OK(sl_context_await_termination(ctx));
    sl_context_free(ctx);
    for (int i = 0; i < 2; i++) {
        SL_CHECK_INT(b[i].lines, NLINES);
        SL_CHECK(a[i].text && b[i].text && !strcmp(a[i].text, b[i].text));
        free(a[i].text);
        free(b[i].text);
        free(f[i].text);
    }
    sl_test_remove_tree(dir);
    free(dir);
}

const char *SL_SUITE = "wal_replay";
const sl_test_case SL_TESTS[] = {
    {"replay_equals_first_run", test_replay_equals_first_run},
    {"missing_block_refused", test_missing_block_refused},
    {"stale_run_ignored", test_stale_run_ignored},
    {"wal_off", test_wal_off},
    {"recovery_replays_receiver_input", test_recovery_replays_receiver_input},
    {NULL, NULL},
};
