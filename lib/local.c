/*
 * local.c - the local directory store (a path, or file:///abs/dir).
 *
 * Every path is resolved one segment at a time with openat(2) and
 * O_NOFOLLOW from a descriptor of the root, so no symbolic link is ever
 * followed and nothing outside the root is ever reached.  The listing
 * sorts each directory's entries by their quoted name, a directory's as
 * if it ended in '/', which yields global byte order of the quoted paths
 * while holding only one directory per level in memory.
 *
 * Nor is a mount point inside the store ever crossed: a directory (or a
 * file) bind-mounted into the store from elsewhere is not the store's,
 * and listing or removing what lies beneath it would touch data outside
 * it.  Device numbers cannot tell a bind mount of the same file system
 * apart, so the mount id (statx(2) STATX_MNT_ID, Linux 5.8) of
 * everything opened or listed is compared with the root's; a kernel
 * without it falls back to comparing st_dev, which still stops mounts of
 * other file systems but not bind mounts of the store's own.
 */
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>

#include <linux/io_uring.h>

#include <dirent.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "arc_priv.h"

struct local {
	int	 rootfd;
	char	*root;
	int	 hasmnt;	/* the kernel gives mount ids: mnt is the root's */
	uint64_t mnt;
	dev_t	 dev;		/* the root's device, without mount ids */
};

#ifndef STATX_MNT_ID
#define STATX_MNT_ID	0x1000U
#endif

/* statx(2) is missing or forbidden (a seccomp filter): fstatat only */
static int nostatx;

/*
 * Every open of a directory in the store: a link or anything else put
 * where a directory was is refused (ENOTDIR) and never waited on.
 */
#define DIR_FLAGS	(O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_NONBLOCK | \
	    O_CLOEXEC)

/* What a stat of the store asks for: type, identity, size, mtime, mount. */
#define STAT_MASK	(STATX_TYPE | STATX_MODE | STATX_INO | STATX_SIZE | \
	    STATX_MTIME | STATX_MNT_ID)

/* The struct stat and mount id (*hasmnt 1 when given) of a statx. */
static void
from_statx(const struct statx *stx, struct stat *sb, uint64_t *mnt,
    int *hasmnt)
{
	memset(sb, 0, sizeof(*sb));
	sb->st_mode = stx->stx_mode;
	sb->st_ino = stx->stx_ino;
	sb->st_dev = makedev(stx->stx_dev_major, stx->stx_dev_minor);
	sb->st_size = (off_t)stx->stx_size;
	sb->st_mtim.tv_sec = stx->stx_mtime.tv_sec;
	sb->st_mtim.tv_nsec = stx->stx_mtime.tv_nsec;
	*hasmnt = (stx->stx_mask & STATX_MNT_ID) != 0;
	*mnt = *hasmnt ? stx->stx_mnt_id : 0;
}

/*
 * fstatat(2) of name in dfd without following a link (name "": dfd
 * itself), also telling on which mount it lies: *mnt is its mount id and
 * *hasmnt 1 when the kernel gives one.  0, or -1 with errno set.
 */
static int
stat_mnt(int dfd, const char *name, struct stat *sb, uint64_t *mnt,
    int *hasmnt)
{
	struct statx stx;
	int fl = AT_SYMLINK_NOFOLLOW | (*name == '\0' ? AT_EMPTY_PATH : 0);

	*hasmnt = 0;
	*mnt = 0;
	if (!__atomic_load_n(&nostatx, __ATOMIC_RELAXED)) {
		if (statx(dfd, name, fl, STAT_MASK, &stx) == 0) {
			from_statx(&stx, sb, mnt, hasmnt);
			return 0;
		}
		if (errno != ENOSYS && errno != EPERM)
			return -1;
		__atomic_store_n(&nostatx, 1, __ATOMIC_RELAXED);
	}
	return fstatat(dfd, name, sb, fl);
}

/*
 * Whether what stat_mnt() found lies on the store root's mount.  With
 * mount ids only they are compared: a btrfs subvolume has a device of its
 * own yet is no mount.
 */
static int
on_root_mount(const struct local *l, const struct stat *sb, uint64_t mnt,
    int hasmnt)
{
	if (l->hasmnt && hasmnt)
		return mnt == l->mnt;
	return sb->st_dev == l->dev;
}

/* Whether the directory open on fd lies on the store root's mount. */
static int
fd_on_root_mount(const struct local *l, int fd)
{
	struct stat sb;
	uint64_t mnt;
	int hasmnt;

	if (stat_mnt(fd, "", &sb, &mnt, &hasmnt) == -1)
		return 0;	/* cannot tell: not crossed either */
	return on_root_mount(l, &sb, mnt, hasmnt);
}

struct dent {
	char	*key;		/* quoted name, '/' appended for a directory */
	size_t	 keylen;
	char	*name;
	size_t	 koff, noff;	/* where key and name are in the names */
	int	 isdir;
	int	 want;		/* a file to stat and emit */
	int	 err;		/* errno of its fstatat, or 0 */
	int	 regular;
	int	 foreign;	/* a mount point: not the store's */
	int64_t	 mtime;
	int64_t	 size;
};

/*
 * A stat per listed file is most of a listing's cost, and each is a path
 * lookup in the kernel that does not depend on the others: the files of
 * each directory are stat'ed by a few threads at once, then emitted in
 * order by the walking thread as before.  A batch is one directory's
 * entries.  The walker takes entries too, and once none is left closes
 * the batch and waits only for the helpers that joined it: a helper that
 * was slow to wake (a busy machine) then skips the batch rather than
 * holding the walker up.
 */
#define STAT_THREADS_MAX	4	/* walker included */
#define STAT_BATCH_MIN		16	/* fewer files: not worth a wake-up */

