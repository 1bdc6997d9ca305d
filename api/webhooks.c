/*
 * webhooks.c: the /webhooks endpoints of API.md (subscriptions, the delivery log, redeliver,
 * ping). Every endpoint, reads included, needs a token:
 * subscriber URLs are private. Writes run as store jobs through api_defer().
 *
 * A subscription's body is read by webhook_body.c (what a URL may be is decided there).
 *
 * A disabled subscription is paused (store.h): ping and redeliver, which ask for a send now,
 * answer 409 webhook-disabled for it.
 *
 * The secret is shown once, in the answer to POST /webhooks; never in a read.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/reply.h"
#include "api/request.h"
#include "api/webhook_body.h"
#include "api/webhooks.h"
#include "revise/events.h"
#include "util/crypto.h"
#include "util/num.h"

/* ---------------------------------------------------------------------------------------
 * Identifiers and JSON shapes
 */

/* prefix + URL-safe base64 of n random bytes into out (outlen bytes). */
static int random_id(const char *prefix, size_t n, char *out, size_t outlen)
{
	unsigned char raw[32];
	char b64[48];

	if (n > sizeof(raw) || crypto_random(raw, n))
		return RC_IO;
	crypto_base64url(raw, n, b64);
	if ((size_t)snprintf(out, outlen, "%s%s", prefix, b64) >= outlen)
		return RC_TOOLARGE;
	return RC_OK;
}

/* "whsec_" + base64 of 32 random bytes. */
static int new_secret(char out[64])
{
	unsigned char raw[32];
	char b64[48];
	int rc = crypto_random(raw, sizeof(raw));

	if (rc)
		return RC_IO;
	crypto_base64(raw, sizeof(raw), b64);
	explicit_bzero(raw, sizeof(raw));
	snprintf(out, 64, "whsec_%s", b64);
	explicit_bzero(b64, sizeof(b64));
	return RC_OK;
}

/* A JSON text from the store as a value (null for NULL or unparsable). New reference. */
static json_t *stored_json(const char *text)
{
	json_t *v = text ? json_loads(text, 0, NULL) : NULL;

	return v ? v : json_null();
}

static json_t *string_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

/* The subscription object; the secret only when with_secret. New reference. */
static json_t *webhook_json(const struct store_webhook *w, int with_secret)
{
	json_t *o = json_object();

	if (!o)
		return NULL;
	json_object_set_new(o, "id", json_string(w->id));
	json_object_set_new(o, "url", json_string(w->url));
	json_object_set_new(o, "events", stored_json(w->events_json));
	json_object_set_new(o, "roles", stored_json(w->roles_json));
	json_object_set_new(o, "description", string_or_null(w->description));
	json_object_set_new(o, "status", json_string(w->status));
	json_object_set_new(o, "disabled_reason", string_or_null(w->disabled_reason));
	if (with_secret)
		json_object_set_new(o, "secret", json_string(w->secret));
	json_object_set_new(o, "created_at", json_string(w->created_at));
	json_object_set_new(o, "updated_at", json_string(w->updated_at));
	return o;
}

static json_t *delivery_json(const struct store_delivery *d)
{
	json_t *o = json_object();

	if (!o)
		return NULL;
	json_object_set_new(o, "id", json_integer(d->id));
	json_object_set_new(o, "event_id", json_string(d->event_id));
	json_object_set_new(o, "event_type", json_string(d->event_type));
	json_object_set_new(o, "status", json_string(d->status));
	json_object_set_new(o, "attempts", json_integer(d->attempts));
	json_object_set_new(o, "last_status_code",
			    d->last_status_code ? json_integer(d->last_status_code) : json_null());
	json_object_set_new(o, "last_error", string_or_null(d->last_error));
	json_object_set_new(o, "next_attempt_at", string_or_null(d->next_attempt_at));
	json_object_set_new(o, "created_at", json_string(d->created_at));
	json_object_set_new(o, "updated_at", json_string(d->updated_at));
	return o;
}

/* ---------------------------------------------------------------------------------------
 * Handlers
 */

/* The state of a deferred write: what the job reads and what it leaves for finish(). */
struct wh_job {
	char id[64];
	struct webhook_fields f;
	char secret[64];
	struct store_webhook result; /* the subscription as written */
	int64_t delivery_id;
	char event_id[64];
	struct store_delivery delivery; /* a redelivery's new delivery, read in its job */
};

static void wh_job_free(void *arg)
{
	struct wh_job *j = arg;

	if (!j)
		return;
	webhook_fields_release(&j->f);
	store_webhook_release(&j->result);
	store_delivery_release(&j->delivery);
	explicit_bzero(j->secret, sizeof(j->secret));
	free(j);
}

