/*
 * assessment.c: the JSON side of an assessment. It reads client bodies strictly into scoring
 * structs, writes the normalized JSON the store keeps, builds the score block of API.md and
 * lists the paths that changed between two versions.
 *
 * Strict reading is the point: an unknown field, a wrong type or a missing field is an error
 * naming the full path, and every error of a body is reported in one go (the reader goes on
 * after an error, marking the value SCORING_UNSET so that scoring_validate() stays quiet
 * about it). This module never computes a score itself: that is scoring/'s job.
 */
#include <limits.h>
#include <math.h>
#include <strings.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/assessment.h"
#include "api/codes.h"
#include "api/recency.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/rc.h"
#include "util/url.h"

/* Limits on texts, in characters (code points): long enough for the seed's prose, short
 * enough that one body cannot fill the database. */
#define AS_NAME_MAX 200
/* Texts are bounded by the 1 MiB body limit, not by a limit of their own. */
#define AS_TEXT_MAX (1024 * 1024)
#define AS_SOURCE_TITLE_MAX 500
#define AS_URL_MAX 2000
#define AS_MAX_SOURCES 50
#define AS_MAX_ALIASES 50
#define AS_SLUG_MAX 100
/* The narrative's texts (API.md, "Narrative"): CommonMark, each at most this many characters. */
#define AS_PROSE_MAX 10000

const char *const assessment_commentary_names[ASSESSMENT_N_COMMENTARY] = {
	"quick_screen", "reinstatement", "growth_check", "calibration", "score_vs_reality",
	"not_captured", "who_should_worry", "outlook", "survival_strategy", "timeline",
};

/* Text checks for as_text(). */
#define AS_REQUIRED 1 /* absent is an error */
#define AS_NONEMPTY 2 /* "" is an error */
#define AS_ONELINE 4  /* every control character is an error (names, titles, URLs); without
		       * it (prose), tab, line feed and carriage return are allowed */
#define AS_NULLABLE 8 /* JSON null is accepted (and gives a NULL string) */

