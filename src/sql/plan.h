/*
 * The SQL planner: a parsed query (sql/ast.h) bound against a catalog
 * into a tree of logical operators whose per-row parts are compiled
 * programs (sql/expr.h), and the execution of such a plan as a batch job
 * on the RDD engine (plan_exec.c). The streaming planner reuses the tree:
 * filters and projections are programs over one row, an aggregation is
 * (group key programs, aggregate calls with argument programs) over
 * sl__sql_agg accumulators, so its partial results can live in the state
 * store. Semantics: Spark SQL 3.5, ANSI off (docs/sql.md "Queries").
 */
#ifndef SL_SQL_PLAN_H
#define SL_SQL_PLAN_H

#include "sql/expr.h"

#include <sluice/rdd.h>

/* ------------------------------------------------------------- catalog */

/*
 * Where the planner finds the relations a query names. lookup: the
 * relation called name (case-insensitively), its schema (borrowed; lives
 * as long as the catalog), whether it is a stream, and an opaque handle
 * given back to rdd; false when there is none. rdd: the rows of a table
 * (tuples of its schema) as an RDD of eng's current scope, NULL with
 * the engine's error set on failure.
 */
typedef struct sl__sql_catalog {
    bool (*lookup)(void *user, const char *name, const sl_schema **schema,
                   bool *is_stream, void **handle);
    sl_rdd *(*rdd)(void *user, void *handle, sl_engine *eng);
    void *user;
    /* When set, current_timestamp() reads it per evaluation instead of
     * the plan's now_ms: a SQL stream sets it to each batch's time, as
     * Spark's current_timestamp in a streaming query is the batch's. */
    const _Atomic int64_t *clock;
} sl__sql_catalog;

/* ---------------------------------------------------------------- plan */

typedef enum sl__sql_plan_kind {
    SL__PLAN_SCAN,      /* a catalog relation */
    SL__PLAN_ONE_ROW,   /* SELECT without FROM: one empty row */
    SL__PLAN_FILTER,    /* rows where pred is true */
    SL__PLAN_PROJECT,   /* progs over the input row; gen: explode item */
    SL__PLAN_AGGREGATE, /* output: key columns, then aggregate results */
    SL__PLAN_DISTINCT,  /* distinct rows */
    SL__PLAN_UNION,     /* input rows, then right's (UNION ALL) */
    SL__PLAN_SORT,      /* by key columns of the input (driver, stable) */
    SL__PLAN_LIMIT,     /* the first `limit` rows (driver) */
    SL__PLAN_TRIM,      /* the first ncolumns columns (drops sort keys) */
    SL__PLAN_JOIN,      /* input (left) and right: INNER or LEFT */
    SL__PLAN_WINDOW     /* input columns, then one OVER aggregate */
} sl__sql_plan_kind;

/*
 * An AGGREGATE node's event-time key in a stream with a watermark (set by
 * sql_stream.c after planning): a row whose key is behind the watermark
 * (a window whose end <= it, a raw event time <= it) is late, and is
 * handed to drop instead of being aggregated.
 */
typedef struct sl__sql_late {
    size_t key;  /* index among the group keys */
    bool window; /* the key is a window struct: its end decides */
    const _Atomic int64_t *watermark;
    /* row: the aggregation's input row (task memory); any thread */
    void (*drop)(void *user, sl_task *t, const sl_value *row);
    void *user;
} sl__sql_late;

/** Whether key (an event-time group key as l describes it) is behind l's
 * watermark. Any thread. */
bool sl__sql_is_late(const sl__sql_late *l, const sl_value *key);

/* One aggregate call of an aggregation. */
typedef struct sl__sql_plan_agg {
    const sl__sql_agg *fn;
    sl__sql_prog **args;
    size_t nargs;
    const sl_type *type; /* the result type */
    char *text;          /* canonical text, to share equal calls */
    char **arg_text;     /* canonical text of each argument */
    /* per argument: 1 + the index, over all calls' arguments in order,
     * of an earlier equal argument whose value it takes (avg(a - b) and
     * max(a - b) evaluate a - b once per row); 0 to evaluate it */
    uint32_t *same;
} sl__sql_plan_agg;

