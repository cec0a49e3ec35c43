/*
 * Record formats (lines, JSON lines, CSV) shared by the text sources: one
 * line in, one record out, or a reason why the line is malformed; and the
 * streamed line splitter. The dead-letter file malformed lines go to is
 * dead_letters.c. See records.h for the contract and
 * docs/programming-guide.md ("Record formats") for the rules.
 */
#include "core/records.h"

#include <cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

/* The deepest JSON line accepted (cJSON itself allows 1000 levels). */
#define JSON_MAX_DEPTH 64
/* Integers below 2^53 in magnitude are exact as doubles, so a number cJSON
 * parsed (always as a double) is an exact int only below that. */
#define JSON_EXACT_INT 9007199254740992.0

/* Where empty strings and empty composites point (never NULL, so memcpy
 * and friends may be handed them). */
static const char empty_str[1] = "";
static const sl_value no_items[1];

/* ------------------------------------------------------------ formats */

static const char *const format_names[] = {"lines", "json", "csv"};

sl_status sl__rec_format_parse(const char *name, sl__rec_format *out)
{
    size_t i;

    for (i = 0; i < sizeof format_names / sizeof format_names[0]; i++) {
        if (strcmp(name, format_names[i]) == 0) {
            *out = (sl__rec_format)i;
            return SL_OK;
        }
    }
    return SL_EPARSE;
}

const char *sl__rec_format_name(sl__rec_format f)
{
    return (size_t)f < 3 ? format_names[f] : "?";
}

/* The names Spark's "mode" option takes, then sluice's own (the first
 * three), all compared case-insensitively. */
static const char *const mode_names[] = {"permissive",    "drop_malformed",
                                         "fail_fast",     "permissive",
                                         "dropmalformed", "failfast"};

sl_status sl__parse_mode_parse(const char *name, sl__parse_mode *out)
{
    size_t i;

    for (i = 0; i < sizeof mode_names / sizeof mode_names[0]; i++) {
        if (strcasecmp(name, mode_names[i]) == 0) {
            *out = (sl__parse_mode)(i % 3);
            return SL_OK;
        }
    }
    return SL_EPARSE;
}

const char *sl__parse_mode_name(sl__parse_mode m)
{
    return (size_t)m < 3 ? mode_names[m] : "?";
}

const char *sl__rec_malformed_fate(const sl__rec_reader *r)
{
    if (!r->schema)
        return "dropped (no schema)";
    return r->mode == SL__PARSE_DROP_MALFORMED
               ? "dropped (parse_mode drop_malformed)"
               : "kept with NULLs (parse_mode permissive)";
}

void sl__rec_options_init(sl__rec_options *o)
{
    memset(o, 0, sizeof *o);
    o->format = SL__REC_LINES;
    o->separator = ',';
    o->quote = '"';
}

/* A byte that may not separate or quote CSV fields. */
static bool csv_bad_char(char c)
{
    return c == '\n' || c == '\r';
}

sl_status sl__rec_options_check(const sl__rec_options *o, char *err,
                                size_t errlen)
{
    size_t i;

    if ((size_t)o->format > SL__REC_CSV)
        return sl__errbuf(err, errlen, SL_EINVAL, "unknown record format");
    if (o->schema && sl__rows_check(o, err, errlen) != SL_OK)
        return SL_EINVAL;
    if (o->format != SL__REC_CSV)
        return SL_OK;
    if (o->separator == '\0' || csv_bad_char(o->separator))
        return sl__errbuf(err, errlen, SL_EINVAL,
                          "csv separator may not be NUL, CR or LF");
    if (csv_bad_char(o->quote))
        return sl__errbuf(err, errlen, SL_EINVAL,
                          "csv quote may not be CR or LF");
    if (o->quote == o->separator)
        return sl__errbuf(err, errlen, SL_EINVAL,
                          "csv separator and quote must differ");
    if (o->header && o->ncolumns > 0)
        return sl__errbuf(err, errlen, SL_EINVAL,
                          "csv: a header and given columns exclude each other");
    if (o->ncolumns >= UINT32_MAX)
        return sl__errbuf(err, errlen, SL_EINVAL, "csv: too many columns");
    for (i = 0; i < o->ncolumns; i++)
        if (!o->columns || !o->columns[i])
            return sl__errbuf(err, errlen, SL_EINVAL,
                              "csv: column name %zu is missing", i + 1);
    return SL_OK;
}

