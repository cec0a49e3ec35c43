/*
 * The socket source as a server (receiver.listen): listens on host:port on
 * the I/O thread's libevent loop and reads the lines of any number of
 * clients, each through its own receiver channel, so that a line is always
 * one client's bytes. A client that shuts down its sending side (ncat at
 * the end of its input) has its last line taken and its connection closed.
 */
#include "socket/socket_int.h"
#include "stream/stream_int.h"

#include <errno.h>
#include <event2/event.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#define LSN_READ_CHUNK (256 * 1024)   /* bytes asked for per read() */
#define LSN_READ_BUDGET (1024 * 1024) /* per client and callback at most */
#define LSN_ACCEPT_BUDGET 64          /* clients accepted per callback */
#define LSN_RETRY_MS 50               /* after out of memory or of fds */
#define LSN_MAX_ADDRS 4               /* addresses a host is bound on */

typedef struct lsn lsn;

/* One connected client: its descriptor, read event and line channel. */
typedef struct lsn_client {
    lsn *l;
    int fd;
    struct event *ev;
    sl_receiver_channel *ch;
    bool got_data;
    char peer[INET6_ADDRSTRLEN + 8];
    struct lsn_client *prev, *next;
} lsn_client;

struct lsn {
    char *host;
    char service[12];
    char where[300];        /* "host:port" as configured, for messages */
    sl__dead_letters *dead; /* over-long lines go there, or NULL */
    char *name;             /* their origin: source.name or "socket" */

    sl_receiver *r;
    struct event_base *base;
    int fds[LSN_MAX_ADDRS]; /* listening sockets */
    struct event *evs[LSN_MAX_ADDRS];
    int nfds;
    atomic_int port;        /* the bound port, 0 until listening */
    struct event *ev_timer; /* resume after out of memory or of fds */
    lsn_client *clients;
    int64_t nclients;
    bool paused;   /* the engine asked to stop reading */
    bool starving; /* no buffer or descriptor: waiting on ev_timer */
    bool stopped;
};

static const sl_receiver_ops lsn_ops;

/* ------------------------------------------------------------ helpers */

/* Watch (on) or stop watching every client's input. False if the loop
 * refused an event, after failing the job. */
static bool lsn_reads(lsn *l, bool on)
{
    lsn_client *c;

    for (c = l->clients; c; c = c->next) {
        if (!on) {
            event_del(c->ev);
        } else if (event_add(c->ev, NULL) != 0) {
            sl_receiver_fail(l->r, SL_ENOMEM,
                             "cannot watch client %s on the I/O loop (out "
                             "of memory?)",
                             c->peer);
            return false;
        }
    }
    return true;
}

/* Also accepting pauses while starving: a descriptor shortage (EMFILE)
 * would otherwise wake the loop at once again. */
static void lsn_accepts(lsn *l, bool on)
{
    int i;

    for (i = 0; i < l->nfds; i++)
        if (on)
            event_add(l->evs[i], NULL);
        else
            event_del(l->evs[i]);
}

/* Out of receive memory or of descriptors: stop reading and accepting
 * (TCP holds the data and the backlog) and try again shortly. */
static void lsn_starve(lsn *l, const char *why)
{
    struct timeval tv = {0, LSN_RETRY_MS * 1000};

    if (!l->starving)
        sl_receiver_log(l->r, SL_LOG_WARN, "%s on %s; retrying every %d ms",
                        why, l->where, LSN_RETRY_MS);
    l->starving = true;
    lsn_reads(l, false);
    lsn_accepts(l, false);
    if (evtimer_add(l->ev_timer, &tv) != 0)
        sl_receiver_fail(l->r, SL_ENOMEM,
                         "cannot arm the timer for %s on the I/O loop (out "
                         "of memory?)",
                         l->where);
}

static void lsn_on_timer(evutil_socket_t fd, short what, void *arg)
{
    lsn *l = arg;

    (void)fd;
    (void)what;
    if (l->stopped)
        return;
    l->starving = false;
    lsn_accepts(l, true);
    if (!l->paused)
        lsn_reads(l, true);
}

/* "addr:port" of a socket address, IPv6 bracketed; returns the port. */
static int lsn_addr_text(const struct sockaddr *sa, socklen_t len, char *buf,
                         size_t size)
{
    char host[INET6_ADDRSTRLEN] = "?", serv[8] = "0";

    getnameinfo(sa, len, host, sizeof host, serv, sizeof serv,
                NI_NUMERICHOST | NI_NUMERICSERV);
    snprintf(buf, size, sa->sa_family == AF_INET6 ? "[%s]:%s" : "%s:%s", host,
             serv);
    return atoi(serv);
}

