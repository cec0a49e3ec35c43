/*
 * Helpers shared by the test programs (sl_test_util.h), linked into every
 * one of them next to sl_test.c. Test code, not library code: it aborts
 * where it runs out of memory of its own instead of reporting SL_ENOMEM.
 */
#include "sl_test_util.h"

#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sl_test.h"

/* ------------------------------------------------ engines and contexts */

static sl_status conf_from(const char *const *settings, sl_conf **out,
                           char *err, size_t errlen)
{
    sl_conf *conf = sl_conf_new();
    sl_status st;
    size_t i;

    *out = NULL;
    if (!conf) {
        snprintf(err, errlen, "sl_conf_new: out of memory");
        return SL_ENOMEM;
    }
    for (i = 0; settings[i]; i += 2) {
        st = sl_conf_set(conf, settings[i], settings[i + 1], err, errlen);
        if (st != SL_OK) {
            sl_conf_free(conf);
            return st;
        }
    }
    *out = conf;
    return SL_OK;
}

/*
 * The end of an open, given conf_from's status and whether the constructor
 * made a handle: a constructor owns the conf only when it succeeds, so a
 * failed one leaves it to be freed here.
 */
static sl_status opened(sl_status st, bool made, sl_conf *conf)
{
    if (st != SL_OK)
        return st;
    if (made)
        return SL_OK;
    sl_conf_free(conf);
    return SL_ENOMEM;
}

sl_status sl_test_engine_open(const char *const *settings, sl_engine **out,
                              char *err, size_t errlen)
{
    sl_conf *conf;
    sl_status st = conf_from(settings, &conf, err, errlen);

    *out = st == SL_OK ? sl_engine_new(conf, err, errlen) : NULL;
    return opened(st, *out != NULL, conf);
}

sl_status sl_test_context_open(const char *const *settings, sl_context **out,
                               char *err, size_t errlen)
{
    sl_conf *conf;
    sl_status st = conf_from(settings, &conf, err, errlen);

    *out = st == SL_OK ? sl_context_new(conf, err, errlen) : NULL;
    return opened(st, *out != NULL, conf);
}

sl_engine *sl_test_engine(size_t workers)
{
    char err[256], w[32];
    const char *const settings[] = {"workers", w, "log.level", "error", NULL};
    sl_engine *eng;

    snprintf(w, sizeof w, "%zu", workers);
    if (sl_test_engine_open(settings, &eng, err, sizeof err) != SL_OK)
        fprintf(stderr, "sl_test_engine(%zu): %s\n", workers, err);
    return eng;
}

void sl_test_quiet_log(sl_log_level level, const char *msg, void *user)
{
    (void)level;
    (void)msg;
    (void)user;
}

/* ----------------------------------------------------------- text */

static void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p) {
        fprintf(stderr, "sl_test: out of memory\n");
        abort();
    }
    return p;
}

/* Room for n more bytes and the terminating NUL. */
static void buf_reserve(sl_test_buf *b, size_t n)
{
    size_t cap = b->cap ? b->cap : 256;

    if (b->n + n + 1 <= b->cap)
        return;
    while (cap < b->n + n + 1)
        cap *= 2;
    b->p = xrealloc(b->p, cap);
    b->cap = cap;
}

