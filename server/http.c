/*
 * http.c: adapts libmicrohttpd to api/. Per DESIGN.md the response is queued on the last
 * call of the access handler (the one with no upload data after the first), never the first,
 * so keep-alive is kept; the exceptions are the refusals made on the headers alone (framing,
 * shutting down), which must close the connection anyway. A write suspends its connection
 * and hands the job to the store's writer thread; the completion resumes it, and the next
 * call of the handler answers. So an HTTP thread never waits on the disk, and a read never
 * waits for a write.
 *
 * The modules around it: cache.c keeps GET answers (keyed by the API's normalised request),
 * conns.c tracks connections (idle ones make room for new ones at the limit), framing.c
 * refuses ambiguous requests before their body is read.
 *
 * A request's path is the one the client sent, taken (still percent-encoded) from the request
 * line by the URI log callback, which runs before the library decodes anything: the API
 * splits it at its slashes before decoding, so "%2F" never reads as a separator.
 */
#include <arpa/inet.h>
#include <linux/filter.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "server/cache.h"
#include "server/conns.h"
#include "server/framing.h"
#include "server/http.h"
#include "server/log.h"
#include "util/clock.h"
#include "util/url.h"

#define KEY_MAX 2048
/* libmicrohttpd's memory per connection: the request line and headers must fit in it. */
#define POOL_BYTES (16 * 1024)
#define MAX_HEADERS 128       /* header lines looked at by the framing checks */
#define QUIET_MS 100          /* shutting down: how long a kept-alive connection must have
			       * been idle before it is closed under a client */
#define QUIET_WAIT_MS 1000    /* ... and how long to wait for such a moment at most */

struct http {
	struct MHD_Daemon *d;
	struct api *api;
	struct store *store;
	struct cache *cache;
	struct conns *conns;
	_Atomic int in_flight;
	_Atomic int stopping;    /* set on SIGTERM: new requests are turned away */
};

enum req_state { RQ_NEW, RQ_BODY, RQ_WAITING, RQ_DONE, RQ_REFUSED };

struct req {
	struct http *h;
	struct MHD_Connection *conn;
	enum req_state state;
	char *path;           /* the path as sent, without the query */
	struct buf body;
	int too_large;
	int job_rc;
	int counted;          /* in h->in_flight */
	int64_t started_us;
	struct api_request rq;
	struct api_response rs;
	int rs_init;
	store_job_fn job;     /* the API's job and its argument, run through run_job */
	void *job_arg;
	struct buf query;     /* the query string re-encoded, for the API */
};

/* ---------------------------------------------------------------------------------------
 * Requests
 */

/* The connection's entry in conns.c (NULL if it was refused). */
static struct conn *conn_of(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return ci ? ci->socket_context : NULL;
}

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

/* Appends s percent-encoded for a query string (the arguments arrive decoded). */
static void add_encoded(struct buf *b, const char *s)
{
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		    strchr("-._~,", ch))
			buf_putc(b, (char)ch);
		else
			buf_putf(b, "%%%02X", ch);
	}
}

/* Appends one argument to the query string; a failure stays in the buffer (buf_err). */
static enum MHD_Result query_arg(void *cls, enum MHD_ValueKind kind, const char *k, const char *v)
{
	struct buf *b = cls;

	(void)kind;
	buf_putc(b, b->len ? '&' : '?');
	add_encoded(b, k);
	if (v) {
		buf_putc(b, '=');
		add_encoded(b, v);
	}
	return buf_err(b) ? MHD_NO : MHD_YES;
}

/* The MHD response of an API answer; NULL when out of memory. A file body is handed over. */
static struct MHD_Response *to_mhd(struct http *h, struct api_response *rs, size_t *bytes)
{
	struct MHD_Response *resp;
	int i;

