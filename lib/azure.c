/*
 * azure.c - the Azure Blob store: az://CONTAINER[/PREFIX].
 *
 * Configured as the Azure tools are: AZURE_STORAGE_CONNECTION_STRING
 * (AccountName, AccountKey, BlobEndpoint, DefaultEndpointsProtocol,
 * EndpointSuffix, SharedAccessSignature, UseDevelopmentStorage), or
 * AZURE_STORAGE_ACCOUNT with AZURE_STORAGE_KEY or AZURE_STORAGE_SAS_TOKEN;
 * AZURE_STORAGE_BLOB_ENDPOINT overrides the endpoint (emulators).  Shared
 * Key signatures are HMAC-SHA256 (libcrypto) over the canonical string;
 * a SAS token is appended to each URL instead.  With neither a key nor a
 * SAS, a Microsoft Entra ID bearer token (azcred.c) authorizes requests.
 * Requests go through the same HTTP layer, retry policy and listing
 * engine as S3.  Secrets are never printed.
 *
 * Every request needs only what its operation needs, so that a container
 * or blob SAS that grants the operation is enough: a 404 means "no such
 * blob" only when Azure says BlobNotFound (ContainerNotFound, or no code,
 * is an error), with no container probe, which a service SAS may not do.
 *
 * PREFIX is a folder, as for S3: az://c/x and az://c/x/ both mean the
 * blobs under "x/", and paths are blob names with "x/" removed.
 */
#include <err.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "arc_priv.h"

#define XMS_VERSION	"2021-12-02"
#define PAGE_BLOBS	5000
#define BATCH_MAX	256
#define DEV_ACCOUNT	"devstoreaccount1"
#define DEV_KEY		"Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErC" \
			"z4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

static const char *const azns[] = { NULL };	/* answers carry none */

static const struct arc_objstore_ops az_osops;

struct az {
	struct arc_objstore os;		/* first: st->priv is both */
	char		*account;
	struct arc_buf	 key;		/* decoded account key */
	int		 keylen;	/* 0: use the SAS token */
	char		*sas;		/* without a leading '?' */
	int		 sasscope;	/* SAS_ACCOUNT, ... */
	struct arc_azcred *cred;	/* Entra ID, with neither key nor SAS */
	int		 tokfailed;	/* said once that no token came */
	char		*endpoint;	/* https://acct.blob.core.windows.net */
	char		*container;
};

struct param {
	const char	*name;	/* lowercase */
	const char	*value;	/* decoded */
};

/* What a SAS token grants access to, by its sr/ss/srt parameters. */
enum { SAS_OTHER, SAS_ACCOUNT, SAS_CONTAINER };

static int
sas_scope(const char *sas)
{
	const char *p;
	size_t n;
	int account = 0;

	for (p = sas; *p; p += n + (p[n] == '&')) {
		n = strcspn(p, "&");
		if (n == 4 && strncmp(p, "sr=c", 4) == 0)
			return SAS_CONTAINER;
		if (strncmp(p, "sr=", 3) == 0)
			return SAS_OTHER;	/* a blob, version or directory */
		if (strncmp(p, "ss=", 3) == 0 || strncmp(p, "srt=", 4) == 0)
			account = 1;
	}
	return account ? SAS_ACCOUNT : SAS_OTHER;
}

static char *
conn_field(const char *cs, const char *key)
{
	const char *p = cs, *end, *eq;
	size_t klen = strlen(key);

	while (*p) {
		end = strchr(p, ';');
		if (end == NULL)
			end = p + strlen(p);
		eq = memchr(p, '=', (size_t)(end - p));
		if (eq != NULL && (size_t)(eq - p) == klen &&
		    strncasecmp(p, key, klen) == 0)
			return arc_estrndup(eq + 1, (size_t)(end - eq - 1));
		p = *end ? end + 1 : end;
	}
	return NULL;
}

static int
decode_key(struct az *a, const char *b64)
{
	a->key.len = 0;
	if (*b64 == '\0' || arc_base64_decode(&a->key, b64, strlen(b64)) == -1)
		return -1;
	a->keylen = (int)a->key.len;
	return 0;
}

static void
az_free(struct az *a)
{
	if (a->key.s != NULL)
		explicit_bzero(a->key.s, a->key.len);
	arc_buf_free(&a->key);
	if (a->sas != NULL) {
		explicit_bzero(a->sas, strlen(a->sas));
		free(a->sas);
	}
	free(a->account);
	free(a->endpoint);
	free(a->container);
	arc_azcred_free(a->cred);
	arc_os_free(&a->os);
	free(a);
}

