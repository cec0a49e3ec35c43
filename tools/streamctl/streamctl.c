/*
 * streamctl: runs and checks sluice job files. `streamctl run JOB.json`
 * runs a job in the foreground until it ends or gets SIGINT/SIGTERM;
 * `streamctl validate JOB.json...` reports every problem of each file;
 * `streamctl checkpoint inspect|rollback DIR` reads or rolls back a
 * checkpoint directory (include/sluice/checkpoint.h).
 * The job-file work itself is libsluice's (include/sluice/job.h).
 */
#include "cli.h"
#include "manage.h"
#include "manage_int.h" /* mg_read_file */
#include "kafka_mock.h"
#include "sql_cmd.h"

#include <sluice/sluice.h>

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void usage_main(FILE *f)
{
    fputs(
        "usage: streamctl COMMAND [ARGS]\n"
        "\n"
        "Run and check sluice job files (JSON; see docs/job-file.md).\n"
        "\n"
        "commands:\n"
        "  run JOB.json            run the job in the foreground until it\n"
        "                          ends (max_batches) or gets Ctrl-C or\n"
        "                          SIGTERM, which stop it gracefully\n"
        "  validate JOB.json...    check job files and report every problem\n"
        "                          with its JSON path\n"
        "  conf [--markdown]       list the configuration properties\n"
        "  checkpoint inspect DIR [--format table|json]\n"
        "                          describe a checkpoint directory: batches,\n"
        "                          commits, sizes and problems\n"
        "  checkpoint rollback DIR --to BATCH\n"
        "                          discard the batches after BATCH\n"
        "  sql [--table NAME=FILE[:SCHEMA]]... [--format table|json|csv]\n"
        "      [--max-rows N] QUERY\n"
        "                          run one SQL query over CSV, JSON-lines or\n"
        "                          text files and print its rows\n"
        "  kafka-mock [--brokers N] [--topic NAME:PARTITIONS]...\n"
        "                          run a mock Kafka cluster on 127.0.0.1\n"
        "                          for the examples and tests\n"
        "  help [COMMAND]          show this help, or a command's\n"
        "\n",
        f);
    streamctl_usage_manage_list(f);
    fputs(
        "\n"
        "options:\n"
        "  -h, --help              show this help (after a command: its help)\n"
        "  --version               print the version\n"
        "\n"
        "exit status:\n"
        "  0  success: the job ran and stopped cleanly / the files are valid\n"
        "  1  the job failed while running, or could not be started\n"
        "  2  bad command line\n"
        "  3  a job file is unreadable or invalid (problems on stderr)\n"
        "  4  the job stopped with input left unprocessed (a graceful stop\n"
        "     ran past stop.graceful_timeout, or cut a file read short)\n"
        "  5  stop: --timeout ran out and the job is still stopping\n",
        f);
}

/* --set, as run and validate both take it (docs/streamctl.md). */
#define SET_HELP                                                               \
    "--set PATH=VALUE overrides a field of the job file (the file is not\n"    \
    "changed); repeated, they apply in order, and objects missing along\n"     \
    "PATH are created. PATH is dotted, sources.lines.port or\n"                \
    "sinks[0].path, or a JSON path for names with dots,\n"                     \
    "$.sources[\"a.b\"].port. A dotted PATH takes the longest run of\n"        \
    "names that is an existing key (sources.a.b.port finds the source\n"       \
    "\"a.b\"), and under conf all the rest is one key (conf.log.level\n"       \
    "sets \"log.level\"). VALUE is read as JSON, else taken as text:\n"        \
    "  --set max_batches=3 --set sources.lines.host=example.org\n"             \
    "  --set 'conf.log.level=debug' --set '$.sinks[0].format=\"json\"'\n"      \
    "A malformed --set is a bad command line (2); a PATH the file does\n"      \
    "not have room for (an index past the end, a field of a number) or a\n"    \
    "VALUE that makes the job invalid is a problem of the job (3).\n"

static void usage_run(FILE *f)
{
    fputs("usage: streamctl run [--progress FILE] [--ui [BIND:]PORT]\n"
          "                     [--set PATH=VALUE]... JOB.json\n"
          "\n"
          "Build the job described by JOB.json and run it in the foreground.\n"
          "Output sinks write to stdout (console) or to files\n"
          "(save_as_text_files); logs go to stderr. The job ends when it has\n"
          "run max_batches batches, when it fails, or on SIGINT (Ctrl-C) or\n"
          "SIGTERM: then reading stops, the batches already received are\n"
          "run and the sinks flushed (a graceful stop, at most\n"
          "stop.graceful_timeout: by default 10 batch intervals or 10s,\n"
          "whichever is longer); a second signal aborts at once.\n"
          "With \"clock\": \"manual\" batches run back to back without\n"
          "sleeping: the same file gives the same output every time.\n"
          "Before it starts, the job's machine is checked as validate does:\n"
          "warnings are printed, and a missing directory (without\n"
          "create_if_missing) or an unwritable output is reported with its\n"
          "JSON path and the job does not start (exit status 1).\n"
          "\n"
          "--progress FILE appends each batch's progress entry (one JSON\n"
          "object: rows, phase durations, sources, sinks, state) to FILE as\n"
          "one line, flushed after each batch.\n"
          "\n"
          "--ui [BIND:]PORT serves the web UI (docs/ui.md) on BIND (by\n"
          "default 127.0.0.1) and PORT, as the job file's \"ui\" object\n"
          "does; either one also makes the job managed for its run, as\n"
          "start does (status, query and stop work on it by its name).\n"
          "\n" SET_HELP "\n"
          "exit status: 0 stopped cleanly; 1 the job failed; 2 bad command\n"
          "line; 3 the job file is unreadable or invalid; 4 the job stopped\n"
          "with input left unprocessed (what was left is on stderr).\n",
          f);
}

