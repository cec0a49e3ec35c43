/*
 * The views of a job's sources and streams, as SQL streams read them
 * (docs/sql.md "Input rows"): the rate source's rows as Spark's, a
 * stream's "schema", a default for pairs the kinds analysis is certain
 * of, else what the engine gives (the stream's own rows or one `value`
 * column).
 */
#include "job/job_int.h"

#include "core/codec.h"
#include "stream/stream.h"

#include <stdio.h>
#include <string.h>

/* ------------------------------------------------------ types only */

/* The next top-level item of a DDL list from *p (commas inside <> and
 * () belong to the item), trimmed into [*b, *e); false at the end. */
static bool next_item(const char **p, const char **b, const char **e)
{
    const char *s = *p;
    int depth = 0;
    if (!*s)
        return false;
    while (*s == ' ' || *s == '\t' || *s == '\n')
        s++;
    *b = s;
    for (; *s && (depth > 0 || *s != ','); s++)
        depth += (*s == '<' || *s == '(') - (*s == '>' || *s == ')');
    *e = s;
    while (*e > *b && strchr(" \t\n", (*e)[-1]))
        (*e)--;
    *p = *s ? s + 1 : s;
    return true;
}

/* A column name for item i of n. */
static void item_name(char *buf, size_t len, size_t i, size_t n, bool pairs)
{
    if (n == 1)
        snprintf(buf, len, "value");
    else if (n == 2 && pairs)
        snprintf(buf, len, "%s", i ? "value" : "key");
    else
        snprintf(buf, len, "_%zu", i + 1);
}

/* ddl as a list of types alone, each given its name; SL_EPARSE when an
 * item has a name of its own (white space or a backquote outside <>). */
static sl_status types_only(const char *ddl, bool pairs, sl_schema **out)
{
    const char *p = ddl, *b, *e, *c;
    size_t n = 0, i = 0;
    char name[32];
    sl__buf buf = {0};
    sl_status st = SL_EPARSE;
    while (next_item(&p, &b, &e))
        n++;
    for (p = ddl; next_item(&p, &b, &e); i++) {
        int depth = 0;
        for (c = b; c < e; c++) {
            depth += (*c == '<' || *c == '(') - (*c == '>' || *c == ')');
            if (!depth && strchr(" \t\n`:", *c))
                goto out;
        }
        item_name(name, sizeof name, i, n, pairs);
        if (sl__buf_append(&buf, i ? ", " : "", i ? 2 : 0) ||
            sl__buf_append(&buf, name, strlen(name)) ||
            sl__buf_append(&buf, " ", 1) ||
            sl__buf_append(&buf, b, (size_t)(e - b))) {
            st = SL_ENOMEM;
            goto out;
        }
    }
    if (!n || sl__buf_append(&buf, "", 1)) {
        st = n ? SL_ENOMEM : SL_EPARSE;
        goto out;
    }
    st = sl_schema_parse(buf.data, out, NULL, 0);
out:
    sl__buf_free(&buf);
    return st;
}

sl_status sl__job_view_schema_parse(const char *ddl, bool pairs,
                                    sl_schema **out, char *why, size_t n)
{
    sl_status st = sl_schema_parse(ddl, out, why, n);
    if (st != SL_EPARSE)
        return st;
    /* The error of the DDL as written stands when types alone fail. */
    return types_only(ddl, pairs, out) == SL_OK ? SL_OK : st;
}

/* ------------------------------------------------------ shaping */

/* Whether a record's item v goes into a column of type t as a double
 * made of an integer: job files read 1.0 as the integer 1. */
static bool widens(const sl_value *v, const sl_type *t)
{
    return v->kind == SL_KIND_INT && t->id == SL_TYPE_DOUBLE;
}

/*
 * A record in the shape the view's schema reads by position: a list of
 * as many items as columns (job files have no tuples: their arrays are
 * lists) as a tuple, integers in double columns as doubles. Any other
 * record is left as it is, for the view to read (docs/sql.md).
 */
static sl_status shape_fn(sl_task *t, const sl_value *in, sl_value *out,
                          void *user)
{
    const sl_schema *sc = user;
    size_t i, n = sl_schema_size(sc);
    bool widen = false;
    sl_value *items;
    *out = *in;
    if (n == 1 && widens(in, sl_schema_type(sc, 0))) {
        *out = sl_double((double)in->u.i);
        return SL_OK;
    }
    if (n < 2 || !sl_kind_is_composite(in->kind) || in->len != n)
        return SL_OK;
    for (i = 0; i < n; i++)
        widen |= widens(&in->u.items[i], sl_schema_type(sc, i));
    if (!widen && in->kind != SL_KIND_LIST)
        return SL_OK;
    if (!(items = sl_task_alloc(t, n * sizeof *items)))
        return SL_ENOMEM;
    for (i = 0; i < n; i++)
        items[i] = widens(&in->u.items[i], sl_schema_type(sc, i))
                       ? sl_double((double)in->u.items[i].u.i)
                       : in->u.items[i];
    *out = sl_composite(in->kind == SL_KIND_PAIR ? SL_KIND_PAIR : SL_KIND_TUPLE,
                        items, n);
    return SL_OK;
}

/* ------------------------------------------------------ registering */

/* The schema SQL streams read name's records as, or NULL (*out) for the
 * engine's own (the stream's rows, else one value column). */
static sl_status view_schema(sl_job *job, const char *name,
                             const job_source *src, const job_stream *js,
                             sl_dstream *in, sl_schema **out)
{
    bool ints = false;
    elem_kind k = sl__job_input_elem(job, name, &ints);
    *out = NULL;
    if (src && strcmp(src->def->type, "rate") == 0)
        return sl_schema_parse("timestamp timestamp, value long", out, NULL, 0);
    if (js && js->schema)
        return sl__job_view_schema_parse(js->schema, k == ELEM_PAIR, out, NULL,
                                         0);
    if (sl_dstream_schema(in) || k != ELEM_PAIR)
        return SL_OK;
    /* Pairs the job knows: keys as text (any key's JSON text), values
     * typed only where certain. */
    return sl_schema_parse(ints ? "key string, value long"
                                : "key string, value string",
                           out, NULL, 0);
}

sl_status sl__job_register_view(sl_job *job, const char *name, sl_dstream *in,
                                const char *path)
{
    job_source *src = sl__job_find_source(job, name);
    job_stream *js = src ? NULL : sl__job_find_stream(job, name);
    bool *viewed = src ? &src->viewed : js ? &js->viewed : NULL;
    sl_schema *schema = NULL;
    sl_status st;
    /* Once: two SQL streams reading one input share its view (its
     * schema is borrowed by both). */
    if (!viewed || *viewed)
        return SL_OK;
    if ((st = view_schema(job, name, src, js, in, &schema)))
        return sl__job_fail(job, st, path, "%s: %s", name,
                            st == SL_ENOMEM ? "out of memory"
                                            : "schema: no valid DDL");
    if (js && js->schema && !(in = sl_dstream_map(in, shape_fn, schema))) {
        sl_schema_release(schema);
        return sl__job_ctx_fail(job, path);
    }
    st = sl_dstream_register_view_schema(in, name, schema);
    sl_schema_release(schema);
    if (st)
        return sl__job_ctx_fail(job, path);
    *viewed = true;
    return SL_OK;
}
