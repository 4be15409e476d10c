/*
 * arc-list - list a store as storage records.
 *
 * Reads the store named by the STORE operand and writes one storage
 * record (path TAB mtime TAB size, arc(7)) per candidate file to standard
 * output, sorted by path.  A local tree is walked in order, so records go
 * out as the walk goes and the tree is never collected in memory.  Object
 * stores list several prefixes at once and do not promise our byte
 * order, so their records go through the one sorter (lib/sortpipe.c:
 * in memory, spilling sorted runs past its budget) and are made unique.  With --inventory, the records come from an S3 or Azure
 * inventory report instead (lib/inventory.c), sorted and made unique the
 * same way, and -S describes the report.  With -R, the files Arc's
 * candidate filter leaves out (not Parquet, hidden, in compaction state)
 * go to that file as reject records with the code NOT_A_CANDIDATE, in
 * the order they were found.  With --after, a time-boxed listing: only
 * the paths after that one in the stores' byte order of the unquoted
 * paths, listed in that order by one lister (a local walk in that order,
 * an object store's single ordered listing, starting after it where the
 * service can), and with --deadline no page (no file, locally) is
 * listed past that time once a path has been taken; -S then says which
 * range (after, end] was listed whole, end absent when the listing
 * reached the end of the key space.
 *
 * Every path, whatever its source (a local walk, an object store's keys,
 * an inventory report's rows), goes through the one path validator
 * before it is written: a key such as "/x", "./x" or "../x" (from
 * "pre//db/..." or "..%2F" in a report) is no storage record.  It is
 * left out, said on stderr and in -R (unsafe-path, LAYOUT_MISMATCH), and
 * the listing is partial (exit 1): the file under that key may be the
 * one a manifest entry names, which must not then look orphaned.
 */
#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "arc.h"


/* exactly the SYNOPSIS of arc-list(1) */
static const char usage_text[] =
    "usage: arc-list [-a] [-j jobs] [-M manifest-records] "
    "[-p prefix] [-R file]\n"
    "                [-S file] [--inventory location] "
    "[--max-inventory-age duration]\n"
    "                [--shard i/n] [--after path [--deadline ms]] store\n";

static void
usage(void)
{
	arc_usage(usage_text, ARC_EXIT_ERROR);
}

/*
 * A listing that must be sorted goes to the one sorter, lib/sortpipe.c,
 * with the budget of SORT_BUFFER: most listings fit, are sorted in
 * memory (not at all when they arrived in order) and never cross a pipe
 * nor touch the disk; a larger one spills sorted runs and is merged.
 * The order is that of sort(1) under LC_ALL=C (bytes, a shorter line
 * first), and a record sorts by its path since TAB sorts below every
 * byte of a quoted path.
 */
#define SORT_BUFFER	"128M"

static struct arc_shard shard;	/* --shard: only its paths */

struct sink {
	FILE	*out;		/* storage records */
	FILE	*rej;		/* -R: the files left out, or NULL */
	struct arc_buf rec;
	struct arc_store *st;
	struct arc_range range;	/* --after: only its paths */
	struct arc_buf last;	/* --after: the last path taken */
	int	 keycut;	/* --deadline checked per file (a local walk) */
	int	 all;		/* -a or -R: non-candidates are wanted */
	int	 every;		/* -a: every file is a record */
	int	 unsafe;	/* keys left out as unsafe paths */
	struct arc_sort *so;	/* the records to sort, or NULL */
};

