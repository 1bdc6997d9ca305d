/*
 * conns.h: the open connections of `aijri serve`, tracked for what libmicrohttpd does not do
 * by itself:
 *
 * - A request must arrive whole within the timeout of its connection going idle (the
 *   library's own timeout restarts on every byte, so a client trickling one byte a second
 *   would hold a connection forever). A reaper thread closes the late ones.
 * - At the connection limit a new connection does not wait or get refused while others sit
 *   idle: a connection its client has already closed (the library has not yet seen its end)
 *   goes first, as it costs no one anything; then an idle connection (open, with no request
 *   under way) is closed to make room, the
 *   longest idle first, and among those first the ones that never sent a request (held
 *   sockets) before the ones between two requests (a client's kept-alive connection); failing
 *   that, the one whose request has been arriving the longest; only when every connection is
 *   being answered is the new one refused. So thousands of held idle sockets cannot lock a
 *   client out, even from the client's own address.
 * - Per address, as a second line: at max_per_address connections from one address the same
 *   rule runs among that address's connections alone (0: no per-address limit; behind a load
 *   balancer every client has the balancer's address).
 *
 * Bound: one entry per open connection (at most the limit plus those being closed), and one
 * per address that has a connection open.
 *
 * Threads: conns_open and conns_close run on the library's threads, under the module's lock;
 * the state changes of one connection (conns_arriving, conns_busy, conns_idle) are atomic
 * stores by the thread that serves it.
 */
#ifndef SERVER_CONNS_H
#define SERVER_CONNS_H

#include <stdint.h>
#include <sys/socket.h>

#include "util/buf.h"

struct conns;
struct conn;

/* max: connections at most; max_per_address: from one address (0: none); timeout_ms: how
 * long a request may take to arrive once its connection is idle. NULL on failure. */
struct conns *conns_new(int max, int max_per_address, int64_t timeout_ms);
/* Stops the reaper and frees the table (the connections themselves are the library's). */
void conns_free(struct conns *cs);

/* A connection was accepted. Returns its entry, or NULL when it must be refused (the
 * function has shut the socket down then). Makes room as described above. */
struct conn *conns_open(struct conns *cs, int fd, const struct sockaddr *addr);
/* The library is about to close the connection: forget it. NULL ok. */
void conns_close(struct conns *cs, struct conn *c);

/* State changes: a request line arrived; the request is whole and being answered; the answer
 * went out (the connection is idle again). NULL ok. */
void conns_arriving(struct conn *c);
void conns_busy(struct conn *c);
void conns_idle(struct conn *c);

/* Shutting down: whether nothing is under way: no connection with a request arriving or
 * being answered, none with bytes unread, and none answered in the last quiet_ms (a client
 * on a kept-alive connection may be about to send). */
int conns_quiet(struct conns *cs, int64_t quiet_ms);

/* Prometheus text: open connections, and those closed to make room or refused. */
void conns_metrics(void *ctx, struct buf *out);

#endif
