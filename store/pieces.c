/*
 * pieces.c: a revision's role body kept as pieces (migration 0007). A role body is compact
 * JSON whose members come in a fixed order; a write changes one member or a few. So the text
 * is cut at the members of its objects down to PIECES_DEPTH (the role; its assessment,
 * commentary and codes; the assessment's evidence, barriers and protective principles): each
 * cut is one piece, stored once in `pieces` whatever number of revisions and roles hold it,
 * and a revision keeps the list of its pieces' ids (its manifest) instead of the text.
 *
 * The cuts are made on the text alone, so the pieces, put end to end, are the text byte for
 * byte whatever it holds: a piece runs from the first byte of one member's key to the first
 * byte of the next cut, its comma and closing braces included ("\"wage_trends\":{...},"). A
 * text that is not such an object is one piece, or a few: it is still kept exactly.
 *
 * A piece is found again by its hash (the first 8 bytes of its SHA-256, an index, not a
 * promise: the bytes are compared, so two pieces with one hash are two rows). A write passes
 * the role's previous text and manifest: pieces that are the same bytes at the same place
 * reuse the previous ids without a hash or a look-up, so a one-dimension change costs one
 * look-up and one new row.
 *
 * Manifest: a byte 1 (the format), then per piece the difference from the previous piece's id
 * (the first from 0), zigzag-encoded, as a base-128 varint (low groups first). Pieces made
 * together have consecutive ids, so most take one byte.
 *
 * It never changes or deletes a piece: a revision is append-only, and so are its pieces.
 */
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"
#include "util/buf.h"
#include "util/crypto.h"

/* Objects at depths 0 to PIECES_DEPTH - 1 (under objects cut themselves) are cut at their
 * members. */
#define PIECES_DEPTH 3
/* At most this many pieces a text; the last one takes what remains. */
#define PIECES_MAX 1024
#define MANIFEST_FORMAT 1
/* A body is bounded by the 1 MiB request limit with room for escapes (body/memo.c's bound). */
#define PIECES_MAX_TEXT (16u << 20)

static const char SQL_FIND[] = "SELECT id, body FROM pieces WHERE hash = $1";
static const char SQL_ADD[] = "INSERT INTO pieces (hash, body) VALUES ($1, $2) RETURNING id";
static const char SQL_GET[] = "SELECT body FROM pieces WHERE id = $1";

struct cut {
	size_t off, len;
};

/* Cuts t (NUL-terminated at n) into at most max pieces; returns how many (0 for an empty
 * text). */
static size_t split(const char *t, size_t n, struct cut *c, size_t max)
{
	unsigned char cut_here[PIECES_DEPTH];
	size_t i, nc = 0, start = 0;
	int depth = 0, in_str = 0, want_key = 0;

	for (i = 0; i < n; i++) {
		char ch = t[i];

		if (in_str) {
			/* Most of a body's bytes are in strings: skip to their next quote or escape at
			 * the speed of the C library (t is NUL-terminated at n). */
			i += strcspn(t + i, "\"\\");
			if (i >= n)
				break;
			if (t[i] == '\\')
				i++;
			else
				in_str = 0;
			continue;
		}
		if (ch == '"') {
			if (want_key && i > start && nc + 1 < max) {
				c[nc].off = start;
				c[nc++].len = i - start;
				start = i;
			}
			want_key = 0;
			in_str = 1;
		} else if (ch == '{' || ch == '[') {
			int cut = ch == '{' && depth < PIECES_DEPTH && (depth == 0 || cut_here[depth - 1]);

			if (depth < PIECES_DEPTH)
				cut_here[depth] = (unsigned char)cut;
			depth++;
			want_key = cut;
		} else if (ch == '}' || ch == ']') {
			depth -= depth > 0;
			want_key = 0;
		} else if (ch == ',') {
			want_key = depth > 0 && depth <= PIECES_DEPTH && cut_here[depth - 1];
		}
	}
	if (n > start) {
		c[nc].off = start;
		c[nc++].len = n - start;
	}
	return nc;
}

static int64_t piece_hash(const char *p, size_t n)
{
	unsigned char h[CRYPTO_SHA256_LEN];
	uint64_t v = 0;
	int i;

	crypto_sha256(p, n, h);
	for (i = 0; i < 8; i++)
		v = v << 8 | h[i];
	return (int64_t)v;
}

/* ---------------------------------------------------------------------------------------
 * Manifests
 */

static void put_varint(struct buf *b, uint64_t v, int *rc)
{
	unsigned char out[10];
	int n = 0;

	do {
		out[n] = (unsigned char)(v & 0x7f);
		v >>= 7;
		if (v)
			out[n] |= 0x80;
		n++;
	} while (v);
	if (!*rc)
		*rc = buf_add(b, out, (size_t)n);
}

/* The ids of a manifest into *ids (malloc'd), *n of them; RC_IO when it is not one. */
static enum rc manifest_ids(const unsigned char *m, size_t len, int64_t **ids, size_t *n)
{
	size_t i, k = 0;
	int64_t *out, prev = 0;

	*ids = NULL;
	*n = 0;
	if (len < 1 || m[0] != MANIFEST_FORMAT)
		return RC_IO;
	out = malloc((len - 1 ? len - 1 : 1) * sizeof(*out));
	if (!out)
		return RC_NOMEM;
	for (i = 1; i < len;) {
		uint64_t v = 0;
		int shift = 0;

		do {
			if (i >= len || shift > 63) {
				free(out);
				return RC_IO;
			}
			v |= (uint64_t)(m[i] & 0x7f) << shift;
			shift += 7;
		} while (m[i++] & 0x80);
		prev += (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
		out[k++] = prev;
	}
	*ids = out;
	*n = k;
	return RC_OK;
}

/* ---------------------------------------------------------------------------------------
 * Writing
 */

struct find {
	const char *p;
	size_t n;
	int64_t id;
};

static enum rc find_row(void *ctx, struct db_stmt *st)
{
	struct find *f = ctx;
	size_t len = 0;
	const void *body = db_col_blob(st, 1, &len);

