/*
 * test_record.c - the one record reader and writer of arc(7):
 * arc_reader_next over in-memory streams of each record type,
 * arc_pathcmp, arc_record_path, arc_write_storage and arc_entry_record.
 * The reader's messages are captured to check the operand name and the
 * line number they carry.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arc.h"
#include "unit.h"

#define L(s)	(s), sizeof(s) - 1
#define T	"2026-04-11T14:00:00Z"
#define T0	1775916000LL
#define ARC7_LINE_MAX	262144	/* arc(7): a longer line is an error */

static const char *const tname[] = { "storage", "manifest", "candidate",
    "reject", "result" };

/* An in-memory stream over a private copy of s[0..n). */
struct src {
	FILE	*fp;
	char	*buf;
};

static FILE *
src_open(struct src *m, const char *s, size_t n)
{
	if ((m->buf = malloc(n ? n : 1)) == NULL)
		abort();
	memcpy(m->buf, s, n);
	if ((m->fp = fmemopen(m->buf, n, "r")) == NULL)
		abort();
	return m->fp;
}

static void
src_close(struct src *m)
{
	fclose(m->fp);
	free(m->buf);
}

/* Read a whole stream: how many records came, how it ended, and what was said. */
struct run {
	int	 nrec;
	int	 rc;		/* 0: end of input, -1: error */
	uintmax_t lineno;
	char	 msg[512];
};

static void
read_all(const char *s, size_t n, int type, int sorted, struct run *out)
{
	struct src m;
	struct arc_reader r;
	struct arc_record rec;
	const char *said;

	memset(out, 0, sizeof(*out));
	arc_reader_init(&r, src_open(&m, s, n), "input", type, sorted);
	unit_capture();
	while ((out->rc = arc_reader_next(&r, &rec)) == 1)
		out->nrec++;
	said = unit_captured();
	snprintf(out->msg, sizeof(out->msg), "%s", said);
	out->lineno = r.lineno;
	arc_reader_free(&r);
	src_close(&m);
}

/* How a bad stream should end: an error after nrec records, on line. */
static void
expect_error(const char *s, size_t n, int type, int sorted, int nrec,
    const char *what)
{
	struct run run;

	read_all(s, n, type, sorted, &run);
	CHECK(run.rc == -1 && run.nrec == nrec, "%s reader: %s is an error "
	    "(%s)", tname[type], unit_esc(s, n), what);
	if (run.rc != -1 || run.nrec != nrec)
		unit_diag("rc %d after %d records", run.rc, run.nrec);
	else if (run.msg[0] == '\0')
		unit_diag("and nothing was said on stderr");
}

static void
expect_ok(const char *s, size_t n, int type, int sorted, int nrec,
    const char *what)
{
	struct run run;

	read_all(s, n, type, sorted, &run);
	CHECK(run.rc == 0 && run.nrec == nrec, "%s reader: %s gives %d "
	    "record%s (%s)", tname[type], unit_esc(s, n), nrec,
	    nrec == 1 ? "" : "s", what);
	if (run.rc != 0 || run.nrec != nrec)
		unit_diag("rc %d after %d records: %s", run.rc, run.nrec,
		    unit_esc(run.msg, strlen(run.msg)));
}

