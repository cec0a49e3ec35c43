/*
 * Unit tests of job files (src/job, include/sluice/job.h): every built-in
 * function and the operators, run through small jobs on the manual clock
 * with 2 workers and 2-partition queues; parsing and its problems through
 * the C API; the registries against docs/job-file.md.
 *
 * Job texts are written with ' for " (dq() swaps them) so that they read
 * as JSON inside C strings; so are the expected outputs. A run's output is
 * the watched stream's batches, "[rec,rec] [rec]", records as JSON.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cJSON.h>
#include <sluice/sluice.h>

#include "sl_test.h"
#include "sl_test_util.h"

#ifndef SL_JOB_DOC
#error "SL_JOB_DOC, the path of docs/job-file.md, must be defined"
#endif

/* ---------------------------------------------------------- job texts */

/* printf, then every ' turned into " (the caller frees). */
static char *dq(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *dq(const char *fmt, ...)
{
    va_list ap;
    char *s, *p;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !(s = malloc((size_t)n + 1)))
        abort();
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    for (p = s; *p; p++)
        if (*p == '\'')
            *p = '"';
    return s;
}

/* A job of `batches` (a 2-partition queue "in", run for n batches) and
 * the stream "out" of `ops` read from it. */
static char *ops_job(int n, const char *batches, const char *ops)
{
    return dq("{'name': 'unit', 'batch_interval': '1s', 'clock': 'manual', "
              "'max_batches': %d, 'workers': 2, "
              "'sources': {'in': {'type': 'queue', 'partitions': 2, "
              "'batches': %s}}, "
              "'streams': {'out': {'from': 'in', 'ops': %s}}, "
              "'sinks': [{'from': 'out', 'type': 'console', "
              "'format': 'json'}]}",
              n, batches, ops);
}

/* The fields of a valid job before its streams, for parsing tests. */
#define HEAD                                                                   \
    "'name': 'unit', 'batch_interval': '1s', 'clock': 'manual', "              \
    "'max_batches': 1, 'workers': 2, "
#define SOURCES                                                                \
    "'sources': {'in': {'type': 'queue', 'partitions': 2, "                    \
    "'batches': [[1]]}}, "
#define SINKS "'sinks': [{'from': 'out', 'type': 'console'}]"
/* A sink of the source, for jobs without streams. */
#define SINKS_IN "'sinks': [{'from': 'in', 'type': 'console'}]"
/* A job whose stream "out" reads "in" through ops (a literal). */
#define OPS_JOB(ops)                                                           \
    "{" HEAD SOURCES "'streams': {'out': {'from': 'in', 'ops': " ops           \
    "}}, " SINKS "}"

/* ------------------------------------------------ function coverage */

#define MAX_FNS 128

/* Registry functions some job that ran named (by index). */
static bool g_fn_used[MAX_FNS];

/* Mark the functions text names in a function field ("fn": "sum",
 * "name": "add", ...). */
static void mark_functions(const char *text)
{
    static const char *const keys[] = {
        "fn",     "name",        "inverse",         "filter",
        "create", "merge_value", "merge_combiners", NULL};
    const sl_job_fn_info *f;
    char pat[128];
    size_t i, k;

    for (i = 0; i < MAX_FNS && (f = sl_job_function_at(i)); i++)
        for (k = 0; keys[k]; k++) {
            snprintf(pat, sizeof pat, "\"%s\": \"%s\"", keys[k], f->name);
            if (strstr(text, pat))
                g_fn_used[i] = true;
        }
}

/* ------------------------------------------------------------ runs */

typedef struct job_run {
    sl_status build, start, await;
    /* sl_job_errmsg after a failed build, else sl_context_errmsg after
     * the run */
    char errmsg[1024];
    sl_test_buf out; /* the watched stream's batches */
    bool sorted;     /* sort each batch's records */
    bool parts;      /* prefix each batch with its partition count, "3:" */
} job_run;

static sl_status collect(sl_rdd *rdd, int64_t time_ms, void *user)
{
    job_run *r = user;
    const sl_value *v;
    size_t n;
    char *s;
    sl_status st = sl_rdd_collect(rdd, &v, &n);

    (void)time_ms;
    if (st != SL_OK)
        return st;
    s = sl_test_json_join(v, n, ",", r->sorted);
    if (r->out.n)
        sl_test_buf_puts(&r->out, " ");
    if (r->parts)
        sl_test_buf_printf(&r->out, "%zu:", sl_rdd_num_partitions(rdd));
    sl_test_buf_printf(&r->out, "[%s]", s);
    free(s);
    return SL_OK;
}

/* Send stdout (the jobs' console sinks) to /dev/null; returns the old
 * descriptor for quiet_end. */
static int quiet_begin(void)
{
    int saved, null;

    fflush(stdout);
    saved = dup(STDOUT_FILENO);
    null = open("/dev/null", O_WRONLY);
    if (saved < 0 || null < 0)
        abort();
    dup2(null, STDOUT_FILENO);
    close(null);
    return saved;
}

static void quiet_end(int saved)
{
    fflush(stdout);
    dup2(saved, STDOUT_FILENO);
    close(saved);
}

/* Parse (expecting no problem), build, watch `stream` and run text to its
 * end; r says how it went. */
static void run_job(job_run *r, const char *text, const char *stream)
{
    sl_job *job = sl_job_parse(text, strlen(text), "test");
    sl_context *ctx = NULL;
    int saved;

    r->build = r->start = r->await = SL_EINVAL;
    r->errmsg[0] = '\0';
    SL_CHECK(job != NULL);
    if (!job)
        return;
    SL_CHECK_INT(sl_job_problem_count(job), 0);
    if (sl_job_problem_count(job))
        printf("\n  first problem: %s\n", sl_job_problem(job, 0));
    r->build = sl_job_build(job, &ctx);
    if (r->build != SL_OK) {
        snprintf(r->errmsg, sizeof r->errmsg, "%s", sl_job_errmsg(job));
        sl_job_free(job);
        return;
    }
    mark_functions(text);
    sl_context_set_logger(ctx, sl_test_quiet_log, NULL);
    SL_CHECK_OK(sl_dstream_foreach_rdd(sl_job_stream(job, stream), collect, r));
    saved = quiet_begin();
    r->start = sl_context_start(ctx);
    if (r->start == SL_OK)
        r->await = sl_context_await_termination(ctx);
    quiet_end(saved);
    snprintf(r->errmsg, sizeof r->errmsg, "%s", sl_context_errmsg(ctx));
    sl_job_free(job);
}

/* Run text, expecting success; the output of `stream` (the caller frees). */
static char *run_ok(const char *text, const char *stream, bool sorted,
                    bool parts)
{
    job_run r = {0};

    r.sorted = sorted;
    r.parts = parts;
    run_job(&r, text, stream);
    SL_CHECK_OK(r.build);
    SL_CHECK_OK(r.start);
    SL_CHECK_OK(r.await);
    if (r.build || r.start || r.await)
        printf("\n  error: %s\n", r.errmsg);
    return sl_test_buf_take(&r.out);
}

/* Run a job that must fail at run time; every one of the NULL-ended
 * strings after text must be in the context's error message. */
static void run_fails(int line, const char *text, ...)
{
    job_run r = {0};
    const char *want;
    va_list ap;

    run_job(&r, text, "out");
    SL_CHECK_OK(r.build);
    SL_CHECK_OK(r.start);
    if (r.await == SL_OK)
        sl_test_fail(__FILE__, line, "the job did not fail");
    else
        CU_PASS("the job failed");
    va_start(ap, text);
    while ((want = va_arg(ap, const char *)))
        if (!strstr(r.errmsg, want))
            sl_test_fail(__FILE__, line, "\"%s\" not in \"%s\"", want,
                         r.errmsg);
        else
            CU_PASS(want);
    va_end(ap);
    sl_test_buf_free(&r.out);
}

static void check_out(int line, char *got, const char *want_sq)
{
    char *want = dq("%s", want_sq);

    if (strcmp(got, want) != 0)
        sl_test_fail(__FILE__, line, "got %s, want %s", got, want);
    else
        CU_PASS(want);
    free(want);
    free(got);
}

