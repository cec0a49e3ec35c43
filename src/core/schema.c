/*
 * Schemas of the structured layer (include/sluice/schema.h): the scalar
 * type constants, type formatting and equality, the reference-counted
 * immutable schema and its builder, composite types in arenas, and the
 * DDL grammar of Spark's StructType.fromDDL (docs/sql.md "Types").
 */
#include "core/schema.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Composite types nest at most this deep in DDL text, so that a hostile
 * "array<array<..." cannot exhaust the parser's stack. */
#define TYPE_MAX_DEPTH 100

struct sl_schema {
    atomic_size_t refs; /* shared across threads: atomic */
    size_t n, cap;
    const char **names;    /* NUL-terminated copies in arena */
    const sl_type **types; /* scalars are the constants; others in arena */
    sl__arena arena;       /* names, composite types, field-schema refs */
};

struct sl__schema_builder {
    sl_schema *s;
    bool duplicates; /* a name may come twice */
    char err[256];
};

static const sl_type SCALARS[] = {
    {SL_TYPE_NULL, NULL, NULL},      {SL_TYPE_BOOLEAN, NULL, NULL},
    {SL_TYPE_LONG, NULL, NULL},      {SL_TYPE_DOUBLE, NULL, NULL},
    {SL_TYPE_STRING, NULL, NULL},    {SL_TYPE_BINARY, NULL, NULL},
    {SL_TYPE_TIMESTAMP, NULL, NULL},
};

const sl_type *sl_type_scalar(sl_type_id id)
{
    if ((size_t)id >= sizeof SCALARS / sizeof SCALARS[0])
        return NULL;
    return &SCALARS[id];
}

/* ------------------------------------------------------ format, equal */

/* The DDL names the formatter writes ("void" is Spark's NullType). */
static const char *const TYPE_NAMES[] = {
    "void",   "boolean",   "long",  "double", "string",
    "binary", "timestamp", "array", "struct",
};

typedef struct fmt_out {
    char *buf;
    size_t cap, len;
} fmt_out;

static void fmt_put(fmt_out *o, const char *s, size_t n)
{
    if (o->len < o->cap) {
        size_t room = o->cap - o->len;
        memcpy(o->buf + o->len, s, n < room ? n : room);
    }
    o->len += n;
}

static void fmt_str(fmt_out *o, const char *s)
{
    fmt_put(o, s, strlen(s));
}

static bool ident_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '_';
}

/* A name the DDL reader takes bare: letters, digits and '_', not starting
 * with a digit (which Spark's lexer could read as a number). */
static bool name_is_bare(const char *s)
{
    const char *p;
    if (!*s || (*s >= '0' && *s <= '9'))
        return false;
    for (p = s; *p; p++)
        if (!ident_char((unsigned char)*p))
            return false;
    return true;
}

static void fmt_name(fmt_out *o, const char *s)
{
    const char *p;
    if (name_is_bare(s)) {
        fmt_str(o, s);
        return;
    }
    fmt_put(o, "`", 1);
    for (p = s; *p; p++) {
        fmt_put(o, p, 1);
        if (*p == '`') /* a backquote is written twice inside quotes */
            fmt_put(o, "`", 1);
    }
    fmt_put(o, "`", 1);
}

static void fmt_type(fmt_out *o, const sl_type *t)
{
    size_t i, n;
    if ((size_t)t->id >= sizeof TYPE_NAMES / sizeof TYPE_NAMES[0]) {
        fmt_str(o, "unknown");
        return;
    }
    fmt_str(o, TYPE_NAMES[t->id]);
    if (t->id == SL_TYPE_ARRAY) {
        fmt_put(o, "<", 1);
        fmt_type(o, t->element);
        fmt_put(o, ">", 1);
    } else if (t->id == SL_TYPE_STRUCT) {
        fmt_put(o, "<", 1);
        n = sl_schema_size(t->fields);
        for (i = 0; i < n; i++) {
            if (i)
                fmt_put(o, ",", 1);
            fmt_name(o, t->fields->names[i]);
            fmt_put(o, ":", 1);
            fmt_type(o, t->fields->types[i]);
        }
        fmt_put(o, ">", 1);
    }
}

size_t sl_type_format(const sl_type *t, char *buf, size_t n)
{
    fmt_out o = {buf, n, 0};
    if (!t) {
        if (n)
            buf[0] = '\0';
        return 0;
    }
    fmt_type(&o, t);
    if (n)
        buf[o.len < n ? o.len : n - 1] = '\0';
    return o.len;
}

