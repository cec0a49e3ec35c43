/*
 * libFuzzer target for the SQL lexer and parser (src/sql): the input is
 * parsed as a query and as an expression. A parse succeeds or fails with
 * SL_EPARSE at an offset inside the text and a message; every node of a
 * tree lies inside the text (offset <= end <= length); trees and errors
 * format without trouble.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sql/ast.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_fail(const char *what)
{
    fprintf(stderr, "fuzz: broken promise: %s\n", what);
    abort();
}

static void check_expr(const sl__sql_expr *x, size_t len)
{
    if (!x)
        return;
    if (x->offset > x->end || x->end > len)
        fuzz_fail("an expression lies inside the text");
    if (x->kind == SL__SQL_CAST && (!x->type_text || !*x->type_text))
        fuzz_fail("a CAST has its type text");
    for (size_t i = 0; i < x->nargs; i++)
        check_expr(x->args[i], len);
}

static void check_query(const sl__sql_query *q, size_t len);

static void check_from(const sl__sql_from *f, size_t len)
{
    if (!f)
        return;
    if (f->offset > len)
        fuzz_fail("a FROM item lies inside the text");
    if (f->kind == SL__SQL_FROM_JOIN) {
        if (!f->left || !f->right || !f->on)
            fuzz_fail("a join has two sides and a condition");
        check_from(f->left, len);
        check_from(f->right, len);
        check_expr(f->on, len);
    } else if (f->kind == SL__SQL_FROM_SUBQUERY) {
        check_query(f->subquery, len);
    }
}

static void check_query(const sl__sql_query *q, size_t len)
{
    if (q->offset > len)
        fuzz_fail("a query lies inside the text");
    if (q->kind == SL__SQL_UNION_ALL) {
        check_query(q->left, len);
        check_query(q->right, len);
    } else {
        if (q->nitems == 0)
            fuzz_fail("a SELECT has items");
        for (size_t i = 0; i < q->nitems; i++)
            check_expr(q->items[i].expr, len);
        check_from(q->from, len);
        check_expr(q->where, len);
        check_expr(q->having, len);
        for (size_t i = 0; i < q->ngroup_by; i++)
            check_expr(q->group_by[i], len);
    }
    for (size_t i = 0; i < q->norder_by; i++)
        check_expr(q->order_by[i].expr, len);
}

static void check_status(sl_status st, const char *text, const sl__sql_error *e)
{
    char buf[512];
    if (st == SL_OK || st == SL_ENOMEM)
        return;
    if (st != SL_EPARSE)
        fuzz_fail("a parse returns SL_OK, SL_EPARSE or SL_ENOMEM");
    if (e->offset > strlen(text) || !e->msg[0])
        fuzz_fail("an error has an offset inside the text and a message");
    sl__sql_error_format(text, e, buf, sizeof buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1), *out = malloc(1 << 16);
    sl__arena a;
    sl__sql_query *q;
    sl__sql_expr *x;
    sl__sql_error e;
    sl_status st;

    if (!text || !out)
        goto done;
    memcpy(text, data, size);
    text[size] = '\0';
    sl__arena_init(&a, 4096);
    st = sl__sql_parse(text, &a, &q, &e);
    check_status(st, text, &e);
    if (st == SL_OK) {
        check_query(q, strlen(text));
        sl__sql_ast_format(q, out, 1 << 16);
    }
    st = sl__sql_parse_expr(text, &a, &x, &e);
    check_status(st, text, &e);
    if (st == SL_OK) {
        check_expr(x, strlen(text));
        sl__sql_expr_format(x, out, 1 << 16);
    }
    sl__arena_free(&a);
done:
    free(text);
    free(out);
    return 0;
}