static int
emit(void *arg, const char *path, size_t n, int64_t mtime, int64_t size)
{
	struct sink *sk = arg;
	const char *why;

	/*
	 * A time-boxed listing: the paths after the cursor, in order; at
	 * the deadline a local walk stops before a file, once one was taken
	 * (an object store stops between pages).  The last path taken ends
	 * the range listed whole.
	 */
	if (sk->range.on) {
		if (!arc_range_has(&sk->range, path, n))
			return 0;
		if (sk->keycut && sk->st->deadline > 0 && sk->st->accepted > 0 &&
		    arc_time_now_ms() >= sk->st->deadline) {
			sk->st->cut = 1;
			return 1;
		}
		sk->st->accepted++;
		sk->last.len = 0;
		arc_buf_add(&sk->last, path, n);
		/* the walk lists every file for the range; the rest is as ever */
		if (!sk->all && !arc_path_is_candidate(path, n))
			return 0;
	}
	/* a live listing is already its shard's; an inventory is whole */
	if (!arc_shard_has(&shard, path, n))
		return 0;
	arc_progress_add(1);
	/* a non-candidate is left out anyway, unless every file is asked */
	if ((why = arc_path_unsafe(path, n)) != NULL &&
	    (sk->every || arc_path_is_candidate(path, n))) {
		sk->rec.len = 0;
		arc_storage_record(&sk->rec, path, n, mtime, size);
		/* the record's quoted path: a key may hold any byte */
		warnx("'%.*s': left out: %s; the listing is partial",
		    (int)strcspn(sk->rec.s, "\t"), sk->rec.s, why);
		if (sk->rej != NULL)
			arc_write_reject(sk->rej, "unsafe-path",
			    ARC_KIND_STORAGE, sk->rec.s, sk->rec.len,
			    ARC_R_LAYOUT_MISMATCH, ARC_TIME_UNKNOWN);
		sk->unsafe = 1;
		return 0;
	}
	/* -R lists every file and sorts them here, as the store would */
	if (sk->rej != NULL && !arc_path_is_candidate(path, n)) {
		sk->rec.len = 0;
		arc_storage_record(&sk->rec, path, n, mtime, size);
		arc_write_reject(sk->rej, "not-a-candidate", ARC_KIND_STORAGE,
		    sk->rec.s, sk->rec.len, ARC_R_NOT_A_CANDIDATE,
		    ARC_TIME_UNKNOWN);
		return 0;
	}
	if (sk->so != NULL) {
		sk->rec.len = 0;
		arc_storage_record(&sk->rec, path, n, mtime, size);
		arc_sort_add(sk->so, sk->rec.s, sk->rec.len);
		return 0;
	}
	arc_write_storage(sk->out, path, n, mtime, size);
	return 0;
}

/*
 * A bound every SPLIT_EVERY manifest paths of a prefix: an object store
 * lists the range between two bounds apart from the others, about one
 * 1000-key page each with room for some drift, so that -j listers keep
 * busy however few prefixes there are.
 */
#define SPLIT_EVERY	900

/*
 * The database/measurement/ prefixes of the paths in a manifest record
 * file, Arc's split points, and the bounds within each (see SPLIT_EVERY):
 * sorted input puts each prefix's paths together, so comparing with the
 * last one is enough.
 */
static void
manifest_splits(const char *file, struct arc_store *st)
{
	struct arc_reader rd;
	struct arc_record rec;
	struct arc_buf path = { 0 };
	char **v = NULL, **b = NULL, *second;
	size_t n = 0, nb = 0, plen, since = 0;
	FILE *fp;
	int r;

	if ((fp = fopen(file, "r")) == NULL)
		err(ARC_EXIT_ERROR, "cannot open '%s'", file);
	arc_reader_init(&rd, fp, file, ARC_REC_MANIFEST, 1);
	while ((r = arc_reader_next(&rd, &rec)) == 1) {
		path.len = 0;
		if (arc_record_path(&rec, &path) == -1)
			exit(ARC_EXIT_ERROR);
		if ((second = memchr(path.s, '/', path.len)) == NULL ||
		    (second = memchr(second + 1, '/', path.len -
		    (size_t)(second + 1 - path.s))) == NULL)
			continue;
		plen = (size_t)(second - path.s) + 1;
		if (n > 0 && strlen(v[n - 1]) == plen &&
		    memcmp(v[n - 1], path.s, plen) == 0) {
			if (++since % SPLIT_EVERY == 0) {
				b = arc_ereallocarray(b, nb + 1, sizeof(*b));
				b[nb++] = arc_estrndup(path.s, path.len);
			}
			continue;
		}
		v = arc_ereallocarray(v, n + 1, sizeof(*v));
		v[n++] = arc_estrndup(path.s, plen);
		since = 0;
	}
	if (r == -1)
		exit(ARC_EXIT_ERROR);
	arc_reader_free(&rd);
	arc_buf_free(&path);
	fclose(fp);
	st->hints = v;
	st->nhints = n;
	st->bounds = b;
	st->nbounds = nb;
}

/* The -S file: which report was read, when it began, its age. */
static void
write_stats(const char *path, const struct arc_inventory *inv)
{
	struct json_object *o;
	char tbuf[ARC_TIME_BUFSZ];
	int r;

	o = json_object_new_object();
	json_object_object_add(o, "inventory", arc_json_text(inv->location));
	json_object_object_add(o, "inventory_created_at",
	    json_object_new_string(arc_time_format(inv->created, tbuf)));
	json_object_object_add(o, "inventory_age_seconds",
	    json_object_new_int64(inv->age));
	r = arc_json_save_line(path, o, 0600);
	json_object_put(o);
	if (r == -1)
		exit(ARC_EXIT_ERROR);
}

