/*
 * jsonstream.c - read FileEntry objects from Arc manifest bodies
 * ({"files":[...],"total":N,...}, several concatenated) or NDJSON, in
 * memory bounded by the largest single entry.
 *
 * json-c builds whole trees and has no streaming interface, so a small
 * scanner here only finds where each top-level object and each element
 * of a top-level "files" array begins and ends; json-c parses every piece
 * it finds.  The scanner also counts object keys, so that a duplicate key
 * (which json-c silently collapses) is caught by comparing counts.
 * Look-ups that only need the entries of a few paths can skip json-c for
 * the rest (arc_json_entries_raw, the fast path below).
 */
#include <err.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "arc_priv.h"

enum mode {
	M_TOP,		/* between top-level values */
	M_OBJ,		/* inside a top-level object, outside "files" */
	M_FILES,	/* inside "files", between elements */
	M_ELEM		/* inside one element of "files" */
};

struct js {
	const char	*name;
	arc_entry_fn	 fn;
	arc_raw_fn	 rawfn;		/* sees simple entries first, or NULL */
	int		 lite;		/* rawfn is arc_json_lite */
	int		 offered;	/* the next entry was offered already */
	void		*arg;
	json_tokener	*tok;
	uintmax_t	 line;
	enum mode	 mode;
	int		 instr, esc;
	int		 depth;		/* in the top-level object */
	int		 edepth;	/* in the current element */
	int		 keyexp;	/* the next string at this level is a key */
	int		 inkey;
	int		 filescolon;	/* saw "files": at depth 1 */
	int		 streamed;	/* "files" was streamed */
	int		 entkeyexp;	/* same, in the element */
	int		 prevc;		/* the byte before, outside strings */
	int		 innum;		/* in a run of digits */
	int		 numskip;	/* a fraction or exponent: not checked */
	uint64_t	 num;
	size_t		 objkeys, entkeys, nelem;
	struct arc_json_meta *meta;	/* what the bodies said, or NULL */
	uintmax_t	 objline, entline;
	struct arc_buf	 obj, ent, key, err, lite_buf;
};

/*
 * The fast path.  Most of a look-up or rewrite pass went to json-c
 * building a tree for entries whose path is not in the batch; a caller
 * of arc_json_entries_raw sees each simple entry's bytes and path first
 * and may skip the parse.
 *
 * What a pass validates does not change.  arc_json_simple calls an entry
 * simple only when it proves, without json-c, that the full pass would
 * accept it (strict JSON, no duplicate key, no "enabled", no "files",
 * and every check of arc_entry_from_json: path, created_at, size_bytes,
 * lsn and the string members) and would decode this very path.  It
 * proves a plain subset only: no nesting, no \u escape, no escape in a
 * key, in path or in created_at, integers of at most 18 digits (without
 * a sign where a count is checked), no raw control byte.  Anything else
 * is left to the full pass, so a manifest a pass refused is refused
 * still, at the same line and with the same message, and an entry is
 * never missed because its path was spelled with an escape.
 */

#define SIMPLE_KEYS	32	/* more keys than this: not simple */

enum skey {
	K_OTHER, K_PATH, K_CREATED, K_SIZE, K_LSN, K_STRING, K_REFUSE
};

static enum skey
simple_key(const char *k, size_t n)
{
#define KEY(s, k)	{ s, sizeof(s) - 1, k }
	static const struct {
		const char	*name;
		size_t		 len;
		enum skey	 key;
	} keys[] = {
		KEY("path", K_PATH),
		KEY("created_at", K_CREATED),
		KEY("size_bytes", K_SIZE),
		KEY("lsn", K_LSN),
		KEY("origin_node_id", K_STRING),
		KEY("database", K_STRING),
		KEY("measurement", K_STRING),
		/* these change what the object is: an Arc body, an answer */
		KEY("files", K_REFUSE),
		KEY("enabled", K_REFUSE),
	};
#undef KEY
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (keys[i].len == n && keys[i].name[0] == k[0] &&
		    memcmp(keys[i].name, k, n) == 0)
			return keys[i].key;
	return K_OTHER;
}

