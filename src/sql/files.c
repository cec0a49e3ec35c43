/*
 * File tables for batch SQL (files.h). A table's file is cut into
 * byte ranges, one source partition each (as the directory source reads
 * splits: connectors/file/file_read.c): a split that does not start the
 * file skips the line begun before it, and reads every line that starts
 * at or before its end, so each line is read by exactly one split and a
 * large file is never held in memory whole.
 */
#include "sql/files.h"

#include "core/records.h"
#include "rdd/rdd.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define SPLIT_MIN (4u << 20)    /* bytes a split holds at least */
#define MAX_LINE (64u << 20)    /* a longer line is malformed */
#define READ_CHUNK (256u << 10) /* bytes read at a time */
#define MAX_TABLES 64

typedef struct ftable {
    char *name, *path;
    sl__rec_options opts;
    sl_schema *schema;
    int64_t size;
    atomic_llong malformed;
} ftable;

/* One split of a table's file: [start, end). */
typedef struct split {
    const ftable *t;
    int64_t start, end;
} split;

struct sl__sql_files {
    ftable tables[MAX_TABLES];
    size_t n;
    sl__sql_catalog cat;
};

/* ------------------------------------------------------------ reading */

static void *task_alloc(void *ctx, size_t n)
{
    return sl_task_alloc(ctx, n);
}

/* One line: its row emitted (the line copied into task memory first, so
 * the row's string views outlive the read buffer). */
static sl_status read_line(sl_task *t, sl__rec_reader *r, const char *line,
                           size_t len)
{
    char err[256], *copy = sl_task_alloc(t, len ? len : 1);
    sl_value row;
    sl_status st;
    if (!copy)
        return SL_ENOMEM;
    memcpy(copy, line, len);
    st = sl__rec_parse(r, copy, len, task_alloc, t, &row, err, sizeof err);
    if (st == SL_ENOTFOUND || st == SL_EPARSE)
        return SL_OK; /* the header, a blank line, or counted malformed */
    return st ? st : sl_task_emit(t, &row);
}

/* Feed the split's lines to r until one starts past its end. */
static sl_status read_split(sl_task *t, const split *s, int fd,
                            sl__rec_reader *r, sl__line_splitter *sp)
{
    int64_t pos = s->start;
    bool eof = false;
    for (;;) {
        const char *line;
        size_t len, room;
        char *buf;
        ssize_t got;
        sl_status st;
        sl__line_result res = sl__lines_next(sp, eof, &line, &len);
        if (res != SL__LINE_MORE && s->start + sl__lines_line_at(sp) > s->end)
            return SL_OK;
        if (res == SL__LINE_OK && (st = read_line(t, r, line, len)))
            return st;
        if (res == SL__LINE_LONG)
            r->malformed++;
        if (res != SL__LINE_MORE)
            continue;
        if (eof)
            return SL_OK;
        if (sl_task_interrupted(t))
            return SL_ESTOPPED;
        if (!(buf = sl__lines_space(sp, &room)))
            return SL_ENOMEM;
        got = pread(fd, buf, room < READ_CHUNK ? room : READ_CHUNK, pos);
        if (got < 0)
            return sl_task_fail(t, "cannot read %s: %s", s->t->path,
                                SL__STRERROR(errno));
        eof = got == 0;
        pos += got;
        sl__lines_added(sp, (size_t)got);
    }
}

static sl_status read_fn(sl_task *t, const void *desc, void *user)
{
    const split *s = desc;
    sl__rec_options o = s->t->opts;
    sl__rec_reader r;
    sl__line_splitter sp;
    char err[256];
    sl_status st;
    int fd;
    SL__UNUSED(user);
    o.header = o.header && s->start == 0; /* only the first split has it */
    if ((st = sl__rec_reader_init(&r, &o, err, sizeof err)))
        return sl_task_fail(t, "%s", err);
    if ((fd = open(s->t->path, O_RDONLY | O_CLOEXEC)) < 0) {
        sl__rec_reader_free(&r);
        return sl_task_fail(t, "cannot open %s: %s", s->t->path,
                            SL__STRERROR(errno));
    }
    sl__lines_init(&sp, MAX_LINE, READ_CHUNK);
    if (s->start)
        sl__lines_skip_first(&sp);
    st = read_split(t, s, fd, &r, &sp);
    atomic_fetch_add(&((ftable *)s->t)->malformed, (long long)r.malformed);
    sl__lines_free(&sp);
    close(fd);
    sl__rec_reader_free(&r);
    return st;
}

static sl_rdd *table_rdd(void *user, void *handle, sl_engine *eng)
{
    const ftable *t = handle;
    size_t i, n = sl_engine_workers(eng) * 4;
    split *splits;
    SL__UNUSED(user);
    if ((int64_t)n * SPLIT_MIN > t->size)
        n = (size_t)(t->size / SPLIT_MIN) + 1;
    if (!(splits = sl__engine_scope_alloc(eng, n * sizeof *splits)))
        return NULL;
    for (i = 0; i < n; i++) {
        splits[i].t = t;
        splits[i].start = t->size * (int64_t)i / (int64_t)n;
        splits[i].end = t->size * (int64_t)(i + 1) / (int64_t)n;
    }
    return sl__rdd_readers(eng, read_fn, splits, sizeof *splits, n);
}

