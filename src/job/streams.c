/*
 * Job-file streams: "$.streams" into job_stream rows of job_op operators,
 * each checked against the operator registry (operators.c), with their
 * built-in functions (functions.c's registry) and parameters.
 */
#include "job/parse_int.h"
#include "sql/sql_stream.h"

#include <math.h>
#include <string.h>

/* ---------------------------------------------------------- functions */

static job_fn *read_fn(sl_job *job, const cJSON *j, const char *path,
                       sl_job_fn_kind want, const char *who)
{
    static const char *const fields[] = {"name", "arg", "on", NULL};
    static const char *const ons[] = {"element", "key", "value", NULL};
    const cJSON *name_j = j, *arg = NULL, *on = NULL;
    const char *name, *fn_path = path;
    const fn_def *def;
    job_fn *f;

    if (cJSON_IsObject(j)) {
        sl__job_check_fields(job, j, path, fields);
        if (!(name_j = sl__job_field(job, j, path, "name", true)))
            return NULL;
        fn_path = sl__job_path_field(job, path, "name");
        arg = sl__job_field(job, j, path, "arg", false);
        on = sl__job_field(job, j, path, "on", false);
    } else if (!cJSON_IsString(j)) {
        sl__job_wrong_type(job, j, path, "a function name or object");
        return NULL;
    }
    if (!(name = sl__job_read_string(job, name_j, fn_path)))
        return NULL;
    if (!(def = sl__job_fn_find(name))) {
        sl__job_problem(
            job, name_j, fn_path, "unknown function %s%s",
            sl__job_quoted(job, name),
            sl__job_hint_note(job, sl__job_hint_registry(name, REG_FUNCTIONS)));
        return NULL;
    }
    if (def->info.kind != want) {
        sl__job_problem(job, name_j, fn_path,
                        "\"%s\" is a %s function; %s needs a %s function", name,
                        sl__job_fn_kind_name(def->info.kind), who,
                        sl__job_fn_kind_name(want));
        return NULL;
    }
    if (!(f = sl__job_alloc(job, sizeof *f)))
        return NULL;
    f->def = def;
    f->max_bytes = job->max_record_bytes;
    if (on) {
        int i;
        if (want != SL_JOB_FN_MAP && want != SL_JOB_FN_PREDICATE) {
            sl__job_problem(job, on, sl__job_path_field(job, path, "on"),
                            "\"on\" applies to map functions and predicates "
                            "only");
            return NULL;
        }
        if ((i = sl__job_read_choice(
                 job, on, sl__job_path_field(job, path, "on"), ons)) < 0)
            return NULL;
        f->on = (fn_on)i;
    }
    if (def->arg == ARG_NONE) {
        if (arg) {
            sl__job_problem(job, arg, sl__job_path_field(job, path, "arg"),
                            "\"%s\" takes no arg", name);
            return NULL;
        }
        return f;
    }
    if (!arg) {
        sl__job_problem(job, j, path, "\"%s\" needs arg: %s", name,
                        sl__job_fn_arg_words(def->arg));
        return NULL;
    }
    {
        const char *arg_path = sl__job_path_field(job, path, "arg");
        bool ok = true;
        switch (def->arg) {
        case ARG_NUMBER:
            ok = cJSON_IsNumber(arg);
            break;
        case ARG_ORDER:
            ok = cJSON_IsNumber(arg) || cJSON_IsString(arg);
            break;
        case ARG_REPEAT:
            ok = cJSON_IsNumber(arg) &&
                 floor(arg->valuedouble) == arg->valuedouble &&
                 arg->valuedouble >= 0 && arg->valuedouble <= 1000;
            break;
        case ARG_FNLIST:
            ok = cJSON_IsArray(arg) && cJSON_GetArraySize(arg) > 0;
            break;
        default:
            break;
        }
        if (!ok) {
            sl__job_problem(job, arg, arg_path, "\"%s\" needs arg: %s", name,
                            sl__job_fn_arg_words(def->arg));
            return NULL;
        }
        if (def->arg == ARG_FNLIST) {
            const cJSON *it;
            size_t i = 0;
            f->nsubs = (size_t)cJSON_GetArraySize(arg);
            if (!(f->subs = sl__job_alloc(job, f->nsubs * sizeof *f->subs)))
                return NULL;
            cJSON_ArrayForEach(it, arg)
            {
                f->subs[i] =
                    read_fn(job, it, sl__job_path_index(job, arg_path, i),
                            SL_JOB_FN_MAP, name);
                if (!f->subs[i++])
                    ok = false;
            }
            return ok ? f : NULL;
        }
        if (!sl__job_read_value(job, arg, arg_path, &f->arg))
            return NULL;
    }
    return f;
}

