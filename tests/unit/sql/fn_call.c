/* Calling scalar functions as the compiler does (fn_call.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/schema.h"
#include "fn_call.h"

static sl__arena g_arena;
static bool g_init;
static char g_type[128];

static sl__arena *arena(void)
{
    if (!g_init) {
        sl__arena_init(&g_arena, 4096);
        g_init = true;
    }
    return &g_arena;
}

void sqlfn_reset(void)
{
    if (g_init)
        sl__arena_free(&g_arena);
    g_init = false;
}

static const char *dup(sl__arena *a, const char *s, size_t n)
{
    char *p = sl__arena_alloc(a, n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

static void list_value(const char *text, sl_type_id el, sl__arena *a,
                       const sl_type **t, sl_value *v)
{
    size_t n = *text ? 1 : 0, k = 0;
    for (const char *p = text; *p; p++)
        n += *p == '|';
    sl_value *items = sl__arena_alloc(a, (n ? n : 1) * sizeof *items);
    const char *p = text;
    for (; k < n; k++) {
        const char *e = strchr(p, '|');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        items[k] =
            el == SL_TYPE_LONG ? sl_int(atoll(p)) : sl_str(dup(a, p, len), len);
        p += len + (e != NULL);
    }
    *t = sl__type_array(a, sl_type_scalar(el));
    *v = sl_composite(SL_KIND_LIST, items, n);
}

void sqlfn_value(const char *spec, sl__arena *a, const sl_type **t, sl_value *v)
{
    const char *colon = strchr(spec, ':');
    const char *text = colon ? colon + 1 : "";
    size_t tl = colon ? (size_t)(colon - spec) : strlen(spec);
    int64_t ms = 0;
    *v = sl_null();
    *t = sl_type_scalar(SL_TYPE_NULL);
    if (!strncmp(spec, "ns", tl) && tl == 2)
        *t = sl_type_scalar(SL_TYPE_STRING);
    else if (!strncmp(spec, "nl", tl) && tl == 2)
        *t = sl_type_scalar(SL_TYPE_LONG);
    else if (!strncmp(spec, "nt", tl) && tl == 2)
        *t = sl_type_scalar(SL_TYPE_TIMESTAMP);
    else if (!strncmp(spec, "as", tl) && tl == 2)
        list_value(text, SL_TYPE_STRING, a, t, v);
    else if (!strncmp(spec, "al", tl) && tl == 2)
        list_value(text, SL_TYPE_LONG, a, t, v);
    else if (tl != 1)
        return; /* "null" */
    else if (spec[0] == 's')
        *t = sl_type_scalar(SL_TYPE_STRING),
        *v = sl_str(dup(a, text, strlen(text)), strlen(text));
    else if (spec[0] == 'x')
        *t = sl_type_scalar(SL_TYPE_BINARY),
        *v = sl_bytes(dup(a, text, strlen(text)), strlen(text));
    else if (spec[0] == 'l')
        *t = sl_type_scalar(SL_TYPE_LONG), *v = sl_int(strtoll(text, 0, 10));
    else if (spec[0] == 'd')
        *t = sl_type_scalar(SL_TYPE_DOUBLE), *v = sl_double(strtod(text, 0));
    else if (spec[0] == 'b')
        *t = sl_type_scalar(SL_TYPE_BOOLEAN),
        *v = sl_bool(!strcmp(text, "true"));
    else if (spec[0] == 't' && sl__ts_parse(text, strlen(text), &ms))
        *t = sl_type_scalar(SL_TYPE_TIMESTAMP), *v = sl_int(ms);
}

const char *sqlfn_text(const sl_type *t, const sl_value *v, sl__arena *a)
{
    sl__buf b = {0};
    sl_value s;
    if (v->kind == SL_KIND_NULL)
        return "NULL";
    if (t->id == SL_TYPE_ARRAY || t->id == SL_TYPE_STRUCT) {
        sl__json_put_typed(&b, t, v);
        const char *r = dup(a, b.data, b.len);
        sl__buf_free(&b);
        return r;
    }
    sl__sql_cast(v, t, sl_type_scalar(SL_TYPE_STRING), a, &s);
    return s.kind == SL_KIND_STR ? dup(a, s.u.s, s.len) : "(not text)";
}

static const char *fail(sl__arena *a, const char *what, const char *why)
{
    char *p = sl__arena_alloc(a, 400);
    snprintf(p, 400, "%s: %s", what, why ? why : "(no reason)");
    return p;
}

const char *sqlfn_call(const char *name, ...)
{
    sl__arena *a = arena();
    const sl_type *types[8], *want[8];
    sl_value vals[8], cast[8];
    const sl_value *consts[8];
    size_t n = 0;
    va_list ap;
    va_start(ap, name);
    for (const char *spec; n < 8 && (spec = va_arg(ap, const char *)); n++) {
        bool var = spec[0] == '~';
        sqlfn_value(spec + var, a, &types[n], &vals[n]);
        want[n] = types[n];
        consts[n] = var ? NULL : &vals[n];
    }
    va_end(ap);
    const sl__sql_func *f = sl__sql_func_find(name);
    const char *why = NULL;
    void *state = NULL;
    if (!f)
        return "no such function";
    if (n < f->min_args || n > f->max_args)
        return "wrong number of arguments";
    const sl_type *rt = f->bind(types, n, want, a, &why);
    if (!rt)
        return fail(a, "bind error", why);
    sl_type_format(rt, g_type, sizeof g_type);
    bool any_null = false;
    for (size_t i = 0; i < n; i++) {
        if (sl__sql_cast(&vals[i], types[i], want[i], a, &cast[i]) != SL_OK)
            return "cast: out of memory";
        any_null |= cast[i].kind == SL_KIND_NULL;
        if (consts[i])
            consts[i] = &cast[i];
    }
    if (f->prepare && f->prepare(consts, n, a, &state, &why) != SL_OK)
        return fail(a, "prepare error", why);
    sl_value out = sl_null();
    if (!(f->null_in_null_out && any_null) &&
        f->eval(state, cast, n, rt, a, &out) != SL_OK)
        return "eval: out of memory";
    return sqlfn_text(rt, &out, a);
}

const char *sqlfn_type(void)
{
    return g_type;
}
