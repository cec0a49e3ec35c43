/*
 * Internal interface of the RDD engine for the streaming layer: building
 * source RDDs from receive blocks and planned partitions, batch scopes, and
 * retained RDDs (compacted copies that outlive their batch).
 */
#ifndef SL_RDD_RDD_H
#define SL_RDD_RDD_H

#include <sluice/rdd.h>

#include "core/core.h"

/* A line-aligned range of text inside a receive block (borrowed). */
typedef struct sl__text_seg {
    const char *p;
    size_t len;
} sl__text_seg;

typedef enum sl__src_kind { SRC_VALUES, SRC_TEXT, SRC_READER } sl__src_kind;

/* Description of one source partition; what it points to is borrowed and
 * must outlive the RDD (the batch keeps blocks and plans alive). */
typedef struct sl__src_desc {
    sl__src_kind kind;
    const sl_value *items;
    size_t n;
    const sl__text_seg *segs;
    size_t nsegs;
    sl_read_fn read;
    const void *desc;
    void *user;
} sl__src_desc;

/* All RDDs and task memory of one batch: freed together. */
typedef struct sl__scope sl__scope;

/** A new scope (NULL when out of memory). */
sl__scope *sl__scope_create(void);
/** Free the scope and every RDD and task arena in it. NULL ok. */
void sl__scope_destroy(sl__scope *s);
/** Make s the engine's current scope (NULL: the engine's own); returns the
 * previous one. Job thread only. */
sl__scope *sl__engine_set_scope(sl_engine *eng, sl__scope *s);
/** Fail the task with status st and a message (the first failure is kept);
 * returns the task's status. Readers use it for SL_ESTOPPED. */
sl_status sl__task_fail(sl_task *t, sl_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/** The arena sl_task_alloc allocates from (rewound after each top-level
 * record), for internal code that allocates through an sl__arena (the
 * SQL evaluator's scratch): what it allocates there is task memory. */
sl__arena *sl__task_arena(sl_task *t);
/** Deep copy of v in the task's memory (what user functions allocate in). */
sl_status sl__task_copy(sl_task *t, const sl_value *v, sl_value *out);
/** True on one of the engine's worker threads. */
bool sl__engine_on_worker(const sl_engine *eng);
/** Ask running and later readers to stop early (sl_task_interrupted);
 * any thread. */
void sl__engine_interrupt(sl_engine *eng, bool on);
/** The batch tasks report with sl_task_batch_id and sl_task_time (job
 * thread); (-1, 0) between batches. */
void sl__engine_set_batch(sl_engine *eng, int64_t id, int64_t time_ms);
/** Memory in the current scope. */
void *sl__engine_scope_alloc(sl_engine *eng, size_t n);
/** The current scope's arena (for deep copies that live with it). */
sl__arena *sl__engine_scope_arena(sl_engine *eng);
/** Make an engine from an already validated conf (borrowed). */
sl_engine *sl__engine_create(const sl_conf *conf, const sl__logger *log,
                             char *errbuf, size_t errlen);
/** Set the engine's error message. */
void sl__engine_set_error(sl_engine *eng, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/** A source RDD over n partition descriptions (copied). */
sl_rdd *sl__rdd_source(sl_engine *eng, const sl__src_desc *parts, size_t n);
/** A source RDD of n reader partitions: partition i is read by read with
 * the description descs + i * size (borrowed: it must live as long as the
 * RDD, e.g. in the engine's scope). */
sl_rdd *sl__rdd_readers(sl_engine *eng, sl_read_fn read, const void *descs,
                        size_t size, size_t n);

/** A retained RDD: a compacted copy in its own memory (retained.c). */
typedef struct sl__retained sl__retained;
/** Materialise r and copy every record, deeply, into new memory. */
sl_status sl__rdd_retain(sl_rdd *r, sl__retained **out);
/** The retained copy as an RDD usable in any scope of the engine. */
sl_rdd *sl__retained_rdd(sl__retained *k);
/** Bytes the retained copy holds. */
size_t sl__retained_bytes(const sl__retained *k);
/** Free a retained copy. NULL ok. */
void sl__retained_free(sl__retained *k);
/** Partitions of a retained copy. */
size_t sl__retained_parts(const sl__retained *k);
/** Partition i's values (borrowed, valid until the copy is freed). */
const sl_value *sl__retained_part(const sl__retained *k, size_t i, size_t *n);
/** A retained copy of eng made from values: nparts partitions of lens[i]
 * values each (copied). SL_ENOMEM. */
sl_status sl__retained_from_values(sl_engine *eng, const sl_value *const *parts,
                                   const size_t *lens, size_t nparts,
                                   sl__retained **out);

/**
 * A fold over each partition (internal; the SQL partial aggregation): the
 * parent's records go to push one at a time as the fused pipeline makes
 * them, never collected into an array first as sl_rdd_map_partitions
 * does (a partition of exploded rows would be copied whole); then end
 * emits the partition's results with sl_task_emit. Per partition, begin
 * makes the state and free releases it (called whenever begin succeeded).
 * push runs inside the pipeline: what it gets, and what it allocates with
 * sl_task_alloc, is rewound after the record, so the state keeps copies
 * in memory of its own.
 */
typedef struct sl__fold_ops {
    sl_status (*begin)(sl_task *t, void *user, void **state);
    sl_status (*push)(sl_task *t, void *state, const sl_value *v, void *user);
    sl_status (*end)(sl_task *t, void *state, void *user);
    void (*free)(void *state, void *user);
} sl__fold_ops;
/** The fold of r's partitions by ops (borrowed: it must outlive the RDD,
 * e.g. a static table) with user; NULL with the engine's error set. */
sl_rdd *sl__rdd_fold_partitions(sl_rdd *r, const sl__fold_ops *ops, void *user);

/** Number of records of every partition (materialising r); for tests. */
sl_status sl__rdd_partition_sizes(sl_rdd *r, size_t *sizes, size_t cap);
/** sl_rdd_save_as_text_file for a re-runnable batch: written under the
 * hidden staging name ".NAME.sluice-staging" beside path, then renamed
 * into place, replacing an earlier run's output. Job thread. */
sl_status sl__rdd_save_text_replace(sl_rdd *r, const char *path);

#endif /* SL_RDD_RDD_H */
