/*
 * Small platform helpers for the layers above: the monotonic clock the
 * scheduler measures with, the wall clock batch times are stamped with, and
 * the CPU count that "workers = 0" stands for.
 */
#include <time.h>
#include <unistd.h>

#include "core/core.h"

static int64_t sl__clock_ms(clockid_t id)
{
    struct timespec ts;

    /* Cannot fail for these clock ids on any supported system. */
    if (clock_gettime(id, &ts) != 0)
        return 0;
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t sl__now_mono_ms(void)
{
    return sl__clock_ms(CLOCK_MONOTONIC);
}

int64_t sl__now_wall_ms(void)
{
    return sl__clock_ms(CLOCK_REALTIME);
}

size_t sl__cpu_count(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);

    /* sysconf reports -1 when it cannot tell; one worker still works. */
    return n < 1 ? 1 : (size_t)n;
}

bool sl__rate_due(int64_t *last, int64_t every_ms)
{
    int64_t now = sl__now_mono_ms();
    if (*last && now - *last < every_ms)
        return false;
    *last = now ? now : 1;
    return true;
}
