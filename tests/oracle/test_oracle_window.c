/*
 * Oracle test of Spark's WindowOperationsSuite: every case of the suite in
 * spark_vectors.json, run by the oracle harness (manual clock, workers=2
 * then workers=1). Window length and slide are params.window_batches and
 * params.slide_batches times params.batch_ms; the reduce, inverse and
 * filter functions are looked up by the names in params. A windowed stream
 * with a slide of k batches outputs only at every k-th batch: the harness
 * compares the output batches actually produced, and their times (multiples
 * of the slide), with the ones Spark's test collects.
 *
 * Then a few builder checks, not from the vectors: lengths and slides that
 * are not multiples of the parent's slide fail when the pipeline is built,
 * a slide of 0 means the parent's, and sl_dstream_slide of window streams.
 */
#include "oracle_harness.h"

#include "sl_test.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* ------------------------------------------------- functions by name */

/* reduce "sum": a + b */
static sl_status fn_sum(sl_task *t, const sl_value *a, const sl_value *b,
                        sl_value *out, void *user)
{
    (void)t;
    (void)user;
    if (a->kind != SL_KIND_INT || b->kind != SL_KIND_INT)
        return SL_ETYPE;
    *out = sl_int(a->u.i + b->u.i);
    return SL_OK;
}

/* inverse "subtract": a - b (the leaving values taken off the window) */
static sl_status fn_subtract(sl_task *t, const sl_value *a, const sl_value *b,
                             sl_value *out, void *user)
{
    (void)t;
    (void)user;
    if (a->kind != SL_KIND_INT || b->kind != SL_KIND_INT)
        return SL_ETYPE;
    *out = sl_int(a->u.i - b->u.i);
    return SL_OK;
}

/* filter "value != 0": keep the (k, v) pairs whose v is not 0 */
static bool fn_value_nonzero(const sl_value *in, void *user)
{
    (void)user;
    return in->kind == SL_KIND_PAIR && in->len == 2 &&
           !(in->u.items[1].kind == SL_KIND_INT && in->u.items[1].u.i == 0);
}

typedef struct named_reduce {
    const char *name;
    sl_reduce_fn fn;
} named_reduce;

static const named_reduce REDUCES[] = {{"sum", fn_sum}};
static const named_reduce INVERSES[] = {{"subtract", fn_subtract}};
static const struct {
    const char *name;
    sl_filter_fn fn;
} FILTERS[] = {{"value != 0", fn_value_nonzero}};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const char *param_str(const cJSON *p, const char *name)
{
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(p, name));
}

static sl_reduce_fn find_reduce(const named_reduce *t, size_t n,
                                const char *name)
{
    size_t i;
    for (i = 0; name && i < n; i++)
        if (strcmp(t[i].name, name) == 0)
            return t[i].fn;
    return NULL;
}

static sl_filter_fn find_filter(const char *name)
{
    size_t i;
    for (i = 0; name && i < COUNT(FILTERS); i++)
        if (strcmp(FILTERS[i].name, name) == 0)
            return FILTERS[i].fn;
    return NULL;
}

/* ------------------------------------------------- pipelines */

static int64_t length_ms(const cJSON *p)
{
    return oracle_param_int(p, "window_batches") *
           oracle_param_int(p, "batch_ms");
}

static int64_t slide_ms(const cJSON *p)
{
    return oracle_param_int(p, "slide_batches") *
           oracle_param_int(p, "batch_ms");
}

static sl_dstream *build_window(sl_dstream *const *in, const cJSON *p)
{
    return sl_dstream_window(in[0], length_ms(p), slide_ms(p));
}

/* reduceByKeyAndWindow(reduce[, inverse[, filter]]) by params' names. */
static sl_dstream *build_reduce_by_key_and_window(sl_dstream *const *in,
                                                  const cJSON *p)
{
    return sl_dstream_reduce_by_key_and_window(
        in[0], find_reduce(REDUCES, COUNT(REDUCES), param_str(p, "reduce")),
        find_reduce(INVERSES, COUNT(INVERSES), param_str(p, "inverse")),
        find_filter(param_str(p, "filter")), NULL, length_ms(p), slide_ms(p),
        0);
}

