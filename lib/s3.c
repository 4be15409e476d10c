/*
 * s3.c - the S3-compatible store: s3://BUCKET[/PREFIX].
 *
 * Configured as the AWS tools are (credentials, region, endpoint, which
 * implies path-style addressing, addressing style and CA bundle: see
 * awscred.c).  Requests are signed by libcurl (CURLOPT_AWS_SIGV4);
 * since it signs the query string and path verbatim, both are built here
 * already canonical (parameters sorted, values RFC 3986 encoded).
 * Answers are read with expat.  Credentials go to libcurl only: never to
 * a message, a log or a child's argv.
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
 * skipped like any other (see list_page).
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

static int
s3_open(struct arc_store *st, const char *rest)
{
	struct s3 *s;
	struct arc_buf b = { 0 };
	struct arc_awsconf conf;
	const char *slash, *region, *endpoint, *style;
	size_t blen;
	int path_style;

	slash = strchr(rest, '/');
	blen = slash ? (size_t)(slash - rest) : strlen(rest);
	if (blen < 3 || blen > 63 || strspn(rest,
	    "abcdefghijklmnopqrstuvwxyz0123456789.-") < blen) {
		warnx("'%s': invalid bucket name", st->url);
		return -1;
	}
	s = arc_ecalloc(1, sizeof(*s));
	s->os.ops = &s3_osops;
	if (arc_os_prefix(&s->os, st->url, slash) == -1) {
		free(s);
		return -1;
	}

	/* no credentials is an error here: never an unsigned request */
	if (arc_awscred_open(&conf, &s->cred) == -1) {
		free(s->os.prefix);
		free(s);
		return -1;
	}
	region = conf.region;
	endpoint = conf.endpoint;
	style = conf.style;
	path_style = endpoint != NULL;
	if (style != NULL && strcmp(style, "path") == 0)
		path_style = 1;
	else if (style != NULL && strcmp(style, "virtual") == 0)
		path_style = 0;
	else if (style != NULL && strcmp(style, "auto") != 0) {
		warnx("'%s': AWS_S3_ADDRESSING_STYLE must be path or virtual",
		    style);
		arc_awscred_free(s->cred);
		arc_awsconf_free(&conf);
		free(s->os.prefix);
		free(s);
		return -1;
	}
	if (endpoint != NULL) {
		const char *scheme_end = strstr(endpoint, "://");
		size_t elen = strlen(endpoint);

		if (scheme_end == NULL) {
			warnx("'%s': the endpoint URL needs http:// or https://",
			    endpoint);
			arc_awscred_free(s->cred);
			arc_awsconf_free(&conf);
			free(s->os.prefix);
			free(s);
			return -1;
		}
		while (elen > 0 && endpoint[elen - 1] == '/')
			elen--;
		if (path_style)
			arc_buf_printf(&b, "%.*s/%.*s", (int)elen, endpoint,
			    (int)blen, rest);
		else
			arc_buf_printf(&b, "%.*s%.*s.%.*s",
			    (int)(scheme_end + 3 - endpoint), endpoint,
			    (int)blen, rest,
			    (int)(elen - (size_t)(scheme_end + 3 - endpoint)),
			    scheme_end + 3);
	} else if (path_style)
		arc_buf_printf(&b, "https://s3.%s.amazonaws.com/%.*s", region,
		    (int)blen, rest);
	else
		arc_buf_printf(&b, "https://%.*s.s3.%s.amazonaws.com",
		    (int)blen, rest, region);
	s->base = arc_estrdup(b.s);
	s->virtual = !path_style;
	if (asprintf(&s->os.name, "s3://%.*s/", (int)blen, rest) == -1)
		err(arc_errstatus, "asprintf");
	arc_buf_free(&b);

	if (s->cred != NULL && asprintf(&s->sigv4, "aws:amz:%s:s3",
	    region) == -1)
		err(arc_errstatus, "asprintf");
	s->cainfo = conf.ca_bundle;
	conf.ca_bundle = NULL;
	arc_awsconf_free(&conf);
	s->os.http = arc_http_new();
	st->priv = s;
	st->unordered = 1;
	return 0;
}

