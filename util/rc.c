/* rc.c: names of the error codes, for logs and messages. */
#include "util/rc.h"

const char *rc_str(int rc)
{
	switch (rc) {
	case RC_OK: return "ok";
	case RC_INVALID: return "invalid input";
	case RC_MALFORMED: return "malformed input";
	case RC_NOTFOUND: return "not found";
	case RC_CONFLICT: return "already exists";
	case RC_PRECONDITION: return "precondition failed";
	case RC_UNAUTHORIZED: return "unauthorized";
	case RC_TOOLARGE: return "too large";
	case RC_NOMEM: return "out of memory";
	case RC_IO: return "input/output error";
	case RC_BUSY: return "database busy";
	case RC_TOONEW: return "database is newer than this binary";
	case RC_GONE: return "archived";
	case RC_UNCHANGED: return "unchanged";
	case RC_STOP: return "stopped";
	case RC_UNAVAILABLE: return "database unavailable";
	case RC_UNSUPPORTED: return "not supported by the database engine";
	}
	return "unknown error";
}
