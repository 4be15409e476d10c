/*
 * util.c - allocation wrappers that exit with the tool's error status,
 * output checks before exit, and number parsing for options.
 */
#include <sys/stat.h>

#include <err.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <unistd.h>

#include "arc.h"

int arc_errstatus = ARC_EXIT_ERROR;

void *
arc_emalloc(size_t n)
{
	void *p;

	if ((p = malloc(n ? n : 1)) == NULL)
		err(arc_errstatus, "malloc");
	return p;
}

void *
arc_ecalloc(size_t n, size_t m)
{
	void *p;

	if ((p = calloc(n ? n : 1, m ? m : 1)) == NULL)
		err(arc_errstatus, "calloc");
	return p;
}

void *
arc_erealloc(void *p, size_t n)
{
	if ((p = realloc(p, n ? n : 1)) == NULL)
		err(arc_errstatus, "realloc");
	return p;
}

void *
arc_ereallocarray(void *p, size_t n, size_t m)
{
	if (m && n > SIZE_MAX / m) {
		errno = ENOMEM;
		err(arc_errstatus, "reallocarray");
	}
	return arc_erealloc(p, n * m);
}

char *
arc_estrdup(const char *s)
{
	return arc_estrndup(s, strlen(s));
}

char *
arc_estrndup(const char *s, size_t n)
{
	char *p;

	p = arc_emalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

/*
 * Flush and close an output stream, so that a full disk or a closed pipe
 * is an error and not a silently truncated result (sbase's fshut).
 */
int
arc_fshut(FILE *fp, const char *name)
{
	int ret = 0;

	if (fflush(fp) == EOF || ferror(fp)) {
		warn("write error on '%s'", name);
		ret = 1;
	}
	if (fclose(fp) == EOF && !ret) {
		warn("close error on '%s'", name);
		ret = 1;
	}
	return ret;
}

/* Parse a decimal option argument in [min, max]; 0 on success. */
int
arc_parse_count(const char *s, long long min, long long max, long long *out)
{
	char *end;
	long long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/* write(2) until done; -1 on error. */
int
arc_write_full(int fd, const void *p, size_t n)
{
	const char *s = p;
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, s, n)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

/* A random (version 4) UUID, as Arc's run ids. */
char *
arc_run_id(void)
{
	unsigned char b[16];
	char *s;

	if (getentropy(b, sizeof(b)) == -1)
		err(arc_errstatus, "getentropy");
	b[6] = (b[6] & 0x0f) | 0x40;
	b[8] = (b[8] & 0x3f) | 0x80;
	s = arc_emalloc(37);
	snprintf(s, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3], b[4], b[5],
	    b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
	return s;
}

/* fsync the directory holding path, so a rename in it is durable. */
int
arc_fsync_dir(const char *path)
{
	char *dir, *slash;
	int fd, r;

	dir = arc_estrdup(path);
	if ((slash = strrchr(dir, '/')) == NULL)
		strcpy(dir, ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		free(dir);
		return -1;
	}
	r = fsync(fd);
	close(fd);
	free(dir);
	return r;
}

/*
 * Create a temporary file beside path (same directory, so it can be
 * renamed over path atomically), mode 0600.  Returns the descriptor and
 * its name in *tmpname.
 */
int
arc_open_tmp(const char *path, char **tmpname)
{
	char *t;
	int fd;

	t = arc_emalloc(strlen(path) + 16);
	sprintf(t, "%s.tmp.XXXXXX", path);
	if ((fd = mkostemp(t, O_CLOEXEC)) == -1) {
		free(t);
		return -1;
	}
	*tmpname = t;
	return fd;
}

/* An anonymous read-write stream for spooling, gone when closed. */
FILE *
arc_tmpstream(void)
{
	FILE *fp;

	if ((fp = tmpfile()) == NULL)
		err(ARC_EXIT_ERROR, "cannot create a temporary file");
	return fp;
}

/*
 * Put the finished temporary file tmp in place as path and make the
 * rename durable.  With excl the rename never replaces anything: a file,
 * a directory or a symbolic link already at path (planted or left by
 * another run) makes it fail with EEXIST.  Without it, whatever is at
 * path is replaced as a name; a symbolic link there is replaced, never
 * followed.  0, or -1 with errno set and tmp still in place.
 */
int
arc_put_tmp(const char *tmp, const char *path, int excl)
{
	int e;

	if (!excl) {
		if (rename(tmp, path) == -1)
			return -1;
	} else if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path,
	    RENAME_NOREPLACE) == -1) {
		/* a file system without RENAME_NOREPLACE: link(2) is exclusive */
		if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP)
			return -1;
		if (link(tmp, path) == -1)
			return -1;
		if (unlink(tmp) == -1) {
			e = errno;
			unlink(path);	/* the link just made: ours */
			errno = e;
			return -1;
		}
	}
	if (arc_fsync_dir(path) == -1)
		return -1;
	return 0;
}

/*
 * An output file named by an option, written whole or not at all: the
 * data goes to a temporary file beside path (created with O_EXCL, so
 * nothing planted there is followed or truncated) and arc_out_commit
 * puts it in place.  Until then, and after any failure, path is as it
 * was.  What may be at path: nothing, or a regular file (replaced as a
 * name, unless excl); a FIFO or a character device is a stream and is
 * written to directly (nothing to replace or truncate); a symbolic link,
 * a directory or anything else is refused and left alone.  NULL after a
 * message naming path.
 */
