/*
 * url.h: the one check of the URLs a client may store or subscribe (webhook endpoints, the
 * sources and resources of an assessment): absolute http or https URLs with a host, as
 * libcurl's URL parser reads them. Nothing here fetches anything.
 */
#ifndef UTIL_URL_H
#define UTIL_URL_H

#include <stddef.h>

/* 1 when url is an absolute http or https URL with a host and no blank or control
 * character, else 0. */
int url_http_ok(const char *url);

/* The byte that the percent-escape at p ("%2F") stands for, 0 to 255; -1 when p does not
 * begin one (a '%' and two hex digits, either case). Reads at most 3 bytes of p, stopping at
 * a NUL, so p may be the last byte of a string; avail bounds it for a range that is not
 * NUL-terminated. The one percent-decoding step of the path, the router and the query. */
int url_pct_byte(const char *p, size_t avail);

#endif
