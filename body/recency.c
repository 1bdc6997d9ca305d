/*
 * recency.c: each evidence dimension's as_of and whether it is stale (recency.h).
 *
 * A dimension "changes" when its score, rationale or sources change: a revision that does so
 * without giving as_of dates the dimension to itself, one that leaves it alone keeps its date.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "body/recency.h"
#include "util/clock.h"
#include "util/rc.h"

json_t *recency_read_as_of(json_t *v, const char *field, int64_t today,
			   struct scoring_errors *errs)
{
	int64_t day;

	if (!json_is_string(v) || clock_parse_day(json_string_value(v), &day)) {
		scoring_errors_add(errs, field, "must be a date YYYY-MM-DD");
		return NULL;
	}
	if (day > today) {
		scoring_errors_add(errs, field, "must not be in the future");
		return NULL;
	}
	return json_string(json_string_value(v));
}

static json_t *evidence_of(json_t *role)
{
	json_t *a = json_object_get(role, "assessment");

	return json_object_get(a ? a : role, "evidence");
}

/* Whether two dimensions say the same, their as_of aside. */
static int same_content(json_t *a, json_t *b)
{
	static const char *const keys[] = { "score", "rationale", "sources" };
	size_t i;

	if (!json_is_object(a) || !json_is_object(b))
		return 0;
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		json_t *x = json_object_get(a, keys[i]), *y = json_object_get(b, keys[i]);

		if (!x != !y || (x && !json_equal(x, y)))
			return 0;
	}
	return 1;
}

int recency_fill(json_t *new_role, json_t *prev_role, const char *today)
{
	json_t *a = json_object_get(new_role, "assessment");
	json_t *ev = evidence_of(new_role), *prev_ev = prev_role ? evidence_of(prev_role) : NULL;
	json_t *copy = NULL;
	int i;

	if (!json_is_object(ev))
		return RC_OK;
	for (i = 0; i < SCORING_N_EVIDENCE; i++) {
		const char *name = scoring_evidence_names[i];
		json_t *dim = json_object_get(ev, name), *prev = json_object_get(prev_ev, name);
		json_t *as_of, *d;

		if (!json_is_object(dim) || json_object_get(dim, "as_of"))
			continue;
		as_of = json_object_get(prev, "as_of");
		as_of = as_of && same_content(dim, prev) ? json_incref(as_of)
							 : json_stringn(today, CLOCK_DAY_LEN - 1);
		/* Copy on write: the evidence object and its dimensions may be shared. */
		if (!copy)
			copy = json_copy(ev);
		d = json_copy(dim);
		if (!copy || !d || !as_of || json_object_set_new(d, "as_of", as_of) ||
		    json_object_set_new(copy, name, d)) {
			json_decref(copy);
			return RC_NOMEM;
		}
	}
	if (copy && json_object_set_new(a ? a : new_role, "evidence", copy))
		return RC_NOMEM;
	return RC_OK;
}

void recency_fill_stored(json_t *role, const char *as_of_map)
{
	json_t *map, *ev = evidence_of(role), *dim, *d;
	const char *name;

	if (!as_of_map || !json_is_object(ev))
		return;
	map = json_loads(as_of_map, 0, NULL);
	json_object_foreach(ev, name, dim) {
		d = json_object_get(map, name);
		if (json_is_object(dim) && !json_object_get(dim, "as_of") && json_is_string(d))
			json_object_set(dim, "as_of", d);
	}
	json_decref(map);
}

char *recency_map(json_t *role, char *oldest, size_t oldest_len)
{
	json_t *ev = evidence_of(role), *map = json_object();
	const char *min = NULL;
	char *text;
	int i;

	if (!map)
		return NULL;
	for (i = 0; i < SCORING_N_EVIDENCE; i++) {
		const char *name = scoring_evidence_names[i];
		json_t *as_of = json_object_get(json_object_get(ev, name), "as_of");
		const char *s = json_string_value(as_of);

		if (!s)
			continue;
		json_object_set(map, name, as_of);
		if (!min || strcmp(s, min) < 0)
			min = s;
	}
	if (oldest_len)
		snprintf(oldest, oldest_len, "%s", min ? min : "");
	text = json_dumps(map, JSON_COMPACT);
	json_decref(map);
	return text;
}

int64_t recency_cutoff(int64_t today, int stale_after_days)
{
	return today - stale_after_days;
}

json_t *recency_view(json_t *as_of_map, int64_t cutoff, unsigned *mask)
{
	json_t *out = json_object();
	int i;

	*mask = 0;
	for (i = 0; out && i < SCORING_N_EVIDENCE; i++) {
		const char *name = scoring_evidence_names[i];
		json_t *as_of = json_object_get(as_of_map, name);
		int64_t day;
		int stale = 0;

		if (json_is_string(as_of) && !clock_parse_day(json_string_value(as_of), &day))
			stale = day < cutoff;
		else
			as_of = NULL;
		if (stale)
			*mask |= 1u << i;
		json_object_set_new(out, name, json_pack("{s:O?, s:b}", "as_of", as_of ? as_of : NULL,
							 "stale", stale));
	}
	return out;
}
