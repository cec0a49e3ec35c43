/*
 * Output operations: foreach_rdd and the sinks of sink.h (print,
 * print_json and save_as_text_files among them, builtin_sinks.c).
 * Registered before start, run on the job thread for every batch in
 * registration order; sinks are then committed or aborted with the batch.
 */
#include "stream/stream_int.h"
#include "stream/stream.h"

#include <stdio.h>
#include <string.h>

static sl_status add_output(sl_dstream *s, output *proto)
{
    output *o;
    if (!s)
        return SL_EINVAL;
    if (sl__ctx_check_building(s->ctx) != SL_OK)
        return SL_ESTATE;
    o = sl_malloc(sizeof *o);
    if (!o) {
        sl__ctx_set_error(s->ctx, SL_ENOMEM, "out of memory");
        return SL_ENOMEM;
    }
    *o = *proto;
    o->stream = s;
    o->next = NULL;
    o->written = -1;
    *s->ctx->outputs_tail = o;
    s->ctx->outputs_tail = &o->next;
    return SL_OK;
}

sl_status sl_dstream_foreach_rdd(sl_dstream *s, sl_foreach_rdd_fn fn,
                                 void *user)
{
    output o;
    if (s && !fn) {
        sl__ctx_set_error(s->ctx, SL_EINVAL, "function is NULL");
        return SL_EINVAL;
    }
    memset(&o, 0, sizeof o);
    o.kind = OUT_FOREACH;
    o.fn = fn;
    o.user = user;
    return add_output(s, &o);
}

static bool name_taken(const sl_context *ctx, const char *name)
{
    const output *o;
    for (o = ctx->outputs; o; o = o->next)
        if (o->name && strcmp(o->name, name) == 0)
            return true;
    return false;
}

/* The default name, "<stream name or output index>.<type>", made unique
 * by the output index when the stream has two sinks of one type. */
static char *default_name(const sl_dstream *s, const char *type)
{
    char buf[512];
    size_t i = 0;
    const output *o;
    for (o = s->ctx->outputs; o; o = o->next)
        i++;
    if (s->name)
        snprintf(buf, sizeof buf, "%s.%s", s->name, type);
    else
        snprintf(buf, sizeof buf, "%zu.%s", i, type);
    if (name_taken(s->ctx, buf))
        snprintf(buf + strlen(buf), sizeof buf - strlen(buf), ".%zu", i);
    return sl__strdup(buf);
}

static sl_status check_sink(sl_dstream *s, const char *name,
                            const sl_sink_ops *ops)
{
    if (!ops || ops->version < 1 || !ops->write_batch || !ops->type) {
        sl__ctx_set_error(s->ctx, SL_EINVAL,
                          "sink: ops need a version, a type and write_batch");
        return SL_EINVAL;
    }
    if (name && (!*name || name_taken(s->ctx, name))) {
        sl__ctx_set_error(s->ctx, SL_EINVAL,
                          *name ? "sink name \"%s\" is taken by another output"
                                : "sink name%s is empty",
                          name);
        return SL_EINVAL;
    }
    return SL_OK;
}

sl_status sl_dstream_add_sink(sl_dstream *s, const char *name,
                              const sl_sink_ops *ops, void *state)
{
    output o;
    sl_status st;
    if (!s) {
        st = SL_EINVAL;
        goto free_state;
    }
    if ((st = check_sink(s, name, ops)) != SL_OK)
        goto free_state;
    memset(&o, 0, sizeof o);
    o.kind = OUT_SINK;
    o.ops = ops;
    o.user = state;
    o.named = name != NULL;
    o.name = name ? sl__strdup(name) : default_name(s, ops->type);
    if (!o.name) {
        sl__ctx_set_error(s->ctx, SL_ENOMEM, "out of memory");
        st = SL_ENOMEM;
        goto free_state;
    }
    if ((st = add_output(s, &o)) == SL_OK)
        return SL_OK;
    sl_free(o.name);
free_state:
    if (ops && ops->free)
        ops->free(state);
    return st;
}

sl_status sl_dstream_print(sl_dstream *s, size_t num)
{
    return sl__print_sink_add(s, num);
}

sl_status sl_dstream_print_json(sl_dstream *s, const char *name)
{
    return sl__json_sink_add(s, name);
}

sl_status sl_dstream_print_table(sl_dstream *s, size_t num)
{
    return sl__table_sink_add(s, num);
}

