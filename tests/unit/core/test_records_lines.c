/*
 * The streamed line splitter of src/core/records.c (sl__lines_*): random
 * texts fed in random chunks give exactly the lines sl__next_line cuts from
 * the whole text (CRLF split across chunks, empty lines, a last line
 * without newline), over-long lines reported once each at their offset
 * with their length and first 1 KiB,
 * a split's first part line skipped, and a buffer that never grows past
 * max + 2 + chunk whatever the line length.
 */
#include <stdlib.h>
#include <string.h>

#include "core/records.h"
#include "sl_test.h"

/* One line as the reference cuts it: its offset, OK or LONG, its text. */
typedef struct ref_line {
    size_t at, len;
    const char *p;
    bool long_;
} ref_line;

static size_t reference(const char *text, size_t n, size_t max, ref_line *out)
{
    const char *pos = text, *line;
    size_t len, k = 0;
    while (sl__next_line(&pos, text + n, &line, &len)) {
        out[k].at = (size_t)(line - text);
        out[k].len = len;
        out[k].p = line;
        out[k++].long_ = len > max;
    }
    return k;
}

/* A random text of about n bytes: short, empty and long lines, "\r\n",
 * lone "\r", maybe no newline at the end. */
static size_t random_text(char *buf, size_t n, size_t max, unsigned *seed)
{
    size_t len = 0, k, i;
    while (len + 3 * max + 4 < n) {
        *seed = *seed * 1103515245u + 12345u;
        k = (*seed >> 16) % 8 == 0   ? max - 1 + (*seed >> 8) % 4
            : (*seed >> 16) % 8 == 1 ? max + (*seed >> 4) % (2 * max)
                                     : (*seed >> 4) % (max / 2 + 1);
        for (i = 0; i < k; i++)
            buf[len++] = (char)('a' + (i + *seed) % 26);
        if ((*seed >> 20) % 5 == 0)
            buf[len++] = '\r';
        if ((*seed >> 24) % 7 != 0 || len + 3 * max + 8 < n)
            buf[len++] = '\n';
    }
    return len;
}

/* Feed text in random chunks of 1..chunk bytes; compare with ref. */
static void feed_and_compare(const char *text, size_t n, size_t max,
                             size_t chunk, const ref_line *ref, size_t nref,
                             unsigned seed)
{
    sl__line_splitter s;
    size_t fed = 0, k = 0, room, len = 0, step, ref_len;
    const char *line = NULL;
    bool eof = false;
    char *space;

    sl__lines_init(&s, max, chunk);
    for (;;) {
        sl__line_result r = sl__lines_next(&s, eof, &line, &len);
        if (r == SL__LINE_MORE) {
            if (eof)
                break;
            SL_CHECK((space = sl__lines_space(&s, &room)) != NULL);
            SL_CHECK(room >= 1 && s.cap <= max + 2 + chunk);
            seed = seed * 1103515245u + 12345u;
            step = 1 + (seed >> 16) % chunk;
            step = step < room ? step : room;
            step = step < n - fed ? step : n - fed;
            memcpy(space, text + fed, step);
            sl__lines_added(&s, step);
            fed += step;
            eof = step == 0;
            continue;
        }
        if (k >= nref) {
            SL_CHECK_INT(k, nref - 1); /* more lines than the reference */
            break;
        }
        SL_CHECK_INT(sl__lines_line_at(&s), ref[k].at);
        SL_CHECK_INT(r == SL__LINE_LONG, ref[k].long_);
        if (r == SL__LINE_LONG) { /* its length and first 1 KiB */
            SL_CHECK_INT(sl__lines_long_len(&s), ref[k].len);
            ref_len =
                ref[k].len < SL__DEAD_TEXT_MAX ? ref[k].len : SL__DEAD_TEXT_MAX;
        } else {
            ref_len = ref[k].len;
        }
        if (r == SL__LINE_LONG || !ref[k].long_) {
            SL_CHECK_INT(len, ref_len);
            if (len == ref_len && memcmp(line, ref[k].p, len) != 0)
                SL_CHECK(!"line text differs");
        }
        k++;
    }
    SL_CHECK_INT(k, nref);
    sl__lines_free(&s);
}

