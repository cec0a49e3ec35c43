/*
 * The Kafka connector's entry points for the job layer (src/job), with no
 * librdkafka type in them: what validate needs to check a job file's
 * "kafka" properties field by field, before anything is built.
 */
#ifndef SL_KAFKA_H
#define SL_KAFKA_H

#include <stdbool.h>
#include <stddef.h>

/* Whether topic is a valid Kafka topic name: 1 to 249 of a-z A-Z 0-9
 * . _ -, not "." or "..". */
bool sl__kafka_topic_valid(const char *topic);

/*
 * Whether the Kafka sink's producer takes property name (librdkafka's,
 * without "kafka.") with value: librdkafka accepts it and it does not
 * change what the sink needs (enable.idempotence=true). Otherwise false
 * with the reason in errbuf, without the property's name and, for a
 * secret (sl_control_secret_key), without its value.
 */
bool sl__kafka_sink_prop_ok(const char *name, const char *value, char *errbuf,
                            size_t errlen);

#endif /* SL_KAFKA_H */
