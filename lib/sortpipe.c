/*
 * sortpipe.c - the one place that sorts more than fits in memory: lines
 * written to one stream come back from another in byte order, as
 * LC_ALL=C sort(1) orders them, in memory bounded by the buffer size
 * given.  A record line sorts by its path because TAB sorts below every
 * byte a quoted path can hold.
 *
 * Lines collect in one buffer; a full buffer is sorted in place and
 * written to an unlinked temporary file in $TMPDIR (a run); at the end
 * the runs and what is still in memory are merged.  This used to be
 * sort(1) as a co-process: the pipes both ways and sort's own line
 * handling cost more than the sorting, and the stages that sort must
 * stay near one core's worth of work.  Both streams are stdio streams
 * (fopencookie), so callers read and write lines as they did.
 */
#include <sys/mman.h>
#include <sys/types.h>

#include <endian.h>
#include <err.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arc.h"

#define SORT_DEFAULT	(128 * 1024 * 1024)
#define SORT_MIN	(64 * 1024)	/* sort(1) takes smaller, uselessly */
#define SORT_FANIN	32		/* runs merged at once */
#define SORT_SMALL	12		/* insertion sort below this */

/* A line in the buffer: where it is, and 8 of its bytes at some depth. */
struct sline {
	uint64_t	 key;
	size_t		 off;
	size_t		 len;
};

/* One source of the merge: a run file, or the lines still in memory. */
struct src {
	FILE		*fp;		/* NULL: the lines in memory */
	char		*line;		/* the current line, without '\n' */
	size_t		 len, cap;
};

struct arc_sort {
	size_t		 mem;		/* budget for text and index */
	char		*text;		/* the lines, without their '\n' */
	size_t		 textlen, textcap;
	struct sline	*v;
	size_t		 n, vcap;
	size_t		 pending;	/* bytes of a line not yet ended */
	FILE		**runs;
	size_t		 nruns;
	FILE		*in, *out;
	/* output */
	size_t		 next;		/* the next in-memory line */
	struct src	*srcs;
	size_t		*heap;		/* indices into srcs, least on top */
	size_t		 nheap, nsrcs;
	const char	*cur;		/* what is left of the line being read */
	size_t		 curlen;
	int		 nl;		/* its '\n' is still to be read */
};

/* Byte order, then the shorter first: memcmp(3) and sort(1) alike. */
static int
linecmp(const char *a, size_t an, const char *b, size_t bn)
{
	int c;

	c = memcmp(a, b, an < bn ? an : bn);
	if (c)
		return c;
	return an < bn ? -1 : an > bn;
}

/*
 * The eight bytes of s[0..n) from depth d on as a big-endian number, zero
 * past the end: keys compare as the bytes do, up to a tie in which one
 * line ends (the caller settles that by length).
 */
static uint64_t
key_at(const char *s, size_t n, size_t d)
{
	uint64_t k = 0;
	size_t i;

	if (d + 8 <= n) {
		memcpy(&k, s + d, 8);
		return be64toh(k);
	}
	for (i = d; i < n; i++)
		k |= (uint64_t)(unsigned char)s[i] << (56 - 8 * (i - d));
	return k;
}

static void
swap(struct sline *a, struct sline *b)
{
	struct sline t = *a;

	*a = *b;
	*b = t;
}

static void
insertion(const char *text, struct sline *v, size_t n, size_t d)
{
	size_t i, j;
	struct sline t;

	for (i = 1; i < n; i++) {
		t = v[i];
		for (j = i; j > 0 && linecmp(text + v[j - 1].off + d,
		    v[j - 1].len - d, text + t.off + d, t.len - d) > 0; j--)
			v[j] = v[j - 1];
		v[j] = t;
	}
}

static int
cmp_len(const void *a, const void *b)
{
	const struct sline *x = a, *y = b;

	return x->len < y->len ? -1 : x->len > y->len;
}

struct cmpctx {
	const char	*text;
	size_t		 depth;
};

static int
cmp_full(const void *a, const void *b, void *arg)
{
	const struct sline *x = a, *y = b;
	const struct cmpctx *c = arg;

	return linecmp(c->text + x->off + c->depth, x->len - c->depth,
	    c->text + y->off + c->depth, y->len - c->depth);
}

