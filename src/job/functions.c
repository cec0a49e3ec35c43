/*
 * The built-in functions of job files: the registry (name, kind, argument)
 * and the checks in front of their code, which is the public sl_fn_* of
 * include/sluice/functions.h. A job_fn (registry row + argument + "on") is
 * the user pointer of the operator it serves; a value of a kind a function
 * cannot handle fails the task (fn_fail) with a message naming the function
 * and the value, or, where the operator can leave the record out (map,
 * flat_map, filter and their _values forms, through `guarded`), follows
 * the job's on_bad_record.
 */
#include "job/job_int.h"

#include <sluice/functions.h>

#include "core/records.h"
#include "stream/stream.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------- helpers */

/*
 * The reason a function could not handle its value, kept for `guarded`
 * while it runs an operator's function whose record may be left out
 * (dropping; skip or dead_letter): a worker runs one record at a time, so
 * thread-locals hold it between the two, also through the functions
 * inside a fanout.
 */
static _Thread_local char bad_why[192];
static _Thread_local bool bad_pending, dropping;

/* Fail the task: "NAME: WHAT, got VALUE" with the value shortened; while
 * dropping, note it for `guarded` instead. Without a task (a window's
 * filter), only SL_ETYPE. */
static sl_status fn_fail(sl_task *t, const job_fn *f, const char *what,
                         const sl_value *v)
{
    char text[96];
    size_t n = sl_value_format_json(v, text, sizeof text);
    if (n >= sizeof text)
        memcpy(text + sizeof text - 4, "...", 4);
    if (dropping || !t) {
        snprintf(bad_why, sizeof bad_why, "function %s: %s, got %s",
                 f->def->info.name, what, text);
        bad_pending = dropping;
        return SL_ETYPE;
    }
    return sl_task_fail(t, "function %s: %s, got %s", f->def->info.name, what,
                        text);
}

static bool is_number(const sl_value *v)
{
    return v->kind == SL_KIND_INT || v->kind == SL_KIND_DOUBLE;
}

/* The part of in that f looks at ("on"), or NULL when in is no pair. */
static const sl_value *part(const job_fn *f, const sl_value *in)
{
    if (f->on == ON_ELEMENT)
        return in;
    if (in->kind != SL_KIND_PAIR)
        return NULL;
    return f->on == ON_KEY ? sl_pair_key(in) : sl_pair_value(in);
}

static sl_status need_pair(sl_task *t, const job_fn *f, const sl_value *in)
{
    return fn_fail(t, f, "needs a pair", in);
}

/* The argument as the user pointer of the public function. */
static void *arg_of(const job_fn *f)
{
    return (void *)&f->arg;
}

/*
 * Each built-in checks here what the job layer reports through fn_fail
 * (a value of the wrong kind, a result over max_record_bytes), then calls
 * the one implementation in include/sluice/functions.h, which then does
 * not fail on the value.
 */

/* ------------------------------------------------------- map functions */

static sl_status f_identity(sl_task *t, const job_fn *f, const sl_value *in,
                            sl_value *out)
{
    SL__UNUSED(f);
    return sl_fn_identity(t, in, out, NULL);
}

static sl_status f_pair_one(sl_task *t, const job_fn *f, const sl_value *in,
                            sl_value *out)
{
    SL__UNUSED(f);
    return sl_fn_pair_one(t, in, out, NULL);
}

static sl_status f_pair_with(sl_task *t, const job_fn *f, const sl_value *in,
                             sl_value *out)
{
    return sl_fn_pair_with(t, in, out, arg_of(f));
}

static sl_status f_swap(sl_task *t, const job_fn *f, const sl_value *in,
                        sl_value *out)
{
    if (in->kind != SL_KIND_PAIR)
        return need_pair(t, f, in);
    return sl_fn_swap(t, in, out, NULL);
}

static sl_status f_key(sl_task *t, const job_fn *f, const sl_value *in,
                       sl_value *out)
{
    if (in->kind != SL_KIND_PAIR)
        return need_pair(t, f, in);
    return sl_fn_key(t, in, out, NULL);
}

static sl_status f_value(sl_task *t, const job_fn *f, const sl_value *in,
                         sl_value *out)
{
    if (in->kind != SL_KIND_PAIR)
        return need_pair(t, f, in);
    return sl_fn_value(t, in, out, NULL);
}

