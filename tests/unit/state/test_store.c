/*
 * Unit tests of the keyed state store (src/state/store.c) against
 * src/state/store.h: insert, update and remove within and across versions,
 * deep copies of keys and values of every kind, per-key update times,
 * begin / commit / abort and the version rules that keep a batch from
 * applying twice, iteration of the frozen committed version while the next
 * one is written, sharding by sl__hash_part, a million keys over twenty
 * versions, backward-shift deletion (bulk and around the table's end),
 * memory (bytes per key, shared key copies on update, compaction of
 * replaced copies, memory given back by removals and abort), one writer
 * thread per shard, and allocation failure.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <sluice/core.h>

#include "core/core.h"
#include "sl_test.h"
#include "sl_test_util.h"
#include "state/store.h"

/* ------------------------------------------------------------ helpers */

static sl_status put(sl__state_store *st, sl_value k, sl_value v, int64_t t)
{
    return sl__state_put(st, &k, sl__htab_hash(&k), &v, t);
}

static sl_status rm(sl__state_store *st, sl_value k)
{
    return sl__state_remove(st, &k, sl__htab_hash(&k));
}

static const sl__state_entry *get(const sl__state_store *st, sl_value k)
{
    return sl__state_get(st, &k, sl__htab_hash(&k));
}

/* True when key k is committed with value v updated at t. */
static bool has(const sl__state_store *st, sl_value k, sl_value v, int64_t t)
{
    const sl__state_entry *e = get(st, k);
    return e && sl_value_equal(&e->key, &k) && sl_value_equal(&e->value, &v) &&
           e->updated_ms == t && e->hash == sl__htab_hash(&k);
}

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static size_t entries_in_shards(const sl__state_store *st)
{
    size_t s, i, n = 0;
    for (s = 0; s < sl__state_shards(st); s++)
        for (i = 0; sl__state_next(st, s, &i);)
            n++;
    return n;
}

/*
 * Every committed entry in iteration order with where it lives: shard,
 * index, entry address, the key's and value's words (their copies'
 * addresses for strings and composites), hash, key, value and update time.
 * Two equal snapshots mean the committed version was not touched at all.
 */
static char *snapshot(const sl__state_store *st)
{
    sl_test_buf b = {0};
    const sl__state_entry *e;
    size_t s, i;

    sl_test_buf_printf(&b, "version %lld count %zu\n",
                       (long long)sl__state_version(st), sl__state_count(st));
    for (s = 0; s < sl__state_shards(st); s++)
        for (i = 0; (e = sl__state_next(st, s, &i));) {
            char *k = sl_test_json(&e->key), *v = sl_test_json(&e->value);
            sl_test_buf_printf(
                &b, "%zu/%zu %p %016llx %016llx %016llx %s=%s @%lld\n", s,
                i - 1, (const void *)e, (unsigned long long)e->key.u.i,
                (unsigned long long)e->value.u.i, (unsigned long long)e->hash,
                k, v, (long long)e->updated_ms);
            free(k);
            free(v);
        }
    return sl_test_buf_take(&b);
}

/* The committed contents only (sorted entries, no addresses): equal when
 * the version holds the same keys, values and times. */
static char *contents(const sl__state_store *st)
{
    size_t n = sl__state_count(st), m = 0, s, i;
    char **lines = calloc(n + 1, sizeof *lines), *all;
    const sl__state_entry *e;
    sl_test_buf b = {0};

    if (!lines)
        abort();
    for (s = 0; s < sl__state_shards(st); s++)
        for (i = 0; (e = sl__state_next(st, s, &i));) {
            char *k = sl_test_json(&e->key), *v = sl_test_json(&e->value);
            sl_test_buf_printf(&b, "%zu %s=%s @%lld", s, k, v,
                               (long long)e->updated_ms);
            free(k);
            free(v);
            if (m < n)
                lines[m++] = sl_test_buf_take(&b);
            else
                sl_test_buf_free(&b);
        }
    all = sl_test_join(lines, m, "\n", true);
    free(lines);
    sl_test_buf_printf(&b, "version %lld count %zu\n%s",
                       (long long)sl__state_version(st), n, all);
    free(all);
    return sl_test_buf_take(&b);
}

/* ------------------------------------------------------------- model */

/*
 * Model keys are indices 0..n-1: every fourth one a string "k<i>", the
 * others ints 5 i - 777. Model values are numbers x >= 0 stored as an int,
 * a string "v<x>" or a pair (x, "p<x>") by x mod 3, so most entries own a
 * deep copy.
 */
typedef struct keybuf {
    char s[24];
} keybuf;

typedef struct valbuf {
    char s[24];
    sl_value items[2];
} valbuf;

static sl_value key_of(size_t i, keybuf *b)
{
    if (i % 4 == 0) {
        int n = snprintf(b->s, sizeof b->s, "k%zu", i);
        return sl_str(b->s, (size_t)n);
    }
    return sl_int((int64_t)i * 5 - 777);
}

/* Index of a model key among n, or SIZE_MAX when k is none. */
static size_t index_of(const sl_value *k, size_t n)
{
    if (k->kind == SL_KIND_INT) {
        int64_t x = k->u.i + 777;
        size_t i;
        if (x < 0 || x % 5)
            return SIZE_MAX;
        i = (size_t)(x / 5);
        return i < n && i % 4 ? i : SIZE_MAX;
    }
    if (k->kind == SL_KIND_STR && k->len >= 2 && k->len < 22 &&
        k->u.s[0] == 'k') {
        keybuf b;
        size_t i = 0;
        uint32_t j;
        for (j = 1; j < k->len; j++) {
            if (k->u.s[j] < '0' || k->u.s[j] > '9')
                return SIZE_MAX;
            i = i * 10 + (size_t)(k->u.s[j] - '0');
        }
        if (i >= n || i % 4)
            return SIZE_MAX;
        /* Canonical spelling only ("k04" is no model key). */
        key_of(i, &b);
        return strlen(b.s) == k->len ? i : SIZE_MAX;
    }
    return SIZE_MAX;
}

static sl_value value_of(int64_t x, valbuf *b)
{
    int n;
    switch (x % 3) {
    case 0:
        return sl_int(x);
    case 1:
        n = snprintf(b->s, sizeof b->s, "v%lld", (long long)x);
        return sl_str(b->s, (size_t)n);
    default:
        n = snprintf(b->s, sizeof b->s, "p%lld", (long long)x);
        b->items[0] = sl_int(x);
        b->items[1] = sl_str(b->s, (size_t)n);
        return sl_composite(SL_KIND_PAIR, b->items, 2);
    }
}

typedef struct model {
    size_t n;
    int64_t *val, *tm;
    unsigned char *present;
} model;

static void model_init(model *m, size_t n)
{
    m->n = n;
    m->val = calloc(n, sizeof *m->val);
    m->tm = calloc(n, sizeof *m->tm);
    m->present = calloc(n, 1);
    if (!m->val || !m->tm || !m->present)
        abort();
}

static void model_free(model *m)
{
    free(m->val);
    free(m->tm);
    free(m->present);
}

static void model_copy(model *dst, const model *src)
{
    memcpy(dst->val, src->val, src->n * sizeof *src->val);
    memcpy(dst->tm, src->tm, src->n * sizeof *src->tm);
    memcpy(dst->present, src->present, src->n);
}

static size_t model_count(const model *m)
{
    size_t i, n = 0;
    for (i = 0; i < m->n; i++)
        n += m->present[i];
    return n;
}

/* Put model key i = x at t in the store and in pm (the pending model). */
static sl_status m_put(sl__state_store *st, model *pm, size_t i, int64_t x,
                       int64_t t)
{
    keybuf kb;
    valbuf vb;
    sl_status s = put(st, key_of(i, &kb), value_of(x, &vb), t);
    if (s == SL_OK) {
        pm->present[i] = 1;
        pm->val[i] = x;
        pm->tm[i] = t;
    }
    return s;
}

static sl_status m_remove(sl__state_store *st, model *pm, size_t i)
{
    keybuf kb;
    sl_status s = rm(st, key_of(i, &kb));
    if (s == SL_OK)
        pm->present[i] = 0;
    return s;
}

/* Does committed entry e hold model key i as m says? */
static bool entry_matches(const sl__state_entry *e, const model *m, size_t i)
{
    keybuf kb;
    valbuf vb;
    sl_value k = key_of(i, &kb), v = value_of(m->val[i], &vb);
    return sl_value_equal(&e->key, &k) && sl_value_equal(&e->value, &v) &&
           e->updated_ms == m->tm[i] && e->hash == sl__htab_hash(&k);
}

static void mismatch(size_t *bad, const char *fmt, size_t i)
{
    if ((*bad)++ < 5) {
        fprintf(stderr, "  model mismatch: ");
        fprintf(stderr, fmt, i);
        fputc('\n', stderr);
    }
}

/*
 * Compare the committed version with m three ways: a lookup of every
 * model key, the count, and iteration over every shard (each key once, in
 * the shard its hash maps to, nothing m does not hold). Returns the number
 * of mismatches and prints the first few.
 */
