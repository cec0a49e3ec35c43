/*
 * The Kafka source, a planned source over librdkafka: on the job thread
 * each batch takes, per partition, the offsets from the last one taken up
 * to the partition's end (at most kafka.source.max_records_per_partition),
 * records those ranges as the batch's offsets, and worker tasks read them
 * with consumers of their own (no record passes the I/O thread). A replay
 * reads the recorded ranges again: exactly-once input with a checkpoint.
 */
#include "kafka/kafka_int.h"
#include "kafka/kafka_src_int.h"
#include "core/core.h"
#include "core/records.h"
#include "rdd/rdd.h"
#include "stream/stream_int.h"

#include <cJSON.h>
#include <pthread.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Spark's columns of a Kafka record (records "rows"). */
static const char rows_ddl[] =
    "key binary, value binary, topic string, partition int, offset long, "
    "timestamp timestamp, headers array<struct<key: string, value: binary>>";

/* ------------------------------------------------------------ clients */

/* A consumer configuration for who; errbuf names a refused property. */
static rd_kafka_conf_t *consumer_conf(ksrc *ks, const char *who, char *err,
                                      size_t errlen)
{
    char group[200];
    const char *name = sl_conf_get(ks->conf, "source.name");
    sl__kafka_prop props[] = {
        {"enable.auto.commit", "false", true},
        {"enable.auto.offset.store", "false", true},
        {"isolation.level", "read_committed", false},
        {"auto.offset.reset", ks->fail_on_loss ? "error" : "earliest", false},
        {"enable.partition.eof", "true", true},
        {"group.id", group, false},
        /* a reader knows its range is there (planned from the end
         * offsets): waiting for more bytes only delays the batch */
        {"fetch.wait.max.ms", "10", false},
        {"fetch.error.backoff.ms", "50", false},
        {NULL, NULL, false}};

    snprintf(group, sizeof group, "sluice-%s", *name ? name : "kafka");
    return sl__kafka_conf_new(ks->ctx, ks->conf, who, props, err, errlen);
}

rd_kafka_t *sl__ksrc_consumer_new(ksrc *ks, const char *who, char *err,
                                  size_t errlen)
{
    char errstr[512];
    rd_kafka_conf_t *rc = consumer_conf(ks, who, err, errlen);
    rd_kafka_t *rk;

    if (!rc)
        return NULL;
    if (!(rk = rd_kafka_new(RD_KAFKA_CONSUMER, rc, errstr, sizeof errstr))) {
        snprintf(err, errlen, "%s: %s", who, errstr);
        rd_kafka_conf_destroy(rc);
        return NULL;
    }
    return rk;
}

/* A user's property that goes against the model is named once. */
static void warn_conflicts(ksrc *ks)
{
    const char *v = sl__kafka_conf_get(ks->conf, "isolation.level");
    if (v && strcmp(v, "read_committed"))
        sl_context_log(ks->ctx, SL_LOG_WARN,
                       "%s: kafka.isolation.level=%s: records of aborted "
                       "transactions are read too",
                       ks->who, v);
    v = sl__kafka_conf_get(ks->conf, "auto.offset.reset");
    if (v)
        sl_context_log(ks->ctx, SL_LOG_WARN,
                       "%s: kafka.auto.offset.reset=%s is overridden: the "
                       "start is kafka.source.starting_offsets, lost offsets "
                       "follow kafka.source.fail_on_data_loss",
                       ks->who, v);
}

/* -------------------------------------------------------- partitions */

static kpart *part_find(ksrc *ks, const char *topic, int32_t partition)
{
    size_t i;
    for (i = 0; i < ks->nparts; i++)
        if (ks->parts[i].partition == partition &&
            !strcmp(ks->parts[i].topic, topic))
            return &ks->parts[i];
    return NULL;
}

static kpart *part_add(ksrc *ks, const char *topic, int32_t partition)
{
    kpart *p;
    if (ks->nparts == ks->cap) {
        size_t cap = ks->cap ? ks->cap * 2 : 16;
        kpart *v = sl_realloc(ks->parts, cap * sizeof *v);
        if (!v)
            return NULL;
        ks->parts = v;
        ks->cap = cap;
    }
    p = &ks->parts[ks->nparts];
    if (!(p->topic = sl__strdup(topic)))
        return NULL;
    p->partition = partition;
    p->pos = -1;
    p->lag = -1;
    p->bound = -1;
    ks->nparts++;
    return p;
}

