/*
 * runarchive.c - the run archive's layout (arc-delete(1) FILES), written
 * and read back here and nowhere else.  Every member name starts with
 * arc-delete's -P prefix:
 *
 *	candidates.tsv		every input record, verbatim
 *	run.json		the run's id, host, options and counts
 *	manifest-entries.ndjson	the full manifest entries about to be
 *				removed, their strings spelled as paths
 *	quarantine/PATH		with --archive-files, each file about to
 *				be removed, with its mtime
 *	NAME			each -I NAME=FILE
 *
 * and, added by arc-run record at the end of the run (lib/explain.c),
 * without the prefix:
 *
 *	explain/manifest.rec	the manifest records the run compared
 *	explain/storage.rec	the storage records of its listing
 *	explain/candidates.rec	its candidate records
 *	explain/STAGE.rej	each stage's reject records
 *	explain/STAGE.res	each phase's result lines
 *	explain/breaker.rej	after the circuit breaker, its candidates
 *
 * arc_runarchive_write writes it before the first change and makes it
 * durable; arc_restore (arc-restore(1), and arc-delete --restore, its
 * alias) undoes the run from it: each quarantined file is put back into
 * the store, never over one that exists, with its archived mtime, and
 * the archived manifest entries are put back into the manifest.  One
 * line a file on standard output, "restored", "failed" or "refused" TAB
 * orphan-storage TAB path; a member that could write outside the store
 * is refused by name.
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <archive.h>
#include <json-c/json.h>

#include "arc_priv.h"

#define M_CANDIDATES	"candidates.tsv"
#define M_RUN		"run.json"
#define M_ENTRIES	"manifest-entries.ndjson"
#define M_QUARANTINE	"quarantine/"
#define M_EXPLAIN	"explain/"

/* The member names under explain/, by enum arc_xmember. */
static const char *const xnames[] = {
	[ARC_XM_MANIFEST] = "manifest.rec",
	[ARC_XM_STORAGE] = "storage.rec",
	[ARC_XM_CANDIDATES] = "candidates.rec",
	[ARC_XM_BREAKER] = "breaker.rej"
};

/*
 * The name of an explain/ member in b: which (enum arc_xmember), or with
 * ARC_XM_STAGE the stage file stage (NAME.rej or NAME.res).
 */
const char *
arc_runarchive_explain_member(struct arc_buf *b, int which, const char *stage)
{
	b->len = 0;
	arc_buf_adds(b, M_EXPLAIN);
	arc_buf_adds(b, which == ARC_XM_STAGE ? stage : xnames[which]);
	return arc_buf_str(b);
}

/*
 * The record type (enum arc_rtype) of the explain/ member name, its name
 * after explain/ in *rest; -1 when it is not one.
 */
int
arc_runarchive_explain_type(const char *name, const char **rest)
{
	size_t n;

	if (strncmp(name, M_EXPLAIN, sizeof(M_EXPLAIN) - 1) != 0)
		return -1;
	name += sizeof(M_EXPLAIN) - 1;
	if (rest != NULL)
		*rest = name;
	if (strcmp(name, xnames[ARC_XM_MANIFEST]) == 0)
		return ARC_REC_MANIFEST;
	if (strcmp(name, xnames[ARC_XM_STORAGE]) == 0)
		return ARC_REC_STORAGE;
	if (strcmp(name, xnames[ARC_XM_CANDIDATES]) == 0)
		return ARC_REC_CANDIDATE;
	if ((n = strlen(name)) > 4 && strcmp(name + n - 4, ".rej") == 0)
		return ARC_REC_REJECT;
	if (n > 4 && strcmp(name + n - 4, ".res") == 0)
		return ARC_REC_RESULT;
	return -1;
}

/* Whether a member is a run.json (archive.c: whose run an archive is). */
int
arc_runarchive_is_run(const char *name)
{
	const char *base = strrchr(name, '/') ? strrchr(name, '/') + 1 : name;

	return strcmp(base, M_RUN) == 0;
}

/* ---- writing ---------------------------------------------------------- */

