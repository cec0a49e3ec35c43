/*
 * String functions (Spark SQL 3.5, ANSI off). Strings are UTF-8;
 * lengths and positions count characters, 1-based as SQL's. Results go
 * into the caller's scratch arena or are views into the arguments.
 * Regular expressions are in functions_regex.c.
 */
#include <string.h>

#include "core/schema.h"
#include "sql/functions_int.h"

/* ------------------------------------------------------------- helpers */

static const sl_type *str_result(const sl_type *const *args, size_t n,
                                 const sl_type **want, sl__arena *a,
                                 const char **why, sl_type_id result)
{
    for (size_t i = 0; i < n; i++)
        if (!sl__fn_want(args, want, i, SL_TYPE_STRING, a, why))
            return NULL;
    return sl_type_scalar(result);
}

/* All arguments strings; result string. */
static const sl_type *bind_s_s(const sl_type *const *args, size_t n,
                               const sl_type **want, sl__arena *a,
                               const char **why)
{
    return str_result(args, n, want, a, why, SL_TYPE_STRING);
}

/* All arguments strings; result long. */
static const sl_type *bind_s_l(const sl_type *const *args, size_t n,
                               const sl_type **want, sl__arena *a,
                               const char **why)
{
    return str_result(args, n, want, a, why, SL_TYPE_LONG);
}

/* (string, long[, string]) -> string: substring's, lpad's shapes. */
static const sl_type *bind_sl_s(const sl_type *const *args, size_t n,
                                const sl_type **want, sl__arena *a,
                                const char **why)
{
    for (size_t i = 0; i < n; i++) {
        sl_type_id id = i == 0             ? SL_TYPE_STRING
                        : i == 1 || i == 2 ? SL_TYPE_LONG
                                           : SL_TYPE_STRING;
        if (!sl__fn_want(args, want, i, id, a, why))
            return NULL;
    }
    return sl_type_scalar(SL_TYPE_STRING);
}

/* (string, long, string) for lpad/rpad: the third is a string. */
static const sl_type *bind_pad(const sl_type *const *args, size_t n,
                               const sl_type **want, sl__arena *a,
                               const char **why)
{
    for (size_t i = 0; i < n; i++)
        if (!sl__fn_want(args, want, i, i == 1 ? SL_TYPE_LONG : SL_TYPE_STRING,
                         a, why))
            return NULL;
    return sl_type_scalar(SL_TYPE_STRING);
}

/* The byte offset of character `chars` in s (n when past the end). */
static size_t char_off(const char *s, size_t n, int64_t chars)
{
    size_t i = 0;
    for (; i < n && chars > 0; chars--)
        i += sl__utf8_len((unsigned char)s[i]);
    return i < n ? i : n;
}

#define EVAL_ARGS                                                              \
    const void *st, const sl_value *args, size_t n, const sl_type *result,     \
        sl__arena *scratch, sl_value *out
#define EVAL_UNUSED SL__UNUSED(st), SL__UNUSED(n), SL__UNUSED(result)

/* ---------------------------------------------------------- lower/upper */

/* Decode one UTF-8 character at s (at most n bytes); *len its bytes. */
static uint32_t utf8_get(const unsigned char *s, size_t n, size_t *len)
{
    size_t l = sl__utf8_len(s[0]);
    if (l > n || l == 1) {
        *len = 1;
        return s[0];
    }
    uint32_t c = s[0] & (0x7F >> l);
    for (size_t i = 1; i < l; i++) {
        if ((s[i] & 0xC0) != 0x80) {
            *len = 1;
            return s[0];
        }
        c = (c << 6) | (s[i] & 0x3F);
    }
    *len = l;
    return c;
}

/*
 * Case mapping of ASCII, Latin-1, Greek and Cyrillic letters (the
 * blocks whose case pairs sit at a fixed distance). Java maps every
 * Unicode letter; other scripts pass through unchanged here
 * (docs/sql.md says so).
 */
