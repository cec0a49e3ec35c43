/*
 * libFuzzer target for the CSV reader (src/core/records.c). The first
 * byte of the input chooses the options (its low 5 bits: 0x01 header,
 * 0x06 separator , ; tab |, 0x08 quote ' instead of ", 0x10 no quoting);
 * every line after it is parsed as a CSV row and checked, then again as
 * a typed row of a fixed schema in each parse mode.
 */
#include "fuzz_lines.h"

/* A row: a tuple of the reader's column count, of strings no longer
 * than the line, every byte readable. */
static void check_row(const sl__rec_reader *r, const char *line, size_t len,
                      const sl_value *v)
{
    const char *const *names;
    size_t ncols = sl__rec_columns(r, &names), i, sum = 0, j;

    SL__UNUSED(line);
    if (v->kind != SL_KIND_TUPLE || v->len != ncols || ncols == 0)
        fuzz_fail("a row is a tuple of the column count");
    for (i = 0; i < v->len; i++) {
        const sl_value *f = &v->u.items[i];
        if (f->kind != SL_KIND_STR || f->len > len || !f->u.s)
            fuzz_fail("a field is a string no longer than its line");
        for (j = 0; j < f->len; j++)
            sum += (unsigned char)f->u.s[j];
    }
    for (i = 0; names && i < ncols; i++)
        sum += strlen(names[i]);
    if (sum == (size_t)-1)
        fuzz_fail("unreachable"); /* keeps the reads */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char separators[] = {',', ';', '\t', '|'};
    sl__rec_options o;
    unsigned flags = size ? data[0] : 0;

    sl__rec_options_init(&o);
    o.format = SL__REC_CSV;
    o.header = flags & 0x01;
    o.separator = separators[(flags >> 1) & 3];
    o.quote = flags & 0x10 ? '\0' : flags & 0x08 ? '\'' : '"';
    if (size) {
        fuzz_lines(&o, data + 1, size - 1, check_row);
        fuzz_typed(&o,
                   "a long, b double, c boolean, d string, e timestamp, "
                   "_corrupt_record string",
                   data + 1, size - 1);
    }
    return 0;
}
