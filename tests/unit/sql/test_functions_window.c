/*
 * window() (src/sql/functions_window.c), called as the compiler calls it:
 * the windows holding a timestamp for tumbling and sliding windows,
 * start offsets (negative too), timestamps before the epoch (floor, not
 * truncation), millisecond durations, NULL, and Spark's errors for bad
 * durations.
 */
#include "fn_call.h"
#include "sl_test.h"

#define CALL(...) sqlfn_call(__VA_ARGS__, NULL)

#define W(s, e) "{\"start\":\"" s "\",\"end\":\"" e "\"}"

static void test_tumbling(void)
{
    SL_CHECK_STR(
        CALL("window", "t:2016-03-27 19:39:34", "s:10 seconds"),
        "[" W("2016-03-27T19:39:30.000Z", "2016-03-27T19:39:40.000Z") "]");
    SL_CHECK_STR(sqlfn_type(), "array<struct<start:timestamp,end:timestamp>>");
    /* An INTERVAL literal (ms) and Spark's 'interval ...' text. */
    SL_CHECK_STR(
        CALL("window", "t:2016-03-27 19:39:34", "l:10000"),
        "[" W("2016-03-27T19:39:30.000Z", "2016-03-27T19:39:40.000Z") "]");
    SL_CHECK_STR(
        CALL("window", "s:2016-03-27 19:39:34", "s:interval 1 minute"),
        "[" W("2016-03-27T19:39:00.000Z", "2016-03-27T19:40:00.000Z") "]");
    /* Spark filters a NULL time: no window. */
    SL_CHECK_STR(CALL("window", "nt", "s:10 seconds"), "NULL");
}

/* DataFrameTimeWindowingSuite "sliding window grouping": 19:39:27 is in
 * four 10 s windows sliding by 3 s, latest start first (Spark's Expand
 * order). */
static void test_sliding(void)
{
    SL_CHECK_STR(
        CALL("window", "t:2016-03-27 19:39:27", "s:10 seconds", "s:3 seconds"),
        "[" W("2016-03-27T19:39:27.000Z", "2016-03-27T19:39:37.000Z") "," W(
            "2016-03-27T19:39:24.000Z",
            "2016-03-27T19:39:34.000Z") "," W("2016-03-27T19:39:21."
                                              "000Z",
                                              "2016-03-27T19:39:31."
                                              "000Z") "," W("2016-03-"
                                                            "27T19:39:"
                                                            "18.000Z",
                                                            "2016-03-"
                                                            "27T19:39:"
                                                            "28.000Z") "]");
    /* [start, end): 19:39:34 is in three, not [19:39:24, 19:39:34). */
    SL_CHECK_STR(
        CALL("window", "t:2016-03-27 19:39:34", "s:10 seconds", "s:3 seconds"),
        "[" W("2016-03-27T19:39:33.000Z", "2016-03-27T19:39:43.000Z") "," W(
            "2016-03-27T19:39:30.000Z",
            "2016-03-27T19:39:40.000Z") "," W("2016-03-27T19:39:27.000Z",
                                              "2016-03-27T19:39:37.000Z") "]");
}

static void test_millis(void)
{
    SL_CHECK_STR(
        CALL("window", "t:2016-03-27 09:00:00.715", "s:200 milliseconds",
             "s:40 milliseconds"),
        "[" W("2016-03-27T09:00:00.680Z", "2016-03-27T09:00:00.880Z") "," W(
            "2016-03-27T09:00:00.640Z",
            "2016-03-27T09:00:00.840Z") "," W("2016-03-27T09:00:00."
                                              "600Z",
                                              "2016-03-27T09:00:00."
                                              "800Z") "," W("2016-03-"
                                                            "27T09:00:"
                                                            "00.560Z",
                                                            "2016-03-"
                                                            "27T09:00:"
                                                            "00.760Z") "," W("2"
                                                                             "0"
                                                                             "1"
                                                                             "6"
                                                                             "-"
                                                                             "0"
                                                                             "3"
                                                                             "-"
                                                                             "2"
                                                                             "7"
                                                                             "T"
                                                                             "0"
                                                                             "9"
                                                                             ":"
                                                                             "0"
                                                                             "0"
                                                                             ":"
                                                                             "0"
                                                                             "0"
                                                                             "."
                                                                             "5"
                                                                             "2"
                                                                             "0"
                                                                             "Z",
                                                                             "2"
                                                                             "0"
                                                                             "1"
                                                                             "6"
                                                                             "-"
                                                                             "0"
                                                                             "3"
                                                                             "-"
                                                                             "2"
                                                                             "7"
                                                                             "T"
                                                                             "0"
                                                                             "9"
                                                                             ":"
                                                                             "0"
                                                                             "0"
                                                                             ":"
                                                                             "0"
                                                                             "0"
                                                                             "."
                                                                             "7"
                                                                             "2"
                                                                             "0"
                                                                             "Z") "]");
    SL_CHECK_STR(
        CALL("window", "t:2016-03-27 09:00:00.715", "s:1000 microseconds"),
        "[" W("2016-03-27T09:00:00.715Z", "2016-03-27T09:00:00.716Z") "]");
}

