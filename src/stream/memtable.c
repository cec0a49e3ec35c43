/*
 * Memory tables and the memory sink (memtable.h, sink.h). A batch's rows
 * are copied into a new segment by write_batch and applied at the sink's
 * commit, so a snapshot only ever sees whole, committed batches; a
 * replayed batch id (a commit called again at a restart, a batch run
 * again) is not applied twice. Segments are immutable and reference
 * counted: a snapshot keeps the ones it saw alive after the table moved
 * on (complete mode's replacement, max_rows' drops).
 */
#include "stream/memtable.h"

#include "core/schema.h"
#include "stream/stream_int.h"

#include <ctype.h>
#include <stdatomic.h>
#include <string.h>
#include <strings.h>

#define MAX_TABLE_NAME 128

struct sl__memseg {
    atomic_int refs;
    sl__arena arena;
    sl_value *rows;
    size_t n;
};

/* A run of a segment's rows that the table still holds. */
typedef struct run {
    sl__memseg *seg;
    size_t start, n;
} run;

typedef struct memtable {
    char *name;
    sl_context *ctx;
    sl_schema *schema;
    bool has_schema; /* false: records shown as "value string" */
    sl_output_mode mode;
    size_t *keys, nkeys;
    int64_t max_rows; /* 0: no limit */
    bool registered;  /* then the registry frees it, not the sink */
    /* lock guards runs and the counts, read by snapshots */
    pthread_mutex_t lock;
    run *runs;
    size_t nruns, cap, nrows;
    int64_t dropped;
    /* job thread */
    int64_t last_batch; /* the last batch applied, 0: none */
    sl__memseg *pending;
    int64_t pending_id, pending_rows;
} memtable;

struct sl__memreg {
    pthread_mutex_t lock; /* guards tables */
    memtable **tables;
    size_t n, cap;
    pthread_mutex_t query_lock; /* one ad-hoc query at a time */
    sl_engine *qeng;
};

/* ----------------------------------------------------------- segments */

static sl__memseg *seg_new(size_t n)
{
    sl__memseg *g = sl_malloc(sizeof *g);
    if (!g)
        return NULL;
    atomic_init(&g->refs, 1);
    sl__arena_init(&g->arena, 4096);
    g->n = n;
    g->rows = sl__arena_alloc(&g->arena, (n ? n : 1) * sizeof *g->rows);
    if (!g->rows) {
        sl__arena_free(&g->arena);
        sl_free(g);
        return NULL;
    }
    return g;
}

static void seg_unref(sl__memseg *g)
{
    if (g && atomic_fetch_sub(&g->refs, 1) == 1) {
        sl__arena_free(&g->arena);
        sl_free(g);
    }
}

static void runs_clear(memtable *t)
{
    size_t i;
    for (i = 0; i < t->nruns; i++)
        seg_unref(t->runs[i].seg);
    t->nruns = 0;
    t->nrows = 0;
}

static void table_free(memtable *t)
{
    if (!t)
        return;
    runs_clear(t);
    seg_unref(t->pending);
    sl_free(t->runs);
    sl_free(t->keys);
    sl_free(t->name);
    sl_schema_release(t->schema);
    pthread_mutex_destroy(&t->lock);
    sl_free(t);
}

/* ----------------------------------------------------------- registry */

sl__memreg *sl__memreg_new(void)
{
    sl__memreg *r = sl_malloc(sizeof *r);
    if (!r)
        return NULL;
    memset(r, 0, sizeof *r);
    if (pthread_mutex_init(&r->lock, NULL)) {
        sl_free(r);
        return NULL;
    }
    if (pthread_mutex_init(&r->query_lock, NULL)) {
        pthread_mutex_destroy(&r->lock);
        sl_free(r);
        return NULL;
    }
    return r;
}

