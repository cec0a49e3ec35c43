/*
 * The source-type registry of job files: for each type its fields, how
 * the fields the conf does not hold are read and checked, the machine
 * checks of validate, the builder, and what its records are. The one
 * place a source type's name maps to code; the engine never knows it.
 */
#include "job/parse_int.h"

#include <sluice/connectors.h>

#include <stdio.h>
#include <string.h>

/* ------------------------------------------------------------- fields */

/* Each field: its name and the conf property it sets (NULL: read by the
 * row's read). */
static const source_field socket_fields[] = {
    {"host", NULL},
    {"port", NULL},
    {"listen", "receiver.listen"},
    {"connect_timeout", "receiver.connect_timeout"},
    {"reconnect_min", "receiver.reconnect_min"},
    {"reconnect_max", "receiver.reconnect_max"},
    {"max_connect_attempts", "receiver.max_connect_attempts"},
    {"connect_give_up_after", "receiver.connect_give_up_after"},
    {"dead_letter", "receiver.dead_letter"},
    {"format", "receiver.format"},
    {"schema", "receiver.schema"},
    {"parse_mode", "receiver.parse_mode"},
    {"header", "receiver.csv.header"},
    {NULL, NULL}};
static const source_field queue_fields[] = {{"batches", NULL},
                                            {"partitions", NULL},
                                            {"schema", "queue.schema"},
                                            {"parse_mode", "queue.parse_mode"},
                                            {NULL, NULL}};
static const source_field rate_fields[] = {
    {"rows_per_second", "rate.rows_per_second"},
    {"partitions", "rate.partitions"},
    {NULL, NULL}};
static const source_field generator_fields[] = {
    {"lines_per_batch", "generator.lines_per_batch"},
    {"words_per_line", "generator.words_per_line"},
    {"vocabulary", "generator.vocabulary"},
    {"zipf_s", "generator.zipf_s"},
    {"seed", "generator.seed"},
    {"partitions", "generator.partitions"},
    {NULL, NULL}};
static const source_field directory_fields[] = {
    {"path", NULL},
    {"watch", "file.watch"},
    {"include_existing", "file.include_existing"},
    {"max_files_per_trigger", "file.max_files_per_trigger"},
    {"latest_first", "file.latest_first"},
    {"max_file_age", "file.max_file_age"},
    {"path_glob_filter", "file.path_glob_filter"},
    {"recursive_file_lookup", "file.recursive_file_lookup"},
    {"clean_source", "file.clean_source"},
    {"source_archive_dir", "file.source_archive_dir"},
    {"format", "file.format"},
    {"separator", "file.csv.separator"},
    {"quote", "file.csv.quote"},
    {"header", "file.csv.header"},
    {"columns", "file.csv.columns"},
    {"schema", "file.schema"},
    {"parse_mode", "file.parse_mode"},
    {"dead_letter", "file.dead_letter"},
    {"with_file_name", "file.with_file_name"},
    {"split_bytes", "file.split_bytes"},
    {"max_decompressed_bytes", "file.max_decompressed_bytes"},
    {"create_if_missing", "file.create_if_missing"},
    {NULL, NULL}};

static const source_field kafka_fields[] = {
    {"topics", NULL},
    {"pattern", "kafka.source.pattern"},
    {"starting_offsets", NULL},
    {"max_records_per_partition", "kafka.source.max_records_per_partition"},
    {"records", "kafka.source.records"},
    {"fail_on_data_loss", "kafka.source.fail_on_data_loss"},
    {"commit_offsets", "kafka.source.commit_offsets"},
    {"timeout", "kafka.source.timeout"},
    {"format", "kafka.source.format"},
    {"schema", "kafka.source.schema"},
    {"parse_mode", "kafka.source.parse_mode"},
    {"separator", "kafka.source.csv.separator"},
    {"dead_letter", "kafka.source.dead_letter"},
    {"kafka", NULL},
    {NULL, NULL}};

