/*
 * Windowed streams (Spark's WindowedDStream and ReducedWindowedDStream):
 * each window keeps the parent's batches it still covers as compacted,
 * retained copies in a ring, advanced once per batch on the job thread
 * before the outputs run, and freed as soon as they slide out. What a batch
 * changes (the entry it pushes, the entries sliding out, the inverse form's
 * new result) is published at the batch's commit, or undone by its abort.
 */
#include "stream/stream_int.h"

#include <sluice/functions.h>
#include <string.h>

bool sl__time_valid(const sl_dstream *s, int64_t time_ms)
{
    return (time_ms - s->ctx->zero_ms) % s->slide_ms == 0;
}

static void drop_ring_before(sl_dstream *s, int64_t time_ms)
{
    remembered **pp = &s->ring, *m;
    while ((m = *pp) != NULL) {
        if (m->time_ms <= time_ms) {
            *pp = m->next;
            sl__retained_free(m->rdd);
            sl_free(m);
        } else {
            pp = &m->next;
        }
    }
}

void sl__window_free(sl_dstream *s)
{
    sl__window_abort(s);
    drop_ring_before(s, INT64_MAX);
    sl__retained_free(s->prev_result);
    s->prev_result = NULL;
}

bool sl__is_window(const sl_dstream *s)
{
    return s->kind == DS_WINDOW || s->kind == DS_REDUCED_WINDOW;
}

void sl__window_commit(sl_dstream *s)
{
    if (s->ring_pending)
        drop_ring_before(s, s->ring_cut);
    if (s->next_result) {
        sl__retained_free(s->prev_result);
        s->prev_result = s->next_result;
        s->prev_time = s->next_time;
    }
    s->ring_new = NULL;
    s->ring_pending = false;
    s->next_result = NULL;
}

void sl__window_abort(sl_dstream *s)
{
    /* The batch's entry is the ring's head: nothing pushes after it. */
    if (s->ring_new) {
        s->ring = s->ring_new->next;
        sl__retained_free(s->ring_new->rdd);
        sl_free(s->ring_new);
    }
    sl__retained_free(s->next_result);
    s->ring_new = NULL;
    s->ring_pending = false;
    s->next_result = NULL;
}

/* Copy the parent's batch at this time into the window's ring. The RDD is
 * persisted first so that outputs reading the parent in this batch use
 * the same results instead of computing them again. */
static sl_status ring_push(sl_dstream *s, batch *b)
{
    sl_dstream *p = s->parents[0];
    remembered *m;
    sl_rdd *rdd;
    sl_status st;

    if (!sl__time_valid(p, b->time_ms))
        return SL_OK;
    if ((st = sl__dstream_rdd(p, b, &rdd)) != SL_OK)
        return st;
    m = sl_malloc(sizeof *m);
    if (!m)
        goto oom;
    m->time_ms = b->time_ms;
    m->rdd = NULL;
    if (rdd && (st = sl__rdd_retain(sl_rdd_persist(rdd), &m->rdd)) != SL_OK) {
        sl_free(m);
        sl__ctx_set_error(s->ctx, st, "window: cannot keep batch %lld: %s",
                          (long long)b->id, sl_engine_errmsg(s->ctx->eng));
        return st;
    }
    m->next = s->ring;
    s->ring = m;
    s->ring_new = m;
    /* A window at time t covers (t - length, t]: no window from this batch
     * on needs what is at or before t - length. The inverse form also
     * needs the batches leaving at its next slide. They are dropped at the
     * batch's commit, so a failed batch leaves them in place. */
    s->ring_cut = b->time_ms - s->window_ms -
                  (s->kind == DS_REDUCED_WINDOW ? s->slide_ms : 0);
    s->ring_pending = true;
    return SL_OK;
oom:
    sl__ctx_set_error(s->ctx, SL_ENOMEM, "window: out of memory");
    return SL_ENOMEM;
}

sl_status sl__window_advance(sl_dstream *s, batch *b)
{
    return ring_push(s, b);
}

/* Whether ring entry m is part of the window as `after` asks for. */
static bool ring_kept(const sl_dstream *s, const remembered *m, bool after)
{
    if (!after)
        return m != s->ring_new;
    return !s->ring_pending || m->time_ms > s->ring_cut;
}

