/*
 * Receiver channels (sl_receiver_channel_*, src/stream/receiver.c): the
 * lines of several inputs written into one receiver in alternation stay
 * each input's own, also across the line-length limit, a "\r\n" split
 * by a switch, a full block, the end of an input and a channel freed
 * with half a line.
 */
#include <sluice/sluice.h>
#include <string.h>

#include "sl_test.h"

/* One step of a script: write data on channel ch (-1: the receiver's own
 * line), or, with data NULL, end ch's input (EOS) or free ch (FREE). */
enum { OP_WRITE, OP_EOS, OP_FREE };
typedef struct step {
    int ch, op;
    const char *data;
} step;

typedef struct script {
    const step *steps;
    size_t n;
    size_t filler; /* "1234567\n" lines written on channel 1 at a FILL */
} script;

static sl_status write_all(sl_receiver *r, const char *data, size_t len)
{
    size_t done = 0, want;
    char *buf;

    while (done < len) {
        want = len - done;
        if (!(buf = sl_receiver_buffer(r, &want)))
            return SL_ENOMEM;
        memcpy(buf, data + done, want);
        sl_receiver_commit(r, want);
        done += want;
    }
    return SL_OK;
}

static sl_status run_step(sl_receiver *r, sl_receiver_channel **chs,
                          const step *s, size_t filler)
{
    sl_receiver_channel *ch = s->ch < 0 ? NULL : chs[s->ch];
    size_t i;

    if (s->op == OP_FREE) {
        sl_receiver_channel_free(r, ch);
        chs[s->ch] = NULL;
        return SL_OK;
    }
    SL_CHECK_OK(sl_receiver_channel_use(r, ch));
    if (s->op == OP_EOS) {
        sl_receiver_end_of_stream(r);
        return SL_OK;
    }
    if (strcmp(s->data, "FILL") != 0)
        return write_all(r, s->data, strlen(s->data));
    for (i = 0; i < filler; i++)
        SL_CHECK_OK(write_all(r, "1234567\n", 8));
    return SL_OK;
}

static sl_status script_start(void *state, sl_receiver *r)
{
    const script *sc = state;
    sl_receiver_channel *chs[2];
    size_t i;

    chs[0] = sl_receiver_channel_new(r);
    chs[1] = sl_receiver_channel_new(r);
    SL_CHECK(chs[0] && chs[1]);
    for (i = 0; i < sc->n; i++)
        SL_CHECK_OK(run_step(r, chs, &sc->steps[i], sc->filler));
    sl_receiver_channel_free(r, chs[0]);
    sl_receiver_channel_free(r, chs[1]);
    return SL_OK;
}

static void script_noop(void *state)
{
    (void)state;
}

static const sl_receiver_ops script_ops = {
    SL_RECEIVER_OPS_VERSION,
    "script",
    script_start,
    script_noop,
    script_noop,
    script_noop,
    script_noop,
};

static char g_lines[4096];
static int64_t g_fillers;

/* The batch's lines in g_lines as [line], the filler lines only counted. */
static sl_status collect(sl_rdd *rdd, int64_t time_ms, void *user)
{
    const sl_value *v;
    size_t n, i, len;
    sl_status st = sl_rdd_collect(rdd, &v, &n);

    (void)time_ms;
    (void)user;
    for (i = 0; st == SL_OK && i < n; i++) {
        if (v[i].len == 7 && memcmp(v[i].u.s, "1234567", 7) == 0) {
            g_fillers++;
            continue;
        }
        len = strlen(g_lines);
        snprintf(g_lines + len, sizeof g_lines - len, "[%.*s]", (int)v[i].len,
                 v[i].u.s);
    }
    return st;
}

