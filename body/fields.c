/*
 * fields.c: the field readers of the assessment reader (assessment_int.h): paths, integers,
 * numbers, texts, source lists; the text checks, slugs, the strict JSON parse and the one
 * number format of every dump (assessment.h). Each reader reports what is wrong with its
 * field, naming the full path, and never stops the reading of the rest.
 */
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "body/assessment_int.h"
#include "util/rc.h"
#include "util/url.h"

void as_path(char *out, size_t outlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(out, outlen, fmt, ap);
	va_end(ap);
}

/* base + "." + key, or key alone at the top of a bare body. */
void as_key_path(char *out, size_t outlen, const char *base, const char *key)
{
	if (base && *base)
		as_path(out, outlen, "%s.%s", base, key);
	else
		as_path(out, outlen, "%s", key);
}

/* The field named in an error about a whole body, which has no path of its own. */
const char *as_where(const char *path)
{
	return path && *path ? path : "body";
}

int as_errcount(const struct scoring_errors *errs)
{
	return errs->n + errs->dropped;
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
void as_known_keys(json_t *obj, const char *base, const char *const *allowed, size_t n,
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
int as_int(json_t *v, const char *field, int *out, struct scoring_errors *errs)
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

int as_number(json_t *v, const char *field, double *out, struct scoring_errors *errs)
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
int as_text(json_t *v, const char *field, int checks, size_t max_chars, const char **out,
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
json_t *as_number_copy(json_t *v)
{
	if (json_is_integer(v))
		return json_integer(json_integer_value(v));
	if (json_is_real(v))
		return json_real(json_real_value(v));
	return json_null();
}

/* json_string() of a string known to be valid, or null for NULL. */
json_t *as_str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}


/* A list of {title, url}: the sources of an evidence dimension or of the role, its resources.
 * URLs must be http or https (they become links on the role's page). */
json_t *as_read_sources(json_t *v, const char *field, struct scoring_errors *errs)
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
	/* Any JSON value parses (a string, a number): one that is not an object is then refused
	 * as breaking a rule (422 naming "body"), not as malformed (400). */
	size_t flags = JSON_REJECT_DUPLICATES | JSON_DECODE_ANY;
	json_t *v = json_loadb(text, len, flags, err);

	if (!v && json_error_code(err) == json_error_numeric_overflow)
		v = json_loadb(text, len, flags | JSON_DECODE_INT_AS_REAL, err);
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
