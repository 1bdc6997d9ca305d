/*
 * webhook_body.h: the body of POST /webhooks and PATCH /webhooks/{id}, read into the fields
 * a subscription write sets, with every broken field named (api/webhooks.c writes them).
 */
#ifndef API_WEBHOOK_BODY_H
#define API_WEBHOOK_BODY_H

#include <jansson.h>

#include "api/api.h"
#include "scoring/scoring.h"

/* What a POST or PATCH body sets; NULL members are absent. All malloc'd. */
struct webhook_fields {
	char *url;
	char *events_json;   /* a JSON array; POST without events: every event type */
	char *roles_json;    /* the roles' own slugs; "null" when the body says null (every role) */
	char *description;   /* "" when the body says null */
	char *status;        /* PATCH only: "active" or "disabled" */
};

/* Frees what f holds and clears it. */
void webhook_fields_release(struct webhook_fields *f);

/*
 * Reads a POST (patch = 0) or PATCH (patch = 1) body into f: the url's form and where it
 * points (a private address written out is refused unless a allows private webhooks), the
 * event types, the roles (each a live role's slug or alias slug, stored as the role's slug,
 * once), the description and, for a PATCH, the status; a PATCH must set something. Returns 0,
 * or RC_INVALID with every broken field in errs (f then holds nothing).
 */
int webhook_body_read(struct api *a, json_t *body, int patch, struct webhook_fields *f,
		      struct scoring_errors *errs);

#endif
