/*
 * dispatcher.c: the webhook dispatcher thread. It reads due deliveries from the store's
 * outbox, sends them with one libcurl multi handle (at most one in flight per subscription,
 * so each endpoint gets its events in order), signs them as the Standard Webhooks
 * specification says, and records every attempt through a store job.
 *
 * It must never follow a redirect, speak anything but http and https, go through a proxy
 * from the environment, or connect to a loopback, private or link-local address unless the
 * server was started with --allow-private-webhooks: the address is checked when the socket
 * is opened, after name resolution, so a name that resolves to such an address is refused
 * too (DNS rebinding included). Such a delivery fails at once, without retries, so that it
 * does not hold up the deliveries queued behind it for that endpoint.
 *
 * Several instances may serve one database, each with its dispatcher: a delivery is claimed
 * for this instance before it is sent (store_deliveries_claim), for a lease longer than the
 * time an attempt may take, and recording its attempt ends the claim; so each is sent by one
 * instance, and one whose instance died mid-send is sent again by any once the lease passes.
 *
 * It also runs the outbox's clean-up: paused subscriptions' deliveries older than the pause
 * window expire (at start, then every DISPATCHER_CLEANUP_MS).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <curl/curl.h>

#include "server/dispatcher.h"
#include "util/clock.h"
#include "util/crypto.h"
#include "util/netaddr.h"
#include "util/rc.h"

#define DISPATCHER_DEFAULT_SCHEDULE "5,300,1800,7200,18000,36000,36000"
#define DISPATCHER_MAX_RESPONSE 16384 /* bytes of a response body read, then dropped */
#define DISPATCHER_POLL_MS 100        /* while sending: how soon new work is noticed */
#define DISPATCHER_IDLE_MS 1000       /* at most this long between looks at the table */
#define DISPATCHER_CLEANUP_MS 60000   /* between two expiries of paused deliveries */
#define DISPATCHER_CLAIM_MIN_S 60     /* the default lease of a claim, at least */

struct dispatcher;

/* One delivery being sent. A slot is free when h is NULL. */
struct flight {
	struct dispatcher *d;
	CURL *h;
	struct curl_slist *headers;
	int64_t delivery_id;
	char *webhook_id;
	int attempts;           /* attempts made before this one */
	char *body;
	size_t received;        /* response bytes seen */
	int capped;             /* the response passed DISPATCHER_MAX_RESPONSE */
	char refused[96];       /* "address not allowed: ..." when the socket was refused */
	char errbuf[CURL_ERROR_SIZE];
};

struct dispatcher {
	struct store *s;
	pthread_t thread;
	atomic_int stop;
	CURLM *multi;
	int schedule[DISPATCHER_MAX_SCHEDULE];
	int n_schedule;
	int timeout;
	int64_t lease_ms;       /* how long a claim of this instance holds */
	int allow_private;
	int64_t pause_s;        /* the pause window: older paused deliveries expire */
	int concurrency;
	struct flight *flights; /* concurrency slots */
	int inflight;
	atomic_ullong n_succeeded, n_retry, n_failed;
};

/* ---------------------------------------------------------------------------------------
 * Signing and the schedule
 */

int dispatcher_sign(const char *secret, const char *id, long long timestamp, const char *body,
		    size_t body_len, char out[64])
{
	unsigned char *key = NULL;
	unsigned char mac[CRYPTO_SHA256_LEN];
	struct buf msg = BUF_INIT(body_len + 256);
	size_t keylen = 0;
	char b64[48];
	int rc;

	out[0] = '\0';
	if (strncmp(secret, "whsec_", 6)) {
		rc = RC_INVALID;
		goto out;
	}
	secret += 6;
	key = malloc(strlen(secret) / 4 * 3 + 3);
	if (!key) {
		rc = RC_NOMEM;
		goto out;
	}
	rc = crypto_unbase64(secret, key, &keylen);
	if (rc)
		goto out;
	rc = buf_addf(&msg, "%s.%lld.", id, timestamp);
	if (!rc)
		rc = buf_add(&msg, body, body_len);
	if (rc)
		goto out;
	rc = crypto_hmac_sha256(key, keylen, msg.data, msg.len, mac);
	if (rc)
		goto out;
	crypto_base64(mac, sizeof(mac), b64);
	if (snprintf(out, 64, "v1,%s", b64) >= 64)
		rc = RC_TOOLARGE;
out:
	if (key)
		explicit_bzero(key, keylen);
	free(key);
	buf_release(&msg);
	return rc;
}

