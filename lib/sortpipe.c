/*
 * sortpipe.c - the one sorter: lines in, the same lines out in the order
 * of LC_ALL=C sort(1) (bytes compared as unsigned, a line that is a prefix
 * of another first), in bounded memory.  It reads lines given to
 * arc_sort_add or written to the stream of arc_sort_input; lines that do
 * not fit in memory go, sorted, to one unlinked temporary file in $TMPDIR
 * (or /tmp) as runs, merged at the end; it gives the lines back through
 * arc_sort_next or the stream of arc_sort_output.  A record line sorts by
 * its path because TAB sorts below every byte a quoted path can hold.
 *
 * A run is gathered in one block of memory: the lines from its start, an
 * index entry per line from its end.  It is sorted by its lines' bytes
 * seven at a time, cached with the line's length in a 64-bit key, so that
 * most steps compare integers rather than long shared path prefixes: a
 * radix sort on the key, then the same for each group of lines whose keys
 * are equal, seven bytes further on.  A manifest that fits in one run
 * never touches the disk.  Any error of the temporary file is a one-line
 * message and exit status arc_errstatus: nothing is ever given back from
 * a run that was not written whole.
 */
#include <sys/types.h>
#include <sys/mman.h>

#include <endian.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arc.h"

#define SORT_DEFAULT	(128 * 1024 * 1024)
#define SORT_MIN	4096
#define SORT_MAX	((size_t)3 << 30)	/* offsets are 32 bits */
#define SLACK		16	/* a key reads 8 bytes from any line byte */
#define SMALL		16	/* a group this small: insertion sort */
#define WBUF		(1024 * 1024)
#define POPULATE	(4 * 1024 * 1024)
#define FANIN_MIN	16	/* runs merged at once, whatever the budget */

struct item {
	uint64_t	 key;	/* 7 bytes from depth, then the length code */
	uint32_t	 off;	/* of the line in the block */
	uint32_t	 len;	/* without a newline */
};

/* A sorted run in the temporary file, read back through a buffer. */
struct run {
	off_t		 start, end, pos;	/* its bytes; next read */
	char		*buf;
	size_t		 cap, lo, hi;		/* unread bytes: buf[lo, hi) */
	const char	*line;			/* the head line */
	size_t		 len;
};

struct arc_sort {
	char		*blk;		/* the run being gathered */
	size_t		 cap, used, n;	/* its size, line bytes, lines */
	size_t		 runbytes;	/* the memory budget of a run */
	size_t		 lomark, himark;	/* block prefaulted: [0, lo), [hi, cap) */
	const char	*dir;		/* of the temporary file */
	int		 fd;		/* the temporary file, or -1 */
	off_t		 fsize;
	char		*wbuf;		/* writing a run */
	size_t		 wlen;
	struct run	*runs;
	size_t		 nruns;
	int		 reading;	/* input finished: sorted, merging */
	struct item	*v;		/* the run in memory, sorted */
	size_t		 vn, vi;
	size_t		*heap;		/* sources; nruns is the memory run */
	size_t		 nheap;
	ssize_t		 last;		/* source of the line given last */
	FILE		*in, *out;	/* the stdio faces */
	struct arc_buf	 part;		/* input: a line not yet ended */
	const char	*oline;		/* output: the line being read */
	size_t		 olen, opos;
	int		 oeof;
	int		 closing;
};

static int
linecmp(const char *a, size_t alen, const char *b, size_t blen)
{
	int c;

	c = memcmp(a, b, alen < blen ? alen : blen);
	if (c != 0)
		return c;
	return alen < blen ? -1 : alen > blen;
}

/*
 * The size of a sort buffer as sort(1)'s --buffer-size takes it: a
 * number with an optional suffix b (bytes), K (the default), M, G, T or %
 * of physical memory.  0, or -1 when s is not such a size.
 */
int
arc_sort_size(const char *s, size_t *bytes)
{
	unsigned long long v, mul = 1024;
	char *end;
	long pages, psize;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0)
		return -1;
	if (*end != '\0') {
		if (end[1] != '\0')
			return -1;
		switch (*end) {
		case 'b':
			mul = 1;
			break;
		case 'k': case 'K':
			break;
		case 'm': case 'M':
			mul = 1ULL << 20;
			break;
		case 'g': case 'G':
			mul = 1ULL << 30;
			break;
		case 't': case 'T':
			mul = 1ULL << 40;
			break;
		case '%':
			if (v > 100 ||
			    (pages = sysconf(_SC_PHYS_PAGES)) <= 0 ||
			    (psize = sysconf(_SC_PAGESIZE)) <= 0)
				return -1;
			*bytes = (size_t)((unsigned long long)pages / 100 * v *
			    (unsigned long long)psize);
			return 0;
		default:
			return -1;
		}
	}
	if (v > SIZE_MAX / mul)
		return -1;
	*bytes = (size_t)(v * mul);
	return 0;
}

