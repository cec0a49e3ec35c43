/*
 * Internal interface of src/core for the layers above it: arenas, the keyed
 * hash table, zero-copy line and word splitting, the logger, error
 * messages, and value copying. Not installed; names are sl__ or static.
 */
#ifndef SL_CORE_CORE_H
#define SL_CORE_CORE_H

#include <stdarg.h>
#include <stdatomic.h>
#include <sluice/core.h>

#define SL__CACHE_LINE 64
#define SL__UNUSED(x) ((void)(x))
#define SL__ALIGN_UP(n, a) (((n) + ((a)-1)) & ~((size_t)(a)-1))

/* ------------------------------------------------------------- arenas */

/*
 * A pointer-bump arena: allocations are 8-aligned, freed all at once.
 * Chunks grow geometrically up to a cap; an allocation larger than a chunk
 * gets its own. Cleanup hooks run (last added first) on reset and free.
 */
typedef struct sl__arena_chunk sl__arena_chunk;
typedef struct sl__arena_cleanup sl__arena_cleanup;

typedef struct sl__arena {
    sl__arena_chunk *head; /* current chunk; older ones follow */
    char *pos, *end;       /* free space in head */
    size_t next_size;      /* size of the next chunk */
    size_t bytes;          /* total bytes of all chunks */
    sl__arena_cleanup *cleanups;
} sl__arena;

/** Initialise an empty arena (allocates nothing yet). */
void sl__arena_init(sl__arena *a, size_t first_chunk);
/** Allocate n bytes, 8-aligned; NULL when out of memory. */
void *sl__arena_alloc(sl__arena *a, size_t n);
/** Copy n bytes into the arena. */
void *sl__arena_memdup(sl__arena *a, const void *p, size_t n);
/** A copy of the NUL-terminated s from sl_malloc; NULL for NULL s or when
 * out of memory. */
char *sl__strdup(const char *s);
/** Run fn(arg) when the arena is reset or freed. SL_ENOMEM on failure. */
sl_status sl__arena_on_cleanup(sl__arena *a, void (*fn)(void *), void *arg);
/** Free everything but keep the first chunk for reuse. */
void sl__arena_reset(sl__arena *a);
/** Free everything. The arena may be initialised again. */
void sl__arena_free(sl__arena *a);
/** True when p points into memory of this arena. */
bool sl__arena_owns(const sl__arena *a, const void *p);

/** Allocate from the arena inline when it fits (hot paths). */
static inline void *sl__arena_alloc_fast(sl__arena *a, size_t n)
{
    n = SL__ALIGN_UP(n ? n : 1, 8);
    if ((size_t)((uintptr_t)a->end - (uintptr_t)a->pos) >= n) {
        void *p = a->pos;
        a->pos += n;
        return p;
    }
    return sl__arena_alloc(a, n);
}

/* ------------------------------------------------------------- values */

/** True for the kinds whose value points to memory: strings, bytes and
 * composites (an explicit list, so a kind appended later is neither). */
static inline bool sl__kind_has_refs(uint32_t kind)
{
    return kind == SL_KIND_STR || kind == SL_KIND_BYTES ||
           sl_kind_is_composite(kind);
}

/** The out-of-line part of sl__value_copy, for strings and composites. */
sl_status sl__value_copy_deep(sl__arena *to, const sl__arena *from,
                              const sl_value *v, sl_value *out);

/**
 * Deep-copy v into arena `to`, copying bytes and items only where they lie
 * in arena `from` (a scratch arena) or everything when from is NULL.
 * Scalars (the common case on hot paths) are copied inline.
 */
static inline sl_status sl__value_copy(sl__arena *to, const sl__arena *from,
                                       const sl_value *v, sl_value *out)
{
    if (!sl__kind_has_refs(v->kind)) {
        *out = *v;
        return SL_OK;
    }
    return sl__value_copy_deep(to, from, v, out);
}
/** Copy v's bytes and items to *mem, advancing it by sl__value_deep_size. */
void sl__value_flatten(const sl_value *v, sl_value *out, char **mem);