/*
 * Skip the white space at p; clear *oneline on a line break.  json-c
 * takes isspace(3), a superset of these four.
 */
static const char *
simple_ws(const char *p, const char *e, int *oneline)
{
	for (; p < e; p++) {
		if (*p == '\n' || *p == '\r')
			*oneline = 0;
		else if (*p != ' ' && *p != '\t')
			break;
	}
	return p;
}

/*
 * Whether any of the eight bytes in w is a quote, a backslash or below
 * 0x20 (the bit tricks of "Bit Twiddling Hacks": exact for the whole
 * word, whatever the byte order).
 */
#define ONES		0x0101010101010101ULL
#define HIGHS		0x8080808080808080ULL
#define HASZERO(w)	(((w) - ONES) & ~(w) & HIGHS)
#define HASLESS(w, n)	(((w) - ONES * (n)) & ~(w) & HIGHS)

static int
special8(const char *p)
{
	uint64_t w;

	memcpy(&w, p, sizeof(w));
	return (HASLESS(w, 0x20) | HASZERO(w ^ (ONES * '"')) |
	    HASZERO(w ^ (ONES * '\\'))) != 0;
}

/*
 * The first byte from p that may be special (a quote, a backslash or
 * below 0x20), found sixteen bytes at a time where the CPU has SSE2 (a
 * path and a SHA-256 are most of an entry's bytes); at most 15 bytes
 * short of e, the rest left to special8.
 */
static const char *
plain16(const char *p, const char *e)
{
#ifdef __SSE2__
	const __m128i q = _mm_set1_epi8('"'), bs = _mm_set1_epi8('\\'),
	    ctl = _mm_set1_epi8(0x1f);
	__m128i x;
	unsigned m;

	while (e - p >= 16) {
		x = _mm_loadu_si128((const __m128i *)(const void *)p);
		m = (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(
		    _mm_cmpeq_epi8(x, q), _mm_cmpeq_epi8(x, bs)),
		    _mm_cmpeq_epi8(_mm_max_epu8(x, ctl), ctl)));
		if (m != 0)
			return p + __builtin_ctz(m);
		p += 16;
	}
#else
	(void)e;
#endif
	return p;
}

/*
 * A string from the byte after its opening quote: the byte after its
 * closing quote, or NULL when not simple.  *esc tells whether it holds
 * an escape (one of json-c's two-byte ones; \u is not simple).  Most of
 * a pass is spent here: plain bytes are skipped eight at a time.
 */
static const char *
simple_string(const char *p, const char *e, int *esc)
{
	*esc = 0;
	for (;;) {
		p = plain16(p, e);
		while (e - p >= 8 && !special8(p))
			p += 8;
		if (p == e)
			return NULL;
		if (*p == '"')
			return p + 1;
		/* json-c takes raw control bytes, but a line could break */
		if ((unsigned char)*p < 0x20)
			return NULL;
		if (*p == '\\') {
			if (++p == e || *p == '\0' ||
			    strchr("\"\\/bfnrt", *p) == NULL)
				return NULL;
			*esc = 1;
		}
		p++;
	}
}

/* Where the value of a member arc_entry_from_json reads goes in r. */
static struct arc_json_span *
member_span(struct arc_json_raw *r, enum skey which, const char *k)
{
	switch (which) {
	case K_CREATED:
		return &r->created;
	case K_SIZE:
		return &r->size;
	case K_LSN:
		return &r->lsn;
	case K_STRING:
		/* origin_node_id, database, measurement */
		return k[0] == 'o' ? &r->origin : k[0] == 'd' ? &r->database :
		    &r->measurement;
	default:
		return NULL;
	}
}

/*
 * Whether the object s[0..n) is a simple FileEntry (above); if so, fill
 * r with its bytes, its path and the spans of the other members an
 * entry is made of.  Never fails: 0 means "parse it".
 */