sl_status sl_dstream_save_as_text_files(sl_dstream *s, const char *prefix,
                                        const char *suffix)
{
    if (s && (!prefix || !*prefix)) {
        sl__ctx_set_error(s->ctx, SL_EINVAL, "prefix is empty");
        return SL_EINVAL;
    }
    return sl__save_sink_add(s, prefix, suffix);
}

sl_status sl__output_set_name(sl_context *ctx, const char *name)
{
    output *last = ctx->outputs;
    char *copy = NULL;
    while (last && last->next)
        last = last->next;
    if (!last) {
        sl__ctx_set_error(ctx, SL_ESTATE, "no output to name");
        return SL_ESTATE;
    }
    if (name && !(copy = sl__strdup(name))) {
        sl__ctx_set_error(ctx, SL_ENOMEM, "out of memory");
        return SL_ENOMEM;
    }
    sl_free(last->name);
    last->name = copy;
    return SL_OK;
}

const char *sl__output_name_at(const sl_context *ctx, size_t i)
{
    const output *o = ctx->outputs;
    for (; o && i > 0; i--)
        o = o->next;
    return o ? o->name : NULL;
}

void sl__outputs_free(sl_context *ctx)
{
    output *o, *next;
    for (o = ctx->outputs; o; o = next) {
        next = o->next;
        if (o->kind == OUT_SINK && o->ops->free)
            o->ops->free(o->user);
        sl_free(o->name);
        sl_free(o);
    }
    ctx->outputs = NULL;
    ctx->outputs_tail = &ctx->outputs;
}

/* ------------------------------------------------------------- running */

void sl__user_fn_begin(sl_context *ctx)
{
    /* A message from an earlier call on the engine must not pass for the
     * reason of this callback's failure. */
    sl__engine_set_error(ctx->eng, "%s", "");
}

sl_status sl__user_fn_failed(sl_context *ctx, const char *what, int64_t time_ms,
                             sl_status st)
{
    const char *why = sl_engine_errmsg(ctx->eng);
    /* A callback passing on an action that a stop cut short (a reader's
     * SL_ESTOPPED) has not failed: the batch is interrupted. */
    if (st == SL_ESTOPPED) {
        sl__ctx_set_error(ctx, SL_ESTOPPED, "%s function at time %lld ms: %s",
                          what, (long long)time_ms,
                          *why ? why : sl_strerror(st));
        return SL_ESTOPPED;
    }
    /* The status alone ("value of the wrong kind") hides which action
     * failed and on what; the engine's message says it. */
    if (*why)
        sl__ctx_set_error(ctx, SL_EUSER,
                          "%s function failed at time %lld ms: %s (%s)", what,
                          (long long)time_ms, why, sl_strerror(st));
    else
        sl__ctx_set_error(ctx, SL_EUSER,
                          "%s function failed at time %lld ms: %s", what,
                          (long long)time_ms, sl_strerror(st));
    return SL_EUSER;
}

/* A sink failed: its own reason (sl_context_set_error, or an action's
 * message on the engine) prefixed by its name, else the status's text. */
static sl_status sink_failed(sl_context *ctx, output *o, const char *what,
                             int64_t batch_id, sl_status st)
{
    char why[sizeof ctx->err.text];
    const char *eng = sl_engine_errmsg(ctx->eng);
    size_t skip;
    bool own;

    pthread_mutex_lock(&ctx->err_lock);
    own = ctx->err.code == st && ctx->err.text[0];
    snprintf(why, sizeof why, "%s", ctx->err.text);
    pthread_mutex_unlock(&ctx->err_lock);
    skip = strlen(sl_errname(st)) + 2;
    if (*eng)
        snprintf(why, sizeof why, "%s", eng);
    else if (!own)
        snprintf(why, sizeof why, "%s", sl_strerror(st));
    /* The sink's message carries the status name already: once is
     * enough. */
    if (own && !*eng && strncmp(why, sl_errname(st), skip - 2) == 0 &&
        strncmp(why + skip - 2, ": ", 2) == 0)
        memmove(why, why + skip, strlen(why + skip) + 1);
    sl__ctx_set_error(ctx, st, "sink %s: %s of batch %lld: %s", o->name, what,
                      (long long)batch_id, why);
    return st;
}

static sl_status run_sink(sl_context *ctx, output *o, sl_rdd *rdd, batch *b)
{
    sl_status st;
    sl__user_fn_begin(ctx);
    if (!o->opened && o->ops->open) {
        if ((st = o->ops->open(o->user, o->name)) != SL_OK)
            return sink_failed(ctx, o, "open", b->id, st);
    }
    o->opened = true;
    o->written = b->id;
    if ((st = o->ops->write_batch(o->user, b->id, b->time_ms, rdd)) != SL_OK) {
        /* A stop cutting an action short is an interruption, not a
         * failure of the sink (run_batch tells them apart by status). */
        if (st == SL_ESTOPPED)
            return sl__user_fn_failed(ctx, "sink", b->time_ms, st);
        return sink_failed(ctx, o, "write", b->id, st);
    }
    return SL_OK;
}

