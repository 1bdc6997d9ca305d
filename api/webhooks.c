/* webhooks.c: placeholder until the webhook endpoints are written. */
#include "api/webhooks.h"

static int todo(struct api_response *rs)
{
	rs->status = 501;
	return API_DONE;
}

int api_webhooks_create(struct api_request *rq, struct api_response *rs) { (void)rq; return todo(rs); }
int api_webhooks_list(struct api_request *rq, struct api_response *rs) { (void)rq; return todo(rs); }
int api_webhooks_get(struct api_request *rq, struct api_response *rs) { (void)rq; return todo(rs); }
int api_webhooks_update(struct api_request *rq, struct api_response *rs) { (void)rq; return todo(rs); }
int api_webhooks_delete(struct api_request *rq, struct api_response *rs) { (void)rq; return todo(rs); }
int api_webhooks_deliveries(struct api_request *rq, struct api_response *rs) { (void)rq; return todo(rs); }
int api_webhooks_redeliver(struct api_request *rq, struct api_response *rs) { (void)rq; return todo(rs); }
int api_webhooks_ping(struct api_request *rq, struct api_response *rs) { (void)rq; return todo(rs); }

int api_webhooks_queue_revision(struct store_tx *tx, const char *slug, const char *title,
				const struct api_event_state *prev,
				const struct api_event_state *cur, const char *reason)
{
	(void)tx; (void)slug; (void)title; (void)prev; (void)cur; (void)reason;
	return 0;
}
