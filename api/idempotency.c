/*
 * idempotency.c: Idempotency-Key on writes (API.md "Idempotent retries"), as Stripe does it.
 *
 * A write that needs a token may carry `Idempotency-Key` (1 to 255 visible ASCII characters).
 * The first request with a key runs as usual, and its answer (status, headers, body) is stored
 * in the very transaction of its write, keyed by (token, key), with a fingerprint of its
 * method, path and body. For 24 hours a request with the same token and key then gets:
 *   - the stored answer again, header `Idempotent-Replayed: true`, writing nothing, when its
 *     method, path and body are the same;
 *   - 422 naming Idempotency-Key when they differ;
 *   - 409 while the first is still in flight.
 * Only a request that began executing is kept: one refused before its job ran (401, a 422 of
 * its body, a 404) or whose job refused it (422, 404, 409, 412) stores nothing, so that it can
 * be sent again, corrected, with the same key. Answers of 2xx are the ones kept.
 *
 * In flight: a small registry of (token, key) pairs whose request is between its first look
 * and its end. The stored row is the truth, and the job looks for it again inside its own
 * transaction (all writes run one after the other on the writer thread), so two requests with
 * one key can never both write, whatever their timing.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/api_int.h"
#include "api/reply.h"
#include "api/request.h"
#include "util/crypto.h"

#define IDEM_KEY_MAX 255
/* Keyed writes in flight at once; past this, 503 (each one is an open connection anyway). */
#define IDEM_MAX_IN_FLIGHT 4096

struct idem_flight {
	char *token, *key;
	struct idem_flight *next;
};

struct api_idem_registry {
	pthread_mutex_t mu;
	struct idem_flight *head;
	int n;
};

enum idem_outcome { IDEM_PASS = 0, IDEM_FRESH, IDEM_REPLAY, IDEM_MISMATCH };

/* One keyed request's state (rq->idem). */
struct api_idem {
	struct api *api;
	struct api_request *rq;
	char *token, *key;
	unsigned char fp[CRYPTO_SHA256_LEN];
	int registered;
	struct api_deferred inner;  /* the handler's job, once wrapped */
	int wrapped;
	enum idem_outcome outcome;
	struct api_response saved;  /* the answer built in the job, or the one replayed there */
	int saved_init;
};

struct api_idem_registry *api_idem_registry_new(void)
{
	struct api_idem_registry *r = calloc(1, sizeof(*r));

	if (r)
		pthread_mutex_init(&r->mu, NULL);
	return r;
}

void api_idem_registry_free(struct api_idem_registry *r)
{
	struct idem_flight *f, *next;

	if (!r)
		return;
	for (f = r->head; f; f = next) {
		next = f->next;
		free(f->token);
		free(f->key);
		free(f);
	}
	pthread_mutex_destroy(&r->mu);
	free(r);
}

/* Registers (token, key) as in flight: RC_OK, RC_CONFLICT when it is, RC_BUSY when full. */
static int flight_add(struct api_idem_registry *r, const char *token, const char *key)
{
	struct idem_flight *f;
	int rc = RC_OK;

	pthread_mutex_lock(&r->mu);
	for (f = r->head; f; f = f->next)
		if (!strcmp(f->key, key) && !strcmp(f->token, token))
			break;
	if (f) {
		rc = RC_CONFLICT;
	} else if (r->n >= IDEM_MAX_IN_FLIGHT) {
		rc = RC_BUSY;
	} else if (!(f = calloc(1, sizeof(*f))) || !(f->token = strdup(token)) ||
		   !(f->key = strdup(key))) {
		if (f)
			free(f->token);
		free(f);
		rc = RC_NOMEM;
	} else {
		f->next = r->head;
		r->head = f;
		r->n++;
	}
	pthread_mutex_unlock(&r->mu);
	return rc;
}

static void flight_remove(struct api_idem_registry *r, const char *token, const char *key)
{
	struct idem_flight **p, *f;

	pthread_mutex_lock(&r->mu);
	for (p = &r->head; (f = *p); p = &f->next) {
		if (!strcmp(f->key, key) && !strcmp(f->token, token)) {
			*p = f->next;
			r->n--;
			free(f->token);
			free(f->key);
			free(f);
			break;
		}
	}
	pthread_mutex_unlock(&r->mu);
}

/* 1 when key is 1 to 255 visible ASCII characters. */
static int key_ok(const char *key)
{
	size_t n = strlen(key), i;

	if (n < 1 || n > IDEM_KEY_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)key[i] < 0x21 || (unsigned char)key[i] > 0x7e)
			return 0;
	return 1;
}

