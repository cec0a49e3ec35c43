/*
 * SQL expressions, by Spark SQL 3.5's precedence (loosest first): OR,
 * AND, NOT, comparisons with IS / IN / BETWEEN / LIKE / RLIKE, |, ^, &,
 * + - ||, * / % div, unary - +, then postfix [i] and .field. Binary
 * operators associate to the left and are parsed by loops; recursion
 * happens only through nesting, which is bounded (SL__SQL_MAX_DEPTH).
 */
#include "sql/parser_int.h"

#include <string.h>

sl__sql_expr *sl__sql_p_mk(sl__sql_parser *p, sl__sql_expr_kind kind,
                           size_t offset, size_t nargs)
{
    sl__sql_expr *x = sl__sql_p_alloc(p, sizeof *x);
    if (!x)
        return NULL;
    x->kind = kind;
    x->offset = offset;
    x->nargs = nargs;
    if (nargs && !(x->args = sl__sql_p_alloc(p, nargs * sizeof *x->args)))
        return NULL;
    return x;
}

sl__sql_expr *sl__sql_p_literal(sl__sql_parser *p, size_t offset, sl_value v,
                                sl_type_id t)
{
    sl__sql_expr *x = sl__sql_p_mk(p, SL__SQL_LITERAL, offset, 0);
    if (x) {
        x->value = v;
        x->type = sl_type_scalar(t);
    }
    return x;
}

/* Append x to the arena array *arr of *n items (capacity *cap). */
sl_status sl__sql_p_push(sl__sql_parser *p, sl__sql_expr ***arr, size_t *n,
                         size_t *cap, sl__sql_expr *x)
{
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 4;
        sl__sql_expr **grown = sl__sql_p_alloc(p, c * sizeof *grown);
        if (!grown)
            return SL_ENOMEM;
        if (*n)
            memcpy(grown, *arr, *n * sizeof *grown);
        *arr = grown;
        *cap = c;
    }
    (*arr)[(*n)++] = x;
    return SL_OK;
}

/* ------------------------------------------------------ binary levels */

typedef struct binop {
    const char *tok; /* punctuation, or a keyword in upper case */
    bool kw;
    sl__sql_op op;
} binop;

enum { LV_OR, LV_AND, LV_BITOR, LV_BITXOR, LV_BITAND, LV_ADD, LV_MUL, LV_N };

static const binop levels[LV_N][4] = {{{"OR", true, SL__SQL_OP_OR}},
                                      {{"AND", true, SL__SQL_OP_AND}},
                                      {{"|", false, SL__SQL_OP_BITOR}},
                                      {{"^", false, SL__SQL_OP_BITXOR}},
                                      {{"&", false, SL__SQL_OP_BITAND}},
                                      {{"+", false, SL__SQL_OP_ADD},
                                       {"-", false, SL__SQL_OP_SUB},
                                       {"||", false, SL__SQL_OP_CONCAT}},
                                      {{"*", false, SL__SQL_OP_MUL},
                                       {"/", false, SL__SQL_OP_DIV},
                                       {"%", false, SL__SQL_OP_MOD},
                                       {"DIV", true, SL__SQL_OP_IDIV}}};

static const binop compare_ops[] = {
    {"=", false, SL__SQL_OP_EQ},        {"==", false, SL__SQL_OP_EQ},
    {"<=>", false, SL__SQL_OP_NULL_EQ}, {"<>", false, SL__SQL_OP_NE},
    {"!=", false, SL__SQL_OP_NE},       {"<", false, SL__SQL_OP_LT},
    {"<=", false, SL__SQL_OP_LE},       {">", false, SL__SQL_OP_GT},
    {">=", false, SL__SQL_OP_GE},       {NULL, false, SL__SQL_OP_NONE}};

