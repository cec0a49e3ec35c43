/*
 * Word count over the built-in text generator: the README's default job.
 * Every batch interval the generator makes lines of Zipf-distributed words;
 * the job prints the first 10 (word, count) pairs of each batch, as Spark's
 * NetworkWordCount does, until Ctrl-C (graceful stop) or --batches.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sluice/sluice.h>

static void usage(FILE *f)
{
    fprintf(f,
            "usage: wordcount_generator [options]\n"
            "Counts the words of generated lines per batch and prints 10 of\n"
            "them each batch; Ctrl-C or SIGTERM stops gracefully.\n"
            "\n"
            "  --batch D      batch interval, e.g. 500ms, 1s (default 1s)\n"
            "  --lines N      generated lines per batch (default 1000)\n"
            "  --workers N    worker threads (default: number of cores)\n"
            "  --batches N    stop after N batches (default 0: until Ctrl-C)\n"
            "  -h, --help     this help\n");
}

/* Maps the command line onto conf; returns 0, 1 (--help) or 2 (error). */
static int parse_args(int argc, char **argv, sl_conf *conf)
{
    static const struct option opts[] = {
        {"batch", required_argument, NULL, 'b'},
        {"lines", required_argument, NULL, 'l'},
        {"workers", required_argument, NULL, 'w'},
        {"batches", required_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    char err[256];
    const char *key;
    int c;

    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'b':
            key = "batch_interval";
            break;
        case 'l':
            key = "generator.lines_per_batch";
            break;
        case 'w':
            key = "workers";
            break;
        case 'n':
            key = "max_batches";
            break;
        case 'h':
            usage(stdout);
            return 1;
        default:
            usage(stderr);
            return 2;
        }
        if (sl_conf_set(conf, key, optarg, err, sizeof err) != SL_OK) {
            fprintf(stderr, "wordcount_generator: %s\n", err);
            return 2;
        }
    }
    if (optind < argc) {
        usage(stderr);
        return 2;
    }
    return 0;
}

/* Builds generator -> flat_map -> map -> reduce_by_key -> print. */
static int build(sl_context *ctx, const sl_conf *conf)
{
    sl_dstream *lines, *counts;

    lines = sl_text_generator_stream(ctx, conf);
    counts = sl_dstream_reduce_by_key(
        sl_dstream_map(sl_dstream_flat_map(lines, sl_fn_split_words, NULL),
                       sl_fn_pair_one, NULL),
        sl_fn_sum, NULL, 0);
    if (!counts || sl_dstream_print(counts, 10) != SL_OK) {
        fprintf(stderr, "wordcount_generator: %s\n", sl_context_errmsg(ctx));
        return 1;
    }
    return 0;
}

/*
 * Waits for SIGINT/SIGTERM (blocked in every thread, so only this wait sees
 * them) or for the context to stop on its own (--batches), whichever comes
 * first, and stops gracefully on a signal.
 */
static sl_status run(sl_context *ctx, const sigset_t *sigs)
{
    struct timespec tick = {0, 200 * 1000 * 1000};

    for (;;) {
        if (sigtimedwait(sigs, NULL, &tick) >= 0)
            return sl_context_stop(ctx, true);
        if (errno != EAGAIN && errno != EINTR)
            return sl_context_stop(ctx, true);
        if (sl_context_terminated(ctx))
            return sl_context_await_termination(ctx);
    }
}

int main(int argc, char **argv)
{
    char err[256];
    sl_conf *conf = sl_conf_new(), *ctx_conf = NULL;
    sl_context *ctx = NULL;
    sigset_t sigs;
    int rc = 1;

    if (!conf)
        return 1;
    rc = parse_args(argc, argv, conf);
    if (rc != 0) {
        sl_conf_free(conf);
        return rc == 1 ? 0 : 2;
    }
    rc = 1;
    /* Block the signals before any sluice thread exists so they inherit
     * the mask and the signals reach only the wait in run(). */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    ctx_conf = sl_conf_dup(conf);
    ctx = ctx_conf ? sl_context_new(ctx_conf, err, sizeof err) : NULL;
    if (!ctx) {
        fprintf(stderr, "wordcount_generator: %s\n",
                ctx_conf ? err : "out of memory");
        sl_conf_free(ctx_conf);
        goto free_conf;
    }
    if (build(ctx, conf) != 0)
        goto free_ctx;
    if (sl_context_start(ctx) != SL_OK) {
        fprintf(stderr, "wordcount_generator: %s\n", sl_context_errmsg(ctx));
        goto free_ctx;
    }
    if (run(ctx, &sigs) == SL_OK)
        rc = 0;
    else
        fprintf(stderr, "wordcount_generator: %s\n", sl_context_errmsg(ctx));
free_ctx:
    sl_context_free(ctx);
free_conf:
    sl_conf_free(conf);
    return rc;
}
