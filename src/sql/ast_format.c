/*
 * The SQL syntax tree as canonical S-expression text (ast.h): one form
 * per node, operands in order, names backquoted when they are not plain
 * words. Used by the parser's tests and for explaining plans.
 */
#include "sql/ast.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

typedef struct out {
    char *buf;
    size_t n, len;
} out;

static void put(out *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void put(out *o, const char *fmt, ...)
{
    va_list ap;
    int w;
    va_start(ap, fmt);
    w = vsnprintf(o->len < o->n ? o->buf + o->len : NULL,
                  o->len < o->n ? o->n - o->len : 0, fmt, ap);
    va_end(ap);
    if (w > 0)
        o->len += (size_t)w;
}

static void name(out *o, const char *s)
{
    bool plain =
        (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_';
    for (const char *c = s; *c && plain; c++)
        plain = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                *c == '_' || (*c >= '0' && *c <= '9');
    if (plain) {
        put(o, "%s", s);
        return;
    }
    put(o, "`");
    for (; *s; s++)
        put(o, *s == '`' ? "``" : "%c", *s);
    put(o, "`");
}

static void literal(out *o, const sl_value *v)
{
    switch (v->kind) {
    case SL_KIND_NULL:
        put(o, "NULL");
        break;
    case SL_KIND_BOOL:
        put(o, v->u.b ? "TRUE" : "FALSE");
        break;
    case SL_KIND_INT:
        put(o, "%" PRId64, v->u.i);
        break;
    case SL_KIND_DOUBLE:
        /* Always with a '.' or exponent, so it never reads as a long. */
        put(o,
            fabs(v->u.d) < 1e15 && v->u.d == floor(v->u.d) ? "%.1f" : "%.17g",
            v->u.d);
        break;
    case SL_KIND_STR:
        put(o, "'");
        for (uint32_t i = 0; i < v->len; i++) {
            unsigned char c = (unsigned char)v->u.s[i];
            if (c == '\'' || c == '\\')
                put(o, "\\%c", c);
            else if (c < 0x20)
                put(o, "\\u%04x", c);
            else
                put(o, "%c", c);
        }
        put(o, "'");
        break;
    default: /* SL_KIND_BYTES */
        put(o, "X'");
        for (uint32_t i = 0; i < v->len; i++)
            put(o, "%02X", (unsigned char)v->u.s[i]);
        put(o, "'");
    }
}

static const char *const op_text[] = {
    "?",  "not", "-", "+", "or", "and", "=", "<=>", "<>", "<", "<=", ">",
    ">=", "+",   "-", "*", "/",  "div", "%", "||",  "&",  "|", "^"};

static const char *const kind_text[] = {
    NULL,      NULL, NULL,      NULL,   NULL,    "call",  "case",  "cast",
    "is-null", "in", "between", "like", "rlike", "index", "field", "interval"};

static void expr(out *o, const sl__sql_expr *x);

static void args(out *o, const sl__sql_expr *x, size_t from)
{
    for (size_t i = from; i < x->nargs; i++) {
        put(o, " ");
        expr(o, x->args[i]);
    }
}

static void case_expr(out *o, const sl__sql_expr *x)
{
    size_t i = 0, pairs = (x->nargs - x->has_operand - x->has_else) / 2;
    put(o, "(case");
    if (x->has_operand) {
        put(o, " ");
        expr(o, x->args[i++]);
    }
    for (size_t k = 0; k < pairs; k++, i += 2) {
        put(o, " (when ");
        expr(o, x->args[i]);
        put(o, " ");
        expr(o, x->args[i + 1]);
        put(o, ")");
    }
    if (x->has_else) {
        put(o, " (else ");
        expr(o, x->args[i]);
        put(o, ")");
    }
    put(o, ")");
}

static void qualified(out *o, const sl__sql_expr *x)
{
    if (x->qualifier) {
        name(o, x->qualifier);
        put(o, ".");
    }
    if (x->kind == SL__SQL_STAR)
        put(o, "*");
    else
        name(o, x->name);
}

/* " (over (partition a b) (order ts) (range (interval 1000)) (exclude
 * group))": every part, so that different windows never share a call. */
static void over(out *o, const sl__sql_window *w)
{
    static const char *const excl[] = {"no-others", "current-row", "group",
                                       "ties"};
    put(o, " (over (partition");
    for (size_t i = 0; i < w->npartition; i++) {
        put(o, " ");
        expr(o, w->partition[i]);
    }
    put(o, ")");
    if (w->order) {
        put(o, " (order ");
        expr(o, w->order);
        put(o, ")");
    }
    put(o, " (%s ", w->rows ? "rows" : "range");
    if (w->preceding)
        expr(o, w->preceding);
    else
        put(o, "unbounded");
    put(o, ") (exclude %s))", excl[w->exclude]);
}

static void expr(out *o, const sl__sql_expr *x)
{
    switch (x->kind) {
    case SL__SQL_LITERAL:
        literal(o, &x->value);
        return;
    case SL__SQL_COLUMN:
    case SL__SQL_STAR:
        qualified(o, x);
        return;
    case SL__SQL_CASE:
        case_expr(o, x);
        return;
    case SL__SQL_INTERVAL:
        put(o, "(interval %" PRId64 ")", x->value.u.i);
        return;
    case SL__SQL_UNARY:
    case SL__SQL_BINARY:
        put(o, "(%s", op_text[x->op]);
        break;
    default:
        put(o, "(%s%s", x->negated ? "not-" : "", kind_text[x->kind]);
    }
    if (x->kind == SL__SQL_FUNC) {
        put(o, " ");
        name(o, x->name);
        if (x->distinct)
            put(o, " distinct");
    }
    args(o, x, 0);
    if (x->kind == SL__SQL_FUNC && x->over)
        over(o, x->over);
    if (x->kind == SL__SQL_CAST)
        put(o, " \"%s\"", x->type_text);
    if (x->kind == SL__SQL_FIELD) {
        put(o, " ");
        name(o, x->name);
    }
    put(o, ")");
}

static void query(out *o, const sl__sql_query *q);

static void from(out *o, const sl__sql_from *f)
{
    if (f->kind == SL__SQL_FROM_JOIN) {
        put(o, "(%s ", f->join == SL__SQL_JOIN_LEFT ? "left-join" : "join");
        from(o, f->left);
        put(o, " ");
        from(o, f->right);
        put(o, " ");
        expr(o, f->on);
        put(o, ")");
        return;
    }
    if (f->alias)
        put(o, "(as ");
    if (f->kind == SL__SQL_FROM_NAME && f->wm_column) {
        put(o, "(watermark ");
        name(o, f->name);
        put(o, " ");
        name(o, f->wm_column);
        put(o, " %lld)", (long long)f->wm_delay_ms);
    } else if (f->kind == SL__SQL_FROM_NAME) {
        name(o, f->name);
    } else {
        query(o, f->subquery);
    }
    if (f->alias) {
        put(o, " ");
        name(o, f->alias);
        put(o, ")");
    }
}

static void select_body(out *o, const sl__sql_query *q)
{
    put(o, "(select%s (items", q->distinct ? " distinct" : "");
    for (size_t i = 0; i < q->nitems; i++) {
        put(o, q->items[i].alias ? " (as " : " ");
        expr(o, q->items[i].expr);
        if (q->items[i].alias) {
            put(o, " ");
            name(o, q->items[i].alias);
            put(o, ")");
        }
    }
    put(o, ")");
    if (q->from) {
        put(o, " (from ");
        from(o, q->from);
        put(o, ")");
    }
    if (q->where) {
        put(o, " (where ");
        expr(o, q->where);
        put(o, ")");
    }
    if (q->ngroup_by) {
        put(o, " (group-by");
        for (size_t i = 0; i < q->ngroup_by; i++) {
            put(o, " ");
            expr(o, q->group_by[i]);
        }
        put(o, ")");
    }
    if (q->having) {
        put(o, " (having ");
        expr(o, q->having);
        put(o, ")");
    }
}

static void query(out *o, const sl__sql_query *q)
{
    if (q->kind == SL__SQL_UNION_ALL) {
        put(o, "(union-all ");
        query(o, q->left);
        put(o, " ");
        query(o, q->right);
    } else {
        select_body(o, q);
    }
    if (q->norder_by) {
        put(o, " (order-by");
        for (size_t i = 0; i < q->norder_by; i++) {
            put(o, " (%s ", q->order_by[i].desc ? "desc" : "asc");
            expr(o, q->order_by[i].expr);
            put(o, " %s)",
                q->order_by[i].nulls_first ? "nulls-first" : "nulls-last");
        }
        put(o, ")");
    }
    if (q->limit >= 0)
        put(o, " (limit %" PRId64 ")", q->limit);
    put(o, ")");
}

size_t sl__sql_ast_format(const sl__sql_query *q, char *buf, size_t n)
{
    out o = {buf, n, 0};
    if (n)
        buf[0] = '\0';
    query(&o, q);
    return o.len;
}

size_t sl__sql_expr_format(const sl__sql_expr *x, char *buf, size_t n)
{
    out o = {buf, n, 0};
    if (n)
        buf[0] = '\0';
    expr(&o, x);
    return o.len;
}
