/*
 * gen_bbo: writes a best-bid-and-offer feed as CSV `ts,bid,ask` for the
 * bbo_spread pipeline: millisecond ticks, a random-walk mid price, spreads
 * that switch between a normal and a widened regime, and (at given rates)
 * crossed and malformed lines. Deterministic: a seed gives the same bytes on
 * every machine (integer prices, own PRNG, see gen_common.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <getopt.h>

#include "gen_common.h"

#define PROG "gen_bbo"
#define PRICE_DP 4
/* Prices are integers in units of 0.0001. */
#define MID_START 1000000
#define MID_FLOOR 10000
#define WALK_STEP 5

enum { BAD_NUMBER, MISSING_FIELD, GARBAGE, BAD_TIMESTAMP, N_KINDS };
static const char *const kind_names[N_KINDS] = {"bad_number", "missing_field",
                                                "garbage", "bad_timestamp"};

typedef struct options {
    int64_t seed, hours, tps, start;
    int epoch_ms, header;
    double crossed, malformed;
    const char *out, *stats;
} options;

typedef struct bbo_state {
    gen_rng ts_rng, walk_rng, regime_rng, defect_rng;
    int64_t mid, prev_ts;
    int widened;
    int64_t lines, crossed, equal_ts, widened_lines, first_ts;
    int64_t kinds[N_KINDS];
} bbo_state;

static void usage(FILE *f)
{
    fprintf(
        f,
        "usage: " PROG " [--seed N] [--hours H] [--ticks-per-second R]\n"
        "               [--start ISO] [--ts-format iso|epoch_ms] [--header]\n"
        "               [--crossed-rate P] [--malformed-rate P]\n"
        "               [--out FILE] [--stats FILE]\n"
        "Writes H*3600*R lines `ts,bid,ask` (a BBO feed) to FILE or stdout.\n"
        "Tick i falls in the millisecond slot [i*1000/R, (i+1)*1000/R) after\n"
        "--start, or (2%% of ticks) repeats the previous tick's ts, so ts\n"
        "never decreases. The mid price is a random walk from 100.0000 in\n"
        "steps of at most 0.0005; the spread is 0.0100-0.0300, or\n"
        "0.0500-0.2000 in a widened regime (entered about every 10 minutes,\n"
        "lasting about 20 s). Prices have 4 decimals.\n"
        "  --seed N             seed (default 42); same seed, same bytes\n"
        "  --hours H            hours of ticks, 1-10000 (default 1)\n"
        "  --ticks-per-second R 1-100000 (default 10)\n"
        "  --start ISO          first slot, YYYY-MM-DD[Thh:mm[:ss[.fff]]][Z]\n"
        "                       UTC (default 2024-01-02T09:30:00Z)\n"
        "  --ts-format F        iso (2024-01-02T09:30:00.123Z, default) or\n"
        "                       epoch_ms (milliseconds since 1970)\n"
        "  --header             first line `ts,bid,ask`\n"
        "  --crossed-rate P     share of lines with bid >= ask (default "
        "0.001)\n"
        "  --malformed-rate P   share of malformed lines: a bad number, a\n"
        "                       missing field, garbage or a bad timestamp\n"
        "                       (default 0.001)\n"
        "  --stats FILE         JSON summary: lines, valid, crossed,\n"
        "                       malformed (and by kind), equal_ts, widened,\n"
        "                       first_ts_ms, last_ts_ms\n"
        "Exit status: 0 done, 1 I/O error, 2 bad arguments.\n");
}

static int parse_opt(int c, const char *arg, options *o)
{
    switch (c) {
    case 's':
        return gen_parse_int(arg, INT64_MIN, INT64_MAX, &o->seed);
    case 'H':
        return gen_parse_int(arg, 1, 10000, &o->hours);
    case 'r':
        return gen_parse_int(arg, 1, 100000, &o->tps);
    case 'S':
        return gen_parse_time(arg, &o->start);
    case 'f':
        o->epoch_ms = strcmp(arg, "epoch_ms") == 0;
        return !o->epoch_ms && strcmp(arg, "iso") != 0;
    case 'c':
        return gen_parse_rate(arg, &o->crossed);
    case 'm':
        return gen_parse_rate(arg, &o->malformed);
    case 'o':
        o->out = arg;
        return 0;
    case 'j':
        o->stats = arg;
        return 0;
    case 'e':
        o->header = 1;
        return 0;
    }
    return 1;
}