/* The output of ops over batches (n of them) is want (' for "). */
#define CHECK_OPS(n, batches, ops, sorted, want)                               \
    do {                                                                       \
        char *job_ = ops_job(n, batches, ops);                                 \
        check_out(__LINE__, run_ok(job_, "out", sorted, false), want);         \
        free(job_);                                                            \
    } while (0)

/* One batch through one operator with one function. */
#define CHECK_FN(op, fn, batch, want)                                          \
    CHECK_OPS(1, "[" batch "]", "[{'op': '" op "', 'fn': " fn "}]", false, want)

/* As CHECK_FN, the run failing with a message naming fn and the value. */
#define CHECK_FN_FAILS(op, fn, batch, name, value)                             \
    do {                                                                       \
        char *job_ =                                                           \
            ops_job(1, "[" batch "]", "[{'op': '" op "', 'fn': " fn "}]");     \
        run_fails(__LINE__, job_, name, value, NULL);                          \
        free(job_);                                                            \
    } while (0)

/* ----------------------------------------------------- map functions */

static void test_fn_identity(void)
{
    CHECK_FN("map", "'identity'", "[1, 'a', ['k', 2], [1, 2, 3], null, true]",
             "[1,'a',['k',2],[1,2,3],null,true]");
}

static void test_fn_pair_one_pair_with(void)
{
    CHECK_FN("map", "'pair_one'", "['a', 2]", "[['a',1],[2,1]]");
    CHECK_FN("map", "{'name': 'pair_with', 'arg': [1, 2, 3]}", "['a', 2]",
             "[['a',[1,2,3]],[2,[1,2,3]]]");
    CHECK_FN("map", "{'name': 'pair_with', 'arg': null}", "['a']",
             "[['a',null]]");
}

static void test_fn_swap_key_value(void)
{
    CHECK_FN("map", "'swap'", "[['a', 1], ['b', [2, 3]]]",
             "[[1,'a'],[[2,3],'b']]");
    CHECK_FN("map", "'key'", "[['a', 1], ['b', 2]]", "['a','b']");
    CHECK_FN("map", "'value'", "[['a', 1], ['b', 2]]", "[1,2]");
    CHECK_FN_FAILS("map", "'swap'", "[['a', 1], 77]", "swap", "77");
    CHECK_FN_FAILS("map", "'value'", "['abc']", "value", "\"abc\"");
}

static void test_fn_lower_upper(void)
{
    /* ASCII only: the UTF-8 bytes of "É" stay as they are. */
    CHECK_FN("map", "'lower'", "['AbC-9 xY \xc3\x89', '']",
             "['abc-9 xy \xc3\x89','']");
    CHECK_FN("map", "'upper'", "['AbC-9 xY \xc3\xa9', '']",
             "['ABC-9 XY \xc3\xa9','']");
    CHECK_FN_FAILS("map", "'lower'", "['a', 42]", "lower", "42");
}

static void test_fn_to_number(void)
{
    CHECK_FN("map", "'to_number'", "['12', '1.5', 7, 2.5, '-3']",
             "[12,1.5,7,2.5,-3]");
    CHECK_FN_FAILS("map", "'to_number'", "['12', 'abc']", "to_number",
                   "\"abc\"");
}

static void test_fn_to_string(void)
{
    CHECK_FN("map", "'to_string'",
             "[5, 2.5, 's', ['a', 1], [1, 2, 3], true, -7]",
             "['5','2.5','s','(a,1)','[1, 2, 3]','true','-7']");
}

static void test_fn_add(void)
{
    CHECK_FN("map", "{'name': 'add', 'arg': 1}", "[1, 2.5, -1]", "[2,3.5,0]");
    /* int + double is a double, even with no fraction part */
    CHECK_FN("map", "{'name': 'add', 'arg': 0.5}", "[1, 1.5]", "[1.5,2.0]");
    /* Java long wrap-around */
    CHECK_OPS(1, "[['9223372036854775807', '-9223372036854775808']]",
              "[{'op': 'map', 'fn': 'to_number'}, "
              "{'op': 'map', 'fn': {'name': 'add', 'arg': 1}}]",
              false, "[-9223372036854775808,-9223372036854775807]");
    CHECK_FN_FAILS("map", "{'name': 'add', 'arg': 1}", "[1, 'x']", "add",
                   "\"x\"");
}

static void test_fn_multiply(void)
{
    CHECK_FN("map", "{'name': 'multiply', 'arg': 3}", "[2, 1.5, -4]",
             "[6,4.5,-12]");
    CHECK_FN("map", "{'name': 'multiply', 'arg': 2}", "[1.5]", "[3.0]");
    CHECK_FN("map", "{'name': 'multiply', 'arg': 0.5}", "[3]", "[1.5]");
    CHECK_OPS(1, "[['9223372036854775807', '4611686018427387904']]",
              "[{'op': 'map', 'fn': 'to_number'}, "
              "{'op': 'map', 'fn': {'name': 'multiply', 'arg': 2}}]",
              false, "[-2,-9223372036854775808]");
    CHECK_FN_FAILS("map", "{'name': 'multiply', 'arg': 2}", "[null]",
                   "multiply", "null");
}

static void test_fn_repeat(void)
{
    CHECK_FN("map", "{'name': 'repeat', 'arg': 3}", "['ab', '']",
             "['ababab','']");
    CHECK_FN("map", "{'name': 'repeat', 'arg': 0}", "['ab']", "['']");
    CHECK_FN_FAILS("map", "{'name': 'repeat', 'arg': 2}", "[12]", "repeat",
                   "12");
}

static void test_fn_on_key_value(void)
{
    CHECK_FN("map", "{'name': 'upper', 'on': 'key'}", "[['a', 'b']]",
             "[['A','b']]");
    CHECK_FN("map", "{'name': 'upper', 'on': 'value'}", "[['a', 'b']]",
             "[['a','B']]");
    CHECK_FN("map", "{'name': 'add', 'arg': 10, 'on': 'value'}",
             "[['a', 1], ['b', 2]]", "[['a',11],['b',12]]");
    CHECK_FN("map", "{'name': 'add', 'arg': 10, 'on': 'element'}", "[1]",
             "[11]");
    CHECK_FN("map_values", "{'name': 'multiply', 'arg': 2}", "[['a', 4]]",
             "[['a',8]]");
    CHECK_FN_FAILS("map", "{'name': 'upper', 'on': 'key'}", "['ab']", "upper",
                   "\"ab\"");
}

/* ------------------------------------------------ flat_map functions */

static void test_fn_split_words(void)
{
    CHECK_FN("flat_map", "'split_words'", "['a b  c', ' d\\te ', '']",
             "['a','b','c','d','e']");
    CHECK_FN("flat_map_values", "'split_words'", "[['k', 'x y']]",
             "[['k','x'],['k','y']]");
    CHECK_FN_FAILS("flat_map", "'split_words'", "[55]", "split_words", "55");
}

static void test_fn_flatten(void)
{
    /* a list, a pair, an empty list, a pair of a pair and a list */
    CHECK_FN("flat_map", "'flatten'",
             "[[1, 2, 3], ['k', 'v'], [], [[1, 2], [3]]]",
             "[1,2,3,'k','v',[1,2],[3]]");
    CHECK_FN_FAILS("flat_map", "'flatten'", "['abc']", "flatten", "\"abc\"");
}

static void test_fn_fanout(void)
{
    CHECK_FN("flat_map",
             "{'name': 'fanout', 'arg': ['identity', "
             "{'name': 'multiply', 'arg': 2}, {'name': 'pair_one'}]}",
             "[1, 2]", "[1,2,[1,1],2,4,[2,1]]");
    CHECK_FN("flat_map",
             "{'name': 'fanout', 'arg': [{'name': 'key'}, "
             "{'name': 'add', 'arg': 1, 'on': 'value'}]}",
             "[['a', 1]]", "['a',['a',2]]");
}

/*
 * A job's built-ins run the public sl_fn_* code, but a value they cannot
 * handle is reported by the job layer ("function NAME: ..."), never by the
 * public function's own message ("sl_fn_NAME: ..."): the job's policy for
 * bad records applies to all of them.
 */
