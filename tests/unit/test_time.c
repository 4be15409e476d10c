/*
 * test_time.c - RFC 3339 times (arc_time_parse, arc_time_format), Go
 * durations (arc_duration_parse) and the grace rule (arc_is_young).
 * Times are checked against glibc's timegm/gmtime_r as an independent
 * model; inputs are passed in buffers of exactly their length.
 */
#include <sys/wait.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "arc.h"
#include "unit.h"

#define T0	1775916000LL	/* 2026-04-11T14:00:00Z */
#define YEAR1	(-62135596800LL)	/* 0001-01-01T00:00:00Z */
#define Y9999	253402300799LL	/* 9999-12-31T23:59:59Z */
#define YEAR0	(-62167219200LL)	/* 0000-01-01T00:00:00Z */
#define SEC	1000000000LL	/* nanoseconds */

static uint64_t rng = 0x2545f4914f6cdd1dULL;

static uint64_t
next_rand(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545f4914f6cdd1dULL;
}

/* arc_time_parse of NUL-terminated s, from a buffer without the NUL. */
static int
tparse(const char *s, int mode, int64_t *t)
{
	size_t n = strlen(s);
	char *p = malloc(n ? n : 1);
	int r;

	if (p == NULL)
		abort();
	memcpy(p, s, n);
	r = arc_time_parse(p, n, mode, t);
	free(p);
	return r;
}

