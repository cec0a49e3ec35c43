/*
 * Unit tests of src/sql's lexer and parser (lexer.c, parser*.c, query.c,
 * interval.c): each query or expression is compared as its S-expression
 * text (sl__sql_ast_format), and every error message with its line and
 * column (sl__sql_error_format).
 */
#include <stdlib.h>
#include <string.h>

#include "sql/ast.h"

#include "sl_test.h"

static char got[4096];

/* Parse text as a query and format it; NULL on failure (message kept). */
static const char *query_text(const char *text)
{
    sl__arena a;
    sl__sql_query *q;
    sl__sql_error e;
    sl_status st;

    sl__arena_init(&a, 1024);
    st = sl__sql_parse(text, &a, &q, &e);
    if (st == SL_OK)
        sl__sql_ast_format(q, got, sizeof got);
    else
        sl__sql_error_format(text, &e, got, sizeof got);
    sl__arena_free(&a);
    return got;
}

static const char *expr_text(const char *text)
{
    sl__arena a;
    sl__sql_expr *x;
    sl__sql_error e;

    sl__arena_init(&a, 1024);
    if (sl__sql_parse_expr(text, &a, &x, &e) == SL_OK)
        sl__sql_expr_format(x, got, sizeof got);
    else
        sl__sql_error_format(text, &e, got, sizeof got);
    sl__arena_free(&a);
    return got;
}

/* The first line of the error for text: "line L, column C: message". */
static const char *error_line(const char *text, bool expr)
{
    sl__arena a;
    sl__sql_query *q;
    sl__sql_expr *x;
    sl__sql_error e;
    sl_status st;
    char *nl;

    sl__arena_init(&a, 1024);
    st = expr ? sl__sql_parse_expr(text, &a, &x, &e)
              : sl__sql_parse(text, &a, &q, &e);
    sl__arena_free(&a);
    if (st != SL_EPARSE)
        return "(no error)";
    sl__sql_error_format(text, &e, got, sizeof got);
    if ((nl = strchr(got, '\n')))
        *nl = '\0';
    return got;
}

#define Q(text, want) SL_CHECK_STR(query_text(text), want)
#define X(text, want) SL_CHECK_STR(expr_text(text), want)
#define QERR(text, want) SL_CHECK_STR(error_line(text, false), want)
#define XERR(text, want) SL_CHECK_STR(error_line(text, true), want)

static void test_select(void)
{
    Q("SELECT a, b FROM t", "(select (items a b) (from t))");
    Q("select * from t;", "(select (items *) (from t))");
    Q("SELECT t.*, x.y FROM t", "(select (items t.* x.y) (from t))");
    Q("SELECT DISTINCT a AS x, b y, c AS `z z` FROM t",
      "(select distinct (items (as a x) (as b y) (as c `z z`)) (from t))");
    Q("SELECT ALL a FROM t", "(select (items a) (from t))");
    Q("SELECT 1", "(select (items 1))");
    Q("SELECT a FROM t WHERE a > 1 GROUP BY a, 2 HAVING count(*) > 1",
      "(select (items a) (from t) (where (> a 1)) (group-by a 2) "
      "(having (> (call count *) 1)))");
    /* The printer quotes only names that are not words. */
    Q("SELECT `select`, `a``b` FROM `from`",
      "(select (items select `a``b`) (from from))");
    Q("SeLeCt A FrOm T", "(select (items A) (from T))");
    Q("SELECT SPLIT(value, ',')[0] AS Col1, SPLIT(value,',')[1] AS Col2 "
      "FROM new_dataframe",
      "(select (items (as (index (call split value ',') 0) Col1) "
      "(as (index (call split value ',') 1) Col2)) (from new_dataframe))");
    Q("-- leading comment\nSELECT /* inline */ a -- trailing\nFROM t",
      "(select (items a) (from t))");
}

