/*
 * Unit tests of the keyed hash table (src/core/htab.c) against
 * src/core/core.h: a million int keys, upsert's created flag, string keys
 * including the empty one, iteration, resizing, and allocation failure.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sluice/core.h>

#include "core/core.h"
#include "sl_test.h"
#include "sl_test_util.h"

static sl__htab_slot *upsert(sl__htab *t, sl_value key, bool *created)
{
    return sl__htab_upsert(t, &key, sl__htab_hash(&key), created);
}

static sl__htab_slot *find(sl__htab *t, sl_value key)
{
    return sl__htab_find(t, &key, sl__htab_hash(&key));
}

static void test_million_ints(void)
{
    enum { N = 1000000 };
    sl__htab t;
    int64_t i;
    size_t missing = 0, wrong = 0, not_created = 0;
    bool created;

    SL_CHECK_OK(sl__htab_init(&t, 0));
    for (i = 0; i < N; i++) {
        /* Spread keys out so they are not consecutive small integers. */
        sl__htab_slot *s = upsert(&t, sl_int(i * 7919 - 3000000), &created);
        if (!s)
            break;
        if (!created)
            not_created++;
        s->value = sl_int(i);
    }
    SL_CHECK_INT(t.count, N);
    SL_CHECK_INT(not_created, 0);
    SL_CHECK(t.count * 4 <= t.cap * 3); /* load stays under 3/4 */
    for (i = 0; i < N; i++) {
        sl__htab_slot *s = find(&t, sl_int(i * 7919 - 3000000));
        if (!s)
            missing++;
        else if (s->value.kind != SL_KIND_INT || s->value.u.i != i)
            wrong++;
    }
    SL_CHECK_INT(missing, 0);
    SL_CHECK_INT(wrong, 0);
    SL_CHECK(find(&t, sl_int(1)) == NULL);
    SL_CHECK(find(&t, sl_int(N * INT64_C(7919))) == NULL);
    SL_CHECK(find(&t, sl_double(0.0)) == NULL);
    sl__htab_free(&t);
}

static void test_upsert_created(void)
{
    sl__htab t;
    sl__htab_slot *s, *s2;
    bool created = false;

    SL_CHECK_OK(sl__htab_init(&t, 4));
    s = upsert(&t, sl_cstr("k"), &created);
    SL_CHECK(s != NULL);
    SL_CHECK(created);
    SL_CHECK_INT(s->value.kind, SL_KIND_NULL); /* new slots hold null */
    s->value = sl_int(1);
    s2 = upsert(&t, sl_cstr("k"), &created);
    SL_CHECK(!created);
    SL_CHECK(s2 == s);
    SL_CHECK_INT(s2->value.u.i, 1);
    /* 1 and 1.0 are different keys. */
    upsert(&t, sl_int(1), &created);
    SL_CHECK(created);
    upsert(&t, sl_double(1.0), &created);
    SL_CHECK(created);
    upsert(&t, sl_int(1), &created);
    SL_CHECK(!created);
    SL_CHECK_INT(t.count, 3);
    sl__htab_free(&t);
}

static void test_string_keys(void)
{
    static const char *const words[] = {
        "", "a", "b", "ab", "ba", "hello", "a somewhat longer key, over 16"};
    size_t n = sizeof words / sizeof words[0], i;
    sl__htab t;
    bool created;
    char buf[64];

    SL_CHECK_OK(sl__htab_init(&t, 0));
    for (i = 0; i < n; i++) {
        sl__htab_slot *s = upsert(&t, sl_cstr(words[i]), &created);
        SL_CHECK(s && created);
        s->value = sl_int((int64_t)i);
    }
    for (i = 0; i < n; i++) {
        /* Look up through a different buffer with the same bytes. */
        sl__htab_slot *s;
        snprintf(buf, sizeof buf, "%s", words[i]);
        s = find(&t, sl_str(buf, strlen(buf)));
        SL_CHECK(s != NULL);
        if (s)
            SL_CHECK_INT(s->value.u.i, (int64_t)i);
    }
    /* The empty string, whatever its pointer, is one key; not null. */
    SL_CHECK(find(&t, sl_str(buf, 0)) != NULL);
    SL_CHECK(find(&t, sl_null()) == NULL);
    SL_CHECK(find(&t, sl_bytes("a", 1)) == NULL); /* bytes are not strings */
    SL_CHECK(find(&t, sl_cstr("abc")) == NULL);
    SL_CHECK(find(&t, sl_str("hello", 4)) == NULL);
    upsert(&t, sl_str("", 0), &created);
    SL_CHECK(!created);
    SL_CHECK_INT(t.count, n);
    sl__htab_free(&t);
}

