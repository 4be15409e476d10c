/*
 * fuzz_record.c - the record reader: any bytes, every record type,
 * sorted or not.  A record it accepts must carry a path that decodes and
 * re-quotes to the same spelling (the quoting is canonical).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arc.h"

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct arc_reader r;
	struct arc_record rec;
	struct arc_buf path = { 0 }, q = { 0 };
	FILE *fp, *devnull;
	int type, sorted;

	if (size < 1)
		return 0;
	type = data[0] % 5;
	sorted = (data[0] >> 2) & 1;
	if ((fp = fmemopen((void *)(data + 1), size - 1 ? size - 1 : 1, "r"))
	    == NULL)
		return 0;
	if (size == 1)
		fgetc(fp);	/* an empty stream */
	devnull = freopen("/dev/null", "w", stderr);
	(void)devnull;
	arc_reader_init(&r, fp, "fuzz", type, sorted);
	while (arc_reader_next(&r, &rec) == 1) {
		path.len = q.len = 0;
		if (arc_record_path(&rec, &path) != 0)
			abort();	/* the reader let a bad path through */
		arc_quote(&q, path.s, path.len);
		if (q.len != rec.qpathlen || memcmp(q.s, rec.qpath, q.len) != 0)
			abort();	/* two spellings of one path */
	}
	arc_reader_free(&r);
	arc_buf_free(&path);
	arc_buf_free(&q);
	fclose(fp);
	return 0;
}
