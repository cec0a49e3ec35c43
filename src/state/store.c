/*
 * The keyed state store. Per shard, the committed entries and then the
 * pending version's writes sit in one dense array of fixed chunks, found
 * through open-addressing tables of 4-byte entry numbers; the bytes and
 * items of the keys' and values' deep copies are packed into the shard's
 * data chunks, compacted at a commit once they are mostly garbage.
 * docs/performance.md §4 gives the memory per key this layout costs.
 */
#include "state/store.h"

#include <assert.h>
#include <string.h>

/* Pending removals are entries with this update time. */
#define REMOVED INT64_MIN

/* Entry chunks hold 16, 32, 64, 128 and 256 entries, then 512 each: a
 * small shard stays small and a big one wastes at most part of a chunk.
 * Chunks never move, so entries stay put while others are appended. */
#define ENT_FIRST 16
#define ENT_SMALL_CHUNKS 5
#define ENT_SMALL 496 /* entries of the small chunks together */
#define ENT_CHUNK 512
_Static_assert(ENT_SMALL == ENT_FIRST * ((1 << ENT_SMALL_CHUNKS) - 1),
               "ENT_SMALL is the small chunks' entries");

/* Index tables: powers of two from 16 slots, at most 7/8 full. A pending
 * table up to IDX_KEEP slots is kept for the next version. */
#define IDX_MIN 16
#define IDX_MAX ((size_t)1 << 30)
#define IDX_KEEP 1024

/* Data chunks start at 1 KiB and double up to 64 KiB (a bigger copy gets
 * its own). A commit compacts them once the garbage exceeds both the live
 * bytes and HEAP_MAX. */
#define HEAP_FIRST 1024
#define HEAP_MAX 65536

/*
 * An index table. A slot is 0 when empty, else the entry's number + 1 in
 * the bits under mask and the key hash's own bits above them, so probes
 * past other keys rarely touch an entry. Numbers stay under mask because a
 * table is never more than 7/8 full.
 */
typedef struct itable {
    uint32_t *slots;
    uint32_t mask; /* slots - 1; 0 when there are none */
    size_t count;
} itable;

/* A data chunk: its bytes follow the header, 8-aligned. */
typedef struct heap_chunk {
    struct heap_chunk *prev; /* the chunk filled before this one */
    size_t cap, used;
} heap_chunk;

/*
 * A shard. The committed version is entries [0, n), found by table base.
 * The pending version's writes are appended after them, one entry per key
 * found by table pending, and their copies go to the data chunks after
 * the mark (a write to a committed key shares its key copy). So nothing
 * the committed version uses changes while the next is written (only the
 * chunk directory may move); commit applies the writes in place, after
 * growing base first, and abort cuts back to n entries and the mark.
 */
typedef struct state_shard {
    sl__state_entry **chunks;
    size_t nchunks, chunks_cap;
    size_t n, pn;     /* committed entries [0, n); pending writes [n, n + pn) */
    itable base;      /* committed keys, by entry number */
    itable pending;   /* pending keys, by entry number - n */
    heap_chunk *heap; /* newest data chunk */
    size_t heap_bytes; /* bytes of every data chunk */
    size_t heap_used;  /* bytes handed out, padding and lost tails included */
    size_t live;       /* bytes the committed entries' copies use */
    heap_chunk *mark;  /* the heap as the last commit or abort left it */
    size_t mark_used, mark_heap_used;
    bool prepared; /* base has room for the pending writes (see reserve) */
} state_shard;

struct sl__state_store {
    size_t nshards;
    int64_t version, pending_version; /* pending -1: none */
    state_shard *shards;
};

/* -------------------------------------------------------------- entries */

/* The chunk of entry number i, and i's place in it. */
static size_t ent_chunk(size_t i, size_t *off)
{
    size_t k;
    if (i >= ENT_SMALL) {
        *off = (i - ENT_SMALL) % ENT_CHUNK;
        return ENT_SMALL_CHUNKS + (i - ENT_SMALL) / ENT_CHUNK;
    }
    k = (size_t)(31 - __builtin_clz((unsigned)(i / ENT_FIRST + 1)));
    *off = i - ENT_FIRST * (((size_t)1 << k) - 1);
    return k;
}

/* Entries chunk k holds. */
static size_t ent_chunk_cap(size_t k)
{
    return k < ENT_SMALL_CHUNKS ? (size_t)ENT_FIRST << k : ENT_CHUNK;
}

