/*
 * Typed rows from text records: lines, CSV and JSON lines read into the
 * columns of a declared schema (a row is a tuple, one item per column),
 * with Spark 3.5's parse modes and `_corrupt_record` (the schemas
 * `streamctl sql` infers are rows_infer.c's). The record-format module
 * is records.c: it cuts
 * CSV fields (sl__csv_split), takes the CSV header and counts; this file
 * converts. The rules, and where they follow Spark, are in docs/sql.md
 * "Reading rows".
 */
#include "core/records.h"
#include "core/schema.h"

#include <ctype.h>
#include <cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Spark's spark.sql.columnNameOfCorruptRecord default. */
#define CORRUPT_NAME "_corrupt_record"
/* 2^63: doubles below it in magnitude convert to int64 exactly. */
#define TWO_63 9223372036854775808.0
/* The longest double text read (a longer one is malformed). */
#define DOUBLE_TEXT_MAX 400

static const char empty_str[1] = "";
static const sl_value no_items[1];

/* ------------------------------------------------------------ checks */

int sl__rows_corrupt_column(const sl_schema *s)
{
    size_t i, n = sl_schema_size(s);

    for (i = 0; i < n; i++)
        if (strcmp(sl_schema_name(s, i), CORRUPT_NAME) == 0)
            return (int)i;
    return -1;
}

static const char *type_name(const sl_type *t, char *buf, size_t n)
{
    sl_type_format(t, buf, n);
    return buf;
}

/* CSV reads scalars only, and no binary: Spark's CSV reader refuses
 * them too ("CSV data source does not support binary data type"). */
static sl_status check_csv_column(const sl_schema *s, size_t i, char *err,
                                  size_t errlen)
{
    const sl_type *t = sl_schema_type(s, i);
    char tn[64];

    if (t->id == SL_TYPE_BINARY || t->id == SL_TYPE_ARRAY ||
        t->id == SL_TYPE_STRUCT || t->id == SL_TYPE_NULL)
        return sl__errbuf(err, errlen, SL_EINVAL,
                          "csv: column \"%s\": type %s is not supported in "
                          "CSV (as in Spark's CSV reader)",
                          sl_schema_name(s, i), type_name(t, tn, sizeof tn));
    return SL_OK;
}

sl_status sl__rows_check(const sl__rec_options *o, char *err, size_t errlen)
{
    const sl_schema *s = o->schema;
    size_t i, n = sl_schema_size(s);
    int c = sl__rows_corrupt_column(s);
    sl_status st;

    if ((size_t)o->mode > SL__PARSE_FAIL_FAST)
        return sl__errbuf(err, errlen, SL_EINVAL, "unknown parse mode");
    if (o->format == SL__REC_LINES) {
        if (n != 1 || sl_schema_type(s, 0)->id != SL_TYPE_STRING)
            return sl__errbuf(err, errlen, SL_EINVAL,
                              "lines: the schema must be one string column "
                              "(default \"value string\")");
        return SL_OK;
    }
    if (c >= 0 && sl_schema_type(s, (size_t)c)->id != SL_TYPE_STRING)
        return sl__errbuf(err, errlen, SL_EINVAL,
                          "column \"" CORRUPT_NAME "\" must be a string "
                          "(it holds the malformed record's text)");
    if (o->format != SL__REC_CSV)
        return SL_OK;
    if (o->ncolumns > 0)
        return sl__errbuf(err, errlen, SL_EINVAL,
                          "csv: a schema and given columns exclude each "
                          "other");
    for (i = 0; i < n; i++) {
        if ((int)i == c)
            continue;
        st = check_csv_column(s, i, err, errlen);
        if (st != SL_OK)
            return st;
    }
    return SL_OK;
}

/* ------------------------------------------------------ row building */

/* A row of n NULL columns from alloc. */
static sl_value *row_new(sl__rec_alloc_fn alloc, void *ctx, size_t n)
{
    sl_value *items = n ? alloc(ctx, n * sizeof *items) : (sl_value *)no_items;
    size_t i;

    for (i = 0; items && i < n; i++)
        items[i] = sl_null();
    return items;
}

