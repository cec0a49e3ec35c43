/*
 * The help of streamctl's managed-job commands, one function each, as
 * docs/streamctl.1 and docs/streamctl.md repeat it (a test checks that
 * every command and option named here is in the man page).
 */
#include "manage.h"

#include "manage_int.h"

#include <string.h>

void streamctl_usage_manage_list(FILE *f)
{
    fputs("managed jobs (in the background; see docs/streamctl.md):\n"
          "  start JOB.json [--name NAME] [--set PATH=VALUE]... [--wait 30s]\n"
          "        [--ui [BIND:]PORT]  start a job file as a background job\n"
          "  start --exec PROGRAM [--name NAME] [--wait 30s]\n"
          "        [--ui [BIND:]PORT] [-- ARGS]\n"
          "                        start a C program on libsluice as a job\n"
          "  stop NAME [--timeout 30s] [--now]\n"
          "                        stop a job and wait for its end\n"
          "  status [NAME] [--format table|json]\n"
          "                        a job's state and figures (no NAME: all)\n"
          "  list [--format table|json]\n"
          "                        every job of the run directory\n"
          "  logs NAME [-f] [-n N] the job's log (stdout and stderr)\n"
          "  progress NAME [-n N] [--format table|json]\n"
          "                        the job's last progress entries\n"
          "  query NAME SQL [--format table|json|csv]\n"
          "                        SQL over the job's memory tables\n"
          "  restart NAME          stop the job and start it again\n"
          "  completion bash       print a bash completion script\n"
          "  --run-dir DIR         (with any command) the run directory\n",
          f);
}

#define RUN_DIR_HELP                                                           \
    "--run-dir DIR (before or after the command) names the run directory;\n"   \
    "else $SLUICE_RUN_DIR, $XDG_RUNTIME_DIR/sluice, or\n"                      \
    "~/.local/state/sluice/run.\n"

void mg_usage_start(FILE *f)
{
    fputs("usage: streamctl start JOB.json [--name NAME] [--set PATH=VALUE]..."
          "\n                       [--wait 30s] [--ui [BIND:]PORT]\n"
          "       streamctl start --exec PROGRAM [--name NAME] [--wait 30s]\n"
          "                       [--ui [BIND:]PORT] [-- ARGS]\n"
          "\n"
          "Start a job in the background. JOB.json is checked as run checks\n"
          "it; then streamctl forks a process in its own session (stdin\n"
          "/dev/null, stdout and stderr appended to the job's log) that runs\n"
          "the job as run does, managed: its run folder holds pid,\n"
          "state.json, the job file with secrets redacted, command.json and\n"
          "the control socket. With --exec, the process runs PROGRAM (a C\n"
          "program on libsluice) with ARGS and SLUICE_JOB_NAME,\n"
          "SLUICE_RUN_DIR (and SLUICE_UI_PORT, SLUICE_UI_BIND) set, so that\n"
          "its context is\n"
          "managed the same way.\n"
          "streamctl waits until the job runs or fails and says which.\n"
          "\n"
          "options:\n"
          "  --name NAME       the job's name (default: the job file's name,\n"
          "                    or PROGRAM's basename); a name a live job\n"
          "                    holds is refused\n"
          "  --set PATH=VALUE  override a field of the job file (as run)\n"
          "  --wait DURATION   how long to wait for running (default 30s)\n"
          "  --ui [BIND:]PORT  serve the web UI (docs/ui.md) on BIND:PORT;\n"
          "                    BIND defaults to 127.0.0.1; beyond loopback\n"
          "                    a token is required (ui.token, or one made\n"
          "                    and written to the job's log)\n"
          "  --exec PROGRAM    start a C program instead of a job file\n"
          "\n" RUN_DIR_HELP "\n"
          "exit status: 0 the job runs (or already ended cleanly); 1 it\n"
          "failed to start (the reason and its last log lines on stderr),\n"
          "the name is taken, or it is still starting after --wait (it goes\n"
          "on); 2 bad command line; 3 the job file is unreadable or invalid.\n",
          f);
}

void mg_usage_stop(FILE *f)
{
    fputs("usage: streamctl stop NAME [--timeout 30s] [--now]\n"
          "\n"
          "Stop a running job and wait for its end. By default the stop is\n"
          "graceful: reading stops, the queued batches finish and the\n"
          "checkpoint is written (at most the job's stop.graceful_timeout).\n"
          "\n"
          "options:\n"
          "  --timeout DURATION  how long to wait (default 30s)\n"
          "  --now               stop at once, with a consistent checkpoint\n"
          "\n" RUN_DIR_HELP "\n"
          "exit status: 0 stopped cleanly; 1 the job failed or is not\n"
          "running; 2 bad command line; 4 stopped with input left\n"
          "unprocessed; 5 --timeout ran out and the job is still stopping.\n",
          f);
}

