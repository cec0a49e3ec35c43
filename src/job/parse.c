/*
 * Job-file parsing, the document: the text checked and parsed by cJSON,
 * the top-level fields and conf, then sources.c, streams.c and sinks.c,
 * the graph walk (graph.c), problems put in the order of the file; and
 * the public parse, load and free calls.
 */
#include "job/parse_int.h"
#include "sql/files.h"

#include "core/records.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PROBLEMS 200

/* ------------------------------------------------------------ the job */

/* A problem's node (or its place in the file) and its index. */
typedef struct pkey {
    uintptr_t node;
    size_t i;
} pkey;

static int by_key(const void *a, const void *b)
{
    const pkey *x = a, *y = b;
    if (x->node != y->node)
        return x->node < y->node ? -1 : 1;
    return (x->i > y->i) - (x->i < y->i); /* stable */
}

/*
 * Number the nodes under j in pre-order; every problem about a node gets
 * its number in key[]. byn is sorted by node (binary search).
 */
static void number_nodes(const cJSON *j, const pkey *byn, size_t np,
                         size_t *key, size_t *n)
{
    size_t lo = 0, hi = np, i;
    const cJSON *c;
    while (lo < hi) { /* first entry whose node is >= j */
        size_t mid = lo + (hi - lo) / 2;
        if (byn[mid].node < (uintptr_t)j)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (i = lo; i < np && byn[i].node == (uintptr_t)j; i++)
        key[byn[i].i] = *n;
    ++*n;
    for (c = j->child; c; c = c->next)
        number_nodes(c, byn, np, key, n);
}

/* Put the problems in the order of the nodes they are about (stable). */
static void sort_problems(sl_job *job)
{
    size_t np = job->nproblems, i, n = 1, *key;
    pkey *byn;
    char **text;
    if (np < 2 || !job->root)
        return;
    key = sl_malloc(np * sizeof *key);
    byn = sl_malloc(np * sizeof *byn);
    text = sl_malloc(np * sizeof *text);
    if (!key || !byn || !text)
        goto out; /* keep the order they were found in */
    for (i = 0; i < np; i++) {
        byn[i].node = (uintptr_t)job->problem_at[i];
        byn[i].i = i;
        key[i] = 0; /* no node: the document itself comes first */
    }
    qsort(byn, np, sizeof *byn, by_key);
    number_nodes(job->root, byn, np, key, &n);
    for (i = 0; i < np; i++) { /* now by (place in the file, index) */
        byn[i].node = key[i];
        byn[i].i = i;
    }
    qsort(byn, np, sizeof *byn, by_key);
    for (i = 0; i < np; i++)
        text[i] = job->problems[byn[i].i];
    memcpy(job->problems, text, np * sizeof *text);
    for (i = 0; i < np; i++) /* their nodes are not needed any more */
        job->problem_at[i] = NULL;
out:
    sl_free(key);
    sl_free(byn);
    sl_free(text);
}

/* Line and column of byte offset at in text (1-based). */
static void line_col(const char *text, size_t at, size_t *line, size_t *col)
{
    size_t i;
    *line = 1;
    *col = 1;
    for (i = 0; i < at; i++) {
        if (text[i] == '\n') {
            ++*line;
            *col = 1;
        } else {
            ++*col;
        }
    }
}

/*
 * The job's name: a name that is also safe as a folder name and as a
 * command argument, since run folders and streamctl commands will be
 * named by it ("." and ".." are folders already; "-x" reads as an option).
 */
static const char *read_job_name(sl_job *job, const cJSON *j)
{
    const char *s = sl__job_read_name(job, j, "$.name");
    if (s && (strcmp(s, ".") == 0 || strcmp(s, "..") == 0)) {
        sl__job_problem(job, j, "$.name",
                        "invalid job name %s: \".\" and \"..\" are not "
                        "allowed (a job's name will name its run folder)",
                        sl__job_quoted(job, s));
        return NULL;
    }
    if (s && s[0] == '-') {
        sl__job_problem(job, j, "$.name",
                        "invalid job name %s: it must not start with '-' (a "
                        "job's name will be a command argument)",
                        sl__job_quoted(job, s));
        return NULL;
    }
    return s;
}

/* Refuse text over the limits or not JSON, with where; else parse it. */
static bool check_json(sl_job *job, const char *text, size_t len)
{
    size_t at, line, col;
    const char *why;
    bool limit;
    if (len > JOB_MAX_BYTES) {
        sl__job_problem(job, NULL, "$",
                        "the job is larger than " JOB_MAX_BYTES_TEXT
                        " (the limit of a job file)");
        return false;
    }
    if (len == 0) {
        sl__job_problem(job, NULL, "$", "invalid JSON: the file is empty");
        return false;
    }
    if (memchr(text, '\0', len)) {
        sl__job_problem(job, NULL, "$",
                        "invalid JSON: the text holds a NUL byte");
        return false;
    }
    if (sl__job_scan(text, len, &at, &why, &limit))
        return true;
    line_col(text, at, &line, &col);
    if (limit)
        sl__job_problem(job, NULL, "$", "%s, at line %zu, column %zu", why,
                        line, col);
    else
        sl__job_problem(job, NULL, "$",
                        "invalid JSON near line %zu, column %zu%s%s", line, col,
                        why ? ": " : "", why ? why : "");
    return false;
}

/*
 * The text as a cJSON tree in job->root. The pre-scan accepted only what
 * cJSON accepts, so cJSON failing after it means cJSON's own allocations
 * failed: out of memory (SL_ENOMEM, streamctl's exit 1), not a problem of
 * the file.
 */
static bool read_json(sl_job *job, const char *text, size_t len)
{
    char *copy;
    if (!check_json(job, text, len))
        return false;
    /* cJSON wants the text NUL-terminated to refuse trailing garbage. */
    if (!(copy = sl_malloc(len + 1))) {
        job->oom = true;
        return false;
    }
    memcpy(copy, text, len);
    copy[len] = '\0';
    job->root = sl__json_parse(copy, len + 1, NULL, true);
    sl_free(copy);
    if (!job->root)
        job->oom = true;
    return job->root != NULL;
}

/* "checkpoint": a string (the path alone) or {"path", "snapshot_every_
 * batches", "retain_batches"}; each sets its checkpoint.* property. */
static void read_checkpoint(sl_job *job, const cJSON *f)
{
    static const char *const fields[] = {"path", "snapshot_every_batches",
                                         "retain_batches", NULL};
    const cJSON *c;
    if (cJSON_IsString(f)) {
        if (!*f->valuestring)
            sl__job_problem(job, f, "$.checkpoint",
                            "the checkpoint path is empty");
        else
            sl__job_set_conf(job, job->conf, f, "$.checkpoint",
                             "checkpoint.path");
        return;
    }
    if (!cJSON_IsObject(f)) {
        sl__job_wrong_type(job, f, "$.checkpoint",
                           "a string (the directory) or an object");
        return;
    }
    sl__job_check_fields(job, f, "$.checkpoint", fields);
    if ((c = sl__job_field(job, f, "$.checkpoint", "path", true))) {
        if (cJSON_IsString(c) && !*c->valuestring)
            sl__job_problem(job, c, "$.checkpoint.path",
                            "the checkpoint path is empty");
        else if (sl__job_read_string(job, c, "$.checkpoint.path"))
            sl__job_set_conf(job, job->conf, c, "$.checkpoint.path",
                             "checkpoint.path");
    }
    if ((c = sl__job_field(job, f, "$.checkpoint", "snapshot_every_batches",
                           false)))
        sl__job_set_conf(job, job->conf, c,
                         "$.checkpoint.snapshot_every_batches",
                         "checkpoint.snapshot_every_batches");
    if ((c = sl__job_field(job, f, "$.checkpoint", "retain_batches", false)))
        sl__job_set_conf(job, job->conf, c, "$.checkpoint.retain_batches",
                         "checkpoint.retain_batches");
}

/* "tables": {"NAME": {"path": FILE, "format": "csv" | "json" | "lines",
 * "schema": DDL}}: static tables SQL streams may join; the files are read
 * at build. */
static void read_tables(sl_job *job, const cJSON *f)
{
    static const char *const fields[] = {"path", "format", "schema", NULL};
    static const char *const formats[] = {"csv", "json", "lines", NULL};
    const cJSON *t, *x;
    char err[256];
    size_t n = 0;
    if (!cJSON_IsObject(f)) {
        sl__job_wrong_type(job, f, "$.tables", "an object");
        return;
    }
    for (t = f->child; t; t = t->next)
        n++;
    if (!n || !(job->tables = sl__job_alloc(job, n * sizeof *job->tables)))
        return;
    for (t = f->child; t; t = t->next) {
        job_table *tb = &job->tables[job->ntables];
        const char *path = sl__job_path_field(job, "$.tables", t->string);
        memset(tb, 0, sizeof *tb);
        tb->path = path;
        tb->name = t->string;
        if (!sl__job_valid_name(t->string)) {
            sl__job_problem(job, t, path,
                            "invalid table name (1-64 letters, digits, '.', "
                            "'_', '-')");
            continue;
        }
        if (!cJSON_IsObject(t)) {
            sl__job_wrong_type(job, t, path, "an object");
            continue;
        }
        sl__job_check_fields(job, t, path, fields);
        if ((x = sl__job_field(job, t, path, "path", true)))
            tb->file = sl__job_read_string(
                job, x, sl__job_path_field(job, path, "path"));
        if ((x = sl__job_field(job, t, path, "format", false)) &&
            sl__job_read_choice(job, x, sl__job_path_field(job, path, "format"),
                                formats) >= 0)
            tb->format = x->valuestring;
        if ((x = sl__job_field(job, t, path, "schema", false)) &&
            (tb->schema = sl__job_read_string(
                 job, x, sl__job_path_field(job, path, "schema")))) {
            sl_schema *sc = NULL;
            if (sl_schema_parse(tb->schema, &sc, err, sizeof err) != SL_OK)
                sl__job_problem(job, x, sl__job_path_field(job, path, "schema"),
                                "%s", err);
            sl_schema_release(sc);
        }
        if (tb->file)
            job->ntables++;
    }
}

/* The shortest UI token: 16 characters from the 62 of [A-Za-z0-9] hold
 * 95 bits, beyond guessing over HTTP. */
#define UI_TOKEN_MIN 16

/* "ui": {"port": 1-65535, "bind": HOST, "token": TEXT}: the job's web UI
 * (docs/ui.md), handed to the control plane by sl_job_control_options.
 * The token is a secret: no message quotes it. */
static void read_ui(sl_job *job, const cJSON *f)
{
    static const char *const fields[] = {"port", "bind", "token", NULL};
    const cJSON *c;
    int64_t port;
    if (!cJSON_IsObject(f)) {
        sl__job_wrong_type(job, f, "$.ui", "an object");
        return;
    }
    sl__job_check_fields(job, f, "$.ui", fields);
    if ((c = sl__job_field(job, f, "$.ui", "port", true)) &&
        sl__job_read_int(job, c, "$.ui.port", 1, 65535, &port))
        job->ui_port = (int)port;
    if ((c = sl__job_field(job, f, "$.ui", "bind", false)) &&
        (job->ui_bind = sl__job_read_string(job, c, "$.ui.bind")) &&
        !*job->ui_bind) {
        sl__job_problem(job, c, "$.ui.bind",
                        "the address is empty (leave \"bind\" out for "
                        "127.0.0.1)");
        job->ui_bind = NULL;
    }
    if ((c = sl__job_field(job, f, "$.ui", "token", false)) &&
        (job->ui_token = sl__job_read_string(job, c, "$.ui.token")) &&
        strlen(job->ui_token) < UI_TOKEN_MIN) {
        sl__job_problem(job, c, "$.ui.token",
                        "the token is shorter than %d characters (its "
                        "value is not shown: it is a secret)",
                        UI_TOKEN_MIN);
        job->ui_token = NULL;
    }
}

/* available_now needs sources with an end: socket, rate and generator
 * have none (the context refuses them at start too; validate says so
 * first, at the source's path). */
static void check_trigger(sl_job *job)
{
    static const char *const endless[] = {"socket", "rate", "generator", NULL};
    size_t i, k;
    if (strcmp(sl_conf_get(job->conf, "trigger"), "available_now") != 0)
        return;
    for (i = 0; i < job->nsources; i++) {
        const job_source *src = &job->sources[i];
        for (k = 0; src->def && endless[k]; k++)
            if (!strcmp(src->def->type, endless[k]))
                sl__job_problem(job, src->json, src->path,
                                "a %s source has no end: \"trigger\": "
                                "\"available_now\" reads sources that do "
                                "(queue, directory, kafka)",
                                endless[k]);
    }
}

void sl__job_parse(sl_job *job, const char *text, size_t len,
                   const char *const *sets, size_t nsets)
{
    static const char *const fields[] = {"name",
                                         "batch_interval",
                                         "clock",
                                         "max_batches",
                                         "workers",
                                         "conf",
                                         "dead_letter",
                                         "on_bad_record",
                                         "sources",
                                         "streams",
                                         "sinks",
                                         "checkpoint",
                                         "tables",
                                         "watermark_policy",
                                         "no_data_batches",
                                         "trigger",
                                         "ui",
                                         NULL};
    static const char *const clocks[] = {"system", "manual", NULL};
    const cJSON *f, *root;
    const char *s;
    int64_t v;

    if (!read_json(job, text, len))
        return;
    /* What would run is the document with its overrides; one that does
     * not fit leaves nothing meaningful to check. */
    if (nsets && !sl__job_apply_sets(job, sets, nsets))
        return;
    /* Values are read from the environment before any is checked. */
    sl__job_expand_env(job);
    if (job->oom)
        return;
    root = job->root;
    if (!cJSON_IsObject(root)) {
        sl__job_wrong_type(job, root, "$", "an object");
        return;
    }
    sl__job_check_fields(job, root, "$", fields);
    if (!(job->conf = sl_conf_new())) {
        job->oom = true;
        return;
    }
    if ((f = sl__job_field(job, root, "$", "name", true)) &&
        (s = read_job_name(job, f)))
        job->name = sl__job_strdup(job, s);
    if ((f = sl__job_field(job, root, "$", "conf", false))) {
        const cJSON *c;
        if (!cJSON_IsObject(f))
            sl__job_wrong_type(job, f, "$.conf", "an object");
        else
            sl__job_check_fields(job, f, "$.conf", NULL);
        if (cJSON_IsObject(f))
            for (c = f->child; c; c = c->next)
                sl__job_set_conf(job, job->conf, c,
                                 sl__job_path_field(job, "$.conf", c->string),
                                 c->string);
    }
    if ((f = sl__job_field(job, root, "$", "batch_interval", true)) &&
        sl__job_read_duration(job, f, "$.batch_interval", &job->interval_ms))
        sl__job_set_conf(job, job->conf, f, "$.batch_interval",
                         "batch_interval");
    else if (!f)
        job->interval_ms = 0;
    if (!f || job->interval_ms <= 0)
        job->interval_ms = 0;
    if ((f = sl__job_field(job, root, "$", "clock", false)) &&
        sl__job_read_choice(job, f, "$.clock", clocks) >= 0)
        sl__job_set_conf(job, job->conf, f, "$.clock", "clock");
    if ((f = sl__job_field(job, root, "$", "max_batches", false)) &&
        sl__job_read_int(job, f, "$.max_batches", 0, INT64_C(1) << 53, &v))
        sl__job_set_conf(job, job->conf, f, "$.max_batches", "max_batches");
    if ((f = sl__job_field(job, root, "$", "trigger", false)))
        sl__job_set_conf(job, job->conf, f, "$.trigger", "trigger");
    if ((f = sl__job_field(job, root, "$", "watermark_policy", false)))
        sl__job_set_conf(job, job->conf, f, "$.watermark_policy",
                         "watermark_policy");
    if ((f = sl__job_field(job, root, "$", "no_data_batches", false)))
        sl__job_set_conf(job, job->conf, f, "$.no_data_batches",
                         "no_data_batches");
    if ((f = sl__job_field(job, root, "$", "workers", false)) &&
        sl__job_read_int(job, f, "$.workers", 0, 1024, &v))
        sl__job_set_conf(job, job->conf, f, "$.workers", "workers");
    if ((f = sl__job_field(job, root, "$", "dead_letter", false)) &&
        sl__job_read_string(job, f, "$.dead_letter"))
        sl__job_set_conf(job, job->conf, f, "$.dead_letter", "dead_letter");
    if ((f = sl__job_field(job, root, "$", "checkpoint", false)))
        read_checkpoint(job, f);
    if ((f = sl__job_field(job, root, "$", "on_bad_record", false)))
        sl__job_set_conf(job, job->conf, f, "$.on_bad_record", "on_bad_record");
    if (!strcmp(sl_conf_get(job->conf, "on_bad_record"), "dead_letter") &&
        !*sl_conf_get(job->conf, "dead_letter"))
        sl__job_problem(job, f ? f : root, f ? "$.on_bad_record" : "$",
                        "on_bad_record \"dead_letter\" needs a dead-letter "
                        "file: set the top-level \"dead_letter\"");
    if (job->interval_ms) {
        /* conf may have set it too; the top-level field wins. */
        int64_t ms;
        if (sl_conf_get_int(job->conf, "batch_interval", &ms) == SL_OK)
            job->interval_ms = ms;
    }
    {
        /* Functions keep the bound; conf is read before them. */
        int64_t max;
        if (sl_conf_get_int(job->conf, "max_record_bytes", &max) == SL_OK)
            job->max_record_bytes = (size_t)max;
    }
    if ((f = sl__job_field(job, root, "$", "ui", false)))
        read_ui(job, f);
    if ((f = sl__job_field(job, root, "$", "tables", false)))
        read_tables(job, f);
    if ((f = sl__job_field(job, root, "$", "sources", true)))
        sl__job_read_sources(job, f);
    check_trigger(job);
    if ((f = sl__job_field(job, root, "$", "streams", false)))
        sl__job_read_streams(job, f);
    if ((f = sl__job_field(job, root, "$", "sinks", true)))
        sl__job_read_sinks(job, f);
    sl__job_walk_graph(job, cJSON_GetObjectItemCaseSensitive(root, "streams"));
    sort_problems(job);
    if (job->nproblems > MAX_PROBLEMS) {
        size_t more = job->nproblems - (MAX_PROBLEMS - 1);
        char *note =
            sl__job_printf(job, "$: %zu more problems not shown", more);
        if (note) {
            job->problems[MAX_PROBLEMS - 1] = note;
            job->nproblems = MAX_PROBLEMS;
        }
    }
}

/* --------------------------------------------------------- public API */

sl_job *sl_job_parse(const char *text, size_t len, const char *origin)
{
    return sl_job_parse_with_overrides(text, len, origin, NULL, 0);
}

sl_job *sl_job_parse_with_overrides(const char *text, size_t len,
                                    const char *origin, const char *const *sets,
                                    size_t nsets)
{
    sl_job *job = sl_malloc(sizeof *job);
    if (!job)
        return NULL;
    memset(job, 0, sizeof *job);
    sl__arena_init(&job->arena, 4096);
    job->origin = sl__job_strdup(job, origin ? origin : "job");
    if (job->origin && text)
        sl__job_parse(job, text, len, sets, nsets);
    else if (!text)
        sl__job_problem(job, NULL, "$", "no job text");
    if (job->oom) {
        sl_job_free(job);
        return NULL;
    }
    return job;
}

sl_job *sl_job_load(const char *path)
{
    return sl_job_load_with_overrides(path, NULL, 0);
}

sl_job *sl_job_load_with_overrides(const char *path, const char *const *sets,
                                   size_t nsets)
{
    FILE *f = fopen(path, "rb");
    char *text = NULL, *grown;
    size_t len = 0, cap = 0, n;
    sl_job *job;
    int err = 0;

    if (f) {
        for (;;) {
            if (len == cap) {
                /* One byte past the limit tells a file over it. */
                if (cap > JOB_MAX_BYTES) {
                    err = EFBIG;
                    break;
                }
                cap = cap ? cap * 2 : 65536;
                if (cap > JOB_MAX_BYTES + 1)
                    cap = JOB_MAX_BYTES + 1;
                if (!(grown = sl_realloc(text, cap))) {
                    err = ENOMEM;
                    break;
                }
                text = grown;
            }
            n = fread(text + len, 1, cap - len, f);
            len += n;
            if (n == 0) {
                if (ferror(f))
                    err = errno ? errno : EIO;
                break;
            }
        }
        fclose(f);
    } else {
        err = errno;
    }
    if (err == ENOMEM) {
        sl_free(text);
        return NULL;
    }
    if (err) {
        sl_free(text);
        if (!(job = sl_job_parse("", 0, path)))
            return NULL;
        job->nproblems = 0;
        if (err == EFBIG)
            sl__job_problem(job, NULL, "$",
                            "the job is larger than " JOB_MAX_BYTES_TEXT
                            " (the limit of a job file)");
        else
            sl__job_problem(job, NULL, "$", "cannot read %s: %s",
                            sl__job_quoted(job, path), SL__STRERROR(err));
        if (job->oom) {
            sl_job_free(job);
            return NULL;
        }
        return job;
    }
    job = sl_job_parse_with_overrides(text ? text : "", len, path, sets, nsets);
    sl_free(text);
    return job;
}

size_t sl_job_problem_count(const sl_job *job)
{
    return job ? job->nproblems : 0;
}

const char *sl_job_problem(const sl_job *job, size_t i)
{
    return job && i < job->nproblems ? job->problems[i] : NULL;
}

const char *sl_job_name(const sl_job *job)
{
    return job ? job->name : NULL;
}

void sl_job_control_options(const sl_job *job, sl_control_options *opts)
{
    if (!job || !opts)
        return;
    opts->version = SL_CONTROL_OPTIONS_VERSION;
    opts->name = job->name;
    opts->ui_port = job->ui_port;
    opts->ui_bind = job->ui_bind;
    opts->ui_token = job->ui_token;
}

const char *sl_job_errmsg(const sl_job *job)
{
    return job ? job->errmsg : "";
}

void sl_job_free(sl_job *job)
{
    size_t i;
    if (!job)
        return;
    sl_context_free(job->ctx);
    sl__sql_files_free(
        job->files); /* after the context: its streams read them */
    sl__job_bad_close(&job->bad);
    for (i = 0; i < job->nsources; i++)
        sl_conf_free(job->sources[i].conf);
    sl_conf_free(job->conf);
    cJSON_Delete(job->root);
    sl_free(job->problems);
    sl_free(job->problem_at);
    sl__arena_free(&job->arena);
    sl_free(job);
}