static bool wanted(const ksrc *ks, const char *topic)
{
    size_t i;
    if (ks->has_pattern)
        return topic[0] != '_' && regexec(&ks->pattern, topic, 0, NULL, 0) == 0;
    for (i = 0; i < ks->ntopics; i++)
        if (!strcmp(ks->topics[i], topic))
            return true;
    return false;
}

/* A warning at most every 10 s, so that an unreachable cluster is said
 * without flooding the log. */
static void warn_limited(ksrc *ks, const char *fmt, const char *a,
                         const char *b)
{
    int64_t now = sl__now_mono_ms();
    if (ks->warn_ms && now - ks->warn_ms < 10000)
        return;
    ks->warn_ms = now;
    sl_context_log(ks->ctx, SL_LOG_WARN, fmt, ks->who, a, b);
}

/*
 * Bring the partition list up to date from the cluster's metadata: new
 * partitions and topics (a pattern's new topics) are added. A cluster
 * that cannot be reached keeps the partitions known (retried at the next
 * batch); an authorization error is final (SL_EIO, err says it).
 */
static sl_status refresh(ksrc *ks, char *err, size_t errlen)
{
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t e;
    int i, j;
    size_t k;

    /* Made at the first batch, not when the source is: a client connects
     * at once, and validate's trial build must not reach for brokers. */
    if (!ks->meta &&
        !(ks->meta = sl__ksrc_consumer_new(ks, ks->who, err, errlen)))
        return SL_ECONF;
    e = rd_kafka_metadata(ks->meta, 1, NULL, &md, (int)ks->timeout_ms);
    if (e) {
        warn_limited(ks,
                     "%s: cannot get the cluster's metadata: %s (%s); "
                     "retrying at the next batch",
                     rd_kafka_err2str(e),
                     "is kafka.bootstrap.servers right and a broker up?");
        return SL_OK;
    }
    for (i = 0; i < md->topic_cnt; i++) {
        const rd_kafka_metadata_topic_t *t = &md->topics[i];
        if (!wanted(ks, t->topic))
            continue;
        if (t->err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED) {
            snprintf(err, errlen, "not authorized to read topic '%s': %s",
                     t->topic, rd_kafka_err2str(t->err));
            rd_kafka_metadata_destroy(md);
            return SL_EIO;
        }
        for (j = 0; j < t->partition_cnt; j++)
            if (!part_find(ks, t->topic, t->partitions[j].id) &&
                !part_add(ks, t->topic, t->partitions[j].id)) {
                rd_kafka_metadata_destroy(md);
                return SL_ENOMEM;
            }
    }
    /* Listed topics the cluster does not have: said, and waited for. */
    for (k = 0; !ks->has_pattern && k < ks->ntopics; k++) {
        bool found = false;
        for (i = 0; i < md->topic_cnt && !found; i++)
            found = !strcmp(md->topics[i].topic, ks->topics[k]) &&
                    md->topics[i].partition_cnt > 0;
        if (!found)
            warn_limited(ks, "%s: topic '%s' does not exist%s", ks->topics[k],
                         " (yet): waiting for it");
    }
    rd_kafka_metadata_destroy(md);
    return SL_OK;
}

/* The first offset of a partition new to the source: starting_offsets
 * at the first plan, earliest for partitions found later (Spark's rule). */
static int64_t start_of(ksrc *ks, const kpart *p, int64_t lo, int64_t hi)
{
    const cJSON *t, *o;
    char num[16];
    if (ks->first_plan_done)
        return lo;
    if (ks->start_mode == START_LATEST)
        return hi;
    if (ks->start_mode == START_EARLIEST)
        return lo;
    snprintf(num, sizeof num, "%d", (int)p->partition);
    t = cJSON_GetObjectItemCaseSensitive(ks->start_json, p->topic);
    o = t ? cJSON_GetObjectItemCaseSensitive(t, num) : NULL;
    if (!o || o->valuedouble == -2)
        return lo;
    if (o->valuedouble == -1)
        return hi;
    return (int64_t)o->valuedouble;
}

/* ------------------------------------------------------------ planning */

