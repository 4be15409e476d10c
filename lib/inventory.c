/*
 * inventory.c - an S3 Inventory or Azure Blob Inventory report read as
 * a listing of a store (arc-list --inventory).
 *
 * Reads the report's manifest (S3's manifest.json, Azure's
 * <rule>-manifest.json), its checksum file when there is one, and each
 * CSV data file it names, from a local directory or from the bucket or
 * container the report was delivered to (through arc_store_get), one
 * data file at a time in a temporary file; decompresses them with
 * libarchive (raw format, gzip filter) and writes, through the listing
 * callback, the storage records a live listing of the store would
 * write: keys under the store's prefix, made relative, folder markers
 * and non-candidates left out as arc_list_keep says.  Memory is bounded
 * by the largest row; the caller sorts.
 *
 * A report is all or nothing: a manifest or data file that is missing,
 * truncated or fails its checksum, a schema without the key, size or
 * modification time, a report for another bucket or container, or one
 * older than the allowed age stops the listing with one message (exit
 * 2 in the caller), since a partial report would make present files
 * look missing.
 */
#include <sys/stat.h>

#include <err.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <archive.h>
#include <json-c/json.h>
#include <openssl/evp.h>

#include "arc_priv.h"

#define MANIFEST_MAX	(64 * 1024 * 1024)	/* a manifest read whole */
#define FIELD_MAX	(1024 * 1024)		/* one CSV field */
#define FIELDS_MAX	256			/* columns of a row */
#define ROW_MAX		(4 * 1024 * 1024)	/* one CSV row */

enum { INV_S3, INV_AZURE };
/* The columns a row is read by; -1: not in the schema. */
enum { C_KEY, C_SIZE, C_MTIME, C_BUCKET, C_LATEST, C_DELMARK, C_SNAPSHOT,
	C_CURRENT, C_DELETED, C_N };

struct inv {
	const char	*loc;		/* LOCATION, for messages */
	struct arc_store *root;		/* where the report's files are */
	int		 local;		/* a directory: files by last segment */
	char		*mkey;		/* the manifest, in root */
	int		 kind;		/* INV_S3, INV_AZURE */
	char		*bucket;	/* the store's bucket or container */
	const char	*prefix;	/* the store's prefix: "" or "x/" */
	size_t		 prefixlen;
	char		**prefixes;	/* -p, relative to the store */
	size_t		*plen;		/* without trailing slashes */
	size_t		 np;
	int		 flags;
	arc_list_fn	 fn;
	void		*arg;
	int		 col[C_N];
	int		 header;	/* the first row names the columns */
	const char	*file;		/* the data file being read */
	uintmax_t	 rowno;
	struct arc_buf	 key;
};

/* The source of a data file for libarchive: its bytes are counted and
 * hashed as they are read, so that the checksum costs no second pass. */
struct src {
	int		 fd;
	EVP_MD_CTX	*md5;
	int64_t		 total;
	char		 buf[65536];
};

static la_ssize_t
src_read(struct archive *a, void *arg, const void **out)
{
	struct src *s = arg;
	ssize_t n;

	while ((n = read(s->fd, s->buf, sizeof(s->buf))) == -1 &&
	    errno == EINTR)
		;
	if (n == -1) {
		archive_set_error(a, errno, "read: %s", strerror(errno));
		return -1;
	}
	EVP_DigestUpdate(s->md5, s->buf, (size_t)n);
	s->total += n;
	*out = s->buf;
	return n;
}

/* One line naming the report, what in it failed, and why; returns -1. */
static int
fail(const struct inv *v, const char *fmt, ...)
{
	struct arc_buf b = { 0 };
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) == -1)
		s = NULL;
	va_end(ap);
	arc_buf_printf(&b, "inventory '%s': %s", v->loc, s ? s : fmt);
	warnx("%s", arc_buf_str(&b));
	free(s);
	arc_buf_free(&b);
	return -1;
}

/*
 * Fetch a file of the report into a temporary file, positioned at its
 * start; NULL after a message.  From a directory, a file is found by
 * the last segment of its key: a report copied down sits in one place.
 */
