/*
 * record.c - the one record reader and writer of arc(7).
 *
 * A record is one LF-terminated line of TAB-separated fields; a final
 * line without its LF is still a record.  Reject records and result
 * lines end in a reason code (lib/reason.c), which the reader also does
 * without, for records written before codes.  The reader validates every
 * field, and, when asked, that paths ascend strictly in byte order of
 * their quoted form (within each candidate kind), so a tool can stream
 * with O(1) state.  Every problem is reported as
 * "'NAME': PROBLEM at line N" and makes arc_reader_next return -1.
 */
#include <err.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "arc.h"

#define LINE_MAX_BYTES	(256 * 1024)	/* far above any real path */
#define MAX_FIELDS	9	/* a reject record of a manifest candidate */

void
arc_reader_init(struct arc_reader *r, FILE *fp, const char *name, int type,
    int sorted)
{
	memset(r, 0, sizeof(*r));
	r->fp = fp;
	r->name = name;
	r->type = type;
	r->sorted = sorted;
}

void
arc_reader_free(struct arc_reader *r)
{
	int i;

	free(r->line);
	for (i = 0; i < 3; i++)
		arc_buf_free(&r->prev[i]);
	arc_buf_free(&r->path);
	r->line = NULL;
}

int
arc_pathcmp(const char *a, size_t an, const char *b, size_t bn)
{
	int c;

	c = memcmp(a, b, an < bn ? an : bn);
	if (c)
		return c;
	return an < bn ? -1 : an > bn;
}

static int
bad(struct arc_reader *r, const char *what)
{
	warnx("'%s': %s at line %ju", r->name, what, r->lineno);
	return -1;
}

