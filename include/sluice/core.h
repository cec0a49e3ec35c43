/*
 * sluice core API: status codes, the allocation hook, values, durations,
 * sizes and the configuration object. Everything else in libsluice is built
 * on these; they have no dependencies beyond the C library.
 */
#ifndef SLUICE_CORE_H
#define SLUICE_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(SL_BUILDING_LIBRARY)
#define SL_EXPORT __attribute__((visibility("default")))
#else
#define SL_EXPORT
#endif

/* ---------------------------------------------------------------- status */

/*
 * The one list of status codes. SL_STATUS_MAP(X) expands X(name, code, text)
 * for every code; the enum, sl_strerror() and sl_errname() are generated from
 * it so they can never disagree.
 */
#define SL_STATUS_MAP(X)                                                       \
    X(OK, 0, "success")                                                        \
    X(ENOMEM, -1, "out of memory")                                             \
    X(EINVAL, -2, "invalid argument")                                          \
    X(ERANGE, -3, "value out of range")                                        \
    X(EPARSE, -4, "cannot parse value")                                        \
    X(ECONF, -5, "unknown or invalid configuration property")                  \
    X(ESTATE, -6, "operation not allowed in the current state")                \
    X(EIO, -7, "input/output error")                                           \
    X(ENOTFOUND, -8, "not found")                                              \
    X(ETIMEDOUT, -9, "timed out")                                              \
    X(ETYPE, -10, "value of the wrong kind")                                   \
    X(EUSER, -11, "user function failed")                                      \
    X(ENOBATCH, -12, "a parent stream produced no batch for this time")        \
    X(ESTOPPED, -13, "stopped")                                                \
    X(EBUSY, -14, "resource busy")                                             \
    X(EOVERFLOW, -15, "size or count overflow")                                \
    X(ECORRUPT, -16, "corrupt data")

/** @brief Status returned by every fallible call: 0 on success, < 0 error. */
typedef enum sl_status {
#define SL__STATUS_ENUM(name, code, text) SL_##name = code,
    SL_STATUS_MAP(SL__STATUS_ENUM)
#undef SL__STATUS_ENUM
} sl_status;

/** @brief Human-readable text for a status ("out of memory"). Never NULL. */
SL_EXPORT const char *sl_strerror(sl_status st);

/** @brief Symbolic name of a status ("SL_ENOMEM"). Never NULL. */
SL_EXPORT const char *sl_errname(sl_status st);

/* ------------------------------------------------------------- allocator */

/**
 * @brief The allocation hook every byte sluice allocates goes through.
 * @remark realloc_fn and free_fn follow the C library's contracts; a NULL
 * return means failure and sluice turns it into SL_ENOMEM.
 */
typedef struct sl_allocator {
    void *(*malloc_fn)(size_t size, void *user);
    void *(*realloc_fn)(void *ptr, size_t size, void *user);
    void (*free_fn)(void *ptr, void *user);
    void *user;
} sl_allocator;

/**
 * @brief Replace the allocator for the whole process.
 * @param a the hook (copied), or NULL to restore the C library's.
 * @returns SL_OK, or SL_EBUSY once sluice has allocated anything with the
 * current hook and not freed it all (the hook is set once, before use).
 */
SL_EXPORT sl_status sl_set_allocator(const sl_allocator *a);

/** @brief Allocate through the hook. NULL on failure; free with sl_free. */
SL_EXPORT void *sl_malloc(size_t size);
/** @brief Resize through the hook; on failure the old block is intact. */
SL_EXPORT void *sl_realloc(void *ptr, size_t size);
/** @brief Release memory from sl_malloc/sl_realloc. Accepts NULL. */
SL_EXPORT void sl_free(void *ptr);

/* ----------------------------------------------------------------- values */

/** @brief Kinds of sl_value. */
typedef enum sl_kind {
    SL_KIND_NULL = 0,
    SL_KIND_BOOL,
    SL_KIND_INT,    /* int64_t */
    SL_KIND_DOUBLE, /* double */
    SL_KIND_STR,    /* string view: pointer + length, not NUL-terminated */
    SL_KIND_BYTES,  /* binary view */
    SL_KIND_PAIR,   /* (key, value): items[0], items[1] */
    SL_KIND_TUPLE,  /* fixed-size row of items */
    SL_KIND_LIST    /* variable-size list of items */
    /* New kinds are only ever appended: the numbers are stored in
     * checkpoints (docs/checkpoint-format.md). */
} sl_kind;