int dispatcher_parse_schedule(const char *s, int *out, int max)
{
	int n = 0;

	for (;;) {
		long v = 0;
		int digits = 0;

		while (*s == ' ')
			s++;
		while (*s >= '0' && *s <= '9') {
			v = v * 10 + (*s - '0');
			if (v > 30L * 24 * 3600) /* a month: anything longer is a typo */
				return -1;
			digits++;
			s++;
		}
		while (*s == ' ')
			s++;
		if (!digits || n == max)
			return -1;
		out[n++] = (int)v;
		if (*s == '\0')
			return n;
		if (*s != ',')
			return -1;
		s++;
	}
}

/* ---------------------------------------------------------------------------------------
 * Where a delivery may connect
 */

/* 1 when the address may not be connected to; then why is "address not allowed: ADDR". */
static int address_refused(const struct sockaddr *sa, char *why, size_t whylen)
{
	char text[INET6_ADDRSTRLEN];

	if (!netaddr_refused(sa, text, sizeof(text)))
		return 0;
	snprintf(why, whylen, "address not allowed: %s", text);
	return 1;
}

/* CURLOPT_OPENSOCKETFUNCTION: sees every resolved address before curl connects to it. */
static curl_socket_t open_socket(void *clientp, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct flight *f = clientp;

	if (purpose != CURLSOCKTYPE_IPCXN)
		return CURL_SOCKET_BAD;
	if (!f->d->allow_private && address_refused(&a->addr, f->refused, sizeof(f->refused)))
		return CURL_SOCKET_BAD;
	return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

/* The answer's body is not used: count it, and stop reading a long one. */
static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
	struct flight *f = ud;

	(void)p;
	f->received += size * n;
	if (f->received > DISPATCHER_MAX_RESPONSE) {
		f->capped = 1;
		return 0;
	}
	return size * n;
}

/* ---------------------------------------------------------------------------------------
 * Sending
 */

static void flight_release(struct flight *f)
{
	if (f->h) {
		curl_multi_remove_handle(f->d->multi, f->h);
		curl_easy_cleanup(f->h);
	}
	curl_slist_free_all(f->headers);
	free(f->webhook_id);
	free(f->body);
	memset(f, 0, sizeof(*f));
}

static int add_header(struct curl_slist **list, const char *name, const char *value)
{
	struct buf line = BUF_INIT(4096);
	struct curl_slist *l;
	int rc;

	rc = buf_addf(&line, "%s: %s", name, value);
	if (rc)
		goto out;
	l = curl_slist_append(*list, buf_str(&line));
	if (!l) {
		rc = RC_NOMEM;
		goto out;
	}
	*list = l;
out:
	buf_release(&line);
	return rc;
}

