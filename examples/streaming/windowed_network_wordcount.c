/*
 * Word counts over a sliding window, as Spark's reduceByKeyAndWindow
 * examples: every 10 s, the counts of the words received in the last 30 s,
 * updated incrementally (new = previous + entering - leaving), words whose
 * count fell back to zero dropped. Try it with `ncat -lk 9999` and
 * `windowed_network_wordcount localhost 9999`.
 */
#define PROG "windowed_network_wordcount"
#define ABOUT                                                                  \
    "Count the words the TCP server at HOST:PORT sends over the last 30 s,\n"  \
    "every 10 s (window and slide must be multiples of the batch interval).\n"

#include "example_main.h"

#define WINDOW_MS 30000
#define SLIDE_MS 10000

/* The inverse of sum: what leaves the window is taken off its count. */
static sl_status subtract(sl_task *t, const sl_value *a, const sl_value *b,
                          sl_value *out, void *user)
{
    (void)t;
    (void)user;
    *out = sl_int(a->u.i - b->u.i);
    return SL_OK;
}

static bool nonzero(const sl_value *kv, void *user)
{
    (void)user;
    return sl_pair_value(kv)->u.i != 0;
}

static bool build_job(sl_context *ctx, const options *o)
{
    sl_dstream *lines, *pairs, *counts;

    lines = sl_socket_text_stream(ctx, o->host, o->port, NULL);
    pairs = sl_dstream_map(sl_dstream_flat_map(lines, sl_fn_split_words, NULL),
                           sl_fn_pair_one, NULL);
    counts = sl_dstream_reduce_by_key_and_window(
        pairs, sl_fn_sum, subtract, nonzero, NULL, WINDOW_MS, SLIDE_MS, 0);
    return counts && sl_dstream_print(counts, 0) == SL_OK;
}