/*
 * Start a sort holding about bufsize (arc_sort_size; NULL: 128 MiB) in
 * memory, however many lines it is given.  ARC_SORT_RUN_BYTES, a testing
 * knob, overrides bufsize.
 */
struct arc_sort *
arc_sort_open(const char *bufsize)
{
	struct arc_sort *s;
	const char *knob;
	size_t size = 0;

	if (bufsize != NULL && arc_sort_size(bufsize, &size) == -1)
		errx(arc_errstatus, "'%s': invalid sort buffer size", bufsize);
	if ((knob = getenv("ARC_SORT_RUN_BYTES")) != NULL && *knob != '\0' &&
	    arc_sort_size(knob, &size) == -1)
		errx(arc_errstatus, "'%s': invalid ARC_SORT_RUN_BYTES", knob);
	if (size == 0)
		size = SORT_DEFAULT;
	if (size < SORT_MIN)
		size = SORT_MIN;
	if (size > SORT_MAX)
		size = SORT_MAX;
	s = arc_ecalloc(1, sizeof(*s));
	s->runbytes = size & ~(size_t)15;
	s->fd = -1;
	s->last = -1;
	if ((s->dir = getenv("TMPDIR")) == NULL || *s->dir == '\0')
		s->dir = "/tmp";
	return s;
}

/* The index grows down from the end of the block. */
static struct item *
items(struct arc_sort *s)
{
	return (struct item *)(void *)(s->blk + s->cap) - s->n;
}

/*
 * The key of line it at depth d: its bytes d to d+6, big-endian, those
 * past its end 0, then the bytes left from d, up to 8 ("more than 7").
 * Equal keys with fewer than 8 left are equal lines.
 */
static inline uint64_t
keyat(const char *base, const struct item *it, size_t d)
{
	size_t rem = it->len > d ? it->len - d : 0;
	uint64_t k;

	if (rem == 0)
		return 0;
	memcpy(&k, base + it->off + d, sizeof(k));
	k = be64toh(k);
	if (rem < 7)
		k &= ~(uint64_t)0 << (64 - 8 * rem);
	return (k & ~(uint64_t)0xff) | (rem > 7 ? 8 : rem);
}

static void
insertion(const char *base, struct item *v, size_t n, size_t d)
{
	struct item t;
	size_t i, j;

	for (i = 1; i < n; i++) {
		t = v[i];
		for (j = i; j > 0 && linecmp(base + v[j - 1].off + d,
		    v[j - 1].len - d, base + t.off + d, t.len - d) > 0; j--)
			v[j] = v[j - 1];
		v[j] = t;
	}
}

/* LSD radix sort of v by key, on the bytes that differ (set in diff). */
static void
radix(struct item *v, struct item *tmp, size_t n, uint64_t diff)
{
	size_t (*cnt)[256], i, b, sum, c;
	struct item *src = v, *dst = tmp, *t;
	unsigned sh;

	cnt = arc_ecalloc(8, sizeof(*cnt));
	for (i = 0; i < n; i++)
		for (b = 0; b < 8; b++)
			if ((diff >> (8 * b)) & 0xff)
				cnt[b][(v[i].key >> (8 * b)) & 0xff]++;
	for (b = 0; b < 8; b++) {
		if (((diff >> (8 * b)) & 0xff) == 0)
			continue;
		sh = 8 * (unsigned)b;
		for (sum = 0, i = 0; i < 256; i++) {
			c = cnt[b][i];
			cnt[b][i] = sum;
			sum += c;
		}
		for (i = 0; i < n; i++)
			dst[cnt[b][(src[i].key >> sh) & 0xff]++] = src[i];
		t = src;
		src = dst;
		dst = t;
	}
	if (src != v)
		memcpy(v, src, n * sizeof(*v));
	free(cnt);
}

