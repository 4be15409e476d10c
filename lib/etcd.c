/*
 * etcd.c - etcd's v3 JSON gateway, as a client (for the lock and the
 * loader) and as a manifest source: etcd://HOST:PORT[,HOST:PORT...]/PREFIX,
 * etcds:// for TLS, and etcd:///PREFIX or etcds:///PREFIX with the
 * endpoints in ETCDCTL_ENDPOINTS.  TLS files and the user come from the
 * environment as etcdctl takes them (ETCDCTL_CACERT, ETCDCTL_CERT,
 * ETCDCTL_KEY, ETCDCTL_USER, ETCDCTL_PASSWORD), never from the URL; with
 * a user, etcd's Authenticate gives a token that every call carries.
 *
 * The manifest is the keys under PREFIX (the URL's path, leading slash
 * included): key PREFIX + path, value a FileEntry JSON object.  A dump
 * reads the whole prefix at one pinned revision, so unlike Arc's pages
 * it is a consistent snapshot, and puts each key's mod_revision in the
 * rev field; deletes compare that mod_revision in a transaction, so an
 * entry changed or registered again since the dump is never deleted.
 *
 * The gateway's JSON: keys and values are base64, int64s are strings,
 * zero and false fields are omitted.  A request that gets no answer from
 * one endpoint (connection refused, timeout) is tried on the next, so a
 * dead member or a leader election does not fail a run.
 */
#include <err.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "arc_priv.h"

#define PAGE_KEYS	10000	/* default; ARC_ETCD_PAGE_KEYS */
#define WINDOW_PAGES	8	/* a range of more pages than this is narrowed */
#define TXN_OPS		128	/* etcd's default --max-txn-ops */
#define LOOKUP_JOBS	16

struct arc_etcd {
	char		**eps;		/* http(s)://host:port */
	size_t		 nep;
	size_t		 cur;		/* the endpoint that last answered */
	struct arc_http	*http;
	char		*spec;
	char		*cacert;	/* ETCDCTL_CACERT, CERT, KEY, or NULL */
	char		*cert;
	char		*key;
	char		*user;		/* ETCDCTL_USER's name, or NULL */
	char		*password;
	char		*token;		/* from Authenticate, or NULL */
};

/* A copy of environment variable name, or NULL when unset or empty. */
static char *
env_copy(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && *v != '\0' ? arc_estrdup(v) : NULL;
}

/*
 * Add the endpoints of the n bytes at list (comma-separated), each
 * host:port or, from ETCDCTL_ENDPOINTS, http:// or https://host:port;
 * a bare one takes the URL's scheme.  -1 after a message, which never
 * repeats what could be a credential.
 */
static int
add_endpoints(struct arc_etcd *e, const char *list, size_t n, int tls,
    const char *from)
{
	const char *p, *end, *lim = list + n, *scheme;
	size_t len;

	for (p = list; p <= lim; p = end + 1) {
		if ((end = memchr(p, ',', (size_t)(lim - p))) == NULL)
			end = lim;
		scheme = tls ? "https://" : "http://";
		len = (size_t)(end - p);
		if (len >= 8 && strncasecmp(p, "https://", 8) == 0) {
			scheme = "https://";
			p += 8;
			len -= 8;
		} else if (len >= 7 && strncasecmp(p, "http://", 7) == 0) {
			if (tls) {
				warnx("%s: an http:// endpoint with etcds://: "
				    "TLS is never dropped", from);
				return -1;
			}
			p += 7;
			len -= 7;
		}
		while (len > 0 && p[len - 1] == '/')
			len--;
		if (len == 0) {
			warnx("%s: empty endpoint", from);
			return -1;
		}
		if (memchr(p, '@', len) != NULL || memchr(p, '/', len) != NULL) {
			warnx("%s: an endpoint is host:port, with no user, "
			    "password or path (credentials go in ETCDCTL_USER "
			    "and ETCDCTL_PASSWORD)", from);
			return -1;
		}
		e->eps = arc_ereallocarray(e->eps, e->nep + 1, sizeof(*e->eps));
		if (asprintf(&e->eps[e->nep++], "%s%.*s", scheme, (int)len,
		    p) == -1)
			err(arc_errstatus, "asprintf");
	}
	return 0;
}

/* TLS files and the user, the etcdctl way; -1 after a message. */
static int
credentials(struct arc_etcd *e)
{
	char *u, *colon;

	e->cacert = env_copy("ETCDCTL_CACERT");
	e->cert = env_copy("ETCDCTL_CERT");
	e->key = env_copy("ETCDCTL_KEY");
	if ((e->cert == NULL) != (e->key == NULL)) {
		warnx("a client certificate needs both ETCDCTL_CERT and "
		    "ETCDCTL_KEY");
		return -1;
	}
	if ((u = env_copy("ETCDCTL_USER")) == NULL)
		return 0;
	if ((colon = strchr(u, ':')) != NULL) {
		*colon = '\0';
		e->password = arc_estrdup(colon + 1);
	} else
		e->password = env_copy("ETCDCTL_PASSWORD");
	e->user = arc_estrdup(u);
	arc_zfree(u);
	if (*e->user == '\0' || e->password == NULL) {
		warnx("ETCDCTL_USER needs a user name and a password "
		    "('user:password', or 'user' and ETCDCTL_PASSWORD)");
		return -1;
	}
	return 0;
}

/*
 * Parse etcd://h:p[,h:p...]/prefix, etcds:// for TLS, or etcd:///prefix
 * and etcds:///prefix with the endpoints in ETCDCTL_ENDPOINTS; the
 * prefix (key bytes) into *prefix.  A user or password in the URL is
 * refused without repeating it: it would show in ps(1) and in messages.
 */
