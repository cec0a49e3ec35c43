/*
 * The progress entry (src/stream/progress.c): for known batches of a
 * queue source on the manual clock, each entry handed to on_progress has
 * exactly the documented fields, in order, with the values those batches
 * must give; the ring keeps the last progress.retain entries for
 * sl_context_recent_progress; a version-1 listener table is read no
 * further than its version. A source's lag (the queue's records, the
 * directory source's files not yet taken) and windows' retained records
 * in state.
 */
#include <cJSON.h>
#include <math.h>
#include <pthread.h>
#include <sluice/sluice.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "core/records.h"
#include "sl_test.h"
#include "sl_test_util.h"
#include "stream/stream_int.h"

#define BATCHES 3

typedef struct seen {
    sl_context *ctx;
    char *entries[BATCHES + 1];
    size_t n;
} seen;

static void on_progress(const char *json, size_t len, void *user)
{
    seen *s = user;
    SL_CHECK_INT(strlen(json), len);
    if (s->n < BATCHES + 1)
        s->entries[s->n++] = strdup(json);
}

static sl_status count_update(sl_task *t, const sl_value *key,
                              const sl_value *values, const sl_value *state,
                              sl_value *new_state, bool *remove, void *user)
{
    (void)t, (void)key, (void)user;
    *remove = false;
    *new_state = sl_int((state ? state->u.i : 0) + (int64_t)values->len);
    return SL_OK;
}

/* The checkpoint writer's part, played here: batch n wrote n files of
 * 100 bytes each (the setter runs on the job thread, as it will). */
static sl_status fake_checkpoint(sl_rdd *rdd, int64_t time_ms, void *user)
{
    seen *s = user;
    int64_t id = time_ms / 1000;
    (void)rdd;
    sl__batch_set_checkpoint_stats(s->ctx->current, 100 * id, id);
    return SL_OK;
}

/* Keys of o, in order, joined by ','. */
static void keys_of(const cJSON *o, char *out, size_t n)
{
    const cJSON *c;
    size_t len = 0;
    out[0] = '\0';
    cJSON_ArrayForEach(c, o)
    {
        len += (size_t)snprintf(out + len, n - len, "%s%s", len ? "," : "",
                                c->string);
        if (len >= n)
            return;
    }
}

static void check_keys(const cJSON *o, const char *want)
{
    char got[512];
    keys_of(o, got, sizeof got);
    SL_CHECK_STR(got, want);
}

static double num(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    SL_CHECK(cJSON_IsNumber(v));
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static const char *str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    SL_CHECK(cJSON_IsString(v));
    return cJSON_IsString(v) ? v->valuestring : "";
}

static bool is_null(const cJSON *o, const char *key)
{
    return cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(o, key));
}

