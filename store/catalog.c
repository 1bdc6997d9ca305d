/*
 * catalog.c: the role lists (GET /roles: search, filters, sorts, pages) served from memory.
 *
 * Why: a list call must count every match and page through them in order. Through SQL that is
 * two scans of the list index, and a search adds a lower() and an alias look-up per row: about
 * 5 ms at 10,000 roles, which queues behind itself under concurrent calls on two cores. Here a
 * call is one pass over an array of small entries.
 *
 * How: a snapshot holds every live role's list columns, immutable, in three orders (title,
 * score, score descending). Readers take a reference to the current snapshot and scan it
 * without a lock. The writer reports the ids of the roles each commit touched (before it
 * answers the writes, so that a client sees its own write in the next list); the next list
 * call reads those rows again and builds a new snapshot from the old one and them, sharing the
 * unchanged entries. The first call reads everything.
 *
 * The catalog never writes, and the database stays the truth: anything that goes wrong here
 * makes the next call read everything again. While the database cannot be reached, lists are
 * answered from the snapshot held (perhaps behind other instances' last writes), and the next
 * call once it is back reads everything. The server must be the database's only writer
 * (as it is: the offline commands that write, import and restore, run with it stopped).
 */
#include <limits.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"

struct cat_entry {
	atomic_int refs;
	int64_t id;
	double score;
	int revision;
	char zone[8];
	char *slug, *title, *label, *created_at, *updated_at, *category, *seniority;
	char *soc_codes, *isco_codes, *oldest_as_of; /* NULL when none */
	/* The title and each alias name, ASCII lower-cased, each ended by a NUL. */
	char *search;
	size_t search_len;
};

/* The orders of a snapshot: the three of enum store_sort, and by id for look-ups. */
#define CAT_BY_ID 3
#define CAT_ORDERS 4

struct cat_snap {
	atomic_int refs;
	size_t n;
	struct cat_entry **order[CAT_ORDERS]; /* indexed by enum store_sort, then CAT_BY_ID */
	int64_t *ids;  /* the ids of order[CAT_BY_ID], side by side: a look-up by id searches
			* this small array instead of following a pointer at every step */
};

struct catalog {
	pthread_mutex_t build_mu; /* one builder at a time; guards snap */
	struct cat_snap *snap;    /* NULL until the first list call */

	pthread_mutex_t dirty_mu; /* guards the three below; held only briefly */
	int64_t *dirty;
	size_t n_dirty, cap_dirty;
	int all;                  /* read everything again */
};

/* The list columns of live roles, with the alias names joined by newlines, for one role ($1)
 * or all ($1 NULL). The join is the one dialect difference: group_concat on SQLite,
 * string_agg on PostgreSQL (db_sql picks the text). */
#define SQL_CAT_ROWS(aliases)                                                                  \
	"SELECT r.id, r.slug, r.title, r.score, r.zone, r.label, r.revision, r.created_at,"  \
	" r.updated_at, r.category, r.seniority,"                                             \
	" (SELECT " aliases " FROM aliases a WHERE a.role_id = r.id),"                        \
	" r.soc_codes, r.isco_codes, r.oldest_as_of"                                          \
	" FROM roles r WHERE r.archived = 0 AND (CAST($1 AS BIGINT) IS NULL OR r.id = $1)"
static const char SQL_CAT_ROWS_SQLITE[] = SQL_CAT_ROWS("group_concat(a.name, char(10))");
static const char SQL_CAT_ROWS_PG[] = SQL_CAT_ROWS("string_agg(a.name, chr(10))");

/* ---------------------------------------------------------------------------------------
 * Entries and snapshots
 */

static void entry_decref(struct cat_entry *e)
{
	if (!e || atomic_fetch_sub_explicit(&e->refs, 1, memory_order_acq_rel) != 1)
		return;
	free(e->slug);
	free(e->title);
	free(e->label);
	free(e->created_at);
	free(e->updated_at);
	free(e->category);
	free(e->seniority);
	free(e->soc_codes);
	free(e->isco_codes);
	free(e->oldest_as_of);
	free(e->search);
	free(e);
}

