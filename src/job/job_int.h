/*
 * Internals of job files: the validated model of a job (sources, streams of
 * operators, sinks), the problem list, and the registries (built-in
 * functions, operators, source types, sink types) that the parser checks
 * against and build.c turns into a streaming context.
 */
#ifndef SL_JOB_JOB_INT_H
#define SL_JOB_JOB_INT_H

#include <cJSON.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sluice/job.h>

#include "core/core.h"

/* --------------------------------------------------------------- limits */

/*
 * What parsing a job may take, checked before anything big is built: the
 * file's size, its JSON values (cJSON makes one node of about 80 bytes per
 * value) and their nesting. docs/job-file.md lists them.
 */
#define JOB_MAX_BYTES ((size_t)16 << 20)
#define JOB_MAX_BYTES_TEXT "16 MiB"
#define JOB_MAX_VALUES 1000000
#define JOB_MAX_VALUES_TEXT "1000000"
#define JOB_MAX_NESTING 64
#define JOB_MAX_NESTING_TEXT "64"
/*
 * The most operators on a path through a job's streams, from a source to
 * the end of a stream. One operator builds at most 5 engine streams
 * (count_by_window), so a valid job stays within SL_MAX_STREAM_DEPTH.
 */
#define JOB_MAX_DEPTH 200
_Static_assert(1 + 5 * JOB_MAX_DEPTH <= SL_MAX_STREAM_DEPTH,
               "a job at JOB_MAX_DEPTH must build");

/*
 * Check that text (len bytes, no NUL) is one JSON value cJSON accepts,
 * within JOB_MAX_VALUES and JOB_MAX_NESTING, without allocating. On
 * failure *at is the byte offset of the problem and *why says what it is
 * (NULL for a plain syntax error); *limit tells a limit from bad syntax.
 */
bool sl__job_scan(const char *text, size_t len, size_t *at, const char **why,
                  bool *limit);

/* ------------------------------------------------------------ functions */

typedef struct job_fn job_fn;

/* What a built-in function's "arg" must be. */
typedef enum fn_arg {
    ARG_NONE,
    ARG_ANY,    /* any value */
    ARG_NUMBER, /* an integer or a double */
    ARG_ORDER,  /* a number or a string */
    ARG_REPEAT, /* an integer 0..1000 */
    ARG_FNLIST  /* a non-empty array of map functions */
} fn_arg;

/* Where a map function or predicate looks in a record. */
typedef enum fn_on { ON_ELEMENT, ON_KEY, ON_VALUE } fn_on;

/* One row of the function registry. */
typedef struct fn_def {
    sl_job_fn_info info;
    fn_arg arg;
    sl_status (*map)(sl_task *t, const job_fn *f, const sl_value *in,
                     sl_value *out);
    sl_status (*flat)(sl_task *t, const job_fn *f, const sl_value *in);
    sl_status (*pred)(sl_task *t, const job_fn *f, const sl_value *in,
                      bool *out); /* t NULL: no task to fail */
    sl_status (*reduce)(sl_task *t, const job_fn *f, const sl_value *a,
                        const sl_value *b, sl_value *out);
} fn_def;

/* on_bad_record: what a built-in map function does with a value it
 * cannot handle. */
typedef enum bad_policy { BAD_FAIL, BAD_SKIP, BAD_DEAD_LETTER } bad_policy;

/* The job's bad records: policy, dead-letter file and count, shared by
 * the worker threads (functions.c). */
typedef struct job_bad {
    bad_policy policy;
    struct sl__dead_letters *dead; /* BAD_DEAD_LETTER: opened by build */
    sl_context *ctx;               /* where the warnings go */
    pthread_mutex_t lock;          /* logged_ms (sl__rate_due: one thread) */
    int64_t logged_ms;
    _Atomic int64_t count;
} job_bad;

