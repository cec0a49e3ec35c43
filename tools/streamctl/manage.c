/*
 * streamctl's managed-job commands that talk to a running job or read
 * its files: stop, status, list, logs, progress, query and completion,
 * and the dispatch of every managed-job command (docs/streamctl.md).
 */
#include "manage.h"

#include "manage_int.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The options of one command: NAME, then flags with or without values. */
typedef struct cmd_opts {
    const char *name;    /* the positional argument */
    const char *arg2;    /* a second one (query's SQL) */
    const char *format;  /* --format */
    const char *timeout; /* --timeout */
    const char *n;       /* -n */
    bool now, follow;
} cmd_opts;

/* Parse argv[2..] against the options a command takes (a string such
 * as "format,n,follow"); -1 after a usage error, 1 after --help. */
static int parse_opts(int argc, char **argv, const char *takes,
                      void (*usage)(FILE *), cmd_opts *o)
{
    int i;
    for (i = 2; i < argc; i++) {
        const char *a = argv[i], **val = NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 1;
        }
        if (!strcmp(a, "--format") && strstr(takes, "format"))
            val = &o->format;
        else if (!strcmp(a, "--timeout") && strstr(takes, "timeout"))
            val = &o->timeout;
        else if (!strcmp(a, "-n") && strstr(takes, "n,"))
            val = &o->n;
        else if (!strcmp(a, "--now") && strstr(takes, "now"))
            o->now = true;
        else if (!strcmp(a, "-f") && strstr(takes, "follow"))
            o->follow = true;
        else if (a[0] == '-' && a[1])
            return streamctl_usage_error(usage, "unknown option '%s'", a), -1;
        else if (!o->name)
            o->name = a;
        else if (!o->arg2 && strstr(takes, "arg2"))
            o->arg2 = a;
        else
            return streamctl_usage_error(usage, "unexpected argument '%s'", a),
                   -1;
        if (val && i + 1 == argc)
            return streamctl_usage_error(usage, "%s needs a value", a), -1;
        if (val)
            *val = argv[++i];
    }
    return 0;
}

/* -n N as a count; -1 when bad. */
static long count_arg(const char *n, long dflt)
{
    char *end;
    long v;
    if (!n)
        return dflt;
    v = strtol(n, &end, 10);
    return (*end || end == n || v < 0) ? -1 : v;
}

/* ---------------------------------------------------------------- stop */

/* The end of a stop, from state.json: 0, 4 (input left) or 1. */
static int stop_result(const mg_job *j, const char *name, bool quiet)
{
    const cJSON *stop = cJSON_GetObjectItemCaseSensitive(j->state, "stop");
    double recs =
        cJSON_GetNumberValue(cJSON_GetObjectItem(stop, "unprocessed_records"));
    double bats =
        cJSON_GetNumberValue(cJSON_GetObjectItem(stop, "unprocessed_batches"));

    if (!strcmp(mg_job_state(j), "failed")) {
        const char *e = mg_job_error(j);
        fprintf(stderr, "streamctl: job \"%s\" failed: %s\n", name,
                e ? e : "(no reason given)");
        return EXIT_FAILED;
    }
    if ((recs > 0) || (bats > 0)) {
        fprintf(stderr,
                "streamctl: job \"%s\" stopped with input left unprocessed: "
                "%.0f records in %.0f batches%s\n",
                name, recs > 0 ? recs : 0, bats > 0 ? bats : 0,
                cJSON_IsTrue(cJSON_GetObjectItem(stop, "timed_out"))
                    ? " (the graceful stop ran past stop.graceful_timeout)"
                    : "");
        return EXIT_LEFT;
    }
    if (!quiet)
        printf("stopped job \"%s\"\n", name);
    return EXIT_OK;
}

/* "streamctl: job "NAME" WHAT" on stderr; returns rc. */
static int say(const char *name, const char *what, int rc)
{
    fprintf(stderr, "streamctl: job \"%s\" %s\n", name, what);
    return rc;
}