struct arc_etcd *
arc_etcd_open(const char *spec, struct arc_buf *prefix)
{
	struct arc_etcd *e;
	const char *rest, *slash, *eps;
	size_t alen;
	int tls;

	if (strncmp(spec, "etcd://", 7) == 0) {
		rest = spec + 7;
		tls = 0;
	} else if (strncmp(spec, "etcds://", 8) == 0) {
		rest = spec + 8;
		tls = 1;
	} else {
		warnx("'%s': not an etcd:// or etcds:// URL",
		    arc_url_redact(prefix, spec));
		return NULL;
	}
	alen = strcspn(rest, "/");
	if (memchr(rest, '@', alen) != NULL) {
		warnx("%s URL with a user name or password: refused (set "
		    "ETCDCTL_USER and ETCDCTL_PASSWORD instead)",
		    tls ? "etcds://" : "etcd://");
		return NULL;
	}
	if ((slash = strchr(rest, '/')) == NULL || slash[1] == '\0') {
		warnx("'%s': give endpoints and a key prefix, as in "
		    "etcd://127.0.0.1:2379/arc/files/", spec);
		return NULL;
	}
	e = arc_ecalloc(1, sizeof(*e));
	if (slash == rest) {
		if ((eps = getenv("ETCDCTL_ENDPOINTS")) == NULL || *eps == '\0') {
			warnx("'%s': no endpoints in the URL, and "
			    "ETCDCTL_ENDPOINTS is not set", spec);
			arc_etcd_close(e);
			return NULL;
		}
		if (add_endpoints(e, eps, strlen(eps), tls,
		    "ETCDCTL_ENDPOINTS") == -1) {
			arc_etcd_close(e);
			return NULL;
		}
	} else if (add_endpoints(e, rest, (size_t)(slash - rest), tls,
	    spec) == -1 || credentials(e) == -1) {
		arc_etcd_close(e);
		return NULL;
	}
	if (slash == rest && credentials(e) == -1) {
		arc_etcd_close(e);
		return NULL;
	}
	prefix->len = 0;
	arc_buf_adds(prefix, slash);
	e->http = arc_http_new();
	e->spec = arc_estrdup(spec);
	return e;
}

void
arc_etcd_close(struct arc_etcd *e)
{
	size_t i;

	if (e == NULL)
		return;
	for (i = 0; i < e->nep; i++)
		free(e->eps[i]);
	free(e->eps);
	arc_http_free(e->http);
	free(e->spec);
	free(e->cacert);
	free(e->cert);
	free(e->key);
	free(e->user);
	arc_zfree(e->password);
	arc_zfree(e->token);
	free(e);
}

static void
post(struct arc_etcd *e, size_t ep, struct arc_http_req *r, const char *api,
    const char *body)
{
	struct arc_buf u = { 0 };

	arc_buf_printf(&u, "%s%s", e->eps[ep], api);
	arc_http_req_init(r, "POST", u.s);
	r->klass = strcmp(api, "/v3/kv/range") == 0 ? ARC_REQ_RANGE :
	    strcmp(api, "/v3/kv/txn") == 0 ? ARC_REQ_TXN : ARC_REQ_OTHER;
	arc_http_add_header(r, "Content-Type: application/json");
	/* etcd's gateway takes the bare token, not "Bearer TOKEN" */
	if (e->token != NULL && strcmp(api, "/v3/auth/authenticate") != 0)
		arc_http_add_header(r, "Authorization: %s", e->token);
	r->cainfo = e->cacert;
	r->cavar = "ETCDCTL_CACERT";
	r->sslcert = e->cert;
	r->sslkey = e->key;
	r->body = body;
	r->bodylen = strlen(body);
}

/* The gRPC code and message of an error answer (0 and "" if none). */
static int
grpc_error(const struct arc_http_req *r, struct arc_buf *msg)
{
	struct json_object *o, *v;
	int code = 0;

	if (msg != NULL)
		msg->len = 0;
	if (r->status == 0 || r->status == 200 ||
	    (o = json_tokener_parse(r->resp.s ? r->resp.s : "")) == NULL)
		return 0;
	if (json_object_object_get_ex(o, "code", &v))
		code = json_object_get_int(v);
	if (msg != NULL && (json_object_object_get_ex(o, "message", &v) ||
	    json_object_object_get_ex(o, "error", &v)) &&
	    json_object_is_type(v, json_type_string))
		arc_buf_adds(msg, json_object_get_string(v));
	json_object_put(o);
	return code;
}

/* The token is stale: etcd wants a new one (Unauthenticated, 16). */
static int
token_rejected(const struct arc_etcd *e, const struct arc_http_req *r)
{
	struct arc_buf m = { 0 };
	int code, bad;

	if (e->user == NULL || r->status == 0 || r->status == 200)
		return 0;
	code = grpc_error(r, &m);
	bad = r->status == 401 || code == 16 ||
	    (m.s != NULL && strstr(m.s, "invalid auth token") != NULL);
	arc_buf_free(&m);
	return bad;
}

/*
 * Whether an error answer is a refusal of the credentials (no user,
 * wrong password, a role without the key): configuration, not luck.
 */
