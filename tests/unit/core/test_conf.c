/*
 * Unit tests of src/core/conf.c: the property table (names, defaults,
 * ranges), validation messages exactly as users see them, typed getters,
 * dup independence, and allocation failures through the hook.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sluice/core.h>

#include "core/core.h"
#include "sl_test.h"
#include "sl_test_util.h"

#define GIB (INT64_C(1) << 30)

/* The full list of properties, in table order. */
static const char *const all_names[] = {
    "batch_interval",
    "clock",
    "max_batches",
    "trigger",
    "watermark_policy",
    "no_data_batches",
    "max_queued_batches",
    "stop.graceful_timeout",
    "progress.retain",
    "control.progress_log_bytes",
    "workers",
    "log.level",
    "receiver.max_buffered_bytes",
    "receiver.max_line_bytes",
    "receiver.dead_letter",
    "receiver.format",
    "receiver.schema",
    "receiver.csv.header",
    "receiver.parse_mode",
    "receiver.block_bytes",
    "receiver.wal",
    "receiver.wal_zstd_level",
    "receiver.listen",
    "receiver.reconnect_min",
    "receiver.reconnect_max",
    "receiver.connect_timeout",
    "receiver.max_connect_attempts",
    "receiver.connect_give_up_after",
    "rate.rows_per_second",
    "rate.partitions",
    "queue.schema",
    "queue.parse_mode",
    "generator.lines_per_batch",
    "generator.words_per_line",
    "generator.vocabulary",
    "generator.zipf_s",
    "generator.seed",
    "generator.partitions",
    "file.watch",
    "file.include_existing",
    "file.max_files_per_trigger",
    "file.latest_first",
    "file.max_file_age",
    "file.path_glob_filter",
    "file.recursive_file_lookup",
    "file.clean_source",
    "file.source_archive_dir",
    "file.format",
    "file.csv.separator",
    "file.csv.quote",
    "file.csv.header",
    "file.csv.columns",
    "file.schema",
    "file.parse_mode",
    "file.dead_letter",
    "file.with_file_name",
    "file.split_bytes",
    "dead_letter",
    "on_bad_record",
    "source.name",
    "max_record_bytes",
    "file.max_decompressed_bytes",
    "file.create_if_missing",
    "kafka.source.topics",
    "kafka.source.pattern",
    "kafka.source.starting_offsets",
    "kafka.source.max_records_per_partition",
    "kafka.source.records",
    "kafka.source.fail_on_data_loss",
    "kafka.source.commit_offsets",
    "kafka.source.format",
    "kafka.source.schema",
    "kafka.source.parse_mode",
    "kafka.source.csv.separator",
    "kafka.source.dead_letter",
    "kafka.source.timeout",
    "file_sink.format",
    "memory_sink.max_rows",
    "kafka_sink.job",
    "query.timeout",
    "query.max_rows",
    "query.max_memory",
    "state.shards",
    "checkpoint.path",
    "checkpoint.snapshot_every_batches",
    "checkpoint.retain_batches"};
#define NNAMES (sizeof all_names / sizeof all_names[0])

static void test_table_covers_list(void)
{
    size_t i, j;

    for (i = 0; sl_conf_property_at(i); i++) {
        const sl_conf_property *p = sl_conf_property_at(i);
        SL_CHECK(i < NNAMES);
        if (i < NNAMES)
            SL_CHECK_STR(p->name, all_names[i]);
        SL_CHECK(p->default_value != NULL);
        SL_CHECK(p->description && p->description[0] != '\0');
        SL_CHECK(p->min <= p->max);
        SL_CHECK((p->type == SL_CONF_ENUM) == (p->choices != NULL));
        for (j = 0; j < i; j++)
            SL_CHECK(strcmp(sl_conf_property_at(j)->name, p->name) != 0);
    }
    SL_CHECK_INT(i, NNAMES);
    SL_CHECK(sl_conf_property_at(NNAMES) == NULL);
    SL_CHECK(sl_conf_property_at(SIZE_MAX) == NULL);
}

