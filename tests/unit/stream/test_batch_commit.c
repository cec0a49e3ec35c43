/*
 * One commit point per batch: a batch whose last or second output fails,
 * or that a stop interrupts, leaves every state store (update_state_by_key,
 * map_with_state) and every window (plain, reduced with and without the
 * inverse) exactly as the batch before left them; restoring that state
 * into a fresh context through the recovery APIs and running the batch
 * again gives what an uninterrupted run gave.
 */
#include <sluice/sluice.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_test.h"
#include "state/store.h"
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
    int64_t shift;       /* this context's batch 1 is batch shift + 1 */
    int64_t fail_at;     /* batch whose last output fails (0: none) */
    bool interrupt;      /* ... by a stop instead */
    bool early;          /* the failing output is the second, not the last */
    buf out[RUN + 2];    /* per batch: what the outputs saw */
    char *snap[RUN + 2]; /* per batch: committed state after it */
    bool pending_seen;   /* the failing batch had changes to undo */
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

/* The last output: fails (or is stopped) at batch fail_at, after every
 * other output read its stream, so the batch has changes to undo. */
static sl_status last_output(sl_rdd *rdd, int64_t t, void *user)
{
    run *r = user;
    size_t s;
    (void)rdd;
    if (t / 1000 + r->shift != r->fail_at)
        return SL_OK;
    for (s = 0; s < sl__state_shards(r->state->store); s++)
        if (sl__state_shard_changed(r->state->store, s))
            r->pending_seen = true;
    /* Run last, it comes after the inverse window computed its result. */
    r->pending_seen = r->pending_seen && r->win->ring_pending &&
                      (r->early || r->rwin->next_result != NULL);
    if (!r->interrupt)
        return SL_EUSER;
    sl_context_request_stop(r->ctx, false);
    return SL_ESTOPPED;
}

static void on_completed(const sl_batch_info *b, void *user)
{
    run *r = user;
    int64_t id = b->batch_id + r->shift;
    if (id >= 0 && id <= RUN + 1 && !r->snap[id])
        r->snap[id] = snapshot(r);
}

