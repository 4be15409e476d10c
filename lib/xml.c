/*
 * xml.c - read the XML answers of object stores with expat, a streaming
 * parser: fn is called at the end of every element with the element's
 * path of local names ("ListBucketResult/Contents/Key") and its text.
 * A root element in a namespace other than the expected one is an error:
 * an answer that is not what was asked for must not be read as one.
 *
 * arc_xml_scan reads the same way, first with a scanner of its own for
 * the plain XML that listing pages are (ASCII names and text, the five
 * entities and character references, attributes without a prefix): a
 * listing page spends most of its client CPU in expat otherwise.  Any
 * document the scanner does not take whole, to its last byte, in every
 * rule it checks (anything else: comments, CDATA, a DOCTYPE, prefixes,
 * bytes above 0x7f, an error of any kind), is read again from its start
 * by expat, so that what is accepted, refused and said is expat's.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <expat.h>

#include "arc_priv.h"

#define NSSEP		'\x01'
#define TEXT_MAX	(64 * 1024)
#define DEPTH_KEPT	16	/* path lengths kept: no search for the '/' */

int	arc_xml_noscan;	/* tests: expat only */

struct xp {
	XML_Parser	 p;
	const char *const *ns;
	arc_xml_fn	 fn;
	void		*arg;
	struct arc_buf	 path;
	struct arc_buf	 text;
	struct arc_buf	*err;
	int		 depth;
	int		 failed;
	size_t		 plen[DEPTH_KEPT];	/* path.len at each depth */
};

static void
stop(struct xp *x, const char *what, const char *detail)
{
	if (x->failed)
		return;
	x->failed = 1;
	x->err->len = 0;
	arc_buf_printf(x->err, "%s%s%s", what, detail ? " " : "",
	    detail ? detail : "");
	XML_StopParser(x->p, XML_FALSE);
}

static void XMLCALL
on_start(void *arg, const XML_Char *name, const XML_Char **attrs)
{
	struct xp *x = arg;
	const char *local = strchr(name, NSSEP);
	const char *const *ns;
	struct arc_buf q = { 0 };

	(void)attrs;
	if (x->depth == 0 && local != NULL && x->ns != NULL) {
		for (ns = x->ns; *ns != NULL; ns++)
			if ((size_t)(local - name) == strlen(*ns) &&
			    memcmp(name, *ns, (size_t)(local - name)) == 0)
				break;
		if (*ns == NULL) {
			arc_buf_add(&q, name, (size_t)(local - name));
			stop(x, "unexpected XML namespace", arc_buf_str(&q));
			arc_buf_free(&q);
			return;
		}
	}
	local = local ? local + 1 : name;
	if (x->depth < DEPTH_KEPT)
		x->plen[x->depth] = x->path.len;
	if (x->depth++ > 0)
		arc_buf_addc(&x->path, '/');
	arc_buf_adds(&x->path, local);
	x->text.len = 0;
}

static void XMLCALL
on_end(void *arg, const XML_Char *name)
{
	struct xp *x = arg;
	char *slash;

	(void)name;
	if (x->failed)
		return;
	if (x->fn(x->arg, arc_buf_str(&x->path), arc_buf_str(&x->text),
	    x->text.len) == -1) {
		stop(x, "unexpected answer", NULL);
		return;
	}
	x->text.len = 0;
	x->depth--;
	if (x->depth < DEPTH_KEPT)
		x->path.len = x->plen[x->depth];
	else {
		slash = strrchr(x->path.s, '/');
		x->path.len = slash ? (size_t)(slash - x->path.s) : 0;
	}
	x->path.s[x->path.len] = '\0';
}

static void XMLCALL
on_text(void *arg, const XML_Char *s, int n)
{
	struct xp *x = arg;

	if (x->text.len + (size_t)n > TEXT_MAX) {
		stop(x, "XML text too long", NULL);
		return;
	}
	arc_buf_add(&x->text, s, (size_t)n);
}

/*
 * Parse the XML document buf; 0, or -1 with the reason in err (an
 * expat error, a truncated document, a root namespace not in the
 * NULL-terminated list ns; a root without a namespace is accepted).
 */
