/*
 * Unit tests of src/core/records.c: the lines, JSON-lines and CSV readers
 * (every kind of value, quoting, headers and given columns, and malformed
 * input of every kind with its exact message), and the dead-letter file
 * (exact content, appending, four threads writing at once).
 */
#include <cJSON.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sluice/core.h>

#include "core/core.h"
#include "core/records.h"
#include "sl_test.h"
#include "sl_test_util.h"

/* ------------------------------------------------------------ helpers */

/* v as unambiguous text: T(...) tuples, P(k,v) pairs, L[...] lists,
 * strings quoted with bytes outside printable ASCII as \xNN, doubles with
 * a "d" suffix. */
static void show(const sl_value *v, sl_test_buf *b)
{
    uint32_t i;

    switch (v->kind) {
    case SL_KIND_NULL:
        sl_test_buf_puts(b, "null");
        break;
    case SL_KIND_BOOL:
        sl_test_buf_puts(b, v->u.b ? "true" : "false");
        break;
    case SL_KIND_INT:
        sl_test_buf_printf(b, "%lld", (long long)v->u.i);
        break;
    case SL_KIND_DOUBLE:
        sl_test_buf_printf(b, "%.17gd", v->u.d);
        break;
    case SL_KIND_STR:
        sl_test_buf_puts(b, "\"");
        for (i = 0; i < v->len; i++) {
            unsigned char c = (unsigned char)v->u.s[i];
            if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
                sl_test_buf_put(b, (const char *)&c, 1);
            else
                sl_test_buf_printf(b, "\\x%02x", c);
        }
        sl_test_buf_puts(b, "\"");
        break;
    case SL_KIND_BYTES:
        sl_test_buf_printf(b, "bytes[%u]", v->len);
        break;
    case SL_KIND_PAIR:
    case SL_KIND_TUPLE:
    case SL_KIND_LIST:
        sl_test_buf_puts(b, v->kind == SL_KIND_PAIR    ? "P("
                            : v->kind == SL_KIND_TUPLE ? "T("
                                                       : "L[");
        for (i = 0; i < v->len; i++) {
            if (i)
                sl_test_buf_puts(b, ",");
            show(&v->u.items[i], b);
        }
        sl_test_buf_puts(b, v->kind == SL_KIND_LIST ? "]" : ")");
        break;
    default:
        sl_test_buf_printf(b, "kind%u?", v->kind);
    }
}

/* A reader for a format with default options (CSV: ',' and '"'). */
static void open_reader(sl__rec_reader *r, sl__rec_format f)
{
    sl__rec_options o;

    sl__rec_options_init(&o);
    o.format = f;
    SL_CHECK_OK(sl__rec_reader_init(r, &o, NULL, 0));
}

/* Parse [text, text + len) with r into an arena and return the record
 * shown, or "<status>: <err>" when it failed (the caller frees). */
static char *parse_text(sl__rec_reader *r, const char *text, size_t len)
{
    sl__arena a;
    sl_test_buf b = {0};
    sl_value v;
    char err[256] = "";
    sl_status st;

    sl__arena_init(&a, 256);
    st = sl__rec_parse(r, text, len, sl__rec_arena_alloc, &a, &v, err,
                       sizeof err);
    if (st == SL_OK)
        show(&v, &b);
    else
        sl_test_buf_printf(&b, "%s: %s", sl_errname(st), err);
    sl__arena_free(&a);
    return sl_test_buf_take(&b);
}

static void check_parse(int line, sl__rec_reader *r, const char *text,
                        size_t len, const char *want)
{
    char *got = parse_text(r, text, len);

    if (strcmp(got, want) != 0)
        sl_test_fail(__FILE__, line, "got %s, want %s", got, want);
    else
        CU_PASS(want);
    free(got);
}

/* PARSE(r, "literal", "T(\"a\")"), or "SL_EPARSE: why" for a refusal. */
#define PARSE(r, lit, want) check_parse(__LINE__, r, lit, sizeof lit - 1, want)

/* ------------------------------------------------- formats and options */

static void test_format_names(void)
{
    sl__rec_format f = SL__REC_CSV;

    SL_CHECK_OK(sl__rec_format_parse("lines", &f));
    SL_CHECK_INT(f, SL__REC_LINES);
    SL_CHECK_OK(sl__rec_format_parse("json", &f));
    SL_CHECK_INT(f, SL__REC_JSON);
    SL_CHECK_OK(sl__rec_format_parse("csv", &f));
    SL_CHECK_INT(f, SL__REC_CSV);
    SL_CHECK_INT(sl__rec_format_parse("CSV", &f), SL_EPARSE);
    SL_CHECK_INT(sl__rec_format_parse("jsonl", &f), SL_EPARSE);
    SL_CHECK_INT(sl__rec_format_parse("", &f), SL_EPARSE);
    SL_CHECK_INT(sl__rec_format_parse("csv ", &f), SL_EPARSE);
    SL_CHECK_INT(f, SL__REC_CSV); /* untouched on failure */
    SL_CHECK_STR(sl__rec_format_name(SL__REC_LINES), "lines");
    SL_CHECK_STR(sl__rec_format_name(SL__REC_JSON), "json");
    SL_CHECK_STR(sl__rec_format_name(SL__REC_CSV), "csv");
}

static void check_options(int line, const sl__rec_options *o, const char *want)
{
    sl__rec_reader r;
    char err[128] = "";
    sl_status st = sl__rec_reader_init(&r, o, err, sizeof err);

    if (st != SL_EINVAL || strcmp(err, want) != 0)
        sl_test_fail(__FILE__, line, "status %d \"%s\", want EINVAL \"%s\"",
                     (int)st, err, want);
    else
        CU_PASS(want);
}

static void test_options(void)
{
    static const char *const names[] = {"a", NULL};
    sl__rec_options o;
    sl__rec_reader r;

    sl__rec_options_init(&o);
    SL_CHECK_INT(o.format, SL__REC_LINES);
    SL_CHECK_INT(o.separator, ',');
    SL_CHECK_INT(o.quote, '"');
    SL_CHECK(!o.header && o.columns == NULL && o.ncolumns == 0);
    /* CSV fields are not checked for other formats. */
    o.separator = '"';
    SL_CHECK_OK(sl__rec_options_check(&o, NULL, 0));
    o.format = SL__REC_CSV;
    check_options(__LINE__, &o, "csv separator and quote must differ");
    o.separator = '\n';
    check_options(__LINE__, &o, "csv separator may not be NUL, CR or LF");
    o.separator = '\0';
    check_options(__LINE__, &o, "csv separator may not be NUL, CR or LF");
    o.separator = ',';
    o.quote = '\r';
    check_options(__LINE__, &o, "csv quote may not be CR or LF");
    o.quote = '"';
    o.header = true;
    o.columns = names;
    o.ncolumns = 1;
    check_options(__LINE__, &o,
                  "csv: a header and given columns exclude each other");
    o.header = false;
    o.ncolumns = 2;
    check_options(__LINE__, &o, "csv: column name 2 is missing");
    o.format = (sl__rec_format)7;
    check_options(__LINE__, &o, "unknown record format");
    o.format = SL__REC_CSV;
    o.ncolumns = 1;
    SL_CHECK_OK(sl__rec_reader_init(&r, &o, NULL, 0));
    sl__rec_reader_free(&r);
    sl__rec_reader_free(NULL);
}

