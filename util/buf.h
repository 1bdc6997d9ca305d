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
};

#define BUF_INIT(max_) { NULL, 0, 0, (max_) }

void buf_init(struct buf *b, size_t max);
/* Frees the contents; the buffer can be used again. Accepts a NULL buffer. */
void buf_release(struct buf *b);
/* Empties the buffer and keeps its memory. */
void buf_reset(struct buf *b);
int buf_add(struct buf *b, const void *p, size_t n);
int buf_adds(struct buf *b, const char *s);
int buf_addc(struct buf *b, char c);
int buf_addf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The contents as a C string ("" when empty). Valid until the next add or release. */
const char *buf_str(const struct buf *b);
/* Hands the contents to the caller, who must free() them; the buffer is left empty.
 * Never returns NULL unless out of memory. */
char *buf_detach(struct buf *b, size_t *len);

#endif
