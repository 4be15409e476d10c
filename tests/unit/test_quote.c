/*
 * test_quote.c - the path quoting of arc(7): arc_quote, arc_unquote and
 * arc_quoted_check.  Every input is handed over in a buffer of exactly
 * its length (no NUL after it), so AddressSanitizer catches a read past
 * the end.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arc.h"
#include "unit.h"

/* A string literal and its length, NUL bytes included. */
#define L(s)	(s), sizeof(s) - 1

/* A copy of s[0..n) in a heap block of exactly n bytes. */
static char *
exact(const char *s, size_t n)
{
	char *p = malloc(n ? n : 1);

	if (p == NULL)
		abort();
	memcpy(p, s, n);
	return p;
}

/* The contract's escaping, written independently of lib/quote.c. */
static void
model_quote(struct arc_buf *b, const unsigned char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		switch (s[i]) {
		case '\\': arc_buf_adds(b, "\\\\"); break;
		case '\t': arc_buf_adds(b, "\\t"); break;
		case '\n': arc_buf_adds(b, "\\n"); break;
		case '\r': arc_buf_adds(b, "\\r"); break;
		default:
			if (s[i] < 0x20 || s[i] == 0x7f)
				arc_buf_printf(b, "\\%03o", s[i]);
			else
				arc_buf_addc(b, s[i]);
		}
	}
}

/* arc_quote of s[0..n) into a fresh buffer (the caller frees it). */
static void
quote(struct arc_buf *b, const char *s, size_t n)
{
	char *p = exact(s, n);

	b->len = 0;
	arc_quote(b, p, n);
	free(p);
}

/* arc_unquote of s[0..n); -1 on rejection, with *errp set. */
static int
unquote(struct arc_buf *b, const char *s, size_t n, const char **errp)
{
	char *p = exact(s, n);
	int r;

	b->len = 0;
	*errp = NULL;
	r = arc_unquote(b, p, n, errp);
	free(p);
	return r;
}

static int
qcheck(const char *s, size_t n, const char **errp)
{
	char *p = exact(s, n);
	int r;

	*errp = NULL;
	r = arc_quoted_check(p, n, errp);
	free(p);
	return r;
}

/* xorshift64*: a fixed-seed generator, so a failure reproduces. */
static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t
next_rand(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545f4914f6cdd1dULL;
}

static void
test_single_bytes(void)
{
	struct arc_buf got = { 0 }, want = { 0 }, back = { 0 };
	const char *e;
	int c, badq = -1, badu = -1, badc = -1;
	char ch;

	for (c = 0; c < 256; c++) {
		ch = (char)c;
		quote(&got, &ch, 1);
		want.len = 0;
		model_quote(&want, (unsigned char *)&ch, 1);
		if (badq < 0 && (got.len != want.len ||
		    memcmp(got.s, want.s, got.len) != 0))
			badq = c;
		if (badu < 0 && (unquote(&back, got.s, got.len, &e) != 0 ||
		    back.len != 1 || back.s[0] != ch))
			badu = c;
		if (badc < 0 && qcheck(got.s, got.len, &e) != 0)
			badc = c;
	}
	if (!CHECK(badq < 0, "every byte 0..255 is quoted as arc(7) says"))
		unit_diag("first wrong byte: 0x%02x", badq);
	if (!CHECK(badu < 0, "every byte 0..255 round-trips through unquote"))
		unit_diag("first wrong byte: 0x%02x", badu);
	if (!CHECK(badc < 0, "the quoted form of every byte passes the check"))
		unit_diag("first wrong byte: 0x%02x", badc);

	/* And all 256 bytes in one string, NUL included. */
	{
		char all[256];

		for (c = 0; c < 256; c++)
			all[c] = (char)c;
		quote(&got, all, sizeof(all));
		want.len = 0;
		model_quote(&want, (unsigned char *)all, sizeof(all));
		CHECK_MEM(got.s, got.len, want.s, want.len,
		    "a string of all 256 bytes is quoted byte by byte");
		CHECK(memchr(got.s, '\t', got.len) == NULL &&
		    memchr(got.s, '\n', got.len) == NULL,
		    "the quoted form holds no TAB and no newline");
		CHECK_INT(unquote(&back, got.s, got.len, &e), 0,
		    "a string of all 256 bytes unquotes");
		CHECK_MEM(back.s, back.len, all, sizeof(all),
		    "a string of all 256 bytes round-trips");
	}
	arc_buf_free(&got);
	arc_buf_free(&want);
	arc_buf_free(&back);
}

