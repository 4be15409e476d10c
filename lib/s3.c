/*
 * s3.c - the S3-compatible store: s3://BUCKET[/PREFIX].
 *
 * Configured as the AWS tools are (credentials, region, endpoint, which
 * implies path-style addressing, addressing style and CA bundle: see
 * awscred.c).  Requests are signed by libcurl (CURLOPT_AWS_SIGV4);
 * since it signs the query string and path verbatim, both are built here
 * already canonical (parameters sorted, values RFC 3986 encoded).
 * Listing pages, HEADs, GETs, PUTs and deletes go through the object-store
 * engine (objstore.c); this file builds and signs the requests and reads
 * what is S3's own: ListObjectsV2's paths, DeleteObjects' answer, and the
 * split points of a listing.  Credentials go to libcurl only: never to a
 * message, a log or a child's argv.
 *
 * PREFIX is a folder: s3://b/x and s3://b/x/ both mean the keys under
 * "x/", and paths are the keys with "x/" removed, byte for byte.
 */
#include <err.h>
#include <stdlib.h>
#include <string.h>

#include <unistd.h>

#include <curl/curl.h>
#include <openssl/evp.h>

#include "arc_priv.h"

#define S3NS		"http://s3.amazonaws.com/doc/2006-03-01/"
/* S3's namespace, and the one s3rver (a common test double) writes. */
static const char *const s3ns[] = {
	S3NS, "http://doc.s3.amazonaws.com/2006-03-01/", NULL
};
#define PAGE_KEYS	1000
#define DISCOVER_MAX	4000	/* top-level names used as split points */
/*
 * The rest lister skips a split point's keys by starting after the split
 * point followed by U+10FFFF, the greatest code point: one request past
 * nearly all of them.  Only a shortcut, not a bound: a key may hold
 * U+10FFFF itself and sort after it, and such a key is then read and
 * skipped like any other (see listed).
 */
#define SKIP_PAST	"\xf4\x8f\xbf\xbf"

static const struct arc_objstore_ops s3_osops;

struct s3 {
	struct arc_objstore os;		/* first: st->priv is both */
	char		*base;		/* bucket URL, no trailing '/' */
	char		*sigv4;
	struct arc_awscred *cred;	/* NULL: anonymous, as asked */
	char		*cainfo;
	int		 virtual;	/* bucket in the host name */
	int		 checked;	/* the bucket is known to exist */
	char		**hints;	/* split points of the listing */
	size_t		 nhints;
	char		**bounds;	/* -M bounds, sorted (a sharded listing) */
	size_t		 nbounds;
};

static void
s3_free(struct s3 *s)
{
	arc_os_free(&s->os);
	free(s->base);
	free(s->sigv4);
	arc_awscred_free(s->cred);
	free(s->cainfo);
	free(s);
}

/*
 * The bucket's URL: the endpoint's, or AWS's for the region; the bucket
 * in the path or, virtual-hosted, in the host name.
 */
static int
bucket_url(struct s3 *s, const struct arc_awsconf *conf, const char *bucket,
    int blen)
{
	struct arc_buf b = { 0 };
	const char *ep = conf->endpoint, *style = conf->style, *host = NULL;
	int elen, path_style = ep != NULL;

	if (style != NULL && strcmp(style, "path") == 0)
		path_style = 1;
	else if (style != NULL && strcmp(style, "virtual") == 0)
		path_style = 0;
	else if (style != NULL && strcmp(style, "auto") != 0) {
		warnx("'%s': AWS_S3_ADDRESSING_STYLE must be path or virtual",
		    style);
		return -1;
	}
	if (ep != NULL && (host = strstr(ep, "://")) == NULL) {
		warnx("'%s': the endpoint URL needs http:// or https://", ep);
		return -1;
	}
	if (ep != NULL) {
		host += 3;
		elen = (int)strlen(ep);
		while (elen > 0 && ep[elen - 1] == '/')
			elen--;
		if (path_style)
			arc_buf_printf(&b, "%.*s/%.*s", elen, ep, blen, bucket);
		else
			arc_buf_printf(&b, "%.*s%.*s.%.*s", (int)(host - ep),
			    ep, blen, bucket, elen - (int)(host - ep), host);
	} else if (path_style)
		arc_buf_printf(&b, "https://s3.%s.amazonaws.com/%.*s",
		    conf->region, blen, bucket);
	else
		arc_buf_printf(&b, "https://%.*s.s3.%s.amazonaws.com", blen,
		    bucket, conf->region);
	s->base = arc_estrdup(b.s);
	s->virtual = !path_style;
	arc_buf_free(&b);
	return 0;
}