/* Expected parsed defaults of the numeric properties. */
static const struct {
    const char *name;
    int64_t value;
} numeric_defaults[] = {
    {"batch_interval", 1000},
    {"max_batches", 0},
    {"workers", 0},
    {"receiver.max_buffered_bytes", INT64_C(64) << 20},
    {"receiver.max_line_bytes", INT64_C(1) << 20},
    {"receiver.block_bytes", INT64_C(1) << 20},
    {"receiver.wal_zstd_level", -50},
    {"receiver.reconnect_min", 100},
    {"receiver.reconnect_max", 5000},
    {"receiver.connect_timeout", 5000},
    {"receiver.max_connect_attempts", 0},
    {"receiver.connect_give_up_after", 0},
    {"rate.rows_per_second", 1},
    {"rate.partitions", 0},
    {"generator.lines_per_batch", 1000},
    {"generator.words_per_line", 10},
    {"generator.vocabulary", 10000},
    {"generator.seed", 42},
    {"generator.partitions", 0},
    {"state.shards", 16},
    {"checkpoint.snapshot_every_batches", 10},
    {"checkpoint.retain_batches", 100},
    {"max_record_bytes", INT64_C(64) << 20},
    {"file.max_files_per_trigger", 0},
    {"file.max_file_age", INT64_C(168) * 3600 * 1000},
    {"file.split_bytes", INT64_C(64) << 20},
};

static void test_defaults(void)
{
    sl_conf *conf = sl_conf_new();
    size_t i;

    SL_CHECK(conf != NULL);
    for (i = 0; i < sizeof numeric_defaults / sizeof numeric_defaults[0]; i++) {
        int64_t v = -1;
        SL_CHECK_OK(sl_conf_get_int(conf, numeric_defaults[i].name, &v));
        SL_CHECK_INT(v, numeric_defaults[i].value);
        SL_CHECK_INT(sl__conf_int(conf, numeric_defaults[i].name),
                     numeric_defaults[i].value);
        /* A NULL conf reads the defaults (connectors take conf = NULL). */
        SL_CHECK_INT(sl__conf_int(NULL, numeric_defaults[i].name),
                     numeric_defaults[i].value);
    }
    SL_CHECK_STR(sl_conf_get(conf, "clock"), "system");
    SL_CHECK_STR(sl_conf_get(conf, "log.level"), "info");
    SL_CHECK_STR(sl_conf_get(conf, "generator.zipf_s"), "1.0");
    SL_CHECK_STR(sl_conf_get(conf, "batch_interval"), "1s");
    SL_CHECK_STR(sl_conf_get(conf, "receiver.max_buffered_bytes"), "64m");
    sl_conf_free(conf);
}

/* Every default is accepted by set and reads back as the same text. */
static void test_defaults_round_trip(void)
{
    sl_conf *conf = sl_conf_new();
    size_t i;

    for (i = 0; sl_conf_property_at(i); i++) {
        const sl_conf_property *p = sl_conf_property_at(i);
        char err[256] = "";
        int64_t before = 0, after = 0;
        bool numeric = p->type == SL_CONF_INT || p->type == SL_CONF_SIZE ||
                       p->type == SL_CONF_DURATION;

        SL_CHECK_STR(sl_conf_get(conf, p->name), p->default_value);
        if (numeric)
            SL_CHECK_OK(sl_conf_get_int(conf, p->name, &before));
        SL_CHECK_OK(
            sl_conf_set(conf, p->name, p->default_value, err, sizeof err));
        SL_CHECK_STR(err, "");
        SL_CHECK_STR(sl_conf_get(conf, p->name), p->default_value);
        if (numeric) {
            SL_CHECK_OK(sl_conf_get_int(conf, p->name, &after));
            SL_CHECK_INT(after, before);
            SL_CHECK(after >= p->min && after <= p->max);
        }
    }
    sl_conf_free(conf);
}

