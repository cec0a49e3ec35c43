/*
 * Atomic checkpoint files: a checked 24-byte header before every payload,
 * writes through a temporary name (fsync, rename), and the set of dirty
 * directories that a batch fsyncs once each. The base of every file under
 * a checkpoint directory (offsets, commits, state, WAL, source logs).
 */
#include "checkpoint/checkpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

/*
 * Header, little-endian: magic u32 @0, version u32 @4, payload length
 * u64 @8, crc32 u32 @16, reserved u32 @20 (0). The crc32 (zlib's: the
 * library is linked already and a torn write, not an adversary, is what
 * it must catch) covers bytes 4..15 and 20..23 of the header and the
 * payload, so a flipped byte anywhere but the magic and the crc itself
 * shows as a mismatch, and those two are checked on their own.
 */
static void put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static uint64_t get64(const unsigned char *p)
{
    return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

/* zlib's crc32 over any length (zlib takes uInt: large ones in pieces). */
static uint32_t crc_more(uint32_t crc, const void *data, size_t len)
{
    uLong c = crc;
    const unsigned char *p = data;
    while (len > 0) {
        uInt n = len > (1u << 30) ? (1u << 30) : (uInt)len;
        c = crc32(c, p, n);
        p += n;
        len -= n;
    }
    return (uint32_t)c;
}

static uint32_t header_crc(const unsigned char *h, const void *payload,
                           size_t len)
{
    uint32_t c = (uint32_t)crc32(0L, Z_NULL, 0);
    c = crc_more(c, h + 4, 12);
    c = crc_more(c, h + 20, 4);
    return crc_more(c, payload, len);
}

static void header_make(unsigned char *h, uint32_t magic, uint32_t version,
                        const void *payload, size_t len)
{
    put32(h, magic);
    put32(h + 4, version);
    put32(h + 8, (uint32_t)len);
    put32(h + 12, (uint32_t)((uint64_t)len >> 32));
    put32(h + 20, 0);
    put32(h + 16, header_crc(h, payload, len));
}

void sl__ckpt_io_init(sl__ckpt_io *io)
{
    memset(io, 0, sizeof *io);
}

static void forget_written(sl__ckpt_io *io)
{
    for (size_t i = 0; i < io->nwritten; i++)
        sl_free(io->written[i].path);
    io->nwritten = 0;
}

void sl__ckpt_io_free(sl__ckpt_io *io)
{
    for (size_t i = 0; i < io->ndirty; i++)
        sl_free(io->dirty[i]);
    sl_free(io->dirty);
    io->dirty = NULL;
    io->ndirty = io->capdirty = 0;
    forget_written(io);
    sl_free(io->written);
    io->written = NULL;
    io->capwritten = 0;
    io->recording = false;
}

void sl__ckpt_io_record(sl__ckpt_io *io, bool on)
{
    if (on)
        forget_written(io);
    io->recording = on;
}

/* Add the file just written to the recording. */
static sl_status record_written(sl__ckpt_io *io, const char *path)
{
    sl__ckpt_written *w;
    if (!io->recording)
        return SL_OK;
    if (io->nwritten == io->capwritten) {
        size_t cap = io->capwritten ? io->capwritten * 2 : 8;
        if (!(w = sl_realloc(io->written, cap * sizeof *w)))
            goto nomem;
        io->written = w;
        io->capwritten = cap;
    }
    w = &io->written[io->nwritten];
    *w = io->last;
    if (!(w->path = sl__strdup(path)))
        goto nomem;
    io->nwritten++;
    return SL_OK;
nomem:
    return sl__err(&io->err, SL_ENOMEM, "cannot list %s: out of memory", path);
}

const char *sl__ckpt_io_errmsg(const sl__ckpt_io *io)
{
    return io->err.text;
}

/* Run the fault hook for a step: the errno to fail with, or 0. */
static int fault(sl__ckpt_io *io, sl__ckpt_step step, const char *path)
{
    return io->fault ? io->fault(io->fault_user, step, path) : 0;
}

/* Record a failed system call (e is its errno) on io; SL_EIO. strerror_r
 * because the job thread is not the only one that formats errors. */
static sl_status io_fail(sl__ckpt_io *io, int e, const char *path,
                         const char *what)
{
    char buf[128];
    io->last_errno = e;
    return sl__err(&io->err, SL_EIO, "cannot write %s: %s: %s", path, what,
                   strerror_r(e, buf, sizeof buf));
}

int sl__ckpt_write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n > 0) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return errno;
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

