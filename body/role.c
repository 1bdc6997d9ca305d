/*
 * role.c: a role body around its assessment: the slug, title and aliases, the descriptive
 * fields, the codes, the narrative (prose for people, never part of a score, read by one loop
 * over the table as_narrative) and the assessment itself (parts.c).
 */
#include <string.h>

#include "body/assessment_int.h"
#include "body/codes.h"
#include "body/recency.h"
#include "util/rc.h"

const char *const assessment_commentary_names[ASSESSMENT_N_COMMENTARY] = {
	"quick_screen", "reinstatement", "growth_check", "calibration", "score_vs_reality",
	"not_captured", "who_should_worry", "outlook", "survival_strategy", "timeline",
};

const struct as_narrative_member as_narrative[AS_N_NARRATIVE] = {
	{ "summary", AS_N_TEXT },
	{ "seniority_note", AS_N_TEXT },
	{ "commentary", AS_N_COMMENTARY },
	{ "sources", AS_N_LINKS },
	{ "resources", AS_N_LINKS },
};

/* One prose text: CommonMark, at most AS_PROSE_MAX characters. A blank text is no text: null,
 * so that "" and null never differ in a diff or on a page. */
static json_t *as_read_prose(json_t *v, const char *field, struct scoring_errors *errs)
{
	const char *s = NULL;

	if (as_text(v, field, AS_NULLABLE, AS_PROSE_MAX, &s, errs) || !s ||
	    !s[strspn(s, " \t\r\n")])
		return json_null();
	return json_string(s);
}

json_t *assessment_read_commentary(json_t *v, const char *path, struct scoring_errors *errs)
{
	char field[SCORING_FIELD_LEN];
	json_t *out = json_object();
	int i;

	if (v && !json_is_null(v) && !json_is_object(v)) {
		scoring_errors_add(errs, as_where(path),
				   "must be an object of the commentary's sections, or null");
		v = NULL;
	}
	if (json_is_object(v))
		as_known_keys(v, path, assessment_commentary_names, ASSESSMENT_N_COMMENTARY,
			      "unknown section of the commentary", errs);
	for (i = 0; i < ASSESSMENT_N_COMMENTARY; i++) {
		as_key_path(field, sizeof(field), path, assessment_commentary_names[i]);
		json_object_set_new(out, assessment_commentary_names[i],
				    as_read_prose(json_object_get(v, assessment_commentary_names[i]),
						  field, errs));
	}
	return out;
}

/* A member of the narrative, normalized (absent gives its default); a new reference. */
static json_t *as_read_narrative(const struct as_narrative_member *m, json_t *v,
				 const char *field, struct scoring_errors *errs)
{
	switch (m->kind) {
	case AS_N_TEXT:
		return as_read_prose(v, field, errs);
	case AS_N_COMMENTARY:
		return assessment_read_commentary(v, field, errs);
	case AS_N_LINKS:
		break;
	}
	return v && !json_is_null(v) ? as_read_sources(v, field, errs) : json_array();
}

void assessment_role_defaults(json_t *role)
{
	struct scoring_errors none; /* absent members have nothing to report */
	int i;

	/* Roles stored before the narrative existed have none of it: the same as none given. */
	for (i = 0; json_is_object(role) && i < AS_N_NARRATIVE; i++)
		if (!json_object_get(role, as_narrative[i].name))
			json_object_set_new(role, as_narrative[i].name,
					    as_read_narrative(&as_narrative[i], NULL, "", &none));
}

/* The body's slug at "slug", into out when valid; a missing one is an error with
 * ASSESSMENT_REQUIRE_SLUG. */
static void as_read_slug(json_t *slug, int flags, json_t *out, struct scoring_errors *errs)
{
	if (slug) {
		if (!json_is_string(slug) || !assessment_slug_ok(json_string_value(slug)))
			scoring_errors_add(errs, "slug",
					   "must be lower-case letters, digits and single hyphens, "
					   "1 to %d characters", AS_SLUG_MAX);
		else
			json_object_set_new(out, "slug", json_string(json_string_value(slug)));
	} else if (flags & ASSESSMENT_REQUIRE_SLUG) {
		scoring_errors_add(errs, "slug", "is required");
	}
}

/* The body's aliases (absent or null: none), each a one-line name that is not the role's
 * own slug: a new array. */
