/*
 * What streamctl's command files share: the exit statuses, --set
 * handling, loading and checking a job file as `run` does, and running
 * a built job until it ends (streamctl.c), used again by `start`
 * (start.c) in its detached child.
 */
#ifndef STREAMCTL_CLI_H
#define STREAMCTL_CLI_H

#include <sluice/sluice.h>

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>

/* Exit statuses, as `streamctl --help` and docs/streamctl.md list them. */
enum {
    EXIT_OK = 0,
    EXIT_FAILED = 1,  /* the job failed while running or could not start */
    EXIT_USAGE = 2,   /* bad command line */
    EXIT_INVALID = 3, /* the job file is unreadable or invalid */
    EXIT_LEFT = 4,    /* stopped with input left unprocessed */
    EXIT_TIMEOUT = 5  /* stop --timeout ran out, the job is still stopping */
};

/* --set PATH=VALUE overrides, in the order given. */
typedef struct job_sets {
    const char **v;
    size_t n;
} job_sets;

/* "streamctl: " + fmt (one %s: arg), then the usage on stderr; 2. */
int streamctl_usage_error(void (*usage)(FILE *), const char *fmt,
                          const char *arg);
/* Take every "--set PATH=VALUE" out of argv[2..] into sets (the caller
 * frees sets->v); -1 after a usage error. */
int streamctl_take_sets(int *argc, char **argv, void (*usage)(FILE *),
                        job_sets *sets);
/* Load path with the overrides; its problems printed, NULL when it is
 * not valid (*oom set when out of memory). */
sl_job *streamctl_load_valid(const char *path, const job_sets *sets, bool *oom);
/* sl_job_check_env with its warnings and problems printed: EXIT_OK,
 * problem_rc or EXIT_FAILED (out of memory). */
int streamctl_check_env(const char *path, sl_job *job, unsigned flags,
                        int problem_rc);
/* Build the loaded job, attach the control plane when ctl is not NULL,
 * start it and run it until it ends or SIGINT/SIGTERM (blocked in sigs
 * by the caller before any thread exists); the final reports on stderr.
 * Returns run's exit status. */
int streamctl_run_job(const char *file, sl_job *job, const sigset_t *sigs,
                      const sl_control_options *ctl);

/* --ui [BIND:]PORT: bind (n bytes; "" when not given: the job's or
 * 127.0.0.1) and port 1-65535; BIND may be an IPv6 address in brackets.
 * false when arg is not of that shape. */
bool streamctl_parse_ui(const char *arg, char *bind, size_t n, int *port);

#endif