/* Floor, not truncation toward zero, before the epoch and with negative
 * start offsets (DataFrameTimeWindowingSuite "negative timestamps",
 * SPARK-21590). */
static void test_negative(void)
{
    SL_CHECK_STR(
        CALL("window", "t:1970-01-01 00:00:02", "s:10 seconds", "s:10 seconds",
             "s:5 seconds"),
        "[" W("1969-12-31T23:59:55.000Z", "1970-01-01T00:00:05.000Z") "]");
    SL_CHECK_STR(
        CALL("window", "t:1969-12-31 23:59:59.999", "s:1 second"),
        "[" W("1969-12-31T23:59:59.000Z", "1970-01-01T00:00:00.000Z") "]");
    SL_CHECK_STR(
        CALL("window", "t:1969-12-31 23:59:53", "s:10 seconds", "s:10 seconds",
             "s:-5 seconds"),
        "[" W("1969-12-31T23:59:45.000Z", "1969-12-31T23:59:55.000Z") "]");
    SL_CHECK_STR(
        CALL("window", "t:2016-03-27 19:39:30", "s:10 seconds", "s:10 seconds",
             "s:-5 seconds"),
        "[" W("2016-03-27T19:39:25.000Z", "2016-03-27T19:39:35.000Z") "]");
}

static void test_errors(void)
{
    const char *t = "t:2016-03-27 19:39:34";
    SL_CHECK_STR(CALL("window", t, "s:0 seconds"),
                 "prepare error: The window duration (0 ms) must be greater "
                 "than 0.");
    SL_CHECK_STR(CALL("window", t, "s:10 seconds", "s:-1 seconds"),
                 "prepare error: The slide duration (-1000 ms) must be "
                 "greater than 0.");
    SL_CHECK_STR(CALL("window", t, "s:10 seconds", "s:20 seconds"),
                 "prepare error: The slide duration (20000 ms) must be less "
                 "than or equal to the windowDuration (10000 ms).");
    SL_CHECK_STR(
        CALL("window", t, "s:10 seconds", "s:5 seconds", "s:5 seconds"),
        "prepare error: The absolute value of start time (5000 ms) "
        "must be less than the slideDuration (5000 ms).");
    SL_CHECK_STR(
        CALL("window", t, "s:10 seconds", "s:5 seconds", "s:-6 seconds"),
        "prepare error: The absolute value of start time (-6000 ms) "
        "must be less than the slideDuration (5000 ms).");
    SL_CHECK_STR(CALL("window", t, "s:1 month"),
                 "prepare error: Intervals greater than a month is not "
                 "supported (1 month): the window duration");
    SL_CHECK_STR(CALL("window", t, "s:ten seconds"),
                 "prepare error: The provided interval (ten seconds) did not "
                 "correspond to a valid interval string: the window duration");
    SL_CHECK_STR(CALL("window", t, "s:10 seconds", "s:1 microsecond"),
                 "prepare error: the slide duration (1 microsecond) is finer "
                 "than a millisecond, sluice's timestamp precision");
    SL_CHECK_STR(CALL("window", t, "~s:10 seconds"),
                 "prepare error: the window durations and start time must be "
                 "constants");
    SL_CHECK_STR(CALL("window", "b:true", "s:10 seconds"),
                 "bind error: argument 1 requires timestamp type, however, it "
                 "is of boolean type");
}

static void test_cleanup(void)
{
    sqlfn_reset();
}

const char *SL_SUITE = "sql_functions_window";
const sl_test_case SL_TESTS[] = {
    {"tumbling", test_tumbling},
    {"sliding", test_sliding},
    {"millis", test_millis},
    {"negative", test_negative},
    {"errors", test_errors},
    {"cleanup", test_cleanup},
    {NULL, NULL},
};
