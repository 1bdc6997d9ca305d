/*
 * buf.h: the one growable byte buffer, bounded by a maximum size given at init (curl's dynbuf).
 * Contents are always NUL-terminated so they can be read as a C string. Use it for bodies,
 * responses and anything built from untrusted input; never sprintf into a fixed array.
 */
#ifndef UTIL_BUF_H
#define UTIL_BUF_H

#include <stddef.h>

struct buf {
	char *data;   /* NULL until the first add; then NUL-terminated */
	size_t len;
	size_t cap;
	size_t max;   /* adds that would pass this fail with RC_TOOLARGE and change nothing */
	int err;      /* the first failure of a buf_put* (0: none); see buf_err */
};

#define BUF_INIT(max_) { NULL, 0, 0, (max_), 0 }

void buf_init(struct buf *b, size_t max);
/* Frees the contents; the buffer can be used again. Accepts a NULL buffer. */
void buf_release(struct buf *b);
/* Empties the buffer and keeps its memory. */
void buf_reset(struct buf *b);
/* Appends; RC_TOOLARGE past the maximum, RC_NOMEM: the buffer is then unchanged. The result
 * must be handled: for a sequence of appends checked once, use buf_put* and buf_err. */
#define BUF_WARN __attribute__((warn_unused_result))
BUF_WARN int buf_add(struct buf *b, const void *p, size_t n);
BUF_WARN int buf_adds(struct buf *b, const char *s);
BUF_WARN int buf_addc(struct buf *b, char c);
BUF_WARN int buf_addf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The same with a sticky error: the first failure is kept in the buffer, and every later put
 * does nothing, so the contents are never a sequence with a hole. Check buf_err once at the
 * end; init, reset and release clear it. */
void buf_put(struct buf *b, const void *p, size_t n);
void buf_puts(struct buf *b, const char *s);
void buf_putc(struct buf *b, char c);
void buf_putf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The first failure of a put since the buffer was initialised, reset or released; 0: none. */
BUF_WARN int buf_err(const struct buf *b);
/* The contents as a C string ("" when empty). Valid until the next add or release. */
const char *buf_str(const struct buf *b);
/* Hands the contents to the caller, who must free() them; the buffer is left empty.
 * Never returns NULL unless out of memory. */
char *buf_detach(struct buf *b, size_t *len);

#endif
