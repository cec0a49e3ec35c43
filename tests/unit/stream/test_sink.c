/*
 * The sink interface (sink.h, src/stream/output.c) and the exactly-once
 * file sink (connectors/file/file_sink.c): sinks see batch ids, commits
 * and aborts; the file sink's formats, re-run batches, leftovers and its
 * checked manifest.
 */
#include <sluice/sluice.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file/manifest.h"
#include "sl_test.h"
#include "sl_test_util.h"
#include "stream/stream_int.h"

static sl_context *new_ctx(int64_t max_batches)
{
    char err[256], mb[32];
    sl_conf *conf = sl_conf_new();
    sl_context *ctx;
    snprintf(mb, sizeof mb, "%lld", (long long)max_batches);
    SL_CHECK_OK(sl_conf_set(conf, "max_batches", mb, err, sizeof err));
    SL_CHECK_OK(sl_conf_set(conf, "clock", "manual", err, sizeof err));
    SL_CHECK_OK(sl_conf_set(conf, "workers", "2", err, sizeof err));
    ctx = sl_context_new(conf, err, sizeof err);
    SL_CHECK(ctx != NULL);
    sl_context_set_logger(ctx, sl_test_quiet_log, NULL);
    return ctx;
}

static sl_status run_ctx(sl_context *ctx)
{
    SL_CHECK_OK(sl_context_start(ctx));
    return sl_context_await_termination(ctx);
}

/* ------------------------------------------------------ counting sink */

typedef struct counter {
    int opens;
    int64_t written[8], committed[8], aborted[8], seen_by_foreach[8];
    size_t nwritten, ncommitted, naborted, nforeach;
    int64_t fail_batch; /* write_batch fails this batch */
    bool freed;
} counter;

static sl_status count_open(void *state, const char *name)
{
    counter *c = state;
    (void)name;
    c->opens++;
    return SL_OK;
}

static sl_status count_write(void *state, int64_t id, int64_t time_ms,
                             sl_rdd *rdd)
{
    counter *c = state;
    SL_CHECK_INT(time_ms, id * 1000);
    SL_CHECK_INT(sl_rdd_batch_id(rdd), id);
    if (c->nwritten < 8)
        c->written[c->nwritten++] = id;
    return id == c->fail_batch ? SL_EIO : SL_OK;
}

static sl_status count_commit(void *state, int64_t id)
{
    counter *c = state;
    if (c->ncommitted < 8)
        c->committed[c->ncommitted++] = id;
    return SL_OK;
}

static void count_abort(void *state, int64_t id)
{
    counter *c = state;
    if (c->naborted < 8)
        c->aborted[c->naborted++] = id;
}

static void count_free(void *state)
{
    ((counter *)state)->freed = true;
}

static const sl_sink_ops count_ops = {
    SL_SINK_OPS_VERSION, "count", count_open, count_write, count_commit,
    count_abort,         NULL,    count_free, NULL};

/* foreach_rdd learns the batch id; it fails batch *user when > 0. */
static sl_status foreach_ids(sl_rdd *rdd, int64_t time_ms, void *user)
{
    counter *c = user;
    (void)time_ms;
    if (c->nforeach < 8)
        c->seen_by_foreach[c->nforeach++] = sl_rdd_batch_id(rdd);
    return sl_rdd_batch_id(rdd) == c->fail_batch ? SL_EUSER : SL_OK;
}

static sl_dstream *queue3(sl_context *ctx)
{
    sl_value v[3] = {sl_int(1), sl_int(2), sl_int(3)};
    sl_dstream *q = sl_queue_stream(ctx, 2);
    SL_CHECK(q != NULL);
    SL_CHECK_OK(sl_queue_stream_push(q, v, 3));
    SL_CHECK_OK(sl_queue_stream_push(q, v, 2));
    SL_CHECK_OK(sl_queue_stream_push(q, v, 1));
    return q;
}

