/*
 * The operator registry of job files: for each operator its parameters
 * and the code that applies it to a stream with the job's built-in
 * functions. streams.c validates against this table, build.c calls the
 * builders.
 */
#include "job/job_int.h"

#include <sluice/source.h>

#include <string.h>

/* ------------------------------------------------ shared-user wrappers */

/*
 * Operators taking several functions share one user pointer: the job_op,
 * whose fields these wrappers pick.
 */
static sl_status op_fn_reduce(sl_task *t, const sl_value *a, const sl_value *b,
                              sl_value *out, void *user)
{
    return sl__job_fn_reduce(t, a, b, out, ((job_op *)user)->fn);
}

static sl_status op_inverse(sl_task *t, const sl_value *a, const sl_value *b,
                            sl_value *out, void *user)
{
    return sl__job_fn_reduce(t, a, b, out, ((job_op *)user)->inverse);
}

static bool op_filter(const sl_value *in, void *user)
{
    return sl__job_fn_pred(in, ((job_op *)user)->filter);
}

static sl_status op_create(sl_task *t, const sl_value *in, sl_value *out,
                           void *user)
{
    return sl__job_fn_map(t, in, out, ((job_op *)user)->create);
}

static sl_status op_merge_value(sl_task *t, const sl_value *a,
                                const sl_value *b, sl_value *out, void *user)
{
    return sl__job_fn_reduce(t, a, b, out, ((job_op *)user)->merge_value);
}

static sl_status op_merge_combiners(sl_task *t, const sl_value *a,
                                    const sl_value *b, sl_value *out,
                                    void *user)
{
    return sl__job_fn_reduce(t, a, b, out, ((job_op *)user)->merge_combiners);
}

/* Fold a's running value with b through fn, never aliasing out and a. */
static sl_status fold(sl_task *t, job_fn *fn, sl_value *acc, const sl_value *b)
{
    sl_value next;
    sl_status st = sl__job_fn_reduce(t, acc, b, &next, fn);
    if (st == SL_OK)
        *acc = next;
    return st;
}

/* map_partitions: the partition folded with fn, from zero when given. */
static sl_status fold_partition(sl_task *t, sl_iter *in, void *user)
{
    job_op *op = user;
    sl_value v, acc;
    bool have = op->has_zero;
    sl_status st;
    if (have)
        acc = op->zero;
    while (sl_iter_next(in, &v)) {
        if (!have) {
            acc = v;
            have = true;
        } else if ((st = fold(t, op->fn, &acc, &v)) != SL_OK) {
            return st;
        }
    }
    return have ? sl_task_emit(t, &acc) : SL_OK;
}

/* update_state_by_key: the old state (if any) and the new values, folded. */
static sl_status update_state(sl_task *t, const sl_value *key,
                              const sl_value *values, const sl_value *state,
                              sl_value *new_state, bool *remove, void *user)
{
    job_op *op = user;
    sl_value acc;
    uint32_t i = 0;
    sl_status st;
    SL__UNUSED(key);
    SL__UNUSED(remove);
    if (state)
        acc = *state;
    else if (values->len)
        acc = values->u.items[i++];
    else
        return sl_task_fail(t, "update_state_by_key: a key with neither "
                               "state nor values");
    for (; i < values->len; i++)
        if ((st = fold(t, op->fn, &acc, &values->u.items[i])) != SL_OK)
            return st;
    *new_state = acc;
    return SL_OK;
}

static sl_status emit_as(sl_task *t, emit_kind how, const sl_value *key,
                         const sl_value *value, const sl_value *state)
{
    sl_value out;
    sl_status st;
    switch (how) {
    case EMIT_STATE:
        return state ? sl_task_emit(t, state) : SL_OK;
    case EMIT_KEY:
        return sl_task_emit(t, key);
    case EMIT_VALUE:
        return value ? sl_task_emit(t, value) : SL_OK;
    case EMIT_PAIR:
        if (!state)
            return SL_OK;
        if ((st = sl_task_pair(t, key, state, &out)) != SL_OK)
            return st;
        return sl_task_emit(t, &out);
    default:
        return SL_OK;
    }
}

