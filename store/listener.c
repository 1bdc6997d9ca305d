/*
 * listener.c: what one instance learns of the others' commits (PostgreSQL), and the count of
 * changes an instance has taken in (both engines).
 *
 * Every batch that changed something adds one to the database's count (the one row of
 * `changes`, 0010_changes.sql) just before it commits, and announces it with a notification
 * on the channel aijri_changes: "INSTANCE N EVENTS IDS", IDS the touched roles' ids joined
 * with commas, or "*" for "any role". The row's lock makes the count follow commit order, and
 * PostgreSQL delivers notifications after commit in commit order; so an instance that has
 * taken in N has taken in every commit up to the one that made N.
 *
 * The listener thread holds a connection of its own, LISTENs, and for each notification of
 * another instance marks the roles in the catalog, drops the response cache (the writer's
 * commit hook) and wakes the dispatcher when events were added; then the count taken in
 * (store_changes_seen) moves to N. A connection lost means notifications missed: once it is
 * back, everything is taken as changed, and the count is read again from the database.
 *
 * SQLite: one process owns the database; the writer counts its own commits in memory, and no
 * listener runs.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/store_int.h"
#include "util/crypto.h"

#define CHANNEL "aijri_changes"
/* Under PostgreSQL's 8000-byte limit: past it, "*". */
#define PAYLOAD_MAX 7900
/* How long the listener waits for the database between tries while it is unreachable. */
#define RETRY_MS 250

struct listener {
	struct store *s;
	pthread_t thread;
	int stop_fd[2]; /* the read end wakes the thread's poll when stop writes to it */
	struct db_conn *c;
	int resync;     /* read the count again (a first connection, or one come back) */
};

/* ---------------------------------------------------------------------------------------
 * The writer's side
 */

static void seen_raise(struct store *s, int64_t n)
{
	int64_t cur = atomic_load(&s->changes_seen);

	while (n > cur && !atomic_compare_exchange_weak(&s->changes_seen, &cur, n))
		;
}

enum rc changes_announce(struct store *s, struct db_conn *c, const int64_t *ids, size_t n,
			 int all, int events)
{
	char payload[PAYLOAD_MAX + 32];
	struct db_stmt *st;
	int64_t count;
	size_t head, len, i;
	enum rc rc;
	int k;

	if (db_sqlite_handle(c))
		return RC_OK; /* counted after the commit, by changes_committed */
	rc = db_prepare(c, "UPDATE changes SET n = n + 1 WHERE id = 1 RETURNING n", &st);
	if (!rc)
		rc = db_one_int64(st, &count);
	if (rc)
		return rc == RC_NOTFOUND ? RC_IO : rc;
	k = snprintf(payload, sizeof(payload), "%s %" PRId64 " %d ", s->instance, count,
		     events ? 1 : 0);
	head = len = (size_t)k;
	for (i = 0; i < n && !all; i++) {
		len += (size_t)snprintf(payload + len, sizeof(payload) - len, "%s%" PRId64,
					i ? "," : "", ids[i]);
		all = len > PAYLOAD_MAX;
	}
	if (all || !n)
		snprintf(payload + head, sizeof(payload) - head, "*");
	return db_notify(c, CHANNEL, payload);
}

void changes_committed(struct store *s, struct db_conn *c)
{
	if (db_sqlite_handle(c))
		atomic_fetch_add(&s->changes_seen, 1);
}

int64_t store_changes_seen(struct store *s)
{
	return atomic_load(&s->changes_seen);
}

/* ---------------------------------------------------------------------------------------
 * The listener thread
 */

/* The roles of IDS into the catalog, or all of them. */
static void touch_ids(struct store *s, const char *ids)
{
	int64_t batch[256];
	size_t n = 0;
	char *end;

	if (!strcmp(ids, "*")) {
		catalog_touched(s->cat, NULL, 0, 1);
		return;
	}
	while (*ids) {
		errno = 0;
		batch[n++] = strtoll(ids, &end, 10);
		if (errno || end == ids || (*end && *end != ',')) {
			catalog_touched(s->cat, NULL, 0, 1);
			return;
		}
		ids = *end ? end + 1 : end;
		if (n == sizeof(batch) / sizeof(batch[0])) {
			catalog_touched(s->cat, batch, n, 0);
			n = 0;
		}
	}
	catalog_touched(s->cat, batch, n, 0);
}

/* Everything may have changed: the connection was lost, or this is the first one. */
static enum rc resync(struct listener *l)
{
	struct db_stmt *st;
	int64_t n = 0;
	enum rc rc;

