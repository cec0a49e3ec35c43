/*
 * The command line, signal handling and main() shared by the network word
 * count examples: each example defines PROG, ABOUT and build_job(), then
 * includes this file (EXAMPLE_KAFKA: BROKERS TOPICS instead of HOST PORT).
 * Ctrl-C or SIGTERM stops the job gracefully. An example that defines
 * EXAMPLE_CHECKPOINT takes a checkpoint directory after HOST PORT and goes on
 * from it (sl_context_get_or_create).
 */
#ifndef SL_EXAMPLE_MAIN_H
#define SL_EXAMPLE_MAIN_H

#include <sluice/sluice.h>

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct options {
    const char *host; /* or the directory, for EXAMPLE_DIRECTORY */
    int port;
    const char *batch;      /* duration text, NULL for the default */
    const char *workers;    /* count text, NULL for the default */
    const char *checkpoint; /* directory, for EXAMPLE_CHECKPOINT */
    const char *topics;     /* comma-separated, for EXAMPLE_KAFKA */
} options;

/* Network examples take HOST PORT; directory ones define EXAMPLE_DIRECTORY
 * and take DIR. */
#ifdef EXAMPLE_DIRECTORY
#define EXAMPLE_ARGS "DIR"
#define EXAMPLE_NARGS 1
#define EXAMPLE_MISSING "DIR is required"
#elif defined(EXAMPLE_KAFKA)
#define EXAMPLE_ARGS "BROKERS TOPICS"
#define EXAMPLE_NARGS 2
#define EXAMPLE_MISSING "BROKERS and TOPICS are required"
#elif defined(EXAMPLE_CHECKPOINT)
#define EXAMPLE_ARGS "HOST PORT CHECKPOINT_DIR"
#define EXAMPLE_NARGS 3
#define EXAMPLE_MISSING "HOST, PORT and CHECKPOINT_DIR are required"
#else
#define EXAMPLE_ARGS "HOST PORT"
#define EXAMPLE_NARGS 2
#define EXAMPLE_MISSING "HOST and PORT are required"
#endif

static void usage(FILE *f)
{
    fprintf(f, "usage: " PROG " " EXAMPLE_ARGS
               " [--batch DURATION] [--workers N]\n"
               "\n" ABOUT "\n"
               "  --batch DURATION  batch interval, e.g. 500ms, 1s, 1m "
               "(default 1s)\n"
               "  --workers N       worker threads (default 0: one per core)\n"
               "  -h, --help        show this help\n");
}

#ifndef EXAMPLE_KAFKA
static bool parse_port(const char *text, int *out)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(text, &end, 10);
    if (errno || end == text || *end || v < 1 || v > 65535)
        return false;
    *out = (int)v;
    return true;
}
#endif

/* The value of --name VALUE or --name=VALUE at argv[*i], advancing *i. */
static const char *option_value(int argc, char **argv, int *i, const char *name)
{
    size_t n = strlen(name);
    if (strncmp(argv[*i], name, n) == 0 && argv[*i][n] == '=')
        return argv[*i] + n + 1;
    if (strcmp(argv[*i], name) != 0)
        return NULL;
    if (*i + 1 >= argc) {
        fprintf(stderr, PROG ": %s needs a value\n", name);
        usage(stderr);
        exit(2);
    }
    return argv[++*i];
}

/* Parse the command line; exits 0 for --help and 2 for a bad one. */
static void parse_args(int argc, char **argv, options *o)
{
    const char *pos[3];
    int i, npos = 0;
    const char *v;

    memset(o, 0, sizeof *o);
    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(stdout);
            exit(0);
        } else if ((v = option_value(argc, argv, &i, "--batch"))) {
            o->batch = v;
        } else if ((v = option_value(argc, argv, &i, "--workers"))) {
            o->workers = v;
        } else if (argv[i][0] == '-' && argv[i][1] &&
                   !(argv[i][1] >= '0' && argv[i][1] <= '9')) {
            fprintf(stderr, PROG ": unknown option '%s'\n", argv[i]);
            goto bad;
        } else if (npos < EXAMPLE_NARGS) {
            pos[npos++] = argv[i];
        } else {
            fprintf(stderr, PROG ": unexpected argument '%s'\n", argv[i]);
            goto bad;
        }
    }
    if (npos < EXAMPLE_NARGS) {
        fprintf(stderr, PROG ": " EXAMPLE_MISSING "\n");
        goto bad;
    }
    o->host = pos[0];
#ifdef EXAMPLE_KAFKA
    o->topics = pos[1];
#else
    if (EXAMPLE_NARGS >= 2 && !parse_port(pos[1], &o->port)) {
        fprintf(stderr, PROG ": invalid port '%s' (expected 1..65535)\n",
                pos[1]);
        goto bad;
    }
