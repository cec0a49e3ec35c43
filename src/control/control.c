/*
 * The control plane of one context: the run folder (lock, pid, state.json,
 * job.json), the control socket served on the control thread's own
 * libevent loop, and the life of it all beside the context (a service,
 * src/stream/services.c). The control thread has its own loop, not the
 * I/O thread's, because the control socket must answer while a graceful
 * stop drains the queue (the I/O loop has ended then) and must never
 * delay the batch timer; docs/architecture.md "Control plane".
 */
#include "control/control_int.h"
#include "core/records.h" /* sl__json_parse */

#include <cjson/cJSON.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* A request line longer than this is refused (a query's SQL fits). */
#define REQUEST_MAX (1024 * 1024)
/* How often the control thread looks at the context's phase. */
#define WATCH_MS 100

static const char *const phase_names[] = {"starting", "running", "stopping",
                                          "stopped", "failed"};

const char *sl__phase_name(sl__phase p)
{
    return phase_names[p];
}

static sl_status fail(sl__control *c, sl_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static sl_status fail(sl__control *c, sl_status st, const char *fmt, ...)
{
    char msg[1200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return sl_context_set_error(c->ctx, st, "job \"%s\": %s", c->name, msg);
}

/* ----------------------------------------------------------- run folder */

/* Write text to dir/name through a temporary name and a rename, so a
 * reader never sees half a file. */
sl_status sl__control_write_file(const char *dir, const char *name,
                                 const char *text, size_t len)
{
    char path[SL_CONTROL_PATH_MAX + 64], tmp[SL_CONTROL_PATH_MAX + 80];
    int fd;
    bool ok;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    snprintf(tmp, sizeof tmp, "%s/.%s.tmp", dir, name);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return SL_EIO;
    ok = write(fd, text, len) == (ssize_t)len;
    ok = close(fd) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        return SL_EIO;
    }
    return SL_OK;
}

void sl__control_iso_ms(int64_t ms, char *out, size_t n)
{
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    char day[32];
    if (!gmtime_r(&secs, &tm)) {
        snprintf(out, n, "1970-01-01T00:00:00.000Z");
        return;
    }
    strftime(day, sizeof day, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, n, "%s.%03lldZ", day, (long long)(ms % 1000));
}

/* state.json as the phase, error and stop report now say (c->lock held). */
static void write_state_locked(sl__control *c, const sl__context_end *end)
{
    char at[40], ended[40];
    cJSON *o = cJSON_CreateObject();
    char *text;
    if (!o)
        return;
    sl__control_iso_ms(c->started_ms, at, sizeof at);
    cJSON_AddStringToObject(o, "name", c->name);
    cJSON_AddStringToObject(o, "state", sl__phase_name(c->phase));
    cJSON_AddNumberToObject(o, "pid", (double)getpid());
    cJSON_AddStringToObject(o, "started_at", at);
    cJSON_AddNumberToObject(o, "started_ms", (double)c->started_ms);
    if (c->ended_ms) {
        sl__control_iso_ms(c->ended_ms, ended, sizeof ended);
        cJSON_AddStringToObject(o, "ended_at", ended);
    } else {
        cJSON_AddNullToObject(o, "ended_at");
    }
    if (c->error)
        cJSON_AddStringToObject(o, "error", c->error);
    else
        cJSON_AddNullToObject(o, "error");
    if (end) {
        cJSON *s = cJSON_AddObjectToObject(o, "stop");
        if (s) {
            cJSON_AddNumberToObject(s, "unprocessed_records",
                                    (double)end->unprocessed_records);
            cJSON_AddNumberToObject(s, "unprocessed_batches",
                                    (double)end->unprocessed_batches);
            cJSON_AddBoolToObject(s, "timed_out", end->timed_out);
        }
    } else {
        cJSON_AddNullToObject(o, "stop");
    }
    if (c->ui_url[0])
        cJSON_AddStringToObject(o, "ui", c->ui_url);
    else
        cJSON_AddNullToObject(o, "ui");
    cJSON_AddStringToObject(o, "log", c->paths.log);
    cJSON_AddStringToObject(o, "progress_log", c->paths.progress_log);
    if ((text = cJSON_PrintUnformatted(o)) != NULL) {
        size_t len = strlen(text);
        text[len] = '\n'; /* cJSON's buffer holds len + 1 bytes */
        if (sl__control_write_file(c->paths.job_dir, "state.json", text,
                                   len + 1) != SL_OK)
            sl_context_log(c->ctx, SL_LOG_WARN,
                           "control: cannot write %s/state.json: %s",
                           c->paths.job_dir, SL__STRERROR(errno));
        cJSON_free(text);
    }
    cJSON_Delete(o);
}

/* Take the job's name: the lock file, flock'ed for the process's life
 * (the descriptor is close-on-exec: a child does not inherit the name). */
static sl_status take_name(sl__control *c)
{
    char path[SL_CONTROL_PATH_MAX + 16], pid[32] = "";
    int fd;
    snprintf(path, sizeof path, "%s/lock", c->paths.job_dir);
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return fail(c, SL_EIO, "cannot open %s: %s", path, SL__STRERROR(errno));
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int err = errno;
        FILE *f;
        close(fd);
        snprintf(path, sizeof path, "%s/pid", c->paths.job_dir);
        if ((f = fopen(path, "re")) != NULL) {
            if (!fgets(pid, sizeof pid, f))
                pid[0] = '\0';
            fclose(f);
            pid[strcspn(pid, "\n")] = '\0';
        }
        if (err == EWOULDBLOCK)
            return fail(c, SL_EBUSY,
                        "a job of this name is already running (pid %s; "
                        "run folder %s)",
                        *pid ? pid : "?", c->paths.job_dir);
        return fail(c, SL_EIO, "cannot lock %s: %s", path, SL__STRERROR(err));
    }
    c->lock_fd = fd;
    return SL_OK;
}

