/*
 * SQL scalar functions (src/sql/functions*.c): strings, regular
 * expressions and null/conditional functions, each called as the
 * compiler calls it (bind, implicit casts, prepare, eval) with normal,
 * NULL and edge cases (empty text, multibyte UTF-8, negative positions,
 * limits), and one prepared regex evaluated from two threads (TSan).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fn_call.h"
#include "sl_test.h"

#define CALL(...) sqlfn_call(__VA_ARGS__, NULL)

static void test_lookup(void)
{
    SL_CHECK(sl__sql_func_find("upper") != NULL);
    SL_CHECK(sl__sql_func_find("substr") != NULL);
    SL_CHECK(sl__sql_func_find("UPPER") == NULL); /* the caller lowers */
    SL_CHECK(sl__sql_func_find("nosuch") == NULL);
    SL_CHECK(sl__sql_func_find(NULL) == NULL);
}

static void test_case(void)
{
    SL_CHECK_STR(CALL("upper", "s:abc"), "ABC");
    SL_CHECK_STR(sqlfn_type(), "string");
    SL_CHECK_STR(CALL("lower", "s:AbC"), "abc");
    SL_CHECK_STR(CALL("upper", "s:éa"), "ÉA");
    SL_CHECK_STR(CALL("lower", "s:ÀΣЖЁ"), "àσжё");
    SL_CHECK_STR(CALL("upper", "s:привет日本"), "ПРИВЕТ日本");
    SL_CHECK_STR(CALL("upper", "s:"), "");
    SL_CHECK_STR(CALL("upper", "ns"), "NULL");
    SL_CHECK_STR(CALL("upper", "l:123"), "123"); /* implicit cast */
    SL_CHECK_STR(CALL("upper", "as:a"),
                 "bind error: argument 1 requires string type, however, it "
                 "is of array<string> type");
    SL_CHECK_STR(CALL("initcap", "s:hello wORLD  x"), "Hello World  X");
    SL_CHECK_STR(CALL("ucase", "s:x"), "X");
}

static void test_length_substr(void)
{
    SL_CHECK_STR(CALL("length", "s:héllo"), "5");
    SL_CHECK_STR(sqlfn_type(), "long");
    SL_CHECK_STR(CALL("char_length", "s:日本語"), "3");
    SL_CHECK_STR(CALL("length", "s:"), "0");
    SL_CHECK_STR(CALL("length", "ns"), "NULL");
    SL_CHECK_STR(CALL("substring", "s:Spark SQL", "l:5"), "k SQL");
    SL_CHECK_STR(CALL("substring", "s:Spark SQL", "l:-3"), "SQL");
    SL_CHECK_STR(CALL("substring", "s:Spark SQL", "l:5", "l:1"), "k");
    SL_CHECK_STR(CALL("substr", "s:Spark SQL", "l:0", "l:2"), "Sp");
    SL_CHECK_STR(CALL("substr", "s:abc", "l:-5", "l:3"), "a");
    SL_CHECK_STR(CALL("substr", "s:日本語", "l:2", "l:1"), "本");
    SL_CHECK_STR(CALL("substr", "s:日本語", "l:-1"), "語");
    SL_CHECK_STR(CALL("substr", "s:abc", "l:10"), "");
    SL_CHECK_STR(CALL("substr", "s:abc", "l:2", "l:-1"), "");
    SL_CHECK_STR(CALL("substr", "s:abc", "l:2", "l:9223372036854775807"), "bc");
    SL_CHECK_STR(CALL("substr", "s:abc", "l:1", "nl"), "NULL");
    SL_CHECK_STR(CALL("substr", "s:abc", "s:2"), "bc"); /* '2' as long */
}

static void test_trim_concat(void)
{
    SL_CHECK_STR(CALL("trim", "s:  a b  "), "a b");
    SL_CHECK_STR(CALL("ltrim", "s:  a b  "), "a b  ");
    SL_CHECK_STR(CALL("rtrim", "s:  a b  "), "  a b");
    SL_CHECK_STR(CALL("trim", "s:\ta "), "\ta"); /* spaces only */
    SL_CHECK_STR(CALL("trim", "s:   "), "");
    SL_CHECK_STR(CALL("concat", "s:a", "s:b", "s:c"), "abc");
    SL_CHECK_STR(CALL("concat", "s:a", "nl"), "NULL");
    SL_CHECK_STR(CALL("concat", "s:x", "l:1", "d:1.5", "b:true"), "x11.5true");
    SL_CHECK_STR(CALL("concat", "s:", "s:"), "");
    SL_CHECK_STR(CALL("concat_ws", "s:,", "s:a", "ns", "s:b"), "a,b");
    SL_CHECK_STR(CALL("concat_ws", "s:-", "as:x|y", "s:z"), "x-y-z");
    SL_CHECK_STR(CALL("concat_ws", "s:/", "al:1|2"), "1/2");
    SL_CHECK_STR(CALL("concat_ws", "s:/", "as:"), "");
    SL_CHECK_STR(CALL("concat_ws", "ns", "s:a"), "NULL");
    SL_CHECK_STR(CALL("concat_ws", "s:,"), "");
    SL_CHECK_STR(CALL("concat_ws", "s:→", "s:日", "s:本"), "日→本");
}

