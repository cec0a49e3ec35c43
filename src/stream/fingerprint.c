/*
 * The config fingerprint of a checkpointed context: what must not change
 * between a run and its restart (pipeline shape and operator parameters,
 * batch interval, state shards, names), as readable text so that a
 * mismatch can be named ("batch interval changed from 1000 ms to 2000
 * ms"). Sinks, log level and workers are left out: they may change.
 *
 * The text is one line per fact, "SUBJECT\tFIELD\tVALUE\n", after a
 * first line "sluice-fingerprint 1". SUBJECT is "job" or a stream: by
 * name ("stream 'counts'") or, unnamed, by its position in creation order
 * ("stream #3"), so that a renamed or moved stream shows as changed.
 */
#include "stream/stream_int.h"

#include "core/codec.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define FP_HEADER "sluice-fingerprint 1\n"

static const char *const kind_names[] = {
    [DS_RECEIVER] = "receiver source",
    [DS_PLANNED] = "source",
    [DS_MAP] = "map",
    [DS_FLAT_MAP] = "flat_map",
    [DS_FILTER] = "filter",
    [DS_MAP_PARTITIONS] = "map_partitions",
    [DS_GLOM] = "glom",
    [DS_MAP_VALUES] = "map_values",
    [DS_FLAT_MAP_VALUES] = "flat_map_values",
    [DS_REDUCE_BY_KEY] = "reduce_by_key",
    [DS_GROUP_BY_KEY] = "group_by_key",
    [DS_COMBINE_BY_KEY] = "combine_by_key",
    [DS_COUNT] = "count",
    [DS_COUNT_BY_VALUE] = "count_by_value",
    [DS_REDUCE] = "reduce",
    [DS_UNION] = "union",
    [DS_TRANSFORM] = "transform",
    [DS_TRANSFORM2] = "transform",
    [DS_TRANSFORM_N] = "transform",
    [DS_REPARTITION] = "repartition",
    [DS_JOIN] = "join",
    [DS_LEFT_JOIN] = "left_outer_join",
    [DS_RIGHT_JOIN] = "right_outer_join",
    [DS_FULL_JOIN] = "full_outer_join",
    [DS_COGROUP] = "cogroup",
    [DS_WINDOW] = "window",
    [DS_REDUCED_WINDOW] = "reduce_by_key_and_window",
    [DS_UPDATE_STATE] = "update_state_by_key",
    [DS_MAP_WITH_STATE] = "map_with_state",
    [DS_STATE_SNAPSHOTS] = "state_snapshots",
};

