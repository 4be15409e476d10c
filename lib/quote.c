/*
 * quote.c - the path quoting of arc(7).
 *
 * Bytes below 0x20, 0x7F and the backslash are written C-style (\\, \t,
 * \n, \r, otherwise \ooo); every other byte is written raw.  The quoted
 * form is canonical: the reader accepts only what the writer produces, so
 * that one byte string has exactly one spelling and sorting the quoted
 * form is well defined.
 */

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "arc.h"

/*
 * The first byte in [p, end) that needs quoting (one below 0x20, TAB
 * among them, 0x7F or a backslash), or end.  Sixteen bytes at a time
 * where SSE2 is at hand (every x86-64): this runs over every path a diff
 * reads, and finds the path's TAB on the way, and over every path a
 * listing or a dump writes.
 */
const char *
arc_plain_span(const char *p, const char *end)
{
#ifdef __SSE2__
	const __m128i c1f = _mm_set1_epi8(0x1f), c7f = _mm_set1_epi8(0x7f);
	const __m128i cbs = _mm_set1_epi8('\\');
	__m128i v, m;
	int bits;

	for (; end - p >= 16; p += 16) {
		v = _mm_loadu_si128((const __m128i *)(const void *)p);
		m = _mm_or_si128(_mm_cmpeq_epi8(_mm_min_epu8(v, c1f), v),
		    _mm_or_si128(_mm_cmpeq_epi8(v, c7f),
		    _mm_cmpeq_epi8(v, cbs)));
		if ((bits = _mm_movemask_epi8(m)) != 0)
			return p + __builtin_ctz((unsigned)bits);
	}
#endif
	while (p < end && !arc_needs_quote((unsigned char)*p))
		p++;
	return p;
}

void
arc_quote(struct arc_buf *b, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i, run;

	arc_buf_grow(b, n);
	for (i = 0; i < n; ) {
		run = (size_t)(arc_plain_span(s + i, s + n) - s);
		if (run > i) {
			arc_buf_add(b, p + i, run - i);
			i = run;
			continue;
		}
		arc_buf_addc(b, '\\');
		switch (p[i]) {
		case '\\': arc_buf_addc(b, '\\'); break;
		case '\t': arc_buf_addc(b, 't'); break;
		case '\n': arc_buf_addc(b, 'n'); break;
		case '\r': arc_buf_addc(b, 'r'); break;
		default:
			arc_buf_addc(b, '0' + (p[i] >> 6));
			arc_buf_addc(b, '0' + ((p[i] >> 3) & 7));
			arc_buf_addc(b, '0' + (p[i] & 7));
			break;
		}
		i++;
	}
}

/*
 * Decode one escape at s[i] (which is a backslash); return its length,
 * or 0 when it is not canonical.
 */
static size_t
unescape1(const unsigned char *s, size_t n, size_t i, unsigned char *out)
{
	unsigned v;

	if (i + 1 >= n)
		return 0;
	switch (s[i + 1]) {
	case '\\': *out = '\\'; return 2;
	case 't': *out = '\t'; return 2;
	case 'n': *out = '\n'; return 2;
	case 'r': *out = '\r'; return 2;
	}
	if (i + 3 >= n || s[i + 1] < '0' || s[i + 1] > '3' ||
	    s[i + 2] < '0' || s[i + 2] > '7' || s[i + 3] < '0' || s[i + 3] > '7')
		return 0;
	v = (unsigned)(s[i + 1] - '0') << 6 | (unsigned)(s[i + 2] - '0') << 3 |
	    (unsigned)(s[i + 3] - '0');
	if (!arc_needs_quote((unsigned char)v) || v == '\\' || v == '\t' ||
	    v == '\n' || v == '\r')
		return 0;
	*out = (unsigned char)v;
	return 4;
}

/* Check a quoted field without decoding it; 0 when canonical. */
int
arc_quoted_check(const char *s, size_t n, const char **errp)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned char c;
	size_t i, k;

	for (i = 0; i < n; ) {
		if (p[i] == '\\') {
			if ((k = unescape1(p, n, i, &c)) == 0) {
				*errp = "invalid escape";
				return -1;
			}
			i += k;
		} else if (arc_needs_quote(p[i])) {
			*errp = "unescaped control byte";
			return -1;
		} else
			i++;
	}
	return 0;
}

/* Append the decoded form of a quoted field to b; 0 on success. */
int
arc_unquote(struct arc_buf *b, const char *s, size_t n, const char **errp)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned char c;
	size_t i, run, k;

	arc_buf_grow(b, n);
	for (i = 0; i < n; ) {
		for (run = i; run < n && p[run] != '\\' &&
		    !arc_needs_quote(p[run]); run++)
			;
		if (run > i) {
			arc_buf_add(b, p + i, run - i);
			i = run;
			continue;
		}
		if (p[i] != '\\') {
			*errp = "unescaped control byte";
			return -1;
		}
		if ((k = unescape1(p, n, i, &c)) == 0) {
			*errp = "invalid escape";
			return -1;
		}
		arc_buf_addc(b, c);
		i += k;
	}
	return 0;
}
