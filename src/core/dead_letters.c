/*
 * Dead-letter files: the one writer of every record set aside (malformed,
 * bad_value, too_long, ...), one JSON object per line, written at once
 * (sl__dead_letters_put) or by the file's writer thread
 * (sl__dead_letters_put_async, for the I/O thread), and the counts of what
 * was set aside (sl__bad_counts). See records.h for the contract.
 */
#include "core/records.h"
#include "core/schema.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* A formatted dead letter waiting for the writer thread. */
typedef struct dead_line {
    struct dead_line *next;
    size_t len, replaced;
    char data[];
} dead_line;

struct sl__dead_letters {
    int fd;
    pthread_mutex_t lock; /* one line at a time from the workers */
    _Atomic int64_t count, failed;
    _Atomic int64_t replaced; /* ill-formed UTF-8 sequences written as U+FFFD */
    sl__bad_counts *counts;   /* the context's, or NULL */
    /* sl__dead_letters_put_async's queue and writer (started by the
     * first), under qlock */
    pthread_mutex_t qlock;
    pthread_cond_t qcv;
    dead_line *head, **tail;
    size_t queued_bytes; /* formatted bytes queued or being written */
    bool writer_started, closing;
    pthread_t writer;
    char path[];
};

void sl__bad_counts_init(sl__bad_counts *c, const sl__logger *log)
{
    memset(c, 0, sizeof *c);
    c->log = log;
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->idle, NULL);
}

void sl__bad_counts_destroy(sl__bad_counts *c)
{
    pthread_cond_destroy(&c->idle);
    pthread_mutex_destroy(&c->lock);
}

bool sl__bad_counts_drain(sl__bad_counts *c, int64_t timeout_ms)
{
    struct timespec until;
    int rc = 0;

    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (timeout_ms % 1000) * 1000000;
    if (until.tv_nsec >= 1000000000) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&c->lock);
    while (atomic_load(&c->pending) > 0 && rc == 0)
        rc = pthread_cond_timedwait(&c->idle, &c->lock, &until);
    pthread_mutex_unlock(&c->lock);
    return atomic_load(&c->pending) == 0;
}

/* n queued lines were written or failed: wake a drain at 0. */
static void counts_done(sl__bad_counts *c, int64_t n)
{
    if (!c || atomic_fetch_sub(&c->pending, n) != n)
        return;
    pthread_mutex_lock(&c->lock);
    pthread_cond_broadcast(&c->idle);
    pthread_mutex_unlock(&c->lock);
}

const char *sl__dead_letter_path(const sl_conf *own, const char *key,
                                 const sl_conf *ctx_conf)
{
    const char *p = own ? sl_conf_get(own, key) : NULL;

    if (!p || !*p)
        p = own ? sl_conf_get(own, "dead_letter") : NULL;
    if (!p || !*p)
        p = ctx_conf ? sl_conf_get(ctx_conf, "dead_letter") : NULL;
    return p && *p ? p : NULL;
}

void sl__bad_counts_lost(sl__bad_counts *c, int64_t n, bool dropped,
                         const char *what, const char *why)
{
    int64_t now = sl__now_mono_ms(), last, total;

    if (!c)
        return;
    total = atomic_fetch_add(dropped ? &c->dropped : &c->failed, n) + n;
    last = atomic_load(&c->failed_logged_ms);
    /* One report per 10 s across the threads: whoever swaps the stamp. */
    if (last && now - last < 10000)
        return;
    if (!atomic_compare_exchange_strong(&c->failed_logged_ms, &last,
                                        now ? now : 1))
        return;
    sl__log(c->log, SL_LOG_ERROR, "%s: %s; dead letter lost (%lld %s so far)",
            what, why, (long long)total, dropped ? "dropped" : "failed");
}

sl_status sl__dead_letters_open(const char *path, sl__bad_counts *counts,
                                sl__dead_letters **out, char *err,
                                size_t errlen)
{
    size_t n = strlen(path);
    sl__dead_letters *d;

    *out = NULL;
    if (counts && counts->trial)
        return SL_OK;
    if (!(d = sl_malloc(sizeof *d + n + 1)))
        return sl__errbuf(err, errlen, SL_ENOMEM, "out of memory");
    d->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (d->fd < 0) {
        int e = errno;
        sl_free(d);
        return sl__errbuf(err, errlen, SL_EIO, "cannot open %s: %s", path,
                          SL__STRERROR(e));
    }
    memcpy(d->path, path, n + 1);
    pthread_mutex_init(&d->lock, NULL);
    pthread_mutex_init(&d->qlock, NULL);
    pthread_cond_init(&d->qcv, NULL);
    d->head = NULL;
    d->tail = &d->head;
    d->queued_bytes = 0;
    d->writer_started = d->closing = false;
    atomic_init(&d->count, 0);
    atomic_init(&d->failed, 0);
    atomic_init(&d->replaced, 0);
    d->counts = counts;
    *out = d;
    return SL_OK;
}

