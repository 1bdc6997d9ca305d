/*
 * restore.c: the database file as a whole, for the operator's commands, which run while no
 * server has the database open: the file locks that tell whether one has, and the restore of
 * a backup. What SQLite does with its files stays in here: the header of the database file,
 * the locks a connection holds, the -wal and -shm files beside it.
 *
 * What must never happen: a half-written database where the operator had one (the restored
 * file is written beside it and renamed into place, durably), a backup changed by its
 * restore, or a restore under a process that has the database open.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/store_int.h"
#include "util/file.h"

#define PATH_LEN 4096

/* SQLite's file header: the magic string, and user_version (our schema version) as a
 * big-endian integer at offset 60. */
#define SQLITE_MAGIC "SQLite format 3"
#define HEADER_LEN 100
#define HEADER_USER_VERSION 60

/* ---------------------------------------------------------------------------------------
 * Files
 */

/* path + suffix names a file that exists, or is too long to tell (then: as if it did). */
static int exists_beside(const char *path, const char *suffix)
{
	char name[PATH_LEN];
	struct stat st;

	return file_path_join(name, sizeof(name), path, suffix) || stat(name, &st) == 0;
}

/* Copies the rest of from into to; 0, or -1 with errno. */
static int copy_fd(int from, int to)
{
	static char chunk[1 << 16];
	ssize_t n, w, off;

	for (;;) {
		n = read(from, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return (int)n;
		for (off = 0; off < n; off += w) {
			w = write(to, chunk + off, (size_t)(n - off));
			if (w < 0 && errno == EINTR)
				w = 0;
			else if (w < 0)
				return -1;
		}
	}
}

/* Gives the new file the old one's owner and mode, so that the service can still open it
 * when an administrator restores as root. */
static void keep_owner(int fd, const char *db)
{
	struct stat st;

	if (stat(db, &st))
		return;
	if (fchown(fd, st.st_uid, st.st_gid)) {
		/* Not root: the file is ours, as the old one presumably was. */
	}
	(void)fchmod(fd, st.st_mode & 07777);
}

/* ---------------------------------------------------------------------------------------
 * Is the database in use?
 *
 * A connection to a WAL database holds, for as long as it is open, a POSIX read lock on the
 * SQLite lock bytes of the database file and on the "DMS" byte of its -shm file (measured:
 * bytes 1073741826+510 of the .db and byte 128 of the .db-shm, for the whole life of an idle
 * connection). Taking a write lock on both whole files therefore succeeds only when no other
 * process has the database open, and while we hold it a server that starts gets SQLITE_BUSY
 * instead of reading a file that is being replaced. These are the same lock family SQLite
 * uses (fcntl, per process), which is why they see each other.
 */

/* Takes the write lock on an open file; returns 0, or the pid holding a conflicting lock
 * (-1 when it cannot be told). */
static int lock_whole(int fd)
{
	struct flock fl;

	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	if (fcntl(fd, F_SETLK, &fl) == 0)
		return 0;
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	if (fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK && fl.l_pid > 0)
		return fl.l_pid;
	return -1;
}

void store_file_unlock(struct store_file_lock *l)
{
	/* Closing the descriptors drops the locks. */
	if (l->db_fd >= 0)
		close(l->db_fd);
	if (l->shm_fd >= 0)
		close(l->shm_fd);
	l->db_fd = l->shm_fd = -1;
}

enum rc store_file_lock(const char *db, struct store_file_lock *l, char *err, size_t errlen)
{
	char shm[PATH_LEN];
	int pid = 0;
	enum rc rc = RC_IO;

	l->db_fd = l->shm_fd = -1;
	if (file_path_join(shm, sizeof(shm), db, "-shm")) {
		snprintf(err, errlen, "%s: path too long", db);
		return RC_TOOLARGE;
	}
	l->db_fd = open(db, O_RDWR | O_CLOEXEC);
	if (l->db_fd < 0 && errno != ENOENT) {
		snprintf(err, errlen, "%s: %s", db, strerror(errno));
		goto out;
	}
	l->shm_fd = open(shm, O_RDWR | O_CLOEXEC);
	if (l->shm_fd < 0 && errno != ENOENT) {
		snprintf(err, errlen, "%s: %s", shm, strerror(errno));
		goto out;
	}
	if (l->db_fd >= 0)
		pid = lock_whole(l->db_fd);
	if (!pid && l->shm_fd >= 0)
		pid = lock_whole(l->shm_fd);
	if (pid > 0)
		snprintf(err, errlen, "%s is in use by process %d (a running aijri serve?): stop it "
				      "first; nothing was changed", db, pid);
	else if (pid)
		snprintf(err, errlen, "%s is in use by another process: stop it first; nothing was "
				      "changed", db);
	rc = pid ? RC_BUSY : RC_OK;
out:
	if (rc)
		store_file_unlock(l);
	return rc;
}

/* ---------------------------------------------------------------------------------------
 * Restore
 */

/* The backup at path, open as fd, is a whole aijri database of a schema this binary knows:
 * read from its header, without opening it with SQLite, so that a backup from a newer aijri
 * is refused before anything could touch it. */
static enum rc backup_check(const char *path, int fd, char *err, size_t errlen)
{
	unsigned char h[HEADER_LEN];
	const unsigned char *v = h + HEADER_USER_VERSION;
	ssize_t n = pread(fd, h, sizeof(h), 0);
	int version;

	if (n != (ssize_t)sizeof(h) || memcmp(h, SQLITE_MAGIC, sizeof(SQLITE_MAGIC))) {
		snprintf(err, errlen, "%s is not an SQLite database", path);
		return RC_INVALID;
	}
	version = (int)((unsigned)v[0] << 24 | (unsigned)v[1] << 16 | (unsigned)v[2] << 8 |
			(unsigned)v[3]);
	if (version > store_schema_latest()) {
		snprintf(err, errlen, "%s has schema version %d, newer than this aijri knows (%d): "
				      "use a newer aijri; nothing was changed",
			 path, version, store_schema_latest());
		return RC_TOONEW;
	}
	if (version < 1) {
		snprintf(err, errlen, "%s is not an aijri database (schema version 0)", path);
		return RC_INVALID;
	}
	/* Committed data of a copied live database may still be in its WAL, which a copy of the
	 * main file alone would lose; `aijri backup` never leaves one. */
	if (exists_beside(path, "-wal")) {
		snprintf(err, errlen, "%s-wal exists, so %s alone is not the whole database; take "
				      "backups with `aijri backup`", path, path);
		return RC_INVALID;
	}
	return RC_OK;
}

/* Opens the copy at tmp as a store (which migrates an older schema), checks its integrity,
 * counts its roles and closes it; out gets what it found. */
static enum rc copy_check(const char *tmp, const char *backup, struct store_restored *out,
			  char *err, size_t errlen)
{
	struct store *s = NULL;
	char why[512];
	enum rc rc;

	rc = store_open(tmp, &s, why, sizeof(why));
	if (rc) {
		snprintf(err, errlen, "%s (from %s)", why, backup);
		return rc;
	}
	rc = store_integrity_check(s, why, sizeof(why));
	if (rc) {
		snprintf(err, errlen, "%s fails the integrity check: %s; nothing was changed",
			 backup, why);
		store_free(s);
		return rc;
	}
	if (store_role_count_all(s, &out->roles))
		out->roles = -1;
	out->version = store_schema_version(s);
	store_free(s);
	/* The last connection's close checkpoints and removes the WAL; one left behind means the
	 * copy is not whole on its own. */
	if (exists_beside(tmp, "-wal")) {
		snprintf(err, errlen, "%s was not checkpointed; nothing was changed", tmp);
		return RC_IO;
	}
	return RC_OK;
}

/* Puts the checked copy tmp (open as fd) in the place of db, durably. */
static enum rc put_in_place(int fd, const char *tmp, const char *db, char *err, size_t errlen)
{
	char side[PATH_LEN];

	keep_owner(fd, db);
	if (fsync(fd)) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		return RC_IO;
	}
	/* A WAL left by a crashed server belongs to the old file: SQLite would replay it onto
	 * the restored one. Both go before the rename, while our lock keeps everyone out. */
	if (file_path_join(side, sizeof(side), db, "-wal") || (unlink(side) && errno != ENOENT) ||
	    file_path_join(side, sizeof(side), db, "-shm") || (unlink(side) && errno != ENOENT)) {
		snprintf(err, errlen, "cannot remove %s: %s", side, strerror(errno));
		return RC_IO;
	}
	if (rename(tmp, db)) {
		snprintf(err, errlen, "cannot rename %s to %s: %s", tmp, db, strerror(errno));
		return RC_IO;
	}
	(void)file_fsync_dir_of(db); /* best effort: the rename is done */
	return RC_OK;
}

