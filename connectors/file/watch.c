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

static sl_status add_watch(watcher *w, const char *rel)
{
    uint32_t mask = IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_MODIFY |
                    IN_DELETE | IN_MOVED_FROM | IN_DELETE_SELF | IN_ONLYDIR;
    char *full = sl__file_join(w->root, rel);
    wdir *d;
    size_t i;
    int wd;
    if (!full)
        return SL_ENOMEM;
    wd = inotify_add_watch(w->fd, full, mask);
    sl_free(full);
    if (wd < 0) {
        int e = errno;
        sl_context_log(w->ctx, SL_LOG_WARN,
                       "directory source %s: cannot watch '%s': %s", w->root,
                       *rel ? rel : ".", strerror(e));
        return e == ENOMEM ? SL_ENOMEM : SL_EIO;
    }
    for (i = 0; i < w->ndirs; i++)
        if (w->dirs[i].wd == wd) {
            /* Watched already, under another name: it was moved. */
            char *name = sl__strdup(rel);
            if (!name)
                return SL_ENOMEM;
            sl_free(w->dirs[i].rel);
            w->dirs[i].rel = name;
            return SL_OK;
        }
    if (!(d = sl_realloc(w->dirs, (w->ndirs + 1) * sizeof *d)))
        return SL_ENOMEM;
    w->dirs = d;
    d[w->ndirs].wd = wd;
    if (!(d[w->ndirs].rel = sl__strdup(rel)))
        return SL_ENOMEM;
    w->ndirs++;
    return SL_OK;
}

static const char *dir_of(const watcher *w, int wd)
{
    size_t i;
    for (i = 0; i < w->ndirs; i++)
        if (w->dirs[i].wd == wd)
            return w->dirs[i].rel;
    return NULL;
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
        if (e != ENOENT) { /* a subdirectory may vanish meanwhile */
            sl_context_log(w->ctx, SL_LOG_WARN,
                           "directory source %s: cannot list '%s': %s", w->root,
                           *rel ? rel : ".", strerror(e));
            keep_tree(w, rel);
        }
        return *rel ? SL_OK : SL_EIO;
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
            if (w->recursive && !sl__watch_hidden(de->d_name) && depth < 64) {
                if (w->fd >= 0)
                    st = add_watch(w, child);
                if (st == SL_OK || st == SL_EIO)
                    st = list_dir(w, child, now_ms, complete, depth + 1);
            }
        } else if (S_ISREG(sb.st_mode) && wanted(w, child)) {
            st = listed_file(w, child, &sb, now_ms, complete);
        }
        sl_free(child);
    }
    closedir(d);
    return st;
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
    if (st == SL_EIO && w->started)
        return SL_OK; /* logged; nothing changes until it lists again */
    if (st != SL_OK)
        return st;
    for (i = 0; i < w->files.nbuckets; i++)
        for (e = w->files.buckets[i]; e; e = next) {
            next = e->next;
            if (!e->listed)
                sl__ftab_remove(&w->files, e);
        }
    return SL_OK;
}

/* -------------------------------------------------------------- events */

