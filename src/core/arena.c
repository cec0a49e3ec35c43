/*
 * Pointer-bump arenas: the memory of batch tasks, hash tables and retained
 * RDDs. One free releases everything; cleanup hooks release what is not
 * memory (descriptors, references), in the order nginx pools use.
 */
#include "core/core.h"

#include <string.h>

struct sl__arena_chunk {
    sl__arena_chunk *next;
    size_t size;    /* usable bytes after the header */
    bool dedicated; /* holds one large allocation */
    /* data follows, 16-aligned */
};

struct sl__arena_cleanup {
    sl__arena_cleanup *next;
    void (*fn)(void *);
    void *arg;
};

#define CHUNK_HDR SL__ALIGN_UP(sizeof(sl__arena_chunk), 16)
#define CHUNK_MAX ((size_t)4 << 20)

void sl__arena_init(sl__arena *a, size_t first_chunk)
{
    memset(a, 0, sizeof *a);
    a->next_size = first_chunk ? first_chunk : 4096;
}

static char *chunk_data(sl__arena_chunk *c)
{
    return (char *)c + CHUNK_HDR;
}

/* A new chunk for at least n bytes. Big requests get a chunk of their own
 * behind the current one, so the free space in head is not wasted. */
static void *arena_grow(sl__arena *a, size_t n)
{
    size_t size = a->next_size;
    sl__arena_chunk *c;
    bool dedicated = n > size / 4 && a->head != NULL;

    if (n > size)
        size = n;
    if (dedicated)
        size = n;
    if (size > SIZE_MAX - CHUNK_HDR)
        return NULL;
    c = sl_malloc(CHUNK_HDR + size);
    if (!c)
        return NULL;
    c->size = size;
    c->dedicated = dedicated;
    a->bytes += size;
    if (dedicated) {
        c->next = a->head->next;
        a->head->next = c;
        return chunk_data(c);
    }
    c->next = a->head;
    a->head = c;
    a->pos = chunk_data(c) + n;
    a->end = chunk_data(c) + size;
    if (a->next_size < CHUNK_MAX)
        a->next_size *= 2;
    return chunk_data(c);
}

void *sl__arena_alloc(sl__arena *a, size_t n)
{
    void *p;
    if (n > SIZE_MAX - 8)
        return NULL;
    n = SL__ALIGN_UP(n ? n : 1, 8);
    if ((size_t)((uintptr_t)a->end - (uintptr_t)a->pos) >= n) {
        p = a->pos;
        a->pos += n;
        return p;
    }
    return arena_grow(a, n);
}

void *sl__arena_memdup(sl__arena *a, const void *p, size_t n)
{
    void *q = sl__arena_alloc(a, n ? n : 1);
    if (q && n)
        memcpy(q, p, n);
    return q;
}

sl_status sl__arena_on_cleanup(sl__arena *a, void (*fn)(void *), void *arg)
{
    sl__arena_cleanup *c = sl__arena_alloc(a, sizeof *c);
    if (!c)
        return SL_ENOMEM;
    c->fn = fn;
    c->arg = arg;
    c->next = a->cleanups;
    a->cleanups = c;
    return SL_OK;
}

static void run_cleanups(sl__arena *a)
{
    sl__arena_cleanup *c = a->cleanups;
    a->cleanups = NULL;
    for (; c; c = c->next)
        c->fn(c->arg);
}

void sl__arena_reset(sl__arena *a)
{
    sl__arena_chunk *c, *next, *keep;
    if (a->head && !a->head->next && !a->cleanups) {
        a->pos = chunk_data(a->head); /* the per-record path */
        return;
    }
    run_cleanups(a);
    if (!a->head)
        return;
    /* Keep the oldest ordinary chunk: it is the smallest, sized for the
     * common case, and reusing it makes a reset arena allocation-free. */
    keep = NULL;
    for (c = a->head; c; c = c->next)
        if (!c->dedicated)
            keep = c;
    for (c = a->head; c; c = next) {
        next = c->next;
        if (c != keep)
            sl_free(c);
    }
    if (!keep) {
        a->head = NULL;
        a->pos = a->end = NULL;
        a->bytes = 0;
        return;
    }
    keep->next = NULL;
    a->head = keep;
    a->bytes = keep->size;
    a->pos = chunk_data(keep);
    a->end = chunk_data(keep) + keep->size;
}

void sl__arena_free(sl__arena *a)
{
    sl__arena_chunk *c, *next;
    run_cleanups(a);
    for (c = a->head; c; c = next) {
        next = c->next;
        sl_free(c);
    }
    a->head = NULL;
    a->pos = a->end = NULL;
    a->bytes = 0;
}

bool sl__arena_owns(const sl__arena *a, const void *p)
{
    const sl__arena_chunk *c;
    const char *q = p;
    for (c = a->head; c; c = c->next) {
        const char *d = (const char *)c + CHUNK_HDR;
        if (q >= d && q < d + c->size)
            return true;
    }
    return false;
}
