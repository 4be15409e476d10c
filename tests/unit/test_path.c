/*
 * test_path.c - the one path validator: Arc's manifest path rules,
 * safety under a storage root, the candidate filter and the managed-path
 * shape gate (reference §1.1, §1.3, §1.4).  Paths are passed in buffers
 * of exactly their length.
 */
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

static const char *
manifest_error(const char *s, size_t n)
{
	char *p = exact(s, n);
	const char *r = arc_path_manifest_error(p, n);

	free(p);
	return r;
}

static const char *
unsafe(const char *s, size_t n)
{
	char *p = exact(s, n);
	const char *r = arc_path_unsafe(p, n);

	free(p);
	return r;
}

static int
candidate(const char *s, size_t n)
{
	char *p = exact(s, n);
	int r = arc_path_is_candidate(p, n);

	free(p);
	return r;
}

static int
managed(const char *s, size_t n)
{
	char *p = exact(s, n);
	int r = arc_path_is_managed(p, n);

	free(p);
	return r;
}

static void
test_manifest_rules(void)
{
	static const struct {
		const char *s;
		size_t n;
	} ok[] = {
		{ L("db/cpu/2026/04/27/14/cpu_20260427_140012_123456789.parquet") },
		{ L("a") },
		{ L("a..b") },
		{ L("..a") },
		{ L("a..") },
		{ L("db/a..b/x.parquet") },
		{ L("db/.../x") },
		{ L("db/./x") },		/* only ".." is refused */
		{ L("./x") },
		{ L("db//x") },
		{ L("db/x/") },
		{ L(".hidden") },
		{ L("a b\tc\nd") },
		{ L("caf\xc3\xa9/\xff\xfe") },
		{ L("db\\x") },
		{ L("a/.. b") },
		{ L("a/ ../b") },
	};
	static const struct {
		const char *s;
		size_t n;
		const char *why;
	} bad[] = {
		{ L(""), "empty" },
		{ L("a\0b"), "NUL" },
		{ L("\0"), "NUL alone" },
		{ L("a:b"), "':'" },
		{ L("db/m:1/x.parquet"), "':'" },
		{ L("C:/x"), "a drive letter" },
		{ L("c:\\x"), "a drive letter" },
		{ L("/a"), "leading /" },
		{ L("/"), "a lone /" },
		{ L("\\a"), "leading \\" },
		{ L("\\\\server\\share"), "a UNC path" },
		{ L(".."), "'..' alone" },
		{ L("../a"), "a leading '..'" },
		{ L("a/.."), "a trailing '..'" },
		{ L("a/../b"), "an inner '..'" },
		{ L("a\\..\\b"), "'..' between backslashes" },
		{ L("..\\a"), "'..' before a backslash" },
		{ L("a\\.."), "'..' after a backslash" },
		{ L("a/..\\b"), "'..' between / and \\" },
		{ L("a\\../b"), "'..' between \\ and /" },
		{ L("db/m/2026/../../../etc/passwd"), "many '..'" },
	};
	char *big;
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		CHECK(manifest_error(ok[i].s, ok[i].n) == NULL,
		    "manifest path %s is allowed", unit_esc(ok[i].s, ok[i].n));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *e = manifest_error(bad[i].s, bad[i].n);

		CHECK(e != NULL && *e != '\0', "manifest path %s is refused "
		    "(%s)", unit_esc(bad[i].s, bad[i].n), bad[i].why);
	}

	/* The length limit: 4096 bytes is fine, 4097 is not. */
	if ((big = malloc(8192)) == NULL)
		abort();
	memset(big, 'a', 8192);
	for (i = 10; i < 8192; i += 10)
		big[i] = '/';
	CHECK(manifest_error(big, 4096) == NULL,
	    "a manifest path of 4096 bytes is allowed");
	CHECK(manifest_error(big, 4097) != NULL,
	    "a manifest path of 4097 bytes is refused");
	CHECK(manifest_error(big, 8192) != NULL,
	    "a manifest path of 8192 bytes is refused");
	/* A '..' at the very end of a long path is still seen. */
	big[4093] = '/';
	big[4094] = '.';
	big[4095] = '.';
	CHECK(manifest_error(big, 4096) != NULL,
	    "a '..' segment ending at byte 4096 is refused");
	free(big);
}

