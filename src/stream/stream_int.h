/*
 * Private structures of the streaming layer: the context and its threads,
 * the DStream graph, receivers and their blocks, planned sources, batches
 * and output operations. Only the files of src/stream include this.
 */
#ifndef SL_STREAM_STREAM_INT_H
#define SL_STREAM_STREAM_INT_H

#include <pthread.h>
#include <sluice/sink.h>
#include <sluice/source.h>
#include <sluice/stream.h>

#include "core/core.h"
#include "rdd/rdd.h"
#include "stream/stream.h"

struct event;
struct event_base;
struct sl__buf;
struct sl__ckpt;

/* ------------------------------------------------------------- blocks */

/* A receive block: bytes from one receiver. Sealed blocks end with a
 * complete line and are read by worker tasks as text partitions. */
typedef struct block {
    struct block *next;
    size_t cap, len;
    /* Bytes this block adds to ctx->buffered_bytes: its data while open,
     * its whole capacity once sealed (what it really pins). */
    size_t charged;
    int64_t records; /* complete lines in data[0, len) */
    /* Block id (receiver, sequence), given when the block is sealed: what
     * a batch's offsets will record for the write-ahead log. */
    uint32_t receiver;
    uint64_t seq;
    char data[];
} block;

/* --------------------------------------------------------- receivers */

/* One input's line state while another input's is in the open block
 * (sl_receiver_channel_use): its unterminated line, copied out, and the
 * over-long line it may be dropping. I/O thread. */
struct sl_receiver_channel {
    char *tail; /* the unterminated line's bytes (tail_cap allocated) */
    size_t tail_len, tail_cap;
    bool discarding, dead_open;
    char *dead_text; /* SL__DEAD_TEXT_MAX bytes while parked, or NULL */
    size_t dead_len;
    int64_t dead_seen;
};

struct sl_receiver {
    sl_context *ctx;
    sl_dstream *stream;
    const sl_receiver_ops *ops;
    void *state;
    size_t index;
    /* I/O thread only */
    block *open;
    size_t line_len; /* bytes of the unterminated line at open's end */
    bool discarding; /* dropping the rest of an over-long line */
    block *sealed, **sealed_tail;
    uint64_t next_seq; /* sequence number of the next sealed block */
    bool started, stopped, paused;
    bool failed; /* sl_receiver_fail was called: its message stands */
    int64_t reported_too_long; /* job thread: lines_too_long at the last
                                * progress entry */
    /* dead letters of over-long lines (I/O thread; the file's owner is
     * the source): the first SL__DEAD_TEXT_MAX bytes kept as they pass */
    struct sl__dead_letters *dead;
    const char *dead_origin;
    char *dead_text;   /* SL__DEAD_TEXT_MAX bytes, or NULL */
    size_t dead_len;   /* bytes kept of the line being dropped */
    int64_t dead_seen; /* bytes of it seen */
    bool dead_open;    /* a line is being dropped and kept */
    /* The channel whose line the fields above hold (NULL: the receiver's
     * own, parked in own while a channel is in use). */
    struct sl_receiver_channel *chan, own;
    /* any thread */
    atomic_llong bytes, lines_too_long, errors, pauses, partial_lines;
    /* complete lines received and not yet taken into a batch (the progress
     * entry's lag): added by the I/O thread as lines complete, taken off
     * as a batch takes the sealed blocks or a stop drops them */
    atomic_llong waiting;
    atomic_llong connect_attempts, connect_failures, connect_failures_in_row;
    atomic_bool connecting;           /* sl_receiver_set_connecting */
    struct sl__recv_records *records; /* formats and schema, or NULL */
};

/* recv_records.c: a receiver's lines parsed into records on the workers
 * (format csv/json, or a schema). */
typedef struct sl__recv_records sl__recv_records;
/* Give receiver stream s record options o (checked; the schema is
 * retained), its dead-letter file (borrowed: it outlives the receiver,
 * or NULL) and the source's name; sets the stream's schema. Plain lines
 * without a schema keep the text partitions. Job thread, before start.
 * SL_ECONF, SL_EINVAL, SL_ENOMEM with err saying why. */
sl_status sl__receiver_set_records(sl_dstream *s, const sl__rec_options *o,
                                   struct sl__dead_letters *dead,
                                   const char *name, char *err, size_t errlen);
void sl__receiver_records_free(sl__recv_records *rr);
/* Malformed records so far (any thread; 0 for NULL). */
int64_t sl__receiver_records_malformed(const sl__recv_records *rr);
/* Fill parts[0, nparts) with reader partitions over the nblocks blocks of
 * list, runs of consecutive blocks (scope memory of eng). SL_ENOMEM. */