static sl_status f_lower(sl_task *t, const job_fn *f, const sl_value *in,
                         sl_value *out)
{
    if (in->kind != SL_KIND_STR)
        return fn_fail(t, f, "needs a string", in);
    return sl_fn_lower(t, in, out, NULL);
}

static sl_status f_upper(sl_task *t, const job_fn *f, const sl_value *in,
                         sl_value *out)
{
    if (in->kind != SL_KIND_STR)
        return fn_fail(t, f, "needs a string", in);
    return sl_fn_upper(t, in, out, NULL);
}

/* A string is parsed here (sl_parse_number, what sl_fn_to_number uses) so
 * that text holding no number goes through fn_fail. */
static sl_status f_to_number(sl_task *t, const job_fn *f, const sl_value *in,
                             sl_value *out)
{
    if (is_number(in))
        return sl_fn_to_number(t, in, out, NULL);
    if (in->kind == SL_KIND_STR) {
        sl_status st = sl_parse_number(in->u.s, in->len, out);
        if (st == SL_OK || st == SL_ENOMEM)
            return st;
    }
    return fn_fail(t, f, "needs a number or a string holding one", in);
}

/* A result of n bytes must fit max_record_bytes, and a string's 32-bit
 * length (max_record_bytes is at most 1 GiB, so the first check holds the
 * second; both are kept, as the conf's range may change). */
static sl_status check_size(sl_task *t, const job_fn *f, uint64_t n,
                            const sl_value *in)
{
    char what[96];
    if (n <= f->max_bytes && n <= UINT32_MAX)
        return SL_OK;
    snprintf(what, sizeof what,
             "result of %llu bytes, over max_record_bytes (%zu)",
             (unsigned long long)n, f->max_bytes);
    return fn_fail(t, f, what, in);
}

static sl_status f_to_string(sl_task *t, const job_fn *f, const sl_value *in,
                             sl_value *out)
{
    sl_status st;
    if (in->kind != SL_KIND_STR &&
        (st = check_size(t, f, sl_value_format(in, NULL, 0), in)) != SL_OK)
        return st;
    return sl_fn_to_string(t, in, out, NULL);
}

static sl_status f_add(sl_task *t, const job_fn *f, const sl_value *in,
                       sl_value *out)
{
    if (!is_number(in)) /* arg is a number: the parser checked it */
        return fn_fail(t, f, "needs a number", in);
    return sl_fn_add(t, in, out, arg_of(f));
}

static sl_status f_multiply(sl_task *t, const job_fn *f, const sl_value *in,
                            sl_value *out)
{
    if (!is_number(in))
        return fn_fail(t, f, "needs a number", in);
    return sl_fn_multiply(t, in, out, arg_of(f));
}

static sl_status f_repeat(sl_task *t, const job_fn *f, const sl_value *in,
                          sl_value *out)
{
    sl_status st;
    if (in->kind != SL_KIND_STR)
        return fn_fail(t, f, "needs a string", in);
    /* arg is 0..1000 (the parser checked it): no overflow here. */
    if ((st = check_size(t, f, (uint64_t)in->len * (uint64_t)f->arg.u.i, in)) !=
        SL_OK)
        return st;
    return sl_fn_repeat(t, in, out, arg_of(f));
}

/* -------------------------------------------------- flat_map functions */

static sl_status f_split_words(sl_task *t, const job_fn *f, const sl_value *in)
{
    if (in->kind != SL_KIND_STR)
        return fn_fail(t, f, "needs a string", in);
    return sl_fn_split_words(t, in, NULL);
}

static sl_status f_flatten(sl_task *t, const job_fn *f, const sl_value *in)
{
    if (in->kind != SL_KIND_LIST && in->kind != SL_KIND_TUPLE &&
        in->kind != SL_KIND_PAIR)
        return fn_fail(t, f, "needs a list or a pair", in);
    return sl_fn_flatten(t, in, NULL);
}

/* Every function's result first, then the emits (what sl_fn_fanout does
 * call by call): a value the second cannot handle must leave nothing of
 * the record behind when on_bad_record leaves it out. The results live in
 * task memory, which the task rewinds per record. */
