/*
 * Oracle test of Spark's BasicOperationsSuite: every case of the suite in
 * spark_vectors.json, updateStateByKey ones included, run by the oracle
 * harness. The only per-case code is PIPELINES: Spark's test name -> the
 * pipeline Spark's test builds, from the functions below. The state cases
 * take their initial state from params.initial_state ((key, state) pairs);
 * params.batch_times_ms, the batch times Spark's time-aware update function
 * sees, must be the harness's manual-clock times (batch i at i x batch_ms).
 */
#include "oracle_harness.h"

#include "sl_test.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------- per-record functions */

static int64_t plus4 = 4, plus8 = 8, plus10 = 10;

/* map(int -> decimal string) */
static sl_status fn_to_decimal(sl_task *t, const sl_value *in, sl_value *out,
                               void *user)
{
    char buf[24];
    int n;
    (void)user;
    if (in->kind != SL_KIND_INT)
        return SL_ETYPE;
    n = snprintf(buf, sizeof buf, "%" PRId64, in->u.i);
    return sl_task_str(t, buf, (size_t)n, out);
}

/* map(x -> x + *user) */
static sl_status fn_plus(sl_task *t, const sl_value *in, sl_value *out,
                         void *user)
{
    (void)t;
    if (in->kind != SL_KIND_INT)
        return SL_ETYPE;
    *out = sl_int(in->u.i + *(const int64_t *)user);
    return SL_OK;
}

/* flatMap(x -> [x, x*2]) */
static sl_status fn_self_and_double(sl_task *t, const sl_value *in, void *user)
{
    sl_value twice;
    sl_status st;
    (void)user;
    if (in->kind != SL_KIND_INT)
        return SL_ETYPE;
    twice = sl_int(in->u.i * 2);
    st = sl_task_emit(t, in);
    return st != SL_OK ? st : sl_task_emit(t, &twice);
}

/* flatMapValues(v -> [v, v+10]) */
static sl_status fn_self_and_plus10(sl_task *t, const sl_value *in, void *user)
{
    sl_value more;
    sl_status st;
    (void)user;
    if (in->kind != SL_KIND_INT)
        return SL_ETYPE;
    more = sl_int(in->u.i + 10);
    st = sl_task_emit(t, in);
    return st != SL_OK ? st : sl_task_emit(t, &more);
}

/* filter(x is even) */
static bool fn_is_even(const sl_value *in, void *user)
{
    (void)user;
    return in->kind == SL_KIND_INT && in->u.i % 2 == 0;
}

/* mapPartitions(partition -> [sum]): an empty partition gives 0, as
 * Iterator(x.sum) does in Spark's test. */
static sl_status fn_sum_partition(sl_task *t, sl_iter *it, void *user)
{
    sl_value v, sum = sl_int(0);
    (void)user;
    while (sl_iter_next(it, &v)) {
        if (v.kind != SL_KIND_INT)
            return SL_ETYPE;
        sum.u.i += v.u.i;
    }
    return sl_task_emit(t, &sum);
}

/* reduce(_ + _) is the library's sl_fn_sum (Java's long arithmetic), and
 * map(x -> (x, 1)) its sl_fn_pair_one. */

/* map(x -> (x, "x")) */
static sl_status fn_pair_x(sl_task *t, const sl_value *in, sl_value *out,
                           void *user)
{
    sl_value x;
    sl_status st = sl_task_str(t, "x", 1, &x);
    (void)user;
    return st != SL_OK ? st : sl_task_pair(t, in, &x, out);
}

/* mapValues(state -> state.counter): item 0 of the lifecycle state tuple */
static sl_status fn_counter(sl_task *t, const sl_value *in, sl_value *out,
                            void *user)
{
    (void)t;
    (void)user;
    if (in->kind != SL_KIND_TUPLE || in->len != 2)
        return SL_ETYPE;
    *out = in->u.items[0];
    return SL_OK;
}

/* ------------------------------------------------- update functions */

