/*
 * Unit tests of src/sql/bind.c and bind_call.c: name resolution
 * (qualifiers, case, ambiguity, struct fields), result types of every
 * typing rule, implicit casts, errors with their exact messages and
 * positions, the planner's replace hook and constant folding.
 */
#include <stdlib.h>
#include <string.h>

#include "sql_run.h"

#include "sl_test.h"

#define R(text, want) SL_CHECK_STR(sqlrun(text), want)

static void test_names(void)
{
    R("A", "long 7");
    R("t.a", "long 7");
    R("T.A", "long 7");
    R("`s`", "string hello");
    R("st.x", "long 1"); /* no relation st: field x of column st */
    R("t.st.x", "long 1");
    R("ST.Y", "string one");
    R("error", "error: line 1, column 1: cannot resolve 'error' given input "
               "columns: [t.a, t.b, t.d, t.s, t.ts, t.f, t.arr, t.st, t.n, "
               "t.ns, t.nb, t.big]");
    R("a + vale", "error: line 1, column 5: cannot resolve 'vale' given "
                  "input columns: [t.a, t.b, t.d, t.s, t.ts, t.f, t.arr, "
                  "t.st, t.n, t.ns, t.nb, t.big]");
    R("x.a", "error: line 1, column 1: cannot resolve 'x.a' given input "
             "columns: [t.a, t.b, t.d, t.s, t.ts, t.f, t.arr, t.st, t.n, "
             "t.ns, t.nb, t.big]");
    R("st.z", "error: line 1, column 1: no such struct field 'z' in "
              "struct<x:long,y:string>");
    R("a.x", "error: line 1, column 1: cannot extract field 'x' from a "
             "value of type long: not a struct");
    sqlrun_two = true;
    R("value", "string v");
    R("u.a + t.a", "long 8");
    R("1 + a", "error: line 1, column 5: reference 'a' is ambiguous, could "
               "be: t.a, u.a");
    R("t.value", "error: line 1, column 1: cannot resolve 't.value' given "
                 "input columns: [t.a, t.b, t.d, t.s, t.ts, t.f, t.arr, t.st, "
                 "t.n, t.ns, t.nb, t.big, u.a, u.value]");
    sqlrun_two = false;
    /* the message with its caret */
    sqlrun("a +\n  vale * 2");
    SL_CHECK_STR(sqlrun_error(),
                 "line 2, column 3: cannot resolve 'vale' given input "
                 "columns: [t.a, t.b, t.d, t.s, t.ts, t.f, t.arr, t.st, t.n, "
                 "t.ns, t.nb, t.big]\n  vale * 2\n  ^");
}

static void test_types(void)
{
    /* result types, values aside: NULL inputs show the type alone */
    R("n + n", "long NULL");
    R("n + d", "double NULL");
    R("n / n", "double NULL");
    R("n div n", "long NULL");
    R("n % 1.5", "double NULL");
    R("ns + 1", "double NULL");
    R("ns * ns", "double NULL");
    R("ns div 2", "long NULL");
    R("n & n", "long NULL");
    R("ns | 1", "long NULL");
    R("-ns", "double NULL");
    R("n = d", "boolean NULL");
    R("ns || n", "string NULL");
    R("NULL", "void NULL");
    R("CASE WHEN f THEN n ELSE d END", "double NULL");
    R("CASE WHEN f THEN ts END", "timestamp 2024-01-02 09:30:00");
    R("CASE WHEN f THEN ts ELSE 'x' END", "string 2024-01-02 09:30:00");
    R("CASE WHEN f THEN arr END", "array<long> [10, 20, 30]");
    R("CASE WHEN f THEN NULL END", "void NULL");
    R("st", "struct<x:long,y:string> {1, one}");
    R("arr[0] + 0.5", "double 10.5");
    R("ts - INTERVAL 1 DAY", "timestamp 2024-01-01 09:30:00");
    R("12345678901234567890", "double 1.2345678901234567E19");
    R("CAST(a AS decimal(10, 2))", "double 7.0");
    R("CAST(a AS int)", "long 7");
}

