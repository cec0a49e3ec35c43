/*
 * The oracle harness (see oracle_harness.h): loading the vectors, turning
 * JSON into values and values into canonical JSON text, running a case on
 * the manual clock and comparing what it produced with Spark's assertions.
 */
#include "oracle_harness.h"

#include "sl_test.h"
#include "sl_test_util.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef SL_ORACLE_VECTORS
#define SL_ORACLE_VECTORS "spark_vectors.json"
#endif

/* slice() must reach back over every batch a case runs. */
#define REMEMBER_MS (24 * 3600 * INT64_C(1000))
#define MAX_CASES 128
#define MAX_EXCLUSIONS 32
/* A case runs a few batches back to back; this long means a hang. */
#define HANG_MS 30000

/* ------------------------------------------------- strings and lists */

typedef struct sbuf {
    char *p;
    size_t n, cap;
} sbuf;

typedef struct strvec {
    char **v;
    size_t n, cap;
} strvec;

static void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p) {
        fprintf(stderr, "oracle: out of memory\n");
        abort();
    }
    return p;
}

static char *xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    return memcpy(xrealloc(NULL, n), s, n);
}

static void sb_put(sbuf *b, const char *s, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        b->cap = b->cap ? b->cap : 64;
        while (b->cap < b->n + n + 1)
            b->cap *= 2;
        b->p = xrealloc(b->p, b->cap);
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

static void sb_puts(sbuf *b, const char *s)
{
    sb_put(b, s, strlen(s));
}

static void sb_printf(sbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void sb_printf(sbuf *b, const char *fmt, ...)
{
    va_list ap;
    int n;
    char *tmp;
    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n <= 0)
        return;
    tmp = xrealloc(NULL, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(tmp, (size_t)n + 1, fmt, ap);
    va_end(ap);
    sb_put(b, tmp, (size_t)n);
    free(tmp);
}

static void sb_free(sbuf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

static const char *sb_str(const sbuf *b)
{
    return b->p ? b->p : "";
}

/* Append s (owned from now on). */
static void sv_push(strvec *s, char *str)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 8;
        s->v = xrealloc(s->v, s->cap * sizeof *s->v);
    }
    s->v[s->n++] = str;
}

static void sv_free(strvec *s)
{
    size_t i;
    for (i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
    memset(s, 0, sizeof *s);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void sv_sort(strvec *s)
{
    if (s->n > 1)
        qsort(s->v, s->n, sizeof *s->v, cmp_str);
}

static bool sv_equal(const strvec *a, const strvec *b)
{
    size_t i;
    if (a->n != b->n)
        return false;
    for (i = 0; i < a->n; i++)
        if (strcmp(a->v[i], b->v[i]) != 0)
            return false;
    return true;
}

/* "[a,b,c]" for messages. */
static void sv_print(sbuf *b, const strvec *s)
{
    size_t i;
    sb_puts(b, "[");
    for (i = 0; i < s->n; i++) {
        if (i)
            sb_puts(b, ",");
        sb_puts(b, s->v[i]);
    }
    sb_puts(b, "]");
}

/* ------------------------------------------------- canonical JSON text */

/*
 * Expected records are printed from the parsed JSON by this printer, which
 * writes what sl_value_format_json writes for the same value (no spaces,
 * integers bare, the same string escapes), so the two sides compare as
 * text without going through the engine's formatter twice.
 */
static void canon_string(sbuf *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    sb_puts(b, "\"");
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
        if (c == '"' || c == '\\') {
            esc[1] = (char)c;
            sb_put(b, esc, 2);
        } else if (c == '\n' || c == '\t' || c == '\r') {
            esc[1] = c == '\n' ? 'n' : c == '\t' ? 't' : 'r';
            sb_put(b, esc, 2);
        } else if (c < 0x20) {
            sb_put(b, esc, 6);
        } else {
            sb_put(b, s, 1);
        }
    }
    sb_puts(b, "\"");
}

static bool is_integral(double d)
{
    return d == floor(d) && fabs(d) < 9007199254740992.0;
}

static void canon_number(sbuf *b, double d)
{
    char tmp[40];
    int prec;
    if (is_integral(d)) {
        sb_printf(b, "%" PRId64, (int64_t)d);
        return;
    }
    for (prec = 1; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, d);
        if (strtod(tmp, NULL) == d)
            break;
    }
    sb_puts(b, tmp);
}

static void canon_json(sbuf *b, const cJSON *j)
{
    const cJSON *it;
    if (cJSON_IsNumber(j)) {
        canon_number(b, j->valuedouble);
    } else if (cJSON_IsString(j)) {
        canon_string(b, j->valuestring);
    } else if (cJSON_IsBool(j)) {
        sb_puts(b, cJSON_IsTrue(j) ? "true" : "false");
    } else if (cJSON_IsArray(j)) {
        sb_puts(b, "[");
        cJSON_ArrayForEach(it, j)
        {
            if (it != j->child)
                sb_puts(b, ",");
            canon_json(b, it);
        }
        sb_puts(b, "]");
    } else {
        sb_puts(b, "null");
    }
}

/*
 * Canonical text of one record. With values_as_set (value_compare
 * "set_of_values": Spark's test turns each grouped value list into a set)
 * the value list of a (key, [values]) pair is printed sorted and without
 * duplicates.
 */
static char *canon_record(const cJSON *j, bool values_as_set)
{
    sbuf b = {0};
    const cJSON *vals = cJSON_GetArrayItem(j, 1), *it;
    strvec items = {0};
    size_t i;
    if (!values_as_set || !cJSON_IsArray(j) || cJSON_GetArraySize(j) != 2 ||
        !cJSON_IsArray(vals)) {
        canon_json(&b, j);
        return b.p ? b.p : xstrdup("");
    }
    cJSON_ArrayForEach(it, vals)
    {
        sbuf one = {0};
        canon_json(&one, it);
        sv_push(&items, one.p);
    }
    sv_sort(&items);
    sb_puts(&b, "[");
    canon_json(&b, cJSON_GetArrayItem(j, 0));
    sb_puts(&b, ",[");
    for (i = 0; i < items.n; i++)
        if (i == 0 || strcmp(items.v[i], items.v[i - 1]) != 0)
            sb_printf(&b, "%s%s", i ? "," : "", items.v[i]);
    sb_puts(&b, "]]");
    sv_free(&items);
    return b.p;
}

/* The canonical records of one expected batch (a JSON array). */
static void canon_batch(const cJSON *batch, bool values_as_set, strvec *out)
{
    const cJSON *rec;
    cJSON_ArrayForEach(rec, batch)
    {
        sv_push(out, canon_record(rec, values_as_set));
    }
}

/* A value as sl_value_format_json prints it (malloc'd). */
static char *format_value(const sl_value *v)
{
    char tmp[256];
    size_t n = sl_value_format_json(v, tmp, sizeof tmp);
    char *s;
    if (n < sizeof tmp)
        return xstrdup(tmp);
    s = xrealloc(NULL, n + 1);
    sl_value_format_json(v, s, n + 1);
    return s;
}

/* ------------------------------------------------- JSON input to values */

/*
 * Input records: integral numbers are ints, strings are strings (views into
 * the parsed JSON: the queue stream deep-copies what is pushed), arrays of
 * two are pairs, other arrays lists. Item arrays are malloc'd and released
 * by free_value.
 */
static void free_value(sl_value *v)
{
    uint32_t i;
    if (!sl_kind_is_composite(v->kind))
        return;
    for (i = 0; i < v->len; i++)
        free_value((sl_value *)&v->u.items[i]);
    free((void *)v->u.items);
}

static bool json_to_value(const cJSON *j, sl_value *out)
{
    const cJSON *it;
    sl_value *items;
    size_t n = 0;
    if (cJSON_IsNumber(j)) {
        *out = is_integral(j->valuedouble) ? sl_int((int64_t)j->valuedouble)
                                           : sl_double(j->valuedouble);
    } else if (cJSON_IsString(j)) {
        *out = sl_cstr(j->valuestring);
    } else if (cJSON_IsBool(j)) {
        *out = sl_bool(cJSON_IsTrue(j));
    } else if (cJSON_IsNull(j)) {
        *out = sl_null();
    } else if (cJSON_IsArray(j)) {
        size_t len = (size_t)cJSON_GetArraySize(j);
        items = xrealloc(NULL, len * sizeof *items);
        cJSON_ArrayForEach(it, j)
        {
            if (!json_to_value(it, &items[n])) {
                while (n-- > 0)
                    free_value(&items[n]);
                free(items);
                return false;
            }
            n++;
        }
        *out = sl_composite(len == 2 ? SL_KIND_PAIR : SL_KIND_LIST, items, len);
    } else {
        return false;
    }
    return true;
}

bool oracle_json_value(const cJSON *j, sl_value *out)
{
    return json_to_value(j, out);
}

void oracle_value_free(sl_value *v)
{
    free_value(v);
}

int64_t oracle_param_int(const cJSON *params, const char *name)
{
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(params, name);
    return cJSON_IsNumber(j) ? (int64_t)j->valuedouble : -1;
}

/* ------------------------------------------------- cases from the file */

typedef enum compare_kind {
    CMP_LIST,          /* list_per_batch */
    CMP_SET_PER_BATCH, /* set_per_batch */
    CMP_SET,           /* set: one multiset per slice query */
    CMP_ERROR,         /* error, with output_before_error */
    CMP_PROPERTY       /* property: partition count, union = input */
} compare_kind;

typedef struct oracle_case {
    const char *test;
    const cJSON *params, *expected;
    const cJSON *inputs[2]; /* per input stream: its list of batches */
    const oracle_pipeline *pl;
    compare_kind cmp;
    bool values_as_set;
    int64_t batch_ms, partitions, num_batches;
    int64_t slide_ms; /* period of the output batches: the stream's slide */
} oracle_case;

static const char *const KNOWN_PARAMS[] = {
    "batch_ms",        "input_partitions",  "compare",
    "num_batches_run", "output_partitions", "queries_ms",
    "value_compare",   "slide_batches",     "restart_after_batches",
};

static struct {
    const oracle_suite *suite;
    bool tried, ok;
    sbuf err;
    cJSON *root;
    oracle_case cases[MAX_CASES];
    size_t ncases;
    strvec skipped, excluded;
    strvec allowed;                /* exclusions' cases, with reasons */
    bool excl_hit[MAX_EXCLUSIONS]; /* exclusion rows that matched */
} g;

/* ------------------------------------------------- outputs and assertions */

/* How many outputs a pipeline of the suite has: 1 without outputs. */
static size_t suite_noutputs(void)
{
    size_t n = 0;
    if (!g.suite->outputs)
        return 1;
    while (g.suite->outputs[n])
        n++;
    return n;
}

/* The index of the output named name, -1 for none. */
static int output_index(const char *name)
{
    size_t i;
    for (i = 0; g.suite->outputs && g.suite->outputs[i]; i++)
        if (name && strcmp(g.suite->outputs[i], name) == 0)
            return (int)i;
    return -1;
}

static const oracle_assertion *find_assertion(const char *key)
{
    size_t i;
    for (i = 0; key && i < g.suite->nassertions; i++)
        if (strcmp(g.suite->assertions[i].key, key) == 0)
            return &g.suite->assertions[i];
    return NULL;
}

static bool parse_compare(oracle_case *c, sbuf *why)
{
    static const char *const names[] = {"list_per_batch", "set_per_batch",
                                        "set", "error", "property"};
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(c->params, "compare");
    const cJSON *vc;
    size_t i;
    for (i = 0; cJSON_IsString(j) && i < 5; i++)
        if (strcmp(j->valuestring, names[i]) == 0)
            break;
    if (!cJSON_IsString(j) || i == 5) {
        sb_puts(why, "unsupported params.compare");
        return false;
    }
    c->cmp = (compare_kind)i;
    vc = cJSON_GetObjectItemCaseSensitive(c->params, "value_compare");
    c->values_as_set = vc != NULL;
    if (vc && (!cJSON_IsString(vc) ||
               strcmp(vc->valuestring, "set_of_values") != 0)) {
        sb_puts(why, "unsupported params.value_compare");
        return false;
    }
    return true;
}

static bool is_extra_param(const char *name)
{
    const char *const *x = g.suite->extra_params;
    for (; x && *x; x++)
        if (strcmp(name, *x) == 0)
            return true;
    return false;
}

/* Every params key must be one this runner (or the suite) honours. */
static bool check_params(const oracle_case *c, sbuf *why)
{
    const cJSON *it;
    size_t i, n = sizeof KNOWN_PARAMS / sizeof KNOWN_PARAMS[0];
    cJSON_ArrayForEach(it, c->params)
    {
        for (i = 0; i < n; i++)
            if (strcmp(it->string, KNOWN_PARAMS[i]) == 0)
                break;
        if (i == n && !is_extra_param(it->string)) {
            sb_printf(why, "params.%s not understood by this runner",
                      it->string);
            return false;
        }
    }
    return true;
}

static bool parse_inputs(oracle_case *c, const cJSON *input, sbuf *why)
{
    size_t n = 1;
    if (cJSON_IsObject(input)) {
        c->inputs[0] = cJSON_GetObjectItemCaseSensitive(input, "left");
        c->inputs[1] = cJSON_GetObjectItemCaseSensitive(input, "right");
        n = 2;
        if (!cJSON_IsArray(c->inputs[0]) || !cJSON_IsArray(c->inputs[1])) {
            sb_puts(why, "input object without left/right lists");
            return false;
        }
    } else if (cJSON_IsArray(input)) {
        c->inputs[0] = input;
    } else {
        sb_puts(why, "input is neither a list nor {left, right}");
        return false;
    }
    if (n != c->pl->ninputs) {
        sb_printf(why, "input has %zu streams, the pipeline wants %zu", n,
                  c->pl->ninputs);
        return false;
    }
    return true;
}

/*
 * A suite with outputs: expected is an object of per-batch lists (keys
 * naming outputs) and assertions (keys the suite's assertions know).
 */
static bool check_expected_outputs(const oracle_case *c, sbuf *why)
{
    const cJSON *it;
    size_t n = 0;
    if (c->cmp != CMP_LIST && c->cmp != CMP_SET_PER_BATCH) {
        sb_puts(why, "params.compare must be list_per_batch or set_per_batch "
                     "for a pipeline with several outputs");
        return false;
    }
    if (!cJSON_IsObject(c->expected)) {
        sb_puts(why, "expected is not an object of outputs and assertions");
        return false;
    }
    cJSON_ArrayForEach(it, c->expected)
    {
        if (output_index(it->string) < 0 && !find_assertion(it->string)) {
            sb_printf(why, "expected.%s not understood by this runner",
                      it->string);
            return false;
        }
        if (!cJSON_IsArray(it)) {
            sb_printf(why, "expected.%s is not a list", it->string);
            return false;
        }
        n++;
    }
    if (n == 0) {
        sb_puts(why, "expected names no output and no assertion");
        return false;
    }
    return true;
}

static bool check_expected(const oracle_case *c, sbuf *why)
{
    const cJSON *q = cJSON_GetObjectItemCaseSensitive(c->params, "queries_ms");
    if (g.suite->outputs)
        return check_expected_outputs(c, why);
    if (c->cmp == CMP_ERROR) {
        if (!cJSON_IsTrue(
                cJSON_GetObjectItemCaseSensitive(c->expected, "error"))) {
            sb_puts(why, "error case without expected.error = true");
            return false;
        }
        return true;
    }
    if (!cJSON_IsArray(c->expected)) {
        sb_puts(why, "expected is not a list of batches");
        return false;
    }
    if (c->cmp == CMP_SET &&
        (!cJSON_IsArray(q) ||
         cJSON_GetArraySize(q) != cJSON_GetArraySize(c->expected))) {
        sb_puts(why, "set case without one params.queries_ms per result");
        return false;
    }
    if (c->cmp == CMP_PROPERTY &&
        oracle_param_int(c->params, "output_partitions") <= 0) {
        sb_puts(why, "property case without params.output_partitions");
        return false;
    }
    return true;
}

/*
 * The output period: slide_batches x batch_ms when the case has a slide
 * (a windowed stream), else batch_ms. A stream with a slide of k batches
 * outputs at every k-th batch only, so per-batch cases must expect
 * num_batches_run / k batches: anything else is a vector the harness
 * cannot check as described.
 */
static bool check_slide(oracle_case *c, sbuf *why)
{
    const cJSON *j =
        cJSON_GetObjectItemCaseSensitive(c->params, "slide_batches");
    const cJSON *it;
    int64_t k = oracle_param_int(c->params, "slide_batches");
    size_t nexp;
    c->slide_ms = c->batch_ms;
    if (!j)
        return true;
    if (k <= 0) {
        sb_puts(why, "params.slide_batches is not a positive integer");
        return false;
    }
    c->slide_ms = k * c->batch_ms;
    if (c->cmp != CMP_LIST && c->cmp != CMP_SET_PER_BATCH)
        return true;
    if (g.suite->outputs) {
        cJSON_ArrayForEach(it, c->expected)
        {
            nexp = (size_t)cJSON_GetArraySize(it);
            if (output_index(it->string) >= 0 &&
                nexp != (size_t)(c->num_batches / k)) {
                sb_printf(why,
                          "expected.%s lists %zu batches, but %" PRId64
                          " batches with a slide of %" PRId64 " give %" PRId64
                          " outputs",
                          it->string, nexp, c->num_batches, k,
                          c->num_batches / k);
                return false;
            }
        }
        return true;
    }
    nexp = (size_t)cJSON_GetArraySize(c->expected);
    if (nexp != (size_t)(c->num_batches / k)) {
        sb_printf(why,
                  "expected lists %zu batches, but %" PRId64
                  " batches with a slide of %" PRId64 " give %" PRId64
                  " outputs",
                  nexp, c->num_batches, k, c->num_batches / k);
        return false;
    }
    return true;
}

/* The suite's own check of the params (function names and the like). */
static bool check_suite_params(const oracle_case *c, sbuf *why)
{
    char buf[256] = "";
    if (!g.suite->check_params ||
        g.suite->check_params(c->test, c->params, buf, sizeof buf))
        return true;
    sb_puts(why, buf[0] ? buf : "params rejected by the suite");
    return false;
}

static const oracle_pipeline *find_pipeline(const char *test)
{
    size_t i;
    for (i = 0; test && i < g.suite->npipelines; i++)
        if (strcmp(g.suite->pipelines[i].test, test) == 0)
            return &g.suite->pipelines[i];
    return NULL;
}

/* Fill c from one case object; false with the reason when it cannot run. */
static bool prepare_case(const cJSON *jc, oracle_case *c, sbuf *why)
{
    memset(c, 0, sizeof *c);
    c->test =
        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(jc, "test"));
    c->params = cJSON_GetObjectItemCaseSensitive(jc, "params");
    c->expected = cJSON_GetObjectItemCaseSensitive(jc, "expected");
    c->pl = find_pipeline(c->test);
    if (!c->pl) {
        sb_puts(why, "no pipeline for this test name in the suite's table");
        return false;
    }
    if (!c->pl->build || (suite_noutputs() > 1 && !g.suite->derive)) {
        sb_puts(why, c->pl->build ? "several outputs but no derive function"
                                  : "the table row has no build function");
        return false;
    }
    if (!cJSON_IsObject(c->params) || !check_params(c, why) ||
        !parse_compare(c, why) ||
        !parse_inputs(c, cJSON_GetObjectItemCaseSensitive(jc, "input"), why) ||
        !check_expected(c, why))
        return false;
    c->batch_ms = oracle_param_int(c->params, "batch_ms");
    c->partitions = oracle_param_int(c->params, "input_partitions");
    c->num_batches = oracle_param_int(c->params, "num_batches_run");
    /* slice's Spark test runs as many batches as it has input (4). */
    if (c->num_batches < 0 && c->cmp == CMP_SET)
        c->num_batches = cJSON_GetArraySize(c->inputs[0]);
    if (c->batch_ms <= 0 || c->partitions <= 0 || c->num_batches <= 0) {
        sb_puts(why, "batch_ms, input_partitions or num_batches_run missing");
        return false;
    }
    return check_slide(c, why) && check_suite_params(c, why);
}

