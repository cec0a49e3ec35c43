/*
 * Typed rows (src/core/rows.c through records.h): lines, CSV and JSON
 * lines read into a declared schema, each type, the three parse modes,
 * _corrupt_record, Spark's edge cases (docs/sql.md "Reading rows"), the
 * options check, schema inference; and the row printers (row_out.c):
 * golden table, JSON and CSV output.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <sluice/sluice.h>

#include "core/records.h"
#include "core/row_out.h"
#include "core/schema.h"
#include "sl_test.h"

/* ------------------------------------------------------------ helpers */

typedef struct rd {
    sl__rec_reader r;
    sl__arena a;
    sl_schema *s;
    sl_value row;
    char err[512];
    char json[1024]; /* the last row as JSON, "" when none */
} rd;

static void rd_open(rd *x, sl__rec_format f, const char *ddl, sl__parse_mode m,
                    bool header)
{
    sl__rec_options o;
    char err[256] = "";

    memset(x, 0, sizeof *x);
    SL_CHECK_OK(sl_schema_parse(ddl, &x->s, err, sizeof err));
    sl__rec_options_init(&o);
    o.format = f;
    o.schema = x->s;
    o.mode = m;
    o.header = header;
    SL_CHECK_OK(sl__rec_reader_init(&x->r, &o, err, sizeof err));
    sl__arena_init(&x->a, 1024);
}

static void rd_close(rd *x)
{
    sl__rec_reader_free(&x->r);
    sl__arena_free(&x->a);
    sl_schema_release(x->s);
}

/* Parse line; the row as JSON in x->json. */
static sl_status rd_line(rd *x, const char *line)
{
    sl__buf b = {0};
    sl_status st;

    x->err[0] = x->json[0] = '\0';
    st = sl__rec_parse(&x->r, line, strlen(line), sl__rec_arena_alloc, &x->a,
                       &x->row, x->err, sizeof x->err);
    if (st == SL_OK && sl__json_put_row(&b, x->s, &x->row) == SL_OK) {
        snprintf(x->json, sizeof x->json, "%.*s", (int)b.len, b.data);
        sl__buf_free(&b);
    }
    return st;
}

/* A line that reads well into the row want (JSON). */
static void good(rd *x, const char *line, const char *want)
{
    SL_CHECK_INT(rd_line(x, line), SL_OK);
    SL_CHECK(!x->r.row_malformed);
    SL_CHECK_STR(x->json, want);
}

/* A malformed line in permissive mode: the row want, the reason why. */
static void bad(rd *x, const char *line, const char *want, const char *why)
{
    int64_t before = x->r.malformed;

    SL_CHECK_INT(rd_line(x, line), SL_OK);
    SL_CHECK(x->r.row_malformed);
    SL_CHECK_INT(x->r.malformed, before + 1);
    SL_CHECK_STR(x->json, want);
    SL_CHECK_STR(x->err, why);
}

static void refused(sl__rec_format f, const char *ddl, const char *want)
{
    sl__rec_options o;
    sl__rec_reader r;
    sl_schema *s = NULL;
    char err[256] = "";

    SL_CHECK_OK(sl_schema_parse(ddl, &s, err, sizeof err));
    sl__rec_options_init(&o);
    o.format = f;
    o.schema = s;
    SL_CHECK_INT(sl__rec_reader_init(&r, &o, err, sizeof err), SL_EINVAL);
    SL_CHECK_STR(err, want);
    sl_schema_release(s);
}

/* ---------------------------------------------------------------- modes */

static void test_mode_names(void)
{
    sl__parse_mode m = SL__PARSE_PERMISSIVE;

    SL_CHECK_OK(sl__parse_mode_parse("drop_malformed", &m));
    SL_CHECK_INT(m, SL__PARSE_DROP_MALFORMED);
    SL_CHECK_OK(sl__parse_mode_parse("FAILFAST", &m));
    SL_CHECK_INT(m, SL__PARSE_FAIL_FAST);
    SL_CHECK_OK(sl__parse_mode_parse("PERMISSIVE", &m));
    SL_CHECK_INT(m, SL__PARSE_PERMISSIVE);
    SL_CHECK_INT(sl__parse_mode_parse("lenient", &m), SL_EPARSE);
    SL_CHECK_STR(sl__parse_mode_name(SL__PARSE_FAIL_FAST), "fail_fast");
    SL_CHECK_STR(sl__parse_mode_name(SL__PARSE_DROP_MALFORMED),
                 "drop_malformed");
}