static void test_batch_ids(void)
{
    counter c, f;
    sl_context *ctx = new_ctx(3);
    sl_dstream *q = queue3(ctx);
    memset(&c, 0, sizeof c);
    memset(&f, 0, sizeof f);
    SL_CHECK_OK(sl_dstream_add_sink(q, NULL, &count_ops, &c));
    SL_CHECK_OK(sl_dstream_foreach_rdd(q, foreach_ids, &f));
    SL_CHECK_STR(sl__output_name_at(ctx, 0), "0.count");
    SL_CHECK_OK(run_ctx(ctx));
    SL_CHECK_INT(c.opens, 1);
    SL_CHECK_INT(c.nwritten, 3);
    SL_CHECK_INT(c.written[2], 3);
    SL_CHECK_INT(c.ncommitted, 3);
    SL_CHECK_INT(c.committed[0], 1);
    SL_CHECK_INT(c.committed[2], 3);
    SL_CHECK_INT(c.naborted, 0);
    SL_CHECK_INT(f.nforeach, 3);
    SL_CHECK_INT(f.seen_by_foreach[1], 2);
    SL_CHECK(!c.freed);
    sl_context_free(ctx);
    SL_CHECK(c.freed);
}

/* A later output fails batch 2: the sink wrote it, and is told to abort
 * it instead of committing it. */
static void test_abort_on_failed_batch(void)
{
    counter c, f;
    sl_context *ctx = new_ctx(3);
    sl_dstream *q = queue3(ctx);
    memset(&c, 0, sizeof c);
    memset(&f, 0, sizeof f);
    f.fail_batch = 2;
    SL_CHECK_OK(sl_dstream_add_sink(q, "counts", &count_ops, &c));
    SL_CHECK_OK(sl_dstream_foreach_rdd(q, foreach_ids, &f));
    SL_CHECK_INT(run_ctx(ctx), SL_EUSER);
    SL_CHECK_INT(c.nwritten, 2);
    SL_CHECK_INT(c.ncommitted, 1);
    SL_CHECK_INT(c.committed[0], 1);
    SL_CHECK_INT(c.naborted, 1);
    SL_CHECK_INT(c.aborted[0], 2);
    sl_context_free(ctx);
}

/* The sink's own failure names the sink and the batch. */
static void test_write_fails(void)
{
    counter c;
    sl_context *ctx = new_ctx(3);
    sl_dstream *q = queue3(ctx);
    memset(&c, 0, sizeof c);
    c.fail_batch = 2;
    SL_CHECK_OK(sl_dstream_add_sink(q, "counts", &count_ops, &c));
    SL_CHECK_INT(run_ctx(ctx), SL_EIO);
    SL_CHECK(strstr(sl_context_errmsg(ctx), "sink counts: write of batch 2") !=
             NULL);
    SL_CHECK_INT(c.naborted, 1);
    sl_context_free(ctx);
}

static void test_names(void)
{
    counter a, b, c;
    sl_context *ctx = new_ctx(1);
    sl_dstream *q = queue3(ctx);
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    memset(&c, 0, sizeof c);
    SL_CHECK_OK(sl_dstream_set_name(q, "nums"));
    SL_CHECK_OK(sl_dstream_add_sink(q, NULL, &count_ops, &a));
    SL_CHECK_OK(sl_dstream_add_sink(q, NULL, &count_ops, &b));
    SL_CHECK_STR(sl__output_name_at(ctx, 0), "nums.count");
    SL_CHECK_STR(sl__output_name_at(ctx, 1), "nums.count.1");
    /* An explicit name taken: refused, and the state freed. */
    SL_CHECK_INT(sl_dstream_add_sink(q, "nums.count", &count_ops, &c),
                 SL_EINVAL);
    SL_CHECK(c.freed);
    sl_context_free(ctx);
}

/* ----------------------------------------------------------- file sink */