static size_t check_model(const sl__state_store *st, const model *m)
{
    unsigned char *seen = calloc(m->n ? m->n : 1, 1);
    const sl__state_entry *e;
    size_t bad = 0, expect = 0, iterated = 0, i, s, it;

    if (!seen)
        abort();
    for (i = 0; i < m->n; i++) {
        keybuf kb;
        e = get(st, key_of(i, &kb));
        if (m->present[i]) {
            expect++;
            if (!e)
                mismatch(&bad, "key %zu missing", i);
            else if (!entry_matches(e, m, i))
                mismatch(&bad, "key %zu has the wrong state", i);
        } else if (e) {
            mismatch(&bad, "key %zu present but should be absent", i);
        }
    }
    if (sl__state_count(st) != expect)
        mismatch(&bad, "count differs from the model's %zu", expect);
    for (s = 0; s < sl__state_shards(st); s++)
        for (it = 0; (e = sl__state_next(st, s, &it));) {
            iterated++;
            i = index_of(&e->key, m->n);
            if (i == SIZE_MAX)
                mismatch(&bad, "iteration: entry #%zu is no model key",
                         iterated);
            else if (seen[i])
                mismatch(&bad, "iteration: key %zu seen twice", i);
            else if (!m->present[i] || !entry_matches(e, m, i))
                mismatch(&bad, "iteration: key %zu has the wrong state", i);
            else if (sl__state_shard_of(st, e->hash) != s)
                mismatch(&bad, "iteration: key %zu in the wrong shard", i);
            else
                seen[i] = 1;
        }
    if (iterated != expect)
        mismatch(&bad, "iteration gave %zu entries", iterated);
    free(seen);
    return bad;
}

#define CHECK_MODEL(st, m) SL_CHECK_INT(check_model((st), (m)), 0)

/* ------------------------------------------------- versions and basics */

static void test_versions(void)
{
    sl__state_store *st;
    size_t s, i;

    SL_CHECK(sl__state_new(0) == NULL);
    st = sl__state_new(4);
    SL_CHECK(st != NULL);
    if (!st)
        return;
    SL_CHECK_INT(sl__state_shards(st), 4);
    SL_CHECK_INT(sl__state_version(st), -1);
    SL_CHECK_INT(sl__state_count(st), 0);
    for (s = 0; s < 4; s++) {
        i = 0;
        SL_CHECK(sl__state_next(st, s, &i) == NULL);
    }
    SL_CHECK(get(st, sl_int(1)) == NULL);

    /* Nothing is being written: commit and writes are refused. */
    SL_CHECK_INT(sl__state_commit(st), SL_ESTATE);
    SL_CHECK_INT(put(st, sl_int(1), sl_int(1), 0), SL_ESTATE);
    SL_CHECK_INT(rm(st, sl_int(1)), SL_ESTATE);
    SL_CHECK_INT(sl__state_begin(st, -1), SL_ESTATE); /* not newer than -1 */
    SL_CHECK_INT(sl__state_begin(st, -7), SL_ESTATE);

    SL_CHECK_OK(sl__state_begin(st, 0));
    SL_CHECK_INT(sl__state_begin(st, 1), SL_ESTATE); /* begin twice */
    SL_CHECK_INT(sl__state_begin(st, 0), SL_ESTATE);
    SL_CHECK_OK(put(st, sl_int(1), sl_int(10), 100));
    SL_CHECK_INT(sl__state_version(st), -1); /* begin commits nothing */
    SL_CHECK_INT(sl__state_count(st), 0);
    SL_CHECK_OK(sl__state_commit(st));
    SL_CHECK_INT(sl__state_version(st), 0);
    SL_CHECK_INT(sl__state_count(st), 1);
    SL_CHECK_INT(sl__state_commit(st), SL_ESTATE); /* commit twice */

    /* A batch that ran before is refused: it must not apply twice. */
    SL_CHECK_INT(sl__state_begin(st, 0), SL_ESTATE);
    SL_CHECK_INT(sl__state_begin(st, -5), SL_ESTATE);
    SL_CHECK_INT(put(st, sl_int(1), sl_int(11), 101), SL_ESTATE);
    SL_CHECK(has(st, sl_int(1), sl_int(10), 100));

    /* Versions need not be consecutive, only newer. */
    SL_CHECK_OK(sl__state_begin(st, 7));
    SL_CHECK_OK(put(st, sl_int(1), sl_int(70), 700));
    SL_CHECK_OK(sl__state_commit(st));
    SL_CHECK_INT(sl__state_version(st), 7);
    SL_CHECK(has(st, sl_int(1), sl_int(70), 700));
    SL_CHECK_INT(sl__state_begin(st, 5), SL_ESTATE);
    SL_CHECK_INT(sl__state_begin(st, 7), SL_ESTATE);
    SL_CHECK(has(st, sl_int(1), sl_int(70), 700));

    /* Abort without begin is harmless; an aborted version ends the write
     * and may be begun again. */
    sl__state_abort(st);
    SL_CHECK_INT(sl__state_version(st), 7);
    SL_CHECK_OK(sl__state_begin(st, 8));
    SL_CHECK_OK(put(st, sl_int(1), sl_int(80), 800));
    sl__state_abort(st);
    SL_CHECK_INT(sl__state_commit(st), SL_ESTATE);
    SL_CHECK_INT(put(st, sl_int(1), sl_int(81), 810), SL_ESTATE);
    SL_CHECK_INT(sl__state_version(st), 7);
    SL_CHECK(has(st, sl_int(1), sl_int(70), 700));
    SL_CHECK_OK(sl__state_begin(st, 8));
    SL_CHECK_OK(sl__state_commit(st)); /* an empty version still counts */
    SL_CHECK_INT(sl__state_version(st), 8);
    SL_CHECK(has(st, sl_int(1), sl_int(70), 700));
    SL_CHECK_INT(sl__state_count(st), 1);

    SL_CHECK_OK(sl__state_begin(st, INT64_MAX));
    SL_CHECK_OK(sl__state_commit(st));
    SL_CHECK_INT(sl__state_version(st), INT64_MAX);
    SL_CHECK_INT(sl__state_begin(st, INT64_MAX), SL_ESTATE);
    sl__state_free(st);
    sl__state_free(NULL);
}

static void test_insert_update_remove(void)
{
    sl__state_store *st = sl__state_new(4);
    sl_value a = sl_cstr("a"), b = sl_int(-2), c = sl_cstr("c"), d = sl_int(4),
             e = sl_cstr("e"), zz = sl_cstr("zz");

    SL_CHECK_OK(sl__state_begin(st, 1));
    SL_CHECK_OK(put(st, a, sl_int(1), 1000));
    SL_CHECK_OK(put(st, b, sl_int(2), 1000));
    SL_CHECK_OK(put(st, c, sl_int(3), 1000));
    SL_CHECK_OK(put(st, d, sl_int(4), 1000));
    /* The last of several puts in a version wins. */
    SL_CHECK_OK(put(st, e, sl_int(50), 1000));
    SL_CHECK_OK(put(st, e, sl_int(51), 1001));
    SL_CHECK_OK(put(st, e, sl_int(5), 1002));
    SL_CHECK(get(st, a) == NULL); /* not committed yet */
    SL_CHECK_INT(sl__state_count(st), 0);
    SL_CHECK_OK(sl__state_commit(st));
    SL_CHECK_INT(sl__state_count(st), 5);
    SL_CHECK(has(st, a, sl_int(1), 1000));
    SL_CHECK(has(st, b, sl_int(2), 1000));
    SL_CHECK(has(st, c, sl_int(3), 1000));
    SL_CHECK(has(st, d, sl_int(4), 1000));
    SL_CHECK(has(st, e, sl_int(5), 1002));
    SL_CHECK(get(st, zz) == NULL);

    SL_CHECK_OK(sl__state_begin(st, 2));
    SL_CHECK_OK(put(st, a, sl_int(11), 2000)); /* update */
    SL_CHECK_OK(rm(st, b));                    /* remove */
    SL_CHECK_OK(rm(st, zz));                   /* remove of an absent key */
    SL_CHECK_OK(rm(st, c));                    /* remove, then re-insert */
    SL_CHECK_OK(put(st, c, sl_int(33), 2000));
    SL_CHECK_OK(put(st, d, sl_int(44), 2000)); /* update, then remove */
    SL_CHECK_OK(rm(st, d));
    SL_CHECK_OK(put(st, sl_cstr("new"), sl_int(9), 2000)); /* insert, then */
    SL_CHECK_OK(rm(st, sl_cstr("new")));                   /* remove */
    SL_CHECK_OK(rm(st, e));                                /* removed twice */
    SL_CHECK_OK(rm(st, e));
    /* Readers still see version 1. */
    SL_CHECK_INT(sl__state_count(st), 5);
    SL_CHECK(has(st, a, sl_int(1), 1000));
    SL_CHECK(has(st, b, sl_int(2), 1000));
    SL_CHECK(has(st, c, sl_int(3), 1000));
    SL_CHECK(has(st, d, sl_int(4), 1000));
    SL_CHECK(get(st, sl_cstr("new")) == NULL);
    SL_CHECK_OK(sl__state_commit(st));
    SL_CHECK_INT(sl__state_version(st), 2);
    SL_CHECK_INT(sl__state_count(st), 2);
    SL_CHECK(has(st, a, sl_int(11), 2000));
    SL_CHECK(get(st, b) == NULL);
    SL_CHECK(has(st, c, sl_int(33), 2000));
    SL_CHECK(get(st, d) == NULL);
    SL_CHECK(get(st, e) == NULL);
    SL_CHECK(get(st, zz) == NULL);
    SL_CHECK(get(st, sl_cstr("new")) == NULL);
    SL_CHECK_INT(entries_in_shards(st), 2);

    /* Update of keys removed in an earlier version: inserted afresh. */
    SL_CHECK_OK(sl__state_begin(st, 3));
    SL_CHECK_OK(put(st, b, sl_int(22), 3000));
    SL_CHECK_OK(put(st, d, sl_cstr("four"), 3000));
    SL_CHECK_OK(rm(st, zz));
    SL_CHECK_OK(sl__state_commit(st));
    SL_CHECK_INT(sl__state_count(st), 4);
    SL_CHECK(has(st, a, sl_int(11), 2000));
    SL_CHECK(has(st, b, sl_int(22), 3000));
    SL_CHECK(has(st, c, sl_int(33), 2000));
    SL_CHECK(has(st, d, sl_cstr("four"), 3000));

    /* Remove everything, then insert again. */
    SL_CHECK_OK(sl__state_begin(st, 4));
    SL_CHECK_OK(rm(st, a));
    SL_CHECK_OK(rm(st, b));
    SL_CHECK_OK(rm(st, c));
    SL_CHECK_OK(rm(st, d));
    SL_CHECK_OK(sl__state_commit(st));
    SL_CHECK_INT(sl__state_count(st), 0);
    SL_CHECK_INT(entries_in_shards(st), 0);
    SL_CHECK(get(st, a) == NULL);
    SL_CHECK_OK(sl__state_begin(st, 5));
    SL_CHECK_OK(put(st, a, sl_int(111), 5000));
    SL_CHECK_OK(sl__state_commit(st));
    SL_CHECK_INT(sl__state_count(st), 1);
    SL_CHECK(has(st, a, sl_int(111), 5000));
    sl__state_free(st);
}