/* Returns 0 to run, 1 after --help, 2 on bad arguments (reported). */
static int parse_args(int argc, char **argv, options *o)
{
    static const struct option opts[] = {
        {"seed", required_argument, NULL, 's'},
        {"hours", required_argument, NULL, 'H'},
        {"ticks-per-second", required_argument, NULL, 'r'},
        {"start", required_argument, NULL, 'S'},
        {"ts-format", required_argument, NULL, 'f'},
        {"crossed-rate", required_argument, NULL, 'c'},
        {"malformed-rate", required_argument, NULL, 'm'},
        {"out", required_argument, NULL, 'o'},
        {"stats", required_argument, NULL, 'j'},
        {"header", no_argument, NULL, 'e'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c, idx = 0;

    *o = (options){42, 1, 10, 0, 0, 0, 0.001, 0.001, NULL, NULL};
    gen_parse_time("2024-01-02T09:30:00Z", &o->start);
    while ((c = getopt_long(argc, argv, "h", opts, &idx)) != -1) {
        if (c == 'h') {
            usage(stdout);
            return 1;
        }
        if (c == '?' || parse_opt(c, optarg, o)) {
            if (c != '?')
                fprintf(stderr, PROG ": bad value for --%s: '%s'\n",
                        opts[idx].name, optarg);
            fprintf(stderr, "Try '" PROG " --help'.\n");
            return 2;
        }
    }
    if (optind < argc || o->crossed + o->malformed > 1) {
        fprintf(stderr, PROG ": %s\n",
                optind < argc ? "unexpected argument"
                              : "--crossed-rate + --malformed-rate > 1");
        fprintf(stderr, "Try '" PROG " --help'.\n");
        return 2;
    }
    return 0;
}

/* Tick i's timestamp: a millisecond in its slot, or sometimes the previous
 * tick's (quotes in the same millisecond), never less than it. */
static int64_t next_ts(bbo_state *st, const options *o, int64_t i)
{
    int64_t lo = o->start + i * 1000 / o->tps;
    int64_t hi = o->start + (i + 1) * 1000 / o->tps;
    int64_t ts;

    if (i > 0 && gen_rng_unit(&st->ts_rng) < 0.02)
        ts = st->prev_ts;
    else
        ts = hi > lo ? gen_rng_range(&st->ts_rng, lo, hi - 1) : lo;
    if (i > 0 && ts == st->prev_ts)
        st->equal_ts++;
    st->prev_ts = ts;
    return ts;
}

/* Moves the mid price and the spread regime one tick on; returns the
 * regime's spread in price units. */
static int64_t next_spread(bbo_state *st, const options *o)
{
    /* Entering the widened regime about every 10 minutes and leaving it
     * after about 20 s, whatever the tick rate. */
    double p_enter = 1.0 / (600.0 * (double)o->tps);
    double p_leave = 1.0 / (20.0 * (double)o->tps);
    double u = gen_rng_unit(&st->regime_rng);

    st->mid += gen_rng_range(&st->walk_rng, -WALK_STEP, WALK_STEP);
    if (st->mid < MID_FLOOR)
        st->mid = 2 * MID_FLOOR - st->mid;
    if (st->widened ? u < p_leave : u < p_enter)
        st->widened = !st->widened;
    if (st->widened)
        return gen_rng_range(&st->regime_rng, 500, 2000);
    return gen_rng_range(&st->regime_rng, 100, 300);
}

static void put_ts(FILE *f, const options *o, int64_t ts, int bad)
{
    char buf[40];

    if (o->epoch_ms) {
        fprintf(f, bad ? "%lldx" : "%lld", (long long)ts);
        return;
    }
    gen_format_time(ts, 1, buf);
    if (bad)
        memcpy(buf + 5, "13", 2); /* month 13 */
    fputs(buf, f);
}

static void put_garbage(FILE *f, gen_rng *r)
{
    /* No digits, commas or quotes: nothing a CSV reader could take for a
     * record or the start of a quoted field. */
    static const char chars[] = "abcdefghijklmnopqrstuvwxyz!?*&%@ ";
    int64_t n = gen_rng_range(r, 5, 30);

    for (int64_t k = 0; k < n; k++)
        fputc(chars[gen_rng_range(r, 0, (int64_t)sizeof chars - 2)], f);
}

static void put_malformed(FILE *f, bbo_state *st, const options *o, int64_t ts,
                          int64_t bid, int64_t ask)
{
    int kind = (int)gen_rng_range(&st->defect_rng, 0, N_KINDS - 1);

    st->kinds[kind]++;
    if (kind == GARBAGE) {
        put_garbage(f, &st->defect_rng);
        fputc('\n', f);
        return;
    }
    put_ts(f, o, ts, kind == BAD_TIMESTAMP);
    fputc(',', f);
    gen_print_fixed(f, bid, PRICE_DP);
    if (kind == BAD_NUMBER)
        fputc('x', f);
    if (kind != MISSING_FIELD) {
        fputc(',', f);
        gen_print_fixed(f, ask, PRICE_DP);
    }
    fputc('\n', f);
}

static void write_tick(FILE *f, bbo_state *st, const options *o, int64_t i)
{
    int64_t ts = next_ts(st, o, i), spread = next_spread(st, o), bid;
    double u = gen_rng_unit(&st->defect_rng);

    if (i == 0)
        st->first_ts = ts;
    if (u >= o->malformed && u < o->malformed + o->crossed)
        spread = gen_rng_range(&st->defect_rng, -50, 0);
    /* Floor division keeps bid + spread == ask for negative spreads. */
    bid = st->mid - (spread >= 0 ? spread / 2 : -((1 - spread) / 2));
    st->lines++;
    if (u < o->malformed) {
        put_malformed(f, st, o, ts, bid, bid + spread);
        return;
    }
    st->crossed += spread <= 0;
    st->widened_lines += st->widened;
    put_ts(f, o, ts, 0);
    fputc(',', f);
    gen_print_fixed(f, bid, PRICE_DP);
    fputc(',', f);
    gen_print_fixed(f, bid + spread, PRICE_DP);
    fputc('\n', f);
}

static int write_stats(const bbo_state *st, const options *o)
{
    FILE *f = fopen(o->stats, "w");
    int64_t malformed = 0;

    if (!f)
        return 1;
    for (int k = 0; k < N_KINDS; k++)
        malformed += st->kinds[k];
    fprintf(f,
            "{\"lines\": %lld, \"header\": %s, \"valid\": %lld, "
            "\"crossed\": %lld, \"malformed\": %lld, \"malformed_kinds\": {",
            (long long)st->lines, o->header ? "true" : "false",
            (long long)(st->lines - malformed), (long long)st->crossed,
            (long long)malformed);
    for (int k = 0; k < N_KINDS; k++)
        fprintf(f, "%s\"%s\": %lld", k ? ", " : "", kind_names[k],
                (long long)st->kinds[k]);
    fprintf(f,
            "}, \"equal_ts\": %lld, \"widened\": %lld, "
            "\"first_ts_ms\": %lld, \"last_ts_ms\": %lld}\n",
            (long long)st->equal_ts, (long long)st->widened_lines,
            (long long)st->first_ts, (long long)st->prev_ts);
    return fclose(f) != 0;
}

static void seed_state(bbo_state *st, const options *o)
{
    uint64_t seed = (uint64_t)o->seed;

    memset(st, 0, sizeof *st);
    gen_rng_seed(&st->ts_rng, seed, 1);
    gen_rng_seed(&st->walk_rng, seed, 2);
    gen_rng_seed(&st->regime_rng, seed, 3);
    gen_rng_seed(&st->defect_rng, seed, 4);
    st->mid = MID_START;
}

int main(int argc, char **argv)
{
    options o;
    bbo_state st;
    FILE *f = stdout;
    int rc = parse_args(argc, argv, &o), bad;
    int64_t n;

    if (rc)
        return rc == 1 ? 0 : 2;
    if (o.out && !(f = fopen(o.out, "w"))) {
        perror(o.out);
        return 1;
    }
    seed_state(&st, &o);
    if (o.header)
        fputs("ts,bid,ask\n", f);
    n = o.hours * 3600 * o.tps;
    for (int64_t i = 0; i < n; i++)
        write_tick(f, &st, &o, i);
    bad = ferror(f) | (f != stdout ? fclose(f) : fflush(f));
    if (bad) {
        fprintf(stderr, PROG ": writing %s failed\n", o.out ? o.out : "-");
        return 1;
    }
    if (o.stats && write_stats(&st, &o)) {
        perror(o.stats);
        return 1;
    }
    return 0;
}
