/*
 * The figures a managed job shows, all taken from its progress entries:
 * a listener reads each entry on the job thread, keeps the last figures and
 * running totals (status, /api, /metrics read them), and appends the entry
 * to the rotating progress log.
 */
#include "control/control_int.h"
#include "stream/memtable.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static double num(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

static void str_into(const cJSON *o, const char *name, char *out, size_t n)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    snprintf(out, n, "%s", cJSON_IsString(v) ? v->valuestring : "");
}

void sl__control_figures_free(sl__ctl_figures *f)
{
    size_t i;
    for (i = 0; i < f->nsources; i++) {
        sl_free(f->sources[i].name);
        sl_free(f->sources[i].end);
    }
    sl_free(f->sources);
    for (i = 0; i < f->nsinks; i++)
        sl_free(f->sinks[i].name);
    sl_free(f->sinks);
    memset(f, 0, sizeof *f);
}

/* The source called name in f, added when new (NULL: out of memory). */
static sl__ctl_source *source_slot(sl__ctl_figures *f, const char *name)
{
    sl__ctl_source *grown;
    size_t i;
    for (i = 0; i < f->nsources; i++)
        if (!strcmp(f->sources[i].name, name))
            return &f->sources[i];
    if (!(grown = sl_realloc(f->sources, (f->nsources + 1) * sizeof *grown)))
        return NULL;
    f->sources = grown;
    memset(&grown[f->nsources], 0, sizeof *grown);
    if (!(grown[f->nsources].name = sl__strdup(name)))
        return NULL;
    return &grown[f->nsources++];
}

static sl__ctl_sink *sink_slot(sl__ctl_figures *f, const char *name)
{
    sl__ctl_sink *grown;
    size_t i;
    for (i = 0; i < f->nsinks; i++)
        if (!strcmp(f->sinks[i].name, name))
            return &f->sinks[i];
    if (!(grown = sl_realloc(f->sinks, (f->nsinks + 1) * sizeof *grown)))
        return NULL;
    f->sinks = grown;
    memset(&grown[f->nsinks], 0, sizeof *grown);
    if (!(grown[f->nsinks].name = sl__strdup(name)))
        return NULL;
    return &grown[f->nsinks++];
}

static void take_sources(sl__ctl_figures *f, const cJSON *sources)
{
    const cJSON *s;
    cJSON_ArrayForEach(s, sources)
    {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(s, "name");
        const cJSON *lag = cJSON_GetObjectItemCaseSensitive(s, "lag");
        const cJSON *end = cJSON_GetObjectItemCaseSensitive(s, "end");
        sl__ctl_source *slot;
        if (!cJSON_IsString(name) ||
            !(slot = source_slot(f, name->valuestring)))
            continue;
        slot->last_rows = (int64_t)num(s, "rows");
        slot->rows_total += slot->last_rows;
        slot->lag = cJSON_IsNumber(lag) ? lag->valuedouble : NAN;
        sl_free(slot->end);
        slot->end =
            end && !cJSON_IsNull(end) ? cJSON_PrintUnformatted(end) : NULL;
        if (slot->end) { /* cJSON's allocator is not sluice's */
            char *copy = sl__strdup(slot->end);
            cJSON_free(slot->end);
            slot->end = copy;
        }
    }
}

static void take_entry(sl__ctl_figures *f, const cJSON *e)
{
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(e, "duration_ms");
    const cJSON *et = cJSON_GetObjectItemCaseSensitive(e, "event_time");
    const cJSON *ck = cJSON_GetObjectItemCaseSensitive(e, "checkpoint");
    const cJSON *x;
    f->batches++;
    f->last_batch = (int64_t)num(e, "batch");
    f->last_batch_time_ms = (int64_t)num(e, "batch_time_ms");
    str_into(e, "timestamp", f->last_timestamp, sizeof f->last_timestamp);
    f->last_total_ms = num(d, "total");
    f->last_compute_ms = num(d, "compute");
    f->processing_ms_total += f->last_total_ms;
    f->input_rows_per_s = num(e, "input_rows_per_s");
    f->processed_rows_per_s = num(e, "processed_rows_per_s");
    f->scheduling_delay_ms = (int64_t)num(e, "scheduling_delay_ms");
    f->queued_batches = (int64_t)num(e, "queued_batches");
    f->absorbed_ticks_total += (int64_t)num(e, "absorbed_ticks");
    f->last_input_rows = (int64_t)num(e, "input_rows");
    f->input_rows_total += f->last_input_rows;
    f->state_rows = f->state_bytes = 0;
    cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(e, "state"))
    {
        f->state_rows += (int64_t)num(x, "rows");
        f->state_bytes += (int64_t)num(x, "bytes");
        f->dropped_late_total += (int64_t)num(x, "dropped_late");
    }
    if (et)
        str_into(et, "watermark", f->watermark, sizeof f->watermark);
    f->checkpoint_bytes_total += (int64_t)num(ck, "bytes");
    f->checkpoint_files_total += (int64_t)num(ck, "files");
    take_sources(f, cJSON_GetObjectItemCaseSensitive(e, "sources"));
    cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(e, "sinks"))
    {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(x, "name");
        sl__ctl_sink *slot;
        if (cJSON_IsString(name) && (slot = sink_slot(f, name->valuestring)))
            slot->rows_total += (int64_t)num(x, "rows");
    }
}

