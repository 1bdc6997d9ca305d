/* netaddr.c: the address ranges webhooks may not reach (see netaddr.h). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "util/netaddr.h"

static int v4_refused(const unsigned char a[4])
{
	return a[0] == 0 ||                                  /* 0.0.0.0/8 */
	       a[0] == 10 ||                                 /* 10/8 */
	       a[0] == 127 ||                                /* loopback */
	       (a[0] == 100 && (a[1] & 0xc0) == 64) ||       /* CGNAT 100.64/10 */
	       (a[0] == 169 && a[1] == 254) ||               /* link-local */
	       (a[0] == 172 && (a[1] & 0xf0) == 16) ||       /* 172.16/12 */
	       (a[0] == 192 && a[1] == 168) ||               /* 192.168/16 */
	       (a[0] == 192 && a[1] == 0 && a[2] == 0) ||    /* IETF protocol assignments */
	       (a[0] == 198 && (a[1] & 0xfe) == 18) ||       /* benchmarking 198.18/15 */
	       a[0] >= 224;                                  /* multicast, reserved, broadcast */
}

static int v6_refused(const unsigned char a[16])
{
	static const unsigned char zero[12];
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	static const unsigned char nat64[12] = { 0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0 };
	static const unsigned char nat64_local[6] = { 0, 0x64, 0xff, 0x9b, 0, 1 };

	if (!memcmp(a, mapped, 12) || !memcmp(a, zero, 12))
		return v4_refused(a + 12); /* IPv4-mapped, IPv4-compatible, ::1 and :: */
	/* Addresses that carry an IPv4 address a gateway would reach: NAT64 64:ff9b::/96 and
	 * 6to4 2002::/16 are judged by it; the local-use NAT64 64:ff9b:1::/48 is refused. */
	if (!memcmp(a, nat64, 12))
		return v4_refused(a + 12);
	if (a[0] == 0x20 && a[1] == 0x02)
		return v4_refused(a + 2);
	if (!memcmp(a, nat64_local, 6))
		return 1;
	return (a[0] & 0xfe) == 0xfc ||                      /* unique local fc00::/7 */
	       (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) ||    /* link-local fe80::/10 */
	       (a[0] == 0xfe && (a[1] & 0xc0) == 0xc0) ||    /* site-local fec0::/10 */
	       a[0] == 0xff;                                 /* multicast */
}

int netaddr_refused(const struct sockaddr *sa, char *text, size_t textlen)
{
	if (textlen)
		snprintf(text, textlen, "?");
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

		if (textlen)
			inet_ntop(AF_INET, &in->sin_addr, text, (socklen_t)textlen);
		return v4_refused((const unsigned char *)&in->sin_addr);
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;

		if (textlen)
			inet_ntop(AF_INET6, &in6->sin6_addr, text, (socklen_t)textlen);
		return v6_refused(in6->sin6_addr.s6_addr);
	}
	return 1;
}

int netaddr_host_refused(const char *host)
{
	unsigned char a[16];
	char lit[64];
	size_t n = strlen(host);
	const char *zone;

	if (!strcasecmp(host, "localhost") || !strcasecmp(host, "localhost.") ||
	    (n > 10 && !strcasecmp(host + n - 10, ".localhost")) ||
	    (n > 11 && !strcasecmp(host + n - 11, ".localhost.")))
		return 1;
	if (inet_pton(AF_INET, host, a) == 1)
		return v4_refused(a);
	/* "[::1]" or "::1", perhaps with a zone ("fe80::1%eth0"): the address alone. */
	if (host[0] == '[' && n > 2 && host[n - 1] == ']') {
		host++;
		n -= 2;
	}
	if (n >= sizeof(lit))
		return 0;
	memcpy(lit, host, n);
	lit[n] = '\0';
	zone = strchr(lit, '%');
	if (zone)
		lit[zone - lit] = '\0';
	return inet_pton(AF_INET6, lit, a) == 1 && v6_refused(a);
}
