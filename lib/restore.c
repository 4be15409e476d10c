/*
 * restore.c - undo a run from its archive (arc-restore(1), and
 * arc-delete --restore, its alias): each quarantined file is put back
 * into the store, never over one that exists, with its archived mtime,
 * and the archived manifest entries are put back into the manifest.
 * One line a file on standard output, "restored", "failed" or "refused"
 * TAB orphan-storage TAB path; a member that could write outside the
 * store is refused by name.
 */
#include <err.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <archive.h>

#include "arc.h"

/*
 * The archived manifest entries back in their own bytes: the archive
 * spells their strings as paths (arc-delete.c, write_archive).  NULL when a line
 * is not such an entry.
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
	const char *p, *base;
	char buf[65536];
	la_ssize_t n;
	FILE *tmp;
	int r;

	(void)size;
	base = strrchr(name, '/') ? strrchr(name, '/') + 1 : name;
	p = strstr(name, "quarantine/");
	if (p != NULL && (p == name || p[-1] == '/'))
		p += strlen("quarantine/");
	else if (strcmp(base, "manifest-entries.ndjson") == 0)
		p = NULL;
	else
		return 0;
	if (member_refused(rs, name, notreg, p))
		return 0;
	tmp = arc_tmpstream();
	while ((n = archive_read_data(a, buf, sizeof(buf))) > 0)
		fwrite(buf, 1, (size_t)n, tmp);
	if (n < 0 || fflush(tmp) == EOF) {
		warnx("'%s': cannot read member '%s'", rs->archive, name);
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