static char *tmpdir(void)
{
    char tmpl[] = "/tmp/sl_sink_XXXXXX";
    SL_CHECK(mkdtemp(tmpl) != NULL);
    return strdup(tmpl);
}

static char *read_at(const char *dir, const char *name)
{
    char path[1024];
    size_t len;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return sl_test_read_file(path, &len);
}

static bool exists_at(const char *dir, const char *name)
{
    char path[1024];
    struct stat sb;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return stat(path, &sb) == 0;
}

static void add_file_sink(sl_dstream *s, const char *dir, const char *format)
{
    char err[256];
    sl_conf *conf = sl_conf_new();
    SL_CHECK_OK(sl_conf_set(conf, "file_sink.format", format, err, sizeof err));
    SL_CHECK_OK(sl_file_sink(s, NULL, dir, conf));
    sl_conf_free(conf);
}

static void test_formats(void)
{
    sl_value items[3] = {sl_int(1), sl_cstr("a,\"b\""), sl_null()};
    sl_value k = sl_cstr("k"), i2 = sl_int(2);
    sl_value pv[2] = {k, i2};
    sl_value v[5];
    char *root = tmpdir(), dirs[3][100];
    const char *formats[] = {"json", "csv", "text"};
    const char *want[] = {
        "[1,\"a,\\\"b\\\"\",null]\n[\"k\",2]\n\"x y\"\n2.5\n\"\"\n",
        "1,\"a,\"\"b\"\"\",\nk,2\nx y\n2.5\n\n",
        "(1,a,\"b\",null)\n(k,2)\nx y\n2.5\n\n"};
    const char *names[] = {"part-00000001-00000.json",
                           "part-00000001-00000.csv",
                           "part-00000001-00000.txt"};
    sl_context *ctx = new_ctx(1);
    sl_dstream *q = sl_queue_stream(ctx, 1);
    size_t f;
    v[0] = sl_composite(SL_KIND_TUPLE, items, 3);
    v[1] = sl_composite(SL_KIND_PAIR, pv, 2);
    v[2] = sl_cstr("x y");
    v[3] = sl_double(2.5);
    v[4] = sl_cstr("");
    SL_CHECK_OK(sl_queue_stream_push(q, v, 5));
    for (f = 0; f < 3; f++) {
        snprintf(dirs[f], sizeof dirs[f], "%s/%s", root, formats[f]);
        add_file_sink(q, dirs[f], formats[f]);
    }
    SL_CHECK_OK(run_ctx(ctx));
    sl_context_free(ctx);
    for (f = 0; f < 3; f++) {
        char *got = read_at(dirs[f], names[f]);
        SL_CHECK(got != NULL);
        SL_CHECK_STR(got ? got : "", want[f]);
        free(got);
        SL_CHECK(exists_at(dirs[f], "_sluice_metadata/1"));
    }
    sl_test_remove_tree(root);
    free(root);
}

/* Batches 1 and 2 of values, in `parts` partitions, into dir; with
 * resume_after > 0 the ids continue after it (a re-run of batch 2). */
static void run_into(const char *dir, size_t parts, int64_t resume_after,
                     int64_t first_value)
{
    sl_value v[4];
    sl_context *ctx = new_ctx(2);
    sl_dstream *q = sl_queue_stream(ctx, parts);
    sl__resume res;
    size_t i;
    for (i = 0; i < 4; i++)
        v[i] = sl_int(first_value + (int64_t)i);
    SL_CHECK_OK(sl_queue_stream_push(q, v, 4));
    SL_CHECK_OK(sl_queue_stream_push(q, v, 4));
    add_file_sink(q, dir, "text");
    if (resume_after > 0) {
        memset(&res, 0, sizeof res);
        res.last_batch_id = resume_after;
        SL_CHECK_OK(sl__context_resume(ctx, &res));
    }
    SL_CHECK_OK(run_ctx(ctx));
    sl_context_free(ctx);
}

