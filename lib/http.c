/*
 * http.c - the one HTTP layer and the one retry policy, on libcurl.
 *
 * Every request of every backend goes through here.  A request is
 * retried on connection errors, timeouts, 429, 500, 502, 503 and 504,
 * with exponential backoff and full jitter, a bounded number of attempts
 * and a per-request timeout.  Many requests run at once on the multi
 * interface; a burst of 503/429 answers halves the number in flight and
 * successes raise it again one by one (additive increase, multiplicative
 * decrease), so a throttling server is slowed down to, not hammered.
 *
 * Knobs (environment, for operators and tests): ARC_HTTP_ATTEMPTS
 * (default 5), ARC_HTTP_TIMEOUT (seconds per attempt, default 60),
 * ARC_HTTP_BACKOFF_MS (first backoff ceiling, default 200).
 *
 * TLS and proxies, for every backend alike: the CA is the backend's own
 * (AWS_CA_BUNDLE, ETCDCTL_CACERT) when it names one, else SSL_CERT_FILE
 * and SSL_CERT_DIR, else libcurl's default; the proxy is https_proxy or
 * HTTPS_PROXY for https URLs, http_proxy or HTTP_PROXY for http ones
 * (libcurl alone ignores the upper-case HTTP_PROXY), else all_proxy or
 * ALL_PROXY, except for the hosts in no_proxy or NO_PROXY.  A TLS
 * verification failure is a configuration error, never retried: it sets
 * arc_config_error, which makes every tool exit 2.
 */
#include <err.h>
#include <errno.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/ssl.h>

#include "arc_priv.h"

#define RESPONSE_MAX	(64 * 1024 * 1024)
#define BACKOFF_CAP_MS	10000

struct arc_http {
	CURLM	*multi;
	CURL	*easy;		/* for single requests: keeps its connection */
	CURL	**pool;		/* for many at once */
	size_t	 npool;
	long	 attempts;
	long	 timeout_ms;
	long	 backoff_ms;
	char	*cafile;	/* SSL_CERT_FILE, or NULL */
	char	*cadir;		/* SSL_CERT_DIR, or NULL */
	char	*proxy_http;	/* "" for none: libcurl reads no variable */
	char	*proxy_https;
	char	*noproxy;	/* or NULL */
};

/*
 * A TLS or credential refusal happened: the run's configuration is
 * wrong, and each tool exits 2 however the failure reached it.
 */
int	arc_config_error;

/* A server asked for a client certificate and none was set. */
static volatile int cert_asked;

static long
env_long(const char *name, long def, long min, long max)
{
	const char *s = getenv(name);
	long long v;

	if (s == NULL || *s == '\0')
		return def;
	if (arc_parse_count(s, min, max, &v) == -1) {
		warnx("'%s': invalid %s; using %ld", s, name, def);
		return def;
	}
	return (long)v;
}

/* A copy of the first of two variables that is set and not empty. */
static char *
env_dup(const char *name, const char *alt)
{
	const char *v = getenv(name);

	if ((v == NULL || *v == '\0') && alt != NULL)
		v = getenv(alt);
	return v != NULL && *v != '\0' ? arc_estrdup(v) : NULL;
}

