/*
 * What kind of element each operator of a job receives, as far as
 * validation can tell: a rate source gives (timestamp, value) tuples, a
 * socket lines, pair_one pairs, count integers... An operator or function
 * that needs (key, value) pairs where its input certainly has none is
 * reported with where those records come from; where the kind is not
 * certain nothing is reported, and the run-time check stays the judge.
 */
#include "job/job_int.h"

#include <string.h>

typedef struct kind {
    elem_kind k;
    const char *why; /* for ELEM_NOT_PAIR: "X gives Y" */
    bool ints;       /* pairs whose values are certainly integers */
} kind;

static const kind unknown = {ELEM_UNKNOWN, NULL, false};
static const kind pairs = {ELEM_PAIR, NULL, false};
static const kind int_pairs = {ELEM_PAIR, NULL, true};

static bool is(const char *name, const char *const *names)
{
    for (; *names; names++)
        if (strcmp(name, *names) == 0)
            return true;
    return false;
}

static kind not_pair(sl_job *job, const char *who, const char *what)
{
    kind k = {ELEM_NOT_PAIR, sl__job_printf(job, "%s gives %s", who, what),
              false};
    return k.why ? k : unknown;
}

/* What a source's records are, as its type's registry row tells. */
static kind source_kind(sl_job *job, const job_source *src)
{
    const char *what = NULL, *who;
    elem_kind k;
    if (!src->def || !src->def->elem)
        return unknown;
    if ((k = src->def->elem(src, &what)) == ELEM_PAIR)
        return pairs;
    if (k != ELEM_NOT_PAIR || !what)
        return unknown;
    who = sl__job_printf(job, "source '%s' (%s)", src->name, src->def->type);
    return who ? not_pair(job, who, what) : unknown;
}

static kind input_kind(sl_job *job, const char *name)
{
    job_stream *s = name ? sl__job_find_stream(job, name) : NULL;
    job_source *src;
    if (s) {
        kind k = {(elem_kind)s->elem, s->elem_why, s->int_values};
        return s->bad ? unknown : k;
    }
    src = name ? sl__job_find_source(job, name) : NULL;
    return src ? source_kind(job, src) : unknown;
}

/* ------------------------------------------------------------ checks */

/* The JSON of op (for the order of problems), else the stream's. */
static const cJSON *op_json(const job_stream *s, const job_op *op)
{
    const cJSON *ops = cJSON_GetObjectItemCaseSensitive(s->json, "ops");
    const cJSON *j = cJSON_GetArrayItem(ops, (int)(op - s->ops));
    return j ? j : s->json;
}

/* Report that what (at path, in op) needs pairs where in has none. */
static bool need_pairs(sl_job *job, job_stream *s, const job_op *op,
                       const char *path, const char *what, kind in)
{
    if (in.k != ELEM_NOT_PAIR)
        return true;
    sl__job_problem(job, op_json(s, op), path,
                    "%s needs (key, value) pairs, but %s", what, in.why);
    s->bad = true;
    return false;
}

/* A map function, predicate or flat_map function's needs, and what a map
 * function gives. */
static kind fn_kind(sl_job *job, job_stream *s, const job_op *op, kind in)
{
    static const char *const on_pairs[] = {"swap", "key", "value", NULL};
    static const char *const to_pairs[] = {"pair_one", "pair_with", "swap",
                                           NULL};
    static const char *const to_str[] = {"lower", "upper", "to_string",
                                         "repeat", NULL};
    static const char *const to_num[] = {"to_number", "add", "multiply", NULL};
    const job_fn *f = op->fn;
    const char *name = f->def->info.name, *who, *path;
    path = sl__job_path_field(job, op->path, "fn");
    if (f->on != ON_ELEMENT) {
        const char *what = sl__job_printf(job, "\"on\": \"%s\"",
                                          f->on == ON_KEY ? "key" : "value");
        if (!need_pairs(job, s, op, path, what, in))
            return unknown;
        return f->on == ON_KEY && in.k == ELEM_PAIR ? in : pairs;
    }
    if (is(name, on_pairs) &&
        !need_pairs(job, s, op, path,
                    sl__job_printf(job, "function \"%s\"", name), in))
        return unknown;
    if (f->def->info.kind == SL_JOB_FN_PREDICATE)
        return in;
    who = sl__job_printf(job, "%s (%s)", op->path, name);
    if (f->def->info.kind == SL_JOB_FN_FLAT_MAP)
        return strcmp(name, "split_words") == 0 && who
                   ? not_pair(job, who, "words")
                   : unknown;
    if (strcmp(name, "identity") == 0)
        return in;
    if (strcmp(name, "pair_one") == 0 ||
        (strcmp(name, "pair_with") == 0 && f->arg.kind == SL_KIND_INT))
        return int_pairs;
    if (is(name, to_pairs))
        return pairs;
    if (who && is(name, to_str))
        return not_pair(job, who, "strings");
    if (who && is(name, to_num))
        return not_pair(job, who, "numbers");
    return unknown;
}

