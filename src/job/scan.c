/*
 * The pre-scan of a job file's text, before cJSON sees it: a JSON syntax
 * check that allocates nothing and counts the values and the nesting, so
 * that a file over the limits is refused before cJSON builds one node per
 * value (about 80 bytes each, for a 2-byte "1,"). It accepts only text that
 * cJSON 1.7 also accepts, so cJSON failing afterwards means it ran out of
 * memory, never a syntax error.
 */
#include "job/job_int.h"

#include <string.h>

typedef struct scanner {
    const unsigned char *p, *end, *start;
    size_t values;
    size_t depth;
    char open[JOB_MAX_NESTING + 1]; /* '[' or '{' per open container */
    const char *why;                /* NULL: a plain syntax error */
    bool limit;                     /* why names a limit, not bad syntax */
} scanner;

/* cJSON skips every byte up to the space as white space (NUL aside, which
 * the caller refused before). */
static void skip_space(scanner *sc)
{
    while (sc->p < sc->end && *sc->p <= ' ')
        sc->p++;
}

static bool fail(scanner *sc, const char *why, bool limit)
{
    sc->why = why;
    sc->limit = limit;
    return false;
}

static int hex_digit(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Four hex digits at p (inside the text), or -1. */
static long hex4(const scanner *sc, const unsigned char *p)
{
    long v = 0;
    int i, d;
    if (sc->end - p < 4)
        return -1;
    for (i = 0; i < 4; i++) {
        if ((d = hex_digit(p[i])) < 0)
            return -1;
        v = v * 16 + d;
    }
    return v;
}

/* A \u escape at sc->p (after the backslash and 'u'): cJSON refuses a low
 * surrogate alone and a high one not followed by a low one. */
static bool unicode_escape(scanner *sc)
{
    long first = hex4(sc, sc->p), second;
    if (first < 0)
        return false;
    if (first == 0) { /* cJSON would cut the string there */
        sc->p -= 2;
        return fail(sc, "\\u0000 in a string is not supported", false);
    }
    sc->p += 4;
    if (first >= 0xDC00 && first <= 0xDFFF)
        return false;
    if (first < 0xD800 || first > 0xDBFF)
        return true;
    if (sc->end - sc->p < 6 || sc->p[0] != '\\' || sc->p[1] != 'u')
        return false;
    second = hex4(sc, sc->p + 2);
    if (second < 0xDC00 || second > 0xDFFF)
        return false;
    sc->p += 6;
    return true;
}

/* A string at sc->p (its opening quote). Raw control bytes and invalid
 * UTF-8 pass, as cJSON lets them. */
static bool string(scanner *sc)
{
    sc->p++;
    while (sc->p < sc->end && *sc->p != '"') {
        if (*sc->p++ != '\\')
            continue;
        if (sc->p == sc->end)
            return false;
        if (*sc->p == 'u') {
            sc->p++;
            if (!unicode_escape(sc))
                return false;
        } else if (strchr("\"\\/bfnrt", *sc->p) && *sc->p) {
            sc->p++;
        } else {
            return false;
        }
    }
    if (sc->p == sc->end)
        return false;
    sc->p++;
    return true;
}

static size_t digits(scanner *sc)
{
    size_t n = 0;
    for (; sc->p < sc->end && *sc->p >= '0' && *sc->p <= '9'; n++)
        sc->p++;
    return n;
}

/* A number as RFC 8259 writes it. cJSON reads at most 63 of its bytes. */
static bool number(scanner *sc)
{
    const unsigned char *start = sc->p;
    if (*sc->p == '-')
        sc->p++;
    if (sc->p < sc->end && *sc->p == '0')
        sc->p++;
    else if (!digits(sc))
        return false;
    if (sc->p < sc->end && *sc->p == '.') {
        sc->p++;
        if (!digits(sc))
            return false;
    }
    if (sc->p < sc->end && (*sc->p == 'e' || *sc->p == 'E')) {
        sc->p++;
        if (sc->p < sc->end && (*sc->p == '+' || *sc->p == '-'))
            sc->p++;
        if (!digits(sc))
            return false;
    }
    if (sc->p - start > 63) {
        sc->p = start;
        return fail(sc, "a number of more than 63 characters", false);
    }
    return true;
}

static bool literal(scanner *sc, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(sc->end - sc->p) < n || memcmp(sc->p, word, n) != 0)
        return false;
    sc->p += n;
    return true;
}

/* One scalar, or the opening of a container, at sc->p (not white space). */
static bool value_start(scanner *sc)
{
    if (++sc->values > JOB_MAX_VALUES)
        return fail(sc,
                    "more than " JOB_MAX_VALUES_TEXT " JSON values (the "
                    "limit of a job file)",
                    true);
    if (sc->p == sc->end)
        return false;
    switch (*sc->p) {
    case '"':
        return string(sc);
    case '[':
    case '{':
        if (sc->depth == JOB_MAX_NESTING)
            return fail(sc,
                        "arrays and objects nested deeper than "
                        "" JOB_MAX_NESTING_TEXT " (the limit of a job file)",
                        true);
        sc->open[sc->depth++] = (char)*sc->p++;
        return true;
    case 't':
        return literal(sc, "true");
    case 'f':
        return literal(sc, "false");
    case 'n':
        return literal(sc, "null");
    default:
        if (*sc->p == '-' || (*sc->p >= '0' && *sc->p <= '9'))
            return number(sc);
        return false;
    }
}

/* An object's key and its colon, at sc->p. */
static bool key(scanner *sc)
{
    if (sc->p == sc->end || *sc->p != '"' || !string(sc))
        return false;
    skip_space(sc);
    if (sc->p == sc->end || *sc->p != ':')
        return false;
    sc->p++;
    skip_space(sc);
    return true;
}

/*
 * After a container opened (just_opened) or a value ended: close
 * containers, or move to the next item. *more says whether a value
 * follows; false with nothing open means the document is done.
 */
static bool after_value(scanner *sc, bool just_opened, bool *more)
{
    for (;;) {
        char c;
        skip_space(sc);
        if (!sc->depth) {
            *more = false;
            return true;
        }
        if (sc->p == sc->end)
            return false;
        c = sc->open[sc->depth - 1];
        if (*sc->p == (c == '[' ? ']' : '}')) {
            sc->p++;
            sc->depth--;
            just_opened = false;
            continue;
        }
        if (!just_opened) {
            if (*sc->p != ',')
                return false;
            sc->p++;
            skip_space(sc);
        }
        *more = true;
        return c == '[' || key(sc);
    }
}

static bool scan(scanner *sc)
{
    bool more = true;
    /* cJSON skips a UTF-8 byte order mark at the start. */
    if (sc->end - sc->p >= 3 && memcmp(sc->p, "\xEF\xBB\xBF", 3) == 0)
        sc->p += 3;
    skip_space(sc);
    while (more) {
        size_t depth = sc->depth;
        skip_space(sc);
        if (!value_start(sc))
            return false;
        if (!after_value(sc, sc->depth > depth, &more))
            return false;
    }
    return sc->p == sc->end;
}

bool sl__job_scan(const char *text, size_t len, size_t *at, const char **why,
                  bool *limit)
{
    scanner sc;
    memset(&sc, 0, sizeof sc);
    sc.p = sc.start = (const unsigned char *)text;
    sc.end = sc.p + len;
    if (scan(&sc))
        return true;
    *at = (size_t)(sc.p - sc.start);
    *why = sc.why;
    *limit = sc.limit;
    return false;
}
