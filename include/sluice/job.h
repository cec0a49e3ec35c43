/*
 * sluice job files: a whole pipeline (sources, streams of operators with
 * built-in functions, sinks) described in JSON, checked with every problem
 * reported by its JSON path, and built into a streaming context. The format
 * is documented in docs/job-file.md; streamctl is a thin shell over this.
 */
#ifndef SLUICE_JOB_H
#define SLUICE_JOB_H

#include "control.h"
#include "stream.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @brief A parsed job file and, once built, its context (opaque). */
typedef struct sl_job sl_job;

/**
 * @brief Parse and validate the job in text (len bytes, JSON). origin names
 * the text in messages (a file name; may be NULL). A job comes back even
 * when it is invalid, so its problems can be listed; NULL only when out of
 * memory.
 */
SL_EXPORT sl_job *sl_job_parse(const char *text, size_t len,
                               const char *origin);
/**
 * @brief Read and parse the job file at path. A file that cannot be read is
 * reported as a problem of the returned job; NULL only when out of memory.
 */
SL_EXPORT sl_job *sl_job_load(const char *path);
/**
 * @brief Check the syntax of one override "PATH=VALUE" (streamctl's
 * --set) without a job: PATH dotted ("sources.lines.port",
 * "sinks[0].path") or a JSON path ("$.sources[\"a.b\"].port"), then '=',
 * then VALUE (JSON, else a string). docs/streamctl.md states the grammar.
 * @param errbuf Gets "--set ASSIGNMENT: MESSAGE" on failure (may be NULL).
 * @returns SL_OK; SL_EINVAL for a missing '=', an empty segment, a bad or
 * unterminated bracket or quote (the message says which and where).
 */
SL_EXPORT sl_status sl_job_check_set(const char *assignment, char *errbuf,
                                     size_t errlen);
/**
 * @brief sl_job_parse, with overrides applied to the document before it is
 * checked: sets[0..nsets) are "PATH=VALUE" as sl_job_check_set takes
 * them, applied in order, each creating the objects missing along its
 * path. An override that does not fit the document (a field of a
 * non-object, an index of a non-array or past its end, bad syntax) is a
 * problem "--set ASSIGNMENT: MESSAGE" and the job is not checked further;
 * a value that makes the job invalid gives the usual problems. text is
 * not changed. nsets 0 is sl_job_parse.
 * @returns As sl_job_parse (freed by sl_job_free; NULL only when out of
 * memory).
 */
SL_EXPORT sl_job *sl_job_parse_with_overrides(const char *text, size_t len,
                                              const char *origin,
                                              const char *const *sets,
                                              size_t nsets);
/**
 * @brief sl_job_load with overrides, as sl_job_parse_with_overrides
 * applies them. The file is only read, never changed.
 */
SL_EXPORT sl_job *sl_job_load_with_overrides(const char *path,
                                             const char *const *sets,
                                             size_t nsets);
/** @brief Free the job, stopping and freeing its context first. NULL ok. */
SL_EXPORT void sl_job_free(sl_job *job);

/** @brief Number of problems found; 0 means the job is valid. */
SL_EXPORT size_t sl_job_problem_count(const sl_job *job);
/**
 * @brief Problem i as "PATH: MESSAGE", e.g. "$.streams.counts.ops[0].fn:
 * unknown function \"sums\"" (borrowed; NULL past the end). Problems come
 * in the order of the file.
 */
SL_EXPORT const char *sl_job_problem(const sl_job *job, size_t i);
/** @brief sl_job_check_env flag: the job starts now (see below). */
#define SL_JOB_ENV_AT_START 1u

/**
 * @brief Check what a valid job needs from its environment, without
 * running it: each directory source's directory, each socket source's host
 * (looked up, at most 2 s), each dead-letter file and save_as_text_files
 * prefix (can they be written). What is certainly wrong is added to the
 * problems; what may still change is a warning (sl_job_warning). A missing
 * directory (without create_if_missing) is a warning, or with
 * SL_JOB_ENV_AT_START a problem. docs/job-file.md lists every check.
 * @returns SL_OK (problems and warnings may have been added); SL_EINVAL
 * for a job that already has problems (nothing checked); SL_ENOMEM.
 */
SL_EXPORT sl_status sl_job_check_env(sl_job *job, unsigned flags);
/** @brief Number of warnings sl_job_check_env found. */
SL_EXPORT size_t sl_job_warning_count(const sl_job *job);
/**
 * @brief Warning i as "PATH: warning: MESSAGE" (borrowed; NULL past the
 * end).
 */
SL_EXPORT const char *sl_job_warning(const sl_job *job, size_t i);
/** @brief The job's "name" (borrowed), or NULL when it has none. */
SL_EXPORT const char *sl_job_name(const sl_job *job);
/**
 * @brief Fill *opts (version, name and the job file's "ui") for
 * sl_control_attach; the strings are borrowed from job. Other members
 * are left as they were.
 */
SL_EXPORT void sl_job_control_options(const sl_job *job,
                                      sl_control_options *opts);

/**
 * @brief Build the job's streaming context: its configuration, sources,
 * streams and sinks, not yet started. *out is borrowed and freed by
 * sl_job_free. A job can be built once.
 * @returns SL_OK; SL_EINVAL for a job with problems; otherwise the
 * failure, with the reason (and its JSON path) in sl_job_errmsg().
 */
SL_EXPORT sl_status sl_job_build(sl_job *job, sl_context **out);
/**
 * @brief Build the job as a trial, to find what only building finds (SQL
 * names and types bound against the sources' schemas, static tables read)
 * without creating any file; the job cannot be built or run after it.
 * @returns as sl_job_build.
 */
SL_EXPORT sl_status sl_job_check(sl_job *job);
/**
 * @brief After sl_job_build: the stream (or source) of the job called
 * name, so a program can add its own outputs before starting the context;
 * NULL when there is none or the job is not built.
 */
SL_EXPORT sl_dstream *sl_job_stream(sl_job *job, const char *name);
/** @brief Why the last call on job failed (borrowed), "" if none. */
SL_EXPORT const char *sl_job_errmsg(const sl_job *job);

/** @brief Kinds of built-in function, by the operator argument they fill. */
typedef enum sl_job_fn_kind {
    SL_JOB_FN_MAP,       /* one value in, one out: map, map_values, create */
    SL_JOB_FN_FLAT_MAP,  /* one value in, zero or more out: flat_map */
    SL_JOB_FN_PREDICATE, /* one value in, keep or drop: filter */
    SL_JOB_FN_REDUCE     /* two values in, one out: reduce, state folds */
} sl_job_fn_kind;

/** @brief One built-in function of the registry, for help texts and docs. */
typedef struct sl_job_fn_info {
    const char *name;
    sl_job_fn_kind kind;
    const char *arg;     /* what "arg" must be, or NULL when it takes none */
    const char *summary; /* one line */
} sl_job_fn_info;

/** @brief Built-in function i (0-based), or NULL past the end. */
SL_EXPORT const sl_job_fn_info *sl_job_function_at(size_t i);
/** @brief Operator name i of the registry (0-based), NULL past the end. */
SL_EXPORT const char *sl_job_operator_at(size_t i);
/** @brief Source type i of the registry (0-based), NULL past the end. */
SL_EXPORT const char *sl_job_source_type_at(size_t i);

#ifdef __cplusplus
}
#endif
#endif /* SLUICE_JOB_H */