static void
test_storage(void)
{
	static const char one[] = "db/a b.parquet\t" T "\t10\n";
	static const struct {
		const char *s;
		size_t n;
		const char *why;
	} bad[] = {
		{ L("\n"), "an empty line" },
		{ L("a.parquet\n"), "one field" },
		{ L("a.parquet\t" T "\n"), "two fields" },
		{ L("a.parquet\t" T "\t1\tx\n"), "four fields" },
		{ L("a.parquet\t" T "\t1\t\n"), "a trailing TAB" },
		{ L("a\t-\t-\t-\t-\t-\t-\t-\t-\t-\n"), "ten fields" },
		{ L("a\t" T "\t1\tnode\t7\n"), "a manifest record" },
		{ L("\t" T "\t1\n"), "an empty path" },
		{ L("a\\q\t" T "\t1\n"), "an invalid escape" },
		{ L("a\\011\t" T "\t1\n"), "a non-canonical escape" },
		{ L("a\\\t" T "\t1\n"), "a trailing backslash" },
		{ L("a\001b\t" T "\t1\n"), "a raw control byte" },
		{ L("a\177\t" T "\t1\n"), "a raw DEL" },
		{ L("a\rb\t" T "\t1\n"), "a raw CR in the path" },
		{ L("a\t" T "\t1\r\n"), "a CRLF line end" },
		{ L("a\0b\t" T "\t1\n"), "a NUL byte in the path" },
		{ L("a\t" T "\t1\0\n"), "a NUL byte at the end" },
		{ L("a\t2026-04-11T14:00:00.5Z\t1\n"), "a fraction" },
		{ L("a\t2026-04-11T16:00:00+02:00\t1\n"), "an offset" },
		{ L("a\t2026-04-11T14:00:00\t1\n"), "no Z" },
		{ L("a\t2026-02-30T00:00:00Z\t1\n"), "February 30" },
		{ L("a\t1775916000\t1\n"), "epoch seconds" },
		{ L("a\t\t1\n"), "an empty time" },
		{ L("a\t--\t1\n"), "time '--'" },
		{ L("a\t" T "\t\n"), "an empty size" },
		{ L("a\t" T "\tx\n"), "size 'x'" },
		{ L("a\t" T "\t-1\n"), "a negative size" },
		{ L("a\t" T "\t+1\n"), "a signed size" },
		{ L("a\t" T "\t 1\n"), "a space before the size" },
		{ L("a\t" T "\t1 \n"), "a space after the size" },
		{ L("a\t" T "\t1.0\n"), "a fractional size" },
		{ L("a\t" T "\t1e3\n"), "an exponent" },
		{ L("a\t" T "\t0x10\n"), "a hex size" },
		{ L("a\t" T "\t--\n"), "size '--'" },
		{ L("a\t" T "\t9223372036854775808\n"), "size 2^63" },
		{ L("a\t" T "\t99999999999999999999\n"), "a 20-digit size" },
		{ L("a\t" T "\t007\n"), "a size with leading zeros" },
		{ L("a\t" T "\t00\n"), "size '00'" },
	};
	static const struct {
		const char *s;
		size_t n;
		const char *why;
	} good[] = {
		{ L("a\t" T "\t0\n"), "size 0" },
		{ L("a\t" T "\t9223372036854775807\n"), "size 2^63-1" },
		{ L("a\t-\t-\n"), "unknown time and size" },
		{ L("-\t" T "\t1\n"), "a path '-'" },
		{ L(" a \t" T "\t1\n"), "spaces in the path" },
		{ L("\xff\xfe/\xc3\xa9\t" T "\t1\n"), "non-UTF-8 and UTF-8" },
		{ L("a\\t\\n\\r\\\\\\000\\177\t" T "\t1\n"), "every escape" },
		{ L("\"a\"\t" T "\t1\n"), "double quotes" },
		{ L("a\t" T "\t1"), "no final newline" },
	};
	struct src m;
	struct arc_reader r;
	struct arc_record rec;
	struct arc_buf path = { 0 };
	size_t i;
	int rc;

	/* One record, every field. */
	arc_reader_init(&r, src_open(&m, one, sizeof(one) - 1), "one",
	    ARC_REC_STORAGE, 1);
	rc = arc_reader_next(&r, &rec);
	CHECK_INT(rc, 1, "a storage record is read");
	if (rc == 1) {
		CHECK_MEM(rec.line, rec.linelen, one, sizeof(one) - 2,
		    "the record's line is the line without its newline");
		CHECK_MEM(rec.qpath, rec.qpathlen, "db/a b.parquet", 14,
		    "the record's path is the first field");
		CHECK_INT(rec.time, T0, "the record's mtime is parsed");
		CHECK_INT(rec.size, 10, "the record's size is parsed");
		CHECK_MEM(rec.body, rec.bodylen, one, sizeof(one) - 2,
		    "a storage record's body is the whole line");
		CHECK_INT(rec.kind, ARC_KIND_NONE, "a storage record has no kind");
		CHECK_INT(r.lineno, 1, "the reader counts the line");
	}
	CHECK_INT(arc_reader_next(&r, &rec), 0, "then the reader says end of "
	    "input");
	CHECK_INT(arc_reader_next(&r, &rec), 0, "and says it again");
	arc_reader_free(&r);
	src_close(&m);

	/* Unknowns, escapes, and a final line without its newline. */
	arc_reader_init(&r, src_open(&m, L("a\\tb\\\\\t-\t-\nc\t" T "\t5")),
	    "two", ARC_REC_STORAGE, 1);
	rc = arc_reader_next(&r, &rec);
	CHECK(rc == 1 && rec.time == ARC_TIME_UNKNOWN && rec.size == -1,
	    "'-' reads as an unknown time and size");
	if (rc == 1) {
		CHECK(arc_record_path(&rec, &path) == 0,
		    "the path of a record decodes");
		CHECK_MEM(path.s, path.len, "a\tb\\", 4,
		    "the decoded path holds a TAB and a backslash");
	}
	rc = arc_reader_next(&r, &rec);
	CHECK(rc == 1 && rec.size == 5 && rec.linelen == 24,
	    "a final line without its newline is a record");
	CHECK_INT(r.lineno, 2, "it is line 2");
	CHECK_INT(arc_reader_next(&r, &rec), 0, "and then the input ends");
	arc_reader_free(&r);
	src_close(&m);
	arc_buf_free(&path);

	expect_ok("", 0, ARC_REC_STORAGE, 1, 0, "empty input");
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		expect_ok(good[i].s, good[i].n, ARC_REC_STORAGE, 1, 1,
		    good[i].why);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_error(bad[i].s, bad[i].n, ARC_REC_STORAGE, 0, 0,
		    bad[i].why);

	/* The longest line is ARC7_LINE_MAX bytes; one more is refused. */
	{
		size_t n = ARC7_LINE_MAX - sizeof("\t" T "\t1") + 1;
		char *s = malloc(n + 64);

		if (s == NULL)
			abort();
		memset(s, 'a', n);
		memcpy(s + n, "\t" T "\t1\n", sizeof("\t" T "\t1\n") - 1);
		expect_ok(s, n + sizeof("\t" T "\t1\n") - 1, ARC_REC_STORAGE,
		    0, 1, "a line of exactly 262144 bytes");
		memset(s, 'a', n + 1);
		memcpy(s + n + 1, "\t" T "\t1\n", sizeof("\t" T "\t1\n") - 1);
		expect_error(s, n + sizeof("\t" T "\t1\n"), ARC_REC_STORAGE,
		    0, 0, "a line of 262145 bytes");
		free(s);
	}
}

/*
 * A byte that needs quoting, or a lone backslash, at every position of
 * paths and fields of many lengths: the reader may scan several bytes
 * at a time, so each offset within a word and each length around a word
 * boundary is tried.  Bytes that need no quoting, high ones included,
 * are accepted anywhere.
 */
