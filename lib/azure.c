/*
 * azure.c - the Azure Blob store: az://CONTAINER[/PREFIX].
 *
 * Configured as the Azure tools are (account, key or SAS token, endpoint,
 * or else an Entra ID credential: see azcred.c).  Shared Key signatures
 * are HMAC-SHA256 (libcrypto) over the canonical string; a SAS token is
 * appended to each URL instead; a bearer token goes in a header.
 * Requests go through the object-store engine (objstore.c) as S3's do.
 * Secrets are never printed.
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
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "arc_priv.h"

#define XMS_VERSION	"2021-12-02"
#define PAGE_BLOBS	5000

static const char *const azns[] = { NULL };	/* answers carry none */

static const struct arc_objstore_ops az_osops;

struct az {
	struct arc_objstore os;		/* first: st->priv is both */
	struct arc_azconf c;		/* account, key, SAS, endpoint */
	int		 tokfailed;	/* said once that no token came */
	char		*container;
};

struct param {
	const char	*name;	/* lowercase */
	const char	*value;	/* decoded */
};

static void
az_free(struct az *a)
{
	arc_azconf_free(&a->c);
	free(a->container);
	arc_os_free(&a->os);
	free(a);
}

static int
az_open(struct arc_store *st, const char *rest)
{
	struct az *a = arc_ecalloc(1, sizeof(*a));
	int n;

	if ((n = arc_os_open(&a->os, &az_osops, st, rest)) == -1 ||
	    arc_azconf_open(&a->c) == -1) {
		az_free(a);
		return -1;
	}
	a->container = arc_estrndup(rest, (size_t)n);
	arc_os_opened(&a->os, st);
	return 0;
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
	const char *p = strstr(a->c.endpoint, "://") + 3;

	p = strchr(p, '/');
	if (p != NULL)
		arc_buf_adds(b, p);	/* path-style: /account */
	arc_buf_addc(b, '/');
	arc_buf_adds(b, a->container);
	if (path != NULL)
		arc_os_path(&a->os, b, path, n);
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
	arc_buf_printf(&s, "/%s%s", a->c.account, upath);
	for (i = 0; i < np; i++)
		arc_buf_printf(&s, "\n%s:%s", pv[i].name, pv[i].value);
	HMAC(EVP_sha256(), a->c.key.s, (int)a->c.key.len,
	    (unsigned char *)s.s, s.len, mac, &maclen);
	EVP_EncodeBlock(b64, mac, (int)maclen);
	out->len = 0;
	arc_buf_printf(out, "SharedKey %s:%s", a->c.account, b64);
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

	if ((t = arc_azcred_token(a->c.cred, &eb)) != NULL)
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
	arc_buf_add(&u, a->c.endpoint, strcspn(a->c.endpoint + 8, "/") + 8);
	arc_buf_adds(&u, up.s);
	for (i = 0; i < np; i++) {
		arc_buf_addc(&u, i ? '&' : '?');
		arc_buf_adds(&u, pv[i].name);
		arc_buf_addc(&u, '=');
		arc_http_escape(&u, pv[i].value, strlen(pv[i].value), 0);
	}
	if (a->c.key.len == 0 && a->c.sas != NULL) {
		arc_buf_addc(&u, np ? '&' : '?');
		arc_buf_adds(&u, a->c.sas);
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
	if (a->c.key.len > 0) {
		sign(a, &auth, method, up.s, pv, np, date, clen, ctype, md5,
		    ifmatch, blockblob ? "*" : NULL, blockblob, 1);
		arc_http_add_header(r, "Authorization: %s", auth.s);
		explicit_bzero(auth.s, auth.len);
	} else if (a->c.cred != NULL && (tok = token(a)) != NULL)
		arc_http_add_header(r, "Authorization: Bearer %s", tok);
	arc_azcred_ca(r);
	arc_buf_free(&u);
	arc_buf_free(&up);
	arc_buf_free(&auth);
}

/* ---- listing ---------------------------------------------------------- */

static const struct arc_ospaths az_page = {
	.ns = azns, .root = "EnumerationResults",
	.answer = "not a List Blobs answer",
	.object = "/Blobs/Blob", .key = "/Blobs/Blob/Name",
	.mtime = "/Blobs/Blob/Properties/Last-Modified",
	.size = "/Blobs/Blob/Properties/Content-Length",
	.dir = "/Blobs/BlobPrefix/Name",
	.token = "/NextMarker", .marker = "marker",
	.stuck = "a name that does not advance (the server ignored the marker)",
};

static void
list_request(struct arc_objstore *os, struct arc_plister *l,
    struct arc_http_req *r)
{
	struct az *a = (struct az *)os;
	struct param pv[6];
	size_t np = 0;
	char max[16];

	snprintf(max, sizeof(max), "%d", arc_list_page_keys(PAGE_BLOBS));
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

/* A delimiter listing splits: each prefix gets a lister of its own. */
static const struct arc_oslisting list_blobs = {
	.paths = &az_page,
	.request = list_request,
	.dir = arc_os_dir,
};

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
	int jobs;

	if ((jobs = arc_os_list_start(st, &pg, prefixes, np, flags, fn,
	    arg)) == -1)
		return ARC_EXIT_ERROR;
	if (np == 0) {
		l = arc_pager_prefix(&pg, a->os.prefix, a->os.prefixlen,
		    a->os.prefixlen);
		l->delimiter = l->delimiter || jobs > 1;
	}
	return arc_os_list_run(&a->os, &pg, &list_blobs, jobs);
}

/* ---- objects ---------------------------------------------------------- */

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

/* The multipart body of a Blob Batch: a DELETE for each item. */
static void
batch_body(struct az *a, struct arc_buf *body, struct arc_sitem *items,
    size_t n, const char *run, const char *date, const char *tok,
    const char *sas)
{
	struct arc_buf up = { 0 }, auth = { 0 };
	size_t i;

	for (i = 0; i < n; i++) {
		items[i].removal = ARC_OS_PENDING;
		up.len = 0;
		url_path(a, &up, items[i].path, items[i].pathlen);
		arc_buf_printf(body, "--batch_%s\r\n"
		    "Content-Type: application/http\r\n"
		    "Content-Transfer-Encoding: binary\r\n"
		    "Content-ID: %zu\r\n\r\n"
		    "DELETE %s%s%s HTTP/1.1\r\n"
		    "x-ms-date: %s\r\n", run, i, up.s,
		    sas ? "?" : "", sas ? sas : "", date);
		if (items[i].if_match != NULL)
			arc_buf_printf(body, "If-Match: %s\r\n",
			    items[i].if_match);
		if (a->c.key.len > 0) {
			sign(a, &auth, "DELETE", up.s, NULL, 0, date, 0,
			    NULL, NULL, items[i].if_match, NULL, 0, 0);
			arc_buf_printf(body, "Authorization: %s\r\n", auth.s);
		} else if (tok != NULL)
			arc_buf_printf(body, "Authorization: Bearer %s\r\n",
			    tok);
		arc_buf_adds(body, "Content-Length: 0\r\n\r\n");
	}
	arc_buf_printf(body, "--batch_%s--\r\n", run);
	if (auth.s != NULL)
		explicit_bzero(auth.s, auth.len);
	arc_buf_free(&auth);
	arc_buf_free(&up);
}

/*
 * A Blob Batch of up to 256 deletes, each sub-request authorized on its
 * own (signed, or carrying the bearer token or the SAS token); each
 * sub-response read.  The batch endpoint is the container's, except for
 * an account SAS (the account's) and a SAS for less than a container (a
 * blob), which cannot authorize a batch at all: single deletes then, as
 * for a batch of one.
 */
static int
delete_batch(struct arc_objstore *os, struct arc_sitem *items, size_t n)
{
	struct az *a = (struct az *)os;
	struct arc_http_req r;
	struct arc_buf body = { 0 }, ct = { 0 }, rb = { 0 }, u = { 0 };
	struct param pv[2] = {
		{ "restype", "container" }, { "comp", "batch" }
	};
	char date[64], *run;
	const char *b, *tok = NULL, *sas;
	int ret = -1;

	sas = a->c.key.len == 0 && a->c.sas != NULL ? a->c.sas : NULL;
	if (n < 2 || (sas != NULL && a->c.sasscope == ARC_SAS_OTHER) ||
	    (a->c.cred != NULL && (tok = token(a)) == NULL))
		return 1;
	run = arc_run_id();
	rfc1123(date, sizeof(date));
	batch_body(a, &body, items, n, run, date, tok, sas);
	arc_buf_printf(&ct, "multipart/mixed; boundary=batch_%s", run);
	if (sas == NULL || a->c.sasscope == ARC_SAS_CONTAINER)
		request(a, &r, "POST", NULL, 0, pv, 2, (long long)body.len,
		    ct.s, NULL, NULL, 0);
	else {
		/* an account SAS: the account-level batch endpoint */
		arc_buf_printf(&u, "%s/?comp=batch&%s", a->c.endpoint, sas);
		arc_http_req_init(&r, "POST", arc_estrdup(u.s));
		arc_http_add_header(&r, "x-ms-date: %s", date);
		arc_http_add_header(&r, "x-ms-version: %s", XMS_VERSION);
		arc_http_add_header(&r, "Content-Type: %s", ct.s);
		arc_azcred_ca(&r);
	}
	r.klass = ARC_REQ_BATCH;
	r.body = body.s;
	r.bodylen = body.len;
	if (arc_http_perform(os->http, &r) == 0 && r.status == 202 &&
	    arc_http_header(&r, "content-type", &rb) == 0 &&
	    (b = strstr(rb.s, "boundary=")) != NULL &&
	    read_batch(r.resp.s, r.resp.len, b + 9, items, n) == 0)
		ret = 0;
	arc_http_req_free(&r);
	free(run);
	explicit_bzero(body.s, body.len);	/* it held the SAS or tokens */
	arc_buf_free(&body);
	if (u.s != NULL)
		explicit_bzero(u.s, u.len);
	arc_buf_free(&u);
	arc_buf_free(&ct);
	arc_buf_free(&rb);
	return ret;
}

/*
 * For the estimate: whether delete_batch would send these items as one
 * batch (all of them) or none (-1), as it chooses; a token it would
 * fetch is taken to come.
 */
static long
batch_keys(struct arc_objstore *os, const struct arc_sitem *items, size_t n)
{
	struct az *a = (struct az *)os;

	(void)items;
	if (n < 2 || (a->c.key.len == 0 && a->c.sas != NULL &&
	    a->c.sasscope == ARC_SAS_OTHER))
		return -1;
	return (long)n;
}

/*
 * Azure says its error code in a header of every answer: only a 404
 * BlobNotFound is absent (ContainerNotFound, or a 404 without a code from
 * a proxy or a wrong endpoint, is an error), and no container probe is
 * needed.  Messages are cut at their first line (Azure adds a request id
 * and a time) and never show a SAS.
 */
static const struct arc_objstore_ops az_osops = {
	.scheme = "az", .container = "container",
	.chars = "abcdefghijklmnopqrstuvwxyz0123456789-",
	.label = "Azure", .oneline = 1, .redact = arc_azcred_redact,
	.codehdr = "x-ms-error-code", .nokey = "BlobNotFound",
	.request = object_request,
	.put_ok = 201, .exists = "a blob exists there",
	.delete_ok = 202,
	.batch = delete_batch, .batch_max = 256, .batch_keys = batch_keys,
	.unreported = "the batch answer did not report this blob",
};

const struct arc_store_ops arc_store_azure = ARC_OS_STORE("az", az_open,
    az_list, az_close);
