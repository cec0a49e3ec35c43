/*
 * The directory source's reading, on the workers: one partition is one
 * planned file, or a line-aligned split of a large plain one. The file is
 * opened without following a link or blocking, and read only if it is the
 * regular file planned; its bytes (decompressed from .gz or .zst) pass in
 * bounded chunks through one line splitter (core/records), so a worker's
 * memory is its buffers and the record in flight, whatever the file's size
 * or compression ratio. A stop interrupts the read between chunks.
 */
#include "file/file_int.h"
#include "stream/stream_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

/* Bytes read from a file at a time; between two checks of a stop at most
 * this much input, or one line buffer (max_line + 2 + IN_CHUNK) of output,
 * is processed. */
#define IN_CHUNK ((size_t)64 << 10)

int sl__file_compression(const char *path)
{
    size_t n = strlen(path);
    if (n > 3 && strcmp(path + n - 3, ".gz") == 0)
        return COMP_GZIP;
    if (n > 4 && strcmp(path + n - 4, ".zst") == 0)
        return COMP_ZSTD;
    return COMP_NONE;
}

/* The bytes of one partition: a plain file's range, or a decompressor. */
typedef struct input {
    const sl_task *t; /* whose stop is looked for at each refill */
    int fd, comp;
    int64_t pos, stop; /* next file offset; read up to stop (-1: its end) */
    bool eof;          /* the file (or range) is read to its end */
    bool mid;          /* inside a gzip member or zstd frame */
    z_stream z;
    bool z_on;
    ZSTD_DStream *zs;
    char *in; /* compressed bytes read, IN_CHUNK of them */
    size_t in_len, in_pos;
    int64_t out, max_out; /* bytes produced; most allowed (0: no limit) */
    char why[160];        /* what is wrong with the data (SL_ECORRUPT) */
} input;

typedef struct read_ctx {
    file_source *fs;
    sl_task *t;
    const char *path;
    sl_value name; /* the file name, for with_file_name */
    sl__rec_reader rr;
    sl__arena parse;         /* a line's record until it is copied out */
    sl__line_splitter lines; /* the bounded line buffer */
    input in;
    int64_t line_no; /* lines cut so far, from the file's start */
    bool mid_file;   /* a split after the first: line_no is not the file's */
} read_ctx;

/* Report a file that is skipped, and count it. */
static sl_status skip_file(file_source *fs, const char *path, const char *why)
{
    ADD(fs->failed, 1);
    sl_context_log(fs->ctx, SL_LOG_WARN,
                   "directory source: skipped file '%s': %s", path, why);
    return SL_OK;
}

/* -------------------------------------------------------------- opening */

static const char *file_kind(mode_t m)
{
    return S_ISFIFO(m)   ? "a FIFO"
           : S_ISDIR(m)  ? "a directory"
           : S_ISCHR(m)  ? "a character device"
           : S_ISBLK(m)  ? "a block device"
           : S_ISSOCK(m) ? "a socket"
                         : "something other than a regular file";
}

/*
 * Open the file planned, or report why not (fd -1). The name may have been
 * replaced since it was planned: a FIFO would block a plain open until a
 * writer came, a device could hang or have effects, a link could lead
 * anywhere. So nothing is followed or waited for, and the descriptor must
 * be the regular file planned (device and inode) before it is read.
 */
static int open_planned(file_source *fs, const char *path, const part_desc *d)
{
    char why[96];
    struct stat sb;
    int fl, fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK |
                                O_NOCTTY);
    if (fd < 0) {
        skip_file(fs, path,
                  errno == ELOOP ? "replaced by a symbolic link since it was "
                                   "planned (links are not followed)"
                                 : SL__STRERROR(errno));
        return -1;
    }
    if (fstat(fd, &sb) != 0) {
        skip_file(fs, path, SL__STRERROR(errno));
    } else if (!S_ISREG(sb.st_mode)) {
        snprintf(why, sizeof why, "replaced by %s since it was planned",
                 file_kind(sb.st_mode));
        skip_file(fs, path, why);
    } else if ((uint64_t)sb.st_ino != d->ino || (uint64_t)sb.st_dev != d->dev) {
        skip_file(fs, path, "replaced by another file since it was planned");
    } else if ((fl = fcntl(fd, F_GETFL)) < 0 ||
               fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) != 0) {
        skip_file(fs, path, SL__STRERROR(errno));
    } else {
        return fd;
    }
    close(fd);
    return -1;
}

