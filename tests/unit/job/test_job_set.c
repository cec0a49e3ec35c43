/*
 * Unit tests of src/job/set.c: the grammar of overrides "PATH=VALUE"
 * (sl_job_check_set, each syntax error with its message and place) and
 * their application to a job's document (sl_job_parse_with_overrides):
 * dotted and JSON paths, keys with dots, indexes, objects created along
 * the path, order, values as JSON or text, and the problems of paths that
 * do not fit the document.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>
#include <sluice/sluice.h>

#include "job/job_int.h"
#include "sl_test.h"
#include "sl_test_util.h"

static const char base[] =
    "{\"name\": \"t\", \"batch_interval\": \"1s\", \"clock\": \"manual\", "
    "\"max_batches\": 3, \"conf\": {\"state.shards\": 2}, "
    "\"sources\": {\"q\": {\"type\": \"queue\", \"batches\": [[1, 2], [3]]}, "
    "\"a.b\": {\"type\": \"generator\", \"seed\": 1}}, "
    "\"sinks\": [{\"from\": \"q\", \"type\": \"console\"}]}";

static sl_job *with_sets(size_t n, const char *const *sets)
{
    return sl_job_parse_with_overrides(base, strlen(base), "t.json", sets, n);
}

/* The printed value at the keys (NULL-terminated; "#N" is index N) of the
 * job's document, or "(none)"; in buf. */
static const char *at(const sl_job *job, char *buf, size_t cap, ...)
{
    const cJSON *j = job->root;
    const char *k;
    char *text;
    va_list ap;
    va_start(ap, cap);
    while (j && (k = va_arg(ap, const char *)) != NULL)
        j = k[0] == '#' ? cJSON_GetArrayItem(j, atoi(k + 1))
                        : cJSON_GetObjectItemCaseSensitive(j, k);
    va_end(ap);
    if (!j || !(text = cJSON_PrintUnformatted(j))) {
        snprintf(buf, cap, "(none)");
        return buf;
    }
    snprintf(buf, cap, "%s", text);
    cJSON_free(text);
    return buf;
}

/* Each syntax error, its message and the character it points at. */
static void test_check_set_errors(void)
{
    static const struct {
        const char *arg, *msg;
    } rows[] = {
        {"max_batches", "--set max_batches: missing '=': an override is "
                        "PATH=VALUE (at character 12)"},
        {"a..b=1", "--set a..b=1: empty segment in the path (at character 3)"},
        {".a=1", "--set .a=1: empty segment in the path (at character 1)"},
        {"a.=1", "--set a.=1: empty segment in the path (at character 3)"},
        {"=1", "--set =1: empty segment in the path (at character 1)"},
        {"sinks[0=1", "--set sinks[0=1: unterminated bracket '[' in the "
                      "path (at character 8)"},
        {"sinks[0", "--set sinks[0: unterminated bracket '[' in the path "
                    "(at character 8)"},
        {"sinks[]=1", "--set sinks[]=1: empty brackets [] in the path (at "
                      "character 7)"},
        {"sinks[-1]=1", "--set sinks[-1]=1: bad array index: expected "
                        "digits or a quoted name in brackets (at character "
                        "7)"},
        {"sinks[99999999999]=1", "--set sinks[99999999999]=1: array index "
                                 "too large (at character 16)"},
        {"$.x[\"a=1", "--set $.x[\"a=1: unterminated quote \" in the path "
                      "(at character 9)"},
        {"$.x['a']b=1", "--set $.x['a']b=1: expected '.', '[' or '=' in the "
                        "path (at character 9)"},
        {"$.x[\"a\"=1", "--set $.x[\"a\"=1: expected ']' after the quoted "
                        "name (at character 8)"},
        {"$=1", "--set $=1: the path $ names no field (at character 2)"},
        {"$", "--set $: the path $ names no field (at character 2)"},
        {"a]b=1", "--set a]b=1: unexpected ']' in the path (at character "
                  "2)"},
    };
    char err[256];
    size_t i;
    for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        err[0] = '\0';
        SL_CHECK_INT(sl_job_check_set(rows[i].arg, err, sizeof err), SL_EINVAL);
        SL_CHECK_STR(err, rows[i].msg);
    }
}