static sl_context *build(seen *s)
{
    char err[256];
    const char *kv[] = {"clock",
                        "manual",
                        "workers",
                        "2",
                        "log.level",
                        "error",
                        "max_batches",
                        "3",
                        "batch_interval",
                        "1s",
                        "progress.retain",
                        "2",
                        NULL};
    sl_conf *conf = sl_conf_new();
    sl_value k[3] = {sl_cstr("a"), sl_cstr("b"), sl_cstr("c")}, one = sl_int(1);
    sl_value in[4];
    sl_dstream *q, *counts;
    sl_listener l;
    size_t i;

    for (i = 0; kv[i]; i += 2)
        SL_CHECK_OK(sl_conf_set(conf, kv[i], kv[i + 1], err, sizeof err));
    s->ctx = sl_context_new(conf, err, sizeof err);
    SL_CHECK(s->ctx != NULL);
    q = sl_queue_stream(s->ctx, 2);
    SL_CHECK_OK(sl_dstream_set_name(q, "in"));
    in[0] = sl_composite(SL_KIND_PAIR, (sl_value[]){k[0], one}, 2);
    in[1] = sl_composite(SL_KIND_PAIR, (sl_value[]){k[1], one}, 2);
    in[2] = sl_composite(SL_KIND_PAIR, (sl_value[]){k[0], one}, 2);
    SL_CHECK_OK(sl_queue_stream_push(q, in, 3)); /* batch 1: a, b, a */
    in[3] = sl_composite(SL_KIND_PAIR, (sl_value[]){k[2], one}, 2);
    SL_CHECK_OK(sl_queue_stream_push(q, in + 3, 1)); /* batch 2: c */
    counts = sl_dstream_update_state_by_key(q, count_update, NULL, NULL, 0);
    SL_CHECK_OK(sl_dstream_set_name(counts, "counts"));
    SL_CHECK_OK(sl_dstream_foreach_rdd(counts, fake_checkpoint, s));
    SL_CHECK_OK(sl__output_set_name(s->ctx, "ckpt"));
    SL_CHECK_OK(sl_dstream_print_json(counts, "counts"));
    memset(&l, 0, sizeof l);
    l.version = SL_LISTENER_VERSION;
    l.on_progress = on_progress;
    SL_CHECK_OK(sl_context_add_listener(s->ctx, &l, s));
    SL_CHECK_OK(sl__context_set_job_name(s->ctx, "progress-test"));
    SL_CHECK_OK(sl__context_set_job_id(s->ctx, "job-id-from-checkpoint"));
    return s->ctx;
}

/* duration_ms: every phase a number >= 0 with microsecond resolution, and
 * the phases (disjoint spans of the batch) add up to at most the total. */
static void check_durations(const cJSON *d)
{
    static const char *const phases[] = {"plan", "offsets", "compute", "sinks",
                                         "commit"};
    double sum = 0, v;
    size_t i;
    check_keys(d, "plan,offsets,compute,sinks,commit,total");
    for (i = 0; i < 5; i++) {
        v = num(d, phases[i]);
        SL_CHECK(v >= 0);
        SL_CHECK(fabs(v * 1000 - round(v * 1000)) < 1e-6);
        sum += round(v * 1000);
    }
    SL_CHECK(sum <= round(num(d, "total") * 1000));
}

static void check_state(const cJSON *state, int64_t rows)
{
    const cJSON *s = cJSON_GetArrayItem(state, 0);
    SL_CHECK_INT(cJSON_GetArraySize(state), 1);
    check_keys(s, "op,rows,bytes,dropped_late");
    SL_CHECK_STR(str(s, "op"), "counts");
    SL_CHECK_INT(num(s, "rows"), rows);
    SL_CHECK(num(s, "bytes") > 0);
    SL_CHECK_INT(num(s, "dropped_late"), 0);
}

/* The source's end is what the queue recorded; its start the end of the
 * batch before (none before the first). */
static void check_source(const cJSON *sources, int64_t id, int64_t rows,
                         char **prev_end)
{
    /* entry c waits behind batch 1's entry; nothing after batch 2 */
    static const int64_t lag[] = {0, 1, 0, 0};
    const cJSON *s = cJSON_GetArrayItem(sources, 0), *end;
    char *start;
    SL_CHECK_INT(cJSON_GetArraySize(sources), 1);
    check_keys(s, "name,description,start,end,rows,malformed,lag");
    SL_CHECK_STR(str(s, "name"), "in");
    SL_CHECK_STR(str(s, "description"), "queue");
    end = cJSON_GetObjectItemCaseSensitive(s, "end");
    SL_CHECK_INT(num(end, "entry"), id - 1); /* queue entries from 0 */
    SL_CHECK_INT(num(end, "records"), rows);
    start = cJSON_PrintUnformatted(cJSON_GetObjectItem(s, "start"));
    SL_CHECK_STR(start, *prev_end ? *prev_end : "null");
    cJSON_free(start);
    cJSON_free(*prev_end);
    *prev_end = cJSON_PrintUnformatted(end);
    SL_CHECK_INT(num(s, "rows"), rows);
    SL_CHECK(is_null(s, "malformed"));
    SL_CHECK_INT(num(s, "lag"), lag[id]);
}