static void test_instr_replace_pad(void)
{
    SL_CHECK_STR(CALL("instr", "s:SparkSQL", "s:SQL"), "6");
    SL_CHECK_STR(CALL("instr", "s:日本語", "s:語"), "3");
    SL_CHECK_STR(CALL("instr", "s:abc", "s:z"), "0");
    SL_CHECK_STR(CALL("instr", "s:abc", "s:"), "1");
    SL_CHECK_STR(CALL("instr", "ns", "s:a"), "NULL");
    SL_CHECK_STR(CALL("replace", "s:ABCabc", "s:abc", "s:DEF"), "ABCDEF");
    SL_CHECK_STR(CALL("replace", "s:aaa", "s:a"), "");
    SL_CHECK_STR(CALL("replace", "s:abc", "s:", "s:x"), "abc");
    SL_CHECK_STR(CALL("replace", "s:日本日", "s:日", "s:x"), "x本x");
    SL_CHECK_STR(CALL("lpad", "s:hi", "l:5", "s:??"), "???hi");
    SL_CHECK_STR(CALL("lpad", "s:hi", "l:1", "s:??"), "h");
    SL_CHECK_STR(CALL("rpad", "s:hi", "l:5", "s:ab"), "hiaba");
    SL_CHECK_STR(CALL("lpad", "s:hi", "l:5"), "   hi");
    SL_CHECK_STR(CALL("lpad", "s:hi", "l:0"), "");
    SL_CHECK_STR(CALL("lpad", "s:hi", "l:-3", "s:x"), "");
    SL_CHECK_STR(CALL("lpad", "s:日本", "l:4", "s:ü"), "üü日本");
    SL_CHECK_STR(CALL("rpad", "s:日本", "l:3", "s:éü"), "日本é");
    SL_CHECK_STR(CALL("lpad", "s:hi", "l:5", "s:"), "hi");
    SL_CHECK_STR(CALL("reverse", "s:Spark SQL"), "LQS krapS");
    SL_CHECK_STR(CALL("reverse", "s:日本語"), "語本日");
    SL_CHECK_STR(CALL("reverse", "s:"), "");
}

static void test_split(void)
{
    SL_CHECK_STR(CALL("split", "s:oneAtwoBthreeC", "s:[ABC]"),
                 "[\"one\",\"two\",\"three\",\"\"]");
    SL_CHECK_STR(sqlfn_type(), "array<string>");
    SL_CHECK_STR(CALL("split", "s:oneAtwoBthreeC", "s:[ABC]", "l:2"),
                 "[\"one\",\"twoBthreeC\"]");
    SL_CHECK_STR(CALL("split", "s:oneAtwoBthreeC", "s:[ABC]", "l:0"),
                 "[\"one\",\"two\",\"three\",\"\"]");
    SL_CHECK_STR(CALL("split", "s:a,b,,", "s:,"), "[\"a\",\"b\",\"\",\"\"]");
    SL_CHECK_STR(CALL("split", "s:,a", "s:,"), "[\"\",\"a\"]");
    SL_CHECK_STR(CALL("split", "s:", "s:,"), "[\"\"]");
    SL_CHECK_STR(CALL("split", "s:abc", "s:x"), "[\"abc\"]");
    SL_CHECK_STR(CALL("split", "s:abc", "s:"), "[\"a\",\"b\",\"c\"]");
    SL_CHECK_STR(CALL("split", "s:abc", "s:", "l:2"), "[\"a\",\"bc\"]");
    SL_CHECK_STR(CALL("split", "s:a1b22c", "s:\\d+"), "[\"a\",\"b\",\"c\"]");
    SL_CHECK_STR(CALL("split", "s:日,本語", "s:,"), "[\"日\",\"本語\"]");
    SL_CHECK_STR(CALL("split", "s:日本", "s:x*"), "[\"日\",\"本\",\"\"]");
    SL_CHECK_STR(CALL("split", "ns", "s:,"), "NULL");
    SL_CHECK_STR(CALL("split", "s:a", "ns"), "NULL");
    SL_CHECK_STR(CALL("split", "s:a,b", "~s:,"), "[\"a\",\"b\"]");
}