int mg_stop(const char *name, const char *run_dir, int64_t timeout_ms, bool now,
            bool quiet)
{
    int64_t deadline = mg_now_ms() + timeout_ms;
    char err[512];
    cJSON *r;
    mg_job j;
    int rc = -1;

    if (mg_job_open(name, run_dir, &j) != EXIT_OK)
        return EXIT_FAILED;
    if (!j.held || !strcmp(mg_job_state(&j), "stopped") ||
        !strcmp(mg_job_state(&j), "failed")) {
        fprintf(stderr, "streamctl: job \"%s\" is not running (%s)\n", name,
                j.state ? mg_job_state(&j) : "no such job");
        mg_job_close(&j);
        return EXIT_FAILED;
    }
    r = mg_request(&j,
                   now ? "{\"cmd\":\"stop\",\"graceful\":false}"
                       : "{\"cmd\":\"stop\",\"graceful\":true}",
                   5000, err, sizeof err);
    if (!r || !cJSON_IsTrue(cJSON_GetObjectItem(r, "ok"))) {
        const char *e = cJSON_GetStringValue(cJSON_GetObjectItem(r, "error"));
        fprintf(stderr, "streamctl: cannot stop job \"%s\": %s\n", name,
                r ? (e ? e : "refused") : err);
        cJSON_Delete(r);
        mg_job_close(&j);
        return EXIT_FAILED;
    }
    cJSON_Delete(r);
    while (rc < 0) {
        const char *st = mg_job_state(&j);
        bool ended = !strcmp(st, "stopped") || !strcmp(st, "failed");
        /* Done when the process is gone too: the name is then free for
         * the next start (state.json says stopped a moment before). */
        bool gone = !mg_lock_held(j.p.job_dir) && !mg_pid_alive(j.pid);
        if (ended && gone)
            rc = stop_result(&j, name, quiet);
        else if (gone)
            rc = say(name, "ended without saying it stopped", EXIT_FAILED);
        else if (mg_now_ms() > deadline)
            rc = say(name,
                     "is still stopping after --timeout; it goes on "
                     "stopping",
                     EXIT_TIMEOUT);
        mg_job_close(&j);
        if (rc < 0) {
            mg_sleep_ms(50);
            if (mg_job_open(name, run_dir, &j) != EXIT_OK)
                return EXIT_FAILED;
        }
    }
    return rc;
}

static int cmd_stop(int argc, char **argv, const char *run_dir)
{
    cmd_opts o = {0};
    int64_t ms = 30000;
    int p = parse_opts(argc, argv, "timeout,now", mg_usage_stop, &o);
    if (p)
        return p > 0 ? EXIT_OK : EXIT_USAGE;
    if (!o.name)
        return streamctl_usage_error(mg_usage_stop, "%s",
                                     "a job NAME is required");
    if (o.timeout && !mg_duration(o.timeout, &ms))
        return streamctl_usage_error(mg_usage_stop, "bad --timeout '%s'",
                                     o.timeout);
    return mg_stop(o.name, run_dir, ms, o.now, false);
}

/* ------------------------------------------------------- status, list */

/* A job's status object: the live job's answer, else what its
 * state.json says (a stale job as failed, "the process died"). */
static cJSON *job_status(const char *name, const char *run_dir, bool *stale)
{
    static const char *const keep[] = {"started_at", "ended_at", "ui", "stop"};
    char err[512];
    cJSON *o = NULL;
    const char *e;
    mg_job j;
    size_t i;

    if (mg_job_open(name, run_dir, &j) != EXIT_OK)
        return NULL;
    *stale = j.stale;
    if (j.held &&
        (o = mg_request(&j, "{\"cmd\":\"status\"}", 5000, err, sizeof err)) &&
        cJSON_IsTrue(cJSON_GetObjectItem(o, "ok")))
        goto out;
    cJSON_Delete(o);
    o = cJSON_CreateObject();
    cJSON_AddBoolToObject(o, "ok", true);
    cJSON_AddStringToObject(o, "name", name);
    cJSON_AddStringToObject(o, "state", mg_job_state(&j));
    cJSON_AddNumberToObject(o, "pid", (double)j.pid);
    for (i = 0; i < sizeof keep / sizeof *keep; i++) {
        cJSON *v = cJSON_GetObjectItemCaseSensitive(j.state, keep[i]);
        cJSON_AddItemToObject(
            o, keep[i], v ? cJSON_Duplicate(v, true) : cJSON_CreateNull());
    }
    e = mg_job_error(&j);
    cJSON_AddItemToObject(o, "last_error",
                          e ? cJSON_CreateString(e) : cJSON_CreateNull());
out:
    mg_job_close(&j);
    return o;
}

