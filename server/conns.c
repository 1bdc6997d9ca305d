/*
 * conns.c: see conns.h for the rules. Connections are closed with shutdown(2), never
 * close(2): the descriptor stays the library's, which sees the connection end and closes it
 * itself, after calling conns_close under the lock, so a descriptor is never shut down after
 * it was reused.
 *
 * Finding the connection to close scans the list, which happens only at a limit, so the hot
 * path (a request's state changes) is a few atomic stores and takes no lock.
 */
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "server/conns.h"
#include "util/clock.h"

#define ADDR_BUCKETS 1024
#define REAPER_MS 250

/* In the order connections are closed to make room: idle ones that never sent a request
 * (held sockets), idle ones between requests (a client's kept-alive connection), ones whose
 * request is arriving; never one being answered. */
enum conn_state { CONN_FRESH, CONN_IDLE, CONN_ARRIVING, CONN_BUSY };

struct addr_count {
	unsigned char addr[16];  /* IPv4 in the first 4 bytes, or IPv6 */
	int len;
	int n;
	struct addr_count *next;
};

struct conn {
	int fd;
	_Atomic int state;            /* enum conn_state */
	_Atomic int64_t since_us;     /* when it was opened or last answered: idle since */
	int shut;                     /* shut down by us; closing */
	struct addr_count *addr;
	struct conn *prev, *next;
};

struct conns {
	pthread_mutex_t mu;          /* guards the list, counts and table */
	struct conn *list;
	int live;                    /* open and not shut down by us */
	int max, max_per_address;
	int64_t timeout_ms;
	struct addr_count *addrs[ADDR_BUCKETS];
	pthread_t reaper;
	int reaper_running;
	_Atomic int stop;
	_Atomic uint64_t evicted, refused, timed_out;
};

static void addr_key(const struct sockaddr *sa, unsigned char out[16], int *len)
{
	memset(out, 0, 16);
	*len = 0;
	if (sa && sa->sa_family == AF_INET) {
		memcpy(out, &((const struct sockaddr_in *)sa)->sin_addr, 4);
		*len = 4;
	} else if (sa && sa->sa_family == AF_INET6) {
		memcpy(out, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
		*len = 16;
	}
}

static unsigned addr_bucket(const unsigned char *a, int len)
{
	unsigned h = 2166136261u;
	int i;

	for (i = 0; i < len; i++)
		h = (h ^ a[i]) * 16777619u;
	return h % ADDR_BUCKETS;
}

/* The address's count, created at zero when absent. Lock held. NULL when out of memory. */
static struct addr_count *addr_get(struct conns *cs, const struct sockaddr *sa)
{
	unsigned char key[16];
	struct addr_count *a;
	unsigned b;
	int len;

	addr_key(sa, key, &len);
	b = addr_bucket(key, len);
	for (a = cs->addrs[b]; a; a = a->next)
		if (a->len == len && !memcmp(a->addr, key, 16))
			return a;
	a = calloc(1, sizeof(*a));
	if (!a)
		return NULL;
	memcpy(a->addr, key, 16);
	a->len = len;
	a->next = cs->addrs[b];
	cs->addrs[b] = a;
	return a;
}

static void addr_put(struct conns *cs, struct addr_count *a)
{
	struct addr_count **p;

	if (!a || --a->n > 0)
		return;
	for (p = &cs->addrs[addr_bucket(a->addr, a->len)]; *p; p = &(*p)->next) {
		if (*p == a) {
			*p = a->next;
			free(a);
			return;
		}
	}
}

static void shut(struct conns *cs, struct conn *c)
{
	shutdown(c->fd, SHUT_RDWR);
	c->shut = 1;
	cs->live--;
}

/* What is waiting on a connection's socket, looked at without taking anything from the
 * library's socket: the client's end of stream alone (it has gone), bytes (a request is
 * arriving, though the library may not have read its first line yet), or nothing. */
enum waiting { WAITING_NOTHING, WAITING_BYTES, WAITING_EOF };

static enum waiting waiting_on(int fd)
{
	char b;
	ssize_t n = recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);

	return n == 0 ? WAITING_EOF : n > 0 ? WAITING_BYTES : WAITING_NOTHING;
}