int
arc_json_simple(const char *s, size_t n, struct arc_json_raw *r)
{
	const char *p = s, *e = s + n, *k, *v, *d, *key[SIMPLE_KEYS];
	const char *path = NULL;
	struct arc_json_span *span;
	size_t klen[SIMPLE_KEYS], nkeys = 0, i, pathlen = 0;
	enum skey which;
	int esc, oneline = 1;
	int64_t t;

	memset(r, 0, sizeof(*r));
	if (p == e || *p++ != '{')
		return 0;
	for (;;) {
		p = simple_ws(p, e, &oneline);
		/* a key: '}' here is "{}", or a trailing ',' */
		if (p == e || *p++ != '"')
			return 0;
		k = p;
		if ((p = simple_string(p, e, &esc)) == NULL || esc)
			return 0;
		if (nkeys == SIMPLE_KEYS)
			return 0;
		key[nkeys] = k;
		klen[nkeys] = (size_t)(p - 1 - k);
		/* the first byte first: most keys differ there */
		for (i = 0; i < nkeys; i++)
			if (klen[i] == klen[nkeys] && (klen[i] == 0 ||
			    (key[i][0] == k[0] &&
			    memcmp(key[i], k, klen[i]) == 0)))
				return 0;	/* a duplicate key */
		which = simple_key(k, klen[nkeys++]);
		if (which == K_REFUSE)
			return 0;
		p = simple_ws(p, e, &oneline);
		if (p == e || *p++ != ':')
			return 0;
		p = simple_ws(p, e, &oneline);
		if (p == e)
			return 0;

		/* the value */
		v = p;
		span = member_span(r, which, k);
		if (*p == '"') {
			if ((p = simple_string(p + 1, e, &esc)) == NULL)
				return 0;
			if (span != NULL) {
				span->s = v + 1;
				span->len = (size_t)(p - 2 - v);
				span->esc = esc;
			}
			switch (which) {
			case K_PATH:
				if (esc)
					return 0;
				path = v + 1;
				pathlen = (size_t)(p - 1 - path);
				break;
			case K_CREATED:
				if (esc || arc_time_parse(v + 1,
				    (size_t)(p - 2 - v), ARC_TIME_LENIENT,
				    &t) == -1)
					return 0;
				break;
			case K_SIZE:
			case K_LSN:
				return 0;	/* a count as a string */
			default:
				break;
			}
		} else if ((*p >= '0' && *p <= '9') || *p == '-') {
			if (*p == '-') {
				if (which != K_OTHER)
					return 0;
				p++;
			}
			/*
			 * 0, or digits without a leading zero, as json-c's
			 * strict mode has them; 18 fit any int64.  A count
			 * has no sign, so it is not negative.
			 */
			for (d = p; p < e && *p >= '0' && *p <= '9'; p++)
				;
			if (p == d || p - d > 18 || (p - d > 1 && *d == '0'))
				return 0;
			if (which != K_OTHER && which != K_SIZE &&
			    which != K_LSN)
				return 0;
			if (span != NULL) {
				span->s = d;
				span->len = (size_t)(p - d);
			}
		} else if (e - p >= 4 && memcmp(p, "null", 4) == 0) {
			/* null is an absent member, but a path must be there */
			if (which == K_PATH)
				return 0;
			p += 4;
		} else if (e - p >= 4 && memcmp(p, "true", 4) == 0 &&
		    which == K_OTHER)
			p += 4;
		else if (e - p >= 5 && memcmp(p, "false", 5) == 0 &&
		    which == K_OTHER)
			p += 5;
		else	/* nested, or a type the checks refuse */
			return 0;

		/* what follows a value; a number or literal must end here */
		p = simple_ws(p, e, &oneline);
		if (p == e)
			return 0;
		if (*p == '}')
			break;
		if (*p++ != ',')
			return 0;
	}
	if (p + 1 != e || path == NULL ||
	    arc_path_manifest_error(path, pathlen) != NULL)
		return 0;
	r->text = s;
	r->len = n;
	r->path = path;
	r->pathlen = pathlen;
	r->oneline = oneline;
	return 1;
}

