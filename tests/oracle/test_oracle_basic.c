/*
 * Oracle test of Spark's BasicOperationsSuite: every case of the suite in
 * spark_vectors.json except updateStateByKey (the state operators have their
 * own test), run by the oracle harness. The only per-case code is
 * PIPELINES: Spark's test name -> the pipeline Spark's test builds, from the
 * functions below.
 */
#include "oracle_harness.h"

#include "sl_test.h"

#include <inttypes.h>
#include <stdbool.h>

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
};

static const oracle_suite BASIC = {
    .suite = "BasicOperationsSuite",
    .excluded_prefix = "updateStateByKey",
    .excluded_reason =
        "excluded: updateStateByKey* (state operators, tested on their own)",
    .pipelines = PIPELINES,
    .npipelines = sizeof PIPELINES / sizeof PIPELINES[0],
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