/* The -S file of a time-boxed listing: the range (after, end] it covered. */
static void
write_range(const char *path, const struct sink *sk, int cut, int64_t taken)
{
	struct json_object *o;
	int r;

	o = json_object_new_object();
	json_object_object_add(o, "range_after", arc_json_path(
	    sk->range.after.s ? sk->range.after.s : "", sk->range.after.len));
	json_object_object_add(o, "range_end", cut ? arc_json_path(
	    sk->last.s ? sk->last.s : "", sk->last.len) : NULL);
	json_object_object_add(o, "listing_cut", json_object_new_boolean(cut));
	json_object_object_add(o, "listed_in_range",
	    json_object_new_int64(taken));
	r = arc_json_save_line(path, o, 0600);
	json_object_put(o);
	if (r == -1)
		exit(ARC_EXIT_ERROR);
}

/* Write the sorted records to stdout, each path once. */
static void
unique(struct arc_sort *so)
{
	struct arc_buf prev = { 0 };
	const char *p, *tab;
	size_t len, plen;
	int first = 1;

	while (arc_sort_next(so, &p, &len)) {
		plen = (tab = memchr(p, '\t', len)) != NULL ?
		    (size_t)(tab - p) : len;
		if (!first && plen == prev.len && memcmp(prev.s, p, plen) == 0)
			continue;
		fwrite(p, 1, len, stdout);
		putc('\n', stdout);
		/* the line is the sorter's only until the next one */
		prev.len = 0;
		arc_buf_add(&prev, p, plen);
		first = 0;
	}
	arc_buf_free(&prev);
}

/* What the options ask for. */
struct opts {
	struct arc_inventory inv;	/* --inventory, or location NULL */
	const char	*mfile;		/* -M */
	const char	*statsfile;	/* -S */
	const char	*rejfile;	/* -R */
	char		**prefixes;	/* -p */
	size_t		 np;
	long long	 jobs;		/* -j */
	int		 flags;		/* -a: ARC_LIST_ALL */
	const char	*after;		/* --after, quoted as in records */
	int64_t		 deadline;	/* --deadline, ms since the epoch */
};

