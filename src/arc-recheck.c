/*
 * arc-recheck - re-check candidates against live state.
 *
 * Reads candidate records (arc(7)) on standard input and writes the ones
 * that survive a live re-check to standard output, in input order, a
 * window at a time: a window ends at 1000 records or as soon as no more
 * input is waiting, so records are written while the input still flows.
 * Rejected candidates go to the -R file as "reason TAB candidate TAB code
 * TAB age" (arc(7)'s reject record, with its reason code); it is written
 * beside its name and put in place whole when the run ends well.
 *
 * orphan-manifest: the file must be definitely absent from STORE now;
 * only "not found" confirms absence, any other error rejects ("error").
 * orphan-storage: the file must still be a regular file whose mtime is
 * outside the grace window now, and its path absent from the live
 * MANIFEST.
 */
#include <sys/stat.h>

#include <err.h>
#include <fcntl.h>
#include <poll.h>

#include <json-c/json.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arc.h"

#define WINDOW_MAX	1000
/*
 * The orphan-storage paths announced at once are bounded by the memory
 * they hold (the path, and about PLAN_ITEM bytes of bookkeeping each,
 * here and in the manifest's copy), not by a count: every announcement
 * past the first is one more whole read of a manifest file, so as many
 * go at once as the budget allows.
 */
#define PLAN_BYTES	((size_t)96 << 20)
#define PLAN_ITEM	256

static size_t plan_budget = PLAN_BYTES;

/* The announcement budget: ARC_RECHECK_PLAN_BYTES (for tests), else PLAN_BYTES. */
static size_t
plan_bytes(void)
{
	const char *v = getenv("ARC_RECHECK_PLAN_BYTES");
	long long n;

	if (v == NULL || *v == '\0')
		return PLAN_BYTES;
	if (arc_parse_count(v, 1, (long long)1 << 40, &n) == -1)
		errx(ARC_EXIT_ERROR, "'%s': invalid ARC_RECHECK_PLAN_BYTES "
		    "(1 to 2^40)", v);
	return (size_t)n;
}

enum reason {
	R_CONFIRMED,
	R_PRESENT,
	R_IN_MANIFEST,
	R_YOUNG,
	R_GONE,
	R_ERROR,
	R_NREASONS
};
static const char *reason_names[] = {
	"confirmed", "present", "in-manifest", "young", "gone", "error"
};
/* the keys of the -S file, in this order after "checked" */
static const char *stat_names[] = {
	"confirmed", "present", "in_manifest", "young", "gone", "error"
};

struct item {
	char		*body;		/* the record after the kind */
	size_t		 bodylen;
	int		 kind;
	struct arc_buf	 path;		/* decoded */
	int		 reason;
	int64_t		 mtime;		/* the store's, for a young file */
};

/* The reason code of arc(7) for a rejected item. */
static int
reason_code(const struct item *it)
{
	switch (it->reason) {
	case R_PRESENT:
		return ARC_R_RECHECK_PRESENT;
	case R_IN_MANIFEST:
		return ARC_R_RECHECK_REGISTERED;
	case R_YOUNG:
		return it->mtime == ARC_TIME_UNKNOWN ? ARC_R_UNKNOWN_MTIME :
		    ARC_R_TOO_YOUNG;
	case R_GONE:
		return ARC_R_GONE;
	default:
		return ARC_R_RECHECK_ERROR;
	}
}

/* exactly the SYNOPSIS of arc-recheck(1) */
static const char usage_text[] =
    "usage: arc-recheck [-g grace] [-j jobs] [-k skew] "
    "[-R file] [-S file] [-t time]\n"
    "                   store manifest\n";

static void
usage(void)
{
	arc_usage(usage_text, ARC_EXIT_ERROR);
}

static int
input_waiting(void)
{
	struct pollfd pfd = { 0, POLLIN, 0 };

	return poll(&pfd, 1, 0) != 0;
}

/*
 * When the candidates are a regular file, announce to the manifest the
 * orphan-storage paths from offset pos on, up to PLAN_BYTES, so that a
 * manifest file is read whole once for them all and each window's
 * look-up reads only what was appended since (arc(7), MANIFEST FILE
 * PASSES).  The file is read again through a descriptor of its own.
 * Returns how many were announced; 0 when the input cannot be read
 * again (a pipe), and every window then reads the manifest whole.
 */