bool sl_type_equal(const sl_type *a, const sl_type *b)
{
    size_t i;
    if (a == b)
        return true;
    if (!a || !b || a->id != b->id)
        return false;
    if (a->id == SL_TYPE_ARRAY)
        return sl_type_equal(a->element, b->element);
    if (a->id != SL_TYPE_STRUCT)
        return true;
    if (a->fields == b->fields)
        return true;
    if (sl_schema_size(a->fields) != sl_schema_size(b->fields))
        return false;
    /* Field names compare exactly, as Spark's StructType equality. */
    for (i = 0; i < a->fields->n; i++)
        if (strcmp(a->fields->names[i], b->fields->names[i]) != 0 ||
            !sl_type_equal(a->fields->types[i], b->fields->types[i]))
            return false;
    return true;
}

/* ------------------------------------------------------------ schemas */

sl_schema *sl_schema_retain(const sl_schema *s)
{
    sl_schema *m = (sl_schema *)s; /* the count is not the schema's value */
    if (m)
        atomic_fetch_add_explicit(&m->refs, 1, memory_order_relaxed);
    return m;
}

void sl_schema_release(const sl_schema *s)
{
    sl_schema *m = (sl_schema *)s;
    if (!m || atomic_fetch_sub_explicit(&m->refs, 1, memory_order_acq_rel) != 1)
        return;
    sl__arena_free(&m->arena);
    sl_free(m->names);
    sl_free(m->types);
    sl_free(m);
}

size_t sl_schema_size(const sl_schema *s)
{
    return s ? s->n : 0;
}

const char *sl_schema_name(const sl_schema *s, size_t i)
{
    return s && i < s->n ? s->names[i] : NULL;
}

const sl_type *sl_schema_type(const sl_schema *s, size_t i)
{
    return s && i < s->n ? s->types[i] : NULL;
}

/* Case-insensitive in ASCII only, as Spark's default resolver compares
 * with equalsIgnoreCase (which also folds non-ASCII letters; sluice does
 * not, documented in docs/sql.md). */
static bool name_eq(const char *a, size_t alen, const char *b)
{
    return strlen(b) == alen && strncasecmp(a, b, alen) == 0;
}

int sl_schema_find(const sl_schema *s, const char *name)
{
    size_t i;
    if (!s || !name)
        return -1;
    for (i = 0; i < s->n; i++)
        if (name_eq(name, strlen(name), s->names[i]))
            return (int)i;
    return -1;
}

char *sl_schema_to_ddl(const sl_schema *s)
{
    fmt_out o = {NULL, 0, 0};
    size_t i, need;
    char *text;
    for (int pass = 0; pass < 2; pass++) {
        for (i = 0; i < sl_schema_size(s); i++) {
            if (i)
                fmt_put(&o, ", ", 2);
            fmt_name(&o, s->names[i]);
            fmt_put(&o, " ", 1);
            fmt_type(&o, s->types[i]);
        }
        if (pass)
            break;
        need = o.len;
        text = sl_malloc(need + 1);
        if (!text)
            return NULL;
        o = (fmt_out){text, need + 1, 0};
    }
    text[o.len] = '\0';
    return text;
}

/* ------------------------------------------------- composite types */

const sl_type *sl__type_array(sl__arena *a, const sl_type *element)
{
    sl_type *t = sl__arena_alloc(a, sizeof *t);
    if (!t)
        return NULL;
    t->id = SL_TYPE_ARRAY;
    t->element = element;
    t->fields = NULL;
    return t;
}

static void release_fields(void *arg)
{
    sl_schema_release(arg);
}

const sl_type *sl__type_struct(sl__arena *a, const sl_schema *fields)
{
    sl_type *t = sl__arena_alloc(a, sizeof *t);
    if (!t || sl__arena_on_cleanup(a, release_fields, (void *)fields) != SL_OK)
        return NULL;
    t->id = SL_TYPE_STRUCT;
    t->element = NULL;
    t->fields = sl_schema_retain(fields);
    return t;
}

/* t copied into a: array nodes are copied; a struct's field schema is
 * immutable and owns its own types, so holding a reference to it is a
 * deep copy in all but memory. */
static const sl_type *type_copy(sl__arena *a, const sl_type *t)
{
    const sl_type *el;
    if (t->id == SL_TYPE_ARRAY) {
        el = type_copy(a, t->element);
        return el ? sl__type_array(a, el) : NULL;
    }
    if (t->id == SL_TYPE_STRUCT)
        return sl__type_struct(a, t->fields);
    return sl_type_scalar(t->id);
}

/* ------------------------------------------------------------ builder */

