/*
 * Unit tests of src/core/duration.c: duration and size parsing (every
 * unit, overflow, and the forms rejected on purpose) and duration
 * formatting in the largest exact unit, with snprintf-style lengths.
 */
#include <inttypes.h>
#include <stdint.h>
#include <string.h>

#include <sluice/core.h>

#include "sl_test.h"

/*
 * Parse text and expect status st and, on success, value want; on failure
 * the output must be untouched. The caller's line is reported.
 */
static void check_parse(int line, const char *what,
                        sl_status (*parse)(const char *, int64_t *),
                        const char *text, sl_status st, int64_t want)
{
    int64_t out = -12345;
    sl_status got = parse(text, &out);

    if (st != SL_OK)
        want = -12345;
    if (got != st || out != want)
        sl_test_fail(__FILE__, line,
                     "%s \"%s\": got %s, %" PRId64 "; want %s, %" PRId64, what,
                     text, sl_errname(got), out, sl_errname(st), want);
    else
        CU_PASS(text);
}

#define check_dur(text, st, want)                                              \
    check_parse(__LINE__, "duration", sl_duration_parse, text, st, want)
#define check_size(text, st, want)                                             \
    check_parse(__LINE__, "size", sl_size_parse, text, st, want)

static void test_duration_units(void)
{
    check_dur("0ms", SL_OK, 0);
    check_dur("10ms", SL_OK, 10);
    check_dur("500ms", SL_OK, 500);
    check_dur("1s", SL_OK, 1000);
    check_dur("0s", SL_OK, 0);
    check_dur("90s", SL_OK, 90000);
    check_dur("1m", SL_OK, 60000);
    check_dur("2h", SL_OK, 7200000);
    check_dur("24h", SL_OK, 86400000);
    check_dur("007s", SL_OK, 7000);
}

static void test_duration_rejects(void)
{
    static const char *const bad[] = {
        "",     "1",    "ms",  "s",     "1 s",  " 1s",  "1s ", "-1s",
        "+1s",  "1.5s", "1S",  "1MS",   "1sec", "1min", "1d",  "1us",
        "1ms1", "1sm",  "1hh", "0x10s", "abc",  "1\ts", "1s\n"};
    size_t i;

    for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
        check_dur(bad[i], SL_EPARSE, 0);
}

static void test_duration_overflow(void)
{
    /* INT64_MAX is 9223372036854775807. */
    check_dur("9223372036854775807ms", SL_OK, INT64_MAX);
    check_dur("9223372036854775808ms", SL_ERANGE, 0);
    check_dur("99999999999999999999999s", SL_ERANGE, 0);
    check_dur("9223372036854775s", SL_OK, INT64_C(9223372036854775000));
    check_dur("9223372036854776s", SL_ERANGE, 0);
    check_dur("2562047788015h", SL_OK, INT64_C(2562047788015) * 3600000);
    check_dur("2562047788016h", SL_ERANGE, 0);
    /* Syntax errors win over overflow. */
    check_dur("99999999999999999999999x", SL_EPARSE, 0);
    check_dur("99999999999999999999999", SL_EPARSE, 0);
}

static void test_duration_args(void)
{
    int64_t out;

    SL_CHECK_INT(sl_duration_parse(NULL, &out), SL_EINVAL);
    SL_CHECK_INT(sl_duration_parse("1s", NULL), SL_EINVAL);
    SL_CHECK_INT(sl_size_parse(NULL, &out), SL_EINVAL);
    SL_CHECK_INT(sl_size_parse("1k", NULL), SL_EINVAL);
}

/* Format ms and expect text (and its length as the return value). */
static void check_fmt(int64_t ms, const char *text)
{
    char buf[64];
    size_t n = sl_duration_format(ms, buf, sizeof buf);

    SL_CHECK_STR(buf, text);
    SL_CHECK_INT(n, strlen(text));
}