/* Append a simple string's bytes to b, its two-byte escapes decoded. */
static void
add_unescaped(struct arc_buf *b, const struct arc_json_span *sp)
{
	const char *p = sp->s, *e = sp->s + sp->len, *q;
	char c;

	if (!sp->esc) {
		arc_buf_add(b, p, sp->len);
		return;
	}
	while (p < e) {
		if ((q = memchr(p, '\\', (size_t)(e - p))) == NULL)
			q = e;
		arc_buf_add(b, p, (size_t)(q - p));
		if (q == e)
			break;
		switch (q[1]) {
		case 'b': c = '\b'; break;
		case 'f': c = '\f'; break;
		case 'n': c = '\n'; break;
		case 'r': c = '\r'; break;
		case 't': c = '\t'; break;
		default: c = q[1]; break;	/* " \ / */
		}
		arc_buf_addc(b, c);
		p = q + 2;
	}
}

/*
 * Fill e from a simple entry (arc_json_simple) exactly as
 * arc_entry_from_json fills it from the parsed object, without json-c:
 * the checks were all made when the entry was found simple.  The
 * strings live in b, reused from entry to entry; e->json is NULL, and e
 * is not to be given to arc_entry_free.
 */
void
arc_json_raw_entry(const struct arc_json_raw *r, struct arc_entry *e,
    struct arc_buf *b)
{
	const struct arc_json_span *str[4] = { &r->origin, &r->database,
	    &r->measurement, &r->lsn };
	size_t off[5], i;
	const char *p;
	int64_t v;

	memset(e, 0, sizeof(*e));
	b->len = 0;
	off[0] = 0;
	arc_buf_add(b, r->path, r->pathlen);
	arc_buf_addc(b, '\0');
	for (i = 0; i < 4; i++) {
		off[i + 1] = b->len;
		if (str[i]->s != NULL)
			add_unescaped(b, str[i]);	/* lsn: its digits */
		arc_buf_addc(b, '\0');
	}
	e->path = b->s;
	e->pathlen = r->pathlen;
	e->origin = b->s + off[1];
	e->database = b->s + off[2];
	e->measurement = b->s + off[3];
	e->rev = b->s + off[4];
	e->created_at = ARC_TIME_UNKNOWN;
	if (r->created.s != NULL)
		(void)arc_time_parse(r->created.s, r->created.len,
		    ARC_TIME_LENIENT, &e->created_at);	/* checked simple */
	e->size = -1;
	if (r->size.s != NULL) {
		/* at most 18 digits, no sign: no overflow */
		for (v = 0, p = r->size.s; p < r->size.s + r->size.len; p++)
			v = v * 10 + (*p - '0');
		e->size = v;
	}
}

/*
 * Given as the raw callback, this asks for what a dump needs: every
 * simple entry goes to the entry callback made by arc_json_raw_entry,
 * without json-c and with e->json NULL; the rest are parsed as usual.
 * It is a marker the reader recognises and is never called itself.
 */
int
arc_json_lite(void *arg, const struct arc_json_raw *r, uintmax_t line)
{
	(void)arg;
	(void)r;
	(void)line;
	return 0;
}

static int
fail(struct js *j, uintmax_t line, const char *what)
{
	warnx("'%s': %s at line %ju", j->name, what, line);
	return -1;
}

/* Parse buf completely with json-c; NULL with a message on error. */
static struct json_object *
parse(struct js *j, struct arc_buf *b, uintmax_t line, int *isnull)
{
	struct json_object *o;
	enum json_tokener_error e;

	*isnull = 0;
	/*
	 * Include the terminating NUL: json-c cannot tell that a bare
	 * literal such as null has ended without seeing what follows it.
	 */
	json_tokener_reset(j->tok);
	o = json_tokener_parse_ex(j->tok, arc_buf_str(b), (int)b->len + 1);
	e = json_tokener_get_error(j->tok);
	if (e == json_tokener_success &&
	    (size_t)json_tokener_get_parse_end(j->tok) < b->len)
		e = json_tokener_error_parse_unexpected;
	if (e != json_tokener_success) {
		json_object_put(o);
		j->err.len = 0;
		arc_buf_printf(&j->err, "invalid JSON (%s)",
		    json_tokener_error_desc(e));
		fail(j, line, arc_buf_str(&j->err));
		return NULL;
	}
	if (o == NULL)
		*isnull = 1;
	return o;
}

