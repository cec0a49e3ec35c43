/*
 * streamctl kafka-mock: librdkafka's mock cluster for examples and tests.
 */
#ifndef STREAMCTL_KAFKA_MOCK_H
#define STREAMCTL_KAFKA_MOCK_H

#include <stdio.h>

/* The command's help, on f. */
void streamctl_usage_kafka_mock(FILE *f);
/* streamctl kafka-mock ARGS (argv[1] is "kafka-mock"): an exit status. */
int streamctl_cmd_kafka_mock(int argc, char **argv);

#endif /* STREAMCTL_KAFKA_MOCK_H */
