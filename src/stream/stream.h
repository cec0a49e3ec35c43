/*
 * Internal interface of the streaming layer for the layers above it (job
 * files) and the connectors: what they need of a context beyond the
 * public API. Its private details are in stream_int.h.
 */
#ifndef SL_STREAM_STREAM_H
#define SL_STREAM_STREAM_H

#include <sluice/stream.h>

#include "core/records.h"

/* The context's counts of records set aside (sl_context_bad_record_stats),
 * for the dead-letter files and on_bad_record policies that belong to it.
 * Borrowed; lives as long as the context. */
sl__bad_counts *sl__context_bad_counts(sl_context *ctx);

#endif /* SL_STREAM_STREAM_H */