static void test_from(void)
{
    Q("SELECT * FROM t AS x", "(select (items *) (from (as t x)))");
    Q("SELECT * FROM t x", "(select (items *) (from (as t x)))");
    Q("SELECT * FROM (SELECT a FROM t) s",
      "(select (items *) (from (as (select (items a) (from t)) s)))");
    Q("SELECT * FROM (SELECT a FROM t)",
      "(select (items *) (from (select (items a) (from t))))");
    Q("SELECT * FROM s JOIN t ON s.k = t.k",
      "(select (items *) (from (join s t (= s.k t.k))))");
    Q("SELECT * FROM s INNER JOIN t ON s.k = t.k LEFT OUTER JOIN u v ON "
      "v.k = s.k LEFT JOIN w ON TRUE",
      "(select (items *) (from (left-join (left-join (join s t (= s.k t.k)) "
      "(as u v) (= v.k s.k)) w TRUE)))");
    /* WATERMARK column DELAY OF INTERVAL: a stream's event time */
    Q("SELECT a FROM q WATERMARK ts DELAY OF INTERVAL 10 SECONDS",
      "(select (items a) (from (watermark q ts 10000)))");
    Q("SELECT a FROM q AS x WATERMARK ts DELAY OF INTERVAL '1' MINUTE "
      "WHERE a > 1",
      "(select (items a) (from (as (watermark q ts 60000) x)) "
      "(where (> a 1)))");
    /* a bare "watermark" after a name is still an alias */
    Q("SELECT * FROM t watermark",
      "(select (items *) (from (as t watermark)))");
    QERR("SELECT a FROM q WATERMARK ts DELAY 10",
         "line 1, column 36: syntax error at '10': expected OF");
    QERR("SELECT a FROM q WATERMARK ts DELAY OF 10",
         "line 1, column 39: syntax error at '10': expected INTERVAL after "
         "DELAY OF");
}

static void test_order_union(void)
{
    Q("SELECT a FROM t ORDER BY a, b DESC, c ASC NULLS LAST, d DESC NULLS "
      "FIRST, 1 LIMIT 10",
      "(select (items a) (from t) (order-by (asc a nulls-first) (desc b "
      "nulls-last) (asc c nulls-last) (desc d nulls-first) (asc 1 "
      "nulls-first)) (limit 10))");
    Q("SELECT a FROM t LIMIT 0", "(select (items a) (from t) (limit 0))");
    Q("SELECT a FROM s UNION ALL SELECT b FROM t UNION ALL SELECT c FROM u "
      "ORDER BY 1 LIMIT 5",
      "(union-all (union-all (select (items a) (from s)) (select (items b) "
      "(from t))) (select (items c) (from u)) (order-by (asc 1 nulls-first)) "
      "(limit 5))");
    Q("(SELECT a FROM s LIMIT 1) UNION ALL (SELECT b FROM t)",
      "(union-all (select (items a) (from s) (limit 1)) (select (items b) "
      "(from t)))");
    Q("(SELECT a FROM s ORDER BY a) LIMIT 2",
      "(select (items *) (from (select (items a) (from s) (order-by (asc a "
      "nulls-first)))) (limit 2))");
    Q("((SELECT a FROM s))", "(select (items a) (from s))");
}

static void test_precedence(void)
{
    X("a OR b AND c", "(or a (and b c))");
    X("NOT a = b AND c", "(and (not (= a b)) c)");
    X("NOT NOT a", "(not (not a))");
    X("a = b OR c <> d", "(or (= a b) (<> c d))");
    X("1 + 2 * 3 - 4 / 5 % 6", "(- (+ 1 (* 2 3)) (% (/ 4 5) 6))");
    X("a div b * c", "(* (div a b) c)");
    X("a | b ^ c & d + e", "(| a (^ b (& c (+ d e))))");
    X("a & b = c", "(= (& a b) c)");
    X("a || b + c", "(+ (|| a b) c)");
    X("a = b IS NULL", "(is-null (= a b))");
    X("-a * b", "(* (- a) b)");
    X("-x[0]", "(- (index x 0))");
    X("- -1", "1");
    X("- -9223372036854775808", "(- -9223372036854775808)");
    X("-(2)", "-2");
    X("-'a'", "(- 'a')");
    X("+a", "(+ a)");
    X("a == b AND a != b AND a <=> b AND a <= b AND a >= b AND a < b",
      "(and (and (and (and (and (= a b) (<> a b)) (<=> a b)) (<= a b)) "
      "(>= a b)) (< a b))");
    X("(a + b) * c", "(* (+ a b) c)");
    X("a - b - c", "(- (- a b) c)");
}

