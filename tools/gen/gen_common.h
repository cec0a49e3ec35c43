/*
 * gen_common: what the data generators (gen_bbo, gen_utility) share: a
 * seeded xoshiro256** generator, UTC time parsing and printing in integer
 * arithmetic, and flag parsing. Nothing here depends on libc's rand, locale
 * or floating-point formatting, so a seed gives the same bytes everywhere.
 */
#ifndef SL_GEN_COMMON_H
#define SL_GEN_COMMON_H

#include <stdint.h>
#include <stdio.h>

/* One independent stream of random numbers (xoshiro256**). */
typedef struct gen_rng {
    uint64_t s[4];
} gen_rng;

/* Seeds stream `stream` of `seed` through splitmix64, so each concern of a
 * generator (timestamps, prices, defects) draws from its own stream and a
 * change of one rate does not shift the others' draws. */
void gen_rng_seed(gen_rng *r, uint64_t seed, uint64_t stream);
uint64_t gen_rng_next(gen_rng *r);
/* A uniform integer in [lo, hi] (hi >= lo), without modulo bias. */
int64_t gen_rng_range(gen_rng *r, int64_t lo, int64_t hi);
/* A uniform double in [0, 1) with 53 random bits (exact, no libm). */
double gen_rng_unit(gen_rng *r);

/* Milliseconds since the epoch from "YYYY-MM-DD[(T| )hh:mm[:ss[.fff]]][Z]"
 * (UTC); returns 0 on success, 1 if the text is not such a time. */
int gen_parse_time(const char *text, int64_t *ms);
/* Writes ms as "YYYY-MM-DDThh:mm:ss.fffZ" (with_ms) or
 * "YYYY-MM-DDThh:mm:ssZ" into buf (at least 32 bytes). */
void gen_format_time(int64_t ms, int with_ms, char *buf);
/* Day of week of a day number since 1970-01-01: 0 = Monday. */
int gen_weekday(int64_t days);

/* Parses a whole decimal integer in [min, max]; 0 on success. */
int gen_parse_int(const char *text, int64_t min, int64_t max, int64_t *out);
/* Parses a probability "0", "0.001", "1" (a plain decimal in [0, 1]); 0 on
 * success. */
int gen_parse_rate(const char *text, double *out);
/* Writes a non-negative amount of units as a decimal with `dp` places
 * ("%lld.%0*lld"); negative amounts get a leading '-'. */
void gen_print_fixed(FILE *f, int64_t units, int dp);

#endif
