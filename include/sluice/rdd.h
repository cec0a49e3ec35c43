/*
 * sluice RDD API: partitioned datasets, their operators and actions, and the
 * engine (worker pool) that runs them. Streaming batches are RDD jobs; this
 * header is also usable on its own for batch work over data in memory.
 */
#ifndef SLUICE_RDD_H
#define SLUICE_RDD_H

#include "core.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @brief The RDD engine: worker pool, allocator and logger (opaque). */
typedef struct sl_engine sl_engine;
/** @brief A partitioned dataset (opaque), owned by its engine's scope. */
typedef struct sl_rdd sl_rdd;
/** @brief A running partition task, handed to per-record functions. */
typedef struct sl_task sl_task;
/** @brief A forward iterator over one partition's records. */
typedef struct sl_iter sl_iter;

/* ------------------------------------------------------- user functions */

/*
 * Per-record functions run on worker threads, concurrently across
 * partitions. Memory for the values they produce comes from
 * sl_task_alloc(); it lives as long as the engine needs it. Returning a
 * status other than SL_OK fails the job with SL_EUSER (SL_ENOMEM stays
 * SL_ENOMEM).
 */

/** @brief One input, exactly one output (map, map_values). */
typedef sl_status (*sl_map_fn)(sl_task *t, const sl_value *in, sl_value *out,
                               void *user);
/** @brief One input, zero or more outputs through sl_task_emit(). */
typedef sl_status (*sl_flat_map_fn)(sl_task *t, const sl_value *in, void *user);
/** @brief Keep the record when true. */
typedef bool (*sl_filter_fn)(const sl_value *in, void *user);
/** @brief Associative combine of two values into *out. */
typedef sl_status (*sl_reduce_fn)(sl_task *t, const sl_value *a,
                                  const sl_value *b, sl_value *out, void *user);
/** @brief A whole partition in, outputs through sl_task_emit(). */
typedef sl_status (*sl_partition_fn)(sl_task *t, sl_iter *in, void *user);
/**
 * @brief Worker-side reader of one planned source partition (source.h):
 * emits its records with sl_task_emit. Strings and composites it emits
 * must live in task memory (sl_task_alloc, sl_task_str, sl_task_pair), and
 * they stay valid until sl_task_emit returns.
 */
typedef sl_status (*sl_read_fn)(sl_task *t, const void *desc, void *user);

/** @brief Emit one output record from a flat_map or partition function. */
SL_EXPORT sl_status sl_task_emit(sl_task *t, const sl_value *v);
/**
 * @brief Allocate n bytes (8-aligned) that live as long as the values the
 * task produces. NULL when out of memory (return SL_ENOMEM then).
 */
SL_EXPORT void *sl_task_alloc(sl_task *t, size_t n);
/** @brief Copy len bytes into task memory and return a string value. */
SL_EXPORT sl_status sl_task_str(sl_task *t, const char *s, size_t len,
                                sl_value *out);
/** @brief Build the pair (k, v) in task memory. */
SL_EXPORT sl_status sl_task_pair(sl_task *t, const sl_value *k,
                                 const sl_value *v, sl_value *out);
/**
 * @brief Time of the batch the task belongs to (ms; 0 outside streaming):
 * what Spark passes as validTime to time-aware update functions.
 */
SL_EXPORT int64_t sl_task_time(const sl_task *t);
/**
 * @brief Id of the batch the task belongs to (1, 2, ...), or -1 outside a
 * batch (standalone RDD use, or a NULL task): what dead letters written
 * from tasks name as their "batch".
 * @remark Any thread; the job thread sets it before the batch's tasks run.
 */
SL_EXPORT int64_t sl_task_batch_id(const sl_task *t);
/**
 * @brief Fail the task with a message (printf-style) that the job's error
 * then carries, e.g. a function naming the value it cannot handle.
 * @returns SL_EUSER, for `return sl_task_fail(t, ...)`. The first failure
 * of a task is kept.
 */
