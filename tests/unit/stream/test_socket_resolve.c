/*
 * The socket source resolves its host off the I/O loop: while getaddrinfo
 * runs, batches keep coming and a stop does not wait for it. This program
 * defines getaddrinfo itself (the static library's calls bind to it), so
 * that one made-up name takes SLOW_MS to resolve to 127.0.0.1; every
 * other name goes to the C library's.
 */
#include <arpa/inet.h>
#include <dlfcn.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <sluice/sluice.h>

#include "sl_test.h"

#define SLOW_HOST "slow.resolve.test"
#define SLOW_MS 1500

typedef int (*gai_fn)(const char *, const char *, const struct addrinfo *,
                      struct addrinfo **);

static atomic_int in_flight; /* slow resolutions running now */
static atomic_int batches;   /* batches the foreach_rdd saw */

int getaddrinfo(const char *node, const char *service,
                const struct addrinfo *hints, struct addrinfo **res)
{
    gai_fn real = (gai_fn)(uintptr_t)dlsym(RTLD_NEXT, "getaddrinfo");
    int rc;

    if (!real)
        return EAI_SYSTEM;
    if (!node || strcmp(node, SLOW_HOST) != 0)
        return real(node, service, hints, res);
    atomic_fetch_add(&in_flight, 1);
    usleep(SLOW_MS * 1000);
    rc = real("127.0.0.1", service, hints, res);
    atomic_fetch_sub(&in_flight, 1);
    return rc;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A listening socket on 127.0.0.1 and its port. */
static int listening_socket(int *port)
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
    SL_CHECK(listen(fd, 4) == 0);
    *port = ntohs(a.sin_port);
    return fd;
}

static sl_status count_batch(sl_rdd *rdd, int64_t time_ms, void *user)
{
    int64_t n;
    (void)time_ms;
    (void)user;
    atomic_fetch_add(&batches, 1);
    return sl_rdd_count(rdd, &n);
}

static sl_context *start_socket(const char *host, int port, sl_dstream **out)
{
    char err[256];
    sl_conf *conf = sl_conf_new();
    sl_context *ctx;
    SL_CHECK_OK(sl_conf_set(conf, "batch_interval", "50ms", err, sizeof err));
    SL_CHECK_OK(sl_conf_set(conf, "log.level", "error", err, sizeof err));
    SL_CHECK_OK(sl_conf_set(conf, "workers", "1", err, sizeof err));
    ctx = sl_context_new(conf, err, sizeof err);
    SL_CHECK(ctx != NULL);
    *out = sl_socket_text_stream(ctx, host, port, NULL);
    SL_CHECK(*out != NULL);
    SL_CHECK_OK(sl_dstream_foreach_rdd(*out, count_batch, NULL));
    atomic_store(&batches, 0);
    SL_CHECK_OK(sl_context_start(ctx));
    return ctx;
}

/* Wait (5 s at most) until a slow resolution has begun. */
static void await_resolving(void)
{
    int64_t deadline = now_ms() + 5000;
    while (atomic_load(&in_flight) == 0 && now_ms() < deadline)
        usleep(1000);
    SL_CHECK_INT(atomic_load(&in_flight), 1);
}

/* The resolver thread outlives a stopped receiver: let it end before the
 * next case (and before the leak check at exit). */
static void await_resolved(void)
{
    int64_t deadline = now_ms() + 5000;
    while (atomic_load(&in_flight) > 0 && now_ms() < deadline)
        usleep(1000);
    usleep(50000);
}

/* 50 ms batches go on while the name takes 1.5 s; then it connects. */
static void test_loop_runs_while_resolving(void)
{
    int port, fd = listening_socket(&port), conn;
    sl_dstream *s;
    sl_context *ctx = start_socket(SLOW_HOST, port, &s);

    await_resolving();
    usleep(600 * 1000);
    SL_CHECK_INT(atomic_load(&in_flight), 1); /* still resolving */
    SL_CHECK(atomic_load(&batches) >= 4);
    conn = accept(fd, NULL, NULL); /* once resolved, it connects */
    SL_CHECK(conn >= 0);
    SL_CHECK_OK(sl_context_stop(ctx, false));
    sl_context_free(ctx);
    if (conn >= 0)
        close(conn);
    close(fd);
    await_resolved();
}

/* A stop during the resolution neither waits for it nor crashes when the
 * resolver finishes after the context is gone. */
static void test_stop_while_resolving(void)
{
    int port, fd = listening_socket(&port);
    sl_dstream *s;
    sl_context *ctx = start_socket(SLOW_HOST, port, &s);
    int64_t t0;

    await_resolving();
    t0 = now_ms();
    SL_CHECK_OK(sl_context_stop(ctx, false));
    SL_CHECK(now_ms() - t0 < SLOW_MS / 2);
    sl_context_free(ctx);
    SL_CHECK_INT(atomic_load(&in_flight), 1);
    await_resolved();
    close(fd);
}

/* "localhost" (which may resolve to ::1 first) still connects. */
static void test_localhost(void)
{
    int port, fd = listening_socket(&port), conn;
    sl_dstream *s;
    sl_context *ctx = start_socket("localhost", port, &s);

    conn = accept(fd, NULL, NULL);
    SL_CHECK(conn >= 0);
    SL_CHECK_OK(sl_context_stop(ctx, false));
    sl_context_free(ctx);
    if (conn >= 0)
        close(conn);
    close(fd);
}

const char *SL_SUITE = "stream/socket_resolve";
const sl_test_case SL_TESTS[] = {
    {"loop_runs_while_resolving", test_loop_runs_while_resolving},
    {"stop_while_resolving", test_stop_while_resolving},
    {"localhost", test_localhost},
    {NULL, NULL},
};
