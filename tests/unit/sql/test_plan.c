/*
 * Unit tests of the SQL planner and its batch execution (src/sql/plan*.c):
 * queries over in-memory tables made with sl_rdd_parallelize, every
 * clause, the results as CSV text; the same queries over 1, 2 and 8
 * partitions must give the same rows; errors with their positions.
 */
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <strings.h>

#include "core/row_out.h"
#include "sql/plan.h"

#include "sl_test.h"

typedef struct table {
    const char *name, *ddl;
    sl_schema *schema;
    sl_value *rows;
    size_t n;
} table;

static sl_engine *g_eng;
static size_t g_parts = 1;
static table g_tables[5];
static char g_out[8192];

#define S(x) sl_cstr(x)
#define L(x) sl_int(x)
#define D(x) sl_double(x)
#define N sl_null()

static sl_value t_rows[6][3], u_rows[5][2], lines_rows[2][1], big_rows[1000][3];
/* 40,000 rows of 20,000 distinct values (each twice) for DISTINCT. */
#define MANY 40000
static sl_value many_rows[MANY][1];

static bool lookup(void *user, const char *name, const sl_schema **schema,
                   bool *is_stream, void **handle)
{
    size_t i;
    (void)user;
    for (i = 0; i < sizeof g_tables / sizeof g_tables[0]; i++)
        if (!strcasecmp(g_tables[i].name, name)) {
            *schema = g_tables[i].schema;
            *is_stream = false;
            *handle = &g_tables[i];
            return true;
        }
    return false;
}

static sl_rdd *table_rdd(void *user, void *handle, sl_engine *eng)
{
    table *t = handle;
    (void)user;
    return sl_rdd_parallelize(eng, t->rows, t->n, g_parts);
}

static const sl__sql_catalog g_cat = {lookup, table_rdd, NULL, NULL};

/* Run text: the result as CSV (header when header), lines joined by ';',
 * or "error: <first line of the formatted error>". */
static const char *run(const char *text, bool header)
{
    sl__arena a;
    sl__sql_query *q;
    sl__sql_plan *p;
    sl__sql_error e;
    sl__sql_result r;
    sl__buf b = {0};
    char err[512];
    size_t i;
    sl__arena_init(&a, 4096);
    if (sl__sql_parse(text, &a, &q, &e) ||
        sl__sql_plan_build(text, q, &g_cat, 0, &a, &p, &e)) {
        sl__sql_error_format(text, &e, err, sizeof err);
        err[strcspn(err, "\n")] = '\0';
        snprintf(g_out, sizeof g_out, "error: %s", err);
    } else if (sl__sql_plan_run(p, &g_cat, g_eng, &r, err, sizeof err)) {
        snprintf(g_out, sizeof g_out, "run error: %s", err);
    } else {
        sl__rows_put_csv(&b, r.schema, r.rows, r.n, header);
        snprintf(g_out, sizeof g_out, "%.*s", (int)b.len, b.data);
        for (i = 0; g_out[i]; i++)
            if (g_out[i] == '\n')
                g_out[i] = ';';
        if (i && g_out[i - 1] == ';')
            g_out[i - 1] = '\0';
        sl__buf_free(&b);
        sl__sql_result_free(&r);
    }
    sl__arena_free(&a);
    sl_engine_clear(g_eng);
    return g_out;
}

#define Q(text, want) SL_CHECK_STR(run(text, false), want)
#define QH(text, want) SL_CHECK_STR(run(text, true), want)

static void add_table(size_t i, const char *name, const char *ddl,
                      sl_value *rows, size_t ncols, size_t n)
{
    size_t r;
    g_tables[i].name = name;
    SL_CHECK_OK(sl_schema_parse(ddl, &g_tables[i].schema, NULL, 0));
    g_tables[i].rows = sl_malloc(n * sizeof(sl_value));
    for (r = 0; r < n; r++)
        g_tables[i].rows[r] =
            sl_composite(SL_KIND_TUPLE, rows + r * ncols, ncols);
    g_tables[i].n = n;
}

