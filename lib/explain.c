/*
 * explain.c - what a run decided about each path, kept in its archive
 * and read back (arc-reconcile explain, arc(7) RUN EXPLANATION).
 *
 * arc_explain_archive adds the run's records to the run's archive under
 * explain/: the manifest and storage records it compared, its candidate
 * records, and every stage's reject records (.rej) and result lines
 * (.res), which carry the reason codes; with a code for the candidates
 * no stage reached (the circuit breaker), a reject record each.
 * arc_explain reads them back for one path and writes what the run saw
 * of it and each code it got, in the order the stages ran.
 */
#include <archive.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arc.h"

/* Whether name may follow explain/: a stage and .rej or .res. */
int
arc_explain_name_ok(const char *name)
{
	size_t n = strlen(name);
	struct arc_buf b = { 0 };
	int t;

	if (n < 5 || n > 64 || strspn(name, "abcdefghijklmnopqrstuvwxyz"
	    "0123456789-.") != n || name[0] == '.')
		return 0;
	t = arc_runarchive_explain_type(arc_runarchive_explain_member(&b,
	    ARC_XM_STAGE, name), NULL);
	arc_buf_free(&b);
	return t == ARC_REC_REJECT || t == ARC_REC_RESULT;
}

/*
 * A reject record with code for every candidate of the file cand, the
 * ones the run never took further; NULL when there is none.
 */
static FILE *
unprocessed(const char *cand, int code)
{
	struct arc_reader rd;
	struct arc_record rec;
	const char *word;
	FILE *fp, *out = NULL;
	int r;

	if (cand == NULL || (fp = fopen(cand, "re")) == NULL)
		return NULL;
	word = code == ARC_R_BREAKER ? "breaker" : "not-processed";
	arc_reader_init(&rd, fp, cand, ARC_REC_CANDIDATE, 0);
	while ((r = arc_reader_next(&rd, &rec)) == 1) {
		if (out == NULL)
			out = arc_tmpstream();
		arc_write_reject(out, word, rec.kind, rec.body, rec.bodylen,
		    code, ARC_TIME_UNKNOWN);
	}
	arc_reader_free(&rd);
	fclose(fp);
	if (out != NULL && (r == -1 || fflush(out) == EOF)) {
		fclose(out);
		return NULL;
	}
	return out;
}

/*
 * Add file as the explain/ member which (stage: its name, with
 * ARC_XM_STAGE) when it exists; 0, or -1 after a message.
 */
