/*
 * dispatcher.h: the webhook dispatcher thread of `aijri serve`. It sends due deliveries from
 * the store's outbox with libcurl's multi interface (many at once, at most one in flight per
 * subscription so each endpoint gets its events in order), signs them as the Standard
 * Webhooks specification says, records each attempt, and retries on the schedule. After a
 * restart it carries on from the table.
 */
#ifndef SERVER_DISPATCHER_H
#define SERVER_DISPATCHER_H

#include "server/config.h"
#include "store/store.h"
#include "util/buf.h"

struct dispatcher;

/* Starts the thread. Returns NULL (with a message on stderr) on failure. */
struct dispatcher *dispatcher_start(struct store *s, const struct config *cfg);
/* Stops the thread after the attempts in flight finish or time out. NULL ok. */
void dispatcher_stop(struct dispatcher *d);
/* Appends the Prometheus text of deliveries by outcome, queue depth and the age of the oldest
 * pending delivery. Signature fits api_options.webhook_metrics. */
void dispatcher_metrics(void *d, struct buf *out);

/* The Standard Webhooks signature "v1,<base64>" of id.timestamp.body keyed with the
 * base64-decoded secret after "whsec_", into out (room for 64 bytes). 0 on success. */
int dispatcher_sign(const char *secret, const char *id, long long timestamp, const char *body,
		    size_t body_len, char out[64]);

/* Parses a comma list of seconds ("5,300,1800"); at most max entries. Returns the count, or
 * -1 if malformed. A schedule has at most DISPATCHER_MAX_SCHEDULE entries. */
#define DISPATCHER_MAX_SCHEDULE 32
int dispatcher_parse_schedule(const char *s, int *out, int max);

#endif
