/*
 * test_xml.c - arc_xml_scan (lib/xml.c): its own scanner reads a
 * document exactly as expat does (the same elements, paths and texts,
 * the same result and message), and anything it does not take whole
 * goes to expat after the callback is told to start again.  Each
 * document is read both ways and the two compared; a few must be taken
 * by the scanner (plain listing pages), a few must go to expat.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arc_priv.h"
#include "unit.h"

#define NS	"http://s3.amazonaws.com/doc/2006-03-01/"
static const char *const ns[] = { NS, NULL };

struct log {
	struct arc_buf	 ev;	/* path \x1f text \x1e ... */
	int		 resets;
	int		 fail_at;	/* fn returns -1 at this event, or 0 */
	int		 n;
};

static int
record(void *arg, const char *path, const char *text, size_t n)
{
	struct log *lg = arg;

	if (path == NULL) {
		lg->ev.len = 0;
		lg->n = 0;
		lg->resets++;
		return 0;
	}
	if (strlen(text) != n)
		arc_buf_adds(&lg->ev, "<text length differs>");
	arc_buf_adds(&lg->ev, path);
	arc_buf_addc(&lg->ev, 0x1f);
	arc_buf_add(&lg->ev, text, n);
	arc_buf_addc(&lg->ev, 0x1e);
	return ++lg->n == lg->fail_at ? -1 : 0;
}

/* Read doc both ways: whether the scanner took it (no reset). */
static int
both(const char *doc, size_t len, int fail_at, const char *name)
{
	struct log a = { { 0 }, 0, fail_at, 0 }, b = { { 0 }, 0, fail_at, 0 };
	struct arc_buf ea = { 0 }, eb = { 0 };
	int ra, rb, taken;

	ra = arc_xml_scan(doc, len, ns, record, &a, &ea);
	arc_xml_noscan = 1;
	rb = arc_xml_scan(doc, len, ns, record, &b, &eb);
	arc_xml_noscan = 0;
	CHECK_INT(ra, rb, "%s: the same result as expat's", name);
	CHECK_MEM(arc_buf_str(&a.ev), a.ev.len, arc_buf_str(&b.ev), b.ev.len,
	    "%s: the same elements and texts as expat's", name);
	CHECK_STR(arc_buf_str(&ea), arc_buf_str(&eb),
	    "%s: the same message as expat's", name);
	taken = a.resets == 0;
	arc_buf_free(&a.ev);
	arc_buf_free(&b.ev);
	arc_buf_free(&ea);
	arc_buf_free(&eb);
	return taken;
}

#define PAGE \
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" \
	"<ListBucketResult xmlns=\"" NS "\"><Name>b</Name><Prefix></Prefix>" \
	"<KeyCount>2</KeyCount><IsTruncated>true</IsTruncated>" \
	"<NextContinuationToken>dG9r</NextContinuationToken>" \
	"<EncodingType>url</EncodingType>" \
	"<Contents><Key>db/m/a%20b.parquet</Key>" \
	"<LastModified>2026-01-01T00:00:00.000Z</LastModified>" \
	"<ETag>&quot;0&quot;</ETag><Size>12</Size>" \
	"<StorageClass>STANDARD</StorageClass></Contents>" \
	"<Contents><Key>x &amp; y &lt;&gt; &#x41;&#66;&#xe9;&#x10FFFF;</Key>" \
	"<Size>0</Size><Owner><ID>o</ID></Owner><Empty/><E2 /></Contents>" \
	"<CommonPrefixes><Prefix>db/</Prefix></CommonPrefixes>" \
	"</ListBucketResult>\n"

static const struct {
	const char *doc;
	int	 taken;		/* 1 the scanner, 0 expat, -1 either */
	const char *name;
} docs[] = {
	{ PAGE, 1, "a listing page" },
	{ "<ListBucketResult><Key>k</Key></ListBucketResult>", 1,
	  "no declaration, no namespace" },
	{ "\xef\xbb\xbf<?xml version=\"1.0\" encoding=\"utf-8\"?>"
	  "<E a='1' b=\"2\"><K>t\r\nu\rv</K></E>\r\n", 1,
	  "a byte order mark, attributes, CR LF" },
	{ "<R xmlns=\"" NS "\"><a>x<b/>y</a>  </R>", 1, "mixed content" },
	{ "<R><K>a]]b ] > c</K></R>", 1, "']]' and '>' apart" },
	{ "<R>\t<K\n>v</K\t></R \n>", 1, "spaces in tags" },
	/* expat's: taken by it or refused */
	{ "<R><K>a]]>b</K></R>", 0, "']]>' in text" },
	{ "<R xmlns=\"urn:other\"><K>k</K></R>", 0, "another namespace" },
	{ "<s3:R xmlns:s3=\"" NS "\"><s3:K>k</s3:K></s3:R>", 0, "prefixes" },
	{ "<R><!-- c --><K>k</K></R>", 0, "a comment" },
	{ "<R><K><![CDATA[a<b]]></K></R>", 0, "CDATA" },
	{ "<!DOCTYPE R [<!ENTITY e \"x\">]><R><K>&e;</K></R>", 0,
	  "a DOCTYPE and its entity" },
	{ "<R><K>&e;</K></R>", 0, "an undefined entity" },
	{ "<R><K>&amp</K></R>", 0, "an entity without ';'" },
	{ "<R><K>&#0;</K></R>", 0, "a character reference to NUL" },
	{ "<R><K>&#xD800;</K></R>", 0, "a surrogate" },
	{ "<R><K>&#x110000;</K></R>", 0, "past U+10FFFF" },
	{ "<R><K>&#X41;</K></R>", 0, "'&#X'" },
	{ "<R><K>&#;</K></R>", 0, "no digits" },
	{ "<R><K>caf\xc3\xa9</K></R>", 0, "UTF-8" },
	{ "<R><K>caf\xe9</K></R>", 0, "not UTF-8" },
	{ "<R><K>a\001b</K></R>", 0, "a control byte" },
	{ "<R><K>k</K>", 0, "truncated" },
	{ "<R><K>k</J></R>", 0, "a wrong end tag" },
	{ "<R><K>k</Ke></R>", 0, "an end tag longer" },
	{ "<R><Ke>k</K></R>", 0, "an end tag shorter" },
	{ "<R></R><R></R>", 0, "two roots" },
	{ "<R></R>x", 0, "text after the root" },
	{ "x<R></R>", 0, "text before the root" },
	{ "", 0, "nothing" },
	{ "  \n", 0, "only spaces" },
	{ "<R a=\"1\" a=\"2\"></R>", 0, "an attribute twice" },
	{ "<R a=\"1\"b=\"2\"></R>", 0, "attributes without a space" },
	{ "<R a=1></R>", 0, "an unquoted value" },
	{ "<R a=\"<\"></R>", 0, "'<' in a value" },
	{ "<R><K xmlns=\"" NS "\">k</K></R>", 0, "xmlns below the root" },
	{ "<R xml:lang=\"en\"></R>", 0, "xml:lang" },
	{ "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><R>\xe9</R>", 0,
	  "another encoding" },
	{ "<?xml version=\"1.1\"?><R/>", 0, "XML 1.1" },
	{ "<R><?pi x?></R>", 0, "a processing instruction" },
	{ "<1R></1R>", 0, "a name starting with a digit" },
	{ "<R/ >", 0, "'/ >'" },
	{ "<R><K>k</K></R><!-- after -->", 0, "a comment after the root" },
	{ "<R>\x7f</R>", 0, "DEL" },
};