sl_status sl__receiver_records_parts(const sl__recv_records *rr, block *list,
                                     sl__src_desc *parts, size_t nparts,
                                     size_t nblocks, sl_engine *eng);

/* Write over-long lines (receiver.max_line_bytes) of r to d as
 * "too_long" dead letters with origin {"source": origin}; d and origin
 * belong to the caller and outlive r. I/O thread, from the start method.
 * SL_ENOMEM. */
sl_status sl__receiver_dead_letters(sl_receiver *r, struct sl__dead_letters *d,
                                    const char *origin);

/* ----------------------------------------------------------- batches */

/* The timed phases of a batch, in the order they run (progress entry's
 * duration_ms; jobs.c times them). */
typedef enum sl__phase {
    SL__PHASE_PLAN,
    SL__PHASE_OFFSETS,
    SL__PHASE_COMPUTE,
    SL__PHASE_SINKS,
    SL__PHASE_COMMIT,
    SL__PHASE_TOTAL,
    SL__PHASES
} sl__phase;

/* One planned source's part of a batch, made by the plan step (job
 * thread) before anything is computed; in the batch's scope. */
typedef struct src_plan {
    sl_rdd *rdd;     /* NULL: no batch (Spark's None) */
    int64_t records; /* known at plan time (values; readers may add) */
    size_t readers;  /* reader partitions: input whose size is unknown */
    char *offsets;   /* recorded offsets JSON, or NULL when none were set */
} src_plan;

typedef struct batch {
    struct batch *next;
    int64_t id, time_ms;
    block **blocks; /* per receiver: sealed blocks of this batch */
    sl_batch_info info;
    sl__scope *scope;
    bool final;
    /* per planned source (ctx->planned order), once planned */
    src_plan *plans;
    sl_source_offsets *offsets; /* what info.sources points to */
    bool planned;
    /* recovery.c: no input, so offsets/<batch> waits to see whether the
     * batch changes any state (else it writes nothing: a gap) */
    bool ck_deferred, ck_gap;
    /* A batch run again after a restart: per planned source, the offsets
     * recorded for it (sl_malloc'd, owned; NULL entries: none recorded).
     * NULL for a new batch. */
    char **replay;
    /* Its blocks are in the receiver WAL, synced (or there is no WAL):
     * the job thread runs only a logged batch. Under ctx->lock. */
    bool logged;
    /* For its progress entry (job thread): each phase's time (monotonic,
     * microseconds), the batches queued behind it when it started, and
     * what its checkpoint wrote (sl__batch_set_checkpoint_stats). */
    int64_t phase_us[SL__PHASES];
    int64_t queued_behind;
    int64_t ckpt_bytes, ckpt_files;
    /* watermark.c: the watermark this batch uses (a batch run again after
     * a restart: the one recorded in its offsets), and its event times */
    int64_t watermark_ms, next_watermark_ms;
    bool replay_watermark;
    int64_t replayed_watermark_ms;
    struct {
        int64_t min, max, count;
        double sum;
    } event;
} batch;

/* What a stop left undone; under ctx->lock. */
typedef struct stop_tally {
    int64_t records; /* received or planned records not processed */
    int64_t batches; /* batches dropped or interrupted */
    int64_t partial; /* unterminated lines of live connections */
    bool timed_out;  /* the graceful stop passed its timeout */
} stop_tally;

/* ---------------------------------------------------------- DStreams */

typedef enum ds_kind {
    DS_RECEIVER,
    DS_PLANNED,
    DS_MAP,
    DS_FLAT_MAP,
    DS_FILTER,
    DS_MAP_PARTITIONS,
    DS_GLOM,
    DS_MAP_VALUES,
    DS_FLAT_MAP_VALUES,
    DS_REDUCE_BY_KEY,
    DS_GROUP_BY_KEY,
    DS_COMBINE_BY_KEY,
    DS_COUNT,
    DS_COUNT_BY_VALUE,
    DS_REDUCE,
    DS_UNION,
    DS_TRANSFORM,
    DS_TRANSFORM2,
    DS_TRANSFORM_N,
    DS_REPARTITION,
    DS_JOIN,
    DS_LEFT_JOIN,
    DS_RIGHT_JOIN,
    DS_FULL_JOIN,
    DS_COGROUP,
    DS_WINDOW,         /* union of the parent's batches in the window */
    DS_REDUCED_WINDOW, /* reduce_by_key_and_window with an inverse */
    DS_UPDATE_STATE,   /* update_state_by_key */
    DS_MAP_WITH_STATE, /* map_with_state: the mapped records */
    DS_STATE_SNAPSHOTS /* map_with_state's (key, state) after each batch */
} ds_kind;

