/*
 * assessment.h: the JSON side of an assessment (Jansson): strict reading of the bodies of
 * API.md into scoring structs, the normalized JSON that the store keeps, the score block, and
 * the list of changed field paths between two versions.
 *
 * Strict means: unknown fields, wrong types and missing required fields are errors naming the
 * full field path ("assessment.evidence.wage_trends.score"); numbers out of range are left to
 * scoring_validate(), which this module calls, so one call reports every broken field.
 *
 * Normalized JSON: only known fields, in a fixed order, with defaults filled in ("rationale"
 * "" when absent, "sources" [] when absent, "override" null), so two equal assessments
 * serialise to equal bytes.
 */
#ifndef BODY_ASSESSMENT_H
#define BODY_ASSESSMENT_H

#include <jansson.h>

#include "scoring/scoring.h"
#include "util/rc.h"

/* A role body is at most this many bytes: the API's request limit (API_MAX_BODY), and the
 * longest line `aijri import` reads. */
#define ASSESSMENT_BODY_MAX (1024 * 1024)

/* Flags for assessment_read_role(). */
#define ASSESSMENT_REQUIRE_SLUG 1  /* POST /roles: slug is required */
#define ASSESSMENT_OPTIONAL_META 2 /* POST /score and `aijri score`: title etc. may be absent */

/*
 * Reads a bare assessment ({"tasks":...,"evidence":...,...}) found at `path` ("" for a bare
 * body, "assessment" inside a role body). On success returns 0, fills *in, and sets *norm to
 * a new reference to the normalized assessment (the caller must json_decref it). On failure
 * returns RC_INVALID with every broken field in errs, and *norm is NULL.
 */
int assessment_read(json_t *v, const char *path, struct scoring_input *in, json_t **norm,
		    struct scoring_errors *errs);

/*
 * Reads a role body: slug, title, aliases, seniority, category, primary_function,
 * not_this_role, typical_experience, the narrative (summary, seniority_note, commentary,
 * sources, resources) and assessment. Slug: lower-case letters, digits and single hyphens,
 * 1..100 characters. Title: non-empty. Aliases: array of non-empty strings.
 * On success *norm is a new reference to the normalized role (with "slug" only when given).
 *
 * The narrative (API.md, "Narrative") is prose for people and never enters a score: each text
 * is CommonMark of at most 10,000 characters without control characters other than tab and
 * line breaks, null when absent or blank; commentary is an object of the
 * ASSESSMENT_N_COMMENTARY sections, each such a text; sources and resources are lists of
 * {title, url} with http or https URLs ([] when absent). Evidence sources are checked alike.
 */
int assessment_read_role(json_t *v, int flags, struct scoring_input *in, json_t **norm,
			 struct scoring_errors *errs);

/* The sections of the narrative's commentary, in the order of the seed's page. */
#define ASSESSMENT_N_COMMENTARY 10
extern const char *const assessment_commentary_names[ASSESSMENT_N_COMMENTARY];

/* Reads a commentary object found at `path` ("commentary"): every section optional, null or
 * absent for none, unknown ones refused. Returns a new reference to the normalized commentary
 * (every section present, text or null); errors are added to errs. */
json_t *assessment_read_commentary(json_t *v, const char *path, struct scoring_errors *errs);

/* A stored role's body (role_json, NULL: none) as a new value, read as the current version of
 * the body: the codes and the evidence's as_of (from as_of_map, the store's column) of a role
 * stored before those existed filled in. NULL when it does not parse. */
json_t *assessment_role_loads(const char *role_json, const char *as_of_map);

/* Gives a normalized role stored before the narrative existed the narrative's defaults (null
 * texts, an all-null commentary, empty lists), in place. */
void assessment_role_defaults(json_t *role);

/*
 * Reads one part of a partial update (PUT /roles/{slug}/barriers and the like) at `path`
 * ("tasks", "barriers", "dimensions", ...). `current` is the role's current normalized
 * assessment; *in must hold its numbers (assessment_input()), and the part's numbers are
 * replaced in it. SCORING_EVIDENCE is a partial merge: `v` maps some dimension names to
 * objects whose given fields replace the current ones. For SCORING_OVERRIDE, v may be JSON
 * null (no override). On success *norm is a new reference to the whole normalized assessment
 * with the part replaced; it shares its other members with `current` (a shallow copy), so
 * neither may be changed in place afterwards.
 */
