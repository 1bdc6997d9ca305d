/*
 * netaddr.h: which network addresses a webhook may not reach (loopback, private, link-local,
 * carrier-grade NAT, multicast and reserved ranges, and the IPv6 forms that carry such an IPv4
 * address). The dispatcher asks of every resolved address when it opens a socket; the webhook
 * endpoints ask of a URL's host when it is a literal address or a loopback name, to refuse the
 * subscription at once instead of at its first delivery.
 */
#ifndef UTIL_NETADDR_H
#define UTIL_NETADDR_H

#include <stddef.h>
#include <sys/socket.h>

/* 1 when the socket address may not be connected to; text gets its printable form
 * (textlen bytes, INET6_ADDRSTRLEN is enough). */
int netaddr_refused(const struct sockaddr *sa, char *text, size_t textlen);

/*
 * 1 when a URL's host names a refused address without any look-up: an IPv4 or IPv6 literal
 * (brackets and an IPv6 zone allowed) in a refused range, or "localhost" and its subdomains
 * (RFC 6761). 0 for any other name: whether it resolves to a refused address is known only
 * when the dispatcher connects.
 */
int netaddr_host_refused(const char *host);

#endif