void *sl__rec_arena_alloc(void *ctx, size_t n)
{
    return sl__arena_alloc((sl__arena *)ctx, n);
}

/* ---------------------------------------------------------- csv fields */

/* One field of a CSV line: its content (between the quotes when quoted)
 * and the number of doubled quotes in it, each one byte shorter when
 * unescaped. */
typedef struct csv_field {
    const char *start;
    size_t len;
    size_t escapes;
} csv_field;

/* The quoted field whose opening quote is at line[*pos]. */
static sl_status csv_quoted(const sl__rec_reader *r, const char *line,
                            size_t len, size_t *pos, csv_field *f, char *err,
                            size_t errlen)
{
    size_t i = *pos + 1;

    f->start = line + i;
    for (;;) {
        if (i >= len)
            return sl__errbuf(err, errlen, SL_EPARSE,
                              "unterminated quoted field at column %zu (a "
                              "quoted field cannot span lines)",
                              *pos + 1);
        if (line[i] == '\n')
            return sl__errbuf(err, errlen, SL_EPARSE,
                              "quoted field contains a newline at column %zu",
                              i + 1);
        if (line[i] == r->quote) {
            if (i + 1 < len && line[i + 1] == r->quote) {
                f->escapes++;
                i += 2;
                continue;
            }
            break;
        }
        i++;
    }
    f->len = (size_t)(line + i - f->start);
    i++; /* the closing quote */
    if (i < len && line[i] != r->separator)
        return sl__errbuf(err, errlen, SL_EPARSE,
                          "unexpected character after a closing quote at "
                          "column %zu",
                          i + 1);
    *pos = i;
    return SL_OK;
}

/* The first i from i on with s[i] == a or s[i] == b, or len. Eight bytes
 * at a time: unquoted fields are most of what a feed's reader does. */
static size_t csv_find2(const char *s, size_t i, size_t len, char a, char b)
{
    const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
    const uint64_t ma = ones * (unsigned char)a, mb = ones * (unsigned char)b;
    uint64_t v, xa, xb;

    for (; i + 8 <= len; i += 8) {
        memcpy(&v, s + i, 8);
        xa = v ^ ma, xb = v ^ mb;
        /* a zero byte in xa or xb sets its high bit (the classic test) */
        if (((xa - ones) & ~xa & highs) | ((xb - ones) & ~xb & highs))
            break;
    }
    while (i < len && s[i] != a && s[i] != b)
        i++;
    return i;
}

/*
 * The field starting at line[*pos]; on success *pos is at the separator
 * after it or at len.
 */
static sl_status csv_field_at(const sl__rec_reader *r, const char *line,
                              size_t len, size_t *pos, csv_field *f, char *err,
                              size_t errlen)
{
    size_t i = *pos;

    f->escapes = 0;
    if (r->quote && i < len && line[i] == r->quote)
        return csv_quoted(r, line, len, pos, f, err, errlen);
    f->start = line + i;
    i = csv_find2(line, i, len, r->separator,
                  r->quote ? r->quote : r->separator);
    if (r->quote && i < len && line[i] == r->quote)
        return sl__errbuf(err, errlen, SL_EPARSE,
                          "stray quote in unquoted field at column %zu", i + 1);
    f->len = (size_t)(line + i - f->start);
    *pos = i;
    return SL_OK;
}

/* Advance past the field at *pos and its separator; false after the last
 * field. Only for lines csv_scan accepted. */
static bool csv_next(const sl__rec_reader *r, const char *line, size_t len,
                     size_t *pos, csv_field *f)
{
    if (*pos > len)
        return false;
    csv_field_at(r, line, len, pos, f, NULL, 0);
    (*pos)++; /* past the separator, or past len after the last field */
    return true;
}

