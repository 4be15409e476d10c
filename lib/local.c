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
#include <sys/stat.h>
#include <sys/sysmacros.h>

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
		if (statx(dfd, name, fl, STATX_TYPE | STATX_MODE | STATX_INO |
		    STATX_SIZE | STATX_MTIME | STATX_MNT_ID, &stx) == 0) {
			memset(sb, 0, sizeof(*sb));
			sb->st_mode = stx.stx_mode;
			sb->st_ino = stx.stx_ino;
			sb->st_dev = makedev(stx.stx_dev_major,
			    stx.stx_dev_minor);
			sb->st_size = (off_t)stx.stx_size;
			sb->st_mtim.tv_sec = stx.stx_mtime.tv_sec;
			sb->st_mtim.tv_nsec = stx.stx_mtime.tv_nsec;
			if (stx.stx_mask & STATX_MNT_ID) {
				*hasmnt = 1;
				*mnt = stx.stx_mnt_id;
			}
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
 * lookup in the kernel that does not depend on the others; reading and
 * sorting a directory and writing its records are most of the rest.  So
 * the walking thread reads and sorts directories ahead of what it
 * writes: each directory read becomes a job whose files a few threads
 * (the walker among them) stat at once, and what is to be written, in
 * order, goes to a queue of segments (a run of one directory's files, or
 * a warning) that the walker writes once their stats are in.  At most
 * AHEAD_FILES files and AHEAD_DIRS directories are ahead of what has
 * been written, so memory stays bounded whatever the tree.
 */
#define STAT_THREADS_MAX	4	/* walker included */
#define AHEAD_FILES		8192
#define AHEAD_DIRS		64
/*
 * Threads take STAT_CHUNK entries at a time: one entry each would pass
 * the counter and the entries' cache lines between CPUs at every file.
 */
#define STAT_CHUNK		8

/* One directory read: its sorted entries, until its records are written. */
struct dirjob {
	DIR		*d;
	struct dent	*v;
	size_t		 n;
	struct arc_buf	 names;		/* every entry's name and key */
	char		*path;		/* its relative path, "" or ending '/' */
	size_t		 plen;
	size_t		 next;		/* the next entry to stat (atomic) */
	size_t		 pending;	/* entries not stat'ed yet (atomic) */
	int		 busy;		/* helpers on it (under the pool's mu) */
	int		 refs;		/* segments queued, and the walk */
};

/* What is written next: files a to b of a job, or a warning (msg). */
struct seg {
	struct dirjob	*job;
	size_t		 a, b;
	char		*msg;
};

struct statpool {
	pthread_mutex_t	 mu;
	pthread_cond_t	 work;		/* a new job, or quit */
	pthread_cond_t	 done;		/* a job's last stat is in */
	pthread_t	 tid[STAT_THREADS_MAX];
	int		 nhelpers;
	int		 quit;
	const struct local *l;		/* the store */
	struct dirjob	**jobs;		/* read and not yet freed */
	int		 njobs, capjobs;
};

struct walk {
	struct arc_store *st;
	struct local	*l;
	int		 flags;
	arc_list_fn	 fn;
	void		*arg;
	struct arc_buf	 path;	/* relative path being walked */
	struct arc_buf	 wpath;	/* the path being written */
	int		 partial;
	int		 stop;
	struct statpool	 pool;
	struct seg	*q;	/* segments not written yet, a ring */
	size_t		 qcap, qhead, qlen;
	size_t		 afiles;	/* files of the jobs ahead */
	int		 adirs;		/* and the jobs */
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

static int
dentcmp(const void *a, const void *b)
{
	const struct dent *x = a, *y = b;

	return arc_pathcmp(x->key, x->keylen, y->key, y->keylen);
}

/*
 * The message of a warning about prefix + name (name NULL: the prefix
 * alone), "what 'path'" then ": reason" when e is not 0, as warn(3)
 * would print it: written in its turn among the records' warnings.
 */
static char *
path_msg(const char *what, const char *prefix, size_t plen,
    const char *name, int slash, int e)
{
	struct arc_buf q = { 0 };

	arc_buf_adds(&q, what);
	arc_buf_adds(&q, " '");
	arc_quote(&q, prefix, plen);
	if (name != NULL)
		arc_quote(&q, name, strlen(name));
	if (slash)
		arc_buf_addc(&q, '/');
	arc_buf_addc(&q, '\'');
	if (e != 0) {
		arc_buf_adds(&q, ": ");
		arc_buf_adds(&q, strerror(e));
	}
	return arc_estrndup(q.s, q.len);	/* q.s freed below */
}

/*
 * A mount point inside the store is never listed or descended into, and
 * the listing is partial, so that no manifest entry whose file might lie
 * beneath it is taken for missing.
 */
static char *
cross_msg(const char *prefix, size_t plen, const char *name, int isdir)
{
	char *m, *s;

	m = path_msg("", prefix, plen, name, isdir, 0);
	/* m is " 'path'": the mount point's own wording follows it */
	s = arc_emalloc(strlen(m) + 64);
	memcpy(s, m + 1, strlen(m) - 1);
	strcpy(s + strlen(m) - 1, ": a mount point inside the store; not "
	    "crossed");
	free(m);
	return s;
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
	e->err = 0;
	/* a file bind-mounted onto a store path is not the store's */
	e->foreign = !on_root_mount(l, &sb, mnt, hasmnt);
	e->regular = S_ISREG(sb.st_mode);
	/* Round up: truncation must never make a file look older. */
	e->mtime = (int64_t)sb.st_mtim.tv_sec + (sb.st_mtim.tv_nsec > 0);
	e->size = (int64_t)sb.st_size;
}

/*
 * Stat the entries of job j still to take, STAT_CHUNK at a time, from
 * dfd (a descriptor of its directory), and wake the walker when the last
 * is in.
 */
static void
stat_job(struct statpool *p, struct dirjob *j, int dfd)
{
	size_t i, k, end;

	while ((i = __atomic_fetch_add(&j->next, STAT_CHUNK,
	    __ATOMIC_RELAXED)) < j->n) {
		end = i + STAT_CHUNK < j->n ? i + STAT_CHUNK : j->n;
		for (k = i; k < end; k++)
			if (j->v[k].want)
				stat_one(p->l, dfd, &j->v[k]);
		if (__atomic_sub_fetch(&j->pending, end - i,
		    __ATOMIC_ACQ_REL) == 0) {
			pthread_mutex_lock(&p->mu);
			pthread_cond_broadcast(&p->done);
			pthread_mutex_unlock(&p->mu);
		}
	}
}

/* The oldest job with entries left to take, or NULL; p->mu held. */
static struct dirjob *
job_to_take(struct statpool *p)
{
	int i;

	for (i = 0; i < p->njobs; i++)
		if (__atomic_load_n(&p->jobs[i]->next, __ATOMIC_RELAXED) <
		    p->jobs[i]->n)
			return p->jobs[i];
	return NULL;
}

static void *
stat_helper(void *arg)
{
	struct statpool *p = arg;
	struct dirjob *j = NULL;
	int own;

	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (!p->quit && (j = job_to_take(p)) == NULL)
			pthread_cond_wait(&p->work, &p->mu);
		if (p->quit)
			break;
		/* j is not freed while a helper holds it: see job_wait */
		j->busy++;
		pthread_mutex_unlock(&p->mu);
		/*
		 * A descriptor of its own for the directory: threads looking
		 * names up from one open file all count references on it.
		 */
		own = openat(dirfd(j->d), ".", O_PATH | O_DIRECTORY |
		    O_CLOEXEC);
		stat_job(p, j, own != -1 ? own : dirfd(j->d));
		if (own != -1)
			close(own);
		pthread_mutex_lock(&p->mu);
		if (--j->busy == 0)
			pthread_cond_broadcast(&p->done);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

/* Helpers: one per further CPU, none on one CPU. */
static void
pool_start(struct statpool *p, const struct local *l)
{
	long ncpu;
	int i;

	memset(p, 0, sizeof(*p));
	p->l = l;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->work, NULL);
	pthread_cond_init(&p->done, NULL);
	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	if (ncpu > STAT_THREADS_MAX)
		ncpu = STAT_THREADS_MAX;
	for (i = 0; i < ncpu - 1; i++) {
		if (pthread_create(&p->tid[i], NULL, stat_helper, p) != 0)
			break;	/* fewer helpers still work */
		p->nhelpers++;
	}
}

static void
pool_stop(struct statpool *p)
{
	int i;

	pthread_mutex_lock(&p->mu);
	p->quit = 1;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->mu);
	for (i = 0; i < p->nhelpers; i++)
		pthread_join(p->tid[i], NULL);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->work);
	pthread_cond_destroy(&p->done);
	free(p->jobs);
}

