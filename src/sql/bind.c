/*
 * The SQL binder (eval_int.h): resolves column names against the scope's
 * relations and types every operator with Spark SQL 3.5's rules (ANSI
 * off), adding the implicit casts Spark's TypeCoercion would add, while
 * building the program eval.c runs. Function calls, CAST, LIKE and RLIKE
 * are in bind_call.c. docs/sql.md "Operators and type rules" is the
 * user's view of the rules here.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "sql/eval_int.h"

static const sl_type *T(sl_type_id id)
{
    return sl_type_scalar(id);
}

const char *sl__sql_tname(const sl_type *t, char *buf, size_t n)
{
    if (t->id == SL_TYPE_NULL)
        snprintf(buf, n, "void"); /* Spark's name for a bare NULL's type */
    else
        sl_type_format(t, buf, n);
    return buf;
}

/* ------------------------------------------------------------ messages */

static const char *const op_text[] = {
    [SL__SQL_OP_NOT] = "NOT ",    [SL__SQL_OP_NEG] = "-",
    [SL__SQL_OP_PLUS] = "+",      [SL__SQL_OP_OR] = "OR",
    [SL__SQL_OP_AND] = "AND",     [SL__SQL_OP_EQ] = "=",
    [SL__SQL_OP_NULL_EQ] = "<=>", [SL__SQL_OP_NE] = "!=",
    [SL__SQL_OP_LT] = "<",        [SL__SQL_OP_LE] = "<=",
    [SL__SQL_OP_GT] = ">",        [SL__SQL_OP_GE] = ">=",
    [SL__SQL_OP_ADD] = "+",       [SL__SQL_OP_SUB] = "-",
    [SL__SQL_OP_MUL] = "*",       [SL__SQL_OP_DIV] = "/",
    [SL__SQL_OP_IDIV] = "div",    [SL__SQL_OP_MOD] = "%",
    [SL__SQL_OP_CONCAT] = "||",   [SL__SQL_OP_BITAND] = "&",
    [SL__SQL_OP_BITOR] = "|",     [SL__SQL_OP_BITXOR] = "^"};

/* x as SQL text the way Spark names expressions in messages: "(a + 1)". */
static size_t show(const sl__sql_expr *x, char *buf, size_t n);

#define SHOW(y) (k += show((y), buf + (k < n ? k : n), k < n ? n - k : 0))
#define PUT(...)                                                               \
    (k +=                                                                      \
     (size_t)snprintf(buf + (k < n ? k : n), k < n ? n - k : 0, __VA_ARGS__))

/* show() for the predicates, CAST, CASE, [] and fields. */
static size_t show_more(const sl__sql_expr *x, char *buf, size_t n)
{
    size_t k = 0;
    switch (x->kind) {
    case SL__SQL_CAST:
        PUT("CAST(");
        SHOW(x->args[0]);
        PUT(" AS %s)", x->type_text);
        break;
    case SL__SQL_INDEX:
        SHOW(x->args[0]);
        PUT("[");
        SHOW(x->args[1]);
        PUT("]");
        break;
    case SL__SQL_FIELD:
        SHOW(x->args[0]);
        PUT(".%s", x->name);
        break;
    case SL__SQL_LIKE:
    case SL__SQL_RLIKE:
        SHOW(x->args[0]);
        PUT(" %s%s ", x->negated ? "NOT " : "",
            x->kind == SL__SQL_LIKE ? "LIKE" : "RLIKE");
        SHOW(x->args[1]);
        break;
    case SL__SQL_IN:
        PUT("(");
        SHOW(x->args[0]);
        PUT(" %sIN (", x->negated ? "NOT " : "");
        for (size_t i = 1; i < x->nargs; i++) {
            PUT("%s", i > 1 ? ", " : "");
            SHOW(x->args[i]);
        }
        PUT("))");
        break;
    case SL__SQL_CASE:
        PUT("CASE");
        for (size_t i = 0; i < x->nargs; i++) {
            size_t j = i - x->has_operand;
            bool last = x->has_else && i + 1 == x->nargs;
            PUT(" %s", x->has_operand && i == 0 ? ""
                       : last                   ? "ELSE "
                       : j % 2 == 0             ? "WHEN "
                                                : "THEN ");
            SHOW(x->args[i]);
        }
        PUT(" END");
        break;
    default:
        k += sl__sql_expr_format(x, buf, n);
    }
    return k;
}

