/*
 * The file sink's manifest log, "_sluice_metadata/<batch>" in its output
 * directory: one checked file per batch (src/checkpoint's header, magic
 * SLFM) listing the part files the batch put in place. Written by the file
 * sink (file_sink.c), read by it and by the directory source (watch.c),
 * which reads only the files listed there.
 */
#ifndef SL_FILE_MANIFEST_H
#define SL_FILE_MANIFEST_H

#include <sluice/sink.h>

#include <stdbool.h>

#include "checkpoint/checkpoint.h"

#define SL__MANIFEST_DIR "_sluice_metadata"
#define SL__MANIFEST_MAGIC SL__CKPT_MAGIC('S', 'L', 'F', 'M')
#define SL__MANIFEST_VERSION 1

/* "DIR/_sluice_metadata" into out; false when it does not fit. */
bool sl__manifest_dir(const char *dir, char *out, size_t n);
/* Whether DIR has a manifest log (a directory source then reads only the
 * files it lists). */
bool sl__manifest_present(const char *dir);
/*
 * Write the manifest of batch with its files (names relative to dir),
 * atomically and synced. On failure io's message says why.
 */
sl_status sl__manifest_write(sl__ckpt_io *io, const char *dir, int64_t batch,
                             const sl_sink_file *files, size_t n);
/*
 * Call fn with the name of every file listed by every manifest of dir
 * (relative to dir). A manifest that is corrupt is an error naming it
 * (SL_ECORRUPT in errbuf); none at all is fine.
 */
sl_status sl__manifest_each(const char *dir,
                            void (*fn)(void *user, const char *name),
                            void *user, char *errbuf, size_t errlen);

/*
 * The batch of a part file's name, "part-<batch>-...": false for any other
 * name, a batch above INT64_MAX included (names in a directory are
 * anyone's input: a long number is not ours, never an overflow).
 */
bool sl__manifest_part_batch(const char *name, int64_t *batch);

/*
 * Whether name (a file in dir) is listed by the manifest of its batch
 * (the batch comes from the name, "part-<batch>-..."): SL_OK when it is,
 * SL_ENOTFOUND when not (yet), SL_ECORRUPT with the reason in errbuf for a
 * manifest that fails its check.
 */
sl_status sl__manifest_lists(const char *dir, const char *name, char *errbuf,
                             size_t errlen);

#endif /* SL_FILE_MANIFEST_H */
