/*
 * Running a WINDOW node (plan.h): rows are shuffled by their partition
 * key tuple (group_by_key), each partition's rows sorted by the order
 * key (stable; NULLs first) and swept once, in order, with the frame's
 * statistics kept incrementally (winstats.h): the frame's start and end
 * only move forward, so each row enters and leaves the statistics once,
 * and min/max come from monotonic deques. EXCLUDE works on a copy of
 * the frame's statistics (a fixed-size struct) less the excluded rows;
 * under RANGE all peers share one frame, so the copy less the peer
 * group is made once per group. Each output row is its input row with
 * the aggregate appended, emitted in the partition's order.
 */
#include "sql/plan.h"

#include "rdd/rdd.h"
#include "sql/agg_int.h"
#include "sql/eval_int.h"
#include "sql/winstats.h"

#include <math.h>
#include <string.h>

/* One partition's sweep: rows sorted, their order keys and arguments. */
typedef struct sweep {
    const sl__sql_plan *p;
    const sl__sql_plan_window *w;
    size_t n;
    const sl_value **rows;
    sl_value *key, *val;
    bool *has; /* the argument counts (not NULL, a number where needed) */
    double *num;
    sl__winstats f; /* rows [lo, added) with has[] */
    size_t lo, added, np_next;
    sl__mono_deque dnp, dp; /* min/max: non-peers, peers in the frame */
    size_t *suf;            /* RANGE EXCLUDE CURRENT ROW min/max */
    size_t pre;             /* best of [ps, i) so far, SIZE_MAX: none */
    sl__winstats g;         /* RANGE: the frame less the peer group */
    sl_value *out;          /* the output rows, in the sorted order */
} sweep;

static bool is_minmax(const sl__sql_plan_window *w)
{
    return w->fn == SL__WIN_MIN || w->fn == SL__WIN_MAX;
}

/* ------------------------------------------------------- statistics */

static void st_add(const sweep *s, sl__winstats *f, size_t j)
{
    if (!s->has[j])
        return;
    if (s->val[j].kind == SL_KIND_INT)
        sl__winstats_add_long(f, s->val[j].u.i);
    else
        sl__winstats_add(f, s->num[j]);
}

static void st_remove(const sweep *s, sl__winstats *f, size_t j)
{
    if (!s->has[j])
        return;
    if (s->val[j].kind == SL_KIND_INT)
        sl__winstats_remove_long(f, s->val[j].u.i);
    else
        sl__winstats_remove(f, s->num[j]);
}

static sl_value finish_stats(const sl__sql_plan_window *w,
                             const sl__winstats *f)
{
    double v;
    int ddof = w->fn == SL__WIN_VAR_SAMP || w->fn == SL__WIN_STDDEV_SAMP;
    switch (w->fn) {
    case SL__WIN_COUNT:
        return sl_int(f->n);
    case SL__WIN_SUM:
        if (!f->n)
            return sl_null();
        return w->long_sum ? sl_int(sl__winstats_lsum(f))
                           : sl_double(sl__winstats_sum(f));
    case SL__WIN_AVG:
        return f->n ? sl_double(sl__winstats_mean(f)) : sl_null();
    default:
        if (!sl__winstats_var(f, ddof, &v))
            return sl_null();
        if (w->fn == SL__WIN_STDDEV_SAMP || w->fn == SL__WIN_STDDEV_POP)
            v = sqrt(v);
        return sl_double(v);
    }
}

/* ---------------------------------------------------------- min/max */

static int cmp_vals(const void *vals, size_t i, size_t j)
{
    const sl_value *v = vals;
    return sl__sql_compare(&v[i], &v[j]);
}

/* The better of candidates a and b for min/max (SIZE_MAX: none). */
static size_t best(const sweep *s, size_t a, size_t b)
{
    int c;
    if (a == SIZE_MAX)
        return b;
    if (b == SIZE_MAX)
        return a;
    c = sl__sql_compare(&s->val[a], &s->val[b]);
    return (s->w->fn == SL__WIN_MAX ? c >= 0 : c <= 0) ? a : b;
}

static size_t front(const sl__mono_deque *d)
{
    size_t i;
    return sl__mono_front(d, &i) ? i : SIZE_MAX;
}

