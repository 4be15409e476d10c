/*
 * time.c - RFC 3339 times as seconds since the epoch, and Go-style
 * durations as nanoseconds.
 *
 * Records carry one spelling only (2026-04-11T14:00:00Z); manifest
 * sources carry Go's RFC3339Nano (0-9 fraction digits, Z or +hh:mm), which
 * the lenient mode accepts.  Fractions are dropped: record times have
 * second precision.
 */
#include <err.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "arc.h"

static int
digits(const char *s, size_t n, int *out)
{
	int v = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

/* Two decimal digits at s, or -1: inline, for the hot path below. */
static int
digits2(const char *s)
{
	unsigned a = (unsigned char)s[0] - '0', b = (unsigned char)s[1] - '0';

	return a > 9 || b > 9 ? -1 : (int)(a * 10 + b);
}

static int
is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void
civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

/*
 * Parse an RFC 3339 time of n bytes into *t (seconds, UTC).
 * Returns 0, or -1 when the text is not a valid time in the given mode.
 */
int
arc_time_parse(const char *s, size_t n, int mode, int64_t *t)
{
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };
	/*
	 * Sorted records come in runs of one date: remember the last valid
	 * date and its day number, which saves most of the work on the hot
	 * path of every record read.  Per thread, for tools that parse in
	 * several.
	 */
	static _Thread_local char lastdate[10];
	static _Thread_local int64_t lastdays;
	int Y, M, D, h, m, sec, oh, om, dim;
	size_t i;
	int64_t off = 0, days;

	if (n < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' ||
	    s[13] != ':' || s[16] != ':')
		return -1;
	h = digits2(s + 11);
	m = digits2(s + 14);
	sec = digits2(s + 17);
	if (h < 0 || m < 0 || sec < 0 || h > 23 || m > 59 || sec > 59)
		return -1;
	if (memcmp(s, lastdate, sizeof(lastdate)) == 0)
		days = lastdays;
	else {
		if (digits(s, 4, &Y) || digits(s + 5, 2, &M) ||
		    digits(s + 8, 2, &D))
			return -1;
		if (M < 1 || M > 12)
			return -1;
		dim = mdays[M - 1] + (M == 2 && is_leap(Y));
		if (D < 1 || D > dim)
			return -1;
		days = days_from_civil(Y, M, D);
		memcpy(lastdate, s, sizeof(lastdate));
		lastdays = days;
	}
	i = 19;
	if (mode == ARC_TIME_RECORD) {
		if (n != 20 || s[19] != 'Z')
			return -1;
	} else {
		if (s[i] == '.') {
			size_t f = ++i;
			while (i < n && s[i] >= '0' && s[i] <= '9')
				i++;
			if (i == f || i - f > 9)
				return -1;
		}
		if (i < n && s[i] == 'Z')
			i++;
		else if (i + 6 == n && (s[i] == '+' || s[i] == '-') &&
		    s[i + 3] == ':' && !digits(s + i + 1, 2, &oh) &&
		    !digits(s + i + 4, 2, &om) && oh <= 23 && om <= 59) {
			off = (int64_t)(oh * 3600 + om * 60);
			if (s[i] == '-')
				off = -off;
			i += 6;
		} else
			return -1;
		if (i != n)
			return -1;
	}
	*t = days * 86400 + h * 3600 + m * 60 + sec - off;
	return 0;
}

/* Format t into buf (at least ARC_TIME_BUFSZ bytes); "-" when unknown. */
char *
arc_time_format(int64_t t, char *buf)
{
	int64_t days, secs, y;
	int m, d;

	if (t == ARC_TIME_UNKNOWN) {
		strcpy(buf, "-");
		return buf;
	}
	days = t / 86400;
	secs = t % 86400;
	if (secs < 0) {
		secs += 86400;
		days--;
	}
	civil_from_days(days, &y, &m, &d);
	if (y < 0 || y > 9999) {
		strcpy(buf, "-");
		return buf;
	}
	/* Hand-rolled: this is on the hot path of every record written. */
	buf[0] = (char)('0' + y / 1000);
	buf[1] = (char)('0' + y / 100 % 10);
	buf[2] = (char)('0' + y / 10 % 10);
	buf[3] = (char)('0' + y % 10);
	buf[4] = '-';
	buf[5] = (char)('0' + m / 10);
	buf[6] = (char)('0' + m % 10);
	buf[7] = '-';
	buf[8] = (char)('0' + d / 10);
	buf[9] = (char)('0' + d % 10);
	buf[10] = 'T';
	buf[11] = (char)('0' + secs / 36000);
	buf[12] = (char)('0' + secs / 3600 % 10);
	buf[13] = ':';
	buf[14] = (char)('0' + secs % 3600 / 600);
	buf[15] = (char)('0' + secs % 3600 / 60 % 10);
	buf[16] = ':';
	buf[17] = (char)('0' + secs % 60 / 10);
	buf[18] = (char)('0' + secs % 10);
	buf[19] = 'Z';
	buf[20] = '\0';
	return buf;
}