struct arc_http *
arc_http_new(void)
{
	static int inited;
	struct arc_http *h;

	if (!inited) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			errx(arc_errstatus, "curl_global_init failed");
#if defined(M_MMAP_THRESHOLD) && defined(M_TRIM_THRESHOLD)
		/*
		 * Answers of a few hundred KiB (a listing page, and the XML
		 * parser's copy of it) are allocated and freed by the
		 * thousand: keep them in the heap, rather than mmap'd or
		 * trimmed away and page-faulted in again for every answer,
		 * which cost a third of a listing's CPU.  Peak memory is the
		 * same.
		 */
		mallopt(M_MMAP_THRESHOLD, 4 * 1024 * 1024);
		mallopt(M_TRIM_THRESHOLD, 16 * 1024 * 1024);
#endif
		inited = 1;
	}
	h = arc_ecalloc(1, sizeof(*h));
	if ((h->multi = curl_multi_init()) == NULL ||
	    (h->easy = curl_easy_init()) == NULL)
		errx(arc_errstatus, "cannot initialise libcurl");
	h->attempts = env_long("ARC_HTTP_ATTEMPTS", 5, 1, 100);
	h->timeout_ms = env_long("ARC_HTTP_TIMEOUT", 60, 1, 86400) * 1000;
	h->backoff_ms = env_long("ARC_HTTP_BACKOFF_MS", 200, 0, 600000);
	h->cafile = env_dup("SSL_CERT_FILE", NULL);
	h->cadir = env_dup("SSL_CERT_DIR", NULL);
	h->proxy_http = env_dup("http_proxy", "HTTP_PROXY");
	h->proxy_https = env_dup("https_proxy", "HTTPS_PROXY");
	if (h->proxy_http == NULL)
		h->proxy_http = env_dup("all_proxy", "ALL_PROXY");
	if (h->proxy_https == NULL)
		h->proxy_https = env_dup("all_proxy", "ALL_PROXY");
	if (h->proxy_http == NULL)
		h->proxy_http = arc_estrdup("");
	if (h->proxy_https == NULL)
		h->proxy_https = arc_estrdup("");
	h->noproxy = env_dup("no_proxy", "NO_PROXY");
	return h;
}

/* Attempts and per-attempt timeout for h (instance metadata's: 2, 1 s). */
void
arc_http_limits(struct arc_http *h, long attempts, long timeout_ms)
{
	h->attempts = attempts;
	h->timeout_ms = timeout_ms;
}

void
arc_http_free(struct arc_http *h)
{
	size_t i;

	if (h == NULL)
		return;
	for (i = 0; i < h->npool; i++)
		curl_easy_cleanup(h->pool[i]);
	free(h->pool);
	curl_easy_cleanup(h->easy);
	curl_multi_cleanup(h->multi);
	free(h->cafile);
	free(h->cadir);
	free(h->proxy_http);
	free(h->proxy_https);
	free(h->noproxy);
	free(h);
}

void
arc_http_req_init(struct arc_http_req *r, const char *method, char *url)
{
	memset(r, 0, sizeof(*r));
	r->method = method;
	r->url = url;
	r->infd = -1;
	r->outfd = -1;
	r->klass = strcmp(method, "GET") == 0 ? ARC_REQ_GET :
	    strcmp(method, "HEAD") == 0 ? ARC_REQ_HEAD :
	    strcmp(method, "PUT") == 0 ? ARC_REQ_PUT :
	    strcmp(method, "DELETE") == 0 ? ARC_REQ_DELETE : ARC_REQ_OTHER;
}

/* The headers sent with a session token: zeroed, then freed. */
static void
free_signed(struct arc_http_req *r)
{
	struct curl_slist *l;

	for (l = r->signedhdr; l != NULL; l = l->next)
		explicit_bzero(l->data, strlen(l->data));
	curl_slist_free_all(r->signedhdr);
	r->signedhdr = NULL;
}

void
arc_http_req_free(struct arc_http_req *r)
{
	free(r->url);
	curl_slist_free_all(r->headers);
	arc_buf_free(&r->resp);
	arc_buf_free(&r->rhdr);
	free_signed(r);
	r->url = NULL;
	r->headers = NULL;
}

void
arc_http_add_header(struct arc_http_req *r, const char *fmt, ...)
{
	struct curl_slist *l;
	char *s;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		err(arc_errstatus, "vasprintf");
	if ((l = curl_slist_append(r->headers, s)) == NULL)
		errx(arc_errstatus, "curl_slist_append failed");
	r->headers = l;
	free(s);
}

/* The value of response header name (case-insensitive); 0 when found. */
int
arc_http_header(const struct arc_http_req *r, const char *name,
    struct arc_buf *out)
{
	const char *p = r->rhdr.s, *end, *colon;
	size_t n = strlen(name);