	*bytes = 0;
	if (rs->body_fd >= 0) {
		resp = MHD_create_response_from_fd64(rs->body_fd_size, rs->body_fd);
		if (resp)
			rs->body_fd = -1; /* the response closes it */
	} else {
		resp = MHD_create_response_from_buffer(rs->body.len, rs->body.len ? rs->body.data : NULL,
						       MHD_RESPMEM_MUST_COPY);
		*bytes = rs->body.len;
	}
	if (!resp)
		return NULL;
	if (rs->content_type && rs->status != 204 && rs->status != 304)
		MHD_add_response_header(resp, "Content-Type", rs->content_type);
	for (i = 0; i < rs->n_headers; i++) {
		MHD_add_response_header(resp, rs->headers[i].name, rs->headers[i].value);
		*bytes += strlen(rs->headers[i].name) + strlen(rs->headers[i].value) + 4;
	}
	/* Shutting down: no connection is kept for another request. */
	if (atomic_load(&h->stopping))
		MHD_add_response_header(resp, "Connection", "close");
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

static void observe(struct req *r, const char *method, const char *route, int status)
{
	int64_t dur = clock_mono_us() - r->started_us;

	api_metrics_observe(r->h->api, method, route, status, dur);
	log_request(method, r->path ? r->path : "", status, dur);
}

static enum MHD_Result send_rs(struct req *r, const char *method)
{
	size_t bytes;
	struct MHD_Response *resp = to_mhd(r->h, &r->rs, &bytes);
	enum MHD_Result ret;

	if (!resp)
		return MHD_NO;
	ret = MHD_queue_response(r->conn, (unsigned)r->rs.status, resp);
	MHD_destroy_response(resp);
	observe(r, method, r->rq.route, r->rs.status);
	return ret;
}

/*
 * Answers a request on its headers alone, with a problem and the connection closed: the
 * framing refusals and the turning away while shutting down. The body, if any, is not read
 * (the library closes the connection of a refused upload after the answer).
 */
static enum MHD_Result refuse(struct req *r, const char *method, int status, const char *type,
			      const char *title, const char *detail)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;
	size_t bytes;

	r->state = RQ_REFUSED;
	api_response_init(&r->rs);
	r->rs_init = 1;
	api_problem(&r->rs, status, type, title, detail);
	api_header(&r->rs, "Access-Control-Allow-Origin", "*");
	if (status == 503)
		api_header(&r->rs, "Retry-After", "1");
	resp = to_mhd(r->h, &r->rs, &bytes);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, "Connection", "close");
	ret = MHD_queue_response(r->conn, (unsigned)status, resp);
	MHD_destroy_response(resp);
	observe(r, method, NULL, status);
	return ret;
}

struct header_list {
	struct framing_header h[MAX_HEADERS];
	int n;
	int over;
};

static enum MHD_Result header_add(void *cls, enum MHD_ValueKind kind, const char *k, const char *v)
{
	struct header_list *l = cls;

	(void)kind;
	if (l->n == MAX_HEADERS) {
		l->over = 1;
		return MHD_NO;
	}
	l->h[l->n].name = k;
	l->h[l->n].value = v;
	l->n++;
	return MHD_YES;
}

/* The first call of a request, its headers read: refuse it now, or let its body come. */
static enum MHD_Result on_headers(struct req *r, const char *method, const char *version)
{
	static const struct {
		int status;
		const char *type, *title;
	} kinds[] = {
		{ 400, "malformed-request", "Malformed request" },
		{ 411, "length-required", "Length required" },
		{ 413, "payload-too-large", "Payload too large" },
		{ 501, "not-implemented", "Not implemented" },
	};
	struct header_list l;
	const char *why = NULL;
	size_t i;
	int status;