void mg_usage_status(FILE *f)
{
    fputs("usage: streamctl status [NAME] [--format table|json]\n"
          "\n"
          "Show a job's state (starting, running, stopping, stopped, failed),\n"
          "pid, uptime, batches done, last batch duration, input rate,\n"
          "scheduling delay, queued batches, state rows, watermark and last\n"
          "error, one table line per job; without NAME, every job of the\n"
          "run directory. A job whose process died without saying so is\n"
          "shown as failed, \"the process died\", with its last log lines.\n"
          "--format json prints the status object (an array of them\n"
          "without NAME).\n"
          "\n" RUN_DIR_HELP "\n"
          "exit status: 0 shown; 1 no such job; 2 bad command line.\n",
          f);
}

void mg_usage_list(FILE *f)
{
    fputs("usage: streamctl list [--format table|json]\n"
          "\n"
          "Show every job of the run directory as status does, stopped and\n"
          "failed ones too; stale jobs (the process died) show as failed\n"
          "with their last log lines.\n"
          "\n" RUN_DIR_HELP "\n"
          "exit status: 0 shown; 1 a job could not be read; 2 bad command\n"
          "line.\n",
          f);
}

void mg_usage_logs(FILE *f)
{
    fputs("usage: streamctl logs NAME [-f] [-n N]\n"
          "\n"
          "Print the last lines of the job's log (its stdout and stderr).\n"
          "\n"
          "options:\n"
          "  -n N  how many lines (default 50)\n"
          "  -f    then follow the log until Ctrl-C (SIGINT)\n"
          "\n" RUN_DIR_HELP "\n"
          "exit status: 0 printed; 1 the job has no log; 2 bad command line.\n",
          f);
}

void mg_usage_progress(FILE *f)
{
    fputs("usage: streamctl progress NAME [-n N] [--format table|json]\n"
          "\n"
          "Print the job's last progress entries (one per batch): from the\n"
          "running job, else from its progress log.\n"
          "\n"
          "options:\n"
          "  -n N                 how many entries (default 20; 0: all)\n"
          "  --format table|json  a table, or the entries as a JSON array\n"
          "\n" RUN_DIR_HELP "\n"
          "exit status: 0 printed; 1 the job cannot be read; 2 bad command\n"
          "line.\n",
          f);
}

void mg_usage_query(FILE *f)
{
    fputs("usage: streamctl query NAME SQL [--format table|json|csv]\n"
          "\n"
          "Run one read-only query (SELECT, WITH or VALUES) over the running\n"
          "job's memory tables, on the job's query thread with its\n"
          "query.timeout, query.max_rows and query.max_memory, and print its\n"
          "rows as streamctl sql does.\n"
          "\n"
          "options:\n"
          "  --format table|json|csv  how rows are printed (default table)\n"
          "\n" RUN_DIR_HELP "\n"
          "exit status: 0 printed; 1 the query failed (the reason on stderr)\n"
          "or the job is not running; 2 bad command line.\n",
          f);
}

void mg_usage_restart(FILE *f)
{
    fputs("usage: streamctl restart NAME\n"
          "\n"
          "Stop the job gracefully (when it runs), then start it again as\n"
          "its command.json says, in the folder it was started from: a job\n"
          "with a checkpoint goes on from it.\n"
          "\n" RUN_DIR_HELP "\n"
          "exit status: as start; 1 also when the job was not started by\n"
          "streamctl start or did not stop.\n",
          f);
}

void mg_usage_completion(FILE *f)
{
    fputs("usage: streamctl completion bash\n"
          "\n"
          "Print a bash completion script for commands, options and the\n"
          "job names of the run directory:\n"
          "  eval \"$(streamctl completion bash)\"\n"
          "\n"
          "exit status: 0 printed; 2 bad command line.\n",
          f);
}

int streamctl_manage_usage(const char *cmd, FILE *f)
{
    static const struct {
        const char *name;
        void (*usage)(FILE *);
    } cmds[] = {{"start", mg_usage_start},
                {"stop", mg_usage_stop},
                {"status", mg_usage_status},
                {"list", mg_usage_list},
                {"logs", mg_usage_logs},
                {"progress", mg_usage_progress},
                {"query", mg_usage_query},
                {"restart", mg_usage_restart},
                {"completion", mg_usage_completion}};
    size_t i;
    for (i = 0; i < sizeof cmds / sizeof *cmds; i++)
        if (!strcmp(cmd, cmds[i].name)) {
            cmds[i].usage(f);
            return 1;
        }
    return 0;
}
