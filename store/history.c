/*
 * history.c: the score history behind GET /movers (score_history, 0005_analysis.sql): one row
 * per revision, keyed by its time, with its published result and the one before it.
 *
 * A window's movers come from one range scan of that table: a role's first row in the window
 * carries its result before the window (prev), its last row its result at the window's end.
 * Roles with no row in the window did not move; a first row without prev is the role's
 * revision 1, made inside the window, so the role was not live at its start. No look-up per
 * role, no role JSON: the cost is the window's rows, whatever the length of the history.
 *
 * The row's values are packed into one BLOB, `entry`, by history_entry_pack (every write, on
 * both engines) or by the SQL function aijri_history_entry(role_id, revision, score, zone,
 * label, prev_score, prev_zone, prev_label) that SQLite's migration 0005 used on older rows.
 * A scan then reads one column per row, not eight: SQLite's cost per column read dominated
 * (27 ms against 4 ms for a month of a 1,000,000-revision history, measured here). Its bytes:
 *
 *   0      format, 1
 *   1..8   role_id, int64 little-endian
 *   9..12  revision, int32 little-endian
 *   13..20 score, IEEE double, its bits little-endian
 *   21..28 prev_score, the same (NaN: no previous revision)
 *   29     zone, 'g' 'y' or 'r'
 *   30     prev_zone, the same, or 0
 *   31     length of label (at most 255 bytes), then label
 *   ...    length of prev_label, then prev_label (0 and nothing: none)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* SQLite's own: the SQL function aijri_history_entry (below). */
#include <sqlite3.h>

#include "store/store_int.h"

#define ENTRY_FORMAT 1
#define ENTRY_FIXED 31 /* the bytes before the first label */
_Static_assert(HISTORY_ENTRY_MAX >= ENTRY_FIXED + 2 * 256, "room for two labels");

static const char SQL_WINDOW[] = "SELECT entry FROM score_history WHERE at > $1 AND at <= $2";
static const char SQL_ARCHIVED_ROLE[] =
	"SELECT slug, title, archived_at FROM roles WHERE id = $1";

static const char *const zone_names[] = { "green", "yellow", "red" };

static unsigned char zone_code(const unsigned char *zone)
{
	return zone ? (unsigned char)zone[0] : 0;
}

static const char *zone_name(unsigned char code)
{
	return code == 'g' ? zone_names[0] : code == 'y' ? zone_names[1] : code == 'r' ? zone_names[2]
										     : NULL;
}

