/*
 * http.c: adapts libmicrohttpd to api/. Per DESIGN.md the response is queued on the last
 * call of the access handler (the one with no upload data after the first), never the first,
 * so keep-alive is kept. A write suspends its connection and hands the job to the store's
 * writer thread; the completion resumes it, and the next call of the handler answers. So an
 * HTTP thread never waits on the disk, and a read never waits for a write.
 *
 * The cache: a GET answer the API marks cacheable is kept as a ready MHD_Response keyed by
 * its representation (api_accept: HTML or JSON) and its URL, with the write generation it was
 * built at. An entry is served only while the
 * generation is unchanged, so a commit invalidates everything at once, and an answer built
 * from data read before a commit can never be served after it.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include "server/http.h"
#include "server/log.h"
#include "util/clock.h"

#define CACHE_BUCKETS 4096
#define CACHE_MAX_ENTRIES 8192
#define CACHE_KEY_MAX 2048
#define CACHE_MAX_BODY (4u << 20)

struct cache_entry {
	char *key;
	uint64_t gen;
	struct MHD_Response *resp;
	char etag[32];       /* the quoted ETag, or "" */
	const char *route;
	int status;
	struct cache_entry *next;
};

/*
 * Every open connection, for what libmicrohttpd does not do by itself: its timeout only closes
 * connections that are silent, so a client trickling one byte a second would keep one forever;
 * and at its connection limit it stops accepting, leaving new clients hanging in the backlog.
 * Here a request must arrive whole within the timeout of the connection going idle, and a
 * connection over the limit is closed at once.
 */
struct tracked {
	int fd;
	_Atomic int64_t idle_since_ms; /* when the connection last went idle (opened, or answered) */
	_Atomic int busy;              /* a request is being handled or answered */
	int shut;
	struct tracked *prev, *next;
};

struct http {
	struct MHD_Daemon *d;
	struct api *api;
	struct store *store;
	_Atomic int in_flight;
	_Atomic int stopping;    /* set on SIGTERM: new requests are turned away */
	pthread_rwlock_t cache_lock;
	struct cache_entry *buckets[CACHE_BUCKETS];
	int cache_entries;
	pthread_mutex_t conns_lock;
	struct tracked *conns;
	int n_conns;
	int max_conns;
	int64_t timeout_ms;
	pthread_t reaper;
	_Atomic int reaper_stop;
	int reaper_running;
};

enum req_state { RQ_NEW, RQ_BODY, RQ_WAITING, RQ_DONE };

struct req {
	struct http *h;
	struct MHD_Connection *conn;
	enum req_state state;
	struct buf body;
	int too_large;
	int job_rc;
	int64_t started_us;
	struct api_request rq;
	struct api_response rs;
	int rs_init;
	store_job_fn job;     /* the API's job and its argument, run through run_job */
	void *job_arg;
};

/* ---------------------------------------------------------------------------------------
 * Cache
 */

static unsigned cache_hash(const char *s)
{
	unsigned h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h % CACHE_BUCKETS;
}

static void cache_entry_free(struct cache_entry *e)
{
	MHD_destroy_response(e->resp);
	free(e->key);
	free(e);
}

static void cache_clear_locked(struct http *h)
{
	size_t i;

	for (i = 0; i < CACHE_BUCKETS; i++) {
		struct cache_entry *e = h->buckets[i], *next;
		for (; e; e = next) {
			next = e->next;
			cache_entry_free(e);
		}
		h->buckets[i] = NULL;
	}
	h->cache_entries = 0;
}

struct key_ctx {
	struct buf *b;
	int n;
};

/* Appends s percent-encoded for a query string (the arguments arrive decoded). */
static void add_encoded(struct buf *b, const char *s)
{
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		    strchr("-._~,", ch))
			buf_addc(b, (char)ch);
		else
			buf_addf(b, "%%%02X", ch);
	}
}

static enum MHD_Result key_arg(void *cls, enum MHD_ValueKind kind, const char *k, const char *v)
{
	struct key_ctx *c = cls;

	(void)kind;
	buf_addc(c->b, c->n++ ? '&' : '?');
	add_encoded(c->b, k);
	if (v) {
		buf_addc(c->b, '=');
		add_encoded(c->b, v);
	}
	return MHD_YES;
}

