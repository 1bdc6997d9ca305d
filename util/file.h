/*
 * file.h: the small file-system steps the commands and the store's restore share: naming a
 * file beside another, and making a rename durable.
 */
#ifndef UTIL_FILE_H
#define UTIL_FILE_H

#include <stddef.h>

#include "util/rc.h"

/* path + suffix into out ("aijri.db" + "-wal"); RC_TOOLARGE when it does not fit. */
__attribute__((warn_unused_result)) enum rc file_path_join(char *out, size_t outlen,
							   const char *path, const char *suffix);
/* fsyncs the directory that holds path, so that a rename or link made in it lasts: without
 * this a crash can bring back the old name after the command said it was done. 0, or -1
 * when the directory cannot be opened or synced. */
int file_fsync_dir_of(const char *path);

#endif
