/*
 * unit.h - a tiny TAP harness for the library's unit tests.
 *
 * Every check prints "ok N - name" or "not ok N - name"; a failed check
 * adds "# " lines saying where and what (got/want for the typed checks).
 * The plan "1..N" comes last, printed by unit_done(), which also gives
 * main() its exit status.  Names are printf formats: show untrusted
 * bytes through ESC(), so that a name never holds a newline or a '#'.
 *
 * main.c defines UNIT_MAIN before including this file, which turns the
 * declarations below into the one definition of the harness.
 */
#ifndef UNIT_H
#define UNIT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define UNIT_FMT	__attribute__((format(printf, 5, 6)))

int	 unit_ok(int, const char *, int, const char *, const char *, ...)
	    UNIT_FMT;
int	 unit_int(intmax_t, intmax_t, const char *, int, const char *, ...)
	    __attribute__((format(printf, 5, 6)));
int	 unit_mem(const void *, size_t, const void *, size_t, const char *,
	    int, const char *, ...) __attribute__((format(printf, 7, 8)));
int	 unit_str(const char *, const char *, const char *, int,
	    const char *, ...) UNIT_FMT;
void	 unit_diag(const char *, ...) __attribute__((format(printf, 1, 2)));
const char *unit_esc(const void *, size_t);
void	 unit_capture(void);
const char *unit_captured(void);
int	 unit_done(void);

/* CHECK(cond, "name %d", ...): cond must hold. */
#define CHECK(cond, ...) \
	unit_ok(!!(cond), __FILE__, __LINE__, "" #cond, __VA_ARGS__)
/* CHECK_INT(got, want, "name"): integers (intmax_t) are equal. */
#define CHECK_INT(got, want, ...) \
	unit_int((intmax_t)(got), (intmax_t)(want), __FILE__, __LINE__, \
	    __VA_ARGS__)
/* CHECK_MEM(got, gotlen, want, wantlen, "name"): byte strings are equal. */
#define CHECK_MEM(got, gl, want, wl, ...) \
	unit_mem((got), (gl), (want), (wl), __FILE__, __LINE__, __VA_ARGS__)
/* CHECK_LIT(got, gotlen, "literal", "name"): got holds the literal. */
#define CHECK_LIT(got, gl, lit, ...) \
	unit_mem((got), (gl), (lit), sizeof(lit) - 1, __FILE__, __LINE__, \
	    __VA_ARGS__)
/* CHECK_STR(got, want, "name"): NUL-terminated strings are equal. */
#define CHECK_STR(got, want, ...) \
	unit_str((got), (want), __FILE__, __LINE__, __VA_ARGS__)
/* ESC(s): a C-escaped, shortened view of NUL-terminated s, for names. */
#define ESC(s)	unit_esc((s), strlen(s))

/* The test groups, one per file. */
void	 test_quote(void);
void	 test_time(void);
void	 test_path(void);
void	 test_record(void);
void	 test_json(void);
void	 test_azcred(void);
void	 test_shard(void);
void	 test_url(void);
void	 test_url_local(void);
void	 test_sort(void);
void	 test_xml(void);

#ifdef UNIT_MAIN
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static int unit_n, unit_nfailed;
static FILE *unit_stderr;		/* the real stderr while capturing */
static char *unit_cap;
static size_t unit_caplen;

static void
unit_vresult(int ok, const char *fmt, va_list ap)
{
	printf("%s %d - ", ok ? "ok" : "not ok", ++unit_n);
	vprintf(fmt, ap);
	putchar('\n');
	if (!ok)
		unit_nfailed++;
}

int
unit_ok(int ok, const char *file, int line, const char *expr,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	unit_vresult(ok, fmt, ap);
	va_end(ap);
	if (!ok)
		printf("#   %s:%d: failed: %s\n", file, line, expr);
	return ok;
}

int
unit_int(intmax_t got, intmax_t want, const char *file, int line,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	unit_vresult(got == want, fmt, ap);
	va_end(ap);
	if (got != want)
		printf("#   %s:%d: got %jd, want %jd\n", file, line, got, want);
	return got == want;
}

int
unit_mem(const void *got, size_t gl, const void *want, size_t wl,
    const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	int ok;

	ok = got != NULL && gl == wl && memcmp(got, want, wl) == 0;
	va_start(ap, fmt);
	unit_vresult(ok, fmt, ap);
	va_end(ap);
	if (!ok) {
		printf("#   %s:%d: got  %s\n", file, line,
		    got ? unit_esc(got, gl) : "(null)");
		printf("#   %s:%d: want %s\n", file, line, unit_esc(want, wl));
	}
	return ok;
}

int
unit_str(const char *got, const char *want, const char *file, int line,
    const char *fmt, ...)
{
	va_list ap;
	int ok;

	ok = got != NULL && strcmp(got, want) == 0;
	va_start(ap, fmt);
	unit_vresult(ok, fmt, ap);
	va_end(ap);
	if (!ok) {
		printf("#   %s:%d: got  %s\n", file, line,
		    got ? unit_esc(got, strlen(got)) : "(null)");
		printf("#   %s:%d: want %s\n", file, line,
		    unit_esc(want, strlen(want)));
	}
	return ok;
}

void
unit_diag(const char *fmt, ...)
{
	va_list ap;

	fputs("#   ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

/*
 * "..."-quoted and C-escaped (and '#' too, which TAP would read as a
 * directive); long strings are cut.  Four rotating buffers, so that one
 * printf may show several strings.
 */
const char *
unit_esc(const void *s, size_t n)
{
	static char ring[4][160];
	static int next;
	const unsigned char *p = s;
	char *b = ring[next++ % 4], *o = b;
	size_t i;

	*o++ = '"';
	for (i = 0; i < n; i++) {
		if (o - b > 100) {
			o += sprintf(o, "\"...(%zu bytes)", n);
			return b;
		}
		switch (p[i]) {
		case '\\': o += sprintf(o, "\\\\"); break;
		case '"': o += sprintf(o, "\\\""); break;
		case '\t': o += sprintf(o, "\\t"); break;
		case '\n': o += sprintf(o, "\\n"); break;
		case '\r': o += sprintf(o, "\\r"); break;
		default:
			if (p[i] < 0x20 || p[i] >= 0x7f || p[i] == '#')
				o += sprintf(o, "\\%03o", p[i]);
			else
				*o++ = (char)p[i];
		}
	}
	*o++ = '"';
	*o = '\0';
	return b;
}

/*
 * Collect what the library writes to stderr (warn(3) and friends) until
 * unit_captured(), which returns it.  glibc lets stderr be assigned; the
 * sanitizers write to fd 2 directly, so their reports still show.
 */
void
unit_capture(void)
{
	fflush(stderr);
	free(unit_cap);
	unit_cap = NULL;
	unit_caplen = 0;
	unit_stderr = stderr;
	if ((stderr = open_memstream(&unit_cap, &unit_caplen)) == NULL) {
		stderr = unit_stderr;
		perror("open_memstream");
		exit(2);
	}
}

const char *
unit_captured(void)
{
	fclose(stderr);
	stderr = unit_stderr;
	return unit_cap ? unit_cap : "";
}

int
unit_done(void)
{
	free(unit_cap);
	unit_cap = NULL;
	printf("1..%d\n", unit_n);
	if (unit_nfailed)
		printf("# %d of %d checks failed\n", unit_nfailed, unit_n);
	return unit_nfailed || unit_n == 0;
}
#endif /* UNIT_MAIN */

#endif /* UNIT_H */