SL_EXPORT sl_status sl_task_fail(sl_task *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/** @brief Index of the partition this task computes. */
SL_EXPORT size_t sl_task_partition(const sl_task *t);
/**
 * @brief True once the engine was asked to cut long work short (a stopping
 * streaming context). Readers that take long (large or compressed files)
 * check it between chunks and then return SL_ESTOPPED; the batch is then
 * reported as interrupted, its input as unprocessed.
 * @remark Any thread; cheap (one relaxed atomic load).
 */
SL_EXPORT bool sl_task_interrupted(const sl_task *t);
/** @brief Next record of a partition; false at the end. */
SL_EXPORT bool sl_iter_next(sl_iter *it, sl_value *out);

/* ---------------------------------------------------------------- engine */

/**
 * @brief A new engine with conf's "workers" threads (0 = number of cores)
 * and "log.level". Takes ownership of conf on success only.
 * @returns NULL on failure with the reason in errbuf.
 */
SL_EXPORT sl_engine *sl_engine_new(sl_conf *conf, char *errbuf, size_t errlen);
/** @brief Stop the workers and free every RDD of the engine. NULL ok. */
SL_EXPORT void sl_engine_free(sl_engine *eng);
/**
 * @brief Free every RDD created since the engine was made or last cleared.
 * @remark Not for streaming engines: batches clear their own RDDs.
 */
SL_EXPORT void sl_engine_clear(sl_engine *eng);
/** @brief Number of worker threads. */
SL_EXPORT size_t sl_engine_workers(const sl_engine *eng);
/** @brief Last error message of the engine (borrowed), "" if none. */
SL_EXPORT const char *sl_engine_errmsg(const sl_engine *eng);
/** @brief Redirect the engine's log (default: stderr at "log.level"). */
SL_EXPORT void sl_engine_set_logger(sl_engine *eng, sl_log_fn fn, void *user);

/* ------------------------------------------------------------- creation */

/**
 * @brief An RDD of n values copied (deeply) from values, split into
 * partitions by position as Spark's parallelize does.
 */
SL_EXPORT sl_rdd *sl_rdd_parallelize(sl_engine *eng, const sl_value *values,
                                     size_t n, size_t partitions);
/**
 * @brief An RDD of the lines of text (borrowed: text must outlive the RDD),
 * split into about `partitions` line-aligned ranges; "\n" and "\r\n" end
 * lines; a last unterminated line is a line.
 */
SL_EXPORT sl_rdd *sl_rdd_text(sl_engine *eng, const char *text, size_t len,
                              size_t partitions);
/** @brief An RDD with no partitions. */
SL_EXPORT sl_rdd *sl_rdd_empty(sl_engine *eng);

/*
 * Transformations return a new RDD (owned by the engine's current scope) or
 * NULL on failure, with the reason in sl_engine_errmsg(). A NULL input
 * yields NULL, so a chain can be checked once at its end.
 */

SL_EXPORT sl_rdd *sl_rdd_map(sl_rdd *r, sl_map_fn fn, void *user);
SL_EXPORT sl_rdd *sl_rdd_flat_map(sl_rdd *r, sl_flat_map_fn fn, void *user);
SL_EXPORT sl_rdd *sl_rdd_filter(sl_rdd *r, sl_filter_fn fn, void *user);
SL_EXPORT sl_rdd *sl_rdd_map_partitions(sl_rdd *r, sl_partition_fn fn,
                                        void *user);
/** @brief Each partition becomes one list value holding its records. */
SL_EXPORT sl_rdd *sl_rdd_glom(sl_rdd *r);
/** @brief (k, v) -> (k, fn(v)); non-pairs fail with SL_ETYPE. */
SL_EXPORT sl_rdd *sl_rdd_map_values(sl_rdd *r, sl_map_fn fn, void *user);
/** @brief (k, v) -> (k, w) for every w fn emits for v. */
SL_EXPORT sl_rdd *sl_rdd_flat_map_values(sl_rdd *r, sl_flat_map_fn fn,
                                         void *user);
/**
 * @brief Merge values per key with fn, combining map-side first.
 * @param partitions output partitions, 0 = as many as r has.
 */
SL_EXPORT sl_rdd *sl_rdd_reduce_by_key(sl_rdd *r, sl_reduce_fn fn, void *user,
                                       size_t partitions);
/** @brief (k, [v...]) per key, values in arrival order per partition. */
SL_EXPORT sl_rdd *sl_rdd_group_by_key(sl_rdd *r, size_t partitions);
/**
 * @brief Spark's combineByKey: create(v) starts a combiner, merge_value
 * (c, v) adds a value, merge_combiners (c1, c2) merges partial results.
 */
SL_EXPORT sl_rdd *sl_rdd_combine_by_key(sl_rdd *r, sl_map_fn create,
                                        sl_reduce_fn merge_value,
                                        sl_reduce_fn merge_combiners,
                                        void *user, size_t partitions);
/** @brief (x, count) for every distinct x (count is int). */
SL_EXPORT sl_rdd *sl_rdd_count_by_value(sl_rdd *r, size_t partitions);
/** @brief Inner join: (k, (v, w)) per matching pair. */
SL_EXPORT sl_rdd *sl_rdd_join(sl_rdd *a, sl_rdd *b, size_t partitions);
/** @brief (k, (v, w or null)). */
SL_EXPORT sl_rdd *sl_rdd_left_outer_join(sl_rdd *a, sl_rdd *b,
                                         size_t partitions);
/** @brief (k, (v or null, w)). */
SL_EXPORT sl_rdd *sl_rdd_right_outer_join(sl_rdd *a, sl_rdd *b,
                                          size_t partitions);
/** @brief (k, (v or null, w or null)). */
SL_EXPORT sl_rdd *sl_rdd_full_outer_join(sl_rdd *a, sl_rdd *b,
                                         size_t partitions);
/** @brief (k, ([v...], [w...])) for every key of either side. */
SL_EXPORT sl_rdd *sl_rdd_cogroup(sl_rdd *a, sl_rdd *b, size_t partitions);
/** @brief Partitions of a, then of b, in order. */
SL_EXPORT sl_rdd *sl_rdd_union(sl_rdd *a, sl_rdd *b);
/** @brief Union of n RDDs in order. */
SL_EXPORT sl_rdd *sl_rdd_union_all(sl_rdd *const *rdds, size_t n);
/** @brief Redistribute into exactly `partitions` partitions (a shuffle). */
SL_EXPORT sl_rdd *sl_rdd_repartition(sl_rdd *r, size_t partitions);
/**
 * @brief Sort by the key fn computes for each record (sl_value_compare
 * order), into `partitions` range partitions (0 = as many as r has).
 * A NULL key_fn sorts (key, value) pairs by their key (sort_by_key).
 */
SL_EXPORT sl_rdd *sl_rdd_sort_by(sl_rdd *r, sl_map_fn key_fn, void *user,
                                 bool ascending, size_t partitions);
/** @brief Sort pairs by key. */
SL_EXPORT sl_rdd *sl_rdd_sort_by_key(sl_rdd *r, bool ascending,
                                     size_t partitions);
/**
 * @brief Compute r at most once: the first action materialises it and later
 * uses read the stored partitions. @returns r itself.
 */
SL_EXPORT sl_rdd *sl_rdd_persist(sl_rdd *r);

/** @brief Number of partitions r has (computing nothing). */
SL_EXPORT size_t sl_rdd_num_partitions(sl_rdd *r);
/**
 * @brief Id of the streaming batch r belongs to (1, 2, ..., continued
 * across restarts from a checkpoint), or -1 outside a batch (standalone
 * RDD use, NULL r). In a foreach_rdd callback: the batch being output,
 * the id a sink's write_batch gets and the checkpoint records.
 * @remark Job thread (where foreach_rdd callbacks run).
 */
SL_EXPORT int64_t sl_rdd_batch_id(const sl_rdd *r);

/* ---------------------------------------------------------------- actions */

/**
 * @brief All records in partition order. *out (borrowed) stays valid until
 * the RDD's scope ends (batch end, sl_engine_clear).
 */
SL_EXPORT sl_status sl_rdd_collect(sl_rdd *r, const sl_value **out, size_t *n);
/** @brief Number of records. */
SL_EXPORT sl_status sl_rdd_count(sl_rdd *r, int64_t *out);
/** @brief The first up to n records, in partition order. */
SL_EXPORT sl_status sl_rdd_take(sl_rdd *r, size_t n, const sl_value **out,
                                size_t *got);
/** @brief Reduce all records with fn; SL_ENOTFOUND when r is empty. */
SL_EXPORT sl_status sl_rdd_reduce(sl_rdd *r, sl_reduce_fn fn, void *user,
                                  sl_value *out);
/** @brief Run fn over every partition on the workers. */
SL_EXPORT sl_status sl_rdd_foreach_partition(sl_rdd *r, sl_partition_fn fn,
                                             void *user);
/**
 * @brief Write the RDD as text to directory path: one part-NNNNN file per
 * partition, one formatted record per line, then an empty _SUCCESS file.
 * The directory must not exist yet.
 */
SL_EXPORT sl_status sl_rdd_save_as_text_file(sl_rdd *r, const char *path);

#ifdef __cplusplus
}
#endif
#endif /* SLUICE_RDD_H */
