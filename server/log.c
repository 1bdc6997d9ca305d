/* log.c: see log.h. Each thread's buffer has its own lock, taken by that thread and by the
 * flusher only, so threads never wait on each other to log. */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "server/log.h"
#include "util/buf.h"
#include "util/clock.h"

#define LOG_FLUSH_BYTES (32 * 1024)
#define LOG_FLUSH_MS 200

struct log_buf {
	pthread_mutex_t lock;
	struct buf b;
	struct log_buf *next;
};

static int log_json;
static pthread_mutex_t list_lock = PTHREAD_MUTEX_INITIALIZER;
static struct log_buf *all_bufs;
static pthread_t flusher;
static int flusher_running;
static volatile int flusher_stop;
static __thread struct log_buf *mine;

static void write_all(const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(2, p, n);
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

static void flush_one(struct log_buf *lb)
{
	pthread_mutex_lock(&lb->lock);
	if (lb->b.len) {
		write_all(lb->b.data, lb->b.len);
		buf_reset(&lb->b);
	}
	pthread_mutex_unlock(&lb->lock);
}

static void flush_all(void)
{
	struct log_buf *lb;

	pthread_mutex_lock(&list_lock);
	for (lb = all_bufs; lb; lb = lb->next)
		flush_one(lb);
	pthread_mutex_unlock(&list_lock);
}

static void *flusher_main(void *arg)
{
	struct timespec ts = { 0, LOG_FLUSH_MS * 1000000L };

	(void)arg;
	while (!flusher_stop) {
		nanosleep(&ts, NULL);
		flush_all();
	}
	return NULL;
}

int log_start(int json)
{
	log_json = json;
	flusher_stop = 0;
	if (pthread_create(&flusher, NULL, flusher_main, NULL))
		return -1;
	flusher_running = 1;
	return 0;
}

void log_stop(void)
{
	struct log_buf *lb, *next;

	if (flusher_running) {
		flusher_stop = 1;
		pthread_join(flusher, NULL);
		flusher_running = 0;
	}
	flush_all();
	/* Buffers of threads that have ended are freed here; the pool threads are gone by now. */
	pthread_mutex_lock(&list_lock);
	for (lb = all_bufs; lb; lb = next) {
		next = lb->next;
		buf_release(&lb->b);
		pthread_mutex_destroy(&lb->lock);
		free(lb);
	}
	all_bufs = NULL;
	pthread_mutex_unlock(&list_lock);
	mine = NULL;
}

static struct log_buf *my_buf(void)
{
	if (mine)
		return mine;
	mine = calloc(1, sizeof(*mine));
	if (!mine)
		return NULL;
	pthread_mutex_init(&mine->lock, NULL);
	buf_init(&mine->b, 4 * LOG_FLUSH_BYTES);
	pthread_mutex_lock(&list_lock);
	mine->next = all_bufs;
	all_bufs = mine;
	pthread_mutex_unlock(&list_lock);
	return mine;
}

/* The length of the valid UTF-8 sequence at s (1 to 4), or 0 if the bytes there are not
 * one (a stray continuation byte, a truncated or overlong sequence, a surrogate, or a code
 * point past U+10FFFF). */
static int utf8_len(const unsigned char *s)
{
	unsigned cp;
	int n, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xC2 && s[0] <= 0xDF)
		n = 2, cp = s[0] & 0x1F;
	else if (s[0] >= 0xE0 && s[0] <= 0xEF)
		n = 3, cp = s[0] & 0x0F;
	else if (s[0] >= 0xF0 && s[0] <= 0xF4)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3F);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
	    (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return n;
}

/* Appends s as the inside of a JSON string. A request line is bytes, not text: whatever is
 * not valid UTF-8 becomes U+FFFD, so that every log line stays valid JSON. */
static int json_escape(struct buf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	int rc = 0;

	while (*p && !rc) {
		int n = utf8_len(p);

		if (!n) {
			rc = buf_adds(b, "\\ufffd");
			p++;
		} else if (*p == '"' || *p == '\\') {
			rc = buf_addc(b, '\\');
			if (!rc)
				rc = buf_addc(b, (char)*p);
			p++;
		} else if (*p < 0x20) {
			rc = buf_addf(b, "\\u%04x", *p++);
		} else {
			rc = buf_add(b, p, (size_t)n);
			p += n;
		}
	}
	return rc;
}

/* Appends s for a text line: control characters, spaces and backslashes as \xHH, so that a
 * path (decoded from %0a and the like) cannot start a line of its own or shift the fields. */
static int text_escape(struct buf *b, const char *s)
{
	int rc = 0;

	for (; *s && !rc; s++) {
		unsigned char c = (unsigned char)*s;
		if (c <= 0x20 || c == 0x7f || c == '\\')
			rc = buf_addf(b, "\\x%02x", c);
		else
			rc = buf_addc(b, (char)c);
	}
	return rc;
}

/* Appends one request line; returns the first failure (the caller then drops the line). */
static int request_line(struct buf *b, const char *now, const char *method, const char *path,
			int status, int64_t duration_us)
{
	double ms = (double)duration_us / 1000.0;
	int rc;

	if (log_json) {
		rc = buf_addf(b, "{\"time\":\"%s\",\"method\":\"", now);
		rc = rc ? rc : json_escape(b, method);
		rc = rc ? rc : buf_adds(b, "\",\"path\":\"");
		rc = rc ? rc : json_escape(b, path);
		return rc ? rc : buf_addf(b, "\",\"status\":%d,\"duration_ms\":%.3f}\n", status, ms);
	}
	rc = buf_addf(b, "%s ", now);
	rc = rc ? rc : text_escape(b, method);
	rc = rc ? rc : buf_addc(b, ' ');
	rc = rc ? rc : text_escape(b, path);
	return rc ? rc : buf_addf(b, " %d %.3fms\n", status, ms);
}

void log_request(const char *method, const char *path, int status, int64_t duration_us)
{
	struct log_buf *lb = my_buf();
	char now[CLOCK_ISO_LEN];
	size_t mark;

	if (!lb)
		return;
	clock_iso_now(now);
	pthread_mutex_lock(&lb->lock);
	mark = lb->b.len;
	if (request_line(&lb->b, now, method, path, status, duration_us)) {
		/* A line that does not fit is dropped whole, never written cut short. */
		lb->b.len = mark;
		if (lb->b.data)
			lb->b.data[mark] = '\0';
	}
	if (lb->b.len >= LOG_FLUSH_BYTES) {
		write_all(lb->b.data, lb->b.len);
		buf_reset(&lb->b);
	}
	pthread_mutex_unlock(&lb->lock);
}

void log_msg(const char *fmt, ...)
{
	struct buf b = BUF_INIT(16384); /* 2 KiB of message, each byte at most 6 escaped */
	char now[CLOCK_ISO_LEN], msg[2048];
	va_list ap;
	int rc;

	/* Request lines gathered so far come first, so the log reads in order. */
	flush_all();
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	clock_iso_now(now);
	if (log_json) {
		rc = buf_addf(&b, "{\"time\":\"%s\",\"message\":\"", now);
		rc = rc ? rc : json_escape(&b, msg);
		rc = rc ? rc : buf_adds(&b, "\"}\n");
	} else {
		rc = buf_addf(&b, "%s aijri: %s\n", now, msg);
	}
	/* Only memory can fail here (the bound holds any message escaped); then the message
	 * goes out bare rather than not at all. */
	if (rc) {
		write_all(msg, strlen(msg));
		write_all("\n", 1);
		buf_release(&b);
		return;
	}
	write_all(buf_str(&b), b.len);
	buf_release(&b);
}