	out->len = 0;
	for (; p != NULL && *p; p = end ? end + 1 : NULL) {
		end = strchr(p, '\n');
		colon = memchr(p, ':', end ? (size_t)(end - p) : strlen(p));
		if (colon == NULL || (size_t)(colon - p) != n ||
		    strncasecmp(p, name, n) != 0)
			continue;
		for (colon++; *colon == ' ' || *colon == '\t'; colon++)
			;
		arc_buf_add(out, colon, (size_t)((end ? end : colon +
		    strlen(colon)) - colon));
		while (out->len > 0 && (out->s[out->len - 1] == '\r' ||
		    out->s[out->len - 1] == ' '))
			out->s[--out->len] = '\0';
		arc_buf_str(out);
		return 0;
	}
	return -1;
}

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
	struct arc_http_req *r = arg;

	n *= size;
	if (r->outfd != -1)
		return arc_write_full(r->outfd, p, n) == -1 ? 0 : n;
	if (r->resp.len + n > RESPONSE_MAX)
		return 0;	/* a response this large is not an answer */
	arc_buf_add(&r->resp, p, n);
	return n;
}

static size_t
on_header(char *p, size_t size, size_t n, void *arg)
{
	struct arc_http_req *r = arg;

	n *= size;
	/* a new status line (a retry, or 100 Continue): start over */
	if (n >= 5 && memcmp(p, "HTTP/", 5) == 0)
		r->rhdr.len = 0;
	arc_buf_add(&r->rhdr, p, n);
	return n;
}

static size_t
on_read(char *p, size_t size, size_t n, void *arg)
{
	struct arc_http_req *r = arg;
	ssize_t k;

	do
		k = read(r->infd, p, size * n);
	while (k == -1 && errno == EINTR);
	return k < 0 ? CURL_READFUNC_ABORT : (size_t)k;
}

/*
 * OpenSSL asks this when a server wants a client certificate and none is
 * set.  Under TLS 1.3 the server's refusal then comes after the
 * handshake, as a reset or a bare alert that looks like a network fault:
 * remember the question so that the failure is named for what it is.
 */
static int
on_cert_request(SSL *ssl, X509 **x509, EVP_PKEY **pkey)
{
	(void)ssl;
	(void)x509;
	(void)pkey;
	cert_asked = 1;
	return 0;	/* no certificate: let the server decide */
}

static CURLcode
on_ssl_ctx(CURL *e, void *ctx, void *arg)
{
	(void)e;
	(void)arg;
	SSL_CTX_set_client_cert_cb(ctx, on_cert_request);
	return CURLE_OK;
}

/* CA, client certificate and proxy: the same for every backend. */
static void
setup_tls(struct arc_http *h, CURL *e, struct arc_http_req *r)
{
	int https = strncasecmp(r->url, "https:", 6) == 0;

	if (r->cainfo != NULL || r->capath != NULL) {
		/* the backend's own CA, alone, as its own tools take it */
		if (r->cainfo != NULL)
			curl_easy_setopt(e, CURLOPT_CAINFO, r->cainfo);
		curl_easy_setopt(e, CURLOPT_CAPATH, r->capath);
	} else if (h->cafile != NULL || h->cadir != NULL) {
		curl_easy_setopt(e, CURLOPT_CAINFO, h->cafile);
		curl_easy_setopt(e, CURLOPT_CAPATH, h->cadir);
	}
	if (r->sslcert != NULL) {
		curl_easy_setopt(e, CURLOPT_SSLCERT, r->sslcert);
		curl_easy_setopt(e, CURLOPT_SSLKEY, r->sslkey);
	} else if (https)
		curl_easy_setopt(e, CURLOPT_SSL_CTX_FUNCTION, on_ssl_ctx);
	curl_easy_setopt(e, CURLOPT_PROXY, https ? h->proxy_https :
	    h->proxy_http);
	if (h->noproxy != NULL)
		curl_easy_setopt(e, CURLOPT_NOPROXY, h->noproxy);
}

