/*
 * log.h: the request log, one line per request on standard error, as text or JSON lines.
 * Lines are gathered in a buffer per thread and written in blocks (at most ~200 ms late), so
 * that logging costs no system call per request at hundreds of thousands of requests a second.
 */
#ifndef SERVER_LOG_H
#define SERVER_LOG_H

#include <stdint.h>

/* json: 1 for JSON lines. Starts the flusher thread. */
int log_start(int json);
/* Flushes everything and stops the flusher. */
void log_stop(void);
void log_request(const char *method, const char *path, int status, int64_t duration_us);
/* A message written at once (start-up, shutdown, errors). */
void log_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