static void usage_validate(FILE *f)
{
    fputs("usage: streamctl validate [--no-env] [--checkpoint DIR] "
          "[--set PATH=VALUE]... JOB.json...\n"
          "\n"
          "Check each job file without running it: JSON syntax, fields and\n"
          "their types, operator, function and source names, references\n"
          "between streams, cycles, and window lengths and slides against\n"
          "their parent streams. Prints \"FILE: valid\" on stdout for a\n"
          "valid file, else every problem on stderr as\n"
          "\"FILE: PATH: MESSAGE\", PATH a JSON path such as\n"
          "$.streams.counts.ops[0].fn.\n"
          "Then, for a valid file, what it needs from this machine: a\n"
          "directory source's directory, a socket source's host (looked up,\n"
          "at most 2 s), dead-letter files and save_as_text_files prefixes\n"
          "(writable). What may still change is a warning,\n"
          "\"FILE: PATH: warning: MESSAGE\" on stderr, and leaves the file\n"
          "valid; see docs/job-file.md. Last, the job is built as a trial\n"
          "(nothing runs, no file is made): SQL names and types are bound\n"
          "and static tables read; the first failure is reported.\n"
          "\n"
          "options:\n"
          "  --no-env    skip the checks of the machine and the trial build\n"
          "  --checkpoint DIR\n"
          "              also check that each valid job could go on from the\n"
          "              checkpoint in DIR (nothing runs, DIR is not\n"
          "              changed): an incompatible job is invalid, with\n"
          "              what changed on stderr\n"
          "  --set PATH=VALUE\n"
          "              check the job as `run --set` would run it (below)\n"
          "\n" SET_HELP "\n"
          "exit status: 0 every file is valid (warnings or not); 1 out of\n"
          "memory; 2 bad command line; 3 some file is unreadable or invalid.\n",
          f);
}

static void usage_conf(FILE *f)
{
    fputs("usage: streamctl conf [--markdown]\n"
          "\n"
          "List every configuration property (a job file's \"conf\" keys and\n"
          "sl_conf_set's names) with its type, default, range and meaning,\n"
          "from libsluice's property table. --markdown prints the table of\n"
          "docs/programming-guide.md section 5 exactly as the guide has it.\n"
          "\n"
          "exit status: 0 printed; 2 bad command line.\n",
          f);
}

static void usage_checkpoint(FILE *f)
{
    fputs("usage: streamctl checkpoint inspect DIR [--format table|json]\n"
          "       streamctl checkpoint rollback DIR --to BATCH\n"
          "\n"
          "inspect describes the checkpoint directory DIR without changing\n"
          "it: the job id, every batch with the sizes of its offsets and\n"
          "commit entries and its state (committed; uncommitted: recovery\n"
          "re-runs it; commit only: left by retention, ignored), the files\n"
          "and bytes under each directory, and every problem: each entry\n"
          "and the metadata are read and checked, and a problem names the\n"
          "file and the reason (missing, bad magic, version N unsupported,\n"
          "truncated: X of Y bytes, checksum mismatch). --format json\n"
          "prints one JSON object (see docs/checkpoint-format.md); the\n"
          "default is a table.\n"
          "\n"
          "rollback discards every batch after BATCH (its state and\n"
          "window files, offsets and commit entries), so that the job,\n"
          "restarted on DIR, goes on after BATCH: to recover from a bad\n"
          "deploy. BATCH must be a committed batch the checkpoint still\n"
          "keeps (at most checkpoint.retain_batches back). Stop the job\n"
          "first.\n"
          "\n"
          "exit status: 0 done (inspect: no problem found); 1 inspect found\n"
          "problems, or DIR cannot be read or rolled back (the reason on\n"
          "stderr); 2 bad command line.\n",
          f);
}

int streamctl_usage_error(void (*usage)(FILE *), const char *fmt,
                          const char *arg)
{
    fputs("streamctl: ", stderr);
    fprintf(stderr, fmt, arg);
    fputs("\n\n", stderr);
    usage(stderr);
    return EXIT_USAGE;
}

/* Load path with the overrides; print its problems and return NULL when
 * it is not valid (*oom set when loading ran out of memory). */
