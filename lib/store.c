/*
 * store.c - choose a storage backend by the STORE operand and forward to
 * it.  Tools see only this interface; a backend is one file (local.c,
 * and later object stores) providing struct arc_store_ops.
 */
#include <err.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "arc_priv.h"

static const struct arc_store_ops *backends[] = {
	&arc_store_local,
	&arc_store_s3,
	&arc_store_azure,
};

/* Open STORE; NULL after a message when it cannot be used. */
struct arc_store *
arc_store_open(const char *url)
{
	const struct arc_store_ops *ops = &arc_store_local;
	const char *sep, *rest = url;
	struct arc_store *st;
	size_t i, n;

	if (arc_refuse_secret(url, "store") == -1)
		return NULL;
	if ((sep = strstr(url, "://")) != NULL) {
		n = (size_t)(sep - url);
		ops = NULL;
		for (i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
			if (strlen(backends[i]->scheme) == n &&
			    memcmp(backends[i]->scheme, url, n) == 0)
				ops = backends[i];
		if (ops == NULL) {
			warnx("'%s': unsupported store scheme", url);
			return NULL;
		}
		rest = sep + 3;
	}
	st = arc_ecalloc(1, sizeof(*st));
	st->ops = ops;
	st->url = arc_estrdup(url);
	if (ops->open(st, rest) == -1) {
		free(st->url);
		free(st);
		return NULL;
	}
	return st;
}

struct sharded {
	const struct arc_shard *shard;
	arc_list_fn	 fn;
	void		*arg;
};

static int
shard_emit(void *arg, const char *path, size_t n, int64_t mtime,
    int64_t size)
{
	struct sharded *sd = arg;

	if (!arc_shard_has(sd->shard, path, n))
		return 0;
	return sd->fn(sd->arg, path, n, mtime, size);
}

/*
 * List the store, or with a shard set only its paths: every backend's
 * paths pass this one filter, and the backends list no prefix that
 * holds only other shards' paths (arc_shard_below).
 */
int
arc_store_list(struct arc_store *st, char **prefixes, size_t n, int flags,
    arc_list_fn fn, void *arg)
{
	struct sharded sd = { &st->shard, fn, arg };

	if (st->shard.count == 0)
		return st->ops->list(st, prefixes, n, flags, fn, arg);
	return st->ops->list(st, prefixes, n, flags, shard_emit, &sd);
}

/*
 * The gate in front of every backend: a path that reads, removes or
 * writes an object is validated here, whatever the store, so that no
 * backend (nor libcurl, nor a server) ever sees a "..", ".", empty
 * segment or absolute path.  0, or -1 with the reason in eb.
 */
static int
gate(const char *path, size_t n, struct arc_buf *eb)
{
	const char *why;

	if ((why = arc_path_unsafe(path, n)) == NULL)
		return 0;
	eb->len = 0;
	arc_buf_adds(eb, why);
	return -1;
}

struct pool {
	struct arc_store *st;
	struct arc_sitem *items;
	size_t		 n;
	size_t		 next;		/* atomic */
	int		 remove;
};

static void *
worker(void *arg)
{
	struct pool *p = arg;
	struct arc_sitem *it;
	size_t i;

	while ((i = __atomic_fetch_add(&p->next, 1, __ATOMIC_RELAXED)) < p->n) {
		it = &p->items[i];
		it->err.len = 0;
		if (p->remove)
			it->removal = p->st->ops->remove(p->st, it->path,
			    it->pathlen, &it->err);
		else
			it->presence = p->st->ops->stat(p->st, it->path,
			    it->pathlen, &it->st, &it->err);
	}
	return NULL;
}

/* The default concurrency for backends with synchronous calls: threads. */
static void
run_pool(struct arc_store *st, struct arc_sitem *items, size_t n, int jobs,
    int remove)
{
	pthread_t tid[64];
	struct pool p = { st, items, n, 0, remove };
	int i, started = 0;

	if (jobs > 64)
		jobs = 64;
	if ((size_t)jobs > n)
		jobs = (int)n;
	for (i = 1; i < jobs; i++) {
		if (pthread_create(&tid[i], NULL, worker, &p) != 0)
			break;	/* fewer threads is only slower */
		started++;
	}
	worker(&p);
	for (i = 1; i <= started; i++)
		pthread_join(tid[i], NULL);
}

static void
run_many(struct arc_store *st, struct arc_sitem *items, size_t n, int jobs,
    int remove)
{
	if (n == 0)
		return;
	if (remove && st->ops->remove_many != NULL)
		st->ops->remove_many(st, items, n, jobs);
	else if (!remove && st->ops->stat_many != NULL)
		st->ops->stat_many(st, items, n, jobs);
	else
		run_pool(st, items, n, jobs, remove);
}

/*
 * Pass the items through the gate: an invalid path gets its result and
 * reason here, and the backend gets each run of valid items between.
 */
static void
gate_many(struct arc_store *st, struct arc_sitem *items, size_t n, int jobs,
    int remove)
{
	size_t i, from;

	for (i = from = 0; i < n; i++) {
		if (gate(items[i].path, items[i].pathlen, &items[i].err) == 0)
			continue;
		if (remove)
			items[i].removal = ARC_REMOVE_FAILED;
		else
			items[i].presence = ARC_UNKNOWN;
		run_many(st, items + from, i - from, jobs, remove);
		from = i + 1;
	}
	run_many(st, items + from, n - from, jobs, remove);
}

/* Stat n objects, up to jobs at once; each item gets its presence. */
void
arc_store_stat_many(struct arc_store *st, struct arc_sitem *items, size_t n,
    int jobs)
{
	gate_many(st, items, n, jobs, 0);
}

/* Remove n objects (a batch); each item gets its removal result. */
void
arc_store_remove_many(struct arc_store *st, struct arc_sitem *items,
    size_t n, int jobs)
{
	gate_many(st, items, n, jobs, 1);
}

/*
 * A dry run's estimate: what stat_many or remove_many (ARC_COST_STAT,
 * ARC_COST_REMOVE) of these items would send; nothing for a backend
 * that sends no request (local).
 */
void
arc_store_cost(struct arc_store *st, int op, const struct arc_sitem *items,
    size_t n)
{
	if (st->ops->cost != NULL)
		st->ops->cost(st, op, items, n);
}

/* Copy the object at path to fd; ARC_PRESENT/ARC_ABSENT/ARC_UNKNOWN. */
int
arc_store_get(struct arc_store *st, const char *path, size_t n, int fd,
    struct arc_stat *sb, struct arc_buf *eb)
{
	if (gate(path, n, eb) == -1)
		return ARC_UNKNOWN;
	return st->ops->get(st, path, n, fd, sb, eb);
}

/* Create the object at path from fd, never replacing one; 0 or -1. */
int
arc_store_put(struct arc_store *st, const char *path, size_t n, int fd,
    int64_t mtime, struct arc_buf *eb)
{
	if (gate(path, n, eb) == -1)
		return -1;
	return st->ops->put(st, path, n, fd, mtime, eb);
}

void
arc_store_close(struct arc_store *st)
{
	if (st == NULL)
		return;
	st->ops->close(st);
	free(st->url);
	free(st);
}
