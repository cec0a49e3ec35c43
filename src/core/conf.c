/*
 * Configuration: the ONE property table (name, type, default, range,
 * description) and the sl_conf object it drives. Validation, typed
 * getters, streamctl help and docs/job-file.md all read this table, so a
 * property is added here and nowhere else.
 */
#include <assert.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

#define SL__KB (INT64_C(1) << 10)
#define SL__MB (INT64_C(1) << 20)
#define SL__GB (INT64_C(1) << 30)
#define SL__SEC INT64_C(1000)
#define SL__MIN (60 * SL__SEC)
#define SL__HOUR (60 * SL__MIN)
#define SL__BILLION INT64_C(1000000000)

/*
 * A table row: the public part first, so that sl_conf_property_at() can
 * hand out &row->prop, then what only validation needs. check, when set,
 * vets a string property's text; expect says what it wants, for messages.
 */
typedef struct sl__conf_row {
    sl_conf_property prop;
    bool (*check)(const char *text);
    const char *expect;
} sl__conf_row;

static bool sl__check_positive_double(const char *text);

#define SL__ROW(name, type, def, min, max, choices, desc)                      \
    {                                                                          \
        {name, type, def, min, max, choices, desc}, NULL, NULL                 \
    }

static const sl__conf_row sl__conf_rows[] = {
    SL__ROW("batch_interval", SL_CONF_DURATION, "1s", 1, 24 * SL__HOUR, NULL,
            "Interval between batches."),
    SL__ROW("clock", SL_CONF_ENUM, "system", 0, 0, "system|manual",
            "Batch clock: system sleeps until each batch time; manual runs "
            "batches back to back without sleeping (batch n has time "
            "n x batch_interval), for tests and replays."),
    SL__ROW("max_batches", SL_CONF_INT, "0", 0, INT64_MAX / 2, NULL,
            "Stop after this many batches (0 = no limit)."),
    SL__ROW("trigger", SL_CONF_ENUM, "processing_time", 0, 0,
            "processing_time|available_now",
            "When batches run: processing_time, one every batch_interval; "
            "available_now (Spark's Trigger.AvailableNow), what the sources "
            "hold at start, in batches back to back, then one last batch "
            "with the watermark at its end (emitting every event-time "
            "group) and a graceful stop. Refused for sources without an end "
            "(socket, rate, generator)."),
    SL__ROW("watermark_policy", SL_CONF_ENUM, "min", 0, 0, "min|max",
            "How the watermarks of several streams combine into the one the "
            "SQL streams use: min (the slowest input decides, nothing of it "
            "is late) or max (the fastest decides; rows of slower inputs may "
            "be dropped as late). Spark's "
            "spark.sql.streaming.multipleWatermarkPolicy."),
    SL__ROW("no_data_batches", SL_CONF_BOOL, "true", 0, 0, NULL,
            "Whether a batch without new input moves event-time output on: "
            "with true (Spark's default) such a batch uses the watermark the "
            "last batch raised, emitting the windows it closes and evicting "
            "their state; with false only a batch with input does (Spark's "
            "spark.sql.streaming.noDataMicroBatches.enabled)."),
    SL__ROW("max_queued_batches", SL_CONF_INT, "2", 1, 10000, NULL,
            "Batches that may wait for the job thread. When that many wait, "
            "further ticks are absorbed into the next batch made (input "
            "waits in the receive blocks, under flow control) and counted."),
    SL__ROW("stop.graceful_timeout", SL_CONF_DURATION, "0s", 0, 24 * SL__HOUR,
            NULL,
            "Longest a graceful stop may take to run what was received "
            "(0s = the larger of 10 batch intervals and 10s); then the job "
            "stops as an immediate stop does and reports what was left."),
    SL__ROW("progress.retain", SL_CONF_INT, "100", 0, 100000, NULL,
            "Progress entries (one per batch) kept in memory for "
            "sl_context_recent_progress; 0 keeps none (listeners still "
            "receive every entry)."),
    SL__ROW("control.progress_log_bytes", SL_CONF_SIZE, "8m", 4 * SL__KB,
            1024 * 1024 * SL__KB, NULL,
            "A managed job's progress log (one entry per batch) is rotated "
            "to progress.log.1 beyond this size, so it takes at most twice "
            "it on disk."),
    SL__ROW("workers", SL_CONF_INT, "0", 0, 1024, NULL,
            "Worker threads that run partition tasks (0 = number of cores)."),
    SL__ROW("log.level", SL_CONF_ENUM, "info", 0, 0, "error|warn|info|debug",
            "Most verbose level logged."),
    SL__ROW("receiver.max_buffered_bytes", SL_CONF_SIZE, "64m", 64 * SL__KB,
            64 * SL__GB, NULL,
            "Received input held in memory (complete lines in receive "
            "blocks) before the socket receivers stop reading; TCP then "
            "pushes back on the sender."),
    SL__ROW("receiver.max_line_bytes", SL_CONF_SIZE, "1m", 1, SL__GB, NULL,
            "Longest line accepted (socket and directory sources); longer "
            "lines are dropped up to their newline, counted, and written "
            "to the dead-letter file (first 1 KiB) when there is one."),
    SL__ROW("receiver.dead_letter", SL_CONF_STRING, "", 0, 0, NULL,
            "The socket source's own dead-letter file for lines over "
            "receiver.max_line_bytes (instead of dead_letter); empty = "
            "the stream conf's dead_letter, else the context's."),
    SL__ROW("receiver.format", SL_CONF_ENUM, "lines", 0, 0, "lines|json|csv",
            "Record format of the socket source's lines: the line as a "
            "string, JSON lines, or CSV (',' separated, '\"' quoted, no "
            "header); parsed on the workers."),
    SL__ROW("receiver.schema", SL_CONF_STRING, "", 0, 0, NULL,
            "DDL schema of the socket source's records: each line becomes "
            "a row of these columns; lines needs one string column. Empty "
            "= untyped records."),
    SL__ROW("receiver.csv.header", SL_CONF_ENUM, "none", 0, 0, "none|optional",
            "CSV with receiver.schema: none, every line is data; optional, "
            "a line of exactly the schema's column names (in order, any "
            "case) is a header line, skipped wherever it comes (each "
            "client may send one), neither a record nor malformed."),
    SL__ROW("receiver.parse_mode", SL_CONF_ENUM, "permissive", 0, 0,
            "permissive|drop_malformed|fail_fast",
            "With receiver.schema, what a malformed record becomes: a row "
            "of nulls (and _corrupt_record), no row, or a failed batch "
            "and job; each one is counted and dead-lettered."),
    SL__ROW("receiver.block_bytes", SL_CONF_SIZE, "1m", 4 * SL__KB, SL__GB,
            NULL,
            "Size of a receive block (at least receiver.max_line_bytes + 2); "
            "a block is sealed when full and at every batch."),
    SL__ROW("receiver.wal", SL_CONF_BOOL, "true", 0, 0, NULL,
            "With a checkpoint (checkpoint.path), write the socket "
            "receivers' sealed blocks to the write-ahead log under "
            "<checkpoint>/wal before their batch runs, so a crash loses "
            "at most input not yet in a batch (docs/checkpoint-format.md)."),
    SL__ROW("receiver.wal_zstd_level", SL_CONF_INT, "-50", -100, 19, NULL,
            "zstd level of the receiver WAL's records: higher compresses "
            "more, negative levels cost less CPU and write more bytes; "
            "the default keeps the WAL's cost under a fifth of the "
            "throughput on 2 cores (docs/performance.md)."),
    SL__ROW("receiver.listen", SL_CONF_BOOL, "false", 0, 0, NULL,
            "Socket source as a server: listen on host:port (port 0 = "
            "any free port, logged as \"listening on HOST:PORT\") and "
            "read the lines of any number of clients, each line whole; a "
            "client that shuts down its sending side has its last line "
            "taken and its connection closed. false = connect to "
            "host:port as a client (Spark's socketTextStream)."),
    SL__ROW("receiver.reconnect_min", SL_CONF_DURATION, "100ms", 1, SL__HOUR,
            NULL,
            "First back-off between reconnect attempts; it doubles after "
            "each failure up to receiver.reconnect_max."),
    SL__ROW("receiver.reconnect_max", SL_CONF_DURATION, "5s", 1, SL__HOUR, NULL,
            "Longest back-off between reconnect attempts."),
    SL__ROW("receiver.connect_timeout", SL_CONF_DURATION, "5s", 1, SL__HOUR,
            NULL, "Time allowed for one connection attempt."),
    SL__ROW("receiver.max_connect_attempts", SL_CONF_INT, "0", 0, INT64_MAX / 2,
            NULL,
            "Consecutive failed connection attempts (a successful connection "
            "resets the count) after which the socket source fails the job "
            "(0 = retry for ever)."),
    SL__ROW("receiver.connect_give_up_after", SL_CONF_DURATION, "0s", 0,
            24 * SL__HOUR, NULL,
            "How long the socket source may go without a connection, from "
            "its first failed attempt or the loss of a connection, before "
            "it fails the job (0s = never)."),
    SL__ROW("rate.rows_per_second", SL_CONF_INT, "1", 0, SL__BILLION, NULL,
            "Rows the rate source produces per second of batch time."),
    SL__ROW("rate.partitions", SL_CONF_INT, "0", 0, 1024, NULL,
            "Partitions of the rate source (0 = workers)."),
    SL__ROW("queue.schema", SL_CONF_STRING, "", 0, 0, NULL,
            "DDL schema of a job file's queue source: each record, a JSON "
            "object (or its text), becomes a row by field name, missing "
            "fields null. Empty = the records as they are."),
    SL__ROW("queue.parse_mode", SL_CONF_ENUM, "permissive", 0, 0,
            "permissive|drop_malformed|fail_fast",
            "With queue.schema, what a record that is no such row "
            "becomes: a row of nulls, no row, or a failed batch and job; "
            "each one is counted and dead-lettered."),
    SL__ROW("generator.lines_per_batch", SL_CONF_INT, "1000", 0, SL__BILLION,
            NULL, "Lines the text generator produces per batch."),
    SL__ROW("generator.words_per_line", SL_CONF_INT, "10", 1, 10000, NULL,
            "Words per generated line."),
    SL__ROW("generator.vocabulary", SL_CONF_INT, "10000", 1,
            100 * INT64_C(1000000), NULL,
            "Distinct words the generator draws from."),
    {{"generator.zipf_s", SL_CONF_STRING, "1.0", 0, 0, NULL,
      "Exponent s of the Zipf distribution words are drawn from (a "
      "decimal > 0; larger is more skewed)."},
     sl__check_positive_double,
     "a positive decimal number (e.g. 1.0)"},
    SL__ROW("generator.seed", SL_CONF_INT, "42", 0, INT64_MAX / 2, NULL,
            "Seed of the generator's random numbers; equal seeds give equal "
            "input."),
    SL__ROW("generator.partitions", SL_CONF_INT, "0", 0, 1024, NULL,
            "Partitions of the generator source (0 = workers)."),
    SL__ROW("file.watch", SL_CONF_ENUM, "auto", 0, 0, "auto|inotify|poll",
            "How the directory source finds new files: inotify events, a "
            "listing at every batch (poll, for network mounts), or auto "
            "(inotify, else poll)."),
    SL__ROW("file.include_existing", SL_CONF_BOOL, "false", 0, 0, NULL,
            "Also take the files already in the directory at start "
            "(Structured Streaming's file source); off: only new files "
            "(textFileStream). With a checkpoint, the start is the job's "
            "first start."),
    SL__ROW("file.max_files_per_trigger", SL_CONF_INT, "0", 0, SL__BILLION,
            NULL,
            "Most files one batch takes (0 = no limit); the rest wait for "
            "later batches."),
    SL__ROW("file.latest_first", SL_CONF_BOOL, "false", 0, 0, NULL,
            "Take the newest waiting files first (by mtime, then name)."),
    SL__ROW("file.max_file_age", SL_CONF_DURATION, "168h", 1, 100000 * SL__HOUR,
            NULL,
            "A file waiting longer than this since sluice found it is "
            "dropped (reported and counted); files seen are forgotten "
            "after it."),
    SL__ROW("file.path_glob_filter", SL_CONF_STRING, "", 0, 0, NULL,
            "Only file names matching this glob (fnmatch) are taken; empty "
            "= all."),
    SL__ROW("file.recursive_file_lookup", SL_CONF_BOOL, "false", 0, 0, NULL,
            "Also watch the subdirectories, up to 64 levels deep (deeper "
            "ones are reported once and not watched)."),
    SL__ROW("file.clean_source", SL_CONF_ENUM, "off", 0, 0,
            "off|delete|archive",
            "What happens to a file once every sink finished its batch: "
            "kept, deleted, or moved under file.source_archive_dir."),
    SL__ROW("file.source_archive_dir", SL_CONF_STRING, "", 0, 0, NULL,
            "Where clean_source archive moves files (outside the watched "
            "tree), keeping their path below the watched directory."),
    SL__ROW("file.format", SL_CONF_ENUM, "lines", 0, 0, "lines|json|csv",
            "Record format of each line: the line as a string, JSON lines, "
            "or CSV."),
    SL__ROW("file.csv.separator", SL_CONF_STRING, ",", 0, 0, NULL,
            "CSV field separator (one byte)."),
    SL__ROW("file.csv.quote", SL_CONF_STRING, "\"", 0, 0, NULL,
            "CSV quote character (one byte)."),
    SL__ROW("file.csv.header", SL_CONF_BOOL, "false", 0, 0, NULL,
            "The first line of each CSV file names the columns."),
    SL__ROW("file.csv.columns", SL_CONF_STRING, "", 0, 0, NULL,
            "Column names for CSV files without a header, comma-separated."),
    SL__ROW("file.schema", SL_CONF_STRING, "", 0, 0, NULL,
            "DDL schema of the records (\"ts timestamp, price double\"): "
            "each line becomes a row of these columns (docs/sql.md, "
            "\"Reading rows\"); lines needs one string column; excludes "
            "file.csv.columns. Empty = untyped records."),
    SL__ROW("file.parse_mode", SL_CONF_ENUM, "permissive", 0, 0,
            "permissive|drop_malformed|fail_fast",
            "With file.schema, what a malformed record becomes: a row of "
            "nulls (and _corrupt_record), no row, or a failed batch and "
            "job; each one is counted and dead-lettered."),
    SL__ROW("file.dead_letter", SL_CONF_STRING, "", 0, 0, NULL,
            "The directory source's own dead-letter file (instead of "
            "dead_letter); empty = the stream conf's dead_letter, else the "
            "context's."),
    SL__ROW("file.with_file_name", SL_CONF_BOOL, "false", 0, 0, NULL,
            "Each record becomes (file name, record), as Spark's "
            "input_file_name()."),
    SL__ROW("file.split_bytes", SL_CONF_SIZE, "64m", 64 * SL__KB, SL__GB, NULL,
            "Uncompressed files larger than this are read as line-aligned "
            "splits of about this size, one partition each."),
    SL__ROW("dead_letter", SL_CONF_STRING, "", 0, 0, NULL,
            "The job's dead-letter file: records set aside (malformed, "
            "too long, bad values) are appended as JSON lines; empty = none."),
    SL__ROW("on_bad_record", SL_CONF_ENUM, "fail", 0, 0,
            "fail|skip|dead_letter",
            "What a job's map, flat_map, filter (and their _values forms, "
            "fanout's functions) does with a value its built-in function "
            "cannot handle: fail the batch, skip the record (counted, "
            "logged), or write it to dead_letter (counted)."),
    SL__ROW("source.name", SL_CONF_STRING, "", 0, 0, NULL,
            "The source's name in dead letters' origin; empty = its type "
            "(\"directory\", \"socket\")."),
    SL__ROW("max_record_bytes", SL_CONF_SIZE, "64m", 1 * SL__KB, SL__GB, NULL,
            "The largest record a job's built-in function may make (repeat, "
            "to_string); a bigger one fails the batch naming the function."),
    SL__ROW("file.max_decompressed_bytes", SL_CONF_SIZE, "0", 0, 1024 * SL__GB,
            NULL,
            "Most bytes one compressed file (.gz, .zst) may decompress to "
            "(0 = no limit); the lines after it are skipped, reported and "
            "counted (files_too_large)."),
    SL__ROW("file.create_if_missing", SL_CONF_BOOL, "false", 0, 0, NULL,
            "Create the watched directory (mkdir -p, mode 0755) at start "
            "when it is missing; off: a missing directory fails the start."),
    SL__ROW("kafka.source.topics", SL_CONF_STRING, "", 0, 0, NULL,
            "Topics the Kafka source reads, comma-separated (the topics "
            "argument of sl_kafka_stream when that is NULL); excludes "
            "kafka.source.pattern."),
    SL__ROW("kafka.source.pattern", SL_CONF_STRING, "", 0, 0, NULL,
            "A POSIX extended regular expression: the Kafka source reads "
            "every topic whose whole name matches, topics created while it "
            "runs included (Spark's subscribePattern)."),
    SL__ROW("kafka.source.starting_offsets", SL_CONF_STRING, "latest", 0, 0,
            NULL,
            "Where the Kafka source starts without a checkpoint: earliest, "
            "latest, or JSON {\"topic\":{\"0\":42}} (-2 earliest, -1 "
            "latest; partitions not named start at earliest)."),
    SL__ROW("kafka.source.max_records_per_partition", SL_CONF_INT, "100000", 0,
            INT64_MAX / 2, NULL,
            "Most records a batch takes from one partition (0 = no limit): "
            "the rest waits for later batches (backpressure)."),
    SL__ROW("kafka.source.records", SL_CONF_ENUM, "values", 0, 0,
            "values|pairs|rows",
            "What a Kafka record becomes: its value, a (key, value) pair, "
            "or a row of Spark's columns key, value, topic, partition, "
            "offset, timestamp."),
    SL__ROW("kafka.source.fail_on_data_loss", SL_CONF_BOOL, "true", 0, 0, NULL,
            "Offsets the Kafka source still had to read but that retention "
            "deleted fail the job; false: logged, counted, and reading "
            "goes on from the earliest offset there is."),
    SL__ROW("kafka.source.commit_offsets", SL_CONF_BOOL, "false", 0, 0, NULL,
            "After each batch's commit, also commit its end offsets to the "
            "consumer group kafka.group.id, for lag tools (sluice itself "
            "reads its offsets from the checkpoint)."),
    SL__ROW("kafka.source.format", SL_CONF_ENUM, "lines", 0, 0,
            "lines|json|csv",
            "How the Kafka source reads each record's value: as text "
            "(lines, the default), or parsed as JSON or as a CSV row; with "
            "kafka.source.schema, into a row of its columns. Needs records "
            "values."),
    SL__ROW("kafka.source.schema", SL_CONF_STRING, "", 0, 0, NULL,
            "DDL schema the Kafka source parses each value into (\"ts "
            "timestamp, price double\"); empty = untyped records."),
    SL__ROW("kafka.source.parse_mode", SL_CONF_ENUM, "permissive", 0, 0,
            "permissive|drop_malformed|fail_fast",
            "With kafka.source.schema, what a malformed value becomes: a "
            "row of nulls (and _corrupt_record), no row, or a failed batch "
            "and job; each one is counted and dead-lettered."),
    SL__ROW("kafka.source.csv.separator", SL_CONF_STRING, ",", 0, 0, NULL,
            "CSV field separator of kafka.source.format csv (one byte)."),
    SL__ROW("kafka.source.dead_letter", SL_CONF_STRING, "", 0, 0, NULL,
            "The Kafka source's own dead-letter file for malformed values "
            "(instead of dead_letter); empty = the context's dead_letter."),
    SL__ROW("kafka.source.timeout", SL_CONF_DURATION, "30s", 1, 24 * SL__HOUR,
            NULL,
            "Longest the Kafka source waits for metadata, end offsets, or a "
            "partition read that makes no progress; then it reports the "
            "broker unreachable (plan: retried at the next batch; read: "
            "the batch fails)."),
    SL__ROW("file_sink.format", SL_CONF_ENUM, "json", 0, 0, "json|csv|text",
            "Record format of the file sink's part files: json (one "
            "record per line as the console's json format), csv (tuples, "
            "lists and pairs as fields, RFC 4180 quoting) or text (the "
            "value as text, as save_as_text_files)."),
    SL__ROW("memory_sink.max_rows", SL_CONF_INT, "0", 0, INT64_MAX / 2, NULL,
            "Rows a memory table keeps (0 = no limit): beyond them the "
            "oldest rows are dropped, logged and counted "
            "(sl_context_memory_table_stats)."),
    SL__ROW("kafka_sink.job", SL_CONF_STRING, "", 0, 0, NULL,
            "The Kafka sink's sluice.job header on every record (a job "
            "file's sinks send the job's name): with sluice.sink, "
            "sluice.batch and sluice.seq it names a record across replays."),
    SL__ROW("query.timeout", SL_CONF_DURATION, "30s", 1, 24 * SL__HOUR, NULL,
            "Longest an ad-hoc query over memory tables (sl_context_sql) "
            "may run; then its tasks are interrupted and it fails "
            "naming this property."),
    SL__ROW("query.max_rows", SL_CONF_INT, "100000", 1, INT64_MAX / 2, NULL,
            "Most rows an ad-hoc query's result may hold; a larger result "
            "fails naming this property."),
    SL__ROW("query.max_memory", SL_CONF_SIZE, "256m", 1 * SL__KB, 1024 * SL__GB,
            NULL,
            "Most bytes an ad-hoc query's result may hold (its rows, "
            "strings and items); a larger result fails naming this "
            "property."),
    SL__ROW("state.shards", SL_CONF_INT, "16", 1, 4096, NULL,
            "Shards of every keyed state store; fixed for a job once "
            "state exists."),
    SL__ROW("checkpoint.path", SL_CONF_STRING, "", 0, 0, NULL,
            "Checkpoint directory (created when missing): the job records "
            "each batch's input, state and commits there and a restarted "
            "job goes on from it; empty = no checkpoint."),
    SL__ROW("checkpoint.snapshot_every_batches", SL_CONF_INT, "10", 1, 1000000,
            NULL,
            "A state store writes a full snapshot every this many batches "
            "(deltas in between); a graceful stop writes one too."),
    SL__ROW("checkpoint.retain_batches", SL_CONF_INT, "100", 1, 100000000, NULL,
            "Committed batches the checkpoint keeps (the ones a rollback "
            "can go back to); older offsets, commits and state files are "
            "deleted."),
};

