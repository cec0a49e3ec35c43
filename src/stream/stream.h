/*
 * The stream layer's internal interface to the layers above it (job
 * files, later SQL): what they need of the engine beyond the public API.
 * Implemented in the files of src/stream named at each call.
 */
#ifndef SL_STREAM_STREAM_H
#define SL_STREAM_STREAM_H

#include <sluice/stream.h>

/*
 * output.c: name the output registered last on ctx (a job file's sink
 * name), so that manifests and metrics can tell outputs apart. The name
 * is copied; NULL clears it. SL_ESTATE when ctx has no output yet,
 * SL_ENOMEM.
 */
sl_status sl__output_set_name(sl_context *ctx, const char *name);
/* The name of ctx's i-th output in registration order (borrowed), NULL
 * when it has none or past the last. */
const char *sl__output_name_at(const sl_context *ctx, size_t i);

#endif /* SL_STREAM_STREAM_H */
