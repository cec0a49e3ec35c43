/*
 * Spark's HdfsWordCount in C: counts the words of every new file that
 * lands in a directory, per batch. Try it with
 * `text_file_wordcount /tmp/in` and, in another terminal,
 * `echo "hello world" > /tmp/x && mv /tmp/x /tmp/in/`. Ctrl-C stops
 * gracefully.
 */
#define PROG "text_file_wordcount"
#define ABOUT                                                                  \
    "Count the words of each new file moved into DIR, printing each batch's\n" \
    "counts (Spark's HdfsWordCount). Write files elsewhere and rename them\n"  \
    "into DIR, so that no half-written file is seen.\n"
#define EXAMPLE_DIRECTORY

#include "example_main.h"

static bool build_job(sl_context *ctx, const options *o)
{
    sl_dstream *lines, *words, *pairs, *counts;

    lines = sl_text_file_stream(ctx, o->host);
    words = sl_dstream_flat_map(lines, sl_fn_split_words, NULL);
    pairs = sl_dstream_map(words, sl_fn_pair_one, NULL);
    counts = sl_dstream_reduce_by_key(pairs, sl_fn_sum, NULL, 0);
    return counts && sl_dstream_print(counts, 0) == SL_OK;
}
