/*
 * Unit tests for the built-in per-record functions (src/rdd/builtins.c):
 * every sl_fn_* run through a real engine on good and bad values, table
 * driven; a bad value must fail the job with the function's message.
 */
#include <sluice/sluice.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "sl_test.h"
#include "sl_test_util.h"

static sl_engine *g_eng;

/* The outputs as one JSON array, or "error: " and the engine's message. */
static void result_text(sl_status st, const sl_value *items, size_t n,
                        char *buf, size_t cap)
{
    size_t i, len = 0;
    if (st != SL_OK) {
        snprintf(buf, cap, "error: %s", sl_engine_errmsg(g_eng));
        return;
    }
    buf[len++] = '[';
    for (i = 0; i < n && len < cap; i++) {
        if (i)
            buf[len++] = ',';
        len += sl_value_format_json(&items[i], buf + len, cap - len);
    }
    snprintf(buf + len, cap - len, "]");
}

/* One case: a function (one of the four kinds), its user pointer, its
 * input (two values for reduce) and the output or error wanted. */
typedef struct row {
    const char *name;
    sl_map_fn map;
    sl_flat_map_fn flat;
    sl_filter_fn filter;
    sl_reduce_fn reduce;
    const void *arg;
    sl_value in[2];
    const char *want;
} row;

#define MAP(f) f, NULL, NULL, NULL
#define FLAT(f) NULL, f, NULL, NULL
#define FILTER(f) NULL, NULL, f, NULL
#define REDUCE(f) NULL, NULL, NULL, f

static void run_row(const row *r)
{
    char got[512];
    const sl_value *out = NULL;
    size_t n = 0;
    sl_value red;
    sl_status st;
    void *user = (void *)r->arg;
    sl_rdd *in = sl_rdd_parallelize(g_eng, r->in, r->reduce ? 2 : 1, 1);
    if (r->map)
        st = sl_rdd_collect(sl_rdd_map(in, r->map, user), &out, &n);
    else if (r->flat)
        st = sl_rdd_collect(sl_rdd_flat_map(in, r->flat, user), &out, &n);
    else if (r->filter)
        st = sl_rdd_collect(sl_rdd_filter(in, r->filter, user), &out, &n);
    else {
        st = sl_rdd_reduce(in, r->reduce, user, &red);
        out = &red;
        n = 1;
    }
    result_text(st, out, n, got, sizeof got);
    if (strcmp(got, r->want) != 0)
        sl_test_fail(__FILE__, __LINE__, "%s: got %s, want %s", r->name, got,
                     r->want);
    else
        CU_PASS(r->name);
    sl_engine_clear(g_eng);
}

#define I(x) sl_int(x)
#define D(x) sl_double(x)
#define S(x) sl_str(x, sizeof(x) - 1)
#define BAD "error: partition 0: "

static const sl_value ARG_2 = {SL_KIND_INT, 0, {.i = 2}};
static const sl_value ARG_HALF = {SL_KIND_DOUBLE, 0, {.d = 0.5}};
static const sl_value ARG_NEG = {SL_KIND_INT, 0, {.i = -1}};
static const sl_value ARG_B = {SL_KIND_STR, 1, {.s = "b"}};
static const sl_value PAIR_ITEMS[2] = {{SL_KIND_STR, 1, {.s = "k"}},
                                       {SL_KIND_INT, 0, {.i = 7}}};
static const sl_value PAIR = {SL_KIND_PAIR, 2, {.items = PAIR_ITEMS}};
static const sl_value LIST = {SL_KIND_LIST, 2, {.items = PAIR_ITEMS}};