static void test_options_check(void)
{
    refused(SL__REC_CSV, "a long, b binary",
            "csv: column \"b\": type binary is not supported in CSV (as in "
            "Spark's CSV reader)");
    refused(SL__REC_CSV, "a array<long>",
            "csv: column \"a\": type array<long> is not supported in CSV (as "
            "in Spark's CSV reader)");
    refused(SL__REC_JSON, "a long, _corrupt_record long",
            "column \"_corrupt_record\" must be a string (it holds the "
            "malformed record's text)");
    refused(SL__REC_LINES, "value string, n long",
            "lines: the schema must be one string column (default \"value "
            "string\")");
    refused(SL__REC_LINES, "value long",
            "lines: the schema must be one string column (default \"value "
            "string\")");
}

static void test_csv_schema_and_columns(void)
{
    static const char *const cols[] = {"a"};
    sl__rec_options o;
    sl__rec_reader r;
    sl_schema *s = NULL;
    char err[256] = "";

    SL_CHECK_OK(sl_schema_parse("a long", &s, err, sizeof err));
    sl__rec_options_init(&o);
    o.format = SL__REC_CSV;
    o.schema = s;
    o.columns = cols;
    o.ncolumns = 1;
    SL_CHECK_INT(sl__rec_reader_init(&r, &o, err, sizeof err), SL_EINVAL);
    SL_CHECK_STR(err, "csv: a schema and given columns exclude each other");
    sl_schema_release(s);
}

/* ---------------------------------------------------------------- lines */

static void test_lines(void)
{
    rd x;

    rd_open(&x, SL__REC_LINES, "value string", SL__PARSE_PERMISSIVE, false);
    good(&x, "a b,c", "{\"value\":\"a b,c\"}");
    good(&x, "", "{\"value\":\"\"}"); /* Spark's text source: "" */
    SL_CHECK_INT(x.row.kind, SL_KIND_TUPLE);
    SL_CHECK_INT(x.row.len, 1);
    SL_CHECK_INT(x.r.records, 2);
    rd_close(&x);
}

/* ------------------------------------------------------------------ csv */

#define CSV_DDL "a long, b double, c boolean, d string, e timestamp"

static void test_csv_types(void)
{
    rd x;

    rd_open(&x, SL__REC_CSV, CSV_DDL, SL__PARSE_PERMISSIVE, false);
    good(&x, "12,1.5,TRUE,x y,2024-01-02 09:30:00.5",
         "{\"a\":12,\"b\":1.5,\"c\":true,\"d\":\"x y\","
         "\"e\":\"2024-01-02T09:30:00.500Z\"}");
    good(&x, "-9223372036854775808,1e3,false,\"q,\"\"r\"\"\",2024-01-02",
         "{\"a\":-9223372036854775808,\"b\":1000.0,\"c\":false,"
         "\"d\":\"q,\\\"r\\\"\",\"e\":\"2024-01-02T00:00:00.000Z\"}");
    /* Empty fields are NULL (Spark's nullValue ""), strings too. */
    good(&x, ",,,,",
         "{\"a\":null,\"b\":null,\"c\":null,\"d\":null,\"e\":null}");
    good(&x, "+5,\" 2.5 \",fAlSe, d ,2024-01-02T09:30:00Z",
         "{\"a\":5,\"b\":2.5,\"c\":false,\"d\":\" d \","
         "\"e\":\"2024-01-02T09:30:00.000Z\"}");
    SL_CHECK_INT(x.r.malformed, 0);
    rd_close(&x);
}

/* Doubles read without strtod (up to 15 significant digits, no
 * exponent) are the doubles strtod reads, bit for bit, sign of zero too. */
static void test_csv_doubles_exact(void)
{
    static const char *const fixed[] = {"-0.0",
                                        "0.1",
                                        "0.2",
                                        "0.3",
                                        "2.675",
                                        "-1.005",
                                        "123456789012345",
                                        "0.000000000000001",
                                        "999999999999999.",
                                        "1.7976931348623157",
                                        "0.3000000000000000444",
                                        "00012.50",
                                        "-.5",
                                        "1e-2",
                                        "12.5d"};
    char line[64], *end;
    uint64_t seed = 12345;
    double want;
    rd x;
    size_t i;

    rd_open(&x, SL__REC_CSV, "b double", SL__PARSE_PERMISSIVE, false);
    for (i = 0; i < 20000 + sizeof fixed / sizeof fixed[0]; i++) {
        if (i < sizeof fixed / sizeof fixed[0]) {
            snprintf(line, sizeof line, "%s", fixed[i]);
        } else {
            seed = seed * 6364136223846793005u + 1442695040888963407u;
            int frac = (int)(seed >> 60) % 12;
            snprintf(line, sizeof line, "%s%llu.%0*llu",
                     (seed >> 40) & 1 ? "-" : "",
                     (unsigned long long)((seed >> 20) % 100000), frac,
                     (unsigned long long)((seed >> 3) % 1000000000000ull) %
                         (frac ? (unsigned long long)pow(10, frac) : 1));
        }
        SL_CHECK_INT(rd_line(&x, line), SL_OK);
        want = strtod(line, &end);
        SL_CHECK(memcmp(&x.row.u.items[0].u.d, &want, sizeof want) == 0 ||
                 *end == 'd');
    }
    rd_close(&x);
}