static void test_type_errors(void)
{
    R("f + 1", "error: line 1, column 1: cannot resolve '(f + 1)' due to "
               "data type mismatch: the operator + is not defined on boolean "
               "and long");
    R("a = f", "error: line 1, column 1: cannot resolve '(a = f)' due to "
               "data type mismatch: the operator = is not defined on long "
               "and boolean");
    R("arr = 1", "error: line 1, column 1: cannot resolve '(arr = 1)' due "
                 "to data type mismatch: the operator = is not defined on "
                 "array<long> and long");
    R("ts + 1", "error: line 1, column 1: cannot resolve '(ts + 1)' due to "
                "data type mismatch: the operator + is not defined on "
                "timestamp and long");
    R("d & 1", "error: line 1, column 1: cannot resolve '(d & 1)' due to "
               "data type mismatch: the operator & is not defined on double "
               "and long");
    R("a AND f", "error: line 1, column 1: cannot resolve '(a AND f)' due "
                 "to data type mismatch: the operator AND is not defined on "
                 "long and boolean");
    R("NOT a", "error: line 1, column 1: cannot resolve '(NOT a)' due to "
               "data type mismatch: NOT requires boolean, not long");
    R("-f", "error: line 1, column 1: cannot resolve '(-f)' due to data "
            "type mismatch: - requires a number, not boolean");
    R("s[0]", "error: line 1, column 1: cannot resolve 's[0]' due to "
              "data type mismatch: [] needs an array, not string");
    R("CASE WHEN a THEN 1 END",
      "error: line 1, column 1: cannot resolve 'CASE WHEN a THEN 1 END' "
      "due to data type mismatch: WHEN expressions in CASE must be boolean, "
      "not "
      "long");
    R("CASE WHEN f THEN arr ELSE 1 END",
      "error: line 1, column 1: cannot resolve 'CASE WHEN f THEN arr ELSE 1 "
      "END' due to data type mismatch: THEN and ELSE expressions should "
      "all be the same type or coercible to a common type");
    R("a IN (arr)", "error: line 1, column 1: cannot resolve '(a IN (arr))' "
                    "due to data type mismatch: the IN list has values of "
                    "type long and array<long>");
    R("arr LIKE 'x'", "error: line 1, column 1: cannot resolve 'arr LIKE 'x'' "
                      "due to data type mismatch: LIKE requires "
                      "strings, not array<long>");
    R("CAST(arr AS long)",
      "error: line 1, column 1: cannot resolve "
      "'CAST(arr AS long)' due to data type mismatch: cannot "
      "cast array<long> to long");
}

static void test_call_errors(void)
{
    R("lower(s, s)", "error: line 1, column 1: function lower requires 1 "
                     "argument, 2 given");
    R("substr(s)", "error: line 1, column 1: function substr requires 2 to "
                   "3 arguments, 1 given");
    R("a + foo(1)", "error: line 1, column 5: undefined function: 'foo'");
    R("a + sum(a)", "error: line 1, column 5: aggregate functions are not "
                    "allowed in WHERE");
    R("COUNT(*) > 1", "error: line 1, column 1: aggregate functions are not "
                      "allowed in WHERE");
    R("1 + upper(explode(arr))", "error: line 1, column 11: generators are "
                                 "only allowed in the select list");
    R("upper(DISTINCT s)", "error: line 1, column 1: DISTINCT is only "
                           "allowed in aggregate functions, not in upper()");
    R("CAST(a AS dobule)", "error: line 1, column 11: cannot read the type "
                           "of CAST: column 1: unknown type \"dobule\"");
    R("s LIKE 'a\\\\'", "error: line 1, column 8: the pattern 'a\\' is "
                        "invalid: it is not allowed to end with the escape "
                        "character");
    R("s LIKE 'a\\\\b'", "error: line 1, column 8: the pattern 'a\\b' is "
                         "invalid: the escape character is not allowed to "
                         "precede a character other than %, _ or \\");
    R("s RLIKE '(a'", "error: line 1, column 9: the pattern '(a' is "
                      "invalid: at offset 2: missing closing parenthesis");
    R("a.*", "error: line 1, column 1: '*' is only allowed in a select list "
             "or count(*)");
    sqlrun_clause = "GROUP BY";
    R("max(a)", "error: line 1, column 1: aggregate functions are not "
                "allowed in GROUP BY");
    sqlrun_clause = "WHERE";
}

/* The planner's hook: sum(a) is column 1 (b) typed double; count(*) is
 * refused with its own message. */
