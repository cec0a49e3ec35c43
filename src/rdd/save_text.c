/*
 * save_as_text_file: an RDD as a directory of part-NNNNN text files and an
 * empty _SUCCESS, and the replay-safe form the streaming save_as_text_files
 * uses: written under a hidden staging name, then renamed into place, so a
 * re-run batch replaces its own output and no reader sees half of it.
 */
#include "rdd/rdd_int.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define STAGING_PREFIX "."
#define STAGING_SUFFIX ".sluice-staging"

typedef struct save_ctx {
    const char *dir;
} save_ctx;

static sl_status write_record(FILE *f, const sl_value *v)
{
    char buf[512], *big;
    size_t n = sl_value_format(v, buf, sizeof buf);
    if (n < sizeof buf)
        return fwrite(buf, 1, n, f) == n && putc('\n', f) != EOF ? SL_OK
                                                                 : SL_EIO;
    big = sl_malloc(n + 1);
    if (!big)
        return SL_ENOMEM;
    sl_value_format(v, big, n + 1);
    n = fwrite(big, 1, n, f) == n && putc('\n', f) != EOF;
    sl_free(big);
    return n ? SL_OK : SL_EIO;
}

/* Flushed and fsynced before it counts: the rename that publishes the
 * directory must not publish files a crash could still empty. */
static sl_status close_part(FILE *f, sl_status st)
{
    if (st == SL_OK && (fflush(f) != 0 || fsync(fileno(f)) != 0))
        st = SL_EIO;
    if (fclose(f) != 0 && st == SL_OK)
        st = SL_EIO;
    return st;
}

static sl_status save_part(sl_task *t, sl_iter *it, void *user)
{
    const save_ctx *c = user;
    char path[PATH_MAX];
    sl_value v;
    sl_status st = SL_OK;
    int n = snprintf(path, sizeof path, "%s/part-%05zu", c->dir,
                     sl_task_partition(t));
    FILE *f;

    /* A cut path would write somewhere else: refuse it by name. */
    if (n < 0 || (size_t)n >= sizeof path)
        return sl__task_fail(t, SL_EINVAL,
                             "path of part %zu longer than PATH_MAX (%d "
                             "bytes) in %s",
                             sl_task_partition(t), PATH_MAX - 1, c->dir);
    f = fopen(path, "we");
    if (!f)
        return sl__task_fail(t, SL_EIO, "cannot create %s: %s", path,
                             SL__STRERROR(errno));
    while (st == SL_OK && sl_iter_next(it, &v))
        st = write_record(f, &v);
    if ((st = close_part(f, st)) != SL_OK)
        return sl__task_fail(t, st, "cannot write %s: %s", path,
                             SL__STRERROR(errno));
    return SL_OK;
}

/* The parts and _SUCCESS into the existing, empty directory dir. */
static sl_status save_into(sl_rdd *r, const char *dir)
{
    save_ctx c = {dir};
    char marker[PATH_MAX];
    sl_status st;
    FILE *f;

    if ((st = sl_rdd_foreach_partition(r, save_part, &c)) != SL_OK)
        return st;
    snprintf(marker, sizeof marker, "%s/_SUCCESS", dir);
    f = fopen(marker, "we");
    if (!f || close_part(f, SL_OK) != SL_OK) {
        sl__engine_set_error(r->eng, "cannot create %s: %s", marker,
                             SL__STRERROR(errno));
        return SL_EIO;
    }
    return SL_OK;
}

/* Lengths first: PATH_MAX for the directory and its part files, NAME_MAX
 * for its last component with the staging decoration (extra bytes). */
static sl_status check_lengths(sl_engine *eng, const char *path, size_t extra)
{
    const char *slash = strrchr(path, '/');
    size_t base = strlen(slash ? slash + 1 : path);

    /* "/part-NNNNN" and "/_SUCCESS" must fit after the staging name. */
    if (strlen(path) + extra + sizeof "/part-00000" > PATH_MAX) {
        sl__engine_set_error(eng,
                             "part file paths longer than PATH_MAX (%d "
                             "bytes) in %s",
                             PATH_MAX - 1, path);
        return SL_EINVAL;
    }
    if (base + extra > NAME_MAX) {
        sl__engine_set_error(eng,
                             "a name of %zu bytes, with %zu more for the "
                             "staging name, is longer than NAME_MAX (%d "
                             "bytes): %s",
                             base, extra, NAME_MAX, path);
        return SL_EINVAL;
    }
    return SL_OK;
}

