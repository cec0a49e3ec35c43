/*
 * Unit tests of the state store files (src/state/state_files.c): round
 * trips of deltas and snapshots of every value kind (removals, NaN, the
 * pair/list distinction, update times kept), restore = snapshot + deltas
 * equal to the live store entry for entry, the delta's base, every
 * corruption (truncation, a flipped byte, a missing file) named by path,
 * and an injected write failure that leaves the previous file readable.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sluice/core.h>

#include "checkpoint/checkpoint.h"
#include "core/core.h"
#include "sl_test.h"
#include "sl_test_util.h"
#include "state/state_files.h"
#include "state/store.h"

#define SHARDS 4

static char dir[64];

static void setup_dir(void)
{
    strcpy(dir, "/tmp/sl_sf_XXXXXX");
    SL_CHECK(mkdtemp(dir) != NULL);
}

static sl_status put(sl__state_store *st, sl_value k, sl_value v, int64_t t)
{
    return sl__state_put(st, &k, sl__htab_hash(&k), &v, t);
}

static sl_status rm(sl__state_store *st, sl_value k)
{
    return sl__state_remove(st, &k, sl__htab_hash(&k));
}

/* Exact equality: NaN equals itself, kinds and lengths must match. */
static bool same(const sl_value *a, const sl_value *b)
{
    uint32_t i;
    if (a->kind != b->kind || a->len != b->len)
        return false;
    if (a->kind == SL_KIND_DOUBLE)
        return !memcmp(&a->u.d, &b->u.d, sizeof a->u.d);
    if (!sl_kind_is_composite(a->kind))
        return sl_value_equal(a, b);
    for (i = 0; i < a->len; i++)
        if (!same(&a->u.items[i], &b->u.items[i]))
            return false;
    return true;
}

/* Every committed entry of a is in b with the same value and time, and
 * the counts match. */
static bool stores_equal(const sl__state_store *a, const sl__state_store *b)
{
    const sl__state_entry *e, *f;
    size_t s, i;
    if (sl__state_count(a) != sl__state_count(b))
        return false;
    for (s = 0; s < sl__state_shards(a); s++)
        for (i = 0; (e = sl__state_next(a, s, &i));) {
            f = sl__state_get(b, &e->key, e->hash);
            if (!f || !same(&e->value, &f->value) ||
                e->updated_ms != f->updated_ms)
                return false;
        }
    return true;
}

static void path_of(char *out, size_t shard, int64_t v, const char *kind)
{
    snprintf(out, 256, "%s/%zu.%lld.%s", dir, shard, (long long)v, kind);
}

/* Write every shard's delta (changed ones) and commit. */
static void commit_with_deltas(sl__ckpt_io *io, sl__state_store *st, int64_t v)
{
    char p[256];
    size_t s;
    for (s = 0; s < SHARDS; s++) {
        path_of(p, s, v, "delta");
        if (sl__state_shard_changed(st, s))
            SL_CHECK_OK(sl__state_write_delta(io, p, st, s, v));
    }
    SL_CHECK_OK(sl__state_commit(st));
}

static void snapshot_all(sl__ckpt_io *io, sl__state_store *st, int64_t v)
{
    char p[256];
    size_t s;
    for (s = 0; s < SHARDS; s++) {
        path_of(p, s, v, "snapshot");
        SL_CHECK_OK(sl__state_write_snapshot(io, p, st, s, v));
    }
}

/* Restore version `to` from snapshot `snap` (-1: none) and the deltas of
 * versions snap+1 .. to that exist. */
static sl_status restore(sl__ckpt_io *io, sl__state_store *st, int64_t snap,
                         int64_t to)
{
    char p[256];
    size_t s;
    int64_t v, got;
    sl_status rc = sl__state_restore_begin(st, to);
    for (s = 0; s < SHARDS && !rc; s++) {
        if (snap >= 0) {
            path_of(p, s, snap, "snapshot");
            if ((rc = sl__state_load_file(io, p, st, s, &got)))
                break;
            SL_CHECK_INT(got, snap);
        }
        for (v = snap + 1; v <= to && !rc; v++) {
            path_of(p, s, v, "delta");
            if (access(p, F_OK) == 0)
                rc = sl__state_load_file(io, p, st, s, &got);
        }
    }
    if (rc) {
        sl__state_abort(st);
        return rc;
    }
    return sl__state_restore_end(st);
}

