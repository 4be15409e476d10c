/*
 * arc-manifest-load - write a manifest into etcd.
 *
 * Reads the manifest named by the MANIFEST operand (a file or "-" with
 * Arc manifest bodies or NDJSON, or any other manifest source) and puts
 * each entry into etcd at PREFIX + path with the entry's JSON as the
 * value, in transactions of up to 128 puts, so that an operator or a
 * test can seed the key layout arc(7) describes.  Writes the number of
 * entries put to standard error.
 */
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "arc.h"

#define BATCH	128

struct load {
	struct arc_etcd	*e;
	struct arc_buf	 prefix;
	int		 create;
	struct arc_entry v[BATCH];
	struct arc_entry *pv[BATCH];
	size_t		 n;
	uintmax_t	 put, seen;
	struct arc_buf	 eb;
};

/* exactly the SYNOPSIS of arc-manifest-load(1) */
static const char usage_text[] =
    "usage: arc-manifest-load [-c] manifest etcd-url\n";

static void
usage(void)
{
	arc_usage(usage_text, ARC_EXIT_ERROR);
}

static int
flush(struct load *l)
{
	size_t i;
	int r;

	if (l->n == 0)
		return 0;
	r = arc_etcd_put(l->e, l->prefix.s, l->prefix.len, l->pv, l->n,
	    l->create, &l->eb);
	for (i = 0; i < l->n; i++) {
		json_object_put(l->v[i].json);
		arc_entry_free(&l->v[i]);
	}
	l->n = 0;
	if (r == -1) {
		warnx("%s", arc_buf_str(&l->eb));
		return -1;
	}
	l->put += (uintmax_t)r;
	return 0;
}

static int
add(void *arg, struct arc_entry *e, uintmax_t line)
{
	struct load *l = arg;

	(void)line;
	l->seen++;
	/* keep the entry: the source frees its own after this call */
	l->v[l->n] = *e;
	l->v[l->n].path = arc_estrndup(e->path, e->pathlen);
	l->v[l->n].origin = arc_estrdup(e->origin);
	l->v[l->n].database = arc_estrdup(e->database);
	l->v[l->n].measurement = arc_estrdup(e->measurement);
	l->v[l->n].rev = arc_estrdup(e->rev);
	l->v[l->n].json = json_object_get(e->json);
	l->pv[l->n] = &l->v[l->n];
	if (++l->n == BATCH)
		return flush(l);
	return 0;
}

int
main(int argc, char *argv[])
{
	struct arc_manifest *m;
	struct load l;
	int ch, ret = ARC_EXIT_OK;

	memset(&l, 0, sizeof(l));
	while ((ch = arc_getopt(argc, argv, "c", NULL,
	    usage_text)) != -1) {
		switch (ch) {
		case 'c':
			l.create = 1;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 2)
		usage();
	if ((l.e = arc_etcd_open(argv[1], &l.prefix)) == NULL)
		return ARC_EXIT_ERROR;
	if ((m = arc_manifest_open(argv[0])) == NULL)
		return ARC_EXIT_ERROR;
	if (arc_manifest_dump(m, add, &l) == -1 || flush(&l) == -1)
		ret = ARC_EXIT_ERROR;
	arc_manifest_close(m);
	arc_etcd_close(l.e);
	fprintf(stderr, "arc-manifest-load: %ju of %ju entries put%s\n", l.put,
	    l.seen, l.create ? " (existing keys kept)" : "");
	arc_buf_free(&l.prefix);
	arc_buf_free(&l.eb);
	return ret;
}