/* map_with_state: state = fn(state, value) (or value), then emit. */
static sl_status map_state(sl_task *t, const sl_value *key,
                           const sl_value *value, sl_state *st, void *user)
{
    job_op *op = user;
    const sl_value *old = sl_state_get(st);
    sl_value acc;
    sl_status rc;
    if (!old && sl_state_exists(st))
        return SL_ENOMEM; /* the state's copy could not be made */
    if (!value)           /* timing out: the state goes away after this call */
        return emit_as(t, op->timeout_emit, key, NULL, old);
    acc = *value;
    if (old) {
        acc = *old;
        if ((rc = fold(t, op->fn, &acc, value)) != SL_OK)
            return rc;
    }
    if ((rc = sl_state_update(st, &acc)) != SL_OK)
        return rc;
    return emit_as(t, op->emit, key, value, &acc);
}

/* ------------------------------------------------------- pair checks */

/*
 * A shuffle given a record that is no pair can only say "this operator
 * needs (key, value) pairs", and the failure surfaces in the output that
 * ran the batch. A check in front of a keyed operator names the operator,
 * its JSON path and which input held the record.
 */
static sl_status check_pair(sl_task *t, const job_op *op, const char *input,
                            const sl_value *in, sl_value *out)
{
    char text[96];
    size_t n;
    if (in->kind == SL_KIND_PAIR) {
        *out = *in;
        return SL_OK;
    }
    n = sl_value_format_json(in, text, sizeof text);
    if (n >= sizeof text)
        memcpy(text + sizeof text - 4, "...", 4);
    return sl_task_fail(t,
                        "%s at %s needs (key, value) pairs, but its %s gave %s",
                        op->def->name, op->path, input, text);
}

static sl_status check_first(sl_task *t, const sl_value *in, sl_value *out,
                             void *user)
{
    return check_pair(t, user, "input", in, out);
}

static sl_status check_second(sl_task *t, const sl_value *in, sl_value *out,
                              void *user)
{
    return check_pair(t, user, "\"with\" stream", in, out);
}

static sl_dstream *checked(job_op *op, sl_dstream *in)
{
    return sl_dstream_map(in, check_first, op);
}

/* ------------------------------------------------------------ builders */

/* Whether op's bad records are dropped (skip, dead_letter): then a map is
 * built as a flat_map, which may emit nothing. */
static bool drops_bad(const job_op *op)
{
    return op->fn->bad && op->fn->bad->policy != BAD_FAIL;
}

static sl_dstream *b_map(job_op *op, sl_dstream *in, sl_dstream *const *w)
{
    SL__UNUSED(w);
    if (drops_bad(op))
        return sl_dstream_flat_map(in, sl__job_fn_map_or_drop, op->fn);
    return sl_dstream_map(in, sl__job_fn_map, op->fn);
}

static sl_dstream *b_flat_map(job_op *op, sl_dstream *in, sl_dstream *const *w)
{
    SL__UNUSED(w);
    return sl_dstream_flat_map(in, sl__job_fn_flat_map, op->fn);
}

static sl_dstream *b_filter(job_op *op, sl_dstream *in, sl_dstream *const *w)
{
    SL__UNUSED(w);
    return sl_dstream_flat_map(in, sl__job_fn_filter, op->fn);
}

static sl_dstream *b_map_values(job_op *op, sl_dstream *in,
                                sl_dstream *const *w)
{
    SL__UNUSED(w);
    if (drops_bad(op))
        return sl_dstream_flat_map_values(in, sl__job_fn_map_or_drop, op->fn);
    return sl_dstream_map_values(in, sl__job_fn_map, op->fn);
}

