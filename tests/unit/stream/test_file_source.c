/*
 * The directory source's reading, on the manual clock with files present
 * at the start (include_existing): a large file read in line-aligned
 * splits gives every line exactly once (CRLF, empty lines, a last line
 * without newline, lines over the limit dropped and counted); .gz and
 * .zst files read as their plain text; corrupt ones skipped and counted;
 * with_file_name pairs; hidden and temporary names never taken; the CSV
 * format with a dead-letter file.
 */
#include <sluice/sluice.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "sl_test.h"
#include "sl_test_util.h"

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
        snprintf(expect, sizeof expect,
                 "{\"file\":\"%s/t.csv\",\"line\":4,\"error\":", dir);
        SL_CHECK(strncmp(text, expect, strlen(expect)) == 0);
        SL_CHECK(strstr(text, "\"text\":\"bad\"}\n") != NULL);
        free(text);
    }
    unlink(dead);
    collected_free(&got);
    sl_test_remove_tree(dir);
    free(dir);
}

const char *SL_SUITE = "stream/file_source";
const sl_test_case SL_TESTS[] = {
    {"splits_every_line_once", test_splits_every_line_once},
    {"compressed", test_compressed},
    {"csv_dead_letters", test_csv_dead_letters},
    {NULL, NULL}};