sl__schema_builder *sl__schema_builder_new(void)
{
    sl__schema_builder *b = sl_malloc(sizeof *b);
    sl_schema *s = sl_malloc(sizeof *s);
    if (!b || !s) {
        sl_free(b);
        sl_free(s);
        return NULL;
    }
    memset(s, 0, sizeof *s);
    atomic_init(&s->refs, 1);
    sl__arena_init(&s->arena, 512);
    b->s = s;
    b->duplicates = false;
    b->err[0] = '\0';
    return b;
}

static sl_status builder_grow(sl_schema *s)
{
    size_t cap = s->cap ? s->cap * 2 : 8;
    const char **names;
    const sl_type **types;
    names = sl_realloc(s->names, cap * sizeof *names);
    if (!names)
        return SL_ENOMEM;
    s->names = names;
    types = sl_realloc(s->types, cap * sizeof *types);
    if (!types)
        return SL_ENOMEM;
    s->types = types;
    s->cap = cap;
    return SL_OK;
}

void sl__schema_builder_allow_duplicates(sl__schema_builder *b)
{
    b->duplicates = true;
}

sl_status sl__schema_builder_add(sl__schema_builder *b, const char *name,
                                 size_t len, const sl_type *type)
{
    sl_schema *s = b->s;
    char *copy;
    const sl_type *t;
    size_t i;
    for (i = 0; i < s->n && !b->duplicates; i++)
        if (name_eq(name, len, s->names[i]))
            return sl__errbuf(b->err, sizeof b->err, SL_EINVAL,
                              "duplicate column \"%.*s\"", (int)len, name);
    if (s->n == s->cap && builder_grow(s) != SL_OK)
        return SL_ENOMEM;
    copy = sl__arena_alloc(&s->arena, len + 1);
    t = type_copy(&s->arena, type);
    if (!copy || !t)
        return SL_ENOMEM;
    memcpy(copy, name, len);
    copy[len] = '\0';
    s->names[s->n] = copy;
    s->types[s->n] = t;
    s->n++;
    return SL_OK;
}

const char *sl__schema_builder_errmsg(const sl__schema_builder *b)
{
    return b->err;
}

sl_schema *sl__schema_builder_finish(sl__schema_builder *b)
{
    sl_schema *s = b->s;
    sl_free(b);
    return s;
}

void sl__schema_builder_free(sl__schema_builder *b)
{
    if (!b)
        return;
    sl_schema_release(b->s);
    sl_free(b);
}

/* ---------------------------------------------------------------- DDL */

typedef struct ddl {
    const char *text; /* the start, for column numbers */
    const char *p;
    const char *prefix; /* "schema: " or "" */
    char *errbuf;
    size_t errlen;
    sl__arena *a; /* types and unquoted names while parsing */
    int depth;
} ddl;

static void skip_ws(ddl *d)
{
    while (sl__is_space((unsigned char)*d->p))
        d->p++;
}

