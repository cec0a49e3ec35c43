/*
 * The receiver WAL's segments: a checked file header, then records of one
 * receive block each (a record header with its own CRC-32, the block's
 * identity and its zstd-compressed bytes). Open scans and checks every
 * segment into an index; appends go to a new run's segments; reads pick a
 * batch's records from the newest run that wrote it.
 */
#include "checkpoint/wal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#define REC_MAGIC SL__CKPT_MAGIC('S', 'L', 'W', 'R')
#define REC_HEAD 12   /* magic, body length, crc32 of the body */
#define BODY_FIXED 34 /* batch, receiver, seq, records, raw len, name len */
#define REC_MAX_BODY (1u << 31)

typedef struct rec_ix {
    int64_t batch;
    uint32_t receiver;
    uint64_t seq;
    uint64_t off; /* of the record header in the segment */
    uint32_t body_len;
} rec_ix;

typedef struct segment {
    char *path;
    uint64_t run, num;
    int64_t max_batch; /* INT64_MIN when it holds no record */
    rec_ix *recs;
    size_t nrecs, cap;
} segment;

struct sl__wal {
    sl__ckpt_io io;
    char *dir;
    segment *segs; /* ordered by (run, num) */
    size_t nsegs, capsegs;
    uint64_t run, next_num;
    int fd;             /* the open segment of this run, or -1 */
    uint64_t size;      /* its bytes */
    unsigned char *buf; /* record being built */
    size_t capbuf;
    ZSTD_CCtx *cctx; /* made at the first append */
    int level;       /* zstd level of the records */
    size_t torn;
    char note[512];
};

static void *zalloc(size_t n)
{
    void *p = sl_malloc(n);
    if (p)
        memset(p, 0, n);
    return p;
}