static void test_setup(void)
{
    sl_value t[6][3] = {{S("a"), L(1), D(1.5)}, {S("b"), L(2), N},
                        {S("a"), L(3), D(2.5)}, {N, L(4), D(0.5)},
                        {S("c"), N, D(1.0)},    {S("b"), L(5), D(-1.0)}};
    sl_value u[5][2] = {{S("a"), L(10)},
                        {S("b"), L(20)},
                        {S("b"), L(21)},
                        {S("d"), L(40)},
                        {N, L(50)}};
    size_t i;
    sl_conf *conf = sl_conf_new();
    SL_CHECK_OK(sl_conf_set(conf, "workers", "2", NULL, 0));
    g_eng = sl_engine_new(conf, NULL, 0);
    SL_CHECK(g_eng != NULL);
    memcpy(t_rows, t, sizeof t);
    memcpy(u_rows, u, sizeof u);
    lines_rows[0][0] = S("the cat");
    lines_rows[1][0] = S("the dog sat");
    for (i = 0; i < 1000; i++) {
        big_rows[i][0] = i % 13 == 0 ? N : L((int64_t)(i % 7));
        big_rows[i][1] = L((int64_t)i);
        big_rows[i][2] = D((double)i / 8);
    }
    add_table(0, "t", "k string, v long, d double", &t_rows[0][0], 3, 6);
    add_table(1, "u", "k string, w long", &u_rows[0][0], 2, 5);
    add_table(2, "lines", "value string", &lines_rows[0][0], 1, 2);
    add_table(3, "big", "g long, v long, d double", &big_rows[0][0], 3, 1000);
    for (i = 0; i < MANY; i++)
        many_rows[i][0] = L((int64_t)(i % (MANY / 2)) * 7919);
    add_table(4, "many", "x long", &many_rows[0][0], 1, MANY);
}

/* Every query, run at the current g_parts. */
static void queries(void)
{
    Q("SELECT k, v FROM t WHERE v > 2 ORDER BY v", "a,3;,4;b,5");
    QH("SELECT * FROM t WHERE k = 'a' ORDER BY v", "k,v,d;a,1,1.5;a,3,2.5");
    QH("SELECT v + 1 AS x, upper(k) FROM t WHERE v < 3 ORDER BY x",
       "x,upper(k);2,A;3,B");
    QH("SELECT t.* FROM t WHERE v = 2", "k,v,d;b,2,");
    QH("SELECT 1 + 1", "1 + 1;2");
    Q("SELECT v FROM t ORDER BY v DESC LIMIT 2", "5;4");
    /* an alias inside a larger ORDER BY expression, and beside a column
     * of the input */
    Q("SELECT k, v * 10 AS x FROM t WHERE v < 4 ORDER BY -x", "a,30;b,20;a,10");
    Q("SELECT k, v % 2 AS odd FROM t WHERE v IS NOT NULL ORDER BY odd * 10 + v",
      "b,0;,0;a,1;a,1;b,1");
    Q("SELECT k FROM t ORDER BY v DESC NULLS FIRST LIMIT 2", "c;b");
    Q("SELECT k FROM t ORDER BY d", "b;b;;c;a;a");
    /* sub-query with an alias, its columns by qualifier */
    Q("SELECT s.x FROM (SELECT v * 2 AS x FROM t) s WHERE s.x > 6 ORDER BY 1",
      "8;10");
    /* explode, one generator per select list */
    QH("SELECT explode(split(value, ' ')) AS word FROM lines",
       "word;the;cat;the;dog;sat");
}

