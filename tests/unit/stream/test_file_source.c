/*
 * The directory source's reading, on the manual clock with files present
 * at the start (include_existing): a large file read in line-aligned
 * splits gives every line exactly once (CRLF, empty lines, a last line
 * without newline, lines over the limit dropped and counted); .gz and
 * .zst files read as their plain text; corrupt ones skipped and counted;
 * with_file_name pairs; hidden and temporary names never taken; the CSV
 * format with a dead-letter file. Files are read as streams through a
 * bounded buffer: lines across refills and across gzip members, in order;
 * CSV and JSON line numbers far into a file; file.max_decompressed_bytes
 * cuts a file after its limit; a stop interrupts a long read.
 */
#include <sluice/sluice.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "rdd/rdd.h"
#include "sl_test.h"
#include "sl_test_util.h"
#include "stream/stream_int.h"

#define MAX_LINE 4096

typedef struct collected {
    char **lines;
    size_t n, cap;
} collected;

static sl_status collect(sl_rdd *rdd, int64_t time_ms, void *user)
{
    collected *c = user;
    const sl_value *recs;
    size_t n, i;
    sl_status st = sl_rdd_collect(rdd, &recs, &n);
    (void)time_ms;
    if (st != SL_OK)
        return st;
    for (i = 0; i < n; i++) {
        if (c->n == c->cap) {
            c->cap = c->cap ? c->cap * 2 : 1024;
            c->lines = realloc(c->lines, c->cap * sizeof *c->lines);
        }
        c->lines[c->n++] = sl_test_json(&recs[i]);
    }
    return SL_OK;
}

static void collected_free(collected *c)
{
    size_t i;
    for (i = 0; i < c->n; i++)
        free(c->lines[i]);
    free(c->lines);
    memset(c, 0, sizeof *c);
}

static char *make_dir(void)
{
    char tmpl[] = "/tmp/sl-filesrc-XXXXXX";
    char *d = mkdtemp(tmpl);
    SL_CHECK(d != NULL);
    return strdup(d);
}

static void write_file(const char *dir, const char *name, const void *data,
                       size_t len)
{
    char path[512];
    FILE *f;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    f = fopen(path, "wb");
    SL_CHECK(f != NULL);
    if (len)
        SL_CHECK(fwrite(data, 1, len, f) == len);
    fclose(f);
}