sl_job *streamctl_load_valid(const char *path, const job_sets *sets, bool *oom)
{
    sl_job *job = sl_job_load_with_overrides(path, sets->v, sets->n);
    size_t i, n;
    *oom = !job;
    if (!job) {
        fprintf(stderr, "streamctl: %s: out of memory\n", path);
        return NULL;
    }
    n = sl_job_problem_count(job);
    for (i = 0; i < n; i++)
        fprintf(stderr, "%s: %s\n", path, sl_job_problem(job, i));
    if (n) {
        sl_job_free(job);
        return NULL;
    }
    return job;
}

/*
 * Run the environment checks on a valid job (flags as sl_job_check_env)
 * and print its warnings and the problems they found. Returns the exit
 * status they call for: EXIT_OK (warnings alone), problem_rc, or
 * EXIT_FAILED when out of memory.
 */
int streamctl_check_env(const char *path, sl_job *job, unsigned flags,
                        int problem_rc)
{
    size_t i, n;

    if (sl_job_check_env(job, flags) == SL_ENOMEM) {
        fprintf(stderr, "streamctl: %s: out of memory\n", path);
        return EXIT_FAILED;
    }
    n = sl_job_warning_count(job);
    for (i = 0; i < n; i++)
        fprintf(stderr, "%s: %s\n", path, sl_job_warning(job, i));
    n = sl_job_problem_count(job);
    for (i = 0; i < n; i++)
        fprintf(stderr, "%s: %s\n", path, sl_job_problem(job, i));
    return n ? problem_rc : EXIT_OK;
}

/* The command's file arguments from argv[from..]; -1 on a usage error.
 * no_env, when not NULL, takes the option --no-env. */
static int file_args(int argc, char **argv, int from, void (*usage)(FILE *),
                     const char **files, int max, bool *no_env)
{
    int i, n = 0;
    for (i = from; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(stdout);
            exit(EXIT_OK);
        }
        if (no_env && !strcmp(argv[i], "--no-env")) {
            *no_env = true;
            continue;
        }
        if (!strcmp(argv[i], "--")) {
            for (i++; i < argc; i++) {
                if (n == max) {
                    streamctl_usage_error(usage, "unexpected argument '%s'",
                                          argv[i]);
                    return -1;
                }
                files[n++] = argv[i];
            }
            break;
        }
        if (argv[i][0] == '-' && argv[i][1]) {
            streamctl_usage_error(usage, "unknown option '%s'", argv[i]);
            return -1;
        }
        if (n == max) {
            streamctl_usage_error(usage, "unexpected argument '%s'", argv[i]);
            return -1;
        }
        files[n++] = argv[i];
    }
    if (n == 0) {
        streamctl_usage_error(usage, "%s", "a job file is required");
        return -1;
    }
    return n;
}

/* Take every "--set PATH=VALUE" out of argv (into sets, which the
 * caller frees), checking its syntax; the rest stays in order. -1 after a
 * usage error. */
int streamctl_take_sets(int *argc, char **argv, void (*usage)(FILE *),
                        job_sets *sets)
{
    char err[512];
    int i, n = 2;
    if (!(sets->v = malloc((size_t)*argc * sizeof *sets->v))) {
        fputs("streamctl: out of memory\n", stderr);
        return -1;
    }
    for (i = 2; i < *argc && strcmp(argv[i], "--") != 0; i++) {
        if (strcmp(argv[i], "--set") != 0) {
            argv[n++] = argv[i];
            continue;
        }
        if (i + 1 == *argc) {
            streamctl_usage_error(usage, "%s", "--set needs PATH=VALUE");
            return -1;
        }
        switch (sl_job_check_set(argv[++i], err, sizeof err)) {
        case SL_OK:
            break;
        case SL_EINVAL:
            streamctl_usage_error(usage, "%s", err);
            return -1;
        default:
            fputs("streamctl: out of memory\n", stderr);
            return -1;
        }
        sets->v[sets->n++] = argv[i];
    }
    while (i < *argc)
        argv[n++] = argv[i++];
    *argc = n;
    return 0;
}

/* validate --checkpoint: could the valid job go on from dir? Builds the
 * job's context (nothing runs) and compares it with dir's metadata. */
static int check_checkpoint(const char *file, sl_job *job, const char *dir)
{
    sl_context *ctx;
    sl_status st = sl_job_build(job, &ctx);
    if (st != SL_OK) {
        fprintf(stderr, "%s: %s\n", file, sl_job_errmsg(job));
        return st == SL_ENOMEM ? EXIT_FAILED : EXIT_INVALID;
    }
    st = sl_context_check_checkpoint(ctx, dir);
    if (st == SL_OK)
        return EXIT_OK;
    fprintf(stderr, "%s: %s\n", file, sl_context_errmsg(ctx));
    return st == SL_ENOMEM ? EXIT_FAILED : EXIT_INVALID;
}