int
arc_xml_parse(const char *buf, size_t len, const char *const *ns,
    arc_xml_fn fn,
    void *arg, struct arc_buf *err)
{
	struct xp x;
	int r = 0;

	memset(&x, 0, sizeof(x));
	x.ns = ns;
	x.fn = fn;
	x.arg = arg;
	x.err = err;
	if ((x.p = XML_ParserCreateNS(NULL, NSSEP)) == NULL) {
		err->len = 0;
		arc_buf_adds(err, "cannot create an XML parser");
		return -1;
	}
	XML_SetUserData(x.p, &x);
	XML_SetElementHandler(x.p, on_start, on_end);
	XML_SetCharacterDataHandler(x.p, on_text);
	if (XML_Parse(x.p, buf, (int)len, XML_TRUE) == XML_STATUS_ERROR) {
		if (!x.failed) {
			err->len = 0;
			arc_buf_printf(err, "invalid XML at line %lu: %s",
			    (unsigned long)XML_GetCurrentLineNumber(x.p),
			    XML_ErrorString(XML_GetErrorCode(x.p)));
		}
		r = -1;
	} else if (x.failed)
		r = -1;
	XML_ParserFree(x.p);
	arc_buf_free(&x.path);
	arc_buf_free(&x.text);
	return r;
}

/* ---- the scanner ------------------------------------------------------ */

/*
 * Byte classes.  Text: T_PLAIN bytes are copied as they are; anything
 * else is looked at.  Names: N_START may begin a name, N_NAME continue
 * one (ASCII only: anything else goes to expat).  Not plain: '<', '&',
 * '>' (for "]]>"), CR (read as LF), and every other control or
 * non-ASCII byte.
 */
#define T_PLAIN		0x01
#define N_START		0x02
#define N_NAME		0x04
#define S_SPACE		0x08

static const unsigned char cls[256] = {
	['\t'] = T_PLAIN | S_SPACE, ['\n'] = T_PLAIN | S_SPACE,
	['\r'] = S_SPACE, [' '] = T_PLAIN | S_SPACE,
	['!' ... '%'] = T_PLAIN,			/* not '&' */
	['\'' ... ','] = T_PLAIN,
	['-'] = T_PLAIN | N_NAME, ['.'] = T_PLAIN | N_NAME, ['/'] = T_PLAIN,
	['0' ... '9'] = T_PLAIN | N_NAME,
	[':' ... ';'] = T_PLAIN, ['='] = T_PLAIN,	/* not '<', '>' */
	['?' ... '@'] = T_PLAIN,
	['A' ... 'Z'] = T_PLAIN | N_START | N_NAME,
	['[' ... '^'] = T_PLAIN, ['_'] = T_PLAIN | N_START | N_NAME,
	['`'] = T_PLAIN,
	['a' ... 'z'] = T_PLAIN | N_START | N_NAME,
	['{' ... '~'] = T_PLAIN,
};

/* The XML declarations taken as they are; any other goes to expat. */
static const char *const decls[] = {
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
	"<?xml version=\"1.0\" encoding=\"utf-8\"?>",
	"<?xml version=\"1.0\"?>",
	"<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>",
	NULL
};

struct scan {
	const char	*start, *p, *end;
	const char *const *ns;
	arc_xml_fn	 fn;
	void		*arg;
	struct arc_buf	 path;
	struct arc_buf	 text;
	struct open {
		const char *name;
		size_t	 len;
		size_t	 plen;	/* path.len before it */
	}		*stack;
	size_t		 depth, cap;
};

#define SCAN_NO	1	/* not taken: expat reads the document */

static void
skip_space(struct scan *sc)
{
	while (sc->p < sc->end && (cls[(unsigned char)*sc->p] & S_SPACE))
		sc->p++;
}