/* ----------------------------------------------------------- clients */

static void lsn_client_free(lsn_client *c)
{
    lsn *l = c->l;

    if (c->prev)
        c->prev->next = c->next;
    else
        l->clients = c->next;
    if (c->next)
        c->next->prev = c->prev;
    l->nclients--;
    if (c->ev)
        event_free(c->ev);
    close(c->fd);
    sl_receiver_channel_free(l->r, c->ch);
    sl_free(c);
}

/* The client's input ended (err 0: it shut down its side): its last,
 * unterminated line is a line (Spark's rule for the end of a socket's
 * stream); closing the connection lets the sender end too. */
static void lsn_client_end(lsn_client *c, int err)
{
    lsn *l = c->l;

    if (c->got_data)
        sl_receiver_end_of_stream(l->r); /* c's channel is in use */
    if (err) {
        sl_receiver_count_error(l->r);
        sl_receiver_log(l->r, SL_LOG_INFO, "client %s: %s; closed (%lld open)",
                        c->peer, SL__STRERROR(err), (long long)l->nclients - 1);
    } else {
        sl_receiver_log(l->r, SL_LOG_INFO,
                        "client %s ended its input; closed (%lld open)",
                        c->peer, (long long)l->nclients - 1);
    }
    lsn_client_free(c);
}

/* Read one client until EAGAIN or its budget; level-triggered events
 * bring it back, and the other clients get their turn in between. */
static void lsn_on_read(evutil_socket_t fd, short what, void *arg)
{
    lsn_client *c = arg;
    lsn *l = c->l;
    size_t total = 0, len;
    ssize_t n;
    char *buf;

    (void)what;
    if (sl_receiver_channel_use(l->r, c->ch) != SL_OK) {
        lsn_starve(l, "no memory for a client's line (out of memory)");
        return;
    }
    while (total < LSN_READ_BUDGET) {
        len = LSN_READ_CHUNK;
        buf = sl_receiver_buffer(l->r, &len);
        /* No room is out of memory too: read(fd, buf, 0) would return 0,
         * which looks like the client ending. */
        if (!buf || len == 0) {
            lsn_starve(l, "no receive buffer (out of memory)");
            return;
        }
        n = read(fd, buf, len);
        if (n > 0) {
            c->got_data = true;
            total += (size_t)n;
            /* commit may pause us (flow control) from inside the call. */
            sl_receiver_commit(l->r, (size_t)n);
            if (l->paused || l->stopped || l->starving)
                return;
        } else if (n == 0) {
            lsn_client_end(c, 0);
            return;
        } else if (errno != EINTR) {
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                lsn_client_end(c, errno);
            return;
        }
    }
}

/* A client accepted on fd: its channel and event, or refused (closed,
 * counted, logged) when out of memory. */
static void lsn_client_add(lsn *l, int fd, const struct sockaddr *sa,
                           socklen_t salen)
{
    lsn_client *c = sl_malloc(sizeof *c);

    if (!c)
        goto refuse;
    memset(c, 0, sizeof *c);
    c->l = l;
    c->fd = fd;
    lsn_addr_text(sa, salen, c->peer, sizeof c->peer);
    c->ch = sl_receiver_channel_new(l->r);
    c->ev = event_new(l->base, fd, EV_READ | EV_PERSIST, lsn_on_read, c);
    if (!c->ch || !c->ev)
        goto refuse;
    c->next = l->clients;
    if (l->clients)
        l->clients->prev = c;
    l->clients = c;
    l->nclients++;
    sl_receiver_count_connect(l->r, true);
    sl_receiver_log(l->r, SL_LOG_INFO, "client %s connected (%lld open)",
                    c->peer, (long long)l->nclients);
    /* A paused or starving receiver accepts, but reads only later. */
    if (!l->paused && !l->starving && event_add(c->ev, NULL) != 0)
        sl_receiver_fail(l->r, SL_ENOMEM,
                         "cannot watch client %s on the I/O loop (out of "
                         "memory?)",
                         c->peer);
    return;
refuse:
    sl_receiver_count_error(l->r);
    sl_receiver_log(l->r, SL_LOG_WARN, "refused a client on %s: out of memory",
                    l->where);
    if (c) {
        if (c->ev)
            event_free(c->ev);
        sl_receiver_channel_free(l->r, c->ch);
        sl_free(c);
    }
    close(fd);
}