static FILE *
fetch(struct inv *v, const char *key, const char *what, int optional,
    int *absent)
{
	struct arc_buf eb = { 0 };
	struct arc_stat sb;
	const char *name = key, *slash;
	FILE *fp;
	int r;

	if (v->local && (slash = strrchr(key, '/')) != NULL)
		name = slash + 1;
	fp = arc_tmpstream();
	r = arc_store_get(v->root, name, strlen(name), fileno(fp), &sb, &eb);
	if (absent != NULL)
		*absent = r == ARC_ABSENT;
	if (r != ARC_PRESENT) {
		if (!(optional && r == ARC_ABSENT)) {
			if (r == ARC_ABSENT)
				fail(v, "%s '%s' is missing", what, name);
			else
				fail(v, "%s '%s': %s", what, name,
				    eb.len ? arc_buf_str(&eb) : "cannot read");
		}
		fclose(fp);
		arc_buf_free(&eb);
		return NULL;
	}
	arc_buf_free(&eb);
	if (lseek(fileno(fp), 0, SEEK_SET) == -1)
		err(ARC_EXIT_ERROR, "lseek");
	return fp;
}

/* The whole of a small file; NULL after a message. */
static char *
slurp(struct inv *v, FILE *fp, const char *name, size_t *n)
{
	struct stat st;
	char *s;

	if (fstat(fileno(fp), &st) == -1)
		err(ARC_EXIT_ERROR, "fstat");
	if (st.st_size > MANIFEST_MAX) {
		fail(v, "'%s' is larger than %d bytes", name, MANIFEST_MAX);
		return NULL;
	}
	s = arc_emalloc((size_t)st.st_size + 1);
	if (fread(s, 1, (size_t)st.st_size, fp) != (size_t)st.st_size) {
		free(s);
		fail(v, "cannot read '%s'", name);
		return NULL;
	}
	s[st.st_size] = '\0';
	*n = (size_t)st.st_size;
	return s;
}

static void
md5_hex(EVP_MD_CTX *c, char hex[33])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0, i;

	EVP_DigestFinal_ex(c, md, &n);
	for (i = 0; i < n && i < 16; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	hex[32] = '\0';
}

/* The MD5 hex digest s (any case, blanks around it) equals hex. */
static int
md5_equal(const char *s, size_t n, const char hex[33])
{
	while (n > 0 && strchr(" \t\r\n", s[n - 1]) != NULL)
		n--;
	while (n > 0 && strchr(" \t\r\n", *s) != NULL)
		s++, n--;
	return n == 32 && strncasecmp(s, hex, 32) == 0;
}

