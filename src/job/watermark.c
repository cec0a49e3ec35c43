/*
 * A source's or stream's "watermark": {"column": NAME, "delay": DURATION}
 * (docs/job-file.md "Event time"), read at validation and declared with
 * sl_dstream_set_watermark once every stream is built (a source's view
 * schema, such as the rate source's, is known only then).
 */
#include "job/job_int.h"
#include "job/parse_int.h"

#include <string.h>

/* A duration >= 0 (Spark allows a watermark without delay: "0s"). */
static bool read_delay(sl_job *job, const cJSON *d, const char *path,
                       int64_t *ms)
{
    if (cJSON_IsString(d) && sl_duration_parse(d->valuestring, ms) == SL_OK &&
        *ms == 0)
        return true;
    return sl__job_read_duration(job, d, path, ms);
}

void sl__job_read_watermark(sl_job *job, const cJSON *owner,
                            const char *owner_path, job_wm *out)
{
    static const char *const fields[] = {"column", "delay", NULL};
    const cJSON *j = sl__job_field(job, owner, owner_path, "watermark", false);
    const cJSON *c, *d;
    const char *path;
    memset(out, 0, sizeof *out);
    if (!j)
        return;
    path = sl__job_path_field(job, owner_path, "watermark");
    if (!cJSON_IsObject(j)) {
        sl__job_wrong_type(job, j, path, "an object {\"column\", \"delay\"}");
        return;
    }
    sl__job_check_fields(job, j, path, fields);
    out->path = path;
    if ((c = sl__job_field(job, j, path, "column", true)))
        out->column = sl__job_read_string(
            job, c, sl__job_path_field(job, path, "column"));
    if ((d = sl__job_field(job, j, path, "delay", true)) &&
        read_delay(job, d, sl__job_path_field(job, path, "delay"),
                   &out->delay_ms))
        out->ok = out->column != NULL;
}

sl_status sl__job_apply_watermark(sl_job *job, sl_dstream *s, job_wm *w)
{
    if (!w || !w->ok || !s || w->applied)
        return SL_OK;
    w->applied = true;
    if (sl_dstream_set_watermark(s, w->column, w->delay_ms) != SL_OK)
        return sl__job_ctx_fail(job, w->path);
    return SL_OK;
}

job_wm *sl__job_input_watermark(sl_job *job, const char *name)
{
    job_source *src = sl__job_find_source(job, name);
    job_stream *s = src ? NULL : sl__job_find_stream(job, name);
    return src ? &src->wm : s ? &s->wm : NULL;
}
