/*
 * Retained RDDs: what a window, remember() or slice keeps beyond its batch.
 * The records are copied deeply into one arena of their own, so a retained
 * RDD never holds its ancestors' task arenas or receive blocks.
 */
#include "rdd/rdd_int.h"

#include <string.h>

struct sl__retained {
    sl__arena arena;
    sl_rdd node;
};

sl_status sl__rdd_retain(sl_rdd *r, sl__retained **out)
{
    sl__retained *k;
    size_t i, j;
    sl_status st = sl__materialize(r);
    if (st != SL_OK)
        return st;
    k = sl_malloc(sizeof *k);
    if (!k)
        return SL_ENOMEM;
    memset(k, 0, sizeof *k);
    sl__arena_init(&k->arena, 4096);
    k->node.eng = r->eng;
    k->node.kind = RDD_MATERIAL;
    k->node.nparts = r->nparts;
    k->node.mat =
        sl__arena_alloc(&k->arena, (r->nparts + 1) * sizeof *k->node.mat);
    if (!k->node.mat)
        goto oom;
    for (i = 0; i < r->nparts; i++) {
        mat_part *dst = &k->node.mat[i];
        dst->n = r->mat[i].n;
        dst->items =
            sl__arena_alloc(&k->arena, (dst->n + 1) * sizeof *dst->items);
        if (!dst->items)
            goto oom;
        for (j = 0; j < dst->n; j++)
            if (sl__value_copy(&k->arena, NULL, &r->mat[i].items[j],
                               &dst->items[j]))
                goto oom;
    }
    *out = k;
    return SL_OK;
oom:
    sl__retained_free(k);
    return SL_ENOMEM;
}

sl_rdd *sl__retained_rdd(sl__retained *k)
{
    return &k->node;
}

size_t sl__retained_bytes(const sl__retained *k)
{
    return k->arena.bytes;
}

void sl__retained_free(sl__retained *k)
{
    if (!k)
        return;
    sl__arena_free(&k->arena);
    sl_free(k);
}
