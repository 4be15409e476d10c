/*
 * path.c - the one path validator.
 *
 * Paths are never rewritten: a path is either accepted byte for byte or
 * refused with a reason.  The one exception, arc_path_canonical, is used
 * only to ask whether a file is registered under another spelling, never
 * to name a file to check or delete.  Arc's local backend turned "a..b" into "a_b"
 * and so could check and delete a different file; nothing here does that.
 */
#ifdef __SSE2__
#include <emmintrin.h>
#endif
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
 * The first byte in [p, end - 1) that starts a pair which may show a
 * path spelled otherwise in lines of records: a '/' followed by '/',
 * '.', TAB or LF (an empty or "." segment, a trailing '/'), or a LF
 * followed by '.' or '/' (the next line's path begins "./", "." or '/');
 * end when there is none.  Every path plain() refuses holds one such
 * pair, given a line that ends in LF (the path ends at its TAB or LF) and
 * the line's first byte checked apart: a caller runs the exact check on
 * the lines it finds here only.  Sixteen bytes at a time where SSE2 is
 * at hand: arc-diff runs this over the whole manifest before the merge.
 */
const char *
arc_path_odd_span(const char *p, const char *end)
{
#ifdef __SSE2__
	const __m128i sl = _mm_set1_epi8('/'), dot = _mm_set1_epi8('.');
	const __m128i tab = _mm_set1_epi8('\t'), lf = _mm_set1_epi8('\n');
	__m128i v, w, ws, wd, m;
	int bits;

	for (; end - p > 16; p += 16) {
		v = _mm_loadu_si128((const __m128i *)(const void *)p);
		w = _mm_loadu_si128((const __m128i *)(const void *)(p + 1));
		ws = _mm_cmpeq_epi8(w, sl);
		wd = _mm_cmpeq_epi8(w, dot);
		m = _mm_or_si128(
		    _mm_and_si128(_mm_cmpeq_epi8(v, sl), _mm_or_si128(
		    _mm_or_si128(ws, wd), _mm_or_si128(_mm_cmpeq_epi8(w, tab),
		    _mm_cmpeq_epi8(w, lf)))),
		    _mm_and_si128(_mm_cmpeq_epi8(v, lf), _mm_or_si128(ws, wd)));
		if ((bits = _mm_movemask_epi8(m)) != 0)
			return p + __builtin_ctz((unsigned)bits);
	}
#endif
	for (; end - p > 1; p++)
		if ((p[0] == '/' && (p[1] == '/' || p[1] == '.' ||
		    p[1] == '\t' || p[1] == '\n')) ||
		    (p[0] == '\n' && (p[1] == '.' || p[1] == '/')))
			return p;
	return end;
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