/* Check a line and count its fields and the bytes their unescaped copies
 * need (fields with doubled quotes only). */
static sl_status csv_scan(const sl__rec_reader *r, const char *line, size_t len,
                          size_t *nfields, size_t *extra, char *err,
                          size_t errlen)
{
    size_t pos = 0;
    csv_field f;
    sl_status st;

    *nfields = 0;
    *extra = 0;
    for (;;) {
        st = csv_field_at(r, line, len, &pos, &f, err, errlen);
        if (st != SL_OK)
            return st;
        (*nfields)++;
        if (f.escapes)
            *extra += f.len - f.escapes;
        if (pos >= len)
            return SL_OK;
        pos++; /* the separator; a trailing one leaves an empty field */
    }
}

/* Copy f's content to dst with doubled quotes made single; its length. */
static size_t csv_unescape(const sl__rec_reader *r, const csv_field *f,
                           char *dst)
{
    size_t i, o = 0;

    for (i = 0; i < f->len; i++) {
        dst[o++] = f->start[i];
        if (f->start[i] == r->quote)
            i++; /* the second quote of a pair */
    }
    return o;
}

/* --------------------------------------------------------- csv header */

/* Keep the header's names: one sl_malloc block with the pointer array
 * followed by the NUL-terminated names. */
static sl_status csv_take_header(sl__rec_reader *r, const char *line,
                                 size_t len, size_t nfields, char *err,
                                 size_t errlen)
{
    size_t pos = 0, size = nfields * sizeof(char *), i = 0, n;
    csv_field f;
    char *mem;

    if (len == 0)
        return sl__errbuf(err, errlen, SL_EPARSE, "empty header line");
    if (memchr(line, '\0', len))
        return sl__errbuf(err, errlen, SL_EPARSE, "NUL byte in the header");
    while (csv_next(r, line, len, &pos, &f))
        size += f.len - f.escapes + 1;
    r->names = sl_malloc(size);
    if (!r->names)
        return sl__errbuf(err, errlen, SL_ENOMEM, "out of memory");
    mem = (char *)(r->names + nfields);
    pos = 0;
    while (csv_next(r, line, len, &pos, &f)) {
        n = csv_unescape(r, &f, mem);
        mem[n] = '\0';
        r->names[i++] = mem;
        mem += n + 1;
    }
    r->ncolumns = nfields;
    r->header = false;
    return SL_ENOTFOUND;
}

/* Keep copies of the given column names, laid out as a header's. */
static sl_status csv_given_names(sl__rec_reader *r, const char *const *names,
                                 size_t n)
{
    size_t size = n * sizeof(char *), i, k;
    char *mem;

    for (i = 0; i < n; i++)
        size += strlen(names[i]) + 1;
    r->names = sl_malloc(size);
    if (!r->names)
        return SL_ENOMEM;
    mem = (char *)(r->names + n);
    for (i = 0; i < n; i++) {
        k = strlen(names[i]) + 1;
        memcpy(mem, names[i], k);
        r->names[i] = mem;
        mem += k;
    }
    r->ncolumns = n;
    return SL_OK;
}

/* ---------------------------------------------------------- csv rows */

/* The tuple of a line csv_scan accepted: views into line, copies of the
 * fields with doubled quotes. */
static sl_status csv_build(const sl__rec_reader *r, const char *line,
                           size_t len, size_t nfields, size_t extra,
                           sl__rec_alloc_fn alloc, void *ctx, sl_value *out)
{
    sl_value *items = alloc(ctx, nfields * sizeof *items);
    char *mem = NULL;
    size_t pos = 0, i = 0, n;
    csv_field f;

    if (!items || (extra && !(mem = alloc(ctx, extra))))
        return SL_ENOMEM;
    while (csv_next(r, line, len, &pos, &f)) {
        if (f.len == 0) {
            items[i++] = sl_str(empty_str, 0);
        } else if (f.escapes == 0) {
            items[i++] = sl_str(f.start, f.len);
        } else {
            n = csv_unescape(r, &f, mem);
            items[i++] = sl_str(mem, n);
            mem += n;
        }
    }
    *out = sl_composite(SL_KIND_TUPLE, items, nfields);
    return SL_OK;
}