/* -------------------------------------------------------------- lines */

static void test_lines(void)
{
    static const char text[] = "hello\0wor\xff\xfeld";
    sl__rec_reader r;
    sl_value v;
    char *shown;

    open_reader(&r, SL__REC_LINES);
    PARSE(&r, "hello world", "\"hello world\"");
    PARSE(&r, "", "\"\"");
    PARSE(&r, "  spaced\t", "\"  spaced\\x09\"");
    PARSE(&r, "a,\"b", "\"a,\\x22b\""); /* nothing is interpreted */
    PARSE(&r, "\xef\xbb\xbfx", "\"\\xef\\xbb\\xbfx\""); /* BOM kept */
    shown = parse_text(&r, text, sizeof text - 1);      /* NUL, bad UTF-8 */
    SL_CHECK_STR(shown, "\"hello\\x00wor\\xff\\xfeld\"");
    free(shown);
    /* A view into the line: no copy, no allocation. */
    SL_CHECK_OK(sl__rec_parse(&r, text, 5, NULL, NULL, &v, NULL, 0));
    SL_CHECK(v.kind == SL_KIND_STR && v.u.s == text && v.len == 5);
    SL_CHECK_INT(r.lines, 7);
    SL_CHECK_INT(r.records, 7);
    SL_CHECK_INT(r.malformed, 0);
    sl__rec_reader_free(&r);
}

/* ---------------------------------------------------------------- csv */

static void test_csv_fields(void)
{
    sl__rec_reader r;

    open_reader(&r, SL__REC_CSV);
    PARSE(&r, "a,b,c", "T(\"a\",\"b\",\"c\")");
    PARSE(&r, "\"x,y\",\"he said \"\"hi\"\"\",z", /* separators, quotes */
          "T(\"x,y\",\"he said \\x22hi\\x22\",\"z\")");
    PARSE(&r, ",,", "T(\"\",\"\",\"\")");   /* empty fields */
    PARSE(&r, "\"\",\"\"\"\",\"\"\"\"\"\"", /* "", """" and """""" */
          "T(\"\",\"\\x22\",\"\\x22\\x22\")");
    PARSE(&r, " a , b ,c ", "T(\" a \",\" b \",\"c \")"); /* spaces kept */
    PARSE(&r, "a,b,", "T(\"a\",\"b\",\"\")"); /* trailing separator */
    PARSE(&r, "\"a\nb\",c,d",
          "SL_EPARSE: quoted field contains a newline "
          "at column 3");
    PARSE(&r, "'q',\"\",\"\t\"", "T(\"'q'\",\"\",\"\\x09\")");
    SL_CHECK_INT(r.records, 7);
    SL_CHECK_INT(r.malformed, 1);
    sl__rec_reader_free(&r);
}

/* Fields are views into the line unless they had doubled quotes. */
static void test_csv_views(void)
{
    static const char line[] = "plain,\"quoted\",\"dou\"\"bled\"";
    sl__rec_reader r;
    sl__arena a;
    sl_value v;

    open_reader(&r, SL__REC_CSV);
    sl__arena_init(&a, 256);
    SL_CHECK_OK(sl__rec_parse(&r, line, sizeof line - 1, sl__rec_arena_alloc,
                              &a, &v, NULL, 0));
    SL_CHECK_INT(v.kind, SL_KIND_TUPLE);
    SL_CHECK_INT(v.len, 3);
    SL_CHECK(sl__arena_owns(&a, v.u.items));
    SL_CHECK(v.u.items[0].u.s == line);
    SL_CHECK(v.u.items[1].u.s == line + 7);
    SL_CHECK(sl__arena_owns(&a, v.u.items[2].u.s));
    SL_CHECK(v.u.items[2].len == 8 &&
             !memcmp(v.u.items[2].u.s, "dou\"bled", 8));
    sl__arena_free(&a);
    sl__rec_reader_free(&r);
}

static void test_csv_custom(void)
{
    sl__rec_options o;
    sl__rec_reader r;

    sl__rec_options_init(&o);
    o.format = SL__REC_CSV;
    o.separator = ';';
    SL_CHECK_OK(sl__rec_reader_init(&r, &o, NULL, 0));
    PARSE(&r, "a;b,c;\"d;e\"", "T(\"a\",\"b,c\",\"d;e\")");
    PARSE(&r, "a,b,c", "SL_EPARSE: expected 3 columns, got 1");
    sl__rec_reader_free(&r);

    o.separator = '\t';
    SL_CHECK_OK(sl__rec_reader_init(&r, &o, NULL, 0));
    PARSE(&r, "a b\t\"c\td\"\t", "T(\"a b\",\"c\\x09d\",\"\")");
    sl__rec_reader_free(&r);

    o.separator = ',';
    o.quote = '\'';
    SL_CHECK_OK(sl__rec_reader_init(&r, &o, NULL, 0));
    PARSE(&r, "'a,b','it''s',\"c\"", "T(\"a,b\",\"it's\",\"\\x22c\\x22\")");
    PARSE(&r, "x,y'z,w",
          "SL_EPARSE: stray quote in unquoted field at "
          "column 4");
    sl__rec_reader_free(&r);

    o.quote = '\0'; /* no quoting at all */
    SL_CHECK_OK(sl__rec_reader_init(&r, &o, NULL, 0));
    PARSE(&r, "\"a,b\",'c", "T(\"\\x22a\",\"b\\x22\",\"'c\")");
    sl__rec_reader_free(&r);
}

static void test_csv_column_count(void)
{
    sl__rec_reader r;
    const char *const *names = NULL;

    open_reader(&r, SL__REC_CSV);
    SL_CHECK_INT(sl__rec_columns(&r, &names), 0);
    /* A malformed first line does not fix the count... */
    PARSE(&r, "a,\"b",
          "SL_EPARSE: unterminated quoted field at column 3 (a "
          "quoted field cannot span lines)");
    SL_CHECK_INT(sl__rec_columns(&r, &names), 0);
    /* ...the first record does. */
    PARSE(&r, "1,2,3", "T(\"1\",\"2\",\"3\")");
    SL_CHECK_INT(sl__rec_columns(&r, &names), 3);
    SL_CHECK(names == NULL);
    PARSE(&r, "1,2,3,4", "SL_EPARSE: expected 3 columns, got 4");
    PARSE(&r, "1,2", "SL_EPARSE: expected 3 columns, got 2");
    PARSE(&r, "", "SL_EPARSE: expected 3 columns, got 1");
    PARSE(&r, "1,2,\"3,4\"", "T(\"1\",\"2\",\"3,4\")");
    SL_CHECK_INT(r.lines, 6);
    SL_CHECK_INT(r.records, 2);
    SL_CHECK_INT(r.malformed, 4);
    sl__rec_reader_free(&r);
}

