/*
 * Wide operators by hash shuffle. The map side runs the fused pipeline of
 * each parent partition into a shuffle sink: per-reducer hash tables that
 * combine as they go (reduce_by_key, combine_by_key, count_by_value) or
 * per-reducer buckets (group_by_key, cogroup, joins, repartition, sort).
 * The reduce side merges reducer r's tables or buckets from every map task
 * into partition r. Map-side memory is freed as soon as the reduce is done.
 */
#include "rdd/rdd_int.h"

#include <stdlib.h>
#include <string.h>

typedef struct entry {
    uint64_t hash;
    sl_value v;
    uint32_t side;
} entry;

typedef struct bucket {
    entry *e;
    size_t n, cap;
} bucket;

typedef struct map_out {
    sl__htab *tabs;  /* R tables (combining kinds) */
    bucket *buckets; /* R buckets (the others) */
    sl__arena arena; /* copies of bucketed values */
    size_t rr;       /* repartition: next reducer */
    /* Map tasks write their map_out for every record: the pad keeps two
     * tasks' hot fields off a shared cache line. */
    char pad[SL__CACHE_LINE];
} map_out;

typedef struct shuffle_job {
    sl_rdd *r;
    size_t M, R, split;
    map_out *outs;
    sl_task *tasks;
    mat_part *parts;
} shuffle_job;

typedef struct shuffle_sink {
    sink base;
    shuffle_job *job;
    map_out *out;
    uint32_t side;
} shuffle_sink;

static bool combining(shuffle_kind k)
{
    return k == SH_REDUCE || k == SH_COMBINE || k == SH_COUNT_BY_VALUE;
}

static sl_status oom(sl_task *t)
{
    return sl__task_fail(t, SL_ENOMEM, "out of memory");
}

/* ---------------------------------------------------------- map side */

static sl_status combine_into(sl_task *t, const shuffle_job *j, sl__htab *tab,
                              const sl_value *key, const sl_value *val,
                              uint64_t h)
{
    const sl_rdd *r = j->r;
    bool created;
    sl_value out, one = sl_int(1);
    sl_status st = SL_OK;
    sl__htab_slot *s = sl__htab_upsert(tab, key, h, &created);

    if (!s)
        return oom(t);
    if (created) {
        if (sl__value_copy(&tab->arena, t->scratch, key, &s->key))
            return oom(t);
        if (r->sh == SH_COUNT_BY_VALUE)
            out = one;
        else if (r->sh == SH_COMBINE)
            st = r->create(t, val, &out, r->user);
        else
            out = *val;
    } else if (r->sh == SH_COUNT_BY_VALUE) {
        out = sl_int(s->value.u.i + 1);
    } else {
        st = r->reduce(t, &s->value, val, &out, r->user);
    }
    if (st != SL_OK)
        return sl__task_fail(t, st == SL_ENOMEM ? st : SL_EUSER,
                             "reduce function failed: %s", sl_strerror(st));
    if (sl__value_copy(&tab->arena, t->scratch, &out, &s->value))
        return oom(t);
    return SL_OK;
}

static sl_status bucket_push(sl_task *t, map_out *o, size_t b, uint64_t h,
                             const sl_value *v, uint32_t side)
{
    bucket *bk = &o->buckets[b];
    if (bk->n == bk->cap) {
        size_t ncap = bk->cap ? bk->cap * 2 : 64;
        entry *ne = sl_realloc(bk->e, ncap * sizeof *ne);
        if (!ne)
            return oom(t);
        bk->e = ne;
        bk->cap = ncap;
    }
    bk->e[bk->n].hash = h;
    bk->e[bk->n].side = side;
    if (sl__value_copy(&o->arena, t->scratch, v, &bk->e[bk->n].v))
        return oom(t);
    bk->n++;
    return SL_OK;
}

/* Sort entries hold (sort key, record); sort_by_key sorts pairs as they
 * are, by their key. */
