/*
 * bench_socket: the socket word-count benchmark's job. Reads lines from a
 * TCP server (socket_bench.py sends a file), counts words per 100 ms batch
 * and merges every batch's counts into a running total; when the batches
 * have processed all --expect-bytes bytes it stops, prints timing and peak
 * RSS, and writes the totals as sorted "word count" lines to --out.
 *
 * With --sql the counting is the structured word count instead
 * (examples/streaming/structured_network_wordcount.c): the lines are the
 * view `lines` of one column `value`, and a SQL stream in complete mode
 * keeps the running count per word; every batch's whole result table is
 * collected (as a sink would take it) and the last one is the totals.
 *
 * With --control NAME the context is a managed job (sl_control_attach):
 * run folder, control socket, progress log, and with --ui-port the web
 * UI, for control_bench.py's overhead measurement.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <sluice/sluice.h>

#define PROG "bench_socket"

/* ------------------------------------------------- running word totals */

/* Open addressing with linear probing; words are copied in. */
typedef struct entry {
    char *word; /* NULL: empty slot */
    size_t len;
    uint64_t hash;
    int64_t count;
} entry;

typedef struct table {
    entry *e;
    size_t cap, n; /* cap is a power of two */
} table;

static uint64_t fnv1a(const char *p, size_t len)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325);

    while (len--)
        h = (h ^ (unsigned char)*p++) * UINT64_C(0x100000001b3);
    return h;
}

static entry *slot_for(entry *e, size_t cap, const char *w, size_t len,
                       uint64_t h)
{
    size_t i = (size_t)h & (cap - 1);

    while (e[i].word &&
           (e[i].hash != h || e[i].len != len || memcmp(e[i].word, w, len)))
        i = (i + 1) & (cap - 1);
    return &e[i];
}

static int table_grow(table *t)
{
    size_t cap = t->cap ? t->cap * 2 : 1024, i;
    entry *e = calloc(cap, sizeof *e);

    if (!e)
        return -1;
    for (i = 0; i < t->cap; i++)
        if (t->e[i].word)
            *slot_for(e, cap, t->e[i].word, t->e[i].len, t->e[i].hash) =
                t->e[i];
    free(t->e);
    t->e = e;
    t->cap = cap;
    return 0;
}

static int table_add(table *t, const char *w, size_t len, int64_t count)
{
    uint64_t h = fnv1a(w, len);
    entry *s;

    if ((t->n + 1) * 2 > t->cap && table_grow(t) != 0)
        return -1;
    s = slot_for(t->e, t->cap, w, len, h);
    if (!s->word) {
        s->word = malloc(len + 1);
        if (!s->word)
            return -1;
        memcpy(s->word, w, len);
        s->word[len] = '\0';
        s->len = len;
        s->hash = h;
        t->n++;
    }
    s->count += count;
    return 0;
}

static int cmp_entry(const void *a, const void *b)
{
    const entry *x = a, *y = b;
    int c = memcmp(x->word, y->word, x->len < y->len ? x->len : y->len);

    return c ? c : (x->len > y->len) - (x->len < y->len);
}

/* Sort the table in place (it is not used as a table afterwards). */
static int table_write(table *t, const char *path)
{
    size_t i, n = 0;
    FILE *f = fopen(path, "w");

    if (!f)
        return -1;
    for (i = 0; i < t->cap; i++)
        if (t->e[i].word)
            t->e[n++] = t->e[i];
    qsort(t->e, n, sizeof *t->e, cmp_entry);
    for (i = 0; i < n; i++)
        fprintf(f, "%s %lld\n", t->e[i].word, (long long)t->e[i].count);
    for (i = 0; i < n; i++)
        free(t->e[i].word);
    free(t->e);
    t->e = NULL;
    t->cap = t->n = 0;
    return fclose(f) == 0 ? 0 : -1;
}

/* ------------------------------------------------------------- the job */

typedef struct bench {
    sl_context *ctx;
    sl_dstream *lines;
    int64_t expect;     /* bytes the server sends */
    int64_t processed;  /* bytes of lines in settled batches */
    int64_t bytes_time; /* batch whose line bytes are in batch_bytes */
    int64_t batch_bytes;
    int64_t counts_time;  /* last batch merged into totals */
    int64_t settled_time; /* last batch counted into processed */
    int64_t words, batches;
    double done_wall_ms;
    bool done;
    bool sql; /* --sql: the counts are a complete-mode SQL stream's */
    table totals;
} bench;

