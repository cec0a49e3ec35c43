/*
 * The sink-type registry of job files: for each type its fields, how
 * they are read, the machine checks of validate and the output it
 * registers on the built stream. The one place a sink type's name maps
 * to code; the engine never knows it.
 */
#include "job/parse_int.h"
#include "kafka/kafka.h"

#include <sluice/sink.h>
#include <sluice/source.h>

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* ------------------------------------------------------------ console */

static void console_read(sl_job *job, job_sink *k, const cJSON *j)
{
    static const char *const formats[] = {"text", "json", "table", NULL};
    const cJSON *f;
    int64_t n;
    int i;
    k->num = 0; /* the format's default: 10 (text), 20 (table) */
    k->console_format = 0;
    if ((f = sl__job_field(job, j, k->path, "format", false)) &&
        (i = sl__job_read_choice(
             job, f, sl__job_path_field(job, k->path, "format"), formats)) >= 0)
        k->console_format = i;
    if ((f = sl__job_field(job, j, k->path, "num", false)) &&
        sl__job_read_int(job, f, sl__job_path_field(job, k->path, "num"), 1,
                         1000000, &n))
        k->num = (size_t)n;
}

static sl_status console_build(sl_job *job, job_sink *k, sl_dstream *from)
{
    (void)job;
    switch (k->console_format) {
    case 1:
        return sl_dstream_print_json(from, k->from);
    case 2:
        return sl_dstream_print_table(from, k->num);
    default:
        return sl_dstream_print(from, k->num);
    }
}

/* -------------------------------------------------- save_as_text_files */

static void save_read(sl_job *job, job_sink *k, const cJSON *j)
{
    const char *path = sl__job_path_field(job, k->path, "prefix");
    const cJSON *f;
    const char *s;
    if ((f = sl__job_field(job, j, k->path, "prefix", true)) &&
        (s = sl__job_read_string(job, f, path))) {
        if (!*s)
            sl__job_problem(job, f, path, "must not be empty");
        else
            k->prefix = sl__job_strdup(job, s);
    }
    if ((f = sl__job_field(job, j, k->path, "suffix", false)) &&
        (s = sl__job_read_string(job, f,
                                 sl__job_path_field(job, k->path, "suffix"))))
        k->suffix = sl__job_strdup(job, s);
}

static void save_check_env(sl_job *job, const job_sink *k, bool at_start)
{
    (void)at_start;
    sl__job_env_prefix(job, k);
}

static sl_status save_build(sl_job *job, job_sink *k, sl_dstream *from)
{
    (void)job;
    return sl_dstream_save_as_text_files(from, k->prefix, k->suffix);
}

/* ---------------------------------------------------------------- file */

static void file_read(sl_job *job, job_sink *k, const cJSON *j)
{
    static const char *const formats[] = {"json", "csv", "text", NULL};
    const char *path = sl__job_path_field(job, k->path, "path");
    const cJSON *f;
    const char *s;
    int i;
    k->format = "json";
    if ((f = sl__job_field(job, j, k->path, "path", true)) &&
        (s = sl__job_read_string(job, f, path))) {
        if (!*s)
            sl__job_problem(job, f, path, "must not be empty");
        else
            k->dir = sl__job_strdup(job, s);
    }
    if ((f = sl__job_field(job, j, k->path, "format", false)) &&
        (i = sl__job_read_choice(
             job, f, sl__job_path_field(job, k->path, "format"), formats)) >= 0)
        k->format = formats[i];
}

static void file_check_env(sl_job *job, const job_sink *k, bool at_start)
{
    (void)at_start;
    sl__job_env_sink_dir(job, k);
}

/* The exactly-once file sink (connectors/file/file_sink.c); its format
 * goes through the one property, file_sink.format. */
static sl_status file_build(sl_job *job, job_sink *k, sl_dstream *from)
{
    char err[256];
    sl_conf *conf = sl_conf_new();
    sl_status st;
    if (!conf)
        return SL_ENOMEM;
    st = sl_conf_set(conf, "file_sink.format", k->format, err, sizeof err);
    if (st == SL_OK)
        st = sl_file_sink(from, k->name, k->dir, conf);
    else
        sl_context_set_error(job->ctx, st, "%s", err);
    sl_conf_free(conf);
    return st;
}

/* ------------------------------------------------------------- memory */

static void memory_read(sl_job *job, job_sink *k, const cJSON *j)
{
    const char *path = sl__job_path_field(job, k->path, "table");
    const cJSON *f;
    const char *s;
    k->max_rows = 0;
    if ((f = sl__job_field(job, j, k->path, "table", true)) &&
        (s = sl__job_read_string(job, f, path))) {
        if (!*s)
            sl__job_problem(job, f, path, "must not be empty");
        else
            k->table = sl__job_strdup(job, s);
    }
    if ((f = sl__job_field(job, j, k->path, "max_rows", false)))
        sl__job_read_int(job, f, sl__job_path_field(job, k->path, "max_rows"),
                         0, INT64_MAX / 2, &k->max_rows);
}

/* The memory sink (src/stream/memtable.c); max_rows goes through the one
 * property, memory_sink.max_rows. */
static sl_status memory_build(sl_job *job, job_sink *k, sl_dstream *from)
{
    char err[256], num[32];
    sl_conf *conf = sl_conf_new();
    sl_status st;
    if (!conf)
        return SL_ENOMEM;
    snprintf(num, sizeof num, "%lld", (long long)k->max_rows);
    st = sl_conf_set(conf, "memory_sink.max_rows", num, err, sizeof err);
    if (st == SL_OK)
        st = sl_memory_sink(from, k->table, conf);
    else
        sl_context_set_error(job->ctx, st, "%s", err);
    sl_conf_free(conf);
    return st;
}

