/*
 * Checkpoint directories from outside a running job: describe one and
 * roll one back (what `streamctl checkpoint` does). The layout and file
 * formats are in docs/checkpoint-format.md.
 */
#ifndef SLUICE_CHECKPOINT_H
#define SLUICE_CHECKPOINT_H

#include <sluice/core.h>

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Output formats of sl_checkpoint_inspect. */
typedef enum sl_checkpoint_format {
    SL_CHECKPOINT_TABLE = 0, /**< aligned text for people */
    SL_CHECKPOINT_JSON = 1   /**< one JSON object and a newline */
} sl_checkpoint_format;

/**
 * @brief Describe a checkpoint directory without changing it.
 *
 * Lists the job id, every batch with its offsets and commit entry sizes
 * and state (committed, uncommitted, commit only), the files and bytes
 * under each top-level directory, the state versions of each
 * state/<op>/<shard>, and every problem a restart would refuse for, with
 * the restart's own checks: every file's header and checksum (metadata,
 * log entries, state, window and source-log files), each state file's
 * contents and each shard's delta chain, the WAL's records (a torn last
 * record is listed as a note, not a problem) and the files the last
 * commit entry lists. A problem names the file and the reason.
 * @param dir the checkpoint directory
 * @param format SL_CHECKPOINT_TABLE or SL_CHECKPOINT_JSON
 * @param out receives the text (NUL-terminated); free it with sl_free
 * @param problems receives the number of problems found (may be NULL)
 * @param errbuf receives the reason of a failure (may be NULL)
 * @param errlen size of errbuf
 * @returns SL_OK (problems or not), SL_ENOTFOUND when dir is not a
 * directory, SL_EINVAL, SL_ENOMEM.
 * @remark Any thread; reads only.
 */
SL_EXPORT sl_status sl_checkpoint_inspect(const char *dir,
                                          sl_checkpoint_format format,
                                          char **out, size_t *problems,
                                          char *errbuf, size_t errlen);

/**
 * @brief Discard every batch of a checkpoint after batch `to`.
 *
 * The offsets and commit entries of later batches are deleted, newest
 * first, and the directories fsynced, so that a job restarted on dir goes
 * on after `to` (to recover from a bad deploy). Only a committed batch
 * still kept (see checkpoint.retain_batches) can be rolled back to. Run
 * it while no job uses the directory.
 * @param dir the checkpoint directory
 * @param to the batch to go back to
 * @param errbuf receives the reason of a failure (may be NULL)
 * @param errlen size of errbuf
 * @returns SL_OK; SL_ENOTFOUND when `to` is not a kept committed batch or
 * dir is not a checkpoint; SL_ECORRUPT for an unreadable metadata file;
 * SL_EIO (the path and errno in errbuf), SL_EINVAL, SL_ENOMEM.
 * @remark Any thread, while no job uses dir.
 */
SL_EXPORT sl_status sl_checkpoint_rollback(const char *dir, int64_t to,
                                           char *errbuf, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif /* SLUICE_CHECKPOINT_H */