/* What a reduce function folds records into. */
static kind reduce_kind(sl_job *job, const job_op *op, kind in)
{
    static const char *const keep[] = {"min", "max", "first", "last", NULL};
    const char *who;
    if (!op->fn)
        return unknown;
    if (is(op->fn->def->info.name, keep))
        return in;
    who = sl__job_printf(job, "%s (%s)", op->path, op->fn->def->info.name);
    return who ? not_pair(job, who, "numbers") : unknown;
}

/* The operators that read (key, value) pairs, and those that give them. */
static const char *const pair_ops[] = {"map_values",
                                       "flat_map_values",
                                       "reduce_by_key",
                                       "group_by_key",
                                       "combine_by_key",
                                       "join",
                                       "left_outer_join",
                                       "right_outer_join",
                                       "full_outer_join",
                                       "cogroup",
                                       "reduce_by_key_and_window",
                                       "group_by_key_and_window",
                                       "update_state_by_key",
                                       "map_with_state",
                                       NULL};
static const char *const gives_pairs[] = {"state_snapshots", NULL};
static const char *const gives_counts[] = {"count_by_value",
                                           "count_by_value_and_window", NULL};
/* Reduce functions that keep integers integers (sums wrap as Java's). */
static const char *const keeps_ints[] = {"sum",   "subtract", "min", "max",
                                         "first", "last",     NULL};
static const char *const keeps_kind[] = {"filter", "repartition", "window",
                                         NULL};

/* Check the "with" streams of a join or cogroup. */
static void check_with(sl_job *job, job_stream *s, const job_op *op)
{
    const char *path = sl__job_path_field(job, op->path, "with");
    kind k;
    if (op->nwith != 1 || !op->with[0] || strcmp(op->def->name, "union") == 0)
        return;
    k = input_kind(job, op->with[0]);
    need_pairs(job, s, op, path,
               sl__job_printf(job, "%s's second input", op->def->name), k);
}

static kind union_kind(sl_job *job, const job_op *op, kind in)
{
    size_t w;
    for (w = 0; w < op->nwith; w++) {
        kind k = input_kind(job, op->with[w]);
        if (k.k != in.k)
            return unknown;
        in.ints &= k.ints;
    }
    return in;
}

/* A reduce_by_key's pairs: integers when its input's are and its
 * functions keep them so. */
static kind by_key_kind(const job_op *op, kind in)
{
    bool ints = in.ints && op->fn && is(op->fn->def->info.name, keeps_ints) &&
                (!op->inverse || is(op->inverse->def->info.name, keeps_ints));
    return ints ? int_pairs : pairs;
}

static kind op_kind(sl_job *job, job_stream *s, const job_op *op, kind in)
{
    const char *name = op->def->name, *who;
    if (is(name, pair_ops)) {
        if (!need_pairs(job, s, op, sl__job_path_field(job, op->path, "op"),
                        name, in))
            return unknown;
        check_with(job, s, op);
        if (strcmp(name, "map_with_state") == 0)
            return op->emit == EMIT_PAIR &&
                           (!op->timeout_ms || op->timeout_emit == EMIT_NONE ||
                            op->timeout_emit == EMIT_PAIR)
                       ? pairs
                       : unknown;
        if (strcmp(name, "reduce_by_key") == 0 ||
            strcmp(name, "reduce_by_key_and_window") == 0)
            return by_key_kind(op, in);
        return pairs;
    }
    if (is(name, gives_counts))
        return int_pairs;
    if (is(name, gives_pairs))
        return pairs;
    if (is(name, keeps_kind))
        return in;
    if (strcmp(name, "union") == 0)
        return union_kind(job, op, in);
    if ((strcmp(name, "map") == 0 || strcmp(name, "flat_map") == 0) && op->fn)
        return fn_kind(job, s, op, in);
    if (strcmp(name, "reduce") == 0 || strcmp(name, "reduce_by_window") == 0)
        return reduce_kind(job, op, in);
    who = sl__job_printf(job, "%s (%s)", op->path, name);
    if (who &&
        (strcmp(name, "count") == 0 || strcmp(name, "count_by_window") == 0))
        return not_pair(job, who, "counts");
    if (who && strcmp(name, "glom") == 0)
        return not_pair(job, who, "lists");
    return unknown;
}

void sl__job_check_kinds(sl_job *job, job_stream *s)
{
    kind k = input_kind(job, s->from);
    size_t i;
    /* A stream with a problem already is left alone: one problem at a
     * time, and its ops may not be what they meant. */
    if (s->bad) {
        s->elem = ELEM_UNKNOWN;
        return;
    }
    for (i = 0; i < s->nops; i++) {
        const job_op *op = &s->ops[i];
        if (!op->def) {
            k = unknown;
            continue;
        }
        if (strcmp(op->def->name, "filter") == 0 && op->fn)
            fn_kind(job, s, op, k); /* its "on" or function may need pairs */
        k = op_kind(job, s, op, k);
    }
    s->elem = (int)k.k;
    s->elem_why = k.why;
    s->int_values = k.k == ELEM_PAIR && k.ints;
}

elem_kind sl__job_input_elem(sl_job *job, const char *name, bool *ints)
{
    kind k = input_kind(job, name);
    *ints = k.k == ELEM_PAIR && k.ints;
    return k.k;
}
