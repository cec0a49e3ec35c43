/*
 * Partition tasks: the fused per-partition loop. A task walks its RDD's
 * lineage down to the nearest materialised or source partition and pushes
 * each record through a chain of sinks, one per narrow operator, into the
 * final sink: no intermediate collection, no per-record allocation beyond
 * the scratch arena, which is rewound after every top-level record.
 */
#include "rdd/rdd_int.h"

#include <string.h>

/* ---------------------------------------------------------- task API */

sl_status sl_task_emit(sl_task *t, const sl_value *v)
{
    sink *s = t->emit_to;
    if (!s)
        return sl__task_fail(t, SL_ESTATE,
                             "sl_task_emit outside an emitting "
                             "function");
    return s->push(s, t, v);
}

void *sl_task_alloc(sl_task *t, size_t n)
{
    return sl__arena_alloc_fast(t->scratch, n);
}

sl__arena *sl__task_arena(sl_task *t)
{
    return t->scratch;
}

sl_status sl_task_str(sl_task *t, const char *s, size_t len, sl_value *out)
{
    char *p;
    /* A value's length is 32 bits: a longer string is an error, never a
     * string silently cut short. */
    if (len > UINT32_MAX)
        return sl__task_fail(t, SL_EOVERFLOW,
                             "a string of %zu bytes (4 GiB or more)", len);
    p = sl__arena_alloc_fast(t->scratch, len ? len : 1);
    if (!p)
        return SL_ENOMEM;
    if (len)
        memcpy(p, s, len);
    *out = sl_str(p, len);
    return SL_OK;
}

sl_status sl_task_pair(sl_task *t, const sl_value *k, const sl_value *v,
                       sl_value *out)
{
    sl_value *items = sl__arena_alloc_fast(t->scratch, 2 * sizeof *items);
    if (!items)
        return SL_ENOMEM;
    items[0] = *k;
    items[1] = *v;
    *out = sl_composite(SL_KIND_PAIR, items, 2);
    return SL_OK;
}

sl_status sl__task_copy(sl_task *t, const sl_value *v, sl_value *out)
{
    return sl__value_copy(t->scratch, NULL, v, out);
}

int64_t sl_task_time(const sl_task *t)
{
    return t ? t->eng->batch_time_ms : 0;
}

int64_t sl_task_batch_id(const sl_task *t)
{
    return t ? t->eng->batch_id : -1;
}

int64_t sl_rdd_batch_id(const sl_rdd *r)
{
    return r ? r->eng->batch_id : -1;
}

size_t sl_task_partition(const sl_task *t)
{
    return t->partition;
}

bool sl_task_interrupted(const sl_task *t)
{
    return t &&
           atomic_load_explicit(&t->eng->interrupted, memory_order_relaxed);
}

void sl__engine_interrupt(sl_engine *eng, bool on)
{
    atomic_store(&eng->interrupted, on);
}

bool sl_iter_next(sl_iter *it, sl_value *out)
{
    if (it->i >= it->n)
        return false;
    *out = it->items[it->i++];
    return true;
}

static sl__arena *task_out(sl_task *t)
{
    if (!t->out)
        t->out = sl__scope_new_arena(t->eng->scope);
    return t->out;
}

/* -------------------------------------------------------- stage sinks */

typedef struct stage_sink {
    sink base;
    sink pair_with_key; /* flat_map_values: wraps outputs into (key, w) */
    sl_value key;
} stage_sink;

static sl_status user_failed(sl_task *t, const sl_rdd *node, sl_status st)
{
    static const char *names[] = {
        "map",        "flat_map",        "filter",
        "map_values", "flat_map_values", "map_partitions",
        "glom",       "fold_partitions"};
    if (t->status != SL_OK)
        return t->status;
    return sl__task_fail(t, st == SL_ENOMEM ? SL_ENOMEM : SL_EUSER,
                         "%s function failed: %s", names[node->op],
                         sl_strerror(st));
}

static sl_status push_map(sink *self, sl_task *t, const sl_value *v)
{
    const sl_rdd *n = self->node;
    sl_value out;
    sl_status st = n->fn.map(t, v, &out, n->user);
    if (st != SL_OK)
        return user_failed(t, n, st);
    return self->next->push(self->next, t, &out);
}

