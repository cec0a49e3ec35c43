/*
 * The process-wide allocation hook: every byte sluice allocates goes through
 * sl_malloc/sl_realloc/sl_free, so an application (or the fault tests) can
 * replace the allocator once, before sluice allocates anything.
 */
#include "core/core.h"

#include <stdlib.h>
#include <string.h>

static void *libc_malloc(size_t size, void *user)
{
    SL__UNUSED(user);
    return malloc(size);
}

static void *libc_realloc(void *ptr, size_t size, void *user)
{
    SL__UNUSED(user);
    return realloc(ptr, size);
}

static void libc_free(void *ptr, void *user)
{
    SL__UNUSED(user);
    free(ptr);
}

/*
 * The hook is the one piece of global mutable state sluice has. It is read
 * on every allocation, so it is a plain struct; sl_set_allocator refuses to
 * change it while blocks from the current hook are still live, which is
 * what "set once, before use" means in practice.
 */
static sl_allocator g_alloc = {libc_malloc, libc_realloc, libc_free, NULL};
static atomic_long g_live_blocks;

sl_status sl_set_allocator(const sl_allocator *a)
{
    if (a && (!a->malloc_fn || !a->realloc_fn || !a->free_fn))
        return SL_EINVAL;
    if (atomic_load(&g_live_blocks) != 0)
        return SL_EBUSY;
    if (a)
        g_alloc = *a;
    else {
        sl_allocator libc = {libc_malloc, libc_realloc, libc_free, NULL};
        g_alloc = libc;
    }
    return SL_OK;
}

void *sl_malloc(size_t size)
{
    void *p = g_alloc.malloc_fn(size ? size : 1, g_alloc.user);
    if (p)
        atomic_fetch_add_explicit(&g_live_blocks, 1, memory_order_relaxed);
    return p;
}

void *sl_realloc(void *ptr, size_t size)
{
    void *p;
    if (!ptr)
        return sl_malloc(size);
    p = g_alloc.realloc_fn(ptr, size ? size : 1, g_alloc.user);
    return p;
}

void sl_free(void *ptr)
{
    if (!ptr)
        return;
    atomic_fetch_sub_explicit(&g_live_blocks, 1, memory_order_relaxed);
    g_alloc.free_fn(ptr, g_alloc.user);
}

char *sl__strdup(const char *s)
{
    size_t n;
    char *d;
    if (!s)
        return NULL;
    n = strlen(s) + 1;
    if ((d = sl_malloc(n)) != NULL)
        memcpy(d, s, n);
    return d;
}