static const char *
jstr(struct json_object *o, const char *k)
{
	struct json_object *v;

	if (o == NULL || !json_object_object_get_ex(o, k, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* A column of the schema by name, with its role. */
static void
column(struct inv *v, const char *name, size_t n, int idx)
{
	static const struct {
		const char *name;
		int kind, col;
	} cols[] = {
		{ "Key", INV_S3, C_KEY }, { "Size", INV_S3, C_SIZE },
		{ "LastModifiedDate", INV_S3, C_MTIME },
		{ "Bucket", INV_S3, C_BUCKET }, { "IsLatest", INV_S3, C_LATEST },
		{ "IsDeleteMarker", INV_S3, C_DELMARK },
		{ "Name", INV_AZURE, C_KEY },
		{ "Content-Length", INV_AZURE, C_SIZE },
		{ "Last-Modified", INV_AZURE, C_MTIME },
		{ "Snapshot", INV_AZURE, C_SNAPSHOT },
		{ "IsCurrentVersion", INV_AZURE, C_CURRENT },
		{ "Deleted", INV_AZURE, C_DELETED },
	};
	size_t i;

	while (n > 0 && (*name == ' ' || *name == '\t'))
		name++, n--;
	while (n > 0 && (name[n - 1] == ' ' || name[n - 1] == '\t'))
		n--;
	for (i = 0; i < sizeof(cols) / sizeof(cols[0]); i++)
		if (cols[i].kind == v->kind && strlen(cols[i].name) == n &&
		    memcmp(cols[i].name, name, n) == 0)
			v->col[cols[i].col] = idx;
}

/* The schema must name the key, the size and the modification time. */
static int
schema_check(struct inv *v, const char *where)
{
	static const char *const need[2][3] = {
		{ "Key", "Size", "LastModifiedDate" },
		{ "Name", "Content-Length", "Last-Modified" },
	};
	int i;

	for (i = 0; i < 3; i++)
		if (v->col[i] == -1)
			return fail(v, "%s has no %s column: a listing needs "
			    "%s, %s and %s", where, need[v->kind][i],
			    need[v->kind][0], need[v->kind][1],
			    need[v->kind][2]);
	return 0;
}

/* "true"/"false" as S3 and Azure write them. */
static int
is_word(const char *s, size_t n, const char *w)
{
	return strlen(w) == n && strncasecmp(s, w, n) == 0;
}

/*
 * One data row: its fields, each NUL-terminated at off[i].  Rows of
 * other versions, delete markers, snapshots, deleted blobs and other
 * buckets or containers are not objects of the live listing.
 */
static int
row(struct inv *v, struct arc_buf *f, const size_t *off, int nf)
{
	const char *k, *sz, *mt, *rel;
	size_t klen, rlen, i;
	int64_t mtime, size;

	if (v->header) {
		for (i = 0; i < C_N; i++)
			v->col[i] = -1;
		for (i = 0; i < (size_t)nf; i++)
			column(v, f->s + off[i], strlen(f->s + off[i]), (int)i);
		v->header = 0;
		return schema_check(v, "the header row");
	}
#define FIELD(c)	(v->col[c] >= 0 && v->col[c] < nf ? \
	    f->s + off[v->col[c]] : NULL)
	for (i = 0; i < C_N; i++)
		if (v->col[i] >= nf)
			return fail(v, "data file '%s': row %ju has %d fields, "
			    "fewer than the schema", v->file, v->rowno, nf);
	if ((k = FIELD(C_LATEST)) != NULL && is_word(k, strlen(k), "false"))
		return 0;
	if ((k = FIELD(C_DELMARK)) != NULL && is_word(k, strlen(k), "true"))
		return 0;
	if ((k = FIELD(C_SNAPSHOT)) != NULL && *k != '\0')
		return 0;
	if ((k = FIELD(C_CURRENT)) != NULL && is_word(k, strlen(k), "false"))
		return 0;
	if ((k = FIELD(C_DELETED)) != NULL && is_word(k, strlen(k), "true"))
		return 0;
	if ((k = FIELD(C_BUCKET)) != NULL && strcmp(k, v->bucket) != 0)
		return fail(v, "data file '%s': row %ju is of bucket '%s', "
		    "not '%s'", v->file, v->rowno, k, v->bucket);

	k = FIELD(C_KEY);
	v->key.len = 0;
	if (v->kind == INV_S3) {
		/* URL-encoded, a space as '+' (form encoding) */
		if (arc_http_unescape(&v->key, k, strlen(k), 1) == -1 ||
		    memchr(v->key.s, '\0', v->key.len) != NULL)
			return fail(v, "data file '%s': row %ju: a key that "
			    "does not decode", v->file, v->rowno);
	} else {
		/* container/blob: other containers are not this store */
		klen = strlen(v->bucket);
		if (strncmp(k, v->bucket, klen) != 0 || k[klen] != '/')
			return 0;
		arc_buf_adds(&v->key, k + klen + 1);
	}
	klen = v->key.len;
	if (klen < v->prefixlen || memcmp(v->key.s, v->prefix,
	    v->prefixlen) != 0)
		return 0;
	rel = v->key.s + v->prefixlen;
	rlen = klen - v->prefixlen;
	if (v->np > 0) {
		/* a -p prefix is a directory, as in a live listing */
		for (i = 0; i < v->np; i++)
			if (rlen > v->plen[i] && rel[v->plen[i]] == '/' &&
			    memcmp(rel, v->prefixes[i], v->plen[i]) == 0)
				break;
		if (i == v->np)
			return 0;
	}
	if (!arc_list_keep(rel, rlen, v->flags))
		return 0;
	sz = FIELD(C_SIZE);
	mt = FIELD(C_MTIME);
	if ((size = arc_os_size(sz, strlen(sz))) == -1)
		return fail(v, "data file '%s': row %ju: invalid size '%s'",
		    v->file, v->rowno, sz);
	/* S3 writes milliseconds: rounded up, as a live listing does */
	if (arc_time_parse_ceil(mt, strlen(mt), &mtime) == -1 &&
	    (mtime = arc_os_time(mt)) == ARC_TIME_UNKNOWN)
		return fail(v, "data file '%s': row %ju: invalid time '%s'",
		    v->file, v->rowno, mt);
#undef FIELD
	return v->fn(v->arg, rel, rlen, mtime, size) == 0 ? 0 : -1;
}

/* The CSV reader's state across the blocks of a data file. */
struct csv {
	struct arc_buf	 f;		/* the row's fields, NUL after each */
	size_t		 off[FIELDS_MAX];
	int		 nf;
	int		 quoted;	/* inside a quoted field */
	int		 quote;		/* a '"' just ended a quoted part */
	int		 any;		/* the row has a byte */
	int		 cr;		/* the last byte added was a bare CR */
	size_t		 fstart;
};

static int
csv_end_field(struct inv *v, struct csv *c)
{
	if (c->nf == FIELDS_MAX)
		return fail(v, "data file '%s': row %ju has more than %d "
		    "fields", v->file, v->rowno, FIELDS_MAX);
	if (c->f.len - c->fstart > FIELD_MAX)
		return fail(v, "data file '%s': row %ju has a field larger "
		    "than %d bytes", v->file, v->rowno, FIELD_MAX);
	c->off[c->nf++] = c->fstart;
	arc_buf_addc(&c->f, '\0');
	c->fstart = c->f.len;
	return 0;
}

static int
csv_end_row(struct inv *v, struct csv *c)
{
	int r;

	if (csv_end_field(v, c) == -1)
		return -1;
	v->rowno++;
	/* a blank line is no row */
	r = c->nf == 1 && c->off[0] + 1 == c->f.len ? 0 :
	    row(v, &c->f, c->off, c->nf);
	c->f.len = c->fstart = 0;
	c->nf = c->any = 0;
	return r;
}

/* RFC 4180: ',' between fields, CRLF or LF after rows, '"' quoting. */
static int
csv_feed(struct inv *v, struct csv *c, const char *p, size_t n)
{
	size_t i;
	char ch;

	for (i = 0; i < n; i++) {
		ch = p[i];
		if (c->quoted) {
			if (ch == '"') {
				c->quoted = 0;
				c->quote = 1;
			} else
				arc_buf_addc(&c->f, ch);
			continue;
		}
		if (ch == '"') {
			c->cr = 0;
			if (c->quote)	/* "" inside quotes: one '"' */
				arc_buf_addc(&c->f, '"');
			c->quoted = 1;
			c->quote = 0;
			c->any = 1;
			continue;
		}
		c->quote = 0;
		if (ch == ',') {
			if (csv_end_field(v, c) == -1)
				return -1;
			c->any = 1;
		} else if (ch == '\n') {
			if (c->cr)	/* CRLF ends a row as LF does */
				c->f.len--;
			if (csv_end_row(v, c) == -1)
				return -1;
		} else {
			arc_buf_addc(&c->f, ch);
			c->any = 1;
		}
		c->cr = ch == '\r';
	}
	/* a row without an end is refused, not gathered (64 KiB blocks) */
	if (c->f.len > ROW_MAX)
		return fail(v, "data file '%s': row %ju is longer than %d "
		    "bytes", v->file, v->rowno + 1, ROW_MAX);
	return 0;
}

/*
 * Read one data file: fetch it, decompress it while hashing what is
 * read, parse its rows, then compare its size and MD5 with what the
 * manifest says.  A failure after rows were given is still a failure:
 * the caller throws the listing away.
 */
static int
data_file(struct inv *v, const char *key, int64_t want_size,
    const char *want_md5)
{
	struct archive *a;
	struct archive_entry *e;
	struct src s;
	struct csv c;
	char buf[65536], hex[33];
	la_ssize_t n;
	FILE *fp;
	int r, ret = -1;
	struct stat st;


	if ((fp = fetch(v, key, "data file", 0, NULL)) == NULL)
		return -1;
	/* a short file is refused before any of its rows is given */
	if (fstat(fileno(fp), &st) == -1)
		err(ARC_EXIT_ERROR, "fstat");
	if (want_size >= 0 && st.st_size != want_size) {
		fclose(fp);
		return fail(v, "data file '%s' has %jd bytes, the manifest says "
		    "%jd (truncated?)", key, (intmax_t)st.st_size,
		    (intmax_t)want_size);
	}
	v->file = key;
	v->rowno = 0;
	v->header = v->kind == INV_AZURE;
	memset(&c, 0, sizeof(c));
	s.fd = fileno(fp);
	s.total = 0;
	if ((s.md5 = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(s.md5, EVP_md5(), NULL) != 1)
		errx(ARC_EXIT_ERROR, "cannot start an MD5 digest");
	if ((a = archive_read_new()) == NULL)
		errx(ARC_EXIT_ERROR, "archive_read_new failed");
	archive_read_support_filter_gzip(a);
	archive_read_support_format_raw(a);
	/* a data file of no rows decompresses to nothing at all */
	archive_read_support_format_empty(a);
	if (archive_read_open(a, &s, NULL, src_read, NULL) != ARCHIVE_OK) {
		fail(v, "data file '%s': %s", key, archive_error_string(a));
		goto out;
	}
	r = archive_read_next_header(a, &e);
	if (r == ARCHIVE_OK) {
		while ((n = archive_read_data(a, buf, sizeof(buf))) > 0)
			if (csv_feed(v, &c, buf, (size_t)n) == -1)
				goto out;
		if (n < 0) {
			fail(v, "data file '%s': %s", key,
			    archive_error_string(a));
			goto out;
		}
	} else if (r != ARCHIVE_EOF) {
		fail(v, "data file '%s': %s", key, archive_error_string(a));
		goto out;
	}
	if (c.quoted) {
		fail(v, "data file '%s': ends inside a quoted field", key);
		goto out;
	}
	if ((c.any || c.nf > 0) && csv_end_row(v, &c) == -1)
		goto out;
	/* what the decompressor left unread counts for the checksum */
	while (src_read(a, &s, &(const void *){ NULL }) > 0)
		;
	md5_hex(s.md5, hex);
	if (want_md5 != NULL &&
	    !md5_equal(want_md5, strlen(want_md5), hex))
		fail(v, "data file '%s': MD5 %s, the manifest says %s", key,
		    hex, want_md5);
	else if (v->header)
		fail(v, "data file '%s' has no header row", key);
	else
		ret = 0;
out:
	archive_read_free(a);
	EVP_MD_CTX_free(s.md5);
	arc_buf_free(&c.f);
	fclose(fp);
	return ret;
}

static int64_t
jsize(struct json_object *o, const char *k)
{
	struct json_object *x;
	const char *s;

	if (!json_object_object_get_ex(o, k, &x))
		return -1;
	if (json_object_is_type(x, json_type_int))
		return json_object_get_int64(x);
	if ((s = json_object_get_string(x)) != NULL)
		return arc_os_size(s, strlen(s));
	return -1;
}

/*
 * Every data file the manifest lists, in its order: files[] objects
 * naming the file by keyname, with its size and, by md5name, its MD5.
 */
static int
data_files(struct inv *v, struct json_object *m, const char *keyname,
    const char *md5name)
{
	struct json_object *files, *f;
	const char *key;
	size_t i;

	if (!json_object_object_get_ex(m, "files", &files) ||
	    !json_object_is_type(files, json_type_array))
		return fail(v, "the manifest has no files");
	for (i = 0; i < json_object_array_length(files); i++) {
		f = json_object_array_get_idx(files, i);
		if ((key = jstr(f, keyname)) == NULL)
			return fail(v, "file %zu of the manifest has no %s",
			    i + 1, keyname);
		if (data_file(v, key, jsize(f, "size"),
		    md5name ? jstr(f, md5name) : NULL) == -1)
			return -1;
	}
	return 0;
}

/* S3: the schema, the source bucket, the format; then each data file. */
static int
s3_report(struct inv *v, struct json_object *m)
{
	const char *s, *p;
	size_t n;
	int idx = 0;

	if ((s = jstr(m, "sourceBucket")) == NULL || strcmp(s, v->bucket))
		return fail(v, "a report for bucket '%s', not '%s'",
		    s ? s : "(none)", v->bucket);
	if ((s = jstr(m, "fileFormat")) == NULL || strcasecmp(s, "CSV"))
		return fail(v, "file format '%s': only CSV reports are read",
		    s ? s : "(none)");
	if ((s = jstr(m, "fileSchema")) == NULL)
		return fail(v, "the manifest has no fileSchema");
	for (p = s; ; p += n + 1, idx++) {
		n = strcspn(p, ",");
		column(v, p, n, idx);
		if (p[n] == '\0')
			break;
	}
	if (schema_check(v, "the fileSchema") == -1)
		return -1;
	return data_files(v, m, "key", "MD5checksum");
}

/*
 * Whether an Azure rule's prefixMatch and excludePrefix leave the whole
 * store in the report: want is "container/prefix".
 */
static int
az_covers(struct json_object *filters, const char *want)
{
	struct json_object *a, *x;
	const char *p;
	size_t i, n;
	int match = 0;

	if (json_object_object_get_ex(filters, "prefixMatch", &a) &&
	    json_object_is_type(a, json_type_array) &&
	    (n = json_object_array_length(a)) > 0) {
		for (i = 0; i < n; i++) {
			x = json_object_array_get_idx(a, i);
			p = json_object_get_string(x);
			if (p != NULL && strncmp(want, p, strlen(p)) == 0)
				match = 1;
		}
		if (!match)
			return 0;
	}
	if (json_object_object_get_ex(filters, "excludePrefix", &a) &&
	    json_object_is_type(a, json_type_array))
		for (i = 0; i < json_object_array_length(a); i++) {
			p = json_object_get_string(json_object_array_get_idx(a,
			    i));
			if (p != NULL && *p != '\0' &&
			    (strncmp(want, p, strlen(p)) == 0 ||
			    strncmp(p, want, strlen(want)) == 0))
				return 0;
		}
	return 1;
}

/* Azure: a finished blob rule in CSV that covers the store. */
static int
az_report(struct inv *v, struct json_object *m)
{
	struct json_object *rule, *filters = NULL;
	struct arc_buf want = { 0 };
	const char *s;
	int covers;

	if ((s = jstr(m, "status")) != NULL && strcmp(s, "Succeeded") != 0)
		return fail(v, "the run's status is '%s', not Succeeded", s);
	if (!json_object_object_get_ex(m, "ruleDefinition", &rule))
		rule = NULL;
	if ((s = jstr(rule, "objectType")) != NULL && strcmp(s, "blob") != 0)
		return fail(v, "a report of %ss, not of blobs", s);
	if ((s = jstr(rule, "format")) != NULL && strcasecmp(s, "csv") != 0)
		return fail(v, "file format '%s': only CSV reports are read",
		    s);
	if (rule != NULL)
		json_object_object_get_ex(rule, "filters", &filters);
	arc_buf_printf(&want, "%s/%s", v->bucket, v->prefix);
	covers = filters == NULL || az_covers(filters, want.s);
	arc_buf_free(&want);
	if (!covers)
		return fail(v, "the rule's prefixMatch or excludePrefix leaves "
		    "out container '%s' or part of it", v->bucket);
	return data_files(v, m, "blob", NULL);
}

/*
 * When the report's scan began, in seconds: entries registered after it
 * cannot be judged by it.  S3's creationTimestamp is in milliseconds;
 * Azure's inventoryStartTime is RFC 3339.
 */
static int
created_at(struct inv *v, struct json_object *m, int64_t *t)
{
	const char *s;
	int64_t ms;

	if (v->kind == INV_S3) {
		if ((ms = jsize(m, "creationTimestamp")) < 0)
			return fail(v, "the manifest has no valid "
			    "creationTimestamp");
		*t = ms / 1000;
		return 0;
	}
	if ((s = jstr(m, "inventoryStartTime")) == NULL ||
	    arc_time_parse(s, strlen(s), ARC_TIME_LENIENT, t) == -1)
		return fail(v, "the manifest has no valid inventoryStartTime");
	return 0;
}

/*
 * Where the report is: a store URL or a directory, naming the manifest
 * itself (a name ending in ".json") or the folder holding manifest.json.
 * The report's files are read from the bucket or container's root (keys
 * in the manifest are whole), or from the directory.
 */
static int
locate(struct inv *v, const char *loc)
{
	struct arc_buf root = { 0 }, mk = { 0 };
	const char *sep, *path, *slash;
	struct stat st;
	size_t n;

	/* "-" names a file or directory of that name here, not stdin */
	if ((path = arc_url_local_path(loc)) == NULL &&
	    strcmp(loc, "-") != 0) {
		sep = strstr(loc, "://");
		path = strchr(sep + 3, '/');
		n = path ? (size_t)(path - loc) : strlen(loc);
		arc_buf_add(&root, loc, n);
		arc_buf_adds(&mk, path ? path + 1 : "");
	} else {
		v->local = 1;
		if (path == NULL)
			path = loc;
		if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
			arc_buf_adds(&root, path);
		else if ((slash = strrchr(path, '/')) != NULL) {
			arc_buf_add(&root, path, (size_t)(slash - path) + 1);
			arc_buf_adds(&mk, slash + 1);
		} else {
			arc_buf_adds(&root, ".");
			arc_buf_adds(&mk, path);
		}
	}
	while (mk.len > 0 && mk.s[mk.len - 1] == '/')
		mk.len--;
	if (mk.len < 5 || strcmp(arc_buf_str(&mk) + mk.len - 5, ".json")) {
		if (mk.len > 0)
			arc_buf_addc(&mk, '/');
		arc_buf_adds(&mk, "manifest.json");
	}
	v->mkey = arc_estrdup(arc_buf_str(&mk));
	v->root = arc_store_open(arc_buf_str(&root));
	arc_buf_free(&root);
	arc_buf_free(&mk);
	return v->root == NULL ? -1 : 0;
}

/* The store's bucket or container, from its URL, and its prefix. */
static int
store_where(struct inv *v, struct arc_store *st)
{
	const char *sep = strstr(st->url, "://"), *b;
	struct arc_objstore *os = st->priv;

	if (sep == NULL || (strcmp(st->ops->scheme, "s3") != 0 &&
	    strcmp(st->ops->scheme, "az") != 0)) {
		warnx("'%s': an inventory lists an s3:// or az:// store",
		    st->url);
		return -1;
	}
	b = sep + 3;
	v->bucket = arc_estrndup(b, strcspn(b, "/"));
	v->prefix = os->prefix;
	v->prefixlen = os->prefixlen;
	return 0;
}

int
arc_inventory_list(struct arc_inventory *inv, struct arc_store *st,
    char **prefixes, size_t np, int flags, arc_list_fn fn, void *arg)
{
	struct inv v;
	struct json_object *m = NULL;
	struct json_tokener *tk;
	struct arc_buf ck = { 0 };
	char *text = NULL, *ctext, hex[33], agebuf[32];
	size_t n, cn;
	EVP_MD_CTX *c;
	FILE *fp;
	int absent, ret = ARC_EXIT_ERROR, i;

	memset(&v, 0, sizeof(v));
	for (i = 0; i < C_N; i++)
		v.col[i] = -1;
	v.loc = inv->location;
	v.prefixes = prefixes;
	v.np = np;
	v.flags = flags;
	v.fn = fn;
	v.arg = arg;
	v.plen = arc_ecalloc(np + 1, sizeof(*v.plen));
	for (n = 0; n < np; n++) {
		v.plen[n] = strlen(prefixes[n]);
		while (v.plen[n] > 0 && prefixes[n][v.plen[n] - 1] == '/')
			v.plen[n]--;
		if (arc_path_unsafe(prefixes[n], v.plen[n]) != NULL) {
			warnx("'%s': invalid prefix", prefixes[n]);
			goto out;
		}
	}
	if (store_where(&v, st) == -1 || locate(&v, inv->location) == -1)
		goto out;
	if ((fp = fetch(&v, v.mkey, "manifest", 0, NULL)) == NULL)
		goto out;
	text = slurp(&v, fp, v.mkey, &n);
	fclose(fp);
	if (text == NULL)
		goto out;

	/* manifest.checksum, where the report has one, is its MD5 */
	arc_buf_add(&ck, v.mkey, strlen(v.mkey) - 5);
	arc_buf_adds(&ck, ".checksum");
	if ((fp = fetch(&v, ck.s, "checksum file", 1, &absent)) != NULL) {
		ctext = slurp(&v, fp, ck.s, &cn);
		fclose(fp);
		if (ctext == NULL)
			goto out;
		if ((c = EVP_MD_CTX_new()) == NULL ||
		    EVP_DigestInit_ex(c, EVP_md5(), NULL) != 1)
			errx(ARC_EXIT_ERROR, "cannot start an MD5 digest");
		EVP_DigestUpdate(c, text, n);
		md5_hex(c, hex);
		EVP_MD_CTX_free(c);
		i = md5_equal(ctext, cn, hex);
		free(ctext);
		if (!i) {
			fail(&v, "the manifest's MD5 is %s, not the one in "
			    "'%s'", hex, ck.s);
			goto out;
		}
	} else if (!absent)
		goto out;

	if ((tk = json_tokener_new()) == NULL)
		errx(ARC_EXIT_ERROR, "json_tokener_new failed");
	m = json_tokener_parse_ex(tk, text, (int)n);
	if (m == NULL || !json_object_is_type(m, json_type_object)) {
		fail(&v, "the manifest is not a JSON object (%s)",
		    json_tokener_error_desc(json_tokener_get_error(tk)));
		json_tokener_free(tk);
		goto out;
	}
	json_tokener_free(tk);
	v.kind = jstr(m, "fileSchema") != NULL || jstr(m, "sourceBucket") ?
	    INV_S3 : INV_AZURE;
	if ((v.kind == INV_S3) != (strcmp(st->ops->scheme, "s3") == 0)) {
		fail(&v, "an %s report cannot list '%s'", v.kind == INV_S3 ?
		    "S3 Inventory" : "Azure Blob Inventory", st->url);
		goto out;
	}
	if (created_at(&v, m, &inv->created) == -1)
		goto out;
	inv->age = inv->now - inv->created;
	if (inv->created > inv->now + arc_duration_const(ARC_DEFAULT_SKEW) /
	    1000000000) {
		fail(&v, "the report is dated in the future (%s)",
		    arc_time_format(inv->created, agebuf));
		goto out;
	}
	if (inv->age < 0)
		inv->age = 0;
	if (inv->age > inv->maxage) {
		fail(&v, "the report began %jds ago, more than "
		    "--max-inventory-age allows (%jds): refused",
		    (intmax_t)inv->age, (intmax_t)inv->maxage);
		goto out;
	}
	if ((v.kind == INV_S3 ? s3_report(&v, m) : az_report(&v, m)) == 0)
		ret = ARC_EXIT_OK;
out:
	json_object_put(m);
	free(text);
	arc_buf_free(&ck);
	arc_buf_free(&v.key);
	free(v.bucket);
	free(v.mkey);
	free(v.plen);
	arc_store_close(v.root);
	return ret;
}