#define SL__CONF_NROWS (sizeof sl__conf_rows / sizeof sl__conf_rows[0])

/*
 * One text per row: NULL while the property is at its default (the table's
 * text is used, so a new conf is one allocation), otherwise an sl_malloc'd
 * copy of what was set. num holds the parsed number of int, size (bytes),
 * duration (ms), bool (0/1) and enum (choice index) rows.
 */
struct sl_conf {
    char *text[SL__CONF_NROWS];
    int64_t num[SL__CONF_NROWS];
    /* pass-through properties (a client library's), in the order set */
    char **pass_name, **pass_value;
    size_t npass;
};

/* Prefixes of properties that belong to a client library: kept as given
 * and checked by that library (librdkafka's for "kafka."). */
static const char *const pass_prefixes[] = {"kafka.", NULL};

/* ------------------------------------------------------------- parsing */

/*
 * The decimal syntax is checked by hand first because strtod also takes
 * leading blanks, hex floats, "inf" and "nan", none of which belongs in a
 * job file. strtod reads the current locale's decimal point: sluice never
 * calls setlocale, and an application that does must leave LC_NUMERIC "C".
 */
static bool sl__check_positive_double(const char *text)
{
    char *end;
    double d;

    if (!((*text >= '0' && *text <= '9') || *text == '.'))
        return false;
    if (strspn(text, "0123456789.eE+-") != strlen(text))
        return false;
    d = strtod(text, &end);
    return *end == '\0' && isfinite(d) && d > 0;
}