/* ---------------------------------------------------------- progress log */

sl_status sl__control_progress_open(sl__control *c)
{
    struct stat st;
    c->progress_log_max =
        sl__conf_int(sl__context_conf(c->ctx), "control.progress_log_bytes");
    c->progress_log = fopen(c->paths.progress_log, "ae");
    if (!c->progress_log)
        return sl_context_set_error(c->ctx, SL_EIO,
                                    "job \"%s\": cannot open the progress "
                                    "log %s: %s",
                                    c->name, c->paths.progress_log,
                                    SL__STRERROR(errno));
    c->progress_log_bytes =
        fstat(fileno(c->progress_log), &st) == 0 ? (int64_t)st.st_size : 0;
    return SL_OK;
}

/* Past its bound the log becomes progress.log.1 (the one before is
 * dropped) and a new one starts: at most twice the bound on disk. */
static void rotate_locked(sl__control *c)
{
    char old[SL_CONTROL_PATH_MAX + 8];
    snprintf(old, sizeof old, "%s.1", c->paths.progress_log);
    fclose(c->progress_log);
    if (rename(c->paths.progress_log, old) != 0)
        sl_context_log(c->ctx, SL_LOG_WARN,
                       "control: cannot rotate the progress log %s: %s",
                       c->paths.progress_log, SL__STRERROR(errno));
    c->progress_log = fopen(c->paths.progress_log, "ae");
    c->progress_log_bytes = 0;
    if (!c->progress_log)
        sl_context_log(c->ctx, SL_LOG_WARN,
                       "control: cannot reopen the progress log %s: %s; no "
                       "further entries are written",
                       c->paths.progress_log, SL__STRERROR(errno));
}

static void log_entry_locked(sl__control *c, const char *json, size_t len)
{
    if (!c->progress_log)
        return;
    if (c->progress_log_bytes > 0 &&
        c->progress_log_bytes + (int64_t)len + 1 > c->progress_log_max) {
        rotate_locked(c);
        if (!c->progress_log)
            return;
    }
    /* one write per entry, flushed: a reader sees whole lines */
    if (fwrite(json, 1, len, c->progress_log) != len ||
        fputc('\n', c->progress_log) == EOF || fflush(c->progress_log)) {
        sl_context_log(c->ctx, SL_LOG_WARN,
                       "control: cannot write the progress log %s: %s; no "
                       "further entries are written",
                       c->paths.progress_log, SL__STRERROR(errno));
        fclose(c->progress_log);
        c->progress_log = NULL;
        return;
    }
    c->progress_log_bytes += (int64_t)len + 1;
}

static void on_progress(const char *json, size_t len, void *user)
{
    sl__control *c = user;
    cJSON *e = cJSON_ParseWithLength(json, len);
    pthread_mutex_lock(&c->lock);
    if (e)
        take_entry(&c->fig, e);
    log_entry_locked(c, json, len);
    pthread_mutex_unlock(&c->lock);
    cJSON_Delete(e);
}

sl_status sl__control_listen(sl__control *c)
{
    sl_listener l = {SL_LISTENER_VERSION, NULL, NULL, NULL, on_progress};
    return sl_context_add_listener(c->ctx, &l, c);
}

sl_status sl__control_progress_json(sl__control *c, size_t n, char **out,
                                    size_t *len)
{
    return sl_context_recent_progress(c->ctx, n, out, len);
}

/* --------------------------------------------------------------- status */

static cJSON *status_sources(const sl__ctl_figures *f)
{
    cJSON *a = cJSON_CreateArray(), *o;
    size_t i;
    for (i = 0; a && i < f->nsources; i++) {
        const sl__ctl_source *s = &f->sources[i];
        if (!(o = cJSON_CreateObject()))
            break;
        cJSON_AddItemToArray(a, o);
        cJSON_AddStringToObject(o, "name", s->name);
        cJSON_AddNumberToObject(o, "rows_total", (double)s->rows_total);
        if (isnan(s->lag))
            cJSON_AddNullToObject(o, "lag");
        else
            cJSON_AddNumberToObject(o, "lag", s->lag);
        if (s->end)
            cJSON_AddRawToObject(o, "end", s->end);
        else
            cJSON_AddNullToObject(o, "end");
    }
    return a;
}

