/*
 * Regular-expression functions: split, regexp_extract, regexp_replace,
 * on PCRE2 in UTF mode (Java's java.util.regex, which Spark uses, agrees
 * with PCRE on the common syntax; docs/sql.md lists the differences).
 *
 * A constant pattern is compiled once in prepare (an invalid one fails
 * the query's compile with PCRE2's message and offset) and the compiled
 * code is shared read-only by every worker thread. Match data is per
 * call: it is allocated in the caller's scratch arena through a PCRE2
 * general context whose malloc is the arena, so eval never calls malloc
 * and threads never share mutable state. A pattern that is not constant
 * is compiled per row, also into scratch: that costs a compile per row
 * (microseconds for a short pattern), and an invalid one gives NULL.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdio.h>
#include <string.h>

#include "core/schema.h"
#include "sql/functions_int.h"

#define RE_OPTIONS (PCRE2_UTF | PCRE2_MATCH_INVALID_UTF)

typedef struct re_state {
    pcre2_code *code; /* NULL: the pattern is not constant */
    /* A constant pattern of ASCII characters none of which is special to
     * Java's regex syntax matches exactly its own bytes: split cuts at
     * them with memchr/memmem (as Java's String.split does for such a
     * pattern of one character) instead of running the matcher. ASCII
     * bytes never occur inside a multi-byte UTF-8 sequence, so the cuts
     * are the matcher's on any input, invalid UTF-8 included. */
    const char *lit; /* NULL: not such a pattern */
    size_t lit_len;
} re_state;

/* True when the n bytes at p are such a literal (see re_state). */
static bool is_literal(const char *p, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)p[i] >= 0x80 || strchr("\\^$.|?*+()[]{}", p[i]))
            return false;
    return true;
}

/* A matcher for one call: the code and match data in scratch. */
typedef struct re_iter {
    const pcre2_code *code;
    pcre2_match_data *md;
    const char *s;
    size_t n, from;
} re_iter;

static void *arena_malloc(PCRE2_SIZE size, void *a)
{
    return sl__arena_alloc(a, size);
}

static void arena_free(void *p, void *a)
{
    SL__UNUSED(p), SL__UNUSED(a); /* freed with the arena */
}

static void code_free(void *code)
{
    pcre2_code_free(code);
}

static sl_status re_prepare(const sl_value *const *consts, size_t n,
                            sl__arena *a, void **state, const char **why)
{
    SL__UNUSED(n);
    re_state *rs = sl__arena_alloc(a, sizeof *rs);
    int err;
    PCRE2_SIZE off;
    if (!rs)
        return SL_ENOMEM;
    rs->code = NULL;
    rs->lit = NULL;
    rs->lit_len = 0;
    *state = rs;
    if (!consts[1] || consts[1]->kind != SL_KIND_STR)
        return SL_OK;
    if (is_literal(consts[1]->u.s, consts[1]->len)) {
        rs->lit = sl__arena_memdup(a, consts[1]->u.s, consts[1]->len);
        if (!rs->lit)
            return SL_ENOMEM;
        rs->lit_len = consts[1]->len;
    }
    rs->code = pcre2_compile((PCRE2_SPTR)consts[1]->u.s, consts[1]->len,
                             RE_OPTIONS, &err, &off, NULL);
    if (!rs->code) {
        char msg[160], *w = sl__arena_alloc(a, 240);
        pcre2_get_error_message(err, (PCRE2_UCHAR *)msg, sizeof msg);
        if (w)
            snprintf(w, 240, "invalid regular expression at offset %zu: %s",
                     (size_t)off, msg);
        *why = w ? w : "invalid regular expression";
        return SL_EPARSE;
    }
    if (sl__arena_on_cleanup(a, code_free, rs->code) != SL_OK) {
        pcre2_code_free(rs->code);
        rs->code = NULL;
        return SL_ENOMEM;
    }
    return SL_OK;
}

/* Set up it for subject s and the call's pattern: 1 ready, 0 the
 * pattern is invalid (the call gives NULL), -1 out of memory. */