static void lsn_on_accept(evutil_socket_t lfd, short what, void *arg)
{
    lsn *l = arg;
    struct sockaddr_storage ss;
    socklen_t len;
    int i, fd;

    (void)what;
    for (i = 0; i < LSN_ACCEPT_BUDGET && !l->stopped && !l->starving; i++) {
        len = sizeof ss;
        fd = accept4(lfd, (struct sockaddr *)&ss, &len,
                     SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            lsn_client_add(l, fd, (struct sockaddr *)&ss, len);
        } else if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
                   errno == ENOMEM) {
            sl_receiver_count_error(l->r);
            lsn_starve(l, "cannot accept a client (out of descriptors or "
                          "memory)");
            return;
        } else if (errno != EINTR && errno != ECONNABORTED) {
            if (errno != EAGAIN && errno != EWOULDBLOCK) {
                sl_receiver_count_error(l->r);
                sl_receiver_log(l->r, SL_LOG_WARN, "accept on %s: %s", l->where,
                                SL__STRERROR(errno));
            }
            return;
        }
    }
}

/* ---------------------------------------------------------- listening */

/* A listening socket on ai; errno set and -1 on failure. */
static int lsn_socket(const struct addrinfo *ai)
{
    int fd, one = 1, e;

    fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                ai->ai_protocol);
    if (fd < 0)
        return -1;
    /* A restarted job binds again at once, past the old TIME_WAITs. */
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0)
        goto fail;
    /* "localhost" may give ::1 and 127.0.0.1: each gets its own socket. */
    if (ai->ai_family == AF_INET6 &&
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) != 0)
        goto fail;
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 ||
        listen(fd, SOMAXCONN) != 0)
        goto fail;
    return fd;
fail:
    e = errno;
    close(fd);
    errno = e;
    return -1;
}

/* Watch listening socket fd and log where it listens. */
static sl_status lsn_add_fd(lsn *l, int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    char text[INET6_ADDRSTRLEN + 8];
    int port;

    l->fds[l->nfds] = fd;
    l->evs[l->nfds] =
        event_new(l->base, fd, EV_READ | EV_PERSIST, lsn_on_accept, l);
    l->nfds++;
    if (!l->evs[l->nfds - 1] || event_add(l->evs[l->nfds - 1], NULL) != 0)
        return SL_ENOMEM;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
        return SL_EIO;
    port = lsn_addr_text((struct sockaddr *)&ss, len, text, sizeof text);
    if (atomic_load(&l->port) == 0)
        atomic_store(&l->port, port);
    /* Tests and scripts take the port of a port-0 source from here. */
    sl_receiver_log(l->r, SL_LOG_INFO, "listening on %s", text);
    return SL_OK;
}

/* Bind every address the host names (at most LSN_MAX_ADDRS; the first
 * only for port 0, where each would get another port). The listening
 * address is local, so resolving it here, once, at the start, does not
 * hold the loop up as a remote name could. */
static sl_status lsn_bind(lsn *l)
{
    struct addrinfo hints, *res = NULL, *ai;
    int rc, fd, err = 0, skipped = 0;
    sl_status st = SL_OK;

    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    rc = getaddrinfo(l->host, l->service, &hints, &res);
    if (rc != 0) {
        sl_receiver_fail(
            l->r, SL_ENOTFOUND, "cannot listen on %s: %s", l->where,
            rc == EAI_SYSTEM ? SL__STRERROR(errno) : gai_strerror(rc));
        return SL_ENOTFOUND;
    }
    for (ai = res; ai && l->nfds < LSN_MAX_ADDRS && st == SL_OK;
         ai = ai->ai_next) {
        if (strcmp(l->service, "0") == 0 && l->nfds > 0)
            break;
        if ((fd = lsn_socket(ai)) < 0) {
            /* An address the machine lacks (::1 without IPv6) is skipped
             * while another one binds. */
            if (errno == EAFNOSUPPORT || errno == EADDRNOTAVAIL) {
                skipped = errno;
                continue;
            }
            err = errno;
            break;
        }
        st = lsn_add_fd(l, fd);
    }
    freeaddrinfo(res);
    if (st == SL_OK && !err && l->nfds == 0)
        err = skipped;
    if (st == SL_OK && (err || l->nfds == 0))
        st = SL_EIO;
    if (st != SL_OK)
        sl_receiver_fail(l->r, st, "cannot listen on %s: %s", l->where,
                         err               ? SL__STRERROR(err)
                         : st == SL_ENOMEM ? "out of memory"
                                           : "no address to bind");
    return st;
}

/* ------------------------------------------------------- receiver ops */

static void lsn_close_all(lsn *l)
{
    int i;

    while (l->clients)
        lsn_client_free(l->clients);
    for (i = 0; i < l->nfds; i++) {
        if (l->evs[i])
            event_free(l->evs[i]);
        close(l->fds[i]);
    }
    l->nfds = 0;
    if (l->ev_timer)
        event_free(l->ev_timer);
    l->ev_timer = NULL;
}