struct statpool {
	pthread_mutex_t	 mu;
	pthread_cond_t	 work;		/* a new batch, or quit */
	pthread_cond_t	 done;		/* the last helper left a batch */
	pthread_t	 tid[STAT_THREADS_MAX];
	int		 nhelpers;
	unsigned	 gen;		/* batch number */
	int		 open;		/* helpers may still join the batch */
	int		 active;	/* helpers working on the batch */
	int		 quit;
	const struct local *l;		/* the store */
	int		 dfd;		/* the batch: a directory, */
	struct dent	*v;		/* its entries, */
	size_t		 n;
	size_t		 next;		/* and the next one to take (atomic) */
};

struct walk {
	struct arc_store *st;
	struct local	*l;
	int		 flags;
	arc_list_fn	 fn;
	void		*arg;
	struct arc_buf	 path;	/* relative path being walked */
	int		 partial;
	int		 stop;
	struct statpool	*pool;	/* NULL: stat in the walking thread */
	struct statring	*ring;	/* NULL: no io_uring, the pool stats */
	struct level	**lv;	/* each depth's entries, kept for the next */
	size_t		 nlv;
	size_t		 depth;	/* of the directory being read */
};

/*
 * A directory's entries and their names, kept once read for the next
 * directory at the same depth: freeing them each time makes malloc give
 * the memory back and take it again (brk, page faults) thousands of
 * times a listing.  One directory per level, as before.
 */
struct level {
	struct dent	*v;
	size_t		 cap;
	struct arc_buf	 names;
};

static int
local_open(struct arc_store *st, const char *rest)
{
	struct local *l;
	struct stat sb;
	const char *path = rest;
	int fd;

	if (strstr(st->url, "://") != NULL) {
		/* file:///abs/dir: an empty authority and an absolute path */
		if (rest[0] != '/') {
			warnx("'%s': file URL must be file:///absolute/path",
			    st->url);
			return -1;
		}
	}
	if (*path == '\0') {
		warnx("empty store path");
		return -1;
	}
	if (lstat(path, &sb) == -1) {
		warn("cannot open store '%s'", path);
		return -1;
	}
	if (S_ISLNK(sb.st_mode)) {
		warnx("'%s': store is a symbolic link; give the directory it "
		    "points to", path);
		return -1;
	}
	if ((fd = open(path, DIR_FLAGS)) == -1) {
		warn("cannot open store '%s'", path);
		return -1;
	}
	l = arc_ecalloc(1, sizeof(*l));
	l->rootfd = fd;
	l->root = arc_estrdup(path);
	if (stat_mnt(fd, "", &sb, &l->mnt, &l->hasmnt) == -1) {
		warn("cannot open store '%s'", path);
		close(fd);
		free(l->root);
		free(l);
		return -1;
	}
	l->dev = sb.st_dev;
	st->priv = l;
	return 0;
}

static void
local_close(struct arc_store *st)
{
	struct local *l = st->priv;

	close(l->rootfd);
	free(l->root);
	free(l);
}

/*
 * The unquoted byte order of a time-boxed listing (arc_range_has): the
 * names, a directory's as if it ended in '/'.
 */
/*
 * Whether every path below the directory dir (n bytes, no '/' at the
 * end) sorts at or before after, the cursor of a time-boxed listing:
 * such a directory is not read.
 */
static int
before_cursor(const char *after, const char *dir, size_t n)
{
	size_t an, m;
	int c;

	if (after == NULL)
		return 0;
	an = strlen(after);
	m = n < an ? n : an;
	if ((c = memcmp(dir, after, m)) != 0)
		return c < 0;
	/* dir + '/' against the rest of after */
	return an > n && (unsigned char)after[n] > '/';
}

static int
dentrawcmp(const void *a, const void *b)
{
	const struct dent *x = a, *y = b;
	size_t xn = strlen(x->name), yn = strlen(y->name), i;
	int c, d;

	for (i = 0;; i++) {
		c = i < xn ? (unsigned char)x->name[i] : i == xn && x->isdir ?
		    '/' : -1;
		d = i < yn ? (unsigned char)y->name[i] : i == yn && y->isdir ?
		    '/' : -1;
		if (c != d || c == -1)
			return c < d ? -1 : c > d;
	}
}

static int
dentcmp(const void *a, const void *b)
{
	const struct dent *x = a, *y = b;

	return arc_pathcmp(x->key, x->keylen, y->key, y->keylen);
}

static void
warn_path(struct walk *w, const char *what, const char *name)
{
	struct arc_buf q = { 0 };

	arc_quote(&q, w->path.s, w->path.len);
	if (name)
		arc_quote(&q, name, strlen(name));
	warn("%s '%s'", what, arc_buf_str(&q));
	arc_buf_free(&q);
}

/*
 * A mount point inside the store: never listed or descended into, and
 * the listing is partial, so that no manifest entry whose file might lie
 * beneath it is taken for missing.
 */
static void
cross_warn(struct walk *w, const char *name, int isdir)
{
	struct arc_buf q = { 0 };

	arc_quote(&q, w->path.s, w->path.len);
	arc_quote(&q, name, strlen(name));
	if (isdir)
		arc_buf_addc(&q, '/');
	warnx("'%s': a mount point inside the store; not crossed",
	    arc_buf_str(&q));
	arc_buf_free(&q);
	w->partial = 1;
}

/* What the listing keeps of a file's stat. */
static void
dent_fill(const struct local *l, struct dent *e, const struct stat *sb,
    uint64_t mnt, int hasmnt)
{
	e->err = 0;
	/* a file bind-mounted onto a store path is not the store's */
	e->foreign = !on_root_mount(l, sb, mnt, hasmnt);
	e->regular = S_ISREG(sb->st_mode);
	/* Round up: truncation must never make a file look older. */
	e->mtime = (int64_t)sb->st_mtim.tv_sec + (sb->st_mtim.tv_nsec > 0);
	e->size = (int64_t)sb->st_size;
}

static void
stat_one(const struct local *l, int dfd, struct dent *e)
{
	struct stat sb;
	uint64_t mnt;
	int hasmnt;

	if (stat_mnt(dfd, e->name, &sb, &mnt, &hasmnt) == -1) {
		e->err = errno;
		return;
	}
	dent_fill(l, e, &sb, mnt, hasmnt);
}

