/*
 * The socket text stream (Spark's socketTextStream): a receiver that runs on
 * the I/O thread's libevent loop, connects to host:port without blocking,
 * reads straight into the engine's receive blocks and reconnects with
 * exponential back-off whenever the server is not there or goes away.
 * A server that stays away is warned about (rate-limited) and, with
 * receiver.max_connect_attempts or receiver.connect_give_up_after, fails
 * the job: input that never comes must not look like a quiet stream.
 * The host name is resolved on a thread of its own (getaddrinfo blocks,
 * and the loop also drives the batch timer and the other receivers).
 */
#include "socket/socket_int.h"
#include "stream/stream_int.h"

#include <errno.h>
#include <limits.h>
#include <event2/event.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#define SOCK_READ_CHUNK (256 * 1024)       /* bytes asked for per read() */
#define SOCK_READ_BUDGET (4 * 1024 * 1024) /* bytes per callback at most */
#define SOCK_NOMEM_RETRY_MS 50             /* retry after a failed buffer */
#define SOCK_WARN_MIN_MS 1000              /* connect warnings at most 1/s */

/*
 * One name resolution, shared by the receiver (on the I/O loop) and the
 * resolver thread: whichever lets go last frees it, so a receiver stopped
 * while getaddrinfo still runs neither waits for it nor is written to
 * after it is gone.
 */
typedef struct sock_lookup {
    atomic_int refs;
    atomic_bool done; /* rc, err and addrs are set */
    char *host;
    char service[12];
    int rc, err; /* getaddrinfo's result; errno for EAI_SYSTEM */
    struct addrinfo *addrs;
    int fd; /* eventfd: the thread signals the loop through it */
} sock_lookup;

typedef struct sock {
    char *host;
    char service[12]; /* the port as text, for getaddrinfo */
    char peer[300];   /* "host:port" or "[v6]:port", for messages */
    bool have_conf;   /* the options below come from the caller's conf */
    int64_t connect_timeout_ms, reconnect_min_ms, reconnect_max_ms;
    int64_t max_attempts;   /* consecutive failures allowed; 0 = no limit */
    int64_t give_up_ms;     /* time allowed without a connection; 0 = ever */
    sl__dead_letters *dead; /* over-long lines go there, or NULL */
    char *name;             /* source.name, or "socket": their origin */

    sl_receiver *r;
    struct event_base *base;
    sock_lookup *lookup;      /* the resolution in flight, or NULL */
    struct event *ev_resolve; /* lookup->fd readable: it has finished */
    struct addrinfo *addrs;   /* resolved once, after start */
    struct addrinfo *next;    /* next address to try in this attempt */
    int fd;
    struct event *ev_conn;  /* writable: a connect finished or timed out */
    struct event *ev_read;  /* EV_READ | EV_PERSIST on the connection */
    struct event *ev_timer; /* reconnect, or retry after out of memory */
    int64_t backoff_ms;     /* wait before the next reconnect */
    int last_err;           /* errno of the last failed address */
    bool connected;
    bool got_data;            /* this connection delivered bytes */
    bool failing;             /* not connected since a failure or a loss */
    int64_t outage_start_ms;  /* when that began (monotonic), if failing */
    int64_t attempt_start_ms; /* when the current attempt began */
    int64_t failures_in_row;  /* failed attempts since the last connection */
    int64_t warned_ms;        /* last connect warning (monotonic) */
    bool paused;              /* the engine asked to stop reading */
    bool starving;     /* sl_receiver_buffer failed; waiting on ev_timer */
    bool nomem_series; /* that was logged; cleared by a good read */
    bool stopped;
} sock;

static void sock_try_next(sock *s);
static void sock_on_read(evutil_socket_t fd, short what, void *arg);

/* ------------------------------------------------------------ helpers */

/* Monotonic ms: outages are measured on a clock that wall-clock steps
 * cannot move. Connectors see only the public headers, hence our own. */
static int64_t sock_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A timer that cannot be armed would leave the receiver waiting for
 * ever, reading nothing: fail the job instead. */
