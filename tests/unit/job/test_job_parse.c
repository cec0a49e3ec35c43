/*
 * Unit tests of src/job/parse.c that the table-driven suites cannot
 * show: the job parser calls cJSON only under the lock that serialises
 * cJSON's global state (sl__json_parse), so a job file parsed while a
 * running job's workers read JSON lines does not race with them.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include <sluice/sluice.h>

#include "core/records.h"
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

const char *SL_SUITE = "job_parse";

const sl_test_case SL_TESTS[] = {
    {"parse_takes_cjson_lock", test_parse_takes_cjson_lock},
    {NULL, NULL},
};