static inline sl__state_entry *ent(const state_shard *sh, size_t i)
{
    size_t off, k = ent_chunk(i, &off);
    return &sh->chunks[k][off];
}

/* Chunks that entries [0, n) need. */
static size_t ent_chunks_for(size_t n)
{
    size_t off;
    return n ? ent_chunk(n - 1, &off) + 1 : 0;
}

/* Free the chunks past the first keep. */
static void ent_trim(state_shard *sh, size_t keep)
{
    while (sh->nchunks > keep)
        sl_free(sh->chunks[--sh->nchunks]);
}

/* Room for entry number i, the next one appended. */
static sl_status ent_reserve(state_shard *sh, size_t i)
{
    size_t k = sh->nchunks;
    if (ent_chunks_for(i + 1) <= k)
        return SL_OK;
    if (k == sh->chunks_cap) {
        size_t ncap = k ? 2 * k : 8;
        sl__state_entry **nc = sl_realloc(sh->chunks, ncap * sizeof *nc);
        if (!nc)
            return SL_ENOMEM;
        sh->chunks = nc;
        sh->chunks_cap = ncap;
    }
    sh->chunks[k] = sl_malloc(ent_chunk_cap(k) * sizeof(sl__state_entry));
    if (!sh->chunks[k])
        return SL_ENOMEM;
    sh->nchunks++;
    return SL_OK;
}

/* --------------------------------------------------------- index tables */

static size_t it_cap(const itable *t)
{
    return t->slots ? (size_t)t->mask + 1 : 0;
}

static bool it_fits(const itable *t, size_t count)
{
    return it_cap(t) / 8 * 7 >= count;
}

/* Slots of the smallest table for count keys; 0 when too many. */
static size_t it_cap_for(size_t count)
{
    size_t cap = IDX_MIN;
    while (cap / 8 * 7 < count) {
        if (cap == IDX_MAX)
            return 0;
        cap *= 2;
    }
    return cap;
}

/* Key's entry in t, whose numbers count from entry `base`; *slot (if not
 * NULL) gets its slot. */
static sl__state_entry *it_find(const state_shard *sh, const itable *t,
                                size_t base, const sl_value *key, uint64_t hash,
                                size_t *slot)
{
    uint32_t mask = t->mask, tag = (uint32_t)hash & ~mask, s;
    size_t i;
    if (!t->slots)
        return NULL;
    for (i = (size_t)hash & mask; (s = t->slots[i]) != 0; i = (i + 1) & mask) {
        sl__state_entry *e;
        if ((s & ~mask) != tag)
            continue;
        e = ent(sh, base + (s & mask) - 1);
        if (e->hash == hash && sl_value_equal(&e->key, key)) {
            if (slot)
                *slot = i;
            return e;
        }
    }
    return NULL;
}

/* Add entry number num (absent, and t has room). */
static void it_insert(itable *t, uint64_t hash, size_t num)
{
    uint32_t mask = t->mask;
    size_t i = (size_t)hash & mask;
    while (t->slots[i])
        i = (i + 1) & mask;
    t->slots[i] = ((uint32_t)hash & ~mask) | (uint32_t)(num + 1);
    t->count++;
}

/* Rebuild t with cap slots (0: none) over entries [base, base + count). */
static sl_status it_resize(const state_shard *sh, itable *t, size_t base,
                           size_t cap)
{
    itable nt = {NULL, 0, 0};
    size_t i;
    if (cap) {
        nt.slots = sl_malloc(cap * sizeof *nt.slots);
        if (!nt.slots)
            return SL_ENOMEM;
        memset(nt.slots, 0, cap * sizeof *nt.slots);
        nt.mask = (uint32_t)(cap - 1);
        for (i = 0; i < t->count; i++)
            it_insert(&nt, ent(sh, base + i)->hash, i);
    }
    sl_free(t->slots);
    *t = nt;
    return SL_OK;
}

/* Empty slot i by backward shift, so linear probing needs no tombstones. */
static void it_delete(const state_shard *sh, itable *t, size_t base, size_t i)
{
    uint32_t mask = t->mask;
    size_t j = i, home;
    for (;;) {
        t->slots[i] = 0;
        for (;;) {
            j = (j + 1) & mask;
            if (!t->slots[j]) {
                t->count--;
                return;
            }
            home =
                (size_t)ent(sh, base + (t->slots[j] & mask) - 1)->hash & mask;
            /* Move j back to i unless its home lies cyclically in (i, j]. */
            if (i <= j ? (home <= i || home > j) : (home <= i && home > j))
                break;
        }
        t->slots[i] = t->slots[j];
        i = j;
    }
}

