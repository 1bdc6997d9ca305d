/*
 * test_store_crash.c: an acknowledged write survives SIGKILL. A child process writes
 * revisions through store_write and reports each one to the parent only after store_write
 * returned 0; the parent kills it at a random moment, reopens the database and checks that
 * every reported revision is there, without gaps, and that the file is sound. Repeated on the
 * same file, so later rounds also recover from the WAL earlier rounds left behind.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "store/store.h"
#include "tests/unit/harness.h"
#include "util/crypto.h"

#define ROUNDS 25

static char tmpdir[64];
static char dbpath[128];

static int bump_job(struct store_tx *tx, void *p)
{
	struct store_role cur;
	struct store_role_write w;
	char role_json[128], score_json[128];
	int *written = p, rc;

	rc = store_tx_role_get(tx, "crash", &cur);
	memset(&w, 0, sizeof(w));
	w.revision = rc == RC_NOTFOUND ? 1 : cur.revision + 1;
	if (rc == RC_OK)
		store_role_release(&cur);
	else if (rc != RC_NOTFOUND)
		return rc;
	snprintf(role_json, sizeof(role_json), "{\"slug\":\"crash\",\"n\":%d}", w.revision);
	snprintf(score_json, sizeof(score_json), "{\"revision\":%d}", w.revision);
	w.slug = "crash";
	w.title = "Crash";
	w.role_json = role_json;
	w.score_json = score_json;
	w.score = w.revision % 100;
	w.zone = "red";
	w.label = "L";
	w.changed_json = "[]";
	rc = w.revision == 1 ? store_tx_role_create(tx, &w) : store_tx_role_update(tx, &w);
	if (!rc)
		*written = w.revision;
	return rc;
}

/* The child: writes until killed, acknowledging each durable revision on fd. */
static void child(int fd)
{
	struct store *s = NULL;
	char err[256];
	int rev;

	if (store_open(dbpath, &s, err, sizeof(err))) {
		fprintf(stderr, "child: %s\n", err);
		_exit(3);
	}
	for (;;) {
		rev = 0;
		if (store_write(s, bump_job, &rev))
			_exit(4);
		if (write(fd, &rev, sizeof(rev)) != (ssize_t)sizeof(rev))
			_exit(5);
	}
}

static void test_sigkill(void)
{
	struct store *s;
	struct store_role role;
	struct store_revision r;
	char err[256];
	unsigned int seed;
	int round, fds[2], acked, rev, n, i, missing, status, total_acked = 0;
	pid_t pid;

	crypto_random(&seed, sizeof(seed));
	srand(seed);
	for (round = 0; round < ROUNDS; round++) {
		if (pipe(fds)) {
			CHECK(0, "pipe");
			return;
		}
		pid = fork();
		if (pid == 0) {
			close(fds[0]);
			child(fds[1]);
		}
		close(fds[1]);
		/* 20 to 320 ms: some rounds die during open or the first write, most mid-stream. */
		usleep(20000 + (useconds_t)(rand() % 300) * 1000);
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
		      "round %d: child ended otherwise (status %d)", round, status);
		acked = 0;
		while ((n = (int)read(fds[0], &rev, sizeof(rev))) == (int)sizeof(rev))
			acked = rev > acked ? rev : acked;
		close(fds[0]);
		total_acked += acked;

		s = NULL;
		if (store_open(dbpath, &s, err, sizeof(err))) {
			CHECK(0, "round %d: reopen: %s", round, err);
			return;
		}
		CHECK(store_integrity_check(s, err, sizeof(err)) == 0, "round %d: %s", round, err);
		if (store_role_get(s, "crash", &role) == 0) {
			CHECK(role.revision >= acked, "round %d: revision %d < acknowledged %d", round,
			      role.revision, acked);
			missing = 0;
			for (i = 1; i <= role.revision; i++) {
				if (store_revision_get(s, "crash", i, &r)) {
					missing++;
					continue;
				}
				store_revision_release(&r);
			}
			CHECK(missing == 0, "round %d: %d revisions missing", round, missing);
			store_role_release(&role);
		} else {
			CHECK(acked == 0, "round %d: role missing but %d acknowledged", round, acked);
		}
		store_free(s);
	}
	CHECK(total_acked > 0, "no write was ever acknowledged");
	fprintf(stderr, "crash: %d rounds, seed %u, last acknowledged totals %d\n", ROUNDS, seed,
		total_acked);
}

static const struct harness_test tests[] = {
	{ "sigkill", test_sigkill },
	{ NULL, NULL },
};

int main(void)
{
	char cmd[128];
	int rc;

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/aijri-crash-XXXXXX");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(dbpath, sizeof(dbpath), "%s/crash.sqlite", tmpdir);
	rc = harness_main("store_crash", tests);
	if (!rc) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
		if (system(cmd))
			fprintf(stderr, "could not remove %s\n", tmpdir);
	} else {
		fprintf(stderr, "database kept in %s\n", tmpdir);
	}
	return rc;
}