void sl__window_retained(const sl_dstream *s, size_t *batches, size_t *bytes)
{
    const remembered *m;
    *batches = 0;
    *bytes = 0;
    for (m = s->ring; m; m = m->next)
        if (ring_kept(s, m, true)) {
            ++*batches;
            *bytes += m->rdd ? sl__retained_bytes(m->rdd) : 0;
        }
}

/* Records of a retained copy, over its partitions. */
static size_t retained_rows(const sl__retained *k)
{
    size_t i, n, rows = 0;
    for (i = 0; k && i < sl__retained_parts(k); i++) {
        sl__retained_part(k, i, &n);
        rows += n;
    }
    return rows;
}

/*
 * For the progress entry, after the batch committed: the records the window
 * keeps for later windows (its ring's batches and the inverse form's last
 * result) and their memory. A retained copy's bytes are exact (one block
 * sized for its values, item arrays and strings); each ring entry adds its
 * small header, counted too so that a window of many empty batches still
 * shows what it holds.
 */
void sl__window_state(const sl_dstream *s, size_t *rows, size_t *bytes)
{
    const remembered *m;
    *rows = 0;
    *bytes = 0;
    for (m = s->ring; m; m = m->next) {
        if (!ring_kept(s, m, true))
            continue;
        *bytes += sizeof *m;
        if (m->rdd) {
            *rows += retained_rows(m->rdd);
            *bytes += sl__retained_bytes(m->rdd);
        }
    }
    if (s->prev_result) {
        *rows += retained_rows(s->prev_result);
        *bytes += sl__retained_bytes(s->prev_result);
    }
}

bool sl__window_next(const sl_dstream *s, bool after, sl__window_iter *it,
                     int64_t *time_ms, sl__retained **rdd)
{
    const remembered *m = it->started ? it->next : s->ring;
    it->started = true;
    while (m && !ring_kept(s, m, after))
        m = m->next;
    if (!m)
        return false;
    it->next = m->next;
    *time_ms = m->time_ms;
    *rdd = m->rdd;
    return true;
}

bool sl__window_prev(const sl_dstream *s, bool after, int64_t *time_ms,
                     sl__retained **rdd)
{
    bool next = after && s->next_result;
    *rdd = next ? s->next_result : s->prev_result;
    *time_ms = next ? s->next_time : s->prev_time;
    return *rdd != NULL;
}

void sl__window_restore_begin(sl_dstream *s)
{
    sl__window_free(s);
}

sl_status sl__window_restore_put(sl_dstream *s, int64_t time_ms,
                                 const sl_value *const *parts,
                                 const size_t *lens, size_t nparts)
{
    remembered *m, **pp = &s->ring;
    sl_status st;
    if (!sl__is_window(s))
        return SL_EINVAL;
    /* Newest first, as ring_push keeps it; one entry per time. */
    while (*pp && (*pp)->time_ms > time_ms)
        pp = &(*pp)->next;
    if (*pp && (*pp)->time_ms == time_ms)
        return SL_EINVAL;
    if (!(m = sl_malloc(sizeof *m)))
        return SL_ENOMEM;
    m->time_ms = time_ms;
    m->rdd = NULL;
    if (parts && (st = sl__retained_from_values(s->ctx->eng, parts, lens,
                                                nparts, &m->rdd)) != SL_OK) {
        sl_free(m);
        return st;
    }
    m->next = *pp;
    *pp = m;
    return SL_OK;
}

sl_status sl__window_restore_prev(sl_dstream *s, int64_t time_ms,
                                  const sl_value *const *parts,
                                  const size_t *lens, size_t nparts)
{
    sl__retained *k;
    sl_status st;
    if (s->kind != DS_REDUCED_WINDOW)
        return SL_EINVAL;
    st = sl__retained_from_values(s->ctx->eng, parts, lens, nparts, &k);
    if (st != SL_OK)
        return st;
    sl__retained_free(s->prev_result);
    s->prev_result = k;
    s->prev_time = time_ms;
    return SL_OK;
}

