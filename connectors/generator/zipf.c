/*
 * Deterministic Zipf word lines for the text generator source and the
 * benchmark's file generator (zipf.h). Only exact IEEE-754 operations
 * (+ - * /, frexp, ldexp, floor) are used, with logarithm and exponential
 * written out here, so a seed gives the same bytes whatever libm is linked.
 */
#include "generator/zipf.h"

#include <math.h>
#include <string.h>

/* ------------------------------------------------------------------ PRNG */

/* splitmix64 (Steele, Lea, Flood 2014): seeds xoshiro, as its authors
 * recommend. */
static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

void sl__rng_seed(sl__rng *r, uint64_t seed, uint64_t stream, uint64_t index)
{
    uint64_t x = seed;
    int i;

    /* Chain the three inputs through the mixer so each one changes every
     * later word of the state. */
    x = splitmix64(&x) ^ stream;
    x = splitmix64(&x) ^ index;
    for (i = 0; i < 4; i++)
        r->s[i] = splitmix64(&x);
}

static inline uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

/* xoshiro256** 1.0 (Blackman and Vigna 2018). */
uint64_t sl__rng_next(sl__rng *r)
{
    uint64_t *s = r->s;
    uint64_t out = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;

    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return out;
}

double sl__rng_double(sl__rng *r)
{
    return (double)(sl__rng_next(r) >> 11) * 0x1p-53;
}

/* ------------------------------------------------------ deterministic math */

/* ln 2 split so that k * LN2_HI is exact for the k used here (fdlibm). */
#define LN2_HI 6.93147180369123816490e-01
#define LN2_LO 1.90821492927058770002e-10
#define SQRT_HALF 0.70710678118654752440

/* ln x for finite x > 0: x = m 2^e with m in [sqrt(1/2), sqrt(2)), then
 * ln m = 2 atanh((m - 1) / (m + 1)) by its series (|z| < 0.172). */
static double det_log(double x)
{
    double m, z, z2, term, sum = 0.0;
    int e, i;

    m = frexp(x, &e);
    if (m < SQRT_HALF) {
        m *= 2.0;
        e--;
    }
    z = (m - 1.0) / (m + 1.0);
    z2 = z * z;
    term = z;
    for (i = 1; i <= 27; i += 2) {
        sum += term / i;
        term *= z2;
    }
    return 2.0 * sum + (e * LN2_HI + e * LN2_LO);
}

/* e^x: x = k ln 2 + r with |r| <= ln 2 / 2, e^r by Taylor (Horner). */
static double det_exp(double x)
{
    double k, r, sum = 1.0;
    int n;

    if (x < -746.0)
        return 0.0;
    if (x > 709.0)
        x = 709.0;
    k = floor(x / (LN2_HI + LN2_LO) + 0.5);
    r = (x - k * LN2_HI) - k * LN2_LO;
    for (n = 20; n >= 1; n--)
        sum = 1.0 + sum * r / n;
    return ldexp(sum, (int)k);
}

/* x^y for x > 0. */
static double det_pow(double x, double y)
{
    return det_exp(y * det_log(x));
}

/* ------------------------------------------------------------- vocabulary */

/*
 * A word is 1 to 4 syllables, each an onset (no vowel) and one vowel, so a
 * word splits into syllables in one way only (cut after every vowel) and
 * distinct syllable sequences are distinct words. 40 onsets x 5 vowels =
 * 200 syllables of 1 to 3 letters (2.5 on average); word index i is i in
 * bijective base 200, so words are unique and at most 12 letters long.
 */
static const char *const onsets[] = {
    "",   "b",  "c",  "d",  "f",  "g",  "h",  "j",  "k",  "l",
    "m",  "n",  "p",  "r",  "s",  "t",  "v",  "w",  "z",  "bl",
    "br", "ch", "cl", "cr", "dr", "fl", "fr", "gl", "gr", "pl",
    "pr", "sh", "sk", "sl", "sm", "sn", "sp", "st", "th", "tr",
};
static const char vowels[] = "aeiou";
#define SYLLABLES ((sizeof onsets / sizeof onsets[0]) * 5)
#define SYLLABLE_STEP 77

static size_t encode_word(uint64_t id, char *buf)
{
    unsigned digits[4];
    uint64_t block = SYLLABLES;
    int k = 1, i;
    char *p = buf;

    while (id >= block && k < 4) {
        id -= block;
        block *= SYLLABLES;
        k++;
    }
    for (i = k - 1; i >= 0; i--) {
        digits[i] = (unsigned)(id % SYLLABLES);
        id /= SYLLABLES;
    }
    for (i = 0; i < k; i++) {
        /* A small vocabulary uses few values of its leading digit; the
         * multiplier (coprime to 200) spreads them over all lengths. */
        unsigned syl = (digits[i] * SYLLABLE_STEP) % SYLLABLES;
        const char *on = onsets[syl / 5];
        while (*on)
            *p++ = *on++;
        *p++ = vowels[syl % 5];
    }
    return (size_t)(p - buf);
}