/** Bytes a deep copy of v needs (strings and items). */
size_t sl__value_deep_size(const sl_value *v);
/** Hash of len bytes with the value hash's seedless function. */
uint64_t sl__hash_bytes(const void *p, size_t len, uint64_t h);

/**
 * Which of n parts (reducers, state shards) a key hash belongs to: the
 * high half of the hash, multiply-shifted, so tables indexed by the low
 * bits do not see keys that all share their low bits.
 */
static inline size_t sl__hash_part(uint64_t hash, size_t n)
{
    return (size_t)(((hash >> 32) * (uint64_t)n) >> 32);
}

/* ------------------------------------------------- keyed hash table */

/*
 * Open addressing with linear probing, keyed by sl_value, each slot holding
 * the key's hash, the key and a value (an sl_value, or user data through
 * the value's bytes). Power-of-two capacity, resized at 3/4 load. Keys and
 * values are stored by value: the caller makes sure what they point to
 * lives as long as the table (by copying into the table's arena).
 */
typedef struct sl__htab_slot {
    uint64_t hash; /* 0 marks an empty slot; real hashes are forced odd */
    sl_value key;
    sl_value value;
} sl__htab_slot;

typedef struct sl__htab {
    sl__htab_slot *slots;
    size_t cap;      /* power of two, or 0 */
    size_t count;    /* occupied slots */
    sl__arena arena; /* memory for copied keys and values */
} sl__htab;

/** An empty table; hint is the expected number of keys (0 = small). */
sl_status sl__htab_init(sl__htab *t, size_t hint);
/** Free the slots and the table's arena. */
void sl__htab_free(sl__htab *t);
/** The slot-level hash used by the table (odd, never 0). */
static inline uint64_t sl__htab_hash(const sl_value *key)
{
    return sl_value_hash(key) | 1;
}
/** Find key; NULL when absent. */
sl__htab_slot *sl__htab_find(sl__htab *t, const sl_value *key, uint64_t hash);
/**
 * Find key or insert it with a null value; *created says which. The slot's
 * key is the caller's key as is (copy it into t->arena when it must
 * outlive the caller's memory). NULL when out of memory.
 */
sl__htab_slot *sl__htab_upsert(sl__htab *t, const sl_value *key, uint64_t hash,
                               bool *created);
/** Iterate: *i starts at 0; returns the next occupied slot or NULL. */
sl__htab_slot *sl__htab_next(sl__htab *t, size_t *i);

/* ------------------------------------------------- lines and words */

/**
 * Next line of [*pos, end): "\n" ends a line and a "\r" before it is
 * dropped; a last line without "\n" is a line. Returns false at the end.
 */
static inline bool sl__next_line(const char **pos, const char *end,
                                 const char **line, size_t *len)
{
    const char *p = *pos, *nl;
    size_t n;
    if (p >= end)
        return false;
    nl = (const char *)__builtin_memchr(p, '\n', (size_t)(end - p));
    if (nl) {
        n = (size_t)(nl - p);
        *pos = nl + 1;
    } else {
        n = (size_t)(end - p);
        *pos = end;
    }
    if (n > 0 && p[n - 1] == '\r')
        n--;
    *line = p;
    *len = n;
    return true;
}

/** True for the bytes Java's String.split("\\s+") splits words on. */
static inline bool sl__is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
           c == '\f';
}

/**
 * Next whitespace-separated word of [*pos, end); false when none is left.
 * Runs of whitespace never produce empty words.
 */
static inline bool sl__next_word(const char **pos, const char *end,
                                 const char **word, size_t *len)
{
    const char *p = *pos, *w;
    while (p < end && sl__is_space((unsigned char)*p))
        p++;
    if (p >= end) {
        *pos = p;
        return false;
    }
    w = p;
    while (p < end && !sl__is_space((unsigned char)*p))
        p++;
    *word = w;
    *len = (size_t)(p - w);
    *pos = p;
    return true;
}

/* ------------------------------------------------------- JSON text */

/** Where a streaming writer puts its bytes. */
typedef void (*sl__emit_fn)(void *user, const char *s, size_t n);

