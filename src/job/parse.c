/*
 * Job-file parsing and validation: cJSON text into the job model of
 * job_int.h, with every problem recorded at its JSON path. One pass reads
 * the fields; a second walks the stream graph (cycles, build order, slides
 * of windows and joins). Problems are then put in the order of the file.
 */
#include "job/job_int.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PROBLEMS 200
#define MAX_STREAMS 4096

/* ------------------------------------------------------------- memory */

/* Job memory; NULL only when out of memory (then job->oom is set). */
static void *jalloc(sl_job *job, size_t n)
{
    void *p = sl__arena_alloc(&job->arena, n ? n : 1);
    if (!p)
        job->oom = true;
    else
        memset(p, 0, n);
    return p;
}

static char *jstrdup(sl_job *job, const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = jalloc(job, n);
    if (d)
        memcpy(d, s, n);
    return d;
}

/* Formatted text in job memory. */
#define jprintf sl__job_printf

/* -------------------------------------------------------------- paths */

static bool plain_identifier(const char *s)
{
    if (!*s || !(isalpha((unsigned char)*s) || *s == '_'))
        return false;
    for (; *s; s++)
        if (!(isalnum((unsigned char)*s) || *s == '_'))
            return false;
    return true;
}

/* A string quoted as JSON, at most about 60 bytes of it (job memory). */
static char *quoted(sl_job *job, const char *s)
{
    sl_value v = sl_cstr(s);
    bool cut = v.len > 60;
    size_t n;
    char *text;
    if (cut) { /* at most 60 bytes, never inside a UTF-8 sequence */
        v.len = 60;
        while (v.len > 0 && ((unsigned char)s[v.len] & 0xC0) == 0x80)
            v.len--;
    }
    n = sl_value_format_json(&v, NULL, 0);
    if (!(text = jalloc(job, n + 4)))
        return NULL;
    sl_value_format_json(&v, text, n + 1);
    if (cut)
        memcpy(text + n, "...", 4); /* "the first 60 bytes"... */
    return text;
}

static char *path_field(sl_job *job, const char *base, const char *name)
{
    if (plain_identifier(name))
        return jprintf(job, "%s.%s", base, name);
    return jprintf(job, "%s[%s]", base, quoted(job, name));
}

static char *path_index(sl_job *job, const char *base, size_t i)
{
    return jprintf(job, "%s[%zu]", base, i);
}

/* ----------------------------------------------------------- problems */

void sl__job_problem(sl_job *job, const cJSON *node, const char *path,
                     const char *fmt, ...)
{
    va_list ap;
    char msg[512];
    char *text;
    if (job->nproblems == job->cap_problems) {
        size_t cap = job->cap_problems ? job->cap_problems * 2 : 16;
        char **p = sl_realloc(job->problems, cap * sizeof *p);
        const cJSON **a;
        if (!p) {
            job->oom = true;
            return;
        }
        job->problems = p;
        a = sl_realloc(job->problem_at, cap * sizeof *a);
        if (!a) {
            job->oom = true;
            return;
        }
        job->problem_at = a;
        job->cap_problems = cap;
    }
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (!(text = jprintf(job, "%s: %s", path ? path : "$", msg)))
        return;
    job->problem_at[job->nproblems] = node;
    job->problems[job->nproblems++] = text;
}

static const char *type_name(const cJSON *j)
{
    if (cJSON_IsString(j))
        return "string";
    if (cJSON_IsNumber(j))
        return "number";
    if (cJSON_IsBool(j))
        return "boolean";
    if (cJSON_IsNull(j))
        return "null";
    if (cJSON_IsArray(j))
        return "array";
    return "object";
}

static void wrong_type(sl_job *job, const cJSON *j, const char *path,
                       const char *expected)
{
    sl__job_problem(job, j, path, "expected %s, got %s", expected,
                    type_name(j));
}

/* ------------------------------------------------------------- fields */

/*
 * Check obj's field names against allowed (NULL-terminated) and report
 * unknown and duplicate fields. allowed NULL accepts every name.
 */
static void check_fields(sl_job *job, const cJSON *obj, const char *path,
                         const char *const *allowed)
{
    const cJSON *f, *g;
    if (cJSON_GetArraySize(obj) > MAX_STREAMS) {
        /* The duplicate check is quadratic: no job needs this many. */
        sl__job_problem(job, obj, path, "more than %d fields", MAX_STREAMS);
        return;
    }
    for (f = obj->child; f; f = f->next) {
        bool known = !allowed;
        size_t i;
        for (g = obj->child; g != f; g = g->next)
            if (strcmp(g->string, f->string) == 0)
                break;
        if (g != f) {
            sl__job_problem(job, f, path_field(job, path, f->string),
                            "duplicate field");
            continue;
        }
        for (i = 0; allowed && allowed[i]; i++)
            if (strcmp(allowed[i], f->string) == 0)
                known = true;
        if (!known)
            sl__job_problem(
                job, f, path_field(job, path, f->string), "unknown field%s",
                sl__job_hint_note(job, sl__job_hint(f->string, allowed)));
    }
}

/* obj's field name, or NULL; a missing required one is a problem. */
static const cJSON *field(sl_job *job, const cJSON *obj, const char *path,
                          const char *name, bool required)
{
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(obj, name);
    if (!f && required)
        sl__job_problem(job, obj, path_field(job, path, name),
                        "missing required field");
    return f;
}

static bool valid_name(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (!(isalnum((unsigned char)s[n]) || s[n] == '.' || s[n] == '_' ||
              s[n] == '-'))
            return false;
    return n >= 1 && n <= 64;
}

static const char *read_string(sl_job *job, const cJSON *j, const char *path)
{
    if (!cJSON_IsString(j)) {
        wrong_type(job, j, path, "a string");
        return NULL;
    }
    return j->valuestring;
}

/* A name field ("name", "from", "with"): a string of the name syntax. */
static const char *read_name(sl_job *job, const cJSON *j, const char *path)
{
    const char *s = read_string(job, j, path);
    if (s && !valid_name(s)) {
        sl__job_problem(job, j, path,
                        "invalid name %s (1-64 letters, digits, '.', '_', "
                        "'-')",
                        quoted(job, s));
        return NULL;
    }
    return s;
}