typedef struct names {
    char all[1024];
} names;

static void add_name(void *user, const char *name)
{
    names *n = user;
    snprintf(n->all + strlen(n->all), sizeof n->all - strlen(n->all), "%s ",
             name);
}

typedef struct listed {
    char all[1024];
    size_t n;
} listed;

static sl_status list_file(void *user, const char *sink, const sl_sink_file *f)
{
    listed *l = user;
    char line[600];
    snprintf(line, sizeof line, "%s %s %llu\n", sink, strrchr(f->path, '/') + 1,
             (unsigned long long)f->bytes);
    snprintf(l->all + strlen(l->all), sizeof l->all - strlen(l->all), "%s",
             line);
    l->n++;
    return SL_OK;
}

/* What commits/<batch> gets: the files the sinks wrote for the batch
 * (the file sink's part files, then its manifest entry, 24 header bytes
 * and its JSON), only for the batch they last wrote. */
static void test_outputs_files(void)
{
    char *dir = tmpdir();
    sl_value v[3] = {sl_int(7), sl_int(8), sl_int(9)};
    sl_context *ctx = new_ctx(1);
    sl_dstream *q = sl_queue_stream(ctx, 1);
    batch b;
    listed l;
    SL_CHECK_OK(sl_queue_stream_push(q, v, 3));
    SL_CHECK_OK(sl_file_sink(q, "out", dir, NULL));
    SL_CHECK_OK(run_ctx(ctx));
    memset(&b, 0, sizeof b);
    memset(&l, 0, sizeof l);
    b.id = 1;
    SL_CHECK_OK(sl__outputs_files(ctx, &b, list_file, &l));
    SL_CHECK_STR(l.all, "out part-00000001-00000.json 6\nout 1 122\n");
    b.id = 2;
    memset(&l, 0, sizeof l);
    SL_CHECK_OK(sl__outputs_files(ctx, &b, list_file, &l));
    SL_CHECK_INT(l.n, 0);
    sl_context_free(ctx);
    sl_test_remove_tree(dir);
    free(dir);
}

/* A re-run batch replaces its files: none of the earlier run's is left,
 * even where the re-run has fewer partitions, and its manifest lists the
 * new set. */
static void test_rerun_replaces(void)
{
    char *dir = tmpdir(), err[256];
    char *got;
    names n;
    run_into(dir, 2, 0, 10);
    SL_CHECK(exists_at(dir, "part-00000002-00001.txt"));
    run_into(dir, 1, 1, 20); /* batch 2 only, one partition */
    SL_CHECK(!exists_at(dir, "part-00000002-00001.txt"));
    got = read_at(dir, "part-00000002-00000.txt");
    SL_CHECK_STR(got ? got : "", "20\n21\n22\n23\n");
    free(got);
    got = read_at(dir, "part-00000001-00000.txt");
    SL_CHECK_STR(got ? got : "", "10\n11\n");
    free(got);
    memset(&n, 0, sizeof n);
    SL_CHECK_OK(sl__manifest_each(dir, add_name, &n, err, sizeof err));
    SL_CHECK(strstr(n.all, "part-00000001-00000.txt ") != NULL);
    SL_CHECK(strstr(n.all, "part-00000001-00001.txt ") != NULL);
    SL_CHECK(strstr(n.all, "part-00000002-00000.txt ") != NULL);
    SL_CHECK(strstr(n.all, "part-00000002-00001.txt") == NULL);
    sl_test_remove_tree(dir);
    free(dir);
}

static long inode_at(const char *dir, const char *name)
{
    char path[1024];
    struct stat sb;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return stat(path, &sb) == 0 ? (long)sb.st_ino : -1;
}

/* A re-run that writes the same bytes keeps the files themselves (a
 * directory source that read them does not see new files); one that
 * changed is replaced. */
