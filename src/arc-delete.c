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
 * manifest-first order need the whole plan (lib/plan.c, which also hands
 * the phases their batches); the archive's layout is lib/runarchive.c's.
 * This file holds the options and the flow: the two phases, the audit
 * events and the -S counts.
 */
#include <err.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "arc.h"

#define EXIT_MANIFEST_FAILED	4
#define DELETE_JOBS		8	/* storage calls in flight */

static struct arc_runopts opt = { .max = ARC_DEFAULT_MAX_DELETES,
	.batch = ARC_DEFAULT_BATCH, .sample = ARC_DEFAULT_SAMPLE, .prefix = "" };

static struct arc_plan plan;

/* What the phases did, by kind (ARC_KIND_MANIFEST, ARC_KIND_STORAGE). */
static struct {
	uintmax_t	 deleted[3], would[3], gone[3], refused[3], failed[3];
	uintmax_t	 changed[3], deferred;
	uintmax_t	 verified[3], unverified[3];	/* of the deleted */
	uintmax_t	 bytes_freed;
	int		 cap_emitted;
} count;

static volatile sig_atomic_t stopping;
static int halted;		/* a state write failed: delete nothing more */
static int64_t deadline;	/* --deadline: ms since the epoch, or 0 */
static int batched;		/* a batch was begun: the deadline may stop us */
static int timed_out;		/* the deadline stopped a phase */
static uintmax_t left_by_deadline;	/* candidates it left for later */
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
    "[--deadline ms]\n"
    "                  store manifest\n"
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
 * Whether a phase begins no further batch: a signal, a failed state
 * write, or --deadline passed once one batch was begun (every run makes
 * progress).  What the deadline leaves is counted, for the next run.
 */
static int
stop_batches(const struct arc_batch *b)
{
	if (stopping || halted)
		return 1;
	if (b->i >= b->l->n)
		return 0;
	if (deadline > 0 && batched && arc_time_now_ms() >= deadline) {
		left_by_deadline += b->l->n - b->i;
		timed_out = 1;
		return 1;
	}
	batched = 1;
	return 0;
}

static void
sample(struct arc_buf *b, struct arc_cand **v, size_t n)
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
 * Before a batch (or a group of batches of -b, v and n) is deleted: room
 * in the audit log for the events that will record them (an upper bound:
 * every byte of a sampled path escaped), so that nothing is deleted that
 * could not be recorded.
 */
static int
reserve_audit(struct arc_cand **v, size_t n)
{
	size_t i, s, room = 0;

	/* each batch's event and a cap_hit one, each chained */
	for (s = 0; s < n; s += (size_t)opt.batch) {
		room += 1024 + 2 * ARC_AUDIT_CHAIN_BYTES +
		    18 * strlen(opt.run_id);
		for (i = s; i < n && i - s < (size_t)opt.batch &&
		    (long long)(i - s) < opt.sample; i++)
			room += 6 * v[i]->pathlen + 8;
	}
	if (arc_audit_reserve(audit, room) == -1) {
		halted = 1;
		return -1;
	}
	return 0;
}

static void
batch_event(const char *event, struct arc_cand **v, size_t n, uintmax_t done)
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

	if (count.cap_emitted || !plan.cap_hit || stopping)
		return;
	count.cap_emitted = 1;
	snprintf(num, sizeof(num), "%ju", deletes_so_far());
	arc_audit_event(audit, "reconcile.cap_hit", opt.run_id,
	    "deletes_so_far", num, (char *)NULL);
}

/* A batch's events made durable; on failure no further batch starts. */
static void
sync_audit(void)
{
	if (arc_audit_sync(audit) == -1)
		halted = 1;
}

/* A dry run's batch: what would be deleted, recorded as Arc does. */
static void
would_delete(struct arc_batch *b, int kind, const char *event)
{
	size_t j;

	for (j = 0; j < b->n; j++)
		arc_cand_result(b->v[j], "would-delete",
		    kind == ARC_KIND_STORAGE ? ARC_R_ORPHAN_STORAGE :
		    opt.partial ? ARC_R_LISTING_PARTIAL : ARC_R_ORPHAN_MANIFEST);
	count.would[kind] += b->n;
	batch_event(event, b->v, b->n, b->n);
	sync_audit();
}

