/*
 * requests.c - the requests a run makes, by class, and what an act run
 * would make: the run record's "requests" and a dry run's "estimate"
 * (arc(7), REQUESTS AND ESTIMATE).
 *
 * Every attempt the one HTTP layer sends is counted here (a retry is a
 * request: it is billed), with its time; a dry run's arc-delete adds the
 * requests an act run would make on top of what the dry run made
 * (arc_requests_would, from the backends' cost functions).  At exit a
 * process appends one JSON line of its counts to the file named by
 * ARC_REQUESTS_FILE, in one write(2) with O_APPEND; arc-run sums the
 * lines of a run into its record and prices them from a price table:
 * built-in defaults for S3 Standard and Azure Blob Hot, or a file of
 * "class price-per-request" lines.
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <json-c/json.h>

#include "arc.h"

const char *const arc_req_names[ARC_REQ_NCLASSES] = {
	"list", "head", "get", "put", "delete", "batch", "range", "txn",
	"other"
};

static struct {
	uintmax_t	 n[ARC_REQ_NCLASSES];
	uintmax_t	 retries[ARC_REQ_NCLASSES];
	uintmax_t	 would[ARC_REQ_NCLASSES];
	double		 secs[ARC_REQ_NCLASSES];
} rq;
static pid_t owner;		/* the process whose atexit writes rq */
static pthread_mutex_t rq_lock = PTHREAD_MUTEX_INITIALIZER;

static json_object *
class_object(const uintmax_t *v)
{
	json_object *o = json_object_new_object();
	int c;

	for (c = 0; c < ARC_REQ_NCLASSES; c++)
		json_object_object_add(o, arc_req_names[c],
		    json_object_new_int64((int64_t)v[c]));
	return o;
}

/* At exit: this process's counts, one line appended in one write. */
static void
requests_flush(void)
{
	json_object *o, *s;
	const char *path, *line;
	char *buf;
	size_t len;
	ssize_t w;
	int c, fd;

	if (getpid() != owner || (path = getenv("ARC_REQUESTS_FILE")) == NULL ||
	    *path == '\0')
		return;
	o = json_object_new_object();
	json_object_object_add(o, "prog",
	    json_object_new_string(program_invocation_short_name));
	json_object_object_add(o, "requests", class_object(rq.n));
	json_object_object_add(o, "retries", class_object(rq.retries));
	s = json_object_new_object();
	for (c = 0; c < ARC_REQ_NCLASSES; c++)
		json_object_object_add(s, arc_req_names[c],
		    json_object_new_double(rq.secs[c]));
	json_object_object_add(o, "seconds", s);
	json_object_object_add(o, "would", class_object(rq.would));
	line = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	len = strlen(line);
	buf = arc_emalloc(len + 1);
	memcpy(buf, line, len);
	buf[len++] = '\n';
	json_object_put(o);
	if ((fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) == -1) {
		warn("cannot append the request counts to '%s'", path);
		free(buf);
		return;
	}
	if ((w = write(fd, buf, len)) != (ssize_t)len)
		warnx("cannot append the request counts to '%s': %s", path,
		    w == -1 ? strerror(errno) : "a short write");
	close(fd);
	free(buf);
}

static void
arm(void)
{
	if (owner == 0) {
		owner = getpid();
		atexit(requests_flush);
	}
}

/* One attempt sent (retry: not the request's first), and its time. */
void
arc_requests_made(int c, int retry, double secs)
{
	if (c < 0 || c >= ARC_REQ_NCLASSES)
		c = ARC_REQ_OTHER;
	pthread_mutex_lock(&rq_lock);
	arm();
	rq.n[c]++;
	if (retry)
		rq.retries[c]++;
	if (secs > 0)
		rq.secs[c] += secs;
	pthread_mutex_unlock(&rq_lock);
}

/* A dry run: n requests of class c that an act run would make besides. */
void
arc_requests_would(int c, uintmax_t n)
{
	if (n == 0)
		return;
	pthread_mutex_lock(&rq_lock);
	arm();
	rq.would[c] += n;
	pthread_mutex_unlock(&rq_lock);
}

/* ---- the price table -------------------------------------------------- */

/*
 * The built-in tables, in USD per request.  S3 Standard, us-east-1:
 * PUT, COPY, POST and LIST $0.005 per 1,000 (a DeleteObjects batch is a
 * POST); GET, HEAD and the others $0.0004 per 1,000; DELETE free.  Azure
 * Blob Hot, LRS, East US, per 10,000: write $0.065, list and create
 * container $0.065, read $0.005, all other (Get Blob Properties, Blob
 * Batch) $0.005; Delete Blob free.  etcd and Arc's API are the
 * operator's own servers: free.
 */
