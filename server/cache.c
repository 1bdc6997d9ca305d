/*
 * cache.c: see cache.h for the key, the bound and the invalidation rule. Entries sit in a
 * hash table (for lookups) and on a ring (for the CLOCK hand); a hit only sets the entry's
 * `used` flag, so that lookups share the read lock.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server/cache.h"

#define CACHE_BUCKETS 4096

struct entry {
	char *key;
	struct MHD_Response *resp;
	size_t bytes;          /* counted against the bound, overhead included */
	int64_t until;         /* Unix seconds from which it is no longer served; 0: no such time */
	char etag[32];
	const char *route;
	int status;
	_Atomic int used;      /* served since the hand last passed */
	struct entry *next;    /* in its bucket */
	struct entry *prev_r, *next_r; /* on the ring */
};

struct cache {
	pthread_rwlock_t lock;
	struct entry *buckets[CACHE_BUCKETS];
	struct entry *hand;    /* the ring's next candidate for eviction; NULL when empty */
	uint64_t gen;          /* the generation every entry was built at */
	size_t bytes, max_bytes;
	size_t entries;
	_Atomic uint64_t hits, misses, evictions;
};

static unsigned bucket_of(const char *s)
{
	unsigned h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h % CACHE_BUCKETS;
}

struct cache *cache_new(size_t max_bytes)
{
	struct cache *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	pthread_rwlock_init(&c->lock, NULL);
	c->max_bytes = max_bytes;
	return c;
}

/* Takes e off its bucket and the ring and frees it. Write lock held. */
static void entry_remove(struct cache *c, struct entry *e)
{
	struct entry **p;

	for (p = &c->buckets[bucket_of(e->key)]; *p; p = &(*p)->next) {
		if (*p == e) {
			*p = e->next;
			break;
		}
	}
	if (e->next_r == e) {
		c->hand = NULL;
	} else {
		e->prev_r->next_r = e->next_r;
		e->next_r->prev_r = e->prev_r;
		if (c->hand == e)
			c->hand = e->next_r;
	}
	c->bytes -= e->bytes;
	c->entries--;
	MHD_destroy_response(e->resp);
	free(e->key);
	free(e);
}

static void clear_locked(struct cache *c)
{
	while (c->hand)
		entry_remove(c, c->hand);
}

void cache_free(struct cache *c)
{
	if (!c)
		return;
	pthread_rwlock_wrlock(&c->lock);
	clear_locked(c);
	pthread_rwlock_unlock(&c->lock);
	pthread_rwlock_destroy(&c->lock);
	free(c);
}

/* Moves to generation gen, freeing every entry of an older one. Write lock held. */
static void advance_locked(struct cache *c, uint64_t gen)
{
	if (gen <= c->gen)
		return;
	clear_locked(c);
	c->gen = gen;
}

int cache_serve(struct cache *c, const char *key, uint64_t gen,
		int (*serve)(void *arg, const struct cache_hit *hit), void *arg)
{
	struct cache_hit hit;
	struct entry *e = NULL;
	int stale, served = 0;

	pthread_rwlock_rdlock(&c->lock);
	stale = gen > c->gen && c->entries;
	if (!stale)
		for (e = c->buckets[bucket_of(key)]; e; e = e->next)
			if (!strcmp(e->key, key))
				break;
	/* An answer that depends on the date is not served past its time (cache.h: expiry). */
	if (e && e->until && (int64_t)time(NULL) >= e->until)
		e = NULL;
	if (e && gen == c->gen) {
		atomic_store_explicit(&e->used, 1, memory_order_relaxed);
		hit.resp = e->resp;
		hit.status = e->status;
		hit.route = e->route;
		hit.etag = e->etag;
		/* Served under the read lock, so the entry cannot be freed before MHD holds it. */
		served = serve(arg, &hit);
	}
	pthread_rwlock_unlock(&c->lock);
	if (stale) {
		/* The first lookup after a commit frees what the commit made stale. */
		pthread_rwlock_wrlock(&c->lock);
		advance_locked(c, gen);
		pthread_rwlock_unlock(&c->lock);
	}
	atomic_fetch_add_explicit(served ? &c->hits : &c->misses, 1, memory_order_relaxed);
	return served;
}

