/*
 * webhooks.h: the /webhooks endpoints of API.md (subscriptions, delivery log, redeliver,
 * ping) and the events that a revision or an archive queues. Handlers follow api.h; every one of them,
 * reads included, needs a token (subscriber URLs are private).
 */
#ifndef API_WEBHOOKS_H
#define API_WEBHOOKS_H

#include "api/api.h"

int api_webhooks_create(struct api_request *rq, struct api_response *rs);     /* POST /webhooks */
int api_webhooks_list(struct api_request *rq, struct api_response *rs);       /* GET /webhooks */
int api_webhooks_get(struct api_request *rq, struct api_response *rs);        /* GET /webhooks/{id} */
int api_webhooks_update(struct api_request *rq, struct api_response *rs);     /* PATCH /webhooks/{id} */
int api_webhooks_delete(struct api_request *rq, struct api_response *rs);     /* DELETE /webhooks/{id} */
int api_webhooks_deliveries(struct api_request *rq, struct api_response *rs); /* GET .../deliveries */
int api_webhooks_redeliver(struct api_request *rq, struct api_response *rs);  /* POST .../redeliver */
int api_webhooks_ping(struct api_request *rq, struct api_response *rs);       /* POST .../ping */

/* The previous and current published result of a role, for the events of a revision. */
struct api_event_state {
	double score;
	const char *zone;
	const char *label;
	int revision;
};

/*
 * Inside a store job that wrote a revision: queues `assessment.revised` always,
 * `score.changed` when the published score moved, `zone.changed` when the zone moved, each
 * with the body of API.md, through store_tx_event_add(). prev is NULL for a new role (then
 * only assessment.revised is queued, with "previous": null).
 */
int api_webhooks_queue_revision(struct store_tx *tx, const char *slug, const char *title,
				const struct api_event_state *prev,
				const struct api_event_state *cur, const char *reason);
/* Inside the store job that archives slug, before it does: queues `role.archived`, with the
 * role's last published result as "previous" and "current": null. */
int api_webhooks_queue_archived(struct store_tx *tx, const char *slug);

#endif
