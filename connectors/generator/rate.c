/*
 * Spark's rate source (sl_rate_stream): rate.rows_per_second rows per
 * second of batch time, each a tuple [timestamp ms, value], value counting
 * from 0. A planned source: the job thread decides each batch's value range,
 * workers make the rows.
 */
#include <stdio.h>
#include <string.h>

#include <sluice/connectors.h>

#include "generator/plan_util.h"

typedef struct rate_state {
    int64_t rows_per_second;
    int64_t interval_ms;
    size_t partitions;
    int64_t next; /* first value of the next batch */
} rate_state;

/* One partition: values first, first + step, ... below end. */
typedef struct rate_desc {
    int64_t first, end, step;
    int64_t zero_ms; /* time of value 0 */
    int64_t rows_per_second;
} rate_desc;

/*
 * Value v is due at zero + v * 1000 / rows_per_second (rounded down to the
 * millisecond), spread evenly over the second as Spark's
 * RateStreamMicroBatchStream spreads each batch's values over its interval.
 * Written to stay in range for any time and rate the conf allows.
 */
static int64_t rate_timestamp(int64_t zero_ms, int64_t v, int64_t rate)
{
    return zero_ms + (v / rate) * 1000 + (v % rate) * 1000 / rate;
}

/* Values due before `rel_ms` after zero: ceil(rel_ms * rate / 1000). */
static int64_t rate_count(int64_t rel_ms, int64_t rate)
{
    if (rel_ms <= 0)
        return 0;
    return (rel_ms / 1000) * rate + ((rel_ms % 1000) * rate + 999) / 1000;
}

static sl_status rate_read(sl_task *t, const void *desc, void *user)
{
    rate_desc d;
    sl_value *items, row;
    sl_status st;
    int64_t v;

    (void)user;
    memcpy(&d, desc, sizeof d);
    for (v = d.first; v < d.end; v += d.step) {
        /* Task memory is rewound after each emit. */
        items = sl_task_alloc(t, 2 * sizeof *items);
        if (!items)
            return SL_ENOMEM;
        items[0] = sl_int(rate_timestamp(d.zero_ms, v, d.rows_per_second));
        items[1] = sl_int(v);
        row = sl_composite(SL_KIND_TUPLE, items, 2);
        st = sl_task_emit(t, &row);
        if (st != SL_OK)
            return st;
    }
    return SL_OK;
}

/*
 * Batch b at time T holds the values due in [T - interval, T), so each value
 * appears once, in the batch whose interval contains its timestamp. Values
 * are dealt round-robin to the partitions, as Spark's rate source does
 * (RateStreamMicroBatchInputPartition: start + partitionId, step
 * numPartitions).
 */
static sl_status rate_plan_range(rate_state *r, int64_t batch_id,
                                 int64_t time_ms, int64_t start, int64_t end,
                                 sl_plan *plan)
{
    rate_desc d;
    char offsets[128];
    size_t p;
    sl_status st;

    d.end = end;
    d.step = (int64_t)r->partitions;
    d.zero_ms = time_ms - batch_id * r->interval_ms;
    d.rows_per_second = r->rows_per_second;
    for (p = 0; p < r->partitions; p++) {
        d.first = start + (int64_t)p;
        st = sl_plan_add_reader(plan, rate_read, &d, sizeof d, NULL);
        if (st != SL_OK)
            return st;
    }
    sl_plan_add_records(plan, end - start);
    snprintf(offsets, sizeof offsets,
             "{\"batch\":%lld,\"start\":%lld,\"end\":%lld}",
             (long long)batch_id, (long long)start, (long long)end);
    st = sl_plan_set_offsets(plan, offsets);
    if (st == SL_OK)
        r->next = end;
    return st;
}

static sl_status rate_plan(void *state, int64_t batch_id, int64_t time_ms,
                           sl_plan *plan)
{
    rate_state *r = state;
    int64_t zero = time_ms - batch_id * r->interval_ms, end = r->next;

    if (r->rows_per_second > 0)
        end = rate_count(time_ms - zero, r->rows_per_second);
    if (end < r->next)
        end = r->next;
    return rate_plan_range(r, batch_id, time_ms, r->next, end, plan);
}

/* Read {"batch":B,"start":S,"end":E} back; false when it is not that. */
static bool rate_offsets(const char *json, int64_t *batch, int64_t *start,
                         int64_t *end)
{
    return sl__plan_offset_int(json, "batch", batch) &&
           sl__plan_offset_int(json, "start", start) &&
           sl__plan_offset_int(json, "end", end) && *start >= 0 &&
           *end >= *start;
}

/* The recorded value range again: its rows depend on the range and the
 * batch time alone, so the batch is the same whatever the rate is now. */
static sl_status rate_replan(void *state, int64_t batch_id, int64_t time_ms,
                             const char *offsets_json, sl_plan *plan)
{
    int64_t b, start, end;
    if (!rate_offsets(offsets_json, &b, &start, &end) || b != batch_id) {
        sl_plan_set_error(plan, "unreadable offsets '%.100s'", offsets_json);
        return SL_ECORRUPT;
    }
    return rate_plan_range(state, batch_id, time_ms, start, end, plan);
}

static sl_status rate_restore(void *state, int64_t batch_id,
                              const char *offsets_json)
{
    rate_state *r = state;
    int64_t b, start, end;
    if (!rate_offsets(offsets_json, &b, &start, &end) || b != batch_id)
        return SL_EPARSE;
    r->next = end;
    return SL_OK;
}

static void rate_free(void *state)
{
    sl_free(state);
}

/*
 * Lag 0: a batch takes every value due by its time, and a value due later
 * belongs to a later interval, not to a backlog; nothing waits in the
 * source. A job falling behind shows in queued_batches and
 * scheduling_delay_ms instead (the values of a late batch are made for its
 * time when it runs).
 */
static void rate_progress(void *state, sl_source_progress *out)
{
    (void)state;
    out->lag = 0;
}

static const sl_planned_ops rate_ops = {
    SL_PLANNED_OPS_VERSION,
    "rate",
    rate_plan,
    NULL,
    rate_free,
    rate_replan,
    rate_restore,
    rate_progress,
    NULL,
    NULL,
    NULL, /* no end: refuses the trigger available_now */
    NULL,
};

/* Read the rate.* options; conf validated their ranges already. */
static sl_status rate_configure(void *state, const sl_conf *conf,
                                sl_context *ctx)
{
    rate_state *r = state;
    int64_t partitions = 0;
    sl_status st;

    r->interval_ms = sl_context_batch_interval(ctx);
    st = sl_conf_get_int(conf, "rate.rows_per_second", &r->rows_per_second);
    if (st == SL_OK)
        st = sl_conf_get_int(conf, "rate.partitions", &partitions);
    if (st != SL_OK)
        return st;
    r->partitions = sl__plan_partitions(partitions, ctx);
    return SL_OK;
}

sl_dstream *sl_rate_stream(sl_context *ctx, const sl_conf *conf)
{
    return sl__plan_source_stream(ctx, conf, &rate_ops, sizeof(rate_state),
                                  rate_configure, "rate source");
}