/* A built-in function as a job uses it: the row, its argument, its "on". */
struct job_fn {
    const fn_def *def;
    sl_value arg;  /* ARG_* constant, in the job's arena */
    fn_on on;      /* map functions and predicates */
    job_fn **subs; /* ARG_FNLIST */
    size_t nsubs;
    size_t max_bytes;   /* the job's max_record_bytes */
    job_bad *bad;       /* the job's policy */
    const char *stream; /* where the function is: stream and op index */
    int op;
};

/* The registry row called name, or NULL. */
const fn_def *sl__job_fn_find(const char *name);
/* What arg must be, in words, for messages ("a number"). */
const char *sl__job_fn_arg_words(fn_arg a);
/* The name of a function kind ("map", "reduce"). */
const char *sl__job_fn_kind_name(sl_job_fn_kind k);

/* Apply f as an operator's function (the user pointer is the job_fn). */
sl_status sl__job_fn_map(sl_task *t, const sl_value *in, sl_value *out,
                         void *user);
sl_status sl__job_fn_flat_map(sl_task *t, const sl_value *in, void *user);
bool sl__job_fn_pred(const sl_value *in, void *user);
sl_status sl__job_fn_reduce(sl_task *t, const sl_value *a, const sl_value *b,
                            sl_value *out, void *user);
/* map and map_values under a policy other than fail: a flat_map that
 * emits the mapped record, or nothing for a bad one. */
sl_status sl__job_fn_map_or_drop(sl_task *t, const sl_value *in, void *user);
/* A filter as a flat_map (emits in when the predicate holds), so that a
 * value the predicate cannot judge follows on_bad_record. */
sl_status sl__job_fn_filter(sl_task *t, const sl_value *in, void *user);
/* At build: set b up and open the job's dead-letter file when
 * BAD_DEAD_LETTER or want_file (a SQL stream's reject_when writes there
 * too) asks for it; err says why. */
sl_status sl__job_bad_open(job_bad *b, const sl_conf *conf, sl_context *ctx,
                           bool want_file, char *err, size_t errlen);
/* Close what sl__job_bad_open opened. */
void sl__job_bad_close(job_bad *b);

/* ------------------------------------------------------------ the model */

/* Operator parameters, as bits of op_def.params / op_def.required. */
enum {
    P_FN = 1u << 0,
    P_INVERSE = 1u << 1,
    P_FILTER = 1u << 2,
    P_WINDOW = 1u << 3,
    P_SLIDE = 1u << 4,
    P_PARTITIONS = 1u << 5,
    P_WITH = 1u << 6,
    P_INITIAL = 1u << 7,
    P_TIMEOUT = 1u << 8,
    P_EMIT = 1u << 9,
    P_TIMEOUT_EMIT = 1u << 10,
    P_CREATE = 1u << 11,
    P_MERGE_VALUE = 1u << 12,
    P_MERGE_COMBINERS = 1u << 13,
    P_ZERO = 1u << 14
};

/* What map_with_state emits per record or on a timeout. */
typedef enum emit_kind {
    EMIT_NONE,
    EMIT_STATE,
    EMIT_KEY,
    EMIT_VALUE,
    EMIT_PAIR
} emit_kind;

typedef struct job_op job_op;
typedef struct op_def op_def;

/* One operator of a stream, validated. */
struct job_op {
    const op_def *def;
    char *path; /* "$.streams.x.ops[i]" */
    job_fn *fn, *inverse, *filter, *create, *merge_value, *merge_combiners;
    int64_t window_ms, slide_ms, timeout_ms; /* 0 = not given */
    size_t partitions;                       /* 0 = not given */
    char **with;                             /* names, nwith of them */
    size_t nwith;
    bool with_is_array;
    sl_value *initial; /* pairs */
    size_t ninitial;
    emit_kind emit, timeout_emit;
    sl_value zero;
    bool has_zero;
};

/* Build one operator onto in (and the with streams). */
typedef sl_dstream *(*op_build_fn)(job_op *op, sl_dstream *in,
                                   sl_dstream *const *with);