void sl__memreg_free(sl__memreg *r)
{
    size_t i;
    if (!r)
        return;
    for (i = 0; i < r->n; i++)
        table_free(r->tables[i]);
    sl_free(r->tables);
    sl_engine_free(r->qeng);
    pthread_mutex_destroy(&r->query_lock);
    pthread_mutex_destroy(&r->lock);
    sl_free(r);
}

static memtable *reg_find(sl__memreg *r, const char *name)
{
    size_t i;
    for (i = 0; i < r->n; i++)
        if (!strcasecmp(r->tables[i]->name, name))
            return r->tables[i];
    return NULL;
}

/* A table name is an SQL identifier, so that queries name it unquoted. */
static bool name_ok(const char *name)
{
    size_t i, n = strlen(name);
    if (!n || n > MAX_TABLE_NAME || isdigit((unsigned char)name[0]))
        return false;
    for (i = 0; i < n; i++)
        if (!isalnum((unsigned char)name[i]) && name[i] != '_')
            return false;
    return true;
}

/* -------------------------------------------------------------- apply */

/* Drop the oldest rows beyond max_rows (under the lock); how many. */
static int64_t trim_locked(memtable *t)
{
    size_t excess, k;
    int64_t dropped = 0;
    if (!t->max_rows || t->nrows <= (size_t)t->max_rows)
        return 0;
    excess = t->nrows - (size_t)t->max_rows;
    while (excess && t->nruns) {
        run *first = &t->runs[0];
        k = first->n < excess ? first->n : excess;
        first->start += k;
        first->n -= k;
        excess -= k;
        t->nrows -= k;
        dropped += (int64_t)k;
        if (!first->n) {
            seg_unref(first->seg);
            memmove(t->runs, t->runs + 1, --t->nruns * sizeof *t->runs);
        }
    }
    t->dropped += dropped;
    return dropped;
}

/* Room for one more run (before any change). */
static sl_status runs_reserve(memtable *t)
{
    run *grown;
    size_t cap;
    if (t->nruns < t->cap)
        return SL_OK;
    cap = t->cap ? t->cap * 2 : 8;
    if (!(grown = sl_realloc(t->runs, cap * sizeof *grown)))
        return SL_ENOMEM;
    t->runs = grown;
    t->cap = cap;
    return SL_OK;
}

/* Apply segment g (the table takes its reference): append adds it,
 * complete replaces the table with it. */
/* Apply segment g (the table takes its reference; runs_reserve ran):
 * append and update add it, complete replaces the table with it. */
static void apply_locked(memtable *t, sl__memseg *g)
{
    int64_t dropped;
    if (t->mode == SL_OUTPUT_COMPLETE)
        runs_clear(t);
    t->runs[t->nruns].seg = g;
    t->runs[t->nruns].start = 0;
    t->runs[t->nruns++].n = g->n;
    t->nrows += g->n;
    dropped = trim_locked(t);
    if (dropped)
        sl__log(&t->ctx->log, SL_LOG_WARN,
                "memory table %s: dropped the %lld oldest rows (max_rows "
                "%lld; %lld dropped so far)",
                t->name, (long long)dropped, (long long)t->max_rows,
                (long long)t->dropped);
}

/* The key columns of row as a tuple in a (update mode). */
static sl_status row_key(const memtable *t, const sl_value *row, sl__arena *a,
                         sl_value *key)
{
    sl_value *items = sl__arena_alloc(a, t->nkeys * sizeof *items);
    size_t i;
    if (!items)
        return SL_ENOMEM;
    for (i = 0; i < t->nkeys; i++)
        items[i] = t->keys[i] < row->len ? row->u.items[t->keys[i]] : sl_null();
    *key = sl_composite(SL_KIND_TUPLE, items, t->nkeys);
    return SL_OK;
}