/* Keep ends for commit_offsets (taken over: *o is emptied). */
static void keep_batch(ksrc *ks, int64_t batch_id, sl__koffs *o)
{
    kbatch *b, **tail;
    if (!ks->commit_offsets || !(b = sl_malloc(sizeof *b)))
        return;
    b->next = NULL;
    b->batch_id = batch_id;
    b->ends = *o;
    memset(o, 0, sizeof *o);
    for (tail = &ks->pending; *tail; tail = &(*tail)->next)
        ;
    *tail = b;
}

static sl_status set_offsets(ksrc *ks, int64_t batch_id, sl_plan *plan,
                             sl__koffs *o)
{
    char *json = sl__koffs_print(o);
    sl_status st = json ? sl_plan_set_offsets(plan, json) : SL_ENOMEM;
    sl_free(json);
    if (st == SL_OK)
        keep_batch(ks, batch_id, o);
    return st;
}

static sl_status kafka_plan(void *state, int64_t batch_id, int64_t time_ms,
                            sl_plan *plan)
{
    ksrc *ks = state;
    sl__koffs o = {NULL, 0, 0};
    char err[512] = "";
    int64_t lag = 0;
    bool lag_known = true;
    sl_status st;
    size_t i;
    (void)time_ms;

    if ((st = refresh(ks, err, sizeof err)) != SL_OK) {
        sl_plan_set_error(plan, "%s: %s", ks->who, err);
        return st;
    }
    for (i = 0; i < ks->nparts && st == SL_OK; i++) {
        kpart *p = &ks->parts[i];
        int64_t lo, hi, end;
        rd_kafka_resp_err_t e = rd_kafka_query_watermark_offsets(
            ks->meta, p->topic, p->partition, &lo, &hi, (int)ks->timeout_ms);
        if (e) {
            warn_limited(ks,
                         "%s: cannot get the end offset of %s: %s; "
                         "retrying at the next batch",
                         p->topic, rd_kafka_err2str(e));
            lag_known = false;
            if (p->pos >= 0)
                st = sl__koffs_add(&o, p->topic, p->partition, p->pos, p->pos,
                                   -1);
            continue;
        }
        if (p->pos < 0)
            p->pos = start_of(ks, p, lo, hi);
        if (p->pos > hi) {
            sl_context_log(ks->ctx, SL_LOG_WARN,
                           "%s: %s[%d] ends at %lld, before offset %lld the "
                           "source had reached (the topic was recreated?): "
                           "going on from %lld",
                           ks->who, p->topic, (int)p->partition, (long long)hi,
                           (long long)p->pos, (long long)hi);
            p->pos = hi;
        }
        if (p->pos < lo) {
            if (ks->fail_on_loss) {
                sl_plan_set_error(plan,
                                  "%s: %s[%d] offsets %lld..%lld were deleted "
                                  "(retention) before they were read; "
                                  "kafka.source.fail_on_data_loss is true "
                                  "(docs/programming-guide.md, \"Kafka\")",
                                  ks->who, p->topic, (int)p->partition,
                                  (long long)p->pos, (long long)lo - 1);
                sl__koffs_free(&o);
                return SL_ENOTFOUND;
            }
            ADD(ks->lost, lo - p->pos);
            sl_context_log(ks->ctx, SL_LOG_WARN,
                           "%s: %s[%d] offsets %lld..%lld were deleted "
                           "(retention) before they were read: %lld records "
                           "lost, going on at %lld "
                           "(kafka.source.fail_on_data_loss is false)",
                           ks->who, p->topic, (int)p->partition,
                           (long long)p->pos, (long long)lo - 1,
                           (long long)(lo - p->pos), (long long)lo);
            p->pos = lo;
        }
        end = hi;
        if (ks->max_per_part > 0 && end - p->pos > ks->max_per_part)
            end = p->pos + ks->max_per_part;
        if (ks->bounded && end > (p->bound < 0 ? p->pos : p->bound))
            end = p->bound < 0 ? p->pos : p->bound;
        if (end < p->pos)
            end = p->pos;
        p->lag = hi - end;
        lag += p->lag;
        if (end > p->pos)
            st = sl__ksrc_add_reader(ks, plan, p->topic, p->partition, p->pos,
                                     end, false);
        if (st == SL_OK)
            st = sl__koffs_add(&o, p->topic, p->partition, p->pos, end, p->lag);
        p->pos = end;
    }
    ks->first_plan_done = true;
    ks->planned_once = true;
    __atomic_store_n(&ks->lag_total, lag_known ? lag : -1, __ATOMIC_RELAXED);
    if (st == SL_OK)
        st = set_offsets(ks, batch_id, plan, &o);
    sl__koffs_free(&o);
    return st;
}