static uint32_t case_map(uint32_t c, bool up)
{
    if (up) {
        if ((c >= 'a' && c <= 'z') || (c >= 0xE0 && c <= 0xFE && c != 0xF7) ||
            (c >= 0x3B1 && c <= 0x3C9 && c != 0x3C2) ||
            (c >= 0x430 && c <= 0x44F))
            return c - 0x20;
        if (c >= 0x450 && c <= 0x45F)
            return c - 0x50;
        return c;
    }
    if ((c >= 'A' && c <= 'Z') || (c >= 0xC0 && c <= 0xDE && c != 0xD7) ||
        (c >= 0x391 && c <= 0x3A9 && c != 0x3A2) || (c >= 0x410 && c <= 0x42F))
        return c + 0x20;
    if (c >= 0x400 && c <= 0x40F)
        return c + 0x50;
    return c;
}

/* Every mapped character keeps its UTF-8 length (the blocks above do
 * not cross an encoding-length boundary), so the result is as long. */
static size_t utf8_put(uint32_t c, char *p)
{
    if (c < 0x80)
        return p[0] = (char)c, 1;
    if (c < 0x800) {
        p[0] = (char)(0xC0 | (c >> 6));
        p[1] = (char)(0x80 | (c & 0x3F));
        return 2;
    }
    p[0] = (char)(0xE0 | (c >> 12));
    p[1] = (char)(0x80 | ((c >> 6) & 0x3F));
    p[2] = (char)(0x80 | (c & 0x3F));
    return 3;
}

/* mode: 0 lower, 1 upper, 2 initcap (lower, then upper after a space). */
static sl_status map_case(const sl_value *v, int mode, sl__arena *a,
                          sl_value *out)
{
    const unsigned char *s = (const unsigned char *)v->u.s;
    char *p = sl__arena_alloc(a, v->len ? v->len : 1);
    size_t i = 0, o = 0, l;
    bool word_start = true;
    if (!p)
        return SL_ENOMEM;
    while (i < v->len) {
        uint32_t c = utf8_get(s + i, v->len - i, &l);
        bool up = mode == 1 || (mode == 2 && word_start);
        uint32_t m = case_map(c, up);
        if (l == 1 && c >= 0x80) /* a bad byte is copied as it is */
            p[o++] = (char)s[i];
        else if (m != c || l < 4)
            o += utf8_put(m, p + o);
        else
            memcpy(p + o, s + i, l), o += l;
        word_start = c == ' ';
        i += l;
    }
    *out = sl_str(p, o);
    return SL_OK;
}

static sl_status lower_eval(EVAL_ARGS)
{
    EVAL_UNUSED;
    return map_case(&args[0], 0, scratch, out);
}

static sl_status upper_eval(EVAL_ARGS)
{
    EVAL_UNUSED;
    return map_case(&args[0], 1, scratch, out);
}

static sl_status initcap_eval(EVAL_ARGS)
{
    EVAL_UNUSED;
    return map_case(&args[0], 2, scratch, out);
}

/* ------------------------------------------------------ length, substr */

static sl_status length_eval(EVAL_ARGS)
{
    EVAL_UNUSED, SL__UNUSED(scratch);
    *out = sl_int((int64_t)sl__utf8_count(args[0].u.s, args[0].len));
    return SL_OK;
}

/* UTF8String.substringSQL: pos 1-based, 0 as 1, negative from the end;
 * a start before the string still counts len from there. */
static sl_status substr_eval(EVAL_ARGS)
{
    EVAL_UNUSED, SL__UNUSED(scratch);
    const char *s = args[0].u.s;
    int64_t chars = (int64_t)sl__utf8_count(s, args[0].len);
    int64_t pos = args[1].u.i, start, end = INT64_MAX;
    start = pos > 0 ? pos - 1 : pos < 0 ? chars + pos : 0;
    if (n > 2) {
        int64_t len = args[2].u.i;
        end = len > 0 && start > INT64_MAX - len ? INT64_MAX : start + len;
    }
    if (start < 0)
        start = 0;
    if (start >= end || start >= chars) {
        *out = sl_str(s, 0);
        return SL_OK;
    }
    size_t b = char_off(s, args[0].len, start);
    size_t e = end >= chars ? args[0].len
                            : b + char_off(s + b, args[0].len - b, end - start);
    *out = sl_str(s + b, e - b);
    return SL_OK;
}