static char *read_file(const char *path, sbuf *err)
{
    FILE *f = fopen(path, "rb");
    sbuf b = {0};
    char chunk[4096];
    size_t n;
    if (!f) {
        sb_printf(err, "cannot open %s", path);
        return NULL;
    }
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        sb_put(&b, chunk, n);
    fclose(f);
    return b.p ? b.p : xstrdup("");
}

/* The exclusion row for this case, or -1. */
static int find_exclusion(const char *suite, const char *test)
{
    size_t i;
    for (i = 0; suite && test && i < g.suite->nexclusions; i++) {
        const oracle_exclusion *x = &g.suite->exclusions[i];
        if (strcmp(x->suite ? x->suite : g.suite->suite, suite) == 0 &&
            strcmp(x->test, test) == 0)
            return (int)i;
    }
    return -1;
}

static void classify_case(const cJSON *jc)
{
    const char *test =
        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(jc, "test"));
    const char *excl = g.suite->excluded_prefix;
    sbuf why = {0};
    if (!test)
        test = "(no test name)";
    if (excl && strncmp(test, excl, strlen(excl)) == 0) {
        sv_push(&g.excluded, xstrdup(test));
    } else if (g.ncases == MAX_CASES) {
        sb_printf(&why, "%s: more than %d cases", test, MAX_CASES);
        sv_push(&g.skipped, why.p);
    } else if (prepare_case(jc, &g.cases[g.ncases], &why)) {
        g.ncases++;
        sb_free(&why);
    } else {
        sbuf line = {0};
        sb_printf(&line, "%s: %s", test, sb_str(&why));
        sv_push(&g.skipped, line.p);
        sb_free(&why);
    }
}

