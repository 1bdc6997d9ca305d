/*
 * db_pg_conninfo.c: what the PostgreSQL engine (db_pg.c) tells libpq and makes of what libpq
 * says: the database string checked and shown without its password, passwords kept out of
 * messages, messages on one line, and SQLSTATEs mapped to the layer's rc.
 */
#include <string.h>

#include <libpq-fe.h>

#include "store/db_int.h"

enum rc db_pg_sqlstate_rc(const char *s)
{
	static const struct {
		const char *code; /* a whole SQLSTATE, or a class of two characters */
		enum rc rc;
	} map[] = {
		{ "23", RC_CONFLICT },    /* integrity constraint violation: unique, foreign key... */
		{ "40001", RC_BUSY },     /* serialization failure */
		{ "40P01", RC_BUSY },     /* deadlock detected */
		{ "55P03", RC_BUSY },     /* lock not available (NOWAIT, lock_timeout) */
		{ "57014", RC_BUSY },     /* query canceled (statement_timeout) */
		{ "08", RC_UNAVAILABLE }, /* connection exception */
		{ "57P01", RC_UNAVAILABLE }, /* admin shutdown: the session was terminated */
		{ "57P02", RC_UNAVAILABLE }, /* crash shutdown */
		{ "57P03", RC_UNAVAILABLE }, /* cannot connect now: starting or shutting down */
		{ "53300", RC_UNAVAILABLE }, /* too many connections */
		{ "53200", RC_NOMEM },    /* out of memory */
	};
	size_t i, n;

	if (!s || strlen(s) != 5)
		return RC_IO;
	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		n = strlen(map[i].code);
		if (!strncmp(s, map[i].code, n))
			return map[i].rc;
	}
	return RC_IO;
}

/* Messages on one line: libpq's end in a newline and may hold several, indented by tabs. */
void db_pg_one_line(char *s)
{
	for (; *s; s++)
		if (*s == '\n' || *s == '\r' || *s == '\t')
			*s = ' ';
}

/* Replaces each copy of secret in msg with "***" (libpq may quote a URI it cannot parse). */
static void scrub(char *msg, size_t size, const char *secret, size_t n)
{
	char out[512];
	size_t o = 0;
	const char *s = msg;

	if (!n || size > sizeof(out))
		return;
	while (*s && o + 4 < sizeof(out)) {
		if (!strncmp(s, secret, n)) {
			memcpy(out + o, "***", 3);
			o += 3;
			s += n;
		} else {
			out[o++] = *s++;
		}
	}
	out[o] = '\0';
	snprintf(msg, size, "%s", out);
}

/* Hides a password given in the URI's user information or as ?password=. */
void db_pg_scrub(char *msg, size_t size, const char *where)
{
	const char *a = strstr(where, "://"), *end, *at = NULL, *colon, *q, *p;

	if (a) {
		a += 3;
		end = a + strcspn(a, "/?");
		for (p = a; p < end; p++)
			if (*p == '@')
				at = p;
		colon = at ? memchr(a, ':', (size_t)(at - a)) : NULL;
		if (colon)
			scrub(msg, size, colon + 1, (size_t)(at - colon - 1));
	}
	for (q = where; (q = strstr(q, "password=")); q += 9)
		scrub(msg, size, q + 9, strcspn(q + 9, "&"));
}

static const char *opt_of(const PQconninfoOption *o, const char *key)
{
	for (; o->keyword; o++)
		if (!strcmp(o->keyword, key))
			return o->val && *o->val ? o->val : NULL;
	return NULL;
}

enum rc db_pg_check(const char *where, char **display, char *err, size_t errlen)
{
	PQconninfoOption *o;
	char *msg = NULL, shown[512];
	const char *user, *host, *port, *dbname;

	o = PQconninfoParse(where, &msg);
	if (!o) {
		snprintf(err, errlen, "database URI: %s", msg ? msg : "out of memory");
		db_pg_scrub(err, errlen, where);
		db_pg_one_line(err);
		PQfreemem(msg);
		return msg ? RC_INVALID : RC_NOMEM;
	}
	user = opt_of(o, "user");
	host = opt_of(o, "host");
	if (!host)
		host = opt_of(o, "hostaddr");
	port = opt_of(o, "port");
	dbname = opt_of(o, "dbname");
	snprintf(shown, sizeof(shown), "postgresql://%s%s%s%s%s/%s", user ? user : "",
		 user ? "@" : "", host ? host : "", port ? ":" : "", port ? port : "",
		 dbname ? dbname : "");
	PQconninfoFree(o);
	*display = strdup(shown);
	if (!*display) {
		snprintf(err, errlen, "out of memory");
		return RC_NOMEM;
	}
	return RC_OK;
}

