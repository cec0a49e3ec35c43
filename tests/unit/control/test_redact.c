/*
 * Unit tests of src/control/redact.c: which keys name a secret, and the
 * redacted copy of a JSON text (any depth, any value type, the text kept
 * as written, ${ENV:NAME} references kept, bad JSON refused), and the run
 * folder's job.json that sl_control_attach writes through it.
 */
#include <sluice/sluice.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_test.h"
#include "sl_test_util.h"

static void test_secret_keys(void)
{
    static const char *const secret[] = {"password",
                                         "sasl.password",
                                         "ssl.keystore.PASSWORD",
                                         "client_secret",
                                         "token",
                                         "ui.token",
                                         "Credentials",
                                         "private_key",
                                         "sasl.jaas.config",
                                         "SASL.JAAS.CONFIG",
                                         "sasl.oauthbearer.client.id",
                                         "ssl.key.location",
                                         NULL};
    static const char *const plain[] = {"name",
                                        "host",
                                        "port",
                                        "sasl.mechanism",
                                        "ssl.keystore.location",
                                        "bootstrap.servers",
                                        "sasl.jaas",
                                        "ssl.key",
                                        "path",
                                        "",
                                        NULL};
    size_t i;
    for (i = 0; secret[i]; i++)
        if (!sl_control_secret_key(secret[i]))
            sl_test_fail(__FILE__, __LINE__, "%s should be secret", secret[i]);
    for (i = 0; plain[i]; i++)
        if (sl_control_secret_key(plain[i]))
            sl_test_fail(__FILE__, __LINE__, "%s should not be secret",
                         plain[i]);
    SL_CHECK(!sl_control_secret_key(NULL));
}

/* The redacted copy of in, compared with want (NULL: refused). */
static void check_redact(const char *in, const char *want, int line)
{
    char err[128] = "";
    char *out = sl_control_redact_json(in, strlen(in), err, sizeof err);
    if (!want) {
        if (out || !*err)
            sl_test_fail(__FILE__, line, "%s: expected a refusal, got %s", in,
                         out ? out : "(null) without a reason");
        else
            CU_PASS("refused");
    } else if (!out || strcmp(out, want) != 0) {
        sl_test_fail(__FILE__, line, "%s:\n got %s\nwant %s (%s)", in,
                     out ? out : "(null)", want, err);
    } else {
        CU_PASS("redacted");
    }
    sl_free(out);
}

#define REDACT(in, want) check_redact(in, want, __LINE__)

static void test_redact_values(void)
{
    REDACT("{\"name\": \"j\", \"password\": \"hunter2\"}",
           "{\"name\": \"j\", \"password\": \"<redacted>\"}");
    /* Numbers, booleans, null, arrays and objects of a secret key. */
    REDACT("{\"token\":12345,\"x\":1}", "{\"token\":\"<redacted>\",\"x\":1}");
    REDACT("{\"secret\": true}", "{\"secret\": \"<redacted>\"}");
    REDACT("{\"secret\": null}", "{\"secret\": \"<redacted>\"}");
    REDACT("{\"ssl.key.pem\": [\"a\", {\"b\": \"]}\"}], \"n\": 2}",
           "{\"ssl.key.pem\": \"<redacted>\", \"n\": 2}");
    REDACT("{\"credentials\" :\n  {\"user\": \"u\"}}",
           "{\"credentials\" :\n  \"<redacted>\"}");
    /* At any depth, in arrays too; the text and key order as written. */
    REDACT("{\"sources\": {\"k\": {\"conf\": {\"sasl.jaas.config\": "
           "\"x password=\\\"p\\\";\", \"b\": 1.50e3}}}, \"a\": [{\"Token\": "
           "\"t\"}]}",
           "{\"sources\": {\"k\": {\"conf\": {\"sasl.jaas.config\": "
           "\"<redacted>\", \"b\": 1.50e3}}}, \"a\": [{\"Token\": "
           "\"<redacted>\"}]}");
    /* A key spelled with an escape is still the key. */
    REDACT("{\"pass\\u0077ord\": \"p\"}",
           "{\"pass\\u0077ord\": \"<redacted>\"}");
    /* A value that names a secret key is not a key. */
    REDACT("[\"password\", {\"k\": \"password\"}]",
           "[\"password\", {\"k\": \"password\"}]");
    REDACT("\"token\"", "\"token\"");
}