/* Parse the vectors once and sort the suite's cases into run, excluded
 * and skipped (in scope but not runnable: a failure). */
static bool load_vectors(const oracle_suite *s)
{
    const char *path = getenv("SL_ORACLE_VECTORS");
    const cJSON *jc;
    char *text;
    if (g.tried)
        return g.ok;
    g.tried = true;
    g.suite = s;
    path = path && *path ? path : SL_ORACLE_VECTORS;
    text = read_file(path, &g.err);
    if (!text)
        return false;
    g.root = cJSON_Parse(text);
    free(text);
    if (!cJSON_IsArray(g.root)) {
        sb_printf(&g.err, "%s is not a JSON list of cases", path);
        return false;
    }
    if (s->nexclusions > MAX_EXCLUSIONS ||
        suite_noutputs() > ORACLE_MAX_OUTPUTS || suite_noutputs() == 0) {
        sb_puts(&g.err, "the suite has too many exclusions or outputs");
        return false;
    }
    cJSON_ArrayForEach(jc, g.root)
    {
        const char *suite =
            cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(jc, "suite"));
        const char *test =
            cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(jc, "test"));
        int x = find_exclusion(suite, test);
        if (x >= 0) {
            sbuf line = {0};
            if (strcmp(suite, s->suite) != 0)
                sb_printf(&line, "%s: ", suite);
            sb_printf(&line, "%s: %s", test, s->exclusions[x].reason);
            sv_push(&g.allowed, line.p);
            g.excl_hit[x] = true;
        } else if (suite && strcmp(suite, s->suite) == 0) {
            classify_case(jc);
        }
    }
    g.ok = true;
    return true;
}

