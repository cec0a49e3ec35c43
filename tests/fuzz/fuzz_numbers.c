/*
 * libFuzzer target for the number parsers of functions.h (src/rdd/
 * functions.c): the input is the text, in a buffer of exactly its size (no
 * NUL after it, so ASan sees a read past the view). strtoll and strtod on
 * a NUL-terminated copy are the oracle for what decimal text means.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sluice/sluice.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_fail(const char *what)
{
    fprintf(stderr, "fuzz: broken promise: %s\n", what);
    abort();
}

/* Only the syntax the parsers promise to accept: sign, digits, '.', e. */
static int decimal_only(const char *s, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (!memchr("0123456789+-.eE", s[i], 15))
            return 0;
    return n > 0;
}

static void check_int(const char *view, const char *cstr, size_t n)
{
    int64_t got = 0;
    sl_status st = sl_parse_int64(view, n, &got);
    char *end;
    long long want;
    int exact;
    errno = 0;
    want = strtoll(cstr, &end, 10);
    exact = decimal_only(cstr, n) && end == cstr + n &&
            strchr("+-0123456789", cstr[0]);
    if (st == SL_OK && (!exact || errno || want != got))
        fuzz_fail("sl_parse_int64 accepts only what strtoll reads whole");
    if (exact && !errno && st != SL_OK)
        fuzz_fail("sl_parse_int64 reads what strtoll reads whole");
    if (exact && errno == ERANGE && st != SL_ERANGE)
        fuzz_fail("sl_parse_int64 says SL_ERANGE where strtoll does");
}

static void check_double(const char *view, const char *cstr, size_t n)
{
    double got = 0, want;
    sl_value v;
    sl_status st = sl_parse_double(view, n, &got);
    char *end;
    errno = 0;
    want = strtod(cstr, &end);
    if (st == SL_OK && (!decimal_only(cstr, n) || end != cstr + n ||
                        !isfinite(got) || got != want))
        fuzz_fail("sl_parse_double accepts only finite decimal text whole");
    if (st != SL_OK && decimal_only(cstr, n) && end == cstr + n &&
        isfinite(want) && !(errno == ERANGE && fabs(want) >= 1.0))
        fuzz_fail("sl_parse_double reads finite text strtod reads whole");
    if (st == SL_OK && sl_parse_number(view, n, &v) != SL_OK)
        fuzz_fail("text that is a double is a number");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *view, *cstr;
    if (size > 4096)
        return 0;
    view = malloc(size ? size : 1);
    cstr = malloc(size + 1);
    if (!view || !cstr)
        goto out;
    memcpy(view, data, size);
    memcpy(cstr, data, size);
    cstr[size] = '\0';
    /* Text with a NUL inside is never a number; the oracle would stop at
     * the NUL, so it is checked apart. */
    if (memchr(cstr, '\0', size)) {
        int64_t i;
        double d;
        if (sl_parse_int64(view, size, &i) == SL_OK ||
            sl_parse_double(view, size, &d) == SL_OK)
            fuzz_fail("text with a NUL is no number");
        goto out;
    }
    check_int(view, cstr, size);
    check_double(view, cstr, size);
out:
    free(view);
    free(cstr);
    return 0;
}