/* A data line: check it, fix or check the column count, build it. */
static sl_status csv_row(sl__rec_reader *r, const char *line, size_t len,
                         sl__rec_alloc_fn alloc, void *ctx, sl_value *out,
                         char *err, size_t errlen)
{
    size_t nfields, extra;
    sl_status st;

    st = csv_scan(r, line, len, &nfields, &extra, err, errlen);
    if (st != SL_OK)
        return st;
    if (r->ncolumns == 0)
        r->ncolumns = nfields; /* no header or names: the first row's */
    else if (nfields != r->ncolumns)
        return sl__errbuf(err, errlen, SL_EPARSE,
                          "expected %zu columns, got %zu", r->ncolumns,
                          nfields);
    st = csv_build(r, line, len, nfields, extra, alloc, ctx, out);
    if (st != SL_OK)
        return sl__errbuf(err, errlen, st, "out of memory");
    return SL_OK;
}

sl_status sl__csv_split(const sl__rec_reader *r, const char *line, size_t len,
                        sl__rec_alloc_fn alloc, void *ctx, sl_value *out,
                        char *err, size_t errlen)
{
    size_t nfields, extra;
    sl_status st = csv_scan(r, line, len, &nfields, &extra, err, errlen);

    if (st != SL_OK)
        return st;
    st = csv_build(r, line, len, nfields, extra, alloc, ctx, out);
    if (st != SL_OK)
        return sl__errbuf(err, errlen, st, "out of memory");
    return SL_OK;
}

static sl_status csv_parse(sl__rec_reader *r, const char *line, size_t len,
                           sl__rec_alloc_fn alloc, void *ctx, sl_value *out,
                           char *err, size_t errlen)
{
    size_t nfields, extra;
    char why[160];
    sl_status st;

    if (r->header_failed)
        return sl__errbuf(err, errlen, SL_EPARSE,
                          "no columns: the header line was malformed");
    /* A byte order mark opens many exported files; it is no data. */
    if (r->lines == 1 && len >= 3 && memcmp(line, "\xEF\xBB\xBF", 3) == 0) {
        line += 3;
        len -= 3;
    }
    if (!r->header && r->schema && r->header_optional &&
        sl__rows_is_header(r, line, len))
        return SL_ENOTFOUND; /* an optional header line: no record */
    if (!r->header && r->schema)
        return sl__rows_parse(r, line, len, alloc, ctx, out, err, errlen);
    if (!r->header)
        return csv_row(r, line, len, alloc, ctx, out, err, errlen);
    st = csv_scan(r, line, len, &nfields, &extra, why, sizeof why);
    if (st == SL_OK)
        st = csv_take_header(r, line, len, nfields, why, sizeof why);
    if (st == SL_EPARSE) {
        r->header_failed = true;
        return sl__errbuf(err, errlen, st, "malformed header: %s", why);
    }
    if (st == SL_ENOMEM)
        return sl__errbuf(err, errlen, st, "out of memory");
    return st;
}

/* ------------------------------------------------------------- json */

/*
 * cJSON writes a static error position on every parse (global_error in
 * cJSON.c), so parses on several threads at once (workers reading JSON
 * lines, a job file parsed beside a running job) would race on it. The
 * parse call, and only it, is serialised by this lock (sl__json_parse is
 * the one caller of cJSON's parser); building values
 * from the tree runs in parallel. A constant-initialised lock guarding a
 * third-party global is the one piece of process state here.
 */
static pthread_mutex_t cjson_lock = PTHREAD_MUTEX_INITIALIZER;

void sl__json_lock(void)
{
    pthread_mutex_lock(&cjson_lock);
}

void sl__json_unlock(void)
{
    pthread_mutex_unlock(&cjson_lock);
}