/* ------------------------------------------------- running a case */

typedef struct batch_out {
    int64_t time_ms;
    strvec recs;      /* canonical JSON of each record, in collect order */
    long nparts;      /* partitions glom saw, -1 when not asked */
    strvec glom_recs; /* the records of those partitions, flattened */
} batch_out;

/* The batches one output collected. */
typedef struct out_batches {
    batch_out *b;
    size_t n, cap;
    struct run_out *run; /* the run it belongs to */
} out_batches;

typedef struct run_out {
    out_batches out[ORACLE_MAX_OUTPUTS]; /* out[0] alone without outputs */
    size_t nout;
    bool glom;             /* property cases: also glom each batch */
    sl_status cb_status;   /* first failure inside the output callback */
    sl_status status;      /* sl_context_await_termination */
    sl_status early_slice; /* slice before start (slice cases) */
    strvec *slices;        /* one per query (slice cases) */
    size_t nslices;
    sbuf err;    /* setup failure; empty when the context ran */
    sbuf errmsg; /* sl_context_errmsg after the run */
} run_out;

static void run_free(run_out *r)
{
    size_t i, o;
    for (o = 0; o < ORACLE_MAX_OUTPUTS; o++) {
        for (i = 0; i < r->out[o].n; i++) {
            sv_free(&r->out[o].b[i].recs);
            sv_free(&r->out[o].b[i].glom_recs);
        }
        free(r->out[o].b);
    }
    for (i = 0; i < r->nslices; i++)
        sv_free(&r->slices[i]);
    free(r->slices);
    sb_free(&r->err);
    sb_free(&r->errmsg);
    memset(r, 0, sizeof *r);
}

/* The collected values are only valid during the callback, so they are
 * formatted to text at once. */
static sl_status collect_values(sl_rdd *rdd, strvec *out)
{
    const sl_value *v;
    size_t n, i;
    sl_status st = sl_rdd_collect(rdd, &v, &n);
    for (i = 0; st == SL_OK && i < n; i++)
        sv_push(out, format_value(&v[i]));
    return st;
}

static sl_status collect_glom(sl_rdd *rdd, batch_out *b)
{
    const sl_value *parts;
    size_t n, i;
    uint32_t k;
    sl_rdd *glom = sl_rdd_glom(rdd);
    sl_status st = glom ? sl_rdd_collect(glom, &parts, &n) : SL_EUSER;
    if (st != SL_OK)
        return st;
    b->nparts = (long)n;
    for (i = 0; i < n; i++) {
        if (parts[i].kind != SL_KIND_LIST)
            return SL_ETYPE;
        for (k = 0; k < parts[i].len; k++)
            sv_push(&b->glom_recs, format_value(&parts[i].u.items[k]));
    }
    return SL_OK;
}

/* Output callback; user is the output's out_batches. */
static sl_status collect_batch(sl_rdd *rdd, int64_t time_ms, void *user)
{
    out_batches *ob = user;
    run_out *r = ob->run;
    batch_out *b;
    sl_status st;
    if (ob->n == ob->cap) {
        ob->cap = ob->cap ? 2 * ob->cap : 8;
        ob->b = xrealloc(ob->b, ob->cap * sizeof *ob->b);
    }
    b = &ob->b[ob->n++];
    memset(b, 0, sizeof *b);
    b->time_ms = time_ms;
    b->nparts = -1;
    st = collect_values(rdd, &b->recs);
    if (st == SL_OK && r->glom)
        st = collect_glom(rdd, b);
    if (st != SL_OK && r->cb_status == SL_OK)
        r->cb_status = st;
    return st;
}

