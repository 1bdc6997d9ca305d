/*
 * fuzz_query.c: libFuzzer target for the HTTP-independent API (api_handle): routing, path
 * parameters, query arguments, headers (ETags, Authorization, Content-Type) and the bodies of
 * POST /score, against a real store in a temporary directory. Built by tests/fuzz/build.sh.
 *
 * The input is split on its first four newlines:
 *
 *   METHOD \n PATH \n QUERY \n HEADERS \n BODY...
 *
 * QUERY is a raw query string ("q=edge&limit=5"), decoded here the way libmicrohttpd does
 * ('+' is a space, %XX a byte). HEADERS are "Name: value" entries separated by tabs. What is
 * missing is empty. Every string handed to the API is NUL-terminated, as the server's are.
 *
 * The store holds the default role, a second role, an API token and one webhook subscription
 * with a delivery, so that reads that need them have something to find. Writes stay out
 * (no writer-side state piles up between inputs): any method string is passed through, but
 * Authorization is only honoured for GET and HEAD (where it opens the webhook reads), so
 * every write route stops at 401 and only reads and POST /score (no token) run in full. A
 * handler that still deferred would have its job run synchronously, as the server's writer
 * thread would, and the finish step checked.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <jansson.h>

#include "api/api.h"
#include "revise/revise.h"
#include "store/store.h"
#include "util/crypto.h"
#include "util/embed.h"
#include "util/rc.h"
#include "util/url.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_TOKEN "fuzz-token-0123456789"
#define MAX_PAIRS 32

static char tmpdir[256];
static struct store *store;
static struct api *api;

static void die(const char *what, int rc)
{
	fprintf(stderr, "fuzz_query: %s: %s\n", what, rc_str(rc));
	abort();
}

static void cleanup(void)
{
	char p[300];

	api_free(api);
	api = NULL;
	store_free(store);
	store = NULL;
	if (!tmpdir[0])
		return;
	snprintf(p, sizeof(p), "%s/fuzz.db", tmpdir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/fuzz.db-wal", tmpdir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/fuzz.db-shm", tmpdir);
	unlink(p);
	rmdir(tmpdir);
}

static int fixtures_job(struct store_tx *tx, void *arg)
{
	unsigned char hash[CRYPTO_SHA256_LEN];
	struct store_webhook w;
	int rc, n = 0;

	(void)arg;
	crypto_sha256(FUZZ_TOKEN, strlen(FUZZ_TOKEN), hash);
	rc = store_tx_token_create(tx, "fuzz", hash);
	if (rc)
		return rc;
	memset(&w, 0, sizeof(w));
	w.id = (char *)"wh_fuzz0000000000000000";
	w.url = (char *)"http://127.0.0.1:9/hook";
	w.events_json = (char *)"[\"score.changed\"]";
	w.secret = (char *)"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
	w.status = (char *)"active";
	rc = store_tx_webhook_create(tx, &w);
	if (rc)
		return rc;
	return store_tx_event_add(tx, "evt_fuzz00000000000000000", "score.changed", "edge-ai-engineer",
				  "{\"type\":\"score.changed\"}", NULL, &n);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const struct embed_file *f = embed_find("data/edge-ai-engineer.json");
	const char *t = getenv("TMPDIR");
	struct api_options o;
	char path[300], err[256];
	json_t *second;
	char *text;
	int rc;

	unsigned char warm[8];

	(void)argc;
	(void)argv;
	/* OpenSSL initialises its globals on first use; do that here on the main thread so that
	 * they stay reachable, not owned by the store's writer thread. */
	if (crypto_random(warm, sizeof(warm)))
		die("crypto_random", RC_IO);
	snprintf(tmpdir, sizeof(tmpdir), "%s/aijri-fuzz-XXXXXX", t && *t ? t : "/tmp");
	if (!mkdtemp(tmpdir))
		die("mkdtemp", RC_IO);
	atexit(cleanup);
	snprintf(path, sizeof(path), "%s/fuzz.db", tmpdir);
	rc = store_open(path, &store, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "fuzz_query: %s\n", err);
		die("store_open", rc);
	}
	memset(&o, 0, sizeof(o));
	o.store = store;
	api = api_new(&o);
	if (!api || !f)
		die("api_new", RC_NOMEM);
	rc = revise_seed(store, f->data);
	if (rc)
		die("revise_seed", rc);
	/* A second role, so lists, search, compare and filters have more than one row. */
	second = json_loads(f->data, 0, NULL);
	if (!second)
		die("default data", RC_INVALID);
	json_object_set_new(second, "slug", json_string("fuzz-analyst"));
	json_object_set_new(second, "title", json_string("Fuzz Analyst"));
	json_object_set_new(second, "aliases", json_pack("[s]", "Fuzz Tester"));
	text = json_dumps(second, 0);
	json_decref(second);
	rc = text ? revise_seed(store, text) : RC_NOMEM;
	free(text);
	if (rc)
		die("revise_seed second", rc);
	rc = store_write(store, fixtures_job, NULL);
	if (rc)
		die("fixtures", rc);
	return 0;
}

/* ---------------------------------------------------------------------------------------
 * The fake request
 */

struct pair {
	char *name, *value;
};

