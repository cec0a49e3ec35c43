/*
 * The keyed hash table behind map-side combining, reduce-side merging,
 * count_by_value, group_by_key and joins: open addressing with linear
 * probing over slots that carry the key's hash, so probes compare hashes
 * before keys and resizing never rehashes a key.
 */
#include "core/core.h"

#include <string.h>

static size_t round_pow2(size_t n)
{
    size_t c = 16;
    while (c < n)
        c <<= 1;
    return c;
}

sl_status sl__htab_init(sl__htab *t, size_t hint)
{
    memset(t, 0, sizeof *t);
    sl__arena_init(&t->arena, 16384);
    t->cap = round_pow2(hint + hint / 3 + 1);
    t->slots = sl_malloc(t->cap * sizeof *t->slots);
    if (!t->slots) {
        t->cap = 0;
        return SL_ENOMEM;
    }
    memset(t->slots, 0, t->cap * sizeof *t->slots);
    return SL_OK;
}

void sl__htab_free(sl__htab *t)
{
    sl_free(t->slots);
    t->slots = NULL;
    t->cap = t->count = 0;
    sl__arena_free(&t->arena);
}

/* Equality of two byte strings of the same length n. Keys are mostly short
 * words: compare them with two overlapping word loads instead of a call. */
static bool same_bytes(const char *a, const char *b, size_t n)
{
    uint64_t x, y, u, v;
    uint32_t p, q;
    if (n >= 8 && n <= 16) {
        memcpy(&x, a, 8);
        memcpy(&y, b, 8);
        memcpy(&u, a + n - 8, 8);
        memcpy(&v, b + n - 8, 8);
        return ((x ^ y) | (u ^ v)) == 0;
    }
    if (n >= 4 && n < 8) {
        memcpy(&p, a, 4);
        memcpy(&q, b, 4);
        memcpy(&x, a + n - 4, 4);
        memcpy(&y, b + n - 4, 4);
        return p == q && (uint32_t)x == (uint32_t)y;
    }
    if (n < 4) {
        size_t i;
        for (i = 0; i < n; i++)
            if (a[i] != b[i])
                return false;
        return true;
    }
    return memcmp(a, b, n) == 0;
}

/* sl_value_equal with strings and integers compared inline. */
static bool same_value(const sl_value *a, const sl_value *b)
{
    if (a->kind != b->kind)
        return false;
    if (a->kind == SL_KIND_STR)
        return a->len == b->len && same_bytes(a->u.s, b->u.s, a->len);
    if (a->kind == SL_KIND_INT)
        return a->u.i == b->u.i;
    return sl_value_equal(a, b);
}

static bool key_match(const sl__htab_slot *s, const sl_value *key,
                      uint64_t hash)
{
    uint32_t i;
    if (s->hash != hash || s->key.kind != key->kind)
        return false;
    /* Strings dominate (word counts): compare them inline, and the items
     * of a tuple too (the SQL GROUP BY key is a tuple of the keys). */
    if (key->kind != SL_KIND_TUPLE)
        return same_value(&s->key, key);
    if (s->key.len != key->len)
        return false;
    for (i = 0; i < key->len; i++)
        if (!same_value(&s->key.u.items[i], &key->u.items[i]))
            return false;
    return true;
}

sl__htab_slot *sl__htab_find(sl__htab *t, const sl_value *key, uint64_t hash)
{
    size_t mask = t->cap - 1, i;
    if (!t->cap)
        return NULL;
    for (i = (size_t)hash & mask;; i = (i + 1) & mask) {
        sl__htab_slot *s = &t->slots[i];
        if (s->hash == 0)
            return NULL;
        if (key_match(s, key, hash))
            return s;
    }
}

static sl_status htab_grow(sl__htab *t)
{
    size_t ncap = t->cap ? t->cap * 2 : 16, i, j, mask = ncap - 1;
    sl__htab_slot *ns = sl_malloc(ncap * sizeof *ns);
    if (!ns)
        return SL_ENOMEM;
    memset(ns, 0, ncap * sizeof *ns);
    for (i = 0; i < t->cap; i++) {
        sl__htab_slot *s = &t->slots[i];
        if (!s->hash)
            continue;
        for (j = (size_t)s->hash & mask; ns[j].hash; j = (j + 1) & mask)
            ;
        ns[j] = *s;
    }
    sl_free(t->slots);
    t->slots = ns;
    t->cap = ncap;
    return SL_OK;
}

sl__htab_slot *sl__htab_upsert(sl__htab *t, const sl_value *key, uint64_t hash,
                               bool *created)
{
    size_t mask, i;
    if ((t->count + 1) * 4 > t->cap * 3 && htab_grow(t) != SL_OK)
        return NULL;
    mask = t->cap - 1;
    for (i = (size_t)hash & mask;; i = (i + 1) & mask) {
        sl__htab_slot *s = &t->slots[i];
        if (s->hash == 0) {
            s->hash = hash;
            s->key = *key;
            s->value = sl_null();
            t->count++;
            *created = true;
            return s;
        }
        if (key_match(s, key, hash)) {
            *created = false;
            return s;
        }
    }
}

sl__htab_slot *sl__htab_next(sl__htab *t, size_t *i)
{
    for (; *i < t->cap; (*i)++)
        if (t->slots[*i].hash)
            return &t->slots[(*i)++];
    return NULL;
}