/* A name at p: its length, 0 if there is none the scanner takes. */
static size_t
scan_name(struct scan *sc)
{
	const char *q = sc->p;

	if (q >= sc->end || !(cls[(unsigned char)*q] & N_START))
		return 0;
	for (q++; q < sc->end && (cls[(unsigned char)*q] & N_NAME); q++)
		;
	/* a name must end at a space, '/', '>' or '=' */
	if (q < sc->end && !(cls[(unsigned char)*q] & S_SPACE) && *q != '/' &&
	    *q != '>' && *q != '=')
		return 0;
	return (size_t)(q - sc->p);
}

/* Append the UTF-8 of code point c, an XML Char; -1 if it is not one. */
static int
add_char(struct arc_buf *b, uint32_t c)
{
	char u[4];

	if (!(c == 0x9 || c == 0xa || c == 0xd || (c >= 0x20 && c <= 0xd7ff) ||
	    (c >= 0xe000 && c <= 0xfffd) || (c >= 0x10000 && c <= 0x10ffff)))
		return -1;
	if (c < 0x80) {
		arc_buf_addc(b, (int)c);
	} else if (c < 0x800) {
		u[0] = (char)(0xc0 | c >> 6);
		u[1] = (char)(0x80 | (c & 0x3f));
		arc_buf_add(b, u, 2);
	} else if (c < 0x10000) {
		u[0] = (char)(0xe0 | c >> 12);
		u[1] = (char)(0x80 | (c >> 6 & 0x3f));
		u[2] = (char)(0x80 | (c & 0x3f));
		arc_buf_add(b, u, 3);
	} else {
		u[0] = (char)(0xf0 | c >> 18);
		u[1] = (char)(0x80 | (c >> 12 & 0x3f));
		u[2] = (char)(0x80 | (c >> 6 & 0x3f));
		u[3] = (char)(0x80 | (c & 0x3f));
		arc_buf_add(b, u, 4);
	}
	return 0;
}

/* An entity or character reference at p ('&'), decoded onto b. */
static int
scan_ref(struct scan *sc, struct arc_buf *b)
{
	static const struct {
		const char *name;
		size_t	 len;
		char	 c;
	} named[] = {
		{ "amp;", 4, '&' }, { "lt;", 3, '<' }, { "gt;", 3, '>' },
		{ "quot;", 5, '"' }, { "apos;", 5, '\'' },
	};
	const char *q = sc->p + 1;
	uint32_t c = 0;
	size_t i, n, left = (size_t)(sc->end - q);
	int hex, d, nd = 0;

	if (left > 0 && *q == '#') {
		hex = left > 1 && q[1] == 'x';
		for (q += 1 + hex; q < sc->end && *q != ';'; q++) {
			if (*q >= '0' && *q <= '9')
				d = *q - '0';
			else if (hex && *q >= 'a' && *q <= 'f')
				d = *q - 'a' + 10;
			else if (hex && *q >= 'A' && *q <= 'F')
				d = *q - 'A' + 10;
			else
				return SCAN_NO;
			c = c * (hex ? 16 : 10) + (uint32_t)d;
			if (c > 0x10ffff || ++nd > 16)
				return SCAN_NO;
		}
		if (q >= sc->end || nd == 0 || add_char(b, c) == -1)
			return SCAN_NO;
		sc->p = q + 1;
		return 0;
	}
	/* the five named ones, by their first letter */
	i = left == 0 ? 5 : *q == 'a' ? (left > 1 && q[1] == 'm' ? 0 : 4) :
	    *q == 'l' ? 1 : *q == 'g' ? 2 : *q == 'q' ? 3 : 5;
	if (i < 5) {
		n = named[i].len;
		if (left >= n && memcmp(q, named[i].name, n) == 0) {
			arc_buf_addc(b, named[i].c);
			sc->p = q + n;
			return 0;
		}
	}
	return SCAN_NO;
}

/*
 * Character data up to the next '<', decoded onto sc->text (line ends
 * as XML reads them).  Outside the root element only white space.
 */
