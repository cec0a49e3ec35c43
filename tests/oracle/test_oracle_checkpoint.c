/*
 * Oracle test of Spark's CheckpointSuite: its three recovery cases in
 * spark_vectors.json, run by the oracle harness through the C API. Each
 * case stops after params.restart_after_batches with a checkpoint, and the
 * harness builds the pipeline again in a new context on that checkpoint
 * and runs to num_batches_run; both runs' outputs together must be what
 * Spark's test asserts (a batch done twice, or state counted twice, would
 * show). Pipelines: input.map(x -> (x, 1)) then reduceByKey(sum),
 * reduceByKeyAndWindow(sum, subtract, window, slide) or
 * updateStateByKey(sum + old). checkpoint_interval_ms (Spark's stream
 * checkpoint interval) is read and has no effect on the results: sluice
 * writes state deltas every batch.
 */
#include "oracle_harness.h"

#include "sl_test.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* updateStateByKey: sum(values) + state.getOrElse(0) */
static sl_status up_sum(sl_task *t, const sl_value *key, const sl_value *values,
                        const sl_value *state, sl_value *new_state,
                        bool *remove, void *user)
{
    int64_t sum = state ? state->u.i : 0;
    size_t i;
    (void)t;
    (void)key;
    (void)remove;
    (void)user;
    if (state && state->kind != SL_KIND_INT)
        return SL_ETYPE;
    for (i = 0; values && i < values->len; i++) {
        if (values->u.items[i].kind != SL_KIND_INT)
            return SL_ETYPE;
        sum += values->u.items[i].u.i;
    }
    *new_state = sl_int(sum);
    return SL_OK;
}

static sl_dstream *pairs(sl_dstream *in)
{
    return sl_dstream_map(in, sl_fn_pair_one, NULL);
}

static sl_dstream *build_reduce(sl_dstream *const *in, const cJSON *p)
{
    (void)p;
    return sl_dstream_reduce_by_key(pairs(in[0]), sl_fn_sum, NULL, 0);
}

static sl_dstream *build_window(sl_dstream *const *in, const cJSON *p)
{
    int64_t b = oracle_param_int(p, "batch_ms");
    int64_t w = oracle_param_int(p, "window_batches");
    int64_t s = oracle_param_int(p, "slide_batches");
    return sl_dstream_reduce_by_key_and_window(
        pairs(in[0]), sl_fn_sum, sl_fn_subtract, NULL, NULL, w * b, s * b, 0);
}

static sl_dstream *build_update(sl_dstream *const *in, const cJSON *p)
{
    (void)p;
    return sl_dstream_update_state_by_key(pairs(in[0]), up_sum, NULL, NULL, 0);
}

static const oracle_pipeline PIPELINES[] = {
    {"recovery with map and reduceByKey operations", 1, build_reduce},
    {"recovery with invertible reduceByKeyAndWindow operation", 1,
     build_window},
    {"recovery with updateStateByKey operation", 1, build_update},
};

static const char *const EXTRA_PARAMS[] = {"window_batches",
                                           "checkpoint_interval_ms", NULL};

static const oracle_suite CHECKPOINT = {
    .suite = "CheckpointSuite",
    .pipelines = PIPELINES,
    .npipelines = COUNT(PIPELINES),
    .extra_params = EXTRA_PARAMS,
};

static void test_case_lists(void)
{
    oracle_test_case_lists(&CHECKPOINT);
}

static void test_cases_match_spark(void)
{
    oracle_test_cases_match(&CHECKPOINT);
}

static void test_release(void)
{
    oracle_release();
    CU_PASS("released");
}

const char *SL_SUITE = "oracle: Spark CheckpointSuite";
const sl_test_case SL_TESTS[] = {
    {"vectors load; cases run and skipped", test_case_lists},
    {"every case matches Spark across a restart (workers=2, then workers=1 "
     "identically)",
     test_cases_match_spark},
    {"release the vectors", test_release},
    {NULL, NULL}};