/* Entry number `from` of t (base 0) is moving to number `to`. */
static void it_renumber(const state_shard *sh, itable *t, size_t from,
                        size_t to)
{
    uint32_t mask = t->mask;
    size_t i = (size_t)ent(sh, from)->hash & mask;
    while ((t->slots[i] & mask) != from + 1)
        i = (i + 1) & mask;
    t->slots[i] = (t->slots[i] & ~mask) | (uint32_t)(to + 1);
}

/* ------------------------------------------------------------ data heap */

/* Where an empty composite's items point (never read). */
static const sl_value no_items[1];

/* Add the bytes of v's deep copy: item arrays, then string bytes. */
static void data_size(const sl_value *v, size_t *items, size_t *bytes)
{
    uint32_t i;
    if (v->kind == SL_KIND_STR || v->kind == SL_KIND_BYTES) {
        *bytes += v->len;
    } else if (sl_kind_is_composite(v->kind)) {
        *items += (size_t)v->len * sizeof(sl_value);
        for (i = 0; i < v->len; i++)
            data_size(&v->u.items[i], items, bytes);
    }
}

static size_t value_bytes(const sl_value *v)
{
    size_t items = 0, bytes = 0;
    data_size(v, &items, &bytes);
    return items + bytes;
}

static size_t entry_bytes(const sl__state_entry *e)
{
    return value_bytes(&e->key) + value_bytes(&e->value);
}

/* Free space of a copy: 8-aligned item arrays, then unaligned bytes. */
typedef struct cursor {
    char *items, *bytes;
} cursor;

/* Copy v into *out through c (out may be v). */
static void flatten(const sl_value *v, sl_value *out, cursor *c)
{
    sl_value in = *v;
    sl_value *items;
    uint32_t i;
    *out = in;
    if (in.kind == SL_KIND_STR || in.kind == SL_KIND_BYTES) {
        out->u.s = "";
        if (in.len) {
            memcpy(c->bytes, in.u.s, in.len);
            out->u.s = c->bytes;
            c->bytes += in.len;
        }
    } else if (sl_kind_is_composite(in.kind)) {
        out->u.items = no_items;
        if (!in.len)
            return;
        items = (sl_value *)(void *)c->items;
        c->items += (size_t)in.len * sizeof *items;
        for (i = 0; i < in.len; i++)
            flatten(&in.u.items[i], &items[i], c);
        out->u.items = items;
    }
}

/* n bytes of data chunk, 8-aligned when align is 8; NULL when out of
 * memory. */
static void *heap_alloc(state_shard *sh, size_t n, size_t align)
{
    heap_chunk *c = sh->heap;
    size_t at, size;
    if (c) {
        at = SL__ALIGN_UP(c->used, align);
        if (at <= c->cap && n <= c->cap - at) {
            sh->heap_used += at - c->used + n;
            c->used = at + n;
            return (char *)(c + 1) + at;
        }
    }
    /* The chunks double up to HEAP_MAX. */
    size = sh->heap_bytes < HEAP_FIRST ? HEAP_FIRST : sh->heap_bytes;
    if (size > HEAP_MAX)
        size = HEAP_MAX;
    if (size - sizeof *c < n)
        size = sizeof *c + n;
    if (!(c = sl_malloc(size)))
        return NULL;
    if (sh->heap) /* the rest of the old chunk is lost */
        sh->heap_used += sh->heap->cap - sh->heap->used;
    c->prev = sh->heap;
    c->cap = size - sizeof *c;
    c->used = n;
    sh->heap = c;
    sh->heap_bytes += size;
    sh->heap_used += n;
    return c + 1;
}

/* Copy key (unless NULL) and value into one piece of the data chunks. */
static sl_status copy_in(state_shard *sh, const sl_value *key,
                         const sl_value *value, sl_value *okey,
                         sl_value *ovalue)
{
    size_t items = 0, bytes = 0;
    cursor c = {NULL, NULL};
    char *mem;
    if (key)
        data_size(key, &items, &bytes);
    data_size(value, &items, &bytes);
    if (items + bytes) {
        if (!(mem = heap_alloc(sh, items + bytes, items ? 8 : 1)))
            return SL_ENOMEM;
        c.items = mem;
        c.bytes = mem + items;
    }
    if (key)
        flatten(key, okey, &c);
    flatten(value, ovalue, &c);
    return SL_OK;
}

