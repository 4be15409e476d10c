/*
 * arc-delete - repair confirmed drift, within caps, archive first.
 *
 * Reads confirmed candidate records (arc(7)) on standard input and writes
 * one line per processed candidate, "result TAB kind TAB path TAB code",
 * to standard output; -R gets the candidates the cap leaves, as reject
 * records.  Orphan-manifest candidates are handled first (their
 * manifest entries removed), then orphan-storage candidates (their files
 * removed), each kind in path order and in batches.  Nothing changes
 * without --act.  Before the first change the -A archive is written and
 * made durable: every input record, the run's options and counts, the
 * full manifest entries about to be removed and, with --archive-files,
 * the content of every file about to be removed.  -a appends audit
 * events, made durable batch by batch.
 *
 * All input is read before anything is done: the cap, the archive and the
 * manifest-first order need the whole plan.  Records go to temporary
 * files; only the planned candidates (at most the cap) are held in memory.
 */
#include <sys/stat.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "arc.h"

#define EXIT_MANIFEST_FAILED	4
#define DELETE_JOBS		8	/* storage calls in flight */

enum plan { P_PLANNED, P_REFUSED, P_FAILED };

struct cand {
	char		*line;		/* the candidate record */
	char		*qpath;		/* points into line */
	size_t		 qpathlen;
	char		*path;		/* decoded */
	size_t		 pathlen;
	char		*rev;		/* manifest rev field, quoted */
	size_t		 revlen;
	int64_t		 time, size;
	int		 plan;
	const char	*why;		/* reason refused */
	char		*json;		/* full manifest entry, for the archive */
	char		*etag;		/* seen by --if-unchanged */
	const char	*res;		/* the result word, once known */
	int		 code;		/* and its reason code (arc(7)) */
};

struct list {
	struct cand	*v;
	size_t		 n, cap;
};

static struct {
	int		 act;
	int		 archive_files;
	int		 pre_manifest;
	int		 if_unchanged;
	int		 partial;	/* --listing-partial */
	const char	*archive;
	const char	*audit;
	const char	*prefix;
	const char	*stats;
	const char	*run_id;
	const char	*deferred;
	long long	 max, batch, sample;
	long long	 done_before;	/* -N: deletes earlier in the run */
	char		**includes;
	size_t		 nincludes;
} opt = { .max = ARC_DEFAULT_MAX_DELETES, .batch = ARC_DEFAULT_BATCH,
	.sample = ARC_DEFAULT_SAMPLE, .prefix = "" };

static struct {
	uintmax_t	 input, manifest_in, storage_in;
	uintmax_t	 deleted[3], would[3], gone[3], refused[3], failed[3];
	uintmax_t	 changed[3], deferred, leftover;
	int		 cap_kind;	/* the kind the cap stopped */
	int		 cap_emitted;
	uintmax_t	 bytes_freed;
	int		 cap_hit;
} count;

static volatile sig_atomic_t stopping;
static int halted;		/* a state write failed: delete nothing more */
static struct arc_out *stats_out;	/* -S, made before anything is deleted */
static struct arc_out *rejects;		/* -R: the candidates left by the cap */
static struct arc_audit *audit;

/* exactly the SYNOPSIS of arc-delete(1) */
static const char usage_text[] =
    "usage: arc-delete [--act] [--archive-files] "
    "[--delete-pre-manifest-orphans]\n"
    "                  [--deferred file] [--if-unchanged] "
    "[--listing-partial] [-A archive]\n"
    "                  [-a audit] [-b batch] [-I name=file] [-N done] "
    "[-n max] [-P prefix]\n"
    "                  [-R file] [-r run-id] [-S file] [-s sample] "
    "store manifest\n"
    "       arc-delete --restore archive store manifest\n";

static void
usage(void)
{
	arc_usage(usage_text, ARC_EXIT_ERROR);
}

static void
on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

/*
 * Results are printed a batch at a time, in path order, whatever order
 * they were decided in (refusals come first, deletes last).
 */
static void
result(const char *what, int code, struct cand *c)
{
	c->res = what;
	c->code = code;
}

static void
print_results(struct list *l, size_t from, size_t to, int kind)
{
	size_t i;

	for (i = from; i < to; i++)
		if (l->v[i].res != NULL)
			arc_write_result(stdout, l->v[i].res, kind,
			    l->v[i].path, l->v[i].pathlen, l->v[i].code);
	fflush(stdout);
}

/*
 * Plan one kind: read its records back from fp, refuse the unsafe ones,
 * plan the rest in order until the cap, count what is left over.
 */