/* values.sum over a key's list of int values. */
static sl_status sum_values(const sl_value *values, int64_t *sum)
{
    uint32_t i;
    if (values->kind != SL_KIND_LIST)
        return SL_ETYPE;
    *sum = 0;
    for (i = 0; i < values->len; i++) {
        if (values->u.items[i].kind != SL_KIND_INT)
            return SL_ETYPE;
        *sum += values->u.items[i].u.i;
    }
    return SL_OK;
}

/* state.getOrElse(0) for an int state. */
static sl_status int_state(const sl_value *state, int64_t *out)
{
    if (state && state->kind != SL_KIND_INT)
        return SL_ETYPE;
    *out = state ? state->u.i : 0;
    return SL_OK;
}

/* Some(values.sum + state.getOrElse(0)) */
static sl_status up_sum(sl_task *t, const sl_value *key, const sl_value *values,
                        const sl_value *state, sl_value *new_state,
                        bool *remove, void *user)
{
    int64_t sum, old;
    sl_status st;
    (void)t;
    (void)key;
    (void)remove;
    (void)user;
    if ((st = sum_values(values, &sum)) != SL_OK ||
        (st = int_state(state, &old)) != SL_OK)
        return st;
    *new_state = sl_int(sum + old);
    return SL_OK;
}

/* With the batch time: values present -> time + state.getOrElse(0), else
 * state.getOrElse(0). */
static sl_status up_time(sl_task *t, const sl_value *key,
                         const sl_value *values, const sl_value *state,
                         sl_value *new_state, bool *remove, void *user)
{
    int64_t old;
    sl_status st;
    (void)key;
    (void)remove;
    (void)user;
    if (values->kind != SL_KIND_LIST)
        return SL_ETYPE;
    if ((st = int_state(state, &old)) != SL_OK)
        return st;
    *new_state = sl_int(values->len ? sl_task_time(t) + old : old);
    return SL_OK;
}

/* Spark's StateObject {counter, expireCounter} as the tuple (counter,
 * expire): a sum of 0 counts one more batch without values, else the sum
 * is added to counter and expire reset; at expire 2 the key goes (None). */
static sl_status up_lifecycle(sl_task *t, const sl_value *key,
                              const sl_value *values, const sl_value *state,
                              sl_value *new_state, bool *remove, void *user)
{
    int64_t sum, counter = 0, expire = 0;
    sl_value *items;
    sl_status st;
    (void)key;
    (void)user;
    if ((st = sum_values(values, &sum)) != SL_OK)
        return st;
    if (state) {
        if (state->kind != SL_KIND_TUPLE || state->len != 2 ||
            state->u.items[0].kind != SL_KIND_INT ||
            state->u.items[1].kind != SL_KIND_INT)
            return SL_ETYPE;
        counter = state->u.items[0].u.i;
        expire = state->u.items[1].u.i;
    }
    if (sum == 0) {
        expire++;
    } else {
        counter += sum;
        expire = 0;
    }
    if (expire == 2) {
        *remove = true;
        return SL_OK;
    }
    items = sl_task_alloc(t, 2 * sizeof *items);
    if (!items)
        return SL_ENOMEM;
    items[0] = sl_int(counter);
    items[1] = sl_int(expire);
    *new_state = sl_composite(SL_KIND_TUPLE, items, 2);
    return SL_OK;
}

/* ------------------------------------------------- per-batch functions */

static sl_status tf_to_decimal(sl_rdd *in, int64_t time_ms, sl_rdd **out,
                               void *user)
{
    (void)time_ms;
    (void)user;
    *out = sl_rdd_map(in, fn_to_decimal, NULL);
    return *out ? SL_OK : SL_EUSER;
}

/* transform(rdd -> null): leaves *out NULL. */
static sl_status tf_null(sl_rdd *in, int64_t time_ms, sl_rdd **out, void *user)
{
    (void)in;
    (void)time_ms;
    (void)user;
    *out = NULL;
    return SL_OK;
}

static sl_status tf2_join(sl_rdd *a, sl_rdd *b, int64_t time_ms, sl_rdd **out,
                          void *user)
{
    (void)time_ms;
    (void)user;
    *out = sl_rdd_join(a, b, 0);
    return *out ? SL_OK : SL_EUSER;
}

