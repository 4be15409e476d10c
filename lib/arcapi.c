/*
 * arcapi.c - Arc's cluster manifest API as a manifest source:
 * arc+http://HOST:PORT and arc+https://HOST:PORT.
 *
 * The dump pages through GET /api/v1/cluster/files?limit=10000&cursor=
 * until next_cursor is empty; the token comes from ARC_API_TOKEN or the
 * file named by ARC_API_TOKEN_FILE and is sent as "Authorization:
 * Bearer", never printed.  arc+https:// is verified with the CAs of
 * SSL_CERT_FILE and SSL_CERT_DIR (http.c), or the system's.  Pages are not a
 * snapshot: an entry registered meanwhile below the cursor is missed,
 * which is why every orphan-storage candidate is looked up again, live,
 * one path at a time (cursor just below the path, limit=1).
 *
 * Arc has no endpoint for manifest deletes.  Deletes are therefore
 * deferred: each batch is appended to the file named by the caller as
 * one line of Arc's own BatchFileOpsPayload JSON (delete ops, type 8,
 * reason reconcile-orphan-manifest) for an operator to apply.  The
 * payload's path is in the JSON spelling of paths (arc(7)), so that the
 * file is valid for a strict parser and no path is turned into another
 * (Go's decoder would read bytes that are not UTF-8 as U+FFFD).
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "arc_priv.h"

#define PAGE_LIMIT	10000
#define LOOKUP_JOBS	16
#define LOOKUP_ROUNDS	32
#define OP_DELETE_FILE	8	/* Arc's CommandDeleteFile */

struct arcapi {
	char		*base;		/* http(s)://host:port */
	char		*token;
	struct arc_http	*http;
	int		 dopen;		/* the deferred file is made */
	int		 dfd;		/* and open here */
	off_t		 dlen;		/* its whole lines */
};

/*
 * The token: ARC_API_TOKEN, else the content of the file named by
 * ARC_API_TOKEN_FILE (read on every run, so that a rotated token needs
 * no restart; surrounding white space dropped), else none.  0, or -1
 * after a message that never shows the token.
 */
static int
api_token(char **token)
{
	struct arc_buf b = { 0 };
	const char *t, *file, *p;
	char chunk[4096];
	size_t n, len;
	FILE *fp;

	*token = NULL;
	if ((t = getenv("ARC_API_TOKEN")) != NULL && *t != '\0') {
		*token = arc_estrdup(t);
		return 0;
	}
	if ((file = getenv("ARC_API_TOKEN_FILE")) == NULL || *file == '\0')
		return 0;
	if ((fp = fopen(file, "re")) == NULL) {
		warn("cannot open ARC_API_TOKEN_FILE '%s'", file);
		return -1;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0 && b.len < 65536)
		arc_buf_add(&b, chunk, n);
	explicit_bzero(chunk, sizeof(chunk));
	if (ferror(fp) || b.len >= 65536) {
		if (ferror(fp))
			warn("cannot read ARC_API_TOKEN_FILE '%s'", file);
		else
			warnx("ARC_API_TOKEN_FILE '%s': too large for a token",
			    file);
		fclose(fp);
		if (b.s != NULL)
			explicit_bzero(b.s, b.len);
		arc_buf_free(&b);
		return -1;
	}
	fclose(fp);
	for (p = b.s, len = b.len; len > 0 && strchr(" \t\r\n", *p); p++)
		len--;
	while (len > 0 && strchr(" \t\r\n", p[len - 1]))
		len--;
	if (len == 0 || memchr(p, '\n', len) != NULL ||
	    memchr(p, '\r', len) != NULL || memchr(p, '\0', len) != NULL) {
		warnx("ARC_API_TOKEN_FILE '%s': %s", file, len == 0 ?
		    "empty" : "not one line");
		if (b.s != NULL)
			explicit_bzero(b.s, b.len);
		arc_buf_free(&b);
		return -1;
	}
	*token = arc_estrndup(p, len);
	explicit_bzero(b.s, b.len);
	arc_buf_free(&b);
	return 0;
}

