/*
 * LIKE and RLIKE matching (eval_int.h).
 *
 * LIKE as Spark's: case-sensitive, `_` one character (a UTF-8 sequence),
 * `%` any run of characters, the backslash escaping `_`, `%` or itself
 * (anything else after it, or a backslash at the end, makes the pattern
 * invalid, as Spark's StringUtils.escapeLikeRegex). A pattern compiles
 * to tokens (literal runs with escapes resolved, `_`, `%`) matched by
 * the classic wildcard walk that backtracks to the last `%` only, so a
 * match is linear in practice and never recursive.
 *
 * RLIKE as Spark's: Java's Matcher.find (a match anywhere), on PCRE2 in
 * UTF mode. Match data is allocated in scratch through a PCRE2 general
 * context whose malloc is the arena, so evaluation never calls malloc.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdio.h>
#include <string.h>

#include "sql/eval_int.h"

enum { TOK_LIT, TOK_ONE, TOK_ANY };

typedef struct like_tok {
    uint32_t kind, len; /* LIT: len bytes at s */
    const char *s;
} like_tok;

typedef struct like_pat {
    size_t n;
    like_tok t[];
} like_pat;

static size_t u8len(unsigned char c)
{
    return c < 0xC0 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
}

const void *sl__sql_like_compile(const char *pat, size_t n, sl__arena *a,
                                 const char **why)
{
    like_pat *p = sl__arena_alloc(a, sizeof *p + (n + 1) * sizeof(like_tok));
    char *lit = sl__arena_alloc(a, n + 1); /* literal bytes, unescaped */
    size_t o = 0;
    *why = NULL;
    if (!p || !lit)
        return NULL;
    p->n = 0;
    for (size_t i = 0; i < n; i++) {
        char c = pat[i];
        if (c == '%' || c == '_') {
            /* %% is one %; keep the token list short */
            if (!(c == '%' && p->n && p->t[p->n - 1].kind == TOK_ANY))
                p->t[p->n++] = (like_tok){c == '%' ? TOK_ANY : TOK_ONE, 0, 0};
            continue;
        }
        if (c == '\\') {
            if (i + 1 == n) {
                *why = "it is not allowed to end with the escape character";
                return NULL;
            }
            c = pat[++i];
            if (c != '%' && c != '_' && c != '\\') {
                *why = "the escape character is not allowed to precede a "
                       "character other than %, _ or \\";
                return NULL;
            }
        }
        if (!p->n || p->t[p->n - 1].kind != TOK_LIT)
            p->t[p->n++] = (like_tok){TOK_LIT, 0, lit + o};
        lit[o++] = c;
        p->t[p->n - 1].len++;
    }
    return p;
}

bool sl__sql_like_match(const void *pattern, const char *s, size_t n)
{
    const like_pat *p = pattern;
    size_t si = 0, ti = 0, star_t = SIZE_MAX, star_s = 0;
    while (si < n) {
        const like_tok *t = ti < p->n ? &p->t[ti] : NULL;
        if (t && t->kind == TOK_LIT && t->len <= n - si &&
            !memcmp(s + si, t->s, t->len)) {
            si += t->len, ti++;
        } else if (t && t->kind == TOK_ONE) {
            size_t l = u8len((unsigned char)s[si]);
            si += l < n - si ? l : n - si, ti++;
        } else if (t && t->kind == TOK_ANY) {
            star_t = ti++, star_s = si;
        } else if (star_t != SIZE_MAX && star_s < n) {
            /* let the last % take one more character, and retry */
            size_t l = u8len((unsigned char)s[star_s]);
            star_s += l < n - star_s ? l : n - star_s;
            si = star_s, ti = star_t + 1;
        } else {
            return false;
        }
    }
    while (ti < p->n && p->t[ti].kind == TOK_ANY)
        ti++;
    return ti == p->n;
}

/* ---------------------------------------------------------------- RLIKE */

#define RE_OPTIONS (PCRE2_UTF | PCRE2_MATCH_INVALID_UTF)

static void *arena_malloc(PCRE2_SIZE size, void *a)
{
    return sl__arena_alloc(a, size);
}

static void arena_free(void *p, void *a)
{
    SL__UNUSED(p), SL__UNUSED(a); /* freed with the arena */
}

const void *sl__sql_regex_compile(const char *pat, size_t n, sl__arena *a,
                                  const char **why)
{
    pcre2_general_context *g =
        pcre2_general_context_create(arena_malloc, arena_free, a);
    pcre2_compile_context *cc = g ? pcre2_compile_context_create(g) : NULL;
    pcre2_code *code;
    int err;
    PCRE2_SIZE off;
    *why = NULL;
    if (!cc)
        return NULL;
    /* The code lives in a's memory: no cleanup needed. */
    code = pcre2_compile((PCRE2_SPTR)pat, n, RE_OPTIONS, &err, &off, cc);
    if (!code && err != PCRE2_ERROR_HEAP_FAILED) {
        char msg[160], *w = sl__arena_alloc(a, 240);
        pcre2_get_error_message(err, (PCRE2_UCHAR *)msg, sizeof msg);
        if (w)
            snprintf(w, 240, "at offset %zu: %s", (size_t)off, msg);
        *why = w ? w : "invalid regular expression";
    }
    return code;
}

int sl__sql_regex_find(const void *re, const char *s, size_t n,
                       sl__arena *scratch)
{
    pcre2_general_context *g =
        pcre2_general_context_create(arena_malloc, arena_free, scratch);
    pcre2_match_data *md =
        g ? pcre2_match_data_create_from_pattern(re, g) : NULL;
    int rc;
    if (!md)
        return -1;
    rc = pcre2_match(re, (PCRE2_SPTR)s, n, 0, 0, md, NULL);
    if (rc == PCRE2_ERROR_NOMEMORY)
        return -1;
    return rc >= 0; /* other errors (match limits): no match */
}
