/*
 * Snapshot and restore of a keyed state store through the checkpoint's
 * state files (src/state/state_files.c): N keys (default 1,000,000) in 16
 * shards, written as 16 fsynced snapshot files (codec + zstd + checked
 * header + rename + directory fsync) and loaded back into an empty store,
 * beside a baseline of writing and fsyncing the same number of bytes raw
 * (what any format of that size costs) and reading them back. Three runs:
 * sequential int keys and values, 12-byte string keys with int values,
 * and random 64-bit int keys and values (incompressible). Target
 * (issue 11): under 1 s each.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "state/state_files.h"

#define SHARDS 16

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Keys: 0 sequential ints, 1 12-byte strings, 2 random 64-bit ints with
 * random values (nothing for zstd to find). */
static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static sl__state_store *fill(size_t n, int kind)
{
    sl__state_store *st = sl__state_new(SHARDS);
    uint64_t seed = 42;
    char buf[32];
    size_t i;

    sl__state_begin(st, 1);
    for (i = 0; i < n; i++) {
        sl_value key = sl_int((int64_t)i), val = sl_int((int64_t)i * 3);
        if (kind == 2) {
            key = sl_int((int64_t)splitmix(&seed));
            val = sl_int((int64_t)splitmix(&seed));
        }
        if (kind == 1) {
            snprintf(buf, sizeof buf, "key-%08zu", i % 100000000);
            key = sl_str(buf, 12);
        }
        if (sl__state_put(st, &key, sl__htab_hash(&key), &val, 1000) != SL_OK)
            exit(1);
    }
    if (sl__state_commit(st) != SL_OK)
        exit(1);
    return st;
}

/* The same bytes written raw: one file per shard, fsynced, then the
 * directory; and read back. */
static void baseline(const char *dir, size_t bytes, double *w, double *r)
{
    char path[512], *b = malloc(bytes / SHARDS + 1);
    size_t s, part = bytes / SHARDS;
    double t0 = now_s();
    int fd;

    memset(b, 'x', part + 1);
    for (s = 0; s < SHARDS; s++) {
        snprintf(path, sizeof path, "%s/raw%zu", dir, s);
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0 || write(fd, b, part) != (ssize_t)part || fsync(fd))
            exit(1);
        close(fd);
    }
    fd = open(dir, O_RDONLY);
    fsync(fd);
    close(fd);
    *w = now_s() - t0;
    t0 = now_s();
    for (s = 0; s < SHARDS; s++) {
        snprintf(path, sizeof path, "%s/raw%zu", dir, s);
        fd = open(path, O_RDONLY);
        if (fd < 0 || read(fd, b, part) != (ssize_t)part)
            exit(1);
        close(fd);
    }
    *r = now_s() - t0;
    free(b);
}

static void run(const char *what, const char *dir, size_t n, int kind)
{
    sl__state_store *st = fill(n, kind), *back = sl__state_new(SHARDS);
    sl__ckpt_io io;
    char path[512];
    struct stat sb;
    size_t s, bytes = 0;
    double t0, tw, tr, bw, br;
    int64_t v;

    sl__ckpt_io_init(&io);
    t0 = now_s();
    for (s = 0; s < SHARDS; s++) {
        snprintf(path, sizeof path, "%s/%zu.snapshot", dir, s);
        if (sl__state_write_snapshot(&io, path, st, s, 1) != SL_OK) {
            fprintf(stderr, "%s\n", sl__ckpt_io_errmsg(&io));
            exit(1);
        }
    }
    if (sl__ckpt_io_sync_dirs(&io) != SL_OK)
        exit(1);
    tw = now_s() - t0;
    t0 = now_s();
    sl__state_restore_begin(back, 1);
    for (s = 0; s < SHARDS; s++) {
        snprintf(path, sizeof path, "%s/%zu.snapshot", dir, s);
        if (sl__state_load_file(&io, path, back, s, &v) != SL_OK) {
            fprintf(stderr, "%s\n", sl__ckpt_io_errmsg(&io));
            exit(1);
        }
        if (stat(path, &sb) == 0)
            bytes += (size_t)sb.st_size;
    }
    if (sl__state_restore_end(back) != SL_OK || sl__state_count(back) != n)
        exit(1);
    tr = now_s() - t0;
    baseline(dir, bytes, &bw, &br);
    printf("%-26s keys=%zu bytes=%zu bytes/key=%.2f snapshot=%.3f s "
           "restore=%.3f s | raw write+fsync=%.3f s raw read=%.3f s\n",
           what, n, bytes, (double)bytes / (double)n, tw, tr, bw, br);
    sl__state_free(st);
    sl__state_free(back);
    sl__ckpt_io_free(&io);
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000000;
    char dir[] = "/tmp/bench_state_ckpt_XXXXXX", cmd[128];
    if (!n || !mkdtemp(dir))
        return 1;
    run("int keys, int values", dir, n, 0);
    run("12-byte string keys", dir, n, 1);
    run("random int keys, values", dir, n, 2);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : 1;
}