static cJSON *status_sinks(const sl__ctl_figures *f)
{
    cJSON *a = cJSON_CreateArray(), *o;
    size_t i;
    for (i = 0; a && i < f->nsinks; i++) {
        if (!(o = cJSON_CreateObject()))
            break;
        cJSON_AddItemToArray(a, o);
        cJSON_AddStringToObject(o, "name", f->sinks[i].name);
        cJSON_AddNumberToObject(o, "rows_total",
                                (double)f->sinks[i].rows_total);
    }
    return a;
}

static cJSON *status_tables(sl__control *c)
{
    cJSON *a = cJSON_CreateArray();
    sl__memsnap *snap = NULL;
    size_t i;
    if (a && sl__memtables_snapshot(c->ctx, &snap) == SL_OK && snap)
        for (i = 0; i < snap->n; i++)
            cJSON_AddItemToArray(a, cJSON_CreateString(snap->tables[i].name));
    sl__memsnap_free(snap);
    return a;
}

static void add_str_or_null(cJSON *o, const char *name, const char *v)
{
    if (v && *v)
        cJSON_AddStringToObject(o, name, v);
    else
        cJSON_AddNullToObject(o, name);
}

/* The figures' part of the status (c->lock held). */
static void status_figures(cJSON *o, const sl__ctl_figures *f)
{
    cJSON_AddNumberToObject(o, "batches", (double)f->batches);
    if (f->batches) {
        cJSON_AddNumberToObject(o, "last_batch", (double)f->last_batch);
        cJSON_AddStringToObject(o, "last_batch_at", f->last_timestamp);
        cJSON_AddNumberToObject(o, "last_batch_ms", f->last_total_ms);
    } else {
        cJSON_AddNullToObject(o, "last_batch");
        cJSON_AddNullToObject(o, "last_batch_at");
        cJSON_AddNullToObject(o, "last_batch_ms");
    }
    cJSON_AddNumberToObject(o, "input_rows_per_s", f->input_rows_per_s);
    cJSON_AddNumberToObject(o, "processed_rows_per_s", f->processed_rows_per_s);
    cJSON_AddNumberToObject(o, "scheduling_delay_ms",
                            (double)f->scheduling_delay_ms);
    cJSON_AddNumberToObject(o, "queued_batches", (double)f->queued_batches);
    cJSON_AddNumberToObject(o, "input_rows_total", (double)f->input_rows_total);
    cJSON_AddNumberToObject(o, "state_rows", (double)f->state_rows);
    cJSON_AddNumberToObject(o, "state_bytes", (double)f->state_bytes);
    add_str_or_null(o, "watermark", f->watermark);
    cJSON_AddItemToObject(o, "sources", status_sources(f));
    cJSON_AddItemToObject(o, "sinks", status_sinks(f));
}

sl_status sl__control_status_json(sl__control *c, sl__buf *out)
{
    cJSON *o = cJSON_CreateObject(), *tables = status_tables(c);
    char at[40];
    char *text;
    int64_t now = sl__now_wall_ms();
    sl_status st = SL_ENOMEM;
    if (!o || !tables)
        goto out;
    cJSON_AddTrueToObject(o, "ok");
    cJSON_AddStringToObject(o, "name", c->name);
    pthread_mutex_lock(&c->lock);
    cJSON_AddStringToObject(o, "state", sl__phase_name(c->phase));
    cJSON_AddNumberToObject(o, "pid", (double)getpid());
    sl__control_iso_ms(c->started_ms, at, sizeof at);
    cJSON_AddStringToObject(o, "started_at", at);
    cJSON_AddNumberToObject(
        o, "uptime_s",
        (double)((c->ended_ms ? c->ended_ms : now) - c->started_ms) / 1000.0);
    cJSON_AddNumberToObject(o, "batch_interval_ms",
                            (double)c->batch_interval_ms);
    status_figures(o, &c->fig);
    add_str_or_null(o, "last_error", c->error);
    add_str_or_null(o, "waiting_for", c->waiting_for);
    pthread_mutex_unlock(&c->lock);
    cJSON_AddItemToObject(o, "tables", tables);
    tables = NULL;
    add_str_or_null(o, "ui", c->ui_url);
    if ((text = cJSON_PrintUnformatted(o)) != NULL) {
        out->len = 0;
        st = sl__buf_append(out, text, strlen(text));
        cJSON_free(text);
    }
out:
    cJSON_Delete(tables);
    cJSON_Delete(o);
    return st;
}
