/*
 * sluice control plane: what makes a running context a managed job. A
 * job's run folder (pid, state, a redacted copy of its job file, a Unix
 * control socket), its log folder (log, rotating progress log), the
 * control socket's requests (status, progress, query, stop) and the web
 * UI. streamctl is a client of this header; a C program gets all of it
 * by calling sl_control_attach, or without any code when started by
 * `streamctl start --exec` (the environment names the job).
 */
#ifndef SLUICE_CONTROL_H
#define SLUICE_CONTROL_H

#include "core.h"
#include "stream.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @brief The longest path the control plane builds (bytes, with NUL). */
#define SL_CONTROL_PATH_MAX 1024

/** @brief Where one job's files live (docs/streamctl.md, "Files"). */
typedef struct sl_control_paths {
    char run_dir[SL_CONTROL_PATH_MAX];      /* the run directory */
    char job_dir[SL_CONTROL_PATH_MAX];      /* run_dir/NAME, mode 0700 */
    char socket[SL_CONTROL_PATH_MAX];       /* job_dir/control.sock, 0600 */
    char state_dir[SL_CONTROL_PATH_MAX];    /* STATE_HOME/sluice/NAME */
    char log[SL_CONTROL_PATH_MAX];          /* state_dir/job.log */
    char progress_log[SL_CONTROL_PATH_MAX]; /* state_dir/progress.log */
} sl_control_paths;

/**
 * @brief The run directory a job would use: run_dir when given, else
 * $SLUICE_RUN_DIR, else $XDG_RUNTIME_DIR/sluice, else
 * ~/.local/state/sluice/run.
 * @returns SL_OK; SL_ERANGE (too long), SL_EINVAL (no HOME either).
 */
SL_EXPORT sl_status sl_control_run_dir(const char *run_dir, char *out,
                                       size_t outlen, char *errbuf,
                                       size_t errlen);

/**
 * @brief Fill *out with the paths of job name under run_dir (NULL: the
 * default of sl_control_run_dir). Creates nothing.
 * @returns SL_OK; SL_EINVAL for a name that cannot name a folder (empty,
 * ".", "..", starting with '-', or holding '/'); SL_ERANGE when the
 * control socket's path is longer than a Unix socket address allows (the
 * message says how long it may be and to use --run-dir).
 */
SL_EXPORT sl_status sl_control_paths_for(const char *name, const char *run_dir,
                                         sl_control_paths *out, char *errbuf,
                                         size_t errlen);

/** @brief How sl_control_attach manages a context. */
typedef struct sl_control_options {
    int version;          /* SL_CONTROL_OPTIONS_VERSION */
    const char *name;     /* the job's name (required) */
    const char *run_dir;  /* NULL: sl_control_run_dir's default */
    const char *job_json; /* the job file's text, copied redacted to the
                             run folder as job.json (NULL: none) */
    int ui_port;          /* the web UI's TCP port; 0: no UI */
    const char *ui_bind;  /* the UI's address; NULL: 127.0.0.1 */
    const char *ui_token; /* required by a UI bound beyond loopback; NULL:
                             one is generated and logged at start */
} sl_control_options;
#define SL_CONTROL_OPTIONS_VERSION 1

/**
 * @brief Make ctx a managed job: take the job's name (refused while a
 * live process holds it), create its run folder and log folder, write
 * pid, state.json (starting) and job.json, and start serving the control
 * socket (and the UI when ui_port is set) on the control plane's own
 * thread. Progress entries go to the rotating progress log. The control
 * plane lives as long as ctx; state.json says running once the context
 * has started and every receiver has reached its input, and stopped or
 * failed (with the reason) when it ends.
 * @remark Before sl_context_start. A context started in a process whose
 * environment holds SLUICE_JOB_NAME (streamctl start --exec) is attached
 * by sl_context_start itself, with SLUICE_RUN_DIR, SLUICE_UI_PORT,
 * SLUICE_UI_BIND and SLUICE_UI_TOKEN as options.
 * @returns SL_OK; SL_EBUSY (the name is in use by a live job), SL_ERANGE
 * (paths too long), SL_EIO (a folder, file or socket cannot be made),
 * SL_EINVAL, SL_ESTATE (already started or attached), SL_ENOMEM; the
 * reason in sl_context_errmsg(ctx).
 */
SL_EXPORT sl_status sl_control_attach(sl_context *ctx,
                                      const sl_control_options *opts);

/**
 * @brief Send one request to a job's control socket and wait for its
 * reply: both are one JSON object on one line (docs/streamctl.md,
 * "Control protocol"): {"cmd": "status"}, {"cmd": "progress", "n": N},
 * {"cmd": "query", "sql": S, "format": "table"|"json"|"csv",
 * "max_rows": N}, {"cmd": "stop", "graceful": true|false}.
 * @param response the reply's text (free with sl_free).
 * @returns SL_OK (the reply may still say "ok": false); SL_ENOTFOUND (no
 * socket: the job is not running), SL_EIO (cannot connect: refused,
 * or the job went away), SL_ETIMEDOUT; the reason in errbuf.
 */
SL_EXPORT sl_status sl_control_request(const char *socket_path,
                                       const char *request, int64_t timeout_ms,
                                       char **response, char *errbuf,
                                       size_t errlen);

/**
 * @brief Whether a configuration key names a secret (its value is never
 * shown): keys holding "password", "secret", "token", "credential" or
 * "private", sasl.jaas.config, sasl.oauthbearer.* and ssl.key.*
 * (case-insensitive).
 */
SL_EXPORT bool sl_control_secret_key(const char *key);

/**
 * @brief A copy of the JSON text json with the value of every member
 * whose key names a secret (sl_control_secret_key) replaced by
 * "<redacted>", at any depth; `${ENV:NAME}` references are kept, they
 * hold no secret.
 * @returns the copy (free with sl_free), or NULL: out of memory or json
 * is not JSON (the reason in errbuf).
 */
SL_EXPORT char *sl_control_redact_json(const char *json, size_t len,
                                       char *errbuf, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif /* SLUICE_CONTROL_H */