static sl__sql_op match_op(sl__sql_parser *p, const binop *ops, size_t n)
{
    for (size_t i = 0; i < n && ops[i].tok; i++)
        if (ops[i].kw ? sl__sql_p_kw(p, ops[i].tok)
                      : sl__sql_p_is(p, ops[i].tok))
            return ops[i].op;
    return SL__SQL_OP_NONE;
}

static sl_status not_expr(sl__sql_parser *p, sl__sql_expr **out);
static sl_status unary(sl__sql_parser *p, sl__sql_expr **out);

static sl_status binary(sl__sql_parser *p, int lv, sl__sql_expr **out);

static sl_status operand(sl__sql_parser *p, int lv, sl__sql_expr **out)
{
    if (lv == LV_AND)
        return not_expr(p, out);
    if (lv == LV_MUL)
        return unary(p, out);
    return binary(p, lv + 1, out);
}

static sl_status make_binary(sl__sql_parser *p, sl__sql_op op,
                             sl__sql_expr **left, sl__sql_expr *right)
{
    sl__sql_expr *x = sl__sql_p_mk(p, SL__SQL_BINARY, (*left)->offset, 2);
    if (!x)
        return SL_ENOMEM;
    x->op = op;
    x->args[0] = *left;
    x->args[1] = right;
    x->end = right->end;
    *left = x;
    return SL_OK;
}

static sl_status binary(sl__sql_parser *p, int lv, sl__sql_expr **out)
{
    sl__sql_expr *right;
    sl__sql_op op;
    sl_status st = operand(p, lv, out);

    while (st == SL_OK && (op = match_op(p, levels[lv], 4))) {
        if ((st = sl__sql_p_next(p)) != SL_OK ||
            (st = operand(p, lv, &right)) != SL_OK)
            break;
        st = make_binary(p, op, out, right);
    }
    return st;
}

/* ------------------------------------------------------- predicates */

/* arg [NOT] IN ( e, ... ) after IN. */
static sl_status in_list(sl__sql_parser *p, sl__sql_expr **x)
{
    sl__sql_expr **args = NULL, *e;
    size_t n = 0, cap = 0;
    sl_status st = sl__sql_p_expect(p, "(");
    bool more = true;

    if (st == SL_OK && sl__sql_p_kw(p, "SELECT"))
        return sl__sql_error_set(p->e, p->tok[0].offset,
                                 "IN (sub-query) is not supported");
    if (st == SL_OK)
        st = sl__sql_p_push(p, &args, &n, &cap, (*x)->args[0]);
    while (st == SL_OK && more) {
        if ((st = sl__sql_p_expr(p, &e)) != SL_OK ||
            (st = sl__sql_p_push(p, &args, &n, &cap, e)) != SL_OK ||
            (st = sl__sql_p_accept(p, ",", &more)) != SL_OK)
            return st;
    }
    if (st == SL_OK && (st = sl__sql_p_expect(p, ")")) == SL_OK) {
        (*x)->args = args;
        (*x)->nargs = n;
    }
    return st;
}

/* The predicate after NOT's position: IN, BETWEEN, LIKE, RLIKE/REGEXP. */
static sl_status predicate(sl__sql_parser *p, sl__sql_expr **left, bool negated)
{
    static const char *const kws[] = {"IN", "BETWEEN", "LIKE", "RLIKE",
                                      "REGEXP"};
    static const sl__sql_expr_kind kinds[] = {SL__SQL_IN, SL__SQL_BETWEEN,
                                              SL__SQL_LIKE, SL__SQL_RLIKE,
                                              SL__SQL_RLIKE};
    size_t k;
    sl__sql_expr *x;
    sl_status st;

    for (k = 0; k < 5 && !sl__sql_p_kw(p, kws[k]); k++)
        ;
    if (k == 5)
        return sl__sql_p_expected(p, "IN, BETWEEN, LIKE or RLIKE after NOT");
    if ((st = sl__sql_p_next(p)) != SL_OK)
        return st;
    x = sl__sql_p_mk(p, kinds[k], (*left)->offset,
                     kinds[k] == SL__SQL_BETWEEN ? 3 : 2);
    if (!x)
        return SL_ENOMEM;
    x->negated = negated;
    x->args[0] = *left;
    if (kinds[k] == SL__SQL_IN)
        st = in_list(p, &x);
    else if ((st = binary(p, LV_BITOR, &x->args[1])) == SL_OK &&
             kinds[k] == SL__SQL_BETWEEN &&
             (st = sl__sql_p_expect_kw(p, "AND")) == SL_OK)
        st = binary(p, LV_BITOR, &x->args[2]);
    x->end = p->prev_end;
    *left = x;
    return st;
}