static void
test_unsafe(void)
{
	static const struct {
		const char *s;
		size_t n;
	} ok[] = {
		{ L("a") },
		{ L("a/b") },
		{ L("db/m/2026/04/27/12/f.parquet") },
		{ L("a..b") },
		{ L(".a") },
		{ L("a/.b") },
		{ L("...") },
		{ L("a/...") },
		{ L("a\\..\\b") },	/* one file name on POSIX */
		{ L("a b/\t/\n") },
		{ L("\xff/\xfe") },
	};
	static const struct {
		const char *s;
		size_t n;
	} bad[] = {
		{ L("") },
		{ L("/a") },
		{ L("/") },
		{ L("a/") },
		{ L("a//b") },
		{ L(".") },
		{ L("./a") },
		{ L("a/.") },
		{ L("a/./b") },
		{ L("..") },
		{ L("../a") },
		{ L("a/..") },
		{ L("a/../b") },
		{ L("a\0b") },
		{ L("a/\0") },
	};
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		CHECK(unsafe(ok[i].s, ok[i].n) == NULL,
		    "%s is safe under a root", unit_esc(ok[i].s, ok[i].n));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(unsafe(bad[i].s, bad[i].n) != NULL,
		    "%s is not safe under a root", unit_esc(bad[i].s, bad[i].n));
}

