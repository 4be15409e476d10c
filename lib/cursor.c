/*
 * cursor.c - the key range of a time-boxed run (--max-duration), and the
 * cursor that carries it from one run to the next.
 *
 * A range is (after, end] in the byte order of the unquoted paths, the
 * order in which a store lists its keys (S3's start-after, Azure's
 * listing, arc-list's ordered walk): one comparison, arc_pathcmp on the
 * decoded path, decides for the lister, the diff and the reader alike,
 * so that a manifest entry is in the range exactly when the listing had
 * to see its file.  An empty after is the start of the key space; no end
 * is its end.  arc_range_load reads a range from arc-list's -S file.
 *
 * The cursor is STATE/cursors/NAME.json (NAME from the store, the shard
 * and the manifest: one store reconciled against two manifests keeps two
 * cursors): the path the next run lists after, and the identity it was
 * kept for (store, shard, the local store directory's device and inode,
 * manifest).  It is read without following a link and only as a regular
 * file; written whole or not at all (arc_json_save).  A cursor kept for
 * another identity (a store directory replaced) is dropped, and the run
 * starts at the beginning.
 */
#include <sys/stat.h>

#include <errno.h>
#include <err.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "arc.h"

#define CURSOR_MAX	(1024 * 1024)	/* far above any cursor file */

int
arc_range_has(const struct arc_range *r, const char *p, size_t n)
{
	if (r == NULL || !r->on)
		return 1;
	if (arc_pathcmp(p, n, r->after.s ? r->after.s : "", r->after.len) <= 0)
		return 0;
	return !r->bounded || arc_pathcmp(p, n, r->end.s ? r->end.s : "",
	    r->end.len) <= 0;
}

/* The JSON object in file, or NULL after a message naming it. */
static struct json_object *
load(const char *file, const char *what)
{
	struct json_object *o;
	const char *why;
	size_t n;
	char *s;

	if ((s = arc_read_small(file, CURSOR_MAX, &n)) == NULL) {
		if (errno == ELOOP || errno == EINVAL)
			warnx("%s '%s': a link or not a regular file; refused",
			    what, file);
		else
			warn("cannot read %s '%s'", what, file);
		return NULL;
	}
	o = arc_json_parse_strict(s, n, &why);
	free(s);
	if (o == NULL || !json_object_is_type(o, json_type_object)) {
		warnx("%s '%s': not a JSON object%s%s", what, file,
		    o == NULL && why ? ": " : "", o == NULL && why ? why : "");
		json_object_put(o);
		return NULL;
	}
	return o;
}

/*
 * A path member of o into b (decoded): 1, 0 when it is null or absent,
 * -1 when it is not a path.
 */
static int
get_path(struct json_object *o, const char *key, struct arc_buf *b)
{
	struct json_object *v;

	b->len = 0;
	if (!json_object_object_get_ex(o, key, &v) || v == NULL)
		return 0;
	if (!json_object_is_type(v, json_type_string) ||
	    arc_json_path_decode(b, json_object_get_string(v),
	    (size_t)json_object_get_string_len(v)) == -1)
		return -1;
	arc_buf_str(b);
	return 1;
}

int
arc_range_load(struct arc_range *r, const char *file)
{
	struct json_object *o;
	int e;

	if ((o = load(file, "listing statistics")) == NULL)
		return -1;
	r->on = 1;
	if (get_path(o, "range_after", &r->after) == -1 ||
	    (e = get_path(o, "range_end", &r->end)) == -1 ||
	    !json_object_object_get_ex(o, "range_after", NULL)) {
		warnx("'%s': no key range (arc-list --after)", file);
		json_object_put(o);
		return -1;
	}
	r->bounded = e == 1;
	json_object_put(o);
	return 0;
}

void
arc_range_free(struct arc_range *r)
{
	arc_buf_free(&r->after);
	arc_buf_free(&r->end);
	memset(r, 0, sizeof(*r));
}

/* ---- the cursor ------------------------------------------------------- */

/*
 * What names a location: a local one's real path, another without its
 * trailing '/' (s3://b/x and s3://b/x/ are one store).
 */
static char *
location(const char *loc)
{
	const char *p;
	char *r;
	size_t n;

	if ((p = arc_url_local_path(loc)) != NULL && (r = realpath(p, NULL)) != NULL)
		return r;
	n = strlen(loc);
	while (n > 1 && loc[n - 1] == '/')
		n--;
	return arc_estrndup(loc, n);
}

/*
 * The identity a cursor is kept for: the store, the shard, a local
 * store directory's device and inode (another directory put in its
 * place is another store), the manifest.  An etcd cluster or an Arc API
 * is known by its URL only.
 */