static void put_le(unsigned char *p, uint64_t v, int n)
{
	int i;

	for (i = 0; i < n; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_le(const unsigned char *p, int n)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static void put_double(unsigned char *p, double d)
{
	uint64_t bits;

	memcpy(&bits, &d, sizeof(bits));
	put_le(p, bits, 8);
}

static double get_double(const unsigned char *p)
{
	uint64_t bits = get_le(p, 8);
	double d;

	memcpy(&d, &bits, sizeof(d));
	return d;
}

/* Appends a label: its length byte and its bytes (NULL: none). */
static size_t put_label(unsigned char *p, const unsigned char *label)
{
	size_t n = label ? strlen((const char *)label) : 0;

	if (n > 255)
		n = 255;
	p[0] = (unsigned char)n;
	if (n)
		memcpy(p + 1, label, n);
	return n + 1;
}

size_t history_entry_pack(const struct history_values *v, unsigned char out[HISTORY_ENTRY_MAX])
{
	size_t n = ENTRY_FIXED;

	out[0] = ENTRY_FORMAT;
	put_le(out + 1, (uint64_t)v->role_id, 8);
	put_le(out + 9, (uint64_t)(uint32_t)v->revision, 4);
	put_double(out + 13, v->score);
	put_double(out + 21, v->has_prev ? v->prev_score : NAN);
	out[29] = zone_code((const unsigned char *)v->zone);
	out[30] = v->has_prev ? zone_code((const unsigned char *)v->prev_zone) : 0;
	n += put_label(out + n, (const unsigned char *)v->label);
	n += put_label(out + n, v->has_prev ? (const unsigned char *)v->prev_label : NULL);
	return n;
}

/* aijri_history_entry(role_id, revision, score, zone, label, prev_score, prev_zone,
 * prev_label): the entry of one revision (prev_* NULL for revision 1), for migration 0005's
 * rows written before the history existed; writes pack theirs with history_entry_pack.
 * SQLite-only: a C function registered on the writer's SQLite handle (store_history_register,
 * the handle from db_bridge.h), so it and its registration stay on sqlite3_* calls. */
static void sql_history_entry(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	unsigned char e[HISTORY_ENTRY_MAX];
	struct history_values v;
	size_t n;

	(void)argc;
	v.has_prev = sqlite3_value_type(argv[5]) != SQLITE_NULL;
	v.role_id = sqlite3_value_int64(argv[0]);
	v.revision = sqlite3_value_int(argv[1]);
	v.score = sqlite3_value_double(argv[2]);
	v.zone = (const char *)sqlite3_value_text(argv[3]);
	v.label = (const char *)sqlite3_value_text(argv[4]);
	v.prev_score = v.has_prev ? sqlite3_value_double(argv[5]) : 0;
	v.prev_zone = v.has_prev ? (const char *)sqlite3_value_text(argv[6]) : NULL;
	v.prev_label = v.has_prev ? (const char *)sqlite3_value_text(argv[7]) : NULL;
	n = history_entry_pack(&v, e);
	sqlite3_result_blob(ctx, e, (int)n, SQLITE_TRANSIENT);
}

enum rc store_history_register(struct db_conn *c, char *err, size_t errlen)
{
	sqlite3 *db = db_sqlite_handle(c);

	if (!db) {
		snprintf(err, errlen, "the score history needs a SQLite connection");
		return RC_UNSUPPORTED;
	}
	if (sqlite3_create_function(db, "aijri_history_entry", 8,
				    SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL, sql_history_entry, NULL,
				    NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s", sqlite3_errmsg(db));
		return RC_IO;
	}
	return RC_OK;
}

/* A decoded entry; labels point into the row's blob (valid until the row callback returns). */
struct entry {
	int64_t role_id;
	int revision;
	double score, prev_score;
	unsigned char zone, prev_zone; /* 'g', 'y', 'r'; prev_zone 0 for none */
	const unsigned char *label, *prev_label;
	size_t label_len, prev_label_len;
};

static int entry_decode(const unsigned char *p, size_t n, struct entry *e)
{
	if (n < ENTRY_FIXED + 2 || p[0] != ENTRY_FORMAT)
		return RC_IO;
	e->role_id = (int64_t)get_le(p + 1, 8);
	e->revision = (int)(int32_t)get_le(p + 9, 4);
	e->score = get_double(p + 13);
	e->prev_score = get_double(p + 21);
	e->zone = p[29];
	e->prev_zone = p[30];
	e->label_len = p[ENTRY_FIXED];
	e->label = p + ENTRY_FIXED + 1;
	if (ENTRY_FIXED + 1 + e->label_len + 1 > n)
		return RC_IO;
	e->prev_label_len = p[ENTRY_FIXED + 1 + e->label_len];
	e->prev_label = e->label + e->label_len + 1;
	if (ENTRY_FIXED + 2 + e->label_len + e->prev_label_len > n || !zone_name(e->zone) ||
	    (e->prev_zone && !zone_name(e->prev_zone)))
		return RC_IO;
	return RC_OK;
}

/* The few distinct labels of the window (the method has seven), each kept once; spans hold
 * their index. Found by a hash of their bytes, so a row costs no string comparison. */
#define LABELS_MAX 65535
struct labels {
	struct label {
		uint32_t hash;
		size_t len;
		char *text;
	} *v;
	size_t n, cap;
};

static uint32_t fnv1a(const unsigned char *s, size_t n)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ s[i]) * 16777619u;
	return h;
}

/* The index of the label, added when new; -1 when out of memory or past LABELS_MAX. */
static long label_index(struct labels *t, const unsigned char *s, size_t len)
{
	uint32_t h = fnv1a(s, len);
	size_t i;

	for (i = 0; i < t->n; i++)
		if (t->v[i].hash == h && t->v[i].len == len && !memcmp(t->v[i].text, s, len))
			return (long)i;
	if (t->n == LABELS_MAX)
		return -1;
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		struct label *v = realloc(t->v, cap * sizeof(*v));

		if (!v)
			return -1;
		t->v = v;
		t->cap = cap;
	}
	t->v[t->n].text = strndup((const char *)s, len);
	if (!t->v[t->n].text)
		return -1;
	t->v[t->n].hash = h;
	t->v[t->n].len = len;
	return (long)t->n++;
}

