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

#include "arc.h"

#define LOCK_WAIT_SECONDS	60

struct mfile {
	char	*path;		/* NULL: standard input */
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

	if (strstr(m->spec, "://") != NULL && rest[0] != '/') {
		warnx("'%s': file URL must be file:///absolute/path", m->spec);
		return -1;
	}
	/* a manifest that is not there is an operand error, found early */
	if (strcmp(rest, "-") != 0 && access(rest, R_OK) == -1) {
		warn("cannot open manifest '%s'", rest);
		return -1;
	}
	f = arc_ecalloc(1, sizeof(*f));
	if (strcmp(rest, "-") != 0)
		f->path = arc_estrdup(rest);
	m->priv = f;
	return 0;
}

/*
 * Take the manifest's lock (LOCK_SH or LOCK_EX), waiting a bounded time.
 * Returns the lock descriptor, or -1 after a message.
 */
static int
lock_manifest(struct mfile *f, int how, int optional)
{
	struct timespec ts = { 0, 50 * 1000 * 1000 };
	char *lp;
	int fd, i;

	lp = arc_emalloc(strlen(f->path) + 6);
	sprintf(lp, "%s.lock", f->path);
	if ((fd = open(lp, O_RDONLY | O_CREAT | O_CLOEXEC, 0644)) == -1) {
		/* a read-only manifest can still be read without the lock */
		if (optional && (errno == EACCES || errno == EROFS)) {
			free(lp);
			return -2;
		}
		warn("cannot open lock '%s'", lp);
		free(lp);
		return -1;
	}
	for (i = 0; flock(fd, how | LOCK_NB) == -1; i++) {
		if (errno != EWOULDBLOCK || i >= LOCK_WAIT_SECONDS * 20) {
			warn("cannot lock '%s'", lp);
			close(fd);
			free(lp);
			return -1;
		}
		nanosleep(&ts, NULL);
	}
	free(lp);
	return fd;
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

/* One pass over the manifest; rawfn (or NULL) sees simple entries first. */
static int
scan(struct mfile *f, arc_raw_fn rawfn, arc_entry_fn fn, void *arg)
{
	FILE *fp;
	int r;

	if (f->path == NULL)
		return arc_json_entries_raw(stdin, "-", rawfn, fn, arg);
	if ((fp = fopen(f->path, "r")) == NULL) {
		warn("cannot open manifest '%s'", f->path);
		return -1;
	}
	r = arc_json_entries_raw(fp, f->path, rawfn, fn, arg);
	fclose(fp);
	return r;
}

static int
mfile_dump(struct arc_manifest *m, arc_entry_fn fn, void *arg)
{
	struct mfile *f = m->priv;
	int lfd = -1, r;

	if (f->path != NULL && (lfd = lock_manifest(f, LOCK_SH, 1)) == -1)
		return -1;
	r = scan(f, NULL, fn, arg);
	if (lfd >= 0)
		close(lfd);
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
	int lfd, r;

	if (need_file(f, "looked up again") == -1 ||
	    (lfd = lock_manifest(f, LOCK_SH, 1)) == -1) {
		for (r = 0; (size_t)r < n; r++)
			items[r].result = ARC_UNKNOWN;
		return -1;
	}
	r = lookup_locked(f, items, n, fetch);
	if (lfd >= 0)
		close(lfd);
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
 * Remove the entries of one batch whose path (and rev, unless "-") still
 * match, in one atomic rewrite under the exclusive lock.  The rewritten
 * file is NDJSON.  On failure nothing has changed and every item is
 * ARC_M_FAILED; the reason is in eb.
 */
static int
mfile_remove(struct arc_manifest *m, struct arc_mitem *items, size_t n,
    struct arc_buf *eb)
{
	struct mfile *f = m->priv;
	struct rewrite rw;
	struct stat sb;
	char *tmp = NULL;
	size_t i;
	int lfd, fd = -1, r = -1;

	memset(&rw, 0, sizeof(rw));
	for (i = 0; i < n; i++)
		items[i].result = ARC_M_FAILED;
	eb->len = 0;
	if (need_file(f, "rewritten") == -1) {
		arc_buf_adds(eb, "manifest on standard input");
		return -1;
	}
	if ((lfd = lock_manifest(f, LOCK_EX, 0)) < 0) {
		arc_buf_adds(eb, "cannot lock the manifest");
		return -1;
	}
	if (stat(f->path, &sb) == -1 ||
	    (fd = arc_open_tmp(f->path, &tmp)) == -1 ||
	    (rw.out = fdopen(fd, "w")) == NULL) {
		arc_buf_printf(eb, "cannot rewrite '%s': %s", f->path,
		    strerror(errno));
		if (fd != -1)
			close(fd);
		goto out;
	}
	for (i = 0; i < n; i++)
		items[i].result = ARC_M_GONE;
	pathset_init(&rw.ps, items, n);
	if (scan(f, rewrite_raw, rewrite_entry, &rw) == -1) {
		arc_buf_printf(eb, "cannot read '%s'", f->path);
		fclose(rw.out);
		goto fail;
	}
	if (fflush(rw.out) == EOF || ferror(rw.out) ||
	    fchmod(fileno(rw.out), sb.st_mode & 07777) == -1 ||
	    fsync(fileno(rw.out)) == -1) {
		arc_buf_printf(eb, "cannot write '%s': %s", tmp,
		    strerror(errno));
		fclose(rw.out);
		goto fail;
	}
	if (fclose(rw.out) == EOF || rename(tmp, f->path) == -1) {
		arc_buf_printf(eb, "cannot replace '%s': %s", f->path,
		    strerror(errno));
		goto fail;
	}
	free(tmp);
	tmp = NULL;
	if (arc_fsync_dir(f->path) == -1) {
		/* the new file is in place; only its durability is in doubt */
		arc_buf_printf(eb, "cannot fsync the directory of '%s': %s",
		    f->path, strerror(errno));
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
	close(lfd);
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
	size_t i;
	int lfd = -1, fd = -1, r = -1, count = 0;

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
	if ((lfd = lock_manifest(f, LOCK_EX, 0)) < 0) {
		arc_buf_adds(eb, "cannot lock the manifest");
		goto out;
	}
	if (lookup_locked(f, rs.items, rs.n, 0) == -1) {
		arc_buf_adds(eb, "cannot read the manifest");
		goto out;
	}
	if ((fd = open(f->path, O_WRONLY | O_APPEND | O_CLOEXEC)) == -1) {
		arc_buf_printf(eb, "cannot open '%s': %s", f->path,
		    strerror(errno));
		goto out;
	}
	for (i = 0; i < rs.n; i++) {
		if (rs.items[i].result != ARC_ABSENT)
			continue;
		if (arc_write_full(fd, rs.items[i].json,
		    strlen(rs.items[i].json)) == -1 ||
		    arc_write_full(fd, "\n", 1) == -1) {
			arc_buf_printf(eb, "cannot append to '%s': %s",
			    f->path, strerror(errno));
			goto out;
		}
		count++;
	}
	if (fsync(fd) == -1) {
		arc_buf_printf(eb, "cannot fsync '%s': %s", f->path,
		    strerror(errno));
		goto out;
	}
	r = count;
out:
	if (fd != -1)
		close(fd);
	if (lfd != -1)
		close(lfd);
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