/* ----------------------------------------------------------------- trim */

/* mode bit 1: left, bit 2: right. Spark trims the space ' ' only. */
static sl_status trim_mode(const sl_value *v, int mode, sl_value *out)
{
    const char *s = v->u.s;
    size_t b = 0, e = v->len;
    while ((mode & 1) && b < e && s[b] == ' ')
        b++;
    while ((mode & 2) && e > b && s[e - 1] == ' ')
        e--;
    *out = sl_str(s + b, e - b);
    return SL_OK;
}

static sl_status trim_eval(EVAL_ARGS)
{
    EVAL_UNUSED, SL__UNUSED(scratch);
    return trim_mode(&args[0], 3, out);
}

static sl_status ltrim_eval(EVAL_ARGS)
{
    EVAL_UNUSED, SL__UNUSED(scratch);
    return trim_mode(&args[0], 1, out);
}

static sl_status rtrim_eval(EVAL_ARGS)
{
    EVAL_UNUSED, SL__UNUSED(scratch);
    return trim_mode(&args[0], 2, out);
}

/* -------------------------------------------------------------- concat */

static sl_status concat_eval(EVAL_ARGS)
{
    SL__UNUSED(st), SL__UNUSED(result);
    size_t total = 0, o = 0;
    for (size_t i = 0; i < n; i++)
        total += args[i].len;
    char *p = sl__arena_alloc(scratch, total ? total : 1);
    if (!p)
        return SL_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        if (args[i].len)
            memcpy(p + o, args[i].u.s, args[i].len);
        o += args[i].len;
    }
    *out = sl_str(p, total);
    return SL_OK;
}

/* concat_ws(sep, ...): strings and arrays of strings (flattened). */
static const sl_type *concat_ws_bind(const sl_type *const *args, size_t n,
                                     const sl_type **want, sl__arena *a,
                                     const char **why)
{
    const sl_type *str = sl_type_scalar(SL_TYPE_STRING);
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && args[i]->id == SL_TYPE_ARRAY) {
            const sl_type *el = args[i]->element;
            if (!el || el->id == SL_TYPE_ARRAY || el->id == SL_TYPE_STRUCT) {
                *why = "concat_ws takes strings and arrays of strings";
                return NULL;
            }
            want[i] =
                el->id == SL_TYPE_STRING ? args[i] : sl__type_array(a, str);
            if (!want[i]) {
                *why = "out of memory";
                return NULL;
            }
        } else if (!sl__fn_want(args, want, i, SL_TYPE_STRING, a, why)) {
            return NULL;
        }
    }
    return str;
}

/* Append the non-NULL strings of v (a string or an array of them). */
static void ws_walk(const sl_value *v, const sl_value *sep, char *p, size_t *o,
                    bool *first)
{
    if (v->kind == SL_KIND_LIST) {
        for (size_t j = 0; j < v->len; j++)
            ws_walk(&v->u.items[j], sep, p, o, first);
        return;
    }
    if (v->kind != SL_KIND_STR)
        return; /* NULL elements are skipped */
    if (!*first) {
        if (p && sep->len)
            memcpy(p + *o, sep->u.s, sep->len);
        *o += sep->len;
    }
    if (p && v->len)
        memcpy(p + *o, v->u.s, v->len);
    *o += v->len;
    *first = false;
}

