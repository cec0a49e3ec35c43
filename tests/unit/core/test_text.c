/*
 * Unit tests of the zero-copy line and word splitters in src/core/core.h
 * (sl__next_line, sl__next_word): line endings, empty lines, a last line
 * without newline, NUL bytes, and runs of whitespace.
 */
#include <string.h>

#include <sluice/core.h>

#include "core/core.h"
#include "sl_test.h"

/*
 * Split [text, text + n) with the given splitter and join the pieces as
 * "<piece>|<piece>|" so that one string comparison checks them all; NUL
 * bytes inside a piece show as '0'.
 */
typedef bool (*splitter)(const char **, const char *, const char **, size_t *);

static void split(splitter next, const char *text, size_t n, char *out,
                  size_t cap, int *count)
{
    const char *pos = text, *end = text + n, *piece;
    size_t len, o = 0, i;

    *count = 0;
    while (next(&pos, end, &piece, &len)) {
        SL_CHECK(piece >= text && piece + len <= end); /* a view, no copy */
        for (i = 0; i < len && o + 2 < cap; i++)
            out[o++] = piece[i] ? piece[i] : '0';
        out[o++] = '|';
        (*count)++;
    }
    out[o] = '\0';
    SL_CHECK(pos == end);
}

static void check_split(int line, splitter next, const char *text, size_t n,
                        const char *want, int want_count)
{
    char got[256];
    int count;

    split(next, text, n, got, sizeof got, &count);
    if (strcmp(got, want) != 0 || count != want_count)
        sl_test_fail(__FILE__, line, "got \"%s\" (%d), want \"%s\" (%d)", got,
                     count, want, want_count);
    else
        CU_PASS(want);
}

#define LINES(lit, want, k)                                                    \
    check_split(__LINE__, sl__next_line, lit, sizeof lit - 1, want, k)
#define WORDS(lit, want, k)                                                    \
    check_split(__LINE__, sl__next_word, lit, sizeof lit - 1, want, k)

static void test_lines(void)
{
    LINES("", "", 0);
    LINES("a", "a|", 1);
    LINES("a\n", "a|", 1);
    LINES("a\nb", "a|b|", 2); /* last line without newline */
    LINES("a\nb\n", "a|b|", 2);
    LINES("a\r\nb\r\n", "a|b|", 2);
    LINES("a\r\nb", "a|b|", 2);
    LINES("\n", "|", 1);
    LINES("\n\n", "||", 2);
    LINES("a\n\nb", "a||b|", 3);
    LINES("\r\n", "|", 1);
    LINES("a\rb\n", "a\rb|", 1);   /* a lone \r inside a line stays */
    LINES("a\r\r\n", "a\r|", 1);   /* only one \r before \n is dropped */
    LINES("a\0b\nc", "a0b|c|", 2); /* NUL bytes are ordinary bytes */
    LINES("\0\n\0", "0|0|", 2);
    LINES("  spaced  \n", "  spaced  |", 1);
}

static void test_lines_end_pointer(void)
{
    const char text[] = "one\ntwo\nthree";
    const char *pos = text, *end = text + 7, *line;
    size_t len;

    /* The range ends inside "two": that part is the last line. */
    SL_CHECK(sl__next_line(&pos, end, &line, &len));
    SL_CHECK_INT(len, 3);
    SL_CHECK(sl__next_line(&pos, end, &line, &len));
    SL_CHECK_INT(len, 3);
    SL_CHECK(memcmp(line, "two", 3) == 0);
    SL_CHECK(!sl__next_line(&pos, end, &line, &len));
    SL_CHECK(!sl__next_line(&pos, end, &line, &len));
}

static void test_words(void)
{
    WORDS("", "", 0);
    WORDS(" ", "", 0);
    WORDS(" \t \r\n\v\f", "", 0);
    WORDS("a", "a|", 1);
    WORDS("a b", "a|b|", 2);
    WORDS("a  b", "a|b|", 2); /* runs never make empty words */
    WORDS("a\t\tb", "a|b|", 2);
    WORDS(" \t a b \t ", "a|b|", 2); /* leading and trailing space */
    WORDS("hello world foo", "hello|world|foo|", 3);
    WORDS("x\ny\r\nz", "x|y|z|", 3);
    WORDS("a\vb\fc", "a|b|c|", 3);
    WORDS("caf\xc3\xa9 ok", "caf\xc3\xa9|ok|", 2); /* UTF-8 is not space */
    WORDS("a\0b c", "a0b|c|", 2);                  /* nor is NUL */
}

static void test_is_space(void)
{
    int c, spaces = 0;

    for (c = 0; c < 256; c++)
        spaces += sl__is_space((unsigned char)c);
    SL_CHECK_INT(spaces, 6);
    SL_CHECK(sl__is_space(' ') && sl__is_space('\t') && sl__is_space('\n'));
    SL_CHECK(!sl__is_space(0xa0)); /* no Latin-1 non-breaking space */
}

const char *SL_SUITE = "core/text";
const sl_test_case SL_TESTS[] = {
    {"lines", test_lines}, {"lines_end_pointer", test_lines_end_pointer},
    {"words", test_words}, {"is_space", test_is_space},
    {NULL, NULL},
};