static int
s3_open(struct arc_store *st, const char *rest)
{
	struct s3 *s = arc_ecalloc(1, sizeof(*s));
	struct arc_awsconf conf;
	int blen;

	if ((blen = arc_os_open(&s->os, &s3_osops, st, rest)) == -1)
		goto fail;
	/* no credentials is an error here: never an unsigned request */
	if (arc_awscred_open(&conf, &s->cred) == -1)
		goto fail;
	if (bucket_url(s, &conf, rest, blen) == -1) {
		arc_awsconf_free(&conf);
		goto fail;
	}
	if (s->cred != NULL && asprintf(&s->sigv4, "aws:amz:%s:s3",
	    conf.region) == -1)
		err(arc_errstatus, "asprintf");
	s->cainfo = conf.ca_bundle;
	conf.ca_bundle = NULL;
	arc_awsconf_free(&conf);
	arc_os_opened(&s->os, st);
	return 0;
fail:
	s3_free(s);
	return -1;
}

static void
s3_close(struct arc_store *st)
{
	s3_free(st->priv);
}

/* A request on the bucket (key NULL) or on one object (path relative). */
static void
request(struct s3 *s, struct arc_http_req *r, const char *method,
    const char *path, size_t n, const char *query, const char *payload_hash)
{
	struct arc_buf u = { 0 };

	arc_buf_adds(&u, s->base);
	if (path != NULL)
		arc_os_path(&s->os, &u, path, n);
	else if (s->virtual)
		arc_buf_addc(&u, '/');	/* the bucket is the host: its root */
	if (query != NULL) {
		arc_buf_addc(&u, '?');
		arc_buf_adds(&u, query);
	}
	arc_http_req_init(r, method, arc_estrdup(arc_buf_str(&u)));
	arc_buf_free(&u);
	if (s->cred != NULL)
		arc_awscred_sign(r, s->cred, s->sigv4);
	r->cainfo = s->cainfo;
	r->cavar = "AWS_CA_BUNDLE";
	/* libcurl does not add it; S3 wants it on every signed request */
	arc_http_add_header(r, "x-amz-content-sha256: %s",
	    payload_hash ? payload_hash : "UNSIGNED-PAYLOAD");
}

/* S3 times carry milliseconds: round up, never make a file look older. */
static int64_t
parse_s3_time(const char *s, size_t n)
{
	int64_t t;

	return arc_time_parse_ceil(s, n, &t) == -1 ? ARC_TIME_UNKNOWN : t;
}

/* ---- listing ---------------------------------------------------------- */

static const struct arc_ospaths s3_page = {
	.ns = s3ns, .root = "ListBucketResult",
	.answer = "not a ListObjectsV2 answer",
	.object = "/Contents", .key = "/Contents/Key",
	.mtime = "/Contents/LastModified", .size = "/Contents/Size",
	.dir = "/CommonPrefixes/Prefix", .encoding = "/EncodingType",
	.truncated = "/IsTruncated", .token = "/NextContinuationToken",
	.marker = "continuation token",
	.stuck = "a key that does not advance (the server ignored where the "
	    "page starts)",
};

/* A ListObjectsV2 page request, parameters in canonical order. */
static void
list_request(struct arc_objstore *os, struct arc_plister *l,
    struct arc_http_req *r)
{
	struct s3 *s = (struct s3 *)os;
	struct arc_buf q = { 0 };
	int max = arc_list_page_keys(PAGE_KEYS);

