/*
 * objstore.c - the engine of the HTTP object stores (s3.c, azure.c).
 *
 * What every object store does the same way is done here once: the
 * prefix as a folder, parallel HEADs that fill arc_stat from headers,
 * deletes with a result per key and the key-by-key fallback, downloads
 * and uploads, messages for failed requests.  Requests go through the
 * one HTTP layer (http.c) and its retry policy.  What is a service's own
 * is asked of it through its struct arc_objstore_ops: the request for a
 * key (URL, signature), which 404 means "absent", batched deletes, and
 * whether its container is there at all.
 *
 * "Absent" is only ever what the service says a missing object looks
 * like: 403, 5xx, a timeout or any other 404 is unknown, never missing.
 */
#include <err.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "arc_priv.h"

/*
 * The prefix after the container's name (slash: its '/', or NULL) is a
 * folder: "x" and "x/" both mean "x/".  -1 when it is not a safe path.
 */
int
arc_os_prefix(struct arc_objstore *os, const char *url, const char *slash)
{
	struct arc_buf b = { 0 };

	if (slash != NULL) {
		arc_buf_adds(&b, slash + 1);
		while (b.len > 0 && b.s[b.len - 1] == '/')
			b.s[--b.len] = '\0';
		if (b.len > 0) {
			if (arc_path_unsafe(b.s, b.len) != NULL) {
				warnx("'%s': invalid prefix", url);
				arc_buf_free(&b);
				return -1;
			}
			arc_buf_addc(&b, '/');
		}
	}
	os->prefix = arc_estrdup(b.len ? b.s : "");
	os->prefixlen = strlen(os->prefix);
	arc_buf_free(&b);
	return 0;
}

void
arc_os_free(struct arc_objstore *os)
{
	arc_http_free(os->http);
	free(os->prefix);
	free(os->name);
}

struct oserr {
	struct arc_buf	 code, message;
	int		 oneline;
};

static int
error_field(void *arg, const char *path, const char *text, size_t n)
{
	struct oserr *e = arg;

	if (strcmp(path, "Error/Code") == 0)
		arc_buf_add(&e->code, text, n);
	else if (strcmp(path, "Error/Message") == 0)
		arc_buf_add(&e->message, text, e->oneline &&
		    strcspn(text, "\r\n") < n ? strcspn(text, "\r\n") : n);
	return 0;
}

static void
read_error(const struct arc_http_req *r, struct oserr *e)
{
	struct arc_buf xe = { 0 };

	if (r->resp.len > 0)
		arc_xml_parse(r->resp.s, r->resp.len, NULL, error_field, e,
		    &xe);
	arc_buf_free(&xe);
}

/* "OP 'what': LABEL error CODE: MESSAGE (HTTP n)", or the transport error. */
void
arc_os_describe(struct arc_objstore *os, const struct arc_http_req *r,
    const char *op, const char *what, struct arc_buf *out)
{
	const struct arc_objstore_ops *o = os->ops;
	struct oserr e = { { 0 }, { 0 }, o->oneline };
	struct arc_buf code = { 0 };

	out->len = 0;
	arc_buf_printf(out, "%s '%s': ", op, what);
	if (r->status == 0) {
		if (o->redact != NULL)
			o->redact(out, r->err);
		else
			arc_buf_adds(out, r->err);
		arc_buf_printf(out, " (after %d attempts)", r->attempts);
		return;
	}
	read_error(r, &e);
	if (e.code.len > 0)
		arc_buf_printf(out, "%s error %s: %s (HTTP %ld)", o->label,
		    arc_buf_str(&e.code), arc_buf_str(&e.message), r->status);
	else if (o->codehdr != NULL &&
	    arc_http_header(r, o->codehdr, &code) == 0)
		arc_buf_printf(out, "%s error %s (HTTP %ld)", o->label, code.s,
		    r->status);
	else
		arc_buf_printf(out, "HTTP %ld", r->status);
	if (r->attempts > 1)
		arc_buf_printf(out, " after %d attempts", r->attempts);
	arc_buf_free(&e.code);
	arc_buf_free(&e.message);
	arc_buf_free(&code);
}

/* Whether an error answer's body carries the error code. */
int
arc_os_code(const struct arc_http_req *r, const char *code)
{
	struct oserr e = { { 0 }, { 0 }, 0 };
	int yes;

	read_error(r, &e);
	yes = e.code.len > 0 && strcmp(e.code.s, code) == 0;
	arc_buf_free(&e.code);
	arc_buf_free(&e.message);
	return yes;
}

