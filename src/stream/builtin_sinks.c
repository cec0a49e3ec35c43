/*
 * The built-in sinks of the stream layer as sink.h implementations: print
 * (Spark's DStream.print), print_json (one JSON line per batch; rows of a
 * stream with a schema as objects), print_table (Spark's console sink:
 * "Batch: N" and a show() table) and save_as_text_files (replay-safe,
 * src/rdd/save_text.c). The console ones are at-least-once across a
 * crash: a batch re-run after a restart prints again
 * (docs/checkpoint-format.md).
 */
#include "stream/stream_int.h"

#include "core/row_out.h"
#include "core/schema.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

/* The state of each: its context (for errors and the JSON counters) and
 * its parameters. */
typedef struct builtin {
    sl_context *ctx;
    size_t num;   /* print */
    char *prefix; /* print_json: the stream label, quoted; save: prefix */
    char *suffix; /* save, or NULL */
    int64_t rows; /* print, print_json: records the last batch wrote */
    const sl_schema *schema; /* print_json, print_table: the stream's */
    sl_schema *value_schema; /* print_table without one: "value string" */
} builtin;

static void builtin_free(void *state)
{
    builtin *o = state;
    if (!o)
        return;
    sl_free(o->prefix);
    sl_free(o->suffix);
    sl_schema_release(o->schema);
    sl_schema_release(o->value_schema);
    sl_free(o);
}

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
static sl_status print_write(void *state, int64_t batch_id, int64_t time_ms,
                             sl_rdd *rdd)
{
    builtin *o = state;
    sl_context *ctx = o->ctx;
    static const char dashes[] = "-------------------------------------------";
    const sl_value *items;
    size_t got, i;
    sl_status st = sl_rdd_take(rdd, o->num + 1, &items, &got);
    (void)batch_id;
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
static void note_replaced(sl_context *ctx, int64_t batch_id, size_t n)
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
            (long long)batch_id, n, (long long)total);
}

/* Write out (one whole line or table) to stdout at once; frees it. */
static sl_status put_stdout(sl_context *ctx, sl__buf *out, const char *what)
{
    flockfile(stdout);
    fwrite(out->data, 1, out->len, stdout);
    fflush(stdout);
    funlockfile(stdout);
    sl__buf_free(out);
    return stdout_checked(ctx, what);
}

/* print_json of a stream with a schema: each row an object whose members
 * are its columns in schema order, typed (docs/sql.md "Printing rows"). */
static sl_status json_rows(builtin *o, int64_t batch_id, int64_t time_ms,
                           const sl_value *items, size_t n)
{
    sl__buf out = {0};
    char head[96];
    size_t i;
    sl_status st;
    snprintf(head, sizeof head, "{\"batch\":%lld,\"time_ms\":%lld,\"stream\":",
             (long long)batch_id, (long long)time_ms);
    st = sl__buf_append(&out, head, strlen(head));
    if (st == SL_OK)
        st = sl__buf_append(&out, o->prefix, strlen(o->prefix));
    if (st == SL_OK)
        st = sl__buf_append(&out, ",\"records\":[", 12);
    for (i = 0; i < n && st == SL_OK; i++) {
        if (i)
            st = sl__buf_append(&out, ",", 1);
        if (st == SL_OK)
            st = sl__json_put_row(&out, o->schema, &items[i]);
    }
    if (st == SL_OK)
        st = sl__buf_append(&out, "]}\n", 3);
    if (st != SL_OK) {
        sl__buf_free(&out);
        sl__ctx_set_error(o->ctx, SL_ENOMEM, "print_json: out of memory");
        return SL_ENOMEM;
    }
    o->rows = (int64_t)n;
    return put_stdout(o->ctx, &out, "print_json");
}

