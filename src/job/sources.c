/*
 * Job-file sources: "$.sources" into job_source rows, each checked
 * against its type's row of the source registry (operators.c), its fields
 * set as conf properties, queue batches read as values.
 */
#include "job/parse_int.h"

#include <string.h>

static void read_queue(sl_job *job, job_source *src, const cJSON *j)
{
    const cJSON *batches = sl__job_field(job, j, src->path, "batches", true);
    const cJSON *parts = sl__job_field(job, j, src->path, "partitions", false);
    const cJSON *b, *r;
    const char *bpath;
    int64_t n = 1;
    size_t i = 0, k;

    if (parts &&
        sl__job_read_int(job, parts,
                         sl__job_path_field(job, src->path, "partitions"), 1,
                         1024, &n))
        src->partitions = (size_t)n;
    else
        src->partitions = 1;
    if (!batches)
        return;
    bpath = sl__job_path_field(job, src->path, "batches");
    if (!cJSON_IsArray(batches)) {
        sl__job_wrong_type(job, batches, bpath, "an array");
        return;
    }
    src->nbatches = (size_t)cJSON_GetArraySize(batches);
    src->batches = sl__job_alloc(job, src->nbatches * sizeof *src->batches);
    src->batch_len = sl__job_alloc(job, src->nbatches * sizeof *src->batch_len);
    if (!src->batches || !src->batch_len) {
        src->nbatches = 0; /* out of memory: counts must match arrays */
        return;
    }
    cJSON_ArrayForEach(b, batches)
    {
        const char *p = sl__job_path_index(job, bpath, i);
        if (cJSON_IsNull(b)) {
            src->batches[i++] = NULL;
            continue;
        }
        if (!cJSON_IsArray(b)) {
            sl__job_wrong_type(job, b, p, "an array or null");
            i++;
            continue;
        }
        src->batch_len[i] = (size_t)cJSON_GetArraySize(b);
        src->batches[i] =
            sl__job_alloc(job, (src->batch_len[i] ? src->batch_len[i] : 1) *
                                   sizeof(sl_value));
        if (!src->batches[i])
            return;
        k = 0;
        cJSON_ArrayForEach(r, b)
        {
            if (!sl__job_read_value(job, r, sl__job_path_index(job, p, k),
                                    &src->batches[i][k]))
                break;
            k++;
        }
        i++;
    }
}

static void check_directory(sl_job *job, job_source *src, const cJSON *j);

static void read_source(sl_job *job, job_source *src, const cJSON *j)
{
    const cJSON *type_j, *f;
    const char *type;
    const source_def *def;
    const char *allowed[32];
    size_t i, n = 0;

    if (!cJSON_IsObject(j)) {
        sl__job_wrong_type(job, j, src->path, "an object");
        return;
    }
    if (!(type_j = sl__job_field(job, j, src->path, "type", true)))
        return;
    if (!(type = sl__job_read_string(
              job, type_j, sl__job_path_field(job, src->path, "type"))))
        return;
    if (!(def = sl__job_source_find(type))) {
        sl__job_problem(job, type_j, sl__job_path_field(job, src->path, "type"),
                        "unknown source type %s%s (known: socket, queue, "
                        "rate, generator, directory)",
                        sl__job_quoted(job, type),
                        sl__job_hint_note(job, sl__job_hint_registry(
                                                   type, REG_SOURCE_TYPES)));
        return;
    }
    src->def = def;
    allowed[n++] = "type";
    for (i = 0; def->fields[i].name && n < 31; i++)
        allowed[n++] = def->fields[i].name;
    allowed[n] = NULL;
    sl__job_check_fields(job, j, src->path, allowed);

    if (strcmp(type, "queue") == 0) {
        read_queue(job, src, j);
        return;
    }
    if (!(src->conf = sl_conf_dup(job->conf)) ||
        sl_conf_set(src->conf, "source.name", src->name, NULL, 0) != SL_OK) {
        job->oom = true; /* any string is a name: only memory fails */
        return;
    }
    if (strcmp(type, "socket") == 0) {
        const cJSON *host = sl__job_field(job, j, src->path, "host", true);
        const cJSON *port = sl__job_field(job, j, src->path, "port", true);
        const char *h;
        int64_t p;
        if (host &&
            (h = sl__job_read_string(
                 job, host, sl__job_path_field(job, src->path, "host")))) {
            if (!*h)
                sl__job_problem(job, host,
                                sl__job_path_field(job, src->path, "host"),
                                "must not be empty");
            else
                src->host = sl__job_strdup(job, h);
        }
        if (port && sl__job_read_int(job, port,
                                     sl__job_path_field(job, src->path, "port"),
                                     1, 65535, &p))
            src->port = (int)p;
    } else if (strcmp(type, "directory") == 0) {
        const cJSON *dir = sl__job_field(job, j, src->path, "path", true);
        const char *d;
        if (dir &&
            (d = sl__job_read_string(
                 job, dir, sl__job_path_field(job, src->path, "path")))) {
            if (!*d)
                sl__job_problem(job, dir,
                                sl__job_path_field(job, src->path, "path"),
                                "must not be empty");
            else
                src->host = sl__job_strdup(job, d);
        }
    }
    for (f = j->child; f; f = f->next) {
        const char *fpath;
        for (i = 0; def->fields[i].name; i++)
            if (strcmp(def->fields[i].name, f->string) == 0)
                break;
        if (!def->fields[i].conf)
            continue; /* unknown (reported above) or read above */
        fpath = sl__job_path_field(job, src->path, f->string);
        if (!strcmp(f->string, "columns") && cJSON_IsArray(f))
            sl__job_set_conf_list(job, src->conf, f, fpath,
                                  def->fields[i].conf);
        else
            sl__job_set_conf(job, src->conf, f, fpath, def->fields[i].conf);
    }
    if (strcmp(type, "directory") == 0)
        check_directory(job, src, j);
}

