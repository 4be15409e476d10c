/*
 * archive.c - the run archive: a .tar.gz written with libarchive to a
 * temporary file beside its final name, fsync'ed, renamed into place and
 * the directory fsync'ed, so the archive either exists complete and
 * durable or does not exist.  Nothing is deleted before that.
 *
 * An archive never replaces a file the run did not write: the final name
 * is taken exclusively (RENAME_NOREPLACE), and an archive already there
 * is added to only when its run.json names the same run id (a run
 * archives phase by phase); a symbolic link, another run's archive or
 * any other file there is refused and left as it is.
 */
#include <sys/stat.h>

#include <archive.h>
#include <archive_entry.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "arc_priv.h"

struct arc_archive {
	struct archive	*a;
	char		*path;
	char		*tmp;
	int		 fd;
	int		 carried;	/* replaces the run's own archive */
	dev_t		 dev;		/* which is this file */
	ino_t		 ino;
};

static int each(const char *, arc_member_fn, void *, int);

/* libarchive's reason, or errno's when it gives none. */
static const char *
why(struct archive *a)
{
	const char *s;

	if ((s = archive_error_string(a)) != NULL)
		return s;
	if (archive_errno(a) != 0)
		return strerror(archive_errno(a));
	return "unknown error";
}

static int
aerr(struct arc_archive *ar, struct archive *a, const char *call)
{
	warnx("cannot write archive '%s': %s: %s", ar->path, call, why(a));
	return -1;
}

static int
header(struct arc_archive *ar, const char *name, int64_t size, int64_t mtime)
{
	struct archive_entry *e;
	int r;

	e = archive_entry_new();
	archive_entry_set_pathname(e, name);
	archive_entry_set_size(e, size);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0600);
	archive_entry_set_mtime(e, (time_t)mtime, 0);
	r = archive_write_header(ar->a, e);
	archive_entry_free(e);
	if (r != ARCHIVE_OK)
		return aerr(ar, ar->a, "archive_write_header");
	return 0;
}

static int
write_data(struct arc_archive *ar, const void *p, size_t n)
{
	if (n > 0 && archive_write_data(ar->a, p, n) != (la_ssize_t)n)
		return aerr(ar, ar->a, "archive_write_data");
	return 0;
}

/* Copy every member of an existing archive into the new one. */
static int
carry_member(void *arg, const char *name, const char *notreg, int64_t size,
    int64_t mtime, struct archive *in)
{
	struct arc_archive *ar = arg;
	char buf[65536];
	la_ssize_t n;

	if (notreg != NULL)
		return 0;	/* arc-delete writes plain files only */
	if (arc_member_too_big(size) != NULL) {
		warnx("cannot read archive '%s': member '%s': %s", ar->path,
		    name, arc_member_too_big(size));
		return -1;
	}
	if (header(ar, name, size, mtime) == -1)
		return -1;
	while ((n = archive_read_data(in, buf, sizeof(buf))) > 0)
		if (write_data(ar, buf, (size_t)n) == -1)
			return -1;
	if (n < 0) {
		warnx("cannot read archive '%s': archive_read_data: %s",
		    ar->path, why(in));
		return -1;
	}
	return 0;
}

/* Whether a member run.json of an archive names the run id looked for. */
struct owner {
	const char	*want;		/* run_id as run.json spells it */
	int		 found;
};

static int
owner_member(void *arg, const char *name, const char *notreg, int64_t size,
    int64_t mtime, struct archive *in)
{
	struct owner *ow = arg;
	struct json_object *o, *id;
	struct arc_buf b = { 0 };
	char buf[65536];
	la_ssize_t n;

	(void)mtime;
	if (notreg != NULL || !arc_runarchive_is_run(name) ||
	    size > 1024 * 1024)
		return 0;
	/* whatever its header says, never more than 1 MiB of it */
	while ((n = archive_read_data(in, buf, sizeof(buf))) > 0 &&
	    b.len <= 1024 * 1024)
		arc_buf_add(&b, buf, (size_t)n);
	if (n == 0 && b.len > 0 &&
	    (o = json_tokener_parse(arc_buf_str(&b))) != NULL) {
		if (json_object_object_get_ex(o, "run_id", &id) &&
		    json_object_is_type(id, json_type_string) &&
		    strcmp(json_object_get_string(id), ow->want) == 0)
			ow->found = 1;
		json_object_put(o);
	}
	arc_buf_free(&b);
	return 0;
}

