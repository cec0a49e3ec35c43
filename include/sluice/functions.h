/*
 * sluice's ready-made per-record functions: the word-count building blocks
 * (split words, pair with one, sum) that examples, job files and programs
 * share instead of writing them again. Each has the signature of the
 * operator it serves and ignores its user argument.
 */
#ifndef SLUICE_FUNCTIONS_H
#define SLUICE_FUNCTIONS_H

#include "rdd.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief flat_map: a string into its words, split on runs of whitespace
 * (space, tab, CR, LF, VT, FF), never empty words. The words are views into
 * the input string (no copy).
 * @returns SL_ETYPE for an input that is not a string.
 */
SL_EXPORT sl_status sl_fn_split_words(sl_task *t, const sl_value *in,
                                      void *user);

/** @brief map: x into the pair (x, 1). */
SL_EXPORT sl_status sl_fn_pair_one(sl_task *t, const sl_value *in,
                                   sl_value *out, void *user);

/**
 * @brief reduce: a + b for ints (wrapping on overflow as Java's long does)
 * and doubles, mixed ints and doubles giving a double.
 * @returns SL_ETYPE for other kinds.
 */
SL_EXPORT sl_status sl_fn_sum(sl_task *t, const sl_value *a, const sl_value *b,
                              sl_value *out, void *user);

#ifdef __cplusplus
}
#endif
#endif /* SLUICE_FUNCTIONS_H */
