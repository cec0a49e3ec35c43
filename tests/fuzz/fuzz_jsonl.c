/*
 * libFuzzer target for the JSON-lines reader (src/core/records.c): every
 * line of the input is parsed as one JSON value, and the record is
 * checked (kinds, depth, finite doubles, exact ints) and formatted; then
 * read again as a typed row of a fixed schema in each parse mode.
 */
#include <math.h>

#include "fuzz_lines.h"

/* v is a value the JSON reader may make, at most depth levels deep (an
 * object is a list of pairs: two value levels per JSON level). */
static size_t check_value(const sl_value *v, int depth)
{
    size_t sum = 0, i;

    if (depth > 2 * 64 + 1)
        fuzz_fail("record deeper than the nesting limit");
    switch (v->kind) {
    case SL_KIND_NULL:
    case SL_KIND_BOOL:
        return 1;
    case SL_KIND_INT:
        if (v->u.i >= (INT64_C(1) << 53) || v->u.i <= -(INT64_C(1) << 53))
            fuzz_fail("an int that a double cannot hold exactly");
        return 1;
    case SL_KIND_DOUBLE:
        if (!isfinite(v->u.d))
            fuzz_fail("a double that is not finite");
        return 1;
    case SL_KIND_STR:
        for (i = 0; i < v->len; i++)
            sum += (unsigned char)v->u.s[i];
        return sum;
    case SL_KIND_PAIR:
    case SL_KIND_LIST:
        if (v->kind == SL_KIND_PAIR && v->len != 2)
            fuzz_fail("a pair of other than 2 items");
        for (i = 0; i < v->len; i++)
            sum += check_value(&v->u.items[i], depth + 1);
        return sum;
    default:
        fuzz_fail("a kind JSON does not make");
        return 0;
    }
}

static void check_record(const sl__rec_reader *r, const char *line, size_t len,
                         const sl_value *v)
{
    size_t n;
    char *text;

    SL__UNUSED(r);
    SL__UNUSED(line);
    SL__UNUSED(len);
    check_value(v, 0);
    n = sl_value_format_json(v, NULL, 0);
    text = malloc(n + 1);
    if (!text)
        fuzz_fail("out of memory");
    if (sl_value_format_json(v, text, n + 1) != n || strlen(text) > n)
        fuzz_fail("format_json length");
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sl__rec_options o;

    sl__rec_options_init(&o);
    o.format = SL__REC_JSON;
    fuzz_lines(&o, data, size, check_record);
    fuzz_typed(&o,
               "a long, b double, c boolean, d string, e timestamp, f binary, "
               "g array<long>, h struct<x: double, y: array<string>>, "
               "_corrupt_record string",
               data, size);
    return 0;
}