static void
append(struct curl_slist **lp, const char *a, const char *b)
{
	struct curl_slist *l;
	char *s;

	if (asprintf(&s, "%s%s", a, b) == -1)
		err(arc_errstatus, "asprintf");
	if ((l = curl_slist_append(*lp, s)) == NULL)
		errx(arc_errstatus, "curl_slist_append failed");
	*lp = l;
	explicit_bzero(s, strlen(s));
	free(s);
}

static void
setup(struct arc_http *h, CURL *e, struct arc_http_req *r)
{
	struct curl_slist *hdr = r->headers, *l;
	const char *id, *secret, *token;

	curl_easy_reset(e);
	r->resp.len = 0;
	r->rhdr.len = 0;
	r->err[0] = '\0';
	r->status = 0;
	r->misconf = 0;
	if (r->outfd != -1) {
		if (ftruncate(r->outfd, 0) == -1 ||
		    lseek(r->outfd, 0, SEEK_SET) == -1)
			warn("cannot rewind a download");
	}
	curl_easy_setopt(e, CURLOPT_URL, r->url);
	/*
	 * The URL goes out byte for byte as built and signed: libcurl would
	 * otherwise remove "." and ".." segments, so that a request signed
	 * for one object (or bucket) could reach another.
	 */
	curl_easy_setopt(e, CURLOPT_PATH_AS_IS, 1L);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, h->timeout_ms);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
	    h->timeout_ms < 10000 ? h->timeout_ms : 10000L);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->err);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(e, CURLOPT_PRIVATE, r);
	setup_tls(h, e, r);
	if (r->sigv4 != NULL && r->cred != NULL) {
		/*
		 * The credentials of this attempt, fetched again when they are
		 * about to expire; the key id and secret apart, since a key id
		 * may hold a ':' (Swift's account:user).
		 */
		r->keys(r->cred, &id, &secret, &token);
		curl_easy_setopt(e, CURLOPT_AWS_SIGV4, r->sigv4);
		curl_easy_setopt(e, CURLOPT_USERNAME, id);
		curl_easy_setopt(e, CURLOPT_PASSWORD, secret);
		free_signed(r);
		if (token != NULL) {
			for (l = r->headers; l != NULL; l = l->next)
				append(&r->signedhdr, l->data, "");
			append(&r->signedhdr, "x-amz-security-token: ", token);
			hdr = r->signedhdr;
		}
	}
	if (strcmp(r->method, "HEAD") == 0)
		curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
	else if (r->infd != -1) {
		if (lseek(r->infd, 0, SEEK_SET) == -1)
			warn("cannot rewind an upload");
		curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(e, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(e, CURLOPT_READDATA, r);
		curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE,
		    (curl_off_t)r->inlen);
		if (strcmp(r->method, "PUT") != 0)
			curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r->method);
	} else if (r->body != NULL || strcmp(r->method, "POST") == 0) {
		curl_easy_setopt(e, CURLOPT_POST, 1L);
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->body ? r->body : "");
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)r->bodylen);
		if (strcmp(r->method, "POST") != 0)
			curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r->method);
	} else if (strcmp(r->method, "GET") != 0)
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r->method);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, hdr);
}

/*
 * Whether a failed attempt was refused by TLS: a certificate that does
 * not verify, a CA or client certificate file that cannot be used, a
 * server that speaks no TLS or wants a client certificate.  Settings,
 * not the network: retrying cannot help.
 */
static int
tls_refused(const struct arc_http_req *r)
{
	switch (r->cc) {
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ENGINE_SETFAILED:
	case CURLE_SSL_ENGINE_INITFAILED:
		return 1;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
		/* a TLS alert from the server, or a reset after it asked for
		 * the client certificate we do not have */
		return strncasecmp(r->url, "https:", 6) == 0 &&
		    (strstr(r->err, " alert ") != NULL ||
		    strstr(r->err, "wrong version number") != NULL ||
		    cert_asked);
	default:
		return 0;
	}
}

/* Whether the request failed on a TLS setting (the run exits 2). */
int
arc_http_misconfigured(const struct arc_http_req *r)
{
	return r->status == 0 && r->misconf;
}