static void as_path(char *out, size_t outlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* vsnprintf truncates a path too long for the field; its start still names the field. */
static void as_path(char *out, size_t outlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(out, outlen, fmt, ap);
	va_end(ap);
}

/* base + "." + key, or key alone at the top of a bare body. */
static void as_key_path(char *out, size_t outlen, const char *base, const char *key)
{
	if (base && *base)
		as_path(out, outlen, "%s.%s", base, key);
	else
		as_path(out, outlen, "%s", key);
}

/* The field named in an error about a whole body, which has no path of its own. */
static const char *as_where(const char *path)
{
	return path && *path ? path : "body";
}

static size_t as_utf8_chars(const char *s)
{
	size_t n = 0;

	/* Jansson hands out valid UTF-8 only: counting non-continuation bytes counts code
	 * points. */
	for (; *s; s++)
		if (((unsigned char)*s & 0xC0) != 0x80)
			n++;
	return n;
}

/* Reports every key of obj that is not in allowed. */
static void as_known_keys(json_t *obj, const char *base, const char *const *allowed, size_t n,
			  const char *message, struct scoring_errors *errs)
{
	char field[SCORING_FIELD_LEN];
	const char *key;
	json_t *val;
	size_t i;

	json_object_foreach(obj, key, val) {
		for (i = 0; i < n; i++)
			if (!strcmp(key, allowed[i]))
				break;
		if (i < n)
			continue;
		as_key_path(field, sizeof(field), base, key);
		scoring_errors_add(errs, field, "%s", message);
	}
}

/* An integer field. A real with an integral value (2.0) is accepted as that integer. */
static int as_int(json_t *v, const char *field, int *out, struct scoring_errors *errs)
{
	double d;

	*out = SCORING_UNSET;
	if (!v) {
		scoring_errors_add(errs, field, "is required");
		return -1;
	}
	if (json_is_integer(v)) {
		json_int_t i = json_integer_value(v);

		/* Out-of-int values keep out of every range, so scoring_validate() reports
		 * them with the field's own range. */
		*out = i > INT_MAX ? INT_MAX : i <= INT_MIN ? INT_MIN + 1 : (int)i;
		return 0;
	}
	if (json_is_real(v)) {
		d = json_real_value(v);
		if (isfinite(d) && floor(d) == d) {
			*out = d > INT_MAX ? INT_MAX : d <= INT_MIN ? INT_MIN + 1 : (int)d;
			return 0;
		}
	}
	scoring_errors_add(errs, field, "must be an integer");
	return -1;
}

static int as_number(json_t *v, const char *field, double *out, struct scoring_errors *errs)
{
	*out = NAN;
	if (!v) {
		scoring_errors_add(errs, field, "is required");
		return -1;
	}
	if (!json_is_number(v)) {
		scoring_errors_add(errs, field, "must be a number");
		return -1;
	}
	*out = json_number_value(v);
	return 0;
}

/*
 * A text field. On success *out is the string (or NULL for an accepted null or absent
 * optional field); returns -1 after reporting an error.
 */
static int as_text(json_t *v, const char *field, int checks, size_t max_chars, const char **out,
		   struct scoring_errors *errs)
{
	const char *s;

	*out = NULL;
	if (!v || (json_is_null(v) && (checks & AS_NULLABLE))) {
		if (!v && (checks & AS_REQUIRED)) {
			scoring_errors_add(errs, field, "is required");
			return -1;
		}
		return 0;
	}
	if (!json_is_string(v)) {
		scoring_errors_add(errs, field, "must be a string");
		return -1;
	}
	s = json_string_value(v);
	if (strlen(s) != json_string_length(v)) {
		scoring_errors_add(errs, field, "must not contain NUL characters");
		return -1;
	}
	if ((checks & AS_NONEMPTY) && !s[strspn(s, " \t\r\n")]) {
		scoring_errors_add(errs, field, "must not be empty or blank");
		return -1;
	}
	if (!assessment_text_ok(s, !(checks & AS_ONELINE))) {
		scoring_errors_add(errs, field, "%s",
				   (checks & AS_ONELINE) ? "must not contain control characters"
							 : "must not contain control characters "
							   "(tab and line breaks are allowed)");
		return -1;
	}
	if (as_utf8_chars(s) > max_chars) {
		scoring_errors_add(errs, field, "must be at most %zu characters", max_chars);
		return -1;
	}
	*out = s;
	return 0;
}

int assessment_text_ok(const char *s, int prose)
{
	const unsigned char *p = (const unsigned char *)s;

	for (; *p; p++) {
		if (*p < 0x20 && !(prose && (*p == '\t' || *p == '\n' || *p == '\r')))
			return 0;
		/* DEL, and the C1 controls U+0080..U+009F (UTF-8 C2 80..C2 9F). */
		if (*p == 0x7f || (*p == 0xC2 && p[1] >= 0x80 && p[1] <= 0x9F))
			return 0;
	}
	return 1;
}

/* A number as the client gave it: an integer stays an integer, a real stays a real. */
static json_t *as_number_copy(json_t *v)
{
	if (json_is_integer(v))
		return json_integer(json_integer_value(v));
	if (json_is_real(v))
		return json_real(json_real_value(v));
	return json_null();
}

/* json_string() of a string known to be valid, or null for NULL. */
static json_t *as_str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

/* ---- sources, dimensions, growth, override, tasks ---------------------------------- */

/* A list of {title, url}: the sources of an evidence dimension or of the role, its resources.
 * URLs must be http or https (they become links on the role's page). */
static json_t *as_read_sources(json_t *v, const char *field, struct scoring_errors *errs)
{
	static const char *const keys[] = { "title", "url" };
	char sf[SCORING_FIELD_LEN], kf[SCORING_FIELD_LEN];
	json_t *out = json_array(), *src;
	const char *title, *url;
	size_t i;

	if (!json_is_array(v)) {
		scoring_errors_add(errs, field, "must be an array of {title, url}");
		return out;
	}
	if (json_array_size(v) > AS_MAX_SOURCES)
		scoring_errors_add(errs, field, "must have at most %d entries", AS_MAX_SOURCES);
	json_array_foreach(v, i, src) {
		as_path(sf, sizeof(sf), "%s[%zu]", field, i);
		if (!json_is_object(src)) {
			scoring_errors_add(errs, sf, "must be an object with title and url");
			continue;
		}
		as_known_keys(src, sf, keys, 2, "unknown field", errs);
		as_key_path(kf, sizeof(kf), sf, "title");
		as_text(json_object_get(src, "title"), kf, AS_REQUIRED | AS_NONEMPTY | AS_ONELINE,
			AS_SOURCE_TITLE_MAX, &title, errs);
		as_key_path(kf, sizeof(kf), sf, "url");
		if (!as_text(json_object_get(src, "url"), kf, AS_REQUIRED | AS_NONEMPTY | AS_ONELINE,
			     AS_URL_MAX, &url, errs) && url && !url_http_ok(url)) {
			scoring_errors_add(errs, kf, "must be an absolute http or https URL with a host");
			url = NULL;
		}
		if (title && url)
			json_array_append_new(out, json_pack("{s:s, s:s}", "title", title, "url",
							     url));
	}
	return out;
}

/* A normalized dimension: {"score", "rationale"[, "sources"[, "as_of"]]} in that order.
 * Steals the references it is given. */
static json_t *as_dim_new(json_t *score, json_t *rationale, json_t *sources, json_t *as_of)
{
	json_t *o = json_object();

	json_object_set_new(o, "score", score);
	json_object_set_new(o, "rationale", rationale);
	if (sources)
		json_object_set_new(o, "sources", sources);
	if (as_of)
		json_object_set_new(o, "as_of", as_of);
	return o;
}

/* An evidence dimension's as_of at base.as_of, when given (NULL otherwise or when broken). */
static json_t *as_read_dim_as_of(json_t *dim, const char *base, struct scoring_errors *errs)
{
	char kf[SCORING_FIELD_LEN];
	json_t *v = json_object_get(dim, "as_of");

	if (!v)
		return NULL;
	as_key_path(kf, sizeof(kf), base, "as_of");
	return recency_read_as_of(v, kf, clock_day(time(NULL)), errs);
}

/* One dimension object {score, rationale[, sources, as_of]} (evidence dimensions have
 * sources and as_of); *score is SCORING_UNSET when it could not be read. Returns its
 * normalized form (a new reference). */
static json_t *as_read_dim(json_t *v, const char *field, int with_sources, int *score,
			   struct scoring_errors *errs)
{
	static const char *const keys[] = { "score", "rationale", "sources", "as_of" };
	char kf[SCORING_FIELD_LEN];
	const char *rationale = NULL;
	json_t *sources = NULL, *s;

	*score = SCORING_UNSET;
	if (!json_is_object(v)) {
		scoring_errors_add(errs, field, "must be an object");
		return as_dim_new(json_null(), json_string(""), with_sources ? json_array() : NULL,
				  NULL);
	}
	as_known_keys(v, field, keys, with_sources ? 4 : 2, "unknown field", errs);
	as_key_path(kf, sizeof(kf), field, "score");
	as_int(json_object_get(v, "score"), kf, score, errs);
	as_key_path(kf, sizeof(kf), field, "rationale");
	as_text(json_object_get(v, "rationale"), kf, 0, AS_TEXT_MAX, &rationale, errs);
	if (with_sources) {
		s = json_object_get(v, "sources");
		as_key_path(kf, sizeof(kf), field, "sources");
		sources = s ? as_read_sources(s, kf, errs) : json_array();
	}
	return as_dim_new(*score == SCORING_UNSET ? json_null() : json_integer(*score),
			  json_string(rationale ? rationale : ""), sources,
			  with_sources ? as_read_dim_as_of(v, field, errs) : NULL);
}

/* A fixed set of named dimensions (evidence, barriers, protective), all required. */
static json_t *as_read_dims(json_t *v, const char *base, const char *const *names, int n,
			    const char *unknown_msg, int with_sources, int *scores,
			    struct scoring_errors *errs)
{
	char field[SCORING_FIELD_LEN];
	json_t *out = json_object(), *d;
	int i;

	for (i = 0; i < n; i++)
		scores[i] = SCORING_UNSET;
	if (!json_is_object(v)) {
		scoring_errors_add(errs, as_where(base), "must be an object with the %d named parts",
				   n);
		return out;
	}
	as_known_keys(v, base, names, (size_t)n, unknown_msg, errs);
	for (i = 0; i < n; i++) {
		as_key_path(field, sizeof(field), base, names[i]);
		d = json_object_get(v, names[i]);
		if (!d) {
			scoring_errors_add(errs, field, "is required");
			continue;
		}
		json_object_set_new(out, names[i],
				    as_read_dim(d, field, with_sources, &scores[i], errs));
	}
	return out;
}

static json_t *as_read_growth(json_t *v, const char *base, int *growth,
			      struct scoring_errors *errs)
{
	return as_read_dim(v, as_where(base), 0, growth, errs);
}

static json_t *as_read_override(json_t *v, const char *base, struct scoring_input *in,
				struct scoring_errors *errs)
{
	static const char *const keys[] = { "score", "reason" };
	char kf[SCORING_FIELD_LEN];
	const char *reason = NULL;
	double score;

	in->has_override = 0;
	in->override_score = NAN;
	if (!v || json_is_null(v))
		return json_null();
	in->has_override = 1;
	if (!json_is_object(v)) {
		scoring_errors_add(errs, as_where(base), "must be null or an object with score and reason");
		return json_null();
	}
	as_known_keys(v, base, keys, 2, "unknown field", errs);
	as_key_path(kf, sizeof(kf), base, "score");
	as_number(json_object_get(v, "score"), kf, &score, errs);
	in->override_score = score;
	as_key_path(kf, sizeof(kf), base, "reason");
	as_text(json_object_get(v, "reason"), kf, AS_REQUIRED | AS_NONEMPTY, AS_TEXT_MAX, &reason,
		errs);
	if (isnan(score) || !reason)
		return json_null();
	return json_pack("{s:o, s:s}", "score", as_number_copy(json_object_get(v, "score")),
			 "reason", reason);
}

static json_t *as_read_task(json_t *v, const char *field, struct scoring_task *t,
			    struct scoring_errors *errs)
{
	static const char *const keys[] = { "name", "time_share", "score", "rationale" };
	char kf[SCORING_FIELD_LEN];
	const char *name = NULL, *rationale = NULL;
	json_t *o;

	t->time_share = NAN;
	t->score = SCORING_UNSET;
	if (!json_is_object(v)) {
		scoring_errors_add(errs, field, "must be an object");
		return json_null();
	}
	as_known_keys(v, field, keys, 4, "unknown field", errs);
	as_key_path(kf, sizeof(kf), field, "name");
	as_text(json_object_get(v, "name"), kf, AS_REQUIRED | AS_NONEMPTY | AS_ONELINE,
		AS_NAME_MAX, &name, errs);
	as_key_path(kf, sizeof(kf), field, "time_share");
	as_number(json_object_get(v, "time_share"), kf, &t->time_share, errs);
	as_key_path(kf, sizeof(kf), field, "score");
	as_int(json_object_get(v, "score"), kf, &t->score, errs);
	as_key_path(kf, sizeof(kf), field, "rationale");
	as_text(json_object_get(v, "rationale"), kf, 0, AS_TEXT_MAX, &rationale, errs);

	o = json_object();
	json_object_set_new(o, "name", as_str_or_null(name));
	json_object_set_new(o, "time_share", as_number_copy(json_object_get(v, "time_share")));
	json_object_set_new(o, "score",
			    t->score == SCORING_UNSET ? json_null() : json_integer(t->score));
	json_object_set_new(o, "rationale", json_string(rationale ? rationale : ""));
	return o;
}

static json_t *as_read_tasks(json_t *v, const char *base, struct scoring_input *in,
			     struct scoring_errors *errs)
{
	char field[SCORING_FIELD_LEN];
	struct scoring_task spare;
	json_t *out = json_array(), *t;
	size_t i, n;

	if (!json_is_array(v)) {
		in->n_tasks = -1; /* reported here: scoring_validate() says no more */
		scoring_errors_add(errs, as_where(base), "must be an array of tasks");
		return out;
	}
	n = json_array_size(v);
	/* Past 50 the struct has no room: say 51 so that the count is reported, and still
	 * read every task so that its own errors are reported too. */
	in->n_tasks = n > SCORING_MAX_TASKS ? SCORING_MAX_TASKS + 1 : (int)n;
	json_array_foreach(v, i, t) {
		as_path(field, sizeof(field), "%s[%zu]", as_where(base), i);
		json_array_append_new(out, as_read_task(t, field,
						       i < SCORING_MAX_TASKS ? &in->tasks[i] : &spare,
						       errs));
	}
	return out;
}

/* ---- the narrative ------------------------------------------------------------------ */

/* The prose of the role (API.md, "Narrative"): read, normalized and compared by one table. */
enum as_narrative_kind { AS_N_TEXT, AS_N_COMMENTARY, AS_N_LINKS };
static const struct as_narrative_member {
	const char *name;
	enum as_narrative_kind kind;
} as_narrative[] = {
	{ "summary", AS_N_TEXT },
	{ "seniority_note", AS_N_TEXT },
	{ "commentary", AS_N_COMMENTARY },
	{ "sources", AS_N_LINKS },
	{ "resources", AS_N_LINKS },
};
#define AS_N_NARRATIVE ((int)(sizeof(as_narrative) / sizeof(as_narrative[0])))

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

/* ---- whole assessments and roles ----------------------------------------------------- */

static void as_input_unset(struct scoring_input *in)
{
	int i;

	memset(in, 0, sizeof(*in));
	in->n_tasks = -1;
	for (i = 0; i < SCORING_N_EVIDENCE; i++)
		in->evidence[i] = SCORING_UNSET;
	for (i = 0; i < SCORING_N_BARRIERS; i++)
		in->barriers[i] = SCORING_UNSET;
	for (i = 0; i < SCORING_N_PROTECTIVE; i++)
		in->protective[i] = SCORING_UNSET;
	in->growth = SCORING_UNSET;
	in->override_score = NAN;
}

static int as_errcount(const struct scoring_errors *errs)
{
	return errs->n + errs->dropped;
}

int assessment_read(json_t *v, const char *path, struct scoring_input *in, json_t **norm,
		    struct scoring_errors *errs)
{
	static const char *const keys[] = { "tasks", "evidence", "barriers", "protective",
					    "growth", "override" };
	char field[SCORING_FIELD_LEN];
	int before = as_errcount(errs);
	json_t *out = NULL, *part;

	*norm = NULL;
	as_input_unset(in);
	if (!path)
		path = "";
	if (!json_is_object(v)) {
		scoring_errors_add(errs, as_where(path), "must be a JSON object (an assessment)");
		return RC_INVALID;
	}
	as_known_keys(v, path, keys, 6, "unknown field", errs);
	out = json_object();

	as_key_path(field, sizeof(field), path, "tasks");
	part = json_object_get(v, "tasks");
	if (part)
		json_object_set_new(out, "tasks", as_read_tasks(part, field, in, errs));
	else
		scoring_errors_add(errs, field, "is required");

	as_key_path(field, sizeof(field), path, "evidence");
	part = json_object_get(v, "evidence");
	if (part)
		json_object_set_new(out, "evidence",
				    as_read_dims(part, field, scoring_evidence_names,
						 SCORING_N_EVIDENCE, "unknown evidence dimension", 1,
						 in->evidence, errs));
	else
		scoring_errors_add(errs, field, "is required");

	as_key_path(field, sizeof(field), path, "barriers");
	part = json_object_get(v, "barriers");
	if (part)
		json_object_set_new(out, "barriers",
				    as_read_dims(part, field, scoring_barrier_names,
						 SCORING_N_BARRIERS, "unknown barrier", 0,
						 in->barriers, errs));
	else
		scoring_errors_add(errs, field, "is required");

	as_key_path(field, sizeof(field), path, "protective");
	part = json_object_get(v, "protective");
	if (part)
		json_object_set_new(out, "protective",
				    as_read_dims(part, field, scoring_protective_names,
						 SCORING_N_PROTECTIVE, "unknown protective principle",
						 0, in->protective, errs));
	else
		scoring_errors_add(errs, field, "is required");

	as_key_path(field, sizeof(field), path, "growth");
	part = json_object_get(v, "growth");
	if (part)
		json_object_set_new(out, "growth", as_read_growth(part, field, &in->growth, errs));
	else
		scoring_errors_add(errs, field, "is required");

	as_key_path(field, sizeof(field), path, "override");
	json_object_set_new(out, "override",
			    as_read_override(json_object_get(v, "override"), field, in, errs));

	scoring_validate(in, SCORING_ALL, path, errs);
	if (as_errcount(errs) > before) {
		json_decref(out);
		return RC_INVALID;
	}
	*norm = out;
	return 0;
}

int assessment_read_role(json_t *v, int flags, struct scoring_input *in, json_t **norm,
			 struct scoring_errors *errs)
{
	static const char *const keys[] = { "slug", "title", "aliases", "seniority", "category",
					    "primary_function", "not_this_role",
					    "typical_experience", "codes", "summary", "seniority_note",
					    "commentary", "sources", "resources", "assessment" };
	static const char *const descriptive[] = { "seniority", "category", "primary_function",
						   "not_this_role", "typical_experience" };
	char field[SCORING_FIELD_LEN];
	int before = as_errcount(errs);
	json_t *out = NULL, *slug, *aliases, *alias, *a, *anorm = NULL, *alist;
	const char *s;
	size_t i;

	*norm = NULL;
	as_input_unset(in);
	if (!json_is_object(v)) {
		scoring_errors_add(errs, "body", "must be a JSON object (a role)");
		return RC_INVALID;
	}
	as_known_keys(v, "", keys, sizeof(keys) / sizeof(keys[0]), "unknown field", errs);
	out = json_object();

	slug = json_object_get(v, "slug");
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

	as_text(json_object_get(v, "title"), "title",
		(flags & ASSESSMENT_OPTIONAL_META) ? AS_NONEMPTY | AS_ONELINE | AS_NULLABLE
						   : AS_REQUIRED | AS_NONEMPTY | AS_ONELINE,
		AS_NAME_MAX, &s, errs);
	json_object_set_new(out, "title", as_str_or_null(s));

	alist = json_array();
	aliases = json_object_get(v, "aliases");
	if (aliases && !json_is_null(aliases)) {
		if (!json_is_array(aliases)) {
			scoring_errors_add(errs, "aliases", "must be an array of strings");
		} else {
			if (json_array_size(aliases) > AS_MAX_ALIASES)
				scoring_errors_add(errs, "aliases", "must have at most %d aliases",
						   AS_MAX_ALIASES);
			json_array_foreach(aliases, i, alias) {
				char aslug[128];

				as_path(field, sizeof(field), "aliases[%zu]", i);
				if (as_text(alias, field, AS_REQUIRED | AS_NONEMPTY | AS_ONELINE,
					    AS_NAME_MAX, &s, errs))
					continue;
				/* An alias that is the role's own slug would redirect the role to
				 * itself: refused, so that the body never says what the aliases
				 * table does not hold. */
				if (json_is_string(slug) &&
				    !assessment_slugify(s, aslug, sizeof(aslug)) &&
				    !strcmp(aslug, json_string_value(slug))) {
					scoring_errors_add(errs, field,
							   "is the role's own slug (\"%s\"), "
							   "not an alias", aslug);
					continue;
				}
				json_array_append_new(alist, json_string(s));
			}
		}
	}
	json_object_set_new(out, "aliases", alist);

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

/* POST evidence: the given dimensions' given fields replace the current ones. */
static void as_merge_evidence(json_t *v, const char *path, json_t *evidence,
			      struct scoring_input *in, struct scoring_errors *errs)
{
	static const char *const keys[] = { "score", "rationale", "sources", "as_of" };
	char field[SCORING_FIELD_LEN], kf[SCORING_FIELD_LEN];
	const char *key, *rationale;
	json_t *dim, *cur, *x, *score_j, *rat_j, *src_j;
	int i, score;

	if (!json_is_object(v) || json_object_size(v) == 0) {
		scoring_errors_add(errs, as_where(path),
				   "must be an object naming at least one evidence dimension");
		return;
	}
	json_object_foreach(v, key, dim) {
		as_key_path(field, sizeof(field), path, key);
		for (i = 0; i < SCORING_N_EVIDENCE; i++)
			if (!strcmp(key, scoring_evidence_names[i]))
				break;
		if (i == SCORING_N_EVIDENCE) {
			scoring_errors_add(errs, field, "unknown evidence dimension");
			continue;
		}
		if (!json_is_object(dim)) {
			scoring_errors_add(errs, field, "must be an object");
			continue;
		}
		as_known_keys(dim, field, keys, 4, "unknown field", errs);
		cur = json_object_get(evidence, key);
		score_j = json_incref(json_object_get(cur, "score"));
		rat_j = json_incref(json_object_get(cur, "rationale"));
		src_j = json_incref(json_object_get(cur, "sources"));

		if ((x = json_object_get(dim, "score"))) {
			as_key_path(kf, sizeof(kf), field, "score");
			as_int(x, kf, &score, errs);
			in->evidence[i] = score;
			json_decref(score_j);
			score_j = score == SCORING_UNSET ? json_null() : json_integer(score);
		}
		if ((x = json_object_get(dim, "rationale"))) {
			as_key_path(kf, sizeof(kf), field, "rationale");
			if (!as_text(x, kf, 0, AS_TEXT_MAX, &rationale, errs)) {
				json_decref(rat_j);
				rat_j = json_string(rationale);
			}
		}
		if ((x = json_object_get(dim, "sources"))) {
			as_key_path(kf, sizeof(kf), field, "sources");
			json_decref(src_j);
			src_j = as_read_sources(x, kf, errs);
		}
		/* as_of is kept only when given: recency_fill() dates the dimension after. */
		json_object_set_new(evidence, key,
				    as_dim_new(score_j ? score_j : json_null(),
					       rat_j ? rat_j : json_string(""),
					       src_j ? src_j : json_array(),
					       as_read_dim_as_of(dim, field, errs)));
	}
}

int assessment_read_part(enum scoring_part part, json_t *v, const char *path, json_t *current,
			 struct scoring_input *in, json_t **norm, struct scoring_errors *errs)
{
	int before = as_errcount(errs);
	json_t *out = NULL, *evidence;

	*norm = NULL;
	if (!path)
		path = "";
	if (!json_is_object(current)) {
		scoring_errors_add(errs, as_where(path), "no current assessment to update");
		return RC_INVALID;
	}
	/* Shallow copies: current and its members are never changed, only replaced in out. */
	out = json_copy(current);
	if (!out)
		return RC_NOMEM;
	switch (part) {
	case SCORING_TASKS:
		json_object_set_new(out, "tasks", as_read_tasks(v, path, in, errs));
		break;
	case SCORING_EVIDENCE:
		evidence = json_object_get(out, "evidence");
		evidence = json_is_object(evidence) ? json_copy(evidence) : json_object();
		json_object_set_new(out, "evidence", evidence);
		as_merge_evidence(v, path, evidence, in, errs);
		break;
	case SCORING_BARRIERS:
		json_object_set_new(out, "barriers",
				    as_read_dims(v, path, scoring_barrier_names,
						 SCORING_N_BARRIERS, "unknown barrier", 0,
						 in->barriers, errs));
		break;
	case SCORING_PROTECTIVE:
		json_object_set_new(out, "protective",
				    as_read_dims(v, path, scoring_protective_names,
						 SCORING_N_PROTECTIVE, "unknown protective principle",
						 0, in->protective, errs));
		break;
	case SCORING_GROWTH:
		json_object_set_new(out, "growth", as_read_growth(v, path, &in->growth, errs));
		break;
	case SCORING_OVERRIDE:
		json_object_set_new(out, "override", as_read_override(v, path, in, errs));
		break;
	case SCORING_ALL:
	default:
		scoring_errors_add(errs, as_where(path), "not a part of an assessment");
		break;
	}
	scoring_validate(in, (unsigned)part, path, errs);
	if (as_errcount(errs) > before) {
		json_decref(out);
		return RC_INVALID;
	}
	*norm = out;
	return 0;
}

int assessment_input(json_t *norm, struct scoring_input *in)
{
	struct scoring_errors errs;
	json_t *a = norm, *tmp = NULL;
	int rc;

	/* A stored role holds its assessment under "assessment". */
	if (json_is_object(norm) && !json_object_get(norm, "tasks") &&
	    json_is_object(json_object_get(norm, "assessment")))
		a = json_object_get(norm, "assessment");
	scoring_errors_init(&errs);
	rc = assessment_read(a, "", in, &tmp, &errs);
	json_decref(tmp);
	return rc;
}

/* ---- the score block --------------------------------------------------------------- */

/* Four decimals: enough for every figure of the method, and 3.7500000000000004 reads 3.75. */
static double as_round4(double x)
{
	double r = round(x * 1e4) / 1e4;

	return r == 0 ? 0.0 : r;
}

/* Percent sums: an integer when they are whole (25, not 25.0), as API.md shows them. */
static json_t *as_share(double x)
{
	double r = as_round4(x);

	if (floor(r) == r && fabs(r) < 1e15)
		return json_integer((json_int_t)r);
	return json_real(r);
}

/* The formula's own verdict, beside an override: API.md's {score, zone, label}. */
static json_t *as_verdict(const struct scoring_verdict *v)
{
	return json_pack("{s:f, s:s, s:s}", "score", v->score, "zone", scoring_zone_name(v->zone),
			 "label", v->label);
}

json_t *assessment_score_block(const struct scoring_result *r, const char *slug, const char *title,
			       int revision, const char *updated_at)
{
	json_t *b = json_object();

	json_object_set_new(b, "role", as_str_or_null(slug));
	json_object_set_new(b, "title", as_str_or_null(title));
	json_object_set_new(b, "score", json_real(r->published.score));
	json_object_set_new(b, "score_exact", json_real(as_round4(r->published.score_exact)));
	json_object_set_new(b, "zone", json_string(scoring_zone_name(r->published.zone)));
	json_object_set_new(b, "label", json_string(r->published.label));
	json_object_set_new(b, "weighted_task_score", json_real(as_round4(r->weighted_task_score)));
	json_object_set_new(b, "task_resistance", json_real(as_round4(r->task_resistance)));
	json_object_set_new(b, "evidence",
			    json_pack("{s:i, s:f}", "total", r->evidence_total, "modifier",
				      as_round4(r->evidence_modifier)));
	json_object_set_new(b, "barriers",
			    json_pack("{s:i, s:f, s:s}", "total", r->barrier_total, "modifier",
				      as_round4(r->barrier_modifier), "strength",
				      r->barrier_strength ? r->barrier_strength : ""));
	json_object_set_new(b, "protective", json_pack("{s:i}", "total", r->protective_total));
	json_object_set_new(b, "growth",
			    json_pack("{s:i, s:f, s:s}", "score", r->growth, "modifier",
				      as_round4(r->growth_modifier), "wording",
				      r->growth_wording ? r->growth_wording : ""));
	json_object_set_new(b, "raw", json_real(as_round4(r->raw)));
	json_object_set_new(b, "share_scoring_3plus", as_share(r->share_scoring_3plus));
	json_object_set_new(b, "impact",
			    json_pack("{s:o, s:o, s:o}", "displaced", as_share(r->impact_displaced),
				      "augmented", as_share(r->impact_augmented), "not_involved",
				      as_share(r->impact_not_involved)));
	json_object_set_new(b, "composition",
			    json_pack("{s:f, s:f, s:f, s:f, s:f}", "task_resistance",
				      r->comp_task_resistance, "evidence", r->comp_evidence,
				      "barriers", r->comp_barriers, "protective",
				      r->comp_protective, "growth", r->comp_growth));
	/* The reason lives in the assessment, not in the numbers: see
	 * assessment_score_block_set_reason(). */
	if (r->has_override)
		json_object_set_new(b, "override",
				    json_pack("{s:f, s:n}", "score", r->override_score, "reason"));
	else
		json_object_set_new(b, "override", json_null());
	json_object_set_new(b, "formula", as_verdict(&r->formula));
	if (revision > 0)
		json_object_set_new(b, "revision", json_integer(revision));
	if (updated_at)
		json_object_set_new(b, "updated_at", json_string(updated_at));
	json_object_set_new(b, "method_version", json_string(SCORING_METHOD_VERSION));
	return b;
}

void assessment_score_block_set_reason(json_t *block, json_t *norm)
{
	json_t *ov, *a = norm, *reason;

	if (json_is_object(norm) && json_is_object(json_object_get(norm, "assessment")))
		a = json_object_get(norm, "assessment");
	ov = json_object_get(block, "override");
	reason = json_object_get(json_object_get(a, "override"), "reason");
	if (json_is_object(ov) && json_is_string(reason))
		json_object_set(ov, "reason", reason);
}

/* ---- diff, slugs, dumps ------------------------------------------------------------ */

static int as_same(json_t *a, json_t *b)
{
	if (!a || !b)
		return !a && !b;
	return json_equal(a, b);
}

static void as_diff_dims(json_t *old_a, json_t *new_a, const char *part,
			 const char *const *names, int n, json_t *out)
{
	char path[SCORING_FIELD_LEN];
	json_t *o = json_object_get(old_a, part), *nw = json_object_get(new_a, part);
	int i;

	for (i = 0; i < n; i++) {
		if (as_same(json_object_get(o, names[i]), json_object_get(nw, names[i])))
			continue;
		as_path(path, sizeof(path), "%s.%s", part, names[i]);
		json_array_append_new(out, json_string(path));
	}
}

/* A narrative member absent from a role stored before the narrative existed is its default:
 * null, an empty list, a commentary of nulls. */
static json_t *as_member_or_null(json_t *v)
{
	return !v || (json_is_array(v) && !json_array_size(v)) ? json_null() : v;
}

static void as_diff_narrative(json_t *old_role, json_t *new_role, json_t *out)
{
	char path[SCORING_FIELD_LEN];
	int i, j;

	for (i = 0; i < AS_N_NARRATIVE; i++) {
		const char *k = as_narrative[i].name;
		json_t *o = json_object_get(old_role, k), *n = json_object_get(new_role, k);

		if (as_narrative[i].kind != AS_N_COMMENTARY) {
			if (!json_equal(as_member_or_null(o), as_member_or_null(n)))
				json_array_append_new(out, json_string(k));
			continue;
		}
		for (j = 0; j < ASSESSMENT_N_COMMENTARY; j++) {
			const char *sec = assessment_commentary_names[j];

			if (json_equal(as_member_or_null(json_object_get(o, sec)),
				       as_member_or_null(json_object_get(n, sec))))
				continue;
			as_path(path, sizeof(path), "%s.%s", k, sec);
			json_array_append_new(out, json_string(path));
		}
	}
}

json_t *assessment_diff(json_t *old_role, json_t *new_role)
{
	static const char *const role_keys[] = { "slug", "title", "aliases", "seniority",
						 "category", "primary_function", "not_this_role",
						 "typical_experience", "codes" };
	json_t *out = json_array(), *oa = old_role, *na = new_role;
	size_t i;

	if (json_object_get(old_role, "assessment") || json_object_get(new_role, "assessment")) {
		for (i = 0; i < sizeof(role_keys) / sizeof(role_keys[0]); i++)
			if (!as_same(json_object_get(old_role, role_keys[i]),
				     json_object_get(new_role, role_keys[i])))
				json_array_append_new(out, json_string(role_keys[i]));
		as_diff_narrative(old_role, new_role, out);
		oa = json_object_get(old_role, "assessment");
		na = json_object_get(new_role, "assessment");
	}
	if (!as_same(json_object_get(oa, "tasks"), json_object_get(na, "tasks")))
		json_array_append_new(out, json_string("tasks"));
	as_diff_dims(oa, na, "evidence", scoring_evidence_names, SCORING_N_EVIDENCE, out);
	as_diff_dims(oa, na, "barriers", scoring_barrier_names, SCORING_N_BARRIERS, out);
	as_diff_dims(oa, na, "protective", scoring_protective_names, SCORING_N_PROTECTIVE, out);
	if (!as_same(json_object_get(oa, "growth"), json_object_get(na, "growth")))
		json_array_append_new(out, json_string("growth"));
	/* An absent override and a null one are the same: no override. */
	{
		json_t *ov_o = json_object_get(oa, "override"), *ov_n = json_object_get(na, "override");

		if (json_is_null(ov_o))
			ov_o = NULL;
		if (json_is_null(ov_n))
			ov_n = NULL;
		if (!as_same(ov_o, ov_n))
			json_array_append_new(out, json_string("override"));
	}
	return out;
}

int assessment_slugify(const char *name, char *out, size_t outlen)
{
	size_t n = 0, max;
	int pending_hyphen = 0;
	const char *p;

	if (!out || outlen == 0)
		return RC_INVALID;
	out[0] = '\0';
	if (!name)
		return RC_INVALID;
	max = outlen - 1 < AS_SLUG_MAX ? outlen - 1 : AS_SLUG_MAX;
	for (p = name; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
			/* A hyphen only between two kept runs: none leading or trailing. */
			if (pending_hyphen && n > 0) {
				if (n + 2 > max)
					break;
				out[n++] = '-';
			}
			pending_hyphen = 0;
			if (n + 1 > max)
				break;
			out[n++] = (char)c;
		} else {
			pending_hyphen = 1;
		}
	}
	out[n] = '\0';
	return n ? 0 : RC_INVALID;
}

int assessment_slug_ok(const char *s)
{
	size_t n = 0;
	const char *p;

	if (!s || !*s || *s == '-')
		return 0;
	for (p = s; *p; p++, n++) {
		if (*p == '-') {
			if (p[1] == '-' || p[1] == '\0')
				return 0;
		} else if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9'))) {
			return 0;
		}
	}
	return n <= AS_SLUG_MAX;
}