/* Set name to value and expect SL_ECONF with exactly msg. */
static void check_reject(int line, sl_conf *conf, const char *name,
                         const char *value, const char *msg)
{
    char err[256] = "";
    const char *old = sl_conf_get(conf, name);
    char before[128] = "";
    sl_status st;

    if (old)
        snprintf(before, sizeof before, "%s", old);
    st = sl_conf_set(conf, name, value, err, sizeof err);
    if (st != SL_ECONF || strcmp(err, msg) != 0)
        sl_test_fail(__FILE__, line, "set %s='%s': %s \"%s\", want \"%s\"",
                     name, value, sl_errname(st), err, msg);
    else
        CU_PASS(msg);
    /* A failed set leaves the property as it was. */
    if (old)
        SL_CHECK_STR(sl_conf_get(conf, name), before);
}

#define REJECT(conf, name, value, msg)                                         \
    check_reject(__LINE__, conf, name, value, msg)

static void test_unknown_name(void)
{
    sl_conf *conf = sl_conf_new();
    int64_t v;
    bool b;

    REJECT(conf, "x", "1", "unknown property 'x'");
    REJECT(conf, "batch-interval", "1s", "unknown property 'batch-interval'");
    REJECT(conf, "", "1", "unknown property ''");
    REJECT(conf, "Workers", "1", "unknown property 'Workers'");
    SL_CHECK_INT(sl_conf_set(conf, "x", "1", NULL, 0), SL_ECONF);
    SL_CHECK(sl_conf_get(conf, "x") == NULL);
    SL_CHECK_INT(sl_conf_get_int(conf, "x", &v), SL_ECONF);
    SL_CHECK_INT(sl_conf_get_bool(conf, "x", &b), SL_ECONF);
    sl_conf_free(conf);
}

static void test_out_of_range(void)
{
    sl_conf *conf = sl_conf_new();

    REJECT(conf, "workers", "-1", "workers: '-1' is out of range (0..1024)");
    REJECT(conf, "workers", "1025",
           "workers: '1025' is out of range (0..1024)");
    REJECT(conf, "workers", "99999999999999999999",
           "workers: '99999999999999999999' is out of range (0..1024)");
    REJECT(conf, "batch_interval", "0ms",
           "batch_interval: '0ms' is out of range (1ms..24h)");
    REJECT(conf, "batch_interval", "25h",
           "batch_interval: '25h' is out of range (1ms..24h)");
    REJECT(conf, "batch_interval", "99999999999999999999h",
           "batch_interval: '99999999999999999999h' is out of range "
           "(1ms..24h)");
    REJECT(conf, "receiver.max_buffered_bytes", "1k",
           "receiver.max_buffered_bytes: '1k' is out of range (64k..64g)");
    REJECT(conf, "receiver.max_line_bytes", "0",
           "receiver.max_line_bytes: '0' is out of range (1..1g)");
    REJECT(conf, "receiver.block_bytes", "2g",
           "receiver.block_bytes: '2g' is out of range (4k..1g)");
    REJECT(conf, "receiver.reconnect_max", "2h",
           "receiver.reconnect_max: '2h' is out of range (1ms..1h)");
    REJECT(conf, "rate.rows_per_second", "1000000001",
           "rate.rows_per_second: '1000000001' is out of range "
           "(0..1000000000)");
    REJECT(conf, "generator.words_per_line", "0",
           "generator.words_per_line: '0' is out of range (1..10000)");
    REJECT(conf, "generator.vocabulary", "100000001",
           "generator.vocabulary: '100000001' is out of range "
           "(1..100000000)");
    REJECT(conf, "max_batches", "4611686018427387904",
           "max_batches: '4611686018427387904' is out of range "
           "(0..4611686018427387903)");
    sl_conf_free(conf);
}

