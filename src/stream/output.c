/*
 * Output operations: foreach_rdd, print (as Spark's DStream.print) and
 * save_as_text_files. Registered before start, run on the job thread for
 * every batch in registration order.
 */
#include "stream/stream_int.h"
#include "stream/stream.h"

#include <errno.h>
#include <limits.h>
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

sl_status sl_dstream_print(sl_dstream *s, size_t num)
{
    output o;
    memset(&o, 0, sizeof o);
    o.kind = OUT_PRINT;
    o.num = num ? num : 10;
    return add_output(s, &o);
}

sl_status sl_dstream_print_json(sl_dstream *s, const char *name)
{
    output o;
    sl_status st;
    size_t n;
    sl_value v = sl_cstr(name ? name : "");
    memset(&o, 0, sizeof o);
    o.kind = OUT_JSON;
    /* The name is stored already quoted and escaped, as it is printed. */
    n = sl_value_format_json(&v, NULL, 0);
    o.prefix = sl_malloc(n + 1);
    if (!o.prefix) {
        if (s)
            sl__ctx_set_error(s->ctx, SL_ENOMEM, "out of memory");
        return s ? SL_ENOMEM : SL_EINVAL;
    }
    sl_value_format_json(&v, o.prefix, n + 1);
    if ((st = add_output(s, &o)) != SL_OK)
        sl_free(o.prefix);
    return st;
}

sl_status sl_dstream_save_as_text_files(sl_dstream *s, const char *prefix,
                                        const char *suffix)
{
    output o;
    sl_status st;
    if (s && (!prefix || !*prefix)) {
        sl__ctx_set_error(s->ctx, SL_EINVAL, "prefix is empty");
        return SL_EINVAL;
    }
    memset(&o, 0, sizeof o);
    o.kind = OUT_SAVE;
    o.prefix = sl__strdup(prefix);
    o.suffix = suffix && *suffix ? sl__strdup(suffix) : NULL;
    if (s && (!o.prefix || (suffix && *suffix && !o.suffix))) {
        st = SL_ENOMEM;
        sl__ctx_set_error(s->ctx, st, "out of memory");
    } else {
        st = add_output(s, &o);
    }
    if (st != SL_OK) {
        sl_free(o.prefix);
        sl_free(o.suffix);
    }
    return st;
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
        sl_free(o->prefix);
        sl_free(o->suffix);
        sl_free(o->name);
        sl_free(o);
    }
    ctx->outputs = NULL;
    ctx->outputs_tail = &ctx->outputs;
}

/* ------------------------------------------------------------- running */

static void put_record(FILE *f, const sl_value *v)
{
    char buf[1024];
    size_t n = sl_value_format(v, buf, sizeof buf);
    if (n < sizeof buf) {
        fwrite(buf, 1, n, f);
    } else {
        char *big = sl_malloc(n + 1);
        if (big) {
            sl_value_format(v, big, n + 1);
            fwrite(big, 1, n, f);
            sl_free(big);
        } else {
            fwrite(buf, 1, sizeof buf - 1, f);
        }
    }
    fputc('\n', f);
}

/*
 * A console output that could not be written (stdout closed, a pipe whose
 * reader went away with SIGPIPE ignored, a full disk) fails the batch:
 * output is never lost silently.
 */
static sl_status stdout_checked(sl_context *ctx, const char *what)
{
    int e = errno;
    if (!ferror(stdout))
        return SL_OK;
    clearerr(stdout);
    /* A descriptor 1 that is closed, or open for reading only (what a
     * careful launcher puts there when stdout was closed), is not a
     * failing device: say that the output was closed. */
    if (e == EBADF)
        sl__ctx_set_error(ctx, SL_EIO,
                          "%s: cannot write to stdout: standard output is "
                          "closed",
                          what);
    else
        sl__ctx_set_error(ctx, SL_EIO, "%s: cannot write to stdout: %s", what,
                          SL__STRERROR(e));
    return SL_EIO;
}

/* Spark's print(): take num + 1 records to know whether to print "...". */
static sl_status run_print(sl_context *ctx, output *o, sl_rdd *rdd,
                           int64_t time_ms)
{
    static const char dashes[] = "-------------------------------------------";
    const sl_value *items;
    size_t got, i;
    sl_status st = sl_rdd_take(rdd, o->num + 1, &items, &got);
    if (st != SL_OK) {
        sl__ctx_set_error(ctx, st, "print: %s", sl_engine_errmsg(ctx->eng));
        return st;
    }
    flockfile(stdout);
    printf("%s\nTime: %lld ms\n%s\n", dashes, (long long)time_ms, dashes);
    for (i = 0; i < got && i < o->num; i++)
        put_record(stdout, &items[i]);
    o->rows = (int64_t)i;
    if (got > o->num)
        fputs("...\n", stdout);
    fputc('\n', stdout);
    fflush(stdout);
    funlockfile(stdout);
    return stdout_checked(ctx, "print");
}

