/*
 * pager.c - paged listings of object stores, many at once.
 *
 * A listing is a set of listers, each walking one key prefix page by
 * page.  Up to jobs pages of different listers are in flight at once
 * through the HTTP layer's multi interface, and each answer is read as
 * soon as it arrives: a backend's page callback reads it, emits objects,
 * and may add listers (a delimiter listing splitting into its prefixes),
 * and that lister's next page is asked at once.  The backend decides
 * what a page means; this file owns the concurrency, and the one rule
 * that makes every listing end: each page must move its lister forward.
 *
 * Progress is a position, the greatest key a lister has been given, and
 * every key of a page must sort above where the page was asked from (the
 * last key before it, or the start-after it was asked with): a server
 * that ignores start-after, continuation token or marker, repeats a page,
 * or returns keys that go back, stops that lister at its first such page.
 * A page that asks its successor exactly as it was asked itself (a token
 * that repeats) stops it too, and so do STALL_PAGES pages in a row with
 * no key (tokens that cycle).  Nothing here depends on a key that sorts
 * after all others: there is none.  A cap on the pages of one lister
 * (ARC_LIST_MAX_PAGES) is only a backstop behind that rule.  A lister
 * stopped so makes the listing partial, with a warning naming its prefix.
 */
#include <err.h>
#include <stdlib.h>
#include <string.h>

#include "arc_priv.h"

/*
 * Pages in a row that may bring no new key: S3 and Azure may answer a
 * page with no key and a token (delete markers, a marker at a partition
 * boundary), rarely many in a row; a hostile server cycling tokens is
 * stopped after these.
 */
#define STALL_PAGES	64
/*
 * The backstop: ten billion keys at 1000 a page, a hundred times the
 * largest store arc-reconcile is sized for.
 */
#define MAX_PAGES	10000000LL

/* The most pages one lister, or one paged dump, may ask. */
long
arc_list_max_pages(void)
{
	const char *v = getenv("ARC_LIST_MAX_PAGES");
	long long n;

	if (v == NULL || *v == '\0')
		return (long)MAX_PAGES;
	if (arc_parse_count(v, 1, MAX_PAGES, &n) == -1)
		errx(arc_errstatus, "'%s': invalid ARC_LIST_MAX_PAGES (1 to "
		    "%lld)", v, MAX_PAGES);
	return (long)n;
}

/*
 * The keys one listing page asks for: the service's most (max), or
 * fewer with ARC_LIST_PAGE_KEYS (finer page boundaries for a time-boxed
 * run on a slow link, and for tests).
 */
int
arc_list_page_keys(int max)
{
	const char *v = getenv("ARC_LIST_PAGE_KEYS");
	long long n;

	if (v == NULL || *v == '\0')
		return max;
	if (arc_parse_count(v, 1, max, &n) == -1)
		errx(arc_errstatus, "'%s': invalid ARC_LIST_PAGE_KEYS (1 to %d)",
		    v, max);
	return (int)n;
}

/*
 * A key a page of l returned, in the server's byte order: 0 when it sorts
 * above where the page was asked from, -1 when it does not (the caller
 * ends the lister with a message).  Every key counts, those the caller
 * then skips too.
 */
int
arc_pager_key(struct arc_plister *l, const char *key, size_t n)
{
	if (arc_pathcmp(key, n, l->floor.s ? l->floor.s : "",
	    l->floor.len) <= 0)
		return -1;
	if (arc_pathcmp(key, n, l->pos.s ? l->pos.s : "", l->pos.len) > 0) {
		l->pos.len = 0;
		arc_buf_add(&l->pos, key, n);
	}
	l->fresh++;
	return 0;
}

/*
 * What identifies l's next request: its token, or without one the key
 * it starts after.  Two pages asked alike get the same answer.
 */
static void
next_request(const struct arc_plister *l, struct arc_buf *out)
{
	out->len = 0;
	if (l->token.len > 0) {
		arc_buf_addc(out, 't');
		arc_buf_add(out, l->token.s, l->token.len);
	} else {
		arc_buf_addc(out, 'a');
		arc_buf_add(out, l->after.s, l->after.len);
	}
}

struct arc_plister *
arc_pager_add(struct arc_pager *pg, const char *prefix, size_t n)
{
	struct arc_plister *l;

	if (pg->n == pg->cap) {
		pg->cap = pg->cap ? pg->cap * 2 : 16;
		pg->v = arc_ereallocarray(pg->v, pg->cap, sizeof(*pg->v));
	}
	l = arc_ecalloc(1, sizeof(*l));
	arc_buf_add(&l->prefix, prefix, n);
	arc_buf_str(&l->prefix);
	pg->v[pg->n++] = l;
	return l;
}