static void test_updated_ms(void)
{
    sl__state_store *st = sl__state_new(2);
    sl_value x = sl_cstr("x"), y = sl_cstr("y"), z = sl_int(3),
             w = sl_cstr("w");

    SL_CHECK_OK(sl__state_begin(st, 1));
    SL_CHECK_OK(put(st, x, sl_int(1), 1000));
    SL_CHECK_OK(put(st, y, sl_int(1), 1000));
    SL_CHECK_OK(put(st, z, sl_int(1), 1000));
    SL_CHECK_OK(sl__state_commit(st));

    SL_CHECK_OK(sl__state_begin(st, 2));
    SL_CHECK_OK(put(st, x, sl_int(2), 2000));
    SL_CHECK_OK(sl__state_commit(st));
    SL_CHECK(has(st, x, sl_int(2), 2000));
    SL_CHECK(has(st, y, sl_int(1), 1000)); /* untouched: time kept */
    SL_CHECK(has(st, z, sl_int(1), 1000));

    SL_CHECK_OK(sl__state_begin(st, 3));
    SL_CHECK_OK(rm(st, z));
    SL_CHECK_OK(put(st, w, sl_int(3), 3000));
    SL_CHECK_OK(sl__state_commit(st));
    SL_CHECK(has(st, x, sl_int(2), 2000));
    SL_CHECK(has(st, y, sl_int(1), 1000));
    SL_CHECK(has(st, w, sl_int(3), 3000));
    SL_CHECK(get(st, z) == NULL);

    /* An empty version changes no time. */
    SL_CHECK_OK(sl__state_begin(st, 4));
    SL_CHECK_OK(sl__state_commit(st));
    SL_CHECK(has(st, y, sl_int(1), 1000));

    /* A put of the same value is an update: the time moves. */
    SL_CHECK_OK(sl__state_begin(st, 5));
    SL_CHECK_OK(put(st, y, sl_int(1), 5000));
    SL_CHECK_OK(sl__state_commit(st));
    SL_CHECK(has(st, y, sl_int(1), 5000));
    SL_CHECK(has(st, x, sl_int(2), 2000));

    /* Any time is kept as given; INT64_MIN (the store's removal mark
     * inside) still puts the key. */
    SL_CHECK_OK(sl__state_begin(st, 6));
    SL_CHECK_OK(put(st, sl_int(10), sl_int(0), 0));
    SL_CHECK_OK(put(st, sl_int(11), sl_int(0), -5));
    SL_CHECK_OK(put(st, sl_int(12), sl_int(0), INT64_MAX));
    SL_CHECK_OK(put(st, sl_int(13), sl_int(0), INT64_MIN));
    SL_CHECK_OK(sl__state_commit(st));
    SL_CHECK(has(st, sl_int(10), sl_int(0), 0));
    SL_CHECK(has(st, sl_int(11), sl_int(0), -5));
    SL_CHECK(has(st, sl_int(12), sl_int(0), INT64_MAX));
    SL_CHECK(get(st, sl_int(13)) != NULL);
    SL_CHECK_INT(sl__state_count(st), 7);
    sl__state_free(st);
}

/* ------------------------------------------------------- deep copies */

static char *xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (!p)
        abort();
    memcpy(p, s, n);
    return p;
}

/* Overwrite and free a caller buffer of n bytes. */
static void scribble(void *p, size_t n)
{
    memset(p, 0x5A, n);
    free(p);
}

static void check_json(const sl__state_store *st, sl_value k,
                       const char *want_key, const char *want_value, int64_t t,
                       int line)
{
    const sl__state_entry *e = get(st, k);
    char *kj, *vj;
    if (!e) {
        sl_test_fail(__FILE__, line, "key %s missing", want_key);
        return;
    }
    kj = sl_test_json(&e->key);
    vj = sl_test_json(&e->value);
    if (strcmp(kj, want_key) || strcmp(vj, want_value) || e->updated_ms != t ||
        !sl_value_equal(&e->key, &k) || e->hash != sl__htab_hash(&k))
        sl_test_fail(__FILE__, line, "got %s=%s @%lld, want %s=%s @%lld", kj,
                     vj, (long long)e->updated_ms, want_key, want_value,
                     (long long)t);
    else
        CU_PASS("entry");
    free(kj);
    free(vj);
}

#define CHECK_JSON(st, k, wk, wv, t) check_json(st, k, wk, wv, t, __LINE__)