/* A figure of a status object as table text ("-" when absent). */
static const char *fig(const cJSON *o, const char *key, char *buf, size_t cap)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (cJSON_IsString(v))
        return v->valuestring;
    if (!cJSON_IsNumber(v))
        return "-";
    if (v->valuedouble == (double)(long long)v->valuedouble)
        snprintf(buf, cap, "%lld", (long long)v->valuedouble);
    else
        snprintf(buf, cap, "%.1f", v->valuedouble);
    return buf;
}

#define STATUS_HEAD "%-16s %-8s %7s %9s %7s %8s %9s %8s %6s %10s %-24s %s\n"

static void print_status_row(const cJSON *o)
{
    char b[11][32], up[32] = "-";
    const cJSON *u = cJSON_GetObjectItemCaseSensitive(o, "uptime_s");
    const char *err =
        cJSON_GetStringValue(cJSON_GetObjectItem(o, "last_error"));

    if (cJSON_IsNumber(u)) {
        long s = (long)u->valuedouble;
        snprintf(up, sizeof up, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60,
                 s % 60);
    }
    printf(STATUS_HEAD, fig(o, "name", b[0], 32), fig(o, "state", b[1], 32),
           fig(o, "pid", b[2], 32), up, fig(o, "batches", b[3], 32),
           fig(o, "last_batch_ms", b[4], 32),
           fig(o, "input_rows_per_s", b[5], 32),
           fig(o, "scheduling_delay_ms", b[6], 32),
           fig(o, "queued_batches", b[7], 32), fig(o, "state_rows", b[8], 32),
           fig(o, "watermark", b[9], 32), err ? err : "-");
}

/* The lag map of a source's last range ({"topic": {"0": 12}}, the
 * Kafka source's end.lag) as " (topic[0] 12, ...)", at most 8 shown. */
static void print_partition_lag(const cJSON *lag)
{
    const cJSON *t, *p;
    int n = 0, more = 0;
    cJSON_ArrayForEach(t, lag)
    {
        cJSON_ArrayForEach(p, t)
        {
            if (!cJSON_IsNumber(p))
                continue;
            if (n == 8) {
                more++;
                continue;
            }
            printf("%s%s[%s] %lld", n++ ? ", " : " (", t->string, p->string,
                   (long long)p->valuedouble);
        }
    }
    if (more)
        printf(", %d more", more);
    if (n)
        printf(")");
}

/* Under one job's row: each source's rows and lag (per partition where
 * the source says, as the Kafka source does). */
static void print_sources(const cJSON *o)
{
    const cJSON *s;
    cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(o, "sources"))
    {
        char rows[32], lag[32];
        const cJSON *end = cJSON_GetObjectItemCaseSensitive(s, "end");
        printf("  source %s: %s rows, lag %s",
               cJSON_GetStringValue(cJSON_GetObjectItem(s, "name")),
               fig(s, "rows_total", rows, sizeof rows),
               fig(s, "lag", lag, sizeof lag));
        if (cJSON_IsObject(end))
            print_partition_lag(cJSON_GetObjectItemCaseSensitive(end, "lag"));
        putchar('\n');
    }
}

