/*
 * A managed job's files as streamctl reads them (docs/streamctl.md,
 * "Files"): its state.json and pid, whether a live process holds its
 * name, its log's last lines, and one request on its control socket.
 */
#include "manage_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int64_t mg_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void mg_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* A zombie has ended: its parent (init, once streamctl start exited)
 * may not have reaped it yet, and it holds no lock any more. */
static bool zombie(long pid)
{
    char path[64], buf[256], *paren;
    FILE *f;
    size_t n;

    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    if (!(f = fopen(path, "r")))
        return false;
    n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* "PID (COMM) S ...": COMM may hold spaces and parentheses. */
    paren = strrchr(buf, ')');
    return paren && paren[1] == ' ' && paren[2] == 'Z';
}

bool mg_pid_alive(long pid)
{
    return pid > 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM) &&
           !zombie(pid);
}

bool mg_lock_held(const char *job_dir)
{
    char path[SL_CONTROL_PATH_MAX + 8];
    bool held = false;
    int fd;

    snprintf(path, sizeof path, "%s/lock", job_dir);
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        return false;
    /* Taken and given back at once: only a live holder makes it fail. */
    if (flock(fd, LOCK_EX | LOCK_NB) < 0)
        held = errno == EWOULDBLOCK;
    close(fd);
    return held;
}

/* The job's lock, read as its process's life: a process killed with
 * SIGKILL is a zombie (its leader thread) before its other threads have
 * let go of the lock, so when the recorded pid is dead while the lock is
 * held, give the dying process up to a second to release it. A lock still
 * held after that belongs to someone else (a new start of the name). */
static bool job_lock_held(const char *job_dir, long pid)
{
    struct timespec pause = {0, 10 * 1000 * 1000};

    for (int i = 0; i < 100; i++) {
        if (!mg_lock_held(job_dir))
            return false;
        if (pid <= 0 || mg_pid_alive(pid))
            return true;
        nanosleep(&pause, NULL);
    }
    return true;
}

char *mg_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t cap = 0, n = 0;

    if (!f)
        return NULL;
    for (;;) {
        if (cap - n < 4096) {
            char *nb = realloc(buf, cap ? cap * 2 : 8192);
            if (!nb)
                break;
            buf = nb;
            cap = cap ? cap * 2 : 8192;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0)
            break;
    }
    fclose(f);
    if (buf)
        buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

cJSON *mg_read_json(const char *path)
{
    char *text = mg_read_file(path, NULL);
    cJSON *j = text ? cJSON_Parse(text) : NULL;
    free(text);
    return j;
}

bool mg_write_file(const char *path, const char *text)
{
    char tmp[SL_CONTROL_PATH_MAX + 8];
    FILE *f;
    bool ok;

    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    if (!(f = fopen(tmp, "w")))
        return false;
    ok = fputs(text, f) >= 0 && fputc('\n', f) != EOF;
    ok = (fclose(f) == 0) && ok;
    return ok && rename(tmp, path) == 0;
}

bool mg_mkdirs(const char *path, int mode)
{
    char buf[SL_CONTROL_PATH_MAX];
    size_t i, n = strlen(path);

    if (n >= sizeof buf)
        return false;
    memcpy(buf, path, n + 1);
    for (i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != '\0')
            continue;
        buf[i] = '\0';
        if (mkdir(buf, (mode_t)mode) < 0 && errno != EEXIST)
            return false;
        buf[i] = path[i];
    }
    return true;
}

/* The pid: state.json's, else the pid file's. */
static long job_pid(const mg_job *j)
{
    char path[SL_CONTROL_PATH_MAX + 8], *text;
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(j->state, "pid");
    long pid = 0;

    if (cJSON_IsNumber(p))
        return (long)p->valuedouble;
    snprintf(path, sizeof path, "%s/pid", j->p.job_dir);
    if ((text = mg_read_file(path, NULL)))
        pid = strtol(text, NULL, 10);
    free(text);
    return pid;
}

