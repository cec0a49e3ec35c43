/*
 * The stream layer's part of a checkpoint's state (src/stream): which
 * state and window files a batch writes, the periodic snapshots, the
 * restore of every store and window at recovery and their retention.
 * The files themselves are src/state/state_files.c's; the layout is in
 * docs/checkpoint-format.md ("State files", "Window files").
 */
#ifndef SL_STREAM_CKPT_STATE_H
#define SL_STREAM_CKPT_STATE_H

#include "checkpoint/checkpoint.h"
#include "stream/stream_int.h"

/* Window files: magic and the format version this build writes/reads. */
#define SL__WINDOW_MAGIC SL__CKPT_MAGIC_WINDOW
#define SL__WINDOW_FILE_VERSION SL__CKPT_WINDOW_VERSION

/*
 * Between sl__batch_prepare_commit and sl__batch_commit: every stateful
 * stream's delta files (changed shards only; the first write of a store
 * with committed entries, such as an initial state, snapshots them first)
 * and the window data for batch b (the ring entry that entered and the
 * inverse form's new result). Marks directories dirty in
 * sl__ckpt_io_of(ck): the caller syncs them once and then writes
 * commits/<batch>. Errors go on the context naming the path.
 */
sl_status sl__ckpt_write_state(sl_context *ctx, sl__ckpt *ck, const batch *b);

/*
 * After sl__batch_commit: when every > 0 and batch is a multiple of it, a
 * snapshot of every shard of every store as of batch, written atomically
 * shard by shard and synced before this returns, so that retention may
 * then drop the deltas it replaces. A crash midway leaves the deltas
 * sufficient (restore picks each shard's newest snapshot).
 */
sl_status sl__ckpt_snapshot_state(sl_context *ctx, sl__ckpt *ck, int64_t id,
                                  int64_t every);

/*
 * Recovery, before the first batch: restore every store and window to
 * `version` (the last committed batch): each shard from its newest
 * snapshot <= version and the later deltas in order; windows from their
 * files. A missing (a broken chain of bases), truncated or corrupt file is
 * an error on the context naming the path and the reason; SL_ENOTFOUND,
 * SL_ECORRUPT, SL_EIO, SL_ENOMEM, SL_EINVAL for an unnamed stream.
 */
sl_status sl__ckpt_restore_state(sl_context *ctx, sl__ckpt *ck,
                                 int64_t version);

/*
 * Retention: delete the state and window files not needed to restore any
 * version >= keep_from (the files of versions up to each shard's newest
 * snapshot at or before keep_from, window entries out of every window
 * from keep_from on).
 */
sl_status sl__ckpt_prune_state(sl_context *ctx, sl__ckpt *ck,
                               int64_t keep_from);

/*
 * The prune hook of sl__ckpt_retain and sl__ckpt_rollback (user: the
 * sl_context, or NULL): state files by name (retention as above,
 * rollback: every version after last_kept), window files after last_kept,
 * and with a context the window retention. Without a context (streamctl
 * checkpoint rollback) it works on the directory alone.
 */
sl_status sl__ckpt_prune_hook(void *user, sl__ckpt *ck, int64_t first_kept,
                              int64_t last_kept);

/*
 * The directory name of stream name: bytes [A-Za-z0-9_-] and '.' (not
 * first) as they are, every other byte as %XX (upper-case hex), so that
 * any name is one path component and distinct names stay distinct.
 * False when the result (NUL included) does not fit cap or name is
 * empty.
 */
bool sl__ckpt_op_dirname(const char *name, char *out, size_t cap);

/* Shared by ckpt_state.c and ckpt_window.c. DIR/<top>/<op of s> into out
 * (SL__CKPT_PATH_MAX bytes); false (context error) when it does not fit
 * with SL__CKPT_PATH_ROOM bytes to spare or s has no name, so that
 * sl__ckpt_path of a file under it fits. */
#define SL__CKPT_PATH_ROOM 64
bool sl__ckpt_op_path(sl_context *ctx, sl__ckpt *ck, const char *top,
                      const sl_dstream *s, char *out);
/* ckpt_window.c: one window's file for batch b, its restore to
 * `version`, and its retention. */
sl_status sl__ckpt_write_window(sl_context *ctx, sl__ckpt *ck, sl_dstream *s,
                                const batch *b);
sl_status sl__ckpt_restore_window(sl_context *ctx, sl__ckpt *ck, sl_dstream *s,
                                  int64_t version);
sl_status sl__ckpt_prune_window(sl_context *ctx, sl__ckpt *ck, sl_dstream *s,
                                int64_t keep_from);

#endif /* SL_STREAM_CKPT_STATE_H */