/*
 * The job's name: a name that is also safe as a folder name and as a
 * command argument, since run folders and streamctl commands will be
 * named by it ("." and ".." are folders already; "-x" reads as an option).
 */
static const char *read_job_name(sl_job *job, const cJSON *j)
{
    const char *s = read_name(job, j, "$.name");
    if (s && (strcmp(s, ".") == 0 || strcmp(s, "..") == 0)) {
        sl__job_problem(job, j, "$.name",
                        "invalid job name %s: \".\" and \"..\" are not "
                        "allowed (a job's name will name its run folder)",
                        quoted(job, s));
        return NULL;
    }
    if (s && s[0] == '-') {
        sl__job_problem(job, j, "$.name",
                        "invalid job name %s: it must not start with '-' (a "
                        "job's name will be a command argument)",
                        quoted(job, s));
        return NULL;
    }
    return s;
}

static bool read_int(sl_job *job, const cJSON *j, const char *path, int64_t min,
                     int64_t max, int64_t *out)
{
    double d;
    if (!cJSON_IsNumber(j) || floor(j->valuedouble) != j->valuedouble) {
        wrong_type(job, j, path, "an integer");
        return false;
    }
    d = j->valuedouble;
    /* JSON numbers are doubles: beyond 2^53 an integer is not exact. */
    if (max > (INT64_C(1) << 53))
        max = INT64_C(1) << 53;
    if (min < -(INT64_C(1) << 53))
        min = -(INT64_C(1) << 53);
    if (d < (double)min || d > (double)max) {
        sl__job_problem(job, j, path, "%.17g is out of range (%lld..%lld)", d,
                        (long long)min, (long long)max);
        return false;
    }
    *out = (int64_t)d;
    return true;
}

static bool read_duration(sl_job *job, const cJSON *j, const char *path,
                          int64_t *out)
{
    const char *s;
    if (cJSON_IsNumber(j)) {
        /* Spark's Seconds(5) has its unit in the call; here the text has
         * it, and a bare number would be ambiguous. */
        sl__job_problem(job, j, path,
                        "expected a duration string such as \"5s\", got "
                        "number %.17g",
                        j->valuedouble);
        return false;
    }
    if (!(s = read_string(job, j, path)))
        return false;
    if (sl_duration_parse(s, out) != SL_OK) {
        sl__job_problem(job, j, path,
                        "invalid duration %s (an integer and a unit: ms, s, "
                        "m, h)",
                        quoted(job, s));
        return false;
    }
    if (*out <= 0) {
        sl__job_problem(job, j, path, "must be positive");
        return false;
    }
    return true;
}

/* One of choices (NULL-terminated); its index, or -1 after a problem. */
static int read_choice(sl_job *job, const cJSON *j, const char *path,
                       const char *const *choices)
{
    char list[256] = "";
    const char *s = read_string(job, j, path);
    int i;
    if (!s)
        return -1;
    for (i = 0; choices[i]; i++)
        if (strcmp(choices[i], s) == 0)
            return i;
    for (i = 0; choices[i]; i++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s\"%s\"",
                 i ? ", " : "", choices[i]);
    sl__job_problem(job, j, path, "expected one of %s; got %s%s", list,
                    quoted(job, s),
                    sl__job_hint_note(job, sl__job_hint(s, choices)));
    return -1;
}

/* A conf value from JSON as text (job memory), or NULL after a problem. */
static const char *conf_text(sl_job *job, const cJSON *j, const char *path)
{
    if (cJSON_IsString(j))
        return j->valuestring;
    if (cJSON_IsBool(j))
        return cJSON_IsTrue(j) ? "true" : "false";
    if (cJSON_IsNumber(j)) {
        double d = j->valuedouble;
        if (floor(d) == d && fabs(d) < 9e15)
            return jprintf(job, "%lld", (long long)d);
        return jprintf(job, "%.17g", d);
    }
    wrong_type(job, j, path, "a string, a number or a boolean");
    return NULL;
}

static const char *fmt_ms(sl_job *job, int64_t ms);

static const sl_conf_property *conf_property(const char *name)
{
    const sl_conf_property *p;
    size_t i;
    for (i = 0; (p = sl_conf_property_at(i)) != NULL; i++)
        if (strcmp(p->name, name) == 0)
            return p;
    return NULL;
}

/*
 * Check j against the type of property name, as every other field is
 * checked (JSON type, durations, ranges, choices), then set it. Messages
 * left to the property table lose its name: the path says it.
 */
static void set_conf(sl_job *job, sl_conf *conf, const cJSON *j,
                     const char *path, const char *name)
{
    const sl_conf_property *p = conf_property(name);
    const char *text = NULL;
    char err[256];
    sl_status rc;
    int64_t v;

    if (!p) {
        sl__job_problem(job, j, path, "unknown configuration property %s%s",
                        quoted(job, name),
                        sl__job_hint_note(
                            job, sl__job_hint_registry(name, REG_PROPERTIES)));
        return;
    }
    switch (p->type) {
    case SL_CONF_DURATION:
        if (!read_duration(job, j, path, &v))
            return;
        if (v < p->min || v > p->max) {
            sl__job_problem(job, j, path, "%s is out of range (%s..%s)",
                            j->valuestring, fmt_ms(job, p->min),
                            fmt_ms(job, p->max));
            return;
        }
        text = j->valuestring;
        break;
    case SL_CONF_INT:
        if (!read_int(job, j, path, p->min, p->max, &v))
            return;
        text = jprintf(job, "%lld", (long long)v);
        break;
    case SL_CONF_SIZE:
        if (cJSON_IsNumber(j)) {
            if (!read_int(job, j, path, p->min, p->max, &v))
                return;
            text = jprintf(job, "%lld", (long long)v);
        } else if (!(text = read_string(job, j, path))) {
            return;
        }
        break;
    case SL_CONF_BOOL:
        if (!cJSON_IsBool(j)) {
            wrong_type(job, j, path, "a boolean");
            return;
        }
        text = cJSON_IsTrue(j) ? "true" : "false";
        break;
    case SL_CONF_ENUM: {
        const char *choices[16];
        char *list = jstrdup(job, p->choices), *c;
        size_t n = 0;
        int k;
        if (!list)
            return;
        for (c = list; c && n < 15; n++) {
            choices[n] = c;
            if ((c = strchr(c, '|')))
                *c++ = '\0';
        }
        choices[n] = NULL;
        if ((k = read_choice(job, j, path, choices)) < 0)
            return;
        text = choices[k];
        break;
    }
    default: /* strings; a number is fine where text holds one */
        if (!cJSON_IsString(j) && !cJSON_IsNumber(j)) {
            wrong_type(job, j, path, "a string or a number");
            return;
        }
        text = conf_text(job, j, path);
        break;
    }
    if (text &&
        (rc = sl_conf_set(conf, name, text, err, sizeof err)) != SL_OK) {
        size_t n = strlen(name);
        bool named =
            strncmp(err, name, n) == 0 && err[n] == ':' && err[n + 1] == ' ';
        if (rc == SL_ENOMEM)
            job->oom = true; /* not a problem of the file */
        else
            sl__job_problem(job, j, path, "%s", named ? err + n + 2 : err);
    }
}

