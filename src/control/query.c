/*
 * The control plane's query thread: SQL asked for over the control socket
 * or the UI runs here, one query at a time, through sl_context_sql (with
 * the job's query.* limits), never on the control loop; the reply goes
 * back to the control thread through its wake-up event.
 */
#include "control/control_int.h"
#include "core/row_out.h"

#include <ctype.h>
#include <sluice/sql.h>
#include <string.h>
#include <strings.h>

struct sl__query_req {
    sl__query_req *next;
    char *sql;
    sl__row_format format;
    long long max_rows;
    sl__query_done_fn done;
    void *user;
    int http_status;
    sl__buf reply;
};

static void req_free(sl__query_req *q)
{
    sl_free(q->sql);
    sl__buf_free(&q->reply);
    sl_free(q);
}

/* Read-only means one SELECT (or WITH, VALUES) statement: the dialect has
 * nothing else, but say so plainly instead of a parse error, and refuse a
 * second statement after a ';'. */
static bool read_only(const char *sql, const char **why)
{
    const char *p = sql, *semi;
    size_t n;
    while (isspace((unsigned char)*p) || *p == '(')
        p++;
    for (n = 0; isalpha((unsigned char)p[n]); n++)
        ;
    if (!((n == 6 && !strncasecmp(p, "select", 6)) ||
          (n == 4 && !strncasecmp(p, "with", 4)) ||
          (n == 6 && !strncasecmp(p, "values", 6)))) {
        *why = "only read-only queries are allowed here (SELECT, WITH or "
               "VALUES)";
        return false;
    }
    if ((semi = strchr(sql, ';')) != NULL) {
        for (semi++; isspace((unsigned char)*semi); semi++)
            ;
        if (*semi) {
            *why = "one statement only";
            return false;
        }
    }
    return true;
}

static sl_status put_error(sl__buf *b, const char *msg)
{
    size_t n = strlen(msg), m = sl__json_escape(NULL, msg, n, NULL);
    sl_status st = sl__buf_append(b, "{\"ok\":false,\"error\":\"", 21);
    if (!st && !(st = sl__buf_reserve(b, m))) {
        sl__json_escape(b->data + b->len, msg, n, NULL);
        b->len += m;
        st = sl__buf_append(b, "\"}", 2);
    }
    return st;
}

static sl_status put_string(sl__buf *b, const char *s, size_t n)
{
    size_t m = sl__json_escape(NULL, s, n, NULL);
    sl_status st = sl__buf_append(b, "\"", 1);
    if (!st && !(st = sl__buf_reserve(b, m))) {
        sl__json_escape(b->data + b->len, s, n, NULL);
        b->len += m;
        st = sl__buf_append(b, "\"", 1);
    }
    return st;
}

static sl_status put_columns(sl__buf *b, const sl_schema *s)
{
    char type[256];
    size_t i;
    sl_status st = sl__buf_append(b, "\"columns\":[", 11);
    for (i = 0; !st && i < sl_schema_size(s); i++) {
        const char *name = sl_schema_name(s, i);
        sl_type_format(sl_schema_type(s, i), type, sizeof type);
        if ((i && (st = sl__buf_append(b, ",", 1))) ||
            (st = sl__buf_append(b, "{\"name\":", 8)) ||
            (st = put_string(b, name, strlen(name))) ||
            (st = sl__buf_append(b, ",\"type\":", 8)) ||
            (st = put_string(b, type, strlen(type))) ||
            (st = sl__buf_append(b, "}", 1)))
            break;
    }
    return st ? st : sl__buf_append(b, "]", 1);
}

/* rows as a JSON array of objects: the JSON lines joined */
static sl_status put_rows(sl__buf *b, const sl_schema *s, const sl_value *rows,
                          size_t n)
{
    sl__buf lines = {0};
    size_t i;
    sl_status st = sl__rows_put_json(&lines, s, rows, n);
    if (!st)
        st = sl__buf_append(b, ",\"rows\":[", 9);
    for (i = 0; !st && i < lines.len; i++) {
        char ch = lines.data[i];
        if (ch == '\n')
            st = i + 1 < lines.len ? sl__buf_append(b, ",", 1) : SL_OK;
        else
            st = sl__buf_append(b, &ch, 1);
    }
    sl__buf_free(&lines);
    return st ? st : sl__buf_append(b, "]", 1);
}

static sl_status put_result(sl__query_req *q, const sl_sql_result *r)
{
    const sl_schema *s = sl_sql_result_schema(r);
    const sl_value *rows = sl_sql_result_row(r, 0);
    size_t n = sl_sql_result_rows(r), shown = n;
    sl__buf text = {0};
    char head[96];
    sl_status st;
    if (q->max_rows >= 0 && (unsigned long long)q->max_rows < n &&
        q->format != SL__ROWS_TABLE)
        shown = (size_t)q->max_rows;
    if (q->format == SL__ROWS_TABLE)
        st = sl__rows_put_table(&text, s, rows, n,
                                q->max_rows >= 0 ? (size_t)q->max_rows
                                                 : SL__SHOW_ROWS);
    else
        st = sl__rows_put(&text, q->format, s, rows, shown);
    snprintf(head, sizeof head, "{\"ok\":true,\"row_count\":%zu,", n);
    if (!st && !(st = sl__buf_append(&q->reply, head, strlen(head))) &&
        !(st = put_columns(&q->reply, s)) &&
        !(st = sl__buf_append(&q->reply, ",\"text\":", 8)) &&
        !(st = put_string(&q->reply, text.len ? text.data : "", text.len)) &&
        q->format == SL__ROWS_JSON)
        st = put_rows(&q->reply, s, rows, shown);
    if (!st)
        st = sl__buf_append(&q->reply, "}", 1);
    sl__buf_free(&text);
    return st;
}

