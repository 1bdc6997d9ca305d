/*
 * mergepatch.h: JSON Merge Patch (RFC 7396) over Jansson values, which has none. A patch
 * object sets the members it names (recursively for objects), and removes those it sets to
 * null; any other patch (an array, a string, null...) replaces the target whole.
 */
#ifndef API_MERGEPATCH_H
#define API_MERGEPATCH_H

#include <jansson.h>

/* The result of applying patch to target (NULL: an absent target). Changes neither; returns
 * a new reference of the caller's own (sharing nothing with either), or NULL when out of
 * memory. */
json_t *mergepatch_apply(json_t *target, json_t *patch);

#endif