static void test_check_set_valid(void)
{
    static const char *const ok[] = {"a=1",
                                     "a.b.c=",
                                     "sinks[0].path=x",
                                     "a[0][1]=[1]",
                                     "$.a=1",
                                     "$.sources[\"a.b\"].port=1",
                                     "$['x']=1",
                                     "$.sinks[0].path=",
                                     "$[\"q\\\"t\"]=1",
                                     "a=b=c",
                                     "$[\"a=b\"]=1",
                                     "conf.log.level=debug"};
    size_t i;
    for (i = 0; i < sizeof ok / sizeof ok[0]; i++)
        SL_CHECK_INT(sl_job_check_set(ok[i], NULL, 0), SL_OK);
    SL_CHECK_INT(sl_job_check_set(NULL, NULL, 0), SL_EINVAL);
}

/* Dotted paths, indexes, JSON values and text, in order. */
static void test_apply_dotted(void)
{
    static const char *const sets[] = {"max_batches=1",
                                       "sources.q.batches[1][0]=30",
                                       "max_batches=2",
                                       "name=new-name",
                                       "sinks[0].format=\"json\"",
                                       "sources.q.batches[0]=[7,8]"};
    char b[256];
    sl_job *job = with_sets(6, sets);
    SL_CHECK(job != NULL);
    SL_CHECK_INT(sl_job_problem_count(job), 0);
    SL_CHECK_STR(at(job, b, sizeof b, "max_batches", NULL), "2");
    SL_CHECK_STR(at(job, b, sizeof b, "name", NULL), "\"new-name\"");
    SL_CHECK_STR(at(job, b, sizeof b, "sources", "q", "batches", NULL),
                 "[[7,8],[30]]");
    SL_CHECK_STR(at(job, b, sizeof b, "sinks", "#0", "format", NULL),
                 "\"json\"");
    SL_CHECK_STR(sl_job_name(job), "new-name");
    sl_job_free(job);
}

/* Keys with dots: an existing key matched longest first, conf's keys
 * whole, the JSON path form literal; missing objects created. */
static void test_apply_dotted_keys(void)
{
    static const char *const sets[] = {
        "sources.a.b.seed=7",      "conf.state.shards=4",
        "conf.log.level=warn",     "$.sources[\"a.b\"].vocabulary=5",
        "checkpoint.path=/tmp/ck", "$['conf']['max_record_bytes']=\"2m\""};
    char b[256];
    sl_job *job = with_sets(6, sets);
    SL_CHECK(job != NULL);
    SL_CHECK_INT(sl_job_problem_count(job), 0);
    SL_CHECK_STR(at(job, b, sizeof b, "sources", "a.b", NULL),
                 "{\"type\":\"generator\",\"seed\":7,\"vocabulary\":5}");
    SL_CHECK_STR(at(job, b, sizeof b, "conf", NULL),
                 "{\"state.shards\":4,\"log.level\":\"warn\","
                 "\"max_record_bytes\":\"2m\"}");
    SL_CHECK_STR(at(job, b, sizeof b, "checkpoint", NULL),
                 "{\"path\":\"/tmp/ck\"}");
    sl_job_free(job);
}

/* Without a conf, "conf.log.level" creates conf with the key
 * "log.level"; the JSON path form takes each .name as one key. */