static void test_csv_numbers(void)
{
    rd x;

    rd_open(&x, SL__REC_CSV, "a long, b double", SL__PARSE_PERMISSIVE, false);
    good(&x, "9223372036854775807,.5", "{\"a\":9223372036854775807,\"b\":0.5}");
    good(&x, "0,1.", "{\"a\":0,\"b\":1.0}");
    good(&x, "0,2d", "{\"a\":0,\"b\":2.0}"); /* Java's suffix */
    SL_CHECK_INT(rd_line(&x, "0,NaN"), SL_OK);
    SL_CHECK(isnan(x.row.u.items[1].u.d));
    SL_CHECK_INT(rd_line(&x, "0,-Inf"), SL_OK);
    SL_CHECK(x.row.u.items[1].u.d == -INFINITY);
    SL_CHECK_INT(rd_line(&x, "0,Infinity"), SL_OK);
    SL_CHECK(x.row.u.items[1].u.d == INFINITY);
    SL_CHECK(!x.r.row_malformed);
    /* Long.parseLong takes no white space and no overflow. */
    bad(&x, " 12,1", "{\"a\":null,\"b\":1.0}",
        "column \"a\": cannot read \" 12\" as long");
    bad(&x, "9223372036854775808,1", "{\"a\":null,\"b\":1.0}",
        "column \"a\": cannot read \"9223372036854775808\" as long");
    bad(&x, "1.0,1", "{\"a\":null,\"b\":1.0}",
        "column \"a\": cannot read \"1.0\" as long");
    bad(&x, "1,0x1p3", "{\"a\":1,\"b\":null}",
        "column \"b\": cannot read \"0x1p3\" as double");
    bad(&x, "1,inf", "{\"a\":1,\"b\":null}",
        "column \"b\": cannot read \"inf\" as double");
    bad(&x, "1,1e", "{\"a\":1,\"b\":null}",
        "column \"b\": cannot read \"1e\" as double");
    rd_close(&x);
}

static void test_csv_corrupt_record(void)
{
    rd x;

    rd_open(&x, SL__REC_CSV, "a long, _corrupt_record string, b boolean",
            SL__PARSE_PERMISSIVE, false);
    good(&x, "1,true", "{\"a\":1,\"_corrupt_record\":null,\"b\":true}");
    /* Parsed fields kept, the bad one NULL, the line in the column. */
    bad(&x, "x,true", "{\"a\":null,\"_corrupt_record\":\"x,true\",\"b\":true}",
        "column \"a\": cannot read \"x\" as long");
    bad(&x, "1,maybe", "{\"a\":1,\"_corrupt_record\":\"1,maybe\",\"b\":null}",
        "column \"b\": cannot read \"maybe\" as boolean");
    /* Fewer fields: the rest NULL; more: extras dropped; both malformed
     * (Spark 3's UnivocityParser). */
    bad(&x, "7", "{\"a\":7,\"_corrupt_record\":\"7\",\"b\":null}",
        "expected 2 columns, got 1");
    bad(&x, "7,false,9",
        "{\"a\":7,\"_corrupt_record\":\"7,false,9\",\"b\":false}",
        "expected 2 columns, got 3");
    /* A line the tokenizer refuses: every column NULL. */
    bad(&x, "1,tr\"ue",
        "{\"a\":null,\"_corrupt_record\":\"1,tr\\\"ue\",\"b\":null}",
        "stray quote in unquoted field at column 5");
    SL_CHECK_INT(x.r.records, 6);
    SL_CHECK_INT(x.r.malformed, 5);
    SL_CHECK(!x.r.fail);
    rd_close(&x);
}

static void test_csv_without_corrupt_column(void)
{
    rd x;

    rd_open(&x, SL__REC_CSV, "a long, b long", SL__PARSE_PERMISSIVE, false);
    bad(&x, "1,x", "{\"a\":1,\"b\":null}",
        "column \"b\": cannot read \"x\" as long");
    rd_close(&x);
}

