/*
 * RDD actions: collect, count, take, reduce and foreach_partition
 * (save_as_text_file is in save_text.c). count and reduce run the fused
 * pipeline into a counting or reducing sink, so they never materialise the
 * records.
 */
#include "rdd/rdd_int.h"

#include <stdio.h>
#include <string.h>

sl_status sl_rdd_collect(sl_rdd *r, const sl_value **out, size_t *n)
{
    size_t i, total = 0, k = 0;
    sl_value *all;
    sl_status st;

    if (!r || !out || !n)
        return SL_EINVAL;
    if ((st = sl__materialize(r)) != SL_OK)
        return st;
    for (i = 0; i < r->nparts; i++)
        total += r->mat[i].n;
    if (r->nparts == 1) {
        *out = r->mat[0].items;
        *n = r->mat[0].n;
        return SL_OK;
    }
    /* In the RDD's own scope, so *out lives as long as the RDD does. */
    all = sl__scope_alloc(r->scope ? r->scope : r->eng->scope,
                          (total + 1) * sizeof *all);
    if (!all)
        return SL_ENOMEM;
    for (i = 0; i < r->nparts; i++) {
        if (r->mat[i].n)
            memcpy(all + k, r->mat[i].items, r->mat[i].n * sizeof *all);
        k += r->mat[i].n;
    }
    *out = all;
    *n = total;
    return SL_OK;
}

/* --------------------------------------------------------------- count */

typedef struct count_sink {
    sink base;
    int64_t n;
} count_sink;

static sl_status push_count(sink *self, sl_task *t, const sl_value *v)
{
    SL__UNUSED(t);
    SL__UNUSED(v);
    ((count_sink *)self)->n++;
    return SL_OK;
}

typedef struct count_job {
    sl_rdd *r;
    sl_task *tasks;
    int64_t *counts;
} count_job;

static void count_task(void *arg, size_t i, worker *w)
{
    count_job *j = arg;
    count_sink cs = {{push_count, NULL, NULL}, 0};
    sl__task_init(&j->tasks[i], j->r->eng, w, i);
    sl__run_partition(&j->tasks[i], j->r, i, &cs.base);
    j->counts[i] = cs.n;
}

sl_status sl_rdd_count(sl_rdd *r, int64_t *out)
{
    count_job j;
    sl_status st;
    size_t i;

    if (!r || !out)
        return SL_EINVAL;
    if ((st = sl__ensure_shuffled(r)) != SL_OK)
        return st;
    j.r = r;
    j.tasks = sl_malloc((r->nparts + 1) * sizeof *j.tasks);
    j.counts = sl_malloc((r->nparts + 1) * sizeof *j.counts);
    if (!j.tasks || !j.counts) {
        st = SL_ENOMEM;
        goto done;
    }
    st = sl__engine_parallel(r->eng, r->nparts, count_task, &j);
    if (st == SL_OK)
        st = sl__collect_task_errors(r->eng, j.tasks, r->nparts);
    *out = 0;
    for (i = 0; st == SL_OK && i < r->nparts; i++)
        *out += j.counts[i];
done:
    sl_free(j.tasks);
    sl_free(j.counts);
    return st;
}

sl_status sl_rdd_take(sl_rdd *r, size_t n, const sl_value **out, size_t *got)
{
    const sl_value *all;
    size_t total;
    sl_status st;
    if (!out || !got)
        return SL_EINVAL;
    if ((st = sl_rdd_collect(r, &all, &total)) != SL_OK)
        return st;
    *out = all;
    *got = total < n ? total : n;
    return SL_OK;
}

/* -------------------------------------------------------------- reduce */

typedef struct reduce_sink {
    sink base;
    const sl_rdd *r;
    sl_reduce_fn fn;
    void *user;
    bool have;
    sl_value acc;
    char pad[SL__CACHE_LINE]; /* per-record writes: no false sharing */
} reduce_sink;

static sl_status push_reduce(sink *self, sl_task *t, const sl_value *v)
{
    reduce_sink *rs = (reduce_sink *)self;
    sl_value next;
    sl_status st;
    if (!t->out && !(t->out = sl__scope_new_arena(t->eng->scope)))
        return sl__task_fail(t, SL_ENOMEM, "out of memory");
    if (!rs->have) {
        rs->have = true;
        next = *v;
    } else if ((st = rs->fn(t, &rs->acc, v, &next, rs->user)) != SL_OK) {
        return sl__task_fail(t, st == SL_ENOMEM ? st : SL_EUSER,
                             "reduce function failed: %s", sl_strerror(st));
    }
    /* The accumulator outlives the record: move it out of scratch. */
    if (sl__value_copy(t->out, t->scratch, &next, &rs->acc))
        return sl__task_fail(t, SL_ENOMEM, "out of memory");
    return SL_OK;
}

typedef struct reduce_job {
    sl_rdd *r;
    sl_task *tasks;
    reduce_sink *sinks;
} reduce_job;