static void run_one(sl__control *c, sl__query_req *q)
{
    char err[2048];
    const char *why;
    sl_sql_result *r = NULL;
    sl_status st;
    if (!read_only(q->sql, &why)) {
        q->http_status = 400;
        if (put_error(&q->reply, why))
            q->http_status = 500;
        return;
    }
    err[0] = '\0';
    st = sl_context_sql(c->ctx, q->sql, &r, err, sizeof err);
    if (st == SL_OK) {
        q->http_status = 200;
        q->reply.len = 0;
        if (put_result(q, r) != SL_OK) {
            q->reply.len = 0;
            q->http_status = 500;
            put_error(&q->reply, "out of memory formatting the result");
        }
    } else {
        q->http_status = st == SL_EPARSE || st == SL_EINVAL ? 400 : 500;
        put_error(&q->reply, *err ? err : sl_strerror(st));
    }
    sl_sql_result_free(r);
}

static void *query_main(void *arg)
{
    sl__control *c = arg;
    sl__query_req *q;
    for (;;) {
        pthread_mutex_lock(&c->lock);
        while (!c->queue_head && !c->query_quit)
            pthread_cond_wait(&c->query_cv, &c->lock);
        if (c->query_quit) {
            pthread_mutex_unlock(&c->lock);
            return NULL;
        }
        q = c->queue_head;
        c->queue_head = q->next;
        if (!c->queue_head)
            c->queue_tail = &c->queue_head;
        c->query_running = q;
        pthread_mutex_unlock(&c->lock);
        run_one(c, q);
        pthread_mutex_lock(&c->lock);
        c->query_running = NULL;
        q->next = c->done_head;
        c->done_head = q;
        pthread_mutex_unlock(&c->lock);
        sl__control_wake(c);
    }
}

sl_status sl__control_query_start(sl__control *c)
{
    c->queue_tail = &c->queue_head;
    if (pthread_cond_init(&c->query_cv, NULL) != 0)
        return SL_ENOMEM;
    if (pthread_create(&c->query_thread, NULL, query_main, c) != 0) {
        pthread_cond_destroy(&c->query_cv);
        return SL_ENOMEM;
    }
    c->query_started = true;
    return SL_OK;
}

void sl__control_query_stop(sl__control *c)
{
    if (!c->query_started)
        return;
    pthread_mutex_lock(&c->lock);
    c->query_quit = true;
    pthread_cond_broadcast(&c->query_cv);
    pthread_mutex_unlock(&c->lock);
    pthread_join(c->query_thread, NULL);
    c->query_started = false;
}

void sl__control_query_free(sl__control *c)
{
    sl__query_req *q;
    while ((q = c->queue_head) != NULL) {
        c->queue_head = q->next;
        req_free(q);
    }
    while ((q = c->done_head) != NULL) {
        c->done_head = q->next;
        req_free(q);
    }
    if (c->queue_tail)
        pthread_cond_destroy(&c->query_cv);
    c->queue_tail = NULL;
}

sl_status sl__control_query_submit(sl__control *c, const char *sql,
                                   const char *format, long long max_rows,
                                   sl__query_done_fn done, void *user)
{
    sl__query_req *q = sl_malloc(sizeof *q);
    if (!q)
        return SL_ENOMEM;
    memset(q, 0, sizeof *q);
    q->max_rows = max_rows;
    q->done = done;
    q->user = user;
    if (!(q->sql = sl__strdup(sql))) {
        sl_free(q);
        return SL_ENOMEM;
    }
    if (sl__row_format_parse(format ? format : "table", &q->format) != SL_OK) {
        /* answered at once, through the same path as any other reply */
        q->http_status = 400;
        put_error(&q->reply, "query: \"format\" must be table, json or csv");
        pthread_mutex_lock(&c->lock);
        q->next = c->done_head;
        c->done_head = q;
        pthread_mutex_unlock(&c->lock);
        sl__control_wake(c);
        return SL_OK;
    }
    pthread_mutex_lock(&c->lock);
    *c->queue_tail = q;
    c->queue_tail = &q->next;
    pthread_cond_signal(&c->query_cv);
    pthread_mutex_unlock(&c->lock);
    return SL_OK;
}

void sl__control_query_forget(sl__control *c, void *user)
{
    sl__query_req *q;
    pthread_mutex_lock(&c->lock);
    for (q = c->queue_head; q; q = q->next)
        if (q->user == user)
            q->user = NULL;
    for (q = c->done_head; q; q = q->next)
        if (q->user == user)
            q->user = NULL;
    if (c->query_running && c->query_running->user == user)
        c->query_running->user = NULL;
    pthread_mutex_unlock(&c->lock);
}

void sl__control_deliver_queries(sl__control *c)
{
    sl__query_req *q, *done;
    pthread_mutex_lock(&c->lock);
    done = c->done_head;
    c->done_head = NULL;
    pthread_mutex_unlock(&c->lock);
    while ((q = done) != NULL) {
        done = q->next;
        q->done(q->user, q->http_status, q->reply.data ? q->reply.data : "",
                q->reply.len);
        req_free(q);
    }
}