static size_t show(const sl__sql_expr *x, char *buf, size_t n)
{
    size_t k = 0;
    switch (x->kind) {
    case SL__SQL_COLUMN:
        PUT("%s%s%s", x->qualifier ? x->qualifier : "", x->qualifier ? "." : "",
            x->name);
        break;
    case SL__SQL_LITERAL:
        if (x->value.kind == SL_KIND_STR)
            PUT("'%.*s'", (int)x->value.len, x->value.u.s);
        else if (x->value.kind == SL_KIND_INT)
            PUT("%lld", (long long)x->value.u.i);
        else if (x->value.kind == SL_KIND_DOUBLE)
            PUT("%g", x->value.u.d);
        else if (x->value.kind == SL_KIND_BOOL)
            PUT("%s", x->value.u.b ? "true" : "false");
        else
            PUT("NULL");
        break;
    case SL__SQL_UNARY:
        PUT("(%s", op_text[x->op]);
        SHOW(x->args[0]);
        PUT(")");
        break;
    case SL__SQL_BINARY:
        PUT("(");
        SHOW(x->args[0]);
        PUT(" %s ", op_text[x->op]);
        SHOW(x->args[1]);
        PUT(")");
        break;
    case SL__SQL_FUNC:
        PUT("%s(", x->name);
        for (size_t i = 0; i < x->nargs; i++) {
            PUT("%s", i ? ", " : "");
            SHOW(x->args[i]);
        }
        PUT(")");
        break;
    case SL__SQL_STAR:
        PUT("*");
        break;
    default:
        k += show_more(x, buf, n);
    }
    return k;
}
#undef PUT
#undef SHOW

sl_status sl__sql_mismatch(sl__sql_binder *b, const sl__sql_expr *x,
                           const char *fmt, ...)
{
    char text[96], detail[200];
    va_list ap;
    show(x, text, sizeof text);
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    return sl__sql_error_set(
        b->e, x->offset, "cannot resolve '%s' due to data type mismatch: %s",
        text, detail);
}

/* ------------------------------------------------------------- columns */

static bool same(const char *a, const char *b)
{
    return a && b && strcasecmp(a, b) == 0;
}

/* "cannot resolve 'x' given input columns: [t.a, t.b]" */
static sl_status unresolved(sl__sql_binder *b, const sl__sql_expr *x)
{
    char cols[200];
    size_t k = 0;
    const sl__sql_scope *sc = b->scope;
    for (size_t r = 0; r < sc->nrels; r++) {
        const sl__sql_rel *rel = &sc->rels[r];
        for (size_t c = 0; c < sl_schema_size(rel->schema); c++)
            if (k < sizeof cols)
                k += (size_t)snprintf(
                    cols + k, sizeof cols - k, "%s%s%s%s", k ? ", " : "",
                    rel->qualifier ? rel->qualifier : "",
                    rel->qualifier ? "." : "", sl_schema_name(rel->schema, c));
    }
    if (k >= sizeof cols)
        memcpy(cols + sizeof cols - 4, "...", 4);
    cols[k < sizeof cols ? k : sizeof cols - 1] = '\0';
    return sl__sql_error_set(
        b->e, x->offset, "cannot resolve '%s%s%s' given input columns: [%s]",
        x->qualifier ? x->qualifier : "", x->qualifier ? "." : "", x->name,
        cols);
}

static sl_status column_node(sl__sql_binder *b, const sl__sql_rel *rel, int c,
                             uint32_t *out)
{
    sl__sql_node n = {0};
    n.code = SL__N_COLUMN;
    n.column = rel->first + (size_t)c;
    n.type = sl_schema_type(rel->schema, (size_t)c);
    return sl__sql_node_add(b, &n, NULL, 0, out);
}

