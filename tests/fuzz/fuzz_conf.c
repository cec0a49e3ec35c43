/*
 * libFuzzer target for the conf parser (src/core/conf.c) and the duration
 * and size parsers (src/core/duration.c): the input is "KEY\0VALUE" (a
 * missing NUL: the whole input is the value of a key picked by its first
 * byte). Parsers never read past the text, a refused value leaves the conf
 * as it was, and a duration that parses formats and parses back to itself.
 */
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

static void check_duration(const char *text)
{
    int64_t ms, again, bytes;
    char buf[64];
    if (sl_duration_parse(text, &ms) == SL_OK && ms >= 0) {
        size_t n = sl_duration_format(ms, buf, sizeof buf);
        if (n >= sizeof buf)
            fuzz_fail("a duration formats in 64 bytes");
        if (sl_duration_parse(buf, &again) != SL_OK || again != ms)
            fuzz_fail("a formatted duration parses back to itself");
    }
    if (sl_size_parse(text, &bytes) == SL_OK && bytes < 0)
        fuzz_fail("a size is never negative");
}

/* The property whose value text is, when the input has no key. */
static const char *pick_key(const uint8_t *data, size_t size)
{
    size_t n = 0, i;
    while (sl_conf_property_at(n))
        n++;
    i = size ? data[0] % (n ? n : 1) : 0;
    return n ? sl_conf_property_at(i)->name : "batch_interval";
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size + 1), err[256] = "";
    const char *key, *value, *before;
    sl_conf *conf;
    char *saved = NULL;

    if (!buf)
        return 0;
    memcpy(buf, data, size);
    buf[size] = '\0'; /* exactly sized: ASan sees a read past it */
    if (memchr(buf, '\0', size)) {
        key = buf;
        value = buf + strlen(buf) + 1;
    } else {
        key = pick_key(data, size);
        value = buf;
    }
    check_duration(value);
    if ((conf = sl_conf_new()) != NULL) {
        before = sl_conf_get(conf, key);
        if (before && !(saved = strdup(before)))
            goto out;
        if (sl_conf_set(conf, key, value, err, sizeof err) != SL_OK && saved &&
            strcmp(saved, sl_conf_get(conf, key)) != 0)
            fuzz_fail("a refused value leaves the property as it was");
        if (memchr(err, '\0', sizeof err) == NULL)
            fuzz_fail("the error message is terminated");
    }
out:
    free(saved);
    sl_conf_free(conf);
    free(buf);
    return 0;
}