static void check_sinks(const cJSON *sinks, int64_t printed)
{
    const cJSON *a = cJSON_GetArrayItem(sinks, 0);
    const cJSON *b = cJSON_GetArrayItem(sinks, 1);
    SL_CHECK_INT(cJSON_GetArraySize(sinks), 2);
    check_keys(a, "name,rows");
    SL_CHECK_STR(str(a, "name"), "ckpt");
    SL_CHECK(is_null(a, "rows")); /* foreach_rdd counts nothing */
    check_keys(b, "name,rows");
    /* a sink without a given name: STREAM.TYPE */
    SL_CHECK_STR(str(b, "name"), "counts.console");
    SL_CHECK_INT(num(b, "rows"), printed);
}

static void check_entry(const char *text, int64_t id, char **prev_end)
{
    static const int64_t rows[] = {0, 3, 1, 0}, keys[] = {0, 2, 3, 3};
    /* the length with the NUL, which require_nul looks for */
    cJSON *e = sl__json_parse(text, strlen(text) + 1, NULL, true);
    const char *ts;
    SL_CHECK(e != NULL);
    if (!e)
        return;
    check_keys(e, "job,job_id,run_id,batch,batch_time_ms,timestamp,"
                  "input_rows,input_rows_per_s,processed_rows_per_s,"
                  "duration_ms,scheduling_delay_ms,queued_batches,"
                  "absorbed_ticks,state,sources,sinks,checkpoint");
    SL_CHECK_STR(str(e, "job"), "progress-test");
    SL_CHECK_STR(str(e, "job_id"), "job-id-from-checkpoint");
    SL_CHECK_INT(strlen(str(e, "run_id")), 36);
    SL_CHECK_INT(num(e, "batch"), id);
    SL_CHECK_INT(num(e, "batch_time_ms"), id * 1000);
    ts = str(e, "timestamp"); /* 2026-01-02T03:04:05.678Z */
    SL_CHECK_INT(strlen(ts), 24);
    SL_CHECK(ts[10] == 'T' && ts[19] == '.' && ts[23] == 'Z');
    SL_CHECK_INT(num(e, "input_rows"), rows[id]);
    /* rows per second of the 1 s of stream time the batch covers */
    SL_CHECK(fabs(num(e, "input_rows_per_s") - (double)rows[id]) < 1e-9);
    SL_CHECK(num(e, "processed_rows_per_s") >= 0);
    SL_CHECK(rows[id] == 0 || num(e, "processed_rows_per_s") > 0);
    check_durations(cJSON_GetObjectItem(e, "duration_ms"));
    SL_CHECK(num(e, "scheduling_delay_ms") >= 0);
    SL_CHECK(num(e, "queued_batches") >= 0);
    SL_CHECK_INT(num(e, "absorbed_ticks"), 0);
    check_state(cJSON_GetObjectItem(e, "state"), keys[id]);
    check_source(cJSON_GetObjectItem(e, "sources"), id, rows[id], prev_end);
    check_sinks(cJSON_GetObjectItem(e, "sinks"), keys[id]);
    check_keys(cJSON_GetObjectItem(e, "checkpoint"), "bytes,files");
    SL_CHECK_INT(num(cJSON_GetObjectItem(e, "checkpoint"), "bytes"), 100 * id);
    SL_CHECK_INT(num(cJSON_GetObjectItem(e, "checkpoint"), "files"), id);
    cJSON_Delete(e);
}

