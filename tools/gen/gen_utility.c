/*
 * gen_utility: writes utility prices as CSV `ts,price` for the
 * utility_anomaly pipeline: a daily and a weekly profile, bounded noise, and
 * K injected anomalies (6 standard deviations above the same-hour history)
 * whose timestamps go to a ground-truth file. Deterministic from the seed
 * (integer prices in cents, own PRNG, see gen_common.h).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <getopt.h>

#include "gen_common.h"

#define PROG "gen_utility"
#define HOUR_MS 3600000LL
#define DAY_MS (24 * HOUR_MS)
#define BASE_CENTS 5000
/* An anomaly needs 3 same-hour prices before it; 3 whole days give them at
 * every step. */
#define WARMUP_DAYS 3

/* Hour-of-day and day-of-week profiles in percent (Monday first): night
 * lows, a morning and an evening peak, cheaper weekends. */
static const int daily[24] = {70,  66,  64,  63,  65,  72, 88, 108,
                              120, 115, 106, 102, 100, 98, 97, 100,
                              110, 124, 130, 126, 112, 96, 84, 76};
static const int weekly[7] = {100, 100, 100, 100, 100, 85, 78};

typedef struct options {
    int64_t seed, weeks, step, start, anomalies;
    int header;
    const char *out, *truth;
} options;

static void usage(FILE *f)
{
    fprintf(
        f,
        "usage: " PROG " [--seed N] [--weeks W] [--step 1h|15m|1m]\n"
        "                   [--start ISO] [--anomalies K] [--truth FILE]\n"
        "                   [--header] [--out FILE]\n"
        "Writes W weeks of prices `ts,price` (ts ISO-8601 UTC to the second,\n"
        "price in 2 decimals) at one step apart to FILE or stdout: 50.00\n"
        "times an hour-of-day profile (0.63-1.30) times a day-of-week profile\n"
        "(weekdays 1, Saturday 0.85, Sunday 0.78), constant within an hour,\n"
        "plus noise of at most 2%%. K prices at random steps at least 3 days\n"
        "after the start are replaced by anomalies: 6 sample standard\n"
        "deviations above the mean of the same-hour prices of the 14 days\n"
        "before; their timestamps go to --truth, one per line, ascending.\n"
        "Other prices are rarely flagged by `price >= mean + 2 * sd`: never\n"
        "or almost never with hourly steps, and with 15m or 1m steps mostly\n"
        "in the first two days, where the history is a few noisy prices.\n"
        "Starting on a Thursday (the default) puts two weekdays before the\n"
        "first, cheaper weekend, so no Monday is judged against a weekend\n"
        "alone. tools/gen/utility_truth.py computes exactly what the\n"
        "definition flags.\n"
        "  --seed N        seed (default 42); same seed, same bytes\n"
        "  --weeks W       1-520 (default 4)\n"
        "  --step S        1h (default), 15m or 1m\n"
        "  --start ISO     first ts, YYYY-MM-DD[Thh:mm[:ss]][Z] UTC, whole\n"
        "                  minutes (default 2024-01-04, a Thursday)\n"
        "  --anomalies K   injected anomalies (default 5)\n"
        "  --truth FILE    where their timestamps go\n"
        "  --header        first line `ts,price`\n"
        "Exit status: 0 done, 1 I/O error, 2 bad arguments.\n");
}

static int parse_step(const char *arg, int64_t *step)
{
    if (strcmp(arg, "1h") == 0)
        *step = HOUR_MS;
    else if (strcmp(arg, "15m") == 0)
        *step = 15 * 60000;
    else if (strcmp(arg, "1m") == 0)
        *step = 60000;
    else
        return 1;
    return 0;
}

