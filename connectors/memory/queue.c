/*
 * The queue stream (Spark's queueStream with oneAtATime = true): batches
 * pushed from code, one consumed per batch interval and split into
 * partitions by position as parallelize does; a "none" entry yields no
 * batch at all and an empty queue yields empty batches.
 */
#include <pthread.h>
#include <sluice/connectors.h>
#include <stdlib.h>
#include <string.h>

typedef struct queue_entry {
    struct queue_entry *next;
    bool none;
    size_t n;
    sl_value *values; /* deep copies, in `mem` */
    char *mem;
} queue_entry;

typedef struct queue_state {
    pthread_mutex_t lock;
    queue_entry *head, **tail;
    size_t partitions;
} queue_state;

/* ------------------------------------------------------- deep copies */

static size_t deep_size(const sl_value *v)
{
    size_t n = 0;
    uint32_t i;
    if (v->kind == SL_KIND_STR || v->kind == SL_KIND_BYTES)
        return ((size_t)v->len + 7) & ~(size_t)7;
    if (sl_kind_is_composite(v->kind)) {
        n = (size_t)v->len * sizeof(sl_value);
        for (i = 0; i < v->len; i++)
            n += deep_size(&v->u.items[i]);
    }
    return n;
}

static void deep_copy(const sl_value *v, sl_value *out, char **mem)
{
    uint32_t i;
    *out = *v;
    if ((v->kind == SL_KIND_STR || v->kind == SL_KIND_BYTES) && v->len) {
        memcpy(*mem, v->u.s, v->len);
        out->u.s = *mem;
        *mem += ((size_t)v->len + 7) & ~(size_t)7;
    } else if (sl_kind_is_composite(v->kind) && v->len) {
        sl_value *items = (sl_value *)*mem;
        *mem += (size_t)v->len * sizeof(sl_value);
        for (i = 0; i < v->len; i++)
            deep_copy(&v->u.items[i], &items[i], mem);
        out->u.items = items;
    }
}

/* ------------------------------------------------------------ source */

static sl_status queue_plan(void *state, int64_t batch_id, int64_t time_ms,
                            sl_plan *plan)
{
    queue_state *q = state;
    queue_entry *e;
    sl_status st = SL_OK;
    size_t i;
    (void)batch_id;
    (void)time_ms;
    pthread_mutex_lock(&q->lock);
    e = q->head;
    if (e) {
        q->head = e->next;
        if (!q->head)
            q->tail = &q->head;
    }
    pthread_mutex_unlock(&q->lock);
    if (e && e->none) {
        sl_plan_set_no_batch(plan);
    } else {
        size_t n = e ? e->n : 0;
        for (i = 0; i < q->partitions && st == SL_OK; i++) {
            size_t lo = i * n / q->partitions, hi = (i + 1) * n / q->partitions;
            st = sl_plan_add_values(plan, e ? e->values + lo : NULL, hi - lo);
        }
    }
    if (e)
        sl_free(e->mem);
    sl_free(e);
    return st;
}

static void queue_free(void *state)
{
    queue_state *q = state;
    queue_entry *e, *next;
    for (e = q->head; e; e = next) {
        next = e->next;
        sl_free(e->mem);
        sl_free(e);
    }
    pthread_mutex_destroy(&q->lock);
    sl_free(q);
}

static const sl_planned_ops queue_ops = {
    SL_PLANNED_OPS_VERSION, "queue", queue_plan, NULL, queue_free,
};

sl_dstream *sl_queue_stream(sl_context *ctx, size_t partitions)
{
    queue_state *q;
    if (!ctx)
        return NULL;
    if (partitions == 0) {
        sl_context_set_error(ctx, SL_EINVAL,
                             "queue stream: partitions must be at least 1");
        return NULL;
    }
    q = sl_malloc(sizeof *q);
    if (!q) {
        sl_context_set_error(ctx, SL_ENOMEM, "queue stream: out of memory");
        return NULL;
    }
    memset(q, 0, sizeof *q);
    if (pthread_mutex_init(&q->lock, NULL) != 0) {
        sl_free(q);
        sl_context_set_error(ctx, SL_ENOMEM, "queue stream: no mutex");
        return NULL;
    }
    q->tail = &q->head;
    q->partitions = partitions;
    return sl_planned_stream(ctx, &queue_ops, q);
}

static sl_status push_entry(sl_dstream *queue, queue_entry *e)
{
    queue_state *q = sl_planned_stream_state(queue, &queue_ops);
    if (!q) {
        sl_free(e->mem);
        sl_free(e);
        return SL_EINVAL;
    }
    pthread_mutex_lock(&q->lock);
    *q->tail = e;
    q->tail = &e->next;
    pthread_mutex_unlock(&q->lock);
    return SL_OK;
}

sl_status sl_queue_stream_push(sl_dstream *queue, const sl_value *values,
                               size_t n)
{
    queue_entry *e;
    size_t i, bytes = (n + 1) * sizeof(sl_value);
    char *mem;
    if (!queue || (n && !values))
        return SL_EINVAL;
    for (i = 0; i < n; i++)
        bytes += deep_size(&values[i]);
    e = sl_malloc(sizeof *e);
    mem = sl_malloc(bytes);
    if (!e || !mem) {
        sl_free(e);
        sl_free(mem);
        return SL_ENOMEM;
    }
    memset(e, 0, sizeof *e);
    e->mem = mem;
    e->values = (sl_value *)mem;
    e->n = n;
    mem += (n + 1) * sizeof(sl_value);
    for (i = 0; i < n; i++)
        deep_copy(&values[i], &e->values[i], &mem);
    return push_entry(queue, e);
}

sl_status sl_queue_stream_push_none(sl_dstream *queue)
{
    queue_entry *e;
    if (!queue)
        return SL_EINVAL;
    e = sl_malloc(sizeof *e);
    if (!e)
        return SL_ENOMEM;
    memset(e, 0, sizeof *e);
    e->none = true;
    return push_entry(queue, e);
}
