/*
 * Running compiled SQL expressions (eval_int.h): one recursive walk over
 * the program's nodes per row. The walk keeps its operand values in
 * locals on the C stack (the parser bounds nesting at 200 levels), so
 * it never calls malloc; strings that functions or casts produce go
 * into the caller's scratch arena. A program is never written to
 * during evaluation, so any number of threads may run one at once.
 *
 * Spark SQL 3.5 semantics with ANSI off: long + - * wrap on overflow,
 * division and remainder by zero give NULL, AND/OR/NOT/IN are
 * three-valued (docs/sql.md "NULL semantics").
 */
#include <math.h>
#include <stdatomic.h>
#include <string.h>

#include "sql/eval_int.h"

/* Up to this many function arguments live on the stack; more go into
 * scratch. */
#define SL__SQL_STACK_ARGS 8

/* Kept out of sl__sql_eval_node, which every node enters (a column, a
 * constant): inlined, their locals (eval_func's argument array) made
 * its stack frame several times larger and its entry slower. */
#define SL__SQL_OUT_OF_LINE __attribute__((noinline))

static sl_value long_arith(int op, int64_t l, int64_t r)
{
    /* Wrapping through uint64_t: Java's long arithmetic, no C UB. */
    uint64_t a = (uint64_t)l, c = (uint64_t)r;
    switch (op) {
    case SL__SQL_OP_ADD:
        return sl_int((int64_t)(a + c));
    case SL__SQL_OP_SUB:
        return sl_int((int64_t)(a - c));
    case SL__SQL_OP_MUL:
        return sl_int((int64_t)(a * c));
    case SL__SQL_OP_IDIV:
    case SL__SQL_OP_MOD:
        if (r == 0)
            return sl_null();
        if (r == -1) /* INT64_MIN / -1 wraps to INT64_MIN, as Java */
            return sl_int(op == SL__SQL_OP_MOD ? 0 : (int64_t)(0 - a));
        return sl_int(op == SL__SQL_OP_MOD ? l % r : l / r);
    case SL__SQL_OP_BITAND:
        return sl_int((int64_t)(a & c));
    case SL__SQL_OP_BITOR:
        return sl_int((int64_t)(a | c));
    default:
        return sl_int((int64_t)(a ^ c));
    }
}

static sl_value double_arith(int op, double l, double r)
{
    switch (op) {
    case SL__SQL_OP_ADD:
        return sl_double(l + r);
    case SL__SQL_OP_SUB:
        return sl_double(l - r);
    case SL__SQL_OP_MUL:
        return sl_double(l * r);
    case SL__SQL_OP_DIV: /* Spark's Divide: NULL for a zero divisor */
        return r == 0.0 ? sl_null() : sl_double(l / r);
    default: /* %: Java's remainder (the dividend's sign) is fmod */
        return r == 0.0 ? sl_null() : sl_double(fmod(l, r));
    }
}

static bool cmp_holds(int op, int c)
{
    switch (op) {
    case SL__SQL_OP_EQ:
    case SL__SQL_OP_NULL_EQ:
        return c == 0;
    case SL__SQL_OP_NE:
        return c != 0;
    case SL__SQL_OP_LT:
        return c < 0;
    case SL__SQL_OP_LE:
        return c <= 0;
    case SL__SQL_OP_GT:
        return c > 0;
    default:
        return c >= 0;
    }
}

/*
 * A value of another kind than its type says (a reader's bug) must not
 * be read as that type: an integer where a double belongs is widened,
 * anything else is NULL. n->value.kind holds the kind (COLUMN, FIELD,
 * INDEX).
 */
static void conform(const sl__sql_node *n, sl_value *v)
{
    if (v->kind != n->value.kind && v->kind != SL_KIND_NULL &&
        n->value.kind != SL_KIND_NULL)
        *v = v->kind == SL_KIND_INT && n->value.kind == SL_KIND_DOUBLE
                 ? sl_double((double)v->u.i)
                 : sl_null();
}

#define KID(p, n, k) ((p)->kids[(n)->kids + (k)])
#define EVAL(k, v)                                                             \
    do {                                                                       \
        sl_status st_ = sl__sql_eval_node(p, KID(p, n, k), row, scratch, v);   \
        if (st_ != SL_OK)                                                      \
            return st_;                                                        \
    } while (0)

