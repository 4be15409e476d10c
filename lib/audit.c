/*
 * audit.c - the audit trail: one JSON object per line, appended, with
 * Arc's event names and envelope (actor "reconciler", method INTERNAL,
 * path /reconciliation/<run_id>, detail values all strings), and the
 * run id also at the top level so a line can be found with grep.
 * Events are collected and made durable with arc_audit_sync once per
 * batch: unlike Arc, no event is ever dropped.  arc_audit_verify reads
 * a log back and checks its chain.
 *
 * The log is a hash chain: every line carries prev_sha256, the SHA-256
 * of the previous line's bytes with its newline (64 zeros on the first
 * line), so that a line edited, removed, inserted or moved breaks the
 * chain at the line after it.  The hash of the log's last line is only
 * known when a line is written, so an event is kept as an object until
 * arc_audit_sync, which takes an exclusive flock(2) on the log, reads its
 * last line, chains and appends the pending lines and releases the lock:
 * writers in several processes (two arc-delete on one log, arc-run)
 * still make one chain.
 *
 * Every line is valid for a strict JSON parser: detail values go through
 * arc_json_text (a caller spells paths with arc_json_path_text first).
 * A batch's lines are appended whole or not at all: a failed write is
 * cut back to where the batch began.  arc_audit_reserve lets a caller
 * make sure, before it deletes anything, that the event saying so can be
 * written; it takes the lock, and keeps it until the next sync, so that
 * nobody else's lines use up the room it reserved.  A log that cannot
 * be opened or written is the stage's reason to stop: audit_unwritable
 * (arc_stop_reason).
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "arc.h"

/* what prev_sha256 adds to a line: ,"prev_sha256":"<64 hex digits>" */
#define CHAIN_BYTES	(sizeof(",\"prev_sha256\":\"\"") - 1 + 64)
_Static_assert(CHAIN_BYTES == ARC_AUDIT_CHAIN_BYTES, "ARC_AUDIT_CHAIN_BYTES");
#define JSON_FLAGS	(JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

static const char zeros[ARC_SHA256_HEX] =
    "0000000000000000000000000000000000000000000000000000000000000000";

struct arc_audit {
	int			  fd;
	char			 *path;
	struct json_object	**ev;		/* events not yet written */
	size_t			  nev;
	size_t			  bytes;	/* their lines' size, chained */
	int			  locked;
	char			  head[ARC_SHA256_HEX];	/* our last line's */
	uintmax_t		  head_end;	/* the offset just after it */
};

/*
 * Open the log for appending (and reading its last line).  A symbolic
 * link at path is not followed: the log is only ever appended to where
 * it was named.
 */
struct arc_audit *
arc_audit_open(const char *path)
{
	struct arc_audit *au;
	int fd;

	if ((fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) == -1) {
		if (errno == ELOOP)
			warnx("cannot open audit log '%s': a symbolic link "
			    "is not followed", path);
		else
			warn("cannot open audit log '%s'", path);
		arc_stop_reason("audit_unwritable");
		return NULL;
	}
	au = arc_ecalloc(1, sizeof(*au));
	au->fd = fd;
	au->path = arc_estrdup(path);
	return au;
}

/*
 * Append one event: the detail is given as key, value pairs of strings,
 * ended by NULL; run_id goes in the detail too, as Arc does.
 */
void
arc_audit_event(struct arc_audit *au, const char *event, const char *run_id,
    ...)
{
	struct json_object *o, *d;
	struct arc_buf p = { 0 };
	char tbuf[ARC_TIME_BUFSZ];
	const char *k, *v;
	va_list ap;

	if (au == NULL)
		return;
	o = json_object_new_object();
	d = json_object_new_object();
	arc_buf_printf(&p, "/reconciliation/%s", run_id);
	json_object_object_add(o, "timestamp", json_object_new_string(
	    arc_time_format(arc_time_now(), tbuf)));
	json_object_object_add(o, "event", arc_json_text(event));
	json_object_object_add(o, "run_id", arc_json_text(run_id));
	json_object_object_add(o, "actor", json_object_new_string("reconciler"));
	json_object_object_add(o, "method", json_object_new_string("INTERNAL"));
	json_object_object_add(o, "path", arc_json_text(p.s));
	json_object_object_add(o, "status_code", json_object_new_int(200));
	json_object_object_add(d, "run_id", arc_json_text(run_id));
	va_start(ap, run_id);
	while ((k = va_arg(ap, const char *)) != NULL) {
		v = va_arg(ap, const char *);
		json_object_object_add(d, k, arc_json_text(v));
	}
	va_end(ap);
	json_object_object_add(o, "detail", d);
	au->ev = arc_ereallocarray(au->ev, au->nev + 1, sizeof(*au->ev));
	au->ev[au->nev++] = o;
	au->bytes += strlen(json_object_to_json_string_ext(o, JSON_FLAGS)) +
	    CHAIN_BYTES + 1;
	arc_buf_free(&p);
}

