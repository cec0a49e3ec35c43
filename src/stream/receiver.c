/*
 * The engine side of receivers: receive blocks (a pool shared by all
 * receivers), appending bytes, the line-length limit, sealing blocks at
 * their last newline, and flow control against receiver.max_buffered_bytes.
 * Everything here runs on the I/O thread except block release, which the
 * job thread does when a batch is done.
 */
#include "stream/stream_int.h"

#include "core/records.h"

#include <stdio.h>
#include <string.h>

#define POOL_MAX 8 /* blocks kept for reuse */

/* ------------------------------------------------------------- blocks */

block *sl__block_get(sl_context *ctx)
{
    block *b = NULL;
    pthread_mutex_lock(&ctx->lock);
    if (ctx->free_blocks) {
        b = ctx->free_blocks;
        ctx->free_blocks = b->next;
        ctx->nfree_blocks--;
    }
    pthread_mutex_unlock(&ctx->lock);
    if (!b) {
        b = sl_malloc(sizeof *b + ctx->block_cap);
        if (!b)
            return NULL;
        b->cap = ctx->block_cap;
    }
    b->next = NULL;
    b->len = 0;
    b->charged = 0;
    b->records = 0;
    return b;
}

/* Buffered bytes count what blocks pin: an open block its data, a sealed
 * one its capacity (sealing copies a mostly empty block's lines into an
 * exact-size block, so that capacity stays close to the data). */
void sl__block_put(sl_context *ctx, block *b)
{
    atomic_fetch_sub(&ctx->buffered_bytes, (long long)b->charged);
    pthread_mutex_lock(&ctx->lock);
    if (b->cap == ctx->block_cap && ctx->nfree_blocks < POOL_MAX) {
        b->next = ctx->free_blocks;
        ctx->free_blocks = b;
        ctx->nfree_blocks++;
        b = NULL;
    }
    pthread_mutex_unlock(&ctx->lock);
    sl_free(b);
}

void sl__blocks_free_pool(sl_context *ctx)
{
    block *b, *next;
    for (b = ctx->free_blocks; b; b = next) {
        next = b->next;
        sl_free(b);
    }
    ctx->free_blocks = NULL;
    ctx->nfree_blocks = 0;
}

/* ------------------------------------------------------ flow control */

/* Pause every receiver above the bound; resume at three quarters of it,
 * so reading does not flap around the limit. I/O thread. */
void sl__io_flow_check(sl_context *ctx)
{
    long long held = atomic_load(&ctx->buffered_bytes);
    size_t i;
    /* An unterminated line cannot be handed to a batch until its newline
     * comes, so it must not count against the bound (it is capped by
     * receiver.max_line_bytes instead), or a bound smaller than a line
     * would stop reading for good. */
    for (i = 0; i < ctx->nreceivers; i++)
        held -= (long long)ctx->receivers[i]->line_len;
    if (!ctx->io_paused && held > ctx->max_buffered) {
        ctx->io_paused = true;
        sl__log(&ctx->log, SL_LOG_DEBUG,
                "%lld bytes buffered: pausing receivers", held);
        for (i = 0; i < ctx->nreceivers; i++) {
            sl_receiver *r = ctx->receivers[i];
            if (r->started && !r->stopped && !r->paused) {
                r->paused = true;
                atomic_fetch_add(&r->pauses, 1);
                r->ops->pause(r->state);
            }
        }
    } else if (ctx->io_paused && held <= ctx->max_buffered / 4 * 3) {
        ctx->io_paused = false;
        for (i = 0; i < ctx->nreceivers; i++) {
            sl_receiver *r = ctx->receivers[i];
            if (r->paused && !r->stopped) {
                r->paused = false;
                r->ops->resume(r->state);
            }
        }
    }
}

/* ------------------------------------------------------------ sealing */

static void append_sealed(sl_receiver *r, block *b)
{
    b->receiver = (uint32_t)r->index;
    b->seq = r->next_seq++;
    b->next = NULL;
    *r->sealed_tail = b;
    r->sealed_tail = &b->next;
}

