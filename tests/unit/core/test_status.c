/*
 * Unit tests of src/core/status.c: every code in SL_STATUS_MAP has its own
 * text and name, and codes outside the list get the fixed fallbacks.
 */
#include <string.h>

#include <sluice/core.h>

#include "sl_test.h"

static void test_known_codes(void)
{
    SL_CHECK_STR(sl_strerror(SL_OK), "success");
    SL_CHECK_STR(sl_errname(SL_OK), "SL_OK");
    SL_CHECK_STR(sl_strerror(SL_ENOMEM), "out of memory");
    SL_CHECK_STR(sl_errname(SL_ENOMEM), "SL_ENOMEM");
    SL_CHECK_STR(sl_errname(SL_ECONF), "SL_ECONF");
    SL_CHECK_STR(sl_strerror(SL_ECORRUPT), "corrupt data");
    SL_CHECK_STR(sl_errname(SL_ECORRUPT), "SL_ECORRUPT");
}

/* The text and name of each listed code match the list itself. */
static void test_whole_map(void)
{
#define CHECK_ONE(name, code, text)                                            \
    SL_CHECK_STR(sl_strerror((sl_status)(code)), text);                        \
    SL_CHECK_STR(sl_errname((sl_status)(code)), "SL_" #name);
    SL_STATUS_MAP(CHECK_ONE)
#undef CHECK_ONE
}

static void test_codes_distinct(void)
{
    static const int codes[] = {
#define CODE(name, code, text) code,
        SL_STATUS_MAP(CODE)
#undef CODE
    };
    size_t n = sizeof codes / sizeof codes[0], i, j;

    for (i = 0; i < n; i++) {
        SL_CHECK(codes[i] <= 0);
        for (j = i + 1; j < n; j++)
            SL_CHECK(codes[i] != codes[j]);
    }
}

static void test_unknown_codes(void)
{
    SL_CHECK_STR(sl_strerror((sl_status)1), "unknown status");
    SL_CHECK_STR(sl_errname((sl_status)1), "SL_UNKNOWN");
    SL_CHECK_STR(sl_strerror((sl_status)-1000), "unknown status");
    SL_CHECK_STR(sl_errname((sl_status)-1000), "SL_UNKNOWN");
}

const char *SL_SUITE = "core/status";
const sl_test_case SL_TESTS[] = {
    {"known_codes", test_known_codes},
    {"whole_map", test_whole_map},
    {"codes_distinct", test_codes_distinct},
    {"unknown_codes", test_unknown_codes},
    {NULL, NULL},
};