static sl_status f_fanout(sl_task *t, const job_fn *f, const sl_value *in)
{
    sl_value *outs = sl_task_alloc(t, f->nsubs * sizeof *outs + 1);
    sl_status st = SL_OK;
    size_t i;
    if (!outs)
        return SL_ENOMEM;
    for (i = 0; st == SL_OK && i < f->nsubs; i++)
        st = sl__job_fn_map(t, in, &outs[i], f->subs[i]);
    for (i = 0; st == SL_OK && i < f->nsubs; i++)
        st = sl_task_emit(t, &outs[i]);
    return st;
}

/* ---------------------------------------------------------- predicates */

static sl_status p_eq(sl_task *t, const job_fn *f, const sl_value *in,
                      bool *out)
{
    SL__UNUSED(t);
    *out = sl_fn_eq(in, arg_of(f));
    return SL_OK;
}

static sl_status p_ne(sl_task *t, const job_fn *f, const sl_value *in,
                      bool *out)
{
    SL__UNUSED(t);
    *out = sl_fn_ne(in, arg_of(f));
    return SL_OK;
}

/* Predicates judge every value: one not comparable with the argument (a
 * string against a number), or no integer for even and odd, is not kept
 * (docs/programming-guide.md), so that they have no bad values of their
 * own; only an "on" of a record that is no pair is one (pred_check). */

static sl_status p_lt(sl_task *t, const job_fn *f, const sl_value *in,
                      bool *out)
{
    SL__UNUSED(t);
    *out = sl_fn_lt(in, arg_of(f));
    return SL_OK;
}

static sl_status p_le(sl_task *t, const job_fn *f, const sl_value *in,
                      bool *out)
{
    SL__UNUSED(t);
    *out = sl_fn_le(in, arg_of(f));
    return SL_OK;
}

static sl_status p_gt(sl_task *t, const job_fn *f, const sl_value *in,
                      bool *out)
{
    SL__UNUSED(t);
    *out = sl_fn_gt(in, arg_of(f));
    return SL_OK;
}

static sl_status p_ge(sl_task *t, const job_fn *f, const sl_value *in,
                      bool *out)
{
    SL__UNUSED(t);
    *out = sl_fn_ge(in, arg_of(f));
    return SL_OK;
}

static sl_status p_even(sl_task *t, const job_fn *f, const sl_value *in,
                        bool *out)
{
    SL__UNUSED(t);
    SL__UNUSED(f);
    *out = sl_fn_even(in, NULL);
    return SL_OK;
}

static sl_status p_odd(sl_task *t, const job_fn *f, const sl_value *in,
                       bool *out)
{
    SL__UNUSED(t);
    SL__UNUSED(f);
    *out = sl_fn_odd(in, NULL);
    return SL_OK;
}

/* ----------------------------------------------------- reduce functions */

/* Both operands of an arithmetic reduce must be numbers. */
static sl_status check_numbers(sl_task *t, const job_fn *f, const sl_value *a,
                               const sl_value *b)
{
    if (!is_number(a))
        return fn_fail(t, f, "needs a number", a);
    if (!is_number(b))
        return fn_fail(t, f, "needs a number", b);
    return SL_OK;
}

static sl_status r_sum(sl_task *t, const job_fn *f, const sl_value *a,
                       const sl_value *b, sl_value *out)
{
    sl_status st = check_numbers(t, f, a, b);
    return st != SL_OK ? st : sl_fn_sum(t, a, b, out, NULL);
}

static sl_status r_subtract(sl_task *t, const job_fn *f, const sl_value *a,
                            const sl_value *b, sl_value *out)
{
    sl_status st = check_numbers(t, f, a, b);
    return st != SL_OK ? st : sl_fn_subtract(t, a, b, out, NULL);
}

/* min and max need two values sl_value_order can compare. */
static sl_status check_order(sl_task *t, const job_fn *f, const sl_value *a,
                             const sl_value *b)
{
    int c;
    if (sl_value_order(a, b, &c))
        return SL_OK;
    if (!is_number(a) && a->kind != SL_KIND_STR)
        return fn_fail(t, f, "needs numbers or strings", a);
    return fn_fail(t, f, "needs numbers or strings alike", b);
}

