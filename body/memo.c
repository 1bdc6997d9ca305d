/*
 * memo.c: dumping a role through a memo of its members' dumps (assessment.h), so that a write
 * that replaces one part of a role dumps only that part: the text is byte for byte that of
 * assessment_dumps().
 */
#include <stdlib.h>
#include <string.h>

#include "body/assessment.h"
#include "util/buf.h"
#include "util/rc.h"

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
