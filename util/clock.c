/* clock.c: time formatting with the reentrant calls only (gmtime is banned). */
#include <stdio.h>
#include <string.h>

#include "util/clock.h"
#include "util/rc.h"

void clock_iso(time_t t, char out[CLOCK_ISO_LEN])
{
	struct tm tm;

	if (!gmtime_r(&t, &tm) || !strftime(out, CLOCK_ISO_LEN, "%Y-%m-%dT%H:%M:%SZ", &tm))
		memcpy(out, "1970-01-01T00:00:00Z", CLOCK_ISO_LEN);
}

void clock_iso_now(char out[CLOCK_ISO_LEN])
{
	clock_iso(time(NULL), out);
}

int clock_parse_iso(const char *s, time_t *out)
{
	struct tm tm;
	const char *end;

	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (!end || *end)
		return RC_INVALID;
	*out = timegm(&tm);
	return RC_OK;
}

int64_t clock_mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t clock_mono_ms(void)
{
	return clock_mono_us() / 1000;
}