static sl_dstream *build_group_by_key_and_window(sl_dstream *const *in,
                                                 const cJSON *p)
{
    return sl_dstream_group_by_key_and_window(in[0], length_ms(p), slide_ms(p),
                                              0);
}

static sl_dstream *build_count_by_window(sl_dstream *const *in, const cJSON *p)
{
    return sl_dstream_count_by_window(in[0], length_ms(p), slide_ms(p));
}

static sl_dstream *build_count_by_value_and_window(sl_dstream *const *in,
                                                   const cJSON *p)
{
    return sl_dstream_count_by_value_and_window(in[0], length_ms(p),
                                                slide_ms(p), 0);
}

#define RBKW "reduceByKeyAndWindow - "
#define RBKW_INV "reduceByKeyAndWindow with inverse function - "

static const oracle_pipeline PIPELINES[] = {
    {"window - basic window", 1, build_window},
    {"window - tumbling window", 1, build_window},
    {"window - larger window", 1, build_window},
    {"window - non-overlapping window", 1, build_window},
    {RBKW "basic reduction", 1, build_reduce_by_key_and_window},
    {RBKW "key already in window and new value added into window", 1,
     build_reduce_by_key_and_window},
    {RBKW "new key added into window", 1, build_reduce_by_key_and_window},
    {RBKW "key removed from window", 1, build_reduce_by_key_and_window},
    {RBKW "larger slide time", 1, build_reduce_by_key_and_window},
    {RBKW "big test", 1, build_reduce_by_key_and_window},
    {RBKW_INV "basic reduction", 1, build_reduce_by_key_and_window},
    {RBKW_INV "key already in window and new value added into window", 1,
     build_reduce_by_key_and_window},
    {RBKW_INV "new key added into window", 1, build_reduce_by_key_and_window},
    {RBKW_INV "key removed from window", 1, build_reduce_by_key_and_window},
    {RBKW_INV "larger slide time", 1, build_reduce_by_key_and_window},
    {RBKW_INV "big test", 1, build_reduce_by_key_and_window},
    {"reduceByKeyAndWindow with inverse and filter functions - big test", 1,
     build_reduce_by_key_and_window},
    {"groupByKeyAndWindow", 1, build_group_by_key_and_window},
    {"countByWindow", 1, build_count_by_window},
    {"countByValueAndWindow", 1, build_count_by_value_and_window},
};

/* ------------------------------------------------- params of a case */

static const char *const WINDOW_PARAMS[] = {
    "window_batches",         "reduce", "inverse", "filter",
    "checkpoint_interval_ms", NULL,
};

static bool has(const cJSON *p, const char *name)
{
    return cJSON_GetObjectItemCaseSensitive(p, name) != NULL;
}

/*
 * The window and slide must be given; the functions named must be known,
 * and be the ones the test's name says it uses (reduce for every
 * reduceByKeyAndWindow case, inverse for "with inverse", filter for "and
 * filter", none for the other operators, which take no functions).
 * checkpoint_interval_ms: sluice has no stream checkpoints; Spark's test
 * sets the interval beyond the run so that none is taken, and the case can
 * only run as Spark's if that holds.
 */
