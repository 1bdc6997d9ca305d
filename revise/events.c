/*
 * events.c: the webhook events of a revision and of an archive (events.h), queued in the
 * write's transaction as one row of the outbox, whatever their number (store_tx_events_add).
 * It queues only what some subscription wants (store_tx_events_wanted, one query): an event no
 * one would receive is not stored. It never sends anything: the dispatcher does.
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

/*
 * Queues the events types[0..n) (bits[i] the EVENTS_* of types[i]) of one revision or archive
 * as one row, for the subscriptions that want them, with the body of API.md; adds the bits of
 * those queued to *queued. The body stored is the first wanted type's; the outbox gives each
 * other type its own id and body (store_event_id).
 */
static enum rc queue(struct store_tx *tx, const char *const *types, const unsigned *bits,
		     int n, const char *slug, const char *title, const struct events_state *prev,
		     const struct events_state *cur, const char *reason, unsigned *queued)
{
	const char *wanted[4];
	unsigned want, got = 0;
	char id[STORE_EVENT_ID_MAX];
	json_t *body = NULL;
	char *payload = NULL;
	enum rc rc;
	int i, k = 0;

	want = store_tx_events_wanted(tx, types, n, slug);
	for (i = 0; i < n && k < 4; i++) {
		if (want & (1u << i)) {
			wanted[k++] = types[i];
			got |= bits[i];
		}
	}
	if (!k)
		return RC_OK;
	rc = events_new_id(id, sizeof(id));
	if (rc)
		goto out;
	store_event_row_id(id);
	body = json_pack("{s:s, s:s, s:s, s:{s:{s:s, s:s}, s:o, s:o, s:o}}", "id", id, "type",
			 wanted[0], "created_at", store_tx_now(tx), "data", "role", "slug", slug,
			 "title", title ? title : "", "previous", state_json(prev), "current",
			 state_json(cur), "reason", reason ? json_string(reason) : json_null());
	payload = events_dumps(body);
	if (!payload) {
		rc = RC_NOMEM;
		goto out;
	}
	rc = store_tx_events_add(tx, id, wanted, k, slug, payload, NULL, NULL);
	if (!rc)
		*queued |= got;
out:
	json_decref(body);
	free(payload);
	return rc;
}

enum rc events_queue_revision(struct store_tx *tx, const char *slug, const char *title,
			      const struct events_state *prev, const struct events_state *cur,
			      const char *reason, unsigned *queued)
{
	const char *types[3] = { "assessment.revised" };
	unsigned bits[3] = { EVENTS_REVISED };
	int n = 1;

	/* Published scores have one decimal: a difference below half of that is none. */
	if (prev && fabs(prev->score - cur->score) > 0.04) {
		types[n] = "score.changed";
		bits[n++] = EVENTS_SCORE_CHANGED;
	}
	if (prev && strcmp(prev->zone ? prev->zone : "", cur->zone ? cur->zone : "")) {
		types[n] = "zone.changed";
		bits[n++] = EVENTS_ZONE_CHANGED;
	}
	return queue(tx, types, bits, n, slug, title, prev, cur, reason, queued);
}

enum rc events_queue_archived(struct store_tx *tx, const char *slug, unsigned *queued)
{
	static const char *const type = "role.archived";
	static const unsigned bit = EVENTS_ARCHIVED;
	struct store_role r;
	struct events_state prev, cur;
	enum rc rc;

	/* Reading the role costs more than the check: only for an event someone wants. */
	if (!store_tx_event_wanted(tx, type, slug) &&
	    !store_tx_event_wanted(tx, "assessment.revised", slug))
		return RC_OK;
	rc = store_tx_role_get(tx, slug, &r);
	if (rc)
		return rc;
	prev.score = r.score;
	prev.zone = r.zone;
	prev.label = r.label;
	prev.revision = r.revision;
	/* The archive is a revision of its own (the last body and score again, reason
	 * "archived"): assessment.revised says so, as for every revision, before role.archived,
	 * whose current is null. */
	cur = prev;
	cur.revision = prev.revision + 1;
	rc = events_queue_revision(tx, slug, r.title, &prev, &cur, "archived", queued);
	if (!rc)
		rc = queue(tx, &type, &bit, 1, slug, r.title, &prev, NULL, "archived", queued);
	store_role_release(&r);
	return rc;
}
