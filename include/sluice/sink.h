/*
 * sluice sink interface: what every output of a stream plugs into (the
 * console, save_as_text_files, the exactly-once file sink and user sinks).
 * A sink is a versioned method table, only ever appended to, and a name
 * that is its identity in manifests, metrics and checkpoints.
 */
#ifndef SLUICE_SINK_H
#define SLUICE_SINK_H

#include "core.h"
#include "rdd.h"
#include "stream.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @brief One file a sink wrote for a batch (for commits/<batch>). */
typedef struct sl_sink_file {
    const char *path; /* as the sink names it (absolute or relative) */
    uint64_t bytes;
    uint32_t crc32; /* zlib's crc32 of the whole file */
} sl_sink_file;

/**
 * @brief A sink. Every method runs on the job thread; write_batch may run
 * RDD actions (sl_rdd_foreach_partition writes partitions on the workers).
 *
 * The life of a batch: write_batch, then, once every output finished the
 * batch and its state moved on (with a checkpoint: after commits/<batch>
 * is durable), commit; if the batch failed or was interrupted, abort
 * instead. A batch that a restart runs again calls write_batch again with
 * the same id: a sink that wants exactly-once output replaces what an
 * earlier, uncommitted write of that id left. A failing method returns a
 * status and says why with sl_context_set_error on the context it was
 * made for.
 */
typedef struct sl_sink_ops {
    int version;      /* SL_SINK_OPS_VERSION */
    const char *type; /* "console", "file", ...: the default name's suffix */
    /** Before the first batch (optional): e.g. clean up after a crash. */
    sl_status (*open)(void *state, const char *name);
    /** Write batch batch_id at time_ms (rdd borrowed for the call). */
    sl_status (*write_batch)(void *state, int64_t batch_id, int64_t time_ms,
                             sl_rdd *rdd);
    /** The batch is committed (optional). A failure fails the context;
     * the batch stays committed. Must be idempotent: with a checkpoint,
     * the next start calls it again for the last committed batch (after
     * open, before any write_batch), since a crash or a failure may have
     * cut it short; a failure there fails the job before any batch. */
    sl_status (*commit)(void *state, int64_t batch_id);
    /** The batch failed or was interrupted (optional); also called for a
     * batch the sink's write_batch never saw. */
    void (*abort)(void *state, int64_t batch_id);
    /** The files write_batch wrote for batch_id (optional): *out is
     * borrowed until the next write_batch; n = 0 for none. They go into
     * commits/<batch> with their sizes and checksums, and a restart
     * refuses to start when a file the last commit lists is missing or
     * changed: list only files that stay as written. */
    sl_status (*files)(void *state, int64_t batch_id, const sl_sink_file **out,
                       size_t *n);
    /** Free the state (the context's free, or a failed add). */
    void (*free)(void *state);
    /** Records write_batch wrote for batch_id (optional): the progress
     * entry's sinks[].rows, which is null for a sink without it. */
    int64_t (*rows)(void *state, int64_t batch_id);
} sl_sink_ops;
#define SL_SINK_OPS_VERSION 1

/**
 * @brief Add sink ops (with state) as an output of s, run for every batch
 * in registration order with the other outputs.
 * @param name the sink's identity (copied); NULL for the default
 * "<stream name or output index>.<type>". Two outputs with one explicit
 * name are an error (SL_EINVAL).
 * @remark The context owns state from then on (ops->free releases it),
 * also on failure. Before start, else SL_ESTATE.
 */
SL_EXPORT sl_status sl_dstream_add_sink(sl_dstream *s, const char *name,
                                        const sl_sink_ops *ops, void *state);

/**
 * @brief The exactly-once file sink: each batch's partitions are written
 * on the workers as "part-<batch:08>-<partition:05>.<format>" in dir
 * (made if missing) under hidden staging names, fsynced, renamed into
 * place and then listed in the checked manifest "_sluice_metadata/<batch>".
 * A batch run again replaces its own files (keeping those whose bytes did
 * not change); on open, staging leftovers and part files of batches
 * without a manifest are removed.
 * @param name the sink's name (NULL: the default, as sl_dstream_add_sink).
 * @param conf borrowed, may be NULL (the defaults): "file_sink.format"
 * ("json", "csv" or "text"; default "json").
 * @remark Records as "json": one sl_value_format_json record per line;
 * "csv": a tuple, list or pair as fields, anything else as one field,
 * quoted as RFC 4180; "text": sl_value_format per line. Rows of a stream
 * with a schema (sl_dstream_schema) are written typed: "json" as an
 * object of their columns, "csv" as their columns' text (timestamps
 * "2024-01-02 09:30:00.123", NULL empty). Append output mode only: a
 * stream in complete or update mode (sl_dstream_output_mode) is refused
 * (SL_EINVAL).
 */