static void test_fn_failures_are_the_jobs(void)
{
    static const struct {
        const char *op, *fn, *batch, *want, *value;
    } rows[] = {
        {"map", "'swap'", "[7]", "function swap: needs a pair", "7"},
        {"map", "'key'", "[7]", "function key: needs a pair", "7"},
        {"map", "'value'", "[7]", "function value: needs a pair", "7"},
        {"map", "'lower'", "[42]", "function lower: needs a string", "42"},
        {"map", "'upper'", "[4.5]", "function upper: needs a string", "4.5"},
        {"map", "'to_number'", "['1x']",
         "function to_number: needs a number or a string holding one",
         "\"1x\""},
        {"map", "{'name': 'add', 'arg': 1}", "['x']",
         "function add: needs a number", "\"x\""},
        {"map", "{'name': 'multiply', 'arg': 1}", "[null]",
         "function multiply: needs a number", "null"},
        {"map", "{'name': 'repeat', 'arg': 2}", "[3]",
         "function repeat: needs a string", "3"},
        {"flat_map", "'split_words'", "[3]",
         "function split_words: needs a string", "3"},
        {"flat_map", "'flatten'", "[3]",
         "function flatten: needs a list or a pair", "3"},
        {"flat_map", "{'name': 'fanout', 'arg': [{'name': 'add', 'arg': 1}]}",
         "['y']", "function add: needs a number", "\"y\""},
        {"reduce", "'sum'", "[1, 'x']", "function sum: needs a number",
         "\"x\""},
        {"reduce", "'subtract'", "[1, 'x']",
         "function subtract: needs a number", "\"x\""},
        {"reduce", "'min'", "[[1, 2], 3]",
         "function min: needs numbers or strings", "[1,2]"},
        {"reduce", "'max'", "[[1, 2], 3]",
         "function max: needs numbers or strings", "[1,2]"},
    };
    size_t i;
    for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char ops[256], batch[64], *job;
        job_run r = {0};
        snprintf(ops, sizeof ops, "[{'op': '%s', 'fn': %s}]", rows[i].op,
                 rows[i].fn);
        snprintf(batch, sizeof batch, "[%s]", rows[i].batch);
        job = ops_job(1, batch, ops);
        run_job(&r, job, "out");
        SL_CHECK_INT(r.await, SL_EUSER);
        if (!strstr(r.errmsg, rows[i].want) ||
            !strstr(r.errmsg, rows[i].value) || strstr(r.errmsg, "sl_fn_"))
            sl_test_fail(__FILE__, __LINE__, "%s: \"%s\"", rows[i].want,
                         r.errmsg);
        else
            CU_PASS(rows[i].want);
        sl_test_buf_free(&r.out);
        free(job);
    }
}

/* ------------------------------------------------------- predicates */

#define PRED(name, arg) "{'name': '" name "', 'arg': " arg "}"

static void test_fn_compare_numbers(void)
{
#define NUMS "[1, 2, 3, 2.5, 'x', null]"
    CHECK_FN("filter", PRED("eq", "2"), NUMS, "[2]");
    CHECK_FN("filter", PRED("ne", "2"), NUMS, "[1,3,2.5,'x',null]");
    CHECK_FN("filter", PRED("lt", "2.5"), NUMS, "[1,2]");
    CHECK_FN("filter", PRED("le", "2.5"), NUMS, "[1,2,2.5]");
    CHECK_FN("filter", PRED("gt", "2"), NUMS, "[3,2.5]");
    CHECK_FN("filter", PRED("ge", "2"), NUMS, "[2,3,2.5]");
#undef NUMS
}

/* Integers and doubles compare by value: 1.5 + 0.5 is the double 2.0. */
static void test_fn_compare_int_double(void)
{
    const char *add = "{'op': 'map', 'fn': {'name': 'add', 'arg': 0.5}}";
    char ops[256];

    snprintf(ops, sizeof ops, "[%s, {'op': 'filter', 'fn': %s}]", add,
             PRED("eq", "2"));
    CHECK_OPS(1, "[[1.5, 2.5]]", ops, false, "[2.0]");
    snprintf(ops, sizeof ops, "[%s, {'op': 'filter', 'fn': %s}]", add,
             PRED("ne", "2"));
    CHECK_OPS(1, "[[1.5, 2.5]]", ops, false, "[3.0]");
    snprintf(ops, sizeof ops, "[%s, {'op': 'filter', 'fn': %s}]", add,
             PRED("ge", "3"));
    CHECK_OPS(1, "[[1.5, 2.5, 0.5]]", ops, false, "[3.0]");
    snprintf(ops, sizeof ops, "[%s, {'op': 'filter', 'fn': %s}]", add,
             PRED("le", "2"));
    CHECK_OPS(1, "[[1.5, 2.5, 0.5]]", ops, false, "[2.0,1.0]");
    /* exactly: 10^17 + 1 as a double would be 10^17 */
    CHECK_OPS(1, "[['100000000000000001', '100000000000000000']]",
              "[{'op': 'map', 'fn': 'to_number'}, {'op': 'filter', 'fn': "
              "{'name': 'gt', 'arg': 1e17}}]",
              false, "[100000000000000001]");
    CHECK_OPS(1, "[[-3, -2, 2]]",
              "[{'op': 'filter', 'fn': {'name': 'lt', 'arg': -2.5}}]", false,
              "[-3]");
}

static void test_fn_compare_strings(void)
{
    /* byte-wise: "B" < "a" < "b" < "bb" < "\xc3\x89" (a byte above 127) */
#define STRS "['a', 'B', 'bb', 'b', '', '\xc3\x89']"
    CHECK_FN("filter", PRED("eq", "'b'"), STRS, "['b']");
    CHECK_FN("filter", PRED("ne", "'b'"), STRS, "['a','B','bb','','\xc3\x89']");
    CHECK_FN("filter", PRED("lt", "'b'"), STRS, "['a','B','']");
    CHECK_FN("filter", PRED("le", "'b'"), STRS, "['a','B','b','']");
    CHECK_FN("filter", PRED("gt", "'b'"), STRS, "['bb','\xc3\x89']");
    CHECK_FN("filter", PRED("ge", "'b'"), STRS, "['bb','b','\xc3\x89']");
#undef STRS
}

/* Values of other or different kinds: neither less nor greater, equal
 * only when identical. */
static void test_fn_compare_mixed_kinds(void)
{
#define MIXED "[1, '1', true, null, ['a', 1]]"
    CHECK_FN("filter", PRED("eq", "1"), MIXED, "[1]");
    CHECK_FN("filter", PRED("ne", "1"), MIXED, "['1',true,null,['a',1]]");
    CHECK_FN("filter", PRED("lt", "5"), MIXED, "[1]");
    CHECK_FN("filter", PRED("le", "'1'"), MIXED, "['1']");
    CHECK_FN("filter", PRED("gt", "0"), MIXED, "[1]");
    CHECK_FN("filter", PRED("ge", "'0'"), MIXED, "['1']");
    CHECK_FN("filter", PRED("eq", "['a', 1]"), MIXED, "[['a',1]]");
    CHECK_FN("filter", PRED("eq", "null"), MIXED, "[null]");
    CHECK_FN("filter", PRED("ne", "['a', 1]"), MIXED, "[1,'1',true,null]");
#undef MIXED
}

static void test_fn_predicates_on(void)
{
#define PAIRS "[['a', 1], ['b', 2], ['c', 3]]"
    CHECK_FN("filter", "{'name': 'gt', 'arg': 1, 'on': 'value'}", PAIRS,
             "[['b',2],['c',3]]");
    CHECK_FN("filter", "{'name': 'eq', 'arg': 'a', 'on': 'key'}", PAIRS,
             "[['a',1]]");
    CHECK_FN("filter", "{'name': 'ne', 'arg': 'a', 'on': 'key'}", PAIRS,
             "[['b',2],['c',3]]");
    CHECK_FN("filter", "{'name': 'odd', 'on': 'value'}", PAIRS,
             "[['a',1],['c',3]]");
    /* on the element, a pair is not a number */
    CHECK_FN("filter", "{'name': 'gt', 'arg': 0, 'on': 'element'}", PAIRS,
             "[]");
#undef PAIRS
}

