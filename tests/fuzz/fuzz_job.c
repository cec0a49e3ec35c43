/*
 * libFuzzer target for the job-file parser (src/job): arbitrary bytes
 * through sl_job_parse. A job comes back (out of memory aside), its problem
 * count agrees with its problems, and the pre-scan's promise holds: text it
 * accepts cJSON parses too (else parse.c would report out of memory).
 * (Building is left out: a context starts worker threads.)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sluice/sluice.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_fail(const char *what, const char *detail)
{
    fprintf(stderr, "fuzz: broken promise: %s: %s\n", what, detail);
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sl_job *job = sl_job_parse((const char *)data, size, "fuzz.json");
    size_t i, n;

    /* The fuzzer's memory does not run out: no job would mean cJSON
     * failed on text the pre-scan passed, which parse.c takes for out of
     * memory. (The pre-scan may refuse more than cJSON: "01", "\\uZZZZ".) */
    if (!job)
        fuzz_fail("a job unless out of memory", "sl_job_parse gave NULL");
    n = sl_job_problem_count(job);
    for (i = 0; i < n; i++) {
        const char *p = sl_job_problem(job, i);
        if (!p || p[0] != '$')
            fuzz_fail("a problem starts with its JSON path", p ? p : "NULL");
    }
    if (sl_job_problem(job, n) != NULL)
        fuzz_fail("no problem past the count", "");
    sl_job_free(job);
    return 0;
}
