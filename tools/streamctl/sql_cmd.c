/*
 * `streamctl sql` (sql_cmd.h). Uses libsluice's internal planner
 * (src/sql/plan.h), file tables (src/sql/files.h) and row printers
 * (src/core/row_out.h) through the static library, as the C API's
 * query entry points will.
 */
#include "sql_cmd.h"

#include "core/row_out.h"
#include "sql/files.h"

#include <sluice/sluice.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { SQL_OK = 0, SQL_FAILED = 1, SQL_USAGE = 2 };

void streamctl_usage_sql(FILE *f)
{
    fputs(
        "usage: streamctl sql [--table NAME=FILE[:SCHEMA]]... "
        "[--format table|json|csv]\n"
        "                     [--max-rows N] \"QUERY\"\n"
        "\n"
        "Run one SQL query (Spark SQL 3.5, docs/sql.md) over files and print\n"
        "its rows. Each --table names a file: .csv (without SCHEMA a header\n"
        "line names the columns, all strings; with SCHEMA no header line),\n"
        ".json or .jsonl (JSON lines; without SCHEMA the types come from the\n"
        "first record), .txt (one column `value`). SCHEMA is DDL:\n"
        "'id long, name string'. Table names are case-insensitive.\n"
        "Malformed lines give NULL columns and are counted on stderr.\n"
        "\n"
        "options:\n"
        "  --table NAME=FILE[:SCHEMA]  a table (repeatable)\n"
        "  --format table|json|csv     output format (default table: Spark's\n"
        "                              show(); json: one object per line;\n"
        "                              csv: with a header line)\n"
        "  --max-rows N                print at most N rows (default: 20 for\n"
        "                              table, all for json and csv)\n"
        "  -h, --help                  show this help\n"
        "\n"
        "exit status: 0 printed; 1 the query is invalid or failed, or a\n"
        "file cannot be read; 2 bad command line.\n",
        f);
}

static int usage(const char *fmt, const char *arg)
{
    fputs("streamctl sql: ", stderr);
    fprintf(stderr, fmt, arg);
    fputs("\n\n", stderr);
    streamctl_usage_sql(stderr);
    return SQL_USAGE;
}

typedef struct sql_args {
    sl__sql_files *files;
    sl__row_format format;
    long long max_rows; /* -1: the format's default */
    const char *query;
} sql_args;

/* One option at argv[*i]; a usage exit status, or -1 to go on. */
static int take_option(int argc, char **argv, int *i, sql_args *a)
{
    char err[512], *end;
    const char *opt = argv[*i], *val = *i + 1 < argc ? argv[*i + 1] : NULL;
    sl_status st;
    if (!strcmp(opt, "-h") || !strcmp(opt, "--help")) {
        streamctl_usage_sql(stdout);
        exit(SQL_OK);
    }
    if (strcmp(opt, "--table") && strcmp(opt, "--format") &&
        strcmp(opt, "--max-rows"))
        return usage("unknown option '%s'", opt);
    if (!val)
        return usage("%s needs a value", opt);
    (*i)++;
    if (!strcmp(opt, "--format")) {
        if (sl__row_format_parse(val, &a->format))
            return usage("--format '%s': expected table, json or csv", val);
        return -1;
    }
    if (!strcmp(opt, "--max-rows")) {
        a->max_rows = strtoll(val, &end, 10);
        if (*end || end == val || a->max_rows < 0)
            return usage("--max-rows '%s': expected a count >= 0", val);
        return -1;
    }
    st = sl__sql_files_add(a->files, val, err, sizeof err);
    if (st == SL_EINVAL)
        return usage("%s", err);
    if (st) {
        fprintf(stderr, "streamctl sql: %s\n", err);
        return SQL_FAILED;
    }
    return -1;
}

