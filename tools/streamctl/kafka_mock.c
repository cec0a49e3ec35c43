/*
 * streamctl kafka-mock: librdkafka's mock cluster on 127.0.0.1, a Kafka to
 * try the examples and run the tests without Kafka. Its first line on
 * stdout is "bootstrap.servers=..."; then it reads commands on stdin
 * (topics, brokers down and up, leaders, injected request errors: what
 * the failure tests need) and answers each with one line.
 */
#include "kafka_mock.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

enum { KM_OK = 0, KM_FAILED = 1, KM_USAGE = 2 };

void streamctl_usage_kafka_mock(FILE *f)
{
    fputs(
        "usage: streamctl kafka-mock [--brokers N] [--topic "
        "NAME:PARTITIONS]...\n"
        "\n"
        "Start librdkafka's mock Kafka cluster on 127.0.0.1 (in this\n"
        "process; nothing is written to disk), create the topics, print\n"
        "bootstrap.servers=HOST:PORT[,HOST:PORT...] as the first line on\n"
        "stdout, and run until SIGINT or SIGTERM (or end of input on stdin).\n"
        "Topics not created here are created on first use with 4\n"
        "partitions. The mock keeps the last 5 MiB or 100,000 message sets\n"
        "of each partition. For the examples and tests, not production.\n"
        "\n"
        "Commands read on stdin, one per line, each answered with \"ok\" or\n"
        "\"error: REASON\" on stdout:\n"
        "  topic NAME PARTITIONS           create a topic\n"
        "  down BROKER | up BROKER         take a broker (1..N) down or up\n"
        "  leader TOPIC PARTITION BROKER   move a partition's leader\n"
        "  errors REQUEST COUNT ERROR...   the next COUNT requests of kind\n"
        "                                  REQUEST (Produce, Fetch,\n"
        "                                  ListOffsets, Metadata,\n"
        "                                  OffsetCommit, ...) fail with the\n"
        "                                  ERRORs in turn (librdkafka's names\n"
        "                                  without RD_KAFKA_RESP_ERR_, e.g.\n"
        "                                  NOT_LEADER_FOR_PARTITION)\n"
        "  clear                           drop every injected error\n"
        "  rtt BROKER MS                   delay every response of a broker\n"
        "                                  by MS milliseconds (0: none); the\n"
        "                                  requests take effect at once\n"
        "\n"
        "options:\n"
        "  --brokers N                 brokers (default 1, at most 16)\n"
        "  --topic NAME:PARTITIONS     a topic to create (repeatable)\n"
        "  -h, --help                  show this help\n"
        "\n"
        "exit status: 0 stopped by a signal or end of input; 1 the cluster\n"
        "could not be started; 2 bad command line.\n",
        f);
}

static int usage(const char *fmt, const char *arg)
{
    fputs("streamctl kafka-mock: ", stderr);
    fprintf(stderr, fmt, arg);
    fputs("\n\n", stderr);
    streamctl_usage_kafka_mock(stderr);
    return KM_USAGE;
}

/* Kafka's request kinds by name (the ApiKey numbers of the protocol). */
static const struct {
    const char *name;
    int16_t key;
} api_keys[] = {
    {"Produce", 0},          {"Fetch", 1},        {"ListOffsets", 2},
    {"Metadata", 3},         {"OffsetCommit", 8}, {"OffsetFetch", 9},
    {"FindCoordinator", 10}, {"JoinGroup", 11},   {"Heartbeat", 12},
    {"LeaveGroup", 13},      {"SyncGroup", 14},   {"ApiVersions", 18},
    {"InitProducerId", 22}};

static int api_key(const char *name)
{
    size_t i;
    for (i = 0; i < sizeof api_keys / sizeof *api_keys; i++)
        if (!strcasecmp(api_keys[i].name, name))
            return api_keys[i].key;
    return -1;
}

static bool error_code(const char *name, rd_kafka_resp_err_t *out)
{
    const struct rd_kafka_err_desc *descs;
    size_t i, n;
    rd_kafka_get_err_descs(&descs, &n);
    for (i = 0; i < n; i++)
        if (descs[i].name && !strcasecmp(descs[i].name, name)) {
            *out = descs[i].code;
            return true;
        }
    return false;
}

static void reply(rd_kafka_resp_err_t err)
{
    if (err)
        printf("error: %s\n", rd_kafka_err2str(err));
    else
        printf("ok\n");
    fflush(stdout);
}

static void cmd_errors(rd_kafka_mock_cluster_t *mc, char **w, int n)
{
    rd_kafka_resp_err_t errs[64];
    int key, count, i;
    if (n < 4 || (key = api_key(w[1])) < 0 || (count = atoi(w[2])) < 1) {
        printf("error: usage: errors REQUEST COUNT ERROR...\n");
        fflush(stdout);
        return;
    }
    for (i = 3; i < n && i - 3 < 64; i++)
        if (!error_code(w[i], &errs[i - 3])) {
            printf("error: unknown error name %s\n", w[i]);
            fflush(stdout);
            return;
        }
    /* COUNT requests, the given errors in turn */
    {
        rd_kafka_resp_err_t all[256];
        int k;
        if (count > 256)
            count = 256;
        for (k = 0; k < count; k++)
            all[k] = errs[k % (n - 3)];
        rd_kafka_mock_push_request_errors_array(mc, (int16_t)key, (size_t)count,
                                                all);
    }
    reply(RD_KAFKA_RESP_ERR_NO_ERROR);
}

