/*
 * The job parser's shared readers: job memory, JSON paths, the problem
 * list, strict field and value checks (names, integers, durations,
 * choices), conf properties through sl_conf_set, and name lookups of
 * sources and streams. parse.c, sources.c, streams.c and sinks.c use them.
 */
#include "job/parse_int.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------- memory */

/* Job memory; NULL only when out of memory (then job->oom is set). */
void *sl__job_alloc(sl_job *job, size_t n)
{
    void *p = sl__arena_alloc(&job->arena, n ? n : 1);
    if (!p)
        job->oom = true;
    else
        memset(p, 0, n);
    return p;
}

char *sl__job_strdup(sl_job *job, const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = sl__job_alloc(job, n);
    if (d)
        memcpy(d, s, n);
    return d;
}

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
char *sl__job_quoted(sl_job *job, const char *s)
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
    if (!(text = sl__job_alloc(job, n + 4)))
        return NULL;
    sl_value_format_json(&v, text, n + 1);
    if (cut)
        memcpy(text + n, "...", 4); /* "the first 60 bytes"... */
    return text;
}

/* The value s of node j quoted for a message, or <redacted> when j is
 * the value of a key naming a secret: its value never leaves the job. */
char *sl__job_quoted_value(sl_job *job, const cJSON *j, const char *s)
{
    if (j && j->string && sl_control_secret_key(j->string))
        return sl__job_strdup(job, "<redacted>");
    return sl__job_quoted(job, s);
}

char *sl__job_path_field(sl_job *job, const char *base, const char *name)
{
    if (plain_identifier(name))
        return sl__job_printf(job, "%s.%s", base, name);
    return sl__job_printf(job, "%s[%s]", base, sl__job_quoted(job, name));
}

char *sl__job_path_index(sl_job *job, const char *base, size_t i)
{
    return sl__job_printf(job, "%s[%zu]", base, i);
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
    if (!(text = sl__job_printf(job, "%s: %s", path ? path : "$", msg)))
        return;
    job->problem_at[job->nproblems] = node;
    job->problems[job->nproblems++] = text;
}

const char *sl__job_type_name(const cJSON *j)
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

void sl__job_wrong_type(sl_job *job, const cJSON *j, const char *path,
                        const char *expected)
{
    sl__job_problem(job, j, path, "expected %s, got %s", expected,
                    sl__job_type_name(j));
}

/* ------------------------------------------------------------- fields */

/*
 * Check obj's field names against allowed (NULL-terminated) and report
 * unknown and duplicate fields. allowed NULL accepts every name.
 */
void sl__job_check_fields(sl_job *job, const cJSON *obj, const char *path,
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
            sl__job_problem(job, f, sl__job_path_field(job, path, f->string),
                            "duplicate field");
            continue;
        }
        for (i = 0; allowed && allowed[i]; i++)
            if (strcmp(allowed[i], f->string) == 0)
                known = true;
        if (!known)
            sl__job_problem(
                job, f, sl__job_path_field(job, path, f->string),
                "unknown field%s",
                sl__job_hint_note(job, sl__job_hint(f->string, allowed)));
    }
}

/* obj's field name, or NULL; a missing required one is a problem. */
const cJSON *sl__job_field(sl_job *job, const cJSON *obj, const char *path,
                           const char *name, bool required)
{
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(obj, name);
    if (!f && required)
        sl__job_problem(job, obj, sl__job_path_field(job, path, name),
                        "missing required field");
    return f;
}

bool sl__job_valid_name(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (!(isalnum((unsigned char)s[n]) || s[n] == '.' || s[n] == '_' ||
              s[n] == '-'))
            return false;
    return n >= 1 && n <= 64;
}

const char *sl__job_read_string(sl_job *job, const cJSON *j, const char *path)
{
    if (!cJSON_IsString(j)) {
        sl__job_wrong_type(job, j, path, "a string");
        return NULL;
    }
    return j->valuestring;
}

