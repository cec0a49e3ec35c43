/*
 * The control plane's core (src/control): paths and names, the run folder
 * and its modes, the name lock, state.json through a job's life (running,
 * stopped, failed at start), the control socket's requests (status,
 * progress, query, stop) checked against the progress entries, a client
 * that leaves before its reply, and the progress log's rotation.
 */
#include <cJSON.h>
#include <sluice/sluice.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "sl_test.h"
#include "sl_test_util.h"

static char *tmp;

static void path_of(char *out, size_t n, const char *rel)
{
    snprintf(out, n, "%s/%s", tmp, rel);
}

static void setup_env(void)
{
    char p[600];
    tmp = sl_test_tmpdir("control");
    path_of(p, sizeof p, "state");
    setenv("XDG_STATE_HOME", p, 1);
    unsetenv("SLUICE_RUN_DIR");
    unsetenv("SLUICE_JOB_NAME");
}

static void teardown_env(void)
{
    sl_test_remove_tree(tmp);
    free(tmp);
    tmp = NULL;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void test_paths(void)
{
    static const char *const bad[] = {"", ".", "..", "-x", "a/b", NULL};
    char err[512], longdir[300];
    sl_control_paths p;
    size_t i;
    setup_env();
    for (i = 0; bad[i]; i++)
        SL_CHECK_INT(sl_control_paths_for(bad[i], tmp, &p, err, sizeof err),
                     SL_EINVAL);
    SL_CHECK_OK(sl_control_paths_for("wc", "/r", &p, err, sizeof err));
    SL_CHECK_STR(p.job_dir, "/r/wc");
    SL_CHECK_STR(p.socket, "/r/wc/control.sock");
    SL_CHECK(strstr(p.log, "/state/sluice/wc/job.log") != NULL);
    SL_CHECK(strstr(p.progress_log, "/state/sluice/wc/progress.log") != NULL);
    /* the defaults, in order */
    setenv("SLUICE_RUN_DIR", "/from-env", 1);
    SL_CHECK_OK(sl_control_paths_for("wc", NULL, &p, err, sizeof err));
    SL_CHECK_STR(p.run_dir, "/from-env");
    unsetenv("SLUICE_RUN_DIR");
    setenv("XDG_RUNTIME_DIR", "/run/user/7", 1);
    SL_CHECK_OK(sl_control_paths_for("wc", NULL, &p, err, sizeof err));
    SL_CHECK_STR(p.run_dir, "/run/user/7/sluice");
    unsetenv("XDG_RUNTIME_DIR");
    setenv("HOME", "/home/u", 1);
    SL_CHECK_OK(sl_control_paths_for("wc", NULL, &p, err, sizeof err));
    SL_CHECK_STR(p.run_dir, "/home/u/.local/state/sluice/run");
    /* a socket address holds about 108 bytes */
    memset(longdir, 'd', sizeof longdir - 1);
    longdir[0] = '/';
    longdir[sizeof longdir - 1] = '\0';
    SL_CHECK_INT(sl_control_paths_for("wc", longdir, &p, err, sizeof err),
                 SL_ERANGE);
    SL_CHECK(strstr(err, "longer than a Unix socket address allows") != NULL);
    teardown_env();
}

/* A context of 100 ms batches: a queue of 3 batches (2, 3, 1 lines) into
 * memory table t. */
static sl_context *small_job(const char *interval, sl_dstream **q)
{
    const char *const kv[] = {"batch_interval", interval, "log.level", "error",
                              NULL};
    static const char *const lines[] = {"a", "b", "c", "d", "e", "f"};
    sl_value v[6];
    sl_context *ctx = NULL;
    char err[256];
    size_t i;
    SL_CHECK_OK(sl_test_context_open(kv, &ctx, err, sizeof err));
    if (!ctx)
        return NULL;
    *q = sl_queue_stream(ctx, 1);
    for (i = 0; i < 6; i++)
        v[i] = sl_str(lines[i], 1);
    SL_CHECK_OK(sl_queue_stream_push(*q, v, 2));
    SL_CHECK_OK(sl_queue_stream_push(*q, v + 2, 3));
    SL_CHECK_OK(sl_queue_stream_push(*q, v + 5, 1));
    SL_CHECK_OK(sl_memory_sink(*q, "t", NULL));
    return ctx;
}

static sl_status attach(sl_context *ctx, const char *name)
{
    char run[600];
    sl_control_options o;
    memset(&o, 0, sizeof o);
    path_of(run, sizeof run, "run");
    o.version = SL_CONTROL_OPTIONS_VERSION;
    o.name = name;
    o.run_dir = run;
    o.job_json =
        "{\"name\": \"j\", \"kafka\": {\"sasl.password\": \"hunter2\"}}";
    return sl_control_attach(ctx, &o);
}

static cJSON *request(const char *name, const char *req)
{
    char sock[700], err[512];
    char *reply = NULL;
    cJSON *o;
    snprintf(sock, sizeof sock, "%s/run/%s/control.sock", tmp, name);
    if (sl_control_request(sock, req, 10000, &reply, err, sizeof err)) {
        fprintf(stderr, "request %s: %s\n", req, err);
        return NULL;
    }
    o = cJSON_Parse(reply);
    sl_free(reply);
    return o;
}

static double num(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

static const char *str(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) ? v->valuestring : "";
}

static cJSON *read_json(const char *rel)
{
    char p[700];
    size_t len;
    char *text;
    cJSON *o;
    path_of(p, sizeof p, rel);
    if (!(text = sl_test_read_file(p, &len)))
        return NULL;
    o = cJSON_Parse(text);
    free(text);
    return o;
}

/* Status once at least n batches ran (bounded wait). */
static cJSON *status_after(const char *name, int n)
{
    int i;
    for (i = 0; i < 200; i++) {
        cJSON *s = request(name, "{\"cmd\":\"status\"}");
        if (s && num(s, "batches") >= n && !strcmp(str(s, "state"), "running"))
            return s;
        cJSON_Delete(s);
        sleep_ms(50);
    }
    return NULL;
}

static void check_modes(const char *name)
{
    char p[700];
    struct stat st;
    snprintf(p, sizeof p, "%s/run/%s", tmp, name);
    SL_CHECK(stat(p, &st) == 0 && (st.st_mode & 0777) == 0700);
    snprintf(p, sizeof p, "%s/run/%s/control.sock", tmp, name);
    SL_CHECK(stat(p, &st) == 0 && S_ISSOCK(st.st_mode) &&
             (st.st_mode & 0777) == 0600);
}

static void check_query(const char *name)
{
    cJSON *r = request(name, "{\"cmd\":\"query\",\"sql\":\"SELECT count(*) AS "
                             "n FROM t\",\"format\":\"json\"}");
    cJSON *rows = cJSON_GetObjectItemCaseSensitive(r, "rows");
    SL_CHECK(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "ok")));
    SL_CHECK_INT(num(cJSON_GetArrayItem(rows, 0), "n"), 6);
    SL_CHECK_STR(str(r, "text"), "{\"n\":6}\n");
    cJSON_Delete(r);
    r = request(name, "{\"cmd\":\"query\",\"sql\":\"DELETE FROM t\"}");
    SL_CHECK(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(r, "ok")));
    SL_CHECK(strstr(str(r, "error"), "read-only") != NULL);
    cJSON_Delete(r);
    r = request(name, "{\"cmd\":\"query\",\"sql\":\"SELECT nope FROM t\"}");
    SL_CHECK(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(r, "ok")));
    SL_CHECK(strstr(str(r, "error"), "nope") != NULL);
    cJSON_Delete(r);
}