/*
 * The row is built: a malformed one (bad) is refused in drop_malformed
 * and fail_fast mode, and in permissive mode kept (what parsed, nulls
 * elsewhere) with the line in _corrupt_record, why in err.
 */
static sl_status row_finish(sl__rec_reader *r, const char *line, size_t len,
                            sl_value *items, bool bad, const char *why,
                            sl_value *out, char *err, size_t errlen)
{
    if (bad) {
        if (r->mode != SL__PARSE_PERMISSIVE)
            return sl__errbuf(err, errlen, SL_EPARSE, "%s", why);
        sl__errbuf(err, errlen, SL_EPARSE, "%s", why);
        r->row_malformed = true;
        if (r->corrupt >= 0)
            items[r->corrupt] = sl_str(len ? line : empty_str, len);
    }
    *out = sl_composite(SL_KIND_TUPLE, items, sl_schema_size(r->schema));
    return SL_OK;
}

/* Spark's CSV and JSON readers skip lines with nothing but white space
 * (CSVUtils.filterCommentAndEmpty, and Jackson finding no token). */
static bool blank(const char *line, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++)
        if ((unsigned char)line[i] > ' ')
            return false;
    return true;
}

/* ------------------------------------------------------- csv scalars */

/* Java's Long.parseLong, which Spark's CSV reader calls: an optional
 * sign and digits, nothing else (no white space). */
static bool read_long(const char *s, size_t n, int64_t *out)
{
    uint64_t v = 0, lim;
    bool neg = n > 0 && s[0] == '-';
    size_t i = n > 0 && (s[0] == '-' || s[0] == '+');

    if (i == n)
        return false;
    lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        if (v > (lim - (uint64_t)(s[i] - '0')) / 10)
            return false;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return true;
}

/* Decimal digits with an optional point and exponent, and Java's
 * optional f/F/d/D suffix: Double.parseDouble's decimal form. */
static bool double_syntax(const char *s, size_t n, size_t *body)
{
    size_t i = 0, digits = 0;

    if (n > 0 && (s[n - 1] == 'd' || s[n - 1] == 'D' || s[n - 1] == 'f' ||
                  s[n - 1] == 'F'))
        n--;
    *body = n;
    if (i < n && (s[i] == '+' || s[i] == '-'))
        i++;
    for (; i < n && s[i] >= '0' && s[i] <= '9'; i++)
        digits++;
    if (i < n && s[i] == '.')
        for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++)
            digits++;
    if (digits == 0)
        return false;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        if (i == n || s[i] < '0' || s[i] > '9')
            return false;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
    }
    return i == n;
}

/* The special values Spark's CSV reader knows (nanValue "NaN",
 * positiveInf "Inf", negativeInf "-Inf") and Java's own ("Infinity"). */
static bool double_special(const char *s, size_t n, double *out)
{
    static const struct {
        const char *text;
        double v;
    } names[] = {{"NaN", NAN},
                 {"Inf", INFINITY},
                 {"-Inf", -INFINITY},
                 {"Infinity", INFINITY},
                 {"+Infinity", INFINITY},
                 {"-Infinity", -INFINITY}};
    size_t i;

    for (i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strlen(names[i].text) == n && memcmp(s, names[i].text, n) == 0) {
            *out = names[i].v;
            return true;
        }
    }
    return false;
}

/*
 * The common case without strtod: [+-]digits[.digits] with at most 15
 * significant digits, read as an integer mantissa divided by a power of
 * ten. Both are exact doubles (below 2^53 and at most 1e22), so the one
 * IEEE division rounds correctly, as strtod would (Clinger's fast path).
 */
