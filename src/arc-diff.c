/*
 * arc-diff - merge-join manifest records with storage records.
 *
 * Reads sorted manifest records (MANIFEST_RECORDS) and sorted storage
 * records (STORAGE_RECORDS), either may be "-", and writes candidate
 * records in path order: "orphan-manifest TAB <manifest record>" for a
 * manifest path with no stored file, "orphan-storage TAB <storage
 * record>" for a stored file with no manifest path that is older than the
 * grace window.  With -R, the paths held back (a young file, an entry of
 * another node) go to that file as reject records with their reason
 * code.  Two cursors, O(1) memory (comm(1)'s shape).
 */
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "arc.h"


struct counts {
	uintmax_t manifest, storage, orphan_manifest, orphan_storage,
	    skipped_grace;
};

static struct arc_out *rej;	/* -R */

/* An exit before the end leaves no -R file, not even a temporary one. */
static void
drop_rejects(void)
{
	arc_out_abort(rej);
	rej = NULL;
}

/* exactly the SYNOPSIS of arc-diff(1) */
static const char usage_text[] =
    "usage: arc-diff [-ms] [-g grace] [-k skew] [-o node] "
    "[-R file] [-S file]\n"
    "                [-t time] manifest-records storage-records\n";

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
next(struct arc_reader *r, struct arc_record *rec)
{
	int n;

	if ((n = arc_reader_next(r, rec)) == -1)
		exit(ARC_EXIT_ERROR);
	return n;
}

/* The -S file, replaced whole (see arc_json_save_line). */
static void
write_counts(const char *path, const struct counts *c)
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
	r = arc_json_save_line(path, o, 0600);
	json_object_put(o);
	if (r == -1)
		exit(ARC_EXIT_ERROR);
}

int
main(int argc, char *argv[])
{
	struct arc_reader mr, sr;
	struct arc_record m, s;
	struct arc_buf node = { 0 };
	struct counts c = { 0 };
	const char *statsfile = NULL, *nodeid = NULL, *rejfile = NULL;
	int64_t grace = arc_duration_const(ARC_DEFAULT_GRACE);
	int64_t skew = arc_duration_const(ARC_DEFAULT_SKEW);
	int64_t now = arc_time_now();
	int ch, cmp, havem, haves, wantm = 1, wants = 1, emitted = 0;

	while ((ch = arc_getopt(argc, argv, "g:k:mo:R:sS:t:", NULL,
	    usage_text)) != -1) {
		switch (ch) {
		case 'g':
			if (arc_duration_parse(optarg, &grace) == -1)
				errx(ARC_EXIT_ERROR, "'%s': invalid duration",
				    optarg);
			break;
		case 'k':
			if (arc_duration_parse(optarg, &skew) == -1)
				errx(ARC_EXIT_ERROR, "'%s': invalid duration",
				    optarg);
			break;
		case 'm':
			wants = 0;
			break;
		case 'o':
			nodeid = optarg;
			break;
		case 'R':
			rejfile = optarg;
			break;
		case 's':
			wantm = 0;
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
	if (strcmp(argv[0], "-") == 0 && strcmp(argv[1], "-") == 0)
		errx(ARC_EXIT_ERROR, "only one operand may be '-'");
	if (!wantm && !wants)
		errx(ARC_EXIT_ERROR, "-m and -s exclude each other");
	if (grace > INT64_MAX - skew)
		errx(ARC_EXIT_ERROR, "grace plus skew is too large");
	if (nodeid != NULL) {
		if (*nodeid == '\0' || strcmp(nodeid, "-") == 0)
			errx(ARC_EXIT_ERROR, "'%s': invalid node id", nodeid);
		arc_quote(&node, nodeid, strlen(nodeid));
	}
	if (rejfile != NULL && (rej = arc_out_open(rejfile, 0600, 0)) == NULL)
		return ARC_EXIT_ERROR;
	atexit(drop_rejects);
	arc_reader_init(&mr, open_operand(argv[0]), argv[0], ARC_REC_MANIFEST, 1);
	arc_reader_init(&sr, open_operand(argv[1]), argv[1], ARC_REC_STORAGE, 1);

	havem = next(&mr, &m);
	haves = next(&sr, &s);
	while (havem || haves) {
		if (havem && haves)
			cmp = arc_pathcmp(m.qpath, m.qpathlen, s.qpath,
			    s.qpathlen);
		else
			cmp = havem ? -1 : 1;
		if (cmp < 0) {
			c.manifest++;
			/*
			 * Local mode: only this node's own entries; an empty
			 * origin ("-") is never this node's (Arc weakness 12).
			 */
			if (nodeid == NULL || (m.originlen == node.len &&
			    memcmp(m.origin, node.s, node.len) == 0)) {
				c.orphan_manifest++;
				if (wantm) {
					arc_write_candidate(stdout,
					    ARC_KIND_MANIFEST, m.line,
					    m.linelen);
					emitted = 1;
				}
			} else if (wantm && rej != NULL)
				arc_write_reject(rej->fp, "foreign",
				    ARC_KIND_MANIFEST, m.line, m.linelen,
				    ARC_R_FOREIGN_ORIGIN, ARC_TIME_UNKNOWN);
			havem = next(&mr, &m);
		} else if (cmp > 0) {
			c.storage++;
			if (arc_is_young(now, s.time, grace + skew)) {
				c.skipped_grace++;
				if (wants && rej != NULL)
					arc_write_reject(rej->fp, "young",
					    ARC_KIND_STORAGE, s.line, s.linelen,
					    s.time == ARC_TIME_UNKNOWN ?
					    ARC_R_UNKNOWN_MTIME : ARC_R_TOO_YOUNG,
					    s.time);
			} else {
				c.orphan_storage++;
				if (wants) {
					arc_write_candidate(stdout,
					    ARC_KIND_STORAGE, s.line,
					    s.linelen);
					emitted = 1;
				}
			}
			haves = next(&sr, &s);
		} else {
			c.manifest++;
			c.storage++;
			havem = next(&mr, &m);
			haves = next(&sr, &s);
		}
	}
	arc_reader_free(&mr);
	arc_reader_free(&sr);
	arc_buf_free(&node);
	if (arc_fshut(stdout, "stdout"))
		return ARC_EXIT_ERROR;
	if (rej != NULL && arc_out_commit(rej) == -1) {
		rej = NULL;
		return ARC_EXIT_ERROR;
	}
	rej = NULL;
	if (statsfile != NULL)
		write_counts(statsfile, &c);
	return emitted ? ARC_EXIT_SOME : ARC_EXIT_OK;
}