/* One manual batch of the script, max_line_bytes 10, 4 KiB blocks. */
static void run_script(script *sc, sl_receiver_stats *stats)
{
    char err[256];
    sl_conf *conf = sl_conf_new();
    sl_context *ctx;
    sl_dstream *s;

    SL_CHECK_OK(sl_conf_set(conf, "clock", "manual", err, sizeof err));
    SL_CHECK_OK(sl_conf_set(conf, "max_batches", "1", err, sizeof err));
    SL_CHECK_OK(
        sl_conf_set(conf, "receiver.max_line_bytes", "10", err, sizeof err));
    SL_CHECK_OK(
        sl_conf_set(conf, "receiver.block_bytes", "4k", err, sizeof err));
    SL_CHECK_OK(sl_conf_set(conf, "log.level", "error", err, sizeof err));
    ctx = sl_context_new(conf, err, sizeof err);
    SL_CHECK(ctx != NULL);
    s = sl_receiver_stream(ctx, &script_ops, sc);
    g_lines[0] = '\0';
    g_fillers = 0;
    SL_CHECK_OK(sl_dstream_foreach_rdd(s, collect, NULL));
    SL_CHECK_OK(sl_context_start(ctx));
    SL_CHECK_OK(sl_context_await_termination(ctx));
    SL_CHECK_OK(sl_receiver_stream_stats(s, stats));
    sl_context_free(ctx);
}

/* Writes alternate inside lines; lines come out whole, in the order they
 * were completed. */
static void test_interleaved_lines(void)
{
    static const step steps[] = {
        {0, OP_WRITE, "aaaa"},
        {1, OP_WRITE, "b1\nbb"},
        {0, OP_WRITE, "AA\nx"},
        {1, OP_WRITE, "B\n"},
        {0, OP_WRITE, "y\n"},
        /* A line over the limit, in pieces around the other's lines. */
        {0, OP_WRITE, "0123456"},
        {1, OP_WRITE, "c\n"},
        {0, OP_WRITE, "789X\n"},
        {1, OP_WRITE, "d\n"},
        /* "\r" and "\n" of a line of exactly the limit split by a switch. */
        {0, OP_WRITE, "0123456789\r"},
        {1, OP_WRITE, "e\n"},
        {0, OP_WRITE, "\n"},
        /* B's input ends: its tail is a line; A is freed with one. */
        {0, OP_WRITE, "tail"},
        {1, OP_WRITE, "btail"},
        {1, OP_EOS, NULL},
        {0, OP_FREE, NULL}};
    script sc = {steps, sizeof steps / sizeof *steps, 0};
    sl_receiver_stats st;

    run_script(&sc, &st);
    SL_CHECK_STR(g_lines, "[b1][aaaaAA][bbB][xy][c][d][e][0123456789][btail]");
    SL_CHECK_INT(st.lines_too_long, 1);
    SL_CHECK_INT(st.partial_lines, 1);
}

/* Switching to a channel whose line does not fit in the open block's
 * room: the block is sealed, the line moves on with the next. */
static void test_full_block(void)
{
    static const step steps[] = {
        {0, OP_WRITE, "tailA"},
        {1, OP_WRITE, "FILL"},
        {1, OP_WRITE, "abcd\n"},
        {1, OP_WRITE, "bb"},
        {0, OP_WRITE, "!\n"},
        {1, OP_WRITE, "B\n"},
        /* Back to the receiver's own line, then freeing the channel in
         * use drops its half line. */
        {-1, OP_WRITE, "own\n"},
        {0, OP_WRITE, "half"},
        {0, OP_FREE, NULL}};
    script sc = {steps, sizeof steps / sizeof *steps, 511};
    sl_receiver_stats st;

    run_script(&sc, &st);
    SL_CHECK_STR(g_lines, "[abcd][tailA!][bbB][own]");
    SL_CHECK_INT(g_fillers, 511);
    SL_CHECK_INT(st.lines_too_long, 0);
    SL_CHECK_INT(st.partial_lines, 1);
}

const char *SL_SUITE = "stream/recv_channel";
const sl_test_case SL_TESTS[] = {
    {"interleaved_lines", test_interleaved_lines},
    {"full_block", test_full_block},
    {NULL, NULL},
};