static int
refused(const struct arc_http_req *r)
{
	struct arc_buf m = { 0 };
	int code, no;

	if (r->status == 0)
		return arc_http_misconfigured(r);
	code = grpc_error(r, &m);
	no = r->status == 401 || r->status == 403 || code == 7 ||
	    code == 16 || (m.s != NULL && (strstr(m.s, "user name is empty") ||
	    strstr(m.s, "authentication failed") ||
	    strstr(m.s, "permission denied")));
	arc_buf_free(&m);
	return no;
}

/* An error answer's message, or the transport error. */
static void
describe(const struct arc_etcd *e, const struct arc_http_req *r,
    const char *api, struct arc_buf *out)
{
	struct arc_buf m = { 0 };

	out->len = 0;
	arc_buf_printf(out, "etcd %s: ", api);
	if (r->status == 0) {
		arc_buf_printf(out, "%s", r->err);
		return;
	}
	arc_buf_printf(out, "HTTP %ld", r->status);
	grpc_error(r, &m);
	if (m.len > 0)
		arc_buf_printf(out, ": %s", m.s);
	arc_buf_free(&m);
	if (refused(r)) {
		if (e->user != NULL)
			arc_buf_printf(out, " (as etcd user '%s')", e->user);
		else
			arc_buf_adds(out, " (no etcd user: set ETCDCTL_USER)");
	}
}

/*
 * POST body to api, endpoint after endpoint until one answers (a TLS
 * refusal stops it: the others are set up alike).  r is initialised;
 * the caller frees it.  Returns r->status (0: no endpoint answered).
 */
static long
send_call(struct arc_etcd *e, const char *api, const char *body,
    struct arc_http_req *r, struct arc_buf *eb)
{
	size_t tries;

	for (tries = 0; tries < e->nep; tries++) {
		if (tries > 0)
			arc_http_req_free(r);
		post(e, e->cur, r, api, body);
		arc_http_perform(e->http, r);
		if (r->status != 0)
			break;
		describe(e, r, api, eb);
		if (arc_http_misconfigured(r))
			break;
		e->cur = (e->cur + 1) % e->nep;	/* no answer: the next one */
	}
	return r->status;
}

/*
 * etcd's Authenticate: the user's name and password for a token that
 * every later call carries.  0, or -1 with the reason in eb (a refusal
 * marks the run misconfigured).
 */
static int
authenticate(struct arc_etcd *e, struct arc_buf *eb)
{
	struct json_object *req, *res = NULL, *v;
	struct arc_http_req r;
	const char *api = "/v3/auth/authenticate";
	char *body;
	int ret = -1;

	arc_zfree(e->token);
	e->token = NULL;
	req = json_object_new_object();
	json_object_object_add(req, "name", json_object_new_string(e->user));
	json_object_object_add(req, "password",
	    json_object_new_string(e->password));
	body = arc_estrdup(json_object_to_json_string_ext(req,
	    JSON_C_TO_STRING_PLAIN));
	json_object_put(req);
	if (send_call(e, api, body, &r, eb) == 200 &&
	    (res = json_tokener_parse(r.resp.s)) != NULL &&
	    json_object_object_get_ex(res, "token", &v) &&
	    json_object_is_type(v, json_type_string) &&
	    json_object_get_string_len(v) > 0) {
		e->token = arc_estrdup(json_object_get_string(v));
		ret = 0;
	} else if (r.status != 0 && r.status != 200 && r.status < 500) {
		/* a wrong password, a user that does not exist, no auth */
		struct arc_buf m = { 0 };

		arc_config_error = 1;
		grpc_error(&r, &m);
		eb->len = 0;
		arc_buf_printf(eb, "etcd authentication as '%s' failed: HTTP "
		    "%ld%s%s", e->user, r.status, m.len ? ": " : "",
		    m.len ? m.s : "");
		arc_buf_free(&m);
	} else if (r.status != 0) {
		describe(e, &r, api, eb);
		if (r.status == 200) {
			eb->len = 0;
			arc_buf_printf(eb, "etcd %s: an answer without a token",
			    api);
		}
	}
	json_object_put(res);
	explicit_bzero(body, strlen(body));
	free(body);
	if (r.url != NULL)
		arc_http_req_free(&r);
	return ret;
}

/* Have a token before the first call, when there is a user. */
static int
need_token(struct arc_etcd *e, struct arc_buf *eb)
{
	if (e->user == NULL || e->token != NULL)
		return 0;
	return authenticate(e, eb);
}

/*
 * POST a request, endpoint after endpoint until one answers, with the
 * user's token, fetched again once when etcd says it is no longer valid
 * (a restarted member, an expired simple token).  Returns the parsed
 * answer of an HTTP 200, or NULL with the reason in eb (and *status the
 * last HTTP status, 0 for none).  A refusal of the TLS settings or the
 * credentials sets arc_config_error.
 */
struct json_object *
arc_etcd_call(struct arc_etcd *e, const char *api, struct json_object *req,
    long *status, struct arc_buf *eb)
{
	struct arc_http_req r;
	struct json_object *o = NULL;
	const char *body;

	*status = 0;
	if (need_token(e, eb) == -1)
		return NULL;
	body = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN);
	send_call(e, api, body, &r, eb);
	if (token_rejected(e, &r)) {
		arc_http_req_free(&r);
		if (authenticate(e, eb) == -1)
			return NULL;
		send_call(e, api, body, &r, eb);
	}
	*status = r.status;
	if (r.status == 0) {
		arc_http_req_free(&r);
		return NULL;
	}
	if (r.status == 200 && (o = json_tokener_parse(r.resp.s)) == NULL) {
		eb->len = 0;
		arc_buf_printf(eb, "etcd %s: an answer that is not JSON", api);
	} else if (r.status != 200) {
		describe(e, &r, api, eb);
		if (refused(&r))
			arc_config_error = 1;
	}
	arc_http_req_free(&r);
	return o;
}