static void snap_decref(struct cat_snap *sn)
{
	size_t i;
	int k;

	if (!sn || atomic_fetch_sub_explicit(&sn->refs, 1, memory_order_acq_rel) != 1)
		return;
	for (i = 0; sn->order[0] && i < sn->n; i++)
		entry_decref(sn->order[0][i]);
	for (k = 0; k < CAT_ORDERS; k++)
		free(sn->order[k]);
	free(sn->ids);
	free(sn);
}

static char ascii_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Appends s, lower-cased, and its NUL. */
static void search_add(char *dst, size_t *at, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		dst[(*at)++] = ascii_lower(s[i]);
	dst[(*at)++] = '\0';
}

/* The search fields of a title and a '\n'-separated list of alias names (NULL: none). */
static char *search_text(const char *title, const char *aliases, size_t *len)
{
	size_t tl = strlen(title), al = aliases ? strlen(aliases) : 0, at = 0, fl;
	char *s = malloc(tl + al + 2);
	const char *p, *nl;

	if (!s)
		return NULL;
	search_add(s, &at, title, tl);
	for (p = aliases; p && *p; p += fl + (nl != NULL)) {
		nl = strchr(p, '\n');
		fl = nl ? (size_t)(nl - p) : strlen(p);
		search_add(s, &at, p, fl);
	}
	*len = at;
	return s;
}

static struct cat_entry *entry_from_row(struct db_stmt *st)
{
	struct cat_entry *e = calloc(1, sizeof(*e));
	const char *z;
	int bad;

	if (!e)
		return NULL;
	atomic_init(&e->refs, 1);
	e->id = db_col_int64(st, 0);
	bad = db_col_strdup(st, 1, &e->slug) || db_col_strdup(st, 2, &e->title);
	e->score = db_col_double(st, 3);
	z = db_col_text(st, 4, NULL);
	if (z)
		snprintf(e->zone, sizeof(e->zone), "%s", z);
	bad = bad || db_col_strdup(st, 5, &e->label);
	e->revision = (int)db_col_int64(st, 6);
	bad = bad || db_col_strdup(st, 7, &e->created_at) || db_col_strdup(st, 8, &e->updated_at) ||
	      db_col_strdup(st, 9, &e->category) || db_col_strdup(st, 10, &e->seniority) ||
	      db_col_strdup(st, 12, &e->soc_codes) || db_col_strdup(st, 13, &e->isco_codes) ||
	      db_col_strdup(st, 14, &e->oldest_as_of);
	if (!bad && e->title)
		e->search = search_text(e->title, db_col_text(st, 11, NULL), &e->search_len);
	if (bad || !e->slug || !e->title || !e->label || !e->created_at || !e->updated_at ||
	    !e->search) {
		entry_decref(e);
		return NULL;
	}
	return e;
}

/* SQLite's NOCASE (the title column's collation): ASCII letters folded, bytes compared. */
static int nocase_cmp(const char *a, const char *b)
{
	unsigned char x, y;

	for (;; a++, b++) {
		x = (unsigned char)ascii_lower(*a);
		y = (unsigned char)ascii_lower(*b);
		if (x != y || !x)
			return (int)x - (int)y;
	}
}

/* The orders of the SQL lists: ORDER BY title, slug / score, slug / score DESC, slug; and
 * by id. */
static int cmp_entries(int order, const struct cat_entry *a, const struct cat_entry *b)
{
	int c = 0;

	if (order == CAT_BY_ID)
		return a->id < b->id ? -1 : a->id > b->id;
	if (order == STORE_SORT_TITLE)
		c = nocase_cmp(a->title, b->title);
	else if (a->score != b->score)
		c = (a->score < b->score) == (order == STORE_SORT_SCORE) ? -1 : 1;
	return c ? c : strcmp(a->slug, b->slug);
}

