/*
 * The web UI (docs/ui.md): libevent's evhttp on the control thread's loop
 * serving the embedded page, /api/status, /api/progress, /api/query and
 * /metrics. Nothing here blocks the loop: a query is handed to the query
 * thread and answered from its done callback. Every request passes the
 * same gate first: a Host that names this server (against DNS
 * rebinding), an Origin that is the page's own on POSTs, and the token
 * when the UI is bound beyond loopback or one was given.
 */
#include "control/control_int.h"
#include "control/ui_assets.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cJSON.h>

#define BODY_MAX (1 << 20)     /* a query's JSON fits */
#define PROGRESS_DEFAULT 60    /* /api/progress without n */
#define QUERY_ROWS_DEFAULT 100 /* /api/query without max_rows */
#define TOKEN_COOKIE "sluice_token"

/* A query waiting for the query thread, tied to its request. */
typedef struct pending {
    struct sl__http *h;
    struct evhttp_request *req;
    struct pending *next, **prev;
} pending;

struct sl__http {
    sl__control *c;
    struct evhttp *http;
    char *token;   /* required when set */
    bool wildcard; /* bound to every address (0.0.0.0, ::) */
    char host[64]; /* the bound address as a Host names it */
    pending *pendings;
};

/* ------------------------------------------------------------- replies */

static void reply(struct evhttp_request *req, int code, const char *reason,
                  const char *type, const void *body, size_t len)
{
    struct evkeyvalq *out = evhttp_request_get_output_headers(req);
    struct evbuffer *b = evbuffer_new();
    evhttp_add_header(out, "Content-Type", type);
    evhttp_add_header(out, "Cache-Control", "no-store");
    evhttp_add_header(out, "X-Content-Type-Options", "nosniff");
    evhttp_add_header(out, "X-Frame-Options", "DENY");
    evhttp_add_header(out, "Referrer-Policy", "no-referrer");
    evhttp_add_header(out, "Content-Security-Policy",
                      "default-src 'self'; img-src 'self' data:; "
                      "frame-ancestors 'none'; base-uri 'none'; "
                      "form-action 'none'");
    if (b && len)
        evbuffer_add(b, body, len);
    evhttp_send_reply(req, code, reason, b);
    if (b)
        evbuffer_free(b);
}

/* An error as every endpoint gives it: {"ok": false, "error": MSG}. */
static void reply_error(struct evhttp_request *req, int code,
                        const char *reason, const char *msg)
{
    char *text = sl__control_error_json(msg);
    if (text)
        reply(req, code, reason, "application/json", text, strlen(text));
    else
        reply(req, 500, "Internal Server Error", "text/plain", "", 0);
    cJSON_free(text);
}

/* ------------------------------------------------------------ the gate */