/* A store through three versions with every kind, updates, removals. */
static sl__state_store *build(sl__ckpt_io *io)
{
    sl__state_store *st = sl__state_new(SHARDS);
    sl_value items[2] = {sl_int(1), sl_cstr("x")};
    int i;

    SL_CHECK_OK(sl__state_begin(st, 1));
    for (i = 0; i < 100; i++)
        SL_CHECK_OK(put(st, sl_int(i), sl_int(i * 10), 1000 + i));
    SL_CHECK_OK(put(st, sl_cstr("nan"), sl_double(NAN), 7));
    SL_CHECK_OK(
        put(st, sl_cstr("pair"), sl_composite(SL_KIND_PAIR, items, 2), 8));
    SL_CHECK_OK(
        put(st, sl_cstr("list"), sl_composite(SL_KIND_LIST, items, 2), 9));
    SL_CHECK_OK(put(st, sl_cstr("null"), sl_null(), 10));
    commit_with_deltas(io, st, 1);
    snapshot_all(io, st, 1);
    SL_CHECK_OK(sl__state_begin(st, 2));
    for (i = 0; i < 100; i += 3)
        SL_CHECK_OK(rm(st, sl_int(i)));
    SL_CHECK_OK(put(st, sl_int(1), sl_cstr("one"), 2001));
    SL_CHECK_OK(put(st, sl_cstr("new"), sl_double(-0.0), 2002));
    commit_with_deltas(io, st, 2);
    SL_CHECK_OK(sl__state_begin(st, 3));
    SL_CHECK_OK(put(st, sl_int(0), sl_int(5), 3000)); /* removed, back */
    SL_CHECK_OK(rm(st, sl_cstr("pair")));
    commit_with_deltas(io, st, 3);
    return st;
}

static void test_round_trip(void)
{
    sl__ckpt_io io;
    sl__state_store *live, *back;

    setup_dir();
    sl__ckpt_io_init(&io);
    live = build(&io);
    /* From the snapshot of 1 and the deltas, and from the deltas alone. */
    back = sl__state_new(SHARDS);
    SL_CHECK_OK(restore(&io, back, 1, 3));
    SL_CHECK(stores_equal(live, back));
    SL_CHECK(stores_equal(back, live));
    SL_CHECK_INT(sl__state_version(back), 3);
    SL_CHECK_OK(restore(&io, back, -1, 3));
    SL_CHECK(stores_equal(live, back));
    /* An older version: 1 alone. */
    SL_CHECK_OK(restore(&io, back, -1, 1));
    SL_CHECK_INT(sl__state_count(back), 104);
    SL_CHECK(sl__state_get(
                 back, &(sl_value){SL_KIND_INT, 0, {.i = 3}},
                 sl__htab_hash(&(sl_value){SL_KIND_INT, 0, {.i = 3}})) != NULL);
    /* The next version goes through the normal begin after a restore. */
    SL_CHECK_OK(sl__state_begin(back, 4));
    sl__state_abort(back);
    sl__state_free(back);
    sl__state_free(live);
    sl__ckpt_io_free(&io);
    sl_test_remove_tree(dir);
}

/* A delta written with a base gives it back; an unknown base is -2. */
static void test_base(void)
{
    sl__ckpt_io io;
    sl__state_store *st = sl__state_new(1), *back = sl__state_new(1);
    char p[256];
    int64_t v, base;

    setup_dir();
    sl__ckpt_io_init(&io);
    SL_CHECK_OK(sl__state_begin(st, 5));
    SL_CHECK_OK(put(st, sl_int(1), sl_int(2), 3));
    snprintf(p, sizeof p, "%s/5.delta", dir);
    SL_CHECK_OK(sl__state_write_delta_on(&io, p, st, 0, 5, 2));
    SL_CHECK_OK(sl__state_restore_begin(back, 5));
    SL_CHECK_OK(sl__state_load_file_on(&io, p, back, 0, &v, &base));
    SL_CHECK_INT(v, 5);
    SL_CHECK_INT(base, 2);
    sl__state_abort(back);
    SL_CHECK_OK(sl__state_write_delta(&io, p, st, 0, 5));
    SL_CHECK_OK(sl__state_restore_begin(back, 5));
    SL_CHECK_OK(sl__state_load_file_on(&io, p, back, 0, &v, &base));
    SL_CHECK_INT(base, SL__STATE_BASE_UNKNOWN);
    sl__state_abort(back);
    sl__state_free(st);
    sl__state_free(back);
    sl__ckpt_io_free(&io);
    sl_test_remove_tree(dir);
}