/* Removes the copy at tmp and what SQLite may have left beside it. */
static void remove_copy(const char *tmp)
{
	char side[PATH_LEN];

	unlink(tmp);
	if (!file_path_join(side, sizeof(side), tmp, "-wal"))
		unlink(side);
	if (!file_path_join(side, sizeof(side), tmp, "-shm"))
		unlink(side);
}

enum rc store_restore(const char *backup, const char *db, struct store_restored *out,
		      char *err, size_t errlen)
{
	struct store_file_lock lock = { -1, -1 };
	char tmp[PATH_LEN] = "";
	int src, dst = -1;
	enum rc rc = RC_IO;

	src = open(backup, O_RDONLY | O_CLOEXEC);
	if (src < 0) {
		snprintf(err, errlen, "%s: %s", backup, strerror(errno));
		return RC_IO;
	}
	rc = backup_check(backup, src, err, errlen);
	if (!rc)
		rc = store_file_lock(db, &lock, err, errlen);
	if (rc)
		goto out;
	/* Check a private copy, not the backup itself: opening migrates an older schema, and the
	 * backup must stay as it was. The copy, once checked, is what gets renamed into place. */
	rc = RC_IO;
	if (file_path_join(tmp, sizeof(tmp), db, ".restore-XXXXXX")) {
		errno = ENAMETOOLONG;
		dst = -1;
	} else {
		dst = mkstemp(tmp);
	}
	if (dst < 0) {
		snprintf(err, errlen, "cannot create a file beside %s: %s", db, strerror(errno));
		tmp[0] = '\0';
		goto out;
	}
	if (copy_fd(src, dst) || fsync(dst)) {
		snprintf(err, errlen, "cannot copy %s to %s: %s", backup, tmp, strerror(errno));
		goto out;
	}
	rc = copy_check(tmp, backup, out, err, errlen);
	if (!rc)
		rc = put_in_place(dst, tmp, db, err, errlen);
	if (!rc)
		tmp[0] = '\0';
out:
	if (tmp[0])
		remove_copy(tmp);
	if (dst >= 0)
		close(dst);
	close(src);
	store_file_unlock(&lock);
	return rc;
}
