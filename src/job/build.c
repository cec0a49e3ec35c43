/*
 * Building a validated job: its configuration into a streaming context,
 * then its sources, its streams (in the order parse.c found, each after
 * what it reads) and its sinks. A failure names the JSON path of the part
 * that could not be built.
 */
#include "job/job_int.h"

#include "sql/files.h"
#include "sql/sql_stream.h"
#include "stream/stream.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

sl_status sl__job_fail(sl_job *job, sl_status st, const char *path,
                       const char *fmt, ...)
{
    va_list ap;
    int n = snprintf(job->errmsg, sizeof job->errmsg, "%s: ", path);
    va_start(ap, fmt);
    if (n >= 0 && (size_t)n < sizeof job->errmsg)
        vsnprintf(job->errmsg + n, sizeof job->errmsg - (size_t)n, fmt, ap);
    va_end(ap);
    return st;
}

/* The context's last failure, as the handle keeps it beside its message
 * (SL_EINVAL should a call fail without setting one). */
static sl_status ctx_status(sl_job *job)
{
    sl_status st = sl_context_errcode(job->ctx);
    return st != SL_OK ? st : SL_EINVAL;
}

/* The built stream of a source or stream called name. */
static sl_dstream *lookup(sl_job *job, const char *name)
{
    size_t i;
    for (i = 0; i < job->nsources; i++)
        if (strcmp(job->sources[i].name, name) == 0)
            return job->sources[i].stream;
    for (i = 0; i < job->nstreams; i++)
        if (strcmp(job->streams[i].name, name) == 0)
            return job->streams[i].stream;
    return NULL;
}

sl_status sl__job_ctx_fail(sl_job *job, const char *path)
{
    return sl__job_fail(job, ctx_status(job), path, "%s",
                        sl_context_errmsg(job->ctx));
}

/*
 * Streams get their job-file names, so a checkpoint finds their state: the
 * stream's last operator the stream's name, an earlier one NAME.opK (its
 * position). An operator that returns its input (persist) keeps the name
 * it has.
 */
static sl_status name_stream(const job_stream *s, size_t k, sl_dstream *cur)
{
    char name[96];
    if (sl_dstream_name(cur))
        return SL_OK;
    if (k + 1 == s->nops)
        return sl_dstream_set_name(cur, s->name);
    snprintf(name, sizeof name, "%s.op%zu", s->name, k);
    return sl_dstream_set_name(cur, name);
}

/*
 * An operator may make streams of its own between its input and its
 * result (reduce_by_key_and_window without an inverse: a window, then
 * reduce_by_key); a checkpoint needs their names too: the result's name
 * and ".in", ".in.in" for each one up the chain.
 */
static sl_status name_inner(sl_dstream *cur, const sl_dstream *in)
{
    char name[160];
    size_t i;
    if (!sl_dstream_name(cur))
        return SL_OK;
    snprintf(name, sizeof name, "%s", sl_dstream_name(cur));
    for (i = 0; i < 8; i++) {
        sl_dstream *p = sl__dstream_parent(cur);
        if (!p || p == in || sl_dstream_name(p))
            return SL_OK;
        if (strlen(name) + 4 > 128)
            return SL_OK; /* check_names reports it at start */
        strcat(name, ".in");
        if (sl_dstream_set_name(p, name) != SL_OK)
            return SL_EINVAL;
        cur = p;
    }
    return SL_OK;
}

/* The job-file name is the source's identity in a checkpoint. */
/* How many streams and sinks read the named source or stream. */
static size_t readers(const sl_job *job, const char *name)
{
    size_t i, k, w, n = 0;
    for (i = 0; i < job->nstreams; i++) {
        const job_stream *s = &job->streams[i];
        n += s->from && strcmp(s->from, name) == 0;
        for (k = 0; k < s->nops; k++)
            for (w = 0; w < s->ops[k].nwith; w++)
                n += strcmp(s->ops[k].with[w], name) == 0;
    }
    for (i = 0; i < job->nsinks; i++)
        n += strcmp(job->sinks[i].from, name) == 0;
    return n;
}

/*
 * A source read by several streams or sinks is persisted for each batch:
 * otherwise every reader's job parses its lines again, so its malformed
 * lines would be counted and dead-lettered once per reader (two SQL
 * streams over one feed, as bbo_spread's per-second and per-minute).
 */