static void test_predicates(void)
{
    X("a IS NULL", "(is-null a)");
    X("a IS NOT NULL", "(not-is-null a)");
    X("a IN (1, 2, 3)", "(in a 1 2 3)");
    X("a NOT IN ('x')", "(not-in a 'x')");
    X("a BETWEEN 1 AND 2 AND b", "(and (between a 1 2) b)");
    X("a NOT BETWEEN b + 1 AND c", "(not-between a (+ b 1) c)");
    X("s LIKE 'a%'", "(like s 'a%')");
    X("s NOT LIKE 'a\\_b'", "(not-like s 'a\\\\_b')");
    X("s RLIKE '^a+$' OR s REGEXP 'b' OR s NOT RLIKE 'c'",
      "(or (or (rlike s '^a+$') (rlike s 'b')) (not-rlike s 'c'))");
}

static void test_literals(void)
{
    X("NULL", "NULL");
    X("true", "TRUE");
    X("FALSE", "FALSE");
    X("12", "12");
    X("12L", "12");
    X("9223372036854775807", "9223372036854775807");
    X("-9223372036854775808", "-9223372036854775808");
    X("9223372036854775808", "9.2233720368547758e+18");
    X("1.5", "1.5");
    X("1e3", "1000.0");
    X(".5", "0.5");
    X("1.", "1.0");
    X("2.5E-1", "0.25");
    X("3D", "3.0");
    X("-1.5", "-1.5");
    X("'it''s'", "'its'");
    X("'a' \"b\" 'c'", "'abc'");
    X("'a\\'b\\\\c\\nd\\te'", "'a\\'b\\\\c\\u000ad\\u0009e'");
    X("'\\u0041\\101\\x\\Z'", "'AAx\\u001a'");
    X("'\\u00e9\\u20AC\\uD83D\\uDE00'",
      "'\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80'");
    X("'\\uD83Dx\\uDE00'", "'\xef\xbf\xbdx\xef\xbf\xbd'");
    X("\"say \\\"hi\\\"\"", "'say \"hi\"'");
    X("X'0aFF'", "X'0AFF'");
    X("x''", "X''");
}

static void test_exprs(void)
{
    X("CASE WHEN a THEN 1 WHEN b THEN 2 ELSE 3 END",
      "(case (when a 1) (when b 2) (else 3))");
    X("CASE x WHEN 1 THEN 'a' END", "(case x (when 1 'a'))");
    X("CAST(a AS double)", "(cast a \"double\")");
    X("cast(a as ARRAY< string >)", "(cast a \"ARRAY< string >\")");
    X("CAST(a AS decimal(10, 2))", "(cast a \"decimal(10, 2)\")");
    X("CAST(a AS map<string,array<int>>)",
      "(cast a \"map<string,array<int>>\")");
    X("COUNT(DISTINCT a, b)", "(call count distinct a b)");
    X("count(*)", "(call count *)");
    X("Current_Timestamp()", "(call current_timestamp)");
    X("sum(ALL x)", "(call sum x)");
    X("left(s, 2)", "(call left s 2)");
    X("RIGHT(s, 2)", "(call right s 2)");
    X("window.start", "window.start");
    X("t.window.end", "(field t.window end)");
    X("(a).b", "(field a b)");
    X("f(x).y[1].`z z`", "(field (index (field (call f x) y) 1) `z z`)");
    X("a[b[0]]", "(index a (index b 0))");
    X("INTERVAL '10' SECONDS", "(interval 10000)");
    X("INTERVAL 1 MINUTE", "(interval 60000)");
    X("interval 2 hours 30 minutes", "(interval 9000000)");
    X("INTERVAL '1 day 1 millisecond'", "(interval 86400001)");
    X("INTERVAL 1 WEEK", "(interval 604800000)");
    X("INTERVAL -5 SECOND", "(interval -5000)");
    X("INTERVAL '-5' second", "(interval -5000)");
    X("ts - INTERVAL 1 MINUTE - x", "(- (- ts (interval 60000)) x)");
}

static void test_errors_lexer(void)
{
    QERR("SELECT 'abc", "line 1, column 8: unterminated string literal");
    QERR("SELECT a /* x\n\n", "line 1, column 10: unterminated comment");
    QERR("SELECT\n  `abc", "line 2, column 3: unterminated quoted identifier");
    QERR("SELECT ``", "line 1, column 8: empty quoted identifier");
    QERR("SELECT a # b", "line 1, column 10: unexpected character '#'");
    QERR("SELECT a \x01", "line 1, column 10: unexpected character "
                          "(byte 0x01)");
    QERR("SELECT 12abc", "line 1, column 8: invalid number '12abc'");
    QERR("SELECT 1e999", "line 1, column 8: number out of range: '1e999'");
    QERR("SELECT 99999999999999999999L",
         "line 1, column 8: invalid number '99999999999999999999L'");
    QERR("SELECT X'abc'", "line 1, column 8: binary literal needs an even "
                          "number of hex digits");
    QERR("SELECT X'zz'",
         "line 1, column 8: invalid hex digit in binary literal");
    QERR("SELECT X'ab", "line 1, column 8: unterminated string literal");
}