/* The request's path and re-encoded query string ("/roles?q=a%20b"): the cache key of a GET,
 * and where a redirect finds the query to keep. 0 on success. */
static int cache_key(struct MHD_Connection *conn, const char *url, struct buf *b)
{
	struct key_ctx c = { b, 0 };

	if (buf_adds(b, url))
		return -1;
	MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, key_arg, &c);
	return b->len >= CACHE_KEY_MAX ? -1 : 0;
}

static void cache_put(struct http *h, const char *key, uint64_t gen, struct MHD_Response *resp,
		      const char *etag, const char *route, int status)
{
	struct cache_entry *e = calloc(1, sizeof(*e)), **p;
	unsigned b = cache_hash(key);

	if (!e || !(e->key = strdup(key))) {
		free(e);
		return;
	}
	e->gen = gen;
	e->resp = resp;
	e->route = route;
	e->status = status;
	snprintf(e->etag, sizeof(e->etag), "%s", etag ? etag : "");
	pthread_rwlock_wrlock(&h->cache_lock);
	/* Entries of an older generation are dead: drop them all rather than one by one. */
	if (h->cache_entries >= CACHE_MAX_ENTRIES)
		cache_clear_locked(h);
	for (p = &h->buckets[b]; *p; p = &(*p)->next) {
		if (!strcmp((*p)->key, key)) {
			struct cache_entry *old = *p;
			e->next = old->next;
			*p = e;
			cache_entry_free(old);
			pthread_rwlock_unlock(&h->cache_lock);
			return;
		}
	}
	e->next = h->buckets[b];
	h->buckets[b] = e;
	h->cache_entries++;
	pthread_rwlock_unlock(&h->cache_lock);
	/* The cache holds its own reference: MHD counts one per queue and one per owner. */
}

/* ---------------------------------------------------------------------------------------
 * Requests
 */

