/*
 * sluice streaming API: the StreamingContext (sl_context), DStreams and their
 * operators, output operations, listeners and the life cycle (start, stop,
 * await). Spark Streaming's names in snake_case; Spark's semantics.
 *
 * Threads: per-record functions (map, filter, reduce, ...) run on worker
 * threads, concurrently across partitions; per-batch callbacks (foreach_rdd,
 * transform, listeners) run on the job thread, one batch at a time, in batch
 * order; no user code runs on the I/O thread.
 */
#ifndef SLUICE_STREAM_H
#define SLUICE_STREAM_H

#include "core.h"
#include "rdd.h"
#include "schema.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @brief A streaming context: the graph, the clock and the threads. */
typedef struct sl_context sl_context;
/** @brief A discretized stream: one RDD per batch (opaque, ctx-owned). */
typedef struct sl_dstream sl_dstream;

/* ---------------------------------------------------------------- context */

/**
 * @brief A new streaming context configured by conf (batch_interval, clock,
 * max_batches, workers, log.level, receiver.*). Takes ownership of conf on
 * success only; conf may be NULL for all defaults.
 * @returns NULL on failure with the reason in errbuf.
 */
SL_EXPORT sl_context *sl_context_new(sl_conf *conf, char *errbuf,
                                     size_t errlen);
/**
 * @brief Stop (immediately, if running) and free the context, its streams
 * and its sources. Accepts NULL.
 */
SL_EXPORT void sl_context_free(sl_context *ctx);
/** @brief Last error message (borrowed; valid until the next call). */
SL_EXPORT const char *sl_context_errmsg(const sl_context *ctx);
/**
 * @brief The status of the last error, the one sl_context_errmsg()
 * describes (SL_OK before any error).
 * @returns SL_EINVAL for a NULL ctx.
 */
SL_EXPORT sl_status sl_context_errcode(const sl_context *ctx);
/** @brief The RDD engine the context runs batches on (borrowed). */
SL_EXPORT sl_engine *sl_context_engine(sl_context *ctx);
/** @brief Batch interval in milliseconds. */
SL_EXPORT int64_t sl_context_batch_interval(const sl_context *ctx);
/** @brief Redirect the context's log (default: stderr). Before start. */
SL_EXPORT void sl_context_set_logger(sl_context *ctx, sl_log_fn fn, void *user);
/**
 * @brief Log through the context's logger (printf-style); callable from
 * any thread, e.g. by connectors reporting a file they had to skip.
 */