static bool lookup(void *user, const char *name, const sl_schema **schema,
                   bool *is_stream, void **handle)
{
    sl__sql_files *f = user;
    size_t i;
    for (i = 0; i < f->n; i++)
        if (!strcasecmp(f->tables[i].name, name)) {
            *schema = f->tables[i].schema;
            *is_stream = false;
            *handle = &f->tables[i];
            return true;
        }
    return false;
}

/* ------------------------------------------------------------ tables */

/* The first non-blank line of path (at most MAX_LINE bytes) into buf
 * (sl_malloc'd; *buf NULL for an empty file). */
static sl_status first_line(const char *path, char **buf, size_t *len,
                            char *err, size_t errlen)
{
    FILE *fp = fopen(path, "rb");
    sl__line_splitter sp;
    sl_status st = SL_OK;
    bool eof = false;
    *buf = NULL;
    if (!fp) {
        snprintf(err, errlen, "cannot open %s: %s", path, SL__STRERROR(errno));
        return SL_EIO;
    }
    sl__lines_init(&sp, MAX_LINE, READ_CHUNK);
    for (;;) {
        const char *line;
        size_t n, room;
        char *space;
        sl__line_result res = sl__lines_next(&sp, eof, &line, &n);
        size_t lead = 0;
        while (res == SL__LINE_OK && lead < n &&
               (line[lead] == ' ' || line[lead] == '\t'))
            lead++;
        if (res == SL__LINE_OK && lead < n) {
            *buf = sl_malloc(n + 1);
            if (!*buf) {
                st = SL_ENOMEM;
                break;
            }
            memcpy(*buf, line, n);
            (*buf)[n] = '\0';
            *len = n;
            break;
        }
        if (res != SL__LINE_MORE)
            continue;
        if (eof || !(space = sl__lines_space(&sp, &room))) {
            st = eof ? SL_OK : SL_ENOMEM;
            break;
        }
        n = fread(space, 1, room, fp);
        eof = n == 0;
        sl__lines_added(&sp, n);
    }
    sl__lines_free(&sp);
    fclose(fp);
    return st;
}

/* The schema of a table without one: CSV header names, JSON inference. */
static sl_status infer(ftable *t, char *err, size_t errlen)
{
    char *line = NULL, why[256];
    size_t len = 0;
    sl_status st = first_line(t->path, &line, &len, err, errlen);
    if (st)
        return st;
    if (!line) {
        snprintf(err, errlen, "%s is empty: give its schema (%s=%s:SCHEMA)",
                 t->path, t->name, t->path);
        return SL_EPARSE;
    }
    if (t->opts.format == SL__REC_CSV)
        st = sl__rec_infer_csv_header(&t->opts, line, len, &t->schema, why,
                                      sizeof why);
    else
        st = sl__rec_infer_json(line, len, &t->schema, why, sizeof why);
    sl_free(line);
    if (st)
        snprintf(err, errlen, "%s: %s", t->path, why);
    return st;
}

/* Format by extension. */
static bool format_of(const char *path, sl__rec_format *f)
{
    const char *dot = strrchr(path, '.');
    if (!dot || strchr(dot, '/'))
        return false;
    if (!strcasecmp(dot, ".csv"))
        *f = SL__REC_CSV;
    else if (!strcasecmp(dot, ".json") || !strcasecmp(dot, ".jsonl"))
        *f = SL__REC_JSON;
    else if (!strcasecmp(dot, ".txt"))
        *f = SL__REC_LINES;
    else
        return false;
    return true;
}