/* Sort v, whose lines share their first d bytes. */
static void
sortrange(const char *base, struct item *v, struct item *tmp, size_t n,
    size_t d)
{
	uint64_t k0, diff;
	size_t i, j;

	for (;;) {
		if (n < 2)
			return;
		if (n <= SMALL) {
			insertion(base, v, n, d);
			return;
		}
		k0 = v[0].key = keyat(base, &v[0], d);
		diff = 0;
		for (i = 1; i < n; i++) {
			v[i].key = keyat(base, &v[i], d);
			diff |= v[i].key ^ k0;
		}
		if (diff != 0)
			break;
		if ((k0 & 0xff) != 8)
			return;		/* all the same line */
		d += 7;
	}
	radix(v, tmp, n, diff);
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && v[j].key == v[i].key; j++)
			;
		if (j - i > 1 && (v[i].key & 0xff) == 8)
			sortrange(base, v + i, tmp, j - i, d + 7);
	}
}

/*
 * Sort the run in memory in place: its index, read from the end of the
 * block, is in the reverse order of arrival; a run that arrived sorted
 * is only turned round.
 */
static void
sortrun(struct arc_sort *s)
{
	struct item *v = items(s), *tmp, t;
	size_t i, n = s->n;

	for (i = n; i > 1; i--)
		if (linecmp(s->blk + v[i - 1].off, v[i - 1].len,
		    s->blk + v[i - 2].off, v[i - 2].len) > 0)
			break;
	if (i <= 1) {
		for (i = 0; i < n / 2; i++) {
			t = v[i];
			v[i] = v[n - 1 - i];
			v[n - 1 - i] = t;
		}
		return;
	}
	tmp = (struct item *)(void *)(s->blk + ((s->used + SLACK + 15) &
	    ~(size_t)15));
	sortrange(s->blk, v, tmp, n, 0);
}

static void
tmpwrite(struct arc_sort *s, const char *p, size_t n)
{
	ssize_t k;

	while (n > 0) {
		if ((k = write(s->fd, p, n)) == -1) {
			if (errno == EINTR)
				continue;
			err(arc_errstatus, "cannot write temporary file in '%s'",
			    s->dir);
		}
		p += k;
		n -= (size_t)k;
		s->fsize += k;
	}
}

static void
wadd(struct arc_sort *s, const char *p, size_t n)
{
	if (s->wlen + n > WBUF) {
		tmpwrite(s, s->wbuf, s->wlen);
		s->wlen = 0;
	}
	if (n > WBUF)
		tmpwrite(s, p, n);
	else {
		memcpy(s->wbuf + s->wlen, p, n);
		s->wlen += n;
	}
}

/* The run in memory, sorted, to the temporary file; the block emptied. */
static void
spill(struct arc_sort *s)
{
	struct item *v;
	struct run *r;
	char path[4096];
	size_t i;

	if (s->fd == -1) {
		if ((size_t)snprintf(path, sizeof(path), "%s/arc-sort.XXXXXX",
		    s->dir) >= sizeof(path)) {
			errno = ENAMETOOLONG;
			err(arc_errstatus, "cannot create temporary file in '%s'",
			    s->dir);
		}
		if ((s->fd = mkstemp(path)) == -1)
			err(arc_errstatus, "cannot create temporary file in '%s'",
			    s->dir);
		(void)unlink(path);	/* gone on every exit */
		s->wbuf = arc_emalloc(WBUF);
	}
	sortrun(s);
	v = items(s);
	s->runs = arc_ereallocarray(s->runs, s->nruns + 1, sizeof(*s->runs));
	r = &s->runs[s->nruns++];
	memset(r, 0, sizeof(*r));
	r->start = s->fsize;
	for (i = 0; i < s->n; i++) {
		wadd(s, s->blk + v[i].off, v[i].len);
		wadd(s, "\n", 1);
	}
	tmpwrite(s, s->wbuf, s->wlen);
	s->wlen = 0;
	r->end = s->fsize;
	s->used = s->n = 0;
}

/*
 * Fault in the block's pages ahead of the lines (from its start) and the
 * index (from its end), some megabytes at a time: one page fault at a
 * time costs a third of a run's time on a virtual machine.  Where the
 * kernel cannot, the pages fault in as they are touched.
 */