static void test_csv_drop_and_fail(void)
{
    rd x;

    rd_open(&x, SL__REC_CSV, "a long", SL__PARSE_DROP_MALFORMED, false);
    SL_CHECK_INT(rd_line(&x, "x"), SL_EPARSE);
    SL_CHECK_STR(x.err, "column \"a\": cannot read \"x\" as long");
    SL_CHECK_INT(rd_line(&x, "1,2"), SL_EPARSE);
    SL_CHECK_STR(x.err, "expected 1 columns, got 2");
    good(&x, "3", "{\"a\":3}");
    SL_CHECK_INT(x.r.malformed, 2);
    SL_CHECK_INT(x.r.records, 1);
    SL_CHECK(!x.r.fail);
    rd_close(&x);

    rd_open(&x, SL__REC_CSV, "a long", SL__PARSE_FAIL_FAST, false);
    good(&x, "3", "{\"a\":3}");
    SL_CHECK(!x.r.fail);
    SL_CHECK_INT(rd_line(&x, "x"), SL_EPARSE);
    SL_CHECK(x.r.fail);
    SL_CHECK_INT(x.r.malformed, 1);
    rd_close(&x);
}

static void test_csv_header_and_blank(void)
{
    rd x;

    rd_open(&x, SL__REC_CSV, "n long, s string", SL__PARSE_FAIL_FAST, true);
    /* The header is skipped (columns map by position, not by name). */
    SL_CHECK_INT(rd_line(&x, "\xEF\xBB\xBFs,n"), SL_ENOTFOUND);
    good(&x, "1,one", "{\"n\":1,\"s\":\"one\"}");
    /* Blank lines are no records (Spark skips them), not malformed. */
    SL_CHECK_INT(rd_line(&x, ""), SL_ENOTFOUND);
    SL_CHECK_INT(rd_line(&x, "  "), SL_ENOTFOUND);
    good(&x, "2,", "{\"n\":2,\"s\":null}");
    SL_CHECK_INT(x.r.lines, 5);
    SL_CHECK_INT(x.r.records, 2);
    SL_CHECK_INT(x.r.malformed, 0);
    SL_CHECK(!x.r.fail);
    rd_close(&x);
}

/* A timestamp field of 7 to 18 digits (a '-' allowed) is milliseconds
 * since the epoch (feeds' epoch-ms stamps); up to 6 digits it stays
 * Spark's year, and digits with anything else are no timestamp. */
static void test_csv_epoch_ms(void)
{
    rd x;

    rd_open(&x, SL__REC_CSV, "ts timestamp, bid double", SL__PARSE_PERMISSIVE,
            false);
    good(&x, "1704187800123,1.5",
         "{\"ts\":\"2024-01-02T09:30:00.123Z\",\"bid\":1.5}");
    good(&x, "1000000,1", "{\"ts\":\"1970-01-01T00:16:40.000Z\",\"bid\":1.0}");
    good(&x, "-1000000,1", "{\"ts\":\"1969-12-31T23:43:20.000Z\",\"bid\":1.0}");
    good(&x, "2024,1", "{\"ts\":\"2024-01-01T00:00:00.000Z\",\"bid\":1.0}");
    good(&x, "2024-01-02T09:30:00.5Z,1",
         "{\"ts\":\"2024-01-02T09:30:00.500Z\",\"bid\":1.0}");
    bad(&x, "1704187800123x,1", "{\"ts\":null,\"bid\":1.0}",
        "column \"ts\": cannot read \"1704187800123x\" as timestamp");
    bad(&x, "1234567890123456789,1", "{\"ts\":null,\"bid\":1.0}",
        "column \"ts\": cannot read \"1234567890123456789\" as timestamp");
    bad(&x, "-123,1", "{\"ts\":null,\"bid\":1.0}",
        "column \"ts\": cannot read \"-123\" as timestamp");
    rd_close(&x);
    /* A JSON string of digits reads as CSV's; a number stays seconds. */
    rd_open(&x, SL__REC_JSON, "ts timestamp", SL__PARSE_PERMISSIVE, false);
    good(&x, "{\"ts\":\"1704187800123\"}",
         "{\"ts\":\"2024-01-02T09:30:00.123Z\"}");
    good(&x, "{\"ts\":1704187800}", "{\"ts\":\"2024-01-02T09:30:00.000Z\"}");
    rd_close(&x);
}