static void sock_timer_in(sock *s, int64_t ms)
{
    struct timeval tv;
    tv.tv_sec = (time_t)(ms / 1000);
    tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
    if (evtimer_add(s->ev_timer, &tv) != 0)
        sl_receiver_fail(s->r, SL_ENOMEM,
                         "cannot arm the timer for %s on the I/O loop (out "
                         "of memory?)",
                         s->peer);
}

/* Start or resume reading; false (the job failed) if the loop refused. */
static bool sock_read_on(sock *s)
{
    if (event_add(s->ev_read, NULL) == 0)
        return true;
    sl_receiver_fail(s->r, SL_ENOMEM,
                     "cannot watch the connection to %s on the I/O loop (out "
                     "of memory?)",
                     s->peer);
    return false;
}

/* Forget the current connection or connection attempt. */
static void sock_close(sock *s)
{
    if (s->ev_conn)
        event_free(s->ev_conn);
    if (s->ev_read)
        event_free(s->ev_read);
    s->ev_conn = s->ev_read = NULL;
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
    s->connected = false;
    s->got_data = false;
    s->starving = false;
}

/* Wait the current back-off, then double it for the next failure. With
 * receiver.connect_give_up_after, the last attempt is made at the deadline
 * rather than a whole back-off after it. */
static int64_t sock_schedule_reconnect(sock *s, int64_t now)
{
    int64_t wait = s->backoff_ms, left;

    s->backoff_ms =
        wait > s->reconnect_max_ms / 2 ? s->reconnect_max_ms : wait * 2;
    if (s->give_up_ms > 0 && s->failing) {
        left = s->outage_start_ms + s->give_up_ms - now;
        if (left < wait)
            wait = left < 0 ? 0 : left;
    }
    sock_timer_in(s, wait);
    return wait;
}

/* ------------------------------------------------------- connecting */

/* The limits of the options: true if the receiver gave up (and failed
 * the job), so no further attempt is scheduled. */
static bool sock_give_up(sock *s, int64_t now)
{
    if (s->max_attempts > 0 && s->failures_in_row >= s->max_attempts) {
        sl_receiver_fail(s->r, SL_EIO,
                         "cannot connect to %s after %lld attempts "
                         "(last error: %s)",
                         s->peer, (long long)s->failures_in_row,
                         SL__STRERROR(s->last_err));
        return true;
    }
    if (s->give_up_ms > 0 && now - s->outage_start_ms >= s->give_up_ms) {
        sl_receiver_fail(s->r, SL_EIO,
                         "cannot connect to %s after %lld attempts in "
                         "%lld ms (connect_give_up_after is %lld ms; last "
                         "error: %s)",
                         s->peer, (long long)s->failures_in_row,
                         (long long)(now - s->outage_start_ms),
                         (long long)s->give_up_ms, SL__STRERROR(s->last_err));
        return true;
    }
    return false;
}

/* A warning at the first failure of an outage, then at most one per
 * reconnect_max (at least a second apart): steady retrying warns about as
 * often as Spark's receiver restarts do, yet a short back-off cannot flood
 * the log. The failures in between are debug lines. */
static void sock_report_failure(sock *s, int64_t now, int64_t wait)
{
    int64_t every = s->reconnect_max_ms > SOCK_WARN_MIN_MS ? s->reconnect_max_ms
                                                           : SOCK_WARN_MIN_MS;
    bool warn = s->failures_in_row == 1 || now - s->warned_ms >= every;
    char limit[32] = "";

    if (warn)
        s->warned_ms = now;
    if (s->max_attempts > 0)
        snprintf(limit, sizeof limit, " of %lld", (long long)s->max_attempts);
    sl_receiver_log(s->r, warn ? SL_LOG_WARN : SL_LOG_DEBUG,
                    "cannot connect to %s: %s (attempt %lld%s, no "
                    "connection for %lld ms); retrying in %lld ms",
                    s->peer, SL__STRERROR(s->last_err),
                    (long long)s->failures_in_row, limit,
                    (long long)(now - s->outage_start_ms), (long long)wait);
}

/* Every address of this attempt failed. Attempts count consecutive
 * failures, also after a lost connection; a connection resets them. */