static int defer(struct api_request *rq, struct api_response *rs, store_job_fn job,
		 struct wh_job *j,
		 void (*finish)(struct api_request *, struct api_response *, int, void *))
{
	if (api_defer(rq, job, j, finish, wh_job_free) == API_DEFER)
		return API_DEFER;
	api_problem_rc(rs, RC_NOMEM, NULL);
	return API_DONE;
}

static void not_found(struct api_response *rs)
{
	api_problem_rc(rs, RC_NOTFOUND, "no such webhook");
}

static int create_job(struct store_tx *tx, void *arg)
{
	struct wh_job *j = arg;
	struct store_webhook w;
	int rc;

	memset(&w, 0, sizeof(w));
	w.id = j->id;
	w.url = j->f.url;
	w.events_json = j->f.events_json;
	w.roles_json = j->f.roles_json && strcmp(j->f.roles_json, "null") ? j->f.roles_json : NULL;
	w.description = j->f.description && j->f.description[0] ? j->f.description : NULL;
	w.secret = j->secret;
	w.status = (char *)"active";
	rc = store_tx_webhook_create(tx, &w);
	if (rc)
		return rc;
	return store_tx_webhook_get(tx, j->id, &j->result);
}

static void create_finish(struct api_request *rq, struct api_response *rs, int rc, void *arg)
{
	struct wh_job *j = arg;
	struct buf loc = BUF_INIT(256);

	(void)rq;
	if (rc) {
		api_problem_rc(rs, rc, NULL);
		return;
	}
	buf_putf(&loc, "/webhooks/%s", j->id);
	if (buf_err(&loc)) {
		buf_release(&loc);
		api_problem_rc(rs, RC_NOMEM, "the subscription was created; its answer could not be built");
		return;
	}
	api_header(rs, "Location", buf_str(&loc));
	buf_release(&loc);
	api_json(rs, 201, webhook_json(&j->result, 1));
}

int api_webhooks_create(struct api_request *rq, struct api_response *rs)
{
	struct scoring_errors errs;
	struct wh_job *j = NULL;
	json_t *body = NULL;
	int rc;

	if (api_require_token(rq, rs) || api_body_json(rq, rs, &body))
		return API_DONE;
	j = calloc(1, sizeof(*j));
	if (!j) {
		api_problem_rc(rs, RC_NOMEM, NULL);
		goto out;
	}
	scoring_errors_init(&errs);
	if (webhook_body_read(rq->api, body, 0, &j->f, &errs)) {
		api_problem_errors(rs, &errs);
		goto out;
	}
	rc = random_id("wh_", 12, j->id, sizeof(j->id));
	if (!rc)
		rc = new_secret(j->secret);
	if (rc) {
		api_problem_rc(rs, rc, NULL);
		goto out;
	}
	json_decref(body);
	return defer(rq, rs, create_job, j, create_finish);
out:
	json_decref(body);
	wh_job_free(j);
	return API_DONE;
}

static int list_row(void *ctx, const struct store_webhook *w)
{
	return json_array_append_new(ctx, webhook_json(w, 0)) ? RC_NOMEM : RC_OK;
}

int api_webhooks_list(struct api_request *rq, struct api_response *rs)
{
	json_t *items = NULL;
	int limit, offset, total = 0, rc;

	if (api_require_token(rq, rs) || api_page(rq, rs, &limit, &offset))
		return API_DONE;
	items = json_array();
	if (!items) {
		api_problem_rc(rs, RC_NOMEM, NULL);
		return API_DONE;
	}
	rc = store_webhooks_list(api_store(rq->api), limit, offset, list_row, items, &total);
	if (rc) {
		json_decref(items);
		api_problem_rc(rs, rc, NULL);
		return API_DONE;
	}
	api_json(rs, 200, api_list(rq, rs, items, total, limit, offset));
	return API_DONE;
}

int api_webhooks_get(struct api_request *rq, struct api_response *rs)
{
	struct store_webhook w;
	int rc;

	if (api_require_token(rq, rs))
		return API_DONE;
	rc = store_webhook_get(api_store(rq->api), rq->params[0], &w);
	if (rc == RC_NOTFOUND)
		not_found(rs);
	else if (rc)
		api_problem_rc(rs, rc, NULL);
	else
		api_json(rs, 200, webhook_json(&w, 0));
	store_webhook_release(&w);
	return API_DONE;
}

static int update_job(struct store_tx *tx, void *arg)
{
	struct wh_job *j = arg;
	struct store_webhook w;
	int rc;

	memset(&w, 0, sizeof(w));
	w.id = j->id;
	w.url = j->f.url;
	w.events_json = j->f.events_json;
	w.roles_json = j->f.roles_json;
	w.description = j->f.description;
	w.status = j->f.status;
	rc = store_tx_webhook_update(tx, &w);
	if (rc)
		return rc;
	return store_tx_webhook_get(tx, j->id, &j->result);
}

