/*
 * Positioned SQL errors (ast.h): set one at a byte offset, and write it
 * for people with its line, column, the line's text and a caret.
 */
#include "sql/ast.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

sl_status sl__sql_error_set(sl__sql_error *e, size_t offset, const char *fmt,
                            ...)
{
    va_list ap;
    e->offset = offset;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    return SL_EPARSE;
}

/* How much of a long line is shown, around the caret. */
#define SHOW_MAX 200

/*
 * The caret line: a tab in the shown text stays a tab in the caret line
 * so that the caret lands under the column whatever the tab width.
 */
static int put_caret(char *buf, size_t n, size_t used, const char *shown,
                     size_t col)
{
    size_t i;
    for (i = 0; i < col && used + i + 2 < n; i++)
        buf[used + i] = shown[i] == '\t' ? '\t' : ' ';
    if (used + i + 1 < n)
        buf[used + i++] = '^';
    buf[used + i] = '\0';
    return (int)i;
}

char *sl__sql_error_format(const char *text, const sl__sql_error *e, char *buf,
                           size_t n)
{
    size_t len = strlen(text), off = e->offset < len ? e->offset : len;
    size_t line = 1, start = 0, end, from, to, col;
    int w;

    if (n == 0)
        return buf;
    for (size_t i = 0; i < off; i++)
        if (text[i] == '\n') {
            line++;
            start = i + 1;
        }
    end = start;
    while (end < len && text[end] != '\n' && text[end] != '\r')
        end++;
    /* Columns are 1-based bytes (a tab counts one). A very long line is
     * cut to SHOW_MAX bytes around the offset, marked with "...". */
    from = start;
    if (end - start > SHOW_MAX && off - start > SHOW_MAX / 2)
        from = off - SHOW_MAX / 2;
    to = end - from > SHOW_MAX ? from + SHOW_MAX : end;
    w = snprintf(buf, n, "line %zu, column %zu: %s\n%s%.*s%s\n", line,
                 off - start + 1, e->msg, from > start ? "..." : "",
                 (int)(to - from), text + from, to < end ? "..." : "");
    if (w < 0 || (size_t)w >= n)
        return buf;
    col = off - from + (from > start ? 3 : 0);
    /* The message has no newline: the shown line follows the first. */
    put_caret(buf, n, (size_t)w, strchr(buf, '\n') + 1, col);
    return buf;
}