static sl_status tfn_union(sl_rdd *const *in, size_t n, int64_t time_ms,
                           sl_rdd **out, void *user)
{
    (void)time_ms;
    (void)user;
    *out = sl_rdd_union_all(in, n);
    return *out ? SL_OK : SL_EUSER;
}

/* ------------------------------------------------- pipelines */

static sl_dstream *word_counts(sl_dstream *s)
{
    return sl_dstream_reduce_by_key(sl_dstream_map(s, sl_fn_pair_one, NULL),
                                    sl_fn_sum, NULL, 0);
}

static sl_dstream *left_ones(sl_dstream *const *in)
{
    return sl_dstream_map(in[0], sl_fn_pair_one, NULL);
}

static sl_dstream *right_xs(sl_dstream *const *in)
{
    return sl_dstream_map(in[1], fn_pair_x, NULL);
}

/* [s, s.map(x + 4), s.map(x + 8)] */
static void plus_streams(sl_dstream *s, sl_dstream *out[3])
{
    out[0] = s;
    out[1] = sl_dstream_map(s, fn_plus, &plus4);
    out[2] = sl_dstream_map(s, fn_plus, &plus8);
}

static sl_dstream *build_map(sl_dstream *const *in, const cJSON *p)
{
    (void)p;
    return sl_dstream_map(in[0], fn_to_decimal, NULL);
}

static sl_dstream *build_flat_map(sl_dstream *const *in, const cJSON *p)
{
    (void)p;
    return sl_dstream_flat_map(in[0], fn_self_and_double, NULL);
}

static sl_dstream *build_filter(sl_dstream *const *in, const cJSON *p)
{
    (void)p;
    return sl_dstream_filter(in[0], fn_is_even, NULL);
}

static sl_dstream *build_glom(sl_dstream *const *in, const cJSON *p)
{
    (void)p;
    return sl_dstream_glom(in[0]);
}

static sl_dstream *build_map_partitions(sl_dstream *const *in, const cJSON *p)
{
    (void)p;
    return sl_dstream_map_partitions(in[0], fn_sum_partition, NULL);
}

static sl_dstream *build_repartition(sl_dstream *const *in, const cJSON *p)
{
    int64_t n = oracle_param_int(p, "output_partitions");
    return n > 0 ? sl_dstream_repartition(in[0], (size_t)n) : NULL;
}

static sl_dstream *build_group_by_key(sl_dstream *const *in, const cJSON *p)
{
    (void)p;
    return sl_dstream_group_by_key(left_ones(in), 0);
}

static sl_dstream *build_reduce_by_key(sl_dstream *const *in, const cJSON *p)
{
    (void)p;
    return word_counts(in[0]);
}

static sl_dstream *build_reduce(sl_dstream *const *in, const cJSON *p)
{
    (void)p;
    return sl_dstream_reduce(in[0], sl_fn_sum, NULL);
}

static sl_dstream *build_count(sl_dstream *const *in, const cJSON *p)
{
    (void)p;
    return sl_dstream_count(in[0]);
}

static sl_dstream *build_count_by_value(sl_dstream *const *in, const cJSON *p)
{
    (void)p;
    return sl_dstream_count_by_value(in[0], 0);
}

static sl_dstream *build_map_values(sl_dstream *const *in, const cJSON *p)
{
    (void)p;
    return sl_dstream_map_values(word_counts(in[0]), fn_plus, &plus10);
}

static sl_dstream *build_flat_map_values(sl_dstream *const *in, const cJSON *p)
{
    (void)p;
    return sl_dstream_flat_map_values(word_counts(in[0]), fn_self_and_plus10,
                                      NULL);
}

static sl_dstream *build_union(sl_dstream *const *in, const cJSON *p)
{
    (void)p;
    return sl_dstream_union(in[0], sl_dstream_map(in[0], fn_plus, &plus4));
}