static int re_begin(re_iter *it, const re_state *rs, const sl_value *s,
                    const sl_value *pattern, sl__arena *a)
{
    pcre2_general_context *g =
        pcre2_general_context_create(arena_malloc, arena_free, a);
    int err;
    PCRE2_SIZE off;
    if (!g)
        return -1;
    it->code = rs ? rs->code : NULL;
    if (!it->code) {
        pcre2_compile_context *cc = pcre2_compile_context_create(g);
        if (!cc)
            return -1;
        it->code = pcre2_compile((PCRE2_SPTR)pattern->u.s, pattern->len,
                                 RE_OPTIONS, &err, &off, cc);
        if (!it->code)
            return err == PCRE2_ERROR_HEAP_FAILED ? -1 : 0;
    }
    it->md = pcre2_match_data_create_from_pattern(it->code, g);
    if (!it->md)
        return -1;
    it->s = s->u.s;
    it->n = s->len;
    it->from = 0;
    return 1;
}

/* The next match as Java's Matcher.find: after an empty match the
 * search resumes one character further. 1 found, 0 none, -1 error. */
static int re_find(re_iter *it, size_t *ms, size_t *me)
{
    if (it->from > it->n)
        return 0;
    int rc = pcre2_match(it->code, (PCRE2_SPTR)it->s, it->n, it->from, 0,
                         it->md, NULL);
    if (rc == PCRE2_ERROR_NOMATCH)
        return 0;
    if (rc < 0)
        return -1;
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(it->md);
    *ms = ov[0];
    *me = ov[1] > ov[0] ? ov[1] : ov[0];
    it->from = *me > *ms     ? *me
               : *me < it->n ? *me + sl__utf8_len((unsigned char)it->s[*me])
                             : *me + 1;
    return 1;
}

/* ---------------------------------------------------------------- split */

static const sl_type *split_bind(const sl_type *const *args, size_t n,
                                 const sl_type **want, sl__arena *a,
                                 const char **why)
{
    for (size_t i = 0; i < n; i++)
        if (!sl__fn_want(args, want, i, i == 2 ? SL_TYPE_LONG : SL_TYPE_STRING,
                         a, why))
            return NULL;
    const sl_type *t = sl__type_array(a, sl_type_scalar(SL_TYPE_STRING));
    if (!t)
        *why = "out of memory";
    return t;
}

/* A growing list of string views in scratch. */
typedef struct pieces {
    sl_value *items;
    size_t n, cap;
} pieces;

static bool piece_add(pieces *p, sl__arena *a, const char *s, size_t len)
{
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 8;
        sl_value *items = sl__arena_alloc(a, cap * sizeof *items);
        if (!items)
            return false;
        if (p->n)
            memcpy(items, p->items, p->n * sizeof *items);
        p->items = items;
        p->cap = cap;
    }
    p->items[p->n++] = sl_str(s, len);
    return true;
}

/* Spark's UTF8String.split for an empty pattern: one piece per
 * character, the last piece holding the rest when limit is reached. */
static sl_status split_chars(const sl_value *s, int64_t limit, sl__arena *a,
                             sl_value *out)
{
    pieces p = {0};
    size_t i = 0;
    int64_t chars = (int64_t)sl__utf8_count(s->u.s, s->len);
    int64_t max = limit <= 0 || limit > chars ? chars : limit;
    for (int64_t k = 0; k < max - 1; k++) {
        size_t l = sl__utf8_len((unsigned char)s->u.s[i]);
        if (!piece_add(&p, a, s->u.s + i, l))
            return SL_ENOMEM;
        i += l;
    }
    if (!piece_add(&p, a, s->u.s + i, s->len - i))
        return SL_ENOMEM;
    *out = sl_composite(SL_KIND_LIST, p.items, p.n);
    return SL_OK;
}

/* The next occurrence of the literal at or after from in s, or NULL. */
static const char *lit_find(const re_state *rs, const char *s, size_t n,
                            size_t from)
{
    if (rs->lit_len == 1)
        return memchr(s + from, rs->lit[0], n - from);
    return memmem(s + from, n - from, rs->lit, rs->lit_len);
}

/* split by a literal pattern (re_state): the pieces between its
 * occurrences, as the matcher would cut them (a literal has no
 * zero-width match). */
