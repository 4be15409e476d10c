/*
 * audit.c - the audit trail: one JSON object per line, appended, with
 * Arc's event names and envelope (actor "reconciler", method INTERNAL,
 * path /reconciliation/<run_id>, detail values all strings), and the
 * run id also at the top level so a line can be found with grep.
 * Events are buffered and made durable with arc_audit_sync once per
 * batch: unlike Arc, no event is ever dropped.
 */
#include <err.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "arc.h"

struct arc_audit {
	FILE	*fp;
	char	*path;
	off_t	 synced;	/* the log's size when last made durable */
};

struct arc_audit *
arc_audit_open(const char *path)
{
	struct arc_audit *au;
	int fd;

	if ((fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
	    0600)) == -1) {
		warn("cannot open audit log '%s'", path);
		return NULL;
	}
	au = arc_ecalloc(1, sizeof(*au));
	if ((au->fp = fdopen(fd, "a")) == NULL)
		err(arc_errstatus, "fdopen");
	au->path = arc_estrdup(path);
	au->synced = lseek(fd, 0, SEEK_END);
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
	json_object_object_add(o, "event", json_object_new_string(event));
	json_object_object_add(o, "run_id", json_object_new_string(run_id));
	json_object_object_add(o, "actor", json_object_new_string("reconciler"));
	json_object_object_add(o, "method", json_object_new_string("INTERNAL"));
	json_object_object_add(o, "path", json_object_new_string(p.s));
	json_object_object_add(o, "status_code", json_object_new_int(200));
	json_object_object_add(d, "run_id", json_object_new_string(run_id));
	va_start(ap, run_id);
	while ((k = va_arg(ap, const char *)) != NULL) {
		v = va_arg(ap, const char *);
		json_object_object_add(d, k, json_object_new_string(v));
	}
	va_end(ap);
	json_object_object_add(o, "detail", d);
	fprintf(au->fp, "%s\n", json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	arc_buf_free(&p);
}

/*
 * Make every event so far durable; 0 on success.  On a write error (a
 * full disk) the log is cut back to its last durable size, so that no
 * partial line is left for the next event to be glued to.
 */
int
arc_audit_sync(struct arc_audit *au)
{
	if (au == NULL)
		return 0;
	if (fflush(au->fp) == EOF || fsync(fileno(au->fp)) == -1) {
		warn("write error on audit log '%s'", au->path);
		__fpurge(au->fp);
		if (au->synced >= 0 && ftruncate(fileno(au->fp),
		    au->synced) == -1)
			warn("cannot cut audit log '%s' back", au->path);
		return -1;
	}
	au->synced = lseek(fileno(au->fp), 0, SEEK_END);
	return 0;
}

void
arc_audit_close(struct arc_audit *au)
{
	if (au == NULL)
		return;
	arc_audit_sync(au);
	fclose(au->fp);
	free(au->path);
	free(au);
}