static bool check_window_params(const char *test, const cJSON *p, char *why,
                                size_t len)
{
    bool rbkw = strncmp(test, "reduceByKeyAndWindow", 20) == 0;
    bool want_inv = rbkw && strstr(test, "inverse") != NULL;
    bool want_filter = rbkw && strstr(test, "filter") != NULL;
    const char *reduce = param_str(p, "reduce");
    const char *inverse = param_str(p, "inverse");
    const char *filter = param_str(p, "filter");
    int64_t cp = oracle_param_int(p, "checkpoint_interval_ms");
    int64_t run_ms = oracle_param_int(p, "num_batches_run") *
                     oracle_param_int(p, "batch_ms");
    if (oracle_param_int(p, "window_batches") <= 0 ||
        oracle_param_int(p, "slide_batches") <= 0) {
        snprintf(why, len, "window_batches and slide_batches must be given");
        return false;
    }
    if (has(p, "reduce") != rbkw || has(p, "inverse") != want_inv ||
        has(p, "filter") != want_filter) {
        snprintf(why, len,
                 "params reduce/inverse/filter do not match the operation "
                 "named by the test (it takes %s%s%s)",
                 rbkw ? "reduce" : "no functions", want_inv ? ", inverse" : "",
                 want_filter ? ", filter" : "");
        return false;
    }
    if (rbkw && !find_reduce(REDUCES, COUNT(REDUCES), reduce)) {
        snprintf(why, len, "unknown params.reduce \"%s\"",
                 reduce ? reduce : "(not a string)");
        return false;
    }
    if (want_inv && !find_reduce(INVERSES, COUNT(INVERSES), inverse)) {
        snprintf(why, len, "unknown params.inverse \"%s\"",
                 inverse ? inverse : "(not a string)");
        return false;
    }
    if (want_filter && !find_filter(filter)) {
        snprintf(why, len, "unknown params.filter \"%s\"",
                 filter ? filter : "(not a string)");
        return false;
    }
    if (has(p, "checkpoint_interval_ms") && cp <= run_ms) {
        snprintf(why, len,
                 "checkpoint_interval_ms %" PRId64
                 " falls within the run (%" PRId64
                 " ms): sluice has no stream checkpoints",
                 cp, run_ms);
        return false;
    }
    return true;
}

static const oracle_suite WINDOW = {
    .suite = "WindowOperationsSuite",
    .pipelines = PIPELINES,
    .npipelines = COUNT(PIPELINES),
    .extra_params = WINDOW_PARAMS,
    .check_params = check_window_params,
};

static void test_case_lists(void)
{
    oracle_test_case_lists(&WINDOW);
}

static void test_cases_match_spark(void)
{
    oracle_test_cases_match(&WINDOW);
}

static void test_release(void)
{
    oracle_release();
    CU_PASS("released");
}

/* ------------------------------------------------- builder checks */

#define BATCH_MS 1000

static sl_context *new_context(int max_batches)
{
    char err[256] = "", nb[16];
    sl_conf *conf = sl_conf_new();
    sl_context *ctx;
    snprintf(nb, sizeof nb, "%d", max_batches);
    if (!conf || sl_conf_set(conf, "clock", "manual", err, sizeof err) ||
        sl_conf_set(conf, "batch_interval", "1000ms", err, sizeof err) ||
        sl_conf_set(conf, "max_batches", nb, err, sizeof err) ||
        sl_conf_set(conf, "workers", "2", err, sizeof err) ||
        sl_conf_set(conf, "log.level", "warn", err, sizeof err)) {
        sl_test_fail(__FILE__, __LINE__, "conf: %s", err);
        sl_conf_free(conf);
        return NULL;
    }
    ctx = sl_context_new(conf, err, sizeof err);
    if (!ctx) {
        sl_test_fail(__FILE__, __LINE__, "sl_context_new: %s", err);
        sl_conf_free(conf);
    }
    return ctx;
}

static bool contains_ci(const char *hay, const char *needle)
{
    size_t n = strlen(needle), i;
    for (; hay && *hay; hay++) {
        for (i = 0; i < n && hay[i] &&
                    tolower((unsigned char)hay[i]) ==
                        tolower((unsigned char)needle[i]);
             i++)
            ;
        if (i == n)
            return true;
    }
    return false;
}

/* Whether msg contains one of the '|'-separated words (any case). */
static bool mentions(const char *msg, const char *words)
{
    char w[32];
    while (*words) {
        size_t n = strcspn(words, "|");
        snprintf(w, sizeof w, "%.*s", (int)n, words);
        if (contains_ci(msg, w))
            return true;
        words += n + (words[n] == '|');
    }
    return false;
}

/*
 * A build that must fail: NULL, and the context's message names the
 * problem: the duration (one of words) is not a "multiple" of the parent's
 * slide, whose value (ms) it gives. The message is printed either way.
 */
