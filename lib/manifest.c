/*
 * manifest.c - choose a manifest source by the MANIFEST operand and
 * forward to it.  A source is one file (mfile.c, and later cluster
 * sources) providing struct arc_manifest_ops.
 */
#include <err.h>
#include <stdlib.h>
#include <string.h>

#include "arc_priv.h"

static const struct arc_manifest_ops *sources[] = {
	&arc_manifest_file,
	&arc_manifest_arcapi,
	&arc_manifest_etcd,
};

/* Whether the space-separated scheme list names the n-byte scheme s. */
static int
has_scheme(const char *list, const char *s, size_t n)
{
	const char *p = list, *end;

	for (; *p; p = *end ? end + 1 : end) {
		end = strchr(p, ' ');
		if (end == NULL)
			end = p + strlen(p);
		if ((size_t)(end - p) == n && memcmp(p, s, n) == 0)
			return 1;
	}
	return 0;
}

struct arc_manifest *
arc_manifest_open(const char *spec)
{
	const struct arc_manifest_ops *ops = &arc_manifest_file;
	const char *sep, *rest = spec;
	struct arc_manifest *m;
	size_t i, n;

	if (arc_refuse_secret(spec, "manifest") == -1)
		return NULL;
	if ((sep = strstr(spec, "://")) != NULL) {
		n = (size_t)(sep - spec);
		ops = NULL;
		for (i = 0; i < sizeof(sources) / sizeof(sources[0]); i++)
			if (has_scheme(sources[i]->scheme, spec, n))
				ops = sources[i];
		if (ops == NULL) {
			warnx("'%s': unsupported manifest scheme", spec);
			return NULL;
		}
		rest = sep + 3;
	}
	m = arc_ecalloc(1, sizeof(*m));
	m->ops = ops;
	m->spec = arc_estrdup(spec);
	if (ops->open(m, rest) == -1) {
		free(m->spec);
		free(m);
		return NULL;
	}
	return m;
}

int
arc_manifest_dump(struct arc_manifest *m, arc_entry_fn fn, void *arg)
{
	return m->ops->dump(m, fn, arg);
}

/*
 * Announce every item a phase will look up or remove, batch by batch,
 * so that a source can read its manifest once for all the batches and
 * afterwards only what changed (mfile.c).  A later plan replaces it;
 * the batches may still hold items not announced.  Sources without the
 * operation read their manifest as before; 0, or -1 after a message.
 */
/*
 * A dry run's estimate: what a look-up (ARC_COST_LOOKUP) or a removal
 * (ARC_COST_MREMOVE) of n entries would send; returns, for a removal,
 * how many entries it would remove (a read-only source defers them).
 */
size_t
arc_manifest_cost(struct arc_manifest *m, int op, size_t n)
{
	if (m->ops->cost != NULL)
		return m->ops->cost(m, op, n);
	return op == ARC_COST_MREMOVE ? n : 0;
}

int
arc_manifest_plan(struct arc_manifest *m, const struct arc_mitem *items,
    size_t n)
{
	if (m->ops->plan == NULL)
		return 0;
	return m->ops->plan(m, items, n);
}

/* Look each item up in the live manifest, in one pass. */
int
arc_manifest_lookup(struct arc_manifest *m, struct arc_mitem *items,
    size_t n)
{
	return m->ops->lookup(m, items, n);
}

/* As lookup, and fetch each present entry's JSON into item->json. */
int
arc_manifest_fetch(struct arc_manifest *m, struct arc_mitem *items,
    size_t n)
{
	return m->ops->fetch(m, items, n);
}

/* Remove a batch of entries; -1 when the batch as a whole failed. */
int
arc_manifest_remove(struct arc_manifest *m, struct arc_mitem *items,
    size_t n, struct arc_buf *eb)
{
	return m->ops->remove(m, items, n, eb);
}

/* Put archived entries (NDJSON) back; the number restored, or -1. */
int
arc_manifest_restore(struct arc_manifest *m, FILE *fp, struct arc_buf *eb)
{
	return m->ops->restore(m, fp, eb);
}

void
arc_manifest_close(struct arc_manifest *m)
{
	if (m == NULL)
		return;
	m->ops->close(m);
	free(m->spec);
	free(m);
}