/* ------------------------------------------------------------- window */

/* The ring's RDDs with times in (lo, hi], oldest first, in scope memory. */
static sl_status ring_range(sl_dstream *s, int64_t lo, int64_t hi,
                            sl_rdd ***out, size_t *n)
{
    remembered *m;
    size_t cap = 0, k = 0, i;
    sl_rdd **picked;
    for (m = s->ring; m; m = m->next)
        cap++;
    picked = sl__engine_scope_alloc(s->ctx->eng, (cap + 1) * sizeof *picked);
    if (!picked) {
        sl__ctx_set_error(s->ctx, SL_ENOMEM, "window: out of memory");
        return SL_ENOMEM;
    }
    for (m = s->ring; m; m = m->next)
        if (m->rdd && m->time_ms > lo && m->time_ms <= hi)
            picked[k++] = sl__retained_rdd(m->rdd);
    for (i = 0; i < k / 2; i++) {
        sl_rdd *t = picked[i];
        picked[i] = picked[k - 1 - i];
        picked[k - 1 - i] = t;
    }
    *out = picked;
    *n = k;
    return SL_OK;
}

static sl_rdd *union_or_empty(sl_context *ctx, sl_rdd **rdds, size_t n)
{
    return n ? sl_rdd_union_all(rdds, n) : sl_rdd_empty(ctx->eng);
}

static sl_status plain_window(sl_dstream *s, batch *b, sl_rdd **out)
{
    sl_rdd **in;
    size_t n;
    sl_status st =
        ring_range(s, b->time_ms - s->window_ms, b->time_ms, &in, &n);
    if (st != SL_OK)
        return st;
    *out = union_or_empty(s->ctx, in, n);
    if (!*out) {
        sl__ctx_set_error(s->ctx, SL_ENOMEM, "window: %s",
                          sl_engine_errmsg(s->ctx->eng));
        return SL_ENOMEM;
    }
    return SL_OK;
}

/* ------------------------------------------------ the inverse form */

/* Records are tagged with where they come from: the previous window's
 * result, a batch entering the window, or one leaving it. */
static const int64_t TAG_PREV = 0, TAG_NEW = 1, TAG_OLD = 2;

static sl_status tag_value(sl_task *t, const sl_value *v, sl_value *out,
                           void *user)
{
    sl_value tag = sl_int(*(const int64_t *)user);
    return sl_task_pair(t, &tag, v, out);
}

static sl_status fold(sl_task *t, const sl_dstream *s, bool *have,
                      sl_value *acc, const sl_value *v)
{
    sl_value next;
    sl_status st;
    if (!*have) {
        *have = true;
        *acc = *v;
        return SL_OK;
    }
    if ((st = s->fn.reduce(t, acc, v, &next, s->user)) != SL_OK)
        return st;
    *acc = next;
    return SL_OK;
}

/* Spark's ReducedWindowedDStream merge: previous (or nothing), minus the
 * reduced leaving values, plus the reduced entering ones. */
static sl_status merge_window(sl_task *t, const sl_value *kv, void *user)
{
    const sl_dstream *s = user;
    const sl_value *vals = sl_pair_value(kv);
    sl_value prev, add, sub, value, next, out;
    bool have_prev = false, have_add = false, have_sub = false;
    sl_status st = SL_OK;
    uint32_t i;

    for (i = 0; i < vals->len && st == SL_OK; i++) {
        const sl_value *tv = &vals->u.items[i];
        int64_t tag = sl_pair_key(tv)->u.i;
        if (tag == TAG_PREV) {
            prev = *sl_pair_value(tv);
            have_prev = true;
        } else {
            st = fold(t, s, tag == TAG_NEW ? &have_add : &have_sub,
                      tag == TAG_NEW ? &add : &sub, sl_pair_value(tv));
        }
    }
    if (st != SL_OK)
        return st;
    if (!have_prev && !have_add) {
        /* Spark fails the same way ("Neither previous window has value for
         * key, nor new values found"). */
        char key[96];
        size_t n = sl_value_format_json(sl_pair_key(kv), key, sizeof key);
        if (n >= sizeof key)
            memcpy(key + sizeof key - 4, "...", 4);
        return sl_task_fail(t,
                            "reduce_by_key_and_window: key %s leaves the "
                            "window but has no previous value: the filter "
                            "dropped a key whose values were still in the "
                            "window",
                            key);
    }
    value = have_prev ? prev : add;
    /* Results go through `next`: out never aliases the inputs. */
    if (have_prev && have_sub) {
        if ((st = s->inverse(t, &value, &sub, &next, s->user)) != SL_OK)
            return st;
        value = next;
    }
    if (have_prev && have_add) {
        if ((st = s->fn.reduce(t, &value, &add, &next, s->user)) != SL_OK)
            return st;
        value = next;
    }
    if ((st = sl_task_pair(t, sl_pair_key(kv), &value, &out)) != SL_OK)
        return st;
    if (s->keep && !s->keep(&out, s->user))
        return SL_OK;
    return sl_task_emit(t, &out);
}

