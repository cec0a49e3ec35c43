/*
 * The Kafka source's readers: worker tasks that read one partition's
 * planned range with a pooled consumer, until the consumer's position
 * reaches the range's end, and turn each message into a record (a value,
 * a pair, Spark's row, or a row parsed by kafka.source.format).
 */
#include "kafka/kafka_src_int.h"
#include "core/core.h"
#include "rdd/rdd.h"

#include <stdio.h>
#include <string.h>

/* ------------------------------------------------------------- reading */

/* The description of one reader partition (copied by the plan). */
typedef struct kdesc {
    int64_t start, end;
    int32_t partition;
    uint32_t replay;
    uint32_t topic_len;
    /* followed by the topic, NUL-terminated */
} kdesc;

static rd_kafka_t *pool_get(ksrc *ks, char *err, size_t errlen)
{
    rd_kafka_t *rk = NULL;
    pthread_mutex_lock(&ks->mu);
    if (ks->npool)
        rk = ks->pool[--ks->npool];
    pthread_mutex_unlock(&ks->mu);
    return rk ? rk : sl__ksrc_consumer_new(ks, ks->who, err, errlen);
}

static void pool_put(ksrc *ks, rd_kafka_t *rk)
{
    bool kept = false;
    rd_kafka_assign(rk, NULL);
    pthread_mutex_lock(&ks->mu);
    if (ks->npool == ks->pool_cap) {
        size_t cap = ks->pool_cap ? ks->pool_cap * 2 : 8;
        rd_kafka_t **v = sl_realloc(ks->pool, cap * sizeof *v);
        if (v) {
            ks->pool = v;
            ks->pool_cap = cap;
        }
    }
    if (ks->npool < ks->pool_cap) {
        ks->pool[ks->npool++] = rk;
        kept = true;
    }
    pthread_mutex_unlock(&ks->mu);
    if (!kept)
        rd_kafka_destroy(rk);
}

static sl_status bytes_of(sl_task *t, const void *p, size_t n, sl_value *out)
{
    void *copy;
    if (!p) {
        *out = sl_null();
        return SL_OK;
    }
    if (!(copy = n ? sl_task_alloc(t, n) : (void *)""))
        return SL_ENOMEM;
    if (n)
        memcpy(copy, p, n);
    *out = sl_bytes(copy, n);
    return SL_OK;
}

static sl_status str_of(sl_task *t, const void *p, size_t n, sl_value *out)
{
    if (!p) {
        *out = sl_null();
        return SL_OK;
    }
    return sl_task_str(t, p, n, out);
}

/* The headers as a list of (key, value) structs. */
static sl_status headers_of(sl_task *t, rd_kafka_message_t *m, sl_value *out)
{
    rd_kafka_headers_t *hs = NULL;
    sl_value *items;
    size_t n, i;
    if (rd_kafka_message_headers(m, &hs) != RD_KAFKA_RESP_ERR_NO_ERROR ||
        !(n = rd_kafka_header_cnt(hs))) {
        *out = sl_composite(SL_KIND_LIST, NULL, 0);
        return SL_OK;
    }
    if (!(items = sl_task_alloc(t, n * 3 * sizeof *items)))
        return SL_ENOMEM;
    for (i = 0; i < n; i++) {
        const char *name;
        const void *v;
        size_t len;
        sl_value *kv = items + n + 2 * i;
        sl_status st;
        rd_kafka_header_get_all(hs, i, &name, &v, &len);
        if ((st = str_of(t, name, strlen(name), &kv[0])) != SL_OK ||
            (st = bytes_of(t, v, len, &kv[1])) != SL_OK)
            return st;
        items[i] = sl_composite(SL_KIND_TUPLE, kv, 2);
    }
    *out = sl_composite(SL_KIND_LIST, items, n);
    return SL_OK;
}

/* A value that kafka.source.format cannot read: counted, logged at the
 * first and every 1000th, written to the dead-letter file; fails the task
 * with parse_mode fail_fast. */
static sl_status malformed(ksrc *ks, sl_task *t, const sl__rec_reader *rr,
                           const rd_kafka_message_t *m, const char *topic,
                           const char *why)
{
    long long n = ADD(ks->malformed, 1);
    char where[300];
    snprintf(where, sizeof where, "%s[%d] offset %lld", topic,
             (int)m->partition, (long long)m->offset);
    if (!rr->fail && (n == 1 || n % 1000 == 0))
        sl_context_log(ks->ctx, SL_LOG_WARN,
                       "%s: malformed record at %s, %s: %s; %lld malformed "
                       "so far",
                       ks->who, where, sl__rec_malformed_fate(rr), why, n);
    if (ks->dead) {
        sl__dead_letter r = {.batch = sl_task_batch_id(t),
                             .source = ks->who + sizeof "kafka source",
                             .reason = "malformed",
                             .error = why,
                             .text = m->payload ? m->payload : "",
                             .text_len = m->payload ? m->len : 0,
                             .file = where};
        sl__dead_letters_put(ks->dead, &r);
    }
    if (rr->fail)
        return sl__task_fail(t, SL_EPARSE,
                             "%s: malformed record at %s (parse_mode "
                             "fail_fast): %s",
                             ks->who, where, why);
    return SL_OK;
}