/* The structured word count's query, as the example has it. */
#define SQL_WORD_COUNT                                                         \
    "SELECT word, count(*) AS count FROM (SELECT explode(split(value, ' ')) "  \
    "AS word FROM lines) GROUP BY word"

static double wall_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* One record per partition: the bytes its lines came from (+1 newline). */
static sl_status line_bytes(sl_task *t, sl_iter *in, void *user)
{
    sl_value line, total;
    int64_t n = 0;

    (void)user;
    while (sl_iter_next(in, &line))
        n += (int64_t)line.len + 1;
    total = sl_int(n);
    return sl_task_emit(t, &total);
}

/*
 * A batch is settled once both outputs have seen it; when the settled
 * batches hold every expected byte, the last one was the last byte's batch
 * and the job stops.
 */
static void settle(bench *b, int64_t time_ms)
{
    if (b->bytes_time != time_ms || b->counts_time != time_ms ||
        b->settled_time == time_ms)
        return;
    b->settled_time = time_ms;
    b->processed += b->batch_bytes;
    if (!b->done && b->processed >= b->expect) {
        b->done = true;
        b->done_wall_ms = wall_ms();
        sl_context_request_stop(b->ctx, false);
    }
}

static sl_status on_lines(sl_rdd *rdd, int64_t time_ms, void *user)
{
    bench *b = user;
    const sl_value *v;
    size_t n, i;
    sl_status st;

    st = sl_rdd_collect(sl_rdd_map_partitions(rdd, line_bytes, NULL), &v, &n);
    if (st != SL_OK)
        return st;
    b->batch_bytes = 0;
    for (i = 0; i < n; i++)
        b->batch_bytes += v[i].u.i;
    b->bytes_time = time_ms;
    settle(b, time_ms);
    return SL_OK;
}

static sl_status on_counts(sl_rdd *rdd, int64_t time_ms, void *user)
{
    bench *b = user;
    const sl_value *v;
    size_t n, i;
    sl_status st = sl_rdd_collect(rdd, &v, &n);

    if (st != SL_OK)
        return st;
    for (i = 0; i < n; i++) {
        const sl_value *k = sl_pair_key(&v[i]), *c = sl_pair_value(&v[i]);
        if (table_add(&b->totals, k->u.s, k->len, c->u.i) != 0)
            return SL_ENOMEM;
        b->words += c->u.i;
    }
    b->batches += n > 0;
    b->counts_time = time_ms;
    settle(b, time_ms);
    return SL_OK;
}

/*
 * --sql: each batch's rows are the whole table of (word, count) so far
 * (complete mode). All of them are collected every batch, as a sink takes
 * them; the ones of the batch that completes the expected bytes are the
 * totals (on_lines ran first in the batch, so batch_bytes is this batch's).
 */
static sl_status on_rows(sl_rdd *rdd, int64_t time_ms, void *user)
{
    bench *b = user;
    const sl_value *v;
    size_t n, i;
    sl_status st = sl_rdd_collect(rdd, &v, &n);

    if (st != SL_OK)
        return st;
    if (b->bytes_time == time_ms && b->processed < b->expect &&
        b->processed + b->batch_bytes >= b->expect) {
        for (i = 0; i < n; i++) {
            const sl_value *w = &v[i].u.items[0], *c = &v[i].u.items[1];
            if (v[i].kind != SL_KIND_TUPLE || v[i].len != 2 ||
                w->kind != SL_KIND_STR || c->kind != SL_KIND_INT)
                return SL_EINVAL; /* not the query's (word, count) rows */
            if (table_add(&b->totals, w->u.s, w->len, c->u.i) != 0)
                return SL_ENOMEM;
            b->words += c->u.i;
        }
    }
    b->batches += n > 0;
    b->counts_time = time_ms;
    settle(b, time_ms);
    return SL_OK;
}

/* The structured word count: the lines as a view, the query over it. */
static sl_dstream *build_sql(bench *b)
{
    char err[1024];
    sl_dstream *counts;

    if (!b->lines || sl_dstream_register_view(b->lines, "lines") != SL_OK)
        return NULL;
    counts = sl_context_sql_stream(b->ctx, SQL_WORD_COUNT, SL_OUTPUT_COMPLETE,
                                   err, sizeof err);
    if (!counts)
        fprintf(stderr, PROG ": %s\n", err);
    return counts;
}