static const char *hdr(void *ctx, const char *name)
{
	struct req *r = ctx;

	return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

static const char *qarg(void *ctx, const char *name)
{
	struct req *r = ctx;

	return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

static struct MHD_Response *to_mhd(const struct api_response *rs)
{
	struct MHD_Response *resp;
	int i;

	resp = MHD_create_response_from_buffer(rs->body.len, rs->body.len ? rs->body.data : NULL,
					       MHD_RESPMEM_MUST_COPY);
	if (!resp)
		return NULL;
	if (rs->content_type && rs->status != 204 && rs->status != 304)
		MHD_add_response_header(resp, "Content-Type", rs->content_type);
	for (i = 0; i < rs->n_headers; i++)
		MHD_add_response_header(resp, rs->headers[i].name, rs->headers[i].value);
	return resp;
}

static const char *etag_of(const struct api_response *rs)
{
	int i;

	for (i = 0; i < rs->n_headers; i++)
		if (!strcasecmp(rs->headers[i].name, "ETag"))
			return rs->headers[i].value;
	return NULL;
}

static enum MHD_Result send_rs(struct req *r, const char *method, const char *url)
{
	struct MHD_Response *resp = to_mhd(&r->rs);
	enum MHD_Result ret;
	int64_t dur;

	if (!resp)
		return MHD_NO;
	ret = MHD_queue_response(r->conn, (unsigned)r->rs.status, resp);
	MHD_destroy_response(resp);
	dur = clock_mono_us() - r->started_us;
	api_metrics_observe(r->h->api, method, r->rq.route, r->rs.status, dur);
	log_request(method, url, r->rs.status, dur);
	return ret;
}

/* Serves a GET from the cache if it holds a live answer. 1 if served. */
static int serve_cached(struct req *r, const char *method, const char *url, const char *key,
			enum MHD_Result *ret)
{
	struct http *h = r->h;
	uint64_t gen = api_generation(h->api);
	struct cache_entry *e;
	const char *inm;
	int status = 0;
	const char *route = NULL;

	pthread_rwlock_rdlock(&h->cache_lock);
	for (e = h->buckets[cache_hash(key)]; e; e = e->next)
		if (e->gen == gen && !strcmp(e->key, key))
			break;
	if (!e) {
		pthread_rwlock_unlock(&h->cache_lock);
		return 0;
	}
	inm = e->etag[0] ? MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "If-None-Match") : NULL;
	if (inm) {
		/* Conditional requests go the long way; they are rare and need the 304 logic. */
		pthread_rwlock_unlock(&h->cache_lock);
		return 0;
	}
	/* Queued under the read lock, so the entry cannot be freed before MHD holds it. */
	*ret = MHD_queue_response(r->conn, (unsigned)e->status, e->resp);
	status = e->status;
	route = e->route;
	pthread_rwlock_unlock(&h->cache_lock);
	{
		int64_t dur = clock_mono_us() - r->started_us;
		api_metrics_observe(h->api, method, route, status, dur);
		log_request(method, url, status, dur);
	}
	return 1;
}

/* The store calls back with the job's own argument; the request rides along as that. */
static int run_job(struct store_tx *tx, void *arg)
{
	struct req *r = arg;

	return r->job(tx, r->job_arg);
}

static struct tracked *tracked_of(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return ci ? ci->socket_context : NULL;
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
			  enum MHD_ConnectionNotificationCode code)
{
	struct http *h = cls;
	struct tracked *t = *socket_context;

	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *ci =
			MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);

		t = calloc(1, sizeof(*t));
		if (!t || !ci)
			goto fail;
		t->fd = ci->connect_fd;
		atomic_init(&t->idle_since_ms, clock_mono_ms());
		atomic_init(&t->busy, 0);
		pthread_mutex_lock(&h->conns_lock);
		if (h->n_conns >= h->max_conns) {
			/* Over the limit: close now rather than leave the client waiting. */
			shutdown(t->fd, SHUT_RDWR);
			t->shut = 1;
		}
		t->next = h->conns;
		if (h->conns)
			h->conns->prev = t;
		h->conns = t;
		h->n_conns++;
		pthread_mutex_unlock(&h->conns_lock);
		*socket_context = t;
		return;
fail:
		free(t);
		*socket_context = NULL;
		return;
	}
	if (!t)
		return;
	/* libmicrohttpd reports the close before it closes the socket, so the reaper can never
	 * shut down a descriptor that was reused. */
	pthread_mutex_lock(&h->conns_lock);
	if (t->prev)
		t->prev->next = t->next;
	else
		h->conns = t->next;
	if (t->next)
		t->next->prev = t->prev;
	h->n_conns--;
	pthread_mutex_unlock(&h->conns_lock);
	free(t);
	*socket_context = NULL;
}

static void *reaper_main(void *arg)
{
	struct http *h = arg;

	while (!atomic_load(&h->reaper_stop)) {
		int64_t now;
		struct tracked *t;

		usleep(250000);
		now = clock_mono_ms();
		pthread_mutex_lock(&h->conns_lock);
		for (t = h->conns; t; t = t->next) {
			if (t->shut || atomic_load(&t->busy) ||
			    now - atomic_load(&t->idle_since_ms) <= h->timeout_ms)
				continue;
			shutdown(t->fd, SHUT_RDWR);
			t->shut = 1;
		}
		pthread_mutex_unlock(&h->conns_lock);
	}
	return NULL;
}