static void
pending_free(struct arc_audit *au)
{
	size_t i;

	for (i = 0; i < au->nev; i++)
		json_object_put(au->ev[i]);
	au->nev = 0;
	au->bytes = 0;
}

/* Hold the log's lock (it is held until unlock); -1 after a message. */
static int
lock(struct arc_audit *au, int how)
{
	if (au->locked)
		return 0;
	while (flock(au->fd, how) == -1) {
		if (errno != EINTR) {
			warn("cannot lock audit log '%s'", au->path);
			return -1;
		}
	}
	au->locked = 1;
	return 0;
}

static void
unlock(struct arc_audit *au)
{
	if (au->locked)
		(void)flock(au->fd, LOCK_UN);
	au->locked = 0;
}

/*
 * The SHA-256 of the last line of the file fd (size bytes), with its
 * newline, into hex: zeros for an empty file.  A last line without its
 * newline (a write cut short by a crash, or by another program) is
 * hashed as if it had one, and *cut is set: the caller ends it with a
 * newline before appending.  -1 when it cannot be read.
 */
static int
tail_hash(int fd, off_t size, char hex[ARC_SHA256_HEX], int *cut)
{
	struct arc_buf b = { 0 };
	char chunk[4096];
	off_t start, at;
	ssize_t r;
	size_t i;

	*cut = 0;
	if (size == 0) {
		memcpy(hex, zeros, ARC_SHA256_HEX);
		return 0;
	}
	/* the start of the last line: after the newline before it */
	start = 0;
	at = size - 1;		/* its own newline is not searched for */
	while (at > 0) {
		size_t n = at < (off_t)sizeof(chunk) ? (size_t)at :
		    sizeof(chunk);

		if ((r = pread(fd, chunk, n, at - (off_t)n)) != (ssize_t)n)
			goto fail;
		for (i = n; i > 0; i--)
			if (chunk[i - 1] == '\n')
				break;
		if (i > 0) {
			start = at - (off_t)n + (off_t)i;
			break;
		}
		at -= (off_t)n;
	}
	arc_buf_grow(&b, (size_t)(size - start) + 1);
	for (at = start; at < size; at += r) {
		if ((r = pread(fd, b.s + b.len, (size_t)(size - at), at)) <= 0) {
			if (r == -1 && errno == EINTR) {
				r = 0;
				continue;
			}
			goto fail;
		}
		b.len += (size_t)r;
	}
	if (b.s[b.len - 1] != '\n') {
		arc_buf_addc(&b, '\n');
		*cut = 1;
	}
	arc_sha256_hex(b.s, b.len, hex);
	arc_buf_free(&b);
	return 0;
fail:
	if (r >= 0)
		errno = EIO;
	arc_buf_free(&b);
	return -1;
}

/*
 * Make sure that the events so far and n bytes more (the caller's bound
 * for the events still to come, ARC_AUDIT_CHAIN_BYTES a line included)
 * can be written without running out of space: the blocks are allocated
 * now, the size of the log unchanged, and the log stays locked until
 * arc_audit_sync, so that a caller can refuse to delete what it could
 * not record.  0, or -1 after a message naming the log.  Where the file
 * system cannot reserve (EOPNOTSUPP), or the log is not a regular file
 * (/dev/null), 0: arc_audit_sync still reports a failure.
 */