static sl_status split_literal(const re_state *rs, const sl_value *s,
                               int64_t limit, sl__arena *a, sl_value *out)
{
    pieces p = {0};
    size_t last = 0;
    const char *m;
    while ((limit <= 0 || (int64_t)p.n < limit - 1) &&
           (m = lit_find(rs, s->u.s, s->len, last)) != NULL) {
        if (!piece_add(&p, a, s->u.s + last, (size_t)(m - s->u.s) - last))
            return SL_ENOMEM;
        last = (size_t)(m - s->u.s) + rs->lit_len;
    }
    if (!piece_add(&p, a, s->u.s + last, s->len - last))
        return SL_ENOMEM;
    *out = sl_composite(SL_KIND_LIST, p.items, p.n);
    return SL_OK;
}

/* Java's String.split(regex, limit) with Spark's limit 0 as -1: every
 * piece kept, trailing empty ones too; a zero-width match at the very
 * start gives no leading empty piece; limit > 0 caps the pieces. */
static sl_status split_eval(const void *st, const sl_value *args, size_t n,
                            const sl_type *result, sl__arena *scratch,
                            sl_value *out)
{
    SL__UNUSED(result);
    int64_t limit = n > 2 ? args[2].u.i : -1;
    pieces p = {0};
    re_iter it;
    size_t ms, me, last = 0;
    int rc;
    *out = sl_null();
    if (args[0].len && args[1].len == 0)
        return split_chars(&args[0], limit, scratch, out);
    if (st && ((const re_state *)st)->lit)
        return split_literal(st, &args[0], limit, scratch, out);
    rc = re_begin(&it, st, &args[0], &args[1], scratch);
    if (rc <= 0)
        return rc < 0 ? SL_ENOMEM : SL_OK;
    while ((limit <= 0 || (int64_t)p.n < limit - 1) &&
           (rc = re_find(&it, &ms, &me)) == 1) {
        if (me == 0 && ms == 0)
            continue; /* zero width at the start: no leading piece */
        if (!piece_add(&p, scratch, it.s + last, ms - last))
            return SL_ENOMEM;
        last = me;
    }
    if (rc < 0)
        return SL_OK; /* a matching error (limits): NULL */
    if (!piece_add(&p, scratch, it.s + last, it.n - last))
        return SL_ENOMEM;
    *out = sl_composite(SL_KIND_LIST, p.items, p.n);
    return SL_OK;
}

/* ------------------------------------------------------- regexp_extract */

static const sl_type *extract_bind(const sl_type *const *args, size_t n,
                                   const sl_type **want, sl__arena *a,
                                   const char **why)
{
    for (size_t i = 0; i < n; i++)
        if (!sl__fn_want(args, want, i, i == 2 ? SL_TYPE_LONG : SL_TYPE_STRING,
                         a, why))
            return NULL;
    return sl_type_scalar(SL_TYPE_STRING);
}

/* Group idx (default 1) of the first match; '' when there is no match
 * or the group took no part; NULL for an idx the pattern does not have
 * (Spark raises an error there even with ANSI off). */
static sl_status extract_eval(const void *st, const sl_value *args, size_t n,
                              const sl_type *result, sl__arena *scratch,
                              sl_value *out)
{
    SL__UNUSED(result);
    int64_t idx = n > 2 ? args[2].u.i : 1;
    re_iter it;
    size_t ms, me;
    uint32_t groups;
    int rc = re_begin(&it, st, &args[0], &args[1], scratch);
    *out = sl_null();
    if (rc <= 0)
        return rc < 0 ? SL_ENOMEM : SL_OK;
    pcre2_pattern_info(it.code, PCRE2_INFO_CAPTURECOUNT, &groups);
    if (idx < 0 || idx > (int64_t)groups)
        return SL_OK;
    rc = re_find(&it, &ms, &me);
    if (rc < 0)
        return SL_OK;
    *out = sl_str(args[0].u.s, 0);
    if (rc == 1) {
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(it.md);
        if (ov[2 * idx] != PCRE2_UNSET && ov[2 * idx + 1] >= ov[2 * idx])
            *out = sl_str(it.s + ov[2 * idx], ov[2 * idx + 1] - ov[2 * idx]);
    }
    return SL_OK;
}

/* ------------------------------------------------------- regexp_replace */

/* Append bytes to d (measuring only when d is NULL). */
static void put(char *d, size_t *o, const char *s, size_t n)
{
    if (d && n)
        memcpy(d + *o, s, n);
    *o += n;
}