static sl_status make_folders(sl__control *c)
{
    char err[SL_CONTROL_PATH_MAX + 128];
    if (sl__control_mkdirs(c->paths.run_dir, 0700, err, sizeof err) ||
        sl__control_mkdirs(c->paths.job_dir, 0700, err, sizeof err) ||
        sl__control_mkdirs(c->paths.state_dir, 0700, err, sizeof err))
        return fail(c, SL_EIO, "%s", err);
    /* mkdir's mode passes through the umask, and the folder may be old */
    if (chmod(c->paths.job_dir, 0700) != 0)
        return fail(c, SL_EIO, "cannot chmod %s: %s", c->paths.job_dir,
                    SL__STRERROR(errno));
    return SL_OK;
}

static sl_status write_pid_and_job(sl__control *c, const char *job_json)
{
    char pid[32], err[256];
    char *copy;
    sl_status st;
    int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (sl__control_write_file(c->paths.job_dir, "pid", pid, (size_t)n))
        return fail(c, SL_EIO, "cannot write %s/pid: %s", c->paths.job_dir,
                    SL__STRERROR(errno));
    if (!job_json) {
        char path[SL_CONTROL_PATH_MAX + 16];
        snprintf(path, sizeof path, "%s/job.json", c->paths.job_dir);
        unlink(path); /* an earlier run's file is not this job's */
        return SL_OK;
    }
    if (!(copy = sl_control_redact_json(job_json, strlen(job_json), err,
                                        sizeof err)))
        return fail(c, SL_EINVAL, "the job file: %s", err);
    st = sl__control_write_file(c->paths.job_dir, "job.json", copy,
                                strlen(copy));
    sl_free(copy);
    if (st)
        return fail(c, SL_EIO, "cannot write %s/job.json: %s", c->paths.job_dir,
                    SL__STRERROR(errno));
    return SL_OK;
}

/* --------------------------------------------------------------- socket */

static sl_status open_socket(sl__control *c)
{
    struct sockaddr_un sa;
    int fd;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    /* sl_control_paths_for checked that it fits */
    memcpy(sa.sun_path, c->paths.socket, strlen(c->paths.socket));
    unlink(c->paths.socket); /* ours now: we hold the name's lock */
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return fail(c, SL_EIO, "cannot make the control socket: %s",
                    SL__STRERROR(errno));
    /* fchmod does not apply to a socket's path: bind then chmod, inside a
     * folder only its owner can enter */
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
        chmod(c->paths.socket, 0600) != 0 || listen(fd, 32) != 0) {
        int err = errno;
        close(fd);
        return fail(c, SL_EIO, "cannot serve the control socket %s: %s",
                    c->paths.socket, SL__STRERROR(err));
    }
    c->listen_fd = fd;
    return SL_OK;
}

/* One client of the control socket: its request line, then its reply. */
typedef struct client {
    sl__control *c;
    int fd;
    struct event *ev;
    sl__buf in;
    sl__buf out;
    size_t sent;
    bool replying, waiting; /* waiting: a query runs for it */
    struct client *next;    /* c->clients */
} client;