/* A JSON array of strings into a comma-separated conf value. */
static void set_conf_list(sl_job *job, sl_conf *conf, const cJSON *j,
                          const char *path, const char *name)
{
    const cJSON *it;
    char *text = jstrdup(job, "");
    size_t i = 0;
    cJSON_ArrayForEach(it, j)
    {
        const char *p = path_index(job, path, i++);
        if (!cJSON_IsString(it)) {
            wrong_type(job, it, p, "a string");
            return;
        }
        if (!*it->valuestring || strchr(it->valuestring, ',')) {
            sl__job_problem(job, it, p,
                            "a column name must be non-empty and hold no ','");
            return;
        }
        text = jprintf(job, "%s%s%s", text ? text : "", i > 1 ? "," : "",
                       it->valuestring);
    }
    if (text) {
        char err[256];
        sl_status rc = sl_conf_set(conf, name, text, err, sizeof err);
        if (rc == SL_ENOMEM)
            job->oom = true;
        else if (rc != SL_OK)
            sl__job_problem(job, j, path, "%s", err);
    }
}

/* ------------------------------------------------------------- values */

sl_status sl__job_json_value(sl_job *job, const cJSON *j, sl_value *out)
{
    const cJSON *it;
    sl_value *items;
    size_t n = 0, len;
    sl_status st;
    if (cJSON_IsNumber(j)) {
        double d = j->valuedouble;
        if (floor(d) == d && d >= -9007199254740992.0 &&
            d <= 9007199254740992.0)
            *out = sl_int((int64_t)d);
        else
            *out = sl_double(d);
    } else if (cJSON_IsString(j)) {
        char *s = jstrdup(job, j->valuestring);
        if (!s)
            return SL_ENOMEM;
        *out = sl_str(s, strlen(s));
    } else if (cJSON_IsBool(j)) {
        *out = sl_bool(cJSON_IsTrue(j));
    } else if (cJSON_IsArray(j)) {
        len = (size_t)cJSON_GetArraySize(j);
        if (!(items = jalloc(job, len * sizeof *items)))
            return SL_ENOMEM;
        cJSON_ArrayForEach(it, j)
        {
            if ((st = sl__job_json_value(job, it, &items[n++])) != SL_OK)
                return st;
        }
        *out = sl_composite(len == 2 ? SL_KIND_PAIR : SL_KIND_LIST, items, len);
    } else if (cJSON_IsObject(j)) {
        return SL_ETYPE; /* callers refuse objects before */
    } else {
        *out = sl_null();
    }
    return SL_OK;
}

/* Objects have no sluice value: report the first one under j. */
static bool check_no_object(sl_job *job, const cJSON *j, const char *path)
{
    const cJSON *it;
    size_t i = 0;
    if (cJSON_IsObject(j)) {
        wrong_type(job, j, path, "a value (not an object)");
        return false;
    }
    if (cJSON_IsArray(j))
        cJSON_ArrayForEach(it, j)
        {
            if (!check_no_object(job, it, path_index(job, path, i++)))
                return false;
        }
    return true;
}

static bool read_value(sl_job *job, const cJSON *j, const char *path,
                       sl_value *out)
{
    if (!check_no_object(job, j, path))
        return false;
    return sl__job_json_value(job, j, out) == SL_OK;
}

/* ---------------------------------------------------------- functions */

