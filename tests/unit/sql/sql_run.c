/* Compiling and evaluating SQL expressions over one test row (sql_run.h). */
#include <stdio.h>
#include <string.h>

#include "core/schema.h"
#include "sql_run.h"

bool sqlrun_two;
bool (*sqlrun_replace)(void *, const sl__sql_expr *, size_t *, const sl_type **,
                       sl__sql_error *);
const char *sqlrun_clause = "WHERE";
const _Atomic int64_t *sqlrun_clock;

static sl_schema *g_t, *g_u;
static sl_value g_row[14], g_arr[3], g_st[2];
static char g_out[512], g_err[1024];

static void init(void)
{
    char err[128];
    if (g_t)
        return;
    sl_schema_parse("a long, b long, d double, s string, ts timestamp, "
                    "f boolean, arr array<long>, st struct<x: long, y: "
                    "string>, n long, ns string, nb boolean, big long",
                    &g_t, err, sizeof err);
    sl_schema_parse("a long, value string", &g_u, err, sizeof err);
    g_arr[0] = sl_int(10), g_arr[1] = sl_int(20), g_arr[2] = sl_int(30);
    g_st[0] = sl_int(1), g_st[1] = sl_cstr("one");
    g_row[0] = sl_int(7), g_row[1] = sl_int(-2), g_row[2] = sl_double(2.5);
    g_row[3] = sl_cstr("hello"), g_row[4] = sl_int(1704187800000);
    g_row[5] = sl_bool(true);
    g_row[6] = sl_composite(SL_KIND_LIST, g_arr, 3);
    g_row[7] = sl_composite(SL_KIND_TUPLE, g_st, 2);
    g_row[8] = g_row[9] = g_row[10] = sl_null();
    g_row[11] = sl_int(INT64_MAX);
    g_row[12] = sl_int(1), g_row[13] = sl_cstr("v");
}

const sl_value *sqlrun_row(void)
{
    init();
    return g_row;
}

static sl_status compile(const char *text, sl__arena *a, sl__sql_prog **p,
                         sl__sql_error *e)
{
    sl__sql_rel rels[2] = {{"t", NULL, 0}, {"u", NULL, 12}};
    sl__sql_scope sc = {rels, 1, NULL, NULL, NULL, 0, NULL};
    sl__sql_expr *x;
    sl_status st;
    init();
    rels[0].schema = g_t, rels[1].schema = g_u;
    sc.nrels = sqlrun_two ? 2 : 1;
    sc.replace = sqlrun_replace, sc.clause = sqlrun_clause;
    sc.now_ms = 1704187800000;
    sc.clock = sqlrun_clock;
    if ((st = sl__sql_parse_expr(text, a, &x, e)) != SL_OK)
        return st;
    return sl__sql_compile(x, &sc, a, p, e);
}

sl__sql_prog *sqlrun_compile(const char *text, sl__arena *a)
{
    sl__sql_prog *p;
    sl__sql_error e;
    return compile(text, a, &p, &e) == SL_OK ? p : NULL;
}

const char *sqlrun(const char *text)
{
    sl__arena a;
    sl__sql_prog *p;
    sl__sql_error e;
    sl__buf b = {0};
    sl_value v;
    char tn[64];
    sl__arena_init(&a, 4096);
    if (compile(text, &a, &p, &e) != SL_OK) {
        sl__sql_error_format(text, &e, g_err, sizeof g_err);
        snprintf(g_out, sizeof g_out, "error: %.*s", (int)strcspn(g_err, "\n"),
                 g_err);
    } else if (sl__sql_eval(p, g_row, &a, &v) != SL_OK) {
        snprintf(g_out, sizeof g_out, "eval failed");
    } else {
        sl__text_put_typed(&b, sl__sql_prog_type(p), &v);
        snprintf(g_out, sizeof g_out, "%s %.*s",
                 sl__sql_tname(sl__sql_prog_type(p), tn, sizeof tn), (int)b.len,
                 b.data);
        sl__buf_free(&b);
    }
    sl__arena_free(&a);
    return g_out;
}

const char *sqlrun_error(void)
{
    return g_err;
}

void sqlrun_reset(void)
{
    sl_schema_release(g_t), sl_schema_release(g_u);
    g_t = g_u = NULL;
}
