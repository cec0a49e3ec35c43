/*
 * Private structures of the RDD engine: lineage nodes, source partitions,
 * the sink chain that fuses narrow operators into one loop per partition,
 * tasks, scopes and the worker pool. Only the files of src/rdd include this.
 */
#ifndef SL_RDD_RDD_INT_H
#define SL_RDD_RDD_INT_H

#include <pthread.h>

#include "core/core.h"
#include "rdd/rdd.h"

/* ----------------------------------------------------------- lineage */

typedef enum rdd_kind {
    RDD_SOURCE,  /* values, text ranges or reader partitions */
    RDD_NARROW,  /* one per-record or per-partition op over a parent */
    RDD_UNION,   /* partitions of the parents, in order */
    RDD_SHUFFLE, /* a wide op; computed by shuffle.c into `mat` */
    RDD_MATERIAL /* partitions held in memory (retained, collected) */
} rdd_kind;

typedef enum op_kind {
    OP_MAP,
    OP_FLAT_MAP,
    OP_FILTER,
    OP_MAP_VALUES,
    OP_FLAT_MAP_VALUES,
    OP_MAP_PARTITIONS,
    OP_GLOM,
    OP_FOLD /* sl__rdd_fold_partitions */
} op_kind;

typedef enum shuffle_kind {
    SH_REDUCE,  /* reduce_by_key */
    SH_COMBINE, /* combine_by_key */
    SH_COUNT_BY_VALUE,
    SH_GROUP, /* group_by_key */
    SH_COGROUP,
    SH_JOIN,
    SH_LEFT_JOIN,
    SH_RIGHT_JOIN,
    SH_FULL_JOIN,
    SH_REPARTITION,
    SH_SORT
} shuffle_kind;

typedef sl__src_desc src_part;

/* The user function of a narrow node. */
typedef union rdd_fn {
    sl_map_fn map;
    sl_flat_map_fn flat_map;
    sl_filter_fn filter;
    sl_partition_fn part;
    const sl__fold_ops *fold;
} rdd_fn;

/* A materialised partition. */
typedef struct mat_part {
    sl_value *items;
    size_t n;
} mat_part;

struct sl_rdd {
    sl_engine *eng;
    sl__scope *scope; /* where its lineage node and results live */
    rdd_kind kind;
    size_t nparts;
    bool persist;
    mat_part *mat; /* materialised partitions, or NULL */
    src_part *src; /* RDD_SOURCE */
    sl_rdd **parents;
    size_t nparents;
    /* RDD_NARROW */
    op_kind op;
    rdd_fn fn;
    void *user;
    /* RDD_SHUFFLE */
    shuffle_kind sh;
    sl_reduce_fn reduce; /* reduce, merge_value */
    sl_reduce_fn merge2; /* merge_combiners */
    sl_map_fn create;    /* create_combiner, sort key */
    bool ascending;
};

/* ----------------------------------------------------------- execution */

/*
 * A sink receives the records of a fused pipeline. Narrow operators are
 * sinks that call the user function and push its outputs to `next`;
 * the last sink collects, combines, buckets for a shuffle or counts.
 */
typedef struct sink sink;
struct sink {
    sl_status (*push)(sink *self, sl_task *t, const sl_value *v);
    sink *next;
    const sl_rdd *node; /* the narrow node a stage sink runs */
};

typedef struct worker worker;

struct sl_task {
    sl_engine *eng;
    worker *w;
    size_t partition;
    sl__arena *scratch; /* reset after every top-level record */
    sl__arena *out;     /* what the task keeps: handed to the scope */
    sink *emit_to;      /* where sl_task_emit sends records now */
    sl_status status;
    char err[256];
};

struct sl_iter {
    const sl_value *items;
    size_t n, i;
};

/* A parallel loop over n task indices, run by the pool. */
typedef void (*run_fn)(void *arg, size_t index, worker *w);

struct worker {
    pthread_t thread;
    sl_engine *eng;
    sl__arena scratch;
    size_t id;
    sl_task *task; /* the task this worker runs (set by sl__task_init) */
} __attribute__((aligned(SL__CACHE_LINE)));

/* Memory of one scope: lineage nodes and every task's output arena. */
struct sl__scope {
    sl__arena arena;
    sl__arena **task_arenas;
    size_t ntask_arenas, cap_task_arenas;
    pthread_mutex_t lock; /* task arenas are registered from workers */
};

struct sl_engine {
    size_t nworkers;
    worker *workers;
    void *workers_mem;
    sl_conf *conf;
    sl__logger log;
    sl__errmsg err;
    sl__scope base;          /* scope of standalone use */
    int64_t batch_time_ms;   /* set by the job thread for each batch */
    int64_t batch_id;        /* ... and its id; -1 outside a batch */
    atomic_bool interrupted; /* sl_task_interrupted: cut long reads short */
    sl__scope *scope;        /* current scope (base, or a batch's) */

    pthread_mutex_t lock;
    pthread_cond_t work_cv, done_cv;
    bool shutdown;
    uint64_t generation; /* bumped for every parallel loop */
    run_fn run;
    void *run_arg;
    size_t ntasks;
    atomic_size_t next_task;
    size_t done_tasks;
    size_t active_workers;
    pthread_mutex_t run_lock; /* one parallel loop at a time */
};

/* engine.c */
sl_status sl__engine_parallel(sl_engine *eng, size_t n, run_fn fn, void *arg);
sl__arena *sl__scope_new_arena(sl__scope *s);
void *sl__scope_alloc(sl__scope *s, size_t n);
void sl__task_init(sl_task *t, sl_engine *eng, worker *w, size_t part);
sl_status sl__collect_task_errors(sl_engine *eng, sl_task *tasks, size_t n);

/* task.c: run partition `p` of `r` through sinks */
sl_status sl__run_partition(sl_task *t, const sl_rdd *r, size_t p, sink *s);
sl_status sl__materialize(sl_rdd *r);
sl_status sl__ensure_shuffled(sl_rdd *r);
/* A sink that appends records (copied out of scratch) to a growable array
 * in the task's out arena. */
typedef struct collect_sink {
    sink base;
    sl_value *items;
    size_t n, cap;
} collect_sink;
void sl__collect_sink_init(collect_sink *c);
sl_status sl__collect_partition(sl_task *t, const sl_rdd *r, size_t p,
                                mat_part *out);
sl_rdd *sl__rdd_alloc(sl_engine *eng, rdd_kind kind, size_t nparts);

/* shuffle.c */
sl_status sl__shuffle_run(sl_rdd *r);

#endif /* SL_RDD_RDD_INT_H */