static int
az_open(struct arc_store *st, const char *rest)
{
	struct az *a;
	struct arc_buf b = { 0 }, eb = { 0 };
	const char *slash, *cs, *v;
	char *key = NULL, *proto = NULL, *suffix = NULL, *ep = NULL, *dev;
	size_t clen;

	slash = strchr(rest, '/');
	clen = slash ? (size_t)(slash - rest) : strlen(rest);
	if (clen < 3 || clen > 63 || strspn(rest,
	    "abcdefghijklmnopqrstuvwxyz0123456789-") < clen) {
		warnx("'%s': invalid container name", st->url);
		return -1;
	}
	a = arc_ecalloc(1, sizeof(*a));
	a->os.ops = &az_osops;
	a->container = arc_estrndup(rest, clen);
	if (arc_os_prefix(&a->os, st->url, slash) == -1)
		goto fail;
	if (asprintf(&a->os.name, "az://%s/", a->container) == -1)
		err(arc_errstatus, "asprintf");

	if ((cs = arc_env("AZURE_STORAGE_CONNECTION_STRING")) != NULL) {
		dev = conn_field(cs, "UseDevelopmentStorage");
		if (dev != NULL && strcasecmp(dev, "true") == 0) {
			a->account = arc_estrdup(DEV_ACCOUNT);
			key = arc_estrdup(DEV_KEY);
			ep = arc_estrdup("http://127.0.0.1:10000/" DEV_ACCOUNT);
		}
		free(dev);
		if ((v = conn_field(cs, "AccountName")) != NULL) {
			free(a->account);
			a->account = (char *)v;
		}
		if ((v = conn_field(cs, "AccountKey")) != NULL) {
			free(key);
			key = (char *)v;
		}
		if ((v = conn_field(cs, "SharedAccessSignature")) != NULL)
			a->sas = (char *)v;
		if ((v = conn_field(cs, "BlobEndpoint")) != NULL) {
			free(ep);
			ep = (char *)v;
		}
		proto = conn_field(cs, "DefaultEndpointsProtocol");
		suffix = conn_field(cs, "EndpointSuffix");
	} else {
		if ((v = arc_env("AZURE_STORAGE_ACCOUNT")) != NULL)
			a->account = arc_estrdup(v);
		if ((v = arc_env("AZURE_STORAGE_KEY")) != NULL)
			key = arc_estrdup(v);
		if ((v = arc_env("AZURE_STORAGE_SAS_TOKEN")) != NULL)
			a->sas = arc_estrdup(v);
	}
	if ((v = arc_env("AZURE_STORAGE_BLOB_ENDPOINT")) != NULL) {
		free(ep);
		ep = arc_estrdup(v);
	}
	/* Shared Key signs with the account name; a SAS needs none */
	if (a->account == NULL && (key != NULL || ep == NULL)) {
		warnx("no Azure storage account: set "
		    "AZURE_STORAGE_CONNECTION_STRING or AZURE_STORAGE_ACCOUNT");
		goto fail;
	}
	/* neither a key nor a SAS: Entra ID, as DefaultAzureCredential */
	if (key == NULL && a->sas == NULL &&
	    (a->cred = arc_azcred_new(&eb)) == NULL) {
		warnx("%s", eb.s);
		goto fail;
	}
	if (a->sas != NULL && a->sas[0] == '?')
		memmove(a->sas, a->sas + 1, strlen(a->sas));
	if (a->sas != NULL)
		a->sasscope = sas_scope(a->sas);
	if (key != NULL && decode_key(a, key) == -1) {
		warnx("the Azure account key is not valid base64");
		goto fail;
	}
	b.len = 0;
	if (ep == NULL && (strlen(a->account) < 3 ||
	    strlen(a->account) > 24 || strspn(a->account,
	    "abcdefghijklmnopqrstuvwxyz0123456789") != strlen(a->account))) {
		/* it becomes the host name: never another host */
		warnx("'%s': invalid Azure storage account name (3 to 24 "
		    "lower-case letters and digits)", a->account);
		goto fail;
	}
	if (ep != NULL)
		arc_buf_adds(&b, ep);
	else
		arc_buf_printf(&b, "%s://%s.blob.%s", proto ? proto : "https",
		    a->account, suffix ? suffix : "core.windows.net");
	while (b.len > 0 && b.s[b.len - 1] == '/')
		b.s[--b.len] = '\0';
	if (strncmp(b.s, "http://", 7) != 0 && strncmp(b.s, "https://", 8)) {
		arc_azcred_redact(&eb, b.s);
		warnx("'%s': the blob endpoint needs http:// or https://",
		    eb.s);
		goto fail;
	}
	a->endpoint = arc_estrdup(b.s);
	/* a credential that yields no token is one clear error, up front */
	if (a->cred != NULL && arc_azcred_token(a->cred, &eb) == NULL) {
		warnx("%s", eb.s);
		goto fail;
	}
	if (key != NULL) {
		explicit_bzero(key, strlen(key));
		free(key);
	}
	free(proto);
	free(suffix);
	free(ep);
	arc_buf_free(&b);
	arc_buf_free(&eb);
	a->os.http = arc_http_new();
	st->priv = a;
	st->unordered = 1;
	return 0;
fail:
	if (key != NULL) {
		explicit_bzero(key, strlen(key));
		free(key);
	}
	free(proto);
	free(suffix);
	free(ep);
	arc_buf_free(&b);
	arc_buf_free(&eb);
	az_free(a);
	return -1;
}