static void sock_connect_failed(sock *s)
{
    int64_t now = sock_now_ms(), wait;

    if (!s->failing) {
        s->failing = true;
        s->outage_start_ms = s->attempt_start_ms;
    }
    s->failures_in_row++;
    sl_receiver_count_error(s->r);
    sl_receiver_count_connect(s->r, false);
    if (sock_give_up(s, now))
        return;
    wait = sock_schedule_reconnect(s, now);
    sock_report_failure(s, now, wait);
}

/* Begin an attempt over every address the name resolved to. */
static void sock_attempt(sock *s)
{
    s->attempt_start_ms = sock_now_ms();
    s->next = s->addrs;
    sock_try_next(s);
}

static void sock_connected(sock *s)
{
    event_free(s->ev_conn);
    s->ev_conn = NULL;
    s->ev_read =
        event_new(s->base, s->fd, EV_READ | EV_PERSIST, sock_on_read, s);
    if (!s->ev_read) {
        s->last_err = ENOMEM;
        sock_close(s);
        sock_connect_failed(s);
        return;
    }
    s->connected = true;
    s->failing = false;
    sl_receiver_count_connect(s->r, true);
    if (s->failures_in_row > 0)
        sl_receiver_log(s->r, SL_LOG_INFO,
                        "connected to %s after %lld failed attempts", s->peer,
                        (long long)s->failures_in_row);
    else
        sl_receiver_log(s->r, SL_LOG_INFO, "connected to %s", s->peer);
    s->failures_in_row = 0;
    /* A receiver paused by the bound still connects, but reads only once
     * the engine resumes it. */
    if (!s->paused)
        sock_read_on(s);
}

static void sock_on_connect(evutil_socket_t fd, short what, void *arg)
{
    sock *s = arg;
    int err = 0;
    socklen_t len = sizeof err;

    if (what & EV_TIMEOUT)
        err = ETIMEDOUT;
    else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
        err = errno;
    if (err == 0) {
        sock_connected(s);
        return;
    }
    s->last_err = err;
    sock_close(s);
    sock_try_next(s);
}

/* Start a non-blocking connect to ai; false if it failed at once. */
static bool sock_start_connect(sock *s, const struct addrinfo *ai)
{
    struct timeval tv;

    s->fd =
        socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
               ai->ai_protocol);
    if (s->fd < 0)
        goto fail;
    if (connect(s->fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS)
        goto fail;
    /* Even an immediate success is reported through the event, so that
     * one path handles every outcome. */
    s->ev_conn = event_new(s->base, s->fd, EV_WRITE, sock_on_connect, s);
    if (!s->ev_conn) {
        errno = ENOMEM;
        goto fail;
    }
    tv.tv_sec = (time_t)(s->connect_timeout_ms / 1000);
    tv.tv_usec = (suseconds_t)(s->connect_timeout_ms % 1000) * 1000;
    if (event_add(s->ev_conn, &tv) < 0) {
        errno = ENOMEM;
        goto fail;
    }
    return true;
fail:
    s->last_err = errno;
    sock_close(s);
    return false;
}

/* Try the remaining addresses of this attempt (a name may resolve to ::1
 * and 127.0.0.1 with the server on only one of them). */
static void sock_try_next(sock *s)
{
    while (s->next) {
        const struct addrinfo *ai = s->next;
        s->next = ai->ai_next;
        if (sock_start_connect(s, ai))
            return;
    }
    sock_connect_failed(s);
}

/* ---------------------------------------------------------- reading */

/* The connection ended: emit an unterminated last line, then come back. */
static void sock_lost(sock *s, int err)
{
    int64_t wait;

    if (s->got_data)
        sl_receiver_end_of_stream(s->r);
    sock_close(s);
    /* Even a clean close counts: Spark reports its receiver's restart
     * ("Socket data stream had no more data") as an error too. */
    sl_receiver_count_error(s->r);
    /* The outage, which receiver.connect_give_up_after limits, begins
     * now; the attempts that follow count as after a failed start. */
    s->failing = true;
    s->outage_start_ms = sock_now_ms();
    wait = sock_schedule_reconnect(s, s->outage_start_ms);
    if (err)
        sl_receiver_log(s->r, SL_LOG_INFO,
                        "connection to %s closed: %s; reconnecting in %lld ms",
                        s->peer, SL__STRERROR(err), (long long)wait);
    else
        sl_receiver_log(s->r, SL_LOG_INFO,
                        "connection to %s closed; reconnecting in %lld ms",
                        s->peer, (long long)wait);
}