/* Write rdd through o (the batch's sinks phase). */
static sl_status output_write(sl_context *ctx, output *o, sl_rdd *rdd, batch *b)
{
    sl_status st;
    if (o->kind == OUT_SINK) {
        if ((st = run_sink(ctx, o, rdd, b)) == SL_OK && o->ops->rows)
            o->rows = o->ops->rows(o->user, b->id);
        return st;
    }
    sl__user_fn_begin(ctx);
    st = o->fn(rdd, b->time_ms, o->user);
    if (st != SL_OK)
        return sl__user_fn_failed(ctx, "foreach_rdd", b->time_ms, st);
    return SL_OK;
}

sl_status sl__outputs_commit(sl_context *ctx, batch *b)
{
    output *o;
    sl_status st;
    for (o = ctx->outputs; o; o = o->next) {
        if (o->kind != OUT_SINK || !o->ops->commit)
            continue;
        sl__user_fn_begin(ctx);
        if ((st = o->ops->commit(o->user, b->id)) != SL_OK)
            return sink_failed(ctx, o, "commit", b->id, st);
    }
    return SL_OK;
}

/* After a restart the last committed batch's commit may never have run
 * (a crash right after commits/<batch>, or a commit that failed): it runs
 * again, before any batch, on sinks opened first as before a batch. */
sl_status sl__outputs_recommit(sl_context *ctx, int64_t batch_id)
{
    output *o;
    sl_status st;
    for (o = ctx->outputs; o; o = o->next) {
        if (o->kind != OUT_SINK || !o->ops->commit)
            continue;
        sl__user_fn_begin(ctx);
        if (!o->opened && o->ops->open &&
            (st = o->ops->open(o->user, o->name)) != SL_OK)
            return sink_failed(ctx, o, "open", batch_id, st);
        o->opened = true;
        if ((st = o->ops->commit(o->user, batch_id)) != SL_OK)
            return sink_failed(ctx, o, "commit (again, after a restart)",
                               batch_id, st);
    }
    return SL_OK;
}

void sl__outputs_abort(sl_context *ctx, batch *b)
{
    output *o;
    for (o = ctx->outputs; o; o = o->next)
        if (o->kind == OUT_SINK && o->ops->abort)
            o->ops->abort(o->user, b->id);
}

sl_status sl__outputs_files(sl_context *ctx, batch *b, sl__output_file_fn fn,
                            void *user)
{
    const sl_sink_file *files;
    output *o;
    size_t i, n;
    sl_status st;
    for (o = ctx->outputs; o; o = o->next) {
        /* Only a sink that wrote this very batch has files for it. */
        if (o->kind != OUT_SINK || !o->ops->files || o->written != b->id)
            continue;
        if ((st = o->ops->files(o->user, b->id, &files, &n)) != SL_OK)
            return sink_failed(ctx, o, "file list", b->id, st);
        for (i = 0; i < n; i++)
            if ((st = fn(user, o->name, &files[i])) != SL_OK)
                return st;
    }
    return SL_OK;
}

/*
 * Run o for b, timing the stream graph's RDD (compute) apart from the
 * writing (sinks). RDDs are lazy: the jobs an output's action runs count
 * as the sinks phase.
 */
sl_status sl__output_run(sl_context *ctx, output *o, batch *b)
{
    sl_rdd *rdd;
    sl_status st;
    int64_t t0 = sl__now_mono_us(), t1;
    /* Only sinks with a rows method count what they write. */
    o->rows = o->kind == OUT_SINK && o->ops->rows ? 0 : -1;
    if (!sl__time_valid(o->stream, b->time_ms))
        return SL_OK; /* not a batch time of this stream's slide */
    st = sl__dstream_rdd(o->stream, b, &rdd);
    t1 = sl__now_mono_us();
    b->phase_us[SL__PHASE_COMPUTE] += t1 - t0;
    if (st != SL_OK)
        return st;
    if (!rdd)
        return SL_OK; /* no batch at this time: Spark skips the output */
    st = output_write(ctx, o, rdd, b);
    b->phase_us[SL__PHASE_SINKS] += sl__now_mono_us() - t1;
    return st;
}