/* header_optional: a line of the schema's column names (any case, in
 * order) is no record and not malformed, wherever it comes; anything
 * else like it is data. */
static void test_csv_header_optional(void)
{
    sl__rec_options o;
    rd x;
    char err[256] = "";

    memset(&x, 0, sizeof x);
    SL_CHECK_OK(sl_schema_parse("ts timestamp, bid double, ask double", &x.s,
                                err, sizeof err));
    sl__rec_options_init(&o);
    o.format = SL__REC_CSV;
    o.schema = x.s;
    o.header_optional = true;
    SL_CHECK_OK(sl__rec_reader_init(&x.r, &o, err, sizeof err));
    sl__arena_init(&x.a, 1024);
    SL_CHECK_INT(rd_line(&x, "ts,bid,ask"), SL_ENOTFOUND);
    good(&x, "1704187800123,1,2",
         "{\"ts\":\"2024-01-02T09:30:00.123Z\",\"bid\":1.0,\"ask\":2.0}");
    SL_CHECK_INT(rd_line(&x, "TS,Bid,ASK"), SL_ENOTFOUND); /* a 2nd client */
    bad(&x, "ts,bid", "{\"ts\":null,\"bid\":null,\"ask\":null}",
        "expected 3 columns, got 2");
    bad(&x, "ts,bid,ask,x", "{\"ts\":null,\"bid\":null,\"ask\":null}",
        "expected 3 columns, got 4");
    bad(&x, "ts,bid,asks", "{\"ts\":null,\"bid\":null,\"ask\":null}",
        "column \"ts\": cannot read \"ts\" as timestamp");
    SL_CHECK_INT(x.r.records, 4);
    SL_CHECK_INT(x.r.malformed, 3);
    rd_close(&x);
    /* Without it, the header line is a malformed row (as before). */
    rd_open(&x, SL__REC_CSV, "ts timestamp, bid double, ask double",
            SL__PARSE_PERMISSIVE, false);
    SL_CHECK_INT(rd_line(&x, "ts,bid,ask"), SL_OK);
    SL_CHECK(x.r.row_malformed);
    rd_close(&x);
}

/* ----------------------------------------------------------------- json */

static void test_json_fields(void)
{
    rd x;

    rd_open(&x, SL__REC_JSON, "a long, b double, c string",
            SL__PARSE_PERMISSIVE, false);
    /* By name, missing NULL, extra ignored, case-sensitive names. */
    good(&x, "{\"b\":2.5,\"a\":1,\"zz\":[1]}",
         "{\"a\":1,\"b\":2.5,\"c\":null}");
    good(&x, "{\"A\":1,\"C\":\"x\"}", "{\"a\":null,\"b\":null,\"c\":null}");
    good(&x, "{\"b\":3}", "{\"a\":null,\"b\":3.0,\"c\":null}");
    /* A repeated key: the last value. */
    good(&x, "{\"a\":1,\"a\":2}", "{\"a\":2,\"b\":null,\"c\":null}");
    /* Non-strings into a string column: their JSON text. */
    good(&x, "{\"c\":{\"x\":[1,true]}}",
         "{\"a\":null,\"b\":null,\"c\":\"{\\\"x\\\":[1,true]}\"}");
    good(&x, "{\"c\":12}", "{\"a\":null,\"b\":null,\"c\":\"12\"}");
    good(&x, "{\"a\":null,\"b\":null,\"c\":null}",
         "{\"a\":null,\"b\":null,\"c\":null}");
    SL_CHECK_INT(rd_line(&x, "{\"b\":\"-Infinity\"}"), SL_OK);
    SL_CHECK(x.row.u.items[1].u.d == -INFINITY);
    SL_CHECK_INT(rd_line(&x, "   "), SL_ENOTFOUND);
    SL_CHECK_INT(x.r.malformed, 0);
    rd_close(&x);
}

static void test_json_types(void)
{
    rd x;

    rd_open(&x, SL__REC_JSON,
            "t timestamp, f boolean, bin binary, tags array<string>, "
            "w struct<start: timestamp, `end`: timestamp>",
            SL__PARSE_PERMISSIVE, false);
    /* A number into a timestamp: seconds since the epoch, as Spark. */
    good(&x,
         "{\"t\":1704187800,\"f\":false,\"bin\":\"AQID\","
         "\"tags\":[\"a\",null,\"b\"],"
         "\"w\":{\"start\":\"2024-01-02T09:30:00Z\",\"end\":0}}",
         "{\"t\":\"2024-01-02T09:30:00.000Z\",\"f\":false,\"bin\":\"AQID\","
         "\"tags\":[\"a\",null,\"b\"],"
         "\"w\":{\"start\":\"2024-01-02T09:30:00.000Z\","
         "\"end\":\"1970-01-01T00:00:00.000Z\"}}");
    SL_CHECK_INT(x.row.u.items[2].kind, SL_KIND_BYTES);
    SL_CHECK_INT(x.row.u.items[2].len, 3);
    good(&x, "{\"t\":\"2024-01-02 09:30:00.123\",\"bin\":\"\",\"tags\":[]}",
         "{\"t\":\"2024-01-02T09:30:00.123Z\",\"f\":null,\"bin\":\"\","
         "\"tags\":[],\"w\":null}");
    rd_close(&x);
}

