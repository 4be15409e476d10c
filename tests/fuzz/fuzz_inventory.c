/*
 * fuzz_inventory.c - the CSV rows of inventory data files, through the
 * very reader arc-list --inventory uses (inventory.c is compiled in): an
 * S3 report's rows with a fixed fileSchema and an Azure report's header
 * and rows, fed in blocks of the sizes the first byte picks.  Every
 * record given is non-empty, under the store's prefix removed, and one
 * Arc's candidate filter accepts; a row never grows past ROW_MAX.
 */
#include "../../lib/inventory.c"

static int
emitted(void *arg, const char *p, size_t n, int64_t mtime, int64_t size)
{
	(void)arg;
	(void)mtime;
	if (n == 0 || !arc_path_is_candidate(p, n) || size < 0)
		abort();
	return 0;
}

static void
feed(int kind, const unsigned char *data, size_t size, size_t block)
{
	static const char schema[] = "Bucket, Key, VersionId, IsLatest, "
	    "IsDeleteMarker, Size, LastModifiedDate";
	struct inv v;
	struct csv c;
	const char *p;
	size_t off, n;
	int idx = 0;

	memset(&v, 0, sizeof(v));
	memset(&c, 0, sizeof(c));
	for (n = 0; n < C_N; n++)
		v.col[n] = -1;
	v.loc = "fuzz";
	v.kind = kind;
	v.bucket = "src";
	v.prefix = "base/";
	v.prefixlen = 5;
	v.fn = emitted;
	v.file = "data";
	if (kind == INV_S3)
		for (p = schema; ; p += n + 1, idx++) {
			n = strcspn(p, ",");
			column(&v, p, n, idx);
			if (p[n] == '\0')
				break;
		}
	else
		v.header = 1;
	for (off = 0; off < size; off += n) {
		n = size - off < block ? size - off : block;
		if (csv_feed(&v, &c, (const char *)data + off, n) == -1)
			break;
		if (c.f.len > ROW_MAX + block)
			abort();
	}
	arc_buf_free(&c.f);
	arc_buf_free(&v.key);
}

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	FILE *devnull;
	size_t block;

	devnull = freopen("/dev/null", "w", stderr);
	(void)devnull;
	if (size == 0)
		return 0;
	block = (size_t)(data[0] % 64) + 1;
	feed(INV_S3, data + 1, size - 1, block);
	feed(INV_AZURE, data + 1, size - 1, block);
	return 0;
}