/*
 * Wait until every entry of j is stat'ed, taking entries meanwhile, and
 * no helper holds j any longer (free: true): it may then be freed.
 */
static void
job_wait(struct statpool *p, struct dirjob *j, int free)
{
	stat_job(p, j, dirfd(j->d));
	pthread_mutex_lock(&p->mu);
	while (__atomic_load_n(&j->pending, __ATOMIC_ACQUIRE) != 0 ||
	    (free && j->busy > 0))
		pthread_cond_wait(&p->done, &p->mu);
	pthread_mutex_unlock(&p->mu);
}

/* Drop a reference to j: the last frees it, its stats all in. */
static void
job_put(struct walk *w, struct dirjob *j)
{
	struct statpool *p = &w->pool;
	int i;

	if (--j->refs > 0)
		return;
	job_wait(p, j, 1);
	pthread_mutex_lock(&p->mu);
	for (i = 0; i < p->njobs && p->jobs[i] != j; i++)
		;
	memmove(&p->jobs[i], &p->jobs[i + 1],
	    (size_t)(p->njobs - i - 1) * sizeof(p->jobs[0]));
	p->njobs--;
	pthread_mutex_unlock(&p->mu);
	w->afiles -= j->n;
	w->adirs--;
	closedir(j->d);
	free(j->v);
	free(j->path);
	arc_buf_free(&j->names);
	free(j);
}