/* split by a constant pattern of plain ASCII characters cuts with memchr/
 * memmem instead of the matcher: the pieces must be the matcher's, which
 * a non-constant pattern (compiled per row) still gives. */
static void test_split_literal(void)
{
    static const char *const cases[][3] = {
        {"s:a  b ", "s: ", "[\"a\",\"\",\"b\",\"\"]"},
        {"s: a", "s: ", "[\"\",\"a\"]"},
        {"s:xabyabab", "s:ab", "[\"x\",\"y\",\"\",\"\"]"},
        {"s:aaa", "s:aa", "[\"\",\"a\"]"},
        {"s:日 本 ", "s: ", "[\"日\",\"本\",\"\"]"},
        {"s:a-=b-=", "s:-=", "[\"a\",\"b\",\"\"]"},
        {"s:a.b", "s:.", "[\"\",\"\",\"\",\"\"]"}, /* '.' stays a regex */
        {"s:a b", "s:\\s", "[\"a\",\"b\"]"},
    };
    char var[16];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        SL_CHECK_STR(CALL("split", cases[i][0], cases[i][1]), cases[i][2]);
        snprintf(var, sizeof var, "~%s", cases[i][1]);
        SL_CHECK_STR(CALL("split", cases[i][0], var), cases[i][2]);
    }
    SL_CHECK_STR(CALL("split", "s:a b c d", "s: ", "l:2"), "[\"a\",\"b c d\"]");
    SL_CHECK_STR(CALL("split", "s:a b c d", "s: ", "l:3"),
                 "[\"a\",\"b\",\"c d\"]");
    SL_CHECK_STR(CALL("split", "s:a b", "s: ", "l:1"), "[\"a b\"]");
}

static void test_regex_errors(void)
{
    const char *r = CALL("split", "s:a", "s:(a");
    SL_CHECK(strncmp(r,
                     "prepare error: invalid regular expression at offset "
                     "2: missing closing parenthesis",
                     80) == 0);
    /* Not constant: NULL per row, no error. */
    SL_CHECK_STR(CALL("split", "s:a", "~s:(a"), "NULL");
    SL_CHECK_STR(CALL("regexp_replace", "s:a", "~s:[", "s:x"), "NULL");
    SL_CHECK_STR(CALL("regexp_extract", "s:a", "~s:*", "l:0"), "NULL");
}

static void test_regexp_extract(void)
{
    const char *re = "s:(\\d+)-(\\d+)";
    SL_CHECK_STR(CALL("regexp_extract", "s:100-200", re, "l:1"), "100");
    SL_CHECK_STR(CALL("regexp_extract", "s:100-200", re, "l:2"), "200");
    SL_CHECK_STR(CALL("regexp_extract", "s:100-200", re), "100");
    SL_CHECK_STR(CALL("regexp_extract", "s:x100-200y", re, "l:0"), "100-200");
    SL_CHECK_STR(CALL("regexp_extract", "s:foo", re, "l:1"), "");
    SL_CHECK_STR(CALL("regexp_extract", "s:100-200", re, "l:3"), "NULL");
    SL_CHECK_STR(CALL("regexp_extract", "s:a", "s:(a)|(b)", "l:2"), "");
    SL_CHECK_STR(CALL("regexp_extract", "s:日本語", "s:(.)語", "l:1"), "本");
    SL_CHECK_STR(CALL("regexp_extract", "ns", re, "l:1"), "NULL");
    SL_CHECK_STR(CALL("regexp_extract", "s:a1", "~s:([a-z])\\d", "l:1"), "a");
}