static void test_errors_query(void)
{
    QERR("", "line 1, column 1: empty query");
    QERR("  -- nothing\n ;", "line 1, column 1: empty query");
    QERR("SELECT * FORM t",
         "line 1, column 10: syntax error at 'FORM': expected ',', FROM, "
         "WHERE, GROUP BY, HAVING, ORDER BY, LIMIT, UNION or end of query");
    QERR("SELECT a FROM t WHERE a > 1 x",
         "line 1, column 29: syntax error at 'x': expected GROUP BY, HAVING, "
         "ORDER BY, LIMIT, UNION or end of query");
    QERR("SELECT a FROM t t2 garbage",
         "line 1, column 20: syntax error at 'garbage': expected JOIN, "
         "WHERE, GROUP BY, HAVING, ORDER BY, LIMIT, UNION or end of query");
    QERR("SELECT a FROM t LIMIT 1 x",
         "line 1, column 25: syntax error at 'x': expected end of query");
    QERR("SELECT a; SELECT b",
         "line 1, column 11: syntax error at 'SELECT': expected end of query");
    QERR("SELECT", "line 1, column 7: syntax error at end of query: "
                   "expected an expression");
    QERR("SELECT a FROM", "line 1, column 14: syntax error at end of query: "
                          "expected a table name or '('");
    QERR("SELECT a FROM WHERE", "line 1, column 15: syntax error at 'WHERE': "
                                "expected a table name or '('");
    QERR("FROM t", "line 1, column 1: syntax error at 'FROM': expected "
                   "SELECT or '('");
    QERR("SELECT a FROM (SELECT b FROM t x",
         "line 1, column 33: syntax error at end of query: expected JOIN, "
         "WHERE, GROUP BY, HAVING, ORDER BY, LIMIT, UNION or ')'");
    QERR("SELECT a FROM s, t", "line 1, column 16: comma joins (cross "
                               "joins) are not supported: use JOIN ... ON");
    QERR("SELECT a FROM s RIGHT JOIN t ON 1",
         "line 1, column 17: RIGHT JOIN is not supported: use [INNER] JOIN "
         "or LEFT [OUTER] JOIN");
    QERR("SELECT a FROM s FULL OUTER JOIN t ON 1",
         "line 1, column 17: FULL JOIN is not supported: use [INNER] JOIN or "
         "LEFT [OUTER] JOIN");
    QERR("SELECT a FROM s JOIN t USING (k)",
         "line 1, column 24: JOIN ... USING is not supported: write ON");
    QERR("SELECT a FROM s JOIN t", "line 1, column 23: syntax error at end "
                                   "of query: expected ON");
    QERR("SELECT a FROM s LEFT t", "line 1, column 22: syntax error at 't': "
                                   "expected JOIN");
    QERR("SELECT a FROM s UNION SELECT b FROM t",
         "line 1, column 17: only UNION ALL is supported (UNION without ALL "
         "removes duplicates): write UNION ALL");
    QERR("SELECT a FROM t GROUP a", "line 1, column 23: syntax error at 'a': "
                                    "expected BY");
    QERR("SELECT a FROM t ORDER BY a NULLS middle",
         "line 1, column 34: syntax error at 'middle': expected FIRST or LAST "
         "after NULLS");
    QERR("SELECT a FROM t ORDER BY a LIMIT -1",
         "line 1, column 34: syntax error at '-': expected a whole number >= "
         "0 after LIMIT");
    QERR("SELECT a FROM t LIMIT x", "line 1, column 23: syntax error at 'x': "
                                    "expected a whole number >= 0 after "
                                    "LIMIT");
    QERR("SELECT a AS FROM t", "line 1, column 13: syntax error at 'FROM': "
                               "expected an alias after AS");
    QERR("SELECT a FROM t ORDER BY a UNION ALL SELECT b FROM u",
         "line 1, column 28: syntax error at 'UNION': expected ',', LIMIT or "
         "end of query");
    QERR("SELECT a FROM t\nWHERE a IN (SELECT b FROM u)",
         "line 2, column 13: IN (sub-query) is not supported");
    QERR("SELECT (SELECT 1)",
         "line 1, column 9: scalar sub-queries are not supported");
}

