/*
 * test_mergepatch.c: JSON Merge Patch against the examples of RFC 7396 (its Appendix A table
 * and the document of its section 3), and that neither input is changed.
 */
#include <stdlib.h>
#include <string.h>

#include "api/mergepatch.h"
#include "tests/unit/harness.h"

static json_t *parse(const char *text)
{
	json_error_t err;
	json_t *v = json_loads(text, JSON_DECODE_ANY, &err);

	CHECK(v != NULL, "parse %s: %s", text, err.text);
	return v;
}

static void check_case(const char *target, const char *patch, const char *want)
{
	json_t *t = parse(target), *p = parse(patch), *w = parse(want);
	char *t_before = json_dumps(t, JSON_ENCODE_ANY | JSON_SORT_KEYS);
	char *p_before = json_dumps(p, JSON_ENCODE_ANY | JSON_SORT_KEYS);
	json_t *got = mergepatch_apply(t, p);
	char *g = got ? json_dumps(got, JSON_ENCODE_ANY | JSON_SORT_KEYS) : NULL;
	char *t_after = json_dumps(t, JSON_ENCODE_ANY | JSON_SORT_KEYS);
	char *p_after = json_dumps(p, JSON_ENCODE_ANY | JSON_SORT_KEYS);

	CHECK(got && json_equal(got, w), "%s + %s = %s, want %s", target, patch, g ? g : "NULL",
	      want);
	CHECK(t_before && t_after && !strcmp(t_before, t_after), "target changed: %s", target);
	CHECK(p_before && p_after && !strcmp(p_before, p_after), "patch changed: %s", patch);
	free(g);
	free(t_before);
	free(p_before);
	free(t_after);
	free(p_after);
	json_decref(t);
	json_decref(p);
	json_decref(w);
	json_decref(got);
}

/* RFC 7396, Appendix A: ORIGINAL, PATCH, RESULT. */
static void test_rfc_table(void)
{
	static const char *const cases[][3] = {
		{ "{\"a\":\"b\"}", "{\"a\":\"c\"}", "{\"a\":\"c\"}" },
		{ "{\"a\":\"b\"}", "{\"b\":\"c\"}", "{\"a\":\"b\",\"b\":\"c\"}" },
		{ "{\"a\":\"b\"}", "{\"a\":null}", "{}" },
		{ "{\"a\":\"b\",\"b\":\"c\"}", "{\"a\":null}", "{\"b\":\"c\"}" },
		{ "{\"a\":[\"b\"]}", "{\"a\":\"c\"}", "{\"a\":\"c\"}" },
		{ "{\"a\":\"c\"}", "{\"a\":[\"b\"]}", "{\"a\":[\"b\"]}" },
		{ "{\"a\":{\"b\":\"c\"}}", "{\"a\":{\"b\":\"d\",\"c\":null}}", "{\"a\":{\"b\":\"d\"}}" },
		{ "{\"a\":[{\"b\":\"c\"}]}", "{\"a\":[1]}", "{\"a\":[1]}" },
		{ "[\"a\",\"b\"]", "[\"c\",\"d\"]", "[\"c\",\"d\"]" },
		{ "{\"a\":\"b\"}", "[\"c\"]", "[\"c\"]" },
		{ "{\"a\":\"foo\"}", "null", "null" },
		{ "{\"a\":\"foo\"}", "\"bar\"", "\"bar\"" },
		{ "{\"e\":null}", "{\"a\":1}", "{\"e\":null,\"a\":1}" },
		{ "[1,2]", "{\"a\":\"b\",\"c\":null}", "{\"a\":\"b\"}" },
		{ "{}", "{\"a\":{\"bb\":{\"ccc\":null}}}", "{\"a\":{\"bb\":{}}}" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_case(cases[i][0], cases[i][1], cases[i][2]);
}

/* RFC 7396, section 3: the example document and its patch. */
static void test_rfc_example(void)
{
	check_case("{\"title\":\"Goodbye!\",\"author\":{\"givenName\":\"John\","
		   "\"familyName\":\"Doe\"},\"tags\":[\"example\",\"sample\"],"
		   "\"content\":\"This will be unchanged\"}",
		   "{\"title\":\"Hello!\",\"phoneNumber\":\"+01-123-456-7890\","
		   "\"author\":{\"familyName\":null},\"tags\":[\"example\"]}",
		   "{\"title\":\"Hello!\",\"author\":{\"givenName\":\"John\"},"
		   "\"tags\":[\"example\"],\"content\":\"This will be unchanged\","
		   "\"phoneNumber\":\"+01-123-456-7890\"}");
}

/* An absent target is {} for an object patch; a patch of {} changes nothing. */
static void test_edges(void)
{
	json_t *p = parse("{\"a\":{\"b\":null,\"c\":1}}"), *got = mergepatch_apply(NULL, p);
	json_t *w = parse("{\"a\":{\"c\":1}}");

	CHECK(got && json_equal(got, w), "absent target");
	json_decref(got);
	json_decref(p);
	json_decref(w);
	check_case("{\"tasks\":[1,2],\"growth\":{\"score\":1,\"rationale\":\"r\"}}", "{}",
		   "{\"tasks\":[1,2],\"growth\":{\"score\":1,\"rationale\":\"r\"}}");
	check_case("{\"growth\":{\"score\":1,\"rationale\":\"r\"}}", "{\"growth\":{\"score\":2}}",
		   "{\"growth\":{\"score\":2,\"rationale\":\"r\"}}");
}

static const struct harness_test tests[] = {
	{ "rfc_table", test_rfc_table },
	{ "rfc_example", test_rfc_example },
	{ "edges", test_edges },
	{ NULL, NULL },
};

int main(void)
{
	return harness_main("mergepatch", tests);
}