static sl_status push_sort(sl_task *t, shuffle_sink *ss, const sl_value *v)
{
    const sl_rdd *r = ss->job->r;
    sl_value key, kv;
    sl_status st;
    if (!r->create) {
        if (v->kind != SL_KIND_PAIR)
            return sl__task_fail(t, SL_ETYPE,
                                 "sort_by_key needs (key, value) pairs");
        return bucket_push(t, ss->out, 0, 0, v, 0);
    }
    st = r->create(t, v, &key, r->user);
    if (st != SL_OK)
        return sl__task_fail(t, SL_EUSER, "sort key function failed: %s",
                             sl_strerror(st));
    if (sl_task_pair(t, &key, v, &kv) != SL_OK)
        return oom(t);
    return bucket_push(t, ss->out, 0, 0, &kv, 0);
}

static sl_status push_shuffle(sink *self, sl_task *t, const sl_value *v)
{
    shuffle_sink *ss = (shuffle_sink *)self;
    const shuffle_job *j = ss->job;
    shuffle_kind k = j->r->sh;
    const sl_value *key = v;
    uint64_t h;

    if (k == SH_REPARTITION)
        return bucket_push(t, ss->out, ss->out->rr++ % j->R, 0, v, 0);
    if (k == SH_SORT)
        return push_sort(t, ss, v);
    if (k != SH_COUNT_BY_VALUE) {
        if (v->kind != SL_KIND_PAIR)
            return sl__task_fail(t, SL_ETYPE,
                                 "this operator needs (key, value) pairs");
        key = sl_pair_key(v);
    }
    h = sl__htab_hash(key);
    if (combining(k))
        return combine_into(t, j, &ss->out->tabs[sl__hash_part(h, j->R)], key,
                            sl_pair_value(v), h);
    return bucket_push(t, ss->out, sl__hash_part(h, j->R), h, v, ss->side);
}

static sl_status map_out_init(map_out *o, size_t R, bool combine)
{
    size_t i;
    memset(o, 0, sizeof *o);
    sl__arena_init(&o->arena, 16384);
    if (combine) {
        o->tabs = sl_malloc(R * sizeof *o->tabs);
        if (!o->tabs)
            return SL_ENOMEM;
        for (i = 0; i < R; i++)
            if (sl__htab_init(&o->tabs[i], 0) != SL_OK) {
                while (i--)
                    sl__htab_free(&o->tabs[i]);
                sl_free(o->tabs);
                o->tabs = NULL;
                return SL_ENOMEM;
            }
        return SL_OK;
    }
    o->buckets = sl_malloc(R * sizeof *o->buckets);
    if (!o->buckets)
        return SL_ENOMEM;
    memset(o->buckets, 0, R * sizeof *o->buckets);
    return SL_OK;
}

static void map_out_free(map_out *o, size_t R)
{
    size_t i;
    if (o->tabs)
        for (i = 0; i < R; i++)
            sl__htab_free(&o->tabs[i]);
    if (o->buckets)
        for (i = 0; i < R; i++)
            sl_free(o->buckets[i].e);
    sl_free(o->tabs);
    sl_free(o->buckets);
    sl__arena_free(&o->arena);
}

static void map_task(void *arg, size_t i, worker *w)
{
    shuffle_job *j = arg;
    sl_task *t = &j->tasks[i];
    bool second = i >= j->split;
    const sl_rdd *parent = j->r->parents[second ? 1 : 0];
    size_t R = j->r->sh == SH_SORT ? 1 : j->R;
    shuffle_sink ss = {{push_shuffle, NULL, NULL}, j, &j->outs[i], second};

    /* Partition indices are per input: b's first partition is 0. */
    sl__task_init(t, j->r->eng, w, second ? i - j->split : i);
    if (map_out_init(&j->outs[i], R, combining(j->r->sh)) != SL_OK) {
        oom(t);
        return;
    }
    ss.out->rr = i;
    sl__run_partition(t, parent, second ? i - j->split : i, &ss.base);
}

