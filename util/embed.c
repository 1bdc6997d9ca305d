/* embed.c: look-up in the table that util/embed.sh generates. */
#include <string.h>

#include "util/embed.h"

const struct embed_file *embed_find(const char *name)
{
	const struct embed_file *f;

	for (f = embed_files; f->name; f++)
		if (!strcmp(f->name, name))
			return f;
	return NULL;
}