/* A required non-empty string field, in job memory; NULL after a problem. */
static char *read_nonempty(sl_job *job, const job_source *src, const cJSON *j,
                           const char *name)
{
    const cJSON *f = sl__job_field(job, j, src->path, name, true);
    const char *path = sl__job_path_field(job, src->path, name);
    const char *s;
    if (!f || !(s = sl__job_read_string(job, f, path)))
        return NULL;
    if (!*s) {
        sl__job_problem(job, f, path, "must not be empty");
        return NULL;
    }
    return sl__job_strdup(job, s);
}

/* A "schema" field's DDL, parsed here so that validate reports a bad one
 * at its path, as building would refuse it. */
static void check_schema(sl_job *job, job_source *src, const cJSON *j)
{
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(j, "schema");
    sl_schema *schema = NULL;
    char why[256];

    if (!f || !cJSON_IsString(f) || !*f->valuestring)
        return;
    if (sl_schema_parse(f->valuestring, &schema, why, sizeof why) != SL_OK)
        sl__job_problem(job, f, sl__job_path_field(job, src->path, "schema"),
                        "%s", why);
    sl_schema_release(schema);
}

/* ------------------------------------------------------------- socket */

/* A listening source may take port 0 (any free port); "listen" itself
 * is checked as a conf property. */
/* "header": "optional" acts on CSV rows only: anywhere else it would
 * do nothing, silently. */
static void socket_header(sl_job *job, const job_source *src, const cJSON *j)
{
    const cJSON *h = cJSON_GetObjectItemCaseSensitive(j, "header");
    const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(j, "format");
    const cJSON *schema = cJSON_GetObjectItemCaseSensitive(j, "schema");

    if (!cJSON_IsString(h) || strcmp(h->valuestring, "optional") != 0)
        return;
    if (!cJSON_IsString(fmt) || strcmp(fmt->valuestring, "csv") != 0 ||
        !cJSON_IsString(schema) || !*schema->valuestring)
        sl__job_problem(job, h, sl__job_path_field(job, src->path, "header"),
                        "\"optional\" needs \"format\": \"csv\" and a "
                        "\"schema\" (a line of its column names is the "
                        "header)");
}

static void socket_read(sl_job *job, job_source *src, const cJSON *j)
{
    const cJSON *port;
    bool listen = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "listen"));
    int64_t p;
    socket_header(job, src, j);
    src->host = read_nonempty(job, src, j, "host");
    if ((port = sl__job_field(job, j, src->path, "port", true)) &&
        sl__job_read_int(job, port, sl__job_path_field(job, src->path, "port"),
                         listen ? 0 : 1, 65535, &p))
        src->port = (int)p;
}

static void socket_check_env(sl_job *job, const job_source *src, bool at_start)
{
    (void)at_start;
    sl__job_env_host(job, src);
    sl__job_env_dead_letter(job, src->conf, "receiver.dead_letter", src->json,
                            sl__job_path_field(job, src->path, "dead_letter"));
}

static sl_status socket_build(sl_job *job, job_source *src)
{
    src->stream =
        sl_socket_text_stream(job->ctx, src->host, src->port, src->conf);
    return src->stream ? SL_OK : sl__job_ctx_fail(job, src->path);
}

static elem_kind lines_elem(const job_source *src, const char **what)
{
    (void)src;
    *what = "lines of text";
    return ELEM_NOT_PAIR;
}

/* Lines of text, unless a format or schema makes them records. */
static elem_kind socket_elem(const job_source *src, const char **what)
{
    if (src->conf &&
        (*sl_conf_get(src->conf, "receiver.schema") ||
         strcmp(sl_conf_get(src->conf, "receiver.format"), "lines") != 0))
        return ELEM_UNKNOWN;
    return lines_elem(src, what);
}

/* -------------------------------------------------------------- queue */

/* A queue record that is a JSON object, with a schema: its text, which
 * the queue makes a row by field name (sl_queue_stream_set_conf). */
static bool object_text(sl_job *job, const cJSON *r, sl_value *out)
{
    char *text = cJSON_PrintUnformatted(r), *copy;
    if (!text)
        return false;
    copy = sl__job_strdup(job, text);
    cJSON_free(text);
    if (!copy)
        return false;
    *out = sl_str(copy, strlen(copy));
    return true;
}