static bool read_double_fast(const char *s, size_t n, double *out)
{
    static const double pow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,
                                   1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                   1e12, 1e13, 1e14, 1e15, 1e16};
    uint64_t m = 0;
    size_t i = 0, digits = 0, frac = 0;
    bool neg = false, dot = false;

    if (i < n && (s[i] == '+' || s[i] == '-'))
        neg = s[i++] == '-';
    for (; i < n; i++) {
        if (s[i] == '.' && !dot) {
            dot = true;
            continue;
        }
        if (s[i] < '0' || s[i] > '9')
            return false; /* an exponent, a suffix: strtod's */
        if ((m || s[i] != '0') && ++digits > 15)
            return false;
        m = m * 10 + (uint64_t)(s[i] - '0');
        frac += dot;
    }
    if (frac >= sizeof pow10 / sizeof pow10[0])
        return false;
    *out = (double)m / pow10[frac];
    if (neg)
        *out = -*out;
    return true;
}

/* Java's Double.parseDouble (decimal forms only; hexadecimal floats are
 * refused): white space around the number is ignored, as Java does. */
static bool read_double(const char *s, size_t n, double *out)
{
    char buf[DOUBLE_TEXT_MAX + 1];
    size_t body;

    while (n > 0 && (unsigned char)s[0] <= ' ')
        s++, n--;
    while (n > 0 && (unsigned char)s[n - 1] <= ' ')
        n--;
    if (double_special(s, n, out))
        return true;
    if (n > DOUBLE_TEXT_MAX || !double_syntax(s, n, &body))
        return false;
    if (read_double_fast(s, body, out))
        return true;
    memcpy(buf, s, body);
    buf[body] = '\0';
    *out = strtod(buf, NULL); /* out of range: +-inf or 0, as Java's */
    return true;
}

/* Scala's String.toBoolean: "true" or "false", any case. */
static bool read_bool(const char *s, size_t n, bool *out)
{
    if (n == 4 && strncasecmp(s, "true", 4) == 0)
        *out = true;
    else if (n == 5 && strncasecmp(s, "false", 5) == 0)
        *out = false;
    else
        return false;
    return true;
}

/* One CSV field into a column of type t; false when it does not read.
 * An empty field is NULL (Spark's nullValue ""), whatever the type. */
/*
 * Timestamp text: Spark's CAST(string AS timestamp) forms, or an integer
 * of 7 to 18 digits (a '-' allowed) as milliseconds since the epoch, the
 * form market feeds carry (1704187800123). No CAST form is all digits
 * beyond a 6-digit year, so the two never meet; 18 digits cannot
 * overflow.
 */
static bool read_ts_text(const char *s, size_t n, int64_t *ms)
{
    size_t i = n > 0 && s[0] == '-', digits = n - i;
    int64_t v = 0;

    if (digits < 7 || digits > 18)
        return sl__ts_parse(s, n, ms);
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return sl__ts_parse(s, n, ms);
        v = v * 10 + (s[i] - '0');
    }
    *ms = s[0] == '-' ? -v : v;
    return true;
}

static bool csv_convert(const sl_type *t, const sl_value *f, sl_value *out)
{
    const char *s = f->u.s;
    size_t n = f->len;
    int64_t i;
    double d;
    bool b;

    *out = sl_null();
    if (n == 0)
        return true;
    switch (t->id) {
    case SL_TYPE_STRING:
        *out = *f;
        return true;
    case SL_TYPE_LONG:
        if (!read_long(s, n, &i))
            return false;
        *out = sl_int(i);
        return true;
    case SL_TYPE_DOUBLE:
        if (!read_double(s, n, &d))
            return false;
        *out = sl_double(d);
        return true;
    case SL_TYPE_BOOLEAN:
        if (!read_bool(s, n, &b))
            return false;
        *out = sl_bool(b);
        return true;
    case SL_TYPE_TIMESTAMP:
        if (!read_ts_text(s, n, &i))
            return false;
        *out = sl_int(i);
        return true;
    default: /* refused by sl__rows_check */
        return false;
    }
}

/* ------------------------------------------------------------ csv rows */