static void test_bad_type(void)
{
    sl_conf *conf = sl_conf_new();

    REJECT(conf, "batch_interval", "abc",
           "batch_interval: 'abc' is not a duration (e.g. 500ms, 1s, 1m)");
    REJECT(conf, "batch_interval", "1000",
           "batch_interval: '1000' is not a duration (e.g. 500ms, 1s, 1m)");
    REJECT(conf, "clock", "x", "clock: 'x' is not one of system|manual");
    REJECT(conf, "clock", "System",
           "clock: 'System' is not one of system|manual");
    REJECT(conf, "clock", "", "clock: '' is not one of system|manual");
    REJECT(conf, "clock", "system|manual",
           "clock: 'system|manual' is not one of system|manual");
    REJECT(conf, "log.level", "trace",
           "log.level: 'trace' is not one of error|warn|info|debug");
    REJECT(conf, "workers", "abc", "workers: 'abc' is not an integer");
    REJECT(conf, "workers", "", "workers: '' is not an integer");
    REJECT(conf, "workers", "4 ", "workers: '4 ' is not an integer");
    REJECT(conf, "workers", "+4", "workers: '+4' is not an integer");
    REJECT(conf, "workers", "1e3", "workers: '1e3' is not an integer");
    REJECT(conf, "workers", "-", "workers: '-' is not an integer");
    REJECT(conf, "receiver.block_bytes", "lots",
           "receiver.block_bytes: 'lots' is not a size (e.g. 512k, 64m, 1g)");
    sl_conf_free(conf);
}

static void test_set_keeps_text(void)
{
    sl_conf *conf = sl_conf_new();
    int64_t v = 0;

    SL_CHECK_OK(sl_conf_set(conf, "batch_interval", "1500ms", NULL, 0));
    SL_CHECK_STR(sl_conf_get(conf, "batch_interval"), "1500ms");
    SL_CHECK_OK(sl_conf_get_int(conf, "batch_interval", &v));
    SL_CHECK_INT(v, 1500);
    /* The text is kept as given, not normalised to "1m". */
    SL_CHECK_OK(sl_conf_set(conf, "batch_interval", "60s", NULL, 0));
    SL_CHECK_STR(sl_conf_get(conf, "batch_interval"), "60s");
    SL_CHECK_INT(sl__conf_int(conf, "batch_interval"), 60000);
    SL_CHECK_OK(sl_conf_set(conf, "receiver.block_bytes", "4K", NULL, 0));
    SL_CHECK_INT(sl__conf_int(conf, "receiver.block_bytes"), 4096);
    SL_CHECK_OK(
        sl_conf_set(conf, "receiver.max_buffered_bytes", "64g", NULL, 0));
    SL_CHECK_INT(sl__conf_int(conf, "receiver.max_buffered_bytes"), 64 * GIB);
    SL_CHECK_OK(sl_conf_set(conf, "clock", "manual", NULL, 0));
    SL_CHECK_STR(sl_conf_get(conf, "clock"), "manual");
    SL_CHECK_OK(sl_conf_set(conf, "log.level", "debug", NULL, 0));
    SL_CHECK_STR(sl_conf_get(conf, "log.level"), "debug");
    SL_CHECK_OK(sl_conf_set(conf, "workers", "1024", NULL, 0));
    SL_CHECK_INT(sl__conf_int(conf, "workers"), 1024);
    SL_CHECK_OK(sl_conf_set(conf, "workers", "0", NULL, 0));
    SL_CHECK_INT(sl__conf_int(conf, "workers"), 0);
    SL_CHECK_OK(
        sl_conf_set(conf, "max_batches", "4611686018427387903", NULL, 0));
    SL_CHECK_INT(sl__conf_int(conf, "max_batches"), INT64_MAX / 2);
    sl_conf_free(conf);
}

