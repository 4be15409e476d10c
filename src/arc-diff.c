/*
 * arc-diff - merge-join manifest records with storage records.
 *
 * Reads sorted manifest records (MANIFEST_RECORDS) and sorted storage
 * records (STORAGE_RECORDS), either may be "-", and writes candidate
 * records in path order: "orphan-manifest TAB <manifest record>" for a
 * manifest path with no stored file, "orphan-storage TAB <storage
 * record>" for a stored file with no manifest path that is older than the
 * grace window.  With -i, the storage records are an inventory report
 * begun at that time: a manifest record registered after it (less the
 * skew allowance) may name a file the report could not see, and is
 * counted, not written.  With -R, the paths held back (a young file, an
 * entry of another node) go to that file as reject records with their
 * reason code.  With --range, a time-boxed run's listing statistics
 * (arc-list -S): only the records in the key range it listed, (after,
 * end], are diffed, both sides; a manifest record outside it is counted
 * and passed over, never an orphan: its file was not looked for.  Two
 * cursors, O(1) memory (comm(1)'s shape), but for the manifest paths
 * spelled otherwise than plainly ("a/./b", "a//b", "a/b/"): a first pass
 * over the manifest records keeps their plain spellings, and a stored
 * file under one is registered, never an orphan (arc_path_canonical).
 */
#include <sys/stat.h>

#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "arc.h"


struct counts {
	uintmax_t manifest, storage, orphan_manifest, orphan_storage,
	    skipped_grace, skipped_after_inventory, outside;
};

static struct arc_out *rej;	/* -R */

/*
 * The plain spellings of the manifest paths spelled otherwise, quoted as
 * records hold them, sorted.  Such a path may sort anywhere beside its
 * plain spelling (before it, or after it and many others), so the merge
 * cannot meet the two in step: they are gathered first.  They are rare;
 * only they are held in memory.
 */
struct spelling {
	char	*s;
	size_t	 len;
};
static struct spelling *plainsp;
static size_t nplain, ncap;

/* An exit before the end leaves no -R file, not even a temporary one. */
static void
drop_rejects(void)
{
	arc_out_abort(rej);
	rej = NULL;
}

/* exactly the SYNOPSIS of arc-diff(1) */
static const char usage_text[] =
    "usage: arc-diff [-ms] [-g grace] [-i time] [-k skew] [-o node]\n"
    "                [-R file] [-S file] [-t time] [--range file] "
    "[--shard i/n]\n"
    "                manifest-records storage-records\n";

static void
usage(void)
{
	arc_usage(usage_text, ARC_EXIT_ERROR);
}

/*
 * Open an operand with a larger buffer than stdio's page-sized default,
 * and without stdio's per-call locking (only this thread reads it): a
 * diff reads gigabytes, and a read(2) per 4 KiB or an atomic lock per
 * line costs more than the merge itself.
 */
static FILE *
open_operand(const char *name)
{
	FILE *fp;

	if (strcmp(name, "-") == 0)
		fp = stdin;
	else if ((fp = fopen(name, "r")) == NULL)
		err(ARC_EXIT_ERROR, "cannot open '%s'", name);
	arc_bigbuf(fp);
	return fp;
}

static int
spellcmp(const void *a, const void *b)
{
	const struct spelling *x = a, *y = b;

	return arc_pathcmp(x->s, x->len, y->s, y->len);
}

/* One manifest line's path, if spelled otherwise, into plainsp. */
static void
gather_line(const char *line, size_t len, struct arc_buf *plainp)
{
	const char *tab;
	size_t plen;

	tab = memchr(line, '\t', len);
	plen = tab != NULL ? (size_t)(tab - line) : len -
	    (line[len - 1] == '\n');
	if (!arc_path_canonical(line, plen, plainp) || plainp->len == 0)
		return;
	if (nplain == ncap) {
		ncap = ncap ? ncap * 2 : 16;
		plainsp = arc_erealloc(plainsp, ncap * sizeof(*plainsp));
	}
	plainsp[nplain].s = arc_emalloc(plainp->len);
	memcpy(plainsp[nplain].s, plainp->s, plainp->len);
	plainsp[nplain++].len = plainp->len;
}

/*
 * The whole lines in [p, end), each ending in LF: gather_line on those
 * arc_path_odd_span finds a sign of another spelling in, and on the
 * first when its path begins with '.' or '/'.  Every other line's path
 * is plain, so the exact check would pass it over too.
 */
