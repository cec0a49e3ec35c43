/*
 * The Kafka sink (sink.h, sl_kafka_sink): each batch's records are produced
 * by an idempotent librdkafka producer with the headers sluice.job,
 * sluice.sink, sluice.batch and sluice.seq, and the batch is done only when
 * every record is acknowledged. At-least-once: a replayed batch is produced
 * again with the same headers, so consumers can drop the repeats.
 */
#include "kafka.h"
#include "kafka_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/codec.h"
#include "core/core.h"
#include "core/schema.h"

/* What the sink needs from librdkafka; enable.idempotence is the model
 * (acks=all and ordered retries without duplicates within a run);
 * message.timeout.ms bounds how long a record may stay unacknowledged
 * (librdkafka's default, 5 minutes, would look like a stall). */
static const sl__kafka_prop producer_props[] = {
    {"enable.idempotence", "true", true},
    {"message.timeout.ms", "30000", false},
    {NULL, NULL, false}};

typedef struct ksink {
    sl_context *ctx;
    char *topic, *job, *name;
    char *bootstrap;         /* for messages only */
    const sl_schema *schema; /* the stream's rows' (a reference) */
    int key_col, value_col;  /* columns "key", "value", or -1 */
    rd_kafka_conf_t *rc;     /* until open makes the producer */
    rd_kafka_t *rk;
    int64_t timeout_ms; /* message.timeout.ms */
    /* The batch being written: delivery reports count into these (they
     * run on the job thread, inside rd_kafka_poll and rd_kafka_flush). */
    int64_t batch, produced, acked, failed;
    rd_kafka_resp_err_t first_err;
    int32_t first_partition;
    int64_t rows_batch, rows;
    sl__buf key, value; /* scratch for one record */
} ksink;

/* ------------------------------------------------------ key and value */

/* A value's bytes in a record: strings and binary as they are, anything
 * else as JSON (3, 1.5, true, ["a",2]); *null for a null value. */
static sl_status encode_plain(sl__buf *b, const sl_value *v, bool *null)
{
    size_t n;
    b->len = 0;
    *null = v->kind == SL_KIND_NULL;
    if (*null)
        return SL_OK;
    if (v->kind == SL_KIND_STR || v->kind == SL_KIND_BYTES)
        return sl__buf_append(b, v->u.s, v->len);
    n = sl_value_format_json(v, NULL, 0);
    if (sl__buf_reserve(b, n + 1) != SL_OK)
        return SL_ENOMEM;
    sl_value_format_json(v, b->data, n + 1);
    b->len = n;
    return SL_OK;
}

/* A row's column: strings and binary as they are, anything else as its
 * text as Spark's CAST(col AS STRING) (timestamps "2024-01-02
 * 09:30:00.123"). */
static sl_status encode_cell(sl__buf *b, const sl_type *t, const sl_value *v,
                             bool *null)
{
    b->len = 0;
    *null = v->kind == SL_KIND_NULL;
    if (*null)
        return SL_OK;
    if (v->kind == SL_KIND_STR || v->kind == SL_KIND_BYTES)
        return sl__buf_append(b, v->u.s, v->len);
    return sl__text_put_typed(b, t, v);
}

/* Key and value of record v into k->key and k->value (docs/programming-
 * guide.md, "Kafka sink": rows by their key and value columns, or the
 * row as JSON; pairs as (key, value); anything else as the value). */
static sl_status encode(ksink *k, const sl_value *v, bool *knull, bool *vnull)
{
    sl_status st;
    if (k->schema && v->kind == SL_KIND_TUPLE &&
        v->len == sl_schema_size(k->schema)) {
        *knull = true;
        k->key.len = 0;
        if (k->key_col >= 0 &&
            (st = encode_cell(&k->key, sl_schema_type(k->schema, k->key_col),
                              &v->u.items[k->key_col], knull)) != SL_OK)
            return st;
        if (k->value_col >= 0)
            return encode_cell(&k->value,
                               sl_schema_type(k->schema, k->value_col),
                               &v->u.items[k->value_col], vnull);
        k->value.len = 0;
        *vnull = false;
        return sl__json_put_row(&k->value, k->schema, v);
    }
    if (v->kind == SL_KIND_PAIR) {
        if ((st = encode_plain(&k->key, &v->u.items[0], knull)) != SL_OK)
            return st;
        return encode_plain(&k->value, &v->u.items[1], vnull);
    }
    *knull = true;
    k->key.len = 0;
    return encode_plain(&k->value, v, vnull);
}