/* A trial build (nothing runs, no file is made): SQL names and types
 * bound, static tables read. validate --checkpoint builds anyway. */
static int check_build(const char *file, sl_job *job)
{
    sl_status st = sl_job_check(job);
    if (st == SL_OK)
        return EXIT_OK;
    fprintf(stderr, "%s: %s\n", file, sl_job_errmsg(job));
    return st == SL_ENOMEM ? EXIT_FAILED : EXIT_INVALID;
}

/* Take "--checkpoint DIR" out of argv (the rest goes to file_args). */
static int take_checkpoint_arg(int *argc, char **argv, const char **dir)
{
    int i, j;
    for (i = 2; i < *argc; i++) {
        if (!strcmp(argv[i], "--"))
            break;
        if (strcmp(argv[i], "--checkpoint") != 0)
            continue;
        if (i + 1 >= *argc || !*argv[i + 1]) {
            streamctl_usage_error(usage_validate, "%s",
                                  "--checkpoint needs a directory");
            return -1;
        }
        *dir = argv[i + 1];
        for (j = i; j + 2 < *argc; j++)
            argv[j] = argv[j + 2];
        *argc -= 2;
        i--;
    }
    return 0;
}

static int cmd_validate(int argc, char **argv)
{
    const char *ckdir = NULL;
    const char **files = malloc((size_t)argc * sizeof *files);
    job_sets sets = {NULL, 0};
    int n, i, rc = EXIT_OK;
    bool no_env = false;
    sl_job *job;

    if (!files) {
        fputs("streamctl: out of memory\n", stderr);
        return EXIT_FAILED;
    }
    if (take_checkpoint_arg(&argc, argv, &ckdir) < 0 ||
        streamctl_take_sets(&argc, argv, usage_validate, &sets) < 0 ||
        (n = file_args(argc, argv, 2, usage_validate, files, argc, &no_env)) <
            0) {
        free(files);
        free(sets.v);
        return EXIT_USAGE;
    }
    for (i = 0; i < n; i++) {
        bool oom;
        int frc = EXIT_INVALID;
        if ((job = streamctl_load_valid(files[i], &sets, &oom))) {
            frc = no_env ? EXIT_OK
                         : streamctl_check_env(files[i], job, 0, EXIT_INVALID);
            if (frc == EXIT_OK && !no_env && !ckdir)
                frc = check_build(files[i], job);
            if (frc == EXIT_OK && ckdir)
                frc = check_checkpoint(files[i], job, ckdir);
            if (frc == EXIT_OK && ckdir)
                printf("%s: valid, compatible with checkpoint %s\n", files[i],
                       ckdir);
            else if (frc == EXIT_OK)
                printf("%s: valid\n", files[i]);
            sl_job_free(job);
        } else if (oom) {
            frc = EXIT_FAILED;
        }
        /* Out of memory (1) wins over an invalid file (3). */
        if (frc == EXIT_FAILED || (frc != EXIT_OK && rc == EXIT_OK))
            rc = frc;
    }
    free(files);
    free(sets.v);
    return rc;
}

/* ---------------------------------------------------------------- conf */

static const char *const conf_type_names[] = {
    [SL_CONF_INT] = "int",           [SL_CONF_SIZE] = "size",
    [SL_CONF_DURATION] = "duration", [SL_CONF_BOOL] = "bool",
    [SL_CONF_STRING] = "string",     [SL_CONF_ENUM] = "enum"};

/* One range bound as the property's values are written ("1ms", "64k"). */
static void conf_bound(const sl_conf_property *p, int64_t v, char *buf,
                       size_t cap)
{
    static const char units[] = "kmg";
    int u = -1;

    if (p->type == SL_CONF_DURATION) {
        sl_duration_format(v, buf, cap);
        return;
    }
    /* Sizes in the largest power of 1024 that divides them. */
    while (p->type == SL_CONF_SIZE && v != 0 && u < 2 && v % 1024 == 0) {
        v /= 1024;
        u++;
    }
    if (u < 0)
        snprintf(buf, cap, "%" PRId64, v);
    else
        snprintf(buf, cap, "%" PRId64 "%c", v, units[u]);
}

/* Print the words of "a|b|c" as `a` \| `b` \| `c` (markdown) or as they
 * are; a bool's words are true|false. */
static void conf_print_choices(const char *choices, bool md)
{
    const char *w = choices, *bar;
    for (;;) {
        size_t n = (bar = strchr(w, '|')) ? (size_t)(bar - w) : strlen(w);
        if (md)
            printf("`%.*s`%s", (int)n, w, bar ? " \\| " : "");
        else
            printf("%.*s%s", (int)n, w, bar ? "|" : "");
        if (!bar)
            break;
        w = bar + 1;
    }
}

