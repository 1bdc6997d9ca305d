/*
 * mergepatch.c: RFC 7396, section 2's MergePatch(Target, Patch), on a copy of the target.
 * Recursion follows the patch's depth, which the JSON reader bounds.
 */
#include "api/mergepatch.h"

/* Merges patch into target, a reference owned by the call (NULL: absent); returns the
 * result as a new reference (target itself when it stays an object). */
static json_t *merge(json_t *target, json_t *patch)
{
	const char *key;
	json_t *v, *sub;

	if (!json_is_object(patch)) {
		json_decref(target);
		return json_deep_copy(patch);
	}
	if (!json_is_object(target)) {
		json_decref(target);
		target = json_object();
		if (!target)
			return NULL;
	}
	json_object_foreach(patch, key, v) {
		if (json_is_null(v)) {
			json_object_del(target, key);
			continue;
		}
		sub = merge(json_incref(json_object_get(target, key)), v);
		if (!sub || json_object_set_new(target, key, sub)) {
			json_decref(target);
			return NULL;
		}
	}
	return target;
}

json_t *mergepatch_apply(json_t *target, json_t *patch)
{
	json_t *copy = target ? json_deep_copy(target) : NULL;

	if (target && !copy)
		return NULL;
	return merge(copy, patch);
}