/**
 * @brief True for the kinds whose value is a list of items (u.items, len
 * items): pair, tuple and list.
 * @remark Test kinds with this (or an explicit case list), never with a
 * range such as kind >= SL_KIND_PAIR, so that kinds appended later are
 * never taken for composites or scalars by accident.
 */
static inline bool sl_kind_is_composite(uint32_t kind)
{
    return kind == SL_KIND_PAIR || kind == SL_KIND_TUPLE ||
           kind == SL_KIND_LIST;
}

/**
 * @brief A small tagged value, 16 bytes. Strings and composites are views:
 * the bytes or items they point to belong to someone else (a receive block,
 * a task arena, a retained RDD, the state store).
 */
typedef struct sl_value {
    uint32_t kind; /* sl_kind */
    uint32_t len;  /* bytes (str, bytes) or items (pair = 2, tuple, list) */
    union {
        bool b;
        int64_t i;
        double d;
        const char *s;
        const struct sl_value *items;
    } u;
} sl_value;

/** @brief The null value (Spark's None). */
static inline sl_value sl_null(void)
{
    sl_value v = {SL_KIND_NULL, 0, {0}};
    return v;
}
/** @brief A boolean value. */
static inline sl_value sl_bool(bool b)
{
    sl_value v = {SL_KIND_BOOL, 0, {0}};
    v.u.b = b;
    return v;
}
/** @brief A 64-bit integer value. */
static inline sl_value sl_int(int64_t i)
{
    sl_value v = {SL_KIND_INT, 0, {0}};
    v.u.i = i;
    return v;
}
/** @brief A double value. */
static inline sl_value sl_double(double d)
{
    sl_value v = {SL_KIND_DOUBLE, 0, {0}};
    v.u.d = d;
    return v;
}
/** @brief A string view over len bytes at s (borrowed, not copied). */
static inline sl_value sl_str(const char *s, size_t len)
{
    sl_value v = {SL_KIND_STR, (uint32_t)len, {0}};
    v.u.s = s;
    return v;
}
/** @brief A binary view over len bytes at p (borrowed, not copied). */
static inline sl_value sl_bytes(const void *p, size_t len)
{
    sl_value v = {SL_KIND_BYTES, (uint32_t)len, {0}};
    v.u.s = (const char *)p;
    return v;
}
/** @brief A composite (pair, tuple, list) over n borrowed items. */
static inline sl_value sl_composite(sl_kind kind, const sl_value *items,
                                    size_t n)
{
    sl_value v = {(uint32_t)kind, (uint32_t)n, {0}};
    v.u.items = items;
    return v;
}
/** @brief Key of a pair (undefined for other kinds). */
static inline const sl_value *sl_pair_key(const sl_value *p)
{
    return &p->u.items[0];
}
/** @brief Value of a pair (undefined for other kinds). */
static inline const sl_value *sl_pair_value(const sl_value *p)
{
    return &p->u.items[1];
}

/** @brief A string view over a NUL-terminated C string (borrowed). */
SL_EXPORT sl_value sl_cstr(const char *s);

/** @brief Deep equality; 1 and 1.0 are different values, as in Scala. */
SL_EXPORT bool sl_value_equal(const sl_value *a, const sl_value *b);

/**
 * @brief The fixed, seedless 64-bit hash of a value (documented in
 * docs/architecture.md); equal values hash equally on every run and machine.
 */
SL_EXPORT uint64_t sl_value_hash(const sl_value *v);

/**
 * @brief Total order over values: by kind first, then by content; used by
 * sort_by and to print results deterministically. Returns <0, 0 or >0.
 */
SL_EXPORT int sl_value_compare(const sl_value *a, const sl_value *b);

/**
 * @brief Format a value as Spark prints it: (k,v) for pairs, (a,b,c) for
 * tuples, [a, b] for lists, strings bare, doubles as Java prints them.
 * @returns the length the full text needs (like snprintf); buf gets at most
 * cap - 1 bytes and a NUL when cap > 0.
 */
SL_EXPORT size_t sl_value_format(const sl_value *v, char *buf, size_t cap);

/**
 * @brief Format a value as JSON (pairs and composites as arrays, null as
 * null); same return contract as sl_value_format.
 */
SL_EXPORT size_t sl_value_format_json(const sl_value *v, char *buf, size_t cap);

/* -------------------------------------------------- durations and sizes */

