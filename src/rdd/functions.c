/*
 * Ready-made per-record functions (include/sluice/functions.h): the word
 * count's split, pair and sum, written once for examples, benchmarks, job
 * files and applications.
 */
#include <sluice/functions.h>

#include "core/core.h"

sl_status sl_fn_split_words(sl_task *t, const sl_value *in, void *user)
{
    const char *p, *end, *w;
    size_t len;
    SL__UNUSED(user);
    if (in->kind != SL_KIND_STR)
        return SL_ETYPE;
    p = in->u.s;
    end = p + in->len;
    while (sl__next_word(&p, end, &w, &len)) {
        sl_value word = sl_str(w, len);
        sl_status st = sl_task_emit(t, &word);
        if (st != SL_OK)
            return st;
    }
    return SL_OK;
}

sl_status sl_fn_pair_one(sl_task *t, const sl_value *in, sl_value *out,
                         void *user)
{
    sl_value one = sl_int(1);
    SL__UNUSED(user);
    return sl_task_pair(t, in, &one, out);
}

static bool as_double(const sl_value *v, double *d)
{
    if (v->kind == SL_KIND_DOUBLE)
        *d = v->u.d;
    else if (v->kind == SL_KIND_INT)
        *d = (double)v->u.i;
    else
        return false;
    return true;
}

sl_status sl_fn_sum(sl_task *t, const sl_value *a, const sl_value *b,
                    sl_value *out, void *user)
{
    double x, y;
    SL__UNUSED(t);
    SL__UNUSED(user);
    if (a->kind == SL_KIND_INT && b->kind == SL_KIND_INT) {
        *out = sl_int((int64_t)((uint64_t)a->u.i + (uint64_t)b->u.i));
        return SL_OK;
    }
    if (!as_double(a, &x) || !as_double(b, &y))
        return SL_ETYPE;
    *out = sl_double(x + y);
    return SL_OK;
}
