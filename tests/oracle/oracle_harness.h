/*
 * The oracle harness: reads spark_vectors.json at run time, runs every case
 * of one Spark suite through the C API on the manual clock (queue streams
 * fed with the case's batches, an output that collects each batch) and
 * compares with what Spark's test asserts. A suite's test program supplies
 * only the table mapping Spark test names to pipelines.
 */
#ifndef SL_ORACLE_HARNESS_H
#define SL_ORACLE_HARNESS_H

#include <cJSON.h>
#include <sluice/sluice.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Builds the stream under test from the case's input streams (in[0], or
 * in[0] = left and in[1] = right for {"left", "right"} input) and its
 * params; NULL on failure (sl_context_errmsg says why). The harness adds the
 * output to the returned stream; for "set" (slice) cases it slices it.
 */
typedef sl_dstream *(*oracle_build_fn)(sl_dstream *const *in,
                                       const cJSON *params);

/* At most this many outputs per pipeline (oracle_suite.outputs). */
#define ORACLE_MAX_OUTPUTS 4

/*
 * For a suite with several outputs (see oracle_suite): output i >= 1 of a
 * case's pipeline made from output 0, the stream build returned; NULL on
 * failure. The harness adds an output to each.
 */
typedef sl_dstream *(*oracle_derive_fn)(sl_dstream *first, size_t i,
                                        const cJSON *params);

/* One row of a suite's table. */
typedef struct oracle_pipeline {
    const char *test; /* Spark's test name, exactly as in the vectors */
    size_t ninputs;   /* 1, or 2 for {"left", "right"} input */
    oracle_build_fn build;
} oracle_pipeline;

/*
 * Assertions a case's expected object may make instead of (or beside)
 * per-batch lists, on one output's batches. Batches and the listed records
 * compare as canonical JSON text (sl_value_format_json).
 */
typedef enum oracle_assert_kind {
    ORACLE_ALL_SORTED, /* every record of every batch, sorted, is the list */
    ORACLE_SOME_BATCH, /* some batch holds the listed records (multisets) */
    ORACLE_LAST_BATCH  /* the last batch holds them (multisets) */
} oracle_assert_kind;

typedef struct oracle_assertion {
    const char *key; /* its key in the case's expected object */
    size_t output;   /* index into oracle_suite.outputs */
    oracle_assert_kind kind;
} oracle_assertion;

/*
 * A case the suite does not run, with the reason: listed, not a failure.
 * A row that matches no case fails the test (a stale row).
 */
typedef struct oracle_exclusion {
    const char *suite; /* the case's "suite"; NULL for the suite's own */
    const char *test;  /* the case's test name, exactly */
    const char *reason;
} oracle_exclusion;

/* The suite a test program runs. */
typedef struct oracle_suite {
    const char *suite;           /* "suite" field of the cases to run */
    const char *excluded_prefix; /* test names out of scope, or NULL */
    const char *excluded_reason; /* why they are, for the printed list */
    const oracle_pipeline *pipelines;
    size_t npipelines;
    /*
     * Optional (NULL for none). extra_params: the params keys, beyond the
     * harness's own, that this suite's pipelines read (NULL-terminated); a
     * case with a key neither knows is skipped. check_params: whether the
     * suite can run a case with these params; false with the reason in why
     * (the case is then skipped, which fails the test).
     */
    const char *const *extra_params;
    bool (*check_params)(const char *test, const cJSON *params, char *why,
                         size_t whylen);
    /*
     * Optional (NULL for none). outputs: the names of a pipeline's outputs
     * (NULL-terminated, at most ORACLE_MAX_OUTPUTS): output 0 is what the
     * row's build returns, output i >= 1 what derive makes of it (derive is
     * then required), and a case's expected is an object whose
     * keys are output names, each a list of per-batch expectations for that
     * output compared as params.compare says (list_per_batch or
     * set_per_batch only), or the keys of assertions. Every output must
     * produce one batch per run batch (per slide). A case whose expected
     * has any other key is skipped (a failure).
     */
    const char *const *outputs;
    oracle_derive_fn derive;
    const oracle_assertion *assertions;
    size_t nassertions;
    /* Cases not run, each with its reason (may name other suites). */
    const oracle_exclusion *exclusions;
    size_t nexclusions;
} oracle_suite;

/*
 * Input: a case's batches are pushed to its queue streams, at most
 * num_batches_run of them (batches that would never run are not pushed).
 *
 * Output times: batch n (1-based) of the manual clock is at n x batch_ms.
 * A case whose params have slide_batches = k tests a stream with that
 * slide: it outputs only at every k-th batch, so its i-th output batch
 * (1-based) must be at i x k x batch_ms, a multiple of the slide, and the
 * case's expected list holds num_batches_run / k batches.
 */

/*
 * A JSON value as the harness reads input records: integral numbers are
 * ints, strings are string views into the JSON, arrays of two are pairs,
 * other arrays lists. False for other JSON. oracle_value_free releases the
 * item arrays it allocated (not the strings).
 */
bool oracle_json_value(const cJSON *j, sl_value *out);
void oracle_value_free(sl_value *v);

/* params.<name> as an integer, -1 when absent or not a number. */
int64_t oracle_param_int(const cJSON *params, const char *name);

/*
 * CUnit test bodies. oracle_test_case_lists prints the cases run, excluded
 * and skipped, and fails when any in-scope case cannot run (no pipeline, a
 * comparison or parameter the harness does not know), or a table row or an
 * exclusion matches no case. oracle_test_cases_match runs every case with
 * workers=2, then workers=1, and fails unless both match Spark and each other.
 * oracle_release frees the parsed vectors.
 */
void oracle_test_case_lists(const oracle_suite *s);
void oracle_test_cases_match(const oracle_suite *s);
void oracle_release(void);

#endif /* SL_ORACLE_HARNESS_H */
