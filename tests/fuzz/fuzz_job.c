/*
 * libFuzzer target for the job-file parser (src/job): arbitrary bytes
 * through sl_job_parse. A job comes back (out of memory aside), its problem
 * count agrees with its problems, and the pre-scan's promise holds: text it
 * accepts cJSON parses too, so no problem says "invalid JSON" about text
 * cJSON reads. (Building is left out: a context starts worker threads.)
 */
#include <cJSON.h>
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

/* Whether cJSON reads the text (NUL-terminated copy, nothing after). */
static int cjson_reads(const uint8_t *data, size_t size)
{
    char *copy = malloc(size + 1);
    cJSON *root;
    if (!copy)
        return -1;
    memcpy(copy, data, size);
    copy[size] = '\0';
    root = cJSON_ParseWithLengthOpts(copy, size + 1, NULL, 1);
    free(copy);
    cJSON_Delete(root);
    return root != NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sl_job *job = sl_job_parse((const char *)data, size, "fuzz.json");
    size_t i, n;

    if (!job)
        return 0; /* out of memory */
    n = sl_job_problem_count(job);
    for (i = 0; i < n; i++) {
        const char *p = sl_job_problem(job, i);
        if (!p || p[0] != '$')
            fuzz_fail("a problem starts with its JSON path", p ? p : "NULL");
        if (strncmp(p, "$: invalid JSON near", 20) == 0 &&
            !memchr(data, '\0', size) && cjson_reads(data, size) == 1)
            fuzz_fail("the pre-scan refuses only what cJSON refuses", p);
    }
    if (sl_job_problem(job, n) != NULL)
        fuzz_fail("no problem past the count", "");
    sl_job_free(job);
    return 0;
}