/* ------------------------------------------------------------ streams */

static const char *const emit_names[] = {"none",  "state", "key",
                                         "value", "pair",  NULL};
/* A timing-out call has no value: the same kinds but "value". */
static const char *const timeout_emit_names[] = {"none", "state", "key", "pair",
                                                 NULL};

static const char *const param_names[] = {
    "fn",           "inverse", "filter",      "window",          "slide",
    "partitions",   "with",    "initial",     "timeout",         "emit",
    "timeout_emit", "create",  "merge_value", "merge_combiners", "zero"};

/* A name that must be a source or a stream. */
char *sl__job_read_ref(sl_job *job, const cJSON *j, const char *path)
{
    const char *s = sl__job_read_name(job, j, path);
    if (!s)
        return NULL;
    if (!sl__job_find_source(job, s) && !sl__job_find_stream(job, s)) {
        sl__job_problem(job, j, path, "unknown stream or source %s",
                        sl__job_quoted(job, s));
        return NULL;
    }
    return sl__job_strdup(job, s);
}

static void read_with(sl_job *job, job_op *op, const cJSON *j, const char *path,
                      bool many)
{
    const cJSON *it;
    size_t i = 0;
    if (cJSON_IsArray(j) && many) {
        op->with_is_array = true;
        op->nwith = (size_t)cJSON_GetArraySize(j);
        if (op->nwith == 0) {
            sl__job_problem(job, j, path, "must name at least one stream");
            return;
        }
        if (!(op->with = sl__job_alloc(job, op->nwith * sizeof *op->with))) {
            op->nwith = 0;
            return;
        }
        cJSON_ArrayForEach(it, j)
        {
            op->with[i] =
                sl__job_read_ref(job, it, sl__job_path_index(job, path, i));
            i++;
        }
        return;
    }
    if (!cJSON_IsString(j)) {
        sl__job_wrong_type(job, j, path,
                           many ? "a name or array of names" : "a name");
        return;
    }
    if ((op->with = sl__job_alloc(job, sizeof *op->with))) {
        op->nwith = 1;
        op->with[0] = sl__job_read_ref(job, j, path);
    }
}

static void read_initial(sl_job *job, job_op *op, const cJSON *j,
                         const char *path)
{
    const cJSON *it;
    size_t i = 0;
    if (!cJSON_IsArray(j)) {
        sl__job_wrong_type(job, j, path, "an array of pairs");
        return;
    }
    op->ninitial = (size_t)cJSON_GetArraySize(j);
    if (!(op->initial =
              sl__job_alloc(job, op->ninitial * sizeof *op->initial))) {
        op->ninitial = 0;
        return;
    }
    cJSON_ArrayForEach(it, j)
    {
        const char *p = sl__job_path_index(job, path, i);
        if (!cJSON_IsArray(it) || cJSON_GetArraySize(it) != 2) {
            sl__job_problem(job, it, p,
                            "expected a pair (an array of two values), got "
                            "%s",
                            sl__job_type_name(it));
            return;
        }
        if (!sl__job_read_value(job, it, p, &op->initial[i++]))
            return;
    }
}

