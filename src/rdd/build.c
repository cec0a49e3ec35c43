/*
 * RDD transformations: each builds a lineage node in the engine's current
 * scope and computes nothing. Narrow nodes are fused at run time
 * (task.c); wide nodes are computed by a hash shuffle (shuffle.c).
 */
#include "rdd/rdd_int.h"

#include <string.h>

sl_rdd *sl__rdd_alloc(sl_engine *eng, rdd_kind kind, size_t nparts)
{
    sl_rdd *r = sl__scope_alloc(eng->scope, sizeof *r);
    if (!r) {
        sl__engine_set_error(eng, "out of memory");
        return NULL;
    }
    memset(r, 0, sizeof *r);
    r->eng = eng;
    r->scope = eng->scope;
    r->kind = kind;
    r->nparts = nparts;
    return r;
}

static sl_rdd *with_parents(sl_rdd *r, sl_rdd *const *parents, size_t n)
{
    if (!r)
        return NULL;
    r->parents = sl__scope_alloc(r->eng->scope, n * sizeof *r->parents);
    if (!r->parents) {
        sl__engine_set_error(r->eng, "out of memory");
        return NULL;
    }
    memcpy(r->parents, parents, n * sizeof *parents);
    r->nparents = n;
    return r;
}

sl_rdd *sl__rdd_source(sl_engine *eng, const sl__src_desc *parts, size_t n)
{
    sl_rdd *r = sl__rdd_alloc(eng, RDD_SOURCE, n);
    if (!r)
        return NULL;
    r->src = sl__scope_alloc(eng->scope, (n + 1) * sizeof *r->src);
    if (!r->src) {
        sl__engine_set_error(eng, "out of memory");
        return NULL;
    }
    if (n)
        memcpy(r->src, parts, n * sizeof *parts);
    return r;
}

sl_rdd *sl__rdd_readers(sl_engine *eng, sl_read_fn read, const void *descs,
                        size_t size, size_t n)
{
    sl__src_desc *parts =
        sl__engine_scope_alloc(eng, (n ? n : 1) * sizeof *parts);
    size_t i;
    if (!parts) {
        sl__engine_set_error(eng, "out of memory");
        return NULL;
    }
    memset(parts, 0, (n ? n : 1) * sizeof *parts);
    for (i = 0; i < n; i++) {
        parts[i].kind = SRC_READER;
        parts[i].read = read;
        parts[i].desc = (const char *)descs + i * size;
    }
    return sl__rdd_source(eng, parts, n);
}

sl_rdd *sl_rdd_empty(sl_engine *eng)
{
    if (!eng)
        return NULL;
    return sl__rdd_source(eng, NULL, 0);
}

/* Spark's parallelize slices by position: partition i holds the elements
 * [i*n/p, (i+1)*n/p). */
sl_rdd *sl_rdd_parallelize(sl_engine *eng, const sl_value *values, size_t n,
                           size_t partitions)
{
    sl__src_desc *d;
    sl_value *copy;
    sl_rdd *r;
    size_t i;

    if (!eng || (n && !values))
        return NULL;
    if (partitions == 0)
        partitions = 1;
    d = sl__scope_alloc(eng->scope, partitions * sizeof *d);
    copy = sl__scope_alloc(eng->scope, (n + 1) * sizeof *copy);
    if (!d || !copy)
        goto oom;
    for (i = 0; i < n; i++)
        if (sl__value_copy(&eng->scope->arena, NULL, &values[i], &copy[i]))
            goto oom;
    for (i = 0; i < partitions; i++) {
        size_t lo = i * n / partitions, hi = (i + 1) * n / partitions;
        memset(&d[i], 0, sizeof d[i]);
        d[i].kind = SRC_VALUES;
        d[i].items = copy + lo;
        d[i].n = hi - lo;
    }
    r = sl__rdd_source(eng, d, partitions);
    return r;
oom:
    sl__engine_set_error(eng, "out of memory");
    return NULL;
}