#endif
    if (EXAMPLE_NARGS == 3)
        o->checkpoint = pos[2];
    return;
bad:
    usage(stderr);
    exit(2);
}

/* The configuration from the options; exits 2 for a bad value. */
static sl_conf *make_conf(const options *o)
{
    char err[256];
    sl_conf *conf = sl_conf_new();

    if (!conf) {
        fprintf(stderr, PROG ": out of memory\n");
        exit(1);
    }
    if (o->batch && sl_conf_set(conf, "batch_interval", o->batch, err,
                                sizeof err) != SL_OK) {
        fprintf(stderr, PROG ": invalid --batch '%s': %s\n", o->batch, err);
        goto bad;
    }
    if (o->workers &&
        sl_conf_set(conf, "workers", o->workers, err, sizeof err) != SL_OK) {
        fprintf(stderr, PROG ": invalid --workers '%s': %s\n", o->workers, err);
        goto bad;
    }
    return conf;
bad:
    sl_conf_free(conf);
    exit(2);
}

/* The example's pipeline, defined before this file is included. */
static bool build_job(sl_context *ctx, const options *o);

/* ------------------------------------------------------------- signals */

/* Wait for SIGINT/SIGTERM or for the context to end on its own. Signals
 * are blocked in every thread and taken here with sigtimedwait, because
 * sl_context_stop is not async-signal-safe. */
static sl_status run_until_signal(sl_context *ctx, const sigset_t *sigs)
{
    struct timespec tick = {0, 100 * 1000 * 1000};
    sl_status st;
    int sig;

    for (;;) {
        /* not the status: a job that failed with SL_ETIMEDOUT gives it */
        if (sl_context_terminated(ctx))
            return sl_context_await_termination(ctx);
        sig = sigtimedwait(sigs, NULL, &tick);
        if (sig == SIGINT || sig == SIGTERM)
            break;
    }
    fprintf(stderr, PROG ": %s: stopping gracefully (again to abort)\n",
            sig == SIGINT ? "SIGINT" : "SIGTERM");
    /* A second signal now reaches this thread with its default action. */
    pthread_sigmask(SIG_UNBLOCK, sigs, NULL);
    st = sl_context_stop(ctx, true);
    if (st == SL_OK)
        st = sl_context_await_termination(ctx);
    return st;
}

/* The context's message starts with the status's name: printed alone, so
 * that the status appears once (docs/programming-guide.md, "Errors"). */
static void report_failure(sl_context *ctx, sl_status st)
{
    const char *msg = sl_context_errmsg(ctx);
    if (msg && *msg)
        fprintf(stderr, PROG ": %s\n", msg);
    else
        fprintf(stderr, PROG ": %s (see the log above)\n", sl_strerror(st));
}

/* A context with the example's job built in (sl_context_create_fn): on
 * a restart from a checkpoint too, since C functions cannot be read back
 * from one. NULL with the reason in errbuf. */
static sl_context *create_job(void *user, char *errbuf, size_t errlen)
{
    const options *o = user;
    sl_conf *conf = make_conf(o);
    sl_context *ctx = sl_context_new(conf, errbuf, errlen);

    if (!ctx) {
        sl_conf_free(conf); /* the context owns it on success only */
        return NULL;
    }
    if (!build_job(ctx, o)) {
        snprintf(errbuf, errlen, "cannot build the job: %s",
                 sl_context_errmsg(ctx));
        sl_context_free(ctx);
        return NULL;
    }
    return ctx;
}

int main(int argc, char **argv)
{
    options o;
    sigset_t sigs;
    char err[512] = "";
    sl_context *ctx;
    sl_status st;
    int rc = 1;

    parse_args(argc, argv, &o);
    /* Each batch is printed as a whole even when stdout is a pipe. */
    setvbuf(stdout, NULL, _IOLBF, 0);
    /* Before any sluice thread exists, so that they all inherit the mask. */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);

    ctx = o.checkpoint ? sl_context_get_or_create(o.checkpoint, create_job, &o,
                                                  err, sizeof err)
                       : create_job(&o, err, sizeof err);
    if (!ctx) {
        fprintf(stderr, PROG ": %s\n", err);
        return 1;
    }
    st = sl_context_start(ctx);
    if (st == SL_OK)
        st = run_until_signal(ctx, &sigs);
    if (st != SL_OK) {
        report_failure(ctx, st);
        goto free_ctx;
    }
    rc = 0;
free_ctx:
    sl_context_free(ctx);
    return rc;
}

#endif /* SL_EXAMPLE_MAIN_H */