/* An optional '-' and decimal digits, nothing else; SL_ERANGE on overflow. */
static sl_status sl__parse_int(const char *s, int64_t *out)
{
    bool neg = *s == '-';
    uint64_t limit, v = 0;

    s += neg;
    if (*s == '\0')
        return SL_EPARSE;
    limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (; *s; s++) {
        unsigned d = (unsigned)(*s - '0');
        if (d > 9)
            return SL_EPARSE;
        if (v > (limit - d) / 10)
            v = limit + 1; /* keep scanning: junk after digits is EPARSE */
        else
            v = v * 10 + d;
    }
    if (v > limit)
        return SL_ERANGE;
    /* Negate in int64 so that -2^63 needs no out-of-range conversion. */
    *out = neg && v > 0 ? -(int64_t)(v - 1) - 1 : (int64_t)v;
    return SL_OK;
}

/* Index of s among the '|'-separated choices, or SL_EPARSE. */
static sl_status sl__parse_choice(const char *choices, const char *s,
                                  int64_t *out)
{
    size_t n = strlen(s);
    int64_t i = 0;
    const char *c = choices;

    for (;;) {
        size_t len = strcspn(c, "|");
        if (len == n && strncmp(c, s, n) == 0) {
            *out = i;
            return SL_OK;
        }
        if (c[len] == '\0')
            return SL_EPARSE;
        c += len + 1;
        i++;
    }
}

