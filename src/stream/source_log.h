/*
 * The engine side of source logs (source_log.c): sources/<source>/
 * <batch>.log files that planned sources write and read through
 * sl_source_log (docs/checkpoint-format.md, "Source logs").
 */
#ifndef SL_STREAM_SOURCE_LOG_H
#define SL_STREAM_SOURCE_LOG_H

#include "checkpoint/checkpoint.h"
#include "stream/stream_int.h"

#define SL__SOURCE_LOG_MAGIC SL__CKPT_MAGIC_SOURCE_LOG
#define SL__SOURCE_LOG_VERSION SL__CKPT_SOURCE_LOG_VERSION

/*
 * Before commits/<batch_id>: every planned source with a checkpoint
 * method may write its log's version batch_id (directories marked dirty,
 * synced with the entry). The context's error names the source and the
 * path on failure.
 */
sl_status sl__sources_checkpoint(sl_context *ctx, int64_t batch_id);

/*
 * Every start with a checkpoint, before the sources' restore (committed:
 * the last commit, 0 for none): log versions after `committed` are
 * deleted (the caller syncs), then every planned source with a recover
 * method reads its newest version at or before it. A torn or damaged
 * file refuses the start, named. With nothing committed, every source's
 * checkpoint method then runs for batch 0 and the logs are synced, so
 * that a first start's log survives a crash before the first commit.
 */
sl_status sl__sources_recover(sl_context *ctx, int64_t committed);

#endif /* SL_STREAM_SOURCE_LOG_H */