static sl_dstream *b_flat_map_values(job_op *op, sl_dstream *in,
                                     sl_dstream *const *w)
{
    SL__UNUSED(w);
    return sl_dstream_flat_map_values(in, sl__job_fn_flat_map, op->fn);
}

static sl_dstream *b_map_partitions(job_op *op, sl_dstream *in,
                                    sl_dstream *const *w)
{
    SL__UNUSED(w);
    return sl_dstream_map_partitions(in, fold_partition, op);
}

static sl_dstream *b_glom(job_op *op, sl_dstream *in, sl_dstream *const *w)
{
    SL__UNUSED(op);
    SL__UNUSED(w);
    return sl_dstream_glom(in);
}

static sl_dstream *b_reduce(job_op *op, sl_dstream *in, sl_dstream *const *w)
{
    SL__UNUSED(w);
    return sl_dstream_reduce(in, sl__job_fn_reduce, op->fn);
}

static sl_dstream *b_count(job_op *op, sl_dstream *in, sl_dstream *const *w)
{
    SL__UNUSED(op);
    SL__UNUSED(w);
    return sl_dstream_count(in);
}

static sl_dstream *b_count_by_value(job_op *op, sl_dstream *in,
                                    sl_dstream *const *w)
{
    SL__UNUSED(w);
    return sl_dstream_count_by_value(in, op->partitions);
}

static sl_dstream *b_reduce_by_key(job_op *op, sl_dstream *in,
                                   sl_dstream *const *w)
{
    SL__UNUSED(w);
    return sl_dstream_reduce_by_key(checked(op, in), sl__job_fn_reduce, op->fn,
                                    op->partitions);
}

static sl_dstream *b_group_by_key(job_op *op, sl_dstream *in,
                                  sl_dstream *const *w)
{
    SL__UNUSED(w);
    return sl_dstream_group_by_key(checked(op, in), op->partitions);
}

static sl_dstream *b_combine_by_key(job_op *op, sl_dstream *in,
                                    sl_dstream *const *w)
{
    SL__UNUSED(w);
    return sl_dstream_combine_by_key(checked(op, in), op_create, op_merge_value,
                                     op_merge_combiners, op, op->partitions);
}

static sl_dstream *b_repartition(job_op *op, sl_dstream *in,
                                 sl_dstream *const *w)
{
    SL__UNUSED(w);
    return sl_dstream_repartition(in, op->partitions);
}

/* One union of every input: a chain of two-input unions would add one
 * stream per input to the graph's depth. */
static sl_dstream *b_union(job_op *op, sl_dstream *in, sl_dstream *const *w)
{
    sl_dstream **all, *out;
    size_t i;
    if (op->nwith == 1)
        return sl_dstream_union(in, w[0]);
    if (!(all = sl_malloc((op->nwith + 1) * sizeof *all))) {
        sl_context_set_error(sl_dstream_context(in), SL_ENOMEM,
                             "out of memory");
        return NULL;
    }
    all[0] = in;
    for (i = 0; i < op->nwith; i++)
        all[i + 1] = w[i];
    out = sl_context_union(sl_dstream_context(in), all, op->nwith + 1);
    sl_free(all);
    return out;
}

static sl_dstream *b_join(job_op *op, sl_dstream *in, sl_dstream *const *w)
{
    return sl_dstream_join(checked(op, in),
                           sl_dstream_map(w[0], check_second, op),
                           op->partitions);
}

static sl_dstream *b_left_outer_join(job_op *op, sl_dstream *in,
                                     sl_dstream *const *w)
{
    return sl_dstream_left_outer_join(checked(op, in),
                                      sl_dstream_map(w[0], check_second, op),
                                      op->partitions);
}

static sl_dstream *b_right_outer_join(job_op *op, sl_dstream *in,
                                      sl_dstream *const *w)
{
    return sl_dstream_right_outer_join(checked(op, in),
                                       sl_dstream_map(w[0], check_second, op),
                                       op->partitions);
}