/*
 * Fields map to the columns by position (the _corrupt_record column
 * left out), as Spark's CSV reader with a schema does. A line with
 * fewer or more fields than columns is malformed (Spark 3.x's
 * UnivocityParser: "Malformed CSV record"), but in permissive mode keeps
 * what it has: missing columns NULL, extra fields dropped.
 */
static sl_status csv_typed(sl__rec_reader *r, const char *line, size_t len,
                           sl__rec_alloc_fn alloc, void *ctx, sl_value *out,
                           char *err, size_t errlen)
{
    const sl_schema *s = r->schema;
    size_t ncol = sl_schema_size(s), ndata = ncol - (r->corrupt >= 0);
    size_t i, k = 0;
    sl_value *items = row_new(alloc, ctx, ncol), fields;
    char why[256] = "", tn[64];
    bool bad = false;
    sl_status st;

    if (!items)
        return sl__errbuf(err, errlen, SL_ENOMEM, "out of memory");
    st = sl__csv_split(r, line, len, alloc, ctx, &fields, why, sizeof why);
    if (st == SL_ENOMEM)
        return sl__errbuf(err, errlen, st, "out of memory");
    if (st != SL_OK)
        return row_finish(r, line, len, items, true, why, out, err, errlen);
    if (fields.len != ndata) {
        bad = true;
        snprintf(why, sizeof why, "expected %zu columns, got %u", ndata,
                 fields.len);
    }
    for (i = 0; i < ncol && k < fields.len; i++) {
        const sl_value *f = &fields.u.items[k];
        if ((int)i == r->corrupt)
            continue;
        k++;
        if (csv_convert(sl_schema_type(s, i), f, &items[i]) || bad)
            continue;
        bad = true;
        snprintf(why, sizeof why, "column \"%s\": cannot read \"%.*s\" as %s",
                 sl_schema_name(s, i), f->len > 40 ? 40 : (int)f->len, f->u.s,
                 type_name(sl_schema_type(s, i), tn, sizeof tn));
    }
    return row_finish(r, line, len, items, bad, why, out, err, errlen);
}

/* ------------------------------------------------------- json values */

/* RFC 4648 base64 (padding optional, as Jackson's decoder) into dst
 * (at least n * 3 / 4 bytes); the decoded length, or -1. */