static void client_free(client *cl)
{
    sl__control *c = cl->c;
    client **p;
    for (p = &c->clients; *p; p = &(*p)->next)
        if (*p == cl) {
            *p = cl->next;
            break;
        }
    if (cl->waiting)
        sl__control_query_forget(c, cl);
    if (cl->ev)
        event_free(cl->ev);
    close(cl->fd);
    sl__buf_free(&cl->in);
    sl__buf_free(&cl->out);
    sl_free(cl);
}

static void on_client(evutil_socket_t fd, short what, void *arg);

static void client_reply(client *cl, const char *json, size_t len)
{
    cl->replying = true;
    cl->waiting = false;
    if (sl__buf_append(&cl->out, json, len) ||
        sl__buf_append(&cl->out, "\n", 1)) {
        client_free(cl);
        return;
    }
    event_del(cl->ev);
    event_assign(cl->ev, cl->c->base, cl->fd, EV_WRITE | EV_PERSIST, on_client,
                 cl);
    event_add(cl->ev, NULL);
}

char *sl__control_error_json(const char *msg)
{
    cJSON *o = cJSON_CreateObject();
    char *text = NULL;
    if (o && cJSON_AddFalseToObject(o, "ok") &&
        cJSON_AddStringToObject(o, "error", msg))
        text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return text;
}

static void reply_error(client *cl, const char *msg)
{
    char *text = sl__control_error_json(msg);
    if (!text) {
        client_free(cl);
        return;
    }
    client_reply(cl, text, strlen(text));
    cJSON_free(text);
}

static void query_done(void *user, int http_status, const char *json,
                       size_t len)
{
    client *cl = user;
    SL__UNUSED(http_status);
    if (!cl)
        return;
    client_reply(cl, json, len);
}

static void reply_buf(client *cl, sl_status st, sl__buf *b)
{
    if (st != SL_OK)
        reply_error(cl, sl_strerror(st));
    else
        client_reply(cl, b->data, b->len);
    sl__buf_free(b);
}

static void handle_progress(client *cl, const cJSON *req)
{
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(req, "n");
    char *entries = NULL;
    size_t len = 0;
    sl__buf b = {0};
    sl_status st;
    if (n && (!cJSON_IsNumber(n) || n->valuedouble < 0)) {
        reply_error(cl, "progress: \"n\" must be a count >= 0");
        return;
    }
    st = sl__control_progress_json(cl->c, n ? (size_t)n->valuedouble : 0,
                                   &entries, &len);
    if (st == SL_OK &&
        !(st = sl__buf_append(&b, "{\"ok\":true,\"progress\":", 22)) &&
        !(st = sl__buf_append(&b, entries, len)))
        st = sl__buf_append(&b, "}", 1);
    sl_free(entries);
    reply_buf(cl, st, &b);
}

static void handle_query(client *cl, const cJSON *req)
{
    const cJSON *sql = cJSON_GetObjectItemCaseSensitive(req, "sql");
    const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(req, "format");
    const cJSON *max = cJSON_GetObjectItemCaseSensitive(req, "max_rows");
    long long max_rows = -1;
    if (!cJSON_IsString(sql)) {
        reply_error(cl, "query: \"sql\" must be a string");
        return;
    }
    if (fmt && !cJSON_IsString(fmt)) {
        reply_error(cl, "query: \"format\" must be table, json or csv");
        return;
    }
    if (max) {
        if (!cJSON_IsNumber(max) || max->valuedouble < 0) {
            reply_error(cl, "query: \"max_rows\" must be a count >= 0");
            return;
        }
        max_rows = (long long)max->valuedouble;
    }
    cl->waiting = true;
    if (sl__control_query_submit(cl->c, sql->valuestring,
                                 fmt ? fmt->valuestring : "table", max_rows,
                                 query_done, cl) != SL_OK) {
        cl->waiting = false;
        reply_error(cl, "query: cannot queue the query (out of memory)");
    }
}