static void test_apply_conf_created(void)
{
    static const char *const one[] = {"conf.log.level=debug"};
    static const char *const lit[] = {"$.x.log.level=1"};
    const char *text = "{\"name\": \"t\"}";
    char b[256];
    sl_job *job = sl_job_parse_with_overrides(text, strlen(text), NULL, one, 1);
    SL_CHECK(job != NULL);
    SL_CHECK_STR(at(job, b, sizeof b, "conf", NULL),
                 "{\"log.level\":\"debug\"}");
    sl_job_free(job);
    job = sl_job_parse_with_overrides(text, strlen(text), NULL, lit, 1);
    SL_CHECK(job != NULL);
    SL_CHECK_STR(at(job, b, sizeof b, "x", NULL), "{\"log\":{\"level\":1}}");
    sl_job_free(job);
}

static void check_problems(size_t nsets, const char *const *sets,
                           const char *const *want, size_t nwant)
{
    sl_job *job = with_sets(nsets, sets);
    size_t i;
    SL_CHECK(job != NULL);
    if (!job)
        return;
    SL_CHECK_INT(sl_job_problem_count(job), nwant);
    for (i = 0; i < nwant && i < sl_job_problem_count(job); i++)
        SL_CHECK_STR(sl_job_problem(job, i), want[i]);
    sl_job_free(job);
}

/* Paths that do not fit the document: each override's problem, all of
 * them, and no further checks. */
static void test_apply_errors(void)
{
    static const char *const sets[] = {
        "sinks[1].path=x", "name.x=1",      "name[0]=1", "sources[0]=1",
        "sinks.x=1",       "max_batches=4", "sinks[0=1"};
    static const char *const want[] = {
        "--set sinks[1].path=x: index 1 is past the end of $.sinks (1 item)",
        "--set name.x=1: $.name is a string, not an object",
        "--set name[0]=1: $.name is a string, not an array",
        "--set sources[0]=1: $.sources is an object, not an array",
        "--set sinks.x=1: $.sinks is an array, not an object",
        "--set sinks[0=1: unterminated bracket '[' in the path (at character "
        "8)"};
    check_problems(7, sets, want, 6);
}

/* A value that makes the job invalid gives the usual problem. */
static void test_apply_invalid_value(void)
{
    static const char *const sets[] = {"max_batches=x",
                                       "sources.q.type=queue2"};
    static const char *const want[] = {
        "$.max_batches: expected an integer, got string"};
    sl_job *job = with_sets(2, sets);
    SL_CHECK(job != NULL);
    SL_CHECK(sl_job_problem_count(job) >= 2);
    SL_CHECK_STR(sl_job_problem(job, 0), want[0]);
    SL_CHECK(strstr(sl_job_problem(job, 1),
                    "$.sources.q.type: unknown source type \"queue2\"") ==
             sl_job_problem(job, 1));
    sl_job_free(job);
}

/* The file on disk is read, never written. */
static void test_load_leaves_file(void)
{
    static const char *const sets[] = {"max_batches=9"};
    char path[] = "/tmp/test_job_set_XXXXXX", b[64], *back;
    int fd = mkstemp(path);
    FILE *f;
    long n;
    sl_job *job;
    SL_CHECK(fd >= 0);
    f = fdopen(fd, "w+");
    SL_CHECK(f != NULL && fputs(base, f) >= 0 && fflush(f) == 0);
    job = sl_job_load_with_overrides(path, sets, 1);
    SL_CHECK(job != NULL);
    SL_CHECK_INT(sl_job_problem_count(job), 0);
    SL_CHECK_STR(at(job, b, sizeof b, "max_batches", NULL), "9");
    sl_job_free(job);
    rewind(f);
    back = calloc(1, sizeof base + 16);
    n = (long)fread(back, 1, sizeof base + 15, f);
    SL_CHECK_INT(n, (long)strlen(base));
    SL_CHECK_STR(back, base);
    free(back);
    fclose(f);
    remove(path);
}

