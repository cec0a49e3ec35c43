/*
 * What the planned generator sources (the text generator and Spark's rate
 * source) share: how many partitions a batch is planned in, and the
 * constructor that reads a conf into a fresh state and hands it to
 * sl_planned_stream. Internal (sl__) to connectors/generator.
 */
#ifndef SL_CONNECTORS_GENERATOR_PLAN_UTIL_H
#define SL_CONNECTORS_GENERATOR_PLAN_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sluice/connectors.h>

/**
 * Fill a zeroed source state from conf, whose values conf has validated
 * already; ctx gives the engine and the batch interval.
 * @returns SL_OK or the status the constructor fails with.
 */
typedef sl_status (*sl__plan_configure_fn)(void *state, const sl_conf *conf,
                                           sl_context *ctx);

/**
 * Partitions per batch: the configured count when positive, otherwise one
 * per worker of ctx's engine, and never 0.
 */
size_t sl__plan_partitions(int64_t configured, sl_context *ctx);

/**
 * A planned stream over a new zeroed state of state_size bytes that
 * configure fills from conf (the defaults when conf is NULL). On failure
 * ops->free releases the state, ctx's error reads "<what>: <status>" and
 * the result is NULL. Once sl_planned_stream is called the context owns
 * the state, also if that call fails.
 */
sl_dstream *sl__plan_source_stream(sl_context *ctx, const sl_conf *conf,
                                   const sl_planned_ops *ops, size_t state_size,
                                   sl__plan_configure_fn configure,
                                   const char *what);

/**
 * The integer after "key": in offsets JSON this connector wrote (flat,
 * unspaced): false when the key is missing or not an integer. Replan and
 * restore read their own offsets back with it.
 */
bool sl__plan_offset_int(const char *json, const char *key, int64_t *out);

#endif /* SL_CONNECTORS_GENERATOR_PLAN_UTIL_H */