/*
 * Whether path is a regular file (not a link) and an archive written
 * earlier in the run run_id; its identity goes to ar.
 */
static int
own_archive(struct arc_archive *ar, const char *path, const char *run_id)
{
	struct json_object *want;
	struct owner ow = { NULL, 0 };
	struct stat sb;

	if (run_id == NULL || lstat(path, &sb) == -1 || !S_ISREG(sb.st_mode))
		return 0;
	want = arc_json_text(run_id);
	ow.want = json_object_get_string(want);
	if (each(path, owner_member, &ow, 1) == -1)
		ow.found = 0;
	json_object_put(want);
	ar->dev = sb.st_dev;
	ar->ino = sb.st_ino;
	return ow.found;
}

/*
 * Start writing the archive path for the run run_id.  When path exists
 * and is an archive of the same run, its members are copied first (a
 * run adds to its own archive phase by phase); anything else at path is
 * refused.  NULL after a message on failure.
 */
struct arc_archive *
arc_archive_create(const char *path, const char *run_id)
{
	struct arc_archive *ar;
	struct stat sb;

	ar = arc_ecalloc(1, sizeof(*ar));
	ar->path = arc_estrdup(path);
	ar->fd = -1;
	if (lstat(path, &sb) == 0) {
		if (!own_archive(ar, path, run_id)) {
			warnx("cannot write archive '%s': it exists and is not "
			    "an archive of this run: not replaced", path);
			free(ar->path);
			free(ar);
			return NULL;
		}
		ar->carried = 1;
	} else if (errno != ENOENT) {
		warn("cannot create archive '%s'", path);
		free(ar->path);
		free(ar);
		return NULL;
	}
	if ((ar->fd = arc_open_tmp(path, &ar->tmp)) == -1) {
		warn("cannot create archive '%s'", path);
		free(ar->path);
		free(ar);
		return NULL;
	}
	if ((ar->a = archive_write_new()) == NULL)
		err(arc_errstatus, "archive_write_new");
	if (archive_write_add_filter_gzip(ar->a) != ARCHIVE_OK ||
	    archive_write_set_format_pax_restricted(ar->a) != ARCHIVE_OK ||
	    archive_write_open_fd(ar->a, ar->fd) != ARCHIVE_OK) {
		aerr(ar, ar->a, "archive_write_open");
		arc_archive_abort(ar);
		return NULL;
	}
	if (ar->carried && arc_archive_each(path, carry_member, ar) == -1) {
		arc_archive_abort(ar);
		return NULL;
	}
	return ar;
}

int
arc_archive_add_mem(struct arc_archive *ar, const char *name, const void *p,
    size_t n)
{
	if (header(ar, name, (int64_t)n, arc_time_now()) == -1)
		return -1;
	return write_data(ar, p, n);
}

/* Add the content of fd (read from its start) as member name. */
int
arc_archive_add_fd(struct arc_archive *ar, const char *name, int fd,
    int64_t mtime)
{
	struct stat sb;
	char buf[65536];
	ssize_t n;
	int64_t left;

	if (fstat(fd, &sb) == -1 || lseek(fd, 0, SEEK_SET) == -1) {
		warn("'%s': cannot read member '%s'", ar->path, name);
		return -1;
	}
	if (header(ar, name, (int64_t)sb.st_size, mtime) == -1)
		return -1;
	for (left = sb.st_size; left > 0; left -= n) {
		n = read(fd, buf, left < (int64_t)sizeof(buf) ? (size_t)left :
		    sizeof(buf));
		if (n <= 0) {
			warnx("'%s': member '%s' changed while archived",
			    ar->path, name);
			return -1;
		}
		if (write_data(ar, buf, (size_t)n) == -1)
			return -1;
	}
	return 0;
}