/**
 * s[0, n) as the inside of a JSON string (no quotes), through emit: valid
 * UTF-8 passes, '"', '\\' and control characters are escaped, and each
 * ill-formed UTF-8 sequence (its maximal subpart) becomes U+FFFD, counted
 * in *replaced (may be NULL). Returns the bytes emitted. (json_out.c)
 */
size_t sl__json_escape_emit(sl__emit_fn emit, void *user, const char *s,
                            size_t n, size_t *replaced);
/** The same into out (exactly the returned length; NULL: measure only). */
size_t sl__json_escape(char *out, const char *s, size_t n, size_t *replaced);
/**
 * a and b are the same bits: kind, length, bytes and items, stricter than
 * sl_value_equal (-0.0 differs from 0.0, a NaN is itself only by its bits),
 * so that a state kept as it was is exactly the committed one (a
 * checkpoint that skipped such a change would restore another value).
 * (value.c)
 */
bool sl__value_identical(const sl_value *a, const sl_value *b);
/** True when s[0, n) is well-formed UTF-8. */
bool sl__utf8_valid(const char *s, size_t n);
/** data as base64 (RFC 4648, padded) into out; NULL: measure only. */
size_t sl__base64(char *out, const void *data, size_t n);
/** sl_value_format_json, counting replaced ill-formed UTF-8 sequences in
 * *replaced (value.c). */
size_t sl__value_format_json(const sl_value *v, char *buf, size_t cap,
                             size_t *replaced);

/* ------------------------------------------------------- logging */

/** A leveled logger: a sink and the most verbose level it passes. */
typedef struct sl__logger {
    sl_log_fn fn; /* NULL: write "sluice: <level>: msg" to stderr */
    void *user;
    sl_log_level level;
} sl__logger;

/** Log at level if the logger passes it. */
void sl__log(const sl__logger *lg, sl_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void sl__vlog(const sl__logger *lg, sl_log_level level, const char *fmt,
              va_list ap);
/** Parse "error", "warn", "info", "debug". */
sl_status sl__log_level_parse(const char *s, sl_log_level *out);

/* ------------------------------------------------- error messages */

/** An error message kept on a handle: fixed buffer, never allocates. */
typedef struct sl__errmsg {
    char text[512];
    sl_status code; /* the status the message is about: callers read the
                       code, never match the text */
} sl__errmsg;

/** Set the message (printf-style) and return st, for `return sl__err(...)`. */
sl_status sl__err(sl__errmsg *e, sl_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/** Write a message into a caller buffer (may be NULL), return st. */
sl_status sl__errbuf(char *buf, size_t len, sl_status st, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/**
 * The text of errno value err, written into buf (n bytes) and returned.
 * strerror() may share one static buffer between threads, and the engine
 * reports errors from the job, I/O and worker threads: use this instead.
 */
const char *sl__strerror(int err, char *buf, size_t n);
/**
 * sl__strerror into a buffer that lives until the end of the enclosing
 * block (a compound literal), for use as a printf argument.
 */
#define SL__STRERROR(err) sl__strerror((err), (char[128]){0}, 128)

/* ------------------------------------------------- misc */

/** Monotonic clock in ms. */
int64_t sl__now_mono_ms(void);
/**
 * For warnings that bad input could repeat without end: true the first
 * time and then when every_ms have passed since the last true (on the
 * monotonic clock); *last holds that time (0 = never). One thread only.
 */
bool sl__rate_due(int64_t *last, int64_t every_ms);
/** Wall clock (epoch) in ms. */
int64_t sl__now_wall_ms(void);
/** Number of online CPUs (at least 1). */
size_t sl__cpu_count(void);
/** Conf lookup of a property known to exist (asserts otherwise). */
int64_t sl__conf_int(const sl_conf *conf, const char *name);

/* ------------------------------------------------- ${ENV:NAME} */

/**
 * The length of the `${ENV:NAME}` reference s[0..len) starts with (NAME:
 * a letter or '_', then letters, digits and '_'), with NAME at
 * s + 6 for *name_len bytes; 0 when s does not start with one. The job
 * layer substitutes these, the control layer keeps them unredacted.
 */
size_t sl__env_ref(const char *s, size_t len, size_t *name_len);

#endif /* SL_CORE_CORE_H */
