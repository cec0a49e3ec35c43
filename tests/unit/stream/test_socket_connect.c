/*
 * The socket source when its server cannot be reached: the connect_*
 * counters of sl_receiver_stats, the two give-up options (from the
 * stream's conf and from the context's), the failure status and message
 * the context ends with, the count's reset by a connection, and the same
 * counting after a lost connection. The refused port is a socket bound on
 * 127.0.0.1 that does not listen: connecting to it is refused, and no
 * other process can take the port meanwhile; listen() later lets the
 * receiver in. Also the socket source's dead letters when only the
 * context's conf names the file, and the context's counts of them.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sluice/sluice.h>
#include <string.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "sl_test.h"
#include "sl_test_util.h"

static int bound_socket(int *port)
{
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    SL_CHECK(fd >= 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    SL_CHECK(bind(fd, (struct sockaddr *)&a, sizeof a) == 0);
    SL_CHECK(getsockname(fd, (struct sockaddr *)&a, &len) == 0);
    *port = ntohs(a.sin_port);
    return fd;
}

static void set(sl_conf *conf, const char *name, const char *value)
{
    char err[256];
    SL_CHECK_OK(sl_conf_set(conf, name, value, err, sizeof err));
}

static sl_status ignore_rdd(sl_rdd *rdd, int64_t time_ms, void *user)
{
    int64_t n;
    (void)time_ms;
    (void)user;
    return sl_rdd_count(rdd, &n);
}

/* A started context of one socket stream to host:port. ctx_opts and
 * stream_opts are name/value pairs (NULL-terminated) for the context's
 * conf and for the stream's own conf (none: NULL, the context's). */
