/*
 * export.c: GET /export (NDJSON and CSV of every live role), built once per write generation
 * and shared by every caller.
 *
 * The cache: key, the format (ndjson or csv; any other is 422 and never built); bound, one
 * file per format, as large as the export itself, on disk beside the database (an unlinked
 * file: page cache, not the server's memory); invalidation, the write generation: a file
 * built at an older generation is rebuilt by the first caller after a commit, under the
 * format's lock, so that callers arriving meanwhile wait for that build instead of running
 * their own. Each answer sends its own descriptor of the file (dup), so a rebuild never pulls
 * a file from under a client still reading the old one.
 *
 * An NDJSON line is the stored role body with its score block, revision and update time
 * spliced in before its closing brace: the same bytes as parsing the body, adding the members
 * and serialising it again (members are added at the end, and the body is stored compact),
 * without parsing 20 KB of JSON per role. A body stored before codes and evidence dates were
 * part of it is the exception: it is parsed and filled in as a read fills it.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/api_int.h"
#include "api/handlers.h"
#include "api/reply.h"
#include "api/role_read.h"
#include "body/assessment.h"

#define EXPORT_CHUNK (256 * 1024)

enum { EXPORT_NDJSON, EXPORT_CSV };

static const char *const export_formats[API_EXPORT_FORMATS] = { "ndjson", "csv" };

void api_exports_init(struct api *a)
{
	int i;

	for (i = 0; i < API_EXPORT_FORMATS; i++) {
		pthread_mutex_init(&a->exports[i].mu, NULL);
		a->exports[i].fd = -1;
	}
}

void api_exports_release(struct api *a)
{
	int i;

	for (i = 0; i < API_EXPORT_FORMATS; i++) {
		if (a->exports[i].fd >= 0)
			close(a->exports[i].fd);
		a->exports[i].fd = -1;
		pthread_mutex_destroy(&a->exports[i].mu);
	}
}

/* An unlinked file in the database's directory (the directory SQLite already writes its -wal
 * and -shm files to), or in $TMPDIR (else /tmp) when the database is a server's. -1 on
 * failure. */
static int export_file(struct store *s)
{
	char path[4096], dir[4096], tmpl[4200];
	const char *tmp = getenv("TMPDIR");
	int fd;

	snprintf(path, sizeof(path), "%s", store_path(s));
	if (store_db_is_server(path))
		snprintf(dir, sizeof(dir), "%s", tmp && *tmp ? tmp : "/tmp");
	else
		snprintf(dir, sizeof(dir), "%s", dirname(path));
	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR && errno != ENOENT))
		return fd;
	/* A file system without O_TMPFILE: a named file, unlinked at once. */
	snprintf(tmpl, sizeof(tmpl), "%s/.aijri-export-XXXXXX", dir);
	fd = mkstemp(tmpl);
	if (fd >= 0)
		unlink(tmpl);
	return fd;
}

struct export_ctx {
	int fd;
	int csv;
	int rc;
	uint64_t size;
	struct buf out;
};