static sl_status concat_ws_eval(EVAL_ARGS)
{
    SL__UNUSED(st), SL__UNUSED(result);
    size_t total = 0, o = 0;
    bool first = true;
    if (args[0].kind != SL_KIND_STR) { /* a NULL separator: NULL */
        *out = sl_null();
        return SL_OK;
    }
    for (size_t i = 1; i < n; i++) /* measure first, then copy */
        ws_walk(&args[i], &args[0], NULL, &total, &first);
    if (total > SL__SQL_MAX_STR) {
        *out = sl_null();
        return SL_OK;
    }
    char *p = sl__arena_alloc(scratch, total ? total : 1);
    if (!p)
        return SL_ENOMEM;
    first = true;
    for (size_t i = 1; i < n; i++)
        ws_walk(&args[i], &args[0], p, &o, &first);
    *out = sl_str(p, o);
    return SL_OK;
}

/* ------------------------------------------------------ instr, replace */

static const char *find_bytes(const char *h, size_t hn, const char *nd,
                              size_t nn)
{
    if (nn == 0)
        return h;
    for (size_t i = 0; i + nn <= hn; i++)
        if (h[i] == nd[0] && memcmp(h + i, nd, nn) == 0)
            return h + i;
    return NULL;
}

/* instr(str, substr): 1-based character position of the first
 * occurrence, 0 when none (an empty substr is at 1). */
static sl_status instr_eval(EVAL_ARGS)
{
    EVAL_UNUSED, SL__UNUSED(scratch);
    const char *at =
        find_bytes(args[0].u.s, args[0].len, args[1].u.s, args[1].len);
    *out = sl_int(
        at ? (int64_t)sl__utf8_count(args[0].u.s, (size_t)(at - args[0].u.s)) +
                 1
           : 0);
    return SL_OK;
}

/* replace(str, search[, rep]): every occurrence; an empty search
 * leaves str as it is (Spark). */
static sl_status replace_eval(EVAL_ARGS)
{
    SL__UNUSED(st), SL__UNUSED(result);
    const sl_value *s = &args[0], *f = &args[1];
    sl_value empty = sl_str("", 0);
    const sl_value *r = n > 2 ? &args[2] : &empty;
    size_t count = 0, o = 0;
    if (f->len == 0) {
        *out = *s;
        return SL_OK;
    }
    for (const char *p = s->u.s, *end = s->u.s + s->len;
         (p = find_bytes(p, (size_t)(end - p), f->u.s, f->len)); p += f->len)
        count++;
    if (r->len > f->len && count &&
        (r->len - f->len) > (SL__SQL_MAX_STR - s->len) / count) {
        *out = sl_null(); /* too long a result: NULL */
        return SL_OK;
    }
    size_t total = s->len - count * f->len + count * r->len;
    char *d = sl__arena_alloc(scratch, total ? total : 1);
    if (!d)
        return SL_ENOMEM;
    const char *p = s->u.s, *end = s->u.s + s->len, *m;
    while ((m = find_bytes(p, (size_t)(end - p), f->u.s, f->len))) {
        memcpy(d + o, p, (size_t)(m - p));
        o += (size_t)(m - p);
        if (r->len)
            memcpy(d + o, r->u.s, r->len);
        o += r->len;
        p = m + f->len;
    }
    memcpy(d + o, p, (size_t)(end - p));
    *out = sl_str(d, total);
    return SL_OK;
}

/* ------------------------------------------------------------ lpad/rpad */

/* UTF8String.lpad/rpad: cut to len characters when longer (or when the
 * pad is empty); len <= 0 gives ''. */
