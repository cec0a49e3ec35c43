/*
 * The bid-ask spread of a BBO feed in C, as the job file
 * examples/streaming/jobs/bbo_spread.json computes it (docs/pipelines.md):
 * the program listens on HOST:PORT for CSV lines `ts,bid,ask` (ts ISO-8601
 * or epoch milliseconds, a header line optional, any number of clients)
 * and prints, once the watermark (latest ts - 2 s) passes each window,
 * per 1-second event-time window the quote count and the average,
 * minimum, maximum and latest spread (ask - bid), and per 1-minute window
 * the average spread. Crossed quotes (bid >= ask) are left out of both
 * and printed as the stream "rejected". Try it with
 * `bbo_spread 127.0.0.1 9999` in one terminal and
 * `stdbuf -oL cat data/bbo.csv | ncat 127.0.0.1 9999` in another
 * (data/bbo.csv from tools/gen/gen_bbo, docs/examples-data.md).
 */
#define PROG "bbo_spread"
#define ABOUT                                                                  \
    "Listen on HOST:PORT for a BBO feed of CSV lines ts,bid,ask and print\n"   \
    "the spread per 1-second and per 1-minute event-time window as JSON\n"     \
    "lines, each window once the watermark (latest ts - 2 s) passes it.\n"

#include "example_main.h"

/* The source's options, as the job file's source fields set them. */
static const char *const source_conf[][2] = {
    {"receiver.listen", "true"},
    {"receiver.format", "csv"},
    {"receiver.schema", "ts timestamp, bid double, ask double"},
    {"receiver.csv.header", "optional"},
    {"receiver.parse_mode", "drop_malformed"},
};

/* What the job file's reject_when sets aside; the aggregations keep the
 * rest (reject_when is a job-file field: here a WHERE, and the rejected
 * rows are a stream of their own). */
#define VALID "ts IS NOT NULL AND bid IS NOT NULL AND bid < ask"

static const char *const queries[][2] = {
    {"spread_1s",
     "SELECT window.start AS window_start, window.end AS window_end, "
     "count(*) AS quotes, avg(ask - bid) AS avg_spread, min(ask - bid) AS "
     "min_spread, max(ask - bid) AS max_spread, max_by(ask - bid, ts) AS "
     "last_spread FROM quotes WHERE " VALID " GROUP BY window(ts, '1 second')"},
    {"spread_1m",
     "SELECT window.start AS window_start, window.end AS "
     "window_end, count(*) AS quotes, avg(ask - bid) AS "
     "avg_spread FROM quotes WHERE " VALID " GROUP BY window(ts, '1 minute')"},
    {"rejected",
     "SELECT ts, bid, ask FROM quotes WHERE NOT coalesce(" VALID ", false)"},
};

/* ------------------------------------------------------------ the job */

static sl_dstream *quotes_stream(sl_context *ctx, const options *o)
{
    char err[256];
    sl_conf *conf = sl_conf_new();
    sl_dstream *quotes = NULL;
    size_t i;

    if (!conf)
        return NULL;
    for (i = 0; i < sizeof source_conf / sizeof source_conf[0]; i++)
        if (sl_conf_set(conf, source_conf[i][0], source_conf[i][1], err,
                        sizeof err) != SL_OK) {
            fprintf(stderr, "%s: %s: %s\n", PROG, source_conf[i][0], err);
            goto done;
        }
    quotes = sl_socket_text_stream(ctx, o->host, o->port, conf);
    /* Read by three streams: parsed once per batch, not once per stream. */
    if (!quotes || sl_dstream_set_name(quotes, "quotes") != SL_OK ||
        sl_dstream_register_view(quotes, "quotes") != SL_OK ||
        sl_dstream_set_watermark(quotes, "ts", 2000) != SL_OK)
        quotes = NULL;
    else
        sl_dstream_persist(quotes);
done:
    sl_conf_free(conf);
    return quotes;
}

static bool build_job(sl_context *ctx, const options *o)
{
    char err[1024];
    sl_dstream *s;
    size_t i;

    if (!quotes_stream(ctx, o))
        return false;
    for (i = 0; i < sizeof queries / sizeof queries[0]; i++) {
        s = sl_context_sql_stream(ctx, queries[i][1], SL_OUTPUT_APPEND, err,
                                  sizeof err);
        if (!s) {
            fprintf(stderr, "%s: %s: %s\n", PROG, queries[i][0], err);
            return false;
        }
        if (sl_dstream_set_name(s, queries[i][0]) != SL_OK ||
            sl_dstream_print_json(s, queries[i][0]) != SL_OK)
            return false;
    }
    return true;
}