/* The model: glibc's own conversion, for years 1 to 9999. */
static void
model_format(int64_t t, char *buf, size_t sz)
{
	struct tm tm;
	time_t tt = (time_t)t;

	gmtime_r(&tt, &tm);
	snprintf(buf, sz, "%04d-%02d-%02dT%02d:%02d:%02dZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec);
}

static int
days_in(int y, int m)
{
	static const int md[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30,
	    31 };

	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return md[m - 1];
}

static void
test_parse_record(void)
{
	static const struct {
		const char *s;
		int64_t t;
	} ok[] = {
		{ "2026-04-11T14:00:00Z", T0 },
		{ "1970-01-01T00:00:00Z", 0 },
		{ "1969-12-31T23:59:59Z", -1 },
		{ "2000-01-01T00:00:00Z", 946684800 },
		{ "2024-02-29T12:34:56Z", 1709210096 },
		{ "2000-02-29T00:00:00Z", 951782400 },
		{ "1600-02-29T00:00:00Z", -11670998400LL },
		{ "2038-01-19T03:14:08Z", 2147483648LL },
		{ "0001-01-01T00:00:00Z", YEAR1 },
		{ "9999-12-31T23:59:59Z", Y9999 },
	};
	static const char *bad[] = {
		"2026-04-11T14:00:00.5Z",	/* no fraction */
		"2026-04-11T14:00:00.000000000Z",
		"2026-04-11T14:00:00+00:00",	/* Z only */
		"2026-04-11T16:00:00+02:00",
		"2026-04-11T14:00:00z",
		"2026-04-11t14:00:00Z",
		"2026-04-11 14:00:00Z",
		"2026-04-11T14:00:00",		/* missing Z */
		"2026-04-11T14:00:00Z ",
		" 2026-04-11T14:00:00Z",
		"2026-04-11T14:00:00ZZ",
		"2026-04-11T14:00:00Z\n",
		"2026-04-11T14:00Z",
		"2026-4-11T14:00:00Z",
		"26-04-11T14:00:00Z",
		"+026-04-11T14:00:00Z",
		"2026-04-11T14:00:0xZ",
		"2026/04/11T14:00:00Z",
		"2026-04-11T14.00.00Z",
		"2026-13-01T00:00:00Z",
		"2026-00-01T00:00:00Z",
		"2026-04-00T00:00:00Z",
		"2026-04-31T00:00:00Z",
		"2025-02-29T00:00:00Z",
		"1900-02-29T00:00:00Z",
		"2026-04-11T24:00:00Z",
		"2026-04-11T14:60:00Z",
		"2026-04-11T14:00:60Z",		/* no leap seconds */
		"-",
		"",
		"2026-04-11",
	};
	size_t i;
	int64_t t;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		t = 42;
		CHECK(tparse(ok[i].s, ARC_TIME_RECORD, &t) == 0 && t == ok[i].t,
		    "record time %s is %lld", ESC(ok[i].s), (long long)ok[i].t);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(tparse(bad[i], ARC_TIME_RECORD, &t) == -1,
		    "record mode rejects %s", ESC(bad[i]));
}

static void
test_parse_lenient(void)
{
	static const struct {
		const char *s;
		int64_t t;
	} ok[] = {
		{ "2026-04-11T14:00:00Z", T0 },
		{ "2026-04-11T14:00:00.5Z", T0 },
		{ "2026-04-11T14:00:00.0Z", T0 },
		{ "2026-04-11T14:00:00.12Z", T0 },
		{ "2026-04-11T14:00:00.123456789Z", T0 },
		{ "2026-04-11T14:00:00.999999999Z", T0 },
		{ "2026-04-11T16:00:00+02:00", T0 },
		{ "2026-04-11T08:30:00-05:30", T0 },
		{ "2026-04-11T14:00:00+00:00", T0 },
		{ "2026-04-12T00:30:00+10:30", T0 },
		{ "2026-04-10T23:00:00-15:00", T0 },
		{ "2026-04-11T16:00:00.25+02:00", T0 },
		{ "2026-04-11T16:00:00.999999999+02:00", T0 },
		{ "2026-04-11T14:00:00+23:59", T0 - 23 * 3600 - 59 * 60 },
		{ "2024-02-29T00:00:00Z", 1709164800 },
		{ "2000-02-29T00:00:00Z", 951782400 },
		{ "1600-02-29T00:00:00Z", -11670998400LL },
		{ "0001-01-01T00:00:00Z", YEAR1 },
		{ "9999-12-31T23:59:59.999999999Z", Y9999 },
		{ "2026-01-01T00:30:00+01:00", 1767223800 },
	};
	static const char *bad[] = {
		"2026-13-01T00:00:00Z",
		"2026-00-10T00:00:00Z",
		"2026-01-00T00:00:00Z",
		"2026-01-32T00:00:00Z",
		"2026-04-31T00:00:00Z",
		"2026-06-31T00:00:00Z",
		"2026-09-31T00:00:00Z",
		"2026-11-31T00:00:00Z",
		"2025-02-29T00:00:00Z",
		"2100-02-29T00:00:00Z",
		"2024-02-30T00:00:00Z",
		"2026-04-11T24:00:00Z",
		"2026-04-11T14:60:00Z",
		"2026-04-11T14:00:60Z",
		"2026-04-11T14:00:00.1234567891Z",	/* 10 digits */
		"2026-04-11T14:00:00.Z",
		"2026-04-11T14:00:00.",
		"2026-04-11T14:00:00",			/* missing Z */
		"2026-04-11T14:00:00.5",
		"2026-04-11T14:00:00+0200",
		"2026-04-11T14:00:00+02",
		"2026-04-11T14:00:00+2:00",
		"2026-04-11T14:00:00+24:00",
		"2026-04-11T14:00:00+02:60",
		"2026-04-11T14:00:00+02:00Z",
		"2026-04-11T14:00:00Z+02:00",
		"2026-04-11T14:00:00 +02:00",
		"2026-04-11T14:00:00ZZ",
		"2026-04-11T14:00:00Z ",
		"2026-04-11T14:00:00UTC",
		"2026-04-11 14:00:00Z",
		"2026-04-11T14:00:00.5x5Z",
		"2026-04-11T14:00:00.-5Z",
		"2026-04-11",
		"",
	};
	size_t i;
	int64_t t;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		t = 42;
		CHECK(tparse(ok[i].s, ARC_TIME_LENIENT, &t) == 0 &&
		    t == ok[i].t, "lenient time %s is %lld", ESC(ok[i].s),
		    (long long)ok[i].t);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(tparse(bad[i], ARC_TIME_LENIENT, &t) == -1,
		    "lenient mode rejects %s", ESC(bad[i]));
}

/* Every day of every month of some years, either side of the end. */
static void
test_calendar(void)
{
	static const int years[] = { 1, 1600, 1900, 1970, 2000, 2023, 2024,
	    2025, 2100, 9999 };
	char s[64];
	size_t i;
	int m, d, wrong, mode;
	int64_t t;
	struct tm tm;

	for (i = 0; i < sizeof(years) / sizeof(years[0]); i++) {
		wrong = 0;
		for (mode = ARC_TIME_RECORD; mode <= ARC_TIME_LENIENT; mode++)
		for (m = 0; m <= 13; m++) {
			for (d = 0; d <= 32; d++) {
				int valid = m >= 1 && m <= 12 && d >= 1 &&
				    d <= days_in(years[i], m);
				int r;

				snprintf(s, sizeof(s),
				    "%04d-%02d-%02dT12:34:56Z", years[i], m, d);
				r = tparse(s, mode, &t);
				if (valid) {
					memset(&tm, 0, sizeof(tm));
					tm.tm_year = years[i] - 1900;
					tm.tm_mon = m - 1;
					tm.tm_mday = d;
					tm.tm_hour = 12;
					tm.tm_min = 34;
					tm.tm_sec = 56;
					if (r != 0 || t != (int64_t)timegm(&tm))
						if (wrong++ == 0)
							unit_diag("%s: got %d", s, r);
				} else if (r != -1 && wrong++ == 0)
					unit_diag("%s was accepted", s);
			}
		}
		CHECK_INT(wrong, 0, "every date of %04d parses as timegm says, "
		    "and no other", years[i]);
	}
}

static void
test_format(void)
{
	static const struct {
		int64_t t;
		const char *s;
	} t[] = {
		{ T0, "2026-04-11T14:00:00Z" },
		{ 0, "1970-01-01T00:00:00Z" },
		{ -1, "1969-12-31T23:59:59Z" },
		{ -86400, "1969-12-31T00:00:00Z" },
		{ -86401, "1969-12-30T23:59:59Z" },
		{ 951782400, "2000-02-29T00:00:00Z" },
		{ YEAR1, "0001-01-01T00:00:00Z" },
		{ YEAR1 + 86399, "0001-01-01T23:59:59Z" },
		{ Y9999, "9999-12-31T23:59:59Z" },
		{ ARC_TIME_UNKNOWN, "-" },
		{ YEAR1 - 1, "0000-12-31T23:59:59Z" },
		{ YEAR0, "0000-01-01T00:00:00Z" },
		{ YEAR0 - 1, "-" },		/* year -1 has no spelling */
		{ Y9999 + 1, "-" },		/* nor has year 10000 */
		{ INT64_MAX, "-" },
		{ INT64_MIN + 1, "-" },
	};
	char buf[ARC_TIME_BUFSZ], want[64];
	size_t i;
	int k, badfmt = 0, badrt = 0, badlen = 0;
	int64_t v, back;

	CHECK(arc_time_format(T0, buf) == buf, "format returns its buffer");
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		arc_time_format(t[i].t, buf);
		CHECK_STR(buf, t[i].s, "%lld formats as %s", (long long)t[i].t,
		    t[i].s);
	}
	/* Year 0000 is the first arc(7) can spell, and it reads back. */
	CHECK(tparse("0000-01-01T00:00:00Z", ARC_TIME_RECORD, &back) == 0 &&
	    back == YEAR0, "record time 0000-01-01T00:00:00Z is %lld",
	    (long long)YEAR0);

	/* Random times from 0001 to 9999: the model, and back again. */
	for (k = 0; k < 5000; k++) {
		v = YEAR1 + (int64_t)(next_rand() % (uint64_t)(Y9999 - YEAR1 + 1));
		if (k < 10)
			v = k < 5 ? YEAR1 + k : Y9999 - k + 5;
		arc_time_format(v, buf);
		model_format(v, want, sizeof(want));
		if (strlen(buf) != 20)
			badlen++;
		if (strcmp(buf, want) != 0 && badfmt++ == 0)
			unit_diag("%lld: got %s, want %s", (long long)v, buf,
			    want);
		if ((tparse(buf, ARC_TIME_RECORD, &back) != 0 || back != v) &&
		    badrt++ == 0)
			unit_diag("%s did not parse back to %lld", buf,
			    (long long)v);
	}
	CHECK_INT(badlen, 0, "every time from 0001 to 9999 formats in 20 "
	    "bytes");
	CHECK_INT(badfmt, 0, "5000 random times from 0001 to 9999 format as "
	    "gmtime says");
	CHECK_INT(badrt, 0, "5000 random times round-trip through format and "
	    "parse");
}