static void test_fn_even_odd(void)
{
#define INTS "[1, 2, 3, 4, -3, -4, 0, '2', 2.5, null]"
    CHECK_FN("filter", "'even'", INTS, "[2,4,-4,0]");
    CHECK_FN("filter", "'odd'", INTS, "[1,3,-3]");
#undef INTS
}

/* --------------------------------------------------- reduce functions */

static void test_fn_sum(void)
{
    CHECK_OPS(2, "[[1, 2, 3, 4], []]", "[{'op': 'reduce', 'fn': 'sum'}]", false,
              "[10] []");
    CHECK_FN("reduce", "'sum'", "[1, 2.5]", "[3.5]");
    CHECK_OPS(1, "[[['a', 1], ['b', 2], ['a', 3], ['b', 4], ['c', 5]]]",
              "[{'op': 'reduce_by_key', 'fn': 'sum'}]", true,
              "[['a',4],['b',6],['c',5]]");
    CHECK_OPS(1, "[['9223372036854775807', 1]]",
              "[{'op': 'map', 'fn': 'to_number'}, "
              "{'op': 'reduce', 'fn': 'sum'}]",
              false, "[-9223372036854775808]");
    /* partitions [1] ['a', 'b']: fails inside the second */
    CHECK_FN_FAILS("reduce", "'sum'", "[1, 'a', 'b']", "sum", "\"a\"");
    /* partitions [1] ['a']: fails merging the partitions' results */
    CHECK_FN_FAILS("reduce", "'sum'", "[1, 'a']", "sum", "\"a\"");
    /* partitions [(k, a)] [(k, b)]: fails on the reduce side */
    CHECK_FN_FAILS("reduce_by_key", "'sum'", "[['k', 'a'], ['k', 'b']]", "sum",
                   "\"a\"");
}

/* map_with_state folds state = fn(old, new) in batch order, so
 * order-sensitive functions give one answer. */
static void test_fn_subtract_first_last(void)
{
#define B3 "[[['a', 10]], [['a', 3]], [['a', 2]]]"
    CHECK_OPS(3, B3, "[{'op': 'map_with_state', 'fn': 'subtract'}]", false,
              "[10] [7] [5]");
    CHECK_OPS(3, B3, "[{'op': 'map_with_state', 'fn': 'first'}]", false,
              "[10] [10] [10]");
    CHECK_OPS(3, B3, "[{'op': 'map_with_state', 'fn': 'last'}]", false,
              "[10] [3] [2]");
    CHECK_OPS(3, B3, "[{'op': 'update_state_by_key', 'fn': 'subtract'}]", false,
              "[['a',10]] [['a',7]] [['a',5]]");
#undef B3
    CHECK_FN("reduce", "'subtract'", "[1.5]", "[1.5]");
    CHECK_OPS(2, "[[['a', 2.5]], [['a', 1]]]",
              "[{'op': 'map_with_state', 'fn': 'subtract'}]", false,
              "[2.5] [1.5]");
}

static void test_fn_min_max(void)
{
    CHECK_FN("reduce", "'min'", "[3, 1, 4, 1, 5]", "[1]");
    CHECK_FN("reduce", "'max'", "[3, 1, 4, 1, 5]", "[5]");
    CHECK_FN("reduce", "'min'", "[2, 1.5, 3]", "[1.5]");
    CHECK_FN("reduce", "'max'", "[2, 3.5, 3]", "[3.5]");
    CHECK_FN("reduce", "'min'", "['pear', 'apple', 'fig', 'Zoo']", "['Zoo']");
    CHECK_FN("reduce", "'max'", "['pear', 'apple', 'fig', 'Zoo']", "['pear']");
    CHECK_OPS(1, "[[['a', 3], ['b', 1], ['a', 1], ['b', 7]]]",
              "[{'op': 'reduce_by_key', 'fn': 'max'}]", true,
              "[['a',3],['b',7]]");
    /* partitions ['x'] ['a', 42] */
    CHECK_FN_FAILS("reduce", "'min'", "['x', 'a', 42]", "min", "42");
}

/* ----------------------------------------------------------- operators */

static void test_op_map_partitions(void)
{
    /* [1, 2, 3, 4] splits [1, 2] [3, 4]; [5] splits [] [5] */
    CHECK_OPS(3, "[[1, 2, 3, 4], [5], []]",
              "[{'op': 'map_partitions', 'fn': 'sum'}]", false, "[3,7] [5] []");
    CHECK_OPS(3, "[[1, 2, 3, 4], [5], []]",
              "[{'op': 'map_partitions', 'fn': 'sum', 'zero': 100}]", false,
              "[103,107] [100,105] [100,100]");
    CHECK_OPS(1, "[[1, 2, 3, 4]]",
              "[{'op': 'map_partitions', 'fn': 'subtract', 'zero': 0}]", false,
              "[-3,-7]");
    CHECK_OPS(1, "[['a', 'b']]",
              "[{'op': 'map_partitions', 'fn': 'last', 'zero': ['z', 0]}]",
              false, "['a','b']");
}

static void test_op_glom(void)
{
    CHECK_OPS(2, "[[1, 2, 3], []]", "[{'op': 'glom'}]", false,
              "[[1],[2,3]] [[],[]]");
}

static void test_op_combine_by_key(void)
{
    /* partitions [a1 a2] [b3 a4]: a = (10 + 2) + 40, b = 30; a combine
     * with no map side would give a = 10 + 2 + 4 */
    CHECK_OPS(1, "[[['a', 1], ['a', 2], ['b', 3], ['a', 4]]]",
              "[{'op': 'combine_by_key', "
              "'create': {'name': 'multiply', 'arg': 10}, "
              "'merge_value': 'sum', 'merge_combiners': 'sum'}]",
              true, "[['a',52],['b',30]]");
    CHECK_OPS(1, "[[['a', 1], ['a', 2], ['b', 3], ['a', 4]]]",
              "[{'op': 'combine_by_key', 'create': 'identity', "
              "'merge_value': 'max', 'merge_combiners': 'min', "
              "'partitions': 3}]",
              true, "[['a',2],['b',3]]");
}

static void test_op_update_state_by_key(void)
{
    CHECK_OPS(3, "[[['a', 1], ['b', 2]], [['b', 3], ['a', 1]], []]",
              "[{'op': 'update_state_by_key', 'fn': 'sum', "
              "'initial': [['a', 100], ['c', 7]]}]",
              true,
              "[['a',101],['b',2],['c',7]] [['a',102],['b',5],['c',7]] "
              "[['a',102],['b',5],['c',7]]");
}

static void test_op_map_with_state_emit(void)
{
#define B2 "[[['a', 1], ['b', 5]], [['a', 2]]]"
#define MWS(emit) "[{'op': 'map_with_state', 'fn': 'sum'" emit "}]"
    CHECK_OPS(2, B2, MWS(""), true, "[1,5] [3]");
    CHECK_OPS(2, B2, MWS(", 'emit': 'state'"), true, "[1,5] [3]");
    CHECK_OPS(2, B2, MWS(", 'emit': 'key'"), true, "['a','b'] ['a']");
    CHECK_OPS(2, B2, MWS(", 'emit': 'value'"), true, "[1,5] [2]");
    CHECK_OPS(2, B2, MWS(", 'emit': 'pair'"), true,
              "[['a',1],['b',5]] [['a',3]]");
    CHECK_OPS(2, B2, MWS(", 'emit': 'none'"), true, "[] []");
    CHECK_OPS(2, B2, MWS(", 'emit': 'pair', 'initial': [['a', 100]]"), true,
              "[['a',101],['b',5]] [['a',103]]");
#undef MWS
#undef B2
}

/* A key idle for longer than the timeout (last update < time - timeout)
 * is called once more: a (updated at 1s) at 4s, b (2s) at 5s. */