/* One row of the operator registry. */
struct op_def {
    const char *name;
    unsigned params;   /* P_* allowed */
    unsigned required; /* P_* required */
    sl_job_fn_kind fn_kind;
    op_build_fn build;
};

const op_def *sl__job_op_find(const char *name);
bool sl__job_op_is_window(const op_def *d);

typedef struct job_source job_source;
typedef struct job_sink job_sink;

/* What validation can tell of a stream's records: nothing, that they
 * are (key, value) pairs, or that they certainly are not. */
typedef enum elem_kind { ELEM_UNKNOWN, ELEM_PAIR, ELEM_NOT_PAIR } elem_kind;

/*
 * The version of the source- and sink-type rows below. A row is a method
 * table: methods are only appended, a row names the version it fills,
 * and a method a row leaves NULL does nothing.
 */
#define JOB_TYPE_VERSION 1

/* A source field and the conf property it sets (NULL: the row's read). */
typedef struct source_field {
    const char *name;
    const char *conf;
} source_field;

/*
 * One row of the source-type registry (source_types.c): the one place a
 * job file's source type maps to code. sources.c checks the fields and
 * sets the conf ones on src->conf, between read and check.
 */
typedef struct source_def {
    int version;
    const char *type;
    const source_field *fields; /* besides "type"; ends with a NULL name */
    /* Read the fields the conf does not hold (host, path, batches). */
    void (*read)(sl_job *job, job_source *src, const cJSON *j);
    /* Rules between fields, after the conf ones are set. */
    void (*check)(sl_job *job, job_source *src, const cJSON *j);
    /* validate's checks of the machine (env.c's helpers). */
    void (*check_env)(sl_job *job, const job_source *src, bool at_start);
    /* Build src->stream on job->ctx; a failure is reported through
     * sl__job_fail or sl__job_ctx_fail. */
    sl_status (*build)(sl_job *job, job_source *src);
    /* What its records are, for kinds.c; for ELEM_NOT_PAIR *what says it
     * in words ("lines of text"). */
    elem_kind (*elem)(const job_source *src, const char **what);
} source_def;

const source_def *sl__job_source_find(const char *type);

/*
 * One row of the sink-type registry (sink_types.c), as source_def for
 * sinks. sinks.c reads "from", "type" and "name" of every sink.
 */
typedef struct sink_def {
    int version;
    const char *type;
    const char *const *fields; /* besides from, type and name; NULL-ended */
    void (*read)(sl_job *job, job_sink *k, const cJSON *j);
    void (*check_env)(sl_job *job, const job_sink *k, bool at_start);
    /* Register the output on from (the built stream of k->from). */
    sl_status (*build)(sl_job *job, job_sink *k, sl_dstream *from);
} sink_def;

const sink_def *sl__job_sink_find(const char *type);
/* The i-th sink type's name, or NULL past the last (for hints). */
const char *sl__job_sink_type_at(size_t i);

/* A "watermark" field (watermark.c): ok when it is complete and valid. */
typedef struct job_wm {
    const char *column, *path;
    int64_t delay_ms;
    bool ok, applied;
} job_wm;
void sl__job_read_watermark(sl_job *job, const cJSON *owner,
                            const char *owner_path, job_wm *out);
/* Declare w on s, once (later calls do nothing). */
sl_status sl__job_apply_watermark(sl_job *job, sl_dstream *s, job_wm *w);
/* The watermark field of the source or stream called name, or NULL. */
job_wm *sl__job_input_watermark(sl_job *job, const char *name);

struct job_source {
    job_wm wm;
    char *name, *path;
    const source_def *def;
    const cJSON *json;
    sl_conf *conf; /* the job's conf with this source's fields applied */
    char *host;    /* socket host, directory path */
    int port;
    size_t partitions;
    sl_value **batches; /* queue: per batch its records, NULL = no batch */
    size_t *batch_len, nbatches;
    bool viewed; /* registered as a view already */
    sl_dstream *stream;
};