cJSON *sl__json_parse(const char *text, size_t len, const char **end,
                      bool require_nul)
{
    cJSON *root;
    pthread_mutex_lock(&cjson_lock);
    root = cJSON_ParseWithLengthOpts(text, len, end, require_nul);
    pthread_mutex_unlock(&cjson_lock);
    return root;
}

static bool json_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/*
 * What cJSON cannot be trusted with, checked on the raw line: a blank
 * line, NUL bytes and "\u0000" escapes (cJSON's C strings would cut the
 * string there), and nesting deeper than JSON_MAX_DEPTH (which also bounds
 * the recursion in json_value).
 */
static sl_status json_prescan(const char *line, size_t len, char *err,
                              size_t errlen)
{
    const char *nul = memchr(line, '\0', len);
    size_t i, depth = 0, blank = 0;
    bool in_string = false;

    if (nul)
        return sl__errbuf(err, errlen, SL_EPARSE, "NUL byte at column %zu",
                          (size_t)(nul - line) + 1);
    for (i = 0; i < len; i++) {
        char c = line[i];
        blank += json_space(c);
        if (in_string) {
            if (c == '"')
                in_string = false;
            else if (c == '\\' && len - i >= 6 &&
                     memcmp(line + i + 1, "u0000", 5) == 0)
                return sl__errbuf(err, errlen, SL_EPARSE,
                                  "\\u0000 in a string at column %zu (NUL "
                                  "characters are not supported)",
                                  i + 1);
            else if (c == '\\')
                i++; /* the escaped character */
        } else if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            if (++depth > JSON_MAX_DEPTH)
                return sl__errbuf(err, errlen, SL_EPARSE,
                                  "JSON nested deeper than %d levels at "
                                  "column %zu",
                                  JSON_MAX_DEPTH, i + 1);
        } else if ((c == ']' || c == '}') && depth > 0) {
            depth--;
        }
    }
    if (blank == len)
        return sl__errbuf(err, errlen, SL_EPARSE, "empty line");
    return SL_OK;
}

sl_status sl__json_prescan(const char *line, size_t len, char *err,
                           size_t errlen)
{
    return json_prescan(line, len, err, errlen);
}

sl_status sl__rec_copy_str(const char *s, size_t n, sl__rec_alloc_fn alloc,
                           void *ctx, sl_value *out)
{
    char *p;

    if (n == 0) {
        *out = sl_str(empty_str, 0);
        return SL_OK;
    }
    if (n >= UINT32_MAX || !(p = alloc(ctx, n)))
        return SL_ENOMEM;
    memcpy(p, s, n);
    *out = sl_str(p, n);
    return SL_OK;
}

/* A copy of a C string from cJSON as a string value. */
static sl_status json_string(const char *s, sl__rec_alloc_fn alloc, void *ctx,
                             sl_value *out)
{
    return sl__rec_copy_str(s, strlen(s), alloc, ctx, out);
}

static sl_status json_number(double d, sl_value *out, char *err, size_t errlen)
{
    if (!isfinite(d))
        return sl__errbuf(err, errlen, SL_EPARSE,
                          "number out of the range of a double");
    if (floor(d) == d && fabs(d) < JSON_EXACT_INT)
        *out = sl_int((int64_t)d);
    else
        *out = sl_double(d);
    return SL_OK;
}

static sl_status json_value(const cJSON *j, sl__rec_alloc_fn alloc, void *ctx,
                            sl_value *out, char *err, size_t errlen);

static size_t json_count(const cJSON *j)
{
    size_t n = 0;

    for (j = j->child; j; j = j->next)
        n++;
    return n;
}

