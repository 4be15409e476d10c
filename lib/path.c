/*
 * path.c - the one path validator.
 *
 * Paths are never rewritten: a path is either accepted byte for byte or
 * refused with a reason.  Arc's local backend turned "a..b" into "a_b"
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