/* A JSON string member, base64-decoded into b; -1 if absent or invalid. */
int
arc_etcd_bytes(struct json_object *o, const char *key, struct arc_buf *b)
{
	struct json_object *v;

	b->len = 0;
	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return -1;
	if (arc_base64_decode(b, json_object_get_string(v),
	    (size_t)json_object_get_string_len(v)) == -1)
		return -1;
	arc_buf_str(b);
	return 0;
}

/* An int64 member (a string, or omitted when zero). */
int64_t
arc_etcd_int(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		return 0;
	return json_object_get_int64(v);
}

void
arc_etcd_add_bytes(struct json_object *o, const char *key, const char *p,
    size_t n)
{
	struct arc_buf b = { 0 };

	arc_base64_encode(&b, p, n);
	json_object_object_add(o, key, json_object_new_string(b.s ? b.s : ""));
	arc_buf_free(&b);
}

/* The end of the range of every key that starts with prefix. */
static void
prefix_end(const char *p, size_t n, struct arc_buf *out)
{
	out->len = 0;
	while (n > 0 && (unsigned char)p[n - 1] == 0xff)
		n--;
	if (n == 0) {
		arc_buf_addc(out, '\0');	/* "\0": to the end */
		return;
	}
	arc_buf_add(out, p, n);
	out->s[n - 1] = (char)((unsigned char)out->s[n - 1] + 1);
}

/* ---- the manifest source -------------------------------------------- */

struct esrc {
	struct arc_etcd	*e;
	struct arc_buf	 prefix;
};

static int
src_open(struct arc_manifest *m, const char *rest)
{
	struct esrc *s;

	(void)rest;
	s = arc_ecalloc(1, sizeof(*s));
	if ((s->e = arc_etcd_open(m->spec, &s->prefix)) == NULL) {
		free(s);
		return -1;
	}
	m->priv = s;
	return 0;
}

static void
src_close(struct arc_manifest *m)
{
	struct esrc *s = m->priv;

	arc_etcd_close(s->e);
	arc_buf_free(&s->prefix);
	free(s);
}

/* One kv of a range answer as an entry; -1 after a message. */
static int
kv_entry(struct esrc *s, struct json_object *kv, struct arc_entry *e,
    struct arc_buf *key, struct arc_buf *val, struct arc_buf *eb)
{
	struct json_object *o;
	char num[32];
	int64_t mod;

	if (arc_etcd_bytes(kv, "key", key) == -1 ||
	    arc_etcd_bytes(kv, "value", val) == -1 ||
	    (mod = arc_etcd_int(kv, "mod_revision")) <= 0) {
		eb->len = 0;
		arc_buf_adds(eb, "a key without key, value or mod_revision");
		return -1;
	}
	if (key->len < s->prefix.len ||
	    memcmp(key->s, s->prefix.s, s->prefix.len) != 0) {
		eb->len = 0;
		arc_buf_adds(eb, "a key outside the prefix");
		return -1;
	}
	if ((o = json_tokener_parse(val->s)) == NULL) {
		eb->len = 0;
		arc_buf_printf(eb, "key '%s': the value is not JSON", key->s);
		return -1;
	}
	if (arc_entry_from_json(o, e, eb) == -1) {
		json_object_put(o);
		return -1;
	}
	if (e->pathlen != key->len - s->prefix.len ||
	    memcmp(e->path, key->s + s->prefix.len, e->pathlen) != 0) {
		eb->len = 0;
		arc_buf_printf(eb, "key '%s' holds the entry of another path",
		    key->s);
		arc_entry_free(e);
		json_object_put(o);
		return -1;
	}
	snprintf(num, sizeof(num), "%lld", (long long)mod);
	free(e->rev);
	e->rev = arc_estrdup(num);
	e->json = o;
	return 0;
}

/* Keys a range page: ARC_ETCD_PAGE_KEYS, else PAGE_KEYS; -1 if invalid. */
static int64_t
page_keys(void)
{
	const char *v = getenv("ARC_ETCD_PAGE_KEYS");
	long long n;

	if (v == NULL || *v == '\0')
		return PAGE_KEYS;
	if (arc_parse_count(v, 1, 1000000, &n) == -1) {
		warnx("'%s': invalid ARC_ETCD_PAGE_KEYS (1 to 1000000)", v);
		return -1;
	}
	return n;
}

/*
 * The end of the window a page is asked from: the keys from 'from' on
 * that share its first depth bytes, or the whole rest of the prefix
 * (end) when depth does not go past the prefix.
 */
static void
window_end(const struct esrc *s, const struct arc_buf *from, size_t depth,
    const struct arc_buf *end, struct arc_buf *out)
{
	if (depth <= s->prefix.len) {
		out->len = 0;
		arc_buf_add(out, end->s, end->len);
		return;
	}
	/* from starts with the prefix, so this is never past end */
	prefix_end(from->s, depth < from->len ? depth : from->len, out);
}

/*
 * Whether key belongs where the page was asked: in [from, wend) (wend
 * "\0" is no end) and after every key before it.  A server that ignores
 * the range, or repeats a page, would otherwise page forever or give an
 * entry twice.
 */