static void test_map_functions(void)
{
    const row rows[] = {
        {"identity", MAP(sl_fn_identity), NULL, {I(3)}, "[3]"},
        {"pair_one", MAP(sl_fn_pair_one), NULL, {S("a")}, "[[\"a\",1]]"},
        {"pair_with", MAP(sl_fn_pair_with), &ARG_B, {I(1)}, "[[1,\"b\"]]"},
        {"pair_with no arg",
         MAP(sl_fn_pair_with),
         NULL,
         {I(1)},
         BAD "sl_fn_pair_with: needs its argument (user = a const "
             "sl_value *)"},
        {"swap", MAP(sl_fn_swap), NULL, {PAIR}, "[[7,\"k\"]]"},
        {"swap bad",
         MAP(sl_fn_swap),
         NULL,
         {I(1)},
         BAD "sl_fn_swap: needs a pair, got 1"},
        {"key", MAP(sl_fn_key), NULL, {PAIR}, "[\"k\"]"},
        {"key bad",
         MAP(sl_fn_key),
         NULL,
         {S("x")},
         BAD "sl_fn_key: needs a pair, got \"x\""},
        {"value", MAP(sl_fn_value), NULL, {PAIR}, "[7]"},
        {"value bad",
         MAP(sl_fn_value),
         NULL,
         {LIST},
         BAD "sl_fn_value: needs a pair, got [\"k\",7]"},
        {"lower",
         MAP(sl_fn_lower),
         NULL,
         {S("AbC-\xc3\x89")},
         "[\"abc-\xc3\x89\"]"},
        {"lower empty", MAP(sl_fn_lower), NULL, {S("")}, "[\"\"]"},
        {"lower bad",
         MAP(sl_fn_lower),
         NULL,
         {I(5)},
         BAD "sl_fn_lower: needs a string, got 5"},
        {"upper", MAP(sl_fn_upper), NULL, {S("aBc1")}, "[\"ABC1\"]"},
        {"upper bad",
         MAP(sl_fn_upper),
         NULL,
         {D(1.5)},
         BAD "sl_fn_upper: needs a string, got 1.5"},
        {"to_number int", MAP(sl_fn_to_number), NULL, {S("-12")}, "[-12]"},
        {"to_number double",
         MAP(sl_fn_to_number),
         NULL,
         {S("1e3")},
         "[1000.0]"},
        {"to_number number", MAP(sl_fn_to_number), NULL, {D(2.5)}, "[2.5]"},
        {"to_number bad text",
         MAP(sl_fn_to_number),
         NULL,
         {S("abc")},
         BAD "sl_fn_to_number: needs a number or a string holding one, got "
             "\"abc\""},
        {"to_number bad kind",
         MAP(sl_fn_to_number),
         NULL,
         {PAIR},
         BAD "sl_fn_to_number: needs a number or a string holding one, got "
             "[\"k\",7]"},
        {"to_string", MAP(sl_fn_to_string), NULL, {PAIR}, "[\"(k,7)\"]"},
        {"to_string str", MAP(sl_fn_to_string), NULL, {S("s")}, "[\"s\"]"},
        {"add",
         MAP(sl_fn_add),
         &ARG_2,
         {I(INT64_MAX)},
         "[-9223372036854775807]"},
        {"add double", MAP(sl_fn_add), &ARG_HALF, {I(1)}, "[1.5]"},
        {"add bad",
         MAP(sl_fn_add),
         &ARG_2,
         {S("1")},
         BAD "sl_fn_add: needs a number, got \"1\""},
        {"add bad arg",
         MAP(sl_fn_add),
         &ARG_B,
         {I(1)},
         BAD "sl_fn_add: needs a number, got \"b\""},
        {"add no arg",
         MAP(sl_fn_add),
         NULL,
         {I(1)},
         BAD "sl_fn_add: needs its argument (user = a const sl_value *)"},
        {"multiply", MAP(sl_fn_multiply), &ARG_2, {I(-4)}, "[-8]"},
        {"multiply bad",
         MAP(sl_fn_multiply),
         &ARG_HALF,
         {S("x")},
         BAD "sl_fn_multiply: needs a number, got \"x\""},
        {"repeat", MAP(sl_fn_repeat), &ARG_2, {S("ab")}, "[\"abab\"]"},
        {"repeat bad",
         MAP(sl_fn_repeat),
         &ARG_2,
         {I(1)},
         BAD "sl_fn_repeat: needs a string, got 1"},
        {"repeat bad arg",
         MAP(sl_fn_repeat),
         &ARG_NEG,
         {S("a")},
         BAD "sl_fn_repeat: needs an integer of 0 or more as its argument, "
             "got -1"},
    };
    size_t i;
    for (i = 0; i < sizeof rows / sizeof rows[0]; i++)
        run_row(&rows[i]);
}

/* "ab" repeated 2^31 times is 4 GiB: refused before anything is built. */
static void test_repeat_too_long(void)
{
    sl_value big = sl_int((int64_t)1 << 31);
    row r = {"repeat 4 GiB",
             MAP(sl_fn_repeat),
             &big,
             {S("ab")},
             BAD "sl_fn_repeat: result of 4 GiB or more, got \"ab\""};
    row e = {"repeat empty", MAP(sl_fn_repeat), &big, {S("")}, "[\"\"]"};
    run_row(&r);
    run_row(&e);
}

