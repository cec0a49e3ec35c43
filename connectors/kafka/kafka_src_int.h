/*
 * Internals of the Kafka source: the offsets JSON a batch records
 * (kafka_offsets.c, parse and print, unit-tested on its own) and the
 * source's state (kafka_source.c).
 */
#ifndef SL_KAFKA_SRC_INT_H
#define SL_KAFKA_SRC_INT_H

#include <sluice/sluice.h>

/* One partition's range in a batch: offsets [start, end), and the
 * records the partition held beyond end when planned (-1: unknown). */
typedef struct sl__koff {
    char *topic;
    int32_t partition;
    int64_t start, end, lag;
} sl__koff;

/* Every partition of a batch (docs/checkpoint-format.md, "Kafka"). */
typedef struct sl__koffs {
    sl__koff *v;
    size_t n, cap;
} sl__koffs;

/* Append a range (topic copied); SL_ENOMEM. */
sl_status sl__koffs_add(sl__koffs *o, const char *topic, int32_t partition,
                        int64_t start, int64_t end, int64_t lag);
/* The range of topic/partition, or NULL. */
sl__koff *sl__koffs_find(const sl__koffs *o, const char *topic,
                         int32_t partition);
void sl__koffs_free(sl__koffs *o);
/*
 * Parse the offsets JSON {"start":{T:{P:N}},"end":{...},"lag":{...}}
 * into out (emptied first): "end" is required, "start" defaults to end
 * (an empty range), "lag" to -1. SL_EPARSE with err saying what is wrong
 * (not JSON, a member of the wrong type, a partition that is no number,
 * an offset below 0, start after end).
 */
sl_status sl__koffs_parse(const char *json, sl__koffs *out, char *err,
                          size_t errlen);
/* The offsets JSON of o (sl_free releases it), or NULL when out of
 * memory; partitions in the order added. */
char *sl__koffs_print(const sl__koffs *o);

#endif /* SL_KAFKA_SRC_INT_H */