static void
test_every_offset(void)
{
	static const unsigned char badb[] = { 0x01, 0x08, 0x0b, 0x1f, 0x7f,
	    '\\' };
	static const unsigned char goodb[] = { 0x20, 0x21, 0x3f, 0x40, 0x5b,
	    0x5d, 0x60, 0x7e, 0x80, 0x81, 0x9f, 0xa0, 0xdc, 0xdf, 0xe0, 0xfe,
	    0xff };
	struct arc_buf line = { 0 };
	struct src m;
	struct arc_reader r;
	struct arc_record rec;
	size_t len, pos, k;
	int field, type, rc, wrong = 0, tried = 0;

	unit_capture();		/* the refusals' messages */
	for (field = 0; field < 3; field++)
	for (len = 1; len <= 26; len++)
	for (pos = 0; pos < len; pos++)
	for (k = 0; k < sizeof(badb) + sizeof(goodb); k++) {
		unsigned char c = k < sizeof(badb) ? badb[k] :
		    goodb[k - sizeof(badb)];
		int want = k < sizeof(badb) ? -1 : 0;
		struct arc_buf f = { 0 };

		/* the field: len bytes of 'a' with c at pos */
		for (size_t i = 0; i < len; i++)
			arc_buf_addc(&f, i == pos ? c : 'a');
		line.len = 0;
		if (field == 0) {	/* a storage path */
			type = ARC_REC_STORAGE;
			arc_buf_add(&line, f.s, f.len);
			arc_buf_adds(&line, "\t" T "\t1\n");
		} else {		/* a manifest origin or rev */
			type = ARC_REC_MANIFEST;
			arc_buf_adds(&line, "p\t" T "\t1\t");
			if (field == 1) {
				arc_buf_add(&line, f.s, f.len);
				arc_buf_adds(&line, "\t7\n");
			} else {
				arc_buf_adds(&line, "n\t");
				arc_buf_add(&line, f.s, f.len);
				arc_buf_addc(&line, '\n');
			}
		}
		arc_buf_free(&f);
		arc_reader_init(&r, src_open(&m, line.s, line.len), "o", type,
		    1);
		rc = arc_reader_next(&r, &rec);
		if (rc == 1)
			rc = arc_reader_next(&r, &rec);
		arc_reader_free(&r);
		src_close(&m);
		tried++;
		if (rc != want) {
			if (wrong++ < 3) {
				unit_captured();
				unit_diag("%s: rc %d", unit_esc(line.s,
				    line.len), rc);
				unit_capture();
			}
		}
	}
	unit_captured();
	CHECK_INT(wrong, 0, "%d lines with a byte at every offset of a path, "
	    "origin or rev: only bytes needing quotes are refused", tried);

	/* A valid escape at every offset is accepted, and decodes. */
	wrong = 0;
	for (len = 0; len <= 26; len++)
	for (pos = 0; pos <= len; pos++) {
		struct arc_buf path = { 0 };

		line.len = 0;
		for (size_t i = 0; i <= len; i++) {
			if (i == pos)
				arc_buf_adds(&line, "\\001");
			if (i < len)
				arc_buf_addc(&line, 'b');
		}
		arc_buf_adds(&line, "\t-\t-\n");
		arc_reader_init(&r, src_open(&m, line.s, line.len), "e",
		    ARC_REC_STORAGE, 1);
		if (arc_reader_next(&r, &rec) != 1 ||
		    arc_record_path(&rec, &path) != 0 ||
		    path.len != len + 1 || path.s[pos] != '\001') {
			if (wrong++ == 0)
				unit_diag("%s", unit_esc(line.s, line.len));
		}
		arc_reader_free(&r);
		src_close(&m);
		arc_buf_free(&path);
	}
	CHECK_INT(wrong, 0, "an escape at every offset of a path is read and "
	    "decoded");
	arc_buf_free(&line);
}

static void
test_manifest(void)
{
	static const char one[] = "db/x.parquet\t" T "\t10\tnode-1\t42\n";
	static const struct {
		const char *s;
		size_t n;
		const char *why;
	} bad[] = {
		{ L("a\t" T "\t1\tn\n"), "four fields" },
		{ L("a\t" T "\t1\tn\t1\tx\n"), "six fields" },
		{ L("a\t" T "\t1\n"), "a storage record" },
		{ L("a\t" T "\t1\t\t42\n"), "an empty origin" },
		{ L("a\t" T "\t1\tn\t\n"), "an empty rev" },
		{ L("a\t" T "\t1\tn\\q\t42\n"), "an invalid escape in origin" },
		{ L("a\t" T "\t1\tn\t4\\x32\n"), "an invalid escape in rev" },
		{ L("a\t" T "\t1\tn\001\t42\n"), "a control byte in origin" },
		{ L("a\t" T "\t1\tn\t4\r\n"), "a CR in rev" },
		{ L("a\t2026-04-11T14:00:00.123Z\t1\tn\t1\n"), "a fraction" },
		{ L("a\tx\t1\tn\t1\n"), "a bad time" },
		{ L("a\t" T "\tx\tn\t1\n"), "a bad size" },
		{ L("\t" T "\t1\tn\t1\n"), "an empty path" },
		{ L("a\\z\t" T "\t1\tn\t1\n"), "an invalid escape in path" },
		{ L("a\t" T "\t1\tn\0\t1\n"), "a NUL in origin" },
	};
	struct src m;
	struct arc_reader r;
	struct arc_record rec;
	size_t i;
	int rc;

	arc_reader_init(&r, src_open(&m, one, sizeof(one) - 1), "m",
	    ARC_REC_MANIFEST, 1);
	rc = arc_reader_next(&r, &rec);
	CHECK_INT(rc, 1, "a manifest record is read");
	if (rc == 1) {
		CHECK_MEM(rec.qpath, rec.qpathlen, "db/x.parquet", 12,
		    "its path is the first field");
		CHECK_INT(rec.time, T0, "its created_at is parsed");
		CHECK_INT(rec.size, 10, "its size is parsed");
		CHECK_MEM(rec.origin, rec.originlen, "node-1", 6,
		    "its origin is the fourth field");
		CHECK_MEM(rec.rev, rec.revlen, "42", 2,
		    "its rev is the fifth field");
		CHECK_MEM(rec.body, rec.bodylen, one, sizeof(one) - 2,
		    "a manifest record's body is the whole line");
	}
	CHECK_INT(arc_reader_next(&r, &rec), 0, "one manifest record, then "
	    "the end");
	arc_reader_free(&r);
	src_close(&m);

	arc_reader_init(&r, src_open(&m, L("a\t-\t-\t-\t-")), "m",
	    ARC_REC_MANIFEST, 1);
	rc = arc_reader_next(&r, &rec);
	CHECK(rc == 1 && rec.time == ARC_TIME_UNKNOWN && rec.size == -1 &&
	    rec.originlen == 1 && rec.origin[0] == '-' && rec.revlen == 1 &&
	    rec.rev[0] == '-', "a manifest record of unknowns, without its "
	    "newline");
	arc_reader_free(&r);
	src_close(&m);

	expect_ok(L("a\t" T "\t1\tnode\\t1\t\\\\\n"), ARC_REC_MANIFEST, 1, 1,
	    "escapes in origin and rev");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_error(bad[i].s, bad[i].n, ARC_REC_MANIFEST, 0, 0,
		    bad[i].why);
}