static void test_errors_expr(void)
{
    XERR("", "line 1, column 1: empty expression");
    XERR("a b", "line 1, column 3: syntax error at 'b': expected an operator "
                "or end of expression");
    XERR("a +", "line 1, column 4: syntax error at end of query: expected an "
                "expression");
    XERR("(a + b", "line 1, column 7: syntax error at end of query: expected "
                   "')'");
    XERR("f(a, )", "line 1, column 6: syntax error at ')': expected an "
                   "expression");
    XERR("a[1", "line 1, column 4: syntax error at end of query: expected "
                "']'");
    XERR("a.", "line 1, column 3: syntax error at end of query: expected a "
               "field name after '.'");
    XERR("(a).1", "line 1, column 4: syntax error at '.1': expected an "
                  "operator or end of expression");
    XERR("(a).+", "line 1, column 5: syntax error at '+': expected a field "
                  "name after '.'");
    XERR("a IS 1", "line 1, column 6: syntax error at '1': expected NULL or "
                   "NOT after IS");
    XERR("a IS NOT 1", "line 1, column 10: syntax error at '1': expected NULL "
                       "after IS NOT");
    XERR("a NOT b", "line 1, column 7: syntax error at 'b': expected IN, "
                    "BETWEEN, LIKE or RLIKE after NOT");
    XERR("a IN 1", "line 1, column 6: syntax error at '1': expected '('");
    XERR("a BETWEEN 1 OR 2", "line 1, column 13: syntax error at 'OR': "
                             "expected AND");
    XERR("CASE END", "line 1, column 6: syntax error at 'END': expected an "
                     "expression");
    XERR("CASE WHEN a THEN b", "line 1, column 19: syntax error at end of "
                               "query: expected WHEN, ELSE or END");
    XERR("CASE WHEN a THEN b ELSE c", "line 1, column 26: syntax error at end "
                                      "of query: expected END");
    XERR("CASE x END", "line 1, column 8: syntax error at 'END': expected "
                       "WHEN");
    XERR("CASE WHEN a 1", "line 1, column 13: syntax error at '1': expected "
                          "THEN");
    XERR("CAST(a double)", "line 1, column 8: syntax error at 'double': "
                           "expected AS");
    XERR("CAST(a AS)", "line 1, column 10: syntax error at ')': expected a "
                       "type after AS");
    XERR("CAST(a AS array<int>", "line 1, column 21: syntax error at end of "
                                 "query: expected ')' after the type");
    XERR("INTERVAL 1", "line 1, column 11: syntax error at end of query: "
                       "expected an interval unit (MILLISECOND, SECOND, "
                       "MINUTE, HOUR, DAY or WEEK)");
    XERR("INTERVAL 1 MONTH", "line 1, column 12: syntax error at 'MONTH': "
                             "expected an interval unit (MILLISECOND, "
                             "SECOND, MINUTE, HOUR, DAY or WEEK)");
    XERR("INTERVAL '1.5' SECOND",
         "line 1, column 10: invalid interval '1.5': expected a whole number "
         "and a unit (MILLISECOND, SECOND, MINUTE, HOUR, DAY or WEEK)");
    XERR("INTERVAL x", "line 1, column 10: syntax error at 'x': expected a "
                       "whole number or a string after INTERVAL");
    XERR("INTERVAL 9223372036854775807 WEEKS",
         "line 1, column 10: interval out of range");
    XERR("SELECT", "line 1, column 1: syntax error at 'SELECT': expected an "
                   "expression");
    XERR("a = WHERE", "line 1, column 5: syntax error at 'WHERE': expected an "
                      "expression");
    XERR("from(x)", "line 1, column 1: syntax error at 'from': expected an "
                    "expression");
    XERR("x ~ y", "line 1, column 3: syntax error at '~': expected an "
                  "operator or end of expression");
    XERR("'a' 'b", "line 1, column 5: unterminated string literal");
}

/* Nesting beyond the limit is an error, never a stack overflow. */
/* OVER clauses: every part in the canonical text (calls with different
 * windows must never be taken for one another), and each refused form
 * with its position. */