static void test_op_map_with_state_timeout(void)
{
#define B6 "[[['a', 1]], [['b', 2]], [], [], [], []]"
#define MWS(emit)                                                              \
    "[{'op': 'map_with_state', 'fn': 'sum', 'emit': 'none', "                  \
    "'timeout': '2s'" emit "}]"
    CHECK_OPS(6, B6, MWS(", 'timeout_emit': 'pair'"), false,
              "[] [] [] [['a',1]] [['b',2]] []");
    CHECK_OPS(6, B6, MWS(", 'timeout_emit': 'key'"), false,
              "[] [] [] ['a'] ['b'] []");
    CHECK_OPS(6, B6, MWS(", 'timeout_emit': 'state'"), false,
              "[] [] [] [1] [2] []");
    CHECK_OPS(6, B6, MWS(", 'timeout_emit': 'none'"), false,
              "[] [] [] [] [] []");
    CHECK_OPS(6, B6, MWS(""), false, "[] [] [] [] [] []");
#undef MWS
#undef B6
    /* an update in time keeps the key: a at 1s and 3s times out at 6s */
    CHECK_OPS(6, "[[['a', 1]], [], [['a', 2]], [], [], []]",
              "[{'op': 'map_with_state', 'fn': 'sum', 'emit': 'state', "
              "'timeout': '2s', 'timeout_emit': 'pair'}]",
              false, "[1] [] [3] [] [] [['a',3]]");
}

/* State after a window: the stateful stream runs every 2nd batch only
 * (its slide), and the batches between commit nothing. */
static void test_op_state_after_window(void)
{
#define B4 "[[['a', 1]], [['a', 2]], [['b', 1]], []]"
    CHECK_OPS(4, B4,
              "[{'op': 'window', 'window': '2s', 'slide': '2s'}, "
              "{'op': 'update_state_by_key', 'fn': 'sum'}]",
              true, "[['a',3]] [['a',3],['b',1]]");
    CHECK_OPS(4, B4,
              "[{'op': 'window', 'window': '2s', 'slide': '2s'}, "
              "{'op': 'map_with_state', 'fn': 'sum', 'emit': 'pair', "
              "'timeout': '10s'}]",
              true, "[['a',1],['a',3]] [['b',1]]");
#undef B4
}

static void test_op_state_snapshots(void)
{
    CHECK_OPS(6, "[[['a', 1], ['b', 5]], [['a', 2]], [], [], [], []]",
              "[{'op': 'map_with_state', 'fn': 'sum', 'emit': 'none', "
              "'timeout': '2s'}, {'op': 'state_snapshots'}]",
              true,
              "[['a',1],['b',5]] [['a',3],['b',5]] [['a',3],['b',5]] "
              "[['a',3]] [] []");
}

/* state_snapshots as the first op of a stream reading a map_with_state. */
static void test_op_state_snapshots_next_stream(void)
{
    char *job = dq(
        "{'name': 'snap', 'batch_interval': '1s', 'clock': 'manual', "
        "'max_batches': 2, 'workers': 2, "
        "'sources': {'in': {'type': 'queue', 'partitions': 2, "
        "'batches': [[['a', 1], ['b', 2]], [['a', 3]]]}}, "
        "'streams': {'out': {'from': 'm', 'ops': [{'op': 'state_snapshots'}]}, "
        "'m': {'from': 'in', 'ops': [{'op': 'map_with_state', 'fn': 'sum', "
        "'emit': 'key'}]}}, "
        "'sinks': [{'from': 'out', 'type': 'console'}]}");

    check_out(__LINE__, run_ok(job, "out", true, false),
              "[['a',1],['b',2]] [['a',4],['b',2]]");
    check_out(__LINE__, run_ok(job, "m", true, false), "['a','b'] ['a']");
    free(job);
}

/* Streams "x10" and "x100" of in × 10 and × 100, and "out" of ops. */
static char *union_job(const char *ops)
{
    return dq("{'name': 'u', 'batch_interval': '1s', 'clock': 'manual', "
              "'max_batches': 2, 'workers': 2, "
              "'sources': {'in': {'type': 'queue', 'partitions': 2, "
              "'batches': [[1, 2], [3]]}}, "
              "'streams': {"
              "'out': {'from': 'in', 'ops': %s}, "
              "'x10': {'from': 'in', 'ops': [{'op': 'map', "
              "'fn': {'name': 'multiply', 'arg': 10}}]}, "
              "'x100': {'from': 'in', 'ops': [{'op': 'map', "
              "'fn': {'name': 'multiply', 'arg': 100}}]}}, "
              "'sinks': [{'from': 'out', 'type': 'console'}]}",
              ops);
}

static void test_op_union(void)
{
    char *job = union_job("[{'op': 'union', 'with': ['x10', 'x100']}]");

    /* this stream's records, then each other's, in order */
    check_out(__LINE__, run_ok(job, "out", false, false),
              "[1,2,10,20,100,200] [3,30,300]");
    free(job);
    job = union_job("[{'op': 'union', 'with': 'x100'}]");
    check_out(__LINE__, run_ok(job, "out", false, false),
              "[1,2,100,200] [3,300]");
    free(job);
    job = union_job("[{'op': 'union', 'with': ['x100', 'x10']}, "
                    "{'op': 'count'}]");
    check_out(__LINE__, run_ok(job, "out", false, false), "[6] [3]");
    free(job);
}

/* "out" = left `op` with right. */
static char *join_job(const char *op, const char *extra)
{
    return dq("{'name': 'j', 'batch_interval': '1s', 'clock': 'manual', "
              "'max_batches': 1, 'workers': 2, "
              "'sources': {'left': {'type': 'queue', 'partitions': 2, "
              "'batches': [[['a', 1], ['b', 2], ['a', 3]]]}, "
              "'right': {'type': 'queue', 'partitions': 2, "
              "'batches': [[['a', 'x'], ['c', 'y'], ['a', 'z']]]}}, "
              "'streams': {'out': {'from': 'left', "
              "'ops': [{'op': '%s', 'with': 'right'%s}]}}, "
              "'sinks': [{'from': 'out', 'type': 'console'}]}",
              op, extra);
}

static void check_join(int line, const char *op, const char *want)
{
    char *job = join_job(op, "");

    check_out(line, run_ok(job, "out", true, false), want);
    free(job);
}

static void test_op_joins(void)
{
    char *job;

#define A4 "['a',[1,'x']],['a',[1,'z']],['a',[3,'x']],['a',[3,'z']]"
    check_join(__LINE__, "join", "[" A4 "]");
    check_join(__LINE__, "left_outer_join", "[" A4 ",['b',[2,null]]]");
    check_join(__LINE__, "right_outer_join", "[" A4 ",['c',[null,'y']]]");
    check_join(__LINE__, "full_outer_join",
               "[" A4 ",['b',[2,null]],['c',[null,'y']]]");
#undef A4
    /* left [a1] [b2 a3], right [ax] [cy az]: values in partition order */
    check_join(__LINE__, "cogroup",
               "[['a',[[1,3],['x','z']]],['b',[[2],[]]],['c',[[],['y']]]]");
    job = join_job("join", ", 'partitions': 3");
    check_out(__LINE__, run_ok(job, "out", true, true),
              "3:[['a',[1,'x']],['a',[1,'z']],['a',[3,'x']],['a',[3,'z']]]");
    free(job);
}

static void test_op_count(void)
{
    CHECK_OPS(3, "[[1, 2, 3], [], ['a']]", "[{'op': 'count'}]", false,
              "[3] [0] [1]");
}

static void test_op_count_by_value(void)
{
    CHECK_OPS(2, "[['a', 'b', 'a', 1, 1, 'a'], []]",
              "[{'op': 'count_by_value'}]", true, "[['a',3],['b',1],[1,2]] []");
    {
        char *job = ops_job(1, "[['a', 'b', 'a']]",
                            "[{'op': 'count_by_value', 'partitions': 3}]");
        check_out(__LINE__, run_ok(job, "out", true, true),
                  "3:[['a',2],['b',1]]");
        free(job);
    }
}

static void test_op_repartition(void)
{
    char *job = ops_job(1, "[[1, 2, 3, 4, 5, 6, 7]]",
                        "[{'op': 'repartition', 'partitions': 3}]");

    check_out(__LINE__, run_ok(job, "out", true, true), "3:[1,2,3,4,5,6,7]");
    free(job);
    job = ops_job(1, "[[1, 2, 3, 4, 5, 6, 7]]",
                  "[{'op': 'repartition', 'partitions': 5}, {'op': 'glom'}, "
                  "{'op': 'count'}]");
    check_out(__LINE__, run_ok(job, "out", false, false), "[5]");
    free(job);
    job = ops_job(1, "[[1, 2]]", "[{'op': 'map', 'fn': 'identity'}]");
    check_out(__LINE__, run_ok(job, "out", false, true), "2:[1,2]");
    free(job);
}

