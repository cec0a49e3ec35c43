/*
 * Ad-hoc SQL over memory tables (sluice/sql.h): a catalog over a snapshot
 * of the context's memory tables (stream/memtable.h), planned by
 * sql/plan.h and run on the context's query engine; the result copied
 * out of the engine's scope into memory of its own, within the
 * query.max_rows and query.max_memory bounds.
 */
#include "sql/plan.h"

#include "rdd/rdd.h"
#include "stream/memtable.h"

#include <sluice/sql.h>

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define MAX_PARTS 4       /* source partitions a table is read in */
#define CHECK_EVERY 1024u /* rows between two looks at the clock */

struct sl_sql_result {
    sl_schema *schema;
    sl__arena arena;
    sl_value *rows;
    size_t n;
};

typedef struct query {
    sl__memsnap *snap;
    sl_engine *eng;
    int64_t start_ns, deadline_ns; /* CLOCK_MONOTONIC */
    atomic_bool timed_out;
    sl__sql_catalog cat;
} query;

/* One source partition: parts [first, last) of a table's snapshot. */
typedef struct mem_split {
    query *q;
    const sl__memview *v;
    size_t first, last;
} mem_split;

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Past the deadline: interrupt every task of the query (their readers
 * stop at their next look) and say so. */
static bool past_deadline(query *q)
{
    if (mono_ns() <= q->deadline_ns)
        return false;
    atomic_store(&q->timed_out, true);
    sl__engine_interrupt(q->eng, true);
    return true;
}

/* The rows live in the snapshot's segments, which outlive the query. */
static sl_status read_fn(sl_task *t, const void *desc, void *user)
{
    const mem_split *s = desc;
    size_t p, i, seen = 0;
    sl_status st;
    (void)user;
    for (p = s->first; p < s->last; p++)
        for (i = 0; i < s->v->parts[p].n; i++) {
            if (++seen % CHECK_EVERY == 0 &&
                (sl_task_interrupted(t) || past_deadline(s->q)))
                return sl__task_fail(t, SL_ETIMEDOUT, "query.timeout reached");
            if ((st = sl_task_emit(t, &s->v->parts[p].rows[i])))
                return st;
        }
    return SL_OK;
}

static sl_rdd *table_rdd(void *user, void *handle, sl_engine *eng)
{
    query *q = user;
    const sl__memview *v = handle;
    size_t i, n = v->nparts < MAX_PARTS ? v->nparts : MAX_PARTS;
    mem_split *splits;
    if (!n)
        return sl_rdd_empty(eng);
    if (!(splits = sl__engine_scope_alloc(eng, n * sizeof *splits)))
        return NULL;
    for (i = 0; i < n; i++) {
        splits[i].q = q;
        splits[i].v = v;
        splits[i].first = v->nparts * i / n;
        splits[i].last = v->nparts * (i + 1) / n;
    }
    return sl__rdd_readers(eng, read_fn, splits, sizeof *splits, n);
}

static bool lookup(void *user, const char *name, const sl_schema **schema,
                   bool *is_stream, void **handle)
{
    query *q = user;
    size_t i;
    for (i = 0; i < q->snap->n; i++)
        if (!strcasecmp(q->snap->tables[i].name, name)) {
            *schema = q->snap->tables[i].schema;
            *is_stream = false;
            *handle = &q->snap->tables[i];
            return true;
        }
    return false;
}

/* ------------------------------------------------------------ results */

void sl_sql_result_free(sl_sql_result *r)
{
    if (!r)
        return;
    sl_schema_release(r->schema);
    sl__arena_free(&r->arena);
    sl_free(r);
}

const sl_schema *sl_sql_result_schema(const sl_sql_result *r)
{
    return r ? r->schema : NULL;
}

size_t sl_sql_result_rows(const sl_sql_result *r)
{
    return r ? r->n : 0;
}

const sl_value *sl_sql_result_row(const sl_sql_result *r, size_t i)
{
    return r && i < r->n ? &r->rows[i] : NULL;
}