static void test_csv_empty_line(void)
{
    sl__rec_reader r;

    /* With no count fixed, an empty line is one empty field... */
    open_reader(&r, SL__REC_CSV);
    PARSE(&r, "", "T(\"\")");
    PARSE(&r, "a", "T(\"a\")");
    PARSE(&r, "a,b", "SL_EPARSE: expected 1 columns, got 2");
    sl__rec_reader_free(&r);
    /* ...and after a wider first record it is malformed. */
    open_reader(&r, SL__REC_CSV);
    PARSE(&r, "a,b", "T(\"a\",\"b\")");
    PARSE(&r, "", "SL_EPARSE: expected 2 columns, got 1");
    sl__rec_reader_free(&r);
}

/* Separators and stray quotes at every offset of long fields (the
 * reader looks for them eight bytes at a time), bytes >= 0x80 around. */
static void test_csv_long_fields(void)
{
    sl__rec_reader r;
    char line[64], want[128], *shown;

    open_reader(&r, SL__REC_CSV);
    for (int n = 0; n <= 24; n++) {
        memset(line, 'x', 25);
        line[n] = ',';
        line[25] = '\xff';
        snprintf(want, sizeof want, "T(\"%.*s\",\"%.*s\\xff\")", n, line,
                 24 - n, line + n + 1);
        shown = parse_text(&r, line, 26);
        SL_CHECK_STR(shown, want);
        free(shown);
        line[n] = '"';
        snprintf(want, sizeof want,
                 "SL_EPARSE: stray quote in unquoted field at column %d",
                 n + 1);
        if (n > 0) {
            shown = parse_text(&r, line, 26);
            SL_CHECK_STR(shown, want);
            free(shown);
        }
    }
    sl__rec_reader_free(&r);
}

static void test_csv_malformed(void)
{
    sl__rec_reader r;

    open_reader(&r, SL__REC_CSV);
    PARSE(&r, "\"abc",
          "SL_EPARSE: unterminated quoted field at column 1 (a "
          "quoted field cannot span lines)");
    PARSE(&r, "\"",
          "SL_EPARSE: unterminated quoted field at column 1 (a "
          "quoted field cannot span lines)");
    PARSE(&r, "\"a\"\"",
          "SL_EPARSE: unterminated quoted field at column 1 "
          "(a quoted field cannot span lines)");
    PARSE(&r, "ab\"c", "SL_EPARSE: stray quote in unquoted field at column 3");
    PARSE(&r, "ab\"", "SL_EPARSE: stray quote in unquoted field at column 3");
    PARSE(&r, "a, \"b\"", /* a space before the quote: unquoted */
          "SL_EPARSE: stray quote in unquoted field at column 4");
    PARSE(&r, "\"a\"b",
          "SL_EPARSE: unexpected character after a closing "
          "quote at column 4");
    PARSE(&r, "\"a\" ,b",
          "SL_EPARSE: unexpected character after a closing "
          "quote at column 4");
    /* A record whose quoted field holds a newline, read line by line:
     * both halves are malformed. */
    PARSE(&r, "1,\"hello",
          "SL_EPARSE: unterminated quoted field at column 3 "
          "(a quoted field cannot span lines)");
    PARSE(&r, "world\",2",
          "SL_EPARSE: stray quote in unquoted field at "
          "column 6");
    SL_CHECK_INT(r.malformed, 10);
    SL_CHECK_INT(r.records, 0);
    SL_CHECK_INT(sl__rec_columns(&r, &(const char *const *){NULL}), 0);
    sl__rec_reader_free(&r);
}

static void test_csv_bytes(void)
{
    static const char nul[] = "a\0b,\"c\0\"";
    static const char bad_utf8[] = "\xff\xfe,\"\xc3\x28\",caf\xc3\xa9";
    sl__rec_reader r;
    char *shown;

    open_reader(&r, SL__REC_CSV);
    shown = parse_text(&r, nul, sizeof nul - 1);
    SL_CHECK_STR(shown, "T(\"a\\x00b\",\"c\\x00\")");
    free(shown);
    sl__rec_reader_free(&r);
    open_reader(&r, SL__REC_CSV);
    shown = parse_text(&r, bad_utf8, sizeof bad_utf8 - 1);
    SL_CHECK_STR(shown, "T(\"\\xff\\xfe\",\"\\xc3(\",\"caf\\xc3\\xa9\")");
    free(shown);
    /* A lone CR inside a line is an ordinary byte. */
    PARSE(&r, "a\rb,\"c\rd\",e", "T(\"a\\x0db\",\"c\\x0dd\",\"e\")");
    sl__rec_reader_free(&r);
}

static sl__rec_reader csv_header_reader(void)
{
    sl__rec_options o;
    sl__rec_reader r;

    sl__rec_options_init(&o);
    o.format = SL__REC_CSV;
    o.header = true;
    SL_CHECK_OK(sl__rec_reader_init(&r, &o, NULL, 0));
    return r;
}

static void test_csv_header(void)
{
    sl__rec_reader r = csv_header_reader();
    const char *const *names = NULL;
    size_t n;

    PARSE(&r, "\xef\xbb\xbfid,\"full, name\",\"a \"\"q\"\"\",",
          "SL_ENOTFOUND: ");
    n = sl__rec_columns(&r, &names);
    SL_CHECK_INT(n, 4);
    if (n == 4 && names) {
        SL_CHECK_STR(names[0], "id"); /* the byte order mark dropped */
        SL_CHECK_STR(names[1], "full, name");
        SL_CHECK_STR(names[2], "a \"q\"");
        SL_CHECK_STR(names[3], "");
    }
    PARSE(&r, "id,name,q,x", "T(\"id\",\"name\",\"q\",\"x\")"); /* data */
    PARSE(&r, "1,2,3", "SL_EPARSE: expected 4 columns, got 3");
    PARSE(&r, "\xef\xbb\xbf,,,", "T(\"\\xef\\xbb\\xbf\",\"\",\"\",\"\")");
    SL_CHECK_INT(r.lines, 4);
    SL_CHECK_INT(r.records, 2);
    SL_CHECK_INT(r.malformed, 1);
    sl__rec_reader_free(&r);

    /* A header of one column. */
    r = csv_header_reader();
    PARSE(&r, "only", "SL_ENOTFOUND: ");
    PARSE(&r, "", "T(\"\")");
    PARSE(&r, "x", "T(\"x\")");
    SL_CHECK_INT(sl__rec_columns(&r, &names), 1);
    sl__rec_reader_free(&r);
}

static void test_csv_bad_header(void)
{
    static const char nul[] = "a,b\0c";
    sl__rec_reader r = csv_header_reader();
    const char *const *names = NULL;
    char *shown;

    PARSE(&r, "a,\"b",
          "SL_EPARSE: malformed header: unterminated quoted "
          "field at column 3 (a quoted field cannot span lines)");
    PARSE(&r, "1,2", "SL_EPARSE: no columns: the header line was malformed");
    PARSE(&r, "a,b", "SL_EPARSE: no columns: the header line was malformed");
    SL_CHECK_INT(r.malformed, 3);
    SL_CHECK_INT(sl__rec_columns(&r, &names), 0);
    sl__rec_reader_free(&r);

    r = csv_header_reader();
    PARSE(&r, "", "SL_EPARSE: malformed header: empty header line");
    sl__rec_reader_free(&r);

    r = csv_header_reader();
    shown = parse_text(&r, nul, sizeof nul - 1);
    SL_CHECK_STR(shown, "SL_EPARSE: malformed header: NUL byte in the header");
    free(shown);
    sl__rec_reader_free(&r);

    r = csv_header_reader();
    PARSE(&r, "a,b\"",
          "SL_EPARSE: malformed header: stray quote in unquoted "
          "field at column 4");
    sl__rec_reader_free(&r);
}

