/*
 * Unit tests for the ready-made per-record functions (src/rdd/functions.c)
 * run through a real engine: split words, pair with one, sum.
 */
#include <sluice/sluice.h>

#include "sl_test.h"

static sl_engine *engine(void)
{
    char err[256];
    sl_conf *conf = sl_conf_new();
    sl_engine *eng;
    SL_CHECK_OK(sl_conf_set(conf, "workers", "2", err, sizeof err));
    eng = sl_engine_new(conf, err, sizeof err);
    SL_CHECK(eng != NULL);
    return eng;
}

static void check_json(const sl_value *items, size_t n, const char *want)
{
    char buf[4096];
    size_t i, len = 0;
    buf[len++] = '[';
    for (i = 0; i < n; i++) {
        if (i)
            buf[len++] = ',';
        len += sl_value_format_json(&items[i], buf + len, sizeof buf - len);
    }
    buf[len++] = ']';
    buf[len] = '\0';
    SL_CHECK_STR(buf, want);
}

static void test_split_words(void)
{
    static const char text[] = "  a\tbb  ccc\r\n\nd\v e\f\n";
    sl_engine *eng = engine();
    const sl_value *out;
    size_t n;
    sl_rdd *r = sl_rdd_flat_map(sl_rdd_text(eng, text, sizeof text - 1, 3),
                                sl_fn_split_words, NULL);
    SL_CHECK_OK(sl_rdd_collect(r, &out, &n));
    check_json(out, n, "[\"a\",\"bb\",\"ccc\",\"d\",\"e\"]");
    sl_engine_free(eng);
}

static void test_split_words_rejects_non_strings(void)
{
    sl_engine *eng = engine();
    sl_value v = sl_int(3);
    const sl_value *out;
    size_t n;
    sl_rdd *r = sl_rdd_flat_map(sl_rdd_parallelize(eng, &v, 1, 1),
                                sl_fn_split_words, NULL);
    SL_CHECK_INT(sl_rdd_collect(r, &out, &n), SL_EUSER);
    SL_CHECK(strstr(sl_engine_errmsg(eng), "value of the wrong kind") != NULL);
    sl_engine_free(eng);
}

static void test_word_count(void)
{
    static const char text[] = "to be or not to be\nto do\n";
    sl_engine *eng = engine();
    const sl_value *out;
    size_t n;
    sl_rdd *r = sl_rdd_sort_by_key(
        sl_rdd_reduce_by_key(
            sl_rdd_map(
                sl_rdd_flat_map(sl_rdd_text(eng, text, sizeof text - 1, 2),
                                sl_fn_split_words, NULL),
                sl_fn_pair_one, NULL),
            sl_fn_sum, NULL, 3),
        true, 1);
    SL_CHECK_OK(sl_rdd_collect(r, &out, &n));
    check_json(out, n,
               "[[\"be\",2],[\"do\",1],[\"not\",1],[\"or\",1],[\"to\",3]]");
    sl_engine_free(eng);
}

static void test_sum_kinds(void)
{
    sl_value a = sl_int(INT64_MAX), b = sl_int(1), d = sl_double(0.5), out;
    sl_value s = sl_cstr("x");
    SL_CHECK_OK(sl_fn_sum(NULL, &a, &b, &out, NULL));
    SL_CHECK_INT(out.u.i, INT64_MIN); /* wraps as Java's long does */
    SL_CHECK_OK(sl_fn_sum(NULL, &b, &d, &out, NULL));
    SL_CHECK_INT(out.kind, SL_KIND_DOUBLE);
    SL_CHECK(out.u.d == 1.5);
    SL_CHECK_INT(sl_fn_sum(NULL, &s, &b, &out, NULL), SL_ETYPE);
}

const char *SL_SUITE = "rdd/functions";
const sl_test_case SL_TESTS[] = {
    {"split_words", test_split_words},
    {"split_words_rejects_non_strings", test_split_words_rejects_non_strings},
    {"word_count", test_word_count},
    {"sum_kinds", test_sum_kinds},
    {NULL, NULL},
};
