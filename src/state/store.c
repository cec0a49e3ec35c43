/*
 * The keyed state store: per shard, an open-addressing table of committed
 * entries and a table of the pending version's writes. Commit moves the
 * pending writes into the committed table; abort drops them. Each entry
 * owns one block with the deep copies of its key and value.
 */
#include "state/store.h"

#include <string.h>

/* Pending removals are entries with this update time. */
#define REMOVED INT64_MIN

typedef struct table {
    sl__state_entry *slots;
    size_t cap, count; /* cap is 0 or a power of two */
} table;

typedef struct shard {
    table base, pending;
} state_shard;

struct sl__state_store {
    size_t nshards;
    int64_t version, pending_version; /* pending -1: none */
    state_shard *shards;
};

/* --------------------------------------------------------------- tables */

static void table_free(table *t)
{
    size_t i;
    for (i = 0; i < t->cap; i++)
        if (t->slots[i].hash)
            sl_free(t->slots[i].blob);
    sl_free(t->slots);
    memset(t, 0, sizeof *t);
}

static sl__state_entry *table_find(const table *t, const sl_value *key,
                                   uint64_t hash)
{
    size_t mask = t->cap - 1, i;
    if (!t->cap)
        return NULL;
    for (i = (size_t)hash & mask; t->slots[i].hash; i = (i + 1) & mask)
        if (t->slots[i].hash == hash && sl_value_equal(&t->slots[i].key, key))
            return &t->slots[i];
    return NULL;
}

static sl_status table_grow(table *t)
{
    size_t ncap = t->cap ? t->cap * 2 : 16, i, j;
    sl__state_entry *ns = sl_malloc(ncap * sizeof *ns);
    if (!ns)
        return SL_ENOMEM;
    memset(ns, 0, ncap * sizeof *ns);
    for (i = 0; i < t->cap; i++) {
        if (!t->slots[i].hash)
            continue;
        for (j = (size_t)t->slots[i].hash & (ncap - 1); ns[j].hash;
             j = (j + 1) & (ncap - 1))
            ;
        ns[j] = t->slots[i];
    }
    sl_free(t->slots);
    t->slots = ns;
    t->cap = ncap;
    return SL_OK;
}

/* The slot for key: its entry, or a free slot now holding only the hash. */
static sl__state_entry *table_slot(table *t, const sl_value *key, uint64_t hash)
{
    sl__state_entry *e = table_find(t, key, hash);
    size_t i;
    if (e)
        return e;
    if ((t->count + 1) * 4 > t->cap * 3 && table_grow(t) != SL_OK)
        return NULL;
    for (i = (size_t)hash & (t->cap - 1); t->slots[i].hash;
         i = (i + 1) & (t->cap - 1))
        ;
    t->count++;
    t->slots[i].hash = hash;
    t->slots[i].blob = NULL;
    return &t->slots[i];
}

/* Remove by backward shift, so linear probing needs no tombstones. */
static void table_delete(table *t, sl__state_entry *e)
{
    size_t mask = t->cap - 1, i = (size_t)(e - t->slots), j = i, home;
    sl_free(e->blob);
    for (;;) {
        t->slots[i].hash = 0;
        for (;;) {
            j = (j + 1) & mask;
            if (!t->slots[j].hash) {
                t->count--;
                return;
            }
            home = (size_t)t->slots[j].hash & mask;
            /* Move j back to i unless its home lies cyclically in (i, j]. */
            if (i <= j ? (home <= i || home > j) : (home <= i && home > j))
                break;
        }
        t->slots[i] = t->slots[j];
        i = j;
    }
}

/* ---------------------------------------------------------------- store */

sl__state_store *sl__state_new(size_t shards)
{
    sl__state_store *st;
    if (shards == 0)
        return NULL;
    st = sl_malloc(sizeof *st);
    if (!st)
        return NULL;
    memset(st, 0, sizeof *st);
    st->version = -1; /* nothing committed yet: the initial state is 0 */
    st->nshards = shards;
    st->shards = sl_malloc(shards * sizeof *st->shards);
    if (!st->shards) {
        sl_free(st);
        return NULL;
    }
    memset(st->shards, 0, shards * sizeof *st->shards);
    st->pending_version = -1;
    return st;
}

void sl__state_free(sl__state_store *st)
{
    size_t i;
    if (!st)
        return;
    for (i = 0; i < st->nshards; i++) {
        table_free(&st->shards[i].base);
        table_free(&st->shards[i].pending);
    }
    sl_free(st->shards);
    sl_free(st);
}

size_t sl__state_shards(const sl__state_store *st)
{
    return st->nshards;
}

size_t sl__state_shard_of(const sl__state_store *st, uint64_t hash)
{
    return sl__hash_part(hash, st->nshards);
}

int64_t sl__state_version(const sl__state_store *st)
{
    return st->version;
}

