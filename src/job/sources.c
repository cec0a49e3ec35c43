/*
 * Job-file sources: "$.sources" into job_source rows, each checked
 * against its type's row of the source-type registry (source_types.c),
 * its fields set as conf properties; the row reads the rest.
 */
#include "job/parse_int.h"

#include <stdio.h>
#include <string.h>

/* The fields of j that set conf properties, as the type's row maps them. */
static void set_fields(sl_job *job, job_source *src, const cJSON *j)
{
    const source_def *def = src->def;
    const cJSON *f;
    size_t i;
    for (f = j->child; f; f = f->next) {
        const char *fpath;
        for (i = 0; def->fields[i].name; i++)
            if (strcmp(def->fields[i].name, f->string) == 0)
                break;
        if (!def->fields[i].conf)
            continue; /* unknown (reported already) or the type's own */
        fpath = sl__job_path_field(job, src->path, f->string);
        if (!strcmp(f->string, "columns") && cJSON_IsArray(f))
            sl__job_set_conf_list(job, src->conf, f, fpath, def->fields[i].conf,
                                  "column");
        else
            sl__job_set_conf(job, src->conf, f, fpath, def->fields[i].conf);
    }
}

static void read_source(sl_job *job, job_source *src, const cJSON *j)
{
    const cJSON *type_j;
    const char *type, *type_path;
    const source_def *def;
    const char *allowed[32];
    size_t i, n = 0;

    if (!cJSON_IsObject(j)) {
        sl__job_wrong_type(job, j, src->path, "an object");
        return;
    }
    if (!(type_j = sl__job_field(job, j, src->path, "type", true)))
        return;
    type_path = sl__job_path_field(job, src->path, "type");
    if (!(type = sl__job_read_string(job, type_j, type_path)))
        return;
    if (!(def = sl__job_source_find(type))) {
        sl__job_unknown_name(job, type_j, type_path, "source type", type,
                             REG_SOURCE_TYPES);
        return;
    }
    src->def = def;
    allowed[n++] = "type";
    allowed[n++] = "watermark";
    for (i = 0; def->fields[i].name && n < 30; i++)
        allowed[n++] = def->fields[i].name;
    allowed[n] = NULL;
    sl__job_check_fields(job, j, src->path, allowed);
    if (!(src->conf = sl_conf_dup(job->conf)) ||
        sl_conf_set(src->conf, "source.name", src->name, NULL, 0) != SL_OK) {
        job->oom = true; /* any string is a name: only memory fails */
        return;
    }
    if (def->read)
        def->read(job, src, j);
    set_fields(job, src, j);
    sl__job_read_watermark(job, j, src->path, &src->wm);
    if (def->check)
        def->check(job, src, j);
}

void sl__job_read_sources(sl_job *job, const cJSON *j)
{
    const cJSON *s;
    size_t i = 0;
    if (!cJSON_IsObject(j)) {
        sl__job_wrong_type(job, j, "$.sources", "an object");
        return;
    }
    job->nsources = (size_t)cJSON_GetArraySize(j);
    if (job->nsources > MAX_STREAMS) {
        sl__job_problem(job, j, "$.sources", "more than %d sources",
                        MAX_STREAMS);
        job->nsources = 0;
        return;
    }
    sl__job_check_fields(job, j, "$.sources", NULL); /* duplicate names */
    if (job->nsources == 0) {
        sl__job_problem(job, j, "$.sources", "at least one source is required");
        return;
    }
    if (!(job->sources =
              sl__job_alloc(job, job->nsources * sizeof *job->sources))) {
        job->nsources = 0;
        return;
    }
    for (s = j->child; s; s = s->next, i++) {
        job_source *src = &job->sources[i];
        src->name = sl__job_strdup(job, s->string);
        src->path = sl__job_path_field(job, "$.sources", s->string);
        src->json = s;
        if (!src->name || !src->path)
            return;
        if (!sl__job_valid_name(s->string)) {
            sl__job_problem(job, s, src->path,
                            "invalid name %s (1-64 letters, digits, '.', "
                            "'_', '-')",
                            sl__job_quoted(job, s->string));
            continue;
        }
        read_source(job, src, s);
    }
}
