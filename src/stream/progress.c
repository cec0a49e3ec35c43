/*
 * The progress entry: after every batch, one JSON object saying what the
 * batch read, how long each phase took, what state and sinks hold, built
 * on the job thread into one reused buffer, handed to the listeners'
 * on_progress and kept (the last progress.retain) for sl_context_recent_
 * progress. docs/architecture.md (progress) lists its fields.
 */
#include "core/schema.h"
#include "stream/stream_int.h"

#include "state/store.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

/* What the entries remember of a planned source between batches. */
typedef struct sl__src_track {
    char *prev; /* the last entry's end: the next entry's start */
    size_t prev_cap;
    int64_t records, malformed; /* its counters at the last entry */
    sl_source_progress now;     /* its counters for this entry */
    int64_t rows;               /* this entry's rows */
} sl__src_track;

int64_t sl__now_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* A uuid-like (version 4) id from the kernel's random source; without one
 * (a sandbox without getrandom) the clocks make it unique enough for an
 * id that only tells runs apart. */
static void new_id(char out[40])
{
    unsigned char r[16];
    size_t got = 0;
    int i, o = 0;
    while (got < sizeof r) {
        ssize_t n = getrandom(r + got, sizeof r - got, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int64_t a = sl__now_mono_us(), b = sl__now_wall_ms();
            memcpy(r, &a, sizeof a);
            memcpy(r + 8, &b, sizeof b);
            break;
        }
        got += (size_t)n;
    }
    r[6] = (unsigned char)((r[6] & 0x0f) | 0x40);
    r[8] = (unsigned char)((r[8] & 0x3f) | 0x80);
    for (i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        o += snprintf(out + o, 3, "%02x", r[i]);
    }
    out[o] = '\0';
}

sl_status sl__progress_init(sl_context *ctx)
{
    sl__progress *p = &ctx->progress;
    int64_t retain = sl__conf_int(ctx->conf, "progress.retain");
    if (pthread_mutex_init(&p->lock, NULL))
        return SL_ENOMEM;
    p->cap = (size_t)retain;
    if (p->cap && !(p->ring = sl_malloc(p->cap * sizeof *p->ring))) {
        pthread_mutex_destroy(&p->lock);
        return SL_ENOMEM;
    }
    if (p->cap)
        memset(p->ring, 0, p->cap * sizeof *p->ring);
    new_id(p->job_id);
    return SL_OK;
}

void sl__progress_destroy(sl_context *ctx)
{
    sl__progress *p = &ctx->progress;
    size_t i;
    for (i = 0; i < p->cap; i++)
        sl_free(p->ring[i]);
    sl_free(p->ring);
    for (i = 0; i < p->nsrc; i++)
        sl_free(p->src[i].prev);
    sl_free(p->src);
    sl_free(p->buf);
    sl_free(p->job_name);
    pthread_mutex_destroy(&p->lock);
}

sl_status sl__progress_start(sl_context *ctx)
{
    sl__progress *p = &ctx->progress;
    new_id(p->run_id);
    if (ctx->nplanned == 0 || p->src)
        return SL_OK;
    if (!(p->src = sl_malloc(ctx->nplanned * sizeof *p->src))) {
        sl__ctx_set_error(ctx, SL_ENOMEM, "progress: out of memory");
        return SL_ENOMEM;
    }
    memset(p->src, 0, ctx->nplanned * sizeof *p->src);
    p->nsrc = ctx->nplanned;
    return SL_OK;
}

sl_status sl__context_set_job_name(sl_context *ctx, const char *name)
{
    char *copy = NULL;
    if (name && !(copy = sl__strdup(name)))
        return SL_ENOMEM;
    sl_free(ctx->progress.job_name);
    ctx->progress.job_name = copy;
    return SL_OK;
}

sl_status sl__context_set_job_id(sl_context *ctx, const char *id)
{
    if (!id || strlen(id) >= sizeof ctx->progress.job_id)
        return SL_EINVAL;
    if (sl__ctx_check_building(ctx) != SL_OK)
        return SL_ESTATE;
    strcpy(ctx->progress.job_id, id);
    return SL_OK;
}