/* status and progress agree: input rows summed over the entries */
static void check_progress(const char *name, cJSON *status)
{
    cJSON *r = request(name, "{\"cmd\":\"progress\",\"n\":0}"), *e;
    double rows = 0, batches = 0;
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(r, "progress"))
    {
        rows += num(e, "input_rows");
        batches++;
    }
    SL_CHECK_INT(rows, 6);
    SL_CHECK(batches >= num(status, "batches"));
    SL_CHECK_INT(num(status, "input_rows_total"), 6);
    SL_CHECK_STR(cJSON_GetArrayItem(
                     cJSON_GetObjectItemCaseSensitive(status, "tables"), 0)
                     ->valuestring,
                 "t");
    cJSON_Delete(r);
}

/* A client that sends a query and leaves at once: the reply is dropped,
 * the control plane goes on. */
static void client_gone(const char *name)
{
    char sock[700];
    struct sockaddr_un sa;
    const char *req = "{\"cmd\":\"query\",\"sql\":\"SELECT * FROM t\"}\n";
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    snprintf(sock, sizeof sock, "%s/run/%s/control.sock", tmp, name);
    memcpy(sa.sun_path, sock, strlen(sock));
    SL_CHECK(connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0);
    SL_CHECK(write(fd, req, strlen(req)) == (ssize_t)strlen(req));
    close(fd);
}

static size_t count_lines(const char *rel)
{
    char p[700];
    size_t n = 0, len = 0, i;
    char *text;
    path_of(p, sizeof p, rel);
    if (!(text = sl_test_read_file(p, &len)))
        return 0;
    for (i = 0; i < len; i++)
        n += text[i] == '\n';
    free(text);
    return n;
}