static void handle_request(client *cl)
{
    cJSON *req = sl__json_parse(cl->in.data, cl->in.len, NULL, false);
    const cJSON *cmd = cJSON_GetObjectItemCaseSensitive(req, "cmd");
    sl__buf b = {0};
    if (!cJSON_IsString(cmd)) {
        reply_error(cl, req ? "the request has no \"cmd\""
                            : "the request is not a JSON object");
    } else if (!strcmp(cmd->valuestring, "status")) {
        reply_buf(cl, sl__control_status_json(cl->c, &b), &b);
    } else if (!strcmp(cmd->valuestring, "progress")) {
        handle_progress(cl, req);
    } else if (!strcmp(cmd->valuestring, "query")) {
        handle_query(cl, req);
    } else if (!strcmp(cmd->valuestring, "stop")) {
        const cJSON *g = cJSON_GetObjectItemCaseSensitive(req, "graceful");
        sl__control_request_stop(cl->c, !cJSON_IsFalse(g));
        client_reply(cl, "{\"ok\":true}", 11);
    } else {
        char msg[160];
        snprintf(msg, sizeof msg,
                 "unknown command \"%.64s\" (status, progress, query, stop)",
                 cmd->valuestring);
        reply_error(cl, msg);
    }
    cJSON_Delete(req);
}

static void client_read(client *cl)
{
    char buf[4096];
    ssize_t n = read(cl->fd, buf, sizeof buf);
    char *nl;
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) { /* gone before its request ended */
        client_free(cl);
        return;
    }
    if (sl__buf_append(&cl->in, buf, (size_t)n)) {
        client_free(cl);
        return;
    }
    if (!(nl = memchr(cl->in.data, '\n', cl->in.len))) {
        if (cl->in.len > REQUEST_MAX)
            reply_error(cl, "the request is longer than 1 MiB");
        return;
    }
    cl->in.len = (size_t)(nl - cl->in.data);
    event_del(cl->ev); /* one request per connection */
    handle_request(cl);
}

static void client_write(client *cl)
{
    /* MSG_NOSIGNAL: a client gone before its reply must not SIGPIPE the job */
    ssize_t n = send(cl->fd, cl->out.data + cl->sent, cl->out.len - cl->sent,
                     MSG_NOSIGNAL);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) {
        client_free(cl);
        return;
    }
    cl->sent += (size_t)n;
    if (cl->sent == cl->out.len)
        client_free(cl);
}

static void on_client(evutil_socket_t fd, short what, void *arg)
{
    client *cl = arg;
    SL__UNUSED(fd);
    if (cl->replying && (what & EV_WRITE))
        client_write(cl);
    else if (!cl->replying && (what & EV_READ))
        client_read(cl);
}