/* Index the new rows of g by key (the last row of a key wins). */
static sl_status index_new(const memtable *t, const sl__memseg *g, sl__htab *h,
                           sl__arena *a)
{
    sl__htab_slot *slot;
    sl_value key;
    bool created;
    size_t i;
    for (i = 0; i < g->n; i++) {
        if (row_key(t, &g->rows[i], a, &key) ||
            !(slot = sl__htab_upsert(h, &key, sl__htab_hash(&key), &created)))
            return SL_ENOMEM;
        slot->value = sl_int((int64_t)i);
    }
    return SL_OK;
}

/*
 * Update mode: a new segment holding the table's rows with those whose
 * key g has replaced in place by g's row, then g's rows of new keys.
 * The table's rows are copied (update-mode tables hold one row per key:
 * an aggregation's result, small beside the input).
 */
static sl_status merge_update(memtable *t, sl__memseg *g, sl__memseg **out)
{
    sl__htab h;
    sl__arena a;
    sl__memseg *m = NULL;
    sl__htab_slot *slot;
    bool *used = NULL;
    size_t i, j, k = 0;
    sl_value key;
    sl_status st = SL_ENOMEM;
    sl__arena_init(&a, 4096);
    if (sl__htab_init(&h, g->n))
        goto done;
    if (!(used = sl_malloc((g->n ? g->n : 1) * sizeof *used)) ||
        index_new(t, g, &h, &a) || !(m = seg_new(t->nrows + g->n)))
        goto done;
    memset(used, 0, (g->n ? g->n : 1) * sizeof *used);
    for (i = 0; i < t->nruns; i++)
        for (j = 0; j < t->runs[i].n; j++) {
            const sl_value *row = &t->runs[i].seg->rows[t->runs[i].start + j];
            if (row_key(t, row, &a, &key))
                goto done;
            slot = sl__htab_find(&h, &key, sl__htab_hash(&key));
            if (slot && !used[slot->value.u.i]) {
                used[slot->value.u.i] = true;
                row = &g->rows[slot->value.u.i];
            } else if (slot)
                continue; /* a second old row of a replaced key */
            if (sl__value_copy(&m->arena, NULL, row, &m->rows[k++]))
                goto done;
        }
    for (i = 0; i < g->n; i++) {
        if (row_key(t, &g->rows[i], &a, &key))
            goto done;
        slot = sl__htab_find(&h, &key, sl__htab_hash(&key));
        if (!used[i] && (size_t)slot->value.u.i == i &&
            sl__value_copy(&m->arena, NULL, &g->rows[i], &m->rows[k++]))
            goto done;
    }
    m->n = k;
    *out = m;
    m = NULL;
    st = SL_OK;
done:
    seg_unref(m);
    sl_free(used);
    sl__htab_free(&h);
    sl__arena_free(&a);
    return st;
}

/* ---------------------------------------------------------- the sink */

/* Record v as a row of the table (a copy in g's arena): the stream's
 * rows as they are, other records as one string column "value". */
static sl_status to_row(memtable *t, const sl_value *v, sl__memseg *g,
                        sl_value *out)
{
    sl_value *item;
    size_t len;
    char *text;
    if (t->has_schema) {
        if (v->kind != SL_KIND_TUPLE || v->len != sl_schema_size(t->schema))
            return SL_ETYPE;
        return sl__value_copy(&g->arena, NULL, v, out);
    }
    if (!(item = sl__arena_alloc(&g->arena, sizeof *item)))
        return SL_ENOMEM;
    if (v->kind == SL_KIND_STR) {
        if (sl__value_copy(&g->arena, NULL, v, item))
            return SL_ENOMEM;
    } else {
        len = sl_value_format(v, NULL, 0);
        if (!(text = sl__arena_alloc(&g->arena, len + 1)))
            return SL_ENOMEM;
        sl_value_format(v, text, len + 1);
        *item = sl_str(text, len);
    }
    *out = sl_composite(SL_KIND_TUPLE, item, 1);
    return SL_OK;
}