	catalog_touched(l->s->cat, NULL, 0, 1);
	writer_commit_hook(l->s->writer);
	store_outbox_kick(l->s);
	rc = db_prepare(l->c, "SELECT n FROM changes WHERE id = 1", &st);
	if (!rc)
		rc = db_one_int64(st, &n);
	if (rc)
		return rc;
	seen_raise(l->s, n);
	l->resync = 0;
	return RC_OK;
}

static enum rc on_notice(void *ctx, const char *channel, const char *payload)
{
	struct listener *l = ctx;
	char instance[sizeof(l->s->instance)];
	int64_t n;
	int events, used = 0;

	if (!channel) {
		l->resync = 1;
		return RC_OK;
	}
	if (strcmp(channel, CHANNEL))
		return RC_OK;
	if (sscanf(payload, "%16s %" SCNd64 " %d %n", instance, &n, &events, &used) != 3 || !used) {
		fprintf(stderr, "aijri: store: listener: a notification it cannot read\n");
		l->resync = 1;
		return RC_OK;
	}
	/* This instance's own commits were taken in by its writer before it answered. */
	if (strcmp(instance, l->s->instance)) {
		touch_ids(l->s, payload + used);
		writer_commit_hook(l->s->writer);
		if (events)
			store_outbox_kick(l->s);
	}
	seen_raise(l->s, n);
	return RC_OK;
}

/* Waits up to ms for the connection's socket (fd, -1 for none) or for stop. 1 when stopping. */
static int wait_for(struct listener *l, int fd, int ms)
{
	struct pollfd p[2] = { { l->stop_fd[0], POLLIN, 0 }, { fd, POLLIN, 0 } };

	if (poll(p, fd >= 0 ? 2 : 1, ms) < 0 && errno != EINTR)
		return 0;
	return (p[0].revents & POLLIN) != 0;
}

static enum rc connect_listen(struct listener *l)
{
	char err[256];
	enum rc rc;

	rc = db_conn_open(l->s->db, DB_READ, &l->c, err, sizeof(err));
	if (rc)
		return rc;
	rc = db_listen(l->c, CHANNEL);
	if (rc) {
		db_conn_free(l->c);
		l->c = NULL;
		return rc;
	}
	l->resync = 1;
	return RC_OK;
}

static void *listener_main(void *arg)
{
	struct listener *l = arg;
	enum rc rc;
	int fd = l->c ? db_conn_fd(l->c) : -1;

	pthread_setname_np(pthread_self(), "aijri-listener");
	for (;;) {
		if (wait_for(l, fd, fd >= 0 ? 1000 : RETRY_MS))
			break;
		if (!l->c && connect_listen(l))
			continue;
		rc = db_notifications(l->c, on_notice, l);
		if (!rc && l->resync)
			rc = resync(l);
		fd = rc ? -1 : db_conn_fd(l->c);
	}
	db_conn_free(l->c);
	return NULL;
}

enum rc listener_start(struct store *s, struct listener **out, char *err, size_t errlen)
{
	struct listener *l;

	*out = NULL;
	l = calloc(1, sizeof(*l));
	if (!l) {
		snprintf(err, errlen, "out of memory");
		return RC_NOMEM;
	}
	l->s = s;
	/* Listening before the server answers anything: the first resync (which drops what the
	 * instance holds) then comes before anything is held, not after the first answers were
	 * cached. If the database cannot be reached now, the thread keeps trying. */
	if (!connect_listen(l) && resync(l))
		l->resync = 1;
	if (pipe2(l->stop_fd, O_CLOEXEC)) {
		db_conn_free(l->c);
		free(l);
		snprintf(err, errlen, "cannot make a pipe: %s", strerror(errno));
		return RC_IO;
	}
	if (pthread_create(&l->thread, NULL, listener_main, l)) {
		close(l->stop_fd[0]);
		close(l->stop_fd[1]);
		db_conn_free(l->c);
		free(l);
		snprintf(err, errlen, "cannot start the listener thread");
		return RC_IO;
	}
	*out = l;
	return RC_OK;
}

void listener_stop(struct listener *l)
{
	if (!l)
		return;
	if (write(l->stop_fd[1], "x", 1) < 0)
		fprintf(stderr, "aijri: store: listener: %s\n", strerror(errno));
	pthread_join(l->thread, NULL);
	close(l->stop_fd[0]);
	close(l->stop_fd[1]);
	free(l);
}

void store_instance_init(struct store *s)
{
	unsigned char r[8];
	size_t i;

	if (crypto_random(r, sizeof(r))) {
		uint64_t t = (uint64_t)clock_now_ms() ^ (uint64_t)getpid() << 32;

		memcpy(r, &t, sizeof(r));
	}
	for (i = 0; i < sizeof(r); i++)
		snprintf(s->instance + 2 * i, 3, "%02x", r[i]);
}