static void test_over(void)
{
    X("avg(p) OVER (PARTITION BY a, hour(ts) ORDER BY ts RANGE BETWEEN "
      "INTERVAL '14' DAYS PRECEDING AND CURRENT ROW EXCLUDE CURRENT ROW)",
      "(call avg p (over (partition a (call hour ts)) (order ts) (range "
      "(interval 1209600000)) (exclude current-row)))");
    X("sum(x) over (order by k asc rows 3 preceding exclude group)",
      "(call sum x (over (partition) (order k) (rows 3) (exclude group)))");
    X("count(*) OVER ()",
      "(call count * (over (partition) (range unbounded) (exclude "
      "no-others)))");
    X("min(x) OVER (ORDER BY k RANGE BETWEEN UNBOUNDED PRECEDING AND "
      "CURRENT ROW EXCLUDE TIES)",
      "(call min x (over (partition) (order k) (range unbounded) (exclude "
      "ties)))");
    X("max(x) OVER (ORDER BY d ROWS CURRENT ROW EXCLUDE NO OTHERS)",
      "(call max x (over (partition) (order d) (rows 0) (exclude "
      "no-others)))");
    X("max(x) OVER (ORDER BY d RANGE 2.5 PRECEDING)",
      "(call max x (over (partition) (order d) (range 2.5) (exclude "
      "no-others)))");
    /* over is no keyword elsewhere: a column and an alias */
    Q("SELECT over FROM t", "(select (items over) (from t))");
    Q("SELECT f(x) over FROM t", "(select (items (as (call f x) over)) "
                                 "(from t))");
    XERR("sum(x) OVER (ORDER BY k ROWS 1 FOLLOWING)",
         "line 1, column 32: window frames that start FOLLOWING the current "
         "row are not supported");
    XERR("sum(x) OVER (ORDER BY k DESC)",
         "line 1, column 25: OVER (ORDER BY ... DESC) is not supported: "
         "order the window ascending");
    XERR("sum(x) OVER (ORDER BY k, j)",
         "line 1, column 24: OVER (ORDER BY ...) supports one key");
    XERR("sum(x) OVER (ORDER BY k ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING)",
         "line 1, column 54: window frames must end at CURRENT ROW (frames "
         "ending FOLLOWING or earlier are not supported)");
    XERR("sum(x) OVER (ORDER BY k ROWS BETWEEN 1 PRECEDING)",
         "line 1, column 49: syntax error at ')': expected AND");
    XERR("sum(x) OVER (ORDER BY k EXCLUDE GROUP)",
         "line 1, column 25: syntax error at 'EXCLUDE': expected ROWS, RANGE "
         "or ')'");
    XERR("sum(x) OVER (ORDER BY k ROWS 2 PRECEDING EXCLUDE ALL)",
         "line 1, column 50: syntax error at 'ALL': expected CURRENT ROW, "
         "GROUP, TIES or NO OTHERS");
    XERR("sum(x) OVER (ROWS x PRECEDING)",
         "line 1, column 19: syntax error at 'x': expected UNBOUNDED "
         "PRECEDING, CURRENT ROW, a non-negative number or an INTERVAL");
}

static void test_depth(void)
{
    size_t n = 100000;
    char *deep = malloc(2 * n + 2), *ok = malloc(2 * 150 + 2);
    char *neg = malloc(2 * n + 2), *nots = malloc(4 * n + 2), *sub;

    memset(deep, '(', n);
    deep[n] = '1';
    memset(deep + n + 1, ')', n);
    deep[2 * n + 1] = '\0';
    XERR(deep, "line 1, column 201: query nested too deeply (more than 200 "
               "levels)");
    memset(ok, '(', 150);
    ok[150] = '1';
    memset(ok + 151, ')', 150);
    ok[301] = '\0';
    X(ok, "1");
    for (size_t i = 0; i < n; i++)
        memcpy(neg + 2 * i, "- ", 2);
    strcpy(neg + 2 * n, "1");
    XERR(neg, "line 1, column 399: query nested too deeply (more than 200 "
              "levels)");
    for (size_t i = 0; i < n; i++)
        memcpy(nots + 4 * i, "NOT ", 4);
    strcpy(nots + 4 * n, "1");
    XERR(nots, "line 1, column 797: query nested too deeply (more than 200 "
               "levels)");
    sub = malloc(30 * 300 + 64);
    sub[0] = '\0';
    for (int i = 0; i < 300; i++)
        strcat(sub, "SELECT * FROM (");
    strcat(sub, "SELECT 1");
    QERR(sub, "line 1, column 3001: query nested too deeply (more than 200 "
              "levels)");
    free(deep);
    free(ok);
    free(neg);
    free(nots);
    free(sub);
}

