/*
 * Event time in SQL streams (sql_stream_time.c, docs/sql.md "Event time
 * and watermarks"): which group key of a streaming aggregation carries
 * the watermarked column (as it is, or through window()), the rows late
 * for it, and the keys whose state the watermark has passed.
 */
#ifndef SL_SQL_SQL_STREAM_TIME_H
#define SL_SQL_SQL_STREAM_TIME_H

#include "sql/plan.h"

#include <sluice/stream.h>

struct sl__dead_letters;

typedef struct sl__sql_evtime {
    sl__sql_late late;         /* the AGGREGATE node's hook (late.user: this) */
    _Atomic int64_t watermark; /* the running batch's (set by the job thread) */
    sl_context *ctx;
    sl_dstream *stateful; /* its state store: dropped_late counted there */
    struct sl__dead_letters *dead; /* borrowed, or NULL */
    const char *stream;            /* the SQL stream's name, or NULL */
    sl_schema *input;              /* the aggregation's input rows */
} sl__sql_evtime;

/*
 * Whether agg (an AGGREGATE node of a stream's plan) groups by the event
 * time of view (its watermarked column, as it is or as window(column,
 * ...)): then et is set up for it (NULL watermark stream: false). is_view
 * tells whether a SCAN node reads view. SL_ENOMEM.
 */
sl_status sl__sql_evtime_find(sl__sql_evtime *et, const sl__sql_plan *agg,
                              const sl_dstream *view, const sl_schema *schema,
                              bool (*is_view)(const sl__sql_plan *scan,
                                              void *user),
                              void *user, bool *found);

/*
 * Whether column col of plan node in (below a stream's OVER aggregation)
 * is view's watermarked column as it is: then et is set up for rows of
 * in (late.key and late.window unused; late.drop takes such rows).
 * SL_ENOMEM.
 */
sl_status sl__sql_evtime_find_column(sl__sql_evtime *et, const sl__sql_plan *in,
                                     size_t col, const sl_dstream *view,
                                     const sl_schema *schema,
                                     bool (*is_view)(const sl__sql_plan *scan,
                                                     void *user),
                                     void *user, bool *found);

/** Release what find set up. */
void sl__sql_evtime_free(sl__sql_evtime *et);

/** The expiry of a state key (the group key tuple): behind the
 * watermark. user: the sl__sql_evtime. */
bool sl__sql_evtime_expired(const sl_value *key, void *user);

#endif /* SL_SQL_SQL_STREAM_TIME_H */
