/* embed.h: files compiled into the binary at build time (util/embed.sh): the migrations,
 * the default data and the OpenAPI document. Names are repository paths. */
#ifndef UTIL_EMBED_H
#define UTIL_EMBED_H

#include <stddef.h>

struct embed_file {
	const char *name;  /* e.g. "migrations/0001_init.sql" */
	const char *data;  /* NUL-terminated */
	size_t size;       /* without the NUL */
};

/* The table, ending with an entry whose name is NULL; in build order (sorted names). */
extern const struct embed_file embed_files[];

/* The embedded file with that repository path, or NULL. */
const struct embed_file *embed_find(const char *name);

#endif