/* A mostly empty open block (frequent batches, a slow sender): copy its
 * complete lines into an exact-size block and keep the open one, so that
 * each batch does not pin a whole block. */
static sl_status seal_copy(sl_receiver *r, size_t body)
{
    block *b = r->open, *nb = sl_malloc(sizeof *nb + body);
    if (!nb)
        return SL_ENOMEM;
    nb->cap = nb->len = nb->charged = body;
    nb->records = b->records;
    memcpy(nb->data, b->data, body);
    memmove(b->data, b->data + body, b->len - body);
    b->len -= body;
    b->charged -= body;
    b->records = 0;
    append_sealed(r, nb);
    return SL_OK;
}

/* Seal the open block at its last newline; the unterminated tail moves to
 * a fresh block (it is shorter than receiver.max_line_bytes). */
static sl_status seal_open(sl_receiver *r)
{
    block *b = r->open, *nb;
    size_t tail = r->line_len;
    if (!b || b->len == tail)
        return SL_OK;
    if (b->len - tail < b->cap / 2)
        return seal_copy(r, b->len - tail);
    nb = NULL;
    if (tail) {
        nb = sl__block_get(r->ctx);
        if (!nb)
            return SL_ENOMEM;
        memcpy(nb->data, b->data + b->len - tail, tail);
        nb->len = nb->charged = tail;
        b->len -= tail;
        b->charged -= tail;
    }
    /* From now on the block pins its whole capacity. */
    atomic_fetch_add(&r->ctx->buffered_bytes, (long long)(b->cap - b->charged));
    b->charged = b->cap;
    append_sealed(r, b);
    r->open = nb;
    return SL_OK;
}

/* At the stop, the unterminated tail of a connection that is still open
 * is not a line (its end was never received): drop it and count it. The
 * peer's close keeps Spark's rule instead (sl_receiver_end_of_stream). */
static void count_partial(sl_receiver *r, size_t tail)
{
    atomic_fetch_add(&r->partial_lines, 1);
    pthread_mutex_lock(&r->ctx->lock);
    r->ctx->left.partial++;
    pthread_mutex_unlock(&r->ctx->lock);
    sl__log(&r->ctx->log, SL_LOG_WARN,
            "receiver %s: dropped an unterminated line of %zu bytes at the "
            "stop (the connection was still open)",
            r->ops->name, tail);
}

static void drop_tail(sl_receiver *r)
{
    size_t tail = r->line_len;
    r->discarding = false;
    if (tail == 0 || !r->open)
        return;
    r->open->len -= tail;
    r->open->charged -= tail;
    atomic_fetch_sub(&r->ctx->buffered_bytes, (long long)tail);
    r->line_len = 0;
    count_partial(r, tail);
}

void sl__receiver_seal(sl_receiver *r, bool final)
{
    if (seal_open(r) != SL_OK)
        sl__log(&r->ctx->log, SL_LOG_WARN,
                "receiver %s: out of memory sealing a block; its data waits "
                "for the next batch",
                r->ops->name);
    if (final)
        drop_tail(r);
}

block *sl__receiver_take_sealed(sl_receiver *r)
{
    block *b = r->sealed, *k;
    int64_t taken = 0;
    for (k = b; k; k = k->next)
        taken += k->records;
    atomic_fetch_sub(&r->waiting, (long long)taken);
    r->sealed = NULL;
    r->sealed_tail = &r->sealed;
    return b;
}

/* A stop: count and drop whatever was not sealed into a batch. */
void sl__receiver_discard(sl_receiver *r)
{
    block *b, *next;
    int64_t lost = 0;
    drop_tail(r);
    if (r->open) {
        r->open->next = r->sealed;
        r->sealed = r->open;
        r->open = NULL;
    }
    for (b = r->sealed; b; b = next) {
        next = b->next;
        lost += b->records;
        sl__block_put(r->ctx, b);
    }
    r->sealed = NULL;
    r->sealed_tail = &r->sealed;
    r->line_len = 0;
    atomic_fetch_sub(&r->waiting, (long long)lost);
    pthread_mutex_lock(&r->ctx->lock);
    r->ctx->left.records += lost;
    pthread_mutex_unlock(&r->ctx->lock);
}