static void push(sweep *s, sl__mono_deque *d, size_t j)
{
    if (s->has[j])
        sl__mono_push(d, j, s->val, cmp_vals);
}

/* ------------------------------------------------------------ frame */

static bool peers(const sweep *s, size_t a, size_t b)
{
    return sl__sql_compare(&s->key[a], &s->key[b]) == 0;
}

/* Whether order key a lies before the RANGE frame of key k: a < k -
 * off (exactly, for longs). */
static bool before(const sl_value *a, const sl_value *k, const sl_value *off)
{
    double x, y, o;
    if (a->kind == SL_KIND_NULL)
        return true; /* NULLs sort first: before every non-NULL frame */
    if (a->kind == SL_KIND_INT && k->kind == SL_KIND_INT &&
        off->kind == SL_KIND_INT)
        return (uint64_t)k->u.i - (uint64_t)a->u.i > (uint64_t)off->u.i;
    sl__agg_to_double(a, &x);
    sl__agg_to_double(k, &y);
    sl__agg_to_double(off, &o);
    return x < y - o;
}

/* Move the frame to [lo, hi]: add rows up to hi, drop rows before lo. */
static void move_frame(sweep *s, size_t lo, size_t hi)
{
    while (s->added <= hi)
        st_add(s, &s->f, s->added++);
    while (s->lo < lo)
        st_remove(s, &s->f, s->lo++);
    sl__mono_drop(&s->dnp, lo);
    sl__mono_drop(&s->dp, lo);
}

/* The RANGE frame's start for the peer group starting at ps. */
static size_t range_lo(const sweep *s, size_t ps)
{
    const sl__sql_plan_window *w = s->w;
    size_t lo = s->lo;
    if (w->unbounded)
        return 0;
    if (w->preceding.kind == SL_KIND_INT && w->preceding.u.i == 0)
        return ps;
    if (s->key[ps].kind == SL_KIND_NULL)
        return lo; /* the NULL keys' frame: the NULL peers */
    while (lo < ps && before(&s->key[lo], &s->key[ps], &w->preceding))
        lo++;
    return lo;
}

/* --------------------------------------------------------- one row */

static sl_status emit(sl_task *t, const sweep *s, size_t i, sl_value v)
{
    size_t n = s->p->input->ncolumns;
    sl_value *items = sl_task_alloc(t, (n + 1) * sizeof *items);
    if (!items)
        return SL_ENOMEM;
    memcpy(items, s->rows[i]->u.items, n * sizeof *items);
    items[n] = v;
    s->out[i] = sl_composite(SL_KIND_TUPLE, items, n + 1);
    return SL_OK;
}

/* Statistics for row i of group [ps, pe] in the frame (after EXCLUDE). */
static sl_value stats_row(sweep *s, size_t i, size_t ps)
{
    const sl__sql_plan_window *w = s->w;
    sl__winstats c;
    size_t j, from = s->lo > ps ? s->lo : ps;
    switch (w->exclude) {
    case SL__SQL_EXCLUDE_NO_OTHERS:
        return finish_stats(w, &s->f);
    case SL__SQL_EXCLUDE_CURRENT_ROW:
        c = s->f;
        st_remove(s, &c, i);
        return finish_stats(w, &c);
    default:
        break;
    }
    if (!w->rows) {
        c = s->g;
        if (w->exclude == SL__SQL_EXCLUDE_TIES)
            st_add(s, &c, i);
        return finish_stats(w, &c);
    }
    c = s->f; /* ROWS: the peers in the frame end at i */
    for (j = from; j <= i; j++)
        if (j != i || w->exclude == SL__SQL_EXCLUDE_GROUP)
            st_remove(s, &c, j);
    return finish_stats(w, &c);
}

/* min/max for row i of group [ps, pe]; dp_before: the peers' deque
 * before i was pushed (ROWS). */
static sl_value minmax_row(sweep *s, size_t i, size_t pe, size_t dp_before)
{
    const sl__sql_plan_window *w = s->w;
    size_t b = front(&s->dnp);
    switch (w->exclude) {
    case SL__SQL_EXCLUDE_NO_OTHERS:
        b = best(s, b, front(&s->dp));
        break;
    case SL__SQL_EXCLUDE_TIES:
        b = best(s, b, s->has[i] ? i : SIZE_MAX);
        break;
    case SL__SQL_EXCLUDE_CURRENT_ROW:
        if (w->rows)
            b = best(s, b, dp_before);
        else
            b = best(s, best(s, b, s->pre), i < pe ? s->suf[i + 1] : SIZE_MAX);
        break;
    default:
        break;
    }
    return b == SIZE_MAX ? sl_null() : s->val[b];
}