static void test_duration_format(void)
{
    check_fmt(0, "0ms");
    check_fmt(1, "1ms");
    check_fmt(999, "999ms");
    check_fmt(1000, "1s");
    check_fmt(1500, "1500ms");
    check_fmt(2000, "2s");
    check_fmt(59000, "59s");
    check_fmt(60000, "1m");
    check_fmt(90000, "90s");
    check_fmt(3600000, "1h");
    check_fmt(5400000, "90m");
    check_fmt(86400000, "24h");
    check_fmt(-2000, "-2s");
    check_fmt(INT64_MAX, "9223372036854775807ms");
}

static void test_duration_format_small_buffers(void)
{
    char buf[4];

    SL_CHECK_INT(sl_duration_format(1500, buf, sizeof buf), 6);
    SL_CHECK_STR(buf, "150");
    SL_CHECK_INT(sl_duration_format(3600000, NULL, 0), 2);
    buf[0] = 'x';
    SL_CHECK_INT(sl_duration_format(1500, buf, 1), 6);
    SL_CHECK_INT(buf[0], '\0');
}

/* Every formatted duration parses back to itself. */
static void test_duration_round_trip(void)
{
    static const int64_t ms[] = {0,     1,       7,       1000,    1001,
                                 60000, 3599999, 3600000, 7200000, 86400000};
    size_t i;

    for (i = 0; i < sizeof ms / sizeof ms[0]; i++) {
        char buf[32];
        int64_t back = -1;
        sl_duration_format(ms[i], buf, sizeof buf);
        SL_CHECK_OK(sl_duration_parse(buf, &back));
        SL_CHECK_INT(back, ms[i]);
    }
}

static void test_size_units(void)
{
    check_size("0", SL_OK, 0);
    check_size("100", SL_OK, 100);
    check_size("100b", SL_OK, 100);
    check_size("100B", SL_OK, 100);
    check_size("512k", SL_OK, 512 * 1024);
    check_size("512K", SL_OK, 512 * 1024);
    check_size("512kb", SL_OK, 512 * 1024);
    check_size("64m", SL_OK, INT64_C(64) << 20);
    check_size("64M", SL_OK, INT64_C(64) << 20);
    check_size("64mb", SL_OK, INT64_C(64) << 20);
    check_size("64MB", SL_OK, INT64_C(64) << 20);
    check_size("1g", SL_OK, INT64_C(1) << 30);
    check_size("1G", SL_OK, INT64_C(1) << 30);
    check_size("64gb", SL_OK, INT64_C(64) << 30);
}

static void test_size_rejects(void)
{
    static const char *const bad[] = {
        "",    "-1",   "+1",  "k",    "1.5m", "1 m",  " 1m", "1m ",
        "1t",  "1kk",  "1bb", "1mbb", "1bk",  "abc",  "1x",  "0x1",
        "1e3", "1kib", "m1",  "1,5",  "1m\n", "1\tm", "1mB "};
    size_t i;

    for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
        check_size(bad[i], SL_EPARSE, 0);
}

static void test_size_overflow(void)
{
    check_size("9223372036854775807", SL_OK, INT64_MAX);
    check_size("9223372036854775808", SL_ERANGE, 0);
    check_size("8589934591g", SL_OK, INT64_C(8589934591) << 30);
    check_size("8589934592g", SL_ERANGE, 0);
    check_size("9007199254740991k", SL_OK, INT64_C(9007199254740991) << 10);
    check_size("9007199254740992k", SL_ERANGE, 0);
    check_size("123456789012345678901234567890", SL_ERANGE, 0);
    check_size("123456789012345678901234567890x", SL_EPARSE, 0);
}

const char *SL_SUITE = "core/duration";
const sl_test_case SL_TESTS[] = {
    {"duration_units", test_duration_units},
    {"duration_rejects", test_duration_rejects},
    {"duration_overflow", test_duration_overflow},
    {"duration_args", test_duration_args},
    {"duration_format", test_duration_format},
    {"duration_format_small_buffers", test_duration_format_small_buffers},
    {"duration_round_trip", test_duration_round_trip},
    {"size_units", test_size_units},
    {"size_rejects", test_size_rejects},
    {"size_overflow", test_size_overflow},
    {NULL, NULL},
};