static sl_status pad(const sl_value *args, size_t n, bool left, sl__arena *a,
                     sl_value *out)
{
    const sl_value *s = &args[0];
    sl_value space = sl_str(" ", 1);
    const sl_value *pv = n > 2 ? &args[2] : &space;
    int64_t len = args[1].u.i;
    int64_t chars = (int64_t)sl__utf8_count(s->u.s, s->len);
    if (len <= 0) {
        *out = sl_str(s->u.s, 0);
        return SL_OK;
    }
    if (chars >= len || pv->len == 0) {
        *out = sl_str(s->u.s, char_off(s->u.s, s->len, len));
        return SL_OK;
    }
    int64_t need = len - chars,
            pchars = (int64_t)sl__utf8_count(pv->u.s, pv->len);
    size_t full = (size_t)(need / pchars);
    size_t part = char_off(pv->u.s, pv->len, need % pchars);
    if (need > (int64_t)SL__SQL_MAX_STR ||
        full * pv->len > SL__SQL_MAX_STR - s->len) {
        *out = sl_null(); /* too long a result: NULL */
        return SL_OK;
    }
    size_t pbytes = full * pv->len + part, o = 0;
    char *d = sl__arena_alloc(a, pbytes + s->len);
    if (!d)
        return SL_ENOMEM;
    if (!left)
        memcpy(d, s->u.s, s->len), o = s->len;
    for (size_t i = 0; i < full; i++, o += pv->len)
        memcpy(d + o, pv->u.s, pv->len);
    memcpy(d + o, pv->u.s, part), o += part;
    if (left)
        memcpy(d + o, s->u.s, s->len);
    *out = sl_str(d, pbytes + s->len);
    return SL_OK;
}

static sl_status lpad_eval(EVAL_ARGS)
{
    SL__UNUSED(st), SL__UNUSED(result);
    return pad(args, n, true, scratch, out);
}

static sl_status rpad_eval(EVAL_ARGS)
{
    SL__UNUSED(st), SL__UNUSED(result);
    return pad(args, n, false, scratch, out);
}

/* reverse(str): by characters, so multibyte characters stay whole. */
static sl_status reverse_eval(EVAL_ARGS)
{
    EVAL_UNUSED;
    const char *s = args[0].u.s;
    size_t len = args[0].len;
    char *d = sl__arena_alloc(scratch, len ? len : 1);
    if (!d)
        return SL_ENOMEM;
    for (size_t i = 0; i < len;) {
        size_t l = sl__utf8_len((unsigned char)s[i]);
        if (l > len - i)
            l = len - i;
        memcpy(d + len - i - l, s + i, l);
        i += l;
    }
    *out = sl_str(d, len);
    return SL_OK;
}

const sl__sql_func sl__sql_funcs_str[] = {
    {"lower", 1, 1, bind_s_s, NULL, lower_eval, true},
    {"lcase", 1, 1, bind_s_s, NULL, lower_eval, true},
    {"upper", 1, 1, bind_s_s, NULL, upper_eval, true},
    {"ucase", 1, 1, bind_s_s, NULL, upper_eval, true},
    {"initcap", 1, 1, bind_s_s, NULL, initcap_eval, true},
    {"length", 1, 1, bind_s_l, NULL, length_eval, true},
    {"char_length", 1, 1, bind_s_l, NULL, length_eval, true},
    {"character_length", 1, 1, bind_s_l, NULL, length_eval, true},
    {"substring", 2, 3, bind_sl_s, NULL, substr_eval, true},
    {"substr", 2, 3, bind_sl_s, NULL, substr_eval, true},
    {"trim", 1, 1, bind_s_s, NULL, trim_eval, true},
    {"ltrim", 1, 1, bind_s_s, NULL, ltrim_eval, true},
    {"rtrim", 1, 1, bind_s_s, NULL, rtrim_eval, true},
    {"concat", 1, SIZE_MAX, bind_s_s, NULL, concat_eval, true},
    {"concat_ws", 1, SIZE_MAX, concat_ws_bind, NULL, concat_ws_eval, false},
    {"instr", 2, 2, bind_s_l, NULL, instr_eval, true},
    {"replace", 2, 3, bind_s_s, NULL, replace_eval, true},
    {"lpad", 2, 3, bind_pad, NULL, lpad_eval, true},
    {"rpad", 2, 3, bind_pad, NULL, rpad_eval, true},
    {"reverse", 1, 1, bind_s_s, NULL, reverse_eval, true},
    {NULL, 0, 0, NULL, NULL, NULL, false},
};