static void read_op(sl_job *job, job_stream *s, job_op *op, const cJSON *j)
{
    const char *allowed[20];
    const cJSON *op_j, *p;
    const char *name;
    size_t i, n = 0;
    const op_def *d;

    if (!cJSON_IsObject(j)) {
        sl__job_wrong_type(job, j, op->path, "an object");
        s->bad = true;
        return;
    }
    if (!(op_j = sl__job_field(job, j, op->path, "op", true)) ||
        !(name = sl__job_read_string(
              job, op_j, sl__job_path_field(job, op->path, "op")))) {
        s->bad = true;
        return;
    }
    if (!(d = sl__job_op_find(name))) {
        sl__job_problem(
            job, op_j, sl__job_path_field(job, op->path, "op"),
            "unknown operator %s%s; the operators are listed in "
            "docs/job-file.md, section \"Operators\"",
            sl__job_quoted(job, name),
            sl__job_hint_note(job, sl__job_hint_registry(name, REG_OPERATORS)));
        s->bad = true;
        return;
    }
    op->def = d;
    allowed[n++] = "op";
    for (i = 0; i < sizeof param_names / sizeof param_names[0]; i++)
        if (d->params & (1u << i))
            allowed[n++] = param_names[i];
    allowed[n] = NULL;
    sl__job_check_fields(job, j, op->path, allowed);
    for (i = 0; i < sizeof param_names / sizeof param_names[0]; i++) {
        unsigned bit = 1u << i;
        const char *pp;
        if (!(d->params & bit))
            continue;
        if (!(p = sl__job_field(job, j, op->path, param_names[i],
                                (d->required & bit) != 0))) {
            if (d->required & bit)
                s->bad = true;
            continue;
        }
        pp = sl__job_path_field(job, op->path, param_names[i]);
        switch (bit) {
        case P_FN:
            op->fn = read_fn(job, p, pp, d->fn_kind, d->name);
            s->bad |= !op->fn;
            if (op->fn) { /* on_bad_record: where the builder lets it */
                op->fn->bad = &job->bad;
                op->fn->stream = s->name;
                op->fn->op = (int)(op - s->ops);
            }
            break;
        case P_INVERSE:
            op->inverse = read_fn(job, p, pp, SL_JOB_FN_REDUCE, "inverse");
            s->bad |= !op->inverse;
            break;
        case P_FILTER:
            op->filter = read_fn(job, p, pp, SL_JOB_FN_PREDICATE, "filter");
            s->bad |= !op->filter;
            break;
        case P_CREATE:
            op->create = read_fn(job, p, pp, SL_JOB_FN_MAP, "create");
            s->bad |= !op->create;
            break;
        case P_MERGE_VALUE:
            op->merge_value =
                read_fn(job, p, pp, SL_JOB_FN_REDUCE, "merge_value");
            s->bad |= !op->merge_value;
            break;
        case P_MERGE_COMBINERS:
            op->merge_combiners =
                read_fn(job, p, pp, SL_JOB_FN_REDUCE, "merge_combiners");
            s->bad |= !op->merge_combiners;
            break;
        case P_WINDOW:
            s->bad |= !sl__job_read_duration(job, p, pp, &op->window_ms);
            break;
        case P_SLIDE:
            s->bad |= !sl__job_read_duration(job, p, pp, &op->slide_ms);
            break;
        case P_TIMEOUT:
            s->bad |= !sl__job_read_duration(job, p, pp, &op->timeout_ms);
            break;
        case P_PARTITIONS: {
            int64_t v;
            if (sl__job_read_int(job, p, pp, 1, 1024, &v))
                op->partitions = (size_t)v;
            else
                s->bad = true;
            break;
        }
        case P_WITH:
            read_with(job, op, p, pp, strcmp(d->name, "union") == 0);
            for (n = 0; n < op->nwith; n++)
                s->bad |= !op->with[n];
            s->bad |= op->nwith == 0;
            break;
        case P_INITIAL:
            read_initial(job, op, p, pp);
            break;
        case P_EMIT:
        case P_TIMEOUT_EMIT: {
            int c = sl__job_read_choice(
                job, p, pp, bit == P_EMIT ? emit_names : timeout_emit_names);
            if (c < 0)
                s->bad = true;
            else if (bit == P_EMIT)
                op->emit = (emit_kind)c;
            else /* skip "value" in the mapping of indices to kinds */
                op->timeout_emit = (emit_kind)(c == 3 ? EMIT_PAIR : c);
            break;
        }
        case P_ZERO:
            op->has_zero = sl__job_read_value(job, p, pp, &op->zero);
            s->bad |= !op->has_zero;
            break;
        default:
            break;
        }
    }
    if (op->filter && !op->inverse && (d->params & P_INVERSE)) {
        sl__job_problem(job, cJSON_GetObjectItemCaseSensitive(j, "filter"),
                        sl__job_path_field(job, op->path, "filter"),
                        "\"filter\" needs \"inverse\"");
        s->bad = true;
    }
    if ((d->params & P_EMIT) && !cJSON_GetObjectItemCaseSensitive(j, "emit"))
        op->emit = EMIT_STATE;
}

/* ------------------------------------------------------- SQL streams */

/* The sources and streams of the job that q's FROM names: the first in
 * *first, and whether another one is named too. */
static void sql_inputs(sl_job *job, const sl__sql_query *q, const char **first,
                       bool *more);

static void from_inputs(sl_job *job, const sl__sql_from *f, const char **first,
                        bool *more)
{
    if (!f)
        return;
    if (f->kind == SL__SQL_FROM_NAME && (sl__job_find_source(job, f->name) ||
                                         sl__job_find_stream(job, f->name))) {
        if (*first && strcmp(*first, f->name))
            *more = true;
        else
            *first = f->name;
    }
    if (f->subquery)
        sql_inputs(job, f->subquery, first, more);
    from_inputs(job, f->left, first, more);
    from_inputs(job, f->right, first, more);
}