/* Queue files a to b of j, or the warning msg (j NULL), to be written. */
static void
seg_push(struct walk *w, struct dirjob *j, size_t a, size_t b, char *msg)
{
	struct seg *s;
	size_t ncap, i;

	if (w->qlen == w->qcap) {
		ncap = w->qcap ? w->qcap * 2 : 64;
		w->q = arc_ereallocarray(w->q, ncap, sizeof(*w->q));
		/* unwrap the ring into the larger array */
		for (i = 0; i < w->qhead; i++)
			w->q[w->qcap + i] = w->q[i];
		for (i = 0; i < w->qlen; i++)
			w->q[i] = w->q[w->qhead + i];
		w->qhead = 0;
		w->qcap = ncap;
	}
	s = &w->q[(w->qhead + w->qlen++) % w->qcap];
	s->job = j;
	s->a = a;
	s->b = b;
	s->msg = msg;
	if (j != NULL)
		j->refs++;
}

/* Write the oldest segment: its records once stat'ed, or its warning. */
static void
seg_write(struct walk *w)
{
	struct seg s = w->q[w->qhead];
	struct dirjob *j = s.job;
	struct dent *e;
	size_t i;

	w->qhead = (w->qhead + 1) % w->qcap;
	w->qlen--;
	if (j == NULL) {
		if (!w->stop)
			warnx("%s", s.msg);
		free(s.msg);
		return;
	}
	job_wait(&w->pool, j, 0);
	for (i = s.a; i < s.b && !w->stop; i++) {
		e = &j->v[i];
		if (!e->want)
			continue;
		if (e->err != 0) {
			if (e->err != ENOENT) {
				s.msg = path_msg("cannot stat", j->path,
				    j->plen, e->name, 0, e->err);
				warnx("%s", s.msg);
				free(s.msg);
				w->partial = 1;
			}
			continue;
		}
		if (e->foreign) {
			s.msg = cross_msg(j->path, j->plen, e->name, 0);
			warnx("%s", s.msg);
			free(s.msg);
			w->partial = 1;
			continue;
		}
		if (!e->regular)
			continue;
		w->wpath.len = 0;
		arc_buf_add(&w->wpath, j->path, j->plen);
		arc_buf_adds(&w->wpath, e->name);
		if (w->fn(w->arg, w->wpath.s, w->wpath.len, e->mtime,
		    e->size) != 0)
			w->stop = 1;
	}
	job_put(w, j);
}

/*
 * Write what is queued until at most the given amounts are ahead; with
 * none (0, 0), every segment, the warnings after the last job included.
 */
static void
seg_drain(struct walk *w, size_t files, int dirs)
{
	while (w->qlen > 0 && (w->afiles > files || w->adirs > dirs ||
	    (files == 0 && dirs == 0)))
		seg_write(w);
}

/* A warning in its turn; the listing is partial. */
static void
warn_later(struct walk *w, char *msg)
{
	seg_push(w, NULL, 0, 0, msg);
	w->partial = 1;
}

/*
 * Read the directory open on d into a new job: its entries sorted by
 * quoted name, the files to stat marked.  w->path is its path.
 */