/* Out of block memory: stop reading (TCP holds the data) and try again
 * shortly, when batches may have released blocks. */
static void sock_starve(sock *s)
{
    /* Once per series, as for connection failures. */
    if (!s->nomem_series)
        sl_receiver_log(s->r, SL_LOG_WARN,
                        "no receive buffer for %s (out of memory); "
                        "retrying every %d ms",
                        s->peer, SOCK_NOMEM_RETRY_MS);
    s->nomem_series = true;
    event_del(s->ev_read);
    s->starving = true;
    sock_timer_in(s, SOCK_NOMEM_RETRY_MS);
}

/* Read until EAGAIN, but at most SOCK_READ_BUDGET bytes: level-triggered
 * events call us again, and other receivers and the batch timer get their
 * turn in between. */
static void sock_on_read(evutil_socket_t fd, short what, void *arg)
{
    sock *s = arg;
    size_t total = 0, len;
    ssize_t n;
    char *buf;

    (void)what;
    while (total < SOCK_READ_BUDGET) {
        len = SOCK_READ_CHUNK;
        buf = sl_receiver_buffer(s->r, &len);
        /* No room is out of memory too: read(fd, buf, 0) would return 0,
         * which looks like the peer closing. */
        if (!buf || len == 0) {
            sock_starve(s);
            return;
        }
        n = read(fd, buf, len);
        if (n > 0) {
            /* The back-off restarts only once a connection delivers: a
             * server that accepts and closes at once is backed off too. */
            if (!s->got_data)
                s->backoff_ms = s->reconnect_min_ms;
            s->got_data = true;
            s->nomem_series = false;
            total += (size_t)n;
            /* commit may pause us (flow control) from inside the call. */
            sl_receiver_commit(s->r, (size_t)n);
            if (s->paused || s->stopped || s->fd < 0)
                return;
        } else if (n == 0) {
            sock_lost(s, 0);
            return;
        } else if (errno != EINTR) {
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                sock_lost(s, errno);
            return;
        }
    }
}

/* ---------------------------------------------------------- timer */

static void sock_on_timer(evutil_socket_t fd, short what, void *arg)
{
    sock *s = arg;

    (void)fd;
    (void)what;
    if (s->stopped)
        return;
    if (s->connected) {
        /* Retry after out of memory. */
        s->starving = false;
        if (!s->paused)
            sock_read_on(s);
        return;
    }
    sock_attempt(s);
}

/* ------------------------------------------------------- receiver ops */

static void lookup_release(sock_lookup *lk)
{
    if (atomic_fetch_sub(&lk->refs, 1) != 1)
        return;
    if (lk->addrs)
        freeaddrinfo(lk->addrs);
    close(lk->fd);
    sl_free(lk->host);
    sl_free(lk);
}

/* The resolver thread: getaddrinfo, then one write that wakes the loop. */
static void *lookup_main(void *arg)
{
    sock_lookup *lk = arg;
    struct addrinfo hints;
    uint64_t one = 1;
    ssize_t n;

    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    lk->rc = getaddrinfo(lk->host, lk->service, &hints, &lk->addrs);
    lk->err = errno;
    if (lk->rc != 0)
        lk->addrs = NULL;
    atomic_store(&lk->done, true);
    n = write(lk->fd, &one, sizeof one);
    (void)n; /* an eventfd counter cannot be full after one write */
    lookup_release(lk);
    return NULL;
}

/* Drop the resolution: after a result, or at a stop while it runs. */
static void sock_lookup_drop(sock *s)
{
    if (s->ev_resolve)
        event_free(s->ev_resolve);
    s->ev_resolve = NULL;
    if (s->lookup)
        lookup_release(s->lookup);
    s->lookup = NULL;
}

/* On the loop: the name resolved (connect) or not (fail the job with the
 * message a blocking resolve gave). */