sl_status sl_rdd_save_as_text_file(sl_rdd *r, const char *path)
{
    sl_status st;

    if (!r || !path)
        return SL_EINVAL;
    if ((st = check_lengths(r->eng, path, 0)) != SL_OK)
        return st;
    if (mkdir(path, 0777) != 0) {
        sl__engine_set_error(r->eng, "cannot create directory %s: %s", path,
                             SL__STRERROR(errno));
        return SL_EIO;
    }
    return save_into(r, path);
}

/* ------------------------------------------------------ replay-safe */

static int remove_entry(const char *p, const struct stat *sb, int type,
                        struct FTW *ftw)
{
    (void)sb;
    (void)ftw;
    return type == FTW_DP ? rmdir(p) : unlink(p);
}

/* rm -r: a staging directory left by a crash, or the replaced output. */
static int remove_tree(const char *dir)
{
    int rc = nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    return rc != 0 && errno == ENOENT ? 0 : rc;
}

/* "DIR/.BASE.sluice-staging" for "DIR/BASE" (lengths checked before). */
static void staging_path(const char *path, char *out, size_t n)
{
    const char *slash = strrchr(path, '/');
    int dirlen = slash ? (int)(slash - path + 1) : 0;

    snprintf(out, n, "%.*s" STAGING_PREFIX "%s" STAGING_SUFFIX, dirlen, path,
             slash ? slash + 1 : path);
}

/* fsync a directory, so that the names in it (or a rename) last: 0 or
 * the errno. Some file systems refuse fsync on directories (EINVAL): that
 * is no failure. Any other error is, since the batch's commit entry
 * follows and would count output a crash could still lose. */
static int sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), e = 0;

    if (fd < 0) /* a directory we may write but not read: as before */
        return errno == EACCES ? 0 : errno;
    if (fsync(fd) != 0 && errno != EINVAL)
        e = errno;
    close(fd);
    return e;
}

static int sync_parent(const char *path)
{
    const char *slash = strrchr(path, '/');
    char dir[PATH_MAX];

    if (!slash)
        return sync_dir(".");
    if (slash == path)
        return sync_dir("/");
    snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    return sync_dir(dir);
}

/*
 * Put the staged directory in place of path. A first run renames it; a
 * re-run swaps it with the old output atomically (RENAME_EXCHANGE) and
 * removes the old one, now under the staging name. Where the file system
 * cannot swap, the old output is removed first: a crash in between leaves
 * no directory, never a half one, and the next run writes it again.
 */
static sl_status publish(sl_engine *eng, const char *staging, const char *path)
{
    if (rename(staging, path) == 0)
        return SL_OK;
    if (errno != EEXIST && errno != ENOTEMPTY)
        goto fail;
    if (renameat2(AT_FDCWD, staging, AT_FDCWD, path, RENAME_EXCHANGE) == 0) {
        /* The new output is in place; an old one left behind is hidden
         * and removed by the next run of this batch. */
        if (remove_tree(staging) != 0)
            sl__log(&eng->log, SL_LOG_WARN,
                    "cannot remove the replaced output %s: %s", staging,
                    SL__STRERROR(errno));
        return SL_OK;
    }
    if (errno != EINVAL && errno != ENOSYS)
        goto fail;
    if (remove_tree(path) != 0 || rename(staging, path) != 0)
        goto fail;
    return SL_OK;
fail:
    sl__engine_set_error(eng, "cannot move %s into place as %s: %s", staging,
                         path, SL__STRERROR(errno));
    return SL_EIO;
}

sl_status sl__rdd_save_text_replace(sl_rdd *r, const char *path)
{
    char staging[PATH_MAX];
    sl_status st;
    int e;

    st = check_lengths(r->eng, path,
                       sizeof STAGING_PREFIX + sizeof STAGING_SUFFIX - 2);
    if (st != SL_OK)
        return st;
    staging_path(path, staging, sizeof staging);
    /* A staging directory is only ever ours, left by an interrupted run. */
    if (remove_tree(staging) != 0 || mkdir(staging, 0777) != 0) {
        sl__engine_set_error(r->eng, "cannot create directory %s: %s", staging,
                             SL__STRERROR(errno));
        return SL_EIO;
    }
    st = save_into(r, staging);
    if (st == SL_OK && (e = sync_dir(staging)) != 0) {
        sl__engine_set_error(r->eng, "cannot sync directory %s: %s", staging,
                             SL__STRERROR(e));
        st = SL_EIO;
    }
    if (st == SL_OK)
        st = publish(r->eng, staging, path);
    if (st != SL_OK) {
        (void)remove_tree(staging);
        return st;
    }
    if ((e = sync_parent(path)) != 0) {
        sl__engine_set_error(r->eng, "cannot sync the directory of %s: %s",
                             path, SL__STRERROR(e));
        return SL_EIO;
    }
    return SL_OK;
}