size_t sl__state_count(const sl__state_store *st)
{
    size_t i, n = 0;
    for (i = 0; i < st->nshards; i++)
        n += st->shards[i].base.count;
    return n;
}

sl_status sl__state_begin(sl__state_store *st, int64_t version)
{
    if (st->pending_version >= 0 || version <= st->version)
        return SL_ESTATE;
    st->pending_version = version;
    return SL_OK;
}

static sl_status apply_pending(state_shard *sh)
{
    size_t i;
    for (i = 0; i < sh->pending.cap; i++) {
        sl__state_entry *p = &sh->pending.slots[i], *b;
        if (!p->hash)
            continue;
        b = table_find(&sh->base, &p->key, p->hash);
        if (p->updated_ms == REMOVED) {
            if (b)
                table_delete(&sh->base, b);
            continue;
        }
        if (!b && !(b = table_slot(&sh->base, &p->key, p->hash)))
            return SL_ENOMEM;
        sl_free(b->blob);
        *b = *p; /* the blob moves with the entry */
        p->blob = NULL;
    }
    table_free(&sh->pending);
    return SL_OK;
}

/* Room in the committed table for every pending insert, so that applying
 * the pending writes allocates nothing and cannot fail part way. */
static sl_status reserve(state_shard *sh)
{
    size_t need = sh->base.count + sh->pending.count;
    while (need * 4 > sh->base.cap * 3)
        if (table_grow(&sh->base) != SL_OK)
            return SL_ENOMEM;
    return SL_OK;
}

sl_status sl__state_commit(sl__state_store *st)
{
    size_t i;
    if (st->pending_version < 0)
        return SL_ESTATE;
    for (i = 0; i < st->nshards; i++)
        if (reserve(&st->shards[i]) != SL_OK)
            return SL_ENOMEM; /* nothing applied: retry or abort */
    for (i = 0; i < st->nshards; i++)
        apply_pending(&st->shards[i]); /* cannot fail now */
    st->version = st->pending_version;
    st->pending_version = -1;
    return SL_OK;
}

void sl__state_abort(sl__state_store *st)
{
    size_t i;
    for (i = 0; i < st->nshards; i++)
        table_free(&st->shards[i].pending);
    st->pending_version = -1;
}

const sl__state_entry *sl__state_get(const sl__state_store *st,
                                     const sl_value *key, uint64_t hash)
{
    return table_find(&st->shards[sl__state_shard_of(st, hash)].base, key,
                      hash);
}

static sl_status pending_write(sl__state_store *st, const sl_value *key,
                               uint64_t hash, const sl_value *value,
                               int64_t time_ms)
{
    table *t = &st->shards[sl__state_shard_of(st, hash)].pending;
    sl__state_entry *e;
    sl_value k, v;
    void *blob;
    if (st->pending_version < 0)
        return SL_ESTATE;
    if (sl__value_clone2(key, value, &k, &v, &blob) != SL_OK)
        return SL_ENOMEM;
    e = table_slot(t, key, hash);
    if (!e) {
        sl_free(blob);
        return SL_ENOMEM;
    }
    sl_free(e->blob);
    e->key = k;
    e->value = v;
    e->blob = blob;
    e->updated_ms = time_ms;
    return SL_OK;
}

sl_status sl__state_put(sl__state_store *st, const sl_value *key, uint64_t hash,
                        const sl_value *value, int64_t time_ms)
{
    return pending_write(st, key, hash, value,
                         time_ms == REMOVED ? REMOVED + 1 : time_ms);
}

sl_status sl__state_remove(sl__state_store *st, const sl_value *key,
                           uint64_t hash)
{
    sl_value none = sl_null();
    return pending_write(st, key, hash, &none, REMOVED);
}

const sl__state_entry *sl__state_pending_get(const sl__state_store *st,
                                             const sl_value *key, uint64_t hash,
                                             bool *removed)
{
    const sl__state_entry *e = table_find(
        &st->shards[sl__state_shard_of(st, hash)].pending, key, hash);
    if (e)
        *removed = e->updated_ms == REMOVED;
    return e;
}

bool sl__state_is_removal(const sl__state_entry *e)
{
    return e->updated_ms == REMOVED;
}

const sl__state_entry *sl__state_next_pending(const sl__state_store *st,
                                              size_t shard, size_t *i)
{
    const table *t = &st->shards[shard].pending;
    for (; *i < t->cap; (*i)++)
        if (t->slots[*i].hash)
            return &t->slots[(*i)++];
    return NULL;
}

const sl__state_entry *sl__state_next(const sl__state_store *st, size_t shard,
                                      size_t *i)
{
    const table *t = &st->shards[shard].base;
    for (; *i < t->cap; (*i)++)
        if (t->slots[*i].hash)
            return &t->slots[(*i)++];
    return NULL;
}