static sl_status r_min(sl_task *t, const job_fn *f, const sl_value *a,
                       const sl_value *b, sl_value *out)
{
    sl_status st = check_order(t, f, a, b);
    return st != SL_OK ? st : sl_fn_min(t, a, b, out, NULL);
}

static sl_status r_max(sl_task *t, const job_fn *f, const sl_value *a,
                       const sl_value *b, sl_value *out)
{
    sl_status st = check_order(t, f, a, b);
    return st != SL_OK ? st : sl_fn_max(t, a, b, out, NULL);
}

static sl_status r_first(sl_task *t, const job_fn *f, const sl_value *a,
                         const sl_value *b, sl_value *out)
{
    SL__UNUSED(f);
    return sl_fn_first(t, a, b, out, NULL);
}

static sl_status r_last(sl_task *t, const job_fn *f, const sl_value *a,
                        const sl_value *b, sl_value *out)
{
    SL__UNUSED(f);
    return sl_fn_last(t, a, b, out, NULL);
}

/* ------------------------------------------------------------ registry */

/* The words for each ARG_* kind, pasted into the registry rows. */
#define W_ARG_NONE NULL
#define W_ARG_ANY "any value"
#define W_ARG_NUMBER "a number"
#define W_ARG_ORDER "a number or a string"
#define W_ARG_REPEAT "an integer from 0 to 1000"
#define W_ARG_FNLIST "an array of map functions"

