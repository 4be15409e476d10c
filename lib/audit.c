/*
 * audit.c - the audit trail: one JSON object per line, appended, with
 * Arc's event names and envelope (actor "reconciler", method INTERNAL,
 * path /reconciliation/<run_id>, detail values all strings), and the
 * run id also at the top level so a line can be found with grep.
 * Events are collected and made durable with arc_audit_sync once per
 * batch: unlike Arc, no event is ever dropped.
 *
 * Every line is valid for a strict JSON parser: detail values go through
 * arc_json_text (a caller spells paths with arc_json_path_text first).
 * A batch's lines are appended whole or not at all: a failed write is
 * cut back to where the batch began, when nobody appended meanwhile.
 * arc_audit_reserve lets a caller make sure, before it deletes anything,
 * that the event saying so can be written.
 */
#include <sys/stat.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "arc.h"

struct arc_audit {
	int		 fd;
	char		*path;
	struct arc_buf	 pending;	/* lines not yet written */
};

/*
 * Open the log for appending.  A symbolic link at path is not followed:
 * the log is only ever appended to where it was named.
 */
struct arc_audit *
arc_audit_open(const char *path)
{
	struct arc_audit *au;
	int fd;

	if ((fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) == -1) {
		if (errno == ELOOP)
			warnx("cannot open audit log '%s': a symbolic link "
			    "is not followed", path);
		else
			warn("cannot open audit log '%s'", path);
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
	arc_buf_adds(&au->pending, json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	arc_buf_addc(&au->pending, '\n');
	json_object_put(o);
	arc_buf_free(&p);
}

/*
 * Make sure that the events so far and n bytes more can be written
 * without running out of space (the blocks are allocated now, the size
 * of the log unchanged), so that a caller can refuse to delete what it
 * could not record.  0, or -1 after a message naming the log.  Where the
 * file system cannot reserve (EOPNOTSUPP), or the log is not a regular
 * file (/dev/null), 0: arc_audit_sync still reports a failure.
 */
int
arc_audit_reserve(struct arc_audit *au, size_t n)
{
	struct stat sb;

	if (au == NULL)
		return 0;
	if (fstat(au->fd, &sb) == -1 || (S_ISREG(sb.st_mode) &&
	    fallocate(au->fd, FALLOC_FL_KEEP_SIZE, sb.st_size,
	    (off_t)(au->pending.len + n)) == -1 &&
	    errno != EOPNOTSUPP && errno != ENOSYS)) {
		warn("cannot write audit log '%s'", au->path);
		return -1;
	}
	return 0;
}

/*
 * Write the collected events and make them durable; 0 on success.  On a
 * failure the log is cut back to its size before this write, when it
 * grew by exactly what was written here (nobody else's line is lost),
 * so that it never ends in a partial line of ours.
 */
int
arc_audit_sync(struct arc_audit *au)
{
	struct stat sb;
	off_t before = -1;
	size_t done = 0;
	ssize_t w;
	int e;

	if (au == NULL)
		return 0;
	if (fstat(au->fd, &sb) == 0)
		before = sb.st_size;
	while (done < au->pending.len) {
		w = write(au->fd, au->pending.s + done, au->pending.len - done);
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
	au->pending.len = 0;
	return 0;
fail:
	e = errno;
	if (done > 0 && before != -1 && fstat(au->fd, &sb) == 0 &&
	    sb.st_size == before + (off_t)done)
		(void)ftruncate(au->fd, before);	/* only our bytes */
	errno = e;
	warn("write error on audit log '%s'", au->path);
	au->pending.len = 0;
	return -1;
}

void
arc_audit_close(struct arc_audit *au)
{
	if (au == NULL)
		return;
	if (au->pending.len > 0)
		arc_audit_sync(au);
	close(au->fd);
	arc_buf_free(&au->pending);
	free(au->path);
	free(au);
}