static void test_deep_copies(void)
{
    sl__state_store *st = sl__state_new(3);
    char *ks, *vs, *ps, *l0, *l1, *np, *lk, *bs;
    sl_value *pk, *lv, *nest, *lkey, sub[2];
    sl_value k1, k2, k3, k4, k5, items[4];

    SL_CHECK_OK(sl__state_begin(st, 1));

    /* String key and string value in the caller's heap buffers. */
    ks = xstrdup("apple");
    vs = xstrdup("red fruit");
    SL_CHECK_OK(put(st, sl_cstr(ks), sl_cstr(vs), 10));

    /* Pair key ("p", 5) -> list ["l0", "l1", 2, ("np", 1.5)]. */
    ps = xstrdup("p");
    pk = malloc(2 * sizeof *pk);
    pk[0] = sl_cstr(ps);
    pk[1] = sl_int(5);
    l0 = xstrdup("l0");
    l1 = xstrdup("l1");
    np = xstrdup("np");
    nest = malloc(2 * sizeof *nest);
    nest[0] = sl_cstr(np);
    nest[1] = sl_double(1.5);
    lv = malloc(4 * sizeof *lv);
    lv[0] = sl_cstr(l0);
    lv[1] = sl_cstr(l1);
    lv[2] = sl_int(2);
    lv[3] = sl_composite(SL_KIND_PAIR, nest, 2);
    SL_CHECK_OK(put(st, sl_composite(SL_KIND_PAIR, pk, 2),
                    sl_composite(SL_KIND_LIST, lv, 4), 20));

    /* List key [1, "two", []] -> bytes with a NUL inside. */
    lk = xstrdup("two");
    lkey = malloc(3 * sizeof *lkey);
    lkey[0] = sl_int(1);
    lkey[1] = sl_cstr(lk);
    lkey[2] = sl_composite(SL_KIND_LIST, NULL, 0);
    bs = malloc(4);
    memcpy(bs, "a\0bc", 4);
    SL_CHECK_OK(
        put(st, sl_composite(SL_KIND_LIST, lkey, 3), sl_bytes(bs, 4), 30));

    /* Int key -> pair of a string and a list, built on the stack and
     * overwritten below. */
    sub[0] = sl_cstr("in");
    sub[1] = sl_cstr("list");
    items[0] = sl_cstr("first");
    items[1] = sl_composite(SL_KIND_LIST, sub, 2);
    SL_CHECK_OK(put(st, sl_int(42), sl_composite(SL_KIND_PAIR, items, 2), 40));
    memset(sub, 0x5A, sizeof sub);
    memset(items, 0x5A, sizeof items);

    /* Tuple key (true, null, -0.25) -> null; the empty string -> "". */
    items[0] = sl_bool(true);
    items[1] = sl_null();
    items[2] = sl_double(-0.25);
    SL_CHECK_OK(put(st, sl_composite(SL_KIND_TUPLE, items, 3), sl_null(), 50));
    memset(items, 0x5A, sizeof items);
    SL_CHECK_OK(put(st, sl_str("", 0), sl_str("", 0), 60));

    /* Keys equal only within a kind: 1, 1.0, "1", bytes "1", true. */
    SL_CHECK_OK(put(st, sl_int(1), sl_cstr("int"), 70));
    SL_CHECK_OK(put(st, sl_double(1.0), sl_cstr("double"), 70));
    SL_CHECK_OK(put(st, sl_cstr("1"), sl_cstr("str"), 70));
    SL_CHECK_OK(put(st, sl_bytes("1", 1), sl_cstr("bytes"), 70));
    SL_CHECK_OK(put(st, sl_bool(true), sl_cstr("bool"), 70));

    /* The caller's memory goes away before the commit. */
    scribble(ks, 6);
    scribble(vs, 10);
    scribble(ps, 2);
    scribble(pk, 2 * sizeof *pk);
    scribble(l0, 3);
    scribble(l1, 3);
    scribble(np, 3);
    scribble(nest, 2 * sizeof *nest);
    scribble(lv, 4 * sizeof *lv);
    scribble(lk, 4);
    scribble(lkey, 3 * sizeof *lkey);
    scribble(bs, 4);
    SL_CHECK_OK(sl__state_commit(st));
    SL_CHECK_INT(sl__state_count(st), 11);

    CHECK_JSON(st, sl_cstr("apple"), "\"apple\"", "\"red fruit\"", 10);
    k1 = sl_cstr("p");
    items[0] = k1;
    items[1] = sl_int(5);
    k2 = sl_composite(SL_KIND_PAIR, items, 2);
    CHECK_JSON(st, k2, "[\"p\",5]", "[\"l0\",\"l1\",2,[\"np\",1.5]]", 20);
    {
        sl_value li[3] = {sl_int(1), sl_cstr("two"),
                          sl_composite(SL_KIND_LIST, NULL, 0)};
        const sl__state_entry *e;
        k3 = sl_composite(SL_KIND_LIST, li, 3);
        e = get(st, k3);
        SL_CHECK(e != NULL);
        if (e) {
            SL_CHECK_INT(e->value.kind, SL_KIND_BYTES);
            SL_CHECK_INT(e->value.len, 4);
            SL_CHECK(memcmp(e->value.u.s, "a\0bc", 4) == 0);
            SL_CHECK(e->updated_ms == 30);
        }
    }
    CHECK_JSON(st, sl_int(42), "42", "[\"first\",[\"in\",\"list\"]]", 40);
    {
        sl_value ti[3] = {sl_bool(true), sl_null(), sl_double(-0.25)};
        k4 = sl_composite(SL_KIND_TUPLE, ti, 3);
        CHECK_JSON(st, k4, "[true,null,-0.25]", "null", 50);
    }
    CHECK_JSON(st, sl_str("", 0), "\"\"", "\"\"", 60);
    CHECK_JSON(st, sl_int(1), "1", "\"int\"", 70);
    CHECK_JSON(st, sl_double(1.0), "1.0", "\"double\"", 70);
    CHECK_JSON(st, sl_cstr("1"), "\"1\"", "\"str\"", 70);
    CHECK_JSON(st, sl_bool(true), "true", "\"bool\"", 70);
    {
        const sl__state_entry *e = get(st, sl_bytes("1", 1));
        SL_CHECK(e && e->value.kind == SL_KIND_STR && e->value.len == 5 &&
                 memcmp(e->value.u.s, "bytes", 5) == 0);
    }
    SL_CHECK(get(st, sl_double(1.5)) == NULL);
    SL_CHECK(get(st, sl_cstr("appl")) == NULL);

    /* Updates copy too, and replace the old copy (no leak, none kept). */
    SL_CHECK_OK(sl__state_begin(st, 2));
    ks = xstrdup("apple");
    vs = xstrdup("green fruit, longer than before");
    SL_CHECK_OK(put(st, sl_cstr(ks), sl_cstr(vs), 11));
    scribble(vs, strlen("green fruit, longer than before") + 1);
    vs = xstrdup("yellow");
    SL_CHECK_OK(put(st, sl_cstr(ks), sl_cstr(vs), 12)); /* replaces pending */
    scribble(ks, 6);
    scribble(vs, 7);
    /* The committed copy is still the old one. */
    CHECK_JSON(st, sl_cstr("apple"), "\"apple\"", "\"red fruit\"", 10);
    SL_CHECK_OK(rm(st, sl_cstr("1")));
    k5 = sl_cstr("apple");
    SL_CHECK_OK(sl__state_commit(st));
    CHECK_JSON(st, k5, "\"apple\"", "\"yellow\"", 12);
    SL_CHECK(get(st, sl_cstr("1")) == NULL);
    SL_CHECK_INT(sl__state_count(st), 10);
    SL_CHECK_INT(entries_in_shards(st), 10);
    sl__state_free(st);
}

/* ---------------------------------------------------- abort, frozen */

static void test_abort(void)
{
    enum { N = 8000 };
    sl__state_store *st = sl__state_new(4);
    model cm, pm;
    char *before, *after;
    size_t i;

    model_init(&cm, N);
    model_init(&pm, N);
    SL_CHECK_OK(sl__state_begin(st, 1));
    for (i = 0; i < 3000; i++)
        SL_CHECK_INT(m_put(st, &pm, i, (int64_t)i, 1000), SL_OK);
    SL_CHECK_OK(sl__state_commit(st));
    model_copy(&cm, &pm);
    CHECK_MODEL(st, &cm);
    before = snapshot(st);

    /* An aborted version with every kind of write. */
    SL_CHECK_OK(sl__state_begin(st, 2));
    for (i = 0; i < 1000; i++)
        SL_CHECK_INT(m_put(st, &pm, i, (int64_t)i + 100000, 2000), SL_OK);
    for (i = 1000; i < 2000; i++)
        SL_CHECK_INT(m_remove(st, &pm, i), SL_OK);
    for (i = 3000; i < 6000; i++)
        SL_CHECK_INT(m_put(st, &pm, i, (int64_t)i, 2000), SL_OK);
    for (i = 6000; i < 6100; i++)
        SL_CHECK_INT(m_remove(st, &pm, i), SL_OK);
    CHECK_MODEL(st, &cm);
    sl__state_abort(st);
    after = snapshot(st);
    SL_CHECK_STR(after, before);
    free(after);
    SL_CHECK_INT(sl__state_version(st), 1);
    CHECK_MODEL(st, &cm);
    model_copy(&pm, &cm);

    /* Abort right after begin. */
    SL_CHECK_OK(sl__state_begin(st, 2));
    sl__state_abort(st);
    after = snapshot(st);
    SL_CHECK_STR(after, before);
    free(after);

    /* The aborted version runs again and commits only its own writes. */
    SL_CHECK_INT(sl__state_begin(st, 1), SL_ESTATE);
    SL_CHECK_OK(sl__state_begin(st, 2));
    for (i = 2000; i < 2500; i++)
        SL_CHECK_INT(m_put(st, &pm, i, 7, 2222), SL_OK);
    for (i = 0; i < 100; i++)
        SL_CHECK_INT(m_remove(st, &pm, i), SL_OK);
    for (i = 7000; i < 7100; i++)
        SL_CHECK_INT(m_put(st, &pm, i, 8, 2222), SL_OK);
    SL_CHECK_OK(sl__state_commit(st));
    SL_CHECK_INT(sl__state_version(st), 2);
    CHECK_MODEL(st, &pm);
    SL_CHECK_INT(sl__state_count(st), 3000 - 100 + 100);

    free(before);
    model_free(&cm);
    model_free(&pm);
    sl__state_free(st);
}

/*
 * Iterate the committed version over every shard while the next version is
 * written, writing between the steps of the iteration (including to the
 * very keys iterated): the iteration and lookups see exactly the committed
 * keys and values.
 */
static void test_frozen_iteration(void)
{
    enum { N = 60000, S = 8 };
    sl__state_store *st = sl__state_new(S);
    model cm, pm;
    const sl__state_entry *e;
    size_t i, s, it, seen = 0, bad = 0, next_new = 40000;

    model_init(&cm, N);
    model_init(&pm, N);
    SL_CHECK_OK(sl__state_begin(st, 1));
    for (i = 0; i < 20000; i++)
        SL_CHECK_INT(m_put(st, &pm, i, (int64_t)i, 1000), SL_OK);
    SL_CHECK_OK(sl__state_commit(st));
    model_copy(&cm, &pm);

    SL_CHECK_OK(sl__state_begin(st, 2));
    for (i = 0; i < 5000; i++)
        SL_CHECK_INT(m_put(st, &pm, i, (int64_t)i + 1, 2000), SL_OK);
    for (i = 5000; i < 10000; i++)
        SL_CHECK_INT(m_remove(st, &pm, i), SL_OK);
    for (i = 20000; i < 30000; i++)
        SL_CHECK_INT(m_put(st, &pm, i, (int64_t)i, 2000), SL_OK);
    CHECK_MODEL(st, &cm); /* mid-version: only the committed state */

    for (s = 0; s < S; s++)
        for (it = 0; (e = sl__state_next(st, s, &it));) {
            size_t k = index_of(&e->key, N);
            seen++;
            if (k == SIZE_MAX || !cm.present[k] || !entry_matches(e, &cm, k) ||
                sl__state_shard_of(st, e->hash) != s) {
                bad++;
                continue;
            }
            /* Write between steps: the key itself, and a new key. */
            if (k % 3 == 0)
                SL_CHECK_INT(m_remove(st, &pm, k), SL_OK);
            else
                SL_CHECK_INT(m_put(st, &pm, k, cm.val[k] + 3, 2500), SL_OK);
            SL_CHECK_INT(m_put(st, &pm, next_new, 1, 2500), SL_OK);
            next_new++;
        }
    SL_CHECK_INT(bad, 0);
    SL_CHECK_INT(seen, model_count(&cm));
    SL_CHECK_INT(seen, 20000);
    CHECK_MODEL(st, &cm);
    SL_CHECK_INT(sl__state_version(st), 1);
    SL_CHECK_OK(sl__state_commit(st));
    SL_CHECK_INT(sl__state_version(st), 2);
    CHECK_MODEL(st, &pm);
    SL_CHECK_INT(sl__state_count(st), model_count(&pm));
    model_free(&cm);
    model_free(&pm);
    sl__state_free(st);
}