static const char *state_str(const mg_job *j, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j->state, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

int mg_job_open(const char *name, const char *run_dir, mg_job *j)
{
    char err[512], path[SL_CONTROL_PATH_MAX + 16];
    const char *st;

    memset(j, 0, sizeof *j);
    if (sl_control_paths_for(name, run_dir, &j->p, err, sizeof err) != SL_OK) {
        fprintf(stderr, "streamctl: %s\n", err);
        return EXIT_FAILED;
    }
    snprintf(path, sizeof path, "%s/state.json", j->p.job_dir);
    j->state = mg_read_json(path);
    j->pid = job_pid(j);
    st = state_str(j, "state");
    /* The lock says it best; a live pid of a job that never said it
     * ended also counts (the lock may not be taken yet). */
    j->held = job_lock_held(j->p.job_dir, j->pid) ||
              (mg_pid_alive(j->pid) && st && strcmp(st, "stopped") &&
               strcmp(st, "failed"));
    j->stale = !j->held && st && strcmp(st, "stopped") && strcmp(st, "failed");
    return EXIT_OK;
}

void mg_job_close(mg_job *j)
{
    cJSON_Delete(j->state);
    j->state = NULL;
}

const char *mg_job_state(const mg_job *j)
{
    const char *st = state_str(j, "state");
    if (j->stale)
        return "failed";
    return st ? st : "unknown";
}

const char *mg_job_error(const mg_job *j)
{
    if (j->stale)
        return "the process died";
    return state_str(j, "error");
}

void mg_tail(const char *path, long n, FILE *f, const char *prefix)
{
    size_t len, i, start;
    long lines = 0;
    char *text = mg_read_file(path, &len);

    if (!text || n <= 0) {
        free(text);
        return;
    }
    /* Back from the end over n line ends (a last line without one too). */
    i = len;
    if (i && text[i - 1] == '\n')
        i--;
    while (i > 0 && lines < n) {
        if (text[i - 1] == '\n')
            lines++;
        if (lines < n)
            i--;
    }
    start = i;
    while (start < len) {
        char *nl = memchr(text + start, '\n', len - start);
        size_t end = nl ? (size_t)(nl - text) : len;
        fprintf(f, "%s%.*s\n", prefix, (int)(end - start), text + start);
        start = end + 1;
    }
    free(text);
}

cJSON *mg_request(const mg_job *j, const char *req, int64_t timeout_ms,
                  char *err, size_t errlen)
{
    char *resp = NULL;
    cJSON *r;

    if (sl_control_request(j->p.socket, req, timeout_ms, &resp, err, errlen) !=
        SL_OK)
        return NULL;
    if (!(r = cJSON_Parse(resp)) || !cJSON_IsObject(r)) {
        snprintf(err, errlen, "the job's reply is not JSON: %.200s", resp);
        cJSON_Delete(r);
        r = NULL;
    }
    sl_free(resp);
    return r;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int mg_job_names(const char *run_dir, char ***names)
{
    char dir[SL_CONTROL_PATH_MAX], err[512];
    struct dirent *e;
    int n = 0, cap = 0;
    DIR *d;

    *names = NULL;
    if (sl_control_run_dir(run_dir, dir, sizeof dir, err, sizeof err) !=
        SL_OK) {
        fprintf(stderr, "streamctl: %s\n", err);
        return -1;
    }
    if (!(d = opendir(dir)))
        return errno == ENOENT ? 0 : -1;
    while ((e = readdir(d))) {
        char **nn;
        if (e->d_name[0] == '.' || e->d_type != DT_DIR)
            continue;
        if (n == cap) {
            if (!(nn = realloc(*names, (size_t)(cap * 2 + 8) * sizeof *nn)))
                break;
            *names = nn;
            cap = cap * 2 + 8;
        }
        if (((*names)[n] = strdup(e->d_name)))
            n++;
    }
    closedir(d);
    if (n)
        qsort(*names, (size_t)n, sizeof **names, cmp_names);
    return n;
}

void mg_free_names(char **names, int n)
{
    int i;
    for (i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

bool mg_duration(const char *text, int64_t *ms)
{
    return text && sl_duration_parse(text, ms) == SL_OK && *ms >= 0;
}

bool mg_format(const char *text, const char *allowed, const char **out)
{
    const char *p = strstr(allowed, text);
    size_t n = strlen(text);
    if (!n || !p || (p != allowed && p[-1] != '|') ||
        (p[n] != '\0' && p[n] != '|'))
        return false;
    *out = text;
    return true;
}