static void queue_read(sl_job *job, job_source *src, const cJSON *j)
{
    const cJSON *batches = sl__job_field(job, j, src->path, "batches", true);
    const cJSON *parts = sl__job_field(job, j, src->path, "partitions", false);
    const cJSON *b, *r;
    const cJSON *schema = cJSON_GetObjectItemCaseSensitive(j, "schema");
    bool typed = cJSON_IsString(schema) && *schema->valuestring;
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
            if (typed && cJSON_IsObject(r)) {
                if (!object_text(job, r, &src->batches[i][k]))
                    return;
            } else if (!sl__job_read_value(job, r,
                                           sl__job_path_index(job, p, k),
                                           &src->batches[i][k])) {
                break;
            }
            k++;
        }
        i++;
    }
}

static sl_status queue_build(sl_job *job, job_source *src)
{
    size_t i;
    sl_status st;
    if (!(src->stream = sl_queue_stream(job->ctx, src->partitions)) ||
        (src->conf &&
         sl_queue_stream_set_conf(src->stream, src->conf) != SL_OK))
        return sl__job_ctx_fail(job, src->path);
    for (i = 0; i < src->nbatches; i++) {
        st = src->batches[i]
                 ? sl_queue_stream_push(src->stream, src->batches[i],
                                        src->batch_len[i])
                 : sl_queue_stream_push_none(src->stream);
        if (st != SL_OK)
            return sl__job_fail(job, st, src->path, "%s", sl_strerror(st));
    }
    return SL_OK;
}

/* A queue's records: pairs when every record is one. Records that are
 * not are left to the run-time checks: a queue is test data, often mixed
 * on purpose to see how a function fails. */
static elem_kind queue_elem(const job_source *src, const char **what)
{
    size_t b, i;
    bool any = false;
    if (src->conf && *sl_conf_get(src->conf, "queue.schema")) {
        *what = "rows";
        return ELEM_NOT_PAIR;
    }
    for (b = 0; b < src->nbatches; b++)
        for (i = 0; src->batches[b] && i < src->batch_len[b]; i++, any = true)
            if (src->batches[b][i].kind != SL_KIND_PAIR)
                return ELEM_UNKNOWN;
    return any ? ELEM_PAIR : ELEM_UNKNOWN;
}

/* ------------------------------------------------- rate and generator */

static sl_status rate_build(sl_job *job, job_source *src)
{
    src->stream = sl_rate_stream(job->ctx, src->conf);
    return src->stream ? SL_OK : sl__job_ctx_fail(job, src->path);
}

static elem_kind rate_elem(const job_source *src, const char **what)
{
    (void)src;
    *what = "(timestamp, value) tuples";
    return ELEM_NOT_PAIR;
}

static sl_status generator_build(sl_job *job, job_source *src)
{
    src->stream = sl_text_generator_stream(job->ctx, src->conf);
    return src->stream ? SL_OK : sl__job_ctx_fail(job, src->path);
}

/* ---------------------------------------------------------- directory */