static void
az_close(struct arc_store *st)
{
	az_free(st->priv);
}

static int
paramcmp(const void *x, const void *y)
{
	return strcmp(((const struct param *)x)->name,
	    ((const struct param *)y)->name);
}

static void
rfc1123(char *buf, size_t n)
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, n, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

/* The URL path of a blob (path != NULL) or of the container. */
static void
url_path(struct az *a, struct arc_buf *b, const char *path, size_t n)
{
	const char *p = strstr(a->endpoint, "://") + 3;

	p = strchr(p, '/');
	if (p != NULL)
		arc_buf_adds(b, p);	/* path-style: /account */
	arc_buf_addc(b, '/');
	arc_buf_adds(b, a->container);
	if (path != NULL) {
		arc_buf_addc(b, '/');
		arc_http_escape(b, a->os.prefix, a->os.prefixlen, 1);
		arc_http_escape(b, path, n, 1);
	}
}

/*
 * The Shared Key signature of a request: verb, the standard headers in
 * their fixed order (Content-Length empty when 0), the x-ms- headers
 * sorted, then /account/path and the query parameters sorted.
 */
static void
sign(struct az *a, struct arc_buf *out, const char *method,
    const char *upath, struct param *pv, size_t np, const char *date,
    long long clen, const char *ctype, const char *md5, const char *ifmatch,
    const char *ifnonematch, int blockblob, int version)
{
	struct arc_buf s = { 0 };
	unsigned char mac[EVP_MAX_MD_SIZE], b64[EVP_MAX_MD_SIZE * 2];
	unsigned int maclen;
	size_t i;

	arc_buf_printf(&s, "%s\n\n\n", method);
	if (clen > 0)
		arc_buf_printf(&s, "%lld", clen);
	arc_buf_printf(&s, "\n%s\n%s\n\n\n%s\n%s\n\n\n", md5 ? md5 : "",
	    ctype ? ctype : "", ifmatch ? ifmatch : "",
	    ifnonematch ? ifnonematch : "");
	/* the x-ms- headers we send, sorted by name */
	if (blockblob)
		arc_buf_adds(&s, "x-ms-blob-type:BlockBlob\n");
	arc_buf_printf(&s, "x-ms-date:%s\n", date);
	if (version)
		arc_buf_adds(&s, "x-ms-version:" XMS_VERSION "\n");
	arc_buf_printf(&s, "/%s%s", a->account, upath);
	for (i = 0; i < np; i++)
		arc_buf_printf(&s, "\n%s:%s", pv[i].name, pv[i].value);
	HMAC(EVP_sha256(), a->key.s, a->keylen, (unsigned char *)s.s, s.len,
	    mac, &maclen);
	EVP_EncodeBlock(b64, mac, (int)maclen);
	out->len = 0;
	arc_buf_printf(out, "SharedKey %s:%s", a->account, b64);
	explicit_bzero(s.s, s.len);
	arc_buf_free(&s);
}

/*
 * The Entra ID token for the next request.  Without one the request goes
 * out unauthorized and fails as such (never as "absent"); why is said
 * once, not for each of a batch's requests.
 */