/* Parse text as row's type; SL_EPARSE for the wrong form, SL_ERANGE. */
static sl_status sl__conf_parse(const sl__conf_row *row, const char *text,
                                int64_t *num)
{
    const sl_conf_property *p = &row->prop;
    sl_status st = SL_OK;

    *num = 0;
    switch (p->type) {
    case SL_CONF_INT:
        st = sl__parse_int(text, num);
        break;
    case SL_CONF_SIZE:
        st = sl_size_parse(text, num);
        break;
    case SL_CONF_DURATION:
        st = sl_duration_parse(text, num);
        break;
    case SL_CONF_BOOL:
        /* Only the two words: "1", "yes" or "on" are more often typos. */
        if (strcmp(text, "true") == 0)
            *num = 1;
        else if (strcmp(text, "false") != 0)
            st = SL_EPARSE;
        return st;
    case SL_CONF_ENUM:
        return sl__parse_choice(p->choices, text, num);
    case SL_CONF_STRING:
        return row->check && !row->check(text) ? SL_EPARSE : SL_OK;
    }
    if (st == SL_OK && (*num < p->min || *num > p->max))
        st = SL_ERANGE;
    return st;
}

/* ------------------------------------------------------------ messages */

/* A size in the largest power of 1024 that divides it ("64k", "1g"). */
static size_t sl__size_format(int64_t n, char *buf, size_t cap)
{
    static const char units[] = "kmg";
    int u = -1;
    int len;

    while (n != 0 && u < 2 && n % 1024 == 0) {
        n /= 1024;
        u++;
    }
    len = u < 0 ? snprintf(buf, cap, "%" PRId64, n)
                : snprintf(buf, cap, "%" PRId64 "%c", n, units[u]);
    return len < 0 ? 0 : (size_t)len;
}