SL_EXPORT void sl_context_log(sl_context *ctx, sl_log_level level,
                              const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/**
 * @brief Keep every stream's batches for at least ms milliseconds (Spark's
 * StreamingContext.remember), so slice() can reach back that far.
 */
SL_EXPORT sl_status sl_context_remember(sl_context *ctx, int64_t ms);

/**
 * @brief Start receiving and running batches. The graph is frozen: adding
 * streams or outputs afterwards fails with SL_ESTATE.
 */
SL_EXPORT sl_status sl_context_start(sl_context *ctx);
/**
 * @brief Builds a context and its whole graph: the create function of
 * sl_context_get_or_create. Returns NULL with the reason in errbuf.
 */
typedef sl_context *(*sl_context_create_fn)(void *user, char *errbuf,
                                            size_t errlen);

/**
 * @brief A context that goes on from the checkpoint in dir (Spark's
 * StreamingContext.getOrCreate).
 *
 * create builds the context with every source, stream and output, named
 * (sl_dstream_set_name on each source, stateful and window stream). It is
 * called every time, first start or restart: C functions cannot be read
 * back from a checkpoint, so the graph always comes from the code and the
 * checkpoint gives where it goes on. The context's checkpoint.path is set
 * to dir (a different one set by create is an error); dir is created when
 * missing. With a checkpoint already in dir, the job must be compatible
 * (same batch interval, state shards, pipeline shape, names and operator
 * parameters; sinks, workers and log level may change): sl_context_start
 * then re-runs the batches without a commit, restores state and windows
 * to the last commit, skips initial state and continues batch ids and
 * times. Nothing runs before sl_context_start.
 * @param dir the checkpoint directory
 * @param create builds the context; called once, on the caller's thread
 * @param user passed to create
 * @param errbuf receives the reason of a failure (may be NULL)
 * @param errlen size of errbuf
 * @returns the context (free with sl_context_free), or NULL: create
 * failed, the checkpoint is incompatible (the message names what
 * changed), a file of it is torn or corrupt (named with the reason), or a
 * source or stateful stream has no name.
 */
SL_EXPORT sl_context *sl_context_get_or_create(const char *dir,
                                               sl_context_create_fn create,
                                               void *user, char *errbuf,
                                               size_t errlen);

/**
 * @brief Check, without changing anything, whether the built context ctx
 * (not started) could go on from the checkpoint in dir.
 * @returns SL_OK when it is compatible or dir holds no checkpoint yet;
 * SL_ECONF when the job differs (sl_context_errmsg names each change, as
 * "batch interval changed from 1000 ms to 2000 ms"); SL_ECORRUPT or
 * SL_EIO for an unreadable metadata file (named); SL_EINVAL for an
 * unnamed source or stateful stream; SL_ENOMEM.
 */
SL_EXPORT sl_status sl_context_check_checkpoint(sl_context *ctx,
                                                const char *dir);

/**
 * @brief Stop. Graceful: stop reading (receivers stop; file reads in
 * progress are cut short at their next chunk, sl_task_interrupted), seal
 * the open blocks, run every queued batch, flush sinks; if that takes longer
 * than stop.graceful_timeout, go on as an immediate stop. Immediate: start
 * no further batch (the one running completes) and drop the queued ones.
 * What either left undone is in sl_context_stop_report().
 * Safe from any thread but sluice's own (callbacks and user functions get
 * SL_ESTATE: they use sl_context_request_stop).
 */
SL_EXPORT sl_status sl_context_stop(sl_context *ctx, bool graceful);
/** @brief Ask for a stop without waiting; callable from any thread. */
SL_EXPORT void sl_context_request_stop(sl_context *ctx, bool graceful);
/**
 * @brief Block until the context has stopped (by stop(), max_batches or a
 * failure). @returns SL_OK after a clean stop, else the failure's status.
 */
SL_EXPORT sl_status sl_context_await_termination(sl_context *ctx);
/**
 * @brief Whether the started context has stopped (by stop(), max_batches,
 * available_now or a failure); then await_termination returns at once.
 * false for NULL or a context not started.
 */
SL_EXPORT bool sl_context_terminated(sl_context *ctx);
/**
 * @brief As await_termination, SL_ETIMEDOUT if still running after ms.
 * A context that failed with SL_ETIMEDOUT (a read that timed out) gives
 * SL_ETIMEDOUT too once it has stopped: a wait loop asks
 * sl_context_terminated, not the status, whether to go on waiting.
 */
SL_EXPORT sl_status sl_context_await_termination_or_timeout(sl_context *ctx,
                                                            int64_t ms);
/** @brief Received records that a stop left unprocessed. */
SL_EXPORT int64_t sl_context_unprocessed_records(const sl_context *ctx);

/**
 * @brief Ill-formed UTF-8 sequences that the context's JSON outputs
 * (print_json) wrote as U+FFFD so far; any thread.
 */
SL_EXPORT int64_t sl_context_json_replacements(const sl_context *ctx);

/** @brief Records set aside so far: bad records and dead letters. */
typedef struct sl_bad_record_stats {
    /** Values a job's built-in function could not handle, left out under
     * on_bad_record "skip". */
    int64_t skipped;
    /** ... left out under on_bad_record "dead_letter" (each also counted
     * below as written or failed). */
    int64_t dead_lettered;
    /** Lines appended to the context's dead-letter files, whatever the
     * reason and origin (sources' and the job's). */
    int64_t dead_letters_written;
    /** Dead letters whose write failed (disk full, I/O error): lost, and
     * reported as errors (at most one log line per 10 s). */
    int64_t dead_letters_failed;
    /** Socket sources' dead letters never written because more than 4 MiB
     * of them waited for the disk (reported as failed ones are). */
    int64_t dead_letters_dropped;
    /** Input rows of SQL streams set aside by their reject_when (each
     * also counted above as written or failed when the job has a
     * dead-letter file). */
    int64_t rejected;
    /** Rows of SQL stream aggregations dropped as behind the event-time
     * watermark (each also a dead letter when there is a file). */
    int64_t late;
} sl_bad_record_stats;

/**
 * @brief The context's counts of records set aside (on_bad_record, dead
 * letters), for a program that shows them without reading logs.
 * @returns SL_OK, or SL_EINVAL for a NULL argument.
 * @remark Any thread, also after the context stopped (until it is freed).
 */
SL_EXPORT sl_status sl_context_bad_record_stats(const sl_context *ctx,
                                                sl_bad_record_stats *out);

/** @brief What a stop left undone. */
typedef struct sl_stop_report {
    /** Records received or planned that no batch processed (dropped
     * batches, interrupted batches, input not sealed into a batch). */
    int64_t unprocessed_records;
    /** Batches dropped from the queue or interrupted while running. */
    int64_t unprocessed_batches;
    /** Unterminated lines of connections still open at the stop: not
     * lines yet, so dropped and counted here (not records). */
    int64_t partial_lines;
    /** The graceful stop ran past stop.graceful_timeout. */
    bool timed_out;
} sl_stop_report;

/**
 * @brief Fill *out with what the stop left undone; meaningful once the
 * context has terminated (zeros before). True input left behind is
 * unprocessed_records > 0 or unprocessed_batches > 0 (streamctl's exit
 * status 4).
 */
SL_EXPORT sl_status sl_context_stop_report(const sl_context *ctx,
                                           sl_stop_report *out);

/* --------------------------------------------------------------- listener */

/** @brief What a listener is told about one batch. Times are epoch ms. */
typedef struct sl_batch_info {
    int64_t batch_id;
    int64_t batch_time_ms;
    int64_t num_records;   /* records in the batch's input streams */
    int64_t submission_ms; /* when the batch was queued */
    int64_t start_ms;      /* processing started (0 before) */
    int64_t end_ms;        /* processing finished (0 before) */
    int64_t scheduling_delay_ms;
    int64_t processing_ms;
    int64_t total_delay_ms;
    sl_status status; /* SL_OK, or why the batch failed */
    /* Ticks absorbed into this batch because batches waited to run
     * (max_queued_batches): ids batch_id - absorbed_ticks .. batch_id - 1
     * never exist. */
    int64_t absorbed_ticks;
    /* The offsets each planned source recorded for this batch, in the
     * order the sources were made (valid during the callback only;
     * 0 and NULL before the batch was planned, in on_batch_submitted). */
    size_t num_sources;
    const struct sl_source_offsets *sources;
} sl_batch_info;

/** @brief One planned source's recorded input of a batch. */
typedef struct sl_source_offsets {
    const char *name;    /* sl_dstream_name of the source, or its type */
    const char *offsets; /* JSON from sl_plan_set_offsets, or NULL */
    int64_t records;     /* records planned */
} sl_source_offsets;

/** @brief Batch listener; all members optional. Runs on the job thread. */
typedef struct sl_listener {
    int version; /* SL_LISTENER_VERSION */
    void (*on_batch_submitted)(const sl_batch_info *b, void *user);
    void (*on_batch_started)(const sl_batch_info *b, void *user);
    void (*on_batch_completed)(const sl_batch_info *b, void *user);
    /* ------------------------------------------------ version 2 */
    /** After on_batch_completed of a batch that ran without failing: its
     * progress entry, one JSON object (json[len] is NUL; valid during the
     * call only). Its fields are listed in docs/architecture.md
     * (progress); later versions add fields, never rename them. */
    void (*on_progress)(const char *json, size_t len, void *user);
} sl_listener;
#define SL_LISTENER_VERSION 2

/**
 * @brief Add a listener (copied; only the members its version has are
 * read). Before start.
 */
SL_EXPORT sl_status sl_context_add_listener(sl_context *ctx,
                                            const sl_listener *l, void *user);

/**
 * @brief The last progress entries the context kept (conf progress.retain,
 * default 100), oldest first, as one JSON array.
 * @param max at most this many, the newest (0: every one kept).
 * @param out the array's text, NUL-terminated; free it with sl_free.
 * @param len its length without the NUL (may be NULL).
 * @returns SL_OK, SL_EINVAL, SL_ENOMEM.
 * @remark Any thread, also while batches run and after the context stopped.
 */
SL_EXPORT sl_status sl_context_recent_progress(sl_context *ctx, size_t max,
                                               char **out, size_t *len);

/* -------------------------------------------------------------- operators */

/*
 * Every operator returns a new stream owned by the context, or NULL on
 * failure with the reason in sl_context_errmsg(). A NULL input stream
 * yields NULL, so a chain can be checked once at its end.
 */

/**
 * @brief The most streams on any path of a context's graph, its source
 * counted: an operator that would make a longer path fails with SL_EINVAL.
 * @remark Each batch computes the graph and runs fused stages by recursion
 * along such a path; the limit keeps that within a 1 MiB thread stack.
 */
#define SL_MAX_STREAM_DEPTH 1024

SL_EXPORT sl_context *sl_dstream_context(sl_dstream *s);
SL_EXPORT sl_dstream *sl_dstream_map(sl_dstream *s, sl_map_fn fn, void *user);
SL_EXPORT sl_dstream *sl_dstream_flat_map(sl_dstream *s, sl_flat_map_fn fn,
                                          void *user);
SL_EXPORT sl_dstream *sl_dstream_filter(sl_dstream *s, sl_filter_fn fn,
                                        void *user);
SL_EXPORT sl_dstream *sl_dstream_map_partitions(sl_dstream *s,
                                                sl_partition_fn fn, void *user);
SL_EXPORT sl_dstream *sl_dstream_glom(sl_dstream *s);
SL_EXPORT sl_dstream *sl_dstream_map_values(sl_dstream *s, sl_map_fn fn,
                                            void *user);
SL_EXPORT sl_dstream *sl_dstream_flat_map_values(sl_dstream *s,
                                                 sl_flat_map_fn fn, void *user);
/** @param partitions output partitions, 0 = the parent's count. */
SL_EXPORT sl_dstream *sl_dstream_reduce_by_key(sl_dstream *s, sl_reduce_fn fn,
                                               void *user, size_t partitions);
SL_EXPORT sl_dstream *sl_dstream_group_by_key(sl_dstream *s, size_t partitions);
SL_EXPORT sl_dstream *sl_dstream_combine_by_key(sl_dstream *s, sl_map_fn create,
                                                sl_reduce_fn merge_value,
                                                sl_reduce_fn merge_combiners,
                                                void *user, size_t partitions);
/** @brief One record per batch: the number of records (int; 0 if empty). */
SL_EXPORT sl_dstream *sl_dstream_count(sl_dstream *s);
/** @brief (x, count) per distinct x in each batch. */
SL_EXPORT sl_dstream *sl_dstream_count_by_value(sl_dstream *s,
                                                size_t partitions);
/** @brief One record per non-empty batch: all records reduced with fn. */
SL_EXPORT sl_dstream *sl_dstream_reduce(sl_dstream *s, sl_reduce_fn fn,
                                        void *user);
/** @brief a's records, then b's, per batch. Same slide required. */
SL_EXPORT sl_dstream *sl_dstream_union(sl_dstream *a, sl_dstream *b);
/** @brief StreamingContext.union: n streams, in order. */
SL_EXPORT sl_dstream *sl_context_union(sl_context *ctx,
                                       sl_dstream *const *streams, size_t n);

/**
 * @brief Per-batch RDD function (job thread). Set *out to the result (any
 * RDD of the same engine, e.g. built from `in`); leaving it NULL fails the
 * job with SL_EUSER, as Spark fails a transform that returns null.
 */
typedef sl_status (*sl_transform_fn)(sl_rdd *in, int64_t time_ms, sl_rdd **out,
                                     void *user);
/** @brief Two-input per-batch RDD function (job thread). */
typedef sl_status (*sl_transform2_fn)(sl_rdd *a, sl_rdd *b, int64_t time_ms,
                                      sl_rdd **out, void *user);
/** @brief N-input per-batch RDD function (job thread). */
typedef sl_status (*sl_transform_n_fn)(sl_rdd *const *in, size_t n,
                                       int64_t time_ms, sl_rdd **out,
                                       void *user);

SL_EXPORT sl_dstream *sl_dstream_transform(sl_dstream *s, sl_transform_fn fn,
                                           void *user);
SL_EXPORT sl_dstream *sl_dstream_transform_with(sl_dstream *a, sl_dstream *b,
                                                sl_transform2_fn fn,
                                                void *user);
/** @brief StreamingContext.transform over n streams. */
SL_EXPORT sl_dstream *sl_context_transform(sl_context *ctx,
                                           sl_dstream *const *streams, size_t n,
                                           sl_transform_n_fn fn, void *user);
SL_EXPORT sl_dstream *sl_dstream_repartition(sl_dstream *s, size_t partitions);
SL_EXPORT sl_dstream *sl_dstream_join(sl_dstream *a, sl_dstream *b,
                                      size_t partitions);
SL_EXPORT sl_dstream *sl_dstream_left_outer_join(sl_dstream *a, sl_dstream *b,
                                                 size_t partitions);
SL_EXPORT sl_dstream *sl_dstream_right_outer_join(sl_dstream *a, sl_dstream *b,
                                                  size_t partitions);
SL_EXPORT sl_dstream *sl_dstream_full_outer_join(sl_dstream *a, sl_dstream *b,
                                                 size_t partitions);
SL_EXPORT sl_dstream *sl_dstream_cogroup(sl_dstream *a, sl_dstream *b,
                                         size_t partitions);
/**
 * @brief Persist each batch's RDD (Spark's DStream.persist): its records
 * are computed once and kept for the batch, so actions of several outputs
 * or streams reading it do not run the narrow functions before it again.
 * @returns s.
 */
SL_EXPORT sl_dstream *sl_dstream_persist(sl_dstream *s);

/**
 * @brief Give stream s a stable name: what identifies a source or a
 * stateful stream in a checkpoint (its offsets, its state), so a restarted
 * job finds its own. Names are unique in a context; before start. Job-file
 * streams and sources get their job-file names.
 * @param name copied; letters, digits and "_.-", 1 to 128 bytes.
 * @returns SL_OK; SL_EINVAL for a bad name, or one another stream has;
 * SL_ESTATE after start; SL_ENOMEM.
 */
SL_EXPORT sl_status sl_dstream_set_name(sl_dstream *s, const char *name);
/**
 * @brief The name sl_dstream_set_name gave s, or NULL (borrowed, valid
 * while the context lives).
 */
SL_EXPORT const char *sl_dstream_name(const sl_dstream *s);
/**
 * @brief The schema of the rows s yields, or NULL when its records are
 * plain values with no schema (every DStream operator's output, and a
 * source without a "schema" option).
 *
 * A source given a schema (file.schema, receiver.schema, queue.schema)
 * yields rows: SL_KIND_TUPLE values with one item per column in schema
 * order (docs/sql.md, "Reading rows"). The SQL layer reads it here.
 * @returns borrowed, valid while the context lives (the stream holds a
 * reference; sl_schema_retain to keep it longer).
 */
SL_EXPORT const sl_schema *sl_dstream_schema(const sl_dstream *s);

/**
 * @brief What each batch of a stream's rows means to its sinks (Spark's
 * output modes; docs/sql.md): APPEND, new rows only (every stream that is
 * not a SQL aggregation); COMPLETE, the whole result table every batch;
 * UPDATE, the rows whose key changed in the batch (the key columns:
 * sl_dstream_key_columns).
 */
typedef enum sl_output_mode {
    SL_OUTPUT_APPEND = 0,
    SL_OUTPUT_UPDATE,
    SL_OUTPUT_COMPLETE
} sl_output_mode;

/** @brief The output mode of s (SL_OUTPUT_APPEND unless a SQL stream set
 * another). */
SL_EXPORT sl_output_mode sl_dstream_output_mode(const sl_dstream *s);

/**
 * @brief The columns that identify a row of s in update and complete mode
 * (a SQL aggregation's GROUP BY keys, a window included), as indexes into
 * its schema; *n = 0 when none. Borrowed, valid while the context lives.
 */
SL_EXPORT const size_t *sl_dstream_key_columns(const sl_dstream *s, size_t *n);

/**
 * @brief Register s as the view called name for SQL streams
 * (sl_context_sql_stream): FROM name reads each batch of s as rows. A
 * stream with a schema (sl_dstream_schema) gives its rows; one without
 * gives one column `value string` (a string record as it is, any other
 * record as its JSON text), as Spark's socket and text sources. Names
 * are matched case-insensitively; name is copied.
 * @returns SL_OK; SL_EINVAL (NULL or empty name, a name taken by another
 * stream), SL_ESTATE (after start), SL_ENOMEM.
 */
SL_EXPORT sl_status sl_dstream_register_view(sl_dstream *s, const char *name);

/**
 * @brief sl_dstream_register_view with the view's schema given: a record
 * that is a tuple of as many items as columns gives them by position, a
 * pair gives (key, value) to a two-column schema, anything else fills the
 * one column of a one-column schema. An item whose kind the column's type
 * does not hold becomes NULL (a string column takes any record as its
 * JSON text). The rate source's tuples read as `timestamp timestamp,
 * value long`, as Spark's. schema is retained.
 */
SL_EXPORT sl_status sl_dstream_register_view_schema(sl_dstream *s,
                                                    const char *name,
                                                    const sl_schema *schema);

/**
 * @brief Spark's withWatermark: s's rows carry their event time in the
 * timestamp column `column` (of s's schema, else of its view's), and the
 * context's watermark follows it: after each batch, the greatest event
 * time s has shown minus delay_ms (several streams combine by the
 * `watermark_policy` property: min, the default, or max), used from the
 * next batch on, never moving back. SQL streams over s drop rows behind it
 * (counted, dead letters of reason "late"), evict state below it and emit
 * append-mode windows once it passes their end (docs/sql.md "Event time
 * and watermarks"). The watermark is in the checkpoint and the progress
 * entry's `event_time`.
 * @returns SL_OK; SL_EINVAL (no such timestamp column, negative delay, a
 * stream without schema), SL_ESTATE (after start), SL_ENOMEM.
 */
SL_EXPORT sl_status sl_dstream_set_watermark(sl_dstream *s, const char *column,
                                             int64_t delay_ms);

/**
 * @brief A SQL stream (docs/sql.md "Streaming queries"): query (Spark SQL
 * 3.5) over the views of ctx, run every batch. Projections, filters,
 * explode and joins with static tables run per batch (append mode; update
 * is taken as append); GROUP BY keeps a running aggregation in the keyed
 * state store, output in update mode (the keys changed in the batch) or
 * complete mode (every key each batch; ORDER BY and LIMIT only here). The
 * stream's schema is the query's result; its key columns are the GROUP BY
 * keys found in the select list. Name the stream (sl_dstream_set_name)
 * for a checkpoint to restore the running aggregation.
 * @returns the stream, or NULL with the error in errbuf: a parse or
 * binding error as "line L, column C: message" with the query's line and
 * a caret line, or an output-mode rule of Spark's.
 */
SL_EXPORT sl_dstream *sl_context_sql_stream(sl_context *ctx, const char *query,
                                            sl_output_mode mode, char *errbuf,
                                            size_t errlen);

/**
 * @brief The union of the remembered batches of s whose time t satisfies
 * from_ms <= t <= to_ms (both aligned down to s's slide), as Spark's
 * DStream.slice; called from a batch callback it includes the batch being
 * run. Call it from the job thread (a batch callback) or after the context
 * stopped; SL_ESTATE otherwise, and before start. From a batch callback,
 * *out may be used until that batch's outputs end (not in listeners);
 * after the stop, until sl_context_free.
 */
SL_EXPORT sl_status sl_dstream_slice(sl_dstream *s, int64_t from_ms,
                                     int64_t to_ms, sl_rdd **out);

/* ---------------------------------------------------------------- windows */

/*
 * Windowed operators, with Spark's semantics. Lengths and slides are in
 * milliseconds and must be multiples of the parent stream's slide (a slide
 * of 0 means the parent's); anything else fails here, when the pipeline is
 * built. A stream with slide k intervals produces a batch every k-th
 * interval, covering the parent's batches with times in (t - length, t].
 * The parent's batches are kept as compacted copies for as long as a window
 * covers them and freed when they slide out.
 */

/** @brief Every record of the parent's batches in the window, in order. */
SL_EXPORT sl_dstream *sl_dstream_window(sl_dstream *s, int64_t length_ms,
                                        int64_t slide_ms);
/** @brief One record per window: the number of records in it (int). */
SL_EXPORT sl_dstream *sl_dstream_count_by_window(sl_dstream *s,
                                                 int64_t length_ms,
                                                 int64_t slide_ms);
/**
 * @brief One record per window: its records reduced with fn. Without an
 * inverse (NULL) an empty window gives no record; with one the window is
 * updated incrementally and, as in Spark, a window that emptied after
 * holding records gives the inverse's result (0 for sum and subtract).
 */
SL_EXPORT sl_dstream *sl_dstream_reduce_by_window(sl_dstream *s,
                                                  sl_reduce_fn fn,
                                                  sl_reduce_fn inverse,
                                                  void *user, int64_t length_ms,
                                                  int64_t slide_ms);
/**
 * @brief Values per key reduced over the window. Without an inverse the
 * window's per-batch partial results are merged at every slide; with one
 * it is updated incrementally, new = previous + entering - leaving, and
 * filter (may be NULL) then drops the pairs it rejects, e.g. keys whose
 * value is back at zero. fn, inverse and filter share user.
 */
SL_EXPORT sl_dstream *sl_dstream_reduce_by_key_and_window(
    sl_dstream *s, sl_reduce_fn fn, sl_reduce_fn inverse, sl_filter_fn filter,
    void *user, int64_t length_ms, int64_t slide_ms, size_t partitions);
/** @brief (x, count) over the window; keys whose count is 0 are dropped. */
SL_EXPORT sl_dstream *sl_dstream_count_by_value_and_window(sl_dstream *s,
                                                           int64_t length_ms,
                                                           int64_t slide_ms,
                                                           size_t partitions);
/** @brief (k, [v...]) over the window, values in batch order. */
SL_EXPORT sl_dstream *sl_dstream_group_by_key_and_window(sl_dstream *s,
                                                         int64_t length_ms,
                                                         int64_t slide_ms,
                                                         size_t partitions);
/** @brief The slide of s in milliseconds (its batch period). */
SL_EXPORT int64_t sl_dstream_slide(const sl_dstream *s);

/* ------------------------------------------------------------------ state */

/**
 * @brief Spark's updateStateByKey function (workers): key, its values in
 * this batch (a list, empty when the key only has state), its state (NULL
 * when it has none). Set *new_state, or set *remove to drop the key's
 * state (Spark's None). sl_task_time(t) is the batch time.
 */
typedef sl_status (*sl_update_state_fn)(sl_task *t, const sl_value *key,
                                        const sl_value *values,
                                        const sl_value *state,
                                        sl_value *new_state, bool *remove,
                                        void *user);

/**
 * @brief State per key carried across batches: every batch, fn runs for
 * each key with new values or with state, and the stream's batch is every
 * (key, state) after the update. State lives in a store sharded by the key
 * hash into conf "state.shards" shards and versioned per batch (a batch's
 * writes are committed after its outputs succeed, dropped if it fails).
 * @param initial optional initial state: n (key, state) pairs, copied.
 */
SL_EXPORT sl_dstream *sl_dstream_update_state_by_key(sl_dstream *s,
                                                     sl_update_state_fn fn,
                                                     void *user,
                                                     const sl_value *initial,
                                                     size_t n);

/** @brief A key's state inside a map_with_state function (opaque). */
typedef struct sl_state sl_state;

/** @brief True when the key has state (Spark's State.exists). */
SL_EXPORT bool sl_state_exists(const sl_state *st);
/**
 * @brief The key's state (a copy in task memory), or NULL when it has
 * none.
 */
SL_EXPORT const sl_value *sl_state_get(sl_state *st);
/**
 * @brief Set the key's state (copied). SL_ESTATE for a state that is
 * timing out, as Spark refuses it.
 */
SL_EXPORT sl_status sl_state_update(sl_state *st, const sl_value *v);
/** @brief Remove the key's state. SL_ESTATE when timing out or absent. */
SL_EXPORT sl_status sl_state_remove(sl_state *st);
/** @brief True in the call made for a key whose state timed out. */
SL_EXPORT bool sl_state_is_timing_out(const sl_state *st);

/**
 * @brief Spark's mapWithState function (workers): called once per input
 * record (key, value), in order per key, and once with value NULL for a key
 * whose state timed out. It reads and changes the state through st and
 * emits zero or more mapped records with sl_task_emit; sl_task_time(t) is
 * the batch time.
 */
typedef sl_status (*sl_map_with_state_fn)(sl_task *t, const sl_value *key,
                                          const sl_value *value, sl_state *st,
                                          void *user);

/**
 * @brief Spark's mapWithState: the stream of mapped records. State lives
 * in the same sharded, versioned store as update_state_by_key's. With
 * timeout_ms > 0, a key not updated for longer than the timeout (its last
 * update older than batch time - timeout) gets one call with value NULL
 * and a timing-out state, then its state is removed; keys are checked at
 * every batch.
 * @param initial optional initial state: n (key, state) pairs, copied.
 */
SL_EXPORT sl_dstream *sl_dstream_map_with_state(sl_dstream *s,
                                                sl_map_with_state_fn fn,
                                                void *user, int64_t timeout_ms,
                                                const sl_value *initial,
                                                size_t n);
/**
 * @brief Spark's stateSnapshots: every (key, state) of a map_with_state
 * stream after each batch's updates.
 */
SL_EXPORT sl_dstream *sl_dstream_state_snapshots(sl_dstream *mapped);

/* ---------------------------------------------------------------- outputs */

/**
 * @brief Per-batch output callback (job thread). sl_rdd_batch_id(rdd) is
 * the batch's id, the same when a restart runs the batch again.
 */
typedef sl_status (*sl_foreach_rdd_fn)(sl_rdd *rdd, int64_t time_ms,
                                       void *user);

SL_EXPORT sl_status sl_dstream_foreach_rdd(sl_dstream *s, sl_foreach_rdd_fn fn,
                                           void *user);
/**
 * @brief Print each batch as Spark's print(num): a dashes line,
 * "Time: <ms> ms", a dashes line, the first num records, "..." if there are
 * more, a blank line. num = 0 means 10. Writes to stdout.
 * @remark A sink (sink.h) of type "console": at-least-once across a crash
 * (a batch re-run from a checkpoint prints again).
 */
SL_EXPORT sl_status sl_dstream_print(sl_dstream *s, size_t num);
/**
 * @brief Print each batch as one line of JSON on stdout, flushed:
 * {"batch":ID,"time_ms":MS,"stream":"NAME","records":[...]}, records as
 * sl_value_format_json writes them; when the stream has a schema
 * (sl_dstream_schema), each record is a row printed as an object of its
 * columns in schema order, typed (timestamps as ISO-8601 text, binary as
 * base64; docs/sql.md "Printing rows"). name is copied.
 */
SL_EXPORT sl_status sl_dstream_print_json(sl_dstream *s, const char *name);
/**
 * @brief Print each batch as Spark's console sink does: a dashes line,
 * "Batch: <id>", a dashes line, then the batch as Dataset.show(num)
 * prints it (a bordered table, cells cut to 20 characters, "only showing
 * top num rows" when there are more). A stream without a schema shows
 * one column "value" with each record's text. num = 0 means 20.
 * @remark A sink of type "console", at-least-once across a crash.
 */
SL_EXPORT sl_status sl_dstream_print_table(sl_dstream *s, size_t num);
/**
 * @brief Save each batch under "PREFIX-<time ms>[.SUFFIX]" (a folder of
 * part-NNNNN files); empty batches still write their folder. suffix may be
 * NULL.
 * @remark A batch run again replaces its own folder: it is written under a
 * hidden staging name and renamed into place. A name or path too long
 * (NAME_MAX with the staging decoration, PATH_MAX) fails the batch with
 * SL_EINVAL.
 */
SL_EXPORT sl_status sl_dstream_save_as_text_files(sl_dstream *s,
                                                  const char *prefix,
                                                  const char *suffix);

#ifdef __cplusplus
}
#endif
#endif /* SLUICE_STREAM_H */