/* Count what the JSON writer replaced: a warning at the first, then at most
 * every 10 s, so that bad input cannot flood the log (job thread). */
static void note_replaced(sl_context *ctx, const batch *b, size_t n)
{
    int64_t total;
    if (n == 0)
        return;
    total = atomic_fetch_add(&ctx->json_replaced, (long long)n) + (int64_t)n;
    if (!sl__rate_due(&ctx->json_warned_ms, 10000))
        return;
    sl__log(&ctx->log, SL_LOG_WARN,
            "print_json: batch %lld: %zu invalid UTF-8 sequences written as "
            "U+FFFD (%lld so far)",
            (long long)b->id, n, (long long)total);
}

/* One JSON line per batch, written in one go so lines never interleave. */
static sl_status run_json(sl_context *ctx, output *o, sl_rdd *rdd, batch *b)
{
    const sl_value *items;
    size_t n, i, len, cap, need, rep, replaced = 0;
    char *buf, *grown;
    sl_status st = sl_rdd_collect(rdd, &items, &n);
    if (st != SL_OK) {
        sl__ctx_set_error(ctx, st, "print_json: %s",
                          sl_engine_errmsg(ctx->eng));
        return st;
    }
    cap = 256 + strlen(o->prefix);
    if (!(buf = sl_malloc(cap)))
        goto nomem;
    len = (size_t)snprintf(buf, cap,
                           "{\"batch\":%lld,\"time_ms\":%lld,\"stream\":%s,"
                           "\"records\":[",
                           (long long)b->info.batch_id, (long long)b->time_ms,
                           o->prefix);
    for (i = 0; i < n; i++) {
        if (i)
            buf[len++] = ',';
        /* Format in place; only a record that does not fit is formatted
         * twice (room kept for the NUL, ',' or "]}\n" after it). */
        rep = 0;
        need = sl__value_format_json(&items[i], buf + len, cap - len, &rep);
        need += 4;
        if (len + need > cap) {
            cap = (len + need) * 2;
            if (!(grown = sl_realloc(buf, cap)))
                goto nomem;
            buf = grown;
            rep = 0;
            sl__value_format_json(&items[i], buf + len, cap - len, &rep);
        }
        len += need - 4;
        replaced += rep;
    }
    buf[len++] = ']';
    buf[len++] = '}';
    buf[len++] = '\n';
    flockfile(stdout);
    fwrite(buf, 1, len, stdout);
    fflush(stdout);
    funlockfile(stdout);
    sl_free(buf);
    o->rows = (int64_t)n;
    note_replaced(ctx, b, replaced);
    return stdout_checked(ctx, "print_json");
nomem:
    sl_free(buf);
    sl__ctx_set_error(ctx, SL_ENOMEM, "print_json: out of memory");
    return SL_ENOMEM;
}

static sl_status run_save(sl_context *ctx, output *o, sl_rdd *rdd,
                          int64_t time_ms)
{
    char path[PATH_MAX];
    int n = snprintf(path, sizeof path, "%s-%lld%s%s", o->prefix,
                     (long long)time_ms, o->suffix ? "." : "",
                     o->suffix ? o->suffix : "");
    sl_status st;
    if (n < 0 || (size_t)n >= sizeof path) {
        sl__ctx_set_error(ctx, SL_EINVAL,
                          "save_as_text_files: path longer than PATH_MAX "
                          "(%d bytes): %s-%lld%s%s",
                          PATH_MAX - 1, o->prefix, (long long)time_ms,
                          o->suffix ? "." : "", o->suffix ? o->suffix : "");
        return SL_EINVAL;
    }
    /* A batch run again (a retry, or recovery) replaces its own output. */
    st = sl__rdd_save_text_replace(rdd, path);
    if (st != SL_OK)
        sl__ctx_set_error(ctx, st, "save_as_text_files: %s",
                          sl_engine_errmsg(ctx->eng));
    return st;
}

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

/* Write rdd through o (the batch's sinks phase). */
static sl_status output_write(sl_context *ctx, output *o, sl_rdd *rdd, batch *b)
{
    sl_status st;
    switch (o->kind) {
    case OUT_PRINT:
        return run_print(ctx, o, rdd, b->time_ms);
    case OUT_JSON:
        return run_json(ctx, o, rdd, b);
    case OUT_SAVE:
        return run_save(ctx, o, rdd, b->time_ms);
    default:
        sl__user_fn_begin(ctx);
        st = o->fn(rdd, b->time_ms, o->user);
        if (st != SL_OK)
            return sl__user_fn_failed(ctx, "foreach_rdd", b->time_ms, st);
        return SL_OK;
    }
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
    /* Only print and print_json count what they write. */
    o->rows = o->kind == OUT_PRINT || o->kind == OUT_JSON ? 0 : -1;
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