static void test_regexp_replace(void)
{
    SL_CHECK_STR(CALL("regexp_replace", "s:100-200", "s:(\\d+)", "s:num"),
                 "num-num");
    SL_CHECK_STR(CALL("regexp_replace", "s:2024-01-02",
                      "s:(\\d+)-(\\d+)-(\\d+)", "s:$3/$2/$1"),
                 "02/01/2024");
    SL_CHECK_STR(CALL("regexp_replace", "s:ab", "s:(?<x>a)", "s:[${x}]"),
                 "[a]b");
    SL_CHECK_STR(CALL("regexp_replace", "s:abc", "s:", "s:-"), "-a-b-c-");
    SL_CHECK_STR(CALL("regexp_replace", "s:aaa", "s:a*", "s:-"), "--");
    SL_CHECK_STR(CALL("regexp_replace", "s:a", "s:a", "s:\\$1"), "$1");
    SL_CHECK_STR(CALL("regexp_replace", "s:a", "s:a", "s:$5"), "NULL");
    SL_CHECK_STR(CALL("regexp_replace", "s:a", "s:(a)", "s:$10"), "a0");
    SL_CHECK_STR(CALL("regexp_replace", "s:日本語", "s:本", "s:x"), "日x語");
    SL_CHECK_STR(CALL("regexp_replace", "s:日本", "s:", "s:-"), "-日-本-");
    SL_CHECK_STR(CALL("regexp_replace", "s:", "s:x", "s:y"), "");
    SL_CHECK_STR(CALL("regexp_replace", "s:abc", "s:b", "ns"), "NULL");
}

static void test_conditional(void)
{
    SL_CHECK_STR(CALL("coalesce", "null", "nl", "l:3", "l:4"), "3");
    SL_CHECK_STR(sqlfn_type(), "long");
    SL_CHECK_STR(CALL("coalesce", "l:1", "d:2.5"), "1.0");
    SL_CHECK_STR(sqlfn_type(), "double");
    SL_CHECK_STR(CALL("coalesce", "nl"), "NULL");
    SL_CHECK_STR(CALL("coalesce", "ns", "l:1"), "1");
    SL_CHECK_STR(sqlfn_type(), "string");
    SL_CHECK(strncmp(CALL("coalesce", "b:true", "l:1"), "bind error:", 11) ==
             0);
    SL_CHECK_STR(CALL("nvl", "ns", "s:x"), "x");
    SL_CHECK_STR(CALL("ifnull", "s:y", "s:x"), "y");
    SL_CHECK_STR(CALL("nullif", "l:1", "l:1"), "NULL");
    SL_CHECK_STR(CALL("nullif", "l:1", "l:2"), "1");
    SL_CHECK_STR(CALL("nullif", "nl", "l:2"), "NULL");
    SL_CHECK_STR(CALL("nullif", "l:1", "nl"), "1");
    SL_CHECK_STR(CALL("if", "b:true", "l:1", "l:2"), "1");
    SL_CHECK_STR(CALL("if", "b:false", "l:1", "d:2"), "2.0");
    SL_CHECK_STR(CALL("if", "null", "l:1", "l:2"), "2");
    SL_CHECK(strncmp(CALL("if", "l:1", "l:1", "l:2"), "bind error:", 11) == 0);
}

static void test_abs_round(void)
{
    SL_CHECK_STR(CALL("abs", "l:-5"), "5");
    SL_CHECK_STR(sqlfn_type(), "long");
    SL_CHECK_STR(CALL("abs", "d:-1.5"), "1.5");
    SL_CHECK_STR(CALL("abs", "l:-9223372036854775808"), "-9223372036854775808");
    SL_CHECK_STR(CALL("abs", "s:-2"), "2.0");
    SL_CHECK_STR(CALL("abs", "ns"), "NULL");
    SL_CHECK(strncmp(CALL("abs", "b:true"), "bind error:", 11) == 0);
    SL_CHECK_STR(CALL("round", "d:2.5"), "3.0");
    SL_CHECK_STR(CALL("round", "d:-2.5"), "-3.0");
    SL_CHECK_STR(CALL("round", "d:2.675", "l:2"), "2.68");
    SL_CHECK_STR(CALL("round", "d:1.005", "l:2"), "1.01");
    SL_CHECK_STR(CALL("round", "l:125", "l:-1"), "130");
    SL_CHECK_STR(CALL("round", "l:-125", "l:-1"), "-130");
    SL_CHECK_STR(CALL("round", "l:7"), "7");
    SL_CHECK_STR(sqlfn_type(), "long");
    SL_CHECK_STR(CALL("round", "d:1234.5", "l:-2"), "1200.0");
    SL_CHECK_STR(CALL("round", "d:9.99", "l:1"), "10.0");
    SL_CHECK_STR(CALL("round", "d:-0.4"), "0.0");
    SL_CHECK_STR(CALL("round", "d:0.5"), "1.0");
    SL_CHECK_STR(CALL("round", "d:nan"), "NaN");
    SL_CHECK_STR(CALL("round", "d:-inf", "l:2"), "-Infinity");
    SL_CHECK_STR(CALL("round", "d:1e-20", "l:2"), "0.0");
    SL_CHECK_STR(CALL("round", "d:123.456", "l:-5"), "0.0");
    SL_CHECK_STR(CALL("round", "d:1.5", "l:-9223372036854775808"), "0.0");
    SL_CHECK_STR(CALL("round", "d:1e300", "l:2"), "1.0E300");
    SL_CHECK_STR(CALL("round", "d:1.5", "nl"), "NULL");
    SL_CHECK_STR(CALL("bround", "d:2.5"), "2.0");
    SL_CHECK_STR(CALL("bround", "d:3.5"), "4.0");
    SL_CHECK_STR(CALL("bround", "d:0.5"), "0.0");
    SL_CHECK_STR(CALL("bround", "d:2.51"), "3.0");
    SL_CHECK_STR(CALL("bround", "l:25", "l:-1"), "20");
    SL_CHECK_STR(CALL("bround", "l:35", "l:-1"), "40");
}