static int
key_advances(const struct arc_buf *key, const struct arc_buf *from,
    const struct arc_buf *wend, const struct arc_buf *last, int first)
{
	if (arc_pathcmp(key->s, key->len, from->s, from->len) < 0)
		return 0;
	if (!(wend->len == 1 && wend->s[0] == '\0') &&
	    arc_pathcmp(key->s, key->len, wend->s, wend->len) >= 0)
		return 0;
	return first || arc_pathcmp(key->s, key->len, last->s, last->len) > 0;
}

static size_t
common_len(const struct arc_buf *a, const struct arc_buf *b)
{
	size_t i;

	for (i = 0; i < a->len && i < b->len && a->s[i] == b->s[i]; i++)
		continue;
	return i;
}

/*
 * Pages of ARC_ETCD_PAGE_KEYS keys, all at the first page's revision.
 * etcd 3.4 answers a range with a limit by collecting every key from the
 * page's first to range_end (for "count") before it cuts the page, so
 * paging a whole prefix of N keys costs it N * N / page / 2 key visits:
 * at a million keys, most of the dump.  So each page is asked from a
 * window, [from, window end), that holds a few pages: a window of more
 * than WINDOW_PAGES pages (the answer's count says) is narrowed to the
 * depth where the page's first and last keys part, and one used up with
 * less than a page in it is widened by a byte.  The keys are the same,
 * in the same order, at the same revision; only the requests change.
 */
static int
src_dump(struct arc_manifest *m, arc_entry_fn fn, void *arg)
{
	struct esrc *s = m->priv;
	struct json_object *req, *res, *hdr, *kvs, *kv;
	struct arc_buf end = { 0 }, from = { 0 }, key = { 0 }, val = { 0 };
	struct arc_buf eb = { 0 }, wend = { 0 }, first = { 0 }, last = { 0 };
	struct arc_entry e;
	int64_t rev = 0, inwin, page;
	uintmax_t count = 0;
	long status, pages = 0, maxpages = arc_list_max_pages();
	size_t i, n, depth, d;
	int more, ret = -1, r;

	if ((page = page_keys()) == -1)
		return -1;
	prefix_end(s->prefix.s, s->prefix.len, &end);
	arc_buf_add(&from, s->prefix.s, s->prefix.len);
	depth = s->prefix.len;
	for (;;) {
		/* a backstop only: every page starts past the last */
		if (++pages > maxpages) {
			warnx("'%s': more than %ld range pages "
			    "(ARC_LIST_MAX_PAGES)", m->spec, maxpages);
			goto out;
		}
		window_end(s, &from, depth, &end, &wend);
		req = json_object_new_object();
		arc_etcd_add_bytes(req, "key", from.s, from.len);
		arc_etcd_add_bytes(req, "range_end", wend.s, wend.len);
		json_object_object_add(req, "limit",
		    json_object_new_int64(page));
		if (rev > 0)	/* every page at the first page's revision */
			json_object_object_add(req, "revision",
			    json_object_new_int64(rev));
		res = arc_etcd_call(s->e, "/v3/kv/range", req, &status, &eb);
		json_object_put(req);
		if (res == NULL) {
			warnx("'%s': %s", m->spec, eb.s);
			goto out;
		}
		if (!json_object_object_get_ex(res, "header", &hdr) ||
		    arc_etcd_int(hdr, "revision") <= 0) {
			warnx("'%s': a range answer without a revision", m->spec);
			json_object_put(res);
			goto out;
		}
		if (rev == 0)
			rev = arc_etcd_int(hdr, "revision");
		more = json_object_object_get_ex(res, "more", &kv) &&
		    json_object_get_boolean(kv);
		n = 0;
		if (json_object_object_get_ex(res, "kvs", &kvs)) {
			if (!json_object_is_type(kvs, json_type_array)) {
				warnx("'%s': 'kvs' is not an array", m->spec);
				json_object_put(res);
				goto out;
			}
			n = json_object_array_length(kvs);
		}
		if (more && n == 0) {
			warnx("'%s': 'more' without keys", m->spec);
			json_object_put(res);
			goto out;
		}
		/* the keys in [from, window end); an older server omits it */
		inwin = arc_etcd_int(res, "count");
		for (i = 0; i < n; i++) {
			kv = json_object_array_get_idx(kvs, i);
			if (kv_entry(s, kv, &e, &key, &val, &eb) == -1) {
				warnx("'%s': %s", m->spec, eb.s);
				json_object_put(res);
				goto out;
			}
			if (!key_advances(&key, &from, &wend, &last,
			    count == 0)) {
				warnx("'%s': a range answer that does not "
				    "advance", m->spec);
				json_object_put(e.json);
				arc_entry_free(&e);
				json_object_put(res);
				goto out;
			}
			last.len = 0;
			arc_buf_add(&last, key.s, key.len);
			if (i == 0) {
				first.len = 0;
				arc_buf_add(&first, key.s, key.len);
			}
			r = fn(arg, &e, ++count);
			json_object_put(e.json);
			arc_entry_free(&e);
			if (r != 0) {
				json_object_put(res);
				goto out;
			}
		}
		/* the next page starts just after the last key, which must
		 * have moved on: an answer that repeats would page forever */
		if (more && arc_pathcmp(key.s, key.len, from.s, from.len) < 0) {
			warnx("'%s': a range answer that does not advance",
			    m->spec);
			json_object_put(res);
			goto out;
		}
		json_object_put(res);
		if (inwin > WINDOW_PAGES * page && n > 0) {
			d = common_len(&first, &key) + 1;
			depth = d > depth ? d : depth + 1;
		} else if (!more && inwin < page && depth > s->prefix.len)
			depth--;
		if (more) {
			from.len = 0;
			arc_buf_add(&from, key.s, key.len);
			arc_buf_addc(&from, '\0');
		} else if (wend.len == end.len &&
		    memcmp(wend.s, end.s, end.len) == 0)
			break;		/* that window was the rest: all read */
		else {
			/* the window is used up: the next one starts at its end */
			from.len = 0;
			arc_buf_add(&from, wend.s, wend.len);
		}
	}
	ret = 0;
out:
	arc_buf_free(&end);
	arc_buf_free(&from);
	arc_buf_free(&wend);
	arc_buf_free(&first);
	arc_buf_free(&last);
	arc_buf_free(&key);
	arc_buf_free(&val);
	arc_buf_free(&eb);
	return ret;
}

