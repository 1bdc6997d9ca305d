/*
 * pg_commits.c: the reference for the PostgreSQL write benchmark of bench/run (part pg). Bare
 * durable PostgreSQL commits: CLIENTS threads, each with its own libpq connection, each looping
 * a one-row INSERT in autocommit (a single statement outside BEGIN is its own transaction, so
 * each call is one INSERT + COMMIT, acknowledged after the commit; synchronous_commit as the
 * server has it, on by default) for SECONDS. Prints, on stdout:
 *
 *   commits_per_s N     commits acknowledged / the time the clients ran
 *   p50_ms X, p99_ms X, max_ms X   latency of one commit, as a client sees it
 *   clients N, commits N, seconds X, synchronous_commit on, fsync on
 *
 *   cc -O2 -pthread -o pg_commits bench/pg_commits.c $(pkg-config --cflags --libs libpq)
 *   ./pg_commits URI [CLIENTS] [SECONDS]       (defaults: 16 clients, 5 s)
 *
 * The table is pg_commits (id bigserial, v bigint, s text), created when missing: give it a
 * database of its own. It is what a server that answers each write after its own commit, one
 * per client, cannot beat; a group commit of several clients' writes can come near or pass it.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#define MAX_CLIENTS 256

struct client {
	pthread_t tid;
	PGconn *conn;
	double *lat;  /* seconds, one per commit */
	size_t n, cap;
	int failed;
};

static double seconds = 5;
static double start_at, end_at;
static pthread_mutex_t gate_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cv = PTHREAD_COND_INITIALIZER;
static int gate_open;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int ok_command(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);
	int ok = PQresultStatus(r) == PGRES_COMMAND_OK;

	if (!ok)
		fprintf(stderr, "pg_commits: %s: %s", sql, PQerrorMessage(c));
	PQclear(r);
	return ok;
}

static void show(PGconn *c, const char *name)
{
	char sql[64];
	PGresult *r;

	snprintf(sql, sizeof(sql), "SHOW %s", name);
	r = PQexec(c, sql);
	printf("%s %s\n", name, PQresultStatus(r) == PGRES_TUPLES_OK ? PQgetvalue(r, 0, 0) : "?");
	PQclear(r);
}

static void *run(void *arg)
{
	struct client *cl = arg;
	char v[32];
	const char *params[1] = { v };
	long i = 0;
	double t0, t1;

	pthread_mutex_lock(&gate_mu);
	while (!gate_open)
		pthread_cond_wait(&gate_cv, &gate_mu);
	pthread_mutex_unlock(&gate_mu);
	for (t0 = now(); t0 < end_at; t0 = t1) {
		PGresult *r;

		snprintf(v, sizeof(v), "%ld", i++);
		r = PQexecPrepared(cl->conn, "ins", 1, params, NULL, NULL, 0);
		t1 = now();
		if (PQresultStatus(r) != PGRES_COMMAND_OK) {
			fprintf(stderr, "pg_commits: insert: %s", PQerrorMessage(cl->conn));
			PQclear(r);
			cl->failed = 1;
			return NULL;
		}
		PQclear(r);
		if (cl->n == cl->cap) {
			size_t cap = cl->cap ? cl->cap * 2 : 4096;
			double *p = realloc(cl->lat, cap * sizeof(*p));

			if (!p) {
				cl->failed = 1;
				return NULL;
			}
			cl->lat = p;
			cl->cap = cap;
		}
		cl->lat[cl->n++] = t1 - t0;
	}
	return NULL;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double pct(const double *v, size_t n, double p)
{
	size_t i;

	if (!n)
		return 0;
	i = (size_t)(p * (double)n);
	return v[i < n ? i : n - 1];
}

int main(int argc, char **argv)
{
	struct client cl[MAX_CLIENTS];
	int clients = 16, i, started = 0, rc = 1;
	PGconn *setup;
	double elapsed, *all = NULL;
	size_t total = 0, k = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: pg_commits URI [CLIENTS] [SECONDS]\n");
		return 2;
	}
	if (argc > 2)
		clients = (int)strtol(argv[2], NULL, 10);
	if (argc > 3)
		seconds = strtod(argv[3], NULL);
	if (clients < 1 || clients > MAX_CLIENTS) {
		fprintf(stderr, "pg_commits: CLIENTS must be 1 to %d\n", MAX_CLIENTS);
		return 2;
	}
	if (seconds <= 0 || seconds > 600)
		seconds = 5;
	memset(cl, 0, sizeof(cl));

	setup = PQconnectdb(argv[1]);
	if (PQstatus(setup) != CONNECTION_OK) {
		fprintf(stderr, "pg_commits: cannot connect: %s", PQerrorMessage(setup));
		PQfinish(setup);
		return 1;
	}
	if (!ok_command(setup, "SET client_min_messages = warning") ||
	    !ok_command(setup, "CREATE TABLE IF NOT EXISTS pg_commits "
			       "(id bigserial PRIMARY KEY, v bigint, s text)")) {
		PQfinish(setup);
		return 1;
	}
	for (i = 0; i < clients; i++) {
		PGresult *r;

		cl[i].conn = PQconnectdb(argv[1]);
		if (PQstatus(cl[i].conn) != CONNECTION_OK) {
			fprintf(stderr, "pg_commits: client %d cannot connect: %s", i,
				PQerrorMessage(cl[i].conn));
			goto out;
		}
		r = PQprepare(cl[i].conn, "ins",
			      "INSERT INTO pg_commits (v, s) VALUES ($1::bigint, 'evidence')", 1, NULL);
		if (PQresultStatus(r) != PGRES_COMMAND_OK) {
			fprintf(stderr, "pg_commits: prepare: %s", PQerrorMessage(cl[i].conn));
			PQclear(r);
			goto out;
		}
		PQclear(r);
	}
	for (i = 0; i < clients; i++) {
		if (pthread_create(&cl[i].tid, NULL, run, &cl[i])) {
			fprintf(stderr, "pg_commits: cannot start a thread\n");
			break;
		}
		started++;
	}
	pthread_mutex_lock(&gate_mu);
	start_at = now();
	end_at = start_at + seconds;
	gate_open = 1;
	pthread_cond_broadcast(&gate_cv);
	pthread_mutex_unlock(&gate_mu);
	for (i = 0; i < started; i++)
		pthread_join(cl[i].tid, NULL);
	/* The last commit of each client ends after end_at: the time is until the last one. */
	elapsed = now() - start_at;
	if (started < clients)
		goto out;
	for (i = 0; i < clients; i++) {
		if (cl[i].failed)
			goto out;
		total += cl[i].n;
	}
	all = malloc((total ? total : 1) * sizeof(*all));
	if (!all)
		goto out;
	for (i = 0; i < clients; i++) {
		memcpy(all + k, cl[i].lat, cl[i].n * sizeof(*all));
		k += cl[i].n;
	}
	qsort(all, total, sizeof(*all), cmp_double);
	printf("commits_per_s %.0f\n", (double)total / elapsed);
	printf("p50_ms %.3f\n", pct(all, total, 0.50) * 1000);
	printf("p99_ms %.3f\n", pct(all, total, 0.99) * 1000);
	printf("max_ms %.3f\n", total ? all[total - 1] * 1000 : 0);
	printf("clients %d\ncommits %zu\nseconds %.2f\n", clients, total, elapsed);
	show(setup, "synchronous_commit");
	show(setup, "fsync");
	rc = 0;
out:
	free(all);
	for (i = 0; i < clients; i++) {
		free(cl[i].lat);
		if (cl[i].conn)
			PQfinish(cl[i].conn);
	}
	PQfinish(setup);
	return rc;
}