/* The value parsed by kafka.source.format (and schema) into a record. */
static sl_status emit_parsed(ksrc *ks, sl_task *t, sl__rec_reader *rr,
                             sl__arena *parse, rd_kafka_message_t *m,
                             const char *topic)
{
    const char *text = m->payload ? m->payload : "";
    size_t len = m->payload ? m->len : 0;
    sl_value rec, out;
    char err[160];
    sl_status st;

    while (len && (text[len - 1] == '\n' || text[len - 1] == '\r'))
        len--; /* a producer's line ending is no part of the record */
    st = sl__rec_parse(rr, text, len, sl__rec_arena_alloc, parse, &rec, err,
                       sizeof err);
    if (st == SL_OK)
        st = sl__task_copy(t, &rec, &out);
    sl__arena_reset(parse);
    if (st == SL_ENOTFOUND)
        return SL_OK; /* a CSV header line */
    if (st == SL_EPARSE || (st == SL_OK && rr->row_malformed)) {
        sl_status bad = malformed(ks, t, rr, m, topic, err);
        if (bad != SL_OK || st == SL_EPARSE)
            return bad;
    }
    return st != SL_OK ? st : sl_task_emit(t, &out);
}

static sl_status emit(ksrc *ks, sl_task *t, sl__rec_reader *rr,
                      sl__arena *parse, rd_kafka_message_t *m,
                      const char *topic)
{
    sl_value k, v, rec;
    sl_status st;
    if (ks->records == REC_ROWS) {
        sl_value *c = sl_task_alloc(t, 7 * sizeof *c);
        rd_kafka_timestamp_type_t tt;
        int64_t ts;
        if (!c)
            return SL_ENOMEM;
        ts = rd_kafka_message_timestamp(m, &tt);
        if ((st = bytes_of(t, m->key, m->key_len, &c[0])) != SL_OK ||
            (st = bytes_of(t, m->payload, m->len, &c[1])) != SL_OK ||
            (st = sl_task_str(t, topic, strlen(topic), &c[2])) != SL_OK ||
            (st = headers_of(t, m, &c[6])) != SL_OK)
            return st;
        c[3] = sl_int(m->partition);
        c[4] = sl_int(m->offset);
        c[5] = tt == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE ? sl_null() : sl_int(ts);
        rec = sl_composite(SL_KIND_TUPLE, c, 7);
        return sl_task_emit(t, &rec);
    }
    if (ks->parse)
        return emit_parsed(ks, t, rr, parse, m, topic);
    if ((st = str_of(t, m->payload, m->len, &v)) != SL_OK)
        return st;
    if (ks->records == REC_VALUES)
        return sl_task_emit(t, &v);
    if ((st = str_of(t, m->key, m->key_len, &k)) != SL_OK ||
        (st = sl_task_pair(t, &k, &v, &rec)) != SL_OK)
        return st;
    return sl_task_emit(t, &rec);
}

/* Offsets [pos, lo) are gone: fail, or say so, count, and go on at lo. */
static sl_status data_loss(ksrc *ks, sl_task *t, const char *topic,
                           int32_t partition, int64_t pos, int64_t lo)
{
    if (ks->fail_on_loss)
        return sl__task_fail(t, SL_ENOTFOUND,
                             "%s: %s[%d] offsets %lld..%lld were deleted "
                             "(retention) before they were read; "
                             "kafka.source.fail_on_data_loss is true "
                             "(docs/programming-guide.md, \"Kafka\")",
                             ks->who, topic, (int)partition, (long long)pos,
                             (long long)lo - 1);
    ADD(ks->lost, lo - pos);
    sl_context_log(ks->ctx, SL_LOG_WARN,
                   "%s: %s[%d] offsets %lld..%lld were deleted (retention) "
                   "before they were read: %lld records lost, going on at "
                   "%lld (kafka.source.fail_on_data_loss is false)",
                   ks->who, topic, (int)partition, (long long)pos,
                   (long long)lo - 1, (long long)(lo - pos), (long long)lo);
    return SL_OK;
}

/* Errors that retrying cannot mend: the client is not allowed. */
static bool not_allowed(rd_kafka_resp_err_t e)
{
    return e == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED ||
           e == RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED ||
           e == RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED ||
           e == RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED ||
           e == RD_KAFKA_RESP_ERR__AUTHENTICATION;
}

static sl_status assign_at(rd_kafka_t *rk, const char *topic, int32_t partition,
                           int64_t off)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_resp_err_t e;
    if (!l)
        return SL_ENOMEM;
    rd_kafka_topic_partition_list_add(l, topic, partition)->offset = off;
    e = rd_kafka_assign(rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    return e ? SL_EIO : SL_OK;
}

/*
 * Read [start, end) of one partition: until the consumer's position
 * reaches end (control records and compaction leave gaps, so not a
 * count of records). A read that makes no progress for
 * kafka.source.timeout fails the task, which fails the batch.
 */
