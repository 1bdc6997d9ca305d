/*
 * events.h: the webhook events a write to a role queues, with the bodies of API.md, through
 * the store's outbox (store_tx_events_add: one row for all of a revision's events) inside the
 * write's own transaction, so that an event exists exactly when its revision does. Also the
 * event ids and the one serialisation of every event body, which the ping of /webhooks
 * (api/webhooks.c) uses too.
 */
#ifndef REVISE_EVENTS_H
#define REVISE_EVENTS_H

#include <stddef.h>

#include <jansson.h>

#include "store/store.h"
#include "util/rc.h"

/* The event types a write queued (a bit each), for the engine's results. */
enum events_type {
	EVENTS_REVISED = 1,      /* assessment.revised */
	EVENTS_SCORE_CHANGED = 2, /* score.changed */
	EVENTS_ZONE_CHANGED = 4, /* zone.changed */
	EVENTS_ARCHIVED = 8,     /* role.archived */
};

/* The previous and current published result of a role, for the events of a revision. */
struct events_state {
	double score;
	const char *zone;
	const char *label;
	int revision;
};

/*
 * An event id into out (outlen bytes, 64 is room enough): "evt_", the creation time in
 * milliseconds as 12 hex digits, then 12 random bytes in base64url.
 */
enum rc events_new_id(char *out, size_t outlen) __attribute__((warn_unused_result));
/* Serialises v (not stolen) the way every event body is sent. malloc'd; NULL for NULL or
 * when out of memory. */
char *events_dumps(const json_t *v);

/*
 * Inside a store job that wrote a revision: queues `assessment.revised` always,
 * `score.changed` when the published score moved, `zone.changed` when the zone moved, each
 * with the body of API.md, for the subscriptions that want it. prev is NULL for a new role
 * (then only assessment.revised is queued, with "previous": null). Adds the types queued to
 * *queued (EVENTS_*).
 */
enum rc events_queue_revision(struct store_tx *tx, const char *slug, const char *title,
			      const struct events_state *prev, const struct events_state *cur,
			      const char *reason, unsigned *queued)
	__attribute__((warn_unused_result));
/* Inside the store job that archives slug, before it does: queues `role.archived`, with the
 * role's last published result as "previous" and "current": null. Adds EVENTS_ARCHIVED to
 * *queued when it was. */
enum rc events_queue_archived(struct store_tx *tx, const char *slug, unsigned *queued)
	__attribute__((warn_unused_result));

#endif