/* status [NAME] / list: one job, or every job of the run directory. */
static int print_statuses(char **names, int n, const char *run_dir,
                          const char *format, bool single)
{
    cJSON *all = cJSON_CreateArray(), *o;
    bool stale, json = !strcmp(format, "json");
    int i, rc = EXIT_OK;
    char *text;

    if (!json)
        printf(STATUS_HEAD, "NAME", "STATE", "PID", "UPTIME", "BATCHES",
               "LAST_MS", "IN/S", "SCHED_MS", "QUEUED", "STATE_ROWS",
               "WATERMARK", "LAST_ERROR");
    for (i = 0; i < n; i++) {
        if (!(o = job_status(names[i], run_dir, &stale))) {
            rc = EXIT_FAILED;
            continue;
        }
        if (!json)
            print_status_row(o);
        if (!json && single)
            print_sources(o);
        if (!json && stale) {
            sl_control_paths p;
            char err[256];
            if (sl_control_paths_for(names[i], run_dir, &p, err, sizeof err) ==
                SL_OK)
                mg_tail(p.log, 5, stdout, "    | ");
        }
        cJSON_AddItemToArray(all, o);
    }
    if (json && (text = cJSON_PrintUnformatted(
                     single ? cJSON_GetArrayItem(all, 0) : all))) {
        puts(text);
        free(text);
    }
    cJSON_Delete(all);
    return fflush(stdout) == 0 ? rc : EXIT_FAILED;
}

static int cmd_status(int argc, char **argv, const char *run_dir, bool list)
{
    cmd_opts o = {0};
    char **names = NULL, *one[2] = {NULL, NULL};
    const char *format = "table";
    int p = parse_opts(argc, argv, list ? "format" : "format,name",
                       list ? mg_usage_list : mg_usage_status, &o),
        n, rc;

    if (p)
        return p > 0 ? EXIT_OK : EXIT_USAGE;
    if (list && o.name)
        return streamctl_usage_error(mg_usage_list, "unexpected argument '%s'",
                                     o.name);
    if (o.format && !mg_format(o.format, "table|json", &format))
        return streamctl_usage_error(list ? mg_usage_list : mg_usage_status,
                                     "unknown format '%s' (table or json)",
                                     o.format);
    if (o.name) {
        mg_job j;
        if (mg_job_open(o.name, run_dir, &j) != EXIT_OK)
            return EXIT_FAILED;
        n = j.state || j.held;
        mg_job_close(&j);
        if (!n) {
            fprintf(stderr, "streamctl: no job \"%s\" in the run directory\n",
                    o.name);
            return EXIT_FAILED;
        }
        one[0] = (char *)o.name;
        return print_statuses(one, 1, run_dir, format, true);
    }
    if ((n = mg_job_names(run_dir, &names)) < 0)
        return EXIT_FAILED;
    rc = print_statuses(names, n, run_dir, format, false);
    mg_free_names(names, n);
    return rc;
}

/* ---------------------------------------------------------------- logs */

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
    (void)sig;
    interrupted = 1;
}

/* Print what the log gains until SIGINT; a log that shrank (a new run
 * truncated or replaced it) is read again from its start. */
static int follow(const char *path)
{
    struct sigaction sa;
    char buf[65536];
    FILE *f = NULL;
    long pos = 0;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigaction(SIGINT, &sa, NULL);
    if ((f = fopen(path, "rb")) && fseek(f, 0, SEEK_END) == 0)
        pos = ftell(f);
    while (!interrupted) {
        struct stat sb;
        size_t got;
        if (stat(path, &sb) == 0 && sb.st_size < pos) {
            if (f)
                fclose(f);
            f = fopen(path, "rb");
            pos = 0;
        }
        if (!f && !(f = fopen(path, "rb"))) {
            mg_sleep_ms(200);
            continue;
        }
        clearerr(f);
        fseek(f, pos, SEEK_SET);
        while ((got = fread(buf, 1, sizeof buf, f)) > 0) {
            fwrite(buf, 1, got, stdout);
            pos += (long)got;
        }
        fflush(stdout);
        mg_sleep_ms(200);
    }
    if (f)
        fclose(f);
    return EXIT_OK;
}

