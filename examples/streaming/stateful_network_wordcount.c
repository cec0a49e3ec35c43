/*
 * Running word totals, as Spark's StatefulNetworkWordCount: the state of
 * each word (its total so far, starting from hello = 1 and world = 1) is
 * carried across batches with update_state_by_key, and every batch prints
 * the totals of all words seen. Try it with `ncat -lk 9999` and
 * `stateful_network_wordcount localhost 9999`.
 */
#define PROG "stateful_network_wordcount"
#define ABOUT                                                                  \
    "Print the running total of every word the TCP server at HOST:PORT has\n"  \
    "sent, each batch (Spark's StatefulNetworkWordCount).\n"

#include "example_main.h"

/* total = previous total (or 0) + this batch's occurrences. */
static sl_status add_counts(sl_task *t, const sl_value *key,
                            const sl_value *values, const sl_value *state,
                            sl_value *new_state, bool *remove, void *user)
{
    int64_t total = state ? state->u.i : 0;
    uint32_t i;
    (void)t;
    (void)key;
    (void)remove;
    (void)user;
    for (i = 0; i < values->len; i++)
        total += values->u.items[i].u.i;
    *new_state = sl_int(total);
    return SL_OK;
}

static bool build_job(sl_context *ctx, const options *o)
{
    sl_value words[2] = {sl_cstr("hello"), sl_cstr("world")}, one = sl_int(1);
    sl_value hello[2] = {words[0], one}, world[2] = {words[1], one};
    sl_value initial[2] = {sl_composite(SL_KIND_PAIR, hello, 2),
                           sl_composite(SL_KIND_PAIR, world, 2)};
    sl_dstream *lines, *pairs, *totals;

    lines = sl_socket_text_stream(ctx, o->host, o->port, NULL);
    pairs = sl_dstream_map(sl_dstream_flat_map(lines, sl_fn_split_words, NULL),
                           sl_fn_pair_one, NULL);
    totals =
        sl_dstream_update_state_by_key(pairs, add_counts, NULL, initial, 2);
    return totals && sl_dstream_print(totals, 0) == SL_OK;
}
