/*
 * cache.h: the writer's cache of current roles, parsed. A write reads the role it changes
 * from here when the store's current revision of that role is the one cached, instead of
 * reading ~20 KB of JSON and parsing it again, and dumps the new role through the memo of the
 * old one's member dumps (assessment_dumps_memo), so that only the changed part is dumped.
 *
 * Key: the role's slug; an entry answers only while the store's head of that slug has its id
 * and revision (revise_cache_find), so an entry for a revision that a failed batch rolled back
 * is never matched.
 * Bound: REVISE_CACHE_SLOTS roles, the slot of the oldest new slug taken first. In bytes:
 * each entry holds one role's parsed body and the dumps of its large members, a small multiple
 * of the role's text (~20 KB for the seed's); a role's text is bounded by the 1 MiB body limit
 * (ASSESSMENT_BODY_MAX), so the cache holds at most 16 times that multiple of 1 MiB, and a
 * few MiB for roles the size of the seed's.
 * Invalidation: an entry is put only after its job stored the revision it holds, replaced by
 * the next put of its slug, dropped when its role is archived or created again, and released
 * whole by revise_cache_release. The whole cache is emptied when the writer has undone writes
 * since (store_tx_undone moved, revise_cache_sync): a revision a failed batch rolled back may
 * have been committed since by another instance under the same number, with other content.
 * Thread: the store's writer thread alone, inside its jobs. revise_cache_init records the
 * thread it runs on (it must run inside a job); every other call asserts it is that thread.
 */
#ifndef REVISE_CACHE_H
#define REVISE_CACHE_H

#include <pthread.h>
#include <stdint.h>

#include <jansson.h>

#include "body/assessment.h"
#include "revise/events.h"
#include "scoring/scoring.h"

#define REVISE_CACHE_SLOTS 16

struct revise_cache_entry {
	char *slug;      /* NULL: a free slot */
	int64_t id;
	int revision;
	json_t *role;    /* the normalized role body (never changed once cached) */
	json_t *block;   /* its score block */
	struct scoring_input in; /* its numbers */
	struct assessment_memo memo; /* the dumps of its members, for the next write's dump */
	double score;
	char zone[8];
	char *label;
};

struct revise_cache {
	struct revise_cache_entry e[REVISE_CACHE_SLOTS];
	unsigned next;    /* the slot the next new slug takes */
	pthread_t owner;  /* the writer thread, recorded by revise_cache_init */
	uint64_t undone;  /* store_tx_undone when the entries were last known good */
};

/* Empties c and records the calling thread (the writer's, inside a job) as its owner. */
void revise_cache_init(struct revise_cache *c);
/* Before a find or a put: empties c when undone (store_tx_undone) is not the count it last
 * saw, and keeps the new one. */
void revise_cache_sync(struct revise_cache *c, uint64_t undone);
/* Frees every entry; on the owner thread. */
void revise_cache_release(struct revise_cache *c);
/* The entry of slug when it holds revision `revision` of role `id`, else NULL. */
struct revise_cache_entry *revise_cache_find(struct revise_cache *c, const char *slug, int64_t id,
					     int revision);
/* The entry of slug, whatever revision it holds, else NULL. */
struct revise_cache_entry *revise_cache_slot(struct revise_cache *c, const char *slug);
/*
 * Caches role and block (new references taken), their numbers and the published result st,
 * with the memo of the role's dump (moved in: *memo is left empty; NULL for none), as
 * revision `revision` of role `id`. Out of memory, it caches nothing (the memo is freed).
 */
void revise_cache_put(struct revise_cache *c, const char *slug, int64_t id, int revision,
		      json_t *role, json_t *block, const struct scoring_input *in,
		      const struct events_state *st, struct assessment_memo *memo);
/* Drops the entry of slug, if any. */
void revise_cache_drop(struct revise_cache *c, const char *slug);

#endif