static sl_status push_flat_map(sink *self, sl_task *t, const sl_value *v)
{
    const sl_rdd *n = self->node;
    sink *saved = t->emit_to;
    sl_status st;
    t->emit_to = self->next;
    st = n->fn.flat_map(t, v, n->user);
    t->emit_to = saved;
    if (st != SL_OK)
        return user_failed(t, n, st);
    return t->status;
}

static sl_status push_filter(sink *self, sl_task *t, const sl_value *v)
{
    const sl_rdd *n = self->node;
    if (!n->fn.filter(v, n->user))
        return SL_OK;
    return self->next->push(self->next, t, v);
}

static sl_status not_a_pair(sl_task *t, const char *op)
{
    return sl__task_fail(t, SL_ETYPE, "%s needs (key, value) pairs", op);
}

static sl_status push_map_values(sink *self, sl_task *t, const sl_value *v)
{
    const sl_rdd *n = self->node;
    sl_value nv, out;
    sl_status st;
    if (v->kind != SL_KIND_PAIR)
        return not_a_pair(t, "map_values");
    st = n->fn.map(t, sl_pair_value(v), &nv, n->user);
    if (st != SL_OK)
        return user_failed(t, n, st);
    if (sl_task_pair(t, sl_pair_key(v), &nv, &out) != SL_OK)
        return sl__task_fail(t, SL_ENOMEM, "out of memory");
    return self->next->push(self->next, t, &out);
}

static sl_status push_keyed(sink *self, sl_task *t, const sl_value *w)
{
    stage_sink *st =
        (stage_sink *)((char *)self - offsetof(stage_sink, pair_with_key));
    sl_value out;
    if (sl_task_pair(t, &st->key, w, &out) != SL_OK)
        return sl__task_fail(t, SL_ENOMEM, "out of memory");
    return st->base.next->push(st->base.next, t, &out);
}

static sl_status push_flat_map_values(sink *self, sl_task *t, const sl_value *v)
{
    stage_sink *ss = (stage_sink *)self;
    const sl_rdd *n = self->node;
    sink *saved = t->emit_to;
    sl_status st;
    if (v->kind != SL_KIND_PAIR)
        return not_a_pair(t, "flat_map_values");
    ss->key = *sl_pair_key(v);
    t->emit_to = &ss->pair_with_key;
    st = n->fn.flat_map(t, sl_pair_value(v), n->user);
    t->emit_to = saved;
    if (st != SL_OK)
        return user_failed(t, n, st);
    return t->status;
}

/* ------------------------------------------------------ collect sink */

static sl_status push_collect(sink *self, sl_task *t, const sl_value *v)
{
    collect_sink *c = (collect_sink *)self;
    sl__arena *out = task_out(t);
    if (!out)
        return sl__task_fail(t, SL_ENOMEM, "out of memory");
    if (c->n == c->cap) {
        size_t ncap = c->cap ? c->cap * 2 : 64;
        sl_value *ni = sl_realloc(c->items, ncap * sizeof *ni);
        if (!ni)
            return sl__task_fail(t, SL_ENOMEM, "out of memory");
        c->items = ni;
        c->cap = ncap;
    }
    if (sl__value_copy(out, t->scratch, v, &c->items[c->n]) != SL_OK)
        return sl__task_fail(t, SL_ENOMEM, "out of memory");
    c->n++;
    return SL_OK;
}

void sl__collect_sink_init(collect_sink *c)
{
    memset(c, 0, sizeof *c);
    c->base.push = push_collect;
}

/* Hand the collected array to the task's out arena (freed with it). */
static sl_status collect_finish(sl_task *t, collect_sink *c, mat_part *out)
{
    sl__arena *a = task_out(t);
    out->items = c->items;
    out->n = c->n;
    if (!c->items)
        return SL_OK;
    if (!a || sl__arena_on_cleanup(a, sl_free, c->items) != SL_OK) {
        sl_free(c->items);
        out->items = NULL;
        out->n = 0;
        return sl__task_fail(t, SL_ENOMEM, "out of memory");
    }
    return SL_OK;
}

sl_status sl__collect_partition(sl_task *t, const sl_rdd *r, size_t p,
                                mat_part *out)
{
    collect_sink c;
    sl_status st;
    sl__collect_sink_init(&c);
    st = sl__run_partition(t, r, p, &c.base);
    if (st != SL_OK) {
        sl_free(c.items);
        return st;
    }
    return collect_finish(t, &c, out);
}