/* One JSON line per batch, written in one go so lines never interleave. */
static sl_status json_write(void *state, int64_t batch_id, int64_t time_ms,
                            sl_rdd *rdd)
{
    builtin *o = state;
    sl_context *ctx = o->ctx;
    const sl_value *items;
    size_t n, i, len, cap, need, rep, replaced = 0;
    char *buf, *grown;
    sl_status st = sl_rdd_collect(rdd, &items, &n);
    if (st != SL_OK) {
        sl__ctx_set_error(ctx, st, "print_json: %s",
                          sl_engine_errmsg(ctx->eng));
        return st;
    }
    if (o->schema)
        return json_rows(o, batch_id, time_ms, items, n);
    cap = 256 + strlen(o->prefix);
    if (!(buf = sl_malloc(cap)))
        goto nomem;
    len = (size_t)snprintf(buf, cap,
                           "{\"batch\":%lld,\"time_ms\":%lld,\"stream\":%s,"
                           "\"records\":[",
                           (long long)batch_id, (long long)time_ms, o->prefix);
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
    note_replaced(ctx, batch_id, replaced);
    return stdout_checked(ctx, "print_json");
nomem:
    sl_free(buf);
    sl__ctx_set_error(ctx, SL_ENOMEM, "print_json: out of memory");
    return SL_ENOMEM;
}

/* A stream without a schema shown as a table: one column "value" holding
 * each record's text (sl_value_format), in the caller's arena. */
static const sl_value *as_value_rows(const sl_value *items, size_t n,
                                     sl__arena *a)
{
    sl_value *rows = sl__arena_alloc(a, (n ? n : 1) * 2 * sizeof *rows);
    size_t i, len;
    char *text;
    if (!rows)
        return NULL;
    for (i = 0; i < n; i++) {
        len = sl_value_format(&items[i], NULL, 0);
        if (!(text = sl__arena_alloc(a, len + 1)))
            return NULL;
        sl_value_format(&items[i], text, len + 1);
        rows[n + i] = sl_str(text, len);
        rows[i] = sl_composite(SL_KIND_TUPLE, &rows[n + i], 1);
    }
    return rows;
}

/* Spark's console sink: a dashes line, "Batch: N", a dashes line, then
 * show(num, truncate = true) of the batch. */
static sl_status table_write(void *state, int64_t batch_id, int64_t time_ms,
                             sl_rdd *rdd)
{
    builtin *o = state;
    sl_context *ctx = o->ctx;
    static const char dashes[] = "-------------------------------------------";
    const sl_value *items, *rows;
    char head[160];
    sl__buf out = {0};
    sl__arena a;
    size_t got;
    sl_status st = sl_rdd_take(rdd, o->num + 1, &items, &got);
    (void)time_ms;
    if (st != SL_OK) {
        sl__ctx_set_error(ctx, st, "print_table: %s",
                          sl_engine_errmsg(ctx->eng));
        return st;
    }
    sl__arena_init(&a, 4096);
    rows = o->schema ? items : as_value_rows(items, got, &a);
    snprintf(head, sizeof head, "%s\nBatch: %lld\n%s\n", dashes,
             (long long)batch_id, dashes);
    /* An empty batch takes no items (NULL): only the header is shown. */
    st = rows || (o->schema && got == 0)
             ? sl__buf_append(&out, head, strlen(head))
             : SL_ENOMEM;
    if (st == SL_OK)
        st = sl__rows_put_table(&out, o->schema ? o->schema : o->value_schema,
                                rows, got, o->num);
    if (st == SL_OK)
        st = sl__buf_append(&out, "\n", 1);
    sl__arena_free(&a);
    if (st != SL_OK) {
        sl__buf_free(&out);
        sl__ctx_set_error(ctx, SL_ENOMEM, "print_table: out of memory");
        return SL_ENOMEM;
    }
    o->rows = (int64_t)(got < o->num ? got : o->num);
    return put_stdout(ctx, &out, "print_table");
}