/* Offsets and ends of nodes, for errors and default column names. */
static void test_positions(void)
{
    sl__arena a;
    sl__sql_query *q;
    sl__sql_error e;
    const char *text = "SELECT  a + f(b) AS x,\n 2 FROM t LIMIT 7";

    sl__arena_init(&a, 1024);
    SL_CHECK_OK(sl__sql_parse(text, &a, &q, &e));
    SL_CHECK_INT(q->offset, 0);
    SL_CHECK_INT(q->items[0].expr->offset, 8);
    SL_CHECK_INT(q->items[0].expr->end, 16);
    SL_CHECK_INT(q->items[0].expr->args[1]->offset, 12);
    SL_CHECK_INT(q->items[1].expr->offset, 24);
    SL_CHECK_INT(q->items[1].expr->end, 25);
    SL_CHECK_INT(q->from->offset, 31);
    SL_CHECK_INT(q->limit_offset, 39);
    SL_CHECK(q->items[0].expr->type == NULL);
    SL_CHECK_INT(q->items[1].expr->type->id, SL_TYPE_LONG);
    SL_CHECK_OK(sl__sql_parse("SELECT CAST(x AS  long ) FROM t", &a, &q, &e));
    SL_CHECK_STR(q->items[0].expr->type_text, "long");
    SL_CHECK_INT(q->items[0].expr->type_offset, 18);
    SL_CHECK_INT(q->items[0].expr->end, 24);
    sl__arena_free(&a);
}

/* An allocator that fails from the fail_at-th call on. */
static int calls, fail_at;

static void *failing_malloc(size_t n, void *user)
{
    (void)user;
    return ++calls >= fail_at ? NULL : malloc(n);
}

static void *failing_realloc(void *p, size_t n, void *user)
{
    (void)user;
    return ++calls >= fail_at ? NULL : realloc(p, n);
}

static void plain_free(void *p, void *user)
{
    (void)user;
    free(p);
}

/* Running out of memory anywhere in a parse is SL_ENOMEM, never a crash
 * or a half-made tree reported as success. */
static void test_out_of_memory(void)
{
    static const sl_allocator fa = {failing_malloc, failing_realloc, plain_free,
                                    NULL};
    const char *text =
        "SELECT a AS `long alias name`, f(DISTINCT 'a fairly long string', "
        "b) FROM (SELECT * FROM s) x LEFT JOIN t ON x.k = t.k WHERE c IN "
        "(1, 2, 3, 4, 5, 6) AND CAST(d AS array<string>) IS NOT NULL "
        "GROUP BY 1, 2 HAVING count(*) > INTERVAL 1 MINUTE UNION ALL "
        "SELECT CASE WHEN e THEN 'x' ELSE 'y' END, 2 ORDER BY 1 LIMIT 3";
    sl__arena a;
    sl__sql_query *q;
    sl__sql_error e;
    sl_status st = SL_ENOMEM;
    int enomem = 0;

    SL_CHECK_OK(sl_set_allocator(&fa));
    for (fail_at = 1; st == SL_ENOMEM && fail_at < 10000; fail_at++) {
        calls = 0;
        sl__arena_init(&a, 16);
        st = sl__sql_parse(text, &a, &q, &e);
        SL_CHECK(st == SL_OK || st == SL_ENOMEM);
        enomem += st == SL_ENOMEM;
        sl__arena_free(&a);
    }
    SL_CHECK_OK(sl_set_allocator(NULL));
    SL_CHECK_OK(st);
    SL_CHECK(enomem >= 3);
}

const char *SL_SUITE = "sql_parser";
const sl_test_case SL_TESTS[] = {{"select", test_select},
                                 {"from", test_from},
                                 {"order_union", test_order_union},
                                 {"precedence", test_precedence},
                                 {"predicates", test_predicates},
                                 {"literals", test_literals},
                                 {"exprs", test_exprs},
                                 {"errors_lexer", test_errors_lexer},
                                 {"errors_query", test_errors_query},
                                 {"errors_expr", test_errors_expr},
                                 {"over", test_over},
                                 {"depth", test_depth},
                                 {"positions", test_positions},
                                 {"out_of_memory", test_out_of_memory},
                                 {NULL, NULL}};