int64_t
arc_time_now(void)
{
	return (int64_t)time(NULL);
}

/*
 * A lenient RFC 3339 time rounded up to the whole second: a fraction
 * that is not zero counts as the next second, so that a file never looks
 * older than it is.  0, or -1 when it is not a time.
 */
int
arc_time_parse_ceil(const char *s, size_t n, int64_t *t)
{
	const char *dot;
	size_t i;

	if (arc_time_parse(s, n, ARC_TIME_LENIENT, t) == -1)
		return -1;
	if ((dot = memchr(s, '.', n)) != NULL)
		for (i = (size_t)(dot - s) + 1; i < n && s[i] >= '0' &&
		    s[i] <= '9'; i++)
			if (s[i] != '0') {
				(*t)++;
				break;
			}
	return 0;
}

/*
 * Parse a Go duration ("24h", "1h30m", "90s", "1.5h", "250ms") into
 * nanoseconds.  Negative durations are refused: no knob here wants one.
 */
int
arc_duration_parse(const char *s, int64_t *out)
{
	static const struct {
		const char *name;
		int64_t ns;
	} units[] = {
		{ "ns", 1 }, { "us", 1000 }, { "\xc2\xb5s", 1000 },
		{ "ms", 1000000 }, { "s", 1000000000 },
		{ "m", 60LL * 1000000000 }, { "h", 3600LL * 1000000000 },
	};
	int64_t total = 0, whole, frac, scale, unit, v, f;
	size_t i, k, len;

	if (*s == '+')
		s++;
	if (strcmp(s, "0") == 0) {
		*out = 0;
		return 0;
	}
	if (*s == '\0')
		return -1;
	while (*s) {
		if ((*s < '0' || *s > '9') && *s != '.')
			return -1;
		whole = 0;
		for (i = 0; s[i] >= '0' && s[i] <= '9'; i++) {
			if (whole > (INT64_MAX - (s[i] - '0')) / 10)
				return -1;
			whole = whole * 10 + (s[i] - '0');
		}
		frac = 0;
		scale = 1;
		k = i;
		if (s[i] == '.') {
			for (i++; s[i] >= '0' && s[i] <= '9'; i++) {
				if (scale < 1000000000000000000LL) {
					frac = frac * 10 + (s[i] - '0');
					scale *= 10;
				}
			}
			if (i == k + 1 && k == 0)
				return -1;	/* "." alone */
		}
		s += i;
		unit = 0;
		for (k = 0; k < sizeof(units) / sizeof(units[0]); k++) {
			len = strlen(units[k].name);
			if (strncmp(s, units[k].name, len) == 0 &&
			    (s[len] == '\0' || (s[len] >= '0' && s[len] <= '9') ||
			    s[len] == '.')) {
				unit = units[k].ns;
				s += len;
				break;
			}
		}
		if (unit == 0)
			return -1;
		if (whole > INT64_MAX / unit)
			return -1;
		v = whole * unit;
		/* the fraction, in whole nanoseconds (as Go truncates) */
		f = (int64_t)((long double)frac * unit / scale);
		if (f > INT64_MAX - v)
			return -1;
		v += f;
		if (total > INT64_MAX - v)
			return -1;
		total += v;
	}
	*out = total;
	return 0;
}

/* A compiled-in duration, an ARC_DEFAULT_*: one that fails is a bug. */
int64_t
arc_duration_const(const char *s)
{
	int64_t v;

	if (arc_duration_parse(s, &v) == -1)
		abort();
	return v;
}

/*
 * A file is young, and so never an orphan candidate, when its mtime is
 * unknown, in the future, or less than grace_ns before now.  Times have
 * second precision, so "age >= grace" is "age >= ceil(grace)".
 */
int
arc_is_young(int64_t now, int64_t mtime, int64_t grace_ns)
{
	int64_t need;

	if (mtime == ARC_TIME_UNKNOWN || mtime > now)
		return 1;
	need = grace_ns / 1000000000 + (grace_ns % 1000000000 != 0);
	return now - mtime < need;
}

/* The defaults: ARC_DEFAULT_GRACE and ARC_DEFAULT_SKEW. */
void
arc_window_init(struct arc_window *w)
{
	w->grace = arc_duration_const(ARC_DEFAULT_GRACE);
	w->skew = arc_duration_const(ARC_DEFAULT_SKEW);
}

/* Option -g (grace) or -k (skew): exit 2 on a duration that is not one. */
void
arc_window_opt(struct arc_window *w, int opt, const char *arg)
{
	if (arc_duration_parse(arg, opt == 'g' ? &w->grace : &w->skew) == -1)
		errx(ARC_EXIT_ERROR, "'%s': invalid duration", arg);
}

/* Grace plus skew, in nanoseconds; exit 2 when the sum does not fit. */
int64_t
arc_window_ns(const struct arc_window *w)
{
	if (w->grace > INT64_MAX - w->skew)
		errx(ARC_EXIT_ERROR, "grace plus skew is too large");
	return w->grace + w->skew;
}

/* Now, in milliseconds since the epoch: deadlines (--max-duration). */
int64_t
arc_time_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
