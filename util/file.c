/* file.c: file names side by side, and durable renames (file.h). */
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <unistd.h>

#include "util/file.h"

enum rc file_path_join(char *out, size_t outlen, const char *path, const char *suffix)
{
	int n = snprintf(out, outlen, "%s%s", path, suffix);

	return n < 0 || (size_t)n >= outlen ? RC_TOOLARGE : RC_OK;
}

int file_fsync_dir_of(const char *path)
{
	char copy[PATH_MAX];
	int fd, rc;

	if (file_path_join(copy, sizeof(copy), path, ""))
		return -1;
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY);
	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}
