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
#include "state/store.h"
#include "stream/ckpt_state.h"
#include "stream/stream_int.h"

#define NB 6         /* data batches */
#define RUN (NB + 3) /* batches of an uninterrupted run: windows empty out */

/* ------------------------------------------------------------ strings */

typedef struct buf {
    char *p;
    size_t len, cap;
} buf;

static void put_str(buf *b, const char *s)
{
    size_t n = strlen(s);
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->p = realloc(b->p, b->cap);
        SL_CHECK(b->p != NULL);
    }
    memcpy(b->p + b->len, s, n + 1);
    b->len += n;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted lines, one per call of put_line, appended to b at the end. */
typedef struct lines {
    char **v;
    size_t n, cap;
} lines;

static void put_line(lines *l, const char *s)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 16;
        l->v = realloc(l->v, l->cap * sizeof *l->v);
        SL_CHECK(l->v != NULL);
    }
    l->v[l->n++] = strdup(s);
}

static void flush_lines(lines *l, buf *b)
{
    size_t i;
    if (l->n)
        qsort(l->v, l->n, sizeof *l->v, cmp_str);
    for (i = 0; i < l->n; i++) {
        put_str(b, l->v[i]);
        put_str(b, "\n");
        free(l->v[i]);
    }
    free(l->v);
    memset(l, 0, sizeof *l);
}

static void value_line(lines *l, const char *prefix, const sl_value *v)
{
    char json[256], line[320];
    sl_value_format_json(v, json, sizeof json);
    snprintf(line, sizeof line, "%s%s", prefix, json);
    put_line(l, line);
}

/* ------------------------------------------------------------ pipeline */

typedef struct run {
    sl_context *ctx;
    sl_dstream *q, *state, *mapped, *snaps, *win, *rwin, *plain_rwin;
    int64_t shift;       /* always 0: a restarted context resumes ids */
    sl__ckpt *ck;        /* NULL: no checkpoint written */
    int64_t every;       /* snapshot every this many batches */
    buf out[RUN + 2];    /* per batch: what the outputs saw */
    char *snap[RUN + 2]; /* per batch: committed state after it */
    sl_status ck_status; /* the first checkpoint write's failure */
} run;

static sl_status count_update(sl_task *t, const sl_value *key,
                              const sl_value *values, const sl_value *state,
                              sl_value *new_state, bool *remove, void *user)
{
    int64_t n = (state ? state->u.i : 0) + values->len;
    (void)t, (void)key, (void)user;
    *remove = false;
    *new_state = sl_int(n);
    return SL_OK;
}

static sl_status sum_map(sl_task *t, const sl_value *key, const sl_value *value,
                         sl_state *st, void *user)
{
    sl_value sum, out;
    sl_status rc;
    (void)user;
    if (!value) /* timing out: say so */
        sum = sl_int(-1);
    else
        sum = sl_int((sl_state_exists(st) ? sl_state_get(st)->u.i : 0) +
                     value->u.i);
    if (value && (rc = sl_state_update(st, &sum)) != SL_OK)
        return rc;
    if ((rc = sl_task_pair(t, key, &sum, &out)) != SL_OK)
        return rc;
    return sl_task_emit(t, &out);
}

static sl_status sum(sl_task *t, const sl_value *a, const sl_value *b,
                     sl_value *out, void *user)
{
    (void)t, (void)user;
    *out = sl_int(a->u.i + b->u.i);
    return SL_OK;
}

static sl_status subtract(sl_task *t, const sl_value *a, const sl_value *b,
                          sl_value *out, void *user)
{
    (void)t, (void)user;
    *out = sl_int(a->u.i - b->u.i);
    return SL_OK;
}

/* The output slot of batch time t in the uninterrupted run's numbering. */
static buf *slot(run *r, int64_t time_ms)
{
    int64_t id = time_ms / 1000 + r->shift;
    SL_CHECK(id >= 1 && id <= RUN + 1);
    return &r->out[id < 1 || id > RUN + 1 ? 0 : id];
}