static sl_status lsn_start(void *state, sl_receiver *r)
{
    lsn *l = state;
    sl_status st;

    l->r = r;
    l->base = sl_receiver_event_base(r);
    if (l->dead && sl__receiver_dead_letters(r, l->dead, l->name) != SL_OK)
        return SL_ENOMEM;
    if (!(l->ev_timer = evtimer_new(l->base, lsn_on_timer, l)))
        return SL_ENOMEM;
    /* A failed start gets no stop: release everything here. */
    if ((st = lsn_bind(l)) != SL_OK)
        lsn_close_all(l);
    return st;
}

/* Stop for good. A client's line not yet ended is dropped and counted
 * (its end never came), as client mode does with an open connection. */
static void lsn_stop(void *state)
{
    lsn *l = state;

    l->stopped = true;
    lsn_close_all(l);
    sl_receiver_log(l->r, SL_LOG_DEBUG, "stopped listening on %s", l->where);
}

/* Backpressure (receiver.max_buffered_bytes) pauses every client: they
 * all fill the same blocks. New clients are still accepted. */
static void lsn_pause(void *state)
{
    lsn *l = state;

    l->paused = true;
    lsn_reads(l, false);
}

static void lsn_resume(void *state)
{
    lsn *l = state;

    l->paused = false;
    if (!l->starving && !l->stopped)
        lsn_reads(l, true);
}

static void lsn_free(void *state)
{
    lsn *l = state;

    if (!l)
        return;
    if (!l->stopped && (l->nfds || l->clients || l->ev_timer))
        lsn_stop(l);
    sl__dead_letters_close(l->dead);
    sl_free(l->name);
    sl_free(l->host);
    sl_free(l);
}

static const sl_receiver_ops lsn_ops = {
    .version = SL_RECEIVER_OPS_VERSION,
    .name = "socket",
    .start = lsn_start,
    .stop = lsn_stop,
    .pause = lsn_pause,
    .resume = lsn_resume,
    .free = lsn_free,
};

/* ------------------------------------------------------- construction */

static lsn *lsn_new(sl_context *ctx, const char *host, int port,
                    const sl_conf *conf, char *err, size_t errlen)
{
    lsn *l = sl_malloc(sizeof *l);

    if (!l) {
        sl__errbuf(err, errlen, SL_ENOMEM, "out of memory");
        return NULL;
    }
    memset(l, 0, sizeof *l);
    atomic_init(&l->port, 0);
    if (!(l->host = sl__strdup(host))) {
        sl__errbuf(err, errlen, SL_ENOMEM, "out of memory");
        goto free_lsn;
    }
    if (sl__socket_dead_letters(ctx, conf, &l->dead, &l->name, err, errlen) !=
        SL_OK)
        goto free_lsn;
    snprintf(l->service, sizeof l->service, "%d", port);
    snprintf(l->where, sizeof l->where,
             strchr(host, ':') ? "[%.256s]:%d" : "%.256s:%d", host, port);
    return l;
free_lsn:
    sl__dead_letters_close(l->dead);
    sl_free(l->name);
    sl_free(l->host);
    sl_free(l);
    return NULL;
}

sl_dstream *sl__socket_listen_stream(sl_context *ctx, const char *host,
                                     int port, const sl_conf *conf)
{
    char err[PATH_MAX + 128] = "";
    sl__dead_letters *dead;
    sl_dstream *stream;
    sl_status st;
    lsn *l;

    if (port < 0 || port > 65535) {
        sl_context_set_error(ctx, SL_EINVAL,
                             "socket text stream: port %d is not in 0..65535",
                             port);
        return NULL;
    }
    if (!(l = lsn_new(ctx, host, port, conf, err, sizeof err))) {
        sl_context_set_error(ctx, SL_ENOMEM, "socket text stream: %s",
                             err[0] ? err : "out of memory");
        return NULL;
    }
    /* From here the context owns l, also if this fails. */
    dead = l->dead;
    stream = sl_receiver_stream(ctx, &lsn_ops, l);
    if (stream && conf &&
        (st = sl__socket_records(stream, conf, dead, err, sizeof err)) !=
            SL_OK) {
        sl_context_set_error(ctx, st, "socket text stream: %s", err);
        return NULL;
    }
    return stream;
}

int sl_socket_stream_port(sl_dstream *s)
{
    if (!s || s->kind != DS_RECEIVER || s->receiver->ops != &lsn_ops)
        return SL_EINVAL;
    return atomic_load(&((lsn *)s->receiver->state)->port);
}