static int
api_open(struct arc_manifest *m, const char *rest)
{
	struct arcapi *a;
	struct arc_buf b = { 0 };
	const char *scheme;
	size_t n = strlen(rest);

	scheme = strncmp(m->spec, "arc+https://", 12) == 0 ? "https" : "http";
	while (n > 0 && rest[n - 1] == '/')
		n--;
	if (n == 0) {
		warnx("'%s': no host", m->spec);
		return -1;
	}
	/*
	 * host:port alone.  A user name or password would be sent as Basic
	 * credentials and shown in every message and run record that names
	 * the manifest; a path or query would change the endpoint asked.
	 */
	if (memchr(rest, '@', n) != NULL) {
		warnx("arc+http:// URL with a user name or password: refused "
		    "(set ARC_API_TOKEN or ARC_API_TOKEN_FILE instead)");
		return -1;
	}
	if (strcspn(rest, "/?#") < n) {
		warnx("an Arc API URL is arc+http://host:port, without a "
		    "path or query: refused");
		return -1;
	}
	a = arc_ecalloc(1, sizeof(*a));
	if (api_token(&a->token) == -1) {
		free(a);
		return -1;
	}
	arc_buf_printf(&b, "%s://%.*s", scheme, (int)n, rest);
	a->base = b.s;
	a->http = arc_http_new();
	m->priv = a;
	return 0;
}

static void
api_close(struct arc_manifest *m)
{
	struct arcapi *a = m->priv;

	if (a->token != NULL) {
		explicit_bzero(a->token, strlen(a->token));
		free(a->token);
	}
	free(a->base);
	if (a->dopen)
		close(a->dfd);
	arc_http_free(a->http);
	free(a);
}

/* GET the files endpoint with cursor, database (optional) and limit. */
static void
files_request(struct arcapi *a, struct arc_http_req *r, const char *cursor,
    size_t clen, const char *db, int limit)
{
	struct arc_buf u = { 0 };

	arc_buf_printf(&u, "%s/api/v1/cluster/files?", a->base);
	if (clen > 0) {
		arc_buf_adds(&u, "cursor=");
		arc_http_escape(&u, cursor, clen, 0);
		arc_buf_addc(&u, '&');
	}
	if (db != NULL) {
		arc_buf_adds(&u, "database=");
		arc_http_escape(&u, db, strlen(db), 0);
		arc_buf_addc(&u, '&');
	}
	arc_buf_printf(&u, "limit=%d", limit);
	arc_http_req_init(r, "GET", u.s);
	arc_http_add_header(r, "Accept: application/json");
	if (a->token != NULL)
		arc_http_add_header(r, "Authorization: Bearer %s", a->token);
}

/* Why an answer is not a page, for a message. */
static void
describe(struct arc_manifest *m, const struct arc_http_req *r,
    struct arc_buf *out)
{
	struct json_object *o, *v;

	out->len = 0;
	arc_buf_printf(out, "'%s': ", m->spec);
	if (r->status == 0) {
		arc_buf_printf(out, "%s (after %d attempts)", r->err,
		    r->attempts);
		return;
	}
	if (r->status == 401)
		arc_buf_adds(out, "authentication required (set ARC_API_TOKEN)");
	else if (r->status == 403)
		arc_buf_adds(out, "permission denied (the token needs admin)");
	else
		arc_buf_printf(out, "HTTP %ld", r->status);
	if ((o = json_tokener_parse(arc_buf_str((struct arc_buf *)&r->resp)))
	    != NULL) {
		if (json_object_object_get_ex(o, "error", &v) &&
		    json_object_is_type(v, json_type_string))
			arc_buf_printf(out, ": %s", json_object_get_string(v));
		json_object_put(o);
	}
}

struct dumpctx {
	struct arc_manifest *m;
	arc_entry_fn	 fn;
	void		*arg;
	uintmax_t	 base;	/* entries on earlier pages */
	uintmax_t	 n;
	const char	*page;	/* the page's name, for messages */
	struct arc_buf	 pos;	/* the greatest path so far, or the cursor */
};

static int
dump_entry(void *arg, struct arc_entry *e, uintmax_t line)
{
	struct dumpctx *d = arg;

	(void)line;
	/*
	 * Pages hold paths in order, each page after its cursor: a server
	 * that ignores the cursor, or gives a page again, is caught at its
	 * first entry, not after it has paged forever.
	 */
	if ((d->base > 0 || d->n > 0 || d->pos.len > 0) &&
	    arc_pathcmp(e->path, e->pathlen, d->pos.s ? d->pos.s : "",
	    d->pos.len) <= 0) {
		warnx("'%s': an entry that does not advance past the cursor "
		    "or the entry before it", d->page);
		return -1;
	}
	d->pos.len = 0;
	arc_buf_add(&d->pos, e->path, e->pathlen);
	d->n++;
	/* a line number means nothing here: number the entries instead */
	return d->fn(d->arg, e, d->base + d->n);
}

