/* crypto.c: thin wrappers over libcrypto; see crypto.h. */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "util/crypto.h"
#include "util/rc.h"

int crypto_random(void *p, size_t n)
{
	return RAND_bytes(p, (int)n) == 1 ? RC_OK : RC_IO;
}

void crypto_sha256(const void *p, size_t n, unsigned char out[CRYPTO_SHA256_LEN])
{
	SHA256(p, n, out);
}

int crypto_hmac_sha256(const void *key, size_t keylen, const void *p, size_t n,
		       unsigned char out[CRYPTO_SHA256_LEN])
{
	unsigned int len = 0;

	if (!HMAC(EVP_sha256(), key, (int)keylen, p, n, out, &len) || len != CRYPTO_SHA256_LEN)
		return RC_IO;
	return RC_OK;
}

size_t crypto_base64(const void *p, size_t n, char *out)
{
	return (size_t)EVP_EncodeBlock((unsigned char *)out, p, (int)n);
}

size_t crypto_base64url(const void *p, size_t n, char *out)
{
	size_t len = crypto_base64(p, n, out), i;

	while (len && out[len - 1] == '=')
		out[--len] = '\0';
	for (i = 0; i < len; i++) {
		if (out[i] == '+')
			out[i] = '-';
		else if (out[i] == '/')
			out[i] = '_';
	}
	return len;
}

int crypto_unbase64(const char *s, unsigned char *out, size_t *outlen)
{
	size_t len = strlen(s);
	int n;

	if (len % 4)
		return RC_INVALID;
	n = EVP_DecodeBlock(out, (const unsigned char *)s, (int)len);
	if (n < 0)
		return RC_INVALID;
	/* EVP_DecodeBlock counts the padding bytes as data. */
	if (len && s[len - 1] == '=')
		n--;
	if (len > 1 && s[len - 2] == '=')
		n--;
	*outlen = (size_t)n;
	return RC_OK;
}

void crypto_hex(const void *p, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *b = p;
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hex[b[i] >> 4];
		out[2 * i + 1] = hex[b[i] & 15];
	}
	out[2 * n] = '\0';
}

int crypto_equal(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}
