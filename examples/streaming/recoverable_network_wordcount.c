/*
 * Running word totals that survive a restart, as Spark's
 * RecoverableNetworkWordCount: the job goes on from the checkpoint in
 * CHECKPOINT_DIR (sl_context_get_or_create), where the socket receiver's
 * blocks go to the write-ahead log and the totals' state is recorded each
 * batch. Stop it (Ctrl-C, or even kill -9) and start it again with the
 * same directory: batch ids and totals continue. Try it with
 * `ncat -lk 9999` and `recoverable_network_wordcount localhost 9999 ck`.
 */
#define PROG "recoverable_network_wordcount"
#define ABOUT                                                                  \
    "Print the running total of every word the TCP server at HOST:PORT has\n"  \
    "sent, each batch; the totals survive restarts through the checkpoint\n"   \
    "in CHECKPOINT_DIR (Spark's RecoverableNetworkWordCount).\n"
#define EXAMPLE_CHECKPOINT

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

/* Called at every start, first or restart: the graph comes from the code,
 * the checkpoint says where it goes on. The names are what the checkpoint
 * calls the source and the state. */
static bool build_job(sl_context *ctx, const options *o)
{
    sl_dstream *lines, *pairs, *totals;

    lines = sl_socket_text_stream(ctx, o->host, o->port, NULL);
    if (!lines || sl_dstream_set_name(lines, "lines") != SL_OK)
        return false;
    pairs = sl_dstream_map(sl_dstream_flat_map(lines, sl_fn_split_words, NULL),
                           sl_fn_pair_one, NULL);
    totals = sl_dstream_update_state_by_key(pairs, add_counts, NULL, NULL, 0);
    return totals && sl_dstream_set_name(totals, "totals") == SL_OK &&
           sl_dstream_print(totals, 0) == SL_OK;
}