static void sql_inputs(sl_job *job, const sl__sql_query *q, const char **first,
                       bool *more)
{
    if (!q)
        return;
    from_inputs(job, q->from, first, more);
    sql_inputs(job, q->left, first, more);
    sql_inputs(job, q->right, first, more);
}

/* "reject_when": parsed here (errors positioned in it); bound to the
 * input's columns at the build. */
static void read_reject_when(sl_job *job, job_stream *s, const cJSON *j,
                             sl__arena *a)
{
    const char *path = sl__job_path_field(job, s->path, "reject_when");
    const cJSON *rw = sl__job_field(job, j, s->path, "reject_when", false);
    sl__sql_expr *x;
    sl__sql_error e;
    char msg[1024];
    if (!rw)
        return;
    if (!(s->reject_when = sl__job_read_string(job, rw, path))) {
        s->bad = true;
    } else if (sl__sql_parse_expr(s->reject_when, a, &x, &e)) {
        sl__job_problem(
            job, rw, path, "%s",
            sl__sql_error_format(s->reject_when, &e, msg, sizeof msg));
        s->bad = true;
    } else if (sl__sql_has_aggregate(x)) {
        sl__job_problem(job, rw, path,
                        "aggregate functions are not allowed in reject_when "
                        "(it judges each input row)");
        s->bad = true;
    }
}

/* Whether the source or stream name declares a "watermark" (read from
 * the file: a stream may come later in it). */
static bool input_watermark(sl_job *job, const char *name)
{
    job_source *src = name ? sl__job_find_source(job, name) : NULL;
    job_stream *s = name && !src ? sl__job_find_stream(job, name) : NULL;
    const cJSON *j = src ? src->json : s ? s->json : NULL;
    return j && cJSON_GetObjectItemCaseSensitive(j, "watermark") != NULL;
}

/* "sql": the query parsed here (errors positioned in it), its one input
 * found; binding against the input's rows waits for the build. */
static void read_sql(sl_job *job, job_stream *s, const cJSON *j,
                     const cJSON *sql)
{
    static const char *const modes[] = {"append", "update", "complete", NULL};
    const char *path = sl__job_path_field(job, s->path, "sql"), *first = NULL;
    const cJSON *mode = sl__job_field(job, j, s->path, "output_mode", false);
    sl__arena a;
    sl__sql_query *q;
    sl__sql_error e;
    char msg[1024];
    const char *rule = NULL;
    bool more = false;
    if (sl__job_field(job, j, s->path, "from", false) ||
        sl__job_field(job, j, s->path, "ops", false))
        sl__job_problem(job, j, s->path,
                        "a stream has \"sql\" or \"from\" and \"ops\", "
                        "not both");
    if (mode && (s->output_mode = sl__job_read_choice(
                     job, mode, sl__job_path_field(job, s->path, "output_mode"),
                     modes)) < 0)
        s->bad = true;
    if (!(s->sql = sl__job_read_string(job, sql, path))) {
        s->bad = true;
        return;
    }
    sl__arena_init(&a, 4096);
    if (sl__sql_parse(s->sql, &a, &q, &e)) {
        sl__job_problem(job, sql, path, "%s",
                        sl__sql_error_format(s->sql, &e, msg, sizeof msg));
        s->bad = true;
    } else {
        sql_inputs(job, q, &first, &more);
        if (!first || more)
            sl__job_problem(job, sql, path, "%s",
                            more ? "the query reads two sources or streams: "
                                   "join a stream with tables only"
                                 : "the query reads no source or stream");
        else
            s->from = sl__job_strdup(job, first);
        s->sql_watermark = sl__sql_query_has_watermark(q);
        if ((rule = sl__sql_stream_mode_error(q, (sl_output_mode)s->output_mode,
                                              input_watermark(job, first) ||
                                                  s->sql_watermark)))
            sl__job_problem(job, sql, path, "%s", rule);
        s->bad |= !s->from || rule;
    }
    read_reject_when(job, s, j, &a);
    sl__arena_free(&a);
}

/* "schema" of an ops stream: checked here (names aside: they depend on
 * the kinds, found later), used by the views of its SQL readers. */
