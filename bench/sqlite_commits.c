/*
 * sqlite_commits.c: the reference for the write benchmark of bench/run. Bare durable SQLite
 * commits on the given file: WAL, synchronous=FULL, one small INSERT per transaction, in a
 * loop for the given seconds. Prints "commits_per_s N" on stdout.
 *
 *   cc -O2 -o sqlite_commits bench/sqlite_commits.c -lsqlite3
 *   ./sqlite_commits PATH [SECONDS]      (PATH is created; use a file on the disk under test)
 *   ./sqlite_commits --bulk PATH FILE    the reference of `aijri import`: every line of FILE
 *                                        as one row, in one transaction (WAL, FULL); prints
 *                                        "rows_per_s N", reading the file included
 *
 * It is what a server answering each write only after its own commit cannot beat with one
 * writer; the server's group commit can, so a ratio above 1 is possible.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int exec(sqlite3 *db, const char *sql)
{
	char *err = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
		fprintf(stderr, "sqlite_commits: %s: %s\n", sql, err ? err : "?");
		sqlite3_free(err);
		return 1;
	}
	return 0;
}

/* The bare load of an import's lines: one row each, one durable transaction. */
static int bulk(const char *path, const char *file)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *ins = NULL;
	FILE *f = NULL;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	double start;
	long n = 0;
	int rc = 1;

	start = now();
	f = fopen(file, "r");
	if (!f || sqlite3_open(path, &db) != SQLITE_OK) {
		fprintf(stderr, "sqlite_commits: cannot open %s or %s\n", file, path);
		goto out;
	}
	if (exec(db, "PRAGMA journal_mode=WAL") || exec(db, "PRAGMA synchronous=FULL") ||
	    exec(db, "CREATE TABLE IF NOT EXISTS roles (id INTEGER PRIMARY KEY, body TEXT)") ||
	    exec(db, "BEGIN IMMEDIATE"))
		goto out;
	if (sqlite3_prepare_v2(db, "INSERT INTO roles (body) VALUES (?1)", -1, &ins, NULL) != SQLITE_OK)
		goto out;
	while ((len = getline(&line, &cap, f)) > 0) {
		sqlite3_bind_text(ins, 1, line, (int)len, SQLITE_STATIC);
		if (sqlite3_step(ins) != SQLITE_DONE) {
			fprintf(stderr, "sqlite_commits: insert: %s\n", sqlite3_errmsg(db));
			goto out;
		}
		sqlite3_reset(ins);
		n++;
	}
	if (exec(db, "COMMIT"))
		goto out;
	printf("rows_per_s %.0f\n", (double)n / (now() - start));
	rc = 0;
out:
	free(line);
	if (f)
		fclose(f);
	sqlite3_finalize(ins);
	sqlite3_close(db);
	return rc;
}

int main(int argc, char **argv)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *ins = NULL;
	double seconds = 5, start, end;
	long n = 0;
	int rc = 1;

	if (argc == 4 && !strcmp(argv[1], "--bulk"))
		return bulk(argv[2], argv[3]);
	if (argc < 2) {
		fprintf(stderr, "usage: sqlite_commits PATH [SECONDS]\n");
		return 2;
	}
	if (argc > 2)
		seconds = strtod(argv[2], NULL);
	if (seconds <= 0 || seconds > 60)
		seconds = 5;
	if (sqlite3_open(argv[1], &db) != SQLITE_OK) {
		fprintf(stderr, "sqlite_commits: cannot open %s\n", argv[1]);
		goto out;
	}
	if (exec(db, "PRAGMA journal_mode=WAL") || exec(db, "PRAGMA synchronous=FULL") ||
	    exec(db, "CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v INTEGER, s TEXT)"))
		goto out;
	if (sqlite3_prepare_v2(db, "INSERT INTO t (v, s) VALUES (?1, 'evidence')", -1, &ins,
			       NULL) != SQLITE_OK)
		goto out;
	start = now();
	end = start + seconds;
	while (now() < end) {
		if (exec(db, "BEGIN IMMEDIATE"))
			goto out;
		sqlite3_bind_int64(ins, 1, n);
		if (sqlite3_step(ins) != SQLITE_DONE) {
			fprintf(stderr, "sqlite_commits: insert: %s\n", sqlite3_errmsg(db));
			goto out;
		}
		sqlite3_reset(ins);
		if (exec(db, "COMMIT"))
			goto out;
		n++;
	}
	printf("commits_per_s %.0f\n", (double)n / (now() - start));
	rc = 0;
out:
	sqlite3_finalize(ins);
	sqlite3_close(db);
	return rc;
}