	/*
	 * The rest lister, not in the middle of a run of its own keys, is
	 * most likely at a split point another lister lists: a one-key probe
	 * finds out, instead of a full page the server builds for nothing.
	 * An uncovered key continues with full pages from its token.
	 */
	if (l->rest && l->token.len == 0 && s->nhints > 0)
		max = 1;
	if (l->token.len > 0) {
		arc_buf_adds(&q, "continuation-token=");
		arc_http_escape(&q, l->token.s, l->token.len, 0);
		arc_buf_addc(&q, '&');
	}
	if (l->delimiter)
		arc_buf_adds(&q, "delimiter=%2F&");
	/*
	 * Ask for encoded keys: XML 1.0 cannot carry most control bytes and
	 * turns CR into LF; a server that ignores this says so by not
	 * answering EncodingType, and its keys are then read as they are.
	 */
	arc_buf_printf(&q, "encoding-type=url&list-type=2&max-keys=%d&prefix=",
	    max);
	arc_http_escape(&q, l->prefix.s, l->prefix.len, 0);
	if (l->after.len > 0 && l->token.len == 0) {
		arc_buf_adds(&q, "&start-after=");
		arc_http_escape(&q, l->after.s, l->after.len, 0);
	}
	request(s, r, "GET", NULL, 0, arc_buf_str(&q), NULL);
	arc_buf_free(&q);
}

/*
 * One lister for each range of the prefix in l between two of the
 * bounds under it: (start, b1], (b1, b2], ..., (bn, end), so that a
 * prefix is still listed whole, whatever the bounds.  bv is sorted.
 */
