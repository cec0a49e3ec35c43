/*
 * The workshop's memory-table flow in C: the lines a TCP server sends go
 * into the memory table `new_dataframe` in append mode (Spark's
 * writeStream.format("memory").queryName("new_dataframe")), and each time
 * the table grows the main thread queries it with sl_context_sql:
 *   SELECT SPLIT(value, ',')[0] AS Col1, SPLIT(value, ',')[1] AS Col2
 *   FROM new_dataframe
 * printing "query: N rows" and then one JSON array per row. Try it with
 * `ncat -lk 9999` and `memory_table localhost 9999`, typing "a,b" lines.
 * Ctrl-C stops gracefully.
 */
#include <sluice/sluice.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PROG "memory_table"
#define QUERY                                                                  \
    "SELECT SPLIT(value, ',')[0] AS Col1, SPLIT(value, ',')[1] AS Col2 "       \
    "FROM new_dataframe"

static void usage(FILE *f)
{
    fputs("usage: " PROG " HOST PORT [--batch DURATION]\n"
          "\n"
          "Append the lines the TCP server at HOST:PORT sends to the memory\n"
          "table new_dataframe and print, whenever it grows, the result of\n"
          "  " QUERY "\n"
          "\n"
          "  --batch DURATION  batch interval, e.g. 500ms, 1s (default 1s)\n"
          "  -h, --help        show this help\n",
          f);
}

/* The context for HOST PORT [--batch D]; exits 2 for a bad command line. */
static sl_context *make_context(int argc, char **argv)
{
    char err[256];
    sl_conf *conf = sl_conf_new();
    sl_context *ctx;
    sl_dstream *lines;
    long port;
    char *end;
    if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
        usage(stdout);
        exit(0);
    }
    if (!conf || (argc != 3 && argc != 5) ||
        (argc == 5 && strcmp(argv[3], "--batch"))) {
        usage(stderr);
        exit(2);
    }
    port = strtol(argv[2], &end, 10);
    if (*end || port < 1 || port > 65535 ||
        (argc == 5 &&
         sl_conf_set(conf, "batch_interval", argv[4], err, sizeof err))) {
        fprintf(stderr, PROG ": invalid port or --batch\n");
        usage(stderr);
        exit(2);
    }
    if (!(ctx = sl_context_new(conf, err, sizeof err))) {
        fprintf(stderr, PROG ": %s\n", err);
        sl_conf_free(conf);
        exit(1);
    }
    /* A socket stream has no schema: the table has one column, value. */
    lines = sl_socket_text_stream(ctx, argv[1], (int)port, NULL);
    if (!lines || sl_memory_sink(lines, "new_dataframe", NULL) != SL_OK) {
        fprintf(stderr, PROG ": %s\n", sl_context_errmsg(ctx));
        sl_context_free(ctx);
        exit(1);
    }
    return ctx;
}

/* Run the query and print its rows; false when it failed. */
static bool run_query(sl_context *ctx)
{
    char err[1024], buf[4096];
    sl_sql_result *r;
    size_t i;
    if (sl_context_sql(ctx, QUERY, &r, err, sizeof err) != SL_OK) {
        fprintf(stderr, PROG ": query failed: %s\n", err);
        return false;
    }
    printf("query: %zu rows\n", sl_sql_result_rows(r));
    for (i = 0; i < sl_sql_result_rows(r); i++) {
        sl_value_format_json(sl_sql_result_row(r, i), buf, sizeof buf);
        printf("%s\n", buf);
    }
    fflush(stdout);
    sl_sql_result_free(r);
    return true;
}

/* Until SIGINT/SIGTERM or the end of the job: query when the table grew. */
static sl_status watch(sl_context *ctx, const sigset_t *sigs)
{
    struct timespec tick = {0, 100 * 1000 * 1000};
    int64_t rows, dropped, seen = 0;
    sl_status st;
    int sig;
    for (;;) {
        if (sl_context_terminated(ctx))
            return sl_context_await_termination(ctx);
        if (sl_context_memory_table_stats(ctx, "new_dataframe", &rows,
                                          &dropped) == SL_OK &&
            rows != seen) {
            seen = rows;
            if (!run_query(ctx))
                return SL_EINVAL;
        }
        sig = sigtimedwait(sigs, NULL, &tick);
        if (sig == SIGINT || sig == SIGTERM)
            break;
    }
    fprintf(stderr, PROG ": stopping gracefully\n");
    pthread_sigmask(SIG_UNBLOCK, sigs, NULL);
    if ((st = sl_context_stop(ctx, true)) == SL_OK)
        st = sl_context_await_termination(ctx);
    return st;
}

int main(int argc, char **argv)
{
    sigset_t sigs;
    sl_context *ctx;
    sl_status st;
    setvbuf(stdout, NULL, _IOLBF, 0);
    /* Before any sluice thread exists, so that they all inherit the mask. */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    ctx = make_context(argc, argv);
    st = sl_context_start(ctx);
    if (st == SL_OK)
        st = watch(ctx, &sigs);
    if (st != SL_OK)
        fprintf(stderr, PROG ": %s\n", sl_context_errmsg(ctx));
    sl_context_free(ctx);
    return st == SL_OK ? 0 : 1;
}
