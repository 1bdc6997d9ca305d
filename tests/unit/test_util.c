/*
 * test_util.c: tables for util/: the one integer parser (num.h), the SSRF classifier of
 * webhook addresses (netaddr.h), each case as a user would write it, and the bounded buffer's
 * two ways of appending (buf.h).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>

#include "tests/unit/harness.h"
#include "util/buf.h"
#include "util/netaddr.h"
#include "util/num.h"
#include "util/rc.h"
#include "util/url.h"

static void test_num(void)
{
	static const struct {
		const char *s;
		int64_t min, max;
		int ok;
		int64_t want;
	} cases[] = {
		{ "0", 0, 10, 1, 0 },
		{ "-0", -1, 1, 1, 0 },
		{ "42", 0, 100, 1, 42 },
		{ "-42", -100, 0, 1, -42 },
		{ "007", 0, 10, 1, 7 },
		{ "100", 0, 100, 1, 100 },
		{ "101", 0, 100, 0, 0 },
		{ "-1", 0, 100, 0, 0 },
		{ "9223372036854775807", INT64_MIN, INT64_MAX, 1, INT64_MAX },
		{ "9223372036854775808", INT64_MIN, INT64_MAX, 0, 0 },
		{ "-9223372036854775808", INT64_MIN, INT64_MAX, 1, INT64_MIN },
		{ "-9223372036854775809", INT64_MIN, INT64_MAX, 0, 0 },
		{ "99999999999999999999999", INT64_MIN, INT64_MAX, 0, 0 },
		{ "", 0, 10, 0, 0 },
		{ "-", -10, 10, 0, 0 },
		{ " 1", 0, 10, 0, 0 },
		{ "1 ", 0, 10, 0, 0 },
		{ "+1", 0, 10, 0, 0 },
		{ "0x10", 0, 100, 0, 0 },
		{ "1e3", 0, 10000, 0, 0 },
		{ "1.0", 0, 10, 0, 0 },
		{ "--1", -10, 10, 0, 0 },
		{ "\xd9\xa3", 0, 10, 0, 0 }, /* ARABIC-INDIC DIGIT THREE: not ASCII */
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t v = -12345;
		enum rc rc = num_parse(cases[i].s, cases[i].min, cases[i].max, &v);

		CHECK(cases[i].ok ? rc == RC_OK && v == cases[i].want : rc == RC_INVALID && v == -12345,
		      "num_parse(\"%s\", %lld, %lld): rc %d, value %lld", cases[i].s,
		      (long long)cases[i].min, (long long)cases[i].max, (int)rc, (long long)v);
	}
	{
		int64_t v = 0;

		CHECK(num_parse_i64("12_name.sql", 2, 0, 99, &v) == RC_OK && v == 12,
		      "a prefix of 2 bytes: %lld", (long long)v);
		CHECK(num_parse_i64("12_name.sql", 3, 0, 99, &v) == RC_INVALID, "3 bytes take the '_'");
		CHECK(num_parse(NULL, 0, 1, &v) == RC_INVALID, "NULL");
	}
}