static sl_status perr(ddl *d, const char *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The message with the prefix and the 1-based column of at. */
static sl_status perr(ddl *d, const char *at, const char *fmt, ...)
{
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return sl__errbuf(d->errbuf, d->errlen, SL_EPARSE, "%scolumn %zu: %s",
                      d->prefix, (size_t)(at - d->text) + 1, msg);
}

/* What stands at p, for messages: a word, one character, or the end. */
static const char *token_at(const char *p, char *buf, size_t n)
{
    size_t k = 0;
    if (!*p)
        return "end of text";
    while (ident_char((unsigned char)p[k]) && k + 3 < n)
        k++;
    if (k == 0)
        k = 1;
    snprintf(buf, n, "\"%.*s\"", (int)k, p);
    return buf;
}

static sl_status expected(ddl *d, const char *what)
{
    char tok[40];
    return perr(d, d->p, "expected %s, found %s", what,
                token_at(d->p, tok, sizeof tok));
}

/* A backquoted name (`` is one backquote) copied into the arena. */
static sl_status read_quoted(ddl *d, const char **name, size_t *len)
{
    const char *start = d->p, *p = d->p + 1;
    char *out = sl__arena_alloc(d->a, strlen(p) + 1);
    size_t n = 0;
    if (!out)
        return SL_ENOMEM;
    for (;; p++) {
        if (!*p)
            return perr(d, start, "unclosed \"`\" in a column name");
        if (*p == '`' && p[1] != '`')
            break;
        if (*p == '`')
            p++;
        out[n++] = *p;
    }
    d->p = p + 1;
    if (n == 0)
        return perr(d, start, "empty column name");
    *name = out;
    *len = n;
    return SL_OK;
}

static sl_status read_name(ddl *d, const char **name, size_t *len)
{
    const char *p = d->p;
    if (*p == '`')
        return read_quoted(d, name, len);
    while (ident_char((unsigned char)*p))
        p++;
    if (p == d->p)
        return expected(d, "a column name");
    *name = d->p;
    *len = (size_t)(p - d->p);
    d->p = p;
    return SL_OK;
}

static sl_status parse_type(ddl *d, const sl_type **out);

/* Field or column list up to close ('>' of a struct, or the end of the
 * text at the top level: close == 0), into the builder. */
static sl_status parse_columns(ddl *d, sl__schema_builder *b, char close,
                               const char *open)
{
    const char *name = NULL, *at;
    const sl_type *t;
    size_t len = 0;
    sl_status st;
    for (;;) {
        skip_ws(d);
        if (*d->p == close && sl_schema_size(b->s) == 0)
            return SL_OK; /* struct<> and "" are empty, as Spark's */
        if (close && !*d->p)
            return perr(d, open, "unclosed \"<\" (expected \">\")");
        at = d->p;
        if ((st = read_name(d, &name, &len)) != SL_OK)
            return st;
        skip_ws(d);
        if (close && *d->p == ':') { /* struct<a: T> and struct<a T> */
            d->p++;
            skip_ws(d);
        }
        if ((st = parse_type(d, &t)) != SL_OK)
            return st;
        st = sl__schema_builder_add(b, name, len, t);
        if (st == SL_EINVAL)
            return perr(d, at, "%s", sl__schema_builder_errmsg(b));
        if (st != SL_OK)
            return st;
        skip_ws(d);
        if (*d->p == close)
            return SL_OK;
        if (close && !*d->p)
            return perr(d, open, "unclosed \"<\" (expected \">\")");
        if (*d->p != ',')
            return expected(d, close ? "\",\" or \">\"" : "\",\"");
        at = d->p++;
        skip_ws(d);
        if (*d->p == close)
            return perr(d, at, "trailing \",\"");
    }
}

/* The parameters of varchar(n), char(n) and decimal(p[,s]): a list of
 * min to max numbers in parentheses (none at all when min is 0). */
static sl_status parse_params(ddl *d, const char *word, int min, int max)
{
    int count = 0;
    skip_ws(d);
    if (*d->p != '(') {
        if (min == 0)
            return SL_OK;
        return perr(d, d->p, "%s needs a length: %s(n)", word, word);
    }
    d->p++;
    for (;;) {
        skip_ws(d);
        if (*d->p < '0' || *d->p > '9')
            return expected(d, "a number");
        while (*d->p >= '0' && *d->p <= '9')
            d->p++;
        count++;
        skip_ws(d);
        if (*d->p == ',' && count < max) {
            d->p++;
            continue;
        }
        if (*d->p != ')')
            return expected(d, count < max ? "\",\" or \")\"" : "\")\"");
        d->p++;
        return SL_OK;
    }
}

typedef struct type_name {
    const char *name;
    sl_type_id id;
    int min_params, max_params;
} type_name;

/* Spark 3.5's primitive type names (SqlBaseParser primitiveDataType).
 * Every integer width is long and every fraction (float, decimal) is a
 * double: sluice has one integer and one fraction type, and no DECIMAL
 * (decimal(p,s) is read as double with no error, docs/sql.md). */
static const type_name TYPE_WORDS[] = {
    {"boolean", SL_TYPE_BOOLEAN, 0, 0},     {"long", SL_TYPE_LONG, 0, 0},
    {"bigint", SL_TYPE_LONG, 0, 0},         {"int", SL_TYPE_LONG, 0, 0},
    {"integer", SL_TYPE_LONG, 0, 0},        {"smallint", SL_TYPE_LONG, 0, 0},
    {"short", SL_TYPE_LONG, 0, 0},          {"tinyint", SL_TYPE_LONG, 0, 0},
    {"byte", SL_TYPE_LONG, 0, 0},           {"double", SL_TYPE_DOUBLE, 0, 0},
    {"float", SL_TYPE_DOUBLE, 0, 0},        {"real", SL_TYPE_DOUBLE, 0, 0},
    {"decimal", SL_TYPE_DOUBLE, 0, 2},      {"dec", SL_TYPE_DOUBLE, 0, 2},
    {"numeric", SL_TYPE_DOUBLE, 0, 2},      {"string", SL_TYPE_STRING, 0, 0},
    {"varchar", SL_TYPE_STRING, 1, 1},      {"char", SL_TYPE_STRING, 1, 1},
    {"character", SL_TYPE_STRING, 1, 1},    {"binary", SL_TYPE_BINARY, 0, 0},
    {"timestamp", SL_TYPE_TIMESTAMP, 0, 0}, {"array", SL_TYPE_ARRAY, 0, 0},
    {"struct", SL_TYPE_STRUCT, 0, 0},
};

static const type_name *lookup_type(const char *w, size_t n)
{
    size_t i;
    for (i = 0; i < sizeof TYPE_WORDS / sizeof TYPE_WORDS[0]; i++)
        if (name_eq(w, n, TYPE_WORDS[i].name))
            return &TYPE_WORDS[i];
    return NULL;
}

static sl_status parse_struct(ddl *d, const char *open, const sl_type **out)
{
    sl__schema_builder *b = sl__schema_builder_new();
    sl_schema *fields;
    sl_status st;
    if (!b)
        return SL_ENOMEM;
    st = parse_columns(d, b, '>', open);
    if (st != SL_OK) {
        sl__schema_builder_free(b);
        return st;
    }
    d->p++; /* the '>' */
    fields = sl__schema_builder_finish(b);
    *out = sl__type_struct(d->a, fields);
    sl_schema_release(fields);
    return *out ? SL_OK : SL_ENOMEM;
}

static sl_status parse_composite(ddl *d, sl_type_id id, const sl_type **out)
{
    const char *open;
    const sl_type *el;
    sl_status st;
    skip_ws(d);
    if (*d->p != '<')
        return expected(d, id == SL_TYPE_ARRAY ? "\"<\" after array"
                                               : "\"<\" after struct");
    open = d->p++;
    if (id == SL_TYPE_STRUCT)
        return parse_struct(d, open, out);
    skip_ws(d);
    if ((st = parse_type(d, &el)) != SL_OK)
        return st;
    skip_ws(d);
    if (!*d->p)
        return perr(d, open, "unclosed \"<\" (expected \">\")");
    if (*d->p != '>')
        return expected(d, "\">\"");
    d->p++;
    *out = sl__type_array(d->a, el);
    return *out ? SL_OK : SL_ENOMEM;
}

static sl_status parse_type(ddl *d, const sl_type **out)
{
    const char *w = d->p;
    const type_name *tn;
    sl_status st;
    while (ident_char((unsigned char)*d->p))
        d->p++;
    if (d->p == w)
        return expected(d, "a type");
    tn = lookup_type(w, (size_t)(d->p - w));
    if (!tn)
        return perr(d, w, "unknown type \"%.*s\"", (int)(d->p - w), w);
    if (tn->id == SL_TYPE_ARRAY || tn->id == SL_TYPE_STRUCT) {
        if (++d->depth > TYPE_MAX_DEPTH)
            return perr(d, w, "types nest deeper than %d", TYPE_MAX_DEPTH);
        st = parse_composite(d, tn->id, out);
        d->depth--;
        return st;
    }
    if (tn->max_params) {
        st = parse_params(d, tn->name, tn->min_params, tn->max_params);
        if (st != SL_OK)
            return st;
    }
    *out = sl_type_scalar(tn->id);
    return SL_OK;
}

sl_status sl__type_parse(const char *text, sl__arena *a, const sl_type **out,
                         size_t *consumed, char *errbuf, size_t errlen)
{
    ddl d = {text, text, "", errbuf, errlen, a, 0};
    sl_status st;
    skip_ws(&d);
    st = parse_type(&d, out);
    if (st != SL_OK)
        return st;
    skip_ws(&d);
    *consumed = (size_t)(d.p - text);
    return SL_OK;
}

sl_status sl_schema_parse(const char *ddl_text, sl_schema **out, char *errbuf,
                          size_t errlen)
{
    sl__arena tmp;
    sl__schema_builder *b;
    ddl d = {ddl_text, ddl_text, "schema: ", errbuf, errlen, &tmp, 0};
    sl_status st;
    if (!ddl_text || !out)
        return sl__errbuf(errbuf, errlen, SL_EINVAL, "schema: no text");
    b = sl__schema_builder_new();
    if (!b)
        return SL_ENOMEM;
    /* Types are parsed into a scratch arena and copied into the schema by
     * the builder, so a failed parse leaves nothing behind. */
    sl__arena_init(&tmp, 1024);
    st = parse_columns(&d, b, '\0', NULL);
    if (st == SL_OK) {
        *out = sl__schema_builder_finish(b);
        b = NULL;
    }
    sl__schema_builder_free(b);
    sl__arena_free(&tmp);
    if (st == SL_ENOMEM)
        return sl__errbuf(errbuf, errlen, st, "schema: out of memory");
    return st;
}
