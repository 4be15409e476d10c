/*
 * entry.c - manifest entries: Arc's FileEntry JSON object in, a manifest
 * record out.  Every manifest source goes through arc_entry_from_json,
 * so every source gets the same checks.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "arc.h"

/* An optional string member: NULL when absent or null, -1 when not a string. */
static int
get_string(struct json_object *o, const char *key, const char **s,
    size_t *n)
{
	struct json_object *v;

	*s = NULL;
	*n = 0;
	if (!json_object_object_get_ex(o, key, &v) || v == NULL)
		return 0;
	if (!json_object_is_type(v, json_type_string))
		return -1;
	*s = json_object_get_string(v);
	*n = (size_t)json_object_get_string_len(v);
	return 0;
}

static int
fail(struct arc_buf *eb, const char *fmt, const char *what)
{
	eb->len = 0;
	arc_buf_printf(eb, fmt, what);
	return -1;
}

/*
 * Fill e from a FileEntry object.  On error return -1 with the reason in
 * eb.  Numbers given as strings, paths Arc would refuse, and times that
 * are not RFC 3339 are errors: a manifest that cannot be read exactly
 * must not feed a diff.
 */
int
arc_entry_from_json(struct json_object *o, struct arc_entry *e,
    struct arc_buf *eb)
{
	struct json_object *v;
	const char *s, *why;
	size_t n;
	int64_t sz;
	uint64_t lsn;
	char num[32];

	memset(e, 0, sizeof(*e));
	e->size = -1;
	e->created_at = ARC_TIME_UNKNOWN;
	if (!json_object_is_type(o, json_type_object))
		return fail(eb, "%s", "entry is not a JSON object");
	if (get_string(o, "path", &s, &n) == -1)
		return fail(eb, "%s", "'path' is not a string");
	if (s == NULL)
		return fail(eb, "%s", "entry has no 'path'");
	if ((why = arc_path_manifest_error(s, n)) != NULL) {
		struct arc_buf q = { 0 };

		arc_quote(&q, s, n > 256 ? 256 : n);
		eb->len = 0;
		arc_buf_printf(eb, "path '%s%s': %s", arc_buf_str(&q),
		    n > 256 ? "..." : "", why);
		arc_buf_free(&q);
		return -1;
	}
	e->path = arc_estrndup(s, n);
	e->pathlen = n;

	if (get_string(o, "created_at", &s, &n) == -1) {
		arc_entry_free(e);
		return fail(eb, "%s", "'created_at' is not a string");
	}
	if (s != NULL && arc_time_parse(s, n, ARC_TIME_LENIENT,
	    &e->created_at) == -1) {
		arc_entry_free(e);
		return fail(eb, "%s", "'created_at' is not an RFC 3339 time");
	}
	if (json_object_object_get_ex(o, "size_bytes", &v) && v != NULL) {
		if (!json_object_is_type(v, json_type_int) ||
		    (sz = json_object_get_int64(v)) < 0 ||
		    json_object_get_uint64(v) > INT64_MAX) {
			arc_entry_free(e);
			return fail(eb, "%s",
			    "'size_bytes' is not a non-negative integer");
		}
		e->size = sz;
	}
	if (json_object_object_get_ex(o, "lsn", &v) && v != NULL) {
		if (!json_object_is_type(v, json_type_int) ||
		    json_object_get_int64(v) < 0) {
			arc_entry_free(e);
			return fail(eb, "%s", "'lsn' is not an unsigned integer");
		}
		lsn = json_object_get_uint64(v);
		snprintf(num, sizeof(num), "%" PRIu64, lsn);
		e->rev = arc_estrdup(num);
	} else
		e->rev = arc_estrdup("");
	if (get_string(o, "origin_node_id", &s, &n) == -1) {
		arc_entry_free(e);
		return fail(eb, "%s", "'origin_node_id' is not a string");
	}
	e->origin = arc_estrndup(s ? s : "", n);
	if (get_string(o, "database", &s, &n) == -1) {
		arc_entry_free(e);
		return fail(eb, "%s", "'database' is not a string");
	}
	e->database = arc_estrndup(s ? s : "", n);
	if (get_string(o, "measurement", &s, &n) == -1) {
		arc_entry_free(e);
		return fail(eb, "%s", "'measurement' is not a string");
	}
	e->measurement = arc_estrndup(s ? s : "", n);
	return 0;
}

void
arc_entry_free(struct arc_entry *e)
{
	free(e->path);
	free(e->origin);
	free(e->database);
	free(e->measurement);
	free(e->rev);
	memset(e, 0, sizeof(*e));
}
