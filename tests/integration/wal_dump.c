/*
 * Test helper of test_wal_kill.py: print every line the receiver WAL in
 * DIR holds for batches FIRST..LAST, as "BATCH<TAB>RECEIVER<TAB>LINE", and
 * the torn records open found on stderr. Exit 1 when the WAL cannot be
 * opened or read (the message on stderr).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint/wal.h"

static void print_block(const sl__wal_block *b)
{
    const char *p = b->data, *end = b->data + b->len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        printf("%lld\t%u\t%.*s\n", (long long)b->batch, b->receiver, (int)n, p);
        p += n + 1;
    }
}

int main(int argc, char **argv)
{
    char err[512];
    sl__wal *w = NULL;
    long long first, last;

    if (argc != 4) {
        fprintf(stderr, "usage: wal_dump DIR FIRST LAST\n");
        return 2;
    }
    first = atoll(argv[2]);
    last = atoll(argv[3]);
    if (sl__wal_open(argv[1], &w, err, sizeof err) != SL_OK) {
        fprintf(stderr, "wal_dump: %s\n", err);
        return 1;
    }
    fprintf(stderr, "torn records: %zu %s\n", sl__wal_torn(w), sl__wal_note(w));
    for (long long id = first; id <= last; id++) {
        sl__wal_block *v;
        size_t n;
        if (sl__wal_read_batch(w, id, &v, &n) != SL_OK) {
            fprintf(stderr, "wal_dump: %s\n", sl__wal_errmsg(w));
            sl__wal_close(w);
            return 1;
        }
        for (size_t i = 0; i < n; i++)
            print_block(&v[i]);
        sl__wal_blocks_free(v, n);
    }
    sl__wal_close(w);
    return 0;
}