/* SHA-256 of the method, the path with its query, and the body, NUL-separated. */
static int fingerprint(const struct api_request *rq, unsigned char out[CRYPTO_SHA256_LEN])
{
	struct buf b = BUF_INIT(API_MAX_BODY + 8192);
	const char *qs = rq->query_string ? rq->query_string : "";
	int rc;

	buf_put(&b, rq->method, strlen(rq->method) + 1);
	buf_put(&b, rq->path, strlen(rq->path));
	buf_put(&b, qs, strlen(qs) + 1);
	if (rq->body && rq->body_len)
		buf_put(&b, rq->body, rq->body_len);
	/* A digest of part of the request would let another request pass for it. */
	rc = buf_err(&b);
	if (!rc)
		crypto_sha256(b.data ? b.data : "", b.len, out);
	buf_release(&b);
	return rc;
}

static void key_problem(struct api_response *rs, const char *message)
{
	struct scoring_errors errs;

	scoring_errors_init(&errs);
	scoring_errors_add(&errs, "Idempotency-Key", "%s", message);
	api_problem_errors(rs, &errs);
}

static const char MSG_REUSED[] = "was used within 24 hours for another request (another "
				 "method, path or body); send this request with a new key";

/* The content types an answer can have, so that a stored one is given back as the static
 * string a response holds. */
static const char *known_type(const char *t)
{
	static const char *const types[] = { "application/json", "application/problem+json",
					     "application/x-ndjson", "text/csv; charset=utf-8" };
	size_t i;

	for (i = 0; t && i < sizeof(types) / sizeof(types[0]); i++)
		if (!strcmp(t, types[i]))
			return types[i];
	return t ? "application/json" : NULL;
}

/* Fills rs with a stored answer. */
static void answer_from_stored(struct api_response *rs, const struct store_idem *k)
{
	json_t *headers = json_loads(k->headers_json, 0, NULL), *h;
	size_t i;

	buf_reset(&rs->body);
	rs->status = k->status;
	rs->content_type = known_type(k->content_type);
	if (k->body_len && buf_add(&rs->body, k->body, k->body_len)) {
		json_decref(headers);
		api_problem_rc(rs, RC_NOMEM, "the stored answer could not be replayed");
		return;
	}
	json_array_foreach(headers, i, h) {
		const char *name = json_string_value(json_array_get(h, 0));
		const char *value = json_string_value(json_array_get(h, 1));

		if (name && value)
			api_header(rs, name, value);
	}
	json_decref(headers);
}

static void mark_replayed(struct api_response *rs)
{
	api_header(rs, "Idempotent-Replayed", "true");
	api_header(rs, "Cache-Control", "no-store");
}

int api_idem_begin(struct api_request *rq, struct api_response *rs, const char *key)
{
	struct api_idem *id;
	struct store_idem k;
	int rc;

	if (api_require_token(rq, rs))
		return 1;
	if (!key_ok(key)) {
		key_problem(rs, "must be 1 to 255 visible ASCII characters");
		return 1;
	}
	id = calloc(1, sizeof(*id));
	if (!id || !(id->token = strdup(rq->actor)) || !(id->key = strdup(key))) {
		rq->idem = id;
		api_idem_end(rq);
		api_problem_rc(rs, RC_NOMEM, NULL);
		return 1;
	}
	id->api = rq->api;
	id->rq = rq;
	rq->idem = id;
	if (fingerprint(rq, id->fp)) {
		api_idem_end(rq);
		api_problem_rc(rs, RC_NOMEM, NULL);
		return 1;
	}
	rc = flight_add(rq->api->idem, id->token, id->key);
	if (rc == RC_CONFLICT) {
		api_problem_field(rs, 409, "conflict", "Request in progress",
				  "a request with this Idempotency-Key is still being processed; "
				  "retry after it is answered", "Idempotency-Key", "is in use");
		api_header(rs, "Retry-After", "1");
		return 1;
	}
	if (rc) {
		api_problem_rc(rs, rc, NULL);
		return 1;
	}
	id->registered = 1;
	rc = store_idem_get(api_store(rq->api), id->token, id->key, (int64_t)time(NULL), &k);
	if (rc == RC_NOTFOUND)
		return 0;
	if (rc) {
		api_problem_rc(rs, rc, NULL);
		return 1;
	}
	if (crypto_equal(k.fingerprint, id->fp, sizeof(id->fp))) {
		answer_from_stored(rs, &k);
		mark_replayed(rs);
	} else {
		key_problem(rs, MSG_REUSED);
	}
	store_idem_release(&k);
	return 1;
}