static sl_status fp_add(sl__buf *out, const char *subject, const char *field,
                        const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static sl_status fp_add(sl__buf *out, const char *subject, const char *field,
                        const char *fmt, ...)
{
    char value[512], line[1024];
    va_list ap;
    int n;
    va_start(ap, fmt);
    vsnprintf(value, sizeof value, fmt, ap);
    va_end(ap);
    n = snprintf(line, sizeof line, "%s\t%s\t%s\n", subject, field, value);
    if (n < 0 || (size_t)n >= sizeof line)
        return SL_ERANGE;
    return sl__buf_append(out, line, (size_t)n);
}

/* A stream's label: its name, else its position (creation order). */
static void label(const sl_dstream *s, sl_dstream *const *all, size_t n,
                  char *buf, size_t len)
{
    size_t i;
    if (s->name) {
        snprintf(buf, len, "stream '%s'", s->name);
        return;
    }
    for (i = 0; i < n && all[i] != s; i++)
        ;
    snprintf(buf, len, "stream #%zu", i + 1);
}

/* A source's schema and parse mode: they decide what its batches hold. */
static sl_status fp_schema(sl__buf *out, const char *subj, const sl_dstream *s)
{
    char *ddl = sl_schema_to_ddl(s->schema);
    sl_status st;
    if (!ddl)
        return SL_ENOMEM;
    /* Appended whole: fp_add's fixed buffer would cut a wide schema. A
     * DDL text holds no tab or newline outside backquotes, and
     * sl_schema_to_ddl quotes names that need it. */
    st = sl__buf_append(out, subj, strlen(subj));
    if (st == SL_OK)
        st = sl__buf_append(out, "\tschema\t", 8);
    if (st == SL_OK)
        st = sl__buf_append(out, ddl, strlen(ddl));
    if (st == SL_OK)
        st = sl__buf_append(out, "\n", 1);
    sl_free(ddl);
    if (st == SL_OK && s->parse_mode)
        st = fp_add(out, subj, "parse mode", "%s", s->parse_mode);
    return st;
}

static sl_status fp_stream(sl__buf *out, const sl_dstream *s,
                           sl_dstream *const *all, size_t n)
{
    char subj[160], parents[512] = "", p[160];
    size_t i, used = 0;
    sl_status st;
    label(s, all, n, subj, sizeof subj);
    for (i = 0; i < s->nparents; i++) {
        label(s->parents[i], all, n, p, sizeof p);
        used += (size_t)snprintf(parents + used, sizeof parents - used, "%s%s",
                                 i ? ", " : "", p);
        if (used >= sizeof parents)
            return SL_ERANGE;
    }
    st = fp_add(out, subj, "kind", "%s", kind_names[s->kind]);
    if (st == SL_OK && s->planned)
        st = fp_add(out, subj, "source type", "%s", s->planned->name);
    if (st == SL_OK && s->nparents)
        st = fp_add(out, subj, "input", "%s", parents);
    /* A source's slide is the batch interval, named once for the job. */
    if (st == SL_OK && s->slide_ms && s->nparents)
        st = fp_add(out, subj, "slide", "%lld ms", (long long)s->slide_ms);
    if (st == SL_OK && s->window_ms)
        st = fp_add(out, subj, "window", "%lld ms", (long long)s->window_ms);
    if (st == SL_OK && s->kind == DS_REDUCED_WINDOW)
        st = fp_add(out, subj, "inverse", "%s", s->inverse ? "yes" : "no");
    if (st == SL_OK && s->partitions)
        st = fp_add(out, subj, "partitions", "%zu", s->partitions);
    if (st == SL_OK && s->timeout_ms)
        st = fp_add(out, subj, "timeout", "%lld ms", (long long)s->timeout_ms);
    if (st == SL_OK && s->params)
        st = fp_add(out, subj, "parameters", "%s", s->params);
    if (st == SL_OK && s->schema)
        st = fp_schema(out, subj, s);
    return st;
}

sl_status sl__fingerprint_build(sl_context *ctx, sl__buf *out)
{
    sl_dstream **all, *s;
    size_t n = 0, i;
    sl_status st;
    for (s = ctx->streams; s; s = s->next_in_ctx)
        n++;
    if (!(all = sl_malloc((n + 1) * sizeof *all)))
        return SL_ENOMEM;
    i = n; /* ctx->streams is newest first: fill from the end */
    for (s = ctx->streams; s; s = s->next_in_ctx)
        all[--i] = s;
    st = sl__buf_append(out, FP_HEADER, strlen(FP_HEADER));
    if (st == SL_OK)
        st = fp_add(out, "job", "batch interval", "%lld ms",
                    (long long)ctx->interval_ms);
    if (st == SL_OK)
        st = fp_add(out, "job", "state shards", "%lld",
                    (long long)sl__conf_int(ctx->conf, "state.shards"));
    for (i = 0; i < n && st == SL_OK; i++)
        st = fp_stream(out, all[i], all, n);
    sl_free(all);
    return st;
}

/* One fact of a fingerprint text, pointing into it. */
typedef struct fact {
    const char *subj, *field, *value;
    size_t lsubj, lfield, lvalue;
} fact;

/* The next fact from *p (NULL at the end or on a malformed line). */
static bool next_fact(const char **p, const char *end, fact *f)
{
    const char *nl, *t1, *t2;
    if (*p >= end || !(nl = memchr(*p, '\n', (size_t)(end - *p))))
        return false;
    t1 = memchr(*p, '\t', (size_t)(nl - *p));
    t2 = t1 ? memchr(t1 + 1, '\t', (size_t)(nl - t1 - 1)) : NULL;
    if (!t2)
        return false;
    f->subj = *p;
    f->lsubj = (size_t)(t1 - *p);
    f->field = t1 + 1;
    f->lfield = (size_t)(t2 - t1 - 1);
    f->value = t2 + 1;
    f->lvalue = (size_t)(nl - t2 - 1);
    *p = nl + 1;
    return true;
}

static bool same(const char *a, size_t la, const char *b, size_t lb)
{
    return la == lb && memcmp(a, b, la) == 0;
}

/* The fact of text with subject and field; the kind when field is NULL
 * matches "kind". */
static bool find_fact(const char *text, size_t len, const char *subj,
                      size_t lsubj, const char *field, size_t lfield, fact *out)
{
    const char *p = text, *end = text + len;
    p = memchr(p, '\n', len);
    if (!p)
        return false;
    p++;
    while (next_fact(&p, end, out))
        if (same(out->subj, out->lsubj, subj, lsubj) &&
            same(out->field, out->lfield, field, lfield))
            return true;
    return false;
}

typedef struct diff_out {
    char *msg;
    size_t cap, used;
    size_t count;
} diff_out;

static void say(diff_out *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void say(diff_out *d, const char *fmt, ...)
{
    va_list ap;
    int n;
    if (d->count++ && d->used + 2 < d->cap) {
        memcpy(d->msg + d->used, "; ", 3);
        d->used += 2;
    }
    if (d->used >= d->cap)
        return;
    va_start(ap, fmt);
    n = vsnprintf(d->msg + d->used, d->cap - d->used, fmt, ap);
    va_end(ap);
    if (n > 0)
        d->used +=
            (size_t)n < d->cap - d->used ? (size_t)n : d->cap - d->used - 1;
}

/* "stream 'x' (kind) " or "" for the job; kind from text when known. */
static void subject_text(const fact *f, const char *text, size_t len, char *buf,
                         size_t n)
{
    fact k;
    if (same(f->subj, f->lsubj, "job", 3)) {
        *buf = '\0';
        return;
    }
    if (find_fact(text, len, f->subj, f->lsubj, "kind", 4, &k))
        snprintf(buf, n, "%.*s (%.*s) ", (int)f->lsubj, f->subj, (int)k.lvalue,
                 k.value);
    else
        snprintf(buf, n, "%.*s ", (int)f->lsubj, f->subj);
}

/* Facts of a that b lacks or has with another value. */
static void diff_one_way(const char *a, size_t la, const char *b, size_t lb,
                         bool a_is_old, diff_out *d)
{
    const char *p = memchr(a, '\n', la), *end = a + la;
    fact f, g;
    char subj[256];
    if (!p)
        return;
    for (p++; next_fact(&p, end, &f);) {
        bool has_subject = find_fact(b, lb, f.subj, f.lsubj, "kind", 4, &g) ||
                           same(f.subj, f.lsubj, "job", 3);
        subject_text(&f, a, la, subj, sizeof subj);
        if (!has_subject) {
            if (same(f.field, f.lfield, "kind", 4))
                say(d, "%s%s", subj,
                    a_is_old ? "is no longer in the job" : "is new");
            continue;
        }
        if (find_fact(b, lb, f.subj, f.lsubj, f.field, f.lfield, &g)) {
            if (a_is_old && !same(f.value, f.lvalue, g.value, g.lvalue))
                say(d, "%s%.*s changed from %.*s to %.*s", subj, (int)f.lfield,
                    f.field, (int)f.lvalue, f.value, (int)g.lvalue, g.value);
            continue;
        }
        say(d, "%s%.*s %s (%.*s)", subj, (int)f.lfield, f.field,
            a_is_old ? "was removed" : "was added", (int)f.lvalue, f.value);
    }
}

size_t sl__fingerprint_diff(const char *old, size_t lold, const char *cur,
                            size_t lcur, char *msg, size_t n)
{
    diff_out d = {msg, n, 0, 0};
    if (n)
        *msg = '\0';
    if (lold < strlen(FP_HEADER) || memcmp(old, FP_HEADER, strlen(FP_HEADER))) {
        say(&d, "the checkpoint's configuration record is not one this "
                "build reads");
        return d.count;
    }
    diff_one_way(old, lold, cur, lcur, true, &d);
    diff_one_way(cur, lcur, old, lold, false, &d);
    return d.count;
}
