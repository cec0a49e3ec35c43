/*
 * Unit tests of connectors/kafka/kafka_offsets.c: the Kafka source's
 * offsets JSON printed and parsed back unchanged, and bad input refused
 * with a message saying what is wrong.
 */
#include <string.h>

#include <sluice/sluice.h>

#include "kafka/kafka_src_int.h"
#include "sl_test.h"

static void test_round_trip(void)
{
    sl__koffs o = {NULL, 0, 0}, back = {NULL, 0, 0};
    char err[200] = "", *text, *again;
    SL_CHECK_OK(sl__koffs_add(&o, "words", 0, 0, 7, 65));
    SL_CHECK_OK(sl__koffs_add(&o, "words", 2, 3, 3, -1));
    SL_CHECK_OK(sl__koffs_add(&o, "a \"quoted\" topic", 11, 9007199254740990,
                              9007199254740991, 0));
    text = sl__koffs_print(&o);
    SL_CHECK(text != NULL);
    SL_CHECK_STR(text,
                 "{\"start\":{\"words\":{\"0\":0,\"2\":3},\"a \\\"quoted\\\" "
                 "topic\":{\"11\":9007199254740990}},\"end\":{\"words\":{"
                 "\"0\":7,\"2\":3},\"a \\\"quoted\\\" topic\":{\"11\":"
                 "9007199254740991}},\"lag\":{\"words\":{\"0\":65},\"a "
                 "\\\"quoted\\\" topic\":{\"11\":0}}}");
    SL_CHECK_OK(sl__koffs_parse(text, &back, err, sizeof err));
    SL_CHECK_INT(back.n, 3);
    SL_CHECK_INT(sl__koffs_find(&back, "words", 2)->lag, -1);
    SL_CHECK_INT(sl__koffs_find(&back, "a \"quoted\" topic", 11)->start,
                 9007199254740990);
    again = sl__koffs_print(&back);
    SL_CHECK_STR(again, text);
    sl_free(again);
    sl_free(text);
    sl__koffs_free(&o);
    sl__koffs_free(&back);
}

static void test_empty_and_defaults(void)
{
    sl__koffs o = {NULL, 0, 0};
    char err[200] = "", *text;
    text = sl__koffs_print(&o);
    SL_CHECK_STR(text, "{\"start\":{},\"end\":{},\"lag\":{}}");
    SL_CHECK_OK(sl__koffs_parse(text, &o, err, sizeof err));
    SL_CHECK_INT(o.n, 0);
    sl_free(text);
    /* start defaults to end, lag to -1 */
    SL_CHECK_OK(
        sl__koffs_parse("{\"end\":{\"t\":{\"4\":12}}}", &o, err, sizeof err));
    SL_CHECK_INT(o.n, 1);
    SL_CHECK_INT(o.v[0].start, 12);
    SL_CHECK_INT(o.v[0].end, 12);
    SL_CHECK_INT(o.v[0].lag, -1);
    sl__koffs_free(&o);
}

static void check_bad(int line, const char *json, const char *want)
{
    sl__koffs o = {NULL, 0, 0};
    char err[200] = "";
    sl_status st = sl__koffs_parse(json, &o, err, sizeof err);
    if (st != SL_EPARSE || !strstr(err, want) || o.n != 0)
        sl_test_fail(__FILE__, line, "%s: got %s \"%s\", want \"%s\"", json,
                     sl_errname(st), err, want);
    else
        CU_PASS(json);
    sl__koffs_free(&o);
}

#define BAD(json, want) check_bad(__LINE__, json, want)

static void test_bad(void)
{
    BAD("", "not JSON");
    BAD("{\"end\":", "not JSON");
    BAD("[1]", "not a JSON object");
    BAD("{\"start\":{}}", "no \"end\"");
    BAD("{\"end\":[]}", "\"end\" is not an object");
    BAD("{\"end\":{\"t\":5}}", "\"end\".\"t\" is not an object");
    BAD("{\"end\":{\"t\":{\"x\":5}}}", "not a partition number");
    BAD("{\"end\":{\"t\":{\"01\":5}}}", "not a partition number");
    BAD("{\"end\":{\"t\":{\"-1\":5}}}", "not a partition number");
    BAD("{\"end\":{\"t\":{\"0\":-5}}}", "not an offset");
    BAD("{\"end\":{\"t\":{\"0\":1.5}}}", "not an offset");
    BAD("{\"end\":{\"t\":{\"0\":\"5\"}}}", "not an offset");
    BAD("{\"end\":{\"t\":{\"0\":5,\"0\":6}}}", "given twice");
    BAD("{\"end\":{\"t\":{\"0\":5}},\"start\":{\"t\":{\"0\":6}}}",
        "start 6 after end 5");
    BAD("{\"end\":{\"t\":{\"0\":5}},\"start\":{\"u\":{\"0\":1}}}",
        "has no \"end\"");
    BAD("{\"end\":{\"t\":{\"0\":5}}} x", "not JSON");
}

const char *SL_SUITE = "kafka/offsets";
const sl_test_case SL_TESTS[] = {
    {"round_trip", test_round_trip},
    {"empty_and_defaults", test_empty_and_defaults},
    {"bad", test_bad},
    {NULL, NULL},
};