/* The candidates v as manifest items (with their revs when rev is set). */
static void
to_mitems(struct arc_cand **v, size_t n, struct arc_mitem *mi, int rev)
{
	size_t j;

	for (j = 0; j < n; j++) {
		memset(&mi[j], 0, sizeof(mi[j]));
		mi[j].path = v[j]->path;
		mi[j].pathlen = v[j]->pathlen;
		if (rev) {
			mi[j].rev = v[j]->rev;
			mi[j].revlen = v[j]->revlen;
			mi[j].created_at = v[j]->time;
			mi[j].size = v[j]->size;
		}
	}
}

/* The candidates v as store items (with their ETags when etag is set). */
static void
to_sitems(struct arc_cand **v, size_t n, struct arc_sitem *si, int etag)
{
	size_t j;

	for (j = 0; j < n; j++) {
		si[j].path = v[j]->path;
		si[j].pathlen = v[j]->pathlen;
		si[j].if_match = etag ? v[j]->etag : NULL;
		si[j].err.len = 0;
	}
}

/*
 * Verified deletes: a removal the manifest acknowledged stays "deleted"
 * only when a look-up now finds no entry at its path; an entry still
 * there, or a look-up that cannot answer, makes it "unverified".
 */
static void
verify_entries(struct arc_manifest *man, struct arc_cand **v, size_t n,
    struct arc_mitem *mi)
{
	size_t j;

	if (n == 0)
		return;
	to_mitems(v, n, mi, 0);
	(void)arc_manifest_lookup(man, mi, n);	/* unanswered: not absent */
	for (j = 0; j < n; j++) {
		if (mi[j].result == ARC_ABSENT) {
			count.verified[ARC_KIND_MANIFEST]++;
			continue;
		}
		warnx("'%.*s': unverified: %s", (int)v[j]->qpathlen,
		    v[j]->qpath, mi[j].result == ARC_PRESENT ?
		    "the manifest acknowledged the removal but still has the "
		    "entry" : "the manifest did not answer the check");
		arc_cand_result(v[j], "unverified", ARC_R_UNVERIFIED);
		count.unverified[ARC_KIND_MANIFEST]++;
	}
}

/*
 * A dry run's estimate of a manifest batch of n: the removal --act would
 * send and the look-ups that verify what it removed (verify_entries).
 * A partial listing's candidates would not be removed at all.
 */
static void
would_cost_entries(struct arc_manifest *man, size_t n)
{
	if (!opt.partial)
		(void)arc_manifest_cost(man, ARC_COST_LOOKUP,
		    arc_manifest_cost(man, ARC_COST_MREMOVE, n));
}

/*
 * How many batches the next removal takes, after done of the phase's nb:
 * one, but for a file manifest in an act run, which every removal
 * rewrites whole: then the first half of the batches (rounded down) and
 * then the rest, so that the file is written twice whatever the number
 * of batches (arc(7), MANIFEST FILE PASSES).
 */
static size_t
group_size(const struct arc_manifest *man, size_t nb, size_t done)
{
	if (!opt.act || !man->whole || nb < 2 || done >= nb)
		return 1;
	return done == 0 ? nb / 2 : nb - done;
}

/*
 * The removal of a group of batches (v, n; of -b each) has returned:
 * each candidate's result, and each batch's event with the ones it
 * deleted, which go to del (*ndel of them).  cap: the phase's last
 * group, whose last batch gets cap_hit before its event, as in Arc.
 */
