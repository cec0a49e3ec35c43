/*
 * Record formats shared by every text source: a line of text becomes one
 * record as a plain line, a JSON value (JSON lines) or a CSV row; lines
 * that are no record are counted and can go to a dead-letter file.
 * With a schema, lines become typed rows (rows.c). Internal to sluice
 * (sl__ names); includes only core/core.h and the public schema header.
 */
#ifndef SL_CORE_RECORDS_H
#define SL_CORE_RECORDS_H

#include "core/core.h"

#include <sluice/schema.h>

#include <pthread.h>

/* --------------------------------------------------------------- cJSON */

struct cJSON;

/**
 * The one way sluice calls cJSON's parser: cJSON_ParseWithLengthOpts
 * (text, len, end, require_nul) under the lock that serialises cJSON's
 * global state (its error position, written on every parse, and its
 * allocation hooks). Returns the tree (cJSON_Delete frees it) or NULL;
 * thread-safe.
 */
struct cJSON *sl__json_parse(const char *text, size_t len, const char **end,
                             bool require_nul);
/** Take and release that lock around other calls that touch cJSON's
 * global state (cJSON_InitHooks). */
void sl__json_lock(void);
void sl__json_unlock(void);

/* ------------------------------------------------------------ formats */

/** The record formats of a text source. */
typedef enum sl__rec_format {
    SL__REC_LINES, /* the line itself, a string view (the default) */
    SL__REC_JSON,  /* one JSON value per line */
    SL__REC_CSV    /* one CSV row per line, a tuple of strings */
} sl__rec_format;

/** Parse a format name ("lines", "json", "csv"); SL_EPARSE otherwise. */
sl_status sl__rec_format_parse(const char *name, sl__rec_format *out);

/** The name of a format ("lines", "json", "csv"). */
const char *sl__rec_format_name(sl__rec_format f);

/*
 * What a typed reader does with a malformed record (Spark's "mode" option,
 * docs/sql.md "Reading rows"). Every malformed record is counted in the
 * reader's malformed counter and can go to a dead-letter file.
 */
typedef enum sl__parse_mode {
    SL__PARSE_PERMISSIVE,     /* a row anyway: nulls, _corrupt_record */
    SL__PARSE_DROP_MALFORMED, /* no row */
    SL__PARSE_FAIL_FAST       /* no row, and the job fails */
} sl__parse_mode;

/** Parse a mode name ("permissive", "drop_malformed", "fail_fast"; Spark's
 * "PERMISSIVE", "DROPMALFORMED", "FAILFAST" too, case-insensitively);
 * SL_EPARSE otherwise. */
sl_status sl__parse_mode_parse(const char *name, sl__parse_mode *out);

/** The name of a mode ("permissive", "drop_malformed", "fail_fast"). */
const char *sl__parse_mode_name(sl__parse_mode m);

/** How a text source turns lines into records. */
typedef struct sl__rec_options {
    sl__rec_format format;
    char separator; /* csv: between fields, default ',' */
    char quote;     /* csv: around fields, default '"'; '\0' = no quoting */
    bool header;    /* csv: the first line of each file names the columns */
    /* csv with a schema: a line of exactly the schema's column names is a
     * header line, no record and not malformed, wherever it comes (each
     * client of a listening socket may send its own) */
    bool header_optional;
    const char *const *columns; /* csv: given names (header false) */
    size_t ncolumns;            /* number of given names */
    const sl_schema *schema;    /* rows of this schema; NULL: untyped */
    sl__parse_mode mode;        /* typed: malformed records (permissive) */
} sl__rec_options;

/** Defaults: lines; for CSV ',' and '"', no header, no given columns. */
void sl__rec_options_init(sl__rec_options *o);

/**
 * Check options before a source keeps them: separator and quote differ
 * and are neither '\n' nor '\r', header and given columns exclude each
 * other; a schema: lines need one string column, CSV only scalar types
 * other than binary (as Spark's CSV reader), given columns exclude it, a
 * `_corrupt_record` column is a string. SL_EINVAL with err saying why.
 */
sl_status sl__rec_options_check(const sl__rec_options *o, char *err,
                                size_t errlen);

/* ------------------------------------------------------------- reader */

/*
 * Where parsed records get their memory: n bytes, 8-aligned, that outlive
 * the record (a task's memory through a small adapter, or an arena);
 * NULL when out of memory.
 */
