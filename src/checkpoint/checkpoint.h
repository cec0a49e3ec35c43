/*
 * Internal interface of src/checkpoint, the on-disk half of checkpoints:
 * atomic files with a checked header, the directory fsyncs a batch
 * batches, and the checkpoint directory (metadata, offsets/ and commits/
 * logs, retention, rollback, inspect). docs/checkpoint-format.md has the
 * formats; the recovery logic that reads them lives in src/stream.
 */
#ifndef SL_CHECKPOINT_CHECKPOINT_H
#define SL_CHECKPOINT_CHECKPOINT_H

#include "core/codec.h"
#include "core/core.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------ files with a header */

/* Every checkpoint file: a 24-byte header, then the payload. */
#define SL__CKPT_HEADER_SIZE 24

/* Magic numbers of the file kinds written here (4 ASCII bytes, read
 * little-endian). Other layers define theirs the same way. */
#define SL__CKPT_MAGIC(a, b, c, d)                                             \
    ((uint32_t)(a) | (uint32_t)(b) << 8 | (uint32_t)(c) << 16 |                \
     (uint32_t)(d) << 24)
#define SL__CKPT_MAGIC_METADATA SL__CKPT_MAGIC('S', 'L', 'M', 'D')
#define SL__CKPT_MAGIC_OFFSETS SL__CKPT_MAGIC('S', 'L', 'O', 'F')
#define SL__CKPT_MAGIC_COMMIT SL__CKPT_MAGIC('S', 'L', 'C', 'M')
/* The format version of metadata, offsets and commits this build writes
 * and the newest it reads. */
#define SL__CKPT_VERSION 1
/* Files other layers write whose headers inspect checks too: window data
 * (src/stream/ckpt_window.c) and source logs (src/stream/source_log.c),
 * with the newest version this build reads. */
#define SL__CKPT_MAGIC_WINDOW SL__CKPT_MAGIC('S', 'L', 'W', 'N')
#define SL__CKPT_WINDOW_VERSION 1
#define SL__CKPT_MAGIC_SOURCE_LOG SL__CKPT_MAGIC('S', 'L', 'S', 'O')
#define SL__CKPT_SOURCE_LOG_VERSION 1
/* State deltas and snapshots (src/state/state_files.c writes them; the
 * checks below are shared with inspect): magic, the format version this
 * build writes and the newest it reads, and the largest decompressed
 * payload read (a damaged frame header must not ask for terabytes). */
#define SL__CKPT_MAGIC_STATE_DELTA SL__CKPT_MAGIC('S', 'L', 'S', 'D')
#define SL__CKPT_MAGIC_STATE_SNAPSHOT SL__CKPT_MAGIC('S', 'L', 'S', 'S')
#define SL__CKPT_STATE_VERSION 1
#define SL__CKPT_STATE_MAX_RAW ((unsigned long long)1 << 36)

/* The steps of an atomic write, for fault injection. */
typedef enum sl__ckpt_step {
    SL__CKPT_STEP_OPEN,    /* creating the temporary file */
    SL__CKPT_STEP_WRITE,   /* writing header and payload */
    SL__CKPT_STEP_FSYNC,   /* fsync of the temporary file */
    SL__CKPT_STEP_RENAME,  /* rename onto the real name */
    SL__CKPT_STEP_DIRSYNC, /* fsync of a dirty directory */
    SL__CKPT_STEP_UNLINK   /* deleting a file (retention, rollback) */
} sl__ckpt_step;

/*
 * Test hook: called before each step with the path it works on; a
 * non-zero return is an errno the step fails with instead of running
 * (ENOSPC simulates a full disk without a small file system).
 */
typedef int (*sl__ckpt_fault_fn)(void *user, sl__ckpt_step step,
                                 const char *path);

/* One file renamed into place while recording (sl__ckpt_io_record): what
 * a commit entry lists for restart to verify. */
typedef struct sl__ckpt_written {
    char *path;     /* as written (the caller's path) */
    uint64_t bytes; /* header + payload */
    uint32_t crc32; /* zlib's crc32 of the whole file */
} sl__ckpt_written;

