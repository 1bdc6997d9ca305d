/*
 * cache.c: the writer's cache of parsed current roles (cache.h). Sixteen slots searched by
 * slug: a write touches one role, and the roles written in a row are few. Every access checks
 * that it runs on the thread that owns the cache: the writer's jobs are its only users, and a
 * call from anywhere else is a bug that would race with them.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "revise/cache.h"

static void cache_owned(const struct revise_cache *c)
{
	assert(pthread_equal(c->owner, pthread_self()));
	(void)c;
}

static void entry_release(struct revise_cache_entry *e)
{
	free(e->slug);
	free(e->label);
	json_decref(e->role);
	json_decref(e->block);
	assessment_memo_release(&e->memo);
	memset(e, 0, sizeof(*e));
}

void revise_cache_init(struct revise_cache *c)
{
	memset(c, 0, sizeof(*c));
	c->owner = pthread_self();
}

void revise_cache_release(struct revise_cache *c)
{
	int i;

	cache_owned(c);
	for (i = 0; i < REVISE_CACHE_SLOTS; i++)
		entry_release(&c->e[i]);
}

void revise_cache_sync(struct revise_cache *c, uint64_t undone)
{
	if (c->undone == undone)
		return;
	revise_cache_release(c);
	c->undone = undone;
}

struct revise_cache_entry *revise_cache_slot(struct revise_cache *c, const char *slug)
{
	int i;

	cache_owned(c);
	for (i = 0; i < REVISE_CACHE_SLOTS; i++)
		if (c->e[i].slug && !strcmp(c->e[i].slug, slug))
			return &c->e[i];
	return NULL;
}

struct revise_cache_entry *revise_cache_find(struct revise_cache *c, const char *slug, int64_t id,
					     int revision)
{
	struct revise_cache_entry *e = revise_cache_slot(c, slug);

	return e && e->id == id && e->revision == revision ? e : NULL;
}

void revise_cache_put(struct revise_cache *c, const char *slug, int64_t id, int revision,
		      json_t *role, json_t *block, const struct scoring_input *in,
		      const struct events_state *st, struct assessment_memo *memo)
{
	struct revise_cache_entry *e;
	struct assessment_memo none = ASSESSMENT_MEMO_INIT;

	cache_owned(c);
	if (!memo)
		memo = &none;
	if (!role || !block) {
		assessment_memo_release(memo);
		return;
	}
	e = revise_cache_slot(c, slug);
	if (!e)
		e = &c->e[c->next++ % REVISE_CACHE_SLOTS];
	entry_release(e);
	e->slug = strdup(slug);
	e->label = strdup(st->label);
	if (!e->slug || !e->label) {
		entry_release(e);
		assessment_memo_release(memo);
		return;
	}
	e->id = id;
	e->revision = revision;
	e->role = json_incref(role);
	e->block = json_incref(block);
	e->in = *in;
	e->memo = *memo;
	memset(memo, 0, sizeof(*memo));
	e->score = st->score;
	snprintf(e->zone, sizeof(e->zone), "%s", st->zone);
}

void revise_cache_drop(struct revise_cache *c, const char *slug)
{
	struct revise_cache_entry *e = revise_cache_slot(c, slug);

	if (e)
		entry_release(e);
}
