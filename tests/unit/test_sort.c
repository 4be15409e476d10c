/*
 * test_sort.c - the sorter (lib/sortpipe.c): lines come back in the order
 * of LC_ALL=C sort(1) (memcmp, then a prefix first), each once per time
 * given, whether they fit in one run in memory or are spilled as many
 * runs to a temporary file and merged; arc_sort_rewind gives the same
 * sequence again; the stdio faces split and join lines as text; sort(1)'s
 * --buffer-size syntax.  The reference order is qsort(3) with memcmp.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arc.h"
#include "unit.h"

struct ln {
	char	*s;
	size_t	 len;
};

static int
refcmp(const void *a, const void *b)
{
	const struct ln *x = a, *y = b;
	int c;

	c = memcmp(x->s, y->s, x->len < y->len ? x->len : y->len);
	if (c != 0)
		return c;
	return x->len < y->len ? -1 : x->len > y->len;
}

static uint64_t seed = 88172645463325252ULL;

static uint64_t
rnd(void)
{
	seed ^= seed << 13;
	seed ^= seed >> 7;
	seed ^= seed << 17;
	return seed;
}

/*
 * n lines like records: long shared prefixes, lines that are prefixes of
 * others, duplicates, empty lines, bytes 0x00 and 0xff (never a newline).
 */
static struct ln *
lines(size_t n)
{
	static const char *pfx[] = { "metrics/cpu/2026/01/", "metrics/cpu/",
	    "metrics/disk/2026/", "m", "", "metrics/cpu/2026/01/01/00/cpu_" };
	struct ln *v;
	size_t i, k, extra;
	char buf[256];

	if ((v = calloc(n, sizeof(*v))) == NULL)
		abort();
	for (i = 0; i < n; i++) {
		if (i > 0 && rnd() % 10 == 0) {		/* a duplicate */
			k = rnd() % i;
			v[i].len = v[k].len;
			v[i].s = malloc(v[k].len + 1);
			memcpy(v[i].s, v[k].s, v[k].len);
			continue;
		}
		if (i > 0 && rnd() % 10 == 0) {		/* a prefix of another */
			k = rnd() % i;
			v[i].len = v[k].len ? rnd() % v[k].len : 0;
			v[i].s = malloc(v[i].len + 1);
			memcpy(v[i].s, v[k].s, v[i].len);
			continue;
		}
		snprintf(buf, sizeof(buf), "%s", pfx[rnd() % 6]);
		k = strlen(buf);
		extra = rnd() % 40;
		while (extra-- > 0) {
			switch (rnd() % 8) {
			case 0:
				buf[k++] = (char)(rnd() % 256);
				if (buf[k - 1] == '\n')
					buf[k - 1] = '\t';
				break;
			case 1:
				buf[k++] = '\t';
				break;
			default:
				buf[k++] = (char)('0' + rnd() % 4);
				break;
			}
		}
		v[i].len = k;
		v[i].s = malloc(k + 1);
		memcpy(v[i].s, buf, k);
	}
	return v;
}

static void
freelines(struct ln *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i].s);
	free(v);
}

/* The sorter's lines, read with arc_sort_next, equal want (n of them). */
static int
same(struct arc_sort *so, const struct ln *want, size_t n)
{
	const char *p;
	size_t i = 0, len;

	while (arc_sort_next(so, &p, &len)) {
		if (i >= n || len != want[i].len ||
		    memcmp(p, want[i].s, len) != 0) {
			unit_diag("line %zu differs", i);
			return 0;
		}
		i++;
	}
	if (i != n)
		unit_diag("%zu lines, want %zu", i, n);
	return i == n;
}

/*
 * n lines through a sort with run budget runbytes, given shuffled (order
 * 0), sorted (1), in reverse (-1), or sorted but for the first two and
 * the last two lines swapped (2: arc-list's listings arrive in order
 * but for a few, and the check that skips the sort must see those).
 */
