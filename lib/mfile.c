/*
 * mfile.c - a manifest kept in a file (or read from standard input):
 * Arc's /api/v1/cluster/files bodies, concatenated pages, or NDJSON.
 *
 * Writers coordinate through flock(2) on MANIFEST.lock beside the file
 * (arc(7), MANIFEST FILE LOCKING): readers hold it shared, a rewrite
 * holds it exclusive and replaces the file atomically (temporary file in
 * the same directory, fsync, rename, fsync of the directory).  The lock
 * file is created when missing and never replaced, so an appender that
 * runs `flock MANIFEST.lock ...` never loses an entry to a rewrite.
 *
 * The manifest belongs to its writer.  MANIFEST may be a symbolic link
 * (to a versioned file): it is resolved once, at open, and every read,
 * append and rewrite goes to the file it named then; a rewrite replaces
 * that file, never the link, and keeps its owner, group and mode.  When
 * MANIFEST names another file later in the run (the link re-pointed, the
 * file replaced by another program), the tool stops with exit 2 before
 * it reads or writes anything more: no answer about one file may be
 * applied to another.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "arc_priv.h"

#define LOCK_WAIT_SECONDS	60

struct mfile {
	char	*path;		/* as named; NULL: standard input */
	char	*target;	/* the file path named at open, resolved */
	dev_t	 dev;		/* target's identity, renewed by our rewrites */
	ino_t	 ino;
};

/* The locks of one manifest: beside its name and beside its target. */
struct mlock {
	int	 fd[2];
};

/*
 * Items by path: an open-addressing table of indices, with each slot's
 * hash, so that a probe of a full slot rarely compares paths.  A pass
 * hashes the path of every entry in the manifest, which is why the hash
 * takes eight bytes at a time.
 */
struct pathset {
	struct arc_mitem *items;
	size_t		*slot;	/* index + 1; 0 is empty */
	uint64_t	*hv;	/* the hash of the slot's path */
	size_t		 mask;
};

static uint64_t
hash(const char *p, size_t n)
{
	uint64_t h = 0x9e3779b97f4a7c15ULL ^ n, w;

	for (; n >= 8; p += 8, n -= 8) {
		memcpy(&w, p, sizeof(w));
		h = (h ^ w) * 0xbf58476d1ce4e5b9ULL;
		h ^= h >> 29;
	}
	w = 0;
	memcpy(&w, p, n);
	h = (h ^ w) * 0x94d049bb133111ebULL;
	return h ^ (h >> 32);
}

static void
pathset_init(struct pathset *ps, struct arc_mitem *items, size_t n)
{
	size_t i, cap = 16, h;
	uint64_t hv;

	while (cap < n * 2)
		cap *= 2;
	ps->items = items;
	ps->mask = cap - 1;
	ps->slot = arc_ecalloc(cap, sizeof(*ps->slot));
	ps->hv = arc_ecalloc(cap, sizeof(*ps->hv));
	for (i = 0; i < n; i++) {
		hv = hash(items[i].path, items[i].pathlen);
		for (h = hv & ps->mask; ps->slot[h] != 0;
		    h = (h + 1) & ps->mask)
			;
		ps->slot[h] = i + 1;
		ps->hv[h] = hv;
	}
}

static struct arc_mitem *
pathset_find(struct pathset *ps, const char *p, size_t n)
{
	struct arc_mitem *it;
	uint64_t hv = hash(p, n);
	size_t h;

	for (h = hv & ps->mask; ps->slot[h] != 0; h = (h + 1) & ps->mask) {
		if (ps->hv[h] != hv)
			continue;
		it = &ps->items[ps->slot[h] - 1];
		if (it->pathlen == n && memcmp(it->path, p, n) == 0)
			return it;
	}
	return NULL;
}

static void
pathset_free(struct pathset *ps)
{
	free(ps->slot);
	free(ps->hv);
}