static int parse_args(int argc, char **argv, sql_args *a)
{
    int i, rc;
    for (i = 2; i < argc; i++) {
        if (argv[i][0] == '-' && argv[i][1]) {
            if ((rc = take_option(argc, argv, &i, a)) >= 0)
                return rc;
            continue;
        }
        if (a->query)
            return usage("unexpected argument '%s' (one query only)", argv[i]);
        a->query = argv[i];
    }
    if (!a->query)
        return usage("%s", "a query is required");
    return -1;
}

/* Print a query error as sl__sql_error_format writes it (line, column,
 * the line and a caret). */
static int query_error(const char *text, const sl__sql_error *e)
{
    char buf[1024];
    fprintf(stderr, "streamctl sql: %s\n",
            sl__sql_error_format(text, e, buf, sizeof buf));
    return SQL_FAILED;
}

static int print_rows(const sql_args *a, const sl__sql_result *r)
{
    sl__buf out = {0};
    size_t n = r->n;
    sl_status st;
    if (a->max_rows >= 0 && (unsigned long long)a->max_rows < n &&
        a->format != SL__ROWS_TABLE)
        n = (size_t)a->max_rows;
    if (a->format == SL__ROWS_TABLE)
        st = sl__rows_put_table(&out, r->schema, r->rows, n,
                                a->max_rows >= 0 ? (size_t)a->max_rows
                                                 : SL__SHOW_ROWS);
    else
        st = sl__rows_put(&out, a->format, r->schema, r->rows, n);
    if (!st && out.len && fwrite(out.data, 1, out.len, stdout) != out.len)
        st = SL_EIO;
    sl__buf_free(&out);
    if (st || fflush(stdout)) {
        fprintf(stderr, "streamctl sql: cannot print the result: %s\n",
                sl_strerror(st ? st : SL_EIO));
        return SQL_FAILED;
    }
    return SQL_OK;
}

static void report_malformed(const sl__sql_files *f)
{
    size_t i;
    for (i = 0; i < sl__sql_files_count(f); i++) {
        int64_t n = sl__sql_files_malformed(f, i);
        if (n)
            fprintf(stderr, "streamctl sql: %lld malformed line%s in %s (%s)\n",
                    (long long)n, n == 1 ? "" : "s", sl__sql_files_name(f, i),
                    sl__sql_files_path(f, i));
    }
}

static int run_query(const sql_args *a, sl_engine *eng)
{
    sl__arena arena;
    sl__sql_query *q;
    sl__sql_plan *p;
    sl__sql_error e;
    sl__sql_result r;
    char err[1024];
    struct timespec now;
    int rc;
    const sl__sql_catalog *cat = sl__sql_files_catalog(a->files);
    clock_gettime(CLOCK_REALTIME, &now);
    sl__arena_init(&arena, 16384);
    if (sl__sql_parse(a->query, &arena, &q, &e) ||
        sl__sql_plan_build(a->query, q, cat,
                           (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000,
                           &arena, &p, &e)) {
        rc = query_error(a->query, &e);
    } else if (sl__sql_plan_run(p, cat, eng, &r, err, sizeof err)) {
        fprintf(stderr, "streamctl sql: %s\n", err);
        rc = SQL_FAILED;
    } else {
        rc = print_rows(a, &r);
        sl__sql_result_free(&r);
    }
    report_malformed(a->files);
    sl__arena_free(&arena);
    return rc;
}

int streamctl_cmd_sql(int argc, char **argv)
{
    sql_args a = {0};
    char err[512];
    sl_engine *eng;
    int rc;
    a.max_rows = -1;
    a.format = SL__ROWS_TABLE;
    if (!(a.files = sl__sql_files_new())) {
        fputs("streamctl sql: out of memory\n", stderr);
        return SQL_FAILED;
    }
    if ((rc = parse_args(argc, argv, &a)) >= 0)
        goto done;
    if (!(eng = sl_engine_new(sl_conf_new(), err, sizeof err))) {
        fprintf(stderr, "streamctl sql: %s\n", err);
        rc = SQL_FAILED;
        goto done;
    }
    rc = run_query(&a, eng);
    sl_engine_free(eng);
done:
    sl__sql_files_free(a.files);
    return rc;
}
