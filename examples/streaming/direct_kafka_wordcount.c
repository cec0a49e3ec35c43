/*
 * Spark's DirectKafkaWordCount in C: counts the words of the records of
 * Kafka topics, per batch, and prints each batch's counts as Spark's
 * print() does. Each batch reads an exact offset range per partition
 * (the Kafka source, docs/programming-guide.md "Kafka"). Try it with
 * `streamctl kafka-mock --topic words:3` and kcat:
 *   printf 'to be or\nnot to be\n' | kcat -P -b BROKERS -t words
 *   direct_kafka_wordcount BROKERS words
 */
#define PROG "direct_kafka_wordcount"
#define ABOUT                                                                  \
    "Count the words of the records of TOPICS (comma-separated) on the\n"      \
    "Kafka cluster at BROKERS (host:port[,host:port...]), from each\n"         \
    "topic's earliest offset, printing each batch's counts (Spark's\n"         \
    "DirectKafkaWordCount). At most 100000 records per partition a batch.\n"
#define EXAMPLE_KAFKA

#include "example_main.h"

/* ------------------------------------------------------------ the job */

static bool build_job(sl_context *ctx, const options *o)
{
    sl_dstream *lines, *words, *pairs, *counts;
    sl_conf *kc = sl_conf_new();
    char err[256];

    if (!kc)
        return false;
    if (sl_conf_set(kc, "kafka.bootstrap.servers", o->host, err, sizeof err) !=
            SL_OK ||
        sl_conf_set(kc, "kafka.source.starting_offsets", "earliest", err,
                    sizeof err) != SL_OK) {
        fprintf(stderr, PROG ": %s\n", err);
        sl_conf_free(kc);
        return false;
    }
    lines = sl_kafka_stream(ctx, o->topics, kc);
    sl_conf_free(kc); /* the source keeps a copy */
    words = sl_dstream_flat_map(lines, sl_fn_split_words, NULL);
    pairs = sl_dstream_map(words, sl_fn_pair_one, NULL);
    counts = sl_dstream_reduce_by_key(pairs, sl_fn_sum, NULL, 0);
    return counts && sl_dstream_print(counts, 0) == SL_OK;
}