/* Say msg once, however many items it is about. */
static void
say_once(const char *spec, struct arc_buf *said, const struct arc_buf *msg)
{
	if (said->len == msg->len && memcmp(said->s, msg->s, msg->len) == 0)
		return;
	warnx("'%s': %s", spec, msg->s);
	said->len = 0;
	arc_buf_add(said, msg->s, msg->len);
	arc_buf_str(said);
}

/*
 * Look each key up live, many at once, endpoint after endpoint; with a
 * user, the token is fetched again once when etcd rejects it.
 */
static int
lookup_or_fetch(struct arc_manifest *m, struct arc_mitem *items, size_t n,
    int fetch)
{
	struct esrc *s = m->priv;
	struct arc_http_req *rv, **rp;
	struct arc_buf key = { 0 }, val = { 0 }, eb = { 0 }, said = { 0 };
	struct json_object *req, *res, *kvs, *hdr;
	char **bodies;
	size_t i, k, tries, ep;
	int ret = 0, stale, reauth = 0, saidconf = 0;

	rv = arc_ecalloc(n, sizeof(*rv));
	rp = arc_ecalloc(n, sizeof(*rp));
	bodies = arc_ecalloc(n, sizeof(*bodies));
	for (i = 0; i < n; i++) {
		items[i].result = -1;
		key.len = 0;
		arc_buf_add(&key, s->prefix.s, s->prefix.len);
		arc_buf_add(&key, items[i].path, items[i].pathlen);
		req = json_object_new_object();
		arc_etcd_add_bytes(req, "key", key.s, key.len);
		bodies[i] = arc_estrdup(json_object_to_json_string_ext(req,
		    JSON_C_TO_STRING_PLAIN));
		json_object_put(req);
	}
	if (n > 0 && need_token(s->e, &eb) == -1) {
		say_once(m->spec, &said, &eb);
		for (i = 0; i < n; i++)
			items[i].result = ARC_UNKNOWN;
	}
	ep = s->e->cur;
	for (tries = 0; tries < s->e->nep; ) {
		for (i = k = 0; i < n; i++) {
			if (items[i].result != -1)
				continue;
			post(s->e, ep, &rv[i], "/v3/kv/range", bodies[i]);
			rv[i].arg = &items[i];
			rp[k++] = &rv[i];
		}
		if (k == 0)
			break;
		arc_http_perform_many(s->e->http, rp, k, LOOKUP_JOBS);
		stale = 0;
		for (i = 0; i < k; i++) {
			struct arc_mitem *it = rp[i]->arg;

			if (rp[i]->status == 0 && !arc_http_misconfigured(rp[i])) {
				arc_http_req_free(rp[i]);
				continue;	/* the next endpoint */
			}
			if (!reauth && token_rejected(s->e, rp[i])) {
				stale = 1;	/* again with a new token */
				arc_http_req_free(rp[i]);
				continue;
			}
			res = rp[i]->status == 200 ?
			    json_tokener_parse(rp[i]->resp.s) : NULL;
			if (res == NULL) {
				describe(s->e, rp[i], "/v3/kv/range", &eb);
				/* a refusal is one cause, however it shows */
				if (!refused(rp[i]))
					say_once(m->spec, &said, &eb);
				else if (!saidconf++) {
					arc_config_error = 1;
					say_once(m->spec, &said, &eb);
				}
				it->result = ARC_UNKNOWN;
			} else if (!json_object_object_get_ex(res, "header",
			    &hdr) || arc_etcd_int(hdr, "revision") <= 0) {
				/* not an answer from etcd: never "absent" */
				warnx("'%s': a range answer without a revision",
				    m->spec);
				it->result = ARC_UNKNOWN;
			} else if (json_object_object_get_ex(res, "kvs", &kvs) &&
			    json_object_array_length(kvs) > 0) {
				it->result = ARC_PRESENT;
				if (fetch && arc_etcd_bytes(
				    json_object_array_get_idx(kvs, 0), "value",
				    &val) == 0)
					it->json = arc_estrdup(val.s);
			} else
				it->result = ARC_ABSENT;
			json_object_put(res);
			arc_http_req_free(rp[i]);
		}
		if (stale) {
			/* the same endpoint, once, with a new token */
			reauth = 1;
			if (authenticate(s->e, &eb) == -1) {
				say_once(m->spec, &said, &eb);
				for (i = 0; i < n; i++)
					if (items[i].result == -1)
						items[i].result = ARC_UNKNOWN;
			}
			continue;
		}
		ep = (ep + 1) % s->e->nep;
		tries++;
	}
	for (i = 0; i < n; i++) {
		if (items[i].result == -1) {
			warnx("'%s': no endpoint answered", m->spec);
			items[i].result = ARC_UNKNOWN;
		}
		if (items[i].result == ARC_UNKNOWN)
			ret = -1;
		free(bodies[i]);
	}
	free(bodies);
	free(rv);
	free(rp);
	arc_buf_free(&key);
	arc_buf_free(&val);
	arc_buf_free(&eb);
	arc_buf_free(&said);
	return ret;
}