static int
entry(struct js *j, struct json_object *o, size_t keys, uintmax_t line)
{
	struct arc_entry e;
	int r;

	if (json_object_is_type(o, json_type_object) &&
	    (size_t)json_object_object_length(o) != keys)
		return fail(j, line, "duplicate key in entry");
	if (arc_entry_from_json(o, &e, &j->err) == -1)
		return fail(j, line, arc_buf_str(&j->err));
	e.json = o;
	r = j->fn(j->arg, &e, line);
	arc_entry_free(&e);
	return r;
}

/*
 * Give a simple entry to the raw callback, or, for arc_json_lite, made
 * into an entry, to the entry callback: 1 when taken, 0 to parse it, -1
 * to stop.
 */
static int
take(struct js *j, const struct arc_json_raw *raw, uintmax_t line)
{
	struct arc_entry e;

	if (!j->lite)
		return j->rawfn(j->arg, raw, line);
	arc_json_raw_entry(raw, &e, &j->lite_buf);
	return j->fn(j->arg, &e, line) == 0 ? 1 : -1;
}

/*
 * Offer the entry in b to the raw callback, if any, when it is simple:
 * 1 when the callback took it, 0 to parse it, -1 to stop.
 */
static int
offer(struct js *j, struct arc_buf *b, uintmax_t line)
{
	struct arc_json_raw raw;

	if (j->offered) {
		j->offered = 0;
		return 0;
	}
	if (j->rawfn == NULL || !arc_json_simple(b->s, b->len, &raw))
		return 0;
	return take(j, &raw, line);
}

/*
 * At the '{' of a top-level object, with a raw callback: when the rest
 * of the line in the block is one simple entry, offer it there.  The
 * scanner would find the same span (a simple entry is balanced, and its
 * numbers and size are far within what it allows), only byte by byte
 * and copying it.  Sets *used to the bytes taken, through the newline;
 * 0 leaves them to step(), which does not offer the entry twice.
 * Returns -1 when the callback stops the pass.
 */
static int
line_entry(struct js *j, const char *s, size_t n, size_t *used)
{
	struct arc_json_raw raw;
	const char *nl;
	size_t len;
	int r;

	*used = 0;
	if ((nl = memchr(s, '\n', n)) == NULL)
		return 0;	/* the line goes on in the next block */
	for (len = (size_t)(nl - s); len > 0 && (s[len - 1] == ' ' ||
	    s[len - 1] == '\t' || s[len - 1] == '\r'); len--)
		;
	if (!arc_json_simple(s, len, &raw))
		return 0;
	if ((r = take(j, &raw, j->line)) == 0)
		j->offered = 1;
	else if (r > 0) {
		*used = (size_t)(nl - s) + 1;
		j->line++;
	}
	return r < 0 ? -1 : 0;
}

static int
end_elem(struct js *j)
{
	struct json_object *o;
	int isnull, r;

	j->nelem++;
	if ((r = offer(j, &j->ent, j->entline)) != 0)
		return r < 0 ? -1 : 0;
	if ((o = parse(j, &j->ent, j->entline, &isnull)) == NULL)
		return isnull ? 0 : -1;	/* Arc skips null entries */
	if (!json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return fail(j, j->entline, "element of 'files' is not an object");
	}
	r = entry(j, o, j->entkeys, j->entline);
	json_object_put(o);
	return r;
}

