/*
 * The schemas `streamctl sql` infers for files given without one
 * (docs/sql.md "Reading rows"): a CSV header's names, all strings, made
 * safe as Spark's makeSafeHeader does; a JSON line's fields with their
 * JSON types, nested objects as structs and arrays as arrays.
 */
#include "core/records.h"
#include "core/schema.h"

#include <cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* 2^63: doubles below it in magnitude convert to int64 exactly. */
#define TWO_63 9223372036854775808.0

/* ------------------------------------------------------------ inference */

/* A name Spark's makeSafeHeader gives header field i: "_c<i>" for an
 * empty one, the name with i appended for a duplicate. */
static bool header_dup(const sl_value *names, size_t i)
{
    size_t k;

    for (k = 0; k < names->len; k++) {
        const sl_value *a = &names->u.items[k], *b = &names->u.items[i];
        if (k != i && a->len == b->len && b->len > 0 &&
            strncasecmp(a->u.s, b->u.s, b->len) == 0)
            return true;
    }
    return false;
}

static sl_status header_add(sl__schema_builder *b, const sl_value *names,
                            size_t i, char *err, size_t errlen)
{
    const sl_value *f = &names->u.items[i];
    char *name = sl_malloc((size_t)f->len + 24);
    int n;
    sl_status st;

    if (!name)
        return sl__errbuf(err, errlen, SL_ENOMEM, "out of memory");
    if (f->len == 0)
        n = snprintf(name, 24, "_c%zu", i);
    else if (header_dup(names, i))
        n = snprintf(name, (size_t)f->len + 24, "%.*s%zu", (int)f->len, f->u.s,
                     i);
    else
        n = snprintf(name, (size_t)f->len + 24, "%.*s", (int)f->len, f->u.s);
    st = sl__schema_builder_add(b, name, (size_t)n,
                                sl_type_scalar(SL_TYPE_STRING));
    sl_free(name);
    if (st == SL_EINVAL)
        return sl__errbuf(err, errlen, SL_EPARSE, "csv header: %s",
                          sl__schema_builder_errmsg(b));
    if (st != SL_OK)
        return sl__errbuf(err, errlen, st, "out of memory");
    return SL_OK;
}

sl_status sl__rec_infer_csv_header(const sl__rec_options *o, const char *line,
                                   size_t len, sl_schema **out, char *err,
                                   size_t errlen)
{
    sl__rec_reader r = {
        .format = SL__REC_CSV, .separator = o->separator, .quote = o->quote};
    sl__schema_builder *b = NULL;
    sl__arena a;
    sl_value names;
    char why[160];
    size_t i;
    sl_status st;

    sl__arena_init(&a, 1024);
    if (len >= 3 && memcmp(line, "\xEF\xBB\xBF", 3) == 0)
        line += 3, len -= 3;
    if (memchr(line, '\0', len)) {
        st = sl__errbuf(err, errlen, SL_EPARSE, "NUL byte in the header");
        goto done;
    }
    st = sl__csv_split(&r, line, len, sl__rec_arena_alloc, &a, &names, why,
                       sizeof why);
    if (st != SL_OK) {
        sl__errbuf(err, errlen, st, "malformed csv header: %s", why);
        goto done;
    }
    if (!(b = sl__schema_builder_new())) {
        st = sl__errbuf(err, errlen, SL_ENOMEM, "out of memory");
        goto done;
    }
    for (i = 0; st == SL_OK && i < names.len; i++)
        st = header_add(b, &names, i, err, errlen);
    if (st == SL_OK && !(*out = sl__schema_builder_finish(b)))
        st = sl__errbuf(err, errlen, SL_ENOMEM, "out of memory");
    if (st == SL_OK)
        b = NULL; /* finished */
done:
    sl__schema_builder_free(b);
    sl__arena_free(&a);
    return st;
}

static sl_status infer_type(const cJSON *j, sl__arena *a, const sl_type **t,
                            char *err, size_t errlen);

/* Numbers: long while every one is integral and within a long, else
 * double (Spark widens long and double to double). */
static const sl_type *infer_number(const cJSON *j)
{
    double d = j->valuedouble;

    return sl_type_scalar(floor(d) == d && fabs(d) < TWO_63 ? SL_TYPE_LONG
                                                            : SL_TYPE_DOUBLE);
}