typedef struct job_stream {
    job_wm wm;
    char *name, *path, *from;
    const cJSON *json;
    job_op *ops;
    size_t nops;
    int mark;             /* graph walk: 0 new, 1 on the path, 2 done */
    bool bad;             /* a problem makes its slide unknown */
    int64_t slide;        /* after its ops; 0 while unknown */
    size_t depth;         /* operators on the longest path from a source */
    int elem;             /* elem_kind of its records after its ops */
    const char *elem_why; /* where that kind comes from, for messages */
    bool int_values;      /* pairs whose values are certainly integers */
    /* "schema" (DDL) of an ops stream: how SQL streams read its records,
     * or NULL (docs/sql.md "Input rows"). */
    const char *schema;
    bool viewed; /* registered as a view already */
    sl_dstream *stream;
    /* A SQL stream ("sql" instead of "ops"; from: the one source or
     * stream its query reads): the query and its output mode. */
    const char *sql;
    int output_mode;         /* sl_output_mode */
    const char *reject_when; /* or NULL */
    bool sql_watermark;      /* its query has a WATERMARK clause */
} job_stream;

struct job_sink {
    char *name; /* "name", or "FROM.TYPE" */
    char *from, *path;
    const cJSON *json;
    const sink_def *def;
    int console_format; /* console: 0 text, 1 json, 2 table */
    size_t num;         /* console text */
    char *prefix, *suffix;
    char *dir;          /* file: "path" */
    const char *format; /* file: "format" (a file_sink.format value) */
    char *table;        /* memory: "table" */
    int64_t max_rows;   /* memory: "max_rows" (0: no limit) */
    char *topic;        /* kafka: "topic" */
    const cJSON *kafka; /* kafka: "kafka", its properties (checked) */
};

/* A static table of "tables" (for SQL streams' joins), read at build. */
typedef struct job_table {
    const char *name, *path; /* its name; its JSON path */
    const char *file;        /* "path" */
    const char *format;      /* "format", or NULL: by the extension */
    const char *schema;      /* "schema" (DDL), or NULL: inferred */
} job_table;

struct sl__sql_files;

struct sl_job {
    sl__arena arena; /* everything of the model */
    cJSON *root;
    char *origin;
    char *name;
    int ui_port;          /* "ui": the web UI's port (0: none) */
    const char *ui_bind;  /* and its address and token, or NULL */
    const char *ui_token; /* (the document's strings) */
    sl_conf *conf;
    int64_t interval_ms;
    size_t max_record_bytes;
    job_source *sources;
    size_t nsources;
    job_stream *streams;
    size_t nstreams;
    job_stream **order; /* streams, each after what it reads */
    size_t norder;
    job_sink *sinks;
    size_t nsinks;
    job_table *tables;
    size_t ntables;
    struct sl__sql_files *files; /* the tables, at build (outlives ctx) */
    struct name_ref *names;      /* sources' and streams' names, sorted */
    size_t nnames;
    bool names_built;
    char **problems;
    const cJSON **problem_at; /* the node each problem is about */
    size_t nproblems, cap_problems;
    char **warnings; /* env.c's, "PATH: MESSAGE", in the arena */
    size_t nwarnings, cap_warnings;
    sl_context *ctx;
    job_bad bad;           /* on_bad_record */
    const char *at_stream; /* while reading a stream's ops: where */
    int at_op;
    bool built, oom;
    bool trial; /* sl_job_check: built to see that it builds, never run */
    char errmsg[512];
};

/* fields.c's helpers for the parser, graph.c and kinds.c (job memory; NULL when
 * out of memory, with job->oom set). */