static void job_done(void *arg, int rc)
{
	struct req *r = arg;

	r->job_rc = rc;
	r->state = RQ_DONE;
	MHD_resume_connection(r->conn);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **con_cls)
{
	struct http *h = cls;
	struct req *r = *con_cls;
	struct buf key = BUF_INIT(CACHE_KEY_MAX);
	enum MHD_Result ret = MHD_NO;
	uint64_t gen;
	int is_get, rc;

	(void)version;
	if (!r) {
		r = calloc(1, sizeof(*r));
		if (!r)
			return MHD_NO;
		r->h = h;
		r->conn = conn;
		r->state = RQ_BODY;
		r->started_us = clock_mono_us();
		buf_init(&r->body, API_MAX_BODY);
		atomic_fetch_add(&h->in_flight, 1);
		*con_cls = r;
		return MHD_YES;
	}
	if (r->state == RQ_BODY && *upload_data_size) {
		/* Past the limit the rest is read and dropped, so the answer can be a clean 413. */
		if (!r->too_large && buf_add(&r->body, upload_data, *upload_data_size))
			r->too_large = 1;
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (r->state == RQ_WAITING)
		return MHD_YES; /* spurious call while suspended */
	if (r->state == RQ_BODY) {
		struct tracked *t = tracked_of(conn);

		if (t)
			atomic_store(&t->busy, 1);
	}
	if (r->state == RQ_BODY && atomic_load(&h->stopping)) {
		/* Shutting down: what is in flight finishes, what is new is turned away. */
		struct MHD_Response *resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);

		if (!resp)
			return MHD_NO;
		MHD_add_response_header(resp, "Connection", "close");
		MHD_add_response_header(resp, "Retry-After", "1");
		ret = MHD_queue_response(conn, MHD_HTTP_SERVICE_UNAVAILABLE, resp);
		MHD_destroy_response(resp);
		return ret;
	}
	if (r->state == RQ_DONE) {
		api_finish(&r->rq, r->job_rc, &r->rs);
		return send_rs(r, method, url);
	}

	is_get = !strcmp(method, "GET") || !strcmp(method, "HEAD");
	/* The representation the Accept header picks leads the key: a URL's HTML and JSON
	 * answers are cached apart (and any other Accept shares the JSON one). */
	buf_addc(&key, is_get && api_accept(MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
									 "Accept")) == API_REPR_HTML
			       ? 'H'
			       : 'J');
	if (cache_key(conn, url, &key))
		buf_reset(&key); /* too long to cache; the query string is then left out */
	if (is_get && key.len && serve_cached(r, method, url, buf_str(&key), &ret)) {
		buf_release(&key);
		return ret;
	}
	gen = api_generation(h->api);
	r->rq.api = h->api;
	r->rq.method = method;
	r->rq.path = url;
	r->rq.query_string = key.len ? buf_str(&key) + 1 + strlen(url) : "";
	r->rq.body = r->body.len ? r->body.data : NULL;
	r->rq.body_len = r->body.len;
	r->rq.body_too_large = r->too_large;
	r->rq.header = hdr;
	r->rq.query = qarg;
	r->rq.ctx = r;
	r->rq.started_us = r->started_us;
	api_response_init(&r->rs);
	r->rs_init = 1;
	rc = api_handle(&r->rq, &r->rs);
	if (rc == API_DEFER) {
		buf_release(&key);
		r->job = api_deferred_job(&r->rq, &r->job_arg);
		r->state = RQ_WAITING;
		/* Suspend before handing the job over, so the resume can never come first. */
		MHD_suspend_connection(conn);
		if (store_write_async(h->store, run_job, r, job_done)) {
			r->state = RQ_DONE;
			r->job_rc = RC_IO;
			MHD_resume_connection(conn);
		}
		return MHD_YES;
	}
	if (is_get && r->rs.cacheable && r->rs.status == 200 && key.len && r->rs.body.len <= CACHE_MAX_BODY) {
		struct MHD_Response *resp = to_mhd(&r->rs);

		if (resp) {
			int64_t dur;

			ret = MHD_queue_response(conn, (unsigned)r->rs.status, resp);
			cache_put(h, buf_str(&key), gen, resp, etag_of(&r->rs), r->rq.route, r->rs.status);
			dur = clock_mono_us() - r->started_us;
			api_metrics_observe(h->api, method, r->rq.route, r->rs.status, dur);
			log_request(method, url, r->rs.status, dur);
			buf_release(&key);
			return ret;
		}
	}
	buf_release(&key);
	return send_rs(r, method, url);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct http *h = cls;
	struct req *r = *con_cls;

	(void)toe;
	{
		struct tracked *t = tracked_of(conn);

		if (t) {
			atomic_store(&t->idle_since_ms, clock_mono_ms());
			atomic_store(&t->busy, 0);
		}
	}
	if (!r)
		return;
	api_request_release(&r->rq);
	if (r->rs_init)
		api_response_release(&r->rs);
	buf_release(&r->body);
	free(r);
	*con_cls = NULL;
	atomic_fetch_sub(&h->in_flight, 1);
}