static void update_finish(struct api_request *rq, struct api_response *rs, int rc, void *arg)
{
	struct wh_job *j = arg;

	(void)rq;
	if (rc == RC_NOTFOUND)
		not_found(rs);
	else if (rc)
		api_problem_rc(rs, rc, NULL);
	else
		api_json(rs, 200, webhook_json(&j->result, 0));
}

/* Copies the {id} parameter into j->id; 404 when it cannot be an id. */
static int take_id(struct api_request *rq, struct api_response *rs, struct wh_job *j)
{
	if (!rq->params[0] ||
	    (size_t)snprintf(j->id, sizeof(j->id), "%s", rq->params[0]) >= sizeof(j->id)) {
		not_found(rs);
		return RC_NOTFOUND;
	}
	return RC_OK;
}

/* The start of every handler on one subscription: the token, a job, the id from the path.
 * NULL when rs holds the answer already (401, 404, out of memory). */
static struct wh_job *job_for_id(struct api_request *rq, struct api_response *rs)
{
	struct wh_job *j;

	if (api_require_token(rq, rs))
		return NULL;
	j = calloc(1, sizeof(*j));
	if (!j) {
		api_problem_rc(rs, RC_NOMEM, NULL);
		return NULL;
	}
	if (take_id(rq, rs, j)) {
		wh_job_free(j);
		return NULL;
	}
	return j;
}

int api_webhooks_update(struct api_request *rq, struct api_response *rs)
{
	struct scoring_errors errs;
	struct wh_job *j = NULL;
	json_t *body = NULL;

	j = job_for_id(rq, rs);
	if (!j)
		return API_DONE;
	if (api_body_json(rq, rs, &body))
		goto out;
	scoring_errors_init(&errs);
	if (webhook_body_read(rq->api, body, 1, &j->f, &errs)) {
		api_problem_errors(rs, &errs);
		goto out;
	}
	json_decref(body);
	return defer(rq, rs, update_job, j, update_finish);
out:
	json_decref(body);
	wh_job_free(j);
	return API_DONE;
}

static int delete_job(struct store_tx *tx, void *arg)
{
	struct wh_job *j = arg;

	return store_tx_webhook_delete(tx, j->id);
}

static void delete_finish(struct api_request *rq, struct api_response *rs, int rc, void *arg)
{
	(void)rq;
	(void)arg;
	if (rc == RC_NOTFOUND)
		not_found(rs);
	else if (rc)
		api_problem_rc(rs, rc, NULL);
	else
		rs->status = 204;
}

int api_webhooks_delete(struct api_request *rq, struct api_response *rs)
{
	struct wh_job *j;

	j = job_for_id(rq, rs);
	return j ? defer(rq, rs, delete_job, j, delete_finish) : API_DONE;
}

static int attempt_row(void *ctx, const struct store_delivery_attempt *a)
{
	json_t *o = json_pack("{s:i, s:s?, s:o, s:s?, s:o}", "attempt", a->attempt, "at", a->at,
			      "status_code", a->status_code ? json_integer(a->status_code) : json_null(),
			      "error", a->error, "duration_ms",
			      a->duration_ms >= 0 ? json_integer(a->duration_ms) : json_null());

	return json_array_append_new(ctx, o) ? RC_NOMEM : RC_OK;
}

/* A delivery with its attempt log ("attempt_log": every attempt, oldest first), the shape of
 * every answer that shows a delivery. New reference; NULL on failure. */
static json_t *delivery_with_log(struct store *s, const struct store_delivery *d)
{
	json_t *o = delivery_json(d), *log = json_array();

	if (!o || !log || store_delivery_attempts(s, d->id, attempt_row, log)) {
		json_decref(o);
		json_decref(log);
		return NULL;
	}
	json_object_set_new(o, "attempt_log", log);
	return o;
}

static int delivery_row(void *ctx, const struct store_delivery *d)
{
	json_t *o = delivery_with_log(((void **)ctx)[1], d);

	if (!o)
		return RC_NOMEM;
	return json_array_append_new(((void **)ctx)[0], o) ? RC_NOMEM : RC_OK;
}

/* A delivery just queued, as the delivery log shows it: no attempt yet, so its attempt_log
 * is empty (built without a read, so that it can be stored with a keyed write). */
static json_t *new_delivery_json(const struct store_delivery *d)
{
	json_t *o = delivery_json(d);

	if (o && json_object_set_new(o, "attempt_log", json_array())) {
		json_decref(o);
		o = NULL;
	}
	return o;
}