static job_fn *read_fn(sl_job *job, const cJSON *j, const char *path,
                       sl_job_fn_kind want, const char *who)
{
    static const char *const fields[] = {"name", "arg", "on", NULL};
    static const char *const ons[] = {"element", "key", "value", NULL};
    const cJSON *name_j = j, *arg = NULL, *on = NULL;
    const char *name, *fn_path = path;
    const fn_def *def;
    job_fn *f;

    if (cJSON_IsObject(j)) {
        check_fields(job, j, path, fields);
        if (!(name_j = field(job, j, path, "name", true)))
            return NULL;
        fn_path = path_field(job, path, "name");
        arg = field(job, j, path, "arg", false);
        on = field(job, j, path, "on", false);
    } else if (!cJSON_IsString(j)) {
        wrong_type(job, j, path, "a function name or object");
        return NULL;
    }
    if (!(name = read_string(job, name_j, fn_path)))
        return NULL;
    if (!(def = sl__job_fn_find(name))) {
        sl__job_problem(
            job, name_j, fn_path, "unknown function %s%s", quoted(job, name),
            sl__job_hint_note(job, sl__job_hint_registry(name, REG_FUNCTIONS)));
        return NULL;
    }
    if (def->info.kind != want) {
        sl__job_problem(job, name_j, fn_path,
                        "\"%s\" is a %s function; %s needs a %s function", name,
                        sl__job_fn_kind_name(def->info.kind), who,
                        sl__job_fn_kind_name(want));
        return NULL;
    }
    if (!(f = jalloc(job, sizeof *f)))
        return NULL;
    f->def = def;
    f->max_bytes = job->max_record_bytes;
    if (on) {
        int i;
        if (want != SL_JOB_FN_MAP && want != SL_JOB_FN_PREDICATE) {
            sl__job_problem(job, on, path_field(job, path, "on"),
                            "\"on\" applies to map functions and predicates "
                            "only");
            return NULL;
        }
        if ((i = read_choice(job, on, path_field(job, path, "on"), ons)) < 0)
            return NULL;
        f->on = (fn_on)i;
    }
    if (def->arg == ARG_NONE) {
        if (arg) {
            sl__job_problem(job, arg, path_field(job, path, "arg"),
                            "\"%s\" takes no arg", name);
            return NULL;
        }
        return f;
    }
    if (!arg) {
        sl__job_problem(job, j, path, "\"%s\" needs arg: %s", name,
                        sl__job_fn_arg_words(def->arg));
        return NULL;
    }
    {
        const char *arg_path = path_field(job, path, "arg");
        bool ok = true;
        switch (def->arg) {
        case ARG_NUMBER:
            ok = cJSON_IsNumber(arg);
            break;
        case ARG_ORDER:
            ok = cJSON_IsNumber(arg) || cJSON_IsString(arg);
            break;
        case ARG_REPEAT:
            ok = cJSON_IsNumber(arg) &&
                 floor(arg->valuedouble) == arg->valuedouble &&
                 arg->valuedouble >= 0 && arg->valuedouble <= 1000;
            break;
        case ARG_FNLIST:
            ok = cJSON_IsArray(arg) && cJSON_GetArraySize(arg) > 0;
            break;
        default:
            break;
        }
        if (!ok) {
            sl__job_problem(job, arg, arg_path, "\"%s\" needs arg: %s", name,
                            sl__job_fn_arg_words(def->arg));
            return NULL;
        }
        if (def->arg == ARG_FNLIST) {
            const cJSON *it;
            size_t i = 0;
            f->nsubs = (size_t)cJSON_GetArraySize(arg);
            if (!(f->subs = jalloc(job, f->nsubs * sizeof *f->subs)))
                return NULL;
            cJSON_ArrayForEach(it, arg)
            {
                f->subs[i] = read_fn(job, it, path_index(job, arg_path, i),
                                     SL_JOB_FN_MAP, name);
                if (!f->subs[i++])
                    ok = false;
            }
            return ok ? f : NULL;
        }
        if (!read_value(job, arg, arg_path, &f->arg))
            return NULL;
    }
    return f;
}

/* ------------------------------------------------------------ sources */

/* A source's or stream's name, for lookups by binary search. */
typedef struct name_ref {
    const char *name;
    int kind; /* 0 source, 1 stream */
    size_t i;
} name_ref;

static int by_name(const void *a, const void *b)
{
    const name_ref *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : x->kind - y->kind;
}

/* The index of every name, built at the first lookup: lookups start once
 * all sources and stream names are read. */
static const name_ref *lookup(sl_job *job, const char *name, int kind)
{
    name_ref key = {name, kind, 0};
    if (!job->names_built) {
        size_t i, n = 0;
        job->names_built = true;
        job->names = jalloc(job, (job->nsources + job->nstreams + 1) *
                                     sizeof *job->names);
        if (!job->names)
            return NULL;
        for (i = 0; i < job->nsources; i++)
            if (job->sources[i].name)
                job->names[n++] = (name_ref){job->sources[i].name, 0, i};
        for (i = 0; i < job->nstreams; i++)
            if (job->streams[i].name)
                job->names[n++] = (name_ref){job->streams[i].name, 1, i};
        qsort(job->names, n, sizeof *job->names, by_name);
        job->nnames = n;
    }
    if (!job->names || !job->nnames)
        return NULL;
    return bsearch(&key, job->names, job->nnames, sizeof key, by_name);
}

static job_source *find_source(sl_job *job, const char *name)
{
    const name_ref *r = lookup(job, name, 0);
    return r ? &job->sources[r->i] : NULL;
}

static job_stream *find_stream(sl_job *job, const char *name)
{
    const name_ref *r = lookup(job, name, 1);
    return r ? &job->streams[r->i] : NULL;
}