/* The answer as stored: its headers as [[name, value], ...]. */
static int store_answer(struct store_tx *tx, struct api_idem *id)
{
	struct store_idem k;
	json_t *headers = json_array();
	int i, rc;

	for (i = 0; headers && i < id->saved.n_headers; i++)
		json_array_append_new(headers, json_pack("[s, s]", id->saved.headers[i].name,
							 id->saved.headers[i].value));
	memset(&k, 0, sizeof(k));
	memcpy(k.fingerprint, id->fp, sizeof(k.fingerprint));
	k.status = id->saved.status;
	k.content_type = (char *)id->saved.content_type;
	k.headers_json = headers ? json_dumps(headers, JSON_COMPACT) : NULL;
	k.body = id->saved.body.data;
	k.body_len = id->saved.body.len;
	rc = k.headers_json ? store_tx_idem_put(tx, id->token, id->key, &k) : RC_NOMEM;
	free(k.headers_json);
	json_decref(headers);
	return rc;
}

/* The wrapped job: the key's answer may have been stored since the first look (the look of
 * api_idem_begin read the last commit); otherwise the write, then its answer, stored with it. */
static int idem_job(struct store_tx *tx, void *arg)
{
	struct api_idem *id = arg;
	struct store_idem k;
	int rc;

	rc = store_tx_idem_get(tx, id->token, id->key, &k);
	if (rc == RC_OK) {
		id->outcome = crypto_equal(k.fingerprint, id->fp, sizeof(id->fp)) ? IDEM_REPLAY
										   : IDEM_MISMATCH;
		api_response_init(&id->saved);
		id->saved_init = 1;
		if (id->outcome == IDEM_REPLAY)
			answer_from_stored(&id->saved, &k);
		store_idem_release(&k);
		return RC_UNCHANGED;
	}
	if (rc != RC_NOTFOUND)
		return rc;
	rc = store_tx_run(tx, id->inner.job, id->inner.arg);
	if (rc != RC_OK && rc != RC_UNCHANGED)
		return rc;
	api_response_init(&id->saved);
	id->saved_init = 1;
	id->inner.finish(id->rq, &id->saved, rc, id->inner.arg);
	if (id->saved.status < 200 || id->saved.status > 299)
		return rc;
	rc = store_answer(tx, id);
	if (rc)
		return rc;
	id->outcome = IDEM_FRESH;
	return RC_OK;
}

/* Moves the answer built in the job into rs. */
static void answer_from_saved(struct api_response *rs, struct api_idem *id)
{
	int i;

	buf_release(&rs->body);
	rs->body = id->saved.body;
	buf_init(&id->saved.body, API_MAX_RESPONSE);
	rs->status = id->saved.status;
	rs->content_type = id->saved.content_type;
	for (i = 0; i < id->saved.n_headers; i++)
		api_header(rs, id->saved.headers[i].name, id->saved.headers[i].value);
}

static void idem_finish(struct api_request *rq, struct api_response *rs, int rc, void *arg)
{
	struct api_idem *id = arg;

	if (rc == RC_OK && id->outcome == IDEM_FRESH) {
		answer_from_saved(rs, id);
	} else if (rc == RC_UNCHANGED && id->outcome == IDEM_REPLAY) {
		answer_from_saved(rs, id);
		mark_replayed(rs);
	} else if (rc == RC_UNCHANGED && id->outcome == IDEM_MISMATCH) {
		key_problem(rs, MSG_REUSED);
	} else {
		/* Refused, or the commit failed: the handler's own answer to that. */
		id->inner.finish(rq, rs, rc, id->inner.arg);
	}
}

void api_idem_wrap(struct api_request *rq)
{
	struct api_idem *id = rq->idem;
	struct api_deferred *d = rq->deferred;

	if (!id || !d || id->wrapped)
		return;
	id->inner = *d;
	id->wrapped = 1;
	d->job = idem_job;
	d->arg = id;
	d->finish = idem_finish;
	d->cleanup = NULL; /* api_idem_end frees the inner argument */
}

void api_idem_end(struct api_request *rq)
{
	struct api_idem *id = rq->idem;

	if (!id)
		return;
	rq->idem = NULL;
	if (id->registered)
		flight_remove(id->api->idem, id->token, id->key);
	if (id->wrapped && id->inner.cleanup)
		id->inner.cleanup(id->inner.arg);
	if (id->saved_init)
		api_response_release(&id->saved);
	free(id->token);
	free(id->key);
	free(id);
}