static void
test_candidate(void)
{
	static const char both[] =
	    "orphan-manifest\ta\t" T "\t1\tn1\t7\n"
	    "orphan-storage\tb\t-\t2\n";
	static const struct {
		const char *s;
		size_t n;
		const char *why;
	} bad[] = {
		{ L("orphan-x\ta\t" T "\t1\n"), "an unknown kind" },
		{ L("Orphan-storage\ta\t" T "\t1\n"), "an upper-case kind" },
		{ L("orphan-storage \ta\t" T "\t1\n"), "a space after the kind" },
		{ L("orphan-storage\n"), "a kind alone" },
		{ L("orphan-storage\t\n"), "a kind and an empty field" },
		{ L("a\t" T "\t1\n"), "no kind" },
		{ L("orphan-storage\ta\t" T "\t1\tn\t7\n"),
		    "a storage kind on a manifest record" },
		{ L("orphan-manifest\ta\t" T "\t1\n"),
		    "a manifest kind on a storage record" },
		{ L("orphan-storage\ta\\q\t" T "\t1\n"), "an invalid escape" },
		{ L("orphan-storage\ta\t" T "\tx\n"), "a bad size" },
		{ L("\n"), "an empty line" },
	};
	struct src m;
	struct arc_reader r;
	struct arc_record rec;
	size_t i;
	int rc;

	arc_reader_init(&r, src_open(&m, both, sizeof(both) - 1), "c",
	    ARC_REC_CANDIDATE, 1);
	rc = arc_reader_next(&r, &rec);
	CHECK_INT(rc, 1, "an orphan-manifest candidate is read");
	if (rc == 1) {
		CHECK_INT(rec.kind, ARC_KIND_MANIFEST, "its kind is "
		    "orphan-manifest");
		CHECK_MEM(rec.body, rec.bodylen, "a\t" T "\t1\tn1\t7",
		    sizeof("a\t" T "\t1\tn1\t7") - 1,
		    "its body is the manifest record after the kind");
		CHECK_MEM(rec.qpath, rec.qpathlen, "a", 1, "its path is the "
		    "manifest record's path");
		CHECK(rec.origin != NULL && rec.originlen == 2 &&
		    memcmp(rec.origin, "n1", 2) == 0 && rec.revlen == 1 &&
		    rec.rev[0] == '7', "its origin and rev are parsed");
		CHECK_MEM(rec.line, rec.linelen, both,
		    sizeof("orphan-manifest\ta\t" T "\t1\tn1\t7") - 1,
		    "its line is the whole line");
	}
	rc = arc_reader_next(&r, &rec);
	CHECK_INT(rc, 1, "an orphan-storage candidate is read");
	if (rc == 1) {
		CHECK_INT(rec.kind, ARC_KIND_STORAGE, "its kind is "
		    "orphan-storage");
		CHECK_MEM(rec.body, rec.bodylen, "b\t-\t2", 5,
		    "its body is the storage record after the kind");
		CHECK(rec.time == ARC_TIME_UNKNOWN && rec.size == 2,
		    "its time and size are parsed");
	}
	CHECK_INT(arc_reader_next(&r, &rec), 0, "two candidates, then the end");
	arc_reader_free(&r);
	src_close(&m);

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_error(bad[i].s, bad[i].n, ARC_REC_CANDIDATE, 0, 0,
		    bad[i].why);
}

