/*
 * test_shard.c - shard i of n (lib/shard.c): the documented hash (64-bit
 * FNV-1a of the path's first two segments, modulo n), the --shard value,
 * every path in exactly one shard, and the listing rule that lets a shard
 * skip another's directories agreeing with the path rule beneath them.
 * Inputs are handed over in buffers of exactly their length.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arc.h"
#include "unit.h"

#define L(s)	(s), sizeof(s) - 1

static char *
exact(const char *s, size_t n)
{
	char *p = malloc(n ? n : 1);

	if (p == NULL)
		abort();
	memcpy(p, s, n);
	return p;
}

static uint64_t
hash(const char *s, size_t n)
{
	char *p = exact(s, n);
	uint64_t h = arc_shard_hash(p, n);

	free(p);
	return h;
}

static unsigned
shard_of(const char *s, size_t n, unsigned count)
{
	char *p = exact(s, n);
	unsigned r = arc_shard_of(p, n, count);

	free(p);
	return r;
}

static int
parse(const char *s, unsigned *i, unsigned *n)
{
	struct arc_shard sh = { 99, 99 };
	int r = arc_shard_parse(s, &sh);

	*i = sh.index;
	*n = sh.count;
	return r;
}

/* A reproducible path of 1 to 6 segments of bytes other than '/' and NUL. */
static size_t
random_path(char *buf, unsigned *seed)
{
	size_t n = 0, segs, s, len, k;

	segs = 1 + rand_r(seed) % 6;
	for (s = 0; s < segs; s++) {
		if (s > 0)
			buf[n++] = '/';
		len = 1 + rand_r(seed) % 6;
		for (k = 0; k < len; k++) {
			do
				buf[n] = (char)(rand_r(seed) % 256);
			while (buf[n] == '/' || buf[n] == '\0');
			/* few names, so that keys repeat across paths */
			if (s < 2)
				buf[n] = "abc\\\t\xff"[rand_r(seed) % 6];
			n++;
		}
	}
	return n;
}

static void
hash_vectors(void)
{
	/* FNV-1a 64 test vectors (Fowler, Noll, Vo) */
	CHECK_INT(hash(L("")), (intmax_t)0xcbf29ce484222325ULL,
	    "FNV-1a of the empty string is the offset basis");
	CHECK_INT(hash(L("a")), (intmax_t)0xaf63dc4c8601ec8cULL,
	    "FNV-1a of \"a\"");
	CHECK_INT(hash(L("foobar")), (intmax_t)0x85944171f73967e8ULL,
	    "FNV-1a of \"foobar\"");
	CHECK_INT(hash(L("db/cpu")), (intmax_t)0xedae238925164d2eULL,
	    "the example of arc(7): the key db/cpu");
	CHECK_INT(shard_of(L("db/cpu/2026/04/11/14/f.parquet"), 4), 2,
	    "the example of arc(7): db/cpu/... is in shard 2 of 4");
}

static void
key_rule(void)
{
	CHECK_INT(shard_of(L("db/cpu/2026/04/11/14/f.parquet"), 1000),
	    hash(L("db/cpu")) % 1000,
	    "a deep path is hashed by database/measurement");
	CHECK_INT(shard_of(L("db/cpu"), 1000), hash(L("db/cpu")) % 1000,
	    "a path of two segments is its own key");
	CHECK_INT(shard_of(L("db/f.parquet"), 1000),
	    hash(L("db/f.parquet")) % 1000,
	    "a file in a database directory is its own key");
	CHECK_INT(shard_of(L("f.parquet"), 1000), hash(L("f.parquet")) % 1000,
	    "a file at the root is its own key");
	CHECK_INT(shard_of(L("db//x.parquet"), 1000), hash(L("db/")) % 1000,
	    "an empty second segment is still a segment");
	CHECK_INT(shard_of(L("db/m\\x/y"), 1000), hash(L("db/m\\x")) % 1000,
	    "a backslash is a byte like any other");
	CHECK_INT(shard_of(L("db/cpu/a"), 1), 0, "one shard holds everything");
}

static void
parsing(void)
{
	static const char *const bad[] = { "3/3", "-1/4", "1/0", "x", "",
	    "/4", "1/", "/", "1/1025", "1024/1024", "+1/4", " 1/4", "1/4 ",
	    "1/4/5", "0x1/4", "1", "1/4x", "99999999999999999999/4" };
	unsigned i, n;
	size_t k;

	CHECK(parse("0/1", &i, &n) == 0 && i == 0 && n == 1, "0/1 parses");
	CHECK(parse("3/4", &i, &n) == 0 && i == 3 && n == 4, "3/4 parses");
	CHECK(parse("01/4", &i, &n) == 0 && i == 1 && n == 4,
	    "01/4 is 1/4");
	CHECK(parse("1023/1024", &i, &n) == 0 && i == 1023 && n == 1024,
	    "the most shards: %d", ARC_SHARD_MAX);
	for (k = 0; k < sizeof(bad) / sizeof(bad[0]); k++)
		CHECK(parse(bad[k], &i, &n) == -1, "%s is refused",
		    ESC(bad[k]));
}

static void
partition(void)
{
	static const unsigned counts[] = { 1, 2, 3, 4, 7, 16, 1024 };
	char buf[64];
	unsigned seed = 13, c, i, in, per[4] = { 0 };
	struct arc_shard sh;
	size_t k, n, p;
	int once = 1, below_agrees = 1, top = 1;

	for (k = 0; k < 20000; k++) {
		n = random_path(buf, &seed);
		for (c = 0; c < sizeof(counts) / sizeof(counts[0]); c++) {
			sh.count = counts[c];
			for (i = in = 0; i < counts[c]; i++) {
				sh.index = i;
				in += arc_shard_has(&sh, buf, n);
			}
			once &= in == 1;
		}
		sh.count = 4;
		sh.index = arc_shard_of(buf, n, 4);
		per[sh.index]++;
		/* every directory above the path: list one level, or whole
		 * exactly when the path is the shard's */
		for (p = 0; p < n; p++) {
			if (buf[p] != '/')
				continue;
			if (memchr(buf, '/', p) == NULL)
				top &= arc_shard_below(&sh, buf, p) == -1;
			for (i = 0; i < 4; i++) {
				struct arc_shard o = { i, 4 };

				if (memchr(buf, '/', p) != NULL)
					below_agrees &= arc_shard_below(&o,
					    buf, p) == arc_shard_has(&o, buf,
					    n);
			}
		}
	}
	CHECK(once, "each of 20000 paths is in exactly one shard of 1, 2, "
	    "3, 4, 7, 16 and 1024");
	CHECK(below_agrees, "a directory below the database level is listed "
	    "by a shard exactly when the paths beneath it are the shard's");
	CHECK(top, "the root's and a database's directories are listed one "
	    "level at a time by every shard");
	sh.count = 0;
	CHECK(arc_shard_below(&sh, "", 0) == 1 &&
	    arc_shard_below(NULL, "db", 2) == 1 && arc_shard_has(NULL, "x", 1),
	    "without a shard everything is listed whole");
	for (i = 0; i < 4; i++)
		CHECK(per[i] > 2000, "shard %u of 4 holds a fair share "
		    "(%u of 20000)", i, per[i]);
}

void
test_shard(void)
{
	hash_vectors();
	key_rule();
	parsing();
	partition();
}
