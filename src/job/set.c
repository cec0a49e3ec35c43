/*
 * Job-file overrides, "PATH=VALUE" (streamctl's --set): the path grammar
 * (dotted or JSON path) and applying overrides to the parsed document
 * before parse.c checks it, so an override is validated like the file.
 * docs/streamctl.md states the grammar and the rule for dotted keys.
 */
#include "job/parse_int.h"

#include "core/records.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Indexes above this are refused as syntax: no job array is this long. */
#define MAX_INDEX 1000000000u

/* One step of a path: a field name or an array index. */
typedef struct set_step {
    const char *name; /* NULL for an index */
    size_t index;
    bool joins; /* dotted form: a name follows after '.' */
} set_step;

/* A parsed "PATH=VALUE". */
typedef struct set_path {
    set_step *steps;
    size_t n;
    char *names;       /* the names, unescaped, each NUL-terminated */
    const char *value; /* the text after the '=' */
} set_path;

/* The parser's place in the text. */
typedef struct set_scan {
    const char *arg, *p;
    char *out; /* next free byte of path->names */
    set_path *path;
    char *err;
    size_t errlen;
} set_scan;

static sl_status scan_fail(set_scan *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Say what is wrong at the current character (1-based) into s->err. */
static sl_status scan_fail(set_scan *s, const char *fmt, ...)
{
    va_list ap;
    int n;
    va_start(ap, fmt);
    n = vsnprintf(s->err, s->errlen, fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n < s->errlen)
        snprintf(s->err + n, s->errlen - (size_t)n, " (at character %zu)",
                 (size_t)(s->p - s->arg) + 1);
    return SL_EINVAL;
}

static set_step *add_step(set_scan *s)
{
    set_step *st = &s->path->steps[s->path->n++];
    memset(st, 0, sizeof *st);
    return st;
}

/* A bare name: up to '.', '[' or '='. */
static sl_status scan_name(set_scan *s)
{
    const char *start = s->p;
    set_step *st;
    while (*s->p && !strchr(".[=]", *s->p))
        s->p++;
    if (*s->p == ']')
        return scan_fail(s, "unexpected ']' in the path");
    if (s->p == start)
        return scan_fail(s, "empty segment in the path");
    st = add_step(s);
    st->name = s->out;
    memcpy(s->out, start, (size_t)(s->p - start));
    s->out += s->p - start;
    *s->out++ = '\0';
    return SL_OK;
}

/* ["name"] or ['name'] after the '[': a backslash takes the next
 * character as it is. */
static sl_status scan_quoted(set_scan *s)
{
    char quote = *s->p++;
    set_step *st = add_step(s);
    st->name = s->out;
    while (*s->p != quote) {
        if (*s->p == '\\' && s->p[1])
            s->p++;
        if (!*s->p)
            return scan_fail(s, "unterminated quote %c in the path", quote);
        *s->out++ = *s->p++;
    }
    *s->out++ = '\0';
    s->p++;
    if (*s->p != ']')
        return scan_fail(s, "expected ']' after the quoted name");
    s->p++;
    return SL_OK;
}

/* [N] or a quoted name, at the '['. */
static sl_status scan_bracket(set_scan *s)
{
    size_t v = 0;
    const char *digits;
    s->p++;
    if (*s->p == '"' || *s->p == '\'')
        return scan_quoted(s);
    for (digits = s->p; *s->p >= '0' && *s->p <= '9'; s->p++) {
        v = v * 10 + (size_t)(*s->p - '0');
        if (v > MAX_INDEX)
            return scan_fail(s, "array index too large");
    }
    /* "a[0=1": the '=' of the override ends the path inside the [. */
    if (!*s->p || (s->p != digits && *s->p == '='))
        return scan_fail(s, "unterminated bracket '[' in the path");
    if (s->p == digits && *s->p == ']')
        return scan_fail(s, "empty brackets [] in the path");
    if (s->p == digits || *s->p != ']')
        return scan_fail(s, "bad array index: expected digits or a quoted "
                            "name in brackets");
    add_step(s)->index = v;
    s->p++;
    return SL_OK;
}

/* PATH=: the end of the path must be the '='. */
static sl_status scan_end(set_scan *s)
{
    if (*s->p != '=')
        return scan_fail(s, "missing '=': an override is PATH=VALUE");
    s->path->value = s->p + 1;
    return SL_OK;
}

/* name[N]...(.name[N]...)* up to the '='. */
static sl_status scan_dotted(set_scan *s)
{
    sl_status st;
    for (;;) {
        size_t named;
        if ((st = scan_name(s)) != SL_OK)
            return st;
        named = s->path->n;
        while (*s->p == '[')
            if ((st = scan_bracket(s)) != SL_OK)
                return st;
        if (*s->p != '.')
            return scan_end(s);
        /* A bare name right before this '.' may form one key with the
         * next (names with dots); bracketed steps never do. */
        if (named == s->path->n)
            s->path->steps[named - 1].joins = true;
        s->p++;
    }
}

/* $ then (.name | [N] | ["name"])+ up to the '='. */
static sl_status scan_json(set_scan *s)
{
    sl_status st = SL_OK;
    s->p++;
    if (*s->p == '=' || !*s->p)
        return scan_fail(s, "the path $ names no field");
    while (st == SL_OK && *s->p && *s->p != '=') {
        if (*s->p == '.') {
            s->p++;
            st = scan_name(s);
        } else if (*s->p == '[') {
            st = scan_bracket(s);
        } else {
            st = scan_fail(s, "expected '.', '[' or '=' in the path");
        }
    }
    return st == SL_OK ? scan_end(s) : st;
}

static void set_path_free(set_path *p)
{
    sl_free(p->steps);
    sl_free(p->names);
}

/* Parse arg into *p (free with set_path_free, also after a failure);
 * on SL_EINVAL err says why. */
static sl_status set_parse(const char *arg, set_path *p, char *err,
                           size_t errlen)
{
    size_t len = strlen(arg);
    set_scan s = {arg, arg, NULL, p, err, errlen};
    memset(p, 0, sizeof *p);
    /* Each step takes at least one character, each name at most its
     * characters and a NUL that the next separator pays for. */
    p->steps = sl_malloc((len + 1) * sizeof *p->steps);
    p->names = sl_malloc(len + 2);
    if (!p->steps || !p->names)
        return SL_ENOMEM;
    s.out = p->names;
    if (*arg == '$')
        return scan_json(&s);
    return scan_dotted(&s);
}

/* Whether the path text of an assignment (before its '=') names a secret
 * key: any segment of it, dotted or in brackets, read to the end. */
static bool secret_path(const char *path, size_t n)
{
    char buf[512];
    size_t i;
    if (n >= sizeof buf)
        n = sizeof buf - 1;
    memcpy(buf, path, n);
    while (n > 0 && (buf[n - 1] == ']' || buf[n - 1] == '"'))
        n--;
    buf[n] = '\0';
    for (i = 0; i < n; i++)
        if ((i == 0 || strchr(".[\"", buf[i - 1])) &&
            sl_control_secret_key(buf + i))
            return true;
    return false;
}

/* "--set ASSIGNMENT" as messages quote it, into buf: with the value
 * shown as <redacted> when the path names a secret key. */
static const char *set_shown(const char *arg, char *buf, size_t n)
{
    const char *eq = strchr(arg, '=');
    if (eq && secret_path(arg, (size_t)(eq - arg)))
        snprintf(buf, n, "--set %.*s=<redacted>", (int)(eq - arg), arg);
    else
        snprintf(buf, n, "--set %s", arg);
    return buf;
}

sl_status sl_job_check_set(const char *assignment, char *errbuf, size_t errlen)
{
    char msg[256], shown[512];
    set_path p;
    sl_status st;
    if (!assignment)
        return SL_EINVAL;
    st = set_parse(assignment, &p, msg, sizeof msg);
    set_path_free(&p);
    if (st == SL_EINVAL && errbuf && errlen)
        snprintf(errbuf, errlen, "%s: %s",
                 set_shown(assignment, shown, sizeof shown), msg);
    return st;
}

/* ------------------------------------------------------------- apply */

/* j's type with its article, for messages. */
static const char *a_type(const cJSON *j)
{
    if (cJSON_IsArray(j) || cJSON_IsObject(j))
        return cJSON_IsArray(j) ? "an array" : "an object";
    if (cJSON_IsNull(j))
        return "null";
    return cJSON_IsString(j)   ? "a string"
           : cJSON_IsNumber(j) ? "a number"
                               : "a boolean";
}

/* Steps i..end-1 (names) joined by '.' (job memory; NULL: out of memory). */
static char *join_names(sl_job *job, const set_path *p, size_t i, size_t end)
{
    size_t n = 0, k;
    char *key, *o;
    for (k = i; k < end; k++)
        n += strlen(p->steps[k].name) + 1;
    if (!(key = o = sl__job_alloc(job, n)))
        return NULL;
    for (k = i; k < end; k++) {
        size_t m = strlen(p->steps[k].name);
        memcpy(o, p->steps[k].name, m);
        o += m;
        *o++ = k + 1 < end ? '.' : '\0';
    }
    return key;
}

/*
 * The key that steps i.. name in obj, and how many steps it takes. A run
 * of dotted names is matched longest first against obj's existing keys,
 * since names may hold dots ("sources.a.b.port" with a source "a.b");
 * when none exists the first name alone is the key, except in the
 * top-level "conf", whose keys are property names with dots in them
 * ("conf.log.level" sets "log.level"). NULL when out of memory.
 */
static const char *step_key(sl_job *job, const cJSON *obj, const set_path *p,
                            size_t i, size_t *used)
{
    size_t j, end = i + 1;
    char *key;
    bool in_conf = obj == cJSON_GetObjectItemCaseSensitive(job->root, "conf");
    while (end < p->n && p->steps[end - 1].joins)
        end++;
    for (j = end; j > i + 1; j--) {
        if (!(key = join_names(job, p, i, j)))
            return NULL;
        if (cJSON_GetObjectItemCaseSensitive(obj, key)) {
            *used = j - i;
            return key;
        }
    }
    *used = in_conf ? end - i : 1;
    return *used == 1 ? p->steps[i].name : join_names(job, p, i, end);
}

/* Put value at key of obj (replacing what is there); false: out of
 * memory, value freed. The key of a replacement is copied here, because
 * cJSON 1.7.15's cJSON_ReplaceItemInObject puts the item in even when
 * copying its key failed, leaving a field without a name. */
static bool put_field(cJSON *obj, const char *key, cJSON *value)
{
    cJSON *old = cJSON_GetObjectItemCaseSensitive(obj, key);
    size_t n = strlen(key) + 1;
    if (!old) {
        if (cJSON_AddItemToObject(obj, key, value))
            return true;
    } else if ((value->string = cJSON_malloc(n)) != NULL) {
        memcpy(value->string, key, n);
        return cJSON_ReplaceItemViaPointer(obj, old, value);
    }
    cJSON_Delete(value);
    return false;
}

/* The array node's item index, replaced by value when it is the last
 * step; false after a problem (value freed). */
static bool step_index(sl_job *job, const char *where, const char *at,
                       cJSON *node, size_t index, cJSON **value)
{
    int n = cJSON_GetArraySize(node);
    if (index >= (size_t)n) {
        sl__job_problem(job, NULL, where,
                        "index %zu is past the end of %s (%d item%s)", index,
                        at, n, n == 1 ? "" : "s");
        return false;
    }
    if (*value && !cJSON_ReplaceItemInArray(node, (int)index, *value)) {
        job->oom = true;
        return false;
    }
    *value = NULL; /* the tree owns it now */
    return true;
}

/*
 * Follow p from the root, creating the objects missing along it, and put
 * value at its end. false after a problem or out of memory; value is the
 * tree's or freed either way.
 */
static bool set_value(sl_job *job, const char *where, const set_path *p,
                      cJSON *value)
{
    cJSON *node = job->root;
    const char *at = "$", *key;
    size_t i, used;
    for (i = 0; at && !job->oom && i < p->n; i += used) {
        const set_step *s = &p->steps[i];
        used = 1;
        if (s->name ? !cJSON_IsObject(node) : !cJSON_IsArray(node)) {
            sl__job_problem(job, NULL, where, "%s is %s, not %s", at,
                            a_type(node), s->name ? "an object" : "an array");
            break;
        }
        if (!s->name) {
            cJSON *last = i + 1 == p->n ? value : NULL;
            if (!step_index(job, where, at, node, s->index, &last))
                break;
            if (i + 1 == p->n)
                return true;
            at = sl__job_path_index(job, at, s->index);
            node = cJSON_GetArrayItem(node, (int)s->index);
            continue;
        }
        if (!(key = step_key(job, node, p, i, &used)))
            break;
        if (i + used == p->n)
            return put_field(node, key, value) || (job->oom = true, false);
        at = sl__job_path_field(job, at, key);
        if (!cJSON_GetObjectItemCaseSensitive(node, key) &&
            !cJSON_AddObjectToObject(node, key))
            job->oom = true;
        node = cJSON_GetObjectItemCaseSensitive(node, key);
    }
    cJSON_Delete(value);
    return false;
}

/* Levels of arrays and objects in j (0 for a scalar); j is within the
 * pre-scan's nesting limit, so the recursion is bounded. */
static size_t nesting(const cJSON *j)
{
    size_t max = 0, d;
    const cJSON *c;
    if (!cJSON_IsArray(j) && !cJSON_IsObject(j))
        return 0;
    for (c = j->child; c; c = c->next)
        if ((d = nesting(c)) > max)
            max = d;
    return max + 1;
}

/* The document after the override keeps the job file's nesting limit:
 * the parser and cJSON_Delete recurse, so a path of thousands of steps
 * must not make thousands of levels. The value sits under the root and
 * n - 1 more levels of the path. */
static bool nesting_ok(sl_job *job, const char *where, size_t n,
                       const cJSON *value)
{
    if (n + nesting(value) <= JOB_MAX_NESTING)
        return true;
    sl__job_problem(
        job, NULL, where,
        "the override would nest the job deeper than " JOB_MAX_NESTING_TEXT
        " levels (the limit of a job file)");
    return false;
}

/* VALUE as JSON, else as a string; NULL after a problem (or with
 * job->oom set). JSON over the job file's limits is refused as such. */
static cJSON *read_value(sl_job *job, const char *where, const char *text)
{
    size_t len = strlen(text), at;
    const char *why;
    bool limit = false;
    cJSON *v;
    if (len && sl__job_scan(text, len, &at, &why, &limit)) {
        /* NUL included: cJSON then refuses trailing text (as read_json). */
        v = sl__json_parse(text, len + 1, NULL, true);
    } else if (limit) {
        sl__job_problem(job, NULL, where, "the value: %s", why);
        return NULL;
    } else {
        v = cJSON_CreateString(text);
    }
    if (!v)
        job->oom = true;
    return v;
}

/* The parsed override p: its value read and put in place; false after a
 * problem or out of memory. */
static bool apply_one(sl_job *job, const char *where, const set_path *p)
{
    cJSON *v = read_value(job, where, p->value);
    if (!v)
        return false;
    if (!nesting_ok(job, where, p->n, v)) {
        cJSON_Delete(v);
        return false;
    }
    return set_value(job, where, p, v); /* v is the tree's or freed */
}

bool sl__job_apply_sets(sl_job *job, const char *const *sets, size_t nsets)
{
    char msg[256];
    bool ok = true;
    size_t i;
    for (i = 0; i < nsets && !job->oom; i++) {
        char shown[512];
        const char *where =
            sl__job_printf(job, "%s", set_shown(sets[i], shown, sizeof shown));
        set_path p;
        sl_status st;
        if (!where)
            break;
        st = set_parse(sets[i], &p, msg, sizeof msg);
        if (st == SL_EINVAL)
            sl__job_problem(job, NULL, where, "%s", msg);
        else if (st == SL_ENOMEM)
            job->oom = true;
        else if (!apply_one(job, where, &p))
            st = SL_EINVAL;
        set_path_free(&p);
        ok = ok && st == SL_OK;
    }
    return ok && !job->oom;
}