static void
test_reject(void)
{
	static const char *const reasons[] = { "present", "in-manifest",
	    "young", "gone", "error" };
	static const struct {
		const char *s;
		size_t n;
		const char *why;
	} bad[] = {
		{ L("\torphan-storage\ta\t" T "\t1\n"), "an empty reason" },
		{ L("Young\torphan-storage\ta\t" T "\t1\n"), "upper case" },
		{ L("too young\torphan-storage\ta\t" T "\t1\n"), "a space" },
		{ L("young\n"), "a reason alone" },
		{ L("young\torphan-storage\n"), "a reason and a kind alone" },
		{ L("young\ta\t" T "\t1\n"), "no kind" },
		{ L("orphan-storage\ta\t" T "\t1\n"), "no reason" },
		{ L("young\torphan-storage\ta\t" T "\t1\tn\t1\n"),
		    "a storage kind on a manifest record" },
		{ L("young\torphan-storage\ta\t" T "\t1\tx\n"), "too many fields" },
	};
	char line[128];
	struct src m;
	struct arc_reader r;
	struct arc_record rec;
	size_t i;
	int rc, n;

	for (i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++) {
		n = snprintf(line, sizeof(line), "%s\torphan-manifest\tp\t"
		    T "\t3\tnode\t9\n", reasons[i]);
		arc_reader_init(&r, src_open(&m, line, (size_t)n), "r",
		    ARC_REC_REJECT, 1);
		rc = arc_reader_next(&r, &rec);
		CHECK(rc == 1 && rec.reasonlen == strlen(reasons[i]) &&
		    memcmp(rec.reason, reasons[i], rec.reasonlen) == 0 &&
		    rec.kind == ARC_KIND_MANIFEST && rec.qpathlen == 1 &&
		    rec.qpath[0] == 'p' && rec.size == 3 && rec.revlen == 1 &&
		    rec.rev[0] == '9', "a reject record with reason '%s' is "
		    "read", reasons[i]);
		arc_reader_free(&r);
		src_close(&m);
	}
	arc_reader_init(&r, src_open(&m, L("gone\torphan-storage\tp\t" T
	    "\t3")), "r", ARC_REC_REJECT, 1);
	rc = arc_reader_next(&r, &rec);
	CHECK(rc == 1 && rec.kind == ARC_KIND_STORAGE &&
	    rec.bodylen == sizeof("p\t" T "\t3") - 1 &&
	    memcmp(rec.body, "p\t" T "\t3", rec.bodylen) == 0,
	    "a rejected storage candidate's body is its storage record");
	arc_reader_free(&r);
	src_close(&m);

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_error(bad[i].s, bad[i].n, ARC_REC_REJECT, 0, 0,
		    bad[i].why);
}

/* Reason codes: the trailing fields of reject records and result lines. */
static void
test_codes(void)
{
	char buf[512];
	struct src m;
	struct arc_reader r;
	struct arc_record rec;
	FILE *fp;
	size_t n;
	int rc, i;

	for (i = ARC_R_NONE + 1; i < ARC_R_COUNT; i++)
		CHECK(arc_reason_parse(arc_reason_name(i),
		    strlen(arc_reason_name(i))) == i, "code %s parses back",
		    arc_reason_name(i));
	CHECK(arc_reason_parse(L("DELETED ")) == -1 &&
	    arc_reason_parse(L("deleted")) == -1 && arc_reason_parse(L("-")) ==
	    -1, "a word that is not a code is none");

	/* the writers' lines are read back, code and age included */
	fp = fmemopen(buf, sizeof(buf), "w");
	arc_write_reject(fp, "young", ARC_KIND_STORAGE, L("p\t" T "\t3"),
	    ARC_R_TOO_YOUNG, T0);
	arc_write_reject(fp, "foreign", ARC_KIND_MANIFEST,
	    L("q\t" T "\t3\tn\t9"), ARC_R_FOREIGN_ORIGIN, ARC_TIME_UNKNOWN);
	fflush(fp);
	n = (size_t)ftell(fp);
	fclose(fp);
	CHECK(n == sizeof("young\torphan-storage\tp\t" T "\t3\tTOO_YOUNG\t" T
	    "\nforeign\torphan-manifest\tq\t" T "\t3\tn\t9\tFOREIGN_ORIGIN"
	    "\t-\n") - 1 && memcmp(buf, "young\torphan-storage\tp\t" T
	    "\t3\tTOO_YOUNG\t" T "\n", 50) == 0, "reject records end in the "
	    "code and the age");
	arc_reader_init(&r, src_open(&m, buf, n), "r", ARC_REC_REJECT, 1);
	rc = arc_reader_next(&r, &rec);
	CHECK(rc == 1 && rec.code == ARC_R_TOO_YOUNG && rec.age == T0 &&
	    rec.bodylen == sizeof("p\t" T "\t3") - 1,
	    "a storage reject's code, age and body are read back");
	rc = arc_reader_next(&r, &rec);
	CHECK(rc == 1 && rec.code == ARC_R_FOREIGN_ORIGIN &&
	    rec.age == ARC_TIME_UNKNOWN && rec.revlen == 1 &&
	    rec.bodylen == sizeof("q\t" T "\t3\tn\t9") - 1,
	    "a manifest reject's code and body are read back");
	arc_reader_free(&r);
	src_close(&m);

	fp = fmemopen(buf, sizeof(buf), "w");
	arc_write_result(fp, "deleted", ARC_KIND_STORAGE, L("a\tb"),
	    ARC_R_DELETED);
	fflush(fp);
	n = (size_t)ftell(fp);
	fclose(fp);
	CHECK(n == sizeof("deleted\torphan-storage\ta\\tb\tDELETED\n") - 1 &&
	    memcmp(buf, "deleted\torphan-storage\ta\\tb\tDELETED\n", n) == 0,
	    "a result line ends in its code, the path quoted");
	arc_reader_init(&r, src_open(&m, buf, n), "r", ARC_REC_RESULT, 0);
	rc = arc_reader_next(&r, &rec);
	CHECK(rc == 1 && rec.code == ARC_R_DELETED && rec.qpathlen == 4 &&
	    rec.kind == ARC_KIND_STORAGE && rec.reasonlen == 7,
	    "a result line is read back");
	arc_reader_free(&r);
	src_close(&m);

	expect_ok(L("gone\torphan-storage\tp\n"), ARC_REC_RESULT, 0, 1,
	    "a result line without a code");
	expect_error(L("gone\torphan-storage\tp\tNOPE\n"), ARC_REC_RESULT, 0,
	    0, "a result line with an unknown code");
	expect_error(L("gone\torphan-storage\tp\tGONE\tx\n"), ARC_REC_RESULT,
	    0, 0, "a result line with a fifth field");
	expect_error(L("gone\torphan-storage\tp\t" T "\t1\tGONE\n"),
	    ARC_REC_REJECT, 0, 0, "a reject with a code and no age");
	expect_error(L("gone\torphan-storage\tp\t" T "\t1\tgone\t-\n"),
	    ARC_REC_REJECT, 0, 0, "a reject with a lower-case code");
	expect_error(L("gone\torphan-storage\tp\t" T "\t1\tGONE\tx\n"),
	    ARC_REC_REJECT, 0, 0, "a reject with an invalid age");
}