/* ----------------------------------------------------------- producing */

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Delivery report: runs on the job thread inside poll and flush. */
static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m,
                        void *opaque)
{
    ksink *k = m->_private;
    (void)rk;
    (void)opaque;
    if (!k)
        return;
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        k->acked++;
        return;
    }
    if (!k->failed++) {
        k->first_err = m->err;
        k->first_partition = m->partition;
    }
}

static rd_kafka_headers_t *headers_of(const ksink *k, int64_t batch,
                                      int64_t seq)
{
    char b[24], s[24];
    rd_kafka_headers_t *h = rd_kafka_headers_new(4);
    if (!h)
        return NULL;
    snprintf(b, sizeof b, "%" PRId64, batch);
    snprintf(s, sizeof s, "%" PRId64, seq);
    rd_kafka_header_add(h, "sluice.job", -1, k->job, -1);
    rd_kafka_header_add(h, "sluice.sink", -1, k->name, -1);
    rd_kafka_header_add(h, "sluice.batch", -1, b, -1);
    rd_kafka_header_add(h, "sluice.seq", -1, s, -1);
    return h;
}

/* Produce one record; a full local queue is waited out (serving delivery
 * reports) until deadline. */
static rd_kafka_resp_err_t produce_one(ksink *k, const sl_value *v, int64_t seq,
                                       int64_t deadline)
{
    bool knull, vnull;
    rd_kafka_resp_err_t err;
    rd_kafka_headers_t *h;
    if (encode(k, v, &knull, &vnull) != SL_OK)
        return RD_KAFKA_RESP_ERR__NOENT; /* out of memory: see write */
    for (;;) {
        if (!(h = headers_of(k, k->batch, seq)))
            return RD_KAFKA_RESP_ERR__NOENT;
        err = rd_kafka_producev(
            k->rk, RD_KAFKA_V_TOPIC(k->topic),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_KEY(knull ? NULL : k->key.data, knull ? 0 : k->key.len),
            RD_KAFKA_V_VALUE(vnull ? NULL : k->value.data,
                             vnull ? 0 : k->value.len),
            RD_KAFKA_V_HEADERS(h), RD_KAFKA_V_OPAQUE(k), RD_KAFKA_V_END);
        if (err == RD_KAFKA_RESP_ERR_NO_ERROR)
            return err; /* the headers are the message's now */
        rd_kafka_headers_destroy(h);
        if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL || now_ms() >= deadline)
            return err;
        rd_kafka_poll(k->rk, 50);
    }
}

/* The reason of a failed batch, with the broker's words. */
static sl_status delivery_failed(ksink *k, rd_kafka_resp_err_t err,
                                 const char *what)
{
    char fatal[512];
    if (rd_kafka_fatal_error(k->rk, fatal, sizeof fatal))
        return sl_context_set_error(k->ctx, SL_EIO,
                                    "topic %s: the producer failed: %s",
                                    k->topic, fatal);
    if (err == RD_KAFKA_RESP_ERR__MSG_TIMED_OUT ||
        err == RD_KAFKA_RESP_ERR__TRANSPORT)
        return sl_context_set_error(
            k->ctx, SL_EIO,
            "topic %s: %s: %s (%s) after retrying for up to "
            "message.timeout.ms=%" PRId64 " (is bootstrap.servers %s "
            "reachable?)",
            k->topic, what, rd_kafka_err2str(err), rd_kafka_err2name(err),
            k->timeout_ms, k->bootstrap);
    return sl_context_set_error(k->ctx, SL_EIO, "topic %s: %s: %s (%s)",
                                k->topic, what, rd_kafka_err2str(err),
                                rd_kafka_err2name(err));
}

/* Wait until every record produced is acknowledged or failed, at most
 * until deadline; then drop whatever is left, so no report of this
 * batch lands in the next. */