void sl_test_buf_put(sl_test_buf *b, const char *s, size_t n)
{
    buf_reserve(b, n);
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

void sl_test_buf_puts(sl_test_buf *b, const char *s)
{
    sl_test_buf_put(b, s, strlen(s));
}

void sl_test_buf_printf(sl_test_buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n <= 0)
        return;
    buf_reserve(b, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(b->p + b->n, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->n += (size_t)n;
}

const char *sl_test_buf_str(const sl_test_buf *b)
{
    return b->p ? b->p : "";
}

char *sl_test_buf_take(sl_test_buf *b)
{
    char *s;

    if (!b->p)
        sl_test_buf_put(b, "", 0);
    s = b->p;
    memset(b, 0, sizeof *b);
    return s;
}

void sl_test_buf_free(sl_test_buf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

int sl_test_cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

char *sl_test_join(char **strs, size_t n, const char *sep, bool sorted)
{
    sl_test_buf b = {0};
    size_t i;

    if (sorted && n > 1)
        qsort(strs, n, sizeof *strs, sl_test_cmp_str);
    for (i = 0; i < n; i++) {
        if (i)
            sl_test_buf_puts(&b, sep);
        sl_test_buf_puts(&b, strs[i]);
        free(strs[i]);
    }
    return sl_test_buf_take(&b);
}

char *sl_test_json(const sl_value *v)
{
    size_t n = sl_value_format_json(v, NULL, 0);
    char *s = xrealloc(NULL, n + 1);

    sl_value_format_json(v, s, n + 1);
    return s;
}

char *sl_test_json_join(const sl_value *v, size_t n, const char *sep,
                        bool sorted)
{
    char **strs = xrealloc(NULL, (n + 1) * sizeof *strs);
    char *s;
    size_t i;

    for (i = 0; i < n; i++)
        strs[i] = sl_test_json(&v[i]);
    s = sl_test_join(strs, n, sep, sorted);
    free(strs);
    return s;
}

static sl_value g_pool[65536];
static size_t g_pool_n;

sl_value sl_test_pair(sl_value k, sl_value v)
{
    sl_value *items;

    if (g_pool_n + 2 > sizeof g_pool / sizeof g_pool[0])
        g_pool_n = 0;
    items = &g_pool[g_pool_n];
    g_pool_n += 2;
    items[0] = k;
    items[1] = v;
    return sl_composite(SL_KIND_PAIR, items, 2);
}

void sl_test_pair_reset(void)
{
    g_pool_n = 0;
}

/* ------------------------------------------- files and processes */

char *sl_test_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    sl_test_buf b = {0};
    char tmp[4096];
    size_t n;

    if (!f)
        return NULL;
    while ((n = fread(tmp, 1, sizeof tmp, f)) > 0)
        sl_test_buf_put(&b, tmp, n);
    fclose(f);
    *len = b.n;
    return sl_test_buf_take(&b);
}

void sl_test_remove_tree(const char *path)
{
    DIR *d = opendir(path);
    struct dirent *e;
    char sub[4096];

    if (!d) {
        unlink(path);
        return;
    }
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
        sl_test_remove_tree(sub);
    }
    closedir(d);
    rmdir(path);
}

char *sl_test_tmpdir(const char *prefix)
{
    char tmpl[256];
    char *d;

    snprintf(tmpl, sizeof tmpl, "/tmp/%sXXXXXX", prefix);
    d = mkdtemp(tmpl);
    SL_CHECK(d != NULL);
    return d ? strdup(d) : NULL;
}

void sl_test_write_file(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    SL_CHECK(f != NULL);
    if (f) {
        SL_CHECK_INT(fwrite(p, 1, n, f), n);
        fclose(f);
    }
}

bool sl_test_run_in_child(int (*fn)(void *), void *arg, unsigned seconds,
                          int *status)
{
    pid_t pid;

    /* Flushed first, or the child's exit would print them a second time. */
    fflush(stdout);
    fflush(stderr);
    pid = fork();
    if (pid < 0)
        return false;
    if (pid == 0) {
        alarm(seconds);
        _exit(fn(arg));
    }
    *status = 0;
    waitpid(pid, status, 0);
    return true;
}

/* ------------------------------------------------ failing allocator */

static long g_countdown = -1; /* allocations left before failing; <0 never */

static bool countdown_fails(void)
{
    if (g_countdown == 0)
        return true;
    if (g_countdown > 0)
        g_countdown--;
    return false;
}

static void *failing_malloc(size_t n, void *user)
{
    (void)user;
    return countdown_fails() ? NULL : malloc(n);
}

static void *failing_realloc(void *p, size_t n, void *user)
{
    (void)user;
    return countdown_fails() ? NULL : realloc(p, n);
}

static void plain_free(void *p, void *user)
{
    (void)user;
    free(p);
}

const sl_allocator *sl_test_failing_allocator(void)
{
    static const sl_allocator hook = {failing_malloc, failing_realloc,
                                      plain_free, NULL};
    return &hook;
}

void sl_test_fail_after(long n)
{
    g_countdown = n;
}

/* ------------------------------------------------ per-record functions */

sl_status sl_test_fn_identity(sl_task *t, const sl_value *in, sl_value *out,
                              void *user)
{
    (void)t;
    (void)user;
    *out = *in;
    return SL_OK;
}

sl_status sl_test_fn_times10(sl_task *t, const sl_value *in, sl_value *out,
                             void *user)
{
    (void)t;
    (void)user;
    *out = sl_int(in->u.i * 10);
    return SL_OK;
}

sl_status sl_test_fn_sum_count_add(sl_task *t, const sl_value *c,
                                   const sl_value *v, sl_value *out, void *user)
{
    sl_value s = sl_int(sl_pair_key(c)->u.i + v->u.i);
    sl_value n = sl_int(sl_pair_value(c)->u.i + 1);
    (void)user;
    return sl_task_pair(t, &s, &n, out);
}

sl_status sl_test_fn_sum_count_merge(sl_task *t, const sl_value *a,
                                     const sl_value *b, sl_value *out,
                                     void *user)
{
    sl_value s = sl_int(sl_pair_key(a)->u.i + sl_pair_key(b)->u.i);
    sl_value n = sl_int(sl_pair_value(a)->u.i + sl_pair_value(b)->u.i);
    (void)user;
    return sl_task_pair(t, &s, &n, out);
}

sl_status sl_test_fn_part_count(sl_task *t, sl_iter *it, void *user)
{
    sl_value v;
    int64_t n = 0;
    (void)user;
    while (sl_iter_next(it, &v))
        n++;
    v = sl_int(n);
    return sl_task_emit(t, &v);
}
