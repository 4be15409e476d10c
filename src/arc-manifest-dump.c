/*
 * arc-manifest-dump - write a manifest as sorted manifest records.
 *
 * Reads the manifest named by the MANIFEST operand (a file or "-" with
 * Arc manifest bodies or NDJSON) and writes one manifest record (path
 * TAB created_at TAB size TAB origin TAB rev, arc(7)) per entry to
 * standard output, sorted by path.  Sources come in any order, so records
 * go through the sorter (sortpipe.c), which spills sorted runs to a
 * temporary file: memory stays bounded however large the manifest is.
 * Nothing is written unless the whole manifest was read: a manifest that
 * cannot be read completely must never feed a diff: the sorted records
 * are read once to look for duplicate paths and a second time, only when
 * all is well, to be written.
 */
#include <err.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arc.h"

#define EXIT_TOO_LARGE	3

struct dump {
	struct arc_sort	*so;
	const char	*database;	/* -d */
	uintmax_t	 count;
	long long	 max;		/* -1: no limit */
	struct arc_buf	 line;
};

/* exactly the SYNOPSIS of arc-manifest-dump(1) */
static const char usage_text[] =
    "usage: arc-manifest-dump [-d database] [-n max] "
    "[-S size] manifest\n";

static void
usage(void)
{
	arc_usage(usage_text, ARC_EXIT_ERROR);
}

/*
 * Each record goes to the sorter with its source line appended as a last
 * field, so a duplicate can be reported by the lines it came from; the
 * line number sorts after the path, so it never changes the order of
 * different paths.
 */
static int
feed(void *arg, struct arc_entry *e, uintmax_t line)
{
	struct dump *d = arg;
	char num[32], *p;

	/* -d: one database, whether or not the source could filter */
	if (d->database != NULL && strcmp(e->database, d->database) != 0)
		return 0;
	d->count++;
	arc_progress_add(1);
	if (d->max >= 0 && d->count > (uintmax_t)d->max)
		return 0;	/* keep counting, stop sorting */
	d->line.len = 0;
	arc_entry_record(&d->line, e);
	/* "\t%ju" by hand: printf is a visible cost at millions of lines */
	p = num + sizeof(num);
	do {
		*--p = (char)('0' + line % 10);
		line /= 10;
	} while (line > 0);
	*--p = '\t';
	arc_buf_add(&d->line, p, (size_t)(num + sizeof(num) - p));
	arc_sort_add(d->so, d->line.s, d->line.len);
	return 0;
}

/*
 * The sorted records, read once (sorter rewound by the caller before and
 * after): 0 when no path is there twice, else -1 after a message naming
 * the first such path with both of its lines (name is the manifest
 * operand).  With out, each record is written there, without its line.
 */
static int
walk(struct arc_sort *so, const char *name, FILE *out)
{
	const char *line, *tab, *prev = NULL;
	size_t len, pathlen, prevlen = 0;
	uintmax_t lineno, prevline = 0;
	struct arc_buf keep = { 0 };

	while (arc_sort_next(so, &line, &len)) {
		if ((tab = memrchr(line, '\t', len)) == NULL)
			errx(ARC_EXIT_ERROR, "garbled record from the sorter");
		if (out != NULL) {
			fwrite(line, 1, (size_t)(tab - line), out);
			putc('\n', out);
			continue;
		}
		pathlen = (size_t)((const char *)memchr(line, '\t', len) - line);
		lineno = 0;
		for (tab++; tab < line + len; tab++)
			lineno = lineno * 10 + (uintmax_t)(*tab - '0');
		if (prev != NULL && pathlen == prevlen &&
		    memcmp(prev, line, pathlen) == 0) {
			warnx("'%s': duplicate path '%.*s' at lines %ju and %ju",
			    name, (int)pathlen, line,
			    prevline < lineno ? prevline : lineno,
			    prevline < lineno ? lineno : prevline);
			arc_buf_free(&keep);
			return -1;
		}
		/* the line stays valid only until the next one is read */
		keep.len = 0;
		arc_buf_add(&keep, line, pathlen);
		prev = keep.s;
		prevlen = pathlen;
		prevline = lineno;
	}
	arc_buf_free(&keep);
	return 0;
}

/*
 * The whole manifest spec fed to the sorter, or NULL after a message when
 * it could not be read; exit 3 when it has more than -n entries.
 */
static struct arc_sort *
sorted(const char *spec, struct dump *d, const char *bufsize)
{
	struct arc_manifest *m;
	struct arc_sort *so;

	if ((m = arc_manifest_open(spec)) == NULL)
		return NULL;
	m->database = d->database;	/* a source that can filter, does */
	m->nojson = 1;			/* feed reads the entry, not its JSON */
	so = d->so = arc_sort_open(bufsize);
	if (arc_manifest_dump(m, feed, d) == -1) {
		arc_sort_close(so);
		arc_manifest_close(m);
		return NULL;
	}
	arc_manifest_close(m);
	arc_progress_done();
	if (d->max >= 0 && d->count > (uintmax_t)d->max) {
		arc_sort_close(so);
		errx(EXIT_TOO_LARGE, "manifest has %ju entries, more than %lld",
		    d->count, d->max);
	}
	return so;
}

int
main(int argc, char *argv[])
{
	struct arc_sort *so;
	struct dump d;
	const char *bufsize = NULL;
	long long v;
	size_t sz;
	int ch;

	memset(&d, 0, sizeof(d));
	d.max = -1;
	while ((ch = arc_getopt(argc, argv, "d:n:S:", NULL,
	    usage_text)) != -1) {
		switch (ch) {
		case 'd':
			d.database = optarg;
			break;
		case 'n':
			if (arc_parse_count(optarg, 0, INT64_MAX, &v) == -1)
				errx(ARC_EXIT_ERROR, "'%s': invalid maximum",
				    optarg);
			d.max = v;
			break;
		case 'S':
			if (arc_sort_size(optarg, &sz) == -1)
				errx(ARC_EXIT_ERROR, "'%s': invalid size",
				    optarg);
			bufsize = optarg;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 1)
		usage();

	/* a reader that goes away must be an error message, not a SIGPIPE */
	signal(SIGPIPE, SIG_IGN);
	if ((so = sorted(argv[0], &d, bufsize)) == NULL)
		return ARC_EXIT_ERROR;
	if (walk(so, argv[0], NULL) == -1) {
		arc_sort_close(so);
		return ARC_EXIT_ERROR;
	}
	arc_sort_rewind(so);
	arc_bigbuf(stdout);
	walk(so, argv[0], stdout);
	arc_sort_close(so);
	arc_buf_free(&d.line);
	return arc_fshut(stdout, "stdout") ? ARC_EXIT_ERROR : ARC_EXIT_OK;
}