static int parse_opt(int c, const char *arg, options *o)
{
    switch (c) {
    case 's':
        return gen_parse_int(arg, INT64_MIN, INT64_MAX, &o->seed);
    case 'w':
        return gen_parse_int(arg, 1, 520, &o->weeks);
    case 'p':
        return parse_step(arg, &o->step);
    case 'S':
        return gen_parse_time(arg, &o->start) || o->start % 60000 != 0;
    case 'a':
        return gen_parse_int(arg, 0, INT64_MAX, &o->anomalies);
    case 't':
        o->truth = arg;
        return 0;
    case 'o':
        o->out = arg;
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
        {"weeks", required_argument, NULL, 'w'},
        {"step", required_argument, NULL, 'p'},
        {"start", required_argument, NULL, 'S'},
        {"anomalies", required_argument, NULL, 'a'},
        {"truth", required_argument, NULL, 't'},
        {"out", required_argument, NULL, 'o'},
        {"header", no_argument, NULL, 'e'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c, idx = 0;

    *o = (options){42, 4, HOUR_MS, 0, 5, 0, NULL, NULL};
    gen_parse_time("2024-01-04", &o->start);
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
    if (optind < argc) {
        fprintf(stderr, PROG ": unexpected argument '%s'\n", argv[optind]);
        fprintf(stderr, "Try '" PROG " --help'.\n");
        return 2;
    }
    return 0;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

static int hour_of(int64_t ts)
{
    return (int)(floor_div(ts, HOUR_MS) % 24 + 24) % 24;
}

/* The seasonal price at ts plus at most 2% of triangular noise, in cents. */
static int64_t normal_price(gen_rng *r, int64_t ts)
{
    int64_t level = (int64_t)BASE_CENTS * daily[hour_of(ts)] *
                    weekly[gen_weekday(floor_div(ts, DAY_MS))] / 10000;
    int64_t noise = gen_rng_range(r, -100, 100) + gen_rng_range(r, -100, 100);

    return level + level * noise / 10000;
}

/* An anomaly at step i: 6 sample standard deviations above the mean of
 * the same-hour prices in [t - 14 days, t), computed as the definition
 * does. Integer sums keep it exact; the few double operations are
 * correctly rounded (IEEE), so the result is the same everywhere. */
static int64_t anomaly_price(const int64_t *price, const options *o, int64_t i)
{
    int64_t t = o->start + i * o->step, n = 0, s = 0, q = 0, p;
    double mean, sd;

    for (int64_t j = i - 1; j >= 0 && o->start + j * o->step >= t - 14 * DAY_MS;
         j--) {
        if (hour_of(o->start + j * o->step) != hour_of(t))
            continue;
        n++;
        s += price[j];
        q += price[j] * price[j];
    }
    mean = (double)s / (double)n;
    sd = sqrt((double)(n * q - s * s) / ((double)n * (double)(n - 1)));
    p = (int64_t)ceil(mean + 6.0 * sd);
    return p > (int64_t)ceil(mean) ? p : (int64_t)ceil(mean) + 1;
}

/* Marks K distinct steps in [first, n) as anomalies; 1 if there are fewer
 * such steps than K. */
static int pick_anomalies(gen_rng *r, char *mark, int64_t first, int64_t n,
                          int64_t k)
{
    if (k > n - first)
        return 1;
    for (int64_t done = 0; done < k;) {
        int64_t i = gen_rng_range(r, first, n - 1);

        if (!mark[i]) {
            mark[i] = 1;
            done++;
        }
    }
    return 0;
}

static void put_row(FILE *f, int64_t ts, const int64_t *price)
{
    char buf[40];

    gen_format_time(ts, 0, buf);
    fputs(buf, f);
    if (price) {
        fputc(',', f);
        gen_print_fixed(f, *price, 2);
    }
    fputc('\n', f);
}

/* Generates and writes the prices and the truth file; 0 or 1 (I/O). */
static int generate(const options *o, int64_t *price, char *mark, FILE *f)
{
    int64_t n = o->weeks * 7 * DAY_MS / o->step;
    gen_rng noise;
    FILE *truth = NULL;
    int rc = 1;

    gen_rng_seed(&noise, (uint64_t)o->seed, 1);
    if (o->truth && !(truth = fopen(o->truth, "w"))) {
        perror(o->truth);
        return 1;
    }
    if (o->header)
        fputs("ts,price\n", f);
    for (int64_t i = 0; i < n; i++) {
        int64_t ts = o->start + i * o->step;

        /* Draw the noise for every step, so the anomalies do not move the
         * other prices. */
        price[i] = normal_price(&noise, ts);
        if (mark[i]) {
            price[i] = anomaly_price(price, o, i);
            if (truth)
                put_row(truth, ts, NULL);
        }
        put_row(f, ts, &price[i]);
    }
    rc = 0;
    if (truth && (ferror(truth) | fclose(truth))) {
        perror(o->truth);
        rc = 1;
    }
    return rc;
}

int main(int argc, char **argv)
{
    options o;
    int64_t n, *price = NULL;
    char *mark = NULL;
    gen_rng pick;
    FILE *f = stdout;
    int rc = parse_args(argc, argv, &o);

    if (rc)
        return rc == 1 ? 0 : 2;
    n = o.weeks * 7 * DAY_MS / o.step;
    price = malloc((size_t)n * sizeof *price);
    mark = calloc((size_t)n, 1);
    if (!price || !mark) {
        fprintf(stderr, PROG ": out of memory\n");
        rc = 1;
        goto free_arrays;
    }
    gen_rng_seed(&pick, (uint64_t)o.seed, 2);
    if (pick_anomalies(&pick, mark, WARMUP_DAYS * DAY_MS / o.step, n,
                       o.anomalies)) {
        fprintf(stderr,
                PROG ": --anomalies %lld: more than the %lld steps "
                     "after the first %d days\n",
                (long long)o.anomalies,
                (long long)(n - WARMUP_DAYS * DAY_MS / o.step), WARMUP_DAYS);
        rc = 2;
        goto free_arrays;
    }
    if (o.out && !(f = fopen(o.out, "w"))) {
        perror(o.out);
        rc = 1;
        goto free_arrays;
    }
    rc = generate(&o, price, mark, f);
    if (ferror(f) | (f != stdout ? fclose(f) : fflush(f))) {
        fprintf(stderr, PROG ": writing %s failed\n", o.out ? o.out : "-");
        rc = 1;
    }
free_arrays:
    free(price);
    free(mark);
    return rc;
}