/* The range column: MIN .. MAX, the choices, or "text". */
static void conf_print_range(const sl_conf_property *p, bool md)
{
    char lo[32], hi[32];
    switch (p->type) {
    case SL_CONF_INT:
    case SL_CONF_SIZE:
    case SL_CONF_DURATION:
        conf_bound(p, p->min, lo, sizeof lo);
        conf_bound(p, p->max, hi, sizeof hi);
        printf("%s .. %s", lo, hi);
        break;
    case SL_CONF_BOOL:
        conf_print_choices("true|false", md);
        break;
    case SL_CONF_ENUM:
        conf_print_choices(p->choices ? p->choices : "", md);
        break;
    case SL_CONF_STRING:
        fputs("text", stdout);
        break;
    }
}

/* text with markdown's cell separator escaped. */
static void md_cell(const char *text)
{
    for (; *text; text++) {
        if (*text == '|')
            putchar('\\');
        putchar(*text);
    }
}

static void conf_print(bool md)
{
    const sl_conf_property *p;
    size_t i;

    if (md)
        puts("| name | type | default | range | description |\n"
             "|---|---|---|---|---|");
    for (i = 0; (p = sl_conf_property_at(i)) != NULL; i++) {
        if (md) {
            printf("| `%s` | %s | ", p->name, conf_type_names[p->type]);
            /* An empty default shows as `""`, not as an empty code span. */
            printf("`%s", *p->default_value ? "" : "\"\"");
            md_cell(p->default_value);
            fputs("` | ", stdout);
            conf_print_range(p, md);
            fputs(" | ", stdout);
            md_cell(p->description);
            puts(" |");
        } else {
            printf("%s (%s, default \"%s\", ", p->name,
                   conf_type_names[p->type], p->default_value);
            conf_print_range(p, md);
            printf(")\n    %s\n", p->description);
        }
    }
}

static int cmd_conf(int argc, char **argv)
{
    bool md = false;
    int i;
    for (i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage_conf(stdout);
            return EXIT_OK;
        }
        if (strcmp(argv[i], "--markdown") != 0)
            return streamctl_usage_error(usage_conf,
                                         argv[i][0] == '-'
                                             ? "unknown option '%s'"
                                             : "unexpected argument '%s'",
                                         argv[i]);
        md = true;
    }
    conf_print(md);
    return fflush(stdout) == 0 ? EXIT_OK : EXIT_FAILED;
}

/* ----------------------------------------------------------- checkpoint */

static int cmd_checkpoint_inspect(const char *dir, const char *format)
{
    sl_checkpoint_format fmt = SL_CHECKPOINT_TABLE;
    char err[512] = "", *out = NULL;
    size_t problems = 0;
    sl_status st;

    if (format && !strcmp(format, "json"))
        fmt = SL_CHECKPOINT_JSON;
    else if (format && strcmp(format, "table") != 0)
        return streamctl_usage_error(
            usage_checkpoint, "unknown format '%s' (table or json)", format);
    st = sl_checkpoint_inspect(dir, fmt, &out, &problems, err, sizeof err);
    if (st != SL_OK) {
        fprintf(stderr, "streamctl: %s\n", err);
        return EXIT_FAILED;
    }
    fputs(out, stdout);
    sl_free(out);
    if (fflush(stdout) != 0)
        return EXIT_FAILED;
    return problems ? EXIT_FAILED : EXIT_OK;
}

static int cmd_checkpoint_rollback(const char *dir, const char *to)
{
    char err[512] = "", *end;
    long long batch;

    errno = 0;
    batch = to ? strtoll(to, &end, 10) : -1;
    if (!to)
        return streamctl_usage_error(usage_checkpoint, "%s",
                                     "--to BATCH is required");
    if (errno || end == to || *end || batch < 0)
        return streamctl_usage_error(usage_checkpoint, "bad batch number '%s'",
                                     to);
    if (sl_checkpoint_rollback(dir, batch, err, sizeof err) != SL_OK) {
        fprintf(stderr, "streamctl: %s\n", err);
        return EXIT_FAILED;
    }
    printf("%s: rolled back to batch %lld\n", dir, batch);
    return fflush(stdout) == 0 ? EXIT_OK : EXIT_FAILED;
}

/* checkpoint inspect|rollback DIR [--format F] [--to BATCH]. */
static int cmd_checkpoint(int argc, char **argv)
{
    const char *what = NULL, *dir = NULL, *format = NULL, *to = NULL;
    int i;

    for (i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage_checkpoint(stdout);
            return EXIT_OK;
        }
        if (!strcmp(a, "--format") || !strcmp(a, "--to")) {
            if (i + 1 == argc)
                return streamctl_usage_error(usage_checkpoint,
                                             "%s needs a value", a);
            *(!strcmp(a, "--to") ? &to : &format) = argv[++i];
        } else if (a[0] == '-' && a[1]) {
            return streamctl_usage_error(usage_checkpoint,
                                         "unknown option '%s'", a);
        } else if (!what || !dir) {
            *(!what ? &what : &dir) = a;
        } else {
            return streamctl_usage_error(usage_checkpoint,
                                         "unexpected argument '%s'", a);
        }
    }
    if (!what || (strcmp(what, "inspect") && strcmp(what, "rollback")))
        return streamctl_usage_error(
            usage_checkpoint, "%s",
            what ? "unknown checkpoint command (inspect or "
                   "rollback)"
                 : "inspect or rollback is required");
    if (!dir)
        return streamctl_usage_error(usage_checkpoint, "%s",
                                     "a checkpoint directory is required");
    if (!strcmp(what, "inspect"))
        return to ? streamctl_usage_error(usage_checkpoint, "%s",
                                          "--to is for rollback")
                  : cmd_checkpoint_inspect(dir, format);
    return format ? streamctl_usage_error(usage_checkpoint, "%s",
                                          "--format is for inspect")
                  : cmd_checkpoint_rollback(dir, to);
}

