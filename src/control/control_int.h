/*
 * The control plane's insides, shared by its files: the sl__control
 * handle (one per attached context), the figures kept from progress
 * entries, the query thread's requests, and the HTTP UI's entry points.
 * Threads: the control thread runs its own libevent loop (control socket,
 * HTTP UI, timers); the query thread runs SQL; the job thread feeds
 * progress entries in. The figures are behind c->lock, held briefly.
 */
#ifndef SL_CONTROL_INT_H
#define SL_CONTROL_INT_H

#include "core/codec.h" /* sl__buf */
#include "core/core.h"
#include "stream/stream.h"

#include <pthread.h>
#include <sluice/control.h>
#include <sluice/source.h> /* sl_context_set_error */
#include <stdio.h>
#include <stdatomic.h>
#include <sys/types.h>

struct event_base;
struct event;
struct sl__http;

/* The job's phase as status and state.json name it. */
typedef enum sl__phase {
    SL__PHASE_STARTING,
    SL__PHASE_RUNNING,
    SL__PHASE_STOPPING,
    SL__PHASE_STOPPED,
    SL__PHASE_FAILED
} sl__phase;

const char *sl__phase_name(sl__phase p);

/* One source's figures from the last progress entry plus its total. */
typedef struct sl__ctl_source {
    char *name;
    int64_t rows_total; /* sum of `rows` over every entry of this run */
    int64_t last_rows;  /* `rows` of the last entry */
    double lag;         /* `lag` of the last entry; NAN when null */
    char *end;          /* `end` of the last entry as JSON, or NULL */
} sl__ctl_source;

/* One sink's figures (`rows`, summed). */
typedef struct sl__ctl_sink {
    char *name;
    int64_t rows_total;
} sl__ctl_sink;

/* What the control plane keeps of the progress entries: every figure
 * status, /api and /metrics show comes from these (one source). */
typedef struct sl__ctl_figures {
    int64_t batches;    /* entries seen in this run */
    int64_t last_batch; /* `batch` of the last entry (0: none) */
    int64_t last_batch_time_ms;
    char last_timestamp[32]; /* `timestamp` of the last entry */
    double last_total_ms;    /* duration_ms.total */
    double last_compute_ms;
    double input_rows_per_s;
    double processed_rows_per_s;
    int64_t scheduling_delay_ms;
    int64_t queued_batches;
    int64_t absorbed_ticks_total;
    int64_t input_rows_total; /* sum of input_rows */
    int64_t last_input_rows;
    int64_t state_rows; /* sum over state[] of the last entry */
    int64_t state_bytes;
    int64_t dropped_late_total;
    char watermark[32]; /* event_time.watermark, "" when absent */
    int64_t checkpoint_bytes_total;
    int64_t checkpoint_files_total;
    double processing_ms_total; /* sum of duration_ms.total */
    size_t nsources;
    sl__ctl_source *sources;
    size_t nsinks;
    sl__ctl_sink *sinks;
} sl__ctl_figures;

typedef struct sl__query_req sl__query_req;

/* Runs on the control thread when a query ends: http_status 200 with the
 * reply JSON, 400 (the query is invalid or not read-only), 503 (the job
 * is gone), 500 otherwise; json is the whole reply object. */
typedef void (*sl__query_done_fn)(void *user, int http_status, const char *json,
                                  size_t len);

struct client;