static int cmd_logs(int argc, char **argv, const char *run_dir)
{
    cmd_opts o = {0};
    long n;
    mg_job j;
    int p = parse_opts(argc, argv, "n,follow", mg_usage_logs, &o);

    if (p)
        return p > 0 ? EXIT_OK : EXIT_USAGE;
    if (!o.name)
        return streamctl_usage_error(mg_usage_logs, "%s",
                                     "a job NAME is required");
    if ((n = count_arg(o.n, 50)) < 0)
        return streamctl_usage_error(mg_usage_logs, "bad -n '%s'", o.n);
    if (mg_job_open(o.name, run_dir, &j) != EXIT_OK)
        return EXIT_FAILED;
    mg_job_close(&j);
    if (access(j.p.log, R_OK) != 0 && !o.follow) {
        fprintf(stderr, "streamctl: job \"%s\" has no log (%s): %s\n", o.name,
                j.p.log, strerror(errno));
        return EXIT_FAILED;
    }
    mg_tail(j.p.log, n, stdout, "");
    fflush(stdout);
    return o.follow ? follow(j.p.log) : EXIT_OK;
}

/* ------------------------------------------------------------ progress */

/* One line of the progress table from an entry. */
static void print_progress_row(const cJSON *e)
{
    char b[8][32];
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(e, "duration_ms");
    printf("%8s %-24s %10s %10s %10s %8s %6s\n", fig(e, "batch", b[0], 32),
           fig(e, "timestamp", b[1], 32), fig(e, "input_rows", b[2], 32),
           fig(e, "input_rows_per_s", b[3], 32), fig(d, "total", b[4], 32),
           fig(e, "scheduling_delay_ms", b[5], 32),
           fig(e, "queued_batches", b[6], 32));
}

/* The last n entries of the progress log (0: all), as a JSON array. */
static cJSON *progress_from_log(const char *path, long n)
{
    cJSON *all = cJSON_CreateArray();
    char *text = mg_read_file(path, NULL), *line, *save = NULL;

    for (line = text ? strtok_r(text, "\n", &save) : NULL; line;
         line = strtok_r(NULL, "\n", &save)) {
        cJSON *e = cJSON_Parse(line);
        if (e)
            cJSON_AddItemToArray(all, e);
    }
    free(text);
    while (n > 0 && cJSON_GetArraySize(all) > n)
        cJSON_DeleteItemFromArray(all, 0);
    return all;
}

static int print_progress(cJSON *entries, const char *format)
{
    const cJSON *e;
    char *text;
    if (!strcmp(format, "json")) {
        if ((text = cJSON_PrintUnformatted(entries)))
            puts(text);
        free(text);
    } else {
        printf("%8s %-24s %10s %10s %10s %8s %6s\n", "BATCH", "TIMESTAMP",
               "INPUT_ROWS", "IN/S", "TOTAL_MS", "SCHED_MS", "QUEUED");
        cJSON_ArrayForEach(e, entries) print_progress_row(e);
    }
    return fflush(stdout) == 0 ? EXIT_OK : EXIT_FAILED;
}