/* ------------------------------------------------------- root loops */

static sl_status push_items(sl_task *t, const sl_value *items, size_t n,
                            sink *s)
{
    size_t i;
    for (i = 0; i < n; i++) {
        sl_status st = s->push(s, t, &items[i]);
        sl__arena_reset(t->scratch);
        if (st != SL_OK)
            return st;
    }
    return SL_OK;
}

static sl_status push_text(sl_task *t, const sl__text_seg *segs, size_t nsegs,
                           sink *s)
{
    size_t i;
    for (i = 0; i < nsegs; i++) {
        const char *pos = segs[i].p, *end = pos + segs[i].len, *line;
        size_t len;
        while (sl__next_line(&pos, end, &line, &len)) {
            sl_value v = sl_str(line, len);
            sl_status st = s->push(s, t, &v);
            sl__arena_reset(t->scratch);
            if (st != SL_OK)
                return st;
        }
    }
    return SL_OK;
}

/* Readers emit many records from one call: this sink rewinds scratch after
 * each, so a reader's values live until sl_task_emit returns. */
typedef struct reader_root {
    sink base;
} reader_root;

static sl_status push_reader_root(sink *self, sl_task *t, const sl_value *v)
{
    sl_status st = self->next->push(self->next, t, v);
    sl__arena_reset(t->scratch);
    return st;
}

static sl_status run_reader(sl_task *t, const src_part *sp, sink *s)
{
    reader_root root = {{push_reader_root, s, NULL}};
    sink *saved = t->emit_to;
    sl_status st;
    t->emit_to = &root.base;
    st = sp->read(t, sp->desc, sp->user);
    t->emit_to = saved;
    if (st != SL_OK && t->status == SL_OK)
        return sl__task_fail(t, st, "source read failed: %s", sl_strerror(st));
    return t->status;
}

static sl_status run_source(sl_task *t, const src_part *sp, sink *s)
{
    switch (sp->kind) {
    case SRC_VALUES:
        return push_items(t, sp->items, sp->n, s);
    case SRC_TEXT:
        return push_text(t, sp->segs, sp->nsegs, s);
    default:
        return run_reader(t, sp, s);
    }
}

/* ------------------------------------------------ partition-level ops */

static sl_status run_partition_op(sl_task *t, const sl_rdd *r, size_t p,
                                  sink *s)
{
    mat_part in;
    sl_iter it;
    sink *saved;
    sl_status st = sl__collect_partition(t, r->parents[0], p, &in);
    if (st != SL_OK)
        return st;
    if (r->op == OP_GLOM) {
        sl_value list = sl_composite(SL_KIND_LIST, in.items, in.n);
        return s->push(s, t, &list);
    }
    it.items = in.items;
    it.n = in.n;
    it.i = 0;
    saved = t->emit_to;
    t->emit_to = s;
    st = r->fn.part(t, &it, r->user);
    t->emit_to = saved;
    if (st != SL_OK)
        return user_failed(t, r, st);
    return t->status;
}

/* sl__rdd_fold_partitions: the parent's records streamed into push. */
typedef struct fold_sink {
    sink base;
    void *state;
} fold_sink;

static sl_status push_fold(sink *self, sl_task *t, const sl_value *v)
{
    const sl_rdd *n = self->node;
    sl_status st = n->fn.fold->push(t, ((fold_sink *)self)->state, v, n->user);
    if (st != SL_OK)
        return user_failed(t, n, st);
    return t->status;
}

static sl_status run_fold(sl_task *t, const sl_rdd *r, size_t p, sink *s)
{
    const sl__fold_ops *ops = r->fn.fold;
    fold_sink f = {{push_fold, NULL, r}, NULL};
    sink *saved;
    sl_status st = ops->begin(t, r->user, &f.state);
    if (st != SL_OK)
        return user_failed(t, r, st);
    st = sl__run_partition(t, r->parents[0], p, &f.base);
    if (st == SL_OK) {
        saved = t->emit_to;
        t->emit_to = s;
        st = ops->end(t, f.state, r->user);
        t->emit_to = saved;
        st = st != SL_OK ? user_failed(t, r, st) : t->status;
    }
    ops->free(f.state, r->user);
    return st;
}