static sl_dstream *build_context_union(sl_dstream *const *in, const cJSON *p)
{
    sl_dstream *s[3];
    (void)p;
    plus_streams(in[0], s);
    return sl_context_union(sl_dstream_context(in[0]), s, 3);
}

static sl_dstream *build_transform(sl_dstream *const *in, const cJSON *p)
{
    (void)p;
    return sl_dstream_transform(in[0], tf_to_decimal, NULL);
}

static sl_dstream *build_transform_null(sl_dstream *const *in, const cJSON *p)
{
    (void)p;
    return sl_dstream_transform(in[0], tf_null, NULL);
}

static sl_dstream *build_transform_with(sl_dstream *const *in, const cJSON *p)
{
    (void)p;
    return sl_dstream_transform_with(left_ones(in), right_xs(in), tf2_join,
                                     NULL);
}

static sl_dstream *build_context_transform(sl_dstream *const *in,
                                           const cJSON *p)
{
    sl_dstream *s[3];
    (void)p;
    plus_streams(in[0], s);
    return sl_context_transform(sl_dstream_context(in[0]), s, 3, tfn_union,
                                NULL);
}

static sl_dstream *build_cogroup(sl_dstream *const *in, const cJSON *p)
{
    (void)p;
    return sl_dstream_cogroup(left_ones(in), right_xs(in), 0);
}

static sl_dstream *build_join(sl_dstream *const *in, const cJSON *p)
{
    (void)p;
    return sl_dstream_join(left_ones(in), right_xs(in), 0);
}

static sl_dstream *build_left_outer_join(sl_dstream *const *in, const cJSON *p)
{
    (void)p;
    return sl_dstream_left_outer_join(left_ones(in), right_xs(in), 0);
}

static sl_dstream *build_right_outer_join(sl_dstream *const *in, const cJSON *p)
{
    (void)p;
    return sl_dstream_right_outer_join(left_ones(in), right_xs(in), 0);
}

static sl_dstream *build_full_outer_join(sl_dstream *const *in, const cJSON *p)
{
    (void)p;
    return sl_dstream_full_outer_join(left_ones(in), right_xs(in), 0);
}

/* map(x -> (x, 1)).updateStateByKey(fn, initial = params.initial_state) */
static sl_dstream *state_stream(sl_dstream *in, const cJSON *p,
                                sl_update_state_fn fn)
{
    const cJSON *init = cJSON_GetObjectItemCaseSensitive(p, "initial_state");
    const cJSON *it;
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
    out = ok ? sl_dstream_update_state_by_key(
                   sl_dstream_map(in, sl_fn_pair_one, NULL), fn, NULL, pairs, n)
             : NULL;
    for (i = 0; i < n; i++)
        oracle_value_free(&pairs[i]);
    free(pairs);
    return out;
}

static sl_dstream *build_update_sum(sl_dstream *const *in, const cJSON *p)
{
    return state_stream(in[0], p, up_sum);
}

static sl_dstream *build_update_time(sl_dstream *const *in, const cJSON *p)
{
    return state_stream(in[0], p, up_time);
}

static sl_dstream *build_update_lifecycle(sl_dstream *const *in, const cJSON *p)
{
    return sl_dstream_map_values(state_stream(in[0], p, up_lifecycle),
                                 fn_counter, NULL);
}

/* slice() is asked of the input stream itself. */
static sl_dstream *build_input(sl_dstream *const *in, const cJSON *p)
{
    (void)p;
    return in[0];
}