static bool is_loopback(const char *addr)
{
    struct in_addr a4;
    struct in6_addr a6;
    if (!strcmp(addr, "localhost"))
        return true;
    if (inet_pton(AF_INET, addr, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    return inet_pton(AF_INET6, addr, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
}

static bool is_wildcard(const char *addr)
{
    return !strcmp(addr, "0.0.0.0") || !strcmp(addr, "::") || !*addr;
}

static bool is_ip_literal(const char *host)
{
    unsigned char a[16];
    return inet_pton(AF_INET, host, a) == 1 ||
           inet_pton(AF_INET6, host, a) == 1;
}

/*
 * Whether the Host header names this server: localhost or a loopback
 * address, the bound address, or (bound to every address) any address
 * literal or this machine's name; a port, when given, must be ours. A
 * name a DNS-rebinding page would use is none of these.
 */
static bool host_ok(const struct sl__http *h, const char *hdr)
{
    char host[256], me[256];
    const char *port = NULL;
    size_t n;
    if (!hdr || !*hdr || strlen(hdr) >= sizeof host)
        return false;
    if (hdr[0] == '[') { /* [v6]:port */
        const char *end = strchr(hdr, ']');
        if (!end)
            return false;
        n = (size_t)(end - hdr - 1);
        memcpy(host, hdr + 1, n);
        host[n] = '\0';
        if (end[1] == ':')
            port = end + 2;
        else if (end[1])
            return false;
    } else {
        const char *colon = strchr(hdr, ':');
        n = colon ? (size_t)(colon - hdr) : strlen(hdr);
        memcpy(host, hdr, n);
        host[n] = '\0';
        if (colon)
            port = colon + 1;
    }
    for (char *p = host; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    if (port) {
        char *end;
        long p = strtol(port, &end, 10);
        if (*end || p != h->c->ui_port)
            return false;
    }
    if (is_loopback(host) || !strcmp(host, h->host))
        return true;
    if (!h->wildcard)
        return false;
    if (is_ip_literal(host))
        return true;
    if (gethostname(me, sizeof me) == 0) {
        me[sizeof me - 1] = '\0';
        return !strcasecmp(host, me);
    }
    return false;
}

/* A POST from a page must come from ours: Origin http://HOST (the Host
 * already checked) when sent; Sec-Fetch-Site same-origin or none. Tools
 * (curl, scripts) send neither. */
static bool origin_ok(struct evkeyvalq *in)
{
    const char *origin = evhttp_find_header(in, "Origin");
    const char *host = evhttp_find_header(in, "Host");
    const char *site = evhttp_find_header(in, "Sec-Fetch-Site");
    if (site && strcmp(site, "same-origin") && strcmp(site, "none"))
        return false;
    if (!origin)
        return true;
    return !strncmp(origin, "http://", 7) && host &&
           !strcasecmp(origin + 7, host);
}

static bool same_secret(const char *a, const char *b, size_t blen)
{
    unsigned char diff = 0;
    size_t alen = strlen(a);
    if (alen != blen)
        return false;
    for (size_t i = 0; i < alen; i++)
        diff |= (unsigned char)(a[i] ^ b[i]);
    return diff == 0;
}

/* The token from the cookie TOKEN_COOKIE in a Cookie header, if any. */
static bool cookie_has(const char *cookies, const char *token)
{
    const char *p = cookies;
    size_t klen = strlen(TOKEN_COOKIE);
    while (p && *p) {
        while (*p == ' ' || *p == ';')
            p++;
        if (!strncmp(p, TOKEN_COOKIE, klen) && p[klen] == '=') {
            const char *v = p + klen + 1, *end = strchr(v, ';');
            size_t n = end ? (size_t)(end - v) : strlen(v);
            if (same_secret(token, v, n))
                return true;
        }
        p = strchr(p, ';');
    }
    return false;
}

/*
 * The token, when one is needed: "Authorization: Bearer T", the cookie a
 * first visit with ?token=T set, or ?token=T itself (which then sets the
 * cookie, so the page's own requests carry it).
 */
static bool token_ok(const struct sl__http *h, struct evhttp_request *req,
                     struct evkeyvalq *query)
{
    struct evkeyvalq *in = evhttp_request_get_input_headers(req);
    const char *auth = evhttp_find_header(in, "Authorization");
    const char *cookies = evhttp_find_header(in, "Cookie");
    const char *given = evhttp_find_header(query, "token");
    if (!h->token)
        return true;
    if (auth && !strncasecmp(auth, "Bearer ", 7) &&
        same_secret(h->token, auth + 7, strlen(auth + 7)))
        return true;
    if (cookies && cookie_has(cookies, h->token))
        return true;
    if (given && same_secret(h->token, given, strlen(given))) {
        char cookie[160];
        snprintf(cookie, sizeof cookie,
                 TOKEN_COOKIE "=%s; Path=/; HttpOnly; SameSite=Strict",
                 h->token);
        evhttp_add_header(evhttp_request_get_output_headers(req), "Set-Cookie",
                          cookie);
        return true;
    }
    return false;
}

/* ----------------------------------------------------------- endpoints */

static void serve_asset(struct evhttp_request *req, const char *path)
{
    for (size_t i = 0; i < sl__ui_nassets; i++)
        if (!strcmp(sl__ui_assets[i].route, path)) {
            reply(req, 200, "OK", sl__ui_assets[i].type, sl__ui_assets[i].data,
                  sl__ui_assets[i].len);
            return;
        }
    reply_error(req, 404, "Not Found", "no such page");
}

static void serve_status(struct sl__http *h, struct evhttp_request *req)
{
    sl__buf b = {0};
    if (sl__control_status_json(h->c, &b) == SL_OK)
        reply(req, 200, "OK", "application/json", b.data, b.len);
    else
        reply_error(req, 500, "Internal Server Error", "out of memory");
    sl__buf_free(&b);
}

static void serve_progress(struct sl__http *h, struct evhttp_request *req,
                           struct evkeyvalq *query)
{
    const char *n = evhttp_find_header(query, "n");
    long long count = PROGRESS_DEFAULT;
    char *out = NULL, *end;
    size_t len = 0;
    if (n) {
        count = strtoll(n, &end, 10);
        if (!*n || *end || count < 0 || count > 1000000) {
            reply_error(req, 400, "Bad Request",
                        "n must be a count of entries 0-1000000 (0: every "
                        "entry kept)");
            return;
        }
    }
    if (sl__control_progress_json(h->c, (size_t)count, &out, &len) == SL_OK)
        reply(req, 200, "OK", "application/json", out, len);
    else
        reply_error(req, 500, "Internal Server Error", "out of memory");
    sl_free(out);
}

static void serve_metrics(struct sl__http *h, struct evhttp_request *req)
{
    sl__buf b = {0};
    if (sl__control_metrics(h->c, &b) == SL_OK)
        reply(req, 200, "OK", "text/plain; version=0.0.4; charset=utf-8",
              b.data, b.len);
    else
        reply_error(req, 500, "Internal Server Error", "out of memory");
    sl__buf_free(&b);
}

static void pending_unlink(pending *p)
{
    *p->prev = p->next;
    if (p->next)
        p->next->prev = p->prev;
}

/* The client went away before its answer: the answer will be dropped. */
static void on_conn_close(struct evhttp_connection *conn, void *arg)
{
    pending *p = arg;
    SL__UNUSED(conn);
    sl__control_query_forget(p->h->c, p);
    pending_unlink(p);
    sl_free(p);
}

static void query_done(void *user, int http_status, const char *json,
                       size_t len)
{
    pending *p = user;
    if (!p)
        return; /* its client went away */
    evhttp_connection_set_closecb(evhttp_request_get_connection(p->req), NULL,
                                  NULL);
    reply(p->req, http_status,
          http_status == 200   ? "OK"
          : http_status == 400 ? "Bad Request"
          : http_status == 503 ? "Service Unavailable"
                               : "Internal Server Error",
          "application/json", json, len);
    pending_unlink(p);
    sl_free(p);
}

/* POST /api/query {"sql": S, "max_rows": N, "format": F}: rows as JSON. */
static void serve_query(struct sl__http *h, struct evhttp_request *req)
{
    struct evkeyvalq *in = evhttp_request_get_input_headers(req);
    struct evbuffer *body = evhttp_request_get_input_buffer(req);
    const char *type = evhttp_find_header(in, "Content-Type");
    size_t len = evbuffer_get_length(body);
    const cJSON *sql, *rows, *format;
    long long max_rows = QUERY_ROWS_DEFAULT;
    cJSON *o;
    pending *p;
    /* application/json also keeps other sites' forms out: a browser sends
     * it cross-origin only after a preflight this server never grants */
    if (!type || strncasecmp(type, "application/json", 16)) {
        reply_error(req, 415, "Unsupported Media Type",
                    "the body must be JSON (Content-Type: application/json)");
        return;
    }
    if (len > BODY_MAX ||
        !(o = cJSON_ParseWithLength((const char *)evbuffer_pullup(body, -1),
                                    len))) {
        reply_error(req, 400, "Bad Request",
                    "the body must be a JSON object {\"sql\": \"SELECT ...\"}");
        return;
    }
    sql = cJSON_GetObjectItemCaseSensitive(o, "sql");
    rows = cJSON_GetObjectItemCaseSensitive(o, "max_rows");
    format = cJSON_GetObjectItemCaseSensitive(o, "format");
    if (!cJSON_IsString(sql) || (format && !cJSON_IsString(format)) ||
        (rows && (!cJSON_IsNumber(rows) || rows->valuedouble < 0 ||
                  rows->valuedouble > 1e9))) {
        cJSON_Delete(o);
        reply_error(req, 400, "Bad Request",
                    "\"sql\" must be a string, \"format\" one of json, table "
                    "or csv, \"max_rows\" a count");
        return;
    }
    if (rows)
        max_rows = (long long)rows->valuedouble;
    if (!(p = sl_malloc(sizeof *p))) {
        cJSON_Delete(o);
        reply_error(req, 500, "Internal Server Error", "out of memory");
        return;
    }
    p->h = h;
    p->req = req;
    if ((p->next = h->pendings) != NULL)
        p->next->prev = &p->next;
    p->prev = &h->pendings;
    h->pendings = p;
    evhttp_connection_set_closecb(evhttp_request_get_connection(req),
                                  on_conn_close, p);
    if (sl__control_query_submit(h->c, sql->valuestring,
                                 format ? format->valuestring : "json",
                                 max_rows, query_done, p) != SL_OK) {
        evhttp_connection_set_closecb(evhttp_request_get_connection(req), NULL,
                                      NULL);
        pending_unlink(p);
        sl_free(p);
        reply_error(req, 500, "Internal Server Error",
                    "cannot queue the query (out of memory)");
    }
    cJSON_Delete(o);
}

static void on_request(struct evhttp_request *req, void *arg)
{
    struct sl__http *h = arg;
    struct evkeyvalq *in = evhttp_request_get_input_headers(req);
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
    const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
    const char *qs = uri ? evhttp_uri_get_query(uri) : NULL;
    struct evkeyvalq query;
    bool post = cmd == EVHTTP_REQ_POST;

    TAILQ_INIT(&query);
    if (!path || !*path)
        path = "/";
    if (!host_ok(h, evhttp_find_header(in, "Host"))) {
        reply_error(req, 403, "Forbidden",
                    "the Host header does not name this server");
        return;
    }
    if (post && !origin_ok(in)) {
        reply_error(req, 403, "Forbidden", "cross-origin requests are refused");
        return;
    }
    if (qs && evhttp_parse_query_str(qs, &query) != 0) {
        reply_error(req, 400, "Bad Request", "the query string is malformed");
        return;
    }
    if (!token_ok(h, req, &query)) {
        reply_error(req, 401, "Unauthorized",
                    "this UI needs its token: open it with ?token=TOKEN (the "
                    "job printed it at start) or send Authorization: Bearer "
                    "TOKEN");
        goto out;
    }
    if (!strcmp(path, "/api/query")) {
        if (post)
            serve_query(h, req);
        else
            reply_error(req, 405, "Method Not Allowed", "use POST");
        goto out;
    }
    if (cmd != EVHTTP_REQ_GET) {
        reply_error(req, 405, "Method Not Allowed", "use GET");
        goto out;
    }
    if (!strcmp(path, "/api/status"))
        serve_status(h, req);
    else if (!strcmp(path, "/api/progress"))
        serve_progress(h, req, &query);
    else if (!strcmp(path, "/metrics"))
        serve_metrics(h, req);
    else
        serve_asset(req, path);
out:
    evhttp_clear_headers(&query);
}

/* ---------------------------------------------------------------- life */

/* A fresh token: 128 random bits as hex. */
static char *new_token(void)
{
    unsigned char raw[16];
    char *t = sl_malloc(2 * sizeof raw + 1);
    if (!t || getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw) {
        sl_free(t);
        return NULL;
    }
    for (size_t i = 0; i < sizeof raw; i++)
        snprintf(t + 2 * i, 3, "%02x", raw[i]);
    return t;
}

static int bound_port(struct evhttp_bound_socket *s)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    evutil_socket_t fd = evhttp_bound_socket_get_fd(s);
    if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
        return -1;
    if (ss.ss_family == AF_INET)
        return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

sl_status sl__http_start(sl__control *c, char *errbuf, size_t errlen)
{
    struct sl__http *h = sl_malloc(sizeof *h);
    struct evhttp_bound_socket *s;
    const char *bind = c->ui_bind;
    bool generated = false;
    if (!h) {
        snprintf(errbuf, errlen, "out of memory");
        return SL_ENOMEM;
    }
    memset(h, 0, sizeof *h);
    h->c = c;
    c->http = h;
    h->wildcard = is_wildcard(bind);
    snprintf(h->host, sizeof h->host, "%s", bind);
    if (c->ui_token)
        h->token = sl__strdup(c->ui_token);
    else if (!is_loopback(bind)) {
        h->token = new_token();
        generated = true;
    }
    if ((c->ui_token || generated) && !h->token) {
        snprintf(errbuf, errlen, "cannot make a token");
        return SL_ENOMEM;
    }
    if (!(h->http = evhttp_new(c->base))) {
        snprintf(errbuf, errlen, "out of memory");
        return SL_ENOMEM;
    }
    evhttp_set_allowed_methods(h->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST);
    evhttp_set_max_body_size(h->http, BODY_MAX);
    evhttp_set_max_headers_size(h->http, 64 * 1024);
    evhttp_set_timeout(h->http, 30);
    evhttp_set_gencb(h->http, on_request, h);
    if (!(s = evhttp_bind_socket_with_handle(h->http, bind,
                                             (ev_uint16_t)c->ui_port))) {
        snprintf(errbuf, errlen,
                 "cannot listen on %s port %d (in use, or not an address of "
                 "this machine)",
                 bind, c->ui_port);
        return SL_EIO;
    }
    c->ui_port = bound_port(s);
    /* bound to every address, the URL names loopback (no brackets) */
    snprintf(c->ui_url, sizeof c->ui_url, "http://%s%s%s:%d/",
             strchr(bind, ':') && !h->wildcard ? "[" : "",
             h->wildcard ? "127.0.0.1" : bind,
             strchr(bind, ':') && !h->wildcard ? "]" : "", c->ui_port);
    if (generated)
        sl_context_log(c->ctx, SL_LOG_WARN,
                       "control: the web UI listens on %s port %d beyond "
                       "loopback; its token is %s (open %s?token=%s)",
                       bind, c->ui_port, h->token, c->ui_url, h->token);
    return SL_OK;
}

void sl__http_stop(sl__control *c)
{
    struct sl__http *h = c->http;
    if (!h)
        return;
    if (h->http)
        evhttp_free(h->http); /* closes connections: their pendings go */
    while (h->pendings) {
        pending *p = h->pendings;
        pending_unlink(p);
        sl_free(p);
    }
    sl_free(h->token);
    sl_free(h);
    c->http = NULL;
}