/* Take entries of the pool's batch until none is left. */
static void
stat_batch(struct statpool *p, int dfd, struct dent *v, size_t n)
{
	size_t i;

	while ((i = __atomic_fetch_add(&p->next, 1, __ATOMIC_RELAXED)) < n)
		if (v[i].want)
			stat_one(p->l, dfd, &v[i]);
}

static void *
stat_helper(void *arg)
{
	struct statpool *p = arg;
	unsigned seen = 0;
	struct dent *v;
	size_t n;
	int dfd;

	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (!p->quit && p->gen == seen)
			pthread_cond_wait(&p->work, &p->mu);
		if (p->quit)
			break;
		seen = p->gen;
		if (!p->open)
			continue;	/* woke too late: nothing left */
		p->active++;
		dfd = p->dfd;
		v = p->v;
		n = p->n;
		pthread_mutex_unlock(&p->mu);
		stat_batch(p, dfd, v, n);
		pthread_mutex_lock(&p->mu);
		if (--p->active == 0 && !p->open)
			pthread_cond_signal(&p->done);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

/*
 * On Linux the stats go through an io_uring instead when the kernel
 * allows one: a directory's statx requests are queued at once and the
 * kernel's own workers (at most RING_WORKERS, on every CPU) resolve
 * them, so a million files cost a few thousand system calls rather than
 * a million.  Each request is the same statx the walker would make
 * (relative to the directory, never following a link, the same mask);
 * any request that fails is made again here with stat_one(), so an
 * error, a vanished file and a kernel without IORING_OP_STATX read
 * exactly as before.  Without io_uring (an old kernel, a seccomp filter,
 * kernel.io_uring_disabled) the thread pool above does the stats.
 */
#define RING_ENTRIES	512
#define RING_WORKERS	4

struct statring {
	int		 fd;
	unsigned	 entries;
	unsigned	*sqhead, *sqtail, *sqmask, *sqarray;
	unsigned	*cqhead, *cqtail, *cqmask;
	struct io_uring_sqe *sqes;
	struct io_uring_cqe *cqes;
	void		*sqmap, *cqmap;
	size_t		 sqlen, cqlen, sqeslen;
	int		 broken;	/* statx requests unsupported: no ring */
	struct statx	*stx;		/* a result buffer per request */
	size_t		*idx;		/* the entry of each request */
};

static void
ring_stop(struct statring *r)
{
	if (r == NULL)
		return;
	if (r->sqes != NULL && r->sqes != MAP_FAILED)
		munmap(r->sqes, r->sqeslen);
	if (r->cqmap != NULL && r->cqmap != MAP_FAILED && r->cqmap != r->sqmap)
		munmap(r->cqmap, r->cqlen);
	if (r->sqmap != NULL && r->sqmap != MAP_FAILED)
		munmap(r->sqmap, r->sqlen);
	if (r->fd != -1)
		close(r->fd);
	free(r->stx);
	free(r->idx);
	free(r);
}

/* A ring for the listing's stats, or NULL to use the thread pool. */
static struct statring *
ring_start(void)
{
	struct io_uring_params p;
	struct statring *r;
	unsigned workers[2] = { RING_WORKERS, RING_WORKERS };
	char *sq, *cq;

	if (__atomic_load_n(&nostatx, __ATOMIC_RELAXED))
		return NULL;
	r = arc_ecalloc(1, sizeof(*r));
	/*
	 * One thread submits, and completions wait until it asks for them
	 * (Linux 6.1): no wake-up of the walker per finished request.
	 */
	memset(&p, 0, sizeof(p));
	p.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
	if ((r->fd = (int)syscall(__NR_io_uring_setup, RING_ENTRIES, &p)) ==
	    -1 && errno == EINVAL) {
		memset(&p, 0, sizeof(p));
		r->fd = (int)syscall(__NR_io_uring_setup, RING_ENTRIES, &p);
	}
	if (r->fd == -1) {
		free(r);
		return NULL;
	}
	r->entries = p.sq_entries;
	r->sqlen = p.sq_off.array + p.sq_entries * sizeof(unsigned);
	r->cqlen = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
	if (p.features & IORING_FEAT_SINGLE_MMAP) {
		if (r->cqlen > r->sqlen)
			r->sqlen = r->cqlen;
		r->cqlen = r->sqlen;
	}
	r->sqmap = mmap(NULL, r->sqlen, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_SQ_RING);
	if (r->sqmap == MAP_FAILED) {
		ring_stop(r);
		return NULL;
	}
	r->cqmap = (p.features & IORING_FEAT_SINGLE_MMAP) ? r->sqmap :
	    mmap(NULL, r->cqlen, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_CQ_RING);
	r->sqeslen = p.sq_entries * sizeof(struct io_uring_sqe);
	r->sqes = r->cqmap == MAP_FAILED ? MAP_FAILED : mmap(NULL, r->sqeslen,
	    PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r->fd,
	    IORING_OFF_SQES);
	if (r->cqmap == MAP_FAILED || r->sqes == MAP_FAILED) {
		ring_stop(r);
		return NULL;
	}
	sq = r->sqmap;
	cq = r->cqmap;
	r->sqhead = (unsigned *)(sq + p.sq_off.head);
	r->sqtail = (unsigned *)(sq + p.sq_off.tail);
	r->sqmask = (unsigned *)(sq + p.sq_off.ring_mask);
	r->sqarray = (unsigned *)(sq + p.sq_off.array);
	r->cqhead = (unsigned *)(cq + p.cq_off.head);
	r->cqtail = (unsigned *)(cq + p.cq_off.tail);
	r->cqmask = (unsigned *)(cq + p.cq_off.ring_mask);
	r->cqes = (struct io_uring_cqe *)(cq + p.cq_off.cqes);
	/*
	 * Zeroed: the kernel fills these behind any memory checker's back
	 * (valgrind would take every result for uninitialised).
	 */
	r->stx = arc_ecalloc(r->entries, sizeof(*r->stx));
	r->idx = arc_ereallocarray(NULL, r->entries, sizeof(*r->idx));
	/* bounded: a few kernel workers, whatever the batch (best effort) */
	(void)syscall(__NR_io_uring_register, r->fd,
	    IORING_REGISTER_IOWQ_MAX_WORKERS, workers, 2);
	return r;
}

/*
 * Queue the statx of v[idx] as request k of the batch (k below the
 * ring's size; the ring is empty between batches).
 */
static void
ring_queue(struct statring *r, int dfd, struct dent *v, size_t i, unsigned k)
{
	unsigned tail = *r->sqtail + k, slot = tail & *r->sqmask;
	struct io_uring_sqe *q = &r->sqes[slot];

	memset(q, 0, sizeof(*q));
	q->opcode = IORING_OP_STATX;
	q->fd = dfd;
	q->addr = (uint64_t)(uintptr_t)v[i].name;
	q->len = STAT_MASK;
	q->off = (uint64_t)(uintptr_t)&r->stx[k];
	q->statx_flags = AT_SYMLINK_NOFOLLOW;
	q->user_data = k;
	r->sqarray[slot] = slot;
	r->idx[k] = i;
}

/*
 * Stat the wanted entries of v through the ring, a ring's worth at a
 * time.  -1 when the ring failed before any result of a batch came
 * back: the caller stats the rest itself.
 */
static int
ring_stat_dir(struct statring *r, const struct local *l, int dfd,
    struct dent *v, size_t n)
{
	struct io_uring_cqe *c;
	struct stat sb;
	uint64_t mnt;
	unsigned k, got, head, tail, start;
	size_t i = 0, e;
	int hasmnt, res;

	while (i < n) {
		for (k = 0; i < n && k < r->entries; i++)
			if (v[i].want)
				ring_queue(r, dfd, v, i, k++);
		if (k == 0)
			break;
		start = *r->sqtail;
		__atomic_store_n(r->sqtail, start + k, __ATOMIC_RELEASE);
		for (got = 0; got < k; ) {
			head = *r->cqhead;
			tail = __atomic_load_n(r->cqtail, __ATOMIC_ACQUIRE);
			if (head == tail) {
				/* submits what is queued, then waits */
				if (syscall(__NR_io_uring_enter, r->fd,
				    *r->sqtail - __atomic_load_n(r->sqhead,
				    __ATOMIC_ACQUIRE), k - got,
				    IORING_ENTER_GETEVENTS, NULL, 0) != -1 ||
				    errno == EINTR)
					continue;
				/* requests in flight: nothing else is safe */
				if (__atomic_load_n(r->sqhead,
				    __ATOMIC_ACQUIRE) != start)
					err(ARC_EXIT_ERROR, "cannot wait for "
					    "file attributes (io_uring_enter)");
				/* none taken: withdrawn, stat them here */
				r->broken = 1;
				__atomic_store_n(r->sqtail, start,
				    __ATOMIC_RELEASE);
				return -1;
			}
			for (; head != tail; head++, got++) {
				c = &r->cqes[head & *r->cqmask];
				e = r->idx[c->user_data];
				res = c->res;
				if (res == 0) {
					from_statx(&r->stx[c->user_data], &sb,
					    &mnt, &hasmnt);
					dent_fill(l, &v[e], &sb, mnt, hasmnt);
					continue;
				}
				/* no statx requests here: the pool from now */
				if (res == -EINVAL || res == -EOPNOTSUPP)
					r->broken = 1;
				/* as the walker would see it, errno and all */
				stat_one(l, dfd, &v[e]);
			}
			__atomic_store_n(r->cqhead, head, __ATOMIC_RELEASE);
		}
	}
	return 0;
}

static struct statpool *pool_start(int);

/* Stat the wanted entries of v, with the helpers when there are enough. */
static void
stat_dir(struct walk *w, int dfd, struct dent *v, size_t n, size_t nwant)
{
	struct statpool *p = w->pool;
	size_t i;

	if (w->ring != NULL && !w->ring->broken &&
	    ring_stat_dir(w->ring, w->l, dfd, v, n) == 0)
		return;
	if (w->ring != NULL && p == NULL)
		p = w->pool = pool_start(0);	/* the ring gave up */
	if (p == NULL || nwant < STAT_BATCH_MIN) {
		for (i = 0; i < n; i++)
			if (v[i].want)
				stat_one(w->l, dfd, &v[i]);
		return;
	}
	pthread_mutex_lock(&p->mu);
	p->l = w->l;
	p->dfd = dfd;
	p->v = v;
	p->n = n;
	p->next = 0;
	p->open = 1;
	p->gen++;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->mu);
	stat_batch(p, dfd, v, n);
	pthread_mutex_lock(&p->mu);
	p->open = 0;
	while (p->active > 0)
		pthread_cond_wait(&p->done, &p->mu);
	pthread_mutex_unlock(&p->mu);
}