static struct dirjob *
job_read(struct walk *w, DIR *d)
{
	struct dirjob *j;
	struct dirent *de;
	struct stat sb;
	size_t cap = 0, i, nlen;
	int isdir;

	j = arc_ecalloc(1, sizeof(*j));
	j->d = d;
	j->refs = 1;
	j->plen = w->path.len;
	j->path = arc_estrndup(w->path.s, w->path.len);
	for (;;) {
		errno = 0;
		if ((de = readdir(d)) == NULL) {
			if (errno)
				warn_later(w, path_msg("cannot read directory",
				    j->path, j->plen, NULL, 0, errno));
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
		if (j->n == cap) {
			cap = cap ? cap * 2 : 64;
			j->v = arc_ereallocarray(j->v, cap, sizeof(*j->v));
		}
		/*
		 * Both spellings go to one buffer for the directory, not
		 * two allocations per entry: a listing is millions of them.
		 */
		nlen = strlen(de->d_name);
		j->v[j->n].noff = j->names.len;
		arc_buf_add(&j->names, de->d_name, nlen + 1);
		j->v[j->n].koff = j->names.len;
		arc_quote(&j->names, de->d_name, nlen);
		if (isdir)
			arc_buf_addc(&j->names, '/');
		j->v[j->n].keylen = j->names.len - j->v[j->n].koff;
		j->v[j->n].isdir = isdir;
		j->v[j->n].want = 0;
		j->v[j->n].foreign = 0;
		j->n++;
	}
	for (i = 0; i < j->n; i++) {	/* the buffer has stopped moving */
		j->v[i].key = j->names.s + j->v[i].koff;
		j->v[i].name = j->names.s + j->v[i].noff;
	}
	if (j->n > 1)	/* qsort(NULL, 0, ...) is undefined */
		qsort(j->v, j->n, sizeof(*j->v), dentcmp);
	for (i = 0; i < j->n; i++) {
		if (j->v[i].isdir)
			continue;
		w->path.len = j->plen;
		arc_buf_adds(&w->path, j->v[i].name);
		j->v[i].want = (w->flags & ARC_LIST_ALL) ||
		    arc_path_is_candidate(w->path.s, w->path.len);
	}
	w->path.len = j->plen;
	j->pending = j->n;
	return j;
}

/* Walk the directory open on fd (consumed); w->path ends in '/' or is "". */
static void
walkdir(struct walk *w, int fd)
{
	struct statpool *p = &w->pool;
	struct dirjob *j;
	DIR *d;
	size_t i, a, plen;
	int cfd;

	if ((d = fdopendir(fd)) == NULL) {
		warn_later(w, path_msg("cannot read directory", w->path.s,
		    w->path.len, NULL, 0, errno));
		close(fd);
		return;
	}
	j = job_read(w, d);
	w->afiles += j->n;
	w->adirs++;
	pthread_mutex_lock(&p->mu);
	if (p->njobs == p->capjobs) {	/* the walk is deeper than ever */
		p->capjobs = p->capjobs ? p->capjobs * 2 : AHEAD_DIRS;
		p->jobs = arc_ereallocarray(p->jobs, (size_t)p->capjobs,
		    sizeof(*p->jobs));
	}
	p->jobs[p->njobs++] = j;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->mu);

	plen = w->path.len;
	for (i = a = 0; i < j->n && !w->stop; i++) {
		if (!j->v[i].isdir)
			continue;
		w->path.len = plen;
		arc_buf_adds(&w->path, j->v[i].name);
		/* a directory of another shard's paths: not read */
		if (arc_shard_below(&w->st->shard, w->path.s, w->path.len) == 0)
			continue;
		if (i > a)
			seg_push(w, j, a, i, NULL);
		a = i + 1;
		cfd = openat(dirfd(d), j->v[i].name, DIR_FLAGS);
		if (cfd == -1) {
			if (errno != ENOENT)
				warn_later(w, path_msg("cannot open directory",
				    w->path.s, plen, j->v[i].name, 0, errno));
			continue;
		}
		if (!fd_on_root_mount(w->l, cfd)) {
			warn_later(w, cross_msg(w->path.s, plen, j->v[i].name,
			    1));
			close(cfd);
			continue;
		}
		/* room for this directory's own, then the next's */
		seg_drain(w, AHEAD_FILES, AHEAD_DIRS - 1);
		arc_buf_addc(&w->path, '/');
		walkdir(w, cfd);
	}
	if (j->n > a)
		seg_push(w, j, a, j->n, NULL);
	w->path.len = plen;
	job_put(w, j);
}

/* Write what is still queued; stop the helpers; free the walk. */
static void
walk_end(struct walk *w)
{
	seg_drain(w, 0, 0);
	pool_stop(&w->pool);
	free(w->q);
	arc_buf_free(&w->path);
	arc_buf_free(&w->wpath);
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
	int fd, e;

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
		pool_start(&w.pool, l);
		walkdir(&w, fd);
		walk_end(&w);
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
	pool_start(&w.pool, l);
	for (i = 0, last = np; i < np && !w.stop; i++) {
		/* inside the previous prefix (or equal to it): already walked */
		if (last != np && pv[i].keylen >= pv[last].keylen &&
		    memcmp(pv[i].key, pv[last].key, pv[last].keylen) == 0)
			continue;
		last = i;
		if (arc_shard_below(&st->shard, pv[i].raw, pv[i].rawlen) == 0)
			continue;
		if ((fd = open_dir(l, pv[i].raw, pv[i].rawlen)) == -1) {
			e = errno;
			seg_drain(&w, 0, 0);	/* its warning in its turn */
			errno = e;
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
	walk_end(&w);
	for (i = 0; i < np; i++)
		free(pv[i].key);
	free(pv);
	arc_buf_free(&q);
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