static void test_entry_fields(void)
{
    seen s;
    char *prev_end = NULL, *run_id = NULL;
    size_t i;
    memset(&s, 0, sizeof s);
    build(&s);
    SL_CHECK_OK(sl_context_start(s.ctx));
    SL_CHECK_OK(sl_context_await_termination(s.ctx));
    SL_CHECK_INT(s.n, BATCHES);
    for (i = 0; i < s.n; i++) {
        check_entry(s.entries[i], (int64_t)i + 1, &prev_end);
        /* one run: one run id */
        if (i == 0)
            run_id = strdup(strstr(s.entries[0], "\"run_id\""));
        else
            SL_CHECK(strncmp(strstr(s.entries[i], "\"run_id\""), run_id, 50) ==
                     0);
    }
    cJSON_free(prev_end);
    free(run_id);
    sl_context_free(s.ctx);
    for (i = 0; i < s.n; i++)
        free(s.entries[i]);
}

/* Read the kept entries while batches run (TSan checks the ring's lock);
 * every read is a JSON array. */
static void *reader(void *arg)
{
    sl_context *ctx = arg;
    char *all;
    int reads = 0;
    while (sl_context_await_termination_or_timeout(ctx, 0) == SL_ETIMEDOUT ||
           reads == 0) {
        if (sl_context_recent_progress(ctx, 0, &all, NULL) != SL_OK)
            return "failed";
        if (all[0] != '[' || all[strlen(all) - 1] != ']') {
            sl_free(all);
            return "not an array";
        }
        sl_free(all);
        reads++;
    }
    return NULL;
}

/* progress.retain 2: the last two entries, oldest first; max picks the
 * newest. */
static void test_recent(void)
{
    seen s;
    char *all, *last, want[8192];
    size_t len, i;
    pthread_t th;
    void *why;
    memset(&s, 0, sizeof s);
    build(&s);
    SL_CHECK_OK(sl_context_recent_progress(s.ctx, 0, &all, &len));
    SL_CHECK_STR(all, "[]");
    sl_free(all);
    SL_CHECK_OK(sl_context_start(s.ctx));
    SL_CHECK_INT(pthread_create(&th, NULL, reader, s.ctx), 0);
    SL_CHECK_OK(sl_context_await_termination(s.ctx));
    SL_CHECK_INT(pthread_join(th, &why), 0);
    SL_CHECK_STR(why ? (const char *)why : "ok", "ok");
    SL_CHECK_INT(s.n, BATCHES);
    SL_CHECK_OK(sl_context_recent_progress(s.ctx, 0, &all, &len));
    snprintf(want, sizeof want, "[%s,%s]", s.entries[1], s.entries[2]);
    SL_CHECK_STR(all, want);
    SL_CHECK_INT(len, strlen(want));
    SL_CHECK_OK(sl_context_recent_progress(s.ctx, 1, &last, NULL));
    snprintf(want, sizeof want, "[%s]", s.entries[2]);
    SL_CHECK_STR(last, want);
    SL_CHECK_INT(sl_context_recent_progress(NULL, 0, &last, NULL), SL_EINVAL);
    sl_free(all);
    sl_free(last);
    sl_context_free(s.ctx);
    for (i = 0; i < s.n; i++)
        free(s.entries[i]);
}

static int v1_completed;

static void on_completed_v1(const sl_batch_info *b, void *user)
{
    (void)b, (void)user;
    v1_completed++;
}

/* A program built against version 1 passes a table without on_progress:
 * it is copied only as far as version 1 goes (ASan sees an over-read of
 * the exact-size block) and still told of every batch. */
static void test_listener_v1(void)
{
    seen s;
    size_t v1_size = offsetof(sl_listener, on_progress), i;
    sl_listener *old = malloc(v1_size), full;
    memset(&full, 0, sizeof full);
    full.version = 1;
    full.on_batch_completed = on_completed_v1;
    memcpy(old, &full, v1_size);
    memset(&s, 0, sizeof s);
    build(&s);
    SL_CHECK_OK(sl_context_add_listener(s.ctx, old, NULL));
    free(old);
    SL_CHECK_OK(sl_context_start(s.ctx));
    SL_CHECK_OK(sl_context_await_termination(s.ctx));
    SL_CHECK_INT(v1_completed, BATCHES);
    SL_CHECK_INT(s.n, BATCHES);
    sl_context_free(s.ctx);
    for (i = 0; i < s.n; i++)
        free(s.entries[i]);
}