typedef union ds_fn {
    sl_map_fn map;
    sl_flat_map_fn flat_map;
    sl_filter_fn filter;
    sl_partition_fn part;
    sl_reduce_fn reduce;
    sl_transform_fn transform;
    sl_transform2_fn transform2;
    sl_transform_n_fn transform_n;
} ds_fn;

/* One remembered batch of a stream (for slice). */
typedef struct remembered {
    struct remembered *next;
    int64_t time_ms;
    sl__retained *rdd; /* NULL: the stream had no batch then */
} remembered;

struct sl_dstream {
    sl_context *ctx;
    ds_kind kind;
    sl_dstream **parents;
    size_t nparents;
    int64_t slide_ms;
    ds_fn fn;
    sl_map_fn create; /* combine_by_key */
    sl_reduce_fn merge2;
    void *user;
    size_t partitions;
    bool persist;
    bool pass_missing; /* sl__dstream_pass_missing: no batch in, none out */
    /* sources */
    sl_receiver *receiver;
    const sl_planned_ops *planned;
    void *planned_state;
    size_t planned_index; /* in ctx->planned */
    char *name;           /* sl_dstream_set_name, or NULL */
    char *params;      /* sl__dstream_set_params: in the fingerprint, or NULL */
    sl_schema *schema; /* a source's rows (a reference), or NULL */
    const char *parse_mode; /* its parse mode's name (constant), or NULL */
    int output_mode;        /* sl_output_mode: what each batch's rows are */
    size_t *key_columns;    /* update mode: the columns that key a row */
    size_t nkey_columns;
    char *view_name;        /* sl_dstream_register_view, or NULL */
    struct sl__wm *wm;      /* watermark.c: its event-time column, or NULL */
    sl_schema *view_schema; /* the view's rows (a reference), or NULL; set
                             * before any name: the source's column names */
    void *owned;            /* sl__dstream_own: freed with the stream */
    void (*owned_free)(void *);
    sl_dstream *named_with; /* takes this stream's name + ".state" */
    /* job thread: the RDD of the batch being run */
    int64_t memo_batch;
    sl_rdd *memo_rdd; /* NULL with memo_batch set: no batch (Spark's None) */
    remembered *remembered; /* newest first; ctx->lock */
    sl_dstream *next_in_ctx;
    sl_dstream *newer_in_ctx; /* the stream made after this one */
    size_t depth;             /* streams on its longest path from a source */
    /* windows (job thread): the parent's batches still covered, newest
     * first, and for the inverse form the last result and its time */
    int64_t window_ms;
    remembered *ring;
    sl_reduce_fn inverse;
    sl_filter_fn keep;
    sl__retained *prev_result;
    int64_t prev_time;
    /* The running batch's window changes, published together with the
     * stores' by sl__batch_commit or undone by sl__batch_abort: the entry
     * it pushed (already at the ring's head, so the batch reads it), the
     * time at or before which the commit drops entries, and its result. */
    remembered *ring_new;
    int64_t ring_cut;
    bool ring_pending;
    sl__retained *next_result;
    int64_t next_time;
    /* state (job thread; shards written by their own tasks) */
    struct sl__state_store *store;
    sl_update_state_fn update;
    sl_map_with_state_fn map_state;
    int64_t timeout_ms;
    /* map_with_state: keys expire when expire says so (an event-time key
     * behind the watermark), as idle ones time out; rows its producer
     * dropped as late in the batch, for the progress entry (any thread) */
    bool (*expire)(const sl_value *key, void *user);
    void *expire_user;
    /* map_with_state: keys the batch left untouched for which due(key,
     * state) holds get a call with no value and a live state (a
     * streaming OVER's rows the watermark has reached) */
    bool (*due)(const sl_value *key, const sl_value *state, void *user);
    void *due_user;
    _Atomic int64_t dropped_late;
    /* ckpt_state.c: per shard, the version of its newest state file on
     * disk (-1: none), which the next delta records as its base; NULL
     * until the first checkpoint write or restore. */
    int64_t *ckpt_last;
};

/* ----------------------------------------------------------- outputs */

typedef enum out_kind { OUT_FOREACH, OUT_SINK } out_kind;

