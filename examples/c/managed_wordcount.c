/*
 * A socket word count into a memory table, with no control code at all:
 * started by `streamctl start --exec ./managed_wordcount -- HOST PORT`,
 * the environment names the job and sl_context_start attaches the
 * control plane, so streamctl status, query and stop manage it like a
 * job file (docs/streamctl.md). Each word read becomes a row of the
 * memory table `words` (one column, value):
 *   streamctl query managed_wordcount \
 *     "SELECT value AS word, count(*) AS n FROM words GROUP BY value"
 */
#include <sluice/sluice.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f)
{
    fputs("usage: managed_wordcount HOST PORT\n"
          "\n"
          "Split the lines the TCP server at HOST:PORT sends into words and\n"
          "append them to the memory table `words`; run it under\n"
          "`streamctl start --exec` to query and stop it.\n",
          f);
}

/* The context reading HOST PORT into the table; NULL after a message. */
static sl_context *make_context(const char *host, int port)
{
    char err[256];
    sl_conf *conf = sl_conf_new();
    sl_context *ctx;
    sl_dstream *lines, *words;

    if (!conf || !(ctx = sl_context_new(conf, err, sizeof err))) {
        fprintf(stderr, "managed_wordcount: %s\n",
                conf ? err : "out of memory");
        sl_conf_free(conf);
        return NULL;
    }
    lines = sl_socket_text_stream(ctx, host, port, NULL);
    words = sl_dstream_flat_map(lines, sl_fn_split_words, NULL);
    if (!words || sl_memory_sink(words, "words", NULL) != SL_OK) {
        fprintf(stderr, "managed_wordcount: %s\n", sl_context_errmsg(ctx));
        sl_context_free(ctx);
        return NULL;
    }
    return ctx;
}

int main(int argc, char **argv)
{
    sl_context *ctx;
    sl_status st;
    char *end;
    long port;

    if (argc != 3) {
        usage(argc == 2 && !strcmp(argv[1], "--help") ? stdout : stderr);
        return argc == 2 && !strcmp(argv[1], "--help") ? 0 : 2;
    }
    port = strtol(argv[2], &end, 10);
    if (*end || port < 1 || port > 65535) {
        usage(stderr);
        return 2;
    }
    if (!(ctx = make_context(argv[1], (int)port)))
        return 1;
    /* streamctl stop ends the context through its control socket. */
    if ((st = sl_context_start(ctx)) == SL_OK)
        st = sl_context_await_termination(ctx);
    if (st != SL_OK)
        fprintf(stderr, "managed_wordcount: %s\n", sl_context_errmsg(ctx));
    sl_context_free(ctx);
    return st == SL_OK ? 0 : 1;
}
