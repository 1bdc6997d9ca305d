/*
 * import_lines.c: the reading of `aijri import`'s input, one role body per line (as `aijri
 * export` and GET /export?format=ndjson write them): each line parsed, checked to be an
 * object and stripped of the members an export derives. Bounded: a line is at most
 * IMPORT_LINE_MAX bytes, an import at most IMPORT_MAX_ROLES roles.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "body/assessment.h"
#include "server/import_lines.h"
#include "util/buf.h"
#include "util/rc.h"

/* Members that an export (ours or GET /export) adds to a role body: derived data that the
 * import recomputes, so it is dropped rather than refused. */
static const char *const derived_fields[] = { "score", "revision", "created_at", "updated_at" };


void import_records_release(struct import_records *r)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		json_decref(r->v[i]);
	free(r->v);
	free(r->line);
	r->v = NULL;
	r->line = NULL;
	r->n = r->cap = 0;
}

/* Takes the reference to v. */
static int records_add(struct import_records *r, json_t *v, int line)
{
	json_t **nv;
	int *nl;
	size_t cap;

	if (r->n == r->cap) {
		cap = r->cap ? r->cap * 2 : 64;
		nv = realloc(r->v, cap * sizeof(*nv));
		if (nv)
			r->v = nv;
		nl = realloc(r->line, cap * sizeof(*nl));
		if (nl)
			r->line = nl;
		if (!nv || !nl) {
			json_decref(v);
			return RC_NOMEM;
		}
		r->cap = cap;
	}
	r->v[r->n] = v;
	r->line[r->n] = line;
	r->n++;
	return 0;
}

/* records_add, seen by import_record on the other thread when reading is threaded; then the
 * records already written are freed here, on the reading thread. */
static int records_publish(struct import_records *r, json_t *v, int line)
{
	json_t *old[64];
	size_t n = 0, k;
	int rc;

	if (!r->threaded)
		return records_add(r, v, line);
	pthread_mutex_lock(&r->mu);
	rc = records_add(r, v, line);
	pthread_cond_broadcast(&r->cond);
	while (r->freed < r->done && n < sizeof(old) / sizeof(old[0])) {
		old[n++] = r->v[r->freed];
		r->v[r->freed++] = NULL;
	}
	pthread_mutex_unlock(&r->mu);
	for (k = 0; k < n; k++)
		json_decref(old[k]);
	return rc;
}

void import_records_done(struct import_records *r, size_t i)
{
	if (!r->threaded)
		return;
	pthread_mutex_lock(&r->mu);
	if (i > r->done)
		r->done = i;
	pthread_mutex_unlock(&r->mu);
}

/* One line of input: parsed, checked to be an object, derived members dropped. Returns 0,
 * or 2 with a message naming the line. Blank lines are skipped. */
static int parse_line(const char *name, int lineno, const struct buf *line, struct import_records *r)
{
	json_error_t jerr;
	json_t *v;
	const char *p = buf_str(line);
	size_t i;

	while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
		p++;
	if (!*p)
		return 0;
	v = assessment_loadb(buf_str(line), line->len, &jerr);
	if (!v) {
		snprintf(r->why, sizeof(r->why), "%s: line %d: malformed JSON at column %d: %s", name,
			 lineno, jerr.column, assessment_json_error(&jerr));
		return 2;
	}
	if (!json_is_object(v)) {
		snprintf(r->why, sizeof(r->why), "%s: line %d: must be a JSON object (a role body)",
			 name, lineno);
		json_decref(v);
		return 2;
	}
	for (i = 0; i < sizeof(derived_fields) / sizeof(derived_fields[0]); i++)
		json_object_del(v, derived_fields[i]);
	if (r->n >= IMPORT_MAX_ROLES) {
		snprintf(r->why, sizeof(r->why), "%s: line %d: more than %d roles", name, lineno,
			 IMPORT_MAX_ROLES);
		json_decref(v);
		return 2;
	}
	if (records_publish(r, v, lineno)) {
		fprintf(stderr, "aijri: import: out of memory\n");
		return 1;
	}
	return 0;
}

int import_read(FILE *f, const char *name, struct import_records *r)
{
	struct buf line = BUF_INIT(IMPORT_LINE_MAX);
	char chunk[8192];
	int lineno = 1, ret = 0;
	size_t n;

	while (!ret && fgets(chunk, sizeof(chunk), f)) {
		n = strlen(chunk);
		if (buf_add(&line, chunk, n)) {
			snprintf(r->why, sizeof(r->why), "%s: line %d: longer than %d bytes", name,
				 lineno, IMPORT_LINE_MAX);
			ret = 2;
			break;
		}
		if (n && chunk[n - 1] == '\n') {
			ret = parse_line(name, lineno, &line, r);
			buf_reset(&line);
			lineno++;
		}
	}
	if (!ret && ferror(f)) {
		fprintf(stderr, "aijri: import: cannot read %s: %s\n", name, strerror(errno));
		ret = 1;
	}
	/* The last line may lack its newline. */
	if (!ret && line.len)
		ret = parse_line(name, lineno, &line, r);
	buf_release(&line);
	return ret;
}

static void *reader_main(void *arg)
{
	struct import_records *r = arg;
	int ret = import_read(r->f, r->name, r);

	pthread_mutex_lock(&r->mu);
	r->ret = ret;
	r->reading = 0;
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

int import_read_start(FILE *f, const char *name, struct import_records *r)
{
	r->f = f;
	r->name = name;
	r->threaded = 1;
	r->reading = 1;
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->cond, NULL);
	if (pthread_create(&r->thread, NULL, reader_main, r)) {
		fprintf(stderr, "aijri: import: cannot start the reading thread\n");
		pthread_mutex_destroy(&r->mu);
		pthread_cond_destroy(&r->cond);
		r->threaded = 0;
		return 1;
	}
	return 0;
}

json_t *import_record(struct import_records *r, size_t i)
{
	json_t *v = NULL;

	if (!r->threaded)
		return i < r->n ? r->v[i] : NULL;
	pthread_mutex_lock(&r->mu);
	while (i >= r->n && r->reading)
		pthread_cond_wait(&r->cond, &r->mu);
	if (i < r->n)
		v = r->v[i];
	pthread_mutex_unlock(&r->mu);
	return v;
}

int import_read_finish(struct import_records *r)
{
	if (!r->threaded)
		return r->ret;
	pthread_join(r->thread, NULL);
	pthread_mutex_destroy(&r->mu);
	pthread_cond_destroy(&r->cond);
	r->threaded = 0;
	return r->ret;
}

void import_report_bad(const char *name, int line, const struct scoring_errors *errs)
{
	int i;

	fprintf(stderr, "aijri: import: %s: line %d: not a valid role body; nothing was imported:\n",
		name, line);
	for (i = 0; i < errs->n; i++)
		fprintf(stderr, "  %s: %s\n", errs->e[i].field, errs->e[i].message);
	if (errs->dropped)
		fprintf(stderr, "  (and %d more)\n", errs->dropped);
}