json_t *assessment_loadb(const char *text, size_t len, json_error_t *err)
{
	json_t *v = json_loadb(text, len, JSON_REJECT_DUPLICATES, err);

	if (!v && json_error_code(err) == json_error_numeric_overflow)
		v = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_INT_AS_REAL, err);
	return v;
}

const char *assessment_json_error(const json_error_t *err)
{
	/* Jansson's own words name a flag of its API. */
	if (json_error_code(err) == json_error_null_character)
		return "\\u0000 is not allowed in strings";
	return err->text;
}

char *assessment_dumps(const json_t *v)
{
	/* JSON_ENCODE_ANY: a single figure of a block dumps as well as the block. */
	return json_dumps(v, ASSESSMENT_JSON_FLAGS | JSON_ENCODE_ANY);
}

/* ---------------------------------------------------------------------------------------
 * Dumping a role through a memo
 */

/* Objects down to this depth are written member by member (the role, its assessment, the
 * assessment's evidence, barriers and protective principles); deeper values are dumped whole
 * and memoized when large. */
#define AS_MEMO_DEPTH 2
/* Strings shorter than this are dumped, not memoized: the look-up would cost as much. */
#define AS_MEMO_MIN_STRING 64
/* A dumped role is bounded by the 1 MiB body it came from, with room for escapes. */
#define AS_MEMO_MAX_TEXT (16u << 20)

