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
/* Milliseconds and microseconds of a monotonic clock, for durations. */
int64_t clock_mono_ms(void);
int64_t clock_mono_us(void);

#endif
