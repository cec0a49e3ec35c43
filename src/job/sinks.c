/*
 * Job-file sinks: "$.sinks" into job_sink rows, each reading a stream or
 * source by name, its type's row of the sink-type registry
 * (sink_types.c) reading the rest; each sink's name, unique in the job.
 */
#include "job/parse_int.h"

#include <stdio.h>
#include <string.h>

/* The fields a sink of type def may have (any when def is NULL). */
static void check_sink_fields(sl_job *job, job_sink *k, const cJSON *j)
{
    const char *allowed[32] = {"from", "type", "name"};
    size_t i, n = 3;
    if (!k->def) {
        sl__job_check_fields(job, j, k->path, NULL);
        return;
    }
    for (i = 0; k->def->fields[i] && n < 31; i++)
        allowed[n++] = k->def->fields[i];
    allowed[n] = NULL;
    sl__job_check_fields(job, j, k->path, allowed);
}

static void read_sink(sl_job *job, job_sink *k, const cJSON *j)
{
    const cJSON *f;
    const char *type = NULL, *path;

    if (!cJSON_IsObject(j)) {
        sl__job_wrong_type(job, j, k->path, "an object");
        return;
    }
    k->json = j;
    path = sl__job_path_field(job, k->path, "type");
    if ((f = sl__job_field(job, j, k->path, "type", true)) &&
        (type = sl__job_read_string(job, f, path)) &&
        !(k->def = sl__job_sink_find(type)))
        sl__job_unknown_name(job, f, path, "sink type", type, REG_SINK_TYPES);
    check_sink_fields(job, k, j);
    if ((f = sl__job_field(job, j, k->path, "from", true)))
        k->from =
            sl__job_read_ref(job, f, sl__job_path_field(job, k->path, "from"));
    if ((f = sl__job_field(job, j, k->path, "name", false))) {
        const char *s =
            sl__job_read_name(job, f, sl__job_path_field(job, k->path, "name"));
        k->name = s ? sl__job_strdup(job, s) : NULL;
    } else if (k->from && k->def) {
        k->name = sl__job_printf(job, "%s.%s", k->from, k->def->type);
    }
    if (k->def && k->def->read)
        k->def->read(job, k, j);
}

/*
 * Two sinks with one name: a sink's name is its identity (its output's
 * name in the engine, later its manifests and metrics), so the later one
 * is a problem naming both paths.
 */
static void check_names(sl_job *job)
{
    size_t i, k;
    for (i = 1; i < job->nsinks; i++) {
        job_sink *s = &job->sinks[i];
        const cJSON *at;
        if (!s->name)
            continue;
        for (k = 0; k < i; k++)
            if (job->sinks[k].name && !strcmp(job->sinks[k].name, s->name))
                break;
        if (k == i)
            continue;
        at = cJSON_GetObjectItemCaseSensitive(s->json, "name");
        sl__job_problem(
            job, at ? at : s->json,
            at ? sl__job_path_field(job, s->path, "name") : s->path,
            "sink name %s is also the name of %s%s",
            sl__job_quoted(job, s->name), job->sinks[k].path,
            at ? ""
               : " (a sink's name defaults to FROM.TYPE: give one a "
                 "\"name\")");
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
    check_names(job);
}