/* An array: a pair when it has two items, else a list. */
static sl_status json_array(const cJSON *j, sl__rec_alloc_fn alloc, void *ctx,
                            sl_value *out, char *err, size_t errlen)
{
    size_t n = json_count(j), i = 0;
    sl_value *items = (sl_value *)no_items;
    sl_status st;

    if (n > 0 && !(items = alloc(ctx, n * sizeof *items)))
        return SL_ENOMEM;
    for (j = j->child; j; j = j->next) {
        st = json_value(j, alloc, ctx, &items[i++], err, errlen);
        if (st != SL_OK)
            return st;
    }
    *out = sl_composite(n == 2 ? SL_KIND_PAIR : SL_KIND_LIST, items, n);
    return SL_OK;
}

/* An object: a list of (key, value) pairs in document order (duplicate
 * keys kept); the list's items, then the pairs' items, in one block. */
static sl_status json_object(const cJSON *j, sl__rec_alloc_fn alloc, void *ctx,
                             sl_value *out, char *err, size_t errlen)
{
    size_t n = json_count(j), i = 0;
    sl_value *items = (sl_value *)no_items, *kv;
    sl_status st;

    if (n > 0 && !(items = alloc(ctx, 3 * n * sizeof *items)))
        return SL_ENOMEM;
    for (j = j->child; j; j = j->next, i++) {
        kv = items + n + 2 * i;
        st = json_string(j->string, alloc, ctx, &kv[0]);
        if (st == SL_OK)
            st = json_value(j, alloc, ctx, &kv[1], err, errlen);
        if (st != SL_OK)
            return st;
        items[i] = sl_composite(SL_KIND_PAIR, kv, 2);
    }
    *out = sl_composite(SL_KIND_LIST, items, n);
    return SL_OK;
}

static sl_status json_value(const cJSON *j, sl__rec_alloc_fn alloc, void *ctx,
                            sl_value *out, char *err, size_t errlen)
{
    switch (j->type & 0xff) {
    case cJSON_NULL:
        *out = sl_null();
        return SL_OK;
    case cJSON_False:
    case cJSON_True:
        *out = sl_bool((j->type & 0xff) == cJSON_True);
        return SL_OK;
    case cJSON_Number:
        return json_number(j->valuedouble, out, err, errlen);
    case cJSON_String:
        return json_string(j->valuestring, alloc, ctx, out);
    case cJSON_Array:
        return json_array(j, alloc, ctx, out, err, errlen);
    case cJSON_Object:
        return json_object(j, alloc, ctx, out, err, errlen);
    default: /* cJSON_Raw and cJSON_Invalid never come from the parser */
        return sl__errbuf(err, errlen, SL_EPARSE, "unsupported JSON value");
    }
}

static sl_status json_parse(const char *line, size_t len,
                            sl__rec_alloc_fn alloc, void *ctx, sl_value *out,
                            char *err, size_t errlen)
{
    const char *end = NULL;
    size_t i;
    cJSON *root;
    sl_status st = json_prescan(line, len, err, errlen);

    if (st != SL_OK)
        return st;
    /* Not require_null_terminated: the line has no NUL after it; the end
     * pointer is checked against len instead. */
    root = sl__json_parse(line, len, &end, false);
    if (!root)
        return sl__errbuf(err, errlen, SL_EPARSE, "invalid JSON at column %zu",
                          end ? (size_t)(end - line) + 1 : 1);
    for (i = (size_t)(end - line); i < len && json_space(line[i]); i++)
        ;
    if (i < len)
        st = sl__errbuf(err, errlen, SL_EPARSE,
                        "trailing characters after the JSON value at column "
                        "%zu",
                        i + 1);
    else
        st = json_value(root, alloc, ctx, out, err, errlen);
    cJSON_Delete(root);
    if (st == SL_ENOMEM)
        return sl__errbuf(err, errlen, st, "out of memory");
    return st;
}

/* ------------------------------------------------------------- reader */

