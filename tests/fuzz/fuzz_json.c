/*
 * fuzz_json.c - the FileEntry JSON reader (Arc bodies, concatenated
 * pages, NDJSON): every entry it hands out has a path Arc would accept,
 * and the dump's pass without json-c (arc_json_lite) hands out exactly
 * the records, at the same lines, and stops exactly where the full
 * pass does.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arc_priv.h"

static int
check(void *arg, struct arc_entry *e, uintmax_t line)
{
	struct arc_buf *b = arg;

	if (e->path == NULL || arc_path_manifest_error(e->path, e->pathlen))
		abort();
	arc_entry_record(b, e);
	arc_buf_printf(b, "\t%ju\t%s\t%s\n", line, e->database,
	    e->measurement);
	return 0;
}

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct arc_json_meta meta = { 0, 0, { 0 } };
	struct arc_buf full = { 0 }, lite = { 0 };
	FILE *fp, *devnull;
	int r0, r1;

	if (size == 0)
		return 0;
	devnull = freopen("/dev/null", "w", stderr);
	(void)devnull;
	if ((fp = fmemopen((void *)data, size, "r")) == NULL)
		return 0;
	r0 = arc_json_entries_meta(fp, "fuzz", check, &full, &meta);
	arc_buf_free(&meta.next_cursor);
	fclose(fp);
	if ((fp = fmemopen((void *)data, size, "r")) == NULL)
		abort();
	r1 = arc_json_entries_raw(fp, "fuzz", arc_json_lite, check, &lite);
	fclose(fp);
	if (r0 != r1 || full.len != lite.len ||
	    (full.len > 0 && memcmp(full.s, lite.s, full.len) != 0))
		abort();
	arc_buf_free(&full);
	arc_buf_free(&lite);
	return 0;
}
