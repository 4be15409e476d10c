/*
 * test_json.c - arc_json_entries (jsonstream.c) and, through it,
 * arc_entry_from_json (entry.c): Arc manifest bodies, concatenated pages
 * and NDJSON in; FileEntry fields, or a refusal naming the line, out.
 * Then the fast path (arc_json_simple, arc_json_entries_raw) and the
 * file manifest's look-ups and deletes (mfile.c) that take it.
 */
#include <sys/stat.h>

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "arc_priv.h"
#include "unit.h"

#define L(s)	(s), sizeof(s) - 1
#define T0	1775916000LL
#define YEAR1	(-62135596800LL)

/* A full FileEntry, as Arc writes it, with path p. */
#define E(p)	"{\"path\":\"" p "\",\"sha256\":\"ab12\",\"size_bytes\":10," \
	"\"database\":\"db\",\"measurement\":\"m\"," \
	"\"partition_time\":\"2026-04-11T14:00:00Z\"," \
	"\"origin_node_id\":\"n1\",\"tier\":\"hot\"," \
	"\"created_at\":\"2026-04-11T14:00:00.123456789Z\",\"lsn\":7}"

#define MAXKEEP	64

struct kept {
	char		*path;
	size_t		 pathlen;
	int64_t		 created_at;
	int64_t		 size;
	char		*origin;
	char		*rev;
	char		*database;
	char		*measurement;
	uintmax_t	 line;
};

struct got {
	int		 n;		/* entries seen */
	int		 stop;		/* return -1 on entry number stop */
	int		 seq;		/* expect paths db/m/%06d.parquet */
	int		 seqbad;
	struct kept	 e[MAXKEEP];
	char		 msg[1024];	/* what was said on stderr */
};