/* Each file has its reader, and each reader reads its own header. */
static void test_csv_header_per_file(void)
{
    sl__rec_reader one = csv_header_reader(), two = csv_header_reader();
    const char *const *names = NULL;

    PARSE(&one, "a,b", "SL_ENOTFOUND: ");
    PARSE(&one, "1,2", "T(\"1\",\"2\")");
    PARSE(&two, "x,y,z", "SL_ENOTFOUND: ");
    PARSE(&two, "1,2,3", "T(\"1\",\"2\",\"3\")");
    PARSE(&one, "x,y,z", "SL_EPARSE: expected 2 columns, got 3");
    SL_CHECK_INT(sl__rec_columns(&two, &names), 3);
    if (names)
        SL_CHECK_STR(names[2], "z");
    sl__rec_reader_free(&one);
    sl__rec_reader_free(&two);
}

static void test_csv_given_columns(void)
{
    char first[] = "first";
    const char *cols[] = {first, "second", ""};
    const char *const *names = NULL;
    sl__rec_options o;
    sl__rec_reader r;

    sl__rec_options_init(&o);
    o.format = SL__REC_CSV;
    o.columns = cols;
    o.ncolumns = 3;
    SL_CHECK_OK(sl__rec_reader_init(&r, &o, NULL, 0));
    first[0] = 'X'; /* the reader keeps copies */
    cols[1] = "changed";
    SL_CHECK_INT(sl__rec_columns(&r, &names), 3);
    if (names) {
        SL_CHECK_STR(names[0], "first");
        SL_CHECK_STR(names[1], "second");
        SL_CHECK_STR(names[2], "");
    }
    /* No header: the first line is data, and the count is given. */
    PARSE(&r, "a,b", "SL_EPARSE: expected 3 columns, got 2");
    PARSE(&r, "first,second,", "T(\"first\",\"second\",\"\")");
    SL_CHECK_INT(r.malformed, 1);
    sl__rec_reader_free(&r);
}

/* --------------------------------------------------------------- json */

static void test_json_scalars(void)
{
    sl__rec_reader r;

    open_reader(&r, SL__REC_JSON);
    PARSE(&r, "null", "null");
    PARSE(&r, "true", "true");
    PARSE(&r, " false ", "false");
    PARSE(&r, "0", "0");
    PARSE(&r, "-17", "-17");
    PARSE(&r, "1.5", "1.5d");
    PARSE(&r, "-0.25e1", "-2.5d");
    PARSE(&r, "1e2", "100"); /* no fraction part: an int */
    PARSE(&r, "1.0", "1");   /* by value, not by spelling */
    PARSE(&r, "\"\"", "\"\"");
    PARSE(&r, "\"caf\\u00e9 \\\"q\\\" \\\\ \\/ \\n\\t\"",
          "\"caf\\xc3\\xa9 \\x22q\\x22 \\x5c / \\x0a\\x09\"");
    PARSE(&r, "\"\\ud83d\\ude00\"", "\"\\xf0\\x9f\\x98\\x80\""); /* U+1F600 */
    PARSE(&r, "\"tab\there\"", "\"tab\\x09here\""); /* a raw tab, tolerated */
    PARSE(&r, "\t\r 42 \r", "42");
    SL_CHECK_INT(r.records, 14);
    sl__rec_reader_free(&r);
}

static void test_json_numbers(void)
{
    sl__rec_reader r;
    char *line, *shown;

    open_reader(&r, SL__REC_JSON);
    PARSE(&r, "9007199254740991", "9007199254740991"); /* 2^53 - 1 */
    PARSE(&r, "-9007199254740991", "-9007199254740991");
    /* From 2^53 on, a double may stand for several integers. */
    PARSE(&r, "9007199254740992", "9007199254740992d");
    PARSE(&r, "9007199254740993", "9007199254740992d");
    PARSE(&r, "123456789012345678901234567890", "1.2345678901234568e+29d");
    PARSE(&r, "1.7976931348623157e308", "1.7976931348623157e+308d");
    PARSE(&r, "1e400", "SL_EPARSE: number out of the range of a double");
    PARSE(&r, "[1,-1e400]", "SL_EPARSE: number out of the range of a double");
    PARSE(&r, "1e-400", "0"); /* underflows to 0, which is integral */
    PARSE(&r, "5e-324", "4.9406564584124654e-324d");
    PARSE(&r, "-0", "0");
    /* Long numbers are read whole (cJSON 1.7.15 copies them to the
     * heap), and refused only when out of range. */
    PARSE(&r,
          "1000000000000000000000000000000000000000000000000000000000000"
          "00000000",
          "9.9999999999999995e+67d");
    line = malloc(401);
    memset(line, '9', 400);
    shown = parse_text(&r, line, 400);
    SL_CHECK_STR(shown, "SL_EPARSE: number out of the range of a double");
    free(shown);
    free(line);
    SL_CHECK_INT(r.malformed, 3);
    sl__rec_reader_free(&r);
}

static void test_json_composites(void)
{
    sl__rec_reader r;

    open_reader(&r, SL__REC_JSON);
    PARSE(&r, "[]", "L[]");
    PARSE(&r, "[1]", "L[1]");
    PARSE(&r, "[\"k\", 2]", "P(\"k\",2)"); /* an array of 2 is a pair */
    PARSE(&r, "[1,2,3]", "L[1,2,3]");
    PARSE(&r, "{}", "L[]");
    PARSE(&r, "{\"b\":1,\"a\":[true,null],\"c\":{\"d\":\"e\"}}",
          "L[P(\"b\",1),P(\"a\",P(true,null)),P(\"c\",L[P(\"d\",\"e\")])]");
    PARSE(&r, "{\"k\":1,\"k\":2}", "L[P(\"k\",1),P(\"k\",2)]"); /* both */
    PARSE(&r, "{\"\":\"\"}", "L[P(\"\",\"\")]");
    PARSE(&r, "[[],{},[[1,2]],[1.5,\"x\",false]]",
          "L[L[],L[],L[P(1,2)],L[1.5d,\"x\",false]]");
    PARSE(&r, " [ 1 , { \"a\" : [ ] } ] ", "P(1,L[P(\"a\",L[])])");
    sl__rec_reader_free(&r);
}

/* Strings and items are copies in the caller's memory: the record lives
 * on after the line is gone. */
static void test_json_copies(void)
{
    char line[] = "{\"key\":\"value\"}";
    sl__rec_reader r;
    sl__arena a;
    sl_test_buf b = {0};
    sl_value v;

    open_reader(&r, SL__REC_JSON);
    sl__arena_init(&a, 64);
    SL_CHECK_OK(sl__rec_parse(&r, line, strlen(line), sl__rec_arena_alloc, &a,
                              &v, NULL, 0));
    memset(line, 'X', sizeof line - 1);
    SL_CHECK(sl__arena_owns(&a, v.u.items));
    SL_CHECK(sl__arena_owns(&a, v.u.items[0].u.items[0].u.s));
    show(&v, &b);
    SL_CHECK_STR(sl_test_buf_str(&b), "L[P(\"key\",\"value\")]");
    sl_test_buf_free(&b);
    sl__arena_free(&a);
    sl__rec_reader_free(&r);
}