static void test_json_malformed(void)
{
    rd x;

    rd_open(&x, SL__REC_JSON, "a long, b string, _corrupt_record string",
            SL__PARSE_PERMISSIVE, false);
    /* A bad field: NULL, the others kept (Spark 3.0+). */
    bad(&x, "{\"a\":1.5,\"b\":\"x\"}",
        "{\"a\":null,\"b\":\"x\",\"_corrupt_record\":"
        "\"{\\\"a\\\":1.5,\\\"b\\\":\\\"x\\\"}\"}",
        "field \"a\": cannot read a number that is no long as long");
    bad(&x, "{\"a\":\"7\"}",
        "{\"a\":null,\"b\":null,\"_corrupt_record\":\"{\\\"a\\\":\\\"7\\\"}\"}",
        "field \"a\": cannot read a JSON string as long");
    /* No JSON, or no object: the whole row NULL. */
    bad(&x, "{\"a\":1",
        "{\"a\":null,\"b\":null,\"_corrupt_record\":\"{\\\"a\\\":1\"}",
        "invalid JSON at column 6");
    bad(&x, "[1,2]", "{\"a\":null,\"b\":null,\"_corrupt_record\":\"[1,2]\"}",
        "a JSON array where an object was expected");
    /* The record's own _corrupt_record field is no data. */
    good(&x, "{\"a\":1,\"_corrupt_record\":\"x\"}",
         "{\"a\":1,\"b\":null,\"_corrupt_record\":null}");
    rd_close(&x);

    rd_open(&x, SL__REC_JSON,
            "w struct<s: timestamp, n: long>, t timestamp, bin binary",
            SL__PARSE_PERMISSIVE, false);
    bad(&x, "{\"w\":{\"s\":\"soon\",\"n\":1},\"t\":1.5,\"bin\":\"A\"}",
        "{\"w\":null,\"t\":null,\"bin\":null}",
        "field \"w\": field \"s\": cannot read a string that is no timestamp "
        "as timestamp");
    bad(&x, "{\"bin\":\"*\"}", "{\"w\":null,\"t\":null,\"bin\":null}",
        "field \"bin\": cannot read a string that is not base64 as binary");
    rd_close(&x);

    rd_open(&x, SL__REC_JSON, "a long", SL__PARSE_DROP_MALFORMED, false);
    SL_CHECK_INT(rd_line(&x, "{\"a\":true}"), SL_EPARSE);
    SL_CHECK_STR(x.err, "field \"a\": cannot read a JSON boolean as long");
    SL_CHECK_INT(rd_line(&x, "nope"), SL_EPARSE);
    SL_CHECK(!x.r.fail);
    rd_close(&x);

    rd_open(&x, SL__REC_JSON, "a long", SL__PARSE_FAIL_FAST, false);
    SL_CHECK_INT(rd_line(&x, "{\"a\":[1]}"), SL_EPARSE);
    SL_CHECK(x.r.fail);
    SL_CHECK_INT(x.r.malformed, 1);
    rd_close(&x);
}

/* ------------------------------------------------------------ inference */

static void check_ddl(const sl_schema *s, const char *want)
{
    char *ddl = sl_schema_to_ddl(s);
    SL_CHECK_STR(ddl, want);
    sl_free(ddl);
}

static void test_infer_csv(void)
{
    sl__rec_options o;
    sl_schema *s = NULL;
    char err[256] = "";
    const char *h = "\xEF\xBB\xBF"
                    "a;;A;\"b;c\"";

    sl__rec_options_init(&o);
    o.format = SL__REC_CSV;
    o.separator = ';';
    SL_CHECK_OK(
        sl__rec_infer_csv_header(&o, h, strlen(h), &s, err, sizeof err));
    check_ddl(s, "a0 string, _c1 string, A2 string, `b;c` string");
    sl_schema_release(s);
    SL_CHECK_INT(sl__rec_infer_csv_header(&o, "a;\"b", 4, &s, err, sizeof err),
                 SL_EPARSE);
    SL_CHECK_STR(err, "malformed csv header: unterminated quoted field at "
                      "column 3 (a quoted field cannot span lines)");
}