/* ---------------------------------------------------------------- input */

static sl_status input_open(input *in, const sl_task *t, int fd, int comp,
                            int64_t max_out)
{
    memset(in, 0, sizeof *in);
    in->t = t;
    in->fd = fd;
    in->comp = comp;
    in->stop = -1;
    if (comp == COMP_NONE)
        return SL_OK;
    in->max_out = max_out;
    if (!(in->in = sl_malloc(IN_CHUNK)))
        return SL_ENOMEM;
    if (comp == COMP_ZSTD)
        return (in->zs = ZSTD_createDStream()) != NULL &&
                       !ZSTD_isError(ZSTD_initDStream(in->zs))
                   ? SL_OK
                   : SL_ENOMEM;
    /* 15 + 32: a gzip or zlib header, found by zlib. */
    if (inflateInit2(&in->z, 15 + 32) != Z_OK)
        return SL_ENOMEM;
    in->z_on = true;
    return SL_OK;
}

static void input_close(input *in)
{
    if (in->z_on)
        inflateEnd(&in->z);
    ZSTD_freeDStream(in->zs);
    sl_free(in->in);
}

/* Read up to n bytes of the file at in->pos; 0 at its end (or in->stop). */
static sl_status file_bytes(input *in, char *dst, size_t n, size_t *got)
{
    ssize_t r;
    if (in->stop >= 0 && (int64_t)n > in->stop - in->pos)
        n = (size_t)(in->stop - in->pos);
    do
        r = n ? pread(in->fd, dst, n, in->pos) : 0;
    while (r < 0 && errno == EINTR);
    if (r < 0) {
        snprintf(in->why, sizeof in->why, "%s", SL__STRERROR(errno));
        return SL_EIO;
    }
    in->pos += r;
    in->eof = r == 0;
    *got = (size_t)r;
    return SL_OK;
}

/* One step of gzip: what inflate makes of the input there is. */
static sl_status gzip_step(input *in, char *dst, size_t room, size_t *got)
{
    int rc;
    in->z.next_in = (Bytef *)in->in + in->in_pos;
    in->z.avail_in = (uInt)(in->in_len - in->in_pos);
    in->z.next_out = (Bytef *)dst;
    in->z.avail_out = (uInt)(room > UINT32_MAX ? UINT32_MAX : room);
    rc = inflate(&in->z, Z_NO_FLUSH);
    *got = (size_t)((char *)in->z.next_out - dst);
    if ((size_t)((char *)in->z.next_in - in->in) > in->in_pos)
        in->mid = true;
    in->in_pos = (size_t)((char *)in->z.next_in - in->in);
    if (rc == Z_STREAM_END) {
        inflateReset(&in->z); /* another member may follow */
        in->mid = false;
    } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
        snprintf(in->why, sizeof in->why, "%s",
                 in->z.msg ? in->z.msg : "corrupt gzip data");
        return SL_ECORRUPT;
    }
    return SL_OK;
}

/* One step of zstd, as gzip_step; frames follow one another. */
static sl_status zstd_step(input *in, char *dst, size_t room, size_t *got)
{
    ZSTD_inBuffer ib = {in->in + in->in_pos, in->in_len - in->in_pos, 0};
    ZSTD_outBuffer ob = {dst, room, 0};
    size_t rc = ZSTD_decompressStream(in->zs, &ob, &ib);
    if (ZSTD_isError(rc)) {
        snprintf(in->why, sizeof in->why, "corrupt zstd data: %s",
                 ZSTD_getErrorName(rc));
        return SL_ECORRUPT;
    }
    in->in_pos += ib.pos;
    *got = ob.pos;
    if (rc == 0)
        in->mid = false; /* a frame ended and is flushed */
    else if (ib.pos > 0)
        in->mid = true;
    return SL_OK;
}