/* The temporary name of path: ".<base>.tmp" beside it, hidden from the
 * logs' listings and removed by sl__ckpt_open after a crash. */
static char *tmp_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    size_t dirlen = slash ? (size_t)(slash - path) + 1 : 0;
    size_t n = strlen(path) + 6;
    char *t = sl_malloc(n);
    if (t)
        snprintf(t, n, "%.*s.%s.tmp", (int)dirlen, path, path + dirlen);
    return t;
}

/* Create tmp and write the header and payload into it, fsynced. */
static sl_status write_tmp(sl__ckpt_io *io, const char *tmp, const char *path,
                           const unsigned char *h, const void *payload,
                           size_t len)
{
    int fd, e;

    if ((e = fault(io, SL__CKPT_STEP_OPEN, path)) != 0)
        return io_fail(io, e, path, "create temporary file");
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return io_fail(io, errno, path, "create temporary file");
    if ((e = fault(io, SL__CKPT_STEP_WRITE, path)) == 0 &&
        (e = sl__ckpt_write_all(fd, h, SL__CKPT_HEADER_SIZE)) == 0)
        e = sl__ckpt_write_all(fd, payload, len);
    if (e) {
        close(fd);
        return io_fail(io, e, path, "write");
    }
    if ((e = fault(io, SL__CKPT_STEP_FSYNC, path)) != 0 ||
        (fsync(fd) != 0 && (e = errno) != 0)) {
        close(fd);
        return io_fail(io, e, path, "fsync");
    }
    if (close(fd) != 0)
        return io_fail(io, errno, path, "close");
    return SL_OK;
}

sl_status sl__ckpt_write_file(sl__ckpt_io *io, const char *path, uint32_t magic,
                              uint32_t version, const void *payload, size_t len)
{
    unsigned char h[SL__CKPT_HEADER_SIZE];
    char *tmp = tmp_name(path);
    sl_status st;
    int e;

    if (!tmp)
        return sl__err(&io->err, SL_ENOMEM, "cannot write %s: out of memory",
                       path);
    header_make(h, magic, version, payload, len);
    st = write_tmp(io, tmp, path, h, payload, len);
    if (st == SL_OK && (e = fault(io, SL__CKPT_STEP_RENAME, path)) != 0)
        st = io_fail(io, e, path, "rename");
    else if (st == SL_OK && rename(tmp, path) != 0)
        st = io_fail(io, errno, path, "rename");
    if (st != SL_OK) {
        /* The real name keeps its old content; only the temporary goes. */
        unlink(tmp);
        goto free_tmp;
    }
    io->bytes_written += SL__CKPT_HEADER_SIZE + len;
    io->files_written++;
    io->last.bytes = SL__CKPT_HEADER_SIZE + len;
    io->last.crc32 = crc_more(
        crc_more((uint32_t)crc32(0L, Z_NULL, 0), h, SL__CKPT_HEADER_SIZE),
        payload, len);
    if ((st = record_written(io, path)) == SL_OK)
        st = sl__ckpt_io_mark_parent(io, path);
free_tmp:
    sl_free(tmp);
    return st;
}

