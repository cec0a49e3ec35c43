/*
 * The leveled logger every layer logs through (style: nothing prints
 * except through the logger). A message goes to the sink set on the handle,
 * or as one "sluice: <level>: <msg>" line to stderr.
 */
#include <stdio.h>
#include <string.h>

#include "core/core.h"

/* Longest message passed to a sink, including its NUL; longer ones are cut. */
#define SL__LOG_MSG_MAX 1024
/* Room for "sluice: error: " and the newline around the message. */
#define SL__LOG_PREFIX_MAX 32

static const char *const sl__log_names[] = {"error", "warn", "info", "debug"};
#define SL__LOG_NLEVELS (sizeof sl__log_names / sizeof sl__log_names[0])

const char *sl_log_level_name(sl_log_level level)
{
    if ((unsigned)level >= SL__LOG_NLEVELS)
        return "unknown";
    return sl__log_names[level];
}

sl_status sl__log_level_parse(const char *s, sl_log_level *out)
{
    size_t i;

    for (i = 0; i < SL__LOG_NLEVELS; i++) {
        if (strcmp(s, sl__log_names[i]) == 0) {
            *out = (sl_log_level)i;
            return SL_OK;
        }
    }
    return SL_EPARSE;
}

/*
 * The stderr prefix is formatted in front of the message in the same
 * buffer, so that the message is formatted once, the sink gets a pointer
 * past the prefix, and stderr gets the whole line (newline included) in a
 * single fputs: stdio locks the stream per call, so lines logged by
 * different threads never interleave. Nothing is allocated, so logging an
 * out-of-memory condition cannot itself run out of memory.
 */
void sl__vlog(const sl__logger *lg, sl_log_level level, const char *fmt,
              va_list ap)
{
    char line[SL__LOG_PREFIX_MAX + SL__LOG_MSG_MAX + 1];
    char *msg;
    int off, n;
    size_t len;

    if (level > lg->level)
        return;
    off = snprintf(line, SL__LOG_PREFIX_MAX,
                   "sluice: %s: ", sl_log_level_name(level));
    msg = line + off;
    n = vsnprintf(msg, SL__LOG_MSG_MAX, fmt, ap);
    if (n < 0)
        n = snprintf(msg, SL__LOG_MSG_MAX, "(bad log format)");
    len = strlen(msg);
    if ((size_t)n >= SL__LOG_MSG_MAX)
        memcpy(msg + len - 3, "...", 3); /* show that it was cut */
    if (lg->fn) {
        lg->fn(level, msg, lg->user);
        return;
    }
    msg[len] = '\n';
    msg[len + 1] = '\0';
    fputs(line, stderr);
}

void sl__log(const sl__logger *lg, sl_log_level level, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    sl__vlog(lg, level, fmt, ap);
    va_end(ap);
}
