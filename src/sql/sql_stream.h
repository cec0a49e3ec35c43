/*
 * SQL streams (sql_stream.c): a query over the views of a context and
 * optional static tables, as a stream (docs/sql.md "Streaming queries").
 */
#ifndef SL_SQL_SQL_STREAM_H
#define SL_SQL_SQL_STREAM_H

#include "sql/plan.h"

#include <sluice/stream.h>

/**
 * sl_context_sql_stream with tables, a catalog of static tables FROM may
 * name besides views (borrowed: it outlives ctx; NULL: none). NULL with
 * errbuf set on failure.
 */
sl_dstream *sl__sql_stream_build(sl_context *ctx, const char *query,
                                 sl_output_mode mode,
                                 const sl__sql_catalog *tables, char *errbuf,
                                 size_t errlen);

/**
 * Spark's output-mode rule q breaks in mode, read from the syntax tree
 * alone (job-file validation, before any schema is known), or NULL.
 */
const char *sl__sql_stream_mode_error(const sl__sql_query *q,
                                      sl_output_mode mode);

#endif /* SL_SQL_SQL_STREAM_H */