/*
 * A lister for the prefix key (n bytes, ending in '/' unless it is the
 * store's root, whose length is rootlen), as the pager's shard wants it:
 * without a shard the prefix is listed whole.  With one, the root and a
 * database prefix are listed one level at a time (a delimiter listing,
 * whose prefixes come back through arc_pager_found), a measurement
 * prefix or one below it is listed whole when it holds the shard's paths
 * and not at all otherwise (NULL): a shard never lists another's.
 */
struct arc_plister *
arc_pager_prefix(struct arc_pager *pg, const char *key, size_t n,
    size_t rootlen)
{
	struct arc_plister *l;
	int below;

	below = arc_shard_below(pg->shard, key + rootlen,
	    n > rootlen ? n - rootlen - 1 : 0);
	if (below == 0)
		return NULL;
	l = arc_pager_add(pg, key, n);
	l->delimiter = below == -1;
	return l;
}

/*
 * A prefix (key, n bytes) that a delimiter listing of l returned gets
 * its lister, in *added (NULL: none, another shard's).  A sharded
 * listing trusts only a prefix one level below l's: anything else could
 * hide paths it would then miss, so it is -1 after a warning, and the
 * listing partial.  Without a shard, every prefix below l's is listed
 * whole, and one that is not below it passed over.
 */
int
arc_pager_found(struct arc_pager *pg, struct arc_plister *l, const char *key,
    size_t n, size_t rootlen, struct arc_plister **added)
{
	const char *slash = NULL;
	int below = n > l->prefix.len &&
	    memcmp(key, l->prefix.s, l->prefix.len) == 0;

	*added = NULL;
	if (pg->shard == NULL || pg->shard->count == 0) {
		if (below)
			*added = arc_pager_add(pg, key, n);
		return 0;
	}
	if (below)
		slash = memchr(key + l->prefix.len, '/', n - l->prefix.len);
	if (slash == NULL || slash != key + n - 1) {
		warnx("list '%s%s': a prefix that is not one level below it",
		    pg->name ? pg->name : "", arc_buf_str(&l->prefix));
		return -1;
	}
	*added = arc_pager_prefix(pg, key, n, rootlen);
	return 0;
}

/*
 * Whether an object at rel (relative to the store) is listed: folder
 * markers never, and Arc's candidate filter unless every file is wanted
 * (flags).  The one rule of live listings and inventory reports alike.
 */
int
arc_list_keep(const char *rel, size_t n, int flags)
{
	if (n == 0 || rel[n - 1] == '/')
		return 0;
	return (flags & ARC_LIST_ALL) || arc_path_is_candidate(rel, n);
}

/* Emit an object found by a lister, if arc_list_keep keeps it. */
void
arc_pager_emit(struct arc_pager *pg, const char *rel, size_t n,
    int64_t mtime, int64_t size)
{
	if (arc_list_keep(rel, n, pg->flags))
		pg->fn(pg->arg, rel, n, mtime, size);
}

/* http.c: the engine under arc_http_perform_many (not in arc.h yet) */
void	arc_http_perform_each(struct arc_http *, int,
	    struct arc_http_req *(*)(void *),
	    void (*)(void *, struct arc_http_req *), void *);

struct run {
	struct arc_pager		*pg;
	const struct arc_pager_ops	*ops;
	void				*be;
	size_t				 start;	/* round robin */
	int				 partial, fatal;
	long				 maxpages;
	long				 pages;	/* read so far */
};

/* An unfinished lister with no page in flight. */
static int
idle(const struct arc_plister *l)
{
	return !l->done && l->req.url == NULL;
}

static struct arc_http_req *
ask(struct run *ru, struct arc_plister *l)
{
	const struct arc_buf *from = &l->pos;

	/*
	 * A time-boxed listing asks no page once its deadline has passed,
	 * after one that brought a key the caller took (every run makes
	 * progress): what was read is whole up to its last key, and the
	 * caller says where that is.
	 */
	if (ru->pg->deadline > 0 && ru->pages > 0 && (ru->pg->accepted ==
	    NULL || *ru->pg->accepted > 0) &&
	    arc_time_now_ms() >= ru->pg->deadline) {
		if (ru->pg->cut != NULL)
			*ru->pg->cut = 1;
		return NULL;
	}

	/* the page's keys must sort above its start-after, or the last key */
	if (l->token.len == 0 && arc_pathcmp(l->after.s ? l->after.s : "",
	    l->after.len, l->pos.s ? l->pos.s : "", l->pos.len) > 0)
		from = &l->after;
	l->floor.len = 0;
	arc_buf_add(&l->floor, from->s, from->len);
	next_request(l, &l->asked);
	l->fresh = 0;
	ru->ops->request(ru->be, l, &l->req);
	l->req.klass = ARC_REQ_LIST;
	l->req.arg = l;
	return &l->req;
}

