/*
 * Rows printed for people and tools: Spark's show() table, JSON lines and
 * CSV, as `streamctl sql` and the console sink print them (docs/sql.md
 * "Printing rows"). A row is an SL_KIND_TUPLE typed by its schema.
 * Internal to sluice.
 */
#ifndef SL_CORE_ROW_OUT_H
#define SL_CORE_ROW_OUT_H

#include "core/codec.h" /* sl__buf */
#include "core/core.h"

#include <sluice/schema.h>

/** The printed formats. */
typedef enum sl__row_format {
    SL__ROWS_TABLE, /* Spark's Dataset.show() */
    SL__ROWS_JSON,  /* one JSON object per row and line */
    SL__ROWS_CSV    /* RFC 4180, a header line first */
} sl__row_format;

/** Parse a format name ("table", "json", "csv"); SL_EPARSE otherwise. */
sl_status sl__row_format_parse(const char *name, sl__row_format *out);

/** The name of a format ("table", "json", "csv"). */
const char *sl__row_format_name(sl__row_format f);

/** Spark's show() default: 20 rows, cells cut to 20 characters. */
#define SL__SHOW_ROWS 20
#define SL__SHOW_WIDTH 20

/**
 * Append rows[0..n) as Spark's show(max_rows, truncate = true): a
 * bordered table, the column names as its header, cells right-aligned
 * and padded by characters (UTF-8 code points), cells over 20 characters
 * cut to 17 and "...", NULL as "NULL"; when n > max_rows only the first
 * max_rows and "only showing top N rows". SL_ENOMEM.
 */
sl_status sl__rows_put_table(sl__buf *out, const sl_schema *s,
                             const sl_value *rows, size_t n, size_t max_rows);

/** Append rows[0..n) as JSON objects, one per line, columns in schema
 * order (sl__json_put_row). SL_ENOMEM. */
sl_status sl__rows_put_json(sl__buf *out, const sl_schema *s,
                            const sl_value *rows, size_t n);

/**
 * Append rows[0..n) as CSV (RFC 4180 with "\n" line ends, as Spark
 * writes): the header line of column names first when header is true;
 * a field quoted when it holds a comma, a quote, CR or LF (quotes
 * doubled), NULL as an empty field, an empty string as "" (Spark's
 * emptyValue), arrays and structs as their show() text, always quoted.
 * SL_ENOMEM.
 */
sl_status sl__rows_put_csv(sl__buf *out, const sl_schema *s,
                           const sl_value *rows, size_t n, bool header);

/** The three above by format: table with SL__SHOW_ROWS rows at most,
 * CSV with its header. */
sl_status sl__rows_put(sl__buf *out, sl__row_format f, const sl_schema *s,
                       const sl_value *rows, size_t n);

#endif /* SL_CORE_ROW_OUT_H */