/*
 * Percent-decoding of the path and the query arguments, in place, as the library's own does,
 * except that %00 is left as it is: a NUL would end the string there, and
 * "/roles/edge-ai-engineer%00" would be read as the role's path instead of no path at all.
 */
static size_t unescape(void *cls, struct MHD_Connection *conn, char *s)
{
	char *r = s, *w = s;

	(void)cls;
	(void)conn;
	while (*r) {
		if (r[0] == '%' && isxdigit((unsigned char)r[1]) && isxdigit((unsigned char)r[2])) {
			char hex[3] = { r[1], r[2], '\0' };
			char c = (char)strtol(hex, NULL, 16);

			if (c) {
				*w++ = c;
				r += 3;
				continue;
			}
		}
		*w++ = *r++;
	}
	*w = '\0';
	return (size_t)(w - s);
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	log_msg("http: %s", msg);
}

struct http *http_start(struct api *api, const struct config *cfg)
{
	struct http *h = calloc(1, sizeof(*h));
	struct sockaddr_in addr;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned threads = cfg->threads > 0 ? (unsigned)cfg->threads : (unsigned)(ncpu > 0 ? ncpu : 2);

	if (!h)
		return NULL;
	h->api = api;
	h->store = api_store(api);
	atomic_init(&h->in_flight, 0);
	atomic_init(&h->stopping, 0);
	atomic_init(&h->reaper_stop, 0);
	pthread_mutex_init(&h->conns_lock, NULL);
	h->max_conns = cfg->max_connections;
	h->timeout_ms = (int64_t)cfg->connection_timeout * 1000;
	pthread_rwlock_init(&h->cache_lock, NULL);
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_port = htons((uint16_t)cfg->port);
	if (inet_pton(AF_INET, cfg->bind, &addr.sin_addr) != 1) {
		fprintf(stderr, "aijri: bind: '%s' is not an IPv4 address\n", cfg->bind);
		free(h);
		return NULL;
	}
	h->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
					MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG,
				(uint16_t)cfg->port, NULL, NULL, on_request, h,
				MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
				MHD_OPTION_THREAD_POOL_SIZE, threads,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)cfg->connection_timeout,
				/* A backstop only: the limit itself is kept in on_connection. */
				MHD_OPTION_CONNECTION_LIMIT, (unsigned)cfg->max_connections + 256,
				MHD_OPTION_NOTIFY_CONNECTION, on_connection, h,
				MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(16 * 1024),
				MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
				MHD_OPTION_UNESCAPE_CALLBACK, unescape, NULL,
				/* The library's default reuse (SO_REUSEADDR): a restart binds at once,
				 * and a second server on the same port is refused instead of sharing it
				 * (SO_REUSEPORT would split the connections between them). */
				MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
				MHD_OPTION_END);
	if (!h->d) {
		fprintf(stderr, "aijri: cannot listen on %s:%d (in use, or not allowed)\n", cfg->bind,
			cfg->port);
		pthread_rwlock_destroy(&h->cache_lock);
		pthread_mutex_destroy(&h->conns_lock);
		free(h);
		return NULL;
	}
	if (pthread_create(&h->reaper, NULL, reaper_main, h) == 0)
		h->reaper_running = 1;
	return h;
}

void http_stop(struct http *h, int timeout_ms)
{
	int64_t deadline;

	if (!h)
		return;
	/*
	 * Turn new requests away and let what is in flight, suspended writes included, finish:
	 * stopping the daemon with a connection still suspended is not allowed. (Not
	 * MHD_quiesce_daemon: with a thread pool on epoll it aborted the process now and then.)
	 */
	atomic_store(&h->stopping, 1);
	deadline = clock_mono_ms() + timeout_ms;
	while (atomic_load(&h->in_flight) > 0 && clock_mono_ms() < deadline)
		usleep(10000);
	atomic_store(&h->reaper_stop, 1);
	if (h->reaper_running)
		pthread_join(h->reaper, NULL);
	MHD_stop_daemon(h->d);
	pthread_rwlock_wrlock(&h->cache_lock);
	cache_clear_locked(h);
	pthread_rwlock_unlock(&h->cache_lock);
	pthread_rwlock_destroy(&h->cache_lock);
	pthread_mutex_destroy(&h->conns_lock);
	free(h);
}
