/*
 * Unit tests of src/core/misc.c: the clocks move the right way and agree
 * with the C library, and the CPU count is at least one.
 */
#include <time.h>

#include <sluice/core.h>

#include "core/core.h"
#include "sl_test.h"

static void test_mono_clock(void)
{
    struct timespec ts = {0, 20 * 1000000};
    int64_t a = sl__now_mono_ms(), b;

    SL_CHECK(a > 0);
    nanosleep(&ts, NULL);
    b = sl__now_mono_ms();
    SL_CHECK(b - a >= 19);
    SL_CHECK(b - a < 5000);
}

static void test_wall_clock(void)
{
    int64_t ms = sl__now_wall_ms();
    int64_t s = (int64_t)time(NULL);

    /* Within a few seconds of time(), and after 2020-01-01. */
    SL_CHECK(ms / 1000 - s <= 2 && s - ms / 1000 <= 2);
    SL_CHECK(ms > INT64_C(1577836800000));
}

static void test_cpu_count(void)
{
    SL_CHECK(sl__cpu_count() >= 1);
}

const char *SL_SUITE = "core/misc";
/* The first call is due, the next ones within the period are not, and one
 * after the period is again. */
static void test_rate_due(void)
{
    int64_t last = 0;
    struct timespec ts = {0, 30 * 1000 * 1000};
    SL_CHECK(sl__rate_due(&last, 20));
    SL_CHECK(last != 0);
    SL_CHECK(!sl__rate_due(&last, 20));
    SL_CHECK(!sl__rate_due(&last, 20));
    nanosleep(&ts, NULL);
    SL_CHECK(sl__rate_due(&last, 20));
    SL_CHECK(!sl__rate_due(&last, 100000));
}

const sl_test_case SL_TESTS[] = {
    {"rate_due", test_rate_due},
    {"mono_clock", test_mono_clock},
    {"wall_clock", test_wall_clock},
    {"cpu_count", test_cpu_count},
    {NULL, NULL},
};
