/*
 * cache.h: the response cache of `aijri serve`: GET answers kept as ready libmicrohttpd
 * responses and served again as they are.
 *
 * Key: the API's normalised request (api_cache_key): the representation asked for, the
 * route with its path parameters, and the query parameters the route declares, in a fixed
 * order. Never the URL as typed: parameters that change nothing make no entries.
 *
 * Bound: max_bytes (`--cache-mb`). Each entry counts its key, its body when the body is in
 * memory, its headers and CACHE_ENTRY_OVERHEAD; an answer over a quarter of the bound is
 * never kept. Past the bound, entries are evicted by CLOCK (second chance): one served since
 * the hand last passed it is kept for one more turn.
 *
 * Invalidation: the write generation. An entry is served only at the generation it was built
 * at; the first lookup or insert that sees a newer generation frees every entry, and an
 * answer built at an older generation than the cache's is dropped instead of kept.
 *
 * Expiry: an answer that depends on the date or the time as well as on the data (the stale
 * flags of evidence, a window of GET /movers that ends now) carries the time it may be served
 * until (api_response.cache_until: the end of its UTC day, or the next second). A lookup at or
 * past that time is a miss; the answer built then replaces the entry under the same key, and
 * an expired entry no one asks for again is evicted like any other (it still counts against
 * the bound until then).
 *
 * Threads: any; lookups share a read lock, inserts and frees take it alone.
 */
#ifndef SERVER_CACHE_H
#define SERVER_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include <microhttpd.h>

#include "util/buf.h"

#define CACHE_ENTRY_OVERHEAD 768 /* the entry, the MHD response and its header list */

struct cache;

/* NULL when out of memory. */
struct cache *cache_new(size_t max_bytes);
/* Frees every entry (their MHD responses too). NULL ok. */
void cache_free(struct cache *c);

/* What a hit hands to the serving callback, valid during the call only. */
struct cache_hit {
	struct MHD_Response *resp;
	int status;
	const char *route;  /* the route pattern, for metrics */
	const char *etag;   /* the quoted ETag, or "" */
};

/*
 * Looks key up at write generation gen. On a hit calls serve(arg, hit) while the entry
 * cannot be freed (queue the response there) and returns serve's result; 0 on a miss.
 * serve returning 0 counts as a miss (the caller then goes the long way).
 */
int cache_serve(struct cache *c, const char *key, uint64_t gen,
		int (*serve)(void *arg, const struct cache_hit *hit), void *arg);

/*
 * Keeps resp (the cache takes over the caller's reference: do not destroy it) as the answer
 * to key at generation gen, to be served before the Unix time until (0: until a write).
 * bytes: what the entry holds in memory besides the fixed overhead (body and headers). If it
 * is not kept, the response is destroyed here.
 */
void cache_put(struct cache *c, const char *key, uint64_t gen, int64_t until,
	       struct MHD_Response *resp, size_t bytes, const char *etag, const char *route,
	       int status);

/* Prometheus text: entries, bytes, bound, hits, misses, evictions. ctx is the cache. */
void cache_metrics(void *ctx, struct buf *out);

#endif