static void test_redact_env_refs(void)
{
    REDACT("{\"password\": \"${ENV:DB_PASS}\"}",
           "{\"password\": \"${ENV:DB_PASS}\"}");
    REDACT("{\"token\": \"${ENV:A}${ENV:_B2}\"}",
           "{\"token\": \"${ENV:A}${ENV:_B2}\"}");
    /* Anything beside a reference could be the secret itself. */
    REDACT("{\"token\": \"x${ENV:A}\"}", "{\"token\": \"<redacted>\"}");
    REDACT("{\"token\": \"$${ENV:A}\"}", "{\"token\": \"<redacted>\"}");
    REDACT("{\"token\": \"${ENV:1A}\"}", "{\"token\": \"<redacted>\"}");
    REDACT("{\"token\": \"${ENV:A\"}", "{\"token\": \"<redacted>\"}");
    REDACT("{\"token\": \"\"}", "{\"token\": \"<redacted>\"}");
}

static void test_redact_refuses(void)
{
    char err[64] = "";
    REDACT("", NULL);
    REDACT("{\"password\": ", NULL);
    REDACT("{\"a\": 1} x", NULL);
    REDACT("{\"a\": 1}  \n", "{\"a\": 1}  \n");
    SL_CHECK(sl_control_redact_json(NULL, 0, err, sizeof err) == NULL);
    SL_CHECK(*err != '\0');
    /* A NUL byte inside the text. */
    SL_CHECK(sl_control_redact_json("{\"a\":\"\0\"}", 9, err, sizeof err) ==
             NULL);
}

/* A managed job's copy of its file (run folder, job.json) holds no secret
 * and keeps the ${ENV:NAME} reference as written. */
static void test_attach_job_json(void)
{
    static const char job[] =
        "{\"name\": \"r\", \"ui\": {\"port\": 4040, \"token\": "
        "\"${ENV:UI_TOKEN}\"},\n \"conf\": {\"sasl.password\": "
        "\"hunter2-secret\"}}";
    char *dir = sl_test_tmpdir("sl_redact_"), path[512], err[256];
    sl_control_options o;
    sl_conf *conf = sl_conf_new();
    sl_context *ctx = NULL;
    char *text;
    size_t len;
    SL_CHECK(dir && conf);
    if (!dir || !conf)
        goto out;
    snprintf(path, sizeof path, "%s/state", dir);
    setenv("XDG_STATE_HOME", path, 1); /* the log folder, in dir */
    SL_CHECK_OK(sl_conf_set(conf, "batch_interval", "1s", err, sizeof err));
    SL_CHECK((ctx = sl_context_new(conf, err, sizeof err)) != NULL);
    if (!ctx)
        goto out;
    memset(&o, 0, sizeof o);
    o.version = SL_CONTROL_OPTIONS_VERSION;
    o.name = "r";
    o.run_dir = dir;
    o.job_json = job;
    SL_CHECK_OK(sl_control_attach(ctx, &o));
    snprintf(path, sizeof path, "%s/r/job.json", dir);
    text = sl_test_read_file(path, &len);
    SL_CHECK_STR(text, "{\"name\": \"r\", \"ui\": {\"port\": 4040, \"token\": "
                       "\"${ENV:UI_TOKEN}\"},\n \"conf\": {\"sasl.password\": "
                       "\"<redacted>\"}}");
    free(text);
out:
    sl_context_free(ctx);
    if (!ctx)
        sl_conf_free(conf);
    if (dir)
        sl_test_remove_tree(dir);
    free(dir);
}

const char *SL_SUITE = "control/redact";
const sl_test_case SL_TESTS[] = {
    {"secret_keys", test_secret_keys},
    {"redact_values", test_redact_values},
    {"redact_env_refs", test_redact_env_refs},
    {"redact_refuses", test_redact_refuses},
    {"attach_job_json", test_attach_job_json},
    {NULL, NULL},
};
