/*
 * Deterministic Zipf word lines: a seeded PRNG (xoshiro256**), a vocabulary
 * of pronounceable words derived from their index, and a Zipf(s) sampler.
 * Shared by the text generator source and the benchmark's file generator;
 * internal (sl__), the same seed gives the same bytes on every machine.
 */
#ifndef SL_CONNECTORS_GENERATOR_ZIPF_H
#define SL_CONNECTORS_GENERATOR_ZIPF_H

#include <stddef.h>
#include <stdint.h>

#include <sluice/core.h>

/** Longest vocabulary word, in bytes. */
#define SL__ZIPF_WORD_MAX 12
/**
 * Bytes a buffer needs for one line of w words: the words, the spaces
 * between them, and slack the fast copy may overwrite past the end.
 */
#define SL__ZIPF_LINE_MAX(w) ((size_t)(w) * (SL__ZIPF_WORD_MAX + 1) + 16)
/** Largest vocabulary the word encoding covers (200^4 words, 12 bytes). */
#define SL__ZIPF_VOCABULARY_MAX UINT64_C(1600000000)

/** xoshiro256** state; seed it with sl__rng_seed. */
typedef struct sl__rng {
    uint64_t s[4];
} sl__rng;

/**
 * Seed r from three numbers through splitmix64, so that (seed, stream,
 * index) triples that differ in any position give unrelated sequences.
 */
void sl__rng_seed(sl__rng *r, uint64_t seed, uint64_t stream, uint64_t index);
/** Next 64 random bits. */
uint64_t sl__rng_next(sl__rng *r);
/** A uniform double in [0, 1) with 53 random bits. */
double sl__rng_double(sl__rng *r);

/** A Zipf sampler over a vocabulary (read-only once built: share freely). */
typedef struct sl__zipf sl__zipf;

/**
 * A sampler of vocabulary word ranks 0 .. vocabulary-1 where rank r has
 * probability proportional to (r + 1)^-s. Free with sl__zipf_free.
 * @returns SL_OK, SL_EINVAL (vocabulary 0 or past SL__ZIPF_VOCABULARY_MAX,
 * s not a positive finite number) or SL_ENOMEM.
 */
sl_status sl__zipf_new(uint64_t vocabulary, double s, sl__zipf **out);
/** Free a sampler. NULL ok. */
void sl__zipf_free(sl__zipf *z);
/** Draw one rank (0 is the most frequent word). */
uint64_t sl__zipf_rank(const sl__zipf *z, sl__rng *r);
/**
 * Write the word of rank `rank` at buf, which must have room for
 * SL__ZIPF_WORD_MAX + 16 bytes (bytes past the word may be overwritten).
 * @returns the word's length, 1 .. SL__ZIPF_WORD_MAX.
 */
size_t sl__zipf_word(const sl__zipf *z, uint64_t rank, char *buf);
/**
 * Write one line of `words` words separated by single spaces (no newline)
 * drawn with r into buf (SL__ZIPF_LINE_MAX(words) bytes). @returns its length.
 */
size_t sl__zipf_line(const sl__zipf *z, sl__rng *r, size_t words, char *buf);
/**
 * Line number `index` of stream `stream` under `seed`: the PRNG is seeded
 * from the triple, so any line can be made alone, on any thread.
 */
size_t sl__zipf_gen_line(const sl__zipf *z, uint64_t seed, uint64_t stream,
                         uint64_t index, size_t words, char *buf);

/**
 * Parse a Zipf exponent written as a decimal ("1", "1.25", "8e-1") without
 * the C library, so the value does not depend on the locale and is the same
 * on every machine. @returns SL_OK or SL_EPARSE (also for s <= 0).
 */
sl_status sl__zipf_parse_exponent(const char *text, double *out);

#endif /* SL_CONNECTORS_GENERATOR_ZIPF_H */