static void
test_candidate(void)
{
	static const struct {
		const char *s;
		size_t n;
		int want;
	} t[] = {
		{ L("db/cpu/2026/04/27/14/cpu_20260427_140012_1.parquet"), 1 },
		{ L("f.parquet"), 1 },
		{ L("db/m/2026/04/27/m_20260427_daily.parquet"), 1 },
		{ L("a b/c\td.parquet"), 1 },
		{ L("\xff.parquet"), 1 },
		{ L(".hidden/f.parquet"), 1 },	/* only the basename counts */
		{ L("db/.cache/f.parquet"), 1 },
		{ L("x.parquet.parquet"), 1 },
		{ L("f.PARQUET"), 0 },
		{ L("f.Parquet"), 0 },
		{ L("f.parqueT"), 0 },
		{ L("f.parquet.part"), 0 },
		{ L("f.parquet.tmp"), 0 },
		{ L("f.parquet/"), 0 },
		{ L("f.parquetx"), 0 },
		{ L("f.parque"), 0 },
		{ L("fparquet"), 0 },
		{ L("parquet"), 0 },
		{ L(""), 0 },
		{ L(".parquet"), 0 },		/* hidden basename */
		{ L("db/.parquet"), 0 },
		{ L(".f.parquet"), 0 },
		{ L("db/m/.arc-123.tmp"), 0 },
		{ L("db/m/.tmp.f.parquet"), 0 },
		{ L("db/m/..f.parquet"), 0 },
		{ L("_compaction_state/hourly/db/job_1.parquet"), 0 },
		{ L("db/_compaction_state/f.parquet"), 0 },
		{ L("db/m/_compaction_state/x/f.parquet"), 0 },
		{ L("db/m_compaction_state_logs/f.parquet"), 1 },
		{ L("db/_compaction_state_legacy/f.parquet"), 1 },
		{ L("db/x_compaction_state/f.parquet"), 1 },
		{ L("_compaction_states/f.parquet"), 1 },
		{ L("_compaction_state.parquet"), 1 },
		{ L("db/_Compaction_State/f.parquet"), 1 },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		CHECK_INT(candidate(t[i].s, t[i].n), t[i].want,
		    "%s is %sa candidate", unit_esc(t[i].s, t[i].n),
		    t[i].want ? "" : "not ");
}

static void
test_managed(void)
{
	static const struct {
		const char *s;
		size_t n;
		int want;
	} t[] = {
		/* the reference table, §1.4 */
		{ L("db/m/2026/04/27/12/file.parquet"), 1 },
		{ L("db/m/2026/04/27/12/sub/file.parquet"), 1 },
		{ L("db/m/file.parquet"), 0 },
		{ L("db/m/2026/04/27/file.parquet"), 0 },
		{ L("db/m/2026/04/27/12/"), 0 },
		{ L("../etc/passwd/2026/04/27/12/x.parquet"), 0 },
		{ L("db/m/./27/04/12/x.parquet"), 0 },
		{ L("//m/2026/04/27/12/file.parquet"), 0 },
		/* and around it */
		{ L("a/b/c/d/e/f/g"), 1 },		/* no extension check */
		{ L("a/b/c/d/e/f/g.txt"), 1 },
		{ L("a/b/c/d/e/f"), 0 },
		{ L("/db/m/2026/04/27/12/f.parquet"), 0 },
		{ L("db/m/2026/04/27/12/f.parquet/"), 0 },
		{ L("db/m/2026//04/27/12/f.parquet"), 0 },
		{ L("db/m/2026/04/27/12/../f.parquet"), 0 },
		{ L("db/m/2026/04/27/12/./f.parquet"), 0 },
		{ L("db/m/2026/04/27/12/.."), 0 },
		{ L("db/m/2026/04/27/12/..."), 1 },
		{ L("db/m/2026/04/27/12/..f"), 1 },
		{ L("db/m/2026/04/27/12/.f"), 1 },
		{ L("db/m/2026/04/27/12/f\0.parquet"), 0 },
		{ L(""), 0 },
		{ L("//////"), 0 },
		{ L("///////"), 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		CHECK_INT(managed(t[i].s, t[i].n), t[i].want,
		    "%s is %smanaged-looking", unit_esc(t[i].s, t[i].n),
		    t[i].want ? "" : "not ");
}

/* The plain spelling of a path, or the path itself when it is plain. */
static void
test_canonical(void)
{
	static const struct {
		const char *s, *want;
		int other;
	} t[] = {
		{ "a/b.parquet", "a/b.parquet", 0 },
		{ "a/./b.parquet", "a/b.parquet", 1 },
		{ "a//b.parquet", "a/b.parquet", 1 },
		{ "a/b.parquet/", "a/b.parquet", 1 },
		{ "a/b.parquet//", "a/b.parquet", 1 },
		{ "./a/b.parquet", "a/b.parquet", 1 },
		{ "/a/b.parquet", "a/b.parquet", 1 },
		{ "a/./././/b.parquet/.", "a/b.parquet", 1 },
		{ "a/.b/..c/...", "a/.b/..c/...", 0 },	/* names, not "." */
		{ "a/../b", "a/../b", 0 },		/* refused elsewhere */
		{ "a\\.\\b", "a\\.\\b", 0 },	/* '\\' is a byte */
		{ "./", "", 1 },
		{ ".", "", 1 },
		{ "", "", 0 },
	};
	struct arc_buf b = { 0 };
	size_t i;
	int r;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		b.len = 0;
		arc_buf_adds(&b, "untouched");
		r = arc_path_canonical(t[i].s, strlen(t[i].s), &b);
		CHECK_INT(r, t[i].other, "%s is %splain", t[i].s,
		    t[i].other ? "not " : "");
		if (r)
			CHECK_INT(b.len == strlen(t[i].want) &&
			    memcmp(b.s, t[i].want, b.len) == 0, 1,
			    "%s is plainly %s", t[i].s, t[i].want);
		else
			CHECK_INT(strcmp(arc_buf_str(&b), "untouched"), 0,
			    "%s leaves the buffer alone", t[i].s);
	}
	arc_buf_free(&b);
}

/*
 * arc_path_odd_span: in lines of records, a sign before or in every path
 * spelled otherwise (the line's first byte aside), and none in a plain
 * one's line, whatever its other fields hold.
 */
static void
test_odd_span(void)
{
	static const char *const odd[] = {
		"x\na//b\t-\n", "x\na/b/\t-\n", "x\na/./b\t-\n", "x\n./a/b\t-\n",
		"x\n.\t-\n", "x\na/.\t-\n", "x\n/a/b\t-\n", "x\na/b/\n",
		"x\na/\\t/./b\t-\n", "x\na/\\001//b\t-\n", "x\n//\t-\n",
	};
	static const char *const plain[] = {
		"x\na/b\t-\n", "x\na/b.c/d..\t2026\t10\n", "x\na\\/b\t-\n",
		"x\n-a/b\t./x\t/y\n", "x\n\t-\n", "x\na/b\n",
	};
	const char *s, *e;
	size_t i;

	for (i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
		e = odd[i] + strlen(odd[i]);
		s = arc_path_odd_span(odd[i], e);
		CHECK(s < e, "a sign in %s", ESC(odd[i]));
	}
	for (i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
		e = plain[i] + strlen(plain[i]);
		s = arc_path_odd_span(plain[i], e);
		CHECK(s == e, "no sign in %s", ESC(plain[i]));
	}
	/* past sixteen bytes, and a pair on the block's last two bytes */
	s = "0123456789abcdef0123456789abcd/.";
	CHECK_INT(arc_path_odd_span(s, s + 32) - s, 30, "a sign at 30 of 32");
	CHECK_INT(arc_path_odd_span(s, s + 31) - s, 31, "no pair past the end");
}

void
test_path(void)
{
	test_canonical();
	test_manifest_rules();
	test_unsafe();
	test_candidate();
	test_managed();
	test_odd_span();
}
