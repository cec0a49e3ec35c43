/*
 * Memory per live key of the keyed state store: inserts N keys (default
 * 1,000,000) over several versions and prints the resident memory they
 * added, per key, beyond the bytes of the keys and values themselves
 * (issue target: at most 64 bytes). Two runs: int keys and values, and
 * 12-byte string keys with int values.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "state/store.h"

static long rss_kib(void)
{
    char line[256];
    long kib = -1;
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "VmRSS:", 6) == 0)
            kib = strtol(line + 6, NULL, 10);
    fclose(f);
    return kib;
}

/* Fill a store with n keys in 10 versions; own = the keys' and values'
 * own bytes (string bytes; an int's 8 bytes each). */
static void run(const char *what, size_t n, bool strings)
{
    sl__state_store *st = sl__state_new(16);
    long before = rss_kib(), after;
    size_t i, own = 0;
    char buf[32];

    for (i = 0; i < n; i++) {
        sl_value key = sl_int((int64_t)i), val = sl_int((int64_t)i * 3);
        if (i % (n / 10) == 0) {
            if (i)
                sl__state_commit(st);
            sl__state_begin(st, (int64_t)(i / (n / 10)) + 1);
        }
        if (strings) {
            snprintf(buf, sizeof buf, "key-%08zu", i % 100000000);
            key = sl_str(buf, 12);
            own += 12 + 8;
        } else {
            own += 16;
        }
        if (sl__state_put(st, &key, sl__htab_hash(&key), &val, 1) != SL_OK) {
            fprintf(stderr, "out of memory at key %zu\n", i);
            exit(1);
        }
    }
    sl__state_commit(st);
    after = rss_kib();
    printf("%-22s keys=%zu count=%zu rss_added=%.1f MiB "
           "bytes_per_key=%.1f overhead_per_key=%.1f (target <= 64)\n",
           what, n, sl__state_count(st), (after - before) / 1024.0,
           (after - before) * 1024.0 / (double)n,
           ((after - before) * 1024.0 - (double)own) / (double)n);
    sl__state_free(st);
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? (size_t)strtoull(argv[1], NULL, 10) : 1000000;
    if (n < 10)
        n = 10;
    /* Each kind in a child of its own: memory a first run freed but the C
     * library kept would make a second run's RSS growth look smaller. */
    fflush(stdout);
    for (int kind = 0; kind < 2; kind++) {
        pid_t pid = fork();
        int status;
        if (pid == 0) {
            run(kind ? "string keys (12 B)" : "int keys, int values", n,
                kind != 0);
            fflush(stdout);
            _exit(0);
        }
        if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
            WEXITSTATUS(status) != 0) {
            fprintf(stderr, "bench_state_mem: measurement %d failed\n", kind);
            return 1;
        }
    }
    return 0;
}
