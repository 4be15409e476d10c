/*
 * fuzz_azxml.c - Azure's List Blobs answers and Blob Batch multipart
 * answers, through the backend's own callbacks (azure.c is compiled in):
 * emitted paths are candidates; a batch answer only ever sets
 * results of the sub-requests that exist.
 */
#include "../../lib/azure.c"

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
	struct az a;
	struct arc_pager pg;
	struct arc_plister *l;
	struct arc_http_req r;
	struct arc_sitem items[4];
	size_t i;
	FILE *devnull;

	devnull = freopen("/dev/null", "w", stderr);
	(void)devnull;
	memset(&a, 0, sizeof(a));
	a.os.prefix = "x/";
	a.os.prefixlen = 2;
	a.os.ops = &az_osops;
	a.os.name = "az://c/";
	a.os.listing = &list_blobs;
	memset(&pg, 0, sizeof(pg));
	pg.fn = emitted;
	l = arc_pager_add(&pg, "x/", 2);
	l->delimiter = 1;
	memset(&r, 0, sizeof(r));
	r.status = 200;
	arc_buf_add(&r.resp, data, size);
	arc_os_list_page(&a, &pg, l, &r);
	arc_pager_free(&pg);

	memset(items, 0, sizeof(items));
	for (i = 0; i < 4; i++)
		items[i].removal = -1;
	read_batch(r.resp.s ? r.resp.s : "", r.resp.len, "batchresponse_x",
	    items, 4);
	for (i = 0; i < 4; i++) {
		if (items[i].removal < -1 || items[i].removal > ARC_REMOVE_CHANGED)
			abort();
		arc_buf_free(&items[i].err);
	}
	arc_buf_free(&r.resp);
	return 0;
}