static int export_flush(struct export_ctx *c)
{
	const char *p = c->out.data;
	size_t n = c->out.len;

	while (n) {
		ssize_t w = write(c->fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return RC_IO;
		p += w;
		n -= (size_t)w;
		c->size += (uint64_t)w;
	}
	buf_reset(&c->out);
	return RC_OK;
}

/* A CSV field, quoted when it holds a comma, quote or line break (RFC 4180). */
static void csv_field(struct buf *b, const char *s, int last)
{
	const char *p;

	if (!s)
		s = "";
	if (strpbrk(s, ",\"\r\n")) {
		buf_putc(b, '"');
		for (p = s; *p; p++) {
			if (*p == '"')
				buf_putc(b, '"');
			buf_putc(b, *p);
		}
		buf_putc(b, '"');
	} else {
		buf_puts(b, s);
	}
	buf_putc(b, last ? '\n' : ',');
}

/* A space-separated code list as one CSV field, its codes separated by semicolons (codes are
 * digits, dashes and dots: nothing to quote). */
static void csv_codes(struct buf *b, const char *list, int last)
{
	const char *p;

	for (p = list ? list : ""; *p; p++)
		buf_putc(b, *p == ' ' ? ';' : *p);
	buf_putc(b, last ? '\n' : ',');
}

static int export_csv_row(struct buf *b, const struct store_role *r)
{
	char num[32];

	csv_field(b, r->slug, 0);
	csv_field(b, r->title, 0);
	csv_field(b, r->category, 0);
	csv_field(b, r->seniority, 0);
	snprintf(num, sizeof(num), "%.1f", r->score);
	csv_field(b, num, 0);
	csv_field(b, r->zone, 0);
	csv_field(b, r->label, 0);
	snprintf(num, sizeof(num), "%d", r->revision);
	csv_field(b, num, 0);
	csv_field(b, r->updated_at, 0);
	/* A role's codes of one kind in one field, separated by semicolons (the list columns
	 * hold them separated by spaces, and a code holds no space). */
	csv_codes(b, r->soc_codes, 0);
	csv_codes(b, r->isco_codes, 1);
	return buf_err(b);
}

/* A body stored before codes and as_of were part of it (it has no "codes" member): parsed,
 * filled in as every read fills it, then written with the same members added. */
static int export_ndjson_old(struct buf *b, const struct store_role *r)
{
	json_t *role = api_role_loads(r), *score = r->score_json ? json_loads(r->score_json, 0, NULL)
								  : NULL;
	char *line = NULL;
	int rc = RC_IO;

	if (!role || !score)
		goto out;
	json_object_set(role, "score", score);
	json_object_set_new(role, "revision", json_integer(r->revision));
	json_object_set_new(role, "updated_at", json_string(r->updated_at ? r->updated_at : ""));
	line = assessment_dumps(role);
	if (!line) {
		rc = RC_NOMEM;
		goto out;
	}
	buf_puts(b, line);
	buf_putc(b, '\n');
	rc = buf_err(b);
out:
	free(line);
	json_decref(score);
	json_decref(role);
	return rc;
}

/* The role body with "score", "revision" and "updated_at" added at its end. */
static int export_ndjson_row(struct buf *b, const struct store_role *r)
{
	const char *body = r->role_json ? r->role_json : "";
	size_t n = strlen(body);
	char *updated = NULL;
	json_t *u;

	/* An unescaped quote is never inside a JSON string, so this finds a member name only;
	 * bodies written since codes exist always hold one (with as_of in their evidence). */
	if (!strstr(body, "\"codes\":"))
		return export_ndjson_old(b, r);
	while (n && body[n - 1] != '}')
		n--;
	if (!n || !r->score_json)
		return RC_IO;
	n--; /* the closing brace */
	u = json_string(r->updated_at ? r->updated_at : "");
	updated = u ? assessment_dumps(u) : NULL;
	json_decref(u);
	if (!updated)
		return RC_NOMEM;
	buf_put(b, body, n);
	/* An empty body ("{}") takes no comma before its first member. */
	while (n && (body[n - 1] == ' ' || body[n - 1] == '\n'))
		n--;
	if (n && body[n - 1] != '{')
		buf_putc(b, ',');
	buf_puts(b, "\"score\":");
	buf_puts(b, r->score_json);
	buf_putf(b, ",\"revision\":%d,\"updated_at\":%s}\n", r->revision, updated);
	free(updated);
	return buf_err(b);
}

static int export_row(void *ctx, const struct store_role *r)
{
	struct export_ctx *c = ctx;

	c->rc = c->csv ? export_csv_row(&c->out, r) : export_ndjson_row(&c->out, r);
	if (!c->rc && c->out.len >= EXPORT_CHUNK)
		c->rc = export_flush(c);
	return c->rc;
}

/* Builds the export of format f into a new file; on success *fd and *size hold it. */
static int export_build(struct api *a, int f, int *fd, uint64_t *size)
{
	struct export_ctx c;
	int rc;

	memset(&c, 0, sizeof(c));
	/* Flushed at EXPORT_CHUNK; one line is a role body (under the 1 MiB request limit) with
	 * its score block, so this bound is never what stops an export. */
	buf_init(&c.out, EXPORT_CHUNK + (8u << 20));
	c.csv = f == EXPORT_CSV;
	c.fd = export_file(a->store);
	if (c.fd < 0) {
		buf_release(&c.out);
		return RC_IO;
	}
	if (c.csv)
		buf_puts(&c.out, "slug,title,category,seniority,score,zone,label,revision,updated_at,"
				 "soc,isco\n");
	rc = buf_err(&c.out);
	if (!rc)
		rc = store_roles_each(a->store, export_row, &c);
	if (!rc)
		rc = c.rc;
	if (!rc)
		rc = export_flush(&c);
	buf_release(&c.out);
	if (rc) {
		close(c.fd);
		return rc;
	}
	*fd = c.fd;
	*size = c.size;
	return RC_OK;
}

/* A descriptor of the current export of format f (built now if it is older than the current
 * write generation), for the caller to own, and its size. */
static int export_get(struct api *a, int f, int *fd, uint64_t *size)
{
	struct api_export *e = &a->exports[f];
	uint64_t gen = api_generation(a);
	int rc = RC_OK;

	pthread_mutex_lock(&e->mu);
	if (e->fd < 0 || e->gen != gen) {
		int nfd = -1;
		uint64_t nsize = 0;

		/* The generation is read before the data: a file tagged with it holds data at
		 * least that new, never older. */
		rc = export_build(a, f, &nfd, &nsize);
		if (!rc) {
			if (e->fd >= 0)
				close(e->fd);
			e->fd = nfd;
			e->size = nsize;
			e->gen = gen;
			atomic_fetch_add(&e->builds, 1);
		}
	}
	if (!rc) {
		*fd = dup(e->fd);
		*size = e->size;
		if (*fd < 0)
			rc = RC_IO;
	}
	pthread_mutex_unlock(&e->mu);
	return rc;
}

int api_export(struct api_request *rq, struct api_response *rs)
{
	const char *format = rq->query(rq->ctx, "format");
	int f = EXPORT_NDJSON, rc, fd = -1;
	uint64_t size = 0;

	if (format && !strcmp(format, "csv")) {
		f = EXPORT_CSV;
	} else if (format && strcmp(format, "ndjson")) {
		struct scoring_errors errs;

		scoring_errors_init(&errs);
		scoring_errors_add(&errs, "format", "must be ndjson or csv");
		api_problem_errors(rs, &errs);
		return API_DONE;
	}
	rc = export_get(rq->api, f, &fd, &size);
	if (rc) {
		api_problem_rc(rs, rc, NULL);
		return API_DONE;
	}
	rs->status = 200;
	rs->body_fd = fd;
	rs->body_fd_size = size;
	rs->content_type = f == EXPORT_CSV ? "text/csv; charset=utf-8" : "application/x-ndjson";
	api_header(rs, "Content-Disposition",
		   f == EXPORT_CSV ? "inline; filename=\"aijri-roles.csv\""
				   : "inline; filename=\"aijri-roles.ndjson\"");
	api_cacheable(rq, rs);
	return API_DONE;
}

void api_exports_metrics(struct api *a, struct buf *out)
{
	int i;

	buf_puts(out, "# HELP aijri_export_builds_total Exports built (once per format and write "
		      "generation; every other call shares the built file).\n"
		      "# TYPE aijri_export_builds_total counter\n");
	for (i = 0; i < API_EXPORT_FORMATS; i++)
		buf_putf(out, "aijri_export_builds_total{format=\"%s\"} %llu\n", export_formats[i],
			 (unsigned long long)atomic_load(&a->exports[i].builds));
}
