/*
 * Secret keys and redacted JSON copies, for the run folder's job.json.
 * (Interim: the secrets task replaces this file with src/control/redact.c
 * and its tests; delete this file then.)
 */
#include "control/control_int.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

bool sl_control_secret_key(const char *key)
{
    static const char *const parts[] = {"password", "secret", "token",
                                        "credential", "private"};
    size_t i;
    if (!key)
        return false;
    for (i = 0; i < sizeof parts / sizeof *parts; i++)
        if (strcasestr(key, parts[i]))
            return true;
    return !strcasecmp(key, "sasl.jaas.config") ||
           !strncasecmp(key, "sasl.oauthbearer.", 17) ||
           !strncasecmp(key, "ssl.key.", 8);
}

static void redact(cJSON *node)
{
    cJSON *x;
    cJSON_ArrayForEach(x, node)
    {
        if (x->string && sl_control_secret_key(x->string) &&
            !(cJSON_IsString(x) && !strncmp(x->valuestring, "${ENV:", 6))) {
            cJSON *r = cJSON_CreateString("<redacted>");
            if (r)
                cJSON_ReplaceItemViaPointer(node, x, r);
            x = r;
            continue;
        }
        if (cJSON_IsObject(x) || cJSON_IsArray(x))
            redact(x);
    }
}

char *sl_control_redact_json(const char *json, size_t len, char *errbuf,
                             size_t errlen)
{
    cJSON *root = cJSON_ParseWithLength(json, len);
    char *text, *copy;
    if (!root) {
        if (errbuf && errlen)
            snprintf(errbuf, errlen, "not JSON");
        return NULL;
    }
    redact(root);
    text = cJSON_Print(root);
    cJSON_Delete(root);
    copy = text ? sl__strdup(text) : NULL;
    cJSON_free(text);
    if (!copy && errbuf && errlen)
        snprintf(errbuf, errlen, "out of memory");
    return copy;
}
