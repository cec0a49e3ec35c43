/*
 * session_window in SQL streams (sql_stream_session.c, docs/sql.md
 * "Session windows"): the running sessions per other keys.
 */
#ifndef SL_SQL_SQL_STREAM_SESSION_H
#define SL_SQL_SQL_STREAM_SESSION_H

#include "sql/sql_stream_time.h"

/*
 * The sessions to finish each batch from partial, the stream of a batch's
 * partial aggregation (keys, accumulators) of agg (a session
 * aggregation): append mode (et set: the watermark) gives each session
 * once, in the first batch whose watermark >= its end, and forgets it;
 * complete mode gives every session every batch. *stateful: the stream
 * holding the state (its late rows are counted there). NULL with the
 * context's error set.
 */
sl_dstream *sl__sql_session_stream(sl_dstream *partial, const sl__sql_plan *agg,
                                   const sl__sql_evtime *et,
                                   sl_output_mode mode, sl_dstream **stateful);

#endif /* SL_SQL_SQL_STREAM_SESSION_H */
