/*
 * The word count's per-record functions, shared by the benchmark programs
 * (bench_memcount, bench_socket) so both time the same pipeline:
 * flat_map(split_words) -> map(pair_one) -> reduce_by_key(sum).
 */
#ifndef SL_TOOLS_BENCH_WORDCOUNT_H
#define SL_TOOLS_BENCH_WORDCOUNT_H

#include <sluice/sluice.h>

/* Splits a line on blanks; the words are views into the line. */
static sl_status split_words(sl_task *t, const sl_value *line, void *user)
{
    const char *p = line->u.s, *end = p + line->len, *w;
    sl_value word;
    sl_status st;

    (void)user;
    while (p < end) {
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        w = p;
        while (p < end && *p != ' ' && *p != '\t')
            p++;
        if (p > w) {
            word = sl_str(w, (size_t)(p - w));
            st = sl_task_emit(t, &word);
            if (st != SL_OK)
                return st;
        }
    }
    return SL_OK;
}

static sl_status pair_one(sl_task *t, const sl_value *word, sl_value *out,
                          void *user)
{
    sl_value one = sl_int(1);

    (void)user;
    return sl_task_pair(t, word, &one, out);
}

static sl_status sum(sl_task *t, const sl_value *a, const sl_value *b,
                     sl_value *out, void *user)
{
    (void)t;
    (void)user;
    *out = sl_int(a->u.i + b->u.i);
    return SL_OK;
}

#endif /* SL_TOOLS_BENCH_WORDCOUNT_H */
