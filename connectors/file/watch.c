/*
 * The directory source's watcher: finds files and decides when each is
 * complete. inotify: a file is complete when moved in, or when closed after
 * being written; the whole tree is listed at start and after an event queue
 * overflow. poll: the tree is listed at every batch and a file is complete
 * once its size and mtime held for one batch. Either way the table keeps a
 * file until it goes away (or, with inotify, for file.max_file_age), so it
 * never grows beyond the directory's own contents.
 */
#include "file/file_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

/* ----------------------------------------------------------- the table */

static uint64_t path_hash(const char *rel)
{
    return sl__hash_bytes(rel, strlen(rel), 0x9e3779b97f4a7c15ull) | 1;
}

fentry *sl__ftab_find(ftab *t, const char *rel)
{
    uint64_t h = path_hash(rel);
    fentry *e;
    if (!t->nbuckets)
        return NULL;
    for (e = t->buckets[h & (t->nbuckets - 1)]; e; e = e->next)
        if (e->hash == h && strcmp(e->rel, rel) == 0)
            return e;
    return NULL;
}

static bool ftab_grow(ftab *t)
{
    size_t n = t->nbuckets ? t->nbuckets * 2 : 64, i;
    fentry **b = sl_malloc(n * sizeof *b), *e, *next;
    if (!b)
        return false;
    memset(b, 0, n * sizeof *b);
    for (i = 0; i < t->nbuckets; i++)
        for (e = t->buckets[i]; e; e = next) {
            next = e->next;
            e->next = b[e->hash & (n - 1)];
            b[e->hash & (n - 1)] = e;
        }
    sl_free(t->buckets);
    t->buckets = b;
    t->nbuckets = n;
    return true;
}

fentry *sl__ftab_get(ftab *t, const char *rel, bool *created)
{
    fentry *e = sl__ftab_find(t, rel);
    size_t n = strlen(rel) + 1;
    *created = false;
    if (e)
        return e;
    if (t->count >= t->nbuckets && !ftab_grow(t))
        return NULL;
    if (!(e = sl_malloc(sizeof *e)))
        return NULL;
    memset(e, 0, sizeof *e);
    if (!(e->rel = sl_malloc(n))) {
        sl_free(e);
        return NULL;
    }
    memcpy(e->rel, rel, n);
    e->hash = path_hash(rel);
    e->state = F_PENDING;
    e->next = t->buckets[e->hash & (t->nbuckets - 1)];
    t->buckets[e->hash & (t->nbuckets - 1)] = e;
    t->count++;
    *created = true;
    return e;
}

void sl__ftab_remove(ftab *t, fentry *e)
{
    fentry **pp = &t->buckets[e->hash & (t->nbuckets - 1)];
    while (*pp && *pp != e)
        pp = &(*pp)->next;
    if (*pp) {
        *pp = e->next;
        t->count--;
    }
    sl_free(e->rel);
    sl_free(e);
}

void sl__ftab_free(ftab *t)
{
    size_t i;
    fentry *e, *next;
    for (i = 0; i < t->nbuckets; i++)
        for (e = t->buckets[i]; e; e = next) {
            next = e->next;
            sl_free(e->rel);
            sl_free(e);
        }
    sl_free(t->buckets);
    memset(t, 0, sizeof *t);
}

/* ------------------------------------------------------------- names */

bool sl__watch_hidden(const char *name)
{
    static const char *const temp[] = {".tmp", ".part", ".crdownload"};
    size_t n = strlen(name), i;
    if (name[0] == '.' || name[0] == '_')
        return true;
    for (i = 0; i < sizeof temp / sizeof temp[0]; i++) {
        size_t k = strlen(temp[i]);
        if (n >= k && strcmp(name + n - k, temp[i]) == 0)
            return true;
    }
    return false;
}

static const char *base_name(const char *rel)
{
    const char *s = strrchr(rel, '/');
    return s ? s + 1 : rel;
}