/*
 * Multikey quicksort (Bentley and Sedgewick) on eight bytes at a time:
 * the lines of a manifest share long prefixes, which a comparison sort
 * would read again at every comparison.  Every line of v[0..n) has the
 * same first d bytes.  The three-way split recurses on the lesser and
 * greater parts and loops on the equal one, one word deeper; a split
 * that goes too deep (hostile input) falls back to qsort(3).
 */
static void
mkqsort(const char *text, struct sline *v, size_t n, size_t d, int budget,
    int loaded)
{
	size_t i, lt, gt, e;
	uint64_t p, a, b, c;

	for (;; loaded = 0) {
		if (n < SORT_SMALL) {
			insertion(text, v, n, d);
			return;
		}
		if (budget-- == 0) {
			struct cmpctx c = { text, d };

			qsort_r(v, n, sizeof(*v), cmp_full, &c);
			return;
		}
		/* the bytes are read once per depth: they are far apart */
		if (!loaded)
			for (i = 0; i < n; i++)
				v[i].key = key_at(text + v[i].off, v[i].len, d);
		a = v[0].key;
		b = v[n / 2].key;
		c = v[n - 1].key;
		p = a < b ? (b < c ? b : a < c ? c : a) :
		    (a < c ? a : b < c ? c : b);
		/* v[0..lt) < p, v[lt..i) == p, v(gt..n) > p */
		for (lt = 0, i = 0, gt = n; i < gt; ) {
			if (v[i].key < p)
				swap(&v[lt++], &v[i++]);
			else if (v[i].key > p)
				swap(&v[i], &v[--gt]);
			else
				i++;
		}
		mkqsort(text, v, lt, d, budget, 1);
		mkqsort(text, v + gt, n - gt, d, budget, 1);
		/*
		 * Among equal keys, a line that ends within them is a
		 * prefix of every longer one: those go first, shortest first
		 * (lines of one length among them are the same line).
		 */
		v += lt;
		n = gt - lt;
		for (e = 0, i = 0; i < n; i++)
			if (v[i].len <= d + 8)
				swap(&v[e++], &v[i]);
		qsort(v, e, sizeof(*v), cmp_len);
		v += e;
		n -= e;
		d += 8;
	}
}

/*
 * Grow the block p of *cap bytes to at least want.  The buffer is
 * written once from end to end, so every page of it is a fault: huge
 * pages (where the kernel grants them) make that 512 times fewer, which
 * shows in a sort's profile.  mremap moves what is there without copying.
 */