static void wait_acks(ksink *k, int64_t deadline)
{
    while (k->acked + k->failed < k->produced && now_ms() < deadline)
        rd_kafka_flush(k->rk, 200);
    if (k->acked + k->failed < k->produced) {
        rd_kafka_purge(k->rk,
                       RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        rd_kafka_flush(k->rk, 1000);
    }
}

static sl_status ksink_write(void *state, int64_t batch, int64_t time_ms,
                             sl_rdd *rdd)
{
    ksink *k = state;
    const sl_value *recs;
    size_t n, i;
    char what[128];
    int64_t deadline = now_ms() + k->timeout_ms + 5000, pending;
    rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
    sl_status st;
    (void)time_ms;
    /* In partition order, so a record's seq is the same in every run of
     * the batch. */
    if ((st = sl_rdd_collect(rdd, &recs, &n)) != SL_OK)
        return st;
    k->batch = batch;
    k->produced = k->acked = k->failed = 0;
    k->rows_batch = -1;
    for (i = 0; i < n && !err && !k->failed; i++) {
        if ((err = produce_one(k, &recs[i], (int64_t)i, deadline)) == 0)
            k->produced++;
        if (i % 1024 == 1023)
            rd_kafka_poll(k->rk, 0);
    }
    wait_acks(k, deadline);
    if (err == RD_KAFKA_RESP_ERR__NOENT)
        return sl_context_set_error(k->ctx, SL_ENOMEM, "out of memory");
    if (err) {
        snprintf(what, sizeof what, "record %zu of %zu not queued", i, n);
        return delivery_failed(k, err, what);
    }
    if (k->failed) {
        snprintf(what, sizeof what,
                 "%" PRId64 " of %zu records not delivered (partition %d)",
                 k->failed, n, (int)k->first_partition);
        return delivery_failed(k, k->first_err, what);
    }
    if ((pending = k->produced - k->acked) > 0)
        return sl_context_set_error(
            k->ctx, SL_ETIMEDOUT,
            "topic %s: %" PRId64 " of %zu records not "
            "acknowledged within message.timeout.ms=%" PRId64 " + 5 s",
            k->topic, pending, n, k->timeout_ms);
    k->rows_batch = batch;
    k->rows = (int64_t)n;
    return SL_OK;
}

/* Before the first batch: the topic's metadata (and, on the way, the
 * connection and the idempotent producer's ID) fetched now, so the first
 * batch does not wait for them (half a second on the mock cluster). A
 * failure here is not one: the first produce reports what is wrong. */
static void warm_up(ksink *k)
{
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_topic_t *t = rd_kafka_topic_new(k->rk, k->topic, NULL);
    if (!t)
        return;
    if (rd_kafka_metadata(k->rk, 0, t, &md, 1000) ==
            RD_KAFKA_RESP_ERR_NO_ERROR &&
        md)
        rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(t);
}

static sl_status ksink_open(void *state, const char *name)
{
    ksink *k = state;
    char err[512];
    sl_free(k->name);
    if (!(k->name = sl__strdup(name)))
        return sl_context_set_error(k->ctx, SL_ENOMEM, "out of memory");
    if (k->rk)
        return SL_OK;
    if (!(k->rk = rd_kafka_new(RD_KAFKA_PRODUCER, k->rc, err, sizeof err)))
        return sl_context_set_error(k->ctx, SL_ECONF,
                                    "cannot make the Kafka producer: %s", err);
    k->rc = NULL; /* the producer's now */
    warm_up(k);
    return SL_OK;
}

static int64_t ksink_rows(void *state, int64_t batch)
{
    ksink *k = state;
    return k->rows_batch == batch ? k->rows : 0;
}

static void ksink_free(void *state)
{
    ksink *k = state;
    if (!k)
        return;
    if (k->rk) {
        /* Nothing is outstanding after a write; after a cut-short one,
         * what is left is dropped (its batch has no commit). */
        rd_kafka_purge(k->rk, RD_KAFKA_PURGE_F_QUEUE);
        rd_kafka_flush(k->rk, 2000);
        rd_kafka_destroy(k->rk);
    }
    if (k->rc)
        rd_kafka_conf_destroy(k->rc);
    sl_schema_release(k->schema);
    sl__buf_free(&k->key);
    sl__buf_free(&k->value);
    sl_free(k->topic);
    sl_free(k->job);
    sl_free(k->name);
    sl_free(k->bootstrap);
    sl_free(k);
}

static const sl_sink_ops ksink_ops = {.version = SL_SINK_OPS_VERSION,
                                      .type = "kafka",
                                      .open = ksink_open,
                                      .write_batch = ksink_write,
                                      .free = ksink_free,
                                      .rows = ksink_rows};

/* ------------------------------------------------------------- making */

bool sl__kafka_topic_valid(const char *topic)
{
    size_t n = strlen(topic);
    if (n == 0 || n > 249 || !strcmp(topic, ".") || !strcmp(topic, ".."))
        return false;
    return strspn(topic, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                         "0123456789._-") == n;
}

bool sl__kafka_sink_prop_ok(const char *name, const char *value, char *errbuf,
                            size_t errlen)
{
    char why[512];
    rd_kafka_conf_t *rc;
    rd_kafka_conf_res_t res;
    size_t i;
    for (i = 0; producer_props[i].name; i++)
        if (producer_props[i].required &&
            !strcmp(name, producer_props[i].name) &&
            strcmp(value, producer_props[i].value)) {
            snprintf(errbuf, errlen,
                     "the Kafka sink sets %s=%s itself (its guarantee needs "
                     "it); remove the property",
                     name, producer_props[i].value);
            return false;
        }
    if (!(rc = rd_kafka_conf_new())) {
        snprintf(errbuf, errlen, "out of memory");
        return false;
    }
    res = rd_kafka_conf_set(rc, name, value, why, sizeof why);
    rd_kafka_conf_destroy(rc);
    if (res == RD_KAFKA_CONF_OK)
        return true;
    if (sl_control_secret_key(name))
        snprintf(errbuf, errlen,
                 "librdkafka refused the value (not shown: "
                 "the key names a secret)");
    else
        snprintf(errbuf, errlen, "%s", why);
    return false;
}

static sl_status check_args(sl_context *ctx, const char *topic,
                            const sl_conf *conf)
{
    if (!topic || !sl__kafka_topic_valid(topic))
        return sl_context_set_error(
            ctx, SL_EINVAL,
            "kafka sink: topic \"%s\": 1 to 249 of the characters "
            "a-z A-Z 0-9 . _ - (Kafka's rule)",
            topic ? topic : "(null)");
    if (!conf || (!sl__kafka_conf_get(conf, "bootstrap.servers") &&
                  !sl__kafka_conf_get(conf, "metadata.broker.list")))
        return sl_context_set_error(ctx, SL_ECONF,
                                    "kafka sink: kafka.bootstrap.servers is "
                                    "required (the brokers, host:port,...)");
    return SL_OK;
}

/* Fill k from s and conf (the producer's conf made, not the producer). */
static sl_status setup(ksink *k, sl_dstream *s, const char *topic,
                       const sl_conf *conf)
{
    const char *job = sl_conf_get(conf, "kafka_sink.job");
    const char *bs = sl__kafka_conf_get(conf, "bootstrap.servers");
    const char *tmo = sl__kafka_conf_get(conf, "message.timeout.ms");
    char err[512], who[300];
    if (!bs)
        bs = sl__kafka_conf_get(conf, "metadata.broker.list");
    k->timeout_ms = tmo ? atoll(tmo) : 30000;
    if (k->timeout_ms <= 0) /* 0 is librdkafka's "no limit" */
        k->timeout_ms = 24LL * 3600 * 1000;
    if (!(k->topic = sl__strdup(topic)) ||
        !(k->job = sl__strdup(job ? job : "")) ||
        !(k->bootstrap = sl__strdup(bs)) || !(k->name = sl__strdup("kafka")))
        return sl_context_set_error(k->ctx, SL_ENOMEM, "out of memory");
    if ((k->schema = sl_dstream_schema(s)) != NULL) {
        sl_schema_retain(k->schema);
        k->key_col = sl_schema_find(k->schema, "key");
        k->value_col = sl_schema_find(k->schema, "value");
    }
    snprintf(who, sizeof who, "kafka sink (topic %s)", topic);
    if (!(k->rc = sl__kafka_conf_new(k->ctx, conf, who, producer_props, err,
                                     sizeof err)))
        return sl_context_set_error(k->ctx, SL_ECONF, "kafka sink: %s", err);
    rd_kafka_conf_set_dr_msg_cb(k->rc, on_delivery);
    return SL_OK;
}

sl_status sl_kafka_sink(sl_dstream *s, const char *name, const char *topic,
                        const sl_conf *conf)
{
    sl_context *ctx = s ? sl_dstream_context(s) : NULL;
    ksink *k;
    sl_status st;
    if (!ctx)
        return SL_EINVAL;
    if ((st = check_args(ctx, topic, conf)) != SL_OK)
        return st;
    if (!(k = sl_malloc(sizeof *k)))
        return sl_context_set_error(ctx, SL_ENOMEM, "out of memory");
    memset(k, 0, sizeof *k);
    k->ctx = ctx;
    k->key_col = k->value_col = -1;
    k->batch = k->rows_batch = -1;
    if ((st = setup(k, s, topic, conf)) != SL_OK) {
        ksink_free(k);
        return st;
    }
    return sl_dstream_add_sink(s, name, &ksink_ops, k);
}