typedef struct sl__control {
    sl_context *ctx;
    char *name;
    sl_control_paths paths;
    int lock_fd;        /* flock'ed job_dir/lock: the name is ours */
    int listen_fd;      /* the control socket */
    int64_t started_ms; /* wall clock at attach */
    int64_t batch_interval_ms;
    char *ui_bind;
    char *ui_token;
    int ui_port;      /* asked for; the bound port after sl__http_start */
    char ui_url[128]; /* "http://HOST:PORT/" once serving, else "" */

    pthread_mutex_t lock; /* figures, phase, error, progress log */
    sl__phase phase;
    bool started;          /* sl_context_start succeeded */
    int64_t ended_ms;      /* wall clock at the end, 0 before */
    char *error;           /* why it failed, or NULL */
    char waiting_for[256]; /* what keeps it starting, "" when nothing */
    sl__ctl_figures fig;
    FILE *progress_log;
    int64_t progress_log_bytes; /* of the current file */
    int64_t progress_log_max;   /* rotate beyond this (conf) */

    struct event_base *base; /* the control thread's loop */
    struct event *wake_ev;   /* cross-thread entry: query results, quit */
    int wake_fd;
    struct event *accept_ev;
    struct event *tick_ev;  /* phase watch: running, receivers */
    struct sl__http *http;  /* the UI, when asked for (http.c) */
    struct client *clients; /* control socket connections (control.c) */
    pthread_t thread;
    bool thread_started;
    atomic_bool quit;

    /* The query thread and its queue (one query at a time, in order). */
    pthread_t query_thread;
    bool query_started;
    pthread_cond_t query_cv;
    sl__query_req *queue_head, **queue_tail;
    sl__query_req *done_head; /* finished, for the control thread */
    sl__query_req *query_running;
    bool query_quit;
} sl__control;

/* paths.c: make path and its missing parents (parents 0700, path mode;
 * an existing folder is left as it is). SL_EIO, SL_ERANGE. */
sl_status sl__control_mkdirs(const char *path, mode_t mode, char *errbuf,
                             size_t errlen);

/* control.c: dir/name written whole (temporary name, rename). SL_EIO. */
sl_status sl__control_write_file(const char *dir, const char *name,
                                 const char *text, size_t len);
/* control.c: ms since the epoch as ISO-8601 UTC with ms, into out. */
void sl__control_iso_ms(int64_t ms, char *out, size_t n);
/* control.c: {"ok": false, "error": msg} (cJSON_free it), or NULL when
 * out of memory: every error reply of the socket and the UI. */
char *sl__control_error_json(const char *msg);
/* control.c: wake the control loop (any thread). */
void sl__control_wake(sl__control *c);

/* figures.c: open the progress log (append); add the listener that keeps
 * the figures and writes the log; free the figures. */
sl_status sl__control_progress_open(sl__control *c);
sl_status sl__control_listen(sl__control *c);
void sl__control_figures_free(sl__ctl_figures *f);

/* query.c: start the query thread; stop it (a query running ends at its
 * timeout or when the context goes); free what is queued; hand finished
 * queries to their done callbacks (control thread). */
sl_status sl__control_query_start(sl__control *c);
void sl__control_query_stop(sl__control *c);
void sl__control_query_free(sl__control *c);
void sl__control_deliver_queries(sl__control *c);

/* Status JSON (docs/streamctl.md "status"), one object, into *out. */
sl_status sl__control_status_json(sl__control *c, sl__buf *out);
/* The last n progress entries (0: every one kept), a JSON array. */
sl_status sl__control_progress_json(sl__control *c, size_t n, char **out,
                                    size_t *len);
/* The Prometheus text exposition of the figures (docs/ui.md). */
sl_status sl__control_metrics(sl__control *c, sl__buf *out);
/* Queue a read-only query; done runs on the control thread with the
 * reply (format "table", "json" or "csv"; max_rows < 0: the default).
 * user must stay valid until done ran, or be withdrawn with
 * sl__control_query_forget (done then runs with user NULL). */
sl_status sl__control_query_submit(sl__control *c, const char *sql,
                                   const char *format, long long max_rows,
                                   sl__query_done_fn done, void *user);
/* The client user went away: its queued or running queries are answered
 * to done with user NULL, which drops the reply. Control thread. */
void sl__control_query_forget(sl__control *c, void *user);
/* Ask for a stop (graceful or now) as streamctl stop does. */
void sl__control_request_stop(sl__control *c, bool graceful);

/* The UI (http.c): serve on c->base; fills c->ui_port and c->ui_url. */
sl_status sl__http_start(sl__control *c, char *errbuf, size_t errlen);
void sl__http_stop(sl__control *c);

#endif /* SL_CONTROL_INT_H */