static void build(run *r, int64_t shift, int64_t batches, bool early)
{
    char err[256], max[32];
    sl_conf *conf = sl_conf_new();
    sl_dstream *pairs;
    sl_value init_s[1], init_m[1];
    sl_value k0 = sl_cstr("k0"), k1 = sl_cstr("k1"), hundred = sl_int(100),
             fifty = sl_int(50);
    sl_listener l;

    memset(r, 0, sizeof *r);
    r->shift = shift;
    r->early = early;
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
    SL_CHECK_OK(sl_dstream_foreach_rdd(r->state, out_state, r));
    if (early)
        SL_CHECK_OK(sl_dstream_foreach_rdd(r->q, last_output, r));
    SL_CHECK_OK(sl_dstream_foreach_rdd(r->mapped, out_mapped, r));
    SL_CHECK_OK(sl_dstream_foreach_rdd(r->snaps, out_snaps, r));
    SL_CHECK_OK(sl_dstream_foreach_rdd(r->win, out_win, r));
    SL_CHECK_OK(sl_dstream_foreach_rdd(r->rwin, out_rwin, r));
    SL_CHECK_OK(sl_dstream_foreach_rdd(r->plain_rwin, out_plain_rwin, r));
    if (!early)
        SL_CHECK_OK(sl_dstream_foreach_rdd(r->q, last_output, r));
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

/* Copy r's committed state into fresh, moved back by fresh->shift. */
static void restore_into(run *fresh, const run *r)
{
    const sl__state_store *from[2] = {r->state->store, r->mapped->store};
    sl__state_store *to[2] = {fresh->state->store, fresh->mapped->store};
    const sl_dstream *wf[3] = {r->win, r->rwin, r->plain_rwin->parents[0]};
    sl_dstream *wt[3] = {fresh->win, fresh->rwin,
                         fresh->plain_rwin->parents[0]};
    int64_t dt = fresh->shift * 1000;
    size_t k, s, i;
    const sl__state_entry *e;

    for (k = 0; k < 2; k++) {
        SL_CHECK_OK(sl__state_restore_begin(to[k], sl__state_version(from[k]) -
                                                       fresh->shift));
        for (s = 0; s < sl__state_shards(from[k]); s++)
            for (i = 0; (e = sl__state_next(from[k], s, &i)) != NULL;)
                SL_CHECK_OK(sl__state_put(to[k], &e->key, e->hash, &e->value,
                                          e->updated_ms - dt));
        SL_CHECK_OK(sl__state_restore_end(to[k]));
    }
    for (k = 0; k < 3; k++) {
        int64_t t;
        sl__retained *ret;
        const sl_value *parts[16];
        size_t lens[16], p;
        sl__window_iter it = {0};
        sl__window_restore_begin(wt[k]);
        while (sl__window_next(wf[k], false, &it, &t, &ret)) {
            for (p = 0; ret && p < sl__retained_parts(ret); p++)
                parts[p] = sl__retained_part(ret, p, &lens[p]);
            SL_CHECK_OK(sl__window_restore_put(
                wt[k], t - dt, ret ? parts : NULL, lens, ret ? p : 0));
        }
        if (sl__window_prev(wf[k], false, &t, &ret)) {
            for (p = 0; p < sl__retained_parts(ret); p++)
                parts[p] = sl__retained_part(ret, p, &lens[p]);
            SL_CHECK_OK(sl__window_restore_prev(wt[k], t - dt, parts, lens, p));
        }
    }
}

static void fail_and_rerun(int64_t fail_at, bool interrupt, bool early)
{
    run whole, failed, again;
    char *fresh;
    int64_t id;

    /* The uninterrupted run. */
    build(&whole, 0, RUN, early);
    push_from(&whole, 1);
    run_all(&whole);

    /* The same, failing (or stopped) at fail_at. */
    build(&failed, 0, RUN, early);
    failed.fail_at = fail_at;
    failed.interrupt = interrupt;
    push_from(&failed, 1);
    run_all(&failed);
    SL_CHECK(failed.pending_seen);
    /* The failed batch left every store and window as it found them. */
    SL_CHECK(failed.snap[fail_at - 1] != NULL);
    SL_CHECK(failed.snap[fail_at] != NULL);
    SL_CHECK_STR(failed.snap[fail_at], failed.snap[fail_at - 1]);
    SL_CHECK_STR(failed.snap[fail_at - 1], whole.snap[fail_at - 1]);
    /* ... which the batch did change in the uninterrupted run. */
    SL_CHECK(strcmp(whole.snap[fail_at], whole.snap[fail_at - 1]) != 0);

    /* Recovery: a fresh context, its initial state skipped, restored from
     * the failed one, runs the failed batch and the rest again. */
    build(&again, fail_at - 1, RUN - (fail_at - 1), early);
    SL_CHECK_OK(sl__context_skip_initial_state(again.ctx));
    restore_into(&again, &failed);
    fresh = snapshot(&again);
    SL_CHECK_STR(fresh, failed.snap[fail_at - 1]);
    free(fresh);
    push_from(&again, fail_at);
    run_all(&again);
    for (id = fail_at; id <= RUN; id++) {
        SL_CHECK(whole.out[id].p != NULL);
        SL_CHECK(again.out[id].p != NULL);
        if (whole.out[id].p && again.out[id].p)
            SL_CHECK_STR(again.out[id].p, whole.out[id].p);
        SL_CHECK_STR(again.snap[id], whole.snap[id]);
    }
    run_free(&whole);
    run_free(&failed);
    run_free(&again);
}

static void test_failed_output(void)
{
    fail_and_rerun(3, false, false);
    fail_and_rerun(5, false, false);
    fail_and_rerun(4, false, true); /* the second output fails */
}

static void test_interrupted(void)
{
    fail_and_rerun(4, true, false);
    fail_and_rerun(2, true, true);
}

/* The initial state is dropped for streams made before the skip and not
 * applied to those made after; once started, the skip is refused. */
static void test_skip_initial_state(void)
{
    run r;
    sl_dstream *later;
    sl_value init[1], k = sl_cstr("x"), v = sl_int(7);
    build(&r, 0, 1, false);
    SL_CHECK_INT(sl__state_count(r.state->store), 1);
    SL_CHECK_INT(sl__state_count(r.mapped->store), 1);
    SL_CHECK_OK(sl__context_skip_initial_state(r.ctx));
    SL_CHECK_INT(sl__state_count(r.state->store), 0);
    SL_CHECK_INT(sl__state_count(r.mapped->store), 0);
    init[0] = sl_composite(SL_KIND_PAIR, (sl_value[]){k, v}, 2);
    later = sl_dstream_update_state_by_key(r.q, count_update, NULL, init, 1);
    SL_CHECK(later != NULL);
    SL_CHECK_INT(sl__state_count(later->store), 0);
    run_all(&r);
    SL_CHECK_INT(sl__context_skip_initial_state(r.ctx), SL_ESTATE);
    run_free(&r);
}

/* The window restore API: entries in any order come back newest first,
 * "no batch" entries stay, and mistakes are refused. */
static void test_window_restore_api(void)
{
    run r;
    sl_value p0[2] = {sl_cstr("a"), sl_cstr("b")}, p1[1] = {sl_int(3)};
    const sl_value *parts[2] = {p0, p1};
    size_t lens[2] = {2, 1}, n;
    sl__window_iter i = {0};
    int64_t t;
    sl__retained *k;

    build(&r, 0, 1, false);
    sl__window_restore_begin(r.win);
    SL_CHECK_OK(sl__window_restore_put(r.win, 1000, parts, lens, 2));
    SL_CHECK_OK(sl__window_restore_put(r.win, 3000, NULL, NULL, 0));
    SL_CHECK_OK(sl__window_restore_put(r.win, 2000, parts + 1, lens + 1, 1));
    SL_CHECK_INT(sl__window_restore_put(r.win, 2000, NULL, NULL, 0), SL_EINVAL);
    SL_CHECK_INT(sl__window_restore_prev(r.win, 1000, parts, lens, 2),
                 SL_EINVAL); /* a plain window has no previous result */
    SL_CHECK_INT(sl__window_restore_put(r.state, 1000, NULL, NULL, 0),
                 SL_EINVAL);
    SL_CHECK(sl__window_next(r.win, false, &i, &t, &k));
    SL_CHECK(t == 3000 && k == NULL);
    SL_CHECK(sl__window_next(r.win, true, &i, &t, &k));
    SL_CHECK(t == 2000 && k && sl__retained_parts(k) == 1);
    SL_CHECK(sl__window_next(r.win, false, &i, &t, &k));
    SL_CHECK(t == 1000 && k && sl__retained_parts(k) == 2);
    SL_CHECK(sl__retained_part(k, 0, &n)[1].u.s[0] == 'b' && n == 2);
    SL_CHECK(!sl__window_next(r.win, false, &i, &t, &k));
    SL_CHECK(!sl__window_prev(r.rwin, false, &t, &k));
    SL_CHECK_OK(sl__window_restore_prev(r.rwin, 4000, parts, lens, 2));
    SL_CHECK(sl__window_prev(r.rwin, true, &t, &k) && t == 4000);
    run_free(&r);
}

const char *SL_SUITE = "stream/batch_commit";
const sl_test_case SL_TESTS[] = {
    {"failed_output", test_failed_output},
    {"interrupted", test_interrupted},
    {"skip_initial_state", test_skip_initial_state},
    {"window_restore_api", test_window_restore_api},
    {NULL, NULL}};