/* Random valid fields, against timegm, in both modes. */
static void
test_parse_random(void)
{
	char s[64];
	int k, Y, M, D, h, m, sec, wrong = 0;
	int64_t t1, t2;
	struct tm tm;

	for (k = 0; k < 5000; k++) {
		Y = 1 + (int)(next_rand() % 9999);
		M = 1 + (int)(next_rand() % 12);
		D = 1 + (int)(next_rand() % (uint64_t)days_in(Y, M));
		h = (int)(next_rand() % 24);
		m = (int)(next_rand() % 60);
		sec = (int)(next_rand() % 60);
		memset(&tm, 0, sizeof(tm));
		tm.tm_year = Y - 1900;
		tm.tm_mon = M - 1;
		tm.tm_mday = D;
		tm.tm_hour = h;
		tm.tm_min = m;
		tm.tm_sec = sec;
		snprintf(s, sizeof(s), "%04d-%02d-%02dT%02d:%02d:%02dZ", Y, M,
		    D, h, m, sec);
		if (tparse(s, ARC_TIME_RECORD, &t1) != 0 ||
		    tparse(s, ARC_TIME_LENIENT, &t2) != 0 ||
		    t1 != (int64_t)timegm(&tm) || t2 != t1) {
			if (wrong++ == 0)
				unit_diag("%s", s);
		}
	}
	CHECK_INT(wrong, 0, "5000 random valid times parse as timegm says");
}