static int
scan_text(struct scan *sc, int outside)
{
	const char *q;
	unsigned char c;

	if (outside) {
		skip_space(sc);
		return sc->p < sc->end && *sc->p != '<' ? SCAN_NO : 0;
	}
	while (sc->p < sc->end) {
		for (q = sc->p; q < sc->end &&
		    (cls[(unsigned char)*q] & T_PLAIN); q++)
			;
		if (q > sc->p) {
			arc_buf_add(&sc->text, sc->p, (size_t)(q - sc->p));
			sc->p = q;
		}
		if (q >= sc->end)
			break;
		c = (unsigned char)*q;
		if (c == '<')
			break;
		if (c == '&') {
			if (scan_ref(sc, &sc->text) != 0)
				return SCAN_NO;
		} else if (c == '\r') {
			/* CR LF and a lone CR are both LF */
			arc_buf_addc(&sc->text, '\n');
			sc->p += q + 1 < sc->end && q[1] == '\n' ? 2 : 1;
		} else if (c == '>') {
			/* "]]>" in text is not XML */
			if (q - sc->start >= 2 && q[-1] == ']' && q[-2] == ']')
				return SCAN_NO;
			arc_buf_addc(&sc->text, '>');
			sc->p++;
		} else
			return SCAN_NO;	/* control bytes, non-ASCII */
		if (sc->text.len > TEXT_MAX)
			return SCAN_NO;
	}
	return sc->text.len > TEXT_MAX ? SCAN_NO : 0;
}

/*
 * The attributes of a start tag after its name, up to '>' or "/>";
 * *empty for the latter.  Values are only checked, except a root's
 * xmlns, which must be one of ns.
 */
static int
scan_attrs(struct scan *sc, int root, int *empty)
{
	struct { const char *s; size_t n; } seen[8];
	const char *v, *ve;
	size_t n, i, nseen = 0;
	const char *const *ns;
	char q;
	int sp;

	for (;;) {
		sp = sc->p < sc->end && (cls[(unsigned char)*sc->p] & S_SPACE);
		skip_space(sc);
		if (sc->p >= sc->end)
			return SCAN_NO;
		if (*sc->p == '>') {
			sc->p++;
			*empty = 0;
			break;
		}
		if (*sc->p == '/') {
			if (sc->p + 1 >= sc->end || sc->p[1] != '>')
				return SCAN_NO;
			sc->p += 2;
			*empty = 1;
			break;
		}
		if (!sp || (n = scan_name(sc)) == 0 || nseen == 8)
			return SCAN_NO;
		for (i = 0; i < nseen; i++)
			if (seen[i].n == n && memcmp(seen[i].s, sc->p, n) == 0)
				return SCAN_NO;
		seen[nseen].s = sc->p;
		seen[nseen++].n = n;
		sc->p += n;
		skip_space(sc);
		if (sc->p >= sc->end || *sc->p != '=')
			return SCAN_NO;
		sc->p++;
		skip_space(sc);
		if (sc->p >= sc->end || (*sc->p != '"' && *sc->p != '\''))
			return SCAN_NO;
		q = *sc->p++;
		for (v = sc->p; sc->p < sc->end && *sc->p != q; sc->p++)
			if (*sc->p == '<' || *sc->p == '&' ||
			    !(cls[(unsigned char)*sc->p] & T_PLAIN) ||
			    *sc->p == '\t' || *sc->p == '\n')
				return SCAN_NO;
		if (sc->p >= sc->end)
			return SCAN_NO;
		ve = sc->p++;
		if (n == 5 && memcmp(seen[nseen - 1].s, "xmlns", 5) == 0) {
			/* namespaces: only the root's, and one expected */
			if (!root || sc->ns == NULL)
				return SCAN_NO;
			for (ns = sc->ns; *ns != NULL; ns++)
				if (strlen(*ns) == (size_t)(ve - v) &&
				    memcmp(*ns, v, (size_t)(ve - v)) == 0)
					break;
			if (*ns == NULL)
				return SCAN_NO;
		} else if (n >= 3 &&
		    strncasecmp(seen[nseen - 1].s, "xml", 3) == 0)
			return SCAN_NO;	/* reserved names: expat's call */
	}
	return 0;
}