static const char *
token(struct az *a)
{
	struct arc_buf eb = { 0 };
	const char *t;

	if ((t = arc_azcred_token(a->cred, &eb)) != NULL)
		a->tokfailed = 0;
	else if (!a->tokfailed) {
		warnx("%s", eb.s);
		a->tokfailed = 1;
	}
	arc_buf_free(&eb);
	return t;
}

/*
 * Build a request on the container (path NULL) or a blob, with query
 * parameters pv (decoded values), signed with the key or carrying the
 * SAS token.
 */
static void
request(struct az *a, struct arc_http_req *r, const char *method,
    const char *path, size_t n, struct param *pv, size_t np, long long clen,
    const char *ctype, const char *md5, const char *ifmatch, int blockblob)
{
	struct arc_buf u = { 0 }, up = { 0 }, auth = { 0 };
	const char *tok;
	char date[64];
	size_t i;

	if (np > 1)
		qsort(pv, np, sizeof(*pv), paramcmp);
	url_path(a, &up, path, n);
	arc_buf_add(&u, a->endpoint, strcspn(a->endpoint + 8, "/") + 8);
	arc_buf_adds(&u, up.s);
	for (i = 0; i < np; i++) {
		arc_buf_addc(&u, i ? '&' : '?');
		arc_buf_adds(&u, pv[i].name);
		arc_buf_addc(&u, '=');
		arc_http_escape(&u, pv[i].value, strlen(pv[i].value), 0);
	}
	if (a->keylen == 0 && a->sas != NULL) {
		arc_buf_addc(&u, np ? '&' : '?');
		arc_buf_adds(&u, a->sas);
	}
	arc_http_req_init(r, method, arc_estrdup(arc_buf_str(&u)));
	rfc1123(date, sizeof(date));
	arc_http_add_header(r, "x-ms-date: %s", date);
	arc_http_add_header(r, "x-ms-version: %s", XMS_VERSION);
	if (ctype != NULL)
		arc_http_add_header(r, "Content-Type: %s", ctype);
	if (md5 != NULL)
		arc_http_add_header(r, "Content-MD5: %s", md5);
	if (ifmatch != NULL)
		arc_http_add_header(r, "If-Match: %s", ifmatch);
	if (blockblob) {
		/* only ever a restore: never over an existing blob */
		arc_http_add_header(r, "x-ms-blob-type: BlockBlob");
		arc_http_add_header(r, "If-None-Match: *");
	}
	if (a->keylen > 0) {
		sign(a, &auth, method, up.s, pv, np, date, clen, ctype, md5,
		    ifmatch, blockblob ? "*" : NULL, blockblob, 1);
		arc_http_add_header(r, "Authorization: %s", auth.s);
		explicit_bzero(auth.s, auth.len);
	} else if (a->cred != NULL && (tok = token(a)) != NULL)
		arc_http_add_header(r, "Authorization: Bearer %s", tok);
	arc_azcred_ca(r);
	arc_buf_free(&u);
	arc_buf_free(&up);
	arc_buf_free(&auth);
}

/* ---- listing ---------------------------------------------------------- */

static const struct arc_ospaths az_page = {
	.ns = azns,
	.answer = "not a List Blobs answer",
	.root = "EnumerationResults",
	.object = "/Blobs/Blob",
	.key = "/Blobs/Blob/Name",
	.mtime = "/Blobs/Blob/Properties/Last-Modified",
	.size = "/Blobs/Blob/Properties/Content-Length",
	.dir = "/Blobs/BlobPrefix/Name",
	.token = "/NextMarker",
};

static void
list_request(void *be, struct arc_plister *l, struct arc_http_req *r)
{
	struct az *a = be;
	struct param pv[6];
	size_t np = 0;
	char max[16];

	snprintf(max, sizeof(max), "%d", PAGE_BLOBS);
	pv[np++] = (struct param){ "restype", "container" };
	pv[np++] = (struct param){ "comp", "list" };
	pv[np++] = (struct param){ "prefix", arc_buf_str(&l->prefix) };
	pv[np++] = (struct param){ "maxresults", max };
	if (l->token.len > 0)
		pv[np++] = (struct param){ "marker", arc_buf_str(&l->token) };
	if (l->delimiter)
		pv[np++] = (struct param){ "delimiter", "/" };
	request(a, r, "GET", NULL, 0, pv, np, 0, NULL, NULL, NULL, 0);
}