/*
 * Wait for the job's end or SIGINT/SIGTERM. Signals are blocked in every
 * thread and taken here with sigtimedwait, because stopping a context is
 * not async-signal-safe.
 */
static sl_status run_until_signal(sl_context *ctx, const sigset_t *sigs)
{
    struct timespec tick = {0, 100 * 1000 * 1000};
    sl_status st;
    int sig;

    for (;;) {
        /* not the status: a job that failed with SL_ETIMEDOUT gives it */
        if (sl_context_terminated(ctx))
            return sl_context_await_termination(ctx);
        sig = sigtimedwait(sigs, NULL, &tick);
        if (sig == SIGINT || sig == SIGTERM)
            break;
    }
    fprintf(stderr, "streamctl: %s: stopping gracefully (again to abort)\n",
            sig == SIGINT ? "SIGINT" : "SIGTERM");
    pthread_sigmask(SIG_UNBLOCK, sigs, NULL);
    st = sl_context_stop(ctx, true);
    if (st == SL_OK)
        st = sl_context_await_termination(ctx);
    return st;
}

/* Exit status of a job that stopped without failing: 4 when the stop left
 * input unprocessed, said on stderr. */
static int report_left(sl_context *ctx, const char *name)
{
    sl_stop_report r;
    if (sl_context_stop_report(ctx, &r) != SL_OK ||
        (r.unprocessed_records == 0 && r.unprocessed_batches == 0))
        return EXIT_OK;
    /* A planned batch that was never read has no record count: say
     * batches then, not "0 records". */
    if (r.unprocessed_records > 0)
        fprintf(stderr,
                "streamctl: job \"%s\" stopped with input left "
                "unprocessed: %lld records in %lld batch%s",
                name, (long long)r.unprocessed_records,
                (long long)r.unprocessed_batches,
                r.unprocessed_batches == 1 ? "" : "es");
    else
        fprintf(stderr,
                "streamctl: job \"%s\" stopped with input left "
                "unprocessed: %lld batch%s not processed",
                name, (long long)r.unprocessed_batches,
                r.unprocessed_batches == 1 ? "" : "es");
    fprintf(stderr, "%s\n",
            r.timed_out ? " (the graceful stop ran past "
                          "stop.graceful_timeout)"
                        : "");
    return EXIT_LEFT;
}

/* Records the job set aside, when there were any: one line on stderr. */
static void report_bad(const sl_context *ctx, const char *name)
{
    sl_bad_record_stats b;
    if (sl_context_bad_record_stats(ctx, &b) != SL_OK ||
        (b.skipped | b.dead_lettered | b.rejected | b.late |
         b.dead_letters_written | b.dead_letters_failed |
         b.dead_letters_dropped) == 0)
        return;
    fprintf(stderr,
            "streamctl: job \"%s\": bad records: %lld skipped, %lld "
            "dead-lettered, %lld rejected, %lld late; dead letters: %lld "
            "written, %lld failed, %lld dropped\n",
            name, (long long)b.skipped, (long long)b.dead_lettered,
            (long long)b.rejected, (long long)b.late,
            (long long)b.dead_letters_written, (long long)b.dead_letters_failed,
            (long long)b.dead_letters_dropped);
}

/* --progress FILE: where each batch's progress entry is appended. */
typedef struct progress_file {
    FILE *f;
    const char *path;
    bool failed; /* a write failed: said once on stderr */
} progress_file;

/* One JSON line per batch, flushed so a reader sees whole entries. */
static void on_progress(const char *json, size_t len, void *user)
{
    progress_file *p = user;
    if (p->failed)
        return;
    if (fwrite(json, 1, len, p->f) != len || fputc('\n', p->f) == EOF ||
        fflush(p->f) != 0) {
        p->failed = true;
        fprintf(stderr,
                "streamctl: --progress %s: cannot write: %s; no further "
                "progress entries are written\n",
                p->path, strerror(errno));
    }
}

