/*
 * test_sort.c - the bounded-memory sort (sortpipe.c): random lines in,
 * the same lines out in the order LC_ALL=C sort(1) gives (bytes, then
 * the shorter first), whether they fit in memory or spill to many runs.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arc.h"
#include "unit.h"

struct line {
	char	*s;
	size_t	 n;
};

static uint64_t
rnd(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static int
cmp_line(const void *a, const void *b)
{
	const struct line *x = a, *y = b;
	int c;

	c = memcmp(x->s, y->s, x->n < y->n ? x->n : y->n);
	if (c)
		return c;
	return x->n < y->n ? -1 : x->n > y->n;
}

/*
 * Random lines that are hard to sort: long shared prefixes (as paths
 * have), prefixes of each other, repeats, NUL and high bytes, empty
 * lines, prefixes of thousands of bytes; never a newline.
 */
static void
make_lines(struct line *v, size_t n, uint64_t *x)
{
	static const char *pre[] = { "", "metrics/cpu/2026/01/0",
	    "metrics/cpu/2026/01/01/00/cpu_20260101_0000", "a", "ab", NULL };
	static char longpre[3000];
	size_t i, k, len;

	/* deeper than the sort goes word by word before it falls back */
	if (pre[5] == NULL) {
		memset(longpre, 'x', sizeof(longpre) - 1);
		pre[5] = longpre;
	}
	for (i = 0; i < n; i++) {
		if (i > 0 && rnd(x) % 20 == 0) {	/* a repeat */
			k = (size_t)(rnd(x) % i);
			v[i].n = v[k].n;
			v[i].s = malloc(v[k].n + 1);
			memcpy(v[i].s, v[k].s, v[k].n);
			continue;
		}
		const char *p = pre[rnd(x) % 6];
		len = (size_t)(rnd(x) % 20);
		v[i].n = strlen(p) + len;
		v[i].s = malloc(v[i].n + 1);
		memcpy(v[i].s, p, strlen(p));
		for (k = strlen(p); k < v[i].n; k++) {
			switch (rnd(x) % 8) {
			case 0:
				v[i].s[k] = (char)(rnd(x) % 256);
				if (v[i].s[k] == '\n')
					v[i].s[k] = '\0';
				break;
			case 1:
				v[i].s[k] = '\t';
				break;
			default:
				v[i].s[k] = (char)('0' + rnd(x) % 4);
				break;
			}
		}
	}
}

/*
 * Sort v[0..n) through the sorter with buffer size, reading back by
 * arc_sort_next (next) or by the output stream; the number of lines
 * that came back where and as qsort(3) puts them.
 */
static size_t
sort_check(struct line *v, size_t n, const char *size, int next, int lastnl)
{
	struct arc_sort *so;
	struct line *want;
	FILE *in, *out;
	const char *l;
	char *buf = NULL;
	size_t i, len, cap = 0, good = 0;
	ssize_t r;

	want = malloc(n * sizeof(*want));
	memcpy(want, v, n * sizeof(*want));
	qsort(want, n, sizeof(*want), cmp_line);
	so = arc_sort_open(size);
	in = arc_sort_input(so);
	for (i = 0; i < n; i++) {
		fwrite(v[i].s, 1, v[i].n, in);
		if (i + 1 < n || lastnl)
			putc('\n', in);
	}
	if (next) {
		for (i = 0; arc_sort_next(so, &l, &len); i++)
			if (i < n && len == want[i].n &&
			    memcmp(l, want[i].s, len) == 0)
				good++;
	} else {
		out = arc_sort_output(so);
		for (i = 0; (r = getdelim(&buf, &cap, '\n', out)) > 0; i++)
			if (i < n && buf[r - 1] == '\n' &&
			    (size_t)r - 1 == want[i].n &&
			    memcmp(buf, want[i].s, want[i].n) == 0)
				good++;
	}
	if (i != n)
		good = 0;
	(void)arc_sort_close(so);
	free(buf);
	free(want);
	return good;
}

void
test_sort(void)
{
	static const struct {
		size_t		 n;
		const char	*size;
		int		 next, lastnl;
		const char	*what;
	} cases[] = {
		{ 0, NULL, 1, 1, "no lines" },
		{ 1, NULL, 1, 0, "one line without its newline" },
		{ 20000, NULL, 1, 1, "20000 lines in memory, read by next" },
		{ 20000, "128M", 0, 0, "20000 lines in memory, read as a "
		    "stream, the last without its newline" },
		{ 20000, "64K", 1, 1, "20000 lines through many runs" },
		{ 60000, "1", 0, 1, "60000 lines through more runs than are "
		    "merged at once" },
	};
	struct line *v, big[3];
	uint64_t x = 0x2545f4914f6cdd1dULL;
	size_t c, i, n;

	for (c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		n = cases[c].n;
		v = calloc(n ? n : 1, sizeof(*v));
		make_lines(v, n, &x);
		CHECK_INT(sort_check(v, n, cases[c].size, cases[c].next,
		    cases[c].lastnl), n, "%s: all in byte order", cases[c].what);
		for (i = 0; i < n; i++)
			free(v[i].s);
		free(v);
	}

	/* lines longer than the whole buffer still sort */
	for (i = 0; i < 3; i++) {
		big[i].n = 200000 - i;
		big[i].s = malloc(big[i].n);
		memset(big[i].s, 'a' + (int)(2 - i), big[i].n);
	}
	CHECK_INT(sort_check(big, 3, "64K", 1, 1), 3, "lines longer than "
	    "the buffer sort too");
	for (i = 0; i < 3; i++)
		free(big[i].s);
}
