/*
 * fuzz_s3xml.c - S3's ListObjectsV2 and DeleteObjects answers, through
 * the very callbacks the backend uses (s3.c is compiled in): every path
 * a page emits is non-empty and one Arc's candidate filter accepts.  And
 * the scanner of arc_xml_scan reads every input exactly as expat does:
 * the same elements and texts, the same result and message.
 */
#include "../../lib/s3.c"

static int
emitted(void *arg, const char *p, size_t n, int64_t mtime, int64_t size)
{
	(void)arg;
	(void)mtime;
	(void)size;
	/*
	 * A key like "x//a.parquet" gives "/a.parquet": listed as it is
	 * (drift an operator should see), and refused by arc-delete.
	 */
	if (n == 0 || !arc_path_is_candidate(p, n))
		abort();
	return 0;
}

/* Every element's path and text, as one string; forgotten on a reset. */
static int
logged(void *arg, const char *path, const char *text, size_t n)
{
	struct arc_buf *b = arg;

	if (path == NULL) {
		b->len = 0;
		return 0;
	}
	arc_buf_adds(b, path);
	arc_buf_addc(b, 0x1f);
	arc_buf_add(b, text, n);
	arc_buf_addc(b, 0x1e);
	return 0;
}

static void
same_as_expat(const unsigned char *data, size_t size)
{
	struct arc_buf a = { 0 }, b = { 0 }, ea = { 0 }, eb = { 0 };
	int ra, rb;

	ra = arc_xml_scan((const char *)data, size, s3ns, logged, &a, &ea);
	arc_xml_noscan = 1;
	rb = arc_xml_scan((const char *)data, size, s3ns, logged, &b, &eb);
	arc_xml_noscan = 0;
	if (ra != rb || a.len != b.len || (a.len > 0 &&
	    memcmp(a.s, b.s, a.len) != 0) ||
	    strcmp(arc_buf_str(&ea), arc_buf_str(&eb)) != 0)
		abort();
	arc_buf_free(&a);
	arc_buf_free(&b);
	arc_buf_free(&ea);
	arc_buf_free(&eb);
}

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct s3 s;
	struct arc_pager pg;
	struct arc_plister *l;
	struct arc_http_req r;
	struct arc_sitem items[3];
	struct delres d;
	struct arc_buf eb = { 0 };
	char *hint = "db/m/";
	size_t i;
	FILE *devnull;

	devnull = freopen("/dev/null", "w", stderr);
	(void)devnull;
	same_as_expat(data, size);
	memset(&s, 0, sizeof(s));
	s.os.prefix = "x/";
	s.os.prefixlen = 2;
	s.os.ops = &s3_osops;
	s.os.name = "s3://b/";
	s.os.listing = &list_keys;
	s.hints = &hint;
	s.nhints = size > 0 && (data[0] & 1);
	memset(&pg, 0, sizeof(pg));
	pg.fn = emitted;
	l = arc_pager_add(&pg, "x/", 2);
	l->rest = 1;
	memset(&r, 0, sizeof(r));
	r.status = 200;
	arc_buf_add(&r.resp, data, size);
	arc_os_list_page(&s, &pg, l, &r);
	arc_pager_free(&pg);

	memset(items, 0, sizeof(items));
	items[0].path = "a.parquet";
	items[0].pathlen = 9;
	items[1].path = "b.parquet";
	items[1].pathlen = 9;
	items[2].path = "c";
	items[2].pathlen = 1;
	memset(&d, 0, sizeof(d));
	d.s = &s;
	d.items = items;
	d.n = 3;
	for (i = 0; i < 3; i++)
		items[i].removal = ARC_OS_PENDING;
	arc_xml_parse(r.resp.s, r.resp.len, s3ns, delete_field, &d, &eb);
	for (i = 0; i < 3; i++) {
		if (items[i].removal < ARC_OS_PENDING ||
		    items[i].removal > ARC_REMOVE_CHANGED)
			abort();
		arc_buf_free(&items[i].err);
	}
	arc_buf_free(&d.key);
	arc_buf_free(&d.code);
	arc_buf_free(&d.message);
	arc_buf_free(&eb);
	arc_buf_free(&r.resp);
	return 0;
}