/*
 * The connection to close for a newcomer: among those of address a (or all, a NULL), by enum
 * conn_state's order, and the one idle the longest within it. Only that one's socket is looked
 * at (one system call, not one per connection, so that a flood of newcomers costs little):
 * if its client has gone it is closed all the more; if bytes wait there it counts as arriving
 * (its request was sent, and the library has not read it yet: under a flood of new connections
 * that can take longer than it takes hundreds of newer ones to arrive, and the request would
 * be lost), and the choice is made again. Lock held. NULL when every one is being answered.
 */
static struct conn *victim(struct conns *cs, const struct addr_count *a)
{
	int tries;

	/* Bounded: the library may make a connection idle again meanwhile. */
	for (tries = 0; tries < 64; tries++) {
		struct conn *c, *best = NULL;
		int best_state = CONN_BUSY;
		int64_t best_since = 0;

		for (c = cs->list; c; c = c->next) {
			int st = atomic_load(&c->state);
			int64_t since = atomic_load(&c->since_us);

			if (c->shut || st >= CONN_ARRIVING || (a && c->addr != a))
				continue;
			/* The list runs newest first: on a tie the later one, the older, wins. */
			if (!best || st < best_state || (st == best_state && since <= best_since)) {
				best = c;
				best_state = st;
				best_since = since;
			}
		}
		if (!best)
			break;
		if (waiting_on(best->fd) != WAITING_BYTES)
			return best;
		/* Unless the library got there first (then the state is arriving or busy already):
		 * it sets the state again when it reads the request line; if that never comes
		 * whole, the reaper closes the connection at its timeout. */
		atomic_compare_exchange_strong(&best->state, &best_state, CONN_ARRIVING);
	}
	/* None idle: one whose request is arriving, the longest-waiting. */
	{
		struct conn *c, *best = NULL;
		int64_t best_since = 0;

		for (c = cs->list; c; c = c->next) {
			int64_t since = atomic_load(&c->since_us);

			if (c->shut || atomic_load(&c->state) != CONN_ARRIVING || (a && c->addr != a))
				continue;
			if (!best || since <= best_since) {
				best = c;
				best_since = since;
			}
		}
		return best;
	}
}

struct conn *conns_open(struct conns *cs, int fd, const struct sockaddr *addr)
{
	struct conn *c = calloc(1, sizeof(*c)), *v;
	int refuse = 0;

	if (!c) {
		shutdown(fd, SHUT_RDWR);
		return NULL;
	}
	c->fd = fd;
	atomic_init(&c->state, CONN_FRESH);
	atomic_init(&c->since_us, clock_mono_us());
	pthread_mutex_lock(&cs->mu);
	c->addr = addr_get(cs, addr);
	if (!c->addr) {
		refuse = 1;
	} else if (cs->max_per_address > 0 && c->addr->n >= cs->max_per_address) {
		v = victim(cs, c->addr);
		if (v) {
			shut(cs, v);
			atomic_fetch_add(&cs->evicted, 1);
		} else {
			refuse = 1;
		}
	}
	if (!refuse && cs->live >= cs->max) {
		v = victim(cs, NULL);
		if (v) {
			shut(cs, v);
			atomic_fetch_add(&cs->evicted, 1);
		} else {
			refuse = 1;
		}
	}
	if (refuse) {
		if (c->addr && c->addr->n == 0)
			addr_put(cs, c->addr), c->addr = NULL;
		pthread_mutex_unlock(&cs->mu);
		atomic_fetch_add(&cs->refused, 1);
		shutdown(fd, SHUT_RDWR);
		free(c);
		return NULL;
	}
	c->addr->n++;
	cs->live++;
	c->next = cs->list;
	if (cs->list)
		cs->list->prev = c;
	cs->list = c;
	pthread_mutex_unlock(&cs->mu);
	return c;
}

void conns_close(struct conns *cs, struct conn *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&cs->mu);
	if (c->prev)
		c->prev->next = c->next;
	else
		cs->list = c->next;
	if (c->next)
		c->next->prev = c->prev;
	if (!c->shut)
		cs->live--;
	addr_put(cs, c->addr);
	pthread_mutex_unlock(&cs->mu);
	free(c);
}

void conns_arriving(struct conn *c)
{
	if (c)
		atomic_store(&c->state, CONN_ARRIVING);
}

void conns_busy(struct conn *c)
{
	if (c)
		atomic_store(&c->state, CONN_BUSY);
}

