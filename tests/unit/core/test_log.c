/*
 * Unit tests of src/core/log.c: level names and parsing, level filtering
 * into a custom sink, truncation of long messages, and the default stderr
 * sink writing whole lines even from several threads at once.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sluice/core.h>

#include "core/core.h"
#include "sl_test.h"

/* What the test sink saw. */
typedef struct captured {
    int count;
    sl_log_level levels[8];
    char last[2048];
} captured;

static void capture_fn(sl_log_level level, const char *msg, void *user)
{
    captured *c = user;

    if (c->count < 8)
        c->levels[c->count] = level;
    c->count++;
    snprintf(c->last, sizeof c->last, "%s", msg);
}

static void test_level_names(void)
{
    sl_log_level lv = SL_LOG_ERROR;

    SL_CHECK_STR(sl_log_level_name(SL_LOG_ERROR), "error");
    SL_CHECK_STR(sl_log_level_name(SL_LOG_WARN), "warn");
    SL_CHECK_STR(sl_log_level_name(SL_LOG_INFO), "info");
    SL_CHECK_STR(sl_log_level_name(SL_LOG_DEBUG), "debug");
    SL_CHECK_STR(sl_log_level_name((sl_log_level)42), "unknown");
    SL_CHECK_OK(sl__log_level_parse("debug", &lv));
    SL_CHECK_INT(lv, SL_LOG_DEBUG);
    SL_CHECK_OK(sl__log_level_parse("warn", &lv));
    SL_CHECK_INT(lv, SL_LOG_WARN);
    SL_CHECK_OK(sl__log_level_parse("error", &lv));
    SL_CHECK_INT(lv, SL_LOG_ERROR);
    SL_CHECK_OK(sl__log_level_parse("info", &lv));
    SL_CHECK_INT(lv, SL_LOG_INFO);
    SL_CHECK_INT(sl__log_level_parse("INFO", &lv), SL_EPARSE);
    SL_CHECK_INT(sl__log_level_parse("warning", &lv), SL_EPARSE);
    SL_CHECK_INT(sl__log_level_parse("", &lv), SL_EPARSE);
    SL_CHECK_INT(lv, SL_LOG_INFO);
}

static void test_sink_filters_levels(void)
{
    captured c;
    sl__logger lg = {capture_fn, &c, SL_LOG_WARN};

    memset(&c, 0, sizeof c);
    sl__log(&lg, SL_LOG_DEBUG, "debug %d", 1);
    sl__log(&lg, SL_LOG_INFO, "info %d", 2);
    SL_CHECK_INT(c.count, 0);
    sl__log(&lg, SL_LOG_WARN, "warn %d", 3);
    SL_CHECK_INT(c.count, 1);
    SL_CHECK_STR(c.last, "warn 3");
    sl__log(&lg, SL_LOG_ERROR, "error %s", "four");
    SL_CHECK_INT(c.count, 2);
    SL_CHECK_STR(c.last, "error four");
    SL_CHECK_INT(c.levels[0], SL_LOG_WARN);
    SL_CHECK_INT(c.levels[1], SL_LOG_ERROR);

    lg.level = SL_LOG_DEBUG;
    sl__log(&lg, SL_LOG_DEBUG, "now %s", "visible");
    SL_CHECK_INT(c.count, 3);
    SL_CHECK_STR(c.last, "now visible");
    SL_CHECK_INT(c.levels[2], SL_LOG_DEBUG);

    lg.level = SL_LOG_ERROR;
    sl__log(&lg, SL_LOG_WARN, "hidden");
    SL_CHECK_INT(c.count, 3);
}

static void test_long_message_truncated(void)
{
    static char big[5001];
    captured c;
    sl__logger lg = {capture_fn, &c, SL_LOG_INFO};
    size_t n;

    memset(&c, 0, sizeof c);
    memset(big, 'a', 5000);
    big[5000] = '\0';
    sl__log(&lg, SL_LOG_INFO, "%s", big);
    SL_CHECK_INT(c.count, 1);
    n = strlen(c.last);
    SL_CHECK(n > 0 && n < 1024);
    SL_CHECK(strncmp(c.last, big, n - 3) == 0);
    SL_CHECK_STR(c.last + n - 3, "...");
    /* Exactly 1023 characters still fit and are not marked. */
    big[1023] = '\0';
    sl__log(&lg, SL_LOG_INFO, "%s", big);
    SL_CHECK_STR(c.last, big);
}

/* Run fn with stderr sent to a temporary file; return what it wrote. */
static size_t with_stderr_captured(void (*fn)(void), char *out, size_t cap)
{
    FILE *tmp = tmpfile();
    int saved;
    size_t n;

    if (!tmp)
        return 0;
    fflush(stderr);
    saved = dup(2);
    dup2(fileno(tmp), 2);
    fn();
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    rewind(tmp);
    n = fread(out, 1, cap - 1, tmp);
    out[n] = '\0';
    fclose(tmp);
    return n;
}

static void log_two_to_stderr(void)
{
    sl__logger lg = {NULL, NULL, SL_LOG_INFO};

    sl__log(&lg, SL_LOG_WARN, "hello %d", 42);
    sl__log(&lg, SL_LOG_DEBUG, "not shown");
    sl__log(&lg, SL_LOG_INFO, "%s", "second");
}

static void test_default_sink_stderr(void)
{
    char buf[256];

    with_stderr_captured(log_two_to_stderr, buf, sizeof buf);
    SL_CHECK_STR(buf, "sluice: warn: hello 42\nsluice: info: second\n");
}

#define NTHREADS 4
#define NLINES 200
#define LINE_CHARS 900

static void *log_lines(void *arg)
{
    sl__logger lg = {NULL, NULL, SL_LOG_INFO};
    char body[LINE_CHARS + 1];
    int i;

    memset(body, 'a' + (int)(size_t)arg, LINE_CHARS);
    body[LINE_CHARS] = '\0';
    for (i = 0; i < NLINES; i++)
        sl__log(&lg, SL_LOG_INFO, "%s", body);
    return NULL;
}

static void log_from_threads(void)
{
    pthread_t t[NTHREADS];
    size_t i;

    for (i = 0; i < NTHREADS; i++)
        pthread_create(&t[i], NULL, log_lines, (void *)i);
    for (i = 0; i < NTHREADS; i++)
        pthread_join(t[i], NULL);
}

/* Every line is one thread's whole line: no line mixes two threads. */
static void test_stderr_lines_whole(void)
{
    static char buf[NTHREADS * NLINES * (LINE_CHARS + 20) + 1];
    const char *p = buf, *end;
    int lines = 0, bad = 0;

    end = buf + with_stderr_captured(log_from_threads, buf, sizeof buf);
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        size_t pre = strlen("sluice: info: ");
        if (len != pre + LINE_CHARS || strncmp(p, "sluice: info: ", pre) != 0 ||
            strspn(p + pre, (char[]){p[pre], '\0'}) != LINE_CHARS)
            bad++;
        lines++;
        p += len + 1;
    }
    SL_CHECK_INT(lines, NTHREADS * NLINES);
    SL_CHECK_INT(bad, 0);
}

const char *SL_SUITE = "core/log";
const sl_test_case SL_TESTS[] = {
    {"level_names", test_level_names},
    {"sink_filters_levels", test_sink_filters_levels},
    {"long_message_truncated", test_long_message_truncated},
    {"default_sink_stderr", test_default_sink_stderr},
    {"stderr_lines_whole", test_stderr_lines_whole},
    {NULL, NULL},
};