/*
 * The next page to ask: of an unfinished lister with no page in flight
 * (a lister's request holds a URL from the time it is built until its
 * answer is read), taking the listers in turn, so that with more listers
 * than jobs all of them advance together.  A rest lister goes first: its
 * pages are a chain of small requests, one at each split point, that
 * would otherwise be the last thing left.
 */
static struct arc_http_req *
next_page(void *arg)
{
	struct run *ru = arg;
	struct arc_pager *pg = ru->pg;
	size_t i, seen;

	if (ru->fatal || pg->n == 0)
		return NULL;
	for (i = 0; i < pg->n; i++)
		if (pg->v[i]->rest && idle(pg->v[i]))
			return ask(ru, pg->v[i]);
	if (ru->start >= pg->n)
		ru->start = 0;
	for (seen = 0, i = ru->start; seen < pg->n; seen++, i = (i + 1) % pg->n)
		if (idle(pg->v[i])) {
			ru->start = i + 1;
			return ask(ru, pg->v[i]);
		}
	return NULL;
}

/*
 * After a page the backend read without fault and that did not end its
 * lister: 0 when the lister moved forward enough to ask another, else
 * -1 after a warning naming its prefix.
 */
static int
progress(struct run *ru, struct arc_plister *l)
{
	struct arc_buf next = { 0 }, why = { 0 };
	int ret = 0;

	next_request(l, &next);
	l->stall = l->fresh > 0 ? 0 : l->stall + 1;
	if (next.len == l->asked.len &&
	    memcmp(next.s, l->asked.s, next.len) == 0)
		arc_buf_adds(&why, "the next page would be asked as this one "
		    "was (a token that repeats)");
	else if (l->stall >= STALL_PAGES)
		arc_buf_printf(&why, "%d pages in a row without a new key",
		    l->stall);
	else if (l->pages >= ru->maxpages)
		arc_buf_printf(&why, "more than %ld pages (ARC_LIST_MAX_PAGES)",
		    ru->maxpages);
	if (why.len > 0) {
		if (!ru->pg->quiet)
			warnx("list '%s%s': %s", ru->pg->name ? ru->pg->name :
			    "", arc_buf_str(&l->prefix), why.s);
		ret = -1;
	}
	arc_buf_free(&next);
	arc_buf_free(&why);
	return ret;
}

/* A page arrived: the backend reads it, and may add listers. */
static void
page_done(void *arg, struct arc_http_req *r)
{
	struct run *ru = arg;
	struct arc_plister *l = r->arg;
	int rc;

	l->pages++;
	ru->pages++;
	rc = ru->ops->page(ru->be, ru->pg, l, r);
	/* a TLS refusal is the configuration, not one lister's bad luck */
	if (rc != 0 && arc_http_misconfigured(r))
		rc = -2;
	arc_http_req_free(r);
	if (rc == 0 && !l->done)
		rc = progress(ru, l);
	if (rc != 0) {
		l->done = 1;
		ru->partial = 1;
		if (rc == -2)
			ru->fatal = 1;	/* ask nothing more */
	}
}

/*
 * Run every lister to its end, with up to jobs pages in flight: as soon
 * as a page is read, the next one of that lister (or of another) is
 * asked, with no round to wait for.  Returns ARC_EXIT_OK, ARC_EXIT_SOME
 * when a lister failed (the listing is partial), or ARC_EXIT_ERROR when a
 * page callback said the failure is fatal (wrong credentials, no such
 * container): then the caller must not use what was listed.
 */
int
arc_pager_run(struct arc_pager *pg, struct arc_http *h,
    const struct arc_pager_ops *ops, void *be, int jobs)
{
	struct run ru = { pg, ops, be, 0, 0, 0, arc_list_max_pages(), 0 };

	if (jobs < 1)
		jobs = 1;
	arc_http_perform_each(h, jobs, next_page, page_done, &ru);
	arc_pager_free(pg);
	if (ru.fatal)
		return ARC_EXIT_ERROR;
	return ru.partial ? ARC_EXIT_SOME : ARC_EXIT_OK;
}

/* Free every lister of pg, and pg's list of them. */
void
arc_pager_free(struct arc_pager *pg)
{
	struct arc_plister *l;
	size_t i;

	for (i = 0; i < pg->n; i++) {
		l = pg->v[i];
		arc_buf_free(&l->prefix);
		arc_buf_free(&l->token);
		arc_buf_free(&l->after);
		arc_buf_free(&l->until);
		arc_buf_free(&l->pos);
		arc_buf_free(&l->floor);
		arc_buf_free(&l->asked);
		if (l->req.url != NULL)
			arc_http_req_free(&l->req);
		free(l);
	}
	free(pg->v);
	pg->v = NULL;
	pg->n = pg->cap = 0;
}
