/*
 * Records of a receiver's lines (receiver.format csv or json, or a
 * receiver.schema): the receive blocks of a batch become reader
 * partitions that parse their lines on the workers through the one
 * record-format module (core/records.h), never on the I/O thread, which
 * only cuts lines into blocks. Malformed records are counted (the
 * progress entry's malformed), set aside in the source's dead-letter file
 * and handled by the parse mode; fail_fast fails the batch naming the
 * source, the block and the line.
 */
#include "stream/stream_int.h"

#include <stdio.h>
#include <string.h>

/* A receiver's record options (what sl__receiver_set_records copied). */
struct sl__recv_records {
    sl__rec_options rec;
    sl_schema *schema;      /* rec.schema's reference, or NULL */
    sl__dead_letters *dead; /* borrowed from the source, or NULL */
    char *name;             /* dead letters' origin and messages */
    sl_context *ctx;        /* its log */
    atomic_llong malformed;
};

/* One partition: a run of consecutive sealed blocks (scope memory). */
typedef struct recv_part {
    const block *first;
    size_t nblocks;
} recv_part;

sl_status sl__receiver_set_records(sl_dstream *s, const sl__rec_options *o,
                                   sl__dead_letters *dead, const char *name,
                                   char *err, size_t errlen)
{
    sl__recv_records *rr;
    if (!s || !s->receiver || s->receiver->records)
        return sl__errbuf(err, errlen, SL_EINVAL, "not a receiver stream");
    if (sl__rec_options_check(o, err, errlen) != SL_OK)
        return SL_ECONF;
    if (o->format == SL__REC_LINES && !o->schema)
        return SL_OK; /* plain lines: the text partitions as before */
    if (!(rr = sl_malloc(sizeof *rr)))
        return sl__errbuf(err, errlen, SL_ENOMEM, "out of memory");
    memset(rr, 0, sizeof *rr);
    rr->rec = *o;
    rr->rec.columns = NULL; /* not kept: a socket has no given columns */
    rr->rec.ncolumns = 0;
    rr->schema = o->schema ? sl_schema_retain(o->schema) : NULL;
    rr->dead = dead;
    rr->ctx = s->ctx;
    if (!(rr->name = sl__strdup(name))) {
        sl__receiver_records_free(rr);
        return sl__errbuf(err, errlen, SL_ENOMEM, "out of memory");
    }
    s->receiver->records = rr;
    sl__dstream_set_schema(s, rr->schema, sl__parse_mode_name(o->mode));
    return SL_OK;
}

void sl__receiver_records_free(sl__recv_records *rr)
{
    if (!rr)
        return;
    sl_schema_release(rr->schema);
    sl_free(rr->name);
    sl_free(rr);
}

int64_t sl__receiver_records_malformed(const sl__recv_records *rr)
{
    return rr ? atomic_load(&rr->malformed) : 0;
}

/* A malformed line: counted, set aside, and with fail_fast the task's
 * failure naming where it was. */
static sl_status malformed(sl_task *t, sl__recv_records *rr,
                           const sl__rec_reader *r, const block *b,
                           int64_t line_no, const char *line, size_t len,
                           const char *why)
{
    long long n = atomic_fetch_add(&rr->malformed, 1) + 1;
    /* Logged at the first and every 1000th, so that bad input is never
     * silent (with no dead-letter file) yet cannot flood the log. */
    if (!r->fail && (n == 1 || n % 1000 == 0))
        sl_context_log(rr->ctx, SL_LOG_WARN,
                       "%s source: malformed record, %s: %s; %lld "
                       "malformed so far",
                       rr->name, sl__rec_malformed_fate(r), why, n);
    if (rr->dead) {
        sl__dead_letter d = {.batch = sl_task_batch_id(t),
                             .source = rr->name,
                             .reason = "malformed",
                             .error = why,
                             .text = line,
                             .text_len = len};
        sl__dead_letters_put(rr->dead, &d);
    }
    if (!r->fail)
        return SL_OK;
    return sl__task_fail(t, SL_EPARSE,
                         "%s source: malformed record at block %llu, line "
                         "%lld of the block (parse_mode fail_fast): %s",
                         rr->name, (unsigned long long)b->seq,
                         (long long)line_no, why);
}

/* The lines of one block: parsed in arena a, emitted as task copies. */
static sl_status read_block(sl_task *t, sl__recv_records *rr, sl__rec_reader *r,
                            const block *b, sl__arena *a)
{
    const char *pos = b->data, *end = b->data + b->len, *line;
    int64_t line_no = 0;
    char why[256];
    sl_value rec, out;
    size_t len;
    sl_status st;

    while (sl__next_line(&pos, end, &line, &len)) {
        line_no++;
        st = sl__rec_parse(r, line, len, sl__rec_arena_alloc, a, &rec, why,
                           sizeof why);
        if (st == SL_OK)
            st = sl__task_copy(t, &rec, &out);
        sl__arena_reset(a);
        if (st == SL_ENOTFOUND)
            continue; /* a blank line with a schema: no record */
        if ((st == SL_EPARSE || (st == SL_OK && r->row_malformed)) &&
            malformed(t, rr, r, b, line_no, line, len, why) != SL_OK)
            return SL_EPARSE;
        if (st == SL_EPARSE)
            continue;
        if (st != SL_OK || (st = sl_task_emit(t, &out)) != SL_OK)
            return st;
    }
    return SL_OK;
}

/* An sl_read_fn over a recv_part, on a worker. */
static sl_status read_part(sl_task *t, const void *desc, void *user)
{
    const recv_part *p = desc;
    sl__recv_records *rr = user;
    const block *b = p->first;
    sl__rec_reader r;
    sl__arena a;
    sl_status st = SL_OK;
    size_t i;
    char err[160] = "";

    if (sl__rec_reader_init(&r, &rr->rec, err, sizeof err) != SL_OK)
        return sl__task_fail(t, SL_ENOMEM, "%s source: %s", rr->name, err);
    sl__arena_init(&a, 16384);
    for (i = 0; i < p->nblocks && st == SL_OK; i++, b = b->next)
        st = read_block(t, rr, &r, b, &a);
    sl__arena_free(&a);
    sl__rec_reader_free(&r);
    return st;
}

sl_status sl__receiver_records_parts(const sl__recv_records *rr, block *list,
                                     sl__src_desc *parts, size_t nparts,
                                     size_t nblocks, sl_engine *eng)
{
    recv_part *rp = sl__engine_scope_alloc(eng, (nparts + 1) * sizeof *rp);
    block *b = list;
    size_t i, k = 0;
    if (!rp)
        return SL_ENOMEM;
    for (i = 0; i < nparts; i++) {
        size_t lo = i * nblocks / nparts, hi = (i + 1) * nblocks / nparts;
        for (; k < lo; k++)
            b = b->next;
        rp[i].first = b;
        rp[i].nblocks = hi - lo;
        memset(&parts[i], 0, sizeof parts[i]);
        parts[i].kind = SRC_READER;
        parts[i].read = read_part;
        parts[i].desc = &rp[i];
        parts[i].user = (void *)rr;
    }
    return SL_OK;
}