void conns_idle(struct conn *c)
{
	if (!c)
		return;
	atomic_store(&c->since_us, clock_mono_us());
	atomic_store(&c->state, CONN_IDLE);
}

int conns_quiet(struct conns *cs, int64_t quiet_ms)
{
	int64_t now = clock_mono_us();
	struct conn *c;
	int quiet = 1, unread;

	pthread_mutex_lock(&cs->mu);
	for (c = cs->list; c && quiet; c = c->next) {
		if (c->shut)
			continue;
		if (atomic_load(&c->state) > CONN_IDLE ||
		    now - atomic_load(&c->since_us) < quiet_ms * 1000 ||
		    (ioctl(c->fd, FIONREAD, &unread) == 0 && unread > 0))
			quiet = 0;
	}
	pthread_mutex_unlock(&cs->mu);
	return quiet;
}

/* Closes the connections whose request did not arrive whole in time. */
static void *reaper_main(void *arg)
{
	struct conns *cs = arg;

	while (!atomic_load(&cs->stop)) {
		int64_t now;
		struct conn *c;

		usleep(REAPER_MS * 1000);
		now = clock_mono_us();
		pthread_mutex_lock(&cs->mu);
		for (c = cs->list; c; c = c->next) {
			if (c->shut || atomic_load(&c->state) == CONN_BUSY)
				continue;
			/* Idle or arriving, the clock runs from the connection's last answer (or its
			 * opening): the whole request must come within the timeout. */
			if (now - atomic_load(&c->since_us) > cs->timeout_ms * 1000) {
				shut(cs, c);
				atomic_fetch_add(&cs->timed_out, 1);
			}
		}
		pthread_mutex_unlock(&cs->mu);
	}
	return NULL;
}

struct conns *conns_new(int max, int max_per_address, int64_t timeout_ms)
{
	struct conns *cs = calloc(1, sizeof(*cs));

	if (!cs)
		return NULL;
	pthread_mutex_init(&cs->mu, NULL);
	cs->max = max;
	cs->max_per_address = max_per_address;
	cs->timeout_ms = timeout_ms;
	atomic_init(&cs->stop, 0);
	if (pthread_create(&cs->reaper, NULL, reaper_main, cs) == 0)
		cs->reaper_running = 1;
	return cs;
}

void conns_free(struct conns *cs)
{
	struct conn *c, *next;
	size_t i;

	if (!cs)
		return;
	atomic_store(&cs->stop, 1);
	if (cs->reaper_running)
		pthread_join(cs->reaper, NULL);
	for (c = cs->list; c; c = next) {
		next = c->next;
		free(c);
	}
	for (i = 0; i < ADDR_BUCKETS; i++) {
		struct addr_count *a, *an;

		for (a = cs->addrs[i]; a; a = an) {
			an = a->next;
			free(a);
		}
	}
	pthread_mutex_destroy(&cs->mu);
	free(cs);
}

void conns_metrics(void *ctx, struct buf *out)
{
	struct conns *cs = ctx;
	int live;

	pthread_mutex_lock(&cs->mu);
	live = cs->live;
	pthread_mutex_unlock(&cs->mu);
	buf_putf(out,
		 "# HELP aijri_http_connections Open client connections.\n"
		 "# TYPE aijri_http_connections gauge\naijri_http_connections %d\n"
		 "# HELP aijri_http_connections_max The connection limit (--max-connections).\n"
		 "# TYPE aijri_http_connections_max gauge\naijri_http_connections_max %d\n"
		 "# HELP aijri_http_connections_closed_total Connections the server closed: to make "
		 "room for a new one (evicted: the longest idle first), refused (every one busy), or "
		 "timed out (a request not whole within --connection-timeout).\n"
		 "# TYPE aijri_http_connections_closed_total counter\n"
		 "aijri_http_connections_closed_total{reason=\"evicted\"} %llu\n"
		 "aijri_http_connections_closed_total{reason=\"refused\"} %llu\n"
		 "aijri_http_connections_closed_total{reason=\"timed_out\"} %llu\n",
		 live, cs->max, (unsigned long long)atomic_load(&cs->evicted),
		 (unsigned long long)atomic_load(&cs->refused),
		 (unsigned long long)atomic_load(&cs->timed_out));
}