void assessment_memo_release(struct assessment_memo *m)
{
	size_t i;

	if (!m)
		return;
	for (i = 0; i < m->n; i++) {
		json_decref(m->items[i].v);
		free(m->items[i].text);
	}
	free(m->items);
	memset(m, 0, sizeof(*m));
}

static int as_memo_add(struct assessment_memo *m, json_t *v, char *text, size_t len)
{
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 32;
		struct assessment_memo_item *items = realloc(m->items, cap * sizeof(*items));

		if (!items)
			return RC_NOMEM;
		m->items = items;
		m->cap = cap;
	}
	m->items[m->n].v = json_incref(v);
	m->items[m->n].text = text;
	m->items[m->n].len = len;
	m->n++;
	return 0;
}

/* Appends the dump of a value that is not written member by member. */
static int as_memo_leaf(struct buf *out, json_t *v, struct assessment_memo *prev,
			struct assessment_memo *next)
{
	size_t i, len;
	char *text;
	int rc, memo = json_is_array(v) || json_is_object(v) ||
		       (json_is_string(v) && json_string_length(v) >= AS_MEMO_MIN_STRING);

	for (i = 0; memo && prev && i < prev->n; i++) {
		if (prev->items[i].v != v)
			continue;
		rc = buf_add(out, prev->items[i].text, prev->items[i].len);
		if (rc)
			return rc;
		/* Moved: next holds the reference and the text now. */
		rc = as_memo_add(next, v, prev->items[i].text, prev->items[i].len);
		if (rc)
			return rc;
		json_decref(prev->items[i].v);
		prev->items[i] = prev->items[--prev->n];
		return 0;
	}
	text = assessment_dumps(v);
	if (!text)
		return RC_NOMEM;
	len = strlen(text);
	rc = buf_add(out, text, len);
	if (!rc && memo && !as_memo_add(next, v, text, len))
		return 0;
	free(text);
	return rc;
}