/* ------------------------------------------------------------ shards */

static void test_shard_of(void)
{
    static const size_t sizes[] = {1, 2, 3, 5, 7, 8, 16, 64, 1000};
    enum { N = 20000 };
    size_t z;

    for (z = 0; z < sizeof sizes / sizeof sizes[0]; z++) {
        size_t S = sizes[z], i, wrong = 0, out = 0, empty = 0, max = 0;
        size_t *per = calloc(S, sizeof *per);
        sl__state_store *st = sl__state_new(S);
        model m;

        model_init(&m, N);
        SL_CHECK_INT(sl__state_shards(st), S);
        SL_CHECK_OK(sl__state_begin(st, 1));
        for (i = 0; i < N; i++) {
            keybuf kb;
            sl_value k = key_of(i, &kb);
            uint64_t h = sl__htab_hash(&k);
            size_t s = sl__state_shard_of(st, h);
            if (s != sl__hash_part(h, S))
                wrong++;
            if (s >= S)
                out++;
            else
                per[s]++;
            SL_CHECK_INT(m_put(st, &m, i, (int64_t)i, 1), SL_OK);
        }
        SL_CHECK_INT(wrong, 0);
        SL_CHECK_INT(out, 0);
        SL_CHECK_INT(sl__state_shard_of(st, 1), 0);
        SL_CHECK_INT(sl__state_shard_of(st, UINT64_MAX), S - 1);
        SL_CHECK_INT(sl__state_shard_of(st, UINT64_C(0xFFFFFFFF)), 0);
        for (i = 0; i < S; i++) {
            empty += per[i] == 0;
            if (per[i] > max)
                max = per[i];
        }
        if (S <= 64) { /* the hash spreads keys over every shard */
            SL_CHECK_INT(empty, 0);
            SL_CHECK(max <= 2 * (N / S));
        }
        SL_CHECK_OK(sl__state_commit(st));
        CHECK_MODEL(st, &m); /* iteration finds each key in its shard */
        model_free(&m);
        free(per);
        sl__state_free(st);
    }
}

/* ------------------------------------------------------------ volume */

/* A million keys: twenty versions of 50k new keys, each also updating 10k
 * and removing 5k older ones. */
static void test_million_keys(void)
{
    enum { N = 1000000, V = 20, PER = N / V };
    sl__state_store *st = sl__state_new(16);
    model m;
    uint64_t rng = 42;
    int64_t v;
    size_t i, j, errors = 0;

    model_init(&m, N);
    for (v = 1; v <= V; v++) {
        size_t lo = (size_t)(v - 1) * PER;
        int64_t t = v * 1000;
        SL_CHECK_OK(sl__state_begin(st, v));
        for (i = lo; i < lo + PER; i++)
            errors += m_put(st, &m, i, (int64_t)i * 7 + v, t) != SL_OK;
        for (j = 0; lo && j < 10000; j++)
            errors += m_put(st, &m, (size_t)(splitmix(&rng) % lo),
                            (int64_t)j + v * 100000, t) != SL_OK;
        for (j = 0; lo && j < 5000; j++)
            errors += m_remove(st, &m, (size_t)(splitmix(&rng) % lo)) != SL_OK;
        SL_CHECK_OK(sl__state_commit(st));
        SL_CHECK_INT(sl__state_version(st), v);
        SL_CHECK_INT(sl__state_count(st), model_count(&m));
        if (v == V / 2)
            CHECK_MODEL(st, &m);
    }
    SL_CHECK_INT(errors, 0);
    CHECK_MODEL(st, &m);
    SL_CHECK(sl__state_count(st) > N - V * 5000);
    model_free(&m);
    sl__state_free(st);
}

/*
 * 100k keys in one shard (one big table), then every other key removed
 * over ten versions: backward-shift deletion must keep every remaining key
 * reachable. Then the removed keys come back, the others go, and all go.
 */
static void test_deletion_stress(void)
{
    enum { N = 100000 };
    sl__state_store *st = sl__state_new(1);
    model m;
    size_t *evens = malloc(N / 2 * sizeof *evens);
    uint64_t rng = 7;
    size_t i, errors = 0;
    int64_t v;

    model_init(&m, N);
    SL_CHECK_OK(sl__state_begin(st, 1));
    for (i = 0; i < N; i++)
        errors += m_put(st, &m, i, (int64_t)i, 1) != SL_OK;
    SL_CHECK_OK(sl__state_commit(st));
    CHECK_MODEL(st, &m);

    for (i = 0; i < N / 2; i++)
        evens[i] = 2 * i;
    for (i = N / 2 - 1; i > 0; i--) { /* shuffled */
        size_t r = (size_t)(splitmix(&rng) % (i + 1)), x = evens[i];
        evens[i] = evens[r];
        evens[r] = x;
    }
    for (v = 2; v <= 11; v++) {
        SL_CHECK_OK(sl__state_begin(st, v));
        for (i = (size_t)(v - 2) * 5000; i < (size_t)(v - 1) * 5000; i++)
            errors += m_remove(st, &m, evens[i]) != SL_OK;
        SL_CHECK_OK(sl__state_commit(st));
        CHECK_MODEL(st, &m);
    }
    SL_CHECK_INT(sl__state_count(st), N / 2);

    SL_CHECK_OK(sl__state_begin(st, 12));
    for (i = 0; i < N; i += 2)
        errors += m_put(st, &m, i, (int64_t)i + 1, 12) != SL_OK;
    for (i = 1; i < N; i += 2)
        errors += m_remove(st, &m, i) != SL_OK;
    SL_CHECK_OK(sl__state_commit(st));
    CHECK_MODEL(st, &m);
    SL_CHECK_INT(sl__state_count(st), N / 2);

    SL_CHECK_OK(sl__state_begin(st, 13));
    for (i = 0; i < N; i++)
        errors += m_remove(st, &m, i) != SL_OK;
    SL_CHECK_OK(sl__state_commit(st));
    SL_CHECK_INT(sl__state_count(st), 0);
    SL_CHECK_INT(entries_in_shards(st), 0);
    CHECK_MODEL(st, &m);

    SL_CHECK_OK(sl__state_begin(st, 14));
    for (i = 0; i < N; i += 3)
        errors += m_put(st, &m, i, 5, 14) != SL_OK;
    SL_CHECK_OK(sl__state_commit(st));
    CHECK_MODEL(st, &m);
    SL_CHECK_INT(errors, 0);
    free(evens);
    model_free(&m);
    sl__state_free(st);
}

/*
 * Deletion around the end of a small table: one shard, at most 12 keys (a
 * table of 16 slots), all with home slots among the last few or the first
 * few, so clusters wrap past the end. Random puts and removals, one to
 * three per version, each version checked against a model.
 */
static void test_deletion_wraparound(void)
{
    enum { POOL = 48, K = 12, TRIALS = 400, VERSIONS = 40 };
    int64_t pool[POOL];
    size_t npool = 0, trial, bad = 0;
    int64_t c;
    uint64_t rng = 99;

    for (c = 0; npool < POOL; c++) {
        sl_value k = sl_int(c);
        size_t home = (size_t)sl__htab_hash(&k) & 15;
        if (home >= 11 || home <= 1)
            pool[npool++] = c;
    }
    for (trial = 0; trial < TRIALS; trial++) {
        sl__state_store *st = sl__state_new(1);
        int64_t keys[K], val[K] = {0}, tm[K] = {0};
        bool present[K];
        size_t i, n;
        int64_t v;

        for (i = 0; i < K; i++) { /* K distinct keys from the pool */
            size_t j;
            bool dup;
            do {
                keys[i] = pool[splitmix(&rng) % POOL];
                for (dup = false, j = 0; j < i; j++)
                    dup |= keys[j] == keys[i];
            } while (dup);
            present[i] = false;
        }
        for (v = 1; v <= VERSIONS; v++) {
            size_t ops = v == 1 ? K : 1 + (size_t)(splitmix(&rng) % 3), o;
            if (sl__state_begin(st, v) != SL_OK)
                bad++;
            for (o = 0; o < ops; o++) {
                i = v == 1 ? o : (size_t)(splitmix(&rng) % K);
                if (v > 1 && splitmix(&rng) % 2) {
                    bad += rm(st, sl_int(keys[i])) != SL_OK;
                    present[i] = false;
                } else {
                    bad += put(st, sl_int(keys[i]),
                               sl_int(v * 100 + (int64_t)o), v) != SL_OK;
                    present[i] = true;
                    val[i] = v * 100 + (int64_t)o;
                    tm[i] = v;
                }
            }
            if (sl__state_commit(st) != SL_OK)
                bad++;
            for (i = 0, n = 0; i < K; i++) {
                if (present[i]) {
                    n++;
                    bad += !has(st, sl_int(keys[i]), sl_int(val[i]), tm[i]);
                } else {
                    bad += get(st, sl_int(keys[i])) != NULL;
                }
            }
            bad += sl__state_count(st) != n;
            bad += entries_in_shards(st) != n;
        }
        sl__state_free(st);
    }
    SL_CHECK_INT(bad, 0);
}

/* ------------------------------------------------------------ memory */