/* The options and the store operand, checked; exits on a usage error. */
static const char *
options(int argc, char *argv[], struct opts *o)
{
	static const struct option longopts[] = {
		{ "inventory", required_argument, NULL, 'I' },
		{ "max-inventory-age", required_argument, NULL, 'A' },
		{ "shard", required_argument, NULL, 'H' },
		{ "after", required_argument, NULL, 'F' },
		{ "deadline", required_argument, NULL, 'D' },
		{ NULL, 0, NULL, 0 }
	};
	long long ms;
	int64_t maxage = arc_duration_const(ARC_DEFAULT_MAX_INVENTORY_AGE);
	int ch;

	memset(o, 0, sizeof(*o));
	o->jobs = ARC_DEFAULT_JOBS;
	while ((ch = arc_getopt(argc, argv, "aj:M:p:R:S:", longopts,
	    usage_text)) != -1) {
		switch (ch) {
		case 'A':
			if (arc_duration_parse(optarg, &maxage) == -1)
				errx(ARC_EXIT_ERROR, "'%s': invalid duration",
				    optarg);
			break;
		case 'I':
			o->inv.location = optarg;
			break;
		case 'S':
			o->statsfile = optarg;
			break;
		case 'a':
			o->flags |= ARC_LIST_ALL;
			break;
		case 'j':
			if (arc_parse_count(optarg, 1, ARC_JOBS_MAX, &o->jobs) ==
			    -1)
				errx(ARC_EXIT_ERROR, "'%s': jobs must be 1 to 64",
				    optarg);
			break;
		case 'M':
			o->mfile = optarg;
			break;
		case 'p':
			o->prefixes = arc_ereallocarray(o->prefixes, o->np + 1,
			    sizeof(*o->prefixes));
			o->prefixes[o->np++] = optarg;
			break;
		case 'H':
			arc_shard_opt(optarg, &shard);
			break;
		case 'R':
			o->rejfile = optarg;
			break;
		case 'F':
			o->after = optarg;
			break;
		case 'D':
			if (arc_parse_count(optarg, 1, INT64_MAX, &ms) == -1)
				errx(ARC_EXIT_ERROR, "'%s': the deadline must be "
				    "milliseconds since the epoch", optarg);
			o->deadline = ms;
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 1)
		usage();
	if (o->statsfile != NULL && o->inv.location == NULL &&
	    o->after == NULL)
		errx(ARC_EXIT_ERROR, "-S needs --inventory or --after");
	if (o->deadline > 0 && o->after == NULL)
		errx(ARC_EXIT_ERROR, "--deadline needs --after");
	if (o->after != NULL && (o->inv.location != NULL || o->np > 0))
		errx(ARC_EXIT_ERROR, "--after excludes --inventory and -p: a "
		    "time-boxed listing is one ordered listing of the store");
	o->inv.now = arc_time_now();
	o->inv.maxage = maxage / 1000000000;
	return argv[optind];
}

/*
 * List st (or read its inventory report) into sk: in order as it comes
 * from a local walk, through the sorter (lib/sortpipe.c) and made
 * unique from an object store or a report.  Returns the exit status so far.
 */
static int
list(struct arc_store *st, struct opts *o, struct sink *sk)
{
	int ret;

	if (!st->unordered && o->inv.location == NULL && o->after == NULL)
		return arc_store_list(st, o->prefixes, o->np, o->flags, emit,
		    sk);
	sk->so = arc_sort_open(SORT_BUFFER);
	if (o->inv.location != NULL)
		ret = arc_inventory_list(&o->inv, st, o->prefixes, o->np,
		    o->flags, emit, sk);
	else
		ret = arc_store_list(st, o->prefixes, o->np, o->flags, emit,
		    sk);
	if (ret != ARC_EXIT_ERROR)	/* an error lists nothing */
		unique(sk->so);
	if (arc_sort_close(sk->so) == -1)
		ret = ARC_EXIT_ERROR;
	sk->so = NULL;
	return ret;
}

/* Free what -M hinted to the store, then the store. */
static void
store_close(struct arc_store *st)
{
	size_t i;

	for (i = 0; i < st->nhints; i++)
		free(st->hints[i]);
	free(st->hints);
	st->hints = NULL;
	for (i = 0; i < st->nbounds; i++)
		free(st->bounds[i]);
	free(st->bounds);
	st->bounds = NULL;
	arc_store_close(st);
}

int
main(int argc, char *argv[])
{
	struct opts o;
	struct arc_store *st;
	struct arc_out *rej = NULL;
	struct sink sk;
	const char *store;
	int64_t taken;
	int ret, cut;

	memset(&sk, 0, sizeof(sk));
	sk.out = stdout;
	store = options(argc, argv, &o);
	/* A listing writes millions of records: fewer, larger writes. */
	arc_bigbuf(stdout);
	if ((st = arc_store_open(store)) == NULL)
		return ARC_EXIT_ERROR;
	sk.every = (o.flags & ARC_LIST_ALL) != 0;
	if (o.rejfile != NULL && !(o.flags & ARC_LIST_ALL)) {
		if ((rej = arc_out_open(o.rejfile, 0600, 0)) == NULL)
			return ARC_EXIT_ERROR;
		sk.rej = rej->fp;
		o.flags |= ARC_LIST_ALL;
	}
	st->jobs = (int)o.jobs;
	st->shard = shard;
	sk.st = st;
	sk.all = (o.flags & ARC_LIST_ALL) != 0;
	if (o.after != NULL) {
		/*
		 * One lister in key order from the cursor: no split points,
		 * and an object store's shard filtered here, not listed apart
		 * (a local walk keeps its shard's directories only).
		 */
		const char *why;

		if (arc_unquote(&sk.range.after, o.after, strlen(o.after),
		    &why) == -1)
			errx(ARC_EXIT_ERROR, "'%s': --after: %s", o.after, why);
		arc_buf_str(&sk.range.after);
		sk.range.on = 1;
		st->after = sk.range.after.s;
		st->deadline = o.deadline;
		st->raworder = 1;
		sk.keycut = !st->unordered;
		o.flags |= ARC_LIST_ALL;
		if (st->unordered) {
			st->jobs = 1;
			memset(&st->shard, 0, sizeof(st->shard));
		}
	} else if (o.mfile != NULL)
		manifest_splits(o.mfile, st);
	ret = list(st, &o, &sk);
	if (sk.unsafe && ret == ARC_EXIT_OK)
		ret = ARC_EXIT_SOME;
	arc_progress_done();
	cut = st->cut;
	taken = st->accepted;
	store_close(st);
	free(o.prefixes);
	arc_buf_free(&sk.rec);
	if (arc_fshut(stdout, "stdout"))
		ret = ARC_EXIT_ERROR;
	/* -R is whole or absent, like the listing it goes with */
	if (rej != NULL && (ret == ARC_EXIT_ERROR || arc_config_error))
		arc_out_abort(rej);
	else if (rej != NULL && arc_out_commit(rej) == -1)
		ret = ARC_EXIT_ERROR;
	if (ret == ARC_EXIT_ERROR)
		return ARC_EXIT_ERROR;
	if (o.statsfile != NULL && o.after != NULL)
		write_range(o.statsfile, &sk, cut, taken);
	else if (o.statsfile != NULL)
		write_stats(o.statsfile, &o.inv);
	arc_buf_free(&sk.last);
	arc_range_free(&sk.range);
	/* a TLS refusal is a wrong setting, never a partial listing */
	return arc_config_error ? ARC_EXIT_ERROR : ret;
}