/* -------------------------------------------------------- reduce side */

static sl_status emit_pairs_from(sl_task *t, sl__htab *tab, mat_part *out)
{
    sl__arena *a = t->out;
    size_t i = 0, n = 0;
    sl__htab_slot *s;
    out->items = sl__arena_alloc(a, (tab->count + 1) * sizeof(sl_value));
    if (!out->items)
        return oom(t);
    while ((s = sl__htab_next(tab, &i)) != NULL) {
        sl_value *kv = sl__arena_alloc(a, 2 * sizeof *kv);
        if (!kv || sl__value_copy(a, NULL, &s->key, &kv[0]) ||
            sl__value_copy(a, NULL, &s->value, &kv[1]))
            return oom(t);
        out->items[n++] = sl_composite(SL_KIND_PAIR, kv, 2);
    }
    out->n = n;
    return SL_OK;
}

static sl_status merge_slot(sl_task *t, const sl_rdd *r, sl__htab *tab,
                            const sl__htab_slot *from)
{
    bool created;
    sl_value out;
    sl_status st = SL_OK;
    sl__htab_slot *s = sl__htab_upsert(tab, &from->key, from->hash, &created);
    if (!s)
        return oom(t);
    if (created) {
        s->value = from->value;
        return SL_OK;
    }
    if (r->sh == SH_COUNT_BY_VALUE)
        out = sl_int(s->value.u.i + from->value.u.i);
    else
        st = r->merge2(t, &s->value, &from->value, &out, r->user);
    if (st != SL_OK)
        return sl__task_fail(t, st == SL_ENOMEM ? st : SL_EUSER,
                             "reduce function failed: %s", sl_strerror(st));
    if (sl__value_copy(&tab->arena, t->scratch, &out, &s->value))
        return oom(t);
    sl__arena_reset(t->scratch);
    return SL_OK;
}

static void reduce_combine(shuffle_job *j, sl_task *t, size_t r)
{
    sl__htab tab;
    size_t m, hint = 0, i;
    sl__htab_slot *s;

    for (m = 0; m < j->M; m++)
        hint += j->outs[m].tabs[r].count;
    if (sl__htab_init(&tab, hint) != SL_OK) {
        oom(t);
        return;
    }
    for (m = 0; m < j->M && t->status == SL_OK; m++)
        for (i = 0; (s = sl__htab_next(&j->outs[m].tabs[r], &i)) != NULL;)
            if (merge_slot(t, j->r, &tab, s) != SL_OK)
                break;
    if (t->status == SL_OK)
        emit_pairs_from(t, &tab, &j->parts[r]);
    sl__htab_free(&tab);
}

/* One key's values from each side, in arrival order. */
typedef struct group {
    sl_value key;
    size_t cnt[2], fill[2];
    sl_value *vals[2];
} group;

typedef struct grouping {
    sl__htab tab; /* key -> index into groups */
    group *groups;
    size_t n, cap;
} grouping;

static sl_status group_count(sl_task *t, grouping *g, const entry *e)
{
    bool created;
    sl__htab_slot *s =
        sl__htab_upsert(&g->tab, sl_pair_key(&e->v), e->hash, &created);
    if (!s)
        return oom(t);
    if (created) {
        if (g->n == g->cap) {
            size_t ncap = g->cap ? g->cap * 2 : 64;
            group *ng = sl_realloc(g->groups, ncap * sizeof *ng);
            if (!ng)
                return oom(t);
            g->groups = ng;
            g->cap = ncap;
        }
        memset(&g->groups[g->n], 0, sizeof(group));
        g->groups[g->n].key = *sl_pair_key(&e->v);
        s->value = sl_int((int64_t)g->n++);
    }
    /* A value's list length is 32 bits: a bigger group is an error, never
     * a list silently cut short. */
    if (g->groups[s->value.u.i].cnt[e->side] >= UINT32_MAX)
        return sl__task_fail(t, SL_EOVERFLOW,
                             "a key has 2^32 or more values to group");
    g->groups[s->value.u.i].cnt[e->side]++;
    return SL_OK;
}