static int
add_file(struct arc_archive *ar, int which, const char *stage,
    const char *file)
{
	struct arc_buf b = { 0 };
	int fd, r;

	if (file == NULL)
		return 0;
	if ((fd = open(file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1) {
		if (errno == ENOENT)
			return 0;	/* the run ended before that stage */
		warn("cannot open '%s'", file);
		return -1;
	}
	r = arc_archive_add_fd(ar, arc_runarchive_explain_member(&b, which,
	    stage), fd, arc_time_now());
	close(fd);
	arc_buf_free(&b);
	return r;
}

/*
 * Add the run's explanation to its archive (made when the run wrote
 * none): the manifest, storage and candidate records, then each of the
 * n stage files m[i] (name, file), a file that does not exist being
 * skipped; with code, a reject record each for cand's candidates, as
 * explain/breaker.rej.  0, or -1 after a message (the archive is then
 * as it was).
 */
int
arc_explain_archive(const char *archive, const char *run_id,
    const char *mrec, const char *srec, const char *cand,
    const struct arc_explain_member *m, size_t n, int code)
{
	struct arc_archive *ar;
	struct arc_buf xb = { 0 };
	FILE *un = NULL;
	size_t i;

	if ((ar = arc_archive_create(archive, run_id)) == NULL)
		return -1;
	if (add_file(ar, ARC_XM_MANIFEST, NULL, mrec) == -1 ||
	    add_file(ar, ARC_XM_STORAGE, NULL, srec) == -1 ||
	    add_file(ar, ARC_XM_CANDIDATES, NULL, cand) == -1)
		goto fail;
	for (i = 0; i < n; i++)
		if (add_file(ar, ARC_XM_STAGE, m[i].name, m[i].file) == -1)
			goto fail;
	if (code != ARC_R_NONE && (un = unprocessed(cand, code)) != NULL) {
		if (arc_archive_add_fd(ar, arc_runarchive_explain_member(&xb,
		    ARC_XM_BREAKER, NULL), fileno(un), arc_time_now()) == -1)
			goto fail;
		fclose(un);
		un = NULL;
	}
	arc_buf_free(&xb);
	return arc_archive_commit(ar);
fail:
	arc_buf_free(&xb);
	if (un != NULL)
		fclose(un);
	arc_archive_abort(ar);
	return -1;
}

/* ---- reading it back -------------------------------------------------- */

struct look {
	struct arc_buf	 q;		/* the path, quoted as records hold it */
	const char	*archive;
	int		 members;	/* explain/ members seen */
	int		 codes;
	int		 failed;
	struct arc_buf	 man, sto;	/* the path's records, or empty */
	struct arc_buf	 text;		/* a line per code, in stage order */
};

/* The stage a member speaks for: its name without explain/ and suffix. */
static void
stage_name(struct arc_buf *b, const char *name)
{
	const char *s;

	(void)arc_runarchive_explain_type(name, &s);
	b->len = 0;
	arc_buf_add(b, s, strlen(s) - 4);
}

static void
found(struct look *lk, int type, const char *name, struct arc_record *rec)
{
	struct arc_buf st = { 0 }, *t = &lk->text;
	char tbuf[ARC_TIME_BUFSZ];
	int code;

	switch (type) {
	case ARC_REC_MANIFEST:
		lk->man.len = 0;
		arc_buf_add(&lk->man, rec->line, rec->linelen);
		return;
	case ARC_REC_STORAGE:
		lk->sto.len = 0;
		arc_buf_add(&lk->sto, rec->line, rec->linelen);
		return;
	case ARC_REC_REJECT:
		/* a file left out of the listing: what the store had */
		if (rec->kind == ARC_KIND_STORAGE && lk->sto.len == 0)
			arc_buf_add(&lk->sto, rec->body, rec->bodylen);
		code = rec->code;
		stage_name(&st, name);
		break;
	case ARC_REC_CANDIDATE:
		code = arc_reason_orphan(rec->kind);
		arc_buf_adds(&st, "diff");
		break;
	default:
		code = rec->code;
		stage_name(&st, name);
		break;
	}
	lk->codes++;
	arc_buf_printf(t, "%s\t%s\t", arc_reason_name(code), arc_buf_str(&st));
	if (type != ARC_REC_CANDIDATE)
		arc_buf_printf(t, "%.*s: ", (int)rec->reasonlen, rec->reason);
	arc_buf_adds(t, arc_reason_text(code));
	/* where the age of a young file came from */
	if (code == ARC_R_TOO_YOUNG || code == ARC_R_UNKNOWN_MTIME)
		arc_buf_printf(t, "; age from the mtime %s %s",
		    arc_time_format(rec->age, tbuf),
		    strncmp(arc_buf_str(&st), "recheck", 7) == 0 ?
		    "the store gave at the re-check" : "of the listing");
	arc_buf_addc(t, '\n');
	arc_buf_free(&st);
}

static int
look_member(void *arg, const char *name, const char *notreg, int64_t size,
    int64_t mtime, struct archive *in)
{
	struct look *lk = arg;
	struct arc_reader rd;
	struct arc_record rec;
	struct arc_member m;
	const char *why;
	FILE *fp;
	int type, r;

	(void)mtime;
	if ((type = arc_runarchive_explain_type(name, NULL)) == -1 || notreg != NULL)
		return 0;
	lk->members++;
	if ((why = arc_member_too_big(size)) != NULL) {
		warnx("'%s': member '%s' not read: %s", lk->archive, name, why);
		return -1;
	}
	/* read as it is decompressed: no copy of it, in memory or on disk */
	fp = arc_member_open(&m, in, 1);
	arc_reader_init(&rd, fp, name, type, 0);
	while ((r = arc_reader_next(&rd, &rec)) == 1)
		if (rec.qpathlen == lk->q.len &&
		    memcmp(rec.qpath, lk->q.s, lk->q.len) == 0)
			found(lk, type, name, &rec);
	arc_reader_free(&rd);
	fclose(fp);
	/* a line too long was refused by the reader, by name and line */
	if (m.why[0] != '\0' && r != -1) {
		warnx("'%s': cannot read member '%s': %s", lk->archive, name,
		    m.why);
		return -1;
	}
	if (r == -1)
		lk->failed = 1;
	return 0;
}

/*
 * Write to out head, then what the run whose archive is archive saw of
 * path and each reason code it gave it.  0: the run saw the path; 1: it did not;
 * 2: the archive holds no explanation or cannot be read.
 */
int
arc_explain(FILE *out, const char *head, const char *archive,
    const char *path, size_t n)
{
	struct look lk = { 0 };
	int ret = ARC_EXIT_ERROR;

	lk.archive = archive;
	arc_quote(&lk.q, path, n);
	if (arc_archive_each(archive, look_member, &lk) == -1 || lk.failed)
		goto done;
	if (lk.members == 0) {
		warnx("'%s': the archive holds no explanation (explain/)",
		    archive);
		goto done;
	}
	fputs(head, out);
	fprintf(out, "path\t%s\n", arc_buf_str(&lk.q));
	/* the records as the run read them, the path's own field first */
	fprintf(out, "manifest\t%s\n", lk.man.len ? arc_buf_str(&lk.man) :
	    "-");
	fprintf(out, "store\t%s\n", lk.sto.len ? arc_buf_str(&lk.sto) : "-");
	fputs(lk.text.len ? arc_buf_str(&lk.text) : "", out);
	ret = ARC_EXIT_OK;
	if (lk.codes == 0 && lk.man.len > 0 && lk.sto.len > 0)
		fputs("left alone: in both the manifest and the store\n", out);
	else if (lk.codes == 0 && (lk.man.len > 0 || lk.sto.len > 0))
		fprintf(out, "left alone: only in the %s, and no stage took "
		    "it up\n", lk.man.len > 0 ? "manifest" : "store");
	else if (lk.codes == 0) {
		fputs("not seen: in neither the manifest nor the store's "
		    "listing\n", out);
		ret = ARC_EXIT_SOME;
	}
done:
	arc_buf_free(&lk.q);
	arc_buf_free(&lk.man);
	arc_buf_free(&lk.sto);
	arc_buf_free(&lk.text);
	return ret;
}
