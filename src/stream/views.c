/*
 * Views: streams registered under a name that SQL streams read in FROM
 * (docs/sql.md "Streaming queries"). The name and the view's schema live
 * on the stream itself, so the registry needs no table of its own and
 * goes when the context frees its streams.
 */
#include "core/schema.h"
#include "stream/stream_int.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

sl_dstream *sl__context_find_view(sl_context *ctx, const char *name,
                                  const sl_schema **schema)
{
    sl_dstream *s;
    for (s = ctx->streams; s; s = s->next_in_ctx)
        if (s->view_name && strcasecmp(s->view_name, name) == 0) {
            *schema = s->view_schema;
            return s;
        }
    return NULL;
}

/* The view of a stream without a schema of its own: one string column
 * called value (Spark's socket and text sources). */
static sl_schema *value_schema(void)
{
    sl_schema *out = NULL;
    (void)sl_schema_parse("value string", &out, NULL, 0);
    return out;
}

sl_status sl_dstream_register_view_schema(sl_dstream *s, const char *name,
                                          const sl_schema *schema)
{
    const sl_schema *old;
    sl_dstream *o;
    char *copy;
    sl_schema *keep;
    if (!s || !name || !*name)
        return SL_EINVAL;
    if (sl__ctx_check_building(s->ctx) != SL_OK)
        return SL_ESTATE;
    o = sl__context_find_view(s->ctx, name, &old);
    if (o && o != s) {
        sl__ctx_set_error(s->ctx, SL_EINVAL, "view name '%.160s' is taken",
                          name);
        return SL_EINVAL;
    }
    /* Without a schema: the stream's rows, else the columns its source
     * named for its untyped tuples (view_schema set before any name, as
     * a CSV source's file.csv.columns), else one string column. */
    keep = schema                            ? sl_schema_retain(schema)
           : s->schema                       ? sl_schema_retain(s->schema)
           : s->view_schema && !s->view_name ? sl_schema_retain(s->view_schema)
                                             : value_schema();
    if (!keep) {
        sl__ctx_set_error(s->ctx, SL_ENOMEM, "out of memory");
        return SL_ENOMEM;
    }
    if (!(copy = sl__strdup(name))) {
        sl_schema_release(keep);
        sl__ctx_set_error(s->ctx, SL_ENOMEM, "out of memory");
        return SL_ENOMEM;
    }
    sl_free(s->view_name);
    sl_schema_release(s->view_schema);
    s->view_name = copy;
    s->view_schema = keep;
    return SL_OK;
}

sl_status sl_dstream_register_view(sl_dstream *s, const char *name)
{
    return sl_dstream_register_view_schema(s, name, NULL);
}

void sl__dstream_own(sl_dstream *s, void *p, void (*fn)(void *))
{
    s->owned = p;
    s->owned_free = fn;
}

void sl__dstream_name_with(sl_dstream *s, sl_dstream *twin)
{
    s->named_with = twin;
}

sl_status sl__dstream_name_twin(sl_dstream *s)
{
    char name[160];
    snprintf(name, sizeof name, "%s.state", s->name);
    return sl_dstream_set_name(s->named_with, name);
}