static void
gather_lines(const char *p, const char *end, struct arc_buf *plainp)
{
	const char *s, *ls, *le;

	if (p == end)
		return;
	if (*p == '.' || *p == '/') {
		le = memchr(p, '\n', (size_t)(end - p));
		gather_line(p, (size_t)(le - p) + 1, plainp);
		p = le;
	}
	while ((s = arc_path_odd_span(p, end)) != end) {
		if (*s == '\n')
			ls = s + 1;	/* the sign starts the next line */
		else {
			for (ls = s; ls > p && ls[-1] != '\n'; ls--)
				;
		}
		le = memchr(s + (*s == '\n'), '\n', (size_t)(end - s) -
		    (*s == '\n'));
		gather_line(ls, (size_t)(le - ls) + 1, plainp);
		p = le;
	}
}

/*
 * Bytes read at once by the first pass: ARC_DIFF_BLOCK, else 1 MiB (a
 * test sets a few bytes, so that lines straddle many blocks).  A line
 * longer than a block grows it.
 */
static size_t
block_size(void)
{
	const char *v = getenv("ARC_DIFF_BLOCK");
	long long n;

	if (v == NULL || *v == '\0')
		return 1 << 20;
	if (arc_parse_count(v, 1, 1 << 30, &n) == -1)
		errx(ARC_EXIT_ERROR, "'%s': invalid ARC_DIFF_BLOCK "
		    "(1 to 1073741824)", v);
	return (size_t)n;
}

/*
 * The first pass: the plain spellings of fp's paths spelled otherwise
 * into plainsp.  Returns the stream the merge is to read: fp rewound, or
 * a spooled copy when fp cannot be read twice (a pipe).  A line the
 * merge will refuse is passed over here.  It reads blocks, not lines,
 * and checks only the lines that show a sign of another spelling
 * (gather_lines): a manifest has millions of lines and few such.
 */
static FILE *
gather_spellings(FILE *fp, const char *name)
{
	struct arc_buf plainp = { 0 };
	struct stat sb;
	FILE *spool = NULL;
	char *buf, *nl;
	size_t cap = block_size(), have = 0, n, upto;
	off_t start = 0;

	if (fstat(fileno(fp), &sb) == -1 || !S_ISREG(sb.st_mode) ||
	    (start = ftello(fp)) == -1) {
		spool = arc_tmpstream();
		arc_bigbuf(spool);
	}
	/* one byte more than a block: room for a last line's LF */
	buf = arc_emalloc(cap + 1);
	for (;;) {
		n = fread(buf + have, 1, cap - have, fp);
		if (spool != NULL && n > 0 && fwrite(buf + have, 1, n,
		    spool) != n)
			err(ARC_EXIT_ERROR, "cannot spool '%s'", name);
		have += n;
		if (n == 0) {
			if (ferror(fp))
				err(ARC_EXIT_ERROR, "read error on '%s'", name);
			/* the last line, given the LF it lacks */
			if (have > 0 && buf[have - 1] != '\n')
				buf[have++] = '\n';
			gather_lines(buf, buf + have, &plainp);
			break;
		}
		if ((nl = memrchr(buf, '\n', have)) == NULL) {
			if (have == cap) {	/* a line longer than a block */
				cap *= 2;
				buf = arc_erealloc(buf, cap + 1);
			}
			continue;
		}
		upto = (size_t)(nl - buf) + 1;
		gather_lines(buf, buf + upto, &plainp);
		memmove(buf, buf + upto, have - upto);
		have -= upto;
	}
	free(buf);
	arc_buf_free(&plainp);
	if (nplain > 1)
		qsort(plainsp, nplain, sizeof(*plainsp), spellcmp);
	if (spool == NULL) {
		if (fseeko(fp, start, SEEK_SET) == -1)
			err(ARC_EXIT_ERROR, "cannot rewind '%s'", name);
		return fp;
	}
	if (fflush(spool) == EOF || fseeko(spool, 0, SEEK_SET) == -1)
		err(ARC_EXIT_ERROR, "cannot spool '%s'", name);
	return spool;
}

/* Whether the stored file at qpath has a manifest entry spelled otherwise. */
static int
registered_otherwise(const char *qpath, size_t qpathlen)
{
	struct spelling key = { (char *)(uintptr_t)qpath, qpathlen };

	return nplain > 0 && bsearch(&key, plainsp, nplain, sizeof(*plainsp),
	    spellcmp) != NULL;
}

static void
free_spellings(void)
{
	size_t i;

	for (i = 0; i < nplain; i++)
		free(plainsp[i].s);
	free(plainsp);
}

static int
next(struct arc_reader *r, struct arc_record *rec)
{
	int n;

	if ((n = arc_reader_next(r, rec)) == -1)
		exit(ARC_EXIT_ERROR);
	return n;
}