/* Whether a file called rel may be taken at all. */
static bool wanted(const watcher *w, const char *rel)
{
    const char *name = base_name(rel);
    if (sl__watch_hidden(name))
        return false;
    if (w->only)
        return strcmp(name, w->only) == 0 && !strchr(rel, '/');
    return !w->glob || !*w->glob || fnmatch(w->glob, name, 0) == 0;
}

char *sl__file_join(const char *a, const char *b)
{
    size_t na = strlen(a), nb = strlen(b);
    bool slash = na && nb;
    char *s = sl_malloc(na + nb + 2);
    if (!s)
        return NULL;
    memcpy(s, a, na);
    s[na] = '/';
    memcpy(s + na + slash, b, nb + 1);
    return s;
}

/* ----------------------------------------------------------- watches */

#define WATCH_MASK                                                             \
    (IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_MODIFY | IN_DELETE |        \
     IN_MOVED_FROM | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)

/* Directories deeper than this below the root are not entered: a bound on
 * list_dir's recursion, and far below PATH_MAX for inotify and opendir. */
#define MAX_DEPTH 64

/* Keep wd as rel's watch. */
static sl_status note_watch(watcher *w, int wd, const char *rel)
{
    wdir *d;
    size_t i;
    for (i = 0; i < w->ndirs; i++)
        if (w->dirs[i].wd == wd) {
            /* Watched already, under another name: it was moved. */
            char *name = sl__strdup(rel);
            if (!name)
                return SL_ENOMEM;
            sl_free(w->dirs[i].rel);
            w->dirs[i].rel = name;
            w->dirs[i].gone = false;
            return SL_OK;
        }
    if (!(d = sl_realloc(w->dirs, (w->ndirs + 1) * sizeof *d)))
        return SL_ENOMEM;
    w->dirs = d;
    d[w->ndirs].wd = wd;
    d[w->ndirs].gone = false;
    if (!(d[w->ndirs].rel = sl__strdup(rel)))
        return SL_ENOMEM;
    w->ndirs++;
    return SL_OK;
}

static sl_status add_watch(watcher *w, const char *rel)
{
    char *full = sl__file_join(w->root, rel);
    int wd;
    if (!full)
        return SL_ENOMEM;
    wd = inotify_add_watch(w->fd, full, WATCH_MASK);
    sl_free(full);
    if (wd < 0) {
        int e = errno;
        sl_context_log(w->ctx, SL_LOG_WARN,
                       "directory source %s: cannot watch '%s': %s", w->root,
                       *rel ? rel : ".", SL__STRERROR(e));
        return e == ENOMEM ? SL_ENOMEM : SL_EIO;
    }
    return note_watch(w, wd, rel);
}

static wdir *find_dir(const watcher *w, int wd)
{
    size_t i;
    for (i = 0; i < w->ndirs; i++)
        if (w->dirs[i].wd == wd)
            return &w->dirs[i];
    return NULL;
}

static const char *dir_of(const watcher *w, int wd)
{
    const wdir *d = find_dir(w, wd);
    return d ? d->rel : NULL;
}

static void drop_dir(watcher *w, int wd)
{
    size_t i;
    for (i = 0; i < w->ndirs; i++)
        if (w->dirs[i].wd == wd) {
            sl_free(w->dirs[i].rel);
            w->dirs[i] = w->dirs[--w->ndirs];
            return;
        }
}

/* True when rel is dir or lies below it. */
static bool under(const char *rel, const char *dir)
{
    size_t n = strlen(dir);
    return strncmp(rel, dir, n) == 0 && (rel[n] == '/' || rel[n] == '\0');
}

