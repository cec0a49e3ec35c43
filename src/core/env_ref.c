/*
 * The syntax of a `${ENV:NAME}` reference, shared by the job layer (which
 * replaces it by the environment variable when a job file is loaded) and
 * the control layer (which keeps it when redacting: it holds no secret).
 */
#include <ctype.h>
#include <string.h>

#include "core/core.h"

#define PREFIX "${ENV:"
#define PREFIX_LEN 6

size_t sl__env_ref(const char *s, size_t len, size_t *name_len)
{
    size_t i = PREFIX_LEN;
    if (len <= PREFIX_LEN || memcmp(s, PREFIX, PREFIX_LEN) != 0)
        return 0;
    if (!(isalpha((unsigned char)s[i]) || s[i] == '_'))
        return 0;
    while (i < len && (isalnum((unsigned char)s[i]) || s[i] == '_'))
        i++;
    if (i == len || s[i] != '}')
        return 0;
    if (name_len)
        *name_len = i - PREFIX_LEN;
    return i + 1;
}