static const struct arc_prices builtin[] = {
	{ "s3-standard", {
	    [ARC_REQ_LIST] = 0.005 / 1000, [ARC_REQ_HEAD] = 0.0004 / 1000,
	    [ARC_REQ_GET] = 0.0004 / 1000, [ARC_REQ_PUT] = 0.005 / 1000,
	    [ARC_REQ_BATCH] = 0.005 / 1000 } },
	{ "azure-blob-hot", {
	    [ARC_REQ_LIST] = 0.065 / 10000, [ARC_REQ_HEAD] = 0.005 / 10000,
	    [ARC_REQ_GET] = 0.005 / 10000, [ARC_REQ_PUT] = 0.065 / 10000,
	    [ARC_REQ_BATCH] = 0.005 / 10000 } },
	{ "none", { 0 } },
};

static int
class_named(const char *s, size_t n)
{
	int c;

	for (c = 0; c < ARC_REQ_NCLASSES; c++)
		if (strlen(arc_req_names[c]) == n &&
		    strncasecmp(arc_req_names[c], s, n) == 0)
			return c;
	return -1;
}

/*
 * The price table: the file path when given (each line "class price",
 * the price in USD per request; '#' starts a comment; a class it does
 * not name is free), else the built-in one of store's kind.  0, or -1
 * after one line naming the file and the line.
 */
int
arc_prices_load(struct arc_prices *p, const char *path, const char *store)
{
	char *line = NULL, *s, *end, *cls;
	size_t cap = 0, n, lineno = 0;
	int c, ret = 0;
	double v;
	FILE *fp;

	if (path == NULL || *path == '\0') {
		*p = builtin[2];
		if (store != NULL && strncmp(store, "s3://", 5) == 0)
			*p = builtin[0];
		else if (store != NULL && strncmp(store, "az://", 5) == 0)
			*p = builtin[1];
		return 0;
	}
	memset(p, 0, sizeof(*p));
	p->name = path;
	if ((fp = fopen(path, "re")) == NULL) {
		warn("price table '%s'", path);
		return -1;
	}
	while (ret == 0 && getline(&line, &cap, fp) != -1) {
		lineno++;
		line[strcspn(line, "#\r\n")] = '\0';
		s = line + strspn(line, " \t");
		if (*s == '\0')
			continue;
		cls = s;
		n = strcspn(s, " \t");
		s += n;
		s += strspn(s, " \t");
		if ((c = class_named(cls, n)) == -1) {
			warnx("price table '%s' line %zu: '%.*s' is not a "
			    "request class (%s %s %s %s %s %s %s %s %s)", path,
			    lineno, (int)n, cls, arc_req_names[0],
			    arc_req_names[1], arc_req_names[2],
			    arc_req_names[3], arc_req_names[4],
			    arc_req_names[5], arc_req_names[6],
			    arc_req_names[7], arc_req_names[8]);
			ret = -1;
			break;
		}
		errno = 0;
		v = strtod(s, &end);
		if (end == s || errno != 0 || !(v >= 0 && v < 1e6) ||
		    end[strspn(end, " \t")] != '\0') {
			warnx("price table '%s' line %zu: the price of %s must "
			    "be a number of USD per request", path, lineno,
			    arc_req_names[c]);
			ret = -1;
			break;
		}
		p->p[c] = v;
	}
	if (ret == 0 && ferror(fp)) {
		warn("price table '%s'", path);
		ret = -1;
	}
	free(line);
	fclose(fp);
	return ret;
}

/* ---- the run record --------------------------------------------------- */

static void
add_classes(json_object *line, const char *key, uintmax_t *to)
{
	json_object *o, *v;
	int c;

	if (!json_object_object_get_ex(line, key, &o))
		return;
	for (c = 0; c < ARC_REQ_NCLASSES; c++)
		if (json_object_object_get_ex(o, arc_req_names[c], &v))
			to[c] += (uintmax_t)json_object_get_int64(v);
}

static json_object *
classes_json(const uintmax_t *v, uintmax_t *total)
{
	int c;

	*total = 0;
	for (c = 0; c < ARC_REQ_NCLASSES; c++)
		*total += v[c];
	return class_object(v);
}