static void test_typed_getters(void)
{
    sl_conf *conf = sl_conf_new();
    int64_t v = 7;
    bool b = true;

    SL_CHECK_INT(sl_conf_get_int(conf, "clock", &v), SL_ECONF);
    SL_CHECK_INT(sl_conf_get_int(conf, "generator.zipf_s", &v), SL_ECONF);
    SL_CHECK_INT(sl_conf_get_bool(conf, "workers", &b), SL_ECONF);
    SL_CHECK_INT(v, 7);
    SL_CHECK(b);
    SL_CHECK_INT(sl_conf_get_int(NULL, "workers", &v), SL_EINVAL);
    SL_CHECK_INT(sl_conf_get_int(conf, NULL, &v), SL_EINVAL);
    SL_CHECK_INT(sl_conf_get_int(conf, "workers", NULL), SL_EINVAL);
    SL_CHECK_INT(sl_conf_set(NULL, "workers", "1", NULL, 0), SL_EINVAL);
    SL_CHECK_INT(sl_conf_set(conf, NULL, "1", NULL, 0), SL_EINVAL);
    SL_CHECK_INT(sl_conf_set(conf, "workers", NULL, NULL, 0), SL_EINVAL);
    SL_CHECK(sl_conf_get(NULL, "workers") == NULL);
    SL_CHECK(sl_conf_get(conf, NULL) == NULL);
    sl_conf_free(NULL);
    SL_CHECK(sl_conf_dup(NULL) == NULL);
    sl_conf_free(conf);
}

static void test_dup_independent(void)
{
    sl_conf *a = sl_conf_new(), *b;

    SL_CHECK_OK(sl_conf_set(a, "workers", "3", NULL, 0));
    SL_CHECK_OK(sl_conf_set(a, "clock", "manual", NULL, 0));
    b = sl_conf_dup(a);
    SL_CHECK(b != NULL);
    SL_CHECK_STR(sl_conf_get(b, "workers"), "3");
    SL_CHECK_STR(sl_conf_get(b, "clock"), "manual");
    SL_CHECK_STR(sl_conf_get(b, "log.level"), "info");
    SL_CHECK(sl_conf_get(b, "workers") != sl_conf_get(a, "workers"));

    SL_CHECK_OK(sl_conf_set(a, "workers", "5", NULL, 0));
    SL_CHECK_OK(sl_conf_set(b, "log.level", "warn", NULL, 0));
    SL_CHECK_INT(sl__conf_int(a, "workers"), 5);
    SL_CHECK_INT(sl__conf_int(b, "workers"), 3);
    SL_CHECK_STR(sl_conf_get(a, "log.level"), "info");
    SL_CHECK_STR(sl_conf_get(b, "log.level"), "warn");

    /* Freeing one must leave the other whole (ASan checks the reads). */
    sl_conf_free(a);
    SL_CHECK_STR(sl_conf_get(b, "workers"), "3");
    SL_CHECK_STR(sl_conf_get(b, "clock"), "manual");
    sl_conf_free(b);
}

static void test_zipf_s(void)
{
    static const char *const good[] = {"1.0", "0.5",    "2",     "1e0", ".5",
                                       "1.",  "1.5e-3", "10.25", "1E+2"};
    static const char *const bad[] = {"0",     "0.0",   "-1",  "abc", "",
                                      " 1.0",  "1.0 ",  "inf", "nan", "1.0x",
                                      "0x1p0", "1e999", "+1",  "1e",  "."};
    sl_conf *conf = sl_conf_new();
    char msg[128];
    size_t i;

    for (i = 0; i < sizeof good / sizeof good[0]; i++) {
        SL_CHECK_OK(sl_conf_set(conf, "generator.zipf_s", good[i], NULL, 0));
        SL_CHECK_STR(sl_conf_get(conf, "generator.zipf_s"), good[i]);
    }
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(msg, sizeof msg,
                 "generator.zipf_s: '%s' is not a positive decimal number "
                 "(e.g. 1.0)",
                 bad[i]);
        REJECT(conf, "generator.zipf_s", bad[i], msg);
    }
    sl_conf_free(conf);
}

static void test_small_errbuf(void)
{
    sl_conf *conf = sl_conf_new();
    char err[8];

    memset(err, 'x', sizeof err);
    SL_CHECK_INT(sl_conf_set(conf, "workers", "-1", err, sizeof err), SL_ECONF);
    SL_CHECK_STR(err, "workers");
    err[0] = 'x';
    SL_CHECK_INT(sl_conf_set(conf, "workers", "-1", err, 1), SL_ECONF);
    SL_CHECK_INT(err[0], '\0');
    sl_conf_free(conf);
}

/* ----------------------------------------------- allocation failures */

