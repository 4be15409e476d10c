/*
 * mfile.c - a manifest kept in a file (or read from standard input):
 * Arc's /api/v1/cluster/files bodies, concatenated pages, or NDJSON.
 */
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arc.h"

struct mfile {
	char	*path;		/* NULL: standard input */
};

static int
mfile_open(struct arc_manifest *m, const char *rest)
{
	struct mfile *f;

	if (strstr(m->spec, "://") != NULL && rest[0] != '/') {
		warnx("'%s': file URL must be file:///absolute/path", m->spec);
		return -1;
	}
	f = arc_ecalloc(1, sizeof(*f));
	if (strcmp(rest, "-") != 0)
		f->path = arc_estrdup(rest);
	m->priv = f;
	return 0;
}

static int
mfile_dump(struct arc_manifest *m, arc_entry_fn fn, void *arg)
{
	struct mfile *f = m->priv;
	FILE *fp;
	int r;

	if (f->path == NULL)
		return arc_json_entries(stdin, "-", fn, arg);
	if ((fp = fopen(f->path, "r")) == NULL) {
		warn("cannot open manifest '%s'", f->path);
		return -1;
	}
	r = arc_json_entries(fp, f->path, fn, arg);
	fclose(fp);
	return r;
}

static void
mfile_close(struct arc_manifest *m)
{
	struct mfile *f = m->priv;

	free(f->path);
	free(f);
}

const struct arc_manifest_ops arc_manifest_file = {
	.scheme = "file",
	.open = mfile_open,
	.dump = mfile_dump,
	.close = mfile_close,
};
