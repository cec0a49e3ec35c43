/*
 * gen_words: writes a file of Zipf-distributed word lines for the
 * benchmarks, with the text generator's own algorithm (generator/zipf.h):
 * line i is line i of stream 0 under the seed, so equal arguments give
 * equal files on every machine.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sluice/sluice.h>

#include "generator/zipf.h"

#define PROG "gen_words"

typedef struct options {
    const char *path;
    int64_t bytes;
    int64_t seed, vocabulary, words;
    double s;
} options;

static void usage(FILE *f)
{
    fprintf(f, "usage: " PROG " FILE SIZE [--seed N] [--vocabulary N]\n"
               "                 [--zipf S] [--words-per-line N]\n"
               "Writes whole lines of Zipf-distributed words to FILE until it\n"
               "holds at least SIZE bytes (e.g. 100m, 1g). Defaults are the\n"
               "text generator's: seed 42, vocabulary 10000, zipf 1.0, 10\n"
               "words per line.\n");
}

static int parse_int(const char *text, int64_t min, int64_t *out)
{
    char *end;
    long long v;

    errno = 0;
    v = strtoll(text, &end, 10);
    if (errno || end == text || *end || v < min)
        return 1;
    *out = v;
    return 0;
}

static int parse_args(int argc, char **argv, options *o)
{
    static const struct option opts[] = {
        {"seed", required_argument, NULL, 's'},
        {"vocabulary", required_argument, NULL, 'v'},
        {"zipf", required_argument, NULL, 'z'},
        {"words-per-line", required_argument, NULL, 'w'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c, bad = 0, help = 0;

    *o = (options){NULL, 0, 42, 10000, 10, 1.0};
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == 's')
            bad |= parse_int(optarg, 0, &o->seed);
        else if (c == 'v')
            bad |= parse_int(optarg, 1, &o->vocabulary);
        else if (c == 'w')
            bad |= parse_int(optarg, 1, &o->words);
        else if (c == 'z')
            bad |= sl__zipf_parse_exponent(optarg, &o->s) != SL_OK;
        else if (c == 'h')
            help = 1;
        else
            bad = 1;
    }
    if (help) {
        usage(stdout);
        return 1;
    }
    if (bad || argc - optind != 2 ||
        sl_size_parse(argv[optind + 1], &o->bytes) != SL_OK) {
        usage(stderr);
        return 2;
    }
    o->path = argv[optind];
    return 0;
}

/* Lines go through one 1 MiB buffer, written whenever it is nearly full. */
static int write_lines(FILE *f, const sl__zipf *z, const options *o)
{
    size_t cap = 1 << 20, line_max = SL__ZIPF_LINE_MAX(o->words), used = 0;
    char *buf = malloc(cap + line_max + 1);
    int64_t written = 0;
    uint64_t i;

    if (!buf)
        return -1;
    for (i = 0; written + (int64_t)used < o->bytes; i++) {
        used += sl__zipf_gen_line(z, (uint64_t)o->seed, 0, i, (size_t)o->words,
                                  buf + used);
        buf[used++] = '\n';
        if (used >= cap) {
            if (fwrite(buf, 1, used, f) != used)
                break;
            written += (int64_t)used;
            used = 0;
        }
    }
    if (used > 0 && fwrite(buf, 1, used, f) == used) {
        written += (int64_t)used;
        used = 0;
    }
    free(buf);
    return used == 0 && written >= o->bytes ? 0 : -1;
}

int main(int argc, char **argv)
{
    options o;
    sl__zipf *z = NULL;
    FILE *f;
    int rc;

    rc = parse_args(argc, argv, &o);
    if (rc)
        return rc == 1 ? 0 : 2;
    if (sl__zipf_new((uint64_t)o.vocabulary, o.s, &z) != SL_OK) {
        fprintf(stderr, PROG ": bad vocabulary or exponent\n");
        return 2;
    }
    f = fopen(o.path, "wb");
    if (!f) {
        fprintf(stderr, PROG ": %s: %s\n", o.path, strerror(errno));
        sl__zipf_free(z);
        return 1;
    }
    rc = write_lines(f, z, &o);
    if (fclose(f) != 0)
        rc = -1;
    if (rc != 0)
        fprintf(stderr, PROG ": writing %s failed: %s\n", o.path,
                strerror(errno));
    sl__zipf_free(z);
    return rc ? 1 : 0;
}