static void
manifest_results(struct arc_cand **v, size_t n, struct arc_mitem *mi,
    int cap, struct arc_cand **del, size_t *ndel)
{
	size_t j, k, s, e;

	for (s = 0; s < n; s = e) {
		e = n - s > (size_t)opt.batch ? s + (size_t)opt.batch : n;
		k = *ndel;
		for (j = s; j < e; j++) {
			switch (mi[j].result) {
			case ARC_M_DELETED:
				arc_cand_result(v[j], "deleted",
				    ARC_R_DELETED);
				del[(*ndel)++] = v[j];
				break;
			case ARC_M_GONE:
				arc_cand_result(v[j], "gone", ARC_R_GONE);
				count.gone[ARC_KIND_MANIFEST]++;
				break;
			case ARC_M_DEFERRED:
				/* a read-only source: written out, not deleted */
				arc_cand_result(v[j], "deferred",
				    ARC_R_DEFERRED);
				count.deferred++;
				break;
			default:
				arc_cand_result(v[j], "changed",
				    ARC_R_CHANGED_SINCE_LISTING);
				count.changed[ARC_KIND_MANIFEST]++;
				break;
			}
		}
		/* as in Arc, the last batch's deletes are not in cap_hit's count */
		if (cap && e == n)
			cap_event();
		count.deleted[ARC_KIND_MANIFEST] += *ndel - k;
		if (*ndel > k)
			batch_event("reconcile.manifest_batch_deleted", del + k,
			    *ndel - k, *ndel - k);
	}
}

/*
 * The manifest half: 0, or -1 when a removal failed (exit 4).  The
 * iterator hands a group of batches at a time (group_size); the caps,
 * refusals and results are still the batches', and so are the events.
 */
static int
manifest_phase(struct arc_manifest *man, struct arc_cands *l)
{
	struct arc_batch b;
	struct arc_mitem *mi;
	struct arc_cand **del;
	struct arc_buf eb = { 0 };
	size_t j, nb, done = 0, first, most, ndel;
	int ret = 0, cap;

	if (opt.act)
		arc_plan_announce(man, l);
	nb = (arc_plan_count(l, ARC_PLAN_PLANNED) + (size_t)opt.batch - 1) /
	    (size_t)opt.batch;
	first = group_size(man, nb, 0);
	most = group_size(man, nb, first);	/* the second group's size */
	if (most < first)
		most = first;
	arc_batch_init(&b, l, most * (size_t)opt.batch);
	b.max = first * (size_t)opt.batch;
	mi = arc_ecalloc(most * (size_t)opt.batch, sizeof(*mi));
	del = arc_ereallocarray(NULL, most * (size_t)opt.batch, sizeof(*del));
	while (arc_batch_next(&b, stop_batches(&b))) {
		done += (b.n + (size_t)opt.batch - 1) / (size_t)opt.batch;
		b.max = group_size(man, nb, done) * (size_t)opt.batch;
		/* Arc: a chunk the cap cut short gets cap_hit before its event */
		cap = plan.cap_kind == ARC_KIND_MANIFEST && arc_batch_last(&b);
		if (!opt.act) {
			would_cost_entries(man, b.n);
			if (cap)
				cap_event();
			would_delete(&b, ARC_KIND_MANIFEST,
			    "reconcile.manifest_batch_deleted");
			continue;
		}
		if (reserve_audit(b.v, b.n) == -1) {
			if (cap)
				cap_event();
			break;	/* these are not started: no result */
		}
		to_mitems(b.v, b.n, mi, 1);
		if (arc_manifest_remove(man, mi, b.n, &eb) == -1) {
			if (cap)
				cap_event();
			for (j = 0; j < b.n; j++)
				arc_cand_result(b.v[j], "failed",
				    ARC_R_DELETE_FAILED);
			count.failed[ARC_KIND_MANIFEST] += b.n;
			warnx("manifest batch of %zu failed: %s; nothing further "
			    "is deleted", b.n, arc_buf_str(&eb));
			ret = -1;
			break;
		}
		ndel = 0;
		manifest_results(b.v, b.n, mi, cap, del, &ndel);
		sync_audit();
		verify_entries(man, del, ndel, mi);
	}
	arc_batch_end(&b);
	count.refused[ARC_KIND_MANIFEST] += b.refused;
	count.failed[ARC_KIND_MANIFEST] += b.failed;
	free(mi);
	free(del);
	arc_buf_free(&eb);
	return ret;
}

/*
 * The last word before a delete: a path registered since the re-check
 * is refused, never deleted.  The batch keeps the others.
 */