/* The rows of in, checked against the bounds, copied into a result. */
static sl_status copy_result(const sl_conf *conf, sl__sql_result *in,
                             sl_sql_result **out, char *err, size_t errlen)
{
    int64_t max_rows = sl__conf_int(conf, "query.max_rows");
    int64_t max_bytes = sl__conf_int(conf, "query.max_memory");
    sl_sql_result *r;
    size_t i, bytes = 0;
    if ((int64_t)in->n > max_rows) {
        snprintf(err, errlen,
                 "the result has %zu rows, more than query.max_rows (%lld)",
                 in->n, (long long)max_rows);
        return SL_ERANGE;
    }
    for (i = 0; i < in->n; i++)
        bytes += sizeof(sl_value) + sl__value_deep_size(&in->rows[i]);
    if ((int64_t)bytes > max_bytes) {
        snprintf(err, errlen,
                 "the result needs %zu bytes, more than query.max_memory "
                 "(%lld bytes)",
                 bytes, (long long)max_bytes);
        return SL_ERANGE;
    }
    if (!(r = sl_malloc(sizeof *r)))
        goto nomem;
    memset(r, 0, sizeof *r);
    sl__arena_init(&r->arena, bytes < 4096 ? 4096 : bytes);
    r->rows = sl__arena_alloc(&r->arena, (in->n ? in->n : 1) * sizeof *r->rows);
    for (i = 0; r->rows && i < in->n; i++)
        if (sl__value_copy(&r->arena, NULL, &in->rows[i], &r->rows[i]))
            break;
    if (!r->rows || i < in->n) {
        sl_sql_result_free(r);
        goto nomem;
    }
    r->n = in->n;
    r->schema = in->schema; /* the result takes the reference */
    in->schema = NULL;
    *out = r;
    return SL_OK;
nomem:
    snprintf(err, errlen, "out of memory");
    return SL_ENOMEM;
}

/* --------------------------------------------------------------- run */

/* Parse, plan and run text over q's catalog on its engine. */
static sl_status run_plan(query *q, const sl_conf *conf, const char *text,
                          sl_sql_result **out, char *err, size_t errlen)
{
    sl__arena a;
    sl__sql_query *ast;
    sl__sql_plan *p;
    sl__sql_error e;
    sl__sql_result r = {0};
    struct timespec now;
    sl_status st;
    clock_gettime(CLOCK_REALTIME, &now);
    sl__arena_init(&a, 16384);
    if ((st = sl__sql_parse(text, &a, &ast, &e)) ||
        (st = sl__sql_plan_build(
             text, ast, &q->cat,
             (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000, &a, &p, &e))) {
        if (st == SL_EPARSE)
            sl__sql_error_format(text, &e, err, errlen);
        else
            snprintf(err, errlen, "%s", sl_strerror(st));
        goto done;
    }
    st = sl__sql_plan_run(p, &q->cat, q->eng, &r, err, errlen);
    /* A query past its deadline fails as a timeout whichever stage it
     * was in when the clock ran out (only readers look at it). */
    if (atomic_load(&q->timed_out) || past_deadline(q)) {
        snprintf(err, errlen,
                 "the query ran longer than query.timeout (%lld ms) and "
                 "was interrupted after %lld ms",
                 (long long)sl__conf_int(conf, "query.timeout"),
                 (long long)((mono_ns() - q->start_ns) / 1000000));
        st = SL_ETIMEDOUT;
    } else if (st == SL_OK) {
        st = copy_result(conf, &r, out, err, errlen);
    }
    sl__sql_result_free(&r);
done:
    sl__arena_free(&a);
    return st;
}

sl_status sl_context_sql(sl_context *ctx, const char *query_text,
                         sl_sql_result **out, char *errbuf, size_t errlen)
{
    const sl_conf *conf;
    query q;
    char scratch[1];
    sl_status st;
    if (!errbuf || !errlen) {
        errbuf = scratch;
        errlen = sizeof scratch;
    }
    errbuf[0] = '\0';
    if (!ctx || !query_text || !out) {
        snprintf(errbuf, errlen, "sl_context_sql: NULL argument");
        return SL_EINVAL;
    }
    *out = NULL;
    conf = sl__context_conf(ctx);
    memset(&q, 0, sizeof q);
    atomic_init(&q.timed_out, false);
    q.cat.lookup = lookup;
    q.cat.rdd = table_rdd;
    q.cat.user = &q;
    if ((st = sl__query_begin(ctx, &q.eng))) {
        snprintf(errbuf, errlen, "cannot make the query engine: out of memory");
        return st;
    }
    q.start_ns = mono_ns();
    q.deadline_ns = q.start_ns + sl__conf_int(conf, "query.timeout") * 1000000;
    if ((st = sl__memtables_snapshot(ctx, &q.snap)))
        snprintf(errbuf, errlen, "out of memory");
    else
        st = run_plan(&q, conf, query_text, out, errbuf, errlen);
    sl__query_end(ctx);
    sl__memsnap_free(q.snap);
    return st;
}
