/*
 * Allocation-failure tests through the allocation hook: a counting
 * allocator, installed once before sluice allocates anything, fails the
 * n-th allocation (or the n-th and every later one) for n = 1, 2, ... until
 * an operation runs without reaching its failure point. Every failing run
 * must return SL_ENOMEM (or NULL from a constructor), never crash, and free
 * everything: the allocator's live-block count must come back to zero, and
 * sl_set_allocator must not report blocks still held (SL_EBUSY).
 * Covered: core, the checkpoint files and logs, state files, the RDD
 * engine, the
 * streaming context and job files.
 */
#include <stdatomic.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sluice/sluice.h>

#include "core/codec.h"
#include "checkpoint/checkpoint.h"
#include "core/core.h"
#include "sl_test.h"
#include "state/state_files.h"
#include "state/store.h"
#include "sl_test_util.h"

/* ------------------------------------------------- counting allocator */

static atomic_long g_calls;      /* allocation attempts since reset */
static atomic_long g_fail_at;    /* 0: never fail */
static atomic_bool g_persistent; /* fail at g_fail_at and every later one */
static atomic_long g_failed;     /* failures injected since reset */
static atomic_long g_live;       /* blocks handed out and not freed */

static bool should_fail(void)
{
    long c = atomic_fetch_add(&g_calls, 1) + 1;
    long f = atomic_load(&g_fail_at);
    if (f && (c == f || (atomic_load(&g_persistent) && c > f))) {
        atomic_fetch_add(&g_failed, 1);
        return true;
    }
    return false;
}

static void *fa_malloc(size_t n, void *u)
{
    void *p;
    (void)u;
    if (should_fail())
        return NULL;
    p = malloc(n);
    if (p)
        atomic_fetch_add(&g_live, 1);
    return p;
}

static void *fa_realloc(void *old, size_t n, void *u)
{
    void *p;
    (void)u;
    if (should_fail())
        return NULL;
    p = realloc(old, n);
    if (p && !old)
        atomic_fetch_add(&g_live, 1);
    return p;
}

static void fa_free(void *p, void *u)
{
    (void)u;
    if (!p)
        return;
    atomic_fetch_sub(&g_live, 1);
    free(p);
}

static const sl_allocator FA = {fa_malloc, fa_realloc, fa_free, NULL};

static void arm(long n, bool persistent)
{
    atomic_store(&g_calls, 0);
    atomic_store(&g_failed, 0);
    atomic_store(&g_persistent, persistent);
    atomic_store(&g_fail_at, n);
}

/* ------------------------------------------------------------ the loop */

/* An operation: builds, verifies and frees everything it made; returns
 * SL_OK, SL_ENOMEM, or SL_ECORRUPT when it succeeded with wrong results. */
typedef sl_status (*op_fn)(void *arg);

typedef struct loop_result {
    long points;    /* allocations of an undisturbed run */
    long enomem;    /* failing runs that returned SL_ENOMEM */
    long recovered; /* runs that hit a failure yet succeeded correctly */
    long bad;       /* crashes, hangs, leaks and wrong statuses */
} loop_result;

/* What one run reports from its child process. */
typedef struct run_report {
    int st;
    int hit;
    long live;
    int busy;
} run_report;

/* Run op with failure point n in the calling process. */
static void run_here(op_fn op, void *arg, long n, bool persistent,
                     run_report *r)
{
    arm(n, persistent);
    r->st = op(arg);
    r->hit = atomic_load(&g_failed) > 0;
    arm(0, false);
    r->live = atomic_load(&g_live);
    r->busy = sl_set_allocator(&FA) != SL_OK;
}

/* One run in the child: its report goes back through the pipe fd. */
typedef struct child_run {
    op_fn op;
    void *arg;
    long n;
    bool persistent;
    int fd;
} child_run;

static int run_child(void *arg)
{
    const child_run *c = arg;
    run_report r;
    run_here(c->op, c->arg, c->n, c->persistent, &r);
    return write(c->fd, &r, sizeof r) == (ssize_t)sizeof r ? 0 : 3;
}

/*
 * Run op with failure point n in a child process, so that a crash or a
 * hang at one n is reported and the loop goes on. Returns 0, or the signal
 * that ended the child (SIGALRM: it hung), or -1 when it exited without a
 * report.
 */
static int run_forked(op_fn op, void *arg, long n, bool persistent,
                      run_report *r)
{
    child_run c = {op, arg, n, persistent, -1};
    int fds[2], status = 0;
    ssize_t got = 0;
    bool forked;
    if (pipe(fds) != 0)
        return -1;
    c.fd = fds[1];
    forked = sl_test_run_in_child(run_child, &c, 60, &status);
    /* The child has exited: what it wrote waits in the pipe. */
    close(fds[1]);
    if (forked)
        got = read(fds[0], r, sizeof *r);
    close(fds[0]);
    if (!forked)
        return -1;
    if (WIFSIGNALED(status))
        return WTERMSIG(status);
    return got == (ssize_t)sizeof *r ? 0 : -1;
}

/*
 * SL_FAULT_ONLY="<name prefix>:<once|persistent>:<n>" runs just that case
 * in this process (for a debugger); SL_FAULT_NOFORK=1 runs every case in
 * this process.
 */
static bool only_this(const char *name, bool persistent, long *n)
{
    const char *spec = getenv("SL_FAULT_ONLY");
    const char *c1, *c2;
    if (!spec)
        return false;
    c1 = strchr(spec, ':');
    c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    if (!c2 || strncmp(name, spec, (size_t)(c1 - spec)) != 0 ||
        strncmp(c1 + 1, persistent ? "persistent" : "once",
                (size_t)(c2 - c1 - 1)) != 0)
        return false;
    *n = atol(c2 + 1);
    return true;
}

