/*
 * arc-manifest-dump - write a manifest as sorted manifest records.
 *
 * Reads the manifest named by the MANIFEST operand (a file or "-" with
 * Arc manifest bodies or NDJSON) and writes one manifest record (path
 * TAB created_at TAB size TAB origin TAB rev, arc(7)) per entry to
 * standard output, sorted by path.  Sources come in any order, so records
 * go through sort(1), which spills to disk: memory stays bounded however
 * large the manifest is.  Nothing is written unless the whole manifest
 * was read: a manifest that cannot be read completely must never feed a
 * diff: the sorted records are checked for duplicates into a temporary
 * file and copied out only when all is well.
 */
#include <err.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arc.h"

#define EXIT_TOO_LARGE	3

struct dump {
	FILE		*sortin;
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
 * Each record goes to sort(1) with its source line appended as a last
 * field, so a duplicate can be reported by the lines it came from.
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
	/* "\t%ju\n" by hand: printf is a visible cost at millions of lines */
	p = num + sizeof(num);
	*--p = '\n';
	do {
		*--p = (char)('0' + line % 10);
		line /= 10;
	} while (line > 0);
	*--p = '\t';
	arc_buf_add(&d->line, p, (size_t)(num + sizeof(num) - p));
	fwrite(d->line.s, 1, d->line.len, d->sortin);
	return 0;
}

/*
 * Large buffers on the streams to and from sort(1): with page-sized
 * writes through a 64 KiB pipe, both sides spend more on system calls
 * than on the entries.
 */
static void
bulk(FILE *fp)
{
	arc_bigbuf(fp);
#ifdef F_SETPIPE_SZ
	(void)fcntl(fileno(fp), F_SETPIPE_SZ, 1024 * 1024);	/* may fail */
#endif
}

/* An unlinked temporary file in $TMPDIR (or /tmp). */
static FILE *
open_tmp(void)
{
	const char *dir;
	char *path;
	FILE *fp;
	int fd;

	if ((dir = getenv("TMPDIR")) == NULL || *dir == '\0')
		dir = "/tmp";
	path = arc_emalloc(strlen(dir) + 32);
	sprintf(path, "%s/arc-manifest-dump.XXXXXX", dir);
	if ((fd = mkstemp(path)) == -1)
		err(ARC_EXIT_ERROR, "cannot create temporary file in '%s'", dir);
	unlink(path);
	free(path);
	if ((fp = fdopen(fd, "w+")) == NULL)
		err(ARC_EXIT_ERROR, "fdopen");
	return fp;
}

static void
copy_out(FILE *tmp)
{
	char buf[65536];
	size_t n;

	if (fflush(tmp) == EOF || ferror(tmp) || fseek(tmp, 0, SEEK_SET) == -1)
		err(ARC_EXIT_ERROR, "write error on temporary file");
	while ((n = fread(buf, 1, sizeof(buf), tmp)) > 0)
		if (fwrite(buf, 1, n, stdout) != n)
			break;
	if (ferror(tmp))
		err(ARC_EXIT_ERROR, "read error on temporary file");
	fclose(tmp);
}

/*
 * Copy sort(1)'s output to tmp without the source line numbers, stopping
 * at the first path seen twice, which is named with both of its lines
 * (name is the manifest operand); 0, or -1 after that message.
 */
static int
unique(FILE *out, FILE *tmp, const char *name)
{
	char *line = NULL, *tab, *prev = NULL;
	size_t cap = 0, prevlen = 0, pathlen, prevcap = 0;
	uintmax_t lineno, prevline = 0;
	ssize_t len;
	int r = 0;

	while ((len = getdelim(&line, &cap, '\n', out)) > 0) {
		if (line[len - 1] == '\n')
			line[--len] = '\0';
		if ((tab = strrchr(line, '\t')) == NULL)
			errx(ARC_EXIT_ERROR, "garbled output from sort");
		lineno = strtoumax(tab + 1, NULL, 10);
		*tab = '\n';
		pathlen = strcspn(line, "\t");
		if (prev && pathlen == prevlen &&
		    memcmp(prev, line, pathlen) == 0) {
			warnx("'%s': duplicate path '%.*s' at lines %ju and %ju",
			    name, (int)pathlen, line,
			    prevline < lineno ? prevline : lineno,
			    prevline < lineno ? lineno : prevline);
			r = -1;
			break;
		}
		fwrite(line, 1, (size_t)(tab - line) + 1, tmp);
		if (prevcap < pathlen + 1) {
			prevcap = pathlen + 1;
			prev = arc_erealloc(prev, prevcap);
		}
		memcpy(prev, line, pathlen);
		prevlen = pathlen;
		prevline = lineno;
	}
	free(line);
	free(prev);
	return r;
}

/*
 * The whole manifest spec fed to sort(1), or NULL after a message when it
 * could not be read; exit 3 when it has more than -n entries.
 */
static struct arc_sort *
sorted(const char *spec, struct dump *d, const char *bufsize)
{
	struct arc_manifest *m;
	struct arc_sort *so;

	if ((m = arc_manifest_open(spec)) == NULL)
		return NULL;
	m->database = d->database;	/* a source that can filter, does */
	so = arc_sort_open(bufsize);
	d->sortin = arc_sort_input(so);
	bulk(d->sortin);
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
	FILE *out, *tmp;
	const char *bufsize = "128M";
	long long v;
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

	/* a sort(1) that dies must be an error message, not a SIGPIPE */
	signal(SIGPIPE, SIG_IGN);
	if ((so = sorted(argv[0], &d, bufsize)) == NULL)
		return ARC_EXIT_ERROR;
	out = arc_sort_output(so);
	bulk(out);
	tmp = open_tmp();
	bulk(tmp);
	if (unique(out, tmp, argv[0]) == -1) {
		arc_sort_close(so);
		return ARC_EXIT_ERROR;
	}
	if (arc_sort_close(so) == -1)
		return ARC_EXIT_ERROR;
	copy_out(tmp);
	arc_buf_free(&d.line);
	return arc_fshut(stdout, "stdout") ? ARC_EXIT_ERROR : ARC_EXIT_OK;
}