static int
api_dump(struct arc_manifest *m, arc_entry_fn fn, void *arg)
{
	struct arcapi *a = m->priv;
	struct arc_http_req r;
	struct arc_json_meta meta;
	struct arc_buf cursor = { 0 }, msg = { 0 }, name = { 0 };
	struct dumpctx d = { m, fn, arg, 0, 0, NULL, { 0 } };
	FILE *fp;
	long maxpages = arc_list_max_pages();
	int ret = -1, pages = 0;

	memset(&meta, 0, sizeof(meta));
	for (;;) {
		/* a backstop only: each page must move past the last */
		if (pages >= maxpages) {
			warnx("'%s': more than %ld pages (ARC_LIST_MAX_PAGES)",
			    m->spec, maxpages);
			break;
		}
		files_request(a, &r, cursor.s, cursor.len, m->database,
		    PAGE_LIMIT);
		arc_http_perform(a->http, &r);
		if (r.status != 200) {
			describe(m, &r, &msg);
			warnx("%s", msg.s);
			break;
		}
		name.len = 0;
		arc_buf_printf(&name, "%s page %d", m->spec, ++pages);
		if ((fp = fmemopen(r.resp.s, r.resp.len ? r.resp.len : 1,
		    "r")) == NULL)
			err(arc_errstatus, "fmemopen");
		d.base += d.n;
		d.n = 0;
		d.page = name.s;
		/* the entries must sort after the cursor, and the last entry */
		if (cursor.len > 0 && arc_pathcmp(cursor.s, cursor.len,
		    d.pos.s ? d.pos.s : "", d.pos.len) > 0) {
			d.pos.len = 0;
			arc_buf_add(&d.pos, cursor.s, cursor.len);
		}
		meta.bodies = 0;
		if (r.resp.len == 0 || arc_json_entries_meta(fp, name.s,
		    dump_entry, &d, &meta) == -1) {
			if (r.resp.len == 0)
				warnx("'%s': empty answer", name.s);
			fclose(fp);
			break;
		}
		fclose(fp);
		if (meta.bodies != 1 || !meta.have_cursor) {
			warnx("'%s': not a paginated cluster files answer",
			    name.s);
			break;
		}
		if (meta.next_cursor.len == 0) {
			ret = 0;
			break;
		}
		/* the cursor must move forward, or the loop never ends */
		if (arc_pathcmp(meta.next_cursor.s, meta.next_cursor.len,
		    cursor.s ? cursor.s : "", cursor.len) <= 0) {
			warnx("'%s': next_cursor does not advance", name.s);
			break;
		}
		cursor.len = 0;
		arc_buf_add(&cursor, meta.next_cursor.s, meta.next_cursor.len);
		arc_http_req_free(&r);
	}
	arc_http_req_free(&r);
	arc_buf_free(&cursor);
	arc_buf_free(&msg);
	arc_buf_free(&name);
	arc_buf_free(&meta.next_cursor);
	arc_buf_free(&d.pos);
	return ret;
}

struct first {
	struct arc_buf	 path;
	char		*json;
	int		 seen;
};

