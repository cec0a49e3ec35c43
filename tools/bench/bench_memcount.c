/*
 * bench_memcount: the RDD engine alone on a word count held in memory.
 * Reads FILE, then times sl_rdd_text -> flat_map -> map -> reduce_by_key ->
 * collect with 1 worker and with 2, best of --runs each, and prints words/s
 * and the speed-up (the in-memory scaling figure of docs/performance.md).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sluice/sluice.h>

#define PROG "bench_memcount"

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long size;

    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) >= 0 &&
        fseek(f, 0, SEEK_SET) == 0) {
        buf = malloc((size_t)size + 1);
        if (buf && fread(buf, 1, (size_t)size, f) != (size_t)size) {
            free(buf);
            buf = NULL;
        }
        *len = (size_t)size;
    }
    fclose(f);
    return buf;
}

/* One timed run: the whole job, ending with the counts collected. */
static int run_once(sl_engine *eng, const char *text, size_t len, size_t parts,
                    double *secs, int64_t *words)
{
    const sl_value *out;
    size_t n, i;
    double t0 = now_s();
    sl_rdd *counts = sl_rdd_reduce_by_key(
        sl_rdd_map(sl_rdd_flat_map(sl_rdd_text(eng, text, len, parts),
                                   sl_fn_split_words, NULL),
                   sl_fn_pair_one, NULL),
        sl_fn_sum, NULL, parts);

    if (!counts || sl_rdd_collect(counts, &out, &n) != SL_OK) {
        fprintf(stderr, PROG ": %s\n", sl_engine_errmsg(eng));
        return -1;
    }
    *secs = now_s() - t0;
    for (*words = 0, i = 0; i < n; i++)
        *words += sl_pair_value(&out[i])->u.i;
    sl_engine_clear(eng);
    return 0;
}

/* Best of `runs` with `workers` workers; partitions = 2 per worker. */
static int bench(const char *text, size_t len, int workers, int runs,
                 double *best, int64_t *words)
{
    char err[256], num[16];
    sl_conf *conf = sl_conf_new();
    sl_engine *eng;
    double secs;
    int i;

    snprintf(num, sizeof num, "%d", workers);
    if (!conf || sl_conf_set(conf, "workers", num, err, sizeof err) ||
        sl_conf_set(conf, "log.level", "warn", err, sizeof err)) {
        sl_conf_free(conf);
        return -1;
    }
    eng = sl_engine_new(conf, err, sizeof err);
    if (!eng) {
        fprintf(stderr, PROG ": %s\n", err);
        sl_conf_free(conf);
        return -1;
    }
    *best = 1e300;
    for (i = 0; i < runs; i++) {
        if (run_once(eng, text, len, 2 * (size_t)workers, &secs, words)) {
            sl_engine_free(eng);
            return -1;
        }
        if (secs < *best)
            *best = secs;
        printf("workers=%d run=%d seconds=%.3f\n", workers, i + 1, secs);
    }
    sl_engine_free(eng);
    return 0;
}

int main(int argc, char **argv)
{
    double t1, t2;
    int64_t w1 = 0, w2 = 0;
    int runs = argc > 2 ? atoi(argv[2]) : 3;
    size_t len = 0;
    char *text;

    if (argc < 2 || argc > 3 || runs < 1) {
        fprintf(stderr, "usage: " PROG " FILE [RUNS]\n"
                        "Word count of FILE in memory with 1 and 2 workers, "
                        "best of RUNS (3).\n");
        return 2;
    }
    text = read_file(argv[1], &len);
    if (!text) {
        fprintf(stderr, PROG ": %s: %s\n", argv[1], strerror(errno));
        return 1;
    }
    if (bench(text, len, 1, runs, &t1, &w1) ||
        bench(text, len, 2, runs, &t2, &w2)) {
        free(text);
        return 1;
    }
    free(text);
    if (w1 != w2) {
        fprintf(stderr, PROG ": word totals differ: %lld vs %lld\n",
                (long long)w1, (long long)w2);
        return 1;
    }
    printf("bytes=%zu words=%lld\n", len, (long long)w1);
    printf("workers=1 best_seconds=%.3f words_per_second=%.0f\n", t1,
           (double)w1 / t1);
    printf("workers=2 best_seconds=%.3f words_per_second=%.0f\n", t2,
           (double)w2 / t2);
    printf("speedup=%.2f\n", t1 / t2);
    return 0;
}