void
test_xml(void)
{
	static const char page[] = PAGE;
	struct arc_buf big = { 0 }, doc = { 0 }, eb = { 0 };
	struct log lg = { { 0 }, 0, 0, 0 };
	uint32_t seed = 12345;
	size_t i, j, pos;
	int taken, n, ntaken = 0;

	for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		taken = both(docs[i].doc, strlen(docs[i].doc), 0, docs[i].name);
		if (docs[i].taken >= 0)
			CHECK_INT(taken, docs[i].taken, "%s: read by %s",
			    docs[i].name, docs[i].taken ? "the scanner" :
			    "expat");
	}

	/* a callback that says no: the same answer either way */
	both(page, sizeof(page) - 1, 3, "a callback refusing the third");

	/* text up to the limit taken, one byte more refused alike */
	for (n = 0; n < 2; n++) {
		big.len = 0;
		arc_buf_adds(&big, "<R><K>");
		for (j = 0; j < 64 * 1024 + (size_t)n; j++)
			arc_buf_addc(&big, 'a');
		arc_buf_adds(&big, "</K></R>");
		taken = both(big.s, big.len, 0, n ? "64 KiB and a byte of text" :
		    "64 KiB of text");
		CHECK_INT(taken, !n, "64 KiB%s of text: read by %s",
		    n ? " and a byte" : "", n ? "expat" : "the scanner");
	}

	/*
	 * The page with a byte changed, removed or doubled, many times:
	 * whatever the scanner takes, expat reads the same way.
	 */
	for (i = 0; i < 3000; i++) {
		doc.len = 0;
		arc_buf_add(&doc, page, sizeof(page) - 1);
		seed = seed * 1103515245 + 12345;
		pos = (seed >> 8) % doc.len;
		seed = seed * 1103515245 + 12345;
		switch ((seed >> 8) % 3) {
		case 0:
			doc.s[pos] = "<>/&;#x= \"'\r]!?:aZ0\xc3\x01"[(seed >> 12)
			    % 21];
			break;
		case 1:
			memmove(doc.s + pos, doc.s + pos + 1, doc.len - pos - 1);
			doc.len--;
			break;
		default:
			arc_buf_addc(&doc, 0);
			memmove(doc.s + pos + 1, doc.s + pos, doc.len - pos - 1);
			break;
		}
		lg.ev.len = 0;
		lg.resets = 0;
		arc_xml_scan(doc.s, doc.len, ns, record, &lg, &eb);
		if (lg.resets == 0)
			ntaken++;
		/* checked one by one only when they differ: few lines */
		{
			struct log b = { { 0 }, 0, 0, 0 };
			struct arc_buf e2 = { 0 }, e1 = { 0 };
			int r1, r2;

			lg.ev.len = 0;
			lg.resets = 0;
			r1 = arc_xml_scan(doc.s, doc.len, ns, record, &lg, &e1);
			arc_xml_noscan = 1;
			r2 = arc_xml_scan(doc.s, doc.len, ns, record, &b, &e2);
			arc_xml_noscan = 0;
			if (r1 != r2 || lg.ev.len != b.ev.len ||
			    memcmp(arc_buf_str(&lg.ev), arc_buf_str(&b.ev),
			    b.ev.len) != 0 ||
			    strcmp(arc_buf_str(&e1), arc_buf_str(&e2)) != 0)
				CHECK(0, "a changed page read like expat: %s",
				    unit_esc(doc.s, doc.len));
			arc_buf_free(&b.ev);
			arc_buf_free(&e1);
			arc_buf_free(&e2);
		}
	}
	CHECK(ntaken > 100 && ntaken < 3000,
	    "changed pages: some taken by the scanner (%d of 3000), some not",
	    ntaken);
	CHECK(1, "3000 changed pages read as expat reads them");
	arc_buf_free(&big);
	arc_buf_free(&doc);
	arc_buf_free(&eb);
	arc_buf_free(&lg.ev);
}
