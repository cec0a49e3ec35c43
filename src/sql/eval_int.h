/*
 * Internal side of compiled SQL expressions (src/sql/expr.h): the program
 * the binder (bind.c, bind_call.c) builds and the evaluator (eval.c)
 * runs, and LIKE / RLIKE matching (like.c).
 *
 * A program is a flat array of nodes; a node's operands are other nodes,
 * named by indexes into the kids array (kids[node.kids .. + node.nkids)).
 * The binder appends operands before the node that uses them, so the
 * root is the last node built. Nodes whose operands are all constants
 * are folded into a constant as they are added. A program points into
 * its own arena only (literals are copied), never into the syntax tree.
 */
#ifndef SL_SQL_EVAL_INT_H
#define SL_SQL_EVAL_INT_H

#include "sql/expr.h"

#include <stdint.h>

typedef enum sl__sql_code {
    SL__N_CONST,   /* value */
    SL__N_COLUMN,  /* row[column] */
    SL__N_CAST,    /* kid 0 from `from` to `type` (sl__sql_cast) */
    SL__N_NOT,     /* three-valued NOT */
    SL__N_NEG,     /* unary minus: long (wraps) or double */
    SL__N_AND,     /* three-valued, right side skipped after FALSE */
    SL__N_OR,      /* three-valued, right side skipped after TRUE */
    SL__N_ARITH,   /* op on two longs or (dbl) two doubles */
    SL__N_CMP,     /* op (= <=> <> < <= > >=) on two values of one type */
    SL__N_IS_NULL, /* negated: IS NOT NULL */
    SL__N_CASE,    /* when1, then1, ... [else] (flag: has else) */
    SL__N_IN,      /* x, items...; negated: NOT IN */
    SL__N_LIKE,    /* x, pattern; state: the compiled constant pattern */
    SL__N_RLIKE,   /* x, pattern; state: the compiled constant regex */
    SL__N_INDEX,   /* array, index (0-based) */
    SL__N_FIELD,   /* struct; column: the field's index */
    SL__N_FUNC,    /* fn over the kids; state: what fn->prepare made */
    SL__N_CLOCK    /* a timestamp: *state, an _Atomic int64_t (ms) */
} sl__sql_code;

typedef struct sl__sql_node {
    uint8_t code; /* sl__sql_code */
    uint8_t op;   /* sl__sql_op: ARITH, CMP */
    bool negated; /* IS NOT NULL, NOT IN, NOT LIKE, NOT RLIKE */
    bool flag;    /* ARITH: on doubles; CASE: has an ELSE */
    uint32_t kids, nkids;
    const sl_type *type; /* the result type */
    const sl_type *from; /* CAST: the operand's type */
    sl_value value;      /* CONST */
    size_t column;       /* COLUMN, FIELD */
    const sl__sql_func *fn;
    const void *state;
} sl__sql_node;

struct sl__sql_prog {
    sl__sql_node *nodes;
    uint32_t *kids;
    uint32_t nnodes, nkids, root;
    uint32_t cap_nodes, cap_kids; /* while compiling */
};

/*
 * How deep an expression may nest. The parser bounds parentheses, but a
 * chain of left-associative operators (a + a + ... + a) is a loop there
 * and a tree as deep as it is long here; the binder and the evaluator
 * recurse over it, so a limit keeps any text from exhausting the stack
 * (a few hundred bytes a level: under 1 MiB at the limit).
 */
#define SL__SQL_MAX_NEST 1000

/* What the binder carries through one compile. */
typedef struct sl__sql_binder {
    const sl__sql_scope *scope;
    sl__arena *a;
    sl__sql_error *e;
    sl__sql_prog *p;
    unsigned depth; /* sl__sql_bind calls in progress */
} sl__sql_binder;

/* Bind x (and its operands) into a new node: its index in *out. */
sl_status sl__sql_bind(sl__sql_binder *b, const sl__sql_expr *x, uint32_t *out);
/* Bind a function call, CAST, LIKE or RLIKE (bind_call.c). */
sl_status sl__sql_bind_call(sl__sql_binder *b, const sl__sql_expr *x,
                            uint32_t *out);
sl_status sl__sql_bind_cast(sl__sql_binder *b, const sl__sql_expr *x,
                            uint32_t *out);
sl_status sl__sql_bind_like(sl__sql_binder *b, const sl__sql_expr *x,
                            uint32_t *out);
/*
 * Append node n with operands kids[0..nk) and fold it into a constant
 * when every operand is one; *out its index. SL_ENOMEM.
 */
sl_status sl__sql_node_add(sl__sql_binder *b, const sl__sql_node *n,
                           const uint32_t *kids, size_t nk, uint32_t *out);
/* Cast node *i to `to` when its type differs (a bare NULL stays). */
sl_status sl__sql_coerce(sl__sql_binder *b, uint32_t *i, const sl_type *to);
/* The type of node i. */
static inline const sl_type *sl__sql_ntype(const sl__sql_binder *b, uint32_t i)
{
    return b->p->nodes[i].type;
}
/*
 * "cannot resolve '<x as SQL>' due to data type mismatch: <detail>" at
 * x's offset; SL_EPARSE.
 */
sl_status sl__sql_mismatch(sl__sql_binder *b, const sl__sql_expr *x,
                           const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A type's DDL name in buf (for messages); returns buf. */
const char *sl__sql_tname(const sl_type *t, char *buf, size_t n);

/* Evaluate node i of p (eval.c). */
sl_status sl__sql_eval_node(const sl__sql_prog *p, uint32_t i,
                            const sl_value *row, sl__arena *scratch,
                            sl_value *out);

/* ----------------------------------------------------- LIKE and RLIKE */

/*
 * A LIKE pattern compiled (escapes resolved) into scratch or the
 * program's arena. NULL with *why for an invalid pattern (a backslash
 * before anything but %, _ or a backslash, or at the end), NULL without
 * *why when out of memory.
 */
const void *sl__sql_like_compile(const char *pat, size_t n, sl__arena *a,
                                 const char **why);
/* Whether s[0..n) matches a compiled pattern. */
bool sl__sql_like_match(const void *pattern, const char *s, size_t n);
/* A compiled regular expression (freed by a's cleanup); NULL with *why
 * (in a) when invalid, without when out of memory. */
const void *sl__sql_regex_compile(const char *pat, size_t n, sl__arena *a,
                                  const char **why);
/* Whether re finds a match in s[0..n) (Java's Matcher.find, as Spark's
 * RLIKE): 1 yes, 0 no, -1 out of memory. Match data goes into scratch. */
int sl__sql_regex_find(const void *re, const char *s, size_t n,
                       sl__arena *scratch);

#endif /* SL_SQL_EVAL_INT_H */