static int cmp_title(const void *a, const void *b)
{
	return cmp_entries(STORE_SORT_TITLE, *(struct cat_entry *const *)a,
			   *(struct cat_entry *const *)b);
}

static int cmp_score(const void *a, const void *b)
{
	return cmp_entries(STORE_SORT_SCORE, *(struct cat_entry *const *)a,
			   *(struct cat_entry *const *)b);
}

static int cmp_score_desc(const void *a, const void *b)
{
	return cmp_entries(STORE_SORT_SCORE_DESC, *(struct cat_entry *const *)a,
			   *(struct cat_entry *const *)b);
}

static int cmp_by_id(const void *a, const void *b)
{
	return cmp_entries(CAT_BY_ID, *(struct cat_entry *const *)a, *(struct cat_entry *const *)b);
}

static int (*const cmps[CAT_ORDERS])(const void *, const void *) = {
	[STORE_SORT_TITLE] = cmp_title,
	[STORE_SORT_SCORE] = cmp_score,
	[STORE_SORT_SCORE_DESC] = cmp_score_desc,
	[CAT_BY_ID] = cmp_by_id,
};

static struct cat_snap *snap_alloc(size_t n)
{
	struct cat_snap *sn = calloc(1, sizeof(*sn));
	int k;

	if (!sn)
		return NULL;
	atomic_init(&sn->refs, 1);
	sn->ids = malloc((n ? n : 1) * sizeof(*sn->ids));
	if (!sn->ids) {
		snap_decref(sn);
		return NULL;
	}
	for (k = 0; k < CAT_ORDERS; k++) {
		sn->order[k] = malloc((n ? n : 1) * sizeof(struct cat_entry *));
		if (!sn->order[k]) {
			snap_decref(sn);
			return NULL;
		}
	}
	return sn;
}

static void snap_index_ids(struct cat_snap *sn)
{
	size_t i;

	for (i = 0; i < sn->n; i++)
		sn->ids[i] = sn->order[CAT_BY_ID][i]->id;
}

struct rows {
	struct cat_entry ***arr;
	size_t *n, *cap;
};

static enum rc rows_add(void *ctx, struct db_stmt *st)
{
	struct rows *r = ctx;
	struct cat_entry *e;

	if (*r->n == *r->cap) {
		size_t ncap = *r->cap ? *r->cap * 2 : 64;
		struct cat_entry **na = realloc(*r->arr, ncap * sizeof(*na));

		if (!na)
			return RC_NOMEM;
		*r->arr = na;
		*r->cap = ncap;
	}
	e = entry_from_row(st);
	if (!e)
		return RC_NOMEM;
	(*r->arr)[(*r->n)++] = e;
	return RC_OK;
}

/* Reads the rows of one role (id > 0) or of all (id 0) into a growing array. */
static int read_rows(struct store_conn *c, int64_t id, struct cat_entry ***arr, size_t *n,
		     size_t *cap)
{
	struct rows r = { arr, n, cap };
	struct db_stmt *st;
	enum rc rc;

	rc = db_prepare(c->dc, db_sql(c->dc, SQL_CAT_ROWS_SQLITE, SQL_CAT_ROWS_PG), &st);
	if (rc)
		return rc;
	if (id)
		db_bind_int64(st, 1, id);
	else
		db_bind_null(st, 1);
	return db_each(st, rows_add, &r);
}