/* A range bound written as the property's values are ("1ms", "64k"). */
static void sl__conf_bound(const sl_conf_property *p, int64_t v, char *buf,
                           size_t cap)
{
    if (p->type == SL_CONF_DURATION)
        sl_duration_format(v, buf, cap);
    else if (p->type == SL_CONF_SIZE)
        sl__size_format(v, buf, cap);
    else
        snprintf(buf, cap, "%" PRId64, v);
}

/* What a property of row's type looks like, for "is not ..." messages. */
static const char *sl__conf_expect(const sl__conf_row *row)
{
    switch (row->prop.type) {
    case SL_CONF_INT:
        return "an integer";
    case SL_CONF_SIZE:
        return "a size (e.g. 512k, 64m, 1g)";
    case SL_CONF_DURATION:
        return "a duration (e.g. 500ms, 1s, 1m)";
    case SL_CONF_BOOL:
        return "a boolean (true or false)";
    case SL_CONF_ENUM:
        return row->prop.choices;
    case SL_CONF_STRING:
        break;
    }
    return row->expect ? row->expect : "valid";
}

/* Explain why text is no value for row (st is SL_EPARSE or SL_ERANGE). */
static sl_status sl__conf_explain(const sl__conf_row *row, const char *text,
                                  sl_status st, char *errbuf, size_t errlen)
{
    const sl_conf_property *p = &row->prop;
    char lo[32], hi[32];

    if (st == SL_ERANGE) {
        sl__conf_bound(p, p->min, lo, sizeof lo);
        sl__conf_bound(p, p->max, hi, sizeof hi);
        return sl__errbuf(errbuf, errlen, SL_ECONF,
                          "%s: '%s' is out of range (%s..%s)", p->name, text,
                          lo, hi);
    }
    return sl__errbuf(errbuf, errlen, SL_ECONF, "%s: '%s' is not %s%s", p->name,
                      text, p->type == SL_CONF_ENUM ? "one of " : "",
                      sl__conf_expect(row));
}

