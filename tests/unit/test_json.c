/*
 * test_json.c - arc_json_entries (jsonstream.c) and, through it,
 * arc_entry_from_json (entry.c): Arc manifest bodies, concatenated pages
 * and NDJSON in; FileEntry fields, or a refusal naming the line, out.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arc.h"
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

void
test_json(void)
{
	test_body();
	test_ndjson();
	test_refusals();
	test_values();
	test_sizes();
	test_boundaries();
	test_meta();
	test_messages();
}
