/*
 * The row printers of row_out.h: Spark's show() table, JSON lines and
 * CSV. Cells are written by typed_out.c (sl__text_put_typed,
 * sl__json_put_row); this file lays them out.
 */
#include "core/row_out.h"
#include "core/schema.h"

#include <stdio.h>
#include <string.h>

static const char *const format_names[] = {"table", "json", "csv"};

sl_status sl__row_format_parse(const char *name, sl__row_format *out)
{
    size_t i;

    for (i = 0; i < sizeof format_names / sizeof format_names[0]; i++) {
        if (strcmp(name, format_names[i]) == 0) {
            *out = (sl__row_format)i;
            return SL_OK;
        }
    }
    return SL_EPARSE;
}

const char *sl__row_format_name(sl__row_format f)
{
    return (size_t)f < 3 ? format_names[f] : "?";
}

/* ---------------------------------------------------------------- table */

/* Characters (UTF-8 code points: bytes that are no continuation byte). */
static size_t chars(const char *s, size_t n)
{
    size_t i, c = 0;

    for (i = 0; i < n; i++)
        c += ((unsigned char)s[i] & 0xC0) != 0x80;
    return c;
}

/* The bytes of the first k characters of s. */
static size_t chars_prefix(const char *s, size_t n, size_t k)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80 && k-- == 0)
            return i;
    return n;
}

/*
 * Cell (column i of row, or its name when row is NULL) as show() writes
 * it, into cell (emptied first): cut to SL__SHOW_WIDTH characters as
 * show(truncate = 20) cuts it, the first 17 and "...".
 */
static sl_status cell_text(sl__buf *cell, const sl_schema *s, size_t i,
                           const sl_value *row)
{
    static const sl_value null_value; /* a row short of columns */
    const char *name;
    sl_status st;

    cell->len = 0;
    if (row) {
        st = sl__text_put_typed(cell, sl_schema_type(s, i),
                                i < row->len ? &row->u.items[i] : &null_value);
    } else {
        name = sl_schema_name(s, i);
        st = sl__buf_append(cell, name, strlen(name));
    }
    if (st != SL_OK || chars(cell->data, cell->len) <= SL__SHOW_WIDTH)
        return st;
    cell->len = chars_prefix(cell->data, cell->len, SL__SHOW_WIDTH - 3);
    return sl__buf_append(cell, "...", 3);
}

static sl_status put_repeat(sl__buf *out, char c, size_t n)
{
    sl_status st = sl__buf_reserve(out, n);

    if (st != SL_OK)
        return st;
    memset(out->data + out->len, c, n);
    out->len += n;
    return SL_OK;
}

/* "+---+-----+\n" */
static sl_status put_border(sl__buf *out, const size_t *w, size_t ncol)
{
    sl_status st = SL_OK;
    size_t i;

    for (i = 0; st == SL_OK && i < ncol; i++) {
        st = sl__buf_append(out, "+", 1);
        if (st == SL_OK)
            st = put_repeat(out, '-', w[i]);
    }
    return st == SL_OK ? sl__buf_append(out, "+\n", 2) : st;
}

/* "|  a|hello|\n": the header (row NULL) or a row, right-aligned. */
static sl_status put_line(sl__buf *out, sl__buf *cell, const sl_schema *s,
                          const sl_value *row, const size_t *w)
{
    size_t i, ncol = sl_schema_size(s);
    sl_status st = SL_OK;

    for (i = 0; st == SL_OK && i < ncol; i++) {
        st = cell_text(cell, s, i, row);
        if (st == SL_OK)
            st = sl__buf_append(out, "|", 1);
        if (st == SL_OK)
            st = put_repeat(out, ' ', w[i] - chars(cell->data, cell->len));
        if (st == SL_OK)
            st = sl__buf_append(out, cell->data, cell->len);
    }
    return st == SL_OK ? sl__buf_append(out, "|\n", 2) : st;
}

/* Each column's width: its widest cell, at least 3 (Spark's minimum). */
static sl_status widths(sl__buf *cell, const sl_schema *s, const sl_value *rows,
                        size_t shown, size_t *w)
{
    size_t i, r, ncol = sl_schema_size(s), c;
    sl_status st;

    for (i = 0; i < ncol; i++) {
        w[i] = 3;
        for (r = 0; r <= shown; r++) {
            st = cell_text(cell, s, i, r ? &rows[r - 1] : NULL);
            if (st != SL_OK)
                return st;
            c = chars(cell->data, cell->len);
            w[i] = c > w[i] ? c : w[i];
        }
    }
    return SL_OK;
}

