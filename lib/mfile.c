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
 *
 * A phase announces all its paths first (mfile_plan), so that the
 * manifest is read whole once for all its batches: afterwards a batch
 * reads only what was appended since (arc(7), MANIFEST FILE PASSES), and
 * a batch's rewrite copies the file this run wrote last, in the kernel,
 * leaving out the lines of the batch's entries, whose places the first
 * pass noted.  Anything but an append found since (another file, a
 * shorter one, the same size with other timestamps, other bytes before
 * the old end or at a noted line) means a whole pass, as before.
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
#define WINDOW		(1024 * 1024)	/* bytes hashed at a time */
#define SETTLE_NS	20000000L	/* longer than a file time's tick */
#define COPY_BUFSZ	(1024 * 1024)

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

/*
 * The hash of a file's bytes from its start, in windows of WINDOW bytes,
 * fed as they are read or written: a pass that reads a file whole, and
 * a rewrite that writes one, hash it on the way, so that its note costs
 * no second read.  window_hash reads a file again into the same hash.
 */
struct whash {
	uint64_t	 h;
	uint64_t	 total;
	size_t		 fill;
	char		*buf;	/* a window not yet full */
};

static void
whash_init(struct whash *w)
{
	w->h = 0x243f6a8885a308d3ULL;
	w->total = 0;
	w->fill = 0;
	if (w->buf == NULL)
		w->buf = arc_emalloc(WINDOW);
}

static void
whash_mix(uint64_t *h, const char *p, size_t n)
{
	*h = (*h ^ hash(p, n)) * 0xbf58476d1ce4e5b9ULL;
	*h ^= *h >> 29;
}

static void
whash_add(struct whash *w, const char *p, size_t n)
{
	size_t k;

	w->total += n;
	while (n > 0) {
		if (w->fill == 0 && n >= WINDOW) {
			whash_mix(&w->h, p, WINDOW);
			p += WINDOW;
			n -= WINDOW;
			continue;
		}
		k = WINDOW - w->fill < n ? WINDOW - w->fill : n;
		memcpy(w->buf + w->fill, p, k);
		w->fill += k;
		p += k;
		n -= k;
		if (w->fill == WINDOW) {
			whash_mix(&w->h, w->buf, WINDOW);
			w->fill = 0;
		}
	}
}

/* The hash of the bytes fed so far, their number included. */
static uint64_t
whash_value(const struct whash *w)
{
	uint64_t h = w->h;

	if (w->fill > 0)
		whash_mix(&h, w->buf, w->fill);
	h = (h ^ w->total) * 0x94d049bb133111ebULL;
	return h ^ (h >> 32);
}