int
arc_audit_reserve(struct arc_audit *au, size_t n)
{
	struct stat sb;

	if (au == NULL)
		return 0;
	if (lock(au, LOCK_EX) == -1)
		return -1;
	/* room for a newline ending a cut line, too */
	if (fstat(au->fd, &sb) == -1 || (S_ISREG(sb.st_mode) &&
	    fallocate(au->fd, FALLOC_FL_KEEP_SIZE, sb.st_size,
	    (off_t)(au->bytes + n + 1)) == -1 &&
	    errno != EOPNOTSUPP && errno != ENOSYS)) {
		warn("cannot write audit log '%s'", au->path);
		arc_stop_reason("audit_unwritable");
		unlock(au);
		return -1;
	}
	return 0;
}

/*
 * Write the collected events, chained to the log's last line, and make
 * them durable; 0 on success.  On a failure the log is cut back to its
 * size before this write, when it grew by exactly what was written here
 * (nobody else's line is lost), so that it never ends in a partial line
 * of ours.
 */
int
arc_audit_sync(struct arc_audit *au)
{
	struct arc_buf out = { 0 };
	struct stat sb;
	char prev[ARC_SHA256_HEX];
	off_t before = -1;
	size_t done = 0, i, start;
	ssize_t w;
	int e, cut = 0;

	if (au == NULL)
		return 0;
	if (au->nev == 0) {
		unlock(au);
		return 0;
	}
	if (lock(au, LOCK_EX) == -1)
		goto fail_early;
	if (fstat(au->fd, &sb) == -1)
		goto fail;
	before = sb.st_size;
	if (!S_ISREG(sb.st_mode))
		memcpy(prev, zeros, ARC_SHA256_HEX);
	else if (tail_hash(au->fd, sb.st_size, prev, &cut) == -1)
		goto fail;
	if (cut)
		arc_buf_addc(&out, '\n');
	for (i = 0; i < au->nev; i++) {
		json_object_object_add(au->ev[i], "prev_sha256",
		    json_object_new_string(prev));
		start = out.len;
		arc_buf_adds(&out, json_object_to_json_string_ext(au->ev[i],
		    JSON_FLAGS));
		arc_buf_addc(&out, '\n');
		arc_sha256_hex(out.s + start, out.len - start, prev);
	}
	while (done < out.len) {
		w = write(au->fd, out.s + done, out.len - done);
		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (w == 0)
				errno = ENOSPC;
			goto fail;
		}
		done += (size_t)w;
	}
	if (fsync(au->fd) == -1)
		goto fail;
	memcpy(au->head, prev, ARC_SHA256_HEX);
	au->head_end = (uintmax_t)before + out.len;
	unlock(au);
	pending_free(au);
	arc_buf_free(&out);
	return 0;
fail:
	e = errno;
	if (done > 0 && before != -1 && fstat(au->fd, &sb) == 0 &&
	    sb.st_size == before + (off_t)done)
		(void)ftruncate(au->fd, before);	/* only our bytes */
	errno = e;
	warn("write error on audit log '%s'", au->path);
fail_early:
	arc_stop_reason("audit_unwritable");
	unlock(au);
	pending_free(au);
	arc_buf_free(&out);
	return -1;
}

/*
 * The anchor of the log after this writer's last sync: the SHA-256 of
 * the last line it wrote and the offset just after that line's newline,
 * for a caller to keep outside the log (arc-reconcile(1), audit-verify).
 * -1 when nothing was written yet.
 */
int
arc_audit_head(const struct arc_audit *au, char hex[ARC_SHA256_HEX],
    uintmax_t *end)
{
	if (au == NULL || au->head_end == 0)
		return -1;
	memcpy(hex, au->head, ARC_SHA256_HEX);
	*end = au->head_end;
	return 0;
}

void
arc_audit_close(struct arc_audit *au)
{
	if (au == NULL)
		return;
	if (au->nev > 0)
		arc_audit_sync(au);
	unlock(au);
	close(au->fd);
	free(au->ev);
	free(au->path);
	free(au);
}

/* ---- reading the chain back ------------------------------------------- */

static void
broken(struct arc_audit_check *c, uintmax_t line, const char *fmt, ...)
{
	va_list ap;

	c->bad = line;
	va_start(ap, fmt);
	vsnprintf(c->why, sizeof(c->why), fmt, ap);
	va_end(ap);
}