sl_status sl__rows_put_table(sl__buf *out, const sl_schema *s,
                             const sl_value *rows, size_t n, size_t max_rows)
{
    size_t ncol = sl_schema_size(s), shown = n < max_rows ? n : max_rows, r;
    size_t *w = sl_malloc((ncol ? ncol : 1) * sizeof *w);
    sl__buf cell = {0};
    char more[64];
    sl_status st;

    if (!w)
        return SL_ENOMEM;
    st = widths(&cell, s, rows, shown, w);
    if (st == SL_OK)
        st = put_border(out, w, ncol);
    if (st == SL_OK)
        st = put_line(out, &cell, s, NULL, w);
    if (st == SL_OK)
        st = put_border(out, w, ncol);
    for (r = 0; st == SL_OK && r < shown; r++)
        st = put_line(out, &cell, s, &rows[r], w);
    if (st == SL_OK)
        st = put_border(out, w, ncol);
    if (st == SL_OK && n > shown) {
        snprintf(more, sizeof more, "only showing top %zu %s\n", shown,
                 shown == 1 ? "row" : "rows");
        st = sl__buf_append(out, more, strlen(more));
    }
    sl__buf_free(&cell);
    sl_free(w);
    return st;
}

/* ----------------------------------------------------------------- json */

sl_status sl__rows_put_json(sl__buf *out, const sl_schema *s,
                            const sl_value *rows, size_t n)
{
    sl_status st = SL_OK;
    size_t r;

    for (r = 0; st == SL_OK && r < n; r++) {
        st = sl__json_put_row(out, s, &rows[r]);
        if (st == SL_OK)
            st = sl__buf_append(out, "\n", 1);
    }
    return st;
}

/* ------------------------------------------------------------------ csv */

/* text as one CSV field: quoted when it must be (or always), quotes
 * doubled. */
static sl_status csv_field(sl__buf *out, const char *text, size_t n,
                           bool always)
{
    size_t i;
    sl_status st;

    if (!always && n > 0 && !memchr(text, ',', n) && !memchr(text, '"', n) &&
        !memchr(text, '\n', n) && !memchr(text, '\r', n))
        return sl__buf_append(out, text, n);
    st = sl__buf_append(out, "\"", 1);
    for (i = 0; st == SL_OK && i < n; i++) {
        st = sl__buf_append(out, text + i, 1);
        if (st == SL_OK && text[i] == '"')
            st = sl__buf_append(out, "\"", 1);
    }
    return st == SL_OK ? sl__buf_append(out, "\"", 1) : st;
}

static sl_status csv_cell(sl__buf *out, sl__buf *cell, const sl_type *t,
                          const sl_value *v)
{
    sl_status st;

    if (v->kind == SL_KIND_NULL)
        return SL_OK;
    if (v->kind == SL_KIND_STR) /* an empty one "" (NULL is empty) */
        return csv_field(out, v->u.s, v->len, v->len == 0);
    cell->len = 0;
    st = sl__text_put_typed(cell, t, v);
    if (st != SL_OK)
        return st;
    return csv_field(out, cell->data, cell->len,
                     t && (t->id == SL_TYPE_ARRAY || t->id == SL_TYPE_STRUCT));
}

static sl_status csv_header(sl__buf *out, const sl_schema *s)
{
    size_t i, ncol = sl_schema_size(s);
    const char *name;
    sl_status st = SL_OK;

    for (i = 0; st == SL_OK && i < ncol; i++) {
        name = sl_schema_name(s, i);
        if (i)
            st = sl__buf_append(out, ",", 1);
        if (st == SL_OK)
            st = csv_field(out, name, strlen(name), false);
    }
    return st == SL_OK ? sl__buf_append(out, "\n", 1) : st;
}

sl_status sl__rows_put_csv(sl__buf *out, const sl_schema *s,
                           const sl_value *rows, size_t n, bool header)
{
    size_t i, r, ncol = sl_schema_size(s);
    sl__buf cell = {0};
    sl_status st = header ? csv_header(out, s) : SL_OK;

    for (r = 0; st == SL_OK && r < n; r++) {
        for (i = 0; st == SL_OK && i < ncol && i < rows[r].len; i++) {
            if (i)
                st = sl__buf_append(out, ",", 1);
            if (st == SL_OK)
                st = csv_cell(out, &cell, sl_schema_type(s, i),
                              &rows[r].u.items[i]);
        }
        if (st == SL_OK)
            st = sl__buf_append(out, "\n", 1);
    }
    sl__buf_free(&cell);
    return st;
}

sl_status sl__rows_put(sl__buf *out, sl__row_format f, const sl_schema *s,
                       const sl_value *rows, size_t n)
{
    if (f == SL__ROWS_TABLE)
        return sl__rows_put_table(out, s, rows, n, SL__SHOW_ROWS);
    if (f == SL__ROWS_JSON)
        return sl__rows_put_json(out, s, rows, n);
    return sl__rows_put_csv(out, s, rows, n, true);
}