static sl_status field_node(sl__sql_binder *b, const sl__sql_expr *x,
                            uint32_t kid, const char *name, uint32_t *out)
{
    const sl_type *t = sl__sql_ntype(b, kid);
    sl__sql_node n = {0};
    char tn[64];
    int f;
    if (t->id != SL_TYPE_STRUCT)
        return sl__sql_error_set(
            b->e, x->offset,
            "cannot extract field '%s' from a value of type %s: not a struct",
            name, sl__sql_tname(t, tn, sizeof tn));
    if ((f = sl_schema_find(t->fields, name)) < 0)
        return sl__sql_error_set(b->e, x->offset,
                                 "no such struct field '%s' in %s", name,
                                 sl__sql_tname(t, tn, sizeof tn));
    n.code = SL__N_FIELD, n.column = (size_t)f;
    n.type = sl_schema_type(t->fields, (size_t)f);
    return sl__sql_node_add(b, &n, &kid, 1, out);
}

/* The one column called name (in relation `qual` when given). */
static sl_status find_column(sl__sql_binder *b, const sl__sql_expr *x,
                             const char *qual, const char *name,
                             const sl__sql_rel **rel, int *col)
{
    const sl__sql_scope *sc = b->scope;
    *rel = NULL;
    for (size_t r = 0; r < sc->nrels; r++) {
        int c;
        if (qual && !same(qual, sc->rels[r].qualifier))
            continue;
        if ((c = sl_schema_find(sc->rels[r].schema, name)) < 0)
            continue;
        if (*rel)
            return sl__sql_error_set(
                b->e, x->offset,
                "reference '%s' is ambiguous, could be: %s%s%s, %s%s%s", name,
                (*rel)->qualifier ? (*rel)->qualifier : "",
                (*rel)->qualifier ? "." : "", name,
                sc->rels[r].qualifier ? sc->rels[r].qualifier : "",
                sc->rels[r].qualifier ? "." : "", name);
        *rel = &sc->rels[r], *col = c;
    }
    return SL_OK;
}

static bool has_rel(const sl__sql_scope *sc, const char *qual)
{
    for (size_t r = 0; r < sc->nrels; r++)
        if (same(qual, sc->rels[r].qualifier))
            return true;
    return false;
}

static sl_status bind_column(sl__sql_binder *b, const sl__sql_expr *x,
                             uint32_t *out)
{
    const sl__sql_rel *rel;
    int c;
    uint32_t kid;
    sl_status st;
    if (!x->qualifier || has_rel(b->scope, x->qualifier)) {
        if ((st = find_column(b, x, x->qualifier, x->name, &rel, &c)) != SL_OK)
            return st;
        return rel ? column_node(b, rel, c, out) : unresolved(b, x);
    }
    /* a.b with no relation a: field b of a struct column a, as Spark. */
    if ((st = find_column(b, x, NULL, x->qualifier, &rel, &c)) != SL_OK)
        return st;
    if (!rel)
        return unresolved(b, x);
    if ((st = column_node(b, rel, c, &kid)) != SL_OK)
        return st;
    return field_node(b, x, kid, x->name, out);
}

/* ----------------------------------------------------------- operators */

static bool is_num(const sl_type *t)
{
    return t->id == SL_TYPE_LONG || t->id == SL_TYPE_DOUBLE;
}

/* The operand type of + - * % for operand types l and r: strings read as
 * doubles (Spark's PromoteStrings), long meets double as double, a bare
 * NULL gives way (two NULLs: double, NumericType's default). NULL: no
 * such type. */
