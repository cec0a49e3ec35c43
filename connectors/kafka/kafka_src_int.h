/*
 * Internals of the Kafka source: the offsets JSON a batch records
 * (kafka_offsets.c, parse and print, unit-tested on its own), and the
 * source's state shared by its planning on the job thread
 * (kafka_source.c) and its readers on the workers (kafka_src_read.c).
 */
#ifndef SL_KAFKA_SRC_INT_H
#define SL_KAFKA_SRC_INT_H

#include "core/records.h" /* sl__rec_options, sl__dead_letters */

#include <cJSON.h>
#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <regex.h>
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

/* ----------------------------------------------------- the source */

#define ADD(field, n) __atomic_add_fetch(&(field), (n), __ATOMIC_RELAXED)
#define GET(field) __atomic_load_n(&(field), __ATOMIC_RELAXED)

enum { START_EARLIEST, START_LATEST, START_EXPLICIT };
enum { REC_VALUES, REC_PAIRS, REC_ROWS };

/* One partition the source knows. */
typedef struct kpart {
    char *topic;
    int32_t partition;
    int64_t pos;   /* next offset to take; -1 until the start is known */
    int64_t lag;   /* records after pos when last planned, -1 unknown */
    int64_t bound; /* available_now: the end seen at start, -1 none */
} kpart;

/* What one batch planned, kept until its commit (commit_offsets). */
typedef struct kbatch {
    struct kbatch *next;
    int64_t batch_id;
    sl__koffs ends;
} kbatch;

typedef struct ksrc {
    sl_context *ctx;
    sl_conf *conf; /* a copy: readers make their consumers from it */
    char who[160]; /* "kafka source NAME" for messages */
    char **topics;
    size_t ntopics;
    bool has_pattern;
    regex_t pattern;
    int start_mode;
    cJSON *start_json; /* START_EXPLICIT */
    int64_t max_per_part, timeout_ms;
    int records;
    bool fail_on_loss, commit_offsets, first_plan_done;
    sl_schema *schema; /* records "rows", or kafka.source.schema */
    /* kafka.source.format: values parsed as JSON or CSV (a schema: rows) */
    bool parse;
    sl__rec_options rec;
    sl__dead_letters *dead; /* malformed values, or NULL */
    int64_t malformed;
    rd_kafka_t *meta; /* job thread: metadata, end offsets, commits */
    kpart *parts;
    size_t nparts, cap;
    kbatch *pending;
    /* available_now */
    bool bounded, planned_once;
    /* readers' consumers, reused across batches */
    pthread_mutex_t mu;
    rd_kafka_t **pool;
    size_t npool, pool_cap;
    /* counters: job thread and workers */
    int64_t read, lost, lag_total;
    int64_t warn_ms; /* last "unreachable" warning (job thread) */
} ksrc;

/* kafka_source.c: a consumer for who (the job thread's, or a reader's
 * for the pool); errbuf names a refused property. */
rd_kafka_t *sl__ksrc_consumer_new(ksrc *ks, const char *who, char *err,
                                  size_t errlen);
/* kafka_src_read.c: add the reader partition of [start, end) of
 * topic/partition to plan, and its records to the plan's count. */
sl_status sl__ksrc_add_reader(ksrc *ks, sl_plan *plan, const char *topic,
                              int32_t partition, int64_t start, int64_t end,
                              bool replay);

#endif /* SL_KAFKA_SRC_INT_H */