static void read_schema(sl_job *job, job_stream *s, const cJSON *j)
{
    const char *path = sl__job_path_field(job, s->path, "schema");
    const cJSON *f = sl__job_field(job, j, s->path, "schema", false);
    sl_schema *sc = NULL;
    char why[256];
    if (!f)
        return;
    if (!(s->schema = sl__job_read_string(job, f, path)))
        return;
    if (sl__job_view_schema_parse(s->schema, false, &sc, why, sizeof why)) {
        sl__job_problem(job, f, path, "%s", why);
        s->schema = NULL;
    }
    sl_schema_release(sc);
}

static void read_stream(sl_job *job, job_stream *s, const cJSON *j)
{
    static const char *const fields[] = {"from",        "ops",         "sql",
                                         "output_mode", "reject_when", "schema",
                                         "watermark",   NULL};
    static const char *const sql_only[] = {"output_mode", "reject_when"};
    const cJSON *from, *ops, *o, *sql;
    size_t i;

    if (!cJSON_IsObject(j)) {
        sl__job_wrong_type(job, j, s->path, "an object");
        s->bad = true;
        return;
    }
    sl__job_check_fields(job, j, s->path, fields);
    sl__job_read_watermark(job, j, s->path, &s->wm);
    if ((sql = sl__job_field(job, j, s->path, "sql", false))) {
        if (sl__job_field(job, j, s->path, "schema", false))
            sl__job_problem(job, j, s->path,
                            "\"schema\" belongs to a stream of \"ops\" "
                            "(a SQL stream's rows are its query's)");
        read_sql(job, s, j, sql);
        return;
    }
    read_schema(job, s, j);
    for (i = 0; i < 2; i++)
        if (sl__job_field(job, j, s->path, sql_only[i], false))
            sl__job_problem(job, j, s->path,
                            "\"%s\" belongs to a \"sql\" stream", sql_only[i]);
    i = 0;
    if ((from = sl__job_field(job, j, s->path, "from", true)))
        s->from = sl__job_read_ref(job, from,
                                   sl__job_path_field(job, s->path, "from"));
    s->bad |= !s->from;
    if (!(ops = sl__job_field(job, j, s->path, "ops", false)))
        return;
    if (!cJSON_IsArray(ops)) {
        sl__job_wrong_type(job, ops, sl__job_path_field(job, s->path, "ops"),
                           "an array");
        s->bad = true;
        return;
    }
    s->nops = (size_t)cJSON_GetArraySize(ops);
    if (!(s->ops =
              sl__job_alloc(job, (s->nops ? s->nops : 1) * sizeof *s->ops))) {
        s->nops = 0;
        return;
    }
    cJSON_ArrayForEach(o, ops)
    {
        job_op *op = &s->ops[i];
        op->path =
            sl__job_path_index(job, sl__job_path_field(job, s->path, "ops"), i);
        i++;
        if (op->path)
            read_op(job, s, op, o);
    }
}

void sl__job_read_streams(sl_job *job, const cJSON *j)
{
    const cJSON *s;
    size_t i = 0;
    if (!cJSON_IsObject(j)) {
        sl__job_wrong_type(job, j, "$.streams", "an object");
        return;
    }
    job->nstreams = (size_t)cJSON_GetArraySize(j);
    if (job->nstreams > MAX_STREAMS) {
        sl__job_problem(job, j, "$.streams", "more than %d streams",
                        MAX_STREAMS);
        job->nstreams = 0;
        return;
    }
    sl__job_check_fields(job, j, "$.streams", NULL); /* duplicate names */
    if (!job->nstreams)
        return;
    if (!(job->streams =
              sl__job_alloc(job, job->nstreams * sizeof *job->streams))) {
        job->nstreams = 0;
        return;
    }
    /* Names first, so that from and with may refer to later streams. */
    for (s = j->child; s; s = s->next, i++) {
        job->streams[i].name = sl__job_strdup(job, s->string);
        job->streams[i].path = sl__job_path_field(job, "$.streams", s->string);
        if (!job->streams[i].name || !job->streams[i].path)
            return;
    }
    for (s = j->child, i = 0; s; s = s->next, i++) {
        job_stream *st = &job->streams[i];
        if (!sl__job_valid_name(s->string)) {
            sl__job_problem(job, s, st->path,
                            "invalid name %s (1-64 letters, digits, '.', "
                            "'_', '-')",
                            sl__job_quoted(job, s->string));
            st->bad = true;
            continue;
        }
        if (sl__job_find_source(job, s->string)) {
            sl__job_problem(job, s, st->path,
                            "\"%s\" is already the name of a source",
                            s->string);
            st->bad = true;
            continue;
        }
        read_stream(job, st, s);
    }
}