static void run_fault_loop(const char *name, op_fn op, void *arg,
                           bool persistent, loop_result *res)
{
    const char *mode = persistent ? "persistent" : "once";
    bool nofork = getenv("SL_FAULT_NOFORK") != NULL;
    long n, limit;
    sl_status st;
    run_report r;

    memset(res, 0, sizeof *res);
    if (getenv("SL_FAULT_ONLY")) {
        if (only_this(name, persistent, &n)) {
            run_here(op, arg, n, persistent, &r);
            printf("\n    %s %s n=%ld: %s, hit %d, live %ld ", name, mode, n,
                   sl_errname(r.st), r.hit, r.live);
        }
        return;
    }
    arm(0, false);
    st = op(arg);
    res->points = atomic_load(&g_calls);
    if (st != SL_OK) {
        sl_test_fail(__FILE__, __LINE__, "%s: undisturbed run: %s", name,
                     sl_errname(st));
        return;
    }
    SL_CHECK_INT(atomic_load(&g_live), 0);
    limit = 4 * res->points + 1000;
    for (n = 1; n <= limit; n++) {
        int sig = 0;
        memset(&r, 0, sizeof r);
        if (nofork)
            run_here(op, arg, n, persistent, &r);
        else
            sig = run_forked(op, arg, n, persistent, &r);
        if (sig != 0) {
            res->bad++;
            sl_test_fail(__FILE__, __LINE__,
                         "%s (%s) n=%ld: %s %d (rerun with "
                         "SL_FAULT_ONLY='%s:%s:%ld' under gdb)",
                         name, mode, n, sig > 0 ? "killed by signal" : "exit",
                         sig, name, mode, n);
            continue;
        }
        if (r.live != 0) {
            res->bad++;
            sl_test_fail(__FILE__, __LINE__,
                         "%s (%s) n=%ld: %ld blocks leaked (status %s)", name,
                         mode, n, r.live, sl_errname(r.st));
            atomic_store(&g_live, 0);
        } else if (r.busy) {
            res->bad++;
            sl_test_fail(__FILE__, __LINE__,
                         "%s (%s) n=%ld: sl_set_allocator says blocks are "
                         "held",
                         name, mode, n);
        }
        if (!r.hit) {
            if (r.st != SL_OK)
                sl_test_fail(__FILE__, __LINE__,
                             "%s n=%ld: no failure injected, got %s", name, n,
                             sl_errname(r.st));
            break;
        }
        if (r.st == SL_ENOMEM) {
            res->enomem++;
        } else if (r.st == SL_OK) {
            res->recovered++;
        } else {
            res->bad++;
            sl_test_fail(__FILE__, __LINE__,
                         "%s (%s) n=%ld: %s, want SL_ENOMEM", name, mode, n,
                         sl_errname(r.st));
        }
    }
    if (n > limit)
        sl_test_fail(__FILE__, __LINE__, "%s: did not finish after %ld runs",
                     name, limit);
    printf("\n    %-22s %-10s %5ld allocation points: %5ld ENOMEM, "
           "%4ld recovered, %3ld bad ",
           name, mode, res->points, res->enomem, res->recovered, res->bad);
    fflush(stdout);
}

static void fault_both(const char *name, op_fn op, void *arg)
{
    loop_result a, b;
    run_fault_loop(name, op, arg, false, &a);
    run_fault_loop(name, op, arg, true, &b);
    if (getenv("SL_FAULT_ONLY"))
        return;
    SL_CHECK(a.points > 0);
    SL_CHECK_INT(a.points, b.points);
    /* Every allocation point up to the last was a failure point. */
    SL_CHECK_INT(a.enomem + a.recovered + a.bad, a.points);
}

static void test_install(void)
{
    /* Nothing of sluice has allocated yet in this process. */
    SL_CHECK_OK(sl_set_allocator(&FA));
    SL_CHECK_INT(atomic_load(&g_live), 0);
}

/* ------------------------------------------------------------ (a) core */

static sl_status op_conf(void *arg)
{
    char err[256];
    sl_conf *conf, *dup;
    sl_status st;
    int64_t w = 0;
    (void)arg;
    conf = sl_conf_new();
    if (!conf)
        return SL_ENOMEM;
    if ((st = sl_conf_set(conf, "workers", "3", err, sizeof err)) != SL_OK ||
        (st = sl_conf_set(conf, "batch_interval", "250ms", err, sizeof err)) !=
            SL_OK ||
        (st = sl_conf_set(conf, "generator.zipf_s", "1.25", err, sizeof err)) !=
            SL_OK ||
        (st = sl_conf_set(conf, "workers", "4", err, sizeof err)) != SL_OK) {
        sl_conf_free(conf);
        if (st == SL_ENOMEM && !strstr(err, "out of memory"))
            return SL_ECORRUPT;
        return st;
    }
    dup = sl_conf_dup(conf);
    sl_conf_free(conf);
    if (!dup)
        return SL_ENOMEM;
    st = SL_OK;
    if (sl_conf_get_int(dup, "workers", &w) != SL_OK || w != 4 ||
        strcmp(sl_conf_get(dup, "batch_interval"), "250ms") != 0 ||
        strcmp(sl_conf_get(dup, "generator.zipf_s"), "1.25") != 0 ||
        strcmp(sl_conf_get(dup, "clock"), "system") != 0)
        st = SL_ECORRUPT;
    sl_conf_free(dup);
    return st;
}

static int g_cleanups;

static void count_cleanup(void *arg)
{
    (void)arg;
    g_cleanups++;
}

static sl_status op_arena(void *arg)
{
    static const size_t sizes[] = {1,
                                   8,
                                   100,
                                   4000,
                                   4096,
                                   5000,
                                   100000,
                                   3,
                                   70000,
                                   17,
                                   65536,
                                   9,
                                   (size_t)5 << 20,
                                   12,
                                   300000,
                                   1};
    unsigned char *ptrs[64];
    size_t np = 0, i, j, round;
    sl__arena a;
    sl_status st = SL_OK;
    int hooks = 0;
    (void)arg;
    g_cleanups = 0;
    sl__arena_init(&a, 1024);
    for (round = 0; round < 2 && st == SL_OK; round++) {
        np = 0;
        for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
            unsigned char *p = sl__arena_alloc(&a, sizes[i]);
            if (!p) {
                st = SL_ENOMEM;
                break;
            }
            memset(p, (int)(i + 1), sizes[i]);
            ptrs[np++] = p;
        }
        if (st == SL_OK) {
            if (sl__arena_on_cleanup(&a, count_cleanup, NULL) != SL_OK)
                st = SL_ENOMEM;
            else
                hooks++;
        }
        if (st == SL_OK && !sl__arena_memdup(&a, "hello", 5))
            st = SL_ENOMEM;
        for (i = 0; st == SL_OK && i < np; i++)
            for (j = 0; j < sizes[i]; j += 97)
                if (ptrs[i][j] != (unsigned char)(i + 1))
                    st = SL_ECORRUPT;
        if (round == 0)
            sl__arena_reset(&a);
    }
    sl__arena_free(&a);
    /* Every hook that was registered ran exactly once. */
    if (g_cleanups != hooks)
        return SL_ECORRUPT;
    return st;
}