static json_t *as_read_aliases(json_t *aliases, json_t *slug, struct scoring_errors *errs)
{
	char field[SCORING_FIELD_LEN];
	json_t *alist = json_array(), *alias;
	const char *s;
	size_t i;

	if (!aliases || json_is_null(aliases))
		return alist;
	if (!json_is_array(aliases)) {
		scoring_errors_add(errs, "aliases", "must be an array of strings");
		return alist;
	}
	if (json_array_size(aliases) > AS_MAX_ALIASES)
		scoring_errors_add(errs, "aliases", "must have at most %d aliases", AS_MAX_ALIASES);
	json_array_foreach(aliases, i, alias) {
		char aslug[128];

		as_path(field, sizeof(field), "aliases[%zu]", i);
		if (as_text(alias, field, AS_REQUIRED | AS_NONEMPTY | AS_ONELINE, AS_NAME_MAX, &s,
			    errs))
			continue;
		/* An alias that is the role's own slug would redirect the role to itself:
		 * refused, so that the body never says what the aliases table does not hold. */
		if (json_is_string(slug) && !assessment_slugify(s, aslug, sizeof(aslug)) &&
		    !strcmp(aslug, json_string_value(slug))) {
			scoring_errors_add(errs, field, "is the role's own slug (\"%s\"), not an alias",
					   aslug);
			continue;
		}
		json_array_append_new(alist, json_string(s));
	}
	return alist;
}

/* The descriptive texts, the codes and the narrative of the body v, into out. */
static void as_read_description(json_t *v, json_t *out, struct scoring_errors *errs)
{
	static const char *const descriptive[] = { "seniority", "category", "primary_function",
						   "not_this_role", "typical_experience" };
	const char *s;
	size_t i;

	for (i = 0; i < sizeof(descriptive) / sizeof(descriptive[0]); i++) {
		as_text(json_object_get(v, descriptive[i]), descriptive[i], AS_NULLABLE,
			AS_TEXT_MAX, &s, errs);
		json_object_set_new(out, descriptive[i], as_str_or_null(s));
	}
	json_object_set_new(out, "codes", codes_read(json_object_get(v, "codes"), "codes", errs));
	for (i = 0; i < AS_N_NARRATIVE; i++)
		json_object_set_new(out, as_narrative[i].name,
				    as_read_narrative(&as_narrative[i],
						      json_object_get(v, as_narrative[i].name),
						      as_narrative[i].name, errs));
}

int assessment_read_role(json_t *v, int flags, struct scoring_input *in, json_t **norm,
			 struct scoring_errors *errs)
{
	static const char *const keys[] = { "slug", "title", "aliases", "seniority", "category",
					    "primary_function", "not_this_role",
					    "typical_experience", "codes", "summary", "seniority_note",
					    "commentary", "sources", "resources", "assessment",
					    /* read-only members of GET /roles/{slug}: a body read
					     * can be sent back as it is; they are ignored */
					    "score", "revision", "created_at", "updated_at",
					    "recency", "stale" };
	int before = as_errcount(errs);
	json_t *out = NULL, *slug, *a, *anorm = NULL;
	const char *s;

	*norm = NULL;
	/* What assessment_read() would leave when the body has no assessment to read. */
	as_input_unset(in);
	if (!json_is_object(v)) {
		scoring_errors_add(errs, "body", "must be a JSON object (a role)");
		return RC_INVALID;
	}
	as_known_keys(v, "", keys, sizeof(keys) / sizeof(keys[0]), "unknown field", errs);
	out = json_object();
	slug = json_object_get(v, "slug");
	as_read_slug(slug, flags, out, errs);
	as_text(json_object_get(v, "title"), "title",
		(flags & ASSESSMENT_OPTIONAL_META) ? AS_NONEMPTY | AS_ONELINE | AS_NULLABLE
						   : AS_REQUIRED | AS_NONEMPTY | AS_ONELINE,
		AS_NAME_MAX, &s, errs);
	json_object_set_new(out, "title", as_str_or_null(s));
	json_object_set_new(out, "aliases", as_read_aliases(json_object_get(v, "aliases"), slug, errs));
	as_read_description(v, out, errs);
	a = json_object_get(v, "assessment");
	if (!a) {
		scoring_errors_add(errs, "assessment", "is required");
	} else if (!assessment_read(a, "assessment", in, &anorm, errs)) {
		json_object_set_new(out, "assessment", anorm);
	}
	if (as_errcount(errs) > before) {
		json_decref(out);
		return RC_INVALID;
	}
	*norm = out;
	return 0;
}

json_t *assessment_role_loads(const char *role_json, const char *as_of_map)
{
	json_t *v = role_json ? json_loads(role_json, 0, NULL) : NULL;

	/* A role stored before codes and as_of were part of the body reads as if it had them. */
	codes_fill_default(v);
	recency_fill_stored(v, as_of_map);
	return v;
}