static void test_json_malformed(void)
{
    static const char nul[] = "{\"a\":\"b\0c\"}";
    sl__rec_reader r;
    char *shown;

    open_reader(&r, SL__REC_JSON);
    PARSE(&r, "", "SL_EPARSE: empty line");
    PARSE(&r, " \t ", "SL_EPARSE: empty line");
    PARSE(&r, "{", "SL_EPARSE: invalid JSON at column 1");
    PARSE(&r, "[1,2", "SL_EPARSE: invalid JSON at column 4");
    PARSE(&r, "{\"a\":}", "SL_EPARSE: invalid JSON at column 6");
    PARSE(&r, "{a:1}", "SL_EPARSE: invalid JSON at column 3");
    PARSE(&r, "tru", "SL_EPARSE: invalid JSON at column 1");
    PARSE(&r, "'a'", "SL_EPARSE: invalid JSON at column 1");
    PARSE(&r, "[1,]", "SL_EPARSE: invalid JSON at column 4");
    PARSE(&r, "\"\\ud800\"", "SL_EPARSE: invalid JSON at column 2");
    PARSE(&r, "\"\\x\"", "SL_EPARSE: invalid JSON at column 2");
    PARSE(&r, "1 2",
          "SL_EPARSE: trailing characters after the JSON value "
          "at column 3");
    PARSE(&r, "{} x",
          "SL_EPARSE: trailing characters after the JSON value "
          "at column 4");
    PARSE(&r, "[1]]",
          "SL_EPARSE: trailing characters after the JSON value "
          "at column 4");
    PARSE(&r, "{}{}",
          "SL_EPARSE: trailing characters after the JSON value "
          "at column 3");
    PARSE(&r, "\"a\\u0000b\"",
          "SL_EPARSE: \\u0000 in a string at column 3 "
          "(NUL characters are not supported)");
    shown = parse_text(&r, nul, sizeof nul - 1);
    SL_CHECK_STR(shown, "SL_EPARSE: NUL byte at column 8");
    free(shown);
    SL_CHECK_INT(r.malformed, 17);
    SL_CHECK_INT(r.records, 0);
    /* "\\u0000" is an escaped backslash followed by text, not a NUL. */
    PARSE(&r, "\"\\\\u0000\"", "\"\\x5cu0000\"");
    sl__rec_reader_free(&r);
}

/* A line of depth nested arrays around 1. */
static char *nested(size_t depth)
{
    char *s = malloc(2 * depth + 2);
    size_t i;

    for (i = 0; i < depth; i++) {
        s[i] = '[';
        s[depth + 1 + i] = ']';
    }
    s[depth] = '1';
    s[2 * depth + 1] = '\0';
    return s;
}

/* {"a": <depth nested arrays>} parsed by a fresh reader, shown. */
static char *object_around(size_t depth)
{
    char *inner = nested(depth), *line = malloc(strlen(inner) + 8), *shown;
    sl__rec_reader r;

    sprintf(line, "{\"a\": %s}", inner);
    open_reader(&r, SL__REC_JSON);
    shown = parse_text(&r, line, strlen(line));
    sl__rec_reader_free(&r);
    free(inner);
    free(line);
    return shown;
}

static void test_json_depth(void)
{
    sl__rec_reader r;
    char *line, *shown;

    open_reader(&r, SL__REC_JSON);
    line = nested(64);
    shown = parse_text(&r, line, strlen(line));
    SL_CHECK(strncmp(shown, "L[L[L[", 6) == 0 && strstr(shown, "L[1]") != NULL);
    free(shown);
    free(line);
    line = nested(65);
    shown = parse_text(&r, line, strlen(line));
    SL_CHECK_STR(shown, "SL_EPARSE: JSON nested deeper than 64 levels at "
                        "column 65");
    free(shown);
    free(line);
    line = nested(5000); /* past cJSON's own limit too */
    shown = parse_text(&r, line, strlen(line));
    SL_CHECK_STR(shown, "SL_EPARSE: JSON nested deeper than 64 levels at "
                        "column 65");
    free(shown);
    free(line);
    /* Brackets inside strings do not count. */
    line = nested(100);
    memset(line, '[', 100);
    line[0] = '[';
    line[1] = '"';
    line[98] = '"';
    line[99] = ']';
    line[100] = '\0'; /* ["[[...[[" ] with 96 brackets in the string */
    shown = parse_text(&r, line, strlen(line));
    SL_CHECK(strncmp(shown, "L[\"[[[[", 7) == 0 && strlen(shown) == 101);
    free(shown);
    free(line);
    /* Objects count as levels as arrays do. */
    shown = object_around(63); /* L[P("a",L[L[...L[1]...]])] */
    SL_CHECK(strncmp(shown, "L[P(\"a\",L[L[", 12) == 0 &&
             strstr(shown, "L[1]]") && strlen(shown) == 8 + 126 + 1 + 63 + 2);
    free(shown);
    shown = object_around(64);
    SL_CHECK_STR(shown, "SL_EPARSE: JSON nested deeper than 64 levels at "
                        "column 70");
    free(shown);
    sl__rec_reader_free(&r);
}

/* cJSON does not check UTF-8: bytes inside strings pass through; a byte
 * order mark in front of a line is skipped. */
static void test_json_bytes(void)
{
    sl__rec_reader r;

    open_reader(&r, SL__REC_JSON);
    PARSE(&r, "\"\xff\xfe\xc3\x28\"", "\"\\xff\\xfe\\xc3(\"");
    PARSE(&r, "{\"\xe9\":1}", "L[P(\"\\xe9\",1)]");
    PARSE(&r, "\xef\xbb\xbf[1,2]", "P(1,2)");
    PARSE(&r, "\xff", "SL_EPARSE: invalid JSON at column 1");
    sl__rec_reader_free(&r);
}

/* Readers on several threads at once (one reader each, as the workers
 * will have) give the same results as one. cJSON's parse writes a static
 * error position, which records.c serialises with a lock; TSan cannot see
 * that race itself, as the system's libcjson is not instrumented. */
static void *parse_many(void *arg)
{
    static const char *const lines[] = {"{\"a\":[1,2.5,\"x\"]}", "[1,", "null",
                                        "{\"k\":}", "\"s\""};
    int *wrong = arg, i;
    sl__rec_reader r;
    sl__arena a;
    sl_value v;
    char err[128];

    open_reader(&r, SL__REC_JSON);
    sl__arena_init(&a, 256);
    for (i = 0; i < 2000; i++) {
        const char *line = lines[i % 5];
        sl_status want = i % 5 == 1 || i % 5 == 3 ? SL_EPARSE : SL_OK;
        if (sl__rec_parse(&r, line, strlen(line), sl__rec_arena_alloc, &a, &v,
                          err, sizeof err) != want)
            (*wrong)++;
        sl__arena_reset(&a);
    }
    if (r.records != 1200 || r.malformed != 800)
        (*wrong)++;
    sl__arena_free(&a);
    sl__rec_reader_free(&r);
    return NULL;
}

