/*
 * libFuzzer target for the SQL binder, compiler, evaluator and planner
 * (src/sql): the input is parsed as an expression and, when it parses,
 * compiled against a fixed scope (every column type) and evaluated over
 * two rows (one of plain values, one of NULLs); it is also parsed as a
 * query and planned against a catalog of two tables. A bind or plan
 * fails only with SL_EPARSE at an offset inside the text and a message
 * (or SL_ENOMEM); a program's result is NULL or of its type's kind.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/schema.h"
#include "sql/expr.h"
#include "sql/plan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const DDL =
    "a long, b double, s string, ts timestamp, ok boolean, bin binary, "
    "arr array<string>, st struct<x: long, y: string>";

static void fuzz_fail(const char *what)
{
    fprintf(stderr, "fuzz: broken promise: %s\n", what);
    abort();
}

static void check_error(sl_status st, const char *text, const sl__sql_error *e)
{
    char buf[512];
    if (st == SL_OK || st == SL_ENOMEM)
        return;
    if (st != SL_EPARSE)
        fuzz_fail("a bind or plan returns SL_OK, SL_EPARSE or SL_ENOMEM");
    if (e->offset > strlen(text) || !e->msg[0])
        fuzz_fail("an error has an offset inside the text and a message");
    sl__sql_error_format(text, e, buf, sizeof buf);
}

/* The kind a non-NULL value of type t has. */
static uint32_t kind_of(const sl_type *t)
{
    switch (t->id) {
    case SL_TYPE_BOOLEAN:
        return SL_KIND_BOOL;
    case SL_TYPE_LONG:
    case SL_TYPE_TIMESTAMP:
        return SL_KIND_INT;
    case SL_TYPE_DOUBLE:
        return SL_KIND_DOUBLE;
    case SL_TYPE_STRING:
        return SL_KIND_STR;
    case SL_TYPE_BINARY:
        return SL_KIND_BYTES;
    case SL_TYPE_ARRAY:
        return SL_KIND_LIST;
    case SL_TYPE_STRUCT:
        return SL_KIND_TUPLE;
    default:
        return SL_KIND_NULL;
    }
}

static void eval_rows(const sl__sql_prog *p)
{
    static const sl_value words[2] = {{SL_KIND_STR, 2, {.s = "ab"}},
                                      {SL_KIND_STR, 0, {.s = ""}}};
    static const sl_value fields[2] = {{SL_KIND_INT, 0, {.i = 7}},
                                       {SL_KIND_STR, 1, {.s = "y"}}};
    const sl_value plain[8] = {sl_int(-3),
                               sl_double(2.5),
                               sl_str("a,b c", 5),
                               sl_int(1704187800123),
                               sl_bool(true),
                               sl_bytes("\x01\x02", 2),
                               sl_composite(SL_KIND_LIST, words, 2),
                               sl_composite(SL_KIND_TUPLE, fields, 2)};
    const sl_value nulls[8] = {{0}};
    const sl_type *t = sl__sql_prog_type(p);
    sl__arena scratch;
    sl_value out;
    for (int r = 0; r < 2; r++) {
        sl__arena_init(&scratch, 1 << 16);
        if (sl__sql_eval(p, r ? nulls : plain, &scratch, &out) == SL_OK &&
            out.kind != SL_KIND_NULL && t->id != SL_TYPE_NULL &&
            out.kind != kind_of(t))
            fuzz_fail("a result is NULL or of its type's kind");
        sl__arena_free(&scratch);
    }
}

static bool lookup(void *user, const char *name, const sl_schema **schema,
                   bool *is_stream, void **handle)
{
    if (strcasecmp(name, "t") != 0 && strcasecmp(name, "u") != 0)
        return false;
    *schema = user;
    *is_stream = false;
    *handle = NULL;
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static sl_schema *schema;
    char err[256], *text = malloc(size + 1);
    sl__arena a;
    sl__sql_expr *x;
    sl__sql_query *q;
    sl__sql_prog *p;
    sl__sql_plan *plan;
    sl__sql_error e;
    sl_status st;

    if (!schema && sl_schema_parse(DDL, &schema, err, sizeof err) != SL_OK)
        fuzz_fail("the fixed schema parses");
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    sl__arena_init(&a, 4096);
    if (sl__sql_parse_expr(text, &a, &x, &e) == SL_OK) {
        sl__sql_rel rel = {"t", schema, 0};
        sl__sql_scope scope;
        memset(&scope, 0, sizeof scope);
        scope.rels = &rel;
        scope.nrels = 1;
        scope.clause = "the fuzz scope";
        scope.now_ms = 1704187800123;
        st = sl__sql_compile(x, &scope, &a, &p, &e);
        check_error(st, text, &e);
        if (st == SL_OK)
            eval_rows(p);
    }
    if (sl__sql_parse(text, &a, &q, &e) == SL_OK) {
        sl__sql_catalog cat = {lookup, NULL, schema, NULL};
        st = sl__sql_plan_build(text, q, &cat, 0, &a, &plan, &e);
        check_error(st, text, &e);
    }
    sl__arena_free(&a);
    free(text);
    return 0;
}
