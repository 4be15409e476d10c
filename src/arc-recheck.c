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
#include <err.h>
#include <poll.h>

#include <json-c/json.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arc.h"

#define WINDOW_MAX	1000

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

int
main(int argc, char *argv[])
{
	struct arc_reader rd;
	struct arc_record rec;
	struct arc_store *store;
	struct arc_manifest *man;
	struct item items[WINDOW_MAX];
	struct arc_sitem si[WINDOW_MAX];
	struct arc_buf q = { 0 };
	struct arc_mitem mi[WINDOW_MAX];
	size_t midx[WINDOW_MAX];
	uintmax_t counts[R_NREASONS] = { 0 }, checked = 0;
	const char *rejfile = NULL, *statsfile = NULL, *msg;
	struct arc_out *rejout = NULL;
	struct json_object *so;
	FILE *rej = NULL;
	int64_t grace = arc_duration_const(ARC_DEFAULT_GRACE);
	int64_t skew = arc_duration_const(ARC_DEFAULT_SKEW);
	int64_t now = ARC_TIME_UNKNOWN, wnow;
	long long v;
	size_t n, i, nm;
	int ch, jobs = ARC_DEFAULT_JOBS, r = 1, ret = ARC_EXIT_OK;

	while ((ch = arc_getopt(argc, argv, "g:j:k:R:S:t:", NULL,
	    usage_text)) != -1) {
		switch (ch) {
		case 'g':
			if (arc_duration_parse(optarg, &grace) == -1)
				errx(ARC_EXIT_ERROR, "'%s': invalid duration",
				    optarg);
			break;
		case 'j':
			if (arc_parse_count(optarg, 1, ARC_JOBS_MAX, &v) == -1)
				errx(ARC_EXIT_ERROR, "'%s': jobs must be 1 to "
				    ARC_STR(ARC_JOBS_MAX), optarg);
			jobs = (int)v;
			break;
		case 'k':
			if (arc_duration_parse(optarg, &skew) == -1)
				errx(ARC_EXIT_ERROR, "'%s': invalid duration",
				    optarg);
			break;
		case 'R':
			rejfile = optarg;
			break;
		case 'S':
			statsfile = optarg;
			break;
		case 't':
			if (arc_time_parse(optarg, strlen(optarg),
			    ARC_TIME_LENIENT, &now) == -1)
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
	if (grace > INT64_MAX - skew)
		errx(ARC_EXIT_ERROR, "grace plus skew is too large");
	if ((store = arc_store_open(argv[0])) == NULL ||
	    (man = arc_manifest_open(argv[1])) == NULL)
		return ARC_EXIT_ERROR;
	if (rejfile != NULL) {
		if ((rejout = arc_out_open(rejfile, 0600, 0)) == NULL)
			return ARC_EXIT_ERROR;
		rej = rejout->fp;
	}

	memset(items, 0, sizeof(items));
	memset(si, 0, sizeof(si));
	arc_reader_init(&rd, stdin, "-", ARC_REC_CANDIDATE, 1);
	while (r == 1) {
		/* Fill a window: up to WINDOW_MAX, or until input pauses. */
		for (n = 0; n < WINDOW_MAX; ) {
			if ((r = arc_reader_next(&rd, &rec)) != 1)
				break;
			items[n].body = arc_erealloc(items[n].body,
			    rec.bodylen + 1);
			memcpy(items[n].body, rec.body, rec.bodylen);
			items[n].bodylen = rec.bodylen;
			items[n].kind = rec.kind;
			items[n].path.len = 0;
			items[n].reason = R_CONFIRMED;
			if (arc_unquote(&items[n].path, rec.qpath,
			    rec.qpathlen, &msg) == -1) {
				r = -1;
				break;
			}
			n++;
			if (!input_waiting())
				break;
		}
		if (r == -1) {
			ret = ARC_EXIT_ERROR;
			break;
		}
		if (n == 0)
			continue;

		for (i = 0; i < n; i++) {
			si[i].path = items[i].path.s;
			si[i].pathlen = items[i].path.len;
			si[i].err.len = 0;
		}
		arc_store_stat_many(store, si, n, jobs);
		if (arc_config_error) {
			/* TLS refused: the settings are wrong, not the files */
			for (i = 0; i < n && si[i].presence != ARC_UNKNOWN; i++)
				continue;
			if (i < n)
				warnx("%s", arc_buf_str(&si[i].err));
			ret = ARC_EXIT_ERROR;
			break;
		}
		wnow = now != ARC_TIME_UNKNOWN ? now : arc_time_now();
		nm = 0;
		for (i = 0; i < n; i++) {
			struct item *it = &items[i];
			struct arc_sitem *s = &si[i];

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
			} else if (arc_is_young(wnow, s->st.mtime, grace + skew)) {
				it->reason = R_YOUNG;
				it->mtime = s->st.mtime;
			} else {
				/* still a candidate: ask the live manifest */
				mi[nm].path = it->path.s;
				mi[nm].pathlen = it->path.len;
				midx[nm++] = i;
			}
			if (it->reason == R_ERROR) {
				/* the path as records write it: one line */
				q.len = 0;
				arc_quote(&q, it->path.s, it->path.len);
				warnx("'%s': cannot check: %s", arc_buf_str(&q),
				    arc_buf_str(&s->err));
			}
		}
		if (nm > 0) {
			if (arc_manifest_lookup(man, mi, nm) == -1) {
				if (arc_config_error) {
					/* said once; no path can be checked */
					ret = ARC_EXIT_ERROR;
					break;
				}
				warnx("'%s': cannot re-read the manifest",
				    argv[1]);
			}
			for (i = 0; i < nm; i++) {
				if (mi[i].result == ARC_PRESENT)
					items[midx[i]].reason = R_IN_MANIFEST;
				else if (mi[i].result != ARC_ABSENT)
					items[midx[i]].reason = R_ERROR;
			}
		}
		for (i = 0; i < n; i++) {
			struct item *it = &items[i];

			counts[it->reason]++;
			if (it->reason == R_CONFIRMED) {
				arc_write_candidate(stdout, it->kind,
				    it->body, it->bodylen);
			} else {
				if (ret == ARC_EXIT_OK)
					ret = ARC_EXIT_SOME;
				if (rej != NULL)
					arc_write_reject(rej,
					    reason_names[it->reason],
					    it->kind, it->body, it->bodylen,
					    reason_code(it), it->reason ==
					    R_YOUNG ? it->mtime :
					    ARC_TIME_UNKNOWN);
			}
		}
		if (fflush(stdout) == EOF)
			break;
		if (rej != NULL)
			fflush(rej);
	}
	arc_reader_free(&rd);
	arc_buf_free(&q);
	for (i = 0; i < WINDOW_MAX; i++) {
		free(items[i].body);
		arc_buf_free(&items[i].path);
		arc_buf_free(&si[i].err);
		arc_buf_free(&si[i].etag);
	}
	arc_store_close(store);
	arc_manifest_close(man);
	if (arc_fshut(stdout, "stdout"))
		ret = ARC_EXIT_ERROR;
	/* a failed run leaves no reject file: it would be partial */
	if (rejout != NULL && ret == ARC_EXIT_ERROR)
		arc_out_abort(rejout);
	else if (rejout != NULL && arc_out_commit(rejout) == -1)
		ret = ARC_EXIT_ERROR;
	if (statsfile != NULL) {
		so = json_object_new_object();
		for (i = 0; i < R_NREASONS; i++)
			checked += counts[i];
		json_object_object_add(so, "checked",
		    json_object_new_int64((int64_t)checked));
		for (i = 0; i < R_NREASONS; i++)
			json_object_object_add(so, stat_names[i],
			    json_object_new_int64((int64_t)counts[i]));
		if (arc_json_save_line(statsfile, so, 0600) == -1)
			ret = ARC_EXIT_ERROR;
		json_object_put(so);
	}
	return ret;
}