/* A directory moved out or deleted: its files and watches go. */
static void forget_tree(watcher *w, const char *dir)
{
    size_t i;
    fentry *e, *next;
    for (i = 0; i < w->files.nbuckets; i++)
        for (e = w->files.buckets[i]; e; e = next) {
            next = e->next;
            if (under(e->rel, dir))
                sl__ftab_remove(&w->files, e);
        }
    for (i = 0; i < w->ndirs;) {
        if (under(w->dirs[i].rel, dir)) {
            inotify_rm_watch(w->fd, w->dirs[i].wd);
            sl_free(w->dirs[i].rel);
            w->dirs[i] = w->dirs[--w->ndirs];
        } else {
            i++;
        }
    }
}

/* A subtree that could not be listed keeps what the table knows of it. */
static void keep_tree(watcher *w, const char *dir)
{
    size_t i;
    fentry *e;
    for (i = 0; i < w->files.nbuckets; i++)
        for (e = w->files.buckets[i]; e; e = e->next)
            if (under(e->rel, dir))
                e->listed = true;
}

/* ----------------------------------------------------------- listings */

static void set_stat(fentry *e, const struct stat *st)
{
    e->size = (int64_t)st->st_size;
    e->mtime_ns =
        (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
    e->ino = (uint64_t)st->st_ino;
    e->dev = (uint64_t)st->st_dev;
}

/*
 * One listed file. At the start listing, files already there are ignored
 * (or, with include_existing, taken once they are stable); later listings
 * find new files, complete once stable for one batch (poll) or at once
 * when they came with a directory moved in (inotify).
 */
static sl_status listed_file(watcher *w, const char *rel, const struct stat *st,
                             int64_t now_ms, bool complete)
{
    int64_t mt = (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
    bool created;
    fentry *e = sl__ftab_get(&w->files, rel, &created);
    if (!e)
        return SL_ENOMEM;
    e->listed = true;
    e->stat_err = 0; /* it could be looked at after all */
    if (!created && (e->state == F_TAKEN || e->state == F_IGNORED) &&
        (e->ino != (uint64_t)st->st_ino || e->dev != (uint64_t)st->st_dev)) {
        /* Another file under the same name (renamed over it). A file
         * written again in place keeps its inode and is not read again. */
        created = true;
    }
    if (created) {
        e->found_ms = now_ms;
        e->writing = false;
        set_stat(e, st);
        if (!w->started)
            /* There at start: ignored, or taken once seen stable. */
            e->state = w->include_existing ? F_PENDING : F_IGNORED;
        else if (w->after_overflow &&
                 mt / 1000000 < sl__now_wall_ms() - w->max_age_ms) {
            /* Found again after an inotify overflow, but older than what
             * the table remembers: taken or ignored long ago. */
            sl_context_log(w->ctx, SL_LOG_INFO,
                           "directory source %s: not taking '%s' after the "
                           "overflow: older than file.max_file_age",
                           w->root, rel);
            e->state = F_IGNORED;
        } else
            e->state = complete ? F_READY : F_PENDING;
        return SL_OK;
    }
    if (e->state == F_PENDING && !e->writing) {
        if (e->size == (int64_t)st->st_size && e->mtime_ns == mt)
            e->state = F_READY; /* unchanged for one batch */
        else
            set_stat(e, st);
    }
    return SL_OK;
}

static sl_status list_dir(watcher *w, const char *rel, int64_t now_ms,
                          bool complete, int depth);

/* Reported once per watcher: a listing at every batch would repeat it. */
static void too_deep(watcher *w, const char *rel)
{
    if (w->deep_warned)
        return;
    w->deep_warned = true;
    sl_context_log(w->ctx, SL_LOG_WARN,
                   "directory source %s: not watching '%s' nor anything "
                   "below it: deeper than %d levels below the watched "
                   "directory (only the first such directory is reported)",
                   w->root, rel, MAX_DEPTH);
}

/* A subdirectory rel, depth levels below the root: watch and list it. */
static sl_status enter_dir(watcher *w, const char *rel, int64_t now_ms,
                           bool complete, int depth)
{
    sl_status st = SL_OK;
    if (depth > MAX_DEPTH) {
        too_deep(w, rel);
        return SL_OK;
    }
    if (w->fd >= 0)
        st = add_watch(w, rel);
    if (st == SL_OK || st == SL_EIO)
        st = list_dir(w, rel, now_ms, complete, depth);
    return st;
}

/* The number of levels of rel below the root ("a/b": 2). */
static int depth_of(const char *rel)
{
    int n = 1;
    for (; *rel; rel++)
        n += *rel == '/';
    return n;
}

static sl_status list_dir(watcher *w, const char *rel, int64_t now_ms,
                          bool complete, int depth)
{
    char *full = sl__file_join(w->root, rel);
    struct dirent *de;
    sl_status st = SL_OK;
    DIR *d;
    int dfd;

    if (!full)
        return SL_ENOMEM;
    d = opendir(full);
    sl_free(full);
    if (!d) {
        int e = errno;
        if (!*rel) {
            w->list_err = e; /* relist reports it, once */
            return SL_EIO;
        }
        if (e != ENOENT) { /* a subdirectory may vanish meanwhile */
            sl_context_log(w->ctx, SL_LOG_WARN,
                           "directory source %s: cannot list '%s': %s", w->root,
                           rel, SL__STRERROR(e));
            keep_tree(w, rel);
        }
        return SL_OK;
    }
    dfd = dirfd(d);
    while (st == SL_OK && (de = readdir(d)) != NULL) {
        struct stat sb;
        char *child;
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        /* Symbolic links are not followed (no loops, and inotify would
         * never see their targets complete). */
        if (fstatat(dfd, de->d_name, &sb, AT_SYMLINK_NOFOLLOW) != 0)
            continue; /* gone since readdir */
        if (!(child = sl__file_join(rel, de->d_name))) {
            st = SL_ENOMEM;
            break;
        }
        if (S_ISDIR(sb.st_mode)) {
            if (w->recursive && !sl__watch_hidden(de->d_name))
                st = enter_dir(w, child, now_ms, complete, depth + 1);
        } else if (S_ISREG(sb.st_mode) && wanted(w, child)) {
            st = listed_file(w, child, &sb, now_ms, complete);
        }
        sl_free(child);
    }
    closedir(d);
    return st;
}

/*
 * The root could not be listed (deleted, renamed away, unreadable): said
 * once, not at every batch, until it lists again or fails otherwise.
 */
static void root_unlisted(watcher *w)
{
    if (w->root_err == w->list_err)
        return;
    w->root_err = w->list_err;
    sl_context_log(w->ctx, SL_LOG_WARN,
                   "directory source %s: cannot list the directory: %s; "
                   "trying again at every batch",
                   w->root, SL__STRERROR(w->list_err));
}

/* A full listing; files not listed any more are forgotten. */
static sl_status relist(watcher *w, int64_t now_ms)
{
    size_t i;
    fentry *e, *next;
    sl_status st;
    for (i = 0; i < w->files.nbuckets; i++)
        for (e = w->files.buckets[i]; e; e = e->next)
            e->listed = false;
    st = list_dir(w, "", now_ms, false, 0);
    if (st == SL_EIO) {
        root_unlisted(w);
        /* Nothing changes until it lists again. */
        return w->started ? SL_OK : SL_EIO;
    }
    if (st != SL_OK)
        return st;
    if (w->root_err) {
        sl_context_log(w->ctx, SL_LOG_INFO,
                       "directory source %s: the directory can be listed "
                       "again",
                       w->root);
        w->root_err = 0;
    }
    for (i = 0; i < w->files.nbuckets; i++)
        for (e = w->files.buckets[i]; e; e = next) {
            next = e->next;
            if (!e->listed)
                sl__ftab_remove(&w->files, e);
        }
    return SL_OK;
}

/* -------------------------------------------------------------- events */

/*
 * The root's watch is gone (deleted, renamed away, unmounted). The source
 * follows the path, not the directory: every watch goes, and the files not
 * taken yet go with the directory. Taken and ignored ones stay, by inode,
 * so that the same directory moved back is not read again. From the next
 * update on, find_root looks for a directory at the path.
 */
static void lose_root(watcher *w, const char *why)
{
    size_t i;
    fentry *e, *next;
    sl_context_log(w->ctx, SL_LOG_WARN,
                   "directory source %s: the directory was %s; files are "
                   "read again once a directory is at this path (looked for "
                   "at every batch)",
                   w->root, why);
    for (i = 0; i < w->ndirs; i++) {
        inotify_rm_watch(w->fd, w->dirs[i].wd); /* may be gone: fine */
        sl_free(w->dirs[i].rel);
    }
    w->ndirs = 0;
    for (i = 0; i < w->files.nbuckets; i++)
        for (e = w->files.buckets[i]; e; e = next) {
            next = e->next;
            if (e->state == F_PENDING || e->state == F_READY)
                sl__ftab_remove(&w->files, e);
        }
    w->nretry = 0;
    w->root_lost = true;
}

/*
 * An event about a watched directory itself. A subdirectory deleted or
 * moved is forgotten by its parent's event (IN_DELETE, IN_MOVED_FROM); one
 * whose watch went without such an event (unmounted) is listed again.
 */
static sl_status on_self_event(watcher *w, const struct inotify_event *ev)
{
    wdir *d = find_dir(w, ev->wd);
    if (!d)
        return SL_OK; /* a watch dropped already */
    if (!*d->rel) {
        lose_root(w, (ev->mask & IN_DELETE_SELF) ? "deleted"
                     : (ev->mask & IN_MOVE_SELF) ? "renamed or moved away"
                     : (ev->mask & IN_UNMOUNT)   ? "unmounted"
                                                 : "no longer watched");
        return SL_OK;
    }
    if (ev->mask & IN_DELETE_SELF)
        d->gone = true;
    if ((ev->mask & IN_UNMOUNT) || ((ev->mask & IN_IGNORED) && !d->gone)) {
        sl_context_log(w->ctx, SL_LOG_WARN,
                       "directory source %s: lost the watch of '%s' (%s); "
                       "listing the directory again",
                       w->root, d->rel,
                       (ev->mask & IN_UNMOUNT) ? "unmounted" : "removed");
        inotify_rm_watch(w->fd, ev->wd);
        drop_dir(w, ev->wd);
        w->relist = 2; /* one to watch and find, one to see them stable */
    } else if (ev->mask & IN_IGNORED) {
        drop_dir(w, ev->wd);
    }
    return SL_OK;
}

/* A file an event named cannot be looked at (its directory unreadable):
 * it waits, and is looked at again at every batch. Said once per file. */
static void unreachable(watcher *w, fentry *e, int err)
{
    if (!e->stat_err) {
        sl_context_log(w->ctx, SL_LOG_WARN,
                       "directory source %s: cannot look at '%s': %s; "
                       "trying again at every batch",
                       w->root, e->rel, SL__STRERROR(err));
        w->nretry++;
    }
    e->stat_err = err;
    e->state = F_PENDING;
}

/* IN_CREATE or IN_MOVED_TO of a file: a new file under this name, whatever
 * was there before; only regular files (not links, fifos...). */
static sl_status on_new_file(watcher *w, const char *rel, uint32_t mask,
                             int64_t now_ms)
{
    struct stat sb;
    char *full = sl__file_join(w->root, rel);
    bool created;
    fentry *e;
    int err = 0;
    if (!full)
        return SL_ENOMEM;
    if (lstat(full, &sb) != 0)
        err = errno;
    sl_free(full);
    if (err == ENOENT || err == ENOTDIR || (!err && !S_ISREG(sb.st_mode))) {
        if ((e = sl__ftab_find(&w->files, rel)))
            sl__ftab_remove(&w->files, e);
        return SL_OK;
    }
    if (!(e = sl__ftab_get(&w->files, rel, &created)))
        return SL_ENOMEM;
    e->found_ms = now_ms;
    e->writing = (mask & IN_CREATE) != 0;
    e->complete = (mask & IN_MOVED_TO) != 0;
    if (err) {
        unreachable(w, e, err);
        return SL_OK;
    }
    e->stat_err = 0;
    e->state = e->complete ? F_READY : F_PENDING;
    set_stat(e, &sb);
    return SL_OK;
}

/* IN_CLOSE_WRITE of a file the table has PENDING: complete. Only files the
 * table knows: one taken (or ignored) and then written in place is not
 * read again, as Spark's file source does not re-read it, even once the
 * table forgot it. */
static sl_status on_closed(watcher *w, fentry *e)
{
    struct stat sb;
    char *full = sl__file_join(w->root, e->rel);
    if (!full)
        return SL_ENOMEM;
    e->writing = false;
    e->complete = true;
    if (stat(full, &sb) == 0) {
        e->stat_err = 0;
        e->state = F_READY;
        set_stat(e, &sb);
    } else if (errno != ENOENT) {
        unreachable(w, e, errno);
    } else if (!e->stat_err) {
        e->state = F_READY; /* deleted: its IN_DELETE follows */
    }
    sl_free(full);
    return SL_OK;
}

/* An event about a directory below a watched one. */
static sl_status on_dir_event(watcher *w, const char *rel, uint32_t mask,
                              int64_t now_ms)
{
    sl_status st = SL_OK;
    if (mask & (IN_MOVED_FROM | IN_DELETE)) {
        forget_tree(w, rel);
    } else if (w->recursive && !sl__watch_hidden(base_name(rel)) &&
               (mask & (IN_CREATE | IN_MOVED_TO))) {
        /* Files of a directory moved in are complete. A new one may have
         * had files written and closed before its watch existed: two more
         * listings find them and see them stable. */
        st =
            enter_dir(w, rel, now_ms, (mask & IN_MOVED_TO) != 0, depth_of(rel));
        if (mask & IN_CREATE)
            w->relist_next = 1; /* next batch: see them stable */
    }
    return st;
}

static sl_status on_event(watcher *w, const struct inotify_event *ev,
                          int64_t now_ms)
{
    const char *dir;
    char *rel;
    fentry *e;
    sl_status st = SL_OK;

    if (ev->mask & IN_Q_OVERFLOW) {
        sl_context_log(w->ctx, SL_LOG_WARN,
                       "directory source %s: inotify queue overflow; "
                       "listing the directory",
                       w->root);
        w->relist = 2; /* one to find, one to see them stable */
        w->after_overflow = true;
        return SL_OK;
    }
    if (ev->mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF | IN_UNMOUNT))
        return on_self_event(w, ev);
    if (!ev->len || !(dir = dir_of(w, ev->wd)))
        return SL_OK;
    if (!(rel = sl__file_join(dir, ev->name)))
        return SL_ENOMEM;
    if (ev->mask & IN_ISDIR)
        st = on_dir_event(w, rel, ev->mask, now_ms);
    else if (!wanted(w, rel))
        st = SL_OK;
    else if (ev->mask & (IN_DELETE | IN_MOVED_FROM)) {
        if ((e = sl__ftab_find(&w->files, rel)))
            sl__ftab_remove(&w->files, e);
    } else if (ev->mask & (IN_CREATE | IN_MOVED_TO)) {
        st = on_new_file(w, rel, ev->mask, now_ms);
    } else if (ev->mask & IN_MODIFY) {
        if ((e = sl__ftab_find(&w->files, rel)) && e->state == F_PENDING)
            e->writing = true;
    } else if ((ev->mask & IN_CLOSE_WRITE) &&
               (e = sl__ftab_find(&w->files, rel)) && e->state == F_PENDING) {
        st = on_closed(w, e);
    }
    sl_free(rel);
    return st;
}

static sl_status drain_events(watcher *w, int64_t now_ms)
{
    char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
    for (;;) {
        ssize_t n = read(w->fd, buf, sizeof buf);
        char *p;
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN)
                return SL_OK;
            sl_context_log(w->ctx, SL_LOG_ERROR,
                           "directory source %s: reading inotify events: %s",
                           w->root, SL__STRERROR(errno));
            return SL_EIO;
        }
        for (p = buf; p < buf + n;) {
            const struct inotify_event *ev = (const void *)p;
            sl_status st = on_event(w, ev, now_ms);
            if (st != SL_OK) {
                w->relist = 2; /* the events left are lost: list again */
                return st;
            }
            p += sizeof *ev + ev->len;
        }
    }
}