/* arg IS [NOT] NULL after IS. */
static sl_status is_null(sl__sql_parser *p, sl__sql_expr **left)
{
    bool neg;
    sl__sql_expr *x;
    sl_status st = sl__sql_p_accept_kw(p, "NOT", &neg);

    if (st == SL_OK && !sl__sql_p_kw(p, "NULL"))
        return sl__sql_p_expected(p, neg ? "NULL after IS NOT"
                                         : "NULL or NOT after IS");
    if (st != SL_OK || (st = sl__sql_p_next(p)) != SL_OK)
        return st;
    if (!(x = sl__sql_p_mk(p, SL__SQL_IS_NULL, (*left)->offset, 1)))
        return SL_ENOMEM;
    x->negated = neg;
    x->args[0] = *left;
    x->end = p->prev_end;
    *left = x;
    return SL_OK;
}

/* A value followed by comparisons and predicates, left to right (Spark
 * puts them at one level: a = b IS NULL is (a = b) IS NULL). */
static sl_status comparison(sl__sql_parser *p, sl__sql_expr **out)
{
    sl__sql_expr *right;
    sl__sql_op op;
    sl_status st = binary(p, LV_BITOR, out);

    while (st == SL_OK) {
        if ((op = match_op(p, compare_ops, 16))) {
            if ((st = sl__sql_p_next(p)) != SL_OK ||
                (st = binary(p, LV_BITOR, &right)) != SL_OK)
                break;
            st = make_binary(p, op, out, right);
        } else if (sl__sql_p_kw(p, "IS")) {
            if ((st = sl__sql_p_next(p)) == SL_OK)
                st = is_null(p, out);
        } else if (sl__sql_p_kw(p, "NOT")) {
            /* NOT here belongs to a predicate (x NOT IN ...). */
            if ((st = sl__sql_p_next(p)) == SL_OK)
                st = predicate(p, out, true);
        } else if (sl__sql_p_kw(p, "IN") || sl__sql_p_kw(p, "BETWEEN") ||
                   sl__sql_p_kw(p, "LIKE") || sl__sql_p_kw(p, "RLIKE") ||
                   sl__sql_p_kw(p, "REGEXP")) {
            st = predicate(p, out, false);
        } else {
            break;
        }
    }
    return st;
}

static sl_status not_expr(sl__sql_parser *p, sl__sql_expr **out)
{
    size_t off = p->tok[0].offset;
    sl__sql_expr *x;
    sl_status st;

    if (!sl__sql_p_kw(p, "NOT"))
        return comparison(p, out);
    if ((st = sl__sql_p_enter(p, off)) != SL_OK ||
        (st = sl__sql_p_next(p)) != SL_OK)
        return st;
    if (!(x = sl__sql_p_mk(p, SL__SQL_UNARY, off, 1)))
        return SL_ENOMEM;
    x->op = SL__SQL_OP_NOT;
    st = not_expr(p, &x->args[0]);
    x->end = p->prev_end;
    *out = x;
    p->depth--;
    return st;
}

/* ------------------------------------------------------ unary, postfix */