static void
whash_free(struct whash *w)
{
	free(w->buf);
	w->buf = NULL;
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

/* The file as a pass left it: what tells an append from another change. */
struct snap {
	int		 valid;
	dev_t		 dev;
	ino_t		 ino;
	off_t		 size;
	struct timespec	 mtime, ctime;
	uint64_t	 win;	/* hash of all the bytes before size */
};

/* A line of the file this run wrote last holding an entry of a planned path. */
struct mline {
	off_t		 off;
	size_t		 len;	/* with its newline */
	uint64_t	 hv;	/* hash of its bytes but the newline */
	size_t		 item;	/* the planned item */
	int		 match;	/* its rev is the item's: removed with it */
};

/* The paths of a phase, announced by mfile_plan, and what is known of them. */
struct phase {
	struct arc_mitem *items;	/* copies; result: presence */
	size_t		 n;
	struct pathset	 ps;
	struct snap	 snap;		/* the file when the last pass ended */
	int		 looked;	/* items' presence is as of snap */
	int		 indexed;	/* lines: every planned entry of snap */
	struct mline	*lines;		/* in file order */
	size_t		 nlines;
};

struct mfile {
	char	*path;		/* as named; NULL: standard input */
	char	*target;	/* the file path named at open, resolved */
	dev_t	 dev;		/* target's identity, renewed by our rewrites */
	ino_t	 ino;
	struct phase ph;
	struct arc_manifest_io *io;
};

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
	f->io = &m->io;
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
		arc_stop_reason("manifest_replaced");
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
	m->whole = 1;
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
	arc_stop_reason("manifest_replaced");
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

/* A stream on a manifest's descriptor that hashes what it reads or writes. */
struct hstream {
	int		 fd;
	struct whash	*w;	/* or NULL */
	uintmax_t	 n;	/* bytes read or written */
};

static ssize_t
hstream_read(void *c, char *buf, size_t len)
{
	struct hstream *hs = c;
	ssize_t n;

	while ((n = read(hs->fd, buf, len)) == -1 && errno == EINTR)
		;
	if (n > 0) {
		hs->n += (uintmax_t)n;
		if (hs->w != NULL)
			whash_add(hs->w, buf, (size_t)n);
	}
	return n;
}

static ssize_t
hstream_write(void *c, const char *buf, size_t len)
{
	struct hstream *hs = c;

	if (arc_write_full(hs->fd, buf, len) == -1)
		return -1;
	hs->n += len;
	if (hs->w != NULL)
		whash_add(hs->w, buf, len);
	return (ssize_t)len;
}

/* hs as a stream (mode "r" or "w"); closing it leaves hs->fd open. */
static FILE *
hstream_open(struct hstream *hs, const char *mode)
{
	cookie_io_functions_t io = { .read = hstream_read,
	    .write = hstream_write };

	return fopencookie(hs, mode, io);
}

/*
 * Read the manifest open on fd from offset from to its end (a whole pass
 * from 0, a tail else), through a stream of its own: fd stays open.
 * rawfn (or NULL) sees simple entries first.  w, when not NULL, goes on
 * hashing the bytes read (from 0 for a whole pass, from where it ended
 * for a tail).  Counted in f->io.
 */
static int
read_from(struct mfile *f, int fd, off_t from, arc_raw_fn rawfn,
    arc_entry_fn fn, void *arg, struct whash *w)
{
	struct hstream hs = { fd, w, 0 };
	FILE *fp;
	int r;

	/* a FIFO or a pipe cannot seek, and is only ever read from 0 */
	if (lseek(fd, from, SEEK_SET) == -1 && (errno != ESPIPE || from != 0)) {
		warn("cannot read manifest '%s'", f->path);
		return -1;
	}
	if ((fp = hstream_open(&hs, "r")) == NULL) {
		warn("cannot open manifest '%s'", f->path);
		return -1;
	}
	r = arc_json_entries_raw(fp, f->path, rawfn, fn, arg);
	f->io->bytes_read += hs.n;
	if (from == 0)
		f->io->passes++;
	else
		f->io->tails++;
	fclose(fp);
	return r;
}

/* One pass over the manifest open on fd, which it closes. */
static int
scan_fd(struct mfile *f, int fd, arc_raw_fn rawfn, arc_entry_fn fn,
    void *arg)
{
	int r;

	r = read_from(f, fd, 0, rawfn, fn, arg, NULL);
	close(fd);
	return r;
}

/* One pass over the manifest, the file it named at open. */
static int
scan(struct mfile *f, arc_raw_fn rawfn, arc_entry_fn fn, void *arg)
{
	int fd;

	if (f->path == NULL) {
		f->io->passes++;
		return arc_json_entries_raw(stdin, "-", rawfn, fn, arg);
	}
	if ((fd = open_target(f, O_RDONLY, NULL)) == -1)
		return -1;
	return scan_fd(f, fd, rawfn, fn, arg);
}

static int
ts_equal(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

/* Read len bytes of fd at off into b; -1 when they are not all there. */
static int
read_at(struct mfile *f, int fd, off_t off, size_t len, struct arc_buf *b)
{
	ssize_t n;
	size_t got = 0;

	arc_buf_grow(b, len);
	b->len = 0;
	while (got < len) {
		n = pread(fd, b->s + got, len - got, off + (off_t)got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	b->len = len;
	f->io->bytes_read += len;
	return 0;
}

/*
 * The hash of all of fd's bytes before offset end, in w, read again (not
 * parsed) when a file has grown: an edit anywhere before the old end shows,
 * also one made together with an append, and also one in the same
 * granule of the file system's clock (a second on some), which the
 * file's times cannot show.
 */
static int
window_hash(struct mfile *f, int fd, off_t end, struct whash *w)
{
	char *buf = arc_emalloc(WINDOW);
	off_t off = 0;
	ssize_t n;

	whash_init(w);
	while (off < end) {
		n = pread(fd, buf, end - off < WINDOW ? (size_t)(end - off) :
		    WINDOW, off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			free(buf);
			return -1;
		}
		whash_add(w, buf, (size_t)n);
		off += n;
		f->io->bytes_read += (uintmax_t)n;
	}
	free(buf);
	return 0;
}

/*
 * Note what the file open on fd is now, after a pass that read size
 * bytes (and, when before is not NULL, began with the file as before
 * says), with w the hash of its bytes made on the way (or of fewer
 * bytes: then it is read again to hash it whole, into w): a file that
 * changed meanwhile is not noted, and the next look
 * is a whole pass.  A change in the same tick of the file system's clock
 * as the last would leave the times equal, so with settle this waits,
 * lock held, until the clock has moved on: whatever is written later
 * shows.  A rewrite's note waits too: a look-up starts from it.
 */
static void
take_snap(struct mfile *f, int fd, const struct stat *before, off_t size,
    struct snap *s, int settle, struct whash *w)
{
	struct timespec now, ts;
	struct stat sb;
	int64_t age;

	s->valid = 0;
	if (fstat(fd, &sb) == -1 || sb.st_size != size ||
	    (before != NULL && (sb.st_dev != before->st_dev ||
	    sb.st_ino != before->st_ino ||
	    !ts_equal(&sb.st_mtim, &before->st_mtim) ||
	    !ts_equal(&sb.st_ctim, &before->st_ctim))))
		return;
	/* the bytes hashed on the way are the file's, or it is read again */
	if (w->total != (uint64_t)size && window_hash(f, fd, size, w) == -1)
		return;
	s->win = whash_value(w);
	if (clock_gettime(CLOCK_REALTIME, &now) == -1)
		return;
	age = (int64_t)(now.tv_sec - sb.st_ctim.tv_sec) * 1000000000 +
	    (now.tv_nsec - sb.st_ctim.tv_nsec);
	if (age < 0)
		return;		/* a clock set back: trust no time */
	if (settle && age < SETTLE_NS) {
		ts.tv_sec = 0;
		ts.tv_nsec = SETTLE_NS - age;
		nanosleep(&ts, NULL);
	}
	s->dev = sb.st_dev;
	s->ino = sb.st_ino;
	s->size = sb.st_size;
	s->mtime = sb.st_mtim;
	s->ctime = sb.st_ctim;
	s->valid = 1;
}

/*
 * Whether a file time t comes from a clock finer than the wait after a
 * note (SETTLE_NS): then any write after the note, in place or not, has
 * changed the status-change time.  A time with no digit below 10 ms may
 * come from a file system that keeps seconds (ext4 with 128-byte inodes,
 * NFSv3, FAT) or hundredths (exFAT), where an edit in the same granule
 * as the note leaves the times as they were: such a file is hashed.
 */
static int
fine_clock(const struct timespec *t)
{
	return t->tv_nsec % 10000000L != 0;
}

/*
 * Whether the file open on fd (status sb) is the one noted in s with
 * entries only appended since, or not changed at all: then *from is the
 * old end, where what is new begins, and w the hash of the bytes before
 * it when they were read (none are when the file is unchanged).  -1 for anything else (nothing
 * noted, another file, a shorter one, the same size with other times,
 * other bytes before the old end): the caller reads the whole file.
 */
static int
appended_since(struct mfile *f, int fd, const struct stat *sb,
    const struct snap *s, off_t *from, struct whash *w)
{
	whash_init(w);
	if (!s->valid || sb->st_dev != s->dev || sb->st_ino != s->ino ||
	    sb->st_size < s->size)
		return -1;
	if (sb->st_size == s->size && (!ts_equal(&sb->st_mtim, &s->mtime) ||
	    !ts_equal(&sb->st_ctim, &s->ctime)))
		return -1;
	/* nothing written since, as a fine clock shows: nothing to read */
	if (sb->st_size == s->size && fine_clock(&s->ctime)) {
		*from = s->size;
		return 0;
	}
	/* grown, or a coarse clock: every old byte read again, not parsed */
	if (window_hash(f, fd, s->size, w) == -1 || whash_value(w) != s->win) {
		whash_init(w);
		return -1;
	}
	*from = s->size;
	return 0;
}

static void
phase_free(struct phase *ph)
{
	size_t i;

	for (i = 0; i < ph->n; i++) {
		free((char *)ph->items[i].path);
		free((char *)ph->items[i].rev);
	}
	if (ph->items != NULL)
		pathset_free(&ph->ps);
	free(ph->items);
	free(ph->lines);
	memset(ph, 0, sizeof(*ph));
}

/*
 * A phase's paths (and revs), before its first batch: the first look-up
 * or rewrite reads the manifest once for all of them.
 */
static int
mfile_plan(struct arc_manifest *m, const struct arc_mitem *items, size_t n)
{
	struct mfile *f = m->priv;
	struct phase *ph = &f->ph;
	size_t i;

	phase_free(ph);
	if (n == 0 || f->path == NULL)
		return 0;
	ph->items = arc_ecalloc(n, sizeof(*ph->items));
	for (i = 0; i < n; i++) {
		ph->items[i].path = arc_estrndup(items[i].path,
		    items[i].pathlen);
		ph->items[i].pathlen = items[i].pathlen;
		if (items[i].rev != NULL)
			ph->items[i].rev = arc_estrndup(items[i].rev,
			    items[i].revlen);
		ph->items[i].revlen = items[i].revlen;
		ph->items[i].created_at = items[i].created_at;
		ph->items[i].size = items[i].size;
	}
	ph->n = n;
	pathset_init(&ph->ps, ph->items, n);
	return 0;
}

/* The planned item of it's path (and, with withrev, rev), or NULL. */
static struct arc_mitem *
planned(struct phase *ph, const struct arc_mitem *it, int withrev)
{
	struct arc_mitem *p;

	if (ph->items == NULL ||
	    (p = pathset_find(&ph->ps, it->path, it->pathlen)) == NULL)
		return NULL;
	if (withrev && (p->revlen != it->revlen || (it->revlen > 0 &&
	    memcmp(p->rev, it->rev, it->revlen) != 0)))
		return NULL;
	return p;
}

static int
all_planned(struct phase *ph, const struct arc_mitem *items, size_t n,
    int withrev)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (planned(ph, &items[i], withrev) == NULL)
			return 0;
	return 1;
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
	struct arc_buf	 plain;	/* an entry path's plain spelling */
	int		 fetch;
	int		 found;	/* an entry of a path of ps was read */
};

/*
 * The batch's item an entry at p registers: the one at p, or for a
 * look-up (not a fetch, which must give the entry of that very path) the
 * one at p's plain spelling, so that "a/./b" registers the file "a/b"
 * (arc_path_canonical).
 */
static struct arc_mitem *
lookup_find(struct lookup *lk, const char *p, size_t n)
{
	struct arc_mitem *it;

	if ((it = pathset_find(&lk->ps, p, n)) != NULL || lk->fetch ||
	    !arc_path_canonical(p, n, &lk->plain) || lk->plain.len == 0)
		return it;
	return pathset_find(&lk->ps, lk->plain.s, lk->plain.len);
}

static int
lookup_entry(void *arg, struct arc_entry *e, uintmax_t line)
{
	struct lookup *lk = arg;
	struct arc_mitem *it;

	(void)line;
	if ((it = lookup_find(lk, e->path, e->pathlen)) == NULL)
		return 0;
	it->result = ARC_PRESENT;
	lk->found = 1;
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
	return lookup_find(lk, raw->path, raw->pathlen) == NULL;
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
	memset(&lk.plain, 0, sizeof(lk.plain));
	lk.fetch = fetch;
	lk.found = 0;
	r = scan(f, lookup_raw, lookup_entry, &lk);
	pathset_free(&lk.ps);
	arc_buf_free(&lk.plain);
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

/*
 * The presence of every planned path in the file a rewrite just wrote:
 * its noted lines are every entry of a planned path it holds.
 */
static void
note_presence(struct phase *ph)
{
	size_t i;

	for (i = 0; i < ph->n; i++)
		ph->items[i].result = ARC_ABSENT;
	for (i = 0; i < ph->nlines; i++)
		ph->items[ph->lines[i].item].result = ARC_PRESENT;
}

/*
 * Bring the presence of every planned path up to date, under the lock:
 * from what was appended alone when the file is the one the last pass
 * read and only grew since, else by a whole pass.  0, or -1.
 */
static int
plan_lookup_locked(struct mfile *f)
{
	struct phase *ph = &f->ph;
	struct lookup lk;
	struct whash w = { 0 };
	struct stat sb;
	off_t from = 0;
	size_t i;
	int fd, r = 0;

	if ((fd = open_target(f, O_RDONLY, &sb)) == -1)
		return -1;
	if (!ph->looked ||
	    appended_since(f, fd, &sb, &ph->snap, &from, &w) == -1) {
		from = 0;
		whash_init(&w);
		for (i = 0; i < ph->n; i++)
			ph->items[i].result = ARC_ABSENT;
	}
	/* unchanged since the note: it stands, nothing is read */
	if (from > 0 && from == sb.st_size && w.total == 0)
		goto out;
	ph->looked = 0;
	if (from == 0 || from < sb.st_size) {
		lk.ps = ph->ps;
		memset(&lk.plain, 0, sizeof(lk.plain));
		lk.fetch = 0;
		lk.found = 0;
		r = read_from(f, fd, from, lookup_raw, lookup_entry, &lk, &w);
		/*
		 * The noted lines are every planned entry of the file as the
		 * last rewrite left it; the snap taken below moves past what
		 * was read here, so an entry of a planned path found in it
		 * (or a whole pass) makes them incomplete: the next rewrite
		 * reads the file whole rather than copy such an entry unseen
		 * and count its path as removed.
		 */
		if (from == 0 || lk.found)
			ph->indexed = 0;
		arc_buf_free(&lk.plain);
	}
	if (r == 0) {
		take_snap(f, fd, &sb, sb.st_size, &ph->snap, 1, &w);
		ph->looked = ph->snap.valid;
	}
out:
	whash_free(&w);
	close(fd);
	return r;
}

static int
mfile_lookup(struct arc_manifest *m, struct arc_mitem *items, size_t n)
{
	struct mfile *f = m->priv;
	struct mlock lk;
	size_t i;
	int r;

	if (f->path == NULL || !all_planned(&f->ph, items, n, 0))
		return lookup_or_fetch(m, items, n, 0);
	if (lock_manifest(f, LOCK_SH, 1, &lk) == -1) {
		for (i = 0; i < n; i++)
			items[i].result = ARC_UNKNOWN;
		return -1;
	}
	r = plan_lookup_locked(f);
	for (i = 0; i < n; i++)
		items[i].result = r == -1 ? ARC_UNKNOWN :
		    planned(&f->ph, &items[i], 0)->result;
	unlock_manifest(&lk);
	return r;
}

static int
mfile_fetch(struct arc_manifest *m, struct arc_mitem *items, size_t n)
{
	return lookup_or_fetch(m, items, n, 1);
}

/* What a rewrite met of one item of its batch. */
struct seen {
	size_t		 entries;	/* entries of its path */
	size_t		 dropped;	/* of them, left out */
	int		 hold;		/* ambiguous: every entry kept */
};

struct rewrite {
	struct pathset	 ps;		/* the batch */
	struct seen	*seen;		/* by item, as ps.items */
	FILE		*out;
	off_t		 pos;		/* where the next byte goes in out */
	struct arc_buf	 q;
	struct phase	*ph;		/* note the planned lines, or NULL */
	struct whash	*w;		/* the hash of the new file's bytes */
	struct mline	*lines;		/* the planned lines of the new file */
	size_t		 nlines, cap;
};

/*
 * Whether entry e is the very entry item's candidate saw, so that a
 * removal may leave it out: the same rev; and when the candidate has
 * none ("-"), an entry still without one, with the created_at and size
 * of the candidate record ("-" meaning none), as a dump of it wrote
 * them (arc(7), MANIFEST FILE LOCKING).  A path registered again (an
 * lsn, another time or size) is another entry.  A record that gives
 * neither time nor size names the path alone (it was written by hand,
 * not dumped from an entry with fields); hold_ambiguous still keeps a
 * path with two entries.  Never "any entry of the path".
 */
static int
entry_seen(const struct arc_mitem *it, const struct arc_entry *e,
    struct arc_buf *q)
{
	int revless = it->revlen == 1 && it->rev[0] == '-';

	if (revless && it->created_at == ARC_TIME_UNKNOWN && it->size < 0)
		return 1;
	q->len = 0;
	if (e->rev[0] == '\0')
		arc_buf_addc(q, '-');
	else
		arc_quote(q, e->rev, strlen(e->rev));
	if (it->revlen != q->len || memcmp(it->rev, q->s, q->len) != 0)
		return 0;
	if (revless)
		return e->created_at == it->created_at && e->size == it->size;
	return 1;
}

/*
 * After a rewrite was written: a path of the batch whose candidate has
 * no rev and that has more than one entry is ambiguous (which one did
 * the candidate see?), and is held: every entry of it kept, the item
 * "changed".  A rev names one entry; the others of its path are kept
 * anyway.  1 when the file written left out an entry of a held path and
 * must be written again, else 0.
 */
static int
hold_ambiguous(struct rewrite *rw, struct arc_mitem *items, size_t n)
{
	size_t i;
	int again = 0;

	for (i = 0; i < n; i++) {
		if (rw->seen[i].entries < 2 || rw->seen[i].hold ||
		    !(items[i].revlen == 1 && items[i].rev[0] == '-'))
			continue;
		rw->seen[i].hold = 1;
		items[i].result = ARC_M_CHANGED;
		if (rw->seen[i].dropped > 0)
			again = 1;
	}
	return again;
}

static void
add_line(struct rewrite *rw, const struct mline *l)
{
	if (rw->nlines == rw->cap) {
		rw->cap = rw->cap ? rw->cap * 2 : 64;
		rw->lines = arc_ereallocarray(rw->lines, rw->cap,
		    sizeof(*rw->lines));
	}
	rw->lines[rw->nlines++] = *l;
}

static int
rewrite_entry(void *arg, struct arc_entry *e, uintmax_t line)
{
	struct rewrite *rw = arg;
	struct arc_mitem *it, *p;
	struct seen *sn;
	struct mline l;
	const char *s;
	size_t len;

	(void)line;
	it = pathset_find(&rw->ps, e->path, e->pathlen);
	if (it != NULL) {
		sn = &rw->seen[it - rw->ps.items];
		sn->entries++;
		if (!sn->hold && entry_seen(it, e, &rw->q)) {
			it->result = ARC_M_DELETED;
			sn->dropped++;
			return 0;
		}
		it->result = ARC_M_CHANGED;
	}
	s = json_object_to_json_string_ext(e->json,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	len = strlen(s);
	/* a later batch's entry: where it is, to be left out unread */
	if (rw->ph != NULL && (p = pathset_find(&rw->ph->ps, e->path,
	    e->pathlen)) != NULL) {
		l.off = rw->pos;
		l.len = len + 1;
		l.hv = hash(s, len);
		l.item = (size_t)(p - rw->ph->items);
		l.match = entry_seen(p, e, &rw->q);
		add_line(rw, &l);
	}
	fwrite(s, 1, len, rw->out);
	putc('\n', rw->out);
	rw->pos += (off_t)len + 1;
	return 0;
}

/*
 * A simple entry whose path is not in the batch is written out as the
 * bytes it was read as, on a line of its own: arc_json_simple has proved
 * that they parse to an entry every reader accepts (the dump too), so
 * the rewrite writes nothing a later pass would refuse, and
 * re-serialising would only spend time.  A simple entry spread over
 * lines (pretty-printed, as bodies often are) is parsed and
 * re-serialised, as every entry that is not simple is, and so is every
 * entry of a planned path, whose line is noted.
 */
static int
rewrite_raw(void *arg, const struct arc_json_raw *raw, uintmax_t line)
{
	struct rewrite *rw = arg;

	(void)line;
	if (!raw->oneline || pathset_find(&rw->ps, raw->path,
	    raw->pathlen) != NULL || (rw->ph != NULL &&
	    pathset_find(&rw->ph->ps, raw->path, raw->pathlen) != NULL))
		return 0;
	fwrite(raw->text, 1, raw->len, rw->out);
	putc('\n', rw->out);
	rw->pos += (off_t)raw->len + 1;
	return 1;	/* a write error shows in ferror() at the end */
}

/*
 * Whether every noted line of the batch's paths still holds the bytes
 * this run wrote there, a whole line: a file edited in place, not only
 * appended to, fails this and is read whole.
 */
static int
lines_intact(struct mfile *f, int fd, struct rewrite *rw)
{
	struct phase *ph = &f->ph;
	struct arc_buf b = { 0 };
	struct mline *l;
	size_t i, pre;
	int r = 0;

	for (i = 0; i < ph->nlines && r == 0; i++) {
		l = &ph->lines[i];
		if (pathset_find(&rw->ps, ph->items[l->item].path,
		    ph->items[l->item].pathlen) == NULL)
			continue;
		pre = l->off > 0;
		if (read_at(f, fd, l->off - (off_t)pre, l->len + pre,
		    &b) == -1 || (pre && b.s[0] != '\n') ||
		    b.s[b.len - 1] != '\n' ||
		    hash(b.s + pre, l->len - 1) != l->hv)
			r = -1;
	}
	arc_buf_free(&b);
	return r;
}

/*
 * Copy len bytes of rfd at off to wfd's offset, hashing them into w:
 * through a buffer, so that the new file's note needs no second read.
 */
static int
copy_range(int rfd, off_t off, off_t len, int wfd, struct whash *w)
{
	char *buf;
	ssize_t n;
	size_t want;

	buf = arc_emalloc(COPY_BUFSZ);
	while (len > 0) {
		want = len > COPY_BUFSZ ? COPY_BUFSZ : (size_t)len;
		if ((n = pread(rfd, buf, want, off)) == -1 && errno == EINTR)
			continue;
		if (n <= 0 || arc_write_full(wfd, buf, (size_t)n) == -1) {
			if (n == 0)
				errno = ENODATA;	/* shorter than noted */
			free(buf);
			return -1;
		}
		whash_add(w, buf, (size_t)n);
		off += n;
		len -= n;
	}
	free(buf);
	return 0;
}

/*
 * The batch's rewrite from the file this run wrote last (rfd, which has
 * grown to end): its bytes up to the old end, from, copied without the
 * batch's lines, then what was appended since, read as a whole pass
 * would.  The noted lines of later batches move up by what was left out
 * before them.
 */
static int
rewrite_copy(struct mfile *f, int rfd, off_t from, off_t end, int wfd,
    struct rewrite *rw, struct arc_buf *eb)
{
	struct phase *ph = &f->ph;
	struct arc_mitem *it;
	struct seen *sn = NULL;
	struct mline l;
	off_t pos = 0, left = 0;
	size_t i;

	for (i = 0; i < ph->nlines; i++) {
		l = ph->lines[i];
		it = pathset_find(&rw->ps, ph->items[l.item].path,
		    ph->items[l.item].pathlen);
		if (it != NULL) {
			sn = &rw->seen[it - rw->ps.items];
			sn->entries++;
		}
		if (it == NULL || !l.match || sn->hold) {
			if (it != NULL)
				it->result = ARC_M_CHANGED;
			l.off -= left;
			add_line(rw, &l);
			continue;
		}
		it->result = ARC_M_DELETED;
		sn->dropped++;
		if (copy_range(rfd, pos, l.off - pos, wfd, rw->w) == -1)
			goto fail;
		pos = l.off + (off_t)l.len;
		left += (off_t)l.len;
	}
	if (copy_range(rfd, pos, from - pos, wfd, rw->w) == -1)
		goto fail;
	f->io->bytes_copied += (uintmax_t)(from - left);
	rw->pos = from - left;
	if (from < end && read_from(f, rfd, from, rewrite_raw, rewrite_entry,
	    rw, NULL) == -1) {
		arc_buf_printf(eb, "cannot read '%s'", f->path);
		return -1;
	}
	return 0;
fail:
	arc_buf_printf(eb, "cannot copy '%s': %s", f->target,
	    strerror(errno));
	return -1;
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
 * Remove the one entry of each path of a batch that is still the entry
 * its candidate saw (entry_seen), in one atomic rewrite under the
 * exclusive lock; a path with more than one entry keeps them all.  The rewritten
 * file is NDJSON and replaces the file the manifest named at open (the
 * link's target, not the link), beside which the temporary file is made.
 * With a plan, the first batch's rewrite notes the lines of the later
 * batches' entries, and a later batch copies the file it finds (when it
 * is the one written last, at most appended to) without its own lines.
 * On failure nothing has changed and every item is ARC_M_FAILED; the
 * reason is in eb.
 */
static int
mfile_remove(struct arc_manifest *m, struct arc_mitem *items, size_t n,
    struct arc_buf *eb)
{
	struct mfile *f = m->priv;
	struct phase *ph = &f->ph;
	struct rewrite rw;
	struct mlock lk;
	struct stat sb, nsb;
	struct arc_buf why = { 0 };
	struct whash win = { 0 }, wout = { 0 };
	struct hstream hs;
	char *tmp = NULL;
	off_t from = 0;
	size_t i;
	int rfd = -1, fd = -1, r = -1, copy = 0;

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
		goto out;
	}
	if (keep_owner(fd, tmp, &sb, eb) == -1)
		goto fail;
	pathset_init(&rw.ps, items, n);
	rw.seen = arc_ecalloc(n, sizeof(*rw.seen));
	if (all_planned(ph, items, n, 1)) {
		rw.ph = ph;
		copy = ph->indexed &&
		    appended_since(f, rfd, &sb, &ph->snap, &from, &win) == 0 &&
		    lines_intact(f, rfd, &rw) == 0;
	}
again:
	/* the new file's bytes hashed as they are written, for its note */
	whash_init(&wout);
	hs.fd = fd;
	hs.w = &wout;
	hs.n = 0;
	rw.w = &wout;
	rw.pos = 0;
	rw.nlines = 0;
	if ((rw.out = hstream_open(&hs, "w")) == NULL) {
		arc_buf_printf(eb, "cannot rewrite '%s': %s", f->target,
		    strerror(errno));
		goto fail;
	}
	for (i = 0; i < n; i++) {
		items[i].result = rw.seen[i].hold ? ARC_M_CHANGED : ARC_M_GONE;
		rw.seen[i].entries = rw.seen[i].dropped = 0;
	}
	if (copy) {
		if (rewrite_copy(f, rfd, from, sb.st_size, fd, &rw, eb) == -1) {
			fclose(rw.out);
			goto fail;
		}
	} else if (read_from(f, rfd, 0, rewrite_raw, rewrite_entry,
	    &rw, NULL) == -1) {
		arc_buf_printf(eb, "cannot read '%s'", f->path);
		fclose(rw.out);
		goto fail;
	}
	/* once at most: a held path is left out of nothing the second time */
	if (hold_ambiguous(&rw, items, n)) {
		fclose(rw.out);
		if (ftruncate(fd, 0) == -1 || lseek(fd, 0, SEEK_SET) == -1) {
			arc_buf_printf(eb, "cannot rewrite '%s': %s", tmp,
			    strerror(errno));
			goto fail;
		}
		goto again;
	}
	if (fflush(rw.out) == EOF || ferror(rw.out) || fsync(fd) == -1 ||
	    fstat(fd, &nsb) == -1) {
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
	f->io->rewrites++;
	f->io->bytes_written += (uintmax_t)nsb.st_size;
	free(tmp);
	tmp = NULL;
	/* what the next batch will find unless someone else writes */
	ph->looked = ph->indexed = 0;
	if (rw.ph != NULL) {
		free(ph->lines);
		ph->lines = rw.lines;
		ph->nlines = rw.nlines;
		rw.lines = NULL;
		/*
		 * Settled as a look-up's note is: the look-up that verifies
		 * this batch's removals (arc-delete) starts from it.
		 */
		take_snap(f, fd, NULL, nsb.st_size, &ph->snap, 1, &wout);
		ph->indexed = ph->snap.valid;
		if ((ph->looked = ph->snap.valid))
			note_presence(ph);
	}
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
	if (rfd != -1)
		close(rfd);
	if (fd != -1)
		close(fd);
	free(tmp);
	whash_free(&win);
	whash_free(&wout);
	if (rw.ps.slot != NULL)
		pathset_free(&rw.ps);
	free(rw.seen);
	free(rw.lines);
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

	phase_free(&f->ph);
	free(f->path);
	free(f->target);
	free(f);
}

const struct arc_manifest_ops arc_manifest_file = {
	.scheme = "file",
	.open = mfile_open,
	.dump = mfile_dump,
	.plan = mfile_plan,
	.lookup = mfile_lookup,
	.fetch = mfile_fetch,
	.remove = mfile_remove,
	.restore = mfile_restore,
	.close = mfile_close,
};