static void
s3_close(struct arc_store *st)
{
	struct s3 *s = st->priv;

	arc_os_free(&s->os);
	free(s->base);
	free(s->sigv4);
	arc_awscred_free(s->cred);
	free(s->cainfo);
	free(s);
}

/* A request on the bucket (key NULL) or on one object (path relative). */
static void
request(struct s3 *s, struct arc_http_req *r, const char *method,
    const char *path, size_t n, const char *query, const char *payload_hash)
{
	struct arc_buf u = { 0 };

	arc_buf_adds(&u, s->base);
	if (path != NULL) {
		arc_buf_addc(&u, '/');
		arc_http_escape(&u, s->os.prefix, s->os.prefixlen, 1);
		arc_http_escape(&u, path, n, 1);
	} else if (s->virtual)
		arc_buf_addc(&u, '/');	/* the bucket is the host: its root */
	if (query != NULL) {
		arc_buf_addc(&u, '?');
		arc_buf_adds(&u, query);
	}
	arc_http_req_init(r, method, arc_estrdup(arc_buf_str(&u)));
	arc_buf_free(&u);
	r->sigv4 = s->sigv4;
	r->cred = s->cred;
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
	const char *dot;
	int64_t t;
	size_t i;

	if (arc_time_parse(s, n, ARC_TIME_LENIENT, &t) == -1)
		return ARC_TIME_UNKNOWN;
	if ((dot = memchr(s, '.', n)) != NULL)
		for (i = (size_t)(dot - s) + 1; i < n && s[i] >= '0' &&
		    s[i] <= '9'; i++)
			if (s[i] != '0')
				return t + 1;
	return t;
}

/* ---- listing ---------------------------------------------------------- */

static const struct arc_ospaths s3_page = {
	.ns = s3ns,
	.answer = "not a ListObjectsV2 answer",
	.root = "ListBucketResult",
	.object = "/Contents",
	.key = "/Contents/Key",
	.mtime = "/Contents/LastModified",
	.size = "/Contents/Size",
	.dir = "/CommonPrefixes/Prefix",
	.token = "/NextContinuationToken",
	.truncated = "/IsTruncated",
	.encoding = "/EncodingType",
};