static int
list_page(void *be, struct arc_pager *pg, struct arc_plister *l,
    struct arc_http_req *r)
{
	struct az *a = be;
	struct arc_ospage p;
	struct arc_buf msg = { 0 }, what = { 0 };
	struct arc_plister *nl;
	const char *o, *name, *mt, *sz, *d;
	size_t i;
	int ret = 0;

	arc_buf_printf(&what, "%s%s", a->os.name, l->prefix.s);
	ret = arc_os_page_read(&a->os, r, &az_page, what.s, &p, &msg);
	if (ret == 0 && p.token.len > 0 && l->token.len == p.token.len &&
	    memcmp(l->token.s, p.token.s, p.token.len) == 0) {
		arc_buf_printf(&msg, "list '%s': the marker repeats", what.s);
		ret = -1;
	}
	if (ret != 0) {
		warnx("%s", arc_buf_str(&msg));
		goto out;
	}
	/* every name must move the listing on, blobs and prefixes alike */
	for (o = p.objs.s, i = 0; i < p.nobjs && ret == 0; i++) {
		ret = arc_pager_key(l, o, strlen(o));
		o += strlen(o) + 1;		/* name, mtime, size */
		o += strlen(o) + 1;
		o += strlen(o) + 1;
	}
	for (d = p.dirs.s, i = 0; i < p.ndirs && ret == 0;
	    i++, d += strlen(d) + 1)
		ret = arc_pager_key(l, d, strlen(d));
	if (ret != 0) {
		warnx("list '%s': a name that does not advance (the server "
		    "ignored the marker)", what.s);
		goto out;
	}
	for (o = p.objs.s, i = 0; i < p.nobjs; i++) {
		name = o;
		mt = name + strlen(name) + 1;
		sz = mt + strlen(mt) + 1;
		o = sz + strlen(sz) + 1;
		if (strncmp(name, a->os.prefix, a->os.prefixlen) != 0)
			continue;
		arc_pager_emit(pg, name + a->os.prefixlen,
		    strlen(name + a->os.prefixlen), arc_os_time(mt),
		    arc_os_size(sz, strlen(sz)));
	}
	/* a delimiter listing splits: each prefix gets a lister of its own */
	for (d = p.dirs.s, i = 0; i < p.ndirs; i++, d += strlen(d) + 1)
		if (arc_pager_found(pg, l, d, strlen(d), a->os.prefixlen,
		    &nl) == -1) {
			ret = -1;
			goto out;
		}
	l->token.len = 0;
	if (p.token.len > 0)
		arc_buf_add(&l->token, p.token.s, p.token.len);
	else
		l->done = 1;
out:
	arc_os_page_free(&p);
	arc_buf_free(&msg);
	arc_buf_free(&what);
	return ret;
}

static const struct arc_pager_ops list_ops = { list_request, list_page };

/*
 * List the container: with -p, one lister per prefix; otherwise a
 * delimiter listing of the top level, whose blobs are emitted and whose
 * prefixes are listed in parallel, a partition of the whole.  A shard
 * lists the database level one level at a time too, and only its
 * measurement prefixes (arc_pager_prefix).
 */
static int
az_list(struct arc_store *st, char **prefixes, size_t np, int flags,
    arc_list_fn fn, void *arg)
{
	struct az *a = st->priv;
	struct arc_pager pg;
	struct arc_plister *l;
	int jobs = st->jobs > 0 ? st->jobs : 8;

	arc_os_pager(st, &pg, flags, fn, arg);
	if (arc_os_listers(&a->os, &pg, prefixes, np) == -1)
		return ARC_EXIT_ERROR;
	if (np == 0) {
		l = arc_pager_prefix(&pg, a->os.prefix, a->os.prefixlen,
		    a->os.prefixlen);
		l->delimiter = l->delimiter || jobs > 1;
	}
	return arc_pager_run(&pg, a->os.http, &list_ops, a, jobs);
}

/* ---- objects ---------------------------------------------------------- */

/*
 * Only 404 BlobNotFound means absent: ContainerNotFound, a 404 without
 * a code (a proxy, a wrong endpoint) or anything else is an error.
 */
static int
absent(const struct arc_http_req *r, int deleting)
{
	struct arc_buf v = { 0 };
	int yes;

	(void)deleting;
	yes = r->status == 404 &&
	    arc_http_header(r, "x-ms-error-code", &v) == 0 &&
	    strcmp(v.s, "BlobNotFound") == 0;
	arc_buf_free(&v);
	return yes;
}

