/*
 * Spark's NetworkWordCount in C: counts the words of the lines a TCP server
 * sends, per batch, and prints each batch's counts as Spark's print() does.
 * Try it with `ncat -lk 9999` in one terminal and
 * `network_wordcount localhost 9999` in another. Ctrl-C stops gracefully.
 */
#define PROG "network_wordcount"
#define ABOUT                                                                  \
    "Count the words of the text lines the TCP server at HOST:PORT sends,\n"   \
    "printing each batch's counts (Spark's NetworkWordCount).\n"

#include "example_main.h"

/* ------------------------------------------------------------ the job */

static bool build_job(sl_context *ctx, const options *o)
{
    sl_dstream *lines, *words, *pairs, *counts;

    lines = sl_socket_text_stream(ctx, o->host, o->port, NULL);
    words = sl_dstream_flat_map(lines, sl_fn_split_words, NULL);
    pairs = sl_dstream_map(words, sl_fn_pair_one, NULL);
    counts = sl_dstream_reduce_by_key(pairs, sl_fn_sum, NULL, 0);
    return counts && sl_dstream_print(counts, 0) == SL_OK;
}
