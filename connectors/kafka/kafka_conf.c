/*
 * librdkafka configurations made from an sl_conf (see kafka_int.h): the
 * properties sluice's model needs, the user's pass-through ones, and
 * librdkafka's logs in the context's logger.
 */
#include "kafka_int.h"

#include <stdio.h>
#include <string.h>

const char *sl__kafka_conf_get(const sl_conf *conf, const char *name)
{
    const char *n, *v;
    size_t i;
    for (i = 0; sl_conf_passthrough_at(conf, i, &n, &v); i++)
        if (!strcmp(n + 6, name)) /* after "kafka." */
            return v;
    return NULL;
}

/* librdkafka's syslog levels onto sluice's. */
static sl_log_level level_of(int level)
{
    return level <= 3   ? SL_LOG_ERROR
           : level <= 4 ? SL_LOG_WARN
           : level <= 6 ? SL_LOG_INFO
                        : SL_LOG_DEBUG;
}

/* The context rides in the configuration's opaque pointer. */
static void on_log(const rd_kafka_t *rk, int level, const char *fac,
                   const char *buf)
{
    sl_context *ctx = rd_kafka_opaque(rk);
    if (ctx)
        sl_context_log(ctx, level_of(level), "kafka %s: %s: %s",
                       rd_kafka_name(rk), fac, buf);
}

static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    sl_context *ctx = opaque;
    /* transport errors are retried by librdkafka: a warning; a fatal
     * error ends the client: an error the connector then reports */
    sl_context_log(ctx,
                   err == RD_KAFKA_RESP_ERR__FATAL ? SL_LOG_ERROR : SL_LOG_WARN,
                   "kafka %s: %s: %s", rd_kafka_name(rk),
                   rd_kafka_err2name((rd_kafka_resp_err_t)err), reason);
}

static bool set_one(rd_kafka_conf_t *rc, const char *name, const char *value,
                    char *errbuf, size_t errlen)
{
    char why[512];
    if (rd_kafka_conf_set(rc, name, value, why, sizeof why) == RD_KAFKA_CONF_OK)
        return true;
    /* librdkafka's message may quote the value: not for a secret */
    if (sl_control_secret_key(name))
        snprintf(errbuf, errlen, "kafka.%s: librdkafka refused the value",
                 name);
    else
        snprintf(errbuf, errlen, "kafka.%s: %s", name, why);
    return false;
}

/* A user's value for a property the model needs is refused. */
static bool check_required(const sl_conf *conf, const sl__kafka_prop *p,
                           const char *who, char *errbuf, size_t errlen)
{
    const char *user = sl__kafka_conf_get(conf, p->name);
    if (!p->required || !user || !strcmp(user, p->value))
        return true;
    snprintf(errbuf, errlen,
             "kafka.%s: %s sets %s=%s itself (docs/programming-guide.md, "
             "\"Kafka\"); remove \"%s\" from the kafka properties",
             p->name, who, p->name, p->value, p->name);
    return false;
}

rd_kafka_conf_t *sl__kafka_conf_new(sl_context *ctx, const sl_conf *conf,
                                    const char *who,
                                    const sl__kafka_prop *props, char *errbuf,
                                    size_t errlen)
{
    rd_kafka_conf_t *rc = rd_kafka_conf_new();
    const char *n, *v;
    size_t i;
    if (!rc) {
        snprintf(errbuf, errlen, "%s: out of memory", who);
        return NULL;
    }
    for (i = 0; props && props[i].name; i++)
        if (!check_required(conf, &props[i], who, errbuf, errlen) ||
            !set_one(rc, props[i].name, props[i].value, errbuf, errlen))
            goto fail;
    for (i = 0; sl_conf_passthrough_at(conf, i, &n, &v); i++)
        if (!set_one(rc, n + 6, v, errbuf, errlen))
            goto fail;
    rd_kafka_conf_set_opaque(rc, ctx);
    rd_kafka_conf_set_log_cb(rc, on_log);
    rd_kafka_conf_set_error_cb(rc, on_error);
    return rc;
fail:
    rd_kafka_conf_destroy(rc);
    return NULL;
}
