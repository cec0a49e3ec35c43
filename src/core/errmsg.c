/*
 * Error messages: sl__err() keeps one on a handle's fixed buffer and
 * sl__errbuf() writes one into a caller's buffer (for constructors and
 * other calls without a handle yet). Neither allocates. sl__strerror is
 * the thread-safe strerror every thread of the engine uses.
 */
#include <stdio.h>
#include <string.h>

#include "core/core.h"

sl_status sl__err(sl__errmsg *e, sl_status st, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(e->text, sizeof e->text, fmt, ap);
    va_end(ap);
    e->code = st;
    return st;
}

/* A NULL buffer or a zero length means the caller does not want details. */
sl_status sl__errbuf(char *buf, size_t len, sl_status st, const char *fmt, ...)
{
    va_list ap;

    if (!buf || len == 0)
        return st;
    va_start(ap, fmt);
    vsnprintf(buf, len, fmt, ap);
    va_end(ap);
    return st;
}

/* GNU strerror_r (we build with _GNU_SOURCE) returns either buf or a
 * static, immutable string; both are safe to read from any thread. */
const char *sl__strerror(int err, char *buf, size_t n)
{
    const char *s = strerror_r(err, buf, n);

    return s ? s : "unknown error";
}