/* One ORDER BY key: a column of the sort's input. */
typedef struct sl__sql_plan_key {
    size_t column;
    bool desc, nulls_first;
} sl__sql_plan_key;

/* What an OVER aggregate computes (plan_window.c, plan_exec_window.c). */
typedef enum sl__sql_win_fn {
    SL__WIN_COUNT,
    SL__WIN_SUM,
    SL__WIN_AVG,
    SL__WIN_MIN,
    SL__WIN_MAX,
    SL__WIN_VAR_SAMP,
    SL__WIN_VAR_POP,
    SL__WIN_STDDEV_SAMP,
    SL__WIN_STDDEV_POP
} sl__sql_win_fn;

/*
 * One OVER aggregate of a WINDOW node: the argument (NULL: count(*)),
 * partition keys and the order key (NULL: none) as programs over the
 * node's input, and the frame: ROWS or RANGE from `preceding` (rows,
 * or the order key's units: ms for a timestamp) before the current row
 * (unbounded: from the partition's start) to it (RANGE: to its last
 * peer), less what EXCLUDE removes.
 */
typedef struct sl__sql_plan_window {
    sl__sql_win_fn fn;
    sl__sql_prog *arg;
    sl__sql_prog **part;
    size_t npart;
    sl__sql_prog *order;
    bool rows, unbounded;
    sl_value preceding; /* a long or a double, >= 0 */
    sl__sql_exclude exclude;
    bool long_sum;              /* sum's result is a long */
    const sl__sql_window *over; /* the clause (SQL streams compare them) */
} sl__sql_plan_window;

typedef struct sl__sql_plan sl__sql_plan;

struct sl__sql_plan {
    sl__sql_plan_kind kind;
    sl__sql_plan *input, *right;
    /* The output columns: names and types (ncolumns of them). */
    size_t ncolumns;
    const char **names;
    const sl_type **types;
    /* How an expression above this node names its columns. */
    sl__sql_rel *rels;
    size_t nrels;
    /* SCAN */
    void *handle;
    /* FILTER (pred); JOIN: residual (NULL: none) over left ++ right */
    sl__sql_prog *pred;
    /* PROJECT: one program per column; gen: the column that explodes
     * (its program gives the array), SIZE_MAX: none.
     * AGGREGATE: progs are the group keys (nprogs of them). */
    sl__sql_prog **progs;
    size_t nprogs;
    size_t gen;
    /* AGGREGATE (late: NULL but in a stream with a watermark) */
    sl__sql_plan_agg *aggs;
    size_t naggs;
    const sl__sql_late *late;
    /* AGGREGATE: group key session_key is a session_window, merged per
     * other keys after the partial aggregation (plan_session.c) */
    bool session;
    size_t session_key;
    /* JOIN: key programs over each side (nprogs pairs, same types) */
    sl__sql_prog **left_keys, **right_keys;
    sl__sql_join_kind join;
    /* SORT */
    sl__sql_plan_key *keys;
    size_t nkeys;
    /* LIMIT */
    int64_t limit;
    /* WINDOW */
    sl__sql_plan_window *win;
};

/**
 * Plan q (parsed from text, which error messages and default column
 * names read) against cat, everything allocated in a. now_ms is the
 * query's current_timestamp(). SL_EPARSE with e set (positions into
 * text), SL_ENOMEM.
 */
sl_status sl__sql_plan_build(const char *text, const sl__sql_query *q,
                             const sl__sql_catalog *cat, int64_t now_ms,
                             sl__arena *a, sl__sql_plan **out,
                             sl__sql_error *e);

/* A query's result: rows (tuples) in the engine's scope (valid until it
 * is cleared) and their schema (sl__sql_result_free releases it). */