/* ------------------------------------------------ lag and window state */

static sl_status ignore(sl_rdd *rdd, int64_t time_ms, void *user)
{
    (void)rdd, (void)time_ms, (void)user;
    return SL_OK;
}

/* A context on the manual clock running `batches` batches, its entries
 * into s; the settings beyond the common ones in kv. */
static sl_context *small_ctx(seen *s, const char *batches,
                             const char *const *kv)
{
    char err[256];
    const char *base[] = {"clock",          "manual", "workers",     "2",
                          "log.level",      "error",  "max_batches", batches,
                          "batch_interval", "1s",     NULL};
    sl_conf *conf = sl_conf_new();
    sl_listener l;
    size_t i;
    for (i = 0; base[i]; i += 2)
        SL_CHECK_OK(sl_conf_set(conf, base[i], base[i + 1], err, sizeof err));
    for (i = 0; kv && kv[i]; i += 2)
        SL_CHECK_OK(sl_conf_set(conf, kv[i], kv[i + 1], err, sizeof err));
    memset(s, 0, sizeof *s);
    s->ctx = sl_context_new(conf, err, sizeof err);
    SL_CHECK(s->ctx != NULL);
    memset(&l, 0, sizeof l);
    l.version = SL_LISTENER_VERSION;
    l.on_progress = on_progress;
    SL_CHECK_OK(sl_context_add_listener(s->ctx, &l, s));
    return s->ctx;
}

static void run_all(seen *s, size_t want)
{
    SL_CHECK_OK(sl_context_start(s->ctx));
    SL_CHECK_OK(sl_context_await_termination(s->ctx));
    SL_CHECK_INT(s->n, want);
}

static cJSON *entry(const seen *s, size_t i)
{
    cJSON *e = i < s->n ? sl__json_parse(s->entries[i],
                                         strlen(s->entries[i]) + 1, NULL, true)
                        : NULL;
    SL_CHECK(e != NULL);
    return e;
}

/* The lag of entry e's first source; -1 when null or absent. */
static int64_t lag_of(const cJSON *e)
{
    const cJSON *src = cJSON_GetArrayItem(cJSON_GetObjectItem(e, "sources"), 0);
    const cJSON *lag = cJSON_GetObjectItemCaseSensitive(src, "lag");
    return cJSON_IsNumber(lag) ? (int64_t)lag->valuedouble : -1;
}

/* State element k of entry e is op with rows records and some bytes. */
static void check_window(const cJSON *e, int k, const char *op, int64_t rows)
{
    const cJSON *w = cJSON_GetArrayItem(cJSON_GetObjectItem(e, "state"), k);
    SL_CHECK(w != NULL);
    if (!w)
        return;
    check_keys(w, "op,rows,bytes,dropped_late");
    SL_CHECK_STR(str(w, "op"), op);
    SL_CHECK_INT(num(w, "rows"), rows);
    SL_CHECK(num(w, "bytes") >= (double)rows * sizeof(sl_value));
    SL_CHECK_INT(num(w, "dropped_late"), 0);
}

/*
 * A queue takes one entry per batch: with entries of 2 and 3 records
 * pushed, the first entry's lag is the 3 records of the second, the
 * second's 0. An unnamed 1 s window (named as its checkpoint files are)
 * keeps the batch it covers, a named 2 s window both.
 */