static int cmd_progress(int argc, char **argv, const char *run_dir)
{
    cmd_opts o = {0};
    const char *format = "table";
    char req[64], err[512];
    cJSON *r = NULL, *entries;
    long n;
    mg_job j;
    int rc, p = parse_opts(argc, argv, "n,format", mg_usage_progress, &o);

    if (p)
        return p > 0 ? EXIT_OK : EXIT_USAGE;
    if (!o.name)
        return streamctl_usage_error(mg_usage_progress, "%s",
                                     "a job NAME is required");
    if ((n = count_arg(o.n, 20)) < 0)
        return streamctl_usage_error(mg_usage_progress, "bad -n '%s'", o.n);
    if (o.format && !mg_format(o.format, "table|json", &format))
        return streamctl_usage_error(
            mg_usage_progress, "unknown format '%s' (table or json)", o.format);
    if (mg_job_open(o.name, run_dir, &j) != EXIT_OK)
        return EXIT_FAILED;
    snprintf(req, sizeof req, "{\"cmd\":\"progress\",\"n\":%ld}", n);
    /* The live job's memory, else the progress log it left. */
    if (j.held && (r = mg_request(&j, req, 5000, err, sizeof err)) &&
        cJSON_IsArray(cJSON_GetObjectItem(r, "progress")))
        entries = cJSON_DetachItemFromObject(r, "progress");
    else
        entries = progress_from_log(j.p.progress_log, n);
    rc = print_progress(entries, format);
    cJSON_Delete(entries);
    cJSON_Delete(r);
    mg_job_close(&j);
    return rc;
}

/* --------------------------------------------------------------- query */

/* A query's reply: its text on stdout, or its error on stderr. */
static int print_reply(cJSON *r)
{
    const char *text = cJSON_GetStringValue(cJSON_GetObjectItem(r, "text"));
    const char *e = cJSON_GetStringValue(cJSON_GetObjectItem(r, "error"));
    int rc = EXIT_FAILED;

    if (!cJSON_IsTrue(cJSON_GetObjectItem(r, "ok")))
        fprintf(stderr, "streamctl: %s\n", e ? e : "the query failed");
    else if (fputs(text ? text : "", stdout) >= 0 && fflush(stdout) == 0)
        rc = EXIT_OK;
    cJSON_Delete(r);
    return rc;
}

static int cmd_query(int argc, char **argv, const char *run_dir)
{
    cmd_opts o = {0};
    const char *format = "table";
    char err[512], *req;
    cJSON *q, *r;
    mg_job j;
    int rc = EXIT_FAILED,
        p = parse_opts(argc, argv, "format,arg2", mg_usage_query, &o);

    if (p)
        return p > 0 ? EXIT_OK : EXIT_USAGE;
    if (!o.name || !o.arg2)
        return streamctl_usage_error(mg_usage_query, "%s",
                                     "a job NAME and a query are required");
    if (o.format && !mg_format(o.format, "table|json|csv", &format))
        return streamctl_usage_error(mg_usage_query,
                                     "unknown format '%s' (table, json or "
                                     "csv)",
                                     o.format);
    if (mg_job_open(o.name, run_dir, &j) != EXIT_OK)
        return EXIT_FAILED;
    q = cJSON_CreateObject();
    cJSON_AddStringToObject(q, "cmd", "query");
    cJSON_AddStringToObject(q, "sql", o.arg2);
    cJSON_AddStringToObject(q, "format", format);
    req = cJSON_PrintUnformatted(q);
    cJSON_Delete(q);
    if (!j.held)
        fprintf(stderr, "streamctl: job \"%s\" is not running\n", o.name);
    else if (!req || !(r = mg_request(&j, req, 60000, err, sizeof err)))
        fprintf(stderr, "streamctl: job \"%s\": %s\n", o.name,
                req ? err : "out of memory");
    else
        rc = print_reply(r);
    free(req);
    mg_job_close(&j);
    return rc;
}

/* ---------------------------------------------------------- completion */