bool streamctl_parse_ui(const char *arg, char *bind, size_t n, int *port)
{
    const char *colon = strrchr(arg, ':'), *digits = colon ? colon + 1 : arg;
    size_t blen = colon ? (size_t)(colon - arg) : 0;
    char *end;
    long p = strtol(digits, &end, 10);
    if (!*digits || *end || p < 1 || p > 65535 || (colon && !blen) || blen >= n)
        return false;
    if (blen >= 2 && arg[0] == '[' && arg[blen - 1] == ']') {
        arg++; /* [::1]:8080 */
        blen -= 2;
    } else if (memchr(arg, ':', blen)) {
        return false; /* an IPv6 address needs its brackets */
    }
    memcpy(bind, arg, blen);
    bind[blen] = '\0';
    *port = (int)p;
    return true;
}

/* Take "--progress FILE" and "--ui [BIND:]PORT" out of argv (into *path
 * and *ui); the rest stays in order for file_args. -1 after a usage
 * error. */
static int take_progress(int *argc, char **argv, const char **path,
                         const char **ui)
{
    int i, n = 2;
    for (i = 2; i < *argc; i++) {
        if (!strcmp(argv[i], "--"))
            break;
        if (strcmp(argv[i], "--progress") && strcmp(argv[i], "--ui")) {
            argv[n++] = argv[i];
            continue;
        }
        if (i + 1 == *argc) {
            streamctl_usage_error(usage_run, "%s",
                                  strcmp(argv[i], "--ui")
                                      ? "--progress needs a file"
                                      : "--ui needs [BIND:]PORT");
            return -1;
        }
        if (!strcmp(argv[i], "--ui"))
            *ui = argv[++i];
        else
            *path = argv[++i];
    }
    while (i < *argc)
        argv[n++] = argv[i++];
    *argc = n;
    return 0;
}

static int open_progress(sl_context *ctx, progress_file *p)
{
    sl_listener l = {SL_LISTENER_VERSION, NULL, NULL, NULL, on_progress};
    if (!p->path)
        return EXIT_OK;
    if (!(p->f = fopen(p->path, "a"))) {
        fprintf(stderr, "streamctl: --progress %s: %s\n", p->path,
                strerror(errno));
        return EXIT_FAILED;
    }
    if (sl_context_add_listener(ctx, &l, p) != SL_OK) {
        fprintf(stderr, "streamctl: --progress: out of memory\n");
        return EXIT_FAILED;
    }
    return EXIT_OK;
}

/* Attach the control plane when ctl is set (streamctl start's child). */
static int attach_control(sl_context *ctx, const char *file,
                          const sl_control_options *ctl)
{
    if (!ctl || sl_control_attach(ctx, ctl) == SL_OK)
        return EXIT_OK;
    fprintf(stderr, "streamctl: %s: cannot manage the job: %s\n", file,
            sl_context_errmsg(ctx));
    return EXIT_FAILED;
}

/* Build, start and run the loaded job until it ends; run's exit status. */
static int run_built(const char *file, sl_job *job, const sigset_t *sigs,
                     const sl_control_options *ctl, progress_file *progress)
{
    sl_context *ctx;
    sl_status st;

    if ((st = sl_job_build(job, &ctx)) != SL_OK) {
        fprintf(stderr, "streamctl: %s: cannot build the job: %s\n", file,
                sl_job_errmsg(job));
        return EXIT_FAILED;
    }
    if (open_progress(ctx, progress) != EXIT_OK ||
        attach_control(ctx, file, ctl) != EXIT_OK)
        return EXIT_FAILED;
    if ((st = sl_context_start(ctx)) == SL_OK)
        st = run_until_signal(ctx, sigs);
    report_bad(ctx, sl_job_name(job));
    if (st != SL_OK) {
        const char *msg = sl_context_errmsg(ctx);
        /* The context's message starts with its status's name: print
         * the status once. */
        fprintf(stderr, "streamctl: job \"%s\" failed: %s\n", sl_job_name(job),
                msg && *msg ? msg : sl_strerror(st));
        return EXIT_FAILED;
    }
    return report_left(ctx, sl_job_name(job));
}

int streamctl_run_job(const char *file, sl_job *job, const sigset_t *sigs,
                      const sl_control_options *ctl)
{
    progress_file progress = {NULL, NULL, false};
    int rc = run_built(file, job, sigs, ctl, &progress);
    fflush(stdout);
    return rc;
}

/* run's control options when --ui or the job file's "ui" asks for the
 * web UI (which lives in the control plane): NULL when neither does.
 * -1 in *rc after a usage error. */
static const sl_control_options *run_control(const sl_job *job, const char *ui,
                                             char *bind, size_t n,
                                             sl_control_options *o, int *rc)
{
    int port = 0;
    *rc = EXIT_OK;
    if (ui && !streamctl_parse_ui(ui, bind, n, &port)) {
        *rc = streamctl_usage_error(usage_run,
                                    "bad --ui '%s' (want "
                                    "[BIND:]PORT, PORT 1-65535)",
                                    ui);
        return NULL;
    }
    memset(o, 0, sizeof *o);
    sl_job_control_options(job, o);
    if (port) {
        o->ui_port = port;
        if (*bind)
            o->ui_bind = bind;
    }
    return o->ui_port > 0 ? o : NULL;
}

