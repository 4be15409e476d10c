/*
 * objstore.c - the engine of the HTTP object stores (s3.c, azure.c).
 *
 * What every object store does the same way is done here once: the
 * container's name and the prefix as a folder, listing pages read and
 * their keys emitted, parallel HEADs that fill arc_stat from headers,
 * batched deletes with a result per key and the key-by-key fallback,
 * downloads and uploads, messages for failed requests.  Requests go
 * through the one HTTP layer (http.c) and its retry policy.  What is a
 * service's own is asked of it through its struct arc_objstore_ops and
 * struct arc_oslisting: the request for a key or a page (URL,
 * signature), where its answers say what, how a batch of deletes is
 * sent and read, and whether its container is there at all.
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
static int
set_prefix(struct arc_objstore *os, const char *url, const char *slash)
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

/*
 * Start opening a store of the service: rest is NAME[/PREFIX], NAME 3 to
 * 63 of the bytes the service allows.  The length of NAME, or -1 after
 * a message; arc_os_free frees what was set either way.
 */
int
arc_os_open(struct arc_objstore *os, const struct arc_objstore_ops *ops,
    struct arc_store *st, const char *rest)
{
	const char *slash = strchr(rest, '/');
	size_t n = slash ? (size_t)(slash - rest) : strlen(rest);

	os->ops = ops;
	if (n < 3 || n > 63 || strspn(rest, ops->chars) < n) {
		warnx("'%s': invalid %s name", st->url, ops->container);
		return -1;
	}
	if (set_prefix(os, st->url, slash) == -1)
		return -1;
	if (asprintf(&os->name, "%s://%.*s/", ops->scheme, (int)n, rest) == -1)
		err(arc_errstatus, "asprintf");
	return (int)n;
}

/* The service is set up: the store is ready for use. */
void
arc_os_opened(struct arc_objstore *os, struct arc_store *st)
{
	os->http = arc_http_new();
	st->priv = os;
	st->unordered = 1;	/* parallel listers: a listing needs sorting */
}

