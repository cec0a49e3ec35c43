/*
 * The stateful pipeline test_batch_commit.c and test_ckpt_state.c share
 * (compiled into both by tests/unit/stream/CMakeLists.txt): a queue stream
 * of keys into update_state_by_key, map_with_state with its snapshots, a
 * plain window and two reduced windows (with and without the inverse); each
 * output's records per batch, and after each completed batch a text of every
 * store and window (the committed state), to compare runs with.
 */
#ifndef SL_STATEFUL_FIXTURE_H
#define SL_STATEFUL_FIXTURE_H

#include <sluice/sluice.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SF_NB 6 /* data batches */
#define SF_RUN                                                                 \
    (SF_NB + 3) /* batches of an uninterrupted run: windows empty              \
                 */

/* A growable string ({0}: empty, p NULL until the first put). */
typedef struct sf_buf {
    char *p;
    size_t len, cap;
} sf_buf;

typedef struct sf_run sf_run;

/* What each test adds to the pipeline. */
typedef struct sf_hooks {
    /* The test's own output on the queue stream (its user is the run), or
     * NULL; registered last, or right after the state output when early. */
    sl_status (*last)(sl_rdd *rdd, int64_t t, void *user);
    bool last_early;
    bool named; /* name the streams (".counts", "sums", "win", "rwin") */
    /* Run after the run's snapshot of each completed batch, or NULL. */
    void (*completed)(sf_run *r, const sl_batch_info *b);
} sf_hooks;

struct sf_run {
    sl_context *ctx;
    sl_dstream *q, *state, *mapped, *snaps, *win, *rwin, *plain_rwin;
    int64_t shift;          /* this context's batch 1 is batch shift + 1 */
    sf_buf out[SF_RUN + 2]; /* per batch: what the outputs saw */
    char *snap[SF_RUN + 2]; /* per batch: committed state after it */
    const sf_hooks *hooks;  /* borrowed */
    void *user;             /* the test's own data for its hooks */
};

/* update_state_by_key: the count of a key's values so far. */
sl_status sf_count_update(sl_task *t, const sl_value *key,
                          const sl_value *values, const sl_value *state,
                          sl_value *new_state, bool *remove, void *user);

/* A new manual-clock context of `batches` batches with the pipeline in r;
 * hooks (may be NULL) and user stay borrowed. */
void sf_build(sf_run *r, int64_t shift, int64_t batches, const sf_hooks *hooks,
              void *user);
/* Push data batches first..SF_NB (1-based). */
void sf_push_from(sf_run *r, int64_t first);
/* Start r's context and wait until it ends. */
void sf_run_all(sf_run *r);
void sf_run_free(sf_run *r);
/* Everything the committed batches left: stores and windows, times and
 * versions moved by r->shift (the caller frees). */
char *sf_snapshot(const sf_run *r);

#endif /* SL_STATEFUL_FIXTURE_H */
