/*
 * Oracle test of Spark's MapWithStateSuite: every stream case of the suite
 * in spark_vectors.json, run by the oracle harness (manual clock,
 * workers=2 then workers=1, identically). Each pipeline is Spark's:
 * input.map(x -> (x, 1)).mapWithState(spec) with the case's mapping
 * function (below, one per test, translated from the case's "op" text),
 * params.timeout_ms and params.initial_state. The harness collects two
 * outputs: "mapped", the map_with_state stream, and "state_snapshots", its
 * sl_dstream_state_snapshots; expected.mapped and expected.state_snapshots
 * are compared per batch as multisets. "state timing out" makes Spark's
 * three assertions instead (assert_all_mapped_sorted: every mapped record
 * of the 20 run batches, sorted; assert_some_snapshot_equals: some
 * snapshot; assert_last_snapshot_equals: the last one): only the 20 run
 * batches of its 26 input batches are pushed.
 *
 * "driver failure recovery" runs with a checkpoint, stopped after
 * restart_after_batches and restarted from it in a new context (the
 * harness). Not run, with the reason listed: MapWithStateRDDSuite's
 * record-level case (test_oracle_state_record runs it).
 * Any other case the harness cannot run fails the test.
 *
 * Params read here besides the harness's own: pre_map (must be
 * "x -> (x, 1)"), initial_state, timeout_ms, and two that leave the
 * compared results unchanged: state_partitions (Spark's numPartitions for
 * the state; sl_dstream_map_with_state takes no partition count, and the
 * outputs are compared as multisets) and
 * default_state_checkpoint_interval_batches (in Spark, idle keys are only
 * scanned for timeouts at state checkpoints, every 10 batches; sluice
 * scans at every batch; the case's three assertions hold either way).
 */
#include "oracle_harness.h"

#include "sl_test.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------- mapping functions */

/* value.getOrElse(0) for an int value (NULL in a timeout call). */
static sl_status int_value(const sl_value *value, int64_t *out)
{
    if (value && value->kind != SL_KIND_INT)
        return SL_ETYPE;
    *out = value ? value->u.i : 0;
    return SL_OK;
}

/* state.getOption.getOrElse(0) for an int state. */
static sl_status int_state(sl_state *st, int64_t *out)
{
    const sl_value *s = sl_state_get(st);
    if (s && s->kind != SL_KIND_INT)
        return SL_ETYPE;
    if ((s != NULL) != sl_state_exists(st))
        return SL_EINVAL; /* get and exists disagree */
    *out = s ? s->u.i : 0;
    return SL_OK;
}

/* sum = value.getOrElse(0) + state.getOption.getOrElse(0);
 * state.update(sum) */
static sl_status update_sum(sl_state *st, const sl_value *value, sl_value *sum)
{
    int64_t v, s;
    sl_status rc;
    if ((rc = int_value(value, &v)) != SL_OK ||
        (rc = int_state(st, &s)) != SL_OK)
        return rc;
    *sum = sl_int(v + s);
    return sl_state_update(st, sum);
}

/* Simple API: ... state.update(sum); sum */
static sl_status ms_sum(sl_task *t, const sl_value *key, const sl_value *value,
                        sl_state *st, void *user)
{
    sl_value sum;
    sl_status rc = update_sum(st, value, &sum);
    (void)key;
    (void)user;
    return rc != SL_OK ? rc : sl_task_emit(t, &sum);
}

/* Advanced API: ... state.update(sum); Some(key * 2), the key repeated
 * twice as a new string in task memory. */
static sl_status ms_key_twice(sl_task *t, const sl_value *key,
                              const sl_value *value, sl_state *st, void *user)
{
    sl_value sum, twice;
    char *buf;
    sl_status rc = update_sum(st, value, &sum);
    (void)user;
    if (rc != SL_OK)
        return rc;
    if (key->kind != SL_KIND_STR)
        return SL_ETYPE;
    buf = sl_task_alloc(t, 2 * (size_t)key->len + 1);
    if (!buf)
        return SL_ENOMEM;
    memcpy(buf, key->u.s, key->len);
    memcpy(buf + key->len, key->u.s, key->len);
    buf[2 * (size_t)key->len] = '\0';
    twice = sl_str(buf, 2 * (size_t)key->len);
    return sl_task_emit(t, &twice);
}

/* States as mapped data: ... state.update(sum); Some((key, sum)) */
static sl_status ms_key_sum(sl_task *t, const sl_value *key,
                            const sl_value *value, sl_state *st, void *user)
{
    sl_value sum, pair;
    sl_status rc = update_sum(st, value, &sum);
    (void)user;
    if (rc == SL_OK)
        rc = sl_task_pair(t, key, &sum, &pair);
    return rc != SL_OK ? rc : sl_task_emit(t, &pair);
}