static void labels_release(struct labels *t)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		free(t->v[i].text);
	free(t->v);
	memset(t, 0, sizeof(*t));
}

/* One role's first and last rows in the window, in an open-addressing table by role id.
 * Small (40 bytes), as the window's rows visit the table in no order. */
struct span {
	int64_t role_id;   /* 0: an empty slot */
	double from_score, to_score;
	int32_t from_rev, to_rev;
	uint16_t from_label, to_label;
	unsigned char from_zone, to_zone;
	unsigned char has_from; /* the first row had a previous result */
};

struct spans {
	struct span *v;
	size_t cap, n;     /* cap: a power of two; n at most 0.7 of it */
};

static size_t slot_of(const struct spans *t, int64_t id)
{
	size_t i = (size_t)((uint64_t)id * 0x9E3779B97F4A7C15ull >> 20) & (t->cap - 1);

	while (t->v[i].role_id && t->v[i].role_id != id)
		i = (i + 1) & (t->cap - 1);
	return i;
}

/* Doubles the table, or makes it big enough for `want` spans. */
static int spans_grow(struct spans *t, size_t want)
{
	struct spans bigger = { NULL, t->cap ? t->cap * 2 : 1024, 0 };
	size_t i;

	/* Linear probing stays short up to a load of 0.7. */
	while (bigger.cap * 7 < want * 10)
		bigger.cap *= 2;
	bigger.v = calloc(bigger.cap, sizeof(*bigger.v));
	if (!bigger.v)
		return RC_NOMEM;
	for (i = 0; i < t->cap; i++)
		if (t->v[i].role_id)
			bigger.v[slot_of(&bigger, t->v[i].role_id)] = t->v[i];
	bigger.n = t->n;
	free(t->v);
	*t = bigger;
	return RC_OK;
}

/* Adds one row of the window (rows come in time order, a role's in revision order). */
static int spans_add(struct spans *t, struct labels *lab, const struct entry *e)
{
	struct span *sp;
	long li;

	if ((t->n + 1) * 10 > t->cap * 7 && spans_grow(t, 0))
		return RC_NOMEM;
	sp = &t->v[slot_of(t, e->role_id)];
	if (!sp->role_id) {
		sp->role_id = e->role_id;
		sp->has_from = !isnan(e->prev_score) && e->prev_zone;
		if (sp->has_from) {
			li = label_index(lab, e->prev_label, e->prev_label_len);
			if (li < 0)
				return RC_NOMEM;
			sp->from_score = e->prev_score;
			sp->from_zone = e->prev_zone;
			sp->from_label = (uint16_t)li;
			sp->from_rev = e->revision - 1;
		}
		t->n++;
	} else if (e->revision < sp->to_rev) {
		return RC_OK;
	}
	li = label_index(lab, e->label, e->label_len);
	if (li < 0)
		return RC_NOMEM;
	sp->to_label = (uint16_t)li;
	sp->to_score = e->score;
	sp->to_zone = e->zone;
	sp->to_rev = e->revision;
	return RC_OK;
}

/* The published results of a span, as store_move hands them out. */
static void span_results(const struct span *sp, const struct labels *lab, struct store_result *from,
			 struct store_result *to)
{
	from->score = sp->from_score;
	from->zone = zone_name(sp->from_zone);
	from->label = lab->v[sp->from_label].text;
	from->revision = sp->from_rev;
	to->score = sp->to_score;
	to->zone = zone_name(sp->to_zone);
	to->label = lab->v[sp->to_label].text;
	to->revision = sp->to_rev;
}

/* Published scores have one decimal: closer than half of that is the same score. */
static int moved(const struct span *sp)
{
	double d = sp->to_score - sp->from_score;

	return d > 0.04 || d < -0.04 || sp->to_zone != sp->from_zone;
}

struct archived {
	const struct span *sp;
	const struct labels *lab;
	const char *until_iso;
	int (*row)(void *ctx, struct store_move *m);
	void *ctx;
	int stop;
};

static enum rc archived_row(void *ctx, struct db_stmt *st)
{
	struct archived *a = ctx;
	const char *at = db_col_text(st, 2, NULL);
	struct store_move m;

