/*
 * OVER aggregation in SQL streams (sql_stream_over.c, docs/sql.md
 * "OVER aggregation in streams"): the plan's chain of WINDOW nodes runs
 * as a map_with_state keyed by the partition key tuple, ordered by the
 * input's watermarked column; each row is emitted once, in the first
 * batch whose watermark reaches its event time.
 */
#ifndef SL_SQL_SQL_STREAM_OVER_H
#define SL_SQL_SQL_STREAM_OVER_H

#include "sql/sql_stream_time.h"

typedef struct sl__sql_over {
    const sl__sql_plan *top;     /* the chain's last WINDOW node */
    const sl__sql_plan *wins[8]; /* the chain, from its input up */
    size_t nwin;
    size_t ts;         /* the event-time column of wins[0]'s input rows */
    sl__sql_evtime et; /* the watermark, late rows (their dead letters) */
} sl__sql_over;

/*
 * Find plan's OVER aggregation (*found: there is one) and check that a
 * stream can run it: one chain of WINDOW nodes, no GROUP BY aggregation,
 * one PARTITION BY and ORDER BY for all, the ORDER BY key the watermarked
 * column of view (is_view tells whether a SCAN reads it), bounded frames.
 * text: the query (errors point into it). SL_EINVAL with errbuf set,
 * SL_ENOMEM.
 */
sl_status sl__sql_over_find(
    sl__sql_over *o, const sl__sql_plan *plan, const char *text,
    const sl_dstream *view, const sl_schema *schema,
    bool (*is_view)(const sl__sql_plan *scan, void *user), void *user,
    bool *found, char *errbuf, size_t errlen);

/** Release what find set up. */
void sl__sql_over_free(sl__sql_over *o);

/*
 * The batch's rows of wins[0]'s input, less the late ones (event time
 * NULL or <= the watermark in o->et: dropped as late), as (partition key
 * tuple, [rows]) pairs. Job thread, after o->et.watermark is set.
 */
sl_status sl__sql_over_keyed(sl__sql_over *o, sl_rdd *rows, sl_rdd **out);

/* The map_with_state function (user: o) and its due hook. */
sl_status sl__sql_over_state_fn(sl_task *t, const sl_value *key,
                                const sl_value *value, sl_state *state,
                                void *user);
bool sl__sql_over_due(const sl_value *key, const sl_value *state, void *user);

#endif /* SL_SQL_SQL_STREAM_OVER_H */