/**
 * @brief Parse a duration: an integer followed by ms, s, m or h ("10ms",
 * "500ms", "1s", "1m", "2h"). A bare integer is rejected (units are
 * mandatory). @returns SL_OK, SL_EPARSE or SL_ERANGE.
 */
SL_EXPORT sl_status sl_duration_parse(const char *text, int64_t *out_ms);

/**
 * @brief Format a duration in the largest unit that divides it exactly
 * ("1500ms", "2s", "1m"). @returns snprintf-style length.
 */
SL_EXPORT size_t sl_duration_format(int64_t ms, char *buf, size_t cap);

/**
 * @brief Parse a byte size: an integer with an optional k, m or g suffix
 * (powers of 1024), e.g. "64m". @returns SL_OK, SL_EPARSE or SL_ERANGE.
 */
SL_EXPORT sl_status sl_size_parse(const char *text, int64_t *out_bytes);

/* ---------------------------------------------------------- configuration */

/** @brief A set of validated configuration properties (opaque). */
typedef struct sl_conf sl_conf;

/** @brief Kinds of configuration property. */
typedef enum sl_conf_type {
    SL_CONF_INT,
    SL_CONF_SIZE,
    SL_CONF_DURATION,
    SL_CONF_BOOL,
    SL_CONF_STRING,
    SL_CONF_ENUM
} sl_conf_type;

/** @brief One row of the property table, as sl_conf_property() returns it. */
typedef struct sl_conf_property {
    const char *name;
    sl_conf_type type;
    const char *default_value; /* as text */
    int64_t min, max;          /* for int, size and duration (ms) */
    const char *choices;       /* enum: "a|b|c" */
    const char *description;
} sl_conf_property;

/** @brief A new configuration with every property at its default. */
SL_EXPORT sl_conf *sl_conf_new(void);
/** @brief A copy of conf, or NULL when out of memory. */
SL_EXPORT sl_conf *sl_conf_dup(const sl_conf *conf);
/** @brief Release a configuration. Accepts NULL. */
SL_EXPORT void sl_conf_free(sl_conf *conf);

/**
 * @brief Set property name from text, validating name, type and range.
 * A name starting with "kafka." that is not in the property table is a
 * client library's property (librdkafka's, without the prefix): kept as
 * given, in the order set, and validated by that library when a
 * connector uses it (sl_conf_passthrough_at).
 * @returns SL_OK, SL_ECONF (unknown name or bad value; errbuf says which),
 * SL_ENOMEM. errbuf may be NULL.
 */
SL_EXPORT sl_status sl_conf_set(sl_conf *conf, const char *name,
                                const char *value, char *errbuf, size_t errlen);

/**
 * @brief Current value of property name as text (borrowed, valid until the
 * property is set again), or NULL for an unknown name.
 */
SL_EXPORT const char *sl_conf_get(const sl_conf *conf, const char *name);

/**
 * @brief Typed getters. Int, size and duration (ms) properties read as
 * int64; bool as bool. Unknown names or other types give SL_ECONF.
 */
SL_EXPORT sl_status sl_conf_get_int(const sl_conf *conf, const char *name,
                                    int64_t *out);
SL_EXPORT sl_status sl_conf_get_bool(const sl_conf *conf, const char *name,
                                     bool *out);

/**
 * @brief The i-th pass-through property set on conf (0-based, in the
 * order first set; see sl_conf_set): *name with its prefix ("kafka.
 * bootstrap.servers") and *value, both borrowed.
 * @returns false past the last.
 */
SL_EXPORT bool sl_conf_passthrough_at(const sl_conf *conf, size_t i,
                                      const char **name, const char **value);

/**
 * @brief Row i of the property table (0-based), or NULL past the end; used
 * by help texts and docs generation.
 */
SL_EXPORT const sl_conf_property *sl_conf_property_at(size_t i);

/* ---------------------------------------------------------------- logging */

/** @brief Log levels, most severe first. */
typedef enum sl_log_level {
    SL_LOG_ERROR = 0,
    SL_LOG_WARN,
    SL_LOG_INFO,
    SL_LOG_DEBUG
} sl_log_level;

/**
 * @brief A log sink. Called from whichever sluice thread logs; must be
 * thread-safe. msg is NUL-terminated and has no trailing newline.
 */
typedef void (*sl_log_fn)(sl_log_level level, const char *msg, void *user);

/** @brief Name of a level ("error", "warn", "info", "debug"). */
SL_EXPORT const char *sl_log_level_name(sl_log_level level);

#ifdef __cplusplus
}
#endif
#endif /* SLUICE_CORE_H */