/* A snapshot of every live role. */
static int snap_read_all(struct store_conn *c, struct cat_snap **out)
{
	struct cat_entry **arr = NULL;
	struct cat_snap *sn = NULL;
	size_t n = 0, cap = 0, i;
	int rc, k;

	rc = read_rows(c, 0, &arr, &n, &cap);
	if (!rc && !(sn = snap_alloc(n)))
		rc = RC_NOMEM;
	if (rc) {
		for (i = 0; i < n; i++)
			entry_decref(arr[i]);
		free(arr);
		return rc;
	}
	sn->n = n;
	for (k = 0; k < CAT_ORDERS; k++) {
		if (n)
			memcpy(sn->order[k], arr, n * sizeof(*arr));
		qsort(sn->order[k], n, sizeof(*arr), cmps[k]);
	}
	free(arr); /* the snapshot holds the one reference each entry has */
	snap_index_ids(sn);
	*out = sn;
	return RC_OK;
}

static int cmp_id(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * A snapshot from old with the roles of ids (sorted, unique) read again: those still live are
 * replaced or added, the others dropped. Each order is a merge of old's entries that are kept
 * with the sorted new ones.
 */
static int snap_patch(struct store_conn *c, const struct cat_snap *old, const int64_t *ids,
		      size_t n_ids, struct cat_snap **out)
{
	struct cat_entry **fresh = NULL, **sorted = NULL;
	struct cat_snap *sn = NULL;
	size_t n_fresh = 0, cap = 0, i, j, at, kept = 0;
	int rc = RC_OK, k;

	for (i = 0; i < n_ids && !rc; i++)
		rc = read_rows(c, ids[i], &fresh, &n_fresh, &cap);
	if (!rc) {
		for (i = 0; i < old->n; i++)
			kept += !bsearch(&old->order[0][i]->id, ids, n_ids, sizeof(*ids), cmp_id);
		sn = snap_alloc(kept + n_fresh);
		sorted = malloc((n_fresh ? n_fresh : 1) * sizeof(*sorted));
		if (!sn || !sorted)
			rc = RC_NOMEM;
	}
	if (rc)
		goto out;
	sn->n = kept + n_fresh;
	for (k = 0; k < CAT_ORDERS; k++) {
		if (n_fresh)
			memcpy(sorted, fresh, n_fresh * sizeof(*sorted));
		qsort(sorted, n_fresh, sizeof(*sorted), cmps[k]);
		for (i = 0, j = 0, at = 0; i < old->n || j < n_fresh;) {
			struct cat_entry *e = i < old->n ? old->order[k][i] : NULL;

			if (e && bsearch(&e->id, ids, n_ids, sizeof(*ids), cmp_id)) {
				i++;
				continue;
			}
			if (j < n_fresh && (!e || cmp_entries(k, sorted[j], e) < 0))
				sn->order[k][at++] = sorted[j++];
			else
				sn->order[k][at++] = old->order[k][i++];
		}
	}
	/* The new snapshot's references: one more on each kept entry; fresh ones have theirs. */
	for (i = 0; i < old->n; i++)
		if (!bsearch(&old->order[0][i]->id, ids, n_ids, sizeof(*ids), cmp_id))
			atomic_fetch_add_explicit(&old->order[0][i]->refs, 1, memory_order_relaxed);
	n_fresh = 0;
	snap_index_ids(sn);
	*out = sn;
	sn = NULL;
out:
	for (i = 0; i < n_fresh; i++)
		entry_decref(fresh[i]);
	free(fresh);
	free(sorted);
	snap_decref(sn);
	return rc;
}

/* ---------------------------------------------------------------------------------------
 * The catalog
 */

struct catalog *catalog_new(void)
{
	struct catalog *cat = calloc(1, sizeof(*cat));

	if (!cat)
		return NULL;
	pthread_mutex_init(&cat->build_mu, NULL);
	pthread_mutex_init(&cat->dirty_mu, NULL);
	return cat;
}

void catalog_free(struct catalog *cat)
{
	if (!cat)
		return;
	snap_decref(cat->snap);
	free(cat->dirty);
	pthread_mutex_destroy(&cat->build_mu);
	pthread_mutex_destroy(&cat->dirty_mu);
	free(cat);
}

void catalog_touched(struct catalog *cat, const int64_t *ids, size_t n, int all)
{
	size_t i;

	if (!cat || (!n && !all))
		return;
	pthread_mutex_lock(&cat->dirty_mu);
	if (!all && cat->n_dirty + n > CATALOG_MAX_DIRTY)
		all = 1;
	if (!all && cat->n_dirty + n > cat->cap_dirty) {
		size_t cap = cat->cap_dirty ? cat->cap_dirty : 64;
		int64_t *d;

		while (cap < cat->n_dirty + n)
			cap *= 2;
		d = realloc(cat->dirty, cap * sizeof(*d));
		if (d) {
			cat->dirty = d;
			cat->cap_dirty = cap;
		} else {
			all = 1;
		}
	}
	if (all) {
		cat->all = 1;
		cat->n_dirty = 0;
	} else if (!cat->all) {
		for (i = 0; i < n; i++)
			cat->dirty[cat->n_dirty++] = ids[i];
	}
	pthread_mutex_unlock(&cat->dirty_mu);
}

/* A reference to the current snapshot, brought up to date first. */
static int catalog_current(struct catalog *cat, struct store_conn *c, struct cat_snap **out)
{
	struct cat_snap *next = NULL;
	int64_t *ids = NULL;
	size_t n = 0, i, u;
	int all, rc = RC_OK;

	pthread_mutex_lock(&cat->build_mu);
	pthread_mutex_lock(&cat->dirty_mu);
	all = cat->all || !cat->snap;
	if (!all && cat->n_dirty) {
		ids = malloc(cat->n_dirty * sizeof(*ids));
		if (ids) {
			memcpy(ids, cat->dirty, cat->n_dirty * sizeof(*ids));
			n = cat->n_dirty;
		} else {
			all = 1;
		}
	}
	cat->all = 0;
	cat->n_dirty = 0;
	pthread_mutex_unlock(&cat->dirty_mu);

	if (all) {
		rc = snap_read_all(c, &next);
	} else if (n) {
		qsort(ids, n, sizeof(*ids), cmp_id);
		for (i = 1, u = 1; i < n; i++)
			if (ids[i] != ids[u - 1])
				ids[u++] = ids[i];
		rc = snap_patch(c, cat->snap, ids, u, &next);
	}
	if (rc) {
		/* Start afresh next time: what was marked is not forgotten that way. */
		pthread_mutex_lock(&cat->dirty_mu);
		cat->all = 1;
		pthread_mutex_unlock(&cat->dirty_mu);
		/* The database cannot be reached: the lists are answered from the snapshot held
		 * meanwhile (API.md: what the instance holds keeps being served). */
		if (rc == RC_UNAVAILABLE && cat->snap) {
			atomic_fetch_add_explicit(&cat->snap->refs, 1, memory_order_relaxed);
			*out = cat->snap;
			rc = RC_OK;
		}
	} else {
		if (next) {
			snap_decref(cat->snap);
			cat->snap = next;
		}
		atomic_fetch_add_explicit(&cat->snap->refs, 1, memory_order_relaxed);
		*out = cat->snap;
	}
	pthread_mutex_unlock(&cat->build_mu);
	free(ids);
	return rc;
}

/* Whether any search field of e holds the lower-cased needle. */
static int entry_matches(const struct cat_entry *e, const char *needle)
{
	const char *f, *end = e->search + e->search_len;

	for (f = e->search; f < end; f += strlen(f) + 1)
		if (strstr(f, needle))
			return 1;
	return 0;
}

/* Whether a code of the space-separated list starts with prefix. */
static int code_listed(const char *list, const char *prefix)
{
	size_t n = strlen(prefix);
	const char *p;

	for (p = list; p && *p;) {
		if (!strncmp(p, prefix, n))
			return 1;
		p = strchr(p, ' ');
		if (p)
			p++;
	}
	return 0;
}

/* Whether e passes the filters of q (needle: q's search text lower-cased, or NULL). */
static int entry_passes(const struct cat_entry *e, const struct store_role_query *q,
			const char *needle)
{
	if ((q->zone && strcmp(e->zone, q->zone)) || (q->has_min && e->score < q->min_score) ||
	    (q->has_max && e->score > q->max_score))
		return 0;
	if ((q->soc && !code_listed(e->soc_codes, q->soc)) ||
	    (q->isco && !code_listed(e->isco_codes, q->isco)))
		return 0;
	if (q->stale >= 0 && q->stale_before &&
	    (e->oldest_as_of && strcmp(e->oldest_as_of, q->stale_before) < 0) != (q->stale == 1))
		return 0;
	return !needle || entry_matches(e, needle);
}

/* The row handed to callers: it borrows the entry's strings, which the snapshot holds until
 * the caller's reference to it is dropped. */
static void entry_row(const struct cat_entry *e, struct store_role *r)
{
	memset(r, 0, sizeof(*r));
	r->id = e->id;
	r->slug = e->slug;
	r->title = e->title;
	r->score = e->score;
	memcpy(r->zone, e->zone, sizeof(r->zone));
	r->label = e->label;
	r->revision = e->revision;
	r->created_at = e->created_at;
	r->updated_at = e->updated_at;
	r->category = e->category;
	r->seniority = e->seniority;
	r->soc_codes = e->soc_codes;
	r->isco_codes = e->isco_codes;
	r->oldest_as_of = e->oldest_as_of;
}

int catalog_list(struct catalog *cat, struct store_conn *c, const struct store_role_query *q,
		 int (*row)(void *ctx, const struct store_role *r), void *ctx, int *total)
{
	struct cat_snap *sn = NULL;
	struct cat_entry **order;
	char *needle = NULL;
	size_t i, len;
	int rc, matched = 0, stop = 0;
	int offset = q->offset > 0 ? q->offset : 0;
	int limit = q->limit > 0 ? q->limit : -1;

	if (q->q && *q->q) {
		len = strlen(q->q);
		needle = malloc(len + 1);
		if (!needle)
			return RC_NOMEM;
		for (i = 0; i <= len; i++)
			needle[i] = ascii_lower(q->q[i]);
	}
	rc = catalog_current(cat, c, &sn);
	if (rc) {
		free(needle);
		return rc;
	}
	order = sn->order[q->sort >= STORE_SORT_TITLE && q->sort <= STORE_SORT_SCORE_DESC
				  ? q->sort
				  : STORE_SORT_TITLE];
	for (i = 0; i < sn->n; i++) {
		const struct cat_entry *e = order[i];
		struct store_role r;

		if (!entry_passes(e, q, needle))
			continue;
		matched++;
		if (stop || matched <= offset || (limit >= 0 && matched > offset + limit))
			continue;
		entry_row(e, &r);
		stop = row(ctx, &r) != 0;
	}
	if (total)
		*total = matched;
	snap_decref(sn);
	free(needle);
	return RC_OK;
}

/* ---------------------------------------------------------------------------------------
 * Neighbours
 */

struct near_cand {
	const struct cat_entry *e;
	long long tenths;  /* the distance in tenths of a point (published scores have one decimal) */
	int other_cat;     /* 1 when not the role's own category */
};

static long long tenths(double x)
{
	return llround(x * 10.0);
}

static int cmp_near(const void *a, const void *b)
{
	const struct near_cand *x = a, *y = b;

	if (x->tenths != y->tenths)
		return x->tenths < y->tenths ? -1 : 1;
	if (x->other_cat != y->other_cat)
		return x->other_cat - y->other_cat;
	return strcmp(x->e->slug, y->e->slug);
}

static int same_category(const struct cat_entry *a, const struct cat_entry *b)
{
	return a->category && b->category ? !strcmp(a->category, b->category)
					  : !a->category && !b->category;
}

/*
 * Walks outward from the role's place in the score order, nearest side first, taking every
 * entry until limit are taken and the next is farther than the last taken: then every tie at
 * the last distance is among the candidates, which are sorted by the tie rules and cut.
 */
int catalog_near(struct catalog *cat, struct store_conn *c, const char *slug, int limit,
		 int (*row)(void *ctx, const struct store_role *r, double distance), void *ctx)
{
	struct cat_snap *sn = NULL;
	struct cat_entry **order;
	const struct cat_entry *me = NULL;
	struct near_cand *cand = NULL;
	size_t i, pos = 0, n = 0, cap = 0;
	long lo, hi;
	long long me_t, last = -1;
	int rc;

	rc = catalog_current(cat, c, &sn);
	if (rc)
		return rc;
	order = sn->order[STORE_SORT_SCORE];
	for (i = 0; i < sn->n && !me; i++)
		if (!strcmp(order[i]->slug, slug))
			me = order[pos = i];
	if (!me) {
		rc = RC_NOTFOUND;
		goto out;
	}
	me_t = tenths(me->score);
	for (lo = (long)pos - 1, hi = (long)pos + 1; lo >= 0 || hi < (long)sn->n;) {
		long long dlo = lo >= 0 ? me_t - tenths(order[lo]->score) : LLONG_MAX;
		long long dhi = hi < (long)sn->n ? tenths(order[hi]->score) - me_t : LLONG_MAX;
		long long d = dlo <= dhi ? dlo : dhi;

		if ((long)n >= limit && d > last)
			break;
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 32;
			struct near_cand *nc = realloc(cand, ncap * sizeof(*nc));

			if (!nc) {
				rc = RC_NOMEM;
				goto out;
			}
			cand = nc;
			cap = ncap;
		}
		cand[n].e = dlo <= dhi ? order[lo--] : order[hi++];
		cand[n].tenths = d;
		cand[n].other_cat = !same_category(cand[n].e, me);
		last = d;
		n++;
	}
	/* A role alone has no neighbour: no list to sort (qsort must not get NULL). */
	if (n)
		qsort(cand, n, sizeof(*cand), cmp_near);
	for (i = 0; i < n && (long)i < limit; i++) {
		struct store_role r;

		entry_row(cand[i].e, &r);
		if (row(ctx, &r, (double)cand[i].tenths / 10.0))
			break;
	}
out:
	free(cand);
	snap_decref(sn);
	return rc;
}