/* Append "/PREFIX/PATH", percent-encoded: an object's URL path. */
void
arc_os_path(struct arc_objstore *os, struct arc_buf *b, const char *path,
    size_t n)
{
	arc_buf_addc(b, '/');
	arc_http_escape(b, os->prefix, os->prefixlen, 1);
	arc_http_escape(b, path, n, 1);
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
static int
list_failed(struct arc_objstore *os, const struct arc_http_req *r,
    const char *what, struct arc_buf *msg)
{
	if (r->status == 200)
		return 0;
	arc_os_describe(os, r, "list", what, msg);
	return r->status >= 400 && r->status < 500 && r->status != 429 ?
	    -2 : -1;
}

/* The paths of struct arc_ospaths below the root, in page.len[]. */
enum { F_KEY, F_MTIME, F_SIZE, F_TOKEN, F_OBJECT, F_TRUNCATED,
    F_ENCODING, F_DIR, F_N };

/* A listing page: its objects and prefixes, read by the paths below. */
struct page {
	const struct arc_ospaths *x;
	struct arc_buf	 key, mtime, size, token;
	struct arc_buf	 objs;		/* key \0 mtime \0 size \0 ... */
	size_t		 nobjs;
	struct arc_buf	 dirs;		/* prefixes, each ending in \0 */
	size_t		 ndirs;
	int		 truncated;
	int		 urlenc;	/* keys come percent-encoded */
	int		 bad;
	size_t		 rootlen;	/* strlen(x->root), asked every element */
	size_t		 len[F_N];	/* strlen of each path (0: NULL) */
};

static const char *
field(const struct arc_ospaths *x, int f)
{
	switch (f) {
	case F_KEY: return x->key;
	case F_MTIME: return x->mtime;
	case F_SIZE: return x->size;
	case F_TOKEN: return x->token;
	case F_OBJECT: return x->object;
	case F_TRUNCATED: return x->truncated;
	case F_ENCODING: return x->encoding;
	default: return x->dir;
	}
}

/* Which of the paths path (n bytes) is, or F_N: lengths first. */
static int
which(const struct page *p, const char *path, size_t n)
{
	const char *name;
	int f;

	for (f = 0; f < F_N; f++)
		if (p->len[f] == n && (name = field(p->x, f)) != NULL &&
		    memcmp(path, name, n) == 0)
			return f;
	return F_N;
}

static int
page_field(void *arg, const char *path, const char *text, size_t n)
{
	struct page *p = arg;
	struct arc_buf *f = NULL;
	size_t rl = p->rootlen, plen;
	int w;

	if (path == NULL) {	/* read again from the start (arc_xml_scan) */
		p->key.len = p->mtime.len = p->size.len = p->token.len = 0;
		p->objs.len = p->dirs.len = 0;
		p->nobjs = p->ndirs = 0;
		p->truncated = p->urlenc = p->bad = 0;
		return 0;
	}
	if (strncmp(path, p->x->root, rl) != 0) {
		p->bad = 1;
		return -1;
	}
	path += rl;
	plen = strlen(path);
	switch ((w = which(p, path, plen))) {
	case F_KEY: f = &p->key; break;
	case F_MTIME: f = &p->mtime; break;
	case F_SIZE: f = &p->size; break;
	case F_TOKEN: f = &p->token; break;
	default: break;
	}
	if (f != NULL) {
		f->len = 0;
		arc_buf_add(f, text, n);
	} else if (w == F_OBJECT) {
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
	} else if (w == F_TRUNCATED)
		p->truncated = n == 4 && memcmp(text, "true", 4) == 0;
	else if (w == F_ENCODING)
		p->urlenc = n == 3 && memcmp(text, "url", 3) == 0;
	else if (w == F_DIR) {
		arc_buf_add(&p->dirs, text, n);
		arc_buf_addc(&p->dirs, '\0');
		p->ndirs++;
	}
	return 0;
}

static void
page_free(struct page *p)
{
	arc_buf_free(&p->key);
	arc_buf_free(&p->mtime);
	arc_buf_free(&p->size);
	arc_buf_free(&p->token);
	arc_buf_free(&p->objs);
	arc_buf_free(&p->dirs);
}

/*
 * Read a listing page's answer into p: 0, or what failed (as
 * list_failed: -2 a refusal, -1 otherwise) said in msg.  A page that
 * says there is more must say where it goes on, and not where it was.
 */
static int
page_read(struct arc_objstore *os, const struct arc_http_req *r,
    const struct arc_plister *l, const char *what, struct page *p,
    struct arc_buf *msg)
{
	const struct arc_ospaths *x = os->listing->paths;
	struct arc_buf eb = { 0 };
	int ret, f;

	memset(p, 0, sizeof(*p));
	p->x = x;
	p->rootlen = strlen(x->root);
	for (f = 0; f < F_N; f++)
		p->len[f] = field(x, f) ? strlen(field(x, f)) : 0;
	if ((ret = list_failed(os, r, what, msg)) == 0 &&
	    (arc_xml_scan(r->resp.s, r->resp.len, x->ns, page_field, p,
	    &eb) == -1 || p->bad)) {
		arc_buf_printf(msg, "list '%s': %s", what, p->bad ?
		    x->answer : arc_buf_str(&eb));
		ret = -1;
	}
	/* without an IsTruncated, a token says there is more */
	if (x->truncated == NULL)
		p->truncated = p->token.len > 0;
	if (ret == 0 && p->truncated && p->token.len == 0) {
		arc_buf_printf(msg, "list '%s': truncated page without a "
		    "continuation token", what);
		ret = -1;
	} else if (ret == 0 && p->truncated && l->token.len == p->token.len &&
	    memcmp(l->token.s, p->token.s, p->token.len) == 0) {
		arc_buf_printf(msg, "list '%s': the %s repeats", what,
		    x->marker);
		ret = -1;
	}
	arc_buf_free(&eb);
	return ret;
}

/*
 * The next name of a page's list at *o (objects: key, mtime, size), its
 * key decoded into dec when the page's keys are percent-encoded; -1 on
 * one that does not decode to a key.
 */
static int
next_name(const struct page *p, const char **o, struct arc_buf *dec,
    const char **key, size_t *n)
{
	*key = *o;
	*n = strlen(*key);
	*o += *n + 1;
	if (!p->urlenc)
		return 0;
	dec->len = 0;
	if (arc_http_unescape(dec, *key, *n, 1) == -1 ||
	    memchr(dec->s, '\0', dec->len) != NULL)
		return -1;
	*key = dec->s;
	*n = dec->len;
	return 0;
}

/*
 * An HTTP date, ARC_TIME_UNKNOWN if it is not one: Azure's listings,
 * HEAD answers and blob inventory reports.
 */
int64_t
arc_os_time(const char *s)
{
	time_t t = curl_getdate(s, NULL);

	return t == -1 ? ARC_TIME_UNKNOWN : (int64_t)t;
}

/* A page's objects: each checked, given to the listing, and emitted. */
static int
page_objects(struct arc_objstore *os, struct arc_pager *pg,
    struct arc_plister *l, const struct page *p, const char *what,
    int *end)
{
	const struct arc_oslisting *ls = os->listing;
	struct arc_buf dec = { 0 };
	const char *o = p->objs.s, *key, *mt, *sz;
	size_t i, n;
	int k, ret = 0;

	for (i = 0; i < p->nobjs; i++) {
		if (next_name(p, &o, &dec, &key, &n) == -1) {
			if (!pg->quiet)
				warnx("list '%s': a key that does not decode",
				    what);
			ret = -1;
			break;
		}
		mt = o;
		sz = o += strlen(o) + 1;
		o += strlen(o) + 1;
		if (arc_pager_key(l, key, n) == -1) {
			if (!pg->quiet)
				warnx("list '%s': %s", what, ls->paths->stuck);
			ret = -1;
			break;
		}
		if (ls->prefixes_only ||
		    n < os->prefixlen || memcmp(key, os->prefix, os->prefixlen))
			continue;
		k = ls->key != NULL ? ls->key(os, l, key, n) : ARC_OS_EMIT;
		if (k == ARC_OS_SKIP)
			continue;
		if (k != ARC_OS_EMIT) {
			*end = k;
			break;
		}
		arc_pager_emit(pg, key + os->prefixlen, n - os->prefixlen,
		    ls->mtime ? ls->mtime(mt, strlen(mt)) : arc_os_time(mt),
		    arc_os_size(sz, strlen(sz)));
	}
	arc_buf_free(&dec);
	return ret;
}

/*
 * A delimiter listing's prefixes: every one checked first, then each
 * given to the listing, until one makes the listing partial.
 */
static int
page_dirs(struct arc_objstore *os, struct arc_pager *pg,
    struct arc_plister *l, const struct page *p, const char *what)
{
	struct arc_buf dec = { 0 };
	const char *o, *key;
	size_t i, n;
	int ret = 0;

	for (o = p->dirs.s, i = 0; i < p->ndirs && ret == 0; i++)
		if (next_name(p, &o, &dec, &key, &n) == -1 ||
		    arc_pager_key(l, key, n) == -1)
			ret = -1;
	if (ret != 0 && !pg->quiet)
		warnx("list '%s': %s", what, os->listing->paths->stuck);
	for (o = p->dirs.s, i = 0; i < p->ndirs && ret == 0; i++) {
		next_name(p, &o, &dec, &key, &n);
		ret = os->listing->dir(os, pg, l, key, n);
	}
	arc_buf_free(&dec);
	return ret;
}

/*
 * A page of lister l arrived (the pager's page callback): its objects
 * are checked and emitted, a delimiter listing's prefixes given to the
 * listing, and l goes on from its token, or from where the listing's
 * key function left it, or is done.  0, or -1 / -2 as list_failed.
 */
int
arc_os_list_page(void *be, struct arc_pager *pg, struct arc_plister *l,
    struct arc_http_req *r)
{
	struct arc_objstore *os = be;
	struct page p;
	struct arc_buf msg = { 0 }, what = { 0 };
	int ret, end = ARC_OS_EMIT;

	arc_buf_printf(&what, "%s%s", os->name, l->prefix.s);
	if ((ret = page_read(os, r, l, what.s, &p, &msg)) != 0) {
		if (!pg->quiet)
			warnx("%s", arc_buf_str(&msg));
	} else if ((ret = page_objects(os, pg, l, &p, what.s, &end)) == 0 &&
	    l->delimiter && os->listing->dir != NULL)
		ret = page_dirs(os, pg, l, &p, what.s);
	if (ret == 0) {
		l->token.len = 0;
		if (end == ARC_OS_RESUME)
			;	/* the key function set where it resumes */
		else if (p.truncated && end == ARC_OS_EMIT && !l->done)
			arc_buf_add(&l->token, p.token.s, p.token.len);
		else
			l->done = 1;
	}
	page_free(&p);
	arc_buf_free(&msg);
	arc_buf_free(&what);
	return ret;
}

static void
list_request(void *be, struct arc_plister *l, struct arc_http_req *r)
{
	struct arc_objstore *os = be;

	os->listing->request(os, l, r);
}

static const struct arc_pager_ops list_ops = { list_request,
    arc_os_list_page };

/* Run the listers of pg, the listing ls reading their pages. */
int
arc_os_list_run(struct arc_objstore *os, struct arc_pager *pg,
    const struct arc_oslisting *ls, int jobs)
{
	os->listing = ls;
	return arc_pager_run(pg, os->http, &list_ops, os, jobs);
}

/*
 * A prefix a delimiter listing of l found (a listing's dir): its lister,
 * as the pager's shard wants it (arc_pager_found).  0, or -1 after a
 * warning.
 */
int
arc_os_dir(struct arc_objstore *os, struct arc_pager *pg,
    struct arc_plister *l, const char *name, size_t n)
{
	struct arc_plister *nl;

	return arc_pager_found(pg, l, name, n, os->prefixlen, &nl);
}

/*
 * Start listing st: pg set up for fn and st's shard, with one lister
 * for each -p prefix (none for a prefix that holds only other shards'
 * paths).  The jobs to run it with, or -1 when a prefix is not a safe
 * path.
 */
int
arc_os_list_start(struct arc_store *st, struct arc_pager *pg,
    char **prefixes, size_t np, int flags, arc_list_fn fn, void *arg)
{
	struct arc_objstore *os = st->priv;
	struct arc_buf key = { 0 };
	size_t i, n;

	memset(pg, 0, sizeof(*pg));
	pg->flags = flags;
	pg->fn = fn;
	pg->arg = arg;
	pg->name = os->name;
	pg->shard = &st->shard;
	pg->deadline = st->deadline;
	pg->cut = &st->cut;
	pg->accepted = &st->accepted;
	for (i = 0; i < np; i++) {
		n = strlen(prefixes[i]);
		while (n > 0 && prefixes[i][n - 1] == '/')
			n--;
		if (arc_path_unsafe(prefixes[i], n) != NULL) {
			warnx("'%s': invalid prefix", prefixes[i]);
			arc_buf_free(&key);
			arc_pager_free(pg);
			return -1;
		}
		key.len = 0;
		arc_buf_add(&key, os->prefix, os->prefixlen);
		arc_buf_add(&key, prefixes[i], n);
		arc_buf_addc(&key, '/');
		arc_pager_prefix(pg, key.s, key.len, os->prefixlen);
	}
	arc_buf_free(&key);
	return st->jobs > 0 ? st->jobs : 8;
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

/*
 * Only a 404 that carries the service's "no such object" code is absent.
 * A service that says its codes in a header says them on every answer;
 * one that says them only in the body cannot on a HEAD, and checks its
 * container first instead (ready), so that there every 404 but a
 * DELETE's is absent.
 */
static int
absent(struct arc_objstore *os, const struct arc_http_req *r, int deleting)
{
	struct arc_buf v = { 0 };
	int yes;

	if (r->status != 404)
		return 0;
	if (os->ops->codehdr == NULL)
		return !deleting || arc_os_code(r, os->ops->nokey);
	yes = arc_http_header(r, os->ops->codehdr, &v) == 0 &&
	    strcmp(v.s, os->ops->nokey) == 0;
	arc_buf_free(&v);
	return yes;
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
		} else if (absent(os, &rv[i], 0))
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
		else if (absent(os, rp[i], 1))
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
 * The service's batches of up to batch_max keys.  What a batch whose
 * answer was read left out failed; a batch that failed as a whole goes
 * key by key, and so does the rest when the service can send no batch.
 */
static void
batches(struct arc_objstore *os, struct arc_sitem *items, size_t n)
{
	const struct arc_objstore_ops *o = os->ops;
	size_t i, start, cnt;
	int rc;

	for (start = 0; start < n; start += cnt) {
		cnt = n - start < o->batch_max ? n - start : o->batch_max;
		if ((rc = o->batch(os, items + start, cnt)) == 1)
			break;
		for (i = start; i < start + cnt; i++) {
			if (rc != 0) {
				items[i].removal = -1;
				items[i].err.len = 0;
			} else if (items[i].removal == ARC_OS_PENDING) {
				items[i].removal = ARC_REMOVE_FAILED;
				items[i].err.len = 0;
				arc_buf_adds(&items[i].err, o->unreported);
			}
		}
	}
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
		batches(os, items, n);
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

/*
 * The estimate's side of stat_many (ARC_COST_STAT) and remove_many
 * (ARC_COST_REMOVE): the requests they would send for items, counted
 * as would-be requests.  The probe ready sends once is counted once.
 */
void
arc_os_cost(struct arc_store *st, int op, const struct arc_sitem *items,
    size_t n)
{
	struct arc_objstore *os = st->priv;
	const struct arc_objstore_ops *o = os->ops;
	size_t start, cnt, each = n;
	long k;

	if (n == 0)
		return;
	if (o->ready_cost != NULL && !os->ready_costed) {
		os->ready_costed = 1;
		if (o->ready_cost(os))
			arc_requests_would(ARC_REQ_HEAD, 1);
	}
	if (op == ARC_COST_STAT) {
		arc_requests_would(ARC_REQ_HEAD, n);
		return;
	}
	/* as batches() and delete_each() */
	for (start = 0; o->batch != NULL && o->batch_keys != NULL &&
	    start < n; start += cnt) {
		cnt = n - start < o->batch_max ? n - start : o->batch_max;
		if ((k = o->batch_keys(os, items + start, cnt)) < 0)
			break;
		if (k > 0) {
			arc_requests_would(ARC_REQ_BATCH, 1);
			each -= (size_t)k;
		}
	}
	arc_requests_would(ARC_REQ_DELETE, each);
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
	} else if (absent(os, &r, 0))
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
