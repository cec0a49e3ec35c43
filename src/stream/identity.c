/*
 * Identity that survives a restart: stable stream names (what a checkpoint
 * calls a source or a stateful stream), and where a restarted context goes
 * on (batch ids, the zero time, receiver block sequences, batches to run
 * again from their recorded offsets). Recovery calls the sl__ functions
 * before sl_context_start.
 */
#include "stream/stream_int.h"

#include <string.h>

#define NAME_MAX_BYTES 128

static bool name_valid(const char *name)
{
    size_t n = 0;
    const char *p;
    for (p = name; *p; p++, n++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
            return false;
    }
    return n > 0 && n <= NAME_MAX_BYTES;
}

sl_status sl_dstream_set_name(sl_dstream *s, const char *name)
{
    sl_context *ctx;
    sl_dstream *o;
    char *copy;
    if (!s || !name)
        return SL_EINVAL;
    ctx = s->ctx;
    if (sl__ctx_check_building(ctx) != SL_OK)
        return SL_ESTATE;
    if (!name_valid(name)) {
        sl__ctx_set_error(ctx, SL_EINVAL,
                          "stream name '%.160s': use 1 to %d letters, digits, "
                          "'_', '.' or '-'",
                          name, NAME_MAX_BYTES);
        return SL_EINVAL;
    }
    /* A checkpoint finds a stream's offsets and state by its name. */
    for (o = ctx->streams; o; o = o->next_in_ctx)
        if (o != s && o->name && strcmp(o->name, name) == 0) {
            sl__ctx_set_error(ctx, SL_EINVAL,
                              "stream name '%s' is already taken", name);
            return SL_EINVAL;
        }
    if (!(copy = sl__strdup(name))) {
        sl__ctx_set_error(ctx, SL_ENOMEM, "out of memory");
        return SL_ENOMEM;
    }
    sl_free(s->name);
    s->name = copy;
    return s->named_with ? sl__dstream_name_twin(s) : SL_OK;
}

sl_status sl__dstream_set_params(sl_dstream *s, const char *text)
{
    char *copy = sl__strdup(text);
    if (!copy)
        return SL_ENOMEM;
    sl_free(s->params);
    s->params = copy;
    return SL_OK;
}

void sl__dstream_set_schema(sl_dstream *s, const sl_schema *schema,
                            const char *parse_mode)
{
    sl_schema *keep = schema ? sl_schema_retain(schema) : NULL;
    sl_schema_release(s->schema);
    s->schema = keep;
    s->parse_mode = schema ? parse_mode : NULL;
}

const sl_schema *sl_dstream_schema(const sl_dstream *s)
{
    return s ? s->schema : NULL;
}

sl_status sl__dstream_set_output(sl_dstream *s, sl_output_mode mode,
                                 const size_t *keys, size_t nkeys)
{
    size_t *copy = NULL;
    if (nkeys && !(copy = sl_malloc(nkeys * sizeof *copy)))
        return SL_ENOMEM;
    if (nkeys)
        memcpy(copy, keys, nkeys * sizeof *copy);
    sl_free(s->key_columns);
    s->key_columns = copy;
    s->nkey_columns = nkeys;
    s->output_mode = (int)mode;
    return SL_OK;
}

sl_output_mode sl_dstream_output_mode(const sl_dstream *s)
{
    return s ? (sl_output_mode)s->output_mode : SL_OUTPUT_APPEND;
}

const size_t *sl_dstream_key_columns(const sl_dstream *s, size_t *n)
{
    *n = s ? s->nkey_columns : 0;
    return *n ? s->key_columns : NULL;
}

void sl__dstream_pass_missing(sl_dstream *s)
{
    if (s)
        s->pass_missing = true;
}

sl_dstream *sl__dstream_parent(sl_dstream *s)
{
    return s && s->nparents ? s->parents[0] : NULL;
}

const char *sl_dstream_name(const sl_dstream *s)
{
    return s ? s->name : NULL;
}

