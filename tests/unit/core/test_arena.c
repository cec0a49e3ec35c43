/*
 * Unit tests of src/core/arena.c against the contract in src/core/core.h:
 * many small and large allocations, 8-byte alignment, reset and reuse,
 * cleanup hooks (last added runs first), owns(), and allocation failures.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sluice/core.h>

#include "core/core.h"
#include "sl_test.h"
#include "sl_test_util.h"

static bool aligned8(const void *p)
{
    return ((uintptr_t)p & 7) == 0;
}

/* Fill each allocation with a pattern and check none was overwritten. */
static void test_many_small(void)
{
    enum { N = 20000 };
    static unsigned char *ptrs[N];
    sl__arena a;
    size_t i, bad = 0, misaligned = 0;

    sl__arena_init(&a, 256);
    for (i = 0; i < N; i++) {
        size_t n = 1 + i % 61;
        ptrs[i] = sl__arena_alloc(&a, n);
        SL_CHECK(ptrs[i] != NULL);
        if (!aligned8(ptrs[i]))
            misaligned++;
        memset(ptrs[i], (int)(i & 0xff), n);
    }
    for (i = 0; i < N; i++) {
        size_t n = 1 + i % 61, j;
        for (j = 0; j < n; j++)
            if (ptrs[i][j] != (unsigned char)(i & 0xff))
                bad++;
        if (!sl__arena_owns(&a, ptrs[i]) ||
            !sl__arena_owns(&a, ptrs[i] + n - 1))
            bad++;
    }
    SL_CHECK_INT(misaligned, 0);
    SL_CHECK_INT(bad, 0);
    SL_CHECK(a.bytes >= 20000);
    sl__arena_free(&a);
    SL_CHECK_INT(a.bytes, 0);
}

/* Large requests (bigger than any chunk) interleaved with small ones. */
static void test_large(void)
{
    static const size_t sizes[] = {1,    5000,   3,    (size_t)1 << 20,
                                   17,   100000, 8,    (size_t)9 << 20,
                                   4095, 4096,   4097, 1};
    unsigned char *ptrs[sizeof sizes / sizeof sizes[0]];
    sl__arena a;
    size_t i, j, bad = 0;

    sl__arena_init(&a, 4096);
    for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        ptrs[i] = sl__arena_alloc(&a, sizes[i]);
        SL_CHECK(ptrs[i] != NULL);
        SL_CHECK(aligned8(ptrs[i]));
        memset(ptrs[i], (int)i + 1, sizes[i]);
    }
    for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        for (j = 0; j < sizes[i]; j++)
            if (ptrs[i][j] != (unsigned char)(i + 1))
                bad++;
        SL_CHECK(sl__arena_owns(&a, ptrs[i]));
        SL_CHECK(sl__arena_owns(&a, ptrs[i] + sizes[i] - 1));
    }
    SL_CHECK_INT(bad, 0);
    SL_CHECK(a.bytes >= ((size_t)10 << 20) + 100000);
    sl__arena_free(&a);
}

/* The inline fast path hands out the same kind of memory. */
static void test_alloc_fast(void)
{
    sl__arena a;
    size_t i;
    char *p, *prev = NULL;

    sl__arena_init(&a, 0);
    for (i = 0; i < 5000; i++) {
        p = sl__arena_alloc_fast(&a, 1 + i % 13);
        SL_CHECK(p != NULL && aligned8(p));
        SL_CHECK(p != prev);
        *p = 'x';
        prev = p;
    }
    sl__arena_free(&a);
}

static void test_memdup(void)
{
    sl__arena a;
    char *p;

    sl__arena_init(&a, 64);
    p = sl__arena_memdup(&a, "hello", 6);
    SL_CHECK_STR(p, "hello");
    SL_CHECK(sl__arena_owns(&a, p));
    p = sl__arena_memdup(&a, "", 0);
    SL_CHECK(p != NULL);
    sl__arena_free(&a);
}

static void test_owns(void)
{
    sl__arena a, b;
    char local;
    char *p, *q;

    sl__arena_init(&a, 128);
    sl__arena_init(&b, 128);
    SL_CHECK(!sl__arena_owns(&a, &local));
    p = sl__arena_alloc(&a, 10);
    q = sl__arena_alloc(&b, 10);
    SL_CHECK(sl__arena_owns(&a, p));
    SL_CHECK(!sl__arena_owns(&a, q));
    SL_CHECK(!sl__arena_owns(&b, p));
    SL_CHECK(sl__arena_owns(&b, q));
    SL_CHECK(!sl__arena_owns(&a, &local));
    SL_CHECK(!sl__arena_owns(&a, "a literal"));
    sl__arena_free(&a);
    SL_CHECK(!sl__arena_owns(&a, p));
    sl__arena_free(&b);
}

