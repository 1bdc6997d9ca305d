/*
 * assessment_int.h: what the files of the assessment reader share and nothing outside body/
 * includes: the limits on texts, the field readers every part is read with (fields.c), the
 * table of an assessment's parts (parts.c) and the table of the narrative (role.c). The
 * readers report into a scoring_errors list and go on, so that one call lists every broken
 * field; a value they could not read is left SCORING_UNSET (NAN for doubles).
 */
#ifndef BODY_ASSESSMENT_INT_H
#define BODY_ASSESSMENT_INT_H

#include <stddef.h>

#include <jansson.h>

#include "body/assessment.h"
#include "scoring/scoring.h"

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

/* Text checks for as_text(). */
#define AS_REQUIRED 1 /* absent is an error */
#define AS_NONEMPTY 2 /* "" is an error */
#define AS_ONELINE 4  /* every control character is an error (names, titles, URLs); without
		       * it (prose), tab, line feed and carriage return are allowed */
#define AS_NULLABLE 8 /* JSON null is accepted (and gives a NULL string) */

/* ---- fields.c: paths and field readers ---------------------------------------------- */

/* A field path into out; vsnprintf truncates a path too long for the field, whose start
 * still names it. */
void as_path(char *out, size_t outlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* base + "." + key, or key alone at the top of a bare body. */
void as_key_path(char *out, size_t outlen, const char *base, const char *key);
/* The field named in an error about a whole body, which has no path of its own. */
const char *as_where(const char *path);
/* The errors of errs so far, dropped ones included: a reader compares the count before and
 * after to know whether it added any. */
int as_errcount(const struct scoring_errors *errs);
/* Reports every key of obj that is not in allowed[0..n) with message. */
void as_known_keys(json_t *obj, const char *base, const char *const *allowed, size_t n,
		   const char *message, struct scoring_errors *errs);
/* An integer field; a real with an integral value (2.0) is that integer. -1 after an error
 * (then *out is SCORING_UNSET). */
int as_int(json_t *v, const char *field, int *out, struct scoring_errors *errs);
/* A number field; -1 after an error (then *out is NAN). */
int as_number(json_t *v, const char *field, double *out, struct scoring_errors *errs);
/* A text field with the AS_* checks: *out the string, or NULL for an accepted null or absent
 * optional field; -1 after an error. */
int as_text(json_t *v, const char *field, int checks, size_t max_chars, const char **out,
	    struct scoring_errors *errs);
/* A number as the client gave it (an integer stays an integer); a new reference. */
json_t *as_number_copy(json_t *v);
/* json_string() of a string known to be valid, or null for NULL. */
json_t *as_str_or_null(const char *s);
/* A list of {title, url} with http or https URLs (the sources of an evidence dimension or of
 * the role, its resources): the normalized list, a new reference. */
json_t *as_read_sources(json_t *v, const char *field, struct scoring_errors *errs);

/* ---- parts.c: the parts of an assessment ------------------------------------------- */

/*
 * One part of an assessment, read, updated and compared through this table (in the order of
 * a normalized assessment): its member name, its scoring part, the reader of the whole part
 * (v NULL when absent: only a part that is not required is read then), and for the parts made
 * of named dimensions, their names (compared one by one in a diff). An absent part and a null
 * one are the same when null_is_absent is set (the override).
 */
struct as_part {
	const char *name;
	enum scoring_part part;
	int required;
	int null_is_absent;
	const char *const *dims;  /* NULL: not made of named dimensions */
	int n_dims;
	const char *unknown_dim;  /* the error for a dimension not in dims */
	int with_sources;         /* its dimensions have sources and as_of (evidence) */
	json_t *(*read)(const struct as_part *p, json_t *v, const char *field,
			struct scoring_input *in, struct scoring_errors *errs);
	/* A partial update of the part in out (POST evidence merges); NULL: read replaces it. */
	void (*merge)(json_t *v, const char *path, json_t *out, struct scoring_input *in,
		      struct scoring_errors *errs);
};
#define AS_N_PARTS 6
extern const struct as_part as_parts[AS_N_PARTS];
/* Every number of in unread (SCORING_UNSET, NAN, no tasks): where a reader starts. */
void as_input_unset(struct scoring_input *in);

/* ---- role.c: the narrative ---------------------------------------------------------- */

/* The prose of the role (API.md, "Narrative"): read, normalized and compared by one table. */
enum as_narrative_kind { AS_N_TEXT, AS_N_COMMENTARY, AS_N_LINKS };
struct as_narrative_member {
	const char *name;
	enum as_narrative_kind kind;
};
#define AS_N_NARRATIVE 5
extern const struct as_narrative_member as_narrative[AS_N_NARRATIVE];

#endif