static sl_status read_range(ksrc *ks, sl_task *t, rd_kafka_t *rk,
                            const char *topic, const kdesc *d,
                            sl__rec_reader *rr, sl__arena *parse)
{
    int64_t pos = d->start, last = sl__now_mono_ms();
    sl_status st = assign_at(rk, topic, d->partition, d->start);
    char why[256] = "no records arrived";

    while (st == SL_OK && pos < d->end) {
        rd_kafka_message_t *m;
        if (sl_task_interrupted(t))
            return sl__task_fail(t, SL_ESTOPPED,
                                 "interrupted by stop while reading %s[%d]",
                                 topic, (int)d->partition);
        if (sl__now_mono_ms() - last > ks->timeout_ms)
            return sl__task_fail(t, SL_ETIMEDOUT,
                                 "%s: reading %s[%d] at offset %lld (of "
                                 "%lld..%lld) made no progress for "
                                 "kafka.source.timeout: %s",
                                 ks->who, topic, (int)d->partition,
                                 (long long)pos, (long long)d->start,
                                 (long long)d->end - 1, why);
        if (!(m = rd_kafka_consumer_poll(rk, 100))) {
            rd_kafka_topic_partition_list_t *l =
                rd_kafka_topic_partition_list_new(1);
            if (l) {
                rd_kafka_topic_partition_list_add(l, topic, d->partition);
                if (!rd_kafka_position(rk, l) && l->elems[0].offset >= d->end)
                    pos = d->end; /* a gap up to the end */
                rd_kafka_topic_partition_list_destroy(l);
            }
            continue;
        }
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            if (m->offset >= d->end)
                pos = d->end;
        } else if (m->err == RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE ||
                   m->err == RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET) {
            int64_t lo = -1, hi = -1;
            rd_kafka_query_watermark_offsets(rk, topic, d->partition, &lo, &hi,
                                             (int)ks->timeout_ms);
            if (lo > pos) {
                st = data_loss(ks, t, topic, d->partition, pos,
                               lo < d->end ? lo : d->end);
                pos = lo < d->end ? lo : d->end;
                if (st == SL_OK && pos < d->end)
                    st = assign_at(rk, topic, d->partition, pos);
            } else {
                snprintf(why, sizeof why, "%s", rd_kafka_message_errstr(m));
            }
        } else if (m->err && not_allowed(m->err)) {
            /* no retry makes it allowed: say so now, not after the
             * timeout */
            st = sl__task_fail(t, SL_EIO,
                               "%s: reading %s[%d]: %s (%s): check the "
                               "credentials and ACLs in the source's "
                               "kafka properties",
                               ks->who, topic, (int)d->partition,
                               rd_kafka_message_errstr(m),
                               rd_kafka_err2name(m->err));
        } else if (m->err) {
            snprintf(why, sizeof why, "%s", rd_kafka_message_errstr(m));
        } else if (m->partition == d->partition && m->offset >= pos) {
            if (m->offset >= d->end) {
                pos = d->end;
            } else {
                st = emit(ks, t, rr, parse, m, topic);
                pos = m->offset + 1;
                last = sl__now_mono_ms();
                ADD(ks->read, 1);
            }
        }
        rd_kafka_message_destroy(m);
    }
    return st;
}

static sl_status kafka_read(sl_task *t, const void *desc, void *user)
{
    ksrc *ks = user;
    kdesc d;
    char err[600] = "";
    const char *topic = (const char *)desc + sizeof d;
    rd_kafka_t *rk;
    sl_status st;

    sl__rec_reader rr;
    sl__arena parse;

    memcpy(&d, desc, sizeof d); /* the copy may not be aligned */
    if (ks->parse && sl__rec_reader_init(&rr, &ks->rec, err, sizeof err))
        return sl__task_fail(t, SL_ENOMEM, "%s: %s", ks->who, err);
    if (!(rk = pool_get(ks, err, sizeof err))) {
        if (ks->parse)
            sl__rec_reader_free(&rr);
        return sl__task_fail(t, SL_ECONF, "%s", err);
    }
    sl__arena_init(&parse, 16384);
    st = read_range(ks, t, rk, topic, &d, ks->parse ? &rr : NULL, &parse);
    sl__arena_free(&parse);
    if (ks->parse)
        sl__rec_reader_free(&rr);
    pool_put(ks, rk);
    return st;
}

sl_status sl__ksrc_add_reader(ksrc *ks, sl_plan *plan, const char *topic,
                              int32_t partition, int64_t start, int64_t end,
                              bool replay)
{
    size_t tl = strlen(topic), n = sizeof(kdesc) + tl + 1;
    char *b = sl_malloc(n);
    kdesc d;
    sl_status st;
    if (!b)
        return SL_ENOMEM;
    memset(&d, 0, sizeof d);
    d.start = start;
    d.end = end;
    d.partition = partition;
    d.replay = replay;
    d.topic_len = (uint32_t)tl;
    memcpy(b, &d, sizeof d);
    memcpy(b + sizeof d, topic, tl + 1);
    st = sl_plan_add_reader(plan, kafka_read, b, n, ks);
    sl_free(b);
    if (st == SL_OK)
        sl_plan_add_records(plan, end - start);
    return st;
}