/* ------------------------------------------------------ receiver API */

struct event_base *sl_receiver_event_base(sl_receiver *r)
{
    return r->ctx->base;
}

char *sl_receiver_buffer(sl_receiver *r, size_t *len)
{
    block *b = r->open;
    size_t room;
    if (b && b->len == b->cap) {
        if (seal_open(r) != SL_OK)
            return NULL;
        b = r->open;
    }
    if (!b) {
        b = sl__block_get(r->ctx);
        if (!b)
            return NULL;
        r->open = b;
    }
    room = b->cap - b->len;
    if (*len == 0 || *len > room)
        *len = room;
    return b->data + b->len;
}

static void line_too_long(sl_receiver *r)
{
    long long n = atomic_fetch_add(&r->lines_too_long, 1) + 1;
    /* Report the first and then every 1000th, so a flood of bad input
     * cannot flood the log. */
    if (n == 1 || n % 1000 == 0)
        sl__log(&r->ctx->log, SL_LOG_WARN,
                "receiver %s: dropped a line longer than "
                "receiver.max_line_bytes (%lld bytes); %lld dropped so far",
                r->ops->name, (long long)r->ctx->max_line, n);
}

sl_status sl__receiver_dead_letters(sl_receiver *r, sl__dead_letters *d,
                                    const char *origin)
{
    if (!r->dead_text && !(r->dead_text = sl_malloc(SL__DEAD_TEXT_MAX)))
        return SL_ENOMEM;
    r->dead = d;
    r->dead_origin = origin;
    return SL_OK;
}

/* Keep what fits of n more bytes of the line being dropped (the "\n"
 * excluded); the rest is only counted. */
static void dead_keep(sl_receiver *r, const char *p, size_t n)
{
    size_t room = SL__DEAD_TEXT_MAX - r->dead_len;
    r->dead_seen += (int64_t)n;
    memcpy(r->dead_text + r->dead_len, p, n < room ? n : room);
    r->dead_len += n < room ? n : room;
}

/* The dropped line ended: write its dead letter. */
static void dead_done(sl_receiver *r)
{
    char why[96];
    sl__dead_letter dl = {.batch = -1, /* no batch took it */
                          .source = r->dead_origin,
                          .reason = "too_long",
                          .error = why,
                          .text = r->dead_text,
                          .text_len = r->dead_len};

    r->dead_open = false;
    /* A "\r" of a "\r\n" is no content (as sl__next_line drops it). */
    if (r->dead_seen == (int64_t)r->dead_len && r->dead_len &&
        r->dead_text[r->dead_len - 1] == '\r') {
        dl.text_len = --r->dead_len;
        r->dead_seen--;
    }
    dl.truncated = r->dead_seen > (int64_t)r->dead_len;
    snprintf(why, sizeof why,
             "line longer than receiver.max_line_bytes (%lld bytes)",
             (long long)r->ctx->max_line);
    /* Formatted here, written by the file's own writer thread: the I/O
     * thread never waits for the disk (a full queue drops and counts). */
    sl__dead_letters_put_async(r->dead, &dl);
}

/* An over-long line is found: its start (len bytes at start) and seg
 * bytes at src, nl whether they end it. */
static void dead_begin(sl_receiver *r, const char *start, size_t len,
                       const char *src, size_t seg, bool nl)
{
    if (!r->dead)
        return;
    r->dead_len = 0;
    r->dead_seen = 0;
    r->dead_open = true;
    dead_keep(r, start, len);
    dead_keep(r, src, seg - (nl ? 1 : 0));
    if (nl)
        dead_done(r);
}

/* Length of the line a segment ends or continues, as a reader sees it:
 * without its "\n", nor the "\r" before it (sl__next_line drops both).
 * A "\r" that ends a read may be the first half of a "\r\n" split
 * between reads: it is not counted until the next byte says. */
static size_t line_content(const sl_receiver *r, const char *src,
                           const char *dst, size_t seg, bool ends)
{
    size_t n = r->line_len + seg - (ends ? 1 : 0);
    if (n == 0)
        return n;
    if (!ends)
        return src[seg - 1] == '\r' ? n - 1 : n;
    if (seg >= 2 ? src[seg - 2] == '\r' : (r->line_len && dst[-1] == '\r'))
        n--;
    return n;
}