static void test_infer_json(void)
{
    sl_schema *s = NULL;
    char err[256] = "";
    const char *j = "{\"z\":1,\"a\":1.5,\"m\":[1,2.5],\"e\":[],"
                    "\"s\":{\"y\":null,\"x\":true},\"n\":null,\"t\":\"x\"}";

    SL_CHECK_OK(sl__rec_infer_json(j, strlen(j), &s, err, sizeof err));
    check_ddl(s, "a double, e array<string>, m array<double>, n string, "
                 "s struct<x:boolean,y:string>, t string, z long");
    sl_schema_release(s);
    SL_CHECK_INT(sl__rec_infer_json("[1]", 3, &s, err, sizeof err), SL_EPARSE);
    SL_CHECK_STR(err, "json: first record: a JSON array where an object "
                      "was expected");
    SL_CHECK_INT(
        sl__rec_infer_json("{\"a\":1,\"A\":2}", 13, &s, err, sizeof err),
        SL_EPARSE);
}

/* ------------------------------------------------------------- printers */

/* Rows read from CSV text through the typed reader. */
static size_t csv_rows(rd *x, const char *const *lines, sl_value *rows)
{
    size_t n = 0;

    for (; *lines; lines++) {
        SL_CHECK_INT(rd_line(x, *lines), SL_OK);
        rows[n++] = x->row;
    }
    return n;
}

static void check_out(sl__buf *b, const char *want)
{
    char *got = sl_malloc(b->len + 1);
    memcpy(got, b->data ? b->data : "", b->len);
    got[b->len] = '\0';
    SL_CHECK_STR(got, want);
    sl_free(got);
    b->len = 0;
}

static const char *const show_lines[] = {
    "1,0.5,true,hello,2024-01-02 09:30:00.123",
    "-42,,false,a string of more than twenty characters,",
    "7,1e-5,,héllo wörld ünïcode text ok,1970-01-01", NULL};

static void test_put_table(void)
{
    sl_value rows[4];
    sl__buf b = {0};
    rd x;
    size_t n;

    rd_open(&x, SL__REC_CSV,
            "n long, d double, ok boolean, s string, ts "
            "timestamp",
            SL__PARSE_FAIL_FAST, false);
    n = csv_rows(&x, show_lines, rows);
    SL_CHECK_OK(sl__rows_put_table(&b, x.s, rows, n, 20));
    /* Spark 3.5's show(): right-aligned, NULL, cut at 17 + "...",
     * padding by characters (é is one). */
    check_out(&b,
              "+---+------+-----+--------------------+--------------------+\n"
              "|  n|     d|   ok|                   s|                  ts|\n"
              "+---+------+-----+--------------------+--------------------+\n"
              "|  1|   0.5| true|               hello|2024-01-02 09:30:...|\n"
              "|-42|  NULL|false|a string of more ...|                NULL|\n"
              "|  7|1.0E-5| NULL|héllo wörld ünïco...| 1970-01-01 00:00:00|\n"
              "+---+------+-----+--------------------+--------------------+\n");
    SL_CHECK_OK(sl__rows_put_table(&b, x.s, rows, n, 1));
    check_out(&b, "+---+---+----+-----+--------------------+\n"
                  "|  n|  d|  ok|    s|                  ts|\n"
                  "+---+---+----+-----+--------------------+\n"
                  "|  1|0.5|true|hello|2024-01-02 09:30:...|\n"
                  "+---+---+----+-----+--------------------+\n"
                  "only showing top 1 row\n");
    SL_CHECK_OK(sl__rows_put_table(&b, x.s, rows, 0, 20));
    check_out(&b, "+---+---+---+---+---+\n"
                  "|  n|  d| ok|  s| ts|\n"
                  "+---+---+---+---+---+\n"
                  "+---+---+---+---+---+\n");
    sl__buf_free(&b);
    rd_close(&x);
}

static void test_put_table_wide_header(void)
{
    sl_value rows[2];
    sl__buf b = {0};
    rd x;
    static const char *const lines[] = {"x", "ü", NULL};

    rd_open(&x, SL__REC_CSV, "`a column name that is long` string",
            SL__PARSE_FAIL_FAST, false);
    SL_CHECK_OK(
        sl__rows_put_table(&b, x.s, rows, csv_rows(&x, lines, rows), 20));
    check_out(&b, "+--------------------+\n"
                  "|a column name tha...|\n"
                  "+--------------------+\n"
                  "|                   x|\n"
                  "|                   ü|\n"
                  "+--------------------+\n");
    sl__buf_free(&b);
    rd_close(&x);
}

