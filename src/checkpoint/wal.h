/*
 * The receiver write-ahead log: append-only segments under <checkpoint>/wal
 * holding the sealed receive blocks of each batch (zstd, checksummed per
 * record), synced once per group of batches, read back by recovery to run
 * a recorded batch again. docs/checkpoint-format.md, "Receiver WAL".
 */
#ifndef SL_CHECKPOINT_WAL_H
#define SL_CHECKPOINT_WAL_H

#include "checkpoint/checkpoint.h"

#define SL__CKPT_MAGIC_WAL SL__CKPT_MAGIC('S', 'L', 'W', 'L')
/* The segment format version this build writes and the newest it reads. */
#define SL__WAL_VERSION 1
/* A segment is closed and a new one begun once it holds this much, so
 * that pruning can delete the old ones (the open one is never deleted). */
#define SL__WAL_SEGMENT_BYTES (64u << 20)

typedef struct sl__wal sl__wal;

/* One block read back: sl_malloc'd fields, freed by sl__wal_blocks_free. */
typedef struct sl__wal_block {
    int64_t batch;
    uint32_t receiver; /* index in the context's receivers */
    uint64_t seq;      /* block sequence number of that receiver */
    int64_t records;   /* complete lines in data */
    char *name;        /* the receiver's stream name ("" without one) */
    char *data;
    size_t len;
} sl__wal_block;

/**
 * Open (creating it) the WAL directory dir and check every segment in it:
 * a corrupt record is SL_ECORRUPT naming the segment, the offset and the
 * reason; a torn record at the end of a segment (a write the crash cut
 * short, necessarily of a batch whose offsets were never written) is
 * ignored and counted (sl__wal_torn, message in sl__wal_note). Records
 * this handle appends go to new segments of a new run, never after a torn
 * end. Errors in errbuf; free with sl__wal_close.
 */
sl_status sl__wal_open(const char *dir, sl__wal **out, char *errbuf,
                       size_t errlen);
/** Close the segment and free the handle (accepts NULL); no sync. */
void sl__wal_close(sl__wal *w);
/** The last failure's message; borrowed. */
const char *sl__wal_errmsg(const sl__wal *w);
/** Torn tail records found by open, and the message about the last. */
size_t sl__wal_torn(const sl__wal *w);
const char *sl__wal_note(const sl__wal *w);
/** The io of the WAL (fault hook, counters). */
sl__ckpt_io *sl__wal_io(sl__wal *w);

/**
 * Append one block (compressed) to the current segment, beginning a new
 * segment when needed. Not durable until sl__wal_sync. SL_EIO, SL_ENOMEM;
 * after a failure the handle begins a new segment for the next append.
 */
sl_status sl__wal_append(sl__wal *w, int64_t batch, uint32_t receiver,
                         const char *name, uint64_t seq, int64_t records,
                         const void *data, size_t len);
/**
 * Make every append so far durable: one fsync of the segment (and of the
 * directory when segments were created or deleted): the group commit.
 */
sl_status sl__wal_sync(sl__wal *w);
/**
 * The blocks recorded for batch, ordered by receiver and sequence: those
 * of the newest run that wrote the batch (an older run's records of the
 * same id belong to a batch that crashed before its offsets were
 * written). *n is 0 when there are none. SL_EIO, SL_ECORRUPT (a record
 * changed since open), SL_ENOMEM.
 */
sl_status sl__wal_read_batch(sl__wal *w, int64_t batch, sl__wal_block **out,
                             size_t *n);
/** Free what sl__wal_read_batch returned. */
void sl__wal_blocks_free(sl__wal_block *b, size_t n);
/**
 * Delete every closed segment whose records all belong to batches before
 * first_needed (the oldest batch without a durable commit entry).
 */
sl_status sl__wal_prune(sl__wal *w, int64_t first_needed);
/** The zstd level of later appends (1 until set; negative: faster). */
void sl__wal_set_level(sl__wal *w, int level);
/** Segments on disk (for tests and inspect). */
size_t sl__wal_segments(const sl__wal *w);

#endif /* SL_CHECKPOINT_WAL_H */