/* Expand rep for the current match as Java's appendReplacement: "\x"
 * is x, "$n" group n (more digits while the number stays a group),
 * "${name}" a named group. false: a bad reference (the call is NULL). */
static bool expand(const re_iter *it, const sl_value *rep, char *d, size_t *o)
{
    const char *r = rep->u.s;
    size_t rn = rep->len;
    uint32_t groups;
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(it->md);
    pcre2_pattern_info(it->code, PCRE2_INFO_CAPTURECOUNT, &groups);
    for (size_t i = 0; i < rn; i++) {
        if (r[i] == '\\') {
            if (++i == rn)
                return false;
            put(d, o, r + i, 1);
            continue;
        }
        if (r[i] != '$') {
            put(d, o, r + i, 1);
            continue;
        }
        if (++i == rn)
            return false;
        int64_t g;
        if (r[i] == '{') {
            size_t e = i + 1;
            while (e < rn && r[e] != '}')
                e++;
            char name[64];
            if (e == rn || e - i - 1 >= sizeof name)
                return false;
            memcpy(name, r + i + 1, e - i - 1);
            name[e - i - 1] = '\0';
            int num =
                pcre2_substring_number_from_name(it->code, (PCRE2_SPTR)name);
            if (num < 0)
                return false;
            g = num;
            i = e;
        } else {
            if (r[i] < '0' || r[i] > '9' || (uint32_t)(r[i] - '0') > groups)
                return false;
            g = r[i] - '0';
            while (i + 1 < rn && r[i + 1] >= '0' && r[i + 1] <= '9' &&
                   g * 10 + (r[i + 1] - '0') <= (int64_t)groups)
                g = g * 10 + (r[++i] - '0');
        }
        if (ov[2 * g] != PCRE2_UNSET)
            put(d, o, it->s + ov[2 * g], ov[2 * g + 1] - ov[2 * g]);
    }
    return true;
}

/* One pass over the matches: measures (d NULL) or writes. 1 done, 0 a
 * bad replacement or matching error, -1 out of memory. */
static int replace_pass(const void *st, const sl_value *args, sl__arena *a,
                        char *d, size_t *o)
{
    re_iter it;
    size_t ms, me, last = 0;
    int rc = re_begin(&it, st, &args[0], &args[1], a);
    if (rc <= 0)
        return rc;
    while ((rc = re_find(&it, &ms, &me)) == 1) {
        put(d, o, it.s + last, ms - last);
        if (!expand(&it, &args[2], d, o))
            return 0;
        last = me;
    }
    if (rc < 0)
        return 0;
    put(d, o, it.s + last, it.n - last);
    return 1;
}

static sl_status replace_eval(const void *st, const sl_value *args, size_t n,
                              const sl_type *result, sl__arena *scratch,
                              sl_value *out)
{
    SL__UNUSED(n), SL__UNUSED(result);
    size_t len = 0, o = 0;
    int rc = replace_pass(st, args, scratch, NULL, &len);
    *out = sl_null();
    if (rc <= 0 || len > SL__SQL_MAX_STR) /* too long a result: NULL */
        return rc < 0 ? SL_ENOMEM : SL_OK;
    char *d = sl__arena_alloc(scratch, len ? len : 1);
    if (!d)
        return SL_ENOMEM;
    rc = replace_pass(st, args, scratch, d, &o);
    if (rc <= 0)
        return rc < 0 ? SL_ENOMEM : SL_OK;
    *out = sl_str(d, o);
    return SL_OK;
}

static const sl_type *bind_sss(const sl_type *const *args, size_t n,
                               const sl_type **want, sl__arena *a,
                               const char **why)
{
    for (size_t i = 0; i < n; i++)
        if (!sl__fn_want(args, want, i, SL_TYPE_STRING, a, why))
            return NULL;
    return sl_type_scalar(SL_TYPE_STRING);
}

const sl__sql_func sl__sql_funcs_regex[] = {
    {"split", 2, 3, split_bind, re_prepare, split_eval, true},
    {"regexp_extract", 2, 3, extract_bind, re_prepare, extract_eval, true},
    {"regexp_replace", 3, 3, bind_sss, re_prepare, replace_eval, true},
    {NULL, 0, 0, NULL, NULL, NULL, false},
};