static int
parse_size(const char *s, size_t n, int64_t *out)
{
	int64_t v = 0;
	size_t i;

	if (n == 1 && s[0] == '-') {
		*out = -1;
		return 0;
	}
	if (n == 0 || n > 19 || (n > 1 && s[0] == '0'))
		return -1;	/* one spelling per number: no leading zeros */
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		/* only a 19-digit number can pass INT64_MAX */
		if (n == 19 && v > (INT64_MAX - (s[i] - '0')) / 10)
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

static int
parse_time(const char *s, size_t n, int64_t *out)
{
	if (n == 1 && s[0] == '-') {
		*out = ARC_TIME_UNKNOWN;
		return 0;
	}
	return arc_time_parse(s, n, ARC_TIME_RECORD, out);
}

static int
parse_kind(const char *s, size_t n)
{
	if (n == 15 && memcmp(s, "orphan-manifest", 15) == 0)
		return ARC_KIND_MANIFEST;
	if (n == 14 && memcmp(s, "orphan-storage", 14) == 0)
		return ARC_KIND_STORAGE;
	return ARC_KIND_NONE;
}

/*
 * The common case, a storage or manifest record with no byte that needs
 * unquoting, parsed in one pass.  Returns 0 with rec filled exactly as
 * the careful path in arc_reader_next would fill it, or -1 for any
 * other line, valid or not; the careful path then decides, so every
 * message stays the one the contract gives.  line[len] is the newline
 * or the NUL getdelim(3) ends the buffer with, a byte that stops every
 * scan below, so they need no bounds check.
 */
static int
fast_record(const char *line, size_t len, int type, struct arc_record *rec)
{
	const char *p, *end = line + len, *f;
	uint64_t v;

	/* path TAB: non-empty, nothing to unquote */
	p = arc_plain_span(line, end);
	if (p == line || *p != '\t')
		return -1;
	rec->qpath = line;
	rec->qpathlen = (size_t)(p - line);
	p++;
	/* a time is "-" or exactly 20 bytes, none of them a TAB */
	if (p[0] == '-' && p[1] == '\t') {
		rec->time = ARC_TIME_UNKNOWN;
		p += 2;
	} else if (end - p >= 21 && p[20] == '\t' &&
	    arc_time_parse(p, 20, ARC_TIME_RECORD, &rec->time) == 0)
		p += 21;
	else
		return -1;
	/* a size is "-" or, here, 1 to 18 digits: no overflow to check */
	if (*p == '-') {
		rec->size = -1;
		p++;
	} else {
		for (f = p, v = 0; (unsigned)(*p - '0') <= 9; p++)
			v = v * 10 + (unsigned)(*p - '0');
		if (p == f || p - f > 18 || (*f == '0' && p - f > 1))
			return -1;	/* leading zeros: the careful path */
		rec->size = (int64_t)v;
	}
	if (type == ARC_REC_MANIFEST) {
		/* TAB origin TAB rev: both non-empty, nothing to unquote */
		if (*p != '\t')
			return -1;
		for (f = ++p; !arc_needs_quote((unsigned char)*p); p++)
			;
		if (p == f || *p != '\t')
			return -1;
		rec->origin = f;
		rec->originlen = (size_t)(p - f);
		for (f = ++p; !arc_needs_quote((unsigned char)*p); p++)
			;
		if (p == f)
			return -1;
		rec->rev = f;
		rec->revlen = (size_t)(p - f);
	}
	if (p != end)
		return -1;
	rec->body = line;
	rec->bodylen = len;
	return 0;
}

static int
read_record(struct arc_reader *r, struct arc_record *rec)
{
	/* copied, not memset: gcc makes that a slow "rep stos" per record */
	static const struct arc_record zero;
	const char *f[MAX_FIELDS], *e, *msg;
	size_t fl[MAX_FIELDS], nf, want, i, base;
	ssize_t len;
	char *p, *end, *tab;
	int type;

	errno = 0;
	if ((len = getdelim(&r->line, &r->cap, '\n', r->fp)) == -1) {
		if (ferror(r->fp)) {
			warn("'%s': read error", r->name);
			return -1;
		}
		return 0;
	}
	r->lineno++;
	if (len > 0 && r->line[len - 1] == '\n')
		len--;
	if (len > LINE_MAX_BYTES)
		return bad(r, "line longer than 262144 bytes");
	*rec = zero;
	rec->line = r->line;
	rec->linelen = (size_t)len;
	/* A line fast_record accepts holds no NUL: every field is checked. */
	if ((r->type == ARC_REC_STORAGE || r->type == ARC_REC_MANIFEST) &&
	    fast_record(r->line, (size_t)len, r->type, rec) == 0)
		goto check_order;
	if (memchr(r->line, '\0', (size_t)len))
		return bad(r, "NUL byte");
	*rec = zero;	/* fast_record may have filled some fields */
	rec->line = r->line;
	rec->linelen = (size_t)len;

	/* split into at most MAX_FIELDS fields */
	p = r->line;
	end = r->line + len;
	for (nf = 0; ; nf++) {
		if (nf == MAX_FIELDS)
			return bad(r, "too many fields");
		tab = memchr(p, '\t', (size_t)(end - p));
		f[nf] = p;
		fl[nf] = tab ? (size_t)(tab - p) : (size_t)(end - p);
		if (!tab) {
			nf++;
			break;
		}
		p = tab + 1;
	}

	base = 0;
	type = r->type;
	rec->age = ARC_TIME_UNKNOWN;
	if (type == ARC_REC_REJECT || type == ARC_REC_RESULT) {
		if (fl[0] == 0 || strspn(f[0], "abcdefghijklmnopqrstuvwxyz-") <
		    fl[0])
			return bad(r, type == ARC_REC_RESULT ? "invalid result" :
			    "invalid reason");
		rec->reason = f[0];
		rec->reasonlen = fl[0];
		base = 1;
	}
	if (type == ARC_REC_RESULT) {
		/* result kind path, and the code since arc(7) has codes */
		if (nf < 3)
			return bad(r, "too few fields");
		if (nf > 4)
			return bad(r, "too many fields");
		if ((rec->kind = parse_kind(f[1], fl[1])) == ARC_KIND_NONE)
			return bad(r, "unknown candidate kind");
		if (fl[2] == 0)
			return bad(r, "empty path");
		if (arc_quoted_check(f[2], fl[2], &msg) == -1)
			return bad(r, msg);
		rec->qpath = f[2];
		rec->qpathlen = fl[2];
		if (nf == 4 && (rec->code = arc_reason_parse(f[3], fl[3])) == -1)
			return bad(r, "invalid reason code");
		goto check_order;
	}
	if (type == ARC_REC_REJECT)
		type = ARC_REC_CANDIDATE;
	if (type == ARC_REC_CANDIDATE) {
		if (nf <= base)
			return bad(r, "too few fields");
		rec->kind = parse_kind(f[base], fl[base]);
		if (rec->kind == ARC_KIND_NONE)
			return bad(r, "unknown candidate kind");
		base++;
		type = rec->kind == ARC_KIND_MANIFEST ? ARC_REC_MANIFEST :
		    ARC_REC_STORAGE;
	}
	want = base + (type == ARC_REC_MANIFEST ? 5 : 3);
	if (nf < want)
		return bad(r, "too few fields");
	/* a reject record ends in its code and age (none before codes) */
	if (nf > want && !(r->type == ARC_REC_REJECT && nf == want + 2))
		return bad(r, "too many fields");
	if (nf == want + 2) {
		if ((rec->code = arc_reason_parse(f[want], fl[want])) == -1)
			return bad(r, "invalid reason code");
		if (parse_time(f[want + 1], fl[want + 1], &rec->age) == -1)
			return bad(r, "invalid time");
	}
	rec->body = f[base];
	rec->bodylen = (size_t)(f[want - 1] + fl[want - 1] - f[base]);
	rec->qpath = f[base];
	rec->qpathlen = fl[base];
	if (fl[base] == 0)
		return bad(r, "empty path");
	if (arc_quoted_check(f[base], fl[base], &msg) == -1)
		return bad(r, msg);
	if (parse_time(f[base + 1], fl[base + 1], &rec->time) == -1)
		return bad(r, "invalid time");
	if (parse_size(f[base + 2], fl[base + 2], &rec->size) == -1)
		return bad(r, "invalid size");
	if (type == ARC_REC_MANIFEST) {
		for (i = 3; i <= 4; i++) {
			if (fl[base + i] == 0)
				return bad(r, i == 3 ? "empty origin" :
				    "empty rev");
			if (arc_quoted_check(f[base + i], fl[base + i], &e))
				return bad(r, e);
		}
		rec->origin = f[base + 3];
		rec->originlen = fl[base + 3];
		rec->rev = f[base + 4];
		rec->revlen = fl[base + 4];
	}

check_order:
	if (r->sorted) {
		/* Candidates ascend within each kind (arc-delete splits them). */
		struct arc_buf *prev = &r->prev[rec->kind];
		int c;

		if (r->haveprev[rec->kind]) {
			c = arc_pathcmp(prev->s, prev->len, rec->qpath,
			    rec->qpathlen);
			if (c == 0)
				return bad(r, "duplicate path");
			if (c > 0)
				return bad(r, "not sorted");
		}
		prev->len = 0;
		arc_buf_add(prev, rec->qpath, rec->qpathlen);
		r->haveprev[rec->kind] = 1;
	}
	return 1;
}

/*
 * The next record, checked whole: 1, 0 at the end, -1 after a message.
 * With a shard set, the records of other shards are checked (order
 * included) and passed over, so that a tool sees only its shard's; with
 * a range set, so are those outside it, counted in outside.
 */
int
arc_reader_next(struct arc_reader *r, struct arc_record *rec)
{
	const char *path;
	size_t n;
	int k;

	while ((k = read_record(r, rec)) == 1 && ((r->shard != NULL &&
	    r->shard->count > 0) || (r->range != NULL && r->range->on))) {
		/* quoting never touches '/': most paths need no decoding */
		path = rec->qpath;
		n = rec->qpathlen;
		if (memchr(path, '\\', n) != NULL) {
			r->path.len = 0;
			if (arc_record_path(rec, &r->path) == -1)
				return bad(r, "invalid quoting");
			path = r->path.s;
			n = r->path.len;
		}
		if (r->shard != NULL && !arc_shard_has(r->shard, path, n))
			continue;
		/* the range compares decoded paths, as the store lists them */
		if (arc_range_has(r->range, path, n))
			break;
		r->outside++;
	}
	return k;
}

/* The decoded path of a record, appended to b; 0 on success. */
int
arc_record_path(const struct arc_record *rec, struct arc_buf *b)
{
	const char *msg;

	return arc_unquote(b, rec->qpath, rec->qpathlen, &msg);
}

/* Append a size field: "-" when unknown, else decimal. */
static void
add_size(struct arc_buf *b, int64_t size)
{
	char num[32], *p;

	if (size < 0) {
		arc_buf_addc(b, '-');
		return;
	}
	/* by hand: printf shows in a listing's profile */
	p = num + sizeof(num);
	do {
		*--p = (char)('0' + size % 10);
		size /= 10;
	} while (size > 0);
	arc_buf_add(b, p, (size_t)(num + sizeof(num) - p));
}

/* Append a quoted origin or rev field: "-" when empty. */
static void
add_token(struct arc_buf *b, const char *s)
{
	if (s == NULL || s[0] == '\0')
		arc_buf_addc(b, '-');
	else
		arc_quote(b, s, strlen(s));
}

/* Append the storage record (path mtime size), without its newline. */
void
arc_storage_record(struct arc_buf *b, const char *path, size_t n,
    int64_t mtime, int64_t size)
{
	char tbuf[ARC_TIME_BUFSZ];

	arc_quote(b, path, n);
	arc_buf_addc(b, '\t');
	arc_buf_adds(b, arc_time_format(mtime, tbuf));
	arc_buf_addc(b, '\t');
	add_size(b, size);
}

/* Write one storage record (path mtime size). */
void
arc_write_storage(FILE *fp, const char *path, size_t n, int64_t mtime,
    int64_t size)
{
	static struct arc_buf b;

	b.len = 0;
	arc_storage_record(&b, path, n, mtime, size);
	arc_buf_addc(&b, '\n');
	fwrite(b.s, 1, b.len, fp);
}

/*
 * Append the manifest record of e (path created_at size origin rev),
 * without its newline; an empty origin or rev is written "-".
 */
void
arc_entry_record(struct arc_buf *b, const struct arc_entry *e)
{
	char tbuf[ARC_TIME_BUFSZ];

	arc_quote(b, e->path, e->pathlen);
	arc_buf_addc(b, '\t');
	arc_buf_adds(b, arc_time_format(e->created_at, tbuf));
	arc_buf_addc(b, '\t');
	add_size(b, e->size);
	arc_buf_addc(b, '\t');
	add_token(b, e->origin);
	arc_buf_addc(b, '\t');
	add_token(b, e->rev);
}

/*
 * Write one candidate record: the kind, then body, a storage or manifest
 * record as read (a record's body field), copied verbatim.
 */
void
arc_write_candidate(FILE *fp, int kind, const char *body, size_t n)
{
	fputs(ARC_KIND_NAME(kind), fp);
	putc('\t', fp);
	fwrite(body, 1, n, fp);
	putc('\n', fp);
}

/*
 * Write one reject record: the reason, the candidate record, its reason
 * code and the time a TOO_YOUNG or UNKNOWN_MTIME was judged by (the
 * modification time the stage saw; ARC_TIME_UNKNOWN: "-").
 */
void
arc_write_reject(FILE *fp, const char *reason, int kind, const char *body,
    size_t n, int code, int64_t age)
{
	char tbuf[ARC_TIME_BUFSZ];

	fputs(reason, fp);
	putc('\t', fp);
	fputs(ARC_KIND_NAME(kind), fp);
	putc('\t', fp);
	fwrite(body, 1, n, fp);
	fprintf(fp, "\t%s\t%s\n", arc_reason_name(code),
	    arc_time_format(age, tbuf));
}

/* Write one result line (result kind path code); path is decoded. */
void
arc_write_result(FILE *fp, const char *result, int kind, const char *path,
    size_t n, int code)
{
	static struct arc_buf b;

	b.len = 0;
	arc_buf_adds(&b, result);
	arc_buf_addc(&b, '\t');
	arc_buf_adds(&b, ARC_KIND_NAME(kind));
	arc_buf_addc(&b, '\t');
	arc_quote(&b, path, n);
	arc_buf_addc(&b, '\t');
	arc_buf_adds(&b, arc_reason_name(code));
	arc_buf_addc(&b, '\n');
	fwrite(b.s, 1, b.len, fp);
}
