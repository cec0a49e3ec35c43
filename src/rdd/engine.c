/*
 * The RDD engine: a pool of persistent worker threads running parallel
 * loops of partition tasks, and the scopes that own each batch's lineage
 * and task memory. One loop runs at a time; workers claim task indices from
 * one atomic counter per loop (per task, never per record).
 */
#include "rdd/rdd_int.h"

#include <stdio.h>
#include <string.h>

/* ------------------------------------------------------------- scopes */

static sl_status scope_init(sl__scope *s)
{
    memset(s, 0, sizeof *s);
    sl__arena_init(&s->arena, 8192);
    return pthread_mutex_init(&s->lock, NULL) ? SL_ENOMEM : SL_OK;
}

static void scope_release(sl__scope *s)
{
    size_t i;
    for (i = 0; i < s->ntask_arenas; i++) {
        sl__arena_free(s->task_arenas[i]);
        sl_free(s->task_arenas[i]);
    }
    sl_free(s->task_arenas);
    s->task_arenas = NULL;
    s->ntask_arenas = s->cap_task_arenas = 0;
    sl__arena_free(&s->arena);
}

sl__scope *sl__scope_create(void)
{
    sl__scope *s = sl_malloc(sizeof *s);
    if (!s)
        return NULL;
    if (scope_init(s) != SL_OK) {
        sl_free(s);
        return NULL;
    }
    return s;
}

void sl__scope_destroy(sl__scope *s)
{
    if (!s)
        return;
    scope_release(s);
    pthread_mutex_destroy(&s->lock);
    sl_free(s);
}

void *sl__scope_alloc(sl__scope *s, size_t n)
{
    return sl__arena_alloc(&s->arena, n);
}

/* A fresh arena registered with the scope; workers call this, hence the
 * lock (once per task, not per record). */
sl__arena *sl__scope_new_arena(sl__scope *s)
{
    sl__arena *a = sl_malloc(sizeof *a);
    if (!a)
        return NULL;
    sl__arena_init(a, 16384);
    pthread_mutex_lock(&s->lock);
    if (s->ntask_arenas == s->cap_task_arenas) {
        size_t ncap = s->cap_task_arenas ? s->cap_task_arenas * 2 : 16;
        sl__arena **na = sl_realloc(s->task_arenas, ncap * sizeof *na);
        if (!na) {
            pthread_mutex_unlock(&s->lock);
            sl_free(a);
            return NULL;
        }
        s->task_arenas = na;
        s->cap_task_arenas = ncap;
    }
    s->task_arenas[s->ntask_arenas++] = a;
    pthread_mutex_unlock(&s->lock);
    return a;
}

sl__scope *sl__engine_set_scope(sl_engine *eng, sl__scope *s)
{
    sl__scope *old = eng->scope;
    eng->scope = s ? s : &eng->base;
    return old == &eng->base ? NULL : old;
}

void *sl__engine_scope_alloc(sl_engine *eng, size_t n)
{
    return sl__scope_alloc(eng->scope, n);
}

/* The worker of eng that is the calling thread, or NULL. */
static worker *engine_worker_self(const sl_engine *eng)
{
    size_t i;
    for (i = 0; i < eng->nworkers; i++)
        if (pthread_equal(pthread_self(), eng->workers[i].thread))
            return &eng->workers[i];
    return NULL;
}

bool sl__engine_on_worker(const sl_engine *eng)
{
    return engine_worker_self(eng) != NULL;
}

void sl__engine_set_batch(sl_engine *eng, int64_t id, int64_t time_ms)
{
    eng->batch_id = id;
    eng->batch_time_ms = time_ms;
}

sl__arena *sl__engine_scope_arena(sl_engine *eng)
{
    return &eng->scope->arena;
}

/* ------------------------------------------------------------- workers */

static void run_tasks(sl_engine *eng, worker *w, run_fn fn, void *arg, size_t n)
{
    size_t i;
    while ((i = atomic_fetch_add(&eng->next_task, 1)) < n) {
        fn(arg, i, w);
        pthread_mutex_lock(&eng->lock);
        if (++eng->done_tasks == n)
            pthread_cond_broadcast(&eng->done_cv);
        pthread_mutex_unlock(&eng->lock);
    }
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    sl_engine *eng = w->eng;
    uint64_t seen = 0;
    run_fn fn;
    void *fn_arg;
    size_t n;

    pthread_mutex_lock(&eng->lock);
    for (;;) {
        while (!eng->shutdown && eng->generation == seen)
            pthread_cond_wait(&eng->work_cv, &eng->lock);
        if (eng->shutdown)
            break;
        seen = eng->generation;
        /* A worker that wakes late may find its loop already finished and
         * the next one being set up: join only a loop that still has
         * tasks, and read its parameters under the lock, so a late worker
         * never claims an index of one loop with the function of another. */
        if (eng->done_tasks >= eng->ntasks)
            continue;
        fn = eng->run;
        fn_arg = eng->run_arg;
        n = eng->ntasks;
        eng->active_workers++;
        pthread_mutex_unlock(&eng->lock);
        run_tasks(eng, w, fn, fn_arg, n);
        pthread_mutex_lock(&eng->lock);
        if (--eng->active_workers == 0)
            pthread_cond_broadcast(&eng->done_cv);
    }
    pthread_mutex_unlock(&eng->lock);
    return NULL;
}