/*
 * What atomic writes share: the error of the last failure, the
 * directories written since the last sync (each fsynced once per batch),
 * counters, the files written while recording, and the fault hook. One
 * per checkpoint directory; one thread at a time (the job thread).
 */
typedef struct sl__ckpt_io {
    sl__errmsg err;
    int last_errno; /* errno of the last failure (ENOSPC, EIO), or 0 */
    char **dirty;   /* directories to fsync, each once */
    size_t ndirty, capdirty;
    uint64_t bytes_written; /* header + payload bytes renamed into place */
    uint64_t files_written;
    uint64_t dir_syncs;
    sl__ckpt_written last;     /* the last file written (path NULL) */
    sl__ckpt_written *written; /* recorded files, while recording */
    size_t nwritten, capwritten;
    bool recording;
    sl__ckpt_fault_fn fault;
    void *fault_user;
} sl__ckpt_io;

/** An io with nothing dirty and no fault hook. */
void sl__ckpt_io_init(sl__ckpt_io *io);
/** Free the dirty set (without syncing it) and the recorded files. */
void sl__ckpt_io_free(sl__ckpt_io *io);
/**
 * Start (forgetting what an earlier recording listed) or stop recording
 * the files sl__ckpt_write_file renames into place, with their sizes and
 * checksums (io->written, io->nwritten): the files of one batch.
 */
void sl__ckpt_io_record(sl__ckpt_io *io, bool on);
/**
 * Check that path holds exactly `bytes` bytes with zlib's crc32 `crc`:
 * SL_ENOTFOUND when it is missing, SL_ECORRUPT (the message names the
 * path, expected and found) when it differs, SL_EIO when unreadable.
 */
sl_status sl__ckpt_verify_file(sl__ckpt_io *io, const char *path,
                               uint64_t bytes, uint32_t crc);
/** The message of the last failure ("" if none); borrowed. */
const char *sl__ckpt_io_errmsg(const sl__ckpt_io *io);

/**
 * Write header (magic, version, length, crc32) and payload to path
 * atomically: a hidden temporary name in the same directory, written,
 * fsynced and renamed. The directory is only marked dirty: it counts as
 * durable after sl__ckpt_io_sync_dirs. On failure (SL_EIO, or SL_ENOMEM)
 * the temporary is removed, path keeps its previous content, and the
 * message names the path, the step and the errno text.
 */
sl_status sl__ckpt_write_file(sl__ckpt_io *io, const char *path, uint32_t magic,
                              uint32_t version, const void *payload,
                              size_t len);

/**
 * Read path and check its header: SL_ENOTFOUND when it does not exist,
 * SL_ECORRUPT with the path and the reason (bad magic, version N
 * unsupported, truncated: X of Y bytes, N bytes after the payload,
 * checksum mismatch), SL_EIO when it cannot be read. *payload (NUL
 * terminated after len bytes for text payloads) is freed with sl_free;
 * version may be NULL. Accepts versions 1 .. max_version.
 */
sl_status sl__ckpt_read_file(sl__ckpt_io *io, const char *path, uint32_t magic,
                             uint32_t max_version, void **payload, size_t *len,
                             uint32_t *version);

/** write(2) all n bytes at p to fd, through short writes and EINTR: 0, or
 * the errno of the failed write (for the files above and the WAL). */
int sl__ckpt_write_all(int fd, const void *p, size_t n);

/**
 * The header of a file whose payload is the len bytes at payload, into h
 * (SL__CKPT_HEADER_SIZE bytes): for files written some other way than
 * sl__ckpt_write_file, such as the WAL's append-only segments (whose
 * header covers an empty payload and is followed by checked records).
 */
void sl__ckpt_header_make(unsigned char *h, uint32_t magic, uint32_t version,
                          const void *payload, size_t len);
