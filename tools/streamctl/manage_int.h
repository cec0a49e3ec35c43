/*
 * The insides shared by the managed-job command files: a job's files
 * (manage_util.c), the commands (start.c, manage.c) and their help
 * (manage_help.c).
 */
#ifndef STREAMCTL_MANAGE_INT_H
#define STREAMCTL_MANAGE_INT_H

#include "cli.h"

#include <cjson/cJSON.h>
#include <sluice/sluice.h>
#include <stdbool.h>
#include <stdint.h>

/* One job as its files show it. */
typedef struct mg_job {
    sl_control_paths p;
    cJSON *state; /* state.json, or NULL */
    long pid;     /* from state.json, else the pid file; 0: none */
    bool held;    /* a live process holds the name */
    bool stale;   /* the process died without saying stopped/failed */
} mg_job;

/* Fill j for name; prints why not and returns EXIT_FAILED. */
int mg_job_open(const char *name, const char *run_dir, mg_job *j);
void mg_job_close(mg_job *j);
/* state.json's "state", "stale" jobs as "failed". */
const char *mg_job_state(const mg_job *j);
/* The reason a failed job gives (state.json's error, or for a stale
 * job "the process died"); NULL when none. */
const char *mg_job_error(const mg_job *j);

bool mg_pid_alive(long pid);
/* Whether the lock in job_dir is held by a live process. */
bool mg_lock_held(const char *job_dir);
/* The text of path (free), NULL when it cannot be read (errno). */
char *mg_read_file(const char *path, size_t *len);
cJSON *mg_read_json(const char *path);
/* Write text to path atomically (path.tmp, rename); false on failure. */
bool mg_write_file(const char *path, const char *text);
/* mkdir -p with mode. */
bool mg_mkdirs(const char *path, int mode);
/* Print the last n lines of path to f, each after prefix. */
void mg_tail(const char *path, long n, FILE *f, const char *prefix);
/* One control request; the parsed reply, or NULL (why in err). */
cJSON *mg_request(const mg_job *j, const char *req, int64_t timeout_ms,
                  char *err, size_t errlen);
/* The names of the run directory's jobs, sorted (free each and the
 * array); -1 when the run directory cannot be read. */
int mg_job_names(const char *run_dir, char ***names);
void mg_free_names(char **names, int n);
/* "30s" and the like; false when bad. */
bool mg_duration(const char *text, int64_t *ms);
bool mg_format(const char *text, const char *allowed, const char **out);
int64_t mg_now_ms(void);
void mg_sleep_ms(int ms);

/* Commands (manage.c, start.c). */
int mg_cmd_start(int argc, char **argv, const char *run_dir);
int mg_cmd_restart(int argc, char **argv, const char *run_dir);
int mg_stop(const char *name, const char *run_dir, int64_t timeout_ms, bool now,
            bool quiet_not_running);

/* Help (manage_help.c). */
void mg_usage_start(FILE *f);
void mg_usage_stop(FILE *f);
void mg_usage_status(FILE *f);
void mg_usage_list(FILE *f);
void mg_usage_logs(FILE *f);
void mg_usage_progress(FILE *f);
void mg_usage_query(FILE *f);
void mg_usage_restart(FILE *f);
void mg_usage_completion(FILE *f);

#endif