/*
 * arc_duration_parse in a child process: an overflow that UBSan catches
 * then fails one check instead of ending the run.  Returns 0 when the
 * input was rejected, 1 when accepted with the wanted value, 2 when
 * accepted with another, -1 when the child died (the sanitizers exit 1).
 */
static int
duration_child(const char *s, int want_ok, int64_t want)
{
	pid_t pid;
	int st;
	int64_t v;

	fflush(NULL);
	if ((pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		if (arc_duration_parse(s, &v) == -1)
			_exit(10);
		_exit(want_ok && v == want ? 11 : 12);
	}
	if (waitpid(pid, &st, 0) == -1 || !WIFEXITED(st) ||
	    WEXITSTATUS(st) < 10 || WEXITSTATUS(st) > 12)
		return -1;
	return WEXITSTATUS(st) - 10;
}

static void
test_duration(void)
{
	static const struct {
		const char *s;
		int64_t ns;
	} ok[] = {
		{ "24h", 24 * 3600 * SEC },
		{ "5m", 300 * SEC },
		{ "1h30m", 5400 * SEC },
		{ "90s", 90 * SEC },
		{ "1.5h", 5400 * SEC },
		{ "250ms", 250000000 },
		{ "0", 0 },
		{ "0s", 0 },
		{ "0h0m0s", 0 },
		{ "1ns", 1 },
		{ "1us", 1000 },
		{ "1\xc2\xb5s", 1000 },		/* U+00B5 micro sign */
		{ "+5m", 300 * SEC },
		{ ".5s", SEC / 2 },
		{ "1.s", SEC },
		{ "0.1s", SEC / 10 },
		{ "1.000000001s", SEC + 1 },
		{ "2h45m30.5s", 9930 * SEC + SEC / 2 },
		{ "1h1s", 3601 * SEC },
		{ "72h", 72 * 3600 * SEC },
		{ "1.25m", 75 * SEC },
		{ "1500ms", 1500000000 },
		{ "2562047h", 2562047LL * 3600 * SEC },
	};
	static const char *bad[] = {
		"", "garbage", "-5m", "-1s", "-0.5h", "5", "1.5", "1h30", "5x",
		"h", "m5", " 5m", "5m ", "5 m", ".", ".s", "1..5s", "1.5.5s",
		"5M", "5H", "1e3s", "1h-5m", "+", "++5m", "5mm", "0x10s",
		"1,5h", "5d", "5sec", "\xce\xbc", "ms",
	};
	static const struct {
		const char *s;
		int want_ok;
		int64_t ns;
	} edge[] = {
		{ "9223372036854775807ns", 1, INT64_MAX },
		{ "2562047h47m16.854775807s", 1, INT64_MAX },
		{ "9223372036854775808ns", 0, 0 },
		{ "99999999999999999999ns", 0, 0 },
		{ "2562048h", 0, 0 },
		{ "99999999999999999999h", 0, 0 },
		{ "2562047h2562047h", 0, 0 },
		{ "2562047h47m17s", 0, 0 },
		{ "9223372036.854775808s", 0, 0 },
		{ "2562047.9999h", 0, 0 },
	};
	size_t i;
	int64_t v;
	int r;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		v = -42;
		CHECK(arc_duration_parse(ok[i].s, &v) == 0 && v == ok[i].ns,
		    "duration %s is %lld ns", ESC(ok[i].s),
		    (long long)ok[i].ns);
		if (v != ok[i].ns)
			unit_diag("got %lld", (long long)v);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(arc_duration_parse(bad[i], &v) == -1,
		    "duration %s is rejected", ESC(bad[i]));
	for (i = 0; i < sizeof(edge) / sizeof(edge[0]); i++) {
		r = duration_child(edge[i].s, edge[i].want_ok, edge[i].ns);
		if (edge[i].want_ok)
			CHECK_INT(r, 1, "duration %s is %lld ns, the largest "
			    "there is", ESC(edge[i].s), (long long)edge[i].ns);
		else
			CHECK_INT(r, 0, "duration %s overflows and is "
			    "rejected", ESC(edge[i].s));
		if (r == -1)
			unit_diag("the parser died on %s (see the sanitizer "
			    "report on stderr)", ESC(edge[i].s));
	}
}

static void
test_young(void)
{
	int64_t g24 = 24 * 3600 * SEC;

	CHECK_INT(arc_is_young(T0, ARC_TIME_UNKNOWN, g24), 1,
	    "an unknown mtime is young");
	CHECK_INT(arc_is_young(T0, ARC_TIME_UNKNOWN, 0), 1,
	    "an unknown mtime is young even with no grace");
	CHECK_INT(arc_is_young(T0, T0 + 1, g24), 1,
	    "a future mtime is young");
	CHECK_INT(arc_is_young(T0, T0 + 1, 0), 1,
	    "a future mtime is young even with no grace");
	CHECK_INT(arc_is_young(T0, T0 + 365 * 86400, 0), 1,
	    "a far-future mtime is young");
	CHECK_INT(arc_is_young(T0, T0 - 86400, g24), 0,
	    "a file exactly grace old is not young");
	CHECK_INT(arc_is_young(T0, T0 - 86399, g24), 1,
	    "a file one second short of grace is young");
	CHECK_INT(arc_is_young(T0, T0 - 86401, g24), 0,
	    "a file older than grace is not young");
	CHECK_INT(arc_is_young(T0, T0 - 86700, g24 + 300 * SEC), 0,
	    "grace plus skew old is not young");
	CHECK_INT(arc_is_young(T0, T0 - 86699, g24 + 300 * SEC), 1,
	    "one second short of grace plus skew is young");
	CHECK_INT(arc_is_young(T0, T0, 0), 0,
	    "with no grace, a file of now is not young");
	CHECK_INT(arc_is_young(T0, T0, 1), 1,
	    "a 1ns grace makes a file of now young (rounded up to 1s)");
	CHECK_INT(arc_is_young(T0, T0 - 1, 1), 0,
	    "a 1ns grace is over after one second");
	CHECK_INT(arc_is_young(T0, T0 - 1, 3 * SEC / 2), 1,
	    "a 1.5s grace rounds up: one second old is young");
	CHECK_INT(arc_is_young(T0, T0 - 2, 3 * SEC / 2), 0,
	    "a 1.5s grace rounds up: two seconds old is not young");
	CHECK_INT(arc_is_young(T0, T0 - 1, SEC - 1), 0,
	    "a grace just under 1s is over after one second");
	CHECK_INT(arc_is_young(T0, T0 - 86400, g24 + 1), 1,
	    "grace 24h plus 1ns needs a whole further second");
	CHECK_INT(arc_is_young(T0, YEAR1, g24), 0,
	    "a file from year 1 is not young");
	CHECK_INT(arc_is_young(Y9999, YEAR1, INT64_MAX), 0,
	    "the largest grace is shorter than year 1 to 9999");
}

/* arc_time_parse_ceil: a fraction that is not zero is the next second */
static void
test_parse_ceil(void)
{
	static const struct {
		const char *s;
		int64_t want;
	} ok[] = {
		{ "2026-04-11T14:00:00Z", T0 },
		{ "2026-04-11T14:00:00.000Z", T0 },
		{ "2026-04-11T14:00:00.0000000Z", T0 },
		{ "2026-04-11T14:00:00.001Z", T0 + 1 },
		{ "2026-04-11T14:00:00.000000001Z", T0 + 1 },
		{ "2026-04-11T13:59:59.999Z", T0 },
		{ "2026-04-11T16:00:00.5+02:00", T0 + 1 },
	};
	size_t i, n;
	int64_t t;
	char *p;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		n = strlen(ok[i].s);
		p = malloc(n);
		memcpy(p, ok[i].s, n);
		t = 0;
		CHECK_INT(arc_time_parse_ceil(p, n, &t), 0, "ceil parses %s",
		    ok[i].s);
		CHECK_INT(t, ok[i].want, "ceil of %s", ok[i].s);
		free(p);
	}
	CHECK_INT(arc_time_parse_ceil("2026-04-11", 10, &t), -1,
	    "ceil refuses a date alone");
	CHECK_INT(arc_time_parse_ceil("2026-04-11T14:00:00.Z", 21, &t), -1,
	    "ceil refuses a fraction without digits");
}

void
test_time(void)
{
	test_parse_ceil();
	test_parse_record();
	test_parse_lenient();
	test_calendar();
	test_format();
	test_parse_random();
	test_duration();
	test_young();
}