typedef void *(*sl__rec_alloc_fn)(void *ctx, size_t n);

/** n bytes at s copied into alloc memory as a string value (the empty
 * string needs none). SL_ENOMEM. */
sl_status sl__rec_copy_str(const char *s, size_t n, sl__rec_alloc_fn alloc,
                           void *ctx, sl_value *out);

/** An sl__rec_alloc_fn over an sl__arena (ctx is the arena). */
void *sl__rec_arena_alloc(void *ctx, size_t n);

/*
 * The state of reading one file (or one stream): the CSV header, read
 * once, and the column count every line is checked against. One reader
 * per file, used by one thread at a time. The fields are private to
 * records.c, apart from the counters, which callers may read.
 */
typedef struct sl__rec_reader {
    sl__rec_format format;
    char separator, quote;
    bool header;          /* csv: the next line read is the header */
    bool header_failed;   /* csv: the header line was malformed */
    bool header_optional; /* csv: the options' header_optional */
    size_t ncolumns;      /* csv: fixed column count, 0 until known */
    char **names;         /* csv: ncolumns names, or NULL (one sl_malloc) */
    int64_t lines;        /* lines passed to sl__rec_parse */
    int64_t records;      /* lines that gave a record */
    int64_t malformed;    /* malformed lines (typed permissive rows too) */
    sl_schema *schema;    /* typed: a reference, or NULL */
    sl__parse_mode mode;
    int corrupt;        /* typed: the _corrupt_record column, or -1 */
    bool row_malformed; /* typed permissive: the last row was malformed */
    bool fail;          /* typed fail_fast: a malformed record was met */
} sl__rec_reader;

/**
 * A reader for options o (checked with sl__rec_options_check); it copies
 * what it keeps of o. SL_EINVAL or SL_ENOMEM with err saying why; on
 * failure nothing needs freeing. Free with sl__rec_reader_free.
 */
sl_status sl__rec_reader_init(sl__rec_reader *r, const sl__rec_options *o,
                              char *err, size_t errlen);

/** Free what the reader owns (the column names, its schema reference).
 * Accepts NULL. */
void sl__rec_reader_free(sl__rec_reader *r);

/**
 * What became of a malformed record that did not fail the job, for log
 * messages: "dropped (no schema)", "dropped (parse_mode drop_malformed)"
 * or "kept with NULLs (parse_mode permissive)" (a static string).
 */
const char *sl__rec_malformed_fate(const sl__rec_reader *r);

/**
 * Parse one line (no trailing "\n" or "\r\n": the caller strips them) into
 * a record in *out.
 * - lines: the line as a string view (no copy);
 * - json: the value, strings copied into alloc memory (numbers with no
 *   fraction part and |x| <= 2^53 are ints, others doubles; an array of
 *   2 is a pair, other arrays lists; an object is a list of (key, value)
 *   pairs in document order);
 * - csv: a tuple of strings, one per column, views into line unless a
 *   field has doubled quotes (then copied into alloc memory).
 * Item arrays come from alloc; string views into line need line to
 * outlive the record (as a receive block does).
 * With a schema the record is a row (rows.c, docs/sql.md "Reading rows"):
 * a tuple with one item per column, converted to the column types. A
 * malformed row in permissive mode is SL_OK with r->row_malformed set,
 * err saying why (the caller writes its dead letter as for SL_EPARSE) and
 * counted in r->records and r->malformed; in drop_malformed and
 * fail_fast mode it is SL_EPARSE, and fail_fast sets r->fail.
 * @returns SL_OK; SL_ENOTFOUND for a line that is no record (the CSV
 * header); SL_EPARSE for a malformed line (counted in r->malformed), err
 * saying why; SL_ENOMEM.
 */
sl_status sl__rec_parse(sl__rec_reader *r, const char *line, size_t len,
                        sl__rec_alloc_fn alloc, void *alloc_ctx, sl_value *out,
                        char *err, size_t errlen);

/**
 * The CSV column count (0 while unknown, and for other formats) and in
 * *names their names (NULL when the columns have no names), borrowed
 * from the reader, valid while it lives.
 */
size_t sl__rec_columns(const sl__rec_reader *r, const char *const **names);

/* ------------------------------------------------------- typed rows */

