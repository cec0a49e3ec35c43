/*
 * sluice SQL API: ad-hoc queries over the memory tables of a running
 * context (Spark's spark.sql over a memory sink's table), with their rows
 * and schema handed back. The dialect is docs/sql.md's (Spark SQL 3.5,
 * ANSI off).
 */
#ifndef SLUICE_SQL_H
#define SLUICE_SQL_H

#include "core.h"
#include "schema.h"
#include "stream.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @brief The rows and schema of a query (opaque). */
typedef struct sl_sql_result sl_sql_result;

/**
 * @brief Run one SQL query over the memory tables of ctx (sl_memory_sink)
 * and return its rows.
 *
 * Each table is read as a snapshot of the batches committed when the
 * query starts: whole batches only, however long the query runs. The
 * query runs on the calling thread and a query engine of the context's
 * own (one worker, made on first use), never on the I/O or job thread,
 * and holds the job thread up only while a table's segment list is
 * copied. Queries of one context run one at a time. Bounds (ctx's conf):
 * "query.timeout" (default 30s; the query's tasks are interrupted),
 * "query.max_rows" (default 100000) and "query.max_memory" (default 256
 * MiB: the result's bytes); exceeding one fails naming it.
 * @param query the SQL text (a SELECT; tables by name, case-insensitive).
 * @param out the result on success (free with sl_sql_result_free).
 * @param errbuf why it failed: a query error gives its line, column and a
 * caret under the query's line.
 * @returns SL_OK; SL_EPARSE (the query is invalid), SL_ETIMEDOUT,
 * SL_ERANGE (query.max_rows or query.max_memory), SL_EINVAL (NULL
 * arguments, duplicate output column names), SL_ENOMEM, or the failed
 * job's status.
 * @remark Any application thread, while the context runs or not, but not
 * from a callback of ctx (which runs on its job thread) and not after
 * sl_context_free.
 */
SL_EXPORT sl_status sl_context_sql(sl_context *ctx, const char *query,
                                   sl_sql_result **out, char *errbuf,
                                   size_t errlen);

/** @brief The result's schema (borrowed; lives as long as r). */
SL_EXPORT const sl_schema *sl_sql_result_schema(const sl_sql_result *r);
/** @brief The number of rows of r. */
SL_EXPORT size_t sl_sql_result_rows(const sl_sql_result *r);
/**
 * @brief Row i of r: a tuple (SL_KIND_TUPLE) with one item per column of
 * the schema, in order; NULL past the last row. Borrowed; lives as long
 * as r.
 */
SL_EXPORT const sl_value *sl_sql_result_row(const sl_sql_result *r, size_t i);
/** @brief Free a result. Accepts NULL. */
SL_EXPORT void sl_sql_result_free(sl_sql_result *r);

#ifdef __cplusplus
}
#endif
#endif /* SLUICE_SQL_H */