static sl_dstream *b_full_outer_join(job_op *op, sl_dstream *in,
                                     sl_dstream *const *w)
{
    return sl_dstream_full_outer_join(checked(op, in),
                                      sl_dstream_map(w[0], check_second, op),
                                      op->partitions);
}

static sl_dstream *b_cogroup(job_op *op, sl_dstream *in, sl_dstream *const *w)
{
    return sl_dstream_cogroup(checked(op, in),
                              sl_dstream_map(w[0], check_second, op),
                              op->partitions);
}

static sl_dstream *b_window(job_op *op, sl_dstream *in, sl_dstream *const *w)
{
    SL__UNUSED(w);
    return sl_dstream_window(in, op->window_ms, op->slide_ms);
}

static sl_dstream *b_count_by_window(job_op *op, sl_dstream *in,
                                     sl_dstream *const *w)
{
    SL__UNUSED(w);
    return sl_dstream_count_by_window(in, op->window_ms, op->slide_ms);
}

static sl_dstream *b_reduce_by_window(job_op *op, sl_dstream *in,
                                      sl_dstream *const *w)
{
    SL__UNUSED(w);
    return sl_dstream_reduce_by_window(in, op_fn_reduce,
                                       op->inverse ? op_inverse : NULL, op,
                                       op->window_ms, op->slide_ms);
}

static sl_dstream *b_reduce_by_key_and_window(job_op *op, sl_dstream *in,
                                              sl_dstream *const *w)
{
    SL__UNUSED(w);
    return sl_dstream_reduce_by_key_and_window(
        in, op_fn_reduce, op->inverse ? op_inverse : NULL,
        op->filter ? op_filter : NULL, op, op->window_ms, op->slide_ms,
        op->partitions);
}

static sl_dstream *b_count_by_value_and_window(job_op *op, sl_dstream *in,
                                               sl_dstream *const *w)
{
    SL__UNUSED(w);
    return sl_dstream_count_by_value_and_window(in, op->window_ms, op->slide_ms,
                                                op->partitions);
}

static sl_dstream *b_group_by_key_and_window(job_op *op, sl_dstream *in,
                                             sl_dstream *const *w)
{
    SL__UNUSED(w);
    return sl_dstream_group_by_key_and_window(in, op->window_ms, op->slide_ms,
                                              op->partitions);
}

static sl_dstream *b_update_state_by_key(job_op *op, sl_dstream *in,
                                         sl_dstream *const *w)
{
    SL__UNUSED(w);
    return sl_dstream_update_state_by_key(in, update_state, op, op->initial,
                                          op->ninitial);
}

static sl_dstream *b_map_with_state(job_op *op, sl_dstream *in,
                                    sl_dstream *const *w)
{
    SL__UNUSED(w);
    return sl_dstream_map_with_state(in, map_state, op, op->timeout_ms,
                                     op->initial, op->ninitial);
}

static sl_dstream *b_state_snapshots(job_op *op, sl_dstream *in,
                                     sl_dstream *const *w)
{
    SL__UNUSED(op);
    SL__UNUSED(w);
    return sl_dstream_state_snapshots(in);
}

/* ------------------------------------------------------------ registry */

#define WIN (P_WINDOW | P_SLIDE)