/* A whole top-level object: an Arc body, or one NDJSON FileEntry. */
static int
end_obj(struct js *j)
{
	struct json_object *o, *v, *files, *el;
	int isnull, r = 0;
	size_t i, n, total;

	/* a simple object is one FileEntry: no body, no "files" */
	if ((r = offer(j, &j->obj, j->objline)) != 0)
		return r < 0 ? -1 : 0;
	if ((o = parse(j, &j->obj, j->objline, &isnull)) == NULL)
		return -1;
	if ((size_t)json_object_object_length(o) != j->objkeys) {
		r = fail(j, j->objline, "duplicate key in object");
		goto out;
	}
	if (json_object_object_get_ex(o, "enabled", &v) &&
	    json_object_is_type(v, json_type_boolean) &&
	    !json_object_get_boolean(v)) {
		j->err.len = 0;
		arc_buf_adds(&j->err, "clustering is not enabled on the source");
		if (json_object_object_get_ex(o, "reason", &v) &&
		    json_object_is_type(v, json_type_string))
			arc_buf_printf(&j->err, " (%s)",
			    json_object_get_string(v));
		r = fail(j, j->objline, arc_buf_str(&j->err));
		goto out;
	}
	if (!json_object_object_get_ex(o, "files", &files)) {
		if (json_object_object_get_ex(o, "path", NULL))
			r = entry(j, o, j->objkeys, j->objline);
		else if (json_object_object_get_ex(o, "error", &v) &&
		    json_object_is_type(v, json_type_string)) {
			j->err.len = 0;
			arc_buf_printf(&j->err, "source reports an error: %s",
			    json_object_get_string(v));
			r = fail(j, j->objline, arc_buf_str(&j->err));
		} else
			r = fail(j, j->objline,
			    "object has neither 'files' nor 'path'");
		goto out;
	}
	/* A "files" member: a manifest body. */
	if (j->meta != NULL) {
		j->meta->bodies++;
		j->meta->next_cursor.len = 0;
		j->meta->have_cursor = 0;
		if (json_object_object_get_ex(o, "next_cursor", &v) &&
		    json_object_is_type(v, json_type_string)) {
			arc_buf_add(&j->meta->next_cursor,
			    json_object_get_string(v),
			    (size_t)json_object_get_string_len(v));
			j->meta->have_cursor = 1;
		}
		arc_buf_str(&j->meta->next_cursor);
	}
	if (files != NULL && !json_object_is_type(files, json_type_array)) {
		r = fail(j, j->objline, "'files' is not an array");
		goto out;
	}
	/* An array the scanner did not recognise (an escaped key name). */
	n = files ? json_object_array_length(files) : 0;
	for (i = 0; i < n && r == 0; i++) {
		el = json_object_array_get_idx(files, i);
		j->nelem++;
		if (el == NULL)
			continue;
		r = entry(j, el, json_object_is_type(el, json_type_object) ?
		    (size_t)json_object_object_length(el) : 0, j->objline);
	}
	if (r == 0 && json_object_object_get_ex(o, "total", &v) &&
	    v != NULL) {
		if (!json_object_is_type(v, json_type_int) ||
		    json_object_get_int64(v) < 0)
			r = fail(j, j->objline, "'total' is not a count");
		else if ((total = (size_t)json_object_get_int64(v)) != j->nelem) {
			j->err.len = 0;
			arc_buf_printf(&j->err, "'total' is %zu but the page "
			    "holds %zu entries", total, j->nelem);
			r = fail(j, j->objline, arc_buf_str(&j->err));
		}
	}
out:
	json_object_put(o);
	return r;
}