static sl_status fail_map(sl_task *t, const sl_value *in, sl_value *out,
                          void *user)
{
    (void)in;
    (void)out;
    (void)user;
    return sl_task_fail(t, "no");
}

static void test_flat_map_functions(void)
{
    static const sl_value three = {SL_KIND_INT, 0, {.i = 3}};
    const sl_fn_call calls[] = {{sl_fn_identity, NULL},
                                {sl_fn_multiply, (void *)&three},
                                {sl_fn_pair_one, NULL}};
    const sl_fn_call failing[] = {{sl_fn_identity, NULL}, {fail_map, NULL}};
    const sl_fanout fan = {calls, 3}, bad = {failing, 2};
    const row rows[] = {
        {"split_words",
         FLAT(sl_fn_split_words),
         NULL,
         {S(" a  b\tc ")},
         "[\"a\",\"b\",\"c\"]"},
        {"split_words bad",
         FLAT(sl_fn_split_words),
         NULL,
         {I(3)},
         BAD "sl_fn_split_words: needs a string, got 3"},
        {"flatten list", FLAT(sl_fn_flatten), NULL, {LIST}, "[\"k\",7]"},
        {"flatten pair", FLAT(sl_fn_flatten), NULL, {PAIR}, "[\"k\",7]"},
        {"flatten bad",
         FLAT(sl_fn_flatten),
         NULL,
         {S("ab")},
         BAD "sl_fn_flatten: needs a list, tuple or pair, got \"ab\""},
        {"fanout", FLAT(sl_fn_fanout), &fan, {I(2)}, "[2,6,[2,1]]"},
        {"fanout failing call", FLAT(sl_fn_fanout), &bad, {I(2)}, BAD "no"},
        {"fanout no arg",
         FLAT(sl_fn_fanout),
         NULL,
         {I(2)},
         BAD "sl_fn_fanout: needs its argument (user = a const sl_fanout *)"},
    };
    size_t i;
    for (i = 0; i < sizeof rows / sizeof rows[0]; i++)
        run_row(&rows[i]);
}

static void test_reduce_functions(void)
{
    const row rows[] = {
        {"sum", REDUCE(sl_fn_sum), NULL, {I(2), I(3)}, "[5]"},
        {"sum mixed", REDUCE(sl_fn_sum), NULL, {I(2), D(0.5)}, "[2.5]"},
        {"sum bad",
         REDUCE(sl_fn_sum),
         NULL,
         {S("a"), I(1)},
         BAD "sl_fn_sum: needs a number, got \"a\""},
        {"subtract", REDUCE(sl_fn_subtract), NULL, {I(2), I(3)}, "[-1]"},
        {"subtract bad",
         REDUCE(sl_fn_subtract),
         NULL,
         {I(2), S("b")},
         BAD "sl_fn_subtract: needs a number, got \"b\""},
        {"min", REDUCE(sl_fn_min), NULL, {I(2), D(1.5)}, "[1.5]"},
        {"min strings", REDUCE(sl_fn_min), NULL, {S("b"), S("ab")}, "[\"ab\"]"},
        {"min bad",
         REDUCE(sl_fn_min),
         NULL,
         {PAIR, I(1)},
         BAD "sl_fn_min: needs numbers or strings, got [\"k\",7]"},
        {"max", REDUCE(sl_fn_max), NULL, {I(2), D(1.5)}, "[2]"},
        {"max mixed",
         REDUCE(sl_fn_max),
         NULL,
         {I(2), S("a")},
         BAD "sl_fn_max: needs numbers or strings alike, got \"a\""},
        {"first", REDUCE(sl_fn_first), NULL, {I(1), S("b")}, "[1]"},
        {"last", REDUCE(sl_fn_last), NULL, {I(1), S("b")}, "[\"b\"]"},
    };
    size_t i;
    for (i = 0; i < sizeof rows / sizeof rows[0]; i++)
        run_row(&rows[i]);
}