/* An array: the type of its first non-null item, widened to double
 * over numbers; array<string> when all are null or it is empty. */
static sl_status infer_array(const cJSON *j, sl__arena *a, const sl_type **t,
                             char *err, size_t errlen)
{
    const sl_type *el = NULL, *it;
    const cJSON *e;
    sl_status st;

    for (e = j->child; e; e = e->next) {
        if ((e->type & 0xff) == cJSON_NULL)
            continue;
        st = infer_type(e, a, &it, err, errlen);
        if (st != SL_OK)
            return st;
        if (!el || (el->id == SL_TYPE_LONG && it->id == SL_TYPE_DOUBLE))
            el = it;
    }
    *t = sl__type_array(a, el ? el : sl_type_scalar(SL_TYPE_STRING));
    return *t ? SL_OK : sl__errbuf(err, errlen, SL_ENOMEM, "out of memory");
}

static int by_name(const void *x, const void *y)
{
    const cJSON *a = *(const cJSON *const *)x, *b = *(const cJSON *const *)y;

    return strcmp(a->string, b->string);
}

/* An object's fields sorted by name, as Spark's inference sorts them. */
static sl_status infer_fields(const cJSON *j, sl__arena *a, sl_schema **out,
                              char *err, size_t errlen)
{
    size_t n = 0, i;
    const cJSON *e, **v;
    sl__schema_builder *b = sl__schema_builder_new();
    const sl_type *t;
    sl_status st = SL_OK;

    for (e = j->child; e; e = e->next)
        n++;
    v = sl__arena_alloc(a, (n ? n : 1) * sizeof *v);
    if (!b || !v) {
        st = sl__errbuf(err, errlen, SL_ENOMEM, "out of memory");
        goto done;
    }
    for (i = 0, e = j->child; e; e = e->next)
        v[i++] = e;
    qsort(v, n, sizeof *v, by_name);
    for (i = 0; st == SL_OK && i < n; i++) {
        st = infer_type(v[i], a, &t, err, errlen);
        if (st == SL_OK &&
            sl__schema_builder_add(b, v[i]->string, strlen(v[i]->string), t))
            st = sl__errbuf(err, errlen, SL_EPARSE, "json: %s",
                            sl__schema_builder_errmsg(b));
    }
    if (st == SL_OK && !(*out = sl__schema_builder_finish(b)))
        st = sl__errbuf(err, errlen, SL_ENOMEM, "out of memory");
    if (st == SL_OK)
        b = NULL;
done:
    sl__schema_builder_free(b);
    return st;
}

static sl_status infer_type(const cJSON *j, sl__arena *a, const sl_type **t,
                            char *err, size_t errlen)
{
    sl_schema *fields;
    sl_status st;

    switch (j->type & 0xff) {
    case cJSON_False:
    case cJSON_True:
        *t = sl_type_scalar(SL_TYPE_BOOLEAN);
        return SL_OK;
    case cJSON_Number:
        *t = infer_number(j);
        return SL_OK;
    case cJSON_Array:
        return infer_array(j, a, t, err, errlen);
    case cJSON_Object:
        st = infer_fields(j, a, &fields, err, errlen);
        if (st != SL_OK)
            return st;
        *t = sl__type_struct(a, fields);
        sl_schema_release(fields); /* the arena holds its own reference */
        return *t ? SL_OK : sl__errbuf(err, errlen, SL_ENOMEM, "out of memory");
    default: /* strings, and null (Spark infers null as string) */
        *t = sl_type_scalar(SL_TYPE_STRING);
        return SL_OK;
    }
}

sl_status sl__rec_infer_json(const char *line, size_t len, sl_schema **out,
                             char *err, size_t errlen)
{
    char why[256];
    cJSON *root = sl__rows_json_root(line, len, why, sizeof why);
    sl__arena a;
    sl_status st;

    if (!root)
        return sl__errbuf(err, errlen, SL_EPARSE, "json: first record: %s",
                          why);
    sl__arena_init(&a, 1024);
    st = infer_fields(root, &a, out, err, errlen);
    cJSON_Delete(root);
    sl__arena_free(&a);
    return st;
}
