/*
 * event_ids.c: the event ids and bodies of an event row of several types (store.h, "Event
 * rows"): the row's id is its first type's event id, each other type's is derived from it,
 * and each type's body is the first one's with its own id and type. Pure: no database, no
 * state. What it must never do: give two events of one row the same id, or a body other
 * than the one its id was signed with (the same bytes every time).
 */
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"

/* The types that can share a row, at their index in the ids derived from the row's.
 * assessment.revised, at 0, is always first in its row. */
static const char *const event_types[] = { "assessment.revised", "score.changed",
					   "zone.changed", "role.archived" };
static const char b64url[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int event_ids_index(const char *type)
{
	size_t i;

	for (i = 0; i < sizeof(event_types) / sizeof(event_types[0]); i++)
		if (!strcmp(type, event_types[i]))
			return (int)i;
	return -1;
}

void store_event_row_id(char *id)
{
	size_t n = strlen(id);
	const char *p = n ? strchr(b64url, id[n - 1]) : NULL;

	if (p && *p)
		id[n - 1] = b64url[(p - b64url) & ~3];
}

enum rc store_event_id(const char *row_id, const char *row_type, const char *type, char *out,
		       size_t outlen)
{
	size_t n = strlen(row_id);
	const char *p;
	int idx;

	if (n + 1 > outlen)
		return RC_TOOLARGE;
	memcpy(out, row_id, n + 1);
	if (!strcmp(type, row_type))
		return RC_OK;
	idx = event_ids_index(type);
	p = n ? strchr(b64url, out[n - 1]) : NULL;
	/* Only the first type of a row has index 0: no other can take the row's own id. */
	if (idx <= 0 || !p || !*p)
		return RC_INVALID;
	out[n - 1] = b64url[((p - b64url) & ~3) | idx];
	return RC_OK;
}

/*
 * The body of the event id of type in a row whose payload is the body of its first type
 * (row_type, with the row's id): the same bytes but the id and type it starts with. A new
 * string into *out.
 */
enum rc event_ids_body(const char *payload, const char *row_id, const char *row_type,
			   const char *id, const char *type, char **out)
{
	static const char a[] = "{\"id\":\"", b[] = "\",\"type\":\"";
	size_t la = sizeof(a) - 1, lb = sizeof(b) - 1, lr = strlen(row_id), lt = strlen(row_type);
	size_t li = strlen(id), ly = strlen(type), lrest;
	const char *rest;
	char *p;

	*out = NULL;
	if (strncmp(payload, a, la) || strncmp(payload + la, row_id, lr) ||
	    strncmp(payload + la + lr, b, lb) || strncmp(payload + la + lr + lb, row_type, lt) ||
	    payload[la + lr + lb + lt] != '"')
		return RC_IO;
	rest = payload + la + lr + lb + lt;
	lrest = strlen(rest);
	p = malloc(la + li + lb + ly + lrest + 1);
	if (!p)
		return RC_NOMEM;
	memcpy(p, a, la);
	memcpy(p + la, id, li);
	memcpy(p + la + li, b, lb);
	memcpy(p + la + li + lb, type, ly);
	memcpy(p + la + li + lb + ly, rest, lrest + 1);
	*out = p;
	return RC_OK;
}