static void test_netaddr_literals(void)
{
	static const struct {
		const char *host;
		int refused;
	} cases[] = {
		{ "127.0.0.1", 1 },       { "127.255.255.254", 1 }, { "10.0.0.1", 1 },
		{ "172.16.0.1", 1 },      { "172.31.255.255", 1 },  { "172.32.0.1", 0 },
		{ "192.168.1.1", 1 },     { "169.254.169.254", 1 }, { "100.64.0.1", 1 },
		{ "100.128.0.1", 0 },     { "0.0.0.0", 1 },         { "224.0.0.1", 1 },
		{ "255.255.255.255", 1 }, { "8.8.8.8", 0 },         { "93.184.216.34", 0 },
		{ "[::1]", 1 },           { "::1", 1 },             { "[::]", 1 },
		{ "[fe80::1%eth0]", 1 },  { "[fc00::1]", 1 },       { "[fd12:3456::1]", 1 },
		{ "[ff02::1]", 1 },       { "[::ffff:127.0.0.1]", 1 }, { "[::ffff:10.1.2.3]", 1 },
		{ "[::ffff:8.8.8.8]", 0 }, { "[2606:4700::1111]", 0 }, { "localhost", 1 },
		{ "LOCALHOST", 1 },       { "api.localhost", 1 },   { "example.com", 0 },
		{ "localhost.example.com", 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CHECK(netaddr_host_refused(cases[i].host) == cases[i].refused,
		      "netaddr_host_refused(\"%s\") = %d, want %d", cases[i].host,
		      netaddr_host_refused(cases[i].host), cases[i].refused);
}

static void test_netaddr_sockaddr(void)
{
	struct sockaddr_in a4;
	struct sockaddr_in6 a6;
	char text[64];

	memset(&a4, 0, sizeof(a4));
	a4.sin_family = AF_INET;
	inet_pton(AF_INET, "10.9.8.7", &a4.sin_addr);
	CHECK(netaddr_refused((struct sockaddr *)&a4, text, sizeof(text)) == 1, "10.9.8.7 refused");
	CHECK(!strcmp(text, "10.9.8.7"), "its text: %s", text);
	inet_pton(AF_INET, "1.1.1.1", &a4.sin_addr);
	CHECK(netaddr_refused((struct sockaddr *)&a4, text, sizeof(text)) == 0, "1.1.1.1 allowed");
	memset(&a6, 0, sizeof(a6));
	a6.sin6_family = AF_INET6;
	inet_pton(AF_INET6, "::ffff:192.168.0.10", &a6.sin6_addr);
	CHECK(netaddr_refused((struct sockaddr *)&a6, text, sizeof(text)) == 1,
	      "an IPv4-mapped private address refused");
	inet_pton(AF_INET6, "2001:4860:4860::8888", &a6.sin6_addr);
	CHECK(netaddr_refused((struct sockaddr *)&a6, text, sizeof(text)) == 0,
	      "a public IPv6 address allowed");
}

/* buf_add* answer each append and leave the buffer as it was on failure; buf_put* keep the
 * first failure, do nothing after it (no contents with a hole), and buf_err reports it. */
static void test_buf(void)
{
	struct buf b = BUF_INIT(8);

	CHECK(buf_adds(&b, "12345") == RC_OK, "an add within the bound");
	CHECK(buf_adds(&b, "6789") == RC_TOOLARGE, "an add past the bound");
	CHECK_STR(buf_str(&b), "12345");
	CHECK(buf_addc(&b, '6') == RC_OK, "an add after a failed one still goes in");
	CHECK(buf_err(&b) == 0, "adds leave the sticky error alone");
	buf_reset(&b);
	buf_puts(&b, "123");
	buf_putf(&b, "%d", 456789);
	buf_putc(&b, 'x');
	CHECK(buf_err(&b) == RC_TOOLARGE, "the first failed put is kept");
	CHECK_STR(buf_str(&b), "123");
	buf_put(&b, "y", 1);
	CHECK_STR(buf_str(&b), "123");
	buf_reset(&b);
	CHECK(buf_err(&b) == 0, "reset clears the error");
	buf_putf(&b, "%s-%d", "ab", 7);
	CHECK(buf_err(&b) == 0, "puts within the bound");
	CHECK_STR(buf_str(&b), "ab-7");
	buf_release(&b);
	CHECK(buf_err(&b) == 0 && b.len == 0, "release clears it too");
}

/* One percent-escape, as the path, the router and the query decode it. */
static void test_url_pct(void)
{
	static const struct {
		const char *s;
		size_t avail;
		int want;
	} cases[] = {
		{ "%2F", 3, '/' }, { "%2f", 3, '/' }, { "%00", 3, 0 }, { "%FF", 3, 255 },
		{ "%41bc", 5, 'A' }, { "%4", 2, -1 }, { "%4", 3, -1 }, { "%", 1, -1 },
		{ "%G1", 3, -1 }, { "%1G", 3, -1 }, { "A41", 3, -1 }, { "%2F", 2, -1 },
		{ "% 1", 3, -1 }, { "%-1", 3, -1 }, { "%+F", 3, -1 }, { "%0x", 3, -1 },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CHECK(url_pct_byte(cases[i].s, cases[i].avail) == cases[i].want, "%s (%zu bytes)",
		      cases[i].s, cases[i].avail);
}

int main(void)
{
	static const struct harness_test tests[] = {
		{ "num", test_num },
		{ "netaddr_literals", test_netaddr_literals },
		{ "netaddr_sockaddr", test_netaddr_sockaddr },
		{ "buf", test_buf },
		{ "url_pct", test_url_pct },
		{ NULL, NULL },
	};
	return harness_main("util", tests);
}