/* Run a context over dir for two batches; records as canonical JSON. */
static void run_dir(const char *dir, const char *const *settings,
                    collected *out, sl_file_stats *stats)
{
    char err[256];
    const char *base[] = {"clock",
                          "manual",
                          "max_batches",
                          "2",
                          "workers",
                          "2",
                          "log.level",
                          "error",
                          "receiver.max_line_bytes",
                          "4k",
                          "file.include_existing",
                          "true",
                          "file.watch",
                          "poll",
                          NULL};
    sl_conf *conf = sl_conf_new();
    sl_context *ctx;
    sl_dstream *s;
    size_t i;
    for (i = 0; base[i]; i += 2)
        SL_CHECK_OK(sl_conf_set(conf, base[i], base[i + 1], err, sizeof err));
    for (i = 0; settings && settings[i]; i += 2)
        SL_CHECK_OK(
            sl_conf_set(conf, settings[i], settings[i + 1], err, sizeof err));
    ctx = sl_context_new(sl_conf_dup(conf), err, sizeof err);
    SL_CHECK(ctx != NULL);
    s = sl_file_stream(ctx, dir, conf);
    SL_CHECK(s != NULL);
    SL_CHECK_OK(sl_dstream_foreach_rdd(s, collect, out));
    SL_CHECK_OK(sl_context_start(ctx));
    SL_CHECK_OK(sl_context_await_termination(ctx));
    SL_CHECK_OK(sl_file_stream_stats(s, stats));
    sl_context_free(ctx);
    sl_conf_free(conf);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A file of about 1.2 MB read in 64 KiB splits: every line exactly once. */
static void test_splits_every_line_once(void)
{
    const char *settings[] = {"file.split_bytes", "64k", NULL};
    char *dir = make_dir(), **want = NULL;
    size_t nwant = 0, i, len = 0, cap = 2 << 20;
    char *text = malloc(cap);
    collected got = {0};
    sl_file_stats st;
    unsigned seed = 7;
    int too_long = 0;

    for (i = 0; len < 1200000; i++) {
        char line[MAX_LINE * 2 + 64];
        size_t n = (size_t)snprintf(line, sizeof line, "line %zu", i);
        size_t pad = (seed = seed * 1103515245u + 12345u) >> 16 & 255;
        sl_value v;
        if (i % 97 == 0)
            pad = MAX_LINE + 10; /* over the limit: dropped */
        if (i % 13 == 0)
            pad = 0;
        memset(line + n, 'x', pad);
        n += pad;
        if (pad > MAX_LINE) {
            too_long++;
        } else {
            v = sl_str(line, n);
            want = realloc(want, (nwant + 1) * sizeof *want);
            want[nwant++] = sl_test_json(&v);
        }
        memcpy(text + len, line, n);
        len += n;
        if (i % 5 == 0)
            text[len++] = '\r';
        text[len++] = '\n';
        if (i % 11 == 0) { /* an empty line */
            v = sl_str("", 0);
            text[len++] = '\n';
            want = realloc(want, (nwant + 1) * sizeof *want);
            want[nwant++] = sl_test_json(&v);
        }
    }
    memcpy(text + len, "last", 4); /* no newline at the end */
    len += 4;
    {
        sl_value v = sl_str("last", 4);
        want = realloc(want, (nwant + 1) * sizeof *want);
        want[nwant++] = sl_test_json(&v);
    }
    write_file(dir, "big.txt", text, len);
    run_dir(dir, settings, &got, &st);

    SL_CHECK_INT(st.files_taken, 1);
    SL_CHECK_INT(st.files_failed, 0);
    SL_CHECK_INT(st.lines_too_long, too_long);
    SL_CHECK_INT(got.n, nwant);
    qsort(want, nwant, sizeof *want, cmp_str);
    qsort(got.lines, got.n, sizeof *got.lines, cmp_str);
    for (i = 0; i < nwant && i < got.n; i++)
        if (strcmp(want[i], got.lines[i]) != 0) {
            SL_CHECK_STR(got.lines[i], want[i]);
            break;
        }
    for (i = 0; i < nwant; i++)
        free(want[i]);
    free(want);
    free(text);
    collected_free(&got);
    sl_test_remove_tree(dir);
    free(dir);
}

/* .gz (two members) and .zst read as text; corrupt ones skipped. */
static void test_compressed(void)
{
    const char *settings[] = {NULL};
    static const char plain[] = "alpha beta\r\ngamma\n";
    char *dir = make_dir(), path[512], zbuf[256];
    collected got = {0};
    sl_file_stats st;
    gzFile gz;
    size_t zn;

    snprintf(path, sizeof path, "%s/a.gz", dir);
    SL_CHECK((gz = gzopen(path, "wb")) != NULL);
    gzwrite(gz, "one\ntwo\n", 8);
    gzclose(gz);
    { /* append a second gzip member */
        FILE *f = fopen(path, "ab");
        gzFile g2;
        char p2[512];
        snprintf(p2, sizeof p2, "%s/.member.gz", dir);
        g2 = gzopen(p2, "wb");
        gzwrite(g2, "three", 5);
        gzclose(g2);
        {
            size_t n;
            char *m = sl_test_read_file(p2, &n);
            fwrite(m, 1, n, f);
            free(m);
        }
        fclose(f);
        unlink(p2);
    }
    zn = ZSTD_compress(zbuf, sizeof zbuf, plain, sizeof plain - 1, 3);
    SL_CHECK(!ZSTD_isError(zn));
    write_file(dir, "b.zst", zbuf, zn);
    write_file(dir, "bad.gz", "not gzip at all\n", 16);
    write_file(dir, "bad.zst", zbuf, zn / 2); /* truncated */
    write_file(dir, ".hidden", "no\n", 3);
    write_file(dir, "_under", "no\n", 3);
    write_file(dir, "c.tmp", "no\n", 3);
    write_file(dir, "d.part", "no\n", 3);
    write_file(dir, "e.crdownload", "no\n", 3);
    run_dir(dir, settings, &got, &st);

    SL_CHECK_INT(st.files_taken, 4);
    SL_CHECK_INT(st.files_failed, 2);
    qsort(got.lines, got.n, sizeof *got.lines, cmp_str);
    SL_CHECK_INT(got.n, 5);
    if (got.n == 5) {
        SL_CHECK_STR(got.lines[0], "\"alpha beta\"");
        SL_CHECK_STR(got.lines[1], "\"gamma\"");
        SL_CHECK_STR(got.lines[2], "\"one\"");
        SL_CHECK_STR(got.lines[3], "\"three\"");
        SL_CHECK_STR(got.lines[4], "\"two\"");
    }
    collected_free(&got);
    sl_test_remove_tree(dir);
    free(dir);
}

/* Check that the dead letter at *p (one line) is, after its time_ms,
 * exactly `,"batch":1,...` with text (a run of n c's), truncated, the
 * file and line; *p moves to the next line. */
static void check_too_long(char **p, const char *dir, char c, size_t n,
                           bool truncated, int line)
{
    char *nl = strchr(*p, '\n'), *rest, expect[1600], text[1100];

    SL_CHECK(nl != NULL && strncmp(*p, "{\"time_ms\":", 11) == 0);
    if (!nl)
        return;
    *nl = '\0';
    rest = strstr(*p, ",\"batch\":");
    memset(text, c, n);
    text[n] = '\0';
    snprintf(expect, sizeof expect,
             ",\"batch\":1,\"origin\":{\"source\":\"d\"},\"reason\":"
             "\"too_long\",\"error\":\"line longer than "
             "receiver.max_line_bytes (16 bytes)\",\"text\":\"%s\"%s,"
             "\"file\":\"%s/t.txt\",\"line\":%d}",
             text, truncated ? ",\"truncated\":true" : "", dir, line);
    SL_CHECK_STR(rest ? rest : *p, expect);
    *p = nl + 1;
}

/* Lines over receiver.max_line_bytes: counted, and each a too_long dead
 * letter with its first 1 KiB (truncated when longer), its CRLF's "\r"
 * not counted, the batch's id and the file's line number. */
static void test_too_long_dead_letters(void)
{
    char *dir = make_dir(), dead[512], *text, *p, *data;
    const char *settings[] = {"receiver.max_line_bytes",
                              "16",
                              "file.dead_letter",
                              dead,
                              "source.name",
                              "d",
                              NULL};
    collected got = {0};
    sl_file_stats st;
    size_t n, len = 0;

    snprintf(dead, sizeof dead, "%s.dead", dir);
    data = malloc(4096);
    len += (size_t)sprintf(data + len, "ok\n%030d\n", 0);
    memset(data + len, 'y', 2000);
    len += 2000;
    len += (size_t)sprintf(data + len, "\r\nzzzzzzzzzzzzzzzzzzzz\r\nshort\n"
                                       "wwwwwwwwwwwwwwwww");
    write_file(dir, "t.txt", data, len);
    run_dir(dir, settings, &got, &st);
    SL_CHECK_INT(st.lines_too_long, 4);
    qsort(got.lines, got.n, sizeof *got.lines, cmp_str);
    SL_CHECK_INT(got.n, 2);
    if (got.n == 2) {
        SL_CHECK_STR(got.lines[0], "\"ok\"");
        SL_CHECK_STR(got.lines[1], "\"short\"");
    }
    text = sl_test_read_file(dead, &n);
    SL_CHECK(text != NULL);
    if (text) {
        p = text;
        check_too_long(&p, dir, '0', 30, false, 2);
        check_too_long(&p, dir, 'y', 1024, true, 3);
        check_too_long(&p, dir, 'z', 20, false, 4);
        check_too_long(&p, dir, 'w', 17, false, 6);
        SL_CHECK_STR(p, "");
        free(text);
    }
    unlink(dead);
    free(data);
    collected_free(&got);
    sl_test_remove_tree(dir);
    free(dir);
}

/* CSV with a header, with_file_name, a dead-letter file. */
static void test_csv_dead_letters(void)
{
    char *dir = make_dir(), dead[512], expect[1024], *text;
    const char *settings[] = {"file.format",
                              "csv",
                              "file.csv.header",
                              "true",
                              "file.with_file_name",
                              "true",
                              "file.dead_letter",
                              dead,
                              NULL};
    collected got = {0};
    sl_file_stats st;
    size_t n;

    snprintf(dead, sizeof dead, "%s.dead", dir);
    {
        static const char csv[] = "k,v\na,1\n\"b,c\",2\nbad\n\"x\"\"y\",3\n";
        write_file(dir, "t.csv", csv, sizeof csv - 1);
    }
    run_dir(dir, settings, &got, &st);
    SL_CHECK_INT(st.malformed, 1);
    qsort(got.lines, got.n, sizeof *got.lines, cmp_str);
    SL_CHECK_INT(got.n, 3);
    if (got.n == 3) {
        snprintf(expect, sizeof expect, "[\"%s/t.csv\",[\"a\",\"1\"]]", dir);
        SL_CHECK_STR(got.lines[0], expect);
        snprintf(expect, sizeof expect, "[\"%s/t.csv\",[\"b,c\",\"2\"]]", dir);
        SL_CHECK_STR(got.lines[1], expect);
        snprintf(expect, sizeof expect, "[\"%s/t.csv\",[\"x\\\"y\",\"3\"]]",
                 dir);
        SL_CHECK_STR(got.lines[2], expect);
    }
    text = sl_test_read_file(dead, &n);
    SL_CHECK(text != NULL);
    if (text) {
        /* No source.name: the origin is the source's type. */
        SL_CHECK(strstr(text, ",\"origin\":{\"source\":\"directory\"},"
                              "\"reason\":\"malformed\",\"error\":") != NULL);
        snprintf(expect, sizeof expect,
                 ",\"text\":\"bad\",\"file\":\"%s/t.csv\",\"line\":4}\n", dir);
        SL_CHECK(strstr(text, expect) != NULL);
        free(text);
    }
    unlink(dead);
    collected_free(&got);
    sl_test_remove_tree(dir);
    free(dir);
}

/* Text of n lines "<tag> NNNNNN" padded to various lengths, every 101st
 * over MAX_LINE (dropped); the records expected, in order, into *want. */
static char *lines_text(const char *tag, size_t nlines, size_t *len,
                        char ***want, size_t *nwant, int *too_long)
{
    size_t cap = nlines * 64 + (nlines / 101 + 1) * (MAX_LINE + 64), i, n;
    char *text = malloc(cap), line[MAX_LINE + 64];
    *len = 0;
    /* Room for every line at once: growing by one slot per line copies
     * the array each time, quadratic under the sanitizers' realloc. */
    *want = realloc(*want, (*nwant + nlines) * sizeof **want);
    for (i = 0; i < nlines; i++) {
        n = (size_t)snprintf(line, sizeof line, "%s %06zu", tag, i);
        memset(line + n, '-', i % 101 == 50 ? MAX_LINE : i % 37);
        n += i % 101 == 50 ? MAX_LINE : i % 37;
        memcpy(text + *len, line, n);
        *len += n;
        text[(*len)++] = '\n';
        if (n > MAX_LINE) {
            (*too_long)++;
            continue;
        }
        {
            sl_value v = sl_str(line, n);
            (*want)[(*nwant)++] = sl_test_json(&v);
        }
    }
    return text;
}

static void write_gz(const char *dir, const char *name, const char *text,
                     size_t len, size_t members)
{
    char path[512];
    size_t i, from = 0, to;
    FILE *f;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    SL_CHECK((f = fopen(path, "wb")) != NULL);
    fclose(f);
    /* Members cut the text at arbitrary bytes, inside lines. */
    for (i = 0; i < members; i++, from = to) {
        gzFile gz = gzopen(path, "ab1");
        to = i + 1 == members ? len : len / members * (i + 1) + 7;
        SL_CHECK(gz != NULL);
        if (to > from)
            SL_CHECK(gzwrite(gz, text + from, (unsigned)(to - from)) ==
                     (int)(to - from));
        gzclose(gz);
    }
}

static void write_zst(const char *dir, const char *name, const char *text,
                      size_t len)
{
    size_t cap = ZSTD_compressBound(len), n;
    char *z = malloc(cap);
    n = ZSTD_compress(z, cap, text, len, 1);
    SL_CHECK(!ZSTD_isError(n));
    write_file(dir, name, z, n);
    free(z);
}

/* Records equal want, in order (one file: one partition, read in order). */
static void check_in_order(const collected *got, char **want, size_t nwant)
{
    size_t i;
    SL_CHECK_INT(got->n, nwant);
    for (i = 0; i < nwant && i < got->n; i++)
        if (strcmp(want[i], got->lines[i]) != 0) {
            SL_CHECK_STR(got->lines[i], want[i]);
            break;
        }
}

static void free_strs(char **s, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        free(s[i]);
    free(s);
}

/* ~5 MB of lines in .gz (three members cut inside lines) and .zst: every
 * line in order across buffer refills, long lines dropped and counted. */
static void test_compressed_streamed(void)
{
    static const char *const names[] = {"big.gz", "big.zst"};
    size_t len, nwant = 0, k;
    char **want = NULL, *text;
    int too_long = 0;

    text = lines_text("z", 150000, &len, &want, &nwant, &too_long);
    for (k = 0; k < 2; k++) {
        char *dir = make_dir();
        collected got = {0};
        sl_file_stats st;
        if (k == 0)
            write_gz(dir, names[k], text, len, 3);
        else
            write_zst(dir, names[k], text, len);
        run_dir(dir, NULL, &got, &st);
        SL_CHECK_INT(st.files_failed, 0);
        SL_CHECK_INT(st.lines_too_long, too_long);
        SL_CHECK_INT(st.bytes, (int64_t)len);
        check_in_order(&got, want, nwant);
        collected_free(&got);
        sl_test_remove_tree(dir);
        free(dir);
    }
    free_strs(want, nwant);
    free(text);
}

/* file.max_decompressed_bytes 64k: the whole lines of the first 64 KiB of
 * each compressed file, then reported, counted and dead-lettered; a file
 * under the limit and a plain file over it are read whole. */
static void test_max_decompressed(void)
{
    char *dir = make_dir(), dead[512], *text, *out;
    const char *settings[] = {"file.max_decompressed_bytes", "64k",
                              "file.dead_letter", dead, NULL};
    char line[32], **want = NULL;
    collected got = {0};
    sl_file_stats st;
    size_t i, len = 0, n, nwant = 0, at_limit = 65536 / 11;

    snprintf(dead, sizeof dead, "%s.dead", dir);
    text = malloc(20000 * 11 + 1); /* and sprintf's NUL */
    for (i = 0; i < 20000; i++)    /* 11 bytes a line */
        len += (size_t)sprintf(text + len, "line %05zu\n", i);
    write_gz(dir, "over.gz", text, len, 1);
    write_zst(dir, "over.zst", text, len);
    write_gz(dir, "under.gz", text, 65536, 1); /* exactly the limit */
    write_file(dir, "plain.txt", text, len);   /* not compressed */
    run_dir(dir, settings, &got, &st);

    SL_CHECK_INT(st.files_too_large, 2);
    SL_CHECK_INT(st.files_failed, 0);
    /* 5957 whole lines in 64 KiB (the cut one is no record) of each of
     * over.gz, over.zst and under.gz, whose last line "line 0595" has no
     * newline; all 20000 of plain.txt. */
    for (i = 0; i < 20000 + 3 * at_limit + 1; i++) {
        if (i < 20000 + 3 * at_limit)
            snprintf(line, sizeof line, "\"line %05zu\"",
                     i < 20000 ? i : (i - 20000) % at_limit);
        else
            snprintf(line, sizeof line, "\"line 0595\"");
        want = realloc(want, (nwant + 1) * sizeof *want);
        want[nwant++] = strdup(line);
    }
    qsort(want, nwant, sizeof *want, cmp_str);
    qsort(got.lines, got.n, sizeof *got.lines, cmp_str);
    SL_CHECK_INT(got.n, nwant);
    for (i = 0; i < nwant && i < got.n; i++)
        if (strcmp(want[i], got.lines[i]) != 0) {
            SL_CHECK_STR(got.lines[i], want[i]);
            break;
        }
    out = sl_test_read_file(dead, &n);
    SL_CHECK(out != NULL);
    if (out) {
        SL_CHECK(strstr(out, "\"reason\":\"too_long\",\"error\":\"more than "
                             "65536 decompressed bytes") != NULL);
        SL_CHECK(strstr(out, "over.gz\",\"line\":5958}") != NULL);
        SL_CHECK(strstr(out, "over.zst\",\"line\":5958}") != NULL);
        SL_CHECK(strstr(out, "under.gz") == NULL);
        free(out);
    }
    unlink(dead);
    free_strs(want, nwant);
    free(text);
    collected_free(&got);
    sl_test_remove_tree(dir);
    free(dir);
}

/* CSV of ~300 KB (many buffer refills) with a header: a malformed row far
 * in is dead-lettered with its line number; a quoted field cannot hold a
 * newline (both halves malformed, as before streaming); a JSON file with
 * a line over the limit between records. */
static void test_csv_json_streamed(void)
{
    char *dir = make_dir(), dead[512], *text, *out, expect[128];
    const char *csv[] = {
        "file.format", "csv", "file.csv.header", "true", "file.dead_letter",
        dead,          NULL};
    const char *json[] = {"file.format", "json", NULL};
    collected got = {0};
    sl_file_stats st;
    size_t i, len = 0, n;

    snprintf(dead, sizeof dead, "%s.dead", dir);
    text = malloc(12 << 20);
    len += (size_t)sprintf(text, "k,v\n");
    for (i = 2; i <= 20000; i++) /* line i of the file */
        len += (size_t)(i == 15000   ? sprintf(text + len, "bad\"row\n")
                        : i == 17000 ? sprintf(text + len, "x,\"a\nb\",1\n")
                                     : sprintf(text + len, "r%zu,%zu\n", i, i));
    write_file(dir, "t.csv", text, len);
    run_dir(dir, csv, &got, &st);
    SL_CHECK_INT(st.malformed, 3);
    SL_CHECK_INT(got.n, 20000 - 1 - 2);
    if (got.n > 0)
        SL_CHECK_STR(got.lines[got.n - 1], "[\"r20000\",\"20000\"]");
    out = sl_test_read_file(dead, &n);
    SL_CHECK(out != NULL);
    if (out) {
        snprintf(expect, sizeof expect, "t.csv\",\"line\":15000}");
        SL_CHECK(strstr(out, expect) != NULL);
        SL_CHECK(strstr(out, "t.csv\",\"line\":17000}") != NULL);
        SL_CHECK(strstr(out, "t.csv\",\"line\":17001}") != NULL);
        free(out);
    }
    collected_free(&got);
    sl_test_remove_tree(dir);
    free(dir);

    dir = make_dir();
    len = (size_t)sprintf(text, "{\"a\": 1}\n[");
    memset(text + len, ' ', 10 << 20); /* 10 MB: never buffered whole */
    len += 10 << 20;
    len += (size_t)sprintf(text + len, "]\n{\"b\": 2}");
    write_file(dir, "t.json", text, len);
    run_dir(dir, json, &got, &st);
    SL_CHECK_INT(st.lines_too_long, 1);
    SL_CHECK_INT(got.n, 2);
    if (got.n == 2) {
        SL_CHECK_STR(got.lines[0], "[[\"a\",1]]");
        SL_CHECK_STR(got.lines[1], "[[\"b\",2]]");
    }
    unlink(dead);
    free(text);
    collected_free(&got);
    sl_test_remove_tree(dir);
    free(dir);
}

/* ----------------------------------------------------------- a stop */

typedef struct stop_run {
    sl_engine *eng;
    int64_t seen, stop_at; /* records through the map; interrupt at */
    sl_status first, second;
    char errmsg[512];
    size_t nfirst, nsecond;
} stop_run;

static sl_status count_and_stop(sl_task *t, const sl_value *in, sl_value *out,
                                void *user)
{
    stop_run *r = user;
    (void)t;
    if (__atomic_add_fetch(&r->seen, 1, __ATOMIC_RELAXED) == r->stop_at)
        sl__engine_interrupt(r->eng, true);
    *out = *in;
    return SL_OK;
}

/* The batch's RDD read with a stop during the read, then again without. */
static sl_status collect_twice(sl_rdd *rdd, int64_t time_ms, void *user)
{
    stop_run *r = user;
    const sl_value *recs;
    (void)time_ms;
    if (r->first != SL_EINVAL)
        return SL_OK; /* the batch without files */
    r->first = sl_rdd_collect(rdd, &recs, &r->nfirst);
    snprintf(r->errmsg, sizeof r->errmsg, "%s", sl_engine_errmsg(r->eng));
    sl__engine_interrupt(r->eng, false);
    r->second = sl_rdd_collect(rdd, &recs, &r->nsecond);
    return SL_OK;
}

/* Read big.NAME (and interrupt it after stop_at records when > 0). */
static void run_stop(const char *dir, int64_t stop_at, stop_run *r)
{
    char err[256];
    const char *settings[] = {
        "clock",     "manual",     "max_batches",
        "1",         "workers",    "2",
        "log.level", "error",      "file.include_existing",
        "true",      "file.watch", "poll",
        NULL};
    sl_context *ctx;
    sl_dstream *s;
    memset(r, 0, sizeof *r);
    r->first = r->second = SL_EINVAL;
    r->stop_at = stop_at;
    SL_CHECK_OK(sl_test_context_open(settings, &ctx, err, sizeof err));
    r->eng = ctx->eng;
    if (stop_at == 0)
        sl__engine_interrupt(r->eng, true); /* stopped before the read */
    s = sl_dstream_map(sl_file_stream(ctx, dir, NULL), count_and_stop, r);
    SL_CHECK(s != NULL);
    SL_CHECK_OK(sl_dstream_foreach_rdd(s, collect_twice, r));
    SL_CHECK_OK(sl_context_start(ctx));
    SL_CHECK_OK(sl_context_await_termination(ctx));
    sl_context_free(ctx);
}

/* A stop interrupts a long read (plain and gzip) within one buffer of
 * lines: SL_ESTOPPED with the file named; read again without the stop,
 * every line comes. Already stopped: nothing is read. */
static void test_stop_interrupts(void)
{
    static const char *const names[] = {"big.txt", "big.gz"};
    size_t len = 0, i, k, nlines = 400000;
    char *text = malloc(nlines * 16), expect[600];
    for (i = 0; i < nlines; i++)
        len += (size_t)sprintf(text + len, "line %09zu\n", i);
    for (k = 0; k < 3; k++) {
        char *dir = make_dir();
        stop_run r;
        if (k == 1)
            write_gz(dir, names[1], text, len, 1);
        else
            write_file(dir, names[0], text, len);
        run_stop(dir, k == 2 ? 0 : 1000, &r);
        snprintf(expect, sizeof expect,
                 "interrupted by stop while reading '%s/%s'", dir,
                 names[k == 1]);
        SL_CHECK_INT(r.first, SL_ESTOPPED);
        SL_CHECK(strstr(r.errmsg, expect) != NULL);
        SL_CHECK_INT(r.nfirst, 0);
        /* At most one buffer (128 KiB of 15-byte lines) after the stop. */
        SL_CHECK(r.seen - (int64_t)r.nsecond < (k == 2 ? 1 : 1000 + 10000));
        SL_CHECK_INT(r.second, SL_OK);
        SL_CHECK_INT(r.nsecond, nlines);
        sl_test_remove_tree(dir);
        free(dir);
    }
    free(text);
}

const char *SL_SUITE = "stream/file_source";
const sl_test_case SL_TESTS[] = {
    {"splits_every_line_once", test_splits_every_line_once},
    {"compressed", test_compressed},
    {"csv_dead_letters", test_csv_dead_letters},
    {"too_long_dead_letters", test_too_long_dead_letters},
    {"compressed_streamed", test_compressed_streamed},
    {"max_decompressed", test_max_decompressed},
    {"csv_json_streamed", test_csv_json_streamed},
    {"stop_interrupts", test_stop_interrupts},
    {NULL, NULL}};
