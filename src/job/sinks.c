/*
 * Job-file sinks: "$.sinks" into job_sink rows, each reading a stream or
 * source by name.
 */
#include "job/parse_int.h"

#include <string.h>

/* -------------------------------------------------------------- sinks */

static void read_sink(sl_job *job, job_sink *k, const cJSON *j)
{
    static const char *const types[] = {"console", "save_as_text_files", NULL};
    static const char *const formats[] = {"text", "json", NULL};
    static const char *const console_fields[] = {"from", "type", "format",
                                                 "num", NULL};
    static const char *const save_fields[] = {"from", "type", "prefix",
                                              "suffix", NULL};
    const cJSON *f;
    int type = -1;

    if (!cJSON_IsObject(j)) {
        sl__job_wrong_type(job, j, k->path, "an object");
        return;
    }
    if ((f = sl__job_field(job, j, k->path, "type", true)))
        type = sl__job_read_choice(
            job, f, sl__job_path_field(job, k->path, "type"), types);
    sl__job_check_fields(job, j, k->path,
                         type == 0   ? console_fields
                         : type == 1 ? save_fields
                                     : NULL);
    if ((f = sl__job_field(job, j, k->path, "from", true)))
        k->from =
            sl__job_read_ref(job, f, sl__job_path_field(job, k->path, "from"));
    if (type == 0) {
        k->kind = SINK_TEXT;
        k->num = 10;
        if ((f = sl__job_field(job, j, k->path, "format", false))) {
            int c = sl__job_read_choice(
                job, f, sl__job_path_field(job, k->path, "format"), formats);
            if (c == 1)
                k->kind = SINK_JSON;
        }
        if ((f = sl__job_field(job, j, k->path, "num", false))) {
            int64_t n;
            if (sl__job_read_int(job, f,
                                 sl__job_path_field(job, k->path, "num"), 1,
                                 1000000, &n))
                k->num = (size_t)n;
        }
    } else if (type == 1) {
        const char *s;
        k->kind = SINK_SAVE;
        if ((f = sl__job_field(job, j, k->path, "prefix", true)) &&
            (s = sl__job_read_string(
                 job, f, sl__job_path_field(job, k->path, "prefix")))) {
            if (!*s)
                sl__job_problem(job, f,
                                sl__job_path_field(job, k->path, "prefix"),
                                "must not be empty");
            else
                k->prefix = sl__job_strdup(job, s);
        }
        if ((f = sl__job_field(job, j, k->path, "suffix", false)) &&
            (s = sl__job_read_string(
                 job, f, sl__job_path_field(job, k->path, "suffix"))))
            k->suffix = sl__job_strdup(job, s);
    }
}

void sl__job_read_sinks(sl_job *job, const cJSON *j)
{
    const cJSON *s;
    size_t i = 0;
    if (!cJSON_IsArray(j)) {
        sl__job_wrong_type(job, j, "$.sinks", "an array");
        return;
    }
    job->nsinks = (size_t)cJSON_GetArraySize(j);
    if (job->nsinks > MAX_STREAMS) {
        sl__job_problem(job, j, "$.sinks", "more than %d sinks", MAX_STREAMS);
        job->nsinks = 0;
        return;
    }
    if (!job->nsinks) {
        sl__job_problem(job, j, "$.sinks", "at least one sink is required");
        return;
    }
    if (!(job->sinks = sl__job_alloc(job, job->nsinks * sizeof *job->sinks))) {
        job->nsinks = 0;
        return;
    }
    cJSON_ArrayForEach(s, j)
    {
        job->sinks[i].path = sl__job_path_index(job, "$.sinks", i);
        if (job->sinks[i].path)
            read_sink(job, &job->sinks[i], s);
        i++;
    }
}