static void test_math(void)
{
    SL_CHECK_STR(CALL("floor", "d:-1.5"), "-2");
    SL_CHECK_STR(sqlfn_type(), "long");
    SL_CHECK_STR(CALL("ceil", "d:1.2"), "2");
    SL_CHECK_STR(CALL("ceiling", "d:-1.2"), "-1");
    SL_CHECK_STR(CALL("floor", "l:5"), "5");
    SL_CHECK_STR(CALL("ceil", "d:nan"), "0");
    SL_CHECK_STR(CALL("floor", "d:1e30"), "9223372036854775807");
    SL_CHECK_STR(CALL("floor", "s:3.7"), "3");
    SL_CHECK_STR(CALL("sqrt", "d:4"), "2.0");
    SL_CHECK_STR(sqlfn_type(), "double");
    SL_CHECK_STR(CALL("sqrt", "l:2"), "1.4142135623730951");
    SL_CHECK_STR(CALL("sqrt", "d:-1"), "NaN");
    SL_CHECK_STR(CALL("pow", "l:2", "l:10"), "1024.0");
    SL_CHECK_STR(CALL("power", "d:2", "d:0.5"), "1.4142135623730951");
    SL_CHECK_STR(CALL("pow", "nl", "l:1"), "NULL");
    SL_CHECK_STR(CALL("exp", "l:0"), "1.0");
    SL_CHECK_STR(CALL("ln", "d:1"), "0.0");
    SL_CHECK_STR(CALL("ln", "d:0"), "NULL");
    SL_CHECK_STR(CALL("log", "d:-1"), "NULL");
    SL_CHECK_STR(CALL("log", "l:2", "l:8"), "3.0");
    SL_CHECK_STR(CALL("log", "l:10", "l:100"), "2.0");
    SL_CHECK_STR(CALL("log", "d:0", "d:8"), "NULL");
    SL_CHECK_STR(CALL("log10", "l:1000"), "3.0");
    SL_CHECK_STR(CALL("log2", "l:8"), "3.0");
    SL_CHECK_STR(CALL("sign", "d:-3"), "-1.0");
    SL_CHECK_STR(CALL("signum", "l:0"), "0.0");
    SL_CHECK_STR(CALL("sign", "l:5"), "1.0");
    SL_CHECK_STR(CALL("greatest", "l:1", "l:3", "l:2"), "3");
    SL_CHECK_STR(sqlfn_type(), "long");
    SL_CHECK_STR(CALL("greatest", "l:1", "nl", "l:3"), "3");
    SL_CHECK_STR(CALL("greatest", "nl", "nl"), "NULL");
    SL_CHECK_STR(CALL("greatest", "l:1", "d:2.5"), "2.5");
    SL_CHECK_STR(CALL("greatest", "s:a", "s:b", "s:ab"), "b");
    SL_CHECK_STR(CALL("least", "s:日", "s:a"), "a");
    SL_CHECK_STR(CALL("least", "d:1", "d:nan"), "1.0");
    SL_CHECK_STR(CALL("greatest", "d:1", "d:nan"), "NaN");
    SL_CHECK_STR(CALL("least", "t:2024-01-01", "t:2023-01-01"),
                 "2023-01-01 00:00:00");
    SL_CHECK(strncmp(CALL("greatest", "as:a", "as:b"), "bind error:", 11) == 0);
}