/* --------------------------------------------------------------- sampler */

/*
 * The most frequent ranks (up to HEAD of them) have exact cumulative
 * weights in a table searched through a guide table (Chen and Asau's cut
 * points: about one probe per draw). Rarer ranks of a larger vocabulary are
 * drawn by inverting the integral of x^-s over [HEAD + 1/2, V + 1/2], which
 * differs from the exact weights by less than 1e-10 at such ranks, so the
 * memory stays bounded (1.8 MB) for any vocabulary.
 */
#define HEAD ((size_t)1 << 16)

struct sl__zipf {
    uint64_t vocabulary;
    size_t head;        /* ranks with a table entry */
    double head_mass;   /* cdf[head - 1] */
    double total;       /* head_mass + the tail's mass */
    double guide_scale; /* head / head_mass */
    double s, tail_a, tail_a_pow;
    uint64_t mult, add; /* rank -> word index: (mult * rank + add) mod V */
    double *cdf;        /* cdf[i] = sum of (k + 1)^-s for k <= i */
    char (*words)[16];  /* word of each head rank, its length in [15] */
    uint32_t *guide;    /* guide[j]: first i with cdf[i] > j / guide_scale */
};

static uint64_t gcd(uint64_t a, uint64_t b)
{
    while (b) {
        uint64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/*
 * Ranks are spread over the word indices by a fixed affine permutation, so
 * the frequent words are not all the short ones (the text then averages
 * about five letters a word, as English does).
 */
static void choose_permutation(sl__zipf *z)
{
    uint64_t v = z->vocabulary;

    z->mult = UINT64_C(0x9E3779B97F4A7C15) % v;
    while (v > 1 && (z->mult == 0 || gcd(z->mult, v) != 1))
        z->mult = (z->mult + 1) % v;
    z->add = UINT64_C(0x2545F4914F6CDD1D) % v;
}

static uint64_t word_index(const sl__zipf *z, uint64_t rank)
{
    return (z->mult * rank + z->add) % z->vocabulary;
}

static bool log_tail(const sl__zipf *z)
{
    return fabs(1.0 - z->s) < 1e-9;
}

static double tail_mass(const sl__zipf *z)
{
    double b = (double)z->vocabulary + 0.5;

    if (z->head == z->vocabulary)
        return 0.0;
    if (log_tail(z))
        return det_log(b) - det_log(z->tail_a);
    return (det_pow(b, 1.0 - z->s) - z->tail_a_pow) / (1.0 - z->s);
}

static void build_tables(sl__zipf *z)
{
    double sum = 0.0, threshold;
    size_t i, j;

    for (i = 0; i < z->head; i++) {
        sum += det_pow((double)(i + 1), -z->s);
        z->cdf[i] = sum;
        z->words[i][15] = (char)encode_word(word_index(z, i), z->words[i]);
    }
    z->head_mass = sum;
    z->guide_scale = (double)z->head / sum;
    for (i = 0, j = 0; j < z->head; j++) {
        threshold = (double)j / z->guide_scale;
        while (i + 1 < z->head && z->cdf[i] <= threshold)
            i++;
        z->guide[j] = (uint32_t)i;
    }
    z->tail_a = (double)z->head + 0.5;
    z->tail_a_pow = det_pow(z->tail_a, 1.0 - z->s);
    z->total = z->head_mass + tail_mass(z);
}

sl_status sl__zipf_new(uint64_t vocabulary, double s, sl__zipf **out)
{
    sl__zipf *z;
    size_t head, bytes;

    *out = NULL;
    if (vocabulary == 0 || vocabulary > SL__ZIPF_VOCABULARY_MAX || !(s > 0.0) ||
        !isfinite(s))
        return SL_EINVAL;
    head = vocabulary < HEAD ? (size_t)vocabulary : HEAD;
    /* One block: the struct, then cdf, words and guide (all 8-aligned). */
    bytes = sizeof *z + head * (sizeof(double) + 16 + sizeof(uint32_t));
    z = sl_malloc(bytes);
    if (!z)
        return SL_ENOMEM;
    memset(z, 0, sizeof *z);
    z->vocabulary = vocabulary;
    z->head = head;
    z->s = s;
    z->cdf = (double *)(z + 1);
    z->words = (char(*)[16])(z->cdf + head);
    z->guide = (uint32_t *)(z->words + head);
    choose_permutation(z);
    build_tables(z);
    *out = z;
    return SL_OK;
}

void sl__zipf_free(sl__zipf *z)
{
    sl_free(z);
}

static uint64_t tail_rank(const sl__zipf *z, double t)
{
    double x, lo = (double)z->head + 1.0, hi = (double)z->vocabulary;

    if (log_tail(z)) {
        x = z->tail_a * det_exp(t);
    } else {
        double base = z->tail_a_pow + (1.0 - z->s) * t;
        x = base > 0.0 ? det_pow(base, 1.0 / (1.0 - z->s)) : hi;
    }
    x = floor(x + 0.5);
    if (!(x >= lo)) /* also catches NaN */
        x = lo;
    if (!(x <= hi))
        x = hi;
    return (uint64_t)x - 1;
}

uint64_t sl__zipf_rank(const sl__zipf *z, sl__rng *r)
{
    double t = sl__rng_double(r) * z->total;
    size_t i, j;

    if (!(t < z->head_mass))
        return tail_rank(z, t - z->head_mass);
    j = (size_t)(t * z->guide_scale);
    i = z->guide[j < z->head ? j : z->head - 1];
    /* The guide is a starting point; these loops make the answer exact
     * whatever rounding did to it. cdf[head - 1] > t ends the second. */
    while (i > 0 && z->cdf[i - 1] > t)
        i--;
    while (z->cdf[i] <= t)
        i++;
    return i;
}

size_t sl__zipf_word(const sl__zipf *z, uint64_t rank, char *buf)
{
    if (rank < z->head) {
        memcpy(buf, z->words[rank], 16);
        return (size_t)z->words[rank][15];
    }
    return encode_word(word_index(z, rank), buf);
}

size_t sl__zipf_line(const sl__zipf *z, sl__rng *r, size_t words, char *buf)
{
    char *p = buf;
    size_t w;

    for (w = 0; w < words; w++) {
        if (w > 0)
            *p++ = ' ';
        p += sl__zipf_word(z, sl__zipf_rank(z, r), p);
    }
    return (size_t)(p - buf);
}

size_t sl__zipf_gen_line(const sl__zipf *z, uint64_t seed, uint64_t stream,
                         uint64_t index, size_t words, char *buf)
{
    sl__rng r;

    sl__rng_seed(&r, seed, stream, index);
    return sl__zipf_line(z, &r, words, buf);
}

/* ---------------------------------------------------------------- parsing */

/* Digits of "123.45" as mantissa 12345 and decimal exponent -2; digits past
 * the 18th only move the exponent. Returns the end of what was read. */
static const char *parse_mantissa(const char *p, uint64_t *m, int *e10)
{
    bool dot = false, any = false;

    for (;; p++) {
        if (*p >= '0' && *p <= '9') {
            any = true;
            if (*m < UINT64_C(100000000000000000)) {
                *m = *m * 10 + (uint64_t)(*p - '0');
                *e10 -= dot;
            } else {
                *e10 += !dot;
            }
        } else if (*p == '.' && !dot) {
            dot = true;
        } else {
            break;
        }
    }
    return any ? p : NULL;
}

static const char *parse_exponent_part(const char *p, int *e10)
{
    int sign = 1, e = 0;

    if (*p != 'e' && *p != 'E')
        return p;
    p++;
    if (*p == '+' || *p == '-')
        sign = *p++ == '-' ? -1 : 1;
    if (*p < '0' || *p > '9')
        return NULL;
    for (; *p >= '0' && *p <= '9'; p++)
        if (e < 10000)
            e = e * 10 + (*p - '0');
    *e10 += sign * e;
    return p;
}

sl_status sl__zipf_parse_exponent(const char *text, double *out)
{
    uint64_t m = 0;
    int e10 = 0, i;
    double scale = 1.0, v;
    const char *p;

    p = text ? parse_mantissa(text, &m, &e10) : NULL;
    if (p)
        p = parse_exponent_part(p, &e10);
    if (!p || *p != '\0' || e10 > 400 || e10 < -400)
        return SL_EPARSE;
    /* Powers of ten up to 1e22 are exact, so common inputs round once. */
    for (i = 0; i < (e10 < 0 ? -e10 : e10); i++)
        scale *= 10.0;
    v = e10 < 0 ? (double)m / scale : (double)m * scale;
    if (!(v > 0.0) || !isfinite(v))
        return SL_EPARSE;
    *out = v;
    return SL_OK;
}