static void directory_read(sl_job *job, job_source *src, const cJSON *j)
{
    src->host = read_nonempty(job, src, j, "path");
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
static void directory_check(sl_job *job, job_source *src, const cJSON *j)
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
    check_schema(job, src, j);
    if ((f = cJSON_GetObjectItemCaseSensitive(j, "schema")) &&
        cJSON_GetObjectItemCaseSensitive(j, "columns"))
        sl__job_problem(job, f, sl__job_path_field(job, src->path, "schema"),
                        "\"schema\" and \"columns\" exclude each other "
                        "(columns is a schema of strings)");
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

static void directory_check_env(sl_job *job, const job_source *src,
                                bool at_start)
{
    sl__job_env_directory(job, src, at_start);
    sl__job_env_dead_letter(job, src->conf, "file.dead_letter", src->json,
                            sl__job_path_field(job, src->path, "dead_letter"));
}

static sl_status directory_build(sl_job *job, job_source *src)
{
    src->stream = sl_file_stream(job->ctx, src->host, src->conf);
    return src->stream ? SL_OK : sl__job_ctx_fail(job, src->path);
}

/* (file name, record) pairs with with_file_name; lines of text in the
 * lines format; otherwise whatever the files hold. */
static elem_kind directory_elem(const job_source *src, const char **what)
{
    bool named = false;
    if (!src->conf)
        return ELEM_UNKNOWN;
    sl_conf_get_bool(src->conf, "file.with_file_name", &named);
    if (named)
        return ELEM_PAIR;
    if (strcmp(sl_conf_get(src->conf, "file.format"), "lines") == 0)
        return lines_elem(src, what);
    return ELEM_UNKNOWN;
}

/* -------------------------------------------------------------- kafka */

/* "topics": an array of non-empty names into kafka.source.topics. */
static void kafka_topics(sl_job *job, job_source *src, const cJSON *f)
{
    const char *path = sl__job_path_field(job, src->path, "topics");

    if (!cJSON_IsArray(f))
        sl__job_wrong_type(job, f, path, "an array of topic names");
    else if (!cJSON_GetArraySize(f))
        sl__job_problem(job, f, path, "names no topic");
    else
        sl__job_set_conf_list(job, src->conf, f, path, "kafka.source.topics",
                              "topic");
}

/* "starting_offsets": "earliest", "latest" or {"topic": {"0": 42}}. */
static void kafka_start(sl_job *job, job_source *src, const cJSON *f)
{
    const char *path = sl__job_path_field(job, src->path, "starting_offsets");
    const cJSON *t, *p;
    char *text;
    sl_status rc;

    if (cJSON_IsString(f)) {
        if (strcmp(f->valuestring, "earliest") &&
            strcmp(f->valuestring, "latest")) {
            sl__job_problem(job, f, path,
                            "want \"earliest\", \"latest\" or an object "
                            "{\"topic\": {\"0\": 42}}, not \"%s\"",
                            f->valuestring);
            return;
        }
        text = sl__job_strdup(job, f->valuestring);
    } else if (cJSON_IsObject(f)) {
        for (t = f->child; t; t = t->next) {
            const char *tp = sl__job_path_field(job, path, t->string);
            if (!cJSON_IsObject(t)) {
                sl__job_wrong_type(job, t, tp,
                                   "an object of partitions and offsets");
                return;
            }
            for (p = t->child; p; p = p->next) {
                const char *s = p->string;
                size_t k;
                for (k = 0; s[k] >= '0' && s[k] <= '9'; k++)
                    ;
                if (!k || s[k] || !cJSON_IsNumber(p) || p->valuedouble < -2 ||
                    p->valuedouble != (double)(int64_t)p->valuedouble) {
                    sl__job_problem(job, p, sl__job_path_field(job, tp, s),
                                    "want a partition number and an offset "
                                    "(>= 0, or -2 earliest, -1 latest)");
                    return;
                }
            }
        }
        {
            char *printed = cJSON_PrintUnformatted(f);
            text = printed ? sl__job_strdup(job, printed) : NULL;
            cJSON_free(printed);
        }
    } else {
        sl__job_wrong_type(job, f, path,
                           "\"earliest\", \"latest\" or an object");
        return;
    }
    if (!text) {
        job->oom = true;
        return;
    }
    rc = sl_conf_set(src->conf, "kafka.source.starting_offsets", text, NULL, 0);
    if (rc != SL_OK)
        job->oom = true;
}

/* "kafka": librdkafka's properties, each set as kafka.NAME (checked by
 * librdkafka when the source is built, the property named). */
static void kafka_props(sl_job *job, job_source *src, const cJSON *f)
{
    const char *path = sl__job_path_field(job, src->path, "kafka");
    const cJSON *p;
    char num[64], err[256];

    if (!cJSON_IsObject(f)) {
        sl__job_wrong_type(job, f, path, "an object of librdkafka properties");
        return;
    }
    for (p = f->child; p; p = p->next) {
        const char *pp = sl__job_path_field(job, path, p->string);
        const char *v;
        char *name;
        sl_status rc;
        if (cJSON_IsString(p)) {
            v = p->valuestring;
        } else if (cJSON_IsBool(p)) {
            v = cJSON_IsTrue(p) ? "true" : "false";
        } else if (cJSON_IsNumber(p) &&
                   p->valuedouble == (double)(int64_t)p->valuedouble) {
            snprintf(num, sizeof num, "%lld", (long long)p->valuedouble);
            v = num;
        } else {
            sl__job_wrong_type(job, p, pp,
                               "a string, a whole number or a "
                               "boolean");
            continue;
        }
        if (!*p->string || !strncmp(p->string, "source.", 7)) {
            sl__job_problem(job, p, pp,
                            "not a librdkafka property (sluice's own options "
                            "are fields of the source)");
            continue;
        }
        if (!(name = sl__job_printf(job, "kafka.%s", p->string)))
            return;
        rc = sl_conf_set(src->conf, name, v, err, sizeof err);
        if (rc == SL_ENOMEM)
            job->oom = true;
        else if (rc != SL_OK)
            sl__job_problem(job, p, pp, "%s", err);
    }
}

static void kafka_read(sl_job *job, job_source *src, const cJSON *j)
{
    const cJSON *f;
    if ((f = cJSON_GetObjectItemCaseSensitive(j, "topics")))
        kafka_topics(job, src, f);
    if ((f = cJSON_GetObjectItemCaseSensitive(j, "starting_offsets")))
        kafka_start(job, src, f);
    if ((f = sl__job_field(job, j, src->path, "kafka", true)))
        kafka_props(job, src, f);
}

/* Exactly one of topics and pattern. */
static void kafka_check(sl_job *job, job_source *src, const cJSON *j)
{
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "topics");
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(j, "pattern");
    if (t && p)
        sl__job_problem(job, p, sl__job_path_field(job, src->path, "pattern"),
                        "\"topics\" and \"pattern\" exclude each other");
    else if (!t && !p)
        sl__job_problem(job, j, src->path,
                        "needs \"topics\" (an array) or \"pattern\"");
}