/*
 * Decompressed bytes: at least one in dst (*got), or 0 at the end of the
 * data. The decompressor is stepped until it makes output, so one call
 * reads as much input as a stop check allows (see IN_CHUNK).
 */
static sl_status inflate_bytes(input *in, char *dst, size_t room, size_t *got)
{
    sl_status st;
    for (;;) {
        if (in->in_pos == in->in_len && !in->eof) {
            if (sl_task_interrupted(in->t))
                return SL_ESTOPPED;
            in->in_pos = 0;
            if ((st = file_bytes(in, in->in, IN_CHUNK, &in->in_len)) != SL_OK)
                return st;
        }
        st = in->comp == COMP_GZIP ? gzip_step(in, dst, room, got)
                                   : zstd_step(in, dst, room, got);
        if (st != SL_OK || *got > 0)
            return st;
        if (in->in_pos == in->in_len && in->eof)
            break;
    }
    if (!in->mid)
        return SL_OK; /* an empty file, or whole members or frames */
    snprintf(in->why, sizeof in->why, "truncated %s data",
             in->comp == COMP_GZIP ? "gzip" : "zstd");
    return SL_ECORRUPT;
}

/*
 * The partition's next bytes into dst (0 at its end). SL_EOVERFLOW once a
 * compressed file makes more than max_out bytes: exactly max_out of them
 * were handed out.
 */
static sl_status input_read(input *in, char *dst, size_t room, size_t *got)
{
    char extra;
    sl_status st;
    if (in->comp == COMP_NONE)
        return file_bytes(in, dst, room, got);
    if (in->max_out > 0 && in->out >= in->max_out) {
        /* At the limit: one more byte tells a longer file. */
        st = inflate_bytes(in, &extra, 1, got);
        return st == SL_OK && *got ? SL_EOVERFLOW : st;
    }
    if (in->max_out > 0 && (int64_t)room > in->max_out - in->out)
        room = (size_t)(in->max_out - in->out);
    st = inflate_bytes(in, dst, room, got);
    in->out += (int64_t)*got;
    return st;
}

/* -------------------------------------------------------------- records */

/* Set one line of the file aside in the source's dead-letter file (the
 * writer counts and reports a failed write). truncated: line is only the
 * start of the line. */
static void dead_letter(read_ctx *rc, const char *reason, const char *why,
                        const char *line, size_t len, int64_t line_no,
                        bool truncated)
{
    sl__dead_letter r = {.batch = sl_task_batch_id(rc->t),
                         .source = rc->fs->name,
                         .reason = reason,
                         .error = why,
                         .text = line,
                         .text_len = len,
                         .truncated = truncated,
                         .file = rc->path,
                         .line = line_no};
    sl__dead_letters_put(rc->fs->dead, &r);
}

