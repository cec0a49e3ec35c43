/*
 * JSON text out: the one string escaper every JSON writer of sluice uses
 * (the json console sink, dead letters, and later file sinks and progress
 * entries), UTF-8 checking and base64. Output is always valid UTF-8: each
 * ill-formed sequence becomes U+FFFD and is counted, never passed through
 * and never written as \u00XX (which would turn a byte into a different,
 * valid character).
 */
#include "core/core.h"

#include <string.h>

/*
 * Length of the longest prefix of p[0, n) that starts a well-formed UTF-8
 * sequence (Unicode Table 3-7), and *whole whether that prefix is a whole
 * sequence. A prefix that is not whole is a "maximal subpart" (Unicode
 * 3.9, U+FFFD substitution): it becomes one U+FFFD, and at least one byte
 * is consumed.
 */
static size_t utf8_prefix(const unsigned char *p, size_t n, bool *whole)
{
    unsigned char lo = 0x80, hi = 0xbf;
    size_t k, i;

    *whole = true;
    if (p[0] < 0x80)
        return 1;
    if (p[0] >= 0xc2 && p[0] <= 0xdf)
        k = 2;
    else if (p[0] >= 0xe0 && p[0] <= 0xef)
        k = 3;
    else if (p[0] >= 0xf0 && p[0] <= 0xf4)
        k = 4;
    else {
        *whole = false; /* 80..C1, F5..FF never start a sequence */
        return 1;
    }
    /* The second byte's range excludes overlong forms (E0, F0),
     * surrogates (ED) and code points past U+10FFFF (F4). */
    if (p[0] == 0xe0)
        lo = 0xa0;
    else if (p[0] == 0xed)
        hi = 0x9f;
    else if (p[0] == 0xf0)
        lo = 0x90;
    else if (p[0] == 0xf4)
        hi = 0x8f;
    for (i = 1; i < k; i++) {
        if (i >= n || p[i] < lo || p[i] > hi) {
            *whole = false;
            return i;
        }
        lo = 0x80;
        hi = 0xbf;
    }
    return k;
}

bool sl__utf8_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, k;
    bool whole;
    while (i < n) {
        if (p[i] < 0x80) {
            i++;
            continue;
        }
        k = utf8_prefix(p + i, n - i, &whole);
        if (!whole)
            return false;
        i += k;
    }
    return true;
}

/* The letter of c's two-character JSON escape, or 0 when it has none. */
static char short_escape(unsigned char c)
{
    switch (c) {
    case '"':
        return '"';
    case '\\':
        return '\\';
    case '\n':
        return 'n';
    case '\r':
        return 'r';
    case '\t':
        return 't';
    case '\b':
        return 'b';
    case '\f':
        return 'f';
    default:
        return 0;
    }
}

/* What stands for byte run s[i, i + k) that is not passed through: an
 * escape, or U+FFFD. */
static size_t special(const unsigned char *p, size_t n, char *rep,
                      size_t *consumed, size_t *replaced)
{
    static const char hex[] = "0123456789abcdef";
    char e = short_escape(p[0]);
    bool whole;
    if (e) {
        rep[0] = '\\';
        rep[1] = e;
        *consumed = 1;
        return 2;
    }
    if (p[0] < 0x20 || p[0] == 0x7f) {
        memcpy(rep, "\\u00", 4);
        rep[4] = hex[p[0] >> 4];
        rep[5] = hex[p[0] & 15];
        *consumed = 1;
        return 6;
    }
    *consumed = utf8_prefix(p, n, &whole);
    if (whole)
        return 0;
    if (replaced)
        (*replaced)++;
    memcpy(rep, "\xef\xbf\xbd", 3); /* U+FFFD */
    return 3;
}

size_t sl__json_escape_emit(sl__emit_fn emit, void *user, const char *s,
                            size_t n, size_t *replaced)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, run = 0, out = 0, k, used;
    char rep[8];

    while (i < n) {
        unsigned char c = p[i];
        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
            i++;
            continue;
        }
        k = special(p + i, n - i, rep, &used, replaced);
        if (k == 0) { /* a whole multi-byte sequence: passes */
            i += used;
            continue;
        }
        if (i > run)
            emit(user, s + run, i - run);
        emit(user, rep, k);
        out += (i - run) + k;
        i += used;
        run = i;
    }
    if (n > run)
        emit(user, s + run, n - run);
    return out + (n - run);
}

typedef struct mem_out {
    char *p;
} mem_out;

static void emit_mem(void *user, const char *s, size_t n)
{
    mem_out *m = user;
    memcpy(m->p, s, n);
    m->p += n;
}

static void emit_none(void *user, const char *s, size_t n)
{
    SL__UNUSED(user);
    SL__UNUSED(s);
    SL__UNUSED(n);
}

size_t sl__json_escape(char *out, const char *s, size_t n, size_t *replaced)
{
    mem_out m = {out};
    return out ? sl__json_escape_emit(emit_mem, &m, s, n, replaced)
               : sl__json_escape_emit(emit_none, NULL, s, n, replaced);
}

size_t sl__base64(char *out, const void *data, size_t n)
{
    static const char abc[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const unsigned char *p = data;
    size_t i, o = 0;
    if (!out)
        return (n + 2) / 3 * 4;
    for (i = 0; i + 2 < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        out[o++] = abc[v >> 18];
        out[o++] = abc[(v >> 12) & 63];
        out[o++] = abc[(v >> 6) & 63];
        out[o++] = abc[v & 63];
    }
    if (i < n) {
        uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? p[i + 1] << 8 : 0);
        out[o++] = abc[v >> 18];
        out[o++] = abc[(v >> 12) & 63];
        out[o++] = i + 1 < n ? abc[(v >> 6) & 63] : '=';
        out[o++] = '=';
    }
    return o;
}