static void aggregates(void)
{
    QH("SELECT k, count(*), sum(v) FROM t GROUP BY k ORDER BY k",
       "k,count(*),sum(v);,1,4;a,2,4;b,2,7;c,1,");
    Q("SELECT k, max(d) AS m FROM t GROUP BY 1 HAVING count(*) > 1 "
      "ORDER BY m DESC",
      "a,2.5;b,-1.0");
    /* GROUP BY an alias; an aggregate only in ORDER BY (a hidden key) */
    Q("SELECT upper(k) AS K2 FROM t GROUP BY K2 ORDER BY sum(v) DESC, K2",
      "B;;A;C");
    /* no GROUP BY: one row, even over no rows */
    Q("SELECT count(*), sum(v), avg(d) FROM t WHERE v > 100", "0,,");
    Q("SELECT count(*), count(v), min(k), max(d) FROM t", "6,5,a,2.5");
    /* group key sub-expressions, count DISTINCT */
    Q("SELECT v % 2 AS odd, count(DISTINCT k), sum(v) * 10 FROM t "
      "WHERE v IS NOT NULL GROUP BY v % 2 ORDER BY odd",
      "0,1,60;1,2,90");
    QH("SELECT word, count(*) AS n FROM (SELECT explode(split(value, ' ')) "
       "AS word FROM lines) w GROUP BY word ORDER BY n DESC, word",
       "word,n;the,2;cat,1;dog,1;sat,1");
    Q("SELECT g, count(*), sum(v), min(d), max(v) FROM big GROUP BY g "
      "ORDER BY g",
      ",77,38038,0.0,988;0,132,66066,0.875,994;1,132,65351,0.125,995;"
      "2,132,65637,0.25,996;3,132,65923,0.375,997;4,132,66209,0.5,998;"
      "5,132,66495,0.625,999;6,131,65781,0.75,993");
}

/* The AGGREGATE node's calls' "same" marks of text (all arguments in
 * order, as digits), or "" when text does not plan. */
static const char *same_marks(const char *text)
{
    sl__arena a;
    sl__sql_query *q;
    sl__sql_plan *p = NULL;
    sl__sql_error e;
    size_t n = 0;
    g_out[0] = '\0';
    sl__arena_init(&a, 4096);
    if (!sl__sql_parse(text, &a, &q, &e) &&
        !sl__sql_plan_build(text, q, &g_cat, 0, &a, &p, &e)) {
        while (p && p->kind != SL__PLAN_AGGREGATE)
            p = p->input;
        for (size_t i = 0; p && i < p->naggs; i++)
            for (size_t j = 0; j < p->aggs[i].nargs; j++)
                n += (size_t)snprintf(g_out + n, sizeof g_out - n, "%u",
                                      p->aggs[i].same[j]);
    }
    sl__arena_free(&a);
    return g_out;
}

/* An argument equal to an earlier one is evaluated once per row (its
 * value taken from the first), except calls of functions (which may be random);
 * the results stay those of separate evaluation. */
static void shared_arguments(void)
{
    SL_CHECK_STR(same_marks("SELECT k, sum(v + 1), max(v + 1), max_by(v + 1, "
                            "d), avg(v+1), min(v - 1) FROM t GROUP BY k"),
                 "011010");
    SL_CHECK_STR(same_marks("SELECT sum(abs(v)), max(abs(v)) FROM t"), "00");
    Q("SELECT k, sum(v + 1), max(v + 1), max_by(v + 1, d), avg(v+1), "
      "min(v - 1) FROM t GROUP BY k ORDER BY k",
      ",5,5,5,5.0,3;a,6,4,4,3.0,0;b,9,6,6,4.5,1;c,,,,,");
}

static void set_ops(void)
{
    Q("SELECT DISTINCT k FROM t ORDER BY k DESC NULLS LAST", "c;b;a;");
    Q("SELECT k FROM t UNION ALL SELECT k FROM u ORDER BY 1 LIMIT 3", ";;a");
    QH("SELECT v FROM t WHERE v = 1 UNION ALL SELECT 2.5", "v;1.0;2.5");
    Q("SELECT count(*) FROM (SELECT k FROM t UNION ALL SELECT k FROM u) x",
      "11");
}

