/*
 * sluice source interface: the two kinds of source connectors plug into.
 * Receiver sources push bytes into blocks on the I/O thread; planned sources
 * are asked on the job thread what each batch holds, and worker tasks read
 * the partitions they describe. Method tables start with a version number
 * and are only ever appended to.
 */
#ifndef SLUICE_SOURCE_H
#define SLUICE_SOURCE_H

#include "core.h"
#include "rdd.h"
#include "stream.h"

#ifdef __cplusplus
extern "C" {
#endif

struct event_base;

/**
 * @brief Record why a connector's constructor failed, so the caller finds
 * it in sl_context_errmsg() after the constructor returns NULL.
 * @returns st, for `return sl_context_set_error(...)`-style use.
 */
SL_EXPORT sl_status sl_context_set_error(sl_context *ctx, sl_status st,
                                         const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ------------------------------------------------------- receiver sources */

/** @brief The engine side of a running receiver (opaque). */
typedef struct sl_receiver sl_receiver;

/**
 * @brief A receiver source. Every method runs on the I/O thread except
 * free, which runs on whichever thread frees the context after the I/O
 * thread has ended.
 */
typedef struct sl_receiver_ops {
    int version; /* SL_RECEIVER_OPS_VERSION */
    const char *name;
    /** Begin receiving; register events on sl_receiver_event_base(r). */
    sl_status (*start)(void *state, sl_receiver *r);
    /** Stop reading for good and release descriptors (stop, shutdown). */
    void (*stop)(void *state);
    /** Buffered input passed receiver.max_buffered_bytes: stop reading. */
    void (*pause)(void *state);
    /** Buffered input fell back under the bound: read again. */
    void (*resume)(void *state);
    /** Free the state. */
    void (*free)(void *state);
} sl_receiver_ops;
#define SL_RECEIVER_OPS_VERSION 1

/**
 * @brief A stream of text lines fed by a receiver. The context owns state
 * from then on (ops->free releases it), also on failure.
 */
SL_EXPORT sl_dstream *sl_receiver_stream(sl_context *ctx,
                                         const sl_receiver_ops *ops,
                                         void *state);
/** @brief The I/O thread's libevent loop. */
SL_EXPORT struct event_base *sl_receiver_event_base(sl_receiver *r);
/**
 * @brief Writable space at the end of the open block, at least 1 byte and
 * at most *len bytes (*len is set to what is given). NULL when out of
 * memory. Blocks are allocated by the engine: receivers never allocate
 * record memory themselves.
 */
SL_EXPORT char *sl_receiver_buffer(sl_receiver *r, size_t *len);
/**
 * @brief The first n bytes of the space sl_receiver_buffer gave now hold
 * data. Lines longer than receiver.max_line_bytes are dropped here, up to
 * their newline, and counted.
 */
SL_EXPORT void sl_receiver_commit(sl_receiver *r, size_t n);
/**
 * @brief The stream of bytes ended (peer closed, or reset): an unterminated
 * last line becomes a line, as Spark's socket receiver does.
 */
SL_EXPORT void sl_receiver_end_of_stream(sl_receiver *r);
/**
 * @brief One input of a receiver that reads several at once (a listening
 * socket's clients): its own unterminated last line and over-long line, so
 * that the lines of concurrent inputs are never mixed (opaque).
 */
typedef struct sl_receiver_channel sl_receiver_channel;
/**
 * @brief A new channel of r, with no line yet.
 * @returns the channel (release with sl_receiver_channel_free), or NULL
 * when out of memory.
 * @remark I/O thread.
 */
SL_EXPORT sl_receiver_channel *sl_receiver_channel_new(sl_receiver *r);
/**
 * @brief From now on sl_receiver_buffer, sl_receiver_commit and
 * sl_receiver_end_of_stream continue ch's line (NULL: the receiver's own,
 * what a receiver without channels uses); the line of the channel used
 * until now is set aside, at most receiver.max_line_bytes copied.
 * @returns SL_OK, or SL_ENOMEM (nothing changed: try again later).
 * @remark I/O thread. A receiver that uses channels should not also use
 * its own line.
 */
SL_EXPORT sl_status sl_receiver_channel_use(sl_receiver *r,
                                            sl_receiver_channel *ch);
/**
 * @brief Release ch (NULL is fine). An unterminated line it still holds is
 * dropped and counted as a partial line (its input ended without it:
 * call sl_receiver_end_of_stream first to keep it as a line); if ch was in
 * use, the receiver's own line is used again.
 * @remark I/O thread, or the receiver's free method.
 */
SL_EXPORT void sl_receiver_channel_free(sl_receiver *r,
                                        sl_receiver_channel *ch);
/** @brief Receiver option (receiver.*) from the context's configuration. */
SL_EXPORT int64_t sl_receiver_conf_int(sl_receiver *r, const char *name);
/** @brief Log through the context's logger, prefixed by the receiver. */
SL_EXPORT void sl_receiver_log(sl_receiver *r, sl_log_level level,
                               const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/** @brief Count one receive error (connection refused, reset, ...). */
SL_EXPORT void sl_receiver_count_error(sl_receiver *r);
/**
 * @brief Count one connection attempt and its outcome: connected is false
 * for a failed attempt, which also adds one to the consecutive failures;
 * true resets those to 0. Feeds the connect_* counters of
 * sl_receiver_stats.
 */
SL_EXPORT void sl_receiver_count_connect(sl_receiver *r, bool connected);
/**
 * @brief Say that r reaches out to its input (a client that connects, as
 * the socket source): a managed job counts as starting, not running,
 * until one of r's connection attempts (sl_receiver_count_connect)
 * succeeded. Call it from start.
 */
SL_EXPORT void sl_receiver_set_connecting(sl_receiver *r);
/**
 * @brief The receiver cannot go on (its input is unreachable for good):
 * fail the context with st and the message fmt (logged as an error,
 * prefixed by the receiver), which then stops at once; the awaiting call
 * returns st and sl_context_errmsg() gives the message. Only the first
 * failure of a context is kept. Call it on the I/O thread (from a
 * receiver method or event); the receiver's stop method follows.
 */
SL_EXPORT void sl_receiver_fail(sl_receiver *r, sl_status st, const char *fmt,
                                ...) __attribute__((format(printf, 3, 4)));

/** @brief Counters of one receiver, readable from any thread. */
typedef struct sl_receiver_stats {
    int64_t bytes;          /* committed bytes */
    int64_t lines_too_long; /* lines dropped for receiver.max_line_bytes */
    int64_t errors;         /* sl_receiver_count_error calls */
    int64_t buffered_bytes; /* memory receive blocks pin now, all receivers:
                               data in open blocks, capacity of sealed ones */
    int64_t pauses;         /* times reading was paused for the bound */
    int64_t partial_lines;  /* unterminated lines dropped at the stop */
    /* sl_receiver_count_connect: attempts so far, the failed ones among
     * them, and the failures since the last successful connection (0 while
     * connected: a receiver that cannot reach its input shows here). */
    int64_t connect_attempts;
    int64_t connect_failures;
    int64_t connect_failures_in_row;
} sl_receiver_stats;

/** @brief Counters of the receiver behind stream s (a receiver stream). */
SL_EXPORT sl_status sl_receiver_stream_stats(sl_dstream *s,
                                             sl_receiver_stats *out);

/* -------------------------------------------------------- planned sources */

/** @brief The description of one batch that a planned source fills in. */
typedef struct sl_plan sl_plan;

/**
 * @brief A planned source's own log in the checkpoint directory
 * (`sources/<source name>/`), handed to its checkpoint and recover
 * methods only (docs/checkpoint-format.md, "Source logs").
 */
typedef struct sl_source_log sl_source_log;

/** @brief A planned source's counters for progress entries (version 3). */
typedef struct sl_source_progress {
    /** Input records read so far, cumulative, for a source whose reader
     * partitions find their records while the batch runs (none announced
     * at plan): the entry's rows are what each batch added. -1: not
     * counted (the records announced at plan are the rows). */
    int64_t records;
    /** Input records set aside so far, cumulative over the source's life
     * (malformed or over-long lines); the entry shows what each batch
     * added. -1: not counted. */
    int64_t malformed;
    /** Input available to the source now but not yet in a planned batch
     * (a level, not cumulative), in the source's own unit, which its docs
     * name: records, or files for the directory source. -1: unknown. */
    int64_t lag;
} sl_source_progress;

/**
 * @brief A planned source. Methods run on the job thread.
 *
 * The life of a batch (docs/architecture.md): every planned source of a
 * batch is planned first, before anything is computed; the offsets a plan
 * sets (sl_plan_set_offsets) are kept on the batch and written to the
 * checkpoint before it runs. After a restart, a batch recorded but not
 * committed is planned again from its recorded offsets by replan, and the
 * source's position is first set after the last committed batch by
 * restore. commit comes only after every output finished the batch (and,
 * with a checkpoint, after its commit entry is durable): only then may a
 * source forget or clean up the batch's input.
 */
typedef struct sl_planned_ops {
    int version; /* SL_PLANNED_OPS_VERSION */
    const char *name;
    /** Describe batch batch_id at time_ms: add its partitions to plan and
     * set its offsets (a JSON value that replan can read back). */
    sl_status (*plan)(void *state, int64_t batch_id, int64_t time_ms,
                      sl_plan *plan);
    /** Every output of batch batch_id finished (optional). Must be
     * idempotent: with a checkpoint, the next start calls it again for
     * the last committed batch (after restore, before any plan), since a
     * crash may have cut it short. */
    void (*commit)(void *state, int64_t batch_id);
    /** Free the state. */
    void (*free)(void *state);
    /* ------------------------------------------------ version 2 */
    /**
     * Plan batch batch_id again from the offsets a plan of it recorded
     * (offsets_json, as set by sl_plan_set_offsets; never NULL): the
     * batch must get byte for byte the same input, or the call fails
     * (SL_ECORRUPT, SL_ENOTFOUND, ...) having said why with
     * sl_plan_set_error. The plan sets the same offsets again. The
     * source's position moves past the batch, as after plan; its commit
     * follows as for a planned batch. Optional: a source without it
     * cannot be replayed.
     */
    sl_status (*replan)(void *state, int64_t batch_id, int64_t time_ms,
                        const char *offsets_json, sl_plan *plan);
    /**
     * Before the first batch after a restart: the last committed batch
     * was batch_id and recorded offsets_json for this source; the next
     * plan or replan continues after it. Called at most once, before any
     * plan or replan. Optional (a source whose batches depend on the
     * batch id alone needs none). SL_EPARSE for offsets it cannot read.
     */
    sl_status (*restore)(void *state, int64_t batch_id,
                         const char *offsets_json);
    /* ------------------------------------------------ version 3 */
    /**
     * The source's counters for the progress entry, after each batch that
     * ran (optional; without it both are unknown, null in the entry).
     * Fill what the source knows; leave -1 where it does not count.
     */
    void (*progress)(void *state, sl_source_progress *out);
    /* ------------------------------------------------ version 4 */
    /**
     * With a checkpoint, after every output finished batch batch_id and
     * before its commit entry: the source may write what it must remember
     * beyond the batch's offsets (the directory source's files already
     * seen, later Kafka's offsets) with sl_source_log_write, durable with
     * the commit entry. Not writing keeps the previous version. Optional.
     * An error fails the batch (it runs again at the next start). Also
     * called with batch_id 0 at a start with nothing committed, after
     * recover and before the first batch: version 0 (synced at once)
     * keeps what the source remembers of its first start even when the
     * job dies before its first commit; an error refuses the start.
     */
    sl_status (*checkpoint)(void *state, int64_t batch_id, sl_source_log *log);
    /**
     * At every start with a checkpoint, before restore and the first
     * batch (so a source knows its checkpoint method will be called):
     * batch_id is the last committed batch, 0 for none;
     * sl_source_log_read gives the newest version the source wrote at or
     * before it (SL_ENOTFOUND: none). Optional. An error refuses the
     * start.
     */
    sl_status (*recover)(void *state, int64_t batch_id, sl_source_log *log);
    /* ------------------------------------------------ version 5 */
    /**
     * The trigger available_now (Spark's Trigger.AvailableNow), once at
     * start, after recover and restore and before any plan: fix the end
     * of the input as it is now (the entries queued, the files present, a
     * topic's end offsets); later plans take nothing beyond it. A source
     * without it has no end and refuses the trigger. SL_OK or a failure
     * said with sl_context_set_error (it refuses the start).
     */
    sl_status (*available_now)(void *state);
    /** Whether every input up to that end has been planned (job thread,
     * after each batch). Required with available_now. */
    bool (*exhausted)(void *state);
} sl_planned_ops;
#define SL_PLANNED_OPS_VERSION 5

/**
 * @brief A stream fed by a planned source. The context owns state from then
 * on (ops->free releases it), also on failure.
 */
SL_EXPORT sl_dstream *sl_planned_stream(sl_context *ctx,
                                        const sl_planned_ops *ops, void *state);
/**
 * @brief The state of planned stream s if it was made with ops, else NULL;
 * lets a connector reach its state from the stream handle (borrowed).
 */
SL_EXPORT void *sl_planned_stream_state(sl_dstream *s,
                                        const sl_planned_ops *ops);
/** @brief Add one partition holding a deep copy of values. */
SL_EXPORT sl_status sl_plan_add_values(sl_plan *p, const sl_value *values,
                                       size_t n);
/**
 * @brief Add one partition that fn reads on a worker; desc (desc_len bytes)
 * is copied and passed to fn.
 */
SL_EXPORT sl_status sl_plan_add_reader(sl_plan *p, sl_read_fn fn,
                                       const void *desc, size_t desc_len,
                                       void *user);
/**
 * @brief Add n to the batch's record count (listeners, progress) for
 * records that reader partitions will produce; values partitions count
 * themselves.
 */
SL_EXPORT void sl_plan_add_records(sl_plan *p, int64_t n);
/** @brief This batch has no data at all (Spark's None), not an empty one. */
SL_EXPORT void sl_plan_set_no_batch(sl_plan *p);
/** @brief The batch's offset range as JSON (copied), for progress/checkpoints.
 */
SL_EXPORT sl_status sl_plan_set_offsets(sl_plan *p, const char *json);
/**
 * @brief Why plan or replan is about to fail (a file replaced since it was
 * recorded, offsets it cannot read): the engine reports the message,
 * prefixed by the source and batch, when the method returns an error.
 */
SL_EXPORT void sl_plan_set_error(sl_plan *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/** @brief Number of partitions added so far. */
SL_EXPORT size_t sl_plan_partitions(const sl_plan *p);

/**
 * @brief Write the source's log for the batch being checkpointed: len
 * bytes at data become version <batch> of the log, a checked file written
 * atomically and made durable with the batch's commit entry. Older
 * versions are deleted by retention (the newest at or before the oldest
 * kept batch stays).
 * @param log the handle given to the checkpoint method (only there)
 * @returns SL_OK, SL_EINVAL (not inside a checkpoint call), SL_EIO or
 * SL_ENOMEM; the engine reports the path and the reason.
 * @remark Job thread.
 */
SL_EXPORT sl_status sl_source_log_write(sl_source_log *log, const void *data,
                                        size_t len);
/**
 * @brief Read the newest version of the source's log at or before the
 * batch the log was handed for.
 * @param data set to the bytes (NUL-terminated after len bytes; release
 * with sl_free)
 * @returns SL_OK, SL_ENOTFOUND (nothing written yet), SL_ECORRUPT (a torn
 * or damaged file: the engine reports its path and the reason), SL_EIO,
 * SL_ENOMEM, SL_EINVAL.
 * @remark Job thread, inside the recover method only.
 */
SL_EXPORT sl_status sl_source_log_read(sl_source_log *log, void **data,
                                       size_t *len);

#ifdef __cplusplus
}
#endif
#endif /* SLUICE_SOURCE_H */