static void
test_order(void)
{
	struct run run;

#define S(p)	p "\t" T "\t1\n"
	expect_ok(L(S("a") S("b") S("c")), ARC_REC_STORAGE, 1, 3,
	    "ascending");
	expect_error(L(S("a") S("c") S("b")), ARC_REC_STORAGE, 1, 2,
	    "descending on line 3");
	expect_error(L(S("a") S("a")), ARC_REC_STORAGE, 1, 1,
	    "a duplicate");
	expect_error(L(S("a") "a\t-\t-\n"), ARC_REC_STORAGE, 1, 1,
	    "a duplicate with other fields");
	expect_ok(L(S("a") S("c") S("b") S("b")), ARC_REC_STORAGE, 0, 4,
	    "unsorted and duplicate, not asked to check");
	expect_ok(L(S("B") S("a")), ARC_REC_STORAGE, 1, 2,
	    "upper case sorts before lower case (byte order)");
	expect_error(L(S("a") S("B")), ARC_REC_STORAGE, 1, 1,
	    "lower case then upper case");
	expect_ok(L(S("a") S("ab")), ARC_REC_STORAGE, 1, 2,
	    "a prefix first");
	expect_error(L(S("ab") S("a")), ARC_REC_STORAGE, 1, 1,
	    "a prefix second");
	expect_ok(L(S("a.parquet") S("a/b")), ARC_REC_STORAGE, 1, 2,
	    "'.' sorts before '/'");
	expect_ok(L(S("z") S("\xc3\xa9")), ARC_REC_STORAGE, 1, 2,
	    "bytes compare unsigned: 0xc3 after 'z'");
	expect_error(L(S("\xc3\xa9") S("z")), ARC_REC_STORAGE, 1, 1,
	    "bytes compare unsigned: 'z' after 0xc3");
	expect_ok(L(S("a b") S("a\\tb")), ARC_REC_STORAGE, 1, 2,
	    "the quoted form is compared: ' ' before '\\t'");
	expect_error(L(S("a\\tb") S("a b")), ARC_REC_STORAGE, 1, 1,
	    "the quoted form is compared: '\\t' after ' '");
	expect_ok(L(S("a\\001") S("a\\t")), ARC_REC_STORAGE, 1, 2,
	    "the quoted form is compared: \\001 before \\t");
	expect_ok(L(S("a\\\\") S("a]") S("a^")), ARC_REC_STORAGE, 1, 3,
	    "a backslash sorts as 0x5c");
	expect_error(L("b\t" T "\t1\tn\t1\na\t" T "\t1\tn\t1\n"),
	    ARC_REC_MANIFEST, 1, 1, "unsorted manifest records");
	expect_error(L("a\t" T "\t1\tn\t1\na\t" T "\t1\tm\t2\n"),
	    ARC_REC_MANIFEST, 1, 1, "a duplicate manifest path");
#undef S

	/* Candidates ascend within each kind, not across kinds. */
#define CM(p)	"orphan-manifest\t" p "\t" T "\t1\tn\t1\n"
#define CS(p)	"orphan-storage\t" p "\t" T "\t1\n"
	expect_ok(L(CM("b") CS("a") CM("c") CS("b")), ARC_REC_CANDIDATE, 1, 4,
	    "kinds interleaved in path order");
	expect_ok(L(CM("a") CM("c") CS("a") CS("b")), ARC_REC_CANDIDATE, 1, 4,
	    "kinds grouped as sort(1) groups them");
	expect_ok(L(CS("x") CM("a")), ARC_REC_CANDIDATE, 1, 2,
	    "a smaller path of the other kind");
	expect_ok(L(CM("a") CS("a")), ARC_REC_CANDIDATE, 1, 2,
	    "one path in both kinds");
	expect_error(L(CM("b") CS("a") CM("a")), ARC_REC_CANDIDATE, 1, 2,
	    "orphan-manifest paths going down");
	expect_error(L(CS("b") CM("z") CS("a")), ARC_REC_CANDIDATE, 1, 2,
	    "orphan-storage paths going down");
	expect_error(L(CS("b") CS("b")), ARC_REC_CANDIDATE, 1, 1,
	    "a duplicate orphan-storage path");
	expect_error(L(CM("b") CS("c") CM("b")), ARC_REC_CANDIDATE, 1, 2,
	    "a duplicate orphan-manifest path");
	expect_ok(L(CM("b") CM("a")), ARC_REC_CANDIDATE, 0, 2,
	    "unsorted candidates, not asked to check");
	expect_error(L("young\t" CS("b") "gone\t" CS("a")), ARC_REC_REJECT, 1,
	    1, "unsorted reject records");
	expect_ok(L("young\t" CS("b") "gone\t" CM("a")), ARC_REC_REJECT, 1, 2,
	    "reject records ascend per kind");
#undef CM
#undef CS

	/* Messages name the operand and the line. */
	read_all(L("a\t" T "\t1\nb\t" T "\t1\na\t" T "\t1\n"),
	    ARC_REC_STORAGE, 1, &run);
	CHECK(run.rc == -1 && strstr(run.msg, "'input'") != NULL &&
	    strstr(run.msg, "not sorted") != NULL &&
	    strstr(run.msg, "at line 3") != NULL,
	    "an unsorted record is reported as 'input': not sorted at line 3");
	if (run.rc != -1 || strstr(run.msg, "at line 3") == NULL)
		unit_diag("said %s", unit_esc(run.msg, strlen(run.msg)));
	CHECK_INT(run.lineno, 3, "the reader stops on line 3");
	read_all(L("a\t" T "\t1\nb\t" T "\t1\nb\t" T "\t1\n"),
	    ARC_REC_STORAGE, 1, &run);
	CHECK(strstr(run.msg, "duplicate path") != NULL &&
	    strstr(run.msg, "at line 3") != NULL,
	    "a duplicate is reported as duplicate path at line 3");
	read_all(L("a\t" T "\t1\n\nb\t" T "\t1\n"), ARC_REC_STORAGE, 0, &run);
	CHECK(run.rc == -1 && run.nrec == 1 &&
	    strstr(run.msg, "at line 2") != NULL,
	    "an empty line 2 is reported at line 2");
	read_all(L("a\t" T "\t1\nb\t" T "\t1\nc\t" T "\t1\nd\t" T "\tx"),
	    ARC_REC_STORAGE, 0, &run);
	CHECK(run.rc == -1 && run.nrec == 3 &&
	    strstr(run.msg, "at line 4") != NULL,
	    "a bad size on a final line without newline is reported at "
	    "line 4");
	if (run.nrec != 3 || strstr(run.msg, "at line 4") == NULL)
		unit_diag("said %s", unit_esc(run.msg, strlen(run.msg)));
}

