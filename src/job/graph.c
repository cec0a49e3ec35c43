/*
 * The second pass of job validation, over the graph of streams: cycles and
 * the build order (a walk with its own stack, never recursion: a job may
 * chain thousands of streams), slides of windows and two-stream operators,
 * the depth limit, and what kind of element each operator receives, so
 * that an operator needing pairs on a source that cannot give them is
 * refused by validate rather than failing at run time.
 */
#include "job/job_int.h"

#include <stdio.h>
#include <string.h>

/* --------------------------------------------------- cycles and order */

/* One stream on the walk's stack and its next reference: k == 0 is
 * "from", k >= 1 op k-1's "with" names, w the name within those. */
typedef struct frame {
    job_stream *s;
    size_t k, w;
} frame;

/* The next name s refers to from f's position (then moved past it); NULL
 * at the end. *k and *w say where the name was found. */
static const char *next_ref(frame *f, size_t *k, size_t *w)
{
    job_stream *s = f->s;
    while (f->k <= s->nops) {
        size_t nrefs =
            f->k == 0 ? (s->from ? 1 : 0)
                      : (s->ops[f->k - 1].def ? s->ops[f->k - 1].nwith : 0);
        if (f->w < nrefs) {
            *k = f->k;
            *w = f->w++;
            return f->k == 0 ? s->from : s->ops[f->k - 1].with[*w];
        }
        f->k++;
        f->w = 0;
    }
    return NULL;
}

static void report_cycle(sl_job *job, const frame *stack, size_t top,
                         const job_stream *r, size_t k, size_t w)
{
    const job_stream *s = stack[top - 1].s;
    char text[512] = "";
    size_t i, start = 0;
    const char *path;
    for (i = 0; i < top; i++)
        if (stack[i].s == r)
            start = i;
    for (i = start; i < top; i++) {
        snprintf(text + strlen(text), sizeof text - strlen(text), "%s -> ",
                 stack[i].s->name);
        stack[i].s->bad = true;
    }
    snprintf(text + strlen(text), sizeof text - strlen(text), "%s", r->name);
    path =
        k == 0 ? sl__job_path_field(job, s->path, "from")
        : s->ops[k - 1].with_is_array
            ? sl__job_path_index(
                  job, sl__job_path_field(job, s->ops[k - 1].path, "with"), w)
            : sl__job_path_field(job, s->ops[k - 1].path, "with");
    sl__job_problem(job, s->json, path, "cycle between streams: %s", text);
}

/* Depth-first from root: report cycles, list streams after what they read.
 * stack has room for every stream (each is on it at most once). */
static void visit(sl_job *job, job_stream *root, frame *stack)
{
    size_t top = 1, k, w;
    stack[0] = (frame){root, 0, 0};
    root->mark = 1;
    while (top) {
        frame *f = &stack[top - 1];
        const char *name = next_ref(f, &k, &w);
        job_stream *r;
        if (!name) {
            f->s->mark = 2;
            job->order[job->norder++] = f->s;
            top--;
            continue;
        }
        if (!(r = sl__job_find_stream(job, name)))
            continue;
        if (r->mark == 1) {
            report_cycle(job, stack, top, r, k, w);
        } else if (r->mark == 0) {
            r->mark = 1;
            stack[top++] = (frame){r, 0, 0};
        }
    }
}

/* ------------------------------------------------------------- slides */

/* The slide of a stream or source called name; 0 while unknown. */
static int64_t slide_of(sl_job *job, const char *name)
{
    job_stream *s = sl__job_find_stream(job, name);
    job_source *src;
    if (s)
        return s->bad ? 0 : s->slide;
    src = sl__job_find_source(job, name);
    return src && src->def ? job->interval_ms : 0;
}

static void check_snapshots(sl_job *job, job_stream *s, size_t k)
{
    const job_op *prev = k ? &s->ops[k - 1] : NULL;
    if (!prev) {
        job_stream *parent = s->from ? sl__job_find_stream(job, s->from) : NULL;
        prev = parent && parent->nops ? &parent->ops[parent->nops - 1] : NULL;
    }
    if (!prev || !prev->def || strcmp(prev->def->name, "map_with_state") != 0) {
        sl__job_problem(job, s->json,
                        sl__job_path_field(job, s->ops[k].path, "op"),
                        "state_snapshots must follow map_with_state");
        s->bad = true;
    }
}

/* A window's length and slide against the slide before it; false when
 * refused (the slide after it is then unknown). */