	atomic_fetch_add(&r->h->in_flight, 1);
	r->counted = 1;
	r->started_us = clock_mono_us();
	if (atomic_load(&r->h->stopping))
		return refuse(r, method, 503, "unavailable", "Service unavailable",
			      "the server is shutting down; try again");
	memset(&l, 0, sizeof(l));
	MHD_get_connection_values(r->conn, MHD_HEADER_KIND, header_add, &l);
	status = l.over ? 431 : framing_check(version, l.h, l.n, API_MAX_BODY, &why);
	if (status == 431)
		return refuse(r, method, 431, "header-fields-too-large", "Header fields too large",
			      "more than 128 header lines");
	for (i = 0; status && i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (kinds[i].status == status)
			return refuse(r, method, status, kinds[i].type, kinds[i].title, why);
	r->state = RQ_BODY;
	return MHD_YES;
}

struct hit_ctx {
	struct req *r;
	const char *method;
	enum MHD_Result ret;
};

static int serve_hit(void *arg, const struct cache_hit *hit)
{
	struct hit_ctx *c = arg;

	/* Conditional requests go the long way; they are rare and need the 304 logic. */
	if (hit->etag[0] && hdr(c->r, "If-None-Match"))
		return 0;
	c->ret = MHD_queue_response(c->r->conn, (unsigned)hit->status, hit->resp);
	observe(c->r, c->method, hit->route, hit->status);
	return 1;
}

/* The store calls back with the job's own argument; the request rides along as that. */
static int run_job(struct store_tx *tx, void *arg)
{
	struct req *r = arg;

	return r->job(tx, r->job_arg);
}

static void job_done(void *arg, int rc)
{
	struct req *r = arg;

	r->job_rc = rc;
	r->state = RQ_DONE;
	MHD_resume_connection(r->conn);
}

/* The last call of a request: its body read whole. Answers it from the cache, the API, or
 * hands its write to the store. */
static enum MHD_Result on_complete(struct req *r, const char *method)
{
	struct http *h = r->h;
	struct buf key = BUF_INIT(KEY_MAX);
	enum MHD_Result ret = MHD_NO;
	int cacheable = 0, rc;
	uint64_t gen;

	conns_busy(conn_of(r->conn));
	r->rq.api = h->api;
	r->rq.method = method;
	r->rq.path = r->path ? r->path : "/";
	r->rq.header = hdr;
	r->rq.query = qarg;
	r->rq.ctx = r;
	r->rq.started_us = r->started_us;
	/* The generation is read before the data: an answer kept under it is never older. */
	gen = api_generation(h->api);
	if (!atomic_load(&h->stopping) && api_cache_key(&r->rq, &key) == 0) {
		struct hit_ctx hc = { r, method, MHD_NO };

		cacheable = 1;
		if (cache_serve(h->cache, buf_str(&key), gen, serve_hit, &hc)) {
			buf_release(&key);
			return hc.ret;
		}
	}
	MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, query_arg, &r->query);
	if (buf_err(&r->query)) {
		/* The request line fits the connection's pool, and its arguments re-encoded fit
		 * the query's bound (three times the pool): only memory can fail here. */
		buf_release(&key);
		return refuse(r, method, 500, "urn:aijri:problem:internal", "Internal error",
			      "The query string could not be read.");
	}
	r->rq.query_string = buf_str(&r->query);
	r->rq.body = r->body.len ? r->body.data : NULL;
	r->rq.body_len = r->body.len;
	r->rq.body_too_large = r->too_large;
	api_response_init(&r->rs);
	r->rs_init = 1;
	rc = api_handle(&r->rq, &r->rs);
	if (rc == API_DEFER) {
		buf_release(&key);
		r->job = api_deferred_job(&r->rq, &r->job_arg);
		r->state = RQ_WAITING;
		/* Suspend before handing the job over, so the resume can never come first. */
		MHD_suspend_connection(r->conn);
		if (store_write_async(h->store, run_job, r, job_done)) {
			r->state = RQ_DONE;
			r->job_rc = RC_IO;
			MHD_resume_connection(r->conn);
		}
		return MHD_YES;
	}
	if (cacheable && r->rs.cacheable && r->rs.status == 200) {
		size_t bytes;
		struct MHD_Response *resp = to_mhd(h, &r->rs, &bytes);

		if (resp) {
			ret = MHD_queue_response(r->conn, (unsigned)r->rs.status, resp);
			cache_put(h->cache, buf_str(&key), gen, r->rs.cache_until, resp, bytes,
				  etag_of(&r->rs), r->rq.route, r->rs.status);
			observe(r, method, r->rq.route, r->rs.status);
			buf_release(&key);
			return ret;
		}
	}
	buf_release(&key);
	return send_rs(r, method);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **con_cls)
{
	struct req *r = *con_cls;

	(void)cls;
	(void)url;
	if (!r)
		return MHD_NO; /* the URI log callback made it, unless out of memory */
	r->conn = conn;
	switch (r->state) {
	case RQ_NEW:
		return on_headers(r, method, version);
	case RQ_BODY:
		if (*upload_data_size) {
			/* Past the limit the rest is read and dropped, so the answer can be a
			 * clean 413 (a Content-Length over it was refused on the headers). */
			if (!r->too_large && buf_add(&r->body, upload_data, *upload_data_size))
				r->too_large = 1;
			*upload_data_size = 0;
			return MHD_YES;
		}
		return on_complete(r, method);
	case RQ_WAITING:
		return MHD_YES; /* spurious call while suspended */
	case RQ_DONE:
		api_finish(&r->rq, r->job_rc, &r->rs);
		return send_rs(r, method);
	case RQ_REFUSED:
		*upload_data_size = 0;
		return MHD_YES; /* answered already; the library drops the rest */
	}
	return MHD_NO;
}