static int
retryable(const struct arc_http_req *r)
{
	CURLcode cc = r->cc;
	long status = r->status;

	if (cc != CURLE_OK)
		return cc != CURLE_WRITE_ERROR && cc != CURLE_READ_ERROR &&
		    cc != CURLE_ABORTED_BY_CALLBACK && cc != CURLE_URL_MALFORMAT &&
		    cc != CURLE_UNSUPPORTED_PROTOCOL && !r->misconf;
	return status == 429 || status == 500 || status == 502 ||
	    status == 503 || status == 504;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Full jitter: a uniform wait in [0, min(cap, base * 2^attempt)). */
static long
backoff(struct arc_http *h, int attempt)
{
	long ceil = h->backoff_ms;
	int i;

	for (i = 1; i < attempt && ceil < BACKOFF_CAP_MS; i++)
		ceil *= 2;
	if (ceil > BACKOFF_CAP_MS)
		ceil = BACKOFF_CAP_MS;
	return ceil > 0 ? random() % ceil : 0;
}

/* The host:port of a URL, for messages (no user, path or query). */
static void
url_host(const char *url, char *out, size_t size)
{
	const char *p, *end, *at;

	p = (p = strstr(url, "://")) != NULL ? p + 3 : url;
	end = p + strcspn(p, "/?#");
	if ((at = memchr(p, '@', (size_t)(end - p))) != NULL)
		p = at + 1;
	snprintf(out, size, "%.*s", (int)(end - p), p);
}

/*
 * A TLS refusal's message: the host, what went wrong, and the CA
 * settings that were tried, so that the fix is in the message.
 */
static void
tls_message(struct arc_http *h, struct arc_http_req *r)
{
	struct arc_buf b = { 0 };
	char host[128];
	size_t n;

	url_host(r->url, host, sizeof(host));
	if (r->cc != CURLE_PEER_FAILED_VERIFICATION &&
	    r->cc != CURLE_SSL_CACERT_BADFILE && r->sslcert == NULL &&
	    cert_asked)
		arc_buf_printf(&b, "TLS with %s refused: the server wants a "
		    "client certificate and none is set", host);
	else {
		arc_buf_printf(&b, "TLS with %s failed (", host);
		if (r->cainfo != NULL)
			arc_buf_printf(&b, "CA %s=%s", r->cavar ? r->cavar :
			    "file", r->cainfo);
		else if (h->cafile != NULL || h->cadir != NULL)
			arc_buf_printf(&b, "CA SSL_CERT_FILE=%s SSL_CERT_DIR=%s",
			    h->cafile ? h->cafile : "(unset)",
			    h->cadir ? h->cadir : "(unset)");
		else
			arc_buf_printf(&b, "the system's CAs: %s%sSSL_CERT_FILE "
			    "and SSL_CERT_DIR unset", r->cavar ? r->cavar : "",
			    r->cavar ? ", " : "");
		arc_buf_adds(&b, ")");
	}
	arc_buf_printf(&b, ": %s", r->err[0] ? r->err :
	    curl_easy_strerror((CURLcode)r->cc));
	n = b.len < sizeof(r->err) - 1 ? b.len : sizeof(r->err) - 1;
	memcpy(r->err, b.s, n);
	r->err[n] = '\0';
	arc_buf_free(&b);
}

static void
finish(struct arc_http *h, struct arc_http_req *r, CURL *e, CURLcode cc)
{
	curl_off_t us = 0;

	/* every attempt is a request (a retry is billed too) */
	curl_easy_getinfo(e, CURLINFO_TOTAL_TIME_T, &us);
	arc_requests_made(r->klass, r->attempts > 1, (double)us / 1e6);
	r->cc = cc;
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &r->status);
	if (cc != CURLE_OK) {
		r->status = 0;
		if (r->err[0] == '\0')
			snprintf(r->err, sizeof(r->err), "%s",
			    curl_easy_strerror(cc));
		/* curl's own message may be long; keep it on one line */
		r->err[strcspn(r->err, "\r\n")] = '\0';
		if ((r->misconf = tls_refused(r))) {
			arc_config_error = 1;
			tls_message(h, r);
		}
	}
	arc_buf_str(&r->resp);
	arc_buf_str(&r->rhdr);
}