static int
src_lookup(struct arc_manifest *m, struct arc_mitem *items, size_t n)
{
	return lookup_or_fetch(m, items, n, 0);
}

static int
src_fetch(struct arc_manifest *m, struct arc_mitem *items, size_t n)
{
	return lookup_or_fetch(m, items, n, 1);
}

/*
 * One transaction: delete the items whose mod_revision still equals the
 * rev that was read; if any compare fails, read them all instead.
 * Returns 1 when it deleted, 0 when a compare failed (results set for
 * the changed and gone ones), -1 on an error that is not a compare.
 */
static int
txn_delete(struct esrc *s, struct arc_mitem **v, size_t n,
    struct arc_buf *eb)
{
	struct json_object *req, *cmp, *succ, *fail, *c, *op, *inner, *res;
	struct json_object *resps, *rr, *kvs;
	struct arc_buf key = { 0 }, tmp = { 0 };
	long status;
	size_t i;
	int ret = -1;

	req = json_object_new_object();
	cmp = json_object_new_array();
	succ = json_object_new_array();
	fail = json_object_new_array();
	for (i = 0; i < n; i++) {
		key.len = 0;
		arc_buf_add(&key, s->prefix.s, s->prefix.len);
		arc_buf_add(&key, v[i]->path, v[i]->pathlen);
		/* every item has a rev: src_remove keeps the ones without */
		tmp.len = 0;
		arc_buf_add(&tmp, v[i]->rev, v[i]->revlen);
		c = json_object_new_object();
		arc_etcd_add_bytes(c, "key", key.s, key.len);
		json_object_object_add(c, "target",
		    json_object_new_string("MOD"));
		json_object_object_add(c, "result",
		    json_object_new_string("EQUAL"));
		json_object_object_add(c, "mod_revision",
		    json_object_new_string(arc_buf_str(&tmp)));
		json_object_array_add(cmp, c);
		op = json_object_new_object();
		inner = json_object_new_object();
		arc_etcd_add_bytes(inner, "key", key.s, key.len);
		json_object_object_add(op, "request_delete_range", inner);
		json_object_array_add(succ, op);
		op = json_object_new_object();
		inner = json_object_new_object();
		arc_etcd_add_bytes(inner, "key", key.s, key.len);
		json_object_object_add(op, "request_range", inner);
		json_object_array_add(fail, op);
	}
	json_object_object_add(req, "compare", cmp);
	json_object_object_add(req, "success", succ);
	json_object_object_add(req, "failure", fail);
	res = arc_etcd_call(s->e, "/v3/kv/txn", req, &status, eb);
	json_object_put(req);
	if (res == NULL)
		goto out;
	if (!json_object_object_get_ex(res, "responses", &resps) ||
	    !json_object_is_type(resps, json_type_array) ||
	    json_object_array_length(resps) != n) {
		eb->len = 0;
		arc_buf_adds(eb, "etcd /v3/kv/txn: an answer without one "
		    "response per operation");
		goto out;
	}
	if (json_object_object_get_ex(res, "succeeded", &c) &&
	    json_object_get_boolean(c)) {
		for (i = 0; i < n; i++) {
			rr = json_object_array_get_idx(resps, i);
			if (json_object_object_get_ex(rr,
			    "response_delete_range", &inner) &&
			    arc_etcd_int(inner, "deleted") > 0)
				v[i]->result = ARC_M_DELETED;
			else
				v[i]->result = ARC_M_GONE;
		}
		ret = 1;
		goto out;
	}
	/* a compare failed: see which entries changed or went */
	for (i = 0; i < n; i++) {
		rr = json_object_array_get_idx(resps, i);
		if (!json_object_object_get_ex(rr, "response_range", &inner))
			continue;
		if (!json_object_object_get_ex(inner, "kvs", &kvs) ||
		    json_object_array_length(kvs) == 0)
			v[i]->result = ARC_M_GONE;
		else {
			tmp.len = 0;
			arc_buf_printf(&tmp, "%lld", (long long)arc_etcd_int(
			    json_object_array_get_idx(kvs, 0), "mod_revision"));
			if (tmp.len != v[i]->revlen ||
			    memcmp(tmp.s, v[i]->rev, tmp.len) != 0)
				v[i]->result = ARC_M_CHANGED;
		}
	}
	ret = 0;
out:
	json_object_put(res);
	arc_buf_free(&key);
	arc_buf_free(&tmp);
	return ret;
}

/*
 * Remove a batch in transactions of at most 128 operations.  A failed
 * compare drops the changed and gone entries and tries the rest again;
 * any other error fails the batch (the caller stops the run).
 */
static int
src_remove(struct arc_manifest *m, struct arc_mitem *items, size_t n,
    struct arc_buf *eb)
{
	struct esrc *s = m->priv;
	struct arc_mitem **v;
	size_t i, start, cnt, k;
	int r, tries;

