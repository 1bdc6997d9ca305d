/*
 * codes.c: a role's SOC and ISCO codes (codes.h). The forms are those the taxonomies publish:
 * SOC 2018 "15-1252", O*NET-SOC "15-1252.00", ISCO-08 "2", "25", "251", "2512".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "body/codes.h"
#include "util/buf.h"
#include "util/rc.h"

/* Each position of the longest SOC form: d a digit, the rest literal. */
static const char soc_form[] = "dd-dddd.dd";

/* 1 when the n characters of s fit soc_form from its start. */
static int soc_fits(const char *s, size_t n)
{
	size_t i;

	if (n > sizeof(soc_form) - 1)
		return 0;
	for (i = 0; i < n; i++) {
		if (soc_form[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != soc_form[i])
			return 0;
	}
	return 1;
}

int codes_soc_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	return (n == 7 || n == 10) && soc_fits(s, n);
}

int codes_soc_prefix_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	return n > 0 && soc_fits(s, n);
}

int codes_isco_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	return n >= 1 && n <= 4 && strspn(s, "0123456789") == n;
}

int codes_isco_prefix_ok(const char *s)
{
	return codes_isco_ok(s);
}

/* One kind's array: distinct valid codes, at most CODES_MAX. */
static json_t *codes_read_kind(json_t *v, const char *field, int (*ok)(const char *),
			       const char *form, struct scoring_errors *errs)
{
	char f[SCORING_FIELD_LEN];
	json_t *out = json_array(), *c;
	size_t i, j;

	if (!v || json_is_null(v))
		return out;
	if (!json_is_array(v)) {
		scoring_errors_add(errs, field, "must be an array of codes (%s)", form);
		return out;
	}
	if (json_array_size(v) > CODES_MAX)
		scoring_errors_add(errs, field, "must have at most %d codes", CODES_MAX);
	json_array_foreach(v, i, c) {
		const char *s = json_string_value(c);
		int dup = 0;

		snprintf(f, sizeof(f), "%s[%zu]", field, i);
		if (!s || !ok(s)) {
			scoring_errors_add(errs, f, "must be a code of the form %s", form);
			continue;
		}
		for (j = 0; j < i && !dup; j++)
			dup = json_equal(json_array_get(v, j), c);
		if (dup) {
			scoring_errors_add(errs, f, "is listed twice");
			continue;
		}
		json_array_append_new(out, json_string(s));
	}
	return out;
}

json_t *codes_read(json_t *v, const char *field, struct scoring_errors *errs)
{
	char f[SCORING_FIELD_LEN];
	json_t *soc = NULL, *isco = NULL;
	const char *key;
	json_t *x;

	if (v && !json_is_null(v) && !json_is_object(v)) {
		scoring_errors_add(errs, field, "must be an object with soc and isco arrays");
		v = NULL;
	}
	if (v && !json_is_null(v)) {
		json_object_foreach(v, key, x) {
			if (strcmp(key, "soc") && strcmp(key, "isco")) {
				snprintf(f, sizeof(f), "%s.%s", field, key);
				scoring_errors_add(errs, f, "unknown field (soc and isco are known)");
			}
		}
		soc = json_object_get(v, "soc");
		isco = json_object_get(v, "isco");
	}
	snprintf(f, sizeof(f), "%s.soc", field);
	soc = codes_read_kind(soc, f, codes_soc_ok, "NN-NNNN or NN-NNNN.NN", errs);
	snprintf(f, sizeof(f), "%s.isco", field);
	isco = codes_read_kind(isco, f, codes_isco_ok, "of 1 to 4 digits", errs);
	return json_pack("{s:o, s:o}", "soc", soc, "isco", isco);
}

int codes_join(json_t *role, const char *kind, char sep, char **out)
{
	json_t *list = json_object_get(json_object_get(role, "codes"), kind), *c;
	struct buf b = BUF_INIT(4096);
	size_t i;

	json_array_foreach(list, i, c) {
		if (b.len)
			buf_putc(&b, sep);
		buf_puts(&b, json_string_value(c) ? json_string_value(c) : "");
	}
	*out = NULL;
	if (buf_err(&b)) {
		buf_release(&b);
		return RC_NOMEM; /* CODES_MAX short codes fit the bound: only memory fails */
	}
	if (!b.len)
		return RC_OK;
	*out = buf_detach(&b, NULL);
	return *out ? RC_OK : RC_NOMEM;
}

json_t *codes_split(const char *list)
{
	json_t *out = json_array();
	const char *p = list, *e;

	while (out && p && *p) {
		e = strchr(p, ' ');
		if (!e)
			e = p + strlen(p);
		if (e > p)
			json_array_append_new(out, json_stringn(p, (size_t)(e - p)));
		p = *e ? e + 1 : e;
	}
	return out;
}

void codes_fill_default(json_t *role)
{
	json_t *a;

	if (!json_is_object(role) || json_object_get(role, "codes"))
		return;
	/* Set before "assessment" by moving that to the end again. */
	a = json_incref(json_object_get(role, "assessment"));
	if (a)
		json_object_del(role, "assessment");
	json_object_set_new(role, "codes", json_pack("{s:[], s:[]}", "soc", "isco"));
	if (a)
		json_object_set_new(role, "assessment", a);
}