/* Read all of fd (size bytes expected) into a new buffer with a NUL. */
static sl_status slurp(sl__ckpt_io *io, int fd, const char *path, size_t size,
                       unsigned char **out, size_t *got)
{
    unsigned char *buf = sl_malloc(size + 1);
    size_t n = 0;
    char eb[128];

    if (!buf)
        return sl__err(&io->err, SL_ENOMEM, "cannot read %s: out of memory",
                       path);
    while (n < size) {
        ssize_t r = read(fd, buf + n, size - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            sl_free(buf);
            return sl__err(&io->err, SL_EIO, "cannot read %s: %s", path,
                           strerror_r(errno, eb, sizeof eb));
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    buf[n] = 0;
    *out = buf;
    *got = n;
    return SL_OK;
}

/* Check a whole file's header against its size and content. */
static sl_status check(sl__ckpt_io *io, const char *path,
                       const unsigned char *b, size_t n, uint32_t magic,
                       uint32_t max_version)
{
    uint32_t version;
    uint64_t len;

    if (n < SL__CKPT_HEADER_SIZE)
        return sl__err(&io->err, SL_ECORRUPT,
                       "%s: truncated: %zu of %d header bytes", path, n,
                       SL__CKPT_HEADER_SIZE);
    if (get32(b) != magic)
        return sl__err(&io->err, SL_ECORRUPT,
                       "%s: bad magic (not a file of this kind)", path);
    version = get32(b + 4);
    if (version == 0 || version > max_version)
        return sl__err(&io->err, SL_ECORRUPT,
                       "%s: format version %u unsupported (this build reads "
                       "1 to %u)",
                       path, version, max_version);
    len = get64(b + 8);
    if (len > n - SL__CKPT_HEADER_SIZE)
        return sl__err(&io->err, SL_ECORRUPT,
                       "%s: truncated: %zu of %llu bytes", path, n,
                       (unsigned long long)(len + SL__CKPT_HEADER_SIZE));
    if (len < n - SL__CKPT_HEADER_SIZE)
        return sl__err(&io->err, SL_ECORRUPT,
                       "%s: %llu bytes after the payload", path,
                       (unsigned long long)(n - SL__CKPT_HEADER_SIZE - len));
    if (get32(b + 16) != header_crc(b, b + SL__CKPT_HEADER_SIZE, (size_t)len))
        return sl__err(&io->err, SL_ECORRUPT, "%s: checksum mismatch", path);
    return SL_OK;
}

void sl__ckpt_header_make(unsigned char *h, uint32_t magic, uint32_t version,
                          const void *payload, size_t len)
{
    header_make(h, magic, version, payload, len);
}

sl_status sl__ckpt_header_check(sl__ckpt_io *io, const char *path,
                                const unsigned char *b, size_t n,
                                uint32_t magic, uint32_t max_version,
                                uint32_t *version)
{
    sl_status st = check(io, path, b, n, magic, max_version);
    if (st == SL_OK && version)
        *version = get32(b + 4);
    return st;
}

sl_status sl__ckpt_read_file(sl__ckpt_io *io, const char *path, uint32_t magic,
                             uint32_t max_version, void **payload, size_t *len,
                             uint32_t *version)
{
    unsigned char *b = NULL;
    struct stat sb;
    size_t n = 0;
    char eb[128];
    sl_status st;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return sl__err(&io->err, errno == ENOENT ? SL_ENOTFOUND : SL_EIO,
                       "cannot read %s: %s", path,
                       errno == ENOENT ? "missing"
                                       : strerror_r(errno, eb, sizeof eb));
    if (fstat(fd, &sb) != 0) {
        st = sl__err(&io->err, SL_EIO, "cannot read %s: %s", path,
                     strerror_r(errno, eb, sizeof eb));
        goto close_fd;
    }
    if ((st = slurp(io, fd, path, (size_t)sb.st_size, &b, &n)) != SL_OK)
        goto close_fd;
    if ((st = check(io, path, b, n, magic, max_version)) != SL_OK) {
        sl_free(b);
        goto close_fd;
    }
    if (version)
        *version = get32(b + 4);
    *len = n - SL__CKPT_HEADER_SIZE;
    /* The payload moves to the front so that the caller frees one block. */
    memmove(b, b + SL__CKPT_HEADER_SIZE, *len + 1);
    *payload = b;
close_fd:
    close(fd);
    return st;
}

sl_status sl__ckpt_io_mark_dir(sl__ckpt_io *io, const char *dir)
{
    char *d;
    for (size_t i = 0; i < io->ndirty; i++)
        if (!strcmp(io->dirty[i], dir))
            return SL_OK;
    if (io->ndirty == io->capdirty) {
        size_t cap = io->capdirty ? io->capdirty * 2 : 8;
        char **p = sl_realloc(io->dirty, cap * sizeof *p);
        if (!p)
            return sl__err(&io->err, SL_ENOMEM, "out of memory");
        io->dirty = p;
        io->capdirty = cap;
    }
    if (!(d = sl__strdup(dir)))
        return sl__err(&io->err, SL_ENOMEM, "out of memory");
    io->dirty[io->ndirty++] = d;
    return SL_OK;
}

sl_status sl__ckpt_io_mark_parent(sl__ckpt_io *io, const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir;
    sl_status st;

    if (!slash)
        return sl__ckpt_io_mark_dir(io, ".");
    if (slash == path)
        return sl__ckpt_io_mark_dir(io, "/");
    if (!(dir = sl_malloc((size_t)(slash - path) + 1)))
        return sl__err(&io->err, SL_ENOMEM, "out of memory");
    memcpy(dir, path, (size_t)(slash - path));
    dir[slash - path] = 0;
    st = sl__ckpt_io_mark_dir(io, dir);
    sl_free(dir);
    return st;
}

/* fsync one directory. */
static sl_status sync_dir(sl__ckpt_io *io, const char *dir)
{
    int fd, e;

    if ((e = fault(io, SL__CKPT_STEP_DIRSYNC, dir)) != 0)
        return io_fail(io, e, dir, "fsync directory");
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return io_fail(io, errno, dir, "open directory");
    if (fsync(fd) != 0) {
        e = errno;
        close(fd);
        return io_fail(io, e, dir, "fsync directory");
    }
    close(fd);
    io->dir_syncs++;
    return SL_OK;
}

sl_status sl__ckpt_io_sync_dirs(sl__ckpt_io *io)
{
    sl_status st;
    while (io->ndirty > 0) {
        if ((st = sync_dir(io, io->dirty[io->ndirty - 1])) != SL_OK)
            return st;
        sl_free(io->dirty[--io->ndirty]);
    }
    return SL_OK;
}

sl_status sl__ckpt_unlink(sl__ckpt_io *io, const char *path)
{
    int e = fault(io, SL__CKPT_STEP_UNLINK, path);
    char eb[128];

    if (e == 0 && unlink(path) != 0 && errno != ENOENT)
        e = errno;
    if (e) {
        io->last_errno = e;
        return sl__err(&io->err, SL_EIO, "cannot delete %s: %s", path,
                       strerror_r(e, eb, sizeof eb));
    }
    return sl__ckpt_io_mark_parent(io, path);
}

sl_status sl__ckpt_mkdirs(sl__ckpt_io *io, const char *dir)
{
    char *p = sl__strdup(dir), *slash, eb[128];
    sl_status st = SL_OK;

    if (!p)
        return sl__err(&io->err, SL_ENOMEM, "out of memory");
    /* Each prefix in turn: "a", "a/b", "a/b/c" (a leading "/" skipped). */
    for (slash = p + 1;; slash++) {
        bool end = (slash = strchr(slash, '/')) == NULL;
        if (!end)
            *slash = 0;
        if (mkdir(p, 0755) == 0) {
            st = sl__ckpt_io_mark_parent(io, p);
        } else if (errno != EEXIST) {
            io->last_errno = errno;
            st = sl__err(&io->err, SL_EIO, "cannot create directory %s: %s", p,
                         strerror_r(errno, eb, sizeof eb));
        }
        if (end || st != SL_OK)
            break;
        *slash = '/';
    }
    sl_free(p);
    return st;
}

sl_status sl__ckpt_verify_file(sl__ckpt_io *io, const char *path,
                               uint64_t bytes, uint32_t crc)
{
    unsigned char buf[65536];
    uint32_t c = (uint32_t)crc32(0L, Z_NULL, 0);
    uint64_t n = 0;
    ssize_t r;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return errno == ENOENT
                   ? sl__err(&io->err, SL_ENOTFOUND, "%s: missing", path)
                   : io_fail(io, errno, path, "open");
    while ((r = read(fd, buf, sizeof buf)) != 0) {
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;
            close(fd);
            return io_fail(io, e, path, "read");
        }
        c = crc_more(c, buf, (size_t)r);
        n += (uint64_t)r;
    }
    close(fd);
    if (n < bytes)
        return sl__err(&io->err, SL_ECORRUPT,
                       "%s: truncated: %llu of %llu bytes", path,
                       (unsigned long long)n, (unsigned long long)bytes);
    if (n > bytes)
        return sl__err(
            &io->err, SL_ECORRUPT, "%s: %llu bytes after the %llu written",
            path, (unsigned long long)(n - bytes), (unsigned long long)bytes);
    if (c != crc)
        return sl__err(&io->err, SL_ECORRUPT,
                       "%s: checksum mismatch (crc32 %08lx, expected %08lx)",
                       path, (unsigned long)c, (unsigned long)crc);
    return SL_OK;
}
