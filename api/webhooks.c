/*
 * webhooks.c: the /webhooks endpoints of API.md (subscriptions, the delivery log, redeliver,
 * ping) and the events a revision queues. Every endpoint, reads included, needs a token:
 * subscriber URLs are private. Writes run as store jobs through api_defer().
 *
 * A subscription's URL is checked here for its form only (an absolute http or https URL with
 * a host). Whether its address may be reached is decided by the dispatcher when it connects,
 * because only then is the resolved address known; a subscription to a private address is
 * therefore accepted and its deliveries fail with "address not allowed" in the delivery log.
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

#include "api/webhooks.h"
#include "util/crypto.h"
#include "util/url.h"

#define WH_URL_MAX 2048
#define WH_DESCRIPTION_MAX 1000
#define WH_ROLES_MAX 200
#define WH_JSON_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(15))

static const char *const event_types[] = { "score.changed", "zone.changed", "assessment.revised" };
#define N_EVENT_TYPES (sizeof(event_types) / sizeof(event_types[0]))

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

/*
 * An event id: "evt_", the creation time in milliseconds as 12 hex digits, then 12 random
 * bytes in base64url. Ids that grow with time are appended at the end of the events table's
 * index instead of landing on a random page of it, which cost a page write per event.
 */
static int event_id(char *out, size_t outlen)
{
	unsigned char raw[12];
	char b64[24];
	struct timespec ts;
	uint64_t ms;

	if (crypto_random(raw, sizeof(raw)) || clock_gettime(CLOCK_REALTIME, &ts))
		return RC_IO;
	ms = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
	crypto_base64url(raw, sizeof(raw), b64);
	if ((size_t)snprintf(out, outlen, "evt_%012llx%s", (unsigned long long)(ms & 0xffffffffffffull),
			     b64) >= outlen)
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

/* Serialises v (not stolen) once, the way every event body is sent. malloc'd. */
static char *dump(json_t *v)
{
	return v ? json_dumps(v, WH_JSON_FLAGS) : NULL;
}

/* ---------------------------------------------------------------------------------------
 * Reading a subscription body
 */

/* What a POST or PATCH body sets; NULL members are absent. JSON texts are malloc'd. */
struct wh_fields {
	char *url;
	char *events_json;
	char *roles_json;    /* "null" when the body says null (every role) */
	char *description;   /* "" when the body says null */
	char *status;
};

static void wh_fields_release(struct wh_fields *f)
{
	free(f->url);
	free(f->events_json);
	free(f->roles_json);
	free(f->description);
	free(f->status);
	memset(f, 0, sizeof(*f));
}

static void read_url(json_t *v, struct wh_fields *f, struct scoring_errors *errs)
{
	const char *s = json_string_value(v);

	if (!json_is_string(v)) {
		scoring_errors_add(errs, "url", "must be a string");
		return;
	}
	if (strlen(s) > WH_URL_MAX || strpbrk(s, " \t\r\n") || !url_http_ok(s)) {
		scoring_errors_add(errs, "url", "must be an absolute http or https URL with a host, "
				   "at most %d characters", WH_URL_MAX);
		return;
	}
	f->url = strdup(s);
}

static void read_events(json_t *v, struct wh_fields *f, struct scoring_errors *errs)
{
	char field[32];
	size_t i, k;
	json_t *e;
	int bad = 0;

	if (!json_is_array(v) || json_array_size(v) == 0) {
		scoring_errors_add(errs, "events", "must be a non-empty array of event types "
				   "(score.changed, zone.changed, assessment.revised)");
		return;
	}
	json_array_foreach(v, i, e) {
		const char *s = json_string_value(e);

		for (k = 0; s && k < N_EVENT_TYPES; k++)
			if (!strcmp(s, event_types[k]))
				break;
		if (!s || k == N_EVENT_TYPES) {
			snprintf(field, sizeof(field), "events[%zu]", i);
			scoring_errors_add(errs, field, "must be one of score.changed, zone.changed, "
					   "assessment.revised");
			bad = 1;
		}
	}
	if (!bad)
		f->events_json = dump(v);
}

static void read_roles(struct store *s, json_t *v, struct wh_fields *f, struct scoring_errors *errs)
{
	char field[32];
	size_t i;
	json_t *e;
	int bad = 0;

	if (json_is_null(v)) {
		f->roles_json = strdup("null");
		return;
	}
	if (!json_is_array(v) || json_array_size(v) == 0 || json_array_size(v) > WH_ROLES_MAX) {
		scoring_errors_add(errs, "roles", "must be null (every role) or an array of 1 to %d "
				   "role slugs", WH_ROLES_MAX);
		return;
	}
	json_array_foreach(v, i, e) {
		struct store_role r;
		const char *slug = json_string_value(e);
		int rc;

		snprintf(field, sizeof(field), "roles[%zu]", i);
		if (!slug) {
			scoring_errors_add(errs, field, "must be a role slug");
			bad = 1;
			continue;
		}
		memset(&r, 0, sizeof(r));
		rc = store_role_get(s, slug, &r);
		if (rc || r.archived) {
			scoring_errors_add(errs, field, "no role \"%.100s\"", slug);
			bad = 1;
		}
		store_role_release(&r);
	}
	if (!bad)
		f->roles_json = dump(v);
}

/*
 * Reads a POST (patch = 0) or PATCH (patch = 1) body into f. Returns 0, or RC_INVALID with
 * every broken field in errs.
 */
static int read_body(struct store *s, json_t *body, int patch, struct wh_fields *f,
		     struct scoring_errors *errs)
{
	const char *key;
	json_t *v;

	memset(f, 0, sizeof(*f));
	json_object_foreach(body, key, v) {
		if (!strcmp(key, "url"))
			read_url(v, f, errs);
		else if (!strcmp(key, "events"))
			read_events(v, f, errs);
		else if (!strcmp(key, "roles"))
			read_roles(s, v, f, errs);
		else if (!strcmp(key, "description")) {
			if (json_is_null(v))
				f->description = strdup("");
			else if (!json_is_string(v) || json_string_length(v) > WH_DESCRIPTION_MAX)
				scoring_errors_add(errs, "description", "must be a string of at most "
						   "%d characters, or null", WH_DESCRIPTION_MAX);
			else
				f->description = strdup(json_string_value(v));
		} else if (patch && !strcmp(key, "status")) {
			const char *st = json_string_value(v);

			if (!st || (strcmp(st, "active") && strcmp(st, "disabled")))
				scoring_errors_add(errs, "status", "must be \"active\" or \"disabled\"");
			else
				f->status = strdup(st);
		} else {
			scoring_errors_add(errs, key, "unknown field");
		}
	}
	if (!patch && !json_object_get(body, "url"))
		scoring_errors_add(errs, "url", "is required");
	/* Absent events mean every event, as absent roles mean every role. */
	if (!patch && !json_object_get(body, "events") && !errs->n)
		f->events_json = strdup("[\"assessment.revised\",\"score.changed\",\"zone.changed\"]");
	if (errs->n) {
		wh_fields_release(f);
		return RC_INVALID;
	}
	return RC_OK;
}

/* ---------------------------------------------------------------------------------------
 * Handlers
 */

/* The state of a deferred write: what the job reads and what it leaves for finish(). */
struct wh_job {
	char id[64];
	struct wh_fields f;
	char secret[64];
	struct store_webhook result; /* the subscription as written */
	int64_t delivery_id;
	char event_id[64];
};

static void wh_job_free(void *arg)
{
	struct wh_job *j = arg;

	if (!j)
		return;
	wh_fields_release(&j->f);
	store_webhook_release(&j->result);
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
	buf_addf(&loc, "/webhooks/%s", j->id);
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
	if (read_body(api_store(rq->api), body, 0, &j->f, &errs)) {
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
	if (read_body(api_store(rq->api), body, 1, &j->f, &errs)) {
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

/* A delivery with its attempt log ("attempt_log": every attempt, oldest first). */
static int delivery_row(void *ctx, const struct store_delivery *d)
{
	struct store *s = ((void **)ctx)[1];
	json_t *o = delivery_json(d), *log = json_array();

	if (!o || !log) {
		json_decref(o);
		json_decref(log);
		return RC_NOMEM;
	}
	store_delivery_attempts(s, d->id, attempt_row, log);
	json_object_set_new(o, "attempt_log", log);
	return json_array_append_new(((void **)ctx)[0], o) ? RC_NOMEM : RC_OK;
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

static int redeliver_job(struct store_tx *tx, void *arg)
{
	struct wh_job *j = arg;

	return store_tx_delivery_redeliver(tx, j->id, j->delivery_id, &j->delivery_id);
}

static void redeliver_finish(struct api_request *rq, struct api_response *rs, int rc, void *arg)
{
	struct wh_job *j = arg;
	struct store_delivery d;

	if (rc == RC_NOTFOUND) {
		api_problem_rc(rs, rc, "no such delivery of this webhook");
		return;
	}
	if (rc) {
		api_problem_rc(rs, rc, NULL);
		return;
	}
	rc = store_delivery_get(api_store(rq->api), j->id, j->delivery_id, &d);
	if (rc)
		api_problem_rc(rs, rc, NULL);
	else
		api_json(rs, 202, delivery_json(&d));
	store_delivery_release(&d);
}

int api_webhooks_redeliver(struct api_request *rq, struct api_response *rs)
{
	struct wh_job *j;
	const char *p = rq->params[1];
	char *end = NULL;
	long long id;

	j = job_for_id(rq, rs);
	if (!j)
		return API_DONE;
	errno = 0;
	id = p ? strtoll(p, &end, 10) : 0;
	if (!p || !*p || *end || errno || id <= 0) {
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
	rc = event_id(j->event_id, sizeof(j->event_id));
	if (rc)
		goto out;
	body = json_pack("{s:s, s:s, s:s, s:{s:s}}", "id", j->event_id, "type", "ping",
			 "created_at", store_tx_now(tx), "data", "webhook_id", j->id);
	payload = dump(body);
	if (!payload) {
		rc = RC_NOMEM;
		goto out;
	}
	rc = store_tx_event_add(tx, j->event_id, "ping", NULL, payload, j->id, &n);
	if (!rc && n != 1)
		rc = RC_NOTFOUND;
out:
	json_decref(body);
	free(payload);
	return rc;
}

/* Finds the delivery of the ping event among the newest of the webhook. */
static int ping_row(void *ctx, const struct store_delivery *d)
{
	struct wh_job *j = ctx;

	if (!strcmp(d->event_id, j->event_id)) {
		j->delivery_id = d->id;
		return 1;
	}
	return 0;
}

static void ping_finish(struct api_request *rq, struct api_response *rs, int rc, void *arg)
{
	struct wh_job *j = arg;
	int total;

	if (rc == RC_NOTFOUND) {
		not_found(rs);
		return;
	}
	if (rc == RC_CONFLICT) {
		api_problem(rs, 409, "webhook-disabled", "Webhook disabled",
			    "set its status to active before pinging it");
		return;
	}
	if (rc) {
		api_problem_rc(rs, rc, NULL);
		return;
	}
	j->delivery_id = 0;
	store_deliveries_list(api_store(rq->api), j->id, 50, 0, ping_row, j, &total);
	api_json(rs, 202, json_pack("{s:s, s:o}", "event_id", j->event_id, "delivery_id",
				    j->delivery_id ? json_integer(j->delivery_id) : json_null()));
}

int api_webhooks_ping(struct api_request *rq, struct api_response *rs)
{
	struct wh_job *j;

	j = job_for_id(rq, rs);
	return j ? defer(rq, rs, ping_job, j, ping_finish) : API_DONE;
}

/* ---------------------------------------------------------------------------------------
 * Events of a revision
 */

static json_t *state_json(const struct api_event_state *st)
{
	if (!st)
		return json_null();
	return json_pack("{s:f, s:s, s:s, s:i}", "score", st->score, "zone", st->zone ? st->zone : "",
			 "label", st->label ? st->label : "", "revision", st->revision);
}

/* Queues one event of type with the body of API.md. */
static int queue_one(struct store_tx *tx, const char *type, const char *slug, const char *title,
		     const struct api_event_state *prev, const struct api_event_state *cur,
		     const char *reason)
{
	char id[64];
	json_t *body = NULL;
	char *payload = NULL;
	int rc;

	if (!store_tx_event_wanted(tx, type, slug))
		return RC_OK;
	rc = event_id(id, sizeof(id));
	if (rc)
		goto out;
	body = json_pack("{s:s, s:s, s:s, s:{s:{s:s, s:s}, s:o, s:o, s:o}}", "id", id, "type", type,
			 "created_at", store_tx_now(tx), "data", "role", "slug", slug, "title",
			 title ? title : "", "previous", state_json(prev), "current",
			 state_json(cur), "reason", string_or_null(reason));
	payload = dump(body);
	if (!payload) {
		rc = RC_NOMEM;
		goto out;
	}
	rc = store_tx_event_add(tx, id, type, slug, payload, NULL, NULL);
out:
	json_decref(body);
	free(payload);
	return rc;
}

int api_webhooks_queue_revision(struct store_tx *tx, const char *slug, const char *title,
				const struct api_event_state *prev,
				const struct api_event_state *cur, const char *reason)
{
	int rc;

	rc = queue_one(tx, "assessment.revised", slug, title, prev, cur, reason);
	if (rc || !prev)
		return rc;
	/* Published scores have one decimal: a difference below half of that is none. */
	if (fabs(prev->score - cur->score) > 0.04) {
		rc = queue_one(tx, "score.changed", slug, title, prev, cur, reason);
		if (rc)
			return rc;
	}
	if (strcmp(prev->zone ? prev->zone : "", cur->zone ? cur->zone : ""))
		rc = queue_one(tx, "zone.changed", slug, title, prev, cur, reason);
	return rc;
}