sl_status sl__rec_reader_init(sl__rec_reader *r, const sl__rec_options *o,
                              char *err, size_t errlen)
{
    sl_status st = sl__rec_options_check(o, err, errlen);

    memset(r, 0, sizeof *r);
    if (st != SL_OK)
        return st;
    r->format = o->format;
    r->separator = o->separator;
    r->quote = o->quote;
    r->mode = o->mode;
    r->corrupt = -1;
    if (o->schema) {
        r->schema = sl_schema_retain(o->schema);
        r->corrupt = sl__rows_corrupt_column(o->schema);
    }
    if (o->format != SL__REC_CSV)
        return SL_OK;
    r->header = o->header;
    r->header_optional = o->header_optional;
    if (o->ncolumns > 0 && csv_given_names(r, o->columns, o->ncolumns))
        return sl__errbuf(err, errlen, SL_ENOMEM, "out of memory");
    return SL_OK;
}

void sl__rec_reader_free(sl__rec_reader *r)
{
    if (!r)
        return;
    sl_free(r->names);
    r->names = NULL;
    sl_schema_release(r->schema);
    r->schema = NULL;
}

sl_status sl__rec_parse(sl__rec_reader *r, const char *line, size_t len,
                        sl__rec_alloc_fn alloc, void *alloc_ctx, sl_value *out,
                        char *err, size_t errlen)
{
    sl_status st;

    r->lines++;
    r->row_malformed = false;
    /* Values hold lengths in 32 bits; a field or item count is at most
     * the line length + 1. */
    if (len >= UINT32_MAX)
        st = sl__errbuf(err, errlen, SL_EPARSE, "line of 4 GiB or more");
    else if (r->schema && r->format != SL__REC_CSV)
        st = sl__rows_parse(r, line, len, alloc, alloc_ctx, out, err, errlen);
    else if (r->format == SL__REC_JSON)
        st = json_parse(line, len, alloc, alloc_ctx, out, err, errlen);
    else if (r->format == SL__REC_CSV)
        st = csv_parse(r, line, len, alloc, alloc_ctx, out, err, errlen);
    else {
        *out = sl_str(len ? line : empty_str, len);
        st = SL_OK;
    }
    if (st == SL_OK)
        r->records++;
    if (st == SL_EPARSE || r->row_malformed)
        r->malformed++;
    if (st == SL_EPARSE && r->schema && r->mode == SL__PARSE_FAIL_FAST)
        r->fail = true;
    return st;
}

size_t sl__rec_columns(const sl__rec_reader *r, const char *const **names)
{
    *names = (const char *const *)r->names;
    return r->ncolumns;
}

/* ------------------------------------------------------ streamed lines */

/* The first buffer: enough for most lines, small for many small files. */
#define LINES_FIRST_CAP ((size_t)128 << 10)

void sl__lines_init(sl__line_splitter *s, size_t max, size_t chunk)
{
    memset(s, 0, sizeof *s);
    s->max = max;
    s->chunk = chunk;
    /* A pending line of max + 1 bytes ("\r" included) may still end well,
     * so it is kept with room for one more chunk after it. */
    s->limit = max + 2 + chunk;
}

void sl__lines_free(sl__line_splitter *s)
{
    sl_free(s->buf);
    s->buf = NULL;
    s->cap = 0;
}

void sl__lines_skip_first(sl__line_splitter *s)
{
    s->skipping = true;
}

char *sl__lines_space(sl__line_splitter *s, size_t *room)
{
    size_t want;
    char *p;

    if (s->start > 0) { /* the consumed lines make room */
        memmove(s->buf, s->buf + s->start, s->end - s->start);
        s->offset += (int64_t)s->start;
        s->end -= s->start;
        s->start = 0;
    }
    if (s->cap - s->end < s->chunk && s->cap < s->limit) {
        want = s->cap ? s->cap * 2 : LINES_FIRST_CAP;
        if (want < s->end + s->chunk)
            want = s->end + s->chunk;
        if (want > s->limit)
            want = s->limit;
        if (!(p = sl_realloc(s->buf, want)))
            return NULL;
        s->buf = p;
        s->cap = want;
    }
    *room = s->cap - s->end;
    return s->buf + s->end;
}

void sl__lines_added(sl__line_splitter *s, size_t n)
{
    s->end += n;
}

/* n more bytes of the open long line at p: the first SL__DEAD_TEXT_MAX
 * kept, all counted. */