static void test_json_threads(void)
{
    pthread_t th[4];
    int wrong[4] = {0, 0, 0, 0}, i;

    for (i = 0; i < 4; i++)
        SL_CHECK_INT(pthread_create(&th[i], NULL, parse_many, &wrong[i]), 0);
    for (i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        SL_CHECK_INT(wrong[i], 0);
    }
}

/* ------------------------------------------------- allocation failure */

static void *no_memory(void *ctx, size_t n)
{
    SL__UNUSED(ctx);
    SL__UNUSED(n);
    return NULL;
}

/* Gives *(int *)ctx allocations from a static pool (enough for the few
 * small records here), then fails. */
static void *some_memory(void *ctx, size_t n)
{
    static _Alignas(8) char pool[4096];
    static size_t used;
    int *left = ctx;
    char *p;

    n = (n + 7) & ~(size_t)7;
    if ((*left)-- <= 0 || n > sizeof pool)
        return NULL;
    if (used + n > sizeof pool)
        used = 0;
    p = pool + used;
    used += n;
    return p;
}

static void test_out_of_memory(void)
{
    sl__rec_reader r;
    sl_value v;
    char err[64];
    int left;

    open_reader(&r, SL__REC_CSV);
    SL_CHECK_INT(
        sl__rec_parse(&r, "a,b", 3, no_memory, NULL, &v, err, sizeof err),
        SL_ENOMEM);
    SL_CHECK_STR(err, "out of memory");
    left = 1; /* the items, not the unescaped field */
    SL_CHECK_INT(
        sl__rec_parse(&r, "a,\"\"\"\"", 6, some_memory, &left, &v, NULL, 0),
        SL_ENOMEM);
    SL_CHECK_INT(r.malformed, 0);
    SL_CHECK_INT(r.records, 0);
    sl__rec_reader_free(&r);

    open_reader(&r, SL__REC_JSON);
    for (left = 0; left < 5; left++) {
        int budget = left;
        SL_CHECK_INT(sl__rec_parse(&r, "{\"a\":[\"x\",\"y\"]}", 15, some_memory,
                                   &budget, &v, err, sizeof err),
                     SL_ENOMEM);
    }
    left = 5;
    SL_CHECK_OK(sl__rec_parse(&r, "{\"a\":[\"x\",\"y\"]}", 15, some_memory,
                              &left, &v, err, sizeof err));
    SL_CHECK_INT(r.malformed, 0);
    SL_CHECK_INT(r.records, 1);
    sl__rec_reader_free(&r);
}

/* ------------------------------------------------------- dead letters */

/* A fresh directory for files (the caller removes it). */
static char *temp_dir(void)
{
    char tmpl[] = "/tmp/sl_records_XXXXXX";
    char *dir = mkdtemp(tmpl);

    SL_CHECK(dir != NULL);
    return dir ? strdup(dir) : NULL;
}

/* One malformed line of a file, as the directory source writes it, at a
 * fixed time and batch so that the content can be checked exactly. */
static sl_status put_line(sl__dead_letters *d, const char *file,
                          int64_t line_no, const char *why, const char *text,
                          size_t len)
{
    sl__dead_letter r = {.time_ms = 1700000000123LL,
                         .batch = 1700000000000LL,
                         .source = "d",
                         .reason = "malformed",
                         .error = why,
                         .text = text,
                         .text_len = len,
                         .file = file,
                         .line = line_no};
    return sl__dead_letters_put(d, &r);
}

#define HEAD                                                                   \
    "{\"time_ms\":1700000000123,\"batch\":1700000000000,"                      \
    "\"origin\":{\"source\":\"d\"},\"reason\":\"malformed\","

static void test_dead_letters_content(void)
{
    static const char text[] = "a \"q\" \\ \t\x01\x7f\0 caf\xc3\xa9 \xff\xc3";
    char *dir = temp_dir(), path[256], *got, err[256];
    sl__dead_letters *d = NULL;
    struct stat sb;
    mode_t old;
    size_t len;

    if (!dir)
        return;
    snprintf(path, sizeof path, "%s/dead.jsonl", dir);
    old = umask(0);
    SL_CHECK_OK(sl__dead_letters_open(path, NULL, &d, err, sizeof err));
    umask(old);
    SL_CHECK(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0644);
    SL_CHECK_OK(put_line(d, "in/data.csv", 3, "expected 3 columns, got 4",
                         "1,2,3,4", 7));
    SL_CHECK_OK(put_line(d, "we\"ird\n.json", 1234567890123LL,
                         "invalid JSON at column 1", text, sizeof text - 1));
    SL_CHECK_OK(put_line(d, "", 1, "", "", 0));
    SL_CHECK_INT(sl__dead_letters_count(d), 3);
    sl__dead_letters_close(d);
    /* Appended to, not truncated, when opened again. */
    SL_CHECK_OK(sl__dead_letters_open(path, NULL, &d, NULL, 0));
    SL_CHECK_INT(sl__dead_letters_count(d), 0);
    SL_CHECK_OK(put_line(d, "f", 9, "r", "t", 1));
    sl__dead_letters_close(d);
    sl__dead_letters_close(NULL);
    got = sl_test_read_file(path, &len);
    SL_CHECK_STR(got,
                 HEAD "\"error\":\"expected 3 columns, got 4\",\"text\":"
                      "\"1,2,3,4\",\"file\":\"in/data.csv\",\"line\":3}\n" HEAD
                      "\"error\":\"invalid JSON at column 1\",\"text\":\"a "
                      "\\\"q\\\" \\\\ \\t\\u0001\\u007f\\u0000 caf\xc3\xa9 "
                      "\xef\xbf\xbd\xef\xbf\xbd\",\"text_b64\":"
                      "\"YSAicSIgXCAJAX8AIGNhZsOpIP/D\",\"file\":"
                      "\"we\\\"ird\\n.json\",\"line\":1234567890123}\n" HEAD
                      "\"error\":\"\",\"text\":\"\",\"file\":\"\",\"line\":1}"
                      "\n" HEAD "\"error\":\"r\",\"text\":\"t\",\"file\":"
                      "\"f\",\"line\":9}\n");
    free(got);
    sl_test_remove_tree(dir);
    free(dir);
}

static void test_dead_letters_utf8(void)
{
    /* Overlong, surrogate, too large, truncated: U+FFFD per maximal subpart
     * (with the exact bytes in text_b64); 2-, 3- and 4-byte sequences:
     * kept. */
    static const char text[] = "\xc0\xaf|\xed\xa0\x80|\xf4\x90\x80\x80|\xe2\x82"
                               "|\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80";
    char *dir = temp_dir(), path[256], *got;
    sl__dead_letters *d = NULL;
    size_t len;

    if (!dir)
        return;
    snprintf(path, sizeof path, "%s/dead.jsonl", dir);
    SL_CHECK_OK(sl__dead_letters_open(path, NULL, &d, NULL, 0));
    SL_CHECK_OK(put_line(d, "f", 1, "r", text, sizeof text - 1));
    sl__dead_letters_close(d);
    got = sl_test_read_file(path, &len);
    SL_CHECK_STR(got, HEAD "\"error\":\"r\",\"text\":\""
                           "\xef\xbf\xbd\xef\xbf\xbd|"
                           "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd|"
                           "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd|"
                           "\xef\xbf\xbd|\xc3\xa9\xe2\x82\xac\xf0"
                           "\x9f\x98\x80\",\"text_b64\":"
                           "\"wK987aCAfPSQgIB84oJ8w6nigqzwn5iA\","
                           "\"file\":\"f\",\"line\":1}\n");
    free(got);
    sl_test_remove_tree(dir);
    free(dir);
}