static bool check_window(sl_job *job, job_stream *s, job_op *op, int64_t cur)
{
    bool ok = true;
    if (op->window_ms % cur) {
        sl__job_problem(
            job, s->json, sl__job_path_field(job, op->path, "window"),
            "%s is not a multiple of the parent stream's "
            "slide (%s)",
            sl__job_fmt_ms(job, op->window_ms), sl__job_fmt_ms(job, cur));
        ok = false;
    }
    if (op->slide_ms && op->slide_ms % cur) {
        sl__job_problem(
            job, s->json, sl__job_path_field(job, op->path, "slide"),
            "%s is not a multiple of the parent stream's "
            "slide (%s)",
            sl__job_fmt_ms(job, op->slide_ms), sl__job_fmt_ms(job, cur));
        ok = false;
    }
    s->bad |= !ok;
    return ok;
}

static void check_with_slides(sl_job *job, job_stream *s, job_op *op,
                              int64_t cur)
{
    size_t w;
    for (w = 0; w < op->nwith; w++) {
        int64_t other = op->with[w] ? slide_of(job, op->with[w]) : 0;
        if (other && other != cur) {
            const char *with = sl__job_path_field(job, op->path, "with");
            sl__job_problem(job, s->json,
                            op->with_is_array ? sl__job_path_index(job, with, w)
                                              : with,
                            "stream \"%s\" has slide %s, this stream has %s; "
                            "they must be equal",
                            op->with[w], sl__job_fmt_ms(job, other),
                            sl__job_fmt_ms(job, cur));
            s->bad = true;
        }
    }
}

/*
 * Follow a stream's slide through its ops: windows must fit the slide
 * before them, two-stream operators need equal slides. A slide that is
 * unknown (0: a problem upstream) skips the checks that need it.
 */
static void check_slides(sl_job *job, job_stream *s)
{
    int64_t cur = s->from && job->interval_ms ? slide_of(job, s->from) : 0;
    bool known = cur != 0;
    size_t k;

    for (k = 0; k < s->nops; k++) {
        job_op *op = &s->ops[k];
        if (!op->def) {
            known = false;
            continue;
        }
        if (strcmp(op->def->name, "state_snapshots") == 0)
            check_snapshots(job, s, k);
        if (!known)
            continue;
        if (sl__job_op_is_window(op->def)) {
            /* A window that was refused leaves the slide unknown. */
            if (!op->window_ms || !check_window(job, s, op, cur)) {
                known = false;
                continue;
            }
            if (op->slide_ms)
                cur = op->slide_ms;
        }
        check_with_slides(job, s, op, cur);
    }
    if (known && !s->bad)
        s->slide = cur;
    else
        s->bad = true;
}

/* -------------------------------------------------------------- depth */

/* Operators on the longest path to the stream or source called name. */
static size_t depth_of(sl_job *job, const char *name)
{
    job_stream *s = name ? sl__job_find_stream(job, name) : NULL;
    return s ? s->depth : 0;
}

/*
 * Count the operators on the longest path through s (its inputs are done:
 * the order puts them first), and report the op where it first passes
 * JOB_MAX_DEPTH; a stream over one that passed it is not reported again.
 */
static void check_depth(sl_job *job, job_stream *s)
{
    size_t d = depth_of(job, s->from), k, w;
    bool over = d > JOB_MAX_DEPTH;
    for (k = 0; k < s->nops; k++) {
        job_op *op = &s->ops[k];
        for (w = 0; w < op->nwith; w++)
            if (depth_of(job, op->with[w]) > d)
                d = depth_of(job, op->with[w]);
        over |= d > JOB_MAX_DEPTH;
        if (++d > JOB_MAX_DEPTH && !over) {
            sl__job_problem(job, s->json, op->path,
                            "%zu operators deep from a source (through "
                            "\"from\" and \"with\"), more than the limit of "
                            "%d",
                            d, JOB_MAX_DEPTH);
            over = true;
            s->bad = true;
        }
    }
    s->depth = d;
}

/* ------------------------------------------------------------- walk */

void sl__job_walk_graph(sl_job *job, const cJSON *streams_json)
{
    frame *stack;
    const cJSON *j = streams_json ? streams_json->child : NULL;
    size_t i;
    if (!job->nstreams)
        return;
    for (i = 0; i < job->nstreams; i++, j = j ? j->next : NULL)
        job->streams[i].json = j;
    job->order = sl__job_alloc(job, job->nstreams * sizeof *job->order);
    stack = sl__job_alloc(job, job->nstreams * sizeof *stack);
    if (!job->order || !stack)
        return;
    for (i = 0; i < job->nstreams; i++)
        if (job->streams[i].mark == 0 && job->streams[i].name)
            visit(job, &job->streams[i], stack);
    for (i = 0; i < job->norder; i++) {
        check_slides(job, job->order[i]);
        check_depth(job, job->order[i]);
        sl__job_check_kinds(job, job->order[i]);
    }
}