/* AND, OR: the right side is skipped once the left decides. */
static sl_status eval_logic(const sl__sql_prog *p, const sl__sql_node *n,
                            const sl_value *row, sl__arena *scratch,
                            sl_value *out)
{
    bool stop = n->code == SL__N_OR; /* the value that decides */
    sl_value l, r;
    EVAL(0, &l);
    if (l.kind == SL_KIND_BOOL && l.u.b == stop) {
        *out = l;
        return SL_OK;
    }
    EVAL(1, &r);
    if (r.kind == SL_KIND_BOOL && r.u.b == stop)
        *out = r;
    else if (l.kind == SL_KIND_NULL || r.kind == SL_KIND_NULL)
        *out = sl_null();
    else
        *out = sl_bool(!stop);
    return SL_OK;
}

static sl_status eval_binary(const sl__sql_prog *p, const sl__sql_node *n,
                             const sl_value *row, sl__arena *scratch,
                             sl_value *out)
{
    sl_value l, r;
    EVAL(0, &l);
    EVAL(1, &r);
    if (n->code == SL__N_CMP && n->op == SL__SQL_OP_NULL_EQ) {
        bool ln = l.kind == SL_KIND_NULL, rn = r.kind == SL_KIND_NULL;
        *out = sl_bool(ln || rn ? ln && rn : sl__sql_compare(&l, &r) == 0);
        return SL_OK;
    }
    if (l.kind == SL_KIND_NULL || r.kind == SL_KIND_NULL)
        *out = sl_null();
    else if (n->code == SL__N_CMP)
        *out = sl_bool(cmp_holds(n->op, sl__sql_compare(&l, &r)));
    else if (n->flag)
        *out = double_arith(n->op, l.u.d, r.u.d);
    else
        *out = long_arith(n->op, l.u.i, r.u.i);
    return SL_OK;
}

SL__SQL_OUT_OF_LINE static sl_status eval_case(const sl__sql_prog *p,
                                               const sl__sql_node *n,
                                               const sl_value *row,
                                               sl__arena *scratch,
                                               sl_value *out)
{
    uint32_t pairs = (n->nkids - n->flag) / 2;
    sl_value w;
    for (uint32_t k = 0; k < pairs; k++) {
        EVAL(2 * k, &w);
        if (w.kind == SL_KIND_BOOL && w.u.b) {
            EVAL(2 * k + 1, out);
            return SL_OK;
        }
    }
    if (n->flag)
        EVAL(n->nkids - 1, out);
    else
        *out = sl_null();
    return SL_OK;
}

/* x IN (items): TRUE on a match; else NULL when x or an item was NULL. */
SL__SQL_OUT_OF_LINE static sl_status eval_in(const sl__sql_prog *p,
                                             const sl__sql_node *n,
                                             const sl_value *row,
                                             sl__arena *scratch, sl_value *out)
{
    sl_value x, v;
    bool saw_null = false;
    EVAL(0, &x);
    *out = sl_null();
    if (x.kind == SL_KIND_NULL)
        return SL_OK;
    for (uint32_t k = 1; k < n->nkids; k++) {
        EVAL(k, &v);
        if (v.kind == SL_KIND_NULL)
            saw_null = true;
        else if (sl__sql_compare(&x, &v) == 0) {
            *out = sl_bool(!n->negated);
            return SL_OK;
        }
    }
    if (!saw_null)
        *out = sl_bool(n->negated);
    return SL_OK;
}

SL__SQL_OUT_OF_LINE static sl_status eval_match(const sl__sql_prog *p,
                                                const sl__sql_node *n,
                                                const sl_value *row,
                                                sl__arena *scratch,
                                                sl_value *out)
{
    sl_value x, pat;
    const void *c = n->state;
    const char *why = NULL;
    int m;
    EVAL(0, &x);
    EVAL(1, &pat);
    *out = sl_null();
    if (x.kind != SL_KIND_STR || pat.kind != SL_KIND_STR)
        return SL_OK;
    if (!c) { /* a pattern that is not constant: compiled per row */
        c = n->code == SL__N_LIKE
                ? sl__sql_like_compile(pat.u.s, pat.len, scratch, &why)
                : sl__sql_regex_compile(pat.u.s, pat.len, scratch, &why);
        if (!c) /* an invalid pattern gives NULL (Spark would fail) */
            return why ? SL_OK : SL_ENOMEM;
    }
    if (n->code == SL__N_LIKE)
        m = sl__sql_like_match(c, x.u.s, x.len);
    else if ((m = sl__sql_regex_find(c, x.u.s, x.len, scratch)) < 0)
        return SL_ENOMEM;
    *out = sl_bool((m != 0) != n->negated);
    return SL_OK;
}