static sl_status op_htab(void *arg)
{
    sl__htab t;
    sl_status st = SL_OK;
    char key[32];
    int i;
    (void)arg;
    if (sl__htab_init(&t, 0) != SL_OK) {
        sl__htab_free(&t);
        return SL_ENOMEM;
    }
    for (i = 0; i < 1000 && st == SL_OK; i++) {
        bool created;
        sl_value k;
        sl__htab_slot *s;
        snprintf(key, sizeof key, "key-%d", i * 7);
        k = sl_cstr(key);
        s = sl__htab_upsert(&t, &k, sl__htab_hash(&k), &created);
        if (!s) {
            st = SL_ENOMEM;
            break;
        }
        if (!created) {
            st = SL_ECORRUPT;
            break;
        }
        if (sl__value_copy(&t.arena, NULL, &k, &s->key) != SL_OK) {
            /* The slot must not keep pointing at the caller's buffer. */
            s->key = sl_int(-1 - i);
            st = SL_ENOMEM;
            break;
        }
        s->value = sl_int(i);
    }
    if (st == SL_OK) {
        if (t.count != 1000)
            st = SL_ECORRUPT;
        for (i = 0; i < 1000 && st == SL_OK; i++) {
            sl_value k;
            sl__htab_slot *s;
            snprintf(key, sizeof key, "key-%d", i * 7);
            k = sl_cstr(key);
            s = sl__htab_find(&t, &k, sl__htab_hash(&k));
            if (!s || s->value.u.i != i)
                st = SL_ECORRUPT;
        }
    }
    sl__htab_free(&t);
    return st;
}

/* A nested value: a list of 40 pairs (string, tuple(int, string, list of
 * strings)), built in a scratch arena, then copied out of it. */
static sl_status build_nested(sl__arena *a, sl_value *out)
{
    sl_value *items = sl__arena_alloc(a, 40 * sizeof *items);
    int i, j;
    if (!items)
        return SL_ENOMEM;
    for (i = 0; i < 40; i++) {
        sl_value *pair = sl__arena_alloc(a, 2 * sizeof *pair);
        sl_value *tup = sl__arena_alloc(a, 3 * sizeof *tup);
        sl_value *lst = sl__arena_alloc(a, 5 * sizeof *lst);
        char *s = sl__arena_alloc(a, 600);
        if (!pair || !tup || !lst || !s)
            return SL_ENOMEM;
        for (j = 0; j < 600; j++)
            s[j] = (char)('a' + (i + j) % 26);
        for (j = 0; j < 5; j++)
            lst[j] = sl_str(s + j * 10, (size_t)(j + 1) * 7);
        tup[0] = sl_int(i);
        tup[1] = sl_str(s, 600);
        tup[2] = sl_composite(SL_KIND_LIST, lst, 5);
        pair[0] = sl_str(s + 100, (size_t)i);
        pair[1] = sl_composite(SL_KIND_TUPLE, tup, 3);
        items[i] = sl_composite(SL_KIND_PAIR, pair, 2);
    }
    *out = sl_composite(SL_KIND_LIST, items, 40);
    return SL_OK;
}

static sl_status op_value_copy(void *arg)
{
    sl__arena scratch, to, to2;
    sl_value v, c1, c2;
    sl_status st;
    (void)arg;
    sl__arena_init(&scratch, 4096);
    sl__arena_init(&to, 512);
    sl__arena_init(&to2, 512);
    st = build_nested(&scratch, &v);
    if (st == SL_OK)
        st = sl__value_copy(&to, &scratch, &v, &c1);
    if (st == SL_OK)
        st = sl__value_copy(&to2, NULL, &c1, &c2);
    if (st == SL_OK) {
        /* Copies are equal and no longer point into the source. */
        if (!sl_value_equal(&v, &c1) || !sl_value_equal(&v, &c2) ||
            sl__arena_owns(&scratch, c1.u.items) ||
            sl__arena_owns(&to, c2.u.items) ||
            sl__arena_owns(&scratch, c1.u.items[3].u.items[0].u.s))
            st = SL_ECORRUPT;
        /* Scratch gone: c1 must still read back whole. */
        sl__arena_free(&scratch);
        if (st == SL_OK && !sl_value_equal(&c1, &c2))
            st = SL_ECORRUPT;
    }
    sl__arena_free(&scratch);
    sl__arena_free(&to);
    sl__arena_free(&to2);
    return st;
}

/* The nested value through the codec: a record batch grown in an sl__buf
 * (one reallocation after another), then decoded into a small arena. */
static sl_status op_codec(void *arg)
{
    sl__arena scratch, to;
    sl__codec_reader r;
    sl__codec_alloc al;
    sl__buf b = {0};
    sl_value v, out;
    sl_status st;
    int i;
    (void)arg;
    sl__arena_init(&scratch, 4096);
    sl__arena_init(&to, 256);
    al = sl__codec_arena_alloc(&to);
    st = build_nested(&scratch, &v);
    if (st == SL_OK)
        st = sl__codec_begin(&b);
    for (i = 0; i < 8 && st == SL_OK; i++)
        st = sl__codec_encode(&b, &v, NULL);
    if (st == SL_OK)
        st = sl__codec_reader_init(&r, b.data, b.len, 0, NULL);
    for (i = 0; i < 8 && st == SL_OK; i++) {
        st = sl__codec_read(&r, &al, &out, NULL);
        if (st == SL_OK && !sl_value_equal(&v, &out))
            st = SL_ECORRUPT;
    }
    if (st == SL_OK && !sl__codec_reader_done(&r))
        st = SL_ECORRUPT;
    sl__buf_free(&b);
    sl__arena_free(&scratch);
    sl__arena_free(&to);
    return st;
}

static void test_core_conf(void)
{
    fault_both("conf", op_conf, NULL);
}

static void test_core_arena(void)
{
    fault_both("arena", op_arena, NULL);
}

static void test_core_htab(void)
{
    fault_both("htab 1000 keys", op_htab, NULL);
}