sl_rdd *sl_rdd_text(sl_engine *eng, const char *text, size_t len,
                    size_t partitions)
{
    sl__src_desc *d;
    sl__text_seg *segs;
    size_t i, start = 0;

    if (!eng || (len && !text))
        return NULL;
    if (partitions == 0)
        partitions = 1;
    d = sl__scope_alloc(eng->scope, partitions * sizeof *d);
    segs = sl__scope_alloc(eng->scope, partitions * sizeof *segs);
    if (!d || !segs) {
        sl__engine_set_error(eng, "out of memory");
        return NULL;
    }
    for (i = 0; i < partitions; i++) {
        size_t end = (i + 1) * len / partitions;
        const char *nl;
        if (end < start)
            end = start;
        /* Move each cut forward to just after a newline so no line is
         * split between partitions. */
        if (end < len && end > 0 && text[end - 1] != '\n') {
            nl = memchr(text + end, '\n', len - end);
            end = nl ? (size_t)(nl - text) + 1 : len;
        }
        if (i == partitions - 1)
            end = len;
        segs[i].p = text + start;
        segs[i].len = end - start;
        memset(&d[i], 0, sizeof d[i]);
        d[i].kind = SRC_TEXT;
        d[i].segs = &segs[i];
        d[i].nsegs = 1;
        start = end;
    }
    return sl__rdd_source(eng, d, partitions);
}

/* ------------------------------------------------------------- narrow */

static sl_rdd *narrow(sl_rdd *parent, op_kind op, rdd_fn fn, void *user)
{
    sl_rdd *r;
    if (!parent)
        return NULL;
    if (op != OP_GLOM && (op == OP_FOLD ? !fn.fold : !fn.map)) {
        sl__engine_set_error(parent->eng, "function is NULL");
        return NULL;
    }
    r = with_parents(sl__rdd_alloc(parent->eng, RDD_NARROW, parent->nparts),
                     &parent, 1);
    if (!r)
        return NULL;
    r->op = op;
    r->fn = fn;
    r->user = user;
    return r;
}

sl_rdd *sl_rdd_map(sl_rdd *r, sl_map_fn fn, void *user)
{
    rdd_fn f = {.map = fn};
    return narrow(r, OP_MAP, f, user);
}

sl_rdd *sl_rdd_flat_map(sl_rdd *r, sl_flat_map_fn fn, void *user)
{
    rdd_fn f = {.flat_map = fn};
    return narrow(r, OP_FLAT_MAP, f, user);
}

sl_rdd *sl_rdd_filter(sl_rdd *r, sl_filter_fn fn, void *user)
{
    rdd_fn f = {.filter = fn};
    return narrow(r, OP_FILTER, f, user);
}

sl_rdd *sl_rdd_map_partitions(sl_rdd *r, sl_partition_fn fn, void *user)
{
    rdd_fn f = {.part = fn};
    return narrow(r, OP_MAP_PARTITIONS, f, user);
}

sl_rdd *sl__rdd_fold_partitions(sl_rdd *r, const sl__fold_ops *ops, void *user)
{
    rdd_fn f = {.fold = ops};
    return narrow(r, OP_FOLD, f, user);
}

sl_rdd *sl_rdd_glom(sl_rdd *r)
{
    rdd_fn f = {.part = NULL};
    return narrow(r, OP_GLOM, f, NULL);
}

sl_rdd *sl_rdd_map_values(sl_rdd *r, sl_map_fn fn, void *user)
{
    rdd_fn f = {.map = fn};
    return narrow(r, OP_MAP_VALUES, f, user);
}

sl_rdd *sl_rdd_flat_map_values(sl_rdd *r, sl_flat_map_fn fn, void *user)
{
    rdd_fn f = {.flat_map = fn};
    return narrow(r, OP_FLAT_MAP_VALUES, f, user);
}

/* --------------------------------------------------------------- wide */

static sl_rdd *wide(sl_rdd *a, sl_rdd *b, shuffle_kind kind, size_t parts)
{
    sl_rdd *pp[2] = {a, b};
    size_t n = b ? 2 : 1;
    if (!a || (kind >= SH_COGROUP && kind <= SH_FULL_JOIN && !b))
        return NULL;
    if (b && a->eng != b->eng) {
        sl__engine_set_error(a->eng, "RDDs of different engines");
        return NULL;
    }
    /* Spark's default partitioner: as many partitions as the largest
     * parent has. */
    if (parts == 0)
        parts = b && b->nparts > a->nparts ? b->nparts : a->nparts;
    return with_parents(sl__rdd_alloc(a->eng, RDD_SHUFFLE, parts), pp, n);
}

static sl_rdd *with_shuffle(sl_rdd *r, shuffle_kind kind)
{
    if (r)
        r->sh = kind;
    return r;
}