sl_status sl__context_check_names(sl_context *ctx)
{
    sl_dstream *s;
    size_t unnamed = 0;
    for (s = ctx->streams; s; s = s->next_in_ctx) {
        const char *what = s->kind == DS_PLANNED    ? "source"
                           : s->kind == DS_RECEIVER ? "receiver source"
                           : sl__is_stateful(s)     ? "stateful stream"
                           : sl__is_window(s)       ? "window stream"
                                                    : NULL;
        if (!what || s->name)
            continue;
        unnamed++;
        sl__log(&ctx->log, SL_LOG_ERROR,
                "a %s (%s) has no name: a checkpoint cannot identify it "
                "(sl_dstream_set_name)",
                what, s->planned ? s->planned->name : "stream");
    }
    if (!unnamed)
        return SL_OK;
    sl__ctx_set_error(ctx, SL_EINVAL,
                      "%zu sources or stateful streams have no name; a "
                      "checkpointed context needs one for each "
                      "(sl_dstream_set_name)",
                      unnamed);
    return SL_EINVAL;
}

sl_status sl__context_resume(sl_context *ctx, const sl__resume *r)
{
    size_t i;
    if (sl__ctx_check_building(ctx) != SL_OK)
        return SL_ESTATE;
    if (r->last_batch_id < 0 ||
        (r->next_block_seq && r->nreceivers != ctx->nreceivers) ||
        (!ctx->manual_clock && r->zero_ms % ctx->interval_ms != 0)) {
        sl__ctx_set_error(ctx, SL_EINVAL,
                          "cannot resume: batch %lld, zero time %lld ms and "
                          "%zu receivers do not fit this context",
                          (long long)r->last_batch_id, (long long)r->zero_ms,
                          r->nreceivers);
        return SL_EINVAL;
    }
    ctx->resumed = true;
    ctx->resume_batch_id = r->last_batch_id;
    ctx->replay_last_id = 0;
    ctx->zero_ms = r->zero_ms;
    for (i = 0; r->next_block_seq && i < ctx->nreceivers; i++)
        ctx->receivers[i]->next_seq = r->next_block_seq[i];
    return SL_OK;
}

static batch *replay_batch_new(sl_context *ctx, int64_t id,
                               const char *const *offsets)
{
    batch *b = sl__batch_new(ctx, id);
    size_t i;
    if (!b)
        return NULL;
    b->replay = sl_malloc((ctx->nplanned + 1) * sizeof *b->replay);
    if (b->replay)
        memset(b->replay, 0, (ctx->nplanned + 1) * sizeof *b->replay);
    for (i = 0; b->replay && i < ctx->nplanned; i++)
        if (offsets[i] && !(b->replay[i] = sl__strdup(offsets[i])))
            break;
    if (!b->replay || i < ctx->nplanned) {
        sl__batch_free(ctx, b);
        return NULL;
    }
    return b;
}

sl_status sl__context_replay(sl_context *ctx, int64_t id,
                             const char *const *offsets)
{
    batch *b;
    if (sl__ctx_check_building(ctx) != SL_OK)
        return SL_ESTATE;
    if (!ctx->resumed || id <= ctx->replay_last_id ||
        id > ctx->resume_batch_id) {
        sl__ctx_set_error(ctx, SL_EINVAL,
                          "cannot replay batch %lld: resume first, with "
                          "rising ids up to the last batch recorded",
                          (long long)id);
        return SL_EINVAL;
    }
    if (!(b = replay_batch_new(ctx, id, offsets))) {
        sl__ctx_set_error(ctx, SL_ENOMEM, "out of memory");
        return SL_ENOMEM;
    }
    if (!ctx->replay_tail)
        ctx->replay_tail = &ctx->replay;
    *ctx->replay_tail = b;
    ctx->replay_tail = &b->next;
    ctx->replay_last_id = id;
    return SL_OK;
}

/* At start: the batches to run again go first into the queue (past
 * max_queued_batches: they are the earlier run's, not new input). */
void sl__context_queue_replay(sl_context *ctx)
{
    batch *b;
    int64_t now = sl__now_wall_ms();
    while ((b = ctx->replay) != NULL) {
        ctx->replay = b->next;
        b->next = NULL;
        b->info.submission_ms = now;
        b->logged = true; /* its blocks came from the WAL, or it has none */
        *ctx->queue_tail = b;
        ctx->queue_tail = &b->next;
        ctx->nqueued++;
    }
    ctx->replay_tail = NULL;
}
