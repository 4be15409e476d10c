/*
 * fuzz_json.c - the FileEntry JSON reader (Arc bodies, concatenated
 * pages, NDJSON): every entry it hands out has a path Arc would accept.
 */
#include <stdio.h>
#include <stdlib.h>

#include "arc_priv.h"

static int
check(void *arg, struct arc_entry *e, uintmax_t line)
{
	struct arc_buf b = { 0 };

	(void)arg;
	(void)line;
	if (e->path == NULL || arc_path_manifest_error(e->path, e->pathlen))
		abort();
	arc_entry_record(&b, e);
	arc_buf_free(&b);
	return 0;
}

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct arc_json_meta meta = { 0, 0, { 0 } };
	FILE *fp, *devnull;

	if (size == 0)
		return 0;
	if ((fp = fmemopen((void *)data, size, "r")) == NULL)
		return 0;
	devnull = freopen("/dev/null", "w", stderr);
	(void)devnull;
	arc_json_entries_meta(fp, "fuzz", check, NULL, &meta);
	arc_buf_free(&meta.next_cursor);
	fclose(fp);
	return 0;
}