/* Ping and redeliver on a paused subscription: nothing can be sent now. */
static void disabled(struct api_response *rs)
{
	api_problem(rs, 409, "webhook-disabled", "Webhook disabled",
		    "the subscription is disabled (paused); set its status to active first");
}

int api_webhooks_deliveries(struct api_request *rq, struct api_response *rs)
{
	struct store *s = api_store(rq->api);
	struct store_webhook w;
	json_t *items = NULL;
	int limit, offset, total = 0, rc;

	if (api_require_token(rq, rs) || api_page(rq, rs, &limit, &offset))
		return API_DONE;
	rc = store_webhook_get(s, rq->params[0], &w);
	store_webhook_release(&w);
	if (rc == RC_NOTFOUND) {
		not_found(rs);
		return API_DONE;
	}
	items = rc ? NULL : json_array();
	if (!rc && !items)
		rc = RC_NOMEM;
	{
		void *ctx[2] = { items, s };

		if (!rc)
			rc = store_deliveries_list(s, rq->params[0], limit, offset, delivery_row, ctx, &total);
	}
	if (rc) {
		json_decref(items);
		api_problem_rc(rs, rc, NULL);
		return API_DONE;
	}
	api_json(rs, 200, api_list(rq, rs, items, total, limit, offset));
	return API_DONE;
}

/* Answers are built from what the job read in its transaction (finish may run inside it: a
 * write with an Idempotency-Key stores its answer with it). */
static int redeliver_job(struct store_tx *tx, void *arg)
{
	struct wh_job *j = arg;
	int rc;

	rc = store_tx_delivery_redeliver(tx, j->id, j->delivery_id, &j->delivery_id);
	if (!rc)
		rc = store_tx_delivery_get(tx, j->id, j->delivery_id, &j->delivery);
	return rc;
}

static void redeliver_finish(struct api_request *rq, struct api_response *rs, int rc, void *arg)
{
	struct wh_job *j = arg;

	(void)rq;
	if (rc == RC_NOTFOUND)
		api_problem_rc(rs, rc, "no such delivery of this webhook");
	else if (rc == RC_CONFLICT)
		disabled(rs);
	else if (rc)
		api_problem_rc(rs, rc, NULL);
	else
		api_json(rs, 202, new_delivery_json(&j->delivery));
}

int api_webhooks_redeliver(struct api_request *rq, struct api_response *rs)
{
	struct wh_job *j;
	const char *p = rq->params[1];
	int64_t id;

	j = job_for_id(rq, rs);
	if (!j)
		return API_DONE;
	if (num_parse(p, 1, INT64_MAX, &id)) {
		api_problem_rc(rs, RC_NOTFOUND, "no such delivery of this webhook");
		goto out;
	}
	j->delivery_id = id;
	return defer(rq, rs, redeliver_job, j, redeliver_finish);
out:
	wh_job_free(j);
	return API_DONE;
}

static int ping_job(struct store_tx *tx, void *arg)
{
	struct wh_job *j = arg;
	json_t *body = NULL;
	char *payload = NULL;
	int rc, n = 0;

	rc = store_tx_webhook_get(tx, j->id, &j->result);
	if (rc)
		goto out;
	if (strcmp(j->result.status, "active")) {
		rc = RC_CONFLICT;
		goto out;
	}
	rc = events_new_id(j->event_id, sizeof(j->event_id));
	if (rc)
		goto out;
	body = json_pack("{s:s, s:s, s:s, s:{s:s}}", "id", j->event_id, "type", "ping",
			 "created_at", store_tx_now(tx), "data", "webhook_id", j->id);
	payload = events_dumps(body);
	if (!payload) {
		rc = RC_NOMEM;
		goto out;
	}
	rc = store_tx_event_add(tx, j->event_id, "ping", NULL, payload, j->id, &n);
	if (!rc && n != 1)
		rc = RC_NOTFOUND;
	if (!rc)
		rc = store_tx_event_delivery(tx, j->id, j->event_id, &j->delivery_id);
out:
	json_decref(body);
	free(payload);
	return rc;
}

static void ping_finish(struct api_request *rq, struct api_response *rs, int rc, void *arg)
{
	struct wh_job *j = arg;

	(void)rq;
	if (rc == RC_NOTFOUND) {
		not_found(rs);
		return;
	}
	if (rc == RC_CONFLICT) {
		disabled(rs);
		return;
	}
	if (rc) {
		api_problem_rc(rs, rc, NULL);
		return;
	}
	api_json(rs, 202, json_pack("{s:s, s:I}", "event_id", j->event_id, "delivery_id",
				    (json_int_t)j->delivery_id));
}

int api_webhooks_ping(struct api_request *rq, struct api_response *rs)
{
	struct wh_job *j;

	j = job_for_id(rq, rs);
	return j ? defer(rq, rs, ping_job, j, ping_finish) : API_DONE;
}