struct fake {
	int method_reads; /* GET or HEAD: Authorization is honoured */
	int n_headers, n_query;
	struct pair headers[MAX_PAIRS], query[MAX_PAIRS];
};

static const char *fake_header(void *ctx, const char *name)
{
	struct fake *f = ctx;
	int i;

	for (i = 0; i < f->n_headers; i++) {
		if (strcasecmp(f->headers[i].name, name))
			continue;
		if (!strcasecmp(name, "Authorization") && f->method_reads)
			return "Bearer " FUZZ_TOKEN;
		return f->headers[i].value;
	}
	return NULL;
}

static const char *fake_query(void *ctx, const char *name)
{
	struct fake *f = ctx;
	int i;

	for (i = 0; i < f->n_query; i++)
		if (!strcmp(f->query[i].name, name))
			return f->query[i].value;
	return NULL;
}

/* Decodes in place like libmicrohttpd's argument parser; a %00 ends the string. */
static void unescape(char *s)
{
	char *o = s;

	for (; *s; s++) {
		if (*s == '+') {
			*o++ = ' ';
		} else if (url_pct_byte(s, 3) >= 0) {
			*o++ = (char)url_pct_byte(s, 3);
			s += 2;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
}

static char *take(const uint8_t **p, const uint8_t *end)
{
	const uint8_t *nl = memchr(*p, '\n', (size_t)(end - *p));
	const uint8_t *e = nl ? nl : end;
	char *s = strndup((const char *)*p, (size_t)(e - *p));

	*p = nl ? nl + 1 : end;
	if (!s)
		abort();
	return s;
}

static void parse_query(struct fake *f, char *q)
{
	char *save = NULL, *tok;

	for (tok = strtok_r(q, "&", &save); tok && f->n_query < MAX_PAIRS;
	     tok = strtok_r(NULL, "&", &save)) {
		char *eq = strchr(tok, '=');
		if (eq)
			*eq++ = '\0';
		unescape(tok);
		if (eq)
			unescape(eq);
		f->query[f->n_query].name = tok;
		f->query[f->n_query].value = eq ? eq : (char *)"";
		f->n_query++;
	}
}

static void parse_headers(struct fake *f, char *h)
{
	char *save = NULL, *tok;

	for (tok = strtok_r(h, "\t", &save); tok && f->n_headers < MAX_PAIRS;
	     tok = strtok_r(NULL, "\t", &save)) {
		char *colon = strchr(tok, ':');
		if (!colon)
			continue;
		*colon++ = '\0';
		while (*colon == ' ')
			colon++;
		f->headers[f->n_headers].name = tok;
		f->headers[f->n_headers].value = colon;
		f->n_headers++;
	}
}

/* What the server checks of every answer before sending it. */
static void check_response(const struct api_request *rq, const struct api_response *rs)
{
	int i;

	if (rs->status < 100 || rs->status > 599)
		abort();
	if (rs->body.len && !rs->content_type && rs->status != 304)
		abort();
	if (rs->body.len != (rs->body.data ? strlen(rs->body.data) : 0) &&
	    rs->content_type && strstr(rs->content_type, "json"))
		abort(); /* JSON text never holds a NUL byte */
	for (i = 0; i < rs->n_headers; i++) {
		const char *v = rs->headers[i].value;
		/* A header value with a line break would split the response (header injection). */
		if (!v || strchr(v, '\r') || strchr(v, '\n'))
			abort();
	}
	if (!rq->route)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data, *end = data + size;
	struct api_request rq;
	struct api_response rs;
	struct fake f;
	char *method, *path, *query, *headers, *body = NULL;
	size_t body_len;
	int r;

	if (size > 64 * 1024)
		return 0;
	method = take(&p, end);
	path = take(&p, end);
	query = take(&p, end);
	headers = take(&p, end);
	body_len = (size_t)(end - p);
	if (body_len) {
		body = malloc(body_len);
		if (!body)
			abort();
		memcpy(body, p, body_len);
	}
	memset(&f, 0, sizeof(f));
	f.method_reads = !strcmp(method, "GET") || !strcmp(method, "HEAD");
	parse_query(&f, query);
	parse_headers(&f, headers);

	memset(&rq, 0, sizeof(rq));
	rq.api = api;
	rq.method = method;
	rq.path = path;
	rq.body = body;
	rq.body_len = body_len;
	rq.header = fake_header;
	rq.query = fake_query;
	rq.ctx = &f;
	api_response_init(&rs);

	r = api_handle(&rq, &rs);
	if (r == API_DEFER) {
		/* Only reachable with a valid token, which writes never get here; run it as the
		 * server would rather than leak it. */
		void *arg = NULL;
		store_job_fn job = api_deferred_job(&rq, &arg);
		int rc = job ? store_write(store, job, arg) : RC_IO;
		api_finish(&rq, rc, &rs);
	} else if (r != API_DONE) {
		abort();
	}
	check_response(&rq, &rs);
	api_metrics_observe(api, method, rq.route, rs.status, 1);

	api_response_release(&rs);
	api_request_release(&rq);
	free(method);
	free(path);
	free(query);
	free(headers);
	free(body);
	return 0;
}