static const sl_type *arith_type(const sl_type *l, const sl_type *r)
{
    const sl_type *s[2] = {l, r};
    bool dbl = false;
    for (int i = 0; i < 2; i++) {
        if (s[i]->id == SL_TYPE_STRING || s[i]->id == SL_TYPE_DOUBLE ||
            (s[i]->id == SL_TYPE_NULL && s[1 - i]->id == SL_TYPE_NULL))
            dbl = true;
        else if (s[i]->id != SL_TYPE_LONG && s[i]->id != SL_TYPE_NULL)
            return NULL;
    }
    return T(dbl ? SL_TYPE_DOUBLE : SL_TYPE_LONG);
}

/*
 * The common type of a comparison (Spark 3.5's
 * findCommonTypeForBinaryComparison, then the wider numeric type): NULL
 * gives way; long and double compare as double; a string against another
 * atomic type is cast to that type ('1.5' = 1 compares 1 = 1, as Spark
 * 3.x; a timestamp against a string compares timestamps); composites
 * only against the same type.
 */
static const sl_type *cmp_type(const sl_type *l, const sl_type *r)
{
    if (l->id == SL_TYPE_NULL)
        return r;
    if (r->id == SL_TYPE_NULL || sl_type_equal(l, r))
        return l;
    if (is_num(l) && is_num(r))
        return T(SL_TYPE_DOUBLE);
    if (l->id == SL_TYPE_ARRAY || l->id == SL_TYPE_STRUCT ||
        r->id == SL_TYPE_ARRAY || r->id == SL_TYPE_STRUCT)
        return NULL;
    if (l->id == SL_TYPE_STRING)
        return r;
    if (r->id == SL_TYPE_STRING)
        return l;
    return NULL;
}

static bool is_interval(const sl__sql_expr *x)
{
    return x->kind == SL__SQL_INTERVAL ||
           (x->kind == SL__SQL_UNARY && x->op == SL__SQL_OP_NEG &&
            x->args[0]->kind == SL__SQL_INTERVAL);
}

/* The node code, operand type and result type of a binary operator;
 * false when the operand types do not fit. */
static bool binary_types(const sl__sql_expr *x, const sl_type *l,
                         const sl_type *r, sl__sql_node *n,
                         const sl_type **operand)
{
    int op = x->op;
    n->code = SL__N_ARITH;
    if (op >= SL__SQL_OP_EQ && op <= SL__SQL_OP_GE) {
        n->code = SL__N_CMP, n->type = T(SL_TYPE_BOOLEAN);
        return (*operand = cmp_type(l, r)) != NULL;
    }
    if (op == SL__SQL_OP_AND || op == SL__SQL_OP_OR) {
        n->code = op == SL__SQL_OP_AND ? SL__N_AND : SL__N_OR;
        *operand = n->type = T(SL_TYPE_BOOLEAN);
        return (l->id == SL_TYPE_BOOLEAN || l->id == SL_TYPE_NULL) &&
               (r->id == SL_TYPE_BOOLEAN || r->id == SL_TYPE_NULL);
    }
    if ((op == SL__SQL_OP_ADD || op == SL__SQL_OP_SUB) &&
        l->id == SL_TYPE_TIMESTAMP && is_interval(x->args[1])) {
        /* timestamp +/- INTERVAL: milliseconds on a timestamp */
        *operand = T(SL_TYPE_LONG), n->type = l;
        return true;
    }
    if (op == SL__SQL_OP_ADD && r->id == SL_TYPE_TIMESTAMP &&
        is_interval(x->args[0])) {
        *operand = T(SL_TYPE_LONG), n->type = r;
        return true;
    }
    if (op == SL__SQL_OP_DIV) /* Spark's `/` is always on doubles */
        *operand = arith_type(l, r) ? T(SL_TYPE_DOUBLE) : NULL;
    else if (op == SL__SQL_OP_IDIV || op >= SL__SQL_OP_BITAND)
        /* div and the bitwise operators take longs; strings cast to long;
         * div also takes doubles (cast to long, as Spark's implicit cast
         * to LongType); bitwise operators do not. */
        *operand = arith_type(l, r) &&
                           (op == SL__SQL_OP_IDIV || (l->id != SL_TYPE_DOUBLE &&
                                                      r->id != SL_TYPE_DOUBLE))
                       ? T(SL_TYPE_LONG)
                       : NULL;
    else
        *operand = arith_type(l, r);
    n->type = *operand;
    n->flag = *operand && (*operand)->id == SL_TYPE_DOUBLE;
    return *operand != NULL;
}

