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

/* Days from 1970-01-01 to a date of the proleptic Gregorian calendar (the well-known
 * era-based conversion, exact for every year). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int days_in_month(int y, int m)
{
	static const int dm[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : dm[m - 1];
}

int64_t clock_day(time_t t)
{
	int64_t s = (int64_t)t;

	return s >= 0 ? s / 86400 : -((-s + 86399) / 86400);
}

void clock_day_iso(int64_t day, char out[CLOCK_DAY_LEN])
{
	struct tm tm;
	time_t t = (time_t)(day * 86400);

	if (!gmtime_r(&t, &tm) || !strftime(out, CLOCK_DAY_LEN, "%Y-%m-%d", &tm))
		memcpy(out, "1970-01-01", CLOCK_DAY_LEN);
}

/* n decimal digits at s into *v; 0 when they are all digits. */
static int digits(const char *s, int n, int *v)
{
	int i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		*v = *v * 10 + (s[i] - '0');
	}
	return 0;
}

/* "YYYY-MM-DD" at the start of s (what follows is the caller's). */
static int parse_date_part(const char *s, int64_t *day)
{
	int y, m, d;

	if (digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &m) || s[7] != '-' ||
	    digits(s + 8, 2, &d))
		return RC_INVALID;
	if (y < 1000 || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
		return RC_INVALID;
	*day = days_from_civil(y, m, d);
	return RC_OK;
}

int clock_parse_day(const char *s, int64_t *day)
{
	if (!s || strlen(s) != 10)
		return RC_INVALID;
	return parse_date_part(s, day);
}

int clock_parse_iso8601_ms(const char *s, int end_of_day, int64_t *out_ms)
{
	const char *p;
	int64_t day, secs, ms = 0;
	int hh, mm, ss = 0, oh, om, sign, k;

	if (!s || strlen(s) < 10 || parse_date_part(s, &day))
		return RC_INVALID;
	p = s + 10;
	if (!*p) {
		*out_ms = day * 86400000 + (end_of_day ? 86399999 : 0);
		return RC_OK;
	}
	if ((*p != 'T' && *p != 't') || digits(p + 1, 2, &hh) || p[3] != ':' ||
	    digits(p + 4, 2, &mm))
		return RC_INVALID;
	p += 6;
	if (*p == ':') {
		if (digits(p + 1, 2, &ss))
			return RC_INVALID;
		p += 3;
		if (*p == '.' || *p == ',') {
			if (p[1] < '0' || p[1] > '9')
				return RC_INVALID;
			for (p++, k = 0; *p >= '0' && *p <= '9'; p++, k++)
				if (k < 3)
					ms = ms * 10 + (*p - '0');
			for (; k < 3; k++)
				ms *= 10;
		}
	}
	if (hh > 23 || mm > 59 || ss > 59)
		return RC_INVALID;
	secs = day * 86400 + hh * 3600 + mm * 60 + ss;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-' || *p == ' ') {
		/* A '+' left unencoded in a query string arrives as a space. */
		sign = *p == '-' ? -1 : 1;
		if (digits(p + 1, 2, &oh) || p[3] != ':' || digits(p + 4, 2, &om) || oh > 23 ||
		    om > 59)
			return RC_INVALID;
		secs -= sign * (oh * 3600 + om * 60);
		p += 6;
	}
	if (*p)
		return RC_INVALID;
	*out_ms = secs * 1000 + ms;
	return RC_OK;
}

void clock_iso_ms(int64_t ms, char out[CLOCK_ISO_MS_LEN])
{
	int64_t secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
	int frac = (int)(ms - secs * 1000);

	clock_iso((time_t)secs, out);
	if (frac)
		snprintf(out + 19, CLOCK_ISO_MS_LEN - 19, ".%03dZ", frac);
}

int64_t clock_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
