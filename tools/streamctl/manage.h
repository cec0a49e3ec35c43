/*
 * streamctl's managed-job commands (issue 14): start, stop, status,
 * list, logs, progress, query, restart and completion, clients of the
 * control plane of include/sluice/control.h (docs/streamctl.md).
 */
#ifndef STREAMCTL_MANAGE_H
#define STREAMCTL_MANAGE_H

#include <stdio.h>

/* Take the global "--run-dir DIR" out of argv (before "--"); -1 after a
 * usage error. */
int streamctl_take_run_dir(int *argc, char **argv, const char **run_dir);
/* Run the managed-job command argv[1]; -1 when it is not one. */
int streamctl_manage(int argc, char **argv, const char *run_dir);
/* Print the help of managed-job command cmd; false when it is not one. */
int streamctl_manage_usage(const char *cmd, FILE *f);
/* The managed-job commands' lines of `streamctl --help`. */
void streamctl_usage_manage_list(FILE *f);

#endif