static sl_status bind_binary(sl__sql_binder *b, const sl__sql_expr *x,
                             uint32_t *out)
{
    uint32_t k[2];
    sl__sql_node n = {0};
    const sl_type *operand, *l, *r;
    char ln[64], rn[64];
    sl_status st;
    if (x->op == SL__SQL_OP_CONCAT) /* `a || b` is concat(a, b), as Spark */
        return sl__sql_bind_call(b, x, out);
    if ((st = sl__sql_bind(b, x->args[0], &k[0])) != SL_OK ||
        (st = sl__sql_bind(b, x->args[1], &k[1])) != SL_OK)
        return st;
    l = sl__sql_ntype(b, k[0]), r = sl__sql_ntype(b, k[1]);
    n.op = (uint8_t)x->op;
    if (!binary_types(x, l, r, &n, &operand))
        return sl__sql_mismatch(
            b, x, "the operator %s is not defined on %s and %s", op_text[x->op],
            sl__sql_tname(l, ln, sizeof ln), sl__sql_tname(r, rn, sizeof rn));
    /* timestamp +/- INTERVAL adds milliseconds: no cast (a timestamp
     * cast to long would be seconds) */
    if (n.type->id != SL_TYPE_TIMESTAMP &&
        ((st = sl__sql_coerce(b, &k[0], operand)) != SL_OK ||
         (st = sl__sql_coerce(b, &k[1], operand)) != SL_OK))
        return st;
    return sl__sql_node_add(b, &n, k, 2, out);
}

static sl_status bind_unary(sl__sql_binder *b, const sl__sql_expr *x,
                            uint32_t *out)
{
    uint32_t k;
    sl__sql_node n = {0};
    const sl_type *t;
    char tn[64];
    sl_status st = sl__sql_bind(b, x->args[0], &k);
    if (st != SL_OK)
        return st;
    t = sl__sql_ntype(b, k);
    if (x->op == SL__SQL_OP_NOT) {
        if (t->id != SL_TYPE_BOOLEAN && t->id != SL_TYPE_NULL)
            return sl__sql_mismatch(b, x, "NOT requires boolean, not %s",
                                    sl__sql_tname(t, tn, sizeof tn));
        n.code = SL__N_NOT, n.type = T(SL_TYPE_BOOLEAN);
    } else {
        /* - and + on numbers; a string reads as a double (Spark's
         * implicit cast to NumericType's default) */
        if (!is_num(t) && t->id != SL_TYPE_STRING && t->id != SL_TYPE_NULL)
            return sl__sql_mismatch(b, x, "%s requires a number, not %s",
                                    op_text[x->op],
                                    sl__sql_tname(t, tn, sizeof tn));
        n.type = is_num(t) ? t : T(SL_TYPE_DOUBLE);
        if ((st = sl__sql_coerce(b, &k, n.type)) != SL_OK)
            return st;
        if (x->op == SL__SQL_OP_PLUS) {
            *out = k;
            return SL_OK;
        }
        n.code = SL__N_NEG;
    }
    if ((st = sl__sql_coerce(b, &k, n.type)) != SL_OK)
        return st;
    return sl__sql_node_add(b, &n, &k, 1, out);
}

static sl_status bind_literal(sl__sql_binder *b, const sl__sql_expr *x,
                              uint32_t *out)
{
    sl__sql_node n = {0};
    /* The program keeps its own copy: the syntax tree may be freed once
     * the query is compiled. */
    sl_status st = sl__value_copy(b->a, NULL, &x->value, &n.value);
    if (st != SL_OK)
        return st;
    n.code = SL__N_CONST;
    /* INTERVAL literals are milliseconds as a long */
    n.type =
        x->kind == SL__SQL_INTERVAL || !x->type ? T(SL_TYPE_LONG) : x->type;
    if (x->kind == SL__SQL_LITERAL && x->value.kind == SL_KIND_NULL)
        n.type = T(SL_TYPE_NULL);
    return sl__sql_node_add(b, &n, NULL, 0, out);
}

