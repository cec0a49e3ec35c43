/*
 * examples/streaming/example_main.h, the main() the C examples share: a
 * failed job's status is printed once (the context's message already
 * starts with its name), and without a message the status's text alone.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sluice/sluice.h>

#include "sl_test.h"
#include "sl_test_util.h"

#define PROG "ex"
#define ABOUT "a test of example_main.h"
/* The header's main() under another name, declared for
 * -Wmissing-prototypes. */
#define main example_main
int example_main(int argc, char **argv);
#include "../../../examples/streaming/example_main.h"
#undef main

static bool build_job(sl_context *ctx, const options *o)
{
    (void)ctx;
    (void)o;
    return false;
}

/* What report_failure(ctx, st) writes to stderr, in a malloc'd string. */
static char *failure_text(sl_context *ctx, sl_status st)
{
    char path[] = "/tmp/sl_example_main_XXXXXX", *text;
    int fd = mkstemp(path), saved = dup(2);
    size_t n;

    SL_CHECK(fd >= 0 && saved >= 0);
    fflush(stderr);
    dup2(fd, 2);
    report_failure(ctx, st);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    close(fd);
    text = sl_test_read_file(path, &n);
    unlink(path);
    return text;
}

static void test_status_once(void)
{
    char err[256], *text;
    sl_context *ctx = sl_context_new(NULL, err, sizeof err);

    SL_CHECK(ctx != NULL);
    if (!ctx)
        return;
    text = failure_text(ctx, SL_EUSER);
    SL_CHECK_STR(text ? text : "", "ex: user function failed (see the log "
                                   "above)\n");
    free(text);
    sl_context_set_error(ctx, SL_EUSER, "foreach_rdd function failed");
    text = failure_text(ctx, SL_EUSER);
    SL_CHECK_STR(text ? text : "", "ex: SL_EUSER: foreach_rdd function "
                                   "failed\n");
    free(text);
    sl_context_free(ctx);
    (void)build_job;
    (void)example_main;
}

const char *SL_SUITE = "stream/example_main";
const sl_test_case SL_TESTS[] = {{"status_once", test_status_once},
                                 {NULL, NULL}};
