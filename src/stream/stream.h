/*
 * The stream layer's internal interface to the layers above it (job
 * files, later SQL) and the connectors: what they need of a context beyond
 * the public API. Implemented in the files of src/stream named at each
 * call; its private details are in stream_int.h.
 */
#ifndef SL_STREAM_STREAM_H
#define SL_STREAM_STREAM_H

#include <sluice/stream.h>

#include "core/records.h"

/*
 * output.c: name the output registered last on ctx (a job file's sink
 * name), so that manifests and metrics can tell outputs apart. The name
 * is copied; NULL clears it. SL_ESTATE when ctx has no output yet,
 * SL_ENOMEM.
 */
sl_status sl__output_set_name(sl_context *ctx, const char *name);
/* The name of ctx's i-th output in registration order (borrowed), NULL
 * when it has none or past the last. */
const char *sl__output_name_at(const sl_context *ctx, size_t i);

/* context.c: sl_context_new that also says why it failed, in *status
 * (SL_ENOMEM, SL_EINVAL for a bad conf ...), so callers never read the
 * status back from the message. */
sl_context *sl__context_create(sl_conf *conf, sl_status *status, char *errbuf,
                               size_t errlen);

/* context.c: the context's counts of records set aside
 * (sl_context_bad_record_stats), for the dead-letter files and
 * on_bad_record policies that belong to it. Borrowed; lives as long as the
 * context. */
sl__bad_counts *sl__context_bad_counts(sl_context *ctx);

/* A trial context (sl_job_check: built to be looked at, never started):
 * sources make no directory, watch nothing, open no file. */
void sl__context_set_trial(sl_context *ctx);
bool sl__context_trial(const sl_context *ctx);

/* identity.c: operator parameters a builder (the job layer) knows and
 * the stream does not (its functions by name, their arguments), as text
 * for a checkpoint's config fingerprint: a restart with other parameters
 * is refused, naming the stream. Copied; SL_ENOMEM. */
sl_status sl__dstream_set_params(sl_dstream *s, const char *text);
/* identity.c: a source's schema (a reference is taken; NULL: none) and
 * the name of its parse mode (a constant string, or NULL), which
 * sl_dstream_schema returns and the config fingerprint records: a
 * restart with another schema or mode would make other batches. */
void sl__dstream_set_schema(sl_dstream *s, const sl_schema *schema,
                            const char *parse_mode);
/* identity.c: a SQL stream's output mode and key columns (copied; NULL
 * and 0 for none), which sl_dstream_output_mode / sl_dstream_key_columns
 * return to sinks. SL_ENOMEM. */
sl_status sl__dstream_set_output(sl_dstream *s, sl_output_mode mode,
                                 const size_t *keys, size_t nkeys);
/* identity.c: s (a transform, union or join) gives no batch when a
 * parent gave none, instead of failing the job with SL_ENOBATCH as
 * Spark's TransformedDStream does. For the SQL layer: a structured
 * stream has no such thing as a missing batch, a queue's `null` entry is
 * a batch without rows to it. */
void sl__dstream_pass_missing(sl_dstream *s);
/* identity.c: the first parent of s (the stream it was made from), NULL
 * for a source. Borrowed. */
sl_dstream *sl__dstream_parent(sl_dstream *s);
/* views.c: the stream registered as view name (case-insensitive) on
 * ctx and the view's schema (both borrowed), NULL when there is none. */
sl_dstream *sl__context_find_view(sl_context *ctx, const char *name,
                                  const sl_schema **schema);
/* views.c: p (freed by fn when the context frees its streams) belongs
 * to s; and twin, a stateful stream s is made of, takes s's name with
 * ".state" appended whenever s is named (a SQL stream's aggregation). */
void sl__dstream_own(sl_dstream *s, void *p, void (*fn)(void *));
void sl__dstream_name_with(sl_dstream *s, sl_dstream *twin);
/*
 * progress.c: the progress entry's "job" (a job file's name; copied, NULL
 * clears it; SL_ENOMEM) and "job_id" (the checkpoint's job id, at most 39
 * characters, before start: SL_EINVAL, SL_ESTATE). Without a job id the
 * context has a random one of its own.
 */
