/* num.c: the one integer parser (num.h). */
#include <string.h>

#include "util/num.h"

enum rc num_parse_i64(const char *s, size_t len, int64_t min, int64_t max, int64_t *out)
{
	/* Accumulated as a negative number: its range holds INT64_MIN as well. */
	int64_t v = 0;
	size_t i = 0;
	int neg = 0;

	if (!s)
		return RC_INVALID;
	if (len && s[0] == '-') {
		neg = 1;
		i = 1;
	}
	if (i == len)
		return RC_INVALID;
	for (; i < len; i++) {
		int d = s[i] - '0';

		if (d < 0 || d > 9)
			return RC_INVALID;
		if (v < (INT64_MIN + d) / 10)
			return RC_INVALID;
		v = v * 10 - d;
	}
	if (!neg) {
		if (v == INT64_MIN)
			return RC_INVALID;
		v = -v;
	}
	if (v < min || v > max)
		return RC_INVALID;
	*out = v;
	return RC_OK;
}

enum rc num_parse(const char *s, int64_t min, int64_t max, int64_t *out)
{
	if (!s)
		return RC_INVALID;
	return num_parse_i64(s, strlen(s), min, max, out);
}
