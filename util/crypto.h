/*
 * crypto.h: the few cryptographic operations aijri needs, all from OpenSSL's libcrypto:
 * random bytes, SHA-256 (token hashes), HMAC-SHA256 (webhook signatures), base64 and
 * constant-time comparison. Nothing here is written by hand.
 */
#ifndef UTIL_CRYPTO_H
#define UTIL_CRYPTO_H

#include <stddef.h>

#define CRYPTO_SHA256_LEN 32

/* Fills p with n bytes from a cryptographic random source; 0 on success. */
int crypto_random(void *p, size_t n);
void crypto_sha256(const void *p, size_t n, unsigned char out[CRYPTO_SHA256_LEN]);
int crypto_hmac_sha256(const void *key, size_t keylen, const void *p, size_t n,
		       unsigned char out[CRYPTO_SHA256_LEN]);
/* Standard base64 with padding into out (room for 4*ceil(n/3)+1); returns the length. */
size_t crypto_base64(const void *p, size_t n, char *out);
/* URL-safe base64 without padding; returns the length. */
size_t crypto_base64url(const void *p, size_t n, char *out);
/* Decodes standard base64 (padding required) into out (room for 3*len/4); 0 on success. */
int crypto_unbase64(const char *s, unsigned char *out, size_t *outlen);
/* Lower-case hex of p into out (room for 2n+1). */
void crypto_hex(const void *p, size_t n, char *out);
/* 1 when equal, comparing in time that does not depend on the contents. */
int crypto_equal(const void *a, const void *b, size_t n);

#endif
