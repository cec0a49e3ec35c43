/*
 * Unit tests of src/job/parse.c that the table-driven suites cannot
 * show: the job parser calls cJSON only under the lock that serialises
 * cJSON's global state (sl__json_parse), so a job file parsed while a
 * running job's workers read JSON lines does not race with them. The
 * job's "ui" in sl_job_control_options, and the readers' messages that
 * never quote the value of a secret key.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include <sluice/sluice.h>

#include "core/records.h"
#include "job/parse_int.h"
#include "sl_test.h"

static const char job_text[] =
    "{\"name\": \"locked\", \"batch_interval\": \"1s\", \"sources\": "
    "{\"q\": {\"type\": \"queue\", \"batches\": [[1]]}}, "
    "\"sinks\": [{\"type\": \"console\", \"from\": \"q\"}]}";

static atomic_bool parsed;

static void *parse_main(void *arg)
{
    sl_job **out = arg;
    *out = sl_job_parse(job_text, strlen(job_text), "locked.json");
    atomic_store(&parsed, true);
    return NULL;
}

/*
 * While another thread holds cJSON's lock, sl_job_parse must wait for
 * it: with the lock held for 200 ms the parse (microseconds otherwise)
 * has not finished, and it finishes once the lock is released.
 */
static void test_parse_takes_cjson_lock(void)
{
    struct timespec pause = {0, 200 * 1000 * 1000};
    sl_job *job = NULL;
    pthread_t t;

    atomic_store(&parsed, false);
    sl__json_lock();
    SL_CHECK_INT(pthread_create(&t, NULL, parse_main, &job), 0);
    nanosleep(&pause, NULL);
    SL_CHECK(!atomic_load(&parsed));
    sl__json_unlock();
    pthread_join(t, NULL);
    SL_CHECK(atomic_load(&parsed));
    SL_CHECK(job != NULL);
    SL_CHECK_INT(sl_job_problem_count(job), 0);
    sl_job_free(job);
}

/* sl_job_control_options: the name, and "ui" when the job has one;
 * members it does not own are left as they were. */
static void test_control_options(void)
{
    static const char with_ui[] =
        "{\"name\": \"ui\", \"batch_interval\": \"1s\", \"sources\": "
        "{\"q\": {\"type\": \"queue\", \"batches\": [[1]]}}, "
        "\"sinks\": [{\"type\": \"console\", \"from\": \"q\"}], "
        "\"ui\": {\"port\": 4040, \"bind\": \"0.0.0.0\", "
        "\"token\": \"0123456789abcdef\"}}";
    sl_control_options o = {0};
    sl_job *job = sl_job_parse(with_ui, strlen(with_ui), "ui.json");
    SL_CHECK_INT(sl_job_problem_count(job), 0);
    o.run_dir = "/tmp/kept";
    sl_job_control_options(job, &o);
    SL_CHECK_INT(o.version, SL_CONTROL_OPTIONS_VERSION);
    SL_CHECK_STR(o.name, "ui");
    SL_CHECK_INT(o.ui_port, 4040);
    SL_CHECK_STR(o.ui_bind, "0.0.0.0");
    SL_CHECK_STR(o.ui_token, "0123456789abcdef");
    SL_CHECK_STR(o.run_dir, "/tmp/kept");
    sl_job_free(job);

    job = sl_job_parse(job_text, strlen(job_text), "locked.json");
    memset(&o, 0, sizeof o);
    sl_job_control_options(job, &o);
    SL_CHECK_STR(o.name, "locked");
    SL_CHECK_INT(o.ui_port, 0);
    SL_CHECK(o.ui_bind == NULL && o.ui_token == NULL);
    sl_job_free(job);
}

/* The last problem of job holds what and not hidden. */
static void check_last(sl_job *job, const char *what, const char *hidden)
{
    const char *p = sl_job_problem(job, sl_job_problem_count(job) - 1);
    if (!p || !strstr(p, what) || (hidden && strstr(p, hidden)))
        sl_test_fail(__FILE__, __LINE__, "problem %s: want %s without %s",
                     p ? p : "(none)", what, hidden ? hidden : "-");
    else
        CU_PASS("problem");
}

/* The readers that quote a bad value say <redacted> for a secret key's
 * (the job file's fields have none yet beside ui.token, but conf keys
 * and connector fields will). */
static void test_secret_values_not_quoted(void)
{
    static const char *const choices[] = {"a", "b", NULL};
    cJSON *doc = cJSON_Parse("{\"api_token\": \"5 parsecs\", \"interval\": "
                             "\"5 parsecs\", \"Password\": \"x y\"}");
    sl_job *job = sl_job_parse(job_text, strlen(job_text), "locked.json");
    int64_t ms;
    SL_CHECK(doc != NULL && job != NULL);
    SL_CHECK(!sl__job_read_duration(job, doc->child, "$.api_token", &ms));
    check_last(job, "invalid duration <redacted>", "parsecs");
    SL_CHECK(!sl__job_read_duration(job, doc->child->next, "$.interval", &ms));
    check_last(job, "invalid duration \"5 parsecs\"", NULL);
    SL_CHECK(sl__job_read_choice(job, doc->child, "$.api_token", choices) < 0);
    check_last(job, "got <redacted>", "parsecs");
    SL_CHECK(!sl__job_read_name(job, doc->child->next->next, "$.Password"));
    check_last(job, "invalid name <redacted>", "x y");
    cJSON_Delete(doc);
    sl_job_free(job);
}

const char *SL_SUITE = "job_parse";

const sl_test_case SL_TESTS[] = {
    {"parse_takes_cjson_lock", test_parse_takes_cjson_lock},
    {"control_options", test_control_options},
    {"secret_values_not_quoted", test_secret_values_not_quoted},
    {NULL, NULL},
};