static void
test_exact_escapes(void)
{
	static const struct {
		const char *in;
		size_t n;
		const char *want;
	} t[] = {
		{ L("\\"), "\\\\" },
		{ L("\t"), "\\t" },
		{ L("\n"), "\\n" },
		{ L("\r"), "\\r" },
		{ L("\0"), "\\000" },
		{ L("\001"), "\\001" },
		{ L("\007"), "\\007" },
		{ L("\010"), "\\010" },
		{ L("\013"), "\\013" },
		{ L("\014"), "\\014" },
		{ L("\033"), "\\033" },
		{ L("\037"), "\\037" },
		{ L("\177"), "\\177" },
		{ L(" "), " " },
		{ L("\""), "\"" },
		{ L("'"), "'" },
		{ L("-"), "-" },
		{ L("~"), "~" },
		{ L("\200"), "\200" },
		{ L("\377"), "\377" },
		{ L("caf\xc3\xa9 \xe2\x82\xac.parquet"),
		    "caf\xc3\xa9 \xe2\x82\xac.parquet" },
		{ L("\xf0\x9f\x98\x80"), "\xf0\x9f\x98\x80" },
		{ L("\xc3\x28 \xff\xfe"), "\xc3\x28 \xff\xfe" },
		{ L("db/a b/c\td\ne\\f.parquet"),
		    "db/a b/c\\td\\ne\\\\f.parquet" },
		{ L("a\0b"), "a\\000b" },
		{ L("\\n"), "\\\\n" },
		{ L("\\\\"), "\\\\\\\\" },
		{ L("\r\n"), "\\r\\n" },
		{ L(""), "" },
	};
	struct arc_buf b = { 0 }, back = { 0 };
	const char *e;
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		quote(&b, t[i].in, t[i].n);
		CHECK_MEM(b.s, b.len, t[i].want, strlen(t[i].want),
		    "quote writes %s as %s", unit_esc(t[i].in, t[i].n),
		    unit_esc(t[i].want, strlen(t[i].want)));
		CHECK(unquote(&back, t[i].want, strlen(t[i].want), &e) == 0 &&
		    back.len == t[i].n && memcmp(back.s, t[i].in, t[i].n) == 0,
		    "unquote reads %s back as %s",
		    unit_esc(t[i].want, strlen(t[i].want)),
		    unit_esc(t[i].in, t[i].n));
	}

	/* Both functions append to what the buffer already holds. */
	b.len = 0;
	arc_buf_adds(&b, "x\\");
	arc_quote(&b, "\t", 1);
	CHECK_MEM(b.s, b.len, "x\\\\t", 4, "quote appends to the buffer");
	b.len = 0;
	arc_buf_adds(&b, "x");
	CHECK(arc_unquote(&b, "\\t", 2, &e) == 0 && b.len == 2 &&
	    memcmp(b.s, "x\t", 2) == 0, "unquote appends to the buffer");
	arc_buf_free(&b);
	arc_buf_free(&back);
}

static void
test_rejections(void)
{
	static const struct {
		const char *in;
		size_t n;
		const char *why;
	} t[] = {
		{ L("\\011"), "TAB must be \\t" },
		{ L("\\012"), "newline must be \\n" },
		{ L("\\015"), "CR must be \\r" },
		{ L("\\134"), "backslash must be \\\\" },
		{ L("\\101"), "'A' must be raw" },
		{ L("\\040"), "space must be raw" },
		{ L("\\200"), "0x80 must be raw" },
		{ L("\\377"), "0xff must be raw" },
		{ L("\\x41"), "no hex escapes" },
		{ L("\\q"), "unknown escape" },
		{ L("\\T"), "escapes are lowercase" },
		{ L("\\N"), "escapes are lowercase" },
		{ L("\\a"), "no \\a" },
		{ L("\\0"), "octal needs three digits" },
		{ L("\\00"), "octal needs three digits" },
		{ L("a\\00"), "octal cut short at the end" },
		{ L("\\08"), "8 is not octal" },
		{ L("\\008x"), "8 is not octal" },
		{ L("\\400"), "\\400 is past a byte" },
		{ L("\\777"), "\\777 is past a byte" },
		{ L("\\"), "a lone backslash" },
		{ L("abc\\"), "a trailing backslash" },
		{ L("\\\\\\"), "an odd trailing backslash" },
		{ L("\\\""), "quote is not escaped" },
		{ L("a\tb"), "raw TAB" },
		{ L("a\nb"), "raw newline" },
		{ L("a\rb"), "raw CR" },
		{ L("a\001b"), "raw 0x01" },
		{ L("a\0b"), "raw NUL" },
		{ L("a\177b"), "raw DEL" },
		{ L("\037"), "raw 0x1f" },
	};
	struct arc_buf b = { 0 };
	const char *e;
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		CHECK(unquote(&b, t[i].in, t[i].n, &e) == -1 && e != NULL &&
		    *e != '\0', "unquote rejects %s (%s)",
		    unit_esc(t[i].in, t[i].n), t[i].why);
		CHECK(qcheck(t[i].in, t[i].n, &e) == -1 && e != NULL &&
		    *e != '\0', "the check rejects %s (%s)",
		    unit_esc(t[i].in, t[i].n), t[i].why);
	}
	arc_buf_free(&b);
}

