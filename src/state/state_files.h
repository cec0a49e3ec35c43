/*
 * State store files of a checkpoint (src/state): one shard's delta (the
 * pending version's writes) or snapshot (its committed entries) as a
 * checked checkpoint file around a zstd-compressed codec payload, and
 * loading them back into a store being restored. docs/checkpoint-format.md
 * ("State files") gives the byte layout; src/stream/ckpt_state.c decides
 * which files a batch writes and reads.
 */
#ifndef SL_STATE_STATE_FILES_H
#define SL_STATE_STATE_FILES_H

#include "checkpoint/checkpoint.h"
#include "core/codec.h"
#include "state/store.h"

/* Magic numbers and format version: SL__CKPT_MAGIC_STATE_DELTA,
 * SL__CKPT_MAGIC_STATE_SNAPSHOT, SL__CKPT_STATE_VERSION in
 * checkpoint/checkpoint.h, where inspect checks the files too. */

/**
 * Write the pending version's writes of shard (puts and removals, with
 * their update times) to path as a delta of `version`. Between
 * sl__state_begin (or restore) and commit. Errors as sl__ckpt_write_file
 * (io's message names the path), SL_EINVAL for a value the codec refuses.
 */
sl_status sl__state_write_delta(sl__ckpt_io *io, const char *path,
                                const sl__state_store *st, size_t shard,
                                int64_t version);
/* A delta's base (SL__CKPT_STATE_BASE_UNKNOWN in checkpoint.h says what
 * it is). */
#define SL__STATE_BASE_UNKNOWN SL__CKPT_STATE_BASE_UNKNOWN
/** sl__state_write_delta recording base (see SL__STATE_BASE_UNKNOWN). */
sl_status sl__state_write_delta_on(sl__ckpt_io *io, const char *path,
                                   const sl__state_store *st, size_t shard,
                                   int64_t version, int64_t base);
/**
 * Write the committed entries of shard to path as a snapshot of
 * `version` (the committed version, which stays iterable while the next
 * one is written).
 */
sl_status sl__state_write_snapshot(sl__ckpt_io *io, const char *path,
                                   const sl__state_store *st, size_t shard,
                                   int64_t version);
/**
 * Apply the snapshot or delta at path (the kind is read from the name:
 * "*.snapshot" or "*.delta") to shard of st, a store between
 * sl__state_restore_begin and restore_end: puts with the recorded update
 * times, removals. *version gets the file's version. SL_ENOTFOUND,
 * SL_ECORRUPT (the path and reason: header, decompression, a malformed
 * entry, a key of another shard, another shard count), SL_EIO, SL_ENOMEM;
 * io's message says which. A failed load may leave part of the file
 * applied: the restore is then abandoned.
 */
sl_status sl__state_load_file(sl__ckpt_io *io, const char *path,
                              sl__state_store *st, size_t shard,
                              int64_t *version);
/** sl__state_load_file giving the file's base too. */
sl_status sl__state_load_file_on(sl__ckpt_io *io, const char *path,
                                 sl__state_store *st, size_t shard,
                                 int64_t *version, int64_t *base);

/*
 * The compressed payload every state and window file shares, for
 * src/stream's window files: zstd frame of raw. sl__state_pack appends
 * the frame of raw to out; sl__state_unpack decompresses payload into
 * *raw (sl_free), SL_ECORRUPT with path in io's message.
 */
sl_status sl__state_pack(sl__ckpt_io *io, const char *path, const void *raw,
                         size_t len, sl__buf *out);
sl_status sl__state_unpack(sl__ckpt_io *io, const char *path,
                           const void *payload, size_t len, void **raw,
                           size_t *rawlen);

#endif /* SL_STATE_STATE_FILES_H */
