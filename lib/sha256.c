/*
 * sha256.c - SHA-256 through libcrypto, as lowercase hex: the audit
 * chain's prev_sha256, the seal of a run's archive and of a plan.  In a file of its
 * own, so that a tool links libcrypto only when it hashes.
 */
#include <errno.h>
#include <err.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "arc.h"

/* The SHA-256 of p (n bytes), as 64 lowercase hex digits and a NUL. */
void
arc_sha256_hex(const void *p, size_t n, char hex[ARC_SHA256_HEX])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;

	if (EVP_Digest(p, n, md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen != 32)
		errx(arc_errstatus, "SHA-256 is not available");
	for (i = 0; i < mdlen; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

/*
 * The SHA-256 of the whole file at path (a link is not followed), as
 * arc_sha256_hex; -1 with errno set when it cannot be read.
 */
int
arc_sha256_file(const char *path, char hex[ARC_SHA256_HEX])
{
	unsigned char buf[65536], md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;
	EVP_MD_CTX *ctx;
	ssize_t r;
	int fd, e;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return -1;
	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
		errx(arc_errstatus, "SHA-256 is not available");
	while ((r = read(fd, buf, sizeof(buf))) != 0) {
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			e = errno;
			EVP_MD_CTX_free(ctx);
			close(fd);
			errno = e;
			return -1;
		}
		EVP_DigestUpdate(ctx, buf, (size_t)r);
	}
	close(fd);
	EVP_DigestFinal_ex(ctx, md, &mdlen);
	EVP_MD_CTX_free(ctx);
	for (i = 0; i < mdlen; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	return 0;
}

/*
 * The SHA-256 of the first size bytes of the file open at fd, read from
 * its start (a plan's manifest, whatever was appended since); -1 with
 * errno set when they cannot all be read (EIO: the file is shorter).
 */
int
arc_sha256_prefix(int fd, uintmax_t size, char hex[ARC_SHA256_HEX])
{
	unsigned char buf[65536], md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;
	EVP_MD_CTX *ctx;
	uintmax_t left = size;
	ssize_t r;

	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
		errx(arc_errstatus, "SHA-256 is not available");
	while (left > 0) {
		r = pread(fd, buf, left < sizeof(buf) ? (size_t)left :
		    sizeof(buf), (off_t)(size - left));
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0) {
			EVP_MD_CTX_free(ctx);
			if (r == 0)
				errno = EIO;
			return -1;
		}
		EVP_DigestUpdate(ctx, buf, (size_t)r);
		left -= (uintmax_t)r;
	}
	EVP_DigestFinal_ex(ctx, md, &mdlen);
	EVP_MD_CTX_free(ctx);
	for (i = 0; i < mdlen; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	return 0;
}
