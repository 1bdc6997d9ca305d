/*
 * revise.h: the revision engine, every write to a role: create, replace, one part of the
 * assessment, the commentary, archive, and the batch writes (import, the seed). Each entry
 * point takes parsed input and returns what the write did (revision, score block, changes,
 * events queued) or why it did not; it knows nothing of HTTP (api/ adapts requests to it, the
 * commands call it directly).
 *
 * A write runs inside a job on the store's writer thread (the entry points taking a
 * store_tx), so that nothing comes between its read of the current revision and its write: it
 * reads the role, checks the condition, validates the body (body/), recomputes the score
 * through scoring/, appends the revision and queues the webhook events (events.h), all in
 * the job's transaction. A struct revise holds the writer's cache of parsed roles (cache.h);
 * the batch writes run without one.
 */
#ifndef REVISE_REVISE_H
#define REVISE_REVISE_H

#include <stddef.h>

#include <jansson.h>

#include "scoring/scoring.h"
#include "store/store.h"
#include "util/rc.h"

#define REVISE_WUR __attribute__((warn_unused_result))

struct revise;

/* A new engine writing to s: its cache is claimed by s's writer thread in a job, so s must be
 * open. NULL when out of memory or when the writer runs no job. s must outlive it. */
struct revise *revise_new(struct store *s);
/* Releases the cache on the writer thread, after every job queued before (so none still
 * running can touch it), and frees rv. NULL ok. */
void revise_free(struct revise *rv);

/* The existing role a write is about, and the condition it is made on. */
struct revise_target {
	const char *slug;     /* the role's own slug (not an alias) */
	const char *actor;    /* who writes, recorded with the revision (NULL: nobody named) */
	const char *if_match; /* a condition on the current revision; NULL: none */
	/* Whether if_match names revision `revision`; needed when if_match is given. */
	int (*if_match_ok)(const char *if_match, int revision);
};

/* What a write did, or why it did not. Filled by the entry points; revise_result_release
 * frees it. */
struct revise_result {
	int revision;        /* the revision written; when nothing changed, the current one */
	int score_changed;   /* the published score moved (creates: always) */
	json_t *score;       /* the score block of `revision` (may be NULL when unchanged) */
	json_t *changes;     /* the changed field paths (assessment_diff); [] when unchanged */
	char *slug;          /* creates: the new role's slug (also set when it was taken) */
	char *role_text;     /* creates: the role as stored */
	char *score_text;    /* creates: its score block as stored */
	char created_at[32]; /* creates: the revision's time */
	unsigned events;     /* the event types queued (EVENTS_* of revise/events.h) */
	/* On RC_INVALID: every broken field. */
	struct scoring_errors errs;
	/* On RC_PRECONDITION and RC_CONFLICT: what failed, for a person ("" when nothing
	 * more is known), and for a conflict the field at fault ("slug" or "aliases"). */
	char detail[256];
	const char *conflict_field;
};
void revise_result_init(struct revise_result *r);
void revise_result_release(struct revise_result *r);

/*
 * The writes of one role, inside a store job (tx). rv may be NULL: then no cache. body is the
 * parsed request body, borrowed and changed in place (its "reason" is taken out; a replace
 * sets its "slug"). Each returns RC_OK when a revision was written, RC_UNCHANGED when the body
 * changes nothing (out says the current revision and score), RC_INVALID (out->errs),
 * RC_NOTFOUND (no live role of that slug), RC_PRECONDITION (if_match is not the current
 * revision), RC_CONFLICT (a slug or an alias is taken), or the store's rc. A failed write
 * must be rolled back by its job (return the rc).
 */
/* A new role as revision 1: body is a role body with its slug, and perhaps a "reason". */
enum rc revise_create(struct store_tx *tx, struct revise *rv, json_t *body, const char *actor,
		      struct revise_result *out) REVISE_WUR;
/* A whole new role body for t (its "slug", when given, must be t's). */
enum rc revise_replace(struct store_tx *tx, struct revise *rv, const struct revise_target *t,
		       json_t *body, struct revise_result *out) REVISE_WUR;
/* One part of the assessment: body holds the part under `key` ("tasks", "dimensions" for
 * SCORING_EVIDENCE, ...) and perhaps a "reason"; for SCORING_OVERRIDE the part may be null
 * (no override), and the override's own reason serves when the body gives none. */
enum rc revise_part(struct store_tx *tx, struct revise *rv, const struct revise_target *t,
		    enum scoring_part part, const char *key, json_t *body,
		    struct revise_result *out) REVISE_WUR;
/* The narrative's commentary: body holds it under "commentary" (null: none) and perhaps a
 * "reason". Prose: the score stays as it is. */
enum rc revise_commentary(struct store_tx *tx, struct revise *rv, const struct revise_target *t,
			  json_t *body, struct revise_result *out) REVISE_WUR;
/* Archives t's role (its revisions stay readable) and queues role.archived. */
enum rc revise_archive(struct store_tx *tx, struct revise *rv, const struct revise_target *t,
		       struct revise_result *out) REVISE_WUR;

/* Loads a role body (the embedded default data) into the store as revision 1 of its role,
 * with the reason "default data": its own store job. */
enum rc revise_seed(struct store *s, const char *json_text) REVISE_WUR;

/*
 * The records of an import, as they come: *out gets record i (the import's to change), or
 * NULL when there is none (the end). It may wait for record i to be read. Records are asked
 * for in order, each once: when record i is asked for, the import is done with the ones
 * before it (the source may free them). Returns RC_OK, or another rc when reading stopped on
 * bad input or an error: the import then writes nothing.
 */
typedef enum rc (*revise_import_next)(void *ctx, size_t i, json_t **out);

/*
 * `aijri import`: creates every role body that next gives, in order, as revision 1 in one
 * store job, each validated as a create does (slug required, unknown fields rejected) and
 * created as revise_create would with the reason "imported": all or nothing. The records are
 * read while the ones before are written. On failure returns the rc (RC_INVALID for a bad
 * body, which is named before any slug or alias taken; RC_CONFLICT for a slug or alias taken,
 * by the database or by an earlier record; next's rc when reading stopped), sets *bad_index
 * to the record that failed and lists its errors in errs; nothing is written.
 */
enum rc revise_import(struct store *s, revise_import_next next, void *ctx, size_t *bad_index,
		      struct scoring_errors *errs) REVISE_WUR;
/* The validation alone of revise_import (RC_INVALID and *bad_index and errs as there);
 * writes nothing and needs no store. */
enum rc revise_import_check(json_t *const *roles, size_t n, size_t *bad_index,
			    struct scoring_errors *errs) REVISE_WUR;

#endif