static bool replace(void *user, const sl__sql_expr *x, size_t *column,
                    const sl_type **type, sl__sql_error *e)
{
    (void)user;
    if (x->kind != SL__SQL_FUNC)
        return false;
    if (!strcmp(x->name, "sum")) {
        *column = 2, *type = sl_type_scalar(SL_TYPE_DOUBLE);
        return true;
    }
    if (!strcmp(x->name, "count")) {
        sl__sql_error_set(e, x->offset, "no count here");
        *column = SIZE_MAX;
        return true;
    }
    return false;
}

static void test_replace(void)
{
    sqlrun_replace = replace;
    R("sum(a) * 2", "double 5.0");
    R("upper(s) || sum(x)", "string HELLO2.5"); /* x is never resolved */
    R("1 + count(*)", "error: line 1, column 5: no count here");
    R("max(a)", "error: line 1, column 1: aggregate functions are not "
                "allowed in WHERE");
    sqlrun_replace = NULL;
}

static void test_folding(void)
{
    sl__arena a;
    sl__sql_prog *p;
    sl__arena_init(&a, 4096);
    /* literal-only sub-expressions become one constant */
    p = sqlrun_compile("upper('a' || 'b') || CAST(1 + 2 * 3 AS string)", &a);
    SL_CHECK(p != NULL);
    if (p) {
        SL_CHECK_INT(p->nodes[p->root].code, SL__N_CONST);
        SL_CHECK_INT(p->nodes[p->root].value.len, 3);
        SL_CHECK(!memcmp(p->nodes[p->root].value.u.s, "AB7", 3));
    }
    p = sqlrun_compile("a + (2 * 3)", &a);
    SL_CHECK(p != NULL);
    if (p) {
        const sl__sql_node *n = &p->nodes[p->root];
        SL_CHECK_INT(n->code, SL__N_ARITH);
        SL_CHECK_INT(p->nodes[p->kids[n->kids + 1]].code, SL__N_CONST);
        SL_CHECK_INT(p->nodes[p->kids[n->kids + 1]].value.u.i, 6);
    }
    sl__arena_free(&a);
}

/* A long chain of operators is as deep a tree as it is long: refused
 * with an error, not a stack overflow (the parser builds it by a loop). */
static void test_deep(void)
{
    size_t n = 200000;
    char *q = malloc(4 * n + 2);
    for (size_t i = 0; i < n; i++)
        memcpy(q + 4 * i, "a + ", 4);
    memcpy(q + 4 * n, "a", 2);
    SL_CHECK_STR(sqlrun(q), "error: line 1, column 1: expression nested too "
                            "deeply (more than 1000 levels)");
    /* 999 operators still bind and run */
    q[4 * 999] = 'a', q[4 * 999 + 1] = '\0';
    SL_CHECK_STR(sqlrun(q), "long 7000");
    free(q);
}

/* A program outlives the syntax tree it was compiled from. */
static void test_own_memory(void)
{
    sl__arena ast, prog;
    sl__sql_expr *x;
    sl__sql_prog *p;
    sl__sql_error e;
    sl__sql_rel rel = {"t", NULL, 0};
    sl__sql_scope sc = {&rel, 0, NULL, NULL, "WHERE", 0, NULL};
    sl_value v;
    char *junk;
    sl__arena_init(&ast, 4096);
    sl__arena_init(&prog, 4096);
    SL_CHECK_OK(sl__sql_parse_expr("'abc'", &ast, &x, &e));
    SL_CHECK_OK(sl__sql_compile(x, &sc, &prog, &p, &e));
    /* the tree's memory is reused for something else */
    sl__arena_reset(&ast);
    junk = sl__arena_alloc(&ast, 4000);
    memset(junk, 'X', 4000);
    SL_CHECK_OK(sl__sql_eval(p, NULL, &prog, &v));
    SL_CHECK(v.kind == SL_KIND_STR && v.len == 3 && !memcmp(v.u.s, "abc", 3));
    sl__arena_free(&ast);
    sl__arena_free(&prog);
}

static void test_cleanup(void)
{
    sqlrun_reset();
}

const char *SL_SUITE = "sql_bind";
const sl_test_case SL_TESTS[] = {{"names", test_names},
                                 {"types", test_types},
                                 {"type_errors", test_type_errors},
                                 {"call_errors", test_call_errors},
                                 {"replace", test_replace},
                                 {"folding", test_folding},
                                 {"deep", test_deep},
                                 {"own_memory", test_own_memory},
                                 {"cleanup", test_cleanup},
                                 {NULL, NULL}};