void *sl__job_alloc(sl_job *job, size_t n);
char *sl__job_printf(sl_job *job, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
char *sl__job_path_field(sl_job *job, const char *base, const char *name);
char *sl__job_path_index(sl_job *job, const char *base, size_t i);
const char *sl__job_fmt_ms(sl_job *job, int64_t ms);
job_source *sl__job_find_source(sl_job *job, const char *name);
job_stream *sl__job_find_stream(sl_job *job, const char *name);

/* env.c: the machine checks the type rows' check_env call. */
void sl__job_env_host(sl_job *job, const job_source *src);
void sl__job_env_directory(sl_job *job, const job_source *src, bool at_start);
/* The file conf key names (if set) can be created; at, path: its field. */
void sl__job_env_dead_letter(sl_job *job, const sl_conf *conf, const char *key,
                             const cJSON *at, const char *path);
/* Directories PREFIX-* can be created. */
void sl__job_env_prefix(sl_job *job, const job_sink *k);
/* The file sink's "path": it or its nearest existing parent a writable
 * directory. */
void sl__job_env_sink_dir(sl_job *job, const job_sink *k);

/* build.c: record a build failure at path in job->errmsg; returns st. */
sl_status sl__job_fail(sl_job *job, sl_status st, const char *path,
                       const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* The context's last failure (its status and message) at path. */
sl_status sl__job_ctx_fail(sl_job *job, const char *path);

/* graph.c: cycles and build order, slides, depth and kinds, per stream. */
void sl__job_walk_graph(sl_job *job, const cJSON *streams_json);
/* kinds.c: report operators given records they cannot take (s's inputs
 * already checked), and set s->elem. */
void sl__job_check_kinds(sl_job *job, job_stream *s);
/* What the records of the source or stream called name are (after the
 * kinds were checked); *ints: pairs whose values are certainly integers. */
elem_kind sl__job_input_elem(sl_job *job, const char *name, bool *ints);

/* views.c: a stream's "schema" DDL as written, else as types only
 * ("string, long"), named key, value (pairs true, two columns), value
 * (one column) or _1, _2, ...; why gets the error of the DDL as written. */
sl_status sl__job_view_schema_parse(const char *ddl, bool pairs,
                                    sl_schema **out, char *why, size_t n);
/* Register the source or stream called name (built: in) as the view SQL
 * streams read, once; a failure is reported at path. */
sl_status sl__job_register_view(sl_job *job, const char *name, sl_dstream *in,
                                const char *path);

/* Parse text into job, with the overrides sets[0..nsets) applied to the
 * document first (called by sl_job_parse; problems recorded). */
void sl__job_parse(sl_job *job, const char *text, size_t len,
                   const char *const *sets, size_t nsets);
/* Record a problem at path about node (NULL = the root). */
void sl__job_problem(sl_job *job, const cJSON *node, const char *path,
                     const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* A JSON value as a sluice value, deep, in the job's arena. */
sl_status sl__job_json_value(sl_job *job, const cJSON *j, sl_value *out);

/* ---------------------------------------------------------------- hints */

/* The registries a hint can draw its names from. */
typedef enum job_registry {
    REG_OPERATORS,
    REG_FUNCTIONS,
    REG_SOURCE_TYPES,
    REG_SINK_TYPES,
    REG_PROPERTIES
} job_registry;

/*
 * hints.c: the known name an unknown name most likely meant, or NULL:
 * its snake_case form (Spark's reduceByKey), Spark's own name for it
 * (batchDuration, socketTextStream), or a near miss (Damerau-Levenshtein
 * distance 1 up to 5 letters, 2 beyond). known ends with NULL; the result
 * is one of its names (borrowed).
 */
const char *sl__job_hint(const char *name, const char *const *known);
/* The same against one of the registries. */
const char *sl__job_hint_registry(const char *name, job_registry r);
/* " (did you mean \"HINT\"?)" in job memory, or "" for no hint (or when
 * out of memory, with job->oom set). */
const char *sl__job_hint_note(sl_job *job, const char *hint);
/* Record "unknown WHAT "NAME" (did you mean ...) (known: ...)" at path,
 * the hint and the known names from registry r (cut short at 255 bytes). */
void sl__job_unknown_name(sl_job *job, const cJSON *node, const char *path,
                          const char *what, const char *name, job_registry r);

#endif /* SL_JOB_JOB_INT_H */