/* A context for c running to batch max_batches, checkpointed in ckdir
 * (NULL: none). */
static sl_context *make_context(const oracle_case *c, int workers,
                                int64_t max_batches, const char *ckdir,
                                sbuf *err)
{
    char text[3][32], errbuf[256] = "";
    const char *keys[6] = {"clock",   "batch_interval", "max_batches",
                           "workers", "log.level",      "checkpoint.path"};
    const char *vals[6] = {"manual", text[0], text[1],
                           text[2],  "warn",  ckdir ? ckdir : ""};
    sl_conf *conf = sl_conf_new();
    sl_context *ctx = NULL;
    size_t i;
    snprintf(text[0], sizeof text[0], "%" PRId64 "ms", c->batch_ms);
    snprintf(text[1], sizeof text[1], "%" PRId64, max_batches);
    snprintf(text[2], sizeof text[2], "%d", workers);
    for (i = 0; conf && i < 6; i++)
        if (sl_conf_set(conf, keys[i], vals[i], errbuf, sizeof errbuf)) {
            sb_printf(err, "conf %s=%s: %s", keys[i], vals[i], errbuf);
            sl_conf_free(conf);
            return NULL;
        }
    if (conf)
        ctx = sl_context_new(conf, errbuf, sizeof errbuf);
    if (!ctx) {
        sb_printf(err, "sl_context_new: %s", conf ? errbuf : "no conf");
        sl_conf_free(conf);
    }
    return ctx;
}

/* Push one stream's batches, at most max of them: null is Spark's None
 * (no batch at all). */
static bool push_batches(sl_dstream *q, const cJSON *batches, int64_t max,
                         sbuf *err)
{
    const cJSON *batch;
    int64_t pushed = 0;
    cJSON_ArrayForEach(batch, batches)
    {
        sl_value v;
        sl_status st;
        if (pushed++ == max)
            break;
        if (cJSON_IsNull(batch)) {
            st = sl_queue_stream_push_none(q);
        } else if (!cJSON_IsArray(batch) || !json_to_value(batch, &v)) {
            sb_puts(err, "an input batch is not a list of records");
            return false;
        } else {
            st = sl_queue_stream_push(q, v.u.items, v.len);
            free_value(&v);
        }
        if (st != SL_OK) {
            sb_printf(err, "queue push: %s", sl_errname(st));
            return false;
        }
    }
    return true;
}

static bool make_inputs(sl_context *ctx, const oracle_case *c, sl_dstream **in,
                        sbuf *err)
{
    size_t i;
    for (i = 0; i < c->pl->ninputs; i++) {
        in[i] = sl_queue_stream(ctx, (size_t)c->partitions);
        if (!in[i]) {
            sb_printf(err, "sl_queue_stream: %s", sl_context_errmsg(ctx));
            return false;
        }
        if (!push_batches(in[i], c->inputs[i], c->num_batches, err))
            return false;
    }
    return true;
}

/* slice(from, to) for each params.queries_ms, after the batches ran. */
static void run_slices(const oracle_case *c, sl_dstream *s, run_out *r)
{
    const cJSON *q = cJSON_GetObjectItemCaseSensitive(c->params, "queries_ms");
    const cJSON *it;
    r->slices = xrealloc(NULL, (size_t)cJSON_GetArraySize(q) * sizeof(strvec));
    cJSON_ArrayForEach(it, q)
    {
        strvec *out = &r->slices[r->nslices++];
        sl_rdd *rdd = NULL;
        int64_t from = (int64_t)cJSON_GetArrayItem(it, 0)->valuedouble;
        int64_t to = (int64_t)cJSON_GetArrayItem(it, 1)->valuedouble;
        sl_status st = sl_dstream_slice(s, from, to, &rdd);
        memset(out, 0, sizeof *out);
        if (st == SL_OK)
            st = collect_values(rdd, out);
        if (st != SL_OK)
            sb_printf(&r->err, "slice(%" PRId64 ", %" PRId64 "): %s: %s; ",
                      from, to, sl_errname(st),
                      sl_context_errmsg(sl_dstream_context(s)));
    }
}

/* The pipeline's output streams into out[0..r->nout-1]; false on failure. */
static bool build_outputs(const oracle_case *c, sl_dstream *const *in,
                          run_out *r, sl_dstream **out)
{
    size_t o;
    r->nout = suite_noutputs();
    for (o = 0; o < r->nout; o++)
        r->out[o].run = r;
    if (!(out[0] = c->pl->build(in, c->params)))
        return false;
    for (o = 1; o < r->nout; o++)
        if (!(out[o] = g.suite->derive(out[0], o, c->params)))
            return false;
    return true;
}

/*
 * A checkpointed run needs names on its sources and stateful streams: the
 * inputs are "in0", "in1", the outputs "out0".. (those the pipeline did
 * not name).
 */
static sl_status name_streams(sl_dstream *const *in, size_t nin,
                              sl_dstream *const *outs, size_t nout)
{
    char name[32];
    size_t i;
    sl_status st = SL_OK;
    for (i = 0; i < nin && st == SL_OK; i++) {
        snprintf(name, sizeof name, "in%zu", i);
        st = sl_dstream_set_name(in[i], name);
    }
    for (i = 0; i < nout && st == SL_OK; i++) {
        snprintf(name, sizeof name, "out%zu", i);
        if (!sl_dstream_name(outs[i]))
            st = sl_dstream_set_name(outs[i], name);
    }
    return st;
}

/* Build, run to max_batches (or failure) and collect one case; with
 * ckdir, checkpointed there (a second call goes on from the first). */