static void
still_unregistered(struct arc_manifest *man, struct arc_batch *b,
    struct arc_mitem *mi)
{
	size_t j, k;

	to_mitems(b->v, b->n, mi, 0);
	if (arc_manifest_lookup(man, mi, b->n) == -1)
		warnx("the manifest did not answer for every path; "
		    "those paths are refused");
	for (j = k = 0; j < b->n; j++) {
		if (mi[j].result != ARC_ABSENT) {
			warnx("'%.*s': refused: %s", (int)b->v[j]->qpathlen,
			    b->v[j]->qpath, mi[j].result == ARC_PRESENT ?
			    "now in the manifest" : "manifest lookup failed");
			arc_cand_result(b->v[j], "refused",
			    mi[j].result == ARC_PRESENT ?
			    ARC_R_RECHECK_REGISTERED : ARC_R_RECHECK_ERROR);
			count.refused[ARC_KIND_STORAGE]++;
			continue;
		}
		b->v[k++] = b->v[j];
	}
	b->n = k;
}

/*
 * --if-unchanged: delete only the object that was listed: same size and
 * mtime now, and (where the store has ETags) the delete is conditional
 * on the ETag seen now.  The batch keeps those.
 */
static void
still_unchanged(struct arc_store *st, struct arc_batch *b,
    struct arc_sitem *si)
{
	struct arc_cand *c;
	size_t j, k;

	to_sitems(b->v, b->n, si, 0);
	arc_store_stat_many(st, si, b->n, DELETE_JOBS);
	for (j = k = 0; j < b->n; j++) {
		c = b->v[j];
		if (si[j].presence == ARC_ABSENT) {
			arc_cand_result(c, "gone", ARC_R_GONE);
			count.gone[ARC_KIND_STORAGE]++;
			continue;
		}
		if (si[j].presence != ARC_PRESENT) {
			warnx("'%.*s': cannot check: %s", (int)c->qpathlen,
			    c->qpath, arc_buf_str(&si[j].err));
			arc_cand_result(c, "failed", ARC_R_RECHECK_ERROR);
			count.failed[ARC_KIND_STORAGE]++;
			continue;
		}
		if (!si[j].st.regular || (c->time != ARC_TIME_UNKNOWN &&
		    si[j].st.mtime != c->time) || (c->size >= 0 &&
		    si[j].st.size != c->size)) {
			arc_cand_result(c, "changed",
			    ARC_R_CHANGED_SINCE_LISTING);
			count.changed[ARC_KIND_STORAGE]++;
			continue;
		}
		free(c->etag);
		c->etag = si[j].etag.len ? arc_estrdup(si[j].etag.s) : NULL;
		b->v[k++] = c;
	}
	b->n = k;
}

/*
 * Verified deletes: a delete the store acknowledged stays "deleted" only
 * when the store now says the object is absent; an object still there,
 * or a check that cannot answer (5xx, a timeout), makes it "unverified".
 */
static void
verify_files(struct arc_store *st, struct arc_cand **v, size_t n,
    struct arc_sitem *si)
{
	size_t j;

	if (n == 0)
		return;
	to_sitems(v, n, si, 0);
	arc_store_stat_many(st, si, n, DELETE_JOBS);
	for (j = 0; j < n; j++) {
		if (si[j].presence == ARC_ABSENT) {
			count.verified[ARC_KIND_STORAGE]++;
			if (v[j]->size > 0)
				count.bytes_freed += (uintmax_t)v[j]->size;
			continue;
		}
		warnx("'%.*s': unverified: %s", (int)v[j]->qpathlen,
		    v[j]->qpath, si[j].presence == ARC_PRESENT ?
		    "the store acknowledged the delete but still has the file" :
		    arc_buf_str(&si[j].err));
		arc_cand_result(v[j], "unverified", ARC_R_UNVERIFIED);
		count.unverified[ARC_KIND_STORAGE]++;
	}
}

/*
 * Delete a batch of files; how many are now gone (Arc's count).  The
 * ones the store acknowledged deleting go to ack, *nack of them.
 */