typedef struct output {
    struct output *next;
    out_kind kind;
    sl_dstream *stream;
    sl_foreach_rdd_fn fn; /* OUT_FOREACH */
    void *user;
    const sl_sink_ops *ops; /* OUT_SINK, with its state in user */
    bool opened;            /* ops->open ran */
    int64_t written;        /* the batch write_batch last wrote, or -1 */
    char *name;             /* the sink's name; NULL for foreach_rdd */
    bool named;             /* name given, not a default */
    int64_t rows;           /* job thread: records the running batch wrote;
                             * -1 when the output does not count them */
} output;

typedef struct listener {
    struct listener *next;
    sl_listener l;
    void *user;
} listener;

/* A service (services.c), in the order added. */
typedef struct service {
    struct service *next;
    const sl__service_ops *ops;
    void *state;
} service;

/* ----------------------------------------------------------- progress */

/* The progress entries of a context (progress.c). The ring is read by any
 * thread under lock; the rest belongs to the job thread. */
typedef struct sl__progress {
    pthread_mutex_t lock;
    char **ring; /* the last cap entries, oldest at head */
    size_t cap, head, count;
    char *buf; /* the entry being built, grown as needed */
    size_t buf_cap, len;
    bool failed;     /* the entry being built ran out of memory */
    char job_id[40]; /* checkpoint's job id, else random per context */
    char run_id[40]; /* random, made at each start */
    char *job_name;  /* sl__context_set_job_name, or NULL */
    struct sl__src_track *src; /* per planned source (progress.c) */
    size_t nsrc;
    int64_t extra_rows; /* the entry's rows the batch info does not hold */
} sl__progress;

/* ------------------------------------------------------------ context */

typedef enum ctx_state { CTX_NEW, CTX_RUNNING, CTX_STOPPED } ctx_state;

struct sl_context {
    sl_conf *conf;
    sl__logger log;
    /* The message is written by the job, I/O and worker threads: err_lock
     * guards it, and err_final keeps the first failure's text (set with
     * that failure) from being overwritten by later errors. */
    sl__errmsg err;
    pthread_mutex_t err_lock;
    bool err_final;
    sl_engine *eng;
    int64_t interval_ms, max_batches, remember_ms;
    bool manual_clock;
    /* trigger available_now (context.c, jobs.c): the sources' input at
     * start, then a last batch with the watermark at +infinity, then a
     * graceful stop; drain: the sources are exhausted, and the batch
     * after that is the last */
    bool available_now, drain;
    bool back_to_back; /* batches back to back: manual clock or the above */
    int64_t zero_ms;   /* time of batch 0 */

    sl_dstream *streams; /* every stream, newest first */
    sl_receiver **receivers;
    size_t nreceivers;
    sl_dstream **planned;
    size_t nplanned;
    output *outputs, **outputs_tail;
    listener *listeners, **listeners_tail;
    service *services;
    bool services_ended; /* on_ended was called */

    /* threads */
    pthread_t io_thread, job_thread;
    /* Set by the job thread itself before it runs any batch: pthread_create
     * may return after the new thread already ran callbacks. */
    pthread_t job_self, io_self;
    atomic_bool job_self_set, io_self_set;
    batch *current; /* job thread: the batch being run */
    bool threads_started, threads_joining, threads_joined;
    atomic_bool receivers_started; /* the I/O thread started them */
    pthread_mutex_t lock;
    pthread_cond_t cv;       /* queue, state and termination changes */
    _Atomic ctx_state state; /* read without the lock by await and builders */
    batch *queue, **queue_tail;
    bool input_done; /* the I/O thread will queue no more batches */
    bool stop_requested, stop_graceful;
    bool job_busy; /* a batch is running */
    atomic_bool terminated;
    sl_status failure;
    stop_tally left;
    size_t nqueued, max_queued; /* batches waiting for the job thread */
    int64_t next_batch_id;      /* I/O thread: the first tick without a batch */
    int64_t graceful_timeout_ms;
    int64_t *slides; /* I/O thread: slides longer than the interval */
    size_t nslides;
    int64_t ticks_absorbed, absorbed_logged_ms; /* I/O thread */
    int64_t due;          /* I/O thread: the last tick due at the last look */
    bool ticks_held;      /* I/O thread: due ticks waited for a full queue */
    int64_t missed_until; /* I/O thread: the last tick due at a resume */
    int64_t batches_done;
    bool skip_initial_state; /* see sl__context_skip_initial_state */
    /* sl__context_resume: where a restarted context goes on (else batch
     * ids from 1, the zero time from the clock, block sequences from 0) */
    bool resumed;
    int64_t resume_batch_id;      /* the last batch of the earlier run */
    batch *replay, **replay_tail; /* batches to run again, queued first */
    int64_t replay_last_id;
    /* The receiver WAL and its writer thread (wal_glue.c), or NULL. */
    struct sl__walg *walg;
    /* recovery.c: the checkpoint directory in use (NULL: none), its
     * settings, and whether sl__recovery_prepare ran */
    struct sl__ckpt *ck;
    int64_t snapshot_every, retain_batches;
    int64_t ck_last_commit; /* job thread: the last batch committed here */
    /* The last committed batch found at start (0: none), whose sinks' and
     * sources' commit run again before the first batch (a crash or a
     * failed commit may have cut them short). */
    int64_t ck_recommit;
    uint64_t ck_bytes0, ck_files0; /* io counters when the batch began */
    bool ck_prepared;