/* The request line arrived (nothing decoded yet): the request's state starts here. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
	struct http *h = cls;
	struct req *r = calloc(1, sizeof(*r));

	conns_arriving(conn_of(conn));
	if (!r)
		return NULL;
	r->h = h;
	r->conn = conn;
	r->state = RQ_NEW;
	r->started_us = clock_mono_us();
	r->path = strndup(uri, strcspn(uri, "?"));
	buf_init(&r->body, API_MAX_BODY);
	/* Every byte of the request line re-encoded as %XX fits: only memory can fail. */
	buf_init(&r->query, 3 * POOL_BYTES + 1);
	return r;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct http *h = cls;
	struct req *r = *con_cls;

	(void)toe;
	conns_idle(conn_of(conn));
	if (!r)
		return;
	api_request_release(&r->rq);
	if (r->rs_init)
		api_response_release(&r->rs);
	buf_release(&r->body);
	buf_release(&r->query);
	free(r->path);
	if (r->counted)
		atomic_fetch_sub(&h->in_flight, 1);
	free(r);
	*con_cls = NULL;
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
			  enum MHD_ConnectionNotificationCode code)
{
	struct http *h = cls;

	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *fd =
			MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
		const union MHD_ConnectionInfo *addr =
			MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);

		*socket_context = fd ? conns_open(h->conns, fd->connect_fd,
						  addr ? addr->client_addr : NULL)
				     : NULL;
		return;
	}
	/* The library reports the close before it closes the socket, so the module can never
	 * shut down a descriptor that was reused. */
	conns_close(h->conns, *socket_context);
	*socket_context = NULL;
}

/*
 * Percent-decoding of the query arguments, in place, as the library's own does, except that
 * %00 is left as it is: a NUL would end the string there. (The path is not decoded here at
 * all: the API takes it as sent.)
 */
static size_t unescape(void *cls, struct MHD_Connection *conn, char *s)
{
	char *r = s, *w = s;

	(void)cls;
	(void)conn;
	while (*r) {
		int c = url_pct_byte(r, 3);

		if (c > 0) {
			*w++ = (char)c;
			r += 3;
			continue;
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
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_port = htons((uint16_t)cfg->port);
	if (inet_pton(AF_INET, cfg->bind, &addr.sin_addr) != 1) {
		fprintf(stderr, "aijri: bind: '%s' is not an IPv4 address\n", cfg->bind);
		free(h);
		return NULL;
	}
	h->cache = cache_new((size_t)cfg->cache_mb << 20);
	h->conns = conns_new(cfg->max_connections, cfg->max_connections_per_address,
			     (int64_t)cfg->connection_timeout * 1000);
	if (!h->cache || !h->conns)
		goto fail;
	api_metrics_source(api, cache_metrics, h->cache);
	api_metrics_source(api, conns_metrics, h->conns);
	h->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
					MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG,
				(uint16_t)cfg->port, NULL, NULL, on_request, h,
				MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
				MHD_OPTION_THREAD_POOL_SIZE, threads,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)cfg->connection_timeout,
				/* A backstop only: the limit itself is kept by conns.c, which makes
				 * room by closing idle connections; those take a moment to go. */
				MHD_OPTION_CONNECTION_LIMIT, (unsigned)cfg->max_connections + 256,
				MHD_OPTION_NOTIFY_CONNECTION, on_connection, h,
				MHD_OPTION_URI_LOG_CALLBACK, on_uri, h,
				MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)POOL_BYTES,
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
		goto fail;
	}
	return h;
