/*
 * webhook_body.c: reading the body of POST /webhooks and PATCH /webhooks/{id} (see
 * webhook_body.h): every broken field is named, unknown fields are refused.
 *
 * A URL is checked for its form (an absolute http or https URL with a host, by libcurl's
 * parser, and no user name or password: one would be stored and echoed in every read, while
 * deliveries are authenticated by their signature) and, when its host is an address written
 * out or a loopback name, for where it points: a private one is refused at once, unless the
 * server allows private webhooks. A name is resolved only by the dispatcher when it connects,
 * which checks every resolved address again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "api/request.h"
#include "api/webhook_body.h"
#include "util/netaddr.h"
#include "util/url.h"

#define WH_URL_MAX 2048
#define WH_DESCRIPTION_MAX 1000
#define WH_ROLES_MAX 200

static const char *const event_types[] = { "score.changed", "zone.changed", "assessment.revised",
					   "role.archived" };
#define EVENT_TYPES_TEXT "score.changed, zone.changed, assessment.revised, role.archived"
/* Absent events mean every event, as absent roles mean every role. */
#define EVENT_TYPES_ALL \
	"[\"assessment.revised\",\"role.archived\",\"score.changed\",\"zone.changed\"]"
#define N_EVENT_TYPES (sizeof(event_types) / sizeof(event_types[0]))

/* Serialises v (not stolen) as the store keeps these lists. malloc'd. */
static char *dump(json_t *v)
{
	return v ? json_dumps(v, JSON_COMPACT) : NULL;
}

void webhook_fields_release(struct webhook_fields *f)
{
	free(f->url);
	free(f->events_json);
	free(f->roles_json);
	free(f->description);
	free(f->status);
	memset(f, 0, sizeof(*f));
}

/* What is wrong with url, or NULL when it is an absolute http or https URL with a host
 * (util/url.c decides), no credentials and, unless allow_private, no host that is a private
 * address. */
static const char *url_problem(const char *url, int allow_private)
{
	CURLU *u = NULL;
	char *host = NULL, *user = NULL, *password = NULL;
	const char *problem = "must be an absolute http or https URL with a host";

	if (!url_http_ok(url))
		goto out;
	u = curl_url();
	if (!u || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
		problem = "cannot be read now";
		goto out;
	}
	/* A password in the URL would be stored, echoed in every read of the subscription and
	 * written to logs; deliveries are authenticated by their signature instead. */
	curl_url_get(u, CURLUPART_USER, &user, 0);
	curl_url_get(u, CURLUPART_PASSWORD, &password, 0);
	if (user || password) {
		problem = "must not contain a user name or password (user:password@); verify "
			  "deliveries with their webhook-signature instead";
		goto out;
	}
	if (!allow_private && netaddr_host_refused(host)) {
		problem = "must not point at a loopback, private or link-local address (the server "
			  "does not allow private webhooks)";
		goto out;
	}
	problem = NULL;
out:
	curl_free(host);
	curl_free(user);
	curl_free(password);
	curl_url_cleanup(u);
	return problem;
}

static void read_url(struct api *a, json_t *v, struct webhook_fields *f, struct scoring_errors *errs)
{
	const char *s = json_string_value(v), *problem;

	if (!json_is_string(v)) {
		scoring_errors_add(errs, "url", "must be a string");
		return;
	}
	if (strlen(s) > WH_URL_MAX || strpbrk(s, " \t\r\n")) {
		scoring_errors_add(errs, "url", "must be an absolute http or https URL with a host, "
				   "at most %d characters", WH_URL_MAX);
		return;
	}
	problem = url_problem(s, api_allow_private_webhooks(a));
	if (problem) {
		scoring_errors_add(errs, "url", "%s", problem);
		return;
	}
	f->url = strdup(s);
}

static void read_events(json_t *v, struct webhook_fields *f, struct scoring_errors *errs)
{
	char field[32];
	size_t i, k;
	json_t *e;
	int bad = 0;

	if (!json_is_array(v) || json_array_size(v) == 0) {
		scoring_errors_add(errs, "events", "must be a non-empty array of event types "
				   "(" EVENT_TYPES_TEXT ")");
		return;
	}
	json_array_foreach(v, i, e) {
		const char *s = json_string_value(e);

		for (k = 0; s && k < N_EVENT_TYPES; k++)
			if (!strcmp(s, event_types[k]))
				break;
		if (!s || k == N_EVENT_TYPES) {
			snprintf(field, sizeof(field), "events[%zu]", i);
			scoring_errors_add(errs, field, "must be one of " EVENT_TYPES_TEXT);
			bad = 1;
		}
	}
	if (!bad)
		f->events_json = dump(v);
}