/* ---------------------------------------------------------------------------------------
 * Look-ups by id
 */

struct catalog_lookup {
	struct cat_snap *sn;
};

int catalog_lookup_begin(struct catalog *cat, struct store_conn *c, struct catalog_lookup **out)
{
	struct catalog_lookup *lk = calloc(1, sizeof(*lk));
	int rc;

	*out = NULL;
	if (!lk)
		return RC_NOMEM;
	rc = catalog_current(cat, c, &lk->sn);
	if (rc) {
		free(lk);
		return rc;
	}
	*out = lk;
	return RC_OK;
}

long catalog_lookup_index(struct catalog_lookup *lk, int64_t id)
{
	const int64_t *hit = bsearch(&id, lk->sn->ids, lk->sn->n, sizeof(id), cmp_id);

	return hit ? (long)(hit - lk->sn->ids) : -1;
}

size_t catalog_lookup_count(struct catalog_lookup *lk)
{
	return lk->sn->n;
}

void catalog_lookup_names(struct catalog_lookup *lk, long index, const char **slug,
			  const char **title)
{
	const struct cat_entry *e = lk->sn->order[CAT_BY_ID][index];

	*slug = e->slug;
	*title = e->title;
}

void catalog_lookup_end(struct catalog_lookup *lk)
{
	if (!lk)
		return;
	snap_decref(lk->sn);
	free(lk);
}
