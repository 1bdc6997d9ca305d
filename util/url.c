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