/* -------------------------------------------------------------- objects */

/* Row index of name, or SL__CONF_NROWS when there is no such property. */
static size_t sl__conf_find(const char *name)
{
    size_t i;

    for (i = 0; i < SL__CONF_NROWS; i++)
        if (strcmp(sl__conf_rows[i].prop.name, name) == 0)
            return i;
    return SL__CONF_NROWS;
}

/* The parsed default of row i; the table's defaults are valid by test. */
static int64_t sl__conf_default_num(size_t i)
{
    int64_t num = 0;
    sl_status st;

    st = sl__conf_parse(&sl__conf_rows[i], sl__conf_rows[i].prop.default_value,
                        &num);
    assert(st == SL_OK);
    SL__UNUSED(st);
    return num;
}

sl_conf *sl_conf_new(void)
{
    sl_conf *conf = sl_malloc(sizeof *conf);
    size_t i;

    if (!conf)
        return NULL;
    for (i = 0; i < SL__CONF_NROWS; i++) {
        conf->text[i] = NULL;
        conf->num[i] = sl__conf_default_num(i);
    }
    conf->pass_name = conf->pass_value = NULL;
    conf->npass = 0;
    return conf;
}

static bool is_passthrough(const char *name)
{
    size_t i;
    for (i = 0; pass_prefixes[i]; i++)
        if (!strncmp(name, pass_prefixes[i], strlen(pass_prefixes[i])) &&
            name[strlen(pass_prefixes[i])])
            return true;
    return false;
}