static int build(bench *b, const char *host, int port)
{
    sl_dstream *counts;

    b->lines = sl_socket_text_stream(b->ctx, host, port, NULL);
    /* A checkpointed context (--checkpoint) needs its source named. */
    if (b->lines && sl_dstream_set_name(b->lines, "lines") != SL_OK)
        b->lines = NULL;
    if (b->sql)
        counts = build_sql(b);
    else
        counts = sl_dstream_reduce_by_key(
            sl_dstream_map(
                sl_dstream_flat_map(b->lines, sl_fn_split_words, NULL),
                sl_fn_pair_one, NULL),
            sl_fn_sum, NULL, 0);
    /* Registered first, so it runs first in every batch. */
    if (!counts || sl_dstream_foreach_rdd(b->lines, on_lines, b) != SL_OK ||
        sl_dstream_foreach_rdd(counts, b->sql ? on_rows : on_counts, b) !=
            SL_OK) {
        fprintf(stderr, PROG ": %s\n", sl_context_errmsg(b->ctx));
        return -1;
    }
    return 0;
}

/* --------------------------------------------------------------- main */

typedef struct options {
    const char *host, *out, *batch, *workers, *max_buffered;
    const char *checkpoint; /* checkpoint.path (the receiver WAL), or "" */
    const char *wal_level;  /* receiver.wal_zstd_level */
    const char *control;    /* --control NAME: a managed job, or NULL */
    const char *run_dir;    /* --run-dir DIR (NULL: the default) */
    int ui_port;            /* --ui-port P (0: no UI) */
    int port;
    int64_t expect, timeout_s;
    bool sql; /* --sql: the structured word count */
} options;

static void usage(FILE *f)
{
    fprintf(f,
            "usage: " PROG " --port P --expect-bytes N --out FILE [options]\n"
            "Counts the words the server at 127.0.0.1:P sends until N bytes\n"
            "went through the batches, then writes \"word count\" lines.\n"
            "\n"
            "  --host H            server address (127.0.0.1)\n"
            "  --batch D           batch interval (100ms)\n"
            "  --workers N         worker threads (0: one per core)\n"
            "  --max-buffered S    receiver.max_buffered_bytes (64m)\n"
            "  --checkpoint DIR    checkpoint.path: the receiver WAL on\n"
            "  --wal-level N       receiver.wal_zstd_level (-50)\n"
            "  --timeout SECONDS   give up after this long (600)\n"
            "  --sql               count with the structured word count's\n"
            "                      SQL stream (complete mode) instead\n"
            "  --control NAME      attach the control plane as job NAME\n"
            "                      (control socket, progress log)\n"
            "  --run-dir DIR       its run directory\n"
            "  --ui-port P         and its web UI on 127.0.0.1:P\n");
}

static int parse_args(int argc, char **argv, options *o)
{
    static const struct option opts[] = {
        {"port", required_argument, NULL, 'p'},
        {"expect-bytes", required_argument, NULL, 'e'},
        {"out", required_argument, NULL, 'o'},
        {"host", required_argument, NULL, 'H'},
        {"batch", required_argument, NULL, 'b'},
        {"workers", required_argument, NULL, 'w'},
        {"max-buffered", required_argument, NULL, 'm'},
        {"timeout", required_argument, NULL, 't'},
        {"checkpoint", required_argument, NULL, 'c'},
        {"wal-level", required_argument, NULL, 'l'},
        {"sql", no_argument, NULL, 'q'},
        {"control", required_argument, NULL, 'C'},
        {"run-dir", required_argument, NULL, 'R'},
        {"ui-port", required_argument, NULL, 'U'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;

    *o = (options){"127.0.0.1", NULL, "100ms", "0", "64m", "",  "-50",
                   NULL,        NULL, 0,       0,   -1,    600, false};
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'p':
            o->port = atoi(optarg);
            break;
        case 'e':
            o->expect = atoll(optarg);
            break;
        case 'o':
            o->out = optarg;
            break;
        case 'H':
            o->host = optarg;
            break;
        case 'b':
            o->batch = optarg;
            break;
        case 'w':
            o->workers = optarg;
            break;
        case 'm':
            o->max_buffered = optarg;
            break;
        case 't':
            o->timeout_s = atoll(optarg);
            break;
        case 'c':
            o->checkpoint = optarg;
            break;
        case 'l':
            o->wal_level = optarg;
            break;
        case 'q':
            o->sql = true;
            break;
        case 'C':
            o->control = optarg;
            break;
        case 'R':
            o->run_dir = optarg;
            break;
        case 'U':
            o->ui_port = atoi(optarg);
            break;
        case 'h':
            usage(stdout);
            exit(0);
        default:
            return -1;
        }
    }
    return optind == argc && o->port > 0 && o->expect >= 0 && o->out &&
                   o->timeout_s > 0
               ? 0
               : -1;
}

