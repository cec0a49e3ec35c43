/*
 * Internals of the directory source: the table of files it knows (found,
 * waiting, taken, ignored), the watcher that fills it (inotify events or
 * directory listings, in watch.c), the source's state (file_source.c) and
 * the partition description its readers get (file_read.c).
 */
#ifndef SL_FILE_FILE_INT_H
#define SL_FILE_FILE_INT_H

#include <sluice/sluice.h>

#include "core/core.h"
#include "core/records.h"

/* Where a file is in its life. */
typedef enum fstate {
    F_PENDING, /* found, maybe still being written */
    F_READY,   /* complete, waiting for a batch with room */
    F_TAKEN,   /* put into a batch: never taken again */
    F_IGNORED  /* there before the start, too old, or refused */
} fstate;

/* One file the source knows, by its path below the watched directory. */
typedef struct fentry {
    struct fentry *next; /* hash chain */
    uint64_t hash;
    char *rel;
    fstate state;
    bool writing;     /* inotify: opened for writing, not closed yet */
    bool listed;      /* seen by the current listing */
    int64_t found_ms; /* monotonic time sluice found it */
    int64_t size, mtime_ns;
    uint64_t dev, ino; /* which file the name meant when found */
    /* inotify: the errno of a failed lstat of a file an event named (its
     * directory unreadable): it waits, PENDING, and is looked at again at
     * every batch; complete says whether it was moved in or closed. */
    int stat_err;
    bool complete;
    int64_t batch; /* the seen-files log: the batch that took it */
} fentry;

/* The file table: a chained hash map keyed by relative path. */
typedef struct ftab {
    fentry **buckets;
    size_t nbuckets, count;
} ftab;

fentry *sl__ftab_find(ftab *t, const char *rel);
/* The entry for rel, created PENDING when new; NULL when out of memory. */
fentry *sl__ftab_get(ftab *t, const char *rel, bool *created);
void sl__ftab_remove(ftab *t, fentry *e);
void sl__ftab_free(ftab *t);

typedef enum watch_mode { WATCH_AUTO, WATCH_INOTIFY, WATCH_POLL } watch_mode;
typedef enum clean_mode { CLEAN_OFF, CLEAN_DELETE, CLEAN_ARCHIVE } clean_mode;

/* A watched directory (inotify watch descriptor and its relative path). */
typedef struct wdir {
    int wd;
    char *rel; /* "" for the root */
    bool gone; /* IN_DELETE_SELF seen: its parent's event forgets it */
} wdir;

/* The watcher: what watch.c keeps between batches. */
typedef struct watcher {
    sl_context *ctx;
    char *root; /* the watched directory, as given */
    watch_mode mode;
    bool recursive, include_existing;
    char *glob;
    char *only; /* path named a file: root is its directory, only it */
    int64_t max_age_ms;
    int fd; /* inotify, or -1 when listing */
    wdir *dirs;
    size_t ndirs;
    int relist;          /* listings still to do (start, overflow) */
    int relist_next;     /* listings to do from the next batch (new dirs) */
    bool started;        /* the listing at start is done */
    bool after_overflow; /* the listing in progress follows an overflow */
    bool root_lost;      /* inotify: the root's watch is gone, looking for
                            a directory at the path at every batch */
    int root_err;        /* the errno reported about the root (cannot
                            list or watch it), 0 when it lists fine */
    int list_err;        /* the errno of the last failed root listing */
    uint64_t root_dev, root_ino; /* inotify: the directory watched as root */
    bool deep_warned;            /* a directory too deep was reported */
    size_t nretry;               /* entries with stat_err to look at again */
    ftab files;
} watcher;

/* Set up w (mode resolved: auto picks inotify when it works). */
sl_status sl__watch_open(watcher *w, char *err, size_t errlen);
/* Bring the table up to date with what happened since the last call. */
sl_status sl__watch_update(watcher *w, int64_t now_ms);
void sl__watch_close(watcher *w);
/* "a/b", or the other one alone when one is empty (sl_malloc'd). */
char *sl__file_join(const char *a, const char *b);
/* True for names the source never takes (hidden or temporary). */
bool sl__watch_hidden(const char *name);

/* ------------------------------------------------------------ the source */

/* What one batch took, kept until its commit for clean_source. */
typedef struct taken_batch {
    struct taken_batch *next;
    int64_t batch_id;
    char **rel;
    uint64_t *dev, *ino; /* the files meant: a newer one is not cleaned */
    size_t n;
} taken_batch;

