/*
 * The constructor and partition count the planned generator sources share
 * (plan_util.h): generator.c and rate.c differ only in the state they
 * configure and the batches they plan.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sluice/connectors.h>

#include "generator/plan_util.h"

size_t sl__plan_partitions(int64_t configured, sl_context *ctx)
{
    size_t n;

    if (configured > 0)
        return (size_t)configured;
    n = sl_engine_workers(sl_context_engine(ctx));
    return n > 0 ? n : 1;
}

sl_dstream *sl__plan_source_stream(sl_context *ctx, const sl_conf *conf,
                                   const sl_planned_ops *ops, size_t state_size,
                                   sl__plan_configure_fn configure,
                                   const char *what)
{
    sl_conf *own = NULL;
    void *state = NULL;
    sl_status st = SL_ENOMEM;

    if (!ctx)
        return NULL;
    if (!conf)
        conf = own = sl_conf_new();
    if (conf)
        state = sl_malloc(state_size);
    if (state) {
        memset(state, 0, state_size);
        st = configure(state, conf, ctx);
    }
    sl_conf_free(own);
    if (st != SL_OK) {
        if (state)
            ops->free(state);
        sl_context_set_error(ctx, st, "%s: %s", what, sl_strerror(st));
        return NULL;
    }
    /* From here the context owns the state, also if this fails. */
    return sl_planned_stream(ctx, ops, state);
}

bool sl__plan_offset_int(const char *json, const char *key, int64_t *out)
{
    char pat[64];
    const char *p;
    char *end;
    long long v;

    snprintf(pat, sizeof pat, "\"%s\":", key);
    if (!json || !(p = strstr(json, pat)))
        return false;
    p += strlen(pat);
    errno = 0;
    v = strtoll(p, &end, 10);
    if (end == p || errno != 0 || (*end != ',' && *end != '}'))
        return false;
    *out = v;
    return true;
}