/* Finish, fsync and rename into place; 0 when the archive is durable. */
int
arc_archive_commit(struct arc_archive *ar)
{
	struct stat sb;
	int r = 0;

	if (archive_write_close(ar->a) != ARCHIVE_OK)
		r = aerr(ar, ar->a, "archive_write_close");
	archive_write_free(ar->a);	/* closed above: nothing left to fail */
	ar->a = NULL;
	if (r == 0 && fsync(ar->fd) == -1) {
		warn("cannot write archive '%s': fsync", ar->path);
		r = -1;
	}
	if (close(ar->fd) == -1 && r == 0) {
		warn("cannot write archive '%s': close", ar->path);
		r = -1;
	}
	ar->fd = -1;
	/* replace only the very archive carried, else take the name afresh */
	if (r == 0 && ar->carried && (lstat(ar->path, &sb) == -1 ||
	    sb.st_dev != ar->dev || sb.st_ino != ar->ino)) {
		warnx("cannot write archive '%s': it changed while it was "
		    "read: not replaced", ar->path);
		r = -1;
	}
	if (r == 0 && arc_put_tmp(ar->tmp, ar->path, !ar->carried) == -1) {
		if (errno == EEXIST)
			warnx("cannot write archive '%s': it exists and is "
			    "not replaced", ar->path);
		else
			warn("cannot write archive '%s'", ar->path);
		r = -1;
	}
	if (r == -1)
		unlink(ar->tmp);	/* ours: made by mkostemp */
	free(ar->tmp);
	free(ar->path);
	free(ar);
	return r;
}

void
arc_archive_abort(struct arc_archive *ar)
{
	if (ar->a != NULL)
		archive_write_free(ar->a);
	if (ar->fd != -1)
		close(ar->fd);
	unlink(ar->tmp);
	free(ar->tmp);
	free(ar->path);
	free(ar);
}

/* ---- reading a member, bounded -------------------------------------- */

/*
 * NULL when a member of size bytes (its header's, -1 or 0 when unknown)
 * may be read, else why not: a member larger than ARC_MEMBER_MAX is
 * refused before a byte of it is decompressed.
 */
const char *
arc_member_too_big(int64_t size)
{
	if (size > 0 && (uint64_t)size > ARC_MEMBER_MAX)
		return "larger than the limit of 64 GiB a member is read to";
	return NULL;
}

/*
 * Read up to n bytes of the member into p: 0 at its end, -1 with m->why
 * past ARC_MEMBER_MAX in all, or, read as lines, past m->maxline bytes
 * without a newline (the reader would have to hold the line whole).
 * With cut, such a line is ended instead, one byte past the limit, and
 * the member with it: the record reader then refuses the line itself.
 */
static ssize_t
member_read(struct arc_member *m, char *p, size_t n, int cut)
{
	la_ssize_t r;
	size_t i;

	if (m->why[0] != '\0')
		return cut ? 0 : -1;
	if ((r = archive_read_data(m->in, p, n)) < 0) {
		snprintf(m->why, sizeof(m->why), "%s", why(m->in));
		errno = EIO;
		return -1;
	}
	m->total += (uint64_t)r;
	if (m->total > ARC_MEMBER_MAX) {
		snprintf(m->why, sizeof(m->why), "%s",
		    arc_member_too_big(INT64_MAX));
		errno = EFBIG;
		return -1;
	}
	for (i = 0; m->maxline > 0 && i < (size_t)r; i++) {
		if (p[i] == '\n')
			m->linelen = 0;
		else if (++m->linelen > m->maxline) {
			snprintf(m->why, sizeof(m->why), "a line longer than "
			    "%zu bytes", m->maxline);
			if (cut) {
				p[i] = '\n';
				return (ssize_t)i + 1;
			}
			errno = EFBIG;
			return -1;
		}
	}
	return (ssize_t)r;
}

