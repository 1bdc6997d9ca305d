/*
 * num.h: the one integer parser of aijri. Every integer that comes from outside (a query
 * parameter, a setting, a path segment, a file name) is read with it, so that all of them
 * accept the same text: an optional '-' and one or more ASCII decimal digits, nothing before
 * or after (no space, no '+', no hex, no octal), within [min, max].
 */
#ifndef UTIL_NUM_H
#define UTIL_NUM_H

#include <stddef.h>
#include <stdint.h>

#include "util/rc.h"

/* Reads the len bytes at s as an integer within [min, max] into *out. RC_INVALID when the text
 * is not one (then *out is untouched), or when it is out of range, overflow included. */
__attribute__((warn_unused_result)) enum rc num_parse_i64(const char *s, size_t len, int64_t min,
							   int64_t max, int64_t *out);
/* The same on a whole NUL-terminated string (NULL is RC_INVALID). */
__attribute__((warn_unused_result)) enum rc num_parse(const char *s, int64_t min, int64_t max,
						       int64_t *out);

#endif