/*
 * The fields of one CSV line as a tuple of strings (views into line, or
 * copies from alloc for fields with doubled quotes), however many there
 * are: the tokenizer sl__rec_parse uses, shared with rows.c. SL_EPARSE
 * with err saying why; SL_ENOMEM.
 */
sl_status sl__csv_split(const sl__rec_reader *r, const char *line, size_t len,
                        sl__rec_alloc_fn alloc, void *ctx, sl_value *out,
                        char *err, size_t errlen);

/* The checks of a JSON line cJSON cannot be trusted with (blank, NUL
 * bytes, "\u0000", nesting over 64 levels), shared with rows.c. */
sl_status sl__json_prescan(const char *line, size_t len, char *err,
                           size_t errlen);

/* The index of a schema's `_corrupt_record` column, or -1 (rows.c). */
int sl__rows_corrupt_column(const sl_schema *s);

/* rows.c: the options check and the parse of a data line with a schema
 * (the CSV header and byte order mark already taken by records.c). */
sl_status sl__rows_check(const sl__rec_options *o, char *err, size_t errlen);
sl_status sl__rows_parse(sl__rec_reader *r, const char *line, size_t len,
                         sl__rec_alloc_fn alloc, void *ctx, sl_value *out,
                         char *err, size_t errlen);

/* rows.c: whether a CSV line is the schema's column names in order
 * (ASCII case-insensitively, unquoted, `_corrupt_record` left out). */
bool sl__rows_is_header(const sl__rec_reader *r, const char *line, size_t len);

/* rows.c: the parsed object of a JSON line (one object, nothing after
 * it), or NULL with why; rows_infer.c infers a schema from it. */
struct cJSON *sl__rows_json_root(const char *line, size_t len, char *why,
                                 size_t n);

/**
 * The schema `streamctl sql` reads a CSV file with when none is given:
 * every column a string, named by the header line (Spark's header
 * handling: an empty name becomes `_c<i>`, a duplicate name (compared
 * case-insensitively) gets its 0-based index appended). The options'
 * separator and quote apply. SL_EPARSE (a malformed header), SL_ENOMEM,
 * err saying why; *out released with sl_schema_release.
 */
sl_status sl__rec_infer_csv_header(const sl__rec_options *o, const char *line,
                                   size_t len, sl_schema **out, char *err,
                                   size_t errlen);

/**
 * The schema of a JSON-lines file from its first record (an object):
 * integral numbers long, other numbers double, booleans, strings, null
 * string, arrays array<type of their first non-null item> (string when
 * none), objects struct<...>. The fields sorted by name, as Spark's JSON
 * schema inference does. SL_EPARSE, SL_ENOMEM, err saying why.
 */
sl_status sl__rec_infer_json(const char *line, size_t len, sl_schema **out,
                             char *err, size_t errlen);

/* ------------------------------------------------------ streamed lines */

/** Longest text a too-long record keeps in its dead letter (1 KiB). */
#define SL__DEAD_TEXT_MAX 1024

/*
 * Lines cut from a byte stream that arrives chunk by chunk, in one bounded
 * buffer: "\n" ends a line and a "\r" before it is dropped, a last line
 * without "\n" is a line (as sl__next_line cuts them). A line longer than
 * max bytes is never buffered whole: it is dropped up to its "\n" as it
 * arrives, its first SL__DEAD_TEXT_MAX bytes kept (for its dead letter),
 * and reported once at its end (as the socket receiver does). The buffer
 * grows to at most max + 2 + chunk bytes, whatever the stream's length.
 * The fields are private to records.c.
 */
typedef struct sl__line_splitter {
    char *buf;
    size_t cap, limit; /* current size, and the most it grows to */
    size_t chunk;      /* room a refill gets at least */
    size_t start, end; /* pending bytes: buf[start, end) */
    size_t scanned;    /* bytes from start known to hold no "\n" */
    size_t max;        /* longest line */
    bool skipping;     /* dropping bytes up to the next "\n" */
    int64_t offset;    /* stream offset of buf[0] */
    int64_t line_at;   /* stream offset of the line last returned */
    bool long_open;    /* skipping is the rest of a long line to report */
    int64_t long_at;   /* ... its stream offset */
    size_t long_len;   /* its bytes so far (at the end: without "\r") */
    size_t head_len;   /* its first bytes kept in head */
    char last;         /* its last byte so far */
    char head[SL__DEAD_TEXT_MAX];
} sl__line_splitter;