static struct json_object *
identity(const char *store, const char *shard, const char *manifest)
{
	struct json_object *o;
	struct stat sb;
	char *s, num[64] = "";

	o = json_object_new_object();
	s = location(store);
	json_object_object_add(o, "store", arc_json_text(s));
	if (arc_url_local_path(store) != NULL && stat(s, &sb) == 0)
		snprintf(num, sizeof(num), "%ju:%ju", (uintmax_t)sb.st_dev,
		    (uintmax_t)sb.st_ino);
	free(s);
	json_object_object_add(o, "store_id", json_object_new_string(num));
	json_object_object_add(o, "shard", json_object_new_string(shard));
	s = location(manifest);
	json_object_object_add(o, "manifest", arc_json_text(s));
	free(s);
	return o;
}

/* Why a cursor kept for was is not the one for now, or NULL. */
static const char *
changed(struct json_object *was, struct json_object *now)
{
	static const struct { const char *key, *why; } f[] = {
		{ "store", "it was kept for another store" },
		{ "shard", "it was kept for another shard" },
		{ "store_id", "the store directory was replaced" },
		{ "manifest", "it was kept for another manifest" },
	};
	struct json_object *a, *b;
	size_t i;

	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		if (!json_object_object_get_ex(was, f[i].key, &a) ||
		    !json_object_object_get_ex(now, f[i].key, &b) ||
		    !json_object_is_type(a, json_type_string) ||
		    strcmp(json_object_get_string(a),
		    json_object_get_string(b)) != 0)
			return f[i].why;
	}
	return NULL;
}

/* STATE/cursors, made when missing; a link or a file there is refused. */
static int
cursor_dir(const char *state, struct arc_buf *b)
{
	struct stat sb;

	b->len = 0;
	arc_buf_printf(b, "%s/cursors", state);
	if (mkdir(b->s, 0700) == -1 && errno != EEXIST) {
		warn("cannot create '%s'", b->s);
		return -1;
	}
	if (lstat(b->s, &sb) == -1) {
		warn("cannot read '%s'", b->s);
		return -1;
	}
	if (!S_ISDIR(sb.st_mode)) {
		warnx("'%s': a link or not a directory; refused", b->s);
		return -1;
	}
	return 0;
}

int
arc_cursor_open(struct arc_cursor *c, const char *state, const char *store,
    const char *shard, const char *manifest)
{
	struct json_object *o, *was;
	struct arc_buf b = { 0 };
	struct stat sb;
	const char *text;
	char hex[ARC_SHA256_HEX];

	memset(c, 0, sizeof(*c));
	c->id = identity(store, shard, manifest);
	if (cursor_dir(state, &b) == -1) {
		arc_buf_free(&b);
		return -1;
	}
	/*
	 * one cursor per store, shard and manifest: its name says which, so
	 * that runs of one store against two manifests keep one each
	 */
	was = json_object_new_object();
	json_object_object_get_ex(c->id, "store", &o);
	json_object_object_add(was, "store", json_object_get(o));
	json_object_object_add(was, "shard", json_object_new_string(shard));
	json_object_object_get_ex(c->id, "manifest", &o);
	json_object_object_add(was, "manifest", json_object_get(o));
	text = json_object_to_json_string_ext(was, JSON_C_TO_STRING_PLAIN);
	arc_sha256_hex(text, strlen(text), hex);
	json_object_put(was);
	arc_buf_printf(&b, "/%.32s.json", hex);
	c->file = b.s;
	if (lstat(c->file, &sb) == -1 && errno == ENOENT)
		return 0;	/* the first run: from the start */
	if ((o = load(c->file, "cursor")) == NULL)
		return -1;
	if (!json_object_object_get_ex(o, "identity", &was) ||
	    get_path(o, "after", &c->after) == -1) {
		warnx("cursor '%s': not a cursor; remove it to start over",
		    c->file);
		json_object_put(o);
		return -1;
	}
	if ((c->dropped = changed(was, c->id)) != NULL)
		c->after.len = 0;
	json_object_put(o);
	return 0;
}

int
arc_cursor_save(const struct arc_cursor *c, const char *after, size_t n)
{
	struct json_object *o;
	char tbuf[ARC_TIME_BUFSZ];
	int r;

	o = json_object_new_object();
	json_object_object_add(o, "identity", json_object_get(c->id));
	json_object_object_add(o, "after", arc_json_path(after, n));
	json_object_object_add(o, "updated_at", json_object_new_string(
	    arc_time_format(arc_time_now(), tbuf)));
	r = arc_json_save(c->file, o, 0600);
	json_object_put(o);
	return r;
}

void
arc_cursor_free(struct arc_cursor *c)
{
	free(c->file);
	json_object_put(c->id);
	arc_buf_free(&c->after);
	memset(c, 0, sizeof(*c));
}