/* a <= b, printing both when not. */
#define CHECK_AT_MOST(a, b)                                                    \
    do {                                                                       \
        size_t sl_a_ = (a), sl_b_ = (b);                                       \
        if (sl_a_ > sl_b_)                                                     \
            sl_test_fail(__FILE__, __LINE__, "%s <= %s: %zu > %zu", #a, #b,    \
                         sl_a_, sl_b_);                                        \
        else                                                                   \
            CU_PASS(#a " <= " #b);                                             \
    } while (0)

/* A 12-byte string key, as bench_state_mem makes them. */
static sl_value key12(size_t i, keybuf *b)
{
    snprintf(b->s, sizeof b->s, "key-%08zu", i % 100000000);
    return sl_str(b->s, 12);
}

/*
 * The layout's memory per key (docs/performance.md §4): what the store
 * holds for 200k int keys, and for 200k 12-byte string keys, stays within
 * the keys' and values' own bytes plus 64 bytes each (the target; the
 * allocator's headers and RSS are bench_state_mem's business).
 */
static void test_bytes_per_key(void)
{
    enum { N = 200000 };
    int strings;

    for (strings = 0; strings < 2; strings++) {
        sl__state_store *st = sl__state_new(16);
        size_t i, errors = 0, own = strings ? 12 + 8 : 8 + 8;
        for (i = 0; i < N; i++) {
            keybuf kb;
            sl_value k = strings ? key12(i, &kb) : sl_int((int64_t)i);
            if (i % (N / 10) == 0) {
                if (i)
                    errors += sl__state_commit(st) != SL_OK;
                errors += sl__state_begin(st, (int64_t)(i / (N / 10))) != SL_OK;
            }
            errors += put(st, k, sl_int((int64_t)i * 3), 1) != SL_OK;
        }
        errors += sl__state_commit(st) != SL_OK;
        SL_CHECK_INT(errors, 0);
        SL_CHECK_INT(sl__state_count(st), N);
        CHECK_AT_MOST(sl__state_bytes(st), (size_t)N * (own + 64));
        sl__state_free(st);
    }
}

/*
 * Updates of committed keys share the committed copy of the key: versions
 * that only change int values of string keys allocate no data, and the
 * store's size stays put.
 */
static void test_updates_share_keys(void)
{
    enum { N = 5000, V = 10 };
    sl__state_store *st = sl__state_new(1);
    size_t i, errors = 0, first = 0;
    int64_t v;

    for (v = 1; v <= V; v++) {
        errors += sl__state_begin(st, v) != SL_OK;
        for (i = 0; i < N; i++) {
            keybuf kb;
            errors += put(st, key12(i, &kb), sl_int(v * 100000 + (int64_t)i),
                          v) != SL_OK;
        }
        errors += sl__state_commit(st) != SL_OK;
        /* From version 2 on: the chunk directory grew for the pending
         * entries once and keeps its size. */
        if (v == 2)
            first = sl__state_bytes(st);
        else if (v > 2)
            SL_CHECK_INT(sl__state_bytes(st), first);
    }
    SL_CHECK_INT(errors, 0);
    for (i = 0; i < N; i += 997) {
        keybuf kb;
        SL_CHECK(has(st, key12(i, &kb), sl_int(V * 100000 + (int64_t)i), V));
    }
    sl__state_free(st);
}

/*
 * Versions that rewrite every value (ints, strings and pairs of the model,
 * so the copies change size), some keys written twice in a version, some
 * removed and some added: the replaced copies become garbage that commits
 * compact away. The contents always match the model, and the store never
 * grows past twice its size after the first version (without compaction
 * it would grow by the values' bytes every version).
 */
static void test_compaction_keeps_contents(void)
{
    enum { N = 24000, V = 16 };
    sl__state_store *st = sl__state_new(2);
    model m;
    uint64_t rng = 5;
    size_t i, errors = 0, first = 0;
    int64_t v;

    model_init(&m, N);
    SL_CHECK_OK(sl__state_begin(st, 1));
    for (i = 0; i < N; i++)
        errors += m_put(st, &m, i, (int64_t)i, 1) != SL_OK;
    SL_CHECK_OK(sl__state_commit(st));
    first = sl__state_bytes(st);
    for (v = 2; v <= V; v++) {
        SL_CHECK_OK(sl__state_begin(st, v));
        for (i = 0; i < N; i++) {
            uint64_t r = splitmix(&rng) % 16;
            if (r == 0)
                errors += m_remove(st, &m, i) != SL_OK;
            else if (r <= 12 || !m.present[i])
                errors += m_put(st, &m, i, (int64_t)(i + r) * v, v) != SL_OK;
            if (r == 1) /* written again in the same version */
                errors += m_put(st, &m, i, (int64_t)i + v, v) != SL_OK;
        }
        SL_CHECK_OK(sl__state_commit(st));
        CHECK_MODEL(st, &m);
        CHECK_AT_MOST(sl__state_bytes(st), 2 * first);
    }
    SL_CHECK_INT(errors, 0);
    model_free(&m);
    sl__state_free(st);
}

/* 50k string keys with 40-byte values in 4 shards, all but 5k removed,
 * then all: the entries, tables and data go back to the allocator. */
static void test_removals_give_memory_back(void)
{
    enum { N = 50000, KEEP = 5000 };
    sl__state_store *st = sl__state_new(4);
    char val[48];
    size_t i, errors = 0, full;

    SL_CHECK_OK(sl__state_begin(st, 1));
    for (i = 0; i < N; i++) {
        keybuf kb;
        snprintf(val, sizeof val, "%039zu", i);
        errors += put(st, key12(i, &kb), sl_str(val, 40), 1) != SL_OK;
    }
    SL_CHECK_OK(sl__state_commit(st));
    full = sl__state_bytes(st);
    SL_CHECK_OK(sl__state_begin(st, 2));
    for (i = KEEP; i < N; i++) {
        keybuf kb;
        errors += rm(st, key12(i, &kb)) != SL_OK;
    }
    SL_CHECK_OK(sl__state_commit(st));
    SL_CHECK_INT(sl__state_count(st), KEEP);
    CHECK_AT_MOST(sl__state_bytes(st), full / 5);
    for (i = 0; i < N; i++) {
        keybuf kb;
        snprintf(val, sizeof val, "%039zu", i);
        if (i < KEEP)
            errors += !has(st, key12(i, &kb), sl_str(val, 40), 1);
        else
            errors += get(st, key12(i, &kb)) != NULL;
    }
    SL_CHECK_OK(sl__state_begin(st, 3));
    for (i = 0; i < KEEP; i++) {
        keybuf kb;
        errors += rm(st, key12(i, &kb)) != SL_OK;
    }
    SL_CHECK_OK(sl__state_commit(st));
    SL_CHECK_INT(sl__state_count(st), 0);
    CHECK_AT_MOST(sl__state_bytes(st), 4096);
    SL_CHECK_INT(errors, 0);
    sl__state_free(st);
}

/* An aborted version gives back what its writes took. */
static void test_abort_gives_memory_back(void)
{
    enum { N = 20000 };
    sl__state_store *st = sl__state_new(4);
    size_t i, errors = 0, before;
    char *was, *now;

    SL_CHECK_OK(sl__state_begin(st, 1));
    for (i = 0; i < N; i++) {
        keybuf kb;
        errors += put(st, key12(i, &kb), sl_cstr("a value"), 1) != SL_OK;
    }
    SL_CHECK_OK(sl__state_commit(st));
    before = sl__state_bytes(st);
    was = snapshot(st);
    SL_CHECK_OK(sl__state_begin(st, 2));
    for (i = 0; i < 2 * N; i++) {
        keybuf kb;
        errors += put(st, key12(i, &kb), sl_cstr("another value"), 2) != SL_OK;
    }
    SL_CHECK(sl__state_bytes(st) > before + N * 48);
    sl__state_abort(st);
    /* Only the chunk directories (8 bytes per chunk of 512 entries) keep
     * the size they grew to. */
    CHECK_AT_MOST(sl__state_bytes(st), before + 4096);
    SL_CHECK(sl__state_bytes(st) >= before);
    now = snapshot(st);
    SL_CHECK_STR(now, was);
    SL_CHECK_INT(errors, 0);
    free(was);
    free(now);
    sl__state_free(st);
}

/* ---------------------------------------------------------- threads */

enum { TS = 8, TN = 160000, TV = 4 };

typedef struct writer {
    sl__state_store *st;
    const model *cm; /* committed: read only while writers run */
    model *pm;       /* pending: each writer touches only its own keys */
    const size_t *keys;
    size_t nkeys;
    int64_t version;
    pthread_barrier_t *start;
    size_t errors, stale;
} writer;

static void *writer_main(void *arg)
{
    writer *w = arg;
    size_t j;

    pthread_barrier_wait(w->start);
    for (j = 0; j < w->nkeys; j++) {
        size_t i = w->keys[j];
        uint64_t r = (uint64_t)i * 31 + (uint64_t)w->version;
        keybuf kb;
        const sl__state_entry *e = get(w->st, key_of(i, &kb));

        /* Lookups in the own shard see the committed state only. */
        if (w->cm->present[i] ? !e || !entry_matches(e, w->cm, i) : e != NULL)
            w->stale++;
        switch (splitmix(&r) % 10) {
        case 0:
        case 1:
        case 2:
        case 3:
        case 4:
        case 5:
            w->errors +=
                m_put(w->st, w->pm, i, w->version * 1000000 + (int64_t)i,
                      w->version * 1000) != SL_OK;
            break;
        case 6:
        case 7:
            w->errors += m_remove(w->st, w->pm, i) != SL_OK;
            break;
        default:
            break;
        }
    }
    return NULL;
}

static void test_concurrent_shards(void)
{
    sl__state_store *st = sl__state_new(TS);
    model cm, pm;
    size_t *keys[TS], nkeys[TS] = {0}, i, s;
    pthread_t th[TS];
    writer w[TS];
    pthread_barrier_t start;
    int64_t v;

    model_init(&cm, TN);
    model_init(&pm, TN);
    for (s = 0; s < TS; s++)
        keys[s] = malloc(TN * sizeof *keys[s]);
    for (i = 0; i < TN; i++) {
        keybuf kb;
        sl_value k = key_of(i, &kb);
        s = sl__state_shard_of(st, sl__htab_hash(&k));
        keys[s][nkeys[s]++] = i;
    }
    for (s = 0; s < TS; s++)
        SL_CHECK(nkeys[s] > TN / TS / 2);

    for (v = 1; v <= TV; v++) {
        pthread_barrier_init(&start, NULL, TS);
        SL_CHECK_OK(sl__state_begin(st, v));
        for (s = 0; s < TS; s++) {
            w[s] = (writer){st, &cm, &pm, keys[s], nkeys[s], v, &start, 0, 0};
            SL_CHECK_INT(pthread_create(&th[s], NULL, writer_main, &w[s]), 0);
        }
        for (s = 0; s < TS; s++) {
            pthread_join(th[s], NULL);
            SL_CHECK_INT(w[s].errors, 0);
            SL_CHECK_INT(w[s].stale, 0);
        }
        pthread_barrier_destroy(&start);
        SL_CHECK_OK(sl__state_commit(st));
        model_copy(&cm, &pm);
        SL_CHECK_INT(sl__state_version(st), v);
        CHECK_MODEL(st, &cm);
    }
    SL_CHECK(sl__state_count(st) > TN / 4);
    for (s = 0; s < TS; s++)
        free(keys[s]);
    model_free(&cm);
    model_free(&pm);
    sl__state_free(st);
}

/* --------------------------------------------------- allocation failure */

static void test_new_enomem(void)
{
    sl__state_store *st;

    SL_CHECK_OK(sl_set_allocator(sl_test_failing_allocator()));
    sl_test_fail_after(0);
    SL_CHECK(sl__state_new(4) == NULL);
    sl_test_fail_after(1);
    SL_CHECK(sl__state_new(4) == NULL);
    sl_test_fail_after(-1);
    st = sl__state_new(4);
    SL_CHECK(st != NULL);
    sl__state_free(st);
    /* Refused while any block is live: nothing leaked. */
    SL_CHECK_OK(sl_set_allocator(NULL));
}

static void test_put_enomem(void)
{
    enum { BIG = 100000 };
    sl__state_store *st;
    char *big;

    SL_CHECK_OK(sl_set_allocator(sl_test_failing_allocator()));
    st = sl__state_new(1);
    SL_CHECK_OK(sl__state_begin(st, 1));
    sl_test_fail_after(0);
    /* The first pending table fails, so every write does. */
    SL_CHECK_INT(put(st, sl_cstr("key"), sl_int(1), 1), SL_ENOMEM);
    SL_CHECK_INT(put(st, sl_int(1), sl_int(1), 1), SL_ENOMEM);
    SL_CHECK_INT(rm(st, sl_int(1)), SL_ENOMEM);
    sl_test_fail_after(1); /* the table succeeds, the entry chunk does not */
    SL_CHECK_INT(put(st, sl_cstr("key"), sl_cstr("value"), 1), SL_ENOMEM);
    sl_test_fail_after(2); /* the entry chunk succeeds, the copy does not */
    SL_CHECK_INT(put(st, sl_cstr("key"), sl_cstr("value"), 1), SL_ENOMEM);
    sl_test_fail_after(-1);
    SL_CHECK_OK(put(st, sl_int(2), sl_cstr("two"), 2));
    SL_CHECK_OK(sl__state_commit(st));
    SL_CHECK_INT(sl__state_count(st), 1);
    SL_CHECK(get(st, sl_cstr("key")) == NULL);
    SL_CHECK(get(st, sl_int(1)) == NULL);
    SL_CHECK(has(st, sl_int(2), sl_cstr("two"), 2));

    /* A failed update leaves the pending write before it in place (the
     * new value is too big for the data chunk "deux" went to). */
    SL_CHECK_OK(sl__state_begin(st, 2));
    SL_CHECK_OK(put(st, sl_int(2), sl_cstr("deux"), 3));
    big = malloc(BIG);
    memset(big, 'z', BIG);
    sl_test_fail_after(0);
    SL_CHECK_INT(put(st, sl_int(2), sl_str(big, BIG), 4), SL_ENOMEM);
    sl_test_fail_after(-1);
    SL_CHECK_OK(sl__state_commit(st));
    SL_CHECK(has(st, sl_int(2), sl_cstr("deux"), 3));
    free(big);
    sl__state_free(st);
    SL_CHECK_OK(sl_set_allocator(NULL));
}

/*
 * A version whose commit runs out of memory part way (the committed table
 * must grow for the 13th key of a 16-slot table): 1 key committed in
 * version 1, 20 new string keys in version 2.
 */
enum { FAIL_NEW = 20 };

static sl__state_store *commit_fails(void)
{
    sl__state_store *st = sl__state_new(1);
    char k[16], v[16];
    int i;

    sl__state_begin(st, 1);
    put(st, sl_cstr("base"), sl_cstr("base value"), 1);
    sl__state_commit(st);
    sl__state_begin(st, 2);
    for (i = 0; i < FAIL_NEW; i++) {
        snprintf(k, sizeof k, "key%02d", i);
        snprintf(v, sizeof v, "value%02d", i);
        put(st, sl_cstr(k), sl_cstr(v), 2);
    }
    return st;
}

static size_t check_version2(const sl__state_store *st)
{
    char k[16], v[16];
    size_t bad = 0;
    int i;

    bad += !has(st, sl_cstr("base"), sl_cstr("base value"), 1);
    for (i = 0; i < FAIL_NEW; i++) {
        snprintf(k, sizeof k, "key%02d", i);
        snprintf(v, sizeof v, "value%02d", i);
        bad += !has(st, sl_cstr(k), sl_cstr(v), 2);
    }
    bad += sl__state_count(st) != FAIL_NEW + 1;
    bad += sl__state_version(st) != 2;
    return bad;
}

/*
 * A commit that fails leaves the committed version as it was: abort then
 * drops the whole version, and the batch can run again. (Were part of it
 * applied, the re-run would apply that part twice.)
 */
static void test_commit_enomem_is_atomic(void)
{
    sl__state_store *st;
    char *before, *after;
    int i;

    SL_CHECK_OK(sl_set_allocator(sl_test_failing_allocator()));
    st = commit_fails();
    before = contents(st);
    sl_test_fail_after(0);
    SL_CHECK_INT(sl__state_commit(st), SL_ENOMEM);
    sl_test_fail_after(-1);
    after = contents(st);
    SL_CHECK_INT(sl__state_version(st), 1);
    SL_CHECK_INT(sl__state_count(st), 1);
    SL_CHECK_STR(after, before);
    free(after);
    sl__state_abort(st);
    after = contents(st);
    SL_CHECK_STR(after, before);
    free(after);
    free(before);

    /* The batch runs again. */
    SL_CHECK_OK(sl__state_begin(st, 2));
    for (i = 0; i < FAIL_NEW; i++) {
        char k[16], v[16];
        snprintf(k, sizeof k, "key%02d", i);
        snprintf(v, sizeof v, "value%02d", i);
        SL_CHECK_OK(put(st, sl_cstr(k), sl_cstr(v), 2));
    }
    SL_CHECK_OK(sl__state_commit(st));
    SL_CHECK_INT(check_version2(st), 0);
    sl__state_free(st);
    SL_CHECK_OK(sl_set_allocator(NULL));
}

/* In a child: fail the commit, retry it, then churn the heap so freed
 * blocks get reused, and check the state. Returns the mismatches. */
static int retry_in_child(void *arg)
{
    sl__state_store *st;
    void *churn[64];
    size_t bad, i;

    (void)arg;
    if (sl_set_allocator(sl_test_failing_allocator()) != SL_OK)
        return 100;
    st = commit_fails();
    sl_test_fail_after(0);
    if (sl__state_commit(st) != SL_ENOMEM)
        return 101;
    sl_test_fail_after(-1);
    if (sl__state_commit(st) != SL_OK)
        return 102;
    for (i = 0; i < 64; i++) {
        churn[i] = malloc(32);
        if (churn[i])
            memset(churn[i], 0x5A, 32);
    }
    bad = check_version2(st);
    for (i = 0; i < 64; i++)
        free(churn[i]);
    sl__state_free(st);
    return bad > 99 ? 99 : (int)bad;
}

/*
 * Or the commit is retried after it ran out of memory: the retry must
 * complete the version with intact keys and values. Runs in a child, as a
 * store that gets this wrong touches freed memory.
 */
static void test_commit_enomem_retry(void)
{
    int status = 0;

    SL_CHECK(sl_test_run_in_child(retry_in_child, NULL, 30, &status));
    SL_CHECK(WIFEXITED(status));
    SL_CHECK_INT(WIFEXITED(status) ? WEXITSTATUS(status) : -1, 0);
}

/*
 * A commit whose compaction cannot have its chunk still commits (the
 * compaction only saves memory); a later commit compacts.
 */
static void test_compaction_enomem(void)
{
    enum { N = 2000 };
    sl__state_store *st;
    char val[104];
    size_t i, errors = 0, before;

    SL_CHECK_OK(sl_set_allocator(sl_test_failing_allocator()));
    st = sl__state_new(1);
    SL_CHECK_OK(sl__state_begin(st, 1));
    for (i = 0; i < N; i++) {
        keybuf kb;
        snprintf(val, sizeof val, "%0100zu", i);
        errors += put(st, key12(i, &kb), sl_str(val, 100), 1) != SL_OK;
    }
    SL_CHECK_OK(sl__state_commit(st));
    SL_CHECK_OK(sl__state_begin(st, 2));
    for (i = 0; i < 3 * N; i++) { /* every value replaced three times */
        keybuf kb;
        snprintf(val, sizeof val, "%0100zu", i);
        errors += put(st, key12(i % N, &kb), sl_str(val, 100), 2) != SL_OK;
    }
    sl_test_fail_after(0);
    SL_CHECK_OK(sl__state_commit(st));
    sl_test_fail_after(-1);
    before = sl__state_bytes(st);
    SL_CHECK_OK(sl__state_begin(st, 3));
    SL_CHECK_OK(sl__state_commit(st));
    CHECK_AT_MOST(sl__state_bytes(st), before - 2 * N * 100);
    for (i = 0; i < N; i++) {
        keybuf kb;
        snprintf(val, sizeof val, "%0100zu", i + 2 * N);
        errors += !has(st, key12(i, &kb), sl_str(val, 100), 2);
    }
    SL_CHECK_INT(errors, 0);
    sl__state_free(st);
    SL_CHECK_OK(sl_set_allocator(NULL));
}

/*
 * The batch commit point prepares every store first: after a successful
 * prepare the commit allocates nothing, so it succeeds even when every
 * allocation fails, and a failed prepare leaves the store as it was.
 */
static void test_prepare_then_commit(void)
{
    sl__state_store *st;
    char *before, *after;

    SL_CHECK_OK(sl_set_allocator(sl_test_failing_allocator()));
    st = commit_fails();
    before = contents(st);
    sl_test_fail_after(0);
    SL_CHECK_INT(sl__state_prepare(st), SL_ENOMEM);
    after = contents(st);
    SL_CHECK_STR(after, before);
    free(after);
    sl_test_fail_after(-1);
    SL_CHECK_OK(sl__state_prepare(st));
    sl_test_fail_after(0);
    SL_CHECK_OK(sl__state_commit(st));
    sl_test_fail_after(-1);
    SL_CHECK_INT(check_version2(st), 0);
    SL_CHECK(!sl__state_pending(st));
    SL_CHECK_INT(sl__state_prepare(st), SL_ESTATE); /* nothing pending */
    free(before);
    sl__state_free(st);
    SL_CHECK_OK(sl_set_allocator(NULL));
}

/* Shards whose pending writes change nothing report unchanged: no delta. */
static void test_shard_changed(void)
{
    sl__state_store *st = sl__state_new(4);
    sl_value a = sl_cstr("a"), b = sl_int(2), c = sl_cstr("c");
    size_t sa = sl__state_shard_of(st, sl__htab_hash(&a)), s;
    size_t sb = sl__state_shard_of(st, sl__htab_hash(&b));

    SL_CHECK(!sl__state_shard_changed(st, sa)); /* nothing pending */
    SL_CHECK_OK(sl__state_begin(st, 1));
    SL_CHECK_OK(put(st, a, sl_int(1), 10));
    SL_CHECK_OK(put(st, b, sl_cstr("two"), 10));
    SL_CHECK(sl__state_shard_changed(st, sa)); /* new keys */
    SL_CHECK_OK(sl__state_commit(st));
    for (s = 0; s < 4; s++)
        SL_CHECK(!sl__state_shard_changed(st, s));

    SL_CHECK_OK(sl__state_begin(st, 2));
    SL_CHECK_OK(put(st, a, sl_int(1), 10)); /* the same again */
    SL_CHECK_OK(rm(st, c));                 /* absent: no change */
    for (s = 0; s < 4; s++)
        SL_CHECK(!sl__state_shard_changed(st, s));
    SL_CHECK_OK(put(st, b, sl_cstr("two"), 20)); /* re-stamped */
    SL_CHECK(sl__state_shard_changed(st, sb));
    for (s = 0; s < 4; s++)
        SL_CHECK(s == sb || !sl__state_shard_changed(st, s));
    sl__state_abort(st);

    SL_CHECK_OK(sl__state_begin(st, 2));
    SL_CHECK_OK(put(st, a, sl_int(5), 10)); /* another value */
    SL_CHECK(sl__state_shard_changed(st, sa));
    sl__state_abort(st);
    SL_CHECK_OK(sl__state_begin(st, 2));
    SL_CHECK_OK(rm(st, a));
    SL_CHECK(sl__state_shard_changed(st, sa));
    sl__state_abort(st);

    /* Equal by sl_value_equal is not unchanged: -0.0 is not 0.0. */
    SL_CHECK_OK(sl__state_begin(st, 3));
    SL_CHECK_OK(put(st, c, sl_double(0.0), 30));
    SL_CHECK_OK(sl__state_commit(st));
    SL_CHECK_OK(sl__state_begin(st, 4));
    SL_CHECK_OK(put(st, c, sl_double(-0.0), 30));
    SL_CHECK(
        sl__state_shard_changed(st, sl__state_shard_of(st, sl__htab_hash(&c))));
    sl__state_abort(st);
    sl__state_free(st);
}

/* Fill st over several versions with puts, updates and removals. */
static void churn(sl__state_store *st, int64_t versions, uint64_t seed)
{
    keybuf kb;
    valbuf vb;
    int64_t v;
    size_t i;
    for (v = 1; v <= versions; v++) {
        SL_CHECK_OK(sl__state_begin(st, v));
        for (i = 0; i < 300; i++) {
            uint64_t r = splitmix(&seed);
            sl_value k = key_of(r % 500, &kb);
            if (r % 7 == 0)
                SL_CHECK_OK(sl__state_remove(st, &k, sl__htab_hash(&k)));
            else
                SL_CHECK_OK(
                    put(st, k, value_of((int64_t)(r % 1000), &vb), v * 1000));
        }
        SL_CHECK_OK(sl__state_commit(st));
    }
}

/* Committed entries restored into a new store give the same store, as
 * recovery from a snapshot does; deltas then apply as usual. */
static void test_restore_round_trip(void)
{
    sl__state_store *a = sl__state_new(5), *b = sl__state_new(5);
    const sl__state_entry *e;
    char *ca, *cb;
    size_t s, i;

    churn(a, 6, 42);
    churn(b, 2, 7); /* restore drops whatever b held */
    SL_CHECK_OK(sl__state_begin(b, 3));
    SL_CHECK_OK(put(b, sl_cstr("pending"), sl_int(1), 1));
    SL_CHECK_OK(sl__state_restore_begin(b, sl__state_version(a)));
    for (s = 0; s < sl__state_shards(a); s++)
        for (i = 0; (e = sl__state_next(a, s, &i)) != NULL;)
            SL_CHECK_OK(
                sl__state_put(b, &e->key, e->hash, &e->value, e->updated_ms));
    SL_CHECK_OK(put(b, sl_cstr("gone"), sl_int(1), 1));
    SL_CHECK_OK(rm(b, sl_cstr("gone"))); /* a removal while restoring */
    SL_CHECK_OK(sl__state_restore_end(b));
    ca = contents(a);
    cb = contents(b);
    SL_CHECK(sl__state_count(a) > 100);
    SL_CHECK_STR(cb, ca);
    free(cb);
    /* The next version is a normal one; an old one is still refused. */
    SL_CHECK_INT(sl__state_begin(b, 6), SL_ESTATE);
    SL_CHECK_OK(sl__state_begin(b, 7));
    SL_CHECK_OK(put(b, sl_cstr("new"), sl_int(1), 7000));
    SL_CHECK_OK(sl__state_commit(b));
    SL_CHECK_INT(sl__state_count(b), sl__state_count(a) + 1);
    SL_CHECK_INT(sl__state_restore_begin(b, -1), SL_EINVAL);
    free(ca);
    sl__state_free(a);
    sl__state_free(b);
}

const char *SL_SUITE = "state_store";
const sl_test_case SL_TESTS[] = {
    {"versions", test_versions},
    {"insert_update_remove", test_insert_update_remove},
    {"updated_ms", test_updated_ms},
    {"deep_copies", test_deep_copies},
    {"abort", test_abort},
    {"frozen_iteration", test_frozen_iteration},
    {"shard_of", test_shard_of},
    {"million_keys", test_million_keys},
    {"deletion_stress", test_deletion_stress},
    {"deletion_wraparound", test_deletion_wraparound},
    {"bytes_per_key", test_bytes_per_key},
    {"updates_share_keys", test_updates_share_keys},
    {"compaction_keeps_contents", test_compaction_keeps_contents},
    {"removals_give_memory_back", test_removals_give_memory_back},
    {"abort_gives_memory_back", test_abort_gives_memory_back},
    {"concurrent_shards", test_concurrent_shards},
    {"new_enomem", test_new_enomem},
    {"put_enomem", test_put_enomem},
    {"commit_enomem_is_atomic", test_commit_enomem_is_atomic},
    {"commit_enomem_retry", test_commit_enomem_retry},
    {"compaction_enomem", test_compaction_enomem},
    {"prepare_then_commit", test_prepare_then_commit},
    {"shard_changed", test_shard_changed},
    {"restore_round_trip", test_restore_round_trip},
    {NULL, NULL},
};