static void test_queue_lag_windows(void)
{
    seen s;
    sl_value in[5];
    sl_dstream *q, *w1, *w2;
    cJSON *e;
    size_t i;
    for (i = 0; i < 5; i++)
        in[i] = sl_int((int64_t)i);
    small_ctx(&s, "2", NULL);
    q = sl_queue_stream(s.ctx, 1);
    SL_CHECK_OK(sl_dstream_set_name(q, "in"));
    SL_CHECK_OK(sl_queue_stream_push(q, in, 2));
    SL_CHECK_OK(sl_queue_stream_push(q, in + 2, 3));
    w1 = sl_dstream_window(q, 1000, 1000);
    w2 = sl_dstream_window(q, 2000, 1000);
    SL_CHECK_OK(sl_dstream_set_name(w2, "last2"));
    SL_CHECK_OK(sl_dstream_foreach_rdd(w1, ignore, NULL));
    SL_CHECK_OK(sl_dstream_foreach_rdd(w2, ignore, NULL));
    run_all(&s, 2);
    if ((e = entry(&s, 0)) != NULL) {
        SL_CHECK_INT(lag_of(e), 3);
        SL_CHECK_INT(cJSON_GetArraySize(cJSON_GetObjectItem(e, "state")), 2);
        check_window(e, 0, "~window-0", 2);
        check_window(e, 1, "last2", 2);
        cJSON_Delete(e);
    }
    if ((e = entry(&s, 1)) != NULL) {
        SL_CHECK_INT(lag_of(e), 0);
        check_window(e, 0, "~window-0", 3);
        check_window(e, 1, "last2", 5);
        cJSON_Delete(e);
    }
    sl_context_free(s.ctx);
    for (i = 0; i < s.n; i++)
        free(s.entries[i]);
}

/* Write dir/name with one line. */
static void one_line_file(const char *dir, const char *name)
{
    char path[512];
    FILE *f;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    SL_CHECK((f = fopen(path, "w")) != NULL);
    if (f) {
        fputs("a line\n", f);
        fclose(f);
    }
}

/*
 * The directory source's lag is in files: four files there when the
 * source is made (include_existing: seen stable by the first batch) and
 * one written after (found by the first batch's listing, pending until
 * seen unchanged); file.max_files_per_trigger 1 takes one per batch.
 */
static void test_directory_lag(void)
{
    const char *kv[] = {
        "file.include_existing",      "true", "file.watch", "poll",
        "file.max_files_per_trigger", "1",    NULL};
    char tmpl[] = "/tmp/sl-progress-XXXXXX", name[32];
    const char *dir = mkdtemp(tmpl);
    static const int64_t want[] = {4, 3, 2};
    sl_conf *conf = sl_conf_new();
    char err[256];
    seen s;
    sl_dstream *src;
    cJSON *e;
    size_t i;
    SL_CHECK(dir != NULL);
    for (i = 0; dir && i < 4; i++) {
        snprintf(name, sizeof name, "f%zu.txt", i);
        one_line_file(dir, name);
    }
    for (i = 0; kv[i]; i += 2)
        SL_CHECK_OK(sl_conf_set(conf, kv[i], kv[i + 1], err, sizeof err));
    small_ctx(&s, "3", kv);
    src = sl_file_stream(s.ctx, dir, conf);
    SL_CHECK(src != NULL);
    if (dir)
        one_line_file(dir, "later.txt");
    SL_CHECK_OK(sl_dstream_foreach_rdd(src, ignore, NULL));
    run_all(&s, 3);
    for (i = 0; i < 3; i++)
        if ((e = entry(&s, i)) != NULL) {
            SL_CHECK_INT(lag_of(e), want[i]);
            cJSON_Delete(e);
        }
    sl_context_free(s.ctx);
    sl_conf_free(conf);
    for (i = 0; i < s.n; i++)
        free(s.entries[i]);
    if (dir)
        sl_test_remove_tree(dir);
}

const char *SL_SUITE = "stream/progress";
const sl_test_case SL_TESTS[] = {{"entry_fields", test_entry_fields},
                                 {"recent", test_recent},
                                 {"listener_v1", test_listener_v1},
                                 {"queue_lag_windows", test_queue_lag_windows},
                                 {"directory_lag", test_directory_lag},
                                 {NULL, NULL}};