/* The end of the element open at the top of the stack, at p ("</"). */
static int
scan_end(struct scan *sc)
{
	struct open *o = &sc->stack[sc->depth - 1];
	size_t i;

	sc->p += 2;
	if ((size_t)(sc->end - sc->p) < o->len)
		return SCAN_NO;
	for (i = 0; i < o->len; i++)	/* short names: no memcmp call */
		if (sc->p[i] != o->name[i])
			return SCAN_NO;
	sc->p += o->len;
	skip_space(sc);
	if (sc->p >= sc->end || *sc->p != '>')
		return SCAN_NO;
	sc->p++;
	return 0;
}

/* An element ended: fn is told, and the path goes up a level. */
static int
ended(struct scan *sc)
{
	struct open *o = &sc->stack[--sc->depth];

	if (sc->fn(sc->arg, arc_buf_str(&sc->path), arc_buf_str(&sc->text),
	    sc->text.len) == -1)
		return SCAN_NO;	/* expat's run says so as it always did */
	sc->text.len = 0;
	sc->path.len = o->plen;
	sc->path.s[sc->path.len] = '\0';
	return 0;
}

static int
scan_doc(struct scan *sc)
{
	const char *const *d;
	size_t n;
	int empty, root;

	if ((size_t)(sc->end - sc->p) >= 3 &&
	    memcmp(sc->p, "\xef\xbb\xbf", 3) == 0)
		sc->p += 3;
	if (sc->end - sc->p >= 2 && memcmp(sc->p, "<?", 2) == 0) {
		for (d = decls; *d != NULL; d++)
			if ((size_t)(sc->end - sc->p) >= strlen(*d) &&
			    memcmp(sc->p, *d, strlen(*d)) == 0)
				break;
		if (*d == NULL)
			return SCAN_NO;
		sc->p += strlen(*d);
	}
	if (scan_text(sc, 1) != 0 || sc->p >= sc->end)
		return SCAN_NO;
	for (root = 1;;) {
		/* at '<' */
		if (sc->p + 1 >= sc->end)
			return SCAN_NO;
		if (sc->p[1] == '/') {
			if (sc->depth == 0 || scan_end(sc) != 0 ||
			    ended(sc) != 0)
				return SCAN_NO;
		} else {
			sc->p++;
			if ((n = scan_name(sc)) == 0 || (!root &&
			    sc->depth == 0))
				return SCAN_NO;
			if (sc->depth == sc->cap) {
				sc->cap = sc->cap ? sc->cap * 2 : 16;
				sc->stack = arc_ereallocarray(sc->stack,
				    sc->cap, sizeof(*sc->stack));
			}
			sc->stack[sc->depth].name = sc->p;
			sc->stack[sc->depth].len = n;
			sc->stack[sc->depth].plen = sc->path.len;
			if (sc->depth > 0)
				arc_buf_addc(&sc->path, '/');
			arc_buf_add(&sc->path, sc->p, n);
			sc->depth++;
			sc->p += n;
			if (scan_attrs(sc, root, &empty) != 0)
				return SCAN_NO;
			root = 0;
			sc->text.len = 0;
			if (empty && ended(sc) != 0)
				return SCAN_NO;
		}
		if (scan_text(sc, sc->depth == 0) != 0)
			return SCAN_NO;
		if (sc->p >= sc->end)
			return sc->depth == 0 && !root ? 0 : SCAN_NO;
	}
}

/*
 * As arc_xml_parse, for a callback fn that can start again: when the
 * scanner does not take the document whole, fn(arg, NULL, NULL, 0) asks
 * it to forget what it was told, and expat reads the document.
 */
int
arc_xml_scan(const char *buf, size_t len, const char *const *ns,
    arc_xml_fn fn, void *arg, struct arc_buf *err)
{
	struct scan sc;
	int r;

	memset(&sc, 0, sizeof(sc));
	sc.start = sc.p = buf;
	sc.end = buf + len;
	sc.ns = ns;
	sc.fn = fn;
	sc.arg = arg;
	r = arc_xml_noscan ? SCAN_NO : scan_doc(&sc);
	arc_buf_free(&sc.path);
	arc_buf_free(&sc.text);
	free(sc.stack);
	if (r == 0)
		return 0;
	fn(arg, NULL, NULL, 0);
	return arc_xml_parse(buf, len, ns, fn, arg, err);
}
