/*
 * Unit tests of src/sql/error.c: an error written with its line, column,
 * the line's text and a caret, on multi-line text, at the end, under
 * tabs, and on lines too long to show whole.
 */
#include <stdlib.h>
#include <string.h>

#include "sql/ast.h"

#include "sl_test.h"

static const char *fmt(const char *text, size_t off, char *buf, size_t n)
{
    sl__sql_error e;
    SL_CHECK_INT(sl__sql_error_set(&e, off, "bad %s", "thing"), SL_EPARSE);
    return sl__sql_error_format(text, &e, buf, n);
}

static void test_format(void)
{
    char buf[1024];
    SL_CHECK_STR(fmt("SELECT x, vale FROM t", 10, buf, sizeof buf),
                 "line 1, column 11: bad thing\nSELECT x, vale FROM t\n"
                 "          ^");
    SL_CHECK_STR(fmt("SELECT x\nFROM t\nWHERE y", 22, buf, sizeof buf),
                 "line 3, column 7: bad thing\nWHERE y\n      ^");
    SL_CHECK_STR(fmt("ab", 2, buf, sizeof buf),
                 "line 1, column 3: bad thing\nab\n  ^");
    SL_CHECK_STR(fmt("ab", 99, buf, sizeof buf),
                 "line 1, column 3: bad thing\nab\n  ^");
    SL_CHECK_STR(fmt("", 0, buf, sizeof buf),
                 "line 1, column 1: bad thing\n\n^");
    SL_CHECK_STR(fmt("\tx\ty", 3, buf, sizeof buf),
                 "line 1, column 4: bad thing\n\tx\ty\n\t \t^");
    SL_CHECK_STR(fmt("a\r\nb", 3, buf, sizeof buf),
                 "line 2, column 1: bad thing\nb\n^");
}

static void test_cut(void)
{
    char buf[1024], small[24];
    char *text = malloc(1001);
    const char *r;

    memset(text, 'a', 1000);
    text[1000] = '\0';
    text[500] = 'X';
    r = fmt(text, 500, buf, sizeof buf);
    SL_CHECK(strncmp(r, "line 1, column 501: bad thing\n...", 33) == 0);
    /* 200 bytes shown, from 100 before the offset, "..." on both ends. */
    SL_CHECK_INT(strlen(strchr(r, '\n') + 1), 3 + 200 + 3 + 1 + 103 + 1);
    SL_CHECK(strchr(r, 'X') != NULL);
    SL_CHECK_INT(strchr(r, 'X') - (strchr(r, '\n') + 1), 103);
    SL_CHECK_INT(strrchr(r, '^') - (strrchr(r, '\n') + 1), 103);
    /* The start of a long line: no leading "...". */
    r = fmt(text, 3, buf, sizeof buf);
    SL_CHECK(strncmp(r, "line 1, column 4: bad thing\naaa", 31) == 0);
    SL_CHECK_INT(strrchr(r, '^') - (strrchr(r, '\n') + 1), 3);
    /* A small buffer is cut and terminated. */
    r = fmt(text, 3, small, sizeof small);
    SL_CHECK_INT(strlen(r), sizeof small - 1);
    free(text);
}

const char *SL_SUITE = "sql_error";
const sl_test_case SL_TESTS[] = {
    {"format", test_format}, {"cut", test_cut}, {NULL, NULL}};
