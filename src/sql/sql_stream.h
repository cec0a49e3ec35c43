/*
 * SQL streams (sql_stream.c): a query over the views of a context and
 * optional static tables, as a stream (docs/sql.md "Streaming queries").
 */
#ifndef SL_SQL_SQL_STREAM_H
#define SL_SQL_SQL_STREAM_H

#include "sql/plan.h"

#include <sluice/stream.h>

struct sl__dead_letters;

/* What a SQL stream is built with besides its query. */
typedef struct sl__sql_stream_opts {
    sl_output_mode mode;
    /* Static tables FROM may name besides views (borrowed: they outlive
     * the context), or NULL. */
    const sl__sql_catalog *tables;
    /* A boolean SQL expression over the input rows (the view's columns):
     * rows it is true for are set aside (counted; written as dead letters
     * of reason "rejected" when dead is set) before the query sees them.
     * NULL: none. */
    const char *reject_when;
    struct sl__dead_letters *dead; /* borrowed; outlives the context */
    const char *name;              /* the stream's name, their origin */
    /* Out: the error is reject_when's, not the query's. */
    bool reject_failed;
} sl__sql_stream_opts;

/**
 * sl_context_sql_stream with the options above. NULL with errbuf set on
 * failure (errors in the query's or reject_when's text positioned in it).
 */
sl_dstream *sl__sql_stream_build(sl_context *ctx, const char *query,
                                 sl__sql_stream_opts *opts, char *errbuf,
                                 size_t errlen);

/**
 * Spark's output-mode rule q breaks in mode, read from the syntax tree
 * alone (job-file validation, before any schema is known), or NULL;
 * watermark: its input declares one (an aggregation may then be in append
 * mode, if it groups by the event time: the build checks that).
 */
const char *sl__sql_stream_mode_error(const sl__sql_query *q,
                                      sl_output_mode mode, bool watermark);

#endif /* SL_SQL_SQL_STREAM_H */