/* -------------------------------------------------------------- kafka */

/* A librdkafka property's JSON value as text (strings, numbers and
 * booleans, as librdkafka's properties are), or NULL after a problem. */
static const char *kafka_prop_text(sl_job *job, const cJSON *p,
                                   const char *path)
{
    if (cJSON_IsString(p))
        return p->valuestring;
    if (cJSON_IsBool(p))
        return cJSON_IsTrue(p) ? "true" : "false";
    if (cJSON_IsNumber(p)) {
        if (p->valuedouble == (double)(long long)p->valuedouble)
            return sl__job_printf(job, "%lld", (long long)p->valuedouble);
        return sl__job_printf(job, "%.17g", p->valuedouble);
    }
    sl__job_wrong_type(job, p, path, "a string, a number or a boolean");
    return NULL;
}

/* "kafka": every property checked by librdkafka, at its own path. */
static void kafka_read_props(sl_job *job, job_sink *k, const cJSON *f,
                             const char *path)
{
    const cJSON *p;
    bool servers = false;
    char why[512];
    if (!cJSON_IsObject(f)) {
        sl__job_wrong_type(job, f, path, "an object");
        return;
    }
    sl__job_check_fields(job, f, path, NULL); /* duplicates */
    cJSON_ArrayForEach(p, f)
    {
        const char *at = sl__job_path_field(job, path, p->string);
        const char *text = kafka_prop_text(job, p, at);
        if (!strcmp(p->string, "bootstrap.servers") ||
            !strcmp(p->string, "metadata.broker.list"))
            servers = true;
        if (text && !sl__kafka_sink_prop_ok(p->string, text, why, sizeof why))
            sl__job_problem(job, p, at, "%s", why);
    }
    if (!servers)
        sl__job_problem(job, f,
                        sl__job_path_field(job, path, "bootstrap.servers"),
                        "missing required property (the brokers, "
                        "\"HOST:PORT,...\")");
    k->kafka = f;
}

static void kafka_read(sl_job *job, job_sink *k, const cJSON *j)
{
    const char *path = sl__job_path_field(job, k->path, "topic");
    const cJSON *f;
    const char *s;
    if ((f = sl__job_field(job, j, k->path, "topic", true)) &&
        (s = sl__job_read_string(job, f, path))) {
        if (!sl__kafka_topic_valid(s))
            sl__job_problem(job, f, path,
                            "%s is not a Kafka topic name (1 to 249 of the "
                            "characters a-z A-Z 0-9 . _ -)",
                            sl__job_quoted(job, s));
        else
            k->topic = sl__job_strdup(job, s);
    }
    if ((f = sl__job_field(job, j, k->path, "kafka", true)))
        kafka_read_props(job, k, f, sl__job_path_field(job, k->path, "kafka"));
}

/* The Kafka sink (connectors/kafka/kafka_sink.c): the properties as
 * kafka.* pass-through, the job's name as its sluice.job header. */
static sl_status kafka_build(sl_job *job, job_sink *k, sl_dstream *from)
{
    char err[512];
    const cJSON *p;
    sl_conf *conf = sl_conf_new();
    sl_status st;
    if (!conf)
        return SL_ENOMEM;
    st = sl_conf_set(conf, "kafka_sink.job", sl_job_name(job), err, sizeof err);
    cJSON_ArrayForEach(p, k->kafka)
    {
        const char *text;
        char *name;
        if (st != SL_OK)
            break;
        text = kafka_prop_text(job, p, k->path);
        name = sl__job_printf(job, "kafka.%s", p->string);
        if (!text || !name) {
            st = SL_ENOMEM;
            break;
        }
        st = sl_conf_set(conf, name, text, err, sizeof err);
    }
    if (st == SL_OK)
        st = sl_kafka_sink(from, k->name, k->topic, conf);
    else
        sl_context_set_error(job->ctx, st, "%s", err);
    sl_conf_free(conf);
    return st;
}

/* ----------------------------------------------------------- registry */

static const char *const console_fields[] = {"format", "num", NULL};
static const char *const save_fields[] = {"prefix", "suffix", NULL};
static const char *const file_fields[] = {"path", "format", NULL};
static const char *const memory_fields[] = {"table", "max_rows", NULL};
static const char *const kafka_fields[] = {"topic", "kafka", NULL};

static const sink_def sinks[] = {
    {JOB_TYPE_VERSION, "console", console_fields, console_read, NULL,
     console_build},
    {JOB_TYPE_VERSION, "save_as_text_files", save_fields, save_read,
     save_check_env, save_build},
    {JOB_TYPE_VERSION, "file", file_fields, file_read, file_check_env,
     file_build},
    {JOB_TYPE_VERSION, "memory", memory_fields, memory_read, NULL,
     memory_build},
    {JOB_TYPE_VERSION, "kafka", kafka_fields, kafka_read, NULL, kafka_build},
};

#define NSINKS (sizeof sinks / sizeof sinks[0])

const sink_def *sl__job_sink_find(const char *type)
{
    size_t i;
    for (i = 0; i < NSINKS; i++)
        if (strcmp(sinks[i].type, type) == 0)
            return &sinks[i];
    return NULL;
}

const char *sl__job_sink_type_at(size_t i)
{
    return i < NSINKS ? sinks[i].type : NULL;
}