static void test_core_value_copy(void)
{
    fault_both("value_copy nested", op_value_copy, NULL);
}

static void test_core_codec(void)
{
    fault_both("codec nested", op_codec, NULL);
}

/* ------------------------------------------------------ (c) checkpoint */

/* The first failure of a checkpoint call, kept in *st. */
static bool ck_ok(sl_status *st, sl_status got)
{
    if (*st == SL_OK)
        *st = got;
    return *st == SL_OK;
}

/* Logs, listings, retention, rollback and inspect on an open checkpoint. */
static sl_status ck_ops(sl__ckpt *ck, const char *dir)
{
    sl_status st = SL_OK;
    int64_t *b = NULL, last = 0;
    size_t n = 0, problems;
    char *out = NULL, err[256];
    void *p = NULL;

    for (int64_t i = 1; i <= 4 && ck_ok(&st, SL_OK); i++) {
        ck_ok(&st, sl__ckpt_log_write(ck, SL__CKPT_OFFSETS, i, "{}", 2));
        if (i < 4)
            ck_ok(&st, sl__ckpt_log_write(ck, SL__CKPT_COMMITS, i, "{}", 2));
    }
    if (ck_ok(&st, sl__ckpt_log_read(ck, SL__CKPT_OFFSETS, 2, &p, &n)) &&
        (n != 2 || memcmp(p, "{}", 2) != 0))
        st = SL_ECORRUPT;
    sl_free(p);
    if (ck_ok(&st, sl__ckpt_uncommitted(ck, &b, &n)) && (n != 1 || b[0] != 4))
        st = SL_ECORRUPT;
    sl_free(b);
    ck_ok(&st, sl__ckpt_retain(ck, 2, NULL, NULL));
    ck_ok(&st, sl__ckpt_rollback(ck, 2, NULL, NULL));
    if (ck_ok(&st, sl__ckpt_log_last(ck, SL__CKPT_OFFSETS, &last)) && last != 2)
        st = SL_ECORRUPT;
    for (int f = 0; f < 2 && ck_ok(&st, SL_OK); f++) {
        ck_ok(&st, sl__ckpt_inspect(
                       dir, f ? SL__CKPT_FORMAT_JSON : SL__CKPT_FORMAT_TABLE,
                       &out, &problems, err, sizeof err));
        if (st == SL_OK && (problems != 0 || !strstr(out, "committed")))
            st = SL_ECORRUPT;
        sl_free(out);
        out = NULL;
    }
    return st;
}

/* Create a checkpoint in a new directory, use it, reopen it. */
static sl_status op_checkpoint(void *arg)
{
    char tmpl[] = "/tmp/sl_fault_ckpt_XXXXXX", sub[64], cmd[96], err[256];
    char *dir = mkdtemp(tmpl);
    sl__ckpt *ck = NULL;
    sl_status st;

    (void)arg;
    if (!dir)
        return SL_EIO;
    snprintf(sub, sizeof sub, "%s/ck", dir);
    st = sl__ckpt_open(sub, true, "fp", 2, &ck, err, sizeof err);
    if (st == SL_OK)
        st = ck_ops(ck, sub);
    sl__ckpt_close(ck);
    ck = NULL;
    if (st == SL_OK && (st = sl__ckpt_open(sub, false, NULL, 0, &ck, err,
                                           sizeof err)) == SL_OK) {
        size_t len;
        const void *fp = sl__ckpt_fingerprint(ck, &len);
        if (len != 2 || memcmp(fp, "fp", 2) != 0)
            st = SL_ECORRUPT;
    }
    sl__ckpt_close(ck);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0 && st == SL_OK)
        st = SL_EIO;
    return st;
}

static void test_checkpoint(void)
{
    fault_both("checkpoint write, read, retain, rollback, inspect",
               op_checkpoint, NULL);
}

/* A store with strings and a removal, its delta and snapshot files
 * written and loaded into a second store, then pruned by name. */
static sl_status state_files_ops(sl__ckpt *ck, const char *dir,
                                 sl__state_store *a, sl__state_store *b)
{
    sl__ckpt_io *io = sl__ckpt_io_of(ck);
    char snap[96], delta[96];
    sl_value k, v;
    int64_t ver;
    sl_status st = SL_OK;

    snprintf(snap, sizeof snap, "%s/1.snapshot", dir);
    snprintf(delta, sizeof delta, "%s/2.delta", dir);
    ck_ok(&st, sl__state_begin(a, 1));
    for (int i = 0; i < 20 && st == SL_OK; i++) {
        k = sl_int(i);
        v = sl_cstr("a state string longer than sixteen bytes");
        ck_ok(&st, sl__state_put(a, &k, sl__htab_hash(&k), &v, i));
    }
    ck_ok(&st, sl__state_commit(a));
    ck_ok(&st, sl__state_write_snapshot(io, snap, a, 0, 1));
    ck_ok(&st, sl__state_begin(a, 2));
    k = sl_int(3);
    ck_ok(&st, sl__state_remove(a, &k, sl__htab_hash(&k)));
    ck_ok(&st, sl__state_write_delta_on(io, delta, a, 0, 2, 1));
    ck_ok(&st, sl__state_commit(a));
    ck_ok(&st, sl__state_restore_begin(b, 2));
    ck_ok(&st, sl__state_load_file(io, snap, b, 0, &ver));
    ck_ok(&st, sl__state_load_file(io, delta, b, 0, &ver));
    if (st == SL_OK)
        st = sl__state_restore_end(b);
    else
        sl__state_abort(b);
    if (st == SL_OK && sl__state_count(b) != 19)
        st = SL_ECORRUPT;
    ck_ok(&st, sl__ckpt_prune_names(NULL, ck, 2, INT64_MAX));
    return st;
}