static ssize_t
member_cookie_read(void *arg, char *p, size_t n)
{
	return member_read(arg, p, n, 1);
}

/*
 * The member being read from in, as a stream (fopencookie(3)), read as
 * lines when lines is set: a line is cut one byte past the records'
 * limit, so that the record reader refuses it by its length, and m->why
 * is then set.  A read that fails otherwise fails the stream's read.
 */
FILE *
arc_member_open(struct arc_member *m, struct archive *in, int lines)
{
	static const cookie_io_functions_t io = { member_cookie_read, NULL,
	    NULL, NULL };
	FILE *fp;

	memset(m, 0, sizeof(*m));
	m->in = in;
	m->maxline = lines ? ARC_MEMBER_LINE_MAX + 1 : 0;
	if ((fp = fopencookie(m, "r", io)) == NULL)
		err(arc_errstatus, "fopencookie");
	return fp;
}

/*
 * Copy the member being read from in to out, at most ARC_MEMBER_MAX
 * bytes (and lines as arc_member_open says); 0, or -1 with m->why.
 */
int
arc_member_copy(struct arc_member *m, struct archive *in, FILE *out,
    int lines)
{
	char buf[65536];
	ssize_t n;

	memset(m, 0, sizeof(*m));
	m->in = in;
	m->maxline = lines ? ARC_MEMBER_LINE_MAX : 0;
	while ((n = member_read(m, buf, sizeof(buf), 0)) > 0)
		if (fwrite(buf, 1, (size_t)n, out) != (size_t)n) {
			snprintf(m->why, sizeof(m->why), "%s",
			    strerror(errno));
			return -1;
		}
	if (n == 0 && fflush(out) == EOF) {
		snprintf(m->why, sizeof(m->why), "%s", strerror(errno));
		return -1;
	}
	return n == 0 ? 0 : -1;
}

/* NULL for a plain file, else what the member is: "a symbolic link", ... */
static const char *
member_kind(struct archive_entry *e)
{
	if (archive_entry_hardlink(e) != NULL)
		return "a hard link";
	if (archive_entry_symlink(e) != NULL)
		return "a symbolic link";
	if (archive_entry_filetype(e) == AE_IFREG)
		return NULL;
	return arc_file_kind(archive_entry_filetype(e));
}

/*
 * Call fn for every member of the archive at path but directories, in
 * archive order, with what it is when it is not a plain file (its
 * content is then not to be used).
 */
int
arc_archive_each(const char *path, arc_member_fn fn, void *arg)
{
	return each(path, fn, arg, 0);
}

static int
each(const char *path, arc_member_fn fn, void *arg, int quiet)
{
	struct archive *a;
	struct archive_entry *e;
	int r, ret = 0;

	if ((a = archive_read_new()) == NULL)
		err(arc_errstatus, "archive_read_new");
	archive_read_support_filter_all(a);
	archive_read_support_format_all(a);
	if (archive_read_open_filename(a, path, 65536) != ARCHIVE_OK) {
		if (!quiet)
			warnx("'%s': archive_read_open_filename: %s", path,
			    why(a));
		archive_read_free(a);
		return -1;
	}
	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		/* a directory holds nothing; its files are members */
		if (archive_entry_filetype(e) == AE_IFDIR &&
		    archive_entry_hardlink(e) == NULL)
			continue;
		if (archive_entry_pathname(e) == NULL) {
			warnx("'%s': a member whose name cannot be read is "
			    "skipped", path);
			continue;
		}
		if (fn(arg, archive_entry_pathname(e), member_kind(e),
		    archive_entry_size(e), (int64_t)archive_entry_mtime(e),
		    a) == -1) {
			ret = -1;
			break;
		}
	}
	if (ret == 0 && r != ARCHIVE_EOF) {
		if (!quiet)
			warnx("'%s': archive_read_next_header: %s", path,
			    why(a));
		ret = -1;
	}
	archive_read_free(a);
	return ret;
}