/* Initial states: ... state.update(sum); None */
static sl_status ms_nothing(sl_task *t, const sl_value *key,
                            const sl_value *value, sl_state *st, void *user)
{
    sl_value sum;
    (void)t;
    (void)key;
    (void)user;
    return update_sum(st, value, &sum);
}

/* State removing: if (state.exists) { state.remove(); Some(key) }
 * else { state.update(value.get); None } */
static sl_status ms_toggle(sl_task *t, const sl_value *key,
                           const sl_value *value, sl_state *st, void *user)
{
    sl_status rc;
    (void)user;
    if (sl_state_exists(st)) {
        rc = sl_state_remove(st);
        return rc != SL_OK ? rc : sl_task_emit(t, key);
    }
    if (!value)
        return SL_EINVAL; /* value.get on None: no timeout here */
    return sl_state_update(st, value);
}

/* State timing out: if (value.isDefined) state.update(1);
 * if (state.isTimingOut) Some(key) else None */
static sl_status ms_timeout(sl_task *t, const sl_value *key,
                            const sl_value *value, sl_state *st, void *user)
{
    sl_value one = sl_int(1);
    sl_status rc;
    (void)user;
    if (value && (rc = sl_state_update(st, &one)) != SL_OK)
        return rc;
    return sl_state_is_timing_out(st) ? sl_task_emit(t, key) : SL_OK;
}

/* ------------------------------------------------- pipelines */

/*
 * input.map(x -> (x, 1)).mapWithState(StateSpec.function(fn)
 * .timeout(params.timeout_ms).initialState(params.initial_state))
 */
static sl_dstream *map_with_state(sl_dstream *in, const cJSON *p,
                                  sl_map_with_state_fn fn)
{
    const cJSON *init = cJSON_GetObjectItemCaseSensitive(p, "initial_state");
    const cJSON *it;
    int64_t timeout = oracle_param_int(p, "timeout_ms");
    size_t n = 0, i;
    sl_value *pairs = NULL;
    sl_dstream *out;
    bool ok = true;
    if (init) {
        pairs = calloc((size_t)cJSON_GetArraySize(init) + 1, sizeof *pairs);
        if (!pairs)
            return NULL;
        cJSON_ArrayForEach(it, init)
        {
            if (!(ok = oracle_json_value(it, &pairs[n])))
                break;
            n++;
        }
    }
    out = ok ? sl_dstream_map_with_state(
                   sl_dstream_map(in, sl_fn_pair_one, NULL), fn, NULL,
                   timeout > 0 ? timeout : 0, pairs, n)
             : NULL;
    for (i = 0; i < n; i++)
        oracle_value_free(&pairs[i]);
    free(pairs);
    return out;
}

static sl_dstream *build_sum(sl_dstream *const *in, const cJSON *p)
{
    return map_with_state(in[0], p, ms_sum);
}

static sl_dstream *build_key_twice(sl_dstream *const *in, const cJSON *p)
{
    return map_with_state(in[0], p, ms_key_twice);
}

static sl_dstream *build_key_sum(sl_dstream *const *in, const cJSON *p)
{
    return map_with_state(in[0], p, ms_key_sum);
}

static sl_dstream *build_nothing(sl_dstream *const *in, const cJSON *p)
{
    return map_with_state(in[0], p, ms_nothing);
}

static sl_dstream *build_toggle(sl_dstream *const *in, const cJSON *p)
{
    return map_with_state(in[0], p, ms_toggle);
}

static sl_dstream *build_timeout(sl_dstream *const *in, const cJSON *p)
{
    return map_with_state(in[0], p, ms_timeout);
}

/* Output 1: the mapped stream's stateSnapshots(). */
static sl_dstream *derive_snapshots(sl_dstream *mapped, size_t i,
                                    const cJSON *p)
{
    (void)p;
    return i == 1 ? sl_dstream_state_snapshots(mapped) : NULL;
}

static const oracle_pipeline PIPELINES[] = {
    {"mapWithState - basic operations with simple API", 1, build_sum},
    {"mapWithState - basic operations with advanced API", 1, build_key_twice},
    {"mapWithState - states as mapped data", 1, build_key_sum},
    {"mapWithState - initial states, with nothing returned as from mapping "
     "function",
     1, build_nothing},
    {"mapWithState - state removing", 1, build_toggle},
    {"mapWithState - state timing out", 1, build_timeout},
    /* the harness stops after restart_after_batches and goes on from the
     * checkpoint in a new context */
    {"mapWithState - driver failure recovery", 1, build_sum},
};

static const char *const OUTPUTS[] = {"mapped", "state_snapshots", NULL};