static void kafka_check_all(sl_job *job, job_source *src, const cJSON *j)
{
    kafka_check(job, src, j);
    check_schema(job, src, j);
}

static sl_status kafka_build(sl_job *job, job_source *src)
{
    src->stream = sl_kafka_stream(job->ctx, NULL, src->conf);
    return src->stream ? SL_OK : sl__job_ctx_fail(job, src->path);
}

/* The value alone (text), (key, value) pairs, or rows. */
static elem_kind kafka_elem(const job_source *src, const char **what)
{
    const char *r =
        src->conf ? sl_conf_get(src->conf, "kafka.source.records") : "values";
    if (!strcmp(r, "pairs"))
        return ELEM_PAIR;
    *what = !strcmp(r, "rows") ? "rows" : "record values (text)";
    return ELEM_NOT_PAIR;
}

/* ----------------------------------------------------------- registry */

static const source_def sources[] = {
    {JOB_TYPE_VERSION, "socket", socket_fields, socket_read, check_schema,
     socket_check_env, socket_build, socket_elem},
    {JOB_TYPE_VERSION, "queue", queue_fields, queue_read, check_schema, NULL,
     queue_build, queue_elem},
    {JOB_TYPE_VERSION, "rate", rate_fields, NULL, NULL, NULL, rate_build,
     rate_elem},
    {JOB_TYPE_VERSION, "generator", generator_fields, NULL, NULL, NULL,
     generator_build, lines_elem},
    {JOB_TYPE_VERSION, "directory", directory_fields, directory_read,
     directory_check, directory_check_env, directory_build, directory_elem},
    {JOB_TYPE_VERSION, "kafka", kafka_fields, kafka_read, kafka_check_all, NULL,
     kafka_build, kafka_elem},
};

#define NSOURCES (sizeof sources / sizeof sources[0])

const source_def *sl__job_source_find(const char *type)
{
    size_t i;
    for (i = 0; i < NSOURCES; i++)
        if (strcmp(sources[i].type, type) == 0)
            return &sources[i];
    return NULL;
}

const char *sl_job_source_type_at(size_t i)
{
    return i < NSOURCES ? sources[i].type : NULL;
}