static void test_random_chunks(void)
{
    static const size_t maxes[] = {1, 2, 3, 7, 64, 1000, 1500};
    static const size_t chunks[] = {1, 2, 5, 64, 4096};
    size_t n = 200000, i, j, len, nref;
    char *text = malloc(n);
    ref_line *ref = malloc(n * sizeof *ref);
    unsigned seed = 1;
    for (i = 0; i < sizeof maxes / sizeof maxes[0]; i++)
        for (j = 0; j < sizeof chunks / sizeof chunks[0]; j++) {
            size_t size = maxes[i] * 300 + 2000;
            len = random_text(text, size < n ? size : n, maxes[i], &seed);
            nref = reference(text, len, maxes[i], ref);
            feed_and_compare(text, len, maxes[i], chunks[j], ref, nref,
                             seed + (unsigned)j);
        }
    free(ref);
    free(text);
}

/* Cases at the limit, fed one byte at a time and whole. */
static void test_edges(void)
{
    static const struct {
        const char *text;
        size_t max;
    } cases[] = {
        {"abc\r\n", 3},  /* max bytes and CRLF: fits */
        {"abcd\r\n", 3}, /* max + 1 bytes: long */
        {"abc\r", 3},    /* last line, its "\r" dropped: fits */
        {"abcde\n", 3},  /* long, then nothing */
        {"abcdefgh\nxy", 3},
        {"\n\n\r\n", 1}, /* empty lines */
        {"", 4},
        {"a\r\rb\n", 4}, /* a lone "\r" stays */
    };
    ref_line ref[16];
    size_t i, n, nref;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        n = strlen(cases[i].text);
        nref = reference(cases[i].text, n, cases[i].max, ref);
        feed_and_compare(cases[i].text, n, cases[i].max, 1, ref, nref, 3);
        feed_and_compare(cases[i].text, n, cases[i].max, 64, ref, nref, 3);
    }
}

/* A 4 MB line with max 100: reported once, never buffered. */
static void test_long_line_bounded(void)
{
    sl__line_splitter s;
    size_t room, i, longs = 0, oks = 0, len;
    const char *line;
    char *space;
    sl__line_result r;

    sl__lines_init(&s, 100, 512);
    for (i = 0; i <= 8192; i++) {
        SL_CHECK((space = sl__lines_space(&s, &room)) != NULL);
        room = room < 512 ? room : 512;
        memset(space, 'x', room);
        if (i == 8192)
            memcpy(space + room - 4, "\nok\n", 4);
        sl__lines_added(&s, room);
        while ((r = sl__lines_next(&s, false, &line, &len)) != SL__LINE_MORE) {
            longs += r == SL__LINE_LONG;
            oks += r == SL__LINE_OK && len == 2 && !memcmp(line, "ok", 2);
        }
        SL_CHECK(s.cap <= 100 + 2 + 512);
    }
    SL_CHECK_INT(longs, 1);
    SL_CHECK_INT(oks, 1);
    SL_CHECK_INT(sl__lines_line_at(&s), 8193 * 512 - 3);
    sl__lines_free(&s);
}

/* A split's first part line is skipped unreported; offsets count from
 * the stream's start. */
static void test_skip_first(void)
{
    static const char text[] = "tail of before\nfirst\nsecond";
    sl__line_splitter s;
    size_t room, len;
    const char *line;
    char *space;

    sl__lines_init(&s, 100, 8);
    sl__lines_skip_first(&s);
    SL_CHECK_INT(sl__lines_pending_at(&s), -1);
    SL_CHECK((space = sl__lines_space(&s, &room)) != NULL);
    memcpy(space, text, sizeof text - 1);
    sl__lines_added(&s, sizeof text - 1);
    SL_CHECK_INT(sl__lines_next(&s, false, &line, &len), SL__LINE_OK);
    SL_CHECK_INT(len, 5);
    SL_CHECK_INT(sl__lines_line_at(&s), 15);
    SL_CHECK_INT(sl__lines_pending_at(&s), 21);
    SL_CHECK_INT(sl__lines_next(&s, false, &line, &len), SL__LINE_MORE);
    SL_CHECK_INT(sl__lines_next(&s, true, &line, &len), SL__LINE_OK);
    SL_CHECK_INT(len, 6);
    SL_CHECK_INT(sl__lines_next(&s, true, &line, &len), SL__LINE_MORE);
    sl__lines_free(&s);
}

const char *SL_SUITE = "core/records_lines";
const sl_test_case SL_TESTS[] = {{"random_chunks", test_random_chunks},
                                 {"edges", test_edges},
                                 {"long_line_bounded", test_long_line_bounded},
                                 {"skip_first", test_skip_first},
                                 {NULL, NULL}};