/* Append a JSON string (with its quotes) of s at *p. */
static void put_json_string(char **p, const char *s, size_t n, size_t *replaced)
{
    *(*p)++ = '"';
    *p += sl__json_escape(*p, s, n, replaced);
    *(*p)++ = '"';
}

/* Write all n bytes of buf, through EINTR and short writes; *e is the
 * errno of a failure (0 for a write of nothing). */
static sl_status write_all(int fd, const char *buf, size_t n, int *e)
{
    ssize_t w;

    while (n > 0) {
        w = write(fd, buf, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            *e = w < 0 ? errno : 0;
            return SL_EIO;
        }
        buf += w;
        n -= (size_t)w;
    }
    return SL_OK;
}

/* Bytes a JSON string of s (with its quotes) takes; 2 for NULL ("") */
static size_t json_string_size(const char *s, size_t n)
{
    return 2 + (s ? sl__json_escape(NULL, s, n, NULL) : 0);
}

/* Append the literal lit at *p. */
static void put_lit(char **p, const char *lit)
{
    size_t n = strlen(lit);
    memcpy(*p, lit, n);
    *p += n;
}

/* Append ,"key":"s" at *p; nothing for a NULL s. */
static void put_field(char **p, const char *key, const char *s,
                      size_t *replaced)
{
    if (!s)
        return;
    put_lit(p, key);
    put_json_string(p, s, strlen(s), replaced);
}

/* The bytes one dead letter takes at most (numbers: 20 digits each). */
static size_t dead_letter_size(const sl__dead_letter *r, bool raw)
{
    const char *origin = r->source ? r->source : r->stream;
    size_t n = 200; /* the keys, three numbers, punctuation */

    n += json_string_size(origin, origin ? strlen(origin) : 0);
    n += json_string_size(r->reason, r->reason ? strlen(r->reason) : 0);
    n += json_string_size(r->error, r->error ? strlen(r->error) : 0);
    n += json_string_size(r->file, r->file ? strlen(r->file) : 0) + 20;
    if (r->value)
        n += strlen(r->value);
    else
        n += json_string_size(r->text, r->text_len);
    if (raw)
        n += 16 + sl__base64(NULL, r->text, r->text_len);
    return n;
}

/* Format r at buf (dead_letter_size bytes); returns the end. */
static char *format_dead_letter(char *buf, const sl__dead_letter *r, bool raw,
                                size_t *replaced)
{
    char *p = buf;
    int64_t t = r->time_ms ? r->time_ms : sl__now_wall_ms();

    p += sprintf(p, "{\"time_ms\":%lld,\"batch\":", (long long)t);
    if (r->batch >= 0)
        p += sprintf(p, "%lld", (long long)r->batch);
    else
        put_lit(&p, "null");
    if (r->source) {
        put_field(&p, ",\"origin\":{\"source\":", r->source, replaced);
    } else {
        put_field(&p, ",\"origin\":{\"stream\":", r->stream ? r->stream : "",
                  replaced);
        p += sprintf(p, ",\"op\":%d", r->op);
    }
    *p++ = '}';
    put_field(&p, ",\"reason\":", r->reason ? r->reason : "", replaced);
    put_field(&p, ",\"error\":", r->error ? r->error : "", replaced);
    if (r->value) {
        put_lit(&p, ",\"value\":");
        put_lit(&p, r->value);
    } else {
        put_lit(&p, ",\"text\":");
        put_json_string(&p, r->text ? r->text : "", r->text_len, replaced);
    }
    if (raw) { /* not UTF-8: the exact bytes too */
        put_lit(&p, ",\"text_b64\":\"");
        p += sl__base64(p, r->text, r->text_len);
        *p++ = '"';
    }
    if (r->truncated)
        put_lit(&p, ",\"truncated\":true");
    put_field(&p, ",\"file\":", r->file, replaced);
    if (r->file && r->line > 0)
        p += sprintf(p, ",\"line\":%lld", (long long)r->line);
    put_lit(&p, "}\n");
    return p;
}

/* A record that could not be written: counted and reported. */
static sl_status put_failed(sl__dead_letters *d, sl_status st, int e)
{
    char what[600], buf[128];
    const char *why = st == SL_ENOMEM ? "out of memory"
                      : e             ? strerror_r(e, buf, sizeof buf)
                                      : "nothing written";

    atomic_fetch_add(&d->failed, 1);
    snprintf(what, sizeof what, "cannot write to dead-letter file %s", d->path);
    sl__bad_counts_lost(d->counts, 1, false, what, why);
    return st;
}

/* Write one formatted line (len bytes, replaced U+FFFD in it), counted. */
static sl_status write_line(sl__dead_letters *d, const char *buf, size_t len,
                            size_t replaced)
{
    sl_status st;
    int e = 0;

    /* One write per record: O_APPEND keeps other writers' lines whole
     * (other processes, and other handles on the same path), the lock
     * this handle's. */
    pthread_mutex_lock(&d->lock);
    st = write_all(d->fd, buf, len, &e);
    if (st == SL_OK) {
        atomic_fetch_add(&d->count, 1);
        atomic_fetch_add(&d->replaced, (int64_t)replaced);
    }
    pthread_mutex_unlock(&d->lock);
    if (st != SL_OK)
        return put_failed(d, st, e);
    if (d->counts)
        atomic_fetch_add(&d->counts->written, 1);
    return SL_OK;
}