static void long_add(sl__line_splitter *s, const char *p, size_t n)
{
    size_t keep = SL__DEAD_TEXT_MAX - s->head_len;

    keep = n < keep ? n : keep;
    memcpy(s->head + s->head_len, p, keep);
    s->head_len += keep;
    s->long_len += n;
    if (n > 0)
        s->last = p[n - 1];
}

/* The open long line ended (at its "\n" or the stream's end): report it,
 * its "\r" before the "\n" dropped as a short line's is. */
static sl__line_result long_end(sl__line_splitter *s, const char **line,
                                size_t *len)
{
    if (s->long_len > 0 && s->last == '\r')
        s->long_len--;
    if (s->head_len > s->long_len)
        s->head_len = s->long_len;
    s->long_open = false;
    s->line_at = s->long_at;
    *line = s->head;
    *len = s->head_len;
    return SL__LINE_LONG;
}

/* Drop pending bytes up to the next "\n" (kept by long_add while a long
 * line is open); true once it was found. */
static bool lines_skip(sl__line_splitter *s)
{
    const char *p = s->buf + s->start;
    const char *nl =
        s->end > s->start ? memchr(p, '\n', s->end - s->start) : NULL;

    if (s->long_open)
        long_add(s, p, nl ? (size_t)(nl - p) : s->end - s->start);
    if (!nl) {
        s->start = s->end;
        return false;
    }
    s->start = (size_t)(nl - s->buf) + 1;
    s->scanned = 0;
    s->skipping = false;
    return true;
}

/* The pending line [start, start + n) and, when it ended with "\n", the
 * byte after it: OK with "\r" dropped, or LONG. */
static sl__line_result lines_take(sl__line_splitter *s, size_t n, size_t next,
                                  const char **line, size_t *len)
{
    const char *p = s->buf + s->start;

    s->line_at = s->offset + (int64_t)s->start;
    s->start = next;
    s->scanned = 0;
    if (n > 0 && p[n - 1] == '\r')
        n--;
    *line = p;
    *len = n;
    if (n <= s->max)
        return SL__LINE_OK;
    s->long_len = n;
    *len = n < SL__DEAD_TEXT_MAX ? n : SL__DEAD_TEXT_MAX;
    return SL__LINE_LONG;
}

sl__line_result sl__lines_next(sl__line_splitter *s, bool at_eof,
                               const char **line, size_t *len)
{
    size_t pending;
    const char *nl;

    if (s->skipping && !lines_skip(s)) {
        if (!at_eof)
            return SL__LINE_MORE;
        s->skipping = false;
    }
    if (s->long_open)
        return long_end(s, line, len);
    pending = s->end - s->start;
    nl = pending > s->scanned ? memchr(s->buf + s->start + s->scanned, '\n',
                                       pending - s->scanned)
                              : NULL;
    if (nl) {
        pending = (size_t)(nl - s->buf) - s->start;
        return lines_take(s, pending, s->start + pending + 1, line, len);
    }
    s->scanned = pending;
    if (pending >= s->max + 2) {
        /* Over max even if "\r\n" came next: drop it as it arrives
         * instead of buffering it, its start kept, and report it at its
         * end. */
        s->long_open = true;
        s->long_at = s->offset + (int64_t)s->start;
        s->long_len = s->head_len = 0;
        long_add(s, s->buf + s->start, pending);
        s->start = s->end;
        s->scanned = 0;
        if (at_eof)
            return long_end(s, line, len);
        s->skipping = true;
        return SL__LINE_MORE;
    }
    if (at_eof && pending > 0)
        return lines_take(s, pending, s->end, line, len);
    return SL__LINE_MORE;
}

size_t sl__lines_long_len(const sl__line_splitter *s)
{
    return s->long_len;
}

int64_t sl__lines_line_at(const sl__line_splitter *s)
{
    return s->line_at;
}

int64_t sl__lines_pending_at(const sl__line_splitter *s)
{
    return s->skipping ? -1 : s->offset + (int64_t)s->start;
}