static size_t
plan_ahead(struct arc_manifest *man, off_t pos)
{
	struct arc_reader rd;
	struct arc_record rec;
	struct arc_mitem *mi;
	struct arc_buf path = { 0 };
	struct stat sb;
	const char *msg;
	size_t n = 0, cap = 0, used = 0, budget = plan_budget, i;
	FILE *fp;
	int fd;

	if (fstat(STDIN_FILENO, &sb) == -1 || !S_ISREG(sb.st_mode) ||
	    (fd = open("/proc/self/fd/0", O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	if ((fp = fdopen(fd, "r")) == NULL || fseeko(fp, pos, SEEK_SET) == -1) {
		if (fp != NULL)
			fclose(fp);
		else
			close(fd);
		return 0;
	}
	mi = NULL;
	arc_reader_init(&rd, fp, "-", ARC_REC_CANDIDATE, 0);
	/* at least a window, so that each window is looked up in one go */
	while ((used < budget || n < WINDOW_MAX) &&
	    arc_reader_next(&rd, &rec) == 1) {
		if (rec.kind != ARC_KIND_STORAGE)
			continue;
		path.len = 0;
		if (arc_unquote(&path, rec.qpath, rec.qpathlen, &msg) == -1)
			break;	/* the main reader says why */
		if (n == cap) {
			cap = cap ? cap * 2 : 4096;
			mi = arc_ereallocarray(mi, cap, sizeof(*mi));
		}
		memset(&mi[n], 0, sizeof(mi[n]));
		mi[n].path = arc_estrndup(path.s, path.len);
		mi[n++].pathlen = path.len;
		used += path.len + PLAN_ITEM;
	}
	arc_reader_free(&rd);
	fclose(fp);
	if (n > 0)
		(void)arc_manifest_plan(man, mi, n);
	for (i = 0; i < n; i++)
		free((char *)mi[i].path);
	free(mi);
	arc_buf_free(&path);
	return n;
}

struct opts {
	const char	*rejfile, *statsfile;
	int64_t		 window;	/* grace plus skew */
	int64_t		 now;		/* -t, or ARC_TIME_UNKNOWN: the clock */
	int		 jobs;
};

/* What every window of candidates uses. */
struct run {
	struct arc_store *store;
	struct arc_manifest *man;
	const char	*manname;
	struct item	 items[WINDOW_MAX];
	struct arc_sitem si[WINDOW_MAX];
	struct arc_mitem mi[WINDOW_MAX];	/* asked of the manifest */
	size_t		 midx[WINDOW_MAX];	/* their items */
	size_t		 n, nm;
	uintmax_t	 counts[R_NREASONS];
	FILE		*rej;
	int		 ret;
	/* plan_ahead: orphan-storage paths read, announced; window start */
	uintmax_t	 nstorage, planned, wstorage;
	off_t		 wpos;
	int		 ahead;		/* the input can be read again */
};

/* The options and the two operands, checked; exits on a usage error. */
static void
options(int argc, char *argv[], struct opts *o, char *operand[2])
{
	struct arc_window w;
	long long v;
	int ch;

	arc_window_init(&w);
	o->now = ARC_TIME_UNKNOWN;
	o->jobs = ARC_DEFAULT_JOBS;
	while ((ch = arc_getopt(argc, argv, "g:j:k:R:S:t:", NULL,
	    usage_text)) != -1) {
		switch (ch) {
		case 'g':
		case 'k':
			arc_window_opt(&w, ch, optarg);
			break;
		case 'j':
			if (arc_parse_count(optarg, 1, ARC_JOBS_MAX, &v) == -1)
				errx(ARC_EXIT_ERROR, "'%s': jobs must be 1 to "
				    ARC_STR(ARC_JOBS_MAX), optarg);
			o->jobs = (int)v;
			break;
		case 'R':
			o->rejfile = optarg;
			break;
		case 'S':
			o->statsfile = optarg;
			break;
		case 't':
			if (arc_time_parse(optarg, strlen(optarg),
			    ARC_TIME_LENIENT, &o->now) == -1)
				errx(ARC_EXIT_ERROR, "'%s': invalid time",
				    optarg);
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 2)
		usage();
	if (strcmp(argv[1], "-") == 0)
		errx(ARC_EXIT_ERROR, "the manifest must be re-read: it cannot "
		    "be '-'");
	o->window = arc_window_ns(&w);
	plan_budget = plan_bytes();
	operand[0] = argv[0];
	operand[1] = argv[1];
}

/*
 * Fill a window: up to WINDOW_MAX candidates, or until input pauses.
 * 1 while there may be more input, 0 at its end, -1 on an error.
 */
static int
fill(struct run *ru, struct arc_reader *rd)
{
	struct arc_record rec;
	struct item *it;
	const char *msg;
	int r = 1;

	ru->wpos = ftello(stdin);
	ru->wstorage = ru->nstorage;
	for (ru->n = 0; ru->n < WINDOW_MAX; ) {
		if ((r = arc_reader_next(rd, &rec)) != 1)
			break;
		ru->nstorage += rec.kind == ARC_KIND_STORAGE;
		it = &ru->items[ru->n];
		it->body = arc_erealloc(it->body, rec.bodylen + 1);
		memcpy(it->body, rec.body, rec.bodylen);
		it->bodylen = rec.bodylen;
		it->kind = rec.kind;
		it->path.len = 0;
		it->reason = R_CONFIRMED;
		if (arc_unquote(&it->path, rec.qpath, rec.qpathlen,
		    &msg) == -1)
			return -1;
		ru->si[ru->n].path = it->path.s;
		ru->si[ru->n].pathlen = it->path.len;
		ru->si[ru->n].err.len = 0;
		ru->n++;
		if (!input_waiting())
			break;
	}
	return r;
}

/*
 * What the store says of each candidate of the window (stat_many done);
 * the storage orphans still candidates are asked of the manifest next.
 */
static void
judge(struct run *ru, const struct opts *o)
{
	struct arc_buf q = { 0 };
	int64_t now = o->now != ARC_TIME_UNKNOWN ? o->now : arc_time_now();
	size_t i;

	for (ru->nm = i = 0; i < ru->n; i++) {
		struct item *it = &ru->items[i];
		struct arc_sitem *s = &ru->si[i];

		if (s->presence == ARC_UNKNOWN)
			it->reason = R_ERROR;
		else if (it->kind == ARC_KIND_MANIFEST)
			it->reason = s->presence == ARC_ABSENT ?
			    R_CONFIRMED : R_PRESENT;
		else if (s->presence == ARC_ABSENT)
			it->reason = R_GONE;
		else if (!s->st.regular) {
			it->reason = R_ERROR;
			s->err.len = 0;
			arc_buf_adds(&s->err, "not a regular file");
		} else if (arc_is_young(now, s->st.mtime, o->window)) {
			it->reason = R_YOUNG;
			it->mtime = s->st.mtime;
		} else {
			/* still a candidate: ask the live manifest */
			ru->mi[ru->nm].path = it->path.s;
			ru->mi[ru->nm].pathlen = it->path.len;
			ru->midx[ru->nm++] = i;
		}
		if (it->reason == R_ERROR) {
			/* the path as records write it: one line */
			q.len = 0;
			arc_quote(&q, it->path.s, it->path.len);
			warnx("'%s': cannot check: %s", arc_buf_str(&q),
			    arc_buf_str(&s->err));
		}
	}
	arc_buf_free(&q);
}

/* The storage orphans left, asked of the live manifest; -1 to stop. */
static int
ask_manifest(struct run *ru)
{
	size_t i;

	if (ru->nm == 0)
		return 0;
	if (ru->ahead && ru->nstorage > ru->planned) {
		/* the next orphan-storage paths, this window's first */
		ru->planned = ru->wstorage + plan_ahead(ru->man, ru->wpos);
		ru->ahead = ru->planned > ru->wstorage;
	}
	if (arc_manifest_lookup(ru->man, ru->mi, ru->nm) == -1) {
		if (arc_config_error)
			return -1;	/* said once; no path can be checked */
		warnx("'%s': cannot re-read the manifest", ru->manname);
	}
	for (i = 0; i < ru->nm; i++) {
		if (ru->mi[i].result == ARC_PRESENT)
			ru->items[ru->midx[i]].reason = R_IN_MANIFEST;
		else if (ru->mi[i].result != ARC_ABSENT)
			ru->items[ru->midx[i]].reason = R_ERROR;
	}
	return 0;
}

/* The window's survivors to standard output, the others to -R. */
static void
emit(struct run *ru)
{
	struct item *it;
	size_t i;

	for (i = 0; i < ru->n; i++) {
		it = &ru->items[i];
		ru->counts[it->reason]++;
		if (it->reason == R_CONFIRMED) {
			arc_write_candidate(stdout, it->kind, it->body,
			    it->bodylen);
			continue;
		}
		if (ru->ret == ARC_EXIT_OK)
			ru->ret = ARC_EXIT_SOME;
		if (ru->rej != NULL)
			arc_write_reject(ru->rej, reason_names[it->reason],
			    it->kind, it->body, it->bodylen, reason_code(it),
			    it->reason == R_YOUNG ? it->mtime :
			    ARC_TIME_UNKNOWN);
	}
}

/* Check every window of candidates the input holds. */
static void
recheck(struct run *ru, const struct opts *o)
{
	struct arc_reader rd;
	size_t i;
	int r = 1;

	arc_reader_init(&rd, stdin, "-", ARC_REC_CANDIDATE, 1);
	while (r == 1) {
		if ((r = fill(ru, &rd)) == -1) {
			ru->ret = ARC_EXIT_ERROR;
			break;
		}
		if (ru->n == 0)
			continue;
		arc_store_stat_many(ru->store, ru->si, ru->n, o->jobs);
		if (arc_config_error) {
			/* TLS refused: the settings are wrong, not the files */
			for (i = 0; i < ru->n &&
			    ru->si[i].presence != ARC_UNKNOWN; i++)
				continue;
			if (i < ru->n)
				warnx("%s", arc_buf_str(&ru->si[i].err));
			ru->ret = ARC_EXIT_ERROR;
			break;
		}
		judge(ru, o);
		if (ask_manifest(ru) == -1) {
			ru->ret = ARC_EXIT_ERROR;
			break;
		}
		emit(ru);
		if (fflush(stdout) == EOF)
			break;
		if (ru->rej != NULL)
			fflush(ru->rej);
	}
	arc_reader_free(&rd);
}

/*
 * The -S file: how many were checked, each reason's count, and how the
 * manifest was read (arc(7), MANIFEST FILE PASSES).
 */
static int
write_stats(const char *path, const uintmax_t *counts,
    const struct arc_manifest_io *io)
{
	struct json_object *so = json_object_new_object();
	uintmax_t checked = 0;
	size_t i;
	int ret;

	for (i = 0; i < R_NREASONS; i++)
		checked += counts[i];
	json_object_object_add(so, "checked",
	    json_object_new_int64((int64_t)checked));
	for (i = 0; i < R_NREASONS; i++)
		json_object_object_add(so, stat_names[i],
		    json_object_new_int64((int64_t)counts[i]));
	json_object_object_add(so, "manifest_passes",
	    json_object_new_int64((int64_t)io->passes));
	json_object_object_add(so, "manifest_tails",
	    json_object_new_int64((int64_t)io->tails));
	ret = arc_json_save_line(path, so, 0600);
	json_object_put(so);
	return ret;
}

int
main(int argc, char *argv[])
{
	static struct run ru = { .ahead = 1 };
	struct opts o = { 0 };
	struct arc_out *rejout = NULL;
	char *operand[2];
	size_t i;

	options(argc, argv, &o, operand);
	ru.manname = operand[1];
	if ((ru.store = arc_store_open(operand[0])) == NULL ||
	    (ru.man = arc_manifest_open(operand[1])) == NULL)
		return ARC_EXIT_ERROR;
	if (o.rejfile != NULL) {
		if ((rejout = arc_out_open(o.rejfile, 0600, 0)) == NULL)
			return ARC_EXIT_ERROR;
		ru.rej = rejout->fp;
	}
	recheck(&ru, &o);
	for (i = 0; i < WINDOW_MAX; i++) {
		free(ru.items[i].body);
		arc_buf_free(&ru.items[i].path);
		arc_buf_free(&ru.si[i].err);
		arc_buf_free(&ru.si[i].etag);
	}
	arc_store_close(ru.store);
	if (arc_fshut(stdout, "stdout"))
		ru.ret = ARC_EXIT_ERROR;
	/* a failed run leaves no reject file: it would be partial */
	if (rejout != NULL && ru.ret == ARC_EXIT_ERROR)
		arc_out_abort(rejout);
	else if (rejout != NULL && arc_out_commit(rejout) == -1)
		ru.ret = ARC_EXIT_ERROR;
	if (o.statsfile != NULL && write_stats(o.statsfile, ru.counts,
	    &ru.man->io) == -1)
		ru.ret = ARC_EXIT_ERROR;
	arc_manifest_close(ru.man);
	return ru.ret;
}