/* new, set, dup and set again; any step may meet an allocation failure. */
static bool conf_scenario(void)
{
    sl_conf *a = sl_conf_new(), *b = NULL;
    bool done = false;
    sl_status st;

    if (!a)
        return false;
    st = sl_conf_set(a, "workers", "3", NULL, 0);
    if (st == SL_ENOMEM) {
        SL_CHECK_STR(sl_conf_get(a, "workers"), "0");
        goto free_a;
    }
    SL_CHECK_OK(st);
    b = sl_conf_dup(a);
    if (!b)
        goto free_a;
    st = sl_conf_set(b, "workers", "4", NULL, 0);
    if (st == SL_ENOMEM) {
        SL_CHECK_STR(sl_conf_get(b, "workers"), "3");
        goto free_b;
    }
    SL_CHECK_INT(sl__conf_int(b, "workers"), 4);
    done = true;
free_b:
    sl_conf_free(b);
free_a:
    sl_conf_free(a);
    return done;
}

static void test_alloc_failures(void)
{
    const sl_allocator *hook = sl_test_failing_allocator();
    long k;
    bool done = false;

    /* The hook can only change while nothing is allocated through it. */
    SL_CHECK_OK(sl_set_allocator(hook));
    for (k = 0; k < 100 && !done; k++) {
        sl_test_fail_after(k);
        done = conf_scenario();
        /* Everything was freed again: the hook may be replaced. */
        SL_CHECK_OK(sl_set_allocator(hook));
    }
    SL_CHECK(done);
    SL_CHECK(k > 3);
    SL_CHECK_OK(sl_set_allocator(NULL));
}

/* "kafka." names outside the table pass through, in the order first
 * set, replaced in place, copied by dup; the bare prefix and look-alike
 * prefixes stay unknown. */
static void test_passthrough(void)
{
    sl_conf *c = sl_conf_new(), *d;
    const char *name, *value;
    char err[256];
    SL_CHECK_OK(
        sl_conf_set(c, "kafka.bootstrap.servers", "h:1", err, sizeof err));
    SL_CHECK_OK(sl_conf_set(c, "kafka.sasl.password", "pw", err, sizeof err));
    SL_CHECK_OK(
        sl_conf_set(c, "kafka.bootstrap.servers", "h:2", err, sizeof err));
    SL_CHECK_INT(sl_conf_set(c, "kafka.", "x", err, sizeof err), SL_ECONF);
    SL_CHECK_INT(sl_conf_set(c, "kafkax.y", "x", err, sizeof err), SL_ECONF);
    SL_CHECK_STR(sl_conf_get(c, "kafka.bootstrap.servers"), "h:2");
    SL_CHECK(sl_conf_passthrough_at(c, 0, &name, &value));
    SL_CHECK_STR(name, "kafka.bootstrap.servers");
    SL_CHECK_STR(value, "h:2");
    SL_CHECK(sl_conf_passthrough_at(c, 1, &name, &value));
    SL_CHECK_STR(name, "kafka.sasl.password");
    SL_CHECK(!sl_conf_passthrough_at(c, 2, &name, &value));
    d = sl_conf_dup(c);
    sl_conf_free(c);
    SL_CHECK(sl_conf_passthrough_at(d, 1, &name, &value));
    SL_CHECK_STR(value, "pw");
    sl_conf_free(d);
}

const char *SL_SUITE = "core/conf";
const sl_test_case SL_TESTS[] = {
    {"table_covers_list", test_table_covers_list},
    {"defaults", test_defaults},
    {"defaults_round_trip", test_defaults_round_trip},
    {"unknown_name", test_unknown_name},
    {"out_of_range", test_out_of_range},
    {"bad_type", test_bad_type},
    {"set_keeps_text", test_set_keeps_text},
    {"typed_getters", test_typed_getters},
    {"dup_independent", test_dup_independent},
    {"zipf_s", test_zipf_s},
    {"small_errbuf", test_small_errbuf},
    {"alloc_failures", test_alloc_failures},
    {"passthrough", test_passthrough},
    {NULL, NULL},
};
