/*
 * Internals of the job-file parser, shared by its files: fields.c's
 * readers (each records a problem at its path and returns NULL, false or
 * -1 on bad input) and the readers of the document's parts (sources.c,
 * streams.c, sinks.c) that parse.c calls.
 */
#ifndef SL_JOB_PARSE_INT_H
#define SL_JOB_PARSE_INT_H

#include "job/job_int.h"

/* Fields per object and sources, streams or sinks per job at most: the
 * duplicate-field check is quadratic and no job needs more. */
#define MAX_STREAMS 4096

/* A copy of s in job memory (NULL when out of memory, job->oom set). */
char *sl__job_strdup(sl_job *job, const char *s);
/* s quoted as JSON, at most about 60 bytes of it (job memory). */
char *sl__job_quoted(sl_job *job, const char *s);
/* s, the value of node j, quoted as sl__job_quoted does, or <redacted>
 * when j's key names a secret (sl_control_secret_key). */
char *sl__job_quoted_value(sl_job *job, const cJSON *j, const char *s);
/* The JSON type of j in words ("string", "object"). */
const char *sl__job_type_name(const cJSON *j);
/* Record "expected EXPECTED, got TYPE" at path. */
void sl__job_wrong_type(sl_job *job, const cJSON *j, const char *path,
                        const char *expected);
/* Report unknown (allowed NULL-terminated; NULL accepts every name) and
 * duplicate fields of obj. */
void sl__job_check_fields(sl_job *job, const cJSON *obj, const char *path,
                          const char *const *allowed);
/* obj's field name, or NULL; a missing required one is a problem. */
const cJSON *sl__job_field(sl_job *job, const cJSON *obj, const char *path,
                           const char *name, bool required);
/* Whether s has the syntax of a name (1-64 letters, digits, . _ -). */
bool sl__job_valid_name(const char *s);
const char *sl__job_read_string(sl_job *job, const cJSON *j, const char *path);
/* A name field ("name", "from", "with"): a string of the name syntax. */
const char *sl__job_read_name(sl_job *job, const cJSON *j, const char *path);
bool sl__job_read_int(sl_job *job, const cJSON *j, const char *path,
                      int64_t min, int64_t max, int64_t *out);
/* A positive duration string ("5s"). */
bool sl__job_read_duration(sl_job *job, const cJSON *j, const char *path,
                           int64_t *out);
/* One of choices (NULL-terminated); its index, or -1 after a problem. */
int sl__job_read_choice(sl_job *job, const cJSON *j, const char *path,
                        const char *const *choices);
/* Check j against the type of conf property name, then set it. */
void sl__job_set_conf(sl_job *job, sl_conf *conf, const cJSON *j,
                      const char *path, const char *name);
/* A JSON array of strings into a comma-separated conf value; what names
 * an item in messages ("column", "topic"). */
void sl__job_set_conf_list(sl_job *job, sl_conf *conf, const cJSON *j,
                           const char *path, const char *name,
                           const char *what);
/* A JSON value (no objects in it) as a sluice value in job memory. */
bool sl__job_read_value(sl_job *job, const cJSON *j, const char *path,
                        sl_value *out);
/* A name that must be a source or a stream (job memory), or NULL. */
char *sl__job_read_ref(sl_job *job, const cJSON *j, const char *path);

/* Apply the overrides "PATH=VALUE" (set.c) to job->root in order; false
 * when one failed (its problem recorded as "--set ARG: ...") or out of
 * memory (job->oom). */
bool sl__job_apply_sets(sl_job *job, const char *const *sets, size_t nsets);

/* Replace the ${ENV:NAME} references of every string value of job->root
 * by the environment's values (env_refs.c); a missing variable is a
 * problem at the value's path. */
void sl__job_expand_env(sl_job *job);

/* The parts of the document (j: the field's value). */
void sl__job_read_sources(sl_job *job, const cJSON *j);
void sl__job_read_streams(sl_job *job, const cJSON *j);
void sl__job_read_sinks(sl_job *job, const cJSON *j);

#endif /* SL_JOB_PARSE_INT_H */
