/*
 * url.c - a location as messages, records, plans and audit events may
 * show it: no user name or password, no signature.
 *
 * No backend takes credentials in its URL (etcd's and the Arc API's
 * come from the environment, S3's and Azure's from their credential
 * chains), so a URL that carries some is refused where it is opened
 * (arc_store_open, arc_manifest_open, arc-run config), and every text
 * that may still hold one is written through arc_url_redact: the
 * userinfo of each scheme://userinfo@host becomes ***, and the value of
 * a query parameter that signs or authorizes (sig, signature, token,
 * X-Amz-Signature, a password or secret...) becomes ***.
 *
 * The authority runs from "://" to the first '/', '?', '#', blank, '"'
 * or the end, its userinfo up to the last '@' in it (a password may hold
 * a stray '@').  Reads text, writes a buffer; no state.
 *
 * arc_url_local_path tells a local location (a path or a file:// URL)
 * from every other: the one place that says which operands name a local
 * file or directory.
 */
#include <ctype.h>
#include <err.h>
#include <string.h>
#include <strings.h>

#include "arc.h"

/* a parameter name that carries a credential */
static int
secret_name(const char *p, size_t n)
{
	static const char *const part[] = {
		"sig", "token", "secret", "passw", "pwd", "credential",
		"apikey", "api_key", "authorization",
	};
	char low[64];
	size_t i;

	if (n == 0 || n >= sizeof(low))
		return 0;
	for (i = 0; i < n; i++)
		low[i] = (char)tolower((unsigned char)p[i]);
	low[n] = '\0';
	for (i = 0; i < sizeof(part) / sizeof(part[0]); i++)
		if (strstr(low, part[i]) != NULL)
			return 1;
	return 0;
}

/* where a URL's part ends: one of stop, a blank or the end */
static size_t
span(const char *p, const char *stop)
{
	size_t n;

	for (n = 0; p[n] != '\0' && strchr(stop, p[n]) == NULL &&
	    !isspace((unsigned char)p[n]); n++)
		continue;
	return n;
}

/* Copy a query (from its '?') into b, secret values as ***; its length. */
static size_t
query(struct arc_buf *b, const char *q)
{
	size_t n, i, name, end;

	n = span(q, "#\"'");
	arc_buf_addc(b, '?');
	for (i = 1; i < n; i = end + (end < n)) {
		for (end = i; end < n && q[end] != '&' && q[end] != ';'; end++)
			continue;
		for (name = i; name < end && q[name] != '='; name++)
			continue;
		if (name < end && secret_name(q + i, name - i)) {
			arc_buf_add(b, q + i, name + 1 - i);
			arc_buf_adds(b, "***");
		} else
			arc_buf_add(b, q + i, end - i);
		if (end < n)
			arc_buf_addc(b, q[end]);
	}
	return n;
}

const char *
arc_url_redact(struct arc_buf *b, const char *s)
{
	const char *p, *at;
	size_t n, i;

	b->len = 0;
	while ((p = strstr(s, "://")) != NULL) {
		p += 3;
		arc_buf_add(b, s, (size_t)(p - s));
		n = span(p, "/?#\"");
		for (at = NULL, i = 0; i < n; i++)
			if (p[i] == '@')
				at = p + i;
		if (at != NULL) {
			arc_buf_adds(b, "***");
			p = at;
		}
		/* the host and path, then the query if there is one */
		n = span(p, "?#\"'");
		arc_buf_add(b, p, n);
		p += n;
		if (*p == '?')
			p += query(b, p);
		s = p;
	}
	arc_buf_adds(b, s);
	return arc_buf_str(b);
}

int
arc_url_has_secret(const char *url)
{
	struct arc_buf b = { 0 };
	int r;

	r = strcmp(arc_url_redact(&b, url), url) != 0;
	arc_buf_free(&b);
	return r;
}

/*
 * -1 after a message when url, the what (store, manifest, lock...),
 * carries a user name, password or signature: none is a credential form
 * of any backend, and the URL would be shown in ps(1), messages, plans
 * and records.  The message shows the URL without it.
 */
int
arc_refuse_secret(const char *url, const char *what)
{
	struct arc_buf b = { 0 };

	if (!arc_url_has_secret(url))
		return 0;
	arc_url_redact(&b, url);
	warnx("'%s': %s URL with a %s: refused (credentials come from the "
	    "environment)", b.s, what, strstr(b.s, "***@") != NULL ?
	    "user name or password" : "signature or token in its query");
	arc_buf_free(&b);
	return -1;
}

/*
 * The local file or directory a store or manifest location names: loc
 * itself for a path, what follows "file://" for a file URL (as given:
 * the backends refuse one that is not file:///absolute/path).  NULL for
 * a location of any other scheme and for "-" (standard input), which
 * name no local file.
 */
const char *
arc_url_local_path(const char *loc)
{
	if (strncmp(loc, "file://", 7) == 0)
		return loc + 7;
	if (strstr(loc, "://") != NULL || strcmp(loc, "-") == 0)
		return NULL;
	return loc;
}