/* A queue's null entry is no batch at all: foreach sees two batches. */
static void test_queue_none_batch(void)
{
    CHECK_OPS(3, "[[1], null, [2]]", "[{'op': 'map', 'fn': 'identity'}]", false,
              "[1] [2]");
}

/* ------------------------------------------------------------- parsing */

static void test_parse_valid(void)
{
    const char *text =
        "{\"name\": \"unit.job-1\", \"batch_interval\": \"500ms\", "
        "\"sources\": {\"in\": {\"type\": \"queue\", \"batches\": [[1]]}}, "
        "\"streams\": {\"out\": {\"from\": \"in\"}}, "
        "\"sinks\": [{\"from\": \"out\", \"type\": \"console\"}]}";
    sl_job *job = sl_job_parse(text, strlen(text), "valid.json");
    sl_context *ctx = NULL, *again = NULL;

    SL_CHECK(job != NULL);
    SL_CHECK_INT(sl_job_problem_count(job), 0);
    SL_CHECK(sl_job_problem(job, 0) == NULL);
    SL_CHECK_STR(sl_job_name(job), "unit.job-1");
    SL_CHECK_STR(sl_job_errmsg(job), "");
    SL_CHECK(sl_job_stream(job, "out") == NULL);
    SL_CHECK(sl_job_stream(job, "in") == NULL);
    SL_CHECK_OK(sl_job_build(job, &ctx));
    SL_CHECK(ctx != NULL);
    SL_CHECK_INT(sl_context_batch_interval(ctx), 500);
    SL_CHECK(sl_job_stream(job, "out") != NULL);
    SL_CHECK(sl_job_stream(job, "in") != NULL);
    SL_CHECK(sl_job_stream(job, "nope") == NULL);
    SL_CHECK(sl_job_stream(job, NULL) == NULL);
    SL_CHECK_INT(sl_job_build(job, &again), SL_ESTATE);
    SL_CHECK(again == NULL);
    SL_CHECK(strlen(sl_job_errmsg(job)) > 0);
    sl_job_free(job); /* frees the context, never started */
    sl_job_free(NULL);
}

/* Problems come in the order of the file, not of the checks. */
static void test_problems_in_file_order(void)
{
    char *text =
        dq("{'name': 'x y', 'batch_interval': '1x', "
           "'sources': {'in': {'type': 'queue', 'batches': []}}, "
           "'streams': {'s': {'from': 'in', 'ops': [{'op': 'map', 'fn': "
           "'sums'}]}, "
           "'t': {'from': 'gone'}}, "
           "'sinks': [{'from': 'nowhere', 'type': 'console'}], 'extra': true}");
    static const char *const want[] = {
        "$.name: invalid name \"x y\" (1-64 letters, digits, '.', '_', '-')",
        "$.batch_interval: invalid duration \"1x\" (an integer and a unit: "
        "ms, s, m, h)",
        "$.streams.s.ops[0].fn: unknown function \"sums\" (did you mean "
        "\"sum\"?)",
        "$.streams.t.from: unknown stream or source \"gone\"",
        "$.sinks[0].from: unknown stream or source \"nowhere\"",
        "$.extra: unknown field",
    };
    size_t n = sizeof want / sizeof want[0], i;
    sl_job *job = sl_job_parse(text, strlen(text), NULL);
    sl_context *ctx = (sl_context *)&ctx;

    SL_CHECK(job != NULL);
    SL_CHECK_INT(sl_job_problem_count(job), n);
    for (i = 0; i < n; i++)
        SL_CHECK_STR(sl_job_problem(job, i), want[i]);
    SL_CHECK(sl_job_problem(job, n) == NULL);
    SL_CHECK_INT(sl_job_build(job, &ctx), SL_EINVAL);
    SL_CHECK(ctx == NULL);
    SL_CHECK(strstr(sl_job_errmsg(job), want[0]) != NULL);
    SL_CHECK(sl_job_stream(job, "s") == NULL);
    sl_job_free(job);
    free(text);
}

/* One job text (' for ") and the exact problems it gives. */
typedef struct problem_case {
    const char *text;
    const char *want[3];
} problem_case;

static const problem_case problem_cases[] = {
    {"{\n  'name': 'x'\n  'batch_interval': '1s'\n}",
     {"$: invalid JSON near line 3, column 3"}},
    {"[1, 2]", {"$: expected an object, got array"}},
    {"{" HEAD "'name': 'again', " SOURCES SINKS_IN "}",
     {"$.name: duplicate field"}},
    {"{'name': 'unit', " SOURCES SINKS_IN "}",
     {"$.batch_interval: missing required field"}},
    {"{'name': 'unit', 'batch_interval': '1s', 'clock': 'sun', " SOURCES
         SINKS_IN "}",
     {"$.clock: expected one of \"system\", \"manual\"; got \"sun\""}},
    {"{'name': 'unit', 'batch_interval': '0s', " SOURCES SINKS_IN "}",
     {"$.batch_interval: must be positive"}},
    {"{'name': 'unit', 'batch_interval': 1, " SOURCES SINKS_IN "}",
     {"$.batch_interval: expected a duration string such as \"5s\", got "
      "number 1"}},
    {"{'name': 'unit', 'batchDuration': '1s', 'batch_interval': '1s', " SOURCES
         SINKS_IN "}",
     {"$.batchDuration: unknown field (did you mean \"batch_interval\"?)"}},
    {"{'name': '..', 'batch_interval': '1s', " SOURCES SINKS_IN "}",
     {"$.name: invalid job name \"..\": \".\" and \"..\" are not allowed "
      "(a job's name will name its run folder)"}},
    {"{'name': '-unit', 'batch_interval': '1s', " SOURCES SINKS_IN "}",
     {"$.name: invalid job name \"-unit\": it must not start with '-' (a "
      "job's name will be a command argument)"}},
    {"{'name': 'unit', 'batch_interval': '1s', 'workers': 2000, " SOURCES
         SINKS_IN "}",
     {"$.workers: 2000 is out of range (0..1024)"}},
    {"{" HEAD "'sources': {}, 'sinks': []}",
     {"$.sources: at least one source is required",
      "$.sinks: at least one sink is required"}},
    {"{" HEAD "'sources': {'in': {'type': 'pipe'}}, " SINKS_IN "}",
     {"$.sources.in.type: unknown source type \"pipe\" (known: socket, "
      "queue, rate, generator, directory, kafka)"}},
    {"{" HEAD "'sources': {'in': {'type': 'queue', 'batches': [], "
     "'bogus': 1}}, 'streams': {'out': {'from': 'in'}}, " SINKS "}",
     {"$.sources.in.bogus: unknown field"}},
    {"{" HEAD SOURCES "'streams': {'out': {'from': 'in'}, "
     "'in': {'from': 'out'}}, " SINKS "}",
     {"$.streams.in: \"in\" is already the name of a source"}},
    {"{" HEAD SOURCES "'streams': {'out': {'from': 'in'}, "
     "'my stream': {'from': 'in'}}, " SINKS "}",
     {"$.streams[\"my stream\"]: invalid name \"my stream\" (1-64 letters, "
      "digits, '.', '_', '-')"}},
    {"{" HEAD SOURCES "'streams': {'out': {'from': 'b'}, "
     "'b': {'from': 'out'}}, " SINKS "}",
     {"$.streams.b.from: cycle between streams: out -> b -> out"}},
    {OPS_JOB("[{'op': 'mapp', 'fn': 'identity'}]"),
     {"$.streams.out.ops[0].op: unknown operator \"mapp\" (did you mean "
      "\"map\"?); the operators are listed in docs/job-file.md, section "
      "\"Operators\""}},
    {OPS_JOB("[{'op': 'reduceByKey', 'fn': 'sum'}]"),
     {"$.streams.out.ops[0].op: unknown operator \"reduceByKey\" (did you "
      "mean \"reduce_by_key\"?); the operators are listed in "
      "docs/job-file.md, section \"Operators\""}},
    {OPS_JOB("[{'op': 'map', 'fn': 'toUpperCase'}]"),
     {"$.streams.out.ops[0].fn: unknown function \"toUpperCase\" (did you "
      "mean \"upper\"?)"}},
    {OPS_JOB("[{'op': 'map', 'fn': 'split_words'}]"),
     {"$.streams.out.ops[0].fn: \"split_words\" is a flat_map function; "
      "map needs a map function"}},
    {OPS_JOB("[{'op': 'map', 'fn': {'name': 'add'}}]"),
     {"$.streams.out.ops[0].fn: \"add\" needs arg: a number"}},
    {OPS_JOB("[{'op': 'map', 'fn': {'name': 'add', 'arg': 'x'}}]"),
     {"$.streams.out.ops[0].fn.arg: \"add\" needs arg: a number"}},
    {OPS_JOB("[{'op': 'reduce', 'fn': {'name': 'sum', 'arg': 1}}]"),
     {"$.streams.out.ops[0].fn.arg: \"sum\" takes no arg"}},
    {OPS_JOB("[{'op': 'reduce', 'fn': {'name': 'sum', 'on': 'key'}}]"),
     {"$.streams.out.ops[0].fn.on: \"on\" applies to map functions and "
      "predicates only"}},
    {OPS_JOB("[{'op': 'map', 'fn': 12}]"),
     {"$.streams.out.ops[0].fn: expected a function name or object, got "
      "number"}},
    {OPS_JOB("[{'op': 'window', 'window': '1500ms'}]"),
     {"$.streams.out.ops[0].window: 1500ms is not a multiple of the parent "
      "stream's slide (1s)"}},
    {"{" HEAD SOURCES "'streams': {'w': {'from': 'in', 'ops': [{'op': "
     "'window', 'window': '2s', 'slide': '2s'}]}, 'out': {'from': 'in', "
     "'ops': [{'op': 'join', 'with': 'w'}]}}, " SINKS "}",
     {"$.streams.out.ops[0].with: stream \"w\" has slide 2s, this stream "
      "has 1s; they must be equal"}},
    {OPS_JOB("[{'op': 'map', 'fn': 'identity'}, {'op': 'state_snapshots'}]"),
     {"$.streams.out.ops[1].op: state_snapshots must follow "
      "map_with_state"}},
    {OPS_JOB("[{'op': 'map_with_state', 'fn': 'sum', 'emit': 'all'}]"),
     {"$.streams.out.ops[0].emit: expected one of \"none\", \"state\", "
      "\"key\", \"value\", \"pair\"; got \"all\""}},
    {OPS_JOB("[{'op': 'count', 'fn': 'sum'}]"),
     {"$.streams.out.ops[0].fn: unknown field"}},
    {OPS_JOB("[{'op': 'repartition'}]"),
     {"$.streams.out.ops[0].partitions: missing required field"}},
};

