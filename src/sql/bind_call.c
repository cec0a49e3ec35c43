/*
 * Binding function calls, CAST, LIKE and RLIKE (eval_int.h). Scalar
 * functions come from the function library (sl__sql_func_find): the
 * binder checks the number of arguments, lets the function type the
 * call and ask for implicit casts, and prepares it once with its
 * constant arguments. Aggregates and generators are the planner's: it
 * maps them through the scope's replace hook, so reaching one here is an
 * error for the clause.
 */
#include <stdio.h>
#include <string.h>

#include "core/schema.h"
#include "sql/eval_int.h"

static bool is_generator(const char *name)
{
    return !strcmp(name, "explode") || !strcmp(name, "explode_outer") ||
           !strcmp(name, "posexplode") || !strcmp(name, "posexplode_outer") ||
           !strcmp(name, "inline") || !strcmp(name, "inline_outer") ||
           !strcmp(name, "stack");
}

/* Errors for calls that are not scalar functions, and arity. */
static sl_status check_call(sl__sql_binder *b, const sl__sql_expr *x,
                            const char *name, const sl__sql_func **fn)
{
    const sl__sql_scope *sc = b->scope;
    size_t lo, hi, n = x->nargs;
    if (x->over) /* the planner maps them where they are allowed */
        return sl__sql_error_set(b->e, x->offset,
                                 "window functions (OVER) are only allowed "
                                 "in the select list and ORDER BY, not in %s",
                                 sc->clause ? sc->clause : "this expression");
    if (sl__sql_is_aggregate(name))
        return sl__sql_error_set(b->e, x->offset,
                                 "aggregate functions are not allowed in %s",
                                 sc->clause ? sc->clause : "this expression");
    if (is_generator(name))
        return sl__sql_error_set(b->e, x->offset,
                                 "generators are only allowed in the select "
                                 "list");
    if (!(*fn = sl__sql_func_find(name)))
        return sl__sql_error_set(b->e, x->offset, "undefined function: '%s'",
                                 name);
    if (x->distinct)
        return sl__sql_error_set(b->e, x->offset,
                                 "DISTINCT is only allowed in aggregate "
                                 "functions, not in %s()",
                                 name);
    lo = (*fn)->min_args, hi = (*fn)->max_args;
    if (n >= lo && n <= hi)
        return SL_OK;
    if (hi == SIZE_MAX)
        return sl__sql_error_set(
            b->e, x->offset,
            "function %s requires at least %zu argument%s, "
            "%zu given",
            name, lo, lo == 1 ? "" : "s", n);
    if (lo == hi)
        return sl__sql_error_set(
            b->e, x->offset, "function %s requires %zu argument%s, %zu given",
            name, lo, lo == 1 ? "" : "s", n);
    return sl__sql_error_set(
        b->e, x->offset, "function %s requires %zu to %zu arguments, %zu given",
        name, lo, hi, n);
}

static sl_status now_literal(sl__sql_binder *b, uint32_t *out)
{
    sl__sql_node n = {0};
    if (b->scope->clock)
        n.code = SL__N_CLOCK, n.state = (const void *)b->scope->clock;
    else
        n.code = SL__N_CONST, n.value = sl_int(b->scope->now_ms);
    n.type = sl_type_scalar(SL_TYPE_TIMESTAMP);
    return sl__sql_node_add(b, &n, NULL, 0, out);
}

/* Type the call, add the casts it asked for, prepare it once. */
static sl_status type_call(sl__sql_binder *b, const sl__sql_expr *x,
                           const sl__sql_func *fn, uint32_t *k, size_t n,
                           sl__sql_node *node)
{
    size_t sz = (n ? n : 1) * sizeof(void *);
    const sl_type **types = sl__arena_alloc(b->a, sz);
    const sl_type **want = sl__arena_alloc(b->a, sz);
    const sl_value **consts = sl__arena_alloc(b->a, sz);
    const char *why = "the arguments do not fit";
    void *state = NULL;
    sl_status st;
    if (!types || !want || !consts)
        return SL_ENOMEM;
    for (size_t i = 0; i < n; i++)
        types[i] = want[i] = sl__sql_ntype(b, k[i]);
    if (!(node->type = fn->bind(types, n, want, b->a, &why)))
        return sl__sql_mismatch(b, x, "%s", why);
    for (size_t i = 0; i < n; i++) {
        if ((st = sl__sql_coerce(b, &k[i], want[i])) != SL_OK)
            return st;
        consts[i] = b->p->nodes[k[i]].code == SL__N_CONST
                        ? &b->p->nodes[k[i]].value
                        : NULL;
    }
    if (fn->prepare) {
        why = "invalid arguments";
        st =
            fn->prepare((const sl_value *const *)consts, n, b->a, &state, &why);
        if (st == SL_ENOMEM)
            return st;
        if (st != SL_OK)
            return sl__sql_error_set(b->e, x->offset, "%s(): %s", fn->name,
                                     why);
    }
    node->state = state;
    return SL_OK;
}