sl_status sl__dead_letters_put(sl__dead_letters *d, const sl__dead_letter *r)
{
    bool raw = !r->value && r->text && !sl__utf8_valid(r->text, r->text_len);
    size_t replaced = 0;
    char *buf = sl_malloc(dead_letter_size(r, raw)), *end;
    sl_status st;

    if (!buf)
        return put_failed(d, SL_ENOMEM, 0);
    end = format_dead_letter(buf, r, raw, &replaced);
    st = write_line(d, buf, (size_t)(end - buf), replaced);
    sl_free(buf);
    return st;
}

/* The writer thread: writes the queued lines in order until the handle
 * closes, then what is left. */
static void *dead_writer(void *arg)
{
    sl__dead_letters *d = arg;
    dead_line *batch, *next;
    size_t bytes;
    int64_t n;

    pthread_mutex_lock(&d->qlock);
    for (;;) {
        while (!d->head && !d->closing)
            pthread_cond_wait(&d->qcv, &d->qlock);
        if (!d->head)
            break;
        batch = d->head;
        d->head = NULL;
        d->tail = &d->head;
        pthread_mutex_unlock(&d->qlock);
        for (bytes = 0, n = 0; batch; batch = next, n++) {
            next = batch->next;
            bytes += batch->len;
            write_line(d, batch->data, batch->len, batch->replaced);
            sl_free(batch);
        }
        counts_done(d->counts, n);
        pthread_mutex_lock(&d->qlock);
        d->queued_bytes -= bytes; /* written: room for more */
    }
    pthread_mutex_unlock(&d->qlock);
    return NULL;
}

/* Queue l for the writer (started here the first time); false when it
 * cannot take it: too many bytes wait, or no thread. Under qlock. */
static bool dead_enqueue(sl__dead_letters *d, dead_line *l)
{
    if (d->queued_bytes + l->len > SL__DEAD_QUEUE_BYTES)
        return false;
    if (!d->writer_started &&
        pthread_create(&d->writer, NULL, dead_writer, d) != 0)
        return false;
    d->writer_started = true;
    if (d->counts)
        atomic_fetch_add(&d->counts->pending, 1);
    l->next = NULL;
    *d->tail = l;
    d->tail = &l->next;
    d->queued_bytes += l->len;
    pthread_cond_signal(&d->qcv);
    return true;
}

void sl__dead_letters_put_async(sl__dead_letters *d, const sl__dead_letter *r)
{
    bool raw = !r->value && r->text && !sl__utf8_valid(r->text, r->text_len);
    size_t replaced = 0;
    dead_line *l = sl_malloc(sizeof *l + dead_letter_size(r, raw));
    bool queued;

    if (!l) {
        put_failed(d, SL_ENOMEM, 0);
        return;
    }
    l->len = (size_t)(format_dead_letter(l->data, r, raw, &replaced) - l->data);
    l->replaced = replaced;
    pthread_mutex_lock(&d->qlock);
    queued = dead_enqueue(d, l);
    pthread_mutex_unlock(&d->qlock);
    if (queued)
        return;
    sl_free(l);
    sl__bad_counts_lost(d->counts, 1, true, d->path,
                        "too many dead letters wait for the disk");
}

int64_t sl__dead_letters_replaced(const sl__dead_letters *d)
{
    return atomic_load(&((sl__dead_letters *)d)->replaced);
}

int64_t sl__dead_letters_count(const sl__dead_letters *d)
{
    return atomic_load(&((sl__dead_letters *)d)->count);
}

int64_t sl__dead_letters_failed(const sl__dead_letters *d)
{
    return atomic_load(&((sl__dead_letters *)d)->failed);
}

void sl__dead_letters_close(sl__dead_letters *d)
{
    if (!d)
        return;
    if (d->writer_started) { /* the writer drains the queue first */
        pthread_mutex_lock(&d->qlock);
        d->closing = true;
        pthread_cond_signal(&d->qcv);
        pthread_mutex_unlock(&d->qlock);
        pthread_join(d->writer, NULL);
    }
    close(d->fd);
    pthread_cond_destroy(&d->qcv);
    pthread_mutex_destroy(&d->qlock);
    pthread_mutex_destroy(&d->lock);
    sl_free(d);
}

void sl__dead_letters_put_row(sl__dead_letters *d, sl__dead_letter *r,
                              const sl_schema *s, const sl_value *row)
{
    sl__buf json = {0};
    if (sl__json_put_row(&json, s, row) || sl__buf_append(&json, "", 1)) {
        sl__buf_free(&json);
        sl__bad_counts_lost(d->counts, 1, false, "dead letter of a row",
                            "out of memory");
        return;
    }
    r->value = json.data;
    sl__dead_letters_put(d, r); /* a failed write is counted there */
    r->value = NULL;
    sl__buf_free(&json);
}