typedef struct sl__sql_result {
    sl_schema *schema;
    const sl_value *rows;
    size_t n;
} sl__sql_result;

/** The schema of p's output columns (a name may come twice, as in
 * `SELECT *` over a join). SL_ENOMEM. */
sl_status sl__sql_plan_schema(const sl__sql_plan *p, sl_schema **out);

/**
 * Run p as a batch job on eng: rows with their schema in *out; every
 * failure with the message in errbuf (the engine's message for a failed
 * job).
 */
sl_status sl__sql_plan_run(const sl__sql_plan *p, const sl__sql_catalog *cat,
                           sl_engine *eng, sl__sql_result *out, char *errbuf,
                           size_t errlen);

/**
 * Run p on eng as sl__sql_plan_run does, its result as an RDD (rows the
 * driver made parallelized again); node at (NULL: none) is not run, its
 * result is at_rdd. The streaming planner runs the parts of a plan above
 * and below its aggregation this way. SL_EUSER with the engine's error.
 */
sl_status sl__sql_plan_rdd(const sl__sql_plan *p, const sl__sql_catalog *cat,
                           sl_engine *eng, const sl__sql_plan *at,
                           sl_rdd *at_rdd, sl_rdd **out);

/** Release a result's schema. Accepts NULL. */
void sl__sql_result_free(sl__sql_result *r);

/* ------------------------------------------------ planner internals */

/* What planning one query carries (plan.c, plan_agg.c). */
typedef struct sl__sql_planner {
    const char *text;
    const sl__sql_catalog *cat;
    int64_t now_ms;
    sl__arena *a;
    sl__sql_error *e;
} sl__sql_planner;

/* A new node of kind over input (its columns not set). NULL: no memory. */
sl__sql_plan *sl__sql_plan_node(sl__sql_planner *pl, sl__sql_plan_kind kind,
                                sl__sql_plan *input);
/* The scope over node p's output; hook and user as given. */
void sl__sql_plan_scope(const sl__sql_planner *pl, const sl__sql_plan *p,
                        sl__sql_scope *s, const char *clause);
/* x's text as written (the default column name), in the arena. */
char *sl__sql_plan_text(sl__sql_planner *pl, const sl__sql_expr *x);
/* Whether x holds an aggregate call (not looking into sub-queries). */
bool sl__sql_has_aggregate(const sl__sql_expr *x);

/*
 * Plan the aggregation of SELECT q over in: the AGGREGATE node (group
 * keys: expressions, 1-based ordinals and aliases of the select list,
 * which is exprs[0..nitems) with output names names[]), then exprs[0..n)
 * (the select list, then ORDER BY keys that are no output column) bound
 * over its output into progs[0..n), and HAVING into *having (NULL: none).
 * *out is the node above which progs and *having run.
 */
sl_status sl__sql_plan_aggregate(sl__sql_planner *pl, const sl__sql_query *q,
                                 sl__sql_plan *in,
                                 const sl__sql_expr *const *exprs,
                                 const char *const *names, size_t nitems,
                                 size_t n, sl__sql_plan **out,
                                 sl__sql_prog **progs, sl__sql_prog **having);

/* plan_window.c: window(ts, ...) calls of SELECT q as a column
 * `window` of a PROJECT over *in exploding each row into its windows
 * (Spark's TimeWindowing); *out is q with the calls (and `a.b` where a
 * is a column) rewritten to read it. */
sl_status sl__sql_plan_windows(sl__sql_planner *pl, const sl__sql_query *q,
                               sl__sql_plan **in, const sl__sql_query **out);

/* plan_session.c: mark agg (just planned) when one of its keys is the
 * session_window column of the window expansion below it. */
void sl__sql_session_mark(sl__sql_plan *agg);
/* plan_session.c: a session aggregation's (keys, accumulators) pairs
 * with each other keys' overlapping sessions merged into one pair. */
sl_status sl__sql_exec_sessions(const sl__sql_plan *p, sl_rdd *pairs,
                                sl_rdd **out);
