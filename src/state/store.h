/*
 * Internal interface of the keyed state store (src/state): state sharded by
 * the fixed, seedless key hash into S shards, each versioned per batch with
 * begin / commit / abort. Writes of a batch go to a pending delta per
 * shard, so the committed version stays frozen (and iterable) while the
 * next one is written, and a batch applied once is never applied again.
 */
#ifndef SL_STATE_STORE_H
#define SL_STATE_STORE_H

#include "core/core.h"

typedef struct sl__state_store sl__state_store;

/* One key's state, as lookups and iteration see it (borrowed: a committed
 * entry is valid until the next commit, a pending one until the next
 * commit or abort). Key and value are the store's deep copies: strings and
 * items point into the shard's data chunks (see store.c). */
typedef struct sl__state_entry {
    uint64_t hash; /* sl__htab_hash of the key (odd; 0 marks no entry) */
    sl_value key;
    sl_value value;
    int64_t updated_ms; /* batch time of the last update */
} sl__state_entry;

/** An empty store of `shards` shards (>= 1); nothing committed yet. */
sl__state_store *sl__state_new(size_t shards);
/** Free the store and every copy it holds. NULL ok. */
void sl__state_free(sl__state_store *st);
/** Number of shards (fixed for the store's life). */
size_t sl__state_shards(const sl__state_store *st);
/** Shard of a key hash: the partition the shuffle gives it among S. */
size_t sl__state_shard_of(const sl__state_store *st, uint64_t hash);
/** Last committed version (-1 before the first commit). */
int64_t sl__state_version(const sl__state_store *st);
/** Keys in the committed version. */
size_t sl__state_count(const sl__state_store *st);
/** Bytes the store holds from sl_malloc: entries, index tables, data
 * chunks (the committed and the pending version's). */
size_t sl__state_bytes(const sl__state_store *st);

/**
 * Start writing `version`. SL_ESTATE when a version is already being
 * written or `version` is not newer than the committed one (a batch that
 * ran before must not apply twice).
 */
sl_status sl__state_begin(sl__state_store *st, int64_t version);
/**
 * First half of a commit: everything that can fail (growing the committed
 * index tables). After SL_OK, sl__state_commit cannot fail, so a batch can
 * prepare every store before it commits the first one. SL_ENOMEM leaves
 * the pending version as it was (commit again or abort); SL_ESTATE when no
 * version is being written.
 */
sl_status sl__state_prepare(sl__state_store *st);
/** Make the pending version the committed one (prepares first when that
 * was not done: SL_ENOMEM then; never fails after a successful prepare). */
sl_status sl__state_commit(sl__state_store *st);
/** Drop the pending version's writes. */
void sl__state_abort(sl__state_store *st);
/** True while a version is being written (between begin and commit or
 * abort). */
bool sl__state_pending(const sl__state_store *st);
/**
 * Whether the pending version changes shard: a put of a new key, of another
 * value or update time, or a removal of a committed key. A shard that
 * reports false needs no delta in a checkpoint. False with no version
 * pending.
 */
bool sl__state_shard_changed(const sl__state_store *st, size_t shard);

/*
 * Restore (recovery): sl__state_restore_begin(st, v) drops everything the
 * store holds, committed or pending, and starts writing version v with no
 * "newer than committed" check; sl__state_put / sl__state_remove then load
 * the entries (updated_ms as recorded), and sl__state_restore_end commits
 * them as version v. Deltas after it go through the normal begin / commit.
 */
/** Empty the store and start restoring `version` (>= 0, else SL_EINVAL). */
sl_status sl__state_restore_begin(sl__state_store *st, int64_t version);
/** Commit the restored entries as the version given to restore_begin.
 * SL_ENOMEM leaves the store empty with nothing committed. */
sl_status sl__state_restore_end(sl__state_store *st);

/** Committed state of key in its shard, or NULL. Any thread; one reader
 * per shard while a version is written. */
const sl__state_entry *sl__state_get(const sl__state_store *st,
                                     const sl_value *key, uint64_t hash);
/**
 * Set key's state in the pending version (key and value are copied in).
 * Only the task that owns the key's shard writes it: no lock.
 */
sl_status sl__state_put(sl__state_store *st, const sl_value *key, uint64_t hash,
                        const sl_value *value, int64_t time_ms);
/** Remove key in the pending version. */
sl_status sl__state_remove(sl__state_store *st, const sl_value *key,
                           uint64_t hash);
/**
 * The pending version's write for key, or NULL when this version has not
 * touched it; *removed says whether the write is a removal.
 */
const sl__state_entry *sl__state_pending_get(const sl__state_store *st,
                                             const sl_value *key, uint64_t hash,
                                             bool *removed);
/** Iterate shard's pending writes (removals included, see
 * sl__state_is_removal), each key once with its last write and updated_ms:
 * a checkpoint's delta. *i starts at 0; NULL at the end. */
const sl__state_entry *sl__state_next_pending(const sl__state_store *st,
                                              size_t shard, size_t *i);
/** True for a pending entry that removes its key. */
bool sl__state_is_removal(const sl__state_entry *e);
/** Iterate shard's committed entries: *i starts at 0; NULL at the end.
 * Valid while the next version is written (a snapshot of the committed
 * version), until the next commit or restore. */
const sl__state_entry *sl__state_next(const sl__state_store *st, size_t shard,
                                      size_t *i);

#endif /* SL_STATE_STORE_H */