struct arc_out *
arc_out_open(const char *path, int mode, int excl)
{
	struct arc_out *o;
	struct stat sb;
	int fd, stream = 0;

	if (lstat(path, &sb) == 0) {
		stream = !S_ISREG(sb.st_mode);
		if (S_ISLNK(sb.st_mode)) {
			warnx("cannot write '%s': a symbolic link is not "
			    "followed", path);
			return NULL;
		}
		if (S_ISREG(sb.st_mode) && excl) {
			warnx("cannot write '%s': it exists already and is "
			    "not replaced", path);
			return NULL;
		}
		if (!S_ISREG(sb.st_mode) && !S_ISFIFO(sb.st_mode) &&
		    !S_ISCHR(sb.st_mode)) {
			warnx("cannot write '%s': not a regular file", path);
			return NULL;
		}
	} else if (errno != ENOENT) {
		warn("cannot write '%s'", path);
		return NULL;
	}
	o = arc_ecalloc(1, sizeof(*o));
	o->path = arc_estrdup(path);
	o->mode = mode;
	o->excl = excl;
	if (stream) {
		/* a stream: no O_CREAT, no O_TRUNC, no link followed */
		fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
	} else
		fd = arc_open_tmp(path, &o->tmp);
	if (fd == -1) {
		warn("cannot write '%s'", path);
		free(o->path);
		free(o);
		return NULL;
	}
	if ((o->fp = fdopen(fd, "w")) == NULL)
		err(arc_errstatus, "fdopen");
	return o;
}

/*
 * Flush, sync and put the file in place; 0, or -1 after a message naming
 * the final name, with the temporary file removed.
 */
int
arc_out_commit(struct arc_out *o)
{
	int r = 0, e = 0;

	if (fflush(o->fp) == EOF || ferror(o->fp) || (o->tmp != NULL &&
	    (fchmod(fileno(o->fp), (mode_t)o->mode) == -1 ||
	    fsync(fileno(o->fp)) == -1))) {
		e = errno ? errno : EIO;
		r = -1;
	}
	if (fclose(o->fp) == EOF && r == 0) {
		e = errno;
		r = -1;
	}
	o->fp = NULL;
	if (r == 0 && o->tmp != NULL &&
	    arc_put_tmp(o->tmp, o->path, o->excl) == -1) {
		e = errno;
		r = -1;
	}
	if (r == -1) {
		if (o->tmp != NULL)
			unlink(o->tmp);	/* made by mkostemp in this run */
		errno = e;
		if (e == EEXIST)
			warnx("cannot write '%s': it exists already and is "
			    "not replaced", o->path);
		else
			warn("write error on '%s'", o->path);
	}
	free(o->tmp);
	free(o->path);
	free(o);
	return r;
}

/* Give up: the temporary file goes, path is as it was. */
void
arc_out_abort(struct arc_out *o)
{
	if (o == NULL)
		return;
	if (o->fp != NULL)
		fclose(o->fp);
	if (o->tmp != NULL)
		unlink(o->tmp);
	free(o->tmp);
	free(o->path);
	free(o);
}

/*
 * Give a stream a large buffer, and no stdio locking (the tools are one
 * thread where they stream records): with millions of lines, fewer and
 * larger reads and writes.  The buffers are static, so they outlive the
 * stream wherever it is closed; past four streams, stdio's own is kept.
 */
void
arc_bigbuf(FILE *fp)
{
	static char bufs[4][256 * 1024];
	static int n;

	if (n < 4 && setvbuf(fp, bufs[n], _IOFBF, sizeof(bufs[n])) == 0)
		n++;
	__fsetlocking(fp, FSETLOCKING_BYCALLER);
}

/* What a file of mode m is, for a message: "a FIFO", "a directory", ... */
const char *
arc_file_kind(mode_t m)
{
	switch (m & S_IFMT) {
	case S_IFREG:	return "a regular file";
	case S_IFDIR:	return "a directory";
	case S_IFLNK:	return "a symbolic link";
	case S_IFIFO:	return "a FIFO";
	case S_IFSOCK:	return "a socket";
	case S_IFCHR:	return "a character device";
	case S_IFBLK:	return "a block device";
	default:	return "not a regular file";
	}
}

/* The value of environment variable name, or NULL when unset or empty. */
const char *
arc_env(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && *v != '\0' ? v : NULL;
}

/* Free a string that held a secret, overwriting it first. */
void
arc_zfree(char *s)
{
	if (s != NULL) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

/*
 * Read a whole small file that must be a regular file (a link is not
 * followed); NULL with errno set, EFBIG past max.
 */
char *
arc_read_small(const char *path, size_t max, size_t *lenp)
{
	struct stat st;
	char *s;
	ssize_t r;
	size_t n = 0;
	int fd, e;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)) == -1)
		return NULL;
	if (fstat(fd, &st) == -1)
		goto fail;
	if (!S_ISREG(st.st_mode)) {
		errno = EINVAL;
		goto fail;
	}
	if ((size_t)st.st_size > max) {
		errno = EFBIG;
		goto fail;
	}
	s = arc_emalloc((size_t)st.st_size + 1);
	while (n < (size_t)st.st_size) {
		if ((r = read(fd, s + n, (size_t)st.st_size - n)) == -1) {
			if (errno == EINTR)
				continue;
			e = errno;
			free(s);
			close(fd);
			errno = e;
			return NULL;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	s[n] = '\0';
	*lenp = n;
	return s;
fail:
	e = errno;
	close(fd);
	errno = e;
	return NULL;
}