static void
prefault(struct arc_sort *s, size_t need)
{
#ifdef MADV_POPULATE_WRITE
	uintptr_t pg = 4096, b = (uintptr_t)s->blk, lo, hi;
	size_t idx = s->cap - (need - s->used);	/* lowest index byte */

	if (s->used + 65536 >= s->lomark && s->lomark < s->himark) {
		lo = (b + s->lomark + pg - 1) & ~(pg - 1);
		hi = (b + s->lomark + POPULATE) & ~(pg - 1);
		if (hi > b + s->himark)
			hi = b + s->himark;
		if (hi > lo)
			(void)madvise((void *)lo, hi - lo, MADV_POPULATE_WRITE);
		s->lomark = hi - b;
	}
	if (idx <= s->himark + 65536 && s->himark > s->lomark) {
		hi = (b + s->himark) & ~(pg - 1);
		lo = s->himark > POPULATE ? (b + s->himark - POPULATE +
		    pg - 1) & ~(pg - 1) : b;
		if (lo < b + s->lomark)
			lo = b + s->lomark;
		if (hi > lo)
			(void)madvise((void *)lo, hi - lo, MADV_POPULATE_WRITE);
		s->himark = lo - b;
	}
#else
	(void)s;
	(void)need;
#endif
}

/* Add one line (without its newline) to the sort. */
void
arc_sort_add(struct arc_sort *s, const char *p, size_t len)
{
	struct item *it;
	size_t need;

	if (len > UINT32_MAX - SLACK - 64)
		errx(arc_errstatus, "a line of %zu bytes is too long to sort",
		    len);
	need = s->used + len + SLACK + 16 + (s->n + 1) * 2 * sizeof(*it);
	if (need > s->cap) {
		if (s->n > 0)
			spill(s);
		need = len + SLACK + 16 + 2 * sizeof(*it);
		/*
		 * The block is taken whole: pages are only counted once
		 * touched, and a run never waits for it to be copied.
		 */
		if (need > s->cap) {
			free(s->blk);
			s->cap = need > s->runbytes ?
			    (need + 15) & ~(size_t)15 : s->runbytes;
			s->blk = arc_emalloc(s->cap);
			s->lomark = 0;
			s->himark = s->cap;
		}
	}
	prefault(s, need);
	memcpy(s->blk + s->used, p, len);
	memset(s->blk + s->used + len, 0, SLACK);
	s->n++;
	it = items(s);
	it->off = (uint32_t)s->used;
	it->len = (uint32_t)len;
	s->used += len;
}

/* Read run r's next line into r->line, or set it NULL at its end. */
static void
runnext(struct arc_sort *s, struct run *r)
{
	char *nl;
	size_t left, want;
	ssize_t k;

	for (;;) {
		if (r->hi > r->lo &&
		    (nl = memchr(r->buf + r->lo, '\n', r->hi - r->lo)) != NULL) {
			r->line = r->buf + r->lo;
			r->len = (size_t)(nl - r->line);
			r->lo += r->len + 1;
			return;
		}
		left = r->hi - r->lo;
		if (r->pos >= r->end) {
			if (left != 0)
				errx(arc_errstatus, "temporary file in '%s' "
				    "changed while sorting", s->dir);
			r->line = NULL;
			return;
		}
		memmove(r->buf, r->buf + r->lo, left);
		r->lo = 0;
		r->hi = left;
		if (r->hi == r->cap) {
			r->cap *= 2;
			r->buf = arc_erealloc(r->buf, r->cap);
		}
		want = r->cap - r->hi;
		if ((off_t)want > r->end - r->pos)
			want = (size_t)(r->end - r->pos);
		if ((k = pread(s->fd, r->buf + r->hi, want, r->pos)) <= 0) {
			if (k == -1 && errno == EINTR)
				continue;
			if (k == 0)
				errno = EIO;
			err(arc_errstatus, "cannot read temporary file in '%s'",
			    s->dir);
		}
		r->hi += (size_t)k;
		r->pos += k;
	}
}

/* The head line of source i (a run, or nruns: the run in memory). */
static void
head(struct arc_sort *s, size_t i, const char **p, size_t *len)
{
	struct item *it;

	if (i < s->nruns) {
		*p = s->runs[i].line;
		*len = s->runs[i].len;
	} else {
		it = &s->v[s->vi];
		*p = s->blk + it->off;
		*len = it->len;
	}
}

static int
srccmp(struct arc_sort *s, size_t a, size_t b)
{
	const char *pa, *pb;
	size_t la, lb;
	int c;

	head(s, a, &pa, &la);
	head(s, b, &pb, &lb);
	if ((c = linecmp(pa, la, pb, lb)) != 0)
		return c;
	return a < b ? -1 : a > b;	/* equal lines: the earlier run */
}