/*
 * Whether the line (n bytes, its newline included) carries the right
 * prev_sha256; o is the line parsed, or NULL.  Lines before the first
 * that carries one were written before the chain existed and are only
 * counted; from that line on, every line must carry one.
 */
static int
check_line(struct arc_audit_check *c, struct json_object *o,
    const char *prev)
{
	struct json_object *v;
	const char *h;

	if (o == NULL || !json_object_is_type(o, json_type_object)) {
		if (c->first == 0)
			return 0;
		broken(c, c->lines, "not a JSON object");
		return -1;
	}
	if (!json_object_object_get_ex(o, "prev_sha256", &v)) {
		if (c->first == 0)
			return 0;
		broken(c, c->lines, "no prev_sha256: a line inserted, or "
		    "edited");
		return -1;
	}
	if (c->first == 0)
		c->first = c->lines;
	h = json_object_is_type(v, json_type_string) ?
	    json_object_get_string(v) : "";
	if (strcmp(h, prev) == 0)
		return 0;
	if (c->lines == 1)
		broken(c, 1, "prev_sha256 is not 64 zeros, the value of a "
		    "first line: lines before it were removed");
	else
		broken(c, c->lines, "prev_sha256 is not the SHA-256 of line "
		    "%ju: line %ju was edited, or lines were removed, "
		    "inserted or reordered there", c->lines - 1, c->lines - 1);
	return -1;
}

/*
 * Read the log at path and check its chain, under a shared lock so that
 * no writer is half way through a line.  each, when not NULL, is called
 * for every line, with c->end and c->hash of that line set, and with its
 * object when the line is chained (NULL for a line written before the
 * chain, or one that is not JSON); it may declare the line broken (a
 * run's archive that changed, an anchor kept elsewhere that does not
 * match) by returning -1 after setting c->why.  1 and
 * c->bad, c->why when the chain is broken; 0 when it is whole (c->first
 * is 0 when no line carries prev_sha256); -1 after a message when the
 * log cannot be read.
 */
int
arc_audit_verify(const char *path, int (*each)(void *, struct json_object *,
    struct arc_audit_check *), void *arg, struct arc_audit_check *c)
{
	struct json_object *o;
	struct stat sb;
	char prev[ARC_SHA256_HEX], *line = NULL;
	const char *why;
	size_t cap = 0;
	ssize_t n;
	FILE *fp;
	int fd, r = 0;

	memset(c, 0, sizeof(*c));
	memcpy(prev, zeros, ARC_SHA256_HEX);
	/* a FIFO planted there is never waited on */
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC)) == -1 || fstat(fd, &sb) == -1 ||
	    fcntl(fd, F_SETFL, 0) == -1) {
		warn("cannot open audit log '%s'", path);
		if (fd != -1)
			close(fd);
		return -1;
	}
	if (!S_ISREG(sb.st_mode)) {
		warnx("cannot open audit log '%s': %s", path,
		    arc_file_kind(sb.st_mode));
		close(fd);
		return -1;
	}
	if ((fp = fdopen(fd, "r")) == NULL)
		err(arc_errstatus, "fdopen");
	while (flock(fd, LOCK_SH) == -1)
		if (errno != EINTR) {
			warn("cannot lock audit log '%s'", path);
			fclose(fp);
			return -1;
		}
	while (r == 0 && (n = getline(&line, &cap, fp)) > 0) {
		c->lines++;
		if (line[n - 1] != '\n') {
			broken(c, c->lines, "the last line is cut short (no "
			    "newline)");
			r = 1;
			break;
		}
		/* the callback sees where the line ends and its hash */
		c->end += (uintmax_t)n;
		arc_sha256_hex(line, (size_t)n, c->hash);
		o = arc_json_parse_strict(line, (size_t)n, &why);
		if (check_line(c, o, prev) == -1 || (each != NULL &&
		    each(arg, c->first != 0 ? o : NULL, c) == -1)) {
			if (c->bad == 0)
				c->bad = c->lines;
			r = 1;
		}
		json_object_put(o);
		memcpy(prev, c->hash, ARC_SHA256_HEX);
	}
	if (ferror(fp)) {
		warn("cannot read audit log '%s'", path);
		r = -1;
	}
	memcpy(c->last, prev, ARC_SHA256_HEX);
	free(line);
	fclose(fp);
	return r;
}