/* The other shapes: a stream's operator with a value, a too-long line
 * (no batch yet, truncated), and the time stamped when none is given. */
static void test_dead_letters_shapes(void)
{
    char *dir = temp_dir(), path[256], *got = NULL;
    sl__dead_letters *d = NULL;
    sl__dead_letter bad = {.time_ms = 5,
                           .batch = 0,
                           .stream = "w\"s",
                           .op = 2,
                           .reason = "bad_value",
                           .error = "to_number: not a number",
                           .value = "[\"abc\",1]"};
    sl__dead_letter tl = {.time_ms = 6,
                          .batch = -1,
                          .source = "s",
                          .reason = "too_long",
                          .error = "longer than 10 bytes",
                          .text = "0123456789",
                          .text_len = 10,
                          .truncated = true};
    int64_t before = sl__now_wall_ms(), t;
    char *third;
    cJSON *j, *tm;
    size_t len;

    if (!dir)
        return;
    snprintf(path, sizeof path, "%s/dead.jsonl", dir);
    SL_CHECK_OK(sl__dead_letters_open(path, NULL, &d, NULL, 0));
    SL_CHECK_OK(sl__dead_letters_put(d, &bad));
    SL_CHECK_OK(sl__dead_letters_put(d, &tl));
    tl.time_ms = 0;
    SL_CHECK_OK(sl__dead_letters_put(d, &tl));
    sl__dead_letters_close(d);
    got = sl_test_read_file(path, &len);
    third = got ? strstr(got, "}\n{\"time_ms\":6") : NULL;
    third = third ? strchr(third + 2, '\n') : NULL;
    SL_CHECK(third != NULL);
    if (!third)
        goto out;
    *third++ = '\0';
    SL_CHECK_STR(got, "{\"time_ms\":5,\"batch\":0,\"origin\":{\"stream\":"
                      "\"w\\\"s\",\"op\":2},\"reason\":\"bad_value\",\"error\":"
                      "\"to_number: not a number\",\"value\":[\"abc\",1]}\n"
                      "{\"time_ms\":6,\"batch\":null,\"origin\":{\"source\":"
                      "\"s\"},\"reason\":\"too_long\",\"error\":\"longer than "
                      "10 bytes\",\"text\":\"0123456789\",\"truncated\":true}");
    j = cJSON_Parse(third);
    tm = j ? cJSON_GetObjectItemCaseSensitive(j, "time_ms") : NULL;
    SL_CHECK(cJSON_IsNumber(tm));
    t = cJSON_IsNumber(tm) ? (int64_t)tm->valuedouble : 0;
    SL_CHECK(t >= before && t <= sl__now_wall_ms());
    cJSON_Delete(j);
out:
    free(got);
    sl_test_remove_tree(dir);
    free(dir);
}

static void test_dead_letters_open_fails(void)
{
    sl__dead_letters *d = (sl__dead_letters *)1;
    char err[256] = "";

    SL_CHECK_INT(sl__dead_letters_open("/nonexistent-dir/x/dead.jsonl", NULL,
                                       &d, err, sizeof err),
                 SL_EIO);
    SL_CHECK(d == NULL);
    SL_CHECK_STR(err, "cannot open /nonexistent-dir/x/dead.jsonl: No such "
                      "file or directory");
}

enum { WRITERS = 4, PER_WRITER = 500, TEXT_LEN = 6000 };

typedef struct writer {
    sl__dead_letters *d;
    int id;
    int failures;
} writer;

/* Long lines (over PIPE_BUF) with bytes to escape, so that a torn or
 * interleaved write would show. */
static void *write_many(void *arg)
{
    writer *w = arg;
    char text[TEXT_LEN], file[32];
    int i;

    memset(text, 'a' + w->id, sizeof text);
    for (i = 0; i < PER_WRITER; i++) {
        text[i % TEXT_LEN] = '"';
        text[(i * 7) % TEXT_LEN] = '\xff';
        snprintf(file, sizeof file, "writer-%d", w->id);
        if (put_line(w->d, file, i + 1, "bad", text, TEXT_LEN))
            w->failures++;
    }
    return NULL;
}

/* Check one line of the file: valid JSON with the writer's fields; mark
 * its line number seen. Returns false when anything is off. */
static bool check_line(const char *line, size_t len, char seen[][PER_WRITER])
{
    cJSON *j = cJSON_ParseWithLength(line, len);
    cJSON *file, *no, *text;
    int id, n;
    bool ok = false;

    if (!j)
        return false;
    file = cJSON_GetObjectItemCaseSensitive(j, "file");
    no = cJSON_GetObjectItemCaseSensitive(j, "line");
    text = cJSON_GetObjectItemCaseSensitive(j, "text");
    if (cJSON_IsString(file) && cJSON_IsNumber(no) && cJSON_IsString(text) &&
        sscanf(file->valuestring, "writer-%d", &id) == 1 && id >= 0 &&
        id < WRITERS) {
        n = (int)no->valuedouble;
        /* \u00ff decodes to 2 bytes of UTF-8, so the text grew. */
        ok = n >= 1 && n <= PER_WRITER && !seen[id][n - 1] &&
             strlen(text->valuestring) > TEXT_LEN &&
             text->valuestring[TEXT_LEN - 1] != '\0';
        if (ok)
            seen[id][n - 1] = 1;
    }
    cJSON_Delete(j);
    return ok;
}

static void test_dead_letters_threads(void)
{
    static char seen[WRITERS][PER_WRITER];
    char *dir = temp_dir(), path[256], *got, *p, *nl;
    sl__dead_letters *d = NULL;
    pthread_t th[WRITERS];
    writer w[WRITERS];
    size_t len, lines = 0, bad = 0, missing = 0;
    int i, k;

    if (!dir)
        return;
    snprintf(path, sizeof path, "%s/dead.jsonl", dir);
    SL_CHECK_OK(sl__dead_letters_open(path, NULL, &d, NULL, 0));
    for (i = 0; i < WRITERS; i++) {
        w[i] = (writer){d, i, 0};
        SL_CHECK_INT(pthread_create(&th[i], NULL, write_many, &w[i]), 0);
    }
    for (i = 0; i < WRITERS; i++) {
        pthread_join(th[i], NULL);
        SL_CHECK_INT(w[i].failures, 0);
    }
    SL_CHECK_INT(sl__dead_letters_count(d), WRITERS * PER_WRITER);
    sl__dead_letters_close(d);
    got = sl_test_read_file(path, &len);
    SL_CHECK(got != NULL);
    for (p = got; got && p < got + len; p = nl + 1) {
        nl = memchr(p, '\n', (size_t)(got + len - p));
        if (!nl)
            break;
        lines++;
        bad += !check_line(p, (size_t)(nl - p), seen);
    }
    for (i = 0; i < WRITERS; i++)
        for (k = 0; k < PER_WRITER; k++)
            missing += !seen[i][k];
    SL_CHECK_INT(lines, WRITERS * PER_WRITER);
    SL_CHECK_INT(bad, 0);
    SL_CHECK_INT(missing, 0);
    SL_CHECK(got && len > 0 && got[len - 1] == '\n');
    free(got);
    sl_test_remove_tree(dir);
    free(dir);
}