static sl_context *make_context(const options *o)
{
    char err[256];
    sl_conf *conf = sl_conf_new();
    sl_context *ctx;

    if (!conf ||
        sl_conf_set(conf, "batch_interval", o->batch, err, sizeof err) ||
        sl_conf_set(conf, "workers", o->workers, err, sizeof err) ||
        sl_conf_set(conf, "receiver.max_buffered_bytes", o->max_buffered, err,
                    sizeof err) ||
        sl_conf_set(conf, "checkpoint.path", o->checkpoint, err, sizeof err) ||
        sl_conf_set(conf, "receiver.wal_zstd_level", o->wal_level, err,
                    sizeof err) ||
        sl_conf_set(conf, "log.level", "error", err, sizeof err)) {
        fprintf(stderr, PROG ": %s\n", conf ? err : "out of memory");
        sl_conf_free(conf);
        return NULL;
    }
    ctx = sl_context_new(conf, err, sizeof err);
    if (!ctx) {
        fprintf(stderr, PROG ": %s\n", err);
        sl_conf_free(conf);
    }
    return ctx;
}

/* --control: make the context a managed job before it starts. */
static int attach(bench *b, const options *o)
{
    sl_control_options c;
    memset(&c, 0, sizeof c);
    c.version = SL_CONTROL_OPTIONS_VERSION;
    if (!o->control)
        return 0;
    c.name = o->control;
    c.run_dir = o->run_dir;
    c.ui_port = o->ui_port;
    if (sl_control_attach(b->ctx, &c) != SL_OK) {
        fprintf(stderr, PROG ": %s\n", sl_context_errmsg(b->ctx));
        return -1;
    }
    return 0;
}

static void report(const bench *b, const options *o, double start_wall)
{
    struct rusage ru;
    sl_receiver_stats st;
    int64_t max_buffered = 0;

    getrusage(RUSAGE_SELF, &ru);
    memset(&st, 0, sizeof st);
    sl_receiver_stream_stats(b->lines, &st);
    sl_size_parse(o->max_buffered, &max_buffered);
    printf("bytes=%lld received=%lld words=%lld distinct=%zu "
           "data_batches=%lld\n",
           (long long)b->processed, (long long)st.bytes, (long long)b->words,
           b->totals.n, (long long)b->batches);
    printf("done_wall_ms=%.3f\n", b->done_wall_ms);
    printf("seconds_since_start=%.3f\n", (b->done_wall_ms - start_wall) / 1e3);
    printf("max_rss_bytes=%lld\n", (long long)ru.ru_maxrss * 1024);
    /* CPU time of all threads: steadier than wall time on a busy machine. */
    printf("cpu_seconds=%.3f\n",
           (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
               (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
    printf("max_buffered_bytes=%lld\n", (long long)max_buffered);
    printf("receiver_pauses=%lld receiver_errors=%lld\n", (long long)st.pauses,
           (long long)st.errors);
}

int main(int argc, char **argv)
{
    options o;
    bench b;
    sl_status st;
    double start = wall_ms();
    int rc = 1;

    if (parse_args(argc, argv, &o) != 0) {
        usage(stderr);
        return 2;
    }
    memset(&b, 0, sizeof b);
    b.expect = o.expect;
    b.sql = o.sql;
    b.bytes_time = b.counts_time = b.settled_time = -1;
    b.ctx = make_context(&o);
    if (!b.ctx || build(&b, o.host, o.port) != 0 || attach(&b, &o) != 0)
        goto out;
    if (sl_context_start(b.ctx) != SL_OK) {
        fprintf(stderr, PROG ": %s\n", sl_context_errmsg(b.ctx));
        goto out;
    }
    st = sl_context_await_termination_or_timeout(b.ctx, o.timeout_s * 1000);
    if (st == SL_ETIMEDOUT)
        sl_context_stop(b.ctx, false);
    if (!b.done) {
        fprintf(stderr, PROG ": stopped after %lld of %lld bytes: %s\n",
                (long long)b.processed, (long long)b.expect,
                st == SL_ETIMEDOUT ? "timed out" : sl_context_errmsg(b.ctx));
        goto out;
    }
    report(&b, &o, start);
    if (table_write(&b.totals, o.out) != 0)
        fprintf(stderr, PROG ": %s: %s\n", o.out, strerror(errno));
    else
        rc = 0;
out:
    sl_context_free(b.ctx);
    return rc;
}