/* Positions after a batch's recorded ends (restore, replan). */
static sl_status take_ends(ksrc *ks, const sl__koffs *o)
{
    size_t i;
    for (i = 0; i < o->n; i++) {
        kpart *p = part_find(ks, o->v[i].topic, o->v[i].partition);
        if (!p && !(p = part_add(ks, o->v[i].topic, o->v[i].partition)))
            return SL_ENOMEM;
        p->pos = o->v[i].end;
    }
    ks->first_plan_done = true;
    return SL_OK;
}

static sl_status kafka_replan(void *state, int64_t batch_id, int64_t time_ms,
                              const char *offsets_json, sl_plan *plan)
{
    ksrc *ks = state;
    sl__koffs o = {NULL, 0, 0};
    char err[300];
    sl_status st;
    size_t i;
    (void)time_ms;

    if ((st = sl__koffs_parse(offsets_json, &o, err, sizeof err)) != SL_OK) {
        sl_plan_set_error(plan, "%s: recorded offsets: %s", ks->who, err);
        return st == SL_EPARSE ? SL_ECORRUPT : st;
    }
    for (i = 0; i < o.n && st == SL_OK; i++)
        if (o.v[i].end > o.v[i].start)
            st = sl__ksrc_add_reader(ks, plan, o.v[i].topic, o.v[i].partition,
                                     o.v[i].start, o.v[i].end, true);
    if (st == SL_OK)
        st = take_ends(ks, &o);
    if (st == SL_OK)
        st = sl_plan_set_offsets(plan, offsets_json);
    if (st == SL_OK)
        keep_batch(ks, batch_id, &o);
    sl__koffs_free(&o);
    return st;
}

static sl_status kafka_restore(void *state, int64_t batch_id,
                               const char *offsets_json)
{
    ksrc *ks = state;
    sl__koffs o = {NULL, 0, 0};
    char err[300];
    sl_status st = sl__koffs_parse(offsets_json, &o, err, sizeof err);
    (void)batch_id;
    if (st != SL_OK) {
        sl_context_log(ks->ctx, SL_LOG_ERROR, "%s: recorded offsets: %s",
                       ks->who, err);
        return st;
    }
    st = take_ends(ks, &o);
    sl__koffs_free(&o);
    return st;
}

/* commit_offsets: the batch's ends go to the consumer group, async (a
 * failure is logged by librdkafka; the checkpoint is what sluice reads). */
static void kafka_commit(void *state, int64_t batch_id)
{
    ksrc *ks = state;
    kbatch *b;
    while ((b = ks->pending) != NULL && b->batch_id <= batch_id) {
        ks->pending = b->next;
        if (b->batch_id == batch_id && b->ends.n) {
            rd_kafka_topic_partition_list_t *l =
                rd_kafka_topic_partition_list_new((int)b->ends.n);
            size_t i;
            for (i = 0; l && i < b->ends.n; i++)
                rd_kafka_topic_partition_list_add(l, b->ends.v[i].topic,
                                                  b->ends.v[i].partition)
                    ->offset = b->ends.v[i].end;
            if (l) {
                rd_kafka_resp_err_t e = rd_kafka_commit(ks->meta, l, 1);
                if (e)
                    sl_context_log(ks->ctx, SL_LOG_WARN,
                                   "%s: committing batch %lld's offsets to "
                                   "the consumer group: %s",
                                   ks->who, (long long)batch_id,
                                   rd_kafka_err2str(e));
                rd_kafka_topic_partition_list_destroy(l);
            }
        }
        sl__koffs_free(&b->ends);
        sl_free(b);
    }
}

/* records: -1 (the ranges planned are the rows); malformed: records lost
 * to retention; lag: records in the partitions beyond the last plan. */
static void kafka_progress(void *state, sl_source_progress *out)
{
    ksrc *ks = state;
    out->records = -1;
    out->malformed = GET(ks->malformed);
    out->lag = GET(ks->lag_total);
}