static void
test_pathcmp(void)
{
	CHECK(arc_pathcmp("a", 1, "b", 1) < 0, "pathcmp: a < b");
	CHECK(arc_pathcmp("b", 1, "a", 1) > 0, "pathcmp: b > a");
	CHECK(arc_pathcmp("ab", 2, "ab", 2) == 0, "pathcmp: ab = ab");
	CHECK(arc_pathcmp("", 0, "", 0) == 0, "pathcmp: empty = empty");
	CHECK(arc_pathcmp("", 0, "a", 1) < 0, "pathcmp: empty < a");
	CHECK(arc_pathcmp("a", 1, "ab", 2) < 0, "pathcmp: a prefix is less");
	CHECK(arc_pathcmp("ab", 2, "a", 1) > 0, "pathcmp: a longer string "
	    "is more");
	CHECK(arc_pathcmp("z", 1, "\x80", 1) < 0, "pathcmp: bytes are "
	    "unsigned");
	CHECK(arc_pathcmp("\xff", 1, "\x01", 1) > 0, "pathcmp: 0xff > 0x01");
	CHECK(arc_pathcmp("B", 1, "a", 1) < 0, "pathcmp: no locale folding");
	CHECK(arc_pathcmp("a\0", 2, "a", 1) > 0, "pathcmp: the length "
	    "counts, not a NUL");
	CHECK(arc_pathcmp("a\0b", 3, "a\0c", 3) < 0, "pathcmp: compares "
	    "past a NUL");
	CHECK(arc_pathcmp("abc", 2, "abd", 2) == 0, "pathcmp: only the "
	    "given lengths count");
}

/* xorshift64*, fixed seed */
static uint64_t rng = 0x853c49e6748fea9bULL;

static uint64_t
next_rand(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545f4914f6cdd1dULL;
}

