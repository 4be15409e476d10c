/*
 * base64.c - base64 through libcrypto, for the library's modules that
 * speak it (Arc's []byte JSON, etcd's gateway, Azure's keys): in a file
 * of its own, so that a tool links libcrypto only when one of them is in.
 */
#include <openssl/evp.h>

#include "arc_priv.h"

/* Append the base64 encoding of p (n bytes) to b. */
void
arc_base64_encode(struct arc_buf *b, const void *p, size_t n)
{
	size_t need = 4 * ((n + 2) / 3);

	arc_buf_grow(b, need);
	EVP_EncodeBlock((unsigned char *)b->s + b->len, p, (int)n);
	b->len += need;
	b->s[b->len] = '\0';
}

/* Append the bytes that base64 text s (n bytes) encodes; -1 if invalid. */
int
arc_base64_decode(struct arc_buf *b, const char *s, size_t n)
{
	int len, pad = 0;

	if (n % 4 != 0)
		return -1;
	if (n == 0)
		return 0;
	arc_buf_grow(b, n / 4 * 3);
	if ((len = EVP_DecodeBlock((unsigned char *)b->s + b->len,
	    (const unsigned char *)s, (int)n)) < 0)
		return -1;
	if (s[n - 1] == '=')
		pad++;
	if (s[n - 2] == '=')
		pad++;
	b->len += (size_t)(len - pad);
	b->s[b->len] = '\0';
	return 0;
}