/* The end offsets now are the end: partitions found later are not read. */
static sl_status kafka_available_now(void *state)
{
    ksrc *ks = state;
    char err[512] = "";
    size_t i;
    sl_status st = refresh(ks, err, sizeof err);
    if (st != SL_OK)
        return sl_context_set_error(ks->ctx, st, "%s: %s", ks->who, err);
    for (i = 0; i < ks->nparts; i++) {
        int64_t lo, hi;
        rd_kafka_resp_err_t e = rd_kafka_query_watermark_offsets(
            ks->meta, ks->parts[i].topic, ks->parts[i].partition, &lo, &hi,
            (int)ks->timeout_ms);
        if (e)
            return sl_context_set_error(
                ks->ctx, SL_EIO,
                "%s: trigger available_now: cannot get the end offset of "
                "%s[%d]: %s",
                ks->who, ks->parts[i].topic, (int)ks->parts[i].partition,
                rd_kafka_err2str(e));
        ks->parts[i].bound = hi;
    }
    ks->bounded = true;
    return SL_OK;
}

static bool kafka_exhausted(void *state)
{
    const ksrc *ks = state;
    size_t i;
    if (!ks->planned_once)
        return false;
    for (i = 0; i < ks->nparts; i++)
        if (ks->parts[i].bound >= 0 && ks->parts[i].pos < ks->parts[i].bound)
            return false;
    return true;
}

static void kafka_free(void *state)
{
    ksrc *ks = state;
    size_t i;
    kbatch *b;
    if (!ks)
        return;
    sl__dead_letters_close(ks->dead);
    for (i = 0; i < ks->npool; i++) {
        rd_kafka_consumer_close(ks->pool[i]);
        rd_kafka_destroy(ks->pool[i]);
    }
    sl_free(ks->pool);
    if (ks->meta)
        rd_kafka_destroy(ks->meta);
    while ((b = ks->pending) != NULL) {
        ks->pending = b->next;
        sl__koffs_free(&b->ends);
        sl_free(b);
    }
    for (i = 0; i < ks->nparts; i++)
        sl_free(ks->parts[i].topic);
    sl_free(ks->parts);
    for (i = 0; i < ks->ntopics; i++)
        sl_free(ks->topics[i]);
    sl_free(ks->topics);
    if (ks->has_pattern)
        regfree(&ks->pattern);
    cJSON_Delete(ks->start_json);
    sl_schema_release(ks->schema);
    sl_conf_free(ks->conf);
    pthread_mutex_destroy(&ks->mu);
    sl_free(ks);
}

static const sl_planned_ops kafka_ops = {
    SL_PLANNED_OPS_VERSION,
    "kafka",
    kafka_plan,
    kafka_commit,
    kafka_free,
    kafka_replan,
    kafka_restore,
    kafka_progress,
    NULL,
    NULL,
    kafka_available_now,
    kafka_exhausted,
};

/* ---------------------------------------------------------- construction */

/* Split "a,b" into ks->topics (blanks around names dropped). */
static sl_status split_topics(ksrc *ks, const char *list, char *err,
                              size_t errlen)
{
    const char *p = list;
    while (*p) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        char **v;
        while (n && (*p == ' '))
            p++, n--;
        while (n && p[n - 1] == ' ')
            n--;
        if (!n)
            return sl__errbuf(err, errlen, SL_ECONF,
                              "topics: an empty topic name in '%s'", list);
        if (!(v = sl_realloc(ks->topics, (ks->ntopics + 1) * sizeof *v)))
            return SL_ENOMEM;
        ks->topics = v;
        if (!(v[ks->ntopics] = sl_malloc(n + 1)))
            return SL_ENOMEM;
        memcpy(v[ks->ntopics], p, n);
        v[ks->ntopics++][n] = '\0';
        if (!e)
            break;
        p = e + 1;
    }
    return SL_OK;
}