/* Pair keys, and keys copied into the table's arena. */
static void test_composite_keys(void)
{
    sl__htab t;
    sl_value items[2] = {sl_cstr("w"), sl_int(3)};
    sl_value key = sl_composite(SL_KIND_PAIR, items, 2), copy;
    sl_value items2[2] = {sl_cstr("w"), sl_int(3)};
    sl__htab_slot *s;
    bool created;

    SL_CHECK_OK(sl__htab_init(&t, 0));
    SL_CHECK_OK(sl__value_copy(&t.arena, NULL, &key, &copy));
    s = sl__htab_upsert(&t, &copy, sl__htab_hash(&key), &created);
    SL_CHECK(s && created);
    items[1] = sl_int(4); /* the caller's memory changes; the key does not */
    SL_CHECK(find(&t, sl_composite(SL_KIND_PAIR, items2, 2)) == s);
    SL_CHECK(find(&t, key) == NULL);
    sl__htab_free(&t);
}

/* Tuple keys (the SQL GROUP BY key) are compared item by item: under one
 * forced hash, only an equal tuple is found (sl_value_equal's rules:
 * -0.0 equals 0.0, a string never equals a number). */
static void test_tuple_keys(void)
{
    sl__htab t;
    sl_value in[3] = {sl_cstr("word"), sl_int(3), sl_double(0.0)};
    sl_value key = sl_composite(SL_KIND_TUPLE, in, 3);
    sl_value same[3] = {sl_str("words", 4), sl_int(3), sl_double(-0.0)};
    sl_value other[][3] = {
        {sl_cstr("wore"), sl_int(3), sl_double(0.0)},
        {sl_cstr("word"), sl_int(4), sl_double(0.0)},
        {sl_cstr("word"), sl_int(3), sl_double(1.0)},
        {sl_cstr("word"), sl_cstr("3"), sl_double(0.0)},
        {sl_cstr("wor"), sl_int(3), sl_double(0.0)},
    };
    sl_value probe;
    sl__htab_slot *s;
    bool created;
    size_t i;

    SL_CHECK_OK(sl__htab_init(&t, 0));
    s = sl__htab_upsert(&t, &key, 7, &created);
    SL_CHECK(s && created);
    probe = sl_composite(SL_KIND_TUPLE, same, 3);
    SL_CHECK(sl__htab_find(&t, &probe, 7) == s);
    probe = sl_composite(SL_KIND_TUPLE, same, 2); /* fewer items */
    SL_CHECK(sl__htab_find(&t, &probe, 7) == NULL);
    probe = sl_composite(SL_KIND_LIST, same, 3); /* not a tuple */
    SL_CHECK(sl__htab_find(&t, &probe, 7) == NULL);
    for (i = 0; i < sizeof other / sizeof other[0]; i++) {
        probe = sl_composite(SL_KIND_TUPLE, other[i], 3);
        SL_CHECK(sl__htab_find(&t, &probe, 7) == NULL);
    }
    sl__htab_free(&t);
}

static void test_iteration_visits_once(void)
{
    enum { N = 5000 };
    static unsigned char seen[N];
    sl__htab t;
    sl__htab_slot *s;
    size_t i = 0, visits = 0, twice = 0;
    int64_t k;
    bool created;

    SL_CHECK_OK(sl__htab_init(&t, 0));
    for (k = 0; k < N; k++)
        upsert(&t, sl_int(k), &created);
    memset(seen, 0, sizeof seen);
    while ((s = sl__htab_next(&t, &i)) != NULL) {
        SL_CHECK(s->hash != 0);
        if (s->key.u.i >= 0 && s->key.u.i < N && seen[s->key.u.i]++)
            twice++;
        visits++;
    }
    SL_CHECK_INT(visits, N);
    SL_CHECK_INT(twice, 0);
    for (k = 0; k < N; k++)
        if (!seen[k])
            twice++;
    SL_CHECK_INT(twice, 0);
    SL_CHECK(sl__htab_next(&t, &i) == NULL); /* stays at the end */
    sl__htab_free(&t);
}

static void test_empty_table(void)
{
    sl__htab t;
    size_t i = 0;

    SL_CHECK_OK(sl__htab_init(&t, 0));
    SL_CHECK(find(&t, sl_int(1)) == NULL);
    SL_CHECK(sl__htab_next(&t, &i) == NULL);
    SL_CHECK_INT(t.count, 0);
    sl__htab_free(&t);
    sl__htab_free(&t); /* a freed table may be freed again */
}