static void run_phase(const oracle_case *c, int workers, int64_t max_batches,
                      const char *ckdir, run_out *r)
{
    sl_context *ctx = make_context(c, workers, max_batches, ckdir, &r->err);
    sl_dstream *in[2] = {NULL, NULL}, *outs[ORACLE_MAX_OUTPUTS] = {NULL};
    sl_dstream *out;
    sl_rdd *early = NULL;
    sl_status st;
    size_t o;
    if (!ctx)
        return;
    if (!make_inputs(ctx, c, in, &r->err))
        goto free_ctx;
    st = build_outputs(c, in, r, outs) ? SL_OK : SL_EINVAL;
    out = outs[0];
    r->glom = c->cmp == CMP_PROPERTY;
    for (o = 0; st == SL_OK && o < r->nout; o++)
        st = sl_dstream_foreach_rdd(outs[o], collect_batch, &r->out[o]);
    if (st == SL_OK && ckdir)
        st = name_streams(in, c->pl->ninputs, outs, r->nout);
    if (st == SL_OK && c->cmp == CMP_SET) {
        st = sl_context_remember(ctx, REMEMBER_MS);
        r->early_slice = sl_dstream_slice(out, 0, c->batch_ms, &early);
    }
    if (st == SL_OK)
        st = sl_context_start(ctx);
    if (st != SL_OK) {
        sb_printf(&r->err, "pipeline setup: %s: %s", sl_errname(st),
                  sl_context_errmsg(ctx));
        goto free_ctx;
    }
    r->status = sl_context_await_termination_or_timeout(ctx, HANG_MS);
    if (r->status == SL_ETIMEDOUT) {
        /* A stuck engine cannot be stopped or freed safely: say which case
         * hung and end the program, rather than wait for ctest's timeout. */
        fprintf(stderr,
                "oracle: FAIL %s (workers=%d): still running %d ms after "
                "start (%" PRId64 " batches on the manual clock); aborting\n",
                c->test, workers, HANG_MS, c->num_batches);
        fflush(NULL);
        abort();
    }
    sb_puts(&r->errmsg, sl_context_errmsg(ctx));
    if (c->cmp == CMP_SET)
        run_slices(c, out, r);
free_ctx:
    sl_context_free(ctx);
}

/*
 * One case. With params.restart_after_batches: run to that batch with a
 * checkpoint, then build everything again in a new context on the same
 * checkpoint and run to num_batches_run (Spark's CheckpointSuite: stop,
 * restart from the checkpoint, carry on); both runs' batches are
 * collected in order, so a batch done twice shows as an extra batch.
 */
static void run_case(const oracle_case *c, int workers, run_out *r)
{
    int64_t restart = oracle_param_int(c->params, "restart_after_batches");
    char tmpl[] = "/tmp/sl-oracle-ck-XXXXXX", ck[64];
    if (restart <= 0) {
        run_phase(c, workers, c->num_batches, NULL, r);
        return;
    }
    if (restart >= c->num_batches || !mkdtemp(tmpl)) {
        sb_puts(&r->err, "params.restart_after_batches is not within the "
                         "run, or no temporary directory");
        return;
    }
    snprintf(ck, sizeof ck, "%s/ck", tmpl);
    run_phase(c, workers, restart, ck, r);
    if (r->status == SL_OK && !r->err.n)
        run_phase(c, workers, c->num_batches, ck, r);
    sl_test_remove_tree(tmpl);
}

/* ------------------------------------------------- checking a run */

/* "name: " before a message about one output of several (label NULL: the
 * only output, no prefix). */
static void label_prefix(sbuf *why, const char *label)
{
    if (label)
        sb_printf(why, "%s: ", label);
}

static void report_batch(sbuf *why, const char *what, size_t i,
                         const strvec *exp, const strvec *got)
{
    sb_printf(why, "%s %zu: expected ", what, i);
    sv_print(why, exp);
    sb_puts(why, ", got ");
    sv_print(why, got);
    sb_puts(why, "; ");
}

/* Compare the records of got with the expected JSON batch, in order or as
 * multisets. */
static bool same_records(const oracle_case *c, const cJSON *exp_batch,
                         const strvec *got, bool ordered, strvec *e, strvec *g2)
{
    size_t i;
    canon_batch(exp_batch, c->values_as_set, e);
    for (i = 0; i < got->n; i++) {
        cJSON *j = c->values_as_set ? cJSON_Parse(got->v[i]) : NULL;
        sv_push(g2, j ? canon_record(j, true) : xstrdup(got->v[i]));
        cJSON_Delete(j);
    }
    if (!ordered) {
        sv_sort(e);
        sv_sort(g2);
    }
    return sv_equal(e, g2);
}

/* "N output batches, at t1 t2 ... ms; " */
static void print_times(const out_batches *r, sbuf *why)
{
    size_t i;
    sb_printf(why, "%zu output batches, at", r->n);
    for (i = 0; i < r->n; i++)
        sb_printf(why, " %" PRId64, r->b[i].time_ms);
    sb_puts(why, " ms; ");
}

/* Per-batch comparison against a list of expected batches; label names
 * the output when there are several. */
static bool check_batches(const oracle_case *c, const cJSON *expected,
                          const out_batches *r, bool ordered, bool glom,
                          const char *label, sbuf *why)
{
    size_t i, nexp = (size_t)cJSON_GetArraySize(expected);
    bool ok = true;
    if (r->n != nexp) {
        label_prefix(why, label);
        sb_printf(why, "expected %zu output batches, got ", nexp);
        print_times(r, why);
        ok = false;
    }
    for (i = 0; i < r->n && i < nexp; i++) {
        strvec e = {0}, g2 = {0};
        const strvec *got = glom ? &r->b[i].glom_recs : &r->b[i].recs;
        if (!same_records(c, cJSON_GetArrayItem(expected, (int)i), got, ordered,
                          &e, &g2)) {
            label_prefix(why, label);
            report_batch(why, glom ? "batch (glom)" : "batch", i + 1, &e, &g2);
            ok = false;
        }
        sv_free(&e);
        sv_free(&g2);
    }
    return ok;
}

/* Batch n (1-based) of the manual clock is at n x batch_ms; output batch
 * n of a stream whose slide is k batches at n x k x batch_ms. */
static bool check_times(const oracle_case *c, const out_batches *r,
                        const char *label, sbuf *why)
{
    size_t i;
    for (i = 0; i < r->n; i++) {
        int64_t want = (int64_t)(i + 1) * c->slide_ms;
        if (r->b[i].time_ms % c->slide_ms != 0) {
            label_prefix(why, label);
            sb_printf(why,
                      "output batch %zu has time %" PRId64
                      " ms, not a multiple of the slide (%" PRId64 " ms); ",
                      i + 1, r->b[i].time_ms, c->slide_ms);
            print_times(r, why);
            return false;
        }
        if (r->b[i].time_ms != want) {
            label_prefix(why, label);
            sb_printf(why,
                      "output batch %zu has time %" PRId64 " ms, want %" PRId64
                      " ms; ",
                      i + 1, r->b[i].time_ms, want);
            print_times(r, why);
            return false;
        }
    }
    return true;
}

static bool check_property(const oracle_case *c, const run_out *run, sbuf *why)
{
    const out_batches *r = &run->out[0];
    int64_t want = oracle_param_int(c->params, "output_partitions");
    bool ok = check_batches(c, c->expected, r, false, false, NULL, why) &&
              check_batches(c, c->expected, r, false, true, NULL, why);
    size_t i;
    for (i = 0; i < r->n; i++)
        if (r->b[i].nparts != want) {
            sb_printf(why, "batch %zu has %ld partitions, want %" PRId64 "; ",
                      i + 1, r->b[i].nparts, want);
            ok = false;
        }
    return ok;
}