static sl_status on_event(watcher *w, const struct inotify_event *ev,
                          int64_t now_ms)
{
    const char *dir;
    char *rel;
    fentry *e;
    bool created;
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
    if (ev->mask & (IN_IGNORED | IN_DELETE_SELF)) {
        if (!(dir = dir_of(w, ev->wd)))
            return SL_OK;
        if (!*dir && (ev->mask & IN_DELETE_SELF))
            sl_context_log(w->ctx, SL_LOG_ERROR,
                           "directory source %s: the directory was removed",
                           w->root);
        if (ev->mask & IN_IGNORED)
            drop_dir(w, ev->wd);
        return SL_OK;
    }
    if (!ev->len || !(dir = dir_of(w, ev->wd)))
        return SL_OK;
    if (!(rel = sl__file_join(dir, ev->name)))
        return SL_ENOMEM;
    if (ev->mask & IN_ISDIR) {
        if (ev->mask & (IN_MOVED_FROM | IN_DELETE)) {
            forget_tree(w, rel);
        } else if (w->recursive && !sl__watch_hidden(ev->name) &&
                   (ev->mask & (IN_CREATE | IN_MOVED_TO))) {
            st = add_watch(w, rel);
            /* Files of a directory moved in are complete. A new one may
             * have had files written and closed before its watch existed:
             * two more listings find them and see them stable. */
            if (st == SL_OK || st == SL_EIO)
                st = list_dir(w, rel, now_ms, (ev->mask & IN_MOVED_TO) != 0, 1);
            if (ev->mask & IN_CREATE)
                w->relist_next = 1; /* next batch: see them stable */
        }
        sl_free(rel);
        return st;
    }
    if (!wanted(w, rel)) {
        sl_free(rel);
        return SL_OK;
    }
    if (ev->mask & (IN_DELETE | IN_MOVED_FROM)) {
        if ((e = sl__ftab_find(&w->files, rel)))
            sl__ftab_remove(&w->files, e);
    } else if (ev->mask & (IN_CREATE | IN_MOVED_TO)) {
        /* A new file under this name, whatever was there before; only
         * regular files (not links, fifos...). */
        struct stat sb;
        char *full = sl__file_join(w->root, rel);
        if (!full) {
            sl_free(rel);
            return SL_ENOMEM;
        }
        if (lstat(full, &sb) != 0 || !S_ISREG(sb.st_mode)) {
            if ((e = sl__ftab_find(&w->files, rel)))
                sl__ftab_remove(&w->files, e);
        } else if (!(e = sl__ftab_get(&w->files, rel, &created))) {
            sl_free(full);
            sl_free(rel);
            return SL_ENOMEM;
        } else {
            e->found_ms = now_ms;
            e->writing = (ev->mask & IN_CREATE) != 0;
            e->state = (ev->mask & IN_MOVED_TO) ? F_READY : F_PENDING;
            set_stat(e, &sb);
        }
        sl_free(full);
    } else if (ev->mask & IN_MODIFY) {
        if ((e = sl__ftab_find(&w->files, rel)) && e->state == F_PENDING)
            e->writing = true;
    } else if ((ev->mask & IN_CLOSE_WRITE) &&
               (e = sl__ftab_find(&w->files, rel)) && e->state == F_PENDING) {
        /* Complete. Only files the table knows: one taken (or ignored)
         * and then written in place is not read again, as Spark's file
         * source does not re-read it, even once the table forgot it. */
        struct stat sb;
        char *full = sl__file_join(w->root, rel);
        if (!full) {
            sl_free(rel);
            return SL_ENOMEM;
        }
        e->writing = false;
        e->state = F_READY;
        if (stat(full, &sb) == 0)
            set_stat(e, &sb);
        sl_free(full);
    }
    sl_free(rel);
    return SL_OK;
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
                           w->root, strerror(errno));
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

/* ---------------------------------------------------------- interface */

sl_status sl__watch_open(watcher *w, char *err, size_t errlen)
{
    struct stat sb;
    w->fd = -1;
    if (stat(w->root, &sb) != 0)
        return sl__errbuf(err, errlen, SL_EIO, "directory '%s': %s", w->root,
                          strerror(errno));
    if (!S_ISDIR(sb.st_mode))
        return sl__errbuf(err, errlen, SL_EINVAL, "'%s' is not a directory",
                          w->root);
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
                                  strerror(e));
            sl_context_log(w->ctx, SL_LOG_WARN,
                           "directory source %s: inotify unavailable (%s); "
                           "listing at every batch",
                           w->root, strerror(e));
        }
    }
    /* The listing at start, then (with include_existing) one more to see
     * the existing files stable before they are taken. */
    w->relist = w->include_existing ? 2 : 1;
    return SL_OK;
}

sl_status sl__watch_update(watcher *w, int64_t now_ms)
{
    sl_status st;
    if (w->fd >= 0 && (st = drain_events(w, now_ms)) != SL_OK)
        return st;
    if (w->fd < 0 || w->relist > 0) {
        /* The start listing: files there now are the "existing" ones. */
        if ((st = relist(w, now_ms)) != SL_OK)
            return st;
        if (w->relist > 0)
            w->relist--;
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