static const oracle_pipeline PIPELINES[] = {
    {"map", 1, build_map},
    {"flatMap", 1, build_flat_map},
    {"filter", 1, build_filter},
    {"glom", 1, build_glom},
    {"mapPartitions", 1, build_map_partitions},
    {"repartition (more partitions)", 1, build_repartition},
    {"repartition (fewer partitions)", 1, build_repartition},
    {"groupByKey", 1, build_group_by_key},
    {"reduceByKey", 1, build_reduce_by_key},
    {"reduce", 1, build_reduce},
    {"count", 1, build_count},
    {"countByValue", 1, build_count_by_value},
    {"mapValues", 1, build_map_values},
    {"flatMapValues", 1, build_flat_map_values},
    {"union", 1, build_union},
    {"StreamingContext.union", 1, build_context_union},
    {"transform", 1, build_transform},
    {"transformWith", 2, build_transform_with},
    {"StreamingContext.transform", 1, build_context_transform},
    {"cogroup", 2, build_cogroup},
    {"join", 2, build_join},
    {"leftOuterJoin", 2, build_left_outer_join},
    {"rightOuterJoin", 2, build_right_outer_join},
    {"fullOuterJoin", 2, build_full_outer_join},
    {"slice", 1, build_input},
    {"union with input stream return None", 1, build_union},
    {"transform with NULL", 1, build_transform_null},
    {"transform with input stream return None", 1, build_transform},
    {"updateStateByKey", 1, build_update_sum},
    {"updateStateByKey - simple with initial value RDD", 1, build_update_sum},
    {"updateStateByKey - testing time stamps as input", 1, build_update_time},
    /* Spark's partition-iterator form of the same function: one call per
     * key either way here. */
    {"updateStateByKey - with initial value RDD", 1, build_update_sum},
    {"updateStateByKey - object lifecycle", 1, build_update_lifecycle},
};

/* ------------------------------------------------- state case params */

static const char *const STATE_PARAMS[] = {"initial_state", "batch_times_ms",
                                           NULL};

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

/* batch_times_ms: what the update function must see as batch times; the
 * harness's manual clock gives batch i (1-based) the time i x batch_ms. */
static bool check_batch_times(const cJSON *p, const cJSON *times, char *why,
                              size_t len)
{
    int64_t ms = oracle_param_int(p, "batch_ms");
    int64_t n = oracle_param_int(p, "num_batches_run");
    const cJSON *it;
    int64_t i = 0;
    if (!cJSON_IsArray(times) || cJSON_GetArraySize(times) != n) {
        snprintf(why, len,
                 "params.batch_times_ms is not a list of num_batches_run "
                 "times");
        return false;
    }
    cJSON_ArrayForEach(it, times)
    {
        i++;
        if (!cJSON_IsNumber(it) || it->valuedouble != (double)(i * ms)) {
            snprintf(why, len,
                     "params.batch_times_ms[%" PRId64 "] is not %" PRId64
                     " ms, the manual clock's time of "
                     "batch %" PRId64,
                     i - 1, i * ms, i);
            return false;
        }
    }
    return true;
}

static bool check_state_params(const char *test, const cJSON *p, char *why,
                               size_t len)
{
    const cJSON *init = cJSON_GetObjectItemCaseSensitive(p, "initial_state");
    const cJSON *times = cJSON_GetObjectItemCaseSensitive(p, "batch_times_ms");
    bool state = strncmp(test, "updateStateByKey", 16) == 0;
    if ((init || times) && !state) {
        snprintf(why, len,
                 "params.initial_state / batch_times_ms on a case that is "
                 "not updateStateByKey");
        return false;
    }
    if (init && !check_initial_state(init, why, len))
        return false;
    return !times || check_batch_times(p, times, why, len);
}

static const oracle_suite BASIC = {
    .suite = "BasicOperationsSuite",
    .pipelines = PIPELINES,
    .npipelines = sizeof PIPELINES / sizeof PIPELINES[0],
    .extra_params = STATE_PARAMS,
    .check_params = check_state_params,
};

static void test_case_lists(void)
{
    oracle_test_case_lists(&BASIC);
}

static void test_cases_match_spark(void)
{
    oracle_test_cases_match(&BASIC);
}

static void test_release(void)
{
    oracle_release();
    CU_PASS("released");
}

const char *SL_SUITE = "oracle: Spark BasicOperationsSuite";
const sl_test_case SL_TESTS[] = {
    {"vectors load; cases run, excluded and skipped", test_case_lists},
    {"every case matches Spark (workers=2, then workers=1 identically)",
     test_cases_match_spark},
    {"release the vectors", test_release},
    {NULL, NULL},
};