/* ------------------------------------------------------ peer groups */

/* Per RANGE group: the frame, the peers' deque, the frame less the
 * group, and the suffix bests for EXCLUDE CURRENT ROW. */
static void range_group(sweep *s, size_t ps, size_t pe)
{
    size_t j;
    move_frame(s, range_lo(s, ps), pe);
    s->g = s->f;
    for (j = ps; j <= pe; j++) {
        st_remove(s, &s->g, j);
        push(s, &s->dp, j);
    }
    s->pre = SIZE_MAX;
    if (is_minmax(s->w) && s->w->exclude == SL__SQL_EXCLUDE_CURRENT_ROW)
        for (j = pe + 1; j-- > ps;)
            s->suf[j] = best(s, j < pe ? s->suf[j + 1] : SIZE_MAX,
                             s->has[j] ? j : SIZE_MAX);
}

static sl_status run_group(sl_task *t, sweep *s, size_t ps, size_t pe)
{
    const sl__sql_plan_window *w = s->w;
    size_t i, j, dpb = SIZE_MAX;
    sl_status st;
    for (j = s->np_next; j < ps; j++) /* the rows before the group */
        push(s, &s->dnp, j);
    s->np_next = ps;
    s->dp.head = s->dp.tail; /* a new peer group */
    if (!w->rows)
        range_group(s, ps, pe);
    for (i = ps; i <= pe; i++) {
        if (w->rows) {
            uint64_t off = (uint64_t)w->preceding.u.i;
            move_frame(s, w->unbounded || i < off ? 0 : i - (size_t)off, i);
            dpb = front(&s->dp);
            push(s, &s->dp, i);
        }
        st = emit(t, s, i,
                  is_minmax(w) ? minmax_row(s, i, pe, dpb)
                               : stats_row(s, i, ps));
        if (st)
            return st;
        if (!w->rows && s->has[i])
            s->pre = best(s, s->pre, i);
    }
    return SL_OK;
}

/* ---------------------------------------------------------- sorting */

/* A stable merge sort of idx[0..n) by key (tmp: n more). */
static void sort_idx(const sl_value *key, size_t *idx, size_t *tmp, size_t n)
{
    size_t w, i;
    for (w = 1; w < n; w *= 2) {
        for (i = 0; i < n; i += 2 * w) {
            size_t mid = i + w < n ? i + w : n;
            size_t hi = i + 2 * w < n ? i + 2 * w : n, a = i, b = mid, k = i;
            while (a < mid && b < hi)
                tmp[k++] = sl__sql_compare(&key[idx[b]], &key[idx[a]]) < 0
                               ? idx[b++]
                               : idx[a++];
            while (a < mid)
                tmp[k++] = idx[a++];
            while (b < hi)
                tmp[k++] = idx[b++];
        }
        memcpy(idx, tmp, n * sizeof *idx);
    }
}

/* Evaluate the order key and argument of rows[0..n) and sort them. */
static sl_status prepare(sl_task *t, sweep *s, const sl_value *rows)
{
    const sl__sql_plan_window *w = s->w;
    size_t n = s->n, i, *idx, *tmp;
    sl_value *k0 = sl_task_alloc(t, n * sizeof *k0);
    sl_status st;
    idx = sl_task_alloc(t, 2 * n * sizeof *idx);
    if (!k0 || !idx)
        return SL_ENOMEM;
    tmp = idx + n;
    for (i = 0; i < n; i++) {
        k0[i] = sl_null();
        idx[i] = i;
        if (w->order && (st = sl__sql_eval(w->order, rows[i].u.items,
                                           sl__task_arena(t), &k0[i])))
            return st;
    }
    sort_idx(k0, idx, tmp, n);
    for (i = 0; i < n; i++) {
        size_t r = idx[i];
        s->rows[i] = &rows[r];
        s->key[i] = k0[r];
        s->val[i] = sl_int(1); /* count(*) */
        if (w->arg && (st = sl__sql_eval(w->arg, rows[r].u.items,
                                         sl__task_arena(t), &s->val[i])))
            return st;
        s->has[i] = s->val[i].kind != SL_KIND_NULL;
        if (!is_minmax(w) && w->fn != SL__WIN_COUNT)
            s->has[i] = sl__agg_to_double(&s->val[i], &s->num[i]);
    }
    return SL_OK;
}