/* Random byte strings, with the bytes that need escaping made common. */
static void
test_random(void)
{
	static const unsigned char special[] = { '\\', '\t', '\n', '\r', 0,
	    0x7f, 0x1f, 0x80, 0xff, 0xc3, ' ', '0', '7', 'n', 't' };
	struct arc_buf q = { 0 }, back = { 0 }, want = { 0 };
	char s[96];
	const char *e;
	size_t n, i;
	int k, nbad = 0, badmodel = 0, badcheck = 0;
	uint64_t r;

	for (k = 0; k < 5000; k++) {
		n = next_rand() % sizeof(s);
		for (i = 0; i < n; i++) {
			r = next_rand();
			if (k % 2 == 0 && r % 3 == 0)
				s[i] = (char)special[(r >> 8) %
				    sizeof(special)];
			else
				s[i] = (char)(r >> 16);
		}
		quote(&q, s, n);
		want.len = 0;
		model_quote(&want, (unsigned char *)s, n);
		if (q.len != want.len || memcmp(q.s, want.s, q.len) != 0) {
			if (badmodel++ == 0)
				unit_diag("quote %s gave %s", unit_esc(s, n),
				    unit_esc(q.s, q.len));
		}
		if (qcheck(q.s, q.len, &e) != 0) {
			if (badcheck++ == 0)
				unit_diag("check refused %s: %s",
				    unit_esc(q.s, q.len), e);
		}
		if (unquote(&back, q.s, q.len, &e) != 0 || back.len != n ||
		    memcmp(back.s, s, n) != 0) {
			if (nbad++ == 0)
				unit_diag("%s did not round-trip",
				    unit_esc(s, n));
		}
	}
	CHECK_INT(badmodel, 0, "5000 random byte strings are quoted as "
	    "arc(7) says");
	CHECK_INT(badcheck, 0, "5000 random quoted strings pass the check");
	CHECK_INT(nbad, 0, "5000 random byte strings (non-UTF-8 included) "
	    "round-trip");
	arc_buf_free(&q);
	arc_buf_free(&back);
	arc_buf_free(&want);
}

/*
 * Canonical means one spelling per byte string: quote(unquote(x)) == x
 * for every x the reader accepts.  Random short strings over the
 * characters that make up escapes, checked both ways.
 */
static void
test_canonical(void)
{
	static const char alpha[] = "\\0123478ntrxa";
	struct arc_buf back = { 0 }, q = { 0 };
	char s[8];
	const char *e;
	size_t n, i;
	int k, accepted = 0, nbad = 0, disagree = 0, ru, rc;

	for (k = 0; k < 20000; k++) {
		n = next_rand() % sizeof(s);
		for (i = 0; i < n; i++)
			s[i] = alpha[next_rand() % (sizeof(alpha) - 1)];
		ru = unquote(&back, s, n, &e);
		rc = qcheck(s, n, &e);
		if (ru != rc && disagree++ == 0)
			unit_diag("unquote %d, check %d on %s", ru, rc,
			    unit_esc(s, n));
		if (ru != 0)
			continue;
		accepted++;
		quote(&q, back.s, back.len);
		if ((q.len != n || memcmp(q.s, s, n) != 0) && nbad++ == 0)
			unit_diag("%s was accepted but is spelled %s",
			    unit_esc(s, n), unit_esc(q.s, q.len));
	}
	CHECK_INT(disagree, 0, "unquote and the check accept the same strings");
	CHECK(accepted > 1000, "many escape-like strings are accepted (%d)",
	    accepted);
	CHECK_INT(nbad, 0, "every accepted string is the one spelling of "
	    "its bytes");
	arc_buf_free(&back);
	arc_buf_free(&q);
}

void
test_quote(void)
{
	test_single_bytes();
	test_exact_escapes();
	test_rejections();
	test_random();
	test_canonical();
}