static void sock_on_resolved(evutil_socket_t fd, short what, void *arg)
{
    sock *s = arg;
    sock_lookup *lk = s->lookup;
    int rc, err;

    (void)fd;
    (void)what;
    if (!atomic_load(&lk->done))
        return; /* not ours to read yet (cannot happen: one write) */
    rc = lk->rc;
    err = lk->err;
    s->addrs = lk->addrs;
    lk->addrs = NULL;
    sock_lookup_drop(s);
    if (rc != 0) {
        /* The job's final message names the host, not only the receiver. */
        sl_receiver_fail(s->r, rc == EAI_MEMORY ? SL_ENOMEM : SL_ENOTFOUND,
                         "cannot resolve %s (for %s): %s", s->host, s->peer,
                         rc == EAI_SYSTEM ? SL__STRERROR(err)
                                          : gai_strerror(rc));
        return;
    }
    sock_attempt(s);
}

static sock_lookup *lookup_new(const sock *s)
{
    sock_lookup *lk = sl_malloc(sizeof *lk);

    if (!lk)
        return NULL;
    memset(lk, 0, sizeof *lk);
    atomic_init(&lk->refs, 1);
    atomic_init(&lk->done, false);
    memcpy(lk->service, s->service, sizeof lk->service);
    lk->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    lk->host = sl__strdup(s->host);
    if (lk->fd < 0 || !lk->host) {
        if (lk->fd >= 0)
            close(lk->fd);
        sl_free(lk->host);
        sl_free(lk);
        return NULL;
    }
    return lk;
}

/* Resolve off the loop: a detached thread, and an event for its result. */
static sl_status sock_resolve(sock *s)
{
    pthread_attr_t attr;
    pthread_t th;
    int rc;

    if (!(s->lookup = lookup_new(s)))
        return SL_ENOMEM;
    s->ev_resolve =
        event_new(s->base, s->lookup->fd, EV_READ, sock_on_resolved, s);
    if (!s->ev_resolve || event_add(s->ev_resolve, NULL) != 0)
        goto drop;
    if (pthread_attr_init(&attr) != 0)
        goto drop;
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    atomic_fetch_add(&s->lookup->refs, 1); /* the thread's */
    rc = pthread_create(&th, &attr, lookup_main, s->lookup);
    pthread_attr_destroy(&attr);
    if (rc == 0)
        return SL_OK;
    atomic_fetch_sub(&s->lookup->refs, 1);
drop:
    sock_lookup_drop(s);
    return SL_ENOMEM;
}

static sl_status sock_start(void *state, sl_receiver *r)
{
    sock *s = state;

    s->r = r;
    s->base = sl_receiver_event_base(r);
    sl_receiver_set_connecting(r);
    if (s->dead && sl__receiver_dead_letters(r, s->dead, s->name) != SL_OK)
        return SL_ENOMEM;
    if (!s->have_conf) {
        s->connect_timeout_ms =
            sl_receiver_conf_int(r, "receiver.connect_timeout");
        s->reconnect_min_ms = sl_receiver_conf_int(r, "receiver.reconnect_min");
        s->reconnect_max_ms = sl_receiver_conf_int(r, "receiver.reconnect_max");
        s->max_attempts =
            sl_receiver_conf_int(r, "receiver.max_connect_attempts");
        s->give_up_ms =
            sl_receiver_conf_int(r, "receiver.connect_give_up_after");
    }
    /* Guard against a table without the rows (0 would spin). */
    if (s->reconnect_min_ms < 1)
        s->reconnect_min_ms = 1;
    if (s->reconnect_max_ms < s->reconnect_min_ms)
        s->reconnect_max_ms = s->reconnect_min_ms;
    if (s->connect_timeout_ms < 1)
        s->connect_timeout_ms = 1;
    s->backoff_ms = s->reconnect_min_ms;
    s->ev_timer = evtimer_new(s->base, sock_on_timer, s);
    if (!s->ev_timer)
        return SL_ENOMEM;
    /* The first attempt starts when the name has resolved. A failed start
     * gets no stop: release the timer while the event base exists. */
    if (sock_resolve(s) == SL_OK)
        return SL_OK;
    event_free(s->ev_timer);
    s->ev_timer = NULL;
    return SL_ENOMEM;
}

