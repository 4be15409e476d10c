/*
 * pager.c - paged listings of object stores, many at once.
 *
 * A listing is a set of listers, each walking one key prefix page by
 * page.  Every round asks the next page of up to jobs unfinished listers
 * at once through the HTTP layer's multi interface; a backend's page
 * callback reads the answer, emits objects, and may add listers (a
 * delimiter listing splitting into its prefixes).  The backend decides
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

/*
 * Run every lister to its end.  Returns ARC_EXIT_OK, ARC_EXIT_SOME when
 * a lister failed (the listing is partial), or ARC_EXIT_ERROR when a
 * page callback said the failure is fatal (wrong credentials, no such
 * container): then the caller must not use what was listed.
 */
int
arc_pager_run(struct arc_pager *pg, struct arc_http *h,
    const struct arc_pager_ops *ops, void *be, int jobs)
{
	struct arc_http_req **reqs = NULL;
	size_t i, k, nreq;
	int r, partial = 0, fatal = 0;

	if (jobs < 1)
		jobs = 1;
	while (!fatal) {
		reqs = arc_ereallocarray(reqs, (size_t)jobs, sizeof(*reqs));
		for (i = nreq = 0; i < pg->n && nreq < (size_t)jobs; i++) {
			struct arc_plister *l = pg->v[i];

			if (l->done)
				continue;
			ops->request(be, l, &l->req);
			l->req.arg = l;
			reqs[nreq++] = &l->req;
		}
		if (nreq == 0)
			break;
		arc_http_perform_many(h, reqs, nreq, jobs);
		for (k = 0; k < nreq; k++) {
			struct arc_plister *l = reqs[k]->arg;

			l->pages++;
			r = ops->page(be, pg, l, reqs[k]);
			arc_http_req_free(reqs[k]);
			if (r != 0) {
				l->done = 1;
				partial = 1;
				if (r == -2)
					fatal = 1;
			}
		}
	}
	free(reqs);
	for (i = 0; i < pg->n; i++) {
		arc_buf_free(&pg->v[i]->prefix);
		arc_buf_free(&pg->v[i]->token);
		arc_buf_free(&pg->v[i]->after);
		if (pg->v[i]->req.url != NULL)
			arc_http_req_free(&pg->v[i]->req);
		free(pg->v[i]);
	}
	free(pg->v);
	pg->v = NULL;
	pg->n = pg->cap = 0;
	if (fatal)
		return ARC_EXIT_ERROR;
	return partial ? ARC_EXIT_SOME : ARC_EXIT_OK;
}