static int
cmpline(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
test_write_storage(void)
{
	static const unsigned char special[] = { '\\', '\t', '\n', '\r', 0,
	    0x7f, 0x01, 0x80, 0xff, ' ', '/', '.', 'a', 'z', 'A' };
	char *out = NULL, **lines, *p;
	size_t outlen = 0, i, j, n, nlines;
	FILE *fp;
	struct src m;
	struct arc_reader r;
	struct arc_record rec;
	struct arc_buf path = { 0 }, joined = { 0 };
	char paths[2000][24];
	size_t plen[2000];
	int k, rc, bad = 0, nread;

	fp = open_memstream(&out, &outlen);
	arc_write_storage(fp, "a\tb", 3, T0, 10);
	fclose(fp);
	CHECK_STR(out, "a\\tb\t" T "\t10\n", "write_storage writes a quoted "
	    "path, the time and the size");
	free(out);

	out = NULL;
	fp = open_memstream(&out, &outlen);
	arc_write_storage(fp, "x", 1, ARC_TIME_UNKNOWN, -1);
	arc_write_storage(fp, "a\0\\", 3, 0, 0);
	arc_write_storage(fp, "\xff \n", 3, -1, INT64_MAX);
	fclose(fp);
	CHECK_STR(out, "x\t-\t-\n"
	    "a\\000\\\\\t1970-01-01T00:00:00Z\t0\n"
	    "\xff \\n\t1969-12-31T23:59:59Z\t9223372036854775807\n",
	    "write_storage writes unknowns as '-', and NUL, backslash, "
	    "newline escaped");
	free(out);

	/* Random paths: write, sort the lines as sort(1) would, read back. */
	out = NULL;
	fp = open_memstream(&out, &outlen);
	for (k = 0; k < 2000; k++) {
		plen[k] = 4 + next_rand() % 20;
		for (i = 0; i < plen[k]; i++) {
			uint64_t v = next_rand();

			paths[k][i] = (char)(v % 2 ? special[(v >> 8) %
			    sizeof(special)] : (v >> 16));
		}
		arc_write_storage(fp, paths[k], plen[k], T0 - k, k);
	}
	fclose(fp);
	arc_reader_init(&r, src_open(&m, out, outlen), "w", ARC_REC_STORAGE, 0);
	for (k = 0, nread = 0; (rc = arc_reader_next(&r, &rec)) == 1; k++) {
		nread++;
		path.len = 0;
		if (k >= 2000 || arc_record_path(&rec, &path) != 0 ||
		    path.len != plen[k] ||
		    memcmp(path.s, paths[k], plen[k]) != 0 ||
		    rec.time != T0 - k || rec.size != k) {
			if (bad++ == 0)
				unit_diag("record %d: %s", k,
				    unit_esc(rec.line, rec.linelen));
		}
	}
	CHECK(rc == 0 && nread == 2000 && bad == 0, "2000 random paths "
	    "written by write_storage read back byte for byte");
	arc_reader_free(&r);
	src_close(&m);

	/* C-locale sort of the lines is the reader's sorted order. */
	nlines = 0;
	for (p = out; p < out + outlen; p++)
		nlines += *p == '\n';
	lines = calloc(nlines, sizeof(*lines));
	for (i = 0, p = out; i < nlines; i++) {
		lines[i] = p;
		p = strchr(p, '\n');
		*p++ = '\0';
	}
	qsort(lines, nlines, sizeof(*lines), cmpline);
	for (i = 0, j = 0; i < nlines; i++) {
		n = strcspn(lines[i], "\t");
		if (j > 0 && strncmp(lines[j - 1], lines[i], n + 1) == 0)
			continue;	/* the same path twice: keep one */
		lines[j++] = lines[i];
	}
	for (i = 0; i < j; i++) {
		arc_buf_adds(&joined, lines[i]);
		arc_buf_addc(&joined, '\n');
	}
	expect_ok(joined.s, joined.len, ARC_REC_STORAGE, 1, (int)j,
	    "storage records sorted by strcmp of whole lines");
	free(lines);
	free(out);
	arc_buf_free(&joined);
	arc_buf_free(&path);
}

static void
test_entry_record(void)
{
	struct arc_entry e;
	struct arc_buf b = { 0 };
	struct run run;

	memset(&e, 0, sizeof(e));
	e.path = "db/m/a b.parquet";
	e.pathlen = strlen(e.path);
	e.created_at = T0;
	e.size = 10;
	e.origin = "node-1";
	e.rev = "42";
	arc_entry_record(&b, &e);
	CHECK_LIT(b.s, b.len, ("db/m/a b.parquet\t" T "\t10\tnode-1\t42"),
	    "entry_record writes path, created_at, size, origin, rev");
	read_all(b.s, b.len, ARC_REC_MANIFEST, 1, &run);
	CHECK(run.rc == 0 && run.nrec == 1, "and the manifest reader reads it");

	b.len = 0;
	e.path = "a\tb\n\\c\0d";
	e.pathlen = 8;
	e.created_at = ARC_TIME_UNKNOWN;
	e.size = -1;
	e.origin = "";
	e.rev = "";
	arc_entry_record(&b, &e);
	CHECK_LIT(b.s, b.len, ("a\\tb\\n\\\\c\\000d\t-\t-\t-\t-"),
	    "entry_record escapes the path and writes unknowns as '-'");
	read_all(b.s, b.len, ARC_REC_MANIFEST, 1, &run);
	CHECK(run.rc == 0 && run.nrec == 1, "and the manifest reader reads it");

	b.len = 0;
	e.path = "p";
	e.pathlen = 1;
	e.created_at = -62135596800LL;	/* 0001-01-01 */
	e.size = 0;
	e.origin = NULL;
	e.rev = NULL;
	arc_entry_record(&b, &e);
	CHECK_LIT(b.s, b.len, ("p\t0001-01-01T00:00:00Z\t0\t-\t-"),
	    "entry_record writes no origin and no rev as '-'");

	b.len = 0;
	e.origin = "node\t1";
	e.rev = "r\\1";
	arc_entry_record(&b, &e);
	CHECK_LIT(b.s, b.len, ("p\t0001-01-01T00:00:00Z\t0\tnode\\t1\tr\\\\1"),
	    "entry_record quotes origin and rev");
	read_all(b.s, b.len, ARC_REC_MANIFEST, 1, &run);
	CHECK(run.rc == 0 && run.nrec == 1, "and the manifest reader reads it");

	b.len = 0;
	arc_buf_adds(&b, "orphan-manifest\t");
	arc_entry_record(&b, &e);
	CHECK(b.len > 16 && memcmp(b.s, "orphan-manifest\tp\t", 18) == 0,
	    "entry_record appends to the buffer");
	arc_buf_free(&b);
}

void
test_record(void)
{
	test_storage();
	test_every_offset();
	test_manifest();
	test_candidate();
	test_reject();
	test_codes();
	test_order();
	test_pathcmp();
	test_write_storage();
	test_entry_record();
}