sl_rdd *sl_rdd_reduce_by_key(sl_rdd *r, sl_reduce_fn fn, void *user,
                             size_t partitions)
{
    sl_rdd *n;
    if (!fn)
        return NULL;
    n = with_shuffle(wide(r, NULL, SH_REDUCE, partitions), SH_REDUCE);
    if (n) {
        n->reduce = n->merge2 = fn;
        n->user = user;
    }
    return n;
}

sl_rdd *sl_rdd_combine_by_key(sl_rdd *r, sl_map_fn create,
                              sl_reduce_fn merge_value,
                              sl_reduce_fn merge_combiners, void *user,
                              size_t partitions)
{
    sl_rdd *n;
    if (!create || !merge_value || !merge_combiners)
        return NULL;
    n = with_shuffle(wide(r, NULL, SH_COMBINE, partitions), SH_COMBINE);
    if (n) {
        n->create = create;
        n->reduce = merge_value;
        n->merge2 = merge_combiners;
        n->user = user;
    }
    return n;
}

sl_rdd *sl_rdd_group_by_key(sl_rdd *r, size_t partitions)
{
    return with_shuffle(wide(r, NULL, SH_GROUP, partitions), SH_GROUP);
}

sl_rdd *sl_rdd_count_by_value(sl_rdd *r, size_t partitions)
{
    return with_shuffle(wide(r, NULL, SH_COUNT_BY_VALUE, partitions),
                        SH_COUNT_BY_VALUE);
}

sl_rdd *sl_rdd_join(sl_rdd *a, sl_rdd *b, size_t partitions)
{
    return with_shuffle(wide(a, b, SH_JOIN, partitions), SH_JOIN);
}

sl_rdd *sl_rdd_left_outer_join(sl_rdd *a, sl_rdd *b, size_t partitions)
{
    return with_shuffle(wide(a, b, SH_LEFT_JOIN, partitions), SH_LEFT_JOIN);
}

sl_rdd *sl_rdd_right_outer_join(sl_rdd *a, sl_rdd *b, size_t partitions)
{
    return with_shuffle(wide(a, b, SH_RIGHT_JOIN, partitions), SH_RIGHT_JOIN);
}

sl_rdd *sl_rdd_full_outer_join(sl_rdd *a, sl_rdd *b, size_t partitions)
{
    return with_shuffle(wide(a, b, SH_FULL_JOIN, partitions), SH_FULL_JOIN);
}

sl_rdd *sl_rdd_cogroup(sl_rdd *a, sl_rdd *b, size_t partitions)
{
    return with_shuffle(wide(a, b, SH_COGROUP, partitions), SH_COGROUP);
}

sl_rdd *sl_rdd_repartition(sl_rdd *r, size_t partitions)
{
    if (partitions == 0)
        return NULL;
    return with_shuffle(wide(r, NULL, SH_REPARTITION, partitions),
                        SH_REPARTITION);
}

sl_rdd *sl_rdd_sort_by(sl_rdd *r, sl_map_fn key_fn, void *user, bool ascending,
                       size_t partitions)
{
    sl_rdd *n = with_shuffle(wide(r, NULL, SH_SORT, partitions), SH_SORT);
    if (n) {
        n->create = key_fn; /* NULL: sort pairs by key */
        n->user = user;
        n->ascending = ascending;
    }
    return n;
}

sl_rdd *sl_rdd_sort_by_key(sl_rdd *r, bool ascending, size_t partitions)
{
    return sl_rdd_sort_by(r, NULL, NULL, ascending, partitions);
}

/* ------------------------------------------------------------ union */

sl_rdd *sl_rdd_union_all(sl_rdd *const *rdds, size_t n)
{
    size_t i, parts = 0;
    if (!rdds || n == 0)
        return NULL;
    for (i = 0; i < n; i++) {
        if (!rdds[i])
            return NULL;
        if (rdds[i]->eng != rdds[0]->eng) {
            sl__engine_set_error(rdds[0]->eng, "RDDs of different engines");
            return NULL;
        }
        parts += rdds[i]->nparts;
    }
    return with_parents(sl__rdd_alloc(rdds[0]->eng, RDD_UNION, parts), rdds, n);
}

sl_rdd *sl_rdd_union(sl_rdd *a, sl_rdd *b)
{
    sl_rdd *both[2] = {a, b};
    return sl_rdd_union_all(both, 2);
}

sl_rdd *sl_rdd_persist(sl_rdd *r)
{
    if (r)
        r->persist = true;
    return r;
}

size_t sl_rdd_num_partitions(sl_rdd *r)
{
    return r ? r->nparts : 0;
}
