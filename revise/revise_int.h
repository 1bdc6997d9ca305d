/*
 * revise_int.h: what the files of the revision engine share and nothing outside revise/
 * includes: the engine's state, one write in progress, and the storing of a revision
 * (write.c) that every entry point of revise.c ends with.
 */
#ifndef REVISE_REVISE_INT_H
#define REVISE_REVISE_INT_H

#include <stdint.h>

#include <jansson.h>

#include "revise/cache.h"
#include "revise/events.h"
#include "revise/revise.h"

struct revise {
	struct store *store;
	struct revise_cache cache; /* the writer thread's alone (cache.h) */
};

/* One write of one role, as the entry points hand it to revise_write(). */
struct revise_op {
	struct revise_cache *cache; /* NULL: none (the batch writes) */
	const char *slug;
	const char *actor;
	int64_t role_id;            /* updates: the role's id, for the cache */
	struct revise_result *out;
};

/*
 * Stores `role` (normalized, its numbers in *in) as revision `revision` of op->slug, with the
 * score recomputed, and queues its events. prev is NULL for a new role, else the published
 * result of the revision before. Fills op->out; caches an update's role (a create's slot, which
 * could only hold a create rolled back, is dropped).
 */
enum rc revise_write(struct store_tx *tx, struct revise_op *op, json_t *role,
		     const struct scoring_input *in, int revision, const struct events_state *prev,
		     json_t *changes, const char *reason) __attribute__((warn_unused_result));

/* Takes the body's optional top-level "reason" out of it: *reason a malloc'd string of at
 * most 1000 characters, or NULL when absent or null; a broken one is added to errs. */
void revise_take_reason(json_t *body, char **reason, struct scoring_errors *errs);

#endif