/*
 * Perform one request, retrying per the policy.  Returns 0 when an HTTP
 * answer arrived (look at r->status), -1 when none did (r->err says why).
 */
int
arc_http_perform(struct arc_http *h, struct arc_http_req *r)
{
	struct timespec ts;
	long w;

	for (r->attempts = 1; ; r->attempts++) {
		setup(h, h->easy, r);
		finish(h, r, h->easy, curl_easy_perform(h->easy));
		if (!retryable(r) || r->attempts >= h->attempts)
			break;
		w = backoff(h, r->attempts);
		ts.tv_sec = w / 1000;
		ts.tv_nsec = (w % 1000) * 1000000;
		nanosleep(&ts, NULL);
	}
	return r->cc == CURLE_OK ? 0 : -1;
}

/*
 * The engine under arc_http_perform_many, for callers whose next
 * requests depend on earlier answers (a paged listing: the next page of
 * a prefix needs the token of the last one).  Starts requests taken from
 * next() while fewer than the limit are in flight; next() returns NULL
 * when it has nothing to start now.  Each request, once finished (after
 * its retries), goes to done() (when not NULL), which may give next()
 * more to return.  Ends when nothing is in flight or waiting for a retry
 * and next() has nothing.  Every finished request has r->status set (0:
 * no HTTP answer, r->err says why).  Declared where it is used (pager.c)
 * until arc.h has it.
 */
void	arc_http_perform_each(struct arc_http *, int,
	    struct arc_http_req *(*)(void *),
	    void (*)(void *, struct arc_http_req *), void *);

void
arc_http_perform_each(struct arc_http *h, int parallel,
    struct arc_http_req *(*next)(void *),
    void (*done)(void *, struct arc_http_req *), void *arg)
{
	struct arc_http_req **waiting = NULL;
	size_t i, nwait = 0, capwait = 0;
	int limit, running = 0, still, msgs, ok_streak = 0, slot, dry = 0;
	CURL **busy;
	CURLMsg *m;
	int64_t t, soonest;

	if (parallel < 1)
		parallel = 1;
	limit = parallel;
	if (h->npool < (size_t)parallel) {
		h->pool = arc_ereallocarray(h->pool, (size_t)parallel,
		    sizeof(*h->pool));
		for (; h->npool < (size_t)parallel; h->npool++)
			if ((h->pool[h->npool] = curl_easy_init()) == NULL)
				errx(arc_errstatus, "curl_easy_init failed");
	}
	busy = arc_ecalloc((size_t)parallel, sizeof(*busy));

	for (;;) {
		/* start what the limit allows: retries due first, then new */
		t = now_ms();
		while (running < limit) {
			struct arc_http_req *r = NULL;

			for (i = 0; i < nwait; i++)
				if (waiting[i]->next_ms <= t) {
					r = waiting[i];
					waiting[i] = waiting[--nwait];
					break;
				}
			if (r == NULL && !dry) {
				if ((r = next(arg)) == NULL)
					dry = 1;	/* until a request finishes */
				else
					r->attempts = 0;
			}
			if (r == NULL)
				break;
			for (slot = 0; busy[slot] != NULL; slot++)
				;
			busy[slot] = h->pool[slot];
			r->slot = slot;
			r->attempts++;
			setup(h, busy[slot], r);
			curl_multi_add_handle(h->multi, busy[slot]);
			running++;
		}
		if (running == 0 && nwait == 0)
			break;		/* and next() has nothing */
		/* wait for activity, or for the next retry to fall due */
		soonest = 1000;
		for (i = 0; i < nwait; i++)
			if (waiting[i]->next_ms - t < soonest)
				soonest = waiting[i]->next_ms - t;
		if (soonest < 0)
			soonest = 0;
		if (running > 0) {
			curl_multi_perform(h->multi, &still);
			/*
			 * Wait only when nothing finished in that perform: a
			 * transfer that just completed leaves libcurl no socket
			 * to wait on, and the poll would sleep its whole timeout
			 * (up to a second) before the answer is read and its
			 * slot refilled.
			 */
			if (still >= running) {
				curl_multi_poll(h->multi, NULL, 0, (int)soonest,
				    NULL);
				curl_multi_perform(h->multi, &still);
			}
		} else if (soonest > 0) {
			struct timespec ts = { soonest / 1000,
			    (soonest % 1000) * 1000000 };
			nanosleep(&ts, NULL);
		}
		while ((m = curl_multi_info_read(h->multi, &msgs)) != NULL) {
			struct arc_http_req *r;

			if (m->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE,
			    (char **)&r);
			finish(h, r, m->easy_handle, m->data.result);
			curl_multi_remove_handle(h->multi, m->easy_handle);
			busy[r->slot] = NULL;
			running--;
			if (r->status == 503 || r->status == 429) {
				/* the server asks for less: give it half */
				if (limit > 1)
					limit /= 2;
				ok_streak = 0;
			} else if (r->cc == CURLE_OK && ++ok_streak >= limit &&
			    limit < parallel) {
				limit++;
				ok_streak = 0;
			}
			if (retryable(r) &&
			    r->attempts < h->attempts) {
				r->next_ms = now_ms() + backoff(h, r->attempts);
				if (nwait == capwait) {
					capwait = capwait ? capwait * 2 : 16;
					waiting = arc_ereallocarray(waiting,
					    capwait, sizeof(*waiting));
				}
				waiting[nwait++] = r;
			} else {
				if (done != NULL)
					done(arg, r);
				dry = 0;	/* next() may have more now */
			}
		}
	}
	free(busy);
	free(waiting);
}