static sl_status op_state_files(void *arg)
{
    char tmpl[] = "/tmp/sl_fault_state_XXXXXX", sub[64], cmd[96], err[256];
    char *dir = mkdtemp(tmpl);
    sl__state_store *a = NULL, *b = NULL;
    sl__ckpt *ck = NULL;
    sl_status st;

    (void)arg;
    if (!dir)
        return SL_EIO;
    snprintf(sub, sizeof sub, "%s/state/op/0", dir);
    st = sl__ckpt_open(dir, true, "fp", 2, &ck, err, sizeof err);
    if (st == SL_OK && (!(a = sl__state_new(1)) || !(b = sl__state_new(1))))
        st = SL_ENOMEM;
    if (st == SL_OK)
        st = sl__ckpt_mkdirs(sl__ckpt_io_of(ck), sub);
    if (st == SL_OK)
        st = state_files_ops(ck, sub, a, b);
    sl__state_free(a);
    sl__state_free(b);
    sl__ckpt_close(ck);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0 && st == SL_OK)
        st = SL_EIO;
    return st;
}

static void test_state_files(void)
{
    fault_both("state files write, load, prune", op_state_files, NULL);
}

/* ------------------------------------------------------ (b) RDD engine */

static sl_status fn_words(sl_task *t, const sl_value *in, void *u)
{
    const char *p = in->u.s, *end = p + in->len;
    (void)u;
    while (p < end) {
        const char *w;
        sl_value v;
        sl_status st;
        while (p < end && *p == ' ')
            p++;
        if (p >= end)
            break;
        w = p;
        while (p < end && *p != ' ')
            p++;
        /* Copied into task memory so shuffles must copy it out. */
        if ((st = sl_task_str(t, w, (size_t)(p - w), &v)) != SL_OK)
            return st;
        if ((st = sl_task_emit(t, &v)) != SL_OK)
            return st;
    }
    return SL_OK;
}

static const char *const LINES[] = {"the quick brown fox",
                                    "jumps over the lazy dog",
                                    "the dog sleeps",
                                    "a fox runs and the dog barks",
                                    "brown dogs and brown foxes",
                                    "over and over",
                                    "lazy lazy lazy",
                                    "the end"};
#define NLINES (sizeof LINES / sizeof LINES[0])

/* Reference word counts of LINES, computed once without sluice. */
typedef struct wc {
    char word[16];
    int64_t n;
} wc;
static wc g_ref[64];
static size_t g_nref;
static int64_t g_nwords;

static void build_reference(void)
{
    size_t i, k;
    if (g_nref)
        return;
    for (i = 0; i < NLINES; i++) {
        char line[128], *save = NULL, *w;
        snprintf(line, sizeof line, "%s", LINES[i]);
        for (w = strtok_r(line, " ", &save); w;
             w = strtok_r(NULL, " ", &save)) {
            g_nwords++;
            for (k = 0; k < g_nref && strcmp(g_ref[k].word, w); k++)
                ;
            if (k == g_nref)
                snprintf(g_ref[g_nref++].word, sizeof g_ref[0].word, "%s", w);
            g_ref[k].n++;
        }
    }
}

static int64_t ref_count(const sl_value *w)
{
    size_t k;
    for (k = 0; k < g_nref; k++)
        if (strlen(g_ref[k].word) == w->len &&
            memcmp(g_ref[k].word, w->u.s, w->len) == 0)
            return g_ref[k].n;
    return -1;
}

/* Status of an action, with an unexpected one turned into ECORRUPT-free
 * reporting: actions must fail with SL_ENOMEM only. */
static sl_status rdd_pipeline(sl_engine *eng)
{
    sl_value lines[NLINES];
    sl_rdd *text, *words, *pairs, *counts, *groups, *joined, *sorted;
    const sl_value *out;
    size_t i, n;
    int64_t cnt;
    sl_status st;

    for (i = 0; i < NLINES; i++)
        lines[i] = sl_cstr(LINES[i]);
    text = sl_rdd_parallelize(eng, lines, NLINES, 3);
    words = sl_rdd_flat_map(text, fn_words, NULL);
    pairs = sl_rdd_map(words, sl_fn_pair_one, NULL);
    counts = sl_rdd_reduce_by_key(pairs, sl_fn_sum, NULL, 0);
    if (!counts)
        return SL_ENOMEM;
    if ((st = sl_rdd_collect(counts, &out, &n)) != SL_OK)
        return st;
    if (n != g_nref)
        return SL_ECORRUPT;
    for (i = 0; i < n; i++)
        if (sl_pair_value(&out[i])->u.i != ref_count(sl_pair_key(&out[i])))
            return SL_ECORRUPT;
    groups = sl_rdd_group_by_key(pairs, 2);
    if (!groups)
        return SL_ENOMEM;
    if ((st = sl_rdd_collect(groups, &out, &n)) != SL_OK)
        return st;
    if (n != g_nref)
        return SL_ECORRUPT;
    for (i = 0; i < n; i++)
        if ((int64_t)sl_pair_value(&out[i])->len !=
            ref_count(sl_pair_key(&out[i])))
            return SL_ECORRUPT;
    /* counts joined with pairs: one record per word occurrence. */
    joined = sl_rdd_join(counts, pairs, 4);
    if (!joined)
        return SL_ENOMEM;
    if ((st = sl_rdd_count(joined, &cnt)) != SL_OK)
        return st;
    if (cnt != g_nwords)
        return SL_ECORRUPT;
    sorted = sl_rdd_sort_by_key(counts, true, 2);
    if (!sorted)
        return SL_ENOMEM;
    if ((st = sl_rdd_collect(sorted, &out, &n)) != SL_OK)
        return st;
    if (n != g_nref)
        return SL_ECORRUPT;
    for (i = 1; i < n; i++)
        if (sl_value_compare(sl_pair_key(&out[i - 1]), sl_pair_key(&out[i])) >=
            0)
            return SL_ECORRUPT;
    if ((st = sl_rdd_count(words, &cnt)) != SL_OK)
        return st;
    if (cnt != g_nwords)
        return SL_ECORRUPT;
    return SL_OK;
}

static sl_status op_engine(void *arg)
{
    char err[256], w[16];
    const char *const settings[] = {"workers", w, NULL};
    sl_engine *eng;
    sl_status st;
    snprintf(w, sizeof w, "%zu", *(size_t *)arg);
    st = sl_test_engine_open(settings, &eng, err, sizeof err);
    if (st != SL_OK)
        return st;
    st = rdd_pipeline(eng);
    if (st != SL_OK && st != SL_ENOMEM && st != SL_ECORRUPT)
        fprintf(stderr, "engine pipeline: %s: %s\n", sl_errname(st),
                sl_engine_errmsg(eng));
    /* The engine is usable after a failed job, once memory is back. */
    if (st == SL_ENOMEM) {
        long saved = atomic_exchange(&g_fail_at, 0);
        sl_status again;
        sl_engine_clear(eng);
        again = rdd_pipeline(eng);
        atomic_store(&g_fail_at, saved);
        if (again != SL_OK) {
            fprintf(stderr, "engine unusable after ENOMEM: %s: %s\n",
                    sl_errname(again), sl_engine_errmsg(eng));
            st = SL_ECORRUPT;
        }
    }
    sl_engine_free(eng);
    return st;
}