/*
 * Helpers for a listing: one per further CPU, none on one CPU unless
 * forced (ARC_LIST_STATS=threads: at least one helper).
 */
static struct statpool *
pool_start(int force)
{
	struct statpool *p;
	long ncpu;
	int i;

	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	if (ncpu < 2 && !force)
		return NULL;
	if (ncpu < 2)
		ncpu = 2;
	if (ncpu > STAT_THREADS_MAX)
		ncpu = STAT_THREADS_MAX;
	p = arc_ecalloc(1, sizeof(*p));
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->work, NULL);
	pthread_cond_init(&p->done, NULL);
	for (i = 0; i < ncpu - 1; i++) {
		if (pthread_create(&p->tid[i], NULL, stat_helper, p) != 0)
			break;	/* fewer helpers still work */
		p->nhelpers++;
	}
	return p;
}

static void
pool_stop(struct statpool *p)
{
	int i;

	if (p == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	p->quit = 1;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->mu);
	for (i = 0; i < p->nhelpers; i++)
		pthread_join(p->tid[i], NULL);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->work);
	pthread_cond_destroy(&p->done);
	free(p);
}

/*
 * How a listing's files are stat'ed, from ARC_LIST_STATS: a knob for
 * the tests, which must reach each way whatever the kernel, and for a
 * kernel whose io_uring misbehaves.  "ring" (the default): the ring, or
 * the thread pool when the kernel refuses one; "threads": the pool,
 * with at least one helper; "plain": one statx at a time in the walker.
 * Every way yields the same records.
 */