static bool check_slices(const oracle_case *c, const run_out *r, sbuf *why)
{
    size_t i;
    bool ok = true;
    if (r->early_slice != SL_ESTATE) {
        sb_printf(why, "slice before start gave %s, want SL_ESTATE; ",
                  sl_errname(r->early_slice));
        ok = false;
    }
    for (i = 0; i < r->nslices; i++) {
        strvec e = {0}, g2 = {0};
        const cJSON *q = cJSON_GetArrayItem(
            cJSON_GetObjectItemCaseSensitive(c->params, "queries_ms"), (int)i);
        if (!same_records(c, cJSON_GetArrayItem(c->expected, (int)i),
                          &r->slices[i], false, &e, &g2)) {
            sb_printf(why, "slice(%d, %d): ",
                      (int)cJSON_GetArrayItem(q, 0)->valuedouble,
                      (int)cJSON_GetArrayItem(q, 1)->valuedouble);
            report_batch(why, "query", i + 1, &e, &g2);
            ok = false;
        }
        sv_free(&e);
        sv_free(&g2);
    }
    return ok;
}

/* "batch 5: [..], batch 6: [..]" for the batches of r with records. */
static void print_nonempty(const out_batches *r, sbuf *why)
{
    size_t i;
    bool first = true;
    for (i = 0; i < r->n; i++) {
        if (r->b[i].recs.n == 0)
            continue;
        sb_printf(why, "%sbatch %zu ", first ? "" : ", ", i + 1);
        sv_print(why, &r->b[i].recs);
        first = false;
    }
    if (first)
        sb_puts(why, "no records");
}

/*
 * One assertion of the case's expected object on its output's batches.
 * A pass leaves a note in why (where the records were seen).
 */
static bool check_assertion(const oracle_case *c, const oracle_assertion *a,
                            const cJSON *exp, const run_out *run, sbuf *why)
{
    const out_batches *r = &run->out[a->output];
    const char *name = g.suite->outputs[a->output];
    strvec e = {0}, g2 = {0}, all = {0};
    sbuf hits = {0};
    size_t i, k;
    bool ok = false;
    switch (a->kind) {
    case ORACLE_ALL_SORTED:
        for (i = 0; i < r->n; i++)
            for (k = 0; k < r->b[i].recs.n; k++)
                sv_push(&all, xstrdup(r->b[i].recs.v[k]));
        sv_sort(&all);
        ok = same_records(c, exp, &all, true, &e, &g2);
        if (ok) {
            sb_printf(why, "%s holds; %s: ", a->key, name);
            print_nonempty(r, why);
            sb_puts(why, "; ");
        } else {
            sb_printf(why, "%s: expected ", a->key);
            sv_print(why, &e);
            sb_printf(why, ", got (all %s records, sorted) ", name);
            sv_print(why, &g2);
            sb_puts(why, " from ");
            print_nonempty(r, why);
            sb_puts(why, "; ");
        }
        break;
    case ORACLE_SOME_BATCH:
        for (i = 0; i < r->n; i++) {
            sv_free(&e);
            sv_free(&g2);
            if (same_records(c, exp, &r->b[i].recs, false, &e, &g2)) {
                sb_printf(&hits, "%s%zu", ok ? "," : "", i + 1);
                ok = true;
            }
        }
        if (ok) {
            sb_printf(why, "%s holds (%s batches %s); ", a->key, name,
                      sb_str(&hits));
        } else {
            sv_free(&e);
            sv_free(&g2);
            canon_batch(exp, c->values_as_set, &e);
            sv_sort(&e);
            sb_printf(why, "%s: no %s batch of %zu holds ", a->key, name, r->n);
            sv_print(why, &e);
            sb_puts(why, "; ");
        }
        break;
    case ORACLE_LAST_BATCH:
        if (r->n == 0) {
            sb_printf(why, "%s: %s has no batches; ", a->key, name);
            break;
        }
        ok = same_records(c, exp, &r->b[r->n - 1].recs, false, &e, &g2);
        if (!ok) {
            sb_printf(why, "%s: ", a->key);
            report_batch(why, "last batch", r->n, &e, &g2);
        }
        break;
    }
    sv_free(&e);
    sv_free(&g2);
    sv_free(&all);
    sb_free(&hits);
    return ok;
}

/*
 * A suite with outputs: every output has one batch per run batch (per
 * slide), at the right times; then each per-batch list and assertion of
 * the expected object holds.
 */
static bool check_outputs(const oracle_case *c, const run_out *r, sbuf *why)
{
    size_t o, want = (size_t)(c->num_batches / (c->slide_ms / c->batch_ms));
    const cJSON *it;
    bool ok = true;
    for (o = 0; o < r->nout; o++) {
        const char *name = g.suite->outputs[o];
        if (r->out[o].n != want) {
            label_prefix(why, name);
            sb_printf(why, "expected %zu output batches, got ", want);
            print_times(&r->out[o], why);
            ok = false;
        } else if (!check_times(c, &r->out[o], name, why)) {
            ok = false;
        }
    }
    if (!ok)
        return false;
    cJSON_ArrayForEach(it, c->expected)
    {
        int o2 = output_index(it->string);
        if (o2 >= 0) {
            if (!check_batches(c, it, &r->out[o2], c->cmp == CMP_LIST, false,
                               it->string, why))
                ok = false;
        } else if (!check_assertion(c, find_assertion(it->string), it, r,
                                    why)) {
            ok = false;
        }
    }
    return ok;
}

/* Check one run against Spark's expectation; reasons go to why. */
static bool check_run(const oracle_case *c, const run_out *r, sbuf *why)
{
    const cJSON *before;
    if (r->err.n) {
        sb_puts(why, sb_str(&r->err));
        return false;
    }
    if (r->cb_status != SL_OK)
        sb_printf(why, "output callback failed: %s; ",
                  sl_errname(r->cb_status));
    if (c->cmp == CMP_ERROR) {
        before = cJSON_GetObjectItemCaseSensitive(c->expected,
                                                  "output_before_error");
        if (r->status == SL_OK)
            sb_puts(why, "expected the job to fail, it ended with SL_OK; ");
        if (before &&
            !check_batches(c, before, &r->out[0], true, false, NULL, why))
            return false;
        if (r->status == SL_OK || r->cb_status != SL_OK ||
            !check_times(c, &r->out[0], NULL, why))
            return false;
        sb_printf(why, "failed as expected after %zu batches: %s", r->out[0].n,
                  r->errmsg.n ? sb_str(&r->errmsg) : sl_errname(r->status));
        return true;
    }
    if (r->status != SL_OK) {
        sb_printf(why, "await_termination: %s (%s); ", sl_errname(r->status),
                  sb_str(&r->errmsg));
        return false;
    }
    if (r->cb_status != SL_OK)
        return false;
    if (g.suite->outputs)
        return check_outputs(c, r, why);
    if (!check_times(c, &r->out[0], NULL, why))
        return false;
    switch (c->cmp) {
    case CMP_LIST:
        return check_batches(c, c->expected, &r->out[0], true, false, NULL,
                             why);
    case CMP_SET_PER_BATCH:
        return check_batches(c, c->expected, &r->out[0], false, false, NULL,
                             why);
    case CMP_PROPERTY:
        return check_property(c, r, why);
    default:
        return check_slices(c, r, why);
    }
}