/* ----------------------------------------------- predicates and CASE */

static sl_status bind_is_null(sl__sql_binder *b, const sl__sql_expr *x,
                              uint32_t *out)
{
    uint32_t k;
    sl__sql_node n = {0};
    sl_status st = sl__sql_bind(b, x->args[0], &k);
    if (st != SL_OK)
        return st;
    n.code = SL__N_IS_NULL, n.negated = x->negated;
    n.type = T(SL_TYPE_BOOLEAN);
    return sl__sql_node_add(b, &n, &k, 1, out);
}

/*
 * Spark's wider common type of nodes k[from..n) (CASE branches, IN
 * lists): NULL gives way, long widens to double, other atomic types meet
 * as string; composites only with equal types. NULL: none (i is the one
 * that does not fit).
 */
static const sl_type *wider(sl__sql_binder *b, const uint32_t *k, size_t n,
                            size_t step, size_t *bad)
{
    const sl_type *w = T(SL_TYPE_NULL);
    for (size_t i = 0; i < n; i += step) {
        const sl_type *t = sl__sql_ntype(b, k[i]);
        bool wc = w->id == SL_TYPE_ARRAY || w->id == SL_TYPE_STRUCT;
        bool tc = t->id == SL_TYPE_ARRAY || t->id == SL_TYPE_STRUCT;
        *bad = i;
        if (t->id == SL_TYPE_NULL || sl_type_equal(w, t))
            continue;
        if (w->id == SL_TYPE_NULL)
            w = t;
        else if (wc || tc)
            return NULL;
        else if (is_num(w) && is_num(t))
            w = T(SL_TYPE_DOUBLE);
        else
            w = T(SL_TYPE_STRING);
    }
    return w;
}

static sl_status bind_list(sl__sql_binder *b, sl__sql_expr *const *xs, size_t n,
                           uint32_t *k)
{
    for (size_t i = 0; i < n; i++) {
        sl_status st = sl__sql_bind(b, xs[i], &k[i]);
        if (st != SL_OK)
            return st;
    }
    return SL_OK;
}

static sl_status bind_in(sl__sql_binder *b, const sl__sql_expr *x,
                         uint32_t *out)
{
    uint32_t *k = sl__arena_alloc(b->a, x->nargs * sizeof *k);
    sl__sql_node n = {0};
    const sl_type *w;
    size_t bad;
    char tn[64], wn[64];
    sl_status st;
    if (!k)
        return SL_ENOMEM;
    if ((st = bind_list(b, x->args, x->nargs, k)) != SL_OK)
        return st;
    if (!(w = wider(b, k, x->nargs, 1, &bad)))
        return sl__sql_mismatch(
            b, x, "the IN list has values of type %s and %s",
            sl__sql_tname(sl__sql_ntype(b, k[0]), wn, sizeof wn),
            sl__sql_tname(sl__sql_ntype(b, k[bad]), tn, sizeof tn));
    for (size_t i = 0; i < x->nargs; i++)
        if ((st = sl__sql_coerce(b, &k[i], w)) != SL_OK)
            return st;
    n.code = SL__N_IN, n.negated = x->negated, n.type = T(SL_TYPE_BOOLEAN);
    return sl__sql_node_add(b, &n, k, x->nargs, out);
}

