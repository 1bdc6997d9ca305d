/*
 * harness.h: the unit-test harness. A test file defines test functions, lists them in a
 * table and calls harness_main(). Each CHECK counts one assertion; the binary prints a line
 * "RESULT passed=N failed=M" that tests/run adds up, and exits 1 if any failed.
 */
#ifndef TESTS_HARNESS_H
#define TESTS_HARNESS_H

#include <math.h>
#include <stdio.h>
#include <string.h>

static int harness_passed, harness_failed;
static const char *harness_current;

#define CHECK(cond, ...)                                                                   \
	do {                                                                               \
		if (cond) {                                                                \
			harness_passed++;                                                  \
		} else {                                                                   \
			harness_failed++;                                                  \
			fprintf(stderr, "FAIL %s (%s:%d): ", harness_current, __FILE__,    \
				__LINE__);                                                 \
			fprintf(stderr, __VA_ARGS__);                                      \
			fputc('\n', stderr);                                               \
		}                                                                          \
	} while (0)

#define CHECK_INT(got, want) \
	CHECK((long long)(got) == (long long)(want), "%s = %lld, want %lld", #got, \
	      (long long)(got), (long long)(want))
#define CHECK_NEAR(got, want, eps) \
	CHECK(fabs((double)(got) - (double)(want)) <= (eps), "%s = %.10g, want %.10g", #got, \
	      (double)(got), (double)(want))
#define CHECK_STR(got, want)                                                               \
	CHECK((got) && (want) && !strcmp((got), (want)), "%s = \"%s\", want \"%s\"", #got,  \
	      (got) ? (got) : "(null)", (want) ? (want) : "(null)")

struct harness_test {
	const char *name;
	void (*fn)(void);
};

static int harness_main(const char *suite, const struct harness_test *tests)
{
	const struct harness_test *t;

	for (t = tests; t->name; t++) {
		int before = harness_failed;
		harness_current = t->name;
		t->fn();
		fprintf(stderr, "%s %s.%s\n", harness_failed == before ? "ok  " : "FAIL", suite,
			t->name);
	}
	printf("RESULT passed=%d failed=%d\n", harness_passed, harness_failed);
	return harness_failed ? 1 : 0;
}

#endif