/* Set or replace pass-through property name. SL_ENOMEM. */
static sl_status pass_set(sl_conf *conf, const char *name, const char *value)
{
    char *v = sl__strdup(value), *n = NULL, **names, **values;
    size_t i;
    if (!v)
        return SL_ENOMEM;
    for (i = 0; i < conf->npass; i++)
        if (!strcmp(conf->pass_name[i], name)) {
            sl_free(conf->pass_value[i]);
            conf->pass_value[i] = v;
            return SL_OK;
        }
    names = sl_realloc(conf->pass_name, (conf->npass + 1) * sizeof *names);
    if (names)
        conf->pass_name = names;
    values = sl_realloc(conf->pass_value, (conf->npass + 1) * sizeof *values);
    if (values)
        conf->pass_value = values;
    if (!names || !values || !(n = sl__strdup(name))) {
        sl_free(v);
        return SL_ENOMEM;
    }
    conf->pass_name[conf->npass] = n;
    conf->pass_value[conf->npass++] = v;
    return SL_OK;
}

bool sl_conf_passthrough_at(const sl_conf *conf, size_t i, const char **name,
                            const char **value)
{
    if (!conf || i >= conf->npass)
        return false;
    if (name)
        *name = conf->pass_name[i];
    if (value)
        *value = conf->pass_value[i];
    return true;
}

sl_conf *sl_conf_dup(const sl_conf *conf)
{
    sl_conf *dup;
    size_t i;

    if (!conf)
        return NULL;
    dup = sl_malloc(sizeof *dup);
    if (!dup)
        return NULL;
    memcpy(dup->num, conf->num, sizeof dup->num);
    for (i = 0; i < SL__CONF_NROWS; i++)
        dup->text[i] = NULL;
    dup->pass_name = dup->pass_value = NULL;
    dup->npass = 0;
    for (i = 0; i < SL__CONF_NROWS; i++) {
        if (conf->text[i] && !(dup->text[i] = sl__strdup(conf->text[i])))
            goto free_dup;
    }
    for (i = 0; i < conf->npass; i++)
        if (pass_set(dup, conf->pass_name[i], conf->pass_value[i]))
            goto free_dup;
    return dup;

free_dup:
    sl_conf_free(dup);
    return NULL;
}