SL_EXPORT sl_status sl_file_sink(sl_dstream *s, const char *name,
                                 const char *dir, const sl_conf *conf);

/**
 * @brief The Kafka sink (at-least-once): each batch's records of s are
 * produced to topic by an idempotent librdkafka producer
 * (enable.idempotence=true, required), in partition order, and the
 * batch is done only when every record is acknowledged; a record that
 * fails (the broker's reason, after librdkafka's retries within
 * message.timeout.ms, default here 30 s) fails the batch and so the job.
 * A batch a restart runs again is produced again: every record carries
 * the headers sluice.job (conf "kafka_sink.job"), sluice.sink (the
 * sink's name), sluice.batch (the batch id) and sluice.seq (its index
 * in the batch's records, from 0), as decimal text, so (job, sink,
 * batch, seq) names a record across runs and a consumer drops repeats.
 * Key and value: rows of a stream with a schema give their columns
 * `key` (if any) and `value`, strings and binary as they are, other
 * types as their text (CAST AS STRING); rows without a `value` column
 * are the value as a JSON object. A (key, value) pair gives both; any
 * other record is the value, with no key. Strings and binary go as
 * their bytes, null as a null key or value, anything else as JSON.
 * @param name the sink's name (NULL: the default, as sl_dstream_add_sink).
 * @param topic the topic (Kafka's rule: 1 to 249 of a-z A-Z 0-9 . _ -).
 * @param conf borrowed: "kafka.bootstrap.servers" (required) and any
 * other librdkafka producer property as "kafka.NAME" (checked by
 * librdkafka, named in its errors, secrets never shown);
 * "kafka_sink.job" (default empty).
 * @returns SL_OK; SL_EINVAL (a bad topic), SL_ECONF (a property
 * librdkafka refuses, no bootstrap.servers, enable.idempotence other
 * than true), SL_ESTATE after start, SL_ENOMEM; the reason in
 * sl_context_errmsg. The producer is made when the job starts.
 * @remark No transactions (docs/programming-guide.md, "Kafka sink").
 */
SL_EXPORT sl_status sl_kafka_sink(sl_dstream *s, const char *name,
                                  const char *topic, const sl_conf *conf);

/**
 * @brief The memory sink: each batch's rows of s go into the in-memory
 * table `table` of s's context, which sl_context_sql (sql.h) queries from
 * any thread (Spark's `writeStream.format("memory").queryName(table)`).
 *
 * The output mode comes from the stream (sl_dstream_output_mode):
 * append adds the batch's rows; complete replaces the table with them;
 * update replaces the rows whose key columns (sl_dstream_key_columns)
 * equal a new row's, in place, and appends rows of new keys (a sluice
 * extension; without key columns it is append). A stream without a
 * schema gives one column `value string`: string records as they are,
 * others as their text (sl_value_format). Rows are applied when the
 * batch commits, so a query sees whole batches; a batch id applied once
 * is never applied again. Tables live with the context: after a restart
 * an append-mode table starts empty, a complete-mode one is whole again
 * after the first batch (the stream recomputes it from its state).
 * @param table the table's name: an SQL identifier (letters, digits, '_',
 * not starting with a digit), case-insensitive; one sink per table.
 * @param conf borrowed, may be NULL: "memory_sink.max_rows" (default 0,
 * no limit): the oldest rows beyond it are dropped, logged and counted.
 * @returns SL_OK; SL_EINVAL (a bad name, a table another sink writes),
 * SL_ESTATE after start, SL_ENOMEM; the reason in sl_context_errmsg.
 */
SL_EXPORT sl_status sl_memory_sink(sl_dstream *s, const char *table,
                                   const sl_conf *conf);

/**
 * @brief A memory table's current rows and the rows max_rows dropped
 * from it so far.
 * @returns SL_OK; SL_ENOTFOUND when no memory sink writes `table`;
 * SL_EINVAL for NULL arguments.
 * @remark Any thread.
 */
SL_EXPORT sl_status sl_context_memory_table_stats(sl_context *ctx,
                                                  const char *table,
                                                  int64_t *rows,
                                                  int64_t *dropped);

#ifdef __cplusplus
}
#endif
#endif /* SLUICE_SINK_H */
