/*
 * Status codes as text: sl_strerror() and sl_errname(), both generated from
 * the one SL_STATUS_MAP list in include/sluice/core.h so that a code added
 * there can never be missing here.
 */
#include <sluice/core.h>

const char *sl_strerror(sl_status st)
{
    /* A switch, not an array indexed by code: codes are negative and need
     * not stay dense. */
    switch (st) {
#define SL__STATUS_TEXT(name, code, text)                                      \
    case SL_##name:                                                            \
        return text;
        SL_STATUS_MAP(SL__STATUS_TEXT)
#undef SL__STATUS_TEXT
    }
    return "unknown status";
}

const char *sl_errname(sl_status st)
{
    switch (st) {
#define SL__STATUS_NAME(name, code, text)                                      \
    case SL_##name:                                                            \
        return "SL_" #name;
        SL_STATUS_MAP(SL__STATUS_NAME)
#undef SL__STATUS_NAME
    }
    return "SL_UNKNOWN";
}