static int
first_entry(void *arg, struct arc_entry *e, uintmax_t line)
{
	struct first *f = arg;

	(void)line;
	if (f->seen++)
		return 0;
	arc_buf_add(&f->path, e->path, e->pathlen);
	f->json = arc_estrdup(json_object_to_json_string_ext(e->json,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	return 0;
}

/*
 * Look each path up live: the first entry after a cursor below the path.
 * A key between the cursor and the path moves the cursor on, a bounded
 * number of times.
 */
static int
lookup_or_fetch(struct arc_manifest *m, struct arc_mitem *items, size_t n,
    int fetch)
{
	struct arcapi *a = m->priv;
	struct arc_http_req *rv, **rp;
	struct arc_buf *cur, msg = { 0 };
	size_t i, k, *idx;
	int round, ret = 0, c;

	rv = arc_ecalloc(n, sizeof(*rv));
	rp = arc_ecalloc(n, sizeof(*rp));
	idx = arc_ecalloc(n, sizeof(*idx));
	cur = arc_ecalloc(n, sizeof(*cur));
	for (i = 0; i < n; i++) {
		items[i].result = -1;
		arc_buf_add(&cur[i], items[i].path, items[i].pathlen - 1);
	}
	for (round = 0; round < LOOKUP_ROUNDS; round++) {
		for (i = k = 0; i < n; i++) {
			if (items[i].result != -1)
				continue;
			files_request(a, &rv[i], cur[i].s ? cur[i].s : "",
			    cur[i].len, NULL, 1);
			idx[k] = i;
			rp[k++] = &rv[i];
		}
		if (k == 0)
			break;
		arc_http_perform_many(a->http, rp, k, LOOKUP_JOBS);
		for (i = 0; i < k; i++) {
			struct arc_mitem *it = &items[idx[i]];
			struct first f = { { 0 }, NULL, 0 };
			struct arc_json_meta meta;
			FILE *fp;

			if (rp[i]->status != 200 || rp[i]->resp.len == 0 ||
			    (fp = fmemopen(rp[i]->resp.s, rp[i]->resp.len,
			    "r")) == NULL) {
				describe(m, rp[i], &msg);
				warnx("%s", msg.s);
				it->result = ARC_UNKNOWN;
				arc_http_req_free(rp[i]);
				continue;
			}
			memset(&meta, 0, sizeof(meta));
			/*
			 * Only a paginated files answer says anything: an
			 * empty page that names a next cursor is not the end,
			 * and a body without next_cursor is not a page.
			 */
			if (arc_json_entries_meta(fp, m->spec, first_entry, &f,
			    &meta) == -1)
				it->result = ARC_UNKNOWN;
			else if (meta.bodies != 1 || !meta.have_cursor) {
				warnx("'%s': not a paginated cluster files "
				    "answer", m->spec);
				it->result = ARC_UNKNOWN;
			} else if (!f.seen && meta.next_cursor.len > 0) {
				if (arc_pathcmp(meta.next_cursor.s,
				    meta.next_cursor.len, cur[idx[i]].s ?
				    cur[idx[i]].s : "", cur[idx[i]].len) <= 0) {
					warnx("'%s': next_cursor does not "
					    "advance", m->spec);
					it->result = ARC_UNKNOWN;
				} else if (arc_pathcmp(meta.next_cursor.s,
				    meta.next_cursor.len, it->path,
				    it->pathlen) >= 0) {
					/* the path itself may be on the
					 * page after it: say so, unknown */
					warnx("'%s': an empty page that "
					    "names a next cursor", m->spec);
					it->result = ARC_UNKNOWN;
				} else {
					cur[idx[i]].len = 0;
					arc_buf_add(&cur[idx[i]],
					    meta.next_cursor.s,
					    meta.next_cursor.len);
				}
			} else if (!f.seen)
				it->result = ARC_ABSENT;
			else if ((c = arc_pathcmp(f.path.s, f.path.len, it->path,
			    it->pathlen)) == 0) {
				it->result = ARC_PRESENT;
				if (fetch) {
					it->json = f.json;
					f.json = NULL;
				}
			} else if (c > 0)
				it->result = ARC_ABSENT;
			else if (arc_pathcmp(f.path.s, f.path.len,
			    cur[idx[i]].s ? cur[idx[i]].s : "",
			    cur[idx[i]].len) <= 0) {
				/* not after the cursor: it was ignored */
				warnx("'%s': an entry that does not advance past "
				    "the cursor", m->spec);
				it->result = ARC_UNKNOWN;
			} else {	/* below the path: move on from there */
				cur[idx[i]].len = 0;
				arc_buf_add(&cur[idx[i]], f.path.s, f.path.len);
			}
			fclose(fp);
			arc_buf_free(&f.path);
			arc_buf_free(&meta.next_cursor);
			free(f.json);
			arc_http_req_free(rp[i]);
		}
	}
	for (i = 0; i < n; i++) {
		if (items[i].result == -1)
			items[i].result = ARC_UNKNOWN;
		if (items[i].result == ARC_UNKNOWN)
			ret = -1;
		arc_buf_free(&cur[i]);
	}
	free(rv);
	free(rp);
	free(idx);
	free(cur);
	arc_buf_free(&msg);
	return ret;
}

static int
api_lookup(struct arc_manifest *m, struct arc_mitem *items, size_t n)
{
	return lookup_or_fetch(m, items, n, 0);
}

static int
api_fetch(struct arc_manifest *m, struct arc_mitem *items, size_t n)
{
	return lookup_or_fetch(m, items, n, 1);
}

/* Write line and its newline at offset off of fd, and sync; -1 on error. */
static int
put_line(int fd, off_t off, const char *line, size_t n)
{
	struct arc_buf b = { 0 };
	int r;

	arc_buf_add(&b, line, n);
	arc_buf_addc(&b, '\n');
	r = lseek(fd, off, SEEK_SET) == -1 || arc_write_full(fd, b.s, b.len) ||
	    fsync(fd) == -1 ? -1 : 0;
	arc_buf_free(&b);
	return r;
}

/*
 * Append line to the deferred file, whole or not at all.  The file is
 * the run's own: the first batch writes it beside its name and puts it
 * in place only when nothing is there (a planted link or a file left
 * from before is refused, never followed, appended to or replaced);
 * later batches append to that same open file, and a failed append is
 * cut back to the last whole line.
 */
static int
defer_line(struct arcapi *a, const char *path, const char *line,
    struct arc_buf *eb)
{
	size_t n = strlen(line);
	char *tmp;
	int fd, e;

	if (!a->dopen) {
		if ((fd = arc_open_tmp(path, &tmp)) == -1) {
			arc_buf_printf(eb, "cannot write '%s': %s", path,
			    strerror(errno));
			return -1;
		}
		if (put_line(fd, 0, line, n) == -1 ||
		    arc_put_tmp(tmp, path, 1) == -1) {
			e = errno;
			close(fd);
			unlink(tmp);	/* made by mkostemp just now */
			free(tmp);
			if (e == EEXIST)
				arc_buf_printf(eb, "cannot write '%s': it "
				    "exists already and is not replaced", path);
			else
				arc_buf_printf(eb, "cannot write '%s': %s",
				    path, strerror(e));
			return -1;
		}
		free(tmp);
		a->dopen = 1;
		a->dfd = fd;
		a->dlen = (off_t)n + 1;
		return 0;
	}
	if (put_line(a->dfd, a->dlen, line, n) == -1) {
		e = errno;
		(void)ftruncate(a->dfd, a->dlen);	/* our own file */
		(void)fsync(a->dfd);
		arc_buf_printf(eb, "cannot write '%s': %s", path, strerror(e));
		return -1;
	}
	a->dlen += (off_t)n + 1;
	return 0;
}

/*
 * Arc's manifest is read-only from outside: append the batch as one
 * BatchFileOpsPayload line to the deferred file, durably.
 */
static int
api_remove(struct arc_manifest *m, struct arc_mitem *items, size_t n,
    struct arc_buf *eb)
{
	struct json_object *batch, *ops, *op, *pl;
	struct arc_buf b64 = { 0 };
	const char *line, *js;
	size_t i;
	int r = -1;

	eb->len = 0;
	for (i = 0; i < n; i++)
		items[i].result = ARC_M_FAILED;
	if (m->deferred == NULL) {
		arc_buf_adds(eb, "Arc's manifest is read-only: name a file for "
		    "the deferred deletes (--deferred)");
		return -1;
	}
	batch = json_object_new_object();
	ops = json_object_new_array();
	for (i = 0; i < n; i++) {
		pl = json_object_new_object();
		json_object_object_add(pl, "path", arc_json_path(items[i].path,
		    items[i].pathlen));
		json_object_object_add(pl, "reason",
		    json_object_new_string("reconcile-orphan-manifest"));
		js = json_object_to_json_string_ext(pl, JSON_C_TO_STRING_PLAIN |
		    JSON_C_TO_STRING_NOSLASHESCAPE);
		b64.len = 0;
		arc_base64_encode(&b64, js, strlen(js));	/* Go's []byte */
		op = json_object_new_object();
		json_object_object_add(op, "type",
		    json_object_new_int(OP_DELETE_FILE));
		json_object_object_add(op, "payload",
		    json_object_new_string(b64.s));
		json_object_array_add(ops, op);
		json_object_put(pl);
	}
	json_object_object_add(batch, "ops", ops);
	line = json_object_to_json_string_ext(batch, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE);
	if (defer_line(m->priv, m->deferred, line, eb) == 0) {
		for (i = 0; i < n; i++)
			items[i].result = ARC_M_DEFERRED;
		r = 0;
	}
	json_object_put(batch);
	arc_buf_free(&b64);
	return r;
}

static int
api_restore(struct arc_manifest *m, FILE *fp, struct arc_buf *eb)
{
	(void)m;
	(void)fp;
	eb->len = 0;
	arc_buf_adds(eb, "Arc's manifest is read-only from outside: register "
	    "the archived entries (manifest-entries.ndjson) through Arc");
	return -1;
}

/*
 * For the estimate: a look-up is at least a GET per path (a cursor that
 * moves on takes more); a removal is deferred, sending nothing and
 * removing nothing.
 */
static size_t
api_cost(struct arc_manifest *m, int op, size_t n)
{
	(void)m;
	if (op == ARC_COST_LOOKUP)
		arc_requests_would(ARC_REQ_GET, n);
	return 0;
}

const struct arc_manifest_ops arc_manifest_arcapi = {
	.scheme = "arc+http arc+https",
	.open = api_open,
	.dump = api_dump,
	.lookup = api_lookup,
	.fetch = api_fetch,
	.remove = api_remove,
	.restore = api_restore,
	.close = api_close,
	.cost = api_cost,
};