/* The source: options, watcher, batches to clean, counters. */
typedef struct file_source {
    watcher w;
    sl_context *ctx;
    int64_t max_files, max_line, split_bytes;
    int64_t max_decompressed; /* per file, 0 = no limit */
    bool latest_first, with_file_name;
    clean_mode clean;
    char *archive;
    sl__rec_options rec;
    char *columns_text; /* file.csv.columns, owned */
    char **columns;     /* split from it */
    sl_schema *schema;  /* file.schema (rec.schema), a reference, or NULL */
    char *name;         /* source.name, or "directory": dead letters' origin */
    sl__dead_letters *dead;
    struct taken_batch *taken; /* oldest first */
    /* The seen-files log (file_seen.c): every file taken and still there,
     * kept apart from the watcher's table, which forgets old entries. */
    ftab seen;
    bool seen_track;    /* a checkpoint (recover was called): keep seen */
    bool seen_dirty;    /* taken files since the log was last written */
    int64_t started_ms; /* wall clock of the first start: files older are
                           "existing" (file.include_existing) */
    /* counters: written by the job thread or the workers */
    int64_t taken_files, failed, too_old, cleaned, waiting, too_large;
    int64_t pending; /* found at the last plan, not complete yet */
    int64_t lines, malformed, too_long, bytes;
    /* available_now: only files found by cut_ms (monotonic) are taken */
    bool bounded, planned_once;
    int64_t cut_ms;
} file_source;

#define ADD(field, n) __atomic_add_fetch(&(field), (n), __ATOMIC_RELAXED)
#define GET(field) __atomic_load_n(&(field), __ATOMIC_RELAXED)

/* The description of one partition, as the reader gets it (copied). */
typedef struct part_desc {
    int64_t start, end; /* byte range of the split; end = size when whole */
    int64_t size;       /* the file's size when planned */
    uint64_t dev, ino;  /* the file planned: a replacement is not read */
    uint32_t path_len;
    uint32_t whole;  /* read the file whole (compressed, json, csv) */
    uint32_t replay; /* a replayed batch: a replaced file fails the task */
    /* followed by the full path, NUL-terminated */
} part_desc;

enum { COMP_NONE, COMP_GZIP, COMP_ZSTD };

/* The compression of a file, by its name (.gz, .zst). */
int sl__file_compression(const char *path);
/* The reader of one partition (a part_desc), on a worker: an sl_read_fn. */
sl_status sl__file_read(sl_task *t, const void *desc, void *user);

/* file_source.c: room for n files of batch batch_id; NULL on ENOMEM. */
taken_batch *sl__file_taken_new(int64_t batch_id, size_t n);
void sl__file_taken_free(taken_batch *tb);
/* Keep tb for clean_source at the batch's commit (freed when no cleaning). */
void sl__file_taken_keep(file_source *fs, taken_batch *tb);
/* Plan the partitions of file e (its recorded size and identity); planned
 * false when nothing was added. */
sl_status sl__file_plan_file(file_source *fs, sl_plan *plan, const fentry *e,
                             bool replay, bool *planned);

/* file_seen.c: remember that e was taken by batch (for the log). */
sl_status sl__file_seen_add(file_source *fs, const fentry *e, int64_t batch);
/* The planned-source methods checkpoint and recover: the seen-files log. */
sl_status sl__file_checkpoint(void *state, int64_t batch_id,
                              sl_source_log *log);
/* Files the start listing ignored but modified at or after since_ms are
 * new after all (taken once stable). */
void sl__file_reclassify(file_source *fs, int64_t since_ms);
sl_status sl__file_recover(void *state, int64_t batch_id, sl_source_log *log);

/* file_replay.c: the planned-source methods replan and restore. */
sl_status sl__file_replan(void *state, int64_t batch_id, int64_t time_ms,
                          const char *offsets_json, sl_plan *plan);
sl_status sl__file_restore(void *state, int64_t batch_id,
                           const char *offsets_json);
/* Parse len bytes of JSON text into root (allocated from a): SL_ECORRUPT
 * when they are not JSON. */
sl_status sl__file_json_parse(const char *json, size_t len, sl__arena *a,
                              sl_value *root);
/* The member `key` of a JSON object parsed as a list of (key, value). */
const sl_value *sl__file_json_member(const sl_value *obj, const char *key);
/* One file as the offsets and the seen-files log record it (path, dev,
 * ino, size, mtime_ns); rel allocated from a. */
bool sl__file_json_entry(const sl_value *o, sl__arena *a, fentry *e);
/* Append e as that JSON object to b (a growing buffer, *len bytes used of
 * *cap; b ends in '[' or an object), extra (may be "") inside it. */
bool sl__file_json_add(char **b, size_t *len, size_t *cap, const fentry *e,
                       const char *extra);

#endif /* SL_FILE_FILE_INT_H */