static void
run_json(struct arc_buf *b, const struct arc_runopts *opt,
    const struct arc_plan *p)
{
	struct json_object *o, *op, *c;
	char host[256], tbuf[ARC_TIME_BUFSZ];
	size_t pm, ps;

	pm = arc_plan_count(&p->m, ARC_PLAN_PLANNED);
	ps = arc_plan_count(&p->s, ARC_PLAN_PLANNED);
	if (gethostname(host, sizeof(host)) == -1)
		strcpy(host, "-");
	host[sizeof(host) - 1] = '\0';
	o = json_object_new_object();
	json_object_object_add(o, "run_id", arc_json_text(opt->run_id));
	json_object_object_add(o, "time", json_object_new_string(
	    arc_time_format(arc_time_now(), tbuf)));
	json_object_object_add(o, "host", arc_json_text(host));
	json_object_object_add(o, "dry_run", json_object_new_boolean(!opt->act));
	op = json_object_new_object();
	json_object_object_add(op, "max_deletes", json_object_new_int64(opt->max));
	json_object_object_add(op, "batch_size",
	    json_object_new_int64(opt->batch));
	json_object_object_add(op, "archive_files",
	    json_object_new_boolean(opt->archive_files));
	json_object_object_add(op, "delete_pre_manifest_orphans",
	    json_object_new_boolean(opt->pre_manifest));
	json_object_object_add(op, "if_unchanged",
	    json_object_new_boolean(opt->if_unchanged));
	json_object_object_add(o, "options", op);
	c = json_object_new_object();
	json_object_object_add(c, "input", json_object_new_int64(
	    (int64_t)p->input));
	json_object_object_add(c, "orphan_manifest", json_object_new_int64(
	    (int64_t)p->manifest_in));
	json_object_object_add(c, "orphan_storage", json_object_new_int64(
	    (int64_t)p->storage_in));
	json_object_object_add(c, "planned_manifest",
	    json_object_new_int64((int64_t)pm));
	json_object_object_add(c, "planned_storage",
	    json_object_new_int64((int64_t)ps));
	json_object_object_add(c, "refused", json_object_new_int64(
	    (int64_t)(p->m.n - pm + p->s.n - ps)));
	json_object_object_add(c, "left_over_by_cap",
	    json_object_new_int64((int64_t)p->leftover));
	json_object_object_add(o, "counts", c);
	arc_buf_adds(b, json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	arc_buf_addc(b, '\n');
	json_object_put(o);
}

/* Member name: the prefix, then name (n bytes of it). */
static const char *
member(struct arc_buf *b, const struct arc_runopts *opt, const char *name,
    size_t n)
{
	b->len = 0;
	arc_buf_adds(b, opt->prefix);
	arc_buf_add(b, name, n);
	return arc_buf_str(b);
}

/*
 * The planned manifest entries, one a line, their strings in the
 * spelling of paths: strict JSON whatever the bytes.
 */
static int
add_entries(struct arc_archive *ar, const struct arc_runopts *opt,
    const struct arc_cands *m, struct arc_buf *name)
{
	struct arc_buf b = { 0 };
	size_t i;
	int r = 0;

	for (i = 0; i < m->n; i++)
		if (m->v[i].json != NULL) {
			if (arc_json_spell_strings(&b, m->v[i].json,
			    strlen(m->v[i].json), 0) == -1) {
				warnx("'%.*s': the manifest entry is not JSON",
				    (int)m->v[i].qpathlen, m->v[i].qpath);
				r = -1;
				break;
			}
			arc_buf_addc(&b, '\n');
		}
	if (r == 0 && b.len > 0)
		r = arc_archive_add_mem(ar, member(name, opt, M_ENTRIES,
		    strlen(M_ENTRIES)), b.s, b.len);
	arc_buf_free(&b);
	return r;
}

/* Each -I name=file, under its own name (no prefix). */
static int
add_includes(struct arc_archive *ar, const struct arc_runopts *opt,
    struct arc_buf *name)
{
	const char *eq;
	size_t i;
	int fd, r;

	for (i = 0; i < opt->nincludes; i++) {
		eq = strchr(opt->includes[i], '=');
		name->len = 0;
		arc_buf_add(name, opt->includes[i],
		    (size_t)(eq - opt->includes[i]));
		if ((fd = open(eq + 1, O_RDONLY | O_CLOEXEC)) == -1) {
			warn("cannot open '%s'", eq + 1);
			return -1;
		}
		r = arc_archive_add_fd(ar, arc_buf_str(name), fd,
		    arc_time_now());
		close(fd);
		if (r == -1)
			return -1;
	}
	return 0;
}

/*
 * --archive-files: the content of every planned file.  A file that
 * cannot be read is marked failed and not deleted; the others go on.
 */
static int
add_files(struct arc_archive *ar, const struct arc_runopts *opt,
    struct arc_cands *s, struct arc_store *st, struct arc_buf *name)
{
	struct arc_buf eb = { 0 };
	struct arc_stat sb;
	struct arc_cand *c;
	FILE *tmp;
	size_t i;
	int got, r = 0;

	for (i = 0; r == 0 && i < s->n; i++) {
		c = &s->v[i];
		if (c->plan != ARC_PLAN_PLANNED)
			continue;
		tmp = arc_tmpstream();
		got = arc_store_get(st, c->path, c->pathlen, fileno(tmp), &sb,
		    &eb);
		if (got == ARC_ABSENT) {
			fclose(tmp);
			continue;	/* already gone: nothing to keep */
		}
		if (got != ARC_PRESENT) {
			/*
			 * This file only: what is not in the archive is not
			 * deleted (a FIFO or link swapped in, a read error),
			 * and the others go on.
			 */
			warnx("'%.*s': cannot archive: %s; not deleted",
			    (int)c->qpathlen, c->qpath, arc_buf_str(&eb));
			c->plan = ARC_PLAN_FAILED;
			fclose(tmp);
			continue;
		}
		member(name, opt, M_QUARANTINE, strlen(M_QUARANTINE));
		arc_buf_add(name, c->path, c->pathlen);
		r = arc_archive_add_fd(ar, arc_buf_str(name), fileno(tmp),
		    sb.mtime);
		fclose(tmp);
	}
	arc_buf_free(&eb);
	return r;
}

/*
 * Write the archive opt->archive and make it durable; every failure
 * here means that nothing is deleted (-1 after a message).
 */
int
arc_runarchive_write(const struct arc_runopts *opt, struct arc_plan *p,
    struct arc_store *st)
{
	struct arc_archive *ar;
	struct arc_buf b = { 0 }, name = { 0 };
	int r;

	if ((ar = arc_archive_create(opt->archive, opt->run_id)) == NULL)
		return -1;
	r = arc_archive_add_fd(ar, member(&name, opt, M_CANDIDATES,
	    strlen(M_CANDIDATES)), fileno(p->all), arc_time_now());
	if (r == 0) {
		run_json(&b, opt, p);
		r = arc_archive_add_mem(ar, member(&name, opt, M_RUN,
		    strlen(M_RUN)), b.s, b.len);
	}
	if (r == 0)
		r = add_entries(ar, opt, &p->m, &name);
	if (r == 0)
		r = add_includes(ar, opt, &name);
	if (r == 0 && opt->archive_files)
		r = add_files(ar, opt, &p->s, st, &name);
	arc_buf_free(&b);
	arc_buf_free(&name);
	if (r == -1) {
		arc_archive_abort(ar);
		return -1;
	}
	return arc_archive_commit(ar);
}

/* ---- reading back: restore -------------------------------------------- */

/*
 * The archived manifest entries back in their own bytes: the archive
 * spells their strings as paths (add_entries).  NULL when a line is not
 * such an entry.
 */
static FILE *
entries_from_archive(FILE *in)
{
	struct arc_buf b = { 0 };
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	FILE *out;

	out = arc_tmpstream();
	while ((n = getline(&line, &cap, in)) > 0) {
		b.len = 0;
		if (line[n - 1] == '\n')
			n--;
		if (n == 0)
			continue;
		if (arc_json_spell_strings(&b, line, (size_t)n, 1) == -1) {
			fclose(out);
			out = NULL;
			break;
		}
		arc_buf_addc(&b, '\n');
		fwrite(b.s, 1, b.len, out);
	}
	free(line);
	arc_buf_free(&b);
	if (out != NULL && (ferror(in) || fflush(out) == EOF)) {
		fclose(out);
		out = NULL;
	}
	if (out != NULL)
		rewind(out);
	return out;
}

/* Put quarantined files and archived manifest entries back. */
struct restore {
	struct arc_store	*st;
	struct arc_manifest	*man;
	const char		*archive;
	int			 ret;
};

/*
 * A member that names something to restore is refused, with a warning
 * naming it, unless it is a plain file whose name is a safe relative
 * path: no absolute name, no "..", "." or empty segment, no link or
 * device, so that a tampered archive cannot write outside the store.
 */
static int
member_refused(struct restore *rs, const char *name, const char *notreg,
    const char *p)
{
	struct arc_buf q = { 0 };
	const char *why;

	if (notreg != NULL)
		why = notreg;
	else if ((why = arc_path_unsafe(name, strlen(name))) == NULL)
		return 0;
	arc_quote(&q, name, strlen(name));
	warnx("'%s': member refused: %s", arc_buf_str(&q), why);
	if (p != NULL)
		arc_write_result(stdout, "refused", ARC_KIND_STORAGE, p,
		    strlen(p), ARC_R_RESTORE_REFUSED);
	if (rs->ret == ARC_EXIT_OK)
		rs->ret = ARC_EXIT_SOME;
	arc_buf_free(&q);
	return 1;
}

static int
restore_member(void *arg, const char *name, const char *notreg, int64_t size,
    int64_t mtime, struct archive *a)
{
	struct restore *rs = arg;
	struct arc_buf eb = { 0 }, q = { 0 };
	struct arc_member m;
	const char *p, *base;
	FILE *tmp;
	int r;

	base = strrchr(name, '/') ? strrchr(name, '/') + 1 : name;
	p = strstr(name, M_QUARANTINE);
	if (p != NULL && (p == name || p[-1] == '/'))
		p += strlen(M_QUARANTINE);
	else if (strcmp(base, M_ENTRIES) == 0)
		p = NULL;
	else
		return 0;
	if (member_refused(rs, name, notreg == NULL ?
	    arc_member_too_big(size) : notreg, p))
		return 0;
	/* a file is put back from a file; entries are lines, bounded too */
	tmp = arc_tmpstream();
	if (arc_member_copy(&m, a, tmp, p == NULL) == -1) {
		warnx("'%s': cannot read member '%s': %s", rs->archive, name,
		    m.why);
		fclose(tmp);
		return -1;
	}
	rewind(tmp);
	if (p == NULL) {
		FILE *dec = entries_from_archive(tmp);

		fclose(tmp);
		if ((tmp = dec) == NULL) {
			warnx("'%s': member '%s' is not manifest entries",
			    rs->archive, name);
			rs->ret = ARC_EXIT_ERROR;
			return 0;
		}
		r = arc_manifest_restore(rs->man, tmp, &eb);
		if (r == -1) {
			warnx("cannot restore manifest entries: %s",
			    arc_buf_str(&eb));
			rs->ret = ARC_EXIT_ERROR;
		} else
			fprintf(stderr, "%s: %d manifest entries restored\n",
			    program_invocation_short_name, r);
	} else {
		arc_quote(&q, p, strlen(p));
		if (arc_store_put(rs->st, p, strlen(p), fileno(tmp), mtime,
		    &eb) == -1) {
			warnx("'%s': cannot restore: %s", q.s, arc_buf_str(&eb));
			arc_write_result(stdout, "failed", ARC_KIND_STORAGE,
			    p, strlen(p), ARC_R_RESTORE_FAILED);
			if (rs->ret == ARC_EXIT_OK)
				rs->ret = ARC_EXIT_SOME;
		} else
			arc_write_result(stdout, "restored", ARC_KIND_STORAGE,
			    p, strlen(p), ARC_R_RESTORED);
	}
	fclose(tmp);
	arc_buf_free(&eb);
	arc_buf_free(&q);
	return 0;
}

/*
 * Restore from archive into st and man; the exit status: 0, 1 when a
 * file failed or a member was refused, 2 when the archive or the
 * manifest entries could not be read or written.
 */
int
arc_restore(const char *archive, struct arc_store *st,
    struct arc_manifest *man)
{
	struct restore rs = { st, man, archive, ARC_EXIT_OK };

	if (arc_archive_each(archive, restore_member, &rs) == -1)
		rs.ret = ARC_EXIT_ERROR;
	return rs.ret;
}