static void check_rejected(sl_context *ctx, const sl_dstream *got,
                           const char *what, const char *words,
                           int64_t parent_slide, int line)
{
    const char *msg = sl_context_errmsg(ctx);
    char slide[24];
    snprintf(slide, sizeof slide, "%" PRId64, parent_slide);
    printf("\n    %s -> %s: \"%s\"", what, got ? "built" : "NULL",
           msg ? msg : "(null)");
    if (got) {
        sl_test_fail(__FILE__, line, "%s: built, want NULL", what);
        return;
    }
    if (!msg || !contains_ci(msg, "multiple") || !mentions(msg, words) ||
        !strstr(msg, slide))
        sl_test_fail(__FILE__, line,
                     "%s: errmsg \"%s\" should say the %s is not a multiple "
                     "of the parent's slide (%" PRId64 " ms)",
                     what, msg ? msg : "(null)", words, parent_slide);
    else
        CU_PASS(what);
}

#define LENGTH "length|duration|window"

#define REJECTED(ctx, expr, word, parent_slide)                                \
    check_rejected(ctx, expr, #expr, word, parent_slide, __LINE__)

static sl_status fn_pair_one(sl_task *t, const sl_value *in, sl_value *out,
                             void *user)
{
    sl_value one = sl_int(1);
    (void)user;
    return sl_task_pair(t, in, &one, out);
}

static void test_length_not_multiple(void)
{
    sl_context *ctx = new_context(4);
    sl_dstream *q, *pairs, *w2;
    if (!ctx)
        return;
    q = sl_queue_stream(ctx, 2);
    pairs = sl_dstream_map(q, fn_pair_one, NULL);
    SL_CHECK(q != NULL && pairs != NULL);
    /* The length, against the input stream's slide (the batch interval). */
    REJECTED(ctx, sl_dstream_window(q, 1500, BATCH_MS), LENGTH, BATCH_MS);
    REJECTED(ctx, sl_dstream_window(q, 2500, 0), LENGTH, BATCH_MS);
    REJECTED(ctx, sl_dstream_count_by_window(q, 1500, BATCH_MS), LENGTH,
             BATCH_MS);
    REJECTED(ctx,
             sl_dstream_reduce_by_window(q, fn_sum, NULL, NULL, 1500, BATCH_MS),
             LENGTH, BATCH_MS);
    REJECTED(ctx,
             sl_dstream_reduce_by_key_and_window(pairs, fn_sum, NULL, NULL,
                                                 NULL, 1500, BATCH_MS, 0),
             LENGTH, BATCH_MS);
    REJECTED(ctx,
             sl_dstream_reduce_by_key_and_window(pairs, fn_sum, fn_subtract,
                                                 NULL, NULL, 999, BATCH_MS, 0),
             LENGTH, BATCH_MS);
    REJECTED(ctx, sl_dstream_count_by_value_and_window(q, 1500, BATCH_MS, 0),
             LENGTH, BATCH_MS);
    REJECTED(ctx, sl_dstream_group_by_key_and_window(pairs, 1500, BATCH_MS, 0),
             LENGTH, BATCH_MS);
    /* The slide, likewise. */
    REJECTED(ctx, sl_dstream_window(q, 3000, 1500), "slide", BATCH_MS);
    REJECTED(ctx,
             sl_dstream_reduce_by_key_and_window(pairs, fn_sum, NULL, NULL,
                                                 NULL, 3000, 1500, 0),
             "slide", BATCH_MS);
    /* A windowed parent's slide is its own, not the batch interval. */
    w2 = sl_dstream_window(q, 4000, 2000);
    SL_CHECK(w2 != NULL);
    REJECTED(ctx, sl_dstream_window(w2, 3000, 2000), LENGTH, 2000);
    REJECTED(ctx, sl_dstream_window(w2, 4000, 1000), "slide", 2000);
    REJECTED(ctx, sl_dstream_count_by_window(w2, 5000, 0), LENGTH, 2000);
    /* Multiples are fine, a window shorter than its slide included (Spark's
     * "non-overlapping window"); the failures above left the context
     * usable. */
    SL_CHECK(sl_dstream_window(q, 2000, 3000) != NULL);
    SL_CHECK(sl_dstream_window(w2, 6000, 4000) != NULL);
    SL_CHECK(sl_dstream_reduce_by_key_and_window(pairs, fn_sum, fn_subtract,
                                                 fn_value_nonzero, NULL, 3000,
                                                 1000, 0) != NULL);
    /* A NULL parent gives NULL, as for every operator. */
    SL_CHECK(sl_dstream_window(NULL, 2000, 1000) == NULL);
    SL_CHECK(sl_dstream_count_by_window(NULL, 2000, 1000) == NULL);
    sl_context_free(ctx);
}

static void test_slide_zero_is_parents(void)
{
    sl_context *ctx = new_context(4);
    sl_dstream *q, *pairs, *w2;
    if (!ctx)
        return;
    q = sl_queue_stream(ctx, 2);
    pairs = sl_dstream_map(q, fn_pair_one, NULL);
    SL_CHECK_INT(sl_dstream_slide(sl_dstream_window(q, 3000, 0)), BATCH_MS);
    SL_CHECK_INT(sl_dstream_slide(sl_dstream_count_by_window(q, 2000, 0)),
                 BATCH_MS);
    SL_CHECK_INT(sl_dstream_slide(sl_dstream_reduce_by_window(
                     q, fn_sum, fn_subtract, NULL, 2000, 0)),
                 BATCH_MS);
    SL_CHECK_INT(sl_dstream_slide(sl_dstream_reduce_by_key_and_window(
                     pairs, fn_sum, NULL, NULL, NULL, 2000, 0, 0)),
                 BATCH_MS);
    SL_CHECK_INT(
        sl_dstream_slide(sl_dstream_count_by_value_and_window(q, 2000, 0, 0)),
        BATCH_MS);
    SL_CHECK_INT(
        sl_dstream_slide(sl_dstream_group_by_key_and_window(pairs, 2000, 0, 0)),
        BATCH_MS);
    /* On a windowed parent, 0 means that parent's slide. */
    w2 = sl_dstream_window(q, 4000, 2000);
    SL_CHECK_INT(sl_dstream_slide(sl_dstream_window(w2, 4000, 0)), 2000);
    SL_CHECK_INT(sl_dstream_slide(sl_dstream_count_by_window(w2, 6000, 0)),
                 2000);
    sl_context_free(ctx);
}

static void test_slide_of_window_streams(void)
{
    sl_context *ctx = new_context(4);
    sl_dstream *q, *pairs, *w;
    if (!ctx)
        return;
    q = sl_queue_stream(ctx, 2);
    pairs = sl_dstream_map(q, fn_pair_one, NULL);
    SL_CHECK_INT(sl_dstream_slide(q), BATCH_MS);
    SL_CHECK_INT(sl_dstream_slide(pairs), BATCH_MS);
    w = sl_dstream_window(q, 4000, 2000);
    SL_CHECK_INT(sl_dstream_slide(w), 2000);
    /* Operators on a window stream keep its slide. */
    SL_CHECK_INT(sl_dstream_slide(sl_dstream_map(w, fn_pair_one, NULL)), 2000);
    SL_CHECK_INT(sl_dstream_slide(sl_dstream_window(q, 2000, 3000)), 3000);
    SL_CHECK_INT(sl_dstream_slide(sl_dstream_count_by_window(q, 6000, 3000)),
                 3000);
    SL_CHECK_INT(sl_dstream_slide(sl_dstream_reduce_by_window(
                     q, fn_sum, NULL, NULL, 6000, 2000)),
                 2000);
    SL_CHECK_INT(
        sl_dstream_slide(sl_dstream_reduce_by_key_and_window(
            pairs, fn_sum, fn_subtract, fn_value_nonzero, NULL, 6000, 3000, 0)),
        3000);
    SL_CHECK_INT(sl_dstream_slide(
                     sl_dstream_count_by_value_and_window(q, 4000, 2000, 0)),
                 2000);
    SL_CHECK_INT(sl_dstream_slide(
                     sl_dstream_group_by_key_and_window(pairs, 4000, 4000, 0)),
                 4000);
    /* A window of a window: the slide is the outer one's. */
    SL_CHECK_INT(sl_dstream_slide(sl_dstream_window(w, 8000, 4000)), 4000);
    sl_context_free(ctx);
}

/* ------------------------------------------------- slide 0, run */

#define MAX_OUT 8

typedef struct collected {
    size_t n;
    int64_t time_ms[MAX_OUT];
    int64_t sum[MAX_OUT]; /* sum of the int records of each output batch */
    size_t count[MAX_OUT];
    sl_status st;
} collected;

static sl_status collect_sums(sl_rdd *rdd, int64_t time_ms, void *user)
{
    collected *c = user;
    const sl_value *v;
    size_t n, i;
    sl_status st = sl_rdd_collect(rdd, &v, &n);
    if (st != SL_OK || c->n == MAX_OUT)
        return c->st = st != SL_OK ? st : SL_EUSER;
    c->time_ms[c->n] = time_ms;
    c->count[c->n] = n;
    c->sum[c->n] = 0;
    for (i = 0; i < n; i++)
        c->sum[c->n] += v[i].kind == SL_KIND_INT ? v[i].u.i : 1000000;
    c->n++;
    return SL_OK;
}

/*
 * Running streams whose slide was given as 0: a window of a tumbling window
 * (length 4 s, slide 0 = the parent's 2 s) outputs at 2 s and 4 s, the
 * parent's windows ending in (t - 4 s, t]; countByWindow(2 s, 0) on the
 * input outputs at every batch. Input [1], [2], [3], [4], 4 batches.
 */
static void test_slide_zero_runs(void)
{
    sl_context *ctx = new_context(4);
    sl_dstream *q, *w1, *w2, *cw;
    collected a = {0}, b = {0};
    int64_t i;
    static const int64_t cw_counts[4] = {1, 2, 2, 2};
    if (!ctx)
        return;
    q = sl_queue_stream(ctx, 2);
    for (i = 1; i <= 4; i++) {
        sl_value one = sl_int(i);
        SL_CHECK_OK(sl_queue_stream_push(q, &one, 1));
    }
    w1 = sl_dstream_window(q, 2000, 2000);
    w2 = sl_dstream_window(w1, 4000, 0);
    cw = sl_dstream_count_by_window(q, 2000, 0);
    SL_CHECK(w2 != NULL && cw != NULL);
    if (!w2 || !cw) {
        sl_context_free(ctx);
        return;
    }
    SL_CHECK_OK(sl_dstream_foreach_rdd(w2, collect_sums, &a));
    SL_CHECK_OK(sl_dstream_foreach_rdd(cw, collect_sums, &b));
    SL_CHECK_OK(sl_context_start(ctx));
    SL_CHECK_OK(sl_context_await_termination_or_timeout(ctx, 30000));
    SL_CHECK_INT(a.st, SL_OK);
    SL_CHECK_INT(b.st, SL_OK);
    /* w2: {1, 2} at 2 s, {1, 2, 3, 4} at 4 s. */
    SL_CHECK_INT(a.n, 2);
    for (i = 0; i < (int64_t)a.n && i < 2; i++) {
        SL_CHECK_INT(a.time_ms[i], (i + 1) * 2000);
        SL_CHECK_INT(a.count[i], 2 * (i + 1));
        SL_CHECK_INT(a.sum[i], i == 0 ? 3 : 10);
    }
    /* cw: one count per batch, at 1, 2, 3, 4 s. */
    SL_CHECK_INT(b.n, 4);
    for (i = 0; i < (int64_t)b.n && i < 4; i++) {
        SL_CHECK_INT(b.time_ms[i], (i + 1) * 1000);
        SL_CHECK_INT(b.count[i], 1);
        SL_CHECK_INT(b.sum[i], cw_counts[i]);
    }
    sl_context_free(ctx);
}

const char *SL_SUITE = "oracle: Spark WindowOperationsSuite";
const sl_test_case SL_TESTS[] = {
    {"vectors load; cases run and skipped", test_case_lists},
    {"every case matches Spark (workers=2, then workers=1 identically)",
     test_cases_match_spark},
    {"release the vectors", test_release},
    {"builder: length or slide not a multiple of the parent's slide -> NULL "
     "with a message",
     test_length_not_multiple},
    {"builder: slide 0 means the parent's slide", test_slide_zero_is_parents},
    {"builder: sl_dstream_slide of window streams",
     test_slide_of_window_streams},
    {"slide 0 runs at the parent's slide (window of a window, countByWindow)",
     test_slide_zero_runs},
    {NULL, NULL},
};
