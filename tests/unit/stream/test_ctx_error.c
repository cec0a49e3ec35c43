/*
 * Unit tests of the context's error message (src/stream/context.c): it is
 * written by the job thread, the I/O thread and workers at once, so writes
 * are serialised (run under TSan in CI: the name matches test_stream_.*),
 * and the first failure keeps its status and its text.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <sluice/sluice.h>

#include "sl_test.h"
#include "stream/stream_int.h"

#define NTHREADS 4
#define NWRITES 2000

static const sl_status STATUS[NTHREADS] = {SL_EIO, SL_EUSER, SL_ETYPE,
                                           SL_EPARSE};

typedef struct writer {
    sl_context *ctx;
    int id;
} writer;

static sl_context *ctx_new(void)
{
    char err[256];
    sl_context *ctx = sl_context_new(NULL, err, sizeof err);
    SL_CHECK(ctx != NULL);
    return ctx;
}

/* A message long enough that a torn copy would show. */
static void *set_many(void *arg)
{
    writer *w = arg;
    int i;
    for (i = 0; i < NWRITES; i++)
        sl__ctx_set_error(w->ctx, STATUS[w->id],
                          "thread %d says the same thing every time, "
                          "thread %d",
                          w->id, w->id);
    return NULL;
}

/* Exactly one writer's whole message, with that writer's status name. */
static bool one_whole_message(const char *msg)
{
    char want[256];
    int id;
    for (id = 0; id < NTHREADS; id++) {
        snprintf(want, sizeof want,
                 "%s: thread %d says the same thing every time, thread %d",
                 sl_errname(STATUS[id]), id, id);
        if (strcmp(msg, want) == 0)
            return true;
    }
    return false;
}

static void test_concurrent_writers(void)
{
    sl_context *ctx = ctx_new();
    pthread_t th[NTHREADS];
    writer w[NTHREADS];
    char copy[512];
    int i, torn = 0;

    for (i = 0; i < NTHREADS; i++) {
        w[i].ctx = ctx;
        w[i].id = i;
        SL_CHECK_INT(pthread_create(&th[i], NULL, set_many, &w[i]), 0);
    }
    /* A reader on another thread (the job thread logs the message). */
    for (i = 0; i < NWRITES; i++) {
        sl__ctx_errmsg_copy(ctx, copy, sizeof copy);
        if (copy[0] && !one_whole_message(copy))
            torn++;
    }
    for (i = 0; i < NTHREADS; i++)
        pthread_join(th[i], NULL);
    SL_CHECK_INT(torn, 0);
    SL_CHECK(one_whole_message(sl_context_errmsg(ctx)));
    sl_context_free(ctx);
}

/* The failure's message stays: an error set after it (a stop from the
 * wrong thread, a callback, another receiver) does not replace it. */
static void test_first_failure_kept(void)
{
    sl_context *ctx = ctx_new();

    sl__ctx_set_error(ctx, SL_EIO, "receiver socket: the first failure");
    sl__ctx_fail(ctx, SL_EIO);
    sl__ctx_set_error(ctx, SL_EUSER, "a later error");
    sl_context_set_error(ctx, SL_EUSER, "a later public error");
    sl__ctx_fail_msg(ctx, SL_ETYPE, "a later failure");
    SL_CHECK_STR(sl_context_errmsg(ctx),
                 "SL_EIO: receiver socket: the first failure");
    SL_CHECK_INT(ctx->failure, SL_EIO);
    sl_context_free(ctx);
}

static void *fail_once(void *arg)
{
    writer *w = arg;
    sl__ctx_fail_msg(w->ctx, STATUS[w->id],
                     "thread %d says the same thing every time, thread %d",
                     w->id, w->id);
    return NULL;
}

/* Failures racing each other: the status kept is the one of the text
 * kept. */
static void test_racing_failures(void)
{
    sl_context *ctx = ctx_new();
    pthread_t th[NTHREADS];
    writer w[NTHREADS];
    char want[256];
    int i;

    for (i = 0; i < NTHREADS; i++) {
        w[i].ctx = ctx;
        w[i].id = i;
        SL_CHECK_INT(pthread_create(&th[i], NULL, fail_once, &w[i]), 0);
    }
    for (i = 0; i < NTHREADS; i++)
        pthread_join(th[i], NULL);
    SL_CHECK(one_whole_message(sl_context_errmsg(ctx)));
    snprintf(want, sizeof want, "%s: ", sl_errname(ctx->failure));
    SL_CHECK(strncmp(sl_context_errmsg(ctx), want, strlen(want)) == 0);
    sl_context_free(ctx);
}

const char *SL_SUITE = "stream/ctx_error";
const sl_test_case SL_TESTS[] = {
    {"concurrent_writers", test_concurrent_writers},
    {"first_failure_kept", test_first_failure_kept},
    {"racing_failures", test_racing_failures},
    {NULL, NULL},
};