static const oracle_assertion ASSERTIONS[] = {
    {"assert_all_mapped_sorted", 0, ORACLE_ALL_SORTED},
    {"assert_some_snapshot_equals", 1, ORACLE_SOME_BATCH},
    {"assert_last_snapshot_equals", 1, ORACLE_LAST_BATCH},
};

static const oracle_exclusion EXCLUSIONS[] = {
    {"MapWithStateRDDSuite",
     "updating state and generating mapped data in MapWithStateRDDRecord",
     "record-level: run by test_oracle_state_record, one key per "
     "sub-case"},
};

/* ------------------------------------------------- case params */

static const char *const STATE_PARAMS[] = {
    "pre_map",
    "initial_state",
    "timeout_ms",
    "state_partitions",
    "default_state_checkpoint_interval_batches",
    "checkpoint_interval_ms",
    NULL,
};

/* initial_state: a list of [key, integer] pairs. */
static bool check_initial_state(const cJSON *init, char *why, size_t len)
{
    const cJSON *it;
    if (!cJSON_IsArray(init)) {
        snprintf(why, len, "params.initial_state is not a list");
        return false;
    }
    cJSON_ArrayForEach(it, init)
    {
        const cJSON *k = cJSON_GetArrayItem(it, 0);
        const cJSON *v = cJSON_GetArrayItem(it, 1);
        if (!cJSON_IsArray(it) || cJSON_GetArraySize(it) != 2 ||
            !(cJSON_IsString(k) || cJSON_IsNumber(k)) || !cJSON_IsNumber(v) ||
            v->valuedouble != (double)(int64_t)v->valuedouble) {
            snprintf(why, len,
                     "params.initial_state holds an item that is not a "
                     "[key, integer] pair");
            return false;
        }
    }
    return true;
}

/* params.name, when present, is a positive integer. */
static bool positive_or_absent(const cJSON *p, const char *name, char *why,
                               size_t len)
{
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(p, name);
    if (!j)
        return true;
    if (cJSON_IsNumber(j) && j->valuedouble >= 1 &&
        j->valuedouble == (double)(int64_t)j->valuedouble)
        return true;
    snprintf(why, len, "params.%s is not a positive integer", name);
    return false;
}

static bool check_state_params(const char *test, const cJSON *p, char *why,
                               size_t len)
{
    const cJSON *pre = cJSON_GetObjectItemCaseSensitive(p, "pre_map");
    const cJSON *init = cJSON_GetObjectItemCaseSensitive(p, "initial_state");
    bool timeout = cJSON_GetObjectItemCaseSensitive(p, "timeout_ms") != NULL;
    (void)test;
    if (!cJSON_IsString(pre) || strcmp(pre->valuestring, "x -> (x, 1)") != 0) {
        snprintf(why, len,
                 "params.pre_map is not \"x -> (x, 1)\", the only pre-map "
                 "this runner builds");
        return false;
    }
    if (init && !check_initial_state(init, why, len))
        return false;
    if (!positive_or_absent(p, "timeout_ms", why, len) ||
        !positive_or_absent(p, "state_partitions", why, len) ||
        !positive_or_absent(p, "default_state_checkpoint_interval_batches", why,
                            len))
        return false;
    if (!timeout && cJSON_GetObjectItemCaseSensitive(
                        p, "default_state_checkpoint_interval_batches")) {
        snprintf(why, len,
                 "params.default_state_checkpoint_interval_batches without "
                 "timeout_ms: it would matter only for timeouts");
        return false;
    }
    return true;
}

static const oracle_suite STATE = {
    .suite = "MapWithStateSuite",
    .pipelines = PIPELINES,
    .npipelines = COUNT(PIPELINES),
    .extra_params = STATE_PARAMS,
    .check_params = check_state_params,
    .outputs = OUTPUTS,
    .derive = derive_snapshots,
    .assertions = ASSERTIONS,
    .nassertions = COUNT(ASSERTIONS),
    .exclusions = EXCLUSIONS,
    .nexclusions = COUNT(EXCLUSIONS),
};

static void test_case_lists(void)
{
    oracle_test_case_lists(&STATE);
}

static void test_cases_match_spark(void)
{
    oracle_test_cases_match(&STATE);
}

static void test_release(void)
{
    oracle_release();
    CU_PASS("released");
}

const char *SL_SUITE = "oracle: Spark MapWithStateSuite";
const sl_test_case SL_TESTS[] = {
    {"vectors load; cases run, excluded and skipped", test_case_lists},
    {"every case matches Spark (workers=2, then workers=1 identically)",
     test_cases_match_spark},
    {"release the vectors", test_release},
    {NULL, NULL},
};
