/*
 * main() of every CUnit test program: registers the file's SL_TESTS as one
 * suite, runs it verbosely and exits non-zero on any failure.
 */
#include "sl_test.h"

#include <CUnit/Basic.h>
#include <stdarg.h>
#include <stdlib.h>

void sl_test_fail(const char *file, int line, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s:%d: FAILED: %s\n", file, line, msg);
    CU_assertImplementation(CU_FALSE, (unsigned)line, msg, file, "", CU_FALSE);
}

int main(void)
{
    CU_pSuite suite;
    unsigned failed;
    size_t i;

    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    suite = CU_add_suite(SL_SUITE, NULL, NULL);
    if (!suite)
        return 2;
    for (i = 0; SL_TESTS[i].name; i++)
        if (!CU_add_test(suite, SL_TESTS[i].name, SL_TESTS[i].fn))
            return 2;
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