static void
plan_kind(FILE *fp, int kind, struct list *l, long long *room)
{
	struct arc_reader rd;
	struct arc_record rec;
	struct arc_buf path = { 0 };
	struct cand *c;
	const char *why, *msg;
	int r;

	rewind(fp);
	arc_reader_init(&rd, fp, "-", ARC_REC_CANDIDATE, 0);
	while ((r = arc_reader_next(&rd, &rec)) == 1) {
		path.len = 0;
		if (arc_unquote(&path, rec.qpath, rec.qpathlen, &msg) == -1)
			errx(ARC_EXIT_ERROR, "corrupt temporary file");
		why = arc_path_unsafe(path.s, path.len);
		if (why == NULL && kind == ARC_KIND_STORAGE &&
		    !opt.pre_manifest && !arc_path_is_managed(path.s, path.len))
			why = "not a managed path (fewer than 7 segments)";
		/*
		 * At the cap the rest is left untouched; refusals use no room
		 * and are still reported, never silently dropped.
		 */
		if (why == NULL && *room == 0) {
			count.leftover++;
			if (rejects != NULL)
				arc_write_reject(rejects->fp, "cap-deferred",
				    kind, rec.body, rec.bodylen,
				    ARC_R_CAP_DEFERRED, ARC_TIME_UNKNOWN);
			if (!count.cap_hit)
				count.cap_kind = kind;
			count.cap_hit = 1;
			continue;
		}
		if (l->n == l->cap) {
			l->cap = l->cap ? l->cap * 2 : 256;
			l->v = arc_ereallocarray(l->v, l->cap, sizeof(*l->v));
		}
		c = &l->v[l->n++];
		memset(c, 0, sizeof(*c));
		c->line = arc_estrndup(rec.line, rec.linelen);
		c->qpath = c->line + (rec.qpath - rec.line);
		c->qpathlen = rec.qpathlen;
		c->path = arc_estrndup(path.s, path.len);
		c->pathlen = path.len;
		if (rec.rev != NULL) {
			c->rev = c->line + (rec.rev - rec.line);
			c->revlen = rec.revlen;
		}
		c->time = rec.time;
		c->size = rec.size;
		c->plan = why ? P_REFUSED : P_PLANNED;
		c->why = why;
		if (!why)
			(*room)--;
	}
	if (r == -1)
		errx(ARC_EXIT_ERROR, "corrupt temporary file");
	arc_reader_free(&rd);
	arc_buf_free(&path);
}