sl_status sl__context_set_job_name(sl_context *ctx, const char *name);
sl_status sl__context_set_job_id(sl_context *ctx, const char *id);

/* map_state.c: a map_with_state stream's keys for which expire(key,
 * user) holds get a timing-out call and lose their state, as idle keys do
 * (an event-time key behind the watermark); checked every batch, on the
 * task of each shard, for keys the batch did not touch. */
void sl__map_state_set_expiry(sl_dstream *mapped,
                              bool (*expire)(const sl_value *key, void *user),
                              void *user);
/* map_state.c: a map_with_state stream's keys that the batch did not
 * touch and for which due(key, state, user) holds (any thread; state is
 * borrowed) get a call with value NULL and a state that can be updated
 * or removed, after the batch's records (SQL streams' OVER). */
void sl__map_state_set_due(sl_dstream *mapped,
                           bool (*due)(const sl_value *key,
                                       const sl_value *state, void *user),
                           void *user);

/* Rows a stateful stream's producer dropped as late this batch (any
 * thread): the progress entry's state[].dropped_late. */
void sl__dstream_count_late(sl_dstream *stateful, int64_t n);

/* watermark.c: s's declared event-time column and *delay_ms, or NULL. */
const char *sl__dstream_watermark(const sl_dstream *s, int64_t *delay_ms);
/* The watermark of the batch being run (job thread; outside a batch, the
 * one the next batch will use): 0 until an event time is seen. */
int64_t sl__context_batch_watermark(const sl_context *ctx);

/*
 * services.c: a service lives beside a context for its whole life (the
 * control plane, src/control): told when the context has started and when
 * it has ended, freed with it. Methods are only appended (version).
 */
typedef struct sl__context_end {
    sl_status status;   /* SL_OK: stopped; else why it failed */
    const char *errmsg; /* the failure's message ("" when stopped) */
    int64_t unprocessed_records, unprocessed_batches;
    bool timed_out; /* the graceful stop ran past its timeout */
    int64_t batches_done;
} sl__context_end;

typedef struct sl__service_ops {
    int version; /* 1 */
    const char *name;
    /* After sl_context_start succeeded, on the caller's thread. */
    void (*on_started)(void *state);
    /* The context has ended (also: failed to start), before
     * sl_context_await_termination returns; on the job thread, or on
     * the thread whose sl_context_start failed. */
    void (*on_ended)(void *state, const sl__context_end *end);
    /* At sl_context_free, first, while the context is still whole (its
     * threads have ended). */
    void (*free)(void *state);
} sl__service_ops;

/* Add a service to ctx (before start). SL_ESTATE, SL_ENOMEM. */
sl_status sl__context_add_service(sl_context *ctx, const sl__service_ops *ops,
                                  void *state);
/* The state of ctx's service of table ops, or NULL. */
void *sl__context_service(sl_context *ctx, const sl__service_ops *ops);

/* What the control plane reads of a running context (any thread). */
typedef struct sl__context_live {
    bool started;        /* sl_context_start succeeded */
    bool stop_requested; /* a stop is under way */
    bool terminated;
    int64_t queued_batches; /* batches waiting for the job thread now */
    int64_t batch_interval_ms;
} sl__context_live;
void sl__context_live_read(sl_context *ctx, sl__context_live *out);
/* Whether a receiver of ctx is still trying to reach its input for the
 * first time (connection attempts made, none succeeded): then what, in
 * buf ("socket source words: 3 connection attempts failed"). */
bool sl__context_waiting_for(sl_context *ctx, char *buf, size_t len);

/* src/control: attach the control plane when the environment names the
 * job (SLUICE_JOB_NAME; streamctl start --exec), from sl_context_start.
 * The one call from this layer up: a C program is managed without a line
 * of its own. SL_OK when the environment names no job. */
sl_status sl__control_attach_from_env(sl_context *ctx);

#endif /* SL_STREAM_STREAM_H */