void sl_conf_free(sl_conf *conf)
{
    size_t i;

    if (!conf)
        return;
    for (i = 0; i < SL__CONF_NROWS; i++)
        sl_free(conf->text[i]);
    for (i = 0; i < conf->npass; i++) {
        sl_free(conf->pass_name[i]);
        sl_free(conf->pass_value[i]);
    }
    sl_free(conf->pass_name);
    sl_free(conf->pass_value);
    sl_free(conf);
}

/*
 * Nothing changes unless the whole set succeeds: the value is parsed and
 * copied before the old text is released.
 */
sl_status sl_conf_set(sl_conf *conf, const char *name, const char *value,
                      char *errbuf, size_t errlen)
{
    int64_t num;
    sl_status st;
    size_t i;
    char *copy;

    if (!conf || !name || !value)
        return sl__errbuf(errbuf, errlen, SL_EINVAL,
                          "sl_conf_set: conf, name and value are required");
    i = sl__conf_find(name);
    if (i == SL__CONF_NROWS && is_passthrough(name))
        return pass_set(conf, name, value) == SL_OK
                   ? SL_OK
                   : sl__errbuf(errbuf, errlen, SL_ENOMEM,
                                "%s: out of memory storing the value", name);
    if (i == SL__CONF_NROWS)
        return sl__errbuf(errbuf, errlen, SL_ECONF, "unknown property '%s'",
                          name);
    st = sl__conf_parse(&sl__conf_rows[i], value, &num);
    if (st != SL_OK)
        return sl__conf_explain(&sl__conf_rows[i], value, st, errbuf, errlen);
    copy = sl__strdup(value);
    if (!copy)
        return sl__errbuf(errbuf, errlen, SL_ENOMEM,
                          "%s: out of memory storing the value", name);
    sl_free(conf->text[i]);
    conf->text[i] = copy;
    conf->num[i] = num;
    return SL_OK;
}

const char *sl_conf_get(const sl_conf *conf, const char *name)
{
    size_t i;

    if (!conf || !name)
        return NULL;
    i = sl__conf_find(name);
    if (i == SL__CONF_NROWS) {
        for (i = 0; i < conf->npass; i++)
            if (!strcmp(conf->pass_name[i], name))
                return conf->pass_value[i];
        return NULL;
    }
    return conf->text[i] ? conf->text[i] : sl__conf_rows[i].prop.default_value;
}

/* Row index of name when it exists and has type t1 or t2 (or t3). */
static size_t sl__conf_find_typed(const char *name, sl_conf_type t1,
                                  sl_conf_type t2, sl_conf_type t3)
{
    size_t i = sl__conf_find(name);
    sl_conf_type t;

    if (i == SL__CONF_NROWS)
        return i;
    t = sl__conf_rows[i].prop.type;
    return t == t1 || t == t2 || t == t3 ? i : SL__CONF_NROWS;
}

sl_status sl_conf_get_int(const sl_conf *conf, const char *name, int64_t *out)
{
    size_t i;

    if (!conf || !name || !out)
        return SL_EINVAL;
    i = sl__conf_find_typed(name, SL_CONF_INT, SL_CONF_SIZE, SL_CONF_DURATION);
    if (i == SL__CONF_NROWS)
        return SL_ECONF;
    *out = conf->num[i];
    return SL_OK;
}

sl_status sl_conf_get_bool(const sl_conf *conf, const char *name, bool *out)
{
    size_t i;

    if (!conf || !name || !out)
        return SL_EINVAL;
    i = sl__conf_find_typed(name, SL_CONF_BOOL, SL_CONF_BOOL, SL_CONF_BOOL);
    if (i == SL__CONF_NROWS)
        return SL_ECONF;
    *out = conf->num[i] != 0;
    return SL_OK;
}

const sl_conf_property *sl_conf_property_at(size_t i)
{
    return i < SL__CONF_NROWS ? &sl__conf_rows[i].prop : NULL;
}

/*
 * For code that names a property in its source, so a missing or non-numeric
 * name is a bug, not input. A NULL conf reads the default, because the
 * connectors take "conf may be NULL for the defaults".
 */
int64_t sl__conf_int(const sl_conf *conf, const char *name)
{
    size_t i;

    i = sl__conf_find_typed(name, SL_CONF_INT, SL_CONF_SIZE, SL_CONF_DURATION);
    assert(i < SL__CONF_NROWS && "sl__conf_int: no such numeric property");
    if (i == SL__CONF_NROWS)
        return 0;
    return conf ? conf->num[i] : sl__conf_default_num(i);
}