/**
 * Decompress the one zstd frame in src (len bytes) into a new buffer
 * (*out, NUL-terminated after *out_len bytes, freed with sl_free). The
 * frame must declare its content size, at most max and at most what its
 * blocks can hold (raw and RLE blocks their size, a compressed block
 * 128 KiB), checked before anything is allocated; it must end at len.
 * SL_ECORRUPT or SL_ENOMEM with *why (static text) set.
 */
sl_status sl__ckpt_unzstd(const void *src, size_t len, uint64_t max, void **out,
                          size_t *out_len, const char **why);
/**
 * Check the n bytes at b as a whole file of this kind, as
 * sl__ckpt_read_file does (same reasons, SL_ECORRUPT); version may be
 * NULL.
 */
sl_status sl__ckpt_header_check(sl__ckpt_io *io, const char *path,
                                const unsigned char *b, size_t n,
                                uint32_t magic, uint32_t max_version,
                                uint32_t *version);

/** Mark dir to be fsynced by the next sync (once however many files). */
sl_status sl__ckpt_io_mark_dir(sl__ckpt_io *io, const char *dir);
/** Mark the directory holding path. */
sl_status sl__ckpt_io_mark_parent(sl__ckpt_io *io, const char *path);
/**
 * fsync every dirty directory once and empty the set. On failure the
 * directories not yet synced stay in the set.
 */
sl_status sl__ckpt_io_sync_dirs(sl__ckpt_io *io);
/**
 * Create dir and its missing parents (mkdir -p), marking each parent of a
 * created directory dirty so that the new entries are synced with the
 * batch. An existing directory is fine.
 */
sl_status sl__ckpt_mkdirs(sl__ckpt_io *io, const char *dir);
/** Delete path (missing is fine) and mark its directory dirty. */
sl_status sl__ckpt_unlink(sl__ckpt_io *io, const char *path);

/* ------------------------------------------- the checkpoint directory */

typedef struct sl__ckpt sl__ckpt;

/* The two per-batch logs. */
typedef enum sl__ckpt_log { SL__CKPT_OFFSETS, SL__CKPT_COMMITS } sl__ckpt_log;

/*
 * Called by retention and rollback before their own files go, so that
 * state, WAL and source logs drop what belongs to batches outside
 * [first_kept, last_kept]. Delete through sl__ckpt_unlink so the
 * directories are synced with the rest.
 */
typedef sl_status (*sl__ckpt_prune_fn)(void *user, sl__ckpt *ck,
                                       int64_t first_kept, int64_t last_kept);

/**
 * Open the checkpoint directory dir. Without a metadata file and with
 * create, the directory, offsets/ and commits/ are made and metadata
 * written with a new random job id and the caller's config fingerprint
 * (any bytes). An existing metadata is read as it is; comparing its
 * fingerprint is the caller's. Leftover temporary files of an interrupted
 * write are removed. Errors (SL_ENOTFOUND, SL_ECORRUPT, SL_EIO,
 * SL_ENOMEM) are written to errbuf; free *out with sl__ckpt_close.
 */
sl_status sl__ckpt_open(const char *dir, bool create, const void *fingerprint,
                        size_t fingerprint_len, sl__ckpt **out, char *errbuf,
                        size_t errlen);
/** Free the handle (accepts NULL); nothing is written. */
void sl__ckpt_close(sl__ckpt *ck);
/** The io shared by everything written into this directory. */
sl__ckpt_io *sl__ckpt_io_of(sl__ckpt *ck);
/** The last failure's message; borrowed. */
const char *sl__ckpt_errmsg(const sl__ckpt *ck);
/** The directory's path; borrowed. */
const char *sl__ckpt_dir(const sl__ckpt *ck);
/** The job id from metadata (36 characters, uuid-like); borrowed. */
const char *sl__ckpt_job_id(const sl__ckpt *ck);
/** The config fingerprint from metadata; borrowed. */
const void *sl__ckpt_fingerprint(const sl__ckpt *ck, size_t *len);

/**
 * Write offsets/<batch> or commits/<batch> and then fsync every dirty
 * directory (those of the batch's other files too): when this returns
 * SL_OK the entry and what the batch wrote before it are durable.
 */