static void read_queue(sl_job *job, job_source *src, const cJSON *j)
{
    const cJSON *batches = field(job, j, src->path, "batches", true);
    const cJSON *parts = field(job, j, src->path, "partitions", false);
    const cJSON *b, *r;
    const char *bpath;
    int64_t n = 1;
    size_t i = 0, k;

    if (parts && read_int(job, parts, path_field(job, src->path, "partitions"),
                          1, 1024, &n))
        src->partitions = (size_t)n;
    else
        src->partitions = 1;
    if (!batches)
        return;
    bpath = path_field(job, src->path, "batches");
    if (!cJSON_IsArray(batches)) {
        wrong_type(job, batches, bpath, "an array");
        return;
    }
    src->nbatches = (size_t)cJSON_GetArraySize(batches);
    src->batches = jalloc(job, src->nbatches * sizeof *src->batches);
    src->batch_len = jalloc(job, src->nbatches * sizeof *src->batch_len);
    if (!src->batches || !src->batch_len) {
        src->nbatches = 0; /* out of memory: counts must match arrays */
        return;
    }
    cJSON_ArrayForEach(b, batches)
    {
        const char *p = path_index(job, bpath, i);
        if (cJSON_IsNull(b)) {
            src->batches[i++] = NULL;
            continue;
        }
        if (!cJSON_IsArray(b)) {
            wrong_type(job, b, p, "an array or null");
            i++;
            continue;
        }
        src->batch_len[i] = (size_t)cJSON_GetArraySize(b);
        src->batches[i] =
            jalloc(job, (src->batch_len[i] ? src->batch_len[i] : 1) *
                            sizeof(sl_value));
        if (!src->batches[i])
            return;
        k = 0;
        cJSON_ArrayForEach(r, b)
        {
            if (!read_value(job, r, path_index(job, p, k), &src->batches[i][k]))
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
        wrong_type(job, j, src->path, "an object");
        return;
    }
    if (!(type_j = field(job, j, src->path, "type", true)))
        return;
    if (!(type = read_string(job, type_j, path_field(job, src->path, "type"))))
        return;
    if (!(def = sl__job_source_find(type))) {
        sl__job_problem(job, type_j, path_field(job, src->path, "type"),
                        "unknown source type %s%s (known: socket, queue, "
                        "rate, generator, directory)",
                        quoted(job, type),
                        sl__job_hint_note(job, sl__job_hint_registry(
                                                   type, REG_SOURCE_TYPES)));
        return;
    }
    src->def = def;
    allowed[n++] = "type";
    for (i = 0; def->fields[i].name && n < 31; i++)
        allowed[n++] = def->fields[i].name;
    allowed[n] = NULL;
    check_fields(job, j, src->path, allowed);

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
        const cJSON *host = field(job, j, src->path, "host", true);
        const cJSON *port = field(job, j, src->path, "port", true);
        const char *h;
        int64_t p;
        if (host &&
            (h = read_string(job, host, path_field(job, src->path, "host")))) {
            if (!*h)
                sl__job_problem(job, host, path_field(job, src->path, "host"),
                                "must not be empty");
            else
                src->host = jstrdup(job, h);
        }
        if (port && read_int(job, port, path_field(job, src->path, "port"), 1,
                             65535, &p))
            src->port = (int)p;
    } else if (strcmp(type, "directory") == 0) {
        const cJSON *dir = field(job, j, src->path, "path", true);
        const char *d;
        if (dir &&
            (d = read_string(job, dir, path_field(job, src->path, "path")))) {
            if (!*d)
                sl__job_problem(job, dir, path_field(job, src->path, "path"),
                                "must not be empty");
            else
                src->host = jstrdup(job, d);
        }
    }
    for (f = j->child; f; f = f->next) {
        const char *fpath;
        for (i = 0; def->fields[i].name; i++)
            if (strcmp(def->fields[i].name, f->string) == 0)
                break;
        if (!def->fields[i].conf)
            continue; /* unknown (reported above) or read above */
        fpath = path_field(job, src->path, f->string);
        if (!strcmp(f->string, "columns") && cJSON_IsArray(f))
            set_conf_list(job, src->conf, f, fpath, def->fields[i].conf);
        else
            set_conf(job, src->conf, f, fpath, def->fields[i].conf);
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
                sl__job_problem(job, f, path_field(job, src->path, single[i]),
                                "must be a single byte");
            else if (strchr("\r\n", f->valuestring[0]))
                sl__job_problem(job, f, path_field(job, src->path, single[i]),
                                "must not be a line break");
        }
    f = cJSON_GetObjectItemCaseSensitive(j, "separator");
    g = cJSON_GetObjectItemCaseSensitive(j, "quote");
    if (f && g && cJSON_IsString(f) && cJSON_IsString(g) &&
        strcmp(f->valuestring, g->valuestring) == 0)
        sl__job_problem(job, g, path_field(job, src->path, "quote"),
                        "must differ from \"separator\"");
    if ((f = cJSON_GetObjectItemCaseSensitive(j, "header")) &&
        cJSON_IsTrue(f) && cJSON_GetObjectItemCaseSensitive(j, "columns"))
        sl__job_problem(job, f, path_field(job, src->path, "header"),
                        "\"header\" and \"columns\" exclude each other");
    if ((f = cJSON_GetObjectItemCaseSensitive(j, "columns")) &&
        cJSON_IsString(f)) {
        const char *c = f->valuestring;
        if (!*c || c[0] == ',' || c[strlen(c) - 1] == ',' || strstr(c, ",,"))
            sl__job_problem(job, f, path_field(job, src->path, "columns"),
                            "a column name must be non-empty");
    }
    g = cJSON_GetObjectItemCaseSensitive(j, "source_archive_dir");
    if ((f = cJSON_GetObjectItemCaseSensitive(j, "clean_source")) &&
        cJSON_IsString(f) && strcmp(f->valuestring, "archive") == 0 &&
        !(cJSON_IsString(g) && *g->valuestring))
        sl__job_problem(job, f, path_field(job, src->path, "clean_source"),
                        "\"archive\" needs \"source_archive_dir\"");
    /* Paths inside the watched tree (as written; links are the build's
     * to find): archived files or dead letters would be read again. */
    for (i = 0; i < 2 && src->host; i++) {
        const char *name = i ? "dead_letter" : "source_archive_dir";
        f = cJSON_GetObjectItemCaseSensitive(j, name);
        if (cJSON_IsString(f) && path_inside(f->valuestring, src->host, i == 1))
            sl__job_problem(job, f, path_field(job, src->path, name),
                            "lies inside the watched directory");
    }
}

static void read_sources(sl_job *job, const cJSON *j)
{
    const cJSON *s;
    size_t i = 0;
    if (!cJSON_IsObject(j)) {
        wrong_type(job, j, "$.sources", "an object");
        return;
    }
    job->nsources = (size_t)cJSON_GetArraySize(j);
    if (job->nsources > MAX_STREAMS) {
        sl__job_problem(job, j, "$.sources", "more than %d sources",
                        MAX_STREAMS);
        job->nsources = 0;
        return;
    }
    check_fields(job, j, "$.sources", NULL); /* duplicate names */
    if (job->nsources == 0) {
        sl__job_problem(job, j, "$.sources", "at least one source is required");
        return;
    }
    if (!(job->sources = jalloc(job, job->nsources * sizeof *job->sources))) {
        job->nsources = 0;
        return;
    }
    for (s = j->child; s; s = s->next, i++) {
        job_source *src = &job->sources[i];
        src->name = jstrdup(job, s->string);
        src->path = path_field(job, "$.sources", s->string);
        src->json = s;
        if (!src->name || !src->path)
            return;
        if (!valid_name(s->string)) {
            sl__job_problem(job, s, src->path,
                            "invalid name %s (1-64 letters, digits, '.', "
                            "'_', '-')",
                            quoted(job, s->string));
            continue;
        }
        read_source(job, src, s);
    }
}