/* A path of steps names "a" (dotted), then =value; malloc'd. */
static char *deep_set(size_t steps, const char *value)
{
    char *s = malloc(2 * steps + strlen(value) + 2), *o = s;
    size_t i;
    for (i = 0; i < steps; i++) {
        *o++ = 'a';
        *o++ = i + 1 < steps ? '.' : '=';
    }
    strcpy(o, value);
    return s;
}

/* The job's first problem says the override nests too deep. */
static bool too_deep(size_t steps, const char *value)
{
    char *set = deep_set(steps, value);
    const char *sets[] = {set};
    sl_job *job = with_sets(1, sets);
    bool deep = job && sl_job_problem_count(job) > 0 &&
                strstr(sl_job_problem(job, 0),
                       ": the override would nest the job deeper than 64 "
                       "levels (the limit of a job file)") != NULL;
    sl_job_free(job);
    free(set);
    return deep;
}

/* The job file's nesting limit (64) holds for the document the overrides
 * make: a path of thousands of steps is refused, not built and recursed
 * into. */
static void test_apply_nesting_limit(void)
{
    SL_CHECK(!too_deep(64, "1"));
    SL_CHECK(too_deep(65, "1"));
    SL_CHECK(!too_deep(63, "[1]"));
    SL_CHECK(too_deep(63, "[[1]]"));
    SL_CHECK(too_deep(50000, "1"));
}

static void *cjson_malloc(size_t n)
{
    return sl_malloc(n);
}

static void cjson_free(void *p)
{
    sl_free(p);
}

/*
 * Every allocation fails in turn while overrides are applied, cJSON's
 * included (routed through the sluice hook for the test): each run gives
 * no job (out of memory) or the valid job with every override, never a
 * problem that blames the overrides; nothing leaks (the hook is reset only
 * when all is freed).
 */
static void test_apply_out_of_memory(void)
{
    static const char *const sets[] = {
        "conf.log.level=warn", "sources.a.b.seed=[1,{\"x\":2}]",
        "sinks[0].format=json", "checkpoint.path=ck", "max_batches=1"};
    const sl_allocator *hook = sl_test_failing_allocator();
    cJSON_Hooks through_sluice = {cjson_malloc, cjson_free};
    bool done = false;
    long k;

    cJSON_InitHooks(&through_sluice);
    SL_CHECK_OK(sl_set_allocator(hook));
    for (k = 0; k < 5000 && !done; k++) {
        sl_job *job;
        sl_test_fail_after(k);
        job = with_sets(5, sets);
        if (job) {
            /* The seed's value is invalid, and only that is reported. */
            bool ok = sl_job_problem_count(job) == 1 &&
                      strncmp(sl_job_problem(job, 0),
                              "$.sources[\"a.b\"].seed: ", 23) == 0;
            SL_CHECK(ok);
            if (!ok && sl_job_problem_count(job))
                fprintf(stderr, "  after %ld allocations: %s\n", k,
                        sl_job_problem(job, 0));
            done = true;
            sl_job_free(job);
        }
        SL_CHECK_OK(sl_set_allocator(hook)); /* all freed again */
    }
    sl_test_fail_after(-1);
    SL_CHECK_OK(sl_set_allocator(NULL));
    cJSON_InitHooks(NULL);
    SL_CHECK(done);
    SL_CHECK(k > 20);
}

const char *SL_SUITE = "job_set";

const sl_test_case SL_TESTS[] = {
    {"check_set_errors", test_check_set_errors},
    {"check_set_valid", test_check_set_valid},
    {"apply_dotted", test_apply_dotted},
    {"apply_dotted_keys", test_apply_dotted_keys},
    {"apply_conf_created", test_apply_conf_created},
    {"apply_errors", test_apply_errors},
    {"apply_invalid_value", test_apply_invalid_value},
    {"load_leaves_file", test_load_leaves_file},
    {"apply_nesting_limit", test_apply_nesting_limit},
    {"apply_out_of_memory", test_apply_out_of_memory},
    {NULL, NULL},
};