static sl_status build_source(sl_job *job, job_source *src)
{
    sl_status st = src->def->build(job, src);
    if (st == SL_OK && sl_dstream_set_name(src->stream, src->name) != SL_OK)
        return sl__job_ctx_fail(job, src->path);
    if (st == SL_OK && readers(job, src->name) > 1)
        sl_dstream_persist(src->stream);
    return st;
}

/*
 * The operator's job-file text (without "initial", applied at the first
 * start only) goes into a checkpoint's fingerprint: functions and their
 * arguments are what the C API cannot describe.
 */
static sl_status op_params(sl_job *job, const job_stream *s, size_t k,
                           sl_dstream *cur)
{
    const cJSON *ops = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(job->root, "streams"), s->name),
        "ops");
    const cJSON *op = cJSON_GetArrayItem(ops, (int)k);
    cJSON *copy;
    char *text = NULL;
    sl_status st;
    if (!op)
        return SL_OK;
    sl__json_lock();
    copy = cJSON_Duplicate(op, true);
    if (copy) {
        cJSON_DeleteItemFromObjectCaseSensitive(copy, "initial");
        text = cJSON_PrintUnformatted(copy);
        cJSON_Delete(copy);
    }
    sl__json_unlock();
    if (!text)
        return SL_ENOMEM;
    st = sl__dstream_set_params(cur, text);
    sl__json_lock();
    cJSON_free(text);
    sl__json_unlock();
    return st;
}

/* A SQL stream: its input registered as a view under its job-file name
 * (views.c: the rows it reads), the query planned against it; errors at
 * "$.streams.NAME.sql". */
static sl_status build_sql(sl_job *job, job_stream *s)
{
    char err[1024];
    const char *path = sl__job_path_field(job, s->path, "sql");
    sl__sql_stream_opts opts = {0};
    sl_status st;
    if ((st = sl__job_register_view(job, s->from, lookup(job, s->from), path)))
        return st;
    /* The input's watermark, before the query is planned over it (its
     * view's schema is known now). */
    if ((st = sl__job_apply_watermark(job, lookup(job, s->from),
                                      sl__job_input_watermark(job, s->from))))
        return st;
    opts.mode = (sl_output_mode)s->output_mode;
    opts.tables = job->files ? sl__sql_files_catalog(job->files) : NULL;
    opts.reject_when = s->reject_when;
    opts.dead = job->bad.dead;
    opts.name = s->name;
    if (!(s->stream =
              sl__sql_stream_build(job->ctx, s->sql, &opts, err, sizeof err)))
        return sl__job_fail(
            job, SL_EINVAL,
            opts.reject_failed ? sl__job_path_field(job, s->path, "reject_when")
                               : path,
            "%s", err);
    if (sl_dstream_set_name(s->stream, s->name) != SL_OK)
        return sl__job_ctx_fail(job, s->path);
    return SL_OK;
}

/* "tables": each file looked at (its schema inferred when not given);
 * errors at "$.tables.NAME". */
static sl_status build_tables(sl_job *job)
{
    char err[512];
    size_t i;
    sl_status st;
    if (!job->ntables)
        return SL_OK;
    if (!(job->files = sl__sql_files_new()))
        return sl__job_fail(job, SL_ENOMEM, "$.tables", "out of memory");
    for (i = 0; i < job->ntables; i++) {
        const job_table *t = &job->tables[i];
        if ((st = sl__sql_files_add_table(job->files, t->name, t->file,
                                          t->format, t->schema, err,
                                          sizeof err)))
            return sl__job_fail(job, st, t->path, "%s", err);
    }
    return SL_OK;
}

static sl_status build_stream(sl_job *job, job_stream *s)
{
    sl_dstream *cur = lookup(job, s->from), *with[64], **w = with, *prev = cur;
    size_t k, i;

    if (s->sql)
        return build_sql(job, s);

    for (k = 0; k < s->nops && cur; k++) {
        job_op *op = &s->ops[k];
        if (op->nwith > 64 &&
            !(w = sl__arena_alloc(&job->arena, op->nwith * sizeof *w)))
            return sl__job_fail(job, SL_ENOMEM, op->path, "out of memory");
        for (i = 0; i < op->nwith; i++)
            w[i] = lookup(job, op->with[i]);
        cur = op->def->build(op, cur, w);
        if (!cur || name_stream(s, k, cur) != SL_OK ||
            name_inner(cur, k ? prev : lookup(job, s->from)) != SL_OK)
            return sl__job_ctx_fail(job, op->path);
        prev = cur;
        if (op_params(job, s, k, cur) != SL_OK)
            return sl__job_fail(job, SL_ENOMEM, op->path, "out of memory");
        w = with;
    }
    if (!cur)
        return sl__job_ctx_fail(job, s->path);
    s->stream = cur;
    return SL_OK;
}