/* The live role a slug names, itself or as one of its aliases: its own slug (malloc'd) into
 * *out, or RC_NOTFOUND. */
static int live_role_slug(struct store *s, const char *slug, char **out)
{
	struct store_role r;
	char *target = NULL;
	int rc;

	*out = NULL;
	memset(&r, 0, sizeof(r));
	rc = store_role_get(s, slug, &r);
	if (rc == RC_NOTFOUND && store_alias_resolve(s, slug, &target) == RC_OK)
		rc = store_role_get(s, target, &r);
	if (!rc && r.archived)
		rc = RC_NOTFOUND;
	if (!rc) {
		*out = strdup(r.slug);
		if (!*out)
			rc = RC_NOMEM;
	}
	store_role_release(&r);
	free(target);
	return rc;
}

/* Roles are stored by their own slugs, as events name them: an alias is accepted, as every
 * read accepts it, and stored as the role's slug (once, however often it is named). */
static void read_roles(struct store *s, json_t *v, struct webhook_fields *f, struct scoring_errors *errs)
{
	char field[32];
	size_t i, k;
	json_t *e, *slugs = NULL;
	int bad = 0;

	if (json_is_null(v)) {
		f->roles_json = strdup("null");
		return;
	}
	if (!json_is_array(v) || json_array_size(v) == 0 || json_array_size(v) > WH_ROLES_MAX) {
		scoring_errors_add(errs, "roles", "must be null (every role) or an array of 1 to %d "
				   "role slugs", WH_ROLES_MAX);
		return;
	}
	slugs = json_array();
	json_array_foreach(v, i, e) {
		const char *slug = json_string_value(e);
		char *own = NULL;
		int rc, seen = 0;

		snprintf(field, sizeof(field), "roles[%zu]", i);
		if (!slug) {
			scoring_errors_add(errs, field, "must be a role slug");
			bad = 1;
			continue;
		}
		rc = live_role_slug(s, slug, &own);
		if (rc) {
			scoring_errors_add(errs, field, rc == RC_NOTFOUND ? "no role \"%.100s\""
						  : "cannot be checked now (\"%.100s\")", slug);
			bad = 1;
			continue;
		}
		for (k = 0; k < json_array_size(slugs); k++)
			seen |= !strcmp(json_string_value(json_array_get(slugs, k)), own);
		if (!seen && json_array_append_new(slugs, json_string(own)))
			bad = 1;
		free(own);
	}
	if (!bad)
		f->roles_json = dump(slugs);
	json_decref(slugs);
}

int webhook_body_read(struct api *a, json_t *body, int patch, struct webhook_fields *f,
		      struct scoring_errors *errs)
{
	const char *key;
	json_t *v;

	memset(f, 0, sizeof(*f));
	/* A PATCH that names nothing to change is a mistake of the client's, not a no-op. */
	if (patch && json_object_size(body) == 0)
		scoring_errors_add(errs, "body", "must set at least one of url, events, roles, "
				   "description, status");
	json_object_foreach(body, key, v) {
		if (!strcmp(key, "url"))
			read_url(a, v, f, errs);
		else if (!strcmp(key, "events"))
			read_events(v, f, errs);
		else if (!strcmp(key, "roles"))
			read_roles(api_store(a), v, f, errs);
		else if (!strcmp(key, "description")) {
			if (json_is_null(v))
				f->description = strdup("");
			else if (!json_is_string(v) || json_string_length(v) > WH_DESCRIPTION_MAX)
				scoring_errors_add(errs, "description", "must be a string of at most "
						   "%d characters, or null", WH_DESCRIPTION_MAX);
			else
				f->description = strdup(json_string_value(v));
		} else if (patch && !strcmp(key, "status")) {
			const char *st = json_string_value(v);

			if (!st || (strcmp(st, "active") && strcmp(st, "disabled")))
				scoring_errors_add(errs, "status", "must be \"active\" or \"disabled\"");
			else
				f->status = strdup(st);
		} else {
			scoring_errors_add(errs, key, "unknown field");
		}
	}
	if (!patch && !json_object_get(body, "url"))
		scoring_errors_add(errs, "url", "is required");
	if (!patch && !json_object_get(body, "events") && !errs->n)
		f->events_json = strdup(EVENT_TYPES_ALL);
	if (errs->n) {
		webhook_fields_release(f);
		return RC_INVALID;
	}
	return RC_OK;
}