/* Whether path lies in dir (or is dir itself, unless file), by their
 * text: both absolute or both relative, "." and trailing slashes aside. */
static bool path_inside(const char *path, const char *dir, bool file)
{
    size_t n;
    while (dir[0] == '.' && dir[1] == '/')
        dir += 2;
    while (path[0] == '.' && path[1] == '/')
        path += 2;
    n = strlen(dir);
    while (n > 1 && dir[n - 1] == '/')
        n--;
    if (n == 1 && dir[0] == '.')
        return path[0] != '/' && strncmp(path, "..", 2) != 0;
    if ((path[0] == '/') != (dir[0] == '/') || strncmp(path, dir, n) != 0)
        return false;
    return path[n] == '/' || (!file && path[n] == '\0');
}

/* The directory source's rules between fields, checked here so that
 * validate finds what building would refuse. */
static void check_directory(sl_job *job, job_source *src, const cJSON *j)
{
    static const char *const single[] = {"separator", "quote"};
    const cJSON *f, *g;
    size_t i;
    for (i = 0; i < 2; i++)
        if ((f = cJSON_GetObjectItemCaseSensitive(j, single[i])) &&
            cJSON_IsString(f)) {
            if (strlen(f->valuestring) != 1)
                sl__job_problem(job, f,
                                sl__job_path_field(job, src->path, single[i]),
                                "must be a single byte");
            else if (strchr("\r\n", f->valuestring[0]))
                sl__job_problem(job, f,
                                sl__job_path_field(job, src->path, single[i]),
                                "must not be a line break");
        }
    f = cJSON_GetObjectItemCaseSensitive(j, "separator");
    g = cJSON_GetObjectItemCaseSensitive(j, "quote");
    if (f && g && cJSON_IsString(f) && cJSON_IsString(g) &&
        strcmp(f->valuestring, g->valuestring) == 0)
        sl__job_problem(job, g, sl__job_path_field(job, src->path, "quote"),
                        "must differ from \"separator\"");
    if ((f = cJSON_GetObjectItemCaseSensitive(j, "header")) &&
        cJSON_IsTrue(f) && cJSON_GetObjectItemCaseSensitive(j, "columns"))
        sl__job_problem(job, f, sl__job_path_field(job, src->path, "header"),
                        "\"header\" and \"columns\" exclude each other");
    if ((f = cJSON_GetObjectItemCaseSensitive(j, "columns")) &&
        cJSON_IsString(f)) {
        const char *c = f->valuestring;
        if (!*c || c[0] == ',' || c[strlen(c) - 1] == ',' || strstr(c, ",,"))
            sl__job_problem(job, f,
                            sl__job_path_field(job, src->path, "columns"),
                            "a column name must be non-empty");
    }
    g = cJSON_GetObjectItemCaseSensitive(j, "source_archive_dir");
    if ((f = cJSON_GetObjectItemCaseSensitive(j, "clean_source")) &&
        cJSON_IsString(f) && strcmp(f->valuestring, "archive") == 0 &&
        !(cJSON_IsString(g) && *g->valuestring))
        sl__job_problem(job, f,
                        sl__job_path_field(job, src->path, "clean_source"),
                        "\"archive\" needs \"source_archive_dir\"");
    /* Paths inside the watched tree (as written; links are the build's
     * to find): archived files or dead letters would be read again. */
    for (i = 0; i < 2 && src->host; i++) {
        const char *name = i ? "dead_letter" : "source_archive_dir";
        f = cJSON_GetObjectItemCaseSensitive(j, name);
        if (cJSON_IsString(f) && path_inside(f->valuestring, src->host, i == 1))
            sl__job_problem(job, f, sl__job_path_field(job, src->path, name),
                            "lies inside the watched directory");
    }
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