int assessment_read_part(enum scoring_part part, json_t *v, const char *path, json_t *current,
			 struct scoring_input *in, json_t **norm, struct scoring_errors *errs);

/* The numbers of a normalized (stored) assessment. Returns 0, or RC_INVALID if it is not
 * one (which for stored data means a bug). */
int assessment_input(json_t *norm, struct scoring_input *in);

/*
 * The score block of API.md for a computed result. Returns a new reference.
 * revision <= 0 and updated_at NULL leave those fields out (POST /score, `aijri score`);
 * slug and title NULL give JSON null.
 */
json_t *assessment_score_block(const struct scoring_result *r, const char *slug, const char *title,
			       int revision, const char *updated_at);

/*
 * The one pipeline that scores a body, for POST /score and `aijri score`: a role body (an
 * object with an "assessment" member, read with ASSESSMENT_OPTIONAL_META) or a bare
 * assessment, read, scored and made into its score block (no revision, no updated_at).
 * RC_OK with *block a new reference (the caller must json_decref it); RC_INVALID with every
 * broken field in errs (errs empty: the read body could not be scored, a bug); RC_NOMEM.
 */
enum rc assessment_score_body(json_t *body, json_t **block, struct scoring_errors *errs)
	__attribute__((warn_unused_result));

/*
 * The score block's "override" is {"score", "reason"}; the reason is text, which the numbers
 * of a scoring_result do not carry, so assessment_score_block() leaves it null. This sets it
 * from the normalized assessment (or role) the result was computed from; a no-op without an
 * override.
 */
void assessment_score_block_set_reason(json_t *block, json_t *norm);

/*
 * The paths that differ between two normalized roles (or two normalized assessments), as a
 * new JSON array of strings: "title", "aliases", "summary", "commentary.outlook", "sources",
 * "tasks", "evidence.wage_trends", "barriers.regulatory", "protective.moral_judgment",
 * "growth", "override". Empty when equal. Assessment parts are named without the
 * "assessment." prefix. A narrative member absent from one side counts as its default.
 */
json_t *assessment_diff(json_t *old_role, json_t *new_role);

/* Slug of an alias or title: lower case, runs of other characters become one hyphen
 * ("TinyML Engineer" -> "tinyml-engineer"). Writes at most outlen bytes; 0 on success,
 * RC_INVALID when nothing of it is left. */
int assessment_slugify(const char *name, char *out, size_t outlen);

/* 1 if s is a valid role slug. */
int assessment_slug_ok(const char *s);
/* Whether text s holds no control character (C0, DEL, C1); with prose set, tab, line feed and
 * carriage return are allowed. */
int assessment_text_ok(const char *s, int prose);

/* Dumps with the project's number format (so 55.2 prints as 55.2, not 55.200000000000003).
 * Returns malloc'd text the caller frees. */
char *assessment_dumps(const json_t *v);

/*
 * Parses a JSON body as every reader of assessments does: duplicate keys rejected, and an
 * integer too large for 64 bits read as a real (it is well-formed JSON, and no field takes one:
 * the rules then reject it by name, as any number out of range). Returns a new reference, or
 * NULL with err set; assessment_json_error() is err's text for a person.
 */
json_t *assessment_loadb(const char *text, size_t len, json_error_t *err);
const char *assessment_json_error(const json_error_t *err);

/*
 * A memo of the dumps of a role's large members, keyed by the member's address (each held by
 * a reference, so that no other value can take the address while it is in the memo). A write
 * that replaces one part of a role shares every other member with the role before it
 * (assessment_read_part), so dumping the new role through the memo of the old one dumps only
 * what changed; the text is byte for byte that of assessment_dumps().
 */
struct assessment_memo_item {
	json_t *v;
	char *text;
	size_t len;
};
struct assessment_memo {
	struct assessment_memo_item *items;
	size_t n, cap;
};
#define ASSESSMENT_MEMO_INIT { NULL, 0, 0 }
void assessment_memo_release(struct assessment_memo *m);
/*
 * Dumps the role as assessment_dumps() does. Members found in *prev (may be NULL) are moved
 * from it into *next, the others are dumped and added to *next, which must start empty.
 * Returns malloc'd text the caller frees, or NULL when out of memory.
 */
char *assessment_dumps_memo(json_t *role, struct assessment_memo *prev,
			    struct assessment_memo *next);
#define ASSESSMENT_JSON_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(15))

#endif