/* ------------------------------------------------------------ streams */

static const char *const emit_names[] = {"none",  "state", "key",
                                         "value", "pair",  NULL};
/* A timing-out call has no value: the same kinds but "value". */
static const char *const timeout_emit_names[] = {"none", "state", "key", "pair",
                                                 NULL};

static const char *const param_names[] = {
    "fn",           "inverse", "filter",      "window",          "slide",
    "partitions",   "with",    "initial",     "timeout",         "emit",
    "timeout_emit", "create",  "merge_value", "merge_combiners", "zero"};

/* A name that must be a source or a stream. */
static char *read_ref(sl_job *job, const cJSON *j, const char *path)
{
    const char *s = read_name(job, j, path);
    if (!s)
        return NULL;
    if (!find_source(job, s) && !find_stream(job, s)) {
        sl__job_problem(job, j, path, "unknown stream or source %s",
                        quoted(job, s));
        return NULL;
    }
    return jstrdup(job, s);
}

static void read_with(sl_job *job, job_op *op, const cJSON *j, const char *path,
                      bool many)
{
    const cJSON *it;
    size_t i = 0;
    if (cJSON_IsArray(j) && many) {
        op->with_is_array = true;
        op->nwith = (size_t)cJSON_GetArraySize(j);
        if (op->nwith == 0) {
            sl__job_problem(job, j, path, "must name at least one stream");
            return;
        }
        if (!(op->with = jalloc(job, op->nwith * sizeof *op->with))) {
            op->nwith = 0;
            return;
        }
        cJSON_ArrayForEach(it, j)
        {
            op->with[i] = read_ref(job, it, path_index(job, path, i));
            i++;
        }
        return;
    }
    if (!cJSON_IsString(j)) {
        wrong_type(job, j, path, many ? "a name or array of names" : "a name");
        return;
    }
    if ((op->with = jalloc(job, sizeof *op->with))) {
        op->nwith = 1;
        op->with[0] = read_ref(job, j, path);
    }
}

static void read_initial(sl_job *job, job_op *op, const cJSON *j,
                         const char *path)
{
    const cJSON *it;
    size_t i = 0;
    if (!cJSON_IsArray(j)) {
        wrong_type(job, j, path, "an array of pairs");
        return;
    }
    op->ninitial = (size_t)cJSON_GetArraySize(j);
    if (!(op->initial = jalloc(job, op->ninitial * sizeof *op->initial))) {
        op->ninitial = 0;
        return;
    }
    cJSON_ArrayForEach(it, j)
    {
        const char *p = path_index(job, path, i);
        if (!cJSON_IsArray(it) || cJSON_GetArraySize(it) != 2) {
            sl__job_problem(job, it, p,
                            "expected a pair (an array of two values), got "
                            "%s",
                            type_name(it));
            return;
        }
        if (!read_value(job, it, p, &op->initial[i++]))
            return;
    }
}

static void read_op(sl_job *job, job_stream *s, job_op *op, const cJSON *j)
{
    const char *allowed[20];
    const cJSON *op_j, *p;
    const char *name;
    size_t i, n = 0;
    const op_def *d;

    if (!cJSON_IsObject(j)) {
        wrong_type(job, j, op->path, "an object");
        s->bad = true;
        return;
    }
    if (!(op_j = field(job, j, op->path, "op", true)) ||
        !(name = read_string(job, op_j, path_field(job, op->path, "op")))) {
        s->bad = true;
        return;
    }
    if (!(d = sl__job_op_find(name))) {
        sl__job_problem(
            job, op_j, path_field(job, op->path, "op"),
            "unknown operator %s%s; the operators are listed in "
            "docs/job-file.md, section \"Operators\"",
            quoted(job, name),
            sl__job_hint_note(job, sl__job_hint_registry(name, REG_OPERATORS)));
        s->bad = true;
        return;
    }
    op->def = d;
    allowed[n++] = "op";
    for (i = 0; i < sizeof param_names / sizeof param_names[0]; i++)
        if (d->params & (1u << i))
            allowed[n++] = param_names[i];
    allowed[n] = NULL;
    check_fields(job, j, op->path, allowed);
    for (i = 0; i < sizeof param_names / sizeof param_names[0]; i++) {
        unsigned bit = 1u << i;
        const char *pp;
        if (!(d->params & bit))
            continue;
        if (!(p = field(job, j, op->path, param_names[i],
                        (d->required & bit) != 0))) {
            if (d->required & bit)
                s->bad = true;
            continue;
        }
        pp = path_field(job, op->path, param_names[i]);
        switch (bit) {
        case P_FN:
            op->fn = read_fn(job, p, pp, d->fn_kind, d->name);
            s->bad |= !op->fn;
            if (op->fn) { /* on_bad_record: where the builder lets it */
                op->fn->bad = &job->bad;
                op->fn->stream = s->name;
                op->fn->op = (int)(op - s->ops);
            }
            break;
        case P_INVERSE:
            op->inverse = read_fn(job, p, pp, SL_JOB_FN_REDUCE, "inverse");
            s->bad |= !op->inverse;
            break;
        case P_FILTER:
            op->filter = read_fn(job, p, pp, SL_JOB_FN_PREDICATE, "filter");
            s->bad |= !op->filter;
            break;
        case P_CREATE:
            op->create = read_fn(job, p, pp, SL_JOB_FN_MAP, "create");
            s->bad |= !op->create;
            break;
        case P_MERGE_VALUE:
            op->merge_value =
                read_fn(job, p, pp, SL_JOB_FN_REDUCE, "merge_value");
            s->bad |= !op->merge_value;
            break;
        case P_MERGE_COMBINERS:
            op->merge_combiners =
                read_fn(job, p, pp, SL_JOB_FN_REDUCE, "merge_combiners");
            s->bad |= !op->merge_combiners;
            break;
        case P_WINDOW:
            s->bad |= !read_duration(job, p, pp, &op->window_ms);
            break;
        case P_SLIDE:
            s->bad |= !read_duration(job, p, pp, &op->slide_ms);
            break;
        case P_TIMEOUT:
            s->bad |= !read_duration(job, p, pp, &op->timeout_ms);
            break;
        case P_PARTITIONS: {
            int64_t v;
            if (read_int(job, p, pp, 1, 1024, &v))
                op->partitions = (size_t)v;
            else
                s->bad = true;
            break;
        }
        case P_WITH:
            read_with(job, op, p, pp, strcmp(d->name, "union") == 0);
            for (n = 0; n < op->nwith; n++)
                s->bad |= !op->with[n];
            s->bad |= op->nwith == 0;
            break;
        case P_INITIAL:
            read_initial(job, op, p, pp);
            break;
        case P_EMIT:
        case P_TIMEOUT_EMIT: {
            int c = read_choice(
                job, p, pp, bit == P_EMIT ? emit_names : timeout_emit_names);
            if (c < 0)
                s->bad = true;
            else if (bit == P_EMIT)
                op->emit = (emit_kind)c;
            else /* skip "value" in the mapping of indices to kinds */
                op->timeout_emit = (emit_kind)(c == 3 ? EMIT_PAIR : c);
            break;
        }
        case P_ZERO:
            op->has_zero = read_value(job, p, pp, &op->zero);
            s->bad |= !op->has_zero;
            break;
        default:
            break;
        }
    }
    if (op->filter && !op->inverse && (d->params & P_INVERSE)) {
        sl__job_problem(job, cJSON_GetObjectItemCaseSensitive(j, "filter"),
                        path_field(job, op->path, "filter"),
                        "\"filter\" needs \"inverse\"");
        s->bad = true;
    }
    if ((d->params & P_EMIT) && !cJSON_GetObjectItemCaseSensitive(j, "emit"))
        op->emit = EMIT_STATE;
}