/* A node of the syntax tree made by the binder (BETWEEN, simple CASE). */
static sl__sql_expr *mk(sl__sql_binder *b, const sl__sql_expr *at,
                        sl__sql_expr_kind kind, sl__sql_op op, size_t nargs)
{
    sl__sql_expr *x = sl__arena_alloc(b->a, sizeof *x);
    if (!x || !(x->args = sl__arena_alloc(b->a, 2 * sizeof *x->args)))
        return NULL;
    memset(x->args, 0, 2 * sizeof *x->args);
    x->kind = kind, x->op = op, x->nargs = nargs;
    x->offset = at->offset, x->end = at->end;
    x->negated = x->distinct = x->has_operand = x->has_else = false;
    x->type = NULL, x->type_text = x->qualifier = x->name = NULL;
    x->value = sl_null();
    return x;
}

/* a [NOT] BETWEEN lo AND hi is [NOT] (a >= lo AND a <= hi), as Spark. */
static sl_status bind_between(sl__sql_binder *b, const sl__sql_expr *x,
                              uint32_t *out)
{
    sl__sql_expr *ge = mk(b, x, SL__SQL_BINARY, SL__SQL_OP_GE, 2);
    sl__sql_expr *le = mk(b, x, SL__SQL_BINARY, SL__SQL_OP_LE, 2);
    sl__sql_expr *and = mk(b, x, SL__SQL_BINARY, SL__SQL_OP_AND, 2);
    sl__sql_expr *not = mk(b, x, SL__SQL_UNARY, SL__SQL_OP_NOT, 1);
    if (!ge || !le || !and || !not )
        return SL_ENOMEM;
    ge->args[0] = le->args[0] = x->args[0];
    ge->args[1] = x->args[1], le->args[1] = x->args[2];
    and->args[0] = ge, and->args[1] = le;
    not ->args[0] = and;
    return sl__sql_bind(b, x->negated ? not : and, out);
}

static sl_status bind_case(sl__sql_binder *b, const sl__sql_expr *x,
                           uint32_t *out)
{
    size_t first = x->has_operand, n = x->nargs - first;
    size_t pairs = (n - x->has_else) / 2, bad;
    uint32_t *k = sl__arena_alloc(b->a, (n ? n : 1) * sizeof *k);
    sl__sql_node node = {0};
    const sl_type *w;
    char tn[64];
    sl_status st;
    if (!k)
        return SL_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        const sl__sql_expr *a = x->args[first + i];
        if (x->has_operand && i % 2 == 0 && i / 2 < pairs) {
            /* CASE v WHEN w is CASE WHEN v = w, as Spark's parser */
            sl__sql_expr *eq = mk(b, a, SL__SQL_BINARY, SL__SQL_OP_EQ, 2);
            if (!eq)
                return SL_ENOMEM;
            eq->args[0] = x->args[0], eq->args[1] = (sl__sql_expr *)a;
            a = eq;
        }
        if ((st = sl__sql_bind(b, a, &k[i])) != SL_OK)
            return st;
        if (i % 2 == 0 && i / 2 < pairs &&
            sl__sql_ntype(b, k[i])->id != SL_TYPE_BOOLEAN &&
            sl__sql_ntype(b, k[i])->id != SL_TYPE_NULL)
            return sl__sql_mismatch(
                b, x, "WHEN expressions in CASE must be boolean, not %s",
                sl__sql_tname(sl__sql_ntype(b, k[i]), tn, sizeof tn));
    }
    /* the result: the wider type of the THEN and ELSE branches */
    size_t m = 0;
    uint32_t *v = sl__arena_alloc(b->a, (n ? n : 1) * sizeof *v);
    if (!v)
        return SL_ENOMEM;
    for (size_t i = 1; i < n; i += 2)
        v[m++] = k[i];
    if (x->has_else) /* the ELSE is the last (even) kid */
        v[m++] = k[n - 1];
    if (!(w = wider(b, v, m, 1, &bad)))
        return sl__sql_mismatch(b, x,
                                "THEN and ELSE expressions should all "
                                "be the same type or coercible to a "
                                "common type");
    for (size_t i = 1; i < n; i++)
        if ((i % 2 == 1 || (x->has_else && i == n - 1)) &&
            (st = sl__sql_coerce(b, &k[i], w)) != SL_OK)
            return st;
    node.code = SL__N_CASE, node.flag = x->has_else, node.type = w;
    return sl__sql_node_add(b, &node, k, n, out);
}

