/*
 * Test harness shared by every CUnit test program: one suite per program,
 * declared by the test file as SL_SUITE and SL_TESTS, and assertion macros
 * that print both values on failure.
 */
#ifndef SL_TEST_H
#define SL_TEST_H

#include <CUnit/CUnit.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

typedef struct sl_test_case {
    const char *name;
    void (*fn)(void);
} sl_test_case;

/* Each test program defines these two (the list ends with {NULL, NULL}). */
extern const char *SL_SUITE;
extern const sl_test_case SL_TESTS[];

void sl_test_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define SL_CHECK(cond)                                                         \
    do {                                                                       \
        if (!(cond))                                                           \
            sl_test_fail(__FILE__, __LINE__, "%s", #cond);                     \
        else                                                                   \
            CU_PASS(#cond);                                                    \
    } while (0)

#define SL_CHECK_INT(a, b)                                                     \
    do {                                                                       \
        long long sl_a_ = (long long)(a), sl_b_ = (long long)(b);              \
        if (sl_a_ != sl_b_)                                                    \
            sl_test_fail(__FILE__, __LINE__, "%s == %s: %lld != %lld", #a, #b, \
                         sl_a_, sl_b_);                                        \
        else                                                                   \
            CU_PASS(#a " == " #b);                                             \
    } while (0)

#define SL_CHECK_STR(a, b)                                                     \
    do {                                                                       \
        const char *sl_a_ = (a), *sl_b_ = (b);                                 \
        if (!sl_a_ || !sl_b_ || strcmp(sl_a_, sl_b_) != 0)                     \
            sl_test_fail(__FILE__, __LINE__, "%s == %s: \"%s\" != \"%s\"", #a, \
                         #b, sl_a_ ? sl_a_ : "(null)",                         \
                         sl_b_ ? sl_b_ : "(null)");                            \
        else                                                                   \
            CU_PASS(#a " == " #b);                                             \
    } while (0)

/* A status check that names the status on failure. */
#define SL_CHECK_OK(expr)                                                      \
    do {                                                                       \
        int sl_st_ = (int)(expr);                                              \
        if (sl_st_ != 0)                                                       \
            sl_test_fail(__FILE__, __LINE__, "%s: status %d", #expr, sl_st_);  \
        else                                                                   \
            CU_PASS(#expr);                                                    \
    } while (0)

#endif /* SL_TEST_H */