static long base64_decode(const char *s, size_t n, unsigned char *dst)
{
    unsigned acc = 0, bits = 0;
    size_t i, o = 0;
    int v;

    while (n > 0 && s[n - 1] == '=')
        n--;
    for (i = 0; i < n; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z')
            v = c - 'A';
        else if (c >= 'a' && c <= 'z')
            v = c - 'a' + 26;
        else if (c >= '0' && c <= '9')
            v = c - '0' + 52;
        else if (c == '+')
            v = 62;
        else if (c == '/')
            v = 63;
        else
            return -1;
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            dst[o++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    return bits >= 6 ? -1 : (long)o; /* one dangling character */
}

typedef struct json_ctx {
    sl__rec_alloc_fn alloc;
    void *ctx;
    char *why; /* the first reason a value did not convert */
    size_t whylen;
} json_ctx;

static sl_status json_convert(json_ctx *c, const sl_type *t, const cJSON *j,
                              sl_value *out);

static sl_status mismatch(json_ctx *c, const sl_type *t, const char *what)
{
    char tn[64];

    return sl__errbuf(c->why, c->whylen, SL_EPARSE, "cannot read %s as %s",
                      what, type_name(t, tn, sizeof tn));
}

static const char *json_kind(const cJSON *j)
{
    switch (j->type & 0xff) {
    case cJSON_False:
    case cJSON_True:
        return "a JSON boolean";
    case cJSON_Number:
        return "a JSON number";
    case cJSON_String:
        return "a JSON string";
    case cJSON_Array:
        return "a JSON array";
    case cJSON_Object:
        return "a JSON object";
    default:
        return "a JSON value";
    }
}

/* Spark's JSON reader reads non-numeric numbers from strings into a
 * double column (allowNonNumericNumbers, true by default). */
static bool json_special_double(const char *s, double *out)
{
    static const char *const names[] = {
        "NaN", "Infinity", "+Infinity", "-Infinity", "INF", "+INF", "-INF"};
    size_t i;

    for (i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strcmp(s, names[i]) == 0) {
            *out = i == 0 ? NAN : names[i][0] == '-' ? -INFINITY : INFINITY;
            return true;
        }
    }
    return false;
}

/* A non-string value into a string column: its JSON text, as Spark's
 * JSON reader keeps it (cJSON's spelling of numbers). */
static sl_status json_as_text(json_ctx *c, const cJSON *j, sl_value *out)
{
    char *text = cJSON_PrintUnformatted(j);
    sl_status st;

    if (!text)
        return SL_ENOMEM;
    st = sl__rec_copy_str(text, strlen(text), c->alloc, c->ctx, out);
    cJSON_free(text);
    return st;
}

static sl_status json_binary(json_ctx *c, const sl_type *t, const cJSON *j,
                             sl_value *out)
{
    size_t n = strlen(j->valuestring);
    unsigned char *p = n ? c->alloc(c->ctx, n) : NULL;
    long got;

    if (n && !p)
        return SL_ENOMEM;
    got = base64_decode(j->valuestring, n, p);
    if (got < 0)
        return mismatch(c, t, "a string that is not base64");
    *out = sl_bytes(got ? (const void *)p : empty_str, (size_t)got);
    return SL_OK;
}

/* A JSON number into a timestamp: seconds since the epoch, as Spark's
 * JSON reader reads an integer token (getLongValue * 1000000 micros). */
static sl_status json_timestamp(json_ctx *c, const sl_type *t, const cJSON *j,
                                sl_value *out)
{
    int64_t ms;
    double d = j->valuedouble;

    if ((j->type & 0xff) == cJSON_String) {
        if (!read_ts_text(j->valuestring, strlen(j->valuestring), &ms))
            return mismatch(c, t, "a string that is no timestamp");
        *out = sl_int(ms);
        return SL_OK;
    }
    if ((j->type & 0xff) != cJSON_Number)
        return mismatch(c, t, json_kind(j));
    if (floor(d) != d || fabs(d) >= TWO_63 / 1000)
        return mismatch(c, t, "a number that is no whole count of seconds");
    *out = sl_int((int64_t)d * 1000);
    return SL_OK;
}

static sl_status json_array_of(json_ctx *c, const sl_type *t, const cJSON *j,
                               sl_value *out)
{
    size_t n = 0, i = 0;
    const cJSON *e;
    sl_value *items = (sl_value *)no_items;
    sl_status st;

    for (e = j->child; e; e = e->next)
        n++;
    if (n > 0 && !(items = c->alloc(c->ctx, n * sizeof *items)))
        return SL_ENOMEM;
    for (e = j->child; e; e = e->next) {
        st = json_convert(c, t->element, e, &items[i++]);
        if (st != SL_OK)
            return st;
    }
    *out = sl_composite(SL_KIND_LIST, items, n);
    return SL_OK;
}

/* The column of fields called exactly name (Spark's JSON reader matches
 * field names case-sensitively), or -1; skip is left out. */
static int field_index(const sl_schema *s, const char *name, int skip)
{
    size_t i, n = sl_schema_size(s);

    for (i = 0; i < n; i++)
        if ((int)i != skip && strcmp(sl_schema_name(s, i), name) == 0)
            return (int)i;
    return -1;
}

/*
 * An object's members into items (NULL for missing fields, unknown
 * ones ignored, a repeated key's last value kept, as Jackson's
 * streaming parse leaves it). A member that does not convert leaves its
 * column NULL and *bad set (Spark 3's partial results), the first
 * reason in first.
 */
static sl_status json_fields(json_ctx *c, const sl_schema *s, int skip,
                             const cJSON *j, sl_value *items, bool *bad,
                             char *first, size_t firstlen)
{
    const cJSON *e;
    sl_status st;
    int k;

    for (e = j->child; e; e = e->next) {
        k = field_index(s, e->string, skip);
        if (k < 0)
            continue;
        st = json_convert(c, sl_schema_type(s, (size_t)k), e, &items[k]);
        if (st == SL_ENOMEM)
            return st;
        if (st == SL_OK)
            continue;
        items[k] = sl_null();
        if (!*bad)
            sl__errbuf(first, firstlen, SL_EPARSE, "field \"%s\": %s",
                       e->string, c->why);
        *bad = true;
    }
    return SL_OK;
}

/* A nested struct: one bad member makes the whole value malformed. */
static sl_status json_struct_of(json_ctx *c, const sl_type *t, const cJSON *j,
                                sl_value *out)
{
    size_t n = sl_schema_size(t->fields);
    sl_value *items = row_new(c->alloc, c->ctx, n);
    char first[256];
    bool bad = false;
    sl_status st;

    if (!items)
        return SL_ENOMEM;
    st = json_fields(c, t->fields, -1, j, items, &bad, first, sizeof first);
    if (st != SL_OK)
        return st;
    if (bad)
        return sl__errbuf(c->why, c->whylen, SL_EPARSE, "%s", first);
    *out = sl_composite(SL_KIND_TUPLE, items, n);
    return SL_OK;
}

/* The scalar conversions of json_convert. */
static sl_status json_scalar(json_ctx *c, const sl_type *t, const cJSON *j,
                             sl_value *out)
{
    int type = j->type & 0xff;
    double d = j->valuedouble;

    switch (t->id) {
    case SL_TYPE_BOOLEAN:
        if (type != cJSON_True && type != cJSON_False)
            return mismatch(c, t, json_kind(j));
        *out = sl_bool(type == cJSON_True);
        return SL_OK;
    case SL_TYPE_LONG:
        /* cJSON keeps no token text, so 1.0 reads as 1 (Spark: a float
         * token into a long column is malformed). */
        if (type != cJSON_Number)
            return mismatch(c, t, json_kind(j));
        if (floor(d) != d || fabs(d) >= TWO_63)
            return mismatch(c, t, "a number that is no long");
        *out = sl_int((int64_t)d);
        return SL_OK;
    case SL_TYPE_DOUBLE:
        if (type == cJSON_String && json_special_double(j->valuestring, &d)) {
            *out = sl_double(d);
            return SL_OK;
        }
        if (type != cJSON_Number)
            return mismatch(c, t, json_kind(j));
        *out = sl_double(d);
        return SL_OK;
    case SL_TYPE_STRING:
        if (type == cJSON_String)
            return sl__rec_copy_str(j->valuestring, strlen(j->valuestring),
                                    c->alloc, c->ctx, out);
        return json_as_text(c, j, out);
    default:
        return mismatch(c, t, json_kind(j));
    }
}

static sl_status json_convert(json_ctx *c, const sl_type *t, const cJSON *j,
                              sl_value *out)
{
    int type = j->type & 0xff;

    *out = sl_null();
    if (type == cJSON_NULL)
        return SL_OK;
    switch (t->id) {
    case SL_TYPE_TIMESTAMP:
        return json_timestamp(c, t, j, out);
    case SL_TYPE_BINARY:
        if (type != cJSON_String)
            return mismatch(c, t, json_kind(j));
        return json_binary(c, t, j, out);
    case SL_TYPE_ARRAY:
        if (type != cJSON_Array)
            return mismatch(c, t, json_kind(j));
        return json_array_of(c, t, j, out);
    case SL_TYPE_STRUCT:
        if (type != cJSON_Object)
            return mismatch(c, t, json_kind(j));
        return json_struct_of(c, t, j, out);
    default:
        return json_scalar(c, t, j, out);
    }
}

/* ----------------------------------------------------------- json rows */

cJSON *sl__rows_json_root(const char *line, size_t len, char *why, size_t n)
{
    const char *end = NULL;
    cJSON *root;
    size_t i;

    if (sl__json_prescan(line, len, why, n) != SL_OK)
        return NULL;
    root = sl__json_parse(line, len, &end, false);
    if (!root) {
        sl__errbuf(why, n, SL_EPARSE, "invalid JSON at column %zu",
                   end ? (size_t)(end - line) + 1 : 1);
        return NULL;
    }
    for (i = (size_t)(end - line); i < len && (unsigned char)line[i] <= ' ';
         i++)
        ;
    if (i < len) {
        sl__errbuf(why, n, SL_EPARSE,
                   "trailing characters after the JSON value at column %zu",
                   i + 1);
    } else if ((root->type & 0xff) != cJSON_Object) {
        sl__errbuf(why, n, SL_EPARSE, "%s where an object was expected",
                   json_kind(root));
    } else {
        return root;
    }
    cJSON_Delete(root);
    return NULL;
}

/*
 * A JSON line that is no object is malformed, the whole row NULL; an
 * object's fields that do not convert are NULL and make the row
 * malformed (Spark 3.0+ keeps the fields that did convert).
 */
static sl_status json_typed(sl__rec_reader *r, const char *line, size_t len,
                            sl__rec_alloc_fn alloc, void *ctx, sl_value *out,
                            char *err, size_t errlen)
{
    size_t ncol = sl_schema_size(r->schema);
    sl_value *items = row_new(alloc, ctx, ncol);
    char why[320] = "", scratch[256];
    json_ctx c = {alloc, ctx, scratch, sizeof scratch};
    bool bad = false;
    cJSON *root;
    sl_status st = SL_OK;

    if (!items)
        return sl__errbuf(err, errlen, SL_ENOMEM, "out of memory");
    root = sl__rows_json_root(line, len, why, sizeof why);
    if (!root)
        bad = true;
    else
        st = json_fields(&c, r->schema, r->corrupt, root, items, &bad, why,
                         sizeof why);
    cJSON_Delete(root);
    if (st != SL_OK)
        return sl__errbuf(err, errlen, st, "out of memory");
    return row_finish(r, line, len, items, bad, why, out, err, errlen);
}

sl_status sl__rows_parse(sl__rec_reader *r, const char *line, size_t len,
                         sl__rec_alloc_fn alloc, void *ctx, sl_value *out,
                         char *err, size_t errlen)
{
    sl_value *items;

    if (r->format == SL__REC_LINES) {
        if (!(items = alloc(ctx, sizeof *items)))
            return sl__errbuf(err, errlen, SL_ENOMEM, "out of memory");
        items[0] = sl_str(len ? line : empty_str, len);
        *out = sl_composite(SL_KIND_TUPLE, items, 1);
        return SL_OK;
    }
    if (blank(line, len))
        return SL_ENOTFOUND;
    if (r->format == SL__REC_CSV)
        return csv_typed(r, line, len, alloc, ctx, out, err, errlen);
    return json_typed(r, line, len, alloc, ctx, out, err, errlen);
}

/* Whether the n bytes at s are name, ASCII case-insensitively. */
static bool same_name(const char *s, size_t n, const char *name)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (!name[i] ||
            tolower((unsigned char)s[i]) != tolower((unsigned char)name[i]))
            return false;
    return name[n] == '\0';
}

bool sl__rows_is_header(const sl__rec_reader *r, const char *line, size_t len)
{
    const char *p = line, *end = line + len, *sep;
    size_t i, ncols = sl_schema_size(r->schema);

    for (i = 0; i < ncols; i++) {
        if ((int)i == r->corrupt)
            continue;
        if (p > end)
            return false; /* fewer fields than columns */
        sep = memchr(p, r->separator, (size_t)(end - p));
        if (!sep)
            sep = end;
        if (!same_name(p, (size_t)(sep - p), sl_schema_name(r->schema, i)))
            return false;
        p = sep + 1;
    }
    return p == end + 1; /* the last name ended the line */
}