sl_status sl__ckpt_log_write(sl__ckpt *ck, sl__ckpt_log log, int64_t batch,
                             const void *payload, size_t len);
/** Read an entry, checked (see sl__ckpt_read_file); free with sl_free. */
sl_status sl__ckpt_log_read(sl__ckpt *ck, sl__ckpt_log log, int64_t batch,
                            void **payload, size_t *len);
/**
 * The batches of a log in ascending order (names that are not a batch
 * number are ignored). *batches is freed with sl_free (NULL when n is 0).
 */
sl_status sl__ckpt_log_list(sl__ckpt *ck, sl__ckpt_log log, int64_t **batches,
                            size_t *n);
/** The newest batch of a log; SL_ENOTFOUND when the log is empty. */
sl_status sl__ckpt_log_last(sl__ckpt *ck, sl__ckpt_log log, int64_t *batch);
/**
 * The batches with offsets but no commit, ascending (the ones recovery
 * re-runs); freed with sl_free.
 */
sl_status sl__ckpt_uncommitted(sl__ckpt *ck, int64_t **batches, size_t *n);

/**
 * Keep the newest retain_batches committed batches (and every later
 * one): prune (may be NULL) runs first, then older offsets and commits
 * are deleted and the directories synced.
 */
sl_status sl__ckpt_retain(sl__ckpt *ck, int64_t retain_batches,
                          sl__ckpt_prune_fn prune, void *user);
/**
 * Discard every batch after `to` (its offsets and commits, newest
 * first, after prune), so that the job goes on from `to`. Refused
 * (SL_ENOTFOUND) when `to` has no commit entry, as when retention
 * already deleted it.
 */
sl_status sl__ckpt_rollback(sl__ckpt *ck, int64_t to, sl__ckpt_prune_fn prune,
                            void *user);

/* Output of sl__ckpt_inspect. */
typedef enum sl__ckpt_format {
    SL__CKPT_FORMAT_TABLE,
    SL__CKPT_FORMAT_JSON
} sl__ckpt_format;

/**
 * Describe the checkpoint directory dir without changing it: metadata,
 * each batch with its offsets and commit sizes and state, the size of
 * every top-level directory, the versions in each state/<op>/<shard>, and
 * the problems a restart would refuse for (every file checked, state
 * chains, WAL segments, the last commit's file list; a torn WAL end is a
 * note).
 * Works on a directory that cannot be opened (its problem is listed).
 * *out (NUL-terminated) is freed with sl_free; *problems counts them.
 * Fails only for SL_ENOMEM or a missing dir (errbuf).
 */
sl_status sl__ckpt_inspect(const char *dir, sl__ckpt_format fmt, char **out,
                           size_t *problems, char *errbuf, size_t errlen);

/* ---------------------------------- state and window files by name */

/*
 * names.c: the versioned files of state/<op>/<shard>/ and windows/<op>/
 * by their names alone ("<version><suffix>"), for retention and rollback
 * without a job (their contents are src/state's and src/stream's).
 */