/* starting_offsets: earliest, latest, or {"topic":{"0":42}}. */
static sl_status parse_start(ksrc *ks, const char *s, char *err, size_t errlen)
{
    const cJSON *t, *p;
    if (!strcmp(s, "earliest") || !strcmp(s, "latest")) {
        ks->start_mode = s[0] == 'e' ? START_EARLIEST : START_LATEST;
        return SL_OK;
    }
    ks->start_mode = START_EXPLICIT;
    if (!(ks->start_json = sl__json_parse(s, strlen(s) + 1, NULL, true)) ||
        !cJSON_IsObject(ks->start_json))
        return sl__errbuf(err, errlen, SL_ECONF,
                          "kafka.source.starting_offsets: '%s' is neither "
                          "earliest, latest nor a JSON object "
                          "{\"topic\":{\"0\":42}}",
                          s);
    for (t = ks->start_json->child; t; t = t->next) {
        if (!cJSON_IsObject(t))
            return sl__errbuf(err, errlen, SL_ECONF,
                              "kafka.source.starting_offsets: \"%s\" is not "
                              "an object of partitions",
                              t->string);
        for (p = t->child; p; p = p->next) {
            char *end;
            long n = strtol(p->string, &end, 10);
            if (*end || !*p->string || n < 0 || !cJSON_IsNumber(p) ||
                p->valuedouble < -2 ||
                p->valuedouble != (double)(int64_t)p->valuedouble)
                return sl__errbuf(err, errlen, SL_ECONF,
                                  "kafka.source.starting_offsets: "
                                  "\"%s\".\"%s\": want a partition number "
                                  "and an offset (>= 0, -2 earliest, -1 "
                                  "latest)",
                                  t->string, p->string);
        }
    }
    return SL_OK;
}

/* kafka.source.format, schema, parse_mode, the CSV options and the
 * dead-letter file: how values become records (docs/job-file.md). */
static sl_status configure_format(ksrc *ks, char *err, size_t errlen)
{
    const sl_conf *c = ks->conf;
    const char *fmt = sl_conf_get(c, "kafka.source.format");
    const char *ddl = sl_conf_get(c, "kafka.source.schema");
    const char *sep = sl_conf_get(c, "kafka.source.csv.separator");
    const char *dead =
        sl__dead_letter_path(c, "kafka.source.dead_letter", ks->ctx->conf);
    char why[256];

    sl__rec_options_init(&ks->rec);
    if (sl__rec_format_parse(fmt, &ks->rec.format) != SL_OK)
        return sl__errbuf(err, errlen, SL_ECONF,
                          "kafka.source.format: unknown '%s'", fmt);
    ks->parse = ks->rec.format != SL__REC_LINES || *ddl;
    if (!ks->parse)
        return SL_OK;
    if (ks->records != REC_VALUES)
        return sl__errbuf(err, errlen, SL_ECONF,
                          "kafka.source.format and kafka.source.schema read "
                          "the record's value: records must be \"values\", "
                          "not \"%s\"",
                          ks->records == REC_PAIRS ? "pairs" : "rows");
    if (strlen(sep) != 1)
        return sl__errbuf(err, errlen, SL_ECONF,
                          "kafka.source.csv.separator must be one byte");
    ks->rec.separator = sep[0];
    if (*ddl) {
        if (sl_schema_parse(ddl, &ks->schema, why, sizeof why) != SL_OK)
            return sl__errbuf(err, errlen, SL_ECONF, "kafka.source.schema: %s",
                              why);
        if (sl__parse_mode_parse(sl_conf_get(c, "kafka.source.parse_mode"),
                                 &ks->rec.mode) != SL_OK)
            return sl__errbuf(err, errlen, SL_ECONF,
                              "kafka.source.parse_mode: unknown '%s'",
                              sl_conf_get(c, "kafka.source.parse_mode"));
        ks->rec.schema = ks->schema;
    }
    if (sl__rec_options_check(&ks->rec, err, errlen) != SL_OK)
        return SL_ECONF;
    if (dead && sl__dead_letters_open(dead, sl__context_bad_counts(ks->ctx),
                                      &ks->dead, err, errlen) != SL_OK)
        return SL_ECONF;
    return SL_OK;
}