    /* I/O thread */
    struct event_base *base;
    struct event *tick_ev, *wake_ev, *deadline_ev;
    int wake_fd;
    atomic_bool wake_pending;
    atomic_llong buffered_bytes;
    atomic_llong json_replaced; /* ill-formed UTF-8 the JSON sinks replaced */
    sl__bad_counts bad;         /* records set aside (any thread) */
    int64_t json_warned_ms;     /* job thread */
    int64_t max_buffered, max_line;
    size_t block_cap; /* every block: max(block_bytes, max_line + 1) */
    bool io_paused;
    bool input_finished; /* the I/O thread made its last batch */
    block *free_blocks;  /* pool, under lock */
    size_t nfree_blocks;

    sl__progress progress;
    struct sl__memreg *mem; /* memory tables and the query engine */
    /* watermark.c (job thread): the watermark the next batch uses */
    int64_t watermark_ms;
    int64_t used_watermark_ms; /* the one the last batch used */
    bool has_watermark;        /* some stream declares one */
};

/* trigger.c: available_now. At start (after recovery): every planned
 * source fixes its end, or the start is refused. After each batch (job
 * thread): all exhausted means one last batch at watermark +infinity. */
sl_status sl__available_now_start(sl_context *ctx);
void sl__available_now_after(sl_context *ctx, const batch *b);

/* watermark.c: the stream layer's side of event-time watermarks. */
struct sl__wm;
void sl__wm_free(struct sl__wm *w);
/* Wrap s's batch RDD so that its event times are observed. */
sl_status sl__wm_observe(sl_dstream *s, sl_rdd **rdd);
/* Job thread, after the plan: the batch's watermark, stats reset. */
void sl__wm_begin(sl_context *ctx, batch *b);
/* Job thread, after the outputs: the batch's event times, and the
 * watermark of the next batch (b->next_watermark_ms, in its commit
 * entry); sl__wm_commit makes it the context's once b committed. */
void sl__wm_end(sl_context *ctx, batch *b);
void sl__wm_commit(sl_context *ctx, const batch *b);
/* Recovery: go on from the watermark the newest offsets entry (its
 * parsed JSON) recorded; a batch run again uses the one its entry has. */
void sl__wm_resume(sl_context *ctx, const struct cJSON *offsets);
void sl__wm_replay(sl_context *ctx, int64_t id, const struct cJSON *offsets);