static const char completion_script[] =
    "# bash completion for streamctl: eval \"$(streamctl completion bash)\"\n"
    "_streamctl() {\n"
    "    local cur=${COMP_WORDS[COMP_CWORD]} cmd=\"\" i rundir=\"\"\n"
    "    for ((i = 1; i < COMP_CWORD; i++)); do\n"
    "        case ${COMP_WORDS[i]} in\n"
    "        --run-dir) rundir=${COMP_WORDS[i+1]}; ((i++)) ;;\n"
    "        -*) ;;\n"
    "        *) [ -z \"$cmd\" ] && cmd=${COMP_WORDS[i]} ;;\n"
    "        esac\n"
    "    done\n"
    "    if [ -z \"$cmd\" ]; then\n"
    "        COMPREPLY=($(compgen -W \"run validate conf checkpoint sql "
    "start stop status list logs progress query restart completion help "
    "--run-dir --help --version\" -- \"$cur\"))\n"
    "        return\n"
    "    fi\n"
    "    local opts=\"--help --run-dir\"\n"
    "    case $cmd in\n"
    "    start) opts=\"$opts --name --set --wait --ui --exec\" ;;\n"
    "    stop) opts=\"$opts --timeout --now\" ;;\n"
    "    status|list) opts=\"$opts --format\" ;;\n"
    "    logs) opts=\"$opts -f -n\" ;;\n"
    "    progress) opts=\"$opts -n --format\" ;;\n"
    "    query) opts=\"$opts --format\" ;;\n"
    "    run) opts=\"$opts --progress --set\" ;;\n"
    "    validate) opts=\"$opts --no-env --checkpoint --set\" ;;\n"
    "    esac\n"
    "    case $cmd in\n"
    "    stop|status|logs|progress|query|restart)\n"
    "        local dir=${rundir:-${SLUICE_RUN_DIR:-${XDG_RUNTIME_DIR:+"
    "$XDG_RUNTIME_DIR/sluice}}}\n"
    "        dir=${dir:-$HOME/.local/state/sluice/run}\n"
    "        local names=$(cd \"$dir\" 2>/dev/null && ls -d */ 2>/dev/null "
    "| tr -d /)\n"
    "        COMPREPLY=($(compgen -W \"$opts $names\" -- \"$cur\")) ;;\n"
    "    *) COMPREPLY=($(compgen -f -W \"$opts\" -- \"$cur\")) ;;\n"
    "    esac\n"
    "}\n"
    "complete -F _streamctl streamctl\n";

static int cmd_completion(int argc, char **argv)
{
    if (argc == 3 && (!strcmp(argv[2], "-h") || !strcmp(argv[2], "--help"))) {
        mg_usage_completion(stdout);
        return EXIT_OK;
    }
    if (argc != 3 || strcmp(argv[2], "bash") != 0)
        return streamctl_usage_error(mg_usage_completion, "%s",
                                     "completion takes one shell: bash");
    fputs(completion_script, stdout);
    return fflush(stdout) == 0 ? EXIT_OK : EXIT_FAILED;
}

/* ------------------------------------------------------------ dispatch */

int streamctl_take_run_dir(int *argc, char **argv, const char **run_dir)
{
    int i, n = 1;
    for (i = 1; i < *argc && strcmp(argv[i], "--") != 0; i++) {
        if (strcmp(argv[i], "--run-dir") != 0) {
            argv[n++] = argv[i];
            continue;
        }
        if (i + 1 == *argc || !*argv[i + 1]) {
            fputs("streamctl: --run-dir needs a directory\n", stderr);
            return -1;
        }
        *run_dir = argv[++i];
    }
    while (i < *argc)
        argv[n++] = argv[i++];
    *argc = n;
    argv[n] = NULL;
    return 0;
}

int streamctl_manage(int argc, char **argv, const char *run_dir)
{
    const char *cmd = argv[1];
    if (!strcmp(cmd, "start"))
        return mg_cmd_start(argc, argv, run_dir);
    if (!strcmp(cmd, "stop"))
        return cmd_stop(argc, argv, run_dir);
    if (!strcmp(cmd, "status") || !strcmp(cmd, "list"))
        return cmd_status(argc, argv, run_dir, !strcmp(cmd, "list"));
    if (!strcmp(cmd, "logs"))
        return cmd_logs(argc, argv, run_dir);
    if (!strcmp(cmd, "progress"))
        return cmd_progress(argc, argv, run_dir);
    if (!strcmp(cmd, "query"))
        return cmd_query(argc, argv, run_dir);
    if (!strcmp(cmd, "restart"))
        return mg_cmd_restart(argc, argv, run_dir);
    if (!strcmp(cmd, "completion"))
        return cmd_completion(argc, argv);
    return -1;
}