/* One line: parse it, emit the record, or count and report it. */
static sl_status emit_line(read_ctx *rc, const char *line, size_t len)
{
    file_source *fs = rc->fs;
    sl_value rec, out, name;
    char err[160];
    sl_status st;

    ADD(fs->lines, 1);
    rc->line_no++;
    /* Parsed in the reader's own arena and copied into task memory only
     * when it is a record: headers and malformed lines leave nothing in
     * the task's memory, which lives until the next emit. */
    st = sl__rec_parse(&rc->rr, line, len, sl__rec_arena_alloc, &rc->parse,
                       &rec, err, sizeof err);
    if (st == SL_OK)
        st = sl__task_copy(rc->t, &rec, &out);
    sl__arena_reset(&rc->parse);
    if (st == SL_ENOTFOUND)
        return SL_OK; /* a header line */
    if (st == SL_EPARSE || (st == SL_OK && rc->rr.row_malformed)) {
        long long n = ADD(fs->malformed, 1);
        /* Logged at the first and every 1000th, so that bad input is
         * never silent (with no dead-letter file) yet cannot flood the
         * log. */
        if (!rc->rr.fail && (n == 1 || n % 1000 == 0))
            sl_context_log(fs->ctx, SL_LOG_WARN,
                           "%s source: malformed record in '%s' line %lld, "
                           "%s: %s; %lld malformed so far",
                           fs->name, rc->path, (long long)rc->line_no,
                           sl__rec_malformed_fate(&rc->rr), err, n);
        if (fs->dead) /* line numbers count from the file's start: only
                         whole files have malformed lines (JSON, CSV,
                         typed lines) */
            dead_letter(rc, "malformed", err, line, len, rc->line_no, false);
        if (rc->rr.fail)
            return sl__task_fail(rc->t, SL_EPARSE,
                                 "%s source: malformed record in '%s' line "
                                 "%lld (parse_mode fail_fast): %s",
                                 fs->name, rc->path, (long long)rc->line_no,
                                 err);
        if (st == SL_EPARSE)
            return SL_OK; /* untyped, or drop_malformed: no record */
    }
    if (st != SL_OK || !fs->with_file_name)
        return st != SL_OK ? st : sl_task_emit(rc->t, &out);
    if ((st = sl_task_str(rc->t, rc->name.u.s, rc->name.len, &name)) != SL_OK ||
        (st = sl_task_pair(rc->t, &name, &out, &rec)) != SL_OK)
        return st;
    return sl_task_emit(rc->t, &rec);
}

/* A line over receiver.max_line_bytes: dropped, counted, and set aside
 * with its first bytes (head, len of them) as the socket source does. */
static void long_line(read_ctx *rc, const char *head, size_t len)
{
    char why[96];

    ADD(rc->fs->lines, 1);
    ADD(rc->fs->too_long, 1);
    rc->line_no++;
    if (!rc->fs->dead)
        return;
    snprintf(why, sizeof why,
             "line longer than receiver.max_line_bytes (%lld bytes)",
             (long long)rc->fs->max_line);
    /* A later split of a plain file does not know its line numbers. */
    dead_letter(rc, "too_long", why, head, len, rc->mid_file ? 0 : rc->line_no,
                sl__lines_long_len(&rc->lines) > len);
}

/*
 * Cut the input into lines and emit those that start before `until` (a
 * stream offset; -1 for all). The splitter is refilled only when no whole
 * line is left, and a stop is looked for at each refill.
 */
static sl_status read_lines(read_ctx *rc, int64_t until)
{
    sl__line_splitter *s = &rc->lines;
    const char *line = NULL;
    size_t len = 0, room, got;
    sl_status st;
    char *space;
    bool eof = false;

    for (;;) {
        sl__line_result r = sl__lines_next(s, eof, &line, &len);
        if (r != SL__LINE_MORE) {
            if (until >= 0 && sl__lines_line_at(s) >= until)
                return SL_OK; /* the next split's */
            if (r == SL__LINE_LONG)
                long_line(rc, line, len);
            else if ((st = emit_line(rc, line, len)) != SL_OK)
                return st;
            continue;
        }
        if (eof || (until >= 0 && sl__lines_pending_at(s) >= until))
            return SL_OK;
        if (sl_task_interrupted(rc->t))
            return SL_ESTOPPED;
        if (!(space = sl__lines_space(s, &room)))
            return SL_ENOMEM;
        if ((st = input_read(&rc->in, space, room, &got)) != SL_OK)
            return st;
        sl__lines_added(s, got);
        eof = got == 0;
    }
}

/* --------------------------------------------------------------- a file */

