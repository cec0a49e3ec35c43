/*
 * The SQL lexer (see lexer.h): Spark SQL 3.5's tokens as far as sluice's
 * grammar needs them. Comments (-- to end of line, block comments) and
 * white space are skipped; errors point at the start of the bad token.
 */
#include "sql/lexer.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void sl__sql_lexer_init(sl__sql_lexer *lx, const char *text, sl__arena *a,
                        sl__sql_error *e)
{
    lx->text = text;
    lx->len = strlen(text);
    lx->pos = 0;
    lx->arena = a;
    lx->err = e;
}

static bool is_ident_start(unsigned char c)
{
    /* Bytes of UTF-8 sequences count as letters, as Spark's lexer takes
     * any Unicode letter. */
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
           c >= 0x80;
}

static bool is_ident_char(unsigned char c)
{
    return is_ident_start(c) || (c >= '0' && c <= '9');
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Skip white space and comments; SL_EPARSE for an unterminated comment
 * (at its start). */
static sl_status skip_space(sl__sql_lexer *lx)
{
    const char *s = lx->text;
    for (;;) {
        while (lx->pos < lx->len && strchr(" \t\r\n\f\v", s[lx->pos]))
            lx->pos++;
        if (s[lx->pos] == '-' && s[lx->pos + 1] == '-') {
            while (lx->pos < lx->len && s[lx->pos] != '\n')
                lx->pos++;
        } else if (s[lx->pos] == '/' && s[lx->pos + 1] == '*') {
            const char *end = strstr(s + lx->pos + 2, "*/");
            if (!end)
                return sl__sql_error_set(lx->err, lx->pos,
                                         "unterminated comment");
            lx->pos = (size_t)(end - s) + 2;
        } else {
            return SL_OK;
        }
    }
}

/* Append the UTF-8 encoding of code point cp to out. */
static size_t put_utf8(char *out, unsigned cp)
{
    if (cp >= 0x10000) {
        out[0] = (char)(0xF0 | (cp >> 18));
        out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[3] = (char)(0x80 | (cp & 0x3F));
        return 4;
    }
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    out[0] = (char)(0xE0 | (cp >> 12));
    out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[2] = (char)(0x80 | (cp & 0x3F));
    return 3;
}

static int hexval(char c)
{
    if (is_digit(c))
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* The code point of uXXXX at s, or -1. */
static long hex4(const char *s)
{
    long v = 0;
    if (s[0] != 'u')
        return -1;
    for (int i = 1; i <= 4; i++) {
        if (hexval(s[i]) < 0)
            return -1;
        v = v * 16 + hexval(s[i]);
    }
    return v;
}

/*
 * One escape after a backslash at s (s[0] is the escaped character) into
 * out; returns how many input bytes it used. Spark's unescapeSQLString:
 * \uXXXX, \ooo (octal, first digit 0 or 1), \0 \b \n \r \t \Z (ctrl-Z),
 * \% and \_ keep their backslash (for LIKE), anything else is itself.
 */
static size_t unescape_one(const char *s, char *out, size_t *w)
{
    static const char from[] = "0bnrtZ";
    static const char to[] = "\0\b\n\r\t\x1a";
    const char *m;
    long cp = hex4(s), lo;
    if (cp >= 0xD800 && cp < 0xDC00 && s[5] == '\\' &&
        (lo = hex4(s + 6)) >= 0xDC00 && lo < 0xE000) {
        /* A UTF-16 surrogate pair (Spark's strings are UTF-16). */
        *w += put_utf8(out + *w, (unsigned)(0x10000 + ((cp - 0xD800) << 10) +
                                            (lo - 0xDC00)));
        return 11;
    }
    if (cp >= 0) {
        /* A lone surrogate is no character: U+FFFD. */
        *w += put_utf8(out + *w,
                       cp >= 0xD800 && cp < 0xE000 ? 0xFFFD : (unsigned)cp);
        return 5;
    }
    if ((s[0] == '0' || s[0] == '1') && s[1] >= '0' && s[1] <= '7' &&
        s[2] >= '0' && s[2] <= '7') {
        out[(*w)++] =
            (char)((s[0] - '0') * 64 + (s[1] - '0') * 8 + (s[2] - '0'));
        return 3;
    }
    if (s[0] == '%' || s[0] == '_')
        out[(*w)++] = '\\';
    m = s[0] ? strchr(from, s[0]) : NULL;
    out[(*w)++] = m ? to[m - from] : s[0];
    return 1;
}

/* A '...' or "..." literal starting at lx->pos. */
static sl_status lex_string(sl__sql_lexer *lx, sl__sql_token *t)
{
    const char *s = lx->text;
    char q = s[lx->pos];
    size_t i = lx->pos + 1, w = 0, end;
    char *out;

    /* Find the end first, so that memory is the literal's size. */
    for (end = i; end < lx->len && s[end] != q; end++)
        if (s[end] == '\\' && end + 1 < lx->len)
            end++;
    if (end >= lx->len)
        return sl__sql_error_set(lx->err, lx->pos,
                                 "unterminated string literal");
    /* Escapes never grow the text (\uXXXX: 6 bytes in, at most 3 out). */
    if (!(out = sl__arena_alloc(lx->arena, end - i + 1)))
        return SL_ENOMEM;
    while (i < end) {
        if (s[i] == '\\')
            i += 1 + unescape_one(s + i + 1, out, &w);
        else
            out[w++] = s[i++];
    }
    out[w] = '\0';
    t->kind = SL__TK_STRING;
    t->s = out;
    t->slen = w;
    lx->pos = end + 1;
    return SL_OK;
}

/* A `quoted identifier` (`` inside is one backquote). */
static sl_status lex_qident(sl__sql_lexer *lx, sl__sql_token *t)
{
    const char *s = lx->text;
    size_t i = lx->pos + 1, w = 0, end;
    char *out;

    for (end = i; end < lx->len; end++) {
        if (s[end] == '`' && s[end + 1] != '`')
            break;
        if (s[end] == '`')
            end++;
    }
    if (end >= lx->len)
        return sl__sql_error_set(lx->err, lx->pos,
                                 "unterminated quoted identifier");
    if (end == i)
        return sl__sql_error_set(lx->err, lx->pos, "empty quoted identifier");
    if (!(out = sl__arena_alloc(lx->arena, end - i + 1)))
        return SL_ENOMEM;
    while (i < end) {
        if (s[i] == '`')
            i++;
        out[w++] = s[i++];
    }
    out[w] = '\0';
    t->kind = SL__TK_QIDENT;
    t->s = out;
    t->slen = w;
    lx->pos = end + 1;
    return SL_OK;
}

/* X'hex digits': binary. */
static sl_status lex_binary(sl__sql_lexer *lx, sl__sql_token *t)
{
    const char *s = lx->text;
    size_t start = lx->pos, i = start + 2, n = 0;
    char *out;

    while (i < lx->len && s[i] != '\'')
        i++;
    if (i >= lx->len)
        return sl__sql_error_set(lx->err, start, "unterminated string literal");
    if ((i - start - 2) % 2)
        return sl__sql_error_set(lx->err, start,
                                 "binary literal needs an even number of "
                                 "hex digits");
    out = sl__arena_alloc(lx->arena, (i - start - 2) / 2 + 1);
    if (!out)
        return SL_ENOMEM;
    for (size_t k = start + 2; k < i; k += 2) {
        int hi = hexval(s[k]), lo = hexval(s[k + 1]);
        if (hi < 0 || lo < 0)
            return sl__sql_error_set(lx->err, start,
                                     "invalid hex digit in binary literal");
        out[n++] = (char)(hi * 16 + lo);
    }
    out[n] = '\0';
    t->kind = SL__TK_BINARY;
    t->s = out;
    t->slen = n;
    lx->pos = i + 1;
    return SL_OK;
}

/* The value of the digits in [start, end): a long, or a double when it has
 * a fraction or exponent or is too big for a long (documented). */
static sl_status number_value(sl__sql_lexer *lx, sl__sql_token *t, size_t start,
                              size_t end, bool frac)
{
    char buf[400];
    size_t n = end - start;

    if (n >= sizeof buf)
        return sl__sql_error_set(lx->err, start, "number too long");
    memcpy(buf, lx->text + start, n);
    buf[n] = '\0';
    errno = 0;
    if (!frac) {
        long long v = strtoll(buf, NULL, 10);
        if (errno != ERANGE) {
            t->kind = SL__TK_LONG;
            t->l = (int64_t)v;
            return SL_OK;
        }
    }
    t->kind = SL__TK_DOUBLE;
    t->d = strtod(buf, NULL);
    if (isinf(t->d))
        return sl__sql_error_set(lx->err, start, "number out of range: '%s'",
                                 buf);
    return SL_OK;
}

/* A number: 12, 1.5, 1., .5, 1e3, 1.5E-2, with Spark's type suffixes
 * L (long), S and Y (small and tiny ints: long here), D and F (double). */
static sl_status lex_number(sl__sql_lexer *lx, sl__sql_token *t)
{
    const char *s = lx->text;
    size_t i = lx->pos, end;
    bool frac = false;
    sl_status st;
    char suf;

    while (is_digit(s[i]))
        i++;
    if (s[i] == '.') {
        frac = true;
        for (i++; is_digit(s[i]);)
            i++;
    }
    if ((s[i] == 'e' || s[i] == 'E') &&
        (is_digit(s[i + 1]) ||
         ((s[i + 1] == '+' || s[i + 1] == '-') && is_digit(s[i + 2])))) {
        frac = true;
        for (i += 2; is_digit(s[i]);)
            i++;
    }
    end = i;
    suf = (char)(s[i] | 0x20);
    if (strchr("lsydf", suf) && suf && !is_ident_char((unsigned char)s[i + 1]))
        i++;
    else
        suf = 0;
    if (is_ident_char((unsigned char)s[i]))
        goto invalid;
    if ((st = number_value(lx, t, lx->pos, end,
                           frac || suf == 'd' || suf == 'f')) != SL_OK)
        return st;
    if (strchr("lsy", suf) && suf && t->kind != SL__TK_LONG)
        goto invalid;
    lx->pos = i;
    return SL_OK;
invalid:
    while (is_ident_char((unsigned char)s[i]) || s[i] == '.')
        i++;
    return sl__sql_error_set(lx->err, lx->pos, "invalid number '%.*s'",
                             (int)(i - lx->pos > 40 ? 40 : i - lx->pos),
                             s + lx->pos);
}

/* Operators, longest first. */
static const char *const puncts[] = {"<=>", "==", "!=", "<>", "<=", ">=", "||",
                                     "(",   ")",  ",",  ".",  ";",  "*",  "+",
                                     "-",   "/",  "%",  "=",  "<",  ">",  "|",
                                     "&",   "^",  "[",  "]",  "~",  ":",  NULL};

static sl_status lex_punct(sl__sql_lexer *lx, sl__sql_token *t)
{
    const char *s = lx->text + lx->pos;
    unsigned char c = (unsigned char)*s;
    for (size_t k = 0; puncts[k]; k++) {
        size_t n = strlen(puncts[k]);
        if (strncmp(s, puncts[k], n) == 0) {
            t->kind = SL__TK_PUNCT;
            lx->pos += n;
            return SL_OK;
        }
    }
    if (c > 0x20 && c < 0x7f)
        return sl__sql_error_set(lx->err, lx->pos, "unexpected character '%c'",
                                 c);
    return sl__sql_error_set(lx->err, lx->pos,
                             "unexpected character (byte 0x%02x)", c);
}

sl_status sl__sql_lex(sl__sql_lexer *lx, sl__sql_token *t)
{
    const char *s = lx->text;
    sl_status st;
    char c;

    memset(t, 0, sizeof *t);
    if ((st = skip_space(lx)) != SL_OK)
        return st;
    t->offset = lx->pos;
    c = s[lx->pos];
    if (lx->pos >= lx->len)
        t->kind = SL__TK_EOF;
    else if ((c == 'x' || c == 'X') && s[lx->pos + 1] == '\'')
        st = lex_binary(lx, t);
    else if (is_ident_start((unsigned char)c)) {
        while (is_ident_char((unsigned char)s[lx->pos]))
            lx->pos++;
        t->kind = SL__TK_IDENT;
    } else if (is_digit(c) || (c == '.' && is_digit(s[lx->pos + 1])))
        st = lex_number(lx, t);
    else if (c == '\'' || c == '"')
        st = lex_string(lx, t);
    else if (c == '`')
        st = lex_qident(lx, t);
    else
        st = lex_punct(lx, t);
    t->len = lx->pos - t->offset;
    return st;
}

bool sl__sql_tok_is_kw(const sl__sql_lexer *lx, const sl__sql_token *t,
                       const char *kw)
{
    size_t n = strlen(kw);
    if (t->kind != SL__TK_IDENT || t->len != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = lx->text[t->offset + i];
        if (c >= 'a' && c <= 'z')
            c = (char)(c - 'a' + 'A');
        if (c != kw[i])
            return false;
    }
    return true;
}

bool sl__sql_tok_is(const sl__sql_lexer *lx, const sl__sql_token *t,
                    const char *p)
{
    size_t n = strlen(p);
    return t->kind == SL__TK_PUNCT && t->len == n &&
           memcmp(lx->text + t->offset, p, n) == 0;
}
