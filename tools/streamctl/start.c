/*
 * `streamctl start` and `restart`: validate a job file (or take a C
 * program), make the job's folders and command.json, fork a detached
 * child that runs the job as `run` does with the control plane attached
 * (or execs the program with SLUICE_JOB_NAME set), and wait until the
 * job's state.json says running or failed (docs/streamctl.md "start").
 */
#include "manage_int.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* What start was asked to do. */
typedef struct start_args {
    const char *file;  /* JOB.json, or NULL with exec */
    const char *exec;  /* the C program, or NULL */
    const char *name;  /* --name */
    int64_t wait_ms;   /* --wait */
    int ui_port;       /* --ui, 0: none */
    char ui_bind[256]; /* --ui's BIND, "" when not given */
    char **prog_argv;  /* the program's argv (exec), NULL-ended */
    job_sets sets;
} start_args;

/* Take one option with a value into *out; -1 on a usage error. */
static int opt_value(int argc, char **argv, int *i, const char **out)
{
    if (*i + 1 >= argc)
        return streamctl_usage_error(mg_usage_start, "%s needs a value",
                                     argv[*i]),
               -1;
    *out = argv[++*i];
    return 0;
}

/* Options other than --set (taken before); -1 after a usage error. */
static int parse_start(int argc, char **argv, start_args *a)
{
    const char *wait = "30s", *ui = NULL;
    int i;

    for (i = 2; i < argc; i++) {
        const char *o = argv[i];
        if (!strcmp(o, "-h") || !strcmp(o, "--help")) {
            mg_usage_start(stdout);
            exit(EXIT_OK);
        }
        if (!strcmp(o, "--")) {
            a->prog_argv = argv + i + 1;
            break;
        }
        if ((!strcmp(o, "--name") && opt_value(argc, argv, &i, &a->name)) ||
            (!strcmp(o, "--wait") && opt_value(argc, argv, &i, &wait)) ||
            (!strcmp(o, "--ui") && opt_value(argc, argv, &i, &ui)) ||
            (!strcmp(o, "--exec") && opt_value(argc, argv, &i, &a->exec)))
            return -1;
        if (!strcmp(o, "--name") || !strcmp(o, "--wait") ||
            !strcmp(o, "--ui") || !strcmp(o, "--exec"))
            continue;
        if (o[0] == '-' && o[1])
            return streamctl_usage_error(mg_usage_start, "unknown option '%s'",
                                         o),
                   -1;
        if (a->file)
            return streamctl_usage_error(mg_usage_start,
                                         "unexpected argument '%s'", o),
                   -1;
        a->file = o;
    }
    if (!mg_duration(wait, &a->wait_ms))
        return streamctl_usage_error(mg_usage_start, "bad --wait '%s'", wait),
               -1;
    if (ui &&
        !streamctl_parse_ui(ui, a->ui_bind, sizeof a->ui_bind, &a->ui_port))
        return streamctl_usage_error(mg_usage_start,
                                     "bad --ui '%s' (want [BIND:]PORT, PORT "
                                     "1-65535)",
                                     ui),
               -1;
    if (!a->exec == !a->file)
        return streamctl_usage_error(mg_usage_start, "%s",
                                     a->exec ? "--exec takes no job file"
                                             : "a job file is required"),
               -1;
    if (a->exec && a->sets.n)
        return streamctl_usage_error(mg_usage_start, "%s",
                                     "--set is for a job file"),
               -1;
    return 0;
}

/* command.json: what restart replays (the argv after "start"). */
static bool write_command(const mg_job *j, int argc, char **argv,
                          const char *kind)
{
    char path[SL_CONTROL_PATH_MAX + 16], cwd[4096];
    cJSON *o = cJSON_CreateObject(), *av = cJSON_AddArrayToObject(o, "argv");
    char *text;
    bool ok;
    int i;

    cJSON_AddStringToObject(o, "kind", kind);
    for (i = 2; av && i < argc; i++)
        cJSON_AddItemToArray(av, cJSON_CreateString(argv[i]));
    cJSON_AddStringToObject(o, "cwd", getcwd(cwd, sizeof cwd) ? cwd : "/");
    snprintf(path, sizeof path, "%s/command.json", j->p.job_dir);
    text = cJSON_Print(o);
    ok = text && mg_write_file(path, text);
    free(text);
    cJSON_Delete(o);
    if (!ok)
        fprintf(stderr, "streamctl: cannot write %s: %s\n", path,
                strerror(errno));
    return ok;
}