static void *
big_grow(void *p, size_t *cap, size_t want)
{
	size_t n = *cap ? *cap : 2 * 1024 * 1024;
	void *q;

	while (n < want)
		n *= 2;
	if (p == NULL)
		q = mmap(NULL, n, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	else
		q = mremap(p, *cap, n, MREMAP_MAYMOVE);
	if (q == MAP_FAILED)
		err(arc_errstatus, "cannot allocate the sort buffer");
#ifdef MADV_HUGEPAGE
	(void)madvise(q, n, MADV_HUGEPAGE);	/* a hint; may be refused */
#endif
	*cap = n;
	return q;
}

/* A temporary file, unlinked, in $TMPDIR (or /tmp) as sort(1) would. */
static FILE *
tmpfile_in_tmpdir(void)
{
	const char *dir;
	char *path;
	FILE *fp;
	int fd;

	if ((dir = getenv("TMPDIR")) == NULL || *dir == '\0')
		dir = "/tmp";
	path = arc_emalloc(strlen(dir) + 32);
	sprintf(path, "%s/arc-sort.XXXXXX", dir);
	if ((fd = mkstemp(path)) == -1)
		err(arc_errstatus, "cannot create temporary file in '%s'", dir);
	unlink(path);
	free(path);
	if ((fp = fdopen(fd, "w+")) == NULL)
		err(arc_errstatus, "fdopen");
	return fp;
}

static void
put_line(FILE *fp, const char *s, size_t n)
{
	if (fwrite(s, 1, n, fp) != n || putc('\n', fp) == EOF)
		err(arc_errstatus, "write error on temporary file");
}

static void
sort_memory(struct arc_sort *s)
{
	size_t lg = 0, n;

	for (n = s->n; n > 1; n >>= 1)
		lg++;
	mkqsort(s->text, s->v, s->n, 0, 4 * (int)lg + 64, 0);
}

static void
add_run(struct arc_sort *s, FILE *fp)
{
	if (fflush(fp) == EOF || ferror(fp) || fseek(fp, 0, SEEK_SET) == -1)
		err(arc_errstatus, "write error on temporary file");
	s->runs = arc_ereallocarray(s->runs, s->nruns + 1, sizeof(*s->runs));
	s->runs[s->nruns++] = fp;
}

/* Sort what is in memory and write it out as a run; the buffer empties. */
static void
spill(struct arc_sort *s)
{
	FILE *fp;
	size_t i;

	sort_memory(s);
	fp = tmpfile_in_tmpdir();
	arc_bigbuf(fp);
	for (i = 0; i < s->n; i++)
		put_line(fp, s->text + s->v[i].off, s->v[i].len);
	add_run(s, fp);
	/* keep the unfinished line at the front */
	memmove(s->text, s->text + s->textlen - s->pending, s->pending);
	s->textlen = s->pending;
	s->n = 0;
}

/*
 * Room for more bytes of the current line.  What is used (text and
 * index) stays within the budget: past it, the buffer is spilled first.
 */
static void
reserve_text(struct arc_sort *s, size_t more)
{
	if (s->n > 0 &&
	    s->textlen + more + s->n * sizeof(*s->v) > s->mem)
		spill(s);
	if (s->textlen + more <= s->textcap)
		return;
	/* a line longer than the whole budget still fits, alone */
	s->text = big_grow(s->text, &s->textcap, s->textlen + more);
}

static void
end_line(struct arc_sort *s)
{
	size_t cap;

	if (s->n == s->vcap) {
		cap = s->vcap * sizeof(*s->v);
		s->v = big_grow(s->v, &cap, (s->n + 1) * sizeof(*s->v));
		s->vcap = cap / sizeof(*s->v);
	}
	s->v[s->n].off = s->textlen - s->pending;
	s->v[s->n].len = s->pending;
	s->n++;
	s->pending = 0;
	if (s->textlen + s->n * sizeof(*s->v) > s->mem)
		spill(s);
}

static ssize_t
sort_write(void *cookie, const char *buf, size_t size)
{
	struct arc_sort *s = cookie;
	const char *p = buf, *e = buf + size, *nl;
	size_t k;

	while (p < e) {
		nl = memchr(p, '\n', (size_t)(e - p));
		k = (size_t)((nl ? nl : e) - p);
		reserve_text(s, k);
		memcpy(s->text + s->textlen, p, k);
		s->textlen += k;
		s->pending += k;
		if (nl == NULL)
			break;
		end_line(s);
		p = nl + 1;
	}
	return (ssize_t)size;
}

/* Read the next line of source i; 0 at its end. */
static int
src_next(struct arc_sort *s, struct src *c)
{
	ssize_t len;

	if (c->fp == NULL) {
		if (s->next == s->n)
			return 0;
		c->line = s->text + s->v[s->next].off;
		c->len = s->v[s->next].len;
		s->next++;
		return 1;
	}
	if ((len = getdelim(&c->line, &c->cap, '\n', c->fp)) == -1) {
		if (ferror(c->fp))
			err(arc_errstatus, "read error on temporary file");
		return 0;
	}
	c->len = (size_t)len - 1;	/* every line of a run has its '\n' */
	return 1;
}

static int
src_less(struct arc_sort *s, size_t a, size_t b)
{
	struct src *x = &s->srcs[a], *y = &s->srcs[b];
	int c;

	c = linecmp(x->line, x->len, y->line, y->len);
	return c < 0 || (c == 0 && a < b);
}

static void
sift_down(struct arc_sort *s, size_t i)
{
	size_t l, m, t;

	for (;;) {
		l = 2 * i + 1;
		if (l >= s->nheap)
			return;
		m = l + 1 < s->nheap && src_less(s, s->heap[l + 1], s->heap[l]) ?
		    l + 1 : l;
		if (!src_less(s, s->heap[m], s->heap[i]))
			return;
		t = s->heap[m];
		s->heap[m] = s->heap[i];
		s->heap[i] = t;
		i = m;
	}
}

/* Start merging runs[first..first+n) and, with mem, the memory lines. */
static void
merge_start(struct arc_sort *s, size_t first, size_t n, int mem)
{
	size_t i;

	s->nsrcs = n + (mem != 0);
	s->srcs = arc_ecalloc(s->nsrcs, sizeof(*s->srcs));
	s->heap = arc_ecalloc(s->nsrcs, sizeof(*s->heap));
	s->nheap = 0;
	for (i = 0; i < s->nsrcs; i++) {
		s->srcs[i].fp = i < n ? s->runs[first + i] : NULL;
		if (s->srcs[i].fp != NULL)
			arc_bigbuf(s->srcs[i].fp);
		if (src_next(s, &s->srcs[i]))
			s->heap[s->nheap++] = i;
	}
	for (i = s->nheap / 2; i-- > 0; )
		sift_down(s, i);
}

/* The least line of the merge, or 0 when all are done. */
static int
merge_next(struct arc_sort *s, const char **line, size_t *len)
{
	struct src *c;

	if (s->cur != NULL) {	/* advance the source given last */
		c = &s->srcs[s->heap[0]];
		if (!src_next(s, c))
			s->heap[0] = s->heap[--s->nheap];
		sift_down(s, 0);
	}
	if (s->nheap == 0)
		return 0;
	c = &s->srcs[s->heap[0]];
	*line = c->line;
	*len = c->len;
	return 1;
}

static void
merge_end(struct arc_sort *s)
{
	size_t i;

	for (i = 0; i < s->nsrcs; i++)
		if (s->srcs[i].fp != NULL) {
			free(s->srcs[i].line);
			fclose(s->srcs[i].fp);
		}
	free(s->srcs);
	free(s->heap);
	s->srcs = NULL;
	s->heap = NULL;
	s->nsrcs = s->nheap = 0;
	s->cur = NULL;
}

/*
 * Too many runs to read at once: merge the first SORT_FANIN into one,
 * until few enough are left.
 */
static void
merge_runs(struct arc_sort *s)
{
	const char *line;
	size_t len;
	FILE *fp;

	while (s->nruns + 1 > SORT_FANIN) {
		fp = tmpfile_in_tmpdir();
		arc_bigbuf(fp);
		merge_start(s, 0, SORT_FANIN, 0);
		while (merge_next(s, &line, &len)) {
			put_line(fp, line, len);
			s->cur = line;
		}
		merge_end(s);
		memmove(s->runs, s->runs + SORT_FANIN,
		    (s->nruns - SORT_FANIN) * sizeof(*s->runs));
		s->nruns -= SORT_FANIN;
		add_run(s, fp);
	}
}

/*
 * The next sorted line, without its '\n', valid until the next call;
 * 0 at the end.  The output stream (arc_sort_output) reads the same
 * lines: a caller uses one or the other.
 */
int
arc_sort_next(struct arc_sort *s, const char **line, size_t *len)
{
	(void)arc_sort_output(s);
	if (!merge_next(s, line, len)) {
		s->cur = NULL;
		return 0;
	}
	s->cur = *len > 0 ? *line : "";	/* merge_next's "given last" mark */
	s->curlen = 0;
	return 1;
}

static ssize_t
sort_read(void *cookie, char *buf, size_t size)
{
	struct arc_sort *s = cookie;
	size_t done = 0, k;

	while (done < size) {
		if (s->curlen > 0) {
			k = s->curlen < size - done ? s->curlen : size - done;
			memcpy(buf + done, s->cur, k);
			s->cur += k;
			s->curlen -= k;
			done += k;
			continue;
		}
		if (s->nl) {
			buf[done++] = '\n';
			s->nl = 0;
			continue;
		}
		if (!merge_next(s, &s->cur, &s->curlen)) {
			s->cur = NULL;
			break;
		}
		s->nl = 1;
		if (s->curlen == 0)	/* merge_next's "given last" mark */
			s->cur = "";
	}
	return (ssize_t)done;
}

static int
sort_close_in(void *cookie)
{
	(void)cookie;
	return 0;
}

/*
 * A size as sort(1)'s --buffer-size takes it: a number with a suffix
 * b, K, M, G, T, P or E (KiB without one), or % of physical memory.
 */
static int
parse_size(const char *arg, size_t *out)
{
	const char *units = "bKMGTPE";
	const char *u;
	char *end;
	unsigned long long v;
	long pages, psz;
	int shift;

	if (*arg < '0' || *arg > '9')
		return -1;
	errno = 0;
	v = strtoull(arg, &end, 10);
	if (errno != 0)
		return -1;
	if (*end == '%' && end[1] == '\0') {
		if (v > 100 || (pages = sysconf(_SC_PHYS_PAGES)) <= 0 ||
		    (psz = sysconf(_SC_PAGESIZE)) <= 0)
			return -1;
		*out = (size_t)((double)pages * (double)psz * (double)v / 100);
		return 0;
	}
	if (*end == '\0')
		shift = 10;
	else if (end[1] == '\0' && (u = strchr(units, end[0] == 'k' ? 'K' :
	    end[0] == 'm' ? 'M' : end[0] == 'g' ? 'G' : end[0] == 't' ? 'T' :
	    end[0])) != NULL && *u != '\0')
		shift = 10 * (int)(u - units);
	else
		return -1;
	if (shift >= 64 || v > (SIZE_MAX >> shift))
		return -1;
	*out = (size_t)(v << shift);
	return 0;
}

/*
 * A sorter with a buffer of bufsize (sort(1)'s --buffer-size syntax;
 * NULL: 128 MiB).  An invalid size is an error here, before any input.
 */
struct arc_sort *
arc_sort_open(const char *bufsize)
{
	static const cookie_io_functions_t wr = { NULL, sort_write, NULL,
	    sort_close_in };
	struct arc_sort *s;
	size_t mem = SORT_DEFAULT;

	if (bufsize != NULL && parse_size(bufsize, &mem) == -1)
		errx(arc_errstatus, "'%s': invalid sort buffer size", bufsize);
	if (mem < SORT_MIN)
		mem = SORT_MIN;
	s = arc_ecalloc(1, sizeof(*s));
	s->mem = mem;
	if ((s->in = fopencookie(s, "w", wr)) == NULL)
		err(arc_errstatus, "fopencookie");
	return s;
}

FILE *
arc_sort_input(struct arc_sort *s)
{
	return s->in;
}

/* Finish the input and return the sorted output stream. */
FILE *
arc_sort_output(struct arc_sort *s)
{
	static const cookie_io_functions_t rd = { sort_read, NULL, NULL,
	    sort_close_in };

	if (s->in != NULL) {
		if (arc_fshut(s->in, "sort input"))
			exit(arc_errstatus);
		s->in = NULL;
		if (s->pending > 0)	/* a last line without its '\n' */
			end_line(s);
		merge_runs(s);
		sort_memory(s);
		merge_start(s, 0, s->nruns, 1);
		if ((s->out = fopencookie(s, "r", rd)) == NULL)
			err(arc_errstatus, "fopencookie");
	}
	return s->out;
}

/* Free the sorter, read to the end or not; 0 (the old interface's "ok"). */
int
arc_sort_close(struct arc_sort *s)
{
	size_t i;

	if (s->in != NULL)
		fclose(s->in);
	if (s->out != NULL)
		fclose(s->out);
	if (s->srcs != NULL)
		merge_end(s);
	else
		for (i = 0; i < s->nruns; i++)
			fclose(s->runs[i]);
	free(s->runs);
	if (s->text != NULL)
		munmap(s->text, s->textcap);
	if (s->v != NULL)
		munmap(s->v, s->vcap * sizeof(*s->v));
	free(s);
	return 0;
}