static sl_status configure(ksrc *ks, const char *topics, char *err,
                           size_t errlen)
{
    const sl_conf *c = ks->conf;
    const char *pattern = sl_conf_get(c, "kafka.source.pattern");
    const char *records = sl_conf_get(c, "kafka.source.records");
    const char *name = sl_conf_get(c, "source.name");
    char why[256], *re;
    sl_status st;
    int rc;

    snprintf(ks->who, sizeof ks->who, "kafka source %s",
             *name ? name : "kafka");
    if (!topics || !*topics)
        topics = sl_conf_get(c, "kafka.source.topics");
    if (*topics && *pattern)
        return sl__errbuf(err, errlen, SL_ECONF,
                          "topics and kafka.source.pattern exclude each other");
    if (!*topics && !*pattern)
        return sl__errbuf(err, errlen, SL_ECONF,
                          "no topics: give topics or kafka.source.pattern");
    if (*pattern) {
        if (!(re = sl_malloc(strlen(pattern) + 5)))
            return SL_ENOMEM;
        sprintf(re, "^(%s)$", pattern);
        rc = regcomp(&ks->pattern, re, REG_EXTENDED | REG_NOSUB);
        sl_free(re);
        if (rc) {
            regerror(rc, NULL, why, sizeof why);
            return sl__errbuf(err, errlen, SL_ECONF,
                              "kafka.source.pattern: '%s': %s", pattern, why);
        }
        ks->has_pattern = true;
    } else if ((st = split_topics(ks, topics, err, errlen)) != SL_OK) {
        return st;
    }
    if ((st = parse_start(ks, sl_conf_get(c, "kafka.source.starting_offsets"),
                          err, errlen)) != SL_OK)
        return st;
    sl_conf_get_int(c, "kafka.source.max_records_per_partition",
                    &ks->max_per_part);
    sl_conf_get_int(c, "kafka.source.timeout", &ks->timeout_ms);
    sl_conf_get_bool(c, "kafka.source.fail_on_data_loss", &ks->fail_on_loss);
    sl_conf_get_bool(c, "kafka.source.commit_offsets", &ks->commit_offsets);
    ks->records = !strcmp(records, "pairs")  ? REC_PAIRS
                  : !strcmp(records, "rows") ? REC_ROWS
                                             : REC_VALUES;
    if ((st = configure_format(ks, err, errlen)) != SL_OK)
        return st;
    if (ks->records == REC_ROWS &&
        sl_schema_parse(rows_ddl, &ks->schema, why, sizeof why) != SL_OK)
        return sl__errbuf(err, errlen, SL_ECONF, "rows: %s", why);
    if (!sl__kafka_conf_get(c, "bootstrap.servers") &&
        !sl__kafka_conf_get(c, "metadata.broker.list"))
        return sl__errbuf(err, errlen, SL_ECONF,
                          "kafka.bootstrap.servers is not set");
    return SL_OK;
}

sl_dstream *sl_kafka_stream(sl_context *ctx, const char *topics,
                            const sl_conf *conf)
{
    char err[600] = "";
    sl_status st = SL_OK;
    sl_schema *schema;
    sl_dstream *s;
    ksrc *ks;

    if (!ctx)
        return NULL;
    if (!(ks = sl_malloc(sizeof *ks))) {
        sl_context_set_error(ctx, SL_ENOMEM, "out of memory");
        return NULL;
    }
    memset(ks, 0, sizeof *ks);
    pthread_mutex_init(&ks->mu, NULL);
    ks->ctx = ctx;
    __atomic_store_n(&ks->lag_total, -1, __ATOMIC_RELAXED);
    if (!(ks->conf = sl_conf_dup(conf ? conf : ctx->conf)))
        st = SL_ENOMEM;
    if (st == SL_OK)
        st = configure(ks, topics, err, sizeof err);
    /* Every property checked by librdkafka now (a trial build too); the
     * client itself is made at the first batch (refresh). */
    if (st == SL_OK) {
        rd_kafka_conf_t *rc = consumer_conf(ks, ks->who, err, sizeof err);
        if (rc)
            rd_kafka_conf_destroy(rc);
        else
            st = SL_ECONF;
    }
    if (st == SL_OK)
        warn_conflicts(ks);
    if (st != SL_OK) {
        sl_context_set_error(ctx, st, "%s: %s",
                             ks->who[0] ? ks->who : "kafka source",
                             *err ? err : sl_strerror(st));
        kafka_free(ks);
        return NULL;
    }
    schema = ks->schema ? sl_schema_retain(ks->schema) : NULL;
    s = sl_planned_stream(ctx, &kafka_ops, ks);
    if (s && schema)
        sl__dstream_set_schema(s, schema, NULL);
    sl_schema_release(schema);
    return s;
}
