/*
 * cmd_ops.c: the operator's commands on a database file.
 *
 *   aijri backup PATH [--force] [--db DB]   online, consistent copy (safe while serving)
 *   aijri restore PATH [--db DB]            replace the database by a backup (never in use)
 *   aijri export [FILE|-] [--db DB]         every live role body, one JSON line each
 *   aijri import FILE|- [--db DB]           load role bodies, all or nothing
 *
 * What this file must never do: leave a half-written file where the operator asked for one
 * (every output is written beside its target and renamed into place), or touch a database
 * another process has open (restore and import take the database file's locks first,
 * store_file_lock, so a running server and these commands cannot both hold the file).
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "body/assessment.h"
#include "server/commands.h"
#include "server/config.h"
#include "revise/revise.h"
#include "server/import_lines.h"
#include "store/store.h"
#include "util/buf.h"
#include "util/file.h"

#define PATH_LEN 4096

/* ---------------------------------------------------------------------------------------
 * Files
 */

static int exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

static int fsync_path(const char *path)
{
	int fd = open(path, O_RDONLY), rc;

	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

/* Creates a new empty file "<target><tag>XXXXXX" beside target (same file system, so that it
 * can be renamed over target); its name goes to out. Returns the open fd or -1. */
static int temp_beside(const char *target, const char *tag, char *out, size_t outlen)
{
	char suffix[64];

	snprintf(suffix, sizeof(suffix), "%sXXXXXX", tag);
	if (file_path_join(out, outlen, target, suffix)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return mkstemp(out);
}

/* ---------------------------------------------------------------------------------------
 * backup
 */

static void backup_usage(void)
{
	fprintf(stderr, "usage: aijri backup PATH [--force] [--db DB]\n"
			"  an online, consistent copy of DB (safe while the server runs);\n"
			"  an existing PATH is replaced only with --force\n");
}

int cmd_backup(int argc, char **argv)
{
	struct store *s = NULL;
	char db[PATH_LEN], tmp[PATH_LEN] = "", err[512];
	const char *path = NULL;
	int i, force = 0, fd = -1, ret = 1, rc;

	argc = config_db_arg(argc, argv, db, sizeof(db));
	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--force")) {
			force = 1;
		} else if (argv[i][0] == '-' || path) {
			backup_usage();
			return 2;
		} else {
			path = argv[i];
		}
	}
	if (!path) {
		backup_usage();
		return 2;
	}
	if (store_db_is_server(db)) {
		fprintf(stderr, "aijri: backup: a PostgreSQL database is backed up with its own tool, "
				"pg_dump (pg_dump -Fc -f FILE 'URI'), and restored with pg_restore; "
				"aijri backup copies an SQLite database\n");
		return 2;
	}
	/* store_open would create an empty database: a typo in --db must not back that up. */
	if (!exists(db)) {
		fprintf(stderr, "aijri: backup: no database at %s\n", db);
		return 1;
	}
	if (!force && exists(path)) {
		fprintf(stderr, "aijri: backup: %s exists; use --force to replace it\n", path);
		return 1;
	}
	fd = temp_beside(path, ".tmp-", tmp, sizeof(tmp));
	if (fd < 0) {
		fprintf(stderr, "aijri: backup: cannot create a file beside %s: %s\n", path,
			strerror(errno));
		tmp[0] = '\0';
		goto out;
	}
	close(fd);
	rc = store_open(db, &s, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "aijri: backup: %s\n", err);
		goto out;
	}
	rc = store_backup(s, tmp, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "aijri: backup: %s\n", err);
		goto out;
	}
	if (fsync_path(tmp)) {
		fprintf(stderr, "aijri: backup: %s: %s\n", tmp, strerror(errno));
		goto out;
	}
	/* link() refuses an existing name atomically: a PATH that appeared meanwhile is kept. */
	if (force ? rename(tmp, path) : link(tmp, path)) {
		fprintf(stderr, "aijri: backup: cannot write %s: %s\n", path, strerror(errno));
		goto out;
	}
	if (!force)
		unlink(tmp);
	tmp[0] = '\0';
	file_fsync_dir_of(path);
	fprintf(stderr, "aijri: backup of %s written to %s (schema version %d)\n", db, path,
		store_schema_version(s));
	ret = 0;