static sl_status group_fill(sl_task *t, grouping *g, const entry *e)
{
    sl__htab_slot *s = sl__htab_find(&g->tab, sl_pair_key(&e->v), e->hash);
    group *gr = &g->groups[s->value.u.i];
    sl_value *dst;
    if (!gr->vals[e->side]) {
        gr->vals[e->side] =
            sl__arena_alloc(t->out, gr->cnt[e->side] * sizeof(sl_value));
        if (!gr->vals[e->side])
            return oom(t);
    }
    dst = &gr->vals[e->side][gr->fill[e->side]++];
    return sl__value_copy(t->out, NULL, sl_pair_value(&e->v), dst) ? oom(t)
                                                                   : SL_OK;
}

static sl_status group_pass(shuffle_job *j, sl_task *t, size_t r, grouping *g,
                            bool fill)
{
    size_t m, i;
    for (m = 0; m < j->M; m++) {
        const bucket *b = &j->outs[m].buckets[r];
        for (i = 0; i < b->n; i++) {
            sl_status st =
                fill ? group_fill(t, g, &b->e[i]) : group_count(t, g, &b->e[i]);
            if (st != SL_OK)
                return st;
        }
    }
    return SL_OK;
}

static size_t group_outputs(shuffle_kind k, const group *gr)
{
    size_t a = gr->cnt[0], b = gr->cnt[1];
    switch (k) {
    case SH_JOIN:
        return a * b;
    case SH_LEFT_JOIN:
        return a * (b ? b : 1);
    case SH_RIGHT_JOIN:
        return (a ? a : 1) * b;
    case SH_FULL_JOIN:
        return (a ? a : 1) * (b ? b : 1);
    default:
        return 1;
    }
}

static sl_status make_pair(sl__arena *a, const sl_value *k, const sl_value *v,
                           sl_value *out)
{
    sl_value *items = sl__arena_alloc(a, 2 * sizeof *items);
    if (!items)
        return SL_ENOMEM;
    items[0] = *k;
    items[1] = *v;
    *out = sl_composite(SL_KIND_PAIR, items, 2);
    return SL_OK;
}

/* The records one key produces: (k, [vs]) for group_by_key, (k, ([vs],
 * [ws])) for cogroup, (k, (v, w)) per combination for the joins, with null
 * for a missing side of an outer join. */
static sl_status group_emit(sl_task *t, shuffle_kind k, const group *gr,
                            sl_value *out)
{
    sl__arena *a = t->out;
    sl_value null = sl_null(), key, inner, lists[2];
    size_t i, x, nb, na;
    if (sl__value_copy(a, NULL, &gr->key, &key))
        return oom(t);
    lists[0] = sl_composite(SL_KIND_LIST, gr->vals[0], gr->cnt[0]);
    lists[1] = sl_composite(SL_KIND_LIST, gr->vals[1], gr->cnt[1]);
    if (k == SH_GROUP)
        return make_pair(a, &key, &lists[0], out) ? oom(t) : SL_OK;
    if (k == SH_COGROUP) {
        if (make_pair(a, &lists[0], &lists[1], &inner))
            return oom(t);
        return make_pair(a, &key, &inner, out) ? oom(t) : SL_OK;
    }
    na = gr->cnt[0] ? gr->cnt[0] : 1;
    nb = gr->cnt[1] ? gr->cnt[1] : 1;
    for (i = 0; i < na; i++)
        for (x = 0; x < nb; x++) {
            const sl_value *v = gr->cnt[0] ? &gr->vals[0][i] : &null;
            const sl_value *w = gr->cnt[1] ? &gr->vals[1][x] : &null;
            if (make_pair(a, v, w, &inner) || make_pair(a, &key, &inner, out++))
                return oom(t);
        }
    return SL_OK;
}

