/*
 * Test program of tests/integration/test_backpressure.py: a socket text
 * stream behind a deliberately slow map, counting every line it sees with
 * foreach_rdd. It stops once it has seen the expected number of lines and
 * prints the total, its peak RSS and the receiver's counters.
 */
#include <sluice/sluice.h>

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct job {
    sl_context *ctx;
    int64_t expected, total;
    long sleep_every, sleep_us;
    atomic_long seen; /* records through the slow map, all workers */
} job;

/* Identity, sleeping every sleep_every records: a consumer slower than
 * the network, so that the receiver has to push back. */
static sl_status slow_map(sl_task *t, const sl_value *in, sl_value *out,
                          void *user)
{
    job *j = user;
    struct timespec ts;
    (void)t;
    *out = *in;
    if (atomic_fetch_add(&j->seen, 1) % j->sleep_every == 0) {
        ts.tv_sec = j->sleep_us / 1000000;
        ts.tv_nsec = (j->sleep_us % 1000000) * 1000;
        nanosleep(&ts, NULL);
    }
    return SL_OK;
}

static sl_status count_batch(sl_rdd *rdd, int64_t time_ms, void *user)
{
    job *j = user;
    int64_t n = 0;
    sl_status st = sl_rdd_count(rdd, &n);
    if (st != SL_OK)
        return st;
    j->total += n;
    if (n > 0)
        printf("batch %lld lines %lld total %lld\n", (long long)time_ms,
               (long long)n, (long long)j->total);
    if (j->total >= j->expected)
        sl_context_request_stop(j->ctx, true);
    return SL_OK;
}

static sl_conf *make_conf(int argc, char **argv)
{
    char err[256];
    sl_conf *conf = sl_conf_new();
    int i;
    /* Extra arguments are KEY=VALUE configuration settings. */
    for (i = 4; conf && i < argc; i++) {
        char *eq = strchr(argv[i], '=');
        if (!eq) {
            fprintf(stderr, "slow_consumer: expected KEY=VALUE: %s\n", argv[i]);
            goto bad;
        }
        *eq = '\0';
        if (sl_conf_set(conf, argv[i], eq + 1, err, sizeof err) != SL_OK) {
            fprintf(stderr, "slow_consumer: %s\n", err);
            goto bad;
        }
    }
    return conf;
bad:
    sl_conf_free(conf);
    return NULL;
}

/* Peak RSS of this process image in KiB (VmHWM). Not ru_maxrss: Linux
 * carries that over from the parent through fork and exec, so it reports
 * the test driver's memory. */
static long peak_rss_kb(void)
{
    char line[256];
    long kb = -1;
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmHWM: %ld kB", &kb) == 1)
            break;
    fclose(f);
    return kb;
}

static void report(job *j, sl_dstream *lines)
{
    sl_receiver_stats rs;
    memset(&rs, 0, sizeof rs);
    sl_receiver_stream_stats(lines, &rs);
    printf("total_lines %lld\npeak_rss_kb %ld\nbytes %lld\npauses %lld\n"
           "lines_too_long %lld\nerrors %lld\n",
           (long long)j->total, peak_rss_kb(), (long long)rs.bytes,
           (long long)rs.pauses, (long long)rs.lines_too_long,
           (long long)rs.errors);
}

int main(int argc, char **argv)
{
    static job j;
    char err[256] = "";
    sl_dstream *lines, *slow;
    sl_conf *conf;
    sl_status st;
    int rc = 1;

    if (argc < 4) {
        fprintf(stderr, "usage: slow_consumer HOST PORT EXPECTED_LINES "
                        "[KEY=VALUE...]\n"
                        "env: SLOW_EVERY (records, 20), SLOW_US (1000)\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    j.expected = atoll(argv[3]);
    j.sleep_every = getenv("SLOW_EVERY") ? atol(getenv("SLOW_EVERY")) : 20;
    j.sleep_us = getenv("SLOW_US") ? atol(getenv("SLOW_US")) : 1000;
    if (j.sleep_every < 1)
        j.sleep_every = 1;
    conf = make_conf(argc, argv);
    if (!conf)
        return 2;
    j.ctx = sl_context_new(conf, err, sizeof err);
    if (!j.ctx) {
        fprintf(stderr, "slow_consumer: %s\n", err);
        sl_conf_free(conf);
        return 1;
    }
    lines = sl_socket_text_stream(j.ctx, argv[1], atoi(argv[2]), NULL);
    slow = sl_dstream_map(lines, slow_map, &j);
    if (!slow || sl_dstream_foreach_rdd(slow, count_batch, &j) != SL_OK) {
        fprintf(stderr, "slow_consumer: %s\n", sl_context_errmsg(j.ctx));
        goto free_ctx;
    }
    st = sl_context_start(j.ctx);
    if (st == SL_OK)
        st = sl_context_await_termination(j.ctx);
    report(&j, lines);
    if (st != SL_OK) {
        fprintf(stderr, "slow_consumer: %s\n", sl_context_errmsg(j.ctx));
        goto free_ctx;
    }
    rc = 0;
free_ctx:
    sl_context_free(j.ctx);
    return rc;
}