static void read_stream(sl_job *job, job_stream *s, const cJSON *j)
{
    static const char *const fields[] = {"from", "ops", NULL};
    const cJSON *from, *ops, *o;
    size_t i = 0;

    if (!cJSON_IsObject(j)) {
        wrong_type(job, j, s->path, "an object");
        s->bad = true;
        return;
    }
    check_fields(job, j, s->path, fields);
    if ((from = field(job, j, s->path, "from", true)))
        s->from = read_ref(job, from, path_field(job, s->path, "from"));
    s->bad |= !s->from;
    if (!(ops = field(job, j, s->path, "ops", false)))
        return;
    if (!cJSON_IsArray(ops)) {
        wrong_type(job, ops, path_field(job, s->path, "ops"), "an array");
        s->bad = true;
        return;
    }
    s->nops = (size_t)cJSON_GetArraySize(ops);
    if (!(s->ops = jalloc(job, (s->nops ? s->nops : 1) * sizeof *s->ops))) {
        s->nops = 0;
        return;
    }
    cJSON_ArrayForEach(o, ops)
    {
        job_op *op = &s->ops[i];
        op->path = path_index(job, path_field(job, s->path, "ops"), i);
        i++;
        if (op->path)
            read_op(job, s, op, o);
    }
}

static void read_streams(sl_job *job, const cJSON *j)
{
    const cJSON *s;
    size_t i = 0;
    if (!cJSON_IsObject(j)) {
        wrong_type(job, j, "$.streams", "an object");
        return;
    }
    job->nstreams = (size_t)cJSON_GetArraySize(j);
    if (job->nstreams > MAX_STREAMS) {
        sl__job_problem(job, j, "$.streams", "more than %d streams",
                        MAX_STREAMS);
        job->nstreams = 0;
        return;
    }
    check_fields(job, j, "$.streams", NULL); /* duplicate names */
    if (!job->nstreams)
        return;
    if (!(job->streams = jalloc(job, job->nstreams * sizeof *job->streams))) {
        job->nstreams = 0;
        return;
    }
    /* Names first, so that from and with may refer to later streams. */
    for (s = j->child; s; s = s->next, i++) {
        job->streams[i].name = jstrdup(job, s->string);
        job->streams[i].path = path_field(job, "$.streams", s->string);
        if (!job->streams[i].name || !job->streams[i].path)
            return;
    }
    for (s = j->child, i = 0; s; s = s->next, i++) {
        job_stream *st = &job->streams[i];
        if (!valid_name(s->string)) {
            sl__job_problem(job, s, st->path,
                            "invalid name %s (1-64 letters, digits, '.', "
                            "'_', '-')",
                            quoted(job, s->string));
            st->bad = true;
            continue;
        }
        if (find_source(job, s->string)) {
            sl__job_problem(job, s, st->path,
                            "\"%s\" is already the name of a source",
                            s->string);
            st->bad = true;
            continue;
        }
        read_stream(job, st, s);
    }
}

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
        wrong_type(job, j, k->path, "an object");
        return;
    }
    if ((f = field(job, j, k->path, "type", true)))
        type = read_choice(job, f, path_field(job, k->path, "type"), types);
    check_fields(job, j, k->path,
                 type == 0   ? console_fields
                 : type == 1 ? save_fields
                             : NULL);
    if ((f = field(job, j, k->path, "from", true)))
        k->from = read_ref(job, f, path_field(job, k->path, "from"));
    if (type == 0) {
        k->kind = SINK_TEXT;
        k->num = 10;
        if ((f = field(job, j, k->path, "format", false))) {
            int c = read_choice(job, f, path_field(job, k->path, "format"),
                                formats);
            if (c == 1)
                k->kind = SINK_JSON;
        }
        if ((f = field(job, j, k->path, "num", false))) {
            int64_t n;
            if (read_int(job, f, path_field(job, k->path, "num"), 1, 1000000,
                         &n))
                k->num = (size_t)n;
        }
    } else if (type == 1) {
        const char *s;
        k->kind = SINK_SAVE;
        if ((f = field(job, j, k->path, "prefix", true)) &&
            (s = read_string(job, f, path_field(job, k->path, "prefix")))) {
            if (!*s)
                sl__job_problem(job, f, path_field(job, k->path, "prefix"),
                                "must not be empty");
            else
                k->prefix = jstrdup(job, s);
        }
        if ((f = field(job, j, k->path, "suffix", false)) &&
            (s = read_string(job, f, path_field(job, k->path, "suffix"))))
            k->suffix = jstrdup(job, s);
    }
}