/* Stop for good: the engine seals what was read; the timer is released
 * here, while the event base surely still exists. */
static void sock_stop(void *state)
{
    sock *s = state;

    s->stopped = true;
    sock_lookup_drop(s);
    sock_close(s);
    if (s->ev_timer)
        event_free(s->ev_timer);
    s->ev_timer = NULL;
    sl_receiver_log(s->r, SL_LOG_DEBUG, "stopped reading from %s", s->peer);
}

static void sock_pause(void *state)
{
    sock *s = state;

    s->paused = true;
    if (s->ev_read)
        event_del(s->ev_read);
}

static void sock_resume(void *state)
{
    sock *s = state;

    s->paused = false;
    if (s->ev_read && !s->starving && !s->stopped)
        sock_read_on(s);
}

static void sock_free(void *state)
{
    sock *s = state;

    if (!s)
        return;
    /* Normally stop already released the events and the descriptor. */
    if (!s->stopped && (s->fd >= 0 || s->ev_timer || s->lookup))
        sock_stop(s);
    if (s->addrs)
        freeaddrinfo(s->addrs);
    sl__dead_letters_close(s->dead);
    sl_free(s->name);
    sl_free(s->host);
    sl_free(s);
}

static const sl_receiver_ops sock_ops = {
    .version = SL_RECEIVER_OPS_VERSION,
    .name = "socket",
    .start = sock_start,
    .stop = sock_stop,
    .pause = sock_pause,
    .resume = sock_resume,
    .free = sock_free,
};

/* ------------------------------------------------------- construction */

sl_status sl__socket_dead_letters(sl_context *ctx, const sl_conf *conf,
                                  sl__dead_letters **dead, char **name,
                                  char *err, size_t errlen)
{
    const char *path =
        sl__dead_letter_path(conf, "receiver.dead_letter", ctx->conf);
    const char *src = conf ? sl_conf_get(conf, "source.name") : "";

    *dead = NULL;
    *name = NULL;
    if (!path)
        return SL_OK;
    if (!(*name = sl__strdup(src && *src ? src : "socket")))
        return sl__errbuf(err, errlen, SL_ENOMEM, "out of memory");
    return sl__dead_letters_open(path, sl__context_bad_counts(ctx), dead, err,
                                 errlen);
}

/* Take the connection options from conf when the caller gave one. */
static sl_status sock_read_conf(sock *s, const sl_conf *conf)
{
    sl_status st;
    if (!conf)
        return SL_OK;
    s->have_conf = true;
    st = sl_conf_get_int(conf, "receiver.connect_timeout",
                         &s->connect_timeout_ms);
    if (st == SL_OK)
        st = sl_conf_get_int(conf, "receiver.reconnect_min",
                             &s->reconnect_min_ms);
    if (st == SL_OK)
        st = sl_conf_get_int(conf, "receiver.reconnect_max",
                             &s->reconnect_max_ms);
    if (st == SL_OK)
        st = sl_conf_get_int(conf, "receiver.max_connect_attempts",
                             &s->max_attempts);
    if (st == SL_OK)
        st = sl_conf_get_int(conf, "receiver.connect_give_up_after",
                             &s->give_up_ms);
    return st;
}

static sl_status sock_new(sl_context *ctx, const char *host, int port,
                          const sl_conf *conf, sock **out, char *err,
                          size_t errlen)
{
    size_t hlen = strlen(host);
    sock *s = sl_malloc(sizeof *s);
    sl_status st = SL_ENOMEM;

    if (!s)
        return SL_ENOMEM;
    memset(s, 0, sizeof *s);
    s->fd = -1;
    s->host = sl_malloc(hlen + 1);
    if (!s->host)
        goto free_sock;
    st = sock_read_conf(s, conf);
    if (st != SL_OK)
        goto free_sock;
    if ((st = sl__socket_dead_letters(ctx, conf, &s->dead, &s->name, err,
                                      errlen)) != SL_OK)
        goto free_sock;
    memcpy(s->host, host, hlen + 1);
    snprintf(s->service, sizeof s->service, "%d", port);
    /* IPv6 literals are bracketed so the port stays readable. */
    snprintf(s->peer, sizeof s->peer,
             strchr(host, ':') ? "[%.256s]:%d" : "%.256s:%d", host, port);
    *out = s;
    return SL_OK;
free_sock:
    sl__dead_letters_close(s->dead);
    sl_free(s->name);
    sl_free(s->host);
    sl_free(s);
    return st;
}

