/*
 * xml.c - read the XML answers of object stores with expat, a streaming
 * parser: fn is called at the end of every element with the element's
 * path of local names ("ListBucketResult/Contents/Key") and its text.
 * A root element in a namespace other than the expected one is an error:
 * an answer that is not what was asked for must not be read as one.
 */
#include <string.h>

#include <expat.h>

#include "arc_priv.h"

#define NSSEP		'\x01'
#define TEXT_MAX	(64 * 1024)
#define DEPTH_KEPT	16	/* path lengths kept: no search for the '/' */

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