static sl_status mem_write(void *state, int64_t batch_id, int64_t time_ms,
                           sl_rdd *rdd)
{
    memtable *t = state;
    const sl_value *items;
    size_t n, i;
    sl_status st;
    (void)time_ms;
    seg_unref(t->pending);
    t->pending = NULL;
    t->pending_rows = 0;
    if (batch_id <= t->last_batch)
        return SL_OK; /* applied already: never twice */
    if ((st = sl_rdd_collect(rdd, &items, &n))) {
        sl__ctx_set_error(t->ctx, st, "memory sink %s: %s", t->name,
                          sl_engine_errmsg(t->ctx->eng));
        return st;
    }
    if (!(t->pending = seg_new(n)))
        goto nomem;
    for (i = 0; i < n; i++)
        if ((st = to_row(t, &items[i], t->pending, &t->pending->rows[i])))
            goto fail;
    t->pending_id = batch_id;
    t->pending_rows = (int64_t)n;
    return SL_OK;
fail:
    seg_unref(t->pending);
    t->pending = NULL;
    if (st == SL_ETYPE) {
        sl__ctx_set_error(t->ctx, st,
                          "memory sink %s: record %zu of batch %lld is not a "
                          "row of the stream's %zu columns",
                          t->name, i, (long long)batch_id,
                          sl_schema_size(t->schema));
        return st;
    }
nomem:
    sl__ctx_set_error(t->ctx, SL_ENOMEM, "memory sink %s: out of memory",
                      t->name);
    return SL_ENOMEM;
}

static sl_status mem_commit(void *state, int64_t batch_id)
{
    memtable *t = state;
    sl__memseg *g = t->pending;
    sl_status st;
    if (!g || t->pending_id != batch_id)
        return SL_OK; /* a commit called again: applied already */
    pthread_mutex_lock(&t->lock);
    /* Every allocation before the first change: applying cannot fail
     * half way (the state store's discipline). */
    st = runs_reserve(t);
    if (st == SL_OK && t->mode == SL_OUTPUT_UPDATE && t->nkeys &&
        (st = merge_update(t, t->pending, &g)) == SL_OK) {
        runs_clear(t);
        seg_unref(t->pending);
    }
    if (st == SL_OK) {
        apply_locked(t, g);
        t->pending = NULL;
    }
    pthread_mutex_unlock(&t->lock);
    if (st) {
        sl__ctx_set_error(t->ctx, st, "memory sink %s: out of memory", t->name);
        return st;
    }
    t->last_batch = batch_id;
    return SL_OK;
}

static void mem_abort(void *state, int64_t batch_id)
{
    memtable *t = state;
    (void)batch_id;
    seg_unref(t->pending);
    t->pending = NULL;
}

static int64_t mem_rows(void *state, int64_t batch_id)
{
    (void)batch_id;
    return ((const memtable *)state)->pending_rows;
}

static void mem_free(void *state)
{
    memtable *t = state;
    if (t && !t->registered)
        table_free(t);
}

static const sl_sink_ops mem_ops = {.version = SL_SINK_OPS_VERSION,
                                    .type = "memory",
                                    .write_batch = mem_write,
                                    .commit = mem_commit,
                                    .abort = mem_abort,
                                    .free = mem_free,
                                    .rows = mem_rows};

/* A table for stream s (not registered yet): its schema ("value string"
 * for a stream without one), the stream's output mode and keys. */
static memtable *table_new(sl_dstream *s, const char *name, int64_t max_rows)
{
    char err[128];
    size_t nkeys = 0;
    const size_t *keys = sl_dstream_key_columns(s, &nkeys);
    memtable *t = sl_malloc(sizeof *t);
    if (!t)
        return NULL;
    memset(t, 0, sizeof *t);
    if (pthread_mutex_init(&t->lock, NULL)) {
        sl_free(t);
        return NULL;
    }
    t->ctx = s->ctx;
    t->mode = sl_dstream_output_mode(s);
    t->max_rows = max_rows;
    t->has_schema = sl_dstream_schema(s) != NULL;
    if (t->has_schema)
        t->schema = sl_schema_retain(sl_dstream_schema(s));
    else if (sl_schema_parse("value string", &t->schema, err, sizeof err))
        t->schema = NULL;
    t->name = sl__strdup(name);
    if (nkeys && (t->keys = sl_malloc(nkeys * sizeof *t->keys))) {
        memcpy(t->keys, keys, nkeys * sizeof *keys);
        t->nkeys = nkeys;
    }
    if (!t->schema || !t->name || (nkeys && !t->keys)) {
        table_free(t);
        return NULL;
    }
    return t;
}