static void heap_free(heap_chunk *c)
{
    while (c) {
        heap_chunk *prev = c->prev;
        sl_free(c);
        c = prev;
    }
}

static void heap_set_mark(state_shard *sh)
{
    sh->mark = sh->heap;
    sh->mark_used = sh->heap ? sh->heap->used : 0;
    sh->mark_heap_used = sh->heap_used;
}

/* Drop what the pending version added to the data chunks. */
static void heap_rollback(state_shard *sh)
{
    while (sh->heap != sh->mark) {
        heap_chunk *c = sh->heap;
        sh->heap = c->prev;
        sh->heap_bytes -= sizeof *c + c->cap;
        sl_free(c);
    }
    if (sh->heap)
        sh->heap->used = sh->mark_used;
    sh->heap_used = sh->mark_heap_used;
}

/* Offset past entry e's copy placed at `at` of a compacted chunk. */
static size_t compact_place(const sl__state_entry *e, size_t at, cursor *c,
                            char *mem)
{
    size_t items = 0, bytes = 0;
    data_size(&e->key, &items, &bytes);
    data_size(&e->value, &items, &bytes);
    if (items)
        at = SL__ALIGN_UP(at, 8);
    if (mem) {
        c->items = mem + at;
        c->bytes = mem + at + items;
    }
    return at + items + bytes;
}

/*
 * Copy every committed entry's data into one new chunk and free the old
 * ones (at commit, when no entry handed out may be used any more). Only
 * saves memory, so it is skipped when the new chunk cannot be had.
 */