/*
 * An action called inside a task (a map function, say) would wait for a
 * loop that cannot start while this worker's own loop runs: refuse it.
 * The message goes on the calling task, written by this worker only, so
 * that the engine's message (the job thread's) is not raced; the task
 * fails even if the function ignores the status.
 */
static sl_status refuse_nested(sl_engine *eng)
{
    worker *w = engine_worker_self(eng);

    if (!w)
        return SL_OK;
    if (w->task)
        sl__task_fail(w->task, SL_ESTATE,
                      "RDD actions cannot run inside a task (a per-record or "
                      "per-partition function on a worker thread); run them "
                      "on the calling thread, e.g. in foreach_rdd");
    return SL_ESTATE;
}

sl_status sl__engine_parallel(sl_engine *eng, size_t n, run_fn fn, void *arg)
{
    sl_status st = refuse_nested(eng);

    if (st != SL_OK || n == 0)
        return st;
    pthread_mutex_lock(&eng->run_lock);
    pthread_mutex_lock(&eng->lock);
    eng->run = fn;
    eng->run_arg = arg;
    eng->ntasks = n;
    eng->done_tasks = 0;
    atomic_store(&eng->next_task, 0);
    eng->generation++;
    pthread_cond_broadcast(&eng->work_cv);
    /* Wait for every task, and for every worker to leave the loop, so the
     * next loop's counters are not seen by a late worker of this one. */
    while (eng->done_tasks < n || eng->active_workers > 0)
        pthread_cond_wait(&eng->done_cv, &eng->lock);
    pthread_mutex_unlock(&eng->lock);
    pthread_mutex_unlock(&eng->run_lock);
    return SL_OK;
}

/* -------------------------------------------------------------- engine */

static void engine_stop_workers(sl_engine *eng, size_t started)
{
    size_t i;
    pthread_mutex_lock(&eng->lock);
    eng->shutdown = true;
    pthread_cond_broadcast(&eng->work_cv);
    pthread_mutex_unlock(&eng->lock);
    for (i = 0; i < started; i++) {
        pthread_join(eng->workers[i].thread, NULL);
        sl__arena_free(&eng->workers[i].scratch);
    }
}

static sl_status engine_start_workers(sl_engine *eng)
{
    size_t i;
    /* Workers sit on their own cache lines; the hook gives no alignment
     * guarantee beyond malloc's, so align by hand. */
    eng->workers_mem =
        sl_malloc(eng->nworkers * sizeof(worker) + SL__CACHE_LINE);
    if (!eng->workers_mem)
        return SL_ENOMEM;
    eng->workers =
        (worker *)SL__ALIGN_UP((uintptr_t)eng->workers_mem, SL__CACHE_LINE);
    memset(eng->workers, 0, eng->nworkers * sizeof(worker));
    for (i = 0; i < eng->nworkers; i++) {
        worker *w = &eng->workers[i];
        w->eng = eng;
        w->id = i;
        sl__arena_init(&w->scratch, 65536);
        if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
            engine_stop_workers(eng, i);
            sl_free(eng->workers_mem);
            return SL_ENOMEM;
        }
    }
    return SL_OK;
}

static sl_status engine_init_sync(sl_engine *eng)
{
    if (pthread_mutex_init(&eng->lock, NULL))
        return SL_ENOMEM;
    if (pthread_mutex_init(&eng->run_lock, NULL))
        goto free_lock;
    if (pthread_cond_init(&eng->work_cv, NULL))
        goto free_run_lock;
    if (pthread_cond_init(&eng->done_cv, NULL))
        goto free_work_cv;
    return SL_OK;
free_work_cv:
    pthread_cond_destroy(&eng->work_cv);
free_run_lock:
    pthread_mutex_destroy(&eng->run_lock);
free_lock:
    pthread_mutex_destroy(&eng->lock);
    return SL_ENOMEM;
}