fail:
	cache_free(h->cache);
	conns_free(h->conns);
	free(h);
	return NULL;
}

static int listen_socket(struct http *h)
{
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_LISTEN_FD);

	return di ? di->listen_fd : -1;
}

/* Whether connections wait in the listening socket's accept queue. */
static int accept_queue(struct http *h)
{
	struct tcp_info ti;
	socklen_t n = sizeof(ti);
	int fd = listen_socket(h);

	/* For a listening socket, tcpi_unacked is the length of its accept queue. */
	if (fd < 0 || getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &n))
		return 0;
	return ti.tcpi_unacked > 0;
}

/* Makes the listening socket drop every packet addressed to it, new connections' SYNs
 * among them (connections it accepted have sockets of their own, which keep theirs). */
static void drop_new_connections(int fd)
{
	struct sock_filter keep_nothing[] = { BPF_STMT(BPF_RET | BPF_K, 0) };
	struct sock_fprog prog = { .len = 1, .filter = keep_nothing };

	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)))
		log_msg("shutdown: cannot filter the listening socket: %s", strerror(errno));
}

/* Waits (up to ms) until nothing is under way and no kept-alive connection was answered in
 * the last QUIET_MS. */
static void wait_quiet(struct http *h, int ms)
{
	int64_t deadline = clock_mono_ms() + ms;

	while (clock_mono_ms() < deadline &&
	       (atomic_load(&h->in_flight) > 0 || !conns_quiet(h->conns, QUIET_MS) || accept_queue(h)))
		usleep(5000);
}

void http_stop(struct http *h, int timeout_ms)
{
	int64_t deadline;
	int listen_fd;

	if (!h)
		return;
	/*
	 * Turn new requests away (503, connection closed) and let what is in flight, suspended
	 * writes included, finish: stopping the daemon with a connection still suspended is not
	 * allowed. Then wait for a quiet moment (no request arriving, no bytes unread, nothing in
	 * the accept queue, no connection answered just now) before the daemon closes what is
	 * left, so that a request sent meanwhile gets its 503 rather than a closed connection.
	 * (Not MHD_quiesce_daemon: with a thread pool on epoll it aborted the process now and
	 * then.)
	 */
	atomic_store(&h->stopping, 1);
	deadline = clock_mono_ms() + timeout_ms;
	while (atomic_load(&h->in_flight) > 0 && clock_mono_ms() < deadline)
		usleep(10000);
	/* No new connection from here on: the listening socket drops every SYN (a socket filter
	 * that keeps nothing), so the client's kernel sends it again a second later and then meets
	 * the closed socket ("connection refused": it knows its request was never sent). Those
	 * already in the accept queue are still accepted and get their 503: closing the socket
	 * with them queued would reset them after their request was sent. */
	listen_fd = listen_socket(h);
	if (listen_fd >= 0)
		drop_new_connections(listen_fd);
	wait_quiet(h, QUIET_WAIT_MS);
	if (listen_fd >= 0)
		shutdown(listen_fd, SHUT_RD);
	wait_quiet(h, QUIET_WAIT_MS / 2);
	MHD_stop_daemon(h->d);
	cache_free(h->cache);
	conns_free(h->conns);
	free(h);
}