/* A ListObjectsV2 page request, parameters in canonical order. */
static void
list_request(void *be, struct arc_plister *l, struct arc_http_req *r)
{
	struct s3 *s = be;
	struct arc_buf q = { 0 };
	int max = PAGE_KEYS;

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
 * The prefixes a delimiter page found (a sharded listing): each moves
 * the lister on as a key does, and gets a lister of its own, split at
 * the -M bounds below it when it lists a measurement whole.  0, or -1
 * after a warning.
 */
static int
found_prefixes(struct s3 *s, struct arc_pager *pg, struct arc_plister *l,
    const struct arc_ospage *p, const char *what)
{
	struct arc_buf dec = { 0 };
	struct arc_plister *nl;
	const char *d, *name, *h;
	size_t i, n;
	int ret = 0;

	for (d = p->dirs.s, i = 0; i < p->ndirs && ret == 0;
	    i++, d += strlen(d) + 1) {
		name = d;
		n = strlen(d);
		if (p->urlenc) {
			dec.len = 0;
			if (arc_http_unescape(&dec, d, n, 1) == -1 ||
			    dec.len == 0 || memchr(dec.s, '\0', dec.len)) {
				warnx("list '%s': a prefix that does not decode",
				    what);
				ret = -1;
				break;
			}
			name = dec.s;
			n = dec.len;
		}
		if (arc_pager_key(l, name, n) == -1) {
			warnx("list '%s': a prefix that does not advance (the "
			    "server ignored where the page starts)", what);
			ret = -1;
		} else if (n > s->os.prefixlen && memcmp(name, s->os.prefix,
		    s->os.prefixlen) == 0 && (h = hint_covering(s, name +
		    s->os.prefixlen, n - s->os.prefixlen)) != NULL &&
		    strlen(h) == n - s->os.prefixlen)
			continue;	/* a -M prefix, listed already */
		else if (arc_pager_found(pg, l, name, n, s->os.prefixlen,
		    &nl) == -1)
			ret = -1;
		else if (nl != NULL && !nl->delimiter)
			split_prefix(s, pg, nl, s->bounds, s->nbounds);
	}
	arc_buf_free(&dec);
	return ret;
}

static int
list_page(void *be, struct arc_pager *pg, struct arc_plister *l,
    struct arc_http_req *r)
{
	struct s3 *s = be;
	struct arc_ospage p;
	struct arc_buf msg = { 0 }, what = { 0 }, dec = { 0 };
	struct arc_buf skip = { 0 };
	const char *o, *key, *mt, *sz, *rel, *h;
	size_t i, rlen, klen;
	int ret = 0, past = 0, covered = 0;

	arc_buf_printf(&what, "%s%s", s->os.name, l->prefix.s);
	ret = arc_os_page_read(&s->os, r, &s3_page, what.s, &p, &msg);
	if (ret == 0 && p.truncated && p.token.len == 0) {
		arc_buf_printf(&msg, "list '%s': truncated page without a "
		    "continuation token", what.s);
		ret = -1;
	} else if (ret == 0 && p.truncated && l->token.len == p.token.len &&
	    memcmp(l->token.s, p.token.s, p.token.len) == 0) {
		arc_buf_printf(&msg, "list '%s': the continuation token "
		    "repeats", what.s);
		ret = -1;
	}
	if (ret != 0) {
		warnx("%s", arc_buf_str(&msg));
		goto out;
	}
	for (o = p.objs.s, i = 0; i < p.nobjs; i++) {
		key = o;
		mt = key + strlen(key) + 1;
		sz = mt + strlen(mt) + 1;
		o = sz + strlen(sz) + 1;
		if (p.urlenc) {
			dec.len = 0;
			if (arc_http_unescape(&dec, key, strlen(key), 1) == -1 ||
			    memchr(dec.s, '\0', dec.len) != NULL) {
				warnx("list '%s': a key that does not decode",
				    what.s);
				ret = -1;
				goto out;
			}
			key = dec.s;
		}
		klen = strlen(key);
		if (arc_pager_key(l, key, klen) == -1) {
			warnx("list '%s': a key that does not advance (the "
			    "server ignored where the page starts)", what.s);
			ret = -1;
			goto out;
		}
		if (strncmp(key, s->os.prefix, s->os.prefixlen) != 0)
			continue;
		rel = key + s->os.prefixlen;
		rlen = strlen(rel);
		if (l->rest && (h = hint_covering(s, rel, rlen)) != NULL) {
			/* another lister has these: skip past them at once,
			 * unless this key sorts past the skip point itself */
			skip.len = 0;
			arc_buf_add(&skip, s->os.prefix, s->os.prefixlen);
			arc_buf_adds(&skip, h);
			arc_buf_adds(&skip, SKIP_PAST);
			if (arc_pathcmp(key, klen, skip.s, skip.len) < 0) {
				covered = 1;
				break;
			}
			continue;
		}
		if (l->until.len > 0 &&
		    arc_pathcmp(rel, rlen, l->until.s, l->until.len) > 0) {
			past = 1;	/* the next range's lister has these */
			break;
		}
		arc_pager_emit(pg, rel, rlen, parse_s3_time(mt, strlen(mt)),
		    arc_os_size(sz, strlen(sz)));
	}
	if (l->delimiter && (ret = found_prefixes(s, pg, l, &p, what.s)) != 0)
		goto out;
	l->token.len = 0;
	if (covered) {
		/* resume past that split point's keys */
		l->after.len = 0;
		arc_buf_add(&l->after, skip.s, skip.len);
	} else if (p.truncated && !past)
		arc_buf_add(&l->token, p.token.s, p.token.len);
	else
		l->done = 1;
out:
	arc_os_page_free(&p);
	arc_buf_free(&msg);
	arc_buf_free(&what);
	arc_buf_free(&dec);
	arc_buf_free(&skip);
	return ret;
}

static const struct arc_pager_ops list_ops = { list_request, list_page };

static int
discover_page(void *be, struct arc_pager *pg, struct arc_plister *l,
    struct arc_http_req *r)
{
	struct s3 *s = be;
	struct arc_ospage p;
	struct arc_buf msg = { 0 };
	const char *d;
	size_t i;
	int k;

	(void)pg;
	/* quiet: only hints, what fails here the rest lister says */
	k = arc_os_page_read(&s->os, r, &s3_page, s->os.name, &p, &msg);
	arc_buf_free(&msg);
	if (k != 0) {
		arc_os_page_free(&p);
		return -1;
	}
	/* the top level's objects, then its prefixes, each in order */
	for (d = p.objs.s, i = 0; i < p.nobjs; i++) {
		struct arc_buf dec = { 0 };

		if (p.urlenc && arc_http_unescape(&dec, d, strlen(d), 1) == 0)
			k = arc_pager_key(l, dec.s, dec.len);
		else
			k = arc_pager_key(l, d, strlen(d));
		arc_buf_free(&dec);
		if (k == -1)
			goto stop;
		d += strlen(d) + 1;		/* key, mtime, size */
		d += strlen(d) + 1;
		d += strlen(d) + 1;
	}
	for (d = p.dirs.s, i = 0; i < p.ndirs; i++, d += strlen(d) + 1) {
		const char *name = d;
		struct arc_buf dec = { 0 };

		if (p.urlenc) {
			if (arc_http_unescape(&dec, d, strlen(d), 1) == -1)
				continue;	/* a split point is only a hint */
			name = dec.s;
		}
		if (arc_pager_key(l, name, p.urlenc ? dec.len :
		    strlen(name)) == -1) {
			arc_buf_free(&dec);
			goto stop;
		}
		if (strncmp(name, s->os.prefix, s->os.prefixlen) == 0 &&
		    s->nhints < DISCOVER_MAX &&
		    strlen(name) == (p.urlenc ? dec.len : strlen(d))) {
			s->hints = arc_ereallocarray(s->hints, s->nhints + 1,
			    sizeof(*s->hints));
			s->hints[s->nhints++] = arc_estrdup(name + s->os.prefixlen);
		}
		arc_buf_free(&dec);
	}
	/* a token that repeats would page forever: stop discovering */
	if (p.truncated && p.token.len > 0 && s->nhints < DISCOVER_MAX &&
	    !(l->token.len == p.token.len &&
	    memcmp(l->token.s, p.token.s, p.token.len) == 0)) {
		l->token.len = 0;
		arc_buf_add(&l->token, p.token.s, p.token.len);
	} else
		l->done = 1;
	arc_os_page_free(&p);
	return 0;
stop:	/* keys that do not advance: the split points found will do */
	arc_os_page_free(&p);
	return -1;
}

static const struct arc_pager_ops discover_ops = { list_request,
    discover_page };

static int
cmpstr(const void *a, const void *b)
{
	const char *x = *(const char *const *)a, *y = *(const char *const *)b;

	return arc_pathcmp(x, strlen(x), y, strlen(y));
}

/*
 * List the store.  With -p prefixes, one lister each.  Otherwise one per
 * split point (manifest prefixes from -M, or top-level names found with
 * a delimiter listing, Arc's root walk) plus one lister for the rest,
 * which skips past every split point with start-after.  The split points
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
	int jobs = st->jobs > 0 ? st->jobs : 8;

	arc_os_pager(st, &pg, flags, fn, arg);
	if (st->nbounds > 1)
		qsort(st->bounds, st->nbounds, sizeof(*st->bounds), cmpstr);
	s->bounds = st->bounds;
	s->nbounds = st->nbounds;
	if (np > 0) {
		if (arc_os_listers(&s->os, &pg, prefixes, np) == -1)
			return ARC_EXIT_ERROR;
		return arc_pager_run(&pg, s->os.http, &list_ops, s, jobs);
	}
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
		arc_pager_run(&pg, s->os.http, &discover_ops, s, 1);
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
	/* the rest lister would list every shard's paths */
	if (st->shard.count == 0) {
		l = arc_pager_add(&pg, s->os.prefix, s->os.prefixlen);
		l->rest = 1;
	}
	n = (size_t)arc_pager_run(&pg, s->os.http, &list_ops, s, jobs);
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

/*
 * In a bucket that exists (bucket_exists), a 404 on a HEAD or GET is no
 * such key; a DELETE's 404 must say NoSuchKey.
 */
static int
absent(const struct arc_http_req *r, int deleting)
{
	return r->status == 404 && (!deleting || arc_os_code(r, "NoSuchKey"));
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
		if (d->items[i].pathlen == n &&
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
 * DeleteObjects in groups of up to 1000 keys, Content-MD5 always sent,
 * each key's <Deleted> or <Error> read; a group that fails as a whole,
 * keys XML cannot carry, and conditional deletes are left to the
 * engine, key by key.
 */
static void
delete_batch(struct arc_objstore *os, struct arc_sitem *items, size_t n)
{
	struct s3 *s = (struct s3 *)os;
	struct arc_http_req r;
	struct arc_buf body = { 0 }, eb = { 0 }, hex = { 0 };
	unsigned char md[EVP_MAX_MD_SIZE], b64[64];
	unsigned int mdlen, i2;
	size_t i, start, cnt;
	struct delres d;

	for (start = 0; start < n; start += cnt) {
		size_t nkeys = 0;

		cnt = n - start < 1000 ? n - start : 1000;
		body.len = 0;
		arc_buf_adds(&body, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
		    "<Delete xmlns=\"" S3NS "\"><Quiet>false</Quiet>");
		for (i = start; i < start + cnt; i++) {
			if (items[i].if_match != NULL ||
			    !xml_safe(items[i].path, items[i].pathlen))
				continue;
			nkeys++;
			arc_buf_adds(&body, "<Object><Key>");
			xml_escape(&body, s->os.prefix, s->os.prefixlen);
			xml_escape(&body, items[i].path, items[i].pathlen);
			arc_buf_adds(&body, "</Key></Object>");
		}
		arc_buf_adds(&body, "</Delete>");
		if (nkeys == 0)
			continue;
		EVP_Digest(body.s, body.len, md, &mdlen, EVP_sha256(), NULL);
		hex.len = 0;
		for (i2 = 0; i2 < mdlen; i2++)
			arc_buf_printf(&hex, "%02x", md[i2]);
		request(s, &r, "POST", NULL, 0, "delete=", hex.s);
		EVP_Digest(body.s, body.len, md, &mdlen, EVP_md5(), NULL);
		EVP_EncodeBlock(b64, md, (int)mdlen);
		arc_http_add_header(&r, "Content-MD5: %s", b64);
		arc_http_add_header(&r, "Content-Type: application/xml");
		r.body = body.s;
		r.bodylen = body.len;
		memset(&d, 0, sizeof(d));
		d.s = s;
		d.items = items + start;
		d.n = cnt;
		if (arc_http_perform(s->os.http, &r) == 0 && r.status == 200 &&
		    arc_xml_parse(r.resp.s, r.resp.len, s3ns, delete_field, &d,
		    &eb) == 0 && !d.bad) {
			/* a key the answer did not mention is not deleted */
			for (i = start; i < start + cnt; i++)
				if (items[i].removal == -1 &&
				    items[i].if_match == NULL &&
				    xml_safe(items[i].path, items[i].pathlen)) {
					items[i].removal = ARC_REMOVE_FAILED;
					items[i].err.len = 0;
					arc_buf_adds(&items[i].err, "DeleteObjects "
					    "did not report this key");
				}
		} else	/* the group failed as a whole: key by key */
			for (i = start; i < start + cnt; i++) {
				items[i].removal = -1;
				items[i].err.len = 0;
			}
		arc_http_req_free(&r);
		arc_buf_free(&d.key);
		arc_buf_free(&d.code);
		arc_buf_free(&d.message);
	}
	arc_buf_free(&body);
	arc_buf_free(&eb);
	arc_buf_free(&hex);
}

static const struct arc_objstore_ops s3_osops = {
	.label = "S3",
	.exists = "an object exists there",
	.put_ok = 200,
	.delete_ok = 204,
	.request = object_request,
	.absent = absent,
	.ready = bucket_exists,
	.batch = delete_batch,
};

const struct arc_store_ops arc_store_s3 = {
	.scheme = "s3",
	.open = s3_open,
	.list = s3_list,
	.stat = arc_os_stat,
	.remove = arc_os_remove,
	.stat_many = arc_os_stat_many,
	.remove_many = arc_os_remove_many,
	.get = arc_os_get,
	.put = arc_os_put,
	.close = s3_close,
};