const char *SL_SUITE = "core/records";
/* A logger that keeps the last message and counts them. */
typedef struct kept_log {
    int n;
    char last[512];
} kept_log;

static void keep_log(sl_log_level level, const char *msg, void *user)
{
    kept_log *k = user;
    (void)level;
    k->n++;
    snprintf(k->last, sizeof k->last, "%s", msg);
}

/* Read from fd until want lines arrived (10 s at most each read). */
static size_t read_lines_from(int fd, size_t want, size_t *bytes)
{
    char buf[65536];
    size_t lines = 0;
    struct pollfd p = {.fd = fd, .events = POLLIN};
    ssize_t n, i;

    *bytes = 0;
    while (lines < want && poll(&p, 1, 10000) == 1) {
        if ((n = read(fd, buf, sizeof buf)) <= 0)
            break;
        for (i = 0; i < n; i++)
            lines += buf[i] == '\n';
        *bytes += (size_t)n;
    }
    return lines;
}

/*
 * put_async never waits for the disk: with its writer stuck on a pipe
 * nobody reads, at most SL__DEAD_QUEUE_BYTES wait and the rest is dropped,
 * counted and reported once (rate-limited); once the pipe is read, every
 * queued line arrives whole, and the counts add up.
 */
static void test_dead_letters_async_bounded(void)
{
    char dir[] = "/tmp/sl_dead_async_XXXXXX", path[600], text[1000];
    kept_log kept = {0};
    sl__logger log = {keep_log, &kept, SL_LOG_ERROR};
    sl__dead_letter r = {.time_ms = 1,
                         .batch = -1,
                         .source = "s",
                         .reason = "too_long",
                         .error = "e",
                         .text = text,
                         .text_len = sizeof text};
    sl__dead_letters *d = NULL;
    sl__bad_counts c;
    size_t i, n = 6000, lines, bytes, kept_lines;
    int rfd;

    SL_CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/fifo", dir);
    SL_CHECK(mkfifo(path, 0600) == 0);
    rfd = open(path, O_RDONLY | O_NONBLOCK); /* the writer's open won't wait */
    SL_CHECK(rfd >= 0);
    memset(text, 'a', sizeof text);
    sl__bad_counts_init(&c, &log);
    SL_CHECK_OK(sl__dead_letters_open(path, &c, &d, NULL, 0));
    for (i = 0; d && i < n; i++) /* 6.6 MB: over the pipe and the queue */
        sl__dead_letters_put_async(d, &r);
    SL_CHECK(atomic_load(&c.dropped) > 0);
    kept_lines = n - (size_t)atomic_load(&c.dropped);
    /* At most the queue's bytes plus the pipe's 64 KiB got through. */
    SL_CHECK(kept_lines * 1100 <= SL__DEAD_QUEUE_BYTES + 2 * 65536 + 1100);
    SL_CHECK_INT(kept.n, 1);
    SL_CHECK(strstr(kept.last, "too many dead letters wait for the disk; "
                               "dead letter lost (1 dropped so far)") != NULL);
    fcntl(rfd, F_SETFL, 0);
    lines = read_lines_from(rfd, kept_lines, &bytes);
    SL_CHECK_INT(lines, kept_lines);
    SL_CHECK(sl__bad_counts_drain(&c, 10000));
    sl__dead_letters_close(d);
    SL_CHECK_INT(atomic_load(&c.written), kept_lines);
    SL_CHECK_INT(atomic_load(&c.failed), 0);
    SL_CHECK_INT(atomic_load(&c.pending), 0);
    SL_CHECK_INT(bytes % lines, 0); /* identical lines, none torn */
    sl__bad_counts_destroy(&c);
    close(rfd);
    unlink(path);
    rmdir(dir);
}

/* A write that fails (a full disk) is counted, in the handle and the
 * counts, and reported with the file and the reason. */
static void test_dead_letters_failed_write(void)
{
    kept_log kept = {0};
    sl__logger log = {keep_log, &kept, SL_LOG_ERROR};
    sl__dead_letter r = {.time_ms = 1,
                         .source = "s",
                         .reason = "malformed",
                         .error = "e",
                         .text = "t",
                         .text_len = 1};
    sl__dead_letters *d = NULL;
    sl__bad_counts c;

    sl__bad_counts_init(&c, &log);
    SL_CHECK_OK(sl__dead_letters_open("/dev/full", &c, &d, NULL, 0));
    SL_CHECK_INT(sl__dead_letters_put(d, &r), SL_EIO);
    SL_CHECK_INT(sl__dead_letters_put(d, &r), SL_EIO);
    SL_CHECK_INT(sl__dead_letters_failed(d), 2);
    SL_CHECK_INT(sl__dead_letters_count(d), 0);
    SL_CHECK_INT(atomic_load(&c.failed), 2);
    SL_CHECK_INT(atomic_load(&c.written), 0);
    SL_CHECK_INT(kept.n, 1); /* the second within 10 s: not reported */
    SL_CHECK_STR(kept.last, "cannot write to dead-letter file /dev/full: No "
                            "space left on device; dead letter lost (1 "
                            "failed so far)");
    sl__dead_letters_close(d);
    sl__bad_counts_destroy(&c);
}

const sl_test_case SL_TESTS[] = {
    {"dead_letters_async_bounded", test_dead_letters_async_bounded},
    {"dead_letters_failed_write", test_dead_letters_failed_write},
    {"format_names", test_format_names},
    {"options", test_options},
    {"lines", test_lines},
    {"csv_fields", test_csv_fields},
    {"csv_views", test_csv_views},
    {"csv_custom", test_csv_custom},
    {"csv_column_count", test_csv_column_count},
    {"csv_empty_line", test_csv_empty_line},
    {"csv_long_fields", test_csv_long_fields},
    {"csv_malformed", test_csv_malformed},
    {"csv_bytes", test_csv_bytes},
    {"csv_header", test_csv_header},
    {"csv_bad_header", test_csv_bad_header},
    {"csv_header_per_file", test_csv_header_per_file},
    {"csv_given_columns", test_csv_given_columns},
    {"json_scalars", test_json_scalars},
    {"json_numbers", test_json_numbers},
    {"json_composites", test_json_composites},
    {"json_copies", test_json_copies},
    {"json_malformed", test_json_malformed},
    {"json_depth", test_json_depth},
    {"json_bytes", test_json_bytes},
    {"json_threads", test_json_threads},
    {"out_of_memory", test_out_of_memory},
    {"dead_letters_content", test_dead_letters_content},
    {"dead_letters_utf8", test_dead_letters_utf8},
    {"dead_letters_shapes", test_dead_letters_shapes},
    {"dead_letters_open_fails", test_dead_letters_open_fails},
    {"dead_letters_threads", test_dead_letters_threads},
    {NULL, NULL},
};