struct many {
	struct arc_http_req **reqs;
	size_t		 n, next;
};

static struct arc_http_req *
many_next(void *arg)
{
	struct many *m = arg;

	return m->next < m->n ? m->reqs[m->next++] : NULL;
}

/*
 * Perform n requests, at most parallel at once, each retried per the
 * policy, with adaptive concurrency.  Every request ends with r->status
 * set (0: no HTTP answer, r->err says why).
 */
void
arc_http_perform_many(struct arc_http *h, struct arc_http_req **reqs,
    size_t n, int parallel)
{
	struct many m = { reqs, n, 0 };

	if (n > 0)
		arc_http_perform_each(h, parallel, many_next, NULL, &m);
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Append s percent-encoded per RFC 3986 (everything but A-Z a-z 0-9
 * - . _ ~), keeping '/' when keep_slash: the canonical form SigV4 signs
 * verbatim and that every object store accepts.
 */
void
arc_http_escape(struct arc_buf *b, const char *s, size_t n, int keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";
	unsigned char c;
	size_t i;

	arc_buf_grow(b, n * 3);
	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
		    c == '~' || (keep_slash && c == '/'))
			arc_buf_addc(b, c);
		else {
			arc_buf_addc(b, '%');
			arc_buf_addc(b, hex[c >> 4]);
			arc_buf_addc(b, hex[c & 15]);
		}
	}
}

/*
 * Append the bytes of a percent-encoded string; with plus, '+' stands
 * for a space (form encoding, which S3's encoding-type=url answers use).
 * -1 on a malformed escape.
 */
int
arc_http_unescape(struct arc_buf *b, const char *s, size_t n, int plus)
{
	size_t i;
	int hi, lo;

	for (i = 0; i < n; i++) {
		if (s[i] == '+' && plus)
			arc_buf_addc(b, ' ');
		else if (s[i] != '%')
			arc_buf_addc(b, s[i]);
		else {
			if (i + 2 >= n)
				return -1;
			hi = hexval(s[i + 1]);
			lo = hexval(s[i + 2]);
			if (hi < 0 || lo < 0)
				return -1;
			arc_buf_addc(b, hi << 4 | lo);
			i += 2;
		}
	}
	arc_buf_str(b);
	return 0;
}