/* Take the n new bytes at src into the open block at dst, line by line:
 * complete lines are kept, an over-long line is dropped up to its newline
 * without ever being held beyond the limit. */
void sl_receiver_commit(sl_receiver *r, size_t n)
{
    block *b = r->open;
    char *src, *dst, *nl;
    size_t max = (size_t)r->ctx->max_line, seg;
    int64_t lines = b ? b->records : 0;

    if (!b || n == 0 || n > b->cap - b->len)
        return;
    atomic_fetch_add(&r->bytes, (long long)n);
    src = dst = b->data + b->len;
    while (n > 0) {
        nl = memchr(src, '\n', n);
        seg = nl ? (size_t)(nl - src) + 1 : n;
        if (r->discarding) {
            r->discarding = nl == NULL;
            if (r->dead_open)
                dead_keep(r, src, seg - (nl ? 1 : 0));
            if (r->dead_open && nl)
                dead_done(r);
        } else if (line_content(r, src, dst, seg, nl != NULL) > max) {
            dead_begin(r, dst - r->line_len, r->line_len, src, seg, nl);
            dst -= r->line_len; /* drop the line's start too */
            r->line_len = 0;
            r->discarding = nl == NULL;
            line_too_long(r);
        } else {
            if (dst != src)
                memmove(dst, src, seg);
            dst += seg;
            r->line_len = nl ? 0 : r->line_len + seg;
            b->records += nl ? 1 : 0;
        }
        src += seg;
        n -= seg;
    }
    atomic_fetch_add(&r->ctx->buffered_bytes,
                     (long long)((size_t)(dst - b->data) - b->len));
    b->charged += (size_t)(dst - b->data) - b->len; /* modular: may shrink */
    b->len = (size_t)(dst - b->data);
    atomic_fetch_add(&r->waiting, (long long)(b->records - lines));
    sl__io_flow_check(r->ctx);
}

void sl_receiver_end_of_stream(sl_receiver *r)
{
    char *p;
    size_t one = 1;
    r->discarding = false;
    if (r->dead_open) /* the connection ended the dropped line */
        dead_done(r);
    if (r->line_len == 0)
        return;
    p = sl_receiver_buffer(r, &one);
    if (!p)
        return;
    *p = '\n';
    sl_receiver_commit(r, 1);
}

int64_t sl_receiver_conf_int(sl_receiver *r, const char *name)
{
    int64_t v = 0;
    if (sl_conf_get_int(r->ctx->conf, name, &v) != SL_OK)
        return 0;
    return v;
}

void sl_receiver_log(sl_receiver *r, sl_log_level level, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    sl__log(&r->ctx->log, level, "receiver %s: %s", r->ops->name, msg);
}

void sl_receiver_count_error(sl_receiver *r)
{
    atomic_fetch_add(&r->errors, 1);
}

void sl_receiver_count_connect(sl_receiver *r, bool connected)
{
    atomic_fetch_add(&r->connect_attempts, 1);
    if (connected) {
        atomic_store(&r->connect_failures_in_row, 0);
        return;
    }
    atomic_fetch_add(&r->connect_failures, 1);
    atomic_fetch_add(&r->connect_failures_in_row, 1);
}

void sl_receiver_set_connecting(sl_receiver *r)
{
    atomic_store(&r->connecting, true);
}

void sl_receiver_fail(sl_receiver *r, sl_status st, const char *fmt, ...)
{
    sl_context *ctx = r->ctx;
    char msg[600];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (st == SL_OK)
        st = SL_EIO; /* a failure must not read as success */
    r->failed = true;
    sl__log(&ctx->log, SL_LOG_ERROR, "receiver %s: %s", r->ops->name, msg);
    /* Status and text together: a batch failing on the job thread at the
     * same moment cannot interleave its message with ours; the first
     * failure keeps both. */
    sl__ctx_fail_msg(ctx, st, "receiver %s: %s", r->ops->name, msg);
}