out:
	if (tmp[0])
		unlink(tmp);
	store_free(s);
	return ret;
}

/* ---------------------------------------------------------------------------------------
 * restore
 */

static void restore_usage(void)
{
	fprintf(stderr, "usage: aijri restore PATH [--db DB]\n"
			"  replaces DB by the backup PATH; refused while DB is in use\n");
}

int cmd_restore(int argc, char **argv)
{
	struct store_restored done;
	char db[PATH_LEN], err[3 * PATH_LEN]; /* room for the two paths a message may name */

	argc = config_db_arg(argc, argv, db, sizeof(db));
	if (argc != 1 || argv[0][0] == '-') {
		restore_usage();
		return 2;
	}
	if (store_db_is_server(db)) {
		fprintf(stderr, "aijri: restore: a PostgreSQL database is restored with its own tool, "
				"pg_restore (pg_restore --clean -d 'URI' FILE), from a pg_dump; aijri "
				"restore replaces an SQLite database\n");
		return 2;
	}
	if (store_restore(argv[0], db, &done, err, sizeof(err))) {
		fprintf(stderr, "aijri: restore: %s\n", err);
		return 1;
	}
	fprintf(stderr, "aijri: restored %s from %s (schema version %d, %d roles, integrity ok)\n",
		db, argv[0], done.version, done.roles);
	return 0;
}

/* ---------------------------------------------------------------------------------------
 * export
 */

struct export_ctx {
	FILE *f;
	int n;
};

static int export_row(void *ctx, const struct store_role *r)
{
	struct export_ctx *c = ctx;

	/* role_json is the normalized body, compact and on one line: what import and POST
	 * /roles take as they are. */
	if (fputs(r->role_json, c->f) == EOF || fputc('\n', c->f) == EOF)
		return RC_IO;
	c->n++;
	return 0;
}

int cmd_export(int argc, char **argv)
{
	struct export_ctx c = { NULL, 0 };
	struct store *s = NULL;
	char db[PATH_LEN], tmp[PATH_LEN] = "", err[512];
	const char *file = NULL;
	int fd, ret = 1, rc;

	argc = config_db_arg(argc, argv, db, sizeof(db));
	if (argc > 1 || (argc == 1 && argv[0][0] == '-' && argv[0][1])) {
		fprintf(stderr, "usage: aijri export [FILE|-] [--db DB]\n");
		return 2;
	}
	if (argc == 1 && strcmp(argv[0], "-"))
		file = argv[0];
	if (!store_db_is_server(db) && !exists(db)) {
		fprintf(stderr, "aijri: export: no database at %s\n", db);
		return 1;
	}
	rc = store_open(db, &s, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "aijri: export: %s\n", err);
		ret = config_db_exit(rc);
		goto out;
	}
	if (file) {
		fd = temp_beside(file, ".tmp-", tmp, sizeof(tmp));
		c.f = fd < 0 ? NULL : fdopen(fd, "w");
		if (!c.f) {
			fprintf(stderr, "aijri: export: cannot create a file beside %s: %s\n", file,
				strerror(errno));
			if (fd >= 0)
				close(fd);
			else
				tmp[0] = '\0';
			goto out;
		}
	} else {
		c.f = stdout;
	}
	rc = store_roles_each(s, export_row, &c);
	if (rc || fflush(c.f) || ferror(c.f) || (file && fsync(fileno(c.f)))) {
		fprintf(stderr, "aijri: export: %s\n", rc ? rc_str(rc) : strerror(errno));
		goto out;
	}
	if (file) {
		rc = fclose(c.f);
		c.f = NULL;
		if (rc || rename(tmp, file)) {
			fprintf(stderr, "aijri: export: cannot write %s: %s\n", file, strerror(errno));
			goto out;
		}
		tmp[0] = '\0';
		file_fsync_dir_of(file);
	}
	fprintf(stderr, "aijri: exported %d roles\n", c.n);
	ret = 0;