/* The detached child's stdio: stdin /dev/null, stdout and stderr
 * appended to the log; its own session, so the terminal's signals and
 * hang-up do not reach it. */
static void detach(const mg_job *j)
{
    int in = open("/dev/null", O_RDONLY), out;

    setsid();
    out = open(j->p.log, O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (in >= 0)
        dup2(in, 0);
    if (out >= 0) {
        dup2(out, 1);
        dup2(out, 2);
    }
    if (in > 2)
        close(in);
    if (out > 2)
        close(out);
}

/* The child of a job-file start: run's work with the control plane. */
static void child_job(const start_args *a, const mg_job *j, sl_job *job,
                      const char *name, const char *run_dir,
                      const sigset_t *sigs)
{
    sl_control_options opts = {
        SL_CONTROL_OPTIONS_VERSION, NULL, NULL, NULL, 0, NULL, NULL};
    char *text = mg_read_file(a->file, NULL);
    int rc;

    sl_job_control_options(job, &opts);
    opts.name = name;
    opts.run_dir = run_dir ? run_dir : j->p.run_dir;
    opts.job_json = text;
    if (a->ui_port)
        opts.ui_port = a->ui_port;
    if (a->ui_bind[0])
        opts.ui_bind = a->ui_bind;
    rc = streamctl_run_job(a->file, job, sigs, &opts);
    fflush(NULL);
    _exit(rc);
}

/* The child of an exec start: the environment names the job, which
 * sl_context_start attaches (include/sluice/control.h). */
static void child_exec(const start_args *a, const mg_job *j, const char *name,
                       const sigset_t *sigs)
{
    char port[16];
    char *const none[] = {(char *)a->exec, NULL};
    char **av;
    int n = 0;

    pthread_sigmask(SIG_UNBLOCK, sigs, NULL);
    setenv("SLUICE_JOB_NAME", name, 1);
    setenv("SLUICE_RUN_DIR", j->p.run_dir, 1);
    snprintf(port, sizeof port, "%d", a->ui_port);
    if (a->ui_port)
        setenv("SLUICE_UI_PORT", port, 1);
    if (a->ui_bind[0])
        setenv("SLUICE_UI_BIND", a->ui_bind, 1);
    while (a->prog_argv && a->prog_argv[n])
        n++;
    av = malloc((size_t)(n + 2) * sizeof *av);
    if (av) {
        av[0] = (char *)a->exec;
        memcpy(av + 1, a->prog_argv ? a->prog_argv : none + 1,
               (size_t)n * sizeof *av);
        av[n + 1] = NULL;
        execvp(a->exec, av);
    }
    fprintf(stderr, "streamctl: cannot run %s: %s\n", a->exec, strerror(errno));
    _exit(127);
}

/* The state.json of the job this child started, or NULL (not yet). */
static const char *child_state(const mg_job *j, pid_t child)
{
    const cJSON *pid = cJSON_GetObjectItemCaseSensitive(j->state, "pid");
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(j->state, "state");
    if (!cJSON_IsNumber(pid) || (pid_t)pid->valuedouble != child ||
        !cJSON_IsString(st))
        return NULL;
    return st->valuestring;
}

static int report_failed(const mg_job *j, const char *name, const char *why)
{
    fprintf(stderr, "streamctl: job \"%s\" failed to start: %s\n", name, why);
    fprintf(stderr, "streamctl: the last lines of %s:\n", j->p.log);
    mg_tail(j->p.log, 10, stderr, "  ");
    return EXIT_FAILED;
}

/* Why a job is still starting, from its status's waiting_for. */
static int report_waiting(const mg_job *j, const char *name, pid_t child)
{
    char err[256];
    cJSON *r = mg_request(j, "{\"cmd\":\"status\"}", 2000, err, sizeof err);
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(r, "waiting_for");

    fprintf(stderr,
            "streamctl: job \"%s\" (pid %ld) is still starting%s%s; it goes "
            "on (streamctl status %s, streamctl stop %s)\n",
            name, (long)child, cJSON_IsString(w) ? ": waiting for " : "",
            cJSON_IsString(w) ? w->valuestring : "", name, name);
    cJSON_Delete(r);
    return EXIT_FAILED;
}

/* Whether the child has ended; then *why says how. */
static bool child_ended(pid_t child, char *why, size_t cap)
{
    int status;
    if (waitpid(child, &status, WNOHANG) != child)
        return false;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
        snprintf(why, cap, "the program could not be run (exit status 127)");
    else if (WIFEXITED(status))
        snprintf(why, cap, "the process exited with status %d",
                 WEXITSTATUS(status));
    else
        snprintf(why, cap, "the process was killed by signal %d",
                 WTERMSIG(status));
    return true;
}

/* Wait until the child's state.json says running, failed or stopped. */
static int wait_started(const char *name, const char *run_dir, pid_t child,
                        int64_t wait_ms)
{
    int64_t deadline = mg_now_ms() + wait_ms;
    char why[128];
    int rc = -1;

    while (rc < 0) {
        bool ended = child_ended(child, why, sizeof why);
        const char *st, *ui;
        mg_job j;
        if (mg_job_open(name, run_dir, &j) != EXIT_OK)
            return EXIT_FAILED;
        st = child_state(&j, child);
        ui = cJSON_GetStringValue(cJSON_GetObjectItem(j.state, "ui"));
        if (st && (!strcmp(st, "running") || !strcmp(st, "stopped"))) {
            printf("%s job \"%s\" (pid %ld)%s%s\n",
                   strcmp(st, "running") ? "started and already stopped"
                                         : "started",
                   name, (long)child, ui ? "; UI " : "", ui ? ui : "");
            rc = EXIT_OK;
        } else if (st && !strcmp(st, "failed")) {
            const char *e = mg_job_error(&j);
            rc = report_failed(&j, name, e ? e : "(no reason given)");
        } else if (ended) {
            rc = report_failed(&j, name, why);
        } else if (mg_now_ms() > deadline) {
            rc = report_waiting(&j, name, child);
        }
        mg_job_close(&j);
        if (rc < 0)
            mg_sleep_ms(50);
    }
    return rc;
}

/* The job's name: --name, the job file's, the program's basename. */
static const char *job_name(const start_args *a, sl_job *job)
{
    const char *n = a->name;
    if (!n && job)
        n = sl_job_name(job);
    if (!n && a->exec)
        n = strrchr(a->exec, '/') ? strrchr(a->exec, '/') + 1 : a->exec;
    return n;
}

/* Refuse a taken name, make the folders and command.json. */
static int prepare(const char *name, const char *run_dir, int argc, char **argv,
                   const start_args *a, mg_job *j)
{
    if (mg_job_open(name, run_dir, j) != EXIT_OK)
        return EXIT_FAILED;
    if (j->held) {
        fprintf(stderr,
                "streamctl: job \"%s\" is already running (pid %ld); stop "
                "it first or choose another --name\n",
                name, j->pid);
        return EXIT_FAILED;
    }
    if (!mg_mkdirs(j->p.job_dir, 0700) || !mg_mkdirs(j->p.state_dir, 0700)) {
        fprintf(stderr, "streamctl: cannot make %s or %s: %s\n", j->p.job_dir,
                j->p.state_dir, strerror(errno));
        return EXIT_FAILED;
    }
    return write_command(j, argc, argv, a->exec ? "exec" : "job") ? EXIT_OK
                                                                  : EXIT_FAILED;
}

/* Load and check the job file as run does (before any thread). */
static int load_job(const start_args *a, sl_job **job)
{
    bool oom;
    *job = NULL;
    if (!a->file)
        return EXIT_OK;
    if (!(*job = streamctl_load_valid(a->file, &a->sets, &oom)))
        return oom ? EXIT_FAILED : EXIT_INVALID;
    return streamctl_check_env(a->file, *job, SL_JOB_ENV_AT_START, EXIT_FAILED);
}

int mg_cmd_start(int argc, char **argv, const char *run_dir)
{
    start_args a = {0};
    sl_job *job = NULL;
    sigset_t sigs;
    const char *name;
    mg_job j = {0};
    pid_t child;
    int rc;

    if (streamctl_take_sets(&argc, argv, mg_usage_start, &a.sets) < 0 ||
        parse_start(argc, argv, &a) < 0) {
        free(a.sets.v);
        return EXIT_USAGE;
    }
    /* Blocked before any sluice thread exists, as run does. */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    if ((rc = load_job(&a, &job)) != EXIT_OK)
        goto out;
    rc = EXIT_FAILED;
    if (!(name = job_name(&a, job))) {
        fprintf(stderr, "streamctl: %s has no name: give --name\n", a.file);
        goto out;
    }
    if ((rc = prepare(name, run_dir, argc, argv, &a, &j)) != EXIT_OK)
        goto out;
    fflush(NULL);
    if ((child = fork()) < 0) {
        fprintf(stderr, "streamctl: fork: %s\n", strerror(errno));
        rc = EXIT_FAILED;
        goto out;
    }
    if (child == 0) {
        detach(&j);
        if (a.exec)
            child_exec(&a, &j, name, &sigs);
        child_job(&a, &j, job, name, run_dir, &sigs);
    }
    rc = wait_started(name, run_dir, child, a.wait_ms);
out:
    mg_job_close(&j);
    sl_job_free(job);
    free(a.sets.v);
    return rc;
}

/* state.json says stopped before the process has ended and let go of
 * the name: wait (10 s at most) for that, as start would refuse it. */
static bool wait_gone(const mg_job *j)
{
    int64_t deadline = mg_now_ms() + 10000;
    while (mg_lock_held(j->p.job_dir) || mg_pid_alive(j->pid)) {
        if (mg_now_ms() > deadline) {
            fprintf(stderr,
                    "streamctl: job process %ld has not ended 10s after it "
                    "stopped\n",
                    j->pid);
            return false;
        }
        mg_sleep_ms(20);
    }
    return true;
}

/* restart NAME: stop it gracefully, then start it again as command.json
 * says, in its folder. */
int mg_cmd_restart(int argc, char **argv, const char *run_dir)
{
    char path[SL_CONTROL_PATH_MAX + 16];
    const cJSON *av, *cwd, *it;
    cJSON *cmd = NULL;
    char **nargv = NULL;
    mg_job j = {0};
    int rc = EXIT_FAILED, n = 2;

    if (argc == 3 && (!strcmp(argv[2], "-h") || !strcmp(argv[2], "--help"))) {
        mg_usage_restart(stdout);
        return EXIT_OK;
    }
    if (argc != 3 || argv[2][0] == '-')
        return streamctl_usage_error(mg_usage_restart, "%s",
                                     "restart takes one job NAME");
    if (mg_job_open(argv[2], run_dir, &j) != EXIT_OK)
        return EXIT_FAILED;
    snprintf(path, sizeof path, "%s/command.json", j.p.job_dir);
    cmd = mg_read_json(path);
    av = cJSON_GetObjectItemCaseSensitive(cmd, "argv");
    cwd = cJSON_GetObjectItemCaseSensitive(cmd, "cwd");
    if (!cJSON_IsArray(av) || !cJSON_IsString(cwd)) {
        fprintf(stderr,
                "streamctl: job \"%s\" has no usable %s: it was not started "
                "by streamctl start\n",
                argv[2], path);
        goto out;
    }
    if (j.held && (rc = mg_stop(argv[2], run_dir, 30000, false, true)) != 0 &&
        rc != EXIT_LEFT)
        goto out;
    rc = EXIT_FAILED;
    if (!wait_gone(&j))
        goto out;
    if (!(nargv = calloc((size_t)cJSON_GetArraySize(av) + 3, sizeof *nargv)))
        goto out;
    nargv[0] = argv[0];
    nargv[1] = (char *)"start";
    cJSON_ArrayForEach(it, av) if (cJSON_IsString(it)) nargv[n++] =
        it->valuestring;
    if (chdir(cwd->valuestring) < 0) {
        fprintf(stderr, "streamctl: cannot enter %s: %s\n", cwd->valuestring,
                strerror(errno));
        goto out;
    }
    rc = mg_cmd_start(n, nargv, run_dir);
out:
    free(nargv);
    cJSON_Delete(cmd);
    mg_job_close(&j);
    return rc;
}