static void
run_json(struct arc_buf *b, const struct list *m, const struct list *s)
{
	struct json_object *o, *op, *c;
	char host[256], tbuf[ARC_TIME_BUFSZ];
	size_t i, pm = 0, ps = 0;

	for (i = 0; i < m->n; i++)
		pm += m->v[i].plan == P_PLANNED;
	for (i = 0; i < s->n; i++)
		ps += s->v[i].plan == P_PLANNED;
	if (gethostname(host, sizeof(host)) == -1)
		strcpy(host, "-");
	host[sizeof(host) - 1] = '\0';
	o = json_object_new_object();
	json_object_object_add(o, "run_id", arc_json_text(opt.run_id));
	json_object_object_add(o, "time", json_object_new_string(
	    arc_time_format(arc_time_now(), tbuf)));
	json_object_object_add(o, "host", arc_json_text(host));
	json_object_object_add(o, "dry_run", json_object_new_boolean(!opt.act));
	op = json_object_new_object();
	json_object_object_add(op, "max_deletes", json_object_new_int64(opt.max));
	json_object_object_add(op, "batch_size", json_object_new_int64(opt.batch));
	json_object_object_add(op, "archive_files",
	    json_object_new_boolean(opt.archive_files));
	json_object_object_add(op, "delete_pre_manifest_orphans",
	    json_object_new_boolean(opt.pre_manifest));
	json_object_object_add(op, "if_unchanged",
	    json_object_new_boolean(opt.if_unchanged));
	json_object_object_add(o, "options", op);
	c = json_object_new_object();
	json_object_object_add(c, "input", json_object_new_int64(
	    (int64_t)count.input));
	json_object_object_add(c, "orphan_manifest", json_object_new_int64(
	    (int64_t)count.manifest_in));
	json_object_object_add(c, "orphan_storage", json_object_new_int64(
	    (int64_t)count.storage_in));
	json_object_object_add(c, "planned_manifest",
	    json_object_new_int64((int64_t)pm));
	json_object_object_add(c, "planned_storage",
	    json_object_new_int64((int64_t)ps));
	json_object_object_add(c, "refused", json_object_new_int64(
	    (int64_t)(m->n - pm + s->n - ps)));
	json_object_object_add(c, "left_over_by_cap",
	    json_object_new_int64((int64_t)count.leftover));
	json_object_object_add(o, "counts", c);
	arc_buf_adds(b, json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	arc_buf_addc(b, '\n');
	json_object_put(o);
}

static char *
member(const char *name)
{
	struct arc_buf b = { 0 };

	arc_buf_adds(&b, opt.prefix);
	arc_buf_adds(&b, name);
	return b.s;
}

/*
 * Write the archive and make it durable; every failure here means that
 * nothing is deleted.
 */
static int
write_archive(struct arc_store *st, FILE *all, const struct list *m,
    struct list *s)
{
	struct arc_archive *ar;
	struct arc_buf b = { 0 }, eb = { 0 }, name = { 0 };
	struct arc_stat sb;
	char *mname, *eq;
	size_t i;
	int fd, r;
	FILE *tmp;

	if ((ar = arc_archive_create(opt.archive, opt.run_id)) == NULL)
		return -1;
	mname = member("candidates.tsv");
	r = arc_archive_add_fd(ar, mname, fileno(all), arc_time_now());
	free(mname);
	if (r == -1)
		goto fail;
	run_json(&b, m, s);
	mname = member("run.json");
	r = arc_archive_add_mem(ar, mname, b.s, b.len);
	free(mname);
	if (r == -1)
		goto fail;
	/* strings in the spelling of paths: strict JSON whatever the bytes */
	b.len = 0;
	for (i = 0; i < m->n; i++)
		if (m->v[i].json != NULL) {
			if (arc_json_spell_strings(&b, m->v[i].json,
			    strlen(m->v[i].json), 0) == -1) {
				warnx("'%.*s': the manifest entry is not JSON",
				    (int)m->v[i].qpathlen, m->v[i].qpath);
				goto fail;
			}
			arc_buf_addc(&b, '\n');
		}
	if (b.len > 0) {
		mname = member("manifest-entries.ndjson");
		r = arc_archive_add_mem(ar, mname, b.s, b.len);
		free(mname);
		if (r == -1)
			goto fail;
	}
	for (i = 0; i < opt.nincludes; i++) {
		eq = strchr(opt.includes[i], '=');
		name.len = 0;
		arc_buf_add(&name, opt.includes[i],
		    (size_t)(eq - opt.includes[i]));
		if ((fd = open(eq + 1, O_RDONLY | O_CLOEXEC)) == -1) {
			warn("cannot open '%s'", eq + 1);
			goto fail;
		}
		r = arc_archive_add_fd(ar, arc_buf_str(&name), fd,
		    arc_time_now());
		close(fd);
		if (r == -1)
			goto fail;
	}
	for (i = 0; opt.archive_files && i < s->n; i++) {
		struct cand *c = &s->v[i];

		if (c->plan != P_PLANNED)
			continue;
		tmp = arc_tmpstream();
		r = arc_store_get(st, c->path, c->pathlen, fileno(tmp), &sb, &eb);
		if (r == ARC_ABSENT) {
			fclose(tmp);
			continue;	/* already gone: nothing to keep */
		}
		if (r != ARC_PRESENT) {
			/*
			 * This file only: what is not in the archive is not
			 * deleted (a FIFO or link swapped in, a read error),
			 * and the others go on.
			 */
			warnx("'%.*s': cannot archive: %s; not deleted",
			    (int)c->qpathlen, c->qpath, arc_buf_str(&eb));
			c->plan = P_FAILED;
			fclose(tmp);
			continue;
		}
		name.len = 0;
		arc_buf_adds(&name, opt.prefix);
		arc_buf_adds(&name, "quarantine/");
		arc_buf_add(&name, c->path, c->pathlen);
		r = arc_archive_add_fd(ar, arc_buf_str(&name), fileno(tmp),
		    sb.mtime);
		fclose(tmp);
		if (r == -1)
			goto fail;
	}
	arc_buf_free(&b);
	arc_buf_free(&eb);
	arc_buf_free(&name);
	return arc_archive_commit(ar);
fail:
	arc_archive_abort(ar);
	arc_buf_free(&b);
	arc_buf_free(&eb);
	arc_buf_free(&name);
	return -1;
}

static void
sample(struct arc_buf *b, struct cand **v, size_t n)
{
	size_t i;

	b->len = 0;
	arc_buf_grow(b, 0);
	b->s[0] = '\0';
	for (i = 0; i < n && (long long)i < opt.sample; i++) {
		if (i)
			arc_buf_addc(b, '\n');
		arc_json_path_text(b, v[i]->path, v[i]->pathlen);
	}
}

/*
 * Before a batch is deleted: room in the audit log for the event that
 * will record it (an upper bound: every byte of a sampled path escaped),
 * so that nothing is deleted that could not be recorded.
 */
static int
reserve_audit(struct cand **v, size_t n)
{
	size_t i, room;

	room = 1024 + 18 * strlen(opt.run_id);
	for (i = 0; i < n && (long long)i < opt.sample; i++)
		room += 6 * v[i]->pathlen + 8;
	if (arc_audit_reserve(audit, room) == -1) {
		halted = 1;
		return -1;
	}
	return 0;
}

static void
batch_event(const char *event, struct cand **v, size_t n, uintmax_t done)
{
	struct arc_buf smp = { 0 };
	char num[32];

	sample(&smp, v, n);
	snprintf(num, sizeof(num), "%ju", done);
	if (opt.act)
		arc_audit_event(audit, event, opt.run_id, "count", num,
		    "sample", smp.s, (char *)NULL);
	else
		arc_audit_event(audit, event, opt.run_id, "count", num,
		    "sample", smp.s, "mode", "dry_run", (char *)NULL);
	arc_buf_free(&smp);
}

static uintmax_t
deletes_so_far(void)
{
	return (uintmax_t)opt.done_before + (opt.act ? count.deleted[1] +
	    count.deleted[2] : count.would[1] + count.would[2]);
}

/* reconcile.cap_hit, once, where Arc puts it (see the phases). */
static void
cap_event(void)
{
	char num[32];

	if (count.cap_emitted || !count.cap_hit || stopping)
		return;
	count.cap_emitted = 1;
	snprintf(num, sizeof(num), "%ju", deletes_so_far());
	arc_audit_event(audit, "reconcile.cap_hit", opt.run_id,
	    "deletes_so_far", num, (char *)NULL);
}

/* Whether no planned candidate is left in l from index i on. */
static int
last_batch(const struct list *l, size_t i)
{
	for (; i < l->n; i++)
		if (l->v[i].plan == P_PLANNED)
			return 0;
	return 1;
}

/* A batch's events made durable; on failure no further batch starts. */
static void
sync_audit(void)
{
	if (arc_audit_sync(audit) == -1)
		halted = 1;
}

/* The manifest half: 0, or -1 when a batch failed (exit 4). */
static int
manifest_phase(struct arc_manifest *man, struct list *l)
{
	struct cand **bv;
	struct arc_mitem *mi;
	struct arc_buf eb = { 0 };
	size_t i, j, n, done, start;

	bv = arc_ereallocarray(NULL, (size_t)opt.batch, sizeof(*bv));
	mi = arc_ecalloc((size_t)opt.batch, sizeof(*mi));
	for (i = start = 0; i < l->n; ) {
		print_results(l, start, i, ARC_KIND_MANIFEST);
		start = i;
		if (stopping || halted)
			break;
		/* a batch: up to -b planned candidates, refusals in order */
		for (n = 0; i < l->n && n < (size_t)opt.batch; i++) {
			struct cand *c = &l->v[i];

			if (c->plan == P_REFUSED) {
				warnx("'%.*s': refused: %s", (int)c->qpathlen,
				    c->qpath, c->why);
				result("refused", ARC_R_LAYOUT_MISMATCH, c);
				count.refused[ARC_KIND_MANIFEST]++;
				continue;
			}
			bv[n++] = c;
		}
		if (n == 0)
			continue;
		/* Arc: a chunk the cap cut short gets cap_hit before its event */
		if (count.cap_kind == ARC_KIND_MANIFEST && last_batch(l, i))
			cap_event();
		if (!opt.act) {
			for (j = 0; j < n; j++)
				result("would-delete", opt.partial ?
				    ARC_R_LISTING_PARTIAL : ARC_R_ORPHAN_MANIFEST, bv[j]);
			count.would[ARC_KIND_MANIFEST] += n;
			batch_event("reconcile.manifest_batch_deleted", bv, n, n);
			sync_audit();
			continue;
		}
		if (reserve_audit(bv, n) == -1)
			break;	/* these are not started: no result */
		for (j = 0; j < n; j++) {
			mi[j].path = bv[j]->path;
			mi[j].pathlen = bv[j]->pathlen;
			mi[j].rev = bv[j]->rev;
			mi[j].revlen = bv[j]->revlen;
		}
		if (arc_manifest_remove(man, mi, n, &eb) == -1) {
			for (j = 0; j < n; j++)
				result("failed", ARC_R_DELETE_FAILED, bv[j]);
			count.failed[ARC_KIND_MANIFEST] += n;
			warnx("manifest batch of %zu failed: %s; nothing further "
			    "is deleted", n, arc_buf_str(&eb));
			print_results(l, start, i, ARC_KIND_MANIFEST);
			free(bv);
			free(mi);
			arc_buf_free(&eb);
			return -1;
		}
		done = 0;
		for (j = 0; j < n; j++) {
			switch (mi[j].result) {
			case ARC_M_DELETED:
				result("deleted", ARC_R_DELETED, bv[j]);
				bv[done++] = bv[j];
				break;
			case ARC_M_GONE:
				result("gone", ARC_R_GONE, bv[j]);
				count.gone[ARC_KIND_MANIFEST]++;
				break;
			case ARC_M_DEFERRED:
				/* a read-only source: written out, not deleted */
				result("deferred", ARC_R_DEFERRED, bv[j]);
				count.deferred++;
				break;
			default:
				result("changed", ARC_R_CHANGED_SINCE_LISTING, bv[j]);
				count.changed[ARC_KIND_MANIFEST]++;
				break;
			}
		}
		count.deleted[ARC_KIND_MANIFEST] += done;
		if (done > 0)
			batch_event("reconcile.manifest_batch_deleted", bv, done,
			    done);
		sync_audit();
	}
	print_results(l, start, i, ARC_KIND_MANIFEST);
	free(bv);
	free(mi);
	arc_buf_free(&eb);
	return 0;
}

static void
storage_phase(struct arc_store *st, struct arc_manifest *man, struct list *l)
{
	struct cand **bv;
	struct arc_mitem *mi;
	struct arc_sitem *si;
	size_t i, j, n, k, applied, start;

	bv = arc_ereallocarray(NULL, (size_t)opt.batch, sizeof(*bv));
	mi = arc_ecalloc((size_t)opt.batch, sizeof(*mi));
	si = arc_ecalloc((size_t)opt.batch, sizeof(*si));
	for (i = start = 0; i < l->n; ) {
		print_results(l, start, i, ARC_KIND_STORAGE);
		start = i;
		if (stopping || halted)
			break;
		for (n = 0; i < l->n && n < (size_t)opt.batch; i++) {
			struct cand *c = &l->v[i];

			if (c->plan == P_REFUSED) {
				warnx("'%.*s': refused: %s", (int)c->qpathlen,
				    c->qpath, c->why);
				result("refused", ARC_R_LAYOUT_MISMATCH, c);
				count.refused[ARC_KIND_STORAGE]++;
				continue;
			}
			if (c->plan == P_FAILED) {
				/* not archived; warned about when archiving */
				result("failed", ARC_R_DELETE_FAILED, c);
				count.failed[ARC_KIND_STORAGE]++;
				continue;
			}
			bv[n++] = c;
		}
		if (n == 0)
			continue;
		/*
		 * The last word before a delete: a path registered since the
		 * re-check is refused, never deleted.
		 */
		for (j = 0; j < n; j++) {
			mi[j].path = bv[j]->path;
			mi[j].pathlen = bv[j]->pathlen;
		}
		if (arc_manifest_lookup(man, mi, n) == -1)
			warnx("the manifest did not answer for every path; "
			    "those paths are refused");
		for (j = k = 0; j < n; j++) {
			if (mi[j].result != ARC_ABSENT) {
				warnx("'%.*s': refused: %s",
				    (int)bv[j]->qpathlen, bv[j]->qpath,
				    mi[j].result == ARC_PRESENT ?
				    "now in the manifest" :
				    "manifest lookup failed");
				result("refused", mi[j].result ==
				    ARC_PRESENT ? ARC_R_RECHECK_REGISTERED :
				    ARC_R_RECHECK_ERROR, bv[j]);
				count.refused[ARC_KIND_STORAGE]++;
				continue;
			}
			bv[k++] = bv[j];
		}
		n = k;
		if (opt.if_unchanged && n > 0) {
			/*
			 * Delete only the object that was listed: same size
			 * and mtime now, and (where the store has ETags) the
			 * delete is conditional on the ETag seen now.
			 */
			for (j = 0; j < n; j++) {
				si[j].path = bv[j]->path;
				si[j].pathlen = bv[j]->pathlen;
			}
			arc_store_stat_many(st, si, n, DELETE_JOBS);
			for (j = k = 0; j < n; j++) {
				if (si[j].presence == ARC_ABSENT) {
					result("gone", ARC_R_GONE, bv[j]);
					count.gone[ARC_KIND_STORAGE]++;
					continue;
				}
				if (si[j].presence != ARC_PRESENT) {
					warnx("'%.*s': cannot check: %s",
					    (int)bv[j]->qpathlen, bv[j]->qpath,
					    arc_buf_str(&si[j].err));
					result("failed", ARC_R_RECHECK_ERROR,
					    bv[j]);
					count.failed[ARC_KIND_STORAGE]++;
					continue;
				}
				if (!si[j].st.regular ||
				    (bv[j]->time != ARC_TIME_UNKNOWN &&
				    si[j].st.mtime != bv[j]->time) ||
				    (bv[j]->size >= 0 &&
				    si[j].st.size != bv[j]->size)) {
					result("changed", ARC_R_CHANGED_SINCE_LISTING,
					    bv[j]);
					count.changed[ARC_KIND_STORAGE]++;
					continue;
				}
				free(bv[j]->etag);
				bv[j]->etag = si[j].etag.len ?
				    arc_estrdup(si[j].etag.s) : NULL;
				bv[k++] = bv[j];
			}
			n = k;
		}
		if (n == 0) {
			sync_audit();
			continue;
		}
		if (!opt.act) {
			for (j = 0; j < n; j++)
				result("would-delete", ARC_R_ORPHAN_STORAGE, bv[j]);
			count.would[ARC_KIND_STORAGE] += n;
			batch_event("reconcile.storage_batch_deleted", bv, n, n);
			sync_audit();
			continue;
		}
		if (reserve_audit(bv, n) == -1)
			break;	/* these are not started: no result */
		for (j = 0; j < n; j++) {
			si[j].path = bv[j]->path;
			si[j].pathlen = bv[j]->pathlen;
			si[j].if_match = bv[j]->etag;
		}
		arc_store_remove_many(st, si, n, DELETE_JOBS);
		applied = 0;
		for (j = 0; j < n; j++) {
			switch (si[j].removal) {
			case ARC_REMOVED:
				result("deleted", ARC_R_DELETED, bv[j]);
				count.deleted[ARC_KIND_STORAGE]++;
				if (bv[j]->size > 0)
					count.bytes_freed += (uintmax_t)bv[j]->size;
				applied++;
				break;
			case ARC_GONE:
				result("gone", ARC_R_GONE, bv[j]);
				count.gone[ARC_KIND_STORAGE]++;
				applied++;
				break;
			case ARC_REMOVE_CHANGED:
				result("changed", ARC_R_CHANGED_SINCE_LISTING, bv[j]);
				count.changed[ARC_KIND_STORAGE]++;
				break;
			default:
				warnx("'%.*s': cannot delete: %s",
				    (int)bv[j]->qpathlen, bv[j]->qpath,
				    arc_buf_str(&si[j].err));
				result("failed", ARC_R_DELETE_FAILED, bv[j]);
				count.failed[ARC_KIND_STORAGE]++;
				break;
			}
		}
		/* Arc's sample is of the attempted paths */
		batch_event("reconcile.storage_batch_deleted", bv, n, applied);
		sync_audit();
	}
	print_results(l, start, i, ARC_KIND_STORAGE);
	for (j = 0; j < (size_t)opt.batch; j++) {
		arc_buf_free(&si[j].etag);
		arc_buf_free(&si[j].err);
	}
	free(si);
	free(bv);
	free(mi);
}

/* add a count to a stats object */
static void
stat_add(struct json_object *o, const char *key, uintmax_t v)
{
	json_object_object_add(o, key, json_object_new_int64((int64_t)v));
}

/* An exit before the stats are written leaves no temporary file. */
static void
drop_stats(void)
{
	arc_out_abort(stats_out);
	stats_out = NULL;
	arc_out_abort(rejects);
	rejects = NULL;
}

/*
 * The -S file, put in place whole (its temporary file was made at the
 * start, so that an unwritable directory stops the run before any
 * delete); 0, or -1 after a message naming it.
 */
static int
write_stats(void)
{
	struct json_object *o;
	struct arc_out *so = stats_out;
	int r;

	if (so == NULL)
		return 0;
	stats_out = NULL;
	o = json_object_new_object();
	stat_add(o, "input", count.input);
	stat_add(o, "manifest_deletes", count.deleted[1]);
	stat_add(o, "storage_deletes", count.deleted[2]);
	stat_add(o, "would_delete_manifest", count.would[1]);
	stat_add(o, "would_delete_storage", count.would[2]);
	stat_add(o, "gone", count.gone[1] + count.gone[2]);
	stat_add(o, "refused", count.refused[1] + count.refused[2]);
	stat_add(o, "failed", count.failed[1] + count.failed[2]);
	stat_add(o, "changed", count.changed[1] + count.changed[2]);
	stat_add(o, "deferred", count.deferred);
	stat_add(o, "left_over_by_cap", count.leftover);
	json_object_object_add(o, "cap_hit",
	    json_object_new_boolean(count.cap_hit));
	stat_add(o, "bytes_freed", count.bytes_freed);
	json_object_object_add(o, "interrupted",
	    json_object_new_boolean(stopping));
	fprintf(so->fp, "%s\n", json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	r = arc_out_commit(so);
	json_object_put(o);
	return r;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "act", no_argument, NULL, 'X' },
		{ "archive-files", no_argument, NULL, 'F' },
		{ "delete-pre-manifest-orphans", no_argument, NULL, 'D' },
		{ "if-unchanged", no_argument, NULL, 'U' },
		{ "restore", required_argument, NULL, 'T' },
		{ "deferred", required_argument, NULL, 'E' },
		{ "listing-partial", no_argument, NULL, 'L' },
		{ NULL, 0, NULL, 0 }
	};
	struct arc_store *st;
	struct arc_manifest *man;
	struct arc_reader rd;
	struct arc_record rec;
	struct list ml = { 0 }, sl = { 0 };
	struct arc_mitem *mi;
	struct sigaction sa;
	const char *restore = NULL, *rejfile = NULL;
	long long room;
	FILE *all, *mf, *sf;
	size_t i, np;
	int ch, r, ret;

	while ((ch = arc_getopt(argc, argv, "A:a:b:I:N:n:P:R:r:S:s:",
	    longopts, usage_text)) != -1) {
		switch (ch) {
		case 'X': opt.act = 1; break;
		case 'F': opt.archive_files = 1; break;
		case 'D': opt.pre_manifest = 1; break;
		case 'U': opt.if_unchanged = 1; break;
		case 'T': restore = optarg; break;
		case 'E': opt.deferred = optarg; break;
		case 'L': opt.partial = 1; break;
		case 'R': rejfile = optarg; break;
		case 'A': opt.archive = optarg; break;
		case 'a': opt.audit = optarg; break;
		case 'b':
			if (arc_parse_count(optarg, 1, 1000000, &opt.batch))
				errx(ARC_EXIT_ERROR, "'%s': invalid batch size",
				    optarg);
			break;
		case 'I':
			if (strchr(optarg, '=') == NULL ||
			    optarg[0] == '=')
				errx(ARC_EXIT_ERROR, "'%s': not name=file",
				    optarg);
			opt.includes = arc_ereallocarray(opt.includes,
			    opt.nincludes + 1, sizeof(*opt.includes));
			opt.includes[opt.nincludes++] = optarg;
			break;
		case 'N':
			if (arc_parse_count(optarg, 0, INT64_MAX,
			    &opt.done_before))
				errx(ARC_EXIT_ERROR, "'%s': invalid count", optarg);
			break;
		case 'n':
			if (arc_parse_count(optarg, 0, INT64_MAX, &opt.max))
				errx(ARC_EXIT_ERROR, "'%s': invalid maximum",
				    optarg);
			break;
		case 'P': opt.prefix = optarg; break;
		case 'r': opt.run_id = optarg; break;
		case 'S': opt.stats = optarg; break;
		case 's':
			if (arc_parse_count(optarg, 0, 1000000, &opt.sample))
				errx(ARC_EXIT_ERROR, "'%s': invalid sample size",
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
		errx(ARC_EXIT_ERROR, "the manifest cannot be '-'");
	if ((st = arc_store_open(argv[0])) == NULL ||
	    (man = arc_manifest_open(argv[1])) == NULL)
		return ARC_EXIT_ERROR;
	man->deferred = opt.deferred;

	/* --restore: an alias of arc-restore(1), the same function */
	if (restore != NULL) {
		ret = arc_restore(restore, st, man);
		arc_store_close(st);
		arc_manifest_close(man);
		if (arc_fshut(stdout, "stdout"))
			return ARC_EXIT_ERROR;
		return ret;
	}
	if (opt.act && opt.archive == NULL)
		errx(ARC_EXIT_ERROR, "--act needs an archive (-A): nothing is "
		    "deleted without one");
	/* a partial listing makes live entries look orphaned: report only */
	if (opt.act && opt.partial)
		errx(ARC_EXIT_ERROR, "--listing-partial excludes --act: no "
		    "manifest entry is deleted after a partial listing");
	if (opt.run_id == NULL)
		opt.run_id = arc_run_id();
	if (opt.audit != NULL && (audit = arc_audit_open(opt.audit)) == NULL)
		return ARC_EXIT_ERROR;
	if (opt.stats != NULL &&
	    (stats_out = arc_out_open(opt.stats, 0600, 0)) == NULL)
		return ARC_EXIT_ERROR;
	if (rejfile != NULL &&
	    (rejects = arc_out_open(rejfile, 0600, 0)) == NULL)
		return ARC_EXIT_ERROR;
	atexit(drop_stats);

	/* SIGTERM, SIGINT: finish the current batch, start no other. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	/* Read everything, verbatim into one file and by kind into two. */
	all = arc_tmpstream();
	mf = arc_tmpstream();
	sf = arc_tmpstream();
	arc_reader_init(&rd, stdin, "-", ARC_REC_CANDIDATE, 1);
	while ((r = arc_reader_next(&rd, &rec)) == 1) {
		count.input++;
		arc_write_candidate(all, rec.kind, rec.body, rec.bodylen);
		if (rec.kind == ARC_KIND_MANIFEST) {
			count.manifest_in++;
			arc_write_candidate(mf, rec.kind, rec.body,
			    rec.bodylen);
		} else {
			count.storage_in++;
			arc_write_candidate(sf, rec.kind, rec.body,
			    rec.bodylen);
		}
	}
	if (r == -1)
		return ARC_EXIT_ERROR;	/* nothing has been done */
	arc_reader_free(&rd);
	if (fflush(all) == EOF || fflush(mf) == EOF || fflush(sf) == EOF)
		err(ARC_EXIT_ERROR, "write error on a temporary file");

	room = opt.max;
	plan_kind(mf, ARC_KIND_MANIFEST, &ml, &room);
	plan_kind(sf, ARC_KIND_STORAGE, &sl, &room);
	fclose(mf);
	fclose(sf);

	/* The full entries about to be removed, for the archive. */
	if (opt.archive != NULL && ml.n > 0) {
		mi = arc_ecalloc(ml.n, sizeof(*mi));
		for (i = np = 0; i < ml.n; i++)
			if (ml.v[i].plan == P_PLANNED) {
				mi[np].path = ml.v[i].path;
				mi[np++].pathlen = ml.v[i].pathlen;
			}
		if (np > 0 && arc_manifest_fetch(man, mi, np) == -1)
			errx(ARC_EXIT_ERROR, "cannot read the manifest entries "
			    "to archive; nothing deleted");
		for (i = np = 0; i < ml.n; i++)
			if (ml.v[i].plan == P_PLANNED)
				ml.v[i].json = mi[np++].json;
		free(mi);
	}
	if (opt.archive != NULL && write_archive(st, all, &ml, &sl) == -1)
		errx(ARC_EXIT_ERROR, "archive '%s' not written; nothing deleted",
		    opt.archive);
	fclose(all);

	ret = ARC_EXIT_OK;
	if (manifest_phase(man, &ml) == -1) {
		ret = EXIT_MANIFEST_FAILED;
	} else if (!halted) {
		if (count.cap_kind == ARC_KIND_MANIFEST)
			cap_event();	/* nothing planned to put it before */
		storage_phase(st, man, &sl);
		cap_event();	/* Arc: after the storage chunk's event */
	}
	if (audit != NULL && arc_audit_sync(audit) == -1)
		halted = 1;
	arc_audit_close(audit);
	if (halted) {
		warnx("a state write failed: nothing further was deleted");
		if (ret != EXIT_MANIFEST_FAILED)
			ret = ARC_EXIT_ERROR;
	}
	if (ret == ARC_EXIT_OK && (count.cap_hit ||
	    count.refused[1] + count.refused[2] +
	    count.failed[1] + count.failed[2] +
	    count.changed[1] + count.changed[2] + count.deferred > 0))
		ret = ARC_EXIT_SOME;
	/* a TLS or credential refusal is a wrong setting: exit 2 */
	if (arc_config_error && (ret == ARC_EXIT_OK || ret == ARC_EXIT_SOME))
		ret = ARC_EXIT_ERROR;
	if (stopping) {
		warnx("interrupted: the run stopped between batches");
		if (ret != EXIT_MANIFEST_FAILED)
			ret = ARC_EXIT_ERROR;
	}
	if (write_stats() == -1 && ret != EXIT_MANIFEST_FAILED)
		ret = ARC_EXIT_ERROR;
	if (rejects != NULL && arc_out_commit(rejects) == -1 &&
	    ret != EXIT_MANIFEST_FAILED)
		ret = ARC_EXIT_ERROR;
	rejects = NULL;
	for (i = 0; i < ml.n; i++) {
		free(ml.v[i].line);
		free(ml.v[i].path);
		free(ml.v[i].json);
	}
	for (i = 0; i < sl.n; i++) {
		free(sl.v[i].line);
		free(sl.v[i].path);
		free(sl.v[i].etag);
	}
	free(ml.v);
	free(sl.v);
	free(opt.includes);
	arc_store_close(st);
	arc_manifest_close(man);
	if (arc_fshut(stdout, "stdout"))
		return ARC_EXIT_ERROR;
	return ret;
}