/* The -S file, replaced whole (see arc_json_save_line). */
static void
write_counts(const char *path, const struct counts *c, int inventory,
    int ranged)
{
	struct json_object *o;
	int r;

	o = json_object_new_object();
	json_object_object_add(o, "manifest_file_count",
	    json_object_new_int64((int64_t)c->manifest));
	json_object_object_add(o, "storage_file_count",
	    json_object_new_int64((int64_t)c->storage));
	json_object_object_add(o, "orphan_manifest_count",
	    json_object_new_int64((int64_t)c->orphan_manifest));
	json_object_object_add(o, "orphan_storage_count",
	    json_object_new_int64((int64_t)c->orphan_storage));
	json_object_object_add(o, "skipped_grace",
	    json_object_new_int64((int64_t)c->skipped_grace));
	if (inventory)
		json_object_object_add(o, "skipped_after_inventory",
		    json_object_new_int64((int64_t)c->skipped_after_inventory));
	if (ranged)
		json_object_object_add(o, "manifest_outside_range",
		    json_object_new_int64((int64_t)c->outside));
	r = arc_json_save_line(path, o, 0600);
	json_object_put(o);
	if (r == -1)
		exit(ARC_EXIT_ERROR);
}

struct opts {
	const char	*statsfile;
	const char	*nodeid;	/* -o: local mode */
	const char	*rejfile;	/* -R */
	struct arc_buf	 node;		/* the node id as records quote it */
	struct arc_shard shard;		/* --shard: only its records */
	struct arc_range range;		/* --range: only its records */
	int64_t		 window;	/* grace plus skew */
	int64_t		 now;		/* -t, or -i: the report's start */
	int64_t		 cutoff;	/* -i: registered later, not seen */
	int		 wantm, wants, inventory;
};