/* One command line; false at "quit". */
static bool run_command(rd_kafka_mock_cluster_t *mc, char *line)
{
    char *w[70], *save = NULL, *t;
    int n = 0;
    for (t = strtok_r(line, " \t\r\n", &save); t && n < 70;
         t = strtok_r(NULL, " \t\r\n", &save))
        w[n++] = t;
    if (n == 0)
        return true;
    if (!strcmp(w[0], "quit"))
        return false;
    if (!strcmp(w[0], "topic") && n == 3)
        reply(rd_kafka_mock_topic_create(mc, w[1], atoi(w[2]), 1));
    else if (!strcmp(w[0], "down") && n == 2)
        reply(rd_kafka_mock_broker_set_down(mc, atoi(w[1])));
    else if (!strcmp(w[0], "up") && n == 2)
        reply(rd_kafka_mock_broker_set_up(mc, atoi(w[1])));
    else if (!strcmp(w[0], "leader") && n == 4)
        reply(rd_kafka_mock_partition_set_leader(mc, w[1], atoi(w[2]),
                                                 atoi(w[3])));
    else if (!strcmp(w[0], "rtt") && n == 3)
        reply(rd_kafka_mock_broker_set_rtt(mc, atoi(w[1]), atoi(w[2])));
    else if (!strcmp(w[0], "errors"))
        cmd_errors(mc, w, n);
    else if (!strcmp(w[0], "clear")) {
        size_t k;
        for (k = 0; k < sizeof api_keys / sizeof *api_keys; k++)
            rd_kafka_mock_clear_request_errors(mc, api_keys[k].key);
        reply(RD_KAFKA_RESP_ERR_NO_ERROR);
    } else {
        printf("error: unknown command or wrong arguments: %s (see "
               "streamctl kafka-mock --help)\n",
               w[0]);
        fflush(stdout);
    }
    return true;
}

static int parse_args(int argc, char **argv, int *brokers)
{
    int i;
    for (i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            streamctl_usage_kafka_mock(stdout);
            exit(KM_OK);
        }
        if (strcmp(a, "--brokers") && strcmp(a, "--topic"))
            return usage("unknown option '%s'", a);
        if (i + 1 == argc)
            return usage("%s needs a value", a);
        if (!strcmp(a, "--brokers")) {
            char *end;
            long b = strtol(argv[++i], &end, 10);
            if (*end || b < 1 || b > 16)
                return usage("--brokers '%s': expected 1 to 16", argv[i]);
            *brokers = (int)b;
        } else {
            const char *colon = strrchr(argv[++i], ':');
            char *end;
            long p = colon ? strtol(colon + 1, &end, 10) : 0;
            if (!colon || colon == argv[i] || *end || p < 1 || p > 10000)
                return usage("--topic '%s': expected NAME:PARTITIONS", argv[i]);
        }
    }
    return -1;
}

static int create_topics(rd_kafka_mock_cluster_t *mc, int argc, char **argv)
{
    int i;
    for (i = 2; i < argc; i++) {
        char name[512];
        const char *colon;
        rd_kafka_resp_err_t err;
        if (strcmp(argv[i], "--topic")) {
            i++; /* --brokers N */
            continue;
        }
        colon = strrchr(argv[++i], ':');
        snprintf(name, sizeof name, "%.*s", (int)(colon - argv[i]), argv[i]);
        if ((err = rd_kafka_mock_topic_create(mc, name, atoi(colon + 1), 1))) {
            fprintf(stderr, "streamctl kafka-mock: topic %s: %s\n", name,
                    rd_kafka_err2str(err));
            return KM_FAILED;
        }
    }
    return KM_OK;
}

/* Serve stdin's commands until a signal, "quit" or the end of input. */
static void serve(rd_kafka_mock_cluster_t *mc, const sigset_t *sigs)
{
    struct timespec tick = {0, 0};
    char line[4096];
    bool stdin_open = true;
    for (;;) {
        struct pollfd p = {STDIN_FILENO, POLLIN, 0};
        int sig = sigtimedwait(sigs, NULL, &tick);
        if (sig == SIGINT || sig == SIGTERM)
            return;
        if (!stdin_open) {
            struct timespec wait = {0, 200 * 1000 * 1000};
            sig = sigtimedwait(sigs, NULL, &wait);
            if (sig == SIGINT || sig == SIGTERM)
                return;
            continue;
        }
        if (poll(&p, 1, 200) <= 0)
            continue;
        if (!fgets(line, sizeof line, stdin)) {
            /* stdin closed (a background run): serve until a signal */
            stdin_open = false;
            continue;
        }
        if (!run_command(mc, line))
            return;
    }
}

int streamctl_cmd_kafka_mock(int argc, char **argv)
{
    char err[512];
    rd_kafka_conf_t *conf;
    rd_kafka_mock_cluster_t *mc;
    rd_kafka_t *rk;
    sigset_t sigs;
    int brokers = 1, rc;
    if ((rc = parse_args(argc, argv, &brokers)) >= 0)
        return rc;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL); /* before librdkafka's threads */
    conf = rd_kafka_conf_new();
    /* the handle only hosts the cluster; it sends nothing */
    rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err);
    if (!(rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err))) {
        fprintf(stderr, "streamctl kafka-mock: %s\n", err);
        return KM_FAILED;
    }
    if (!(mc = rd_kafka_mock_cluster_new(rk, brokers))) {
        fprintf(stderr, "streamctl kafka-mock: cannot start the cluster\n");
        rd_kafka_destroy(rk);
        return KM_FAILED;
    }
    if ((rc = create_topics(mc, argc, argv)) == KM_OK) {
        printf("bootstrap.servers=%s\n", rd_kafka_mock_cluster_bootstraps(mc));
        fflush(stdout);
        serve(mc, &sigs);
    }
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(rk);
    return rc;
}
