/*
 * Oracle test of Spark's MapWithStateRDDSuite record-level case ("updating
 * state and generating mapped data in MapWithStateRDDRecord"), through the
 * C API: for each of its sub-cases, one key goes through
 * sl_dstream_map_with_state on the manual clock. Batch 1 (time 1000 ms)
 * stores the initial state, if any (so its update time is 1000, as the
 * case's initial_update_time_ms); batch 2 (time 2000 ms, the case's
 * batch_time_ms) feeds the data commands (noop, get-state, update-state,
 * remove-state). A timeout threshold T becomes the timeout 2000 - T. The
 * mapping function emits what Spark's test collects: mapped values,
 * timing-out states and removed states, each tagged; the states left and
 * their update times are read from the stream's state store after the
 * run (the store is internal: Spark's test reads its record internals
 * too). remove_timed_out false comes only with no timeout in the vectors.
 */
#include <cJSON.h>
#include <sluice/sluice.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_test.h"
#include "sl_test_util.h"
#include "state/store.h"
#include "stream/stream_int.h"

#ifndef SL_ORACLE_VECTORS
#define SL_ORACLE_VECTORS "spark_vectors.json"
#endif

static atomic_int called; /* the function ran for batch 2 */

static sl_status emit_tagged(sl_task *t, const char *tag, const sl_value *v)
{
    sl_value tagv = sl_cstr(tag), out;
    sl_status st = sl_task_pair(t, &tagv, v, &out);
    return st == SL_OK ? sl_task_emit(t, &out) : st;
}

/* The suite's mapping function over the commands. */
static sl_status commands(sl_task *t, const sl_value *key,
                          const sl_value *value, sl_state *st, void *user)
{
    const sl_value *s = sl_state_get(st);
    sl_value v;
    (void)key;
    (void)user;
    if (value && value->kind == SL_KIND_PAIR) /* batch 1: ("set", V) */
        return sl_state_update(st, sl_pair_value(value));
    if (sl_task_time(t) == 2000)
        atomic_store(&called, 1);
    if (!value) /* a timeout call */
        return emit_tagged(t, "timing_out", s);
    if (value->kind != SL_KIND_STR)
        return SL_ETYPE;
    if (!strncmp(value->u.s, "noop", value->len))
        return SL_OK;
    if (!strncmp(value->u.s, "get-state", value->len)) {
        v = s ? *s : sl_int(-1);
        return emit_tagged(t, "mapped", &v);
    }
    if (!strncmp(value->u.s, "update-state", value->len)) {
        v = s ? sl_int(s->u.i + 1) : sl_int(0);
        return sl_state_update(st, &v);
    }
    if (!strncmp(value->u.s, "remove-state", value->len)) {
        sl_status rc = s ? emit_tagged(t, "removed", s) : SL_OK;
        return rc == SL_OK ? sl_state_remove(st) : rc;
    }
    return SL_ETYPE;
}

typedef struct outputs {
    sl_test_buf mapped, timing_out, removed; /* JSON lists' items */
} outputs;

static void add_item(sl_test_buf *b, const sl_value *v)
{
    char *j = sl_test_json(v);
    if (sl_test_buf_str(b)[0])
        sl_test_buf_puts(b, ",");
    sl_test_buf_puts(b, j);
    free(j);
}

static sl_status collect(sl_rdd *rdd, int64_t time_ms, void *user)
{
    outputs *o = user;
    const sl_value *recs;
    size_t n, i;
    sl_status st = sl_rdd_collect(rdd, &recs, &n);
    if (st != SL_OK || time_ms != 2000)
        return st;
    for (i = 0; i < n; i++) {
        const sl_value *tag = sl_pair_key(&recs[i]);
        sl_test_buf *b = !strncmp(tag->u.s, "mapped", tag->len) ? &o->mapped
                         : !strncmp(tag->u.s, "removed", tag->len)
                             ? &o->removed
                             : &o->timing_out;
        add_item(b, sl_pair_value(&recs[i]));
    }
    return SL_OK;
}