out:
	if (c.f && c.f != stdout)
		fclose(c.f);
	if (tmp[0])
		unlink(tmp);
	store_free(s);
	return ret;
}

/* ---------------------------------------------------------------------------------------
 * import
 */

/* revise_import's source: the records as the reading thread parses them. */
static enum rc next_record(void *ctx, size_t i, json_t **out)
{
	struct import_records *r = ctx;

	/* The import asks for the records in order, and never again for one it has written. */
	import_records_done(r, i);
	*out = import_record(r, i);
	if (*out)
		return RC_OK;
	/* The end: a good one, or reading stopped (the import then writes nothing). */
	pthread_mutex_lock(&r->mu);
	i = r->ret ? 1 : 0;
	pthread_mutex_unlock(&r->mu);
	return i ? RC_IO : RC_OK;
}

/* What an import that wrote nothing says, and its exit status: a bad record before the
 * line that stopped the reading comes first, then that line, then a slug taken. */
static int import_failed(const char *name, struct import_records *recs, int read_ret, enum rc rc,
			 size_t bad, const struct scoring_errors *errs)
{
	if (rc == RC_INVALID || (rc == RC_CONFLICT && !read_ret)) {
		import_report_bad(name, recs->line[bad], errs);
		return 2;
	}
	if (read_ret == 2) {
		fprintf(stderr, "aijri: import: %s; nothing was imported\n", recs->why);
		return 2;
	}
	if (!read_ret)
		fprintf(stderr, "aijri: import: %s: nothing was imported: %s\n", name, rc_str(rc));
	return 1;
}

int cmd_import(int argc, char **argv)
{
	struct import_records recs;
	struct scoring_errors errs;
	struct store_file_lock lock = { -1, -1 };
	struct store *s = NULL;
	char db[PATH_LEN], err[512];
	const char *name;
	FILE *f = NULL;
	size_t bad = 0;
	int ret = 1, read_ret, rc;

	memset(&recs, 0, sizeof(recs));
	argc = config_db_arg(argc, argv, db, sizeof(db));
	if (argc != 1 || (argv[0][0] == '-' && argv[0][1])) {
		fprintf(stderr, "usage: aijri import FILE|- [--db DB]\n"
				"  one role body per line (as `aijri export` writes them)\n");
		return 2;
	}
	name = strcmp(argv[0], "-") ? argv[0] : "standard input";
	f = strcmp(argv[0], "-") ? fopen(argv[0], "r") : stdin;
	if (!f) {
		fprintf(stderr, "aijri: import: %s: %s\n", argv[0], strerror(errno));
		goto out;
	}
	/* A running server caches its answers and learns of writes only from its own commits: it
	 * would keep serving lists without the imported roles. Import into a stopped database,
	 * or POST the roles to the running server. */
	if (store_file_lock(db, &lock, err, sizeof(err))) {
		fprintf(stderr, "aijri: import: %s\n", err);
		goto out;
	}
	rc = store_open(db, &s, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "aijri: import: %s\n", err);
		ret = config_db_exit(rc);
		goto out;
	}
	/* The lines are parsed on a thread of their own while the writer creates the roles
	 * read before them. */
	if (import_read_start(f, name, &recs))
		goto out;
	rc = revise_import(s, next_record, &recs, &bad, &errs);
	read_ret = import_read_finish(&recs);
	if (rc || read_ret) {
		ret = import_failed(name, &recs, read_ret, rc, bad, &errs);
		goto out;
	}
	printf("imported %zu roles\n", recs.n);
	ret = 0;
out:
	store_free(s);
	store_file_unlock(&lock);
	if (f && f != stdin)
		fclose(f);
	import_records_release(&recs);
	return ret;
}
