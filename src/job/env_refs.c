/*
 * `${ENV:NAME}` references in job files: every string value of the
 * document may read environment variables, replaced when the job is
 * loaded (after --set overrides, before any field is validated) so that
 * secrets need not be written in the file. `$${` stands for a literal
 * `${`. A missing variable is a problem at the value's JSON path naming
 * the variable, never quoting the value.
 */
#include "job/parse_int.h"

#include "core/codec.h"

#include <stdlib.h>
#include <string.h>

/* Where a node sits, for the path of a problem, built only on one. */
typedef struct frame {
    const struct frame *up;
    const cJSON *node;
    size_t index;
} frame;

static const char *path_of(sl_job *job, const frame *f)
{
    const char *base;
    if (!f->up)
        return "$";
    if (!(base = path_of(job, f->up)))
        return NULL;
    if (f->node->string)
        return sl__job_path_field(job, base, f->node->string);
    return sl__job_path_index(job, base, f->index);
}

/* Append n bytes of s to out; false when out of memory (job->oom). */
static bool put(sl_job *job, sl__buf *out, const char *s, size_t n)
{
    if (sl__buf_append(out, s, n) == SL_OK)
        return true;
    job->oom = true;
    return false;
}

/* Append the value of the reference at s (its name: name_len bytes at
 * s + 6), or record a problem when it is not set. */
static bool put_var(sl_job *job, const frame *f, const char *s, size_t name_len,
                    sl__buf *out)
{
    char name[256];
    const char *v;
    if (name_len >= sizeof name) {
        sl__job_problem(job, f->node, path_of(job, f),
                        "an environment variable's name is longer than %zu "
                        "bytes",
                        sizeof name - 1);
        return true;
    }
    memcpy(name, s + 6, name_len);
    name[name_len] = '\0';
    if ((v = getenv(name)))
        return put(job, out, v, strlen(v));
    sl__job_problem(job, f->node, path_of(job, f),
                    "environment variable %s is not set (read by "
                    "${ENV:%s})",
                    name, name);
    return true;
}

/*
 * The string s with its references replaced and `$${` made `${`, into
 * out (NUL-terminated). A reference that is not well-formed is a problem:
 * left as written, it would reach a field as text nobody meant.
 */
static bool expand(sl_job *job, const frame *f, const char *s, sl__buf *out)
{
    size_t i = 0, from = 0, n = strlen(s), r, name_len;
    while (i < n) {
        if (s[i] != '$') {
            i++;
            continue;
        }
        if (!put(job, out, s + from, i - from))
            return false;
        if (i + 2 < n && s[i + 1] == '$' && s[i + 2] == '{') {
            if (!put(job, out, "${", 2))
                return false;
            i = from = i + 3;
        } else if ((r = sl__env_ref(s + i, n - i, &name_len)) > 0) {
            if (!put_var(job, f, s + i, name_len, out))
                return false;
            i = from = i + r;
        } else {
            if (strncmp(s + i, "${ENV:", 6) == 0)
                sl__job_problem(job, f->node, path_of(job, f),
                                "invalid ${ENV:NAME} reference: NAME is a "
                                "letter or '_', then letters, digits and "
                                "'_', and a '}' closes it (write $${ for a "
                                "literal ${)");
            from = i++;
        }
    }
    return put(job, out, s + from, n - from) && put(job, out, "", 1);
}

/* Expand the string node f->node in place. */
static void expand_node(sl_job *job, const frame *f)
{
    cJSON *j = (cJSON *)f->node;
    sl__buf out = {0};
    if (!strchr(j->valuestring, '$'))
        return;
    if (expand(job, f, j->valuestring, &out) &&
        strcmp(out.data, j->valuestring) != 0 &&
        !cJSON_SetValuestring(j, out.data))
        job->oom = true;
    sl__buf_free(&out);
}

/* Every string under f->node (nesting is bounded by the scan: at most
 * JOB_MAX_NESTING levels of recursion). */
static void walk(sl_job *job, const frame *f)
{
    frame child = {f, NULL, 0};
    if (cJSON_IsString(f->node)) {
        expand_node(job, f);
        return;
    }
    for (child.node = f->node->child; child.node && !job->oom;
         child.node = child.node->next, child.index++)
        walk(job, &child);
}

void sl__job_expand_env(sl_job *job)
{
    frame root = {NULL, job->root, 0};
    if (job->root)
        walk(job, &root);
}