static int
is_ws(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Track strings and escapes; 1 when c was part of a string. */
static int
string_char(struct js *j, int c)
{
	if (!j->instr)
		return 0;
	if (j->esc)
		j->esc = 0;
	else if (c == '\\')
		j->esc = 1;
	else if (c == '"')
		j->instr = 0;
	return 1;
}

/*
 * Inside a string, the bytes before the next quote, backslash or newline
 * mean nothing to the scanner, and step() would only append them one by
 * one: append the whole run at once, which is most of every entry.
 * Returns how many of the n > 0 bytes at s were taken; on 0, the next
 * byte goes to step().  The run stops where step() would fail on size.
 */
static size_t
string_run(struct js *j, const char *s, size_t n)
{
	struct arc_buf *b;
	size_t k;

	if (!j->instr || j->esc)
		return 0;
	if (j->mode == M_OBJ)
		b = &j->obj;
	else if (j->mode == M_ELEM)
		b = &j->ent;
	else
		return 0;
	if (b->len >= ARC_ENTRY_MAX)
		return 0;
	if (n > ARC_ENTRY_MAX - b->len)
		n = ARC_ENTRY_MAX - b->len;
	for (k = 0; k < n && s[k] != '"' && s[k] != '\\' && s[k] != '\n'; k++)
		;
	arc_buf_add(b, s, k);
	if (j->mode == M_OBJ && j->inkey)
		arc_buf_add(&j->key, s, k);
	return k;
}

/*
 * json-c silently clamps an integer too large for 64 bits; refuse such a
 * number here, where its digits are still at hand.
 */
static int
number_char(struct js *j, int c, uintmax_t line)
{
	unsigned d = (unsigned)(c - '0');

	if (d <= 9) {
		if (!j->innum) {
			j->innum = 1;
			j->num = 0;
			j->numskip = j->prevc == '.' || j->prevc == 'e' ||
			    j->prevc == 'E' || j->prevc == '+' ||
			    (j->prevc == '-' && j->numskip == 2);
		}
		if (!j->numskip) {
			if (j->num > (UINT64_MAX - d) / 10)
				return fail(j, line, "number too large");
			j->num = j->num * 10 + d;
		}
	} else {
		j->innum = 0;
		/* remember an exponent sign, "1e-5" */
		j->numskip = (c == 'e' || c == 'E') ? 2 : 0;
	}
	j->prevc = c;
	return 0;
}

static int
step(struct js *j, int c)
{
	switch (j->mode) {
	case M_TOP:
		if (is_ws(c))
			return 0;
		if (c != '{')
			return fail(j, j->line, "expected '{'");
		j->mode = M_OBJ;
		j->depth = 1;
		j->obj.len = 0;
		arc_buf_addc(&j->obj, c);
		j->keyexp = 1;
		j->objkeys = 0;
		j->nelem = 0;
		j->filescolon = 0;
		j->objline = j->line;
		return 0;

	case M_OBJ:
		if (j->obj.len >= ARC_ENTRY_MAX)
			return fail(j, j->objline, "object larger than 1 MiB");
		if (string_char(j, c)) {
			arc_buf_addc(&j->obj, c);
			if (j->inkey) {
				if (j->instr)
					arc_buf_addc(&j->key, c);
				else
					j->inkey = 0;
			}
			return 0;
		}
		if (number_char(j, c, j->objline) == -1)
			return -1;
		if (j->filescolon && !is_ws(c)) {
			j->filescolon = 0;
			if (c == '[') {
				/* stream the elements; keep "[]" in place */
				arc_buf_adds(&j->obj, "[]");
				j->mode = M_FILES;
				j->keyexp = 0;
				return 0;
			}
		}
		arc_buf_addc(&j->obj, c);
		switch (c) {
		case '"':
			j->instr = 1;
			if (j->depth == 1 && j->keyexp) {
				j->keyexp = 0;
				j->inkey = 1;
				j->key.len = 0;
				j->objkeys++;
			}
			break;
		case '{':
		case '[':
			j->depth++;
			break;
		case '}':
		case ']':
			if (--j->depth == 0) {
				j->mode = M_TOP;
				return end_obj(j);
			}
			break;
		case ',':
			if (j->depth == 1)
				j->keyexp = 1;
			break;
		case ':':
			if (j->depth == 1 && j->key.len == 5 &&
			    memcmp(j->key.s, "files", 5) == 0)
				j->filescolon = 1;
			break;
		}
		return 0;

	case M_FILES:
		if (is_ws(c))
			return 0;
		if (c == ']') {
			if (j->keyexp)
				return fail(j, j->line, "trailing ',' in 'files'");
			j->mode = M_OBJ;
			return 0;
		}
		if (c == ',') {
			if (j->keyexp || j->nelem == 0)
				return fail(j, j->line, "misplaced ',' in 'files'");
			j->keyexp = 1;
			return 0;
		}
		if (j->nelem > 0 && !j->keyexp)
			return fail(j, j->line, "missing ',' in 'files'");
		j->keyexp = 0;
		j->mode = M_ELEM;
		j->ent.len = 0;
		j->edepth = 0;
		j->entkeys = 0;
		j->entline = j->line;
		/* FALLTHROUGH */

	case M_ELEM:
		if (j->ent.len >= ARC_ENTRY_MAX)
			return fail(j, j->entline, "entry larger than 1 MiB");
		if (string_char(j, c)) {
			arc_buf_addc(&j->ent, c);
			return 0;
		}
		if (number_char(j, c, j->entline) == -1)
			return -1;
		if (j->edepth == 0 && j->ent.len > 0 &&
		    (c == ',' || c == ']' || is_ws(c))) {
			/* the end of a scalar element: re-read c between elements */
			j->mode = M_FILES;
			if (end_elem(j) == -1)
				return -1;
			return step(j, c);
		}
		arc_buf_addc(&j->ent, c);
		switch (c) {
		case '"':
			j->instr = 1;
			if (j->edepth == 1 && j->entkeyexp) {
				j->entkeyexp = 0;
				j->entkeys++;
			}
			break;
		case '{':
		case '[':
			if (++j->edepth == 1)
				j->entkeyexp = c == '{';
			break;
		case '}':
		case ']':
			if (j->edepth == 0)
				return fail(j, j->entline, "unbalanced JSON");
			if (--j->edepth == 0) {
				j->mode = M_FILES;
				return end_elem(j);
			}
			break;
		case ',':
			if (j->edepth == 1)
				j->entkeyexp = 1;
			break;
		}
		return 0;
	}
	return 0;
}

/* The one reader behind the three entry points below. */
static int
scan(FILE *fp, const char *name, arc_raw_fn rawfn, arc_entry_fn fn,
    void *arg, struct arc_json_meta *meta)
{
	struct js j;
	char buf[65536];
	size_t n, i, k;
	int r = 0;

	memset(&j, 0, sizeof(j));
	j.name = name;
	j.fn = fn;
	j.rawfn = rawfn;
	j.lite = rawfn == arc_json_lite;
	j.arg = arg;
	j.line = 1;
	j.mode = M_TOP;
	j.meta = meta;
	if ((j.tok = json_tokener_new()) == NULL)
		err(arc_errstatus, "json_tokener_new");
	json_tokener_set_flags(j.tok, JSON_TOKENER_STRICT);
	while (r == 0 && (n = fread(buf, 1, sizeof(buf), fp)) > 0) {
		for (i = 0; i < n; ) {
			if (j.rawfn != NULL && j.mode == M_TOP &&
			    buf[i] == '{') {
				r = line_entry(&j, buf + i, n - i, &k);
				if (r != 0)
					break;
				if (k > 0) {
					i += k;
					continue;
				}
			}
			if ((k = string_run(&j, buf + i, n - i)) > 0) {
				i += k;
				continue;
			}
			if ((r = step(&j, (unsigned char)buf[i])) != 0)
				break;
			if (buf[i] == '\n')
				j.line++;
			i++;
		}
	}
	if (r == 0 && ferror(fp)) {
		warn("'%s': read error", name);
		r = -1;
	}
	if (r == 0 && j.mode != M_TOP)
		r = fail(&j, j.line, "truncated JSON");
	json_tokener_free(j.tok);
	arc_buf_free(&j.obj);
	arc_buf_free(&j.ent);
	arc_buf_free(&j.key);
	arc_buf_free(&j.err);
	arc_buf_free(&j.lite_buf);
	return r ? -1 : 0;
}

/*
 * Call fn for every FileEntry in fp, in source order, with the line the
 * entry starts on.  Returns 0, or -1 after a message naming the line.
 */
int
arc_json_entries(FILE *fp, const char *name, arc_entry_fn fn, void *arg)
{
	return scan(fp, name, NULL, fn, arg, NULL);
}

/* As arc_json_entries, also telling what the bodies said (next_cursor). */
int
arc_json_entries_meta(FILE *fp, const char *name, arc_entry_fn fn, void *arg,
    struct arc_json_meta *meta)
{
	return scan(fp, name, NULL, fn, arg, meta);
}

/*
 * As arc_json_entries, but first offer every simple entry (see
 * arc_json_simple) to rawfn, which returns 1 when it has done with the
 * entry, 0 to have it parsed and given to fn, -1 to stop.  Both get arg.
 */
int
arc_json_entries_raw(FILE *fp, const char *name, arc_raw_fn rawfn,
    arc_entry_fn fn, void *arg)
{
	return scan(fp, name, rawfn, fn, arg, NULL);
}