/* context.c */
bool sl__on_job_thread(sl_context *ctx);
bool sl__on_io_thread(sl_context *ctx);
/* views.c: name s->named_with after s (identity.c's set_name). */
sl_status sl__dstream_name_twin(sl_dstream *s);
void sl__ctx_set_error(sl_context *ctx, sl_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
sl_status sl__ctx_check_building(sl_context *ctx);
void sl__ctx_wake_io(sl_context *ctx);
void sl__ctx_fail(sl_context *ctx, sl_status st);
void sl__ctx_fail_msg(sl_context *ctx, sl_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
const char *sl__ctx_errmsg_copy(sl_context *ctx, char *buf, size_t n);
/* services.c: tell the services the context started; that it ended
 * (once; left NULL when it never ran); free them. */
void sl__services_started(sl_context *ctx);
void sl__services_ended(sl_context *ctx, sl_status st,
                        const sl_stop_report *left);
void sl__services_free(sl_context *ctx);

/* window.c */
bool sl__time_valid(const sl_dstream *s, int64_t time_ms);
sl_status sl__window_advance(sl_dstream *s, batch *b);
sl_status sl__window_rdd(sl_dstream *s, batch *b, sl_rdd **out);
void sl__window_free(sl_dstream *s);
/* Parent batches a window keeps once the running batch commits (or now,
 * between batches), and their bytes (job thread). */
void sl__window_retained(const sl_dstream *s, size_t *batches, size_t *bytes);
/* Records a window keeps for later windows (its ring's batches and the
 * inverse form's last result) and an estimate of their memory, as the last
 * committed batch left them (progress entry's state). */
void sl__window_state(const sl_dstream *s, size_t *rows, size_t *bytes);
/* Publish the running batch's window changes: drop what slid out, take
 * the new result as the previous one. Cannot fail. */
void sl__window_commit(sl_dstream *s);
/* Undo them: the window is as the last committed batch left it. */
void sl__window_abort(sl_dstream *s);
/* True for DS_WINDOW and DS_REDUCED_WINDOW streams. */
bool sl__is_window(const sl_dstream *s);
/*
 * What a window keeps, for a checkpoint (job thread, between or during
 * batches). `after` false: as the last committed batch left it; true: as
 * the running batch's commit will leave it (the same between batches).
 * sl__window_next iterates the ring newest first from a zeroed iterator,
 * false at the end; *rdd NULL means the parent had no batch at *time_ms.
 * The retained RDDs are borrowed until the next commit, abort or restore.
 */
typedef struct sl__window_iter {
    const remembered *next; /* the entry to look at next */
    bool started;
} sl__window_iter;
bool sl__window_next(const sl_dstream *s, bool after, sl__window_iter *it,
                     int64_t *time_ms, sl__retained **rdd);
/* The inverse form's previous result and its time; false when none. */
bool sl__window_prev(const sl_dstream *s, bool after, int64_t *time_ms,
                     sl__retained **rdd);
/*
 * Restore a window (recovery, before the first batch): restore_begin
 * drops what it keeps; restore_put adds the parent's batch at time_ms from
 * values, nparts partitions of lens[i] values (parts NULL: no batch then),
 * in any order; restore_prev sets the inverse form's previous result.
 * Values are copied. SL_ENOMEM, SL_EINVAL (not a window, a time already
 * there, or a previous result on a plain window).
 */
void sl__window_restore_begin(sl_dstream *s);
sl_status sl__window_restore_put(sl_dstream *s, int64_t time_ms,
                                 const sl_value *const *parts,
                                 const size_t *lens, size_t nparts);
sl_status sl__window_restore_prev(sl_dstream *s, int64_t time_ms,
                                  const sl_value *const *parts,
                                  const size_t *lens, size_t nparts);

/* state_ops.c */
sl_status sl__state_advance(sl_dstream *s, batch *b);
sl_status sl__state_rdd(sl_dstream *s, batch *b, sl_rdd **out);
/** A stateful stream's batch: begin the store's version, group the input
 * into one partition per shard and run fn over each (op names errors). */
sl_status sl__state_batch_rdd(sl_dstream *s, batch *b, sl_partition_fn fn,
                              const char *op, sl_rdd **out);
sl_status sl__state_load_initial(sl_dstream *s, const sl_value *initial,
                                 size_t n);
/* Drop the initial state of update_state_by_key and map_with_state and
 * apply none to streams made later: for a context restarted from a
 * checkpoint, whose state comes from there. Before start, else SL_ESTATE. */
sl_status sl__context_skip_initial_state(sl_context *ctx);
bool sl__is_stateful(const sl_dstream *s);

/* map_state.c */
sl_status sl__map_state_rdd(sl_dstream *s, batch *b, sl_rdd **out);
sl_status sl__snapshots_rdd(sl_dstream *s, batch *b, sl_rdd **out);
void sl__state_stream_free(sl_dstream *s);

/* compute.c */
sl_status sl__stateful_advance(sl_context *ctx, batch *b);
/*
 * The batch commit point (job thread, after every output succeeded):
 * prepare does everything that can fail for every store and window, after
 * which commit publishes them all and cannot fail; abort (after a failed
 * or interrupted batch, or a failed prepare or checkpoint write) leaves
 * every store and window as the last committed batch left it.
 */
sl_status sl__batch_prepare_commit(sl_context *ctx, batch *b);
void sl__batch_commit(sl_context *ctx, batch *b);
void sl__batch_abort(sl_context *ctx, batch *b);

/* dstream.c */
sl_dstream *sl__dstream_new(sl_context *ctx, ds_kind kind,
                            sl_dstream *const *parents, size_t n);
sl_status sl__dstream_rdd(sl_dstream *s, batch *b, sl_rdd **out);
void sl__dstream_free_all(sl_context *ctx);
void sl__dstream_remember(sl_context *ctx, batch *b);
void sl__dstream_forget(sl_dstream *s, int64_t before_ms);

/* receiver.c */
block *sl__block_get(sl_context *ctx);
void sl__block_put(sl_context *ctx, block *b);
void sl__blocks_free_pool(sl_context *ctx);
void sl__receiver_seal(sl_receiver *r, bool end_of_input);
block *sl__receiver_take_sealed(sl_receiver *r);
void sl__receiver_discard(sl_receiver *r);
void sl__receiver_free(sl_receiver *r);
void sl__io_flow_check(sl_context *ctx);

/* io.c */
void *sl__io_main(void *arg);
/* A batch at id, its time and info's id and time set, with an empty block
 * list per receiver (nreceivers + 1 entries); NULL when out of memory.
 * Freed by sl__batch_free. */
batch *sl__batch_new(sl_context *ctx, int64_t id);
sl_status sl__io_init(sl_context *ctx);
void sl__io_free(sl_context *ctx);

/* jobs.c */
void *sl__job_main(void *arg);
void sl__batch_free(sl_context *ctx, batch *b);
int64_t sl__batch_records(const sl_context *ctx, const batch *b);

/* planned.c */
sl_status sl__planned_rdd(sl_dstream *s, batch *b, sl_rdd **out);
/* Plan (or replan) every planned source of b, in the batch's scope, and
 * add their records to b->info; on failure the context's error says which
 * source. Job thread, once per batch, before anything is computed. */
sl_status sl__batch_plan(sl_context *ctx, batch *b);
/* Every output finished b: the planned sources may forget its input. The
 * one call site of the sources' commit (a checkpointed context calls it
 * once commits/<batch> is durable). */
void sl__batch_commit_sources(sl_context *ctx, batch *b);
/* Every planned source's commit of batch_id (after a restart: the last
 * committed batch's, again). */
void sl__sources_commit(sl_context *ctx, int64_t batch_id);
/* The recorded offsets of planned source i of b (its name in *name; the
 * JSON NULL when the source set none), for the checkpoint writer. False
 * when b is not planned or i is out of range. */
bool sl__batch_offsets(const batch *b, const sl_context *ctx, size_t i,
                       const char **name, const char **offsets);
/* True when b is planned and no planned source gave it input: no records
 * and no reader partitions (whose records are known only when read). */
bool sl__batch_planned_empty(const batch *b, const sl_context *ctx);
/* Set the position of every planned source after the last committed
 * batch: offsets[i] is what source i recorded then (NULL: nothing).
 * Before start. The context's error says which source failed. */
sl_status sl__sources_restore(sl_context *ctx, int64_t batch_id,
                              const char *const *offsets);

/* context.c: identity across restarts */
/* How a restarted context goes on, given before sl_context_start. */
typedef struct sl__resume {
    int64_t last_batch_id; /* the last batch recorded: new ids follow it */
    int64_t zero_ms;       /* the time of batch 0 in the earlier run */
    /* next block sequence per receiver (ctx->receivers order); NULL: 0 */
    const uint64_t *next_block_seq;
    size_t nreceivers;
} sl__resume;
/* Take ids, zero time and block sequences from r. SL_ESTATE after start,
 * SL_EINVAL when r does not fit the context (receiver count, a zero time
 * off the interval grid with the system clock). */
sl_status sl__context_resume(sl_context *ctx, const sl__resume *r);
/* Queue batch id (time from the zero time) to run first, planned from
 * the recorded offsets (ctx->nplanned entries, in ctx->planned order;
 * copied; NULL entries for none). Ids must rise and be at most the
 * resumed last_batch_id. The batch has no receiver blocks: replaying
 * those from the WAL is the recovery's part. */
sl_status sl__context_replay(sl_context *ctx, int64_t id,
                             const char *const *offsets);
/* Report (log, error on the handle) every planned source and stateful
 * stream without a name; SL_EINVAL when there is one. Recovery calls it
 * for checkpointed contexts only. */
sl_status sl__context_check_names(sl_context *ctx);
/* sl_context_start: move the replay batches into the queue. */
void sl__context_queue_replay(sl_context *ctx);

/* fingerprint.c: the configuration a checkpoint's metadata keeps */
/* Append ctx's fingerprint text to out. SL_ENOMEM, SL_ERANGE. */
sl_status sl__fingerprint_build(sl_context *ctx, struct sl__buf *out);
/* The differences from old to cur as "; "-separated sentences in msg
 * ("batch interval changed from 1000 ms to 2000 ms"); their count. */
size_t sl__fingerprint_diff(const char *old, size_t lold, const char *cur,
                            size_t lcur, char *msg, size_t n);

/* recovery.c: the checkpoint wiring (docs/checkpoint-format.md,
 * "Recovery"). prepare: open or create the directory named by
 * checkpoint.path, check names and fingerprint, and set up the resume and
 * the batches to re-run; once, before start (sl_context_start calls it).
 * Without checkpoint.path it does nothing. */
sl_status sl__recovery_prepare(sl_context *ctx);
/* Job thread, before the first batch: the sinks' and sources' commit of the
 * last committed batch found at start, again (a failure fails the job). */
void sl__recovery_recommit(sl_context *ctx);
/* Job thread, per batch: after the plan step (offsets/<batch>), after
 * sl__batch_prepare_commit (state files and commits/<batch>), and after
 * the sources' commit (snapshot and retention). No-ops without a
 * checkpoint; the context's error names the file on failure. */
sl_status sl__recovery_batch_offsets(sl_context *ctx, batch *b);
sl_status sl__recovery_batch_commit(sl_context *ctx, batch *b);
sl_status sl__recovery_batch_done(sl_context *ctx, batch *b);
/* Job thread, after its last batch: a clean end (graceful stop,
 * max_batches) writes a snapshot of the last committed batch, so that a
 * restart reads no deltas. Failures are logged only. */
void sl__recovery_final(sl_context *ctx);
/* Close the checkpoint (context free). */
void sl__recovery_close(sl_context *ctx);
/* progress.c */
sl_status sl__progress_init(sl_context *ctx);
void sl__progress_destroy(sl_context *ctx);
/* At start: a new run id, the per-source tables. SL_ENOMEM. */
sl_status sl__progress_start(sl_context *ctx);
/* Build b's entry (after it ran and committed), keep it in the ring and
 * hand it to the listeners' on_progress. Job thread; a failure to build
 * it is logged, never fails the batch. */
void sl__progress_batch(sl_context *ctx, batch *b);
/* What the checkpoint wrote for b (its progress entry's "checkpoint";
 * 0 and 0 without a checkpoint). Job thread, before the entry is built. */
void sl__batch_set_checkpoint_stats(batch *b, int64_t bytes, int64_t files);
/* Monotonic clock in microseconds. */
int64_t sl__now_mono_us(void);

/* output.c */
sl_status sl__output_run(sl_context *ctx, output *o, batch *b);
/* b is committed (with a checkpoint: commits/<batch> is durable): every
 * sink's commit, in order; the first failure is the context's error. */
sl_status sl__outputs_commit(sl_context *ctx, batch *b);
/* The sinks' commit of batch_id again after a restart (opening each sink
 * with a commit method first); the first failure is returned, named. */
sl_status sl__outputs_recommit(sl_context *ctx, int64_t batch_id);
/* b failed or was interrupted: every sink's abort. */
void sl__outputs_abort(sl_context *ctx, batch *b);
/* The files every sink wrote for b, for commits/<batch>: fn gets each
 * sink's name and file (borrowed for the call); stops at fn's first
 * error. */
typedef sl_status (*sl__output_file_fn)(void *user, const char *sink,
                                        const sl_sink_file *f);
sl_status sl__outputs_files(sl_context *ctx, batch *b, sl__output_file_fn fn,
                            void *user);
/* builtin_sinks.c: print, print_json, print_table and save_as_text_files
 * as sinks. */
sl_status sl__print_sink_add(sl_dstream *s, size_t num);
sl_status sl__json_sink_add(sl_dstream *s, const char *name);
sl_status sl__table_sink_add(sl_dstream *s, size_t num);
sl_status sl__save_sink_add(sl_dstream *s, const char *prefix,
                            const char *suffix);
/* Run a per-batch user callback (foreach_rdd, transform) with the engine's
 * message cleared first, and on failure set the context's error to "WHAT
 * function failed at time T ms: " and the engine's reason when the callback
 * left one (an action it called failed), else the status's text. */
sl_status sl__user_fn_failed(sl_context *ctx, const char *what, int64_t time_ms,
                             sl_status st);
void sl__user_fn_begin(sl_context *ctx);
void sl__outputs_free(sl_context *ctx);

#endif /* SL_STREAM_STREAM_INT_H */
