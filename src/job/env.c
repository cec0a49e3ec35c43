/*
 * Environment checks of a valid job, without running it: the directory a
 * directory source watches, the host a socket source connects to, the
 * dead-letter files and save_as_text_files prefixes a job writes. What is
 * certainly wrong becomes a problem; what may still change before (or
 * after) start, a warning. docs/job-file.md lists which is which.
 */
#include "job/job_int.h"

#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* How long a name lookup may take: getaddrinfo has no timeout of its own. */
#define LOOKUP_MS 2000

/* Record a warning at path: "PATH: warning: MESSAGE", in the job's arena. */
static void warn(sl_job *job, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void warn(sl_job *job, const char *path, const char *fmt, ...)
{
    va_list ap;
    char msg[512];
    char *text;

    if (job->nwarnings == job->cap_warnings) {
        /* Arena memory: the old array stays until the job is freed, which
         * costs little for the few warnings a job can have. */
        size_t cap = job->cap_warnings ? job->cap_warnings * 2 : 8;
        char **w = sl__job_alloc(job, cap * sizeof *w);
        if (!w)
            return;
        if (job->nwarnings)
            memcpy(w, job->warnings, job->nwarnings * sizeof *w);
        job->warnings = w;
        job->cap_warnings = cap;
    }
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if ((text = sl__job_printf(job, "%s: warning: %s", path, msg)))
        job->warnings[job->nwarnings++] = text;
}

/* ---------------------------------------------------------- name lookup */

/*
 * One lookup, shared by the caller and the thread that runs getaddrinfo:
 * the last of the two to let go frees it, so a caller that stopped
 * waiting never blocks on a slow resolver.
 */
typedef struct lookup {
    pthread_mutex_t lock;
    pthread_cond_t done_cv;
    int refs;
    bool done;
    int rc; /* getaddrinfo's result */
    char host[];
} lookup;

static void lookup_release(lookup *l)
{
    bool last;
    pthread_mutex_lock(&l->lock);
    last = --l->refs == 0;
    pthread_mutex_unlock(&l->lock);
    if (last) {
        pthread_mutex_destroy(&l->lock);
        pthread_cond_destroy(&l->done_cv);
        sl_free(l);
    }
}

static void *lookup_main(void *arg)
{
    lookup *l = arg;
    struct addrinfo hints, *res = NULL;
    int rc;

    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    rc = getaddrinfo(l->host, NULL, &hints, &res);
    if (res)
        freeaddrinfo(res);
    pthread_mutex_lock(&l->lock);
    l->rc = rc;
    l->done = true;
    pthread_cond_signal(&l->done_cv);
    pthread_mutex_unlock(&l->lock);
    lookup_release(l);
    return NULL;
}

/*
 * Resolve host within LOOKUP_MS. Returns 0 when it resolves, else
 * getaddrinfo's error; *timed_out when the lookup did not end in time,
 * *err set (an errno) when the lookup could not be started at all.
 */
static int resolve(const char *host, bool *timed_out, int *err)
{
    size_t n = strlen(host) + 1;
    lookup *l = sl_malloc(sizeof *l + n);
    struct timespec until;
    pthread_condattr_t ca;
    pthread_attr_t ta;
    pthread_t th;
    int rc = 0;

    *timed_out = false;
    *err = 0;
    if (!l) {
        *err = ENOMEM;
        return -1;
    }
    memcpy(l->host, host, n);
    l->refs = 2;
    l->done = false;
    l->rc = 0;
    pthread_mutex_init(&l->lock, NULL);
    /* CLOCK_MONOTONIC: a wall-clock step must not stretch the bound. */
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&l->done_cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_attr_init(&ta);
    pthread_attr_setdetachstate(&ta, PTHREAD_CREATE_DETACHED);
    if ((*err = pthread_create(&th, &ta, lookup_main, l)) != 0) {
        pthread_attr_destroy(&ta);
        l->refs = 1;
        lookup_release(l);
        return -1;
    }
    pthread_attr_destroy(&ta);
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += LOOKUP_MS / 1000;
    pthread_mutex_lock(&l->lock);
    while (!l->done && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&l->done_cv, &l->lock, &until);
    *timed_out = !l->done;
    rc = l->rc;
    pthread_mutex_unlock(&l->lock);
    lookup_release(l);
    return rc;
}

void sl__job_env_host(sl_job *job, const job_source *src)
{
    const char *path = sl__job_path_field(job, src->path, "host");
    bool timed_out, listen = false;
    int err, rc;

    if (!path || !src->host)
        return;
    /* A listening source binds at the start and does not retry: only
     * that the host resolves is checked (the port may be free now and
     * taken at the start, or taken now by the job this file runs). */
    if (src->conf)
        sl_conf_get_bool(src->conf, "receiver.listen", &listen);
    rc = resolve(src->host, &timed_out, &err);
    if (listen && (timed_out || err || rc))
        warn(job, path,
             "host \"%s\" to listen on does not resolve (%s); the job's "
             "start would fail",
             src->host,
             timed_out ? "no answer in time"
             : err     ? SL__STRERROR(err)
                       : gai_strerror(rc));
    else if (timed_out)
        warn(job, path,
             "looking up host \"%s\" did not finish within %d s; the "
             "source keeps trying at run time",
             src->host, LOOKUP_MS / 1000);
    else if (err)
        warn(job, path, "cannot look up host \"%s\": %s", src->host,
             SL__STRERROR(err));
    else if (rc)
        warn(job, path,
             "host \"%s\" does not resolve (%s); the source keeps trying "
             "at run time",
             src->host, gai_strerror(rc));
}

/* ---------------------------------------------------------- directories */

void sl__job_env_directory(sl_job *job, const job_source *src, bool at_start)
{
    const char *path = sl__job_path_field(job, src->path, "path");
    const char *dir = src->host;
    bool create = false;
    struct stat sb;

    if (!path || !dir)
        return;
    sl_conf_get_bool(src->conf, "file.create_if_missing", &create);
    if (stat(dir, &sb) != 0) {
        int e = errno;
        if (e == ENOENT && create)
            return;
        if (e != ENOENT)
            sl__job_problem(job, src->json, path, "cannot use \"%s\": %s", dir,
                            SL__STRERROR(e));
        else if (at_start)
            sl__job_problem(job, src->json, path,
                            "directory \"%s\" does not exist (create it, or "
                            "set \"create_if_missing\": true)",
                            dir);
        else
            warn(job, path,
                 "directory \"%s\" does not exist yet; it must exist when "
                 "the job starts (or set \"create_if_missing\": true)",
                 dir);
        return;
    }
    if (S_ISREG(sb.st_mode)) /* one file: its directory is watched */
        return;
    if (!S_ISDIR(sb.st_mode))
        sl__job_problem(job, src->json, path,
                        "\"%s\" is neither a directory nor a file", dir);
    else if (access(dir, R_OK | X_OK) != 0)
        sl__job_problem(job, src->json, path,
                        "directory \"%s\" is not readable: %s", dir,
                        SL__STRERROR(errno));
}

/* --------------------------------------------------------- output paths */

/* Write the reason into why (n bytes); returns false, for can_create. */
static bool because(char *why, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static bool because(char *why, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, n, fmt, ap);
    va_end(ap);
    return false;
}

/*
 * Can a file be created at file (dead letters: open O_CREAT) or a
 * directory be made there (save_as_text_files: mkdir)? Neither makes
 * parents, so the parent must be a writable directory, and an existing
 * file must be writable. Returns false with the reason in why.
 */
static bool can_create(const char *file, bool is_dir, char *why, size_t n)
{
    char parent[PATH_MAX];
    const char *slash = strrchr(file, '/');
    size_t len = slash ? (size_t)(slash - file) : 0;
    struct stat sb;

    if (len >= sizeof parent)
        return because(why, n, "path too long");
    if (!slash)
        strcpy(parent, ".");
    else if (len == 0)
        strcpy(parent, "/");
    else
        memcpy(parent, file, len), parent[len] = '\0';
    if (!is_dir && stat(file, &sb) == 0) {
        if (S_ISDIR(sb.st_mode))
            return because(why, n, "\"%s\" is a directory", file);
        if (access(file, W_OK) != 0)
            return because(why, n, "\"%s\" is not writable: %s", file,
                           SL__STRERROR(errno));
        return true;
    }
    if (stat(parent, &sb) != 0 && errno == ENOENT)
        return because(why, n, "directory \"%s\" does not exist", parent);
    if (stat(parent, &sb) != 0)
        return because(why, n, "cannot use \"%s\": %s", parent,
                       SL__STRERROR(errno));
    if (!S_ISDIR(sb.st_mode))
        return because(why, n, "\"%s\" is not a directory", parent);
    if (access(parent, W_OK | X_OK) != 0)
        return because(why, n, "directory \"%s\" is not writable: %s", parent,
                       SL__STRERROR(errno));
    return true;
}

/* The dead-letter file named by conf property key of conf (the
 * source's or the job's), reported at path. */
void sl__job_env_dead_letter(sl_job *job, const sl_conf *conf, const char *key,
                             const cJSON *at, const char *path)
{
    const char *file = sl_conf_get(conf, key);
    char why[PATH_MAX + 128];

    if (!file || !*file || can_create(file, false, why, sizeof why))
        return;
    sl__job_problem(job, at, path, "cannot write the dead-letter file: %s",
                    why);
}

void sl__job_env_prefix(sl_job *job, const job_sink *k)
{
    char why[PATH_MAX + 128];

    /* Each batch makes the directory PREFIX-TIME[.SUFFIX], so it is the
     * prefix's directory that must take new entries. */
    if (!k->prefix || can_create(k->prefix, true, why, sizeof why))
        return;
    sl__job_problem(job, NULL, sl__job_path_field(job, k->path, "prefix"),
                    "cannot write output files \"%s-*\": %s", k->prefix, why);
}

/*
 * The file sink makes its directory and the missing parents (mkdir -p):
 * the nearest one that exists must be a directory it can write into.
 */
static bool can_make_dirs(const char *path, char *why, size_t n)
{
    char dir[PATH_MAX];
    struct stat sb;
    char *slash;

    if (strlen(path) >= sizeof dir)
        return because(why, n, "path too long");
    strcpy(dir, path);
    while (stat(dir, &sb) != 0) {
        /* ENOTDIR: a parent is a file, which the loop then names. */
        if (errno != ENOENT && errno != ENOTDIR)
            return because(why, n, "cannot use \"%s\": %s", dir,
                           SL__STRERROR(errno));
        if (!(slash = strrchr(dir, '/')))
            strcpy(dir, ".");
        else
            slash[slash == dir] = '\0'; /* "/x" -> "/" */
    }
    if (!S_ISDIR(sb.st_mode))
        return because(why, n, "\"%s\" is not a directory", dir);
    if (access(dir, W_OK | X_OK) != 0)
        return because(why, n, "directory \"%s\" is not writable: %s", dir,
                       SL__STRERROR(errno));
    return true;
}

void sl__job_env_sink_dir(sl_job *job, const job_sink *k)
{
    char why[PATH_MAX + 128];

    if (!k->dir || can_make_dirs(k->dir, why, sizeof why))
        return;
    sl__job_problem(job, NULL, sl__job_path_field(job, k->path, "path"),
                    "cannot write the file sink's directory \"%s\": %s", k->dir,
                    why);
}

/* ------------------------------------------------------------------ API */

sl_status sl_job_check_env(sl_job *job, unsigned flags)
{
    bool at_start = (flags & SL_JOB_ENV_AT_START) != 0;
    size_t i;

    if (!job)
        return SL_EINVAL;
    if (job->nproblems)
        return SL_EINVAL;
    /* What each source and sink type checks is its registry row's. */
    for (i = 0; i < job->nsources; i++) {
        const job_source *src = &job->sources[i];
        if (src->def && src->def->check_env)
            src->def->check_env(job, src, at_start);
    }
    sl__job_env_dead_letter(
        job, job->conf, "dead_letter",
        cJSON_GetObjectItemCaseSensitive(job->root, "dead_letter"),
        "$.dead_letter");
    for (i = 0; i < job->nsinks; i++) {
        const job_sink *k = &job->sinks[i];
        if (k->def && k->def->check_env)
            k->def->check_env(job, k, at_start);
    }
    return job->oom ? SL_ENOMEM : SL_OK;
}

size_t sl_job_warning_count(const sl_job *job)
{
    return job ? job->nwarnings : 0;
}

const char *sl_job_warning(const sl_job *job, size_t i)
{
    return job && i < job->nwarnings ? job->warnings[i] : NULL;
}
