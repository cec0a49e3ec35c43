/*
 * What the record-format fuzz targets share: split the input on "\n"
 * (dropping a "\r" before it, as the sources do), parse each line, copied
 * into a buffer of its own size so that ASan sees any read past it, and
 * check what records.h promises; malformed lines go to a dead-letter file
 * on /dev/null so that its JSON escaping is fuzzed too. fuzz_typed reads
 * the same lines again into a fixed schema, once per parse mode.
 */
#ifndef SL_FUZZ_LINES_H
#define SL_FUZZ_LINES_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/records.h"
#include "core/schema.h"

/* The libFuzzer entry point each target defines; replay.c calls it. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Checks one record of line (the target's own promises). */
typedef void (*fuzz_check_fn)(const sl__rec_reader *r, const char *line,
                              size_t len, const sl_value *v);

static void fuzz_fail(const char *what)
{
    fprintf(stderr, "fuzz: broken promise: %s\n", what);
    abort();
}

/* One dead-letter file for the process, on /dev/null. */
static sl__dead_letters *fuzz_dead_letters(void)
{
    static sl__dead_letters *d;

    if (!d && sl__dead_letters_open("/dev/null", NULL, &d, NULL, 0) != SL_OK)
        fuzz_fail("cannot open /dev/null");
    return d;
}

/* A malformed line's dead letter, its reason checked. */
static void fuzz_dead_letter(const sl__rec_reader *r, const char *err,
                             const char *copy, size_t len)
{
    if (err[0] == '\0' || memchr(err, '\0', 256) == NULL)
        fuzz_fail("a malformed line without a reason");
    sl__dead_letter dl = {.batch = -1,
                          .source = "fuzz",
                          .reason = "malformed",
                          .error = err,
                          .text = copy,
                          .text_len = len,
                          .file = "fuzz",
                          .line = r->lines};
    if (sl__dead_letters_put(fuzz_dead_letters(), &dl) != SL_OK)
        fuzz_fail("dead letter not written");
}

/* Parse one line; count what happened in n[0..3] (ok, skipped, bad,
 * permissive rows that were malformed). */
static void fuzz_line(sl__rec_reader *r, sl__arena *a, const char *line,
                      size_t len, fuzz_check_fn check, int64_t n[4])
{
    char *copy = malloc(len ? len : 1), err[256] = "";
    sl_value v;
    sl_status st;

    if (!copy)
        fuzz_fail("out of memory");
    memcpy(copy, line, len);
    st = sl__rec_parse(r, copy, len, sl__rec_arena_alloc, a, &v, err,
                       sizeof err);
    if (st == SL_OK) {
        n[0]++;
        check(r, copy, len, &v);
        if (r->row_malformed) {
            n[3]++;
            if (r->mode != SL__PARSE_PERMISSIVE)
                fuzz_fail("a malformed row outside permissive mode");
            fuzz_dead_letter(r, err, copy, len);
        }
    } else if (st == SL_ENOTFOUND) {
        n[1]++;
    } else if (st == SL_EPARSE) {
        n[2]++;
        if (r->schema && r->fail != (r->mode == SL__PARSE_FAIL_FAST))
            fuzz_fail("fail_fast's flag");
        fuzz_dead_letter(r, err, copy, len);
    } else {
        fuzz_fail("unexpected status");
    }
    free(copy);
    sl__arena_reset(a);
}

/* Feed every line of [data, data + size) to a reader for options o. */
static void fuzz_lines(const sl__rec_options *o, const uint8_t *data,
                       size_t size, fuzz_check_fn check)
{
    const char *pos = (const char *)data, *end = pos + size, *line;
    int64_t n[4] = {0, 0, 0, 0};
    sl__rec_reader r;
    sl__arena a;
    size_t len;

    if (sl__rec_reader_init(&r, o, NULL, 0) != SL_OK)
        fuzz_fail("reader options refused");
    sl__arena_init(&a, 1024);
    while (sl__next_line(&pos, end, &line, &len))
        fuzz_line(&r, &a, line, len, check, n);
    if (r.records != n[0] || r.malformed != n[2] + n[3] ||
        r.lines != n[0] + n[1] + n[2])
        fuzz_fail("reader counters");
    sl__arena_free(&a);
    sl__rec_reader_free(&r);
}

/* v holds what type t allows (NULL, or its kind, recursively). */
static void fuzz_check_typed(const sl_type *t, const sl_value *v)
{
    static const uint32_t kinds[] = {
        [SL_TYPE_BOOLEAN] = SL_KIND_BOOL,  [SL_TYPE_LONG] = SL_KIND_INT,
        [SL_TYPE_DOUBLE] = SL_KIND_DOUBLE, [SL_TYPE_STRING] = SL_KIND_STR,
        [SL_TYPE_BINARY] = SL_KIND_BYTES,  [SL_TYPE_TIMESTAMP] = SL_KIND_INT,
        [SL_TYPE_ARRAY] = SL_KIND_LIST,    [SL_TYPE_STRUCT] = SL_KIND_TUPLE};
    uint32_t i;

    if (v->kind == SL_KIND_NULL)
        return;
    if (v->kind != kinds[t->id])
        fuzz_fail("a value of a kind its column type does not allow");
    if (t->id == SL_TYPE_ARRAY)
        for (i = 0; i < v->len; i++)
            fuzz_check_typed(t->element, &v->u.items[i]);
    if (t->id == SL_TYPE_STRUCT) {
        if (v->len != sl_schema_size(t->fields))
            fuzz_fail("a struct of the wrong field count");
        for (i = 0; i < v->len; i++)
            fuzz_check_typed(sl_schema_type(t->fields, i), &v->u.items[i]);
    }
}

/* The schema fuzz_typed reads with; set before its first call. */
static sl_schema *fuzz_schema;

static void fuzz_check_row(const sl__rec_reader *r, const char *line,
                           size_t len, const sl_value *v)
{
    sl_type t = {SL_TYPE_STRUCT, NULL, r->schema};
    sl__buf b = {0};

    SL__UNUSED(line);
    SL__UNUSED(len);
    if (v->kind != SL_KIND_TUPLE || v->len != sl_schema_size(r->schema))
        fuzz_fail("a row is a tuple of the schema's column count");
    fuzz_check_typed(&t, v);
    if (sl__json_put_row(&b, r->schema, v) != SL_OK)
        fuzz_fail("a row not written as JSON");
    sl__buf_free(&b);
}

/* The lines again as rows of the schema ddl, once in each parse mode. */
static void fuzz_typed(const sl__rec_options *base, const char *ddl,
                       const uint8_t *data, size_t size)
{
    sl__rec_options o = *base;
    int m;

    if (!fuzz_schema && sl_schema_parse(ddl, &fuzz_schema, NULL, 0) != SL_OK)
        fuzz_fail("fixed schema refused");
    o.schema = fuzz_schema;
    for (m = SL__PARSE_PERMISSIVE; m <= SL__PARSE_FAIL_FAST; m++) {
        o.mode = (sl__parse_mode)m;
        fuzz_lines(&o, data, size, fuzz_check_row);
    }
}

#endif /* SL_FUZZ_LINES_H */
