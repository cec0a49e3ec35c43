/*
 * Retained RDDs: what a window, remember() or slice keeps beyond its batch.
 * The records are copied deeply into one block of their own, exactly sized,
 * so a retained RDD never holds its ancestors' task arenas or receive
 * blocks, and costs its data's bytes and little more.
 */
#include "rdd/rdd_int.h"

#include <string.h>

struct sl__retained {
    void *block; /* partitions, item arrays and deep data, exactly sized */
    size_t bytes;
    sl_rdd node;
};

sl_status sl__rdd_retain(sl_rdd *r, sl__retained **out)
{
    sl__retained *k;
    size_t i, j, bytes;
    char *mem;
    sl_status st = sl__materialize(r);
    if (st != SL_OK)
        return st;
    bytes = SL__ALIGN_UP((r->nparts + 1) * sizeof(mat_part), 16);
    for (i = 0; i < r->nparts; i++) {
        bytes += (r->mat[i].n + 1) * sizeof(sl_value);
        for (j = 0; j < r->mat[i].n; j++)
            bytes += sl__value_deep_size(&r->mat[i].items[j]);
    }
    k = sl_malloc(sizeof *k);
    if (!k)
        return SL_ENOMEM;
    memset(k, 0, sizeof *k);
    /* One block of the exact size: a window's memory is its data. */
    if (!(k->block = sl_malloc(bytes))) {
        sl_free(k);
        return SL_ENOMEM;
    }
    k->bytes = bytes;
    k->node.eng = r->eng;
    k->node.kind = RDD_MATERIAL;
    k->node.nparts = r->nparts;
    k->node.mat = k->block;
    mem =
        (char *)k->block + SL__ALIGN_UP((r->nparts + 1) * sizeof(mat_part), 16);
    for (i = 0; i < r->nparts; i++) {
        mat_part *dst = &k->node.mat[i];
        dst->n = r->mat[i].n;
        dst->items = (sl_value *)(void *)mem;
        mem += (dst->n + 1) * sizeof(sl_value);
    }
    for (i = 0; i < r->nparts; i++)
        for (j = 0; j < r->mat[i].n; j++)
            sl__value_flatten(&r->mat[i].items[j], &k->node.mat[i].items[j],
                              &mem);
    *out = k;
    return SL_OK;
}

sl_rdd *sl__retained_rdd(sl__retained *k)
{
    return &k->node;
}

size_t sl__retained_bytes(const sl__retained *k)
{
    return k->bytes;
}

void sl__retained_free(sl__retained *k)
{
    if (!k)
        return;
    sl_free(k->block);
    sl_free(k);
}

size_t sl__retained_parts(const sl__retained *k)
{
    return k->node.nparts;
}

const sl_value *sl__retained_part(const sl__retained *k, size_t i, size_t *n)
{
    *n = k->node.mat[i].n;
    return k->node.mat[i].items;
}

sl_status sl__retained_from_values(sl_engine *eng, const sl_value *const *parts,
                                   const size_t *lens, size_t nparts,
                                   sl__retained **out)
{
    sl_rdd node;
    mat_part *mat;
    size_t i;
    sl_status st;
    /* A materialised node over the caller's values: retaining it copies
     * them deeply, exactly as a batch's results are kept. */
    if (!(mat = sl_malloc((nparts + 1) * sizeof *mat)))
        return SL_ENOMEM;
    for (i = 0; i < nparts; i++) {
        mat[i].items = (sl_value *)(uintptr_t)parts[i];
        mat[i].n = lens[i];
    }
    memset(&node, 0, sizeof node);
    node.eng = eng;
    node.kind = RDD_MATERIAL;
    node.nparts = nparts;
    node.mat = mat;
    st = sl__rdd_retain(&node, out);
    sl_free(mat);
    return st;
}
