/*
 * events.c: the webhook events of a revision and of an archive (events.h), queued in the
 * write's transaction. It queues only what some subscription wants (store_tx_event_wanted):
 * an event no one would receive is not stored. It never sends anything: the dispatcher does.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "revise/events.h"
#include "util/crypto.h"

#define EVENTS_JSON_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(15))

/*
 * Ids that grow with time are appended at the end of the events table's index instead of
 * landing on a random page of it, which cost a page write per event.
 */
enum rc events_new_id(char *out, size_t outlen)
{
	unsigned char raw[12];
	char b64[24];
	struct timespec ts;
	uint64_t ms;

	if (crypto_random(raw, sizeof(raw)) || clock_gettime(CLOCK_REALTIME, &ts))
		return RC_IO;
	ms = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
	crypto_base64url(raw, sizeof(raw), b64);
	if ((size_t)snprintf(out, outlen, "evt_%012llx%s", (unsigned long long)(ms & 0xffffffffffffull),
			     b64) >= outlen)
		return RC_TOOLARGE;
	return RC_OK;
}

char *events_dumps(const json_t *v)
{
	return v ? json_dumps(v, EVENTS_JSON_FLAGS) : NULL;
}

static json_t *state_json(const struct events_state *st)
{
	if (!st)
		return json_null();
	return json_pack("{s:f, s:s, s:s, s:i}", "score", st->score, "zone", st->zone ? st->zone : "",
			 "label", st->label ? st->label : "", "revision", st->revision);
}

/* Queues one event of type with the body of API.md, when a subscription wants it; adds bit
 * to *queued when it was. */
static enum rc queue_one(struct store_tx *tx, const char *type, unsigned bit, const char *slug,
			 const char *title, const struct events_state *prev,
			 const struct events_state *cur, const char *reason, unsigned *queued)
{
	char id[64];
	json_t *body = NULL;
	char *payload = NULL;
	enum rc rc;

	if (!store_tx_event_wanted(tx, type, slug))
		return RC_OK;
	rc = events_new_id(id, sizeof(id));
	if (rc)
		goto out;
	body = json_pack("{s:s, s:s, s:s, s:{s:{s:s, s:s}, s:o, s:o, s:o}}", "id", id, "type", type,
			 "created_at", store_tx_now(tx), "data", "role", "slug", slug, "title",
			 title ? title : "", "previous", state_json(prev), "current",
			 state_json(cur), "reason", reason ? json_string(reason) : json_null());
	payload = events_dumps(body);
	if (!payload) {
		rc = RC_NOMEM;
		goto out;
	}
	rc = store_tx_event_add(tx, id, type, slug, payload, NULL, NULL);
	if (!rc)
		*queued |= bit;
out:
	json_decref(body);
	free(payload);
	return rc;
}

enum rc events_queue_revision(struct store_tx *tx, const char *slug, const char *title,
			      const struct events_state *prev, const struct events_state *cur,
			      const char *reason, unsigned *queued)
{
	enum rc rc;

	rc = queue_one(tx, "assessment.revised", EVENTS_REVISED, slug, title, prev, cur, reason,
		       queued);
	if (rc || !prev)
		return rc;
	/* Published scores have one decimal: a difference below half of that is none. */
	if (fabs(prev->score - cur->score) > 0.04) {
		rc = queue_one(tx, "score.changed", EVENTS_SCORE_CHANGED, slug, title, prev, cur,
			       reason, queued);
		if (rc)
			return rc;
	}
	if (strcmp(prev->zone ? prev->zone : "", cur->zone ? cur->zone : ""))
		rc = queue_one(tx, "zone.changed", EVENTS_ZONE_CHANGED, slug, title, prev, cur, reason,
			       queued);
	return rc;
}

enum rc events_queue_archived(struct store_tx *tx, const char *slug, unsigned *queued)
{
	struct store_role r;
	struct events_state prev;
	enum rc rc;

	/* Reading the role costs more than the check: only for an event someone wants. */
	if (!store_tx_event_wanted(tx, "role.archived", slug))
		return RC_OK;
	rc = store_tx_role_get(tx, slug, &r);
	if (rc)
		return rc;
	prev.score = r.score;
	prev.zone = r.zone;
	prev.label = r.label;
	prev.revision = r.revision;
	rc = queue_one(tx, "role.archived", EVENTS_ARCHIVED, slug, r.title, &prev, NULL, NULL,
		       queued);
	store_role_release(&r);
	return rc;
}