static void on_accept(evutil_socket_t fd, short what, void *arg)
{
    sl__control *c = arg;
    client *cl;
    int cfd;
    SL__UNUSED(what);
    while ((cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
        if (!(cl = sl_malloc(sizeof *cl))) {
            close(cfd);
            continue;
        }
        memset(cl, 0, sizeof *cl);
        cl->c = c;
        cl->fd = cfd;
        cl->ev = event_new(c->base, cfd, EV_READ | EV_PERSIST, on_client, cl);
        if (!cl->ev || event_add(cl->ev, NULL)) {
            client_free(cl);
            continue;
        }
        cl->next = c->clients;
        c->clients = cl;
    }
}

/* ------------------------------------------------------- the watch tick */

/* The phase the context is in now, for a job that has not ended. */
static void watch_phase(sl__control *c)
{
    sl__context_live live;
    char why[256];
    bool waiting;
    sl__context_live_read(c->ctx, &live);
    waiting = live.started && sl__context_waiting_for(c->ctx, why, sizeof why);
    pthread_mutex_lock(&c->lock);
    if (c->phase == SL__PHASE_STOPPED || c->phase == SL__PHASE_FAILED) {
        pthread_mutex_unlock(&c->lock);
        return;
    }
    snprintf(c->waiting_for, sizeof c->waiting_for, "%s", waiting ? why : "");
    if (live.stop_requested && c->phase != SL__PHASE_STOPPING) {
        c->phase = SL__PHASE_STOPPING;
        write_state_locked(c, NULL);
    } else if (c->phase == SL__PHASE_STARTING && c->started && !waiting &&
               !live.stop_requested) {
        c->phase = SL__PHASE_RUNNING;
        write_state_locked(c, NULL);
    }
    pthread_mutex_unlock(&c->lock);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    SL__UNUSED(fd);
    SL__UNUSED(what);
    watch_phase(arg);
}

static void on_wake(evutil_socket_t fd, short what, void *arg)
{
    sl__control *c = arg;
    uint64_t v;
    ssize_t n = read(fd, &v, sizeof v);
    SL__UNUSED(n);
    SL__UNUSED(what);
    sl__control_deliver_queries(c);
    if (atomic_load(&c->quit))
        event_base_loopbreak(c->base);
}

void sl__control_wake(sl__control *c)
{
    uint64_t one = 1;
    ssize_t n = write(c->wake_fd, &one, sizeof one);
    SL__UNUSED(n);
}

static void *control_main(void *arg)
{
    sl__control *c = arg;
    event_base_dispatch(c->base);
    return NULL;
}

static sl_status make_loop(sl__control *c)
{
    struct timeval tv = {0, WATCH_MS * 1000};
    c->base = event_base_new();
    c->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (!c->base || c->wake_fd < 0)
        return fail(c, SL_ENOMEM, "cannot set up the control loop");
    c->wake_ev =
        event_new(c->base, c->wake_fd, EV_READ | EV_PERSIST, on_wake, c);
    c->accept_ev =
        event_new(c->base, c->listen_fd, EV_READ | EV_PERSIST, on_accept, c);
    c->tick_ev = event_new(c->base, -1, EV_PERSIST, on_tick, c);
    if (!c->wake_ev || !c->accept_ev || !c->tick_ev ||
        event_add(c->wake_ev, NULL) || event_add(c->accept_ev, NULL) ||
        event_add(c->tick_ev, &tv))
        return fail(c, SL_ENOMEM, "cannot set up the control loop");
    return SL_OK;
}

/* ------------------------------------------------------------ the service */

static void svc_started(void *state)
{
    sl__control *c = state;
    pthread_mutex_lock(&c->lock);
    c->started = true;
    pthread_mutex_unlock(&c->lock);
    sl__control_wake(c); /* the watch looks at once */
}

static void svc_ended(void *state, const sl__context_end *end)
{
    sl__control *c = state;
    pthread_mutex_lock(&c->lock);
    c->phase = end->status == SL_OK ? SL__PHASE_STOPPED : SL__PHASE_FAILED;
    c->ended_ms = sl__now_wall_ms();
    if (end->status != SL_OK && !c->error)
        c->error =
            sl__strdup(*end->errmsg ? end->errmsg : sl_strerror(end->status));
    c->waiting_for[0] = '\0';
    write_state_locked(c, end);
    if (c->progress_log)
        fflush(c->progress_log);
    pthread_mutex_unlock(&c->lock);
}

static void control_free(sl__control *c)
{
    client *cl;
    if (!c)
        return;
    sl__control_query_stop(c);
    if (c->thread_started) {
        atomic_store(&c->quit, true);
        sl__control_wake(c);
        pthread_join(c->thread, NULL);
    }
    sl__control_query_free(c); /* answers left are dropped with clients */
    while ((cl = c->clients) != NULL)
        client_free(cl);
    sl__http_stop(c);
    if (c->accept_ev)
        event_free(c->accept_ev);
    if (c->tick_ev)
        event_free(c->tick_ev);
    if (c->wake_ev)
        event_free(c->wake_ev);
    if (c->base)
        event_base_free(c->base);
    if (c->wake_fd >= 0)
        close(c->wake_fd);
    if (c->listen_fd >= 0) {
        close(c->listen_fd);
        unlink(c->paths.socket);
    }
    if (c->progress_log)
        fclose(c->progress_log);
    sl__control_figures_free(&c->fig);
    if (c->lock_fd >= 0)
        close(c->lock_fd); /* the name is free again */
    pthread_mutex_destroy(&c->lock);
    sl_free(c->error);
    sl_free(c->name);
    sl_free(c->ui_bind);
    sl_free(c->ui_token);
    sl_free(c);
}

static void svc_free(void *state)
{
    control_free(state);
}

static const sl__service_ops control_service = {1, "control", svc_started,
                                                svc_ended, svc_free};

/* ---------------------------------------------------------------- attach */

static sl__control *control_new(sl_context *ctx, const sl_control_options *o)
{
    sl__control *c = sl_malloc(sizeof *c);
    if (!c)
        return NULL;
    memset(c, 0, sizeof *c);
    c->ctx = ctx;
    c->lock_fd = c->listen_fd = c->wake_fd = -1;
    c->started_ms = sl__now_wall_ms();
    c->phase = SL__PHASE_STARTING;
    c->ui_port = o->ui_port;
    pthread_mutex_init(&c->lock, NULL);
    c->name = sl__strdup(o->name);
    c->ui_bind = sl__strdup(o->ui_bind ? o->ui_bind : "127.0.0.1");
    c->ui_token = o->ui_token ? sl__strdup(o->ui_token) : NULL;
    if (!c->name || !c->ui_bind || (o->ui_token && !c->ui_token)) {
        control_free(c);
        return NULL;
    }
    return c;
}

/* Everything of attach that can fail, in the order the files appear. */
static sl_status control_open(sl__control *c, const sl_control_options *o)
{
    char err[600];
    sl_status st;
    if ((st = sl_control_paths_for(o->name, o->run_dir, &c->paths, err,
                                   sizeof err)) != SL_OK)
        return fail(c, st, "%s", err);
    if ((st = make_folders(c)) || (st = take_name(c)) ||
        (st = write_pid_and_job(c, o->job_json)) || (st = open_socket(c)) ||
        (st = sl__control_progress_open(c)) || (st = make_loop(c)))
        return st;
    if (c->ui_port > 0 && (st = sl__http_start(c, err, sizeof err)) != SL_OK)
        return fail(c, st, "web UI: %s", err);
    if ((st = sl__control_query_start(c)) != SL_OK)
        return fail(c, st, "cannot start the query thread");
    if (pthread_create(&c->thread, NULL, control_main, c) != 0)
        return fail(c, SL_ENOMEM, "cannot start the control thread");
    c->thread_started = true;
    pthread_mutex_lock(&c->lock);
    write_state_locked(c, NULL);
    pthread_mutex_unlock(&c->lock);
    return SL_OK;
}

sl_status sl_control_attach(sl_context *ctx, const sl_control_options *o)
{
    sl__control *c;
    sl_status st;
    if (!ctx)
        return SL_EINVAL;
    if (!o || o->version < 1 || !o->name)
        return sl_context_set_error(ctx, SL_EINVAL,
                                    "control: options need a version and a "
                                    "job name");
    if (o->ui_port < 0 || o->ui_port > 65535)
        return sl_context_set_error(
            ctx, SL_EINVAL, "control: UI port %d is not 0-65535", o->ui_port);
    if (sl__context_service(ctx, &control_service))
        return sl_context_set_error(ctx, SL_ESTATE,
                                    "control: the context is already managed");
    if (!(c = control_new(ctx, o)))
        return sl_context_set_error(ctx, SL_ENOMEM, "control: out of memory");
    c->batch_interval_ms = sl_context_batch_interval(ctx);
    if ((st = control_open(c, o)) == SL_OK &&
        (st = sl__control_listen(c)) == SL_OK &&
        (st = sl__context_add_service(ctx, &control_service, c)) == SL_OK) {
        sl_context_log(ctx, SL_LOG_INFO,
                       "control: job \"%s\" managed at %s%s%s", c->name,
                       c->paths.socket, c->ui_url[0] ? "; UI " : "", c->ui_url);
        return SL_OK;
    }
    if (st == SL_ESTATE)
        sl_context_set_error(ctx, st,
                             "control: attach before the context "
                             "starts");
    control_free(c);
    return st;
}

/* The environment streamctl start --exec sets, as options. */
sl_status sl__control_attach_from_env(sl_context *ctx)
{
    sl_control_options o;
    const char *name = getenv("SLUICE_JOB_NAME"), *port;
    if (!name || !*name || sl__context_service(ctx, &control_service))
        return SL_OK;
    memset(&o, 0, sizeof o);
    o.version = SL_CONTROL_OPTIONS_VERSION;
    o.name = name;
    o.run_dir = getenv("SLUICE_RUN_DIR");
    if ((port = getenv("SLUICE_UI_PORT")) != NULL && *port) {
        char *end;
        long p = strtol(port, &end, 10);
        if (*end || p < 1 || p > 65535)
            return sl_context_set_error(ctx, SL_EINVAL,
                                        "SLUICE_UI_PORT \"%s\" is not a port "
                                        "1-65535",
                                        port);
        o.ui_port = (int)p;
    }
    o.ui_bind = getenv("SLUICE_UI_BIND");
    o.ui_token = getenv("SLUICE_UI_TOKEN");
    return sl_control_attach(ctx, &o);
}

void sl__control_request_stop(sl__control *c, bool graceful)
{
    sl_context_log(c->ctx, SL_LOG_INFO, "control: %s stop asked for",
                   graceful ? "graceful" : "immediate");
    sl_context_request_stop(c->ctx, graceful);
    sl__control_wake(c);
}