enum stats_mode { STATS_RING, STATS_THREADS, STATS_PLAIN };

static enum stats_mode
stats_mode(void)
{
	const char *v;

	if ((v = getenv("ARC_LIST_STATS")) == NULL || *v == '\0' ||
	    strcmp(v, "ring") == 0)
		return STATS_RING;
	if (strcmp(v, "threads") == 0)
		return STATS_THREADS;
	if (strcmp(v, "plain") == 0)
		return STATS_PLAIN;
	errx(ARC_EXIT_ERROR, "'%s': invalid ARC_LIST_STATS "
	    "(ring, threads or plain)", v);
}

/* The stats of a listing: the ring, or failing that the thread pool. */
static void
stats_start(struct walk *w)
{
	switch (stats_mode()) {
	case STATS_RING:
		if ((w->ring = ring_start()) == NULL)
			w->pool = pool_start(0);
		break;
	case STATS_THREADS:
		w->pool = pool_start(1);
		break;
	case STATS_PLAIN:
		break;
	}
}

static void
stats_stop(struct walk *w)
{
	ring_stop(w->ring);
	pool_stop(w->pool);
	w->ring = NULL;
	w->pool = NULL;
}

/* Walk the directory open on fd (consumed); w->path ends in '/' or is "". */
static void
walkdir(struct walk *w, int fd)
{
	DIR *d;
	struct dirent *de;
	struct level *lv;
	struct dent *v;
	struct stat sb;
	size_t n = 0, cap, i, plen, nwant, nlen;
	int isdir, cfd;

	if (w->depth == w->nlv) {
		w->lv = arc_ereallocarray(w->lv, w->nlv + 1, sizeof(*w->lv));
		w->lv[w->nlv++] = arc_ecalloc(1, sizeof(**w->lv));
	}
	lv = w->lv[w->depth];
	v = lv->v;
	cap = lv->cap;
	lv->names.len = 0;
	if ((d = fdopendir(fd)) == NULL) {
		warn_path(w, "cannot read directory", NULL);
		close(fd);
		w->partial = 1;
		return;
	}
	for (;;) {
		errno = 0;
		if ((de = readdir(d)) == NULL) {
			if (errno) {
				warn_path(w, "cannot read directory", NULL);
				w->partial = 1;
			}
			break;
		}
		if (de->d_name[0] == '.' && (de->d_name[1] == '\0' ||
		    (de->d_name[1] == '.' && de->d_name[2] == '\0')))
			continue;
		switch (de->d_type) {
		case DT_DIR:
			isdir = 1;
			break;
		case DT_REG:
			isdir = 0;
			break;
		case DT_UNKNOWN:
			if (fstatat(dirfd(d), de->d_name, &sb,
			    AT_SYMLINK_NOFOLLOW) == -1)
				continue;	/* vanished */
			if (S_ISDIR(sb.st_mode))
				isdir = 1;
			else if (S_ISREG(sb.st_mode))
				isdir = 0;
			else
				continue;
			break;
		default:
			continue;	/* links, sockets, devices: never data */
		}
		/* nothing below _compaction_state can be a candidate */
		if (isdir && !(w->flags & ARC_LIST_ALL) &&
		    strcmp(de->d_name, "_compaction_state") == 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			v = arc_ereallocarray(v, cap, sizeof(*v));
		}
		/*
		 * Both spellings go to one buffer for the directory, not
		 * two allocations per entry: a listing is millions of them.
		 */
		nlen = strlen(de->d_name);
		v[n].noff = lv->names.len;
		arc_buf_add(&lv->names, de->d_name, nlen + 1);
		v[n].koff = lv->names.len;
		arc_quote(&lv->names, de->d_name, nlen);
		if (isdir)
			arc_buf_addc(&lv->names, '/');
		v[n].keylen = lv->names.len - v[n].koff;
		v[n].isdir = isdir;
		v[n].want = 0;
		v[n].foreign = 0;
		n++;
	}
	lv->v = v;
	lv->cap = cap;
	for (i = 0; i < n; i++) {	/* the buffer has stopped moving */
		v[i].key = lv->names.s + v[i].koff;
		v[i].name = lv->names.s + v[i].noff;
	}
	if (n > 1)	/* qsort(NULL, 0, ...) is undefined */
		qsort(v, n, sizeof(*v), w->st->raworder ? dentrawcmp :
		    dentcmp);

	/* the files to emit, stat'ed all at once (see struct statpool) */
	plen = w->path.len;
	for (i = nwant = 0; i < n; i++) {
		if (v[i].isdir)
			continue;
		w->path.len = plen;
		arc_buf_adds(&w->path, v[i].name);
		if ((w->flags & ARC_LIST_ALL) ||
		    arc_path_is_candidate(w->path.s, w->path.len)) {
			v[i].want = 1;
			nwant++;
		}
	}
	w->path.len = plen;
	stat_dir(w, dirfd(d), v, n, nwant);

	for (i = 0; i < n && !w->stop; i++) {
		w->path.len = plen;
		arc_buf_adds(&w->path, v[i].name);
		if (v[i].isdir) {
			/* a directory of another shard's paths: not read */
			if (arc_shard_below(&w->st->shard, w->path.s,
			    w->path.len) == 0)
				continue;
			if (before_cursor(w->st->after, w->path.s,
			    w->path.len))
				continue;
			cfd = openat(dirfd(d), v[i].name, DIR_FLAGS);
			if (cfd == -1) {
				if (errno != ENOENT) {
					w->path.len = plen;
					warn_path(w, "cannot open directory",
					    v[i].name);
					w->partial = 1;
				}
				continue;
			}
			if (!fd_on_root_mount(w->l, cfd)) {
				w->path.len = plen;
				cross_warn(w, v[i].name, 1);
				close(cfd);
				continue;
			}
			arc_buf_addc(&w->path, '/');
			w->depth++;
			walkdir(w, cfd);
			w->depth--;
			continue;
		}
		if (!v[i].want)
			continue;
		if (v[i].err != 0) {
			if (v[i].err != ENOENT) {
				w->path.len = plen;
				errno = v[i].err;
				warn_path(w, "cannot stat", v[i].name);
				w->partial = 1;
			}
			continue;
		}
		if (v[i].foreign) {
			w->path.len = plen;
			cross_warn(w, v[i].name, 0);
			continue;
		}
		if (!v[i].regular)
			continue;
		if (w->fn(w->arg, w->path.s, w->path.len, v[i].mtime,
		    v[i].size) != 0)
			w->stop = 1;
	}
	w->path.len = plen;
	closedir(d);
}