static sl_status tag_all(sl_dstream *s, sl_rdd **rdds, size_t n,
                         const int64_t *tag)
{
    size_t i;
    for (i = 0; i < n; i++) {
        rdds[i] = sl_rdd_map_values(rdds[i], tag_value, (void *)tag);
        if (!rdds[i]) {
            sl__ctx_set_error(s->ctx, SL_ENOMEM, "window: %s",
                              sl_engine_errmsg(s->ctx->eng));
            return SL_ENOMEM;
        }
    }
    return SL_OK;
}

/* The tagged inputs of one slide: the previous result when it is the one
 * of the previous slide, else the whole window from the ring. */
static sl_status reduced_inputs(sl_dstream *s, batch *b, sl_rdd ***all,
                                size_t *n)
{
    int64_t t = b->time_ms, len = s->window_ms, slide = s->slide_ms;
    bool incremental = s->prev_result && s->prev_time == t - slide;
    sl_rdd **add, **sub = NULL, **v;
    size_t nadd, nsub = 0;
    sl_status st;

    st = ring_range(s, incremental ? t - slide : t - len, t, &add, &nadd);
    if (st == SL_OK && incremental)
        st = ring_range(s, t - slide - len, t - len, &sub, &nsub);
    if (st == SL_OK)
        st = tag_all(s, add, nadd, &TAG_NEW);
    if (st == SL_OK)
        st = tag_all(s, sub, nsub, &TAG_OLD);
    if (st != SL_OK)
        return st;
    v = sl__engine_scope_alloc(s->ctx->eng, (nadd + nsub + 2) * sizeof *v);
    if (!v)
        return SL_ENOMEM;
    *n = 0;
    if (incremental) {
        v[0] = sl__retained_rdd(s->prev_result);
        if ((st = tag_all(s, v, 1, &TAG_PREV)) != SL_OK)
            return st;
        *n = 1;
    }
    memcpy(v + *n, add, nadd * sizeof *v);
    *n += nadd;
    if (nsub)
        memcpy(v + *n, sub, nsub * sizeof *v);
    *n += nsub;
    *all = v;
    return SL_OK;
}

static sl_status reduced_window(sl_dstream *s, batch *b, sl_rdd **out)
{
    sl__retained *keep;
    sl_rdd **in, *r;
    size_t n;
    sl_status st = reduced_inputs(s, b, &in, &n);
    if (st != SL_OK)
        return st;
    r = sl_rdd_flat_map(
        sl_rdd_group_by_key(union_or_empty(s->ctx, in, n), s->partitions),
        merge_window, s);
    if (!r) {
        sl__ctx_set_error(s->ctx, SL_ENOMEM, "window: %s",
                          sl_engine_errmsg(s->ctx->eng));
        return SL_ENOMEM;
    }
    /* The result is the next slide's "previous": keep a compacted copy. */
    if ((st = sl__rdd_retain(sl_rdd_persist(r), &keep)) != SL_OK) {
        sl__ctx_set_error(s->ctx, st, "reduce_by_key_and_window: %s",
                          sl_engine_errmsg(s->ctx->eng));
        return st;
    }
    /* Taken as the previous result at the batch's commit. */
    sl__retained_free(s->next_result);
    s->next_result = keep;
    s->next_time = b->time_ms;
    *out = r;
    return SL_OK;
}