sl_status sl_receiver_stream_stats(sl_dstream *s, sl_receiver_stats *out)
{
    sl_receiver *r;
    if (!s || !out || s->kind != DS_RECEIVER)
        return SL_EINVAL;
    r = s->receiver;
    out->bytes = atomic_load(&r->bytes);
    out->lines_too_long = atomic_load(&r->lines_too_long);
    out->errors = atomic_load(&r->errors);
    out->pauses = atomic_load(&r->pauses);
    out->partial_lines = atomic_load(&r->partial_lines);
    out->connect_attempts = atomic_load(&r->connect_attempts);
    out->connect_failures = atomic_load(&r->connect_failures);
    out->connect_failures_in_row = atomic_load(&r->connect_failures_in_row);
    out->buffered_bytes = atomic_load(&s->ctx->buffered_bytes);
    return SL_OK;
}

/* ---------------------------------------------------------- channels */

/*
 * A receiver with several inputs at once (a listening socket's clients)
 * gives each a channel. Only the channel in use has its unterminated line
 * at the open block's end, where the next bytes continue it; the others'
 * lines wait copied out (at most receiver.max_line_bytes + 1 bytes each),
 * so a block never holds a line made of two inputs' bytes.
 */

sl_receiver_channel *sl_receiver_channel_new(sl_receiver *r)
{
    sl_receiver_channel *ch;

    if (!r || !(ch = sl_malloc(sizeof *ch)))
        return NULL;
    memset(ch, 0, sizeof *ch);
    /* A parked channel owns a dead-letter text buffer; the one in use
     * lends its buffer to the receiver (see park and unpark). */
    if (r->dead_text && !(ch->dead_text = sl_malloc(SL__DEAD_TEXT_MAX))) {
        sl_free(ch);
        return NULL;
    }
    return ch;
}

/* Room for the line of the channel taken into use: in the open block once
 * the current line has left it, or in a new block. Nothing is moved yet,
 * so a failure leaves everything as it was. */
static sl_status channel_room(sl_receiver *r, sl_receiver_channel *out,
                              size_t in_len)
{
    size_t t = r->line_len;
    char *nt;

    if (t > out->tail_cap) {
        if (!(nt = sl_realloc(out->tail, t)))
            return SL_ENOMEM;
        out->tail = nt;
        out->tail_cap = t;
    }
    if (in_len == 0)
        return SL_OK;
    /* A full block is sealed with its tail moved to a fresh block, which
     * then has room (block_cap > receiver.max_line_bytes + 1). */
    if (r->open && r->open->cap - (r->open->len - t) < in_len &&
        seal_open(r) != SL_OK)
        return SL_ENOMEM;
    if (!r->open && !(r->open = sl__block_get(r->ctx)))
        return SL_ENOMEM;
    return SL_OK;
}

/* Move the current line out of the open block into out. */
static void channel_park(sl_receiver *r, sl_receiver_channel *out)
{
    size_t t = r->line_len;

    if (t) {
        r->open->len -= t;
        r->open->charged -= t;
        memcpy(out->tail, r->open->data + r->open->len, t);
        atomic_fetch_sub(&r->ctx->buffered_bytes, (long long)t);
    }
    out->tail_len = t;
    r->line_len = 0;
    out->discarding = r->discarding;
    out->dead_open = r->dead_open;
    out->dead_len = r->dead_len;
    out->dead_seen = r->dead_seen;
    out->dead_text = r->dead_text;
    r->dead_text = NULL;
}

/* Put in's line at the open block's end (channel_room made room). */
static void channel_unpark(sl_receiver *r, sl_receiver_channel *in)
{
    size_t t = in->tail_len;

    if (t) {
        memcpy(r->open->data + r->open->len, in->tail, t);
        r->open->len += t;
        r->open->charged += t;
        atomic_fetch_add(&r->ctx->buffered_bytes, (long long)t);
    }
    in->tail_len = 0;
    r->line_len = t;
    r->discarding = in->discarding;
    r->dead_open = in->dead_open;
    r->dead_len = in->dead_len;
    r->dead_seen = in->dead_seen;
    r->dead_text = in->dead_text;
    in->dead_text = NULL;
}