static void
levels_free(struct walk *w)
{
	size_t i;

	for (i = 0; i < w->nlv; i++) {
		free(w->lv[i]->v);
		arc_buf_free(&w->lv[i]->names);
		free(w->lv[i]);
	}
	free(w->lv);
	w->lv = NULL;
	w->nlv = 0;
}

/*
 * Open the directory at relative path p (n bytes, no trailing '/') one
 * segment at a time.  Returns the descriptor, or -1 with errno set.
 */
static int
open_dir(struct local *l, const char *p, size_t n)
{
	char seg[NAME_MAX + 1];
	size_t i = 0, k;
	int fd, nfd, e;

	/* a fresh descriptor: a dup would share the directory offset */
	if ((fd = openat(l->rootfd, ".", DIR_FLAGS)) == -1)
		return -1;
	while (i < n) {
		for (k = i; k < n && p[k] != '/'; k++)
			;
		if (k - i > NAME_MAX) {
			close(fd);
			errno = ENAMETOOLONG;
			return -1;
		}
		memcpy(seg, p + i, k - i);
		seg[k - i] = '\0';
		nfd = openat(fd, seg, DIR_FLAGS);
		e = errno;
		close(fd);
		if (nfd == -1) {
			errno = e;
			return -1;
		}
		if (!fd_on_root_mount(l, nfd)) {
			close(nfd);
			errno = EXDEV;
			return -1;
		}
		fd = nfd;
		i = k + 1;
	}
	return fd;
}

struct pfx {
	char	*raw;	/* without trailing '/' */
	size_t	 rawlen;
	char	*key;	/* quoted, with trailing '/' */
	size_t	 keylen;
};

static int
pfxcmp(const void *a, const void *b)
{
	const struct pfx *x = a, *y = b;

	return arc_pathcmp(x->key, x->keylen, y->key, y->keylen);
}

static int
local_list(struct arc_store *st, char **prefixes, size_t np, int flags,
    arc_list_fn fn, void *arg)
{
	struct local *l = st->priv;
	struct walk w;
	struct pfx *pv;
	struct arc_buf q = { 0 };
	size_t i, n, last;
	const char *why;
	int fd;

	(void)stats_mode();	/* a wrong knob before anything is read */
	memset(&w, 0, sizeof(w));
	w.st = st;
	w.l = l;
	w.flags = flags;
	w.fn = fn;
	w.arg = arg;
	if (np == 0) {
		if ((fd = open_dir(l, "", 0)) == -1) {
			warn("cannot read store '%s'", l->root);
			return ARC_EXIT_ERROR;
		}
		arc_buf_adds(&w.path, "");
		stats_start(&w);
		walkdir(&w, fd);
		stats_stop(&w);
		levels_free(&w);
		arc_buf_free(&w.path);
		return w.partial ? ARC_EXIT_SOME : ARC_EXIT_OK;
	}

	/* Walk disjoint prefixes in the order of their quoted form + '/'. */
	pv = arc_ecalloc(np, sizeof(*pv));
	for (i = 0; i < np; i++) {
		n = strlen(prefixes[i]);
		while (n > 0 && prefixes[i][n - 1] == '/')
			n--;
		if ((why = arc_path_unsafe(prefixes[i], n)) != NULL) {
			warnx("'%s': invalid prefix: %s", prefixes[i], why);
			return ARC_EXIT_ERROR;
		}
		pv[i].raw = prefixes[i];
		pv[i].rawlen = n;
		q.len = 0;
		arc_quote(&q, prefixes[i], n);
		arc_buf_addc(&q, '/');
		pv[i].key = arc_estrndup(q.s, q.len);
		pv[i].keylen = q.len;
	}
	qsort(pv, np, sizeof(*pv), pfxcmp);
	stats_start(&w);
	for (i = 0, last = np; i < np && !w.stop; i++) {
		/* inside the previous prefix (or equal to it): already walked */
		if (last != np && pv[i].keylen >= pv[last].keylen &&
		    memcmp(pv[i].key, pv[last].key, pv[last].keylen) == 0)
			continue;
		last = i;
		if (arc_shard_below(&st->shard, pv[i].raw, pv[i].rawlen) == 0)
			continue;
		if ((fd = open_dir(l, pv[i].raw, pv[i].rawlen)) == -1) {
			if (errno == EXDEV) {
				warnx("'%s': on or beneath a mount point inside "
				    "the store; not crossed", pv[i].key);
				w.partial = 1;
			} else if (errno != ENOENT) {
				warn("cannot open prefix '%s'", pv[i].key);
				w.partial = 1;
			}
			continue;
		}
		w.path.len = 0;
		arc_buf_add(&w.path, pv[i].raw, pv[i].rawlen);
		arc_buf_addc(&w.path, '/');
		walkdir(&w, fd);
	}
	stats_stop(&w);
	levels_free(&w);
	for (i = 0; i < np; i++)
		free(pv[i].key);
	free(pv);
	arc_buf_free(&q);
	arc_buf_free(&w.path);
	return w.partial ? ARC_EXIT_SOME : ARC_EXIT_OK;
}

