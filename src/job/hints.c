/*
 * "Did you mean" hints for job-file problems: an unknown operator, field,
 * function, source type or property is matched against the names that
 * would have been valid there, first as a Spark name (camelCase, or one of
 * Spark's own names for a thing sluice calls differently), then by edit
 * distance. parse.c appends the hint to its message.
 */
#include "job/job_int.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "job/parse_int.h"

/* Names longer than this get no hint: no known name is nearly as long. */
#define HINT_MAX_LEN 64

/*
 * Spark's names for things sluice names differently (after camelCase is
 * turned into snake_case, which already covers reduceByKey and the like).
 * A hint is given only when the target is valid where the name was used.
 */
static const struct {
    const char *spark, *ours;
} aliases[] = {
    {"batch_duration", "batch_interval"},
    {"num_partitions", "partitions"},
    {"window_duration", "window"},
    {"slide_duration", "slide"},
    {"socket_text_stream", "socket"},
    {"raw_socket_stream", "socket"},
    {"text_file_stream", "directory"},
    {"file_stream", "directory"},
    {"queue_stream", "queue"},
    {"rate_stream", "rate"},
    {"print", "console"},
    {"pprint", "console"},
    {"split", "split_words"},
    {"to_upper_case", "upper"},
    {"to_lower_case", "lower"},
    {"to_int", "to_number"},
    {"to_double", "to_number"},
    {"parse_int", "to_number"},
};

/* camelCase (and case) folded into snake_case: reduceByKey, ReduceByKey
 * and REDUCE_BY_KEY all become reduce_by_key. False if too long. */
static bool snake_case(const char *name, char *out, size_t cap)
{
    size_t i, n = 0;
    for (i = 0; name[i]; i++) {
        unsigned char c = (unsigned char)name[i];
        bool up = isupper(c) && i > 0 && islower((unsigned char)name[i - 1]);
        if (n + 2 >= cap)
            return false;
        if (up || c == '-' || c == ' ')
            out[n++] = '_';
        if (c != '-' && c != ' ')
            out[n++] = (char)tolower(c);
    }
    out[n] = '\0';
    return true;
}

static size_t min3(size_t a, size_t b, size_t c)
{
    size_t m = a < b ? a : b;
    return m < c ? m : c;
}

/*
 * Damerau-Levenshtein distance (optimal string alignment: insertions,
 * deletions, substitutions and swaps of adjacent letters), both strings at
 * most HINT_MAX_LEN long. Three rows are enough for the swap.
 */
static size_t edit_distance(const char *a, const char *b)
{
    size_t rows[3][HINT_MAX_LEN + 1];
    size_t la = strlen(a), lb = strlen(b), i, j;
    size_t *pp = rows[0], *p = rows[1], *c = rows[2], *t;

    for (j = 0; j <= lb; j++)
        p[j] = j;
    for (i = 1; i <= la; i++) {
        c[0] = i;
        for (j = 1; j <= lb; j++) {
            size_t cost = a[i - 1] != b[j - 1];
            c[j] = min3(p[j] + 1, c[j - 1] + 1, p[j - 1] + cost);
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
                a[i - 2] == b[j - 1] && pp[j - 2] + 1 < c[j])
                c[j] = pp[j - 2] + 1;
        }
        t = pp;
        pp = p;
        p = c;
        c = t;
    }
    return p[lb];
}

/* How many edits still make a near miss: none for one or two letters
 * (anything is close to "x"), one up to five letters, else two. */
static size_t max_distance(size_t len)
{
    if (len <= 2)
        return 0;
    return len <= 5 ? 1 : 2;
}

/* Known name i of a registry or list, NULL past the end. */
typedef const char *(*name_at_fn)(const void *list, size_t i);

static const char *array_at(const void *list, size_t i)
{
    return ((const char *const *)list)[i];
}

static const char *registry_at(const void *list, size_t i)
{
    const sl_job_fn_info *f;
    const sl_conf_property *p;
    switch (*(const job_registry *)list) {
    case REG_OPERATORS:
        return sl_job_operator_at(i);
    case REG_FUNCTIONS:
        return (f = sl_job_function_at(i)) ? f->name : NULL;
    case REG_SOURCE_TYPES:
        return sl_job_source_type_at(i);
    case REG_SINK_TYPES:
        return sl__job_sink_type_at(i);
    case REG_PROPERTIES:
        return (p = sl_conf_property_at(i)) ? p->name : NULL;
    }
    return NULL;
}

/* The known name an alias of snake stands for, or NULL. */
static const char *alias_of(const char *snake, name_at_fn at, const void *l)
{
    const char *k;
    size_t i, j;
    for (i = 0; i < sizeof aliases / sizeof aliases[0]; i++) {
        if (strcmp(aliases[i].spark, snake) != 0)
            continue;
        for (j = 0; (k = at(l, j)) != NULL; j++)
            if (strcmp(k, aliases[i].ours) == 0)
                return k;
    }
    return NULL;
}

/* Distance of name (or its snake_case form) to known. */
static size_t distance(const char *name, const char *snake, const char *known)
{
    size_t d, ds;
    if (strlen(known) > HINT_MAX_LEN)
        return HINT_MAX_LEN;
    d = edit_distance(name, known);
    /* The snake_case form catches a camelCase name with a typo too. */
    if (strcmp(snake, name) != 0 && (ds = edit_distance(snake, known)) < d)
        d = ds;
    return d;
}

static const char *best_match(const char *name, name_at_fn at, const void *l)
{
    char snake[HINT_MAX_LEN + 2];
    const char *best = NULL, *k;
    size_t i, d, best_d, len = strlen(name);

    if (len > HINT_MAX_LEN || !snake_case(name, snake, sizeof snake))
        return NULL;
    for (i = 0; (k = at(l, i)) != NULL; i++)
        if (strcmp(k, snake) == 0 && strcmp(k, name) != 0)
            return k;
    if ((k = alias_of(snake, at, l)))
        return k;
    best_d = max_distance(len) + 1;
    /* Ties go to the first name of the list (registry order). */
    for (i = 0; (k = at(l, i)) != NULL; i++) {
        d = distance(name, snake, k);
        if (d < best_d && strcmp(k, name) != 0) {
            best = k;
            best_d = d;
        }
    }
    return best;
}

const char *sl__job_hint(const char *name, const char *const *known)
{
    return best_match(name, array_at, known);
}

const char *sl__job_hint_registry(const char *name, job_registry r)
{
    return best_match(name, registry_at, &r);
}

const char *sl__job_hint_note(sl_job *job, const char *hint)
{
    const char *note;
    if (!hint)
        return "";
    note = sl__job_printf(job, " (did you mean \"%s\"?)", hint);
    return note ? note : "";
}

void sl__job_unknown_name(sl_job *job, const cJSON *node, const char *path,
                          const char *what, const char *name, job_registry r)
{
    char known[256] = "";
    const char *k;
    size_t i;
    for (i = 0; (k = registry_at(&r, i)) != NULL; i++)
        snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s",
                 i ? ", " : "", k);
    sl__job_problem(job, node, path, "unknown %s %s%s (known: %s)", what,
                    sl__job_quoted(job, name),
                    sl__job_hint_note(job, sl__job_hint_registry(name, r)),
                    known);
}