static void test_rdd_engine_1(void)
{
    static size_t one = 1;
    build_reference();
    fault_both("rdd engine, 1 worker", op_engine, &one);
}

/* With two workers the failing allocation lands on whichever thread gets
 * there first: the runs are not repeatable, but must be just as clean. */
static void test_rdd_engine_2(void)
{
    static size_t two = 2;
    loop_result r;
    build_reference();
    run_fault_loop("rdd engine, 2 workers", op_engine, &two, false, &r);
    run_fault_loop("rdd engine, 2 workers", op_engine, &two, true, &r);
}

/* Every other operator and action, over a text source, on one worker. */
static atomic_long g_foreach_records;

static sl_status fn_foreach(sl_task *t, sl_iter *it, void *u)
{
    sl_value v;
    (void)t;
    (void)u;
    while (sl_iter_next(it, &v))
        atomic_fetch_add(&g_foreach_records, 1);
    return SL_OK;
}

#define EXPECT(cond)                                                           \
    do {                                                                       \
        if (!(cond))                                                           \
            return SL_ECORRUPT;                                                \
    } while (0)
#define ACT(expr)                                                              \
    do {                                                                       \
        sl_status st_ = (expr);                                                \
        if (st_ != SL_OK)                                                      \
            return st_;                                                        \
    } while (0)
#define NN(r)                                                                  \
    do {                                                                       \
        if (!(r))                                                              \
            return SL_ENOMEM;                                                  \
    } while (0)

static char g_text[1024];

static sl_status more_pipeline(sl_engine *eng)
{
    sl_rdd *text, *words, *pairs, *counts, *r, *both[2];
    const sl_value *out;
    size_t n;
    int64_t cnt;
    sl_value v;
    text = sl_rdd_text(eng, g_text, strlen(g_text), 4);
    words = sl_rdd_persist(sl_rdd_flat_map(text, fn_words, NULL));
    pairs = sl_rdd_map(words, sl_fn_pair_one, NULL);
    counts = sl_rdd_count_by_value(words, 3);
    NN(counts);
    ACT(sl_rdd_collect(counts, &out, &n));
    EXPECT(n == g_nref);
    r = sl_rdd_combine_by_key(pairs, sl_fn_pair_one, sl_test_fn_sum_count_add,
                              sl_test_fn_sum_count_merge, NULL, 2);
    NN(r);
    ACT(sl_rdd_count(r, &cnt));
    EXPECT(cnt == (int64_t)g_nref);
    r = sl_rdd_left_outer_join(pairs, counts, 0);
    NN(r);
    ACT(sl_rdd_count(r, &cnt));
    EXPECT(cnt == g_nwords);
    r = sl_rdd_full_outer_join(counts, pairs, 2);
    NN(r);
    ACT(sl_rdd_count(r, &cnt));
    EXPECT(cnt == g_nwords);
    r = sl_rdd_cogroup(counts, pairs, 0);
    NN(r);
    ACT(sl_rdd_count(r, &cnt));
    EXPECT(cnt == (int64_t)g_nref);
    r = sl_rdd_repartition(words, 5);
    NN(r);
    ACT(sl_rdd_count(r, &cnt));
    EXPECT(cnt == g_nwords);
    both[0] = words;
    both[1] = sl_rdd_map_values(pairs, sl_test_fn_identity, NULL);
    r = sl_rdd_union_all(both, 2);
    NN(r);
    ACT(sl_rdd_count(r, &cnt));
    EXPECT(cnt == 2 * g_nwords);
    r = sl_rdd_glom(words);
    NN(r);
    ACT(sl_rdd_collect(r, &out, &n));
    EXPECT(n == 4);
    r = sl_rdd_map_partitions(words, sl_test_fn_part_count, NULL);
    NN(r);
    ACT(sl_rdd_reduce(r, sl_fn_sum, NULL, &v));
    EXPECT(v.u.i == g_nwords);
    r = sl_rdd_sort_by(words, sl_test_fn_identity, NULL, false, 3);
    NN(r);
    ACT(sl_rdd_take(r, 5, &out, &n));
    EXPECT(n == 5);
    atomic_store(&g_foreach_records, 0);
    ACT(sl_rdd_foreach_partition(words, fn_foreach, NULL));
    EXPECT(atomic_load(&g_foreach_records) == g_nwords);
    r = sl_rdd_empty(eng);
    NN(r);
    {
        sl_status st = sl_rdd_reduce(r, sl_fn_sum, NULL, &v);
        if (st == SL_ENOMEM)
            return st;
        EXPECT(st == SL_ENOTFOUND);
    }
    return SL_OK;
}

static sl_status op_engine_more(void *arg)
{
    static const char *const settings[] = {"workers", "1", NULL};
    char err[256];
    sl_engine *eng;
    sl_status st;
    (void)arg;
    st = sl_test_engine_open(settings, &eng, err, sizeof err);
    if (st != SL_OK)
        return st;
    st = more_pipeline(eng);
    if (st != SL_OK && st != SL_ENOMEM)
        fprintf(stderr, "more pipeline: %s: %s\n", sl_errname(st),
                sl_engine_errmsg(eng));
    sl_engine_free(eng);
    return st;
}

static void test_rdd_engine_more(void)
{
    size_t i;
    build_reference();
    g_text[0] = '\0';
    for (i = 0; i < NLINES; i++) {
        strcat(g_text, LINES[i]);
        strcat(g_text, i % 2 ? "\r\n" : "\n");
    }
    fault_both("rdd engine, all ops", op_engine_more, NULL);
}

/* ------------------------------------------------- (c) stream context */

typedef struct stream_acc {
    int64_t records;
    sl_status inner; /* first failure of an action inside foreach_rdd */
} stream_acc;