static int as_memo_value(struct buf *out, json_t *v, int depth, struct assessment_memo *prev,
			 struct assessment_memo *next)
{
	const char *key;
	json_t *member;
	int rc, first = 1;

	if (!json_is_object(v) || depth > AS_MEMO_DEPTH)
		return as_memo_leaf(out, v, prev, next);
	rc = buf_addc(out, '{');
	json_object_foreach(v, key, member) {
		json_t *k = json_string(key);
		char *kt = k ? assessment_dumps(k) : NULL;

		json_decref(k);
		if (!kt)
			return RC_NOMEM;
		if (!first)
			rc = rc ? rc : buf_addc(out, ',');
		first = 0;
		rc = rc ? rc : buf_adds(out, kt);
		free(kt);
		rc = rc ? rc : buf_addc(out, ':');
		rc = rc ? rc : as_memo_value(out, member, depth + 1, prev, next);
		if (rc)
			return rc;
	}
	return rc ? rc : buf_addc(out, '}');
}

char *assessment_dumps_memo(json_t *role, struct assessment_memo *prev,
			    struct assessment_memo *next)
{
	struct buf out = BUF_INIT(AS_MEMO_MAX_TEXT);

	if (as_memo_value(&out, role, 0, prev, next)) {
		buf_release(&out);
		return NULL;
	}
	return buf_detach(&out, NULL);
}
