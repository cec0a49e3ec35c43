/*
 * (Interim: the web UI task replaces this file with src/control/http.c
 * and metrics; delete this file then.) Until then a UI port is refused.
 */
#include "control/control_int.h"

#include <stdio.h>

sl_status sl__http_start(sl__control *c, char *errbuf, size_t errlen)
{
    SL__UNUSED(c);
    snprintf(errbuf, errlen, "this build has no web UI yet");
    return SL_ECONF;
}

void sl__http_stop(sl__control *c)
{
    SL__UNUSED(c);
}
