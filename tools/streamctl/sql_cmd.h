/*
 * `streamctl sql`: one SQL query over CSV, JSON-lines or text files,
 * run by the same planner and engine as streams, its rows printed as a
 * table, JSON lines or CSV (docs/streamctl.md "sql").
 */
#ifndef STREAMCTL_SQL_CMD_H
#define STREAMCTL_SQL_CMD_H

#include <stdio.h>

/* The command's help. */
void streamctl_usage_sql(FILE *f);
/* Run `streamctl sql ARGS` (argv[1] is "sql"); the exit status: 0 done,
 * 1 the query or a file failed, 2 bad command line. */
int streamctl_cmd_sql(int argc, char **argv);

#endif
