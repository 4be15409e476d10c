/*
 * pager.c - paged listings of object stores, many at once.
 *
 * A listing is a set of listers, each walking one key prefix page by
 * page.  Up to jobs pages of different listers are in flight at once
 * through the HTTP layer's multi interface, and each answer is read as
 * soon as it arrives: a backend's page callback reads it, emits objects,
 * and may add listers (a delimiter listing splitting into its prefixes),
 * and that lister's next page is asked at once.  The backend decides
 * what a page means; this file owns the concurrency.
 */
#include <stdlib.h>
#include <string.h>

#include "arc.h"

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
 * Emit an object found by a lister: path relative to the store, folder
 * markers skipped, Arc's candidate filter unless every file is wanted.
 */
void
arc_pager_emit(struct arc_pager *pg, const char *rel, size_t n,
    int64_t mtime, int64_t size)
{
	if (n == 0 || rel[n - 1] == '/')
		return;
	if (!(pg->flags & ARC_LIST_ALL) && !arc_path_is_candidate(rel, n))
		return;
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
	ru->ops->request(ru->be, l, &l->req);
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

/* A page arrived: the backend reads it, and may add listers. */
static void
page_done(void *arg, struct arc_http_req *r)
{
	struct run *ru = arg;
	struct arc_plister *l = r->arg;
	int rc;

	l->pages++;
	rc = ru->ops->page(ru->be, ru->pg, l, r);
	/* a TLS refusal is the configuration, not one lister's bad luck */
	if (rc != 0 && arc_http_misconfigured(r))
		rc = -2;
	arc_http_req_free(r);
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
	struct run ru = { pg, ops, be, 0, 0, 0 };
	size_t i;

	if (jobs < 1)
		jobs = 1;
	arc_http_perform_each(h, jobs, next_page, page_done, &ru);
	for (i = 0; i < pg->n; i++) {
		arc_buf_free(&pg->v[i]->prefix);
		arc_buf_free(&pg->v[i]->token);
		arc_buf_free(&pg->v[i]->after);
		arc_buf_free(&pg->v[i]->until);
		if (pg->v[i]->req.url != NULL)
			arc_http_req_free(&pg->v[i]->req);
		free(pg->v[i]);
	}
	free(pg->v);
	pg->v = NULL;
	pg->n = pg->cap = 0;
	if (ru.fatal)
		return ARC_EXIT_ERROR;
	return ru.partial ? ARC_EXIT_SOME : ARC_EXIT_OK;
}
