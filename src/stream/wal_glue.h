/*
 * The stream side of the receiver WAL (wal_glue.c): a writer thread that
 * logs each queued batch's sealed blocks (group commit: one fsync for all
 * the batches queued meanwhile) before the job thread may run it, replay
 * of a recorded batch's blocks for recovery, and pruning.
 */
#ifndef SL_STREAM_WAL_GLUE_H
#define SL_STREAM_WAL_GLUE_H

#include "core/codec.h"
#include "stream/stream_int.h"

struct cJSON;

/* What offsets/<batch> records of one receiver's input: the batch holds
 * its blocks first_seq .. first_seq + count - 1 (sequences are
 * consecutive per receiver). */
typedef struct sl__wal_range {
    uint32_t receiver; /* index in ctx->receivers */
    uint64_t first_seq;
    uint64_t count;
} sl__wal_range;

/*
 * Open <checkpoint.path>/wal when the WAL is enabled: checkpoint.path set,
 * receiver.wal true and the context has receivers; else nothing. Before
 * start; a second call does nothing. A torn tail is logged (warn); a
 * corrupt segment fails with the context's error naming it (SL_ECORRUPT).
 * sl_context_start calls it; recovery may call it earlier.
 */
sl_status sl__wal_glue_open(sl_context *ctx);
/* True when the WAL is on. */
bool sl__wal_glue_enabled(const sl_context *ctx);
/* Start the writer thread (before the I/O thread queues anything). */
sl_status sl__wal_glue_start(sl_context *ctx);
/* The job thread may run b: it is logged or there is no WAL. Under lock. */
bool sl__wal_glue_ready(const sl_context *ctx, const batch *b);
/* Wait (under ctx->lock, which it releases while waiting) until the
 * writer holds no queued batch, so that the queue may be freed. */
void sl__wal_glue_wait_idle(sl_context *ctx);
/* Ask the writer to end (under ctx->lock); then join it. */
void sl__wal_glue_quit(sl_context *ctx);
void sl__wal_glue_join(sl_context *ctx);
/* Close the WAL (context free). */
void sl__wal_glue_free(sl_context *ctx);

/*
 * The range of receiver i's blocks in b (count 0: none), for the
 * offsets/<batch> entry: the durable point of receiver input.
 */
void sl__batch_block_range(const batch *b, size_t i, uint64_t *first_seq,
                           uint64_t *count);
/*
 * Recovery: give the replay batch id (queued by sl__context_replay) its
 * receiver blocks from the WAL. expect (n ranges, may be NULL) is what
 * offsets/<id> recorded: a block missing or extra is SL_ECORRUPT with the
 * batch, receiver and sequence in the context's error, as is a block of
 * a receiver that is not in this context (a changed job). Before start.
 */
sl_status sl__wal_glue_replay(sl_context *ctx, int64_t id,
                              const sl__wal_range *expect, size_t n);
/*
 * offsets/<batch>'s receiver part (recovery.c): appends
 * `,"receivers":[{"name","first_seq","count","next_seq"}...]` for b (one
 * per receiver, ctx order; nothing when the WAL is off). next_seq is the
 * receiver's next block sequence after every recorded batch so far (kept
 * across batches without blocks). Job thread, in batch order.
 */
sl_status sl__wal_glue_offsets_json(sl_context *ctx, const batch *b,
                                    sl__buf *out);
/*
 * From the newest offsets entry (parsed): each receiver's next block
 * sequence into seqs (ctx->nreceivers entries, 0 when not recorded), and
 * the carried values for later entries. Recovery, before start.
 */
void sl__wal_glue_resume_seqs(sl_context *ctx, const struct cJSON *entry,
                              uint64_t *seqs);
/*
 * Recovery of an uncommitted batch queued by sl__context_replay: its
 * receiver blocks from the WAL, checked against the entry's "receivers"
 * (matched by name, else by position). With the WAL off, a batch that
 * recorded receiver blocks runs without them and the loss is logged.
 */
sl_status sl__wal_glue_replay_entry(sl_context *ctx, int64_t id,
                                    const struct cJSON *entry);

/*
 * Every batch before first_needed has a durable commit entry: the writer
 * deletes the segments only they used (asynchronously). Job thread.
 */
void sl__wal_glue_prune(sl_context *ctx, int64_t first_needed);

#endif /* SL_STREAM_WAL_GLUE_H */