/*
 * What lies at a store path.  Every stat, read, remove and restore of a
 * store object goes through object() below: the path is validated, its
 * directories are opened one segment at a time with O_NOFOLLOW from the
 * root, and the last segment is looked at without following a link and
 * without blocking.  Anything but a regular file (a FIFO, socket,
 * device, directory or symbolic link swapped in since the listing) is
 * OBJ_OTHER and is never read, removed or written over.
 */
enum obj_kind { OBJ_REGULAR, OBJ_OTHER, OBJ_ABSENT, OBJ_ERROR };

#define OBJ_READ	0x1	/* open the regular file for reading */
#define OBJ_MKDIR	0x2	/* create missing directories (a restore) */

/* Every open of a store object: never blocks, follows, or takes a tty. */
#define OBJ_OPEN_FLAGS	(O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_NOCTTY | \
	    O_CLOEXEC)

struct obj {
	int		 dfd;			/* its directory */
	char		 name[NAME_MAX + 1];	/* its last segment */
	int		 fd;			/* OBJ_READ: the open file */
	struct stat	 sb;
};

static void
obj_close(struct obj *o)
{
	if (o->fd != -1)
		close(o->fd);
	if (o->dfd != -1)
		close(o->dfd);
	o->fd = o->dfd = -1;
}

static int
obj_errno(struct arc_buf *eb, int e)
{
	eb->len = 0;
	arc_buf_adds(eb, strerror(e));
	if (e == ELOOP || e == ENOTDIR)
		arc_buf_adds(eb, " (a directory on its path is a symbolic "
		    "link or a file)");
	else if (e == EXDEV)
		arc_buf_adds(eb, " (it or a directory on its path is a "
		    "mount point inside the store)");
	errno = e;
	return e == ENOENT ? OBJ_ABSENT : OBJ_ERROR;
}

static int
obj_other(struct obj *o, struct arc_buf *eb)
{
	eb->len = 0;
	arc_buf_printf(eb, "not a regular file (%s)",
	    arc_file_kind(o->sb.st_mode));
	return OBJ_OTHER;
}

/*
 * Resolve p (n bytes) for the object o; how is OBJ_READ and/or OBJ_MKDIR.
 * Returns an enum obj_kind with the reason in eb for all but OBJ_REGULAR;
 * o->dfd is the open directory of the object unless the path could not
 * be resolved that far (o->dfd -1), and o->fd is open only for
 * OBJ_REGULAR with OBJ_READ.  The caller always calls obj_close().
 */
static int
object(struct local *l, const char *p, size_t n, int how, struct obj *o,
    struct arc_buf *eb)
{
	struct stat fsb;
	const char *why;
	uint64_t mnt;
	size_t i, k;
	int nfd, e, fl, hasmnt;

	o->dfd = o->fd = -1;
	if ((why = arc_path_unsafe(p, n)) != NULL) {
		eb->len = 0;
		arc_buf_adds(eb, why);
		errno = EINVAL;
		return OBJ_ERROR;
	}
	/* a fresh descriptor: a dup would share the directory offset */
	if ((o->dfd = openat(l->rootfd, ".", DIR_FLAGS)) == -1)
		return obj_errno(eb, errno);
	for (i = 0; ; i = k + 1) {
		for (k = i; k < n && p[k] != '/'; k++)
			;
		if (k - i > NAME_MAX)
			return obj_errno(eb, ENAMETOOLONG);
		memcpy(o->name, p + i, k - i);
		o->name[k - i] = '\0';
		if (k == n)
			break;
		if ((how & OBJ_MKDIR) && mkdirat(o->dfd, o->name, 0755) == -1 &&
		    errno != EEXIST)
			return obj_errno(eb, errno);
		nfd = openat(o->dfd, o->name, DIR_FLAGS);
		e = errno;
		close(o->dfd);
		o->dfd = nfd;
		if (nfd == -1)
			return obj_errno(eb, e);
		if (!fd_on_root_mount(l, nfd)) {
			/* nothing beneath another mount is the store's */
			close(o->dfd);
			o->dfd = -1;
			return obj_errno(eb, EXDEV);
		}
	}
	if (stat_mnt(o->dfd, o->name, &o->sb, &mnt, &hasmnt) == -1)
		return obj_errno(eb, errno);
	if (!on_root_mount(l, &o->sb, mnt, hasmnt))
		return obj_errno(eb, EXDEV);
	if (!S_ISREG(o->sb.st_mode))
		return obj_other(o, eb);
	if (!(how & OBJ_READ))
		return OBJ_REGULAR;
	/*
	 * Opened only once seen to be a regular file, so that no device is
	 * ever opened; the flags and the fstat of the descriptor hold if
	 * something else was swapped in between.
	 */
	if ((o->fd = openat(o->dfd, o->name, OBJ_OPEN_FLAGS)) == -1) {
		e = errno;
		if (fstatat(o->dfd, o->name, &o->sb, AT_SYMLINK_NOFOLLOW) == 0 &&
		    !S_ISREG(o->sb.st_mode))
			return obj_other(o, eb);
		return obj_errno(eb, e);
	}
	if (fstat(o->fd, &fsb) == -1)
		return obj_errno(eb, errno);
	if (!S_ISREG(fsb.st_mode) || fsb.st_dev != o->sb.st_dev ||
	    fsb.st_ino != o->sb.st_ino) {
		o->sb = fsb;
		if (S_ISREG(fsb.st_mode)) {
			eb->len = 0;
			arc_buf_adds(eb, "replaced while being opened");
			return OBJ_OTHER;
		}
		return obj_other(o, eb);
	}
	/* a regular file after all: plain blocking reads from here on */
	if ((fl = fcntl(o->fd, F_GETFL)) == -1 ||
	    fcntl(o->fd, F_SETFL, fl & ~O_NONBLOCK) == -1)
		return obj_errno(eb, errno);
	return OBJ_REGULAR;
}