void sl__batch_set_checkpoint_stats(batch *b, int64_t bytes, int64_t files)
{
    b->ckpt_bytes = bytes;
    b->ckpt_files = files;
}

/* ------------------------------------------------------------- building */

/* Room for more bytes (and a NUL) in the entry; false (and the entry
 * marked failed) when memory runs out. */
static bool reserve(sl__progress *p, size_t more)
{
    size_t cap;
    char *grown;
    if (p->failed)
        return false;
    if (p->len + more + 1 <= p->buf_cap)
        return true;
    cap = p->buf_cap ? p->buf_cap : 1024;
    while (cap < p->len + more + 1)
        cap *= 2;
    if (!(grown = sl_realloc(p->buf, cap))) {
        p->failed = true;
        return false;
    }
    p->buf = grown;
    p->buf_cap = cap;
    return true;
}

static void put(sl__progress *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void put(sl__progress *p, const char *fmt, ...)
{
    va_list ap;
    int n;
    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !reserve(p, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(p->buf + p->len, p->buf_cap - p->len, fmt, ap);
    va_end(ap);
    p->len += (size_t)n;
}

/* s as a JSON string through the one escaper, or null. */
static void put_str(sl__progress *p, const char *s)
{
    size_t n, need;
    if (!s) {
        put(p, "null");
        return;
    }
    n = strlen(s);
    need = sl__json_escape(NULL, s, n, NULL);
    if (!reserve(p, need + 2))
        return;
    p->buf[p->len++] = '"';
    p->len += sl__json_escape(p->buf + p->len, s, n, NULL);
    p->buf[p->len++] = '"';
    p->buf[p->len] = '\0';
}

/* Microseconds as milliseconds with three decimals. */
static void put_ms(sl__progress *p, const char *key, int64_t us, bool comma)
{
    if (us < 0)
        us = 0;
    put(p, "\"%s\":%lld.%03lld%s", key, (long long)(us / 1000),
        (long long)(us % 1000), comma ? "," : "");
}

static void put_head(sl_context *ctx, const batch *b)
{
    sl__progress *p = &ctx->progress;
    const sl_batch_info *info = &b->info;
    time_t secs = (time_t)(info->end_ms / 1000);
    struct tm tm;
    char when[32] = "";
    /* Rows per second of stream time the batch covers (absorbed ticks
     * included), so the same input gives the same rate on any clock;
     * processed: per second of the batch's own run (Spark's
     * processedRowsPerSecond). */
    double span_s =
        (double)ctx->interval_ms * (double)(1 + info->absorbed_ticks) / 1000.0;
    int64_t total_us = b->phase_us[SL__PHASE_TOTAL];
    int64_t rows = info->num_records + p->extra_rows;

    if (gmtime_r(&secs, &tm))
        strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
    put(p, "{\"job\":");
    put_str(p, p->job_name);
    put(p, ",\"job_id\":");
    put_str(p, p->job_id);
    put(p, ",\"run_id\":");
    put_str(p, p->run_id);
    put(p,
        ",\"batch\":%lld,\"batch_time_ms\":%lld,\"timestamp\":\"%s.%03lldZ\","
        "\"input_rows\":%lld,\"input_rows_per_s\":%.3f,"
        "\"processed_rows_per_s\":%.3f,",
        (long long)b->id, (long long)b->time_ms, when,
        (long long)(info->end_ms % 1000), (long long)rows,
        span_s > 0 ? (double)rows / span_s : 0.0,
        total_us > 0 ? (double)rows * 1e6 / (double)total_us : 0.0);
}

static void put_durations(sl_context *ctx, const batch *b)
{
    sl__progress *p = &ctx->progress;
    put(p, "\"duration_ms\":{");
    put_ms(p, "plan", b->phase_us[SL__PHASE_PLAN], true);
    put_ms(p, "offsets", b->phase_us[SL__PHASE_OFFSETS], true);
    put_ms(p, "compute", b->phase_us[SL__PHASE_COMPUTE], true);
    put_ms(p, "sinks", b->phase_us[SL__PHASE_SINKS], true);
    put_ms(p, "commit", b->phase_us[SL__PHASE_COMMIT], true);
    put_ms(p, "total", b->phase_us[SL__PHASE_TOTAL], false);
    put(p,
        "},\"scheduling_delay_ms\":%lld,\"queued_batches\":%lld,"
        "\"absorbed_ticks\":%lld,",
        (long long)b->info.scheduling_delay_ms, (long long)b->queued_behind,
        (long long)b->info.absorbed_ticks);
}

static const char *state_op(const sl_dstream *s)
{
    if (s->name)
        return s->name;
    return s->kind == DS_UPDATE_STATE ? "update_state_by_key"
                                      : "map_with_state";
}

/* One element of state: op's rows and bytes. */
static void put_state_op(sl__progress *p, bool first, const char *op,
                         size_t rows, size_t bytes, int64_t late)
{
    put(p, "%s{\"op\":", first ? "" : ",");
    put_str(p, op);
    put(p, ",\"rows\":%zu,\"bytes\":%zu,\"dropped_late\":%lld}", rows, bytes,
        (long long)late);
}

/*
 * Every state store and window, in the order the streams were made. A
 * window is named as its checkpoint files are (ckpt_state.c): its stream
 * name, else "~window-<k>" by its place among the windows, oldest first.
 * No watermark exists yet, so nothing is dropped as late.
 */
static void put_state(sl_context *ctx)
{
    sl__progress *p = &ctx->progress;
    const sl_dstream *s = ctx->streams;
    bool first = true;
    size_t windows = 0, rows, bytes;
    char name[32];
    while (s && s->next_in_ctx)
        s = s->next_in_ctx;
    put(p, "\"state\":[");
    for (; s; s = s->newer_in_ctx) {
        if (s->store) {
            /* the batch's late rows: read and reset for the next */
            put_state_op(p, first, state_op(s), sl__state_count(s->store),
                         sl__state_bytes(s->store),
                         atomic_exchange(&((sl_dstream *)s)->dropped_late, 0));
        } else if (sl__is_window(s)) {
            snprintf(name, sizeof name, "~window-%zu", windows++);
            sl__window_state(s, &rows, &bytes);
            put_state_op(p, first, s->name ? s->name : name, rows, bytes, 0);
        } else {
            continue;
        }
        first = false;
    }
    put(p, "],");
}

/* Keep offsets as planned source t's next start (the buffer grows only
 * when an entry is longer than every one before). NULL: none. */
static void keep_prev(sl__src_track *t, const char *offsets)
{
    size_t n;
    char *grown;
    if (!offsets) {
        if (t->prev)
            t->prev[0] = '\0';
        return;
    }
    n = strlen(offsets) + 1;
    if (n > t->prev_cap) {
        if (!(grown = sl_realloc(t->prev, n))) {
            t->prev_cap = 0; /* unknown start rather than a wrong one */
            sl_free(t->prev);
            t->prev = NULL;
            return;
        }
        t->prev = grown;
        t->prev_cap = n;
    }
    memcpy(t->prev, offsets, n);
}

/*
 * Before the entry is written: ask each planned source for its counters
 * (version 3). A source whose readers count what they read (not announced
 * at plan) gets the records read since the last entry as its rows, which
 * the entry's input_rows adds to the batch's num_records.
 */
static void collect_sources(sl_context *ctx, const batch *b)
{
    sl__progress *p = &ctx->progress;
    size_t i;
    p->extra_rows = 0;
    for (i = 0; i < p->nsrc; i++) {
        const sl_dstream *s = ctx->planned[i];
        sl__src_track *t = &p->src[i];
        int64_t planned = b->planned ? b->plans[i].records : 0;
        t->now.records = t->now.malformed = t->now.lag = -1;
        if (s->planned->version >= 3 && s->planned->progress)
            s->planned->progress(s->planned_state, &t->now);
        t->rows = planned;
        if (t->now.records >= 0 && planned == 0) {
            t->rows = t->now.records - t->records;
            p->extra_rows += t->rows;
        }
        if (t->now.records >= 0)
            t->records = t->now.records;
    }
}

/* Recorded offsets are JSON already (sl_plan_set_offsets): put as is. */
static void put_raw(sl__progress *p, const char *json)
{
    put(p, "%s", json && *json ? json : "null");
}

/* A planned source: start is the end the previous batch recorded (null
 * for the first batch of a run), end what this batch recorded; malformed
 * what it set aside since the last entry, null (and lag) where unknown. */
static void put_planned(sl_context *ctx, const batch *b, size_t i)
{
    sl__progress *p = &ctx->progress;
    const sl_dstream *s = ctx->planned[i];
    sl__src_track *t = &p->src[i];
    const char *end = b->planned ? b->offsets[i].offsets : NULL;
    put(p, "{\"name\":");
    put_str(p, s->name ? s->name : s->planned->name);
    put(p, ",\"description\":");
    put_str(p, s->planned->name);
    put(p, ",\"start\":");
    put_raw(p, t->prev);
    put(p, ",\"end\":");
    put_raw(p, end);
    put(p, ",\"rows\":%lld,\"malformed\":", (long long)t->rows);
    if (t->now.malformed >= 0) {
        put(p, "%lld", (long long)(t->now.malformed - t->malformed));
        t->malformed = t->now.malformed;
    } else {
        put(p, "null");
    }
    if (t->now.lag >= 0)
        put(p, ",\"lag\":%lld}", (long long)t->now.lag);
    else
        put(p, ",\"lag\":null}");
    keep_prev(t, end);
}

/* A receiver: its range is the sealed blocks' sequence numbers [start,
 * end); malformed, the over-long lines dropped since the last entry; lag,
 * the lines received since (in blocks waiting for the next batch or the
 * block being filled), as the I/O thread counts them. */
static void put_receiver(sl_context *ctx, const batch *b, size_t i)
{
    sl__progress *p = &ctx->progress;
    sl_receiver *r = ctx->receivers[i];
    const block *blk = b->blocks[i], *last = NULL;
    /* over-long lines and, with a format or schema, malformed records */
    int64_t rows = 0, too_long = atomic_load(&r->lines_too_long) +
                                 sl__receiver_records_malformed(r->records);
    for (; blk; blk = blk->next) {
        rows += blk->records;
        last = blk;
    }
    put(p, "{\"name\":");
    put_str(p, r->stream->name ? r->stream->name : r->ops->name);
    put(p, ",\"description\":");
    put_str(p, r->ops->name);
    if (last)
        put(p, ",\"start\":%llu,\"end\":%llu",
            (unsigned long long)b->blocks[i]->seq,
            (unsigned long long)last->seq + 1);
    else
        put(p, ",\"start\":null,\"end\":null");
    put(p, ",\"rows\":%lld,\"malformed\":%lld,\"lag\":%lld}", (long long)rows,
        (long long)(too_long - r->reported_too_long),
        (long long)atomic_load(&r->waiting));
    r->reported_too_long = too_long;
}

static void put_sources(sl_context *ctx, const batch *b)
{
    sl__progress *p = &ctx->progress;
    size_t i;
    put(p, "\"sources\":[");
    for (i = 0; i < ctx->nreceivers; i++) {
        put(p, "%s", i ? "," : "");
        put_receiver(ctx, b, i);
    }
    for (i = 0; i < ctx->nplanned; i++) {
        put(p, "%s", i || ctx->nreceivers ? "," : "");
        put_planned(ctx, b, i);
    }
    put(p, "],");
}

/* Every output: its name (a sink's name; foreach_rdd-POSITION for a
 * foreach_rdd) and the records it wrote, null where it does not count
 * them. */
static void put_sinks(sl_context *ctx, const batch *b)
{
    sl__progress *p = &ctx->progress;
    const output *o;
    size_t i = 0;
    put(p, "\"sinks\":[");
    for (o = ctx->outputs; o; o = o->next, i++) {
        if (o->name) {
            put(p, "%s{\"name\":", i ? "," : "");
            put_str(p, o->name);
        } else {
            put(p, "%s{\"name\":\"foreach_rdd-%zu\"", i ? "," : "", i);
        }
        if (o->rows < 0)
            put(p, ",\"rows\":null}");
        else
            put(p, ",\"rows\":%lld}", (long long)o->rows);
    }
    put(p, "],\"checkpoint\":{\"bytes\":%lld,\"files\":%lld}}",
        (long long)b->ckpt_bytes, (long long)b->ckpt_files);
}

/* Keep a copy of the entry, dropping the oldest past progress.retain. */
static void keep_entry(sl__progress *p)
{
    char *copy;
    size_t slot;
    if (p->cap == 0 || !(copy = sl_malloc(p->len + 1)))
        return;
    memcpy(copy, p->buf, p->len + 1);
    pthread_mutex_lock(&p->lock);
    slot = (p->head + p->count) % p->cap;
    if (p->count == p->cap) {
        sl_free(p->ring[p->head]);
        p->head = (p->head + 1) % p->cap;
    } else {
        p->count++;
    }
    p->ring[slot] = copy;
    pthread_mutex_unlock(&p->lock);
}

/* Spark's eventTime: the batch's event times (min, max, avg; left out
 * when it had none) and the watermark it used, as ISO-8601 UTC text;
 * absent when no stream declares a watermark. */
static void put_event_time(sl_context *ctx, const batch *b)
{
    char t[32];
    if (!ctx->has_watermark)
        return;
    put(&ctx->progress, "\"event_time\":{");
    if (b->event.count) {
        sl__ts_format_iso(b->event.min, t);
        put(&ctx->progress, "\"min\":\"%s\",", t);
        sl__ts_format_iso(b->event.max, t);
        put(&ctx->progress, "\"max\":\"%s\",", t);
        sl__ts_format_iso((int64_t)(b->event.sum / (double)b->event.count), t);
        put(&ctx->progress, "\"avg\":\"%s\",", t);
    }
    sl__ts_format_iso(b->watermark_ms, t);
    put(&ctx->progress, "\"watermark\":\"%s\"},", t);
}

void sl__progress_batch(sl_context *ctx, batch *b)
{
    sl__progress *p = &ctx->progress;
    listener *l;
    p->len = 0;
    p->failed = false;
    collect_sources(ctx, b);
    put_head(ctx, b);
    put_durations(ctx, b);
    put_state(ctx);
    put_sources(ctx, b);
    put_event_time(ctx, b);
    put_sinks(ctx, b);
    if (p->failed) {
        sl__log(&ctx->log, SL_LOG_WARN,
                "batch %lld: no progress entry: out of memory",
                (long long)b->id);
        return;
    }
    keep_entry(p);
    for (l = ctx->listeners; l; l = l->next)
        if (l->l.version >= 2 && l->l.on_progress)
            l->l.on_progress(p->buf, p->len, l->user);
}

/* ------------------------------------------------------------- reading */

sl_status sl_context_recent_progress(sl_context *ctx, size_t max, char **out,
                                     size_t *len)
{
    sl__progress *p;
    size_t i, n, first, need = 2;
    char *s;
    if (!ctx || !out)
        return SL_EINVAL;
    p = &ctx->progress;
    pthread_mutex_lock(&p->lock);
    n = max && max < p->count ? max : p->count;
    first = p->count - n;
    for (i = first; i < p->count; i++)
        need += strlen(p->ring[(p->head + i) % p->cap]) + 1;
    if (!(s = sl_malloc(need + 1))) {
        pthread_mutex_unlock(&p->lock);
        return SL_ENOMEM;
    }
    need = 0;
    s[need++] = '[';
    for (i = first; i < p->count; i++) {
        const char *e = p->ring[(p->head + i) % p->cap];
        size_t k = strlen(e);
        if (i > first)
            s[need++] = ',';
        memcpy(s + need, e, k);
        need += k;
    }
    pthread_mutex_unlock(&p->lock);
    s[need++] = ']';
    s[need] = '\0';
    *out = s;
    if (len)
        *len = need;
    return SL_OK;
}