static int
mfile_open(struct arc_manifest *m, const char *rest)
{
	struct mfile *f;
	struct stat sb;
	const char *pin;
	char *target;

	if (strstr(m->spec, "://") != NULL && rest[0] != '/') {
		warnx("'%s': file URL must be file:///absolute/path", m->spec);
		return -1;
	}
	f = arc_ecalloc(1, sizeof(*f));
	if (strcmp(rest, "-") == 0) {
		m->priv = f;
		return 0;
	}
	/* a manifest that is not there is an operand error, found early */
	if (access(rest, R_OK) == -1) {
		warn("cannot open manifest '%s'", rest);
		free(f);
		return -1;
	}
	/* resolved once: a link re-pointed later is noticed, not followed */
	if ((target = realpath(rest, NULL)) == NULL ||
	    stat(target, &sb) == -1) {
		warn("cannot resolve manifest '%s'", rest);
		free(target);
		free(f);
		return -1;
	}
	/* the file the driver's first stage read (arc-reconcile(1)) */
	pin = getenv("ARC_MANIFEST_TARGET");
	if (pin != NULL && pin[0] != '\0' && strcmp(pin, target) != 0) {
		warnx("manifest '%s' changed during the run: it names '%s' "
		    "now, '%s' before; nothing changed", rest, target, pin);
		free(target);
		free(f);
		return -1;
	}
	f->path = arc_estrdup(rest);
	f->target = target;
	f->dev = sb.st_dev;
	f->ino = sb.st_ino;
	m->priv = f;
	return 0;
}

/*
 * Whether the manifest still names the file it named at open: the same
 * path with every link resolved, and the same file at that path (fd's,
 * when fd is not -1, else the path's).  A file put there by another
 * program's rename is another file: its entries were not the ones this
 * run read.  Returns 0, or -1 with the reason in why.
 */
static int
same_target(struct mfile *f, int fd, struct arc_buf *why)
{
	struct stat sb;
	char *now;

	if ((now = realpath(f->path, NULL)) == NULL) {
		arc_buf_printf(why, "it cannot be resolved now (%s)",
		    strerror(errno));
		return -1;
	}
	if (strcmp(now, f->target) != 0) {
		arc_buf_printf(why, "it names '%s' now, '%s' before", now,
		    f->target);
		free(now);
		return -1;
	}
	free(now);
	if ((fd != -1 ? fstat(fd, &sb) : stat(f->target, &sb)) == -1) {
		arc_buf_printf(why, "cannot stat '%s' (%s)", f->target,
		    strerror(errno));
		return -1;
	}
	if (sb.st_dev != f->dev || sb.st_ino != f->ino) {
		arc_buf_printf(why, "'%s' was replaced by another file",
		    f->target);
		return -1;
	}
	return 0;
}

/*
 * The manifest names another file than the one this run has been reading
 * and changing: an answer about one file must not be applied to the
 * other, so the tool stops before it reads or writes anything more
 * (exit 2), removing its unfinished temporary file tmp.
 */
static void
target_changed(struct mfile *f, struct arc_buf *why, const char *tmp)
{
	if (tmp != NULL)
		unlink(tmp);
	errx(ARC_EXIT_ERROR, "manifest '%s' changed during the run: %s; "
	    "stopped, nothing more is changed", f->path, arc_buf_str(why));
}

/*
 * Open the manifest's file (flags: O_RDONLY or O_WRONLY | O_APPEND)
 * after checking that the manifest still names it; sbp, when not NULL,
 * gets its status.  Returns the descriptor, or -1 after a warning.
 */
