/*
 * http.h: the libmicrohttpd daemon of `aijri serve`: a thread pool on epoll with keep-alive
 * kept, connection timeout and limit, the 1 MiB body limit, writes suspended while the store's
 * writer makes them durable, and a cache of GET answers served until the next write.
 */
#ifndef SERVER_HTTP_H
#define SERVER_HTTP_H

#include "api/api.h"
#include "server/config.h"

struct http;

/* Starts listening. NULL with a message on stderr on failure (port in use, ...). */
struct http *http_start(struct api *api, const struct config *cfg);
/* Stops accepting, waits (up to timeout_ms) for requests in flight, then stops. NULL ok. */
void http_stop(struct http *h, int timeout_ms);

#endif