/* workers=1 must give exactly what workers=2 gave, order included, on
 * every output. */
static bool same_runs(const run_out *a, const run_out *b, sbuf *why)
{
    size_t i, o;
    if (a->status != b->status || a->nout != b->nout ||
        a->nslices != b->nslices) {
        sb_printf(why, "workers=1 ended with %s, workers=2 with %s; ",
                  sl_errname(b->status), sl_errname(a->status));
        return false;
    }
    for (o = 0; o < a->nout; o++) {
        const out_batches *x = &a->out[o], *y = &b->out[o];
        const char *label = g.suite->outputs ? g.suite->outputs[o] : NULL;
        if (x->n != y->n) {
            label_prefix(why, label);
            sb_printf(why,
                      "workers=1 ended with %s after %zu batches, workers=2 "
                      "with %s after %zu; ",
                      sl_errname(b->status), y->n, sl_errname(a->status), x->n);
            return false;
        }
        for (i = 0; i < x->n; i++)
            if (x->b[i].time_ms != y->b[i].time_ms ||
                x->b[i].nparts != y->b[i].nparts ||
                !sv_equal(&x->b[i].recs, &y->b[i].recs) ||
                !sv_equal(&x->b[i].glom_recs, &y->b[i].glom_recs)) {
                label_prefix(why, label);
                report_batch(why, "workers=1 differs from workers=2 at batch",
                             i + 1, &x->b[i].recs, &y->b[i].recs);
                return false;
            }
    }
    for (i = 0; i < a->nslices; i++)
        if (!sv_equal(&a->slices[i], &b->slices[i])) {
            report_batch(why, "workers=1 differs from workers=2 at slice",
                         i + 1, &a->slices[i], &b->slices[i]);
            return false;
        }
    return true;
}

/* Run one case with 2 workers, then 1; true when both match Spark and
 * each other. why gets the reasons of a failure, or a note on a pass. */
static bool run_and_check(const oracle_case *c, sbuf *why)
{
    run_out two = {0}, one = {0};
    sbuf w2 = {0}, w1 = {0};
    bool ok2, ok1, ok;
    run_case(c, 2, &two);
    run_case(c, 1, &one);
    ok2 = check_run(c, &two, &w2);
    ok1 = check_run(c, &one, &w1);
    ok = ok2 && ok1;
    if (ok) {
        sb_puts(why, sb_str(&w2));
        ok = same_runs(&two, &one, why);
    } else {
        if (!ok2)
            sb_printf(why, "[workers=2] %s ", sb_str(&w2));
        if (!ok1)
            sb_printf(why, "[workers=1] %s", sb_str(&w1));
    }
    sb_free(&w2);
    sb_free(&w1);
    run_free(&two);
    run_free(&one);
    return ok;
}

/* ------------------------------------------------- tests */

static void print_list(const char *title, const strvec *s)
{
    size_t i;
    printf("\n  %s (%zu):\n", title, s->n);
    for (i = 0; i < s->n; i++)
        printf("    - %s\n", s->v[i]);
}

/* The run and skip lists: every in-scope case must have a pipeline and a
 * comparison this harness supports, and every table row a case. */
void oracle_test_case_lists(const oracle_suite *s)
{
    strvec run = {0};
    size_t i, k;
    if (!load_vectors(s)) {
        sl_test_fail(__FILE__, __LINE__, "loading vectors: %s", sb_str(&g.err));
        return;
    }
    for (i = 0; i < g.ncases; i++)
        sv_push(&run, xstrdup(g.cases[i].test));
    printf("\n  suite %s", s->suite);
    print_list("cases run", &run);
    print_list(s->excluded_reason ? s->excluded_reason : "excluded",
               &g.excluded);
    if (s->nexclusions)
        print_list("SKIPPED, allowed (each with its reason)", &g.allowed);
    print_list("SKIPPED (each one is a failure)", &g.skipped);
    SL_CHECK_INT(g.skipped.n, 0);
    SL_CHECK(g.ncases > 0);
    for (k = 0; k < s->nexclusions; k++)
        if (!g.excl_hit[k])
            sl_test_fail(__FILE__, __LINE__, "exclusion \"%s\" matches no case",
                         s->exclusions[k].test);
    for (k = 0; k < s->npipelines; k++) {
        for (i = 0; i < g.ncases; i++)
            if (g.cases[i].pl == &s->pipelines[k])
                break;
        if (i == g.ncases)
            sl_test_fail(__FILE__, __LINE__,
                         "table row \"%s\" matches no runnable case",
                         s->pipelines[k].test);
    }
    sv_free(&run);
}

void oracle_test_cases_match(const oracle_suite *s)
{
    size_t i, passed = 0;
    if (!load_vectors(s) || g.ncases == 0) {
        sl_test_fail(__FILE__, __LINE__, "no cases to run: %s", sb_str(&g.err));
        return;
    }
    printf("\n");
    for (i = 0; i < g.ncases; i++) {
        sbuf why = {0};
        const oracle_case *c = &g.cases[i];
        if (run_and_check(c, &why)) {
            passed++;
            /* a note ends without its separator */
            while (why.n > 0 &&
                   (why.p[why.n - 1] == ' ' || why.p[why.n - 1] == ';'))
                why.p[--why.n] = '\0';
            printf("    PASS %s%s%s\n", c->test, why.n ? ": " : "",
                   sb_str(&why));
            CU_PASS(c->test);
        } else {
            printf("    FAIL %s: %s\n", c->test, sb_str(&why));
            sl_test_fail(__FILE__, __LINE__, "%s/%s: %s", s->suite, c->test,
                         sb_str(&why));
        }
        sb_free(&why);
    }
    printf("  %s: %zu cases run, %zu passed, %zu failed\n", s->suite, g.ncases,
           passed, g.ncases - passed);
    SL_CHECK_INT(passed, g.ncases);
}

void oracle_release(void)
{
    cJSON_Delete(g.root);
    sv_free(&g.skipped);
    sv_free(&g.excluded);
    sv_free(&g.allowed);
    sb_free(&g.err);
    memset(&g, 0, sizeof g);
}