/* Check the name and make room for one more table (under reg->lock). */
static sl_status reg_reserve(sl_context *ctx, const char *name)
{
    sl__memreg *r = ctx->mem;
    memtable **grown;
    if (!name_ok(name)) {
        sl__ctx_set_error(ctx, SL_EINVAL,
                          "memory sink: table name '%s' is not an SQL "
                          "identifier (letters, digits and '_', not starting "
                          "with a digit, 1 to %d bytes)",
                          name, MAX_TABLE_NAME);
        return SL_EINVAL;
    }
    if (reg_find(r, name)) {
        sl__ctx_set_error(ctx, SL_EINVAL,
                          "memory sink: table %s is written by another memory "
                          "sink already (one sink per table)",
                          name);
        return SL_EINVAL;
    }
    if (r->n < r->cap)
        return SL_OK;
    grown = sl_realloc(r->tables, (r->cap ? r->cap * 2 : 4) * sizeof *grown);
    if (!grown) {
        sl__ctx_set_error(ctx, SL_ENOMEM, "out of memory");
        return SL_ENOMEM;
    }
    r->tables = grown;
    r->cap = r->cap ? r->cap * 2 : 4;
    return SL_OK;
}

sl_status sl_memory_sink(sl_dstream *s, const char *table, const sl_conf *conf)
{
    int64_t max_rows = 0;
    memtable *t;
    sl_status st;
    if (!s || !table)
        return SL_EINVAL;
    if ((st = sl__ctx_check_building(s->ctx)))
        return st;
    if (conf &&
        (st = sl_conf_get_int(conf, "memory_sink.max_rows", &max_rows))) {
        sl__ctx_set_error(s->ctx, st, "memory sink: memory_sink.max_rows: %s",
                          sl_strerror(st));
        return st;
    }
    pthread_mutex_lock(&s->ctx->mem->lock);
    if ((st = reg_reserve(s->ctx, table)))
        goto unlock;
    if (!(t = table_new(s, table, max_rows))) {
        sl__ctx_set_error(s->ctx, SL_ENOMEM, "out of memory");
        st = SL_ENOMEM;
        goto unlock;
    }
    if ((st = sl_dstream_add_sink(s, NULL, &mem_ops, t)))
        goto unlock; /* t freed by mem_free */
    t->registered = true;
    s->ctx->mem->tables[s->ctx->mem->n++] = t;
unlock:
    pthread_mutex_unlock(&s->ctx->mem->lock);
    return st;
}

/* ----------------------------------------------------------- readers */

/* View v of t: references to its runs, copied under t's lock only. */
static sl_status view_take(memtable *t, sl__memview *v)
{
    size_t i;
    memset(v, 0, sizeof *v);
    if (!(v->name = sl__strdup(t->name)))
        return SL_ENOMEM;
    v->schema = sl_schema_retain(t->schema);
    pthread_mutex_lock(&t->lock);
    v->parts = sl_malloc((t->nruns ? t->nruns : 1) * sizeof *v->parts);
    for (i = 0; v->parts && i < t->nruns; i++) {
        atomic_fetch_add(&t->runs[i].seg->refs, 1);
        v->parts[i].seg = t->runs[i].seg;
        v->parts[i].rows = t->runs[i].seg->rows + t->runs[i].start;
        v->parts[i].n = t->runs[i].n;
    }
    if (v->parts) {
        v->nparts = t->nruns;
        v->nrows = t->nrows;
    }
    pthread_mutex_unlock(&t->lock);
    return v->parts ? SL_OK : SL_ENOMEM;
}