static void test_rerun_same_bytes(void)
{
    char *dir = tmpdir();
    long before0, before1;
    run_into(dir, 2, 0, 10);
    before0 = inode_at(dir, "part-00000002-00000.txt");
    before1 = inode_at(dir, "part-00000002-00001.txt");
    SL_CHECK(before0 > 0 && before1 > 0);
    run_into(dir, 2, 1, 10); /* batch 2 again, the same values */
    SL_CHECK_INT(inode_at(dir, "part-00000002-00000.txt"), before0);
    SL_CHECK_INT(inode_at(dir, "part-00000002-00001.txt"), before1);
    sl_test_remove_tree(dir);
    free(dir);
}

static void put_at(const char *dir, const char *name, const char *text)
{
    char path[1024];
    FILE *f;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    f = fopen(path, "w");
    SL_CHECK(f != NULL);
    fputs(text, f);
    fclose(f);
}

/* What a crash left: staging files, and part files of a batch that never
 * got its manifest; open removes them and nothing else. */
static void test_leftovers_cleaned(void)
{
    char *dir = tmpdir(), err[256] = "";
    put_at(dir, ".part-00000007-00000.txt.tmp", "half");
    put_at(dir, "part-00000009-00000.txt", "no manifest");
    put_at(dir, "notes.txt", "not ours");
    /* A number past INT64_MAX is not a batch of ours (2^64 + 1 once
     * wrapped to batch 1, which had no manifest yet: deleted). */
    put_at(dir, "part-18446744073709551617-00000.txt", "not ours");
    run_into(dir, 1, 0, 1);
    SL_CHECK(exists_at(dir, "part-18446744073709551617-00000.txt"));
    /* The directory source's question about such a name: not listed (and
     * no signed overflow on the way, which UBSan would stop). */
    SL_CHECK_INT(sl__manifest_lists(dir, "part-99999999999999999999-0.txt", err,
                                    sizeof err),
                 SL_ENOTFOUND);
    SL_CHECK_INT(
        sl__manifest_lists(dir, "part-00000001-00000.txt", err, sizeof err),
        SL_OK);
    SL_CHECK(!exists_at(dir, ".part-00000007-00000.txt.tmp"));
    SL_CHECK(!exists_at(dir, "part-00000009-00000.txt"));
    SL_CHECK(exists_at(dir, "notes.txt"));
    SL_CHECK(exists_at(dir, "part-00000001-00000.txt"));
    SL_CHECK(exists_at(dir, "part-00000002-00000.txt"));
    sl_test_remove_tree(dir);
    free(dir);
}

/* The manifest is a checked file: a flipped byte is reported by path. */
static void test_manifest_checked(void)
{
    char *dir = tmpdir(), err[512] = "", path[512];
    names n;
    FILE *f;
    run_into(dir, 1, 0, 1);
    snprintf(path, sizeof path, "%s/_sluice_metadata/2", dir);
    f = fopen(path, "r+");
    SL_CHECK(f != NULL);
    fseek(f, 30, SEEK_SET);
    fputc('#', f);
    fclose(f);
    memset(&n, 0, sizeof n);
    SL_CHECK_INT(sl__manifest_each(dir, add_name, &n, err, sizeof err),
                 SL_ECORRUPT);
    SL_CHECK(strstr(err, "_sluice_metadata/2") != NULL);
    sl_test_remove_tree(dir);
    free(dir);
}

const char *SL_SUITE = "stream/sink";
const sl_test_case SL_TESTS[] = {
    {"batch_ids", test_batch_ids},
    {"abort_on_failed_batch", test_abort_on_failed_batch},
    {"write_fails", test_write_fails},
    {"names", test_names},
    {"formats", test_formats},
    {"outputs_files", test_outputs_files},
    {"rerun_replaces", test_rerun_replaces},
    {"rerun_same_bytes", test_rerun_same_bytes},
    {"leftovers_cleaned", test_leftovers_cleaned},
    {"manifest_checked", test_manifest_checked},
    {NULL, NULL}};
