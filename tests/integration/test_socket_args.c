/*
 * sl_socket_text_stream with bad arguments: NULL, the reason in
 * sl_context_errmsg(), and the context still usable for a good stream.
 * Needs no server: nothing is started.
 */
#include <sluice/sluice.h>

#include <stdio.h>
#include <string.h>

static int failures;

static void expect_null(sl_context *ctx, const char *host, int port,
                        const char *why)
{
    sl_dstream *s = sl_socket_text_stream(ctx, host, port, NULL);
    const char *msg = sl_context_errmsg(ctx);
    if (s || !msg || !strstr(msg, why)) {
        fprintf(stderr,
                "FAIL: host %s port %d: stream %p, errmsg '%s', "
                "expected NULL and '%s'\n",
                host ? host : "(null)", port, (void *)s, msg ? msg : "", why);
        failures++;
    }
}

int main(void)
{
    char err[256];
    sl_conf *conf = sl_conf_new();
    sl_context *ctx;

    if (!conf || sl_conf_set(conf, "receiver.reconnect_min", "1s", err,
                             sizeof err) != SL_OK) {
        fprintf(stderr, "conf: %s\n", err);
        return 1;
    }
    ctx = sl_context_new(NULL, err, sizeof err);
    if (!ctx) {
        fprintf(stderr, "sl_context_new: %s\n", err);
        sl_conf_free(conf);
        return 1;
    }
    if (sl_socket_text_stream(NULL, "127.0.0.1", 9999, NULL)) {
        fprintf(stderr, "FAIL: a stream without a context\n");
        failures++;
    }
    expect_null(ctx, NULL, 9999, "no host");
    expect_null(ctx, "", 9999, "no host");
    expect_null(ctx, "127.0.0.1", 0, "port 0 is not in 1..65535");
    expect_null(ctx, "127.0.0.1", -1, "port -1 is not in 1..65535");
    expect_null(ctx, "127.0.0.1", 65536, "port 65536 is not in 1..65535");
    /* Good arguments still work, with and without a conf (borrowed). */
    if (!sl_socket_text_stream(ctx, "127.0.0.1", 65535, conf) ||
        !sl_socket_text_stream(ctx, "::1", 1, NULL)) {
        fprintf(stderr, "FAIL: good arguments: %s\n", sl_context_errmsg(ctx));
        failures++;
    }
    sl_conf_free(conf);
    sl_context_free(ctx);
    printf("%s\n", failures ? "FAIL" : "PASS");
    return failures ? 1 : 0;
}