static int64_t
mtime_of(const struct stat *sb)
{
	/* Round up: truncation must never make a file look older. */
	return (int64_t)sb->st_mtim.tv_sec + (sb->st_mtim.tv_nsec > 0);
}

static int
local_stat(struct arc_store *st, const char *p, size_t n,
    struct arc_stat *out, struct arc_buf *eb)
{
	struct obj o;
	int k;

	k = object(st->priv, p, n, 0, &o, eb);
	obj_close(&o);
	switch (k) {
	case OBJ_REGULAR:
	case OBJ_OTHER:
		eb->len = 0;
		out->mtime = mtime_of(&o.sb);
		out->size = (int64_t)o.sb.st_size;
		out->regular = k == OBJ_REGULAR;
		return ARC_PRESENT;
	case OBJ_ABSENT:
		return ARC_ABSENT;
	default:
		return ARC_UNKNOWN;
	}
}

/*
 * Remove a regular file with unlinkat(2) from its directory, reached
 * without following a link; anything else is left and reported.
 */
static int
local_remove(struct arc_store *st, const char *p, size_t n,
    struct arc_buf *eb)
{
	struct obj o;
	int k, ret;

	switch ((k = object(st->priv, p, n, 0, &o, eb))) {
	case OBJ_REGULAR:
		eb->len = 0;
		/* flags 0: a directory swapped in since is never removed */
		if (unlinkat(o.dfd, o.name, 0) == 0)
			ret = ARC_REMOVED;
		else if (errno == EISDIR) {
			arc_buf_adds(eb, "not a regular file (a directory)");
			ret = ARC_REMOVE_FAILED;
		} else
			ret = obj_errno(eb, errno) == OBJ_ABSENT ? ARC_GONE :
			    ARC_REMOVE_FAILED;
		break;
	case OBJ_ABSENT:
		ret = ARC_GONE;
		break;
	default:
		ret = ARC_REMOVE_FAILED;
		break;
	}
	obj_close(&o);
	return ret;
}

/* Copy the file at p to fd (for a quarantine archive); fills *out. */
static int
local_get(struct arc_store *st, const char *p, size_t n, int outfd,
    struct arc_stat *out, struct arc_buf *eb)
{
	struct obj o;
	char buf[65536];
	ssize_t r;
	int ret;

	switch (object(st->priv, p, n, OBJ_READ, &o, eb)) {
	case OBJ_REGULAR:
		break;
	case OBJ_ABSENT:
		obj_close(&o);
		return ARC_ABSENT;
	default:
		obj_close(&o);
		return ARC_UNKNOWN;
	}
	while ((r = read(o.fd, buf, sizeof(buf))) > 0)
		if (arc_write_full(outfd, buf, (size_t)r) == -1)
			break;
	if (r != 0) {
		eb->len = 0;
		arc_buf_adds(eb, strerror(errno));
		ret = ARC_UNKNOWN;
	} else {
		eb->len = 0;
		out->mtime = mtime_of(&o.sb);
		out->size = (int64_t)o.sb.st_size;
		out->regular = 1;
		ret = ARC_PRESENT;
	}
	obj_close(&o);
	return ret;
}

/*
 * Create the file at p from fd with the given mtime, creating parent
 * directories; never replaces or opens what is there (O_EXCL, and
 * link(2) does not replace).  The content goes to a hidden temporary
 * name first, so it is never listed half-written.  0, or -1 with the
 * reason in eb.
 */
static int
local_put(struct arc_store *st, const char *p, size_t n, int infd,
    int64_t mtime, struct arc_buf *eb)
{
	static unsigned seq;
	struct timespec ts[2];
	struct obj o;
	char tmp[64], buf[65536];
	ssize_t r;
	int fd, tries;

	switch (object(st->priv, p, n, OBJ_MKDIR, &o, eb)) {
	case OBJ_ABSENT:
		if (o.dfd != -1)
			break;	/* only the file is missing */
		/* FALLTHROUGH */
	case OBJ_ERROR:
		obj_close(&o);
		return -1;
	case OBJ_REGULAR:
		eb->len = 0;
		arc_buf_adds(eb, "a file exists there");
		obj_close(&o);
		return -1;
	default:
		eb->len = 0;
		arc_buf_printf(eb, "%s exists there",
		    arc_file_kind(o.sb.st_mode));
		obj_close(&o);
		return -1;
	}
	eb->len = 0;
	for (tries = 0; ; tries++) {
		snprintf(tmp, sizeof(tmp), ".arc-restore.%ld.%u",
		    (long)getpid(), seq++);
		fd = openat(o.dfd, tmp, O_WRONLY | O_CREAT | O_EXCL |
		    O_NONBLOCK | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC, 0644);
		if (fd != -1 || errno != EEXIST || tries == 100)
			break;
	}
	if (fd == -1) {
		arc_buf_adds(eb, strerror(errno));
		obj_close(&o);
		return -1;
	}
	while ((r = read(infd, buf, sizeof(buf))) > 0)
		if (arc_write_full(fd, buf, (size_t)r) == -1) {
			r = -1;
			break;
		}
	ts[0].tv_sec = ts[1].tv_sec = (time_t)mtime;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	if (r != 0 || futimens(fd, ts) == -1 || fsync(fd) == -1) {
		arc_buf_adds(eb, strerror(errno));
		close(fd);
		unlinkat(o.dfd, tmp, 0);
		obj_close(&o);
		return -1;
	}
	if (close(fd) == -1 || linkat(o.dfd, tmp, o.dfd, o.name, 0) == -1) {
		arc_buf_adds(eb, errno == EEXIST ? "a file exists there" :
		    strerror(errno));
		unlinkat(o.dfd, tmp, 0);
		obj_close(&o);
		return -1;
	}
	unlinkat(o.dfd, tmp, 0);
	fsync(o.dfd);
	obj_close(&o);
	return 0;
}

const struct arc_store_ops arc_store_local = {
	.scheme = "file",
	.open = local_open,
	.list = local_list,
	.stat = local_stat,
	.remove = local_remove,
	.get = local_get,
	.put = local_put,
	.close = local_close,
};
