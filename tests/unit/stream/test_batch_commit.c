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
#include "stateful_fixture.h"
#include "state/store.h"
#include "stream/stream_int.h"

#define NB SF_NB
#define RUN SF_RUN

typedef sf_run run;

/* How a run fails (its user data). */
typedef struct plan {
    int64_t fail_at;   /* batch whose last output fails (0: none) */
    bool interrupt;    /* ... by a stop instead */
    bool early;        /* the failing output is the second, not the last */
    bool pending_seen; /* the failing batch had changes to undo */
} plan;

/* The last output: fails (or is stopped) at batch fail_at, after every
 * other output read its stream, so the batch has changes to undo. */
static sl_status last_output(sl_rdd *rdd, int64_t t, void *user)
{
    run *r = user;
    plan *p = r->user;
    size_t s;
    (void)rdd;
    if (t / 1000 + r->shift != p->fail_at)
        return SL_OK;
    for (s = 0; s < sl__state_shards(r->state->store); s++)
        if (sl__state_shard_changed(r->state->store, s))
            p->pending_seen = true;
    /* Run last, it comes after the inverse window computed its result. */
    p->pending_seen = p->pending_seen && r->win->ring_pending &&
                      (p->early || r->rwin->next_result != NULL);
    if (!p->interrupt)
        return SL_EUSER;
    sl_context_request_stop(r->ctx, false);
    return SL_ESTOPPED;
}

static const sf_hooks last_hooks = {last_output, false, false, NULL};
static const sf_hooks early_hooks = {last_output, true, false, NULL};

/* A run whose last (or, early, second) output fails as p says. */
static void build(run *r, int64_t shift, int64_t batches, plan *p)
{
    sf_build(r, shift, batches, p->early ? &early_hooks : &last_hooks, p);
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
    plan none = {0, false, early, false};
    plan fail = {fail_at, interrupt, early, false};
    char *fresh;
    int64_t id;

    /* The uninterrupted run. */
    build(&whole, 0, RUN, &none);
    sf_push_from(&whole, 1);
    sf_run_all(&whole);

    /* The same, failing (or stopped) at fail_at. */
    build(&failed, 0, RUN, &fail);
    sf_push_from(&failed, 1);
    sf_run_all(&failed);
    SL_CHECK(fail.pending_seen);
    /* The failed batch left every store and window as it found them. */
    SL_CHECK(failed.snap[fail_at - 1] != NULL);
    SL_CHECK(failed.snap[fail_at] != NULL);
    SL_CHECK_STR(failed.snap[fail_at], failed.snap[fail_at - 1]);
    SL_CHECK_STR(failed.snap[fail_at - 1], whole.snap[fail_at - 1]);
    /* ... which the batch did change in the uninterrupted run. */
    SL_CHECK(strcmp(whole.snap[fail_at], whole.snap[fail_at - 1]) != 0);

    /* Recovery: a fresh context, its initial state skipped, restored from
     * the failed one, runs the failed batch and the rest again. */
    build(&again, fail_at - 1, RUN - (fail_at - 1), &none);
    SL_CHECK_OK(sl__context_skip_initial_state(again.ctx));
    restore_into(&again, &failed);
    fresh = sf_snapshot(&again);
    SL_CHECK_STR(fresh, failed.snap[fail_at - 1]);
    free(fresh);
    sf_push_from(&again, fail_at);
    sf_run_all(&again);
    for (id = fail_at; id <= RUN; id++) {
        SL_CHECK(whole.out[id].p != NULL);
        SL_CHECK(again.out[id].p != NULL);
        if (whole.out[id].p && again.out[id].p)
            SL_CHECK_STR(again.out[id].p, whole.out[id].p);
        SL_CHECK_STR(again.snap[id], whole.snap[id]);
    }
    sf_run_free(&whole);
    sf_run_free(&failed);
    sf_run_free(&again);
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
    plan none = {0, false, false, false};
    sl_dstream *later;
    sl_value init[1], k = sl_cstr("x"), v = sl_int(7);
    build(&r, 0, 1, &none);
    SL_CHECK_INT(sl__state_count(r.state->store), 1);
    SL_CHECK_INT(sl__state_count(r.mapped->store), 1);
    SL_CHECK_OK(sl__context_skip_initial_state(r.ctx));
    SL_CHECK_INT(sl__state_count(r.state->store), 0);
    SL_CHECK_INT(sl__state_count(r.mapped->store), 0);
    init[0] = sl_composite(SL_KIND_PAIR, (sl_value[]){k, v}, 2);
    later = sl_dstream_update_state_by_key(r.q, sf_count_update, NULL, init, 1);
    SL_CHECK(later != NULL);
    SL_CHECK_INT(sl__state_count(later->store), 0);
    sf_run_all(&r);
    SL_CHECK_INT(sl__context_skip_initial_state(r.ctx), SL_ESTATE);
    sf_run_free(&r);
}

/* The window restore API: entries in any order come back newest first,
 * "no batch" entries stay, and mistakes are refused. */
static void test_window_restore_api(void)
{
    run r;
    plan none = {0, false, false, false};
    sl_value p0[2] = {sl_cstr("a"), sl_cstr("b")}, p1[1] = {sl_int(3)};
    const sl_value *parts[2] = {p0, p1};
    size_t lens[2] = {2, 1}, n;
    sl__window_iter i = {0};
    int64_t t;
    sl__retained *k;

    build(&r, 0, 1, &none);
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
    sf_run_free(&r);
}

const char *SL_SUITE = "stream/batch_commit";
const sl_test_case SL_TESTS[] = {
    {"failed_output", test_failed_output},
    {"interrupted", test_interrupted},
    {"skip_initial_state", test_skip_initial_state},
    {"window_restore_api", test_window_restore_api},
    {NULL, NULL}};