/* Starts sending d in slot f. */
static int flight_start(struct dispatcher *dp, struct flight *f, const struct store_delivery *d)
{
	char sig[64], ts[24];
	long long now = (long long)time(NULL);
	size_t body_len = strlen(d->payload_json);
	int rc;

	memset(f, 0, sizeof(*f));
	f->d = dp;
	f->delivery_id = d->id;
	f->attempts = d->attempts;
	f->webhook_id = strdup(d->webhook_id);
	f->body = strdup(d->payload_json);
	if (!f->webhook_id || !f->body) {
		rc = RC_NOMEM;
		goto out;
	}
	rc = dispatcher_sign(d->secret, d->event_id, now, f->body, body_len, sig);
	if (rc)
		goto out;
	snprintf(ts, sizeof(ts), "%lld", now);
	if ((rc = add_header(&f->headers, "Content-Type", "application/json")) ||
	    (rc = add_header(&f->headers, "webhook-id", d->event_id)) ||
	    (rc = add_header(&f->headers, "webhook-timestamp", ts)) ||
	    (rc = add_header(&f->headers, "webhook-signature", sig)))
		goto out;
	/* No "Expect: 100-continue" round trip. */
	f->headers = curl_slist_append(f->headers, "Expect:");
	f->h = curl_easy_init();
	if (!f->headers || !f->h) {
		rc = RC_NOMEM;
		goto out;
	}
	curl_easy_setopt(f->h, CURLOPT_URL, d->url);
	curl_easy_setopt(f->h, CURLOPT_POST, 1L);
	curl_easy_setopt(f->h, CURLOPT_POSTFIELDS, f->body);
	curl_easy_setopt(f->h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
	curl_easy_setopt(f->h, CURLOPT_HTTPHEADER, f->headers);
	curl_easy_setopt(f->h, CURLOPT_USERAGENT, "aijri-webhooks/1");
	curl_easy_setopt(f->h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(f->h, CURLOPT_CONNECTTIMEOUT, 5L);
	curl_easy_setopt(f->h, CURLOPT_TIMEOUT, (long)dp->timeout);
	curl_easy_setopt(f->h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(f->h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(f->h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(f->h, CURLOPT_PROXY, "");
	curl_easy_setopt(f->h, CURLOPT_OPENSOCKETFUNCTION, open_socket);
	curl_easy_setopt(f->h, CURLOPT_OPENSOCKETDATA, f);
	curl_easy_setopt(f->h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(f->h, CURLOPT_WRITEDATA, f);
	curl_easy_setopt(f->h, CURLOPT_ERRORBUFFER, f->errbuf);
	curl_easy_setopt(f->h, CURLOPT_PRIVATE, f);
	if (curl_multi_add_handle(dp->multi, f->h) != CURLM_OK) {
		curl_easy_cleanup(f->h);
		f->h = NULL;
		rc = RC_NOMEM;
		goto out;
	}
	dp->inflight++;
out:
	if (rc)
		flight_release(f);
	return rc;
}

static int webhook_in_flight(struct dispatcher *dp, const char *webhook_id)
{
	int i;

	for (i = 0; i < dp->concurrency; i++)
		if (dp->flights[i].h && !strcmp(dp->flights[i].webhook_id, webhook_id))
			return 1;
	return 0;
}

/* A delivery claimed for this instance: send it. One that cannot be started stays claimed
 * until its lease passes, and is then sent by whichever instance claims it. */
static int start_row(void *ctx, const struct store_delivery *d)
{
	struct dispatcher *dp = ctx;
	int i, rc;

	/* No more is claimed than there are free slots; this is a guard. */
	if (dp->inflight >= dp->concurrency)
		return 0;
	/* Only when a send outlived its lease: this instance claimed the delivery again. The
	 * send in flight ends both claims when its attempt is recorded. */
	if (webhook_in_flight(dp, d->webhook_id))
		return 0;
	for (i = 0; i < dp->concurrency; i++)
		if (!dp->flights[i].h)
			break;
	rc = flight_start(dp, &dp->flights[i], d);
	if (rc)
		fprintf(stderr, "aijri: webhook delivery %lld: cannot start: %s\n",
			(long long)d->id, rc_str(rc));
	return 0;
}

/* Claims what is due, up to the free slots, and starts it. A read first: the claim is a
 * write, and this runs every DISPATCHER_POLL_MS while anything is in flight. */
static void start_due(struct dispatcher *dp)
{
	int64_t when;
	int rc;

	if (dp->inflight >= dp->concurrency)
		return;
	rc = store_deliveries_next_due(dp->s, &when);
	if (!rc && (when < 0 || when > (int64_t)time(NULL)))
		return;
	/* A delivery of this instance in flight is claimed, so none of its subscription is
	 * due: each one claimed can be started. */
	if (!rc)
		rc = store_deliveries_claim(dp->s, clock_now_ms(), dp->lease_ms,
					    dp->concurrency - dp->inflight, start_row, dp, NULL);
	if (rc)
		fprintf(stderr, "aijri: webhook dispatcher: claiming due deliveries: %s\n",
			rc_str(rc));
}

static int record_job(struct store_tx *tx, void *arg)
{
	return store_tx_attempt_record(tx, arg);
}

/* The time, in whole Unix seconds (as next_attempt_at is stored), of a retry delay_s seconds
 * from now: rounded up, so that a retry never comes before its delay has passed (a failure
 * at 12:00:00.95 with a delay of 5 s is retried from 12:00:06, not at 12:00:05). */
static int64_t retry_at(int delay_s)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	return (int64_t)now.tv_sec + (now.tv_nsec > 0) + delay_s;
}

/* A transfer ended with res: decide and record the outcome. */
static void finish(struct dispatcher *dp, struct flight *f, CURLcode res)
{
	struct store_attempt a;
	char error[CURL_ERROR_SIZE + 64];
	long code = 0;
	int rc, refused = 0;

	memset(&a, 0, sizeof(a));
	a.delivery_id = f->delivery_id;
	a.next_attempt = -1;
	error[0] = '\0';
	curl_easy_getinfo(f->h, CURLINFO_RESPONSE_CODE, &code);
	{
		curl_off_t us = 0;

		curl_easy_getinfo(f->h, CURLINFO_TOTAL_TIME_T, &us);
		a.duration_ms = (int)(us / 1000);
	}
	if (res == CURLE_OK || (res == CURLE_WRITE_ERROR && f->capped && code > 0)) {
		a.status_code = (int)code;
		if (code >= 200 && code <= 299)
			a.succeeded = 1;
		else
			snprintf(error, sizeof(error), "HTTP %ld", code);
		if (code == 410)
			a.disable_webhook = 1;
	} else if (f->refused[0]) {
		/* Retrying would meet the same refusal: fail now and let the next one go. */
		snprintf(error, sizeof(error), "%s; not retried", f->refused);
		refused = 1;
	} else {
		snprintf(error, sizeof(error), "%s", f->errbuf[0] ? f->errbuf : curl_easy_strerror(res));
	}
	if (!a.succeeded) {
		a.error = error;
		if (!a.disable_webhook && !refused && f->attempts < dp->n_schedule)
			a.next_attempt = retry_at(dp->schedule[f->attempts]);
	}
	if (a.succeeded)
		atomic_fetch_add(&dp->n_succeeded, 1);
	else if (a.next_attempt >= 0)
		atomic_fetch_add(&dp->n_retry, 1);
	else
		atomic_fetch_add(&dp->n_failed, 1);

	rc = store_write(dp->s, record_job, &a);
	if (rc && rc != RC_NOTFOUND) /* NOTFOUND: deleted with its subscription meanwhile */
		fprintf(stderr, "aijri: webhook delivery %lld: recording the attempt: %s\n",
			(long long)f->delivery_id, rc_str(rc));
	flight_release(f);
	dp->inflight--;
}

static void collect(struct dispatcher *dp)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(dp->multi, &left))) {
		struct flight *f = NULL;

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&f);
		if (f)
			finish(dp, f, m->data.result);
	}
}

/* How long to sleep when nothing is in flight: until the next due time, capped. */
static int idle_ms(struct dispatcher *dp)
{
	int64_t when, now = (int64_t)time(NULL);

	if (store_deliveries_next_due(dp->s, &when) || when < 0)
		return DISPATCHER_IDLE_MS;
	if (when <= now)
		return DISPATCHER_POLL_MS; /* due but not started: do not spin */
	/* Seconds resolution: a second's wait at most, then look again. */
	return DISPATCHER_IDLE_MS;
}

static int expire_job(struct store_tx *tx, void *arg)
{
	int64_t *cutoff = arg;

	return store_tx_deliveries_expire(tx, *cutoff, NULL);
}

/* Paused deliveries older than the pause window expire; at most once a DISPATCHER_CLEANUP_MS. */
static void cleanup(struct dispatcher *dp, int64_t *last_ms)
{
	int64_t now = clock_mono_ms(), cutoff;
	int rc;

	if (*last_ms && now - *last_ms < DISPATCHER_CLEANUP_MS)
		return;
	*last_ms = now ? now : 1;
	cutoff = (int64_t)time(NULL) - dp->pause_s;
	rc = store_write(dp->s, expire_job, &cutoff);
	if (rc)
		fprintf(stderr, "aijri: webhook dispatcher: expiring paused deliveries: %s\n",
			rc_str(rc));
}

static void *dispatcher_main(void *arg)
{
	struct dispatcher *dp = arg;
	int64_t last_cleanup = 0;
	int running;

	/* Named, so that perf and top tell the threads apart. */
	pthread_setname_np(pthread_self(), "aijri-webhooks");

	while (!atomic_load(&dp->stop)) {
		cleanup(dp, &last_cleanup);
		start_due(dp);
		if (dp->inflight > 0) {
			curl_multi_perform(dp->multi, &running);
			collect(dp);
			if (dp->inflight > 0)
				curl_multi_poll(dp->multi, NULL, 0, DISPATCHER_POLL_MS, NULL);
			curl_multi_perform(dp->multi, &running);
			collect(dp);
		} else {
			store_outbox_wait(dp->s, idle_ms(dp));
		}
	}
	/* Let what is in flight finish or time out, and record it; start nothing new. */
	while (dp->inflight > 0) {
		curl_multi_perform(dp->multi, &running);
		collect(dp);
		if (dp->inflight > 0)
			curl_multi_poll(dp->multi, NULL, 0, DISPATCHER_POLL_MS, NULL);
	}
	return NULL;
}

/* ---------------------------------------------------------------------------------------
 * Lifecycle and metrics
 */

static void dispatcher_free(struct dispatcher *dp)
{
	int i;

	if (!dp)
		return;
	if (dp->flights)
		for (i = 0; i < dp->concurrency; i++)
			flight_release(&dp->flights[i]);
	if (dp->multi)
		curl_multi_cleanup(dp->multi);
	free(dp->flights);
	free(dp);
}

struct dispatcher *dispatcher_start(struct store *s, const struct config *cfg)
{
	struct dispatcher *dp = NULL;
	const char *sched = cfg->retry_schedule[0] ? cfg->retry_schedule
						   : DISPATCHER_DEFAULT_SCHEDULE;

	dp = calloc(1, sizeof(*dp));
	if (!dp)
		goto fail;
	dp->s = s;
	atomic_init(&dp->stop, 0);
	atomic_init(&dp->n_succeeded, 0);
	atomic_init(&dp->n_retry, 0);
	atomic_init(&dp->n_failed, 0);
	dp->n_schedule = dispatcher_parse_schedule(sched, dp->schedule, DISPATCHER_MAX_SCHEDULE);
	if (dp->n_schedule < 0) {
		fprintf(stderr, "aijri: webhook retry schedule \"%s\": want a comma list of at most "
			"%d numbers of seconds\n", sched, DISPATCHER_MAX_SCHEDULE);
		goto fail;
	}
	dp->timeout = cfg->webhook_timeout > 0 ? cfg->webhook_timeout : 10;
	dp->lease_ms = 1000 * (int64_t)(cfg->webhook_claim_seconds > 0
					    ? cfg->webhook_claim_seconds
					    : (3 * dp->timeout > DISPATCHER_CLAIM_MIN_S
						       ? 3 * dp->timeout : DISPATCHER_CLAIM_MIN_S));
	if (dp->lease_ms <= 1000 * (int64_t)dp->timeout)
		fprintf(stderr, "aijri: webhook claims last %lld s, no longer than the webhook "
			"timeout (%d s): a slow endpoint's delivery may be sent twice, by two "
			"instances\n", (long long)(dp->lease_ms / 1000), dp->timeout);
	dp->concurrency = cfg->webhook_concurrency > 0 ? cfg->webhook_concurrency : 64;
	if (store_deliveries_claims_reset(s))
		fprintf(stderr, "aijri: webhooks: the claims of an earlier start could not be "
			"ended; they lapse with their lease\n");
	dp->allow_private = cfg->allow_private_webhooks;
	dp->pause_s = (int64_t)(cfg->webhook_pause_days > 0 ? cfg->webhook_pause_days : 30) * 86400;
	store_webhook_pause_set(s, dp->pause_s);
	dp->flights = calloc((size_t)dp->concurrency, sizeof(*dp->flights));
	dp->multi = curl_multi_init();
	if (!dp->flights || !dp->multi) {
		fprintf(stderr, "aijri: webhook dispatcher: out of memory\n");
		goto fail;
	}
	if (pthread_create(&dp->thread, NULL, dispatcher_main, dp)) {
		fprintf(stderr, "aijri: webhook dispatcher: cannot start its thread\n");
		goto fail;
	}
	return dp;
fail:
	dispatcher_free(dp);
	return NULL;
}

void dispatcher_stop(struct dispatcher *dp)
{
	if (!dp)
		return;
	atomic_store(&dp->stop, 1);
	store_outbox_kick(dp->s);
	pthread_join(dp->thread, NULL);
	dispatcher_free(dp);
}

void dispatcher_metrics(void *ctx, struct buf *out)
{
	struct dispatcher *dp = ctx;
	int64_t oldest = 0;
	int depth = 0;

	if (!dp)
		return;
	store_deliveries_pending(dp->s, (int64_t)time(NULL), &depth, &oldest);
	buf_putf(out,
		 "# HELP aijri_webhook_deliveries_total Webhook delivery attempts by outcome.\n"
		 "# TYPE aijri_webhook_deliveries_total counter\n"
		 "aijri_webhook_deliveries_total{outcome=\"succeeded\"} %llu\n"
		 "aijri_webhook_deliveries_total{outcome=\"retry\"} %llu\n"
		 "aijri_webhook_deliveries_total{outcome=\"failed\"} %llu\n"
		 "# HELP aijri_webhook_queue_depth Webhook deliveries pending.\n"
		 "# TYPE aijri_webhook_queue_depth gauge\n"
		 "aijri_webhook_queue_depth %d\n"
		 "# HELP aijri_webhook_oldest_pending_seconds Age of the oldest pending webhook "
		 "delivery.\n"
		 "# TYPE aijri_webhook_oldest_pending_seconds gauge\n"
		 "aijri_webhook_oldest_pending_seconds %lld\n",
		 atomic_load(&dp->n_succeeded), atomic_load(&dp->n_retry),
		 atomic_load(&dp->n_failed), depth, (long long)oldest);
}