SL__SQL_OUT_OF_LINE static sl_status eval_func(const sl__sql_prog *p,
                                               const sl__sql_node *n,
                                               const sl_value *row,
                                               sl__arena *scratch,
                                               sl_value *out)
{
    sl_value local[SL__SQL_STACK_ARGS], *args = local;
    if (n->nkids > SL__SQL_STACK_ARGS &&
        !(args = sl__arena_alloc(scratch, n->nkids * sizeof *args)))
        return SL_ENOMEM;
    for (uint32_t k = 0; k < n->nkids; k++) {
        EVAL(k, &args[k]);
        if (args[k].kind == SL_KIND_NULL && n->fn->null_in_null_out) {
            *out = sl_null();
            return SL_OK;
        }
    }
    return n->fn->eval(n->state, args, n->nkids, n->type, scratch, out);
}

/* NOT, unary minus, IS NULL, CAST, INDEX, FIELD. */
SL__SQL_OUT_OF_LINE static sl_status eval_unary(const sl__sql_prog *p,
                                                const sl__sql_node *n,
                                                const sl_value *row,
                                                sl__arena *scratch,
                                                sl_value *out)
{
    sl_value x, i;
    EVAL(0, &x);
    if (n->code == SL__N_IS_NULL) {
        *out = sl_bool((x.kind == SL_KIND_NULL) != n->negated);
        return SL_OK;
    }
    if (n->code == SL__N_CAST)
        return sl__sql_cast(&x, n->from, n->type, scratch, out);
    *out = sl_null();
    if (x.kind == SL_KIND_NULL)
        return SL_OK;
    if (n->code == SL__N_NOT)
        *out = sl_bool(!x.u.b);
    else if (n->code == SL__N_NEG)
        *out = x.kind == SL_KIND_DOUBLE
                   ? sl_double(-x.u.d)
                   : sl_int((int64_t)(0 - (uint64_t)x.u.i));
    else if (n->code == SL__N_FIELD) {
        if (sl_kind_is_composite(x.kind) && n->column < x.len)
            *out = x.u.items[n->column];
        conform(n, out);
    } else {
        EVAL(1, &i);
        if (i.kind == SL_KIND_INT && i.u.i >= 0 &&
            sl_kind_is_composite(x.kind) && (uint64_t)i.u.i < x.len)
            *out = x.u.items[i.u.i];
        conform(n, out);
    }
    return SL_OK;
}

sl_status sl__sql_eval_node(const sl__sql_prog *p, uint32_t i,
                            const sl_value *row, sl__arena *scratch,
                            sl_value *out)
{
    const sl__sql_node *n = &p->nodes[i];
    switch ((sl__sql_code)n->code) {
    case SL__N_CONST:
        *out = n->value;
        return SL_OK;
    case SL__N_CLOCK:
        *out = sl_int(atomic_load_explicit((const _Atomic int64_t *)n->state,
                                           memory_order_relaxed));
        return SL_OK;
    case SL__N_COLUMN:
        *out = row[n->column];
        if (out->kind != n->value.kind) /* the call only when it differs */
            conform(n, out);
        return SL_OK;
    case SL__N_IS_NULL: /* of a column (reject_when's checks): no descent */
        if (p->nodes[KID(p, n, 0)].code == SL__N_COLUMN) {
            const sl__sql_node *c = &p->nodes[KID(p, n, 0)];
            sl_value x = row[c->column];
            if (x.kind != c->value.kind)
                conform(c, &x);
            *out = sl_bool((x.kind == SL_KIND_NULL) != n->negated);
            return SL_OK;
        }
        return eval_unary(p, n, row, scratch, out);
    case SL__N_AND:
    case SL__N_OR:
        return eval_logic(p, n, row, scratch, out);
    case SL__N_ARITH:
    case SL__N_CMP:
        return eval_binary(p, n, row, scratch, out);
    case SL__N_CASE:
        return eval_case(p, n, row, scratch, out);
    case SL__N_IN:
        return eval_in(p, n, row, scratch, out);
    case SL__N_LIKE:
    case SL__N_RLIKE:
        return eval_match(p, n, row, scratch, out);
    case SL__N_FUNC:
        return eval_func(p, n, row, scratch, out);
    default:
        return eval_unary(p, n, row, scratch, out);
    }
}

sl_status sl__sql_eval(const sl__sql_prog *p, const sl_value *row,
                       sl__arena *scratch, sl_value *out)
{
    return sl__sql_eval_node(p, p->root, row, scratch, out);
}

const sl_type *sl__sql_prog_type(const sl__sql_prog *p)
{
    return p->nodes[p->root].type;
}

/* ------------------------------------------------------------ building */