sl_status sl__window_rdd(sl_dstream *s, batch *b, sl_rdd **out)
{
    if (s->kind == DS_WINDOW)
        return plain_window(s, b, out);
    return reduced_window(s, b, out);
}

/* -------------------------------------------------------- constructors */

/*
 * Spark's WindowedDStream requires both durations to be multiples of the
 * parent's slide and names the one that is not; so does this check, with
 * the values, so a caller knows which argument to fix.
 */
/*
 * Spark's WindowedDStream requires both durations to be multiples of the
 * parent's slide and says which one is not; so does this check, with the
 * values, so that the caller knows which argument to fix.
 */
/* Why a window duration d is not allowed on a parent sliding by ps. */
static const char *bad_duration(int64_t d, int64_t ps)
{
    if (d <= 0)
        return "must be positive";
    if (d % ps != 0)
        return "must be a multiple of the parent stream's slide";
    return NULL;
}

static sl_status check_window(sl_dstream *p, int64_t len, int64_t *slide)
{
    const char *why;
    if (*slide == 0)
        *slide = p->slide_ms;
    if ((why = bad_duration(len, p->slide_ms)) != NULL)
        sl__ctx_set_error(p->ctx, SL_EINVAL,
                          "window length %lld ms %s (the parent stream's "
                          "slide is %lld ms)",
                          (long long)len, why, (long long)p->slide_ms);
    else if ((why = bad_duration(*slide, p->slide_ms)) != NULL)
        sl__ctx_set_error(p->ctx, SL_EINVAL,
                          "window slide %lld ms %s (the parent stream's "
                          "slide is %lld ms; a slide of 0 takes it)",
                          (long long)*slide, why, (long long)p->slide_ms);
    return why ? SL_EINVAL : SL_OK;
}

static sl_dstream *window_node(sl_dstream *p, ds_kind kind, int64_t len,
                               int64_t slide)
{
    sl_dstream *s;
    if (!p || check_window(p, len, &slide) != SL_OK)
        return NULL;
    s = sl__dstream_new(p->ctx, kind, &p, 1);
    if (s) {
        s->window_ms = len;
        s->slide_ms = slide;
    }
    return s;
}

sl_dstream *sl_dstream_window(sl_dstream *s, int64_t length_ms,
                              int64_t slide_ms)
{
    return window_node(s, DS_WINDOW, length_ms, slide_ms);
}

int64_t sl_dstream_slide(const sl_dstream *s)
{
    return s ? s->slide_ms : 0;
}

/* Small functions the composite operators are built from, as Spark builds
 * them (DStream.countByWindow, PairDStreamFunctions...). */
static sl_status to_one(sl_task *t, const sl_value *in, sl_value *out,
                        void *user)
{
    SL__UNUSED(t);
    SL__UNUSED(in);
    SL__UNUSED(user);
    *out = sl_int(1);
    return SL_OK;
}

static sl_status subtract(sl_task *t, const sl_value *a, const sl_value *b,
                          sl_value *out, void *user)
{
    SL__UNUSED(t);
    SL__UNUSED(user);
    if (a->kind == SL_KIND_INT && b->kind == SL_KIND_INT) {
        *out = sl_int((int64_t)((uint64_t)a->u.i - (uint64_t)b->u.i));
        return SL_OK;
    }
    if (a->kind == SL_KIND_DOUBLE && b->kind == SL_KIND_DOUBLE) {
        *out = sl_double(a->u.d - b->u.d);
        return SL_OK;
    }
    return SL_ETYPE;
}

static sl_status key_zero(sl_task *t, const sl_value *in, sl_value *out,
                          void *user)
{
    sl_value zero = sl_int(0);
    SL__UNUSED(user);
    return sl_task_pair(t, &zero, in, out);
}

static sl_status value_of(sl_task *t, const sl_value *in, sl_value *out,
                          void *user)
{
    SL__UNUSED(t);
    SL__UNUSED(user);
    if (in->kind != SL_KIND_PAIR)
        return SL_ETYPE;
    *out = *sl_pair_value(in);
    return SL_OK;
}