#define MAP(name, arg, fn, summary)                                            \
    {                                                                          \
        {name, SL_JOB_FN_MAP, W_##arg, summary}, arg, fn, NULL, NULL, NULL     \
    }
#define FLAT(name, arg, fn, summary)                                           \
    {                                                                          \
        {name, SL_JOB_FN_FLAT_MAP, W_##arg, summary}, arg, NULL, fn, NULL,     \
            NULL                                                               \
    }
#define PRED(name, arg, fn, summary)                                           \
    {                                                                          \
        {name, SL_JOB_FN_PREDICATE, W_##arg, summary}, arg, NULL, NULL, fn,    \
            NULL                                                               \
    }
#define REDUCE(name, fn, summary)                                              \
    {                                                                          \
        {name, SL_JOB_FN_REDUCE, NULL, summary}, ARG_NONE, NULL, NULL, NULL,   \
            fn                                                                 \
    }

static const fn_def registry[] = {
    MAP("identity", ARG_NONE, f_identity, "x"),
    MAP("pair_one", ARG_NONE, f_pair_one, "(x, 1)"),
    MAP("pair_with", ARG_ANY, f_pair_with, "(x, arg)"),
    MAP("swap", ARG_NONE, f_swap, "(k, v) -> (v, k)"),
    MAP("key", ARG_NONE, f_key, "(k, v) -> k"),
    MAP("value", ARG_NONE, f_value, "(k, v) -> v"),
    MAP("lower", ARG_NONE, f_lower, "ASCII lower case of a string"),
    MAP("upper", ARG_NONE, f_upper, "ASCII upper case of a string"),
    MAP("to_number", ARG_NONE, f_to_number,
        "a string or number as an integer or a double"),
    MAP("to_string", ARG_NONE, f_to_string, "the value as print shows it"),
    MAP("add", ARG_NUMBER, f_add, "x + arg"),
    MAP("multiply", ARG_NUMBER, f_multiply, "x * arg"),
    MAP("repeat", ARG_REPEAT, f_repeat, "a string repeated arg times"),
    FLAT("split_words", ARG_NONE, f_split_words,
         "a string's words, split on whitespace"),
    FLAT("flatten", ARG_NONE, f_flatten, "the items of a list or pair"),
    FLAT("fanout", ARG_FNLIST, f_fanout, "fn1(x), fn2(x), ... for arg's fns"),
    PRED("eq", ARG_ANY, p_eq, "x = arg"),
    PRED("ne", ARG_ANY, p_ne, "x != arg"),
    PRED("lt", ARG_ORDER, p_lt, "x < arg"),
    PRED("le", ARG_ORDER, p_le, "x <= arg"),
    PRED("gt", ARG_ORDER, p_gt, "x > arg"),
    PRED("ge", ARG_ORDER, p_ge, "x >= arg"),
    PRED("even", ARG_NONE, p_even, "an even integer"),
    PRED("odd", ARG_NONE, p_odd, "an odd integer"),
    REDUCE("sum", r_sum, "a + b"),
    REDUCE("subtract", r_subtract, "a - b"),
    REDUCE("min", r_min, "the smaller of a and b"),
    REDUCE("max", r_max, "the larger of a and b"),
    REDUCE("first", r_first, "a (the older value)"),
    REDUCE("last", r_last, "b (the newer value)"),
};

#define NREGISTRY (sizeof registry / sizeof registry[0])

const char *sl__job_fn_arg_words(fn_arg a)
{
    static const char *const words[] = {W_ARG_NONE,   W_ARG_ANY,
                                        W_ARG_NUMBER, W_ARG_ORDER,
                                        W_ARG_REPEAT, W_ARG_FNLIST};
    return words[a];
}

const char *sl__job_fn_kind_name(sl_job_fn_kind k)
{
    static const char *const names[] = {"map", "flat_map", "predicate",
                                        "reduce"};
    return names[k];
}

const fn_def *sl__job_fn_find(const char *name)
{
    size_t i;
    for (i = 0; i < NREGISTRY; i++)
        if (strcmp(registry[i].info.name, name) == 0)
            return &registry[i];
    return NULL;
}

const sl_job_fn_info *sl_job_function_at(size_t i)
{
    return i < NREGISTRY ? &registry[i].info : NULL;
}

/* -------------------------------------------------------- entry points */

sl_status sl__job_fn_map(sl_task *t, const sl_value *in, sl_value *out,
                         void *user)
{
    const job_fn *f = user;
    const sl_value *x = part(f, in);
    sl_value y;
    sl_status st;
    if (!x)
        return need_pair(t, f, in);
    if (f->on == ON_ELEMENT)
        return f->def->map(t, f, in, out);
    if ((st = f->def->map(t, f, x, &y)) != SL_OK)
        return st;
    return f->on == ON_KEY ? sl_task_pair(t, &y, sl_pair_value(in), out)
                           : sl_task_pair(t, sl_pair_key(in), &y, out);
}

/* Whether predicate f holds for in (its "on" part), in *keep; a value it
 * cannot judge goes through fn_fail. */
static sl_status pred_check(sl_task *t, const job_fn *f, const sl_value *in,
                            bool *keep)
{
    const sl_value *x = part(f, in);
    if (!x)
        return need_pair(t, f, in);
    return f->def->pred(t, f, x, keep);
}

bool sl__job_fn_pred(const sl_value *in, void *user)
{
    bool keep = false;
    /* No task here (a window's filter of its keys): a value the predicate
     * cannot judge is not kept, as Spark's filterFunc returning false. */
    return pred_check(NULL, user, in, &keep) == SL_OK && keep;
}

sl_status sl__job_fn_reduce(sl_task *t, const sl_value *a, const sl_value *b,
                            sl_value *out, void *user)
{
    const job_fn *f = user;
    return f->def->reduce(t, f, a, b, out);
}

/* ------------------------------------------------------- bad records */

sl_status sl__job_bad_open(job_bad *b, const sl_conf *conf, sl_context *ctx,
                           bool want_file, char *err, size_t errlen)
{
    const char *policy = sl_conf_get(conf, "on_bad_record");
    const char *path = sl_conf_get(conf, "dead_letter");

    b->policy = !strcmp(policy, "skip")          ? BAD_SKIP
                : !strcmp(policy, "dead_letter") ? BAD_DEAD_LETTER
                                                 : BAD_FAIL;
    b->ctx = ctx;
    b->logged_ms = 0;
    atomic_init(&b->count, 0);
    pthread_mutex_init(&b->lock, NULL);
    if (b->policy != BAD_DEAD_LETTER && !(want_file && *path))
        return SL_OK;
    if (!*path) /* validate refuses this; a C program's conf may not */
        return sl__errbuf(err, errlen, SL_ECONF,
                          "on_bad_record \"dead_letter\" needs a "
                          "dead_letter file");
    return sl__dead_letters_open(path, sl__context_bad_counts(ctx), &b->dead,
                                 err, errlen);
}

void sl__job_bad_close(job_bad *b)
{
    if (!b->ctx)
        return;
    sl__dead_letters_close(b->dead);
    b->dead = NULL;
    pthread_mutex_destroy(&b->lock);
    b->ctx = NULL;
}

/* Write v (the value the function was given) as a dead letter. */
static void bad_dead_letter(sl_task *t, const job_fn *f, const sl_value *v)
{
    char small[256], *json = small;
    size_t n = sl_value_format_json(v, small, sizeof small);
    sl__dead_letter r = {.batch = sl_task_batch_id(t),
                         .stream = f->stream,
                         .op = f->op,
                         .reason = "bad_value",
                         .error = bad_why};

    if (n >= sizeof small) { /* the whole value, however long */
        if (!(json = sl_malloc(n + 1))) {
            sl__bad_counts_lost(sl__context_bad_counts(f->bad->ctx), 1, false,
                                "dead letter of a bad value", "out of memory");
            return;
        }
        sl_value_format_json(v, json, n + 1);
    }
    r.value = json;
    /* A failed write is counted and reported by the writer. */
    sl__dead_letters_put(f->bad->dead, &r);
    if (json != small)
        sl_free(json);
}

/* A value f could not handle, under skip or dead_letter: count it, write
 * it (dead_letter), and say so at most every 10 s. */
static void bad_record(sl_task *t, const job_fn *f, const sl_value *v)
{
    job_bad *b = f->bad;
    sl__bad_counts *c = sl__context_bad_counts(b->ctx);
    int64_t count = atomic_fetch_add(&b->count, 1) + 1;
    bool due;

    bad_pending = false;
    atomic_fetch_add(b->policy == BAD_SKIP ? &c->skipped : &c->dead_lettered,
                     1);
    if (b->policy == BAD_DEAD_LETTER)
        bad_dead_letter(t, f, v);
    pthread_mutex_lock(&b->lock);
    due = sl__rate_due(&b->logged_ms, 10000);
    pthread_mutex_unlock(&b->lock);
    if (due)
        sl_context_log(b->ctx, SL_LOG_WARN,
                       "stream %s op %d: %s; record %s (%lld bad records so "
                       "far, on_bad_record)",
                       f->stream, f->op, bad_why,
                       b->policy == BAD_SKIP ? "skipped" : "dead-lettered",
                       (long long)count);
}

/* What an operator does with one record through its function f. */
typedef sl_status (*body_fn)(sl_task *t, const job_fn *f, const sl_value *in);

/*
 * Run body for the record in under the job's on_bad_record: the one path
 * of every operator whose record can be left out. Under skip or
 * dead_letter a value a built-in cannot handle (fn_fail, also inside a
 * fanout) leaves the record out, counted; under fail it fails the task.
 * Bodies emit only once the whole record is handled, so a record left
 * out leaves nothing behind.
 */
static sl_status guarded(sl_task *t, const job_fn *f, const sl_value *in,
                         body_fn body)
{
    sl_status st;

    if (!f->bad || f->bad->policy == BAD_FAIL)
        return body(t, f, in);
    bad_pending = false;
    dropping = true;
    st = body(t, f, in);
    dropping = false;
    if (st == SL_OK || !bad_pending)
        return st;
    bad_record(t, f, in);
    return SL_OK;
}

static sl_status map_body(sl_task *t, const job_fn *f, const sl_value *in)
{
    sl_value out;
    sl_status st = sl__job_fn_map(t, in, &out, (void *)f);
    return st != SL_OK ? st : sl_task_emit(t, &out);
}

static sl_status flat_body(sl_task *t, const job_fn *f, const sl_value *in)
{
    return f->def->flat(t, f, in);
}

static sl_status filter_body(sl_task *t, const job_fn *f, const sl_value *in)
{
    bool keep = false;
    sl_status st = pred_check(t, f, in, &keep);
    return st != SL_OK ? st : keep ? sl_task_emit(t, in) : SL_OK;
}

sl_status sl__job_fn_map_or_drop(sl_task *t, const sl_value *in, void *user)
{
    return guarded(t, user, in, map_body);
}

sl_status sl__job_fn_flat_map(sl_task *t, const sl_value *in, void *user)
{
    return guarded(t, user, in, flat_body);
}

sl_status sl__job_fn_filter(sl_task *t, const sl_value *in, void *user)
{
    return guarded(t, user, in, filter_body);
}
