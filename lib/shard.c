/*
 * shard.c - which paths are shard i of n (the --shard option).
 *
 * Reads and writes nothing.  A path's shard key is its first two
 * segments, "database/measurement": its bytes up to, not including, its
 * second '/'; a path with fewer than two '/' is its own key.  The shard
 * is the key's 64-bit FNV-1a hash modulo n (arc(7), SHARDS).  Keying on
 * the measurement prefix is what lets a shard list whole prefixes and
 * never another shard's: every path below "db/m/" has the key "db/m".
 * Every tool decides through this file, so that arc-list, arc-diff and
 * the driver can never disagree on a path.
 */
#include <err.h>
#include <string.h>

#include "arc.h"

#define FNV64_OFFSET	0xcbf29ce484222325ULL
#define FNV64_PRIME	0x100000001b3ULL

/* The length of path's shard key. */
static size_t
key_len(const char *p, size_t n)
{
	const char *s;

	if ((s = memchr(p, '/', n)) == NULL ||
	    (s = memchr(s + 1, '/', n - (size_t)(s + 1 - p))) == NULL)
		return n;
	return (size_t)(s - p);
}

/* FNV-1a, 64 bits, of n bytes. */
uint64_t
arc_shard_hash(const char *p, size_t n)
{
	uint64_t h = FNV64_OFFSET;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= (unsigned char)p[i];
		h *= FNV64_PRIME;
	}
	return h;
}

/* The shard, 0 to count - 1, of a path (decoded, n bytes). */
unsigned
arc_shard_of(const char *path, size_t n, unsigned count)
{
	return (unsigned)(arc_shard_hash(path, key_len(path, n)) % count);
}

/*
 * Parse "i/n", decimal, 0 <= i < n <= ARC_SHARD_MAX, into sh; -1 when it
 * is not one (the caller says so).
 */
int
arc_shard_parse(const char *s, struct arc_shard *sh)
{
	const char *slash;
	long long i, n;
	char num[24];
	size_t len;

	if ((slash = strchr(s, '/')) == NULL ||
	    (len = (size_t)(slash - s)) == 0 || len >= sizeof(num))
		return -1;
	memcpy(num, s, len);
	num[len] = '\0';
	if (arc_parse_count(num, 0, ARC_SHARD_MAX - 1, &i) == -1 ||
	    arc_parse_count(slash + 1, 1, ARC_SHARD_MAX, &n) == -1 ||
	    i >= n)
		return -1;
	sh->index = (unsigned)i;
	sh->count = (unsigned)n;
	return 0;
}

/* The --shard option's value, or exit 2 with one line saying why not. */
void
arc_shard_opt(const char *s, struct arc_shard *sh)
{
	if (arc_shard_parse(s, sh) == -1)
		errx(ARC_EXIT_ERROR, "'%s': shard must be i/n, with 0 <= i < n "
		    "<= %d", s, ARC_SHARD_MAX);
}

/* Whether the path is sh's; every path is the whole store's (count 0). */
int
arc_shard_has(const struct arc_shard *sh, const char *path, size_t n)
{
	return sh == NULL || sh->count == 0 ||
	    arc_shard_of(path, n, sh->count) == sh->index;
}

/*
 * Whether a listing of the directory or prefix dir (n bytes, no trailing
 * '/', "" the store's root) may find paths of sh: a directory below the
 * database level ("db/m", "db/m/2026") holds only paths of its own key,
 * all of one shard; the root and a database directory hold every shard's
 * and must be listed one level at a time.  -1: above the measurement
 * level (list one level), 1: list it whole, 0: another shard's.
 */
int
arc_shard_below(const struct arc_shard *sh, const char *dir, size_t n)
{
	if (memchr(dir, '/', n) == NULL)
		return sh != NULL && sh->count > 0 ? -1 : 1;
	return arc_shard_has(sh, dir, n);
}
