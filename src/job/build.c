/*
 * Building a validated job: its configuration into a streaming context,
 * then its sources, its streams (in the order parse.c found, each after
 * what it reads) and its sinks. A failure names the JSON path of the part
 * that could not be built.
 */
#include "job/job_int.h"

#include <sluice/connectors.h>

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static sl_status fail(sl_job *job, sl_status st, const char *path,
                      const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static sl_status fail(sl_job *job, sl_status st, const char *path,
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

/* What the context's last failure was: out of memory, or refused. */
static sl_status ctx_status(sl_job *job)
{
    return strncmp(sl_context_errmsg(job->ctx), "SL_ENOMEM", 9) == 0
               ? SL_ENOMEM
               : SL_EINVAL;
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

static sl_status build_source(sl_job *job, job_source *src)
{
    const char *type = src->def->type;
    size_t i;
    sl_status st;

    if (strcmp(type, "socket") == 0)
        src->stream =
            sl_socket_text_stream(job->ctx, src->host, src->port, src->conf);
    else if (strcmp(type, "rate") == 0)
        src->stream = sl_rate_stream(job->ctx, src->conf);
    else if (strcmp(type, "generator") == 0)
        src->stream = sl_text_generator_stream(job->ctx, src->conf);
    else if (strcmp(type, "directory") == 0)
        src->stream = sl_file_stream(job->ctx, src->host, src->conf);
    else
        src->stream = sl_queue_stream(job->ctx, src->partitions);
    /* The job-file name is the source's identity in a checkpoint. */
    if (!src->stream || sl_dstream_set_name(src->stream, src->name) != SL_OK)
        return fail(job, ctx_status(job), src->path, "%s",
                    sl_context_errmsg(job->ctx));
    for (i = 0; i < src->nbatches; i++) {
        st = src->batches[i]
                 ? sl_queue_stream_push(src->stream, src->batches[i],
                                        src->batch_len[i])
                 : sl_queue_stream_push_none(src->stream);
        if (st != SL_OK)
            return fail(job, st, src->path, "%s", sl_strerror(st));
    }
    return SL_OK;
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

static sl_status build_stream(sl_job *job, job_stream *s)
{
    sl_dstream *cur = lookup(job, s->from), *with[64], **w = with;
    size_t k, i;

    for (k = 0; k < s->nops && cur; k++) {
        job_op *op = &s->ops[k];
        if (op->nwith > 64 &&
            !(w = sl__arena_alloc(&job->arena, op->nwith * sizeof *w)))
            return fail(job, SL_ENOMEM, op->path, "out of memory");
        for (i = 0; i < op->nwith; i++)
            w[i] = lookup(job, op->with[i]);
        cur = op->def->build(op, cur, w);
        if (!cur || name_stream(s, k, cur) != SL_OK)
            return fail(job, ctx_status(job), op->path, "%s",
                        sl_context_errmsg(job->ctx));
        w = with;
    }
    if (!cur)
        return fail(job, ctx_status(job), s->path, "%s",
                    sl_context_errmsg(job->ctx));
    s->stream = cur;
    return SL_OK;
}

static sl_status build_sink(sl_job *job, job_sink *k)
{
    sl_dstream *s = lookup(job, k->from);
    sl_status st;
    switch (k->kind) {
    case SINK_JSON:
        st = sl_dstream_print_json(s, k->from);
        break;
    case SINK_SAVE:
        st = sl_dstream_save_as_text_files(s, k->prefix, k->suffix);
        break;
    default:
        st = sl_dstream_print(s, k->num);
        break;
    }
    if (st != SL_OK)
        return fail(job, st, k->path, "%s", sl_context_errmsg(job->ctx));
    return SL_OK;
}

sl_status sl_job_build(sl_job *job, sl_context **out)
{
    char err[256];
    sl_conf *conf;
    sl_status st = SL_OK;
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
        return fail(job, SL_ESTATE, "$", "the job is built already");
    if (!(conf = sl_conf_dup(job->conf)))
        return fail(job, SL_ENOMEM, "$", "out of memory");
    if (!(job->ctx = sl_context_new(conf, err, sizeof err))) {
        sl_conf_free(conf);
        /* The conf was validated: what fails now is resources. */
        return fail(job, strstr(err, "out of memory") ? SL_ENOMEM : SL_EINVAL,
                    "$", "%s", err);
    }
    job->built = true;
    if (sl__job_bad_open(&job->bad, job->conf, job->ctx, err, sizeof err) !=
        SL_OK)
        return fail(job, SL_EIO, "$.dead_letter", "%s", err);
    for (i = 0; st == SL_OK && i < job->nsources; i++)
        st = build_source(job, &job->sources[i]);
    for (i = 0; st == SL_OK && i < job->norder; i++)
        st = build_stream(job, job->order[i]);
    for (i = 0; st == SL_OK && i < job->nsinks; i++)
        st = build_sink(job, &job->sinks[i]);
    if (st != SL_OK)
        return st;
    job->errmsg[0] = '\0';
    *out = job->ctx;
    return SL_OK;
}

sl_dstream *sl_job_stream(sl_job *job, const char *name)
{
    return job && job->ctx && name ? lookup(job, name) : NULL;
}