static sl_status sweep_init(sl_task *t, sweep *s, size_t n)
{
    size_t *bufs = sl_task_alloc(t, 3 * (n + 1) * sizeof *bufs);
    s->n = n;
    s->rows = sl_task_alloc(t, n * sizeof *s->rows);
    s->key = sl_task_alloc(t, n * sizeof *s->key);
    s->val = sl_task_alloc(t, n * sizeof *s->val);
    s->has = sl_task_alloc(t, n * sizeof *s->has);
    s->num = sl_task_alloc(t, n * sizeof *s->num);
    if (!bufs || !s->rows || !s->key || !s->val || !s->has || !s->num)
        return SL_ENOMEM;
    memset(s->num, 0, n * sizeof *s->num);
    sl__winstats_init(&s->f);
    sl__mono_init(&s->dnp, bufs, n + 1, s->w->fn == SL__WIN_MAX);
    sl__mono_init(&s->dp, bufs + n + 1, n + 1, s->w->fn == SL__WIN_MAX);
    s->suf = bufs + 2 * (n + 1);
    return SL_OK;
}

sl_status sl__sql_window_rows(sl_task *t, const sl__sql_plan *p,
                              const sl_value *rows, size_t n, sl_value *out)
{
    sweep s;
    size_t ps, pe;
    sl_status st;
    memset(&s, 0, sizeof s);
    s.p = p;
    s.w = p->win;
    s.out = out;
    if (!n)
        return SL_OK;
    if ((st = sweep_init(t, &s, n)) || (st = prepare(t, &s, rows)))
        return st;
    for (ps = 0; ps < s.n; ps = pe + 1) {
        for (pe = ps; pe + 1 < s.n && peers(&s, ps, pe + 1); pe++)
            ;
        if ((st = run_group(t, &s, ps, pe)))
            return st;
    }
    return SL_OK;
}

/* (partition key, [rows]) -> the rows with the aggregate appended. */
static sl_status window_fn(sl_task *t, const sl_value *in, void *user)
{
    const sl_value *rows = sl_pair_value(in);
    sl_value *out;
    size_t i;
    sl_status st;
    if (rows->kind != SL_KIND_LIST || !rows->len)
        return SL_OK;
    if (!(out = sl_task_alloc(t, rows->len * sizeof *out)))
        return SL_ENOMEM;
    if ((st = sl__sql_window_rows(t, user, rows->u.items, rows->len, out)))
        return st;
    for (i = 0; i < rows->len; i++)
        if ((st = sl_task_emit(t, &out[i])))
            return st;
    return SL_OK;
}

/* row -> (partition key tuple, row) */
static sl_status keyed_fn(sl_task *t, const sl_value *in, sl_value *out,
                          void *user)
{
    const sl__sql_plan_window *w = ((const sl__sql_plan *)user)->win;
    sl_value *items = sl_task_alloc(t, (w->npart + 1) * sizeof *items), k;
    size_t i;
    if (!items)
        return SL_ENOMEM;
    for (i = 0; i < w->npart; i++) {
        sl_status st =
            sl__sql_eval(w->part[i], in->u.items, sl__task_arena(t), &items[i]);
        if (st)
            return st;
    }
    k = sl_composite(SL_KIND_TUPLE, items, w->npart);
    return sl_task_pair(t, &k, in, out);
}

sl_status sl__sql_exec_window(sl_engine *eng, const sl__sql_plan *p, sl_rdd *in,
                              sl_rdd **out)
{
    SL__UNUSED(eng);
    *out = sl_rdd_flat_map(
        sl_rdd_group_by_key(sl_rdd_map(in, keyed_fn, (void *)p), 0), window_fn,
        (void *)p);
    return *out ? SL_OK : SL_EUSER;
}