static void test_put_json_and_csv(void)
{
    sl_value rows[4];
    sl__buf b = {0};
    rd x;
    size_t n;
    static const char *const lines[] = {
        "{\"n\":1,\"s\":\"a,b\",\"t\":0,\"tags\":[\"x\",null],"
        "\"w\":{\"lo\":1.5,\"hi\":null}}",
        "{\"s\":\"say \\\"hi\\\"\\nbye\",\"bin\":\"AQI=\"}", "{\"s\":\"\"}",
        NULL};

    rd_open(&x, SL__REC_JSON,
            "n long, s string, t timestamp, tags array<string>, "
            "w struct<lo: double, hi: double>, bin binary",
            SL__PARSE_FAIL_FAST, false);
    n = csv_rows(&x, lines, rows);
    SL_CHECK_OK(sl__rows_put(&b, SL__ROWS_JSON, x.s, rows, n));
    check_out(&b, "{\"n\":1,\"s\":\"a,b\",\"t\":\"1970-01-01T00:00:00.000Z\","
                  "\"tags\":[\"x\",null],\"w\":{\"lo\":1.5,\"hi\":null},"
                  "\"bin\":null}\n"
                  "{\"n\":null,\"s\":\"say \\\"hi\\\"\\nbye\",\"t\":null,"
                  "\"tags\":null,\"w\":null,\"bin\":\"AQI=\"}\n"
                  "{\"n\":null,\"s\":\"\",\"t\":null,\"tags\":null,"
                  "\"w\":null,\"bin\":null}\n");
    SL_CHECK_OK(sl__rows_put(&b, SL__ROWS_CSV, x.s, rows, n));
    /* NULL empty, "" for an empty string, quotes where needed, arrays
     * and structs as their text, quoted. */
    check_out(&b, "n,s,t,tags,w,bin\n"
                  "1,\"a,b\",1970-01-01 00:00:00,\"[x, null]\",\"{1.5, null}\","
                  "\n"
                  ",\"say \"\"hi\"\"\nbye\",,,,[01 02]\n"
                  ",\"\",,,,\n");
    SL_CHECK_OK(sl__rows_put_csv(&b, x.s, rows, 1, false));
    check_out(&b,
              "1,\"a,b\",1970-01-01 00:00:00,\"[x, null]\",\"{1.5, null}\",\n");
    sl__buf_free(&b);
    rd_close(&x);
}

static void test_format_names(void)
{
    sl__row_format f = SL__ROWS_TABLE;

    SL_CHECK_OK(sl__row_format_parse("csv", &f));
    SL_CHECK_INT(f, SL__ROWS_CSV);
    SL_CHECK_OK(sl__row_format_parse("json", &f));
    SL_CHECK_INT(f, SL__ROWS_JSON);
    SL_CHECK_INT(sl__row_format_parse("Table", &f), SL_EPARSE);
    SL_CHECK_STR(sl__row_format_name(SL__ROWS_TABLE), "table");
}

const char *SL_SUITE = "core_rows";
const sl_test_case SL_TESTS[] = {
    {"mode_names", test_mode_names},
    {"options_check", test_options_check},
    {"csv_schema_and_columns", test_csv_schema_and_columns},
    {"lines", test_lines},
    {"csv_types", test_csv_types},
    {"csv_numbers", test_csv_numbers},
    {"csv_doubles_exact", test_csv_doubles_exact},
    {"csv_corrupt_record", test_csv_corrupt_record},
    {"csv_without_corrupt_column", test_csv_without_corrupt_column},
    {"csv_drop_and_fail", test_csv_drop_and_fail},
    {"csv_header_and_blank", test_csv_header_and_blank},
    {"csv_epoch_ms", test_csv_epoch_ms},
    {"csv_header_optional", test_csv_header_optional},
    {"json_fields", test_json_fields},
    {"json_types", test_json_types},
    {"json_malformed", test_json_malformed},
    {"infer_csv", test_infer_csv},
    {"infer_json", test_infer_json},
    {"put_table", test_put_table},
    {"put_table_wide_header", test_put_table_wide_header},
    {"put_json_and_csv", test_put_json_and_csv},
    {"format_names", test_format_names},
    {NULL, NULL},
};
