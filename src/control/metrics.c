/*
 * /metrics: the progress figures in Prometheus's text exposition format
 * (version 0.0.4), every sample labelled with the job's name. The names
 * and their meaning are listed in docs/ui.md; the figures are the ones
 * status shows (one source: the progress entries).
 */
#include "control/control_int.h"

#include <math.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

typedef struct out {
    sl__buf *b;
    sl_status st;
    const char *job; /* escaped */
} out;

static void put(out *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void put(out *o, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    int n;
    if (o->st)
        return;
    va_start(ap, fmt);
    n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof tmp)
        o->st = SL_EOVERFLOW; /* every line here is short: a bug */
    else
        o->st = sl__buf_append(o->b, tmp, (size_t)n);
}

/* A label value as the format wants it: \, " and newline escaped; long
 * names cut so that a line stays within put's buffer. */
static void escape_label(const char *s, char *dst, size_t n)
{
    size_t j = 0;
    for (; *s && j + 3 < n; s++) {
        if (*s == '\\' || *s == '"') {
            dst[j++] = '\\';
            dst[j++] = *s;
        } else if (*s == '\n') {
            dst[j++] = '\\';
            dst[j++] = 'n';
        } else {
            dst[j++] = *s;
        }
    }
    dst[j] = '\0';
}

static void head(out *o, const char *name, const char *type, const char *help)
{
    put(o, "# HELP sluice_%s %s\n# TYPE sluice_%s %s\n", name, help, name,
        type);
}

/* A sample's value: whole numbers exactly, others to 9 digits. */
static const char *num(double v, char *buf, size_t n)
{
    if (v == floor(v) && fabs(v) < 9007199254740992.0)
        snprintf(buf, n, "%.0f", v);
    else
        snprintf(buf, n, "%.9g", v);
    return buf;
}

/* One sample of a metric with only the job label. */
static void metric(out *o, const char *name, const char *type, const char *help,
                   double v)
{
    char n[40];
    head(o, name, type, help);
    put(o, "sluice_%s{job=\"%s\"} %s\n", name, o->job, num(v, n, sizeof n));
}

static void job_state(out *o, sl__phase now)
{
    static const sl__phase all[] = {SL__PHASE_STARTING, SL__PHASE_RUNNING,
                                    SL__PHASE_STOPPING, SL__PHASE_STOPPED,
                                    SL__PHASE_FAILED};
    head(o, "job_state", "gauge",
         "1 for the state the job is in (starting, running, stopping, "
         "stopped, failed), 0 for the others.");
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        put(o, "sluice_job_state{job=\"%s\",state=\"%s\"} %d\n", o->job,
            sl__phase_name(all[i]), all[i] == now);
}

static void per_source(out *o, const sl__ctl_figures *f)
{
    char name[160];
    size_t i;
    head(o, "source_input_rows_total", "counter",
         "Input rows a source gave to the batches of this run.");
    for (i = 0; i < f->nsources; i++) {
        escape_label(f->sources[i].name, name, sizeof name);
        put(o,
            "sluice_source_input_rows_total{job=\"%s\",source=\"%s\"} %lld\n",
            o->job, name, (long long)f->sources[i].rows_total);
    }
    head(o, "source_lag", "gauge",
         "Input available to a source but not yet in a batch, in the "
         "source's own unit (records, or files); absent when unknown.");
    for (i = 0; i < f->nsources; i++) {
        if (isnan(f->sources[i].lag))
            continue;
        char n[40];
        escape_label(f->sources[i].name, name, sizeof name);
        put(o, "sluice_source_lag{job=\"%s\",source=\"%s\"} %s\n", o->job, name,
            num(f->sources[i].lag, n, sizeof n));
    }
    head(o, "sink_output_rows_total", "counter",
         "Rows a sink wrote in the batches of this run.");
    for (i = 0; i < f->nsinks; i++) {
        escape_label(f->sinks[i].name, name, sizeof name);
        put(o, "sluice_sink_output_rows_total{job=\"%s\",sink=\"%s\"} %lld\n",
            o->job, name, (long long)f->sinks[i].rows_total);
    }
}

sl_status sl__control_metrics(sl__control *c, sl__buf *b)
{
    char job[160];
    out o = {b, SL_OK, job};
    const sl__ctl_figures *f = &c->fig;
    int64_t now = sl__now_wall_ms();

    escape_label(c->name, job, sizeof job);
    pthread_mutex_lock(&c->lock);
    job_state(&o, c->phase);
    metric(&o, "uptime_seconds", "gauge", "Seconds since the job started.",
           (double)((c->ended_ms ? c->ended_ms : now) - c->started_ms) /
               1000.0);
    metric(&o, "batch_interval_seconds", "gauge", "The batch interval.",
           (double)c->batch_interval_ms / 1000.0);
    metric(&o, "batches_total", "counter",
           "Batches completed in this run (progress entries).",
           (double)f->batches);
    metric(&o, "last_batch_id", "gauge", "The id of the last completed batch.",
           (double)f->last_batch);
    metric(&o, "input_rows_total", "counter",
           "Input rows of the completed batches of this run.",
           (double)f->input_rows_total);
    metric(&o, "processing_seconds_total", "counter",
           "Time spent running batches (sum of each batch's total duration).",
           f->processing_ms_total / 1000.0);
    metric(&o, "last_batch_duration_seconds", "gauge",
           "Total duration of the last batch.", f->last_total_ms / 1000.0);
    metric(&o, "input_rows_per_second", "gauge",
           "Input rate of the last batch (rows per second of batch time).",
           f->input_rows_per_s);
    metric(&o, "processed_rows_per_second", "gauge",
           "Processing rate of the last batch (rows per second of processing).",
           f->processed_rows_per_s);
    metric(&o, "scheduling_delay_seconds", "gauge",
           "How long the last batch waited before it started.",
           (double)f->scheduling_delay_ms / 1000.0);
    metric(&o, "queued_batches", "gauge",
           "Batches waiting to run when the last batch ended.",
           (double)f->queued_batches);
    metric(&o, "absorbed_ticks_total", "counter",
           "Batch times skipped because the job was behind.",
           (double)f->absorbed_ticks_total);
    metric(&o, "state_rows", "gauge",
           "Keys held in state after the last batch.", (double)f->state_rows);
    metric(&o, "state_bytes", "gauge",
           "Bytes held in state after the last batch.", (double)f->state_bytes);
    metric(&o, "late_rows_dropped_total", "counter",
           "Rows dropped as later than the watermark.",
           (double)f->dropped_late_total);
    metric(&o, "checkpoint_bytes_total", "counter",
           "Bytes written to the checkpoint in this run.",
           (double)f->checkpoint_bytes_total);
    metric(&o, "checkpoint_files_total", "counter",
           "Files written to the checkpoint in this run.",
           (double)f->checkpoint_files_total);
    per_source(&o, f);
    pthread_mutex_unlock(&c->lock);
    return o.st;
}
