/*
 * webhooks.h: the /webhooks endpoints of API.md (subscriptions, delivery log, redeliver,
 * ping); the events of a revision are revise/events.h's. Handlers follow api.h; every one of them,
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

#endif