/*
 * A listing page that failed: 0 if it did not.  A refusal (wrong
 * credentials, no such container) is an error (-2); a server that kept
 * failing makes the listing partial (-1).
 */
int
arc_os_list_failed(struct arc_objstore *os, const struct arc_http_req *r,
    const char *what, struct arc_buf *msg)
{
	if (r->status == 200)
		return 0;
	arc_os_describe(os, r, "list", what, msg);
	return r->status >= 400 && r->status < 500 && r->status != 429 ?
	    -2 : -1;
}

struct pagectx {
	const struct arc_ospaths *x;
	struct arc_ospage	*p;
};

static int
is(const char *path, const char *name)
{
	return name != NULL && strcmp(path, name) == 0;
}

static int
page_field(void *arg, const char *path, const char *text, size_t n)
{
	struct pagectx *c = arg;
	const struct arc_ospaths *x = c->x;
	struct arc_ospage *p = c->p;
	struct arc_buf *f = NULL;
	size_t rl = strlen(x->root);

	if (strncmp(path, x->root, rl) != 0) {
		p->bad = 1;
		return -1;
	}
	path += rl;
	if (is(path, x->key))
		f = &p->key;
	else if (is(path, x->mtime))
		f = &p->mtime;
	else if (is(path, x->size))
		f = &p->size;
	else if (is(path, x->token))
		f = &p->token;
	if (f != NULL) {
		f->len = 0;
		arc_buf_add(f, text, n);
	} else if (is(path, x->object)) {
		if (p->key.len == 0)
			p->bad = 1;
		arc_buf_add(&p->objs, p->key.s ? p->key.s : "", p->key.len);
		arc_buf_addc(&p->objs, '\0');
		arc_buf_add(&p->objs, p->mtime.s ? p->mtime.s : "",
		    p->mtime.len);
		arc_buf_addc(&p->objs, '\0');
		arc_buf_add(&p->objs, p->size.s ? p->size.s : "", p->size.len);
		arc_buf_addc(&p->objs, '\0');
		p->nobjs++;
		p->key.len = p->mtime.len = p->size.len = 0;
	} else if (is(path, x->truncated))
		p->truncated = n == 4 && memcmp(text, "true", 4) == 0;
	else if (is(path, x->encoding))
		p->urlenc = n == 3 && memcmp(text, "url", 3) == 0;
	else if (is(path, x->dir)) {
		arc_buf_add(&p->dirs, text, n);
		arc_buf_addc(&p->dirs, '\0');
		p->ndirs++;
	}
	return 0;
}

/*
 * Read a listing page's answer into p: 0, or what failed (as
 * arc_os_list_failed: -2 a refusal, -1 otherwise) said in msg.
 */
int
arc_os_page_read(struct arc_objstore *os, const struct arc_http_req *r,
    const struct arc_ospaths *x, const char *what, struct arc_ospage *p,
    struct arc_buf *msg)
{
	struct pagectx c = { x, p };
	struct arc_buf eb = { 0 };
	int ret;

	memset(p, 0, sizeof(*p));
	if ((ret = arc_os_list_failed(os, r, what, msg)) == 0 &&
	    (arc_xml_parse(r->resp.s, r->resp.len, x->ns, page_field, &c,
	    &eb) == -1 || p->bad)) {
		arc_buf_printf(msg, "list '%s': %s", what, p->bad ?
		    x->answer : arc_buf_str(&eb));
		ret = -1;
	}
	arc_buf_free(&eb);
	return ret;
}

void
arc_os_page_free(struct arc_ospage *p)
{
	arc_buf_free(&p->key);
	arc_buf_free(&p->mtime);
	arc_buf_free(&p->size);
	arc_buf_free(&p->token);
	arc_buf_free(&p->objs);
	arc_buf_free(&p->dirs);
}

void
arc_os_pager(struct arc_store *st, struct arc_pager *pg, int flags,
    arc_list_fn fn, void *arg)
{
	struct arc_objstore *os = st->priv;

	memset(pg, 0, sizeof(*pg));
	pg->flags = flags;
	pg->fn = fn;
	pg->arg = arg;
	pg->name = os->name;
	pg->shard = &st->shard;
}

/*
 * One lister for each -p prefix (none for a prefix that holds only
 * other shards' paths); -1 when one is not a safe path.
 */