static sl_status bind_index(sl__sql_binder *b, const sl__sql_expr *x,
                            uint32_t *out)
{
    uint32_t k[2];
    sl__sql_node n = {0};
    const sl_type *t, *i;
    char tn[64];
    sl_status st;
    if ((st = bind_list(b, x->args, 2, k)) != SL_OK)
        return st;
    t = sl__sql_ntype(b, k[0]), i = sl__sql_ntype(b, k[1]);
    if (t->id != SL_TYPE_ARRAY && t->id != SL_TYPE_NULL)
        return sl__sql_mismatch(b, x, "[] needs an array, not %s",
                                sl__sql_tname(t, tn, sizeof tn));
    if (i->id != SL_TYPE_LONG && i->id != SL_TYPE_NULL &&
        i->id != SL_TYPE_STRING)
        return sl__sql_mismatch(b, x, "an array index must be long, not %s",
                                sl__sql_tname(i, tn, sizeof tn));
    if ((st = sl__sql_coerce(b, &k[1], T(SL_TYPE_LONG))) != SL_OK)
        return st;
    n.code = SL__N_INDEX;
    n.type = t->id == SL_TYPE_ARRAY ? t->element : t;
    return sl__sql_node_add(b, &n, k, 2, out);
}

static sl_status bind_node(sl__sql_binder *b, const sl__sql_expr *x,
                           uint32_t *out)
{
    uint32_t k;
    sl_status st;
    switch (x->kind) {
    case SL__SQL_LITERAL:
    case SL__SQL_INTERVAL:
        return bind_literal(b, x, out);
    case SL__SQL_COLUMN:
        return bind_column(b, x, out);
    case SL__SQL_STAR:
        return sl__sql_error_set(b->e, x->offset,
                                 "'*' is only allowed in a select list or "
                                 "count(*)");
    case SL__SQL_UNARY:
        return bind_unary(b, x, out);
    case SL__SQL_BINARY:
        return bind_binary(b, x, out);
    case SL__SQL_IS_NULL:
        return bind_is_null(b, x, out);
    case SL__SQL_IN:
        return bind_in(b, x, out);
    case SL__SQL_BETWEEN:
        return bind_between(b, x, out);
    case SL__SQL_CASE:
        return bind_case(b, x, out);
    case SL__SQL_INDEX:
        return bind_index(b, x, out);
    case SL__SQL_FIELD:
        if ((st = sl__sql_bind(b, x->args[0], &k)) != SL_OK)
            return st;
        return field_node(b, x, k, x->name, out);
    case SL__SQL_CAST:
        return sl__sql_bind_cast(b, x, out);
    case SL__SQL_LIKE:
    case SL__SQL_RLIKE:
        return sl__sql_bind_like(b, x, out);
    default:
        return sl__sql_bind_call(b, x, out);
    }
}

sl_status sl__sql_bind(sl__sql_binder *b, const sl__sql_expr *x, uint32_t *out)
{
    const sl__sql_scope *sc = b->scope;
    size_t column = 0;
    const sl_type *type = NULL;
    sl__sql_node n = {0};
    sl_status st;
    /* The planner's hook comes first: group keys and aggregate results
     * above an aggregation are columns of its row. */
    if (sc->replace && sc->replace(sc->user, x, &column, &type, b->e)) {
        if (column == SIZE_MAX)
            return SL_EPARSE;
        n.code = SL__N_COLUMN, n.column = column, n.type = type;
        return sl__sql_node_add(b, &n, NULL, 0, out);
    }
    if (b->depth >= SL__SQL_MAX_NEST)
        return sl__sql_error_set(b->e, x->offset,
                                 "expression nested too deeply (more than "
                                 "%d levels)",
                                 SL__SQL_MAX_NEST);
    b->depth++;
    st = bind_node(b, x, out);
    b->depth--;
    return st;
}
