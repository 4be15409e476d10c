/*
 * record.c - the one record reader and writer of arc(7).
 *
 * A record is one LF-terminated line of TAB-separated fields; a final
 * line without its LF is still a record.  The reader validates every
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

#define LINE_MAX_BYTES	(64 * 1024)

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
	if (n == 0 || n > 19)
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		if (v > (INT64_MAX - (s[i] - '0')) / 10)
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
 * 1 when none of the n bytes at p needs quoting (below 0x20, 0x7F or a
 * backslash), so the field is canonical without a byte-by-byte check.
 * Eight bytes at a time: this runs over every byte a diff reads.  Each
 * test is exact as a boolean (Anderson's "bit twiddling hacks").
 */
static int
plain(const char *p, size_t n)
{
	const uint64_t ones = 0x0101010101010101ULL;
	const uint64_t highs = 0x8080808080808080ULL;
	uint64_t x, y, z;
	size_t i;

	for (; n >= 8; p += 8, n -= 8) {
		memcpy(&x, p, 8);
		y = x ^ (ones * 0x7f);
		z = x ^ (ones * '\\');
		if ((((x - ones * 0x20) & ~x) | ((y - ones) & ~y) |
		    ((z - ones) & ~z)) & highs)
			return 0;
	}
	for (i = 0; i < n; i++)
		if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f ||
		    p[i] == '\\')
			return 0;
	return 1;
}

/*
 * Split a line of len bytes into at most 8 fields when no field holds a
 * byte that needs quoting; 0 then, -1 otherwise.  Such a line has no
 * NUL and only canonical fields, so the caller may skip those checks;
 * on -1 it takes the careful path, whose messages are the contract.
 */
static int
split_plain(char *line, size_t len, const char **f, size_t *fl, size_t *nfp)
{
	char *p = line, *end = line + len, *tab;
	size_t nf;

	for (nf = 0; nf < 8; nf++) {
		tab = memchr(p, '\t', (size_t)(end - p));
		f[nf] = p;
		fl[nf] = tab ? (size_t)(tab - p) : (size_t)(end - p);
		if (!plain(p, fl[nf]))
			return -1;
		if (!tab) {
			*nfp = nf + 1;
			return 0;
		}
		p = tab + 1;
	}
	return -1;
}

int
arc_reader_next(struct arc_reader *r, struct arc_record *rec)
{
	const char *f[8], *e, *msg;
	size_t fl[8], nf, want, i, base;
	ssize_t len;
	char *p, *end, *tab;
	int type, clean;

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
		return bad(r, "line longer than 65536 bytes");
	memset(rec, 0, sizeof(*rec));
	rec->line = r->line;
	rec->linelen = (size_t)len;
	end = r->line + len;
	clean = split_plain(r->line, (size_t)len, f, fl, &nf) == 0;
	if (!clean) {
		if (memchr(r->line, '\0', (size_t)len))
			return bad(r, "NUL byte");

		/* split into at most 8 fields */
		p = r->line;
		for (nf = 0; ; nf++) {
			if (nf == 8)
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
	}

	base = 0;
	type = r->type;
	if (type == ARC_REC_REJECT) {
		if (fl[0] == 0 || strspn(f[0], "abcdefghijklmnopqrstuvwxyz-") <
		    fl[0])
			return bad(r, "invalid reason");
		rec->reason = f[0];
		rec->reasonlen = fl[0];
		base = 1;
		type = ARC_REC_CANDIDATE;
	}
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
	if (nf > want)
		return bad(r, "too many fields");
	rec->body = f[base];
	rec->bodylen = (size_t)(end - f[base]);
	rec->qpath = f[base];
	rec->qpathlen = fl[base];
	if (fl[base] == 0)
		return bad(r, "empty path");
	if (!clean && arc_quoted_check(f[base], fl[base], &msg) == -1)
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
			if (!clean && arc_quoted_check(f[base + i],
			    fl[base + i], &e))
				return bad(r, e);
		}
		rec->origin = f[base + 3];
		rec->originlen = fl[base + 3];
		rec->rev = f[base + 4];
		rec->revlen = fl[base + 4];
	}

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

/* The decoded path of a record, appended to b; 0 on success. */
int
arc_record_path(const struct arc_record *rec, struct arc_buf *b)
{
	const char *msg;

	return arc_unquote(b, rec->qpath, rec->qpathlen, &msg);
}

void
arc_write_storage(FILE *fp, const char *path, size_t n, int64_t mtime,
    int64_t size)
{
	static struct arc_buf b;
	char tbuf[ARC_TIME_BUFSZ];

	b.len = 0;
	arc_quote(&b, path, n);
	arc_buf_addc(&b, '\t');
	arc_buf_adds(&b, arc_time_format(mtime, tbuf));
	if (size < 0)
		arc_buf_adds(&b, "\t-\n");
	else
		arc_buf_printf(&b, "\t%lld\n", (long long)size);
	fwrite(b.s, 1, b.len, fp);
}