sl_status sl_receiver_channel_use(sl_receiver *r, sl_receiver_channel *ch)
{
    sl_receiver_channel *out, *in;

    if (!r)
        return SL_EINVAL;
    if (ch == r->chan)
        return SL_OK;
    out = r->chan ? r->chan : &r->own;
    in = ch ? ch : &r->own;
    if (channel_room(r, out, in->tail_len) != SL_OK)
        return SL_ENOMEM;
    channel_park(r, out);
    channel_unpark(r, in);
    r->chan = ch;
    return SL_OK;
}

/* The channel in use goes: its line is dropped (its end never came) and
 * the receiver's own line comes back, if there is room for it. */
static void channel_free_current(sl_receiver *r, sl_receiver_channel *ch)
{
    sl_receiver_channel *own = &r->own;

    if (r->dead_open) /* the input ended the dropped line */
        dead_done(r);
    drop_tail(r);
    /* The receiver keeps the lent buffer; own's goes with ch. */
    sl_free(own->dead_text);
    own->dead_text = r->dead_text;
    ch->dead_text = NULL;
    r->dead_text = NULL;
    r->chan = NULL;
    if (own->tail_len && channel_room(r, ch, own->tail_len) != SL_OK) {
        count_partial(r, own->tail_len);
        own->tail_len = 0;
    }
    channel_unpark(r, own);
}

void sl_receiver_channel_free(sl_receiver *r, sl_receiver_channel *ch)
{
    if (!r || !ch)
        return;
    if (ch == r->chan)
        channel_free_current(r, ch);
    else if (ch->tail_len)
        count_partial(r, ch->tail_len);
    sl_free(ch->tail);
    sl_free(ch->dead_text);
    sl_free(ch);
}

/* -------------------------------------------------- stream creation */

static sl_status add_receiver(sl_context *ctx, sl_receiver *r)
{
    sl_receiver **nr =
        sl_realloc(ctx->receivers, (ctx->nreceivers + 1) * sizeof *nr);
    if (!nr)
        return SL_ENOMEM;
    ctx->receivers = nr;
    r->index = ctx->nreceivers;
    ctx->receivers[ctx->nreceivers++] = r;
    return SL_OK;
}

sl_dstream *sl_receiver_stream(sl_context *ctx, const sl_receiver_ops *ops,
                               void *state)
{
    sl_receiver *r;
    sl_dstream *s;
    if (!ctx || !ops || ops->version < 1 || !ops->start || !ops->stop ||
        !ops->pause || !ops->resume || !ops->free) {
        if (ops && ops->free)
            ops->free(state);
        if (ctx)
            sl__ctx_set_error(ctx, SL_EINVAL, "incomplete receiver methods");
        return NULL;
    }
    r = sl_malloc(sizeof *r);
    s = sl__dstream_new(ctx, DS_RECEIVER, NULL, 0);
    if (!r || !s || add_receiver(ctx, r) != SL_OK) {
        sl_free(r);
        ops->free(state);
        if (s)
            sl__ctx_set_error(ctx, SL_ENOMEM, "out of memory");
        return NULL;
    }
    memset(r, 0, sizeof *r);
    r->index = ctx->nreceivers - 1;
    r->ctx = ctx;
    r->stream = s;
    r->ops = ops;
    r->state = state;
    r->sealed_tail = &r->sealed;
    s->receiver = r;
    return s;
}

void sl__receiver_free(sl_receiver *r)
{
    block *b, *next;
    /* The connector's free may still release channels: none is in use
     * any more, and the own line parked for them goes here. */
    r->chan = NULL;
    sl_free(r->own.tail);
    sl_free(r->own.dead_text);
    if (r->open) {
        r->open->next = r->sealed;
        r->sealed = r->open;
    }
    for (b = r->sealed; b; b = next) {
        next = b->next;
        sl__block_put(r->ctx, b);
    }
    r->ops->free(r->state);
    sl__receiver_records_free(r->records);
    sl_free(r->dead_text);
    sl_free(r);
}
