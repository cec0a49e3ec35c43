/*
 * Event-time watermarks (docs/sql.md "Event time and watermarks"). A
 * stream declared with sl_dstream_set_watermark has the event times of
 * each batch observed as its records pass (per partition, by the one task
 * that computes it: no atomics on the hot path); at the end of the batch
 * the job thread turns them into the watermark the next batch uses, as
 * Spark's WatermarkTracker: per stream, the greatest event time seen so
 * far minus its delay (0, the epoch, until it has seen a row); across
 * streams, their min (watermark_policy "min", the default: it waits for
 * every input) or max; never moving back. After a restart only the
 * global watermark is recovered (as Spark), not each stream's maximum. The
 * batch's watermark is recorded in offsets/<batch> (recovery.c), so a batch run
 * again after a restart uses the one it first ran with, and the next start goes
 * on from it.
 */
#include "core/schema.h"
#include "stream/stream_int.h"

#include <cJSON.h>

#include <stdio.h>
#include <string.h>

/* One partition's event times of the batch (written by its task). */
typedef struct wm_slot {
    int64_t min, max, count;
    double sum;
} wm_slot;

struct sl__wm {
    char *column;
    size_t index;     /* in the stream's rows */
    int64_t delay_ms; /* >= 0 */
    wm_slot *slots;   /* per partition of the batch's RDD */
    size_t nslots;
    /* A task's partition index is that of the stage it computes: past a
     * union it is offset by the partitions of the inputs before this
     * one, beyond slots; those records meet here, under the lock. */
    pthread_mutex_t lock;
    wm_slot spill;
    bool seen;        /* job thread: a row was ever seen (since start) */
    int64_t max_seen; /* job thread: the greatest event time seen */
};

void sl__wm_free(struct sl__wm *w)
{
    if (!w)
        return;
    pthread_mutex_destroy(&w->lock);
    sl_free(w->column);
    sl_free(w->slots);
    sl_free(w);
}

/* The stream's row columns: its own schema, else its view's. */
static const sl_schema *rows_schema(const sl_dstream *s)
{
    return s->schema ? s->schema : s->view_schema;
}

sl_status sl_dstream_set_watermark(sl_dstream *s, const char *column,
                                   int64_t delay_ms)
{
    const sl_schema *schema;
    struct sl__wm *w;
    int i;
    if (!s)
        return SL_EINVAL;
    if (sl__ctx_check_building(s->ctx) != SL_OK)
        return SL_ESTATE;
    schema = rows_schema(s);
    if (!column || delay_ms < 0 || !schema) {
        sl__ctx_set_error(s->ctx, SL_EINVAL, "watermark: %s",
                          !column        ? "no column"
                          : delay_ms < 0 ? "negative delay"
                                         : "the stream has no schema (give "
                                           "its source a schema)");
        return SL_EINVAL;
    }
    if ((i = sl_schema_find(schema, column)) < 0 ||
        sl_schema_type(schema, (size_t)i)->id != SL_TYPE_TIMESTAMP) {
        sl__ctx_set_error(s->ctx, SL_EINVAL,
                          i < 0 ? "watermark: no column '%.100s' in the "
                                  "stream's rows"
                                : "watermark: column '%.100s' is not a "
                                  "timestamp",
                          column);
        return SL_EINVAL;
    }
    if ((w = sl_malloc(sizeof *w)))
        memset(w, 0, sizeof *w);
    if (w && pthread_mutex_init(&w->lock, NULL) != 0) {
        sl_free(w);
        w = NULL;
    }
    if (!w || !(w->column = sl__strdup(column))) {
        sl__wm_free(w);
        sl__ctx_set_error(s->ctx, SL_ENOMEM, "watermark: out of memory");
        return SL_ENOMEM;
    }
    w->index = (size_t)i;
    w->delay_ms = delay_ms;
    sl__wm_free(s->wm);
    s->wm = w;
    s->ctx->has_watermark = true;
    return SL_OK;
}

const char *sl__dstream_watermark(const sl_dstream *s, int64_t *delay_ms)
{
    if (!s || !s->wm)
        return NULL;
    if (delay_ms)
        *delay_ms = s->wm->delay_ms;
    return s->wm->column;
}

/* ---------------------------------------------------------- observing */

static void slot_add(wm_slot *sl, int64_t ts)
{
    if (!sl->count || ts < sl->min)
        sl->min = ts;
    if (!sl->count || ts > sl->max)
        sl->max = ts;
    sl->sum += (double)ts;
    sl->count++;
}

static sl_status observe_fn(sl_task *t, const sl_value *in, sl_value *out,
                            void *user)
{
    struct sl__wm *w = user;
    size_t p = sl_task_partition(t);
    const sl_value *v = NULL;
    *out = *in;
    if ((in->kind == SL_KIND_TUPLE || in->kind == SL_KIND_PAIR) &&
        w->index < in->len)
        v = &in->u.items[w->index];
    if (!v || v->kind != SL_KIND_INT)
        return SL_OK;
    if (p < w->nslots) {
        slot_add(&w->slots[p], v->u.i);
        return SL_OK;
    }
    pthread_mutex_lock(&w->lock);
    slot_add(&w->spill, v->u.i);
    pthread_mutex_unlock(&w->lock);
    return SL_OK;
}