/*
 * receiver.format, receiver.schema and receiver.parse_mode: lines become
 * records on the workers (stream/recv_records.c), not here on the I/O
 * thread. CSV as the defaults of the directory source (',' and '"', no
 * header: a stream has no first line to name columns), but with a schema
 * receiver.csv.header "optional" skips lines of the column names (feeds
 * sent with or without one, by several clients).
 */
sl_status sl__socket_records(sl_dstream *stream, const sl_conf *conf,
                             sl__dead_letters *dead, char *err, size_t errlen)
{
    const char *ddl = sl_conf_get(conf, "receiver.schema");
    const char *name = sl_conf_get(conf, "source.name");
    sl_schema *schema = NULL;
    sl__rec_options o;
    char why[256];
    sl_status st;

    sl__rec_options_init(&o);
    if (sl__rec_format_parse(sl_conf_get(conf, "receiver.format"), &o.format) !=
            SL_OK ||
        sl__parse_mode_parse(sl_conf_get(conf, "receiver.parse_mode"),
                             &o.mode) != SL_OK)
        return sl__errbuf(err, errlen, SL_ECONF,
                          "bad receiver.format or receiver.parse_mode");
    if (*ddl && sl_schema_parse(ddl, &schema, why, sizeof why) != SL_OK)
        return sl__errbuf(err, errlen, SL_ECONF, "receiver.schema: %s", why);
    o.schema = schema;
    o.header_optional =
        strcmp(sl_conf_get(conf, "receiver.csv.header"), "optional") == 0;
    st = sl__receiver_set_records(stream, &o, dead, *name ? name : "socket",
                                  why, sizeof why);
    sl_schema_release(schema);
    if (st != SL_OK)
        return sl__errbuf(err, errlen, st, "receiver.schema: %s", why);
    return SL_OK;
}

/* receiver.listen, from conf, else from the context's. */
static bool sock_listens(sl_context *ctx, const sl_conf *conf)
{
    bool listen = false;

    if (sl_conf_get_bool(conf ? conf : ctx->conf, "receiver.listen", &listen) !=
        SL_OK)
        return false;
    return listen;
}

sl_dstream *sl_socket_text_stream(sl_context *ctx, const char *host, int port,
                                  const sl_conf *conf)
{
    sock *s = NULL;
    char err[PATH_MAX + 128] = "";
    sl__dead_letters *dead;
    sl_dstream *stream;
    sl_status st;

    if (!ctx)
        return NULL;
    if (!host || !*host) {
        sl_context_set_error(ctx, SL_EINVAL, "socket text stream: no host");
        return NULL;
    }
    if (sock_listens(ctx, conf))
        return sl__socket_listen_stream(ctx, host, port, conf);
    if (port < 1 || port > 65535) {
        sl_context_set_error(ctx, SL_EINVAL,
                             "socket text stream: port %d is not in 1..65535",
                             port);
        return NULL;
    }
    st = sock_new(ctx, host, port, conf, &s, err, sizeof err);
    if (st != SL_OK) {
        sl_context_set_error(ctx, st, "socket text stream: %s",
                             err[0]            ? err
                             : st == SL_ENOMEM ? "out of memory"
                                               : "bad receiver.* options in "
                                                 "conf");
        return NULL;
    }
    /* From here the context owns s, also if this fails. */
    dead = s->dead;
    stream = sl_receiver_stream(ctx, &sock_ops, s);
    if (stream && conf &&
        (st = sl__socket_records(stream, conf, dead, err, sizeof err)) !=
            SL_OK) {
        sl_context_set_error(ctx, st, "socket text stream: %s", err);
        return NULL;
    }
    return stream;
}