static size_t
remove_files(struct arc_store *st, struct arc_batch *b, struct arc_sitem *si,
    struct arc_cand **ack, size_t *nack)
{
	struct arc_cand *c;
	size_t j, applied = 0;

	to_sitems(b->v, b->n, si, 1);
	arc_store_remove_many(st, si, b->n, DELETE_JOBS);
	for (j = 0; j < b->n; j++) {
		c = b->v[j];
		switch (si[j].removal) {
		case ARC_REMOVED:
			arc_cand_result(c, "deleted", ARC_R_DELETED);
			count.deleted[ARC_KIND_STORAGE]++;
			ack[(*nack)++] = c;
			applied++;
			break;
		case ARC_GONE:
			arc_cand_result(c, "gone", ARC_R_GONE);
			count.gone[ARC_KIND_STORAGE]++;
			applied++;
			break;
		case ARC_REMOVE_CHANGED:
			arc_cand_result(c, "changed",
			    ARC_R_CHANGED_SINCE_LISTING);
			count.changed[ARC_KIND_STORAGE]++;
			break;
		default:
			warnx("'%.*s': cannot delete: %s", (int)c->qpathlen,
			    c->qpath, arc_buf_str(&si[j].err));
			arc_cand_result(c, "failed", ARC_R_DELETE_FAILED);
			count.failed[ARC_KIND_STORAGE]++;
			break;
		}
	}
	return applied;
}

/*
 * A dry run's estimate of a storage batch: the deletes --act would send
 * (remove_files, conditional ones on the ETags seen) and the checks
 * that verify them (verify_files).
 */
static void
would_cost_files(struct arc_store *st, struct arc_batch *b,
    struct arc_sitem *si)
{
	to_sitems(b->v, b->n, si, 1);
	arc_store_cost(st, ARC_COST_REMOVE, si, b->n);
	arc_store_cost(st, ARC_COST_STAT, si, b->n);
}

static void
storage_phase(struct arc_store *st, struct arc_manifest *man,
    struct arc_cands *l)
{
	struct arc_batch b;
	struct arc_mitem *mi;
	struct arc_sitem *si;
	struct arc_cand **ack;
	size_t j, applied, nack;