static void test_time_fields(void)
{
    const char *t = "t:2024-01-02 09:30:45.123"; /* a Tuesday */
    SL_CHECK_STR(CALL("year", t), "2024");
    SL_CHECK_STR(sqlfn_type(), "long");
    SL_CHECK_STR(CALL("month", t), "1");
    SL_CHECK_STR(CALL("quarter", "t:2024-05-15"), "2");
    SL_CHECK_STR(CALL("dayofmonth", t), "2");
    SL_CHECK_STR(CALL("day", t), "2");
    SL_CHECK_STR(CALL("dayofyear", "t:2024-12-31"), "366");
    SL_CHECK_STR(CALL("hour", t), "9");
    SL_CHECK_STR(CALL("minute", t), "30");
    SL_CHECK_STR(CALL("second", t), "45");
    SL_CHECK_STR(CALL("dayofweek", t), "3");
    SL_CHECK_STR(CALL("dayofweek", "t:2024-01-07"), "1"); /* Sunday */
    SL_CHECK_STR(CALL("dayofweek", "t:2024-01-06"), "7"); /* Saturday */
    /* Before 1970 fields count back from the day (floor division). */
    const char *old = "t:1969-12-31 23:59:59.5";
    SL_CHECK_STR(CALL("hour", old), "23");
    SL_CHECK_STR(CALL("second", old), "59");
    SL_CHECK_STR(CALL("dayofmonth", old), "31");
    SL_CHECK_STR(CALL("dayofweek", old), "4"); /* a Wednesday */
    SL_CHECK_STR(CALL("hour", "s:2024-01-02 07:00:00"), "7");
    SL_CHECK_STR(CALL("hour", "s:junk"), "NULL");
    SL_CHECK_STR(CALL("hour", "nt"), "NULL");
    SL_CHECK(strncmp(CALL("hour", "l:5"), "bind error:", 11) == 0);
}

static void test_date_trunc(void)
{
    const char *t = "t:2024-05-15 09:30:45.123"; /* a Wednesday */
    SL_CHECK_STR(CALL("date_trunc", "s:year", t), "2024-01-01 00:00:00");
    SL_CHECK_STR(sqlfn_type(), "timestamp");
    SL_CHECK_STR(CALL("date_trunc", "s:YYYY", t), "2024-01-01 00:00:00");
    SL_CHECK_STR(CALL("date_trunc", "s:QUARTER", t), "2024-04-01 00:00:00");
    SL_CHECK_STR(CALL("date_trunc", "s:month", t), "2024-05-01 00:00:00");
    SL_CHECK_STR(CALL("date_trunc", "s:Week", t), "2024-05-13 00:00:00");
    SL_CHECK_STR(CALL("date_trunc", "s:week", "t:2024-05-19"),
                 "2024-05-13 00:00:00"); /* Sunday: back to Monday */
    SL_CHECK_STR(CALL("date_trunc", "s:week", "t:2024-05-13 01:00"),
                 "2024-05-13 00:00:00");
    SL_CHECK_STR(CALL("date_trunc", "s:day", t), "2024-05-15 00:00:00");
    SL_CHECK_STR(CALL("date_trunc", "s:hour", t), "2024-05-15 09:00:00");
    SL_CHECK_STR(CALL("date_trunc", "s:minute", t), "2024-05-15 09:30:00");
    SL_CHECK_STR(CALL("date_trunc", "s:second", t), "2024-05-15 09:30:45");
    SL_CHECK_STR(CALL("date_trunc", "s:millisecond", t),
                 "2024-05-15 09:30:45.123");
    SL_CHECK_STR(CALL("date_trunc", "s:bogus", t), "NULL");
    SL_CHECK_STR(CALL("date_trunc", "s:", t), "NULL");
    SL_CHECK_STR(CALL("date_trunc", "ns", t), "NULL");
    SL_CHECK_STR(CALL("date_trunc", "s:week", "t:1969-12-31 12:00"),
                 "1969-12-29 00:00:00");
    SL_CHECK_STR(CALL("date_trunc", "s:hour", "t:1969-12-31 23:59:59.5"),
                 "1969-12-31 23:00:00");
}

