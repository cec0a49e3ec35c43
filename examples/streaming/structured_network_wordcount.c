/*
 * Spark's StructuredNetworkWordCount in C: the lines a TCP server sends
 * become rows of one column `value`, a SQL stream splits them into words
 * and keeps a running count per word (complete mode: the whole table every
 * batch), printed as Spark's console sink prints it. Try it with
 * `ncat -lk 9999` in one terminal and
 * `structured_network_wordcount localhost 9999` in another.
 */
#define PROG "structured_network_wordcount"
#define ABOUT                                                                  \
    "Count the words of the text lines the TCP server at HOST:PORT sends\n"    \
    "with SQL, printing the running counts as a table every batch\n"           \
    "(Spark's StructuredNetworkWordCount).\n"

#include "example_main.h"

/* ------------------------------------------------------------ the job */

static bool build_job(sl_context *ctx, const options *o)
{
    char err[1024];
    sl_dstream *lines, *counts;

    lines = sl_socket_text_stream(ctx, o->host, o->port, NULL);
    if (!lines || sl_dstream_set_name(lines, "lines") != SL_OK ||
        sl_dstream_register_view(lines, "lines") != SL_OK)
        return false;
    /* Spark's split keeps the empty strings between double spaces. */
    counts = sl_context_sql_stream(
        ctx,
        "SELECT word, count(*) AS count FROM (SELECT explode(split(value, "
        "' ')) AS word FROM lines) GROUP BY word",
        SL_OUTPUT_COMPLETE, err, sizeof err);
    if (!counts) {
        fprintf(stderr, "%s: %s\n", PROG, err);
        return false;
    }
    return sl_dstream_set_name(counts, "word_counts") == SL_OK &&
           sl_dstream_print_table(counts, 0) == SL_OK;
}