	arc_plan_announce(man, l);
	arc_batch_init(&b, l, (size_t)opt.batch);
	mi = arc_ecalloc((size_t)opt.batch, sizeof(*mi));
	si = arc_ecalloc((size_t)opt.batch, sizeof(*si));
	ack = arc_ereallocarray(NULL, (size_t)opt.batch, sizeof(*ack));
	while (arc_batch_next(&b, stop_batches(&b))) {
		still_unregistered(man, &b, mi);
		if (opt.if_unchanged && b.n > 0)
			still_unchanged(st, &b, si);
		if (b.n == 0) {
			sync_audit();
			continue;
		}
		if (!opt.act) {
			would_cost_files(st, &b, si);
			would_delete(&b, ARC_KIND_STORAGE,
			    "reconcile.storage_batch_deleted");
			continue;
		}
		if (reserve_audit(b.v, b.n) == -1)
			break;	/* these are not started: no result */
		nack = 0;
		applied = remove_files(st, &b, si, ack, &nack);
		/* Arc's sample is of the attempted paths */
		batch_event("reconcile.storage_batch_deleted", b.v, b.n,
		    applied);
		sync_audit();
		verify_files(st, ack, nack, si);
	}
	arc_batch_end(&b);
	count.refused[ARC_KIND_STORAGE] += b.refused;
	count.failed[ARC_KIND_STORAGE] += b.failed;
	for (j = 0; j < (size_t)opt.batch; j++) {
		arc_buf_free(&si[j].etag);
		arc_buf_free(&si[j].err);
	}
	free(si);
	free(mi);
	free(ack);
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
write_stats(const struct arc_manifest *man)
{
	struct json_object *o;
	struct arc_out *so = stats_out;
	int r;

	if (so == NULL)
		return 0;
	stats_out = NULL;
	o = json_object_new_object();
	stat_add(o, "input", plan.input);
	stat_add(o, "manifest_deletes", count.deleted[1]);
	stat_add(o, "storage_deletes", count.deleted[2]);
	stat_add(o, "would_delete_manifest", count.would[1]);
	stat_add(o, "would_delete_storage", count.would[2]);
	stat_add(o, "gone", count.gone[1] + count.gone[2]);
	stat_add(o, "refused", count.refused[1] + count.refused[2]);
	stat_add(o, "failed", count.failed[1] + count.failed[2]);
	stat_add(o, "changed", count.changed[1] + count.changed[2]);
	stat_add(o, "deferred", count.deferred);
	stat_add(o, "verified_deletes", count.verified[1] + count.verified[2]);
	stat_add(o, "unverified_deletes",
	    count.unverified[1] + count.unverified[2]);
	stat_add(o, "left_over_by_cap", plan.leftover);
	json_object_object_add(o, "cap_hit",
	    json_object_new_boolean(plan.cap_hit));
	stat_add(o, "bytes_freed", count.bytes_freed);
	json_object_object_add(o, "interrupted",
	    json_object_new_boolean(stopping));
	json_object_object_add(o, "deadline_hit",
	    json_object_new_boolean(timed_out));
	stat_add(o, "left_by_deadline", left_by_deadline);
	stat_add(o, "manifest_passes", man->io.passes);
	stat_add(o, "manifest_tails", man->io.tails);
	stat_add(o, "manifest_bytes_read", man->io.bytes_read);
	stat_add(o, "manifest_bytes_copied", man->io.bytes_copied);
	stat_add(o, "manifest_rewrites", man->io.rewrites);
	stat_add(o, "manifest_bytes_written", man->io.bytes_written);
	fprintf(so->fp, "%s\n", json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	r = arc_out_commit(so);
	json_object_put(o);
	return r;
}

/*
 * The options, in opt; the operands are left in argv[0] and argv[1].
 * The archive to restore from with --restore, else NULL.
 */
static const char *
options(int *argcp, char ***argvp)
{
	static const struct option longopts[] = {
		{ "act", no_argument, NULL, 'X' },
		{ "archive-files", no_argument, NULL, 'F' },
		{ "delete-pre-manifest-orphans", no_argument, NULL, 'D' },
		{ "if-unchanged", no_argument, NULL, 'U' },
		{ "restore", required_argument, NULL, 'T' },
		{ "deferred", required_argument, NULL, 'E' },
		{ "listing-partial", no_argument, NULL, 'L' },
		{ "deadline", required_argument, NULL, 'W' },
		{ NULL, 0, NULL, 0 }
	};
	const char *restore = NULL;
	long long ms;
	int ch;

	while ((ch = arc_getopt(*argcp, *argvp, "A:a:b:I:N:n:P:R:r:S:s:",
	    longopts, usage_text)) != -1) {
		switch (ch) {
		case 'X': opt.act = 1; break;
		case 'F': opt.archive_files = 1; break;
		case 'D': opt.pre_manifest = 1; break;
		case 'U': opt.if_unchanged = 1; break;
		case 'T': restore = optarg; break;
		case 'E': opt.deferred = optarg; break;
		case 'L': opt.partial = 1; break;
		case 'W':
			if (arc_parse_count(optarg, 1, INT64_MAX, &ms) == -1)
				errx(ARC_EXIT_ERROR, "'%s': the deadline must be "
				    "milliseconds since the epoch", optarg);
			deadline = ms;
			break;
		case 'R': opt.rejects = optarg; break;
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
	*argcp -= optind;
	*argvp += optind;
	if (*argcp != 2)
		usage();
	if (strcmp((*argvp)[1], "-") == 0)
		errx(ARC_EXIT_ERROR, "the manifest cannot be '-'");
	return restore;
}

/*
 * Before anything is read: the run id, the audit log and the -S file
 * opened, so that an unwritable one stops the run before any delete,
 * and SIGTERM and SIGINT made to finish the current batch and start no
 * other.  0, or -1 after a message.
 */
static int
start(void)
{
	struct sigaction sa;

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
		return -1;
	if (opt.stats != NULL &&
	    (stats_out = arc_out_open(opt.stats, 0600, 0)) == NULL)
		return -1;
	if (opt.rejects != NULL &&
	    (rejects = arc_out_open(opt.rejects, 0600, 0)) == NULL)
		return -1;
	atexit(drop_stats);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	return 0;
}

/*
 * The exit status of the phases' outcome (ret: 0, or 4 from phase 1),
 * and the -S counts, with how man's manifest was read.
 */
static int
finish(const struct arc_manifest *man, int ret)
{
	if (audit != NULL && arc_audit_sync(audit) == -1)
		halted = 1;
	arc_audit_close(audit);
	if (halted) {
		warnx("a state write failed: nothing further was deleted");
		if (ret != EXIT_MANIFEST_FAILED)
			ret = ARC_EXIT_ERROR;
	}
	if (ret == ARC_EXIT_OK && (plan.cap_hit ||
	    count.refused[1] + count.refused[2] +
	    count.failed[1] + count.failed[2] +
	    count.changed[1] + count.changed[2] + count.deferred +
	    count.unverified[1] + count.unverified[2] > 0 || timed_out))
		ret = ARC_EXIT_SOME;
	if (timed_out)
		warnx("the deadline passed: %ju candidates left for a later "
		    "run", left_by_deadline);
	/* a TLS or credential refusal is a wrong setting: exit 2 */
	if (arc_config_error && (ret == ARC_EXIT_OK || ret == ARC_EXIT_SOME))
		ret = ARC_EXIT_ERROR;
	if (stopping) {
		warnx("interrupted: the run stopped between batches");
		if (ret != EXIT_MANIFEST_FAILED)
			ret = ARC_EXIT_ERROR;
	}
	if (write_stats(man) == -1 && ret != EXIT_MANIFEST_FAILED)
		ret = ARC_EXIT_ERROR;
	if (rejects != NULL && arc_out_commit(rejects) == -1 &&
	    ret != EXIT_MANIFEST_FAILED)
		ret = ARC_EXIT_ERROR;
	rejects = NULL;
	return ret;
}

int
main(int argc, char *argv[])
{
	struct arc_store *st;
	struct arc_manifest *man;
	const char *restore;
	int ret = ARC_EXIT_OK;

	restore = options(&argc, &argv);
	if ((st = arc_store_open(argv[0])) == NULL ||
	    (man = arc_manifest_open(argv[1])) == NULL)
		return ARC_EXIT_ERROR;
	man->deferred = opt.deferred;
	if (restore != NULL) {
		/* --restore: an alias of arc-restore(1), the same function */
		ret = arc_restore(restore, st, man);
	} else {
		if (start() == -1 ||
		    arc_plan_read(&plan, stdin, opt.max, opt.pre_manifest,
		    rejects != NULL ? rejects->fp : NULL) == -1)
			return ARC_EXIT_ERROR;	/* nothing has been done */
		if (opt.archive != NULL && arc_plan_fetch(&plan, man) == -1)
			errx(ARC_EXIT_ERROR, "cannot read the manifest entries "
			    "to archive; nothing deleted");
		if (opt.archive != NULL &&
		    arc_runarchive_write(&opt, &plan, st) == -1) {
			arc_stop_reason("archive_unwritable");
			errx(ARC_EXIT_ERROR, "archive '%s' not written; nothing "
			    "deleted", opt.archive);
		}
		if (manifest_phase(man, &plan.m) == -1)
			ret = EXIT_MANIFEST_FAILED;
		else if (!halted) {
			if (plan.cap_kind == ARC_KIND_MANIFEST)
				cap_event();	/* nothing planned to put it before */
			storage_phase(st, man, &plan.s);
			cap_event();	/* Arc: after the storage chunk's event */
		}
		ret = finish(man, ret);
		arc_plan_free(&plan);
		free(opt.includes);
	}
	arc_store_close(st);
	arc_manifest_close(man);
	if (arc_fshut(stdout, "stdout"))
		return ARC_EXIT_ERROR;
	return ret;
}
