/*
 * The client side of the control socket (streamctl's): one request line,
 * one reply line, bounded by a deadline.
 */
#include "control/control_int.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static sl_status errf(char *errbuf, size_t errlen, sl_status st,
                      const char *what, const char *path, int err)
{
    if (errbuf && errlen)
        snprintf(errbuf, errlen, "%s %s: %s", what, path, SL__STRERROR(err));
    return st;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait until fd is ready for events or the deadline passes. */
static sl_status wait_fd(int fd, short events, int64_t deadline)
{
    struct pollfd p = {fd, events, 0};
    for (;;) {
        int64_t left = deadline - now_ms();
        int n;
        if (left <= 0)
            return SL_ETIMEDOUT;
        n = poll(&p, 1, left > 1000 ? 1000 : (int)left);
        if (n > 0)
            return SL_OK;
        if (n < 0 && errno != EINTR)
            return SL_EIO;
    }
}

static sl_status send_all(int fd, const char *p, size_t n, int64_t deadline)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
            sl_status st = wait_fd(fd, POLLOUT, deadline);
            if (st)
                return st;
            continue;
        }
        if (w <= 0)
            return SL_EIO;
        p += w;
        n -= (size_t)w;
    }
    return SL_OK;
}

static sl_status read_reply(int fd, sl__buf *b, int64_t deadline)
{
    char chunk[8192];
    for (;;) {
        ssize_t n = recv(fd, chunk, sizeof chunk, 0);
        sl_status st;
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            if ((st = wait_fd(fd, POLLIN, deadline)))
                return st;
            continue;
        }
        if (n < 0)
            return SL_EIO;
        if (n == 0)
            return b->len && b->data[b->len - 1] == '\n' ? SL_OK : SL_EIO;
        if (sl__buf_append(b, chunk, (size_t)n))
            return SL_ENOMEM;
    }
}

static int connect_to(const char *path, char *errbuf, size_t errlen,
                      sl_status *st)
{
    struct sockaddr_un sa;
    int fd;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof sa.sun_path) {
        *st = errf(errbuf, errlen, SL_ERANGE, "socket path too long:", path,
                   ENAMETOOLONG);
        return -1;
    }
    memcpy(sa.sun_path, path, strlen(path));
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        *st = errf(errbuf, errlen, SL_EIO, "socket for", path, errno);
        return -1;
    }
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        int err = errno;
        close(fd);
        *st = errf(errbuf, errlen, err == ENOENT ? SL_ENOTFOUND : SL_EIO,
                   "cannot connect to", path, err);
        return -1;
    }
    return fd;
}

sl_status sl_control_request(const char *socket_path, const char *request,
                             int64_t timeout_ms, char **response, char *errbuf,
                             size_t errlen)
{
    int64_t deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : 30000);
    sl__buf b = {0};
    sl_status st = SL_OK;
    int fd;
    if (!socket_path || !request || !response)
        return SL_EINVAL;
    *response = NULL;
    if ((fd = connect_to(socket_path, errbuf, errlen, &st)) < 0)
        return st;
    if ((st = send_all(fd, request, strlen(request), deadline)) == SL_OK &&
        (st = send_all(fd, "\n", 1, deadline)) == SL_OK)
        st = read_reply(fd, &b, deadline);
    close(fd);
    if (st == SL_OK && !(st = sl__buf_append(&b, "", 1))) {
        b.data[b.len - 2] = '\0'; /* the line's end goes */
        *response = b.data;
        return SL_OK;
    }
    sl__buf_free(&b);
    if (errbuf && errlen)
        snprintf(errbuf, errlen, "%s: %s", socket_path,
                 st == SL_ETIMEDOUT ? "no reply in time"
                 : st == SL_EIO     ? "the job closed the "
                                      "connection without a "
                                      "reply"
                                    : sl_strerror(st));
    return st;
}