static void
siftdown(struct arc_sort *s, size_t i)
{
	size_t c, t;

	for (;;) {
		c = 2 * i + 1;
		if (c >= s->nheap)
			return;
		if (c + 1 < s->nheap && srccmp(s, s->heap[c + 1], s->heap[c]) < 0)
			c++;
		if (srccmp(s, s->heap[i], s->heap[c]) <= 0)
			return;
		t = s->heap[i];
		s->heap[i] = s->heap[c];
		s->heap[c] = t;
		i = c;
	}
}

/* Every source to its first line, and the heap of those not empty. */
static void
start(struct arc_sort *s)
{
	size_t i;

	s->nheap = 0;
	s->last = -1;
	s->vi = 0;
	for (i = 0; i < s->nruns; i++) {
		s->runs[i].pos = s->runs[i].start;
		s->runs[i].lo = s->runs[i].hi = 0;
		runnext(s, &s->runs[i]);
		if (s->runs[i].line != NULL)
			s->heap[s->nheap++] = i;
	}
	if (s->vn > 0)
		s->heap[s->nheap++] = s->nruns;
	for (i = s->nheap / 2; i-- > 0; )
		siftdown(s, i);
}

/*
 * Merge runs [0, n) into one, written at the end of the temporary file
 * and put last, so that each stage merges runs of one generation: a
 * merge of more runs than their read buffers fit in the budget is done
 * in stages, and memory stays bounded however many runs there are.  A
 * line equal to another may change runs; equal lines are the same bytes.
 * The merged runs' bytes are given back to the file system where it can.
 */
static void
merge_group(struct arc_sort *s, size_t n, size_t bufsz)
{
	struct run nr, *r;
	size_t i;

	s->nheap = 0;
	for (i = 0; i < n; i++) {
		r = &s->runs[i];
		r->cap = bufsz;
		r->buf = arc_emalloc(bufsz);
		r->pos = r->start;
		r->lo = r->hi = 0;
		runnext(s, r);
		if (r->line != NULL)
			s->heap[s->nheap++] = i;
	}
	for (i = s->nheap / 2; i-- > 0; )
		siftdown(s, i);
	memset(&nr, 0, sizeof(nr));
	nr.start = s->fsize;
	while (s->nheap > 0) {
		r = &s->runs[s->heap[0]];
		wadd(s, r->line, r->len);
		wadd(s, "\n", 1);
		runnext(s, r);
		if (r->line == NULL)
			s->heap[0] = s->heap[--s->nheap];
		siftdown(s, 0);
	}
	tmpwrite(s, s->wbuf, s->wlen);
	s->wlen = 0;
	nr.end = s->fsize;
	for (i = 0; i < n; i++) {
		r = &s->runs[i];
		free(r->buf);
#ifdef FALLOC_FL_PUNCH_HOLE
		(void)fallocate(s->fd, FALLOC_FL_PUNCH_HOLE |
		    FALLOC_FL_KEEP_SIZE, r->start, r->end - r->start);
#endif
	}
	memmove(s->runs, s->runs + n, (s->nruns - n) * sizeof(*s->runs));
	s->nruns -= n - 1;
	s->runs[s->nruns - 1] = nr;
}

/* No more input: sort what is in memory and start the merge. */
static void
finish(struct arc_sort *s)
{
	size_t i, bufsz, fanin;

	if (s->reading)
		return;
	if (s->in != NULL) {
		FILE *in = s->in;

		s->in = NULL;
		if (fclose(in) == EOF)
			err(arc_errstatus, "sort input");
	}
	if (s->part.len > 0) {
		arc_sort_add(s, s->part.s, s->part.len);
		s->part.len = 0;
	}
	s->reading = 1;
	if (s->n > 0)
		sortrun(s);
	s->v = s->n > 0 ? items(s) : NULL;
	s->vn = s->n;
	s->heap = arc_ereallocarray(NULL, s->nruns + 1, sizeof(*s->heap));
	/* the read buffers of all runs together: an eighth of the budget */
	fanin = s->runbytes / 8 / 32768;
	if (fanin < FANIN_MIN)
		fanin = FANIN_MIN;
	while (s->nruns > fanin)
		merge_group(s, fanin, 32768);
	free(s->wbuf);
	s->wbuf = NULL;
	if (s->nruns > 0) {
		bufsz = s->runbytes / 8 / s->nruns;
		if (bufsz < 32768)
			bufsz = 32768;
		if (bufsz > WBUF)
			bufsz = WBUF;
		for (i = 0; i < s->nruns; i++) {
			s->runs[i].cap = bufsz;
			s->runs[i].buf = arc_emalloc(bufsz);
		}
	}
	start(s);
}