	if (!body || len != f->n || memcmp(body, f->p, len))
		return RC_OK;
	f->id = db_col_int64(st, 0);
	return RC_STOP;
}

/* The id of the piece with these bytes, added when there is none. */
static enum rc piece_id(struct db_conn *c, const char *p, size_t n, int64_t *id)
{
	struct find f = { p, n, 0 };
	struct db_stmt *st;
	int64_t h = piece_hash(p, n);
	enum rc rc;

	rc = db_prepare(c, SQL_FIND, &st);
	if (rc)
		return rc;
	db_bind_int64(st, 1, h);
	rc = db_each(st, find_row, &f);
	if (rc)
		return rc;
	if (f.id) {
		*id = f.id;
		return RC_OK;
	}
	rc = db_prepare(c, SQL_ADD, &st);
	if (rc)
		return rc;
	db_bind_int64(st, 1, h);
	db_bind_blob(st, 2, p, n);
	rc = db_one_int64(st, id);
	return rc == RC_NOTFOUND ? RC_IO : rc;
}

/* The previous text's pieces and ids, when they are as many as its manifest says. */
struct prev {
	const char *text;
	struct cut *cuts;
	int64_t *ids;
	size_t n;
};

static void prev_load(struct prev *pv, const char *text, const void *manifest, size_t len)
{
	size_t n_ids = 0;

	memset(pv, 0, sizeof(*pv));
	if (!text || !manifest || manifest_ids(manifest, len, &pv->ids, &n_ids))
		return;
	pv->cuts = malloc(PIECES_MAX * sizeof(*pv->cuts));
	if (pv->cuts)
		pv->n = split(text, strlen(text), pv->cuts, PIECES_MAX);
	if (pv->n != n_ids)
		pv->n = 0; /* not the text of that manifest: nothing is reused */
	pv->text = text;
}

static void prev_release(struct prev *pv)
{
	free(pv->cuts);
	free(pv->ids);
}

/* The id of piece i of the new text, reusing the previous text's when the bytes are equal. */
static enum rc cut_id(struct db_conn *c, const char *t, const struct cut *cut, size_t i,
		      const struct prev *pv, int64_t *id)
{
	if (i < pv->n && pv->cuts[i].len == cut->len &&
	    !memcmp(pv->text + pv->cuts[i].off, t + cut->off, cut->len)) {
		*id = pv->ids[i];
		return RC_OK;
	}
	return piece_id(c, t + cut->off, cut->len, id);
}

enum rc pieces_put(struct db_conn *c, const char *text, const char *prev_text,
		   const void *prev_manifest, size_t prev_len, unsigned char **manifest,
		   size_t *len)
{
	struct buf m = BUF_INIT(PIECES_MAX * 10 + 1);
	struct cut *cuts = malloc(PIECES_MAX * sizeof(*cuts));
	struct prev pv;
	int64_t id, last = 0;
	size_t i, n;
	int rc = RC_OK;

	*manifest = NULL;
	*len = 0;
	prev_load(&pv, prev_text, prev_manifest, prev_len);
	if (!cuts) {
		rc = RC_NOMEM;
		goto out;
	}
	n = split(text, strlen(text), cuts, PIECES_MAX);
	rc = buf_addc(&m, MANIFEST_FORMAT);
	for (i = 0; i < n && !rc; i++) {
		rc = cut_id(c, text, &cuts[i], i, &pv, &id);
		if (rc)
			break;
		put_varint(&m, ((uint64_t)(id - last) << 1) ^ (uint64_t)((id - last) >> 63), &rc);
		last = id;
	}
	if (!rc) {
		*manifest = (unsigned char *)buf_detach(&m, len);
		rc = *manifest ? RC_OK : RC_NOMEM;
	}
out:
	buf_release(&m);
	free(cuts);
	prev_release(&pv);
	return rc;
}

/* ---------------------------------------------------------------------------------------
 * Reading
 */

enum rc pieces_manifest_copy(struct db_stmt *st, int col, unsigned char **out, size_t *len)
{
	const void *p = db_col_blob(st, col, len);

	*out = NULL;
	if (!p)
		return RC_IO;
	*out = malloc(*len ? *len : 1);
	if (!*out)
		return RC_NOMEM;
	memcpy(*out, p, *len);
	return RC_OK;
}

static enum rc get_row(void *ctx, struct db_stmt *st)
{
	size_t len = 0;
	const void *body = db_col_blob(st, 0, &len);

	return body ? (enum rc)buf_add(ctx, body, len) : RC_IO;
}

enum rc pieces_get(struct db_conn *c, const void *manifest, size_t len, char **text)
{
	struct buf out = BUF_INIT(PIECES_MAX_TEXT);
	struct db_stmt *st;
	int64_t *ids = NULL;
	size_t i, n = 0;
	enum rc rc;

	*text = NULL;
	rc = manifest_ids(manifest, len, &ids, &n);
	for (i = 0; i < n && !rc; i++) {
		rc = db_prepare(c, SQL_GET, &st);
		if (rc)
			break;
		db_bind_int64(st, 1, ids[i]);
		rc = db_one(st, get_row, &out);
		if (rc == RC_NOTFOUND)
			rc = RC_IO; /* a manifest names only pieces that exist */
	}
	if (!rc) {
		*text = buf_detach(&out, NULL);
		if (!*text)
			*text = strdup("");
		rc = *text ? RC_OK : RC_NOMEM;
	}
	buf_release(&out);
	free(ids);
	return rc;
}
