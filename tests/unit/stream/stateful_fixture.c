/*
 * The stateful pipeline of test_batch_commit.c and test_ckpt_state.c
 * (see stateful_fixture.h).
 */
#include "stateful_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_test.h"
#include "state/store.h"
#include "stream/stream_int.h"

#define NB SF_NB
#define RUN SF_RUN

typedef sf_buf buf;
typedef sf_run run;

/* ------------------------------------------------------------ strings */

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

sl_status sf_count_update(sl_task *t, const sl_value *key,
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

char *sf_snapshot(const sf_run *r)
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

static void on_completed(const sl_batch_info *b, void *user)
{
    run *r = user;
    int64_t id = b->batch_id + r->shift;
    if (id >= 0 && id <= RUN + 1 && !r->snap[id])
        r->snap[id] = sf_snapshot(r);
    if (r->hooks && r->hooks->completed)
        r->hooks->completed(r, b);
}

/* Name the streams: the plain reduce's inner window stays unnamed
 * ("~window-<k>"). */
static void set_names(run *r)
{
    SL_CHECK_OK(sl_dstream_set_name(r->state, ".counts"));
    SL_CHECK_OK(sl_dstream_set_name(r->mapped, "sums"));
    SL_CHECK_OK(sl_dstream_set_name(r->win, "win"));
    SL_CHECK_OK(sl_dstream_set_name(r->rwin, "rwin"));
}

/* The outputs: the collectors and the test's own, in the order asked. */
static void add_outputs(run *r)
{
    const sf_hooks *h = r->hooks;
    SL_CHECK_OK(sl_dstream_foreach_rdd(r->state, out_state, r));
    if (h && h->last && h->last_early)
        SL_CHECK_OK(sl_dstream_foreach_rdd(r->q, h->last, r));
    SL_CHECK_OK(sl_dstream_foreach_rdd(r->mapped, out_mapped, r));
    SL_CHECK_OK(sl_dstream_foreach_rdd(r->snaps, out_snaps, r));
    SL_CHECK_OK(sl_dstream_foreach_rdd(r->win, out_win, r));
    SL_CHECK_OK(sl_dstream_foreach_rdd(r->rwin, out_rwin, r));
    SL_CHECK_OK(sl_dstream_foreach_rdd(r->plain_rwin, out_plain_rwin, r));
    if (h && h->last && !h->last_early)
        SL_CHECK_OK(sl_dstream_foreach_rdd(r->q, h->last, r));
}

void sf_build(sf_run *r, int64_t shift, int64_t batches, const sf_hooks *hooks,
              void *user)
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
    r->hooks = hooks;
    r->user = user;
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
        sl_dstream_update_state_by_key(pairs, sf_count_update, NULL, init_s, 1);
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
    if (hooks && hooks->named)
        set_names(r);
    add_outputs(r);
    memset(&l, 0, sizeof l);
    l.version = SL_LISTENER_VERSION;
    l.on_batch_completed = on_completed;
    SL_CHECK_OK(sl_context_add_listener(r->ctx, &l, r));
}

/* Data batch b (1-based): keys k0..k4 in a pattern that makes keys enter,
 * leave and time out of the map_with_state. */
void sf_push_from(sf_run *r, int64_t first)
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

void sf_run_all(sf_run *r)
{
    SL_CHECK_OK(sl_context_start(r->ctx));
    (void)sl_context_await_termination(r->ctx);
}

void sf_run_free(sf_run *r)
{
    size_t i;
    for (i = 0; i < RUN + 2; i++) {
        free(r->out[i].p);
        free(r->snap[i]);
    }
    sl_context_free(r->ctx);
}
