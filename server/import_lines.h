/*
 * import_lines.h: the lines of an import, read into role bodies (import_lines.c).
 */
#ifndef SERVER_IMPORT_LINES_H
#define SERVER_IMPORT_LINES_H

#include <pthread.h>
#include <stdio.h>

#include <jansson.h>

#include "body/assessment.h"

/* A record of an import is a role body; the API takes none over 1 MiB, nor does import. */
#define IMPORT_LINE_MAX ASSESSMENT_BODY_MAX
/* Roles in one import: far above any real occupation list, low enough to bound memory. */
#define IMPORT_MAX_ROLES 100000

struct import_records {
	json_t **v;    /* the role bodies, in input order */
	int *line;     /* the line each came from */
	size_t n, cap;
	char why[512]; /* why reading stopped at a bad line, for after the lines before it */
	/* Reading on a thread of its own (import_read_start): v, n and the end are guarded by
	 * mu until import_read_finish. */
	int threaded, reading, ret;
	size_t done;   /* the records before this one are written: the reader frees them */
	size_t freed;  /* the reader's: the records before this one are freed (NULL in v) */
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cond;
	FILE *f;
	const char *name;
};

/* Reads every line of f (name: for messages) into r. Returns 0, 1 on a read error or no
 * memory (said on stderr), 2 on bad input (r->why says which line and why; the lines before
 * it are in r). r starts zeroed; release it with import_records_release whatever the result. */
int import_read(FILE *f, const char *name, struct import_records *r);
void import_records_release(struct import_records *r);

/*
 * import_read on a thread of its own, so that the records are written while the next ones
 * are parsed: r starts zeroed; 0, or 1 when the thread cannot start. import_record gives
 * record i (borrowed from r), waiting until it is read; NULL when there is none: the end, or
 * reading stopped. import_read_finish waits for the thread and returns import_read's result;
 * r is then the caller's alone again. import_records_done tells the reading thread that the
 * records before i are no longer needed: it frees them (their slots become NULL) as it goes,
 * so that neither the memory nor the freeing waits for the end.
 */
int import_read_start(FILE *f, const char *name, struct import_records *r);
json_t *import_record(struct import_records *r, size_t i);
int import_read_finish(struct import_records *r);
void import_records_done(struct import_records *r, size_t i);
/* Prints the validation errors of the body on line of name to stderr. */
void import_report_bad(const char *name, int line, const struct scoring_errors *errs);

#endif