/* A name field ("name", "from", "with"): a string of the name syntax. */
const char *sl__job_read_name(sl_job *job, const cJSON *j, const char *path)
{
    const char *s = sl__job_read_string(job, j, path);
    if (s && !sl__job_valid_name(s)) {
        sl__job_problem(job, j, path,
                        "invalid name %s (1-64 letters, digits, '.', '_', "
                        "'-')",
                        sl__job_quoted_value(job, j, s));
        return NULL;
    }
    return s;
}

bool sl__job_read_int(sl_job *job, const cJSON *j, const char *path,
                      int64_t min, int64_t max, int64_t *out)
{
    double d;
    if (!cJSON_IsNumber(j) || floor(j->valuedouble) != j->valuedouble) {
        sl__job_wrong_type(job, j, path, "an integer");
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

bool sl__job_read_duration(sl_job *job, const cJSON *j, const char *path,
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
    if (!(s = sl__job_read_string(job, j, path)))
        return false;
    if (sl_duration_parse(s, out) != SL_OK) {
        sl__job_problem(job, j, path,
                        "invalid duration %s (an integer and a unit: ms, s, "
                        "m, h)",
                        sl__job_quoted_value(job, j, s));
        return false;
    }
    if (*out <= 0) {
        sl__job_problem(job, j, path, "must be positive");
        return false;
    }
    return true;
}

/* One of choices (NULL-terminated); its index, or -1 after a problem. */
int sl__job_read_choice(sl_job *job, const cJSON *j, const char *path,
                        const char *const *choices)
{
    char list[256] = "";
    const char *s = sl__job_read_string(job, j, path);
    int i;
    if (!s)
        return -1;
    for (i = 0; choices[i]; i++)
        if (strcmp(choices[i], s) == 0)
            return i;
    for (i = 0; choices[i]; i++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s\"%s\"",
                 i ? ", " : "", choices[i]);
    if (j->string && sl_control_secret_key(j->string))
        sl__job_problem(job, j, path, "expected one of %s; got <redacted>",
                        list);
    else
        sl__job_problem(job, j, path, "expected one of %s; got %s%s", list,
                        sl__job_quoted(job, s),
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
            return sl__job_printf(job, "%lld", (long long)d);
        return sl__job_printf(job, "%.17g", d);
    }
    sl__job_wrong_type(job, j, path, "a string, a number or a boolean");
    return NULL;
}

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
void sl__job_set_conf(sl_job *job, sl_conf *conf, const cJSON *j,
                      const char *path, const char *name)
{
    const sl_conf_property *p = conf_property(name);
    const char *text = NULL;
    char err[256];
    sl_status rc;
    int64_t v;

    if (!p) {
        sl__job_problem(job, j, path, "unknown configuration property %s%s",
                        sl__job_quoted(job, name),
                        sl__job_hint_note(
                            job, sl__job_hint_registry(name, REG_PROPERTIES)));
        return;
    }
    switch (p->type) {
    case SL_CONF_DURATION:
        if (!sl__job_read_duration(job, j, path, &v))
            return;
        if (v < p->min || v > p->max) {
            sl__job_problem(job, j, path, "%s is out of range (%s..%s)",
                            sl__job_quoted_value(job, j, j->valuestring),
                            sl__job_fmt_ms(job, p->min),
                            sl__job_fmt_ms(job, p->max));
            return;
        }
        text = j->valuestring;
        break;
    case SL_CONF_INT:
        if (!sl__job_read_int(job, j, path, p->min, p->max, &v))
            return;
        text = sl__job_printf(job, "%lld", (long long)v);
        break;
    case SL_CONF_SIZE:
        if (cJSON_IsNumber(j)) {
            if (!sl__job_read_int(job, j, path, p->min, p->max, &v))
                return;
            text = sl__job_printf(job, "%lld", (long long)v);
        } else if (!(text = sl__job_read_string(job, j, path))) {
            return;
        }
        break;
    case SL_CONF_BOOL:
        if (!cJSON_IsBool(j)) {
            sl__job_wrong_type(job, j, path, "a boolean");
            return;
        }
        text = cJSON_IsTrue(j) ? "true" : "false";
        break;
    case SL_CONF_ENUM: {
        const char *choices[16];
        char *list = sl__job_strdup(job, p->choices), *c;
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
        if ((k = sl__job_read_choice(job, j, path, choices)) < 0)
            return;
        text = choices[k];
        break;
    }
    default: /* strings; a number is fine where text holds one */
        if (!cJSON_IsString(j) && !cJSON_IsNumber(j)) {
            sl__job_wrong_type(job, j, path, "a string or a number");
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
        else if (sl_control_secret_key(name))
            sl__job_problem(job, j, path,
                            "invalid value (not shown: the key names a "
                            "secret)");
        else
            sl__job_problem(job, j, path, "%s", named ? err + n + 2 : err);
    }
}

/* A JSON array of strings into a comma-separated conf value. */
void sl__job_set_conf_list(sl_job *job, sl_conf *conf, const cJSON *j,
                           const char *path, const char *name, const char *what)
{
    const cJSON *it;
    char *text = sl__job_strdup(job, "");
    size_t i = 0;
    cJSON_ArrayForEach(it, j)
    {
        const char *p = sl__job_path_index(job, path, i++);
        if (!cJSON_IsString(it)) {
            sl__job_wrong_type(job, it, p, "a string");
            return;
        }
        if (!*it->valuestring || strchr(it->valuestring, ',')) {
            sl__job_problem(job, it, p,
                            "a %s name must be non-empty and hold no ','",
                            what);
            return;
        }
        text = sl__job_printf(job, "%s%s%s", text ? text : "", i > 1 ? "," : "",
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
        char *s = sl__job_strdup(job, j->valuestring);
        if (!s)
            return SL_ENOMEM;
        *out = sl_str(s, strlen(s));
    } else if (cJSON_IsBool(j)) {
        *out = sl_bool(cJSON_IsTrue(j));
    } else if (cJSON_IsArray(j)) {
        len = (size_t)cJSON_GetArraySize(j);
        if (!(items = sl__job_alloc(job, len * sizeof *items)))
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
        sl__job_wrong_type(job, j, path, "a value (not an object)");
        return false;
    }
    if (cJSON_IsArray(j))
        cJSON_ArrayForEach(it, j)
        {
            if (!check_no_object(job, it, sl__job_path_index(job, path, i++)))
                return false;
        }
    return true;
}

bool sl__job_read_value(sl_job *job, const cJSON *j, const char *path,
                        sl_value *out)
{
    if (!check_no_object(job, j, path))
        return false;
    return sl__job_json_value(job, j, out) == SL_OK;
}

/* -------------------------------------------------------------- names */

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
        job->names = sl__job_alloc(job, (job->nsources + job->nstreams + 1) *
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

job_source *sl__job_find_source(sl_job *job, const char *name)
{
    const name_ref *r = lookup(job, name, 0);
    return r ? &job->sources[r->i] : NULL;
}

job_stream *sl__job_find_stream(sl_job *job, const char *name)
{
    const name_ref *r = lookup(job, name, 1);
    return r ? &job->streams[r->i] : NULL;
}

/* --------------------------------------------------------- formatting */

const char *sl__job_fmt_ms(sl_job *job, int64_t ms)
{
    char buf[32];
    sl_duration_format(ms, buf, sizeof buf);
    return sl__job_strdup(job, buf);
}

char *sl__job_printf(sl_job *job, const char *fmt, ...)
{
    va_list ap;
    int n;
    char *s;
    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !(s = sl__job_alloc(job, (size_t)n + 1)))
        return NULL;
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}
