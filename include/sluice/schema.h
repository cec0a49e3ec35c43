/*
 * sluice schemas: the column names and types of the structured layer.
 * A schema lives on a stream or an RDD, never inside each value: a row
 * is an sl_value tuple with one item per column, in column order, typed
 * by the schema (docs/sql.md "Types").
 */
#ifndef SLUICE_SCHEMA_H
#define SLUICE_SCHEMA_H

#include "core.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief Column types, as Spark SQL's. Each is carried by an sl_value
 * kind: boolean SL_KIND_BOOL, long SL_KIND_INT, double SL_KIND_DOUBLE,
 * string SL_KIND_STR, binary SL_KIND_BYTES, timestamp SL_KIND_INT
 * (milliseconds since the epoch, UTC), array SL_KIND_LIST, struct
 * SL_KIND_TUPLE (one item per field). Any column may hold SL_KIND_NULL.
 * New types are only ever appended.
 */
typedef enum sl_type_id {
    SL_TYPE_NULL = 0, /* the type of a bare NULL literal only */
    SL_TYPE_BOOLEAN,
    SL_TYPE_LONG,
    SL_TYPE_DOUBLE,
    SL_TYPE_STRING,
    SL_TYPE_BINARY,
    SL_TYPE_TIMESTAMP,
    SL_TYPE_ARRAY,
    SL_TYPE_STRUCT
} sl_type_id;

/** @brief A schema: named, typed columns (immutable, reference-counted). */
typedef struct sl_schema sl_schema;

/**
 * @brief A type. Scalars are shared constants; array and struct types
 * belong to the schema (or query) that made them and live as long as it.
 */
typedef struct sl_type {
    sl_type_id id;
    const struct sl_type *element; /* array: the element type */
    const sl_schema *fields;       /* struct: its fields */
} sl_type;

/** @brief The shared constant of a scalar type (NULL for array/struct). */
SL_EXPORT const sl_type *sl_type_scalar(sl_type_id id);

/**
 * @brief Write a type as DDL ("bigint" is written "long"; "array<string>",
 * "struct<start:timestamp,end:timestamp>") into buf (NUL-terminated,
 * cut to n). Returns the length the whole text needs.
 */
SL_EXPORT size_t sl_type_format(const sl_type *t, char *buf, size_t n);

/** @brief Whether two types are the same (structurally). */
SL_EXPORT bool sl_type_equal(const sl_type *a, const sl_type *b);

/**
 * @brief Parse a DDL column list as Spark's `StructType.fromDDL`:
 * `"ts timestamp, bid double, ask double"`. Type names are case-insensitive:
 * boolean; long, bigint, int, integer, smallint, tinyint (all long);
 * double, float, real (all double); string, varchar(n), char(n) (string);
 * binary; timestamp; array<T>; struct<name: T, ...> (the colon optional).
 * Names may be quoted with backticks. Duplicate names (case-insensitive)
 * are an error.
 * @param errbuf on failure, the message with the 1-based column of the
 * problem: `schema: column 12: unknown type "dobule"`.
 * @return SL_OK (*out owned by the caller: sl_schema_release), SL_EPARSE,
 * SL_ENOMEM.
 */
SL_EXPORT sl_status sl_schema_parse(const char *ddl, sl_schema **out,
                                    char *errbuf, size_t errlen);

/** @brief Another reference to s (returns s). */
SL_EXPORT sl_schema *sl_schema_retain(const sl_schema *s);
/** @brief Drop a reference; the last frees it. Accepts NULL. */
SL_EXPORT void sl_schema_release(const sl_schema *s);

/** @brief The number of columns. */
SL_EXPORT size_t sl_schema_size(const sl_schema *s);
/** @brief The name of column i (borrowed; as declared). */
SL_EXPORT const char *sl_schema_name(const sl_schema *s, size_t i);
/** @brief The type of column i (borrowed). */
SL_EXPORT const sl_type *sl_schema_type(const sl_schema *s, size_t i);
/**
 * @brief The index of the column called name, compared case-insensitively
 * as Spark does by default; -1 when there is none.
 */
SL_EXPORT int sl_schema_find(const sl_schema *s, const char *name);

/**
 * @brief The schema as DDL text that sl_schema_parse reads back
 * ("ts timestamp, bid double"); names that need it are backquoted.
 * Freed with sl_free; NULL when out of memory.
 */
SL_EXPORT char *sl_schema_to_ddl(const sl_schema *s);

#ifdef __cplusplus
}
#endif

#endif /* SLUICE_SCHEMA_H */