int
arc_os_listers(struct arc_objstore *os, struct arc_pager *pg,
    char **prefixes, size_t np)
{
	struct arc_buf key = { 0 };
	size_t i, n;

	for (i = 0; i < np; i++) {
		n = strlen(prefixes[i]);
		while (n > 0 && prefixes[i][n - 1] == '/')
			n--;
		if (arc_path_unsafe(prefixes[i], n) != NULL) {
			warnx("'%s': invalid prefix", prefixes[i]);
			arc_buf_free(&key);
			return -1;
		}
		key.len = 0;
		arc_buf_add(&key, os->prefix, os->prefixlen);
		arc_buf_add(&key, prefixes[i], n);
		arc_buf_addc(&key, '/');
		arc_pager_prefix(pg, key.s, key.len, os->prefixlen);
	}
	arc_buf_free(&key);
	return 0;
}

/* A size in decimal, -1 if it is not one. */
int64_t
arc_os_size(const char *s, size_t n)
{
	int64_t v = 0;
	size_t i;

	if (n == 0 || n > 18)
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* An HTTP date, ARC_TIME_UNKNOWN if it is not one. */
int64_t
arc_os_time(const char *s)
{
	time_t t = curl_getdate(s, NULL);

	return t == -1 ? ARC_TIME_UNKNOWN : (int64_t)t;
}

static void
fill_stat(const struct arc_http_req *r, struct arc_stat *st,
    struct arc_buf *etag)
{
	struct arc_buf v = { 0 };

	st->mtime = ARC_TIME_UNKNOWN;
	st->size = -1;
	st->regular = 1;
	if (arc_http_header(r, "last-modified", &v) == 0)
		st->mtime = arc_os_time(v.s);
	if (arc_http_header(r, "content-length", &v) == 0)
		st->size = arc_os_size(v.s, v.len);
	if (etag != NULL) {
		etag->len = 0;
		if (arc_http_header(r, "etag", &v) == 0)
			arc_buf_add(etag, v.s, v.len);
		arc_buf_str(etag);
	}
	arc_buf_free(&v);
}

static int
ready(struct arc_objstore *os, struct arc_buf *eb)
{
	return os->ops->ready != NULL ? os->ops->ready(os, eb) : 0;
}

void
arc_os_stat_many(struct arc_store *st, struct arc_sitem *items, size_t n,
    int jobs)
{
	struct arc_objstore *os = st->priv;
	struct arc_http_req *rv, **rp;
	struct arc_buf eb = { 0 };
	size_t i;

	if (ready(os, &eb) == -1) {
		for (i = 0; i < n; i++) {
			items[i].presence = ARC_UNKNOWN;
			items[i].err.len = 0;
			arc_buf_add(&items[i].err, eb.s, eb.len);
		}
		arc_buf_free(&eb);
		return;
	}
	rv = arc_ecalloc(n, sizeof(*rv));
	rp = arc_ecalloc(n, sizeof(*rp));
	for (i = 0; i < n; i++) {
		os->ops->request(os, &rv[i], "HEAD", items[i].path,
		    items[i].pathlen, NULL, 0);
		rp[i] = &rv[i];
	}
	arc_http_perform_many(os->http, rp, n, jobs);
	for (i = 0; i < n; i++) {
		/* only what the service calls absent: anything else unknown */
		if (rv[i].status == 200) {
			items[i].presence = ARC_PRESENT;
			fill_stat(&rv[i], &items[i].st, &items[i].etag);
		} else if (os->ops->absent(&rv[i], 0))
			items[i].presence = ARC_ABSENT;
		else {
			items[i].presence = ARC_UNKNOWN;
			arc_os_describe(os, &rv[i], "HEAD", items[i].path,
			    &items[i].err);
		}
		arc_http_req_free(&rv[i]);
	}
	free(rv);
	free(rp);
}

int
arc_os_stat(struct arc_store *st, const char *p, size_t n,
    struct arc_stat *out, struct arc_buf *eb)
{
	struct arc_sitem it;

	memset(&it, 0, sizeof(it));
	it.path = p;
	it.pathlen = n;
	arc_os_stat_many(st, &it, 1, 1);
	*out = it.st;
	eb->len = 0;
	if (it.err.len)
		arc_buf_add(eb, it.err.s, it.err.len);
	arc_buf_free(&it.err);
	arc_buf_free(&it.etag);
	return it.presence;
}

/* A DELETE each for the items not settled yet (removal < 0). */
static void
delete_each(struct arc_objstore *os, struct arc_sitem *items, size_t n,
    int jobs)
{
	struct arc_http_req *rv, **rp;
	size_t i, k = 0;

	rv = arc_ecalloc(n, sizeof(*rv));
	rp = arc_ecalloc(n, sizeof(*rp));
	for (i = 0; i < n; i++) {
		if (items[i].removal >= 0)
			continue;
		os->ops->request(os, &rv[i], "DELETE", items[i].path,
		    items[i].pathlen, items[i].if_match, 0);
		rv[i].arg = &items[i];
		rp[k++] = &rv[i];
	}
	arc_http_perform_many(os->http, rp, k, jobs);
	for (i = 0; i < k; i++) {
		struct arc_sitem *it = rp[i]->arg;

		if (rp[i]->status == os->ops->delete_ok ||
		    rp[i]->status == 200)
			it->removal = ARC_REMOVED;
		else if (os->ops->absent(rp[i], 1))
			it->removal = ARC_GONE;
		else if (rp[i]->status == 412)
			it->removal = ARC_REMOVE_CHANGED;
		else {
			it->removal = ARC_REMOVE_FAILED;
			arc_os_describe(os, rp[i], "DELETE", it->path,
			    &it->err);
		}
		arc_http_req_free(rp[i]);
	}
	free(rv);
	free(rp);
}

/*
 * The service's batched deletes first; what they did not settle (a
 * group that failed as a whole, keys a batch cannot carry, conditional
 * deletes where the service batches none) goes key by key.
 */
void
arc_os_remove_many(struct arc_store *st, struct arc_sitem *items, size_t n,
    int jobs)
{
	struct arc_objstore *os = st->priv;
	struct arc_buf eb = { 0 };
	size_t i;

	for (i = 0; i < n; i++)
		items[i].removal = -1;
	if (ready(os, &eb) == -1) {
		for (i = 0; i < n; i++) {
			items[i].removal = ARC_REMOVE_FAILED;
			items[i].err.len = 0;
			arc_buf_add(&items[i].err, eb.s, eb.len);
		}
		arc_buf_free(&eb);
		return;
	}
	if (os->ops->batch != NULL)
		os->ops->batch(os, items, n);
	delete_each(os, items, n, jobs);
}

int
arc_os_remove(struct arc_store *st, const char *p, size_t n,
    struct arc_buf *eb)
{
	struct arc_sitem it;

	memset(&it, 0, sizeof(it));
	it.path = p;
	it.pathlen = n;
	it.removal = -1;
	delete_each(st->priv, &it, 1, 1);
	eb->len = 0;
	if (it.err.len)
		arc_buf_add(eb, it.err.s, it.err.len);
	arc_buf_free(&it.err);
	return it.removal;
}

int
arc_os_get(struct arc_store *st, const char *p, size_t n, int fd,
    struct arc_stat *out, struct arc_buf *eb)
{
	struct arc_objstore *os = st->priv;
	struct arc_http_req r;
	int ret;

	if (ready(os, eb) == -1)
		return ARC_UNKNOWN;
	os->ops->request(os, &r, "GET", p, n, NULL, 0);
	r.outfd = fd;
	arc_http_perform(os->http, &r);
	if (r.status == 200) {
		fill_stat(&r, out, NULL);
		ret = ARC_PRESENT;
	} else if (os->ops->absent(&r, 0))
		ret = ARC_ABSENT;
	else {
		arc_os_describe(os, &r, "GET", p, eb);
		ret = ARC_UNKNOWN;
	}
	arc_http_req_free(&r);
	return ret;
}

/*
 * Upload, never over an existing object: HEAD first, and the service's
 * request says If-None-Match too.  The service sets the modification
 * time itself: mtime is not sent.
 */
int
arc_os_put(struct arc_store *st, const char *p, size_t n, int fd,
    int64_t mtime, struct arc_buf *eb)
{
	struct arc_objstore *os = st->priv;
	struct arc_http_req r;
	struct arc_stat sb;
	const char *why;
	off_t len;
	int ret = -1;

	(void)mtime;
	/* checked by arc_store_put too: a write never leaves the prefix */
	if ((why = arc_path_unsafe(p, n)) != NULL) {
		eb->len = 0;
		arc_buf_adds(eb, why);
		return -1;
	}
	switch (arc_os_stat(st, p, n, &sb, eb)) {
	case ARC_ABSENT:
		break;
	case ARC_PRESENT:
		eb->len = 0;
		arc_buf_adds(eb, os->ops->exists);
		return -1;
	default:
		return -1;
	}
	if ((len = lseek(fd, 0, SEEK_END)) == -1) {
		eb->len = 0;
		arc_buf_adds(eb, "cannot read the archived content");
		return -1;
	}
	os->ops->request(os, &r, "PUT", p, n, NULL, len);
	r.infd = fd;
	r.inlen = len;
	arc_http_perform(os->http, &r);
	if (r.status == os->ops->put_ok)
		ret = 0;
	else
		arc_os_describe(os, &r, "PUT", p, eb);
	arc_http_req_free(&r);
	return ret;
}