static void
roundtrip(size_t n, const char *runbytes, int order)
{
	struct ln *v = lines(n), *want, *in;
	struct arc_sort *so;
	size_t i;

	setenv("ARC_SORT_RUN_BYTES", runbytes, 1);
	want = malloc(n * sizeof(*want) + 1);
	in = malloc(n * sizeof(*in) + 1);
	if (want == NULL || in == NULL)
		abort();
	if (n > 0)
		memcpy(want, v, n * sizeof(*want));
	qsort(want, n, sizeof(*want), refcmp);
	for (i = 0; i < n; i++)
		in[i] = order == 0 ? v[i] : order > 0 ? want[i] :
		    want[n - 1 - i];
	if (order == 2 && n >= 4) {
		in[0] = want[1];
		in[1] = want[0];
		in[n - 2] = want[n - 1];
		in[n - 1] = want[n - 2];
	}
	so = arc_sort_open(NULL);
	for (i = 0; i < n; i++)
		arc_sort_add(so, in[i].s, in[i].len);
	CHECK(same(so, want, n), "%zu lines, runs of %s, order %d: "
	    "sorted as memcmp sorts them", n, runbytes, order);
	arc_sort_rewind(so);
	CHECK(same(so, want, n), "%zu lines, runs of %s, order %d: the same "
	    "again after a rewind", n, runbytes, order);
	arc_sort_close(so);
	freelines(v, n);
	free(want);
	free(in);
	unsetenv("ARC_SORT_RUN_BYTES");
}

/* Text in, text out: lines split across writes, the last one unended. */
static void
faces(const char *runbytes)
{
	static const char *in[] = { "b\tx", "a", "", "ab", "a\t2", "a\t1",
	    "zz", "b" };
	const char *want = "\na\na\t1\na\t2\nab\nb\nb\tx\nzz\n";
	struct arc_sort *so;
	FILE *fp;
	char *got = NULL;
	size_t i, cap = 0, len = 0, k;

	setenv("ARC_SORT_RUN_BYTES", runbytes, 1);
	so = arc_sort_open(NULL);
	fp = arc_sort_input(so);
	setvbuf(fp, NULL, _IONBF, 0);	/* every piece a write of its own */
	for (i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		fwrite(in[i], 1, strlen(in[i]) / 2, fp);
		fputs(in[i] + strlen(in[i]) / 2, fp);
		if (i + 1 < sizeof(in) / sizeof(in[0]))
			putc('\n', fp);
	}
	fp = arc_sort_output(so);
	if ((got = malloc(cap = 4096)) == NULL)
		abort();
	while ((k = fread(got + len, 1, 3, fp)) > 0)
		len += k;
	CHECK_MEM(got, len, want, strlen(want), "stdio faces, runs of %s: "
	    "lines joined across writes, a last line without a newline "
	    "ended, read back in small pieces", runbytes);
	free(got);
	arc_sort_close(so);
	unsetenv("ARC_SORT_RUN_BYTES");
}

static void
sizes(void)
{
	size_t b;

	CHECK(arc_sort_size("128M", &b) == 0 && b == 128u << 20,
	    "size: 128M is 128 MiB");
	CHECK(arc_sort_size("64K", &b) == 0 && b == 64u << 10,
	    "size: 64K is 64 KiB");
	CHECK(arc_sort_size("64", &b) == 0 && b == 64u << 10,
	    "size: a bare number is KiB, as sort(1) takes it");
	CHECK(arc_sort_size("4096b", &b) == 0 && b == 4096,
	    "size: b is bytes");
	CHECK(arc_sort_size("1G", &b) == 0 && b == 1u << 30, "size: 1G");
	CHECK(arc_sort_size("10%", &b) == 0 && b > 0,
	    "size: a percentage of physical memory");
	CHECK(arc_sort_size("bogus", &b) == -1, "size: bogus is refused");
	CHECK(arc_sort_size("12Mb", &b) == -1, "size: two suffixes refused");
	CHECK(arc_sort_size("-1M", &b) == -1, "size: negative refused");
	CHECK(arc_sort_size("", &b) == -1, "size: empty refused");
	CHECK(arc_sort_size("101%", &b) == -1, "size: over 100%% refused");
}

void
test_sort(void)
{
	sizes();
	roundtrip(0, "4096b", 0);
	roundtrip(1, "4096b", 0);
	roundtrip(5000, "128M", 0);	/* one run, in memory */
	roundtrip(5000, "4096b", 0);	/* many runs merged */
	roundtrip(5000, "64K", 0);	/* a few runs merged */
	roundtrip(20000, "64K", 1);	/* runs already sorted */
	roundtrip(20000, "64K", -1);	/* runs in reverse */
	roundtrip(5000, "128M", 2);	/* in order but for two swaps */
	roundtrip(20000, "64K", 2);
	faces("128M");
	faces("4096b");
}
