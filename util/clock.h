/* clock.h: wall-clock and monotonic time, and the one timestamp format of the API
 * (RFC 3339 UTC to the second, "2026-11-24T12:00:00Z"). */
#ifndef UTIL_CLOCK_H
#define UTIL_CLOCK_H

#include <stdint.h>
#include <time.h>

#define CLOCK_ISO_LEN 21 /* "YYYY-MM-DDTHH:MM:SSZ" and its NUL */

/* Writes t as RFC 3339 UTC into out (CLOCK_ISO_LEN bytes). */
void clock_iso(time_t t, char out[CLOCK_ISO_LEN]);
/* The current time as RFC 3339 UTC. */
void clock_iso_now(char out[CLOCK_ISO_LEN]);
/* Parses "YYYY-MM-DDTHH:MM:SSZ"; 0 on success. */
int clock_parse_iso(const char *s, time_t *out);
/*
 * Days: a calendar date as a day number (days since 1970-01-01, UTC), for dates such as an
 * evidence dimension's as_of ("YYYY-MM-DD").
 */
#define CLOCK_DAY_LEN 11 /* "YYYY-MM-DD" and its NUL */
/* The day of time t (UTC). */
int64_t clock_day(time_t t);
/* Writes day as "YYYY-MM-DD" into out. */
void clock_day_iso(int64_t day, char out[CLOCK_DAY_LEN]);
/* Parses exactly "YYYY-MM-DD", a real calendar date from year 1000 to 9999; 0 on success. */
int clock_parse_day(const char *s, int64_t *day);
/*
 * Parses an ISO 8601 date or date-time into Unix milliseconds: "YYYY-MM-DD" (its start, or
 * with end_of_day its last millisecond, 23:59:59.999), or "YYYY-MM-DDTHH:MM[:SS[.fraction]]"
 * followed by "Z", "+HH:MM", "-HH:MM" or nothing (UTC). A fraction's digits past the third
 * are dropped. 0 on success.
 */
int clock_parse_iso8601_ms(const char *s, int end_of_day, int64_t *out_ms);
#define CLOCK_ISO_MS_LEN 25 /* "YYYY-MM-DDTHH:MM:SS.mmmZ" and its NUL */
/* Writes ms (Unix milliseconds) as RFC 3339 UTC into out: to the second when ms falls on
 * one ("2026-11-24T12:00:00Z"), else with three decimals ("2026-11-24T12:00:00.250Z"). */
void clock_iso_ms(int64_t ms, char out[CLOCK_ISO_MS_LEN]);
/* The current time in Unix milliseconds (the wall clock). */
int64_t clock_now_ms(void);

/* Milliseconds and microseconds of a monotonic clock, for durations. */
int64_t clock_mono_ms(void);
int64_t clock_mono_us(void);

#endif
