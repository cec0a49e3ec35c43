/*
 * sluice's built-in connectors: the socket text stream, the queue stream,
 * Spark's rate source and the deterministic Zipf text generator. Each is a
 * source in the sense of source.h and uses nothing else of the engine.
 */
#ifndef SLUICE_CONNECTORS_H
#define SLUICE_CONNECTORS_H

#include "source.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief Spark's socketTextStream: lines read from host:port. Reconnects
 * with back-off (receiver.reconnect_min .. receiver.reconnect_max) when the
 * server is not up or goes away, warning (rate-limited) with the attempt
 * count and the last error; sl_receiver_stream_stats counts the attempts.
 * After receiver.max_connect_attempts consecutive failures or
 * receiver.connect_give_up_after without a connection (0 = never, the
 * default for both) the context fails with SL_EIO and a message naming
 * host and port; a host that does not resolve fails it with SL_ENOTFOUND.
 * conf (borrowed, may be NULL: the context's) supplies
 * receiver.connect_timeout, receiver.reconnect_min, receiver.reconnect_max,
 * receiver.max_connect_attempts and receiver.connect_give_up_after for this
 * stream; the size limits (receiver.max_line_bytes, receiver.block_bytes,
 * receiver.max_buffered_bytes) always come from the context's conf.
 */
SL_EXPORT sl_dstream *sl_socket_text_stream(sl_context *ctx, const char *host,
                                            int port, const sl_conf *conf);
/*
 * With receiver.listen true (in conf, else the context's conf) the stream
 * is a server instead: at the context's start it listens on host:port
 * (every address host resolves to, SO_REUSEADDR; port 0 = a free port,
 * logged as "listening on ADDR:PORT" and given by sl_socket_stream_port)
 * and reads the lines of any number of clients, each line one client's
 * bytes. A client that shuts down its sending side has its unterminated
 * last line taken and its connection closed; one still connected at the
 * stop has its unterminated line dropped and counted. A host that does not
 * resolve or an address that cannot be bound (port taken) fails the start
 * with a message naming host:port. Accepted clients count as successful
 * connect attempts in sl_receiver_stream_stats.
 */

/**
 * @brief The port a listening socket stream (receiver.listen) is bound to.
 * @returns the port once the context's start has bound it, 0 before (or
 * after a failed start), SL_EINVAL for any other stream.
 * @remark Any thread.
 */
SL_EXPORT int sl_socket_stream_port(sl_dstream *s);

/**
 * @brief Spark's queueStream: each pushed batch is consumed by one batch
 * interval, split into `partitions` partitions by position; an exhausted
 * queue gives empty batches.
 */
SL_EXPORT sl_dstream *sl_queue_stream(sl_context *ctx, size_t partitions);
/** @brief Append a batch (values deep-copied). Thread-safe. */
SL_EXPORT sl_status sl_queue_stream_push(sl_dstream *queue,
                                         const sl_value *values, size_t n);
/** @brief Append a "no batch" entry (Spark's None). Thread-safe. */
SL_EXPORT sl_status sl_queue_stream_push_none(sl_dstream *queue);
/**
 * @brief Give a queue stream the options of conf that concern it, before
 * start: with `queue.schema` (a DDL string) each record pushed must be a
 * string holding a JSON object, which becomes a row of that schema by
 * field name (missing fields null; timestamps as ISO-8601 text;
 * docs/sql.md, "Reading rows") and the stream's sl_dstream_schema is set.
 * A record that is no such row is malformed: counted, written to the
 * dead-letter file (conf's `dead_letter`, else the context's) with
 * reason "malformed", and handled by `queue.parse_mode`: permissive (a
 * row of nulls, `_corrupt_record` holding the text), drop_malformed (no
 * row) or fail_fast (the batch and the job fail, naming the queue entry
 * and record). Records are made rows when a batch is planned, on the job
 * thread. Without queue.schema nothing changes.
 * @returns SL_OK; SL_EINVAL (no queue or conf), SL_ESTATE (after start,
 * or a schema set already), SL_EPARSE (a bad schema: the message is on
 * the context), SL_ECONF, SL_EIO (the dead-letter file), SL_ENOMEM.
 */
SL_EXPORT sl_status sl_queue_stream_set_conf(sl_dstream *queue,
                                             const sl_conf *conf);

/**
 * @brief Spark's rate source: rate.rows_per_second rows per second, each a
 * tuple [timestamp ms, value] with value counting from 0, spread over
 * rate.partitions partitions. conf borrowed; NULL means the property
 * table's defaults (not the context's conf).
 */
SL_EXPORT sl_dstream *sl_rate_stream(sl_context *ctx, const sl_conf *conf);

/**
 * @brief Deterministic text: generator.lines_per_batch lines per batch of
 * generator.words_per_line words drawn from a Zipf(generator.zipf_s)
 * vocabulary of generator.vocabulary words, seeded by generator.seed.
 * conf borrowed; NULL means the property table's defaults.
 */
SL_EXPORT sl_dstream *sl_text_generator_stream(sl_context *ctx,
                                               const sl_conf *conf);

/**
 * @brief The directory source (Spark's textFileStream and Structured
 * Streaming's file source): every complete file that appears in dir (or
 * was there, with file.include_existing) is read once, line by line, as
 * records of file.format. conf (borrowed; NULL = defaults) supplies the
 * file.* options (docs/programming-guide.md lists them) and the context's
 * receiver.max_line_bytes limits lines. Files are chosen on the job thread
 * and read on the workers; a file that cannot be read is reported by name,
 * counted and skipped.
 */
SL_EXPORT sl_dstream *sl_file_stream(sl_context *ctx, const char *dir,
                                     const sl_conf *conf);
/** @brief Spark's textFileStream: sl_file_stream with the defaults. */
SL_EXPORT sl_dstream *sl_text_file_stream(sl_context *ctx, const char *dir);

/** @brief Counters of a directory source, readable from any thread. */
typedef struct sl_file_stats {
    int64_t files_found;     /* complete files found (taken or waiting) */
    int64_t files_taken;     /* files put into batches */
    int64_t files_failed;    /* files (or splits of one) not read: skipped */
    int64_t files_too_old;   /* waited longer than file.max_file_age */
    int64_t files_cleaned;   /* deleted or archived after their batch */
    int64_t files_waiting;   /* complete, waiting for a batch with room */
    int64_t lines;           /* lines read */
    int64_t malformed;       /* lines not of the record format */
    int64_t lines_too_long;  /* lines over receiver.max_line_bytes */
    int64_t bytes;           /* bytes read (decompressed) */
    int64_t files_too_large; /* over file.max_decompressed_bytes: cut */
} sl_file_stats;

/** @brief Counters of the directory source behind s. */
SL_EXPORT sl_status sl_file_stream_stats(sl_dstream *s, sl_file_stats *out);

/**
 * @brief The Kafka source (Spark's Kafka source, a planned source over
 * librdkafka): each batch takes, per partition, the records after the
 * last batch's up to the partition's end, at most
 * kafka.source.max_records_per_partition, read on the workers; with a
 * checkpoint the ranges are recorded before the batch runs and re-read on
 * replay (exactly-once input). topics is a comma-separated list (NULL or
 * "": kafka.source.topics, or kafka.source.pattern); conf (borrowed; NULL
 * = the context's) supplies the kafka.source.* options and any librdkafka
 * property as kafka.NAME (kafka.bootstrap.servers is required).
 * docs/programming-guide.md, "Kafka".
 * @returns the stream, or NULL with the reason in sl_context_errmsg().
 */
SL_EXPORT sl_dstream *sl_kafka_stream(sl_context *ctx, const char *topics,
                                      const sl_conf *conf);

#ifdef __cplusplus
}
#endif
#endif /* SLUICE_CONNECTORS_H */