static sl_status run_narrow(sl_task *t, const sl_rdd *r, size_t p, sink *s)
{
    stage_sink st;
    memset(&st, 0, sizeof st);
    st.base.next = s;
    st.base.node = r;
    switch (r->op) {
    case OP_MAP:
        st.base.push = push_map;
        break;
    case OP_FLAT_MAP:
        st.base.push = push_flat_map;
        break;
    case OP_FILTER:
        st.base.push = push_filter;
        break;
    case OP_MAP_VALUES:
        st.base.push = push_map_values;
        break;
    case OP_FLAT_MAP_VALUES:
        st.base.push = push_flat_map_values;
        st.pair_with_key.push = push_keyed;
        break;
    case OP_FOLD:
        return run_fold(t, r, p, s);
    default:
        return run_partition_op(t, r, p, s);
    }
    return sl__run_partition(t, r->parents[0], p, &st.base);
}

sl_status sl__run_partition(sl_task *t, const sl_rdd *r, size_t p, sink *s)
{
    size_t i;
    if (r->mat)
        return push_items(t, r->mat[p].items, r->mat[p].n, s);
    switch (r->kind) {
    case RDD_SOURCE:
        return run_source(t, &r->src[p], s);
    case RDD_NARROW:
        return run_narrow(t, r, p, s);
    case RDD_UNION:
        for (i = 0; i < r->nparents; i++) {
            if (p < r->parents[i]->nparts)
                return sl__run_partition(t, r->parents[i], p, s);
            p -= r->parents[i]->nparts;
        }
        break;
    default:
        break;
    }
    return sl__task_fail(t, SL_ESTATE, "internal: partition not computable");
}

/* ----------------------------------------------------- materialising */

typedef struct mat_job {
    sl_rdd *r;
    sl_task *tasks;
    mat_part *parts;
} mat_job;

static void mat_task(void *arg, size_t i, worker *w)
{
    mat_job *j = arg;
    sl_task *t = &j->tasks[i];
    sl__task_init(t, j->r->eng, w, i);
    sl__collect_partition(t, j->r, i, &j->parts[i]);
}

/* Compute every shuffle and persisted RDD below r that is not computed
 * yet, bottom up, on the calling thread's schedule. */
sl_status sl__ensure_shuffled(sl_rdd *r)
{
    size_t i;
    sl_status st;
    if (r->mat)
        return SL_OK;
    for (i = 0; i < r->nparents; i++)
        if ((st = sl__ensure_shuffled(r->parents[i])) != SL_OK)
            return st;
    if (r->kind == RDD_SHUFFLE)
        return sl__shuffle_run(r);
    if (r->persist)
        return sl__materialize(r);
    return SL_OK;
}

static sl_status materialize_here(sl_rdd *r);

/* Results live in the RDD's own scope: an RDD made before start and
 * computed inside a batch must not end up in that batch's memory. */
sl_status sl__materialize(sl_rdd *r)
{
    sl__scope *saved;
    sl_status st;
    if (r->mat)
        return SL_OK;
    saved = r->eng->scope;
    if (r->scope)
        r->eng->scope = r->scope;
    st = materialize_here(r);
    r->eng->scope = saved;
    return st;
}

static sl_status materialize_here(sl_rdd *r)
{
    sl_engine *eng = r->eng;
    mat_job j = {r, NULL, NULL};
    sl_status st;
    bool persist = r->persist;

    r->persist = false; /* ensure_shuffled must not recurse into us */
    st = sl__ensure_shuffled(r);
    r->persist = persist;
    if (st != SL_OK || r->mat)
        return st;
    j.parts = sl__scope_alloc(eng->scope, (r->nparts + 1) * sizeof *j.parts);
    j.tasks = sl_malloc((r->nparts + 1) * sizeof *j.tasks);
    if (!j.parts || !j.tasks) {
        sl_free(j.tasks);
        sl__engine_set_error(eng, "out of memory");
        return SL_ENOMEM;
    }
    memset(j.parts, 0, (r->nparts + 1) * sizeof *j.parts);
    st = sl__engine_parallel(eng, r->nparts, mat_task, &j);
    if (st == SL_OK)
        st = sl__collect_task_errors(eng, j.tasks, r->nparts);
    sl_free(j.tasks);
    if (st == SL_OK)
        r->mat = j.parts;
    return st;
}
