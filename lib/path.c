/*
 * path.c - the one path validator.
 *
 * Paths are never rewritten: a path is either accepted byte for byte or
 * refused with a reason.  The one exception, arc_path_canonical, is used
 * only to ask whether a file is registered under another spelling, never
 * to name a file to check or delete.  Arc's local backend turned "a..b" into "a_b"
 * and so could check and delete a different file; nothing here does that.
 */
#include <string.h>

#include "arc.h"

#define MANIFEST_PATH_MAX	4096

/*
 * Arc's ValidateManifestPath: NULL when p may be a manifest entry,
 * otherwise the reason it may not.
 */
const char *
arc_path_manifest_error(const char *p, size_t n)
{
	size_t i, seg;

	if (n == 0)
		return "empty path";
	if (n > MANIFEST_PATH_MAX)
		return "path longer than 4096 bytes";
	if (memchr(p, '\0', n))
		return "path contains NUL";
	if (memchr(p, ':', n))
		return "path contains ':'";
	if (p[0] == '/' || p[0] == '\\')
		return "absolute path";
	/* a ".." segment, where both / and \ separate segments */
	for (i = 0, seg = 0; i <= n; i++) {
		if (i == n || p[i] == '/' || p[i] == '\\') {
			if (i - seg == 2 && p[seg] == '.' && p[seg + 1] == '.')
				return "path has a '..' segment";
			seg = i + 1;
		}
	}
	return NULL;
}

/*
 * NULL when p is safe to resolve under a storage root: relative, no NUL,
 * and no empty, "." or ".." segment (so no leading, trailing or doubled
 * slash).  Otherwise the reason.
 */
const char *
arc_path_unsafe(const char *p, size_t n)
{
	size_t i, seg;

	if (n == 0)
		return "empty path";
	if (memchr(p, '\0', n))
		return "path contains NUL";
	if (p[0] == '/')
		return "absolute path";
	for (i = 0, seg = 0; i <= n; i++) {
		if (i == n || p[i] == '/') {
			if (i == seg)
				return "path has an empty segment";
			if (i - seg == 1 && p[seg] == '.')
				return "path has a '.' segment";
			if (i - seg == 2 && p[seg] == '.' && p[seg + 1] == '.')
				return "path has a '..' segment";
			seg = i + 1;
		}
	}
	return NULL;
}

/*
 * Whether p is a plain spelling: no empty segment ("a//b", a leading or
 * trailing '/') and no "." segment ("a/./b", "./a", "a/.").  memchr
 * jumps from slash to slash: this runs over every manifest path a diff or
 * a file look-up reads.
 */
static int
plain(const char *p, size_t n)
{
	const char *s, *end = p + n;

	if (n == 0)
		return 1;
	if (p[0] == '/' || p[n - 1] == '/' ||
	    (p[0] == '.' && (n == 1 || p[1] == '/')))
		return 0;
	for (s = p; (s = memchr(s, '/', (size_t)(end - s))) != NULL; s++)
		if (s[1] == '/' ||
		    (s[1] == '.' && (s + 2 == end || s[2] == '/')))
			return 0;
	return 1;
}

/*
 * The plain spelling of a manifest path: 1 with it in out (replaced)
 * when p is spelled otherwise, 0 when p is plain (out untouched).  Empty
 * and "." segments are dropped, so "a/./b", "a//b" and "a/b/" all give
 * "a/b": a local store resolves each to that one file (Arc's local
 * backend cleans paths, and the kernel ignores them), and an object
 * store, where they are other keys, is given the same answer so that a
 * file one of them may mean is never taken for unregistered.  ".." is
 * kept: the validators refuse it.  Only '/' separates, as in listings.
 * The quoted form of arc(7) leaves '/' and '.' alone, so a quoted path
 * gives the quoted plain spelling.
 */
int
arc_path_canonical(const char *p, size_t n, struct arc_buf *out)
{
	size_t i, seg;

	if (plain(p, n))
		return 0;
	out->len = 0;
	for (i = 0, seg = 0; i <= n; i++) {
		if (i < n && p[i] != '/')
			continue;
		if (i > seg && !(i - seg == 1 && p[seg] == '.')) {
			if (out->len > 0)
				arc_buf_addc(out, '/');
			arc_buf_add(out, p + seg, i - seg);
		}
		seg = i + 1;
	}
	return 1;
}

/*
 * Arc's isParquetCandidate: ends in ".parquet" (case-sensitive), the
 * basename does not start with '.', no segment is "_compaction_state".
 */
int
arc_path_is_candidate(const char *p, size_t n)
{
	static const char ext[] = ".parquet";
	static const char cs[] = "_compaction_state";
	size_t i, seg;

	if (n < sizeof(ext) - 1 ||
	    memcmp(p + n - (sizeof(ext) - 1), ext, sizeof(ext) - 1) != 0)
		return 0;
	for (i = 0, seg = 0; i <= n; i++) {
		if (i == n || p[i] == '/') {
			if (i - seg == sizeof(cs) - 1 &&
			    memcmp(p + seg, cs, sizeof(cs) - 1) == 0)
				return 0;
			if (i == n && p[seg] == '.')
				return 0;
			seg = i + 1;
		}
	}
	return 1;
}

/*
 * Arc's looksLikeManagedPath: at least 7 segments, none empty, "." or
 * "..".  Daily compaction output has 6 and so fails on purpose.
 */
int
arc_path_is_managed(const char *p, size_t n)
{
	size_t i, segs = 1;

	if (arc_path_unsafe(p, n) != NULL)
		return 0;
	for (i = 0; i < n; i++)
		if (p[i] == '/')
			segs++;
	return segs >= 7;
}
