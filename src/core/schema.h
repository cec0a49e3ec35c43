/*
 * Internal side of schemas (include/sluice/schema.h): building schemas
 * and composite types, typed output of values (JSON, text) and timestamp
 * text, for the DDL parser, record formats, sinks and the SQL layer.
 */
#ifndef SL_CORE_SCHEMA_H
#define SL_CORE_SCHEMA_H

#include "core/codec.h" /* sl__buf, the typed writers' output */
#include "core/core.h"

#include <sluice/schema.h>

/* ------------------------------------------------------------ building */

typedef struct sl__schema_builder sl__schema_builder;

/** A builder with no columns; NULL when out of memory. */
sl__schema_builder *sl__schema_builder_new(void);
/**
 * Append a column (name: len bytes, copied). A composite type is copied
 * deep into the schema being built, so a schema owns everything it
 * points to. SL_EINVAL for a duplicate name (case-insensitive), with
 * the message in the builder (sl__schema_builder_errmsg).
 */
sl_status sl__schema_builder_add(sl__schema_builder *b, const char *name,
                                 size_t len, const sl_type *type);
/**
 * Let b take a name twice (a query's result: `SELECT *` over a join whose
 * sides share a column name has both, as Spark's; sl_schema_find gives
 * the first).
 */
void sl__schema_builder_allow_duplicates(sl__schema_builder *b);
/** The message of the last failed add. */
const char *sl__schema_builder_errmsg(const sl__schema_builder *b);
/** The schema (the builder is freed either way); NULL when out of memory. */
sl_schema *sl__schema_builder_finish(sl__schema_builder *b);
/** Free a builder that will not be finished. Accepts NULL. */
void sl__schema_builder_free(sl__schema_builder *b);

/** array<element> allocated in a (lives as long as a); NULL: no memory. */
const sl_type *sl__type_array(sl__arena *a, const sl_type *element);
/** struct<fields> allocated in a; fields is retained and released by a's
 * cleanup. NULL when out of memory. */
const sl_type *sl__type_struct(sl__arena *a, const sl_schema *fields);

/**
 * Read one type at text (DDL grammar, as sl_schema_parse's column types)
 * into a type allocated in a; *consumed: bytes read (trailing spaces
 * included). SL_EPARSE with the message (and the 1-based column) in
 * errbuf; SL_ENOMEM.
 */
sl_status sl__type_parse(const char *text, sl__arena *a, const sl_type **out,
                         size_t *consumed, char *errbuf, size_t errlen);

/* ------------------------------------------------------- typed output */

/**
 * Append v typed by t as JSON: timestamps as ISO-8601 UTC text with
 * milliseconds ("2024-01-02T09:30:00.123Z"), binary as base64, structs
 * as objects with their field names, arrays as arrays, NULL as null,
 * doubles as the console's json format writes them.
 */
sl_status sl__json_put_typed(sl__buf *out, const sl_type *t, const sl_value *v);
/** Append a row as a JSON object, the columns in schema order. */
sl_status sl__json_put_row(sl__buf *out, const sl_schema *s,
                           const sl_value *row);
/**
 * Append v typed by t as Spark's show() and CSV write it: timestamps
 * "2024-01-02 09:30:00.123" (UTC), doubles as Java's Double.toString,
 * arrays "[a, b]", structs "{a, b}", NULL as "NULL" (the caller chooses
 * another text for NULL in CSV: empty).
 */
sl_status sl__text_put_typed(sl__buf *out, const sl_type *t, const sl_value *v);

/** ms since the epoch as "YYYY-MM-DDTHH:MM:SS.mmmZ" (24 bytes + NUL). */
size_t sl__ts_format_iso(int64_t ms, char out[32]);
/**
 * Read a timestamp as Spark's CAST(string AS timestamp) does (UTC):
 * "2024-01-02", "2024-01-02 09:30", "2024-01-02T09:30:00", with optional
 * fraction (up to microseconds; kept to milliseconds) and "Z" or
 * "+HH:MM" offset. false when it is not one.
 */
bool sl__ts_parse(const char *s, size_t n, int64_t *ms);

#endif /* SL_CORE_SCHEMA_H */