	eb->len = 0;
	v = arc_ecalloc(TXN_OPS, sizeof(*v));
	/*
	 * Every entry read from etcd has its mod_revision as rev: a
	 * candidate without one ("-") was not read here, and a delete
	 * without a compare would remove whatever the key holds now (a
	 * registration made since).  It is kept, as a changed entry.
	 */
	for (i = 0; i < n; i++)
		items[i].result = items[i].revlen == 1 &&
		    items[i].rev[0] == '-' ? ARC_M_CHANGED : -1;
	for (start = 0; start < n; start += cnt) {
		cnt = n - start < TXN_OPS ? n - start : TXN_OPS;
		for (tries = 0; tries < 3; tries++) {
			for (i = k = 0; i < cnt; i++)
				if (items[start + i].result == -1)
					v[k++] = &items[start + i];
			if (k == 0)
				break;
			if ((r = txn_delete(s, v, k, eb)) == -1) {
				for (i = 0; i < n; i++)
					if (items[i].result == -1)
						items[i].result = ARC_M_FAILED;
				free(v);
				return -1;
			}
			if (r == 1)
				break;
		}
		for (i = 0; i < cnt; i++)
			if (items[start + i].result == -1)
				items[start + i].result = ARC_M_CHANGED;
	}
	free(v);
	return 0;
}

struct restore {
	struct esrc	*s;
	int		 count;
	int		 failed;
	struct arc_buf	 eb;
};

static int
restore_entry(void *arg, struct arc_entry *e, uintmax_t line)
{
	struct restore *rs = arg;

	(void)line;
	switch (arc_etcd_put(rs->s->e, rs->s->prefix.s, rs->s->prefix.len,
	    &e, 1, 1, &rs->eb)) {
	case 1:
		rs->count++;
		break;
	case -1:
		rs->failed = 1;
		return -1;
	}
	return 0;
}

static int
src_restore(struct arc_manifest *m, FILE *fp, struct arc_buf *eb)
{
	struct restore rs = { m->priv, 0, 0, { 0 } };
	int r;

	r = arc_json_entries(fp, "manifest-entries.ndjson", restore_entry, &rs);
	eb->len = 0;
	if (rs.eb.len)
		arc_buf_add(eb, rs.eb.s, rs.eb.len);
	arc_buf_free(&rs.eb);
	return r == -1 ? -1 : rs.count;
}

/* One txn: the puts of v (and with if_absent, their one compare). */
static int
txn_put(struct arc_etcd *e, const char *prefix, size_t plen,
    struct arc_entry **v, size_t n, int if_absent, struct arc_buf *eb)
{
	struct json_object *req, *c, *arr, *op, *inner, *res, *ok;
	struct arc_buf key = { 0 };
	const char *js;
	long status;
	size_t i;
	int r = -1;

	req = json_object_new_object();
	arr = json_object_new_array();
	for (i = 0; i < n; i++) {
		key.len = 0;
		arc_buf_add(&key, prefix, plen);
		arc_buf_add(&key, v[i]->path, v[i]->pathlen);
		js = json_object_to_json_string_ext(v[i]->json,
		    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
		op = json_object_new_object();
		inner = json_object_new_object();
		arc_etcd_add_bytes(inner, "key", key.s, key.len);
		arc_etcd_add_bytes(inner, "value", js, strlen(js));
		json_object_object_add(op, "request_put", inner);
		json_object_array_add(arr, op);
	}
	json_object_object_add(req, "success", arr);
	if (if_absent) {
		arr = json_object_new_array();
		c = json_object_new_object();
		arc_etcd_add_bytes(c, "key", key.s, key.len);
		json_object_object_add(c, "target",
		    json_object_new_string("CREATE"));
		json_object_object_add(c, "result",
		    json_object_new_string("EQUAL"));
		json_object_object_add(c, "create_revision",
		    json_object_new_string("0"));
		json_object_array_add(arr, c);
		json_object_object_add(req, "compare", arr);
	}
	if ((res = arc_etcd_call(e, "/v3/kv/txn", req, &status, eb)) != NULL) {
		r = json_object_object_get_ex(res, "succeeded", &ok) &&
		    json_object_get_boolean(ok) ? (int)n : 0;
		json_object_put(res);
	}
	json_object_put(req);
	arc_buf_free(&key);
	return r;
}

/*
 * Put entries at prefix + path, each entry's JSON as the value, in
 * transactions of up to 128 puts; with if_absent, one at a time and only
 * where the key does not exist.  Returns how many were put, or -1 on an
 * error (the reason in eb).
 */
int
arc_etcd_put(struct arc_etcd *e, const char *prefix, size_t plen,
    struct arc_entry **v, size_t n, int if_absent, struct arc_buf *eb)
{
	size_t start, cnt;
	int r, total = 0;

	for (start = 0; start < n; start += cnt) {
		cnt = if_absent ? 1 : n - start < TXN_OPS ? n - start : TXN_OPS;
		if ((r = txn_put(e, prefix, plen, v + start, cnt, if_absent,
		    eb)) == -1)
			return -1;
		total += r;
	}
	return total;
}

/*
 * For the estimate: a look-up is a range per key (lookup_or_fetch); a
 * removal a txn per TXN_OPS entries (src_remove, when no compare fails)
 * that removes them all.
 */
static size_t
src_cost(struct arc_manifest *m, int op, size_t n)
{
	(void)m;
	if (op == ARC_COST_LOOKUP)
		arc_requests_would(ARC_REQ_RANGE, n);
	else if (op == ARC_COST_MREMOVE) {
		arc_requests_would(ARC_REQ_TXN, (n + TXN_OPS - 1) / TXN_OPS);
		return n;
	}
	return 0;
}

const struct arc_manifest_ops arc_manifest_etcd = {
	.scheme = "etcd etcds",
	.open = src_open,
	.dump = src_dump,
	.lookup = src_lookup,
	.fetch = src_fetch,
	.remove = src_remove,
	.restore = src_restore,
	.close = src_close,
	.cost = src_cost,
};
