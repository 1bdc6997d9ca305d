/* url.c: see url.h. libcurl's parser decides what a URL is; the checks around it refuse what
 * it would read generously. */
#include <string.h>

#include <curl/curl.h>

#include "util/url.h"

int url_http_ok(const char *url)
{
	CURLU *u = NULL;
	char *scheme = NULL, *host = NULL;
	const char *sep, *c;
	int ok = 0;

	if (!url)
		return 0;
	sep = strstr(url, "://");
	/* libcurl reads "https:///x" as host x, and "https:/x/y://z" as a URL of host x: a URL
	 * whose scheme is not followed by "//" and an authority is not one to accept. */
	if (!sep || sep != strchr(url, ':') || sep[3] == '/' || sep[3] == '\0')
		goto out;
	for (c = url; *c; c++)
		if ((unsigned char)*c <= ' ' || *c == 0x7f)
			goto out;
	u = curl_url();
	if (!u || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK)
		goto out;
	if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
		goto out;
	ok = (!strcmp(scheme, "http") || !strcmp(scheme, "https")) && host[0];
out:
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	return ok;
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int url_pct_byte(const char *p, size_t avail)
{
	int hi, lo;

	if (avail < 3 || p[0] != '%')
		return -1;
	hi = hex_value(p[1]);
	lo = hi < 0 ? -1 : hex_value(p[2]);
	return lo < 0 ? -1 : hi * 16 + lo;
}