sl_status sl__wm_observe(sl_dstream *s, sl_rdd **rdd)
{
    struct sl__wm *w = s->wm;
    size_t n = sl_rdd_num_partitions(*rdd);
    sl_rdd *seen;
    if (n > w->nslots) {
        wm_slot *slots = sl_realloc(w->slots, n * sizeof *slots);
        if (!slots)
            return SL_ENOMEM;
        memset(slots + w->nslots, 0, (n - w->nslots) * sizeof *slots);
        w->slots = slots;
        w->nslots = n;
    }
    if (!(seen = sl_rdd_map(*rdd, observe_fn, w))) {
        sl__ctx_set_error(s->ctx, SL_ENOMEM, "watermark: %s",
                          sl_engine_errmsg(s->ctx->eng));
        return SL_ENOMEM;
    }
    *rdd = seen;
    return SL_OK;
}

/* ----------------------------------------------------- batch by batch */

/* Whether the plan gave b any input: records announced, or readers of
 * input whose size is known only as it is read (a directory's files). */
static bool has_input(const sl_context *ctx, const batch *b)
{
    size_t i;
    if (b->info.num_records > 0)
        return true;
    for (i = 0; b->plans && i < ctx->nplanned; i++)
        if (b->plans[i].records > 0 || b->plans[i].readers > 0)
            return true;
    return false;
}

void sl__wm_begin(sl_context *ctx, batch *b)
{
    sl_dstream *s;
    bool moves = true;
    /* no_data_batches false: a batch without input keeps the watermark
     * the last one used, so only a batch with input moves output on */
    if (sl_conf_get_bool(ctx->conf, "no_data_batches", &moves) != SL_OK)
        moves = true;
    if (b->replay_watermark)
        b->watermark_ms = b->replayed_watermark_ms;
    else if (ctx->drain) /* available_now: the input has ended */
        b->watermark_ms = ctx->watermark_ms;
    else if (moves || has_input(ctx, b))
        b->watermark_ms = ctx->watermark_ms;
    else
        b->watermark_ms = ctx->used_watermark_ms;
    ctx->used_watermark_ms = b->watermark_ms;
    for (s = ctx->streams; s; s = s->next_in_ctx) {
        if (!s->wm)
            continue;
        if (s->wm->nslots)
            memset(s->wm->slots, 0, s->wm->nslots * sizeof *s->wm->slots);
        memset(&s->wm->spill, 0, sizeof s->wm->spill);
    }
}

/* The batch's event times of w's stream: false when it had none. */
static bool batch_stats(const struct sl__wm *w, wm_slot *out)
{
    size_t i;
    memset(out, 0, sizeof *out);
    for (i = 0; i <= w->nslots; i++) {
        const wm_slot *sl = i < w->nslots ? &w->slots[i] : &w->spill;
        if (!sl->count)
            continue;
        if (!out->count || sl->min < out->min)
            out->min = sl->min;
        if (!out->count || sl->max > out->max)
            out->max = sl->max;
        out->sum += sl->sum;
        out->count += sl->count;
    }
    return out->count > 0;
}

void sl__wm_end(sl_context *ctx, batch *b)
{
    const char *policy = sl_conf_get(ctx->conf, "watermark_policy");
    bool use_max = policy && !strcmp(policy, "max"), any = false;
    int64_t chosen = 0;
    sl_dstream *s;
    b->event.count = 0;
    for (s = ctx->streams; s; s = s->next_in_ctx) {
        wm_slot st;
        int64_t wm;
        if (!s->wm)
            continue;
        if (batch_stats(s->wm, &st)) {
            if (!s->wm->seen || st.max > s->wm->max_seen)
                s->wm->max_seen = st.max;
            s->wm->seen = true;
            if (!b->event.count || st.min < b->event.min)
                b->event.min = st.min;
            if (!b->event.count || st.max > b->event.max)
                b->event.max = st.max;
            b->event.sum += st.sum;
            b->event.count += st.count;
        }
        /* An input that has seen no row yet counts as 0 (Spark's
         * WatermarkTracker), so under min the watermark waits for all. */
        wm = s->wm->seen ? s->wm->max_seen - s->wm->delay_ms : 0;
        if (!any || (use_max ? wm > chosen : wm < chosen))
            chosen = wm;
        any = true;
    }
    /* Used from the next batch (once b commits); never back. */
    b->next_watermark_ms = ctx->watermark_ms;
    if (any && chosen > ctx->watermark_ms)
        b->next_watermark_ms = chosen;
}

void sl__wm_commit(sl_context *ctx, const batch *b)
{
    if (b->next_watermark_ms > ctx->watermark_ms)
        ctx->watermark_ms = b->next_watermark_ms;
}

int64_t sl__context_batch_watermark(const sl_context *ctx)
{
    return ctx->current ? ctx->current->watermark_ms : ctx->watermark_ms;
}

/* The watermark an offsets entry recorded; false when it has none. */
static bool recorded(const cJSON *offsets, int64_t *wm)
{
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(offsets, "watermark_ms");
    if (!cJSON_IsNumber(w))
        return false;
    *wm = (int64_t)w->valuedouble;
    return true;
}

void sl__wm_resume(sl_context *ctx, const cJSON *offsets)
{
    int64_t wm;
    if (recorded(offsets, &wm) && wm > ctx->watermark_ms)
        ctx->watermark_ms = ctx->used_watermark_ms = wm;
}

void sl__wm_replay(sl_context *ctx, int64_t id, const cJSON *offsets)
{
    batch *b;
    int64_t wm;
    if (!recorded(offsets, &wm))
        return;
    for (b = ctx->replay; b; b = b->next)
        if (b->id == id) {
            b->replay_watermark = true;
            b->replayed_watermark_ms = wm;
        }
}
