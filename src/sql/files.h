/*
 * Tables read from files for batch SQL (`streamctl sql --table
 * NAME=FILE[:SCHEMA]`): a catalog (sql/plan.h) whose tables are CSV,
 * JSON-lines or text files, read in parallel line-aligned splits by the
 * engine's workers, rows converted by src/core/rows.c in permissive mode
 * (malformed lines counted per table). Format by extension: .csv, .json
 * and .jsonl, .txt (one column `value string`).
 */
#ifndef SL_SQL_FILES_H
#define SL_SQL_FILES_H

#include "sql/plan.h"

typedef struct sl__sql_files sl__sql_files;

/** No tables yet; NULL when out of memory. Free with sl__sql_files_free. */
sl__sql_files *sl__sql_files_new(void);
/** Free the tables. Accepts NULL. */
void sl__sql_files_free(sl__sql_files *f);

/**
 * Add a table from "NAME=FILE[:SCHEMA]" (SCHEMA: DDL, sl_schema_parse).
 * Without a schema a CSV file's header line names its columns, all
 * strings, and a JSON-lines file's first record gives the types
 * (sl__rec_infer_json). With a schema a CSV file has no header line:
 * every line is data, its fields mapped to the columns by position.
 * SL_EINVAL (a malformed spec, an unknown extension, a name given twice,
 * a bad schema: the command line is wrong), SL_EIO (the file cannot be
 * read), SL_EPARSE (its header or first record cannot be read),
 * SL_ENOMEM; err says why.
 */
sl_status sl__sql_files_add(sl__sql_files *f, const char *spec, char *err,
                            size_t errlen);

/**
 * Add the table name from path, as sl__sql_files_add does, with the format
 * given ("csv", "json" or "lines"; NULL: by the extension) and the schema
 * as DDL (NULL: from the header or first record; a lines table is
 * `value string`). The job files' "tables". Errors as sl__sql_files_add.
 */
sl_status sl__sql_files_add_table(sl__sql_files *f, const char *name,
                                  const char *path, const char *format,
                                  const char *ddl, char *err, size_t errlen);

/** The catalog over the tables (borrowed; lives as long as f). */
const sl__sql_catalog *sl__sql_files_catalog(sl__sql_files *f);

/** The number of tables, and table i's name, path and malformed lines
 * (counted by the reads so far). */
size_t sl__sql_files_count(const sl__sql_files *f);
const char *sl__sql_files_name(const sl__sql_files *f, size_t i);
const char *sl__sql_files_path(const sl__sql_files *f, size_t i);
int64_t sl__sql_files_malformed(const sl__sql_files *f, size_t i);

#endif /* SL_SQL_FILES_H */