/* The sink's output, named by the sink so that the engine can tell its
 * outputs apart (manifests, metrics). */
static sl_status build_sink(sl_job *job, job_sink *k)
{
    sl_status st = k->def->build(job, k, lookup(job, k->from));
    if (st == SL_OK)
        st = sl__output_set_name(job->ctx, k->name);
    if (st != SL_OK)
        return sl__job_fail(job, st, k->path, "%s",
                            sl_context_errmsg(job->ctx));
    return SL_OK;
}

sl_status sl_job_build(sl_job *job, sl_context **out)
{
    char err[256];
    sl_conf *conf;
    sl_status st = SL_OK;
    bool rejects = false;
    size_t i;

    if (!job || !out)
        return SL_EINVAL;
    *out = NULL;
    if (job->nproblems) {
        snprintf(job->errmsg, sizeof job->errmsg,
                 "the job has %zu problem%s; the first: %s", job->nproblems,
                 job->nproblems == 1 ? "" : "s", job->problems[0]);
        return SL_EINVAL;
    }
    if (job->built)
        return sl__job_fail(job, SL_ESTATE, "$", "the job is built already");
    if (!(conf = sl_conf_dup(job->conf)))
        return sl__job_fail(job, SL_ENOMEM, "$", "out of memory");
    if (!(job->ctx = sl__context_create(conf, &st, err, sizeof err))) {
        sl_conf_free(conf);
        return sl__job_fail(job, st, "$", "%s", err);
    }
    job->built = true;
    /* rows set aside by reject_when, or as late (watermarks) */
    for (i = 0; i < job->nstreams && !rejects; i++)
        rejects = job->streams[i].reject_when != NULL ||
                  job->streams[i].wm.ok || job->streams[i].sql_watermark;
    for (i = 0; i < job->nsources && !rejects; i++)
        rejects = job->sources[i].wm.ok;
    if (job->trial)
        sl__context_set_trial(job->ctx);
    if (sl__job_bad_open(&job->bad, job->conf, job->ctx, rejects, err,
                         sizeof err) != SL_OK)
        return sl__job_fail(job, SL_EIO, "$.dead_letter", "%s", err);
    for (i = 0; st == SL_OK && i < job->nsources; i++)
        st = build_source(job, &job->sources[i]);
    if (st == SL_OK)
        st = build_tables(job);
    /* Watermarks are declared as SQL streams read their inputs (a
     * source's view schema, the rate source's, is known only then);
     * those no query reads, after every stream is built. */
    for (i = 0; st == SL_OK && i < job->norder; i++)
        st = build_stream(job, job->order[i]);
    for (i = 0; st == SL_OK && i < job->nsources; i++)
        st = sl__job_apply_watermark(job, job->sources[i].stream,
                                     &job->sources[i].wm);
    for (i = 0; st == SL_OK && i < job->nstreams; i++)
        st = sl__job_apply_watermark(job, job->streams[i].stream,
                                     &job->streams[i].wm);
    for (i = 0; st == SL_OK && i < job->nsinks; i++)
        st = build_sink(job, &job->sinks[i]);
    if (st == SL_OK && sl__context_set_job_name(job->ctx, sl_job_name(job)))
        return sl__job_fail(job, SL_ENOMEM, "$", "out of memory");
    if (st != SL_OK)
        return st;
    job->errmsg[0] = '\0';
    *out = job->ctx;
    return SL_OK;
}

sl_status sl_job_check(sl_job *job)
{
    sl_context *ctx;
    if (!job)
        return SL_EINVAL;
    job->trial = true;
    return sl_job_build(job, &ctx);
}

sl_dstream *sl_job_stream(sl_job *job, const char *name)
{
    return job && job->ctx && name ? lookup(job, name) : NULL;
}