static void view_free(sl__memview *v)
{
    size_t i;
    for (i = 0; i < v->nparts; i++)
        seg_unref(v->parts[i].seg);
    sl_free(v->parts);
    sl_free(v->name);
    sl_schema_release(v->schema);
}

void sl__memsnap_free(sl__memsnap *s)
{
    size_t i;
    if (!s)
        return;
    for (i = 0; i < s->n; i++)
        view_free(&s->tables[i]);
    sl_free(s->tables);
    sl_free(s);
}

sl_status sl__memtables_snapshot(sl_context *ctx, sl__memsnap **out)
{
    sl__memreg *r = ctx->mem;
    sl__memsnap *s = sl_malloc(sizeof *s);
    sl_status st = SL_OK;
    size_t i;
    if (!s)
        return SL_ENOMEM;
    memset(s, 0, sizeof *s);
    pthread_mutex_lock(&r->lock);
    s->tables = sl_malloc((r->n ? r->n : 1) * sizeof *s->tables);
    for (i = 0; s->tables && i < r->n && st == SL_OK; i++)
        if ((st = view_take(r->tables[i], &s->tables[s->n])) == SL_OK)
            s->n++;
        else
            view_free(&s->tables[s->n]);
    pthread_mutex_unlock(&r->lock);
    if (!s->tables || st) {
        sl__memsnap_free(s);
        return SL_ENOMEM;
    }
    *out = s;
    return SL_OK;
}

sl_status sl_context_memory_table_stats(sl_context *ctx, const char *table,
                                        int64_t *rows, int64_t *dropped)
{
    memtable *t;
    if (!ctx || !table || !rows || !dropped)
        return SL_EINVAL;
    pthread_mutex_lock(&ctx->mem->lock);
    t = reg_find(ctx->mem, table);
    if (t) {
        pthread_mutex_lock(&t->lock);
        *rows = (int64_t)t->nrows;
        *dropped = t->dropped;
        pthread_mutex_unlock(&t->lock);
    }
    pthread_mutex_unlock(&ctx->mem->lock);
    return t ? SL_OK : SL_ENOTFOUND;
}

/* ------------------------------------------------------ query engine */

sl_status sl__query_begin(sl_context *ctx, sl_engine **eng)
{
    sl__memreg *r = ctx->mem;
    char err[256];
    sl_conf *conf;
    pthread_mutex_lock(&r->query_lock);
    if (!r->qeng) {
        /* One worker: queries never take the batch jobs' workers, and
         * one engine is never driven by two threads at once. */
        conf = sl_conf_new();
        if (conf && sl_conf_set(conf, "workers", "1", err, sizeof err) == SL_OK)
            r->qeng = sl__engine_create(conf, &ctx->log, err, sizeof err);
        sl_conf_free(conf);
    }
    if (!r->qeng) {
        pthread_mutex_unlock(&r->query_lock);
        return SL_ENOMEM;
    }
    sl__engine_interrupt(r->qeng, false);
    *eng = r->qeng;
    return SL_OK;
}

void sl__query_end(sl_context *ctx)
{
    sl_engine_clear(ctx->mem->qeng);
    pthread_mutex_unlock(&ctx->mem->query_lock);
}

const sl_conf *sl__context_conf(const sl_context *ctx)
{
    return ctx->conf;
}

const sl_sink_ops *sl__memtable_ops(void)
{
    return &mem_ops;
}

void *sl__memtable_state(sl_context *ctx, const char *name)
{
    memtable *t;
    pthread_mutex_lock(&ctx->mem->lock);
    t = reg_find(ctx->mem, name);
    pthread_mutex_unlock(&ctx->mem->lock);
    return t;
}