static void group_output(shuffle_job *j, sl_task *t, size_t r, grouping *g)
{
    size_t i, total = 0;
    mat_part *p = &j->parts[r];
    for (i = 0; i < g->n; i++)
        total += group_outputs(j->r->sh, &g->groups[i]);
    p->items = sl__arena_alloc(t->out, (total + 1) * sizeof(sl_value));
    if (!p->items) {
        oom(t);
        return;
    }
    for (i = 0; i < g->n; i++) {
        size_t k = group_outputs(j->r->sh, &g->groups[i]);
        if (k && group_emit(t, j->r->sh, &g->groups[i], p->items + p->n))
            return;
        p->n += k;
    }
}

static void reduce_group(shuffle_job *j, sl_task *t, size_t r)
{
    grouping g;
    memset(&g, 0, sizeof g);
    if (sl__htab_init(&g.tab, 0) != SL_OK) {
        oom(t);
        return;
    }
    if (group_pass(j, t, r, &g, false) == SL_OK &&
        group_pass(j, t, r, &g, true) == SL_OK)
        group_output(j, t, r, &g);
    sl_free(g.groups);
    sl__htab_free(&g.tab);
}

static void reduce_concat(shuffle_job *j, sl_task *t, size_t r)
{
    size_t m, i, total = 0;
    mat_part *p = &j->parts[r];
    for (m = 0; m < j->M; m++)
        total += j->outs[m].buckets[r].n;
    p->items = sl__arena_alloc(t->out, (total + 1) * sizeof(sl_value));
    if (!p->items) {
        oom(t);
        return;
    }
    for (m = 0; m < j->M; m++) {
        const bucket *b = &j->outs[m].buckets[r];
        for (i = 0; i < b->n; i++)
            if (sl__value_copy(t->out, NULL, &b->e[i].v, &p->items[p->n++])) {
                oom(t);
                return;
            }
    }
}

static void reduce_task(void *arg, size_t r, worker *w)
{
    shuffle_job *j = arg;
    sl_task *t = &j->tasks[r];
    sl__task_init(t, j->r->eng, w, r);
    t->out = sl__scope_new_arena(j->r->eng->scope);
    if (!t->out) {
        oom(t);
        return;
    }
    if (combining(j->r->sh))
        reduce_combine(j, t, r);
    else if (j->r->sh == SH_REPARTITION)
        reduce_concat(j, t, r);
    else
        reduce_group(j, t, r);
}

/* ---------------------------------------------------------------- sort */

typedef struct sort_item {
    const sl_value *key, *rec;
    size_t idx;
} sort_item;

static int sort_asc(const void *a, const void *b)
{
    const sort_item *x = a, *y = b;
    int c = sl_value_compare(x->key, y->key);
    return c ? c : (x->idx > y->idx) - (x->idx < y->idx);
}

static int sort_desc(const void *a, const void *b)
{
    const sort_item *x = a, *y = b;
    int c = sl_value_compare(y->key, x->key);
    return c ? c : (x->idx > y->idx) - (x->idx < y->idx);
}

static sl_status sort_gather(shuffle_job *j, sort_item **out, size_t *n)
{
    size_t m, i, total = 0, k = 0;
    sort_item *items;
    bool keyed = j->r->create != NULL;
    for (m = 0; m < j->M; m++)
        total += j->outs[m].buckets[0].n;
    items = sl_malloc((total + 1) * sizeof *items);
    if (!items)
        return SL_ENOMEM;
    for (m = 0; m < j->M; m++) {
        const bucket *b = &j->outs[m].buckets[0];
        for (i = 0; i < b->n; i++, k++) {
            items[k].key = sl_pair_key(&b->e[i].v);
            items[k].rec = keyed ? sl_pair_value(&b->e[i].v) : &b->e[i].v;
            items[k].idx = k;
        }
    }
    *out = items;
    *n = total;
    return SL_OK;
}