sl_status sl__sql_bind_call(sl__sql_binder *b, const sl__sql_expr *x,
                            uint32_t *out)
{
    const char *name = x->kind == SL__SQL_FUNC ? x->name : "concat";
    const sl__sql_func *fn = NULL;
    sl__sql_node node = {0};
    uint32_t *k;
    sl_status st;
    size_t n = x->nargs;
    if (n == 0 && (!strcmp(name, "current_timestamp") || !strcmp(name, "now")))
        return now_literal(b, out);
    if (!(k = sl__arena_alloc(b->a, (n ? n : 1) * sizeof *k)))
        return SL_ENOMEM;
    /* unix_timestamp() is unix_timestamp(current_timestamp()), as Spark */
    if (n == 0 && !strcmp(name, "unix_timestamp")) {
        fn = sl__sql_func_find(name);
        if ((st = now_literal(b, &k[0])) != SL_OK)
            return st;
        n = 1;
    } else if ((st = check_call(b, x, name, &fn)) != SL_OK) {
        return st;
    }
    for (size_t i = 0; i < x->nargs; i++)
        if ((st = sl__sql_bind(b, x->args[i], &k[i])) != SL_OK)
            return st;
    if ((st = type_call(b, x, fn, k, n, &node)) != SL_OK)
        return st;
    node.code = SL__N_FUNC, node.fn = fn;
    return sl__sql_node_add(b, &node, k, n, out);
}

static bool composite(const sl_type *t)
{
    return t->id == SL_TYPE_ARRAY || t->id == SL_TYPE_STRUCT;
}

sl_status sl__sql_bind_cast(sl__sql_binder *b, const sl__sql_expr *x,
                            uint32_t *out)
{
    const sl_type *to, *from;
    char err[160], fn[64], tn[64];
    size_t used = 0;
    uint32_t k;
    sl_status st =
        sl__type_parse(x->type_text, b->a, &to, &used, err, sizeof err);
    if (st == SL_ENOMEM)
        return st;
    if (st != SL_OK || x->type_text[used] != '\0')
        return sl__sql_error_set(b->e, x->type_offset,
                                 "cannot read the type of CAST: %s",
                                 st != SL_OK ? err : "trailing text");
    if ((st = sl__sql_bind(b, x->args[0], &k)) != SL_OK)
        return st;
    from = sl__sql_ntype(b, k);
    /* Composite to scalar only as text; scalar to composite never
     * (Spark's Cast.canCast); composites of another shape are the cast's
     * to judge (NULL items). */
    if ((composite(from) && !composite(to) && to->id != SL_TYPE_STRING) ||
        (!composite(from) && composite(to) && from->id != SL_TYPE_NULL) ||
        (composite(from) && composite(to) && from->id != to->id))
        return sl__sql_mismatch(b, x, "cannot cast %s to %s",
                                sl__sql_tname(from, fn, sizeof fn),
                                sl__sql_tname(to, tn, sizeof tn));
    if ((st = sl__sql_coerce(b, &k, to)) != SL_OK)
        return st;
    *out = k;
    return SL_OK;
}

/* Compile a constant pattern once; its errors are the query's. */
static sl_status constant_pattern(sl__sql_binder *b, const sl__sql_expr *x,
                                  uint32_t pk, sl__sql_node *node)
{
    const sl__sql_node *p = &b->p->nodes[pk];
    const char *why = NULL;
    if (p->code != SL__N_CONST || p->value.kind != SL_KIND_STR)
        return SL_OK;
    node->state =
        x->kind == SL__SQL_LIKE
            ? sl__sql_like_compile(p->value.u.s, p->value.len, b->a, &why)
            : sl__sql_regex_compile(p->value.u.s, p->value.len, b->a, &why);
    if (node->state)
        return SL_OK;
    if (!why)
        return SL_ENOMEM;
    return sl__sql_error_set(
        b->e, x->args[1]->offset, "the pattern '%.*s' is invalid: %s",
        (int)(p->value.len < 80 ? p->value.len : 80), p->value.u.s, why);
}

sl_status sl__sql_bind_like(sl__sql_binder *b, const sl__sql_expr *x,
                            uint32_t *out)
{
    sl__sql_node node = {0};
    uint32_t k[2];
    char tn[64];
    sl_status st;
    for (int i = 0; i < 2; i++) {
        const sl_type *t;
        if ((st = sl__sql_bind(b, x->args[i], &k[i])) != SL_OK)
            return st;
        t = sl__sql_ntype(b, k[i]);
        /* other atomic types are read as their text (Spark's implicit
         * cast to string) */
        if (composite(t) || t->id == SL_TYPE_BINARY)
            return sl__sql_mismatch(b, x, "%s requires strings, not %s",
                                    x->kind == SL__SQL_LIKE ? "LIKE" : "RLIKE",
                                    sl__sql_tname(t, tn, sizeof tn));
        if ((st = sl__sql_coerce(b, &k[i], sl_type_scalar(SL_TYPE_STRING))) !=
            SL_OK)
            return st;
    }
    if ((st = constant_pattern(b, x, k[1], &node)) != SL_OK)
        return st;
    node.code = x->kind == SL__SQL_LIKE ? SL__N_LIKE : SL__N_RLIKE;
    node.negated = x->negated;
    node.type = sl_type_scalar(SL_TYPE_BOOLEAN);
    return sl__sql_node_add(b, &node, k, 2, out);
}
