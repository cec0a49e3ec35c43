/*
 * The Kafka source's offsets JSON (docs/checkpoint-format.md, "Kafka"):
 * per topic and partition the range a batch reads, [start, end), and the
 * lag left when it was planned. Parsed and printed here alone so that the
 * round trip and bad input are unit-tested.
 */
#include "kafka/kafka_src_int.h"
#include "core/core.h"
#include "core/records.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

sl_status sl__koffs_add(sl__koffs *o, const char *topic, int32_t partition,
                        int64_t start, int64_t end, int64_t lag)
{
    sl__koff *k;
    if (o->n == o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 16;
        sl__koff *v = sl_realloc(o->v, cap * sizeof *v);
        if (!v)
            return SL_ENOMEM;
        o->v = v;
        o->cap = cap;
    }
    k = &o->v[o->n];
    if (!(k->topic = sl__strdup(topic)))
        return SL_ENOMEM;
    k->partition = partition;
    k->start = start;
    k->end = end;
    k->lag = lag;
    o->n++;
    return SL_OK;
}

sl__koff *sl__koffs_find(const sl__koffs *o, const char *topic,
                         int32_t partition)
{
    size_t i;
    for (i = 0; i < o->n; i++)
        if (o->v[i].partition == partition && !strcmp(o->v[i].topic, topic))
            return &o->v[i];
    return NULL;
}

void sl__koffs_free(sl__koffs *o)
{
    size_t i;
    if (!o)
        return;
    for (i = 0; i < o->n; i++)
        sl_free(o->v[i].topic);
    sl_free(o->v);
    o->v = NULL;
    o->n = o->cap = 0;
}

/* A partition key: a decimal int32 without sign or leading zeros. */
static bool partition_of(const char *s, int32_t *out)
{
    char *end;
    long v;
    if (!*s || (s[0] == '0' && s[1]) || s[0] < '0' || s[0] > '9')
        return false;
    v = strtol(s, &end, 10);
    if (*end || v > INT32_MAX)
        return false;
    *out = (int32_t)v;
    return true;
}

/* An offset: a whole JSON number, 0 <= n < 2^53 (exact in a double). */
static bool offset_of(const cJSON *j, int64_t *out)
{
    double d;
    if (!cJSON_IsNumber(j))
        return false;
    d = j->valuedouble;
    if (d < 0 || d > 9007199254740992.0 || d != (double)(int64_t)d)
        return false;
    *out = (int64_t)d;
    return true;
}

/* which: 0 end, 1 start, 2 lag, from member obj of root. */
static sl_status read_map(const cJSON *obj, const char *name, int which,
                          sl__koffs *out, char *err, size_t errlen)
{
    const cJSON *t, *p;
    if (!cJSON_IsObject(obj))
        return sl__errbuf(err, errlen, SL_EPARSE, "\"%s\" is not an object",
                          name);
    for (t = obj->child; t; t = t->next) {
        if (!cJSON_IsObject(t))
            return sl__errbuf(err, errlen, SL_EPARSE,
                              "\"%s\".\"%s\" is not an object", name,
                              t->string);
        for (p = t->child; p; p = p->next) {
            int32_t part;
            int64_t off;
            sl__koff *k;
            if (!partition_of(p->string, &part))
                return sl__errbuf(err, errlen, SL_EPARSE,
                                  "\"%s\".\"%s\": partition \"%s\" is not a "
                                  "partition number",
                                  name, t->string, p->string);
            if (!offset_of(p, &off))
                return sl__errbuf(err, errlen, SL_EPARSE,
                                  "\"%s\".\"%s\".\"%s\": not an offset (a "
                                  "whole number >= 0)",
                                  name, t->string, p->string);
            k = sl__koffs_find(out, t->string, part);
            if (which == 0) {
                if (k)
                    return sl__errbuf(err, errlen, SL_EPARSE,
                                      "\"end\".\"%s\".\"%s\" given twice",
                                      t->string, p->string);
                if (sl__koffs_add(out, t->string, part, off, off, -1) != SL_OK)
                    return SL_ENOMEM;
                continue;
            }
            if (!k)
                return sl__errbuf(err, errlen, SL_EPARSE,
                                  "\"%s\".\"%s\".\"%s\" has no \"end\"", name,
                                  t->string, p->string);
            if (which == 1 && off > k->end)
                return sl__errbuf(err, errlen, SL_EPARSE,
                                  "\"%s\".\"%s\": start %lld after end %lld",
                                  t->string, p->string, (long long)off,
                                  (long long)k->end);
            if (which == 1)
                k->start = off;
            else
                k->lag = off;
        }
    }
    return SL_OK;
}