/** What sl__lines_next found. */
typedef enum sl__line_result {
    SL__LINE_MORE, /* no complete line pending: refill, or end */
    SL__LINE_OK,   /* a line of at most max bytes */
    SL__LINE_LONG  /* a line over max bytes, dropped (reported once) */
} sl__line_result;

/**
 * A splitter for lines of at most max bytes (>= 1), refilled chunk bytes
 * (>= 1) at a time; nothing is allocated before the first refill. Free
 * with sl__lines_free.
 */
void sl__lines_init(sl__line_splitter *s, size_t max, size_t chunk);

/** Free the buffer. Accepts a splitter that never allocated. */
void sl__lines_free(sl__line_splitter *s);

/**
 * Drop the stream's bytes up to and including its first "\n", unreported
 * (a split of a file skips the line that began in the split before).
 */
void sl__lines_skip_first(sl__line_splitter *s);

/**
 * Room for the next chunk: at least one byte, *room of them at the
 * returned pointer; lines returned before are invalid from this call on.
 * NULL when out of memory.
 */
char *sl__lines_space(sl__line_splitter *s, size_t *room);

/** n bytes were written at the pointer sl__lines_space returned. */
void sl__lines_added(sl__line_splitter *s, size_t n);

/**
 * The next line, a view into the buffer valid until sl__lines_space, in
 * *line and *len (SL__LINE_OK); for SL__LINE_LONG, once the long line
 * ended, its first bytes (at most SL__DEAD_TEXT_MAX; the whole length is
 * sl__lines_long_len). At end of stream (at_eof), what is left is the
 * last line. SL__LINE_MORE when more bytes are needed (or, at end of
 * stream, when nothing is left).
 */
sl__line_result sl__lines_next(sl__line_splitter *s, bool at_eof,
                               const char **line, size_t *len);

/** Length of the long line the last sl__lines_next returned ("\r" of a
 * CRLF not counted). */
size_t sl__lines_long_len(const sl__line_splitter *s);

/** Stream offset of the line the last sl__lines_next returned. */
int64_t sl__lines_line_at(const sl__line_splitter *s);

/**
 * Stream offset of the first byte not yet cut into a line (the start of
 * the pending line); -1 while a long line is being dropped.
 */
int64_t sl__lines_pending_at(const sl__line_splitter *s);

/* ------------------------------------------------------- dead letters */

/*
 * A dead-letter file: one JSON object per record set aside, whatever the
 * reason and whoever sets it aside (docs/job-file.md, "Dead letters"):
 * {"time_ms", "batch", "origin": {"source": NAME} or {"stream": NAME,
 * "op": INDEX}, "reason", "error", "text" or "value"} plus "text_b64"
 * (the exact bytes) when the text is not UTF-8, "truncated": true when the
 * text is only the start of the record, and a file's "file" and "line".
 * Appended; shared by threads, and several may append to one path.
 */
typedef struct sl__dead_letters sl__dead_letters;

/** One record set aside: what sl__dead_letters_put writes. */
typedef struct sl__dead_letter {
    int64_t time_ms;    /* when (wall clock, ms); 0 = now */
    int64_t batch;      /* the batch's id, or -1: none yet (null) */
    const char *source; /* origin: a source's name, or NULL and ... */
    const char *stream; /* ... a stream's name and */
    int op;             /* ... its operator's index (from 0) */
    const char *reason; /* "malformed", "bad_value", "too_long", ... */
    const char *error;  /* why, for a person */
    const char *text;   /* the record's bytes (text_len of them), or NULL */
    size_t text_len;
    bool truncated;    /* text is only the record's start */
    const char *value; /* instead of text: the value as JSON, or NULL */
    const char *file;  /* a file's name and line (from 1; 0: unknown), or */
    int64_t line;      /* NULL */
} sl__dead_letter;

/*
 * A context's counts of records set aside, which every dead-letter handle
 * and the job's on_bad_record of the context add to (what
 * sl_context_bad_record_stats reads); any thread.
 */