static void test_to_timestamp(void)
{
    SL_CHECK_STR(CALL("to_timestamp", "s:2024-01-02 09:30:00"),
                 "2024-01-02 09:30:00");
    SL_CHECK_STR(sqlfn_type(), "timestamp");
    SL_CHECK_STR(CALL("to_timestamp", "s:junk"), "NULL");
    SL_CHECK_STR(CALL("to_timestamp", "t:2024-01-02"), "2024-01-02 00:00:00");
    SL_CHECK_STR(
        CALL("to_timestamp", "s:02/01/2024 09:30", "s:dd/MM/yyyy HH:mm"),
        "2024-01-02 09:30:00");
    SL_CHECK_STR(CALL("to_timestamp", "s:2024-01-02T09:30:00.250",
                      "s:yyyy-MM-dd'T'HH:mm:ss.SSS"),
                 "2024-01-02 09:30:00.25");
    SL_CHECK_STR(CALL("to_timestamp", "s:2024-1-2 9:5", "s:yyyy-M-d H:m"),
                 "2024-01-02 09:05:00");
    SL_CHECK_STR(CALL("to_timestamp", "s:24-01-02", "s:yy-MM-dd"),
                 "2024-01-02 00:00:00");
    SL_CHECK_STR(CALL("to_timestamp", "s:at 2024'", "s:'at' yyyy''"),
                 "2024-01-01 00:00:00");
    SL_CHECK_STR(CALL("to_timestamp", "s:2024-1-02", "s:yyyy-MM-dd"), "NULL");
    SL_CHECK_STR(CALL("to_timestamp", "s:2023-02-30", "s:yyyy-MM-dd"), "NULL");
    SL_CHECK_STR(CALL("to_timestamp", "s:2024-01-02x", "s:yyyy-MM-dd"), "NULL");
    SL_CHECK_STR(CALL("to_timestamp", "s:2024-13-02", "s:yyyy-MM-dd"), "NULL");
    SL_CHECK_STR(CALL("to_timestamp", "s:2024", "s:yyyy"),
                 "2024-01-01 00:00:00");
    SL_CHECK(strncmp(CALL("to_timestamp", "s:2024", "s:yyyy-QQ"),
                     "prepare error: invalid datetime pattern", 39) == 0);
    SL_CHECK(strncmp(CALL("to_timestamp", "s:2024", "s:'open"),
                     "prepare error:", 14) == 0);
    SL_CHECK_STR(CALL("to_timestamp", "s:2024", "~s:yyyy-QQ"), "NULL");
    SL_CHECK_STR(CALL("to_timestamp", "ns", "s:yyyy"), "NULL");
}

static void test_unix_time(void)
{
    SL_CHECK_STR(CALL("unix_timestamp", "t:2024-01-02 09:30:00.999"),
                 "1704187800");
    SL_CHECK_STR(sqlfn_type(), "long");
    SL_CHECK_STR(CALL("unix_timestamp", "s:2024-01-02 09:30:00"), "1704187800");
    SL_CHECK_STR(CALL("unix_timestamp", "s:2024-01-02"), "NULL");
    SL_CHECK_STR(CALL("unix_timestamp", "s:2024/01/02", "s:yyyy/MM/dd"),
                 "1704153600");
    SL_CHECK_STR(CALL("unix_timestamp", "t:1969-12-31 23:59:59.5"), "-1");
    SL_CHECK_STR(CALL("unix_timestamp", "ns"), "NULL");
    SL_CHECK_STR(CALL("from_unixtime", "l:0"), "1970-01-01 00:00:00");
    SL_CHECK_STR(sqlfn_type(), "string");
    SL_CHECK_STR(CALL("from_unixtime", "l:1704187800", "s:yyyy/MM/dd HH"),
                 "2024/01/02 09");
    SL_CHECK_STR(CALL("from_unixtime", "l:1704187800", "s:d.M.yy 'at' H:m"),
                 "2.1.24 at 9:30");
    SL_CHECK_STR(CALL("from_unixtime", "l:-1"), "1969-12-31 23:59:59");
    SL_CHECK_STR(CALL("from_unixtime", "l:1", "s:ss.SSS"), "01.000");
    SL_CHECK_STR(CALL("from_unixtime", "s:60"), "1970-01-01 00:01:00");
    SL_CHECK_STR(CALL("from_unixtime", "l:9223372036854775807"), "NULL");
    SL_CHECK_STR(CALL("from_unixtime", "nl"), "NULL");
    SL_CHECK_STR(CALL("from_unixtime", "l:0", "~s:EEE"), "NULL");
    SL_CHECK(strncmp(CALL("from_unixtime", "l:0", "s:EEE"),
                     "prepare error:", 14) == 0);
}