/* The options and the two operands, checked; exits on a usage error. */
static void
options(int argc, char *argv[], struct opts *o, char *operand[2])
{
	static const struct option longopts[] = {
		{ "shard", required_argument, NULL, 'H' },
		{ "range", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 }
	};
	struct arc_window w;
	int ch, timed = 0;

	arc_window_init(&w);
	o->now = arc_time_now();
	o->wantm = o->wants = 1;
	while ((ch = arc_getopt(argc, argv, "g:i:k:mo:R:sS:t:", longopts,
	    usage_text)) != -1) {
		switch (ch) {
		case 'g':
		case 'k':
			arc_window_opt(&w, ch, optarg);
			break;
		case 'm':
			o->wants = 0;
			break;
		case 'o':
			o->nodeid = optarg;
			break;
		case 'R':
			o->rejfile = optarg;
			break;
		case 's':
			o->wantm = 0;
			break;
		case 'S':
			o->statsfile = optarg;
			break;
		case 'H':
			arc_shard_opt(optarg, &o->shard);
			break;
		case 'r':
			if (o->range.on)
				usage();
			if (arc_range_load(&o->range, optarg) == -1)
				exit(ARC_EXIT_ERROR);
			break;
		case 'i':
		case 't':
			if (arc_time_parse(optarg, strlen(optarg),
			    ARC_TIME_LENIENT, &o->now) == -1)
				errx(ARC_EXIT_ERROR, "'%s': invalid time",
				    optarg);
			o->inventory |= ch == 'i';
			timed |= ch == 't';
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 2)
		usage();
	if (strcmp(argv[0], "-") == 0 && strcmp(argv[1], "-") == 0)
		errx(ARC_EXIT_ERROR, "only one operand may be '-'");
	if (!o->wantm && !o->wants)
		errx(ARC_EXIT_ERROR, "-m and -s exclude each other");
	if (o->inventory && timed)
		errx(ARC_EXIT_ERROR, "-i and -t exclude each other");
	o->window = arc_window_ns(&w);
	/* registered at or before the cutoff: the report could see it */
	o->cutoff = o->now - (w.skew / 1000000000 +
	    (w.skew % 1000000000 != 0));
	if (o->nodeid != NULL) {
		if (*o->nodeid == '\0' || strcmp(o->nodeid, "-") == 0)
			errx(ARC_EXIT_ERROR, "'%s': invalid node id",
			    o->nodeid);
		arc_quote(&o->node, o->nodeid, strlen(o->nodeid));
	}
	operand[0] = argv[0];
	operand[1] = argv[1];
}

/* Write a candidate when its kind is wanted; whether it was written. */
static int
candidate(int want, int kind, const struct arc_record *r)
{
	if (want)
		arc_write_candidate(stdout, kind, r->line, r->linelen);
	return want;
}

/*
 * A manifest path with no stored file.  After an inventory, an entry
 * newer than the report (or of unknown age) is left for a later run.
 * Local mode: only this node's own entries; an empty origin ("-") is
 * never this node's (Arc weakness 12).
 */
static int
manifest_only(const struct opts *o, const struct arc_record *m,
    struct counts *c)
{
	if (o->inventory && (m->time == ARC_TIME_UNKNOWN ||
	    m->time > o->cutoff)) {
		c->skipped_after_inventory++;
		return 0;
	}
	if (o->nodeid != NULL && (m->originlen != o->node.len ||
	    memcmp(m->origin, o->node.s, o->node.len) != 0)) {
		if (o->wantm && rej != NULL)
			arc_write_reject(rej->fp, "foreign", ARC_KIND_MANIFEST,
			    m->line, m->linelen, ARC_R_FOREIGN_ORIGIN,
			    ARC_TIME_UNKNOWN);
		return 0;
	}
	c->orphan_manifest++;
	return candidate(o->wantm, ARC_KIND_MANIFEST, m);
}

/*
 * A stored file with no manifest path: a candidate once old enough.  A
 * manifest path spelled otherwise that names it registers it.
 */
static int
storage_only(const struct opts *o, const struct arc_record *s,
    struct counts *c)
{
	if (registered_otherwise(s->qpath, s->qpathlen))
		return 0;
	if (arc_is_young(o->now, s->time, o->window)) {
		c->skipped_grace++;
		if (o->wants && rej != NULL)
			arc_write_reject(rej->fp, "young", ARC_KIND_STORAGE,
			    s->line, s->linelen, s->time == ARC_TIME_UNKNOWN ?
			    ARC_R_UNKNOWN_MTIME : ARC_R_TOO_YOUNG, s->time);
		return 0;
	}
	c->orphan_storage++;
	return candidate(o->wants, ARC_KIND_STORAGE, s);
}

/* The merge join; whether a candidate was written. */
static int
merge(const struct opts *o, struct arc_reader *mr, struct arc_reader *sr,
    struct counts *c)
{
	struct arc_record m, s;
	int cmp, havem, haves, emitted = 0;

	havem = next(mr, &m);
	haves = next(sr, &s);
	while (havem || haves) {
		if (havem && haves)
			cmp = arc_pathcmp(m.qpath, m.qpathlen, s.qpath,
			    s.qpathlen);
		else
			cmp = havem ? -1 : 1;
		if (cmp < 0) {
			c->manifest++;
			emitted |= manifest_only(o, &m, c);
			havem = next(mr, &m);
		} else if (cmp > 0) {
			c->storage++;
			emitted |= storage_only(o, &s, c);
			haves = next(sr, &s);
		} else {
			c->manifest++;
			c->storage++;
			havem = next(mr, &m);
			haves = next(sr, &s);
		}
	}
	return emitted;
}

int
main(int argc, char *argv[])
{
	struct arc_reader mr, sr;
	struct opts o = { 0 };
	struct counts c = { 0 };
	char *operand[2];
	int emitted;

	options(argc, argv, &o, operand);
	if (o.rejfile != NULL &&
	    (rej = arc_out_open(o.rejfile, 0600, 0)) == NULL)
		return ARC_EXIT_ERROR;
	atexit(drop_rejects);
	arc_reader_init(&mr, gather_spellings(open_operand(operand[0]),
	    operand[0]), operand[0], ARC_REC_MANIFEST, 1);
	arc_reader_init(&sr, open_operand(operand[1]), operand[1],
	    ARC_REC_STORAGE, 1);
	mr.shard = sr.shard = &o.shard;	/* both sides: only the shard's */
	if (o.range.on)			/* and only the range listed */
		mr.range = sr.range = &o.range;
	emitted = merge(&o, &mr, &sr, &c);
	c.outside = mr.outside;
	arc_reader_free(&mr);
	arc_reader_free(&sr);
	free_spellings();
	arc_buf_free(&o.node);
	arc_range_free(&o.range);
	if (arc_fshut(stdout, "stdout"))
		return ARC_EXIT_ERROR;
	if (rej != NULL && arc_out_commit(rej) == -1) {
		rej = NULL;
		return ARC_EXIT_ERROR;
	}
	rej = NULL;
	if (o.statsfile != NULL)
		write_counts(o.statsfile, &c, o.inventory, o.range.on);
	return emitted ? ARC_EXIT_SOME : ARC_EXIT_OK;
}