/* ------------------------------------------------- the root, and retries */

/*
 * inotify, the root lost: a directory at the path again is watched and
 * listed (twice: one to find its files, one to see them stable). Stat
 * before the watch: if the path changes in between, check_root sees a
 * directory other than the one recorded and starts again.
 */
static sl_status find_root(watcher *w)
{
    struct stat sb;
    sl_status st;
    int wd, e;
    if (stat(w->root, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return SL_OK; /* not back yet */
    if ((wd = inotify_add_watch(w->fd, w->root, WATCH_MASK)) < 0) {
        e = errno;
        if (e == ENOMEM)
            return SL_ENOMEM;
        if (e != w->root_err)
            sl_context_log(w->ctx, SL_LOG_WARN,
                           "directory source %s: a directory is at the path "
                           "again but cannot be watched: %s; trying again at "
                           "every batch",
                           w->root, SL__STRERROR(e));
        w->root_err = e;
        return SL_OK;
    }
    if ((st = note_watch(w, wd, "")) != SL_OK) {
        inotify_rm_watch(w->fd, wd);
        return st;
    }
    sl_context_log(w->ctx, SL_LOG_INFO,
                   "directory source %s: a directory is at the path again; "
                   "watching and listing it",
                   w->root);
    w->root_dev = (uint64_t)sb.st_dev;
    w->root_ino = (uint64_t)sb.st_ino;
    w->root_lost = false;
    w->root_err = 0;
    w->relist = 2;
    return SL_OK;
}

/* inotify: the path may lead elsewhere without an event on the root (a
 * parent directory renamed, or the root renamed over): one stat a batch. */
static void check_root(watcher *w)
{
    struct stat sb;
    char why[128];
    if (stat(w->root, &sb) != 0)
        snprintf(why, sizeof why, "not found at its path (%s)",
                 SL__STRERROR(errno));
    else if (!S_ISDIR(sb.st_mode) || (uint64_t)sb.st_dev != w->root_dev ||
             (uint64_t)sb.st_ino != w->root_ino)
        snprintf(why, sizeof why, "replaced by another at its path");
    else
        return;
    lose_root(w, why);
}

/* A file waiting to be looked at: the directory readable again, or not. */
static sl_status look_again(watcher *w, fentry *e)
{
    struct stat sb;
    char *full = sl__file_join(w->root, e->rel);
    int rc, err;
    if (!full)
        return SL_ENOMEM;
    rc = lstat(full, &sb);
    err = errno;
    sl_free(full);
    if (rc == 0 && S_ISREG(sb.st_mode)) {
        sl_context_log(w->ctx, SL_LOG_INFO,
                       "directory source %s: can look at '%s' again", w->root,
                       e->rel);
        set_stat(e, &sb);
        e->stat_err = 0;
        e->state = e->complete && !e->writing ? F_READY : F_PENDING;
    } else if (rc == 0 || err == ENOENT || err == ENOTDIR) {
        sl_context_log(w->ctx, SL_LOG_INFO,
                       "directory source %s: '%s' went away before it could "
                       "be looked at",
                       w->root, e->rel);
        sl__ftab_remove(&w->files, e);
    } else {
        e->stat_err = err;
    }
    return SL_OK;
}

static sl_status retry_unreachable(watcher *w)
{
    size_t i, waiting = 0;
    fentry *e, *next;
    sl_status st;
    for (i = 0; i < w->files.nbuckets; i++)
        for (e = w->files.buckets[i]; e; e = next) {
            next = e->next;
            if (e->stat_err && e->state != F_PENDING)
                e->stat_err = 0; /* dropped as too old meanwhile */
            if (!e->stat_err)
                continue;
            if ((st = look_again(w, e)) != SL_OK)
                return st;
            waiting += e->stat_err != 0;
        }
    w->nretry = waiting;
    return SL_OK;
}

/* ---------------------------------------------------------- interface */

sl_status sl__watch_open(watcher *w, char *err, size_t errlen)
{
    struct stat sb;
    w->fd = -1;
    if (stat(w->root, &sb) != 0)
        return sl__errbuf(err, errlen, SL_EIO, "directory '%s': %s", w->root,
                          SL__STRERROR(errno));
    if (!S_ISDIR(sb.st_mode))
        return sl__errbuf(err, errlen, SL_EINVAL, "'%s' is not a directory",
                          w->root);
    w->root_dev = (uint64_t)sb.st_dev;
    w->root_ino = (uint64_t)sb.st_ino;
    if (w->mode != WATCH_POLL) {
        sl_status st;
        int e;
        w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        e = errno;
        st = w->fd < 0 ? SL_EIO : add_watch(w, "");
        if (w->fd >= 0)
            e = errno;
        if (st != SL_OK) {
            if (w->fd >= 0)
                close(w->fd);
            w->fd = -1;
            if (w->mode == WATCH_INOTIFY)
                return sl__errbuf(err, errlen, SL_EIO,
                                  "directory '%s': inotify: %s", w->root,
                                  SL__STRERROR(e));
            sl_context_log(w->ctx, SL_LOG_WARN,
                           "directory source %s: inotify unavailable (%s); "
                           "listing at every batch",
                           w->root, SL__STRERROR(e));
        }
    }
    /* The listing at start, then (with include_existing) one more to see
     * the existing files stable before they are taken. */
    w->relist = w->include_existing ? 2 : 1;
    return SL_OK;
}

/* inotify: events, then the root (lost or replaced), then the files an
 * event named that could not be looked at. */
static sl_status update_events(watcher *w, int64_t now_ms)
{
    sl_status st;
    if ((st = drain_events(w, now_ms)) != SL_OK)
        return st;
    if (w->started && !w->root_lost)
        check_root(w);
    if (w->root_lost && (st = find_root(w)) != SL_OK)
        return st;
    return w->nretry ? retry_unreachable(w) : SL_OK;
}

sl_status sl__watch_update(watcher *w, int64_t now_ms)
{
    sl_status st;
    if (w->fd >= 0 && (st = update_events(w, now_ms)) != SL_OK)
        return st;
    if ((w->fd < 0 || w->relist > 0) && !w->root_lost) {
        /* The start listing: files there now are the "existing" ones. */
        if ((st = relist(w, now_ms)) != SL_OK)
            return st;
        if (w->relist > 0 && !w->root_err)
            w->relist--; /* a root that could not be listed: again */
        w->started = true;
        w->after_overflow = false;
    }
    /* Listings asked for by this batch's events run from the next batch
     * on: one now would see files unchanged microseconds later. */
    if (w->relist_next > w->relist)
        w->relist = w->relist_next;
    w->relist_next = 0;
    return SL_OK;
}

void sl__watch_close(watcher *w)
{
    size_t i;
    if (w->fd >= 0)
        close(w->fd);
    w->fd = -1;
    for (i = 0; i < w->ndirs; i++)
        sl_free(w->dirs[i].rel);
    sl_free(w->dirs);
    w->dirs = NULL;
    w->ndirs = 0;
    sl__ftab_free(&w->files);
}