/*
 * Add "requests" (and for a dry run "estimate") to rec from the lines of
 * file (absent: no stage made a request).  The estimate is what the dry
 * run made plus what an act run would make besides; its time is each
 * class's count at this run's mean seconds per request of that class,
 * or, for a class this run never sent, at its mean over all requests.
 */
void
arc_requests_record(json_object *rec, const char *file, int dry,
    const struct arc_prices *prices)
{
	uintmax_t n[ARC_REQ_NCLASSES] = { 0 }, re[ARC_REQ_NCLASSES] = { 0 };
	uintmax_t wo[ARC_REQ_NCLASSES] = { 0 }, est[ARC_REQ_NCLASSES];
	double secs[ARC_REQ_NCLASSES] = { 0 }, all = 0, mean, t = 0, usd = 0;
	uintmax_t total, rtotal, etotal;
	json_object *o, *line, *s, *v, *assumed;
	char *buf = NULL;
	size_t cap = 0;
	FILE *fp;
	int c;

	if (file != NULL && (fp = fopen(file, "re")) != NULL) {
		while (getline(&buf, &cap, fp) != -1) {
			if ((line = json_tokener_parse(buf)) == NULL)
				continue;
			add_classes(line, "requests", n);
			add_classes(line, "retries", re);
			add_classes(line, "would", wo);
			if (json_object_object_get_ex(line, "seconds", &s))
				for (c = 0; c < ARC_REQ_NCLASSES; c++)
					if (json_object_object_get_ex(s,
					    arc_req_names[c], &v))
						secs[c] += json_object_get_double(v);
			json_object_put(line);
		}
		fclose(fp);
		free(buf);
	}
	o = json_object_new_object();
	json_object_object_add(o, "by_class", classes_json(n, &total));
	json_object_object_add(o, "total", json_object_new_int64(
	    (int64_t)total));
	(void)classes_json(re, &rtotal);
	json_object_object_add(o, "retries", json_object_new_int64(
	    (int64_t)rtotal));
	for (c = 0; c < ARC_REQ_NCLASSES; c++)
		all += secs[c];
	json_object_object_add(o, "seconds", json_object_new_double(all));
	json_object_object_add(rec, "requests", o);
	if (!dry)
		return;
	assumed = json_object_new_array();
	for (c = 0; c < ARC_REQ_NCLASSES; c++) {
		est[c] = n[c] + wo[c];
		if (n[c] > 0)
			mean = secs[c] / (double)n[c];
		else {
			mean = total > 0 ? all / (double)total : 0;
			if (est[c] > 0)
				json_object_array_add(assumed,
				    json_object_new_string(arc_req_names[c]));
		}
		t += mean * (double)est[c];
		usd += prices->p[c] * (double)est[c];
	}
	o = json_object_new_object();
	json_object_object_add(o, "by_class", classes_json(est, &etotal));
	json_object_object_add(o, "total", json_object_new_int64(
	    (int64_t)etotal));
	json_object_object_add(o, "seconds", json_object_new_double(t));
	json_object_object_add(o, "rate_assumed", assumed);
	json_object_object_add(o, "price_usd", json_object_new_double(usd));
	json_object_object_add(o, "price_table",
	    arc_json_text(prices->name));
	json_object_object_add(rec, "estimate", o);
}

/* The summary line's words on a dry run's estimate ("" when none). */
void
arc_requests_summary(json_object *rec, struct arc_buf *out)
{
	json_object *e, *bc, *v;
	int64_t total = 0, del = 0;
	double t = 0, usd = 0;

	if (rec == NULL || !json_object_object_get_ex(rec, "estimate", &e))
		return;
	if (json_object_object_get_ex(e, "total", &v))
		total = json_object_get_int64(v);
	if (json_object_object_get_ex(e, "by_class", &bc)) {
		if (json_object_object_get_ex(bc, "delete", &v))
			del += json_object_get_int64(v);
		if (json_object_object_get_ex(bc, "batch", &v))
			del += json_object_get_int64(v);
		if (json_object_object_get_ex(bc, "txn", &v))
			del += json_object_get_int64(v);
	}
	if (json_object_object_get_ex(e, "seconds", &v))
		t = json_object_get_double(v);
	if (json_object_object_get_ex(e, "price_usd", &v))
		usd = json_object_get_double(v);
	arc_buf_printf(out, "; --act would make %jd requests (%jd delete, "
	    "batch or txn), %.1fs of requests, $%.6f", (intmax_t)total, (intmax_t)del,
	    t, usd);
}