/** The longest path under a checkpoint directory, NUL included. */
#define SL__CKPT_PATH_MAX 4096
/** printf into out (SL__CKPT_PATH_MAX bytes); false when it did not fit. */
bool sl__ckpt_path(char *out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/** The files "<version><suffix>" of dir, versions ascending (*v freed
 * with sl_free; a missing dir has none). SL_ENOMEM, SL_EIO (io's
 * message). */
sl_status sl__ckpt_list_versions(sl__ckpt_io *io, const char *dir,
                                 const char *suffix, int64_t **v, size_t *n);
/** Delete (sl__ckpt_unlink) dir's "<v[i]><suffix>" with v[i] > after. */
sl_status sl__ckpt_drop_after(sl__ckpt_io *io, const char *dir,
                              const char *suffix, const int64_t *v, size_t n,
                              int64_t after);
/**
 * A prune hook (sl__ckpt_prune_fn; user unused) by names: in every state
 * shard directory the versions after last_kept, then those the newest
 * snapshot at or before first_kept replaces (older snapshots, deltas up
 * to it); in every windows/<op> the files after last_kept. Window
 * retention needs the window's length: src/stream's hook adds it.
 */
sl_status sl__ckpt_prune_names(void *user, sl__ckpt *ck, int64_t first_kept,
                               int64_t last_kept);

/** Called with the path of each temporary found (see sl__ckpt_each_temp). */
typedef void (*sl__ckpt_temp_fn)(void *user, const char *path);
/**
 * fn on every temporary a crash may have left in the directories the
 * checkpoint dir owns: dir itself (metadata), offsets/, commits/, wal/,
 * state/<op>/<shard>/, windows/<op>/ and sources/<source>/. Only the exact
 * form ".<name>.tmp" with a name such a directory holds counts. Deleting
 * them is safe only under DIR/lock (sl__ckpt_open), where no writer runs.
 */
void sl__ckpt_each_temp(const char *dir, sl__ckpt_temp_fn fn, void *user);

/* ------------------------- checks shared by restart and inspect */

/*
 * verify.c. A delta's base: the version of the shard's previous file
 * (delta or snapshot; -1 for a shard that had none), so that a reader
 * finds a missing file in the chain. Snapshots and deltas written without
 * one record SL__CKPT_STATE_BASE_UNKNOWN, which is not checked.
 */
#define SL__CKPT_STATE_BASE_UNKNOWN (-2)

/* The head of a state file's decompressed payload (after the codec's
 * version byte): docs/checkpoint-format.md, "State files". */
typedef struct sl__ckpt_state_head {
    uint64_t shard, shards; /* this shard, of how many */
    int64_t version, base;  /* see SL__CKPT_STATE_BASE_UNKNOWN */
    uint64_t entries;
} sl__ckpt_state_head;

/**
 * Start reading a decompressed state payload: the codec version byte and
 * the head into *h; r is left at the first entry (strings borrowed from
 * raw). SL_ECORRUPT with the reason in err.
 */
sl_status sl__ckpt_state_head_read(sl__codec_reader *r, const void *raw,
                                   size_t len, sl__ckpt_state_head *h,
                                   sl__errmsg *err);
/**
 * Check the state file at path ("*.delta" or "*.snapshot") without a
 * store: header and checksum, zstd frame, head (into *h) and that every
 * entry decodes. Errors as sl__ckpt_read_file (SL_ECORRUPT "<path>:
 * corrupt: <reason>"), io's message names the path.
 */
sl_status sl__ckpt_state_file_check(sl__ckpt_io *io, const char *path,
                                    sl__ckpt_state_head *h);
/**
 * Whether the delta `version` of shard directory dir, recording base,
 * follows `last`, the version of the file restore applied before it:
 * SL_OK, or SL_ECORRUPT naming the missing delta or snapshot.
 */
sl_status sl__ckpt_state_follows(sl__ckpt_io *io, const char *dir,
                                 int64_t version, int64_t base, int64_t last);

/** Called with the message of each bad file (sl__ckpt_commit_verify). */
typedef void (*sl__ckpt_bad_fn)(void *user, const char *msg);
/**
 * Check the files the commit entry of batch (JSON, len bytes) lists:
 * "checkpoint_files" relative to dir, then the sinks' "files", each with
 * its bytes and crc32 (a missing delta is fine when a snapshot of the
 * same or a later version of its shard exists). Without bad, stops at the
 * first mismatch; with it, calls bad for each. Returns the first
 * failure: SL_ECORRUPT (missing or different, or the entry is not a JSON
 * object), SL_ERANGE, SL_EIO, SL_ENOMEM, with io's message.
 */
sl_status sl__ckpt_commit_verify(sl__ckpt_io *io, const char *dir,
                                 int64_t batch, const void *entry, size_t len,
                                 sl__ckpt_bad_fn bad, void *user);

#endif /* SL_CHECKPOINT_CHECKPOINT_H */