static char *
xstrndup(const char *s, size_t n)
{
	char *p = malloc(n + 1);

	if (p == NULL)
		abort();
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

static int
collect(void *arg, struct arc_entry *e, uintmax_t line)
{
	struct got *g = arg;
	struct kept *k;
	char want[64];

	if (g->seq) {
		snprintf(want, sizeof(want), "db/m/%06d.parquet", g->n);
		if (e->pathlen != strlen(want) ||
		    memcmp(e->path, want, e->pathlen) != 0)
			g->seqbad++;
	}
	if (g->n < MAXKEEP) {
		k = &g->e[g->n];
		k->path = xstrndup(e->path, e->pathlen);
		k->pathlen = e->pathlen;
		k->created_at = e->created_at;
		k->size = e->size;
		k->origin = xstrndup(e->origin, strlen(e->origin));
		k->rev = xstrndup(e->rev, strlen(e->rev));
		k->database = xstrndup(e->database, strlen(e->database));
		k->measurement = xstrndup(e->measurement,
		    strlen(e->measurement));
		k->line = line;
	}
	g->n++;
	return g->stop && g->n == g->stop ? -1 : 0;
}

static void
got_free(struct got *g)
{
	int i;

	for (i = 0; i < g->n && i < MAXKEEP; i++) {
		free(g->e[i].path);
		free(g->e[i].origin);
		free(g->e[i].rev);
		free(g->e[i].database);
		free(g->e[i].measurement);
	}
	memset(g, 0, sizeof(*g));
}

/* Run arc_json_entries over s[0..n); g must be zeroed or got_free'd. */
static int
run(const char *s, size_t n, struct got *g)
{
	char *buf;
	FILE *fp;
	int r;

	if ((buf = malloc(n ? n : 1)) == NULL)
		abort();
	memcpy(buf, s, n);
	if ((fp = fmemopen(buf, n, "r")) == NULL)
		abort();
	unit_capture();
	r = arc_json_entries(fp, "manifest", collect, g);
	snprintf(g->msg, sizeof(g->msg), "%s", unit_captured());
	fclose(fp);
	free(buf);
	return r;
}

static void
expect_entries(const char *s, size_t n, int want, const char *what)
{
	struct got g = { 0 };
	int r;

	r = run(s, n, &g);
	CHECK(r == 0 && g.n == want, "%s gives %d entr%s", what, want,
	    want == 1 ? "y" : "ies");
	if (r != 0 || g.n != want)
		unit_diag("rc %d, %d entries; said %s", r, g.n,
		    unit_esc(g.msg, strlen(g.msg)));
	got_free(&g);
}

static void
expect_refused(const char *s, size_t n, const char *what)
{
	struct got g = { 0 };
	int r;

	r = run(s, n, &g);
	CHECK(r == -1 && g.msg[0] != '\0', "%s is refused", what);
	if (r != -1)
		unit_diag("rc %d, %d entries from %s", r, g.n, unit_esc(s, n));
	if (r != -1 && g.n > 0)
		unit_diag("the first: path %s, size %lld, rev %s",
		    ESC(g.e[0].path), (long long)g.e[0].size, ESC(g.e[0].rev));
	got_free(&g);
}

static void
test_body(void)
{
	static const char body[] = "{\"files\":[" E("db/m/a.parquet") ","
	    E("db/m/b b.parquet") "],\"total\":2}";
	static const char pretty[] =
	    "{\n"
	    "  \"files\" : [\n"
	    "    {\n"
	    "      \"path\": \"db/m/1.parquet\",\n"
	    "      \"size_bytes\": 1\n"
	    "    } ,\n"
	    "    {\n"
	    "      \"path\": \"db/m/2.parquet\"\n"
	    "    }\n"
	    "  ] ,\n"
	    "  \"total\" : 2,\n"
	    "  \"next_cursor\": \"\"\n"
	    "}\n";
	struct got g = { 0 };
	int r;

	r = run(body, sizeof(body) - 1, &g);
	CHECK(r == 0 && g.n == 2, "an Arc body with two entries gives two");
	if (r == 0 && g.n == 2) {
		CHECK_STR(g.e[0].path, "db/m/a.parquet", "the first entry "
		    "comes first");
		CHECK_STR(g.e[1].path, "db/m/b b.parquet", "the second entry "
		    "comes second");
		CHECK_INT(g.e[0].created_at, T0, "created_at is read, its "
		    "fraction dropped");
		CHECK_INT(g.e[0].size, 10, "size_bytes is read");
		CHECK_STR(g.e[0].origin, "n1", "origin_node_id is read");
		CHECK_STR(g.e[0].rev, "7", "lsn is the rev");
		CHECK_STR(g.e[0].database, "db", "database is read");
		CHECK_STR(g.e[0].measurement, "m", "measurement is read");
		CHECK_INT(g.e[1].line, 1, "a one-line body's entries are on "
		    "line 1");
	}
	got_free(&g);

	r = run(pretty, sizeof(pretty) - 1, &g);
	CHECK(r == 0 && g.n == 2, "a pretty-printed body gives its entries");
	if (r == 0 && g.n == 2) {
		CHECK_INT(g.e[0].line, 3, "the first entry starts on line 3");
		CHECK_INT(g.e[1].line, 7, "the second entry starts on line 7");
		CHECK(g.e[0].size == 1 && g.e[1].size == -1 &&
		    g.e[1].created_at == ARC_TIME_UNKNOWN &&
		    g.e[1].origin[0] == '\0' && g.e[1].rev[0] == '\0',
		    "absent members are unknown or empty");
	}
	got_free(&g);

	expect_entries(L("{\"files\":[" E("a") "],\"total\":1}"
	    "{\"files\":[" E("b") "," E("c") "],\"total\":2}"), 3,
	    "two concatenated bodies");
	expect_entries(L("{\"files\":[" E("a") "],\"total\":1,"
	    "\"next_cursor\":\"a\"}\n{\"files\":[" E("b") "],\"total\":1,"
	    "\"next_cursor\":\"b\"}\n{\"files\":null,\"total\":0,"
	    "\"next_cursor\":\"\"}\n"), 2, "three pages, the last null");
	expect_entries(L("{\"files\":null,\"total\":0}"), 0, "files: null");
	expect_entries(L("{\"files\":null}"), 0, "files: null without total");
	expect_entries(L("{\"files\":[],\"total\":0}"), 0, "files: []");
	expect_entries(L("{\"files\":[null," E("a") ",null],\"total\":3}"), 1,
	    "a body with null elements");
	expect_entries(L("{\"files\":[ null , null ],\"total\":2}"), 0,
	    "a body of nulls with spaces");
	expect_entries(L("{\"files\":[" E("a") "]}"), 1, "a body without total");
	expect_entries(L("{\"total\":1,\"files\":[" E("a") "]}"), 1,
	    "a body with total first");
	expect_entries(L("{\"note\":\"files\",\"files\":[" E("a") "],"
	    "\"total\":1}"), 1, "a body with the word files as a value");
	expect_entries(L("{\"meta\":{\"files\":[1,2]},\"files\":[" E("a")
	    "],\"total\":1}"), 1, "a body with a nested files member");
	expect_entries(L("{\"fi\\u006ces\":[" E("a") "," E("b") "],"
	    "\"total\":2}"), 2, "a body whose files key is escaped");
	expect_entries(L("{\"files\":[{\"path\":\"a]}{[,\\\"x.parquet\","
	    "\"origin_node_id\":\"x,\\\"y\\\":{z\"}],\"total\":1}"), 1,
	    "an entry whose strings hold brackets, commas and quotes");
	expect_entries(L("{\"files\":[{\"path\":\"a\",\"x\":{\"path\":\"b\"}}],"
	    "\"total\":1}"), 1, "the same key at two depths");
	expect_entries(L("\n \t\r\n"), 0, "white space only");
	expect_entries("", 0, 0, "empty input");
}

static void
test_ndjson(void)
{
	static const char nd[] = E("db/m/x.parquet") "\n"
	    "{\"path\":\"db/m/y.parquet\"}\n"
	    "\n"
	    E("db/m/z.parquet") "\n";
	struct got g = { 0 };
	int r;

	r = run(nd, sizeof(nd) - 1, &g);
	CHECK(r == 0 && g.n == 3, "NDJSON gives one entry per line");
	if (r == 0 && g.n == 3) {
		CHECK(g.e[0].line == 1 && g.e[1].line == 2 && g.e[2].line == 4,
		    "NDJSON entries carry their line numbers");
		CHECK_STR(g.e[2].path, "db/m/z.parquet", "NDJSON keeps the "
		    "source order");
		CHECK_STR(g.e[0].rev, "7", "an NDJSON lsn is the rev");
	}
	got_free(&g);
	expect_entries(L(E("a") "\r\n" E("b") "\r\n"), 2, "NDJSON with CRLF");
	expect_entries(L(E("a") E("b")), 2, "NDJSON without newlines");
	expect_entries(L(E("a")), 1, "NDJSON without a final newline");
	expect_entries(L("{\"path\":\"caf\\u00e9.parquet\"}\n"
	    "{\"path\":\"caf\xc3\xa9.parquet\"}\n"), 2, "NDJSON with "
	    "escaped and raw UTF-8");
	r = run(L("{\"path\":\"caf\\u00e9\\t.parquet\"}\n"), &g);
	CHECK(r == 0 && g.n == 1 && g.e[0].pathlen == 14 &&
	    memcmp(g.e[0].path, "caf\xc3\xa9\t.parquet", 14) == 0,
	    "JSON escapes in a path are decoded to bytes");
	got_free(&g);
	expect_entries(L("{\"files\":[" E("a") "],\"total\":1}\n" E("b") "\n"),
	    2, "a body followed by an NDJSON entry");
}

static void
test_refusals(void)
{
	static const struct {
		const char *s;
		size_t n;
		const char *why;
	} t[] = {
		/* duplicate keys */
		{ L("{\"files\":[{\"path\":\"a\",\"path\":\"b\"}],\"total\":1}"),
		    "a duplicate key in an entry" },
		{ L("{\"path\":\"a\",\"size_bytes\":1,\"path\":\"b\"}\n"),
		    "a duplicate key in an NDJSON entry" },
		{ L("{\"files\":[{\"path\":\"a\",\"p\\u0061th\":\"b\"}]}"),
		    "a duplicate key spelled with an escape" },
		{ L("{\"files\":[],\"total\":0,\"total\":0}"),
		    "a duplicate total" },
		{ L("{\"files\":[" E("a") "],\"files\":[" E("b") "]}"),
		    "a duplicate files" },
		/* total */
		{ L("{\"files\":[" E("a") "],\"total\":2}"), "total 2 for one" },
		{ L("{\"files\":[" E("a") "," E("b") "],\"total\":1}"),
		    "total 1 for two" },
		{ L("{\"files\":null,\"total\":1}"), "total 1 for null" },
		{ L("{\"files\":[],\"total\":\"0\"}"), "total as a string" },
		{ L("{\"files\":[],\"total\":-1}"), "a negative total" },
		{ L("{\"files\":[],\"total\":0.0}"), "a fractional total" },
		{ L("{\"fi\\u006ces\":[" E("a") "],\"total\":2}"),
		    "a total mismatch with an escaped files key" },
		{ L("{\"files\":[" E("a") "],\"total\":1}{\"files\":[" E("b")
		    "],\"total\":2}"), "a total mismatch on the second page" },
		/* truncation */
		{ L("{"), "a lone brace" },
		{ L("{\"files\":["), "a body cut after [" },
		{ L("{\"files\":[" E("a")), "a body cut after an entry" },
		{ L("{\"files\":[" E("a") ","), "a body cut after a comma" },
		{ L("{\"files\":[" E("a") "]"), "a body cut before }" },
		{ L("{\"files\":[{\"path\":\"a"), "a body cut in a string" },
		{ L("{\"files\":[nul"), "a body cut in null" },
		{ L("{\"path\":\"a\""), "an NDJSON entry cut short" },
		{ L(E("a") "\n{\"path\":"), "NDJSON cut in the second entry" },
		/* nesting and syntax */
		{ L("[" E("a") "]"), "a top-level array" },
		{ L("\"files\""), "a top-level string" },
		{ L("null"), "a top-level null" },
		{ L("{\"files\":{\"path\":\"a\"}}"), "files as an object" },
		{ L("{\"files\":\"a\"}"), "files as a string" },
		{ L("{\"files\":[[" E("a") "]]}"), "an entry inside an array" },
		{ L("{\"files\":[1]}"), "a number element" },
		{ L("{\"files\":[\"a\"]}"), "a string element" },
		{ L("{\"files\":[true]}"), "a boolean element" },
		{ L("{\"files\":[" E("a") "]]}"), "an extra ]" },
		{ L("{\"files\":[" E("a") "}}"), "} closing files" },
		{ L("{\"files\":[null}"), "} after a null element" },
		{ L("{\"files\":[," E("a") "]}"), "a leading comma" },
		{ L("{\"files\":[" E("a") ",," E("b") "]}"), "a double comma" },
		{ L("{\"files\":[" E("a") "," "]}"), "a trailing comma" },
		{ L("{\"files\":[" E("a") " " E("b") "]}"), "a missing comma" },
		{ L("{\"files\":[{\"path\":\"a\",}]}"), "a trailing comma in an "
		    "entry" },
		{ L("{\"files\":[{path:\"a\"}]}"), "an unquoted key" },
		{ L("{\"files\":[{'path':'a'}]}"), "single quotes" },
		{ L("{\"files\":[/* c */" E("a") "]}"), "a comment" },
		{ L("{\"files\":[],\"total\":0} x"), "trailing garbage" },
		{ L("{\"files\":[],\"total\":0},"), "a trailing comma" },
		{ L("{\"data\":{\"files\":[" E("a") "]}}"), "a wrapped body" },
		{ L("{\"foo\":1}"), "an object with neither files nor path" },
		{ L("{}"), "an empty object" },
		{ L("}"), "a lone }" },
		{ L("{\"path\":\"a\"}}"), "an extra } after an entry" },
		/* Arc's other answers */
		{ L("{\"enabled\":false,\"mode\":\"standalone\",\"reason\":"
		    "\"Clustering not enabled in configuration "
		    "(cluster.enabled=false)\"}"), "the standalone answer" },
		{ L("{\"enabled\":false,\"mode\":\"standalone\",\"reason\":"
		    "\"Enterprise license not configured\"}\n"),
		    "the unlicensed answer" },
		{ L("{\"success\":false,\"error\":\"Authentication required\"}"),
		    "a 401 body" },
		{ L("{\"error\":\"boom\"}"), "a 500 body" },
		/* types */
		{ L("{\"path\":\"a\",\"size_bytes\":\"10\"}"), "size as a string" },
		{ L("{\"path\":\"a\",\"size_bytes\":10.5}"), "a fractional size" },
		{ L("{\"path\":\"a\",\"size_bytes\":1e3}"), "an exponent size" },
		{ L("{\"path\":\"a\",\"size_bytes\":-1}"), "a negative size" },
		{ L("{\"path\":\"a\",\"size_bytes\":true}"), "a boolean size" },
		{ L("{\"path\":\"a\",\"size_bytes\":9223372036854775808}"),
		    "a size past int64" },
		{ L("{\"path\":\"a\",\"size_bytes\":18446744073709551615}"),
		    "a size of 2^64-1" },
		{ L("{\"path\":\"a\",\"lsn\":\"7\"}"), "lsn as a string" },
		{ L("{\"path\":\"a\",\"lsn\":-1}"), "a negative lsn" },
		{ L("{\"path\":\"a\",\"lsn\":7.5}"), "a fractional lsn" },
		{ L("{\"path\":\"a\",\"lsn\":18446744073709551616}"),
		    "an lsn past uint64" },
		{ L("{\"path\":5}"), "a number path" },
		{ L("{\"path\":null}"), "a null path" },
		{ L("{\"path\":[\"a\"]}"), "an array path" },
		{ L("{\"files\":[{\"size_bytes\":1}]}"), "an entry without a path" },
		{ L("{\"path\":\"a\",\"created_at\":5}"), "a number created_at" },
		{ L("{\"path\":\"a\",\"created_at\":\"yesterday\"}"),
		    "created_at 'yesterday'" },
		{ L("{\"path\":\"a\",\"created_at\":\"2026-04-11T14:00:00\"}"),
		    "created_at without a zone" },
		{ L("{\"path\":\"a\",\"created_at\":\"2026-04-11T14:00:00."
		    "1234567891Z\"}"), "created_at with 10 fraction digits" },
		{ L("{\"path\":\"a\",\"created_at\":\"2026-02-30T14:00:00Z\"}"),
		    "created_at on February 30" },
		{ L("{\"path\":\"a\",\"origin_node_id\":5}"), "a number origin" },
		{ L("{\"path\":\"a\",\"database\":[]}"), "an array database" },
		{ L("{\"path\":\"a\",\"measurement\":{}}"), "an object "
		    "measurement" },
		/* paths Arc refuses */
		{ L("{\"files\":[{\"path\":\"db/../x.parquet\"}]}"),
		    "an entry with a '..' path" },
		{ L("{\"path\":\"..\"}"), "an NDJSON entry with path '..'" },
		{ L("{\"path\":\"db\\\\..\\\\x.parquet\"}"),
		    "a '..' between backslashes" },
		{ L("{\"path\":\"/db/x.parquet\"}"), "an absolute path" },
		{ L("{\"path\":\"\\\\db\"}"), "a path starting with a backslash" },
		{ L("{\"path\":\"C:/x\"}"), "a drive letter" },
		{ L("{\"path\":\"db/m:1/x\"}"), "a ':'" },
		{ L("{\"path\":\"\"}"), "an empty path" },
		{ L("{\"path\":\"a\\u0000b\"}"), "a NUL in the path" },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		expect_refused(t[i].s, t[i].n, t[i].why);
}

static void
test_values(void)
{
	static const struct {
		const char *created;
		int64_t want;
	} ct[] = {
		{ "2026-04-11T14:00:00Z", T0 },
		{ "2026-04-11T14:00:00.5Z", T0 },
		{ "2026-04-11T16:00:00+02:00", T0 },
		{ "2026-04-11T16:00:00.123+02:00", T0 },
		{ "2026-04-11T08:30:00.999999999-05:30", T0 },
		{ "0001-01-01T00:00:00Z", YEAR1 },	/* Go's zero time */
	};
	static const struct {
		const char *lsn;
		const char *rev;
	} lt[] = {
		{ "7", "7" },
		{ "0", "0" },
		{ "9223372036854775807", "9223372036854775807" },
		{ "9223372036854775808", "9223372036854775808" },
		{ "18446744073709551614", "18446744073709551614" },
		{ "18446744073709551615", "18446744073709551615" },
		{ "null", "" },
	};
	struct arc_buf b = { 0 };
	struct got g = { 0 };
	size_t i;
	int r;

	for (i = 0; i < sizeof(ct) / sizeof(ct[0]); i++) {
		b.len = 0;
		arc_buf_printf(&b, "{\"path\":\"a\",\"created_at\":\"%s\"}",
		    ct[i].created);
		r = run(b.s, b.len, &g);
		CHECK(r == 0 && g.n == 1 && g.e[0].created_at == ct[i].want,
		    "created_at %s is %lld", ESC(ct[i].created),
		    (long long)ct[i].want);
		got_free(&g);
	}
	r = run(L("{\"path\":\"a\",\"created_at\":null}"), &g);
	CHECK(r == 0 && g.n == 1 && g.e[0].created_at == ARC_TIME_UNKNOWN,
	    "created_at null is unknown");
	got_free(&g);

	for (i = 0; i < sizeof(lt) / sizeof(lt[0]); i++) {
		b.len = 0;
		arc_buf_printf(&b, "{\"path\":\"a\",\"lsn\":%s}", lt[i].lsn);
		r = run(b.s, b.len, &g);
		CHECK(r == 0 && g.n == 1 && strcmp(g.e[0].rev, lt[i].rev) == 0,
		    "lsn %s is rev %s", lt[i].lsn, ESC(lt[i].rev));
		if (r == 0 && g.n == 1 && strcmp(g.e[0].rev, lt[i].rev) != 0)
			unit_diag("got rev %s", ESC(g.e[0].rev));
		got_free(&g);
	}
	r = run(L("{\"path\":\"a\",\"size_bytes\":9223372036854775807,"
	    "\"size_bytes\":1}"), &g);
	CHECK(r == -1, "a duplicate size_bytes is refused");
	got_free(&g);
	r = run(L("{\"path\":\"a\",\"size_bytes\":9223372036854775807}"), &g);
	CHECK(r == 0 && g.n == 1 && g.e[0].size == INT64_MAX,
	    "size_bytes 2^63-1 is read exactly");
	got_free(&g);
	r = run(L("{\"path\":\"a\",\"size_bytes\":0,\"origin_node_id\":\"\"}"),
	    &g);
	CHECK(r == 0 && g.n == 1 && g.e[0].size == 0 &&
	    g.e[0].origin[0] == '\0', "size 0 and an empty origin are read");
	got_free(&g);
	r = run(L("{\"path\":\"a..b/c.parquet\"}"), &g);
	CHECK(r == 0 && g.n == 1, "a path 'a..b/c.parquet' is allowed");
	got_free(&g);
	arc_buf_free(&b);
}

static void
test_sizes(void)
{
	struct arc_buf b = { 0 };
	struct got g = { 0 };
	size_t big = 2 * 1024 * 1024, i;
	int r;

	/* A 2 MiB entry, in a body and as NDJSON. */
	arc_buf_adds(&b, "{\"files\":[{\"path\":\"a.parquet\",\"sha256\":\"");
	for (i = 0; i < big; i++)
		arc_buf_addc(&b, 'f');
	arc_buf_adds(&b, "\"}],\"total\":1}");
	r = run(b.s, b.len, &g);
	CHECK(r == -1 && g.n == 0, "a 2 MiB entry in a body is refused");
	got_free(&g);
	r = run(b.s + 10, b.len - 10 - 12, &g);
	CHECK(r == -1 && g.n == 0, "a 2 MiB NDJSON entry is refused");
	if (r != -1)
		unit_diag("said %s", unit_esc(g.msg, strlen(g.msg)));
	got_free(&g);

	/* 900 KiB is within the limit. */
	b.len = 0;
	arc_buf_adds(&b, "{\"files\":[{\"path\":\"a.parquet\",\"sha256\":\"");
	for (i = 0; i < 900 * 1024; i++)
		arc_buf_addc(&b, 'f');
	arc_buf_adds(&b, "\"}],\"total\":1}");
	r = run(b.s, b.len, &g);
	CHECK(r == 0 && g.n == 1, "a 900 KiB entry in a body is read");
	got_free(&g);

	/* A body far larger than one entry is streamed, not refused. */
	b.len = 0;
	arc_buf_adds(&b, "{\"files\":[");
	for (i = 0; i < 20000; i++)
		arc_buf_printf(&b, "%s{\"path\":\"db/m/%06zu.parquet\","
		    "\"sha256\":\"%064zu\",\"size_bytes\":%zu,\"lsn\":%zu}",
		    i ? "," : "", i, i, i, i);
	arc_buf_adds(&b, "],\"total\":20000}");
	g.seq = 1;
	r = run(b.s, b.len, &g);
	CHECK(b.len > 2 * 1024 * 1024 && r == 0 && g.n == 20000 &&
	    g.seqbad == 0, "a 20000-entry body of %zu bytes gives every "
	    "entry in order", b.len);
	got_free(&g);
	arc_buf_free(&b);
}

/*
 * The reader takes its input in blocks and skips through strings a run
 * at a time: shift one body across a block boundary byte by byte, so
 * that every key, escape and bracket of it meets the boundary once.
 */
static void
test_boundaries(void)
{
	static const char body[] = "{\"next_cursor\":\"x\\\"}\\\\\","
	    "\"files\":[{\"path\":\"db/q\\\"uo\\\\te\\u00e9 ]}.parquet\","
	    "\"sha256\":\"\\\"\\\\\\\"\",\"lsn\":5},null,"
	    "{\"p\\u0061th\":\"db/b.parquet\",\"size_bytes\":3}],"
	    "\"total\":3}";
	static const char want0[] = "db/q\"uo\\te\xc3\xa9 ]}.parquet";
	struct arc_buf b = { 0 };
	struct got g = { 0 };
	size_t pad, block = 65536, wrong = 0, tried = 0;
	int r;

	for (pad = block - sizeof(body) - 2; pad <= block + 2; pad++) {
		b.len = 0;
		while (b.len < pad)
			arc_buf_addc(&b, ' ');
		arc_buf_add(&b, body, sizeof(body) - 1);
		r = run(b.s, b.len, &g);
		tried++;
		if (r != 0 || g.n != 2 ||
		    g.e[0].pathlen != sizeof(want0) - 1 ||
		    memcmp(g.e[0].path, want0, sizeof(want0) - 1) != 0 ||
		    strcmp(g.e[0].rev, "5") != 0 ||
		    strcmp(g.e[1].path, "db/b.parquet") != 0 ||
		    g.e[1].size != 3) {
			if (wrong++ == 0)
				unit_diag("with %zu spaces first: rc %d, %d "
				    "entries; said %s", pad, r, g.n,
				    unit_esc(g.msg, strlen(g.msg)));
		}
		got_free(&g);
	}
	CHECK_INT(wrong, 0, "a body with escapes read at %zu offsets across "
	    "a block boundary gives the same entries", tried);

	/* And an NDJSON entry whose escaped quote straddles the boundary. */
	wrong = 0;
	for (pad = block - 40; pad <= block + 2; pad++) {
		b.len = 0;
		while (b.len < pad)
			arc_buf_addc(&b, '\n');
		arc_buf_adds(&b, "{\"path\":\"a\\\"b\\\\\"}\n");
		r = run(b.s, b.len, &g);
		if (r != 0 || g.n != 1 || strcmp(g.e[0].path, "a\"b\\") != 0 ||
		    g.e[0].line != pad + 1)
			if (wrong++ == 0)
				unit_diag("with %zu newlines first: rc %d",
				    pad, r);
		got_free(&g);
	}
	CHECK_INT(wrong, 0, "an NDJSON entry across a block boundary keeps "
	    "its escapes and its line number");
	arc_buf_free(&b);
}

/* What the bodies said: how many, and the last one's next_cursor. */
static int
run_meta(const char *s, size_t n, struct arc_json_meta *meta)
{
	struct got g = { 0 };
	char *buf;
	FILE *fp;
	int r;

	if ((buf = malloc(n ? n : 1)) == NULL)
		abort();
	memcpy(buf, s, n);
	if ((fp = fmemopen(buf, n, "r")) == NULL)
		abort();
	unit_capture();
	r = arc_json_entries_meta(fp, "m", collect, &g, meta);
	unit_captured();
	fclose(fp);
	free(buf);
	got_free(&g);
	return r;
}

static void
test_meta(void)
{
	struct arc_json_meta meta;
	int r;

	memset(&meta, 0, sizeof(meta));
	r = run_meta(L("{\"files\":[" E("a") "],\"total\":1,"
	    "\"next_cursor\":\"a\"}"), &meta);
	CHECK(r == 0 && meta.bodies == 1 && meta.have_cursor &&
	    meta.next_cursor.len == 1 && meta.next_cursor.s[0] == 'a',
	    "one page: its next_cursor is told");
	meta.bodies = 0;
	r = run_meta(L("{\"files\":[" E("a") "],\"total\":1,"
	    "\"next_cursor\":\"a\"}{\"files\":null,\"total\":0,"
	    "\"next_cursor\":\"\"}"), &meta);
	CHECK(r == 0 && meta.bodies == 2 && meta.have_cursor &&
	    meta.next_cursor.len == 0,
	    "two pages: both are counted, the last cursor is empty");
	meta.bodies = 0;
	r = run_meta(L("{\"files\":[],\"total\":0}"), &meta);
	CHECK(r == 0 && meta.bodies == 1 && !meta.have_cursor,
	    "a legacy body has no next_cursor");
	meta.bodies = 0;
	r = run_meta(L(E("a") "\n" E("b") "\n"), &meta);
	CHECK(r == 0 && meta.bodies == 0, "NDJSON holds no bodies");
	arc_buf_free(&meta.next_cursor);
}

static void
test_messages(void)
{
	struct got g = { 0 };
	int r;

	r = run(L(E("a") "\n" E("b") "\n{\"path\":\"x/../y\"}\n"), &g);
	CHECK(r == -1 && g.n == 2 && strstr(g.msg, "'manifest'") != NULL &&
	    strstr(g.msg, "at line 3") != NULL,
	    "a bad path on NDJSON line 3 is reported at line 3");
	if (strstr(g.msg, "at line 3") == NULL)
		unit_diag("said %s", unit_esc(g.msg, strlen(g.msg)));
	got_free(&g);
	r = run(L("{\"files\":[\n" E("a") ",\n" E("a:b") "\n]}\n"), &g);
	CHECK(r == -1 && strstr(g.msg, "at line 3") != NULL,
	    "a bad entry on line 3 of a body is reported at line 3");
	if (strstr(g.msg, "at line 3") == NULL)
		unit_diag("said %s", unit_esc(g.msg, strlen(g.msg)));
	got_free(&g);
	r = run(L("{\"enabled\":false,\"mode\":\"standalone\",\"reason\":"
	    "\"Enterprise license not configured\"}"), &g);
	CHECK(r == -1 && strstr(g.msg, "Enterprise license not configured"),
	    "the standalone answer's reason is passed on");
	got_free(&g);

	/* The callback can stop the stream. */
	g.stop = 1;
	r = run(L(E("a") "\n" E("b") "\n"), &g);
	CHECK(r == -1 && g.n == 1, "a callback returning -1 stops the stream");
	got_free(&g);
	g.stop = 2;
	r = run(L("{\"files\":[" E("a") "," E("b") "," E("c") "]}"), &g);
	CHECK(r == -1 && g.n == 2, "a callback returning -1 stops a body");
	got_free(&g);
}

/*
 * The fast path (arc_json_simple): an object it calls simple must be one
 * the full pass accepts, with the same path; everything else is left to
 * the full pass.
 */
static void
expect_simple(const char *s, size_t n, const char *path, int oneline,
    const char *what)
{
	struct arc_json_raw raw;
	int r;

	r = arc_json_simple(s, n, &raw);
	CHECK(r == 1 && raw.pathlen == strlen(path) &&
	    memcmp(raw.path, path, raw.pathlen) == 0 && raw.text == s &&
	    raw.len == n && raw.oneline == oneline,
	    "%s is simple, with path %s", what, ESC(path));
	if (r == 1 && (raw.pathlen != strlen(path) ||
	    memcmp(raw.path, path, raw.pathlen) != 0))
		unit_diag("got path %s", unit_esc(raw.path, raw.pathlen));
}

static void
expect_not_simple(const char *s, size_t n, const char *what)
{
	struct arc_json_raw raw;
	int r;

	r = arc_json_simple(s, n, &raw);
	CHECK(r == 0 && raw.path == NULL, "%s is left to json-c", what);
}

static void
test_simple(void)
{
	static const struct {
		const char *s;
		size_t n;
		const char *why;
	} no[] = {
		/* escapes in the path: json-c decodes them */
		{ L("{\"path\":\"caf\\u00e9.parquet\"}"), "a \\u escape in the "
		    "path" },
		{ L("{\"path\":\"a\\/b.parquet\"}"),
		    "an escaped / in the path" },
		{ L("{\"path\":\"\\ud83d\\ude00.parquet\"}"),
		    "a surrogate pair "
		    "in the path" },
		{ L("{\"path\":\"a\\\"b\"}"), "an escaped quote in the path" },
		{ L("{\"path\":\"a\\\\b\"}"),
		    "an escaped backslash in the path" },
		{ L("{\"path\":\"a\\tb\"}"), "an escaped tab in the path" },
		/* keys */
		{ L("{\"p\\u0061th\":\"a\"}"), "an escaped path key" },
		{ L("{\"path\":\"a\",\"p\\u0061th\":\"b\"}"), "a second path "
		    "key spelled with an escape" },
		{ L("{\"path\":\"a\",\"path\":\"b\"}"), "a duplicate path" },
		{ L("{\"path\":\"a\",\"size_bytes\":1,\"path\":\"a\"}"),
		    "a duplicate path with the same value" },
		{ L("{\"path\":\"a\",\"x\":1,\"x\":2}"),
		    "a duplicate other key" },
		{ L("{\"path\":\"a\",\"\":1,\"\":2}"),
		    "a duplicate empty key" },
		{ L("{\"x\":\"path\"}"), "path only as a value" },
		{ L("{\"x\":{\"path\":\"b\"},\"path\":\"a\"}"),
		    "a nested object "
		    "with a path" },
		{ L("{\"path\":\"a\",\"x\":{\"path\":\"b\"}}"),
		    "a nested object "
		    "with a path, last" },
		{ L("{\"path\":\"a\",\"x\":[\"path\",\"b\"]}"),
		    "an array value" },
		{ L("{\"files\":[],\"path\":\"a\"}"), "a files key" },
		{ L("{\"path\":\"a\",\"enabled\":true}"), "an enabled key" },
		{ L("{}"), "an empty object" },
		/* the checks of arc_entry_from_json */
		{ L("{\"path\":null}"), "a null path" },
		{ L("{\"path\":5}"), "a number path" },
		{ L("{\"path\":\"\"}"), "an empty path" },
		{ L("{\"path\":\"db/../x\"}"), "a '..' path" },
		{ L("{\"path\":\"/x\"}"), "an absolute path" },
		{ L("{\"path\":\"a:b\"}"), "a ':' in the path" },
		{ L("{\"path\":\"a\",\"created_at\":\"yesterday\"}"),
		    "a bad created_at" },
		{ L("{\"path\":\"a\",\"created_at\":"
		    "\"2026-04-11T14:00:00\\u005a\"}"),
		    "an escape in created_at" },
		{ L("{\"path\":\"a\",\"created_at\":5}"),
		    "a number created_at" },
		{ L("{\"path\":\"a\",\"size_bytes\":\"10\"}"),
		    "size as a string" },
		{ L("{\"path\":\"a\",\"size_bytes\":-1}"), "a negative size" },
		{ L("{\"path\":\"a\",\"size_bytes\":-0}"), "a size of -0" },
		{ L("{\"path\":\"a\",\"size_bytes\":1.5}"),
		    "a fractional size" },
		{ L("{\"path\":\"a\",\"size_bytes\":1e3}"),
		    "an exponent size" },
		{ L("{\"path\":\"a\",\"size_bytes\":true}"), "a boolean size" },
		{ L("{\"path\":\"a\",\"lsn\":007}"),
		    "an lsn with leading zeros" },
		{ L("{\"path\":\"a\",\"lsn\":18446744073709551615}"),
		    "an lsn of 20 digits" },
		{ L("{\"path\":\"a\",\"lsn\":1234567890123456789}"),
		    "an lsn of 19 digits" },
		{ L("{\"path\":\"a\",\"origin_node_id\":5}"),
		    "a number origin" },
		{ L("{\"path\":\"a\",\"database\":false}"),
		    "a boolean database" },
		{ L("{\"path\":\"a\",\"x\":1.5}"), "a fraction elsewhere" },
		{ L("{\"path\":\"a\",\"x\":00}"), "00 elsewhere" },
		{ L("{\"path\":\"a\",\"x\":-}"), "a lone minus" },
		{ L("{\"path\":\"a\",\"x\":True}"), "True" },
		{ L("{\"path\":\"a\",\"x\":nul}"), "nul" },
		{ L("{\"path\":\"a\",\"x\":nullx}"), "nullx" },
		{ L("{\"path\":\"a\",\"x\":NaN}"), "NaN" },
		{ L("{\"path\":\"a\",\"x\":\"\\u0041\"}"), "a \\u escape "
		    "elsewhere" },
		{ L("{\"path\":\"a\",\"x\":\"\\q\"}"), "an invalid escape" },
		{ L("{\"path\":\"a\",\"x\":\"a\x01b\"}"),
		    "a raw control byte" },
		{ L("{\"path\":\"a\",\"x\":\"a\nb\"}"), "a raw newline in a "
		    "string" },
		/* syntax */
		{ L("{\"path\":\"a\",}"), "a trailing comma" },
		{ L("{\"path\":\"a\"} "), "a space after the object" },
		{ L("{\"path\":\"a\"}{\"path\":\"b\"}"), "two objects" },
		{ L("{\"path\":\"a\""), "no closing brace" },
		{ L("{\"path\":\"a}"), "an open string" },
		{ L("{\"path\" \"a\"}"), "no colon" },
		{ L("{\"path\":\"a\" \"x\":1}"), "no comma" },
		{ L("{'path':'a'}"), "single quotes" },
		{ L("{path:\"a\"}"), "an unquoted key" },
		{ L("{\"path\":\"a\",\"x\":1\f}"), "a form feed" },
		{ L(" {\"path\":\"a\"}"), "a space before the object" },
		{ L("null"), "null" },
		{ L(""), "nothing" },
	};
	size_t i;

	expect_simple(L(E("db/m/a.parquet")), "db/m/a.parquet", 1,
	    "a full FileEntry");
	expect_simple(L("{\"path\":\"a\"}"), "a", 1, "a path alone");
	expect_simple(L("{ \"path\" : \"a b\" ,\t\"x\" : 1 }"), "a b", 1,
	    "white space around everything");
	expect_simple(L("{\n  \"path\": \"a\",\r\n  \"x\": 1\n}"), "a", 0,
	    "a pretty-printed entry (not one line)");
	expect_simple(L("{\"x\":\"path\",\"path\":\"a\"}"), "a", 1,
	    "path as the value of another key first");
	expect_simple(L("{\"path\":\"a\",\"x\":\"path\"}"), "a", 1,
	    "path as the value of another key last");
	expect_simple(L("{\"x\":\"\\\",\\\"path\\\":\\\"b\",\"path\":\"a\"}"),
	    "a", 1, "a decoy path inside an escaped string");
	expect_simple(L("{\"sha256\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\","
	    "\"path\":\"a\"}"), "a", 1, "every two-byte escape elsewhere");
	expect_simple(L("{\"path\":\"caf\xc3\xa9 \x7f\xff.parquet\"}"),
	    "caf\xc3\xa9 \x7f\xff.parquet", 1, "raw UTF-8 and high bytes");
	expect_simple(L("{\"path\":\"a\",\"created_at\":null,\"size_bytes\":"
	    "null,\"lsn\":null,\"origin_node_id\":null,\"database\":null,"
	    "\"measurement\":null}"), "a", 1, "null members");
	expect_simple(L("{\"path\":\"a\",\"size_bytes\":0,\"lsn\":"
	    "999999999999999999,\"x\":-3,\"y\":true,\"z\":false,\"\":0}"),
	    "a", 1, "counts, a signed number, booleans, an empty key");
	expect_simple(L("{\"path\":\"a\",\"created_at\":"
	    "\"2026-04-11T16:00:00.123+02:00\"}"), "a", 1,
	    "created_at with an offset");
	expect_simple(L("{\"path\":\"a\",\"origin_node_id\":\"n\\\"1\"}"),
	    "a", 1, "an escape in origin_node_id");
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		expect_not_simple(no[i].s, no[i].n, no[i].why);
}

/* What arc_json_entries_raw hands to each callback. */
struct rawgot {
	struct got	 g;		/* entries parsed */
	int		 offered;	/* simple entries offered */
	int		 take;		/* 1: take them; 0: have them parsed */
	int		 stop;		/* return -1 on offer number stop */
	int		 notoneline;
	uintmax_t	 lines[MAXKEEP];
	char		*paths[MAXKEEP];
};

static int
rawtake(void *arg, const struct arc_json_raw *raw, uintmax_t line)
{
	struct rawgot *rg = arg;

	if (rg->offered < MAXKEEP) {
		rg->lines[rg->offered] = line;
		rg->paths[rg->offered] = xstrndup(raw->path, raw->pathlen);
	}
	if (!raw->oneline)
		rg->notoneline++;
	rg->offered++;
	if (rg->stop && rg->offered == rg->stop)
		return -1;
	return rg->take;
}

static int
rawcollect(void *arg, struct arc_entry *e, uintmax_t line)
{
	struct rawgot *rg = arg;

	return collect(&rg->g, e, line);
}

static void
rawgot_free(struct rawgot *rg)
{
	int i;

	got_free(&rg->g);
	for (i = 0; i < rg->offered && i < MAXKEEP; i++)
		free(rg->paths[i]);
	memset(rg, 0, sizeof(*rg));
}

static int
run_raw(const char *s, size_t n, struct rawgot *rg)
{
	char *buf;
	FILE *fp;
	int r;

	if ((buf = malloc(n ? n : 1)) == NULL)
		abort();
	memcpy(buf, s, n);
	if ((fp = fmemopen(buf, n, "r")) == NULL)
		abort();
	unit_capture();
	r = arc_json_entries_raw(fp, "manifest", rawtake, rawcollect, rg);
	snprintf(rg->g.msg, sizeof(rg->g.msg), "%s", unit_captured());
	fclose(fp);
	free(buf);
	return r;
}

/* A deterministic generator for the mutations below (xorshift64). */
static uint64_t
rnd(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/*
 * The property the fast path rests on, over mutated entries: whatever
 * arc_json_simple calls simple, the full pass reads as one entry with
 * the same path.  And arc_json_entries_raw changes nothing else: on
 * every input its callbacks see the entries the full pass sees, and it
 * fails where the full pass fails, with the same message.
 */
static void
test_simple_mutations(void)
{
	static const char *const seeds[] = {
		E("db/m/a.parquet") "\n",
		"{\"path\":\"a\",\"x\":\"\\\"path\\\":\\\"b\",\"lsn\":7}\n",
		"{ \"x\" : [1, {\"path\":\"b\"}] , \"path\" : \"a\" }\n",
		"{\"path\":\"a\",\"created_at\":null,\"size_bytes\":10,"
		    "\"y\":true,\"z\":-1}\n{\"path\":\"b\"}\n",
		"{\"files\":[{\"path\":\"a\",\"lsn\":1},{\"path\":\"b\"}],"
		    "\"total\":2}\n",
	};
#define NSEEDS	(sizeof(seeds) / sizeof(seeds[0]))
	static const char bytes[] = "\"\\{}[],: 0019-.eEnulltruefalse"
	    "pathlsn/u\n\t\x01\x80";
	struct arc_buf b = { 0 };
	struct arc_json_raw raw;
	struct got g = { 0 };
	struct rawgot rg;
	uint64_t x = 88172645463325252ULL;
	size_t i, k, pos, nsimple = 0, wrong = 0, differ = 0, tried = 0;
	int r, r0, r1, m, n, ok;

	memset(&rg, 0, sizeof(rg));
	for (i = 0; i < 20000; i++) {
		b.len = 0;
		arc_buf_adds(&b, seeds[i % NSEEDS]);
		for (m = 0; m < 1 + (int)(rnd(&x) % 3); m++) {
			pos = (size_t)(rnd(&x) % (b.len + 1));
			k = (size_t)(rnd(&x) % (sizeof(bytes) - 1));
			switch (rnd(&x) % 3) {
			case 0:	/* replace */
				if (pos < b.len)
					b.s[pos] = bytes[k];
				break;
			case 1:	/* delete */
				if (pos < b.len) {
					memmove(b.s + pos, b.s + pos + 1,
					    b.len - pos - 1);
					b.len--;
				}
				break;
			default:	/* insert */
				arc_buf_addc(&b, 0);
				memmove(b.s + pos + 1, b.s + pos,
				    b.len - 1 - pos);
				b.s[pos] = bytes[k];
				break;
			}
		}
		tried++;
		r = run(b.s, b.len, &g);
		n = g.n;

		/* the first line alone, without its newline */
		for (k = 0; k < b.len && b.s[k] != '\n'; k++)
			;
		if (arc_json_simple(b.s, k, &raw)) {
			nsimple++;
			/* what follows may fail the pass, not this one */
			if (g.n < 1 || g.e[0].line != 1 ||
			    g.e[0].pathlen != raw.pathlen ||
			    memcmp(g.e[0].path, raw.path, raw.pathlen) != 0)
				if (wrong++ < 3)
					unit_diag("simple but read as rc %d, "
					    "%d entries: %s", r, g.n,
					    unit_esc(b.s, b.len));
		}

		rg.take = 0;
		r0 = run_raw(b.s, b.len, &rg);
		ok = r0 == r && rg.g.n == n &&
		    strcmp(rg.g.msg, g.msg) == 0;
		rawgot_free(&rg);
		rg.take = 1;
		r1 = run_raw(b.s, b.len, &rg);
		ok = ok && r1 == r && rg.offered + rg.g.n == n &&
		    strcmp(rg.g.msg, g.msg) == 0;
		rawgot_free(&rg);
		if (!ok && differ++ < 3)
			unit_diag("rc %d/%d/%d for %s", r, r0, r1,
			    unit_esc(b.s, b.len));
		got_free(&g);
	}
	CHECK(wrong == 0 && nsimple > 100, "of %zu mutated entries, the %zu "
	    "simple ones are read by json-c with the same path", tried,
	    nsimple);
	CHECK_INT(differ, 0, "on %zu mutated inputs, the raw pass and the "
	    "full pass agree (entries, status, message)", tried);
	arc_buf_free(&b);
#undef NSEEDS
}

/* Run the dump's pass (arc_json_lite) over s[0..n). */
static int
run_lite(const char *s, size_t n, struct got *g)
{
	char *buf;
	FILE *fp;
	int r;

	if ((buf = malloc(n ? n : 1)) == NULL)
		abort();
	memcpy(buf, s, n);
	if ((fp = fmemopen(buf, n, "r")) == NULL)
		abort();
	unit_capture();
	r = arc_json_entries_raw(fp, "manifest", arc_json_lite, collect, g);
	snprintf(g->msg, sizeof(g->msg), "%s", unit_captured());
	fclose(fp);
	free(buf);
	return r;
}

/* Whether two passes saw the same entries, field for field. */
static int
same_entries(const struct got *a, const struct got *b)
{
	const struct kept *x, *y;
	int i;

	if (a->n != b->n || strcmp(a->msg, b->msg) != 0)
		return 0;
	for (i = 0; i < a->n && i < MAXKEEP; i++) {
		x = &a->e[i];
		y = &b->e[i];
		if (x->pathlen != y->pathlen ||
		    memcmp(x->path, y->path, x->pathlen) != 0 ||
		    x->created_at != y->created_at || x->size != y->size ||
		    strcmp(x->origin, y->origin) != 0 ||
		    strcmp(x->rev, y->rev) != 0 ||
		    strcmp(x->database, y->database) != 0 ||
		    strcmp(x->measurement, y->measurement) != 0 ||
		    x->line != y->line)
			return 0;
	}
	return 1;
}

/* Random bytes of a JSON string: escapes, UTF-8 or not, control bytes. */
static void
add_rnd_chars(struct arc_buf *b, uint64_t *x)
{
	static const char *const esc[] = { "\\\"", "\\\\", "\\/", "\\b",
	    "\\f", "\\n", "\\r", "\\t", "\\u0041", "\\u00e9" };
	size_t i, n;
	unsigned c;

	n = (size_t)(rnd(x) % 24);
	for (i = 0; i < n; i++) {
		switch (rnd(x) % 40) {
		case 0:
		case 1:
			arc_buf_adds(b, esc[rnd(x) % 10]);
			break;
		case 2:	/* a byte from the upper half, valid UTF-8 or not */
		case 3:
			arc_buf_addc(b, (char)(0x80 + rnd(x) % 0x80));
			break;
		case 4:
			arc_buf_addc(b, '/');
			break;
		case 5:	/* now and then a raw control byte */
			c = (unsigned)(rnd(x) % 64);
			arc_buf_addc(b, (char)(c < 0x20 && c != '\n' ?
			    c : 'z'));
			break;
		default:
			arc_buf_addc(b, (char)('a' + rnd(x) % 26));
			break;
		}
	}
}

/* A random JSON string of the kinds an entry holds, with its quotes. */
static void
add_rnd_string(struct arc_buf *b, uint64_t *x, int kind)
{
	static const char *const times[] = { "2026-04-11T14:00:00Z",
	    "2026-04-11T14:00:00.123456789Z", "2026-04-11T16:00:00+02:00",
	    "2026-04-11t14:00:00z", "2026-02-30T00:00:00Z", "yesterday",
	    "0001-01-01T00:00:00Z", "9999-12-31T23:59:59.999Z",
	    "2026-04-11T14:00:00", "2026-04-11 14:00:00Z" };

	arc_buf_addc(b, '"');
	if (kind == 't')
		arc_buf_adds(b, times[rnd(x) % 10]);
	else
		add_rnd_chars(b, x);
	arc_buf_addc(b, '"');
}

/* A random member value: mostly what an entry holds, sometimes not. */
static void
add_rnd_value(struct arc_buf *b, uint64_t *x, int kind)
{
	static const char *const nums[] = { "0", "7", "-1", "01", "1.5",
	    "1e3", "123456789012345678", "1234567890123456789",
	    "9223372036854775807", "9223372036854775808",
	    "18446744073709551616", "-0" };

	switch (rnd(x) % 30) {
	case 0:
		arc_buf_adds(b, "null");
		return;
	case 1:
		arc_buf_adds(b, nums[rnd(x) % 12]);
		return;
	case 2:
		add_rnd_string(b, x, 's');
		return;
	case 3:
		arc_buf_adds(b, rnd(x) % 2 ? "true" : "[1,2]");
		return;
	}
	if (kind == 'n') {
		arc_buf_printf(b, "%llu", (unsigned long long)(rnd(x) %
		    (rnd(x) % 2 ? 1000 : UINT64_C(1000000000000000000))));
	} else
		add_rnd_string(b, x, kind);
}

/*
 * The dump's pass builds entries without json-c from the entries
 * arc_json_simple calls simple.  Over many random entries (members in
 * any order, strings with every escape, numbers of every length, nulls,
 * odd types, and the mutations of a byte here and there), it must read
 * exactly what the full pass reads: the same entries, field for field,
 * at the same lines, and fail where it fails with the same message.
 */
static void
test_lite(void)
{
	static const struct {
		const char	*key;
		int		 kind;	/* p path, t time, n count, s string */
	} members[] = {
		{ "path", 'p' }, { "created_at", 't' }, { "size_bytes", 'n' },
		{ "lsn", 'n' }, { "origin_node_id", 's' }, { "database", 's' },
		{ "measurement", 's' }, { "sha256", 's' }, { "tier", 's' },
		{ "x", 'n' },
	};
#define NMEMBERS	(sizeof(members) / sizeof(members[0]))
	struct arc_buf b = { 0 };
	struct got full = { 0 }, lite = { 0 };
	struct arc_json_raw raw;
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	size_t i, k, m, order[NMEMBERS], t, tried = 0, simple = 0,
	    entries = 0, differ = 0;
	int r0, r1, nlines, l;

	for (i = 0; i < 30000; i++) {
		b.len = 0;
		nlines = 1 + (int)(rnd(&x) % 3);
		for (l = 0; l < nlines; l++) {
			for (k = 0; k < NMEMBERS; k++)
				order[k] = k;
			for (k = NMEMBERS - 1; k > 0; k--) {
				m = (size_t)(rnd(&x) % (k + 1));
				t = order[k];
				order[k] = order[m];
				order[m] = t;
			}
			arc_buf_addc(&b, '{');
			for (k = 0; k < NMEMBERS; k++) {
				m = order[k];
				/* the path is always there, others often */
				if (members[m].kind != 'p' && rnd(&x) % 3 == 0)
					continue;
				if (b.s[b.len - 1] != '{')
					arc_buf_adds(&b, rnd(&x) % 8 ? "," :
					    " , ");
				arc_buf_printf(&b, "\"%s\":", members[m].key);
				if (members[m].kind == 'p' && rnd(&x) % 8) {
					arc_buf_printf(&b, "\"db/m/%llu",
					    (unsigned long long)(rnd(&x) %
					    1000));
					add_rnd_chars(&b, &x);
					arc_buf_addc(&b, '"');
				} else
					add_rnd_value(&b, &x, members[m].kind);
			}
			arc_buf_adds(&b, "}\n");
		}
		/* a stray byte now and then */
		if (rnd(&x) % 10 == 0 && b.len > 0)
			b.s[rnd(&x) % b.len] = "\"\\{},: 0-n\n"[rnd(&x) % 11];
		tried++;
		for (k = 0; k < b.len && b.s[k] != '\n'; k++)
			;
		simple += arc_json_simple(b.s, k, &raw);
		r0 = run(b.s, b.len, &full);
		r1 = run_lite(b.s, b.len, &lite);
		entries += (size_t)full.n;
		if ((r0 != r1 || !same_entries(&full, &lite)) &&
		    differ++ < 3)
			unit_diag("full rc %d, %d entries; lite rc %d, %d "
			    "entries: %s", r0, full.n, r1, lite.n,
			    unit_esc(b.s, b.len));
		got_free(&full);
		got_free(&lite);
	}
	CHECK(simple > 1000 && entries > 10000, "random entries: %zu of %zu "
	    "first lines simple, %zu entries read", simple, tried, entries);
	CHECK_INT(differ, 0, "on %zu random inputs the dump's pass without "
	    "json-c reads exactly the entries, lines and messages of the "
	    "full pass", tried);
	arc_buf_free(&b);
#undef NMEMBERS
}

/* The dump's pass over an Arc body and NDJSON, and its escapes decoded. */
static void
test_lite_fields(void)
{
	static const char nd[] =
	    "{\"path\":\"db/m/a.parquet\",\"origin_node_id\":\"n\\\"1\\\\\\/"
	    "\\t\",\"database\":\"d\\nb\",\"measurement\":null,"
	    "\"size_bytes\":0,\"lsn\":18446744073,\"created_at\":"
	    "\"2026-04-11T16:00:00.5+02:00\"}\n"
	    "{\"files\":[" E("db/m/b.parquet") "],\"total\":1}\n"
	    "{\"path\":\"db/m/c\\u0041.parquet\"}\n";
	struct got g = { 0 };

	CHECK_INT(run_lite(L(nd), &g), 0, "the dump's pass reads NDJSON and "
	    "bodies");
	CHECK_INT(g.n, 3, "three entries");
	CHECK_STR(g.e[0].origin, "n\"1\\/\t", "escapes in a member decoded");
	CHECK_STR(g.e[0].database, "d\nb", "a newline escape decoded");
	CHECK_STR(g.e[0].measurement, "", "null is an absent member");
	CHECK_INT(g.e[0].size, 0, "size 0");
	CHECK_STR(g.e[0].rev, "18446744073", "lsn as the rev");
	CHECK_INT(g.e[0].created_at, T0, "created_at in UTC");
	CHECK_STR(g.e[1].path, "db/m/b.parquet", "an entry of a body");
	CHECK_INT(g.e[1].line, 2, "on its line");
	CHECK_STR(g.e[2].path, "db/m/cA.parquet", "a \\u path goes to json-c");
	got_free(&g);
}

static void
test_raw(void)
{
	static const char nd[] = E("db/m/a.parquet") "\n"
	    "{\"path\":\"caf\\u00e9.parquet\"}\n"
	    "  {\"path\":\"b\", \"x\":{\"path\":\"c\"}}  \r\n"
	    "\n"
	    "{\"path\":\"d\"}\t\r\n"
	    "{\"path\":\"e\"}{\"path\":\"f\"}\n"
	    "{\"path\":\"g\"}";
	static const char body[] = "{\"files\":[" E("h") ","
	    "{\"path\":\"i\\/j\"},"
	    "{\"path\":\"k\"}],\"total\":3}\n"
	    "{\"files\":[\n  {\"path\":\n    \"l\"}\n]}\n";
	struct rawgot rg;
	struct arc_buf b = { 0 };
	size_t pad, wrong;
	int r;

	memset(&rg, 0, sizeof(rg));
	rg.take = 1;
	r = run_raw(nd, sizeof(nd) - 1, &rg);
	CHECK(r == 0 && rg.offered == 5 && rg.g.n == 2,
	    "NDJSON: simple entries are offered, the others parsed");
	if (r == 0 && rg.offered == 5 && rg.g.n == 2) {
		CHECK(strcmp(rg.paths[0], "db/m/a.parquet") == 0 &&
		    strcmp(rg.paths[1], "d") == 0 &&
		    strcmp(rg.paths[2], "e") == 0 &&
		    strcmp(rg.paths[3], "f") == 0 &&
		    strcmp(rg.paths[4], "g") == 0,
		    "the offered paths, in order");
		CHECK(rg.lines[0] == 1 && rg.lines[1] == 5 &&
		    rg.lines[2] == 6 && rg.lines[3] == 6 && rg.lines[4] == 7,
		    "the offered entries carry their line numbers");
		CHECK(strcmp(rg.g.e[0].path, "caf\xc3\xa9.parquet") == 0 &&
		    rg.g.e[0].line == 2 && strcmp(rg.g.e[1].path, "b") == 0 &&
		    rg.g.e[1].line == 3,
		    "an escaped path and a nested path key are parsed");
	} else
		unit_diag("rc %d, %d offered, %d parsed; said %s", r,
		    rg.offered, rg.g.n, unit_esc(rg.g.msg, strlen(rg.g.msg)));
	rawgot_free(&rg);

	/* declined: every entry reaches fn exactly once */
	rg.take = 0;
	r = run_raw(nd, sizeof(nd) - 1, &rg);
	CHECK(r == 0 && rg.offered == 5 && rg.g.n == 7,
	    "declined entries are parsed once each");
	if (r == 0 && rg.g.n == 7)
		CHECK(strcmp(rg.g.e[0].path, "db/m/a.parquet") == 0 &&
		    rg.g.e[0].line == 1 && strcmp(rg.g.e[6].path, "g") == 0 &&
		    rg.g.e[6].line == 7 && strcmp(rg.g.e[0].rev, "7") == 0,
		    "declined entries are parsed in order, on their lines");
	rawgot_free(&rg);

	rg.take = 1;
	rg.stop = 2;
	r = run_raw(nd, sizeof(nd) - 1, &rg);
	CHECK(r == -1 && rg.offered == 2 && rg.g.n == 2,
	    "a raw callback returning -1 stops the pass");
	rawgot_free(&rg);

	/* bodies: elements are offered; one spread over lines says so */
	rg.take = 1;
	r = run_raw(body, sizeof(body) - 1, &rg);
	CHECK(r == 0 && rg.offered == 3 && rg.g.n == 1 &&
	    rg.notoneline == 1, "body elements are offered, and one on "
	    "several lines is not one line");
	if (r != 0 || rg.offered != 3 || rg.g.n != 1 || rg.notoneline != 1)
		unit_diag("rc %d, %d offered (%d not one line), %d parsed; "
		    "said %s", r, rg.offered, rg.notoneline, rg.g.n,
		    unit_esc(rg.g.msg, strlen(rg.g.msg)));
	if (r == 0 && rg.offered == 3 && rg.g.n == 1)
		CHECK(strcmp(rg.paths[0], "h") == 0 &&
		    strcmp(rg.paths[1], "k") == 0 &&
		    strcmp(rg.paths[2], "l") == 0 &&
		    strcmp(rg.g.e[0].path, "i/j") == 0 && rg.lines[2] == 3,
		    "the elements' paths and lines");
	rawgot_free(&rg);
	rg.take = 1;
	r = run_raw(L("{\"files\":[" E("h") "],\"total\":2}"), &rg);
	CHECK(r == -1, "a wrong total is refused with elements offered");
	rawgot_free(&rg);

	/* a malformed entry after simple ones still fails the pass */
	rg.take = 1;
	r = run_raw(L(E("a") "\n" E("b") "\n{\"path\":\"x/../y\"}\n" E("c")),
	    &rg);
	CHECK(r == -1 && rg.offered == 2 && strstr(rg.g.msg, "at line 3"),
	    "a bad path among simple entries fails the pass at its line");
	rawgot_free(&rg);
	rg.take = 1;
	r = run_raw(L(E("a") "\n{\"path\":\"b\",\"created_at\":\"yesterday\"}"
	    "\n"), &rg);
	CHECK(r == -1 && strstr(rg.g.msg, "created_at"),
	    "a bad created_at among simple entries fails the pass");
	rawgot_free(&rg);
	rg.take = 1;
	r = run_raw(L(E("a") "\n{\"path\":\"b\",\"path\":\"c\"}\n"), &rg);
	CHECK(r == -1 && strstr(rg.g.msg, "duplicate"),
	    "a duplicate key among simple entries fails the pass");
	rawgot_free(&rg);
	rg.take = 1;
	r = run_raw(L(E("a") "\n{\"path\":\"b\",}\n"), &rg);
	CHECK(r == -1 && strstr(rg.g.msg, "at line 2"),
	    "invalid JSON among simple entries fails the pass");
	rawgot_free(&rg);
	rg.take = 1;
	r = run_raw(L(E("a") "\n{\"path\":\"b\""), &rg);
	CHECK(r == -1 && strstr(rg.g.msg, "truncated"),
	    "a manifest cut in its last entry fails the pass");
	rawgot_free(&rg);

	/* an entry across a block boundary, offered whole, line kept */
	wrong = 0;
	for (pad = 65536 - 40; pad <= 65536 + 2; pad++) {
		b.len = 0;
		while (b.len < pad)
			arc_buf_addc(&b, '\n');
		arc_buf_adds(&b, "{\"path\":\"a\\\"b\"}\n{\"path\":"
		    "\"db/q.parquet\",\"lsn\":5}\n");
		rg.take = 1;
		r = run_raw(b.s, b.len, &rg);
		if (r != 0 || rg.offered != 1 || rg.g.n != 1 ||
		    strcmp(rg.paths[0], "db/q.parquet") != 0 ||
		    rg.lines[0] != pad + 2 ||
		    strcmp(rg.g.e[0].path, "a\"b") != 0 ||
		    rg.g.e[0].line != pad + 1)
			if (wrong++ == 0)
				unit_diag("with %zu newlines first: rc %d",
				    pad, r);
		rawgot_free(&rg);
	}
	CHECK_INT(wrong, 0, "entries across a block boundary are offered or "
	    "parsed whole, on their lines");
	arc_buf_free(&b);
}

/*
 * The file manifest (mfile.c) over the fast path: look-ups, a fetch and
 * the rewrite of a delete, on a manifest that mixes simple entries with
 * every kind the fast path leaves to json-c; and a malformed manifest,
 * which must fail them all.
 */
struct mf {
	char	 dir[PATH_MAX - 64];
	char	 path[PATH_MAX - 32];
	char	 lock[PATH_MAX];
};

static int
mf_init(struct mf *f)
{
	const char *tmp;

	if ((tmp = getenv("TMPDIR")) == NULL || *tmp == '\0')
		tmp = "/tmp";
	snprintf(f->dir, sizeof(f->dir), "%s/arc-unit.XXXXXX", tmp);
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/m.ndjson", f->dir);
	snprintf(f->lock, sizeof(f->lock), "%s.lock", f->path);
	return 0;
}

static void
mf_done(struct mf *f)
{
	unlink(f->path);
	unlink(f->lock);
	rmdir(f->dir);
}

static void
mf_write(struct mf *f, const char *s, size_t n)
{
	FILE *fp;

	if ((fp = fopen(f->path, "w")) == NULL ||
	    fwrite(s, 1, n, fp) != n || fclose(fp) == EOF)
		abort();
}

static void
mf_read(struct mf *f, struct arc_buf *b)
{
	char buf[4096];
	FILE *fp;
	size_t n;

	b->len = 0;
	if ((fp = fopen(f->path, "r")) == NULL)
		abort();
	while ((n = fread(buf, 1, sizeof(buf), fp)) > 0)
		arc_buf_add(b, buf, n);
	fclose(fp);
	arc_buf_str(b);
}

static void
mf_items(struct arc_mitem *mi, const char *const *paths, size_t n)
{
	size_t i;

	memset(mi, 0, n * sizeof(*mi));
	for (i = 0; i < n; i++) {
		mi[i].path = paths[i];
		mi[i].pathlen = strlen(paths[i]);
		mi[i].rev = "-";
		mi[i].revlen = 1;
	}
}

static void
test_mfile(void)
{
	static const char manifest[] =
	    E("db/m/a.parquet") "\n"
	    "{\"path\":\"caf\\u00e9.parquet\",\"lsn\":3}\n"
	    "{\"path\":\"db/m/b.parquet\","
	    "\"x\":{\"path\":\"db/m/n.parquet\"}}\n"
	    "{\"x\":\"db/m/v.parquet\",\"path\":\"db/m/c.parquet\",\"lsn\":4}\n"
	    "{\n  \"path\": \"db/m/d.parquet\",\n  \"lsn\": 9\n}\n"
	    "{\"files\":[{\"path\":\"db/m/e.parquet\"},"
	    "{\"path\":\"db/m/f.parquet\",\"lsn\":2}],\"total\":2}\n"
	    "{\"path\":\"db/m/g.parquet\",  \"sha256\":\"a\\\"b\"}\r\n";
	static const char *const look[] = {
		"db/m/a.parquet", "caf\xc3\xa9.parquet", "db/m/n.parquet",
		"db/m/v.parquet", "db/m/c.parquet", "db/m/d.parquet",
		"db/m/f.parquet", "db/m/zzz.parquet", "db/m/g.parquet",
		"caf\\u00e9.parquet",
	};
	static const int want[] = {
		ARC_PRESENT, ARC_PRESENT, ARC_ABSENT, ARC_ABSENT, ARC_PRESENT,
		ARC_PRESENT, ARC_PRESENT, ARC_ABSENT, ARC_PRESENT, ARC_ABSENT,
	};
	static const char *const del[] = {
		"db/m/c.parquet", "db/m/f.parquet", "db/m/a.parquet",
		"db/m/zzz.parquet", "db/m/n.parquet", "caf\xc3\xa9.parquet",
	};
	static const char *const left[] = {
		"db/m/a.parquet", "db/m/b.parquet", "db/m/d.parquet",
		"db/m/e.parquet", "db/m/g.parquet",
	};
	static const char bad[] = E("db/m/a.parquet") "\n"
	    E("db/m/b.parquet") "\n"
	    "{\"path\":\"db/m/c.parquet\",\"created_at\":\"yesterday\"}\n"
	    E("db/m/d.parquet") "\n";
	struct arc_mitem mi[16];
	struct arc_manifest *m;
	struct arc_buf b = { 0 }, eb = { 0 };
	struct got g = { 0 };
	struct stat sb;
	size_t i, lines;
	int r, wrong;
	struct mf f;
	FILE *fp;

	if (mf_init(&f) == -1) {
		CHECK(0, "a temporary directory for the manifest tests");
		return;
	}
	mf_write(&f, manifest, sizeof(manifest) - 1);
	chmod(f.path, 0640);
	if ((m = arc_manifest_open(f.path)) == NULL)
		abort();

	/* look-ups: decoded paths, never a nested key or a value */
	mf_items(mi, look, 10);
	r = arc_manifest_lookup(m, mi, 10);
	for (i = 0, wrong = 0; i < 10; i++)
		if (mi[i].result != want[i]) {
			if (wrong++ == 0)
				unit_diag("%s: got %d, want %d", ESC(look[i]),
				    mi[i].result, want[i]);
		}
	CHECK(r == 0 && wrong == 0, "a look-up finds the entries by their "
	    "decoded paths, not by nested keys or other values");

	/* a fetch gives json-c's serialisation, as before */
	mf_items(mi, look, 2);
	r = arc_manifest_fetch(m, mi, 2);
	CHECK(r == 0 && mi[0].json != NULL && mi[1].json != NULL &&
	    strcmp(mi[0].json, E("db/m/a.parquet")) == 0 &&
	    strcmp(mi[1].json, "{\"path\":\"caf\xc3\xa9.parquet\","
	    "\"lsn\":3}") == 0, "a fetch gives each entry's JSON");
	free(mi[0].json);
	free(mi[1].json);

	/* a delete: rev compared, the rest kept, one entry a line */
	mf_items(mi, del, 6);
	mi[0].rev = "4";
	mi[0].revlen = 1;
	mi[2].rev = "8";	/* a.parquet has lsn 7 */
	mi[2].revlen = 1;
	mi[1].rev = "2";
	mi[1].revlen = 1;
	mi[5].rev = "3";
	mi[5].revlen = 1;
	r = arc_manifest_remove(m, mi, 6, &eb);
	CHECK(r == 0 && mi[0].result == ARC_M_DELETED &&
	    mi[1].result == ARC_M_DELETED && mi[2].result == ARC_M_CHANGED &&
	    mi[3].result == ARC_M_GONE && mi[4].result == ARC_M_GONE &&
	    mi[5].result == ARC_M_DELETED, "a delete removes the entries "
	    "whose rev matches, by decoded path");
	if (r != 0)
		unit_diag("said %s", ESC(arc_buf_str(&eb)));
	mf_read(&f, &b);
	for (i = 0, lines = 0; i < b.len; i++)
		if (b.s[i] == '\n')
			lines++;
	if ((fp = fmemopen(b.s, b.len, "r")) == NULL)
		abort();
	r = arc_json_entries(fp, "rewritten", collect, &g);
	fclose(fp);
	wrong = r != 0 || g.n != 5 || lines != 5;
	for (i = 0; !wrong && i < 5; i++)
		if (strcmp(g.e[i].path, left[i]) != 0 ||
		    g.e[i].line != i + 1)
			wrong = 1;
	CHECK(!wrong, "the rewritten manifest is NDJSON: the 5 entries left, "
	    "in order, one a line");
	if (wrong)
		unit_diag("rc %d, %d entries, %zu lines: %s", r, g.n, lines,
		    ESC(b.s));
	got_free(&g);
	CHECK(b.len > sizeof(E("db/m/a.parquet")) &&
	    memcmp(b.s, E("db/m/a.parquet") "\n",
	    sizeof(E("db/m/a.parquet"))) == 0 &&
	    strstr(b.s, "\n{\"path\":\"db/m/g.parquet\",  \"sha256\":"
	    "\"a\\\"b\"}\n") != NULL,
	    "simple entries are kept byte for byte, without the CR");
	CHECK(strstr(b.s, "\n{\"path\":\"db/m/d.parquet\",\"lsn\":9}\n") !=
	    NULL, "a pretty-printed entry is written on one line");
	CHECK(stat(f.path, &sb) == 0 && (sb.st_mode & 07777) == 0640,
	    "the rewritten manifest keeps its mode");

	/* a malformed entry fails look-ups and deletes, whatever the batch */
	mf_write(&f, bad, sizeof(bad) - 1);
	mf_items(mi, look, 2);
	unit_capture();
	r = arc_manifest_lookup(m, mi, 2);
	CHECK(r == -1 && mi[0].result == ARC_UNKNOWN &&
	    mi[1].result == ARC_UNKNOWN && strstr(unit_captured(),
	    "at line 3") != NULL, "a look-up in a manifest with a bad "
	    "entry fails, and nothing is absent");
	mf_items(mi, del, 1);
	unit_capture();
	r = arc_manifest_remove(m, mi, 1, &eb);
	unit_captured();
	mf_read(&f, &b);
	CHECK(r == -1 && mi[0].result == ARC_M_FAILED &&
	    b.len == sizeof(bad) - 1 && memcmp(b.s, bad, b.len) == 0,
	    "a delete from a manifest with a bad entry fails and changes "
	    "nothing");
	mf_write(&f, bad, 2 * (sizeof(E("db/m/a.parquet")) - 1) + 2 + 20);
	mf_items(mi, look, 1);
	unit_capture();
	r = arc_manifest_lookup(m, mi, 1);
	CHECK(r == -1 && mi[0].result == ARC_UNKNOWN &&
	    strstr(unit_captured(), "truncated") != NULL,
	    "a look-up in a manifest cut short fails");

	arc_manifest_close(m);
	arc_buf_free(&b);
	arc_buf_free(&eb);
	mf_done(&f);
}

/* An entry without lsn, as the candidates of test_mfile_revless saw it. */
#define G(p)	"{\"path\":\"db/m/" p ".parquet\",\"created_at\":" \
	"\"2026-01-01T00:00:00Z\",\"size_bytes\":1}\n"

static void
mf_append(struct mf *f, const char *s)
{
	FILE *fp;

	if ((fp = fopen(f->path, "a")) == NULL ||
	    fputs(s, fp) == EOF || fclose(fp) == EOF)
		abort();
}

/* How many lines of the manifest hold s. */
static int
mf_count(struct mf *f, const char *s)
{
	struct arc_buf b = { 0 };
	const char *p;
	int n = 0;

	mf_read(f, &b);
	for (p = b.s; (p = strstr(p, s)) != NULL; p++)
		n++;
	arc_buf_free(&b);
	return n;
}

/*
 * One phase of two rewrites over candidates without a rev, as arc-delete
 * runs it: plan g1..g4, remove g1 and g2, verify them, (a writer
 * appends), remove g3 and g4, verify them.  With again, the writer
 * registers g2 and g4 again, the same entries as before; else it
 * appends an unrelated entry.  Results in r1 (g1, g2 removed and looked
 * up) and r2 (g3, g4).
 */
static void
mf_two_rewrites(struct mf *f, int again, int r1[4], int r2[4])
{
	static const char *const paths[] = {
		"db/m/g1.parquet", "db/m/g2.parquet", "db/m/g3.parquet",
		"db/m/g4.parquet",
	};
	struct arc_mitem mi[4];
	struct arc_manifest *m;
	struct arc_buf eb = { 0 };
	size_t i;

	mf_write(f, G("g1") G("g2") G("g3") G("g4") G("keep"),
	    5 * (sizeof(G("g1")) - 1) + 2);
	if ((m = arc_manifest_open(f->path)) == NULL)
		abort();
	mf_items(mi, paths, 4);
	for (i = 0; i < 4; i++) {
		mi[i].created_at = 1767225600;	/* 2026-01-01T00:00:00Z */
		mi[i].size = 1;
	}
	(void)arc_manifest_plan(m, mi, 4);
	(void)arc_manifest_remove(m, mi, 2, &eb);
	r1[0] = mi[0].result;
	r1[1] = mi[1].result;
	mf_append(f, again ? G("g2") G("g4") : G("new"));
	(void)arc_manifest_lookup(m, mi, 2);
	r1[2] = mi[0].result;
	r1[3] = mi[1].result;
	(void)arc_manifest_remove(m, mi + 2, 2, &eb);
	r2[0] = mi[2].result;
	r2[1] = mi[3].result;
	(void)arc_manifest_lookup(m, mi + 2, 2);
	r2[2] = mi[2].result;
	r2[3] = mi[3].result;
	arc_manifest_close(m);
	arc_buf_free(&eb);
}

static void
test_mfile_revless(void)
{
	int r1[4], r2[4];
	struct mf f;

	if (mf_init(&f) == -1) {
		CHECK(0, "a temporary directory for the manifest tests");
		return;
	}
	/* the control: an unrelated append, every removal verified */
	mf_two_rewrites(&f, 0, r1, r2);
	CHECK(r1[0] == ARC_M_DELETED && r1[1] == ARC_M_DELETED &&
	    r1[2] == ARC_ABSENT && r1[3] == ARC_ABSENT &&
	    r2[0] == ARC_M_DELETED && r2[1] == ARC_M_DELETED &&
	    r2[2] == ARC_ABSENT && r2[3] == ARC_ABSENT &&
	    mf_count(&f, "db/m/g") == 0 && mf_count(&f, "new.parquet") == 1,
	    "entries without lsn are removed in both rewrites of a phase "
	    "and verified absent when a writer appends another path");
	/* paths registered again between the rewrites */
	mf_two_rewrites(&f, 1, r1, r2);
	CHECK(r1[0] == ARC_M_DELETED && r1[1] == ARC_M_DELETED &&
	    r1[2] == ARC_ABSENT && r1[3] == ARC_PRESENT,
	    "a path of the first rewrite registered again is found by the "
	    "look-up verifying it (g2 present: %d)", r1[3]);
	CHECK(r2[0] == ARC_M_DELETED && r2[1] == ARC_M_CHANGED &&
	    r2[2] == ARC_ABSENT && r2[3] == ARC_PRESENT &&
	    mf_count(&f, "g4.parquet") == 2 && mf_count(&f, "g2.parquet") == 1,
	    "a path of the second rewrite registered again (the same entry, "
	    "no lsn) keeps both entries and is 'changed', not removed "
	    "(results %d %d, look-ups %d %d)", r2[0], r2[1], r2[2], r2[3]);
	mf_done(&f);
}

/*
 * Paths as JSON strings: every byte string round-trips through
 * arc_json_path and arc_json_path_decode, and what json-c writes is
 * valid UTF-8 whatever the path holds.
 */
static void
test_json_paths(void)
{
	static const struct { const char *in; size_t n; const char *want; } c[] = {
		{ L("db/m/a.parquet"), "db/m/a.parquet" },
		{ L("db/m/\xc3\xa9t\xc3\xa9.parquet"), "db/m/\xc3\xa9t\xc3\xa9.parquet" },
		{ L("db/m/\xff.parquet"), "\"db/m/\\377.parquet\"" },
		{ L("db/m/a\\b\xfe"), "\"db/m/a\\\\b\\376\"" },
		{ L("\"db/m/x"), "\"\"db/m/x\"" },
		{ L("db/\xed\xa0\x80/x"), "\"db/\\355\\240\\200/x\"" },
		{ L("db/\xf4\x8f\xbf\xbf/x"), "db/\xf4\x8f\xbf\xbf/x" },
		{ L("db/\xf4\x90\x80\x80/x"), "\"db/\\364\\220\\200\\200/x\"" },
		{ L("db/\xc0\xaf/x"), "\"db/\\300\\257/x\"" },
		{ L("a\tb\xff\n"), "\"a\\tb\\377\\n\"" },
	};
	struct arc_buf b = { 0 }, d = { 0 };
	struct json_object *o;
	const char *js;
	unsigned char raw[24];
	size_t i, k, n;
	unsigned seed = 7;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		b.len = 0;
		arc_json_path_text(&b, c[i].in, c[i].n);
		CHECK_MEM(b.s, b.len, c[i].want, strlen(c[i].want),
		    "path %s is spelled as arc(7) says", unit_esc(c[i].in, c[i].n));
		d.len = 0;
		CHECK(arc_json_path_decode(&d, b.s, b.len) == 0 &&
		    d.len == c[i].n && memcmp(d.s, c[i].in, d.len) == 0,
		    "path %s decodes to its bytes", unit_esc(c[i].in, c[i].n));
	}
	for (k = 0; k < 5000; k++) {
		n = 1 + (seed = seed * 1103515245 + 12345) % sizeof(raw);
		for (i = 0; i < n; i++)
			raw[i] = (unsigned char)((seed = seed * 1103515245 +
			    12345) >> 16);
		o = arc_json_path((char *)raw, n);
		js = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
		if (!arc_utf8_valid(js, strlen(js)))
			break;
		b.len = d.len = 0;
		arc_json_path_text(&b, (char *)raw, n);
		if (arc_json_path_decode(&d, b.s, b.len) != 0 || d.len != n ||
		    memcmp(d.s, raw, n) != 0)
			break;
		json_object_put(o);
		o = NULL;
	}
	CHECK(k == 5000, "5000 random byte paths give valid UTF-8 JSON and "
	    "decode losslessly (failed at %zu)", k);
	if (o != NULL)
		json_object_put(o);
	o = arc_json_text("bad \xff byte");
	js = json_object_get_string(o);
	CHECK(strcmp(js, "bad \\377 byte") == 0, "free text keeps valid "
	    "UTF-8 and escapes the rest");
	json_object_put(o);
	arc_buf_free(&b);
	arc_buf_free(&d);
}

void
test_json(void)
{
	test_json_paths();
	test_body();
	test_ndjson();
	test_refusals();
	test_values();
	test_sizes();
	test_boundaries();
	test_meta();
	test_messages();
	test_simple();
	test_simple_mutations();
	test_lite();
	test_lite_fields();
	test_raw();
	test_mfile();
	test_mfile_revless();
}
