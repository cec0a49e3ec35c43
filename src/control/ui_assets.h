/*
 * The web UI's files (ui/), embedded into the library at build time by
 * cmake/embed.cmake so that a job serves its page with nothing to install
 * and nothing fetched from elsewhere.
 */
#ifndef SL_UI_ASSETS_H
#define SL_UI_ASSETS_H

#include <stddef.h>

typedef struct sl__ui_asset {
    const char *route; /* "/", "/app.js", ... */
    const char *type;  /* its Content-Type */
    const unsigned char *data;
    size_t len;
} sl__ui_asset;

extern const sl__ui_asset sl__ui_assets[];
extern const size_t sl__ui_nassets;

#endif /* SL_UI_ASSETS_H */