typedef struct sl__bad_counts {
    _Atomic int64_t skipped, dead_lettered; /* on_bad_record's */
    _Atomic int64_t rejected;               /* SQL streams' reject_when */
    _Atomic int64_t late;                   /* behind the watermark */
    _Atomic int64_t written, failed;        /* dead letters' writes */
    _Atomic int64_t dropped;                /* never written: too many waited */
    const sl__logger *log;                  /* failed writes reported there */
    _Atomic int64_t failed_logged_ms;       /* ... at most every 10 s */
    _Atomic int64_t pending;                /* queued by put_async, unwritten */
    pthread_mutex_t lock;                   /* for idle */
    pthread_cond_t idle;                    /* pending fell to 0 */
    /* A trial build's context (sl_job_check), never run: no dead-letter
     * file is opened (sl__dead_letters_open gives NULL), none made. */
    bool trial;
} sl__bad_counts;

/** Set c up to report to log (which outlives c). */
void sl__bad_counts_init(sl__bad_counts *c, const sl__logger *log);
/** Release what init set up. */
void sl__bad_counts_destroy(sl__bad_counts *c);
/**
 * Wait (at most timeout_ms) until every dead letter queued by put_async
 * with these counts is written or failed, so that the counts are final
 * once the threads that queue them are gone. false on the timeout.
 */
bool sl__bad_counts_drain(sl__bad_counts *c, int64_t timeout_ms);

/**
 * The dead-letter file a source writes to: its own key of own (NULL:
 * none), else own's "dead_letter" (a job's sources get the job's), else
 * ctx_conf's "dead_letter" (a C program's context); NULL when all are
 * empty. Borrowed from the confs.
 */
const char *sl__dead_letter_path(const sl_conf *own, const char *key,
                                 const sl_conf *ctx_conf);

/** Count n dead letters that failed (or were dropped, dropped true) and
 * report them, rate-limited, as an error naming what and why. */
void sl__bad_counts_lost(sl__bad_counts *c, int64_t n, bool dropped,
                         const char *what, const char *why);

/**
 * Open (create with mode 0644, or append to) the dead-letter file at
 * path; its writes and failed writes are counted in counts (NULL: only in
 * the handle), a failed write reported to counts->log. SL_EIO or
 * SL_ENOMEM with err saying why. Close with sl__dead_letters_close.
 * Under a trial build's counts, *out is NULL (no file), as when none is
 * configured.
 */
sl_status sl__dead_letters_open(const char *path, sl__bad_counts *counts,
                                sl__dead_letters **out, char *err,
                                size_t errlen);

/**
 * Append one record set aside (time_ms 0: stamped now): strings
 * JSON-escaped through the one escaper (sl__json_escape: each ill-formed
 * UTF-8 sequence as U+FFFD, counted), and when the text is not UTF-8 its
 * exact bytes in base64 as "text_b64". One write per record; thread-safe.
 * SL_EIO, SL_ENOMEM: the record is lost, counted (sl__dead_letters_failed
 * and the counts) and reported here, so callers need not.
 */
sl_status sl__dead_letters_put(sl__dead_letters *d, const sl__dead_letter *r);

/**
 * sl__dead_letters_put of r with row (a tuple typed by s) as its "value",
 * a JSON object of s's columns: what SQL streams set aside (rejected and
 * late rows). Out of memory loses the record, counted and reported.
 */
void sl__dead_letters_put_row(sl__dead_letters *d, sl__dead_letter *r,
                              const sl_schema *s, const sl_value *row);

/** Most formatted bytes sl__dead_letters_put_async lets wait (4 MiB). */
#define SL__DEAD_QUEUE_BYTES ((size_t)4 << 20)

/**
 * As sl__dead_letters_put, but the record is formatted here and written
 * by the handle's writer thread (started by the first call), so a thread
 * that must not block on the disk (the I/O thread) never does. When more
 * than SL__DEAD_QUEUE_BYTES wait, the record is dropped: counted in the
 * counts' dropped and reported (rate-limited). Written in call order;
 * sl__dead_letters_close writes what waits first.
 */
void sl__dead_letters_put_async(sl__dead_letters *d, const sl__dead_letter *r);

/** Lines written so far (thread-safe). */
int64_t sl__dead_letters_count(const sl__dead_letters *d);
/** Records whose write failed so far (thread-safe). */
int64_t sl__dead_letters_failed(const sl__dead_letters *d);
/** Ill-formed UTF-8 sequences written as U+FFFD so far (thread-safe). */
int64_t sl__dead_letters_replaced(const sl__dead_letters *d);

/** Write what put_async queued, close the file and free d. Accepts NULL. */
void sl__dead_letters_close(sl__dead_letters *d);

#endif /* SL_CORE_RECORDS_H */
