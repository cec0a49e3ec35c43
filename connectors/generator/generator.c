/*
 * The text generator source (sl_text_generator_stream): a planned source
 * whose batches are lines of Zipf-distributed words. Line i of batch b is
 * made from (seed, b, i) alone, so a worker reads any partition without
 * shared state and a batch is the same whatever its partitioning.
 */
#include <stdio.h>
#include <string.h>

#include <sluice/connectors.h>

#include "generator/plan_util.h"
#include "generator/zipf.h"

typedef struct gen_state {
    sl__zipf *zipf;
    uint64_t seed;
    int64_t lines;     /* per batch */
    size_t words;      /* per line */
    size_t partitions; /* per batch */
} gen_state;

/* What one partition reads: lines first .. first + count - 1 of a batch. */
typedef struct gen_desc {
    int64_t batch_id;
    int64_t first;
    int64_t count;
} gen_desc;

/* Worker side: make the partition's lines in task memory and emit them. */
static sl_status gen_read(sl_task *t, const void *desc, void *user)
{
    const gen_state *g = user;
    size_t cap = SL__ZIPF_LINE_MAX(g->words), len;
    gen_desc d;
    sl_value line;
    sl_status st;
    int64_t i;

    memcpy(&d, desc, sizeof d); /* the copy may not be aligned */
    for (i = 0; i < d.count; i++) {
        /* Task memory is rewound after each emit; the next line reuses it. */
        char *buf = sl_task_alloc(t, cap);
        if (!buf)
            return SL_ENOMEM;
        len = sl__zipf_gen_line(g->zipf, g->seed, (uint64_t)d.batch_id,
                                (uint64_t)(d.first + i), g->words, buf);
        line = sl_str(buf, len);
        st = sl_task_emit(t, &line);
        if (st != SL_OK)
            return st;
    }
    return SL_OK;
}

/* Job thread: split the batch's lines into contiguous ranges. */
static sl_status gen_plan_lines(void *state, int64_t batch_id, int64_t lines,
                                sl_plan *plan)
{
    const gen_state *g = state;
    int64_t per = lines / (int64_t)g->partitions;
    int64_t extra = lines % (int64_t)g->partitions;
    gen_desc d = {batch_id, 0, 0};
    char offsets[128];
    size_t p;
    sl_status st;

    for (p = 0; p < g->partitions; p++) {
        d.count = per + ((int64_t)p < extra);
        st = sl_plan_add_reader(plan, gen_read, &d, sizeof d, state);
        if (st != SL_OK)
            return st;
        d.first += d.count;
    }
    sl_plan_add_records(plan, lines);
    /* The seed as a signed number: the offsets reader reads int64. */
    snprintf(offsets, sizeof offsets,
             "{\"batch\":%lld,\"lines\":%lld,\"seed\":%lld}",
             (long long)batch_id, (long long)lines, (long long)g->seed);
    return sl_plan_set_offsets(plan, offsets);
}

static sl_status gen_plan(void *state, int64_t batch_id, int64_t time_ms,
                          sl_plan *plan)
{
    const gen_state *g = state;
    (void)time_ms;
    return gen_plan_lines(state, batch_id, g->lines, plan);
}

/*
 * Line i of batch b is made from (seed, b, i): the recorded line count
 * gives the same batch, and only a different seed (or vocabulary, words
 * per line, which the job's fingerprint covers) could not.
 */
static sl_status gen_replan(void *state, int64_t batch_id, int64_t time_ms,
                            const char *offsets_json, sl_plan *plan)
{
    const gen_state *g = state;
    int64_t b, lines, seed;
    (void)time_ms;
    if (!sl__plan_offset_int(offsets_json, "batch", &b) ||
        !sl__plan_offset_int(offsets_json, "lines", &lines) ||
        !sl__plan_offset_int(offsets_json, "seed", &seed) || b != batch_id ||
        lines < 0) {
        sl_plan_set_error(plan, "unreadable offsets '%.100s'", offsets_json);
        return SL_ECORRUPT;
    }
    if ((uint64_t)seed != g->seed) {
        sl_plan_set_error(plan,
                          "generator.seed is %lld, the batch was made with "
                          "%lld",
                          (long long)g->seed, (long long)seed);
        return SL_ECONF;
    }
    return gen_plan_lines(state, batch_id, lines, plan);
}

static void gen_free(void *state)
{
    gen_state *g = state;

    if (g) {
        sl__zipf_free(g->zipf);
        sl_free(g);
    }
}

/* Lag 0: each batch's lines are made when it is planned, a fixed count
 * per batch (generator.lines_per_batch) without an end; no line exists
 * before its batch, so none waits. */
static void gen_progress(void *state, sl_source_progress *out)
{
    (void)state;
    out->lag = 0;
}

static const sl_planned_ops gen_ops = {
    SL_PLANNED_OPS_VERSION,
    "generator",
    gen_plan,
    NULL,
    gen_free,
    gen_replan,
    NULL,
    gen_progress,
    NULL, /* its batches depend on the batch id alone: no log */
    NULL,
    NULL, /* no end: refuses the trigger available_now */
    NULL,
};

/* Read the generator.* options; conf validated their ranges already. */
static sl_status gen_configure(void *state, const sl_conf *conf,
                               sl_context *ctx)
{
    gen_state *g = state;
    int64_t words = 0, vocabulary = 0, seed = 0, partitions = 0;
    double s = 0.0;
    sl_status st;

    st = sl_conf_get_int(conf, "generator.lines_per_batch", &g->lines);
    if (st == SL_OK)
        st = sl_conf_get_int(conf, "generator.words_per_line", &words);
    if (st == SL_OK)
        st = sl_conf_get_int(conf, "generator.vocabulary", &vocabulary);
    if (st == SL_OK)
        st = sl_conf_get_int(conf, "generator.seed", &seed);
    if (st == SL_OK)
        st = sl_conf_get_int(conf, "generator.partitions", &partitions);
    if (st == SL_OK)
        st = sl__zipf_parse_exponent(sl_conf_get(conf, "generator.zipf_s"), &s);
    if (st != SL_OK)
        return st;
    g->words = (size_t)words;
    g->seed = (uint64_t)seed;
    g->partitions = sl__plan_partitions(partitions, ctx);
    return sl__zipf_new((uint64_t)vocabulary, s, &g->zipf);
}

sl_dstream *sl_text_generator_stream(sl_context *ctx, const sl_conf *conf)
{
    return sl__plan_source_stream(ctx, conf, &gen_ops, sizeof(gen_state),
                                  gen_configure, "text generator");
}