static sl_status collect(run *r, const char *name, sl_rdd *rdd, int64_t t)
{
    const sl_value *recs;
    size_t n, i;
    lines l = {0};
    buf *b = slot(r, t);
    char prefix[32];
    sl_status st = sl_rdd_collect(rdd, &recs, &n);
    if (st != SL_OK)
        return st;
    snprintf(prefix, sizeof prefix, "%s ", name);
    for (i = 0; i < n; i++)
        value_line(&l, prefix, &recs[i]);
    flush_lines(&l, b);
    return SL_OK;
}

#define COLLECTOR(field)                                                       \
    static sl_status out_##field(sl_rdd *rdd, int64_t t, void *user)           \
    {                                                                          \
        return collect(user, #field, rdd, t);                                  \
    }
COLLECTOR(state)
COLLECTOR(mapped)
COLLECTOR(snaps)
COLLECTOR(win)
COLLECTOR(rwin)
COLLECTOR(plain_rwin)

/* A store's committed entries (times and version moved by shift). */
static void store_text(buf *b, const char *name, const sl__state_store *st,
                       int64_t shift)
{
    const sl__state_entry *e;
    size_t s, i;
    char head[64], prefix[200];
    snprintf(head, sizeof head, "%s version %lld\n", name,
             (long long)(sl__state_version(st) + shift));
    put_str(b, head);
    for (s = 0; s < sl__state_shards(st); s++) {
        lines l = {0};
        for (i = 0; (e = sl__state_next(st, s, &i)) != NULL;) {
            char key[128];
            sl_value_format_json(&e->key, key, sizeof key);
            snprintf(prefix, sizeof prefix, "%zu %s %lld ", s, key,
                     (long long)(e->updated_ms + shift * 1000));
            value_line(&l, prefix, &e->value);
        }
        flush_lines(&l, b);
    }
}

static void retained_text(buf *b, const char *head, sl__retained *k)
{
    size_t p, i, n;
    char prefix[96];
    put_str(b, head);
    put_str(b, k ? "\n" : " none\n");
    for (p = 0; k && p < sl__retained_parts(k); p++) {
        lines l = {0};
        const sl_value *v = sl__retained_part(k, p, &n);
        snprintf(prefix, sizeof prefix, "  part %zu ", p);
        for (i = 0; i < n; i++)
            value_line(&l, prefix, &v[i]);
        flush_lines(&l, b);
    }
}

static void window_text(buf *b, const char *name, const sl_dstream *w,
                        int64_t shift)
{
    sl__window_iter it = {0};
    int64_t t;
    sl__retained *k;
    char head[96];
    while (sl__window_next(w, false, &it, &t, &k)) {
        snprintf(head, sizeof head, "%s ring %lld", name,
                 (long long)(t + shift * 1000));
        retained_text(b, head, k);
    }
    if (sl__window_prev(w, false, &t, &k)) {
        snprintf(head, sizeof head, "%s prev %lld", name,
                 (long long)(t + shift * 1000));
        retained_text(b, head, k);
    }
}

/* Everything the committed batches left: stores and windows. */
static char *snapshot(const run *r)
{
    buf b = {0};
    put_str(&b, "");
    store_text(&b, "state", r->state->store, r->shift);
    store_text(&b, "mapped", r->mapped->store, r->shift);
    window_text(&b, "win", r->win, r->shift);
    window_text(&b, "rwin", r->rwin, r->shift);
    window_text(&b, "plain_rwin", r->plain_rwin->parents[0], r->shift);
    return b.p;
}

/* The last output: the checkpoint writer's place in a checkpointed
 * context (between the outputs and the commit): every store's pending
 * version and every window's new entry are complete here. */
static sl_status write_output(sl_rdd *rdd, int64_t t, void *user)
{
    run *r = user;
    sl_status st;
    (void)rdd, (void)t;
    if (!r->ck)
        return SL_OK;
    st = sl__ckpt_write_state(r->ctx, r->ck, r->ctx->current);
    if (!st)
        st = sl__ckpt_io_sync_dirs(sl__ckpt_io_of(r->ck));
    if (st && !r->ck_status)
        r->ck_status = st;
    return st;
}

static void on_completed(const sl_batch_info *b, void *user)
{
    run *r = user;
    int64_t id = b->batch_id;
    if (id >= 0 && id <= RUN + 1 && !r->snap[id])
        r->snap[id] = snapshot(r);
    /* The log entries a checkpointed context writes (for rollback). */
    if (r->ck && b->status == SL_OK && !r->ck_status)
        r->ck_status = sl__ckpt_log_write(r->ck, SL__CKPT_OFFSETS, id, "{}", 2);
    if (r->ck && b->status == SL_OK && !r->ck_status)
        r->ck_status = sl__ckpt_log_write(r->ck, SL__CKPT_COMMITS, id, "{}", 2);
    if (r->ck && b->status == SL_OK && !r->ck_status)
        r->ck_status = sl__ckpt_snapshot_state(r->ctx, r->ck, id, r->every);
}

static void build(run *r, sl__ckpt *ck, int64_t every, int64_t batches)
{
    char err[256], max[32];
    sl_conf *conf = sl_conf_new();
    sl_dstream *pairs;
    sl_value init_s[1], init_m[1];
    sl_value k0 = sl_cstr("k0"), k1 = sl_cstr("k1"), hundred = sl_int(100),
             fifty = sl_int(50);
    sl_listener l;

    memset(r, 0, sizeof *r);
    r->ck = ck;
    r->every = every;
    snprintf(max, sizeof max, "%lld", (long long)batches);
    SL_CHECK_OK(sl_conf_set(conf, "clock", "manual", err, sizeof err));
    SL_CHECK_OK(sl_conf_set(conf, "batch_interval", "1s", err, sizeof err));
    SL_CHECK_OK(sl_conf_set(conf, "max_batches", max, err, sizeof err));
    SL_CHECK_OK(sl_conf_set(conf, "workers", "2", err, sizeof err));
    SL_CHECK_OK(sl_conf_set(conf, "state.shards", "3", err, sizeof err));
    SL_CHECK_OK(sl_conf_set(conf, "log.level", "error", err, sizeof err));
    r->ctx = sl_context_new(conf, err, sizeof err);
    SL_CHECK(r->ctx != NULL);
    r->q = sl_queue_stream(r->ctx, 2);
    pairs = sl_dstream_map(r->q, sl_fn_pair_one, NULL);
    init_s[0] = sl_composite(SL_KIND_PAIR, (sl_value[]){k0, hundred}, 2);
    init_m[0] = sl_composite(SL_KIND_PAIR, (sl_value[]){k1, fifty}, 2);
    r->state =
        sl_dstream_update_state_by_key(pairs, count_update, NULL, init_s, 1);
    r->mapped =
        sl_dstream_map_with_state(pairs, sum_map, NULL, 2000, init_m, 1);
    r->snaps = sl_dstream_state_snapshots(r->mapped);
    r->win = sl_dstream_window(pairs, 3000, 1000);
    r->rwin = sl_dstream_reduce_by_key_and_window(pairs, sum, subtract, NULL,
                                                  NULL, 3000, 1000, 2);
    r->plain_rwin = sl_dstream_reduce_by_key_and_window(pairs, sum, NULL, NULL,
                                                        NULL, 3000, 1000, 2);
    SL_CHECK(r->state && r->mapped && r->snaps && r->win && r->rwin &&
             r->plain_rwin);
    /* The plain reduce's inner window stays unnamed: "~window-<k>". */
    SL_CHECK_OK(sl_dstream_set_name(r->state, ".counts"));
    SL_CHECK_OK(sl_dstream_set_name(r->mapped, "sums"));
    SL_CHECK_OK(sl_dstream_set_name(r->win, "win"));
    SL_CHECK_OK(sl_dstream_set_name(r->rwin, "rwin"));
    SL_CHECK_OK(sl_dstream_foreach_rdd(r->state, out_state, r));
    SL_CHECK_OK(sl_dstream_foreach_rdd(r->mapped, out_mapped, r));
    SL_CHECK_OK(sl_dstream_foreach_rdd(r->snaps, out_snaps, r));
    SL_CHECK_OK(sl_dstream_foreach_rdd(r->win, out_win, r));
    SL_CHECK_OK(sl_dstream_foreach_rdd(r->rwin, out_rwin, r));
    SL_CHECK_OK(sl_dstream_foreach_rdd(r->plain_rwin, out_plain_rwin, r));
    SL_CHECK_OK(sl_dstream_foreach_rdd(r->q, write_output, r));
    memset(&l, 0, sizeof l);
    l.version = SL_LISTENER_VERSION;
    l.on_batch_completed = on_completed;
    SL_CHECK_OK(sl_context_add_listener(r->ctx, &l, r));
}

/* Data batch b (1-based): keys k0..k4 in a pattern that makes keys enter,
 * leave and time out of the map_with_state. */
static void push_from(run *r, int64_t first)
{
    static const char *keys[] = {"k0", "k1", "k2", "k3", "k4"};
    sl_value vals[8];
    int64_t b;
    int i, n;
    for (b = first; b <= NB; b++) {
        n = (int)(b % 3) + 2;
        for (i = 0; i < n; i++)
            vals[i] = sl_cstr(keys[(b * 2 + i * 3) % 5]);
        SL_CHECK_OK(sl_queue_stream_push(r->q, vals, (size_t)n));
    }
}

static void run_all(run *r)
{
    SL_CHECK_OK(sl_context_start(r->ctx));
    (void)sl_context_await_termination(r->ctx);
}

static void run_free(run *r)
{
    size_t i;
    for (i = 0; i < RUN + 2; i++) {
        free(r->out[i].p);
        free(r->snap[i]);
    }
    sl_context_free(r->ctx);
}

static char *new_ck(sl__ckpt **ck)
{
    char tmpl[] = "/tmp/sl-ckst-XXXXXX", err[256];
    char *d = mkdtemp(tmpl);
    SL_CHECK(d != NULL);
    SL_CHECK_OK(sl__ckpt_open(d, true, "fp", 2, ck, err, sizeof err));
    return strdup(d);
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
    build(out, NULL, 0, RUN);
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
    fresh = snapshot(&again);
    SL_CHECK(whole->snap[v] != NULL);
    if (whole->snap[v])
        SL_CHECK_STR(fresh, whole->snap[v]);
    free(fresh);
    push_from(&again, v + 1);
    run_all(&again);
    for (id = v + 1; id <= RUN; id++) {
        SL_CHECK(whole->out[id].p && again.out[id].p);
        if (whole->out[id].p && again.out[id].p)
            SL_CHECK_STR(again.out[id].p, whole->out[id].p);
        SL_CHECK_STR(again.snap[id], whole->snap[id]);
    }
    run_free(&again);
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
    int64_t v;

    build(&whole, ck, every, RUN);
    push_from(&whole, 1);
    run_all(&whole);
    SL_CHECK_OK(whole.ck_status);
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
    run_free(&whole);
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
    build(whole, *ck, every, RUN);
    push_from(whole, 1);
    run_all(whole);
    SL_CHECK_OK(whole->ck_status);
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
    run_free(&whole);
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
    run_free(&again);
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
    run_free(&whole);
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

    d2 = new_ck(&ck2);
    sl__ckpt_io_of(ck2)->fault = fail_batch4;
    build(&failed, ck2, 0, RUN);
    push_from(&failed, 1);
    run_all(&failed);
    SL_CHECK_INT(failed.ck_status, SL_EIO);
    SL_CHECK(strstr(sl__ckpt_io_errmsg(sl__ckpt_io_of(ck2)), "/4.delta") !=
             NULL);
    /* Files of batch 4 before the failing one are there. */
    SL_CHECK(count_files(d2, "state/sums/*/4.delta") > 0);
    SL_CHECK(count_files(d2, "windows/*/4.window") > 0);
    run_free(&failed);
    sl__ckpt_io_of(ck2)->fault = NULL;
    check_restart(&whole, ck2, 3);
    SL_CHECK_INT(count_files(d2, "state/*/*/4.delta"), 0);
    SL_CHECK_INT(count_files(d2, "windows/*/4.window"), 0);
    drop_ck(d2, ck2);
    run_free(&whole);
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

    build(&shape, NULL, 0, RUN);
    SL_CHECK_OK(sl__ckpt_prune_state(shape.ctx, ck, 7));
    SL_CHECK_OK(sl__ckpt_io_sync_dirs(sl__ckpt_io_of(ck)));
    run_free(&shape);
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
    run_free(&whole);
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