/* A request on a blob; a put is a block blob, never over another. */
static void
object_request(struct arc_objstore *os, struct arc_http_req *r,
    const char *method, const char *path, size_t n, const char *ifmatch,
    off_t len)
{
	int put = strcmp(method, "PUT") == 0;

	request((struct az *)os, r, method, path, n, NULL, 0,
	    put ? (long long)len : 0, put ? "application/octet-stream" : NULL,
	    NULL, ifmatch, put);
}

/*
 * Read a Blob Batch answer strictly: every part must be an application/
 * http part with a Content-ID naming one of our sub-requests and an HTTP
 * status line.  0 when the whole answer made sense.
 */
static int
read_batch(const char *body, size_t len, const char *boundary,
    struct arc_sitem *items, size_t n)
{
	struct arc_buf delim = { 0 };
	const char *p, *end, *next, *hdr_end, *line, *cid, *st;
	long id, status;
	char *e;
	int ret = 0;

	arc_buf_printf(&delim, "--%s", boundary);
	end = body + len;
	p = memmem(body, len, delim.s, delim.len);
	while (p != NULL && ret == 0) {
		p += delim.len;
		if (end - p >= 2 && memcmp(p, "--", 2) == 0)
			break;	/* the closing delimiter */
		next = memmem(p, (size_t)(end - p), delim.s, delim.len);
		if (next == NULL) {
			ret = -1;
			break;
		}
		hdr_end = memmem(p, (size_t)(next - p), "\r\n\r\n", 4);
		cid = memmem(p, (size_t)(next - p), "Content-ID:", 11);
		if (hdr_end == NULL || cid == NULL || cid > hdr_end) {
			ret = -1;
			break;
		}
		id = strtol(cid + 11, &e, 10);
		line = hdr_end + 4;
		st = memmem(line, (size_t)(next - line), "HTTP/1.1 ", 9);
		if (id < 0 || (size_t)id >= n || st != line) {
			ret = -1;
			break;
		}
		status = strtol(st + 9, &e, 10);
		if (status == 202 || status == 200)
			items[id].removal = ARC_REMOVED;
		else if (status == 404 && memmem(line, (size_t)(next - line),
		    "x-ms-error-code: BlobNotFound", 29) != NULL)
			items[id].removal = ARC_GONE;
		else if (status == 412)
			items[id].removal = ARC_REMOVE_CHANGED;
		else {
			const char *code = memmem(line, (size_t)(next - line),
			    "x-ms-error-code:", 16);

			items[id].removal = ARC_REMOVE_FAILED;
			items[id].err.len = 0;
			arc_buf_printf(&items[id].err, "batch delete: HTTP %ld",
			    status);
			if (code != NULL)
				arc_buf_printf(&items[id].err, " (%.*s)",
				    (int)strcspn(code + 16, "\r\n"), code + 16);
		}
		p = next;
	}
	arc_buf_free(&delim);
	return ret;
}

/*
 * Blob Batch deletes in groups of 256 sub-requests, each authorized on
 * its own (signed, or carrying the bearer token or the SAS token); each
 * sub-response read.  A group that fails as a whole goes blob by blob.
 * The batch endpoint is the container's, except for an account SAS
 * (the account's, as before) and a SAS for less than a container (a
 * blob), which cannot authorize a batch at all: single deletes then.
 */