static void joins(void)
{
    Q("SELECT t.k, v, w FROM t JOIN u ON t.k = u.k ORDER BY v, w",
      "a,1,10;b,2,20;b,2,21;a,3,10;b,5,20;b,5,21");
    Q("SELECT t.k, v, w FROM t LEFT JOIN u ON t.k = u.k AND w > 20 "
      "ORDER BY v",
      "c,,;a,1,;b,2,21;a,3,;,4,;b,5,21");
    /* no equality: every pair is tested (a nested-loop join) */
    Q("SELECT v, w FROM t INNER JOIN u ON v * 10 = w ORDER BY v",
      "1,10;2,20;4,40;5,50");
    Q("SELECT x.k, count(*) FROM t x JOIN u y ON x.k = y.k GROUP BY x.k "
      "ORDER BY 1",
      "a,2;b,4");
}

static void errors(void)
{
    Q("SELECT k, v FROM t GROUP BY k",
      "error: line 1, column 11: expression 'v' is neither present in the "
      "group by, nor is it an aggregate function");
    Q("SELECT x FROM nope", "error: line 1, column 15: table or view not "
                            "found: nope");
    Q("SELECT k FROM t UNION ALL SELECT k, w FROM u",
      "error: line 1, column 27: Union can only be performed on tables with "
      "the same number of columns, but the first table has 1 columns and "
      "the second table has 2 columns");
    Q("SELECT k FROM t ORDER BY 3",
      "error: line 1, column 26: ORDER BY position 3 is not in select list "
      "(valid range is [1, 1])");
    Q("SELECT k FROM t GROUP BY 0",
      "error: line 1, column 26: GROUP BY position 0 is not in select list "
      "(valid range is [1, 1])");
    Q("SELECT k FROM t WHERE v",
      "error: line 1, column 23: WHERE expression 'v' of type long is not a "
      "boolean");
    Q("SELECT k FROM t WHERE count(*) > 1",
      "error: line 1, column 23: aggregate functions are not allowed in "
      "WHERE");
    Q("SELECT sum(v > 1) FROM t",
      "error: line 1, column 8: cannot resolve 'sum(v > 1)' due to data type "
      "mismatch: argument 1 requires numeric type");
    Q("SELECT k FROM t JOIN u ON t.k = u.k",
      "error: line 1, column 8: reference 'k' is ambiguous, could be: t.k, "
      "u.k");
    /* a result may name a column twice, as Spark's (not a sub-query) */
    QH("SELECT * FROM t JOIN u ON t.k = u.k AND w = 21",
       "k,v,d,k,w;b,2,,b,21;b,5,-1.0,b,21");
    Q("SELECT k FROM (SELECT t.k, u.k FROM t JOIN u ON t.k = u.k) x",
      "error: line 1, column 15: the sub-query has two columns called 'k': "
      "give them distinct aliases");
}

static void all_partitions(void)
{
    static const size_t parts[] = {1, 2, 8};
    size_t i;
    for (i = 0; i < 3; i++) {
        g_parts = parts[i];
        queries();
        aggregates();
        shared_arguments();
        set_ops();
        joins();
    }
    g_parts = 1;
    errors();
}

/*
 * count(DISTINCT) over 20,000 values: the set grows in place per
 * partition. It used to be copied at every row (each copy kept until the
 * job ended: gigabytes for this table), so the peak RSS may not grow by
 * more than 256 MiB.
 */
static void test_distinct_many(void)
{
    struct rusage ru;
    long before;
    getrusage(RUSAGE_SELF, &ru);
    before = ru.ru_maxrss;
    for (g_parts = 1; g_parts <= 8; g_parts *= 2)
        Q("SELECT count(DISTINCT x), count(*) FROM many", "20000,40000");
    g_parts = 1;
    getrusage(RUSAGE_SELF, &ru);
    SL_CHECK(ru.ru_maxrss - before < 256 * 1024);
}

static void test_cleanup(void)
{
    size_t i;
    for (i = 0; i < 5; i++) {
        sl_schema_release(g_tables[i].schema);
        sl_free(g_tables[i].rows);
    }
    sl_engine_free(g_eng);
}

const char *SL_SUITE = "sql_plan";
const sl_test_case SL_TESTS[] = {{"setup", test_setup},
                                 {"queries", all_partitions},
                                 {"distinct_many", test_distinct_many},
                                 {"cleanup", test_cleanup},
                                 {NULL, NULL}};