static void
split_prefix(struct s3 *s, struct arc_pager *pg, struct arc_plister *l,
    char **bv, size_t nb)
{
	const char *p = l->prefix.s + s->os.prefixlen;
	size_t plen = l->prefix.len - s->os.prefixlen, lo = 0, hi = nb, mid, bl;

	while (lo < hi) {	/* the first bound >= the prefix */
		mid = (lo + hi) / 2;
		if (arc_pathcmp(bv[mid], strlen(bv[mid]), p, plen) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < nb; lo++) {
		bl = strlen(bv[lo]);
		if (bl <= plen || memcmp(bv[lo], p, plen) != 0)
			break;
		arc_buf_add(&l->until, bv[lo], bl);
		l = arc_pager_add(pg, s->os.prefix, s->os.prefixlen);
		arc_buf_add(&l->prefix, p, plen);
		arc_buf_add(&l->after, s->os.prefix, s->os.prefixlen);
		arc_buf_add(&l->after, bv[lo], bl);
	}
}

/* The split point a key falls under, if another lister lists it. */
static const char *
hint_covering(struct s3 *s, const char *rel, size_t n)
{
	size_t lo = 0, hi = s->nhints, mid, hl;

	/* the greatest split point <= rel, if rel starts with it */
	while (lo < hi) {
		mid = (lo + hi) / 2;
		hl = strlen(s->hints[mid]);
		if (arc_pathcmp(s->hints[mid], hl, rel, n) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return NULL;
	hl = strlen(s->hints[lo - 1]);
	if (hl <= n && memcmp(s->hints[lo - 1], rel, hl) == 0)
		return s->hints[lo - 1];
	return NULL;
}

/*
 * A key the rest lister or a range's lister read: a key under a split
 * point is another lister's, and so is a key past the range.
 */
static int
listed(struct arc_objstore *os, struct arc_plister *l, const char *key,
    size_t klen)
{
	struct s3 *s = (struct s3 *)os;
	struct arc_buf skip = { 0 };
	const char *rel = key + os->prefixlen, *h;
	size_t rlen = klen - os->prefixlen;
	int past;

	/* a rest lister's gap ends at the next split point */
	if (l->rest && l->until.len > 0 &&
	    arc_pathcmp(rel, rlen, l->until.s, l->until.len) >= 0)
		return ARC_OS_END;
	if (l->rest && (h = hint_covering(s, rel, rlen)) != NULL) {
		/* another lister has these: skip past them at once,
		 * unless this key sorts past the skip point itself */
		arc_buf_add(&skip, os->prefix, os->prefixlen);
		arc_buf_adds(&skip, h);
		arc_buf_adds(&skip, SKIP_PAST);
		past = arc_pathcmp(key, klen, skip.s, skip.len) >= 0;
		if (!past) {
			l->after.len = 0;
			arc_buf_add(&l->after, skip.s, skip.len);
		}
		arc_buf_free(&skip);
		return past ? ARC_OS_SKIP : ARC_OS_RESUME;
	}
	if (l->until.len > 0 &&
	    arc_pathcmp(rel, rlen, l->until.s, l->until.len) > 0)
		return ARC_OS_END;	/* the next range's lister has these */
	return ARC_OS_EMIT;
}

/*
 * A prefix a sharded delimiter listing found: a -M prefix is listed
 * already; any other gets a lister as the shard wants it (arc_os_dir),
 * split at the -M bounds below it when it lists a measurement whole.
 */
static int
found_prefix(struct arc_objstore *os, struct arc_pager *pg,
    struct arc_plister *l, const char *name, size_t n)
{
	struct s3 *s = (struct s3 *)os;
	struct arc_plister *nl;
	const char *h;

	if (n > os->prefixlen && memcmp(name, os->prefix, os->prefixlen) == 0 &&
	    (h = hint_covering(s, name + os->prefixlen, n - os->prefixlen)) !=
	    NULL && strlen(h) == n - os->prefixlen)
		return 0;
	if (arc_pager_found(pg, l, name, n, os->prefixlen, &nl) == -1)
		return -1;
	if (nl != NULL && !nl->delimiter)
		split_prefix(s, pg, nl, s->bounds, s->nbounds);
	return 0;
}

/* Only a sharded listing's listers ask for a delimiter (s3_list). */
static const struct arc_oslisting list_keys = {
	.paths = &s3_page,
	.request = list_request,
	.key = listed,
	.dir = found_prefix,
	.mtime = parse_s3_time,
};

/* Discovery reads split points only: the top level's prefixes. */
static int
split_point(struct arc_objstore *os, struct arc_pager *pg,
    struct arc_plister *l, const char *name, size_t n)
{
	struct s3 *s = (struct s3 *)os;

	(void)pg;
	if (s->nhints < DISCOVER_MAX && n >= os->prefixlen &&
	    memcmp(name, os->prefix, os->prefixlen) == 0) {
		s->hints = arc_ereallocarray(s->hints, s->nhints + 1,
		    sizeof(*s->hints));
		s->hints[s->nhints++] = arc_estrdup(name + os->prefixlen);
	}
	if (s->nhints >= DISCOVER_MAX)
		l->done = 1;
	return 0;
}

static const struct arc_oslisting discover = {
	.paths = &s3_page,
	.request = list_request,
	.dir = split_point,
	.prefixes_only = 1,
};

static int
cmpstr(const void *a, const void *b)
{
	const char *x = *(const char *const *)a, *y = *(const char *const *)b;

	return arc_pathcmp(x, strlen(x), y, strlen(y));
}

/*
 * The rest listers.  With jobs to spare once every other lister has one,
 * one for each gap between two split points (before the first, between
 * each two, after the last), so that the one-key probes past each split
 * point go out at once rather than one after the other, a round trip
 * each, which would be the last thing left.  A gap's lister starts past
 * the split point before it (SKIP_PAST) and ends at the one after it
 * (listed).  Otherwise one lister for the whole rest: its probes go
 * first whenever a job is free (pager.c) and overlap the other pages.
 */
static void
rest_listers(struct s3 *s, struct arc_pager *pg, int jobs)
{
	struct arc_plister *l;
	size_t i, ngaps;

	ngaps = (size_t)jobs > pg->n + s->nhints + 1 ? s->nhints + 1 : 1;
	for (i = 0; i < ngaps; i++) {
		l = arc_pager_add(pg, s->os.prefix, s->os.prefixlen);
		l->rest = 1;
		if (i > 0) {
			arc_buf_add(&l->after, s->os.prefix, s->os.prefixlen);
			arc_buf_adds(&l->after, s->hints[i - 1]);
			arc_buf_adds(&l->after, SKIP_PAST);
		}
		if (ngaps > 1 && i < s->nhints)
			arc_buf_adds(&l->until, s->hints[i]);
	}
}

/*
 * List the store.  With -p prefixes, one lister each.  Otherwise one per
 * split point (manifest prefixes from -M, or top-level names found with
 * a delimiter listing, Arc's root walk) plus listers for the rest, which
 * skip past every split point with start-after (rest_listers).  The split points
 * are only an optimisation: whatever they miss, the rest lister lists, so
 * a server whose delimiter listing is wrong still gets a whole listing.
 */
static int
s3_list(struct arc_store *st, char **prefixes, size_t np, int flags,
    arc_list_fn fn, void *arg)
{
	struct s3 *s = st->priv;
	struct arc_buf key = { 0 };
	struct arc_pager pg;
	struct arc_plister *l;
	size_t i, n;
	int jobs;

	jobs = arc_os_list_start(st, &pg, prefixes, np, flags, fn, arg);
	if (jobs == -1)
		return ARC_EXIT_ERROR;
	if (st->nbounds > 1)
		qsort(st->bounds, st->nbounds, sizeof(*st->bounds), cmpstr);
	s->bounds = st->bounds;
	s->nbounds = st->nbounds;
	if (np > 0)
		return arc_os_list_run(&s->os, &pg, &list_keys, jobs);
	s->hints = NULL;
	s->nhints = 0;
	for (i = 0; i < st->nhints; i++) {
		s->hints = arc_ereallocarray(s->hints, s->nhints + 1,
		    sizeof(*s->hints));
		s->hints[s->nhints++] = arc_estrdup(st->hints[i]);
	}
	if (st->shard.count > 0)
		/*
		 * A shard: the levels above the measurements one at a time,
		 * then its measurement prefixes whole (arc_pager_prefix):
		 * those found, and those of -M, which a server whose
		 * delimiter listing leaves prefixes out cannot hide.
		 */
		arc_pager_prefix(&pg, s->os.prefix, s->os.prefixlen,
		    s->os.prefixlen);
	else if (s->nhints == 0 && jobs > 1) {
		l = arc_pager_add(&pg, s->os.prefix, s->os.prefixlen);
		l->delimiter = 1;
		pg.quiet = 1;	/* only hints: the rest lister lists all */
		arc_os_list_run(&s->os, &pg, &discover, 1);
		pg.quiet = 0;
	}
	if (s->nhints > 1)
		qsort(s->hints, s->nhints, sizeof(*s->hints), cmpstr);
	for (i = 0; i < s->nhints; i++) {
		key.len = 0;
		arc_buf_add(&key, s->os.prefix, s->os.prefixlen);
		arc_buf_adds(&key, s->hints[i]);
		if ((l = arc_pager_prefix(&pg, key.s, key.len,
		    s->os.prefixlen)) != NULL)
			split_prefix(s, &pg, l, st->bounds, st->nbounds);
	}
	arc_buf_free(&key);
	/* the rest listers would list every shard's paths */
	if (st->shard.count == 0 && st->after != NULL) {
		/* a time-boxed listing: one lister in key order, after its cursor */
		l = arc_pager_add(&pg, s->os.prefix, s->os.prefixlen);
		l->rest = 1;
		if (*st->after != '\0') {
			arc_buf_add(&l->after, s->os.prefix, s->os.prefixlen);
			arc_buf_adds(&l->after, st->after);
		}
	} else if (st->shard.count == 0)
		rest_listers(s, &pg, jobs);
	n = (size_t)arc_os_list_run(&s->os, &pg, &list_keys, jobs);
	for (i = 0; i < s->nhints; i++)
		free(s->hints[i]);
	free(s->hints);
	s->hints = NULL;
	s->nhints = 0;
	return (int)n;
}

/* ---- objects ---------------------------------------------------------- */

/*
 * A 404 means "no such key" only in a bucket that exists: a misspelt
 * bucket must not make every object look gone.  Checked once (HEAD on
 * the bucket); -1 with the reason in eb when the bucket is not there.
 */
static int
bucket_exists(struct arc_objstore *os, struct arc_buf *eb)
{
	struct s3 *s = (struct s3 *)os;
	struct arc_http_req r;

	if (s->checked)
		return 0;
	request(s, &r, "HEAD", NULL, 0, NULL, NULL);
	arc_http_perform(s->os.http, &r);
	if (r.status == 200)
		s->checked = 1;
	else {
		arc_os_describe(os, &r, "HEAD", s->os.name, eb);
		if (r.status == 404) {
			eb->len = 0;
			arc_buf_printf(eb, "HEAD '%s': no such bucket (HTTP 404)",
			    s->os.name);
		}
	}
	arc_http_req_free(&r);
	return s->checked ? 0 : -1;
}

/* A request on a key: a conditional delete, a put never over a key. */
static void
object_request(struct arc_objstore *os, struct arc_http_req *r,
    const char *method, const char *path, size_t n, const char *ifmatch,
    off_t len)
{
	(void)len;
	request((struct s3 *)os, r, method, path, n, NULL, NULL);
	if (ifmatch != NULL)
		arc_http_add_header(r, "If-Match: %s", ifmatch);
	if (strcmp(method, "PUT") == 0) {
		arc_http_add_header(r, "If-None-Match: *");
		arc_http_add_header(r, "Content-Type: application/octet-stream");
	}
}

static int
xml_safe(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20)
			return 0;	/* not representable in XML 1.0 */
	return 1;
}

static void
xml_escape(struct arc_buf *b, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		switch (s[i]) {
		case '&': arc_buf_adds(b, "&amp;"); break;
		case '<': arc_buf_adds(b, "&lt;"); break;
		case '>': arc_buf_adds(b, "&gt;"); break;
		case '"': arc_buf_adds(b, "&quot;"); break;
		case '\'': arc_buf_adds(b, "&apos;"); break;
		default: arc_buf_addc(b, s[i]); break;
		}
}

struct delres {
	struct s3	*s;
	struct arc_sitem *items;
	size_t		 n;
	struct arc_buf	 key, code, message;
	int		 bad;
};

static struct arc_sitem *
find_item(struct delres *d, const char *key, size_t n)
{
	size_t i;

	if (n < d->s->os.prefixlen || memcmp(key, d->s->os.prefix, d->s->os.prefixlen))
		return NULL;
	key += d->s->os.prefixlen;
	n -= d->s->os.prefixlen;
	for (i = 0; i < d->n; i++)
		if (d->items[i].removal == ARC_OS_PENDING &&
		    d->items[i].pathlen == n &&
		    memcmp(d->items[i].path, key, n) == 0)
			return &d->items[i];
	return NULL;
}

static int
delete_field(void *arg, const char *path, const char *text, size_t n)
{
	struct delres *d = arg;
	struct arc_sitem *it;

	if (strncmp(path, "DeleteResult", 12) != 0) {
		d->bad = 1;
		return -1;
	}
	path += 12;
	if (strcmp(path, "/Deleted/Key") == 0 ||
	    strcmp(path, "/Error/Key") == 0) {
		d->key.len = 0;
		arc_buf_add(&d->key, text, n);
	} else if (strcmp(path, "/Error/Code") == 0) {
		d->code.len = 0;
		arc_buf_add(&d->code, text, n);
	} else if (strcmp(path, "/Error/Message") == 0) {
		d->message.len = 0;
		arc_buf_add(&d->message, text, n);
	} else if (strcmp(path, "/Deleted") == 0) {
		if ((it = find_item(d, d->key.s ? d->key.s : "", d->key.len)))
			it->removal = ARC_REMOVED;
		d->key.len = 0;
	} else if (strcmp(path, "/Error") == 0) {
		if ((it = find_item(d, d->key.s ? d->key.s : "", d->key.len))) {
			if (d->code.len == 9 &&
			    memcmp(d->code.s, "NoSuchKey", 9) == 0)
				it->removal = ARC_GONE;
			else {
				it->removal = ARC_REMOVE_FAILED;
				it->err.len = 0;
				arc_buf_printf(&it->err, "S3 error %s: %s",
				    arc_buf_str(&d->code),
				    arc_buf_str(&d->message));
			}
		}
		d->key.len = d->code.len = d->message.len = 0;
	}
	return 0;
}

/*
 * DeleteObjects for up to 1000 keys, Content-MD5 always sent, each
 * key's <Deleted> or <Error> read; keys XML cannot carry and conditional
 * deletes are left to the engine, key by key.
 */
static int
delete_batch(struct arc_objstore *os, struct arc_sitem *items, size_t n)
{
	struct s3 *s = (struct s3 *)os;
	struct arc_http_req r;
	struct arc_buf body = { 0 }, eb = { 0 }, hex = { 0 };
	unsigned char md[EVP_MAX_MD_SIZE], b64[64];
	unsigned int mdlen, i;
	size_t k, nkeys = 0;
	struct delres d = { s, items, n, { 0 }, { 0 }, { 0 }, 0 };
	int ret = -1;

	arc_buf_adds(&body, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
	    "<Delete xmlns=\"" S3NS "\"><Quiet>false</Quiet>");
	for (k = 0; k < n; k++) {
		if (items[k].if_match != NULL ||
		    !xml_safe(items[k].path, items[k].pathlen))
			continue;
		nkeys++;
		items[k].removal = ARC_OS_PENDING;
		arc_buf_adds(&body, "<Object><Key>");
		xml_escape(&body, os->prefix, os->prefixlen);
		xml_escape(&body, items[k].path, items[k].pathlen);
		arc_buf_adds(&body, "</Key></Object>");
	}
	arc_buf_adds(&body, "</Delete>");
	if (nkeys == 0) {
		arc_buf_free(&body);
		return 0;
	}
	EVP_Digest(body.s, body.len, md, &mdlen, EVP_sha256(), NULL);
	for (i = 0; i < mdlen; i++)
		arc_buf_printf(&hex, "%02x", md[i]);
	request(s, &r, "POST", NULL, 0, "delete=", hex.s);
	r.klass = ARC_REQ_BATCH;
	EVP_Digest(body.s, body.len, md, &mdlen, EVP_md5(), NULL);
	EVP_EncodeBlock(b64, md, (int)mdlen);
	arc_http_add_header(&r, "Content-MD5: %s", b64);
	arc_http_add_header(&r, "Content-Type: application/xml");
	r.body = body.s;
	r.bodylen = body.len;
	if (arc_http_perform(os->http, &r) == 0 && r.status == 200 &&
	    arc_xml_parse(r.resp.s, r.resp.len, s3ns, delete_field, &d,
	    &eb) == 0 && !d.bad)
		ret = 0;
	arc_http_req_free(&r);
	arc_buf_free(&d.key);
	arc_buf_free(&d.code);
	arc_buf_free(&d.message);
	arc_buf_free(&body);
	arc_buf_free(&eb);
	arc_buf_free(&hex);
	return ret;
}

/* For the estimate: the probe bucket_exists would send now. */
static int
bucket_cost(struct arc_objstore *os)
{
	return !((struct s3 *)os)->checked;
}

/* For the estimate: the keys delete_batch would carry, as it chooses. */
static long
batch_keys(struct arc_objstore *os, const struct arc_sitem *items, size_t n)
{
	size_t k, nkeys = 0;

	(void)os;
	for (k = 0; k < n; k++)
		if (items[k].if_match == NULL &&
		    xml_safe(items[k].path, items[k].pathlen))
			nkeys++;
	return (long)nkeys;
}

/*
 * S3 says "no such key" in an error body, which a HEAD has not: in a
 * bucket that exists (bucket_exists), a 404 on a HEAD or GET is no such
 * key; a DELETE's 404 must say NoSuchKey.
 */
static const struct arc_objstore_ops s3_osops = {
	.scheme = "s3", .container = "bucket", .label = "S3",
	.chars = "abcdefghijklmnopqrstuvwxyz0123456789.-",
	.request = object_request,
	.nokey = "NoSuchKey", .ready = bucket_exists,
	.put_ok = 200, .exists = "an object exists there",
	.delete_ok = 204, .batch = delete_batch, .batch_max = 1000,
	.ready_cost = bucket_cost, .batch_keys = batch_keys,
	.unreported = "DeleteObjects did not report this key",
};

const struct arc_store_ops arc_store_s3 = ARC_OS_STORE("s3", s3_open,
    s3_list, s3_close);