/* run_dir: --run-dir, for a job that --ui or its "ui" makes managed. */
static int cmd_run(int argc, char **argv, const char *run_dir)
{
    const char *file, *ui = NULL;
    const sl_control_options *ctl;
    sl_control_options opts;
    char bind[256];
    char *text = NULL;
    job_sets sets = {NULL, 0};
    progress_file progress = {NULL, NULL, false};
    sigset_t sigs;
    bool oom;
    sl_job *job;
    int rc = EXIT_FAILED;

    if (take_progress(&argc, argv, &progress.path, &ui) < 0 ||
        streamctl_take_sets(&argc, argv, usage_run, &sets) < 0 ||
        file_args(argc, argv, 2, usage_run, &file, 1, NULL) < 0) {
        free(sets.v);
        return EXIT_USAGE;
    }
    /* A closed stdout (a pipe into `head`) then fails the console sink
     * with a message and exit status 1, instead of killing the process
     * with its output half flushed. */
    signal(SIGPIPE, SIG_IGN);
    /* Before any sluice thread exists, so that they all inherit the mask. */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);

    job = streamctl_load_valid(file, &sets, &oom);
    free(sets.v); /* the job keeps nothing of it */
    if (!job)
        return oom ? EXIT_FAILED : EXIT_INVALID;
    ctl = run_control(job, ui, bind, sizeof bind, &opts, &rc);
    if (rc != EXIT_OK) {
        sl_job_free(job);
        return rc;
    }
    if (ctl) {
        opts.run_dir = run_dir;
        opts.job_json = text = mg_read_file(file, NULL);
    }
    rc = EXIT_FAILED;
    /* What validate would warn of, and what is certain to fail at start
     * (a missing directory), before anything runs: exit 1, the job could
     * not be started. */
    if (streamctl_check_env(file, job, SL_JOB_ENV_AT_START, EXIT_FAILED) ==
        EXIT_OK)
        rc = run_built(file, job, &sigs, ctl, &progress);
    fflush(stdout);
    sl_job_free(job);
    free(text);
    if (progress.failed && rc == EXIT_OK)
        rc = EXIT_FAILED; /* asked for, not all written: said above */
    if (progress.f && fclose(progress.f) != 0 && rc == EXIT_OK) {
        fprintf(stderr, "streamctl: --progress %s: %s\n", progress.path,
                strerror(errno));
        rc = EXIT_FAILED;
    }
    return rc;
}

int main(int argc, char **argv)
{
    const char *cmd, *run_dir = NULL;
    int rc;

    if (streamctl_take_run_dir(&argc, argv, &run_dir) < 0)
        return EXIT_USAGE;
    cmd = argc > 1 ? argv[1] : NULL;

    if (!cmd)
        return streamctl_usage_error(usage_main, "%s", "a command is required");
    if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help")) {
        usage_main(stdout);
        return EXIT_OK;
    }
    if (!strcmp(cmd, "--version")) {
        printf("streamctl (sluice) %d.%d.%d\n", SL_VERSION_MAJOR,
               SL_VERSION_MINOR, SL_VERSION_PATCH);
        return EXIT_OK;
    }
    if (!strcmp(cmd, "help")) {
        const char *what = argc > 2 ? argv[2] : NULL;
        if (argc > 3)
            return streamctl_usage_error(usage_main, "unexpected argument '%s'",
                                         argv[3]);
        if (!what)
            usage_main(stdout);
        else if (!strcmp(what, "run"))
            usage_run(stdout);
        else if (!strcmp(what, "validate"))
            usage_validate(stdout);
        else if (!strcmp(what, "conf"))
            usage_conf(stdout);
        else if (!strcmp(what, "checkpoint"))
            usage_checkpoint(stdout);
        else if (!strcmp(what, "sql"))
            streamctl_usage_sql(stdout);
        else if (!strcmp(what, "kafka-mock"))
            streamctl_usage_kafka_mock(stdout);
        else if (!streamctl_manage_usage(what, stdout))
            return streamctl_usage_error(usage_main, "unknown command '%s'",
                                         what);
        return EXIT_OK;
    }
    if (!strcmp(cmd, "run"))
        return cmd_run(argc, argv, run_dir);
    if (!strcmp(cmd, "validate"))
        return cmd_validate(argc, argv);
    if (!strcmp(cmd, "conf"))
        return cmd_conf(argc, argv);
    if (!strcmp(cmd, "checkpoint"))
        return cmd_checkpoint(argc, argv);
    if (!strcmp(cmd, "sql"))
        return streamctl_cmd_sql(argc, argv);
    if (!strcmp(cmd, "kafka-mock"))
        return streamctl_cmd_kafka_mock(argc, argv);
    if ((rc = streamctl_manage(argc, argv, run_dir)) >= 0)
        return rc;
    if (cmd[0] == '-')
        return streamctl_usage_error(usage_main, "unknown option '%s'", cmd);
    return streamctl_usage_error(usage_main, "unknown command '%s'", cmd);
}
