/*
 * Internals shared by the Kafka source and sink (connectors/kafka): the
 * one way a librdkafka configuration is made from an sl_conf, with the
 * properties sluice's model needs, the user's pass-through properties
 * ("kafka.*", checked by librdkafka and named in its errors), secrets
 * never echoed, and librdkafka's logs routed to the context's logger.
 */
#ifndef SL_KAFKA_INT_H
#define SL_KAFKA_INT_H

#include <librdkafka/rdkafka.h>
#include <sluice/sluice.h>

/* A property sluice sets on a client. */
typedef struct sl__kafka_prop {
    const char *name; /* librdkafka's name, without "kafka." */
    const char *value;
    /* true: the model needs exactly this value; a user's other value is
     * refused (errbuf names both). false: a default the user may change
     * (isolation.level). */
    bool required;
} sl__kafka_prop;

/*
 * A librdkafka configuration for the client `who` ("kafka source words")
 * of ctx: sluice's props (ending with a NULL name) first, then every
 * "kafka.*" pass-through property of conf (the prefix taken off), then
 * the log callback into ctx's logger and the error callback. A property
 * librdkafka refuses fails with "kafka.NAME: REASON" in errbuf (the value
 * left out when NAME is a secret, sl_control_secret_key). Returns the
 * configuration (rd_kafka_new takes it) or NULL.
 */
rd_kafka_conf_t *sl__kafka_conf_new(sl_context *ctx, const sl_conf *conf,
                                    const char *who,
                                    const sl__kafka_prop *props, char *errbuf,
                                    size_t errlen);

/* The value conf gives pass-through property name (without "kafka."),
 * or NULL. */
const char *sl__kafka_conf_get(const sl_conf *conf, const char *name);

#endif /* SL_KAFKA_INT_H */