/* Growing from the smallest table keeps every key and value. */
static void test_resize_keeps_everything(void)
{
    sl__htab t;
    char key[32];
    int64_t i;
    size_t lost = 0, last_cap = 0, grows = 0;
    bool created;

    SL_CHECK_OK(sl__htab_init(&t, 0));
    for (i = 0; i < 3000; i++) {
        sl_value k;
        sl__htab_slot *s;
        int n = snprintf(key, sizeof key, "key-%lld", (long long)i);
        k = sl_str(sl__arena_memdup(&t.arena, key, (size_t)n), (size_t)n);
        s = upsert(&t, k, &created);
        SL_CHECK(s && created);
        s->value = sl_int(i * 2);
        if (t.cap != last_cap) {
            grows++;
            last_cap = t.cap;
        }
        if (i % 97 == 0) {
            int64_t j;
            for (j = 0; j <= i; j++) {
                sl__htab_slot *f;
                n = snprintf(key, sizeof key, "key-%lld", (long long)j);
                f = find(&t, sl_str(key, (size_t)n));
                if (!f || f->value.u.i != j * 2)
                    lost++;
            }
        }
    }
    SL_CHECK(grows > 5);
    SL_CHECK_INT(lost, 0);
    SL_CHECK_INT(t.count, 3000);
    sl__htab_free(&t);
}

/* With a large hint the table never grows while filling to the hint. */
static void test_hint(void)
{
    sl__htab t;
    size_t cap;
    int64_t i;
    bool created;

    SL_CHECK_OK(sl__htab_init(&t, 1000));
    cap = t.cap;
    SL_CHECK(cap * 3 >= 1000 * 4);
    for (i = 0; i < 1000; i++)
        upsert(&t, sl_int(i), &created);
    SL_CHECK_INT(t.cap, cap);
    sl__htab_free(&t);
}

/* ----------------------------------------------- allocation failures */

static void test_grow_failure(void)
{
    const sl_allocator *hook = sl_test_failing_allocator();
    sl__htab t;
    int64_t i;
    bool created;
    sl__htab_slot *s = NULL;

    SL_CHECK_OK(sl_set_allocator(hook));
    sl_test_fail_after(0);
    SL_CHECK_INT(sl__htab_init(&t, 0), SL_ENOMEM);
    sl__htab_free(&t);
    sl_test_fail_after(-1);
    SL_CHECK_OK(sl__htab_init(&t, 0));
    sl_test_fail_after(0);
    for (i = 0; i < 100; i++) {
        s = upsert(&t, sl_int(i), &created);
        if (!s)
            break;
    }
    SL_CHECK(s == NULL); /* growing failed and said so */
    /* Everything inserted before the failure is still there. */
    sl_test_fail_after(-1);
    for (int64_t j = 0; j < i; j++)
        SL_CHECK(find(&t, sl_int(j)) != NULL);
    SL_CHECK(upsert(&t, sl_int(i), &created) != NULL);
    sl__htab_free(&t);
    SL_CHECK_OK(sl_set_allocator(NULL));
}

/*
 * An empty string key whose pointer is NULL (a valid empty view) matches
 * the empty string. Last in the suite: UBSan stops the program at a NULL
 * passed to memcmp, and the other tests should report first.
 */
static void test_null_empty_key(void)
{
    sl__htab t;
    bool created;

    SL_CHECK_OK(sl__htab_init(&t, 0));
    SL_CHECK(upsert(&t, sl_cstr(""), &created) != NULL);
    SL_CHECK(find(&t, sl_str(NULL, 0)) != NULL);
    upsert(&t, sl_str(NULL, 0), &created);
    SL_CHECK(!created);
    sl__htab_free(&t);
}

const char *SL_SUITE = "core/htab";
const sl_test_case SL_TESTS[] = {
    {"million_ints", test_million_ints},
    {"upsert_created", test_upsert_created},
    {"string_keys", test_string_keys},
    {"composite_keys", test_composite_keys},
    {"tuple_keys", test_tuple_keys},
    {"iteration_visits_once", test_iteration_visits_once},
    {"empty_table", test_empty_table},
    {"resize_keeps_everything", test_resize_keeps_everything},
    {"hint", test_hint},
    {"grow_failure", test_grow_failure},
    {"null_empty_key", test_null_empty_key},
    {NULL, NULL},
};