/* plan_session.c: (keys, accumulators) -> (other keys, the same pair),
 * user the plan (an sl_map_fn). */
sl_status sl__sql_session_rekey(sl_task *t, const sl_value *in, sl_value *out,
                                void *user);
/* plan_session.c: parts[0..n) (the (keys, accumulators) pairs of one
 * other-keys group, reordered here) sorted by session start and merged
 * into out[0..*m) (task memory; room for n). */
sl_status sl__sql_session_merge(sl_task *t, const sl__sql_plan *p,
                                const sl_value **parts, size_t n, sl_value *out,
                                size_t *m);

/*
 * plan_over.c: the OVER aggregates of exprs[0..n) (a select list and its hidden
 * ORDER BY keys; no aggregation in the same SELECT): one WINDOW node per
 * distinct call over in, *out the last. The projection above binds
 * exprs over *out with *s (its replace hook maps each call to its
 * column). Nothing to do: *out is in.
 */
sl_status sl__sql_plan_over(sl__sql_planner *pl, sl__sql_plan *in,
                            const sl__sql_expr *const *exprs, size_t n,
                            sl__sql_plan **out, sl__sql_scope *s);
/* Whether x holds an OVER aggregate call. */
bool sl__sql_has_window(const sl__sql_expr *x);
/* plan_exec_window.c: a WINDOW node over in. */
sl_status sl__sql_exec_window(sl_engine *eng, const sl__sql_plan *p, sl_rdd *in,
                              sl_rdd **out);
/* plan_exec_window.c: WINDOW node p over rows[0..n) (input tuples of one
 * partition, any order): out[0..n) are the rows with the aggregate
 * appended, sorted by the order key (stable), in task memory. */
sl_status sl__sql_window_rows(sl_task *t, const sl__sql_plan *p,
                              const sl_value *rows, size_t n, sl_value *out);

/* The join f of l and r: keys from ON's equality conjuncts, the rest a
 * residual condition (plan_join.c). */
sl_status sl__sql_plan_join(sl__sql_planner *pl, const sl__sql_from *f,
                            sl__sql_plan *l, sl__sql_plan *r,
                            sl__sql_plan **out);

/* A boolean condition over p's output (WHERE, HAVING, ON), or an error
 * naming the clause. */
sl_status sl__sql_plan_cond(sl__sql_planner *pl, const sl__sql_expr *x,
                            const sl__sql_scope *s, const char *clause,
                            sl__sql_prog **out);

/* plan_exec_agg.c: an AGGREGATE node over in; the row an aggregation
 * without GROUP BY gives over no rows (in the engine's scope); a JOIN
 * node over its two sides. */
sl_status sl__sql_exec_aggregate(sl_engine *eng, const sl__sql_plan *p,
                                 sl_rdd *in, sl_rdd **out);
/* plan_exec_agg.c, for streaming aggregation: the AGGREGATE node p's
 * partial aggregation of in (on eng) as (key tuple, accumulator tuple)
 * pairs, where a global aggregation (no GROUP BY) has its one group's
 * pair even over no rows, as Spark's one row; such pairs finished into
 * p's output rows; accumulator tuple b merged into a copy of a in arena
 * ar (a is never written to: it may be state). */
sl_status sl__sql_exec_partial(sl_engine *eng, const sl__sql_plan *p,
                               sl_rdd *in, sl_rdd **out);
sl_status sl__sql_exec_finish(const sl__sql_plan *p, sl_rdd *pairs,
                              sl_rdd **out);
sl_status sl__sql_agg_merge_accs(const sl__sql_plan *p, const sl_value *a,
                                 const sl_value *b, sl__arena *ar,
                                 sl_value *out);
sl_status sl__sql_exec_join(sl_engine *eng, const sl__sql_plan *p, sl_rdd *l,
                            sl_rdd *r, sl_rdd **out);

#endif /* SL_SQL_PLAN_H */