static sl_status fe_collect(sl_rdd *rdd, int64_t time_ms, void *user)
{
    stream_acc *a = user;
    const sl_value *out;
    size_t n, i;
    sl_status st = sl_rdd_collect(rdd, &out, &n);
    (void)time_ms;
    if (st != SL_OK) {
        if (a->inner == SL_OK)
            a->inner = st;
        return st;
    }
    for (i = 0; i < n; i++)
        a->records += sl_pair_value(&out[i])->u.i;
    return SL_OK;
}

static sl_status op_stream(void *arg)
{
    static const char *const settings[] = {
        "clock", "manual",    "max_batches", "2", "workers",
        "1",     "log.level", "error",       NULL};
    char err[256];
    sl_context *ctx;
    sl_dstream *q, *counts;
    sl_value lines[NLINES];
    stream_acc acc = {0, SL_OK};
    sl_status st;
    size_t i;
    (void)arg;
    st = sl_test_context_open(settings, &ctx, err, sizeof err);
    if (st != SL_OK)
        return st;
    sl_context_set_logger(ctx, sl_test_quiet_log, NULL);
    for (i = 0; i < NLINES; i++)
        lines[i] = sl_cstr(LINES[i]);
    q = sl_queue_stream(ctx, 2);
    counts = sl_dstream_reduce_by_key(
        sl_dstream_map(sl_dstream_flat_map(q, fn_words, NULL), sl_fn_pair_one,
                       NULL),
        sl_fn_sum, NULL, 0);
    if (!counts)
        st = SL_ENOMEM;
    if (st == SL_OK)
        st = sl_queue_stream_push(q, lines, NLINES);
    if (st == SL_OK)
        st = sl_queue_stream_push(q, lines, 3);
    if (st == SL_OK)
        st = sl_dstream_foreach_rdd(counts, fe_collect, &acc);
    if (st == SL_OK)
        st = sl_context_start(ctx);
    if (st == SL_OK)
        st = sl_context_await_termination(ctx);
    /* A foreach_rdd whose action ran out of memory fails as SL_EUSER (the
     * user function failed); count it as the ENOMEM it was. */
    if (st == SL_EUSER && acc.inner == SL_ENOMEM)
        st = SL_ENOMEM;
    if (st == SL_OK && acc.records != g_nwords + 4 + 5 + 3)
        st = SL_ECORRUPT;
    if (st != SL_OK && st != SL_ENOMEM)
        fprintf(stderr, "stream: %s: %s\n", sl_errname(st),
                sl_context_errmsg(ctx));
    sl_context_free(ctx);
    return st;
}

static void test_stream_context(void)
{
    build_reference();
    fault_both("stream context", op_stream, NULL);
}

/* ------------------------------------------------------- (d) job files */

/* A job with windows, state and several functions, parsed, built and run;
 * its console output goes to /dev/null. */
static sl_status op_job(void *arg)
{
    static const char text[] =
        "{\"name\": \"fault\", \"batch_interval\": \"1s\", "
        "\"clock\": \"manual\", \"max_batches\": 3, \"workers\": 1, "
        "\"conf\": {\"log.level\": \"error\"}, "
        "\"sources\": {\"q\": {\"type\": \"queue\", \"partitions\": 2, "
        "\"batches\": [[\"a b a\", \"c\"], null, [\"b\"]]}}, "
        "\"streams\": {\"pairs\": {\"from\": \"q\", \"ops\": ["
        "{\"op\": \"flat_map\", \"fn\": \"split_words\"}, "
        "{\"op\": \"map\", \"fn\": \"pair_one\"}]}, "
        "\"w\": {\"from\": \"pairs\", \"ops\": [{\"op\": "
        "\"reduce_by_key_and_window\", \"fn\": \"sum\", \"inverse\": "
        "\"subtract\", \"window\": \"2s\", \"filter\": {\"name\": "
        "\"gt\", \"arg\": 0, \"on\": \"value\"}}]}, "
        "\"t\": {\"from\": \"pairs\", \"ops\": [{\"op\": "
        "\"update_state_by_key\", \"fn\": \"sum\", \"initial\": "
        "[[\"z\", 1]]}]}}, "
        "\"sinks\": [{\"from\": \"w\", \"type\": \"console\", "
        "\"format\": \"json\"}, {\"from\": \"t\", \"type\": "
        "\"console\"}]}";
    sl_context *ctx;
    sl_status st;
    sl_job *job;
    int saved, null_fd;
    (void)arg;
    if (!(job = sl_job_parse(text, sizeof text - 1, "fault.json")))
        return SL_ENOMEM;
    if (sl_job_problem_count(job)) {
        fprintf(stderr, "job: %s\n", sl_job_problem(job, 0));
        sl_job_free(job);
        return SL_ECORRUPT;
    }
    st = sl_job_build(job, &ctx);
    if (st == SL_OK) {
        sl_context_set_logger(ctx, sl_test_quiet_log, NULL);
        fflush(stdout);
        saved = dup(1);
        null_fd = open("/dev/null", O_WRONLY);
        dup2(null_fd, 1);
        st = sl_context_start(ctx);
        if (st == SL_OK)
            st = sl_context_await_termination(ctx);
        fflush(stdout);
        dup2(saved, 1);
        close(saved);
        close(null_fd);
        /* print's take ran out of memory: the batch failed with it. */
        if (st != SL_OK && strstr(sl_context_errmsg(ctx), "out of memory"))
            st = SL_ENOMEM;
    }
    if (st != SL_OK && st != SL_ENOMEM)
        fprintf(stderr, "job: %s: %s\n", sl_errname(st),
                sl_job_errmsg(job)[0] ? sl_job_errmsg(job)
                                      : sl_context_errmsg(ctx));
    sl_job_free(job);
    return st;
}

static void test_job_file(void)
{
    fault_both("job file", op_job, NULL);
}

/* ------------------------------------------ (e) checkpointed context */

/* Running counts; the last batch's sum of counts and window size. */
typedef struct ck_acc {
    int64_t total, window;
} ck_acc;

static sl_status ck_count(sl_task *t, const sl_value *key,
                          const sl_value *values, const sl_value *state,
                          sl_value *new_state, bool *remove, void *user)
{
    (void)t, (void)key, (void)user;
    *remove = false;
    *new_state = sl_int((state ? state->u.i : 0) + (int64_t)values->len);
    return SL_OK;
}