/* Evicts by CLOCK until `need` more bytes fit. Write lock held. */
static void make_room(struct cache *c, size_t need)
{
	while (c->hand && c->bytes + need > c->max_bytes) {
		struct entry *e = c->hand;

		if (atomic_exchange_explicit(&e->used, 0, memory_order_relaxed)) {
			c->hand = e->next_r;
			continue;
		}
		entry_remove(c, e);
		atomic_fetch_add_explicit(&c->evictions, 1, memory_order_relaxed);
	}
}

void cache_put(struct cache *c, const char *key, uint64_t gen, int64_t until,
	       struct MHD_Response *resp, size_t bytes, const char *etag, const char *route,
	       int status)
{
	struct entry *e = NULL, *old;
	size_t size = bytes + strlen(key) + 1 + CACHE_ENTRY_OVERHEAD;

	if (size > c->max_bytes / 4 || !(e = calloc(1, sizeof(*e))) || !(e->key = strdup(key))) {
		free(e);
		MHD_destroy_response(resp);
		return;
	}
	e->resp = resp;
	e->bytes = size;
	e->until = until;
	e->route = route;
	e->status = status;
	snprintf(e->etag, sizeof(e->etag), "%s", etag ? etag : "");
	pthread_rwlock_wrlock(&c->lock);
	advance_locked(c, gen);
	if (gen < c->gen) {
		/* Built from data a later commit has changed: not worth keeping. */
		pthread_rwlock_unlock(&c->lock);
		goto drop;
	}
	for (old = c->buckets[bucket_of(key)]; old; old = old->next)
		if (!strcmp(old->key, key))
			break;
	if (old)
		entry_remove(c, old);
	make_room(c, size);
	e->next = c->buckets[bucket_of(key)];
	c->buckets[bucket_of(key)] = e;
	/* A new entry goes just behind the hand: the last to be looked at. */
	if (!c->hand) {
		e->next_r = e->prev_r = e;
		c->hand = e;
	} else {
		e->next_r = c->hand;
		e->prev_r = c->hand->prev_r;
		c->hand->prev_r->next_r = e;
		c->hand->prev_r = e;
	}
	c->bytes += size;
	c->entries++;
	pthread_rwlock_unlock(&c->lock);
	return;
drop:
	MHD_destroy_response(resp);
	free(e->key);
	free(e);
}

void cache_metrics(void *ctx, struct buf *out)
{
	struct cache *c = ctx;
	size_t entries, bytes;

	pthread_rwlock_rdlock(&c->lock);
	entries = c->entries;
	bytes = c->bytes;
	pthread_rwlock_unlock(&c->lock);
	buf_putf(out,
		 "# HELP aijri_http_cache_entries GET answers kept ready in the response cache.\n"
		 "# TYPE aijri_http_cache_entries gauge\naijri_http_cache_entries %zu\n"
		 "# HELP aijri_http_cache_bytes Memory the response cache counts against its bound.\n"
		 "# TYPE aijri_http_cache_bytes gauge\naijri_http_cache_bytes %zu\n"
		 "# HELP aijri_http_cache_max_bytes The response cache's bound (--cache-mb).\n"
		 "# TYPE aijri_http_cache_max_bytes gauge\naijri_http_cache_max_bytes %zu\n"
		 "# HELP aijri_http_cache_hits_total GET requests answered from the response cache.\n"
		 "# TYPE aijri_http_cache_hits_total counter\naijri_http_cache_hits_total %llu\n"
		 "# HELP aijri_http_cache_misses_total Cacheable GET requests the cache could not answer.\n"
		 "# TYPE aijri_http_cache_misses_total counter\naijri_http_cache_misses_total %llu\n"
		 "# HELP aijri_http_cache_evictions_total Entries evicted to stay within the bound.\n"
		 "# TYPE aijri_http_cache_evictions_total counter\naijri_http_cache_evictions_total %llu\n",
		 entries, bytes, c->max_bytes,
		 (unsigned long long)atomic_load(&c->hits), (unsigned long long)atomic_load(&c->misses),
		 (unsigned long long)atomic_load(&c->evictions));
}
