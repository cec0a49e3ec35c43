/*
 * What the socket source's two modes share: the client mode (socket.c,
 * which also holds the public constructor) and the server mode
 * (listen.c, receiver.listen).
 */
#ifndef SL_SOCKET_INT_H
#define SL_SOCKET_INT_H

#include <sluice/connectors.h>

#include "core/records.h"

#include <stddef.h>

/* The dead-letter file of a socket source (the conf's
 * receiver.dead_letter, else its dead_letter, else the context's), or
 * *dead = NULL for none, and *name, the origin its lines give (source.name
 * or "socket"; sl_free). */
sl_status sl__socket_dead_letters(sl_context *ctx, const sl_conf *conf,
                                  sl__dead_letters **dead, char **name,
                                  char *err, size_t errlen);

/* receiver.format, receiver.schema and receiver.parse_mode for stream. */
sl_status sl__socket_records(sl_dstream *stream, const sl_conf *conf,
                             sl__dead_letters *dead, char *err, size_t errlen);

/* receiver.listen: a stream of the lines of the clients that connect to
 * host:port (0: any free port). Errors are set on ctx. */
sl_dstream *sl__socket_listen_stream(sl_context *ctx, const char *host,
                                     int port, const sl_conf *conf);

#endif /* SL_SOCKET_INT_H */