/* x[i] and x.field after a primary. */
static sl_status postfix(sl__sql_parser *p, sl__sql_expr **out)
{
    sl__sql_expr *x;
    sl__sql_token *t;
    sl_status st = sl__sql_p_primary(p, out);
    bool idx;

    while (st == SL_OK &&
           ((idx = sl__sql_p_is(p, "[")) || sl__sql_p_is(p, "."))) {
        if ((st = sl__sql_p_next(p)) != SL_OK)
            break;
        if (!(x = sl__sql_p_mk(p, idx ? SL__SQL_INDEX : SL__SQL_FIELD,
                               (*out)->offset, idx ? 2 : 1)))
            return SL_ENOMEM;
        x->args[0] = *out;
        if (idx) {
            if ((st = sl__sql_p_expr(p, &x->args[1])) == SL_OK)
                st = sl__sql_p_expect(p, "]");
        } else {
            t = &p->tok[0];
            /* After a dot any word names a field: window.end. */
            if (t->kind != SL__TK_IDENT && t->kind != SL__TK_QIDENT)
                return sl__sql_p_expected(p, "a field name after '.'");
            x->name = t->kind == SL__TK_QIDENT
                          ? t->s
                          : sl__arena_memdup(p->a, p->lx.text + t->offset,
                                             t->len + 1);
            if (!x->name)
                return SL_ENOMEM;
            if (t->kind == SL__TK_IDENT)
                ((char *)x->name)[t->len] = '\0';
            st = sl__sql_p_next(p);
        }
        x->end = p->prev_end;
        *out = x;
    }
    return st;
}

/* -9223372036854775808 is a long, as in Spark. */
static bool is_min_long(sl__sql_parser *p, const sl__sql_expr *x)
{
    static const char min[] = "9223372036854775808";
    return x->end - x->offset == sizeof min - 1 &&
           memcmp(p->lx.text + x->offset, min, sizeof min - 1) == 0;
}

/* Fold - before a number literal into the literal. */
static void fold_negation(sl__sql_parser *p, sl__sql_expr **x)
{
    sl__sql_expr *lit = (*x)->args[0];
    if (lit->kind != SL__SQL_LITERAL || (*x)->op != SL__SQL_OP_NEG)
        return;
    if (lit->value.kind == SL_KIND_INT && lit->value.u.i == INT64_MIN)
        return; /* its negation is no long: left to the evaluator */
    if (lit->value.kind == SL_KIND_INT)
        lit->value.u.i = -lit->value.u.i;
    else if (lit->value.kind == SL_KIND_DOUBLE && is_min_long(p, lit)) {
        lit->value = sl_int(INT64_MIN);
        lit->type = sl_type_scalar(SL_TYPE_LONG);
    } else if (lit->value.kind == SL_KIND_DOUBLE)
        lit->value.u.d = -lit->value.u.d;
    else
        return;
    lit->offset = (*x)->offset;
    *x = lit;
}

static sl_status unary(sl__sql_parser *p, sl__sql_expr **out)
{
    size_t off = p->tok[0].offset;
    bool neg = sl__sql_p_is(p, "-");
    sl__sql_expr *x;
    sl_status st;

    if (!neg && !sl__sql_p_is(p, "+"))
        return postfix(p, out);
    if ((st = sl__sql_p_enter(p, off)) != SL_OK ||
        (st = sl__sql_p_next(p)) != SL_OK)
        return st;
    if (!(x = sl__sql_p_mk(p, SL__SQL_UNARY, off, 1)))
        return SL_ENOMEM;
    x->op = neg ? SL__SQL_OP_NEG : SL__SQL_OP_PLUS;
    if ((st = unary(p, &x->args[0])) == SL_OK) {
        x->end = p->prev_end;
        fold_negation(p, &x);
    }
    *out = x;
    p->depth--;
    return st;
}

sl_status sl__sql_p_expr(sl__sql_parser *p, sl__sql_expr **out)
{
    sl_status st = sl__sql_p_enter(p, p->tok[0].offset);
    if (st == SL_OK)
        st = binary(p, LV_OR, out);
    p->depth--;
    return st;
}