static int
open_target(struct mfile *f, int flags, struct stat *sbp)
{
	struct arc_buf why = { 0 };
	int fd;

	if ((fd = open(f->target, flags | O_CLOEXEC | O_NOFOLLOW)) == -1) {
		if ((errno == ENOENT || errno == ELOOP) &&
		    same_target(f, -1, &why) == -1)
			target_changed(f, &why, NULL);
		warn("cannot open manifest '%s'", f->path);
		arc_buf_free(&why);
		return -1;
	}
	if (same_target(f, fd, &why) == -1)
		target_changed(f, &why, NULL);
	if (sbp != NULL && fstat(fd, sbp) == -1) {
		warn("cannot stat manifest '%s'", f->path);
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * Open the lock file lp, creating it when missing.  A lock this creates
 * gets mode 0644 whatever the umask (the driver runs with 077): the
 * manifest's writer, often another user, must be able to open it for
 * flock(1), and flock(2) needs no more than read access.
 */
static int
open_lock(const char *lp)
{
	int fd, e;

	fd = open(lp, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd != -1) {
		if (fchmod(fd, 0644) == -1) {
			e = errno;
			close(fd);
			errno = e;
			return -1;
		}
		return fd;
	}
	if (errno != EEXIST)
		return -1;
	return open(lp, O_RDONLY | O_CLOEXEC);
}

static void
unlock_manifest(struct mlock *lk)
{
	int k;

	for (k = 0; k < 2; k++) {
		if (lk->fd[k] != -1)
			close(lk->fd[k]);
		lk->fd[k] = -1;
	}
}

/*
 * Take the manifest's locks (LOCK_SH or LOCK_EX), waiting a bounded time
 * for each: MANIFEST.lock beside the name the tool was given and, when
 * that name is a link (or goes through one), TARGET.lock beside the file
 * it names, in that order, so that a writer locking by either name is
 * excluded.  optional (readers): a lock that cannot be created in a
 * read-only directory is skipped.  Returns 0, or -1 after a message.
 */
static int
lock_manifest(struct mfile *f, int how, int optional, struct mlock *lk)
{
	struct timespec ts = { 0, 50 * 1000 * 1000 };
	struct stat sb[2];
	char *lp[2];
	int i, k, r = -1;

	lk->fd[0] = lk->fd[1] = -1;
	lp[0] = arc_emalloc(strlen(f->path) + 6);
	sprintf(lp[0], "%s.lock", f->path);
	lp[1] = arc_emalloc(strlen(f->target) + 6);
	sprintf(lp[1], "%s.lock", f->target);
	for (k = 0; k < 2; k++) {
		if ((lk->fd[k] = open_lock(lp[k])) != -1)
			continue;
		/* a read-only manifest can still be read without the lock */
		if (optional && (errno == EACCES || errno == EROFS))
			continue;
		warn("cannot open lock '%s'", lp[k]);
		goto out;
	}
	/* one file by two names: a second flock of it would wait on ours */
	if (lk->fd[0] != -1 && lk->fd[1] != -1 &&
	    fstat(lk->fd[0], &sb[0]) == 0 && fstat(lk->fd[1], &sb[1]) == 0 &&
	    sb[0].st_dev == sb[1].st_dev && sb[0].st_ino == sb[1].st_ino) {
		close(lk->fd[1]);
		lk->fd[1] = -1;
	}
	for (k = 0; k < 2; k++) {
		if (lk->fd[k] == -1)
			continue;
		for (i = 0; flock(lk->fd[k], how | LOCK_NB) == -1; i++) {
			if (errno != EWOULDBLOCK ||
			    i >= LOCK_WAIT_SECONDS * 20) {
				warn("cannot lock '%s'", lp[k]);
				goto out;
			}
			nanosleep(&ts, NULL);
		}
	}
	r = 0;
out:
	if (r == -1)
		unlock_manifest(lk);
	free(lp[0]);
	free(lp[1]);
	return r;
}

static int
need_file(struct mfile *f, const char *what)
{
	if (f->path == NULL) {
		warnx("a manifest on standard input cannot be %s", what);
		return -1;
	}
	return 0;
}

/*
 * One pass over the manifest open on fd, which it closes; rawfn (or
 * NULL) sees simple entries first.
 */
static int
scan_fd(struct mfile *f, int fd, arc_raw_fn rawfn, arc_entry_fn fn,
    void *arg)
{
	FILE *fp;
	int r;

	if ((fp = fdopen(fd, "r")) == NULL) {
		warn("cannot open manifest '%s'", f->path);
		close(fd);
		return -1;
	}
	r = arc_json_entries_raw(fp, f->path, rawfn, fn, arg);
	fclose(fp);
	return r;
}

/* One pass over the manifest, the file it named at open. */
static int
scan(struct mfile *f, arc_raw_fn rawfn, arc_entry_fn fn, void *arg)
{
	int fd;

	if (f->path == NULL)
		return arc_json_entries_raw(stdin, "-", rawfn, fn, arg);
	if ((fd = open_target(f, O_RDONLY, NULL)) == -1)
		return -1;
	return scan_fd(f, fd, rawfn, fn, arg);
}

static int
mfile_dump(struct arc_manifest *m, arc_entry_fn fn, void *arg)
{
	struct mfile *f = m->priv;
	struct mlock lk = { { -1, -1 } };
	int r;

	if (f->path != NULL && lock_manifest(f, LOCK_SH, 1, &lk) == -1)
		return -1;
	r = scan(f, m->nojson ? arc_json_lite : NULL, fn, arg);
	unlock_manifest(&lk);
	return r;
}

struct lookup {
	struct pathset	 ps;
	int		 fetch;
};

static int
lookup_entry(void *arg, struct arc_entry *e, uintmax_t line)
{
	struct lookup *lk = arg;
	struct arc_mitem *it;

	(void)line;
	if ((it = pathset_find(&lk->ps, e->path, e->pathlen)) == NULL)
		return 0;
	it->result = ARC_PRESENT;
	if (lk->fetch && it->json == NULL)
		it->json = arc_estrdup(json_object_to_json_string_ext(e->json,
		    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	return 0;
}

/*
 * A simple entry (arc_json_simple) is one the full pass would accept,
 * with this path: when the path is not in the batch, parsing it would
 * tell nothing, so it is skipped.  Every other entry is parsed as it
 * always was, so a malformed manifest still fails the look-up.
 */
static int
lookup_raw(void *arg, const struct arc_json_raw *raw, uintmax_t line)
{
	struct lookup *lk = arg;

	(void)line;
	return pathset_find(&lk->ps, raw->path, raw->pathlen) == NULL;
}

/* One pass over the file for the whole batch; the caller holds a lock. */
static int
lookup_locked(struct mfile *f, struct arc_mitem *items, size_t n, int fetch)
{
	struct lookup lk;
	size_t i;
	int r;

	for (i = 0; i < n; i++)
		items[i].result = ARC_ABSENT;
	pathset_init(&lk.ps, items, n);
	lk.fetch = fetch;
	r = scan(f, lookup_raw, lookup_entry, &lk);
	pathset_free(&lk.ps);
	if (r == -1)
		for (i = 0; i < n; i++)
			items[i].result = ARC_UNKNOWN;
	return r;
}

static int
lookup_or_fetch(struct arc_manifest *m, struct arc_mitem *items, size_t n,
    int fetch)
{
	struct mfile *f = m->priv;
	struct mlock lk;
	size_t i;
	int r;

	if (need_file(f, "looked up again") == -1 ||
	    lock_manifest(f, LOCK_SH, 1, &lk) == -1) {
		for (i = 0; i < n; i++)
			items[i].result = ARC_UNKNOWN;
		return -1;
	}
	r = lookup_locked(f, items, n, fetch);
	unlock_manifest(&lk);
	return r;
}

static int
mfile_lookup(struct arc_manifest *m, struct arc_mitem *items, size_t n)
{
	return lookup_or_fetch(m, items, n, 0);
}

static int
mfile_fetch(struct arc_manifest *m, struct arc_mitem *items, size_t n)
{
	return lookup_or_fetch(m, items, n, 1);
}

struct rewrite {
	struct pathset	 ps;
	FILE		*out;
	struct arc_buf	 q;
};

static int
rewrite_entry(void *arg, struct arc_entry *e, uintmax_t line)
{
	struct rewrite *rw = arg;
	struct arc_mitem *it;

	(void)line;
	it = pathset_find(&rw->ps, e->path, e->pathlen);
	if (it != NULL) {
		rw->q.len = 0;
		if (e->rev[0] == '\0')
			arc_buf_addc(&rw->q, '-');
		else
			arc_quote(&rw->q, e->rev, strlen(e->rev));
		if ((it->revlen == 1 && it->rev[0] == '-') ||
		    (it->revlen == rw->q.len &&
		    memcmp(it->rev, rw->q.s, rw->q.len) == 0)) {
			it->result = ARC_M_DELETED;
			return 0;
		}
		it->result = ARC_M_CHANGED;
	}
	fprintf(rw->out, "%s\n", json_object_to_json_string_ext(e->json,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	return 0;
}

/*
 * A simple entry whose path is not in the batch is written out as the
 * bytes it was read as, on a line of its own: arc_json_simple has proved
 * that they parse to an entry every reader accepts (the dump too), so
 * the rewrite writes nothing a later pass would refuse, and
 * re-serialising would only spend time.  A simple entry spread over
 * lines (pretty-printed, as bodies often are) is parsed and
 * re-serialised, as every entry that is not simple is.
 */
static int
rewrite_raw(void *arg, const struct arc_json_raw *raw, uintmax_t line)
{
	struct rewrite *rw = arg;

	(void)line;
	if (!raw->oneline || pathset_find(&rw->ps, raw->path,
	    raw->pathlen) != NULL)
		return 0;
	fwrite(raw->text, 1, raw->len, rw->out);
	putc('\n', rw->out);
	return 1;	/* a write error shows in ferror() at the end */
}

/*
 * Give the new manifest (fd, named tmp) the owner, group and mode of the
 * old one (sb), so that a rewrite, even by root under umask 077, never
 * locks the manifest's writer out.  When the owner or group differ and
 * cannot be given (fchown(2) needs root), the rewrite fails and nothing
 * changes: a manifest its writer can no longer append to would lose the
 * entries of the files it goes on writing.
 */
static int
keep_owner(int fd, const char *tmp, const struct stat *sb,
    struct arc_buf *eb)
{
	struct stat tb;

	if (fstat(fd, &tb) == -1) {
		arc_buf_printf(eb, "cannot stat '%s': %s", tmp,
		    strerror(errno));
		return -1;
	}
	if ((tb.st_uid != sb->st_uid || tb.st_gid != sb->st_gid) &&
	    fchown(fd, sb->st_uid, sb->st_gid) == -1) {
		arc_buf_printf(eb, "cannot give '%s' the manifest's owner "
		    "and group %ju:%ju: %s", tmp, (uintmax_t)sb->st_uid,
		    (uintmax_t)sb->st_gid, strerror(errno));
		return -1;
	}
	/* after fchown, which may clear the set-id bits */
	if (fchmod(fd, sb->st_mode & 07777) == -1) {
		arc_buf_printf(eb, "cannot give '%s' the manifest's mode: %s",
		    tmp, strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * Remove the entries of one batch whose path (and rev, unless "-") still
 * match, in one atomic rewrite under the exclusive lock.  The rewritten
 * file is NDJSON and replaces the file the manifest named at open (the
 * link's target, not the link), beside which the temporary file is made.
 * On failure nothing has changed and every item is ARC_M_FAILED; the
 * reason is in eb.
 */
static int
mfile_remove(struct arc_manifest *m, struct arc_mitem *items, size_t n,
    struct arc_buf *eb)
{
	struct mfile *f = m->priv;
	struct rewrite rw;
	struct mlock lk;
	struct stat sb, nsb;
	struct arc_buf why = { 0 };
	char *tmp = NULL;
	size_t i;
	int rfd, fd = -1, r = -1;

	memset(&rw, 0, sizeof(rw));
	for (i = 0; i < n; i++)
		items[i].result = ARC_M_FAILED;
	eb->len = 0;
	if (need_file(f, "rewritten") == -1) {
		arc_buf_adds(eb, "manifest on standard input");
		return -1;
	}
	if (lock_manifest(f, LOCK_EX, 0, &lk) == -1) {
		arc_buf_adds(eb, "cannot lock the manifest");
		return -1;
	}
	if ((rfd = open_target(f, O_RDONLY, &sb)) == -1) {
		arc_buf_printf(eb, "cannot read '%s'", f->path);
		goto out;
	}
	if ((fd = arc_open_tmp(f->target, &tmp)) == -1) {
		arc_buf_printf(eb, "cannot rewrite '%s': %s", f->target,
		    strerror(errno));
		close(rfd);
		goto out;
	}
	if (keep_owner(fd, tmp, &sb, eb) == -1 ||
	    (rw.out = fdopen(fd, "w")) == NULL) {
		if (eb->len == 0)
			arc_buf_printf(eb, "cannot rewrite '%s': %s",
			    f->target, strerror(errno));
		close(fd);
		close(rfd);
		goto fail;
	}
	for (i = 0; i < n; i++)
		items[i].result = ARC_M_GONE;
	pathset_init(&rw.ps, items, n);
	if (scan_fd(f, rfd, rewrite_raw, rewrite_entry, &rw) == -1) {
		arc_buf_printf(eb, "cannot read '%s'", f->path);
		fclose(rw.out);
		goto fail;
	}
	if (fflush(rw.out) == EOF || ferror(rw.out) ||
	    fsync(fileno(rw.out)) == -1 || fstat(fileno(rw.out), &nsb) == -1) {
		arc_buf_printf(eb, "cannot write '%s': %s", tmp,
		    strerror(errno));
		fclose(rw.out);
		goto fail;
	}
	if (fclose(rw.out) == EOF) {
		arc_buf_printf(eb, "cannot write '%s': %s", tmp,
		    strerror(errno));
		goto fail;
	}
	/* the last look before the rename: a file named now is left alone */
	if (same_target(f, -1, &why) == -1)
		target_changed(f, &why, tmp);
	if (rename(tmp, f->target) == -1) {
		arc_buf_printf(eb, "cannot replace '%s': %s", f->target,
		    strerror(errno));
		goto fail;
	}
	/* the file the manifest names from now on is the one just written */
	f->dev = nsb.st_dev;
	f->ino = nsb.st_ino;
	free(tmp);
	tmp = NULL;
	if (arc_fsync_dir(f->target) == -1) {
		/* the new file is in place; only its durability is in doubt */
		arc_buf_printf(eb, "cannot fsync the directory of '%s': %s",
		    f->target, strerror(errno));
		goto out;
	}
	r = 0;
	goto out;
fail:
	unlink(tmp);
	for (i = 0; i < n; i++)
		items[i].result = ARC_M_FAILED;
out:
	free(tmp);
	pathset_free(&rw.ps);
	arc_buf_free(&rw.q);
	arc_buf_free(&why);
	unlock_manifest(&lk);
	return r;
}

struct restore {
	struct arc_mitem *items;
	size_t		 n, cap;
	struct arc_buf	 err;
};

static int
restore_entry(void *arg, struct arc_entry *e, uintmax_t line)
{
	struct restore *rs = arg;
	struct arc_mitem *it;

	(void)line;
	if (rs->n == rs->cap) {
		rs->cap = rs->cap ? rs->cap * 2 : 64;
		rs->items = arc_ereallocarray(rs->items, rs->cap,
		    sizeof(*rs->items));
	}
	it = &rs->items[rs->n++];
	memset(it, 0, sizeof(*it));
	it->path = arc_estrndup(e->path, e->pathlen);
	it->pathlen = e->pathlen;
	it->json = arc_estrdup(json_object_to_json_string_ext(e->json,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	return 0;
}

/*
 * Append the FileEntry objects of fp (NDJSON) whose path is not in the
 * manifest any more.  Returns the number restored, or -1.
 */
static int
mfile_restore(struct arc_manifest *m, FILE *fp, struct arc_buf *eb)
{
	struct mfile *f = m->priv;
	struct restore rs;
	struct mlock lk = { { -1, -1 } };
	struct stat sb;
	size_t i;
	int fd = -1, r = -1, count = 0;

	memset(&rs, 0, sizeof(rs));
	eb->len = 0;
	if (need_file(f, "restored") == -1) {
		arc_buf_adds(eb, "manifest on standard input");
		return -1;
	}
	if (arc_json_entries(fp, "manifest-entries.ndjson", restore_entry,
	    &rs) == -1) {
		arc_buf_adds(eb, "unreadable manifest-entries.ndjson");
		goto out;
	}
	if (lock_manifest(f, LOCK_EX, 0, &lk) == -1) {
		arc_buf_adds(eb, "cannot lock the manifest");
		goto out;
	}
	if (lookup_locked(f, rs.items, rs.n, 0) == -1) {
		arc_buf_adds(eb, "cannot read the manifest");
		goto out;
	}
	if ((fd = open_target(f, O_WRONLY | O_APPEND, &sb)) == -1) {
		arc_buf_printf(eb, "cannot open '%s'", f->path);
		goto out;
	}
	/*
	 * Whole lines or none: a failed append (a full disk) is cut back to
	 * where it began, so that no reader ever meets half an entry.  The
	 * exclusive lock keeps every other appender out meanwhile.
	 */
	for (i = 0; i < rs.n; i++) {
		if (rs.items[i].result != ARC_ABSENT)
			continue;
		if (arc_write_full(fd, rs.items[i].json,
		    strlen(rs.items[i].json)) == -1 ||
		    arc_write_full(fd, "\n", 1) == -1) {
			arc_buf_printf(eb, "cannot append to '%s': %s",
			    f->path, strerror(errno));
			goto cut;
		}
		count++;
	}
	if (fsync(fd) == -1) {
		arc_buf_printf(eb, "cannot fsync '%s': %s", f->path,
		    strerror(errno));
		goto cut;
	}
	r = count;
	goto out;
cut:
	if (ftruncate(fd, sb.st_size) == -1 || fsync(fd) == -1)
		arc_buf_printf(eb, "; cannot cut '%s' back to %jd bytes: %s",
		    f->path, (intmax_t)sb.st_size, strerror(errno));
out:
	if (fd != -1)
		close(fd);
	unlock_manifest(&lk);
	for (i = 0; i < rs.n; i++) {
		free((char *)rs.items[i].path);
		free(rs.items[i].json);
	}
	free(rs.items);
	return r;
}

static void
mfile_close(struct arc_manifest *m)
{
	struct mfile *f = m->priv;

	free(f->path);
	free(f->target);
	free(f);
}

const struct arc_manifest_ops arc_manifest_file = {
	.scheme = "file",
	.open = mfile_open,
	.dump = mfile_dump,
	.lookup = mfile_lookup,
	.fetch = mfile_fetch,
	.remove = mfile_remove,
	.restore = mfile_restore,
	.close = mfile_close,
};