/* Results past SL__SQL_MAX_STR are NULL, not a failed allocation. */
static void test_huge_results(void)
{
    size_t big = 2u << 20;
    char *rep = malloc(big + 3), *in = malloc(1024 + 3);
    memcpy(rep, "s:", 2);
    memset(rep + 2, 'b', big);
    rep[big + 2] = '\0';
    memcpy(in, "s:", 2);
    memset(in + 2, 'a', 1024);
    in[1026] = '\0';
    SL_CHECK_STR(CALL("replace", in, "s:a", rep), "NULL");
    SL_CHECK_STR(CALL("regexp_replace", in, "s:a", rep), "NULL");
    SL_CHECK_STR(CALL("lpad", "s:x", "l:2000000000"), "NULL");
    SL_CHECK_STR(CALL("rpad", "s:x", "l:9223372036854775807", "s:ab"), "NULL");
    SL_CHECK_STR(CALL("concat_ws", "s:,", "s:a", "s:b"), "a,b");
    free(rep);
    free(in);
    /* A long pattern is written whole. */
    char fmt[1000] = "s:";
    for (int i = 0; i < 100; i++)
        strcat(fmt, "'xyz'yyyy");
    const char *r = CALL("from_unixtime", "l:0", fmt);
    SL_CHECK_INT(strlen(r), 700);
    SL_CHECK(strncmp(r + 693, "xyz1970", 7) == 0);
}

/* ------------------------------------------------ one regex, two threads */

typedef struct thr {
    const sl__sql_func *f;
    const void *state;
    const sl_type *rt;
    int id, bad;
} thr;

static void *replace_rows(void *p)
{
    thr *t = p;
    sl__arena scratch;
    char in[64], want[64];
    sl__arena_init(&scratch, 1024);
    for (int i = 0; i < 2000; i++) {
        snprintf(in, sizeof in, "t%d-%d-x", t->id, i);
        snprintf(want, sizeof want, "t<%d>-<%d>-x", t->id, i);
        sl_value args[3] = {sl_cstr(in), sl_cstr("(\\d+)"), sl_cstr("<$1>")};
        sl_value out;
        if (t->f->eval(t->state, args, 3, t->rt, &scratch, &out) != SL_OK ||
            out.kind != SL_KIND_STR || out.len != strlen(want) ||
            memcmp(out.u.s, want, out.len) != 0)
            t->bad++;
        sl__arena_reset(&scratch);
    }
    sl__arena_free(&scratch);
    return NULL;
}

static void test_regex_threads(void)
{
    const sl__sql_func *f = sl__sql_func_find("regexp_replace");
    sl__arena a;
    const sl_type *str = sl_type_scalar(SL_TYPE_STRING);
    const sl_type *types[3] = {str, str, str}, *want[3] = {str, str, str};
    const char *why = NULL;
    void *state = NULL;
    sl__arena_init(&a, 1024);
    sl_value pat = sl_cstr("(\\d+)"), rep = sl_cstr("<$1>");
    const sl_value *consts[3] = {NULL, &pat, &rep};
    const sl_type *rt = f->bind(types, 3, want, &a, &why);
    SL_CHECK_OK(f->prepare(consts, 3, &a, &state, &why));
    thr t[2] = {{f, state, rt, 1, 0}, {f, state, rt, 2, 0}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        SL_CHECK_INT(pthread_create(&th[i], NULL, replace_rows, &t[i]), 0);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    SL_CHECK_INT(t[0].bad, 0);
    SL_CHECK_INT(t[1].bad, 0);
    sl__arena_free(&a); /* frees the compiled pattern (cleanup hook) */
}

static void test_cleanup(void)
{
    sqlfn_reset();
}

const char *SL_SUITE = "sql_functions";
const sl_test_case SL_TESTS[] = {
    {"lookup", test_lookup},
    {"case", test_case},
    {"length_substr", test_length_substr},
    {"trim_concat", test_trim_concat},
    {"instr_replace_pad", test_instr_replace_pad},
    {"split", test_split},
    {"split_literal", test_split_literal},
    {"regex_errors", test_regex_errors},
    {"regexp_extract", test_regexp_extract},
    {"regexp_replace", test_regexp_replace},
    {"conditional", test_conditional},
    {"abs_round", test_abs_round},
    {"math", test_math},
    {"time_fields", test_time_fields},
    {"date_trunc", test_date_trunc},
    {"to_timestamp", test_to_timestamp},
    {"unix_time", test_unix_time},
    {"huge_results", test_huge_results},
    {"regex_threads", test_regex_threads},
    {"cleanup", test_cleanup},
    {NULL, NULL},
};