static void reduce_part_task(void *arg, size_t i, worker *w)
{
    reduce_job *j = arg;
    sl__task_init(&j->tasks[i], j->r->eng, w, i);
    sl__run_partition(&j->tasks[i], j->r, i, &j->sinks[i].base);
}

static sl_status reduce_partials(reduce_job *j, sl_value *out)
{
    sl_value next;
    sl_task t;
    bool have = false;
    size_t i;
    sl_status st;

    /* Partials are merged on the calling thread with a task of its own,
     * whose scratch is a private arena. */
    memset(&t, 0, sizeof t);
    t.eng = j->r->eng;
    t.out = sl__scope_new_arena(t.eng->scope);
    t.scratch = t.out;
    if (!t.out)
        return SL_ENOMEM;
    for (i = 0; i < j->r->nparts; i++) {
        if (!j->sinks[i].have)
            continue;
        if (!have) {
            *out = j->sinks[i].acc;
            have = true;
            continue;
        }
        /* The user function may write *out before reading a: never let
         * them alias. */
        st = j->sinks[i].fn(&t, out, &j->sinks[i].acc, &next, j->sinks[i].user);
        *out = next;
        if (st != SL_OK) {
            /* The function's own message (sl_task_fail), when it left one. */
            sl__engine_set_error(
                t.eng, "reduce function failed: %s",
                t.status != SL_OK && t.err[0] ? t.err : sl_strerror(st));
            return st == SL_ENOMEM ? st : SL_EUSER;
        }
    }
    return have ? SL_OK : SL_ENOTFOUND;
}

sl_status sl_rdd_reduce(sl_rdd *r, sl_reduce_fn fn, void *user, sl_value *out)
{
    reduce_job j;
    sl_status st;
    size_t i;

    if (!r || !fn || !out)
        return SL_EINVAL;
    if ((st = sl__ensure_shuffled(r)) != SL_OK)
        return st;
    j.r = r;
    j.tasks = sl_malloc((r->nparts + 1) * sizeof *j.tasks);
    j.sinks = sl_malloc((r->nparts + 1) * sizeof *j.sinks);
    if (!j.tasks || !j.sinks) {
        st = SL_ENOMEM;
        goto done;
    }
    for (i = 0; i < r->nparts; i++) {
        memset(&j.sinks[i], 0, sizeof j.sinks[i]);
        j.sinks[i].base.push = push_reduce;
        j.sinks[i].r = r;
        j.sinks[i].fn = fn;
        j.sinks[i].user = user;
    }
    st = sl__engine_parallel(r->eng, r->nparts, reduce_part_task, &j);
    if (st == SL_OK)
        st = sl__collect_task_errors(r->eng, j.tasks, r->nparts);
    if (st == SL_OK)
        st = reduce_partials(&j, out);
done:
    sl_free(j.tasks);
    sl_free(j.sinks);
    return st;
}

/* ---------------------------------------------------- foreach_partition */

typedef struct foreach_job {
    sl_rdd *r;
    sl_task *tasks;
    sl_partition_fn fn;
    void *user;
} foreach_job;

static void foreach_task(void *arg, size_t i, worker *w)
{
    foreach_job *j = arg;
    sl_task *t = &j->tasks[i];
    mat_part part;
    sl_iter it;
    sl_status st;

    sl__task_init(t, j->r->eng, w, i);
    if (j->r->mat)
        part = j->r->mat[i];
    else if (sl__collect_partition(t, j->r, i, &part) != SL_OK)
        return;
    it.items = part.items;
    it.n = part.n;
    it.i = 0;
    st = j->fn(t, &it, j->user);
    if (st != SL_OK)
        sl__task_fail(t, st == SL_ENOMEM ? st : SL_EUSER,
                      "foreach_partition function failed: %s", sl_strerror(st));
}

sl_status sl_rdd_foreach_partition(sl_rdd *r, sl_partition_fn fn, void *user)
{
    foreach_job j;
    sl_status st;
    if (!r || !fn)
        return SL_EINVAL;
    if ((st = sl__ensure_shuffled(r)) != SL_OK)
        return st;
    j.r = r;
    j.fn = fn;
    j.user = user;
    j.tasks = sl_malloc((r->nparts + 1) * sizeof *j.tasks);
    if (!j.tasks)
        return SL_ENOMEM;
    st = sl__engine_parallel(r->eng, r->nparts, foreach_task, &j);
    if (st == SL_OK)
        st = sl__collect_task_errors(r->eng, j.tasks, r->nparts);
    sl_free(j.tasks);
    return st;
}

sl_status sl__rdd_partition_sizes(sl_rdd *r, size_t *sizes, size_t cap)
{
    size_t i;
    sl_status st = sl__materialize(r);
    if (st != SL_OK)
        return st;
    for (i = 0; i < r->nparts && i < cap; i++)
        sizes[i] = r->mat[i].n;
    return SL_OK;
}
