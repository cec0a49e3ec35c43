/*
 * Secrets never leave the job: which configuration keys name a secret,
 * and a copy of a JSON text with their values redacted (the run folder's
 * job.json, status, logs). The copy keeps the text as written (order,
 * spacing, numbers) and changes only the values of secret keys.
 */
#include "core/core.h"
#include "core/codec.h"
#include "core/records.h"

#include <cJSON.h>
#include <sluice/control.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define REDACTED "\"<redacted>\""

bool sl_control_secret_key(const char *key)
{
    static const char *const words[] = {"password",   "secret",  "token",
                                        "credential", "private", NULL};
    size_t i;
    if (!key)
        return false;
    for (i = 0; words[i]; i++)
        if (strcasestr(key, words[i]))
            return true;
    /* Kafka's keys whose names do not say "password" but hold one. */
    return strcasecmp(key, "sasl.jaas.config") == 0 ||
           strncasecmp(key, "sasl.oauthbearer.", 17) == 0 ||
           strncasecmp(key, "ssl.key.", 8) == 0;
}

/* One past the end of the string literal that opens at s[i] ('"'). */
static size_t string_end(const char *s, size_t n, size_t i)
{
    for (i++; i < n && s[i] != '"'; i++)
        if (s[i] == '\\')
            i++;
    return i < n ? i + 1 : n;
}

static size_t skip_space(const char *s, size_t n, size_t i)
{
    while (i < n &&
           (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
        i++;
    return i;
}

/* One past the end of the JSON value that starts at s[i] (valid JSON). */
static size_t value_end(const char *s, size_t n, size_t i)
{
    size_t depth = 0;
    if (s[i] == '"')
        return string_end(s, n, i);
    if (s[i] != '{' && s[i] != '[') {
        while (i < n && !strchr(",}] \t\r\n", s[i]))
            i++;
        return i;
    }
    while (i < n) {
        if (s[i] == '"') {
            i = string_end(s, n, i);
            continue;
        }
        if (s[i] == '{' || s[i] == '[')
            depth++;
        else if ((s[i] == '}' || s[i] == ']') && --depth == 0)
            return i + 1;
        i++;
    }
    return n;
}

/* The string literal s[0..n) decoded (sl_free), or NULL when out of
 * memory. Only literals with escapes go through cJSON. */
static char *decode(const char *s, size_t n)
{
    cJSON *j;
    char *out;
    if (!memchr(s, '\\', n)) {
        if ((out = sl_malloc(n - 1)) != NULL) {
            memcpy(out, s + 1, n - 2);
            out[n - 2] = '\0';
        }
        return out;
    }
    if (!(j = sl__json_parse(s, n, NULL, false)))
        return NULL;
    out = cJSON_IsString(j) ? sl_malloc(strlen(j->valuestring) + 1) : NULL;
    if (out)
        strcpy(out, j->valuestring);
    cJSON_Delete(j);
    return out;
}

/* Whether the string literal s[0..n) holds only ${ENV:NAME} references:
 * a value that names where the secret is, not the secret. */
static bool only_refs(const char *s, size_t n)
{
    size_t i = 1, r;
    if (n < 2 || s[0] != '"' || memchr(s, '\\', n))
        return false;
    n--; /* the closing quote */
    while (i < n && (r = sl__env_ref(s + i, n - i, NULL)) > 0)
        i += r;
    return i == n && n > 1;
}

/* Whether the string literal s[0..n) is a key naming a secret; *oom when
 * it could not be decoded for want of memory. */
static bool secret_literal(const char *s, size_t n, bool *oom)
{
    char *key = decode(s, n);
    bool secret;
    if (!key) {
        *oom = true;
        return false;
    }
    secret = sl_control_secret_key(key);
    sl_free(key);
    return secret;
}

/*
 * Copy s[0..n) (valid JSON) to out with every secret key's value
 * replaced. A string followed by ':' is a key; its value is copied when
 * it holds only references and replaced otherwise, whatever its type.
 */
static sl_status redact_text(const char *s, size_t n, sl__buf *out)
{
    size_t i = 0, from = 0, j, k, v, e;
    bool oom = false;
    while (i < n) {
        if (s[i] != '"') {
            i++;
            continue;
        }
        j = string_end(s, n, i);
        k = skip_space(s, n, j);
        if (k == n || s[k] != ':' || !secret_literal(s + i, j - i, &oom)) {
            if (oom)
                return SL_ENOMEM;
            i = j;
            continue;
        }
        v = skip_space(s, n, k + 1);
        e = value_end(s, n, v);
        if (sl__buf_append(out, s + from, v - from) != SL_OK)
            return SL_ENOMEM;
        if (only_refs(s + v, e - v)
                ? sl__buf_append(out, s + v, e - v)
                : sl__buf_append(out, REDACTED, sizeof REDACTED - 1))
            return SL_ENOMEM;
        i = from = e;
    }
    return sl__buf_append(out, s + from, n - from);
}

/* Whether json[0..len) is one JSON value (and nothing but space after). */
static bool is_json(const char *json, size_t len)
{
    const char *end = NULL;
    cJSON *j;
    if (memchr(json, '\0', len))
        return false;
    if (!(j = sl__json_parse(json, len, &end, false)))
        return false;
    cJSON_Delete(j);
    return skip_space(json, len, (size_t)(end - json)) == len;
}

char *sl_control_redact_json(const char *json, size_t len, char *errbuf,
                             size_t errlen)
{
    sl__buf out = {0};
    if (!json) {
        sl__errbuf(errbuf, errlen, SL_EINVAL, "no JSON text");
        return NULL;
    }
    if (!is_json(json, len)) {
        sl__errbuf(errbuf, errlen, SL_EPARSE, "the text is not JSON");
        return NULL;
    }
    if (redact_text(json, len, &out) != SL_OK ||
        sl__buf_append(&out, "", 1) != SL_OK) {
        sl__buf_free(&out);
        sl__errbuf(errbuf, errlen, SL_ENOMEM, "out of memory");
        return NULL;
    }
    return out.data;
}