/* Predicates run directly: they get no task. */
static void test_predicates(void)
{
    sl_value one = sl_int(1), onef = sl_double(1.0), big = sl_int(INT64_MAX);
    sl_value a = sl_cstr("a"), b = sl_cstr("b"), nan = sl_double(NAN);
    sl_value half = sl_double(0.5), three = sl_int(3);
    SL_CHECK(sl_fn_eq(&one, &onef));
    SL_CHECK(!sl_fn_eq(&one, &a));
    SL_CHECK(sl_fn_eq(&a, &a));
    SL_CHECK(sl_fn_eq(&PAIR, (void *)&PAIR)); /* not comparable: equal */
    SL_CHECK(!sl_fn_eq(&one, NULL));
    SL_CHECK(sl_fn_ne(&one, &a));
    SL_CHECK(!sl_fn_ne(&one, &onef));
    SL_CHECK(!sl_fn_ne(&one, NULL));
    SL_CHECK(sl_fn_lt(&a, &b));
    SL_CHECK(!sl_fn_lt(&b, &a));
    SL_CHECK(!sl_fn_lt(&one, &a)); /* not comparable: dropped */
    SL_CHECK(!sl_fn_lt(&nan, &one));
    SL_CHECK(!sl_fn_lt(&one, NULL));
    /* INT64_MAX vs 2^63 as a double: exact, not rounded to equal. */
    {
        sl_value two63 = sl_double(9223372036854775808.0);
        SL_CHECK(sl_fn_lt(&big, &two63));
    }
    SL_CHECK(sl_fn_le(&one, &onef));
    SL_CHECK(!sl_fn_le(&three, &one));
    SL_CHECK(sl_fn_gt(&one, &half));
    SL_CHECK(!sl_fn_gt(&half, &one));
    SL_CHECK(sl_fn_ge(&onef, &one));
    SL_CHECK(!sl_fn_ge(&a, &b));
    SL_CHECK(sl_fn_even(&(sl_value){SL_KIND_INT, 0, {.i = -4}}, NULL));
    SL_CHECK(!sl_fn_even(&three, NULL));
    SL_CHECK(!sl_fn_even(&onef, NULL));
    SL_CHECK(sl_fn_odd(&three, NULL));
    SL_CHECK(sl_fn_odd(&(sl_value){SL_KIND_INT, 0, {.i = -3}}, NULL));
    SL_CHECK(!sl_fn_odd(&a, NULL));
}

static void test_value_order(void)
{
    sl_value a = sl_int(2), b = sl_double(2.5), s = sl_cstr("x");
    int c = 99;
    SL_CHECK(sl_value_order(&a, &b, &c));
    SL_CHECK_INT(c, -1);
    SL_CHECK(sl_value_order(&b, &a, &c));
    SL_CHECK_INT(c, 1);
    SL_CHECK(!sl_value_order(&a, &s, &c));
    SL_CHECK(!sl_value_order(NULL, &s, &c));
}

/* Filters over a real RDD: the argument is the user pointer. */
static void test_filter_in_engine(void)
{
    const row r = {"ge", FILTER(sl_fn_ge), &ARG_2, {I(3)}, "[3]"};
    const row s = {"lt", FILTER(sl_fn_lt), &ARG_2, {I(3)}, "[]"};
    run_row(&r);
    run_row(&s);
}

static void test_called_without_task(void)
{
    sl_value s = sl_cstr("x"), one = sl_int(1), out;
    SL_CHECK_INT(sl_fn_sum(NULL, &s, &one, &out, NULL), SL_ETYPE);
    SL_CHECK_INT(sl_fn_min(NULL, &s, &one, &out, NULL), SL_ETYPE);
    SL_CHECK_OK(sl_fn_first(NULL, &s, &one, &out, NULL));
    SL_CHECK_INT(out.kind, SL_KIND_STR);
}

static void setup(void)
{
    g_eng = sl_engine_new(sl_conf_new(), NULL, 0);
    SL_CHECK(g_eng != NULL);
    if (g_eng)
        sl_engine_set_logger(g_eng, sl_test_quiet_log, NULL);
}

static void test_all(void)
{
    setup();
    if (!g_eng)
        return;
    test_map_functions();
    test_repeat_too_long();
    test_flat_map_functions();
    test_reduce_functions();
    test_filter_in_engine();
    sl_engine_free(g_eng);
    g_eng = NULL;
}

const char *SL_SUITE = "rdd/builtins";
const sl_test_case SL_TESTS[] = {
    {"in_engine", test_all},
    {"predicates", test_predicates},
    {"value_order", test_value_order},
    {"called_without_task", test_called_without_task},
    {NULL, NULL},
};