/* Truncated at several lengths, a byte flipped anywhere, deleted, and a
 * file of another shard: each refused with the path in the message. */
static void test_corruption(void)
{
    sl__ckpt_io io;
    sl__state_store *live, *back = sl__state_new(SHARDS);
    char p[256], *orig;
    size_t len, i;
    int64_t v;
    sl_status rc;

    setup_dir();
    sl__ckpt_io_init(&io);
    live = build(&io);
    path_of(p, 0, 1, "snapshot");
    orig = sl_test_read_file(p, &len);
    SL_CHECK(orig != NULL && len > SL__CKPT_HEADER_SIZE);
    for (i = 0; orig && i < len; i += (i < 40 ? 1 : 7)) {
        sl_test_write_file(p, orig, i); /* truncated */
        SL_CHECK_OK(sl__state_restore_begin(back, 1));
        rc = sl__state_load_file(&io, p, back, 0, &v);
        sl__state_abort(back);
        SL_CHECK_INT(rc, SL_ECORRUPT);
        SL_CHECK(strstr(sl__ckpt_io_errmsg(&io), p) != NULL);
        orig[i] ^= 0x20; /* flipped */
        sl_test_write_file(p, orig, len);
        orig[i] ^= 0x20;
        SL_CHECK_OK(sl__state_restore_begin(back, 1));
        rc = sl__state_load_file(&io, p, back, 0, &v);
        sl__state_abort(back);
        SL_CHECK_INT(rc, SL_ECORRUPT);
        SL_CHECK(strstr(sl__ckpt_io_errmsg(&io), p) != NULL);
    }
    unlink(p);
    SL_CHECK_INT(restore(&io, back, 1, 3), SL_ENOTFOUND);
    SL_CHECK(strstr(sl__ckpt_io_errmsg(&io), p) != NULL);
    /* Shard 1's file offered as shard 0's. */
    path_of(p, 1, 1, "snapshot");
    SL_CHECK_OK(sl__state_restore_begin(back, 1));
    SL_CHECK_INT(sl__state_load_file(&io, p, back, 0, &v), SL_ECORRUPT);
    SL_CHECK(strstr(sl__ckpt_io_errmsg(&io), "shard 1 of 4") != NULL);
    sl__state_abort(back);
    free(orig);
    sl__state_free(back);
    sl__state_free(live);
    sl__ckpt_io_free(&io);
    sl_test_remove_tree(dir);
}

static int fail_write(void *user, sl__ckpt_step step, const char *path)
{
    (void)user;
    (void)path;
    return step == SL__CKPT_STEP_WRITE ? ENOSPC : 0;
}

/* A failed write leaves the previous file, which still loads. */
static void test_write_failure(void)
{
    sl__ckpt_io io;
    sl__state_store *st = sl__state_new(1), *back = sl__state_new(1);
    char p[256];
    int64_t v;

    setup_dir();
    sl__ckpt_io_init(&io);
    snprintf(p, sizeof p, "%s/0.snapshot", dir);
    SL_CHECK_OK(sl__state_begin(st, 1));
    SL_CHECK_OK(put(st, sl_int(1), sl_int(1), 1));
    SL_CHECK_OK(sl__state_commit(st));
    SL_CHECK_OK(sl__state_write_snapshot(&io, p, st, 0, 1));
    SL_CHECK_OK(sl__state_begin(st, 2));
    SL_CHECK_OK(put(st, sl_int(2), sl_int(2), 2));
    SL_CHECK_OK(sl__state_commit(st));
    io.fault = fail_write;
    SL_CHECK_INT(sl__state_write_snapshot(&io, p, st, 0, 2), SL_EIO);
    SL_CHECK(strstr(sl__ckpt_io_errmsg(&io), "No space left") != NULL);
    io.fault = NULL;
    SL_CHECK_OK(sl__state_restore_begin(back, 1));
    SL_CHECK_OK(sl__state_load_file(&io, p, back, 0, &v));
    SL_CHECK_OK(sl__state_restore_end(back));
    SL_CHECK_INT(v, 1);
    SL_CHECK_INT(sl__state_count(back), 1);
    sl__state_free(st);
    sl__state_free(back);
    sl__ckpt_io_free(&io);
    sl_test_remove_tree(dir);
}

const char *SL_SUITE = "state_files";
const sl_test_case SL_TESTS[] = {
    {"round_trip", test_round_trip},
    {"base", test_base},
    {"corruption", test_corruption},
    {"write_failure", test_write_failure},
    {NULL, NULL},
};