static char *dup_n(const char *s, size_t n)
{
    char *d = sl_malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

/* NAME=FILE[:SCHEMA] into t's name, path and (given) schema. */
static sl_status parse_spec(sl__sql_files *f, ftable *t, const char *spec,
                            char *err, size_t errlen)
{
    const char *eq = strchr(spec, '='), *colon;
    size_t i;
    if (!eq || eq == spec || !eq[1]) {
        snprintf(err, errlen, "--table '%s': expected NAME=FILE[:SCHEMA]",
                 spec);
        return SL_EINVAL;
    }
    colon = strchr(eq + 1, ':');
    t->name = dup_n(spec, (size_t)(eq - spec));
    t->path = dup_n(eq + 1, colon ? (size_t)(colon - eq - 1) : strlen(eq + 1));
    if (!t->name || !t->path)
        return SL_ENOMEM;
    for (i = 0; i < f->n; i++)
        if (!strcasecmp(f->tables[i].name, t->name)) {
            snprintf(err, errlen, "--table '%s': table %s given twice", spec,
                     t->name);
            return SL_EINVAL;
        }
    if (!format_of(t->path, &t->opts.format)) {
        snprintf(err, errlen,
                 "--table '%s': unknown file type (expected .csv, .json, "
                 ".jsonl or .txt)",
                 spec);
        return SL_EINVAL;
    }
    if (colon && sl_schema_parse(colon + 1, &t->schema, err, errlen))
        return SL_EINVAL;
    if (!colon && t->opts.format == SL__REC_LINES &&
        sl_schema_parse("value string", &t->schema, err, errlen))
        return SL_ENOMEM;
    return SL_OK;
}

static void ftable_free(ftable *t)
{
    sl_free(t->name);
    sl_free(t->path);
    sl_schema_release(t->schema);
    memset(t, 0, sizeof *t);
}

/* The rest of adding t (name, path, format and any given schema set):
 * the file looked at, a missing schema inferred, the options checked. */
static sl_status finish_table(sl__sql_files *f, ftable *t, char *err,
                              size_t errlen)
{
    struct stat sb;
    sl_status st;
    /* Without a schema the header names the columns; with one the file
     * is data only (the rule: CSV needs a header without SCHEMA). */
    t->opts.header = t->opts.format == SL__REC_CSV && !t->schema;
    if (stat(t->path, &sb) || !S_ISREG(sb.st_mode)) {
        int e = errno;
        snprintf(err, errlen, "cannot read %s: %s", t->path,
                 stat(t->path, &sb) ? SL__STRERROR(e) : "not a regular file");
        return SL_EIO;
    }
    t->size = (int64_t)sb.st_size;
    if (!t->schema && (st = infer(t, err, errlen)))
        return st;
    t->opts.schema = t->schema;
    if (sl__rec_options_check(&t->opts, err, errlen))
        return SL_EINVAL;
    f->n++;
    return SL_OK;
}

/* The next free table, reset; NULL (err set) when all are taken. */
static ftable *next_table(sl__sql_files *f, char *err, size_t errlen)
{
    ftable *t = &f->tables[f->n];
    if (f->n == MAX_TABLES) {
        snprintf(err, errlen, "more than %d tables", MAX_TABLES);
        return NULL;
    }
    memset(t, 0, sizeof *t);
    sl__rec_options_init(&t->opts);
    t->opts.mode = SL__PARSE_PERMISSIVE;
    return t;
}

sl_status sl__sql_files_add(sl__sql_files *f, const char *spec, char *err,
                            size_t errlen)
{
    ftable *t = next_table(f, err, errlen);
    sl_status st;
    if (!t)
        return SL_EINVAL;
    if ((st = parse_spec(f, t, spec, err, errlen)) ||
        (st = finish_table(f, t, err, errlen)))
        ftable_free(t);
    return st;
}

sl_status sl__sql_files_add_table(sl__sql_files *f, const char *name,
                                  const char *path, const char *format,
                                  const char *ddl, char *err, size_t errlen)
{
    ftable *t = next_table(f, err, errlen);
    sl_status st = SL_EINVAL;
    size_t i;
    if (!t)
        return SL_EINVAL;
    for (i = 0; i < f->n; i++)
        if (!strcasecmp(f->tables[i].name, name)) {
            snprintf(err, errlen, "table %s given twice", name);
            return SL_EINVAL;
        }
    if (!(t->name = sl__strdup(name)) || !(t->path = sl__strdup(path))) {
        st = SL_ENOMEM;
        snprintf(err, errlen, "out of memory");
    } else if (format ? sl__rec_format_parse(format, &t->opts.format) != SL_OK
                      : !format_of(path, &t->opts.format)) {
        snprintf(err, errlen,
                 format ? "unknown format \"%s\" (expected csv, json or "
                          "lines)"
                        : "%s: unknown file type (expected .csv, .json, "
                          ".jsonl or .txt, or give \"format\")",
                 format ? format : path);
    } else if (ddl && sl_schema_parse(ddl, &t->schema, err, errlen)) {
        st = SL_EINVAL;
    } else if (!ddl && t->opts.format == SL__REC_LINES &&
               sl_schema_parse("value string", &t->schema, err, errlen)) {
        st = SL_ENOMEM;
    } else {
        st = finish_table(f, t, err, errlen);
    }
    if (st)
        ftable_free(t);
    return st;
}

sl__sql_files *sl__sql_files_new(void)
{
    sl__sql_files *f = sl_malloc(sizeof *f);
    if (!f)
        return NULL;
    memset(f, 0, sizeof *f);
    f->cat.lookup = lookup;
    f->cat.rdd = table_rdd;
    f->cat.user = f;
    return f;
}

void sl__sql_files_free(sl__sql_files *f)
{
    size_t i;
    if (!f)
        return;
    for (i = 0; i < f->n; i++)
        ftable_free(&f->tables[i]);
    sl_free(f);
}

const sl__sql_catalog *sl__sql_files_catalog(sl__sql_files *f)
{
    return &f->cat;
}

size_t sl__sql_files_count(const sl__sql_files *f)
{
    return f->n;
}

const char *sl__sql_files_name(const sl__sql_files *f, size_t i)
{
    return f->tables[i].name;
}

const char *sl__sql_files_path(const sl__sql_files *f, size_t i)
{
    return f->tables[i].path;
}

int64_t sl__sql_files_malformed(const sl__sql_files *f, size_t i)
{
    return atomic_load(&((sl__sql_files *)f)->tables[i].malformed);
}