	/* Archived at or before until: not live then. ISO times compare as text. */
	if (at && strcmp(at, a->until_iso) <= 0)
		return RC_OK;
	memset(&m, 0, sizeof(m));
	m.slug = db_col_text(st, 0, NULL);
	m.title = db_col_text(st, 1, NULL);
	span_results(a->sp, a->lab, &m.from, &m.to);
	m.index = -1;
	if (m.slug && m.title)
		a->stop = a->row(a->ctx, &m) != 0;
	return RC_OK;
}

/* An archived role: its slug and title, and whether it was still live at `until`. Calls
 * row() when it was. */
static int archived_move(struct store_conn *c, const struct span *sp, const struct labels *lab,
			 const char *until_iso, int (*row)(void *ctx, struct store_move *m),
			 void *ctx, int *stop)
{
	struct archived a = { sp, lab, until_iso, row, ctx, 0 };
	struct db_stmt *st;
	enum rc rc;

	rc = db_prepare(c->dc, SQL_ARCHIVED_ROLE, &st);
	if (rc)
		return rc;
	db_bind_int64(st, 1, sp->role_id);
	rc = db_one(st, archived_row, &a);
	if (rc == RC_NOTFOUND)
		rc = RC_OK;
	*stop = a.stop;
	return rc;
}

void store_move_names(struct store_move *m)
{
	if (!m->slug && m->lookup && m->index >= 0)
		catalog_lookup_names(m->lookup, m->index, &m->slug, &m->title);
}

/* Hands every moved span to row(): live roles found in the catalog (their names looked up
 * only when row() asks), archived ones from SQL. */
static int report(struct store_conn *c, struct catalog_lookup *lk, const struct spans *t,
		  const struct labels *lab, int64_t until,
		  int (*row)(void *ctx, struct store_move *m), void *ctx)
{
	char until_iso[CLOCK_ISO_LEN];
	size_t i;
	int rc = RC_OK, stop = 0;

	clock_iso((time_t)(until / 1000), until_iso);
	for (i = 0; !rc && !stop && i < t->cap; i++) {
		const struct span *sp = &t->v[i];
		struct store_move m;
		long index;

		if (!sp->role_id || !sp->has_from || !moved(sp))
			continue;
		index = catalog_lookup_index(lk, sp->role_id);
		if (index < 0) {
			rc = archived_move(c, sp, lab, until_iso, row, ctx, &stop);
			continue;
		}
		m.slug = NULL;
		m.title = NULL;
		span_results(sp, lab, &m.from, &m.to);
		m.lookup = lk;
		m.index = index;
		stop = row(ctx, &m) != 0;
	}
	return rc;
}

struct window {
	struct spans *t;
	struct labels *lab;
};

/* One revision of the window: kept light, a month is some 27,000 of them. */
static enum rc window_row(void *ctx, struct db_stmt *st)
{
	struct window *w = ctx;
	struct entry e;
	const void *p;
	size_t n;
	enum rc rc;

	p = db_col_blob(st, 0, &n);
	rc = entry_decode(p, n, &e);
	if (!rc)
		rc = spans_add(w->t, w->lab, &e);
	return rc;
}

int store_movers(struct store *s, int64_t since, int64_t until,
		 int (*row)(void *ctx, struct store_move *m), void *ctx)
{
	struct store_conn *c = store_reader(s);
	struct labels lab = { NULL, 0, 0 };
	struct spans t = { NULL, 0, 0 };
	struct window w = { &t, &lab };
	struct catalog_lookup *lk = NULL;
	struct db_stmt *st;
	enum rc rc;

	if (!c)
		return RC_IO;
	/* The live roles first: their number sizes the table of spans (a window seldom touches
	 * many more roles than are live), so it need not grow while the rows come. */
	rc = catalog_lookup_begin(s->cat, c, &lk);
	if (!rc && spans_grow(&t, catalog_lookup_count(lk)))
		rc = RC_NOMEM;
	if (!rc)
		rc = db_prepare(c->dc, SQL_WINDOW, &st);
	if (rc) {
		catalog_lookup_end(lk);
		free(t.v);
		return rc;
	}
	db_bind_int64(st, 1, since);
	db_bind_int64(st, 2, until);
	rc = db_each(st, window_row, &w);
	if (!rc)
		rc = report(c, lk, &t, &lab, until, row, ctx);
	catalog_lookup_end(lk);
	free(t.v);
	labels_release(&lab);
	return rc;
}