static sl_status ck_fe_total(sl_rdd *rdd, int64_t time_ms, void *user)
{
    ck_acc *a = user;
    const sl_value *out;
    size_t n, i;
    sl_status st = sl_rdd_collect(rdd, &out, &n);
    (void)time_ms;
    if (st != SL_OK)
        return st;
    for (a->total = 0, i = 0; i < n; i++)
        a->total += sl_pair_value(&out[i])->u.i;
    return SL_OK;
}

static sl_status ck_fe_window(sl_rdd *rdd, int64_t time_ms, void *user)
{
    ck_acc *a = user;
    int64_t n;
    sl_status st = sl_rdd_count(rdd, &n);
    (void)time_ms;
    if (st == SL_OK)
        a->window = n;
    return st;
}

/* The graph, named (a checkpoint needs names), with its input. */
static sl_status ck_graph(sl_context *ctx, ck_acc *acc)
{
    sl_value lines[NLINES];
    sl_dstream *q = sl_queue_stream(ctx, 2), *pairs, *counts, *win;
    sl_status st = SL_OK;
    size_t i, b;
    for (i = 0; i < NLINES; i++)
        lines[i] = sl_cstr(LINES[i]);
    pairs = sl_dstream_map(sl_dstream_flat_map(q, fn_words, NULL),
                           sl_fn_pair_one, NULL);
    counts = sl_dstream_update_state_by_key(pairs, ck_count, NULL, NULL, 0);
    win = sl_dstream_window(pairs, 2000, 1000);
    if (!counts || !win)
        return SL_ENOMEM;
    for (b = 0; st == SL_OK && b < 6; b++)
        st = sl_queue_stream_push(q, lines, NLINES - b % NLINES);
    if (st == SL_OK && (st = sl_dstream_set_name(q, "q")) == SL_OK &&
        (st = sl_dstream_set_name(counts, "counts")) == SL_OK &&
        (st = sl_dstream_set_name(win, "win")) == SL_OK &&
        (st = sl_dstream_foreach_rdd(counts, ck_fe_total, acc)) == SL_OK)
        st = sl_dstream_foreach_rdd(win, ck_fe_window, acc);
    return st;
}

/* Run the job up to batch max on the checkpoint in dir. */
static sl_status ck_run(const char *dir, const char *max, ck_acc *acc)
{
    const char *const settings[] = {
        "clock",     "manual", "max_batches",     max, "workers", "1",
        "log.level", "error",  "checkpoint.path", dir, NULL};
    char err[256];
    sl_context *ctx;
    sl_status st = sl_test_context_open(settings, &ctx, err, sizeof err);
    if (st != SL_OK)
        return st;
    sl_context_set_logger(ctx, sl_test_quiet_log, NULL);
    if ((st = ck_graph(ctx, acc)) == SL_OK &&
        (st = sl_context_start(ctx)) == SL_OK)
        st = sl_context_await_termination(ctx);
    /* An action in foreach_rdd that ran out of memory fails the batch as
     * the user's function; the message says what it was. */
    if (st != SL_OK && strstr(sl_context_errmsg(ctx), "out of memory"))
        st = SL_ENOMEM;
    if (st != SL_OK && st != SL_ENOMEM)
        fprintf(stderr, "checkpointed job: %s: %s\n", sl_errname(st),
                sl_context_errmsg(ctx));
    sl_context_free(ctx);
    return st;
}

static ck_acc g_ck_ref;

/*
 * Write a checkpoint for 3 batches with allocation n failing, recover from
 * it up to batch 5 with allocation n failing again (the count starts over),
 * then run to batch 6 without failures: that run must equal an
 * uninterrupted one. The loop's count of points is the longer phase's.
 */
static sl_status op_ckpt_job(void *arg)
{
    char tmpl[] = "/dev/shm/sl_fault_ckjob_XXXXXX", *d = mkdtemp(tmpl);
    ck_acc acc = {0, 0};
    sl_status st1, st2, st3;
    long c1, c2, f;
    (void)arg;
    if (!d)
        return SL_EIO;
    st1 = ck_run(d, "3", &acc);
    c1 = atomic_exchange(&g_calls, 0);
    st2 = ck_run(d, "5", &acc);
    c2 = atomic_load(&g_calls);
    f = atomic_exchange(&g_fail_at, 0);
    st3 = ck_run(d, "6", &acc);
    atomic_store(&g_calls, c1 > c2 ? c1 : c2);
    atomic_store(&g_fail_at, f);
    sl_test_remove_tree(d);
    if (st3 != SL_OK || acc.total != g_ck_ref.total ||
        acc.window != g_ck_ref.window) {
        fprintf(stderr,
                "checkpointed job: after recovery %s, total %lld "
                "window %lld, want %lld %lld\n",
                sl_errname(st3), (long long)acc.total, (long long)acc.window,
                (long long)g_ck_ref.total, (long long)g_ck_ref.window);
        return SL_ECORRUPT;
    }
    if (st1 != SL_OK && st1 != SL_ENOMEM)
        return st1;
    return st1 != SL_OK ? st1 : st2;
}

static void test_checkpointed_job(void)
{
    char tmpl[] = "/dev/shm/sl_fault_ckref_XXXXXX", *d = mkdtemp(tmpl);
    SL_CHECK(d != NULL);
    build_reference();
    SL_CHECK_OK(ck_run(d, "6", &g_ck_ref));
    sl_test_remove_tree(d);
    SL_CHECK(g_ck_ref.total > 0 && g_ck_ref.window > 0);
    fault_both("checkpointed job", op_ckpt_job, NULL);
}

const char *SL_SUITE = "fault/alloc";
const sl_test_case SL_TESTS[] = {
    {"install", test_install},
    {"core_conf", test_core_conf},
    {"core_arena", test_core_arena},
    {"core_htab", test_core_htab},
    {"core_value_copy", test_core_value_copy},
    {"core_codec", test_core_codec},
    {"checkpoint", test_checkpoint},
    {"state_files", test_state_files},
    {"rdd_engine_1_worker", test_rdd_engine_1},
    {"rdd_engine_2_workers", test_rdd_engine_2},
    {"rdd_engine_all_ops", test_rdd_engine_more},
    {"stream_context", test_stream_context},
    {"job_file", test_job_file},
    {"checkpointed_job", test_checkpointed_job},
    {NULL, NULL},
};