static bool nonzero_value(const sl_value *kv, void *user)
{
    const sl_value *v = sl_pair_value(kv);
    SL__UNUSED(user);
    return !(v->kind == SL_KIND_INT && v->u.i == 0);
}

static sl_status concat(sl_task *t, const sl_value *a, const sl_value *b,
                        sl_value *out, void *user)
{
    sl_value *items;
    SL__UNUSED(user);
    if ((size_t)a->len + b->len > UINT32_MAX)
        return sl_task_fail(t, "a window's group has 2^32 or more values");
    items = sl_task_alloc(t, ((size_t)a->len + b->len + 1) * sizeof *items);
    if (!items)
        return SL_ENOMEM;
    memcpy(items, a->u.items, a->len * sizeof *items);
    memcpy(items + a->len, b->u.items, b->len * sizeof *items);
    *out = sl_composite(SL_KIND_LIST, items, (size_t)a->len + b->len);
    return SL_OK;
}

sl_dstream *sl_dstream_reduce_by_key_and_window(
    sl_dstream *s, sl_reduce_fn fn, sl_reduce_fn inverse, sl_filter_fn filter,
    void *user, int64_t length_ms, int64_t slide_ms, size_t partitions)
{
    sl_dstream *w;
    if (s && (!fn || (filter && !inverse))) {
        sl__ctx_set_error(s->ctx, SL_EINVAL,
                          fn ? "a filter needs the inverse form"
                             : "function is NULL");
        return NULL;
    }
    if (!s || check_window(s, length_ms, &slide_ms) != SL_OK)
        return NULL;
    s = sl_dstream_reduce_by_key(s, fn, user, partitions);
    if (!inverse) /* Spark: reduceByKey, window, reduceByKey again */
        return sl_dstream_reduce_by_key(
            sl_dstream_window(s, length_ms, slide_ms), fn, user, partitions);
    w = window_node(s, DS_REDUCED_WINDOW, length_ms, slide_ms);
    if (w) {
        w->fn.reduce = fn;
        w->inverse = inverse;
        w->keep = filter;
        w->user = user;
        w->partitions = partitions;
    }
    return w;
}

sl_dstream *sl_dstream_reduce_by_window(sl_dstream *s, sl_reduce_fn fn,
                                        sl_reduce_fn inverse, void *user,
                                        int64_t length_ms, int64_t slide_ms)
{
    if (s && !fn) {
        sl__ctx_set_error(s->ctx, SL_EINVAL, "function is NULL");
        return NULL;
    }
    if (!inverse)
        return sl_dstream_reduce(
            sl_dstream_window(sl_dstream_reduce(s, fn, user), length_ms,
                              slide_ms),
            fn, user);
    return sl_dstream_map(sl_dstream_reduce_by_key_and_window(
                              sl_dstream_map(s, key_zero, NULL), fn, inverse,
                              NULL, user, length_ms, slide_ms, 1),
                          value_of, NULL);
}

sl_dstream *sl_dstream_count_by_window(sl_dstream *s, int64_t length_ms,
                                       int64_t slide_ms)
{
    return sl_dstream_reduce_by_window(sl_dstream_map(s, to_one, NULL),
                                       sl_fn_sum, subtract, NULL, length_ms,
                                       slide_ms);
}

sl_dstream *sl_dstream_count_by_value_and_window(sl_dstream *s,
                                                 int64_t length_ms,
                                                 int64_t slide_ms,
                                                 size_t partitions)
{
    return sl_dstream_reduce_by_key_and_window(
        sl_dstream_map(s, sl_fn_pair_one, NULL), sl_fn_sum, subtract,
        nonzero_value, NULL, length_ms, slide_ms, partitions);
}

sl_dstream *sl_dstream_group_by_key_and_window(sl_dstream *s, int64_t length_ms,
                                               int64_t slide_ms,
                                               size_t partitions)
{
    return sl_dstream_reduce_by_key(
        sl_dstream_window(sl_dstream_group_by_key(s, partitions), length_ms,
                          slide_ms),
        concat, NULL, partitions);
}
