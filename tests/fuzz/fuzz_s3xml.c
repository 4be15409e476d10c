/*
 * fuzz_s3xml.c - S3's ListObjectsV2 and DeleteObjects answers, through
 * the very callbacks the backend uses (s3.c is compiled in): every path
 * a page emits is non-empty and one Arc's candidate filter accepts.
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