static const op_def ops[] = {
    {"map", P_FN, P_FN, SL_JOB_FN_MAP, b_map},
    {"flat_map", P_FN, P_FN, SL_JOB_FN_FLAT_MAP, b_flat_map},
    {"filter", P_FN, P_FN, SL_JOB_FN_PREDICATE, b_filter},
    {"map_values", P_FN, P_FN, SL_JOB_FN_MAP, b_map_values},
    {"flat_map_values", P_FN, P_FN, SL_JOB_FN_FLAT_MAP, b_flat_map_values},
    {"map_partitions", P_FN | P_ZERO, P_FN, SL_JOB_FN_REDUCE, b_map_partitions},
    {"glom", 0, 0, SL_JOB_FN_MAP, b_glom},
    {"reduce", P_FN, P_FN, SL_JOB_FN_REDUCE, b_reduce},
    {"count", 0, 0, SL_JOB_FN_MAP, b_count},
    {"count_by_value", P_PARTITIONS, 0, SL_JOB_FN_MAP, b_count_by_value},
    {"reduce_by_key", P_FN | P_PARTITIONS, P_FN, SL_JOB_FN_REDUCE,
     b_reduce_by_key},
    {"group_by_key", P_PARTITIONS, 0, SL_JOB_FN_MAP, b_group_by_key},
    {"combine_by_key",
     P_CREATE | P_MERGE_VALUE | P_MERGE_COMBINERS | P_PARTITIONS,
     P_CREATE | P_MERGE_VALUE | P_MERGE_COMBINERS, SL_JOB_FN_MAP,
     b_combine_by_key},
    {"repartition", P_PARTITIONS, P_PARTITIONS, SL_JOB_FN_MAP, b_repartition},
    {"union", P_WITH, P_WITH, SL_JOB_FN_MAP, b_union},
    {"join", P_WITH | P_PARTITIONS, P_WITH, SL_JOB_FN_MAP, b_join},
    {"left_outer_join", P_WITH | P_PARTITIONS, P_WITH, SL_JOB_FN_MAP,
     b_left_outer_join},
    {"right_outer_join", P_WITH | P_PARTITIONS, P_WITH, SL_JOB_FN_MAP,
     b_right_outer_join},
    {"full_outer_join", P_WITH | P_PARTITIONS, P_WITH, SL_JOB_FN_MAP,
     b_full_outer_join},
    {"cogroup", P_WITH | P_PARTITIONS, P_WITH, SL_JOB_FN_MAP, b_cogroup},
    {"window", WIN, P_WINDOW, SL_JOB_FN_MAP, b_window},
    {"count_by_window", WIN, P_WINDOW, SL_JOB_FN_MAP, b_count_by_window},
    {"reduce_by_window", WIN | P_FN | P_INVERSE, P_WINDOW | P_FN,
     SL_JOB_FN_REDUCE, b_reduce_by_window},
    {"reduce_by_key_and_window",
     WIN | P_FN | P_INVERSE | P_FILTER | P_PARTITIONS, P_WINDOW | P_FN,
     SL_JOB_FN_REDUCE, b_reduce_by_key_and_window},
    {"count_by_value_and_window", WIN | P_PARTITIONS, P_WINDOW, SL_JOB_FN_MAP,
     b_count_by_value_and_window},
    {"group_by_key_and_window", WIN | P_PARTITIONS, P_WINDOW, SL_JOB_FN_MAP,
     b_group_by_key_and_window},
    {"update_state_by_key", P_FN | P_INITIAL, P_FN, SL_JOB_FN_REDUCE,
     b_update_state_by_key},
    {"map_with_state", P_FN | P_INITIAL | P_EMIT | P_TIMEOUT | P_TIMEOUT_EMIT,
     P_FN, SL_JOB_FN_REDUCE, b_map_with_state},
    {"state_snapshots", 0, 0, SL_JOB_FN_MAP, b_state_snapshots},
};

#define NOPS (sizeof ops / sizeof ops[0])

const op_def *sl__job_op_find(const char *name)
{
    size_t i;
    for (i = 0; i < NOPS; i++)
        if (strcmp(ops[i].name, name) == 0)
            return &ops[i];
    return NULL;
}

bool sl__job_op_is_window(const op_def *d)
{
    return (d->params & P_WINDOW) != 0;
}

const char *sl_job_operator_at(size_t i)
{
    return i < NOPS ? ops[i].name : NULL;
}