static sl_status save_write(void *state, int64_t batch_id, int64_t time_ms,
                            sl_rdd *rdd)
{
    builtin *o = state;
    sl_context *ctx = o->ctx;
    char path[PATH_MAX];
    int n = snprintf(path, sizeof path, "%s-%lld%s%s", o->prefix,
                     (long long)time_ms, o->suffix ? "." : "",
                     o->suffix ? o->suffix : "");
    sl_status st;
    (void)batch_id;
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

/* The console sinks count what they print (the progress entry's rows). */
static int64_t builtin_rows(void *state, int64_t batch_id)
{
    (void)batch_id;
    return ((const builtin *)state)->rows;
}

static const sl_sink_ops print_ops = {.version = SL_SINK_OPS_VERSION,
                                      .type = "console",
                                      .write_batch = print_write,
                                      .free = builtin_free,
                                      .rows = builtin_rows};
static const sl_sink_ops json_ops = {.version = SL_SINK_OPS_VERSION,
                                     .type = "console",
                                     .write_batch = json_write,
                                     .free = builtin_free,
                                     .rows = builtin_rows};
static const sl_sink_ops table_ops = {.version = SL_SINK_OPS_VERSION,
                                      .type = "console",
                                      .write_batch = table_write,
                                      .free = builtin_free,
                                      .rows = builtin_rows};
static const sl_sink_ops save_ops = {.version = SL_SINK_OPS_VERSION,
                                     .type = "save_as_text_files",
                                     .write_batch = save_write,
                                     .free = builtin_free};

static builtin *builtin_new(sl_dstream *s)
{
    builtin *o = sl_malloc(sizeof *o);
    if (o) {
        memset(o, 0, sizeof *o);
        o->ctx = s->ctx;
        if (sl_dstream_schema(s))
            o->schema = sl_schema_retain(sl_dstream_schema(s));
    } else
        sl__ctx_set_error(s->ctx, SL_ENOMEM, "out of memory");
    return o;
}

sl_status sl__print_sink_add(sl_dstream *s, size_t num)
{
    builtin *o;
    if (!s)
        return SL_EINVAL;
    if (!(o = builtin_new(s)))
        return SL_ENOMEM;
    o->num = num ? num : 10;
    return sl_dstream_add_sink(s, NULL, &print_ops, o);
}

sl_status sl__json_sink_add(sl_dstream *s, const char *name)
{
    builtin *o;
    size_t n;
    sl_value v = sl_cstr(name ? name : "");
    if (!s)
        return SL_EINVAL;
    if (!(o = builtin_new(s)))
        return SL_ENOMEM;
    /* The name is stored already quoted and escaped, as it is printed. */
    n = sl_value_format_json(&v, NULL, 0);
    if (!(o->prefix = sl_malloc(n + 1))) {
        builtin_free(o);
        sl__ctx_set_error(s->ctx, SL_ENOMEM, "out of memory");
        return SL_ENOMEM;
    }
    sl_value_format_json(&v, o->prefix, n + 1);
    return sl_dstream_add_sink(s, NULL, &json_ops, o);
}

sl_status sl__table_sink_add(sl_dstream *s, size_t num)
{
    char err[128];
    builtin *o;
    if (!s)
        return SL_EINVAL;
    if (!(o = builtin_new(s)))
        return SL_ENOMEM;
    o->num = num ? num : SL__SHOW_ROWS;
    if (!o->schema && sl_schema_parse("value string", &o->value_schema, err,
                                      sizeof err) != SL_OK) {
        builtin_free(o);
        sl__ctx_set_error(s->ctx, SL_ENOMEM, "out of memory");
        return SL_ENOMEM;
    }
    return sl_dstream_add_sink(s, NULL, &table_ops, o);
}

sl_status sl__save_sink_add(sl_dstream *s, const char *prefix,
                            const char *suffix)
{
    builtin *o;
    if (!s)
        return SL_EINVAL;
    if (!(o = builtin_new(s)))
        return SL_ENOMEM;
    o->prefix = sl__strdup(prefix);
    o->suffix = suffix && *suffix ? sl__strdup(suffix) : NULL;
    if (!o->prefix || (suffix && *suffix && !o->suffix)) {
        builtin_free(o);
        sl__ctx_set_error(s->ctx, SL_ENOMEM, "out of memory");
        return SL_ENOMEM;
    }
    return sl_dstream_add_sink(s, NULL, &save_ops, o);
}