static void test_problem_messages(void)
{
    size_t c, i, n;

    for (c = 0; c < sizeof problem_cases / sizeof problem_cases[0]; c++) {
        const problem_case *pc = &problem_cases[c];
        char *text = dq("%s", pc->text);
        sl_job *job = sl_job_parse(text, strlen(text), "case.json");

        for (n = 0; n < 3 && pc->want[n]; n++)
            ;
        SL_CHECK(job != NULL);
        if (sl_job_problem_count(job) != n)
            sl_test_fail(__FILE__, __LINE__,
                         "case %zu: %zu problems, want %zu; first: %s", c,
                         sl_job_problem_count(job), n,
                         sl_job_problem(job, 0) ? sl_job_problem(job, 0)
                                                : "(none)");
        for (i = 0; i < n; i++) {
            const char *got = sl_job_problem(job, i);
            if (!got || strcmp(got, pc->want[i]) != 0)
                sl_test_fail(__FILE__, __LINE__,
                             "case %zu problem %zu: \"%s\" != \"%s\"", c, i,
                             got ? got : "(null)", pc->want[i]);
            else
                CU_PASS(pc->want[i]);
        }
        sl_job_free(job);
        free(text);
    }
}

static void test_load(void)
{
    char path[] = "/tmp/sl_test_job_XXXXXX";
    char *text = ops_job(1, "[[1]]", "[]");
    sl_job *job;
    int fd;

    job = sl_job_load("/nonexistent-sluice-dir/job.json");
    SL_CHECK(job != NULL);
    SL_CHECK_INT(sl_job_problem_count(job), 1);
    SL_CHECK_STR(sl_job_problem(job, 0),
                 "$: cannot read \"/nonexistent-sluice-dir/job.json\": No "
                 "such file or directory");
    SL_CHECK(sl_job_name(job) == NULL);
    SL_CHECK_INT(sl_job_build(job, &(sl_context *){NULL}), SL_EINVAL);
    SL_CHECK(strstr(sl_job_errmsg(job), "cannot read") != NULL);
    sl_job_free(job);

    fd = mkstemp(path);
    SL_CHECK(fd >= 0);
    if (fd < 0) {
        free(text);
        return;
    }
    SL_CHECK_INT(write(fd, text, strlen(text)), strlen(text));
    close(fd);
    job = sl_job_load(path);
    SL_CHECK(job != NULL);
    SL_CHECK_INT(sl_job_problem_count(job), 0);
    SL_CHECK_STR(sl_job_name(job), "unit");
    sl_job_free(job);
    unlink(path);
    free(text);
}

/* ---------------------------------------------------------- registries */

/* The backquoted names of the first cell of each row of the table of
 * docs/job-file.md whose header line is `header`, with the second cell in
 * kinds when asked; the count. */