static void put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static void put64(unsigned char *p, uint64_t v)
{
    put32(p, (uint32_t)v);
    put32(p + 4, (uint32_t)(v >> 32));
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

static uint32_t crc(const unsigned char *p, size_t n)
{
    return (uint32_t)crc32(crc32(0L, Z_NULL, 0), p, (uInt)n);
}

static sl_status sys_fail(sl__wal *w, int e, const char *path, const char *what)
{
    char eb[128];
    w->io.last_errno = e;
    return sl__err(&w->io.err, SL_EIO, "WAL %s: %s: %s", path, what,
                   strerror_r(e, eb, sizeof eb));
}

/* ------------------------------------------------------------ index */

static sl_status seg_add_rec(sl__wal *w, segment *s, const rec_ix *r)
{
    if (s->nrecs == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        rec_ix *p = sl_realloc(s->recs, cap * sizeof *p);
        if (!p)
            return sl__err(&w->io.err, SL_ENOMEM, "out of memory");
        s->recs = p;
        s->cap = cap;
    }
    s->recs[s->nrecs++] = *r;
    if (r->batch > s->max_batch)
        s->max_batch = r->batch;
    return SL_OK;
}

static segment *seg_new(sl__wal *w, uint64_t run, uint64_t num)
{
    segment *s;
    size_t n = strlen(w->dir) + 48;
    if (w->nsegs == w->capsegs) {
        size_t cap = w->capsegs ? w->capsegs * 2 : 8;
        segment *p = sl_realloc(w->segs, cap * sizeof *p);
        if (!p)
            return NULL;
        w->segs = p;
        w->capsegs = cap;
    }
    s = &w->segs[w->nsegs];
    memset(s, 0, sizeof *s);
    if (!(s->path = sl_malloc(n)))
        return NULL;
    snprintf(s->path, n, "%s/%llu-%llu.wal", w->dir, (unsigned long long)run,
             (unsigned long long)num);
    s->run = run;
    s->num = num;
    s->max_batch = INT64_MIN;
    w->nsegs++;
    return s;
}

static int seg_cmp(const void *a, const void *b)
{
    const segment *x = a, *y = b;
    if (x->run != y->run)
        return x->run < y->run ? -1 : 1;
    return x->num < y->num ? -1 : x->num > y->num;
}

/* ------------------------------------------------------------- scan */

static bool all_zero(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

/* The end of s is torn at off: note it (the records before it stand). */
static void torn_at(sl__wal *w, const segment *s, size_t off, const char *why)
{
    w->torn++;
    snprintf(w->note, sizeof w->note,
             "WAL %s: torn record at offset %zu (%s): the end of a write "
             "cut short, ignored",
             s->path, off, why);
}

/* Check one record at b[off..n): 0 a good record (*next set), 1 the torn
 * end, -1 corruption (message set). */
static int scan_rec(sl__wal *w, segment *s, const unsigned char *b, size_t n,
                    size_t off, size_t *next, rec_ix *r)
{
    size_t left = n - off;
    uint32_t blen;

    if (left < REC_HEAD)
        return torn_at(w, s, off, "short header"), 1;
    if (get32(b + off) != REC_MAGIC) {
        if (all_zero(b + off, left))
            return torn_at(w, s, off, "zeros"), 1;
        sl__err(&w->io.err, SL_ECORRUPT,
                "%s: record at offset %zu: bad record magic", s->path, off);
        return -1;
    }
    blen = get32(b + off + 4);
    if (blen > left - REC_HEAD)
        return torn_at(w, s, off, "short body"), 1;
    if (get32(b + off + 8) != crc(b + off + REC_HEAD, blen) ||
        blen < BODY_FIXED) {
        /* Only the last record can be torn: a crash may leave it with
         * unwritten (zero) parts, and zeros after it where the size grew
         * but the data never came. */
        size_t end = off + REC_HEAD + blen;
        bool bad_sum = get32(b + off + 8) != crc(b + off + REC_HEAD, blen);
        const char *why = bad_sum ? "checksum mismatch" : "body too short";
        if (all_zero(b + end, n - end))
            return torn_at(w, s, off, why), 1;
        sl__err(&w->io.err, SL_ECORRUPT, "%s: record at offset %zu: %s",
                s->path, off, why);
        return -1;
    }
    r->batch = (int64_t)get64(b + off + REC_HEAD);
    r->receiver = get32(b + off + REC_HEAD + 8);
    r->seq = get64(b + off + REC_HEAD + 12);
    r->off = off;
    r->body_len = blen;
    *next = off + REC_HEAD + blen;
    return 0;
}

/* Read a whole file into a new buffer. */
static sl_status slurp(sl__wal *w, const char *path, unsigned char **out,
                       size_t *n)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat sb;
    size_t got = 0;
    unsigned char *b;

    if (fd < 0)
        return sys_fail(w, errno, path, "open");
    if (fstat(fd, &sb) != 0 || !(b = sl_malloc((size_t)sb.st_size + 1))) {
        close(fd);
        return sl__err(&w->io.err, SL_ENOMEM, "WAL %s: out of memory", path);
    }
    while (got < (size_t)sb.st_size) {
        ssize_t r = read(fd, b + got, (size_t)sb.st_size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    *out = b;
    *n = got;
    return SL_OK;
}

static sl_status scan_segment(sl__wal *w, segment *s)
{
    unsigned char *b = NULL;
    size_t n = 0, off = SL__CKPT_HEADER_SIZE;
    sl_status st = slurp(w, s->path, &b, &n);

    if (st != SL_OK)
        return st;
    if (n < SL__CKPT_HEADER_SIZE) {
        /* Created, and the crash came before its header was synced. */
        torn_at(w, s, 0, "short segment header");
        goto free_b;
    }
    st = sl__ckpt_header_check(&w->io, s->path, b, SL__CKPT_HEADER_SIZE,
                               SL__CKPT_MAGIC_WAL, SL__WAL_VERSION, NULL);
    while (st == SL_OK && off < n) {
        rec_ix r;
        int k = scan_rec(w, s, b, n, off, &off, &r);
        if (k < 0)
            st = SL_ECORRUPT;
        else if (k > 0)
            break;
        else
            st = seg_add_rec(w, s, &r);
    }
free_b:
    sl_free(b);
    return st;
}

/* The segments in w->dir, sorted and scanned; the next run number. */
static sl_status load_dir(sl__wal *w)
{
    DIR *d = opendir(w->dir);
    struct dirent *e;
    sl_status st = SL_OK;

    if (!d)
        return sys_fail(w, errno, w->dir, "open directory");
    while (st == SL_OK && (e = readdir(d)) != NULL) {
        unsigned long long run, num;
        char tail[8];
        if (sscanf(e->d_name, "%llu-%llu.%7s", &run, &num, tail) != 3 ||
            strcmp(tail, "wal") != 0)
            continue;
        if (!seg_new(w, run, num))
            st = sl__err(&w->io.err, SL_ENOMEM, "out of memory");
        else if (run >= w->run)
            w->run = run + 1;
    }
    closedir(d);
    if (st != SL_OK)
        return st;
    if (w->nsegs > 1)
        qsort(w->segs, w->nsegs, sizeof *w->segs, seg_cmp);
    for (size_t i = 0; i < w->nsegs && st == SL_OK; i++)
        st = scan_segment(w, &w->segs[i]);
    return st;
}

sl_status sl__wal_open(const char *dir, sl__wal **out, char *errbuf,
                       size_t errlen)
{
    sl__wal *w = zalloc(sizeof *w);
    sl_status st = SL_ENOMEM;

    if (!w || !(w->dir = sl__strdup(dir))) {
        snprintf(errbuf, errlen, "WAL %s: out of memory", dir);
        sl_free(w);
        return SL_ENOMEM;
    }
    sl__ckpt_io_init(&w->io);
    w->fd = -1;
    w->run = 1;
    w->level = 1;
    if ((st = sl__ckpt_mkdirs(&w->io, dir)) != SL_OK ||
        (st = sl__ckpt_io_sync_dirs(&w->io)) != SL_OK ||
        (st = load_dir(w)) != SL_OK) {
        snprintf(errbuf, errlen, "%s", w->io.err.text);
        sl__wal_close(w);
        return st;
    }
    *out = w;
    return SL_OK;
}

void sl__wal_close(sl__wal *w)
{
    if (!w)
        return;
    if (w->fd >= 0)
        close(w->fd);
    for (size_t i = 0; i < w->nsegs; i++) {
        sl_free(w->segs[i].path);
        sl_free(w->segs[i].recs);
    }
    sl_free(w->segs);
    sl_free(w->buf);
    ZSTD_freeCCtx(w->cctx);
    sl_free(w->dir);
    sl__ckpt_io_free(&w->io);
    sl_free(w);
}

const char *sl__wal_errmsg(const sl__wal *w)
{
    return w->io.err.text;
}

size_t sl__wal_torn(const sl__wal *w)
{
    return w->torn;
}

const char *sl__wal_note(const sl__wal *w)
{
    return w->note;
}

sl__ckpt_io *sl__wal_io(sl__wal *w)
{
    return &w->io;
}

void sl__wal_set_level(sl__wal *w, int level)
{
    w->level = level;
}

size_t sl__wal_segments(const sl__wal *w)
{
    return w->nsegs;
}

/* ----------------------------------------------------------- append */

/* Close the open segment, synced: a closed segment is never torn. */
static sl_status seg_close(sl__wal *w)
{
    sl_status st = SL_OK;
    if (w->fd < 0)
        return SL_OK;
    if (fsync(w->fd) != 0)
        st = sys_fail(w, errno, w->segs[w->nsegs - 1].path, "fsync");
    close(w->fd);
    w->fd = -1;
    return st;
}

/* Begin the run's next segment with its header; its directory entry is
 * synced with the next group. */
static sl_status seg_begin(sl__wal *w)
{
    unsigned char h[SL__CKPT_HEADER_SIZE];
    segment *s = seg_new(w, w->run, w->next_num);
    int e;

    if (!s)
        return sl__err(&w->io.err, SL_ENOMEM, "out of memory");
    w->next_num++;
    w->fd =
        open(s->path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0644);
    if (w->fd < 0)
        return sys_fail(w, errno, s->path, "create");
    sl__ckpt_header_make(h, SL__CKPT_MAGIC_WAL, SL__WAL_VERSION, NULL, 0);
    if ((e = sl__ckpt_write_all(w->fd, h, sizeof h)) != 0)
        return sys_fail(w, e, s->path, "write");
    w->size = sizeof h;
    return sl__ckpt_io_mark_dir(&w->io, w->dir);
}

/* Build the record of a block in w->buf; its length in *n. */
static sl_status build_rec(sl__wal *w, const unsigned char *fixed,
                           const char *name, size_t nlen, const void *data,
                           size_t len, size_t *n)
{
    size_t head = REC_HEAD + BODY_FIXED + nlen;
    size_t need = head + ZSTD_compressBound(len), z;

    if (need > w->capbuf) {
        unsigned char *p = sl_realloc(w->buf, need);
        if (!p)
            return sl__err(&w->io.err, SL_ENOMEM, "out of memory");
        w->buf = p;
        w->capbuf = need;
    }
    memcpy(w->buf + REC_HEAD, fixed, BODY_FIXED);
    if (nlen > 0)
        memcpy(w->buf + REC_HEAD + BODY_FIXED, name, nlen);
    /* One context for all records: ZSTD_compress would set up and free
     * one per block. */
    if (!w->cctx && !(w->cctx = ZSTD_createCCtx()))
        return sl__err(&w->io.err, SL_ENOMEM, "out of memory");
    z = ZSTD_compressCCtx(w->cctx, w->buf + head, need - head, data, len,
                          w->level);
    if (ZSTD_isError(z))
        return sl__err(&w->io.err, SL_EIO, "WAL: compression failed: %s",
                       ZSTD_getErrorName(z));
    put32(w->buf, REC_MAGIC);
    put32(w->buf + 4, (uint32_t)(head - REC_HEAD + z));
    put32(w->buf + 8, crc(w->buf + REC_HEAD, head - REC_HEAD + z));
    *n = head + z;
    return SL_OK;
}

sl_status sl__wal_append(sl__wal *w, int64_t batch, uint32_t receiver,
                         const char *name, uint64_t seq, int64_t records,
                         const void *data, size_t len)
{
    unsigned char fixed[BODY_FIXED];
    size_t nlen = name ? strlen(name) : 0, n = 0;
    rec_ix r = {batch, receiver, seq, 0, 0};
    sl_status st;
    int e;

    if (nlen > 0xffff || len > REC_MAX_BODY / 2)
        return sl__err(&w->io.err, SL_EINVAL, "WAL: block too large");
    put64(fixed, (uint64_t)batch);
    put32(fixed + 8, receiver);
    put64(fixed + 12, seq);
    put64(fixed + 20, (uint64_t)records);
    put32(fixed + 28, (uint32_t)len);
    fixed[32] = (unsigned char)nlen;
    fixed[33] = (unsigned char)(nlen >> 8);
    if (w->fd >= 0 && w->size >= SL__WAL_SEGMENT_BYTES &&
        (st = seg_close(w)) != SL_OK)
        return st;
    if (w->fd < 0 && (st = seg_begin(w)) != SL_OK)
        goto fail;
    if ((st = build_rec(w, fixed, name, nlen, data, len, &n)) != SL_OK)
        return st;
    if ((e = sl__ckpt_write_all(w->fd, w->buf, n)) != 0) {
        st = sys_fail(w, e, w->segs[w->nsegs - 1].path, "write");
        goto fail;
    }
    r.off = w->size;
    r.body_len = (uint32_t)(n - REC_HEAD);
    w->size += n;
    return seg_add_rec(w, &w->segs[w->nsegs - 1], &r);
fail:
    /* A partly written record would be a torn end in the middle of the
     * run: the next append begins a new segment after it instead. */
    if (w->fd >= 0)
        close(w->fd);
    w->fd = -1;
    return st;
}

sl_status sl__wal_sync(sl__wal *w)
{
    if (w->fd >= 0 && fsync(w->fd) != 0) {
        sl_status st = sys_fail(w, errno, w->segs[w->nsegs - 1].path, "fsync");
        close(w->fd);
        w->fd = -1;
        return st;
    }
    return sl__ckpt_io_sync_dirs(&w->io);
}

/* ------------------------------------------------------------- read */

static int blk_cmp(const void *a, const void *b)
{
    const sl__wal_block *x = a, *y = b;
    if (x->receiver != y->receiver)
        return x->receiver < y->receiver ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Read, check and decompress the record r of s into out. */
static sl_status read_rec(sl__wal *w, const segment *s, const rec_ix *r,
                          sl__wal_block *out)
{
    size_t n = REC_HEAD + r->body_len, raw, nlen;
    unsigned char *b = sl_malloc(n);
    const char *why = "name length beyond the record";
    void *data = NULL;
    sl_status st = SL_ENOMEM;
    int fd = -1;
    ssize_t got;

    if (!b)
        return sl__err(&w->io.err, SL_ENOMEM, "out of memory");
    if ((fd = open(s->path, O_RDONLY | O_CLOEXEC)) < 0 ||
        (got = pread(fd, b, n, (off_t)r->off)) < 0) {
        st = sys_fail(w, errno, s->path, "read");
        goto free_b;
    }
    if ((size_t)got != n || get32(b + 8) != crc(b + REC_HEAD, r->body_len)) {
        st = sl__err(&w->io.err, SL_ECORRUPT,
                     "%s: record at offset %llu: changed since the WAL was "
                     "opened",
                     s->path, (unsigned long long)r->off);
        goto free_b;
    }
    raw = get32(b + REC_HEAD + 28);
    nlen = (size_t)b[REC_HEAD + 32] | (size_t)b[REC_HEAD + 33] << 8;
    memset(out, 0, sizeof *out);
    out->batch = r->batch;
    out->receiver = r->receiver;
    out->seq = r->seq;
    out->records = (int64_t)get64(b + REC_HEAD + 20);
    st = SL_ECORRUPT;
    if (BODY_FIXED + nlen > r->body_len)
        goto bad;
    if (!(out->name = sl_malloc(nlen + 1))) {
        st = SL_ENOMEM;
        why = "out of memory";
        goto bad;
    }
    memcpy(out->name, b + REC_HEAD + BODY_FIXED, nlen);
    out->name[nlen] = 0;
    /* The raw length bounds the frame, and the frame's blocks bound what
     * is allocated (sl__ckpt_unzstd): never the raw length alone. */
    st = sl__ckpt_unzstd(b + REC_HEAD + BODY_FIXED + nlen,
                         r->body_len - BODY_FIXED - nlen, raw, &data, &out->len,
                         &why);
    out->data = data;
    if (st == SL_OK && out->len == raw)
        goto free_b;
    if (st == SL_OK) {
        st = SL_ECORRUPT;
        why = "fewer bytes than its raw length";
    }
bad:
    sl_free(out->name);
    sl_free(out->data);
    out->name = out->data = NULL;
    st = sl__err(&w->io.err, st == SL_ENOMEM ? SL_ENOMEM : SL_ECORRUPT,
                 "%s: record at offset %llu: bad name or compressed block "
                 "(%s)",
                 s->path, (unsigned long long)r->off, why);
free_b:
    if (fd >= 0)
        close(fd);
    sl_free(b);
    return st;
}

/* The newest run with a record of batch, or 0. */
static uint64_t newest_run(const sl__wal *w, int64_t batch)
{
    for (size_t i = w->nsegs; i-- > 0;)
        for (size_t j = 0; j < w->segs[i].nrecs; j++)
            if (w->segs[i].recs[j].batch == batch)
                return w->segs[i].run;
    return 0;
}

static size_t count_recs(const sl__wal *w, int64_t batch, uint64_t run)
{
    size_t n = 0;
    for (size_t i = 0; i < w->nsegs; i++)
        for (size_t j = 0; w->segs[i].run == run && j < w->segs[i].nrecs; j++)
            n += w->segs[i].recs[j].batch == batch;
    return n;
}

sl_status sl__wal_read_batch(sl__wal *w, int64_t batch, sl__wal_block **out,
                             size_t *n)
{
    uint64_t run = newest_run(w, batch);
    size_t want = run ? count_recs(w, batch, run) : 0, got = 0;
    sl__wal_block *v;
    sl_status st = SL_OK;

    *out = NULL;
    *n = 0;
    if (want == 0)
        return SL_OK;
    if (!(v = zalloc(want * sizeof *v)))
        return sl__err(&w->io.err, SL_ENOMEM, "out of memory");
    for (size_t i = 0; i < w->nsegs && st == SL_OK; i++) {
        const segment *s = &w->segs[i];
        for (size_t j = 0; s->run == run && j < s->nrecs && st == SL_OK; j++)
            if (s->recs[j].batch == batch &&
                (st = read_rec(w, s, &s->recs[j], &v[got])) == SL_OK)
                got++;
    }
    if (st != SL_OK) {
        sl__wal_blocks_free(v, got);
        return st;
    }
    if (got > 1)
        qsort(v, got, sizeof *v, blk_cmp);
    *out = v;
    *n = got;
    return SL_OK;
}

void sl__wal_blocks_free(sl__wal_block *b, size_t n)
{
    for (size_t i = 0; b && i < n; i++) {
        sl_free(b[i].name);
        sl_free(b[i].data);
    }
    sl_free(b);
}

/* ------------------------------------------------------------ prune */

sl_status sl__wal_prune(sl__wal *w, int64_t first_needed)
{
    size_t i = 0, kept = 0;
    sl_status st = SL_OK;

    for (i = 0; i < w->nsegs; i++) {
        segment *s = &w->segs[i];
        bool open_one = w->fd >= 0 && i == w->nsegs - 1;
        if (st == SL_OK && !open_one && s->max_batch < first_needed &&
            (st = sl__ckpt_unlink(&w->io, s->path)) == SL_OK) {
            sl_free(s->path);
            sl_free(s->recs);
            continue;
        }
        w->segs[kept++] = *s;
    }
    w->nsegs = kept;
    return st;
}