static void engine_destroy_sync(sl_engine *eng)
{
    pthread_cond_destroy(&eng->done_cv);
    pthread_cond_destroy(&eng->work_cv);
    pthread_mutex_destroy(&eng->run_lock);
    pthread_mutex_destroy(&eng->lock);
}

sl_engine *sl__engine_create(const sl_conf *conf, const sl__logger *log,
                             char *errbuf, size_t errlen)
{
    sl_engine *eng = sl_malloc(sizeof *eng);
    int64_t workers = sl__conf_int(conf, "workers");

    if (!eng) {
        sl__errbuf(errbuf, errlen, SL_ENOMEM, "out of memory");
        return NULL;
    }
    memset(eng, 0, sizeof *eng);
    eng->log = *log;
    eng->nworkers = workers > 0 ? (size_t)workers : sl__cpu_count();
    eng->batch_id = -1; /* no batch yet */
    atomic_init(&eng->next_task, 0);
    if (scope_init(&eng->base) != SL_OK)
        goto fail_alloc;
    eng->scope = &eng->base;
    if (engine_init_sync(eng) != SL_OK)
        goto fail_scope;
    if (engine_start_workers(eng) != SL_OK)
        goto fail_sync;
    return eng;
fail_sync:
    engine_destroy_sync(eng);
fail_scope:
    scope_release(&eng->base);
    pthread_mutex_destroy(&eng->base.lock);
fail_alloc:
    sl_free(eng);
    sl__errbuf(errbuf, errlen, SL_ENOMEM,
               "cannot start the worker pool: out of memory");
    return NULL;
}

sl_engine *sl_engine_new(sl_conf *conf, char *errbuf, size_t errlen)
{
    sl__logger log = {NULL, NULL, SL_LOG_INFO};
    sl_engine *eng;
    if (!conf) {
        sl__errbuf(errbuf, errlen, SL_EINVAL, "conf is NULL");
        return NULL;
    }
    if (sl__log_level_parse(sl_conf_get(conf, "log.level"), &log.level) !=
        SL_OK)
        log.level = SL_LOG_INFO;
    eng = sl__engine_create(conf, &log, errbuf, errlen);
    if (eng)
        eng->conf = conf;
    return eng;
}

void sl_engine_free(sl_engine *eng)
{
    if (!eng)
        return;
    engine_stop_workers(eng, eng->nworkers);
    sl_free(eng->workers_mem);
    engine_destroy_sync(eng);
    scope_release(&eng->base);
    pthread_mutex_destroy(&eng->base.lock);
    sl_conf_free(eng->conf);
    sl_free(eng);
}

void sl_engine_clear(sl_engine *eng)
{
    if (!eng)
        return;
    scope_release(&eng->base);
    sl__arena_init(&eng->base.arena, 8192);
}

size_t sl_engine_workers(const sl_engine *eng)
{
    return eng ? eng->nworkers : 0;
}

const char *sl_engine_errmsg(const sl_engine *eng)
{
    return eng ? eng->err.text : "no engine";
}

void sl_engine_set_logger(sl_engine *eng, sl_log_fn fn, void *user)
{
    if (!eng)
        return;
    eng->log.fn = fn;
    eng->log.user = user;
}

void sl__engine_set_error(sl_engine *eng, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(eng->err.text, sizeof eng->err.text, fmt, ap);
    va_end(ap);
}

/* --------------------------------------------------------------- tasks */

void sl__task_init(sl_task *t, sl_engine *eng, worker *w, size_t part)
{
    memset(t, 0, sizeof *t);
    t->eng = eng;
    t->w = w;
    t->partition = part;
    t->scratch = &w->scratch;
    w->task = t;
    sl__arena_reset(t->scratch);
}

sl_status sl__task_fail(sl_task *t, sl_status st, const char *fmt, ...)
{
    va_list ap;
    if (t->status != SL_OK)
        return t->status;
    t->status = st;
    va_start(ap, fmt);
    vsnprintf(t->err, sizeof t->err, fmt, ap);
    va_end(ap);
    return st;
}

sl_status sl_task_fail(sl_task *t, const char *fmt, ...)
{
    va_list ap;
    if (t->status != SL_OK)
        return SL_EUSER;
    t->status = SL_EUSER;
    va_start(ap, fmt);
    vsnprintf(t->err, sizeof t->err, fmt, ap);
    va_end(ap);
    return SL_EUSER;
}

sl_status sl__collect_task_errors(sl_engine *eng, sl_task *tasks, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (tasks[i].status != SL_OK) {
            sl__engine_set_error(eng, "partition %zu: %s", i, tasks[i].err);
            return tasks[i].status;
        }
    return SL_OK;
}