/* What a read that ended early means: reported and counted here. */
static sl_status read_ended(read_ctx *rc, sl_status st)
{
    file_source *fs = rc->fs;
    char why[256];

    if (st == SL_ESTOPPED)
        return sl__task_fail(rc->t, SL_ESTOPPED,
                             "interrupted by stop while reading '%s'",
                             rc->path);
    if (st == SL_EOVERFLOW) {
        /* The lines read are kept (emitted already); the rest is not. */
        snprintf(why, sizeof why,
                 "more than %lld decompressed bytes "
                 "(file.max_decompressed_bytes), rest skipped",
                 (long long)fs->max_decompressed);
        ADD(fs->too_large, 1);
        sl_context_log(fs->ctx, SL_LOG_WARN, "directory source: file '%s': %s",
                       rc->path, why);
        if (fs->dead)
            dead_letter(rc, "too_long", why, "", 0, rc->line_no + 1, false);
        return SL_OK;
    }
    if (st != SL_ECORRUPT && st != SL_EIO)
        return st;
    if (rc->line_no > 0) /* its lines so far were emitted: say so */
        snprintf(why, sizeof why, "%s (after %lld lines)", rc->in.why,
                 (long long)rc->line_no);
    else
        snprintf(why, sizeof why, "%s", rc->in.why);
    return skip_file(fs, rc->path, why);
}

/*
 * Read the partition from the open file: a whole file from its start, or
 * a split [start, end) of a plain file from the byte before start (a line
 * starts at start only after a newline), its first part line skipped, up
 * to the first line that starts at end or after (bounded by the size
 * planned: what was appended since is not read twice).
 */
static sl_status read_part(read_ctx *rc, const part_desc *d, int comp)
{
    int64_t from = d->start ? d->start - 1 : 0, until = -1, hi;
    sl_status st =
        input_open(&rc->in, rc->t, rc->in.fd, comp, rc->fs->max_decompressed);

    if (st != SL_OK) {
        input_close(&rc->in);
        return st;
    }
    /* Never past the size planned: what was appended since belongs to a
     * later batch, and a replay reads exactly the bytes recorded. */
    rc->in.stop = d->size;
    if (!d->whole) {
        rc->in.pos = from;
        until = d->end - from;
        if (d->start)
            sl__lines_skip_first(&rc->lines);
        rc->mid_file = d->start > 0;
    }
    st = read_ended(rc, read_lines(rc, until));
    if (d->whole) {
        ADD(rc->fs->bytes, comp != COMP_NONE ? rc->in.out : rc->in.pos);
    } else {
        hi = rc->in.pos < d->end ? rc->in.pos : d->end;
        ADD(rc->fs->bytes, hi > d->start ? hi - d->start : 0);
    }
    input_close(&rc->in);
    return st;
}

sl_status sl__file_read(sl_task *t, const void *desc, void *user)
{
    file_source *fs = user;
    read_ctx rc;
    part_desc d;
    sl_status st;

    memcpy(&d, desc, sizeof d); /* the copy may not be aligned */
    memset(&rc, 0, sizeof rc);
    rc.fs = fs;
    rc.t = t;
    rc.path = (const char *)desc + sizeof d;
    rc.name = sl_str(rc.path, d.path_len);
    if (sl_task_interrupted(t))
        return sl__task_fail(t, SL_ESTOPPED,
                             "interrupted by stop while reading '%s'", rc.path);
    if ((rc.in.fd = open_planned(fs, rc.path, &d)) < 0)
        return d.replay ? sl__task_fail(t, SL_ECORRUPT,
                                        "'%s' of a replayed batch changed "
                                        "since it was recorded",
                                        rc.path)
                        : SL_OK; /* reported */
    if ((st = sl__rec_reader_init(&rc.rr, &fs->rec, NULL, 0)) != SL_OK) {
        close(rc.in.fd);
        return st;
    }
    sl__arena_init(&rc.parse, 16384);
    sl__lines_init(&rc.lines, (size_t)fs->max_line, IN_CHUNK);
    st = read_part(&rc, &d, sl__file_compression(rc.path));
    sl__lines_free(&rc.lines);
    sl__arena_free(&rc.parse);
    sl__rec_reader_free(&rc.rr);
    close(rc.in.fd);
    return st;
}