static void heap_compact(state_shard *sh)
{
    size_t need = 0, sum = 0, at = 0, i;
    heap_chunk *nc = NULL;
    cursor c = {NULL, NULL};
    for (i = 0; i < sh->n; i++) {
        need = compact_place(ent(sh, i), need, &c, NULL);
        sum += entry_bytes(ent(sh, i));
    }
    assert(sum == sh->live); /* the accounting is exact */
    (void)sum;
    if (need && !(nc = sl_malloc(sizeof *nc + need)))
        return;
    for (i = 0; nc && i < sh->n; i++) {
        sl__state_entry *e = ent(sh, i);
        at = compact_place(e, at, &c, (char *)(nc + 1));
        flatten(&e->key, &e->key, &c);
        flatten(&e->value, &e->value, &c);
    }
    if (nc) {
        nc->prev = NULL;
        nc->cap = nc->used = need;
    }
    heap_free(sh->heap);
    sh->heap = nc;
    sh->heap_bytes = nc ? sizeof *nc + need : 0;
    sh->heap_used = need;
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

/* Free everything a shard holds and leave it empty. */
static void shard_clear(state_shard *sh)
{
    ent_trim(sh, 0);
    sl_free(sh->chunks);
    sl_free(sh->base.slots);
    sl_free(sh->pending.slots);
    heap_free(sh->heap);
    memset(sh, 0, sizeof *sh);
}

void sl__state_free(sl__state_store *st)
{
    size_t i;
    if (!st)
        return;
    for (i = 0; i < st->nshards; i++)
        shard_clear(&st->shards[i]);
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
        n += st->shards[i].n;
    return n;
}

size_t sl__state_bytes(const sl__state_store *st)
{
    size_t i, k, n = sizeof *st + st->nshards * sizeof *st->shards;
    for (i = 0; i < st->nshards; i++) {
        const state_shard *sh = &st->shards[i];
        n += sh->chunks_cap * sizeof *sh->chunks + sh->heap_bytes +
             (it_cap(&sh->base) + it_cap(&sh->pending)) * sizeof(uint32_t);
        for (k = 0; k < sh->nchunks; k++)
            n += ent_chunk_cap(k) * sizeof(sl__state_entry);
    }
    return n;
}

sl_status sl__state_begin(sl__state_store *st, int64_t version)
{
    if (st->pending_version >= 0 || version <= st->version)
        return SL_ESTATE;
    st->pending_version = version;
    return SL_OK;
}

/*
 * Room in the committed table for the most keys it will hold at any point
 * while the pending writes are applied in order, so that applying them
 * allocates nothing and cannot fail part way. Entries need no room: the
 * pending ones become committed where they are.
 */
static sl_status reserve(state_shard *sh)
{
    size_t count = sh->n, most = sh->n, j, cap;
    for (j = 0; j < sh->pn; j++) {
        const sl__state_entry *p = ent(sh, sh->n + j);
        bool known = it_find(sh, &sh->base, 0, &p->key, p->hash, NULL);
        if (p->updated_ms == REMOVED)
            count -= known;
        else if (!known && ++count > most)
            most = count;
    }
    if (it_fits(&sh->base, most))
        return SL_OK;
    cap = it_cap_for(most);
    return cap ? it_resize(sh, &sh->base, 0, cap) : SL_ENOMEM;
}

/* Remove committed entry b (in slot) from entries [0, end): the last one
 * takes its place, so the committed entries stay dense. */
static void drop(state_shard *sh, size_t slot, sl__state_entry *b, size_t end)
{
    size_t at = (sh->base.slots[slot] & sh->base.mask) - 1, last = end - 1;
    sh->live -= entry_bytes(b);
    it_delete(sh, &sh->base, 0, slot);
    if (at != last) {
        it_renumber(sh, &sh->base, last, at);
        *b = *ent(sh, last);
    }
}

/*
 * Apply the pending writes in order. Entries [0, end) are live and in the
 * committed table; end never passes the pending entry at hand, so a new
 * key's entry moves down to end (or stays) and a removal fills its hole
 * with entry end - 1. An update keeps the committed entry's key copy (the
 * pending write shares it) and takes the new value.
 */
static void apply(state_shard *sh)
{
    size_t end = sh->n, j, slot = 0;
    for (j = 0; j < sh->pn; j++) {
        sl__state_entry *p = ent(sh, sh->n + j),
                        *b = it_find(sh, &sh->base, 0, &p->key, p->hash, &slot);
        if (p->updated_ms == REMOVED) {
            if (b)
                drop(sh, slot, b, end--);
        } else if (b) {
            sh->live += value_bytes(&p->value);
            sh->live -= value_bytes(&b->value);
            b->value = p->value;
            b->updated_ms = p->updated_ms;
        } else {
            sh->live += entry_bytes(p);
            if (end != sh->n + j)
                *ent(sh, end) = *p;
            it_insert(&sh->base, p->hash, end++);
        }
    }
    sh->n = end;
    sh->pn = 0;
}

/* Empty the pending table, keeping a small one for the next version. */
static void pending_reset(state_shard *sh)
{
    sh->pn = 0;
    sh->prepared = false;
    if (it_cap(&sh->pending) > IDX_KEEP) {
        sl_free(sh->pending.slots);
        memset(&sh->pending, 0, sizeof sh->pending);
    } else if (sh->pending.slots) {
        memset(sh->pending.slots, 0, it_cap(&sh->pending) * sizeof(uint32_t));
        sh->pending.count = 0;
    }
}

/* After a commit: give back entry chunks, an oversized committed table and
 * (by compaction) data chunks that are mostly garbage. Each step only
 * frees memory, or is skipped when it cannot have what it needs. */
static void tidy(state_shard *sh)
{
    size_t cap = it_cap_for(sh->n), garbage = sh->heap_used - sh->live;
    ent_trim(sh, ent_chunks_for(sh->n));
    pending_reset(sh);
    if (sh->n == 0)
        (void)it_resize(sh, &sh->base, 0, 0);
    else if (cap && cap * 4 <= it_cap(&sh->base))
        (void)it_resize(sh, &sh->base, 0, cap);
    if ((sh->n == 0 && sh->heap) || (garbage > sh->live && garbage >= HEAP_MAX))
        heap_compact(sh);
    heap_set_mark(sh);
}

sl_status sl__state_prepare(sl__state_store *st)
{
    size_t i;
    if (st->pending_version < 0)
        return SL_ESTATE;
    for (i = 0; i < st->nshards; i++) {
        state_shard *sh = &st->shards[i];
        if (!sh->prepared && reserve(sh) != SL_OK)
            return SL_ENOMEM; /* nothing applied: retry or abort */
        sh->prepared = true;
    }
    return SL_OK;
}

sl_status sl__state_commit(sl__state_store *st)
{
    size_t i;
    /* After a successful prepare every table fits already: reserve only
     * counts and allocates nothing, so this cannot fail. */
    sl_status rc = sl__state_prepare(st);
    if (rc != SL_OK)
        return rc;
    for (i = 0; i < st->nshards; i++) {
        apply(&st->shards[i]); /* cannot fail now */
        tidy(&st->shards[i]);
    }
    st->version = st->pending_version;
    st->pending_version = -1;
    return SL_OK;
}

void sl__state_abort(sl__state_store *st)
{
    size_t i;
    for (i = 0; i < st->nshards; i++) {
        state_shard *sh = &st->shards[i];
        pending_reset(sh);
        ent_trim(sh, ent_chunks_for(sh->n));
        heap_rollback(sh);
    }
    st->pending_version = -1;
}

const sl__state_entry *sl__state_get(const sl__state_store *st,
                                     const sl_value *key, uint64_t hash)
{
    const state_shard *sh = &st->shards[sl__state_shard_of(st, hash)];
    return it_find(sh, &sh->base, 0, key, hash, NULL);
}

/* Room for one more pending entry and its slot. */
static sl_status pending_room(state_shard *sh)
{
    size_t cap;
    if (!it_fits(&sh->pending, sh->pn + 1)) {
        cap = it_cap_for(sh->pn + 1);
        if (!cap || it_resize(sh, &sh->pending, sh->n, cap) != SL_OK)
            return SL_ENOMEM;
    }
    return ent_reserve(sh, sh->n + sh->pn);
}

/*
 * Write key's pending entry. Everything that can fail comes first, so a
 * failed write changes nothing. A key written before in this version, or
 * committed, keeps that entry's copy of the key.
 */
static sl_status pending_write(sl__state_store *st, const sl_value *key,
                               uint64_t hash, const sl_value *value,
                               int64_t time_ms)
{
    state_shard *sh = &st->shards[sl__state_shard_of(st, hash)];
    sl__state_entry *p, *known, e;
    if (st->pending_version < 0)
        return SL_ESTATE;
    sh->prepared = false; /* one more key may need room */
    p = it_find(sh, &sh->pending, sh->n, key, hash, NULL);
    known = p ? p : it_find(sh, &sh->base, 0, key, hash, NULL);
    if (!p && pending_room(sh) != SL_OK)
        return SL_ENOMEM;
    e.hash = hash;
    e.updated_ms = time_ms;
    if (known)
        e.key = known->key;
    if (copy_in(sh, known ? NULL : key, value, &e.key, &e.value) != SL_OK)
        return SL_ENOMEM;
    if (!p) {
        p = ent(sh, sh->n + sh->pn);
        it_insert(&sh->pending, hash, sh->pn++);
    }
    *p = e;
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
    const state_shard *sh = &st->shards[sl__state_shard_of(st, hash)];
    const sl__state_entry *e =
        it_find(sh, &sh->pending, sh->n, key, hash, NULL);
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
    const state_shard *sh = &st->shards[shard];
    return *i < sh->pn ? ent(sh, sh->n + (*i)++) : NULL;
}

const sl__state_entry *sl__state_next(const sl__state_store *st, size_t shard,
                                      size_t *i)
{
    const state_shard *sh = &st->shards[shard];
    return *i < sh->n ? ent(sh, (*i)++) : NULL;
}

bool sl__state_pending(const sl__state_store *st)
{
    return st->pending_version >= 0;
}

/* A pending write changes the shard unless it puts the committed value
 * with the committed update time again, or removes an absent key. */
static bool write_changes(const state_shard *sh, const sl__state_entry *p)
{
    const sl__state_entry *b =
        it_find(sh, &sh->base, 0, &p->key, p->hash, NULL);
    if (p->updated_ms == REMOVED)
        return b != NULL;
    return !b || b->updated_ms != p->updated_ms ||
           !sl__value_identical(&b->value, &p->value);
}

bool sl__state_shard_changed(const sl__state_store *st, size_t shard)
{
    const state_shard *sh = &st->shards[shard];
    size_t j;
    if (st->pending_version < 0)
        return false;
    for (j = 0; j < sh->pn; j++)
        if (write_changes(sh, ent(sh, sh->n + j)))
            return true;
    return false;
}

/* Drop every entry, committed or pending: nothing committed. */
static void store_clear(sl__state_store *st)
{
    size_t i;
    for (i = 0; i < st->nshards; i++)
        shard_clear(&st->shards[i]);
    st->version = -1;
    st->pending_version = -1;
}

sl_status sl__state_restore_begin(sl__state_store *st, int64_t version)
{
    if (version < 0)
        return SL_EINVAL;
    store_clear(st);
    st->pending_version = version;
    return SL_OK;
}

sl_status sl__state_restore_end(sl__state_store *st)
{
    sl_status rc = sl__state_commit(st);
    if (rc != SL_OK)
        store_clear(st);
    return rc;
}