sl_status sl__koffs_parse(const char *json, sl__koffs *out, char *err,
                          size_t errlen)
{
    static const char *const names[] = {"end", "start", "lag"};
    cJSON *root;
    sl_status st = SL_OK;
    int i;

    sl__koffs_free(out);
    if (!json || !(root = sl__json_parse(json, strlen(json) + 1, NULL, true)))
        return sl__errbuf(err, errlen, SL_EPARSE, "not JSON");
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return sl__errbuf(err, errlen, SL_EPARSE, "not a JSON object");
    }
    for (i = 0; i < 3 && st == SL_OK; i++) {
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(root, names[i]);
        if (!m && i == 0)
            st = sl__errbuf(err, errlen, SL_EPARSE, "no \"end\" member");
        else if (m)
            st = read_map(m, names[i], i, out, err, errlen);
    }
    cJSON_Delete(root);
    if (st != SL_OK)
        sl__koffs_free(out);
    return st;
}

/* Growing text buffer. */
typedef struct tbuf {
    char *b;
    size_t len, cap;
    bool oom;
} tbuf;

static void put(tbuf *t, const char *s, size_t n)
{
    if (t->oom)
        return;
    if (t->len + n + 1 > t->cap) {
        size_t cap = (t->len + n + 1) * 2;
        char *b = sl_realloc(t->b, cap);
        if (!b) {
            t->oom = true;
            return;
        }
        t->b = b;
        t->cap = cap;
    }
    memcpy(t->b + t->len, s, n);
    t->len += n;
    t->b[t->len] = '\0';
}

static void puts_(tbuf *t, const char *s)
{
    put(t, s, strlen(s));
}

/* One map ("start", "end" or "lag"): topics in first-seen order. */
static void print_map(tbuf *t, const sl__koffs *o, int which)
{
    size_t i, j;
    char num[48];
    bool first_topic = true;
    puts_(t, "{");
    for (i = 0; i < o->n; i++) {
        bool seen = false, first = true;
        sl_value v;
        size_t n;
        char *q;
        for (j = 0; j < i && !seen; j++)
            seen = !strcmp(o->v[j].topic, o->v[i].topic);
        if (seen)
            continue;
        if (!first_topic)
            puts_(t, ",");
        first_topic = false;
        v = sl_cstr(o->v[i].topic);
        n = sl_value_format_json(&v, NULL, 0);
        if (!(q = sl_malloc(n + 1))) {
            t->oom = true;
            return;
        }
        sl_value_format_json(&v, q, n + 1);
        put(t, q, n);
        sl_free(q);
        puts_(t, ":{");
        for (j = i; j < o->n; j++) {
            const sl__koff *k = &o->v[j];
            int64_t x = which == 0 ? k->end : which == 1 ? k->start : k->lag;
            if (strcmp(k->topic, o->v[i].topic) || (which == 2 && x < 0))
                continue;
            snprintf(num, sizeof num, "%s\"%d\":%lld", first ? "" : ",",
                     (int)k->partition, (long long)x);
            puts_(t, num);
            first = false;
        }
        puts_(t, "}");
    }
    puts_(t, "}");
}

char *sl__koffs_print(const sl__koffs *o)
{
    tbuf t = {NULL, 0, 0, false};
    puts_(&t, "{\"start\":");
    print_map(&t, o, 1);
    puts_(&t, ",\"end\":");
    print_map(&t, o, 0);
    puts_(&t, ",\"lag\":");
    print_map(&t, o, 2);
    puts_(&t, "}");
    if (t.oom) {
        sl_free(t.b);
        return NULL;
    }
    return t.b;
}