static sl_context *start_socket(const char *host, int port,
                                const char *const *ctx_opts,
                                const char *const *stream_opts,
                                sl_dstream **out)
{
    char err[256];
    sl_conf *conf = sl_conf_new(), *sconf = NULL;
    sl_context *ctx;
    SL_CHECK(conf != NULL);
    set(conf, "batch_interval", "50ms");
    set(conf, "log.level", "error");
    set(conf, "workers", "1");
    for (; ctx_opts && *ctx_opts; ctx_opts += 2)
        set(conf, ctx_opts[0], ctx_opts[1]);
    ctx = sl_context_new(conf, err, sizeof err);
    SL_CHECK(ctx != NULL);
    if (stream_opts) {
        sconf = sl_conf_new();
        SL_CHECK(sconf != NULL);
        for (; *stream_opts; stream_opts += 2)
            set(sconf, stream_opts[0], stream_opts[1]);
    }
    *out = sl_socket_text_stream(ctx, host, port, sconf);
    sl_conf_free(sconf);
    SL_CHECK(*out != NULL);
    SL_CHECK_OK(sl_dstream_foreach_rdd(*out, ignore_rdd, NULL));
    SL_CHECK_OK(sl_context_start(ctx));
    return ctx;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Poll the stream's counters until attempts and failures reach at least
 * the given values with in_row as given (-1: any), 10 s at most. */
static sl_receiver_stats wait_stats(sl_dstream *s, int64_t attempts,
                                    int64_t failures, int64_t in_row)
{
    sl_receiver_stats st;
    int64_t deadline = now_ms() + 10000;
    for (;;) {
        SL_CHECK_OK(sl_receiver_stream_stats(s, &st));
        if (st.connect_attempts >= attempts &&
            st.connect_failures >= failures &&
            (in_row < 0 || st.connect_failures_in_row == in_row))
            return st;
        SL_CHECK(now_ms() < deadline);
        if (now_ms() >= deadline)
            return st;
        usleep(5000);
    }
}

static const char *const fast_retry[] = {
    "receiver.reconnect_min", "5ms", "receiver.reconnect_max", "20ms", NULL};

/* max_connect_attempts from the stream's conf: the 4th refusal fails the
 * context with SL_EIO and a message naming host, port and the error. */
static void test_max_attempts(void)
{
    const char *const opts[] = {"receiver.reconnect_min",
                                "5ms",
                                "receiver.reconnect_max",
                                "20ms",
                                "receiver.max_connect_attempts",
                                "4",
                                NULL};
    char want[160];
    sl_receiver_stats st;
    sl_dstream *s;
    int port, fd = bound_socket(&port);
    sl_context *ctx = start_socket("127.0.0.1", port, NULL, opts, &s);

    SL_CHECK_INT(sl_context_await_termination_or_timeout(ctx, 10000), SL_EIO);
    snprintf(want, sizeof want,
             "cannot connect to 127.0.0.1:%d after 4 attempts (last error: "
             "Connection refused)",
             port);
    SL_CHECK(strstr(sl_context_errmsg(ctx), want) != NULL);
    SL_CHECK_OK(sl_receiver_stream_stats(s, &st));
    SL_CHECK_INT(st.connect_attempts, 4);
    SL_CHECK_INT(st.connect_failures, 4);
    SL_CHECK_INT(st.connect_failures_in_row, 4);
    SL_CHECK(st.errors >= 4);
    sl_context_free(ctx);
    close(fd);
}

/* connect_give_up_after from the context's conf: the context fails once
 * 300 ms passed without a connection, not long after. */
static void test_give_up_after(void)
{
    const char *const opts[] = {"receiver.reconnect_min",
                                "5ms",
                                "receiver.reconnect_max",
                                "200ms",
                                "receiver.connect_give_up_after",
                                "300ms",
                                NULL};
    sl_dstream *s;
    int port, fd = bound_socket(&port);
    int64_t t0 = now_ms(), took;
    sl_context *ctx = start_socket("127.0.0.1", port, opts, NULL, &s);

    SL_CHECK_INT(sl_context_await_termination_or_timeout(ctx, 10000), SL_EIO);
    took = now_ms() - t0;
    SL_CHECK(took >= 300);
    /* The back-off reaches 200 ms, but the last attempt is at the
     * deadline: well under 300 + 200 ms, with room for a slow machine. */
    SL_CHECK(took < 3000);
    SL_CHECK(strstr(sl_context_errmsg(ctx),
                    "connect_give_up_after is 300 ms") != NULL);
    sl_context_free(ctx);
    close(fd);
}

/* The default retries for ever; once the server listens the receiver
 * connects and the consecutive failures go back to 0. */
static void test_retry_forever_then_connect(void)
{
    sl_receiver_stats st;
    sl_dstream *s;
    int port, fd = bound_socket(&port);
    sl_context *ctx = start_socket("127.0.0.1", port, fast_retry, NULL, &s);

    st = wait_stats(s, 5, 5, -1);
    SL_CHECK(st.connect_failures_in_row >= 5);
    SL_CHECK_INT(st.connect_attempts, st.connect_failures);
    SL_CHECK(listen(fd, 4) == 0);
    st = wait_stats(s, 6, 5, 0);
    SL_CHECK_INT(st.connect_attempts, st.connect_failures + 1);
    SL_CHECK_INT(sl_context_await_termination_or_timeout(ctx, 1), SL_ETIMEDOUT);
    sl_context_stop(ctx, false);
    sl_context_free(ctx);
    close(fd);
}

/* After a lost connection the attempts count from 0 again, with the same
 * limit: 1 good attempt, then 3 refused ones fail the context. */
static void test_lost_connection_counts(void)
{
    const char *const opts[] = {"receiver.reconnect_min",
                                "5ms",
                                "receiver.reconnect_max",
                                "20ms",
                                "receiver.max_connect_attempts",
                                "3",
                                NULL};
    sl_receiver_stats st;
    sl_dstream *s;
    int port, fd = bound_socket(&port), conn;
    sl_context *ctx;

    SL_CHECK(listen(fd, 4) == 0);
    ctx = start_socket("127.0.0.1", port, NULL, opts, &s);
    conn = accept(fd, NULL, NULL);
    SL_CHECK(conn >= 0);
    st = wait_stats(s, 1, 0, 0);
    SL_CHECK_INT(st.connect_failures, 0);
    /* The server goes away: nothing listens on the port any more. */
    close(fd);
    close(conn);
    SL_CHECK_INT(sl_context_await_termination_or_timeout(ctx, 10000), SL_EIO);
    SL_CHECK(strstr(sl_context_errmsg(ctx), "after 3 attempts") != NULL);
    SL_CHECK_OK(sl_receiver_stream_stats(s, &st));
    SL_CHECK_INT(st.connect_attempts, 4);
    SL_CHECK_INT(st.connect_failures, 3);
    SL_CHECK_INT(st.connect_failures_in_row, 3);
    sl_context_free(ctx);
}

/* A name that does not resolve fails the start, and the message names
 * the host. */
static void test_unresolvable_host(void)
{
    sl_dstream *s;
    sl_context *ctx =
        start_socket("nonexistent.invalid", 9999, fast_retry, NULL, &s);

    SL_CHECK_INT(sl_context_await_termination_or_timeout(ctx, 10000),
                 SL_ENOTFOUND);
    SL_CHECK(strstr(sl_context_errmsg(ctx),
                    "cannot resolve nonexistent.invalid (for "
                    "nonexistent.invalid:9999)") != NULL);
    sl_context_free(ctx);
}

/* Poll the context's counts until n dead letters are written, 10 s at
 * most. */
static sl_bad_record_stats wait_written(sl_context *ctx, int64_t n)
{
    sl_bad_record_stats b;
    int64_t deadline = now_ms() + 10000;
    for (;;) {
        SL_CHECK_OK(sl_context_bad_record_stats(ctx, &b));
        if (b.dead_letters_written >= n || now_ms() >= deadline)
            return b;
        usleep(5000);
    }
}

/* A C program that sets dead_letter on the context's conf only (no
 * stream conf, or one without it): the socket source writes its
 * over-long lines there, and sl_context_bad_record_stats counts them. */
static void test_context_dead_letter(void)
{
    char path[] = "/tmp/sl_sock_dead_XXXXXX", expect[256], *got, *rest;
    const char *const ctx_opts[] = {"dead_letter", path,
                                    "receiver.max_line_bytes", "16", NULL};
    const char *const stream_opts[] = {"source.name", "s", NULL};
    const char line[] = "ok\nxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n";
    sl_bad_record_stats b;
    sl_dstream *s;
    sl_context *ctx;
    int k, port, fd, conn;
    size_t n;

    for (k = 0; k < 2; k++) {
        close(mkstemp(path));
        fd = bound_socket(&port);
        SL_CHECK(listen(fd, 4) == 0);
        ctx = start_socket("127.0.0.1", port, ctx_opts, k ? stream_opts : NULL,
                           &s);
        SL_CHECK((conn = accept(fd, NULL, NULL)) >= 0);
        SL_CHECK(write(conn, line, sizeof line - 1) == sizeof line - 1);
        b = wait_written(ctx, 1);
        SL_CHECK_INT(b.dead_letters_written, 1);
        sl_context_stop(ctx, false);
        SL_CHECK_OK(sl_context_bad_record_stats(ctx, &b));
        SL_CHECK_INT(b.dead_letters_written, 1);
        SL_CHECK_INT(b.dead_letters_failed + b.dead_letters_dropped, 0);
        SL_CHECK_INT(b.skipped + b.dead_lettered, 0);
        sl_context_free(ctx);
        close(conn);
        close(fd);
        got = sl_test_read_file(path, &n);
        SL_CHECK(got != NULL);
        snprintf(expect, sizeof expect,
                 ",\"batch\":null,\"origin\":{\"source\":\"%s\"},"
                 "\"reason\":\"too_long\",\"error\":\"line longer than "
                 "receiver.max_line_bytes (16 bytes)\",\"text\":\"%.40s\"}\n",
                 k ? "s" : "socket", line + 3);
        rest = got ? strstr(got, ",\"batch\"") : NULL;
        SL_CHECK(got && strncmp(got, "{\"time_ms\":", 11) == 0);
        SL_CHECK_STR(rest ? rest : "", expect);
        free(got);
        unlink(path);
        memcpy(path + strlen(path) - 6, "XXXXXX", 6);
    }
}

const char *SL_SUITE = "stream/socket_connect";
const sl_test_case SL_TESTS[] = {
    {"max_attempts", test_max_attempts},
    {"give_up_after", test_give_up_after},
    {"retry_forever_then_connect", test_retry_forever_then_connect},
    {"lost_connection_counts", test_lost_connection_counts},
    {"unresolvable_host", test_unresolvable_host},
    {"context_dead_letter", test_context_dead_letter},
    {NULL, NULL},
};
