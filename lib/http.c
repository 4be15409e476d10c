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

#include "arc.h"

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
};

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
	return h;
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
}

void
arc_http_req_free(struct arc_http_req *r)
{
	free(r->url);
	curl_slist_free_all(r->headers);
	arc_buf_free(&r->resp);
	arc_buf_free(&r->rhdr);
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

static void
setup(struct arc_http *h, CURL *e, struct arc_http_req *r)
{
	curl_easy_reset(e);
	r->resp.len = 0;
	r->rhdr.len = 0;
	r->err[0] = '\0';
	r->status = 0;
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
	if (r->cainfo != NULL)
		curl_easy_setopt(e, CURLOPT_CAINFO, r->cainfo);
	if (r->sigv4 != NULL) {
		curl_easy_setopt(e, CURLOPT_AWS_SIGV4, r->sigv4);
		curl_easy_setopt(e, CURLOPT_USERPWD, r->userpwd);
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
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->headers);
}

static int
retryable(CURLcode cc, long status)
{
	if (cc != CURLE_OK)
		return cc != CURLE_WRITE_ERROR && cc != CURLE_READ_ERROR &&
		    cc != CURLE_ABORTED_BY_CALLBACK && cc != CURLE_URL_MALFORMAT &&
		    cc != CURLE_UNSUPPORTED_PROTOCOL &&
		    cc != CURLE_PEER_FAILED_VERIFICATION &&
		    cc != CURLE_SSL_CACERT_BADFILE;
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

static void
finish(struct arc_http_req *r, CURL *e, CURLcode cc)
{
	r->cc = cc;
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &r->status);
	if (cc != CURLE_OK) {
		r->status = 0;
		if (r->err[0] == '\0')
			snprintf(r->err, sizeof(r->err), "%s",
			    curl_easy_strerror(cc));
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
		finish(r, h->easy, curl_easy_perform(h->easy));
		if (!retryable(r->cc, r->status) || r->attempts >= h->attempts)
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
			finish(r, m->easy_handle, m->data.result);
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
			if (retryable(r->cc, r->status) &&
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

/* A one-line description of a failed answer, for messages. */
void
arc_http_describe(const struct arc_http_req *r, struct arc_buf *out)
{
	out->len = 0;
	if (r->status == 0)
		arc_buf_printf(out, "%s (after %d attempts)", r->err,
		    r->attempts);
	else
		arc_buf_printf(out, "HTTP %ld", r->status);
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