static void test_reset_keeps_working(void)
{
    sl__arena a;
    int round;
    size_t i;

    sl__arena_init(&a, 1024);
    for (round = 0; round < 5; round++) {
        char *big = sl__arena_alloc(&a, 1 << 20);
        SL_CHECK(big != NULL);
        memset(big, round, 1 << 20);
        for (i = 0; i < 1000; i++) {
            char *p = sl__arena_alloc(&a, 100);
            SL_CHECK(p != NULL && aligned8(p));
            memset(p, 'r', 100);
        }
        sl__arena_reset(&a);
        /* What is left is one chunk, the first, ready for reuse. */
        SL_CHECK(a.head != NULL);
        SL_CHECK(a.cleanups == NULL);
    }
    SL_CHECK(sl__arena_alloc(&a, 10) != NULL);
    sl__arena_free(&a);
    /* A freed arena may be initialised and used again. */
    sl__arena_init(&a, 64);
    SL_CHECK(sl__arena_alloc(&a, 1000) != NULL);
    sl__arena_free(&a);
}

/*
 * "Free everything but keep the first chunk": after a reset only the first
 * chunk's bytes remain, however large the allocations in between were.
 */
static void test_reset_keeps_first_chunk(void)
{
    sl__arena a;
    void *first;

    sl__arena_init(&a, 4096);
    first = sl__arena_alloc(&a, 16);
    SL_CHECK(sl__arena_alloc(&a, (size_t)1 << 20) != NULL);
    sl__arena_reset(&a);
    SL_CHECK_INT(a.bytes, 4096);
    SL_CHECK(sl__arena_owns(&a, first));
    SL_CHECK(sl__arena_alloc(&a, 16) == first);
    sl__arena_free(&a);
}

/*
 * A zero-byte request is not out of memory: it returns a usable (if
 * empty) pointer, also on an arena that has no chunk yet.
 */
static void test_alloc_zero(void)
{
    sl__arena a;

    sl__arena_init(&a, 64);
    SL_CHECK(sl__arena_alloc(&a, 0) != NULL);
    sl__arena_free(&a);
    sl__arena_init(&a, 64);
    SL_CHECK(sl__arena_alloc_fast(&a, 0) != NULL);
    sl__arena_free(&a);
}

/* Cleanup hooks record their order into a shared log. */
typedef struct order_log {
    int seen[16];
    int n;
} order_log;

typedef struct hook_arg {
    order_log *log;
    int id;
} hook_arg;

static void record_hook(void *arg)
{
    hook_arg *h = arg;

    h->log->seen[h->log->n++] = h->id;
}

static void test_cleanups_reverse_order(void)
{
    order_log log = {{0}, 0};
    hook_arg args[5];
    sl__arena a;
    int i;

    sl__arena_init(&a, 128);
    for (i = 0; i < 5; i++) {
        args[i].log = &log;
        args[i].id = i;
        SL_CHECK_OK(sl__arena_on_cleanup(&a, record_hook, &args[i]));
        SL_CHECK(sl__arena_alloc(&a, 300) != NULL); /* spread over chunks */
    }
    sl__arena_reset(&a);
    SL_CHECK_INT(log.n, 5);
    for (i = 0; i < 5; i++)
        SL_CHECK_INT(log.seen[i], 4 - i);

    /* Hooks run once: a second reset and the free run nothing again. */
    sl__arena_reset(&a);
    SL_CHECK_INT(log.n, 5);
    SL_CHECK_OK(sl__arena_on_cleanup(&a, record_hook, &args[0]));
    SL_CHECK_OK(sl__arena_on_cleanup(&a, record_hook, &args[1]));
    sl__arena_free(&a);
    SL_CHECK_INT(log.n, 7);
    SL_CHECK_INT(log.seen[5], 1);
    SL_CHECK_INT(log.seen[6], 0);
}

/* ----------------------------------------------- allocation failures */

static void test_alloc_failure(void)
{
    const sl_allocator *hook = sl_test_failing_allocator();
    sl__arena a;
    char *p;

    SL_CHECK_OK(sl_set_allocator(hook));
    sl__arena_init(&a, 64);
    sl_test_fail_after(0);
    SL_CHECK(sl__arena_alloc(&a, 10) == NULL);
    SL_CHECK_INT(sl__arena_on_cleanup(&a, record_hook, NULL), SL_ENOMEM);
    sl_test_fail_after(1);
    p = sl__arena_alloc(&a, 10);
    SL_CHECK(p != NULL);
    SL_CHECK(sl__arena_alloc(&a, 1000) == NULL);
    /* The arena is still usable and whole after the failure. */
    memset(p, 1, 10);
    sl_test_fail_after(-1);
    SL_CHECK(sl__arena_alloc(&a, 1000) != NULL);
    SL_CHECK(sl__arena_alloc(&a, SIZE_MAX) == NULL);
    SL_CHECK(sl__arena_alloc(&a, SIZE_MAX - 7) == NULL);
    sl__arena_free(&a);
    SL_CHECK_OK(sl_set_allocator(NULL));
}

const char *SL_SUITE = "core/arena";
const sl_test_case SL_TESTS[] = {
    {"many_small", test_many_small},
    {"large", test_large},
    {"alloc_fast", test_alloc_fast},
    {"memdup", test_memdup},
    {"owns", test_owns},
    {"reset_keeps_working", test_reset_keeps_working},
    {"reset_keeps_first_chunk", test_reset_keeps_first_chunk},
    {"alloc_zero", test_alloc_zero},
    {"cleanups_reverse_order", test_cleanups_reverse_order},
    {"alloc_failure", test_alloc_failure},
    {NULL, NULL},
};