/* Sorting runs on the calling thread: gather, sort, cut into R ranges. */
static sl_status sort_on_driver(shuffle_job *j)
{
    sl_engine *eng = j->r->eng;
    sort_item *items;
    size_t n, r, i;
    sl__arena *a = sl__scope_new_arena(eng->scope);
    if (!a || sort_gather(j, &items, &n) != SL_OK)
        return SL_ENOMEM;
    qsort(items, n, sizeof *items, j->r->ascending ? sort_asc : sort_desc);
    for (r = 0; r < j->R; r++) {
        size_t lo = r * n / j->R, hi = (r + 1) * n / j->R;
        mat_part *p = &j->parts[r];
        p->items = sl__arena_alloc(a, (hi - lo + 1) * sizeof(sl_value));
        if (!p->items)
            goto oom;
        for (i = lo; i < hi; i++)
            if (sl__value_copy(a, NULL, items[i].rec, &p->items[p->n++]))
                goto oom;
    }
    sl_free(items);
    return SL_OK;
oom:
    sl_free(items);
    return SL_ENOMEM;
}

/* -------------------------------------------------------------- driver */

static sl_status shuffle_phases(shuffle_job *j)
{
    sl_engine *eng = j->r->eng;
    sl_status st;
    if ((st = sl__engine_parallel(eng, j->M, map_task, j)) != SL_OK)
        return st;
    if ((st = sl__collect_task_errors(eng, j->tasks, j->M)) != SL_OK)
        return st;
    if (j->r->sh == SH_SORT) {
        st = sort_on_driver(j);
        if (st != SL_OK)
            sl__engine_set_error(eng, "out of memory");
        return st;
    }
    if ((st = sl__engine_parallel(eng, j->R, reduce_task, j)) != SL_OK)
        return st;
    return sl__collect_task_errors(eng, j->tasks, j->R);
}

static sl_status shuffle_here(sl_rdd *r);

/* As sl__materialize: the shuffle's output lives in the RDD's scope. */
sl_status sl__shuffle_run(sl_rdd *r)
{
    sl__scope *saved = r->eng->scope;
    sl_status st;
    if (r->scope)
        r->eng->scope = r->scope;
    st = shuffle_here(r);
    r->eng->scope = saved;
    return st;
}

static sl_status shuffle_here(sl_rdd *r)
{
    sl_engine *eng = r->eng;
    shuffle_job j;
    sl_status st = SL_ENOMEM;
    size_t m;

    memset(&j, 0, sizeof j);
    j.r = r;
    j.R = r->nparts;
    j.split = r->parents[0]->nparts;
    j.M = j.split + (r->nparents > 1 ? r->parents[1]->nparts : 0);
    j.outs = sl_malloc((j.M + 1) * sizeof *j.outs);
    if (j.outs) /* cleared at once: the cleanup below walks it */
        memset(j.outs, 0, (j.M + 1) * sizeof *j.outs);
    j.tasks = sl_malloc((j.M > j.R ? j.M : j.R) * sizeof *j.tasks + 1);
    j.parts = sl__scope_alloc(eng->scope, (j.R + 1) * sizeof *j.parts);
    if (!j.outs || !j.tasks || !j.parts) {
        sl__engine_set_error(eng, "out of memory");
        goto done;
    }
    memset(j.parts, 0, (j.R + 1) * sizeof *j.parts);
    st = shuffle_phases(&j);
    if (st == SL_OK)
        r->mat = j.parts;
done:
    if (j.outs)
        for (m = 0; m < j.M; m++)
            map_out_free(&j.outs[m], r->sh == SH_SORT ? 1 : j.R);
    sl_free(j.outs);
    sl_free(j.tasks);
    return st;
}