static uint32_t kind_of(const sl_type *t)
{
    static const uint32_t kinds[] = {
        [SL_TYPE_NULL] = SL_KIND_NULL,     [SL_TYPE_BOOLEAN] = SL_KIND_BOOL,
        [SL_TYPE_LONG] = SL_KIND_INT,      [SL_TYPE_DOUBLE] = SL_KIND_DOUBLE,
        [SL_TYPE_STRING] = SL_KIND_STR,    [SL_TYPE_BINARY] = SL_KIND_BYTES,
        [SL_TYPE_TIMESTAMP] = SL_KIND_INT, [SL_TYPE_ARRAY] = SL_KIND_LIST,
        [SL_TYPE_STRUCT] = SL_KIND_TUPLE};
    return (size_t)t->id < sizeof kinds / sizeof *kinds ? kinds[t->id]
                                                        : SL_KIND_NULL;
}

static sl_status grow(sl__sql_binder *b, size_t nk)
{
    sl__sql_prog *p = b->p;
    if (p->nnodes == p->cap_nodes) {
        uint32_t cap = p->cap_nodes ? 2 * p->cap_nodes : 16;
        sl__sql_node *nodes = sl__arena_alloc(b->a, cap * sizeof *nodes);
        if (!nodes)
            return SL_ENOMEM;
        if (p->nnodes)
            memcpy(nodes, p->nodes, p->nnodes * sizeof *nodes);
        p->nodes = nodes, p->cap_nodes = cap;
    }
    if (p->nkids + nk > p->cap_kids) {
        size_t cap = 2 * (p->cap_kids + nk) + 16;
        uint32_t *kids = sl__arena_alloc(b->a, cap * sizeof *kids);
        if (!kids)
            return SL_ENOMEM;
        if (p->nkids)
            memcpy(kids, p->kids, p->nkids * sizeof *kids);
        p->kids = kids, p->cap_kids = (uint32_t)cap;
    }
    return SL_OK;
}

sl_status sl__sql_node_add(sl__sql_binder *b, const sl__sql_node *n,
                           const uint32_t *kids, size_t nk, uint32_t *out)
{
    sl__sql_prog *p = b->p;
    sl__sql_node *m;
    /* A clock's value is read per evaluation: never folded. */
    bool fold = n->code != SL__N_CONST && n->code != SL__N_COLUMN &&
                n->code != SL__N_CLOCK;
    sl_value v;
    sl_status st = grow(b, nk);
    if (st != SL_OK)
        return st;
    m = &p->nodes[p->nnodes];
    *m = *n;
    if (m->code == SL__N_COLUMN || m->code == SL__N_FIELD ||
        m->code == SL__N_INDEX) /* the kind its values must have */
        m->value.kind = kind_of(m->type);
    m->kids = p->nkids, m->nkids = (uint32_t)nk;
    for (size_t k = 0; k < nk; k++) {
        p->kids[p->nkids++] = kids[k];
        fold = fold && p->nodes[kids[k]].code == SL__N_CONST;
    }
    *out = p->nnodes++;
    if (!fold)
        return SL_OK;
    /* Constant folding: run the node once now, with the program's arena
     * as scratch so the result lives as long as the program. */
    if ((st = sl__sql_eval_node(p, *out, NULL, b->a, &v)) != SL_OK)
        return st;
    m = &p->nodes[*out];
    m->code = SL__N_CONST, m->value = v, m->nkids = 0;
    return SL_OK;
}

sl_status sl__sql_coerce(sl__sql_binder *b, uint32_t *i, const sl_type *to)
{
    const sl_type *from = sl__sql_ntype(b, *i);
    sl__sql_node n = {0};
    if (from->id == SL_TYPE_NULL || sl_type_equal(from, to)) {
        if (from->id == SL_TYPE_NULL && b->p->nodes[*i].code == SL__N_CONST)
            b->p->nodes[*i].type = to; /* a bare NULL takes any type */
        return SL_OK;
    }
    n.code = SL__N_CAST, n.type = to, n.from = from;
    return sl__sql_node_add(b, &n, i, 1, i);
}

sl_status sl__sql_compile(const sl__sql_expr *x, const sl__sql_scope *scope,
                          sl__arena *a, sl__sql_prog **out, sl__sql_error *e)
{
    sl__sql_binder b = {scope, a, e, NULL, 0};
    sl_status st;
    if (!(b.p = sl__arena_alloc(a, sizeof *b.p)))
        return SL_ENOMEM;
    memset(b.p, 0, sizeof *b.p);
    if ((st = sl__sql_bind(&b, x, &b.p->root)) != SL_OK)
        return st;
    *out = b.p;
    return SL_OK;
}
