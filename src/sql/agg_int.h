/*
 * Private to the aggregate functions (aggregates.c, agg_stats.c,
 * agg_set.c): the helpers they share and the tables of the two files
 * that aggregates.c's lookup consults.
 */
#ifndef SL_SQL_AGG_INT_H
#define SL_SQL_AGG_INT_H

#include "sql/expr.h"

/*
 * Make *acc a tuple of n items that may be written: in place when its
 * items already lie in a, otherwise a copy in a (items kept when acc was
 * such a tuple, all NULL otherwise). SL_ENOMEM leaves acc as it was.
 */
sl_status sl__agg_tuple_mut(sl_value *acc, size_t n, sl__arena *a,
                            sl_value **items);

/* A long, double or numeric string as a double; false otherwise. */
bool sl__agg_to_double(const sl_value *v, double *out);

/* The variance family (agg_stats.c) by name; NULL if none. */
const sl__sql_agg *sl__agg_stats_find(const char *name);

/* count, sum and avg over DISTINCT arguments (agg_set.c); NULL if none. */
const sl__sql_agg *sl__agg_distinct_find(const char *name);

#endif /* SL_SQL_AGG_INT_H */
