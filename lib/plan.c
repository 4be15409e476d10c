/*
 * plan.c - arc-delete's plan, and going through it a batch at a time.
 *
 * arc_plan_read reads candidate records (arc(7)) from a stream, keeps
 * every record verbatim in a temporary file (for the run archive) and
 * plans each kind in path order: a path that is not safe to touch is
 * refused, the others are planned until the cap (-n) is used up, and
 * what is past the cap is counted and left alone (and written as a
 * cap-deferred reject record when a stream is given for them).  Only the candidates
 * kept (at most the cap, plus the refused ones) are held in memory.
 *
 * arc_batch_next hands a phase its candidates a batch at a time: up to
 * -b planned candidates, the refused and failed ones met on the way
 * reported in order, and the results of the batch before printed, in
 * path order, as result records on standard output.  arc_plan_announce
 * tells the manifest a phase's planned paths before its first batch.
 */
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arc.h"

static void
cands_free(struct arc_cands *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->v[i].line);
		free(l->v[i].path);
		free(l->v[i].json);
		free(l->v[i].etag);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/*
 * Plan one kind: read its records back from fp, refuse the unsafe ones,
 * plan the rest in order until the cap, count what is left over.
 */
static void
plan_kind(struct arc_plan *p, FILE *fp, struct arc_cands *l, long long *room,
    int pre_manifest, FILE *rej)
{
	struct arc_reader rd;
	struct arc_record rec;
	struct arc_buf path = { 0 };
	struct arc_cand *c;
	const char *why, *msg;
	int r;

	rewind(fp);
	arc_reader_init(&rd, fp, "-", ARC_REC_CANDIDATE, 0);
	while ((r = arc_reader_next(&rd, &rec)) == 1) {
		path.len = 0;
		if (arc_unquote(&path, rec.qpath, rec.qpathlen, &msg) == -1)
			errx(ARC_EXIT_ERROR, "corrupt temporary file");
		why = arc_path_unsafe(path.s, path.len);
		if (why == NULL && l->kind == ARC_KIND_STORAGE &&
		    !pre_manifest && !arc_path_is_managed(path.s, path.len))
			why = "not a managed path (fewer than 7 segments)";
		/*
		 * At the cap the rest is left untouched; refusals use no room
		 * and are still reported, never silently dropped.
		 */
		if (why == NULL && *room == 0) {
			p->leftover++;
			if (rej != NULL)
				arc_write_reject(rej, "cap-deferred", l->kind,
				    rec.body, rec.bodylen, ARC_R_CAP_DEFERRED,
				    ARC_TIME_UNKNOWN);
			if (!p->cap_hit)
				p->cap_kind = l->kind;
			p->cap_hit = 1;
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
		c->plan = why ? ARC_PLAN_REFUSED : ARC_PLAN_PLANNED;
		c->why = why;
		if (!why)
			(*room)--;
	}
	if (r == -1)
		errx(ARC_EXIT_ERROR, "corrupt temporary file");
	arc_reader_free(&rd);
	arc_buf_free(&path);
}

/*
 * Read every candidate record of in (sorted per kind) and plan them, at
 * most max in all, orphan-manifest first; 0, or -1 after a message when
 * the input is not candidate records (nothing has been done then).  The
 * candidates the cap leaves go to rej as reject records unless it is NULL.
 * Everything is read before anything is planned: the cap, the archive
 * and the manifest-first order need the whole input.
 */
int
arc_plan_read(struct arc_plan *p, FILE *in, long long max, int pre_manifest,
    FILE *rej)
{
	struct arc_reader rd;
	struct arc_record rec;
	long long room = max;
	FILE *mf, *sf;
	int r;

	memset(p, 0, sizeof(*p));
	p->m.kind = ARC_KIND_MANIFEST;
	p->s.kind = ARC_KIND_STORAGE;
	/* verbatim into one file and by kind into two */
	p->all = arc_tmpstream();
	mf = arc_tmpstream();
	sf = arc_tmpstream();
	arc_reader_init(&rd, in, "-", ARC_REC_CANDIDATE, 1);
	while ((r = arc_reader_next(&rd, &rec)) == 1) {
		p->input++;
		arc_write_candidate(p->all, rec.kind, rec.body, rec.bodylen);
		if (rec.kind == ARC_KIND_MANIFEST)
			p->manifest_in++;
		else
			p->storage_in++;
		arc_write_candidate(rec.kind == ARC_KIND_MANIFEST ? mf : sf,
		    rec.kind, rec.body, rec.bodylen);
	}
	arc_reader_free(&rd);
	if (r == -1) {
		fclose(mf);
		fclose(sf);
		return -1;
	}
	if (fflush(p->all) == EOF || fflush(mf) == EOF || fflush(sf) == EOF)
		err(ARC_EXIT_ERROR, "write error on a temporary file");
	plan_kind(p, mf, &p->m, &room, pre_manifest, rej);
	plan_kind(p, sf, &p->s, &room, pre_manifest, rej);
	fclose(mf);
	fclose(sf);
	return 0;
}

/* How many candidates of l are in state (enum arc_plan_state). */
size_t
arc_plan_count(const struct arc_cands *l, int state)
{
	size_t i, n = 0;

	for (i = 0; i < l->n; i++)
		n += l->v[i].plan == state;
	return n;
}

/*
 * The planned candidates of l as manifest items (with their revs when
 * rev is set), in order; *np says how many.  The items point into l.
 */
static struct arc_mitem *
planned_items(const struct arc_cands *l, int rev, size_t *np)
{
	struct arc_mitem *mi;
	size_t i, n;

	mi = arc_ecalloc(l->n + 1, sizeof(*mi));
	for (i = n = 0; i < l->n; i++) {
		if (l->v[i].plan != ARC_PLAN_PLANNED)
			continue;
		mi[n].path = l->v[i].path;
		mi[n].pathlen = l->v[i].pathlen;
		if (rev) {
			mi[n].rev = l->v[i].rev;
			mi[n].revlen = l->v[i].revlen;
			mi[n].created_at = l->v[i].time;
			mi[n].size = l->v[i].size;
		}
		n++;
	}
	*np = n;
	return mi;
}

/*
 * The full manifest entries of the planned orphan-manifest candidates,
 * for the archive; 0, or -1 when the manifest did not give them all.
 */
int
arc_plan_fetch(struct arc_plan *p, struct arc_manifest *man)
{
	struct arc_mitem *mi;
	struct arc_cands *l = &p->m;
	size_t i, np;
	int r = 0;

	if (l->n == 0)
		return 0;
	mi = planned_items(l, 0, &np);
	if (np > 0 && arc_manifest_fetch(man, mi, np) == -1)
		r = -1;
	for (i = np = 0; r == 0 && i < l->n; i++)
		if (l->v[i].plan == ARC_PLAN_PLANNED)
			l->v[i].json = mi[np++].json;
	free(mi);
	return r;
}

/*
 * Announce the planned paths (and revs) of l to the manifest before the
 * phase's first batch, so that a manifest file is read once for all the
 * batches, their verifications included (arc(7), MANIFEST FILE PASSES).
 * Without it every batch would still be right, only slower, so a
 * refusal is not an error.
 */
void
arc_plan_announce(struct arc_manifest *man, const struct arc_cands *l)
{
	struct arc_mitem *mi;
	size_t n;

	mi = planned_items(l, 1, &n);
	(void)arc_manifest_plan(man, mi, n);
	free(mi);
}

void
arc_plan_free(struct arc_plan *p)
{
	cands_free(&p->m);
	cands_free(&p->s);
	if (p->all != NULL)
		fclose(p->all);
	p->all = NULL;
}

/* What became of c: its result word and reason code (arc(7)). */
void
arc_cand_result(struct arc_cand *c, const char *res, int code)
{
	c->res = res;
	c->code = code;
}

/* ---- batches ---------------------------------------------------------- */

void
arc_batch_init(struct arc_batch *b, struct arc_cands *l, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->l = l;
	b->max = max;
	b->v = arc_ereallocarray(NULL, max, sizeof(*b->v));
}

/*
 * Results are printed a batch at a time, in path order, whatever order
 * they were decided in (refusals come first, deletes last).
 */
static void
print_results(struct arc_batch *b)
{
	struct arc_cand *c;

	for (; b->start < b->i; b->start++) {
		c = &b->l->v[b->start];
		if (c->res != NULL)
			arc_write_result(stdout, c->res, b->l->kind, c->path,
			    c->pathlen, c->code);
	}
	fflush(stdout);
}

/*
 * The next batch in b->v and b->n, after the results of the one before
 * are printed: 1, or 0 at the end of the list or when stop is set (no
 * batch is started then).  A refused candidate met on the way is warned
 * about and reported; a failed one (not archived) was warned about when
 * it failed and is reported.
 */
int
arc_batch_next(struct arc_batch *b, int stop)
{
	struct arc_cand *c;

	for (;;) {
		print_results(b);
		if (b->i >= b->l->n || stop)
			return 0;
		for (b->n = 0; b->i < b->l->n && b->n < b->max; b->i++) {
			c = &b->l->v[b->i];
			if (c->plan == ARC_PLAN_REFUSED) {
				warnx("'%.*s': refused: %s", (int)c->qpathlen,
				    c->qpath, c->why);
				arc_cand_result(c, "refused",
				    ARC_R_LAYOUT_MISMATCH);
				b->refused++;
			} else if (c->plan == ARC_PLAN_FAILED) {
				arc_cand_result(c, "failed",
				    ARC_R_DELETE_FAILED);
				b->failed++;
			} else
				b->v[b->n++] = c;
		}
		if (b->n > 0)
			return 1;
	}
}

/* Whether no planned candidate is left after the current batch. */
int
arc_batch_last(const struct arc_batch *b)
{
	size_t i;

	for (i = b->i; i < b->l->n; i++)
		if (b->l->v[i].plan == ARC_PLAN_PLANNED)
			return 0;
	return 1;
}

/* Print what the batches so far decided, and free the iterator. */
void
arc_batch_end(struct arc_batch *b)
{
	print_results(b);
	free(b->v);
	b->v = NULL;
}
