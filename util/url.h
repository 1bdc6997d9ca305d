/*
 * url.h: the one check of the URLs a client may store or subscribe (webhook endpoints, the
 * sources and resources of an assessment): absolute http or https URLs with a host, as
 * libcurl's URL parser reads them. Nothing here fetches anything.
 */
#ifndef UTIL_URL_H
#define UTIL_URL_H

/* 1 when url is an absolute http or https URL with a host and no blank or control
 * character, else 0. */
int url_http_ok(const char *url);

#endif