static void
delete_batch(struct arc_objstore *os, struct arc_sitem *items, size_t n)
{
	struct az *a = (struct az *)os;
	struct arc_http_req r;
	struct arc_buf body = { 0 }, up = { 0 }, auth = { 0 }, ct = { 0 };
	struct arc_buf rb = { 0 };
	struct param pv[2];
	char date[64], *run;
	const char *b, *tok = NULL, *sas;
	size_t i, start, cnt, ok;

	run = arc_run_id();
	sas = a->keylen == 0 && a->sas != NULL ? a->sas : NULL;
	for (start = 0; start < n; start += cnt) {
		cnt = n - start < BATCH_MAX ? n - start : BATCH_MAX;
		if (cnt < 2)
			break;	/* a batch of one is a single delete */
		if (sas != NULL && a->sasscope == SAS_OTHER)
			break;
		if (a->cred != NULL && (tok = token(a)) == NULL)
			break;
		body.len = 0;
		rfc1123(date, sizeof(date));
		for (i = 0; i < cnt; i++) {
			struct arc_sitem *it = &items[start + i];

			up.len = 0;
			url_path(a, &up, it->path, it->pathlen);
			arc_buf_printf(&body, "--batch_%s\r\n"
			    "Content-Type: application/http\r\n"
			    "Content-Transfer-Encoding: binary\r\n"
			    "Content-ID: %zu\r\n\r\n"
			    "DELETE %s%s%s HTTP/1.1\r\n"
			    "x-ms-date: %s\r\n", run, i, up.s,
			    sas ? "?" : "", sas ? sas : "", date);
			if (it->if_match != NULL)
				arc_buf_printf(&body, "If-Match: %s\r\n",
				    it->if_match);
			if (a->keylen > 0) {
				sign(a, &auth, "DELETE", up.s, NULL, 0, date, 0,
				    NULL, NULL, it->if_match, NULL, 0, 0);
				arc_buf_printf(&body, "Authorization: %s\r\n",
				    auth.s);
			} else if (tok != NULL)
				arc_buf_printf(&body, "Authorization: Bearer "
				    "%s\r\n", tok);
			arc_buf_adds(&body, "Content-Length: 0\r\n\r\n");
		}
		arc_buf_printf(&body, "--batch_%s--\r\n", run);
		ct.len = 0;
		arc_buf_printf(&ct, "multipart/mixed; boundary=batch_%s", run);
		if (sas == NULL || a->sasscope == SAS_CONTAINER) {
			pv[0] = (struct param){ "restype", "container" };
			pv[1] = (struct param){ "comp", "batch" };
			request(a, &r, "POST", NULL, 0, pv, 2,
			    (long long)body.len, ct.s, NULL, NULL, 0);
		} else {
			/* an account SAS: the account-level batch endpoint */
			struct arc_buf u = { 0 };

			arc_buf_printf(&u, "%s/?comp=batch&%s", a->endpoint,
			    a->sas);
			arc_http_req_init(&r, "POST", arc_estrdup(u.s));
			arc_http_add_header(&r, "x-ms-date: %s", date);
			arc_http_add_header(&r, "x-ms-version: %s",
			    XMS_VERSION);
			arc_http_add_header(&r, "Content-Type: %s", ct.s);
			arc_azcred_ca(&r);
			arc_buf_free(&u);
		}
		r.body = body.s;
		r.bodylen = body.len;
		ok = 0;
		if (arc_http_perform(a->os.http, &r) == 0 && r.status == 202 &&
		    arc_http_header(&r, "content-type", &rb) == 0 &&
		    (b = strstr(rb.s, "boundary=")) != NULL &&
		    read_batch(r.resp.s, r.resp.len, b + 9, items + start,
		    cnt) == 0)
			ok = 1;
		for (i = start; i < start + cnt; i++) {
			if (!ok) {	/* the whole group: blob by blob */
				items[i].removal = -1;
				items[i].err.len = 0;
			} else if (items[i].removal == -1) {
				items[i].removal = ARC_REMOVE_FAILED;
				arc_buf_adds(&items[i].err, "the batch answer "
				    "did not report this blob");
			}
		}
		arc_http_req_free(&r);
	}
	free(run);
	if (body.s != NULL)	/* it held the SAS or tokens */
		explicit_bzero(body.s, body.len);
	arc_buf_free(&body);
	arc_buf_free(&up);
	if (auth.s != NULL)
		explicit_bzero(auth.s, auth.len);
	arc_buf_free(&auth);
	arc_buf_free(&ct);
	arc_buf_free(&rb);
}

static const struct arc_objstore_ops az_osops = {
	.label = "Azure",
	.exists = "a blob exists there",
	.put_ok = 201,
	.delete_ok = 202,
	.oneline = 1,
	.request = object_request,
	.absent = absent,
	.batch = delete_batch,
	.codehdr = "x-ms-error-code",
	.redact = arc_azcred_redact,
};

const struct arc_store_ops arc_store_azure = {
	.scheme = "az",
	.open = az_open,
	.list = az_list,
	.stat = arc_os_stat,
	.remove = arc_os_remove,
	.stat_many = arc_os_stat_many,
	.remove_many = arc_os_remove_many,
	.get = arc_os_get,
	.put = arc_os_put,
	.close = az_close,
};