static void test_lifecycle(void)
{
    sl_context *ctx, *twin;
    sl_dstream *q, *q2;
    cJSON *s, *state;
    size_t len;
    char *job;
    char p[700];
    setup_env();
    ctx = small_job("100ms", &q);
    SL_CHECK_OK(attach(ctx, "wc"));
    check_modes("wc");
    state = read_json("run/wc/state.json");
    SL_CHECK_STR(str(state, "state"), "starting");
    cJSON_Delete(state);
    path_of(p, sizeof p, "run/wc/job.json");
    job = sl_test_read_file(p, &len);
    SL_CHECK(job && !strstr(job, "hunter2") && strstr(job, "<redacted>"));
    free(job);
    /* the name is taken while this one lives */
    twin = small_job("100ms", &q2);
    SL_CHECK_INT(attach(twin, "wc"), SL_EBUSY);
    SL_CHECK(strstr(sl_context_errmsg(twin), "already running") != NULL);
    sl_context_free(twin);

    SL_CHECK_OK(sl_context_start(ctx));
    SL_CHECK((s = status_after("wc", 4)) != NULL);
    state = read_json("run/wc/state.json");
    SL_CHECK_STR(str(state, "state"), "running");
    SL_CHECK_INT(num(state, "pid"), getpid());
    cJSON_Delete(state);
    check_query("wc");
    check_progress("wc", s);
    client_gone("wc");
    cJSON_Delete(s);
    s = request("wc", "{\"cmd\":\"bogus\"}");
    SL_CHECK(strstr(str(s, "error"), "unknown command") != NULL);
    cJSON_Delete(s);
    s = request("wc", "{\"cmd\":\"stop\",\"graceful\":true}");
    SL_CHECK(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(s, "ok")));
    cJSON_Delete(s);
    SL_CHECK_OK(sl_context_await_termination(ctx));
    state = read_json("run/wc/state.json");
    SL_CHECK_STR(str(state, "state"), "stopped");
    SL_CHECK(cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(state, "stop")));
    SL_CHECK(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(state, "error")));
    cJSON_Delete(state);
    SL_CHECK(count_lines("state/sluice/wc/progress.log") >= 4);
    sl_context_free(ctx);
    /* the socket is gone and the name is free again */
    path_of(p, sizeof p, "run/wc/control.sock");
    SL_CHECK(access(p, F_OK) != 0);
    twin = small_job("100ms", &q2);
    SL_CHECK_OK(attach(twin, "wc"));
    sl_context_free(twin);
    teardown_env();
}

/* A start that fails leaves state.json failed with the reason. */
static void test_start_failure(void)
{
    const char *const kv[] = {"batch_interval", "100ms", "log.level", "error",
                              NULL};
    sl_context *ctx = NULL;
    char err[256];
    cJSON *state;
    setup_env();
    SL_CHECK_OK(sl_test_context_open(kv, &ctx, err, sizeof err));
    sl_queue_stream(ctx, 1); /* and no output: start refuses */
    SL_CHECK_OK(attach(ctx, "bad"));
    SL_CHECK_INT(sl_context_start(ctx), SL_ESTATE);
    state = read_json("run/bad/state.json");
    SL_CHECK_STR(str(state, "state"), "failed");
    SL_CHECK(strstr(str(state, "error"), "no output operations") != NULL);
    cJSON_Delete(state);
    sl_context_free(ctx);
    teardown_env();
}

/* Past control.progress_log_bytes the log rotates once: the newest
 * entries are in progress.log, the ones before in progress.log.1. */
static void test_rotation(void)
{
    const char *const kv[] = {"batch_interval",
                              "1s",
                              "clock",
                              "manual",
                              "max_batches",
                              "40",
                              "log.level",
                              "error",
                              "control.progress_log_bytes",
                              "4k",
                              NULL};
    sl_context *ctx = NULL;
    sl_dstream *q;
    char err[256], p[700];
    struct stat a, b;
    setup_env();
    SL_CHECK_OK(sl_test_context_open(kv, &ctx, err, sizeof err));
    q = sl_queue_stream(ctx, 1);
    SL_CHECK_OK(sl_memory_sink(q, "t", NULL));
    SL_CHECK_OK(attach(ctx, "rot"));
    SL_CHECK_OK(sl_context_start(ctx));
    SL_CHECK_OK(sl_context_await_termination(ctx));
    sl_context_free(ctx);
    path_of(p, sizeof p, "state/sluice/rot/progress.log");
    SL_CHECK(stat(p, &a) == 0 && a.st_size > 0 && a.st_size <= 4096);
    path_of(p, sizeof p, "state/sluice/rot/progress.log.1");
    SL_CHECK(stat(p, &b) == 0 && b.st_size > 0 && b.st_size <= 4096);
    SL_CHECK(count_lines("state/sluice/rot/progress.log") +
                 count_lines("state/sluice/rot/progress.log.1") <
             40);
    teardown_env();
}

const char *SL_SUITE = "control/core";
const sl_test_case SL_TESTS[] = {{"paths", test_paths},
                                 {"lifecycle", test_lifecycle},
                                 {"start_failure", test_start_failure},
                                 {"rotation", test_rotation},
                                 {NULL, NULL}};