static size_t doc_table(const char *header, char **names, char **kinds,
                        size_t cap)
{
    size_t len, n = 0;
    char *doc = sl_test_read_file(SL_JOB_DOC, &len);
    char *line, *save = NULL, *p, *q, *cell2;
    bool in = false;

    if (!doc) {
        sl_test_fail(__FILE__, __LINE__, "cannot read %s", SL_JOB_DOC);
        return 0;
    }
    for (line = strtok_r(doc, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        if (!in) {
            in = strcmp(line, header) == 0;
            continue;
        }
        if (line[0] != '|')
            break;
        if (strncmp(line, "|---", 4) == 0)
            continue;
        cell2 = strchr(line + 1, '|');
        if (!cell2)
            continue;
        *cell2++ = '\0';
        for (p = line; (p = strchr(p, '`')) && n < cap; p = q + 1) {
            if (!(q = strchr(p + 1, '`')))
                break;
            names[n] = strndup(p + 1, (size_t)(q - p - 1));
            if (kinds) {
                char *e = strchr(cell2, '|');
                size_t k = e ? (size_t)(e - cell2) : strlen(cell2);
                while (k && cell2[k - 1] == ' ')
                    k--;
                while (k && *cell2 == ' ')
                    cell2++, k--;
                kinds[n] = strndup(cell2, k);
            }
            n++;
        }
    }
    free(doc);
    return n;
}

static void free_strs(char **s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        free(s[i]);
}

static void test_operator_registry(void)
{
    char *doc[128];
    size_t ndoc = doc_table("| op | parameters | result |", doc, NULL, 128);
    size_t n, i, k;
    const char *op;

    SL_CHECK(ndoc >= 29);
    for (n = 0; (op = sl_job_operator_at(n)); n++) {
        for (k = 0; k < ndoc && strcmp(doc[k], op) != 0; k++)
            ;
        if (k == ndoc)
            sl_test_fail(__FILE__, __LINE__, "operator %s not in the docs", op);
        for (i = 0; i < n; i++)
            if (strcmp(sl_job_operator_at(i), op) == 0)
                sl_test_fail(__FILE__, __LINE__, "operator %s twice", op);
    }
    SL_CHECK_INT(n, ndoc);
    for (k = 0; k < ndoc; k++) {
        for (i = 0; i < n && strcmp(sl_job_operator_at(i), doc[k]) != 0; i++)
            ;
        if (i == n)
            sl_test_fail(__FILE__, __LINE__,
                         "documented operator %s not in the registry", doc[k]);
    }
    SL_CHECK(sl_job_operator_at(n + 1) == NULL);
    free_strs(doc, ndoc);
}

static void test_function_registry(void)
{
    static const char *const kinds[] = {"map", "flat_map", "predicate",
                                        "reduce"};
    char *doc[128], *kind[128];
    size_t ndoc =
        doc_table("| name | kind | arg | what it does |", doc, kind, 128);
    const sl_job_fn_info *f;
    size_t n, k;

    SL_CHECK(ndoc >= 30);
    for (n = 0; (f = sl_job_function_at(n)); n++) {
        for (k = 0; k < ndoc && strcmp(doc[k], f->name) != 0; k++)
            ;
        if (k == ndoc) {
            sl_test_fail(__FILE__, __LINE__, "function %s not in the docs",
                         f->name);
            continue;
        }
        if ((unsigned)f->kind > 3 || strcmp(kind[k], kinds[f->kind]) != 0)
            sl_test_fail(__FILE__, __LINE__, "function %s: kind %s, docs %s",
                         f->name, (unsigned)f->kind > 3 ? "?" : kinds[f->kind],
                         kind[k]);
        SL_CHECK(f->summary != NULL && f->summary[0] != '\0');
    }
    SL_CHECK_INT(n, ndoc);
    free_strs(doc, ndoc);
    free_strs(kind, ndoc);
}

static void test_source_type_registry(void)
{
    SL_CHECK_STR(sl_job_source_type_at(0), "socket");
    SL_CHECK_STR(sl_job_source_type_at(1), "queue");
    SL_CHECK_STR(sl_job_source_type_at(2), "rate");
    SL_CHECK_STR(sl_job_source_type_at(3), "generator");
    SL_CHECK_STR(sl_job_source_type_at(4), "directory");
    SL_CHECK_STR(sl_job_source_type_at(5), "kafka");
    SL_CHECK(sl_job_source_type_at(6) == NULL);
}

/* Runs last: every registry function was named by a job that ran, so a
 * new function without a test fails here. */
static void test_every_function_tested(void)
{
    const sl_job_fn_info *f;
    size_t i;

    for (i = 0; (f = sl_job_function_at(i)); i++) {
        SL_CHECK(i < MAX_FNS);
        if (i >= MAX_FNS)
            break;
        if (!g_fn_used[i])
            sl_test_fail(__FILE__, __LINE__, "function %s has no test",
                         f->name);
        else
            CU_PASS(f->name);
    }
    SL_CHECK(i >= 30);
}

const char *SL_SUITE = "job";
/* ------------------------------------------------------------ limits */

static void *cjson_malloc(size_t n)
{
    return sl_malloc(n);
}

static void cjson_free(void *p)
{
    sl_free(p);
}

/*
 * Every allocation of parsing fails in turn, cJSON's included (routed
 * through the sluice hook for the test): each run gives no job (out of
 * memory) or the valid job, never a job whose problem blames the file
 * ("invalid JSON" was what cJSON's failure turned into).
 */
static void test_parse_out_of_memory(void)
{
    char *text = dq("{'name': 'oom', 'batch_interval': '1s', 'sources': "
                    "{'q': {'type': 'queue', 'batches': [[1, [2, 'x']]]}}, "
                    "'streams': {'s': {'from': 'q', 'ops': [{'op': 'map', "
                    "'fn': 'pair_one'}]}}, "
                    "'sinks': [{'type': 'console', 'from': 's'}]}");
    const sl_allocator *hook = sl_test_failing_allocator();
    cJSON_Hooks through_sluice = {cjson_malloc, cjson_free};
    bool done = false;
    long k;

    cJSON_InitHooks(&through_sluice);
    SL_CHECK_OK(sl_set_allocator(hook));
    for (k = 0; k < 5000 && !done; k++) {
        sl_job *job;
        sl_test_fail_after(k);
        job = sl_job_parse(text, strlen(text), "oom.json");
        if (job) {
            SL_CHECK_INT(sl_job_problem_count(job), 0);
            if (sl_job_problem_count(job))
                fprintf(stderr, "  after %ld allocations: %s\n", k,
                        sl_job_problem(job, 0));
            done = true;
            sl_job_free(job);
        }
        SL_CHECK_OK(sl_set_allocator(hook)); /* all freed again */
    }
    sl_test_fail_after(-1);
    SL_CHECK_OK(sl_set_allocator(NULL));
    cJSON_InitHooks(NULL);
    SL_CHECK(done);
    SL_CHECK(k > 10); /* cJSON's allocations were among those failed */
    free(text);
}

/* The C API refuses a stream past SL_MAX_STREAM_DEPTH (the source
 * counts one), with the reason on the context. */
static void test_stream_depth_limit(void)
{
    static const char *const settings[] = {"clock", "manual", NULL};
    sl_context *ctx = NULL;
    char err[256];
    sl_dstream *s;
    int depth = 1;

    SL_CHECK_OK(sl_test_context_open(settings, &ctx, err, sizeof err));
    if (!ctx)
        return;
    s = sl_queue_stream(ctx, 1);
    for (; s && depth < SL_MAX_STREAM_DEPTH; depth++)
        s = sl_dstream_map(s, sl_test_fn_identity, NULL);
    SL_CHECK(s != NULL);
    SL_CHECK_INT(depth, SL_MAX_STREAM_DEPTH);
    SL_CHECK(sl_dstream_map(s, sl_test_fn_identity, NULL) == NULL);
    SL_CHECK(strstr(sl_context_errmsg(ctx), "SL_MAX_STREAM_DEPTH") != NULL);
    /* A union over it is as deep. */
    SL_CHECK(sl_dstream_union(s, sl_queue_stream(ctx, 1)) == NULL);
    sl_context_free(ctx);
}

const sl_test_case SL_TESTS[] = {
    {"parse_out_of_memory", test_parse_out_of_memory},
    {"stream_depth_limit", test_stream_depth_limit},
    {"fn_identity", test_fn_identity},
    {"fn_pair_one_pair_with", test_fn_pair_one_pair_with},
    {"fn_swap_key_value", test_fn_swap_key_value},
    {"fn_lower_upper", test_fn_lower_upper},
    {"fn_to_number", test_fn_to_number},
    {"fn_to_string", test_fn_to_string},
    {"fn_add", test_fn_add},
    {"fn_multiply", test_fn_multiply},
    {"fn_repeat", test_fn_repeat},
    {"fn_on_key_value", test_fn_on_key_value},
    {"fn_split_words", test_fn_split_words},
    {"fn_flatten", test_fn_flatten},
    {"fn_fanout", test_fn_fanout},
    {"fn_failures_are_the_jobs", test_fn_failures_are_the_jobs},
    {"fn_compare_numbers", test_fn_compare_numbers},
    {"fn_compare_int_double", test_fn_compare_int_double},
    {"fn_compare_strings", test_fn_compare_strings},
    {"fn_compare_mixed_kinds", test_fn_compare_mixed_kinds},
    {"fn_predicates_on", test_fn_predicates_on},
    {"fn_even_odd", test_fn_even_odd},
    {"fn_sum", test_fn_sum},
    {"fn_subtract_first_last", test_fn_subtract_first_last},
    {"fn_min_max", test_fn_min_max},
    {"op_map_partitions", test_op_map_partitions},
    {"op_glom", test_op_glom},
    {"op_combine_by_key", test_op_combine_by_key},
    {"op_update_state_by_key", test_op_update_state_by_key},
    {"op_map_with_state_emit", test_op_map_with_state_emit},
    {"op_map_with_state_timeout", test_op_map_with_state_timeout},
    {"op_state_after_window", test_op_state_after_window},
    {"op_state_snapshots", test_op_state_snapshots},
    {"op_state_snapshots_next_stream", test_op_state_snapshots_next_stream},
    {"op_union", test_op_union},
    {"op_joins", test_op_joins},
    {"op_count", test_op_count},
    {"op_count_by_value", test_op_count_by_value},
    {"op_repartition", test_op_repartition},
    {"queue_none_batch", test_queue_none_batch},
    {"parse_valid", test_parse_valid},
    {"problems_in_file_order", test_problems_in_file_order},
    {"problem_messages", test_problem_messages},
    {"load", test_load},
    {"operator_registry", test_operator_registry},
    {"function_registry", test_function_registry},
    {"source_type_registry", test_source_type_registry},
    {"every_function_tested", test_every_function_tested},
    {NULL, NULL},
};
