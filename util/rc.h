/*
 * rc.h: the one error type of aijri. 0 is success; every function that can fail returns one
 * of these and callers propagate it with `if (rc) return rc;`. Only api/ turns a code into an
 * HTTP status.
 */
#ifndef UTIL_RC_H
#define UTIL_RC_H

enum rc {
	RC_OK = 0,
	RC_INVALID,      /* input breaks a rule (422); the details are in a scoring_errors list */
	RC_MALFORMED,    /* input does not parse (400) */
	RC_NOTFOUND,     /* no such role, revision, token, webhook (404) */
	RC_CONFLICT,     /* the slug, alias or name exists already (409) */
	RC_PRECONDITION, /* If-Match named a revision that is no longer current (412) */
	RC_UNAUTHORIZED, /* no valid token (401) */
	RC_TOOLARGE,     /* a bounded buffer or body is over its limit (413) */
	RC_NOMEM,        /* allocation failed */
	RC_IO,           /* the database or the file system failed */
	RC_BUSY,         /* the database stayed locked past the busy timeout, or a transaction lost
	                  * a race (serialization failure, deadlock): retry the whole transaction */
	RC_TOONEW,       /* the database was written by a newer aijri */
	RC_GONE,         /* archived */
	RC_UNCHANGED,    /* a write that would change nothing (not an error for callers that expect it) */
	RC_STOP,         /* not an error: a row callback's "enough rows", ending the iteration well */
	RC_UNAVAILABLE,  /* the database cannot be reached now (connection lost, server shutting
	                  * down): nothing was done; try again later (503) */
	RC_UNSUPPORTED,  /* the database engine cannot do this (e.g. notifications on SQLite) */
};

/* A short English name of the code, for logs. Never NULL. */
const char *rc_str(int rc);

#endif