/* One sub-case; returns a description of the first mismatch, or NULL. */
static char *run_case(const cJSON *in, const cJSON *want)
{
    const cJSON *init = cJSON_GetArrayItem(in, 0);
    const cJSON *data = cJSON_GetArrayItem(in, 1);
    const cJSON *threshold = cJSON_GetArrayItem(in, 2);
    const char *settings[] = {"clock",     "manual",  "max_batches",
                              "2",         "workers", "2",
                              "log.level", "error",   NULL};
    char err[256], *got_states, *why = NULL;
    sl_test_buf states = {0};
    outputs o;
    sl_context *ctx;
    sl_dstream *q, *m;
    const cJSON *it;
    int64_t timeout = 0;
    size_t shard, i;
    const sl__state_entry *e;

    memset(&o, 0, sizeof o);
    atomic_store(&called, 0);
    if (cJSON_IsNumber(threshold))
        timeout = 2000 - (int64_t)threshold->valuedouble;
    SL_CHECK_OK(sl_test_context_open(settings, &ctx, err, sizeof err));
    q = sl_queue_stream(ctx, 1);
    m = sl_dstream_map_with_state(q, commands, NULL, timeout, NULL, 0);
    SL_CHECK(m != NULL);
    SL_CHECK_OK(sl_dstream_foreach_rdd(m, collect, &o));
    { /* batch 1: the initial state */
        sl_value k = sl_cstr("k"), setv[2], rec[2];
        size_t n = 0;
        if (cJSON_GetArraySize(init) > 0) {
            setv[0] = sl_cstr("set");
            setv[1] = sl_int((int64_t)cJSON_GetArrayItem(init, 0)->valuedouble);
            rec[0] = k;
            rec[1] = sl_composite(SL_KIND_PAIR, setv, 2);
            n = 1;
        }
        {
            sl_value r = sl_composite(SL_KIND_PAIR, rec, 2);
            SL_CHECK_OK(sl_queue_stream_push(q, &r, n));
        }
    }
    { /* batch 2: the commands */
        sl_value recs[8], pairs[8][2];
        size_t n = 0;
        cJSON_ArrayForEach(it, data)
        {
            if (n == 8)
                break;
            pairs[n][0] = sl_cstr("k");
            pairs[n][1] = sl_cstr(it->valuestring);
            recs[n] = sl_composite(SL_KIND_PAIR, pairs[n], 2);
            n++;
        }
        SL_CHECK_OK(sl_queue_stream_push(q, recs, n));
    }
    SL_CHECK_OK(sl_context_start(ctx));
    SL_CHECK_OK(sl_context_await_termination(ctx));

    for (shard = 0; shard < sl__state_shards(m->store); shard++)
        for (i = 0; (e = sl__state_next(m->store, shard, &i)) != NULL;) {
            char *v = sl_test_json(&e->value);
            if (sl_test_buf_str(&states)[0])
                sl_test_buf_puts(&states, ",");
            sl_test_buf_printf(&states, "[%s,%lld]", v,
                               (long long)e->updated_ms);
            free(v);
        }
    got_states = sl_test_buf_take(&states);
    {
        char *ws = cJSON_PrintUnformatted(
            cJSON_GetObjectItemCaseSensitive(want, "states"));
        char *wm = cJSON_PrintUnformatted(
            cJSON_GetObjectItemCaseSensitive(want, "mapped"));
        char *wt = cJSON_PrintUnformatted(
            cJSON_GetObjectItemCaseSensitive(want, "timing_out"));
        char *wr = cJSON_PrintUnformatted(
            cJSON_GetObjectItemCaseSensitive(want, "removed"));
        const cJSON *wc =
            cJSON_GetObjectItemCaseSensitive(want, "function_called");
        char got[4][512];
        snprintf(got[0], sizeof got[0], "[%s]", got_states);
        snprintf(got[1], sizeof got[1], "[%s]", sl_test_buf_str(&o.mapped));
        snprintf(got[2], sizeof got[2], "[%s]", sl_test_buf_str(&o.timing_out));
        snprintf(got[3], sizeof got[3], "[%s]", sl_test_buf_str(&o.removed));
        if (strcmp(got[0], ws) || strcmp(got[1], wm) || strcmp(got[2], wt) ||
            strcmp(got[3], wr) ||
            (wc && cJSON_IsTrue(wc) != (atomic_load(&called) != 0))) {
            sl_test_buf b = {0};
            sl_test_buf_printf(
                &b,
                "states %s (want %s), mapped %s (want %s), timing out "
                "%s (want %s), removed %s (want %s), called %d",
                got[0], ws, got[1], wm, got[2], wt, got[3], wr,
                atomic_load(&called));
            why = sl_test_buf_take(&b);
        }
        free(ws);
        free(wm);
        free(wt);
        free(wr);
    }
    free(got_states);
    sl_test_buf_free(&o.mapped);
    sl_test_buf_free(&o.timing_out);
    sl_test_buf_free(&o.removed);
    sl_context_free(ctx);
    return why;
}

static void test_record_cases(void)
{
    size_t len, i, n;
    char *text = sl_test_read_file(SL_ORACLE_VECTORS, &len);
    cJSON *root, *cases, *c, *found = NULL;
    SL_CHECK(text != NULL);
    if (!text)
        return;
    root = cJSON_ParseWithLength(text, len);
    free(text);
    SL_CHECK(root != NULL);
    cases = cJSON_IsArray(root)
                ? root
                : cJSON_GetObjectItemCaseSensitive(root, "cases");
    cJSON_ArrayForEach(c, cases)
    {
        const cJSON *suite = cJSON_GetObjectItemCaseSensitive(c, "suite");
        if (cJSON_IsString(suite) &&
            strcmp(suite->valuestring, "MapWithStateRDDSuite") == 0)
            found = c;
    }
    SL_CHECK(found != NULL);
    if (found) {
        const cJSON *in = cJSON_GetObjectItemCaseSensitive(found, "input");
        const cJSON *want = cJSON_GetObjectItemCaseSensitive(found, "expected");
        n = (size_t)cJSON_GetArraySize(in);
        SL_CHECK(n > 0 && n == (size_t)cJSON_GetArraySize(want));
        for (i = 0; i < n; i++) {
            char *why = run_case(cJSON_GetArrayItem(in, (int)i),
                                 cJSON_GetArrayItem(want, (int)i));
            if (why) {
                char msg[64];
                snprintf(msg, sizeof msg, "sub-case %zu", i + 1);
                SL_CHECK_STR(why, msg);
                free(why);
            }
        }
        printf("\n  RUN MapWithStateRDDSuite / updating state and generating "
               "mapped data in MapWithStateRDDRecord: %zu sub-cases\n",
               n);
    }
    cJSON_Delete(root);
}

const char *SL_SUITE = "oracle/map_with_state_record";
const sl_test_case SL_TESTS[] = {{"record_cases", test_record_cases},
                                 {NULL, NULL}};