static void read_sinks(sl_job *job, const cJSON *j)
{
    const cJSON *s;
    size_t i = 0;
    if (!cJSON_IsArray(j)) {
        wrong_type(job, j, "$.sinks", "an array");
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
    if (!(job->sinks = jalloc(job, job->nsinks * sizeof *job->sinks))) {
        job->nsinks = 0;
        return;
    }
    cJSON_ArrayForEach(s, j)
    {
        job->sinks[i].path = path_index(job, "$.sinks", i);
        if (job->sinks[i].path)
            read_sink(job, &job->sinks[i], s);
        i++;
    }
}

/* ---------------------------------------------- helpers for graph.c */

static const char *fmt_ms(sl_job *job, int64_t ms)
{
    char buf[32];
    sl_duration_format(ms, buf, sizeof buf);
    return jstrdup(job, buf);
}

void *sl__job_alloc(sl_job *job, size_t n)
{
    return jalloc(job, n);
}

char *sl__job_printf(sl_job *job, const char *fmt, ...)
{
    va_list ap;
    int n;
    char *s;
    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !(s = jalloc(job, (size_t)n + 1)))
        return NULL;
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

const char *sl__job_path_field(sl_job *job, const char *base, const char *name)
{
    return path_field(job, base, name);
}

const char *sl__job_path_index(sl_job *job, const char *base, size_t i)
{
    return path_index(job, base, i);
}

const char *sl__job_fmt_ms(sl_job *job, int64_t ms)
{
    return fmt_ms(job, ms);
}

job_source *sl__job_find_source(sl_job *job, const char *name)
{
    return find_source(job, name);
}

job_stream *sl__job_find_stream(sl_job *job, const char *name)
{
    return find_stream(job, name);
}

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
    job->root = cJSON_ParseWithLengthOpts(copy, len + 1, NULL, true);
    sl_free(copy);
    if (!job->root)
        job->oom = true;
    return job->root != NULL;
}

void sl__job_parse(sl_job *job, const char *text, size_t len)
{
    static const char *const fields[] = {
        "name",    "batch_interval", "clock",       "max_batches",
        "workers", "conf",           "dead_letter", "on_bad_record",
        "sources", "streams",        "sinks",       NULL};
    static const char *const clocks[] = {"system", "manual", NULL};
    const cJSON *f, *root;
    const char *s;
    int64_t v;

    if (!read_json(job, text, len))
        return;
    root = job->root;
    if (!cJSON_IsObject(root)) {
        wrong_type(job, root, "$", "an object");
        return;
    }
    check_fields(job, root, "$", fields);
    if (!(job->conf = sl_conf_new())) {
        job->oom = true;
        return;
    }
    if ((f = field(job, root, "$", "name", true)) &&
        (s = read_job_name(job, f)))
        job->name = jstrdup(job, s);
    if ((f = field(job, root, "$", "conf", false))) {
        const cJSON *c;
        if (!cJSON_IsObject(f))
            wrong_type(job, f, "$.conf", "an object");
        else
            check_fields(job, f, "$.conf", NULL);
        if (cJSON_IsObject(f))
            for (c = f->child; c; c = c->next)
                set_conf(job, job->conf, c,
                         path_field(job, "$.conf", c->string), c->string);
    }
    if ((f = field(job, root, "$", "batch_interval", true)) &&
        read_duration(job, f, "$.batch_interval", &job->interval_ms))
        set_conf(job, job->conf, f, "$.batch_interval", "batch_interval");
    else if (!f)
        job->interval_ms = 0;
    if (!f || job->interval_ms <= 0)
        job->interval_ms = 0;
    if ((f = field(job, root, "$", "clock", false)) &&
        read_choice(job, f, "$.clock", clocks) >= 0)
        set_conf(job, job->conf, f, "$.clock", "clock");
    if ((f = field(job, root, "$", "max_batches", false)) &&
        read_int(job, f, "$.max_batches", 0, INT64_C(1) << 53, &v))
        set_conf(job, job->conf, f, "$.max_batches", "max_batches");
    if ((f = field(job, root, "$", "workers", false)) &&
        read_int(job, f, "$.workers", 0, 1024, &v))
        set_conf(job, job->conf, f, "$.workers", "workers");
    if ((f = field(job, root, "$", "dead_letter", false)) &&
        read_string(job, f, "$.dead_letter"))
        set_conf(job, job->conf, f, "$.dead_letter", "dead_letter");
    if ((f = field(job, root, "$", "on_bad_record", false)))
        set_conf(job, job->conf, f, "$.on_bad_record", "on_bad_record");
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
    if ((f = field(job, root, "$", "sources", true)))
        read_sources(job, f);
    if ((f = field(job, root, "$", "streams", false)))
        read_streams(job, f);
    if ((f = field(job, root, "$", "sinks", true)))
        read_sinks(job, f);
    sl__job_walk_graph(job, cJSON_GetObjectItemCaseSensitive(root, "streams"));
    sort_problems(job);
    if (job->nproblems > MAX_PROBLEMS) {
        size_t more = job->nproblems - (MAX_PROBLEMS - 1);
        char *note = jprintf(job, "$: %zu more problems not shown", more);
        if (note) {
            job->problems[MAX_PROBLEMS - 1] = note;
            job->nproblems = MAX_PROBLEMS;
        }
    }
}

/* --------------------------------------------------------- public API */

sl_job *sl_job_parse(const char *text, size_t len, const char *origin)
{
    sl_job *job = sl_malloc(sizeof *job);
    if (!job)
        return NULL;
    memset(job, 0, sizeof *job);
    sl__arena_init(&job->arena, 4096);
    job->origin = jstrdup(job, origin ? origin : "job");
    if (job->origin && text)
        sl__job_parse(job, text, len);
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
                            quoted(job, path), strerror(err));
        if (job->oom) {
            sl_job_free(job);
            return NULL;
        }
        return job;
    }
    job = sl_job_parse(text ? text : "", len, path);
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