/*
 * The next line in order, its length in *len and no newline; the line
 * stays valid until the next call.  0 at the end.
 */
int
arc_sort_next(struct arc_sort *s, const char **p, size_t *len)
{
	size_t i;

	finish(s);
	if (s->nruns == 0) {	/* all in memory: no merge */
		if (s->vi >= s->vn)
			return 0;
		/* lines are read in an order unlike the memory's: ask ahead */
		if (s->vi + 8 < s->vn)
			__builtin_prefetch(s->blk + s->v[s->vi + 8].off);
		*p = s->blk + s->v[s->vi].off;
		*len = s->v[s->vi].len;
		s->vi++;
		return 1;
	}
	if (s->last >= 0) {
		i = (size_t)s->last;
		if (i < s->nruns) {
			runnext(s, &s->runs[i]);
			if (s->runs[i].line == NULL)
				s->heap[0] = s->heap[--s->nheap];
		} else if (++s->vi >= s->vn)
			s->heap[0] = s->heap[--s->nheap];
		siftdown(s, 0);
		s->last = -1;
	}
	if (s->nheap == 0)
		return 0;
	s->last = (ssize_t)s->heap[0];
	head(s, s->heap[0], p, len);
	return 1;
}

/* Give the lines again from the first, as the same sequence. */
void
arc_sort_rewind(struct arc_sort *s)
{
	finish(s);
	if (s->nruns == 0)
		s->vi = 0;
	else
		start(s);
	s->oline = NULL;
	s->olen = s->opos = 0;
	s->oeof = 0;
}

/* The stdio faces, for a caller that writes or reads lines as text. */
static ssize_t
cookie_write(void *c, const char *buf, size_t size)
{
	struct arc_sort *s = c;
	const char *p = buf, *end = buf + size, *nl;

	if (s->closing)		/* closed before its end: nothing to sort */
		return (ssize_t)size;
	while (p < end) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL) {
			arc_buf_add(&s->part, p, (size_t)(end - p));
			break;
		}
		if (s->part.len > 0) {
			arc_buf_add(&s->part, p, (size_t)(nl - p));
			arc_sort_add(s, s->part.s, s->part.len);
			s->part.len = 0;
		} else
			arc_sort_add(s, p, (size_t)(nl - p));
		p = nl + 1;
	}
	return (ssize_t)size;
}

static ssize_t
cookie_read(void *c, char *buf, size_t size)
{
	struct arc_sort *s = c;
	size_t got = 0, k;

	while (got < size) {
		if (s->oline == NULL || s->opos > s->olen) {
			if (s->oeof || !arc_sort_next(s, &s->oline, &s->olen)) {
				s->oeof = 1;
				break;
			}
			s->opos = 0;
		}
		if (s->opos < s->olen) {
			k = s->olen - s->opos;
			if (k > size - got)
				k = size - got;
			memcpy(buf + got, s->oline + s->opos, k);
			got += k;
			s->opos += k;
		} else {
			buf[got++] = '\n';
			s->opos++;
		}
	}
	return (ssize_t)got;
}

/* A stream to write the lines to, each ended by a newline. */
FILE *
arc_sort_input(struct arc_sort *s)
{
	cookie_io_functions_t io = { NULL, cookie_write, NULL, NULL };

	if (s->in == NULL && !s->reading &&
	    (s->in = fopencookie(s, "w", io)) == NULL)
		err(arc_errstatus, "fopencookie");
	return s->in;
}

/* Finish the input and return a stream of the sorted lines. */
FILE *
arc_sort_output(struct arc_sort *s)
{
	cookie_io_functions_t io = { cookie_read, NULL, NULL, NULL };

	finish(s);
	if (s->out == NULL && (s->out = fopencookie(s, "r", io)) == NULL)
		err(arc_errstatus, "fopencookie");
	return s->out;
}

/* Free the sort, at its end or before; 0 (a failure has exited). */
int
arc_sort_close(struct arc_sort *s)
{
	size_t i;

	s->closing = 1;
	if (s->in != NULL)
		fclose(s->in);
	if (s->out != NULL)
		fclose(s->out);
	if (s->fd != -1)
		close(s->fd);
	for (i = 0; i < s->nruns; i++)
		free(s->runs[i].buf);
	free(s->runs);
	free(s->heap);
	free(s->wbuf);
	free(s->blk);
	arc_buf_free(&s->part);
	free(s);
	return 0;
}
