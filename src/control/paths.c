/*
 * Where a managed job's files live: the run directory (pid, state, control
 * socket; may vanish at logout or reboot) and the state directory (logs and
 * progress logs, which survive a reboot). docs/streamctl.md, "Files".
 */
#include "control/control_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>

static sl_status errf(char *errbuf, size_t errlen, sl_status st,
                      const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static sl_status errf(char *errbuf, size_t errlen, sl_status st,
                      const char *fmt, ...)
{
    va_list ap;
    if (errbuf && errlen) {
        va_start(ap, fmt);
        vsnprintf(errbuf, errlen, fmt, ap);
        va_end(ap);
    }
    return st;
}

/* snprintf that says whether it all fit */
static bool put(char *out, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static bool put(char *out, size_t n, const char *fmt, ...)
{
    va_list ap;
    int w;
    va_start(ap, fmt);
    w = vsnprintf(out, n, fmt, ap);
    va_end(ap);
    return w >= 0 && (size_t)w < n;
}

static const char *env_nonempty(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

sl_status sl_control_run_dir(const char *run_dir, char *out, size_t outlen,
                             char *errbuf, size_t errlen)
{
    const char *v, *home;
    bool ok;
    if (!out || !outlen)
        return SL_EINVAL;
    if (run_dir && *run_dir)
        ok = put(out, outlen, "%s", run_dir);
    else if ((v = env_nonempty("SLUICE_RUN_DIR")) != NULL)
        ok = put(out, outlen, "%s", v);
    else if ((v = env_nonempty("XDG_RUNTIME_DIR")) != NULL)
        ok = put(out, outlen, "%s/sluice", v);
    else if ((home = env_nonempty("HOME")) != NULL)
        ok = put(out, outlen, "%s/.local/state/sluice/run", home);
    else
        return errf(errbuf, errlen, SL_EINVAL,
                    "no run directory: set SLUICE_RUN_DIR, XDG_RUNTIME_DIR "
                    "or HOME, or give --run-dir");
    if (!ok)
        return errf(errbuf, errlen, SL_ERANGE,
                    "the run directory's path is "
                    "longer than %d bytes",
                    SL_CONTROL_PATH_MAX - 1);
    return SL_OK;
}

static sl_status state_dir(const char *name, char *out, size_t n, char *errbuf,
                           size_t errlen)
{
    const char *v = env_nonempty("XDG_STATE_HOME"), *home;
    bool ok;
    if (v)
        ok = put(out, n, "%s/sluice/%s", v, name);
    else if ((home = env_nonempty("HOME")) != NULL)
        ok = put(out, n, "%s/.local/state/sluice/%s", home, name);
    else
        return errf(errbuf, errlen, SL_EINVAL,
                    "no log directory: set XDG_STATE_HOME or HOME");
    return ok ? SL_OK
              : errf(errbuf, errlen, SL_ERANGE,
                     "the log directory's path is too long");
}

/* A job name names folders and command arguments. */
static bool name_ok(const char *name)
{
    return name && *name && strcmp(name, ".") && strcmp(name, "..") &&
           name[0] != '-' && !strchr(name, '/') && strlen(name) <= 200;
}

sl_status sl_control_paths_for(const char *name, const char *run_dir,
                               sl_control_paths *out, char *errbuf,
                               size_t errlen)
{
    struct sockaddr_un sa;
    sl_status st;
    if (!out)
        return SL_EINVAL;
    if (!name_ok(name))
        return errf(errbuf, errlen, SL_EINVAL,
                    "job name \"%s\" cannot name a folder (it must not be "
                    "empty, \".\" or \"..\", start with '-', hold '/' or "
                    "pass 200 bytes)",
                    name ? name : "");
    memset(out, 0, sizeof *out);
    if ((st = sl_control_run_dir(run_dir, out->run_dir, sizeof out->run_dir,
                                 errbuf, errlen)) != SL_OK)
        return st;
    if (!put(out->job_dir, sizeof out->job_dir, "%s/%s", out->run_dir, name) ||
        !put(out->socket, sizeof out->socket, "%s/control.sock", out->job_dir))
        return errf(errbuf, errlen, SL_ERANGE,
                    "the run folder's path is too "
                    "long");
    if (strlen(out->socket) >= sizeof sa.sun_path)
        return errf(errbuf, errlen, SL_ERANGE,
                    "the control socket's path %s is %zu bytes, longer than "
                    "a Unix socket address allows (%zu): give a shorter "
                    "--run-dir or SLUICE_RUN_DIR, or a shorter job name",
                    out->socket, strlen(out->socket), sizeof sa.sun_path - 1);
    if ((st = state_dir(name, out->state_dir, sizeof out->state_dir, errbuf,
                        errlen)) != SL_OK)
        return st;
    if (!put(out->log, sizeof out->log, "%s/job.log", out->state_dir) ||
        !put(out->progress_log, sizeof out->progress_log, "%s/progress.log",
             out->state_dir))
        return errf(errbuf, errlen, SL_ERANGE,
                    "the log folder's path is too "
                    "long");
    return SL_OK;
}

sl_status sl__control_mkdirs(const char *path, mode_t mode, char *errbuf,
                             size_t errlen)
{
    char buf[SL_CONTROL_PATH_MAX];
    char *p;
    if (!put(buf, sizeof buf, "%s", path))
        return errf(errbuf, errlen, SL_ERANGE, "path too long: %s", path);
    for (p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0700) != 0 && errno != EEXIST)
            return errf(errbuf, errlen, SL_EIO, "cannot create %s: %s", buf,
                        SL__STRERROR(errno));
        *p = '/';
    }
    if (mkdir(buf, mode) != 0 && errno != EEXIST)
        return errf(errbuf, errlen, SL_EIO, "cannot create %s: %s", buf,
                    SL__STRERROR(errno));
    return SL_OK;
}
